"""Cleaning rules on tiny hand-made data, source resolution, and generated data end to end."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from curation.engagement import Table
from curation.engagement.clean import (
    RULES,
    CleaningError,
    MissingSourceError,
    SourceError,
    SourceReadError,
    SourceSchemaError,
    UnknownTableError,
    attach_sources,
    clean,
    resolve_sources,
)
from curation.engagement.generate import generate

T0 = datetime(2025, 3, 1, 12, 0, 0)
A1, A2, GONE = "1-trip-2025-02", "2-event-2025-02-27", "9-trip-deleted"  # ids as the curation store makes them

RAW_DDL = {
    "users": "user_id BIGINT, country VARCHAR, language VARCHAR, signup_at TIMESTAMP, platform VARCHAR",
    "albums": "album_id VARCHAR, library_id BIGINT, kind VARCHAR, theme VARCHAR, title_generator VARCHAR, created_at TIMESTAMP",
    "events": "event_id BIGINT, user_id BIGINT, album_id VARCHAR, event_type VARCHAR, ts TIMESTAMP, server_ts TIMESTAMP",
    "orders": "order_id BIGINT, user_id BIGINT, album_id VARCHAR, ts TIMESTAMP, value DECIMAL(14, 2), currency VARCHAR",
    "assignments": "user_id BIGINT, experiment VARCHAR, variant VARCHAR, assigned_at TIMESTAMP",
}


def base_rows() -> dict[str, list[tuple]]:
    """A tiny, perfectly clean dataset: two users, two albums, a few events, one order."""
    return {
        "users": [(1, "DE", "de", T0 - timedelta(days=30), "ios"), (2, "US", "en", T0 - timedelta(days=20), "android")],
        "albums": [
            (A1, 1, "trip", "beach", "grounded", T0 - timedelta(days=2)),
            (A2, 2, "event", "birthday", "llm", T0 - timedelta(days=1)),
        ],
        "events": [
            (1, 1, A1, "impression", T0, T0 + timedelta(seconds=2)),
            (2, 1, A1, "open", T0 + timedelta(minutes=5), T0 + timedelta(minutes=5, seconds=1)),
            (3, 2, A2, "impression", T0, T0 + timedelta(seconds=3)),
        ],
        "orders": [(9001, 1, A1, T0 + timedelta(days=1), 35.00, "EUR")],
        "assignments": [
            (1, "title_strategy", "grounded", T0 - timedelta(days=10)),
            (2, "title_strategy", "llm", T0 - timedelta(days=10)),
        ],
    }


def cleaned(**extra: list[tuple]) -> tuple[duckdb.DuckDBPyConnection, object]:
    """Clean the base dataset plus ``extra`` raw rows per table."""
    rows = base_rows()
    for table, more in extra.items():
        rows[table] = rows[table] + more
    con = duckdb.connect()
    for table, ddl in RAW_DDL.items():
        con.execute(f"CREATE TABLE raw_{table} ({ddl})")
        if rows[table]:
            marks = ", ".join("?" * len(rows[table][0]))
            con.executemany(f"INSERT INTO raw_{table} VALUES ({marks})", rows[table])
    return con, clean(con)


def nonzero(report) -> dict[str, int]:
    return {r.rule: r.rows for r in report.rules if r.rows}


def test_clean_data_passes_untouched() -> None:
    con, report = cleaned()
    assert nonzero(report) == {}
    assert report.rows_out == {t: len(base_rows()[t.value]) for t in Table}
    assert con.execute("SELECT value_eur FROM orders").fetchone()[0] == pytest.approx(35.0)
    assert con.execute("SELECT count(*) FROM cleaning_log").fetchone()[0] == len(RULES)


def test_missing_and_duplicate_users() -> None:
    con, report = cleaned(users=[(None, "FR", "fr", T0, "web"), (1, "DE", "de", T0 - timedelta(days=99), "ios")])
    assert nonzero(report) == {"missing_user_id": 1, "duplicate_users": 1}
    assert con.execute("SELECT signup_at FROM users WHERE user_id = 1").fetchone()[0] == T0 - timedelta(days=99)


def test_missing_country_goes_to_unknown_and_case_is_fixed() -> None:
    con, report = cleaned(
        users=[
            (3, None, "en", T0, "ios"),
            (4, "", "en", T0, "ios"),
            (5, "X1", "en", T0, "ios"),
            (6, " de", "de", T0, "ios"),
        ]
    )
    assert nonzero(report) == {"missing_country": 3, "country_case": 1}
    countries = dict(con.execute("SELECT user_id, country FROM users WHERE user_id > 2").fetchall())
    assert countries == {3: "unknown", 4: "unknown", 5: "unknown", 6: "DE"}


def test_missing_and_duplicate_albums() -> None:
    con, report = cleaned(
        albums=[
            (None, 1, "trip", "city", "llm", T0),
            (" ", 1, "trip", "city", "llm", T0),
            (A1, 1, "trip", "x", "llm", T0),
        ]
    )
    assert nonzero(report) == {"missing_album_id": 2, "duplicate_albums": 1}
    assert con.execute("SELECT count(*) FROM albums").fetchone()[0] == 2


def test_duplicate_events_keep_the_first_arrival() -> None:
    exact = (1, 1, A1, "impression", T0, T0 + timedelta(seconds=2))
    resent = (2, 1, A1, "open", T0 + timedelta(minutes=5), T0 + timedelta(minutes=25))
    con, report = cleaned(events=[exact, resent])
    assert nonzero(report) == {"duplicate_events": 2}
    assert con.execute("SELECT server_ts FROM events WHERE event_id = 2").fetchone()[0] == T0 + timedelta(
        minutes=5, seconds=1
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((10, 1, A1, "like", T0, T0), "unknown_event_type"),
        ((11, 999, A1, "open", T0, T0), "unknown_user"),
        ((12, 1, GONE, "open", T0, T0), "unknown_album"),
        ((13, 1, A1, "open", T0, None), "incomplete_event"),
        ((None, 1, A1, "open", T0, T0), "incomplete_event"),
        ((14, 999, GONE, "like", T0, T0), "unknown_event_type"),  # the first failing rule counts
    ],
)
def test_bad_events_are_quarantined_with_their_reason(row: tuple, reason: str) -> None:
    con, report = cleaned(events=[row])
    assert nonzero(report) == {reason: 1}
    assert con.execute("SELECT reason FROM quarantine_events").fetchall() == [(reason,)]
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 3


@pytest.mark.parametrize(
    ("client", "corrected"),
    [
        (T0 + timedelta(hours=3), True),  # device clock ahead: after arrival is impossible
        (T0 + timedelta(days=3650), True),  # years in the future
        (datetime(1970, 1, 2), True),  # clock reset
        (T0 - timedelta(hours=100), True),  # more than 72 h before arrival
        (None, True),  # no device time at all
        (T0 - timedelta(hours=30), False),  # offline for a day: a late upload, kept
        (T0 + timedelta(minutes=3), False),  # within the 5 min tolerance
    ],
)
def test_clock_skew_is_corrected_from_server_time(client: datetime | None, corrected: bool) -> None:
    con, report = cleaned(events=[(20, 1, A1, "share", client, T0)])
    assert report.count("clock_skew") == int(corrected)
    ts, flag = con.execute("SELECT ts, ts_corrected FROM events WHERE event_id = 20").fetchone()
    assert flag is corrected
    assert ts == (T0 if corrected else client)


def test_orders_rules() -> None:
    con, report = cleaned(
        orders=[
            (9001, 1, A1, T0 + timedelta(days=1), 35.00, "EUR"),  # duplicate
            (9002, 2, A2, T0, 20.00, " usd"),  # case fixed
            (9003, 2, A2, T0, 20.00, "XYZ"),  # unknown currency
            (9004, 2, GONE, T0, 20.00, "EUR"),  # unknown album
            (9005, 2, A2, T0, None, "EUR"),  # no value
        ]
    )
    assert nonzero(report) == {
        "duplicate_orders": 1,
        "currency_case": 1,
        "unknown_currency": 1,
        "order_unknown_album": 1,
        "incomplete_order": 1,
    }
    assert con.execute("SELECT currency, value_eur FROM orders WHERE order_id = 9002").fetchone() == (
        "USD",
        pytest.approx(20 * 0.92),
    )
    reasons = dict(con.execute("SELECT order_id, reason FROM quarantine_orders").fetchall())
    assert reasons == {9003: "unknown_currency", 9004: "unknown_album", 9005: "incomplete_order"}


def test_assignment_rules() -> None:
    con, report = cleaned(
        assignments=[
            (1, "title_strategy", "grounded", T0),  # same variant again: later copy dropped
            (3, "cover_layout", "control", T0),
            (3, "cover_layout", "treatment", T0),  # both variants: quarantined
            (4, "cover_layout", None, T0),
        ]
    )
    assert nonzero(report) == {"duplicate_assignments": 1, "conflicting_variants": 2, "incomplete_assignment": 1}
    assert con.execute("SELECT assigned_at FROM assignments WHERE user_id = 1").fetchone()[0] == T0 - timedelta(days=10)
    assert con.execute("SELECT count(*) FROM assignments WHERE user_id = 3").fetchone()[0] == 0


def test_clean_refuses_twice_and_without_raw_data() -> None:
    con, _ = cleaned()
    with pytest.raises(CleaningError, match="already cleaned"):
        clean(con)
    with pytest.raises(CleaningError, match="attach_sources"):
        clean(duckdb.connect())


def test_report_lookups() -> None:
    _, report = cleaned()
    assert report.count("clock_skew") == 0
    with pytest.raises(KeyError, match="the rules are"):
        report.count("nope")
    assert list(report.as_frame().columns) == ["rule", "table", "action", "rows", "description"]
    assert "events" in report.summary()


# ---------------------------------------------------------------------------------------
# sources


def test_resolve_sources_from_names_prefixes_and_folders(tmp_path: Path) -> None:
    resolved = resolve_sources(
        [
            "s3://bucket/exports/events/date=2025-01-01/*.parquet",
            "s3://bucket/exports/users-2025.csv",
            "https://example.com/albums.parquet",
            "orders=/data/o/*.parquet",
            "/data/assignments_2025_*.parquet",
        ]
    )
    assert resolved[Table.EVENTS].uris == ("s3://bucket/exports/events/date=2025-01-01/*.parquet",)
    assert resolved[Table.USERS].uris == ("s3://bucket/exports/users-2025.csv",)
    assert resolved[Table.ORDERS].uris == ("/data/o/*.parquet",)
    assert resolved[Table.ASSIGNMENTS].uris == ("/data/assignments_2025_*.parquet",)
    by_mapping = resolve_sources(
        {t.value: f"/x/{t.value}.parquet" for t in Table} | {"events": ["/a.parquet", "/b.csv"]}
    )
    assert by_mapping[Table.EVENTS].uris == ("/a.parquet", "/b.csv")


def test_unknown_and_missing_sources_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(UnknownTableError, match=r"Prefix it with the table, e.g. 'events=/data/x.parquet'"):
        resolve_sources(["/data/x.parquet"])
    with pytest.raises(MissingSourceError, match="No source for albums, orders, assignments"):
        resolve_sources(["/d/users.parquet", "/d/events.parquet"])
    with pytest.raises(UnknownTableError, match="holds none of"):
        resolve_sources([tmp_path])
    with pytest.raises(UnknownTableError, match="not an engagement table"):
        resolve_sources({"clicks": "/x.parquet"})


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    return generate(1_500, tmp_path_factory.mktemp("raw"), seed=4)


def test_generated_data_cleans_to_exactly_what_was_planted(small) -> None:
    con = duckdb.connect()
    attach_sources(con, [small.out_dir])
    report = clean(con)
    p = small.planted
    assert report.count("duplicate_events") == p.duplicate_events
    assert report.count("unknown_album") == p.unknown_album_events
    assert report.count("unknown_user") == p.unknown_user_events
    assert report.count("unknown_event_type") == p.unknown_type_events
    assert report.count("clock_skew") == p.future_skew_events + p.past_skew_events
    assert report.count("missing_country") == p.missing_country_users
    assert report.count("country_case") == p.lowercase_country_users
    assert report.count("duplicate_users") == p.duplicate_users
    assert report.count("duplicate_orders") == p.duplicate_orders
    assert report.count("currency_case") == p.lowercase_currency_orders
    assert report.count("duplicate_assignments") == p.duplicate_assignments
    assert con.execute("SELECT count(*) FROM events WHERE ts > server_ts + INTERVAL 5 MINUTE").fetchone()[0] == 0


def test_csv_sources_and_missing_optional_columns(tmp_path: Path) -> None:
    data = generate(300, tmp_path / "parquet", seed=9)
    con = duckdb.connect()
    for table, path in data.files.items():
        drop = " EXCLUDE (language, platform)" if table is Table.USERS else ""
        con.execute(f"COPY (SELECT *{drop} FROM '{path}') TO '{tmp_path / (table.value + '.csv')}' (HEADER)")
    csv = duckdb.connect()
    attach_sources(csv, [tmp_path])
    report = clean(csv)
    assert report.count("duplicate_events") == data.planted.duplicate_events
    assert report.count("unknown_album") == data.planted.unknown_album_events
    assert (
        csv.execute("SELECT count(*) FROM users WHERE language IS NULL").fetchone()[0] == report.rows_out[Table.USERS]
    )


def test_a_missing_column_is_named(small, tmp_path: Path) -> None:
    broken = tmp_path / "events.parquet"
    duckdb.execute(f"COPY (SELECT * EXCLUDE (server_ts) FROM '{small.files[Table.EVENTS]}') TO '{broken}'")
    sources = {t.value: str(p) for t, p in small.files.items()} | {"events": str(broken)}
    with pytest.raises(SourceSchemaError, match=r"lacks column\(s\) server_ts"):
        attach_sources(duckdb.connect(), sources)


def test_unreadable_and_unknown_format_sources(small, tmp_path: Path) -> None:
    sources = {t.value: str(p) for t, p in small.files.items()}
    with pytest.raises(SourceReadError, match="Cannot read the events source"):
        attach_sources(duckdb.connect(), sources | {"events": str(tmp_path / "missing.parquet")})
    with pytest.raises(SourceError, match="cannot tell the format"):
        attach_sources(duckdb.connect(), sources | {"events": str(tmp_path / "events.json")})


def test_integer_event_album_ids_join_text_album_ids() -> None:
    """An export with integer album ids still joins a dimension whose ids are text."""
    con = duckdb.connect()
    for table, ddl in RAW_DDL.items():
        con.execute(f"CREATE TABLE raw_{table} ({ddl.replace('album_id VARCHAR', 'album_id BIGINT')})")
    con.execute("ALTER TABLE raw_albums ALTER album_id TYPE VARCHAR")
    con.execute("INSERT INTO raw_users VALUES (1, 'DE', 'de', NULL, 'ios')")
    con.execute("INSERT INTO raw_albums VALUES (' 42', 1, 'trip', 'beach', 'llm', NULL)")
    con.execute(
        "INSERT INTO raw_events VALUES (1, 1, 42, 'open', NULL, TIMESTAMP '2025-03-01'), (2, 1, 43, 'open', NULL, TIMESTAMP '2025-03-01')"
    )
    report = clean(con)
    assert report.count("unknown_album") == 1 and report.rows_out[Table.EVENTS] == 1
    assert con.execute("SELECT album_id FROM albums").fetchone()[0] == "42"


def test_albums_from_the_curation_store(small, tmp_path: Path) -> None:
    """The store's albums (album_id VARCHAR, generator, facts JSON, ...) plug in as the dimension."""
    store = tmp_path / "curation.duckdb"
    with duckdb.connect(str(store)) as con:
        con.execute(
            "CREATE TABLE albums (library_id INTEGER, album_id VARCHAR PRIMARY KEY, kind VARCHAR, title VARCHAR, "
            "generator VARCHAR, facts JSON, created_at TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO albums SELECT library_id, album_id::VARCHAR, kind, 'Summer in Lisbon', title_generator, "
            "CASE WHEN kind = 'theme' THEN json_object('kind', kind, 'theme', theme) "
            "WHEN theme = 'christmas' THEN json_object('kind', kind, 'holiday', 'Christmas') "
            f"ELSE json_object('kind', kind) END, created_at FROM '{small.files[Table.ALBUMS]}'"
        )
    sources = {t.value: str(p) for t, p in small.files.items()} | {"albums": str(store)}
    con = duckdb.connect()
    attach_sources(con, sources)
    report = clean(con)
    assert report.count("unknown_album") == small.planted.unknown_album_events  # integer ids in events join
    themes = dict(con.execute("SELECT kind, list(DISTINCT theme ORDER BY theme) FROM albums GROUP BY 1").fetchall())
    assert themes["trip"] == ["none"]
    assert "christmas" in themes["event"] and "food" in themes["theme"]
    generators = {g for (g,) in con.execute("SELECT DISTINCT title_generator FROM albums").fetchall()}
    assert generators == {"grounded", "llm"}


def test_store_without_albums_table(small, tmp_path: Path) -> None:
    store = tmp_path / "empty.duckdb"
    duckdb.connect(str(store)).close()
    sources = {t.value: str(p) for t, p in small.files.items()} | {"albums": str(store)}
    with pytest.raises(SourceSchemaError, match="has no albums table yet"):
        attach_sources(duckdb.connect(), sources)

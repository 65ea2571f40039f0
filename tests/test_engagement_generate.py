"""The synthetic engagement generator: shape, realism, determinism, planted mess."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from curation.engagement import AlbumKind, EventType, Table
from curation.engagement.generate import COUNTRIES, GenerateError, Mess, generate
from curation.settings import REPO_ROOT


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("gen")
    return generate(8_000, out, seed=11)


def test_writes_one_parquet_file_per_table(data) -> None:
    assert set(data.files) == set(Table)
    for table, path in data.files.items():
        assert path.name == f"{table.value}.parquet"
        assert pq.ParquetFile(path).metadata.num_rows == data.rows[table]
    assert data.rows[Table.USERS] >= 8_000  # plus planted duplicate rows
    assert data.n_events > 8_000 * 10
    assert data.events_per_s > 0


def test_columns_and_types(data) -> None:
    schemas = {t: pq.read_schema(p) for t, p in data.files.items()}
    assert schemas[Table.EVENTS].names == ["event_id", "user_id", "album_id", "event_type", "ts", "server_ts"]
    assert schemas[Table.USERS].names == ["user_id", "country", "language", "signup_at", "platform"]
    assert schemas[Table.ORDERS].names == ["order_id", "user_id", "album_id", "ts", "value", "currency"]
    assert schemas[Table.ASSIGNMENTS].names == ["user_id", "experiment", "variant", "assigned_at"]
    assert schemas[Table.ALBUMS].names == ["album_id", "library_id", "kind", "theme", "title_generator", "created_at"]
    assert str(schemas[Table.ORDERS].field("value").type) == "decimal128(14, 2)"


def test_same_seed_same_data(tmp_path: Path) -> None:
    a = generate(300, tmp_path / "a", seed=5)
    b = generate(300, tmp_path / "b", seed=5)
    c = generate(300, tmp_path / "c", seed=6)
    for table in Table:
        assert pq.read_table(a.files[table]).equals(pq.read_table(b.files[table]))
    assert not pq.read_table(a.files[Table.EVENTS]).equals(pq.read_table(c.files[Table.EVENTS]))


def test_countries_languages_and_kinds_are_realistic(data) -> None:
    assert len(COUNTRIES) >= 50
    assert len({c.code for c in COUNTRIES}) == len(COUNTRIES)
    con = duckdb.connect()
    users = data.files[Table.USERS]
    top = con.execute(f"SELECT country FROM '{users}' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    assert top == "US"
    assert con.execute(f"SELECT count(DISTINCT upper(country)) FROM '{users}' WHERE country <> ''").fetchone()[0] >= 40
    langs = dict(con.execute(f"SELECT language, count(*) FROM '{users}' GROUP BY 1").fetchall())
    assert langs["en"] > langs["de"] > 0
    kinds = {k for (k,) in con.execute(f"SELECT DISTINCT kind FROM '{data.files[Table.ALBUMS]}'").fetchall()}
    assert kinds == {k.value for k in AlbumKind}
    types = {t for (t,) in con.execute(f"SELECT DISTINCT event_type FROM '{data.files[Table.EVENTS]}'").fetchall()}
    assert {e.value for e in EventType} <= types


def test_seasonality_december_orders_and_summer_trips(data) -> None:
    con = duckdb.connect()
    orders = dict(con.execute(f"SELECT month(ts), count(*) FROM '{data.files[Table.ORDERS]}' GROUP BY 1").fetchall())
    december = orders[12] + orders.get(11, 0)
    others = [n for m, n in orders.items() if m not in (11, 12)]
    assert december / 2 > 2 * (sum(others) / len(others))
    trip_share = dict(
        con.execute(
            f"SELECT month(created_at) IN (7, 8), avg((kind = 'trip')::INT) FROM '{data.files[Table.ALBUMS]}' GROUP BY 1"
        ).fetchall()
    )
    assert trip_share[True] > 1.8 * trip_share[False]


def test_mess_is_planted_and_can_be_switched_off(tmp_path: Path, data) -> None:
    p = data.planted
    for name in ("duplicate_events", "future_skew_events", "past_skew_events", "unknown_album_events",
                 "missing_country_users", "duplicate_orders"):  # fmt: skip
        assert getattr(p, name) > 0, name
    clean = generate(500, tmp_path, seed=1, mess=Mess.none())
    assert all(v == 0 for k, v in vars(clean.planted).items() if k != "title_strategy_effect")
    con = duckdb.connect()
    ev = clean.files[Table.EVENTS]
    assert con.execute(f"SELECT count(*) - count(DISTINCT event_id) FROM '{ev}'").fetchone()[0] == 0
    assert con.execute(f"SELECT count(*) FROM '{ev}' WHERE ts > server_ts").fetchone()[0] == 0


def test_client_clock_skew_includes_the_future_and_1970(data) -> None:
    con = duckdb.connect()
    ev = data.files[Table.EVENTS]
    years = {y for (y,) in con.execute(f"SELECT DISTINCT year(ts) FROM '{ev}'").fetchall()}
    assert 1970 in years and max(years) > 2026
    # server time is always inside the period (plus late arrivals)
    lo, hi = con.execute(f"SELECT min(server_ts), max(server_ts) FROM '{ev}'").fetchone()
    assert lo.date() >= date(2025, 1, 1) and hi.date() <= date(2026, 1, 10)


def test_fx_rates_in_schema_cover_every_generated_currency() -> None:
    schema = (REPO_ROOT / "sql" / "engagement" / "schema.sql").read_text()
    rates = {c: float(r) for c, r in re.findall(r"\('([A-Z]{3})', ([0-9.]+)\)", schema)}
    for country in COUNTRIES:
        assert rates[country.currency] == pytest.approx(country.eur_per_unit), country.code


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"users": 0}, "users must be a positive integer"),
        ({"users": 2.5}, "users must be a positive integer"),
        ({"users": True}, "users must be a positive integer"),
        ({"users": 10, "days": 7}, "days must be an integer of at least 28"),
        ({"users": 10, "effect": 3.0}, "effect is a relative lift"),
    ],
)
def test_bad_parameters_are_refused(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(GenerateError, match=match):
        generate(out_dir=tmp_path, **kwargs)

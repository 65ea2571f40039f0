"""Raw engagement exports in, cleaned tables out, with a count for every rule.

Two steps, both on a DuckDB connection:

1. :func:`attach_sources` creates one ``raw_<table>`` view per table over the exports where
   they are: Parquet or CSV files, globs, folders, ``s3://`` / ``https://`` URIs (DuckDB's
   httpfs extension), or for ``albums`` the curation store's DuckDB file.
2. :func:`clean` applies ``sql/engagement/schema.sql`` and fills the cleaned tables from the
   raw views, rule by rule, and returns a :class:`CleaningReport`.

The rules (``RULES``), in the order they run:

========================  ============  ============  ==============================================
rule                      table         action        what
========================  ============  ============  ==============================================
missing_user_id           users         dropped       user_id missing or not an integer
duplicate_users           users         dropped       same user_id twice: keep the earliest signup
missing_country           users         bucketed      NULL, blank or not two letters -> 'unknown'
country_case              users         fixed         ' de' -> 'DE'
missing_album_id          albums        dropped       album_id missing or blank
duplicate_albums          albums        dropped       same album_id twice: keep the first created
duplicate_events          events        dropped       same event_id (client retries): keep the first arrival
incomplete_event          events        quarantined   event_id, user_id, album_id, event_type or server_ts missing
unknown_event_type        events        quarantined   event_type this pipeline does not know (new app versions)
unknown_user              events        quarantined   user_id not in users
unknown_album             events        quarantined   album_id not in albums (deleted albums, other builds)
clock_skew                events        fixed         device ts later than arrival + 5 min, earlier than
                                                      arrival - 72 h, or missing: ts := server_ts
duplicate_orders          orders        dropped       same order_id twice: keep the first
currency_case             orders        fixed         'eur' -> 'EUR'
incomplete_order          orders        quarantined   order_id, user_id, album_id, ts, value or currency missing
unknown_currency          orders        quarantined   currency not in fx_rates
order_unknown_album       orders        quarantined   album_id not in albums
incomplete_assignment     assignments   dropped       user_id, experiment, variant or assigned_at missing
duplicate_assignments     assignments   dropped       same user, experiment and variant twice: keep the first
conflicting_variants      assignments   quarantined   a user in two variants of one experiment: all rows out
========================  ============  ============  ==============================================

An event fails at most one quarantine rule (the first in the table). Why 72 h: the app keeps
unsent events for at most 48 h offline, so a device time more than 72 h before arrival is
a wrong clock, not a late upload; a device clock that is a few hours behind cannot be told
from a late upload and is kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

import duckdb
import pandas as pd

from curation.engagement import Table
from curation.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql" / "engagement"
REMOTE_SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "r2://", "az://", "abfss://", "http://", "https://", "hf://")
STORE_SUFFIXES = (".duckdb", ".db")


class CleaningError(RuntimeError):
    """The raw data cannot be cleaned as it is; the message says what to change."""


class SourceError(ValueError):
    """A source (path, glob or URI) cannot be used; the message says how to fix it."""


class UnknownTableError(SourceError):
    """Which table a source feeds cannot be told from its name."""


class MissingSourceError(SourceError):
    """A table has no source."""


class SourceSchemaError(SourceError):
    """A source lacks columns the table needs."""


class SourceReadError(SourceError):
    """DuckDB could not open or read a source."""


class Action(StrEnum):
    DROPPED = "dropped"
    FIXED = "fixed"
    QUARANTINED = "quarantined"
    BUCKETED = "bucketed"


@dataclass(frozen=True)
class Rule:
    name: str
    table: Table
    action: Action
    description: str


RULES: tuple[Rule, ...] = (
    Rule("missing_user_id", Table.USERS, Action.DROPPED, "user_id missing or not an integer"),
    Rule("duplicate_users", Table.USERS, Action.DROPPED, "same user_id more than once; the earliest signup is kept"),
    Rule("missing_country", Table.USERS, Action.BUCKETED, "country NULL, blank or not two letters -> 'unknown'"),
    Rule("country_case", Table.USERS, Action.FIXED, "country code trimmed and upper-cased"),
    Rule("missing_album_id", Table.ALBUMS, Action.DROPPED, "album_id missing or blank"),
    Rule("duplicate_albums", Table.ALBUMS, Action.DROPPED, "same album_id more than once; the first is kept"),
    Rule("duplicate_events", Table.EVENTS, Action.DROPPED, "same event_id more than once; the first arrival is kept"),
    Rule(
        "incomplete_event", Table.EVENTS, Action.QUARANTINED, "event_id, user_id, album_id, type or server_ts missing"
    ),
    Rule("unknown_event_type", Table.EVENTS, Action.QUARANTINED, "event_type not impression/open/share/edit"),
    Rule("unknown_user", Table.EVENTS, Action.QUARANTINED, "user_id not in users"),
    Rule("unknown_album", Table.EVENTS, Action.QUARANTINED, "album_id not in albums"),
    Rule("clock_skew", Table.EVENTS, Action.FIXED, "device ts implausible against server_ts; ts := server_ts"),
    Rule("duplicate_orders", Table.ORDERS, Action.DROPPED, "same order_id more than once; the first is kept"),
    Rule("currency_case", Table.ORDERS, Action.FIXED, "currency code trimmed and upper-cased"),
    Rule(
        "incomplete_order",
        Table.ORDERS,
        Action.QUARANTINED,
        "order_id, user_id, album_id, ts, value or currency missing",
    ),
    Rule("unknown_currency", Table.ORDERS, Action.QUARANTINED, "currency not in fx_rates"),
    Rule("order_unknown_album", Table.ORDERS, Action.QUARANTINED, "album_id not in albums"),
    Rule(
        "incomplete_assignment",
        Table.ASSIGNMENTS,
        Action.DROPPED,
        "user_id, experiment, variant or assigned_at missing",
    ),
    Rule("duplicate_assignments", Table.ASSIGNMENTS, Action.DROPPED, "same user, experiment and variant again"),
    Rule("conflicting_variants", Table.ASSIGNMENTS, Action.QUARANTINED, "user in two variants of one experiment"),
)
_RULES = {rule.name: rule for rule in RULES}


@dataclass(frozen=True)
class CleaningRules:
    """Thresholds of the clock-skew rule."""

    max_ahead: timedelta = timedelta(minutes=5)  # device time after arrival: impossible
    max_behind: timedelta = timedelta(hours=72)  # the app drops events unsent for 48 h

    def __post_init__(self) -> None:
        if self.max_ahead < timedelta(0) or self.max_behind <= timedelta(0):
            raise ValueError("max_ahead must be >= 0 and max_behind > 0 (e.g. 5 minutes and 72 hours).")


@dataclass(frozen=True)
class RuleCount:
    rule: str
    table: Table
    action: Action
    rows: int
    description: str


@dataclass(frozen=True)
class CleaningReport:
    rules: tuple[RuleCount, ...]
    rows_in: dict[Table, int]
    rows_out: dict[Table, int]
    seconds: float

    def count(self, rule: str) -> int:
        for r in self.rules:
            if r.rule == rule:
                return r.rows
        raise KeyError(f"No cleaning rule {rule!r}; the rules are: {', '.join(_RULES)}.")

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(r.rule, r.table.value, r.action.value, r.rows, r.description) for r in self.rules],
            columns=["rule", "table", "action", "rows", "description"],
        )

    def summary(self) -> str:
        lines = [f"{t.value}: {self.rows_in[t]:,} raw -> {self.rows_out[t]:,} clean" for t in Table]
        lines += [f"  {r.rule:<22} {r.action.value:<12} {r.rows:>10,}" for r in self.rules]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# sources


@dataclass(frozen=True)
class Source:
    """The locations one table is read from (all unioned by column name)."""

    table: Table
    uris: tuple[str, ...]

    @property
    def is_store(self) -> bool:
        return self.table is Table.ALBUMS and len(self.uris) == 1 and self.uris[0].endswith(STORE_SUFFIXES)


REQUIRED_COLUMNS: dict[Table, tuple[str, ...]] = {
    Table.USERS: ("user_id", "country", "signup_at"),
    Table.ALBUMS: ("album_id", "kind", "title_generator"),
    Table.EVENTS: ("event_id", "user_id", "album_id", "event_type", "ts", "server_ts"),
    Table.ORDERS: ("order_id", "user_id", "album_id", "ts", "value", "currency"),
    Table.ASSIGNMENTS: ("user_id", "experiment", "variant", "assigned_at"),
}
OPTIONAL_COLUMNS: dict[Table, tuple[str, ...]] = {
    Table.USERS: ("language", "platform"),
    Table.ALBUMS: ("library_id", "theme", "created_at"),
    Table.EVENTS: (),
    Table.ORDERS: (),
    Table.ASSIGNMENTS: (),
}
_COLUMN_ALIASES = {Table.ALBUMS: {"generator": "title_generator"}}  # the curation store's name
_TABLE_PREFIX = re.compile(r"^(%s)=(.+)$" % "|".join(t.value for t in Table), re.IGNORECASE)
_TABLE_WORD = re.compile(r"^(%s)(?![a-z])" % "|".join(t.value for t in Table), re.IGNORECASE)


def _is_remote(uri: str) -> bool:
    return uri.lower().startswith(REMOTE_SCHEMES)


def _table_from_name(uri: str) -> Table | None:
    """The table a path names: its file name, else the nearest folder named like a table."""
    parts = [p for p in re.split(r"[/\\]", uri.split("://", 1)[-1]) if p]
    for part in reversed(parts):
        match = _TABLE_WORD.match(part)
        if match:
            return Table(match.group(1).lower())
    return None


def _folder_sources(folder: Path) -> dict[Table, list[str]]:
    found: dict[Table, list[str]] = {}
    for table in Table:
        for candidate in (
            folder / f"{table.value}.parquet",
            folder / f"{table.value}.csv",
            folder / f"{table.value}.csv.gz",
        ):
            if candidate.is_file():
                found.setdefault(table, []).append(str(candidate))
        sub = folder / table.value
        if sub.is_dir():
            for ext in ("parquet", "csv", "csv.gz"):
                if any(sub.rglob(f"*.{ext}")):
                    found.setdefault(table, []).append(str(sub / "**" / f"*.{ext}"))
    return found


def resolve_sources(
    sources: Sequence[str | Path] | Mapping[str, str | Path | Sequence[str | Path]],
) -> dict[Table, Source]:
    """Which locations feed which table.

    ``sources`` is a list of locations or a mapping ``{table: location(s)}``. A location is a
    Parquet/CSV file, a glob, an ``s3://``/``https://`` URI, or a local folder holding
    ``users.parquet``, ``events/``, ... (what :func:`curation.engagement.generate.generate`
    writes). A list entry may name its table explicitly: ``"events=s3://bucket/ev/*.parquet"``;
    otherwise the table is read from the file or folder name. An ``albums`` location may be
    the curation store's ``.duckdb`` file.
    """
    found: dict[Table, list[str]] = {}

    def add(table: Table, uri: str) -> None:
        found.setdefault(table, []).append(uri)

    if isinstance(sources, Mapping):
        for key, value in sources.items():
            table = _table(key)
            for uri in [value] if isinstance(value, str | Path) else value:
                add(table, str(uri))
    else:
        if isinstance(sources, str | Path):
            sources = [sources]
        for entry in sources:
            text = str(entry).strip()
            explicit = _TABLE_PREFIX.match(text)
            if explicit:
                add(Table(explicit.group(1).lower()), explicit.group(2))
                continue
            if not _is_remote(text) and Path(text).is_dir():
                tables = _folder_sources(Path(text))
                if not tables:
                    raise UnknownTableError(
                        f"The folder {text} holds none of {', '.join(t.value + '.parquet' for t in Table)} "
                        "(or .csv, or a folder per table). Point at the files, or prefix a location "
                        "with its table, e.g. 'events=/data/export/*.parquet'."
                    )
                for table, uris in tables.items():
                    for uri in uris:
                        add(table, uri)
                continue
            table = _table_from_name(text)
            if table is None:
                raise UnknownTableError(
                    f"Cannot tell which table {text!r} feeds: neither its file nor a folder is named "
                    f"after one of {', '.join(t.value for t in Table)}. Prefix it with the table, "
                    f"e.g. 'events={text}'."
                )
            add(table, text)
    missing = [t.value for t in Table if t not in found]
    if missing:
        raise MissingSourceError(
            f"No source for {', '.join(missing)}. Every engagement build needs "
            f"{', '.join(t.value for t in Table)}; add a location for each "
            "(e.g. 'albums=var/curation.duckdb' to take albums from the curation store)."
        )
    for table, uris in found.items():
        stores = [u for u in uris if u.endswith(STORE_SUFFIXES)]
        if stores and (table is not Table.ALBUMS or len(uris) > 1):
            raise SourceError(
                f"{stores[0]} is a DuckDB database: only albums can come from the curation store, "
                "and then from that file alone."
            )
    return {t: Source(t, tuple(found[t])) for t in Table}


def _table(name: str | Table) -> Table:
    try:
        return Table(str(name).lower())
    except ValueError:
        raise UnknownTableError(
            f"{name!r} is not an engagement table; the tables are {', '.join(t.value for t in Table)}."
        ) from None


def sql_literal(text: str) -> str:
    """A SQL string literal (quotes doubled). For operator-given locations only, which DuckDB
    cannot take as prepared parameters inside a view; user values are always bound."""
    return "'" + text.replace("'", "''") + "'"


def _reader(uris: Sequence[str]) -> str:
    by_format: dict[str, list[str]] = {}
    for uri in uris:
        lower = uri.lower().split("?", 1)[0]
        if lower.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            by_format.setdefault("csv", []).append(uri)
        elif lower.endswith((".parquet", ".parq", ".pq")):
            by_format.setdefault("parquet", []).append(uri)
        else:
            raise SourceError(
                f"{uri!r}: cannot tell the format; engagement sources are Parquet (.parquet) or "
                "CSV (.csv, .csv.gz) files or globs of them."
            )
    selects = []
    for fmt, group in by_format.items():
        listing = "[" + ", ".join(sql_literal(u) for u in group) + "]"
        if fmt == "parquet":
            selects.append(f"SELECT * FROM read_parquet({listing}, union_by_name = true)")
        else:
            selects.append(f"SELECT * FROM read_csv({listing}, union_by_name = true, header = true)")
    return " UNION ALL BY NAME ".join(selects)


def attach_sources(
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[str | Path] | Mapping[str, str | Path | Sequence[str | Path]],
) -> dict[Table, Source]:
    """Create views ``raw_users``, ``raw_albums``, ... over the sources, checked for columns."""
    resolved = resolve_sources(sources)
    for table, source in resolved.items():
        if source.is_store:
            select = _store_albums(con, source.uris[0])
        else:
            select = _reader(source.uris)
        try:
            con.execute(f"CREATE OR REPLACE VIEW raw_{table.value} AS {select}")
            columns = [row[0] for row in con.execute(f"DESCRIBE raw_{table.value}").fetchall()]
        except duckdb.Error as exc:
            raise SourceReadError(_read_failure(table, source, exc)) from exc
        _check_columns(con, table, source, columns)
    return resolved


def _read_failure(table: Table, source: Source, exc: duckdb.Error) -> str:
    message = str(exc)
    hint = "Check that the files exist and are readable."
    if any(_is_remote(u) for u in source.uris):
        hint = (
            "Remote locations need DuckDB's httpfs extension (run `INSTALL httpfs` once where there is "
            "internet) and credentials: for S3 create a persistent secret once, e.g. "
            "`CREATE PERSISTENT SECRET (TYPE s3, PROVIDER credential_chain)` in the duckdb CLI."
        )
    return f"Cannot read the {table.value} source {', '.join(source.uris)}: {message}. {hint}"


def _check_columns(con: duckdb.DuckDBPyConnection, table: Table, source: Source, columns: list[str]) -> None:
    have = {c.lower() for c in columns}
    aliases = {k: v for k, v in _COLUMN_ALIASES.get(table, {}).items() if k in have and v not in have}
    have |= set(aliases.values())
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in have]
    if missing:
        raise SourceSchemaError(
            f"The {table.value} source {', '.join(source.uris)} lacks column(s) {', '.join(missing)}. "
            f"It has {', '.join(columns)}; {table.value} needs {', '.join(REQUIRED_COLUMNS[table])} "
            f"(and may have {', '.join(OPTIONAL_COLUMNS[table]) or 'nothing else'})."
        )
    absent = [c for c in OPTIONAL_COLUMNS[table] if c not in have]
    if aliases or absent:
        # Re-expose the view with the canonical column names; absent optional ones are NULL.
        renames = ", ".join(f"{old} AS {new}" for old, new in aliases.items())
        nulls = ", ".join(f"NULL AS {c}" for c in absent)
        extra = ", ".join(x for x in (renames, nulls) if x)
        con.execute(f"ALTER VIEW raw_{table.value} RENAME TO raw_{table.value}_source")
        con.execute(f"CREATE VIEW raw_{table.value} AS SELECT *, {extra} FROM raw_{table.value}_source")


def _store_albums(con: duckdb.DuckDBPyConnection, path: str) -> str:
    """The curation store's ``albums`` table as the albums dimension (see docs/engagement.md)."""
    if not Path(path).is_file():
        raise SourceReadError(
            f"The curation store {path} does not exist. Run `curation run LIBRARY --db {path}` first."
        )
    try:
        con.execute(f"ATTACH {sql_literal(path)} AS curation_store (READ_ONLY)")
    except duckdb.Error as exc:
        raise SourceReadError(f"Cannot open the curation store {path} read-only: {exc}") from exc
    columns = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'curation_store' AND table_name = 'albums'"
        ).fetchall()
    }
    if not columns:
        raise SourceSchemaError(
            f"The curation store {path} has no albums table yet: run the album stage of `curation run`, "
            "or give an albums export instead."
        )
    generator = "generator" if "generator" in columns else "title_generator"
    if "theme" in columns:
        theme = "theme"
    elif "facts" in columns:  # AlbumFacts JSON: theme albums have a theme, holiday events a holiday
        theme = "coalesce(facts->>'theme', lower(facts->>'holiday'))"
    else:
        theme = "NULL"
    created = "created_at" if "created_at" in columns else "NULL"
    library = "library_id" if "library_id" in columns else "NULL"
    return (
        f"SELECT album_id, {library} AS library_id, kind, {theme} AS theme, "
        f"{generator} AS title_generator, {created} AS created_at FROM curation_store.albums"
    )


# ---------------------------------------------------------------------------------------
# cleaning


def schema_sql() -> str:
    return (SQL_DIR / "schema.sql").read_text()


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence | None = None) -> int:
    return int(con.execute(sql, params or []).fetchone()[0])


def clean(con: duckdb.DuckDBPyConnection, rules: CleaningRules | None = None) -> CleaningReport:
    """Fill the cleaned tables of ``sql/engagement/schema.sql`` from the ``raw_*`` relations in
    ``con`` (views from :func:`attach_sources`, or tables a test made) and count every rule."""
    rules = rules or CleaningRules()
    started = time.perf_counter()
    existing = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
        ).fetchall()
    }
    raw_missing = [f"raw_{t.value}" for t in Table if f"raw_{t.value}" not in existing]
    if raw_missing:
        raise CleaningError(
            f"Nothing to clean: {', '.join(raw_missing)} missing. Call attach_sources(con, sources) first."
        )
    if "events" in existing:
        raise CleaningError("This database is already cleaned (it has an events table); clean into a new one.")
    con.execute(schema_sql())
    rows_in = {t: _count(con, f"SELECT count(*) FROM raw_{t.value}") for t in Table}
    counts: dict[str, int] = {}
    try:
        _clean_users(con, counts, rows_in[Table.USERS])
        _clean_albums(con, counts, rows_in[Table.ALBUMS])
        _clean_events(con, counts, rows_in[Table.EVENTS], rules)
        _clean_orders(con, counts, rows_in[Table.ORDERS])
        _clean_assignments(con, counts)
        con.execute("DROP TABLE _album_keys")
    except duckdb.Error as exc:
        raise CleaningError(
            f"Cleaning failed: {exc}. The raw data has a column DuckDB cannot convert; "
            "check the column types against docs/engagement.md (Sources)."
        ) from exc
    results = tuple(
        RuleCount(rule.name, rule.table, rule.action, int(counts.get(rule.name, 0)), rule.description) for rule in RULES
    )
    con.executemany(
        "INSERT INTO cleaning_log VALUES (?, ?, ?, ?, ?)",
        [(r.rule, r.table.value, r.action.value, r.rows, r.description) for r in results],
    )
    rows_out = {t: _count(con, f"SELECT count(*) FROM {t.value}") for t in Table}
    return CleaningReport(results, rows_in, rows_out, time.perf_counter() - started)


_VALID_COUNTRY = "regexp_full_match(coalesce(code, ''), '[A-Z]{2}')"


def _clean_users(con: duckdb.DuckDBPyConnection, counts: dict[str, int], n_raw: int) -> None:
    con.execute("""
        CREATE TEMP TABLE _users AS
        SELECT TRY_CAST(user_id AS BIGINT) AS user_id, country::VARCHAR AS raw_country,
               upper(trim(country::VARCHAR)) AS code, language::VARCHAR AS language,
               TRY_CAST(signup_at AS TIMESTAMP) AS signup_at, platform::VARCHAR AS platform
        FROM raw_users
        """)
    counts["missing_user_id"] = _count(con, "SELECT count(*) FROM _users WHERE user_id IS NULL")
    con.execute("""
        CREATE TEMP TABLE _users_first AS
        SELECT * FROM _users WHERE user_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY signup_at NULLS LAST) = 1
        """)
    counts["duplicate_users"] = n_raw - counts["missing_user_id"] - _count(con, "SELECT count(*) FROM _users_first")
    con.execute(f"""
        INSERT INTO users
        SELECT user_id, CASE WHEN {_VALID_COUNTRY} THEN code ELSE 'unknown' END,
               lower(trim(language)), signup_at, lower(trim(platform))
        FROM _users_first
        """)
    counts["missing_country"] = _count(con, f"SELECT count(*) FROM _users_first WHERE NOT {_VALID_COUNTRY}")
    counts["country_case"] = _count(
        con, f"SELECT count(*) FROM _users_first WHERE {_VALID_COUNTRY} AND raw_country <> code"
    )
    con.execute("DROP TABLE _users; DROP TABLE _users_first")


def _clean_albums(con: duckdb.DuckDBPyConnection, counts: dict[str, int], n_raw: int) -> None:
    # album_id keeps its raw type here (integers in some exports, the store's VARCHAR ids in
    # others), so events join on it without casting when both sides agree.
    counts["missing_album_id"] = _count(
        con, "SELECT count(*) FROM raw_albums WHERE album_id IS NULL OR trim(album_id::VARCHAR) = ''"
    )
    con.execute("""
        CREATE TEMP TABLE _album_keys AS
        SELECT album_id AS raw_id, (row_number() OVER ())::INTEGER AS album_key, library_id, kind, theme,
               title_generator, created_at
        FROM (
            SELECT * FROM raw_albums WHERE album_id IS NOT NULL AND trim(album_id::VARCHAR) <> ''
            QUALIFY row_number() OVER (PARTITION BY album_id ORDER BY created_at NULLS LAST) = 1
        )
        """)
    con.execute("""
        INSERT INTO albums
        SELECT album_key, trim(raw_id::VARCHAR), TRY_CAST(library_id AS BIGINT), lower(trim(kind::VARCHAR)),
               coalesce(lower(trim(theme::VARCHAR)), 'none'), lower(trim(title_generator::VARCHAR)),
               TRY_CAST(created_at AS TIMESTAMP)
        FROM _album_keys
        """)
    counts["duplicate_albums"] = n_raw - counts["missing_album_id"] - _count(con, "SELECT count(*) FROM albums")


def _album_match(con: duckdb.DuckDBPyConnection, raw: str, alias: str) -> str:
    """Join condition between ``alias.raw_album_id`` (from ``raw``) and ``a.raw_id``: direct
    when both exports use the same type, else on trimmed text ('10000001' = 10000001)."""

    def column_type(table: str) -> str:
        return con.execute(f"SELECT column_type FROM (DESCRIBE {table}) WHERE column_name = 'album_id'").fetchone()[0]

    if column_type(raw) == column_type("raw_albums"):
        return f"a.raw_id = {alias}.raw_album_id"
    return f"trim(a.raw_id::VARCHAR) = trim({alias}.raw_album_id::VARCHAR)"


def _clean_events(con: duckdb.DuckDBPyConnection, counts: dict[str, int], n_raw: int, rules: CleaningRules) -> None:
    # Duplicates are rare: find their ids with one aggregate, dedupe only those rows with a
    # window, and pass every other row through an anti join (a window over all rows is 3x slower).
    typed = """
        SELECT TRY_CAST(event_id AS BIGINT) AS event_id, TRY_CAST(user_id AS BIGINT) AS user_id,
               album_id AS raw_album_id, lower(trim(event_type::VARCHAR)) AS event_type,
               TRY_CAST(ts AS TIMESTAMP) AS ts, TRY_CAST(server_ts AS TIMESTAMP) AS server_ts
        FROM raw_events
    """
    con.execute(f"""
        CREATE TEMP TABLE _typed_events AS {typed};
        CREATE TEMP TABLE _duplicated AS
            SELECT event_id FROM _typed_events WHERE event_id IS NOT NULL GROUP BY event_id HAVING count(*) > 1;
        """)
    con.execute(f"""
        CREATE TEMP TABLE _events AS
        WITH first_arrival AS (
            SELECT * FROM _typed_events ANTI JOIN _duplicated USING (event_id)
            UNION ALL
            SELECT * FROM (SELECT * FROM _typed_events SEMI JOIN _duplicated USING (event_id))
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY server_ts, ts) = 1
        )
        SELECT e.*, a.album_key,
               CASE WHEN e.event_id IS NULL OR e.user_id IS NULL OR e.raw_album_id IS NULL
                         OR e.event_type IS NULL OR e.server_ts IS NULL THEN 'incomplete_event'
                    WHEN e.event_type NOT IN ('impression', 'open', 'share', 'edit') THEN 'unknown_event_type'
                    WHEN e.user_id NOT IN (SELECT user_id FROM users) THEN 'unknown_user'
                    WHEN a.album_key IS NULL THEN 'unknown_album'
               END AS reason
        FROM first_arrival e LEFT JOIN _album_keys a ON {_album_match(con, "raw_events", "e")}
        """)
    con.execute("DROP TABLE _typed_events; DROP TABLE _duplicated")
    counts["duplicate_events"] = n_raw - _count(con, "SELECT count(*) FROM _events")
    for reason, n in con.execute(
        "SELECT reason, count(*) FROM _events WHERE reason IS NOT NULL GROUP BY ALL"
    ).fetchall():
        counts[reason] = n
    con.execute(
        "INSERT INTO quarantine_events SELECT event_id, user_id, raw_album_id::VARCHAR, event_type, ts, server_ts, reason "
        "FROM _events WHERE reason IS NOT NULL"
    )
    con.execute(
        """
        INSERT INTO events
        SELECT event_id, user_id, album_key, event_type::event_type,
               CASE WHEN skewed THEN server_ts ELSE ts END, server_ts, skewed
        FROM (
            SELECT *, (ts IS NULL OR ts > server_ts + $ahead OR ts < server_ts - $behind) AS skewed
            FROM _events WHERE reason IS NULL
        )
        """,
        {"ahead": rules.max_ahead, "behind": rules.max_behind},
    )
    counts["clock_skew"] = _count(con, "SELECT count(*) FROM events WHERE ts_corrected")
    con.execute("DROP TABLE _events")


def _clean_orders(con: duckdb.DuckDBPyConnection, counts: dict[str, int], n_raw: int) -> None:
    con.execute("""
        CREATE TEMP TABLE _orders AS
        WITH typed AS (
            SELECT TRY_CAST(order_id AS BIGINT) AS order_id, TRY_CAST(user_id AS BIGINT) AS user_id,
                   album_id AS raw_album_id, TRY_CAST(ts AS TIMESTAMP) AS ts,
                   TRY_CAST(value AS DECIMAL(14, 2)) AS value, currency::VARCHAR AS raw_currency,
                   upper(trim(currency::VARCHAR)) AS currency
            FROM raw_orders
        )
        SELECT * FROM typed
        QUALIFY order_id IS NULL OR row_number() OVER (PARTITION BY order_id ORDER BY ts) = 1
        """)
    counts["duplicate_orders"] = n_raw - _count(con, "SELECT count(*) FROM _orders")
    counts["currency_case"] = _count(con, "SELECT count(*) FROM _orders WHERE raw_currency <> currency")
    con.execute(f"""
        CREATE TEMP TABLE _orders_checked AS
        SELECT o.*, f.eur_per_unit, a.album_key,
               CASE WHEN o.order_id IS NULL OR o.user_id IS NULL OR o.raw_album_id IS NULL OR o.ts IS NULL
                         OR o.value IS NULL OR o.currency IS NULL THEN 'incomplete_order'
                    WHEN f.currency IS NULL THEN 'unknown_currency'
                    WHEN a.album_key IS NULL THEN 'order_unknown_album'
               END AS reason
        FROM _orders o
        LEFT JOIN fx_rates f USING (currency)
        LEFT JOIN _album_keys a ON {_album_match(con, "raw_orders", "o")}
        """)
    for reason, n in con.execute(
        "SELECT reason, count(*) FROM _orders_checked WHERE reason IS NOT NULL GROUP BY ALL"
    ).fetchall():
        counts[reason] = n
    con.execute(
        "INSERT INTO quarantine_orders SELECT order_id, user_id, raw_album_id::VARCHAR, ts, value, currency, "
        "replace(reason, 'order_unknown_album', 'unknown_album') FROM _orders_checked WHERE reason IS NOT NULL"
    )
    con.execute(
        "INSERT INTO orders SELECT order_id, user_id, album_key, ts, value, currency, "
        "value::DOUBLE * eur_per_unit FROM _orders_checked WHERE reason IS NULL ORDER BY ts"
    )
    con.execute("DROP TABLE _orders; DROP TABLE _orders_checked")


def _clean_assignments(con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> None:
    con.execute("""
        CREATE TEMP TABLE _typed_assignments AS
        SELECT TRY_CAST(user_id AS BIGINT) AS user_id, trim(experiment::VARCHAR) AS experiment,
               trim(variant::VARCHAR) AS variant, TRY_CAST(assigned_at AS TIMESTAMP) AS assigned_at
        FROM raw_assignments
        """)
    complete = "user_id IS NOT NULL AND experiment IS NOT NULL AND variant IS NOT NULL AND assigned_at IS NOT NULL"
    counts["incomplete_assignment"] = _count(con, f"SELECT count(*) FROM _typed_assignments WHERE NOT ({complete})")
    con.execute(f"""
        CREATE TEMP TABLE _assignments AS
        SELECT user_id, experiment, variant, min(assigned_at) AS assigned_at, count(*) AS copies
        FROM _typed_assignments WHERE {complete} GROUP BY ALL
        """)
    counts["duplicate_assignments"] = _count(con, "SELECT coalesce(sum(copies - 1), 0) FROM _assignments")
    con.execute(
        "CREATE TEMP TABLE _conflicts AS SELECT user_id, experiment FROM _assignments GROUP BY ALL HAVING count(*) > 1"
    )
    con.execute("""
        INSERT INTO quarantine_assignments
        SELECT a.user_id, a.experiment, a.variant, a.assigned_at, 'conflicting_variants'
        FROM _assignments a SEMI JOIN _conflicts c USING (user_id, experiment)
        """)
    counts["conflicting_variants"] = _count(con, "SELECT count(*) FROM quarantine_assignments")
    con.execute("""
        INSERT INTO assignments
        SELECT a.user_id, a.experiment, a.variant, a.assigned_at
        FROM _assignments a ANTI JOIN _conflicts c USING (user_id, experiment)
        """)
    con.execute("DROP TABLE _typed_assignments; DROP TABLE _assignments; DROP TABLE _conflicts")

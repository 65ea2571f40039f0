"""The engagement database, and a read-only, time- and row-limited runner for user SQL.

:func:`build_database` reads the sources where they are (Parquet/CSV paths, globs,
``s3://`` URIs), cleans them (:mod:`curation.engagement.clean`), adds the pre-aggregations
and views of ``sql/engagement/views.sql`` and writes one DuckDB file, atomically.

:func:`run_sql` runs one statement of user SQL against such a file. Layers, outermost first:

1. The statement is classified by DuckDB's own parser (``extract_statements``): exactly one
   statement, and only ``SELECT`` (with ``WITH``, ``FROM``-first, ``DESCRIBE``, ``SHOW``,
   ``SUMMARIZE``, ``VALUES``, ``PIVOT ... IN (...)``) or ``EXPLAIN`` of one. Everything else is
   refused before it runs, each kind with its own exception.
2. The database is opened ``read_only`` with ``enable_external_access = false`` (no files,
   no URLs, no ``ATTACH``, no extension loading), extension auto-loading off and
   ``lock_configuration = true`` (no ``SET``/``PRAGMA`` can undo any of it). DuckDB checks
   this for every table function, replacement scan and ``COPY``, not a regex.
3. A timer thread calls ``con.interrupt()`` after ``time_limit_s``; at most ``row_limit``
   rows are fetched (the result is streamed, so a huge result is not materialised).

Why a built file rather than views over the exports: with external access disabled DuckDB
no longer reads the files behind a view either (checked on DuckDB 2.0.1), so the sandbox
reads a database whose tables are already inside it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from curation.engagement import Table
from curation.engagement.clean import (
    SQL_DIR,
    CleaningReport,
    CleaningRules,
    Source,
    attach_sources,
    clean,
)

Sources = Sequence[str | Path] | Mapping[str, str | Path | Sequence[str | Path]]
ConnectionFactory = Callable[[], duckdb.DuckDBPyConnection]

ALLOWED_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
_WRITES = frozenset(
    {
        "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY", "EXPORT", "CREATE_FUNC",
        "MERGE_INTO", "VACUUM", "ANALYZE", "COPY_DATABASE", "TRANSACTION",
    }
)  # fmt: skip


# ---------------------------------------------------------------------------------------
# errors


class SandboxError(RuntimeError):
    """Base of everything :func:`run_sql` raises about the SQL or the database."""


class SandboxUsageError(ValueError):
    """run_sql was called with bad arguments (a programming error, not the user's SQL)."""


class EngagementDatabaseError(SandboxError):
    """The engagement database cannot be opened; the message says how to fix it."""


class SqlRejectedError(SandboxError):
    """The SQL was refused before it ran."""


class EmptySqlError(SqlRejectedError):
    pass


class MultipleStatementsError(SqlRejectedError):
    pass


class ForbiddenStatementError(SqlRejectedError):
    """A statement of a kind the read-only runner does not run."""

    def __init__(self, message: str, statement_type: str) -> None:
        super().__init__(message)
        self.statement_type = statement_type


class WriteForbiddenError(ForbiddenStatementError):
    pass


class AttachForbiddenError(ForbiddenStatementError):
    pass


class ExtensionForbiddenError(ForbiddenStatementError):
    pass


class ConfigChangeForbiddenError(ForbiddenStatementError):
    pass


@dataclass(frozen=True)
class SqlPosition:
    """Where in the SQL DuckDB points (1-based line and column; ``offset`` in characters)."""

    offset: int
    line: int
    column: int | None  # None when DuckDB only showed an elided line
    line_text: str

    def pointer(self) -> str:
        """The offending line with a caret under the position."""
        if self.column is None:
            return self.line_text
        return f"{self.line_text}\n{' ' * (self.column - 1)}^"


class SqlQueryError(SandboxError):
    """DuckDB refused or failed the query (syntax, unknown column, bad cast ...)."""

    def __init__(self, kind: str, detail: str, position: SqlPosition | None) -> None:
        self.kind = kind  # DuckDB's error type: Parser, Binder, Conversion, ...
        self.detail = detail
        self.position = position
        where = (
            f" at line {position.line}" + (f", column {position.column}" if position.column else "") if position else ""
        )
        text = f"{kind} error{where}: {detail}"
        if position:
            text += "\n" + position.pointer()
        super().__init__(text)


class SqlSyntaxError(SqlQueryError):
    pass


class FileAccessForbiddenError(SqlQueryError):
    """User SQL tried to read a file or URL (read_parquet, read_csv, glob, 's3://...')."""


class QueryTimeoutError(SandboxError):
    def __init__(self, time_limit_s: float) -> None:
        self.time_limit_s = time_limit_s
        super().__init__(
            f"The query ran longer than {time_limit_s:g} s and was stopped. Narrow it (a date range, "
            "fewer columns), aggregate in SQL, or query the pre-aggregated tables "
            "(album_funnel, user_months, daily_engagement, experiment_users)."
        )


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class SqlResult:
    frame: pd.DataFrame  # DECIMAL/HUGEINT columns arrive as float64 / int64
    truncated: bool  # more rows than row_limit existed; frame holds the first row_limit
    elapsed: float  # seconds, execution and fetch
    row_limit: int
    statement_type: str  # SELECT or EXPLAIN
    sql: str

    @property
    def rows(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class BuildReport:
    db_path: Path
    sources: dict[Table, Source]
    cleaning: CleaningReport
    tables: dict[str, int]  # table -> rows, cleaned and pre-aggregated
    seconds: float

    def summary(self) -> str:
        rows = ", ".join(f"{name} {n:,}" for name, n in self.tables.items())
        return f"{self.db_path}: {rows} ({self.seconds:.1f} s)"


# ---------------------------------------------------------------------------------------
# building


def views_sql() -> str:
    return (SQL_DIR / "views.sql").read_text()


def build_database(
    sources: Sources,
    db_path: Path | str,
    *,
    threads: int | None = None,
    rules: CleaningRules | None = None,
) -> BuildReport:
    """Clean the sources into a new engagement database at ``db_path`` (replaced atomically:
    processes that have the old file open keep reading it until they reopen)."""
    started = time.perf_counter()
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    building = db_path.with_name(db_path.name + ".building")
    for stale in (building, Path(f"{building}.wal")):
        stale.unlink(missing_ok=True)
    config = {"threads": threads} if threads else {}
    con = duckdb.connect(str(building), config=config)
    try:
        resolved = attach_sources(con, sources)
        report = clean(con, rules)
        con.execute(views_sql())
        # The raw views point at the exports; they would fail in the sandbox. Drop them.
        for (view,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name LIKE 'raw\\_%' ESCAPE '\\'"
        ).fetchall():
            con.execute(f'DROP VIEW "{view}"')
        if con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'curation_store'").fetchone()[0]:
            con.execute("DETACH curation_store")
        names = [
            r[0]
            for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()
        ]
        tables = {name: int(con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names}
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        building.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(building, db_path)
    return BuildReport(db_path, resolved, report, tables, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------
# the sandbox connection


def _sandbox_config(threads: int | None, memory_limit: str | None) -> dict[str, object]:
    config: dict[str, object] = {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "errors_as_json": True,
        "lock_configuration": True,
    }
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    return config


def open_sandbox(
    db_path: Path | str, *, threads: int | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """The engagement database, read-only, external access off, configuration locked.

    A UI may cache this connection and pass ``connect=con.cursor`` to :func:`run_sql`
    (cursors share the locked configuration; each is closed after its query)."""
    path = Path(db_path)
    if not path.is_file():
        raise EngagementDatabaseError(
            f"No engagement database at {path}. Build it first: "
            "build_database(sources, db_path) (CLI: `curation engagement build`), or "
            "`curation engagement generate` for synthetic data."
        )
    try:
        return duckdb.connect(str(path), read_only=True, config=_sandbox_config(threads, memory_limit))
    except duckdb.ConnectionException as exc:
        if "different configuration" in str(exc):
            raise EngagementDatabaseError(
                f"{path} is already open in this process with other settings (DuckDB shares one instance "
                "per file). Open it only through open_sandbox()/run_sql(), or pass connect=... with a "
                "cursor of the connection that is open."
            ) from exc
        raise EngagementDatabaseError(f"Cannot open {path}: {exc}") from exc
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise EngagementDatabaseError(
                f"{path} is being written by another process; wait for the build to finish and retry."
            ) from exc
        raise EngagementDatabaseError(f"Cannot open {path}: {exc}") from exc
    except duckdb.Error as exc:
        raise EngagementDatabaseError(f"{path} is not a usable DuckDB database: {exc}") from exc


def _lock_down(con: duckdb.DuckDBPyConnection, threads: int | None) -> None:
    """Apply the sandbox settings to a connection from a factory (idempotent)."""
    locked, external = con.execute(
        "SELECT current_setting('lock_configuration'), current_setting('enable_external_access')"
    ).fetchone()
    if locked:
        if external:
            raise EngagementDatabaseError(
                "The connection's configuration is locked with external access enabled, so user SQL "
                "could read files. Give run_sql a connection from open_sandbox(), or lock it after "
                "`SET enable_external_access = false`."
            )
        return
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET errors_as_json = true")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


@contextmanager
def _connection(
    db_path: Path | str | None,
    connect: ConnectionFactory | None,
    sources: Sources | None,
    threads: int | None,
    memory_limit: str | None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    given = [name for name, value in (("db_path", db_path), ("connect", connect), ("sources", sources)) if value]
    if len(given) != 1:
        raise SandboxUsageError(
            f"Give exactly one of db_path, connect or sources to run_sql (got {', '.join(given) or 'none'})."
        )
    if sources:
        # One-off: build a private database from the sources, query it, throw it away.
        folder = Path(tempfile.mkdtemp(prefix="engagement-"))
        try:
            build_database(sources, folder / "engagement.duckdb", threads=threads)
            con = open_sandbox(folder / "engagement.duckdb", threads=threads, memory_limit=memory_limit)
            try:
                yield con
            finally:
                con.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if connect is not None:
        con = connect()
        try:
            _lock_down(con, threads)
            yield con
        finally:
            con.close()
        return
    con = open_sandbox(db_path, threads=threads, memory_limit=memory_limit)
    try:
        yield con
    finally:
        con.close()


# ---------------------------------------------------------------------------------------
# classification and errors


_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_EXPLAIN = re.compile(r"^EXPLAIN\b(?:\s+ANALY[SZ]E\b)?(?:\s*\([^)]*\))?", re.IGNORECASE)


def classify(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The statement type of the single statement in ``sql``, or a specific refusal."""
    if not isinstance(sql, str) or not _LEADING_NOISE.sub("", sql).strip().strip(";").strip():
        raise EmptySqlError("The SQL is empty. Write one SELECT query, e.g. SELECT * FROM album_funnel LIMIT 10.")
    statements = _extract(con, sql)
    if not statements:
        raise EmptySqlError("The SQL holds only comments. Write one SELECT query.")
    if len(statements) > 1:
        raise MultipleStatementsError(f"{len(statements)} statements given; run one at a time (remove the extra ';').")
    statement = statements[0]
    kind = _statement_type(statement)
    if kind == "EXPLAIN":
        inner = _EXPLAIN.sub("", _LEADING_NOISE.sub("", statement.query), count=1)
        inner_statements = _extract(con, inner) if inner.strip() else []
        inner_kind = _statement_type(inner_statements[0]) if len(inner_statements) == 1 else "INVALID"
        if inner_kind != "SELECT":
            _refuse(inner_kind)
        return kind
    if kind not in ALLOWED_STATEMENTS:
        _refuse(kind)
    return kind


def _extract(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    try:
        return con.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise _query_error(exc, sql) from None


def _statement_type(statement: object) -> str:
    try:
        return statement.type.name
    except ValueError:  # a type the Python enum does not know, e.g. UPDATE EXTENSIONS
        raise ForbiddenStatementError(
            "This statement is not a query; the SQL runner only runs SELECT.", "UNKNOWN"
        ) from None


def _refuse(kind: str) -> None:
    label = kind.replace("_", " ")
    if kind in _WRITES:
        raise WriteForbiddenError(
            f"{label} statements are not allowed: the SQL runner is read-only. Write a SELECT "
            "(a WITH ... SELECT for intermediate steps); to export a result, use the download button.",
            kind,
        )
    if kind in ("ATTACH", "DETACH"):
        raise AttachForbiddenError(
            f"{label} is not allowed: the runner only reads the engagement database. To add data, add a "
            "source and rebuild the database.",
            kind,
        )
    if kind in ("LOAD", "EXTENSION"):
        raise ExtensionForbiddenError(
            "INSTALL and LOAD are not allowed: extensions cannot be installed or loaded from user SQL.", kind
        )
    if kind in ("SET", "PRAGMA", "VARIABLE_SET"):
        raise ConfigChangeForbiddenError(
            f"{label} statements are not allowed: settings are locked. To look at settings, "
            "SELECT * FROM duckdb_settings(); to list tables, SHOW TABLES or DESCRIBE <table>.",
            kind,
        )
    if kind == "CALL":
        raise ForbiddenStatementError(
            "CALL is not allowed; select from the table function instead: SELECT * FROM fn(...).", kind
        )
    if kind == "MULTI":
        raise ForbiddenStatementError(
            "This statement expands into several (e.g. PIVOT without IN): list the values, "
            "PIVOT t ON col IN ('a', 'b') USING count(*).",
            kind,
        )
    raise ForbiddenStatementError(f"{label} statements are not allowed; the SQL runner only runs SELECT.", kind)


_ERROR_HEAD = re.compile(r"^(?P<kind>[A-Za-z ]+?) Error: (?P<rest>.*)$", re.DOTALL)
_LINE_CONTEXT = re.compile(r"\n\nLINE (?P<line>\d+): (?P<text>.*)\n(?P<caret> *)\^+\s*$", re.DOTALL)


def _position(sql: str, byte_offset: int) -> SqlPosition:
    raw = sql.encode("utf-8")
    offset = len(raw[: max(0, min(byte_offset, len(raw)))].decode("utf-8", errors="ignore"))
    before = sql[:offset]
    line = before.count("\n") + 1
    start = before.rfind("\n") + 1
    end = sql.find("\n", offset)
    return SqlPosition(offset, line, offset - start + 1, sql[start : end if end >= 0 else len(sql)])


def _query_error(exc: duckdb.Error, sql: str) -> SqlQueryError:
    """DuckDB's error as a SqlQueryError with the position it points at, if any."""
    text = str(exc)
    head = _ERROR_HEAD.match(text)
    kind, rest = (head.group("kind"), head.group("rest")) if head else (type(exc).__name__, text)
    position = None
    detail = rest
    try:
        payload = json.loads(rest)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        detail = payload.get("exception_message", rest)
        kind = payload.get("exception_type", kind)
        if payload.get("position") is not None:
            position = _position(sql, int(payload["position"]))
    else:
        context = _LINE_CONTEXT.search(rest)
        if context:
            detail = rest[: context.start()]
            line = int(context.group("line"))
            shown = context.group("text")
            lines = sql.split("\n")
            line_text = lines[line - 1] if 0 < line <= len(lines) else shown
            column = None
            if not shown.startswith("..."):
                column = len(context.group("caret")) - len(f"LINE {line}: ") + 1
            position = SqlPosition(-1, line, column, line_text)
    if "disabled by configuration" in detail or isinstance(exc, duckdb.PermissionException):
        detail = (
            f"{detail}. User SQL cannot read files, URLs or other databases; query the engagement "
            "tables (SHOW TABLES) instead. To add data, add a source and rebuild the database."
        )
        return FileAccessForbiddenError(kind, detail, position)
    if isinstance(exc, duckdb.ParserException):
        return SqlSyntaxError(kind, detail, position)
    return SqlQueryError(kind, detail, position)


# ---------------------------------------------------------------------------------------
# running


def _to_frame(table: pa.Table) -> pd.DataFrame:
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_decimal(field.type):
            # HUGEINT (sum of integers) arrives as DECIMAL(38, 0): an integer when it fits.
            try:
                column = column.cast(pa.int64()) if field.type.scale == 0 else column.cast(pa.float64())
            except pa.ArrowInvalid:
                column = column.cast(pa.float64(), safe=False)
        columns.append(column)
    table = pa.Table.from_arrays(columns, names=table.column_names)
    return table.to_pandas(date_as_object=False)


def run_sql(
    sql: str,
    *,
    db_path: Path | str | None = None,
    connect: ConnectionFactory | None = None,
    sources: Sources | None = None,
    params: Mapping[str, object] | None = None,
    row_limit: int = 10_000,
    time_limit_s: float = 10.0,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> SqlResult:
    """Run one read-only statement of user SQL; see the module docstring for the guards.

    Exactly one of ``db_path`` (an engagement database from :func:`build_database`),
    ``connect`` (returns a new connection or cursor; it is locked down and closed here) or
    ``sources`` (built into a throw-away database first: small data only). ``params`` are bound
    as DuckDB prepared parameters (``$name`` in the SQL), never formatted into it.
    """
    if isinstance(row_limit, bool) or not isinstance(row_limit, int) or row_limit < 1:
        raise SandboxUsageError(f"row_limit must be a positive integer, got {row_limit!r}.")
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, int | float) or not time_limit_s > 0:
        raise SandboxUsageError(f"time_limit_s must be a positive number of seconds, got {time_limit_s!r}.")
    if params is not None and not isinstance(params, Mapping):
        raise SandboxUsageError("params must be a mapping of parameter name to value, e.g. {'start_date': date(...)}.")
    with _connection(db_path, connect, sources, threads, memory_limit) as con:
        kind = classify(con, sql)
        return _execute(con, sql, kind, params, row_limit, float(time_limit_s))


def _execute(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    kind: str,
    params: Mapping[str, object] | None,
    row_limit: int,
    time_limit_s: float,
) -> SqlResult:
    state = {"running": True, "timed_out": False}
    guard = threading.Lock()

    def stop() -> None:
        with guard:
            if state["running"]:
                state["timed_out"] = True
                con.interrupt()

    timer = threading.Timer(time_limit_s, stop)
    timer.daemon = True
    started = time.perf_counter()
    timer.start()
    batches: list[pa.RecordBatch] = []
    truncated = False
    try:
        con.execute(sql, dict(params) if params else None)
        with warnings.catch_warnings():
            # The copy it warns about is per batch, and we keep at most row_limit rows.
            warnings.simplefilter("ignore", UserWarning)
            reader = con.to_arrow_reader(min(row_limit + 1, 65_536))
        try:
            fetched = 0
            for batch in reader:
                batches.append(batch)
                fetched += batch.num_rows
                if fetched > row_limit:
                    truncated = True
                    break
        finally:
            reader.close()
        schema = reader.schema
    except duckdb.InterruptException:
        if state["timed_out"]:
            raise QueryTimeoutError(time_limit_s) from None
        raise
    except duckdb.Error as exc:
        if state["timed_out"]:
            raise QueryTimeoutError(time_limit_s) from None
        raise _query_error(exc, sql) from None
    finally:
        with guard:
            state["running"] = False
        timer.cancel()
    elapsed = time.perf_counter() - started
    table = pa.Table.from_batches(batches, schema=schema).slice(0, row_limit)
    return SqlResult(_to_frame(table), truncated, elapsed, row_limit, kind, sql)


@dataclass(frozen=True)
class TableInfo:
    name: str
    kind: str  # table | view
    rows: int | None  # estimated for tables, None for views
    columns: tuple[tuple[str, str], ...]  # (name, type)


def describe_database(db_path: Path | str) -> list[TableInfo]:
    """Tables and views of the engagement database, for a schema browser."""
    with _connection(db_path, None, None, None, None) as con:
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, dtype in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE NOT internal "
            "AND database_name = current_database() ORDER BY table_name, column_index"
        ).fetchall():
            columns.setdefault(table, []).append((column, dtype))
        out = [
            TableInfo(name, "table", int(rows), tuple(columns.get(name, ())))
            for name, rows in con.execute(
                "SELECT table_name, estimated_size FROM duckdb_tables() WHERE NOT internal "
                "AND database_name = current_database() ORDER BY table_name"
            ).fetchall()
        ]
        out += [
            TableInfo(name, "view", None, tuple(columns.get(name, ())))
            for (name,) in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal "
                "AND database_name = current_database() ORDER BY view_name"
            ).fetchall()
        ]
    return out

"""The engagement database build and the sandboxed SQL runner: every refusal, limits, errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from curation.engagement import Table
from curation.engagement.generate import generate
from curation.engagement.sandbox import (
    AttachForbiddenError,
    ConfigChangeForbiddenError,
    EmptySqlError,
    EngagementDatabaseError,
    ExtensionForbiddenError,
    FileAccessForbiddenError,
    ForbiddenStatementError,
    MultipleStatementsError,
    QueryTimeoutError,
    SandboxUsageError,
    SqlQueryError,
    SqlSyntaxError,
    WriteForbiddenError,
    build_database,
    describe_database,
    open_sandbox,
    run_sql,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("engagement")
    generate(1_500, folder / "raw", seed=2)
    return build_database([folder / "raw"], folder / "engagement.duckdb")


@pytest.fixture(scope="module")
def db(built) -> Path:
    return built.db_path


def test_build_writes_cleaned_tables_pre_aggregations_and_views(built, db: Path) -> None:
    assert db.is_file() and not Path(f"{db}.building").exists()
    for name in ("users", "albums", "events", "orders", "assignments", "album_funnel", "user_months",
                 "daily_engagement", "experiment_users", "quarantine_events", "cleaning_log", "fx_rates"):  # fmt: skip
        assert name in built.tables, name
    assert built.tables["events"] == built.cleaning.rows_out[Table.EVENTS]
    names = {t.name: t.kind for t in describe_database(db)}
    assert names["album_events"] == "view" and names["album_funnel"] == "table"
    assert not any(n.startswith("raw_") for n in names)  # views over the exports are dropped


def test_views_join_engagement_to_albums(db: Path) -> None:
    frame = run_sql("SELECT kind, title_generator, count(*) AS n FROM album_events GROUP BY ALL", db_path=db).frame
    assert frame["n"].sum() == run_sql("SELECT count(*) AS n FROM events", db_path=db).frame["n"][0]
    assert {"kind", "title_generator"} <= set(frame.columns)


def test_select_returns_a_frame(db: Path) -> None:
    result = run_sql("SELECT event_type, count(*) AS n FROM events GROUP BY 1 ORDER BY 1", db_path=db)
    assert list(result.frame.columns) == ["event_type", "n"]
    assert result.statement_type == "SELECT" and not result.truncated and result.elapsed >= 0
    assert str(result.frame["n"].dtype) == "int64"  # HUGEINT/DECIMAL arrive as plain numbers


def test_row_limit_truncates(db: Path) -> None:
    result = run_sql("SELECT * FROM events", db_path=db, row_limit=7)
    assert result.rows == 7 and result.truncated
    exact = run_sql("SELECT * FROM users LIMIT 7", db_path=db, row_limit=7)
    assert exact.rows == 7 and not exact.truncated


def test_time_limit_interrupts(db: Path) -> None:
    endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    with pytest.raises(QueryTimeoutError, match="ran longer than 0.3 s"):
        run_sql(endless, db_path=db, time_limit_s=0.3)


def test_params_are_bound_not_formatted(db: Path) -> None:
    result = run_sql(
        "SELECT count(*) AS n FROM users WHERE country = $country AND signup_at >= $since",
        db_path=db,
        params={"country": "DE' OR '1'='1", "since": date(2000, 1, 1)},
    )
    assert result.frame["n"][0] == 0


@pytest.mark.parametrize(
    ("sql", "error", "match"),
    [
        (
            "INSERT INTO users VALUES (1, 'DE', 'de', NULL, 'ios')",
            WriteForbiddenError,
            "INSERT statements are not allowed",
        ),
        ("UPDATE users SET country = 'XX'", WriteForbiddenError, "read-only"),
        ("DELETE FROM events", WriteForbiddenError, "read-only"),
        ("CREATE TABLE t AS SELECT 1", WriteForbiddenError, "CREATE"),
        ("CREATE TEMP TABLE t AS SELECT 1", WriteForbiddenError, "CREATE"),
        ("DROP TABLE users", WriteForbiddenError, "DROP"),
        ("ALTER TABLE users ADD COLUMN x INT", WriteForbiddenError, "ALTER"),
        ("COPY users TO '/tmp/users.csv'", WriteForbiddenError, "COPY"),
        ("EXPORT DATABASE '/tmp/everything'", WriteForbiddenError, "EXPORT"),
        ("CHECKPOINT", ForbiddenStatementError, "CALL is not allowed"),
        ("EXPLAIN ANALYZE DELETE FROM users", WriteForbiddenError, "DELETE"),
        ("ATTACH '/tmp/other.duckdb' AS other", AttachForbiddenError, "ATTACH is not allowed"),
        ("DETACH other", AttachForbiddenError, "DETACH is not allowed"),
        ("INSTALL httpfs", ExtensionForbiddenError, "INSTALL and LOAD"),
        ("LOAD httpfs", ExtensionForbiddenError, "INSTALL and LOAD"),
        ("SET enable_external_access = true", ConfigChangeForbiddenError, "settings are locked"),
        ("RESET threads", ConfigChangeForbiddenError, "settings are locked"),
        ("SET VARIABLE x = 1", ConfigChangeForbiddenError, "settings are locked"),
        ("PRAGMA threads = 1", ConfigChangeForbiddenError, "settings are locked"),
        ("PRAGMA table_info('users')", ConfigChangeForbiddenError, "DESCRIBE <table>"),
        ("CALL pragma_version()", ForbiddenStatementError, r"SELECT \* FROM fn"),
        ("UPDATE EXTENSIONS", ForbiddenStatementError, "only runs SELECT"),
        ("PIVOT users ON platform USING count(*)", ForbiddenStatementError, "list the values"),
        ("SELECT 1; SELECT 2", MultipleStatementsError, "2 statements"),
        ("", EmptySqlError, "empty"),
        ("  -- just a comment\n", EmptySqlError, "empty"),
    ],
)
def test_refusals(db: Path, sql: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        run_sql(sql, db_path=db)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM '/var/exports/users.parquet'",
        "SELECT * FROM '/etc/passwd.csv'",
        "SELECT * FROM 's3://bucket/data.parquet'",
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
        "SELECT * FROM duckdb_secrets()",
    ],
)
def test_no_file_or_network_access(db: Path, sql: str) -> None:
    with pytest.raises(FileAccessForbiddenError, match="User SQL cannot read files"):
        run_sql(sql, db_path=db)


def test_allowed_read_only_forms(db: Path) -> None:
    for sql in (
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
        "FROM users LIMIT 1",
        "DESCRIBE events",
        "SHOW TABLES",
        "SUMMARIZE SELECT * FROM orders",
        "EXPLAIN SELECT * FROM events",
        "PIVOT users ON platform IN ('ios', 'android') USING count(*)",
        "SELECT * FROM query('SELECT 42 AS answer')",
    ):
        run_sql(sql, db_path=db)


def test_syntax_error_shows_line_column_and_caret(db: Path) -> None:
    with pytest.raises(SqlSyntaxError) as info:
        run_sql("SELECT kind,\n       count(*\nFROM albums", db_path=db)
    error = info.value
    assert (error.position.line, error.position.column) == (3, 1)
    assert str(error).endswith("FROM albums\n^")


def test_binder_error_position_counts_characters_not_bytes(db: Path) -> None:
    with pytest.raises(SqlQueryError) as info:
        run_sql("SELECT 'été' AS season,\n  nope FROM users", db_path=db)
    error = info.value
    assert error.kind == "Binder"
    assert (error.position.line, error.position.column) == (2, 3)
    assert error.position.pointer() == "  nope FROM users\n  ^"
    assert "at line 2, column 3" in str(error)


def test_conversion_error_keeps_duckdbs_message(db: Path) -> None:
    with pytest.raises(SqlQueryError, match="Could not convert string 'abc'"):
        run_sql("SELECT 'abc'::INTEGER", db_path=db)


def test_views_over_files_do_not_read_once_external_access_is_off(tmp_path: Path) -> None:
    """Why the sandbox reads a built database: DuckDB 2.x blocks the files behind views too."""
    data = tmp_path / "t.parquet"
    duckdb.execute(f"COPY (SELECT 1 AS x) TO '{data}'")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW v AS SELECT * FROM '{data}'")
    con.execute("SET enable_external_access = false")
    with pytest.raises(duckdb.PermissionException):
        con.execute("SELECT * FROM v").fetchall()


def test_connection_factory_is_locked_down_and_closed(db: Path) -> None:
    opened: list[duckdb.DuckDBPyConnection] = []

    def factory() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        opened.append(con)
        return con

    assert run_sql("SELECT x FROM t", connect=factory).frame["x"][0] == 1
    with pytest.raises(WriteForbiddenError):
        run_sql("DROP TABLE t", connect=factory)
    with pytest.raises(FileAccessForbiddenError):
        run_sql(f"SELECT * FROM '{db}'", connect=factory)
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("SELECT 1")  # closed by run_sql


def test_cursor_of_a_cached_sandbox_connection(db: Path) -> None:
    shared = open_sandbox(db, threads=1)
    try:
        assert run_sql("SELECT count(*) AS n FROM users", connect=shared.cursor).frame["n"][0] > 0
        with pytest.raises(ConfigChangeForbiddenError):
            run_sql("SET threads = 2", connect=shared.cursor)
    finally:
        shared.close()


def test_unlocked_factory_with_external_access_is_refused() -> None:
    def factory() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("SET lock_configuration = true")
        return con

    with pytest.raises(EngagementDatabaseError, match="external access enabled"):
        run_sql("SELECT 1", connect=factory)


def test_sources_are_built_on_the_fly(built) -> None:
    raw = built.db_path.parent / "raw"
    result = run_sql("SELECT count(*) AS n FROM events", sources=[raw])
    assert result.frame["n"][0] == built.tables["events"]


def test_usage_errors(db: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxUsageError, match="exactly one of db_path, connect or sources"):
        run_sql("SELECT 1")
    with pytest.raises(SandboxUsageError, match="exactly one"):
        run_sql("SELECT 1", db_path=db, sources=["x"])
    with pytest.raises(SandboxUsageError, match="row_limit"):
        run_sql("SELECT 1", db_path=db, row_limit=0)
    with pytest.raises(SandboxUsageError, match="time_limit_s"):
        run_sql("SELECT 1", db_path=db, time_limit_s=-1)
    with pytest.raises(EngagementDatabaseError, match="Build it first"):
        run_sql("SELECT 1", db_path=tmp_path / "nothing.duckdb")


def test_rebuild_replaces_the_file_atomically(built, tmp_path: Path) -> None:
    target = tmp_path / "e.duckdb"
    raw = built.db_path.parent / "raw"
    build_database([raw], target)
    first = run_sql("SELECT count(*) AS n FROM events", db_path=target).frame["n"][0]
    build_database([raw], target)
    assert run_sql("SELECT count(*) AS n FROM events", db_path=target).frame["n"][0] == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.duckdb"]


def test_settings_model_for_the_lead(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from curation.engagement import EngagementSettings

    settings = EngagementSettings(sources=["s3://exports/events/*.parquet", "albums=var/curation.duckdb"])
    assert settings.database(tmp_path) == tmp_path / "engagement.duckdb"
    assert EngagementSettings(db_path=tmp_path / "e.duckdb").database(tmp_path) == tmp_path / "e.duckdb"
    with pytest.raises(ValidationError):
        EngagementSettings(row_limit=0)


def test_error_position_from_duckdbs_text_when_json_errors_are_off() -> None:
    def factory() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")  # locked before errors_as_json could be set
        return con

    with pytest.raises(SqlQueryError) as info:
        run_sql("SELECT 1 AS a,\n       nope", connect=factory)
    assert (info.value.position.line, info.value.position.column) == (2, 8)
    assert info.value.position.pointer().endswith("\n       ^")

"""The Engagement SQL page: AppTest on a small generated engagement database.

The database (300 simulated users) is generated once per module into tmp; each test points
CURATION_DATA_DIR at it. Everything runs through the real sandbox: no mocks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from curation.engagement.experiments import analyze_experiment
from curation.engagement.generate import generate
from curation.engagement.queries import ParamType, list_queries
from curation.engagement.sandbox import SqlSyntaxError, build_database, run_sql
from curation.settings import Settings
from dashboard import engagement_view as ev
from dashboard.data import db_version
from dashboard.navigation import PAGES

PAGE = next(p for p in PAGES if p.script == "engagement_sql.py")
TIMEOUT = 60  # seconds for one script run; CI machines can be slow
USERS = 300


@pytest.fixture(scope="module")
def engagement_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose engagement database holds 300 generated users (built once)."""
    data = tmp_path_factory.mktemp("engagement") / "data"
    generate(USERS, data / "engagement-raw", seed=0)
    build_database([data / "engagement-raw"], Settings(data_dir=data).engagement_database)
    return data


@pytest.fixture
def with_data(engagement_data: Path, isolate: Callable[[Path], Path]) -> Path:
    return isolate(engagement_data)


@pytest.fixture
def no_data(data_dir: Path) -> Path:
    return data_dir


def open_page(tab: ev.Tab | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGE.path), default_timeout=TIMEOUT)
    if tab is not None:
        at.session_state[ev.K_TAB] = tab.value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at: AppTest) -> list[str]:
    """The error boxes' text with Markdown escapes removed."""
    return [e.value.replace("\\", "") for e in at.error]


def run_sql_in_editor(at: AppTest, sql: str) -> AppTest:
    at.text_area(key=ev.K_SQL).input(sql)
    at.button(key=ev.K_RUN_SQL).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --------------------------------------------------------------------------- empty state


def test_empty_state_explains_and_offers_sample_data(no_data: Path) -> None:
    at = open_page()
    assert not at.error
    assert PAGE.title in at.title[0].value
    text = " ".join(m.value for m in at.markdown)
    assert "No engagement data yet" in text and "No database yet" in text
    assert "What you can do now" in text
    assert at.button(key=ev.K_GENERATE).label == "Generate sample engagement data"
    assert at.number_input(key=ev.K_SAMPLE_USERS).value == ev.SAMPLE_USERS
    commands = " ".join(c.value for c in at.code)
    assert "curation engagement generate" in commands and "CURATION_ENGAGEMENT__SOURCES" in commands
    assert f"No database yet at `{no_data / 'engagement.duckdb'}`" in text
    assert not at.tabs  # nothing to query yet


def test_generate_button_builds_the_database_and_opens_the_page(no_data: Path) -> None:
    at = open_page()
    at.number_input(key=ev.K_SAMPLE_USERS).set_value(USERS)
    at.button(key=ev.K_GENERATE).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, errors(at)
    assert (no_data / "engagement.duckdb").is_file()
    assert (no_data / "engagement-raw" / "events.parquet").is_file()
    assert "Built the engagement database" in at.success[0].value
    assert [t.label for t in at.tabs] == [t.value for t in ev.Tab]
    assert at.metric[0].label == "Users" and at.metric[0].value == f"{USERS:,}"


def test_configured_exports_are_built_with_one_click(
    engagement_data: Path, no_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURATION_ENGAGEMENT__SOURCES", json.dumps([str(engagement_data / "engagement-raw")]))
    at = open_page()
    assert "Exports are configured (1 source)" in " ".join(m.value for m in at.markdown)
    at.button(key=ev.K_BUILD_SOURCES).click().run()
    assert not at.exception and not at.error, errors(at)
    assert (no_data / "engagement.duckdb").is_file()
    assert at.metric[0].value == f"{USERS:,}"


def test_exports_that_cannot_be_read_are_a_clear_error(no_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATION_ENGAGEMENT__SOURCES", json.dumps([str(no_data / "nowhere")]))
    at = open_page()
    at.button(key=ev.K_BUILD_SOURCES).click().run()
    assert not at.exception
    (message,) = errors(at)
    assert "could not be built" in message and "nowhere" in message and "Prefix it with the table" in message
    assert not (no_data / "engagement.duckdb").exists()
    assert at.button(key=ev.K_GENERATE)  # still the empty state


# --------------------------------------------------------------------------- saved queries


def test_page_shows_the_data_and_the_saved_queries(with_data: Path) -> None:
    at = open_page()
    assert not at.error, errors(at)
    assert [m.label for m in at.metric] == ["Users", "Memories", "Events", "Photobook orders"]
    picker = at.selectbox(key=ev.K_QUERY)
    assert set(picker.options) == {q.title for q in list_queries()}
    assert picker.value == ev.QUERY_ORDER[0]  # open rate by kind first
    keys = {w.key for w in [*at.date_input, *at.text_input]}
    assert {ev.param_key("open_rate_by_kind", p) for p in ("start_date", "end_date", "country", "platform")} <= keys
    start = at.date_input(key=ev.param_key("open_rate_by_kind", "start_date"))
    assert start.value is None  # NULL: from the beginning
    assert at.button(key=ev.K_RUN_QUERY)


def test_run_a_saved_query_shows_table_chart_csv_and_time(with_data: Path) -> None:
    at = open_page()
    at.button(key=ev.K_RUN_QUERY).click().run()
    assert not at.exception and not at.error, errors(at)
    (table,) = at.dataframe
    frame = table.value
    assert {"kind", "open_rate", "open_rate_low", "open_rate_high"} <= set(frame.columns)
    assert ((frame.open_rate_low <= frame.open_rate) & (frame.open_rate <= frame.open_rate_high)).all()
    assert len(at.get("plotly_chart")) == 1
    (download,) = at.get("download_button")
    assert download.proto.label == "Download CSV"
    captions = " ".join(c.value for c in at.caption)
    assert f"{len(frame)} rows" in captions and " ms" in captions
    assert "row limit reached" not in captions

    # The result stays when something else reruns the page (no new run needed).
    at.run()
    assert len(at.dataframe) == 1


def test_every_saved_query_has_its_widgets_and_runs(with_data: Path) -> None:
    at = open_page()
    kinds = {
        ParamType.DATE: "date_input", ParamType.INTEGER: "number_input", ParamType.VARCHAR: "text_input",
        ParamType.DOUBLE: "number_input", ParamType.BOOLEAN: "checkbox", ParamType.TIMESTAMP: "datetime_input",
    }  # fmt: skip
    for query in list_queries():
        at.selectbox(key=ev.K_QUERY).set_value(query.name).run()
        for param in query.params:
            widget = at.get(kinds[param.type])
            assert any(w.key == ev.param_key(query.name, param.name) for w in widget), (query.name, param.name)
        at.button(key=ev.K_RUN_QUERY).click().run()
        assert not at.exception, query.name
        assert not at.error, (query.name, errors(at))
        assert at.dataframe or any("No rows" in i.value for i in at.info), query.name


def test_saved_query_parameters_are_bound(with_data: Path) -> None:
    at = open_page()
    at.selectbox(key=ev.K_QUERY).set_value("orders_by_country").run()
    at.number_input(key=ev.param_key("orders_by_country", "top")).set_value(3)
    at.button(key=ev.K_RUN_QUERY).click().run()
    assert not at.error, errors(at)
    assert 1 <= len(at.dataframe[0].value) <= 3

    at.selectbox(key=ev.K_QUERY).set_value("open_rate_by_kind").run()
    at.button(key=ev.K_RUN_QUERY).click().run()
    everyone = at.dataframe[0].value.albums_shown.sum()
    at.text_input(key=ev.param_key("open_rate_by_kind", "country")).input("de")
    at.button(key=ev.K_RUN_QUERY).click().run()
    assert not at.error, errors(at)
    assert 0 < at.dataframe[0].value.albums_shown.sum() < everyone


# --------------------------------------------------------------------------- SQL editor


def test_sql_editor_runs_a_query_and_browses_the_schema(with_data: Path) -> None:
    at = open_page(ev.Tab.SQL)
    assert at.text_area(key=ev.K_SQL).value == ev.EXAMPLE_SQL
    labels = " ".join(e.label for e in at.expander)
    for table in ("users", "albums", "events", "orders", "assignments", "album_funnel", "album_events"):
        assert f"`{table}`" in labels
    run_sql_in_editor(at, ev.EXAMPLE_SQL)
    assert not at.error, errors(at)
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["kind", "shown", "opened", "open_rate", "orders"]
    assert len(at.get("plotly_chart")) == 1


def test_delete_is_refused_with_a_clear_message(with_data: Path) -> None:
    db = Settings().engagement_database
    before = run_sql("SELECT count(*) AS n FROM users", db_path=db).frame.n[0]
    at = run_sql_in_editor(open_page(ev.Tab.SQL), "DELETE FROM users")
    (message,) = errors(at)
    assert "Read-only" in message and "DELETE statements are not allowed" in message
    assert not at.dataframe
    assert run_sql("SELECT count(*) AS n FROM users", db_path=db).frame.n[0] == before


def test_bad_sql_shows_duckdbs_position_with_a_caret(with_data: Path) -> None:
    at = run_sql_in_editor(open_page(ev.Tab.SQL), "SELECT country,\n       nope\nFROM users")
    (message,) = errors(at)
    assert "at line 2, column 8" in message
    assert 'Referenced column "nope" not found' in message
    assert "```sql\n       nope\n       ^\n```" in at.error[0].value  # the caret under the column

    at = run_sql_in_editor(at, "SELEC 1")
    (message,) = errors(at)
    assert "Syntax error at line 1, column 1" in message and "```sql\nSELEC 1\n^\n```" in at.error[0].value


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("ATTACH 'other.duckdb' AS other", "cannot be attached"),
        ("SELECT * FROM read_csv('/etc/passwd')", "Files and URLs cannot be read at line 1, column 15"),
        ("SELECT * FROM 's3://bucket/events.parquet'", "Files and URLs cannot be read"),
        ("INSTALL httpfs", "Extensions cannot be installed"),
        ("SET threads = 1", "Settings are locked"),
        ("CREATE TABLE t AS SELECT 1", "Read-only"),
        ("COPY users TO 'users.csv'", "Read-only"),
        ("SELECT 1; SELECT 2", "One statement at a time"),
        ("-- only a comment", "Nothing to run"),
    ],
    ids=["attach", "read_csv", "s3", "install", "set", "create", "copy", "two", "empty"],
)
def test_every_refusal_is_a_clear_error(with_data: Path, sql: str, says: str) -> None:
    at = run_sql_in_editor(open_page(ev.Tab.SQL), sql)
    (message,) = errors(at)
    assert says in message
    assert "Traceback" not in message


def test_row_limit_and_time_limit_come_from_the_settings(with_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATION_ENGAGEMENT__ROW_LIMIT", "5")
    at = run_sql_in_editor(open_page(ev.Tab.SQL), "SELECT event_id, event_type FROM events")
    assert not at.error, errors(at)
    assert len(at.dataframe[0].value) == 5
    assert "row limit reached" in " ".join(c.value for c in at.caption)
    assert "Row limit reached: showing the first 5 rows" in at.warning[0].value

    monkeypatch.setenv("CURATION_ENGAGEMENT__TIME_LIMIT_S", "0.2")
    at = run_sql_in_editor(open_page(ev.Tab.SQL), "SELECT sum(hash(i)) FROM range(20000000000) t(i)")
    (message,) = errors(at)
    assert "took too long" in message and "0.2 s" in message
    at.run()  # a rerun shows the outcome again, it does not run the slow query again
    assert "took too long" in errors(at)[0]


# --------------------------------------------------------------------------- experiments


def test_experiments_tab_shows_a_verdict_with_its_numbers(with_data: Path) -> None:
    at = open_page(ev.Tab.EXPERIMENTS)
    assert not at.error, errors(at)
    assert at.selectbox(key=ev.K_EXPERIMENT).value == "title_strategy"  # the A/B query's default
    assert at.selectbox(key=f"{ev.K_CONTROL}_title_strategy").value == "grounded"
    verdict = [*at.success, *at.info]
    assert len(verdict) == 1
    assert "p = " in verdict[0].value and "95 % interval" in verdict[0].value
    labels = [m.label for m in at.metric][-5:]
    assert labels == ["grounded (control)", "llm (treatment)", "Relative lift", "p-value", "Detectable effect"]
    assert len(at.get("plotly_chart")) == 1
    text = " ".join(m.value for m in at.markdown)
    assert "Sample ratio as intended" in text and "| Per variant | grounded | llm |" in text

    at.selectbox(key=ev.K_EXPERIMENT).set_value("cover_layout").run()
    assert not at.exception and not at.error, errors(at)
    assert at.selectbox(key=f"{ev.K_CONTROL}_cover_layout").value == "control"


def test_a_wrong_intended_split_is_flagged_as_sample_ratio_mismatch(with_data: Path) -> None:
    at = open_page(ev.Tab.EXPERIMENTS)
    at.number_input(key=f"{ev.K_CONTROL_SHARE}_title_strategy").set_value(90).run()
    assert not at.exception
    (message,) = errors(at)
    assert "Do not trust this result: sample ratio mismatch" in message
    assert "Sample ratio mismatch" in " ".join(m.value for m in at.markdown)


# --------------------------------------------------------------------------- the parts, without a page


def _ab(opened: tuple[int, int], users: tuple[int, int] = (5_000, 5_000)) -> pd.DataFrame:
    return pd.DataFrame(
        {"variant": ["a", "b"], "users": list(users), "albums_shown": [20_000, 20_000], "albums_opened": list(opened)}
    )


def test_plain_verdict_says_what_the_result_means() -> None:
    win = ev.plain_verdict(analyze_experiment(_ab((6_000, 6_600)), control="a"))
    assert win.tone is ev.Tone.SUCCESS and "b changes" in win.headline and "more often" in win.explanation
    null = ev.plain_verdict(analyze_experiment(_ab((6_000, 6_030)), control="a"))
    assert null.tone is ev.Tone.INFO and "could be chance" in null.explanation and "or more" in null.explanation
    srm = ev.plain_verdict(analyze_experiment(_ab((6_000, 6_600), users=(5_000, 5_600)), control="a"))
    assert srm.tone is ev.Tone.ERROR and "not split between the variants as intended" in srm.explanation


def test_problem_keeps_the_position_and_fences_the_caret(tmp_path: Path) -> None:
    db = tmp_path / "e.duckdb"
    generate(120, tmp_path / "raw", seed=3)
    build_database([tmp_path / "raw"], db)
    with pytest.raises(SqlSyntaxError) as caught:
        run_sql("SELECT 1 FROM users WHERE", db_path=db)
    p = ev.problem(caught.value)
    assert p.title.startswith("Syntax error at line 1, column")
    assert p.pointer is not None and p.pointer.endswith("^")
    assert f"```sql\n{p.pointer}\n```" in p.markdown()
    # A backtick in the SQL gets a longer fence, so the block cannot end early.
    assert "````sql" in ev.Problem("t", "m", "SELECT ```x```\n^").markdown()


def test_connections_reopen_when_the_database_is_rebuilt(tmp_path: Path) -> None:
    """DuckDB shares one instance per path in a process: without closing the old connection
    first, the rebuilt file would still read as the old one."""
    db = tmp_path / "engagement.duckdb"
    generate(150, tmp_path / "raw1", seed=1)
    build_database([tmp_path / "raw1"], db)
    pool = ev.SandboxConnections(db)
    try:
        first = db_version(db)
        count = "SELECT count(*) AS n FROM users"
        assert run_sql(count, connect=lambda: pool.cursor(first)).frame.n[0] <= 150
        assert {t.name for t in pool.schema(first)} >= {"users", "events", "album_funnel"}

        generate(400, tmp_path / "raw2", seed=2)
        build_database([tmp_path / "raw2"], db)
        second = db_version(db)
        assert second != first
        assert run_sql(count, connect=lambda: pool.cursor(second)).frame.n[0] > 300
    finally:
        pool.close()

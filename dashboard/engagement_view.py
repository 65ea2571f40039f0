"""The Engagement SQL page's parts: saved queries, the SQL editor, experiments, the empty state.

Everything runs through :mod:`curation.engagement.sandbox` (read-only, one statement, row and
time limits); this module caches and draws. Two caches:

- :class:`SandboxConnections` (one per database file, ``st.cache_resource``): the sandbox
  connection, handed out as a cursor per query. It is reopened when the file changes, and
  the old one is closed *first*: DuckDB shares one instance per path inside a process, so a
  second connection opened while the first is still open would read the old, replaced file.
- :func:`_run` (``st.cache_data``): results keyed by SQL + parameters + database version, so
  everyone running the same saved query shares one result until the database is rebuilt.

A run's outcome (result or error) is kept in the session, so widgets that rerun the script
(a download, a tab) show it again without running the SQL again; an error is not cached
across sessions, and a query that timed out is not retried on every rerun.

Heavy imports (DuckDB, pandas, plotly, scipy) happen inside the functions that need them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from curation.settings import Settings
from dashboard import data, ui

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from curation.engagement.experiments import ExperimentResult
    from curation.engagement.queries import ChartHint, NamedQuery, QueryParam
    from curation.engagement.sandbox import SqlResult, TableInfo

TITLE = "Engagement SQL"
ICON = ":material/terminal:"
PITCH = "Which Memories people open, share and print: saved questions, your own SQL, and A/B tests."

SAMPLE_USERS = 20_000
SAMPLE_SEED = 0

# Widget keys, stable for the tests.
K_TAB = "eng_tab"
K_QUERY = "eng_query"
K_QUERY_FORM = "eng_query_form"
K_RUN_QUERY = "eng_run_query"
K_QUERY_OUTCOME = "eng_query_outcome"
K_SQL = "eng_sql"
K_RUN_SQL = "eng_run_sql"
K_SQL_OUTCOME = "eng_sql_outcome"
K_EXPERIMENT = "eng_experiment"
K_CONTROL = "eng_control"
K_TREATMENT = "eng_treatment"
K_CONTROL_SHARE = "eng_control_share"
K_SAMPLE_USERS = "eng_sample_users"
K_GENERATE = "eng_generate"
K_BUILD_SOURCES = "eng_build_sources"
K_FLASH = "eng_flash"


def param_key(query: str, param: str) -> str:
    return f"eng_param_{query}_{param}"


class Tab(StrEnum):
    QUERIES = ":material/bookmarks: Saved queries"
    SQL = ":material/code: SQL editor"
    EXPERIMENTS = ":material/science: Experiments"


# The saved queries in the order a product person asks them; others follow by name.
QUERY_ORDER = (
    "open_rate_by_kind",
    "funnel",
    "themes_driving_orders",
    "orders_by_country",
    "weekly_engagement",
    "retention_by_cohort",
    "title_strategy_ab",
    "experiments",
)

EXAMPLE_SQL = """-- One read-only DuckDB statement; the tables are on the right.
SELECT kind,
       count(*) FILTER (WHERE first_shown_at IS NOT NULL)  AS shown,
       count(*) FILTER (WHERE first_opened_at IS NOT NULL) AS opened,
       opened / shown                                      AS open_rate,
       sum(orders)                                         AS orders
FROM album_funnel
GROUP BY kind
ORDER BY shown DESC"""

# How the schema browser groups the tables (unknown ones go under "Other").
TABLE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Cleaned data", ("users", "albums", "events", "orders", "assignments")),
    (
        "Pre-aggregated",
        (
            "album_funnel", "funnel_daily", "daily_engagement", "user_months", "cohort_activity",
            "theme_orders_daily", "experiment_users", "data_period",
        ),
    ),
    ("Views", ("album_events", "album_orders")),
    ("Data quality", ("quarantine_events", "quarantine_orders", "quarantine_assignments", "cleaning_log", "fx_rates")),
)  # fmt: skip


# ----------------------------------------------------------------------------- connections and cache


class SandboxConnections:
    """The sandbox connection to one engagement database file, reopened when the file changes.

    Thread-safe: every browser session shares it; each query gets its own cursor (closed by
    ``run_sql``). The schema is read when the file is opened: a file version never changes
    (``build_database`` replaces the file), so neither does its schema.
    """

    def __init__(self, path: Path, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.path = path
        self.threads = threads
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._version: data.DbVersion | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._schema: list[TableInfo] = []

    def _ensure(self, version: data.DbVersion) -> duckdb.DuckDBPyConnection:
        from curation.engagement.sandbox import describe_database, open_sandbox

        if self._con is not None and version == self._version:
            return self._con
        self._close_unlocked()
        # describe_database opens (and closes) its own connection with the default settings:
        # read the schema before ours is open, or DuckDB refuses the second configuration.
        schema = describe_database(self.path)
        self._con = open_sandbox(self.path, threads=self.threads, memory_limit=self.memory_limit)
        self._version, self._schema = version, schema
        return self._con

    def cursor(self, version: data.DbVersion) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._ensure(version).cursor()

    def schema(self, version: data.DbVersion) -> list[TableInfo]:
        with self._lock:
            self._ensure(version)
            return list(self._schema)

    def _close_unlocked(self) -> None:
        if self._con is not None:
            self._con.close()
        self._con, self._version, self._schema = None, None, []

    def close(self) -> None:
        with self._lock:
            self._close_unlocked()


@st.cache_resource(show_spinner=False, max_entries=8, on_release=lambda c: c.close())
def connections(db: str, threads: int | None, memory_limit: str | None) -> SandboxConnections:
    return SandboxConnections(Path(db), threads, memory_limit)


@st.cache_resource(show_spinner=False)
def _build_lock() -> threading.Lock:
    """One build of the engagement database at a time in this process."""
    return threading.Lock()


def _pool(settings: Settings) -> SandboxConnections:
    e = settings.engagement
    return connections(str(settings.engagement_database), e.threads, e.memory_limit)


@st.cache_data(show_spinner=False, max_entries=128)
def _run(
    db: str,
    version: data.DbVersion,
    threads: int | None,
    memory_limit: str | None,
    sql: str,
    params: tuple[tuple[str, Any], ...],
    row_limit: int,
    time_limit_s: float,
) -> SqlResult:
    from curation.engagement.sandbox import run_sql

    pool = connections(db, threads, memory_limit)
    return run_sql(
        sql,
        connect=lambda: pool.cursor(version),
        params=dict(params) if params else None,
        row_limit=row_limit,
        time_limit_s=time_limit_s,
    )


def run_query(settings: Settings, sql: str, params: Mapping[str, Any] | None = None) -> SqlResult:
    """Run read-only SQL on the engagement database, cached by SQL + parameters + file version."""
    db = settings.engagement_database
    e = settings.engagement
    return _run(
        str(db),
        data.db_version(db),
        e.threads,
        e.memory_limit,
        sql,
        tuple(sorted((params or {}).items())),
        e.row_limit,
        e.time_limit_s,
    )


def schema(settings: Settings) -> list[TableInfo]:
    db = settings.engagement_database
    return _pool(settings).schema(data.db_version(db))


def data_period(settings: Settings) -> tuple[date, date] | None:
    """First and last day of the data, for the date pickers' bounds; None when unknown."""
    from curation.engagement.sandbox import SandboxError

    try:
        frame = run_query(settings, "SELECT first_day, last_day FROM data_period").frame
    except SandboxError:
        return None
    if frame.empty or frame.isna().any(axis=None):
        return None
    first, last = frame.iloc[0]
    return _as_date(first), _as_date(last)


def _as_date(value: Any) -> date:  # noqa: ANN401 - a pandas Timestamp or a date
    return value.date() if hasattr(value, "date") else value


# ----------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """An error, ready to show: a short title, DuckDB's message, and where it points."""

    title: str
    message: str
    pointer: str | None = None  # the offending line with a caret under the position

    def markdown(self) -> str:
        message = "  \n".join(ui.md_escape(line) for line in self.message.splitlines())
        text = f"**{ui.md_escape(self.title)}**  \n{message}"
        if self.pointer:
            fence = "`" * max(3, _longest_backtick_run(self.pointer) + 1)
            text += f"\n\n{fence}sql\n{self.pointer}\n{fence}"
        return text


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return longest


def _problem_titles() -> tuple[tuple[type[Exception], str], ...]:
    """The first matching class gives the title; subclasses come before their bases."""
    from curation.engagement import experiments, queries, sandbox

    return (
        (sandbox.WriteForbiddenError, "Read-only: this statement would change data"),
        (sandbox.AttachForbiddenError, "Other databases cannot be attached"),
        (sandbox.ExtensionForbiddenError, "Extensions cannot be installed or loaded"),
        (sandbox.ConfigChangeForbiddenError, "Settings are locked"),
        (sandbox.ForbiddenStatementError, "Only queries run here"),
        (sandbox.MultipleStatementsError, "One statement at a time"),
        (sandbox.EmptySqlError, "Nothing to run"),
        (sandbox.FileAccessForbiddenError, "Files and URLs cannot be read"),
        (sandbox.SqlSyntaxError, "Syntax error"),
        (sandbox.SqlQueryError, "The query failed"),
        (sandbox.QueryTimeoutError, "The query took too long"),
        (sandbox.EngagementDatabaseError, "The engagement database cannot be opened"),
        (sandbox.SandboxError, "The query was refused"),
        (queries.QueryParameterError, "Check the parameters"),
        (queries.QueryError, "This saved query cannot be read"),
        (experiments.ExperimentDataError, "This experiment cannot be analysed"),
    )


def problem(exc: Exception) -> Problem:
    """An expected error as a :class:`Problem`; SQL errors keep DuckDB's position and caret."""
    from curation.engagement.sandbox import SqlQueryError

    title = next((t for cls, t in _problem_titles() if isinstance(exc, cls)), "Something went wrong")
    if isinstance(exc, SqlQueryError):
        pos = exc.position
        where = ""
        if pos is not None:
            where = f" at line {pos.line}" + (f", column {pos.column}" if pos.column else "")
        return Problem(f"{title}{where}", f"{exc.kind} error: {exc.detail}", pos.pointer() if pos else None)
    return Problem(title, str(exc))


def expected_errors() -> tuple[type[Exception], ...]:
    """What running user SQL or a saved query may raise for a reason the user can fix."""
    from curation.engagement.experiments import ExperimentDataError
    from curation.engagement.queries import QueryError
    from curation.engagement.sandbox import SandboxError

    return (SandboxError, QueryError, ExperimentDataError)


def show_problem(p: Problem) -> None:
    st.error(p.markdown(), icon=":material/error:")


# ----------------------------------------------------------------------------- outcomes of a run


@dataclass(frozen=True)
class Outcome:
    """What the last Run gave, kept in the session: a result or a problem."""

    label: str  # what ran, for the result's heading
    file_stem: str  # for the CSV download
    version: data.DbVersion
    result: SqlResult | None = None
    problem: Problem | None = None
    hint: ChartHint | None = None


def execute(
    settings: Settings,
    sql: str,
    params: Mapping[str, Any] | None,
    *,
    label: str,
    file_stem: str,
    hint: ChartHint | None = None,
) -> Outcome:
    version = data.db_version(settings.engagement_database)
    try:
        result = run_query(settings, sql, params)
    except expected_errors() as exc:
        return Outcome(label, file_stem, version, problem=problem(exc), hint=hint)
    return Outcome(label, file_stem, version, result=result, hint=hint)


def current_outcome(key: str, settings: Settings) -> Outcome | None:
    """The session's last outcome, unless the database has been rebuilt since."""
    outcome = st.session_state.get(key)
    if outcome is None or outcome.version != data.db_version(settings.engagement_database):
        return None
    return outcome


# ----------------------------------------------------------------------------- rendering a result


_RATE_WORDS = ("rate", "share", "retention", "ratio")


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Rates as percentages, euro amounts as euros; the rest as DuckDB returned it."""
    import pandas as pd

    config: dict[str, Any] = {}
    for name in frame.columns:
        column = frame[name]
        label = str(name)
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = column.dropna()
        lower = label.lower()
        if any(w in lower for w in _RATE_WORDS) and (values.empty or (values.min() >= 0 and values.max() <= 1)):
            config[label] = st.column_config.NumberColumn(label, format="percent")
        elif lower.endswith("_eur") or lower.startswith("revenue"):
            config[label] = st.column_config.NumberColumn(label, format="euro")
    return config


def render_outcome(outcome: Outcome | None, *, key: str, empty_hint: str) -> None:
    """A run's result (chart, table, CSV, time, row-limit note) or its error."""
    if outcome is None:
        st.caption(empty_hint)
        return
    if outcome.problem is not None:
        show_problem(outcome.problem)
        return
    result = outcome.result
    assert result is not None
    frame = result.frame

    head, download = st.columns([3, 1], vertical_alignment="bottom")
    with head:
        st.markdown(f"#### {ui.md_escape(outcome.label)}")
        st.caption(
            f":material/table_rows: {result.rows:,} {'row' if result.rows == 1 else 'rows'} · "
            f":material/timer: {_seconds(result.elapsed)}"
            + (" · :orange[:material/warning: row limit reached]" if result.truncated else "")
        )
    download.container(horizontal=True, horizontal_alignment="right").download_button(
        "Download CSV",
        frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{outcome.file_stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"{key}_csv",
    )
    if result.truncated:
        st.warning(
            f"Row limit reached: showing the first {result.row_limit:,} rows; there are more. "
            "Aggregate in SQL (GROUP BY), filter (WHERE) or add a LIMIT to see what you need; "
            "the CSV holds the rows shown.",
            icon=":material/warning:",
        )
    if frame.empty:
        st.info("No rows: nothing matches. Widen the dates or clear a filter.", icon=":material/filter_alt_off:")
        return

    from curation.engagement.charts import figure_for

    figure = figure_for(frame, hint=outcome.hint)
    if figure is not None:
        style_figure(figure, [str(c) for c in frame.columns])
        st.plotly_chart(figure, key=f"{key}_chart", config={"displaylogo": False})
    st.dataframe(frame, hide_index=True, column_config=column_config(frame), placeholder="NULL", key=f"{key}_table")


def style_figure(figure: Any, columns: Sequence[str], height: int = 380) -> None:  # noqa: ANN401 - a plotly Figure
    """The app's colours and readable axis titles ("open_rate" -> "Open rate") on a core figure."""
    colors = st.get_option("theme.chartCategoricalColors")
    figure.update_layout(height=height, margin={"t": 30, "l": 60, "r": 20, "b": 50})
    if colors:
        figure.update_layout(colorway=list(colors))
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        title = axis.title.text
        if title in columns:
            axis.title.text = _label(title)


def _seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


# ----------------------------------------------------------------------------- saved queries


def saved_queries() -> list[NamedQuery]:
    from curation.engagement.queries import list_queries

    order = {name: i for i, name in enumerate(QUERY_ORDER)}
    return sorted(list_queries(), key=lambda q: (order.get(q.name, len(order)), q.name))


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def param_widget(query: str, param: QueryParam, period: tuple[date, date] | None) -> Any:  # noqa: ANN401
    """One widget per parameter, by its declared type; returns the value it holds."""
    from curation.engagement.queries import ParamType

    key = param_key(query, param.name)
    label = _label(param.name)
    help_ = param.description or None
    if param.type is ParamType.DATE:
        low, high = period if period else (None, None)
        value = param.default
        if value is not None and low is not None:
            value = min(max(value, low), high)
        return st.date_input(
            label, value=value, min_value=low, max_value=high, key=key, help=help_, format="YYYY-MM-DD"
        )
    if param.type is ParamType.TIMESTAMP:
        return st.datetime_input(label, value=param.default, key=key, help=help_, format="YYYY-MM-DD")
    if param.type is ParamType.INTEGER:
        return st.number_input(label, value=param.default, step=1, key=key, help=help_, placeholder="none")
    if param.type is ParamType.DOUBLE:
        default = None if param.default is None else float(param.default)
        return st.number_input(label, value=default, key=key, help=help_, placeholder="none")
    if param.type is ParamType.BOOLEAN:
        return st.checkbox(label, value=bool(param.default), key=key, help=help_)
    return st.text_input(
        label,
        value=param.default or "",
        key=key,
        help=help_,
        placeholder="all" if param.default is None and not param.required else "",
    )


def widget_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Widget values as query parameters: a blank text field means the query's default."""
    return {name: value for name, value in raw.items() if not (isinstance(value, str) and not value.strip())}


def saved_queries_tab(settings: Settings) -> None:
    try:
        named_queries = saved_queries()
    except expected_errors() as exc:
        show_problem(problem(exc))
        return
    if not named_queries:
        st.info("No saved queries: add `.sql` files to `sql/queries/`.", icon=":material/bookmarks:")
        return
    by_name = {q.name: q for q in named_queries}
    picker, about = st.columns([2, 3], vertical_alignment="top")
    name = picker.selectbox(
        "Question",
        list(by_name),
        format_func=lambda n: by_name[n].title,
        key=K_QUERY,
        help="The saved queries in `sql/queries/`; each one's SQL is below.",
    )
    named = by_name[name]
    with about:
        st.markdown(f"**{ui.md_escape(named.title)}**  \n:gray[{ui.md_escape(named.description)}]")

    period = data_period(settings) if any(p.type.value == "DATE" for p in named.params) else None
    with st.form(K_QUERY_FORM, border=True, enter_to_submit=True):
        raw: dict[str, Any] = {}
        if named.params:
            per_row = 4
            for start in range(0, len(named.params), per_row):
                row = named.params[start : start + per_row]
                for column, param in zip(st.columns(per_row), row, strict=False):
                    with column:
                        raw[param.name] = param_widget(named.name, param, period)
        else:
            st.caption("This question has no parameters.")
        run = st.form_submit_button("Run query", type="primary", icon=":material/play_arrow:", key=K_RUN_QUERY)
    with st.expander(":material/code: SQL of this question"):
        st.code(named.sql.strip(), language="sql", wrap_lines=True)

    if run:
        values = widget_values(raw)
        with st.spinner("Running…"):
            try:
                bound = named.bind(values)
            except expected_errors() as exc:
                version = data.db_version(settings.engagement_database)
                outcome = Outcome(named.title, named.name, version, problem=problem(exc))
            else:
                outcome = execute(
                    settings, named.sql, bound, label=named.title, file_stem=named.name, hint=named.chart
                )
        st.session_state[K_QUERY_OUTCOME] = outcome
    render_outcome(
        current_outcome(K_QUERY_OUTCOME, settings),
        key="eng_query_result",
        empty_hint="Pick a question, set its filters and press **Run query**.",
    )


# ----------------------------------------------------------------------------- SQL editor


def _group(name: str) -> str:
    return next((group for group, names in TABLE_GROUPS if name in names), "Other")


def schema_browser(tables: Sequence[TableInfo]) -> None:
    st.markdown("**:material/schema: Tables**")
    with st.container(height=520, border=False):
        order = [g for g, _ in TABLE_GROUPS] + ["Other"]
        for group in order:
            known = dict(TABLE_GROUPS).get(group, ())
            members = sorted(
                (t for t in tables if _group(t.name) == group),
                key=lambda t: (known.index(t.name) if t.name in known else len(known), t.name),
            )
            if not members:
                continue
            st.caption(group)
            for table in members:
                size = "view" if table.rows is None else f"{table.rows:,} rows"
                with st.expander(f"`{table.name}` · {size}"):
                    st.markdown(
                        "\n".join(f"- `{column}` :gray[{ui.md_escape(dtype)}]" for column, dtype in table.columns)
                    )


_EDITOR_CSS = """<style>
.st-key-eng_sql textarea {
  font-family: "Source Code Pro", ui-monospace, SFMono-Regular, Menlo, monospace;
  font-size: 0.9rem; line-height: 1.45;
}
</style>"""


def sql_tab(settings: Settings) -> None:
    st.html(_EDITOR_CSS)  # a code font for the editor; styles only, takes no space
    editor, browser = st.columns([3, 1], gap="medium")
    with browser:
        try:
            schema_browser(schema(settings))
        except expected_errors() as exc:
            show_problem(problem(exc))
    with editor:
        sql = st.text_area(
            "SQL",
            value=EXAMPLE_SQL,
            height=260,
            key=K_SQL,
            help="DuckDB SQL, one read-only statement (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN). "
            "Writes, ATTACH, files, URLs and extensions are refused.",
        )
        limits = settings.engagement
        run_col, note_col = st.columns([1, 3], vertical_alignment="center")
        run = run_col.button("Run SQL", type="primary", icon=":material/play_arrow:", key=K_RUN_SQL, width="stretch")
        note_col.caption(
            f":material/lock: Read-only · at most {limits.row_limit:,} rows · stopped after {limits.time_limit_s:g} s"
        )
        if run:
            with st.spinner("Running…"):
                st.session_state[K_SQL_OUTCOME] = execute(
                    settings, sql or "", None, label="Result", file_stem="engagement-query"
                )
        render_outcome(
            current_outcome(K_SQL_OUTCOME, settings),
            key="eng_sql_result",
            empty_hint="Write a query and press **Run SQL**. Try `SHOW TABLES` or `SUMMARIZE events`.",
        )


# ----------------------------------------------------------------------------- experiments


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[str, ...]
    users: int


def experiments(settings: Settings) -> list[Experiment]:
    from curation.engagement.queries import get_query

    named = get_query("experiments")
    frame = run_query(settings, named.sql, named.bind()).frame
    out = []
    for name, part in frame.groupby("experiment", sort=True):
        out.append(Experiment(str(name), tuple(sorted(map(str, part["variant"]))), int(part["users"].sum())))
    return out


def default_experiment() -> str | None:
    """The experiment the A/B query analyses by default (its ``experiment`` parameter)."""
    from curation.engagement.queries import get_query

    return get_query("title_strategy_ab").param("experiment").default


def default_control(variants: Sequence[str]) -> str:
    """'control' (or 'baseline') when there is one, else the first by name (grounded before llm)."""
    for name in ("control", "baseline"):
        if name in variants:
            return name
    return sorted(variants)[0]


def analyze(
    settings: Settings, experiment: str, control: str, treatment: str, control_share: float
) -> ExperimentResult:
    from curation.engagement.experiments import analyze_experiment
    from curation.engagement.queries import get_query

    named = get_query("title_strategy_ab")
    frame = run_query(settings, named.sql, named.bind({"experiment": experiment})).frame
    variants = [str(v) for v in frame["variant"]]
    split = None
    if not math.isclose(control_share, 0.5) and control in variants:
        others = [v for v in variants if v != control]
        split = {control: control_share, **{v: (1 - control_share) / len(others) for v in others}}
    return analyze_experiment(frame, control=control, treatment=treatment, expected_split=split, experiment=experiment)


class Tone(StrEnum):
    SUCCESS = "success"
    INFO = "info"
    ERROR = "error"


@dataclass(frozen=True)
class PlainVerdict:
    tone: Tone
    headline: str  # the analysis's own verdict
    explanation: str  # what it means, for someone who does not read p-values


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def _pp(value: float) -> str:
    return f"{value * 100:+.1f} pp"


def plain_verdict(result: ExperimentResult) -> PlainVerdict:
    c, t, test, srm = result.control, result.treatment, result.test, result.srm
    if srm.mismatch:
        counts = ", ".join(f"{n} {srm.observed[n]:,} (expected {srm.expected[n]:,.0f})" for n in srm.observed)
        return PlainVerdict(
            Tone.ERROR,
            result.verdict(),
            f"Users were not split between the variants as intended: {counts}. When the split is off, "
            "something in the assignment or the logging is broken, and the rates below cannot be compared. "
            "Fix that first (or set the intended split if it was not even).",
        )
    rates = (
        f"Shown Memories were opened {t.rate:.1%} of the time with **{t.name}** and {c.rate:.1%} with "
        f"**{c.name}** ({_pp(test.diff)}, 95 % interval {_pp(test.diff_low)} to {_pp(test.diff_high)})."
    )
    if result.significant:
        direction = "more" if test.diff > 0 else "less"
        return PlainVerdict(
            Tone.SUCCESS,
            result.verdict(),
            f"{rates} {t.name} Memories are opened {abs(test.relative_lift):.1%} {direction} often, and a "
            f"difference this large would be very unlikely if the two variants were the same "
            f"(p = {test.p_value:.2g}).",
        )
    return PlainVerdict(
        Tone.INFO,
        result.verdict(),
        f"{rates} The interval includes zero, so this could be chance (p = {test.p_value:.2g}). With this many "
        f"users the test reliably finds a change of {result.mde_rel:.1%} or more; to see smaller effects, "
        "run it longer or on more users.",
    )


def variant_table(result: ExperimentResult) -> str:
    """Both variants side by side (a column each), as a Markdown table."""
    variants = (result.control, result.treatment)
    rows = [
        ("Users", [f"{v.units:,}" for v in variants]),
        ("Memories shown", [f"{v.trials:,}" for v in variants]),
        ("Opened", [f"{v.successes:,}" for v in variants]),
        ("Open rate", [f"**{v.rate:.2%}**" for v in variants]),
        ("95 % interval", [f"{v.ci_low:.1%} – {v.ci_high:.1%}" for v in variants]),
        ("Design effect", [f"{v.design_effect:.2f}" for v in variants]),
    ]
    names = [ui.md_escape(v.name) for v in variants]
    lines = [f"| Per variant | {' | '.join(names)} |", "| :-- | --: | --: |"]
    lines += [f"| {label} | {' | '.join(values)} |" for label, values in rows]
    return "\n".join(lines)


def experiments_tab(settings: Settings) -> None:
    try:
        found = experiments(settings)
        first = default_experiment()
    except expected_errors() as exc:
        show_problem(problem(exc))
        return
    if not found:
        st.info("No experiments in the assignments table.", icon=":material/science:")
        return
    by_name = {e.name: e for e in sorted(found, key=lambda e: (e.name != first, e.name))}
    pick, control_col, treatment_col, split_col = st.columns([2, 1, 1, 1])
    name = pick.selectbox(
        "Experiment",
        list(by_name),
        format_func=lambda n: f"{n} ({' vs '.join(by_name[n].variants)}, {by_name[n].users:,} users)",
        key=K_EXPERIMENT,
    )
    exp = by_name[name]
    if len(exp.variants) < 2:
        st.info(f"{name} has only one variant ({exp.variants[0]}): nothing to compare.", icon=":material/science:")
        return
    control = control_col.selectbox(
        "Control",
        exp.variants,
        index=exp.variants.index(default_control(exp.variants)),
        key=f"{K_CONTROL}_{name}",
        help="The variant users had before: the baseline the other is compared with.",
    )
    others = [v for v in exp.variants if v != control]
    treatment = treatment_col.selectbox("Treatment", others, key=f"{K_TREATMENT}_{name}_{control}")
    share = split_col.number_input(
        "Intended control share (%)",
        min_value=1,
        max_value=99,
        value=50,
        step=1,
        key=f"{K_CONTROL_SHARE}_{name}",
        help="The share of users meant to get the control, for the sample-ratio check.",
    )
    try:
        result = analyze(settings, name, control, treatment, share / 100)
    except expected_errors() as exc:
        show_problem(problem(exc))
        return
    experiment_view(result)


def experiment_view(result: ExperimentResult) -> None:
    verdict = plain_verdict(result)
    box = {Tone.SUCCESS: st.success, Tone.INFO: st.info, Tone.ERROR: st.error}[verdict.tone]
    icon = {Tone.SUCCESS: ":material/check_circle:", Tone.INFO: ":material/info:", Tone.ERROR: ":material/error:"}
    box(f"**{ui.md_escape(verdict.headline)}**\n\n{verdict.explanation}", icon=icon[verdict.tone])

    c, t, test, srm = result.control, result.treatment, result.test, result.srm
    cards = st.columns(5)
    cards[0].metric(
        f"{c.name} (control)",
        f"{c.rate:.1%}",
        help=f"Open rate of the control. 95 % interval {c.ci_low:.1%} to {c.ci_high:.1%}; "
        f"{c.successes:,} of {c.trials:,} Memories shown to {c.units:,} users were opened.",
        border=True,
        height="stretch",
    )
    cards[1].metric(
        f"{t.name} (treatment)",
        f"{t.rate:.1%}",
        delta=_pp(test.diff),
        delta_color="normal" if result.significant else "off",
        help=f"Open rate of the treatment. 95 % interval {t.ci_low:.1%} to {t.ci_high:.1%}; "
        f"{t.successes:,} of {t.trials:,} Memories shown to {t.units:,} users were opened.",
        border=True,
        height="stretch",
    )
    cards[2].metric(
        "Relative lift",
        f"{test.relative_lift:+.1%}",
        help=f"Difference {_pp(test.diff)}, 95 % interval {_pp(test.diff_low)} to {_pp(test.diff_high)} "
        f"({test.method}).",
        border=True,
        height="stretch",
    )
    cards[3].metric(
        "p-value",
        _p(test.p_value),
        delta="significant" if result.significant else "not significant",
        delta_color="normal" if result.significant else "off",
        delta_arrow="off",
        help=f"p = {test.p_value:.3g}: two-sided, {test.method}; significant below {result.alpha:g}. "
        f"Treating every album as independent would give p = {result.naive_test.p_value:.2g}.",
        border=True,
        height="stretch",
    )
    cards[4].metric(
        "Detectable effect",
        "—" if math.isnan(result.mde_rel) else f"{result.mde_rel:.1%}",
        help=f"The smallest relative change ({result.mde_abs * 100:.1f} pp) this sample finds with "
        f"{result.power:.0%} power at alpha {result.alpha:g}.",
        border=True,
        height="stretch",
    )

    figure_col, detail_col = st.columns([3, 2], gap="medium")
    with figure_col:
        from curation.engagement.charts import experiment_figure

        figure = experiment_figure(result)
        # The verdict, difference, SRM and MDE written under the bars are in the cards above
        # (and overflow a half-width chart): drop them here.
        figure.update_layout(annotations=[], height=400, margin={"t": 50, "b": 60, "l": 60, "r": 20})
        primary = st.get_option("theme.primaryColor") or "#b5542c"
        winner = primary if result.significant and not result.srm.mismatch else "#8c9bab"
        figure.update_traces(insidetextanchor="middle", textfont={"size": 16}, marker_color=["#8c9bab", winner])
        st.plotly_chart(figure, key="eng_experiment_chart", config={"displaylogo": False})
    with detail_col:
        st.markdown(variant_table(result))
        srm_icon = ":red[:material/error:]" if srm.mismatch else ":green[:material/check_circle:]"
        split = " · ".join(f"{n} {srm.observed[n]:,} (expected {srm.expected[n]:,.0f})" for n in srm.observed)
        st.markdown(
            f"{srm_icon} **Sample ratio {'mismatch' if srm.mismatch else 'as intended'}** "
            f"(chi² p = {srm.p_value:.2g}, flagged below {srm.threshold:g})  \n:gray[{split}]"
        )
        st.markdown(
            f":material/functions: **Test**: {test.method}, z = {test.z:.2f}.  \n"
            ":gray[Users are randomised but Memories are counted, so one user's Memories are not independent; "
            "the delta method allows for that (the plain two-proportion test would be too confident).]"
        )


# ----------------------------------------------------------------------------- data strip


def data_summary(settings: Settings, tables: Sequence[TableInfo]) -> None:
    rows = {t.name: t.rows for t in tables}
    ui.metric_row(
        [
            ui.Metric("Users", rows.get("users"), "People in the cleaned users table."),
            ui.Metric("Memories", rows.get("albums"), "Albums the engine made for them."),
            ui.Metric("Events", rows.get("events"), "Impressions, opens, shares and edits after cleaning."),
            ui.Metric("Photobook orders", rows.get("orders"), "Orders after cleaning."),
        ]
    )
    period = data_period(settings)
    when = f"{period[0]:%-d %b %Y} – {period[1]:%-d %b %Y}" if period else "period unknown"
    st.caption(f"Data from {when} · `{settings.engagement_database}`")


# ----------------------------------------------------------------------------- the page


def engagement_page(settings: Settings) -> None:
    """The whole page on an existing engagement database: data strip, then the three tabs."""
    flash = st.session_state.pop(K_FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    try:
        tables = schema(settings)
    except expected_errors() as exc:
        show_problem(problem(exc))
        st.button("Try again", key="eng_retry", icon=":material/refresh:")
        return
    data_summary(settings, tables)
    queries_tab, editor_tab, experiments_tab_ = st.tabs(list(Tab), key=K_TAB, on_change="rerun")
    if queries_tab.open:
        with queries_tab:
            saved_queries_tab(settings)
    if editor_tab.open:
        with editor_tab:
            sql_tab(settings)
    if experiments_tab_.open:
        with experiments_tab_:
            experiments_tab(settings)


# ----------------------------------------------------------------------------- empty state


def sample_commands(settings: Settings) -> str:
    return (
        f"# {SAMPLE_USERS:,} simulated users, built into the database above\n"
        f".venv/bin/curation engagement generate --users {SAMPLE_USERS}\n"
        "# then ask it questions from the terminal as well\n"
        '.venv/bin/curation sql "SELECT kind, count(*) AS memories FROM albums GROUP BY ALL"\n'
        ".venv/bin/curation sql --query funnel --param country=DE"
    )


def exports_commands(settings: Settings) -> str:
    return (
        "# where the exports are: folders, Parquet/CSV files or globs, s3:// URIs, table=location\n"
        "export CURATION_ENGAGEMENT__SOURCES='[\"var/exports\", \"albums=var/curation.duckdb\"]'\n"
        ".venv/bin/python -c \"from curation.settings import Settings; "
        "from curation.engagement.sandbox import build_database; s = Settings(); "
        'print(build_database(s.engagement.sources, s.engagement_database).summary())"'
    )


def empty_state(settings: Settings) -> None:
    db = settings.engagement_database
    sources = settings.engagement.sources
    card = ui.empty_state(
        ":material/insights:",
        "No engagement data yet",
        f"No database yet at `{db}`. It holds what people do with their Memories (impressions, opens, "
        "shares, edits, photobook orders) and the A/B assignments, cleaned and ready for SQL.\n\n"
        + (
            f"Exports are configured ({len(sources)} {'source' if len(sources) == 1 else 'sources'}): "
            "build the database from them, or try the page on generated data."
            if sources
            else "Generate realistic sample data to try the page: a year of users, Memories, events and "
            "orders, with the usual mess (duplicates, wrong clocks, unknown albums) cleaned away."
        ),
    )
    with card:
        if sources:
            st.code("\n".join(sources), language="text")
            if st.button("Build from the exports", type="primary", icon=":material/database:", key=K_BUILD_SOURCES):
                _build(settings, sample_users=None)
        users_col, button_col = st.columns([1, 2], vertical_alignment="bottom")
        users = users_col.number_input(
            "Simulated users", min_value=100, max_value=500_000, value=SAMPLE_USERS, step=1_000, key=K_SAMPLE_USERS,
            help="About 20 events each; 20,000 users take well under a minute.",
        )  # fmt: skip
        if button_col.button(
            "Generate sample engagement data",
            type="secondary" if sources else "primary",
            icon=":material/auto_awesome:",
            key=K_GENERATE,
        ):
            _build(settings, sample_users=int(users))
    with st.container(border=True):
        st.markdown("#### :material/directions_run: What you can do now")
        st.markdown("**Try it on sample data**: press the button above, or from a terminal:")
        st.code(sample_commands(settings), language="bash", wrap_lines=True)
        st.markdown(
            "**Use your own exports**: list them in `CURATION_ENGAGEMENT__SOURCES` (see `docs/engagement.md`) "
            "and build the database, here (a **Build** button appears) or from a terminal:"
        )
        st.code(exports_commands(settings), language="bash", wrap_lines=True)


def _build(settings: Settings, *, sample_users: int | None) -> None:
    """Generate sample exports (when ``sample_users``) and build the database; rerun on success."""
    import duckdb

    from curation.engagement.clean import CleaningError, SourceError
    from curation.engagement.generate import GenerateError, generate
    from curation.engagement.sandbox import SandboxError, build_database

    lock = _build_lock()
    if not lock.acquire(blocking=False):
        ui.show_error("The engagement database is being built already (another tab?): wait a moment and reload.")
        return
    db = settings.engagement_database
    raw = settings.data_dir / "engagement-raw"
    try:
        with st.status("Building the engagement database…", expanded=True) as status:
            try:
                if sample_users is not None:
                    st.write(f":material/auto_awesome: Simulating {sample_users:,} users over a year…")
                    report = generate(sample_users, raw, seed=SAMPLE_SEED)
                    st.write(f":material/check: {ui.md_escape(report.summary())}")
                    sources: Sequence[str | Path] = [raw]
                else:
                    sources = settings.engagement.sources
                st.write(":material/cleaning_services: Cleaning and pre-aggregating…")
                built = build_database(sources, db, threads=settings.engagement.threads)
            except (GenerateError, SourceError, CleaningError, SandboxError, OSError, duckdb.Error) as exc:
                status.update(label="Building the engagement database failed", state="error")
                show_problem(Problem("The engagement database could not be built", str(exc)))
                return
            rows = built.tables
            status.update(label="Engagement database ready", state="complete")
    finally:
        lock.release()
    st.session_state[K_FLASH] = (
        f"Built the engagement database in {built.seconds:.1f} s: {rows.get('users', 0):,} users, "
        f"{rows.get('albums', 0):,} Memories, {rows.get('events', 0):,} events, {rows.get('orders', 0):,} orders."
    )
    st.rerun()

"""Named queries: header parsing, typed parameters, and every shipped query on generated data."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from curation.engagement.generate import generate
from curation.engagement.queries import (
    QUERIES_DIR,
    ChartHint,
    InvalidParameterError,
    MissingParameterError,
    ParamType,
    QueryDefinitionError,
    UnknownParameterError,
    UnknownQueryError,
    convert,
    get_query,
    list_queries,
    parse_query,
    run_named_query,
)
from curation.engagement.sandbox import build_database

EXAMPLE = """\
-- title: Orders by country
-- description: Orders per country,
--   with revenue in EUR.
-- param: start_date DATE = 2025-01-01  first day included
-- param: country VARCHAR = NULL  ISO code
-- param: top INTEGER = 10
-- param: label VARCHAR = 'a b'
-- param: experiment VARCHAR  required
-- chart: bar x=country y=orders
SELECT $start_date, $country, $top, $label, $experiment, '$not_a_param' -- $nor_this
"""

REQUIRED_QUERIES = {
    "open_rate_by_kind",
    "funnel",
    "title_strategy_ab",
    "retention_by_cohort",
    "orders_by_country",
    "themes_driving_orders",
}


def test_header_is_parsed() -> None:
    q = parse_query(EXAMPLE, "example")
    assert q.title == "Orders by country"
    assert q.description == "Orders per country, with revenue in EUR."
    assert [(p.name, p.type, p.default, p.required) for p in q.params] == [
        ("start_date", ParamType.DATE, date(2025, 1, 1), False),
        ("country", ParamType.VARCHAR, None, False),
        ("top", ParamType.INTEGER, 10, False),
        ("label", ParamType.VARCHAR, "a b", False),
        ("experiment", ParamType.VARCHAR, None, True),
    ]
    assert q.param("start_date").description == "first day included"
    assert q.chart == ChartHint("bar", {"x": "country", "y": "orders"})


def test_bind_converts_strings_and_fills_defaults() -> None:
    q = parse_query(EXAMPLE, "example")
    bound = q.bind({"start_date": "2025-06-30", "top": "5", "experiment": "title_strategy", "country": "NULL"})
    assert bound == {
        "start_date": date(2025, 6, 30),
        "country": None,
        "top": 5,
        "label": "a b",
        "experiment": "title_strategy",
    }


def test_bind_errors_say_what_is_expected() -> None:
    q = parse_query(EXAMPLE, "example")
    with pytest.raises(MissingParameterError, match=r"needs experiment \(VARCHAR"):
        q.bind({})
    with pytest.raises(UnknownParameterError, match="its parameters are: start_date, country, top, label, experiment"):
        q.bind({"experiment": "x", "limit": 3})
    with pytest.raises(InvalidParameterError, match="start_date expects DATE like 2025-12-31, got 'yesterday'"):
        q.bind({"experiment": "x", "start_date": "yesterday"})
    with pytest.raises(InvalidParameterError, match="top expects INTEGER"):
        q.bind({"experiment": "x", "top": 2.5})


@pytest.mark.parametrize(
    ("value", "ptype", "expected"),
    [
        ("2025-02-03", ParamType.DATE, date(2025, 2, 3)),
        (datetime(2025, 2, 3, 4, 5), ParamType.DATE, date(2025, 2, 3)),
        ("2025-02-03T04:05:06", ParamType.TIMESTAMP, datetime(2025, 2, 3, 4, 5, 6)),
        (date(2025, 2, 3), ParamType.TIMESTAMP, datetime(2025, 2, 3)),
        (" 42 ", ParamType.INTEGER, 42),
        (7.0, ParamType.INTEGER, 7),
        ("0.25", ParamType.DOUBLE, 0.25),
        ("yes", ParamType.BOOLEAN, True),
        ("0", ParamType.BOOLEAN, False),
        ("DE", ParamType.VARCHAR, "DE"),
        (None, ParamType.INTEGER, None),
    ],
)
def test_convert(value: object, ptype: ParamType, expected: object) -> None:
    assert convert(value, ptype) == expected


@pytest.mark.parametrize(
    ("value", "ptype"),
    [("2025-13-01", ParamType.DATE), (True, ParamType.INTEGER), ("maybe", ParamType.BOOLEAN), (3, ParamType.VARCHAR)],
)
def test_convert_refuses(value: object, ptype: ParamType) -> None:
    with pytest.raises(InvalidParameterError, match=f"expects {ptype.value}"):
        convert(value, ptype)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("-- description: no title\nSELECT 1", "exactly one '-- title: ...'"),
        ("-- title: t\nSELECT $x", r"uses \$x but the header declares no '-- param: x TYPE"),
        ("-- title: t\n-- param: x INTEGER = 1\nSELECT 1", "declared but not used"),
        ("-- title: t\n-- param: x BLOB\nSELECT $x", "use one of DATE, TIMESTAMP"),
        ("-- title: t\n-- param: x DATE = soon\nSELECT $x", "bad default"),
        ("-- title: t\n-- param: 1x INTEGER\nSELECT 1", "cannot read '-- param: 1x INTEGER'"),
        ("-- title: t\n-- chart: pie x=a\nSELECT 1", "must start with one of bar"),
        ("-- title: t\n-- colour: red\nSELECT 1", "unknown header key"),
    ],
)
def test_definition_errors(text: str, match: str) -> None:
    with pytest.raises(QueryDefinitionError, match=match):
        parse_query(text, "broken")


def test_unknown_query_lists_the_known_ones() -> None:
    with pytest.raises(UnknownQueryError, match="The named queries are: .*funnel.*open_rate_by_kind"):
        get_query("no_such_query")
    with pytest.raises(UnknownQueryError):
        get_query("../schema")


def test_shipped_queries_parse_and_cover_the_issue() -> None:
    queries = {q.name: q for q in list_queries()}
    assert REQUIRED_QUERIES <= set(queries)
    for q in queries.values():
        assert q.title and q.description, q.name
        assert q.chart is not None, q.name
        assert all(not p.required for p in q.params), f"{q.name}: every shipped query runs with defaults"
    assert Path(queries["funnel"].path).parent == QUERIES_DIR


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("queries")
    generate(3_000, folder / "raw", seed=8)
    return build_database([folder / "raw"], folder / "engagement.duckdb").db_path


@pytest.mark.parametrize("name", sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
def test_every_query_runs_with_defaults(db: Path, name: str) -> None:
    result = run_named_query(name, db_path=db)
    assert result.rows > 0
    q = get_query(name)
    for key in ("x", "y", "z", "error_low", "error_high"):
        for column in q.chart.columns(key):
            assert column in result.frame.columns, f"{name}: chart column {column} missing"


def test_funnel_is_monotone_and_filters_apply(db: Path) -> None:
    funnel = run_named_query("funnel", db_path=db).frame
    assert list(funnel["step"]) == ["shown", "opened", "edited", "ordered"]
    assert list(funnel["albums"]) == sorted(funnel["albums"], reverse=True)
    trips = run_named_query("funnel", {"kind": "TRIP", "start_date": "2025-06-01"}, db_path=db).frame
    assert 0 < trips["albums"][0] < funnel["albums"][0]


def test_open_rate_interval_contains_the_rate(db: Path) -> None:
    frame = run_named_query("open_rate_by_kind", {"platform": "ios"}, db_path=db).frame
    assert ((frame.open_rate_low < frame.open_rate) & (frame.open_rate < frame.open_rate_high)).all()
    assert set(frame["kind"]) >= {"trip", "on_this_day"}


def test_orders_by_country_top(db: Path) -> None:
    frame = run_named_query("orders_by_country", {"top": 3}, db_path=db).frame
    assert len(frame) == 3 and frame["revenue_eur"].is_monotonic_decreasing


def test_retention_starts_at_month_zero(db: Path) -> None:
    frame = run_named_query("retention_by_cohort", {"max_months": 3}, db_path=db).frame
    assert frame["months_since_signup"].between(0, 3).all()
    assert (frame["retention"] <= 1).all()
    assert frame["cohort"].min() >= datetime(2025, 1, 1)


def test_a_value_cannot_inject_sql(db: Path) -> None:
    frame = run_named_query("orders_by_country", {"start_date": "2025-01-01"}, db_path=db).frame
    with pytest.raises(InvalidParameterError):
        run_named_query("orders_by_country", {"start_date": "2025-01-01'; DROP TABLE orders; --"}, db_path=db)
    injected = run_named_query("funnel", {"country": "DE' OR 1=1 --"}, db_path=db).frame
    assert injected["albums"][0] == 0
    assert len(run_named_query("orders_by_country", db_path=db).frame) == len(frame)

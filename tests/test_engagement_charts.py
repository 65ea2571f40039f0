"""Chart choice for result frames and the experiment figure; the core stays UI-free."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from curation.engagement.charts import choose_chart, experiment_figure, figure_for
from curation.engagement.experiments import analyze_experiment
from curation.engagement.queries import ChartHint
from curation.settings import REPO_ROOT


def test_named_query_hint_wins_when_its_columns_exist() -> None:
    frame = pd.DataFrame({"step": ["shown", "opened"], "albums": [100, 40], "step_order": [1, 2]})
    hint = ChartHint("funnel", {"x": "albums", "y": "step"})
    assert choose_chart(frame, hint) == hint
    fig = figure_for(frame, title="Funnel", hint=hint)
    assert fig.data[0].type == "funnel" and fig.layout.title.text == "Funnel"
    wrong = ChartHint("bar", {"x": "nope", "y": "albums"})
    assert choose_chart(frame, wrong).kind == "bar" and choose_chart(frame, wrong).get("x") == "step"


def test_rules_without_a_hint() -> None:
    days = pd.DataFrame({"day": pd.date_range("2025-01-01", periods=5), "opens": range(5), "user_id": range(5)})
    assert choose_chart(days) == ChartHint("line", {"x": "day", "y": "opens"})
    kinds = pd.DataFrame({"kind": ["trip", "event"], "n": [3, 4]})
    assert choose_chart(kinds) == ChartHint("bar", {"x": "kind", "y": "n"})
    points = pd.DataFrame({"impressions": [1, 2, 3], "opens": [0, 1, 1]})
    assert choose_chart(points).kind == "scatter"


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(),
        pd.DataFrame({"n": [5]}),
        pd.DataFrame({"kind": ["trip"], "n": [5]}),  # one row: a number, not a chart
        pd.DataFrame({"user_id": [1, 2], "country": ["DE", "FR"]}),  # nothing to measure
        pd.DataFrame({"name": [f"t{i}" for i in range(100)], "n": range(100)}),  # too many bars
    ],
)
def test_no_chart_when_a_table_says_it_better(frame: pd.DataFrame) -> None:
    assert choose_chart(frame) is None
    assert figure_for(frame) is None


def test_rates_get_percent_axes_and_error_bars() -> None:
    frame = pd.DataFrame(
        {
            "kind": ["trip", "year"],
            "open_rate": [0.4, 0.6],
            "open_rate_low": [0.38, 0.55],
            "open_rate_high": [0.42, 0.66],
        }
    )
    hint = ChartHint(
        "bar", {"x": "kind", "y": "open_rate", "error_low": "open_rate_low", "error_high": "open_rate_high"}
    )
    fig = figure_for(frame, hint=hint)
    assert fig.layout.yaxis.tickformat == ".0%"
    assert list(fig.data[0].error_y.array) == pytest.approx([0.02, 0.06])
    assert list(fig.data[0].error_y.arrayminus) == pytest.approx([0.02, 0.05])


def test_heatmap_for_retention() -> None:
    frame = pd.DataFrame(
        {
            "cohort": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01"]),
            "months_since_signup": [0, 1, 0],
            "retention": [0.5, 0.3, 0.6],
        }
    )
    fig = figure_for(frame, hint=ChartHint("heatmap", {"x": "months_since_signup", "y": "cohort", "z": "retention"}))
    assert fig.data[0].type == "heatmap"
    assert list(fig.data[0].y) == ["2025-01", "2025-02"]


def test_experiment_figure_shows_intervals_and_the_verdict() -> None:
    frame = pd.DataFrame(
        {"variant": ["grounded", "llm"], "users": [5_000, 5_020], "albums_shown": [40_000, 40_500],
         "albums_opened": [12_000, 13_600]}  # fmt: skip
    )
    result = analyze_experiment(frame, control="grounded", experiment="title_strategy")
    fig = experiment_figure(result)
    bar = fig.data[0]
    assert list(bar.y) == pytest.approx([0.3, 13_600 / 40_500])
    assert len(bar.error_y.array) == 2 and all(v > 0 for v in bar.error_y.array)
    text = fig.layout.annotations[0].text
    assert "llm changes" in text and "p = " in text and "sample ratio: ok" in text
    assert fig.layout.yaxis.tickformat == ".0%"


def test_engagement_core_imports_without_streamlit() -> None:
    code = (
        "import sys, curation.engagement.charts, curation.engagement.sandbox, curation.engagement.generate, "
        "curation.engagement.experiments, curation.engagement.queries, curation.engagement.clean; "
        "assert 'streamlit' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)

"""Plotly figures for query results and experiments: pure functions of their input.

:func:`choose_chart` decides how a result frame is best drawn (the named query's
``-- chart:`` hint when it fits the frame, else a rule on the column types) and
:func:`figure_for` draws it; ``None`` means "show the table, no chart fits" (one row, no
numbers, too many categories), never an empty chart. :func:`experiment_figure` draws an
A/B result. No Streamlit here: a page calls these and renders what they return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from curation.engagement.queries import ChartHint

if TYPE_CHECKING:  # experiments imports scipy: keep it off the chart path
    from curation.engagement.experiments import ExperimentResult

MAX_BARS = 60
MAX_LINES = 4
_RATE_WORDS = ("rate", "share", "retention", "ratio")


def _is_temporal(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)


def _is_numeric(name: str, s: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(s)
        and not pd.api.types.is_bool_dtype(s)
        and not name.endswith("_id")
        and name != "id"
    )


def _is_categorical(name: str, s: pd.Series) -> bool:
    return not _is_temporal(s) and not _is_numeric(name, s)


def _is_rate(name: str, s: pd.Series) -> bool:
    if not any(w in name.lower() for w in _RATE_WORDS) or not _is_numeric(name, s):
        return False
    values = s.dropna()
    return values.empty or (values.min() >= 0 and values.max() <= 1)


def _fits(hint: ChartHint, frame: pd.DataFrame) -> bool:
    wanted = [c for key in ("x", "y", "z", "color", "error_low", "error_high") for c in hint.columns(key)]
    return hint.kind != "table" and bool(wanted) and all(c in frame.columns for c in wanted)


def choose_chart(frame: pd.DataFrame, hint: ChartHint | None = None) -> ChartHint | None:
    """The chart for ``frame``, or None when a table says it better."""
    if frame is None or frame.empty or len(frame.columns) < 2:
        return None
    if hint is not None and _fits(hint, frame):
        return hint
    if len(frame) == 1:
        return None
    columns = list(frame.columns)
    temporal = [c for c in columns if _is_temporal(frame[c])]
    numeric = [c for c in columns if _is_numeric(str(c), frame[c])]
    categorical = [c for c in columns if _is_categorical(str(c), frame[c])]
    if temporal and numeric:
        return ChartHint("line", {"x": str(temporal[0]), "y": ",".join(map(str, numeric[:MAX_LINES]))})
    if categorical and numeric:
        x = categorical[0]
        if frame[x].nunique() > MAX_BARS:
            return None
        if len(categorical) >= 2 and frame[categorical[1]].nunique() <= 10:
            return ChartHint("bar", {"x": str(x), "y": str(numeric[0]), "color": str(categorical[1])})
        return ChartHint("bar", {"x": str(x), "y": str(numeric[0])})
    if len(numeric) >= 2:
        return ChartHint("scatter", {"x": str(numeric[0]), "y": str(numeric[1])})
    return None


def figure_for(frame: pd.DataFrame, *, title: str | None = None, hint: ChartHint | None = None) -> go.Figure | None:
    """A figure for ``frame`` (see :func:`choose_chart`), or None when no chart fits."""
    chart = choose_chart(frame, hint)
    if chart is None:
        return None
    draw = {
        "bar": _bar,
        "line": _line,
        "funnel": _funnel,
        "heatmap": _heatmap,
        "scatter": _scatter,
    }[chart.kind]
    fig = draw(frame, chart)
    fig.update_layout(
        title=title, template="plotly_white", margin={"t": 60 if title else 30, "l": 60, "r": 20, "b": 50}
    )
    return fig


def _percent_axis(fig: go.Figure, frame: pd.DataFrame, columns: list[str], axis: str = "y") -> None:
    if columns and all(_is_rate(c, frame[c]) for c in columns):
        fig.update_layout({f"{axis}axis": {"tickformat": ".0%"}})


def _bar(frame: pd.DataFrame, chart: ChartHint) -> go.Figure:
    x, y = chart.get("x"), chart.columns("y")[0]
    low, high, color = chart.get("error_low"), chart.get("error_high"), chart.get("color")
    fig = go.Figure()
    groups = frame.groupby(color, sort=False) if color else [(None, frame)]
    for name, part in groups:
        error = None
        if low and high:
            error = {
                "type": "data",
                "symmetric": False,
                "array": (part[high] - part[y]).to_numpy(),
                "arrayminus": (part[y] - part[low]).to_numpy(),
            }
        fig.add_bar(x=part[x].astype(str), y=part[y], name=str(name) if name is not None else y, error_y=error)
    fig.update_layout(xaxis_title=x, yaxis_title=y, barmode="group", showlegend=bool(color))
    _percent_axis(fig, frame, [y])
    return fig


def _line(frame: pd.DataFrame, chart: ChartHint) -> go.Figure:
    x, ys = chart.get("x"), chart.columns("y")
    fig = go.Figure()
    data = frame.sort_values(x)
    for y in ys:
        fig.add_scatter(x=data[x], y=data[y], mode="lines+markers" if len(data) <= 60 else "lines", name=y)
    fig.update_layout(xaxis_title=x, yaxis_title=ys[0] if len(ys) == 1 else None, showlegend=len(ys) > 1)
    _percent_axis(fig, frame, ys)
    return fig


def _funnel(frame: pd.DataFrame, chart: ChartHint) -> go.Figure:
    values, labels = chart.get("x"), chart.get("y")
    fig = go.Figure(go.Funnel(y=frame[labels].astype(str), x=frame[values], textinfo="value+percent initial"))
    return fig


def _heatmap(frame: pd.DataFrame, chart: ChartHint) -> go.Figure:
    x, y, z = chart.get("x"), chart.get("y"), chart.get("z")
    grid = frame.pivot_table(index=y, columns=x, values=z, aggfunc="first").sort_index()
    labels = [v.strftime("%Y-%m") if hasattr(v, "strftime") else str(v) for v in grid.index]
    rate = _is_rate(z, frame[z])
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[str(c) for c in grid.columns],
            y=labels,
            colorscale="Blues",
            colorbar={"tickformat": ".0%"} if rate else None,
            hovertemplate=f"{y}=%{{y}}<br>{x}=%{{x}}<br>{z}=%{{z:{'.1%' if rate else ',.3g'}}}<extra></extra>",
        )
    )
    fig.update_layout(xaxis_title=x, yaxis_title=y, yaxis={"autorange": "reversed", "type": "category"})
    return fig


def _scatter(frame: pd.DataFrame, chart: ChartHint) -> go.Figure:
    x, y = chart.get("x"), chart.columns("y")[0]
    fig = go.Figure(go.Scatter(x=frame[x], y=frame[y], mode="markers"))
    fig.update_layout(xaxis_title=x, yaxis_title=y)
    return fig


def experiment_figure(result: ExperimentResult) -> go.Figure:
    """Both variants' rates with their 95 % intervals, and the verdict in words."""
    variants = [result.control, result.treatment]
    colors = ["#8c9bab", "#2e6fdb" if result.significant and not result.srm.mismatch else "#8c9bab"]
    fig = go.Figure(
        go.Bar(
            x=[f"{v.name}<br><sub>{v.units:,} users · {v.trials:,} albums</sub>" for v in variants],
            y=[v.rate for v in variants],
            marker_color=colors,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [v.ci_high - v.rate for v in variants],
                "arrayminus": [v.rate - v.ci_low for v in variants],
                "thickness": 2,
                "width": 12,
            },
            text=[f"{v.rate:.1%}" for v in variants],
            textposition="inside",
            hovertemplate="%{x}<br>rate %{y:.2%}<extra></extra>",
        )
    )
    t = result.test
    lines = [
        f"<b>{result.verdict()}</b>",
        f"difference {t.diff:+.2%} (95% CI {t.diff_low:+.2%} to {t.diff_high:+.2%}), "
        f"relative {t.relative_lift:+.1%}, p = {t.p_value:.2g} ({t.method})",
        f"sample ratio: {'MISMATCH' if result.srm.mismatch else 'ok'} (chi² p = {result.srm.p_value:.2g}) · "
        f"minimum detectable effect {result.mde_abs:.2%} ({result.mde_rel:.1%} relative)",
    ]
    top = max(v.ci_high for v in variants)
    fig.update_layout(
        title=f"{result.experiment or 'Experiment'}: {result.metric}",
        template="plotly_white",
        yaxis={"tickformat": ".0%", "range": [0, top * 1.35], "title": "rate (95% interval)"},
        showlegend=False,
        margin={"t": 60, "b": 150, "l": 60, "r": 20},
        annotations=[
            {
                "text": "<br>".join(lines),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": -0.22,
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
                "align": "left",
                "font": {"size": 12},
            }
        ],
    )
    return fig

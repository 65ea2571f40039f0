"""The Model quality page's parts: metrics of every model version, charts against the targets.

``model_versions.metrics`` is JSON whose shape each evaluation chooses (nested blocks such
as ``{"held_out": {"accuracy": …, "per_category": {"receipt": {"precision": …}}}}``), so the
page reads it generically: every number becomes a column named by its path
(``held_out.per_category.receipt.precision``). The headline metrics (BCubed P/R/F of the face
clustering, theme top-1/top-3, clutter accuracy and per-category precision/recall) get a bar
chart across versions, one series per path that ends in that metric, with the targets
drawn as lines. Training runs (``training_runs``) get their own table when the table exists.

The reading and shaping is plain Python (``load_quality``, ``flatten_metrics``,
``headline_charts``); the rest draws it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from curation.settings import Settings
from dashboard import data, ui

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

# ----------------------------------------------------------------------------- reading (plain Python)


@dataclass(frozen=True)
class VersionMetrics:
    task: str
    model_version: str
    created_at: datetime | None
    metrics: Mapping[str, Any]  # as stored
    flat: Mapping[str, float]  # every number, by its dotted path


@dataclass(frozen=True)
class TrainingRunRow:
    run_id: int
    model_version: str
    embedder: str
    seed: int
    started_at: datetime | None
    seconds: float | None
    n_human: int
    n_bootstrap: int
    n_predicted: int
    flat: Mapping[str, float]


@dataclass(frozen=True)
class QualityData:
    versions: tuple[VersionMetrics, ...] = ()  # every model version, oldest first within a task
    training_runs: tuple[TrainingRunRow, ...] = ()
    has_training_table: bool = False

    @property
    def evaluated(self) -> tuple[VersionMetrics, ...]:
        """Versions with at least one number in their metrics."""
        return tuple(v for v in self.versions if v.flat)

    @property
    def tasks(self) -> list[str]:
        order = {t: i for i, t in enumerate(TASK_ORDER)}
        return sorted({v.task for v in self.evaluated}, key=lambda t: (order.get(t, len(order)), t))

    def of_task(self, task: str) -> list[VersionMetrics]:
        return [v for v in self.evaluated if v.task == task]


_ITEM_NAMES = ("subset", "name", "split", "task")  # what a list of result blocks calls each block


def flatten_metrics(metrics: Any, prefix: str = "") -> dict[str, float]:  # noqa: ANN401 - JSON
    """Every finite number in a metrics document, keyed by its dotted path.

    A list of blocks (``"subsets": [{"subset": "all files", "f1": …}, …]``) is keyed by each
    block's name; other lists (confusion matrices, lists of errors) and strings are left out,
    and a boolean is a flag, not a number.
    """
    def key(name: object) -> str:
        return f"{prefix}.{name}" if prefix else str(name)

    out: dict[str, float] = {}
    if isinstance(metrics, Mapping):
        for name, value in metrics.items():
            out.update(flatten_metrics(value, key(name)))
    elif isinstance(metrics, list) and metrics and all(isinstance(item, Mapping) for item in metrics):
        for index, item in enumerate(metrics):
            name = next((item[n] for n in _ITEM_NAMES if isinstance(item.get(n), str)), str(index))
            out.update(flatten_metrics(item, key(name)))
    elif isinstance(metrics, int | float) and not isinstance(metrics, bool) and math.isfinite(metrics):
        out[prefix] = float(metrics)
    return out


def _json(text: Any) -> dict[str, Any]:  # noqa: ANN401
    if not text:
        return {}
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        return {"unreadable": text}
    return value if isinstance(value, dict) else {}


def load_quality(con: duckdb.DuckDBPyConnection) -> QualityData:
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()}  # fmt: skip
    versions: list[VersionMetrics] = []
    if "model_versions" in present:
        for task, version, created_at, metrics in con.execute(
            "SELECT task, model_version, created_at, metrics FROM model_versions "
            "ORDER BY task, created_at, model_version"
        ).fetchall():
            doc = _json(metrics)
            versions.append(VersionMetrics(task, version, created_at, doc, flatten_metrics(doc)))
    runs: list[TrainingRunRow] = []
    if "training_runs" in present:
        for row in con.execute(
            "SELECT run_id, model_version, embedder, seed, started_at, seconds, n_human, n_bootstrap, n_predicted, "
            "metrics FROM training_runs ORDER BY started_at, run_id"
        ).fetchall():
            *fields_, metrics = row
            runs.append(TrainingRunRow(*fields_, flat=flatten_metrics(_json(metrics))))
    return QualityData(tuple(versions), tuple(runs), "training_runs" in present)


# ----------------------------------------------------------------------------- headline metrics


TASK_ORDER = ("faces", "themes", "clutter", "events", "embedder")
TASK_LABELS = {
    "faces": "Faces · clustering",
    "themes": "Themes",
    "clutter": "Clutter",
    "events": "Events",
    "embedder": "Embedder",
}


@dataclass(frozen=True)
class Headline:
    """A metric worth a chart: paths of a task whose last part is one of ``leaves``."""

    key: str
    label: str
    tasks: tuple[str, ...]
    leaves: tuple[str, ...]
    help: str = ""

    def target(self, task: str) -> float | None:
        """The evaluation's target for this metric (curation.evaluate.TARGETS), drawn as a line."""
        from curation.evaluate import TARGETS

        metric, value = next(((m, v) for t, (m, v) in TARGETS.items() if t.value == task), (None, None))
        return value if metric in self.leaves else None


HEADLINES: tuple[Headline, ...] = (
    Headline("bcubed_f", "BCubed F", ("faces",), ("bcubed_f", "bcubed_f1", "f", "f1", "f_score"),
             "Harmonic mean of BCubed precision and recall of the face clusters."),
    Headline("bcubed_precision", "BCubed precision", ("faces",), ("bcubed_precision", "precision"),
             help="How pure the clusters are: a person's cluster holds only them."),
    Headline("bcubed_recall", "BCubed recall", ("faces",), ("bcubed_recall", "recall"),
             help="How complete they are: all of a person's faces in one cluster."),
    Headline("top1", "Top-1 accuracy", ("themes",), ("top1", "top_1", "top1_accuracy"),
             help="The best-scored theme is the labelled one."),
    Headline("top3", "Top-3 accuracy", ("themes",), ("top3", "top_3", "top3_accuracy"),
             help="The labelled theme is among the three best-scored."),
    Headline("theme_f1", "F1 (micro)", ("themes",), ("f1_micro",), help="Multi-label F1 over all themes."),
    Headline("accuracy", "Accuracy", ("clutter",), ("accuracy",),
             help="Share of photos put in the right category (photo, screenshot, receipt, document)."),
    Headline("clutter_precision", "Precision", ("clutter",), ("precision", "clutter_precision"),
             help="Per category: of the photos called that category, the share that are."),
    Headline("clutter_recall", "Recall", ("clutter",), ("recall", "clutter_recall"),
             help="Per category: of the photos of that category, the share found."),
)  # fmt: skip
GENERIC_LEAVES = ("f1", "accuracy", "precision", "recall")  # tasks without headlines of their own


@dataclass(frozen=True)
class ChartSpec:
    task: str
    key: str
    label: str
    target: float | None
    help: str
    series: tuple[tuple[str, str], ...]  # (series label, metric path), in order


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].lower()


def column_label(path: str) -> str:
    """'held_out.per_category.receipt.precision' -> 'held out · receipt · precision'."""
    parts = [p for p in path.split(".") if p not in ("per_category", "per_theme", "metrics")]
    return " · ".join(p.replace("_", " ") for p in parts)


_BREAKDOWNS = ("per_category", "per_theme", "metrics")  # words of a path that name no block of their own


def series_label(path: str) -> str:
    """'held_out.per_category.receipt.precision' -> 'held out · receipt'; '' -> 'overall'."""
    parts = [p for p in path.split(".")[:-1] if p not in _BREAKDOWNS]
    return " · ".join(p.replace("_", " ") for p in parts) or "overall"


def _depth(path: str) -> int:
    return len([p for p in path.split(".")[:-1] if p not in _BREAKDOWNS])


def headline_charts(task: str, versions: Sequence[Collection[str]]) -> list[ChartSpec]:
    """The charts of one task (``versions``: the metric paths of each of its versions): each
    headline that has paths, one series per path.

    Only each version's shallowest matches are charted (``accuracy`` rather than
    ``splits.64px_copies.accuracy``; ``top1`` rather than ``per_theme.pets.top1``); the
    deeper ones, variants and breakdowns, are in the table. Per-category numbers with no
    overall one above them (clutter precision) are charted, one series per category.
    """
    paths = sorted({p for v in versions for p in v}, key=lambda p: (_depth(p), p))
    headlines = [h for h in HEADLINES if task in h.tasks]
    if not headlines:
        headlines = [Headline(leaf, leaf.replace("_", " ").capitalize(), (task,), (leaf,)) for leaf in GENERIC_LEAVES]
    out = []
    taken: set[str] = set()
    for h in headlines:
        matched = [p for p in paths if _leaf(p) in h.leaves and p not in taken]
        if not matched:
            continue
        taken.update(matched)
        keep: set[str] = set()
        for version in versions:
            mine = [p for p in matched if p in version]
            keep.update(p for p in mine if _depth(p) == min(map(_depth, mine)))
        matched = [p for p in matched if p in keep]
        series = []
        for p in matched:
            label = series_label(p)
            if _leaf(p) != h.leaves[0] and _leaf(p) not in ("precision", "recall", "accuracy", "f1", "f"):
                label = f"{label} · {_leaf(p).replace('_', ' ')}"
            series.append((label, p))
        out.append(ChartSpec(task, h.key, h.label, h.target(task), h.help, tuple(series)))
    return out


@dataclass(frozen=True)
class TargetCheck:
    task: str
    label: str
    target: float
    model_version: str
    value: float
    series: str

    @property
    def met(self) -> bool:
        return self.value >= self.target


def target_checks(quality: QualityData) -> list[TargetCheck]:
    """The latest version of each task against each target (its first series: the overall one)."""
    out = []
    for task in quality.tasks:
        versions = quality.of_task(task)
        latest = versions[-1]
        for chart in headline_charts(task, [latest.flat.keys()]):
            if chart.target is None:
                continue
            label, path = chart.series[0]
            out.append(TargetCheck(task, chart.label, chart.target, latest.model_version, latest.flat[path], label))
    return out


def metrics_frame(versions: Sequence[VersionMetrics], charts: Sequence[ChartSpec]) -> pd.DataFrame:
    """One row per version: created, then the charted metrics, then every other number."""
    import pandas as pd

    charted = [p for c in charts for _, p in c.series]
    others = sorted({p for v in versions for p in v.flat} - set(charted))
    rows = [
        {"model_version": v.model_version, "created_at": v.created_at, **{p: v.flat.get(p) for p in charted + others}}
        for v in versions
    ]
    return pd.DataFrame(rows, columns=["model_version", "created_at", *charted, *others])


# ----------------------------------------------------------------------------- drawing


@st.cache_data(show_spinner=False, max_entries=32)
def _quality(db: str, version: data.DbVersion) -> QualityData:
    with data.run_registry().gate(Path(db)).reader(data.READ_BUSY_TIMEOUT_S) as con:
        return load_quality(con)


def quality(db: Path) -> QualityData:
    return _quality(str(db), data.db_version(db)) if db.exists() else QualityData()


def empty_spec() -> ui.EmptyPage:
    return ui.EmptyPage(
        title="Model quality",
        icon=":material/monitoring:",
        pitch="How well each model version does on the labelled sample sets, against its targets.",
        features=(
            "Face clustering: BCubed precision, recall and F per model version (target F ≥ 0.95)",
            "Themes: top-1 and top-3 accuracy; clutter: accuracy (target ≥ 0.97), precision and recall per category",
            "A bar chart per metric across versions, the targets drawn as lines, and every number in a table",
            "The training runs of `curation train`, next to the version they replaced",
        ),
        filled_by="`curation evaluate`",
        needs=(
            ui.Need(ui.NeedKind.SAMPLES, "Labelled sample sets"),
            ui.Need(ui.NeedKind.TABLE, "Model versions", table="model_versions", stage="vision"),
        ),
        now=(
            "Score the models on the labelled sample sets: `curation evaluate` writes the metrics of each "
            "model version into `model_versions`, and they show here.",
            "Retraining on labels from Label Studio (`curation train`) adds versions and training runs.",
        ),
        snippet=".venv/bin/curation evaluate --db {database}",
    )


def empty_state(settings: Settings) -> None:
    ui.empty_page(empty_spec(), data.database_summary(settings.database), settings)


def _fmt(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}"


def number_format(values: pd.Series) -> str:
    """Counts as whole numbers, scores with four decimals."""
    known = values.dropna()
    return "%d" if len(known) and (known == known.round()).all() and (known.abs() > 1).any() else "%.4f"


def targets_row(checks: Sequence[TargetCheck]) -> None:
    if not checks:
        return
    columns = st.columns(max(len(checks), 3))
    for column, check in zip(columns, checks, strict=False):
        column.metric(
            f"{TASK_LABELS.get(check.task, check.task)} · {check.label}",
            _fmt(check.value),
            delta=f"{check.value - check.target:+.3f} vs target {check.target:.2f}",
            delta_color="normal",
            help=f"Latest version {check.model_version} ({check.series}); the target is ≥ {check.target:.2f}.",
            border=True,
        )


# The app's colours (.streamlit/config.toml, chartCategoricalColors), set on each trace: Streamlit's
# chart theme keeps the fonts and grid of the rest of the app but would replace a colorway.
COLORS = ["#b5542c", "#3b6e8f", "#7a9a4b", "#d4a03a", "#8a5a9e", "#5f8f8a"]


def bar_chart(chart: ChartSpec, versions: Sequence[VersionMetrics]) -> None:
    import plotly.graph_objects as go

    fig = go.Figure()
    values = []
    for i, (label, path) in enumerate(chart.series):
        ys = [v.flat.get(path) for v in versions]
        values += [y for y in ys if y is not None]
        fig.add_bar(
            name=label,
            marker_color=COLORS[i % len(COLORS)],
            x=[v.model_version for v in versions],
            y=ys,
            text=[None if y is None else f"{y:.3f}" for y in ys],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"{label}<br>%{{x}}: %{{y:.4f}}<extra></extra>",
        )
    if chart.target is not None:
        fig.add_hline(
            y=chart.target,
            line_dash="dash",
            line_color="#b5542c",
            annotation_text=f"target ≥ {chart.target:.2f}",
            annotation_position="top left",
        )
    unit = bool(values) and all(0 <= v <= 1 for v in values)
    fig.update_layout(
        bargap=0.55 if len(versions) < 3 else 0.3,
        bargroupgap=0.08,
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        title={"text": chart.label, "x": 0, "font": {"size": 15}},
        barmode="group",
        height=300,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        yaxis={"range": [0, 1.12] if unit else None, "tickformat": ".2f" if unit else None},
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": -0.25, "x": 0},
        showlegend=len(chart.series) > 1,
    )
    st.plotly_chart(fig, key=f"quality_chart_{chart.task}_{chart.key}", config={"displayModeBar": False})


def task_section(task: str, versions: Sequence[VersionMetrics]) -> None:
    charts = headline_charts(task, [v.flat.keys() for v in versions])
    latest = versions[-1]
    st.subheader(f"{TASK_LABELS.get(task, task.capitalize())}", anchor=False)
    st.caption(
        f"{len(versions)} evaluated {'version' if len(versions) == 1 else 'versions'} · latest "
        f"`{latest.model_version}`" + (f", {ui.format_when(latest.created_at)}" if latest.created_at else "")
    )
    if charts:
        for start in range(0, len(charts), 2):
            for column, chart in zip(st.columns(2), charts[start : start + 2], strict=False):
                with column:
                    bar_chart(chart, versions)
    else:
        st.caption("None of this task's numbers is a headline metric: they are all in the table below.")
    frame = metrics_frame(versions, charts)
    st.dataframe(
        frame,
        hide_index=True,
        placeholder="—",
        column_config={
            "model_version": st.column_config.TextColumn("Model version", pinned=True),
            "created_at": st.column_config.DatetimeColumn("Created", format="D MMM YYYY, HH:mm"),
            **{c: st.column_config.NumberColumn(column_label(c), help=c, format=number_format(frame[c]))
               for c in frame.columns[2:]},  # fmt: skip
        },
        key=f"quality_table_{task}",
    )
    with st.expander(":material/data_object: Metrics as stored (JSON)"):
        st.json({v.model_version: dict(v.metrics) for v in versions}, expanded=1)


def training_runs(quality_data: QualityData) -> None:
    import pandas as pd

    st.subheader(":material/model_training: Training runs", anchor=False)
    if not quality_data.training_runs:
        st.caption(
            "No training run yet: `curation train` retrains the theme and clutter heads on the labels people gave."
        )
        return
    paths = sorted({p for r in quality_data.training_runs for p in r.flat if not p.startswith("seed")})
    frame = pd.DataFrame(
        [
            {"run_id": r.run_id, "model_version": r.model_version, "embedder": r.embedder, "seed": r.seed,
             "started_at": r.started_at, "seconds": r.seconds, "n_human": r.n_human, "n_bootstrap": r.n_bootstrap,
             "n_predicted": r.n_predicted, **{p: r.flat.get(p) for p in paths}}  # fmt: skip
            for r in quality_data.training_runs
        ]
    )
    st.dataframe(
        frame,
        hide_index=True,
        placeholder="—",
        column_config={
            "run_id": st.column_config.NumberColumn("Run", format="%d"),
            "model_version": st.column_config.TextColumn("Model version", pinned=True),
            "started_at": st.column_config.DatetimeColumn("Started", format="D MMM YYYY, HH:mm"),
            "seconds": st.column_config.NumberColumn("Time (s)", format="%.1f"),
            "n_human": st.column_config.NumberColumn("Human labels", format="%d"),
            "n_bootstrap": st.column_config.NumberColumn("Bootstrap labels", format="%d"),
            "n_predicted": st.column_config.NumberColumn("Photos re-scored", format="%d"),
            **{p: st.column_config.NumberColumn(column_label(p), help=p, format=number_format(frame[p]))
               for p in paths},  # fmt: skip
        },
        key="quality_training_runs",
    )


def quality_page(quality_data: QualityData) -> None:
    tasks = quality_data.tasks
    targets_row(target_checks(quality_data))
    shown = st.pills(
        "Tasks",
        tasks,
        selection_mode="multi",
        default=tasks,
        format_func=lambda t: TASK_LABELS.get(t, t.capitalize()),
        key="quality_tasks",
    )
    for task in [t for t in tasks if t in (shown or [])]:
        with st.container(border=True):
            task_section(task, quality_data.of_task(task))
    if quality_data.has_training_table:
        with st.container(border=True):
            training_runs(quality_data)
    unevaluated = [v for v in quality_data.versions if not v.flat]
    if unevaluated:
        listed = ", ".join(f"{v.task} `{v.model_version}`" for v in unevaluated)
        st.caption(f":material/info: Versions without metrics yet (run `curation evaluate`): {listed}.")

"""The Embedding explorer's parts: cached reads, the map figure, the selection and its actions.

Reads are ``st.cache_data`` keyed by database path + file version (as ``dashboard.data``);
the map itself is computed once by ``curation.analysis.embedding_map`` and stored in the
database, so a visit only reads it. Plotly loads when the page draws its chart, umap only
when a map has to be computed.

The chart is one scatter trace per colour, WebGL (``go.Scattergl``) from 1,000 points so
20,000 stay smooth, and carries no images: plotly cannot show a picture on hover, so the
photo of the clicked point shows beside the chart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from curation.analysis.embedding_map import (
    MIN_PHOTOS,
    ClusterSummary,
    EmbeddingMap,
    EmbeddingMapError,
    EmbeddingVersion,
    MapParams,
    embedding_versions,
    layout_embeddings,
    load_map,
    load_vectors,
    map_points,
    save_map,
    summarize_clusters,
)
from curation.analysis.tags import TagCount, TagError, tag_counts, tag_photos
from curation.ingest.decode import thumbnail_path
from curation.settings import Settings
from curation.store import Store, StoreError
from dashboard import data, ui
from dashboard.runs import RunError, Step

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from dashboard.queries import LibrarySummary

logger = logging.getLogger(__name__)

SELECTION = "explorer_selection"  # session state: the photos selected, wherever they came from
CHART_KEY = "explorer_map"
MAX_GRID = 48  # thumbnails shown for a selection; actions apply to all of it
CLUSTER_NAME_SHARE = 0.4
WEBGL_FROM = 1000
MAX_CATEGORIES = 12  # events and people beyond these are "Other …"
MISSING_COLOUR = "#cdc6ba"
# The app's chart colours (.streamlit/config.toml) first, then plotly's colour-blind-safe set.
PALETTE = (
    "#b5542c", "#3b6e8f", "#7a9a4b", "#d4a03a", "#8a5a9e", "#5f8f8a",
    "#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499",
    "#44AA99", "#999933", "#882255", "#661100", "#6699CC", "#888888",
    "#e08e5a", "#2b4a5e",
)  # fmt: skip
CONTINUOUS = ((0.0, "#f1e7d6"), (0.35, "#e2b458"), (0.7, "#c0652f"), (1.0, "#5a2614"))


class ColourBy(StrEnum):
    THEME = "theme"
    CLUTTER = "clutter"
    EVENT = "event"
    PERSON = "person"
    CLUSTER = "cluster"
    CONFIDENCE = "confidence"
    YEAR = "year"

    @property
    def label(self) -> str:
        return _COLOUR_LABELS[self]


_COLOUR_LABELS = {
    ColourBy.THEME: "Theme",
    ColourBy.CLUTTER: "Clutter",
    ColourBy.EVENT: "Event",
    ColourBy.PERSON: "Person",
    ColourBy.CLUSTER: "Cluster",
    ColourBy.CONFIDENCE: "Theme score",
    ColourBy.YEAR: "Year",
}


# ----------------------------------------------------------------------------- cached reads


def _reader(db: str):  # noqa: ANN202 - a context manager yielding a DuckDB connection
    return data.run_registry().gate(Path(db)).reader(data.READ_BUSY_TIMEOUT_S)


@st.cache_data(show_spinner=False, max_entries=32)
def _versions(db: str, version: data.DbVersion, library_id: int) -> list[EmbeddingVersion]:
    with _reader(db) as con:
        return embedding_versions(con, library_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _stored_map(
    db: str, version: data.DbVersion, library_id: int, model_version: str, params_json: str | None
) -> EmbeddingMap | None:
    params = MapParams.from_json(params_json) if params_json else None
    with _reader(db) as con:
        return load_map(con, library_id, model_version, params)


@st.cache_data(show_spinner=False, max_entries=16)
def _points(db: str, version: data.DbVersion, library_id: int, model_version: str, params_json: str) -> pd.DataFrame:
    with _reader(db) as con:
        return map_points(con, library_id, model_version, MapParams.from_json(params_json))


@st.cache_data(show_spinner=False, max_entries=16)
def _clusters(
    db: str, version: data.DbVersion, library_id: int, model_version: str, params_json: str
) -> list[ClusterSummary]:
    return summarize_clusters(_points(db, version, library_id, model_version, params_json), n_samples=4)


@st.cache_data(show_spinner=False, max_entries=32)
def _tags(db: str, version: data.DbVersion, library_id: int) -> list[TagCount]:
    with _reader(db) as con:
        return tag_counts(con, library_id)


def versions(db: Path, library_id: int) -> list[EmbeddingVersion]:
    return _versions(str(db), data.db_version(db), library_id)


def stored_map(db: Path, library_id: int, model_version: str, params: MapParams | None) -> EmbeddingMap | None:
    return _stored_map(str(db), data.db_version(db), library_id, model_version, params.to_json() if params else None)


def points(db: Path, emap: EmbeddingMap) -> pd.DataFrame:
    """The map's points (cached: never modify the frame)."""
    return _points(str(db), data.db_version(db), emap.library_id, emap.model_version, emap.params.to_json())


def clusters(db: Path, emap: EmbeddingMap) -> list[ClusterSummary]:
    return _clusters(str(db), data.db_version(db), emap.library_id, emap.model_version, emap.params.to_json())


def tags(db: Path, library_id: int) -> list[TagCount]:
    return _tags(str(db), data.db_version(db), library_id)


# ----------------------------------------------------------------------------- computing a map

MAP_JOB = "Embedding map"  # title prefix of the map's background runs
_MAP_STEPS = ("Loading the embeddings", "PCA", "UMAP", "k-means", "Saving")


def _compute(db: Path, library_id: int, model_version: str, params: MapParams, progress) -> str:  # noqa: ANN001
    """The map job's one step. It runs inside the run registry's writer turn, so it may
    read and write with an ordinary read-write connection."""
    total = len(_MAP_STEPS)

    def say(message: str) -> None:
        done = next((i for i, step in enumerate(_MAP_STEPS) if message.startswith(step)), 0)
        progress(done, total, message)

    store = Store(db)
    try:
        say("Loading the embeddings")
        with store.connect() as con:
            ids, vectors = load_vectors(con, library_id, model_version)
        started = time.perf_counter()
        layout = layout_embeddings(ids, vectors, params, progress=say)
        seconds = time.perf_counter() - started
        say("Saving the map")
        save_map(store, library_id, model_version, params, layout, seconds)
    except EmbeddingMapError as exc:
        raise RunError(str(exc)) from exc
    progress(total, total, "")
    return f"{len(ids):,} photos, {layout.n_clusters} clusters, in {ui.format_seconds(seconds)}"


def start_map_job(db: Path, library: LibrarySummary, model_version: str, params: MapParams) -> int | None:
    """Compute the map in the background (like a curation run: leaving the page does not
    stop it); returns the job id, or None with the reason shown."""
    step = Step(
        "embedding_map",
        "Embedding map",
        f"PCA to {params.pca_components}-d, UMAP to 2-d, k-means clusters",
        partial(_compute, db, library.library_id, model_version, params),
    )
    try:
        job = data.run_registry().start(db, f"{MAP_JOB} of {library.name}", Path(library.root), [step])
    except RunError as exc:
        ui.show_error(str(exc))
        return None
    st.session_state["explorer_map_job"] = job.job_id
    return job.job_id


def is_map_job(title: str) -> bool:
    return title.startswith(MAP_JOB)


def watch_job(job_id: int) -> None:
    """The job's progress, refreshed every second; the whole page reruns when it ends."""

    def panel() -> None:
        job = data.run_registry().get(job_id)
        if job is None:
            return
        snapshot = job.snapshot()
        ui.run_progress(snapshot)
        if not snapshot.running and st.session_state.get("explorer_refreshed_after") != job_id:
            st.session_state["explorer_refreshed_after"] = job_id
            st.rerun()

    job = data.run_registry().get(job_id)
    st.fragment(panel, run_every=1.0 if job is not None and job.running else None)()


def ensure_map(db: Path, library: LibrarySummary, version: EmbeddingVersion, params: MapParams | None) -> EmbeddingMap | None:
    """The stored map to show, or None after saying why there is none yet: it is being
    computed (progress shown), it failed (the error and a retry), or it cannot be made.
    A missing map is computed in the background on the first visit."""
    try:
        emap = stored_map(db, library.library_id, version.model_version, params)
    except StoreError as exc:
        ui.show_error(str(exc), retry_key="explorer_retry_map_read")
        return None
    job = data.run_registry().latest(db)
    watching = st.session_state.get("explorer_map_job")
    if job is not None and is_map_job(job.snapshot().title) and (job.running or watching == job.job_id):
        watch_job(job.job_id)
        if job.running:
            st.caption("You can leave this page meanwhile: the map is stored when it is done.")
            return None
        if job.snapshot().error:
            st.button("Try again", key="explorer_retry_job", icon=":material/refresh:",
                      on_click=lambda: st.session_state.pop("explorer_map_job", None))  # fmt: skip
            return None
        st.session_state.pop("explorer_map_job", None)
    if emap is None:
        if version.n_photos < MIN_PHOTOS:
            st.info(
                f"A map needs at least {MIN_PHOTOS} photos with embeddings; this library has {version.n_photos}.",
                icon=":material/scatter_plot:",
            )
        elif job is not None and job.running:
            st.info(f"{job.snapshot().title} is in progress: the map is computed when it ends.", icon=":material/hourglass:")
            watch_job(job.job_id)
        elif start_map_job(db, library, version.model_version, params or MapParams()) is not None:
            st.rerun()
        return None
    if emap.stale:
        note, button = st.columns([4, 1], vertical_alignment="center")
        note.warning(
            f"The map shows {emap.n_photos:,} photos; {emap.n_current:,} have embeddings now. Update it to place "
            "the new ones (it runs in the background: minutes for a big library).",
            icon=":material/update:",
        )
        if button.button("Update the map", key="explorer_update", icon=":material/refresh:"):
            if start_map_job(db, library, version.model_version, emap.params) is not None:
                st.rerun()
    return emap


def map_facts(emap: EmbeddingMap, n_points: int) -> str:
    how = (
        f"UMAP on {min(emap.params.pca_components, emap.n_photos - 1)} PCA components"
        if emap.method == "umap"
        else "first two principal components (too few photos for UMAP)"
    )
    return (
        f"{n_points:,} photos · {emap.n_clusters} clusters · {how} · computed {ui.format_when(emap.created_at)} "
        f"in {ui.format_seconds(emap.seconds)}"
    )


# ----------------------------------------------------------------------------- colours and the figure


@dataclass(frozen=True)
class Colouring:
    """What each point is coloured by: categories (in legend order) or a number."""

    values: list  # per point: a category label, or a float (nan: missing)
    categories: tuple[str, ...]  # empty for a continuous colouring
    colours: dict[str, str]
    title: str

    @property
    def continuous(self) -> bool:
        return not self.categories


def theme_label(value: object) -> str | None:
    from curation.vision.themes import Theme

    if not isinstance(value, str):
        return None
    try:
        return Theme(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()


def _clutter_label(value: object) -> str | None:
    return value.capitalize() if isinstance(value, str) else None


def _is_missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA: what a frame holds for a fact a stage did not provide."""
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not a missing scalar
        return False


def _event_label(place: object, day: object) -> str | None:
    parts = []
    if isinstance(place, str) and place:
        parts.append(place)
    if not _is_missing(day) and hasattr(day, "strftime"):
        parts.append(day.strftime("%-d %b %Y"))
    return " · ".join(parts) or None


def _person_label(person_id: object, name: object) -> str | None:
    if _is_missing(person_id):
        return None
    return name if isinstance(name, str) and name else f"Person {int(person_id)}"


def _top_categories(labels: Sequence[str | None], other: str, missing: str) -> tuple[list[str], tuple[str, ...]]:
    """Keep the MAX_CATEGORIES most frequent labels, fold the rest into ``other``."""
    counts: dict[str, int] = {}
    for label in labels:
        if label is not None:
            counts[label] = counts.get(label, 0) + 1
    keep = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_CATEGORIES]
    kept = set(keep)
    folded = [missing if lab is None else (lab if lab in kept else other) for lab in labels]
    order = tuple(keep) + ((other,) if len(counts) > len(keep) else ()) + ((missing,) if None in labels else ())
    return folded, order


def _categorical(labels: list[str], order: Sequence[str], grey: Sequence[str], title: str) -> Colouring:
    colours, k = {}, 0
    for category in order:
        if category in grey:
            colours[category] = MISSING_COLOUR
        else:
            colours[category] = PALETTE[k % len(PALETTE)]
            k += 1
    return Colouring(labels, tuple(order), colours, title)


def colouring(points: pd.DataFrame, colour_by: ColourBy, cluster_names: dict[int, str] | None = None) -> Colouring:
    if colour_by is ColourBy.CONFIDENCE:
        values = [float("nan") if _is_missing(v) else float(v) for v in points["theme_score"]]
        return Colouring(values, (), {}, "Top theme score")
    if colour_by is ColourBy.CLUSTER:
        names = cluster_names or {}
        labels = [names.get(int(c), f"Cluster {int(c) + 1}") for c in points["cluster"]]
        order = [names.get(c, f"Cluster {c + 1}") for c in sorted({int(c) for c in points["cluster"]})]
        return _categorical(labels, order, (), "Cluster")
    if colour_by is ColourBy.THEME:
        raw = [theme_label(v) for v in points["theme"]]
        labels, order = _top_categories(raw, "Other themes", "No theme")
        return _categorical(labels, order, ("No theme",), "Top theme")
    if colour_by is ColourBy.CLUTTER:
        raw = [_clutter_label(v) for v in points["clutter"]]
        labels, order = _top_categories(raw, "Other", "Not scored")
        # Real photos first, then the clutter kinds.
        order = tuple(sorted(order, key=lambda c: (c != "Photo", c == "Not scored", c)))
        return _categorical(labels, order, ("Not scored",), "Clutter")
    if colour_by is ColourBy.EVENT:
        raw = [
            (_event_label(place, day) or str(event)) if isinstance(event, str) else None
            for event, place, day in zip(points["event_id"], points["event_place"], points["event_date"], strict=True)
        ]
        labels, order = _top_categories(raw, "Other events", "No event")
        return _categorical(labels, order, ("Other events", "No event"), "Event")
    if colour_by is ColourBy.PERSON:
        raw = [_person_label(p, n) for p, n in zip(points["person_id"], points["person_name"], strict=True)]
        labels, order = _top_categories(raw, "Other people", "No faces")
        return _categorical(labels, order, ("Other people", "No faces"), "Person (biggest face)")
    years = [None if _is_missing(t) else str(t.year) for t in points["taken_at"]]
    labels, order = _top_categories(years, "Other years", "Date unknown")
    order = tuple(sorted(order, key=lambda c: (not c.isdigit(), c)))
    return _categorical(labels, order, ("Date unknown", "Other years"), "Year taken")


def hover_texts(points: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(file names, "date · theme score") per point. Plain text, no HTML: 20,000 of them
    travel on every rerun, and the JSON encoder spells each "<" in six characters. The
    hover template adds the layout, and the colour category shows beside (the trace name)."""
    files, details = [], []
    for name, taken, theme, score in zip(
        points["rel_path"], points["taken_at"], points["theme"], points["theme_score"], strict=True
    ):
        when = "no date" if _is_missing(taken) else taken.strftime("%-d %b %Y")
        label = theme_label(theme)
        files.append(ui.short_name(name, 28))
        details.append(f"{when} · {label} {score:.2f}" if label and not _is_missing(score) else f"{when} · no theme")
    return files, details


def marker_size(n: int) -> float:
    return 9.0 if n <= 300 else 6.0 if n <= 3000 else 4.0 if n <= 12000 else 3.0


def map_figure(points: pd.DataFrame, colours: Colouring) -> go.Figure:
    """One trace per category (legend toggles them), or one with a colour scale.

    WebGL (``Scattergl``) from WEBGL_FROM points, as plotly express does: it keeps 20,000
    points smooth, but a browser without WebGL draws nothing, so small maps use SVG."""
    import numpy as np
    import plotly.graph_objects as go

    n = len(points)
    trace = go.Scattergl if n >= WEBGL_FROM else go.Scatter
    size = marker_size(n)
    files, details = (np.asarray(t, dtype=object) for t in hover_texts(points))
    x = points["x"].to_numpy()
    y = points["y"].to_numpy()
    ids = points["photo_id"].to_numpy()
    fig = go.Figure()
    common = dict(mode="markers", hovertemplate="<b>%{text}</b><br>%{hovertext}<extra>%{fullData.name}</extra>")
    if colours.continuous:
        value = np.asarray(colours.values, dtype=float)
        have = ~np.isnan(value)
        if (~have).any():
            fig.add_trace(
                trace(
                    x=x[~have], y=y[~have], text=files[~have], hovertext=details[~have], customdata=ids[~have], name="No theme",
                    marker=dict(size=size, color=MISSING_COLOUR, opacity=0.7), **common,
                )
            )  # fmt: skip
        fig.add_trace(
            trace(
                x=x[have], y=y[have], text=files[have], hovertext=details[have], customdata=ids[have], name=colours.title,
                marker=dict(
                    size=size, color=value[have], colorscale=[list(s) for s in CONTINUOUS], cmin=0, cmax=1,
                    opacity=0.85, colorbar=dict(title=dict(text=colours.title, side="right"), thickness=12),
                ),
                showlegend=False, **common,
            )
        )  # fmt: skip
    else:
        labels = np.asarray(colours.values, dtype=object)
        for category in colours.categories:
            mask = labels == category
            count = int(mask.sum())
            fig.add_trace(
                trace(
                    x=x[mask], y=y[mask], text=files[mask], hovertext=details[mask], customdata=ids[mask],
                    name=f"{category} ({count:,})", legendgroup=category,
                    marker=dict(size=size, color=colours.colours[category], opacity=0.85), **common,
                )
            )  # fmt: skip
    def span(values: np.ndarray) -> list[float]:  # a margin, so no dot sits on the frame
        low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        pad = 0.06 * ((high - low) or 1.0)
        return [low - pad, high + pad]

    axis = dict(showgrid=False, zeroline=False, showticklabels=False, title=None)
    fig.update_layout(
        height=640,
        margin=dict(l=8, r=8, t=8, b=8),
        # No dragmode: Streamlit then pans on drag and selects on click; the toolbar's box
        # and lasso select many (a click selects nothing while those are on).
        hovermode="closest",
        uirevision="explorer",  # keep zoom while the page reruns
        # Below the map, so the map gets the whole width.
        legend=dict(title=dict(text=colours.title), itemsizing="constant", orientation="h", y=-0.02,
                    yanchor="top", x=0, font=dict(size=12)),
        xaxis={**axis, "range": span(x)},
        yaxis={**axis, "range": span(y)},
        plot_bgcolor="#fbf9f5",
    )
    return fig


def selected_from_event(event: object) -> list[int]:
    """Photo ids of the points selected in the chart, in the order plotly gives them."""
    try:
        chosen = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return []
    out: list[int] = []
    seen: set[int] = set()
    for point in chosen:
        custom = point.get("customdata")
        if isinstance(custom, list):
            custom = custom[0] if custom else None
        if custom is None:
            continue
        photo_id = int(custom)
        if photo_id not in seen:
            seen.add(photo_id)
            out.append(photo_id)
    return out


# ----------------------------------------------------------------------------- the selection


@dataclass(frozen=True)
class Selection:
    photo_ids: tuple[int, ...]
    origin: str  # "the map", "cluster 3"

    @property
    def focus(self) -> int | None:
        """The photo to show beside the chart: the last one picked."""
        return self.photo_ids[-1] if self.photo_ids else None


def current_selection() -> Selection:
    """Kept in session state as plain data ({"ids": [...], "origin": "..."}, or a list of ids)."""
    value = st.session_state.get(SELECTION)
    if isinstance(value, dict):
        return Selection(tuple(int(v) for v in value.get("ids", ())), str(value.get("origin", "the map")))
    if isinstance(value, list | tuple):
        return Selection(tuple(int(v) for v in value), "the map")
    return Selection((), "")


def select(photo_ids: Sequence[int], origin: str) -> None:
    st.session_state[SELECTION] = {"ids": [int(p) for p in photo_ids], "origin": origin}


def on_chart_select() -> None:
    """The chart's on_select callback: a new selection (or a cleared one) replaces the old."""
    select(selected_from_event(st.session_state.get(CHART_KEY)), "the map")


def clear_selection() -> None:
    st.session_state[SELECTION] = {"ids": [], "origin": ""}


def photo_row(points: pd.DataFrame, photo_id: int) -> dict | None:
    match = points[points["photo_id"] == photo_id]
    return None if match.empty else match.iloc[0].to_dict()


def preview(points: pd.DataFrame, selection: Selection, settings: Settings) -> None:
    """The photo of the clicked (last selected) point, with what the engine knows of it."""
    with st.container(border=True):
        row = photo_row(points, selection.focus) if selection.focus is not None else None
        if row is None:
            st.markdown("#### :material/touch_app: Click a dot")
            st.caption(
                "Its photo shows here: the chart's hover can only show text. To pick many, "
                "choose Box or Lasso select in the chart's toolbar; they show below the map."
            )
            return
        large = thumbnail_path(settings.cache, row["sha256"], max(settings.ingest.thumb_sizes))
        small = thumbnail_path(settings.cache, row["sha256"], min(settings.ingest.thumb_sizes))
        shown = next((p for p in (large, small) if p.is_file()), None)
        if shown is None:
            st.caption(":material/hide_image: thumbnail missing: re-run the ingest")
        else:
            st.image(str(shown), width="stretch")
        st.markdown(f"**{ui.md_escape(ui.short_name(row['rel_path'], 34))}**")
        facts = [ui.format_day(None if _is_missing(row["taken_at"]) else row["taken_at"])]
        label = theme_label(row["theme"])
        facts.append(f"{label} · {row['theme_score']:.2f}" if label else "no theme")
        if isinstance(row["clutter"], str):
            facts.append(f"{row['clutter']} · {row['clutter_score']:.2f}")
        event = _event_label(row["event_place"], row["event_date"])
        if event:
            facts.append(event)
        person = _person_label(row["person_id"], row["person_name"])
        if person:
            faces = int(row["n_faces"])
            facts.append(f"{person}" + (f" and {faces - 1} more" if faces > 1 else ""))
        facts.append(f"cluster {int(row['cluster']) + 1}")
        if isinstance(row["tags"], str):
            facts.append(f"tags: {row['tags']}")
        st.caption("  \n".join(ui.md_escape(f) for f in facts))
        if len(selection.photo_ids) > 1:
            st.caption(f"The last of {len(selection.photo_ids):,} selected photos.")


def selection_panel(db: Path, library_id: int, points: pd.DataFrame, selection: Selection, settings: Settings) -> None:
    """The selected photos as a grid, with the actions: labeling queue and tag."""
    shown = points[points["photo_id"].isin(selection.photo_ids)]
    n = len(shown)
    if not n:  # picked on another library's map
        return
    st.subheader(f":material/select_all: Selected photos ({n:,})", anchor=False)
    st.caption(
        f"From {selection.origin}. The actions apply to all {n:,}; "
        + (f"the grid shows the first {MAX_GRID}." if n > MAX_GRID else "all are shown below.")
    )
    queue_col, tag_col = st.columns(2, gap="medium")
    with queue_col, st.container(border=True):
        st.markdown("**:material/label: Add to the labeling queue**")
        task = st.segmented_control(
            "Question", ["themes", "clutter"], default="themes", key="explorer_queue_task",
            format_func=lambda t: {"themes": "Which themes?", "clutter": "Photo or clutter?"}[t],
        )  # fmt: skip
        reason = st.text_input(
            "Reason (the annotator sees it)", value="Picked in the embedding explorer", key="explorer_queue_reason"
        )
        if st.button("Add to queue", key="explorer_queue", icon=":material/playlist_add:", disabled=not task):
            _act(db, lambda: _enqueue(Store(db), list(shown["photo_id"]), task or "themes", reason))
    with tag_col, st.container(border=True):
        st.markdown("**:material/sell: Tag**")
        known = [t.tag for t in tags(db, library_id)]
        tag = st.text_input(
            "Tag", key="explorer_tag_text", placeholder="e.g. blurry, grandma's garden",
            help=("Tags in this library: " + ", ".join(known[:12])) if known else "Free text; stored lower case.",
        )  # fmt: skip
        if st.button("Tag selected photos", key="explorer_tag", icon=":material/sell:"):
            _act(db, lambda: _tag(Store(db), list(shown["photo_id"]), tag))
    st.button("Clear selection", key="explorer_clear", icon=":material/deselect:", on_click=clear_selection)
    grid = shown.sort_values(["cluster", "typicality"]).head(MAX_GRID)
    ui.thumbnail_grid(
        [
            ui.Thumb(
                thumbnail_path(settings.cache, r.sha256, min(settings.ingest.thumb_sizes)),
                f"{ui.short_name(r.rel_path, 16)}",
            )
            for r in grid.itertuples()
        ],
        columns=8,
    )


def _act(db: Path, action) -> None:  # noqa: ANN001 - a no-argument callable returning a message
    """Run a write through the gate; say what happened (a toast survives the rerun)."""
    try:
        with data.run_registry().gate(db).writer():
            message = action()
    except (TagError, ValueError, StoreError, RunError) as exc:
        ui.show_error(str(exc))
        return
    st.session_state["explorer_flash"] = message
    st.rerun()


def flash() -> None:
    message = st.session_state.pop("explorer_flash", None)
    if message:
        st.toast(message, icon=":material/check_circle:")


def _tag(store: Store, photo_ids: list[int], tag: str) -> str:
    added = tag_photos(store, photo_ids, tag)
    return f"Tagged {added:,} photos '{tag.strip().lower()}'" + (
        f" ({len(photo_ids) - added:,} already had it)." if added < len(photo_ids) else "."
    )


def _enqueue(store: Store, photo_ids: list[int], task: str, reason: str) -> str:
    """The labeling queue when the labeling package is there, else the explorer's own table."""
    try:
        from labeling.queue import enqueue_photos
    except ImportError as exc:
        from curation.analysis.tags import save_selection

        logger.warning("labeling.queue cannot be imported (%s): explorer picks go to explorer_selections", exc)
        added = save_selection(store, photo_ids, task, reason)
        return (
            f"Kept {added:,} photos for {task} labeling in the explorer's own list: the labeling "
            f"queue is not available ({exc})."
        )
    added = enqueue_photos(store, photo_ids, task, reason, source="explorer")
    already = len(photo_ids) - added
    return f"Queued {added:,} photos for {task} labeling" + (f"; {already:,} were queued already." if already else ".")


# ----------------------------------------------------------------------------- clusters


def cluster_names(summaries: Sequence[ClusterSummary]) -> dict[int, str]:
    """'3 · Beach & sea': the number people see, and the theme of at least 40 % of its
    photos ('mixed' when no theme is that common)."""
    out = {}
    for s in summaries:
        top = next((t for t in s.themes if t.theme is not None), None)
        named = theme_label(top.theme) if top is not None and top.share >= CLUSTER_NAME_SHARE else None
        out[s.cluster] = f"{s.cluster + 1} · {named or 'mixed'}"
    return out


def cluster_cards(summaries: Sequence[ClusterSummary], points: pd.DataFrame, settings: Settings) -> None:
    st.subheader(":material/workspaces: Clusters", anchor=False)
    st.caption(
        "k-means on the embeddings (after PCA), not on the 2-D picture, so a cluster can look "
        "spread out on the map. The photos shown are the nearest to each cluster's centre."
    )
    by_id = points.set_index("photo_id")
    names = cluster_names(summaries)
    for start in range(0, len(summaries), 2):
        for column, s in zip(st.columns(2, gap="medium"), summaries[start : start + 2], strict=False):
            with column, st.container(border=True):
                head, button = st.columns([3, 1], vertical_alignment="center")
                head.markdown(f"**Cluster {ui.md_escape(names[s.cluster])}** · {s.n_photos:,} photos ({s.share:.0%})")
                themes = " · ".join(
                    f"{theme_label(t.theme) or 'no theme'} {t.share:.0%}" for t in s.themes
                )
                facts = [themes]
                if s.n_events:
                    facts.append(f"{s.n_events} {'event' if s.n_events == 1 else 'events'}")
                if s.n_with_faces:
                    facts.append(f"{s.n_with_faces:,} with faces")
                if s.n_clutter:
                    facts.append(f"{s.n_clutter:,} clutter")
                head.caption(ui.md_escape(" · ".join(facts)))
                members = [int(p) for p in points.loc[points["cluster"] == s.cluster, "photo_id"]]
                button.button(
                    "Select", key=f"explorer_select_cluster_{s.cluster}", icon=":material/select_all:",
                    on_click=select, args=(members, f"cluster {names[s.cluster]}"), width="stretch",
                )  # fmt: skip
                for col, photo_id in zip(st.columns(4), s.samples, strict=False):
                    sha = by_id.at[photo_id, "sha256"]
                    tile = data.thumbnail_tile(thumbnail_path(settings.cache, sha, min(settings.ingest.thumb_sizes)))
                    if tile is None:
                        col.caption(":material/hide_image:")
                    else:
                        col.image(tile, width="stretch")

"""Embedding explorer: every photo on a 2-D map of its image embedding; select, label, tag."""

from __future__ import annotations

import shlex

import streamlit as st

from curation.analysis.embedding_map import MapParams
from curation.store import StoreError
from dashboard import data, ui
from dashboard import explorer_view as view

settings = data.current_settings()
db = settings.database

ui.page_header(
    "Embedding explorer",
    ":material/scatter_plot:",
    "Every photo on one map, placed by what it shows: similar photos sit together. "
    "Colour it, select a group, send it to labeling or tag it.",
)
view.flash()

top = st.columns([2, 3, 1], vertical_alignment="bottom")
library = ui.choose_library(
    settings,
    key="explorer_library",
    icon=":material/scatter_plot:",
    purpose="The map places every photo of a library by its image embedding.",
    stage_note="the vision stage computes the embeddings",
    where=top[0],
)
try:
    versions = view.versions(db, library.library_id)
except StoreError as exc:
    ui.show_error(str(exc), retry_key="explorer_retry_versions")
    st.stop()

if not versions:
    ui.empty_state(
        ":material/scatter_plot:",
        "No image embeddings yet",
        f"**{ui.md_escape(library.name)}** has {library.n_photos:,} photos ingested, but the map needs their "
        "image embeddings, which the **vision stage** computes (with the themes and clutter scores).",
    )
    ui.what_to_do_now(
        ["Run the vision stage on this library: from **Libraries & runs** (stage *Vision*), or from a terminal:"],
        f".venv/bin/curation run {shlex.quote(library.root)} --stages vision --db {shlex.quote(str(db))}",
    )
    st.stop()

with top[1]:
    by_version = {v.model_version: v for v in versions}
    if st.session_state.get("explorer_version") not in by_version:  # another library was chosen
        st.session_state["explorer_version"] = versions[0].model_version
    model_version = st.selectbox(
        "Embedder",
        list(by_version),
        key="explorer_version",
        format_func=lambda v: f"{v} ({by_version[v].n_photos:,} photos)",
        help="The model version that made the embeddings; each has its own map.",
    )
with top[2], st.popover("Map settings", icon=":material/tune:", width="stretch"):
    with st.form("explorer_map_form", border=False):
        st.caption("PCA to 50 dimensions, then UMAP to 2; clusters by k-means on the PCA space.")
        neighbours = st.number_input("UMAP neighbours", 2, 200, 15, key="explorer_neighbors",
                                     help="More keeps more of the overall layout; fewer, more local detail.")  # fmt: skip
        min_dist = st.slider("UMAP minimum distance", 0.0, 1.0, 0.1, 0.05, key="explorer_min_dist")
        n_clusters = st.number_input("Clusters (0: choose from the size)", 0, 60, 0, key="explorer_clusters")
        if st.form_submit_button("Recompute map", icon=":material/refresh:"):
            st.session_state["explorer_params"] = MapParams(
                n_neighbors=int(neighbours), min_dist=float(min_dist), n_clusters=int(n_clusters) or None
            ).to_json()

chosen = st.session_state.get("explorer_params")
emap = view.ensure_map(db, library, by_version[model_version], MapParams.from_json(chosen) if chosen else None)
if emap is None:  # being computed, or it cannot be: ensure_map said so
    st.stop()

points = view.points(db, emap)
summaries = view.clusters(db, emap)
selection = view.current_selection()

colour_col, info_col = st.columns([3, 2], vertical_alignment="bottom")
colour_by = colour_col.segmented_control(
    "Colour by", list(view.ColourBy), default=view.ColourBy.THEME, key="explorer_colour",
    format_func=lambda c: c.label,
) or view.ColourBy.THEME  # fmt: skip
info_col.caption(
    view.map_facts(emap, len(points)),
    help="Hover a dot for its file, date and theme. Plotly cannot show pictures on hover: click a dot "
    "and its photo shows on the right. Box or Lasso select (the chart's toolbar, top right) picks many, "
    "listed below the map; Pan brings clicks back. Scroll to zoom, double-click to zoom out; click a "
    "legend entry to hide it.",
)
chart, side = st.columns([3, 1], gap="medium")
with chart:
    st.plotly_chart(
        view.map_figure(points, view.colouring(points, colour_by, view.cluster_names(summaries))),
        on_select=view.on_chart_select,
        selection_mode=("points", "box", "lasso"),
        key=view.CHART_KEY,
        config={"scrollZoom": True, "displaylogo": False},
        width="stretch",
    )
with side:
    view.preview(points, selection, settings)

if selection.photo_ids:
    view.selection_panel(db, library.library_id, points, selection, settings)

view.cluster_cards(summaries, points, settings)

"""People: the persons found by their faces; name them, fix the groups, see who is close."""

from __future__ import annotations

import shlex

import streamlit as st

from curation.store import StoreError
from dashboard import data, ui
from dashboard import people_view as view

settings = data.current_settings()
db = settings.database

ui.page_header(
    "People",
    ":material/groups:",
    "The people in your photos, found by their faces. Name them, merge or split the groups "
    "the model got wrong, and see who appears with whom.",
)
view.flash()

pick, _ = st.columns([2, 3])
library = ui.choose_library(
    settings,
    key="people_library",
    icon=":material/groups:",
    purpose="People come from the faces in a library's photos.",
    stage_note="the faces stage finds the faces and groups them into people",
    where=pick,
)
try:
    people = view.overview(db, library.library_id, settings.cache)
except StoreError as exc:
    ui.show_error(str(exc), retry_key="people_retry_overview")
    st.stop()

if not people.persons:
    name = ui.md_escape(library.name)
    if people.n_faces:  # found, not grouped yet: the stage stopped before its last step
        title, body = (
            "Faces not grouped yet",
            f"The faces stage found {people.n_faces:,} faces in **{name}** but has not grouped them into "
            "people yet (it does so at its end): run it again.",
        )
    elif people.n_photos_scanned:
        title, body = (
            "No faces found",
            f"The faces stage looked at {people.n_photos_scanned:,} photos of **{name}** and found no face it "
            "could recognise again (faces smaller than about 40 pixels, or turned away, are skipped).",
        )
    else:
        title, body = (
            "No faces yet",
            f"**{name}** has {library.n_photos:,} photos ingested, but the **faces stage** has not looked for "
            "faces in them yet.",
        )
    ui.empty_state(":material/face:", title, body)
    ui.what_to_do_now(
        ["Run the faces stage on this library: from **Libraries & runs** (stage *Faces*), or from a terminal:"],
        f".venv/bin/curation run {shlex.quote(library.root)} --stages faces --db {shlex.quote(str(db))}",
    )
    st.stop()

named = sum(1 for p in people.persons if p.name)
ui.metric_row(
    [
        ui.Metric("People", len(people.persons), "Groups of faces the model thinks are one person."),
        ui.Metric("Named", named, "People with a name; names survive later runs."),
        ui.Metric("Faces", people.n_faces, "Faces detected in the library's photos."),
        ui.Metric("Photos scanned", people.n_photos_scanned, "Photos the faces stage has looked at."),
    ]
)

# ------------------------------------------------------------------ the people
st.subheader(":material/face: Everyone", anchor=False)
search_col, once_col = st.columns([2, 3], vertical_alignment="bottom")
search = search_col.text_input("Find", key="people_search", placeholder="name", icon=":material/search:")
show_once = once_col.toggle("Show people seen in one photo only", key="people_show_once")
shown = [
    p for p in people.persons
    if (show_once or p.n_photos > 1 or p.name) and search.strip().lower() in p.label.lower()
]  # fmt: skip
hidden = len(people.persons) - len(shown)
if shown:
    show_all = len(shown) > view.MAX_CARDS and st.session_state.get("people_show_all", False)
    view.person_grid(shown if show_all else shown[: view.MAX_CARDS])
    if len(shown) > view.MAX_CARDS:
        st.toggle(f"Show all {len(shown):,}", key="people_show_all")
else:
    st.info("No one matches: clear the search, or show the people seen once.", icon=":material/search_off:")
if hidden and not search.strip():
    st.caption(f"{hidden:,} people seen in one photo only are hidden (often strangers in the background).")

view.edit_panel(db, library.library_id, people, settings.cache)

# ------------------------------------------------------------------ who with whom
st.subheader(":material/hub: Who appears with whom", anchor=False)
by_id = {p.person_id: p for p in people.persons}
owner_col, _ = st.columns([2, 3])
view.keep_valid("people_owner", list(by_id))
owner = owner_col.selectbox(
    "Library owner", [p.person_id for p in people.persons], index=None, key="people_owner",
    placeholder="Guess: the person in the most photos", format_func=lambda i: by_id[i].label,
    help="The close circle is the people who share the most events (then photos) with the owner.",
)  # fmt: skip
try:
    rel = view.relations(db, library.library_id, owner)
except StoreError as exc:
    ui.show_error(str(exc), retry_key="people_retry_relations")
    st.stop()

owner_id = rel.circle.owner if rel.circle else None
nodes = view.graph_nodes(people, rel.relationships, owner_id, include_once=show_once)
if not rel.relationships:
    st.info("No two people appear in the same photo yet: the graph needs group photos.", icon=":material/group_off:")
else:
    graph_col, circle_col = st.columns([3, 2], gap="medium")
    with graph_col, st.container(border=True):
        if len(nodes) < 2:
            st.info(
                "Only people seen in one photo appear together so far: turn on *Show people seen in one photo "
                "only* above to draw them.",
                icon=":material/group_off:",
            )
        else:
            st.plotly_chart(
                view.relationship_figure(
                    people, rel.relationships, view.force_layout(nodes, rel.relationships), owner_id
                ),
                key="people_graph",
                config={"displaylogo": False},
                width="stretch",
            )
            st.caption(
                "Each face is a person (bigger: in more photos; the owner has a coloured ring); a line joins "
                "two people seen in the same photo, thicker for more photos together. Hover a line for the "
                "numbers." + ("" if show_once else " People seen in one photo only are left out, as above.")
            )
    with circle_col, st.container(border=True):
        view.circle_list(people, rel)
    with st.expander(f":material/table: Every pair ({len(rel.relationships):,})"):
        view.relationship_table(people, rel.relationships)

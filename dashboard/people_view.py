"""The People page's parts: cached reads, person cards, the edit panel, the relationship graph.

Reads are ``st.cache_data`` keyed by database path + file version; edits go through
``curation.faces.editing`` inside the run registry's gate, so they never collide with a run
of this process, and pin the faces they move so the next faces stage keeps them.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from curation.faces.editing import (
    FaceCard,
    PeopleEditError,
    PeopleOverview,
    PeopleRelations,
    PersonCard,
    merge_persons,
    move_faces,
    people_overview,
    people_relations,
    person_faces,
    rename_person,
    split_person,
)
from curation.store import Store, StoreError
from dashboard import data, ui
from dashboard.runs import RunError

if TYPE_CHECKING:
    import numpy as np
    import plotly.graph_objects as go

    from curation.faces.people import Relationship

PERSON = "people_person"  # session state: the person being edited
MAX_CARDS = 24
MAX_FACES = 35
MAX_GRAPH_NODES = 30
NODE_COLOUR = "#b5542c"
EDGE_COLOUR = "#8f8678"


# ----------------------------------------------------------------------------- cached reads


def _reader(db: str):  # noqa: ANN202 - a context manager yielding a DuckDB connection
    return data.run_registry().gate(Path(db)).reader(data.READ_BUSY_TIMEOUT_S)


@st.cache_data(show_spinner=False, max_entries=32)
def _overview(db: str, version: data.DbVersion, library_id: int, cache: str) -> PeopleOverview:
    with _reader(db) as con:
        return people_overview(con, library_id, Path(cache))


@st.cache_data(show_spinner=False, max_entries=64)
def _faces(db: str, version: data.DbVersion, library_id: int, person_id: int, cache: str) -> list[FaceCard]:
    with _reader(db) as con:
        return person_faces(con, library_id, person_id, Path(cache))


@st.cache_data(show_spinner=False, max_entries=32)
def _relations(db: str, version: data.DbVersion, library_id: int, owner: int | None) -> PeopleRelations:
    with _reader(db) as con:
        return people_relations(con, library_id, owner=owner)


def overview(db: Path, library_id: int, cache: Path) -> PeopleOverview:
    return _overview(str(db), data.db_version(db), library_id, str(cache))


def faces_of(db: Path, library_id: int, person_id: int, cache: Path) -> list[FaceCard]:
    return _faces(str(db), data.db_version(db), library_id, person_id, str(cache))


def relations(db: Path, library_id: int, owner: int | None) -> PeopleRelations:
    return _relations(str(db), data.db_version(db), library_id, owner)


@st.cache_data(show_spinner=False, max_entries=256)
def _icon(path: str, mtime_ns: int, size: int) -> str:
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        square = ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    square.save(out, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def face_icon(path: Path, size: int = 96) -> str | None:
    """A face crop as a data URI for plotly's layout images; None when it is missing."""
    try:
        return _icon(str(path), path.stat().st_mtime_ns, size)
    except OSError:
        return None


# ----------------------------------------------------------------------------- edits


def apply_edit(db: Path, edit: Callable[[Store], str]) -> None:
    """Run one edit through the gate and rerun with a toast; errors show as a sentence."""
    try:
        with data.run_registry().gate(db).writer():
            message = edit(Store(db))
    except (PeopleEditError, StoreError, RunError) as exc:
        ui.show_error(str(exc))
        return
    st.session_state["people_flash"] = message
    st.rerun()


def flash() -> None:
    message = st.session_state.pop("people_flash", None)
    if message:
        st.toast(message, icon=":material/check_circle:")


def edit_person(person_id: int) -> None:
    st.session_state[PERSON] = person_id


def keep_valid(key: str, options: Sequence[int]) -> None:
    """Forget a choice that is no longer offered (a person merged away, or the one being
    edited), before its widget is drawn."""
    if st.session_state.get(key) is not None and st.session_state[key] not in options:
        st.session_state[key] = None


# ----------------------------------------------------------------------------- cards


def years(card: PersonCard) -> str:
    if card.first_seen is None:
        return "date unknown"
    first, last = card.first_seen.year, (card.last_seen or card.first_seen).year
    return str(first) if first == last else f"{first}–{last}"


def person_grid(persons: Sequence[PersonCard], *, columns: int = 6) -> None:
    """Face-crop cards: name, photos, years, and an Edit button."""
    for start in range(0, len(persons), columns):
        for column, card in zip(st.columns(columns), persons[start : start + columns], strict=False):
            with column, st.container(border=True):
                tile = data.thumbnail_tile(card.crop)
                if tile is None:
                    with st.container(height=120, vertical_alignment="center"):
                        st.caption(":material/face: crop missing")
                else:
                    st.image(tile, width="stretch")
                name = f"**{ui.md_escape(card.label)}**" if card.name else f":gray[{ui.md_escape(card.label)}]"
                st.markdown(name)
                st.caption(f"{card.n_photos:,} {'photo' if card.n_photos == 1 else 'photos'}  \n{years(card)}")
                st.button(
                    "Edit", key=f"people_edit_{card.person_id}", icon=":material/edit:", on_click=edit_person,
                    args=(card.person_id,), width="stretch", type="tertiary",
                )  # fmt: skip


def face_picker(faces: Sequence[FaceCard], person_id: int, *, columns: int = 7) -> list[str]:
    """The person's faces, each with a checkbox; returns the ticked face ids."""
    for start in range(0, len(faces), columns):
        for column, face in zip(st.columns(columns), faces[start : start + columns], strict=False):
            with column:
                tile = data.thumbnail_tile(face.crop)
                if tile is None:
                    st.caption(":material/face: crop missing")
                else:
                    st.image(tile, width="stretch")
                st.checkbox(
                    (face.taken_at.strftime("%-d %b %y") if face.taken_at else "no date")
                    + (" :material/push_pin:" if face.pinned else ""),
                    key=f"people_face_{person_id}_{face.face_id}",
                    help=f"{face.rel_path} · {ui.format_day(face.taken_at)} · distance to the person's "
                    f"mean face {face.distance:.2f}" + (" · placed by hand" if face.pinned else ""),
                )
    return [f.face_id for f in faces if st.session_state.get(f"people_face_{person_id}_{f.face_id}")]


def edit_panel(db: Path, library_id: int, people: PeopleOverview, cache: Path) -> None:
    """Rename, merge, split and move for one person."""
    by_id = {p.person_id: p for p in people.persons}
    ids = list(by_id)
    if st.session_state.get(PERSON) not in by_id:
        st.session_state[PERSON] = ids[0]
    with st.container(border=True):
        st.markdown("#### :material/edit: Edit a person")
        pick, _ = st.columns([2, 3])
        person_id = pick.selectbox(
            "Person", ids, key=PERSON, format_func=lambda i: f"{by_id[i].label} ({by_id[i].n_photos:,} photos)"
        )
        person = by_id[person_id]
        crop, actions = st.columns([1, 4], gap="medium")
        tile = data.thumbnail_tile(person.crop)
        if tile is not None:
            crop.image(tile, width="stretch")
        crop.caption(
            f"{person.n_faces:,} faces in {person.n_photos:,} photos · {years(person)}"
            + (f" · {person.n_pinned} placed by hand" if person.n_pinned else "")
        )
        with actions:
            name_col, merge_col = st.columns(2, gap="medium")
            with name_col:
                st.session_state.setdefault(f"people_rename_{person_id}", person.name or "")
                new_name = st.text_input(
                    "Name", key=f"people_rename_{person_id}", placeholder="e.g. Grandma",
                    help="Names stay with the person when the faces stage runs again.",
                )  # fmt: skip
                if st.button("Save name", key="people_rename_save", icon=":material/save:"):
                    label = new_name.strip() or "no name"
                    apply_edit(
                        db,
                        lambda store: _done(rename_person(store, library_id, person_id, new_name), f"Renamed to {label}."),
                    )
            with merge_col:
                others = [i for i in ids if i != person_id]
                keep_valid("people_merge_other", others)
                other = st.selectbox(
                    "Same person as…", others, index=None, key="people_merge_other", placeholder="choose a person",
                    format_func=lambda i: f"{by_id[i].label} ({by_id[i].n_photos:,} photos)",
                    help=f"Merging moves all their faces into {person.label}.",
                )  # fmt: skip
                if st.button("Merge", key="people_merge", icon=":material/merge:", disabled=other is None):
                    apply_edit(
                        db,
                        lambda store: _done(
                            merge_persons(store, library_id, person_id, other),
                            f"Merged {by_id[other].label} into {person.label}.",
                        ),
                    )

        faces = faces_of(db, library_id, person_id, cache)
        st.markdown("**Faces** · least like the rest first: the likeliest to be someone else")
        shown = faces[:MAX_FACES]
        ticked = face_picker(shown, person_id)
        if len(faces) > MAX_FACES:
            st.caption(f"The {MAX_FACES} least typical of {len(faces):,} faces.")
        split_col, move_col = st.columns(2, gap="medium")
        with split_col:
            split_name = st.text_input("New person's name (optional)", key="people_split_name")
            if st.button(
                f"Split {len(ticked)} ticked {'face' if len(ticked) == 1 else 'faces'} into a new person",
                key="people_split", icon=":material/call_split:", disabled=not ticked,
            ):  # fmt: skip
                apply_edit(
                    db,
                    lambda store: _done(
                        split_person(store, library_id, person_id, ticked, split_name),
                        f"{len(ticked)} faces are now a new person.",
                    ),
                )
        with move_col:
            targets = [i for i in ids if i != person_id]
            keep_valid("people_move_target", targets)
            target = st.selectbox(
                "Move ticked faces to…", targets, index=None, key="people_move_target",
                placeholder="choose a person", format_func=lambda i: by_id[i].label,
            )  # fmt: skip
            if st.button("Move", key="people_move", icon=":material/move_item:", disabled=not ticked or target is None):
                apply_edit(
                    db,
                    lambda store: _done(
                        move_faces(store, library_id, ticked, target), f"Moved {len(ticked)} faces to {by_id[target].label}."
                    ),
                )


def _done(_result: object, message: str) -> str:
    return message


# ----------------------------------------------------------------------------- who with whom


@dataclass(frozen=True)
class GraphLayout:
    person_ids: tuple[int, ...]
    xy: np.ndarray  # (n, 2) in -1..1


def graph_nodes(
    people: PeopleOverview, pairs: Sequence[Relationship], owner: int | None, *, include_once: bool = False
) -> list[int]:
    """The persons drawn: those seen with someone, most photos first (the owner always);
    people seen in one photo only (strangers, mostly) unless named or ``include_once``."""
    linked = {p for r in pairs for p in (r.person_a, r.person_b)}
    ranked = [
        c.person_id
        for c in people.persons
        if c.person_id in linked and (include_once or c.n_photos > 1 or c.name or c.person_id == owner)
    ]
    nodes = ranked[:MAX_GRAPH_NODES]
    if owner is not None and owner in linked and owner not in nodes:
        nodes = [owner, *nodes[: MAX_GRAPH_NODES - 1]]
    # Someone whose only companions were left out would float alone: leave them out too.
    drawn = set(nodes)
    paired = {p for r in pairs if r.person_a in drawn and r.person_b in drawn for p in (r.person_a, r.person_b)}
    return [p for p in nodes if p in paired]


def force_layout(nodes: Sequence[int], pairs: Sequence[Relationship], *, seed: int = 7, iterations: int = 400) -> GraphLayout:
    """Fruchterman-Reingold, edges weighted by photos together (log-scaled), seeded: the
    same people and pairs give the same picture. Pure numpy; a few dozen nodes.

    Every pair of nodes repels (k²/d), linked ones attract (w·d²/k), a weak pull to the
    centre keeps separate groups on the page, and the steps shrink as it cools."""
    import numpy as np

    n = len(nodes)
    if n == 0:
        return GraphLayout((), np.zeros((0, 2)))
    if n == 1:
        return GraphLayout(tuple(nodes), np.zeros((1, 2)))
    index = {p: i for i, p in enumerate(nodes)}
    weight = np.zeros((n, n))
    for r in pairs:
        if r.person_a in index and r.person_b in index:
            w = 1.0 + math.log(r.photos_together)
            weight[index[r.person_a], index[r.person_b]] = weight[index[r.person_b], index[r.person_a]] = w
    rng = np.random.default_rng(seed)
    angle = np.linspace(0, 2 * math.pi, n, endpoint=False)
    pos = np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(scale=0.05, size=(n, 2))
    k = 2.0 / math.sqrt(n)  # the ideal distance in a 2 x 2 square
    for step in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)
        unit = delta / dist[:, :, None]
        magnitude = k * k / dist - weight * dist * dist / k
        np.fill_diagonal(magnitude, 0.0)
        force = magnitude[:, :, None] * unit
        move = force.sum(axis=1) - 0.1 * pos * np.linalg.norm(pos, axis=1, keepdims=True)
        length = np.linalg.norm(move, axis=1, keepdims=True) + 1e-9
        temperature = 0.25 * (1.0 - step / iterations) + 0.002
        pos += move / length * np.minimum(length, temperature)
    return GraphLayout(tuple(nodes), _spread(pos, min_distance=min(0.36, 1.6 / math.sqrt(n))))


def _spread(pos: np.ndarray, *, min_distance: float, rounds: int = 200) -> np.ndarray:
    """Fit the layout in -1..1 and push apart nodes closer than ``min_distance`` (faces
    must not cover each other); a tightly linked pair would otherwise sit on one spot."""
    import numpy as np

    pos = pos.copy()
    for _ in range(rounds):
        pos -= (pos.max(axis=0) + pos.min(axis=0)) / 2
        pos /= np.abs(pos).max() or 1.0
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.linalg.norm(delta, axis=2)
        np.fill_diagonal(dist, 10.0)  # farther than anything in -1..1
        close = dist < min_distance
        if not close.any():
            break
        push = np.where(close, (min_distance - dist) / 2 / np.maximum(dist, 1e-6), 0.0)
        pos += (push[:, :, None] * delta).sum(axis=1) * 1.05
    pos -= (pos.max(axis=0) + pos.min(axis=0)) / 2
    return pos / (np.abs(pos).max() or 1.0)


def relationship_figure(
    people: PeopleOverview, pairs: Sequence[Relationship], layout: GraphLayout, owner: int | None
) -> go.Figure:
    """Nodes are faces (layout images) with names; edges are as thick as the photos together."""
    import numpy as np
    import plotly.graph_objects as go

    cards = {c.person_id: c for c in people.persons}
    where = {p: layout.xy[i] for i, p in enumerate(layout.person_ids)}
    shown = [r for r in pairs if r.person_a in where and r.person_b in where]
    fig = go.Figure()
    top = max((r.photos_together for r in shown), default=1)
    buckets: dict[float, list[Relationship]] = {}
    for r in shown:
        width = round(1.0 + 7.0 * math.sqrt(r.photos_together / top), 1)
        buckets.setdefault(width, []).append(r)
    for width, rels in sorted(buckets.items()):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for r in rels:
            (x0, y0), (x1, y1) = where[r.person_a], where[r.person_b]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        fig.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=width, color=EDGE_COLOUR), opacity=0.55,
                       hoverinfo="skip", showlegend=False)
        )  # fmt: skip
    if shown:  # hover for the edges: an invisible point in the middle of each
        mid = np.array([(where[r.person_a] + where[r.person_b]) / 2 for r in shown])
        fig.add_trace(
            go.Scatter(
                x=mid[:, 0], y=mid[:, 1], mode="markers", marker=dict(size=14, opacity=0), showlegend=False,
                hovertemplate="%{text}<extra></extra>",
                text=[
                    f"<b>{people.label_of(r.person_a)} & {people.label_of(r.person_b)}</b><br>"
                    f"{r.photos_together} photos together"
                    + (f", {r.events_together} events" if r.events_together else "")
                    for r in shown
                ],
            )
        )  # fmt: skip
    sizes = [cards[p].n_photos if p in cards else 1 for p in layout.person_ids]
    biggest = max(sizes, default=1)
    base = 34 if len(sizes) <= 12 else 26  # few people: bigger faces
    marker_px = [base + base * math.sqrt(s / biggest) for s in sizes]
    fig.add_trace(
        go.Scatter(
            x=layout.xy[:, 0], y=layout.xy[:, 1], mode="markers+text",
            marker=dict(size=[m + 8 for m in marker_px], color="white",
                        line=dict(width=[4 if p == owner else 2 for p in layout.person_ids],
                                  color=[NODE_COLOUR if p == owner else "#d9d1c4" for p in layout.person_ids])),
            text=[people.label_of(p) for p in layout.person_ids], textposition="bottom center",
            textfont=dict(size=12), showlegend=False, hovertemplate="%{customdata}<extra></extra>",
            customdata=[
                f"<b>{people.label_of(p)}</b><br>{cards[p].n_photos if p in cards else 0} photos"
                + ("<br>the owner" if p == owner else "")
                for p in layout.person_ids
            ],
        )
    )  # fmt: skip
    # Each face as a layout image the size of its marker (data units: the axes span 2.6).
    height_px = 560
    images = []
    for p, (x, y), m in zip(layout.person_ids, layout.xy, marker_px, strict=True):
        icon = face_icon(cards[p].crop) if p in cards else None
        if icon is None:
            continue
        side = 2.6 * m / height_px
        images.append(
            dict(source=icon, xref="x", yref="y", x=x, y=y, sizex=side, sizey=side, xanchor="center",
                 yanchor="middle", sizing="contain", layer="above")
        )  # fmt: skip
    axis = dict(showgrid=False, zeroline=False, showticklabels=False, range=[-1.3, 1.3], title=None)
    fig.update_layout(
        images=images,
        height=height_px,
        margin=dict(l=4, r=4, t=8, b=4),
        xaxis=axis,
        yaxis={**axis, "scaleanchor": "x", "scaleratio": 1},
        plot_bgcolor="#fbf9f5",
        hovermode="closest",
        dragmode="pan",
    )
    return fig


def circle_list(people: PeopleOverview, rel: PeopleRelations) -> None:
    circle = rel.circle
    if circle is None:
        return
    owner = people.label_of(circle.owner)
    st.markdown(f"**Close circle of {ui.md_escape(owner)}**")
    if circle.owner_inferred:
        st.caption("The owner is guessed as the person in the most photos; choose another above.")
    if not circle.members:
        st.caption(f"No one appears with {ui.md_escape(owner)} in two photos or more yet.")
        return
    cards = {c.person_id: c for c in people.persons}
    for m in circle.members:
        face, text = st.columns([1, 4], vertical_alignment="center")
        tile = data.thumbnail_tile(cards[m.person_id].crop) if m.person_id in cards else None
        if tile is not None:
            face.image(tile, width="stretch")
        events = f", {m.events_together} events" if m.events_together else ""
        text.markdown(
            f"**{ui.md_escape(people.label_of(m.person_id))}**  \n"
            f":gray[{m.photos_together} photos together{events} · in {m.photos_total} photos]"
        )


def relationship_table(people: PeopleOverview, pairs: Sequence[Relationship]) -> None:
    import pandas as pd

    st.dataframe(
        pd.DataFrame(
            [
                (people.label_of(r.person_a), people.label_of(r.person_b), r.photos_together, r.events_together,
                 r.first_seen_together, r.last_seen_together)
                for r in pairs
            ],
            columns=["Person", "With", "Photos together", "Events together", "First", "Last"],
        ),  # fmt: skip
        hide_index=True,
        placeholder="—",
        column_config={
            "First": st.column_config.DatetimeColumn(format="D MMM YYYY"),
            "Last": st.column_config.DatetimeColumn(format="D MMM YYYY"),
        },
        key="people_relationships_table",
    )

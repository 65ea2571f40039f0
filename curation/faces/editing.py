"""People edits through the store, and the summaries the People page shows.

Each edit loads the library's :class:`~curation.faces.people.PeopleIndex`, applies one
change and saves it back, in one connection. Merge, split and move *pin* the faces they
touch, so the next run of the faces stage (``update_people``, which re-clusters with the
pins as constraints) keeps them where the person put them; a name stays with its person id.

Answers to "same person?" questions (the labeling loop's pull) act on people through
:func:`apply_face_answers`: a "same person" must-links the two faces (the doubtful face joins
the reference face's person), "different people" cannot-links them (the doubtful face
leaves), and both constraints are kept by every later re-clustering.

Summaries (read-only, on an open connection): the persons as cards with their cover face,
a person's faces (least typical first: the likeliest mistakes), who appears with whom, and
the owner's close circle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from curation.faces.people import CloseCircle, LinkSource, Relationship, close_circle, relationships
from curation.pipeline.faces_stage import face_crop_path, load_people_index, save_people_index
from curation.store import Store

if TYPE_CHECKING:
    import duckdb

    from curation.faces.people import PeopleIndex

T = TypeVar("T")
MAX_NAME_LENGTH = 60


class PeopleEditError(ValueError):
    """An edit that cannot be applied; the message says why and what to do instead."""


def _tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    return frozenset(r[0] for r in rows)


def faces_version(con: duckdb.DuckDBPyConnection, library_id: int) -> str | None:
    """The face model version with the most of the library's faces placed in persons."""
    if "faces" not in _tables(con):
        return None
    row = con.execute(
        "SELECT model_version FROM faces WHERE library_id = ? GROUP BY model_version "
        "ORDER BY count(person_id) DESC, count(*) DESC, model_version DESC LIMIT 1",
        [library_id],
    ).fetchone()
    return row[0] if row else None


# ----------------------------------------------------------------------------- edits


def _edit(store: Store, library_id: int, apply: Callable[[PeopleIndex], T]) -> T:
    with store.connect() as con:
        version = faces_version(con, library_id)
        if version is None:
            raise PeopleEditError(
                f"library {library_id} has no faces yet: run the faces stage (`curation run LIBRARY --stages faces`)"
            )
        index = load_people_index(con, library_id, version)
        try:
            result = apply(index)
        except KeyError as exc:  # the index raises KeyError("no person 12") for unknown ids
            raise PeopleEditError(f"{exc.args[0]}: the page may be out of date, reload it") from exc
        except ValueError as exc:
            raise PeopleEditError(str(exc)) from exc
        save_people_index(con, library_id, index)
    return result


def rename_person(store: Store, library_id: int, person_id: int, name: str | None) -> None:
    """Name a person; an empty name takes the name away."""
    name = (name or "").strip() or None
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise PeopleEditError(f"a name has at most {MAX_NAME_LENGTH} characters; this one has {len(name)}")
    _edit(store, library_id, lambda index: index.rename(person_id, name))


def merge_persons(store: Store, library_id: int, keep: int, other: int) -> int:
    """``other`` is the same person as ``keep``; returns ``keep``. ``other``'s id keeps
    working (it resolves to ``keep``); ``keep`` takes ``other``'s name if it has none."""
    if keep == other:
        raise PeopleEditError("choose two different people to merge")
    return _edit(store, library_id, lambda index: index.merge(keep, other))


def split_person(
    store: Store, library_id: int, person_id: int, face_ids: Iterable[str], name: str | None = None
) -> int:
    """The chosen faces are someone else: they become a new person, whose id is returned."""
    faces = list(face_ids)
    if not faces:
        raise PeopleEditError("choose the faces that are someone else first")
    name = (name or "").strip() or None
    return _edit(store, library_id, lambda index: index.split(person_id, faces, name))


def move_faces(store: Store, library_id: int, face_ids: Iterable[str], person_id: int) -> None:
    """The chosen faces are ``person_id``."""
    faces = list(face_ids)
    if not faces:
        raise PeopleEditError("choose the faces to move first")
    _edit(store, library_id, lambda index: index.move_faces(faces, person_id))


@dataclass(frozen=True)
class FaceAnswer:
    """A person's answer on two faces: ``face_id`` (the doubtful one) and ``ref_face_id``."""

    face_id: str
    ref_face_id: str
    same_person: bool


@dataclass
class FaceAnswersReport:
    applied: int = 0  # answers in force (new or already applied)
    moved: dict[str, tuple[int, int]] = field(default_factory=dict)  # face -> (person before, after)
    withdrawn: int = 0  # links of earlier answers no longer given, dropped
    skipped: list[tuple[str, str]] = field(default_factory=list)  # ("face:ref", why)

    def summary(self) -> str:
        text = (
            f"same-person answers: {self.applied} in force, {len(self.moved)} faces moved, "
            f"{self.withdrawn} withdrawn, {len(self.skipped)} skipped"
        )
        return "\n".join([text, *(f"  skipped {pair}: {why}" for pair, why in self.skipped[:10])])


def apply_face_answers(
    store: Store, answers: Iterable[FaceAnswer], *, source: LinkSource | str = LinkSource.LABEL
) -> FaceAnswersReport:
    """Make "same person?" answers act on people, per library, in one connection each.

    ``answers`` are all the answers from ``source`` in force now (re-applying one is a no-op):
    links from ``source`` that are not among them any more are dropped. A face placed by hand
    (pinned) is not moved by an answer: hand edits win, and the answer is reported as skipped,
    as is one that cannot hold (the faces share a photo, a face is not placed in a person yet).
    """
    source = LinkSource(source)
    answers = list(answers)
    report = FaceAnswersReport()
    faces = sorted({a.face_id for a in answers} | {a.ref_face_id for a in answers})
    with store.connect() as con:
        if "faces" not in _tables(con):
            report.skipped += [(f"{a.face_id}:{a.ref_face_id}", "no faces table") for a in answers]
            return report
        library_of = dict(
            con.execute("SELECT face_id, library_id FROM faces WHERE face_id IN (SELECT unnest(?))", [faces]).fetchall()
        )
        libraries = {int(lib) for (lib,) in con.execute("SELECT DISTINCT library_id FROM face_links").fetchall()}
        by_library: dict[int, list[FaceAnswer]] = defaultdict(list)
        for a in answers:
            lib = library_of.get(a.face_id)
            if lib is None or library_of.get(a.ref_face_id) != lib:
                report.skipped.append((f"{a.face_id}:{a.ref_face_id}", "a face is no longer in the library"))
                continue
            by_library[int(lib)].append(a)
        for library_id in sorted(libraries | set(by_library)):
            version = faces_version(con, library_id)
            if version is None:
                continue
            index = load_people_index(con, library_id, version)
            wanted = {tuple(sorted((a.face_id, a.ref_face_id))) for a in by_library.get(library_id, [])}
            for link in index.links():
                if link.source is source and link.key not in wanted:
                    index.unlink_faces(link.face_a, link.face_b)
                    report.withdrawn += 1
            known = {f.face_id for f in index.to_records().faces}
            for a in by_library.get(library_id, []):
                pair = f"{a.face_id}:{a.ref_face_id}"
                if a.face_id not in known or a.ref_face_id not in known:
                    report.skipped.append((pair, "a face is not placed in a person yet (run the faces stage)"))
                    continue
                before = index.person_of(a.face_id)
                try:
                    if a.same_person:
                        after = index.link_faces(a.face_id, a.ref_face_id, source=source)
                    else:
                        after = index.separate_faces(a.face_id, a.ref_face_id, source=source)
                except ValueError as exc:
                    report.skipped.append((pair, str(exc)))
                    continue
                report.applied += 1
                if after != before:
                    report.moved[a.face_id] = (before, after)
            save_people_index(con, library_id, index)
    return report


# ----------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class PersonCard:
    person_id: int
    name: str | None
    n_faces: int
    n_photos: int
    n_pinned: int  # faces a person placed by hand
    cover_face_id: str  # the biggest face
    crop: Path  # its cached crop (face_crop_path)
    first_seen: datetime | None
    last_seen: datetime | None

    @property
    def label(self) -> str:
        return self.name or f"Person {self.person_id}"


@dataclass(frozen=True)
class PeopleOverview:
    model_version: str | None  # None: the faces stage has not run on the library
    n_photos_scanned: int
    n_faces: int
    n_unassigned: int  # faces not in a person yet (the stage places them at its end)
    persons: tuple[PersonCard, ...]  # most photos first

    def label_of(self, person_id: int) -> str:
        for p in self.persons:
            if p.person_id == person_id:
                return p.label
        return f"Person {person_id}"


def people_overview(con: duckdb.DuckDBPyConnection, library_id: int, cache_dir: Path) -> PeopleOverview:
    present = _tables(con)
    version = faces_version(con, library_id)
    scanned = 0
    if {"face_scans", "photos"} <= present:
        scanned = con.execute(
            "SELECT count(DISTINCT s.photo_id) FROM face_scans s JOIN photos p USING (photo_id) "
            "WHERE p.library_id = ? AND p.status = 'ok'",
            [library_id],
        ).fetchone()[0]
    if version is None:
        return PeopleOverview(None, int(scanned), 0, 0, ())
    n_faces, n_unassigned = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE person_id IS NULL) FROM faces f JOIN photos p USING (photo_id) "
        "WHERE f.library_id = ? AND f.model_version = ? AND p.status = 'ok'",
        [library_id, version],
    ).fetchone()
    rows = con.execute(
        """
        SELECT f.person_id, any_value(ps.name), count(*) AS n_faces, count(DISTINCT f.photo_id) AS n_photos,
               count(*) FILTER (WHERE f.pinned),
               arg_max(f.face_id, (f.box_right - f.box_left) * (f.box_bottom - f.box_top) * 1000 + f.confidence),
               min(p.taken_at), max(p.taken_at)
        FROM faces f
        JOIN photos p ON p.photo_id = f.photo_id AND p.status = 'ok'
        LEFT JOIN persons ps ON ps.library_id = f.library_id AND ps.person_id = f.person_id
        WHERE f.library_id = ? AND f.model_version = ? AND f.person_id IS NOT NULL
        GROUP BY f.person_id
        ORDER BY n_photos DESC, n_faces DESC, f.person_id
        """,
        [library_id, version],
    ).fetchall()
    persons = tuple(
        PersonCard(int(pid), name, int(nf), int(np_), int(pinned), cover, face_crop_path(cache_dir, cover), first, last)
        for pid, name, nf, np_, pinned, cover, first, last in rows
    )
    return PeopleOverview(version, int(scanned), int(n_faces), int(n_unassigned), persons)


@dataclass(frozen=True)
class FaceCard:
    face_id: str
    photo_id: int
    rel_path: str
    taken_at: datetime | None
    confidence: float
    pinned: bool
    distance: float  # to the person's mean face; bigger = less like the rest
    crop: Path


def person_faces(
    con: duckdb.DuckDBPyConnection, library_id: int, person_id: int, cache_dir: Path
) -> list[FaceCard]:
    """A person's faces, least like the rest first (the likeliest to be someone else)."""
    version = faces_version(con, library_id)
    if version is None:
        return []
    rows = con.execute(
        "SELECT f.face_id, f.photo_id, p.rel_path, p.taken_at, f.confidence, f.pinned, f.embedding FROM faces f "
        "JOIN photos p ON p.photo_id = f.photo_id AND p.status = 'ok' "
        "WHERE f.library_id = ? AND f.model_version = ? AND f.person_id = ? ORDER BY f.face_id",
        [library_id, version, person_id],
    ).fetchall()
    if not rows:
        return []
    x = np.stack([np.asarray(r[6], dtype=np.float32) for r in rows])
    distance = np.linalg.norm(x - x.mean(axis=0), axis=1)
    cards = [
        FaceCard(r[0], int(r[1]), r[2], r[3], float(r[4]), bool(r[5]), float(d), face_crop_path(cache_dir, r[0]))
        for r, d in zip(rows, distance, strict=True)
    ]
    return sorted(cards, key=lambda c: (-c.distance, c.face_id))


@dataclass(frozen=True)
class PeopleRelations:
    relationships: tuple[Relationship, ...]  # every pair seen together, most photos first
    circle: CloseCircle | None  # None without any person


def people_relations(
    con: duckdb.DuckDBPyConnection,
    library_id: int,
    *,
    owner: int | None = None,
    circle_size: int = 10,
    min_photos_together: int = 1,
    circle_min_photos: int = 2,
) -> PeopleRelations:
    """Who appears with whom (photos and events together) and the owner's close circle.
    Without ``owner`` the owner is the person in most photos (see ``close_circle``)."""
    version = faces_version(con, library_id)
    if version is None:
        return PeopleRelations((), None)
    rows = con.execute(
        "SELECT f.photo_id, f.person_id, p.taken_at FROM faces f JOIN photos p ON p.photo_id = f.photo_id "
        "WHERE f.library_id = ? AND f.model_version = ? AND f.person_id IS NOT NULL AND p.status = 'ok'",
        [library_id, version],
    ).fetchall()
    by_photo: dict[int, set[int]] = defaultdict(set)
    times: dict[int, datetime | None] = {}
    for photo_id, person_id, taken_at in rows:
        by_photo[int(photo_id)].add(int(person_id))
        times[int(photo_id)] = taken_at
    if not by_photo:
        return PeopleRelations((), None)
    events: dict[int, str] = {}
    if "photo_events" in _tables(con):
        events = {
            int(p): e
            for p, e in con.execute(
                "SELECT photo_id, event_id FROM photo_events WHERE library_id = ?", [library_id]
            ).fetchall()
        }
    pairs = relationships(by_photo, times, events, min_photos=min_photos_together)
    try:
        circle = close_circle(
            by_photo, events, owner=owner, size=circle_size, min_photos_together=circle_min_photos
        )
    except ValueError:
        # An owner chosen earlier who is gone (merged away, or photos removed): infer again.
        circle = close_circle(by_photo, events, size=circle_size, min_photos_together=circle_min_photos)
    return PeopleRelations(tuple(pairs), circle)

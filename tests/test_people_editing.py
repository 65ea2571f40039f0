"""People edits through the store (rename, merge, split, move) and the People page's summaries.

The faces are generated: 128-d vectors around one random centre per person (persons far
apart, a person's faces close together, as dlib's are), inserted as rows of the faces
table and grouped by the real ``update_people`` of the faces stage. Photos are rows only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.faces.editing import (
    FaceAnswer,
    PeopleEditError,
    apply_face_answers,
    faces_version,
    merge_persons,
    move_faces,
    people_overview,
    people_relations,
    person_faces,
    rename_person,
    split_person,
)
from curation.pipeline.faces_stage import face_crop_path, update_people
from curation.store import Store

VERSION = "test-faces@1"
# Who is in which photo (photo number -> people); Ana is in the most photos.
CAST = {
    0: ["ana", "ben"], 1: ["ana", "ben"], 2: ["ana", "ben"], 3: ["ana", "carla"], 4: ["ana"],
    5: ["carla"], 6: ["ben", "carla"], 7: ["ana"],
}  # fmt: skip
PEOPLE = ("ana", "ben", "carla")


def centres(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {who: rng.normal(scale=0.12, size=128) for who in (*PEOPLE, "dan")}


def add_library(store: Store, n_photos: int) -> tuple[int, list[int]]:
    with store.connect() as con:
        con.execute("INSERT INTO libraries (root, name) VALUES ('/family', 'family')")
        library_id = con.execute("SELECT library_id FROM libraries").fetchall()[0][0]
        for i in range(n_photos):
            con.execute(
                "INSERT INTO photos (library_id, rel_path, status, sha256, taken_at) VALUES (?, ?, 'ok', ?, ?)",
                [library_id, f"IMG_{i:03d}.jpg", f"{i:064x}", datetime(2022, 5, 1) + timedelta(days=i)],
            )
        ids = [r[0] for r in con.execute("SELECT photo_id FROM photos ORDER BY photo_id").fetchall()]
    return int(library_id), ids


def add_faces(store: Store, library_id: int, photo_ids: list[int], cast: dict[int, list[str]], seed: int = 1) -> dict[str, str]:
    """Faces rows (unplaced) for ``cast``; returns face id -> who."""
    rng = np.random.default_rng(seed)
    where = centres()
    rows, truth = [], {}
    for photo, people in cast.items():
        for n, who in enumerate(people):
            face_id = f"{photo_ids[photo]}-{n}"
            size = 0.3 if n == 0 else 0.15
            embedding = (where[who] + rng.normal(scale=0.015, size=128)).astype(np.float32)
            rows.append((face_id, library_id, photo_ids[photo], VERSION, 0.1, 0.1, 0.1 + size, 0.1 + size, 1.0, embedding))
            truth[face_id] = who
    frame = pd.DataFrame(
        rows,
        columns=["face_id", "library_id", "photo_id", "model_version", "box_left", "box_top", "box_right",
                 "box_bottom", "confidence", "embedding"],
    )  # fmt: skip
    with store.connect() as con:
        con.register("face_rows", frame)
        con.execute(
            "INSERT INTO faces (face_id, library_id, photo_id, model_version, box_left, box_top, box_right, "
            "box_bottom, confidence, embedding) SELECT * FROM face_rows"
        )
        for photo in cast:
            con.execute("INSERT OR REPLACE INTO face_scans VALUES (?, ?, ?)", [photo_ids[photo], VERSION, len(cast[photo])])
    return truth


@pytest.fixture
def family(tmp_path: Path) -> tuple[Store, int, list[int], dict[str, str]]:
    store = Store(tmp_path / "db.duckdb")
    library_id, photo_ids = add_library(store, 12)
    truth = add_faces(store, library_id, photo_ids, CAST)
    update_people(store, library_id, VERSION)
    return store, library_id, photo_ids, truth


def person_of(store: Store) -> dict[str, int]:
    with store.connect(read_only=True) as con:
        return dict(con.execute("SELECT face_id, person_id FROM faces").fetchall())


def pid_of(store: Store, truth: dict[str, str], who: str) -> int:
    placed = person_of(store)
    (pid,) = {placed[f] for f, w in truth.items() if w == who}
    return pid


def names(store: Store, library_id: int) -> dict[int, str | None]:
    with store.connect(read_only=True) as con:
        return dict(
            con.execute(
                "SELECT person_id, name FROM persons WHERE library_id = ? AND merged_into IS NULL", [library_id]
            ).fetchall()
        )


def new_photo_with(store: Store, library_id: int, photo_ids: list[int], index: int, who: list[str], seed: int) -> None:
    """A later import: one more photo with faces, then the faces stage's update_people."""
    add_faces(store, library_id, photo_ids, {index: who}, seed=seed)
    update_people(store, library_id, VERSION)


def test_the_generated_faces_cluster_into_the_three_people(family) -> None:  # noqa: ANN001
    store, library_id, _, truth = family
    placed = person_of(store)
    groups = {who: {placed[f] for f, w in truth.items() if w == who} for who in PEOPLE}
    assert all(len(g) == 1 for g in groups.values()) and len({next(iter(g)) for g in groups.values()}) == 3
    with store.connect(read_only=True) as con:
        assert faces_version(con, library_id) == VERSION


def test_rename_persists_and_survives_a_faces_run(family) -> None:  # noqa: ANN001
    store, library_id, photo_ids, truth = family
    ana = pid_of(store, truth, "ana")
    rename_person(store, library_id, ana, "  Ana Silva ")
    assert names(store, library_id)[ana] == "Ana Silva"
    new_photo_with(store, library_id, photo_ids, 8, ["ana", "ben"], seed=5)  # re-clusters everything
    assert pid_of(store, truth | {f"{photo_ids[8]}-0": "ana"}, "ana") == ana
    assert names(store, library_id)[ana] == "Ana Silva"
    rename_person(store, library_id, ana, "")  # an empty name takes it away
    assert names(store, library_id)[ana] is None
    with pytest.raises(PeopleEditError, match="at most 60"):
        rename_person(store, library_id, ana, "x" * 61)


def test_split_pins_the_faces_so_a_faces_run_keeps_them_apart(family) -> None:  # noqa: ANN001
    store, library_id, photo_ids, truth = family
    ana = pid_of(store, truth, "ana")
    ana_faces = sorted(f for f, w in truth.items() if w == "ana")
    moved = ana_faces[:2]  # the user says these two are someone else (the model disagrees)
    new = split_person(store, library_id, ana, moved, name="Cousin")
    assert new != ana
    placed = person_of(store)
    assert {placed[f] for f in moved} == {new} and {placed[f] for f in ana_faces[2:]} == {ana}
    assert names(store, library_id)[new] == "Cousin"
    new_photo_with(store, library_id, photo_ids, 9, ["ana"], seed=6)
    placed = person_of(store)
    assert {placed[f] for f in moved} == {new}, "the re-clustering undid the split"
    assert {placed[f] for f in ana_faces[2:]} == {ana}
    with store.connect(read_only=True) as con:
        pinned = dict(con.execute("SELECT face_id, pinned FROM faces").fetchall())
    assert all(pinned[f] for f in ana_faces)


def test_merge_persists_and_survives_a_faces_run(family) -> None:  # noqa: ANN001
    store, library_id, photo_ids, truth = family
    ben, carla = pid_of(store, truth, "ben"), pid_of(store, truth, "carla")
    rename_person(store, library_id, carla, "Carla")
    with pytest.raises(PeopleEditError, match="appear together"):
        merge_persons(store, library_id, ben, carla)  # photo 6 shows both
    # Dan looks like no one else; the user says he is Carla (a photo from her childhood, say).
    add_faces(store, library_id, photo_ids, {10: ["dan"]}, seed=7)
    update_people(store, library_id, VERSION)
    dan = person_of(store)[f"{photo_ids[10]}-0"]
    assert dan not in (ben, carla)
    assert merge_persons(store, library_id, carla, dan) == carla
    with store.connect(read_only=True) as con:
        assert con.execute(
            "SELECT merged_into FROM persons WHERE library_id = ? AND person_id = ?", [library_id, dan]
        ).fetchall() == [(carla,)]
    new_photo_with(store, library_id, photo_ids, 11, ["ben"], seed=8)  # re-clusters everything
    placed = person_of(store)
    assert placed[f"{photo_ids[10]}-0"] == carla, "the merge did not survive"
    assert {placed[f] for f, w in truth.items() if w == "carla"} == {carla}
    assert {placed[f] for f, w in truth.items() if w == "ben"} == {ben}
    assert names(store, library_id)[carla] == "Carla"


def test_move_persists_and_survives_a_faces_run(family) -> None:  # noqa: ANN001
    store, library_id, photo_ids, truth = family
    ana = pid_of(store, truth, "ana")
    ana_faces = sorted(f for f, w in truth.items() if w == "ana")
    cousin = split_person(store, library_id, ana, ana_faces[:2])
    move_faces(store, library_id, ana_faces[:1], ana)  # one of the two was Ana after all
    placed = person_of(store)
    assert placed[ana_faces[0]] == ana and placed[ana_faces[1]] == cousin
    with pytest.raises(PeopleEditError, match="already has a face in photo"):
        move_faces(store, library_id, [f for f, w in truth.items() if w == "ben"][:1], ana)
    new_photo_with(store, library_id, photo_ids, 9, ["ana"], seed=6)
    placed = person_of(store)
    assert placed[ana_faces[0]] == ana and placed[ana_faces[1]] == cousin, "the move did not survive"


def test_moving_a_face_does_not_pull_its_old_persons_faces_along(family) -> None:  # noqa: ANN001
    """Ben's face moved into Ana (the user knows better: a cousin who looks like Ben, say) stays
    with Ana, and Ben's other faces stay Ben's, through a re-clustering faces run."""
    store, library_id, photo_ids, truth = family
    ana, ben = pid_of(store, truth, "ana"), pid_of(store, truth, "ben")
    rename_person(store, library_id, ana, "Ana")
    ben_faces = sorted(f for f, w in truth.items() if w == "ben")
    moved = next(f for f in ben_faces if f.split("-")[0] in {str(photo_ids[6])})  # photo 6: Ben and Carla
    move_faces(store, library_id, [moved], ana)
    new_photo_with(store, library_id, photo_ids, 9, ["carla"], seed=6)  # re-clusters everything
    placed = person_of(store)
    assert placed[moved] == ana
    assert {placed[f] for f in ben_faces if f != moved} == {ben}
    assert {placed[f] for f, w in truth.items() if w == "ana"} == {ana}
    assert names(store, library_id)[ana] == "Ana"
    with store.connect(read_only=True) as con:
        links = con.execute("SELECT face_a, face_b, same_person, source FROM face_links").fetchall()
    assert len(links) == 1 and moved in links[0][:2] and links[0][2:] == (False, "edit")


def test_same_person_answers_act_on_people_and_survive_a_faces_run(family) -> None:  # noqa: ANN001
    store, library_id, photo_ids, truth = family
    ana, ben, carla = (pid_of(store, truth, w) for w in PEOPLE)
    ana_faces = sorted(f for f, w in truth.items() if w == "ana")
    carla_faces = sorted(f for f, w in truth.items() if w == "carla")
    # Dan (a stranger) arrives; an annotator says he is Carla. Another says two of Ana's faces
    # are different people, and one answer cannot hold (two faces of one photo).
    new_photo_with(store, library_id, photo_ids, 10, ["dan"], seed=7)
    dan_face = f"{photo_ids[10]}-0"
    assert person_of(store)[dan_face] not in (ana, ben, carla)
    same_photo = [f"{photo_ids[0]}-0", f"{photo_ids[0]}-1"]
    answers = [
        FaceAnswer(dan_face, carla_faces[0], same_person=True),
        FaceAnswer(ana_faces[-1], ana_faces[0], same_person=False),
        FaceAnswer(*same_photo, same_person=True),
    ]
    report = apply_face_answers(store, answers)
    assert report.applied == 2 and set(report.moved) == {dan_face, ana_faces[-1]}
    assert [why for _, why in report.skipped] == [f"faces {same_photo[0]} and {same_photo[1]} are in the same photo, so they cannot be one person"]
    placed = person_of(store)
    assert placed[dan_face] == carla and placed[ana_faces[-1]] != ana
    assert apply_face_answers(store, answers).moved == {}  # applying them again changes nothing
    new_photo_with(store, library_id, photo_ids, 11, ["ben"], seed=8)  # re-clusters everything
    placed = person_of(store)
    assert placed[dan_face] == carla and placed[ana_faces[-1]] != placed[ana_faces[0]] == ana
    assert {placed[f] for f in ana_faces[1:-1]} == {ana}
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM faces WHERE pinned").fetchone()[0] == 0  # nothing pinned
        sources = con.execute("SELECT DISTINCT source FROM face_links").fetchall()
    assert sources == [("label",)]
    # Withdrawn answers (annotations deleted in Label Studio) drop their links; nobody moves.
    report = apply_face_answers(store, [])
    assert report.withdrawn == 2 and report.moved == {}
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM face_links").fetchone()[0] == 0


def test_a_hand_edit_wins_over_an_answer(family) -> None:  # noqa: ANN001
    store, library_id, _, truth = family
    ana, ben = pid_of(store, truth, "ana"), pid_of(store, truth, "ben")
    ana_face = sorted(f for f, w in truth.items() if w == "ana")[-1]
    ben_face = sorted(f for f, w in truth.items() if w == "ben")[-1]
    split_person(store, library_id, ana, [ana_face])  # the user pinned it to a person of its own
    report = apply_face_answers(store, [FaceAnswer(ana_face, ben_face, same_person=True)])
    assert report.applied == 0 and "by hand" in report.skipped[0][1]
    assert person_of(store)[ana_face] not in (ana, ben)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s, lib, pid, faces: rename_person(s, lib, 999, "X"), "no person 999"),
        (lambda s, lib, pid, faces: merge_persons(s, lib, pid, pid), "two different people"),
        (lambda s, lib, pid, faces: split_person(s, lib, pid, []), "choose the faces"),
        (lambda s, lib, pid, faces: split_person(s, lib, pid, faces), "every face"),
        (lambda s, lib, pid, faces: split_person(s, lib, pid, ["nope-0"]), "not in person"),
        (lambda s, lib, pid, faces: move_faces(s, lib, [], pid), "choose the faces"),
    ],
)
def test_each_impossible_edit_says_why(family, edit, message: str) -> None:  # noqa: ANN001
    store, library_id, _, truth = family
    ana = pid_of(store, truth, "ana")
    with pytest.raises(PeopleEditError, match=message):
        edit(store, library_id, ana, [f for f, w in truth.items() if w == "ana"])


def test_editing_a_library_without_faces_says_to_run_the_stage(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    library_id, _ = add_library(store, 2)
    with pytest.raises(PeopleEditError, match="run the faces stage"):
        rename_person(store, library_id, 1, "Ana")


def test_overview_cards_faces_relationships_and_circle(family, tmp_path: Path) -> None:  # noqa: ANN001
    store, library_id, photo_ids, truth = family
    ana, ben, carla = (pid_of(store, truth, w) for w in PEOPLE)
    rename_person(store, library_id, ben, "Ben")
    with store.connect() as con:
        for photo in (0, 1):
            con.execute("INSERT INTO photo_events VALUES (?, ?, 'e-beach', 'time')", [library_id, photo_ids[photo]])
        con.execute("INSERT INTO photo_events VALUES (?, ?, 'e-park', 'time')", [library_id, photo_ids[2]])
    cache = tmp_path / "cache"
    with store.connect(read_only=True) as con:
        overview = people_overview(con, library_id, cache)
        faces = person_faces(con, library_id, ana, cache)
        rel = people_relations(con, library_id)
        rel_carla = people_relations(con, library_id, owner=carla, circle_min_photos=1)
        rel_gone = people_relations(con, library_id, owner=12345)
    assert overview.model_version == VERSION
    assert (overview.n_faces, overview.n_unassigned, overview.n_photos_scanned) == (13, 0, 8)
    assert [c.person_id for c in overview.persons] == [ana, ben, carla]  # most photos first
    first = overview.persons[0]
    assert (first.n_photos, first.n_faces, first.label) == (6, 6, f"Person {ana}")
    assert overview.persons[1].label == "Ben"
    # The cover is the biggest face; its crop is where the faces stage writes it.
    assert first.cover_face_id.endswith("-0") and first.crop == face_crop_path(cache, first.cover_face_id)
    assert first.first_seen == datetime(2022, 5, 1) and first.last_seen == datetime(2022, 5, 8)

    assert len(faces) == 6 and [f.distance for f in faces] == sorted((f.distance for f in faces), reverse=True)
    assert all(f.rel_path.startswith("IMG_") for f in faces)

    pairs = {(r.person_a, r.person_b): r for r in rel.relationships}
    ab = pairs[tuple(sorted((ana, ben)))]
    assert (ab.photos_together, ab.events_together) == (3, 2)
    assert pairs[tuple(sorted((ana, carla)))].photos_together == 1
    assert rel.circle is not None and rel.circle.owner == ana and rel.circle.owner_inferred
    assert [m.person_id for m in rel.circle.members] == [ben]  # two photos together or more
    assert rel_carla.circle.owner == carla and not rel_carla.circle.owner_inferred
    assert {m.person_id for m in rel_carla.circle.members} == {ana, ben}
    assert rel_gone.circle.owner == ana  # an owner who is gone: guessed again


def test_summaries_of_a_library_without_faces_are_empty(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    library_id, _ = add_library(store, 2)
    with store.connect(read_only=True) as con:
        overview = people_overview(con, library_id, tmp_path)
        assert overview.model_version is None and overview.persons == ()
        assert people_relations(con, library_id).circle is None
        assert person_faces(con, library_id, 1, tmp_path) == []

"""Faces → people on synthetic embeddings (always runs; no model, no samples).

Synthetic persons are random centres ~1.0 apart with faces scattered ~0.2 around them,
roughly the geometry of dlib descriptors (same person < 0.5, different > 0.6).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from curation.faces.people import (
    FaceLink,
    FaceObservation,
    LinkSource,
    PeopleIndex,
    close_circle,
    cluster_faces,
    relationships,
)

DIM = 128


def _centres(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=0.07, size=(n, DIM))


def _faces_of(centre: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return centre + rng.normal(scale=0.018, size=(n, DIM))


def _blobs(sizes: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 100)
    centres = _centres(len(sizes), seed)
    x = np.concatenate([_faces_of(c, n, rng) for c, n in zip(centres, sizes, strict=True)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return x, truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True)}
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


# ----------------------------------------------------------------------------- cluster_faces


def test_two_tight_blobs_are_two_persons() -> None:
    x, truth = _blobs([6, 4])
    labels = cluster_faces(x)
    assert _same_partition(labels, truth)
    assert labels[0] == 0  # biggest person first


def test_far_face_stays_its_own_person() -> None:
    x, _ = _blobs([5, 5])
    stranger = _centres(3, seed=7)[2:]
    labels = cluster_faces(np.concatenate([x, stranger]))
    assert len(set(labels.tolist())) == 3
    assert np.sum(labels == labels[-1]) == 1


def test_empty_input_gives_no_labels() -> None:
    assert cluster_faces(np.zeros((0, DIM))).shape == (0,)


@pytest.mark.parametrize("method", ["average", "complete", "single"])
def test_matches_scipy_without_constraints(method: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        x, _ = _blobs(list(rng.integers(1, 8, size=6)), seed=int(rng.integers(1000)))
        t = float(rng.uniform(0.2, 0.9))
        ours = cluster_faces(x, threshold=t, linkage=method)
        ref = fcluster(linkage(pdist(x), method), t, "distance")
        assert _same_partition(ours, ref)


def test_one_photo_shows_a_person_once() -> None:
    x, _ = _blobs([2])
    assert len(set(cluster_faces(x).tolist())) == 1
    assert len(set(cluster_faces(x, photo_ids=["p1", "p1"]).tolist())) == 2


def test_must_link_and_cannot_link_win_over_distance() -> None:
    x, truth = _blobs([3, 3])
    labels = cluster_faces(x, must_link=[(0, 3)])
    assert labels[0] == labels[3]
    # The linked pair sits halfway between the two persons, so it joins neither.
    assert labels[1] == labels[2] != labels[0] and labels[4] == labels[5] != labels[0]
    labels = cluster_faces(x, cannot_link=[(0, 1)])
    assert labels[0] != labels[1]
    assert labels[3] == labels[4] == labels[5]


def test_conflicting_edits_are_refused() -> None:
    x, _ = _blobs([3])
    with pytest.raises(ValueError, match="must-linked together and cannot-linked"):
        cluster_faces(x, must_link=[(0, 1)], cannot_link=[(1, 0)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0.0}, "threshold must be > 0"),
        ({"linkage": "ward"}, "linkage must be one of average, complete, single"),
        ({"photo_ids": ["a"]}, "photo_ids has 1 entries for 3"),
        ({"must_link": [(0, 9)]}, "must_link holds an index outside"),
        ({"cannot_link": [(-1, 0)]}, "cannot_link holds an index outside"),
    ],
)
def test_bad_parameters_name_the_rule(kwargs: dict, message: str) -> None:
    x, _ = _blobs([3])
    with pytest.raises(ValueError, match=message):
        cluster_faces(x, **kwargs)


def test_bad_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match="2-d array"):
        cluster_faces(np.zeros(DIM))
    bad = np.zeros((2, DIM))
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cluster_faces(bad)


# ----------------------------------------------------------------------------- PeopleIndex


def _observations(x: np.ndarray, prefix: str = "f", photo_of=None) -> list[FaceObservation]:
    return [
        FaceObservation(f"{prefix}{i}", photo_of(i) if photo_of else f"{prefix}-photo{i}", e)
        for i, e in enumerate(x)
    ]


@pytest.fixture
def family() -> tuple[PeopleIndex, list[FaceObservation], np.ndarray]:
    """Three persons (5, 4, 3 faces), each face in its own photo, clustered once."""
    x, truth = _blobs([5, 4, 3], seed=11)
    faces = _observations(x)
    index = PeopleIndex()
    index.recluster(faces)
    return index, faces, truth


def _pid_by_truth(index: PeopleIndex, faces: list[FaceObservation], truth: np.ndarray) -> dict:
    return {int(t): index.person_of(f.face_id) for f, t in zip(faces, truth, strict=True)}


def test_recluster_finds_the_persons(family) -> None:
    index, faces, truth = family
    persons = index.persons()
    assert [p.n_faces for p in persons] == [5, 4, 3]
    assert len({p.person_id for p in persons}) == 3
    assert all(p.spread < 0.4 for p in persons)
    assert persons[0].centroid.shape == (DIM,)


def test_ids_stay_when_a_photo_is_added_and_reclustered(family) -> None:
    index, faces, truth = family
    index.rename(index.person_of("f0"), "Mom")
    before = _pid_by_truth(index, faces, truth)
    rng = np.random.default_rng(5)
    centres = _centres(3, seed=11)
    # A new photo with persons 1 and 2, plus a stranger, then a full re-run.
    new = [
        FaceObservation("n1", "new-photo", _faces_of(centres[1], 1, rng)[0]),
        FaceObservation("n2", "new-photo", _faces_of(centres[2], 1, rng)[0]),
        FaceObservation("n3", "new-photo", _centres(4, seed=99)[3]),
    ]
    index.recluster(new)
    assert _pid_by_truth(index, faces, truth) == before
    assert index.person_of("n1") == before[1]
    assert index.person_of("n2") == before[2]
    assert index.person_of("n3") not in before.values()  # a stranger gets a fresh id
    assert index.person(before[0]).name == "Mom"
    # Re-running on the same faces changes nothing.
    again = {f: index.person_of(f) for f in ["f0", "f5", "f9", "n3"]}
    index.recluster()
    assert {f: index.person_of(f) for f in again} == again


def test_assign_new_faces_joins_known_persons_or_founds_new_ones(family) -> None:
    index, faces, truth = family
    before = _pid_by_truth(index, faces, truth)
    rng = np.random.default_rng(6)
    centres = _centres(3, seed=11)
    stranger = _centres(5, seed=42)[4]
    new = [
        FaceObservation("a", "p-new", _faces_of(centres[0], 1, rng)[0]),
        FaceObservation("b", "p-new", stranger),
        FaceObservation("c", "p-other", stranger + rng.normal(scale=0.01, size=DIM)),
    ]
    result = index.assign_new_faces(new)
    assert result[0].person_id == before[0] and not result[0].new_person
    assert result[0].distance is not None and result[0].distance < 0.53
    assert result[1].new_person and result[1].person_id not in before.values()
    # The same stranger in two new photos founds one person, not two.
    assert result[2].person_id == result[1].person_id
    assert index.person_of("c") == result[1].person_id


def test_assign_respects_one_face_per_person_per_photo(family) -> None:
    index, faces, truth = family
    before = _pid_by_truth(index, faces, truth)
    rng = np.random.default_rng(8)
    centre = _centres(3, seed=11)[0]
    twins = _faces_of(centre, 2, rng)
    result = index.assign_new_faces(_observations(twins, "t", photo_of=lambda i: "one-photo"))
    assert sorted(r.person_id == before[0] for r in result) == [False, True]


def test_assign_refuses_known_faces(family) -> None:
    index, faces, _ = family
    with pytest.raises(ValueError, match="already in the index"):
        index.assign_new_faces([faces[0]])


def test_merge_is_kept_by_recluster(family) -> None:
    index, faces, truth = family
    pids = _pid_by_truth(index, faces, truth)
    index.rename(pids[1], "Grandpa")
    kept = index.merge(pids[0], pids[1])
    assert kept == pids[0]
    assert index.person(pids[0]).name == "Grandpa"  # the name travels with the faces
    assert index.resolve(pids[1]) == pids[0]
    index.recluster()
    assert {index.person_of(f.face_id) for f, t in zip(faces, truth, strict=True) if t < 2} == {
        pids[0]
    }
    assert index.person_of(faces[-1].face_id) == pids[2]


def test_split_is_kept_by_recluster_and_ids_are_never_reused(family) -> None:
    index, faces, truth = family
    pids = _pid_by_truth(index, faces, truth)
    moved = [f.face_id for f, t in zip(faces, truth, strict=True) if t == 0][:2]
    new_pid = index.split(pids[0], moved, name="Cousin")
    assert new_pid not in pids.values()
    index.recluster()
    assert {index.person_of(f) for f in moved} == {new_pid}
    assert index.person(new_pid).name == "Cousin"
    rest = [f.face_id for f, t in zip(faces, truth, strict=True) if t == 0][2:]
    assert {index.person_of(f) for f in rest} == {pids[0]}
    # After a merge retires an id, new persons still get ids never seen before.
    index.merge(pids[1], pids[2])
    result = index.assign_new_faces([FaceObservation("x", "px", _centres(9, seed=77)[8])])
    assert result[0].person_id > max([*pids.values(), new_pid])


def test_edits_are_validated(family) -> None:
    index, faces, truth = family
    pids = _pid_by_truth(index, faces, truth)
    with pytest.raises(KeyError, match="no person 999"):
        index.rename(999, "x")
    with pytest.raises(ValueError, match="not in person"):
        index.split(pids[0], [faces[-1].face_id])
    with pytest.raises(ValueError, match="every face"):
        index.split(pids[2], [f.face_id for f, t in zip(faces, truth, strict=True) if t == 2])
    together = PeopleIndex()
    x, _ = _blobs([1, 1], seed=4)
    together.recluster(_observations(x, photo_of=lambda i: "same-photo"))
    a, b = (p.person_id for p in together.persons())
    with pytest.raises(ValueError, match="appear together"):
        together.merge(a, b)


def test_move_faces_pins_them(family) -> None:
    index, faces, truth = family
    pids = _pid_by_truth(index, faces, truth)
    index.move_faces([faces[0].face_id], pids[2])
    index.recluster()
    assert index.person_of(faces[0].face_id) == pids[2]


def test_moving_a_face_that_looks_like_someone_else_does_not_drag_them_along() -> None:
    """The known bug: moving B's face into A pinned only that face; it still looks like B, so
    the next re-clustering put it back with B's faces and, being pinned to A, named that whole
    cluster A: B's other faces went to A and A's own faces lost their id."""
    x, truth = _blobs([4, 6], seed=3)
    faces = _observations(x)
    index = PeopleIndex()
    index.recluster(faces)
    a, b = (index.person_of(faces[int(np.flatnonzero(truth == t)[0])].face_id) for t in (0, 1))
    index.rename(a, "Ana")
    moved = faces[int(np.flatnonzero(truth == 1)[0])].face_id  # looks like B; the user says it is Ana
    index.move_faces([moved], a)
    index.recluster()
    b_rest = [f.face_id for f, t in zip(faces, truth, strict=True) if t == 1 and f.face_id != moved]
    a_faces = [f.face_id for f, t in zip(faces, truth, strict=True) if t == 0]
    assert index.person_of(moved) == a
    assert {index.person_of(f) for f in a_faces} == {a}, "Ana's own faces lost her id"
    assert {index.person_of(f) for f in b_rest} == {b}, "B's faces were pulled into Ana"
    assert index.person(a).name == "Ana"
    links = index.links()
    assert [(lk.same_person, lk.source) for lk in links] == [(False, LinkSource.EDIT)]
    assert moved in links[0].key and (set(links[0].key) - {moved}) <= set(b_rest)
    index.recluster()  # stable
    assert {index.person_of(f) for f in b_rest} == {b} and index.person_of(moved) == a


def test_linked_faces_stay_together_and_separated_faces_apart_through_reclustering(family) -> None:
    """What a "same person?" question asks about: a face on the border between two persons."""
    index, faces, truth = family
    pids = _pid_by_truth(index, faces, truth)
    c0, c1 = (np.mean([f.embedding for f, t in zip(faces, truth, strict=True) if t == k], axis=0) for k in (0, 1))
    border = FaceObservation("border", "p-border", c0 + 0.4 * (c1 - c0))  # nearer person 0
    index.recluster([border])
    assert index.person_of("border") == pids[0]
    ref = index.person(pids[1]).face_ids[0]  # a face of person 1: an annotator says "same person"
    assert index.link_faces("border", ref, source="label") == pids[1]
    assert index.person_of("border") == pids[1]
    assert not any(r.pinned for r in index.to_records().faces)  # answers constrain, they do not pin
    other, third = faces[1].face_id, faces[2].face_id  # two of person 0's faces: "different people"
    after = index.separate_faces(other, third, source=LinkSource.LABEL)
    assert after != pids[0] and index.person_of(third) == pids[0]
    index.recluster()
    assert index.person_of("border") == index.person_of(ref) == pids[1]
    assert {index.person_of(f.face_id) for f, t in zip(faces, truth, strict=True) if t == 1} == {pids[1]}
    assert index.person_of(other) != index.person_of(third)
    assert {index.person_of(f.face_id) for f in faces[2:5]} == {pids[0]}  # the rest stay put
    assert not index.dropped_links_
    # the links survive a round trip through records
    records = index.to_records()
    assert {(lk.key, lk.same_person) for lk in records.links} == {
        (tuple(sorted(("border", ref))), True), (tuple(sorted((other, third))), False)
    }
    embeddings = {f.face_id: f.embedding for f in [*faces, border]}
    rebuilt = PeopleIndex.from_records(records, embeddings)
    assert rebuilt.to_records() == records
    assert rebuilt.unlink_faces(ref, "border") and not rebuilt.unlink_faces(ref, "border")
    rebuilt.recluster()  # without the link the face goes back to the person it is nearer
    assert rebuilt.person_of("border") == pids[0]


def test_links_guide_new_faces_assigned_without_reclustering(family) -> None:
    index, faces, truth = family
    pids = _pid_by_truth(index, faces, truth)
    rng = np.random.default_rng(4)
    centres = _centres(3, seed=11)
    near_0 = _faces_of(centres[0], 2, rng)
    index.assign_new_faces([FaceObservation("seed", "p-seed", near_0[0])])
    index.link_faces("seed", faces[-1].face_id)  # an answer: "seed" is person 2 after all
    index.separate_faces(faces[-2].face_id, faces[-1].face_id)  # irrelevant to the next one
    result = index.assign_new_faces([FaceObservation("late", "p-late", near_0[1])])
    assert result[0].person_id == pids[0]  # links of other faces do not move it
    assert index.person_of("seed") == pids[2]


def test_links_that_contradict_hand_edits_are_refused_or_given_up() -> None:
    x, truth = _blobs([3, 3], seed=5)
    faces = _observations(x)
    index = PeopleIndex()
    index.recluster(faces)
    p0, p1 = index.person_of("f0"), index.person_of("f3")
    one_photo = PeopleIndex()
    one_photo.recluster(_observations(x[:2], photo_of=lambda i: "one"))
    with pytest.raises(ValueError, match="same photo"):
        one_photo.link_faces("f0", "f1")
    index.split(p0, ["f0"])  # pins f0 to a new person and f1, f2 to p0
    with pytest.raises(ValueError, match="placed in person .* by hand"):
        index.link_faces("f0", "f1")
    with pytest.raises(ValueError, match="by hand"):
        index.separate_faces("f1", "f2")
    with pytest.raises(ValueError, match="two different faces"):
        index.separate_faces("f3", "f3")
    with pytest.raises(KeyError, match="unknown face"):
        index.link_faces("f3", "nope")
    # a link the user then overrides by hand is dropped: the edit wins
    index.separate_faces("f4", "f5")
    index.merge(p1, index.person_of("f4"))
    assert FaceLink.of("f4", "f5", False) not in index.links()
    index.recluster()
    assert {index.person_of(f) for f in ("f3", "f4", "f5")} == {p1}


def test_records_round_trip(family) -> None:
    index, faces, truth = family
    pids = _pid_by_truth(index, faces, truth)
    index.rename(pids[2], "Dad")
    index.merge(pids[0], pids[1])
    records = index.to_records()
    rebuilt = PeopleIndex.from_records(records, {f.face_id: f.embedding for f in faces})
    assert rebuilt.to_records() == records
    assert rebuilt.resolve(pids[1]) == pids[0]
    rebuilt.recluster()
    assert {rebuilt.person_of(f.face_id) for f in faces} == {pids[0], pids[2]}
    with pytest.raises(ValueError, match="no embedding given"):
        PeopleIndex.from_records(records, {})


def test_remove_faces_forgets_them(family) -> None:
    index, faces, truth = family
    pid2 = index.person_of(faces[-1].face_id)
    index.rename(pid2, "Gone")
    index.remove_faces([f.face_id for f, t in zip(faces, truth, strict=True) if t == 2])
    assert len(index) == 9
    assert pid2 not in {p.person_id for p in index.persons()}


# ----------------------------------------------------------------------------- relationships

# Hand-made library: persons 1 (owner), 2 (partner), 3 (child), 4 (colleague).
PHOTOS = {
    "beach1": [1, 2, 3],
    "beach2": [1, 3],
    "xmas": [1, 2, 3],
    "office": [1, 4],
    "solo": [2],
}
TIMES = {
    "beach1": datetime(2021, 7, 1, 10),
    "beach2": datetime(2021, 7, 1, 11),
    "xmas": datetime(2021, 12, 24, 18),
    "office": datetime(2022, 3, 1, 9),
    "solo": None,
}
EVENTS = {"beach1": "summer", "beach2": "summer", "xmas": "christmas", "office": None}


def test_relationships_count_photos_events_and_dates() -> None:
    rel = {(r.person_a, r.person_b): r for r in relationships(PHOTOS, TIMES, EVENTS)}
    assert set(rel) == {(1, 2), (1, 3), (2, 3), (1, 4)}
    assert (rel[(1, 3)].photos_together, rel[(1, 3)].events_together) == (3, 2)
    assert (rel[(1, 2)].photos_together, rel[(1, 2)].events_together) == (2, 2)
    assert rel[(1, 4)].events_together == 0  # that photo belongs to no event
    assert rel[(1, 3)].first_seen_together == datetime(2021, 7, 1, 10)
    assert rel[(1, 3)].last_seen_together == datetime(2021, 12, 24, 18)
    ordered = relationships(PHOTOS, TIMES, EVENTS)
    assert (ordered[0].person_a, ordered[0].person_b) == (1, 3)
    assert len(relationships(PHOTOS, min_photos=2)) == 3


def test_relationships_without_times_or_events() -> None:
    (r,) = relationships({"p": [5, 6]})
    assert (r.photos_together, r.events_together, r.first_seen_together) == (1, 0, None)


def test_close_circle_guesses_the_owner() -> None:
    circle = close_circle(PHOTOS, EVENTS)
    assert circle.owner == 1 and circle.owner_inferred
    assert [m.person_id for m in circle.members] == [3, 2]  # 4 shares a single photo
    assert circle.members[0].photos_together == 3
    assert circle.members[1].photos_total == 3


def test_close_circle_of_a_given_owner() -> None:
    circle = close_circle(PHOTOS, EVENTS, owner=2, min_photos_together=1)
    assert not circle.owner_inferred
    assert [m.person_id for m in circle.members] == [1, 3]


def test_close_circle_validates() -> None:
    with pytest.raises(ValueError, match="appears in no photo"):
        close_circle(PHOTOS, owner=99)
    with pytest.raises(ValueError, match="no person appears"):
        close_circle({})
    with pytest.raises(ValueError, match="size must be"):
        close_circle(PHOTOS, size=0)

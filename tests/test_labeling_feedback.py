"""Answers back into the engine: "same event?" answers become the events stage's constraints,
"same person?" answers act on people. No Label Studio server: the pull runs against a stand-in
for the client (the adapter seam), serving tasks made from the real queue with annotations
built by the real converters; everything after that (labels, feedback, the events and faces
stages) is the real code on a DuckDB store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from curation.events import GeoNamesPlaces
from curation.pipeline.events_stage import run_events_stage
from curation.pipeline.faces_stage import update_people
from curation.settings import Settings
from curation.store import Store
from labeling.config import SameEvent, SamePerson, TaskType, project_title
from labeling.convert import KEY_FIELD, STORE_FIELD, answer_to_result
from labeling.feedback import Vote, apply_feedback, resolve_answers
from labeling.loop import pull, store_id
from labeling.queue import mine, queue_frame

FACES = "dlib@test"


class StandInClient:
    """What ``pull`` needs of ``LabelStudioClient``: one project per task type, our tasks with
    the annotations given."""

    url = "http://label-studio.test"

    def __init__(self, sid: str, items: pd.DataFrame, answers: dict[str, list[tuple[int, object]]]) -> None:
        self.tasks: dict[int, list[dict]] = {}
        for n, item in enumerate(items.itertuples(index=False), start=1):
            annotations = [
                {"id": 100 * n + k, "completed_by": user, "result": answer_to_result(TaskType(item.task_type), answer),
                 "was_cancelled": False, "lead_time": 3.0, "created_at": "2026-01-02T10:00:00Z",
                 "updated_at": f"2026-01-02T10:0{k}:00Z"}
                for k, (user, answer) in enumerate(answers.get(item.item_key, []))
            ]  # fmt: skip
            task = {"id": n, "data": {KEY_FIELD: item.item_key, STORE_FIELD: sid, "item_id": int(item.item_id),
                                      "photo_id": int(item.photo_id), "reason": item.reason},
                    "annotations": annotations}  # fmt: skip
            self.tasks.setdefault(list(TaskType).index(TaskType(item.task_type)) + 1, []).append(task)

    def check(self) -> str:
        return "ann@example.com"

    def users(self) -> dict[int, str]:
        return {1: "ann@example.com", 2: "bob@example.com", 3: "cy@example.com"}

    def find_project(self, title: str) -> int | None:
        return next((k + 1 for k, t in enumerate(TaskType) if project_title(t) == title), None)

    def iter_tasks(self, project_id: int, *, with_annotations: bool = False):  # noqa: ANN201, ARG002
        yield from self.tasks.get(project_id, [])


# ----------------------------------------------------------------------------- resolving answers


@pytest.mark.parametrize(
    ("votes", "answers", "ties"),
    [
        ([Vote(1, "ann", "Same event")], {1: "Same event"}, 0),
        ([Vote(1, "ann", "Same event"), Vote(1, "bob", "Different events")], {}, 1),  # a tie: nothing
        ([Vote(1, "ann", "Same event"), Vote(1, "bob", "Different events"), Vote(1, "cy", "Different events")],
         {1: "Different events"}, 0),
        # ann changed her mind: only her latest answer counts, once
        ([Vote(1, "ann", "Same event", datetime(2026, 1, 1, 10)), Vote(1, "ann", "Different events", datetime(2026, 1, 1, 11)),
          Vote(1, "bob", "Different events")], {1: "Different events"}, 0),
        ([Vote(1, "ann", "Can't tell"), Vote(2, "ann", "Same person")], {1: "Can't tell", 2: "Same person"}, 0),
    ],
)  # fmt: skip
def test_resolve_answers(votes: list[Vote], answers: dict[int, str], ties: int) -> None:
    assert resolve_answers(votes) == (answers, ties)


# ----------------------------------------------------------------------------- through the store


@pytest.fixture(scope="module")
def places() -> GeoNamesPlaces:
    return GeoNamesPlaces()


def _library(settings: Settings) -> tuple[Store, int, list[int]]:
    """A generated Saturday without GPS: photos every 2 min from 10:00, with pauses of 55 min
    (kept, just under the 1 h floor), 75 min (split, just over) and 3 h (a clear split); and
    faces of two people."""
    store = Store(settings.database)
    t, rows = datetime(2023, 5, 6, 10), []
    for pause in (55, 75, 180, None):
        for _ in range(6):
            rows.append(t)
            t += timedelta(minutes=2)
        t += timedelta(minutes=(pause or 0) - 2)
    with store.connect() as con:
        library_id = con.execute("INSERT INTO libraries (root, name) VALUES ('/p', 'p') RETURNING library_id").fetchone()[0]
        con.register("rows", pd.DataFrame({"taken_at": rows, "n": range(len(rows))}))
        con.execute(
            "INSERT INTO photos (library_id, rel_path, status, sha256, taken_at, time_source, time_reliable) "
            "SELECT ?, 'IMG_' || lpad(n::VARCHAR, 4, '0') || '.JPG', 'ok', lpad(n::VARCHAR, 64, '0'), taken_at, "
            "'exif', true FROM rows",
            [library_id],
        )
        ids = [r[0] for r in con.execute("SELECT photo_id FROM photos ORDER BY taken_at").fetchall()]
    return store, int(library_id), ids


def _events(store: Store, library_id: int) -> dict[int, str]:
    with store.connect(read_only=True) as con:
        return dict(con.execute("SELECT photo_id, event_id FROM photo_events WHERE library_id = ?", [library_id]).fetchall())


def _faces(store: Store, library_id: int, ids: list[int]) -> dict[str, np.ndarray]:
    """Ana in photos 0-5, Ben in 6-11, and a face in photo 12 between them (a little nearer Ana)."""
    rng = np.random.default_rng(0)
    ana, ben = rng.normal(scale=0.07, size=(2, 128))
    emb = {f"{ids[k]}-0": ana + rng.normal(scale=0.018, size=128) for k in range(6)}
    emb |= {f"{ids[k]}-0": ben + rng.normal(scale=0.018, size=128) for k in range(6, 12)}
    emb[f"{ids[12]}-0"] = ana + 0.4 * (ben - ana)
    with store.connect() as con:
        for face_id, e in emb.items():
            con.execute(
                "INSERT INTO faces (face_id, library_id, photo_id, model_version, box_left, box_top, box_right, "
                "box_bottom, confidence, embedding) VALUES (?, ?, ?, ?, 0, 0, 1, 1, 1, ?)",
                [face_id, library_id, int(face_id.split("-")[0]), FACES, e.astype(np.float32).tolist()],
            )
    update_people(store, library_id, FACES)
    return emb


def test_answers_pulled_back_change_events_on_the_next_run_and_people_at_once(
    settings: Settings, places: GeoNamesPlaces
) -> None:
    store, library_id, ids = _library(settings)
    run_events_stage(store, settings, library_id, places=places)
    before = _events(store, library_id)
    assert len(set(before.values())) == 3  # 55 min kept, 75 min and 3 h split
    with store.connect(read_only=True) as con:
        doubtful = con.execute("SELECT photo_before, photo_after, split FROM event_boundaries ORDER BY 1").fetchall()
    assert doubtful == [(ids[5], ids[6], False), (ids[11], ids[12], True)]  # the 3 h pause is no close call

    faces = _faces(store, library_id, ids)
    with store.connect(read_only=True) as con:
        person = dict(con.execute("SELECT face_id, person_id FROM faces").fetchall())
    border, ana_face, ben_face = f"{ids[12]}-0", f"{ids[0]}-0", f"{ids[6]}-0"
    assert person[border] == person[ana_face] != person[ben_face]

    report = mine(store, task_types=["same_event"])
    assert report.found[TaskType.SAME_EVENT] == 2
    queue = queue_frame(store)
    # People answer against the segmenter on both boundaries, two annotators agreeing on one;
    # and say the border face is Ben (as a same-person question would have asked).
    with store.connect() as con:
        con.execute(
            "INSERT INTO label_queue (item_key, task_type, photo_id, face_id, ref_face_id, person_id, reason, "
            "priority, source, status) VALUES (?, 'same_person', ?, ?, ?, ?, 'same person?', 0.9, 'mined', 'pushed')",
            [f"same_person:{border}:{ben_face}", ids[12], border, ben_face, person[ben_face]],
        )
    queue = queue_frame(store)
    answers = {
        f"same_event:{ids[5]}:{ids[6]}": [(1, SameEvent.NO), (2, SameEvent.NO)],
        f"same_event:{ids[11]}:{ids[12]}": [(1, SameEvent.YES)],
        f"same_person:{border}:{ben_face}": [(3, SamePerson.YES)],
    }
    pulled = pull(store, settings, client=StandInClient(store_id(store), queue, answers))  # type: ignore[arg-type]
    assert pulled.annotations == 4 and pulled.labelled_items == 3 and not pulled.errors
    assert pulled.feedback is not None and pulled.feedback.event_answers == 2
    assert pulled.feedback.faces.moved == {border: (person[border], person[ben_face])}
    assert "2 same-event answers" in pulled.summary()
    with store.connect(read_only=True) as con:
        links = con.execute("SELECT photo_a, photo_b, same_event, source FROM event_links ORDER BY 1").fetchall()
        now = dict(con.execute("SELECT face_id, person_id FROM faces").fetchall())
    assert links == [(ids[5], ids[6], False, "label"), (ids[11], ids[12], True, "label")]
    assert now[border] == person[ben_face]  # the answer acted on people at once

    # The next events run follows the answers: split at 55 min, together across 75 min.
    report = run_events_stage(store, settings, library_id, places=places)
    assert report.answers == {"applied": 2, "conflicting": 0, "unknown": 0}
    after = _events(store, library_id)
    assert after[ids[5]] != after[ids[6]] and after[ids[11]] == after[ids[12]]
    assert after[ids[17]] != after[ids[18]]  # the 3-hour pause still splits
    assert len(set(after.values())) == 3
    with store.connect(read_only=True) as con:
        recorded = con.execute("SELECT photo_before, split, labelled FROM event_boundaries ORDER BY 1").fetchall()
    assert recorded == [(ids[5], True, True), (ids[11], False, True)]
    # Answered boundaries are not asked about again.
    assert mine(store, task_types=["same_event"]).found[TaskType.SAME_EVENT] == 0

    # A faces run (re-clustering everything) keeps the same-person answer.
    with store.connect() as con:
        con.execute("UPDATE faces SET person_id = NULL WHERE face_id = ?", [f"{ids[1]}-0"])  # one face to place
    update_people(store, library_id, FACES)
    with store.connect(read_only=True) as con:
        again = dict(con.execute("SELECT face_id, person_id FROM faces").fetchall())
    assert again[border] == again[ben_face] and again[ana_face] == person[ana_face]
    assert len(faces) == 13

    # An annotation withdrawn in Label Studio withdraws its constraint on the next pull.
    del answers[f"same_event:{ids[5]}:{ids[6]}"]
    pull(store, settings, client=StandInClient(store_id(store), queue_frame(store), answers))  # type: ignore[arg-type]
    run_events_stage(store, settings, library_id, places=places)
    assert _events(store, library_id)[ids[5]] == _events(store, library_id)[ids[6]]


def test_feedback_with_nothing_answered_changes_nothing(settings: Settings) -> None:
    store, _, _ = _library(settings)
    report = apply_feedback(store)
    assert (report.event_answers, report.unsure, report.ties, report.faces.applied) == (0, 0, 0, 0)
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM event_links").fetchone()[0] == 0

"""People's answers back into the engine, after each pull.

* **same event**: the majority answer on a pair of photos becomes a row of ``event_links``;
  the events stage's next run honours it ("different events" forces a boundary between the
  two photos, "same event" forbids one: ``curation.events.segment``).
* **same person**: the majority answer on a pair of faces acts on people at once, through
  ``curation.faces.editing.apply_face_answers``: "same person" must-links the faces (the
  doubtful face joins the reference face's person), "different people" cannot-links them
  (it leaves); every later re-clustering keeps both.

Answers are resolved like training labels: each annotator's latest answer counts once, the
majority wins, ties and "can't tell" give no constraint. The whole set is recomputed on
every pull, so a changed or deleted annotation changes (or withdraws) its constraint.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from curation.events.records import BoundaryAnswer
from curation.faces.editing import FaceAnswer, FaceAnswersReport, apply_face_answers
from curation.store import Store
from labeling.config import SameEvent, SamePerson, TaskType

SOURCE = "label"  # event_links.source / face_links.source of answers from Label Studio


@dataclass(frozen=True)
class Vote:
    """One annotation's answer (``labels.value`` decoded: the enum value)."""

    item_id: int
    annotator: str
    answer: str
    updated_at: datetime | None = None
    annotation_id: int = 0


def resolve_answers(votes: Iterable[Vote]) -> tuple[dict[int, str], int]:
    """Item -> the answer most annotators gave (each annotator's latest answer counts once).
    Returns the answers and the number of items left out as ties."""
    latest: dict[tuple[int, str], Vote] = {}
    for vote in sorted(votes, key=lambda v: (v.updated_at or datetime.min, v.annotation_id)):
        latest[(vote.item_id, vote.annotator)] = vote
    by_item: dict[int, list[str]] = defaultdict(list)
    for (item_id, _), vote in latest.items():
        by_item[item_id].append(vote.answer)
    answers, ties = {}, 0
    for item_id, values in sorted(by_item.items()):
        (best, n), *rest = Counter(values).most_common()
        if rest and rest[0][1] == n:
            ties += 1
            continue
        answers[item_id] = best
    return answers, ties


@dataclass
class FeedbackReport:
    event_answers: int = 0  # same-event answers now in event_links (for the next events run)
    unsure: int = 0  # items whose answer is "can't tell": no constraint
    ties: int = 0  # items where annotators are split evenly: no constraint
    faces: FaceAnswersReport = field(default_factory=FaceAnswersReport)

    def summary(self) -> str:
        text = (
            f"feedback: {self.event_answers} same-event answers kept for the next events run, "
            f"{self.unsure} can't-tell and {self.ties} tied items left out"
        )
        return "\n".join([text, self.faces.summary()])


def apply_feedback(store: Store) -> FeedbackReport:
    """Turn the pulled same-event and same-person answers into constraints (see the module doc)."""
    from curation.pipeline.events_stage import save_boundary_answers  # pulls in the events stage's imports

    report = FeedbackReport()
    with store.connect() as con:
        rows = con.execute(
            "SELECT l.item_id, l.annotator, l.value, l.updated_at, l.annotation_id, q.task_type, q.photo_id, "
            "q.ref_photo_id, q.face_id, q.ref_face_id, p.library_id FROM labels l "
            "JOIN label_queue q ON q.item_id = l.item_id "
            "JOIN photos p ON p.photo_id = q.photo_id "
            "WHERE NOT l.cancelled AND l.value IS NOT NULL AND q.task_type IN (?, ?)",
            [TaskType.SAME_EVENT.value, TaskType.SAME_PERSON.value],
        ).fetchall()
        items = {int(r[0]): r[5:] for r in rows}
        answers, report.ties = resolve_answers(
            Vote(int(r[0]), str(r[1]), str(json.loads(r[2])), r[3], int(r[4])) for r in rows
        )
        events: dict[int, list[tuple[BoundaryAnswer, int]]] = defaultdict(list)
        faces: list[FaceAnswer] = []
        for item_id, answer in answers.items():
            task_type, photo_id, ref_photo_id, face_id, ref_face_id, library_id = items[item_id]
            if answer in (SameEvent.UNSURE.value, SamePerson.UNSURE.value):
                report.unsure += 1
            elif task_type == TaskType.SAME_EVENT.value and ref_photo_id is not None:
                same = SameEvent(answer) is SameEvent.YES
                events[int(library_id)].append((BoundaryAnswer(int(photo_id), int(ref_photo_id), same), item_id))
            elif task_type == TaskType.SAME_PERSON.value and face_id and ref_face_id:
                faces.append(FaceAnswer(str(face_id), str(ref_face_id), SamePerson(answer) is SamePerson.YES))
        libraries = {int(r[0]) for r in con.execute("SELECT DISTINCT library_id FROM event_links WHERE source = ?", [SOURCE]).fetchall()}
        con.begin()
        for library_id in sorted(libraries | set(events)):  # also empties libraries whose answers were withdrawn
            report.event_answers += save_boundary_answers(con, library_id, events.get(library_id, []), source=SOURCE)
        con.commit()
    report.faces = apply_face_answers(store, faces, source=SOURCE)
    return report

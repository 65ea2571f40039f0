"""Push hard cases to Label Studio and pull the annotations back.

``push``: mine the store, pick a batch (:func:`labeling.queue.next_batch`), make sure there is
one project per task type with its labeling config and the thumbnail cache registered as
local storage, and import the tasks with the engine's predictions as pre-annotations.
Re-pushing never duplicates: the store maps queue items to task ids, and tasks already on
the server are found by the stable key in their data.

``pull``: read every annotation of our projects into ``labels`` (annotator, time, answer,
raw result), flag items where annotators disagree, mark answered items ``labelled``, then
feed the same-event and same-person answers back as constraints (``labeling.feedback``).

The server is contacted first (``check``) so that a server that is down or a wrong key
fails before anything in the store changes.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from curation.faces.people import DEFAULT_ASSIGN_THRESHOLD
from curation.ingest.decode import thumbnail_path
from curation.pipeline.faces_stage import face_crop_path
from curation.settings import Settings
from curation.store import Store
from labeling.client import LabelStudioClient
from labeling.config import TaskType, project_spec, project_title
from labeling.convert import (
    AnnotationFormatError,
    LabelTask,
    ModelPrediction,
    PulledLabel,
    annotation_to_label,
    clutter_prediction,
    conflicting_annotations,
    same_event_prediction,
    same_person_prediction,
    task_key,
    task_to_ls,
    theme_prediction,
)
from labeling.feedback import FeedbackReport, apply_feedback
from labeling.queue import MineReport, QueueItem, QueueStatus, current_version, mine, next_batch

log = logging.getLogger(__name__)


@dataclass
class PushReport:
    url: str
    mined: MineReport | None = None
    projects: dict[str, int] = field(default_factory=dict)  # task type -> Label Studio project id
    created: int = 0  # new tasks imported
    reused: int = 0  # already on the server (found by key): recorded, not duplicated
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item key, why), left queued
    per_task_type: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"pushed {self.created} new tasks to {self.url} ({self.reused} already there)"]
        for t, n in sorted(self.per_task_type.items()):
            lines.append(f"  {t}: {n} tasks in project {self.projects.get(t)}")
        for key, why in self.skipped[:10]:
            lines.append(f"  skipped {key}: {why}")
        return "\n".join(lines)


@dataclass
class PullReport:
    url: str
    tasks_seen: int = 0
    annotations: int = 0
    new: int = 0
    updated: int = 0
    removed: int = 0
    cancelled: int = 0
    conflicting_items: int = 0
    labelled_items: int = 0
    unknown_tasks: int = 0  # tasks of our projects whose key is not in this store's queue
    errors: list[str] = field(default_factory=list)  # annotations that do not fit the config
    feedback: FeedbackReport | None = None  # what the same-event / same-person answers changed
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"pulled {self.annotations} annotations on {self.tasks_seen} tasks from {self.url}: "
            f"{self.new} new, {self.updated} changed, {self.removed} removed, {self.cancelled} skipped by "
            f"annotators; {self.labelled_items} items labelled, {self.conflicting_items} with conflicting answers"
        )
        feedback = [self.feedback.summary()] if self.feedback is not None else []
        return "\n".join([text, *(f"  error: {e}" for e in self.errors[:10]), *feedback])


# ----------------------------------------------------------------------------- push


def store_id(store: Store) -> str:
    """This store's id on Label Studio servers (made once, kept in ``labeling_store``)."""
    with store.connect() as con:
        row = con.execute("SELECT store_id FROM labeling_store LIMIT 1").fetchone()
        if row:
            return str(row[0])
        new = uuid.uuid4().hex[:12]
        con.execute("INSERT INTO labeling_store (store_id) VALUES (?)", [new])
        return new


def push(
    store: Store,
    settings: Settings,
    limit: int = 50,
    *,
    task_types: Iterable[TaskType | str] | None = None,
    client: LabelStudioClient | None = None,
    mine_first: bool = True,
) -> PushReport:
    """Send up to ``limit`` queued hard cases to Label Studio (see the module doc)."""
    started = time.perf_counter()
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    client = client or LabelStudioClient.from_settings(settings)
    report = PushReport(url=client.url)
    client.check()  # down or wrong key: raise here, before the store changes
    types = [TaskType.parse(str(t)) for t in task_types] if task_types is not None else list(TaskType)
    if mine_first:
        report.mined = mine(store, task_types=types)
    batch = next_batch(store, limit, task_types=types)
    sid = store_id(store)
    by_type: dict[TaskType, list[QueueItem]] = defaultdict(list)
    for item in batch:
        by_type[item.task_type].append(item)
    cache = settings.cache.resolve()
    for task_type, items in by_type.items():
        spec = project_spec(task_type)
        project_id = client.ensure_project(spec)
        report.projects[task_type.value] = project_id
        cache.mkdir(parents=True, exist_ok=True)
        client.ensure_local_storage(project_id, cache)
        on_server = {key: int(t["id"]) for t in client.iter_tasks(project_id) if (key := task_key(t, sid))}
        reused = [(it, on_server[it.item_key]) for it in items if it.item_key in on_server]
        fresh = [it for it in items if it.item_key not in on_server]
        tasks, keep = [], []
        with store.connect() as con:
            predictions = _predictions(con, task_type, fresh)
            for it in fresh:
                task = _label_task(con, settings, it)
                images = task.images()
                missing = [str(p) for p in images if not p.is_file()] if images else ["no image on record"]
                if missing:
                    report.skipped.append((it.item_key, f"image not found: {missing[0]} (re-run ingest/faces)"))
                    continue
                tasks.append(
                    task_to_ls(task, client.connection.document_root, predictions.get(it.item_key), store_id=sid)
                )
                keep.append(it)
        ids = client.import_tasks(project_id, tasks)
        _record_pushed(store, client.url, project_id, reused + list(zip(keep, ids, strict=True)))
        report.created += len(ids)
        report.reused += len(reused)
        report.per_task_type[task_type.value] = len(ids) + len(reused)
        log.info("pushed %d new and %d existing %s tasks to project %s", len(ids), len(reused), task_type, project_id)
    report.seconds = time.perf_counter() - started
    return report


def _label_task(con, settings: Settings, item: QueueItem) -> LabelTask:  # noqa: ANN001 - a DuckDB connection
    common = {
        "item_id": int(item.item_id),
        "item_key": item.item_key,
        "task_type": item.task_type,
        "photo_id": item.photo_id,
        "reason": item.reason,
    }
    if item.task_type is TaskType.SAME_PERSON:
        return LabelTask(
            **common,
            face_id=item.face_id,
            ref_face_id=item.ref_face_id,
            person_id=item.person_id,
            face_image=face_crop_path(settings.cache.resolve(), str(item.face_id)),
            ref_face_image=face_crop_path(settings.cache.resolve(), str(item.ref_face_id)),
        )
    if item.task_type is TaskType.SAME_EVENT:
        return LabelTask(
            **common,
            image=_thumbnail(con, settings, item.photo_id),
            ref_photo_id=item.ref_photo_id,
            ref_image=_thumbnail(con, settings, item.ref_photo_id) if item.ref_photo_id is not None else None,
        )
    return LabelTask(**common, image=_thumbnail(con, settings, item.photo_id))


def _thumbnail(con, settings: Settings, photo_id: int):  # noqa: ANN001, ANN202 - a DuckDB connection; Path | None
    """The photo's large thumbnail, else the small one (the large one's path when neither exists)."""
    row = con.execute("SELECT sha256 FROM photos WHERE photo_id = ?", [photo_id]).fetchone()
    if not row or not row[0]:
        return None
    for size in sorted(settings.ingest.thumb_sizes, reverse=True):
        candidate = thumbnail_path(settings.cache.resolve(), row[0], size)
        if candidate.is_file():
            return candidate
    return thumbnail_path(settings.cache.resolve(), row[0], max(settings.ingest.thumb_sizes))


def _predictions(con, task_type: TaskType, items: Sequence[QueueItem]) -> dict[str, ModelPrediction]:  # noqa: ANN001
    """The engine's current answer per item, as pre-annotations (none for items it never scored)."""
    if not items:
        return {}
    out: dict[str, ModelPrediction] = {}
    if task_type is TaskType.THEMES:
        version = current_version(con, "photo_predictions", "themes")
        if version is None:
            return {}
        rows = dict(
            con.execute(
                "SELECT photo_id, theme_scores FROM photo_predictions WHERE model_version = ? "
                "AND photo_id IN (SELECT unnest(?))",
                [version, [it.photo_id for it in items]],
            ).fetchall()
        )
        for it in items:
            if it.photo_id in rows:
                out[it.item_key] = theme_prediction(rows[it.photo_id], version)
    elif task_type is TaskType.CLUTTER:
        version = current_version(con, "photo_clutter", "clutter")
        if version is None:
            return {}
        rows = {
            pid: (cat, score)
            for pid, cat, score in con.execute(
                "SELECT photo_id, category, score FROM photo_clutter WHERE model_version = ? "
                "AND photo_id IN (SELECT unnest(?))",
                [version, [it.photo_id for it in items]],
            ).fetchall()
        }
        for it in items:
            if it.photo_id in rows:
                out[it.item_key] = clutter_prediction(*rows[it.photo_id], version)
    elif task_type is TaskType.SAME_EVENT:
        rows = {
            (int(a), int(b)): (float(m), bool(split), str(v))
            for a, b, m, split, v in con.execute(
                "SELECT photo_before, photo_after, margin, split, model_version FROM event_boundaries "
                "WHERE photo_before IN (SELECT unnest(?))",
                [[it.photo_id for it in items]],
            ).fetchall()
        }
        for it in items:
            found = rows.get((it.photo_id, int(it.ref_photo_id or -1)))
            if found is not None:
                out[it.item_key] = same_event_prediction(found[0], found[1], found[2])
    else:
        for it in items:
            pred = _same_person_prediction(con, it)
            if pred is not None:
                out[it.item_key] = pred
    return out


def _same_person_prediction(con, item: QueueItem) -> ModelPrediction | None:  # noqa: ANN001
    face = con.execute(
        "SELECT embedding, library_id, model_version FROM faces WHERE face_id = ?", [item.face_id]
    ).fetchone()
    if face is None or item.person_id is None:
        return None
    members = con.execute(
        "SELECT embedding FROM faces WHERE library_id = ? AND person_id = ? AND model_version = ?",
        [face[1], item.person_id, face[2]],
    ).fetchall()
    if not members:
        return None
    centroid = np.mean([np.asarray(m[0], dtype=np.float64) for m in members], axis=0)
    distance = float(np.linalg.norm(np.asarray(face[0], dtype=np.float64) - centroid))
    return same_person_prediction(distance, DEFAULT_ASSIGN_THRESHOLD, f"{face[2]}+people")


def _record_pushed(store: Store, url: str, project_id: int, pairs: Sequence[tuple[QueueItem, int]]) -> None:
    if not pairs:
        return
    now = datetime.now()
    frame = pd.DataFrame(
        {
            "item_id": [int(it.item_id) for it, _ in pairs],
            "ls_url": url,
            "ls_project_id": project_id,
            "ls_task_id": [int(t) for _, t in pairs],
            "pushed_at": now,
        }
    )
    with store.connect() as con:
        con.begin()
        con.register("pushed", frame)
        con.execute("INSERT OR REPLACE INTO label_tasks SELECT item_id, ls_url, ls_project_id, ls_task_id, pushed_at FROM pushed")
        con.execute(
            "UPDATE label_queue SET status = 'pushed', updated_at = ? "
            "WHERE item_id IN (SELECT item_id FROM pushed) AND status = 'queued'",
            [now],
        )
        con.commit()


# ----------------------------------------------------------------------------- pull


def pull(store: Store, settings: Settings, *, client: LabelStudioClient | None = None) -> PullReport:
    """Read every annotation of our projects into ``labels`` (see the module doc)."""
    started = time.perf_counter()
    client = client or LabelStudioClient.from_settings(settings)
    report = PullReport(url=client.url)
    client.check()
    users = client.users()
    sid = store_id(store)
    with store.connect() as con:
        queue = {
            key: (int(item_id), int(photo_id), face_id, ref_face_id)
            for key, item_id, photo_id, face_id, ref_face_id in con.execute(
                "SELECT item_key, item_id, photo_id, face_id, ref_face_id FROM label_queue"
            ).fetchall()
        }
    labels: list[PulledLabel] = []
    seen_tasks: list[int] = []
    for task_type in TaskType:
        project_id = client.find_project(project_title(task_type))
        if project_id is None:
            continue
        for task in client.iter_tasks(project_id, with_annotations=True):
            key = task_key(task, sid)
            if key is None:  # made by hand in Label Studio, or pushed from another store
                continue
            if key not in queue:
                report.unknown_tasks += 1
                continue
            report.tasks_seen += 1
            seen_tasks.append(int(task["id"]))
            for annotation in task.get("annotations") or []:
                try:
                    labels.append(annotation_to_label(task_type, task, annotation, users))
                except AnnotationFormatError as exc:
                    report.errors.append(f"task {task['id']} annotation {annotation.get('id')}: {exc}")
    conflicts = conflicting_annotations(labels)
    _write_labels(store, client.url, labels, conflicts, seen_tasks, queue, report)
    report.feedback = apply_feedback(store)
    report.seconds = time.perf_counter() - started
    return report


def _write_labels(
    store: Store,
    url: str,
    labels: Sequence[PulledLabel],
    conflicts: set[int],
    seen_tasks: Sequence[int],
    queue: dict[str, tuple[int, int, str | None, str | None]],
    report: PullReport,
) -> None:
    now = datetime.now()
    frame = pd.DataFrame(
        [
            {
                "ls_url": url,
                "annotation_id": lb.annotation_id,
                "ls_task_id": lb.ls_task_id,
                "item_id": queue[lb.item_key][0],
                "task_type": lb.task_type.value,
                "photo_id": queue[lb.item_key][1],
                "face_id": queue[lb.item_key][2],
                "ref_face_id": queue[lb.item_key][3],
                "annotator": lb.annotator,
                "created_at": lb.created_at,
                "updated_at": lb.updated_at,
                "lead_time_s": lb.lead_time_s,
                "cancelled": lb.cancelled,
                "value": lb.value_json,
                "result": json.dumps(lb.result, sort_keys=True),
                "conflict": lb.annotation_id in conflicts,
                "pulled_at": now,
            }
            for lb in labels
        ],
        columns=[
            "ls_url", "annotation_id", "ls_task_id", "item_id", "task_type", "photo_id", "face_id", "ref_face_id",
            "annotator", "created_at", "updated_at", "lead_time_s", "cancelled", "value", "result", "conflict",
            "pulled_at",
        ],
    )  # fmt: skip
    frame = frame.astype(
        {"annotation_id": "int64", "ls_task_id": "int64", "item_id": "int64", "photo_id": "int64", "cancelled": bool,
         "conflict": bool, "created_at": "datetime64[us]", "updated_at": "datetime64[us]", "lead_time_s": "float64",
         "pulled_at": "datetime64[us]"}
    )  # fmt: skip
    with store.connect() as con:
        before = {
            int(a): (v, u)
            for a, v, u in con.execute(
                "SELECT annotation_id, value, updated_at FROM labels WHERE ls_url = ? "
                "AND ls_task_id IN (SELECT unnest(?))",
                [url, list(seen_tasks)],
            ).fetchall()
        }
        now_ids = set(frame["annotation_id"].tolist())
        report.annotations = len(frame)
        report.cancelled = int(frame["cancelled"].sum())
        report.new = len(now_ids - set(before))
        report.removed = len(set(before) - now_ids)
        report.updated = sum(
            1
            for r in frame.itertuples(index=False)
            if r.annotation_id in before
            and (_none(before[r.annotation_id][0]) != _none(r.value) or _ts(before[r.annotation_id][1]) != _ts(r.updated_at))
        )

        con.begin()
        con.execute(
            "DELETE FROM labels WHERE ls_url = ? AND ls_task_id IN (SELECT unnest(?))", [url, list(seen_tasks)]
        )
        con.register("pulled", frame)
        con.execute("INSERT INTO labels SELECT * FROM pulled")
        answered = con.execute(
            "SELECT DISTINCT item_id FROM pulled WHERE NOT cancelled"
        ).fetchall()
        con.execute(
            "UPDATE label_queue SET status = ?, updated_at = ? WHERE item_id IN (SELECT unnest(?))",
            [QueueStatus.LABELLED.value, now, [int(r[0]) for r in answered]],
        )
        con.commit()
        report.labelled_items = len(answered)
        report.conflicting_items = int(frame.loc[frame["conflict"], "item_id"].nunique())


def _none(value):  # noqa: ANN001, ANN202 - pandas turns a missing string into NaN
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _ts(value) -> pd.Timestamp | None:  # noqa: ANN001 - pandas Timestamp, datetime or None
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def labels_frame(store: Store, *, task_type: TaskType | str | None = None) -> pd.DataFrame:
    """The pulled labels (newest first), for the dashboard."""
    where = "WHERE task_type = ?" if task_type is not None else ""
    params = [TaskType.parse(str(task_type)).value] if task_type is not None else []
    with store.connect() as con:
        return con.execute(
            f"SELECT * FROM labels {where} ORDER BY updated_at DESC NULLS LAST, annotation_id DESC",  # noqa: S608
            params,
        ).df()


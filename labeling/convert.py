"""Pure converters between the engine's records and Label Studio's JSON, both ways.

Nothing here talks to a server or a database: tasks, predictions and annotations are
plain dicts in Label Studio's import/export format, answers are the engine's enums.
Every ``*_to_*`` has its inverse, and ``tests/test_labeling_convert.py`` round-trips them.

Answers, per task type:

* themes: ``frozenset[Theme]`` (empty = "None of these")
* clutter: ``ClutterCategory``
* same_person: ``SamePerson`` (yes, no, can't tell)
* same_event: ``SameEvent`` (yes, no, can't tell)
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from curation.vision.clutter import ClutterCategory
from curation.vision.themes import DEFAULT_MIN_SCORE, THEME_MIN_SCORES, THEME_TITLES, THEMES, Theme
from labeling.config import (
    CLUTTER_FROM,
    CLUTTER_TITLES,
    FACE_A,
    FACE_B,
    IMAGE,
    NO_THEME,
    PHOTO_A,
    PHOTO_B,
    SAME_EVENT_FROM,
    SAME_PERSON_FROM,
    THEMES_FROM,
    SameEvent,
    SamePerson,
    TaskType,
    clutter_from_title,
    theme_from_title,
)

Answer = frozenset[Theme] | ClutterCategory | SamePerson | SameEvent

# Per task type: the config's choices name and the object it points at.
_FROM = {
    TaskType.THEMES: (THEMES_FROM, IMAGE),
    TaskType.CLUTTER: (CLUTTER_FROM, IMAGE),
    TaskType.SAME_PERSON: (SAME_PERSON_FROM, FACE_A),
    TaskType.SAME_EVENT: (SAME_EVENT_FROM, PHOTO_A),
}

LOCAL_FILES_PREFIX = "/data/local-files/?d="
KEY_FIELD = "curation_key"  # the stable key in each task's data: finds existing tasks on re-push
# Which store (database) pushed the task: several stores may share one server, and their
# keys ("themes:12") would collide without it.
STORE_FIELD = "curation_store"


class ImagePathError(ValueError):
    """An image lies outside the Label Studio local-files document root."""


class AnnotationFormatError(ValueError):
    """A Label Studio result that does not fit the labeling config we pushed."""


# ----------------------------------------------------------------------------- images


def image_url(path: Path | str, document_root: Path | str) -> str:
    """A local file -> the URL Label Studio serves it at (``/data/local-files/?d=...``)."""
    path, root = Path(path), Path(document_root)
    try:
        rel = path.relative_to(root)
    except ValueError:
        raise ImagePathError(
            f"{path} is outside Label Studio's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT ({root}): it cannot "
            f"serve it. Start Label Studio with a document root above the cache folder "
            f"(scripts/labelstudio.sh uses /) or move the cache (CURATION_CACHE_DIR) under {root}."
        ) from None
    return LOCAL_FILES_PREFIX + quote(PurePosixPath(*rel.parts).as_posix(), safe="/")


def image_path(url: str, document_root: Path | str) -> Path:
    """Inverse of :func:`image_url`."""
    parts = urlsplit(url)
    if parts.path.rstrip("/") != "/data/local-files":
        raise ImagePathError(f"{url!r} is not a Label Studio local-files URL ({LOCAL_FILES_PREFIX}...)")
    values = parse_qs(parts.query).get("d")
    if not values:
        raise ImagePathError(f"{url!r} has no d= parameter")
    return Path(document_root).joinpath(*PurePosixPath(values[0]).parts)


# ----------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class LabelTask:
    """One question for a person: what a queue item shows in Label Studio."""

    item_id: int
    item_key: str
    task_type: TaskType
    photo_id: int
    reason: str
    image: Path | None = None  # themes, clutter, same_event: the photo's thumbnail
    face_id: str | None = None  # same_person: the doubtful face ...
    ref_face_id: str | None = None  # ... and the person's most typical face
    face_image: Path | None = None
    ref_face_image: Path | None = None
    person_id: int | None = None
    ref_photo_id: int | None = None  # same_event: the photo after the boundary ...
    ref_image: Path | None = None  # ... and its thumbnail

    def images(self) -> tuple[Path, ...]:
        if self.task_type is TaskType.SAME_PERSON:
            return tuple(p for p in (self.face_image, self.ref_face_image) if p is not None)
        if self.task_type is TaskType.SAME_EVENT:
            return tuple(p for p in (self.image, self.ref_image) if p is not None)
        return (self.image,) if self.image is not None else ()


@dataclass(frozen=True)
class ModelPrediction:
    """The engine's current answer, shown to the annotator as a pre-annotation."""

    answer: Answer
    model_version: str
    score: float  # the model's confidence in ``answer``, 0..1


def task_to_ls(
    task: LabelTask,
    document_root: Path | str,
    prediction: ModelPrediction | None = None,
    *,
    store_id: str | None = None,
) -> dict:
    """A task in Label Studio's import format: ``{"data": ..., "predictions": [...]}``."""
    data: dict[str, Any] = {
        KEY_FIELD: task.item_key,
        "item_id": task.item_id,
        "photo_id": task.photo_id,
        "reason": task.reason,
    }
    if task.task_type is TaskType.SAME_PERSON:
        if task.face_image is None or task.ref_face_image is None:
            raise ValueError(f"{task.item_key}: a same-person task needs both face crops")
        data.update(
            {
                FACE_A: image_url(task.face_image, document_root),
                FACE_B: image_url(task.ref_face_image, document_root),
                "face_id": task.face_id,
                "ref_face_id": task.ref_face_id,
                "person_id": task.person_id,
            }
        )
    elif task.task_type is TaskType.SAME_EVENT:
        if task.image is None or task.ref_image is None or task.ref_photo_id is None:
            raise ValueError(f"{task.item_key}: a same-event task needs both photos and their thumbnails")
        data.update(
            {
                PHOTO_A: image_url(task.image, document_root),
                PHOTO_B: image_url(task.ref_image, document_root),
                "ref_photo_id": int(task.ref_photo_id),
            }
        )
    else:
        if task.image is None:
            raise ValueError(f"{task.item_key}: a {task.task_type} task needs an image")
        data[IMAGE] = image_url(task.image, document_root)
    if store_id is not None:
        data[STORE_FIELD] = store_id
    out: dict[str, Any] = {"data": data}
    if prediction is not None:
        out["predictions"] = [prediction_to_ls(task.task_type, prediction)]
    return out


def task_from_ls(task_type: TaskType, ls_task: Mapping[str, Any], document_root: Path | str) -> LabelTask:
    """Inverse of :func:`task_to_ls` (the ``data`` part)."""
    data = ls_task["data"]
    common = {
        "item_id": int(data["item_id"]),
        "item_key": str(data[KEY_FIELD]),
        "task_type": TaskType(task_type),
        "photo_id": int(data["photo_id"]),
        "reason": str(data["reason"]),
    }
    if TaskType(task_type) is TaskType.SAME_PERSON:
        return LabelTask(
            **common,
            face_id=data.get("face_id"),
            ref_face_id=data.get("ref_face_id"),
            face_image=image_path(data[FACE_A], document_root),
            ref_face_image=image_path(data[FACE_B], document_root),
            person_id=data.get("person_id"),
        )
    if TaskType(task_type) is TaskType.SAME_EVENT:
        return LabelTask(
            **common,
            image=image_path(data[PHOTO_A], document_root),
            ref_image=image_path(data[PHOTO_B], document_root),
            ref_photo_id=int(data["ref_photo_id"]),
        )
    return LabelTask(**common, image=image_path(data[IMAGE], document_root))


def task_key(ls_task: Mapping[str, Any], store_id: str | None = None) -> str | None:
    """The stable key of a task we pushed (None for tasks made by someone else, or, with
    ``store_id``, pushed from another store)."""
    data = ls_task.get("data") or {}
    key = data.get(KEY_FIELD)
    if key is None or (store_id is not None and data.get(STORE_FIELD) != store_id):
        return None
    return str(key)


# ----------------------------------------------------------------------------- answers <-> results


def _choices_result(from_name: str, to_name: str, choices: Sequence[str]) -> list[dict]:
    return [{"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": list(choices)}}]


def answer_to_result(task_type: TaskType, answer: Answer) -> list[dict]:
    """An answer -> a Label Studio ``result`` list (as an annotator's UI would send it)."""
    task_type = TaskType(task_type)
    if task_type is TaskType.THEMES:
        themes = _as_themes(answer)
        titles = [THEME_TITLES[t] for t in THEMES if t in themes] or [NO_THEME]
        return _choices_result(THEMES_FROM, IMAGE, titles)
    if task_type is TaskType.CLUTTER:
        return _choices_result(CLUTTER_FROM, IMAGE, [CLUTTER_TITLES[ClutterCategory(answer)]])
    from_name, to_name = _FROM[task_type]
    return _choices_result(from_name, to_name, [_PAIR_ANSWERS[task_type](answer).value])


def result_to_answer(task_type: TaskType, result: Sequence[Mapping[str, Any]]) -> Answer:
    """A Label Studio ``result`` list -> the answer. Raises :class:`AnnotationFormatError`."""
    task_type = TaskType(task_type)
    from_name = _FROM[task_type][0]
    choices: list[str] = []
    found = False
    for region in result:
        if region.get("from_name") == from_name and region.get("type", "choices") == "choices":
            choices.extend(region.get("value", {}).get("choices", []))
            found = True
    if not found:
        names = sorted({str(r.get("from_name")) for r in result})
        raise AnnotationFormatError(
            f"the {task_type} result has no choices from {from_name!r} (it has {names or 'nothing'}); "
            f"was the project's labeling config edited? Restore it with labeling.config.project_spec({task_type.value!r})"
        )
    try:
        if task_type is TaskType.THEMES:
            return frozenset(theme_from_title(c) for c in choices if c != NO_THEME)
        if len(choices) != 1:
            raise AnnotationFormatError(f"a {task_type} answer is one choice, got {choices}")
        if task_type is TaskType.CLUTTER:
            return clutter_from_title(choices[0])
        return _PAIR_ANSWERS[task_type](choices[0])
    except ValueError as exc:
        if isinstance(exc, AnnotationFormatError):
            raise
        raise AnnotationFormatError(str(exc)) from None


# Pair questions answer with one of these enums (stored as its value).
_PAIR_ANSWERS: dict[TaskType, type[SamePerson] | type[SameEvent]] = {
    TaskType.SAME_PERSON: SamePerson,
    TaskType.SAME_EVENT: SameEvent,
}


def _as_themes(answer: Answer | Iterable[Theme]) -> frozenset[Theme]:
    if isinstance(answer, (ClutterCategory, SamePerson, SameEvent)):
        raise TypeError(f"a themes answer is a set of Theme, got {answer!r}")
    return frozenset(Theme(t) for t in answer)


def answer_to_json(task_type: TaskType, answer: Answer) -> str:
    """The normalised answer stored in ``labels.value`` (enum values, sorted)."""
    if TaskType(task_type) is TaskType.THEMES:
        return json.dumps(sorted(t.value for t in _as_themes(answer)))
    return json.dumps(str(answer.value))  # type: ignore[union-attr]


def answer_from_json(task_type: TaskType, text: str) -> Answer:
    value = json.loads(text)
    task_type = TaskType(task_type)
    if task_type is TaskType.THEMES:
        return frozenset(Theme(v) for v in value)
    if task_type is TaskType.CLUTTER:
        return ClutterCategory(value)
    return _PAIR_ANSWERS[task_type](value)


# ----------------------------------------------------------------------------- predictions


def prediction_to_ls(task_type: TaskType, prediction: ModelPrediction) -> dict:
    """A pre-annotation: the result an annotator would give, with ``model_version`` and ``score``."""
    score = float(prediction.score)
    if not (0.0 <= score <= 1.0) or math.isnan(score):
        raise ValueError(f"a prediction score is a probability in [0, 1], got {score}")
    return {
        "model_version": prediction.model_version,
        "score": round(score, 6),
        "result": answer_to_result(task_type, prediction.answer),
    }


def prediction_from_ls(task_type: TaskType, ls_prediction: Mapping[str, Any]) -> ModelPrediction:
    return ModelPrediction(
        answer=result_to_answer(task_type, ls_prediction["result"]),
        model_version=str(ls_prediction["model_version"]),
        score=float(ls_prediction["score"]),
    )


def theme_prediction(
    scores: Sequence[float], model_version: str, min_score: float | Mapping[Theme, float] | None = None
) -> ModelPrediction:
    """Theme scores (THEMES order) -> the themes at or above their threshold; the score is the
    model's confidence in that set (how far the closest theme is from its cut-off, as a probability)."""
    values = [float(s) for s in scores]
    if len(values) != len(THEMES):
        raise ValueError(f"expected {len(THEMES)} theme scores (THEMES order), got {len(values)}")
    if min_score is None:
        min_score = THEME_MIN_SCORES
    if isinstance(min_score, Mapping):
        cuts = [float(min_score.get(t, DEFAULT_MIN_SCORE)) for t in THEMES]
    else:
        cuts = [float(min_score)] * len(THEMES)
    chosen = frozenset(t for t, s, c in zip(THEMES, values, cuts, strict=True) if s >= c)
    # per theme: the probability of the side it is on, read on a scale where the cut-off is 0.5
    confidences = [_side_confidence(s, c) for s, c in zip(values, cuts, strict=True)]
    return ModelPrediction(chosen, model_version, min(confidences))


def _side_confidence(score: float, cut: float) -> float:
    if score >= cut:
        return 0.5 + 0.5 * (score - cut) / max(1.0 - cut, 1e-9)
    return 0.5 + 0.5 * (cut - score) / max(cut, 1e-9)


def clutter_prediction(category: ClutterCategory | str, score: float, model_version: str) -> ModelPrediction:
    return ModelPrediction(ClutterCategory(category), model_version, float(score))


# Distances this far from the threshold count as 73% sure (logistic scale).
SAME_PERSON_SCALE = 0.05


def same_person_prediction(distance: float, threshold: float, model_version: str) -> ModelPrediction:
    """A face's distance to the person's centroid -> "same person" below the threshold."""
    p_same = 1.0 / (1.0 + math.exp((distance - threshold) / SAME_PERSON_SCALE))
    answer = SamePerson.YES if p_same >= 0.5 else SamePerson.NO
    return ModelPrediction(answer, model_version, max(p_same, 1.0 - p_same))


# A boundary's margin (log of gap over cut-off) of this size counts as 73% sure.
SAME_EVENT_SCALE = 0.5


def same_event_prediction(margin: float, split: bool, model_version: str) -> ModelPrediction:
    """The segmenter's call on a boundary -> "different events" when it split there. The
    score grows with the margin (how far the gap is past, or short of, the rule's cut-off)."""
    p_split = 1.0 / (1.0 + math.exp(-float(margin) / SAME_EVENT_SCALE))
    confidence = p_split if split else 1.0 - p_split
    return ModelPrediction(SameEvent.NO if split else SameEvent.YES, model_version, min(max(confidence, 0.0), 1.0))


# ----------------------------------------------------------------------------- annotations


@dataclass(frozen=True)
class PulledLabel:
    """One annotation as it comes back: who, when, what."""

    annotation_id: int
    ls_task_id: int
    item_key: str
    task_type: TaskType
    annotator: str
    created_at: datetime | None
    updated_at: datetime | None
    lead_time_s: float | None
    cancelled: bool
    answer: Answer | None  # None when cancelled (skipped)
    result: list[dict] = field(default_factory=list)

    @property
    def value_json(self) -> str | None:
        return None if self.answer is None else answer_to_json(self.task_type, self.answer)


def _time(value: Any) -> datetime | None:  # noqa: ANN401 - str from JSON or datetime from the SDK
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else _naive_utc(value)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return _naive_utc(parsed) if parsed.tzinfo is not None else parsed


def _naive_utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.astimezone(UTC).replace(tzinfo=None)


def annotator_name(completed_by: Any, users: Mapping[int, str]) -> str:  # noqa: ANN401 - int, dict or None
    """``completed_by`` is a user id (or a user dict in some exports) -> e-mail when known."""
    if isinstance(completed_by, Mapping):
        email = completed_by.get("email")
        if email:
            return str(email)
        completed_by = completed_by.get("id")
    if completed_by is None:
        return "unknown"
    try:
        uid = int(completed_by)
    except (TypeError, ValueError):
        return str(completed_by)
    return users.get(uid, f"user:{uid}")


def annotation_to_label(
    task_type: TaskType, ls_task: Mapping[str, Any], annotation: Mapping[str, Any], users: Mapping[int, str]
) -> PulledLabel:
    """One annotation of an exported task -> :class:`PulledLabel`."""
    key = task_key(ls_task)
    if key is None:
        raise AnnotationFormatError(f"task {ls_task.get('id')} has no {KEY_FIELD!r} in its data: not pushed by us")
    cancelled = bool(annotation.get("was_cancelled"))
    result = list(annotation.get("result") or [])
    answer = None if cancelled else result_to_answer(task_type, result)
    lead = annotation.get("lead_time")
    return PulledLabel(
        annotation_id=int(annotation["id"]),
        ls_task_id=int(ls_task["id"]),
        item_key=key,
        task_type=TaskType(task_type),
        annotator=annotator_name(annotation.get("completed_by"), users),
        created_at=_time(annotation.get("created_at")),
        updated_at=_time(annotation.get("updated_at")),
        lead_time_s=float(lead) if lead is not None else None,
        cancelled=cancelled,
        answer=answer,
        result=result,
    )


def label_to_annotation(label: PulledLabel) -> dict:
    """Inverse of :func:`annotation_to_label` (what ``ls.annotations.create`` takes, plus ids)."""
    return {
        "id": label.annotation_id,
        "result": answer_to_result(label.task_type, label.answer) if label.answer is not None else [],
        "was_cancelled": label.cancelled,
        "lead_time": label.lead_time_s,
        "created_at": label.created_at.isoformat() if label.created_at else None,
        "updated_at": label.updated_at.isoformat() if label.updated_at else None,
    }


def conflicting_annotations(labels: Iterable[PulledLabel]) -> set[int]:
    """Annotation ids of items where different annotators gave different answers. All of them
    are kept; the flag tells training and the dashboard not to trust either blindly."""
    by_item: dict[str, list[PulledLabel]] = defaultdict(list)
    for label in labels:
        if not label.cancelled and label.answer is not None:
            by_item[label.item_key].append(label)
    flagged: set[int] = set()
    for item_labels in by_item.values():
        latest: dict[str, PulledLabel] = {}
        for label in sorted(item_labels, key=lambda x: (x.updated_at or datetime.min, x.annotation_id)):
            latest[label.annotator] = label  # an annotator who changed their mind agrees with their latest self
        answers = {lb.value_json for lb in latest.values()}
        if len(latest) > 1 and len(answers) > 1:
            flagged.update(lb.annotation_id for lb in latest.values())
    return flagged

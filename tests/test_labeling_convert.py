"""The pure Label Studio converters: round trips both ways, no server."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from curation.vision.clutter import ClutterCategory
from curation.vision.themes import THEMES, Theme
from labeling.client import Connection, LabelStudioClient, LabelStudioNotConfigured, redact
from labeling.config import NO_THEME, SameEvent, SamePerson, TaskType, project_spec
from labeling.convert import (
    KEY_FIELD,
    AnnotationFormatError,
    ImagePathError,
    LabelTask,
    ModelPrediction,
    PulledLabel,
    annotation_to_label,
    annotator_name,
    answer_from_json,
    answer_to_json,
    answer_to_result,
    clutter_prediction,
    conflicting_annotations,
    image_path,
    image_url,
    label_to_annotation,
    prediction_from_ls,
    prediction_to_ls,
    result_to_answer,
    same_event_prediction,
    same_person_prediction,
    task_from_ls,
    task_key,
    task_to_ls,
    theme_prediction,
)

ROOT = Path("/srv/data")

ANSWERS = [
    (TaskType.THEMES, frozenset()),
    (TaskType.THEMES, frozenset({Theme.PETS})),
    (TaskType.THEMES, frozenset({Theme.BEACH_SEA, Theme.PEOPLE_PORTRAITS, Theme.SPORT})),
    (TaskType.THEMES, frozenset(THEMES)),
    *[(TaskType.CLUTTER, c) for c in ClutterCategory],
    *[(TaskType.SAME_PERSON, s) for s in SamePerson],
    *[(TaskType.SAME_EVENT, s) for s in SameEvent],
]


@pytest.mark.parametrize(("task_type", "answer"), ANSWERS)
def test_answer_result_round_trip(task_type: TaskType, answer: object) -> None:
    result = answer_to_result(task_type, answer)
    assert result_to_answer(task_type, result) == answer
    assert answer_from_json(task_type, answer_to_json(task_type, answer)) == answer
    # the result is what the labeling config can produce: its choices exist in the config
    config = project_spec(task_type).label_config
    for choice in result[0]["value"]["choices"]:
        assert f'value="{choice}"' in config.replace("&amp;", "&")
        assert f'name="{result[0]["from_name"]}"' in config


def test_themes_result_reads_titles_and_values() -> None:
    result = [{"from_name": "themes", "to_name": "image", "type": "choices", "value": {"choices": ["Pets", "beach_sea"]}}]
    assert result_to_answer(TaskType.THEMES, result) == {Theme.PETS, Theme.BEACH_SEA}
    none = [{"from_name": "themes", "to_name": "image", "type": "choices", "value": {"choices": [NO_THEME]}}]
    assert result_to_answer(TaskType.THEMES, none) == frozenset()


@pytest.mark.parametrize(
    ("task_type", "result", "message"),
    [
        (TaskType.THEMES, [], "no choices from 'themes'"),
        (TaskType.CLUTTER, [{"from_name": "themes", "value": {"choices": ["Pets"]}}], "no choices from 'clutter'"),
        (TaskType.CLUTTER, [{"from_name": "clutter", "value": {"choices": ["Selfie"]}}], "not a clutter category"),
        (TaskType.CLUTTER, [{"from_name": "clutter", "value": {"choices": ["Receipt", "Screenshot"]}}], "one choice"),
        (TaskType.THEMES, [{"from_name": "themes", "value": {"choices": ["Dinosaurs"]}}], "not a theme"),
        (TaskType.SAME_PERSON, [{"from_name": "same_person", "value": {"choices": ["Maybe"]}}], "Maybe"),
        (TaskType.SAME_EVENT, [{"from_name": "same_person", "value": {"choices": ["Same person"]}}], "no choices from 'same_event'"),
        (TaskType.SAME_EVENT, [{"from_name": "same_event", "value": {"choices": ["Same event", "Different events"]}}], "one choice"),
        (TaskType.SAME_EVENT, [{"from_name": "same_event", "value": {"choices": ["Same person"]}}], "Same person"),
    ],
)
def test_bad_results_raise_with_a_reason(task_type: TaskType, result: list, message: str) -> None:
    with pytest.raises(AnnotationFormatError, match=message):
        result_to_answer(task_type, result)


@pytest.mark.parametrize(
    "rel", ["cache/thumbs/1024/ab/abcdef.jpg", "cache/faces/12-0.jpg", "a folder/with spaces/ünï & co.jpg"]
)
def test_image_url_round_trip(rel: str) -> None:
    path = ROOT / rel
    url = image_url(path, ROOT)
    assert url.startswith("/data/local-files/?d=")
    assert " " not in url and "&" not in url.split("?d=")[1]
    assert image_path(url, ROOT) == path


def test_image_url_root_slash() -> None:
    assert image_url(Path("/tmp/x/cache/a.jpg"), Path("/")) == "/data/local-files/?d=tmp/x/cache/a.jpg"


def test_image_outside_document_root_says_how_to_fix() -> None:
    with pytest.raises(ImagePathError, match="LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"):
        image_url(Path("/elsewhere/a.jpg"), ROOT)
    with pytest.raises(ImagePathError):
        image_path("https://example.com/a.jpg", ROOT)


TASKS = [
    LabelTask(1, "themes:10", TaskType.THEMES, 10, "top two themes are close", image=ROOT / "t/10.jpg"),
    LabelTask(2, "clutter:11", TaskType.CLUTTER, 11, "unsure", image=ROOT / "t/11.jpg"),
    LabelTask(
        3, "same_person:5-0:7-1", TaskType.SAME_PERSON, 5, "same person?", face_id="5-0", ref_face_id="7-1",
        face_image=ROOT / "faces/5-0.jpg", ref_face_image=ROOT / "faces/7-1.jpg", person_id=4,
    ),
    LabelTask(
        4, "same_event:20:21", TaskType.SAME_EVENT, 20, "same event? 1 h 40 min between them", image=ROOT / "t/20.jpg",
        ref_photo_id=21, ref_image=ROOT / "t/21.jpg",
    ),
]  # fmt: skip


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.task_type.value)
def test_task_round_trip(task: LabelTask) -> None:
    ls_task = task_to_ls(task, ROOT)
    assert ls_task["data"][KEY_FIELD] == task.item_key
    assert task_key(ls_task) == task.item_key
    assert "predictions" not in ls_task
    assert task_from_ls(task.task_type, ls_task, ROOT) == task
    json.dumps(ls_task)  # plain JSON


def test_task_key_is_scoped_to_the_store() -> None:
    ours = task_to_ls(TASKS[0], ROOT, store_id="abc")
    assert task_key(ours, "abc") == TASKS[0].item_key
    assert task_key(ours, "other") is None
    assert task_key(task_to_ls(TASKS[0], ROOT), "abc") is None
    assert task_key({"id": 1, "data": {"image": "x"}}) is None


def test_task_data_fields_match_the_config_variables() -> None:
    for task in TASKS:
        config = project_spec(task.task_type).label_config
        data = task_to_ls(task, ROOT)["data"]
        for var in ("image", "face_a", "face_b", "photo_a", "photo_b", "reason"):
            if f"${var}" in config:
                assert var in data


PREDICTIONS = [
    (TaskType.THEMES, ModelPrediction(frozenset({Theme.PETS}), "themes-imagenet-map@1", 0.61)),
    (TaskType.CLUTTER, ModelPrediction(ClutterCategory.RECEIPT, "clutter-lr@abcd1234", 0.52)),
    (TaskType.SAME_PERSON, ModelPrediction(SamePerson.NO, "dlib@1+people", 0.7)),
    (TaskType.SAME_EVENT, ModelPrediction(SameEvent.YES, "events-segmenter@0123abcd", 0.55)),
]


@pytest.mark.parametrize(("task_type", "prediction"), PREDICTIONS)
def test_prediction_round_trip_carries_model_version_and_score(task_type: TaskType, prediction: ModelPrediction) -> None:
    ls_pred = prediction_to_ls(task_type, prediction)
    assert ls_pred["model_version"] == prediction.model_version
    assert ls_pred["score"] == pytest.approx(prediction.score)
    assert prediction_from_ls(task_type, ls_pred) == prediction


def test_prediction_score_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        prediction_to_ls(TaskType.CLUTTER, ModelPrediction(ClutterCategory.PHOTO, "v", 1.5))


def test_task_with_prediction() -> None:
    scores = [0.0] * len(THEMES)
    scores[THEMES.index(Theme.PETS)] = 0.42
    scores[THEMES.index(Theme.WILDLIFE)] = 0.38
    pred = theme_prediction(scores, "themes-imagenet-map@1")
    assert pred.answer == {Theme.PETS, Theme.WILDLIFE}
    assert 0.5 <= pred.score < 0.7  # both barely over the 0.3 cut-off: unsure
    ls_task = task_to_ls(TASKS[0], ROOT, pred)
    assert ls_task["predictions"][0]["result"][0]["value"]["choices"] == ["Pets", "Wildlife"]


def test_theme_prediction_confidence() -> None:
    confident = [0.0] * len(THEMES)
    confident[0] = 0.99
    assert theme_prediction(confident, "v").score > 0.95
    assert theme_prediction([0.0] * len(THEMES), "v").answer == frozenset()
    with pytest.raises(ValueError, match="theme scores"):
        theme_prediction([0.5], "v")


def test_same_event_task_needs_both_photos_and_shows_them_side_by_side() -> None:
    task = TASKS[3]
    assert task.images() == (ROOT / "t/20.jpg", ROOT / "t/21.jpg")
    data = task_to_ls(task, ROOT)["data"]
    assert data["photo_a"].endswith("t/20.jpg") and data["photo_b"].endswith("t/21.jpg") and data["ref_photo_id"] == 21
    with pytest.raises(ValueError, match="both photos"):
        task_to_ls(LabelTask(4, "same_event:20:21", TaskType.SAME_EVENT, 20, "r", image=ROOT / "a.jpg"), ROOT)


def test_same_event_prediction_follows_the_segmenter_and_its_margin() -> None:
    split_close = same_event_prediction(0.05, True, "v")
    kept_close = same_event_prediction(-0.05, False, "v")
    kept_far = same_event_prediction(-2.0, False, "v")
    assert split_close.answer is SameEvent.NO and kept_close.answer is SameEvent.YES
    assert 0.5 <= split_close.score < 0.55 and 0.5 <= kept_close.score < 0.55
    assert kept_far.score > 0.98 and kept_far.model_version == "v"


def test_clutter_and_same_person_predictions() -> None:
    assert clutter_prediction("screenshot", 0.8, "v") == ModelPrediction(ClutterCategory.SCREENSHOT, "v", 0.8)
    near = same_person_prediction(0.52, 0.53, "v")
    far = same_person_prediction(0.80, 0.53, "v")
    assert near.answer is SamePerson.YES and 0.5 <= near.score < 0.6
    assert far.answer is SamePerson.NO and far.score > 0.99


USERS = {1: "ann@example.com", 2: "bob@example.com"}


def _ls_task(task_id: int, key: str) -> dict:
    return {"id": task_id, "data": {KEY_FIELD: key, "item_id": 1, "photo_id": 10, "reason": "r", "image": "/x"}}


def _annotation(ann_id: int, user: int, choices: list[str], *, cancelled: bool = False) -> dict:
    return {
        "id": ann_id,
        "completed_by": user,
        "result": [] if cancelled else [{"from_name": "themes", "to_name": "image", "type": "choices",
                                          "value": {"choices": choices}}],  # fmt: skip
        "was_cancelled": cancelled,
        "lead_time": 4.25,
        "created_at": "2026-11-25T23:07:20.341027Z",
        "updated_at": "2026-11-25T23:08:00Z",
    }


def test_annotation_round_trip() -> None:
    label = annotation_to_label(TaskType.THEMES, _ls_task(7, "themes:10"), _annotation(3, 1, ["Pets"]), USERS)
    assert label == PulledLabel(
        annotation_id=3, ls_task_id=7, item_key="themes:10", task_type=TaskType.THEMES, annotator="ann@example.com",
        created_at=datetime(2026, 11, 25, 23, 7, 20, 341027), updated_at=datetime(2026, 11, 25, 23, 8),
        lead_time_s=4.25, cancelled=False, answer=frozenset({Theme.PETS}), result=label.result,
    )  # fmt: skip
    back = label_to_annotation(label)
    assert back["result"] == _annotation(3, 1, ["Pets"])["result"]
    again = annotation_to_label(TaskType.THEMES, _ls_task(7, "themes:10"), {**back, "completed_by": 1}, USERS)
    assert again == label
    assert label.value_json == '["pets"]'


def test_cancelled_annotation_has_no_answer() -> None:
    label = annotation_to_label(TaskType.THEMES, _ls_task(7, "themes:10"), _annotation(4, 2, [], cancelled=True), USERS)
    assert label.cancelled and label.answer is None and label.value_json is None


def test_annotation_of_a_foreign_task_is_refused() -> None:
    with pytest.raises(AnnotationFormatError, match="not pushed by us"):
        annotation_to_label(TaskType.THEMES, {"id": 1, "data": {"image": "x"}}, _annotation(1, 1, ["Pets"]), USERS)


@pytest.mark.parametrize(
    ("completed_by", "name"),
    [(1, "ann@example.com"), (9, "user:9"), ({"id": 2}, "bob@example.com"), ({"email": "c@x"}, "c@x"), (None, "unknown")],
)
def test_annotator_name(completed_by: object, name: str) -> None:
    assert annotator_name(completed_by, USERS) == name


def _label(ann_id: int, key: str, annotator: str, themes: set[Theme] | None, minute: int = 0) -> PulledLabel:
    return PulledLabel(
        ann_id, 1, key, TaskType.THEMES, annotator, None, datetime(2026, 1, 1, 0, minute), None,
        themes is None, None if themes is None else frozenset(themes),
    )  # fmt: skip


def test_conflicts_are_flagged_between_annotators_only() -> None:
    labels = [
        _label(1, "themes:1", "ann", {Theme.PETS}),
        _label(2, "themes:1", "bob", {Theme.WILDLIFE}),  # disagrees with ann: both flagged
        _label(3, "themes:2", "ann", {Theme.PETS}),
        _label(4, "themes:2", "bob", {Theme.PETS}),  # agrees
        _label(5, "themes:3", "ann", {Theme.PETS}, minute=0),
        _label(6, "themes:3", "ann", {Theme.SPORT}, minute=5),  # changed her mind: not a conflict
        _label(7, "themes:4", "ann", {Theme.PETS}),
        _label(8, "themes:4", "bob", None),  # skipped: no answer, no conflict
    ]
    assert conflicting_annotations(labels) == {1, 2}


def test_connection_requires_url_and_key_and_hides_the_key() -> None:
    secret = "s3cr3t-token-value"
    conn = Connection("http://127.0.0.1:1", SecretStr(secret))
    assert secret not in repr(conn) and secret not in str(conn)
    client = LabelStudioClient(conn)
    assert secret not in repr(client)
    assert redact(f"Authorization: Token {secret}", conn.api_key) == "Authorization: Token **********"
    with pytest.raises(LabelStudioNotConfigured, match="CURATION_LABEL_STUDIO__API_KEY"):
        LabelStudioClient(Connection("http://127.0.0.1:1", SecretStr("")))
    with pytest.raises(LabelStudioNotConfigured, match="CURATION_LABEL_STUDIO__URL"):
        LabelStudioClient(Connection("127.0.0.1:8080", SecretStr(secret)))


def test_project_specs_are_valid_xml() -> None:
    import xml.etree.ElementTree as ET

    for task_type in TaskType:
        spec = project_spec(task_type)
        root = ET.fromstring(spec.label_config)
        assert root.tag == "View"
        assert spec.title.endswith(task_type.value)
    with pytest.raises(ValueError, match="themes, clutter, same_person, same_event"):
        project_spec("faces")


def test_importing_the_core_does_no_work_and_needs_no_streamlit() -> None:
    import subprocess
    import sys

    code = (
        "import sys, labeling, curation.training; "
        "bad = [m for m in ('label_studio_sdk', 'streamlit', 'torch') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

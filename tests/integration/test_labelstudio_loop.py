"""The labeling loop against a real Label Studio: mine -> push -> annotate -> pull -> train.

Needs a running server: ``bash scripts/labelstudio.sh start`` then
``source "${TMPDIR:-/tmp}/curation-labelstudio-$(id -u)/env"`` (it exports
CURATION_LABEL_STUDIO__URL and CURATION_LABEL_STUDIO__API_KEY). Without them every test here
skips, saying so. The annotator is simulated through the SDK, as a person's browser would
post annotations.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw
from pydantic import SecretStr

from curation.ingest.decode import thumbnail_path
from curation.ingest.pipeline import ingest_library
from curation.pipeline.faces_stage import face_crop_path
from curation.settings import IngestSettings, LabelStudioSettings, Settings
from curation.store import Store
from curation.training import compare_versions, train_heads
from curation.vision.themes import THEMES, Theme
from labeling import (
    LabelStudioAuthError,
    LabelStudioClient,
    LabelStudioUnavailable,
    QueueStatus,
    TaskType,
    pull,
    push,
    queue_frame,
)
from labeling.config import SameEvent, SamePerson
from labeling.convert import KEY_FIELD, answer_to_result
from labeling.loop import store_id

pytestmark = pytest.mark.labelstudio

N_PHOTOS = 12


@pytest.fixture(scope="module")
def live() -> LabelStudioSettings:
    """The server named by the environment only: never one from .streamlit/secrets.toml, which
    may be a real team's server (these tests create projects, users and annotations)."""
    url = os.environ.get("CURATION_LABEL_STUDIO__URL", "")
    key = os.environ.get("CURATION_LABEL_STUDIO__API_KEY", "")
    if not (url and key):
        pytest.skip(
            "no Label Studio configured: run `bash scripts/labelstudio.sh start` and source the env file it names "
            "(exports CURATION_LABEL_STUDIO__URL and CURATION_LABEL_STUDIO__API_KEY)"
        )
    return LabelStudioSettings(url=url, api_key=SecretStr(key))


def _photo(i: int) -> Image.Image:
    """Three looks (four photos each): warm stripes, cool circles, grey 'documents'."""
    rng = np.random.default_rng(i)
    kind = i % 3
    image = Image.new("RGB", (480, 360), [(200, 120, 60), (40, 90, 200), (235, 235, 235)][kind])
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, 440, 2))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3)) if kind < 2 else (20, 20, 20)
        if kind == 0:
            draw.rectangle([x, 0, x + 12, 360], fill=colour)
        elif kind == 1:
            draw.ellipse([x, y % 320, x + 40, y % 320 + 40], fill=colour)
        else:
            draw.line([20, y % 340, 460, y % 340], fill=colour, width=2)
    return image


@pytest.fixture
def library_store(tmp_path: Path, live: LabelStudioSettings) -> tuple[Store, Settings]:
    root = tmp_path / "library"
    root.mkdir()
    for i in range(N_PHOTOS):
        _photo(i).save(root / f"IMG_{i:04d}.jpg", quality=90)
    settings = Settings(
        data_dir=tmp_path / "data",
        ingest=IngestSettings(workers=1),
        label_studio=live,
    )
    store = Store(settings.database)
    report = ingest_library(root, store, settings)
    assert report.n_new == N_PHOTOS
    _engine_outputs(store, settings)
    return store, settings


def _engine_outputs(store: Store, settings: Settings) -> None:
    """What the vision and faces stages would write, made unsure so every task type has cases."""
    rng = np.random.default_rng(0)
    with store.connect() as con:
        rows = con.execute("SELECT photo_id, sha256, library_id FROM photos ORDER BY photo_id").fetchall()
    ids = [r[0] for r in rows]
    centers = rng.normal(0, 1, (3, 32))
    vectors = np.stack([centers[i % 3] + rng.normal(0, 0.05, 32) for i in range(len(ids))]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pets, wildlife = THEMES.index(Theme.PETS), THEMES.index(Theme.WILDLIFE)
    scores = np.full((len(ids), len(THEMES)), 0.02, np.float32)
    scores[:, pets], scores[:, wildlife] = 0.41, 0.37  # a close call everywhere
    faces = []
    crops = face_crop_path(settings.cache, "x").parent
    crops.mkdir(parents=True, exist_ok=True)
    emb = np.zeros((5, 128), np.float32)
    emb[4, 0] = 0.7  # far from the person's other three faces
    for n in range(5):
        face_id = f"{ids[n]}-0"
        Image.new("RGB", (160, 160), (180, 140 + 10 * n, 120)).save(face_crop_path(settings.cache, face_id))
        faces.append((face_id, rows[n][2], ids[n], "dlib@test", 0.1, 0.1, 0.5, 0.5, 0.99, emb[n].tolist(), 1, False))
    with store.connect() as con:
        con.register("emb", pd.DataFrame({"photo_id": ids, "model_version": "emb@test", "vector": list(vectors)}))
        con.execute("INSERT INTO embeddings SELECT * FROM emb")
        con.register("pred", pd.DataFrame({"photo_id": ids, "model_version": "themes-imagenet-map@1",
                                           "theme_scores": list(scores), "imagenet_top": 0, "imagenet_prob": 0.1}))  # fmt: skip
        con.execute("INSERT INTO photo_predictions SELECT * FROM pred")
        con.execute("INSERT INTO photo_themes SELECT photo_id, model_version, 'pets', 0.41, 1 FROM pred")
        con.execute(
            "INSERT INTO photo_clutter SELECT photo_id, 'clutter-lr@test', CASE WHEN photo_id % 3 = 0 THEN 'document' "
            "ELSE 'photo' END, 0.55, photo_id % 3 = 0, NULL FROM pred"
        )
        con.execute("INSERT INTO model_versions (task, model_version) VALUES ('embedder', 'emb@test'), "
                    "('themes', 'themes-imagenet-map@1'), ('clutter', 'clutter-lr@test')")  # fmt: skip
        con.executemany(f"INSERT INTO faces VALUES ({', '.join(['?'] * 12)})", faces)
        con.execute("INSERT INTO persons VALUES (1, 1, 'Grandma', NULL)")
        # the events stage's doubtful boundaries: one split it nearly did not make, one merge it nearly split
        con.executemany(
            "INSERT INTO event_boundaries VALUES (?, ?, ?, 3900, 'time', ?, ?, false, ?, 'events-segmenter@test')",
            [(rows[0][2], ids[6], ids[7], 0.08, True, "1 h 05 min between them; a pause over 1 h ends an event here"),
             (rows[0][2], ids[9], ids[10], -0.1, False, "55 min between them; a pause over 1 h ends an event here")],
        )  # fmt: skip
    for sha in (r[1] for r in rows):  # ingest wrote them; the loop sends the large one
        assert thumbnail_path(settings.cache, sha, max(settings.ingest.thumb_sizes)).is_file()


def _tasks_by_key(client: LabelStudioClient, project_id: int, sid: str, *, annotations: bool = False) -> dict:
    return {
        t["data"][KEY_FIELD]: t
        for t in client.iter_tasks(project_id, with_annotations=annotations)
        if t["data"].get("curation_store") == sid
    }


def test_push_annotate_pull_train(
    library_store: tuple[Store, Settings], caplog: pytest.LogCaptureFixture
) -> None:
    store, settings = library_store
    key = settings.label_studio.api_key.get_secret_value()
    caplog.set_level(logging.DEBUG)
    client = LabelStudioClient.from_settings(settings)
    sid = store_id(store)

    # --- push: every task type, predictions attached, images served
    report = push(store, settings, limit=20)
    assert report.mined is not None and report.mined.found[TaskType.THEMES] == N_PHOTOS
    assert set(report.per_task_type) == {"themes", "clutter", "same_person", "same_event"}
    assert report.created == 20 and report.reused == 0 and not report.skipped
    frame = queue_frame(store)
    assert (frame["status"] == "pushed").sum() == 20
    themes_project = report.projects["themes"]
    on_server = _tasks_by_key(client, themes_project, sid, annotations=True)
    assert len(on_server) == report.per_task_type["themes"]
    some = next(iter(on_server.values()))
    assert some["predictions"][0]["model_version"] == "themes-imagenet-map@1"
    assert 0.0 <= some["predictions"][0]["score"] <= 1.0
    status, body, content_type = client.get(some["data"]["image"])
    assert status == 200 and content_type.startswith("image/") and body[:2] == b"\xff\xd8"
    with store.connect() as con:
        sha = con.execute("SELECT sha256 FROM photos WHERE photo_id = ?", [some["data"]["photo_id"]]).fetchone()[0]
    assert body == thumbnail_path(settings.cache, sha, 1024).read_bytes()
    faces = _tasks_by_key(client, report.projects["same_person"], sid)
    face_task = next(iter(faces.values()))
    assert client.get(face_task["data"]["face_a"])[0] == 200 and client.get(face_task["data"]["face_b"])[0] == 200
    # same event: both photos served, the segmenter's call as the pre-annotation
    with store.connect() as con:
        boundaries = con.execute("SELECT photo_before, photo_after FROM event_boundaries ORDER BY 1").fetchall()
    pairs = _tasks_by_key(client, report.projects["same_event"], sid, annotations=True)
    assert set(pairs) == {f"same_event:{a}:{b}" for a, b in boundaries}
    pair_task = pairs[f"same_event:{boundaries[0][0]}:{boundaries[0][1]}"]
    assert client.get(pair_task["data"]["photo_a"])[0] == 200 and client.get(pair_task["data"]["photo_b"])[0] == 200
    assert pair_task["predictions"][0]["model_version"] == "events-segmenter@test"
    assert pair_task["predictions"][0]["result"][0]["value"]["choices"] == [SameEvent.NO.value]  # it split there

    # --- re-push after losing the mapping: found by key on the server, no duplicates
    with store.connect() as con:
        con.execute("DELETE FROM label_tasks")
        con.execute("UPDATE label_queue SET status = 'queued'")
    again = push(store, settings, limit=20, mine_first=False)
    assert again.created == 0 and again.reused == 20
    assert len(_tasks_by_key(client, themes_project, sid)) == len(on_server)
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM label_tasks").fetchone()[0] == 20

    # --- annotate as people would: two annotators, one disagreement, one skip
    other = client.sdk.users.create(email=f"second-{sid}@example.com", username=f"second-{sid}")
    theme_tasks = list(_tasks_by_key(client, themes_project, sid).values())
    for i, task in enumerate(theme_tasks):
        kind = int(task["data"]["photo_id"]) % 3
        answer = frozenset({Theme.PETS}) if kind == 0 else frozenset({Theme.WILDLIFE}) if kind == 1 else frozenset()
        client.create_annotation(task["id"], answer_to_result(TaskType.THEMES, answer), lead_time=2.5 + i)
    disputed = theme_tasks[0]
    client.create_annotation(
        disputed["id"], answer_to_result(TaskType.THEMES, frozenset({Theme.SPORT})), completed_by=other.id
    )
    clutter_tasks = list(_tasks_by_key(client, report.projects["clutter"], sid).values())
    for task in clutter_tasks[:-1]:
        category = "document" if int(task["data"]["photo_id"]) % 3 == 0 else "photo"
        client.create_annotation(task["id"], answer_to_result(TaskType.CLUTTER, category))
    client.create_annotation(clutter_tasks[-1]["id"], [], was_cancelled=True)
    client.create_annotation(face_task["id"], answer_to_result(TaskType.SAME_PERSON, SamePerson.NO))
    client.create_annotation(pair_task["id"], answer_to_result(TaskType.SAME_EVENT, SameEvent.YES))

    # --- pull
    pulled = pull(store, settings)
    n_annotations = len(theme_tasks) + 1 + len(clutter_tasks) + 1 + 1
    assert pulled.annotations == n_annotations and pulled.new == n_annotations
    assert pulled.cancelled == 1 and pulled.conflicting_items == 1 and not pulled.errors
    assert pulled.labelled_items == len(theme_tasks) + len(clutter_tasks) - 1 + 1 + 1
    # the answers fed back: the pair is kept for the next events run, the face left its person
    assert pulled.feedback is not None and pulled.feedback.event_answers == 1
    assert list(pulled.feedback.faces.moved) == [face_task["data"]["face_id"]]
    with store.connect() as con:
        assert con.execute("SELECT photo_a, photo_b, same_event FROM event_links").fetchall() == [
            (boundaries[0][0], boundaries[0][1], True)
        ]
        assert con.execute("SELECT same_person, source FROM face_links").fetchall() == [(False, "label")]
    with store.connect() as con:
        labels = con.execute("SELECT * FROM labels").df()
    assert set(labels["annotator"]) == {client.check(), f"second-{sid}@example.com"}
    flagged = labels[labels["conflict"]]
    assert set(flagged["ls_task_id"]) == {disputed["id"]} and len(flagged) == 2
    assert labels["created_at"].notna().all() and (labels[~labels["cancelled"]]["value"].notna()).all()
    assert json.loads(labels[labels["task_type"] == "same_person"]["value"].iloc[0]) == SamePerson.NO.value
    statuses = queue_frame(store).set_index("item_key")["status"]
    assert statuses[disputed["data"][KEY_FIELD]] == QueueStatus.LABELLED
    repeat = pull(store, settings)
    assert repeat.new == 0 and repeat.updated == 0 and repeat.removed == 0

    # --- train on what came back
    run = train_heads(store, settings, seed=0)
    assert run.model_version.startswith("heads@1-")
    assert run.metrics["themes"]["trained"] and run.metrics["clutter"]["trained"]
    with store.connect() as con:
        stored = con.execute(
            "SELECT task, metrics FROM model_versions WHERE model_version = ? ORDER BY task", [run.model_version]
        ).fetchall()
    assert [t for t, _ in stored] == ["clutter", "themes"]
    assert json.loads(stored[0][1])["held_out"]["n"] >= 1
    assert run.model_version in set(compare_versions(store)["model_version"])

    # --- the key never showed up in logs or reports
    assert key not in caplog.text
    assert key not in report.summary() + pulled.summary() + run.summary() + repr(client)


def test_wrong_key_is_refused_with_the_fix_and_the_queue_is_intact(library_store: tuple[Store, Settings]) -> None:
    store, settings = library_store
    good = settings.label_studio.api_key.get_secret_value()
    wrong = "wrong-key-0123456789abcdef"
    bad = settings.model_copy(update={"label_studio": LabelStudioSettings(url=settings.label_studio.url,
                                                                          api_key=SecretStr(wrong))})  # fmt: skip
    before = queue_frame(store)
    with pytest.raises(LabelStudioAuthError, match="CURATION_LABEL_STUDIO__API_KEY") as excinfo:
        push(store, bad, limit=5)
    message = str(excinfo.value)
    assert wrong not in message and good not in message and excinfo.value.__cause__ is None
    pd.testing.assert_frame_equal(queue_frame(store), before)
    with pytest.raises(LabelStudioAuthError):
        pull(store, bad)


def test_closed_port_is_unavailable_with_the_fix(library_store: tuple[Store, Settings]) -> None:
    store, settings = library_store
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket closes
    down = settings.model_copy(update={"label_studio": LabelStudioSettings(url=f"http://127.0.0.1:{port}",
                                                                           api_key=settings.label_studio.api_key)})  # fmt: skip
    before = queue_frame(store)
    with pytest.raises(LabelStudioUnavailable, match="scripts/labelstudio.sh start") as excinfo:
        push(store, down, limit=5)
    assert settings.label_studio.api_key.get_secret_value() not in str(excinfo.value)
    pd.testing.assert_frame_equal(queue_frame(store), before)

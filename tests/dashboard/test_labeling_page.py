"""AppTests of the Labeling page on a small store built here; no Label Studio server needed.

Generated JPEGs are ingested by the real ``ingest_library`` (thumbnails included); queue rows
come from the real ``enqueue_photos`` and ``mine``; a clutter model's output is inserted as
rows. "Label Studio down" is a closed port on localhost: the real client fails to connect.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from curation.store import Store
from dashboard import labeling_view as view
from dashboard.navigation import PAGES
from labeling.queue import enqueue_photos, queue_frame

LABELING = next(p for p in PAGES if p.script == "labeling_queue.py")
TIMEOUT = 120
SECRET = "sk-test-0123456789-NEVER-SHOWN"
N_PHOTOS = 6


@pytest.fixture(autouse=True)
def label_studio_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Label Studio "down": nothing listens on the discard port."""
    monkeypatch.setenv("CURATION_LABEL_STUDIO__URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CURATION_LABEL_STUDIO__API_KEY", SECRET)


@pytest.fixture
def store(make_library: Callable[..., Path], ingest: Callable[[Path], Store], tmp_path: Path) -> Store:
    return ingest(make_library(tmp_path / "photos", N_PHOTOS, year=2023))


def photo_ids(store: Store) -> list[int]:
    with store.connect(read_only=True) as con:
        return [r[0] for r in con.execute("SELECT photo_id FROM photos WHERE status = 'ok' ORDER BY rel_path").fetchall()]


def add_clutter_predictions(store: Store) -> None:
    """A clutter model unsure about every other photo (posterior 0.45 < 0.75: a hard case)."""
    ids = photo_ids(store)
    with store.connect() as con:
        for n, pid in enumerate(ids):
            score = 0.45 if n % 2 == 0 else 0.98
            con.execute("INSERT INTO photo_clutter VALUES (?, 'clutter@test', 'photo', ?, false, NULL)", [pid, score])


def queue_rows(store: Store) -> pd.DataFrame:
    return queue_frame(store).sort_values("item_id").reset_index(drop=True)


def page() -> AppTest:
    return AppTest.from_file(str(LABELING.path), default_timeout=TIMEOUT)


def rendered_text(at: AppTest) -> str:
    """Every element's protobuf as text: markdown, captions, alerts, code, links, tables' specs."""
    out: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return "\n".join(out)


def test_page_renders_queue_with_thumbnails_and_widgets(store: Store) -> None:
    ids = photo_ids(store)
    assert enqueue_photos(store, ids[:3], "themes", "picked in the explorer: beach or city?") == 3
    at = page().run()
    assert not at.exception
    assert not at.error
    for key in ("labeling_mine", "labeling_push", "labeling_pull", "labeling_train"):
        assert at.button(key=key)
    assert at.number_input(key="labeling_push_limit").value == 50
    assert at.get("segmented_control")  # task type and status filters
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["In the queue"] == "3" and metrics["Queued"] == "3" and metrics["Pushed"] == "0"
    assert len(at.image) == 3  # one thumbnail per queued photo
    text = rendered_text(at)
    assert "picked in the explorer" in text
    assert "http://127.0.0.1:9/projects" in text  # the link to Label Studio
    assert SECRET not in text


def test_push_with_label_studio_down_shows_error_and_keeps_queue(store: Store) -> None:
    ids = photo_ids(store)
    enqueue_photos(store, ids[:2], "clutter", "a receipt or a photo?")
    before = queue_rows(store)
    at = page().run()
    at.button(key="labeling_push").click().run()
    assert not at.exception
    assert at.error, "a closed port must show an error box"
    message = " ".join(e.value for e in at.error)
    assert "not reachable" in message and "127.0.0.1:9" in message
    assert "labelstudio.sh start" in message  # says how to fix it
    pd.testing.assert_frame_equal(queue_rows(store), before)
    assert SECRET not in rendered_text(at)


def test_pull_with_label_studio_down_shows_error(store: Store) -> None:
    at = page().run()
    at.button(key="labeling_pull").click().run()
    assert not at.exception
    assert any("not reachable" in e.value for e in at.error)
    assert SECRET not in rendered_text(at)


def test_mine_adds_queue_rows_from_predictions(store: Store) -> None:
    add_clutter_predictions(store)
    assert queue_rows(store).empty
    at = page().run()
    assert "Mine hard cases" in rendered_text(at)  # the empty state points at the button
    at.button(key="labeling_mine").click().run()
    assert not at.exception and not at.error
    rows = queue_rows(store)
    assert len(rows) == N_PHOTOS // 2
    assert set(rows["task_type"]) == {"clutter"}
    assert at.success  # the outcome is reported
    assert {m.label: m.value for m in at.metric}["Queued"] == str(N_PHOTOS // 2)


def test_mine_without_predictions_says_to_run_vision_first(store: Store) -> None:
    at = page().run()
    assert "vision" in rendered_text(at)
    at.button(key="labeling_mine").click().run()
    assert not at.exception and not at.error
    assert "run the vision stage" in rendered_text(at)
    assert queue_rows(store).empty


def test_train_without_embeddings_shows_clear_error(store: Store) -> None:
    at = page().run()
    at.button(key="labeling_train").click().run()
    assert not at.exception
    (error,) = at.error
    assert "Training failed" in error.value and "run the vision stage first" in error.value


def test_no_key_configured_explains_how_to_set_it(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURATION_LABEL_STUDIO__API_KEY")
    at = page().run()
    assert not at.exception
    text = rendered_text(at)
    assert "CURATION_LABEL_STUDIO__API_KEY" in text and "labelstudio.sh start" in text


def test_no_database_shows_what_to_do(data_dir: Path) -> None:
    at = page().run()
    assert not at.exception and not at.error
    assert "No database yet" in rendered_text(at)


def test_public_url_drops_credentials() -> None:
    assert view.public_url("http://user:pw@ls.example:8080/") == "http://ls.example:8080"
    assert view.public_url("https://ls.example") == "https://ls.example"


def test_annotator_and_conflict_tables() -> None:
    labels = pd.DataFrame(
        {
            "annotator": ["a@x", "b@x", "a@x"],
            "item_id": [1, 1, 2],
            "task_type": ["clutter", "clutter", "themes"],
            "cancelled": [False, False, True],
            "conflict": [True, True, False],
            "lead_time_s": [3.0, 5.0, 1.0],
            "updated_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
            "value": ['"receipt"', '"photo"', None],
        }
    )
    table = view.annotator_table(labels)
    assert table.set_index("Annotator").loc["a@x", ["Annotations", "Answered", "Skipped", "In conflict"]].tolist() == [
        2, 1, 1, 1
    ]  # fmt: skip
    conflicts = view.conflict_table(labels)
    assert conflicts["Item"].tolist() == [1]
    assert "a@x: receipt" in conflicts["Answers"][0] and "b@x: photo" in conflicts["Answers"][0]

"""AppTests of the Embedding explorer and People pages, on a small store built here.

The photos are generated JPEGs, ingested by the real ``ingest_library`` (thumbnails
included). What the model stages would add is generated too and inserted as rows: image
embeddings in three clusters with a top theme each, and 128-d face vectors of three people
grouped by the real ``update_people`` (with a crop file per face, as the faces stage writes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from curation.analysis.embedding_map import embedding_map
from curation.pipeline.faces_stage import face_crop_path, update_people
from curation.settings import Settings
from curation.store import Store
from dashboard.navigation import PAGES
from dashboard.ui import md_escape
from labeling.queue import queue_frame

EXPLORER = next(p for p in PAGES if p.script == "embedding_explorer.py")
PEOPLE = next(p for p in PAGES if p.script == "people.py")
TIMEOUT = 120  # seconds for one script run; the explorer's first run imports plotly and pandas
EMBEDDER = "test-embedder@1"
FACES = "test-faces@1"
N_PHOTOS = 9
THEMES = ("beach_sea", "pets", "food_drink")
# photo number -> who is in it (biggest face first)
CAST = {0: ["ana", "ben"], 1: ["ana", "ben"], 2: ["ana", "carla"], 3: ["ana"], 4: ["ben"], 5: ["carla", "ana"]}


@pytest.fixture
def ingested(make_library: Callable[..., Path], ingest: Callable[[Path], Store], tmp_path: Path) -> Store:
    return ingest(make_library(tmp_path / "photos", N_PHOTOS, year=2022))


def photo_ids(store: Store) -> list[int]:
    with store.connect(read_only=True) as con:
        return [r[0] for r in con.execute("SELECT photo_id FROM photos WHERE status = 'ok' ORDER BY rel_path").fetchall()]


def library_id(store: Store) -> int:
    with store.connect(read_only=True) as con:
        return con.execute("SELECT library_id FROM libraries").fetchall()[0][0]


def add_vision_rows(store: Store) -> None:
    ids = photo_ids(store)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 64))
    group = np.arange(len(ids)) % 3
    vectors = centres[group] + rng.normal(scale=0.1, size=(len(ids), 64))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with store.connect() as con:
        con.register(
            "vectors", pd.DataFrame({"photo_id": ids, "model_version": EMBEDDER, "vector": list(vectors.astype("float32"))})
        )
        con.execute("INSERT INTO embeddings SELECT * FROM vectors")
        for pid, g in zip(ids, group, strict=True):
            con.execute("INSERT INTO photo_themes VALUES (?, 'themes@1', ?, 0.7, 1)", [pid, THEMES[g]])


def add_faces(store: Store, settings: Settings) -> None:
    ids = photo_ids(store)
    lib = library_id(store)
    rng = np.random.default_rng(1)
    centre = {who: rng.normal(scale=0.12, size=128) for who in ("ana", "ben", "carla")}
    colour = {"ana": (200, 120, 90), "ben": (90, 120, 200), "carla": (120, 180, 90)}
    with store.connect() as con:
        for n_photo, people in CAST.items():
            for n, who in enumerate(people):
                face_id = f"{ids[n_photo]}-{n}"
                size = 0.3 if n == 0 else 0.15
                con.execute(
                    "INSERT INTO faces (face_id, library_id, photo_id, model_version, box_left, box_top, box_right, "
                    "box_bottom, confidence, embedding) VALUES (?, ?, ?, ?, 0.1, 0.1, ?, ?, 1.0, ?)",
                    [face_id, lib, ids[n_photo], FACES, 0.1 + size, 0.1 + size,
                     (centre[who] + rng.normal(scale=0.015, size=128)).tolist()],
                )  # fmt: skip
                crop = face_crop_path(settings.cache, face_id)
                crop.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (160, 160), colour[who]).save(crop)
        for n_photo in range(N_PHOTOS):
            con.execute("INSERT INTO face_scans VALUES (?, ?, ?)", [ids[n_photo], FACES, len(CAST.get(n_photo, []))])
    update_people(store, lib, FACES)


@pytest.fixture
def with_vision(ingested: Store) -> Store:
    add_vision_rows(ingested)
    return ingested


@pytest.fixture
def ready(with_vision: Store) -> Store:
    """Embeddings with their map stored (9 photos: the PCA map, no umap), and faces."""
    embedding_map(with_vision, library_id(with_vision))
    add_faces(with_vision, Settings())
    return with_vision


def run_page(spec, **state) -> AppTest:  # noqa: ANN001 - a PageSpec
    at = AppTest.from_file(str(spec.path), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_of(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


def rows(store: Store, sql: str, params: list | None = None) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# --------------------------------------------------------------------------- Embedding explorer


def test_explorer_shows_the_map_preview_and_clusters(ready: Store) -> None:
    at = run_page(EXPLORER)
    assert not at.error, [e.value for e in at.error]
    assert "Embedding explorer" in at.title[0].value
    assert at.selectbox(key="explorer_library").value == library_id(ready)
    assert at.selectbox(key="explorer_version").value == EMBEDDER
    assert at.segmented_control(key="explorer_colour").value == "theme"
    assert len(at.get("plotly_chart")) == 1
    text = text_of(at)
    assert "Click a dot" in text and "Clusters" in " ".join(s.value for s in at.subheader)
    assert "9 photos" in text and "first two principal components" in text
    clusters = [b for b in at.button if b.key and b.key.startswith("explorer_select_cluster_")]
    assert len(clusters) == 2  # auto: about sqrt(9 / 5) clusters
    for colour in ("clutter", "event", "person", "cluster", "confidence", "year"):
        at.segmented_control(key="explorer_colour").set_value(colour).run()
        assert not at.exception, (colour, [e.value for e in at.exception])


def test_explorer_tags_the_selected_photos(ready: Store) -> None:
    chosen = photo_ids(ready)[:3]
    at = run_page(EXPLORER, explorer_selection={"ids": chosen, "origin": "the map"})
    assert "Selected photos (3)" in " ".join(s.value for s in at.subheader)
    assert md_escape("IMG_0002.jpg") in text_of(at)  # the preview: the last selected photo
    at.text_input(key="explorer_tag_text").input("  Beach Day ")
    at.button(key="explorer_tag").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert rows(ready, "SELECT photo_id, tag, source FROM photo_tags ORDER BY photo_id") == [
        (p, "beach day", "explorer") for p in chosen
    ]
    assert any("Tagged 3 photos" in t.value for t in at.toast)


def test_explorer_sends_a_cluster_to_the_labeling_queue(ready: Store) -> None:
    at = run_page(EXPLORER)
    at.button(key="explorer_select_cluster_0").click().run()
    selected = at.session_state["explorer_selection"]["ids"]
    assert selected and f"Selected photos ({len(selected)})" in " ".join(s.value for s in at.subheader)
    at.segmented_control(key="explorer_queue_task").set_value("clutter")
    at.button(key="explorer_queue").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    queued = queue_frame(ready).sort_values("photo_id")
    assert list(zip(queued["photo_id"], queued["task_type"], queued["source"], strict=True)) == [
        (p, "clutter", "explorer") for p in sorted(selected)
    ]
    assert any(f"Queued {len(selected)} photos for clutter labeling" in t.value for t in at.toast)
    at.button(key="explorer_clear").click().run()
    assert not any("Selected photos" in s.value for s in at.subheader)


def test_explorer_computes_a_missing_map_in_the_background(with_vision: Store) -> None:
    at = run_page(EXPLORER)
    deadline = time.monotonic() + TIMEOUT
    while not at.get("plotly_chart"):
        assert time.monotonic() < deadline, "the map was not computed"
        time.sleep(0.3)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("Embedding map" in s.label and "finished" in s.label for s in at.status)
    assert rows(with_vision, "SELECT n_photos, method FROM embedding_maps") == [(N_PHOTOS, "pca")]


def test_explorer_without_embeddings_says_to_run_the_vision_stage(ingested: Store) -> None:
    at = run_page(EXPLORER)
    assert not at.error
    text = text_of(at)
    assert "No image embeddings yet" in text and "What you can do now" in text
    assert "--stages vision" in at.code[0].value


# --------------------------------------------------------------------------- People


def test_people_page_shows_cards_the_editor_and_the_graph(ready: Store) -> None:
    at = run_page(PEOPLE)
    assert not at.error, [e.value for e in at.error]
    assert "People" in at.title[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["People"] == "3" and metrics["Faces"] == "10" and metrics["Photos scanned"] == "9"
    persons = [pid for (pid,) in rows(ready, "SELECT person_id FROM persons WHERE merged_into IS NULL")]
    for pid in persons:
        assert at.button(key=f"people_edit_{pid}")
    assert at.selectbox(key="people_person").value in persons
    assert len(at.get("plotly_chart")) == 1  # who appears with whom
    text = text_of(at)
    assert "Close circle of Person" in text and "2 photos together" in text


def test_people_rename_persists_in_the_persons_table(ready: Store) -> None:
    at = run_page(PEOPLE)
    pid = at.selectbox(key="people_person").value
    at.text_input(key=f"people_rename_{pid}").input("Grandma")
    at.button(key="people_rename_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert rows(ready, "SELECT name FROM persons WHERE person_id = ?", [pid]) == [("Grandma",)]
    assert any("Grandma" in m.value for m in at.markdown)  # the card shows the name now


def test_people_split_and_merge_through_the_page(ready: Store) -> None:
    at = run_page(PEOPLE)
    pid = at.selectbox(key="people_person").value
    faces = [c for c in at.checkbox if c.key.startswith(f"people_face_{pid}_")]
    faces[0].check().run()  # ticking enables the split button
    at.text_input(key="people_split_name").input("Cousin")
    at.button(key="people_split").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    moved = faces[0].key.removeprefix(f"people_face_{pid}_")
    (new_pid,) = rows(ready, "SELECT person_id FROM faces WHERE face_id = ?", [moved])[0]
    assert new_pid != pid
    assert rows(ready, "SELECT name FROM persons WHERE person_id = ?", [new_pid]) == [("Cousin",)]

    at.selectbox(key="people_person").set_value(pid).run()
    at.selectbox(key="people_merge_other").set_value(new_pid).run()
    at.button(key="people_merge").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert rows(ready, "SELECT person_id FROM faces WHERE face_id = ?", [moved]) == [(pid,)]
    assert rows(ready, "SELECT merged_into FROM persons WHERE person_id = ?", [new_pid]) == [(pid,)]


def test_people_without_faces_says_to_run_the_faces_stage(ingested: Store) -> None:
    at = run_page(PEOPLE)
    assert not at.error
    text = text_of(at)
    assert "No faces yet" in text and "What you can do now" in text
    assert "--stages faces" in at.code[0].value


@pytest.mark.parametrize("spec", [EXPLORER, PEOPLE], ids=lambda s: s.url_path)
def test_pages_on_an_empty_data_folder_say_how_to_start(data_dir: Path, spec) -> None:  # noqa: ANN001
    at = run_page(spec)
    assert not at.error
    text = text_of(at)
    assert "No database yet" in text and "What you can do now" in text
    assert "curation run" in at.code[0].value

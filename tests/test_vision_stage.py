"""The whole vision stage on a tiny generated library, through the store.

The library is generated here: real photos that ship with scikit-image saved as camera
JPEGs with EXIF, a three-frame burst and an edited copy made from them, a rendered phone
screenshot (PNG) and a rendered document scan, and a black frame. Ingest runs first; the
faces stage's output (face_scans, faces) is written straight into the store, as the
faces stage would, so the test needs no face model.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageEnhance

from curation.ingest.pipeline import ingest_library
from curation.pipeline.vision_stage import run_vision_stage
from curation.settings import Settings
from curation.store import Store
from curation.vision.clutter import ClutterHeadError
from curation.vision.themes import THEMES, Theme
from curation.vision.train_clutter import render_document, render_ui_screenshot, skimage_photo

NOW = datetime(2026, 11, 25, 12, 0, 0)
T0 = datetime(2024, 5, 4, 15, 0, 0)
FACE_BOX = (0.35, 0.10, 0.65, 0.45)  # the astronaut's face, as the faces stage would store it


def camera_exif(taken_at: datetime) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif.get_ifd(0x8769)[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    return exif


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from curation.vision import create_embedder

    return create_embedder("efficientnet_lite0", cache_dir=tmp_path_factory.getbasetemp() / "model-cache").load()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    (root / "DCIM").mkdir(parents=True)
    (root / "Screenshots").mkdir()
    cat, coffee = skimage_photo("chelsea.png"), skimage_photo("coffee.png")
    w, h = cat.size
    shots = {
        "DCIM/IMG_0001.JPG": (skimage_photo("astronaut.png"), T0),
        "DCIM/IMG_0002.JPG": (skimage_photo("rocket.jpg"), T0 + timedelta(hours=1)),
        "DCIM/IMG_0003.JPG": (skimage_photo("motorcycle_left.png"), T0 + timedelta(hours=2)),
        # a burst: the camera drifts a little between frames
        "DCIM/IMG_0101.JPG": (cat, T0 + timedelta(hours=3)),
        "DCIM/IMG_0102.JPG": (cat.crop((8, 4, w, h)).resize(cat.size), T0 + timedelta(hours=3, seconds=1)),
        "DCIM/IMG_0103.JPG": (ImageEnhance.Brightness(cat.crop((0, 0, w - 10, h - 6))).enhance(1.1).resize(cat.size),
                              T0 + timedelta(hours=3, seconds=2)),
        # a photo and its edited copy (brighter, recompressed: other bytes, same EXIF time)
        "DCIM/IMG_0200.JPG": (coffee, T0 + timedelta(hours=4)),
        "DCIM/IMG_0200 copy.JPG": (ImageEnhance.Brightness(coffee).enhance(1.15), T0 + timedelta(hours=4)),
        # a lens-cap frame
        "DCIM/IMG_0300.JPG": (Image.new("RGB", (640, 480)), T0 + timedelta(hours=5)),
    }
    for rel, (image, when) in shots.items():
        image.save(root / rel, quality=90, exif=camera_exif(when))
    rng = np.random.default_rng(7)
    render_ui_screenshot(rng, (1170, 2532)).save(root / "Screenshots" / "Screenshot 2024-05-04 at 18.00.00.png")
    render_document(rng).save(root / "scan_0001.jpg", quality=85)
    return root


def _ids(store: Store) -> dict[str, int]:
    with store.connect() as con:
        rows = con.execute("SELECT rel_path, photo_id FROM photos WHERE status = 'ok'").fetchall()
    return {rel: int(pid) for rel, pid in rows}


def _fake_faces_stage(store: Store, library_id: int, ids: dict[str, int]) -> None:
    """What run_faces_stage leaves behind: one scan per photo, one face on the astronaut."""
    scans = pd.DataFrame({"photo_id": list(ids.values()), "model_version": "test-faces@1",
                          "n_faces": [1 if rel == "DCIM/IMG_0001.JPG" else 0 for rel in ids]})  # fmt: skip
    with store.connect() as con:
        con.register("scans", scans)
        con.execute("INSERT INTO face_scans SELECT * FROM scans")
        con.execute(
            "INSERT INTO faces (face_id, library_id, photo_id, model_version, box_left, box_top, box_right, "
            "box_bottom, confidence, embedding) VALUES (?, ?, ?, 'test-faces@1', ?, ?, ?, ?, 0.99, ?)",
            [f"{ids['DCIM/IMG_0001.JPG']}-0", library_id, ids["DCIM/IMG_0001.JPG"], *FACE_BOX, [0.0] * 128],
        )


def test_vision_stage_on_a_generated_library(library: Path, settings: Settings, embedder) -> None:  # noqa: ANN001
    store = Store(settings.database)
    ingest = ingest_library(library, store, settings, now=NOW)
    assert ingest.n_skipped == 0
    ids = _ids(store)
    _fake_faces_stage(store, ingest.library_id, ids)

    report = run_vision_stage(store, settings, ingest.library_id, embedder=embedder)
    assert report.n_embedded == len(ids) == 11 and report.n_missing_thumbnail == 0
    assert report.n_clutter == 2 and report.n_dup_groups == 2 and report.n_in_dup_groups == 5

    with store.connect() as con:
        clutter = {r[0]: r[1:] for r in con.execute(
            "SELECT p.rel_path, c.category, c.is_clutter, c.signals, c.model_version FROM photo_clutter c "
            "JOIN photos p USING (photo_id)").fetchall()}
        quality = {r[0]: r[1:] for r in con.execute(
            "SELECT p.rel_path, q.score, q.face_area, q.exposure FROM photo_quality q "
            "JOIN photos p USING (photo_id)").fetchall()}
        groups = con.execute(
            "SELECT d.group_id, list(p.rel_path ORDER BY p.rel_path), "
            "max(CASE WHEN d.representative THEN p.rel_path END) FROM near_duplicates d "
            "JOIN photos p USING (photo_id) WHERE d.library_id = ? GROUP BY d.group_id ORDER BY 2",
            [ingest.library_id]).fetchall()
        people = con.execute(
            "SELECT theme_scores FROM photo_predictions WHERE photo_id = ?", [ids["DCIM/IMG_0001.JPG"]]
        ).fetchone()[0]
        versions = dict(con.execute("SELECT task, model_version FROM model_versions").fetchall())
        n_themes = con.execute("SELECT count(DISTINCT photo_id) FROM photo_themes").fetchone()[0]

    # clutter
    shot = "Screenshots/Screenshot 2024-05-04 at 18.00.00.png"
    assert clutter[shot][:2] == ("screenshot", True)
    assert "screenshot_name" in json.loads(clutter[shot][2])["rules"]
    assert clutter["scan_0001.jpg"][:2] == ("document", True)
    for rel in ids:
        if rel.startswith("DCIM/"):
            assert clutter[rel][:2] == ("photo", False), (rel, clutter[rel])
            assert json.loads(clutter[rel][2])["rules"] == ["camera_exif", "camera_time"]
    assert {c[3] for c in clutter.values()} == {report.clutter_version} == {versions["clutter"]}

    # quality: the lens-cap frame is worst; the face area comes from the faces table
    assert quality["DCIM/IMG_0300.JPG"][0] == 0.0 == min(q[0] for q in quality.values())
    left, top, right, bottom = FACE_BOX
    assert quality["DCIM/IMG_0001.JPG"][1] == pytest.approx((right - left) * (bottom - top), rel=1e-5)
    assert all(q[1] == 0.0 for rel, q in quality.items() if rel != "DCIM/IMG_0001.JPG")
    # the face count lifts the people theme to at least 1 - (1 - FACE_WEIGHT) ** 1
    assert people[THEMES.index(Theme.PEOPLE_PORTRAITS)] >= 0.5

    # near-duplicates: the burst and the edited copy, each led by its best photo
    assert [g[1] for g in groups] == [
        ["DCIM/IMG_0101.JPG", "DCIM/IMG_0102.JPG", "DCIM/IMG_0103.JPG"],
        ["DCIM/IMG_0200 copy.JPG", "DCIM/IMG_0200.JPG"],
    ]
    for group_id, members, rep in groups:
        assert group_id == ids[rep]
        assert quality[rep][0] == max(quality[m][0] for m in members)

    # existing behaviour kept: embeddings, predictions and themes for every photo
    assert n_themes >= 1 and {"embedder", "themes", "clutter", "quality", "neardup"} <= set(versions)

    # incremental: nothing new, nothing redone; the groups stay
    again = run_vision_stage(store, settings, ingest.library_id, embedder=embedder)
    assert again.n_embedded == 0 and again.n_dup_groups == 2

    # a burst frame deleted from disk: after the next ingest its group shrinks to two
    (library / "DCIM" / "IMG_0103.JPG").unlink()
    ingest_library(library, store, settings, now=NOW)
    third = run_vision_stage(store, settings, ingest.library_id, embedder=embedder)
    assert third.n_embedded == 0 and third.n_in_dup_groups == 4


def test_clutter_head_must_match_the_embedder(library: Path, settings: Settings) -> None:
    class OtherEmbedder:
        model_version = "resnet50@11ad3fa6+torch"

    store = Store(settings.database)
    ingest = ingest_library(library, store, settings, now=NOW)
    with pytest.raises(ClutterHeadError, match="retrain it"):
        run_vision_stage(store, settings, ingest.library_id, embedder=OtherEmbedder())
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0

"""Clutter: content signals on generated images, file priors, the head file, and the
shipped head's quality.

Tiers: the signal, prior and head-file tests run on images drawn here with PIL and on
small arrays (no model). ``test_generated_*`` run the real EfficientNet-Lite0 (its ONNX
export is cached in pytest's session temp dir, shared with tests/test_embedders.py).
``samples``-marked tests need the shared sample sets.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from curation.vision.clutter import (
    CATEGORIES,
    DEFAULT_HEAD,
    ClutterCategory,
    ClutterClassifier,
    ClutterHead,
    ClutterHeadError,
    FileFacts,
    content_signals,
    fuse,
    max_filter,
    metadata_priors,
)
from curation.vision.train_clutter import (
    clutter_metrics,
    degrade,
    render_document,
    render_ui_screenshot,
    split_held_out,
)

PHOTO, SHOT, RECEIPT, DOC = (CATEGORIES.index(c) for c in ClutterCategory)


# ---------------------------------------------------------------- generated images


def draw_receipt(seed: int = 0) -> Image.Image:
    """A till receipt lying on a dark table, drawn with PIL: narrow paper, lines of text."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (900, 1600), (70, 50, 35))
    paper = Image.new("RGB", (480, 1400), (247, 246, 240))
    draw = ImageDraw.Draw(paper)
    font = ImageFont.load_default(size=24)
    draw.text((240, 40), "CAFE CENTRAL", font=ImageFont.load_default(size=36), fill=(30, 30, 30), anchor="mt")
    y = 120
    for _ in range(28):
        draw.text((30, y), f"ITEM {int(rng.integers(100, 999))}", font=font, fill=(30, 30, 30))
        draw.text((450, y), f"{rng.uniform(1, 20):.2f}", font=font, fill=(30, 30, 30), anchor="ra")
        y += 40
    draw.text((30, y + 20), "TOTAL EUR", font=ImageFont.load_default(size=36), fill=(30, 30, 30))
    img.paste(paper.rotate(3, expand=True, fillcolor=(70, 50, 35)), (200, 80))
    return img


def draw_settings_screenshot(dark: bool = False) -> Image.Image:
    """A phone settings page (1170x2532) drawn with PIL: status bar, rows, icons."""
    bg, fg = ((0, 0, 0), (240, 240, 240)) if dark else ((242, 242, 247), (0, 0, 0))
    img = Image.new("RGB", (1170, 2532), bg)
    draw = ImageDraw.Draw(img)
    draw.text((90, 60), "09:41", font=ImageFont.load_default(size=48), fill=fg)
    draw.text((70, 230), "Settings", font=ImageFont.load_default(size=96), fill=fg)
    colours = [(255, 149, 0), (0, 122, 255), (52, 199, 89), (255, 59, 48), (88, 86, 214)]
    for k in range(12):
        y = 420 + k * 150
        draw.rectangle((40, y, 1130, y + 140), fill=(28, 28, 30) if dark else (255, 255, 255))
        draw.rounded_rectangle((80, y + 30, 160, y + 110), radius=18, fill=colours[k % len(colours)])
        draw.text((200, y + 45), f"Option {k}", font=ImageFont.load_default(size=50), fill=fg)
    return img


def smooth_photo(seed: int = 0, size: tuple[int, int] = (1024, 768)) -> Image.Image:
    """Photo-like pixels: smooth random colour fields plus sensor-like noise and texture."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)).resize(size, Image.Resampling.BICUBIC)
    arr = np.asarray(base, np.float32) + rng.normal(0, 12, (size[1], size[0], 3))
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))


# ---------------------------------------------------------------- content signals


def test_receipt_reads_as_ink_on_white_paper() -> None:
    receipt, photo = content_signals(draw_receipt()), content_signals(smooth_photo())
    assert receipt.white > 0.25 and photo.white < 0.05
    assert receipt.ink > 0.01 and photo.ink < 0.005
    assert receipt.saturation < photo.saturation
    assert receipt.text_likeness > 0.1 > photo.text_likeness


def test_ui_screenshot_is_flat_with_few_colours() -> None:
    photo = content_signals(smooth_photo())
    for shot in (content_signals(draw_settings_screenshot()), content_signals(draw_settings_screenshot(dark=True))):
        assert shot.flat > 0.7 > photo.flat
        assert shot.palette > 0.8 > photo.palette


def test_signals_do_not_depend_on_resolution() -> None:
    big = draw_settings_screenshot()
    small = big.resize((big.width // 4, big.height // 4), Image.Resampling.LANCZOS)
    a, b = content_signals(big).as_array(), content_signals(small).as_array()
    assert np.allclose(a, b, atol=0.08), (a, b)


@pytest.mark.parametrize("size", [3, 5])
def test_max_filter_is_pils_max_filter(size: int) -> None:
    """content_signals' numpy window maximum gives PIL's MaxFilter array, edges included."""
    rng = np.random.default_rng(size)
    receipt = np.asarray(draw_receipt().convert("L"))
    for values in (receipt, rng.integers(0, 256, (37, 53), dtype=np.uint8), receipt[:1], receipt[:, :2]):
        pil = np.asarray(Image.fromarray(values).filter(ImageFilter.MaxFilter(size)))
        assert np.array_equal(max_filter(values, size), pil)


def test_signals_are_bounded_on_any_image() -> None:
    for img in (Image.new("RGB", (3, 3)), Image.new("L", (640, 480), 255), Image.new("RGB", (1, 500), (255, 0, 0))):
        values = content_signals(img).as_array()
        assert values.shape == (6,) and ((values >= 0) & (values <= 1)).all()


# ---------------------------------------------------------------- file priors


def test_camera_exif_rules_out_screenshot_not_receipt() -> None:
    prior, fired = metadata_priors(FileFacts("DCIM/IMG_0001.JPG", "JPEG", 4032, 3024, "Apple", "iPhone 12", "exif"))
    assert fired == ["camera_exif", "camera_time"]
    assert prior[SHOT] < -3 and prior[PHOTO] > 0 and prior[RECEIPT] == 0 == prior[DOC]


@pytest.mark.parametrize(
    ("facts", "rules"),
    [
        (FileFacts("Screenshots/Screenshot 2019-05-21 at 10.45.52.png", "PNG", 1189, 849), ["screenshot_name", "png"]),
        (FileFacts("IMG_0004.PNG", "PNG", 1170, 2532), ["screen_size", "png"]),
        (FileFacts("IMG_0004.PNG", "PNG", 2532, 1170), ["screen_size", "png"]),  # landscape
        (FileFacts("x.jpg", "JPEG", 1000, 2160), ["phone_aspect"]),  # 19.5:9, not a listed size
        (FileFacts("Bildschirmfoto 2024-01-01.jpg", "JPEG", 800, 600), ["screenshot_name"]),
        (FileFacts("scan.jpg", "JPEG", 2480, 3508), []),  # A4 at 300 dpi: nothing
        (FileFacts("IMG_1.HEIC", "HEIF", 1170, 2532, "Apple", "iPhone 13"), ["camera_exif"]),  # camera wins
    ],
)
def test_screenshot_rules(facts: FileFacts, rules: list[str]) -> None:
    prior, fired = metadata_priors(facts)
    assert fired == rules
    assert (prior[SHOT] > 0) == any(r in rules for r in ("screenshot_name", "screen_size", "phone_aspect", "png"))


def test_no_facts_no_prior() -> None:
    prior, fired = metadata_priors(None)
    assert not prior.any() and fired == []


def test_fuse_tips_close_calls_and_keeps_confident_heads() -> None:
    unsure = np.array([0.5, 0.5, 0.0, 0.0])
    camera, _ = metadata_priors(FileFacts("a.jpg", "JPEG", 4000, 3000, "Canon", "EOS 5D", "exif"))
    named, _ = metadata_priors(FileFacts("Screenshot_20240101.png", "PNG", 1080, 2400))
    assert fuse(unsure, camera).argmax() == PHOTO
    assert fuse(unsure, named).argmax() == SHOT
    # A photographed receipt keeps its camera EXIF: a confident head stays a receipt.
    receipt = np.array([0.001, 0.001, 0.997, 0.001])
    assert fuse(receipt, camera).argmax() == RECEIPT
    assert np.allclose(fuse(receipt, camera).sum(), 1.0)


# ---------------------------------------------------------------- head file


def _tiny_head(tmp_path: Path, embedder_version: str = "efficientnet_lite0@57934424+onnx") -> Path:
    rng = np.random.default_rng(0)
    head = ClutterHead(np.zeros(8, np.float32), np.ones(8, np.float32), rng.normal(size=(8, 4)).astype(np.float32),
                       np.zeros(4, np.float32), use_signals=False)
    path = tmp_path / "head.npz"
    head.save(path)
    path.with_suffix(".json").write_text(json.dumps({"embedder_model_version": embedder_version}))
    return path


def test_head_round_trip_and_predict(tmp_path: Path) -> None:
    clf = ClutterClassifier(_tiny_head(tmp_path))
    emb = np.random.default_rng(1).normal(size=(5, 8)).astype(np.float32)
    preds = clf.predict(emb)
    assert len(preds) == 5
    for p in preds:
        assert p.category in CATEGORIES and p.is_clutter == (p.category is not ClutterCategory.PHOTO)
        assert abs(sum(p.probabilities.values()) - 1) < 1e-6 and p.score == max(p.probabilities.values())
        assert json.loads(p.signals_json())["rules"] == []
    assert clf.model_version.startswith("clutter-lr@") and clf.predict(np.zeros((0, 8))) == []


def test_head_checks_the_embedder(tmp_path: Path) -> None:
    clf = ClutterClassifier(_tiny_head(tmp_path))
    clf.check_embedder("efficientnet_lite0@57934424+torch")  # same vectors, other runtime: fine
    fix = "retrain it: python -m curation.vision.train_clutter --embedder resnet50"
    with pytest.raises(ClutterHeadError, match=fix):
        clf.check_embedder("resnet50@11ad3fa6+torch")


def test_head_errors_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ClutterHeadError, match="train one: python -m curation.vision.train_clutter"):
        ClutterClassifier(tmp_path / "missing.npz").load()
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ClutterHeadError, match="not a clutter head"):
        ClutterClassifier(tmp_path / "bad.npz").load()
    clf = ClutterClassifier(_tiny_head(tmp_path))
    with pytest.raises(ClutterHeadError, match="takes 8 features, got 3"):
        clf.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2 file facts for 1 embeddings"):
        clf.predict(np.zeros((1, 8)), facts=[None, None])


def test_shipped_head_records_its_training() -> None:
    record = json.loads(DEFAULT_HEAD.with_suffix(".json").read_text())
    assert record["embedder_model_version"].startswith("efficientnet_lite0@57934424")
    assert record["seed"] == 0 and record["categories"] == [c.value for c in CATEGORIES]
    assert record["metrics"]["full"]["accuracy"] >= 0.97
    assert all(record["counts"]["train/full"].get(k, 0) > 0 for k in (
        "photo:camera-roll", "photo:screenshots/camera", "screenshot:screenshots/screenshot", "receipt:receipts",
        "document:generated"))
    held = {key for key, *_ in record["held_out"]}
    assert held and not held & {"camera-roll/beach.jpg"}
    assert DEFAULT_HEAD.stat().st_size < 200_000  # small enough to ship in the repo


# ---------------------------------------------------------------- training helpers


def test_split_is_stratified_grouped_and_seeded() -> None:
    cats = ["photo"] * 40 + ["receipt"] * 12
    groups = [i // 2 for i in range(52)]  # pairs of near-duplicates
    held = split_held_out(cats, groups, seed=3)
    assert (held == split_held_out(cats, groups, seed=3)).all()
    assert 0.15 < held.mean() < 0.35 and held[40:].any() and held[:40].any()
    for g in set(groups):  # a group never straddles the split
        assert len({bool(held[i]) for i in range(52) if groups[i] == g}) == 1


def test_degrade_makes_a_64px_thumbnail() -> None:
    small = degrade(draw_receipt())
    assert small.size == (64, 64) and small.mode == "RGB"


def test_clutter_metrics_table() -> None:
    m = clutter_metrics([PHOTO, PHOTO, SHOT, RECEIPT], [PHOTO, SHOT, SHOT, RECEIPT], ["a", "b", "c", "d"])
    assert m.accuracy == 0.75 and m.errors == ["b: photo -> screenshot"]
    assert m.per_category["screenshot"] == {"n": 1, "precision": 0.5, "recall": 1.0}
    assert m.per_category["photo"]["recall"] == 0.5


# ---------------------------------------------------------------- the real head


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from curation.vision import create_embedder

    return create_embedder("efficientnet_lite0", cache_dir=tmp_path_factory.getbasetemp() / "model-cache").load()


def test_generated_clutter_is_classified(embedder) -> None:  # noqa: ANN001
    # Seeds the training never rendered (it uses keys generated/document/k).
    rng = np.random.default_rng(12345)
    images = [render_document(rng), render_ui_screenshot(rng, (1170, 2532)), draw_settings_screenshot(),
              draw_receipt(7)]
    facts = [None, FileFacts("IMG_0001.PNG", "PNG", 1170, 2532), FileFacts("IMG_0002.PNG", "PNG", 1170, 2532), None]
    preds = ClutterClassifier().predict(embedder.embed(images), images, facts)
    assert [p.category for p in preds[:3]] == [ClutterCategory.DOCUMENT, ClutterCategory.SCREENSHOT,
                                               ClutterCategory.SCREENSHOT]
    assert all(p.is_clutter for p in preds)
    # A receipt drawn on a table reads as a printed page (the real receipts it learned
    # from are mostly flat scans of thermal paper); either way it is paper clutter.
    paper = preds[3].probabilities
    assert paper[ClutterCategory.RECEIPT] + paper[ClutterCategory.DOCUMENT] > 0.9


def test_real_photos_are_not_clutter(embedder) -> None:  # noqa: ANN001
    from curation.vision.train_clutter import skimage_photo

    images = [skimage_photo(n) for n in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg")]
    facts = [FileFacts(f"DCIM/IMG_{k}.JPG", "JPEG", im.width, im.height, "Canon", "EOS 5D", "exif")
             for k, im in enumerate(images)]
    preds = ClutterClassifier().predict(embedder.embed(images), images, facts)
    assert [p.category for p in preds] == [ClutterCategory.PHOTO] * 4


@pytest.mark.samples
def test_held_out_accuracy(samples: Path, embedder) -> None:  # noqa: ANN001
    from curation.vision.train_clutter import evaluate_held_out

    metrics = evaluate_held_out(samples, embedder, degraded_copies=False)
    full = metrics["full"]
    assert full.n >= 150
    assert full.accuracy >= 0.97, full.errors
    for cat in ClutterCategory:
        assert full.per_category[cat.value]["recall"] >= 0.85, (cat, full.per_category)

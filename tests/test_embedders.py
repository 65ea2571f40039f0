"""Embedder registry, preprocessing, and the real EfficientNet-Lite0 weights.

The model tests use photos that scikit-image ships (chelsea: a tabby cat, coffee:
a cup of espresso), so they run without the shared sample sets. The model is
loaded once per module; its ONNX export is cached under pytest's session temp
dir, where tests/test_themes.py finds it again.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from curation.vision import (
    Embedder,
    MissingWeightsError,
    UnknownModelError,
    WeightsMismatchError,
    create_embedder,
    list_embedders,
    register_embedder,
)
from curation.settings import Settings
from curation.vision import embedders as embedders_module
from curation.vision.embedders import _cached
from curation.vision import transforms
from curation.vision.imagenet_classes import class_name

CAT_CLASSES = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO, CUP = 967, 968


def _skimage_photo(name: str) -> Image.Image:
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def _top5(logits_row: np.ndarray) -> list[int]:
    return [int(i) for i in np.argsort(-logits_row)[:5]]


# ---------------------------------------------------------------- registry


def test_registry_lists_the_default_and_optional_models():
    assert {"efficientnet_lite0", "efficientnet_lite0_int8", "resnet50", "clip"} <= set(list_embedders())


def test_unknown_name_raises_and_lists_the_valid_ones():
    with pytest.raises(UnknownModelError, match="efficientnet_lite0.*resnet50") as info:
        create_embedder("efficientnet_b7")
    assert isinstance(info.value, ValueError)
    assert "CURATION_EMBEDDER" in str(info.value)


def test_registering_a_taken_name_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_embedder("efficientnet_lite0")(type("Other", (Embedder,), {}))


def test_importing_and_creating_loads_no_runtime():
    # A fresh interpreter: the test session itself has torch imported already.
    code = (
        "import sys; from curation.vision import create_embedder; "
        "e = create_embedder('efficientnet_lite0'); assert not e.loaded; "
        "print(sorted(m for m in ('torch', 'timm', 'onnxruntime') if m in sys.modules))"
    )
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- base class, with a tiny model


class _MeanColour(Embedder):
    """Embeds an image as its mean RGB: enough to test what the base class adds."""

    dim = 3
    preprocess_spec = transforms.PreprocessSpec(size=8)
    _has_logits = False

    def __init__(self, *, batch_size: int = 2) -> None:
        super().__init__(batch_size=batch_size)
        self.load_calls = 0
        self.batch_sizes: list[int] = []

    @property
    def model_version(self) -> str:
        return "mean_colour@1"

    def _load(self) -> None:
        self.load_calls += 1

    def _predict(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, None]:
        self.batch_sizes.append(len(images))
        pixels = transforms.preprocess_batch(images, self.preprocess_spec)
        return pixels.mean(axis=(2, 3)) + 2.0, None


def test_predict_loads_once_batches_and_normalises():
    model = _MeanColour(batch_size=2)
    images = [Image.new("RGB", (30, 20), c) for c in ("red", "green", "blue", "white", "black")]
    batch = model.predict(images)
    model.embed(images[:1])
    assert model.load_calls == 1
    assert model.batch_sizes == [2, 2, 1, 1]
    assert batch.embeddings.shape == (5, 3) and batch.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch.embeddings, axis=1), 1.0, rtol=1e-6)
    assert batch.logits is None and batch.model_version == "mean_colour@1"


def test_empty_input_gives_an_empty_matrix():
    assert _MeanColour().embed([]).shape == (0, 3)


def test_embed_and_logits_without_a_classifier_says_what_to_use():
    with pytest.raises(NotImplementedError, match="use embed"):
        _MeanColour().embed_and_logits([Image.new("RGB", (8, 8))])


def test_non_rgb_image_is_refused_with_the_fix():
    with pytest.raises(transforms.ImageModeError, match=r"convert\('RGB'\)"):
        _MeanColour().embed([Image.new("L", (8, 8))])


def test_bad_batch_size_is_refused_at_load():
    model = _MeanColour(batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.load()


# ---------------------------------------------------------------- parameters and weights errors


def test_unknown_backend_is_refused_at_load():
    with pytest.raises(ValueError, match="backend must be one of onnx, torch"):
        create_embedder("efficientnet_lite0", backend="tensorflow").load()


def test_bad_thread_count_is_refused_at_load():
    with pytest.raises(ValueError, match="num_threads"):
        create_embedder("efficientnet_lite0", num_threads=0).load()


def test_missing_weights_file_names_the_path(tmp_path: Path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(MissingWeightsError, match="nope.pth"):
        create_embedder("efficientnet_lite0", weights_path=missing).load()


def test_weights_of_another_shape_are_refused():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    wrong = {"a.weight": torch.zeros(3, 4), "a.bias": torch.zeros(3), "b.weight": torch.zeros(2, 4), "b.bias": torch.zeros(2)}
    with pytest.raises(WeightsMismatchError, match=r"tensor #2 b.weight has shape \(2, 4\) but 1.weight needs \(2, 3\)"):
        embedders_module.load_state_dict_in_order(net, wrong, source_name="wrong.pth")
    with pytest.raises(WeightsMismatchError, match="has 1 tensors but Sequential expects 4"):
        embedders_module.load_state_dict_in_order(net, {"x": torch.zeros(3, 4)}, source_name="wrong.pth")


def test_resnet50_without_weights_names_the_file_it_needs():
    with pytest.raises(MissingWeightsError, match="resnet50-11ad3fa6.pth"):
        create_embedder("resnet50").load()


def test_clip_without_open_clip_says_what_to_install():
    try:
        import open_clip  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("open_clip is installed")
    with pytest.raises(ImportError, match="pip install open_clip_torch.*Hugging Face hub"):
        create_embedder("clip").load()


# ---------------------------------------------------------------- transforms


@pytest.mark.parametrize(("size", "expected"), [((256, 171), (335, 224)), ((171, 256), (224, 335)), ((100, 100), (224, 224))])
def test_resize_shorter_side(size, expected):
    img = Image.new("RGB", size)
    assert transforms.resize_shorter_side(img, 224, Image.Resampling.BICUBIC).size == expected


def test_preprocess_gives_a_centre_crop_scaled_to_minus_one_one():
    img = Image.new("RGB", (300, 200), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 40, 200))  # a blue strip the centre crop must cut away
    x = transforms.preprocess_batch([img], transforms.EFFICIENTNET_LITE)
    assert x.shape == (1, 3, 224, 224) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 112, 112], [1.0, -1.0, -1.0], atol=1e-6)
    assert x[0, 2].max() < -0.9  # no blue left


def test_crop_pct_below_one_cuts_the_border():
    img = Image.new("RGB", (256, 256), "white")
    img.paste((0, 0, 0), (0, 0, 256, 12))
    full = transforms.preprocess(img, transforms.PreprocessSpec(crop_pct=1.0))
    cropped = transforms.preprocess(img, transforms.PreprocessSpec(crop_pct=0.875))
    assert full[:, 0].min() == -1.0 and cropped.min() == 1.0


@pytest.mark.parametrize("kwargs", [{"size": 0}, {"crop_pct": 0.0}, {"crop_pct": 1.5}, {"std": (0.5, 0.0, 0.5)}])
def test_bad_preprocess_spec_is_refused(kwargs):
    with pytest.raises(ValueError):
        transforms.PreprocessSpec(**kwargs)


# ---------------------------------------------------------------- the real weights


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "model-cache"


@pytest.fixture(scope="module")
def onnx_embedder(model_cache: Path) -> Embedder:
    return create_embedder("efficientnet_lite0", cache_dir=model_cache, batch_size=2).load()


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    pytest.importorskip("torch").set_num_threads(2)
    return create_embedder("efficientnet_lite0", backend="torch").load()


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [_skimage_photo("chelsea"), _skimage_photo("coffee"), _skimage_photo("astronaut")]


@pytest.fixture(scope="module")
def onnx_out(onnx_embedder: Embedder, photos: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    return onnx_embedder.embed_and_logits(photos)


def test_default_is_onnx_and_version_names_the_weights(onnx_embedder: Embedder):
    assert create_embedder("efficientnet_lite0").backend == "onnx"
    assert onnx_embedder.model_version == "efficientnet_lite0@57934424+onnx"


def test_chelsea_is_a_cat(onnx_out):
    top5 = _top5(onnx_out[1][0])
    assert CAT_CLASSES & set(top5), [class_name(i) for i in top5]
    assert top5[0] in CAT_CLASSES


def test_coffee_is_an_espresso(onnx_out):
    top5 = _top5(onnx_out[1][1])
    assert {ESPRESSO, CUP} & set(top5), [class_name(i) for i in top5]
    assert top5[0] == ESPRESSO


def test_embeddings_are_unit_1280_vectors_and_separate_photos(onnx_out):
    emb, logits = onnx_out
    assert emb.shape == (3, 1280) and emb.dtype == np.float32 and logits.shape == (3, 1000)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert emb[0] @ emb[1] < 0.9  # a cat and a coffee cup are not near-duplicates


def test_onnx_matches_torch(onnx_out, torch_embedder: Embedder, photos: list[Image.Image]):
    emb, logits = torch_embedder.embed_and_logits(photos)
    assert np.abs(emb - onnx_out[0]).max() < 1e-4
    assert np.abs(logits - onnx_out[1]).max() < 1e-3
    assert (logits.argmax(1) == onnx_out[1].argmax(1)).all()


def test_batching_does_not_change_results(onnx_embedder: Embedder, onnx_out, photos: list[Image.Image]):
    # batch_size=2 split the three photos 2 + 1; one at a time must agree
    alone = np.concatenate([onnx_embedder.embed([p]) for p in photos])
    np.testing.assert_allclose(alone, onnx_out[0], atol=1e-5)


def test_onnx_export_is_cached_and_reused(onnx_embedder, onnx_out, model_cache: Path, photos):
    cached = onnx_embedder.onnx_cache_path
    assert cached is not None and cached.parent == model_cache and "57934424" in cached.name
    stamp = cached.stat().st_mtime_ns
    again = create_embedder("efficientnet_lite0", cache_dir=model_cache)
    np.testing.assert_allclose(again.embed(photos[:1]), onnx_out[0][:1], atol=1e-6)
    assert cached.stat().st_mtime_ns == stamp
    assert not list(model_cache.glob("*.tmp"))


def test_corrupt_cached_export_says_to_delete_it(tmp_path: Path):
    model = create_embedder("efficientnet_lite0", cache_dir=tmp_path)
    model.onnx_cache_path.write_bytes(b"not an onnx file")
    with pytest.raises(RuntimeError, match="delete it to re-export"):
        model.load()


def test_model_cache_is_shared_by_every_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CURATION_MODEL_CACHE_DIR", raising=False)
    a, b = Settings(data_dir=tmp_path / "a"), Settings(data_dir=tmp_path / "b")
    assert a.model_cache == b.model_cache == tmp_path / "xdg" / "curation-studio" / "models"
    assert a.cache != b.cache  # thumbnails stay per database
    monkeypatch.setenv("CURATION_MODEL_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings(data_dir=tmp_path / "a").model_cache == tmp_path / "mine"


def test_an_unwritable_model_cache_costs_the_export_not_the_run(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    made = []
    assert _cached(blocker / "model.onnx", lambda: made.append(1) or b"onnx bytes") == b"onnx bytes"
    assert made == [1] and "could not keep the exported model" in caplog.text


def test_predict_pixels_matches_predict(onnx_embedder: Embedder, onnx_out, photos: list[Image.Image]):
    pixels = transforms.preprocess_batch(photos, onnx_embedder.preprocess_spec)
    out = onnx_embedder.predict_pixels(pixels)
    np.testing.assert_allclose(out.embeddings, onnx_out[0], atol=1e-6)
    assert onnx_embedder.takes_pixels and not _MeanColour().takes_pixels


def test_predict_pixels_refuses_the_wrong_shape(onnx_embedder: Embedder):
    with pytest.raises(ValueError, match=r"shape \[N, 3, 224, 224\]"):
        onnx_embedder.predict_pixels(np.zeros((1, 224, 224, 3), np.float32))


# ---------------------------------------------------------------- int8


@pytest.fixture(scope="module")
def int8_embedder(model_cache: Path) -> Embedder:
    return create_embedder("efficientnet_lite0_int8", cache_dir=model_cache, batch_size=2).load()


def test_int8_version_keeps_the_family_and_is_cached(int8_embedder: Embedder, model_cache: Path):
    from curation.vision.clutter import _embedder_family

    assert int8_embedder.model_version == "efficientnet_lite0@57934424+onnx-int8-q1"
    assert _embedder_family(int8_embedder.model_version) == "efficientnet_lite0@57934424"
    cached = int8_embedder.onnx_cache_path
    assert cached is not None and cached.is_file() and cached.name.endswith("-int8q1.onnx")
    assert cached.stat().st_size < 8_000_000  # int8 weights: a third of float32's 18 MB


def test_int8_is_a_rough_copy_of_float32(int8_embedder: Embedder, onnx_out, photos: list[Image.Image]):
    # Rough: cosine ~0.8 to the float32 vectors (docs/themes.md, "int8": why it is not the
    # default). Each photo is still nearer its own float32 vector than any other photo's.
    emb, logits = int8_embedder.embed_and_logits(photos)
    assert emb.shape == (3, 1280) and logits.shape == (3, 1000)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    cosine = emb @ onnx_out[0].T
    assert np.diag(cosine).min() > 0.7, cosine
    assert (cosine.argmax(axis=1) == np.arange(3)).all()


def test_int8_runs_on_onnx_only():
    model = create_embedder("efficientnet_lite0_int8")
    model.backend = "torch"
    with pytest.raises(ValueError, match="ONNX Runtime only"):
        model.load()

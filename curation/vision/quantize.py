"""Static int8 quantisation of an exported ONNX image model, calibrated on photos that
ship inside installed packages (scikit-image's and scikit-learn's sample photos), so it
needs no download and never sees the evaluation sets (``themed/``, the clutter held-out
split). docs/themes.md has the measured accuracy and speed against float32.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from curation.vision import transforms
from curation.vision.transforms import PreprocessSpec

# Bump when the calibration set or the quantisation options change: it keys the cache file.
QUANT_VERSION = 1
_SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
_CROPS_PER_PHOTO = 5


def calibration_images(seed: int = 0) -> list[Image.Image]:
    """The package-shipped colour photos, each whole and as a few random crops (some
    mirrored): 36 images of people, a cat, food, a launch, a palace and a flower."""
    from skimage import data
    from sklearn.datasets import load_sample_images

    photos = [Image.fromarray(getattr(data, name)()).convert("RGB") for name in _SKIMAGE_PHOTOS]
    photos += [Image.fromarray(a).convert("RGB") for a in load_sample_images().images]
    rng = np.random.default_rng(seed)
    out = []
    for photo in photos:
        out.append(photo)
        w, h = photo.size
        for _ in range(_CROPS_PER_PHOTO):
            share = rng.uniform(0.4, 0.9)
            cw, ch = int(w * share), int(h * share)
            x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            crop = photo.crop((x, y, x + cw, y + ch))
            if rng.random() < 0.5:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            out.append(crop)
    return out


def quantize_int8(model: bytes, spec: PreprocessSpec, *, input_name: str = "pixels",
                  images: Sequence[Image.Image] | None = None) -> bytes:
    """float32 ONNX bytes -> int8 ONNX bytes (QDQ, int8 weights per channel, uint8
    activations with min/max ranges from ``images``, default :func:`calibration_images`)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    batches = [{input_name: transforms.preprocess_batch([im], spec)}
               for im in (images if images is not None else calibration_images())]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it: Iterator[dict[str, np.ndarray]] = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    with tempfile.TemporaryDirectory(prefix="curation-quant-") as tmp:
        src, pre, out = Path(tmp) / "fp32.onnx", Path(tmp) / "pre.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(model)
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)  # folds and fuses first
        quantize_static(
            str(pre), str(out), Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,  # depthwise convolutions differ a lot from channel to channel
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        return out.read_bytes()

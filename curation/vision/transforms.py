"""Pure image preprocessing for the vision models: PIL in, numpy out, no model state.

Kept free of torch so the ONNX Runtime path can run without importing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image


class ImageModeError(ValueError):
    """An image handed to a model is not RGB."""


@dataclass(frozen=True)
class PreprocessSpec:
    """How a model wants its input: resize the shorter side, center-crop, normalise.

    ``crop_pct`` is the fraction of the resized shorter side that the crop keeps:
    1.0 resizes the shorter side straight to ``size`` (the whole width or height of
    the photo survives); 0.875 is the ImageNet evaluation habit of resizing to
    ``size / 0.875`` and cutting the border away.
    """

    size: int = 224
    crop_pct: float = 1.0
    interpolation: Image.Resampling = Image.Resampling.BICUBIC
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"size must be a positive number of pixels, got {self.size}")
        if not 0.0 < self.crop_pct <= 1.0:
            raise ValueError(f"crop_pct must be in (0, 1], got {self.crop_pct}")
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std must be positive, got {self.std}")


# EfficientNet-Lite was trained in TensorFlow on pixels scaled to [-1, 1]
# ((x - 127) / 128 in the reference code), not on ImageNet mean/std: with mean/std
# 0.5 the weights give clearly more confident and more often right labels (see
# docs/themes.md). Bicubic is what the TF reference evaluation resizes with.
EFFICIENTNET_LITE = PreprocessSpec()

# torchvision's ResNet-50 weights and most PyTorch-trained ImageNet models.
IMAGENET = PreprocessSpec(
    crop_pct=0.875,
    interpolation=Image.Resampling.BILINEAR,
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
)


def check_rgb(images: Sequence[Image.Image]) -> None:
    for i, img in enumerate(images):
        if not isinstance(img, Image.Image):
            raise TypeError(f"image {i} is a {type(img).__name__}, expected a PIL.Image.Image")
        if img.mode != "RGB":
            raise ImageModeError(
                f"image {i} has mode {img.mode!r}; models take RGB images: "
                f"pass img.convert('RGB') (the ingest thumbnails already are RGB)"
            )


def resize_shorter_side(img: Image.Image, size: int, interpolation: Image.Resampling) -> Image.Image:
    w, h = img.size
    if min(w, h) == size:
        return img
    scale = size / min(w, h)
    # max(size, ...) guards rounding: the shorter side must come out exactly `size`.
    new_w = size if w <= h else max(size, round(w * scale))
    new_h = size if h < w else max(size, round(h * scale))
    return img.resize((new_w, new_h), interpolation)


def center_crop(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if w < size or h < size:
        raise ValueError(f"cannot crop {size}x{size} out of a {w}x{h} image")
    left = (w - size) // 2
    top = (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def to_chw_array(img: Image.Image, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """RGB uint8 HxWx3 -> normalised float32 3xHxW."""
    x = np.asarray(img, dtype=np.float32) * np.float32(1 / 255)
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def preprocess(img: Image.Image, spec: PreprocessSpec) -> np.ndarray:
    resized = resize_shorter_side(img, round(spec.size / spec.crop_pct), spec.interpolation)
    return to_chw_array(center_crop(resized, spec.size), spec.mean, spec.std)


def preprocess_batch(images: Sequence[Image.Image], spec: PreprocessSpec) -> np.ndarray:
    """A batch of RGB images of any sizes -> float32 array [N, 3, size, size]."""
    check_rgb(images)
    out = np.empty((len(images), 3, spec.size, spec.size), dtype=np.float32)
    for i, img in enumerate(images):
        out[i] = preprocess(img, spec)
    return out

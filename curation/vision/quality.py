"""Photo quality, 0..1, used to pick the best shot of a near-duplicate group.

    score = sqrt(sharpness_score * exposure) * (1 - FACE_WEIGHT + FACE_WEIGHT * face_term)

* **sharpness**: variance of the 4-neighbour Laplacian of the grey image fitted into
  QUALITY_SIDE px (so a 512 px and a 1024 px thumbnail measure alike), mapped to 0..1 on
  a log scale between SHARP_LO (soft: 0) and SHARP_HI (crisp: 1).
* **exposure** (0..1): from the luminance histogram; 1 - clipped/MAX_CLIPPED, where
  ``clipped`` is the share of pixels crushed to black (<= 8) or blown to white (>= 247),
  times a penalty for a mean brightness far from mid-grey. A black frame scores 0.
* **face_term**: the largest face's share of the frame, ``sqrt(area / FACE_FULL)``
  capped at 1, so a face filling 5% of the frame counts fully. Without faces the
  score tops out at 1 - FACE_WEIGHT: among shots of the same moment, the one where a
  face is big and found is the better print.

The geometric mean makes a photo good only when it is both sharp and well exposed.
All functions are pure (PIL/numpy in, numbers out); calibration notes are in
docs/model-quality.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

QUALITY_VERSION = "quality-lapvar-hist@1"

QUALITY_SIDE = 512
# Laplacian variance (grey 0..255 at QUALITY_SIDE) of a visibly soft photo and of a
# crisp one; measured on samples/camera-roll and Gaussian-blurred copies of it.
SHARP_LO = 10.0
SHARP_HI = 1000.0
DARK_LEVEL = 8  # <= this grey level is crushed shadow
BRIGHT_LEVEL = 247  # >= this is blown highlight
MAX_CLIPPED = 1.0  # the whole frame clipped -> exposure 0
MID_GREY = 0.45
FACE_WEIGHT = 0.2
FACE_FULL = 0.05


@dataclass(frozen=True)
class QualityScore:
    sharpness: float  # raw Laplacian variance at QUALITY_SIDE
    sharpness_score: float  # 0..1
    exposure: float  # 0..1
    face_area: float  # largest face's share of the frame, 0..1
    score: float  # 0..1


def grey_working_image(image: Image.Image, side: int = QUALITY_SIDE) -> np.ndarray:
    """Luminance as float32 0..255, fitted into ``side`` x ``side``."""
    grey = image.convert("L")
    w, h = grey.size
    scale = side / max(w, h)
    if abs(scale - 1.0) > 1e-3:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        grey = grey.resize(size, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float32)


def laplacian_variance(grey: np.ndarray) -> float:
    g = np.asarray(grey, dtype=np.float32)
    if g.ndim != 2 or min(g.shape) < 3:
        raise ValueError(f"need a 2-d grey image of at least 3x3 pixels, got shape {g.shape}")
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


def sharpness_score(variance: float) -> float:
    if variance <= SHARP_LO:
        return 0.0
    return float(min(1.0, math.log(variance / SHARP_LO) / math.log(SHARP_HI / SHARP_LO)))


def exposure_score(grey: np.ndarray) -> float:
    g = np.asarray(grey)
    clipped = float(np.mean(g <= DARK_LEVEL) + np.mean(g >= BRIGHT_LEVEL))
    clip_term = max(0.0, 1.0 - clipped / MAX_CLIPPED)
    mean = float(g.mean()) / 255.0
    off = (mean - MID_GREY) / (MID_GREY if mean < MID_GREY else 1.0 - MID_GREY)
    mid_term = max(0.0, 1.0 - off * off)
    return clip_term * mid_term


def combine(sharp: float, exposure: float, face_area: float = 0.0) -> float:
    if not 0.0 <= face_area <= 1.0:
        raise ValueError(f"face_area is a share of the frame in [0, 1], got {face_area}")
    face_term = min(1.0, math.sqrt(face_area / FACE_FULL))
    return float(math.sqrt(sharp * exposure) * (1.0 - FACE_WEIGHT + FACE_WEIGHT * face_term))


def assess(image: Image.Image, face_area: float = 0.0) -> QualityScore:
    """Quality of one upright image; ``face_area`` from the faces table (0 without faces)."""
    grey = grey_working_image(image)
    variance = laplacian_variance(grey)
    sharp = sharpness_score(variance)
    exposure = exposure_score(grey)
    return QualityScore(variance, sharp, exposure, float(face_area), combine(sharp, exposure, face_area))

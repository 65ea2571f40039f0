"""Quality score on generated images: sharp beats blurred, well exposed beats black or
blown out, a big face lifts a shot; and a real photo (scikit-image's astronaut) degraded
the same ways keeps the same order."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from curation.vision.quality import (
    FACE_WEIGHT,
    assess,
    combine,
    exposure_score,
    grey_working_image,
    laplacian_variance,
    sharpness_score,
)


def textured(seed: int = 0, size: tuple[int, int] = (1024, 768)) -> Image.Image:
    """Mid-grey scene with detail at every scale (smooth fields plus fine texture)."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(40, 215, (12, 16, 3), dtype=np.uint8)).resize(size, Image.Resampling.BICUBIC)
    fine = rng.normal(0, 25, (size[1], size[0], 1))
    return Image.fromarray((np.asarray(coarse, np.float32) + fine).clip(0, 255).astype(np.uint8))


def astronaut() -> Image.Image:
    from curation.vision.train_clutter import skimage_photo

    return skimage_photo("astronaut.png")


def test_blur_lowers_sharpness_and_score() -> None:
    sharp = textured()
    scores = [assess(sharp.filter(ImageFilter.GaussianBlur(r))) for r in (0, 1, 2, 6)]
    assert all(a.sharpness > b.sharpness for a, b in zip(scores, scores[1:], strict=False))
    # the score saturates: crisp is 1, mush is 0
    assert scores[0].score > scores[1].score > scores[2].score >= scores[3].score
    assert scores[0].sharpness_score > 0.8 and scores[-1].sharpness_score == 0.0


def test_black_and_white_frames_score_zero() -> None:
    good = assess(textured())
    black = assess(Image.new("RGB", (800, 600)))
    white = assess(Image.new("RGB", (800, 600), (255, 255, 255)))
    assert good.exposure > 0.8
    assert black.exposure == 0.0 == white.exposure and black.score == 0.0 == white.score


def test_under_and_over_exposure_rank_below_the_original() -> None:
    photo = astronaut()
    original = assess(photo)
    dark = assess(ImageEnhance.Brightness(photo).enhance(0.25))
    blown = assess(ImageEnhance.Brightness(photo).enhance(2.5))
    blurred = assess(photo.filter(ImageFilter.GaussianBlur(4)))
    assert original.exposure > dark.exposure and original.exposure > blown.exposure
    assert original.score > max(dark.score, blown.score, blurred.score)


def test_size_is_normalised() -> None:
    big = textured(size=(2048, 1536))
    half = big.resize((1024, 768), Image.Resampling.LANCZOS)
    a, b = assess(big), assess(half)
    assert abs(a.sharpness_score - b.sharpness_score) < 0.1
    assert abs(a.exposure - b.exposure) < 0.02
    assert grey_working_image(big).shape == (384, 512)


def test_a_big_face_lifts_the_score() -> None:
    photo = textured()
    none, small, big = (assess(photo, a).score for a in (0.0, 0.005, 0.2))
    assert none < small < big
    assert big == pytest.approx(none / (1 - FACE_WEIGHT))


def test_formula_edges() -> None:
    assert combine(1.0, 1.0, 1.0) == 1.0 and combine(0.0, 1.0, 1.0) == 0.0
    assert sharpness_score(0.0) == 0.0 and sharpness_score(1e9) == 1.0
    assert exposure_score(np.full((10, 10), 115.0)) == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError, match="face_area"):
        combine(1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="at least 3x3"):
        laplacian_variance(np.zeros((2, 50)))

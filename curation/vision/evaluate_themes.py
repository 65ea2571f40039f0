"""Theme accuracy on the labelled photos of ``samples/themed``.

    python -m curation.vision.evaluate_themes [--samples DIR] [--backend onnx|torch]

A file's label is the first word of its name (``beach_sand.jpg`` -> beach);
LABEL_THEMES says which theme each word means. Words that name no theme (clock,
coin, robot, ...) and names that are not words (``IMG_4120.JPG``) are left out.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from curation.vision.embedders import Embedder, create_embedder
from curation.vision.themes import (
    DEFAULT_MIN_SCORE,
    THEME_MIN_SCORES,
    THEMES,
    Theme,
    score_themes,
)

# First word of a file name in samples/themed -> the theme a person would file it under.
LABEL_THEMES: dict[str, Theme] = {
    "beach": Theme.BEACH_SEA,
    "palms": Theme.BEACH_SEA,  # palms_beach.jpg: palm trees on a beach
    "ocean": Theme.BEACH_SEA,
    # sea life: underwater photos belong with the sea, not with safari animals
    "fish": Theme.BEACH_SEA,
    "sharks": Theme.BEACH_SEA,
    "turtle": Theme.BEACH_SEA,
    "jellyfish": Theme.BEACH_SEA,
    "cat": Theme.PETS,
    "dog": Theme.PETS,
    "elephant": Theme.WILDLIFE,
    "elephants": Theme.WILDLIFE,
    "giraffe": Theme.WILDLIFE,
    "zebra": Theme.WILDLIFE,
    "peacock": Theme.WILDLIFE,
    "chameleon": Theme.WILDLIFE,
    "snake": Theme.WILDLIFE,
    "limes": Theme.FOOD_DRINK,
    "pineapple": Theme.FOOD_DRINK,
    "orange": Theme.FOOD_DRINK,
    "building": Theme.CITY_ARCHITECTURE,
    "door": Theme.CITY_ARCHITECTURE,  # a front door in a facade
    "pillar": Theme.CITY_ARCHITECTURE,  # an ornate balustrade
    "fern": Theme.FLOWERS_GARDEN,  # plant close-ups
    "ephedra": Theme.FLOWERS_GARDEN,
    "tree": Theme.MOUNTAINS_NATURE,  # tree_white.jpg: a lone tree in a snowy field
    "ferriswheel": Theme.PARTY_CELEBRATION,  # a funfair
    "clowns": Theme.PARTY_CELEBRATION,  # people with clown noses at a street festival
}
# Words in samples/themed that name no theme of the taxonomy: left out on purpose.
UNTHEMED_WORDS = frozenset(
    {"bitcoin", "cash", "clock", "coin", "instrument", "leaves", "robot", "rope", "table"}
)

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff"})


def label_word(path: Path) -> str:
    return re.split(r"[_\W\d]+", path.stem, maxsplit=1)[0].lower()


def labelled_photos(themed_dir: Path) -> list[tuple[Path, Theme]]:
    photos = sorted(p for p in themed_dir.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    return [(p, LABEL_THEMES[label_word(p)]) for p in photos if label_word(p) in LABEL_THEMES]


def load_thumbnail(path: Path, longest_side: int = 256) -> Image.Image:
    """Upright RGB with the longest side ``longest_side``: what ingest hands the embedder."""
    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img).convert("RGB")
    img.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    return img


def theme_metrics(scores: np.ndarray, expected: Sequence[Theme]) -> dict[str, Any]:
    """Top-1/top-3 accuracy of theme scores against one expected theme per photo."""
    if len(scores) != len(expected):
        raise ValueError(f"{len(scores)} score rows but {len(expected)} expected themes")
    truth = np.array([THEMES.index(t) for t in expected])
    ranks = np.argsort(-scores, axis=1, kind="stable")
    hit1 = ranks[:, 0] == truth
    hit3 = (ranks[:, :3] == truth[:, None]).any(axis=1)
    thresholds = np.array([THEME_MIN_SCORES.get(t, DEFAULT_MIN_SCORE) for t in THEMES])
    reported = scores >= thresholds
    true_reported = reported[np.arange(len(truth)), truth]
    per_theme = {}
    for theme in THEMES:
        sel = truth == THEMES.index(theme)
        if sel.any():
            per_theme[theme] = {
                "n": int(sel.sum()),
                "top1": float(hit1[sel].mean()),
                "top3": float(hit3[sel].mean()),
            }
    return {
        "n": len(truth),
        "top1": float(hit1.mean()) if len(truth) else float("nan"),
        "top3": float(hit3.mean()) if len(truth) else float("nan"),
        # top-1 counts an argmax even when every score is noise; these two count only
        # what top_themes() would report (score at or above the theme's threshold)
        "top1_reported": float((hit1 & true_reported).mean()) if len(truth) else float("nan"),
        "recall_at_threshold": float(true_reported.mean()) if len(truth) else float("nan"),
        "mean_themes_reported": float(reported.sum(axis=1).mean()) if len(truth) else float("nan"),
        "per_theme": per_theme,
        "hit1": hit1,
        "hit3": hit3,
    }


def evaluate_themes(
    samples_dir: Path,
    embedder: Embedder,
    *,
    temperature: float | None = None,
    verbose: bool = True,
) -> dict[str, Any]:
    """Top-1 and top-3 theme accuracy on the labelled photos of ``samples_dir/themed``."""
    themed = Path(samples_dir) / "themed"
    if not themed.is_dir():
        raise FileNotFoundError(f"no themed/ folder in {samples_dir} (set CURATION_SAMPLES)")
    photos = labelled_photos(themed)
    if not photos:
        raise ValueError(f"no labelled photos in {themed}: file names must start with a word of LABEL_THEMES")
    images = [load_thumbnail(p) for p, _ in photos]
    _, logits = embedder.embed_and_logits(images)
    scores = score_themes(logits, temperature=temperature)
    expected = [t for _, t in photos]
    result = theme_metrics(scores, expected)
    result["model_version"] = embedder.model_version
    result["rows"] = [
        {
            "file": p.name,
            "expected": t,
            "predicted": [THEMES[j] for j in np.argsort(-s, kind="stable")[:3]],
            "scores": {THEMES[j]: float(s[j]) for j in np.argsort(-s, kind="stable")[:3]},
        }
        for (p, t), s in zip(photos, scores, strict=True)
    ]
    if verbose:
        print(format_report(result))
    return result


def format_report(result: dict[str, Any]) -> str:
    lines = [f"model {result['model_version']}", "", f"{'file':34s} {'expected':20s} top-3 predicted (score)"]
    for row, h1, h3 in zip(result["rows"], result["hit1"], result["hit3"], strict=True):
        mark = "ok " if h1 else ("top3" if h3 else "MISS")
        preds = ", ".join(f"{t} {row['scores'][t]:.2f}" for t in row["predicted"])
        lines.append(f"{row['file'][:34]:34s} {row['expected']:20s} {mark:4s} {preds}")
    lines += ["", f"{'theme':20s} {'n':>3s} {'top-1':>6s} {'top-3':>6s}"]
    for theme, m in result["per_theme"].items():
        lines.append(f"{theme:20s} {m['n']:3d} {m['top1']:6.2f} {m['top3']:6.2f}")
    lines.append(f"{'all':20s} {result['n']:3d} {result['top1']:6.2f} {result['top3']:6.2f}")
    lines.append(
        f"top-1 and reported (score >= threshold): {result['top1_reported']:.2f}; "
        f"true theme reported: {result['recall_at_threshold']:.2f}; "
        f"themes reported per photo: {result['mean_themes_reported']:.2f}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    from curation.settings import Settings

    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=settings.samples)
    parser.add_argument("--embedder", default=settings.embedder)
    parser.add_argument("--backend", choices=("onnx", "torch"), default=None)
    parser.add_argument("--temperature", type=float, default=None)
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = {"cache_dir": settings.model_cache} if args.embedder == "efficientnet_lite0" else {}
    if args.backend:
        kwargs["backend"] = args.backend
    evaluate_themes(args.samples, create_embedder(args.embedder, **kwargs), temperature=args.temperature)


if __name__ == "__main__":
    main()

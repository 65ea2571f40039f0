"""Clutter: screenshots, receipts and documents that must never reach an album.

Three kinds of evidence, combined in this order:

1. **Content signals** measured on the thumbnail (:func:`content_signals`): how much
   of the frame is near-white paper or flat UI, how much is thin dark ink on a light
   ground, edge density, colour saturation, how few colours cover the frame. Pure numpy
   on a fixed working size, so a 64 px thumbnail and a 1024 px one are measured alike.
2. **The head**: a multinomial logistic regression on the CNN embedding plus those
   signals, trained by ``python -m curation.vision.train_clutter`` and shipped as numpy
   weights (``data/clutter_head.npz``) with its training record (``clutter_head.json``).
3. **File priors** (:func:`metadata_priors`): camera EXIF, PNG, a "Screenshot..." file
   name, a screen-sized frame. They are added to the head's log-probabilities *after*
   the head, as fixed, documented log-odds, because the training sets cannot teach them:
   the 64 px screenshot and camera sets carry no metadata at all, so a head fed file
   facts would learn "64 px JPEG without EXIF" instead of "screenshot".

Nothing is read at import time; ``ClutterClassifier.load()`` reads the two files.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, Self

import numpy as np
from PIL import Image


class ClutterCategory(StrEnum):
    PHOTO = "photo"
    SCREENSHOT = "screenshot"
    RECEIPT = "receipt"
    DOCUMENT = "document"

    @property
    def is_clutter(self) -> bool:
        return self is not ClutterCategory.PHOTO


CATEGORIES: tuple[ClutterCategory, ...] = tuple(ClutterCategory)  # column order of probabilities

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_HEAD = DATA_DIR / "clutter_head.npz"


class ClutterHeadError(ValueError):
    """The clutter head file is missing, malformed, or made for another embedder."""


# ---------------------------------------------------------------- content signals

# Signals are measured on the image fitted into this square (up- or down-scaled), so
# their values do not depend on the thumbnail's resolution.
SIGNAL_SIDE = 256


@dataclass(frozen=True)
class ContentSignals:
    """Cheap pixel statistics that separate paper and UI from photographs (all 0..1)."""

    white: float  # near-white, unsaturated pixels: paper, UI backgrounds
    flat: float  # pixels with almost no local gradient: UI panels, paper, solid fills
    ink: float  # dark pixels next to bright ones: thin strokes of text on a light ground
    edges: float  # pixels with a strong gradient
    saturation: float  # mean HSV saturation: receipts and documents are nearly grey
    palette: float  # share of the frame covered by its 8 most common (4-bit) colours

    NAMES = ("white", "flat", "ink", "edges", "saturation", "palette")

    def as_array(self) -> np.ndarray:
        return np.array([getattr(self, n) for n in self.NAMES], dtype=np.float32)

    @property
    def text_likeness(self) -> float:
        """A readable summary for the stored signals (not used by the decision): how much
        of the frame is white paper or page, scaled down when there is little ink on it
        (5% of the frame in strokes counts fully; a receipt has ~3%, a photo ~0)."""
        return float(np.clip(self.white * min(1.0, 20.0 * self.ink), 0.0, 1.0))


def _working_image(image: Image.Image) -> Image.Image:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    w, h = rgb.size
    scale = SIGNAL_SIDE / max(w, h)
    # At least 2 px a side: gradients need two samples (a 1 px wide strip is still measured).
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    return rgb.resize(size, Image.Resampling.BILINEAR if scale > 1 else Image.Resampling.BOX)


def max_filter(values: np.ndarray, size: int) -> np.ndarray:
    """The maximum over a size x size window around each pixel, edges repeated outwards:
    the same array as PIL's ``ImageFilter.MaxFilter(size)`` (a test holds it to that), as
    2 x size elementwise maxima instead of a rank filter, about 40x faster."""
    r = size // 2
    padded = np.pad(values, r, mode="edge")
    h, w = values.shape
    rows = padded[:h].copy()
    for i in range(1, size):
        np.maximum(rows, padded[i : i + h], out=rows)
    out = rows[:, :w].copy()
    for i in range(1, size):
        np.maximum(out, rows[:, i : i + w], out=out)
    return out


def content_signals(image: Image.Image) -> ContentSignals:
    """Measure :class:`ContentSignals` on an image of any size (a pure function)."""
    work = _working_image(image)
    rgb = np.asarray(work, dtype=np.float32) / 255.0
    # Channel max/min as two elementwise maxima: a reduction over a 3-long last axis is
    # about 20x slower in numpy, and this runs once per photo (same values either way).
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hi = np.maximum(np.maximum(red, green), blue)
    lo = np.minimum(np.minimum(red, green), blue)
    sat = np.where(hi > 1e-3, (hi - lo) / np.maximum(hi, 1e-3), 0.0)
    lum = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gy, gx = np.gradient(lum)
    grad = np.hypot(gx, gy)
    # Local maximum brightness in a 5x5 window: a dark pixel near a bright one is an edge
    # of a stroke; a dark pixel in a dark region (shadow, night sky) is not.
    local_max = max_filter((lum * 255).astype(np.uint8), 5).astype(np.float32) / 255.0
    quant = (np.asarray(work, dtype=np.uint8) >> 4).astype(np.int32)
    codes = (quant[..., 0] << 8) | (quant[..., 1] << 4) | quant[..., 2]
    counts = np.bincount(codes.ravel(), minlength=4096)
    top = np.sort(counts)[-8:].sum() / codes.size
    return ContentSignals(
        white=float(np.mean((lum >= 0.82) & (sat <= 0.12))),
        flat=float(np.mean(grad < 0.01)),
        ink=float(np.mean((lum < 0.45) & (local_max > 0.75))),
        edges=float(np.mean(grad > 0.12)),
        saturation=float(sat.mean()),
        palette=float(top),
    )


# ---------------------------------------------------------------- file priors


@dataclass(frozen=True)
class FileFacts:
    """What the photos table knows about a file (``None`` when unknown)."""

    name: str | None = None  # file name or path relative to the library
    format: str | None = None  # JPEG | PNG | HEIF | ...
    width: int | None = None  # upright
    height: int | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    time_source: str | None = None  # exif | xmp | filename | mtime | none

    @property
    def has_camera(self) -> bool:
        return bool(self.camera_make and self.camera_model)


# Screen resolutions (portrait, in pixels) that screenshots come out at: phones from
# the iPhone 6 on, common Android panels, iPads and desktop/laptop displays. Photos
# from cameras are 4:3, 3:2 or 16:9 at sensor sizes and do not hit these exactly.
SCREEN_SIZES: frozenset[tuple[int, int]] = frozenset(
    {
        (640, 1136), (750, 1334), (828, 1792), (1080, 1920), (1125, 2436), (1170, 2532),
        (1179, 2556), (1242, 2208), (1242, 2688), (1284, 2778), (1290, 2796), (1080, 2340),
        (1080, 2400), (1080, 2280), (1440, 2560), (1440, 3040), (1440, 3200), (1440, 3088),
        (720, 1280), (720, 1600), (1536, 2048), (1620, 2160), (1640, 2360), (1668, 2388),
        (2048, 2732), (768, 1366), (900, 1440), (1050, 1680), (1080, 1920), (1200, 1920),
        (1600, 2560), (1800, 2880), (1440, 2560), (2160, 3840), (1664, 2560), (1964, 3024),
        (2234, 3456), (1117, 1728), (982, 1512), (1152, 2048), (1600, 1600), (852, 1393),
    }
)  # fmt: skip
# Phones since ~2017 have 18:9 .. 20:9 panels; no camera sensor has that shape.
PHONE_ASPECT = (1.95, 2.35)

_SCREENSHOT_NAME = re.compile(
    r"screen[ _-]?shot|screen[ _-]?cap|screen[ _-]?capture|screenrecord|bildschirmfoto|"
    r"capture d.écran|captura de pantalla|schermata|schermafbeelding|skärmavbild|"
    r"스크린샷|截屏|スクリーンショット",
    re.IGNORECASE,
)

# Log-odds added to the head's log-probabilities when a rule fires. Hand-set, not
# fitted: no training set has real metadata for every category (see the module doc).
# Sizes were chosen so that one strong rule overturns an unsure head (p ~ 0.5 -> 0.98)
# but not a confident one (p 0.999 against stays clutter/photo), and weak rules only
# tip close calls.
PRIOR_CAMERA_NOT_SCREENSHOT = -4.0  # camera make+model: screenshots never carry them
PRIOR_CAMERA_PHOTO = 1.0  # ... and most camera files are photos (receipts are photographed too)
PRIOR_CAMERA_TIME_PHOTO = 0.5  # ... with a capture time from EXIF/XMP as well
PRIOR_NAME_SCREENSHOT = 4.0  # "Screenshot 2019-05-21 at 10.45.52.png"
PRIOR_SCREEN_SIZE = 2.5  # exact screen resolution, no camera
PRIOR_PHONE_ASPECT = 1.0  # 18:9..20:9 frame, no camera
PRIOR_PNG_NO_CAMERA = 1.5  # phones and desktops save screenshots as PNG; cameras never


def metadata_priors(facts: FileFacts | None) -> tuple[np.ndarray, list[str]]:
    """Log-odds per category (CATEGORIES order) from the file facts, and the rules that fired."""
    prior = np.zeros(len(CATEGORIES), dtype=np.float64)
    fired: list[str] = []
    if facts is None:
        return prior, fired
    shot = CATEGORIES.index(ClutterCategory.SCREENSHOT)
    photo = CATEGORIES.index(ClutterCategory.PHOTO)
    if facts.has_camera:
        prior[shot] += PRIOR_CAMERA_NOT_SCREENSHOT
        prior[photo] += PRIOR_CAMERA_PHOTO
        fired.append("camera_exif")
        if facts.time_source in ("exif", "xmp"):
            prior[photo] += PRIOR_CAMERA_TIME_PHOTO
            fired.append("camera_time")
    if facts.name and _SCREENSHOT_NAME.search(PurePosixPath(facts.name).name):
        prior[shot] += PRIOR_NAME_SCREENSHOT
        fired.append("screenshot_name")
    if not facts.has_camera:
        if facts.width and facts.height:
            short, long = sorted((int(facts.width), int(facts.height)))
            if (short, long) in SCREEN_SIZES:
                prior[shot] += PRIOR_SCREEN_SIZE
                fired.append("screen_size")
            elif PHONE_ASPECT[0] <= long / max(short, 1) <= PHONE_ASPECT[1]:
                prior[shot] += PRIOR_PHONE_ASPECT
                fired.append("phone_aspect")
        if (facts.format or "").upper() == "PNG":
            prior[shot] += PRIOR_PNG_NO_CAMERA
            fired.append("png")
    return prior, fired


def fuse(head_probs: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Posterior = softmax(log p_head + prior log-odds), row by row."""
    logp = np.log(np.clip(np.asarray(head_probs, np.float64), 1e-9, 1.0)) + priors
    logp -= logp.max(axis=-1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- the head


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class ClutterHead:
    """Standardise features, then a linear layer and a softmax (the fitted weights)."""

    mean: np.ndarray  # [D]
    scale: np.ndarray  # [D]
    weights: np.ndarray  # [D, n_categories]
    bias: np.ndarray  # [n_categories]
    use_signals: bool  # features = embedding (+ ContentSignals.as_array())

    def features(self, embeddings: np.ndarray, signals: np.ndarray | None) -> np.ndarray:
        x = np.asarray(embeddings, np.float32)
        if self.use_signals:
            if signals is None:
                raise ValueError("this clutter head also takes content signals; pass signals=")
            x = np.concatenate([x, np.asarray(signals, np.float32)], axis=1)
        if x.shape[1] != len(self.mean):
            raise ClutterHeadError(
                f"the clutter head takes {len(self.mean)} features, got {x.shape[1]}; "
                f"was it trained for another embedder? Retrain: python -m curation.vision.train_clutter"
            )
        return x

    def probabilities(self, embeddings: np.ndarray, signals: np.ndarray | None = None) -> np.ndarray:
        x = (self.features(embeddings, signals) - self.mean) / self.scale
        return softmax(x @ self.weights + self.bias)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            use_signals=np.array(self.use_signals),
            categories=np.array([c.value for c in CATEGORIES]),
        )

    @classmethod
    def read(cls, path: Path) -> ClutterHead:
        try:
            with np.load(path, allow_pickle=False) as z:
                categories = tuple(str(c) for c in z["categories"])
                head = cls(z["mean"], z["scale"], z["weights"], z["bias"], bool(z["use_signals"]))
        except FileNotFoundError:
            raise ClutterHeadError(
                f"no clutter head at {path}; train one: python -m curation.vision.train_clutter"
            ) from None
        except (KeyError, ValueError, OSError) as e:
            raise ClutterHeadError(f"{path} is not a clutter head file ({e}); retrain it") from e
        if categories != tuple(c.value for c in CATEGORIES):
            raise ClutterHeadError(
                f"{path} predicts {categories}, this code expects {[c.value for c in CATEGORIES]}; retrain it"
            )
        return head


def head_version(path: Path) -> str:
    return f"clutter-lr@{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}"


def _embedder_family(version: str) -> str:
    """``efficientnet_lite0@57934424+onnx`` -> ``efficientnet_lite0@57934424``: the ONNX and
    torch runtimes give the same vectors (to ~1e-5), so either may feed the head."""
    return version.split("+", 1)[0]


# ---------------------------------------------------------------- predictions


@dataclass(frozen=True)
class ClutterPrediction:
    category: ClutterCategory
    score: float  # posterior probability of ``category``
    probabilities: dict[ClutterCategory, float]
    head_probabilities: dict[ClutterCategory, float]
    signals: ContentSignals | None
    rules: tuple[str, ...] = field(default=())  # metadata priors that fired

    @property
    def is_clutter(self) -> bool:
        return self.category.is_clutter

    def signals_json(self) -> str:
        """The evidence, for ``photo_clutter.signals``."""
        out: dict[str, Any] = {
            "head": {c.value: round(p, 4) for c, p in self.head_probabilities.items()},
            "rules": list(self.rules),
        }
        if self.signals is not None:
            out["content"] = {k: round(v, 4) for k, v in asdict(self.signals).items()}
            out["content"]["text_likeness"] = round(self.signals.text_likeness, 4)
        return json.dumps(out, sort_keys=True)


class ClutterClassifier:
    """The shipped head plus the file priors. ``__init__`` stores the path; ``load()`` reads
    and checks it (thread-safe, once); ``predict()`` loads on first use."""

    def __init__(self, head_path: str | Path | None = None) -> None:
        self.head_path = Path(head_path) if head_path is not None else DEFAULT_HEAD
        self._head: ClutterHead | None = None
        self._record: dict[str, Any] = {}
        self._version = ""
        self._lock = threading.Lock()

    @property
    def record_path(self) -> Path:
        return self.head_path.with_suffix(".json")

    def load(self) -> Self:
        with self._lock:
            if self._head is None:
                head = ClutterHead.read(self.head_path)
                try:
                    self._record = json.loads(self.record_path.read_text())
                except FileNotFoundError:
                    raise ClutterHeadError(
                        f"{self.record_path} is missing: it says which embedder the head expects; "
                        f"retrain: python -m curation.vision.train_clutter"
                    ) from None
                self._version = head_version(self.head_path)
                self._head = head
        return self

    @property
    def model_version(self) -> str:
        self.load()
        return self._version

    @property
    def record(self) -> dict[str, Any]:
        """The training record: data counts, seed, metrics, the embedder version it expects."""
        self.load()
        return self._record

    @property
    def head(self) -> ClutterHead:
        self.load()
        assert self._head is not None
        return self._head

    def check_embedder(self, embedder_version: str) -> None:
        expected = self.record.get("embedder_model_version", "")
        if _embedder_family(expected) != _embedder_family(embedder_version):
            raise ClutterHeadError(
                f"the clutter head was trained on {expected!r} embeddings but the vision stage uses "
                f"{embedder_version!r}; retrain it: python -m curation.vision.train_clutter "
                f"--embedder {_embedder_family(embedder_version).split('@')[0]}"
            )

    def predict(
        self,
        embeddings: np.ndarray,
        images: Sequence[Image.Image] | None = None,
        facts: Sequence[FileFacts | None] | None = None,
        *,
        signals: Sequence[ContentSignals] | None = None,
    ) -> list[ClutterPrediction]:
        """One prediction per row of ``embeddings``. Content signals are measured on
        ``images`` unless given as ``signals``; ``facts`` (optional) adds the file priors."""
        embeddings = np.asarray(embeddings)
        n = len(embeddings)
        if signals is None and images is not None:
            if len(images) != n:
                raise ValueError(f"{len(images)} images for {n} embeddings")
            signals = [content_signals(im) for im in images]
        if signals is not None and len(signals) != n:
            raise ValueError(f"{len(signals)} signal records for {n} embeddings")
        if facts is not None and len(facts) != n:
            raise ValueError(f"{len(facts)} file facts for {n} embeddings")
        head = self.head
        sig_array = np.stack([s.as_array() for s in signals]) if signals is not None and n else None
        if n == 0:
            return []
        head_p = head.probabilities(embeddings, sig_array)
        out = []
        for i in range(n):
            prior, fired = metadata_priors(facts[i] if facts is not None else None)
            post = fuse(head_p[i], prior)
            k = int(np.argmax(post))
            out.append(
                ClutterPrediction(
                    category=CATEGORIES[k],
                    score=float(post[k]),
                    probabilities={c: float(p) for c, p in zip(CATEGORIES, post, strict=True)},
                    head_probabilities={c: float(p) for c, p in zip(CATEGORIES, head_p[i], strict=True)},
                    signals=signals[i] if signals is not None else None,
                    rules=tuple(fired),
                )
            )
        return out

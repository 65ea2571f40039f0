"""Face detection, landmarks and 128-d identity embeddings (dlib), plus face thumbnails.

The models are dlib's: a frontal-face detector (HOG + linear SVM, or the MMOD CNN), the
5-point shape predictor that aligns each face, and the ResNet that maps an aligned
150x150 face chip to a 128-d vector where two faces of one person lie closer than about
0.6 (euclidean). The weights ship in the ``face_recognition_models`` wheel; nothing is
loaded until :meth:`FaceModel.load` (or the first call) so importing this is free.
"""

from __future__ import annotations

import importlib.util
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

EMBEDDING_DIM = 128

# The HOG detector scans 80x80 windows, so it cannot see a face smaller than about 80 px.
# We want faces down to 4 % of the longest side (41 px in the usual 1024 px image) but not
# below 40 px, whose embeddings are too blurry to trust; so the image is resized to make
# the smallest wanted face 80 px (a 1024 px photo is scanned at ~2000 px, a 4000 px one
# shrunk to ~2000 px). We resize with Pillow rather than use dlib's 2x pyramid_up: the
# cost follows the need instead of jumping 4x, and pyramid_up's interpolation raised a
# mission patch in skimage's astronaut photo to a face (score 0.12; 0.05 after a bicubic
# resize, while real faces in the samples keep >= 0.4).
_HOG_WINDOW_PX = 80
_CNN_WINDOW_PX = 40  # the MMOD model finds faces down to about 40 px
# Weak HOG detections are checked by the MMOD CNN on a crop twice the box, resized so the
# face is ~80 px: on the samples it confirmed every real face (HOG scores down to 0.04)
# and rejected every false one (the astronaut's mission patch at 0.13, shirts, leaves).
# Running it on the crop costs ~0.2 s instead of ~7 s for the whole photo. A 100 px crop
# (face ~50 px) costs half as much but lost 12 of 32 real faces in camera-roll/.
_VERIFY_CROP_PX = 160
_GREY_HOG_THRESHOLD = -0.1
DEFAULT_MIN_FACE_FRACTION = 0.04  # settings.faces.min_face_fraction


class DetectorKind(StrEnum):
    HOG = "hog"  # fast on CPU, frontal and near-frontal faces
    CNN = "cnn"  # MMOD CNN: also finds turned and tilted faces, many times slower on CPU


# eq=False: the numpy field would make == raise; faces compare by identity.
@dataclass(frozen=True, eq=False)
class Face:
    """One detected face.

    ``box`` is (left, top, right, bottom) in pixels of the image that was passed in; it may
    reach slightly outside it (dlib boxes do for faces cut by the frame). ``box_norm`` is
    the same box divided by the image width/height, so it maps onto any resized copy.
    """

    box: tuple[int, int, int, int]
    box_norm: tuple[float, float, float, float]
    confidence: float  # HOG: SVM margin (>0 is a face, >1 a clear one); CNN: MMOD score
    embedding: np.ndarray  # (128,) float32, not normalised: compare with euclidean distance
    landmarks: tuple[tuple[float, float], ...] | None = None  # 5 points, image pixels
    model_version: str = ""

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    def box_in(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The box in pixels of a copy of the photo that is ``width`` x ``height``."""
        left, top, right, bottom = self.box_norm
        return (
            round(left * width),
            round(top * height),
            round(right * width),
            round(bottom * height),
        )


class ModelFilesNotFound(FileNotFoundError):
    """The dlib weight files are missing."""


class UnknownFaceModelError(ValueError):
    """``create_face_model`` was given a name that is not registered."""


def default_model_dir() -> Path:
    """The ``models/`` folder of the installed ``face_recognition_models`` package.

    Found without importing the package: its ``__init__`` imports ``pkg_resources``, which
    new setuptools no longer has.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesNotFound(
            "The dlib face model weights are not installed. "
            "Install them with: pip install face_recognition_models"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _require(path: Path) -> str:
    if not path.is_file():
        raise ModelFilesNotFound(
            f"Face model file {path.name} not found in {path.parent}. "
            "Reinstall face_recognition_models or pass model_dir= to the face model."
        )
    return str(path)


class FaceModel(ABC):
    """Base class: ``load()`` once, then ``detect_and_embed(image)`` per photo."""

    name: str = ""

    def __init__(self) -> None:
        self._loaded = False
        # dlib's networks keep scratch buffers, so two threads must not run one network at
        # once; subclasses take this lock around those calls, which makes a shared (cached)
        # instance safe for Streamlit's threads and for the faces stage's worker threads.
        self._lock = threading.Lock()

    @property
    def model_version(self) -> str:
        return self.name

    def load(self) -> FaceModel:
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
        return self

    def detect_and_embed(self, image: Image.Image) -> list[Face]:
        """Faces in an upright RGB image, biggest first."""
        if not isinstance(image, Image.Image):
            raise TypeError(
                f"detect_and_embed expects a PIL image, got {type(image).__name__}; "
                "open the photo with PIL.Image.open(...) and apply ImageOps.exif_transpose"
            )
        if image.width < 1 or image.height < 1:
            raise ValueError(f"the image is empty ({image.width}x{image.height})")
        if image.mode != "RGB":
            image = image.convert("RGB")
        self.load()
        faces = self._detect_and_embed(image)
        return sorted(faces, key=lambda f: f.width * f.height, reverse=True)

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _detect_and_embed(self, image: Image.Image) -> list[Face]:
        """Must be safe to call from several threads at once (see ``_lock``)."""


def detection_scale(longest_side: int, *, window_px: int, min_face_fraction: float,
                    min_face_px: float, max_scale: float) -> float:
    """The factor to resize the image by so the smallest face wanted fills the detector's
    window; 1.0 when within 10 % (not worth a resize)."""
    smallest_face_px = max(min_face_px, min_face_fraction * longest_side)
    scale = min(window_px / smallest_face_px, max_scale)
    return 1.0 if abs(scale - 1.0) < 0.1 else scale


class DlibResNetFaceModel(FaceModel):
    """dlib detector + 5-point alignment + ResNet-34 descriptor (99.38 % on LFW)."""

    def __init__(
        self,
        *,
        detector: DetectorKind | str = DetectorKind.HOG,
        min_confidence: float | None = None,
        verify_below: float | None = 0.5,
        min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
        min_face_px: float = 40.0,
        max_scale: float = 4.0,
        num_jitters: int = 1,
        grayscale: bool = True,
        verify_crop_px: int = _VERIFY_CROP_PX,
        model_dir: Path | str | None = None,
    ) -> None:
        super().__init__()
        self.detector = detector
        self.min_confidence = min_confidence
        self.verify_below = verify_below
        self.min_face_fraction = min_face_fraction
        self.min_face_px = min_face_px
        self.max_scale = max_scale
        self.num_jitters = num_jitters
        self.grayscale = grayscale
        self.verify_crop_px = verify_crop_px
        self.model_dir = model_dir
        self.name = "dlib_resnet" if str(detector) == DetectorKind.HOG else "dlib_resnet_cnn"

    @property
    def model_version(self) -> str:
        version = f"{self.name}/resnet_v1/jitter{self.num_jitters}"
        # Another smallest face finds other faces: say so, so stored faces of the two settings
        # are never mixed (the default keeps the version libraries were scanned with).
        if self.min_face_fraction != DEFAULT_MIN_FACE_FRACTION:
            version += f"/minface{self.min_face_fraction:g}"
        return version

    def _validate(self) -> DetectorKind:
        try:
            kind = DetectorKind(self.detector)
        except ValueError:
            options = ", ".join(k.value for k in DetectorKind)
            raise ValueError(f"detector must be one of {options}, got {self.detector!r}") from None
        if not 0 < self.min_face_fraction < 1:
            raise ValueError(
                f"min_face_fraction is a share of the longest side, in (0, 1); "
                f"got {self.min_face_fraction}"
            )
        if self.min_face_px <= 0:
            raise ValueError(f"min_face_px must be > 0, got {self.min_face_px}")
        if not 1 <= self.max_scale <= 8:
            raise ValueError(f"max_scale must be in [1, 8], got {self.max_scale}")
        if self.num_jitters < 1:
            raise ValueError(f"num_jitters must be >= 1, got {self.num_jitters}")
        if not 2 * _CNN_WINDOW_PX <= self.verify_crop_px <= 400:
            raise ValueError(
                f"verify_crop_px must be in [{2 * _CNN_WINDOW_PX}, 400] (the crop is twice the face, "
                f"which must fill the CNN's {_CNN_WINDOW_PX} px window); got {self.verify_crop_px}"
            )
        return kind

    def _load(self) -> None:
        kind = self._validate()
        try:
            import dlib
        except ImportError as exc:  # pragma: no cover - dlib is a hard dependency
            raise ImportError(
                "Face recognition needs dlib: pip install dlib-bin face_recognition_models"
            ) from exc
        model_dir = Path(self.model_dir) if self.model_dir else default_model_dir()
        self._kind = kind
        cnn_path = model_dir / "mmod_human_face_detector.dat"
        self._verifier = None
        # The HOG scan releases the GIL, so threads can scan photos side by side; but a dlib
        # object_detector keeps its feature pyramid in itself, so each thread needs its own.
        self._hog_by_thread = threading.local()
        if kind is DetectorKind.HOG:
            # SVM margin 0 is the detector's own decision boundary; lower finds a few more
            # turned faces and many more false ones in textures. On luminance the margins
            # come out a little lower (one gradient instead of the strongest of three):
            # -0.1 keeps every face the colour scan found at 0 on the samples, and whatever
            # else it lets through is below verify_below, so the CNN checks it.
            default = _GREY_HOG_THRESHOLD if self.grayscale else 0.0
            self._threshold = default if self.min_confidence is None else self.min_confidence
            if self.verify_below is not None:
                self._verifier = dlib.cnn_face_detection_model_v1(_require(cnn_path))
        else:
            self._detector = dlib.cnn_face_detection_model_v1(_require(cnn_path))
            self._threshold = 0.5 if self.min_confidence is None else self.min_confidence
        self._shape_predictor = dlib.shape_predictor(
            _require(model_dir / "shape_predictor_5_face_landmarks.dat")
        )
        self._encoder = dlib.face_recognition_model_v1(
            _require(model_dir / "dlib_face_recognition_resnet_model_v1.dat")
        )
        self._dlib = dlib

    def _hog(self) -> Any:
        """This thread's HOG detector."""
        hog = getattr(self._hog_by_thread, "detector", None)
        if hog is None:
            hog = self._hog_by_thread.detector = self._dlib.get_frontal_face_detector()
        return hog

    def _detect(self, image: Image.Image) -> list[tuple[Any, float]]:
        """Face rectangles (in ``image`` pixels) and scores."""
        window = _HOG_WINDOW_PX if self._kind is DetectorKind.HOG else _CNN_WINDOW_PX
        scale = detection_scale(max(image.size), window_px=window,
                                min_face_fraction=self.min_face_fraction,
                                min_face_px=self.min_face_px, max_scale=self.max_scale)
        if self._kind is DetectorKind.HOG:
            # The HOG takes the strongest gradient of the three colour channels; on luminance
            # it finds the same faces (docs/faces.md) for a quarter less scan time, and the
            # upscale before it moves a third of the bytes.
            scanned = image.convert("L") if self.grayscale else image
            if scale != 1.0:
                size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
                scanned = scanned.resize(size, Image.Resampling.BICUBIC)
            rects, scores, _ = self._hog().run(np.asarray(scanned), 0, self._threshold)
            found = [(r, score) for r, score in zip(rects, scores, strict=True)
                     if self.verify_below is None or score >= self.verify_below
                     or self._confirmed_by_cnn(image, r, scale)]
        else:
            if scale != 1.0:
                size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
                image = image.resize(size, Image.Resampling.BICUBIC)
            with self._lock:
                found = [(d.rect, d.confidence) for d in self._detector(np.asarray(image), 0)
                         if d.confidence >= self._threshold]
        if scale == 1.0:
            return found
        rect = self._dlib.rectangle
        return [
            (rect(round(r.left() / scale), round(r.top() / scale),
                  round(r.right() / scale), round(r.bottom() / scale)), score)
            for r, score in found
        ]

    def _confirmed_by_cnn(self, image: Image.Image, rect: Any, scale: float = 1.0) -> bool:
        """Whether the CNN also sees a face at ``rect`` (in pixels of ``image`` resized by
        ``scale``). The crop comes from the colour image as given: the CNN wants colour."""
        cx = (rect.left() + rect.right()) / 2 / scale
        cy = (rect.top() + rect.bottom()) / 2 / scale
        half = max(rect.width(), rect.height()) / scale
        crop = image.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
        side = self.verify_crop_px
        crop = crop.resize((side, side), Image.Resampling.BICUBIC)
        centre, tolerance = side / 2, side / 4
        with self._lock:
            found = self._verifier(np.asarray(crop), 0)
        return any(
            abs((d.rect.left() + d.rect.right()) / 2 - centre) < tolerance
            and abs((d.rect.top() + d.rect.bottom()) / 2 - centre) < tolerance
            for d in found
        )

    def _detect_and_embed(self, image: Image.Image) -> list[Face]:
        detections = self._detect(image)
        if not detections:
            return []
        dlib = self._dlib
        # Landmarks and descriptors come from the photo as given: dlib cuts an aligned
        # 150x150 chip from it, so the detection resize would only add blur.
        pixels = np.asarray(image)
        shapes = dlib.full_object_detections()
        with self._lock:  # both hold the GIL anyway; the ResNet keeps scratch buffers
            for rect, _ in detections:
                shapes.append(self._shape_predictor(pixels, rect))
            # One call for all faces of the photo (a bigger batch, across photos, was measured
            # no faster: this dlib build has no BLAS, so the cost is per chip).
            descriptors = self._encoder.compute_face_descriptor(pixels, shapes, self.num_jitters)
        height, width = pixels.shape[:2]
        faces = []
        for (rect, score), shape, descriptor in zip(detections, shapes, descriptors, strict=True):
            box = (rect.left(), rect.top(), rect.right(), rect.bottom())
            faces.append(
                Face(
                    box=box,
                    box_norm=(box[0] / width, box[1] / height, box[2] / width, box[3] / height),
                    confidence=float(score),
                    embedding=np.asarray(descriptor, dtype=np.float32).reshape(EMBEDDING_DIM),
                    landmarks=tuple(
                        (float(shape.part(i).x), float(shape.part(i).y))
                        for i in range(shape.num_parts)
                    ),
                    model_version=self.model_version,
                )
            )
        return faces


FaceModelFactory = Callable[..., FaceModel]
_REGISTRY: dict[str, FaceModelFactory] = {}


def register_face_model(name: str) -> Callable[[FaceModelFactory], FaceModelFactory]:
    def decorator(factory: FaceModelFactory) -> FaceModelFactory:
        if name in _REGISTRY:
            raise ValueError(f"face model {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorator


@register_face_model("dlib_resnet")
def _dlib_resnet(**kwargs: Any) -> FaceModel:
    return DlibResNetFaceModel(detector=DetectorKind.HOG, **kwargs)


@register_face_model("dlib_resnet_cnn")
def _dlib_resnet_cnn(**kwargs: Any) -> FaceModel:
    return DlibResNetFaceModel(detector=DetectorKind.CNN, **kwargs)


def list_face_models() -> list[str]:
    return sorted(_REGISTRY)


def create_face_model(name: str = "dlib_resnet", **kwargs: Any) -> FaceModel:
    """A face model by name; weights load on first use (or ``.load()``)."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UnknownFaceModelError(
            f"Unknown face model {name!r}. Available: {', '.join(list_face_models())}. "
            "Pass one of these names to create_face_model()."
        ) from None
    return factory(**kwargs)


def face_crop(
    image: Image.Image, face: Face, size: int = 160, *, margin: float = 0.4
) -> Image.Image:
    """A square ``size`` px thumbnail of ``face``, with ``margin`` (share of the box side)
    of context around it so hair and chin show. Works on any resized copy of the photo the
    face was found in (it uses ``box_norm``); parts outside the photo are filled grey."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    left, top, right, bottom = face.box_norm
    cx = (left + right) / 2 * image.width
    cy = (top + bottom) / 2 * image.height
    side = max((right - left) * image.width, (bottom - top) * image.height) * (1 + 2 * margin)
    half = max(side / 2, 0.5)
    box = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
    if image.mode != "RGB":
        image = image.convert("RGB")
    # Image.crop pads with black outside the image; a neutral grey looks less like a border.
    inside = (max(box[0], 0), max(box[1], 0), min(box[2], image.width), min(box[3], image.height))
    canvas = Image.new("RGB", (box[2] - box[0], box[3] - box[1]), (128, 128, 128))
    if inside[0] < inside[2] and inside[1] < inside[3]:
        canvas.paste(image.crop(inside), (inside[0] - box[0], inside[1] - box[1]))
    return canvas.resize((size, size), Image.Resampling.LANCZOS)

"""Opening photos safely and decoding them small and fast.

Every failure becomes a :class:`DecodeError` with a short code and a sentence a
person understands; the pipeline records it and moves on.
"""

from __future__ import annotations

import math
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

PHOTO_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".heic", ".heif", ".hif", ".tif", ".tiff", ".webp"}
)
# Pillow format names we accept, whatever the extension says.
PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "HEIF", "TIFF", "WEBP"})

# EXIF orientation -> the transpose that shows the photo upright.
_TRANSPOSE = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


# warnings.catch_warnings swaps process-global state: ingest threads take turns.
WARNINGS_LOCK = threading.Lock()


class DecodeError(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


_heif_registered = False


def register_heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif). Done lazily: no work at import time."""
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def open_image(path: Path, *, max_pixels: int) -> Image.Image:
    """Open ``path`` lazily (header only) and check it is a photo we may decode."""
    register_heif()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DecodeError("unreadable", f"Cannot read the file: {exc.strerror or exc}.") from exc
    if size == 0:
        raise DecodeError("empty", "The file is empty (0 bytes).")
    # Pillow's own bomb guard only raises at twice its limit; we enforce ours below
    # from the header, before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(path)
    except UnidentifiedImageError as exc:
        content = _sniff(path)
        if "broken header" in content:
            raise DecodeError("corrupt", f"The file is {content}: no decoder can open it.") from exc
        raise DecodeError(
            "not_image", f"Not an image: the content ({content}) is not a format Pillow can read."
        ) from exc
    except PermissionError as exc:
        raise DecodeError("unreadable", "Permission denied: cannot read the file.") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise DecodeError("corrupt", f"The file is corrupt and cannot be opened: {exc}.") from exc
    if image.format not in PHOTO_FORMATS:
        image.close()
        raise DecodeError(
            "unsupported_format",
            f"The content is {image.format}, not a photo format we ingest "
            "(JPEG, PNG, HEIC/HEIF, TIFF, WebP).",
        )
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise DecodeError("corrupt", f"The header gives an impossible size {width}x{height}.")
    if width * height > max_pixels:
        image.close()
        raise DecodeError(
            "bomb",
            f"{width}x{height} is {width * height / 1e6:.0f} megapixels, above the "
            f"{max_pixels / 1e6:.0f} MP limit: refused to decode (possible decompression bomb).",
        )
    return image


def _sniff(path: Path) -> str:
    try:
        head = path.read_bytes()[:64] if path.stat().st_size < 64 else path.open("rb").read(64)
    except OSError:
        return "unreadable"
    if head.startswith(b"\xff\xd8"):
        return "JPEG data with a broken header"
    if head.startswith(b"\x89PNG"):
        return "PNG data with a broken header"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"PK\x03\x04",)):
        return "a ZIP archive"
    if head[4:8] == b"ftyp":
        return "an MP4/QuickTime video"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "unknown binary data"


def oriented_size(image: Image.Image, orientation: int) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def decode_oriented(image: Image.Image, orientation: int, longest_side: int) -> Image.Image:
    """Decode to RGB with the longest side at least ``longest_side`` (or full size), upright.

    JPEGs use draft mode: libjpeg-turbo scales by 1/2, 1/4 or 1/8 while decoding the DCT
    blocks (with its fast IDCT), several times faster than a full decode followed by a
    resize. (simplejpeg's M/8 scaling was measured too: no faster, the cost left is the
    Huffman decoding every scale must do.)
    """
    width, height = image.size
    scale = longest_side / max(width, height)
    if image.format in ("JPEG", "MPO") and scale < 1:
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        text = str(exc)
        if "truncated" in text or "broken data stream" in text or "premature end" in text.lower():
            raise DecodeError(
                "truncated", "The file is truncated: the image data ends early (incomplete copy?)."
            ) from exc
        raise DecodeError("corrupt", f"The image data is corrupt and cannot be decoded: {text}.") from exc
    except MemoryError as exc:  # pragma: no cover - needs a hostile file
        raise DecodeError("bomb", "Decoding needs more memory than allowed.") from exc
    return _upright(_to_rgb(image), orientation)


def _upright(rgb: Image.Image, orientation: int) -> Image.Image:
    for step in _TRANSPOSE.get(orientation, ()):
        rgb = rgb.transpose(step)
    return rgb


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return ImageOps.autocontrast(image.convert("I").point(lambda v: v / 256).convert("L")).convert("RGB")
    return image.convert("RGB")


def thumbnails(rgb: Image.Image, sizes: tuple[int, ...]) -> list[Image.Image]:
    """Thumbnails that fit in ``size`` x ``size``, each resized from the next larger one.

    Bilinear (Pillow's antialiased triangle filter) after a box reduce to within 2x:
    a third cheaper than bicubic, and no visible difference at these sizes. A source
    that already fits is used as it is (never enlarged, never copied).
    """
    out: dict[int, Image.Image] = {}
    source = rgb
    for size in sorted(sizes, reverse=True):
        box = fit_within(source.size, size)
        if box != source.size:
            source = source.resize(box, Image.Resampling.BILINEAR, reducing_gap=2.0)
        out[size] = source
    return [out[s] for s in sizes]


def fit_within(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """``size`` scaled to fit ``longest`` x ``longest``, aspect kept (as Image.thumbnail)."""
    width, height = size
    if width <= longest and height <= longest:
        return size
    if width >= height:
        return longest, max(1, round(height * longest / width))
    return max(1, round(width * longest / height)), longest


def thumbnail_path(cache_dir: Path, sha256: str, size: int) -> Path:
    return cache_dir / "thumbs" / str(size) / sha256[:2] / f"{sha256}.jpg"


def save_thumbnail(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary name per thread: two threads may write the same content (exact
    # duplicates in a library); the atomic rename means a reader never sees half a file.
    tmp = path.with_name(f"{path.stem}.{threading.get_ident()}.tmp")
    image.save(tmp, "JPEG", quality=85, optimize=False)
    tmp.replace(path)

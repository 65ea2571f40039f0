"""Content and perceptual hashes."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

_CHUNK = 1 << 20
_HASH = 8  # 8x8 low frequencies -> 64 bits
_SIDE = 4 * _HASH  # the DCT runs on a 32x32 grey image


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@cache
def _dct_rows() -> np.ndarray:
    """The first 8 rows of the (unnormalised) DCT-II matrix for 32 samples:
    ``2 cos(pi k (2n + 1) / 64)``, scipy.fftpack's ``dct`` convention."""
    k = np.arange(_HASH)[:, None]
    n = np.arange(_SIDE)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * _SIDE))


def perceptual_hash(image: Image.Image) -> str:
    """64-bit DCT hash (16 hex chars); robust to resizing, re-encoding and small edits.

    The pHash of imagehash (``imagehash.phash(image, hash_size=8)``, same bits, same hex),
    computed with two small matrix products instead of scipy's FFT: no scipy import in
    the ingest and about 0.1 ms per photo.
    """
    grey = image.convert("L").resize((_SIDE, _SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    rows = _dct_rows()
    low = rows @ pixels @ rows.T  # DCT along axis 0, then axis 1, low 8x8 corner only
    bits = (low > np.median(low)).ravel()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()

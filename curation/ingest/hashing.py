"""Content and perceptual hashes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import imagehash
from PIL import Image

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def perceptual_hash(image: Image.Image) -> str:
    """64-bit DCT hash (16 hex chars); robust to resizing, re-encoding and small edits."""
    return str(imagehash.phash(image, hash_size=8))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()

"""Compact image vectors for photo selection: a fixed sign random projection.

Selection only needs cosine similarities (is this photo like the ones already picked?).
A random projection to 128 dimensions keeps them within about +-0.09 (Johnson-Lindenstrauss)
and near-identical photos stay near-identical, while the vectors become ten times smaller
to store and read. The matrix comes from SHA-256, not from numpy's generator, so it is the
same on every machine and numpy version and vectors cached by one run stay valid forever.
"""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np

from curation.albums.records import normalise_rows

DEFAULT_DIMS = 128
_VERSION = 1


def projection_id(dims: int = DEFAULT_DIMS) -> str:
    return f"sign-rp-{dims}@{_VERSION}"


@cache
def projection_matrix(in_dim: int, out_dim: int) -> np.ndarray:
    """(in_dim, out_dim) matrix of +-1/sqrt(out_dim); read-only, shared."""
    if in_dim < 1 or out_dim < 1:
        raise ValueError(f"dimensions must be >= 1, got {in_dim} -> {out_dim}")
    n_bits = in_dim * out_dim
    blocks = []
    for counter in range((n_bits + 255) // 256):
        blocks.append(hashlib.sha256(f"curation-albums|{_VERSION}|{in_dim}|{out_dim}|{counter}".encode()).digest())
    bits = np.unpackbits(np.frombuffer(b"".join(blocks), dtype=np.uint8))[:n_bits]
    matrix = (bits.astype(np.float32) * 2 - 1).reshape(in_dim, out_dim) / np.sqrt(out_dim)
    matrix.setflags(write=False)
    return matrix


def project(vectors: np.ndarray, dims: int = DEFAULT_DIMS) -> np.ndarray:
    """Unit-length rows of ``dims`` values (inputs with at most ``dims`` values are only
    normalised). All-zero rows stay zero."""
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-d (n, dim), got shape {x.shape}")
    if x.shape[1] > dims:
        x = x @ projection_matrix(x.shape[1], dims)
    return normalise_rows(x)

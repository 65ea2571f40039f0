"""Near-duplicate groups within a library: bursts, edited and re-saved copies.

Two photos are near-duplicates when (:func:`is_match`) any of these holds:

* **copy**: pHashes (64-bit) within ``copy_bits`` and embedding cosine >= ``copy_cosine``.
  Re-encodes, downsized, blurred and black-and-white copies keep the pHash (0-4 bits)
  while the CNN embedding can fall to cosine ~0.4, so the cosine bar is low (two
  different near-blank frames, a 1x1 px grey image and a black one at 1 bit and
  cosine 0.62, do group: both are worthless, and the better one is kept);
* **edit**: pHashes within ``edit_bits`` and cosine >= ``edit_cosine`` (colour edits,
  filters, crops of ~10%, small reframing);
* **crop**: pHashes within ``crop_bits`` and cosine >= ``crop_cosine`` (heavier crops
  keep the content while the pHash moves 20-30 bits);
* **burst**: shot at most ``burst_seconds`` apart (both times reliable) with cosine
  >= ``burst_cosine``: the subject moved enough to change the pHash.

The thresholds come from edits of the themed photos (docs/model-quality.md): a
different photo of the same subject (dog_toshi_red vs dog_toshi_yellow) sits at 30 bits
and cosine 0.76, unrelated photos below cosine 0.3.

Matches are joined transitively (union-find); each group's representative is its
highest-quality photo (then the lowest photo id).

Not all pairs are compared: that is N^2/2 = 5e9 pairs for 100k photos. Candidates come
from four cheap neighbourhoods, each O(N log N) to build, all in numpy:

1. **capture time**: each photo against the next ``time_window`` photos in time order
   that are at most ``max_time_gap_s`` later (bursts; edited copies keep the EXIF time);
2. **pHash buckets**: the hash cut into four 16-bit bands; photos whose value in some
   band is equal or one bit apart are candidates (pigeonhole: every pair within 7 bits
   is found, and most within ~12);
3. **hash order**: each photo against its neighbours in the order of the whole hash
   (this covers bands so full, e.g. of blank frames, that they are not expanded);
4. **file names**: each photo against the next ``name_window`` in the order of its
   name with copy markers removed (``IMG_4120 (1).JPG``, ``IMG_4120 copy.JPG``,
   ``IMG_E4120.JPG`` all sort as ``img_4120``), for copies that lost their capture time.

What this misses: an edit that moves the pHash by more than ~10 bits, lost its capture
time and was renamed. See docs/model-quality.md for the thresholds' calibration.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

import numpy as np

NEARDUP_VERSION = "neardup-phash-emb@1"


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving and union by size."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


@dataclass(frozen=True)
class NearDupParams:
    copy_bits: int = 4
    copy_cosine: float = 0.30
    edit_bits: int = 16
    edit_cosine: float = 0.80
    crop_bits: int = 28
    crop_cosine: float = 0.92
    burst_seconds: float = 30.0
    burst_cosine: float = 0.85
    time_window: int = 8
    max_time_gap_s: float = 120.0
    name_window: int = 4
    max_bucket: int = 256  # a pHash band shared by more photos than this (blank frames) is compared in hash order

    def __post_init__(self) -> None:
        if not 0 <= self.copy_bits <= self.edit_bits <= self.crop_bits <= 64:
            raise ValueError(
                f"need 0 <= copy_bits <= edit_bits <= crop_bits <= 64, "
                f"got {self.copy_bits}, {self.edit_bits}, {self.crop_bits}"
            )
        if self.burst_seconds < 0:
            raise ValueError(f"burst_seconds cannot be negative, got {self.burst_seconds}")
        for name in ("copy_cosine", "edit_cosine", "crop_cosine", "burst_cosine"):
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a cosine in [-1, 1], got {getattr(self, name)}")
        for name in ("time_window", "name_window", "max_bucket"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class PhotoSignature:
    """What near-duplicate search needs about one photo (its embedding is a matrix row)."""

    photo_id: int
    phash: str  # 16 hex chars
    taken_at: datetime | None = None  # only when the time is reliable
    name: str | None = None  # path relative to the library
    quality: float = 0.0


@dataclass(frozen=True)
class NearDupGroup:
    representative: int  # photo_id; also the group id
    members: tuple[int, ...]  # photo_ids, representative first


def phash_int(phash: str) -> int:
    return int(phash, 16)


_COPY_MARKERS = re.compile(r"(\s*\(\d+\)|[\s_-]*copy(\s*\d+)?|[\s_-]*edited|[\s_-]*bearbeitet|~\d+)$", re.IGNORECASE)


_NUMBER = re.compile(r"\d+")
_IOS_EDITED = re.compile(r"^(img)_?e(\d)")


def name_key(name: str) -> str:
    """Folder + stem without copy markers, lower case: ``IMG_E4120 copy (2).JPG`` -> ``img_4120``."""
    path = PurePosixPath(name)
    stem = path.stem
    while (stripped := _COPY_MARKERS.sub("", stem)) != stem:  # "x copy (2)": strip both markers
        stem = stripped
    stem = _IOS_EDITED.sub(r"\1_\2", stem.lower())  # iOS edited: IMG_E4120
    # Natural order, so IMG_9 sits next to IMG_10 rather than after IMG_89.
    stem = _NUMBER.sub(lambda m: m.group().zfill(12), stem)
    return f"{path.parent}/{stem}"


def _window_pairs(order: np.ndarray, window: int) -> np.ndarray:
    """Pairs of each element of ``order`` with the next ``window`` ones, as original indices."""
    parts = [np.stack([order[:-k], order[k:]], axis=1) for k in range(1, min(window, len(order) - 1) + 1)]
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)


def _ranges(lo: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each i, the positions lo[i] .. lo[i] + counts[i] - 1: (owner index, position)."""
    owner = np.repeat(np.arange(len(lo)), counts)
    starts = np.repeat(lo, counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, starts + offsets


def _hash_array(photos: Sequence[PhotoSignature]) -> np.ndarray:
    return np.array([phash_int(p.phash) for p in photos], dtype=np.uint64)


def candidate_pairs(photos: Sequence[PhotoSignature], params: NearDupParams = NearDupParams()) -> np.ndarray:
    """Index pairs [M, 2] (i < j) worth comparing, each once; all numpy, no Python loop per pair."""
    n = len(photos)
    parts: list[np.ndarray] = []
    # 1. capture time: the next time_window photos, if at most max_time_gap_s later
    timed = np.array([i for i, p in enumerate(photos) if p.taken_at is not None], dtype=np.int64)
    if len(timed) > 1:
        stamps = np.array([photos[i].taken_at.timestamp() for i in timed])  # type: ignore[union-attr]
        order = timed[np.argsort(stamps, kind="stable")]
        when = np.full(n, np.nan)
        when[timed] = stamps
        pairs = _window_pairs(order, params.time_window)
        parts.append(pairs[when[pairs[:, 1]] - when[pairs[:, 0]] <= params.max_time_gap_s])
    # 2. pHash bands, probing each band's value and its 16 one-bit neighbours: a pair
    # within 7 bits has at least one band within 1 bit, so it is always found. Band
    # collisions between unrelated photos are many (the bands are short); they are
    # dropped at once unless the whole hash is within edit_bits, before any cosine.
    hashes = _hash_array(photos)
    for band in range(4):
        values = ((hashes >> np.uint64(16 * band)) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(values, kind="stable")
        # first[v] = where value v starts in sorted order: a bucket lookup is two gathers.
        first = np.searchsorted(values[order], np.arange(0x10001))
        for probe in (0, *(1 << b for b in range(16))):
            target = values ^ probe
            lo = first[target]
            counts = first[target + 1] - lo
            counts[counts > params.max_bucket] = 0  # degenerate band (blank frames): see 3.
            i, pos = _ranges(lo, counts)
            j = order[pos]
            keep = (i < j) & (np.bitwise_count(hashes[i] ^ hashes[j]) <= params.edit_bits)
            parts.append(np.stack([i[keep], j[keep]], axis=1))
    # 3. neighbours in full-hash order (covers over-full bands)
    parts.append(_window_pairs(np.argsort(hashes, kind="stable"), params.name_window))
    # 4. file names without copy markers, in natural order
    named = [(name_key(p.name), i) for i, p in enumerate(photos) if p.name]
    if len(named) > 1:
        parts.append(_window_pairs(np.array([i for _, i in sorted(named)], dtype=np.int64), params.name_window))
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.sort(np.concatenate(parts).astype(np.int64), axis=1)
    arr = arr[arr[:, 0] != arr[:, 1]]
    keys = np.unique(arr[:, 0] * n + arr[:, 1])  # one int per pair: far faster than unique(axis=0)
    return np.stack([keys // n, keys % n], axis=1)


def is_match(bits: np.ndarray, cosine: np.ndarray, dt_seconds: np.ndarray, params: NearDupParams) -> np.ndarray:
    """The match rule of the module doc, vectorised. ``dt_seconds`` is NaN when either time is unknown."""
    bits, cosine, dt = np.asarray(bits), np.asarray(cosine), np.asarray(dt_seconds, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # NaN (not computed / unknown) compares False
        burst = (np.abs(dt) <= params.burst_seconds) & (cosine >= params.burst_cosine)
        copy = (bits <= params.copy_bits) & (cosine >= params.copy_cosine)
        edit = (bits <= params.edit_bits) & (cosine >= params.edit_cosine)
        crop = (bits <= params.crop_bits) & (cosine >= params.crop_cosine)
    return copy | edit | crop | burst


def pair_measures(photos: Sequence[PhotoSignature], embeddings: np.ndarray, pairs: np.ndarray,
                  params: NearDupParams = NearDupParams(), chunk: int = 65536,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pHash Hamming distance, embedding cosine and time difference (s, NaN if unknown) per
    pair. The cosine is only computed where some rule could still match (NaN elsewhere):
    gathering two 1280-d rows per pair is the expensive part."""
    hashes = _hash_array(photos)
    bits = np.bitwise_count(hashes[pairs[:, 0]] ^ hashes[pairs[:, 1]]).astype(np.int64)
    stamps = np.array([p.taken_at.timestamp() if p.taken_at else np.nan for p in photos], dtype=np.float64)
    dt = stamps[pairs[:, 1]] - stamps[pairs[:, 0]] if len(pairs) else np.zeros(0)
    with np.errstate(invalid="ignore"):
        needed = np.flatnonzero((bits <= params.crop_bits) | (np.abs(dt) <= params.burst_seconds))
    emb = np.asarray(embeddings, dtype=np.float32)
    cos = np.full(len(pairs), np.nan, dtype=np.float32)
    for s in range(0, len(needed), chunk):
        idx = needed[s : s + chunk]
        p = pairs[idx]
        cos[idx] = np.einsum("ij,ij->i", emb[p[:, 0]], emb[p[:, 1]])
    return bits, cos, dt


def find_near_duplicates(
    photos: Sequence[PhotoSignature],
    embeddings: np.ndarray,
    params: NearDupParams = NearDupParams(),
) -> list[NearDupGroup]:
    """Groups of two or more near-duplicates; embeddings are L2-normalised rows in ``photos`` order."""
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or len(embeddings) != len(photos):
        raise ValueError(f"need one embedding row per photo: {len(photos)} photos, embeddings {embeddings.shape}")
    pairs = candidate_pairs(photos, params)
    uf = UnionFind(len(photos))
    if len(pairs):
        bits, cos, dt = pair_measures(photos, embeddings, pairs, params)
        for i, j in pairs[is_match(bits, cos, dt, params)]:
            uf.union(int(i), int(j))
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(photos)):
        members[uf.find(i)].append(i)
    groups = []
    for idx in members.values():
        if len(idx) < 2:
            continue
        best = max(idx, key=lambda i: (photos[i].quality, -photos[i].photo_id))
        rest = sorted((photos[i].photo_id for i in idx if i != best))
        groups.append(NearDupGroup(photos[best].photo_id, (photos[best].photo_id, *rest)))
    return sorted(groups, key=lambda g: g.representative)


def synthetic_library(n: int, *, dim: int = 1280, burst_every: int = 20, seed: int = 0
                      ) -> tuple[list[PhotoSignature], np.ndarray]:
    """A random library of ``n`` photos for timing: one photo a minute, and every
    ``burst_every``-th one followed by a near-identical frame two seconds later."""
    from datetime import timedelta

    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n, dim)).astype(np.float32)
    hashes = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    start = datetime(2020, 1, 1)
    times = [start + timedelta(minutes=i) for i in range(n)]
    for i in range(0, n - 1, burst_every):
        emb[i + 1] = emb[i] + 0.2 * rng.normal(size=dim)
        hashes[i + 1] = hashes[i] ^ np.uint64(0b101)
        times[i + 1] = times[i] + timedelta(seconds=2)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    photos = [PhotoSignature(i, f"{int(h):016x}", times[i], f"DCIM/IMG_{i:06d}.JPG") for i, h in enumerate(hashes)]
    return photos, emb


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m curation.vision.neardup [N]``: time the search on a synthetic library."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m curation.vision.neardup", description=main.__doc__)
    parser.add_argument("n", type=int, nargs="?", default=100_000, help="photos (default 100000)")
    args = parser.parse_args(argv)
    photos, emb = synthetic_library(args.n)
    started = time.perf_counter()
    pairs = candidate_pairs(photos)
    t_pairs = time.perf_counter() - started
    groups = find_near_duplicates(photos, emb)
    total = time.perf_counter() - started - t_pairs
    print(f"{args.n} photos: {len(pairs)} candidate pairs ({len(pairs) / max(1, args.n * (args.n - 1) / 2):.2e} "
          f"of all pairs) in {t_pairs:.1f} s; find_near_duplicates {total:.1f} s; {len(groups)} groups "
          f"(expected {len(range(0, args.n - 1, 20))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

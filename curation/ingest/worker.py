"""Per-file ingest work: one file in, one outcome out, never an exception for a bad file.

Runs on the ingest's worker threads: everything here is thread-safe (no shared state
but the thumbnail cache, whose files are written atomically under content-hash names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image

from curation.ingest.decode import (
    DecodeError,
    decode_oriented,
    open_image,
    oriented_size,
    save_thumbnail,
    thumbnail_path,
    thumbnails,
)
from curation.ingest.hashing import perceptual_hash, sha256_file
from curation.ingest.scan import FileEntry
from curation.records import IngestedPhoto, IngestIssue, Severity

# JPEG draft decoding scales by 1/2, 1/4 or 1/8 only. Asking for at least this share of
# the large thumbnail lets a 4000 px photo decode at 1/4 (1000 px) rather than 1/2
# (2000 px): four times fewer pixels for a thumbnail a few percent smaller.
DRAFT_SHARE = 0.75


@dataclass(frozen=True)
class WorkerConfig:
    root: Path
    cache_dir: Path
    thumb_sizes: tuple[int, ...]
    max_pixels: int
    min_year: int
    now: datetime


@dataclass
class FileOutcome:
    entry: FileEntry
    photo: IngestedPhoto | None
    issues: list[IngestIssue]


def process_file(entry: FileEntry, cfg: WorkerConfig) -> FileOutcome:
    """Everything the ingest needs from one file. Never raises for a bad file."""
    from curation.ingest.metadata import read_metadata

    path = cfg.root / entry.rel_path
    try:
        sha = sha256_file(path)
    except OSError as exc:
        return _skipped(entry, "unreadable", f"Cannot read the file: {exc.strerror or exc}.")
    try:
        image = open_image(path, max_pixels=cfg.max_pixels)
    except DecodeError as exc:
        return _skipped(entry, exc.code, exc.reason)
    with image:
        meta = read_metadata(path, image, now=cfg.now, min_year=cfg.min_year)
        width, height = oriented_size(image, meta.orientation)
        fmt = "JPEG" if image.format == "MPO" else image.format
        cached = [thumbnail_path(cfg.cache_dir, sha, s) for s in cfg.thumb_sizes]
        try:
            if all(p.exists() for p in cached):
                # Same content seen before (exact duplicate or a moved file): reuse.
                with Image.open(cached[0]) as small:
                    phash = perceptual_hash(small)
            else:
                rgb = decode_oriented(image, meta.orientation, round(max(cfg.thumb_sizes) * DRAFT_SHARE))
                thumbs = thumbnails(rgb, cfg.thumb_sizes)
                for thumb, target in zip(thumbs, cached, strict=True):
                    save_thumbnail(thumb, target)
                phash = perceptual_hash(thumbs[0])
        except DecodeError as exc:
            return _skipped(entry, exc.code, exc.reason)
        except OSError as exc:
            return _skipped(entry, "corrupt", f"The image data cannot be decoded: {exc}.")
    photo = IngestedPhoto(
        rel_path=entry.rel_path,
        sha256=sha,
        size_bytes=entry.size,
        mtime_ns=entry.mtime_ns,
        format=fmt,
        width=width,
        height=height,
        phash=phash,
        meta=meta,
    )
    issues = [IngestIssue(entry.rel_path, code, reason, Severity.WARNING) for code, reason in meta.warnings]
    return FileOutcome(entry, photo, issues)


def _skipped(entry: FileEntry, code: str, reason: str) -> FileOutcome:
    return FileOutcome(entry, None, [IngestIssue(entry.rel_path, code, reason, Severity.SKIPPED)])

"""Typed records passed between the engine's modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class TimeSource(StrEnum):
    EXIF = "exif"  # DateTimeOriginal (+ OffsetTimeOriginal, SubSecTimeOriginal)
    XMP = "xmp"  # xmp:DateCreated / photoshop:DateCreated / exif:DateTimeOriginal in XMP
    FILENAME = "filename"  # IMG_20180725_163423.jpg and friends
    MTIME = "mtime"  # file modification time: unreliable
    NONE = "none"


class PhotoStatus(StrEnum):
    OK = "ok"
    SKIPPED = "skipped"  # could not be ingested; see ingest_issues
    REMOVED = "removed"  # was in the library, no longer on disk


class Severity(StrEnum):
    SKIPPED = "skipped"  # the file is not in the library's photos
    WARNING = "warning"  # ingested, but something about it is doubtful


@dataclass(frozen=True)
class IngestIssue:
    path: str  # relative to the library root
    code: str  # short machine code, e.g. "truncated", "bomb", "absurd_date"
    reason: str  # a sentence a person understands
    severity: Severity = Severity.WARNING


@dataclass
class PhotoMetadata:
    """What the file says about itself (EXIF, XMP, file name, mtime)."""

    taken_at: datetime | None = None  # local wall-clock time, naive
    tz_offset_min: int | None = None  # minutes east of UTC when the file says so
    time_source: TimeSource = TimeSource.NONE
    camera_make: str | None = None
    camera_model: str | None = None
    lat: float | None = None
    lon: float | None = None
    alt: float | None = None
    orientation: int = 1  # EXIF orientation 1..8
    # (code, reason) pairs for doubtful metadata, e.g. ("absurd_date", "...")
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def time_reliable(self) -> bool:
        return self.time_source in (TimeSource.EXIF, TimeSource.XMP, TimeSource.FILENAME)


@dataclass
class IngestedPhoto:
    """One successfully ingested file."""

    rel_path: str
    sha256: str
    size_bytes: int
    mtime_ns: int
    format: str  # JPEG, PNG, HEIF, TIFF, WEBP
    width: int  # after EXIF orientation
    height: int
    phash: str  # 16 hex chars (64-bit DCT perceptual hash)
    meta: PhotoMetadata

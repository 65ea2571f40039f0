"""Walking a library folder: every photo file once, loops and broken links reported."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from curation.ingest.decode import PHOTO_EXTENSIONS
from curation.records import IngestIssue, Severity

# Folders that photo managers and OSes fill with derived files, not photos.
_SKIP_DIRS = frozenset({"@eaDir", "__MACOSX", ".thumbnails", "$RECYCLE.BIN"})


@dataclass(frozen=True)
class FileEntry:
    rel_path: str  # POSIX, relative to the root
    size: int
    mtime_ns: int


@dataclass
class ScanResult:
    files: list[FileEntry] = field(default_factory=list)
    issues: list[IngestIssue] = field(default_factory=list)


def scan_library(root: Path) -> ScanResult:
    """Find photo files under ``root`` by extension, following folder links once."""
    root = root.resolve()
    result = ScanResult()
    visited: set[tuple[int, int]] = set()

    def rel(path: str) -> str:
        return Path(os.path.relpath(path, root)).as_posix()

    def walk(directory: str) -> None:
        try:
            st = os.stat(directory)
        except OSError as exc:
            result.issues.append(_issue(rel(directory), "unreadable", f"Cannot open folder: {exc.strerror}."))
            return
        key = (st.st_dev, st.st_ino)
        if key in visited:
            result.issues.append(
                _issue(
                    rel(directory),
                    "symlink_loop",
                    "Folder link points back to a folder already scanned (symlink loop); not followed again.",
                )
            )
            return
        visited.add(key)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            result.issues.append(_issue(rel(directory), "unreadable", f"Cannot list folder: {exc.strerror}."))
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name in _SKIP_DIRS:
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir:
                walk(entry.path)
                continue
            if Path(entry.name).suffix.lower() not in PHOTO_EXTENSIONS:
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                code = "broken_link" if entry.is_symlink() else "unreadable"
                reason = (
                    "Broken link: the file it points to does not exist."
                    if code == "broken_link"
                    else f"Cannot read the file: {exc.strerror}."
                )
                result.issues.append(_issue(rel(entry.path), code, reason))
                continue
            result.files.append(FileEntry(rel(entry.path), st.st_size, st.st_mtime_ns))

    walk(str(root))
    return result


def _issue(path: str, code: str, reason: str) -> IngestIssue:
    return IngestIssue(path=path, code=code, reason=reason, severity=Severity.SKIPPED)

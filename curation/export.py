"""``curation export``: the whole curation result of one library as one JSON document.

The document's schema is described in docs/export-format.md. Keys that later stages
fill (themes, clutter, faces, events, people, albums) are always present, empty until
those stages have run, so consumers never need to test for a key.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from curation.store import Store, StoreError

EXPORT_VERSION = 1


class ExportError(StoreError):
    pass


def _iso(taken_at: datetime | None, tz_offset_min: int | None) -> str | None:
    if taken_at is None:
        return None
    if tz_offset_min is not None:
        taken_at = taken_at.replace(tzinfo=timezone(timedelta(minutes=int(tz_offset_min))))
    return taken_at.isoformat()


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
    )


def resolve_library(con: duckdb.DuckDBPyConnection, library: Path | None) -> tuple[int, str]:
    if library is not None:
        row = con.execute(
            "SELECT library_id, root FROM libraries WHERE root = ?", [str(Path(library).resolve())]
        ).fetchone()
        if row is None:
            raise ExportError(f"The library {library} has never been run. Run `curation run {library}` first.")
        return int(row[0]), row[1]
    row = con.execute(
        "SELECT l.library_id, l.root FROM libraries l LEFT JOIN runs r USING (library_id) "
        "GROUP BY ALL ORDER BY max(r.started_at) DESC NULLS LAST, l.library_id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise ExportError("The database holds no library yet. Run `curation run LIBRARY` first.")
    return int(row[0]), row[1]


def build_export(store: Store, library: Path | None = None) -> dict[str, Any]:
    with store.connect(read_only=True) as con:
        library_id, root = resolve_library(con, library)
        photos = []
        for row in con.execute(
            "SELECT photo_id, rel_path, sha256, taken_at, tz_offset_min, time_source, lat, lon, alt, "
            "width, height, camera_make, camera_model FROM photos "
            "WHERE library_id = ? AND status = 'ok' ORDER BY taken_at NULLS LAST, rel_path",
            [library_id],
        ).fetchall():
            (photo_id, rel_path, sha, taken_at, tz, source, lat, lon, alt, w, h, make, model) = row
            photos.append(
                {
                    "id": photo_id,
                    "path": rel_path,
                    "sha256": sha,
                    "taken_at": _iso(taken_at, tz),
                    "time_source": source,
                    "lat": lat,
                    "lon": lon,
                    "alt": alt,
                    "width": w,
                    "height": h,
                    "camera": " ".join(x for x in (make, model) if x) or None,
                    "themes": [],
                    "clutter": None,
                    "faces": [],
                    "event_id": None,
                }
            )
        issues = [
            {"path": p, "severity": s, "code": c, "reason": r}
            for p, s, c, r in con.execute(
                "SELECT rel_path, severity, code, reason FROM ingest_issues WHERE library_id = ? "
                "ORDER BY rel_path, code",
                [library_id],
            ).fetchall()
        ]
        removed = [
            r[0]
            for r in con.execute(
                "SELECT rel_path FROM photos WHERE library_id = ? AND status = 'removed' ORDER BY rel_path",
                [library_id],
            ).fetchall()
        ]
        document: dict[str, Any] = {
            "export_version": EXPORT_VERSION,
            "library": {"root": root, "exported_at": datetime.now().isoformat(timespec="seconds")},
            "photos": photos,
            "issues": issues,
            "removed": removed,
            "events": [],
            "people": [],
            "albums": [],
        }
        for fill in _FILLERS:
            fill(con, library_id, document)
    return document


# Later stages register a function that adds their part of the document.
_FILLERS: list = []


def register_export_filler(fn):  # noqa: ANN001, ANN201 - decorator
    _FILLERS.append(fn)
    return fn


def write_export(store: Store, out: Path, library: Path | None = None) -> dict[str, Any]:
    document = build_export(store, library)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    tmp.replace(out)
    return document

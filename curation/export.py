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

from curation.store import Store, StoreError, table_exists as _table_exists

EXPORT_VERSION = 1


class ExportError(StoreError):
    pass


def _iso(taken_at: datetime | None, tz_offset_min: int | None) -> str | None:
    if taken_at is None:
        return None
    if tz_offset_min is not None:
        taken_at = taken_at.replace(tzinfo=timezone(timedelta(minutes=int(tz_offset_min))))
    return taken_at.isoformat()




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
            "trips": [],
            "home": None,
            "people": [],
            "albums": [],
        }
        for fill in _fillers():
            fill(con, library_id, document)
    return document


# Each stage that adds to the document has one filler, imported when an export runs
# (so importing this module stays cheap). Order matters: albums refer to events/people.
_FILLERS = (
    "curation.export:fill_vision",
    "curation.export:fill_faces",
    "curation.pipeline.events_stage:events_export_filler",
    "curation.albums.export:fill_albums",
)


def _fillers():  # noqa: ANN202
    import importlib

    for spec in _FILLERS:
        module, name = spec.split(":")
        try:
            yield getattr(importlib.import_module(module), name)
        except (ModuleNotFoundError, AttributeError):
            continue  # that stage is not part of this installation


def _current_version(con: duckdb.DuckDBPyConnection, task: str) -> str | None:
    if not _table_exists(con, "model_versions"):
        return None
    row = con.execute(
        "SELECT model_version FROM model_versions WHERE task = ? ORDER BY created_at DESC, model_version DESC LIMIT 1",
        [task],
    ).fetchone()
    return row[0] if row else None


def fill_vision(con: duckdb.DuckDBPyConnection, library_id: int, document: dict[str, Any]) -> None:
    """photos[].themes (best first) and photos[].clutter from the current model versions."""
    by_id = {p["id"]: p for p in document["photos"]}
    themes_version = _current_version(con, "themes")
    if themes_version and _table_exists(con, "photo_themes"):
        for photo_id, theme, score in con.execute(
            "SELECT t.photo_id, t.theme, t.score FROM photo_themes t JOIN photos p USING (photo_id) "
            "WHERE p.library_id = ? AND t.model_version = ? ORDER BY t.photo_id, t.rank",
            [library_id, themes_version],
        ).fetchall():
            if photo_id in by_id:
                by_id[photo_id]["themes"].append({"name": theme, "score": round(float(score), 4)})
    clutter_version = _current_version(con, "clutter")
    if clutter_version and _table_exists(con, "photo_clutter"):
        for photo_id, category in con.execute(
            "SELECT c.photo_id, c.category FROM photo_clutter c JOIN photos p USING (photo_id) "
            "WHERE p.library_id = ? AND c.model_version = ? AND c.is_clutter",
            [library_id, clutter_version],
        ).fetchall():
            if photo_id in by_id:
                by_id[photo_id]["clutter"] = category


def fill_faces(con: duckdb.DuckDBPyConnection, library_id: int, document: dict[str, Any]) -> None:
    """photos[].faces and people (with photo counts)."""
    if not _table_exists(con, "faces"):
        return
    by_id = {p["id"]: p for p in document["photos"]}
    for photo_id, person_id, box in con.execute(
        "SELECT photo_id, person_id, [box_left, box_top, box_right, box_bottom] FROM faces "
        "WHERE library_id = ? ORDER BY face_id",
        [library_id],
    ).fetchall():
        if photo_id in by_id:
            by_id[photo_id]["faces"].append({"person_id": person_id, "box": [round(float(v), 4) for v in box]})
    document["people"] = [
        {"id": pid, "name": name, "n_faces": n_faces, "n_photos": n_photos}
        for pid, name, n_faces, n_photos in con.execute(
            "SELECT f.person_id, any_value(p.name), count(*), count(DISTINCT f.photo_id) FROM faces f "
            "LEFT JOIN persons p ON p.library_id = f.library_id AND p.person_id = f.person_id "
            "WHERE f.library_id = ? AND f.person_id IS NOT NULL GROUP BY f.person_id "
            "ORDER BY count(DISTINCT f.photo_id) DESC, f.person_id",
            [library_id],
        ).fetchall()
    ]


def write_export(store: Store, out: Path, library: Path | None = None) -> dict[str, Any]:
    document = build_export(store, library)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    tmp.replace(out)
    return document

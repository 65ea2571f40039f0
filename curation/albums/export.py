"""The ``albums`` part of ``curation export``.

Register it once with ``curation.export.register_export_filler(fill_albums)``. Each album:
``{id, kind, title, title_suggestions, caption, cover, photos: [{id, path, reason}], score,
facts, start, end, place, language, generator}``, best score first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import duckdb

from curation.store import table_exists as _table_exists



def fill_albums(con: duckdb.DuckDBPyConnection, library_id: int, document: dict[str, Any]) -> None:
    # Export opens the database read-only, which applies no schema: a database made before
    # the albums stage existed has no albums table, and its albums are simply none.
    if not _table_exists(con, "albums"):
        document["albums"] = []
        return
    photos: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for album_id, photo_id, path, reason in con.execute(
        "SELECT ap.album_id, ap.photo_id, p.rel_path, ap.reason FROM album_photos ap "
        "JOIN albums a ON a.album_id = ap.album_id JOIN photos p ON p.photo_id = ap.photo_id "
        "WHERE a.library_id = ? ORDER BY ap.album_id, ap.position",
        [library_id],
    ).fetchall():
        photos[album_id].append({"id": photo_id, "path": path, "reason": reason})
    albums = []
    for row in con.execute(
        "SELECT a.album_id, a.kind, a.title, a.title_suggestions, a.caption, c.rel_path, a.score, a.facts, "
        "a.start_at, a.end_at, a.place_name, a.language, a.generator FROM albums a "
        "LEFT JOIN photos c ON c.photo_id = a.cover_photo_id "
        "WHERE a.library_id = ? ORDER BY a.score DESC, a.album_id",
        [library_id],
    ).fetchall():
        album_id, kind, title, suggestions, caption, cover, score, facts, start, end, place, language, generator = row
        albums.append(
            {
                "id": album_id,
                "kind": kind,
                "title": title,
                "title_suggestions": list(suggestions or []),
                "caption": caption,
                "cover": cover,
                "photos": photos.get(album_id, []),
                "score": score,
                "facts": json.loads(facts) if isinstance(facts, str) else facts,
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                "place": place,
                "language": language,
                "generator": generator,
            }
        )
    document["albums"] = albums

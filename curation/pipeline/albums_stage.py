"""Albums stage: read what the earlier stages found (photos, events and trips, faces and
persons, themes, clutter, quality, near-duplicates, embeddings), make the Memories albums
with their titles, and replace the library's rows in ``albums`` and ``album_photos``.

Every input is optional except the photos: without events the rules count days instead,
without embeddings MMR spreads photos in time, without quality every photo is average.
The events stage's tables (``events``, ``trips``, ``photo_events``, ``homes``) are read
when they exist.

Three short connections: read (and top up the ``album_vectors`` cache), build albums and
titles with no connection open (an LLM may take seconds per album), write.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from curation.albums import Album, AlbumSettings, LibraryInputs, build_albums
from curation.albums.records import EventRecord, Home, Person, PhotoTable, Season, TripRecord
from curation.albums.vectors import DEFAULT_DIMS, project, projection_id
from curation.settings import Settings
from curation.store import Store, table_exists as _table_exists
from curation.titles import TitleGenerator, TitleResult, create_title_generator, parse_language
from curation.vision.themes import THEMES

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
_VECTOR_BATCH = 20_000


@dataclass
class AlbumsReport:
    n_albums: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    n_photos: int = 0  # photos of the library the albums could draw from
    n_vectors_projected: int = 0  # embeddings added to the album_vectors cache this run
    generator: str = ""
    language: str = ""
    n_fallbacks: int = 0  # albums whose configured generator's titles were not used
    seconds: dict[str, float] = field(default_factory=dict)  # load, build, titles, write


def album_settings(settings: Settings) -> AlbumSettings:
    """``settings.albums`` once the project settings carry it; the defaults until then."""
    configured = getattr(settings, "albums", None)
    return configured if isinstance(configured, AlbumSettings) else AlbumSettings()


def run_albums_stage(
    store: Store,
    settings: Settings,
    library_id: int,
    *,
    config: AlbumSettings | None = None,
    today: date | None = None,
    title_generator: TitleGenerator | None = None,
    progress: ProgressFn | None = None,
) -> AlbumsReport:
    """Make the library's albums and store them (replacing the previous ones).

    ``config`` defaults to ``settings.albums`` when Settings has that section, else to
    ``AlbumSettings()``; ``today`` (for "on this day" and the current year) to the date
    today; ``title_generator`` to ``settings.title_generator``.
    """
    # Bad settings fail here, before any work.
    config = config or album_settings(settings)
    language = parse_language(settings.language)
    generator = title_generator or create_title_generator(settings.title_generator, settings=settings)
    today = today or date.today()
    report = AlbumsReport(generator=generator.name, language=language.value)

    started = time.perf_counter()
    with store.connect() as con:
        report.n_vectors_projected = update_album_vectors(con, library_id)
        inputs = load_library_inputs(con, library_id)
    report.n_photos = len(inputs.photos)
    report.seconds["load"] = time.perf_counter() - started

    started = time.perf_counter()
    albums = build_albums(inputs, config, today=today)
    report.seconds["build"] = time.perf_counter() - started

    started = time.perf_counter()
    generator.prepare([a.facts for a in albums])
    titles = []
    for done, album in enumerate(albums, start=1):
        titles.append(generator.generate(album.facts, language))
        if progress:
            progress(done, len(albums), album.album_id)
    report.seconds["titles"] = time.perf_counter() - started

    started = time.perf_counter()
    with store.connect() as con:
        write_albums(con, library_id, albums, titles)
    report.seconds["write"] = time.perf_counter() - started

    report.n_albums = len(albums)
    report.by_kind = dict(Counter(a.kind.value for a in albums))
    report.n_fallbacks = sum(1 for t in titles if t.fallback_reason)
    if report.n_fallbacks:
        log.warning("%d of %d albums use grounded titles instead of %s", report.n_fallbacks, len(albums), generator.name)
    return report


# ----------------------------------------------------------------------------- reading


def _one(con: duckdb.DuckDBPyConnection, query: str, params: list[Any]) -> tuple | None:
    # fetchall, not fetchone: DuckDB refuses con.sql() while an execute() result is unread.
    rows = con.execute(query, params).fetchall()
    return rows[0] if rows else None




def _current_version(con: duckdb.DuckDBPyConnection, table: str, library_id: int, task: str) -> str | None:
    """The model version of ``table`` that covers most of the library's photos (newest on a tie)."""
    if not _table_exists(con, table):
        return None
    row = _one(
        con,
        f"SELECT t.model_version FROM {table} t JOIN photos p ON p.photo_id = t.photo_id "  # noqa: S608 - fixed names
        "LEFT JOIN model_versions mv ON mv.task = ? AND mv.model_version = t.model_version "
        "WHERE p.library_id = ? AND p.status = 'ok' "
        "GROUP BY t.model_version ORDER BY count(*) DESC, max(mv.created_at) DESC NULLS LAST, t.model_version DESC "
        "LIMIT 1",
        [task, library_id],
    )
    return row[0] if row else None


def _filled(values: Any, fill: Any) -> np.ndarray:  # noqa: ANN401 - numpy or masked array from DuckDB
    return np.ma.filled(values, fill) if isinstance(values, np.ma.MaskedArray) else np.asarray(values)


def update_album_vectors(con: duckdb.DuckDBPyConnection, library_id: int, dims: int = DEFAULT_DIMS) -> int:
    """Project the embeddings that have no compact vector yet; returns how many."""
    version = _current_version(con, "embeddings", library_id, "embedder")
    if version is None:
        return 0
    projection = projection_id(dims)
    todo = con.execute(
        "SELECT e.photo_id FROM embeddings e JOIN photos p ON p.photo_id = e.photo_id "
        "WHERE p.library_id = ? AND p.status = 'ok' AND e.model_version = ? AND NOT EXISTS ("
        "  SELECT 1 FROM album_vectors a WHERE a.photo_id = e.photo_id AND a.model_version = e.model_version "
        "  AND a.projection = ?) ORDER BY e.photo_id",
        [library_id, version, projection],
    ).fetchnumpy()["photo_id"]
    for start in range(0, len(todo), _VECTOR_BATCH):
        # Chunks bound the memory: 20,000 x 1280 floats is 100 MB.
        con.register("todo_ids", pa.table({"photo_id": pa.array(todo[start : start + _VECTOR_BATCH], pa.int64())}))
        batch = con.sql(
            "SELECT e.photo_id, e.vector FROM embeddings e JOIN todo_ids t ON t.photo_id = e.photo_id "
            "WHERE e.model_version = ? ORDER BY e.photo_id",
            params=[version],
        ).to_arrow_table()
        con.unregister("todo_ids")
        ids = batch.column("photo_id").to_numpy()
        lists = batch.column("vector").combine_chunks()
        lengths = np.diff(lists.offsets.to_numpy())
        if len(set(lengths.tolist())) > 1:
            raise ValueError(f"embeddings of {version} have different lengths: {sorted(set(lengths.tolist()))[:5]}")
        flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
        vectors = project(flat.reshape(len(ids), int(lengths[0])), dims)
        table = pa.table(
            {
                "photo_id": pa.array(ids, pa.int64()),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel(), pa.float32()), vectors.shape[1]),
            }
        )
        con.register("new_album_vectors", table)
        con.execute(
            "INSERT OR REPLACE INTO album_vectors SELECT photo_id, ?, ?, vector::FLOAT[] FROM new_album_vectors",
            [version, projection],
        )
        con.unregister("new_album_vectors")
    return len(todo)


def load_library_inputs(con: duckdb.DuckDBPyConnection, library_id: int, dims: int = DEFAULT_DIMS) -> LibraryInputs:
    has_events = all(_table_exists(con, t) for t in ("events", "photo_events"))
    events = _load_events(con, library_id) if has_events else ()
    trips = _load_trips(con, library_id) if _table_exists(con, "trips") else ()
    home = _load_home(con, library_id) if _table_exists(con, "homes") else None

    clutter_version = _current_version(con, "photo_clutter", library_id, "clutter")
    themes_version = _current_version(con, "photo_themes", library_id, "themes")
    event_join = (
        "LEFT JOIN (SELECT photo_id, min(event_id) AS event_id FROM photo_events WHERE library_id = $lib "
        "GROUP BY photo_id) pe ON pe.photo_id = p.photo_id "
        "LEFT JOIN (SELECT event_id, row_number() OVER (ORDER BY start_at, event_id) - 1 AS idx FROM events "
        "WHERE library_id = $lib) ev ON ev.event_id = pe.event_id "
        if has_events
        else ""
    )
    clutter_join = (
        "LEFT JOIN (SELECT photo_id, bool_or(is_clutter) AS is_clutter FROM photo_clutter "
        "WHERE model_version = $clutter GROUP BY photo_id) c ON c.photo_id = p.photo_id "
        if clutter_version
        else ""
    )
    theme_join = (
        "LEFT JOIN (SELECT photo_id, arg_max(theme, score) AS theme, max(score) AS theme_score FROM photo_themes "
        "WHERE model_version = $themes AND rank = 1 GROUP BY photo_id) t ON t.photo_id = p.photo_id "
        if themes_version
        else ""
    )
    query = (
        "SELECT p.photo_id, p.taken_at, "
        + ("coalesce(ev.idx, -1)" if has_events else "-1")
        + " AS event, q.score AS quality, q.sharpness, "
        + ("coalesce(c.is_clutter, false)" if clutter_version else "false")
        + " AS is_clutter, coalesce(d.group_id, -1) AS dup_group, coalesce(d.representative, false) AS dup_rep, "
        + ("t.theme, t.theme_score " if themes_version else "NULL::VARCHAR AS theme, 0.0 AS theme_score ")
        + "FROM photos p "
        + event_join
        + "LEFT JOIN photo_quality q ON q.photo_id = p.photo_id "
        + clutter_join
        + "LEFT JOIN near_duplicates d ON d.photo_id = p.photo_id AND d.library_id = p.library_id "
        + theme_join
        + "WHERE p.library_id = $lib AND p.status = 'ok' ORDER BY p.photo_id"
    )
    params: dict[str, Any] = {"lib": library_id}
    if clutter_version:
        params["clutter"] = clutter_version
    if themes_version:
        params["themes"] = themes_version
    cols = con.execute(query, params).fetchnumpy()

    photo_id = _filled(cols["photo_id"], 0).astype(np.int64)
    theme_index = {t.value: i for i, t in enumerate(THEMES)}
    theme_names = _filled(cols["theme"], None)
    theme = np.array([theme_index.get(t, -1) if t is not None else -1 for t in theme_names], dtype=np.int16)
    indptr, person_ids, persons = _load_faces(con, library_id, photo_id)
    table = PhotoTable(
        photo_id=photo_id,
        taken_at=_filled(cols["taken_at"].astype("datetime64[s]"), np.datetime64("NaT")),
        event=_filled(cols["event"], -1).astype(np.int32),
        quality=_filled(cols["quality"], np.nan).astype(np.float32),
        sharpness=_filled(cols["sharpness"], np.nan).astype(np.float32),
        is_clutter=_filled(cols["is_clutter"], False).astype(bool),
        dup_group=_filled(cols["dup_group"], -1).astype(np.int64),
        dup_representative=_filled(cols["dup_rep"], False).astype(bool),
        theme=theme,
        theme_score=np.where(theme >= 0, _filled(cols["theme_score"], 0.0), 0.0).astype(np.float32),
        person_indptr=indptr,
        person_ids=person_ids,
        vectors=_load_vectors(con, library_id, photo_id, dims),
    )
    return LibraryInputs(table, events, trips, persons, home, library_id)


def _load_events(con: duckdb.DuckDBPyConnection, library_id: int) -> tuple[EventRecord, ...]:
    rows = con.execute(
        "SELECT event_id, start_at, end_at, trip_id, n_days, n_photos, city, region, country, country_code, "
        "place_name, season, holiday, lat, lon FROM events WHERE library_id = ? ORDER BY start_at, event_id",
        [library_id],
    ).fetchall()
    return tuple(
        EventRecord(
            event_id=str(r[0]), start_at=r[1], end_at=r[2], trip_id=r[3], n_days=int(r[4] or 1),
            n_photos=int(r[5] or 0), city=r[6], region=r[7], country=r[8], country_code=r[9],
            place_name=r[10], season=Season.parse(r[11]), holiday=r[12], lat=r[13], lon=r[14],
        )  # fmt: skip
        for r in rows
    )


def _load_trips(con: duckdb.DuckDBPyConnection, library_id: int) -> tuple[TripRecord, ...]:
    rows = con.execute(
        "SELECT trip_id, start_at, end_at, nights, distance_km, place_name, countries, n_events, n_photos "
        "FROM trips WHERE library_id = ? ORDER BY start_at, trip_id",
        [library_id],
    ).fetchall()
    return tuple(
        TripRecord(
            trip_id=str(r[0]), start_at=r[1], end_at=r[2], nights=int(r[3] or 0), distance_km=r[4],
            place_name=r[5], countries=tuple(r[6] or ()), n_events=int(r[7] or 0), n_photos=int(r[8] or 0),
        )  # fmt: skip
        for r in rows
    )


def _load_home(con: duckdb.DuckDBPyConnection, library_id: int) -> Home | None:
    row = _one(
        con,
        "SELECT lat, lon, place_name, country_code FROM homes WHERE library_id = ? "
        "ORDER BY confidence DESC NULLS LAST LIMIT 1",
        [library_id],
    )
    return Home(*row) if row else None


def _load_faces(
    con: duckdb.DuckDBPyConnection, library_id: int, photo_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[Person, ...]]:
    version = _current_version(con, "faces", library_id, "faces")
    empty = (np.zeros(len(photo_id) + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), ())
    if version is None:
        return empty
    faces = con.execute(
        "SELECT DISTINCT photo_id, person_id FROM faces WHERE library_id = ? AND model_version = ? "
        "AND person_id IS NOT NULL ORDER BY photo_id, person_id",
        [library_id, version],
    ).fetchnumpy()
    face_photo = _filled(faces["photo_id"], -1).astype(np.int64)
    face_person = _filled(faces["person_id"], -1).astype(np.int64)
    row = np.searchsorted(photo_id, face_photo)
    ok = (row < len(photo_id)) & (photo_id[np.minimum(row, len(photo_id) - 1)] == face_photo) if len(photo_id) else row < 0
    row, face_person = row[ok], face_person[ok]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(photo_id)))]).astype(np.int64)
    names = dict(
        con.execute(
            "SELECT person_id, name FROM persons WHERE library_id = ? AND merged_into IS NULL", [library_id]
        ).fetchall()
    )
    persons = tuple(Person(int(pid), names.get(int(pid))) for pid in np.unique(face_person))
    return indptr, face_person, persons


def _load_vectors(con: duckdb.DuckDBPyConnection, library_id: int, photo_id: np.ndarray, dims: int) -> np.ndarray | None:
    version = _current_version(con, "embeddings", library_id, "embedder")
    if version is None:
        return None
    table = con.sql(
        "SELECT a.photo_id, a.vector FROM album_vectors a JOIN photos p ON p.photo_id = a.photo_id "
        "WHERE p.library_id = ? AND p.status = 'ok' AND a.model_version = ? AND a.projection = ? ORDER BY a.photo_id",
        params=[library_id, version, projection_id(dims)],
    ).to_arrow_table()
    if table.num_rows == 0:
        return None
    ids = table.column("photo_id").to_numpy()
    lists = table.column("vector").combine_chunks()
    flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    dim = len(flat) // len(ids)
    vectors = np.zeros((len(photo_id), dim), dtype=np.float32)
    vectors[np.searchsorted(photo_id, ids)] = flat.reshape(len(ids), dim)
    return vectors


# ----------------------------------------------------------------------------- writing


def album_rows(library_id: int, albums: list[Album], titles: list[TitleResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``albums`` and ``album_photos`` rows (pure; the stage and tests share it)."""
    album_frame = pd.DataFrame(
        [
            {
                "library_id": library_id,
                "album_id": a.album_id,
                "kind": a.kind.value,
                "title": t.title,
                "title_suggestions": t.titles,
                "caption": t.caption,
                "cover_photo_id": a.cover_photo_id,
                "cover_reason": a.cover_reason,
                "score": a.score,
                "start_at": a.start_at,
                "end_at": a.end_at,
                "place_name": a.place_name,
                "facts": json.dumps(a.facts.to_dict(), ensure_ascii=False),
                "title_trace": json.dumps(t.trace(), ensure_ascii=False),
                "rule": a.rule,
                "n_eligible": a.n_eligible,
                "generator": t.generator,
                "fallback_reason": t.fallback_reason,
                "language": t.language.value,
            }
            for a, t in zip(albums, titles, strict=True)
        ],
        columns=[
            "library_id", "album_id", "kind", "title", "title_suggestions", "caption", "cover_photo_id",
            "cover_reason", "score", "start_at", "end_at", "place_name", "facts", "title_trace", "rule",
            "n_eligible", "generator", "fallback_reason", "language",
        ],
    )  # fmt: skip
    photo_frame = pd.DataFrame(
        [(a.album_id, p.photo_id, p.position, p.reason) for a in albums for p in a.photos],
        columns=["album_id", "photo_id", "position", "reason"],
    )
    return album_frame, photo_frame


def write_albums(con: duckdb.DuckDBPyConnection, library_id: int, albums: list[Album], titles: list[TitleResult]) -> None:
    album_frame, photo_frame = album_rows(library_id, albums, titles)
    created = datetime.now()
    con.begin()
    try:
        con.execute(
            "DELETE FROM album_photos WHERE album_id IN (SELECT album_id FROM albums WHERE library_id = ?)", [library_id]
        )
        con.execute("DELETE FROM albums WHERE library_id = ?", [library_id])
        if len(album_frame):
            con.register("album_frame", album_frame)
            con.execute(
                "INSERT INTO albums SELECT library_id, album_id, kind, title, title_suggestions, caption, "
                "cover_photo_id, cover_reason, score, start_at, end_at, place_name, facts::JSON, title_trace::JSON, "
                "rule, n_eligible, generator, fallback_reason, language, ? FROM album_frame",
                [created],
            )
            con.register("photo_frame", photo_frame)
            con.execute("INSERT INTO album_photos SELECT album_id, photo_id, position, reason FROM photo_frame")
        con.commit()
    except Exception:
        con.rollback()
        raise

"""Events stage: read the library's photos (and the vision stage's clutter flags when there
are any), build events, trips, places and the home, and replace the library's rows in the
``events``, ``trips``, ``photo_events``, ``event_exclusions`` and ``homes`` tables.

Metadata only: no image is opened. The whole library is recomputed each run (100,000
photos take a few seconds), so adding photos can merge or split events; ids stay the same
for events whose first photo is unchanged.

People's "same event?" answers (``event_links``, written by the labeling loop's pull) are
honoured as constraints, and the boundaries the segmenter doubted are written to
``event_boundaries`` for the labeling loop to mine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from curation.events import BoundaryAnswer, EventSettings, EventsResult, GeoNamesPlaces, Home, build_events
from curation.settings import Settings
from curation.store import Store, table_exists as _table_exists

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
_STEPS = ("reading photos", "building events", "writing events", "done")


@dataclass
class EventsReport:
    library_id: int
    n_photos: int = 0  # usable photos (status ok)
    n_events: int = 0
    n_trips: int = 0
    n_placed_by_time: int = 0
    n_placed_by_neighbours: int = 0
    n_excluded: int = 0
    n_doubtful: int = 0  # boundaries recorded for people to check (event_boundaries)
    answers: dict[str, int] = field(default_factory=dict)  # people's answers: applied / conflicting / unknown
    home: Home | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step


def event_settings(settings: Settings) -> EventSettings:
    """``settings.events`` once the project settings carry it; the defaults until then."""
    configured = getattr(settings, "events", None)
    return configured if isinstance(configured, EventSettings) else EventSettings()


def load_boundary_answers(con: duckdb.DuckDBPyConnection, library_id: int) -> list[BoundaryAnswer]:
    """People's "same event?" answers for the library (none without the table)."""
    if not _table_exists(con, "event_links"):
        return []
    rows = con.execute(
        "SELECT photo_a, photo_b, same_event FROM event_links WHERE library_id = ? ORDER BY photo_a, photo_b",
        [library_id],
    ).fetchall()
    return [BoundaryAnswer(int(a), int(b), bool(same)) for a, b, same in rows]


def save_boundary_answers(
    con: duckdb.DuckDBPyConnection,
    library_id: int,
    answers: Iterable[tuple[BoundaryAnswer, int | None]],
    *,
    source: str,
) -> int:
    """Replace the library's ``event_links`` rows from ``source`` with ``answers`` (each with
    the queue item it answers, or None); the next run of the stage honours them. Returns the
    rows written."""
    rows = {}
    for answer, item_id in answers:
        a, b = sorted((int(answer.photo_a), int(answer.photo_b)))
        if a == b:
            raise ValueError(f"an event answer needs two different photos, got {a} twice")
        rows[(a, b)] = (library_id, a, b, bool(answer.same_event), source, item_id)
    now = datetime.now()
    frame = pd.DataFrame(
        [(*r, now) for r in rows.values()],
        columns=["library_id", "photo_a", "photo_b", "same_event", "source", "item_id", "updated_at"],
    ).astype({"item_id": "Int64"})
    con.execute("DELETE FROM event_links WHERE library_id = ? AND source = ?", [library_id, source])
    if len(frame):
        con.register("_event_links", frame)
        try:
            con.execute(
                "INSERT OR REPLACE INTO event_links (library_id, photo_a, photo_b, same_event, source, item_id, "
                "updated_at) SELECT * FROM _event_links"
            )
        finally:
            con.unregister("_event_links")
    return len(frame)


def read_photos(con: duckdb.DuckDBPyConnection, library_id: int) -> pd.DataFrame:
    """The columns ``build_events`` reads, one row per usable photo, with the clutter flag of
    the current clutter model (or of the newest model that scored the photo)."""
    base = (
        "SELECT p.photo_id, p.rel_path, p.sha256, p.taken_at, p.tz_offset_min, p.time_source, p.time_reliable, "
        "p.lat, p.lon{clutter} FROM photos p {join} WHERE p.library_id = $lib AND p.status = 'ok' "
        "ORDER BY p.photo_id"
    )
    if _table_exists(con, "photo_clutter"):
        current = (
            "(SELECT model_version FROM model_versions WHERE task = 'clutter' "
            "ORDER BY created_at DESC, model_version DESC LIMIT 1)"
            if _table_exists(con, "model_versions")
            else "(SELECT NULL)"
        )
        join = (
            "LEFT JOIN (SELECT photo_id, is_clutter, category FROM photo_clutter "
            f"QUALIFY row_number() OVER (PARTITION BY photo_id ORDER BY (model_version = {current}) DESC NULLS LAST, "
            "model_version DESC) = 1) c ON c.photo_id = p.photo_id"
        )
        sql = base.format(clutter=", c.is_clutter, c.category AS clutter_category", join=join)
    else:  # the vision stage's schema is not there: nothing is clutter
        sql = base.format(clutter="", join="")
    return con.execute(sql, {"lib": library_id}).df()


def run_events_stage(
    store: Store,
    settings: Settings,
    library_id: int,
    progress: ProgressFn | None = None,
    *,
    places: GeoNamesPlaces | None = None,
) -> EventsReport:
    """Build and store the events of one library. ``places`` injects a reverse geocoder
    (tests, or a dashboard sharing one); by default the process-wide GeoNames one."""
    started = time.perf_counter()
    report = EventsReport(library_id=library_id)

    def step(k: int) -> None:
        if progress:
            progress(k, len(_STEPS) - 1, _STEPS[k])

    step(0)
    with store.connect() as con:
        photos = read_photos(con, library_id)
        answers = load_boundary_answers(con, library_id)
    report.timings["read"] = time.perf_counter() - started
    step(1)
    cfg = event_settings(settings)
    result = build_events(
        photos, cfg, places=places or GeoNamesPlaces(snap_km=cfg.city_snap_km), answers=answers
    )
    report.timings.update(result.timings)
    step(2)
    write_started = time.perf_counter()
    write_events(store, library_id, result)
    report.timings["write"] = time.perf_counter() - write_started
    step(3)

    placed = result.photo_events["placed_by"].value_counts()
    report.n_photos = len(photos)
    report.n_events = len(result.events)
    report.n_trips = len(result.trips)
    report.n_placed_by_time = int(placed.get("time", 0))
    report.n_placed_by_neighbours = int(placed.get("neighbours", 0))
    report.n_excluded = len(result.exclusions)
    report.n_doubtful = int((~result.boundaries["labelled"].astype(bool)).sum()) if len(result.boundaries) else 0
    report.answers = dict(result.answers)
    report.home = result.home
    report.seconds = time.perf_counter() - started
    log.info(
        "events: %d photos -> %d events, %d trips, %d left out (%.2f s)",
        report.n_photos, report.n_events, report.n_trips, report.n_excluded, report.seconds,
    )
    return report


def write_events(store: Store, library_id: int, result: EventsResult) -> None:
    """Replace the library's rows in the five events tables and ``event_boundaries``, in one
    transaction."""
    events = result.events.assign(library_id=library_id)
    trips = result.trips.assign(library_id=library_id)
    # DuckDB reads lists in an object column as VARCHAR[]; make sure they are lists.
    for column in ("countries", "country_codes"):
        trips[column] = [list(v) if v is not None else [] for v in trips[column]]
    photo_events = result.photo_events.assign(library_id=library_id)
    exclusions = result.exclusions.assign(library_id=library_id)
    boundaries = result.boundaries.assign(library_id=library_id)
    h = result.home
    home = pd.DataFrame(
        [{"library_id": library_id, "lat": h.lat, "lon": h.lon, "place_name": h.place_name,
          "country_code": h.country_code, "confidence": float(h.confidence), "method": h.method.value,
          "n_days": int(h.n_days), "radius_km": float(h.radius_km)}]
    )
    with store.connect() as con:
        con.begin()
        try:
            for table in ("events", "trips", "photo_events", "event_exclusions", "homes", "event_boundaries"):
                con.execute(f"DELETE FROM {table} WHERE library_id = ?", [library_id])
            _insert(con, "event_boundaries", boundaries)
            _insert(con, "events", events)
            _insert(con, "trips", trips)
            _insert(con, "photo_events", photo_events)
            _insert(con, "event_exclusions", exclusions)
            _insert(con, "homes", home)
            con.commit()
        except duckdb.Error:
            con.rollback()
            raise


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    # By name: the table may have more columns (added later) than the frame.
    columns = ", ".join(frame.columns)
    con.register("_events_frame", frame)
    try:
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _events_frame")
    finally:
        con.unregister("_events_frame")


def events_export_filler(con: duckdb.DuckDBPyConnection, library_id: int, document: dict[str, Any]) -> None:
    """Fills ``events`` and ``photos[].event_id`` of the export document (and ``trips`` /
    ``home`` when the document has those keys). Register with
    ``curation.export._FILLERS``."""
    if not _table_exists(con, "events"):
        return
    rows = con.execute(
        "SELECT event_id, trip_id, start_at, end_at, place_name, city, region, country, lat, lon, season, holiday, "
        "n_photos FROM events WHERE library_id = ? ORDER BY start_at, event_id",
        [library_id],
    ).fetchall()
    document["events"] = [
        {"id": r[0], "trip_id": r[1], "start": r[2].isoformat(), "end": r[3].isoformat(), "place": r[4],
         "city": r[5], "region": r[6], "country": r[7], "lat": r[8], "lon": r[9], "season": r[10],
         "holiday": r[11], "n_photos": r[12]}
        for r in rows
    ]
    event_of = dict(
        con.execute("SELECT photo_id, event_id FROM photo_events WHERE library_id = ?", [library_id]).fetchall()
    )
    for photo in document.get("photos", []):
        photo["event_id"] = event_of.get(photo["id"])
    if "trips" in document:
        document["trips"] = [
            {"id": r[0], "start": r[1].isoformat(), "end": r[2].isoformat(), "nights": r[3], "distance_km": r[4],
             "place": r[5], "countries": list(r[6] or []), "n_events": r[7], "n_photos": r[8]}
            for r in con.execute(
                "SELECT trip_id, start_at, end_at, nights, distance_km, place_name, countries, n_events, n_photos "
                "FROM trips WHERE library_id = ? ORDER BY start_at, trip_id",
                [library_id],
            ).fetchall()
        ]
    if "home" in document:
        row = con.execute(
            "SELECT lat, lon, place_name, country_code, confidence, method FROM homes WHERE library_id = ?",
            [library_id],
        ).fetchone()
        document["home"] = (
            None if row is None else
            {"lat": row[0], "lon": row[1], "place": row[2], "country_code": row[3], "confidence": row[4],
             "method": row[5]}
        )

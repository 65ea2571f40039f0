"""The events stage through the DuckDB store, on a few generated ``photos`` rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from curation.events import GeoNamesPlaces
from curation.export import build_export
from curation.pipeline.events_stage import events_export_filler, run_events_stage
from curation.settings import Settings
from curation.store import Store

LISBON = (38.7223, -9.1393)
PORTO = (41.1496, -8.6110)


@pytest.fixture(scope="module")
def places() -> GeoNamesPlaces:
    return GeoNamesPlaces()


def _rows() -> list[dict]:
    """Ten Saturdays at home in Lisbon, a weekend in Porto, a screenshot, an mtime-only copy."""
    rows = []

    def add(when: datetime | None, where: tuple[float, float] | None, source: str = "exif", path: str | None = None):
        n = len(rows) + 1
        rows.append({
            "photo_id": 100 + n, "rel_path": path or f"DCIM/100APPLE/IMG_{n:04d}.JPG", "status": "ok",
            "sha256": f"{n:064x}", "taken_at": when, "tz_offset_min": 0 if source == "exif" else None,
            "time_source": source, "time_reliable": source in ("exif", "xmp", "filename"),
            "lat": where[0] if where else None, "lon": where[1] if where else None,
        })
        return 100 + n

    for week in range(10):
        for k in range(3):
            add(datetime(2023, 1, 7, 11) + timedelta(days=7 * week, minutes=5 * k), LISBON)
    for day in range(3):
        for k in range(4):
            add(datetime(2023, 4, 14 + day, 10) + timedelta(minutes=7 * k), PORTO)
    add(datetime(2023, 4, 15, 10, 3), None, "filename", "DCIM/100APPLE/IMG_0900.PNG")  # a screenshot
    add(datetime(2024, 1, 1), None, "mtime", "Downloads/meme.jpg")
    add(None, None, "none", "Removed/gone.jpg")
    return rows


def _store(settings: Settings) -> tuple[Store, int, list[dict]]:
    store = Store(settings.database)
    rows = _rows()
    with store.connect() as con:
        library_id = con.execute(
            "INSERT INTO libraries (root, name) VALUES ('/photos', 'photos') RETURNING library_id"
        ).fetchone()[0]
        frame = pd.DataFrame(rows).assign(library_id=library_id)
        frame.loc[frame["rel_path"] == "Removed/gone.jpg", "status"] = "removed"
        frame["taken_at"] = pd.to_datetime(frame["taken_at"])
        con.register("frame", frame)
        con.execute(
            "INSERT INTO photos (photo_id, library_id, rel_path, status, sha256, taken_at, tz_offset_min, "
            "time_source, time_reliable, lat, lon) SELECT photo_id, library_id, rel_path, status, sha256, "
            "taken_at, tz_offset_min, time_source, time_reliable, lat, lon FROM frame"
        )
        screenshot = int(frame.loc[frame["rel_path"].str.endswith(".PNG"), "photo_id"].iloc[0])
        # An old clutter model called it a photo; the current one calls it a screenshot.
        con.execute("INSERT INTO model_versions (task, model_version, created_at) VALUES "
                    "('clutter', 'clutter@1', TIMESTAMP '2024-01-01'), ('clutter', 'clutter@2', TIMESTAMP '2024-06-01')")
        con.execute(
            "INSERT INTO photo_clutter (photo_id, model_version, category, score, is_clutter) VALUES "
            "(?, 'clutter@1', 'photo', 0.8, false), (?, 'clutter@2', 'screenshot', 0.97, true)",
            [screenshot, screenshot],
        )
    return store, library_id, rows


def test_stage_writes_events_trips_home_and_exclusions(settings: Settings, places: GeoNamesPlaces) -> None:
    store, library_id, rows = _store(settings)
    steps = []
    report = run_events_stage(store, settings, library_id, progress=lambda d, t, item: steps.append((d, t, item)),
                              places=places)
    assert report.n_photos == len(rows) - 1  # the removed file is not a photo any more
    assert report.n_events == 13 and report.n_trips == 1 and report.n_excluded == 2
    assert report.home is not None and report.home.place_name == "Lisbon"
    assert steps[-1] == (3, 3, "done")

    with store.connect(read_only=True) as con:
        trip = con.execute(
            "SELECT trip_id, nights, place_name, countries, country_codes, n_events, n_photos FROM trips"
        ).fetchone()
        assert trip[1:] == (2, "Porto", ["Portugal"], ["PT"], 3, 12)
        in_trip = con.execute("SELECT count(*) FROM events WHERE trip_id = ?", [trip[0]]).fetchone()[0]
        assert in_trip == 3
        first = con.execute(
            "SELECT event_id, local_date, n_days, n_photos, city, country_code, place_name, season, year, "
            "place_source FROM events ORDER BY start_at LIMIT 1"
        ).fetchone()
        assert first[0].startswith("e20230107-1100-")
        assert first[1:] == (datetime(2023, 1, 7).date(), 1, 3, "Lisbon", "PT", "Lisbon", "winter", 2023, "gps")
        exclusions = dict(con.execute("SELECT code, reason FROM event_exclusions").fetchall())
        assert exclusions["clutter"] == "clutter: screenshot"
        assert "modification time" in exclusions["unreliable_time"]
        assert con.execute("SELECT count(*) FROM photo_events").fetchone()[0] == report.n_photos - 2
        home = con.execute("SELECT place_name, country_code, method, confidence FROM homes").fetchone()
        assert home[:3] == ("Lisbon", "PT", "gps-days") and 0 < home[3] <= 1


def test_rerunning_the_stage_replaces_rows_with_the_same_ids(settings: Settings, places: GeoNamesPlaces) -> None:
    store, library_id, _ = _store(settings)
    run_events_stage(store, settings, library_id, places=places)
    with store.connect(read_only=True) as con:
        before = con.execute("SELECT event_id, trip_id, n_photos FROM events ORDER BY event_id").fetchall()
    run_events_stage(store, settings, library_id, places=places)
    with store.connect(read_only=True) as con:
        after = con.execute("SELECT event_id, trip_id, n_photos FROM events ORDER BY event_id").fetchall()
        assert con.execute("SELECT count(*) FROM homes").fetchone()[0] == 1
    assert before == after


def test_stage_runs_without_the_clutter_table(settings: Settings, places: GeoNamesPlaces) -> None:
    store, library_id, _ = _store(settings)
    with store.connect() as con:  # the schema is applied once per Store, so it stays dropped
        con.execute("DROP TABLE photo_clutter")
    report = run_events_stage(store, settings, library_id, places=places)
    assert report.n_excluded == 1  # the screenshot is now an ordinary dated photo


def test_export_filler_fills_events_and_photo_event_ids(settings: Settings, places: GeoNamesPlaces) -> None:
    store, library_id, _ = _store(settings)
    run_events_stage(store, settings, library_id, places=places)
    document = build_export(store)
    document["trips"], document["home"] = [], None  # opt-in keys the filler fills when present
    with store.connect(read_only=True) as con:
        events_export_filler(con, library_id, document)
    event = document["events"][0]
    assert set(event) == {"id", "trip_id", "start", "end", "place", "city", "region", "country", "lat", "lon",
                          "season", "holiday", "n_photos"}
    assert event["start"] == "2023-01-07T11:00:00" and event["place"] == "Lisbon"
    assert sum(p["event_id"] is not None for p in document["photos"]) == 42
    assert document["trips"][0]["countries"] == ["Portugal"] and document["home"]["place"] == "Lisbon"

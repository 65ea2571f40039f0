"""A synthetic library (metadata, people, events, trips, embeddings; no pixels) for tests
and the albums benchmark. Seeded: the same arguments give the same library.

Home is Lisbon. Every year has a few trips (one event per day away, some across two
countries), events at home on random days, Christmas and New Year's Eve, a family of named
people who turn up at most events, strangers who rarely do, bursts of near-identical shots
(near-identical embeddings too), some clutter, and photos outside any event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from curation.albums.records import (
    EventRecord,
    Home,
    LibraryInputs,
    Person,
    PhotoTable,
    Season,
    TripRecord,
    normalise_rows,
)
from curation.vision.themes import THEMES, Theme


@dataclass(frozen=True)
class _Spot:
    city: str
    region: str
    country: str
    code: str
    lat: float
    lon: float
    theme: Theme


HOME = _Spot("Lisbon", "Lisbon", "Portugal", "PT", 38.72, -9.14, Theme.CITY_ARCHITECTURE)
DESTINATIONS = (
    _Spot("Seville", "Andalusia", "Spain", "ES", 37.39, -5.98, Theme.CITY_ARCHITECTURE),
    _Spot("Cádiz", "Andalusia", "Spain", "ES", 36.53, -6.29, Theme.BEACH_SEA),
    _Spot("Rome", "Lazio", "Italy", "IT", 41.90, 12.50, Theme.CITY_ARCHITECTURE),
    _Spot("Paris", "Île-de-France", "France", "FR", 48.86, 2.35, Theme.FOOD_DRINK),
    _Spot("Munich", "Bavaria", "Germany", "DE", 48.14, 11.58, Theme.FOOD_DRINK),
    _Spot("Zermatt", "Valais", "Switzerland", "CH", 46.02, 7.75, Theme.MOUNTAINS_NATURE),
    _Spot("Amsterdam", "North Holland", "Netherlands", "NL", 52.37, 4.90, Theme.CITY_ARCHITECTURE),
    _Spot("Lagos", "Faro", "Portugal", "PT", 37.10, -8.67, Theme.BEACH_SEA),
)
FAMILY = ("Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hugo")


def _season(d: date) -> Season:
    return {12: Season.WINTER, 1: Season.WINTER, 2: Season.WINTER, 3: Season.SPRING, 4: Season.SPRING,
            5: Season.SPRING, 6: Season.SUMMER, 7: Season.SUMMER, 8: Season.SUMMER}.get(d.month, Season.AUTUMN)  # fmt: skip


def synthetic_library(
    n_photos: int = 3000,
    *,
    seed: int = 0,
    years: int = 3,
    first_year: int = 2021,
    dim: int = 32,
    trips_per_year: int = 4,
    n_family: int = 6,
    n_strangers: int = 30,
    library_id: int = 1,
) -> LibraryInputs:
    rng = np.random.default_rng(seed)
    first = date(first_year, 1, 1)
    n_days = (date(first_year + years, 1, 1) - first).days

    # --- plan: trips, then events at home on free days ---------------------------------
    busy = np.zeros(n_days, dtype=bool)
    plans: list[tuple[int, int, _Spot, str | None, str | None]] = []  # (day, n_days, spot, trip, holiday)
    trips_plan: list[tuple[str, int, int]] = []
    for y in range(years):
        year_start = (date(first_year + y, 1, 1) - first).days
        for t in range(trips_per_year):
            nights = int(rng.choice([2, 3, 4, 6, 7, 9, 13]))
            for _ in range(20):
                start = year_start + int(rng.integers(0, 350 - nights))
                if not busy[max(0, start - 2) : start + nights + 3].any():
                    break
            else:
                continue
            busy[start : start + nights + 1] = True
            trip_id = f"trip-{first_year + y}-{t}"
            a = DESTINATIONS[int(rng.integers(len(DESTINATIONS)))]
            b = DESTINATIONS[int(rng.integers(len(DESTINATIONS)))] if nights >= 6 and rng.random() < 0.4 else a
            for d in range(nights + 1):
                plans.append((start + d, 1, a if d <= nights // 2 else b, trip_id, None))
            trips_plan.append((trip_id, start, nights))
    for day in range(n_days):
        d = first + timedelta(days=day)
        holiday = {(12, 25): "Christmas", (12, 31): "New Year's Eve"}.get((d.month, d.day))
        if busy[day]:
            continue
        if holiday or rng.random() < 0.12:
            plans.append((day, 1, HOME, None, holiday))
    plans.sort(key=lambda p: p[0])

    # --- photos per event, then per photo ------------------------------------------------
    weights = np.array([3.0 if p[3] else 1.0 for p in plans]) * rng.uniform(0.5, 1.5, len(plans))
    n_loose = n_photos // 20  # photos outside any event
    counts = np.maximum(3, np.floor(weights / weights.sum() * (n_photos - n_loose))).astype(np.int64)
    while counts.sum() > n_photos - n_loose:
        counts[int(np.argmax(counts))] -= 1
    n_loose = n_photos - int(counts.sum())

    family = list(range(1, n_family + 1))
    strangers = list(range(100, 100 + n_strangers))
    # Friends and acquaintances: each is around for a couple of months.
    met = rng.integers(0, n_days, n_strangers)
    events: list[EventRecord] = []
    event_of = np.full(n_photos, -1, dtype=np.int32)
    seconds = np.zeros(n_photos, dtype=np.int64)
    persons_of: list[tuple[int, ...]] = [()] * n_photos
    theme = np.full(n_photos, -1, dtype=np.int16)
    centroids = normalise_rows(rng.standard_normal((len(plans) + 1, dim)).astype(np.float32))
    vectors = np.zeros((n_photos, dim), dtype=np.float32)
    epoch = datetime(1970, 1, 1)
    i = 0
    for e, ((day, _n, spot, trip_id, holiday), count) in enumerate(zip(plans, counts, strict=True)):
        d = first + timedelta(days=day)
        begin = datetime(d.year, d.month, d.day, int(rng.integers(8, 14)))
        offsets = np.sort(rng.integers(0, 8 * 3600, count))
        around = [p for p, m in zip(strangers, met, strict=True) if abs(day - m) < 45]
        cast = [p for p in family if rng.random() < 0.5] + [p for p in around if rng.random() < 0.3]
        for k in range(count):
            seconds[i] = int((begin - epoch).total_seconds()) + int(offsets[k])
            persons_of[i] = tuple(sorted(p for p in cast if rng.random() < 0.4))
            theme[i] = THEMES.index(spot.theme) if rng.random() < 0.5 else int(rng.integers(len(THEMES)))
            vectors[i] = 0.7 * centroids[e] + 0.7 * rng.standard_normal(dim) / np.sqrt(dim)
            event_of[i] = e
            i += 1
        end = begin + timedelta(seconds=int(offsets[-1]))
        events.append(
            EventRecord(
                event_id=f"ev-{d.isoformat()}-{e}", start_at=begin, end_at=end, trip_id=trip_id, n_days=1,
                n_photos=int(count), city=spot.city, region=spot.region, country=spot.country,
                country_code=spot.code, place_name=spot.city, season=_season(d), holiday=holiday,
                lat=spot.lat, lon=spot.lon,
            )
        )  # fmt: skip
    for _ in range(n_loose):
        day = int(rng.integers(n_days))
        seconds[i] = int((datetime.combine(first + timedelta(days=day), datetime.min.time()) - epoch).total_seconds())
        seconds[i] += int(rng.integers(8 * 3600, 20 * 3600))
        vectors[i] = rng.standard_normal(dim) / np.sqrt(dim)
        i += 1

    # Bursts: a photo and its next 1-4 neighbours in the same event are near-identical.
    dup_group = np.full(n_photos, -1, dtype=np.int64)
    representative = np.zeros(n_photos, dtype=bool)
    quality = rng.beta(5, 2, n_photos).astype(np.float32)
    starts = np.nonzero(rng.random(n_photos) < 0.05)[0]
    photo_id = np.arange(1, n_photos + 1, dtype=np.int64)
    for s in starts:
        if dup_group[s] >= 0 or event_of[s] < 0:
            continue
        size = int(rng.integers(2, 6))
        members = [m for m in range(s, min(n_photos, s + size)) if event_of[m] == event_of[s] and dup_group[m] < 0]
        if len(members) < 2:
            continue
        best = max(members, key=lambda m: (quality[m], -m))
        dup_group[members] = photo_id[best]
        representative[best] = True
        for m in members:
            vectors[m] = vectors[s] + 0.01 * rng.standard_normal(dim) / np.sqrt(dim)
            seconds[m] = seconds[s] + (m - s)
            persons_of[m] = persons_of[s]
    counts_p = [len(x) for x in persons_of]
    table = PhotoTable(
        photo_id=photo_id,
        taken_at=seconds.astype("datetime64[s]"),
        event=event_of,
        quality=quality,
        sharpness=(quality * 100 + rng.normal(0, 5, n_photos)).astype(np.float32),
        is_clutter=rng.random(n_photos) < 0.03,
        dup_group=dup_group,
        dup_representative=representative,
        theme=theme,
        theme_score=np.where(theme >= 0, rng.uniform(0.3, 0.95, n_photos), 0).astype(np.float32),
        person_indptr=np.concatenate([[0], np.cumsum(counts_p)]).astype(np.int64),
        person_ids=np.array([p for x in persons_of for p in x], dtype=np.int64),
        vectors=normalise_rows(vectors),
    )

    trips = []
    for trip_id, start, nights in trips_plan:
        evs = [e for e in events if e.trip_id == trip_id]
        if not evs:
            continue
        countries = tuple(dict.fromkeys(e.country for e in evs if e.country))
        trips.append(
            TripRecord(
                trip_id=trip_id, start_at=evs[0].start_at, end_at=evs[-1].end_at, nights=nights,
                distance_km=500.0, place_name=evs[0].region, countries=countries,
                n_events=len(evs), n_photos=sum(e.n_photos for e in evs),
            )
        )  # fmt: skip
    persons = [Person(pid, FAMILY[pid - 1] if pid <= len(FAMILY) else None) for pid in family]
    persons += [Person(pid, None) for pid in strangers]
    home = Home(HOME.lat, HOME.lon, HOME.city, HOME.code)
    return LibraryInputs(table, tuple(events), tuple(trips), tuple(persons), home, library_id)


# ----------------------------------------------------------------------------- into a store

# The events stage's tables as its engineer described them; created here only when that
# stage's schema is not installed, so tests and the benchmark run either way.
_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (library_id INTEGER, event_id VARCHAR, trip_id VARCHAR, start_at TIMESTAMP,
    end_at TIMESTAMP, local_date DATE, n_days INTEGER, n_photos INTEGER, lat DOUBLE, lon DOUBLE, city VARCHAR,
    region VARCHAR, country VARCHAR, country_code VARCHAR, place_name VARCHAR, season VARCHAR, holiday VARCHAR,
    year INTEGER, place_source VARCHAR, home_distance_km DOUBLE);
CREATE TABLE IF NOT EXISTS trips (library_id INTEGER, trip_id VARCHAR, start_at TIMESTAMP, end_at TIMESTAMP,
    nights INTEGER, distance_km DOUBLE, place_name VARCHAR, countries VARCHAR[], n_events INTEGER, n_photos INTEGER,
    country_codes VARCHAR[]);
CREATE TABLE IF NOT EXISTS photo_events (library_id INTEGER, photo_id BIGINT, event_id VARCHAR, placed_by VARCHAR);
CREATE TABLE IF NOT EXISTS homes (library_id INTEGER, lat DOUBLE, lon DOUBLE, place_name VARCHAR,
    country_code VARCHAR, confidence DOUBLE, method VARCHAR);
"""

SYNTHETIC_VERSIONS = {
    "embedder": "synthetic-embedder@1",
    "themes": "synthetic-themes@1",
    "clutter": "synthetic-clutter@1",
    "faces": "synthetic-faces@1",
}


def store_synthetic_library(con, inputs: LibraryInputs, root: str = "/synthetic/library") -> None:  # noqa: ANN001, C901
    """Write a synthetic library into a DuckDB store (schema already applied) the way the
    earlier stages would: photos, quality, clutter, near-duplicates, themes, embeddings,
    faces, persons, events, trips, photo_events, homes."""
    import pandas as pd  # noqa: PLC0415 - tests and the benchmark only
    import pyarrow as pa  # noqa: PLC0415

    lib = inputs.library_id
    p = inputs.photos
    n = len(p)
    con.execute(_EVENTS_DDL)
    con.execute("INSERT INTO libraries (library_id, root, name) VALUES (?, ?, ?)", [lib, root, "synthetic"])
    taken = p.taken_at.astype("datetime64[us]")
    days = p.taken_at.astype("datetime64[D]").astype(str)
    photos = pd.DataFrame({
        "photo_id": p.photo_id, "library_id": lib,
        "rel_path": [f"{d[:4]}/{d[5:7]}/IMG_{i:06d}.jpg" for d, i in zip(days, p.photo_id, strict=True)],
        "status": "ok", "sha256": [f"{i:064x}" for i in p.photo_id], "taken_at": taken,
    })  # fmt: skip
    con.register("syn_photos", photos)
    con.execute("INSERT INTO photos (photo_id, library_id, rel_path, status, sha256, taken_at) "
                "SELECT photo_id, library_id, rel_path, status, sha256, taken_at FROM syn_photos")  # fmt: skip
    quality = pd.DataFrame({"photo_id": p.photo_id, "sharpness": p.sharpness, "exposure": 1.0,
                            "face_area": 0.0, "score": p.quality})  # fmt: skip
    quality = quality[~np.isnan(p.quality)]
    con.register("syn_quality", quality)
    con.execute("INSERT INTO photo_quality SELECT * FROM syn_quality")
    clutter = pd.DataFrame({"photo_id": p.photo_id, "model_version": SYNTHETIC_VERSIONS["clutter"],
                            "category": np.where(p.is_clutter, "screenshot", "photo"), "score": 0.9,
                            "is_clutter": p.is_clutter, "signals": None})  # fmt: skip
    con.register("syn_clutter", clutter)
    con.execute("INSERT INTO photo_clutter SELECT * FROM syn_clutter")
    dups = pd.DataFrame({"library_id": lib, "photo_id": p.photo_id, "group_id": p.dup_group,
                         "representative": p.dup_representative})[p.dup_group >= 0]  # fmt: skip
    con.register("syn_dups", dups)
    con.execute("INSERT INTO near_duplicates SELECT * FROM syn_dups")
    has_theme = p.theme >= 0
    themes = pd.DataFrame({"photo_id": p.photo_id[has_theme], "model_version": SYNTHETIC_VERSIONS["themes"],
                           "theme": [THEMES[t].value for t in p.theme[has_theme]],
                           "score": p.theme_score[has_theme], "rank": 1})  # fmt: skip
    con.register("syn_themes", themes)
    con.execute("INSERT INTO photo_themes SELECT photo_id, model_version, theme, score, rank::TINYINT FROM syn_themes")
    if p.vectors is not None:
        for start in range(0, n, 20_000):
            part = slice(start, start + 20_000)
            vec = np.ascontiguousarray(p.vectors[part], dtype=np.float32)
            table = pa.table({"photo_id": pa.array(p.photo_id[part], pa.int64()),
                              "vector": pa.FixedSizeListArray.from_arrays(pa.array(vec.ravel()), vec.shape[1])})  # fmt: skip
            con.register("syn_vectors", table)
            con.execute("INSERT INTO embeddings SELECT photo_id, ?, vector::FLOAT[] FROM syn_vectors",
                        [SYNTHETIC_VERSIONS["embedder"]])  # fmt: skip
            con.unregister("syn_vectors")
    for task, version in SYNTHETIC_VERSIONS.items():
        con.execute("INSERT INTO model_versions (task, model_version) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [task, version])  # fmt: skip

    rows = np.repeat(np.arange(n), p.n_persons)
    rank_in_photo = np.arange(len(rows)) - p.person_indptr[rows]
    faces = pd.DataFrame({
        "face_id": [f"{pid}-{k}" for pid, k in zip(p.photo_id[rows], rank_in_photo, strict=True)],
        "library_id": lib, "photo_id": p.photo_id[rows], "model_version": SYNTHETIC_VERSIONS["faces"],
        "box_left": 0.1, "box_top": 0.1, "box_right": 0.3, "box_bottom": 0.3, "confidence": 0.99,
        "person_id": p.person_ids,
    })  # fmt: skip
    con.register("syn_faces", faces)
    con.execute("INSERT INTO faces (face_id, library_id, photo_id, model_version, box_left, box_top, box_right, "
                "box_bottom, confidence, embedding, person_id) SELECT face_id, library_id, photo_id, model_version, "
                "box_left, box_top, box_right, box_bottom, confidence, []::FLOAT[], person_id FROM syn_faces")  # fmt: skip
    persons = pd.DataFrame([(lib, x.person_id, x.name, None) for x in inputs.persons],
                           columns=["library_id", "person_id", "name", "merged_into"])  # fmt: skip
    con.register("syn_persons", persons)
    con.execute("INSERT INTO persons SELECT library_id, person_id, name, merged_into::INTEGER FROM syn_persons")

    events = pd.DataFrame([
        (lib, e.event_id, e.trip_id, e.start_at, e.end_at, e.start_at.date(), e.n_days, e.n_photos, e.lat, e.lon,
         e.city, e.region, e.country, e.country_code, e.place_name, e.season.value if e.season else None,
         e.holiday, e.start_at.year, "gps")
        for e in inputs.events
    ], columns=["library_id", "event_id", "trip_id", "start_at", "end_at", "local_date", "n_days", "n_photos",
                "lat", "lon", "city", "region", "country", "country_code", "place_name", "season", "holiday",
                "year", "place_source"])  # fmt: skip
    con.register("syn_events", events)
    con.execute("INSERT INTO events (library_id, event_id, trip_id, start_at, end_at, local_date, n_days, n_photos, "
                "lat, lon, city, region, country, country_code, place_name, season, holiday, year, place_source) "
                "SELECT * FROM syn_events")  # fmt: skip
    code_of = {e.country: e.country_code for e in inputs.events}
    trips = pd.DataFrame([
        (lib, t.trip_id, t.start_at, t.end_at, t.nights, t.distance_km, t.place_name, list(t.countries),
         t.n_events, t.n_photos, [code_of.get(c) for c in t.countries]) for t in inputs.trips
    ], columns=["library_id", "trip_id", "start_at", "end_at", "nights", "distance_km", "place_name", "countries",
                "n_events", "n_photos", "country_codes"])  # fmt: skip
    con.register("syn_trips", trips)
    con.execute("INSERT INTO trips (library_id, trip_id, start_at, end_at, nights, distance_km, place_name, "
                "countries, n_events, n_photos, country_codes) SELECT * FROM syn_trips")  # fmt: skip
    placed = p.event >= 0
    photo_events = pd.DataFrame({"library_id": lib, "photo_id": p.photo_id[placed],
                                 "event_id": [inputs.events[e].event_id for e in p.event[placed]],
                                 "placed_by": "time"})  # fmt: skip
    con.register("syn_photo_events", photo_events)
    con.execute("INSERT INTO photo_events (library_id, photo_id, event_id, placed_by) SELECT * FROM syn_photo_events")
    if inputs.home is not None:
        h = inputs.home
        con.execute(
            "INSERT INTO homes (library_id, lat, lon, place_name, country_code, confidence, method) "
            "VALUES (?, ?, ?, ?, ?, 0.9, 'synthetic')",
            [lib, h.lat, h.lon, h.place_name, h.country_code],
        )

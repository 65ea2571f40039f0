"""Generated, labelled photo libraries (metadata only) for evaluating and benchmarking events.

``generate_library(seed, home="Lisbon", years=3)`` plans a life: a home city with
outings, bursts, sparse weeks, indoor events without GPS, a Christmas Eve, an Easter
lunch and a New Year's Eve party every year, days out near home, and trips (road trips
through several cities, some across borders, some with a second camera without GPS).
Then it writes down what the files would say: capture time, offset, GPS, file name, and
the ground truth (event, trip, expected holiday) for each photo.

The ground truth follows one convention, the one a person sorting the photos would use:
an event is one activity in one place on one day (a party may run past midnight). Two
events of the same day are separated by a pause of at least two hours and at least three
times the longest pause inside either of them.

What the files get wrong, on purpose:

* 2% of event photos keep only their file mtime (a copy date), with the camera's file
  number intact: the sequence can place them;
* 0.5% are downloads without any date or sequence (expected: excluded);
* 2% are screenshots (clutter, expected: excluded), numbered in the phone's sequence as
  iOS does;
* 0.3% of GPS fixes are glitches hundreds of km off; 5% of phone photos miss their fix;
* a travel camera (``DSLR/``) records local time only and no GPS.

Coordinates are real city centres; everything else is generated. Same seed, same library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from dateutil.easter import easter

from curation.events.geo import haversine_km

_MIN = 60.0
_HOUR = 3600.0


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    offset_min: int  # standard UTC offset (summer time is ignored: times are local anyway)
    country_code: str


CITIES: dict[str, City] = {
    c.name: c
    for c in (
        City("Lisbon", 38.7223, -9.1393, 0, "PT"), City("Porto", 41.1496, -8.6110, 0, "PT"),
        City("Coimbra", 40.2033, -8.4103, 0, "PT"), City("Faro", 37.0194, -7.9322, 0, "PT"),
        City("Madrid", 40.4168, -3.7038, 60, "ES"), City("Seville", 37.3891, -5.9845, 60, "ES"),
        City("Cordoba", 37.8882, -4.7794, 60, "ES"), City("Granada", 37.1773, -3.5986, 60, "ES"),
        City("Barcelona", 41.3874, 2.1686, 60, "ES"), City("Valencia", 39.4699, -0.3763, 60, "ES"),
        City("Paris", 48.8566, 2.3522, 60, "FR"), City("Lyon", 45.7640, 4.8357, 60, "FR"),
        City("Marseille", 43.2965, 5.3698, 60, "FR"), City("Nice", 43.7102, 7.2620, 60, "FR"),
        City("Rome", 41.9028, 12.4964, 60, "IT"), City("Florence", 43.7696, 11.2558, 60, "IT"),
        City("Venice", 45.4408, 12.3155, 60, "IT"), City("Berlin", 52.5200, 13.4050, 60, "DE"),
        City("Munich", 48.1351, 11.5820, 60, "DE"), City("Dresden", 51.0504, 13.7373, 60, "DE"),
        City("Hamburg", 53.5511, 9.9937, 60, "DE"), City("London", 51.5074, -0.1278, 0, "GB"),
        City("Edinburgh", 55.9533, -3.1883, 0, "GB"), City("Amsterdam", 52.3676, 4.9041, 60, "NL"),
        City("Prague", 50.0755, 14.4378, 60, "CZ"), City("Vienna", 48.2082, 16.3738, 60, "AT"),
        City("New York", 40.7128, -74.0060, -300, "US"), City("Boston", 42.3601, -71.0589, -300, "US"),
        City("Washington", 38.9072, -77.0369, -300, "US"),
        City("San Francisco", 37.7749, -122.4194, -480, "US"),
        City("Los Angeles", 34.0522, -118.2437, -480, "US"), City("Tokyo", 35.6762, 139.6503, 540, "JP"),
        City("Kyoto", 35.0116, 135.7681, 540, "JP"), City("Osaka", 34.6937, 135.5023, 540, "JP"),
        City("Cape Town", -33.9249, 18.4241, 120, "ZA"), City("Knysna", -34.0356, 23.0488, 120, "ZA"),
        City("Gqeberha", -33.9608, 25.6022, 120, "ZA"), City("Sydney", -33.8688, 151.2093, 600, "AU"),
        City("Canberra", -35.2809, 149.1300, 600, "AU"), City("Melbourne", -37.8136, 144.9631, 600, "AU"),
    )
}

# Trip templates: the cities visited, in order.
TRIP_TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("Seville", "Cordoba", "Granada"), ("Porto",), ("Porto", "Coimbra"), ("Faro",), ("Madrid",),
    ("Barcelona", "Valencia"), ("Paris",), ("Lyon", "Marseille", "Nice"), ("Rome", "Florence", "Venice"),
    ("Rome",), ("Berlin",), ("Munich", "Dresden"), ("Hamburg",), ("London",), ("London", "Edinburgh"),
    ("Amsterdam",), ("Prague", "Vienna"), ("Paris", "Amsterdam", "Berlin", "Prague"),
    ("New York", "Boston", "Washington"), ("San Francisco", "Los Angeles"), ("New York",),
    ("Tokyo", "Kyoto", "Osaka"), ("Cape Town", "Knysna", "Gqeberha"), ("Sydney", "Canberra", "Melbourne"),
    ("Melbourne",),
)
TRIP_MIN_KM = 150.0


@dataclass
class _PlannedEvent:
    key: str
    kind: str
    start: datetime  # local
    spot: tuple[float, float] | None  # None: indoors, no GPS
    offset_min: int
    trip: str | None = None
    holiday: str | None = None
    dslr_share: float = 0.0
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # seconds after start


@dataclass
class LabelledLibrary:
    """A library as ``build_events`` sees it, with the truth.

    ``photos``: photo_id, rel_path, sha256, taken_at, tz_offset_min, time_source,
    time_reliable, lat, lon, is_clutter, clutter_category. ``truth``: photo_id, event (key
    or None), trip (key or None), holiday (expected holiday of its event, or None), kind
    (photo, mtime, download, screenshot, glitch). ``home``: (lat, lon) or None.
    """

    name: str
    description: str
    photos: pd.DataFrame
    truth: pd.DataFrame
    home: tuple[float, float] | None


def _offset(rng: np.random.Generator, lat: float, lon: float, km_min: float, km_max: float) -> tuple[float, float]:
    bearing = rng.uniform(0, 2 * np.pi)
    km = rng.uniform(km_min, km_max)
    return (
        lat + km * np.cos(bearing) / 111.2,
        lon + km * np.sin(bearing) / (111.2 * np.cos(np.radians(lat))),
    )


def _gaps(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """Pauses between consecutive photos of one event, in seconds."""
    if n <= 1:
        return np.zeros(0)
    m = n - 1
    if kind == "burst":
        gaps = rng.lognormal(np.log(15), 1.2, m)
        pause = rng.random(m) < 0.1
        gaps[pause] = rng.uniform(3, 10, pause.sum()) * _MIN
    elif kind == "sparse":
        gaps = rng.uniform(20, 70, m) * _MIN
    elif kind == "party":
        gaps = rng.lognormal(np.log(4 * _MIN), 0.8, m)
        pause = rng.random(m) < 0.15
        gaps[pause] = rng.uniform(15, 45, pause.sum()) * _MIN
        gaps = np.minimum(gaps, 45 * _MIN)
    else:  # outing
        u = rng.random(m)
        gaps = np.where(
            u < 0.75,
            rng.lognormal(np.log(60), 1.0, m),
            np.where(u < 0.95, rng.lognormal(np.log(8 * _MIN), 0.5, m), rng.uniform(15, 40, m) * _MIN),
        )
        gaps = np.minimum(gaps, 40 * _MIN)
    return np.maximum(gaps, 0.3)


def _size(rng: np.random.Generator, kind: str, scale: float) -> int:
    if kind == "single":
        return 1
    if kind == "sparse":
        return int(rng.integers(3, 7))
    if kind == "burst":
        return max(5, int(round(rng.uniform(15, 60) * scale)))
    if kind == "party":
        return max(6, int(round(rng.uniform(10, 30) * scale)))
    return max(2, int(round(rng.lognormal(np.log(8), 0.7) * scale)))


class _Planner:
    def __init__(self, rng: np.random.Generator, home: City, scale: float, min_pause_h: float,
                 relative_pause: float) -> None:
        self.rng = rng
        self.home = home
        self.scale = scale
        self.min_pause_h = min_pause_h
        self.relative_pause = relative_pause
        self.events: list[_PlannedEvent] = []

    def add(self, kind: str, start: datetime, spot: tuple[float, float] | None, *, offset: int,
            trip: str | None = None, holiday: str | None = None, dslr: float = 0.0,
            n: int | None = None, max_hours: float = 5.0) -> datetime:
        """Plans one event; returns the earliest start of a following event that day."""
        n = n or _size(self.rng, kind, self.scale)
        gaps = _gaps(self.rng, kind, n)
        times = np.r_[0.0, np.cumsum(gaps)]
        times = times[times <= max_hours * _HOUR]
        key = f"{trip or 'home'}-{len(self.events):05d}"
        self.events.append(_PlannedEvent(key, kind, start, spot, offset, trip, holiday, dslr, times))
        longest = float(gaps.max()) if gaps.size else 0.0
        end = start + timedelta(seconds=float(times[-1]))
        # The convention: the next event of the day comes after a clear pause.
        return end + timedelta(seconds=max(self.min_pause_h * _HOUR, self.relative_pause * longest))

    def home_spot(self) -> tuple[float, float]:
        return _offset(self.rng, self.home.lat, self.home.lon, 0.0, 6.0)


def _plan(rng: np.random.Generator, home: City, start: date, years: int, scale: float,
          trips_per_year: int, min_pause_h: float, relative_pause: float) -> list[_PlannedEvent]:
    planner = _Planner(rng, home, scale, min_pause_h, relative_pause)
    end = date(start.year + years, start.month, start.day)
    templates = [
        t for t in TRIP_TEMPLATES
        if all(haversine_km(home.lat, home.lon, CITIES[c].lat, CITIES[c].lon) >= TRIP_MIN_KM for c in t)
    ]
    # Trips: spread over each year, never over Christmas or New Year.
    trip_days: dict[date, tuple[str, City, int]] = {}
    for year in range(start.year, end.year + 1):
        slots = np.sort(rng.choice(np.arange(10, 330), size=trips_per_year, replace=False))
        for k, slot in enumerate(slots):
            first = date(year, 1, 1) + timedelta(days=int(slot))
            if not start <= first < end or any(first + timedelta(days=d) in trip_days for d in range(-3, 16)):
                continue
            template = templates[int(rng.integers(len(templates)))]
            nights = int(rng.integers(0, 3)) if len(template) == 1 and rng.random() < 0.2 else int(rng.integers(2, 12))
            nights = max(nights, len(template) - 1)
            trip_key = f"trip{year}-{k}"
            cut = np.sort(rng.choice(np.arange(1, nights + 1), size=len(template) - 1, replace=False)) if len(template) > 1 else []
            city_of_day = np.searchsorted(np.asarray(cut), np.arange(nights + 1), side="right")
            for d in range(nights + 1):
                trip_days[first + timedelta(days=d)] = (trip_key, CITIES[template[city_of_day[d]]], d)

    sparse_weeks = {date(y, 1, 1) + timedelta(days=int(rng.integers(20, 300))) for y in range(start.year, end.year + 1)}
    day = start
    sparse_left = 0
    while day < end:
        on_trip = trip_days.get(day)
        if on_trip:
            trip_key, city, d = on_trip
            n_events = int(rng.integers(1, 4))
            t = datetime.combine(day, datetime.min.time()) + timedelta(hours=float(rng.uniform(8.5, 11)))
            for _ in range(n_events):
                if t.hour >= 21 or t.date() != day:
                    break
                spot = _offset(rng, city.lat, city.lon, 0.0, 4.0) if rng.random() > 0.15 else None
                kind = str(rng.choice(["outing", "outing", "burst", "sparse", "single"], p=[0.45, 0.2, 0.15, 0.1, 0.1]))
                dslr = 0.3 if rng.random() < 0.3 else 0.0
                t = planner.add(kind, t, spot, offset=city.offset_min, trip=trip_key, dslr=dslr)
                t += timedelta(minutes=float(rng.uniform(0, 90)))
            day += timedelta(days=1)
            continue
        base = datetime.combine(day, datetime.min.time())
        if day in sparse_weeks:
            sparse_left = 7
        if sparse_left:
            sparse_left -= 1
            planner.add("single", base + timedelta(hours=float(rng.uniform(9, 21))), planner.home_spot(),
                        offset=home.offset_min)
        elif (day.month, day.day) == (12, 24):
            planner.add("outing", base + timedelta(hours=float(rng.uniform(18.5, 20))), None,
                        offset=home.offset_min, holiday="Christmas", max_hours=4.5)
        elif (day.month, day.day) == (12, 31):
            planner.add("party", base + timedelta(hours=float(rng.uniform(21, 22.5))), planner.home_spot(),
                        offset=home.offset_min, holiday="New Year's Eve", max_hours=6.0)
        elif day == easter(day.year):
            planner.add("outing", base + timedelta(hours=float(rng.uniform(12, 13.5))), planner.home_spot(),
                        offset=home.offset_min, holiday="Easter", max_hours=4.0)
        else:
            u = rng.random()
            weekend = day.weekday() >= 5
            p_event = 0.45 if weekend else 0.18
            if u < p_event:
                t = base + timedelta(hours=float(rng.uniform(8, 17 if weekend else 18)))
                n_events = 2 if rng.random() < 0.15 else 1
                for _ in range(n_events):
                    if t.date() != day or t.hour >= 22:
                        break
                    r = rng.random()
                    if r < 0.08:
                        kind, spot = "outing", _offset(rng, home.lat, home.lon, 15.0, 40.0)  # day out
                    elif r < 0.3:
                        kind, spot = str(rng.choice(["outing", "single"])), None  # indoors
                    elif r < 0.4 and day.weekday() == 5 and t.hour >= 17:
                        kind, spot = "party", planner.home_spot()
                    else:
                        kind = str(rng.choice(["outing", "burst", "sparse", "single"], p=[0.55, 0.12, 0.13, 0.2]))
                        spot = planner.home_spot()
                    t = planner.add(kind, t, spot, offset=home.offset_min, max_hours=7.0 if kind == "party" else 5.0)
                    t += timedelta(minutes=float(rng.uniform(0, 120)))
        day += timedelta(days=1)
    return planner.events


def generate_library(
    seed: int = 0,
    *,
    home: str = "Lisbon",
    start: date = date(2021, 1, 1),
    years: int = 3,
    scale: float = 1.0,
    trips_per_year: int = 3,
    max_photos: int | None = None,
    min_pause_h: float = 2.0,
    relative_pause: float = 3.0,
) -> LabelledLibrary:
    """A labelled library (see the module doc). ``scale`` multiplies photos per event;
    ``max_photos`` keeps the first photos in time. Events of the same day are at least
    ``min_pause_h`` and ``relative_pause`` times their longest inner pause apart; lower
    both for a harder library (``min_pause_h=1, relative_pause=0``: events one hour apart
    that a person might well call one)."""
    if home not in CITIES:
        raise ValueError(f"Unknown home {home!r}. Choose one of: {', '.join(CITIES)}.")
    rng = np.random.default_rng(seed)
    home_city = CITIES[home]
    plan = _plan(rng, home_city, start, years, scale, trips_per_year, min_pause_h, relative_pause)

    cols: dict[str, list] = {k: [] for k in ("start", "times", "dslr", "lat", "lon", "offset", "event")}
    for e, ev in enumerate(plan):
        n = ev.times.size
        dslr = rng.random(n) < ev.dslr_share
        lat = np.full(n, np.nan)
        lon = np.full(n, np.nan)
        if ev.spot:
            walk = np.cumsum(rng.normal(0, 0.08, (n, 2)), axis=0)  # km: people wander
            fix = ~dslr & (rng.random(n) > 0.05)
            lat[fix] = ev.spot[0] + walk[fix, 0] / 111.2 + rng.normal(0, 0.0005, fix.sum())
            lon[fix] = (ev.spot[1] + walk[fix, 1] / (111.2 * np.cos(np.radians(ev.spot[0])))
                        + rng.normal(0, 0.0005, fix.sum()))
        for key, value in (("start", np.full(n, np.datetime64(ev.start, "us"))), ("times", ev.times), ("dslr", dslr),
                           ("lat", lat), ("lon", lon), ("offset", np.full(n, float(ev.offset_min))),
                           ("event", np.full(n, e))):
            cols[key].append(value)
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    which = flat["event"]
    photos = pd.DataFrame({
        "taken_at": flat["start"] + (flat["times"] * 1e6).astype("timedelta64[us]"),
        "camera": np.where(flat["dslr"], "dslr", "phone").astype(object),
        "lat": flat["lat"], "lon": flat["lon"], "tz_offset_min": flat["offset"],
        "event": np.array([ev.key for ev in plan], dtype=object)[which],
        "trip": np.array([ev.trip for ev in plan], dtype=object)[which],
        "holiday": np.array([ev.holiday for ev in plan], dtype=object)[which],
        "kind": np.full(len(which), "photo", dtype=object),
    })

    # Screenshots at random waking times, on the phone's counter.
    n_clutter = int(0.02 * len(photos))
    span = (photos["taken_at"].max() - photos["taken_at"].min()).total_seconds()
    shot_times = photos["taken_at"].min() + pd.to_timedelta(np.sort(rng.uniform(0, span, n_clutter)), unit="s")
    shots = pd.DataFrame({"taken_at": shot_times, "camera": "phone", "lat": None, "lon": None,
                          "tz_offset_min": home_city.offset_min, "event": None, "trip": None, "holiday": None,
                          "kind": "screenshot"})
    photos = pd.concat([photos, shots], ignore_index=True)
    photos = photos.sort_values("taken_at", kind="mergesort").reset_index(drop=True)
    n_down = max(1, int(0.005 * (max_photos or len(photos))))
    if max_photos is not None:
        photos = photos.iloc[: max_photos - n_down].reset_index(drop=True)

    # File names: one counter per camera, in shooting order.
    names = np.empty(len(photos), dtype=object)
    kind = photos["kind"].to_numpy()
    shot_years = photos["taken_at"].dt.year.to_numpy()
    phone = np.flatnonzero(photos["camera"].to_numpy() == "phone")
    names[phone] = [
        f"DCIM/{100 + c // 1000}APPLE/IMG_{c % 10000:04d}.{'PNG' if kind[pos] == 'screenshot' else 'JPG'}"
        for c, pos in enumerate(phone)
    ]
    dslr = np.flatnonzero(photos["camera"].to_numpy() == "dslr")
    names[dslr] = [f"DSLR/{shot_years[pos]}/DSCF{c % 10000:04d}.JPG" for c, pos in enumerate(dslr)]
    photos["rel_path"] = names
    photos["time_source"] = np.where(photos["kind"] == "screenshot", "filename", "exif")
    photos["lat"] = photos["lat"].astype(float)
    photos["lon"] = photos["lon"].astype(float)
    photos.loc[photos["camera"] == "dslr", "tz_offset_min"] = np.nan

    real = np.flatnonzero((photos["kind"] == "photo").to_numpy())
    # GPS glitches.
    has_gps = real[np.isfinite(photos["lat"].to_numpy()[real])]
    glitch = rng.choice(has_gps, size=int(0.003 * has_gps.size), replace=False) if has_gps.size else []
    for pos in glitch:
        photos.at[pos, "lat"], photos.at[pos, "lon"] = _offset(rng, photos.at[pos, "lat"], photos.at[pos, "lon"],
                                                               200, 800)
        photos.at[pos, "kind"] = "glitch"
    # mtime-only photos, file numbers intact.
    mtime = rng.choice(real, size=int(0.02 * real.size), replace=False)
    photos.loc[mtime, "time_source"] = "mtime"
    photos.loc[mtime, "kind"] = "mtime"
    copy_day = photos["taken_at"].max() + timedelta(days=30)
    photos.loc[mtime, "taken_at"] = copy_day + pd.to_timedelta(rng.uniform(0, 3600, mtime.size), unit="s")
    # Downloads: no date, no sequence, no event.
    downloads = pd.DataFrame({
        "taken_at": pd.NaT, "camera": "none", "lat": np.nan, "lon": np.nan, "tz_offset_min": np.nan,
        "event": None, "trip": None, "holiday": None, "kind": "download",
        "rel_path": [f"Downloads/image-{rng.integers(1e9):x}-{k}.jpg" for k in range(n_down)], "time_source": "none",
    })
    photos = pd.concat([photos, downloads], ignore_index=True)

    n = len(photos)
    photos["photo_id"] = rng.permutation(np.arange(1, n + 1))
    hex_pairs = np.array([f"{b:02x}" for b in range(256)])
    photos["sha256"] = np.ascontiguousarray(hex_pairs[rng.integers(0, 256, (n, 32))]).view("<U64").ravel()
    photos["time_reliable"] = photos["time_source"].isin(["exif", "xmp", "filename"])
    photos["is_clutter"] = photos["kind"] == "screenshot"
    photos["clutter_category"] = np.where(photos["is_clutter"], "screenshot", None)
    photos["taken_at"] = pd.to_datetime(photos["taken_at"]).astype("datetime64[us]")

    # Trips that do not count as trips (no night, not far) are not trips in the truth either.
    trip_ok = {}
    for key, group in photos.dropna(subset=["trip"]).groupby("trip"):
        days = group.loc[group["time_reliable"], "taken_at"].dt.normalize()
        nights = (days.max() - days.min()).days if len(days) else 0
        far = haversine_km(home_city.lat, home_city.lon, group["lat"], group["lon"])
        trip_ok[key] = nights >= 1 or np.nanmax(far, initial=0) >= TRIP_MIN_KM
    photos["trip"] = [t if t is not None and trip_ok.get(t) else None for t in photos["trip"]]

    columns = ["photo_id", "rel_path", "sha256", "taken_at", "tz_offset_min", "time_source", "time_reliable",
               "lat", "lon", "is_clutter", "clutter_category"]
    truth = photos[["photo_id", "event", "trip", "holiday", "kind"]].reset_index(drop=True)
    order = rng.permutation(n)  # rows in no particular order, as a database returns them
    return LabelledLibrary(
        name=f"synthetic {home} seed {seed}" + ("" if (min_pause_h, relative_pause) == (2.0, 3.0) else " (hard)"),
        description=(
            f"generated: {years} years from {start:%Y-%m}, home {home}, {trips_per_year} trips a year, "
            f"{scale:g}x photos per event, same-day events >= {min_pause_h:g} h"
            + (f" and {relative_pause:g}x their longest pause" if relative_pause else "")
            + " apart; real city coordinates, everything else generated"
        ),
        photos=photos[columns].iloc[order].reset_index(drop=True),
        truth=truth.iloc[order].reset_index(drop=True),
        home=(home_city.lat, home_city.lon),
    )

"""``build_events``: photos in, events / trips / home / exclusions out. Pure: no store.

Order of work, each step in its own module:

1. leave out clutter (``is_clutter``), with the reason "clutter: <category>";
2. segment the photos that have a reliable capture time (segment.py);
3. place the others by file-name sequence or GPS, or exclude them with a reason
   (placement.py);
4. infer the home (home.py), name places (places.py), let events without GPS take the
   place of the events around them, find trips (home.py);
5. season, year and holiday (calendar.py); stable ids.

Event ids are ``e<YYYYMMDD-HHMM of the first photo>-<6 hex of sha1(its sha256)>`` (of its
path and id when it has no hash); trip ids ``t<YYYYMMDD>-<6 hex of sha1(the first event's
id)>``. Both depend only on the photos, so the same library and settings give the same
ids on every run and machine; the hash of the content, not of the path, keeps an event's
id when its files are renamed or moved.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from curation.events.calendar import HolidayCalendar, seasons
from curation.events.geo import haversine_km, valid_position
from curation.events.home import AT_HOME, AWAY, UNKNOWN, HomeFinder, find_trips
from curation.events.placement import place_by_neighbours
from curation.events.places import GeoNamesPlaces, dominant_place, name_places
from curation.events.records import (
    BOUNDARY_COLUMNS,
    EVENT_COLUMNS,
    EXCLUSION_COLUMNS,
    PHOTO_EVENT_COLUMNS,
    TRIP_COLUMNS,
    EventsError,
    BoundaryAnswer,
    EventsResult,
    ExclusionCode,
    Home,
    HomeMethod,
    Place,
    PlacedBy,
    PlaceSource,
)
from curation.events.segment import (
    BOUNDARY_DOUBT,
    RULE_NAMES,
    BoundaryKind,
    EventSegmenter,
    activity_day,
    local_seconds,
)
from curation.events.settings import EventSettings
from curation.records import TimeSource

_RELIABLE_SOURCES = (TimeSource.EXIF.value, TimeSource.XMP.value, TimeSource.FILENAME.value)
_WIDE_EVENT_ROUND_DEG = 2  # photos of a wide event are named per 0.01 degree cell (~1 km)
_MAX_HOLIDAY_DAYS = 14


def prepare_photos(photos: pd.DataFrame) -> pd.DataFrame:
    """Check the input frame and fill optional columns with their defaults."""
    if not isinstance(photos, pd.DataFrame):
        raise EventsError(f"photos must be a pandas DataFrame, not {type(photos).__name__}.")
    missing = [c for c in ("photo_id", "taken_at", "lat", "lon") if c not in photos.columns]
    if missing:
        raise EventsError(
            f"photos lacks the column(s) {', '.join(missing)}. Needed: photo_id, taken_at (local, naive), "
            "lat, lon; optional: rel_path, sha256, time_source, time_reliable, is_clutter, clutter_category."
        )
    if photos["photo_id"].duplicated().any():
        dup = photos.loc[photos["photo_id"].duplicated(), "photo_id"].iloc[0]
        raise EventsError(f"photo_id {dup} appears more than once; pass one row per photo.")
    frame = pd.DataFrame(
        {
            "photo_id": photos["photo_id"].astype(np.int64).to_numpy(),
            "taken_at": pd.to_datetime(photos["taken_at"]).to_numpy(),
            "lat": pd.to_numeric(photos["lat"]).astype(float).to_numpy(),
            "lon": pd.to_numeric(photos["lon"]).astype(float).to_numpy(),
        }
    )
    n = len(frame)
    frame["rel_path"] = photos["rel_path"].to_numpy() if "rel_path" in photos else ""
    frame["sha256"] = photos["sha256"].to_numpy() if "sha256" in photos else None
    if "time_source" in photos:
        frame["time_source"] = photos["time_source"].astype(object).to_numpy()
    else:
        frame["time_source"] = np.where(frame["taken_at"].notna(), TimeSource.EXIF.value, TimeSource.NONE.value)
    if "time_reliable" in photos:
        frame["time_reliable"] = photos["time_reliable"].astype("boolean").fillna(False).astype(bool).to_numpy()
    else:
        frame["time_reliable"] = frame["time_source"].isin(_RELIABLE_SOURCES).to_numpy()
    if "is_clutter" in photos:
        frame["is_clutter"] = photos["is_clutter"].astype("boolean").fillna(False).astype(bool).to_numpy()
    else:
        frame["is_clutter"] = False
    frame["tz_offset_min"] = (
        pd.to_numeric(photos["tz_offset_min"], errors="coerce").astype(float).to_numpy()
        if "tz_offset_min" in photos
        else np.nan
    )
    frame["clutter_category"] = (
        photos["clutter_category"].astype(object).to_numpy() if "clutter_category" in photos else [None] * n
    )
    bad = ~valid_position(frame["lat"], frame["lon"])
    frame.loc[bad, ["lat", "lon"]] = np.nan
    return frame


def validate_settings(s: EventSettings) -> None:
    """The rules the estimators do not check themselves (they check theirs at fit)."""
    if s.seq_max_gap < 0 or s.seq_edge_gap < 0 or s.seq_edge_gap > s.seq_max_gap:
        raise EventsError(
            f"Need 0 <= seq_edge_gap <= seq_max_gap (got seq_edge_gap={s.seq_edge_gap}, "
            f"seq_max_gap={s.seq_max_gap}). Try 2 and 20; 0 and 0 turn file-number placement off."
        )
    if s.gps_margin_km < 0:
        raise EventsError(f"gps_margin_km must be >= 0 (got {s.gps_margin_km}). Try 0.5.")
    if not s.away_km > 0:
        raise EventsError(f"away_km must be > 0 (got {s.away_km}). Try 50: a day at the beach is not a trip.")
    if s.inherit_days < 0:
        raise EventsError(f"inherit_days must be >= 0 (got {s.inherit_days}). Try 3; 0 turns inheriting off.")
    if not 0.5 < s.dominant_share <= 1:
        raise EventsError(f"dominant_share must be in (0.5, 1] (got {s.dominant_share}). Try 0.75.")
    if not s.wide_event_km > 0:
        raise EventsError(f"wide_event_km must be > 0 (got {s.wide_event_km}). Try 10.")


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]


def _unique_ids(ids: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}-{seen[i]}")
    return out


def build_events(
    photos: pd.DataFrame,
    settings: EventSettings | None = None,
    *,
    places: GeoNamesPlaces | None = None,
    calendar: HolidayCalendar | None = None,
    answers: Iterable[BoundaryAnswer] = (),
) -> EventsResult:
    """Events, trips, home and exclusions of one library's photos (see the module doc).
    ``answers``: people's "same event?" answers, honoured as constraints by the segmenter."""
    s = settings or EventSettings()
    validate_settings(s)
    places = places or GeoNamesPlaces(snap_km=s.city_snap_km)
    calendar = calendar or HolidayCalendar()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    frame = prepare_photos(photos)
    exclusions: list[pd.DataFrame] = []
    clutter = frame["is_clutter"].to_numpy()
    if clutter.any():
        category = frame.loc[clutter, "clutter_category"].fillna("flagged").astype(str)
        exclusions.append(
            pd.DataFrame(
                {"photo_id": frame.loc[clutter, "photo_id"].to_numpy(), "code": ExclusionCode.CLUTTER.value,
                 "reason": ("clutter: " + category).to_numpy()}
            )
        )
    timed_mask = ~clutter & frame["taken_at"].notna().to_numpy() & frame["time_reliable"].to_numpy()
    timed = frame[timed_mask].reset_index(drop=True)
    lap("prepare")

    # ---- 2. segmentation, in time order
    segmenter = EventSegmenter.from_settings(s).fit(timed, answers=answers)
    order = segmenter.order_
    timed = timed.iloc[order].reset_index(drop=True)
    boundaries = _boundaries(segmenter, timed, s)
    label = segmenter.labels_[order]
    outlier = segmenter.gps_outlier_[order]
    seconds = local_seconds(timed["taken_at"])
    day = activity_day(seconds, s.day_start_hour)
    n_events = segmenter.n_events_
    first = np.flatnonzero(np.r_[True, np.diff(label) != 0]) if len(label) else np.zeros(0, np.int64)
    last = np.r_[first[1:] - 1, len(label) - 1] if len(label) else np.zeros(0, np.int64)
    lap("segment")

    ev = pd.DataFrame(
        {
            "start_s": seconds[first],
            "end_s": seconds[last],
            "first_day": day[first],
            "last_day": day[last],
            "n_timed": last - first + 1,
        }
    )
    ev["start_at"] = timed["taken_at"].to_numpy()[first]
    ev["end_at"] = timed["taken_at"].to_numpy()[last]
    keys = [
        sha if isinstance(sha, str) and sha else f"{path}|{pid}"
        for sha, path, pid in zip(
            timed["sha256"].to_numpy()[first], timed["rel_path"].to_numpy()[first],
            timed["photo_id"].to_numpy()[first], strict=True,
        )
    ]
    ev["event_id"] = _unique_ids(
        [f"e{pd.Timestamp(t):%Y%m%d-%H%M}-{_short_hash(k)}" for t, k in zip(ev["start_at"], keys, strict=True)]
    )

    geo = valid_position(timed["lat"], timed["lon"]) & ~outlier
    g = pd.DataFrame({"label": label[geo], "lat": timed["lat"].to_numpy()[geo], "lon": timed["lon"].to_numpy()[geo]})
    centroid = g.groupby("label")[["lat", "lon"]].median()  # median: a stray fix does not drag it
    ev["lat"] = centroid["lat"].reindex(range(n_events)).to_numpy()
    ev["lon"] = centroid["lon"].reindex(range(n_events)).to_numpy()
    g["d"] = haversine_km(g["lat"], g["lon"], ev["lat"].to_numpy()[g["label"]], ev["lon"].to_numpy()[g["label"]])
    ev["radius_km"] = g.groupby("label")["d"].max().reindex(range(n_events)).fillna(0.0).to_numpy()
    ev["n_geo"] = g.groupby("label").size().reindex(range(n_events)).fillna(0).astype(np.int64).to_numpy()
    # The event's UTC offset: the one most of its photos state.
    offsets = pd.DataFrame({"label": label, "tz": timed["tz_offset_min"].to_numpy()}).dropna()
    counts = offsets.groupby(["label", "tz"]).size().reset_index(name="n")
    counts = counts.sort_values(["label", "n", "tz"], ascending=[True, False, True], kind="mergesort")
    mode = counts.drop_duplicates("label").set_index("label")["tz"]
    ev["tz_offset_min"] = mode.reindex(range(n_events)).to_numpy(dtype=float)
    lap("aggregate")

    # ---- 3. photos without a reliable time
    untimed = frame[~clutter & ~timed_mask]
    areas = ev[["lat", "lon", "radius_km"]].copy()
    areas["label"] = [f"{pd.Timestamp(t):%Y-%m-%d %H:%M}" for t in ev["start_at"]]
    placed = place_by_neighbours(
        untimed, timed[["rel_path"]].assign(event=label), areas,
        seq_max_gap=s.seq_max_gap, seq_edge_gap=s.seq_edge_gap, gps_margin_km=s.gps_margin_km,
    )
    ok = placed["event"].to_numpy() >= 0
    not_placed = placed[~ok]
    if len(not_placed):
        exclusions.append(
            pd.DataFrame({"photo_id": untimed.loc[not_placed.index, "photo_id"].to_numpy(),
                          "code": not_placed["code"].to_numpy(), "reason": not_placed["reason"].to_numpy()})
        )
    photo_label = np.r_[label, placed["event"].to_numpy()[ok]]
    photo_events = pd.DataFrame(
        {
            "photo_id": np.r_[timed["photo_id"].to_numpy(), untimed["photo_id"].to_numpy()[ok]],
            "event_id": ev["event_id"].to_numpy()[photo_label] if n_events else np.array([], dtype=object),
            "placed_by": [PlacedBy.TIME.value] * len(label) + [PlacedBy.NEIGHBOURS.value] * int(ok.sum()),
        }
    )
    ev["n_photos"] = np.bincount(photo_label, minlength=n_events) if n_events else np.zeros(0, np.int64)
    lap("placement")

    # ---- 4. home, places, trips
    home_finder = HomeFinder(radius_km=s.home_radius_km, min_days=s.home_min_days).fit(
        timed["lat"].to_numpy()[geo], timed["lon"].to_numpy()[geo], day[geo]
    )
    lap("home")
    home, event_places = _name_places(ev, timed, label, geo, home_finder, places, s)
    lap("places")
    _inherit_places(ev, event_places, s)
    if home.known:
        ev["home_distance_km"] = haversine_km(home.lat, home.lon, ev["lat"], ev["lon"])
        any_dist = haversine_km(home.lat, home.lon, ev["any_lat"], ev["any_lon"])
        state = np.where(np.isnan(any_dist), UNKNOWN, np.where(any_dist > s.away_km, AWAY, AT_HOME))
    else:
        ev["home_distance_km"] = np.nan
        any_dist = np.full(n_events, np.nan)
        state = np.full(n_events, UNKNOWN)
    trip_no = find_trips(
        ev.assign(state=state, distance_km=any_dist),
        max_gap_days=s.trip_max_gap_days, day_trip_km=s.day_trip_km, min_photos=s.trip_min_photos,
    )
    trips = _trips_frame(ev, trip_no, any_dist, event_places, s.dominant_share)
    trip_ids = np.r_[trips["trip_id"].to_numpy(dtype=object), None]
    ev["trip_id"] = trip_ids[np.where(trip_no >= 0, trip_no, len(trip_ids) - 1)]
    lap("trips")

    # ---- 5. calendar
    ev["local_date"] = pd.to_datetime(ev["start_at"]).dt.date
    ev["n_days"] = (ev["last_day"] - ev["first_day"] + 1).astype(np.int64)
    ev["year"] = pd.to_datetime(ev["start_at"]).dt.year.astype(np.int64)
    season_lat = ev["any_lat"].fillna(home.lat if home.known else np.nan).to_numpy()
    ev["season"] = seasons(pd.to_datetime(ev["start_at"]).dt.month.to_numpy(), season_lat)
    first_dates = pd.to_datetime(ev["start_at"]).dt.normalize().to_numpy().astype("datetime64[D]")
    last_dates = pd.to_datetime(ev["end_at"]).dt.normalize().to_numpy().astype("datetime64[D]")
    ev["holiday"] = [
        calendar.holiday(cc if isinstance(cc, str) else home.country_code, _days(a, b))
        for cc, a, b in zip(ev["country_code"].to_numpy(dtype=object), first_dates, last_dates, strict=True)
    ]
    lap("calendar")

    events = ev[list(EVENT_COLUMNS)].reset_index(drop=True)
    exclusions_frame = (
        pd.concat(exclusions, ignore_index=True) if exclusions else pd.DataFrame(columns=list(EXCLUSION_COLUMNS))
    )
    exclusions_frame = exclusions_frame.sort_values("photo_id", kind="mergesort").reset_index(drop=True)
    return EventsResult(
        events=events,
        trips=trips[list(TRIP_COLUMNS)],
        photo_events=photo_events[list(PHOTO_EVENT_COLUMNS)].sort_values("photo_id").reset_index(drop=True),
        exclusions=exclusions_frame[list(EXCLUSION_COLUMNS)],
        home=home,
        timings=timings,
        boundaries=boundaries,
        answers=dict(segmenter.answers_),
    )


def _duration(seconds: float) -> str:
    minutes = int(round(float(seconds) / 60))
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def _boundaries(segmenter: EventSegmenter, timed: pd.DataFrame, s: EventSettings) -> pd.DataFrame:
    """The doubtful gaps (margin within BOUNDARY_DOUBT of the cut-off) and those people decided,
    with a sentence saying why each is a close call. ``timed`` is in time order."""
    keep = np.flatnonzero((np.abs(segmenter.margins_) < BOUNDARY_DOUBT) | segmenter.labelled_)
    if keep.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BOUNDARY_COLUMNS})
    ids = timed["photo_id"].to_numpy(dtype=np.int64)
    times = pd.to_datetime(timed["taken_at"]).to_numpy()
    reasons = []
    for g in keep:
        gap, rule = segmenter.gaps_[g], int(segmenter.rules_[g])
        a, b = pd.Timestamp(times[g]), pd.Timestamp(times[g + 1])
        when = f"{a:%d %b %Y %H:%M} and {b:%H:%M}" if a.date() == b.date() else f"{a:%d %b %Y %H:%M} and {b:%d %b %H:%M}"
        if rule == BoundaryKind.PLACE:
            why = (
                f"{segmenter.distance_km_[g]:.1f} km apart with {_duration(gap)} between them; a move of "
                f"{s.jump_km:g} km, or {s.move_km:g} km at {s.transit_kmh:g} km/h, ends an event"
            )
        elif rule == BoundaryKind.NIGHT:
            why = (
                f"{_duration(gap)} between them across the {int(s.day_start_hour):02d}:00 day boundary; a pause "
                f"over {_duration(s.night_gap_h * 3600)} there ends an event"
            )
        else:
            why = f"{_duration(gap)} between them; a pause over {_duration(segmenter.thresholds_[g])} ends an event here"
        split = segmenter.boundaries_[g] != BoundaryKind.NONE
        decided = "a person's answer" if segmenter.labelled_[g] else "the segmenter"
        reasons.append(f"photos at {when}: {why}; {decided} {'split them' if split else 'kept them together'}")
    return pd.DataFrame(
        {
            "photo_before": ids[keep],
            "photo_after": ids[keep + 1],
            "gap_s": segmenter.gaps_[keep],
            "rule": [RULE_NAMES[int(r)] for r in segmenter.rules_[keep]],
            "margin": segmenter.margins_[keep],
            "split": segmenter.boundaries_[keep] != BoundaryKind.NONE,
            "labelled": segmenter.labelled_[keep],
            "reason": reasons,
            "model_version": segmenter.version,
        }
    )[list(BOUNDARY_COLUMNS)]


def _days(first: np.datetime64, last: np.datetime64) -> list[date]:
    n = min(int((last - first).astype(np.int64)), _MAX_HOLIDAY_DAYS)
    start = first.astype(date)
    return [start + timedelta(days=k) for k in range(n + 1)]


def _name_places(
    ev: pd.DataFrame,
    timed: pd.DataFrame,
    label: np.ndarray,
    geo: np.ndarray,
    finder: HomeFinder,
    places: GeoNamesPlaces,
    s: EventSettings,
) -> tuple[Home, list[Place | None]]:
    """Fills city/region/country/country_code/place_name/place_source of geotagged events;
    returns the home and each event's dominant place."""
    n = len(ev)
    has_geo = np.isfinite(ev["lat"].to_numpy())
    wide = has_geo & (ev["radius_km"].to_numpy() > s.wide_event_km)

    # One batch: event centroids, the home, and the ~1 km cells of wide events' photos.
    q_lat = [ev["lat"].to_numpy()[has_geo]]
    q_lon = [ev["lon"].to_numpy()[has_geo]]
    home_known = finder.lat_ is not None
    if home_known:
        q_lat.append(np.array([finder.lat_]))
        q_lon.append(np.array([finder.lon_]))
    cells = pd.DataFrame()
    if wide.any():
        in_wide = geo & wide[label]
        cells = (
            pd.DataFrame(
                {"label": label[in_wide], "lat": timed["lat"].to_numpy()[in_wide].round(_WIDE_EVENT_ROUND_DEG),
                 "lon": timed["lon"].to_numpy()[in_wide].round(_WIDE_EVENT_ROUND_DEG)}
            )
            .groupby(["label", "lat", "lon"], sort=True)
            .size()
            .rename("n")
            .reset_index()
        )
        q_lat.append(cells["lat"].to_numpy())
        q_lon.append(cells["lon"].to_numpy())
    found = places.lookup(np.concatenate(q_lat), np.concatenate(q_lon))
    n_geo = int(has_geo.sum())
    event_places: list[Place | None] = [None] * n
    for pos, p in zip(np.flatnonzero(has_geo), found[:n_geo], strict=True):
        event_places[pos] = p
    names: list[str | None] = [p.city if p else None for p in event_places]
    home_place = found[n_geo] if home_known else None
    if len(cells):
        cell_places = found[n_geo + int(home_known):]
        cells["place"] = cell_places
        for lab, group in cells.groupby("label", sort=True):
            # Visiting order is not known per cell; weight by photos instead.
            group_places = list(group["place"])
            event_places[lab] = dominant_place(group_places, list(group["n"]))
            names[lab] = name_places(group_places, list(group["n"]), dominant_share=s.dominant_share)

    ev["city"] = [p.city if p else None for p in event_places]
    ev["region"] = [(p.region or None) if p else None for p in event_places]
    ev["country"] = [p.country if p else None for p in event_places]
    ev["country_code"] = [p.country_code if p else None for p in event_places]
    ev["place_name"] = names
    ev["place_source"] = np.where(has_geo, PlaceSource.GPS.value, PlaceSource.NONE.value)
    ev["any_lat"] = ev["lat"]
    ev["any_lon"] = ev["lon"]

    if home_known:
        home = Home(
            lat=finder.lat_, lon=finder.lon_, place_name=home_place.city if home_place else None,
            country_code=home_place.country_code if home_place else None, confidence=finder.confidence_,
            method=HomeMethod.GPS_DAYS, n_days=finder.n_days_, radius_km=finder.radius_km,
        )
    else:
        home = Home(lat=None, lon=None, place_name=None, country_code=None, confidence=0.0,
                    method=HomeMethod.NONE, n_days=finder.n_days_, radius_km=finder.radius_km)
    return home, event_places


def _inherit_places(ev: pd.DataFrame, event_places: list[Place | None], s: EventSettings) -> None:
    """An event without GPS takes the place of a geotagged event next to it in time:

    * when the events just before and after are both within ``inherit_days`` and agree
      (closer than ``jump_km``), the nearer one's: the museum day in the middle of a
      week in Paris is in Paris; when they disagree (a road trip moving on), the one of
      the same day, if only one is;
    * otherwise, when its photos state a UTC offset equal to one neighbour's (within
      ``inherit_days``) and different from the other's: the last evening of a trip to
      New York, indoors, is still in New York, while an evening back home is not.

    Its own lat/lon stay empty; ``place_source`` says "neighbours"."""
    has_geo = np.isfinite(ev["lat"].to_numpy())
    if has_geo.all() or not has_geo.any():
        return
    geo_idx = np.flatnonzero(has_geo)
    start, end = ev["start_s"].to_numpy(), ev["end_s"].to_numpy()
    lat, lon = ev["lat"].to_numpy(), ev["lon"].to_numpy()
    tz = ev["tz_offset_min"].to_numpy(dtype=float)
    day = ev["first_day"].to_numpy()
    limit = s.inherit_days * 86400
    sources: dict[int, int] = {}  # event -> the event whose place it takes
    for i in np.flatnonzero(~has_geo):
        k = np.searchsorted(geo_idx, i)
        a = geo_idx[k - 1] if k > 0 else None
        b = geo_idx[k] if k < geo_idx.size else None
        close_a = a is not None and start[i] - end[a] <= limit
        close_b = b is not None and start[b] - end[i] <= limit
        src = None
        if close_a and close_b:
            if haversine_km(lat[a], lon[a], lat[b], lon[b]) <= s.jump_km:
                src = a if start[i] - end[a] <= start[b] - end[i] else b
            elif (day[a] == day[i]) != (day[b] == day[i]):
                src = a if day[a] == day[i] else b  # between two places: the one of the same day
        if src is None and np.isfinite(tz[i]):
            for x, close, y in ((a, close_a, b), (b, close_b, a)):
                if close and tz[x] == tz[i] and (y is None or (np.isfinite(tz[y]) and tz[y] != tz[i])):
                    src = x
                    break
        if src is not None:
            sources[i] = src
    if not sources:
        return
    to, src = np.array(list(sources)), np.array(list(sources.values()))
    for col in ("city", "region", "country", "country_code", "place_name", "place_source", "any_lat", "any_lon"):
        values = ev[col].to_numpy(dtype=object if col not in ("any_lat", "any_lon") else float).copy()
        values[to] = values[src] if col != "place_source" else PlaceSource.NEIGHBOURS.value
        ev[col] = values
    for i, j in sources.items():
        event_places[i] = event_places[j]


def _trips_frame(
    ev: pd.DataFrame, trip_no: np.ndarray, dist: np.ndarray, event_places: list[Place | None], dominant_share: float
) -> pd.DataFrame:
    rows = []
    n_trips = int(trip_no.max()) + 1 if trip_no.size and trip_no.max() >= 0 else 0
    start_at = ev["start_at"].to_numpy()
    end_at = ev["end_at"].to_numpy()
    event_ids = ev["event_id"].to_numpy(dtype=object)
    n_photos = ev["n_photos"].to_numpy().astype(float)
    first_day, last_day = ev["first_day"].to_numpy(), ev["last_day"].to_numpy()
    for t in range(n_trips):
        members = np.flatnonzero(trip_no == t)
        first = members[0]
        member_places = [event_places[i] for i in members]
        visited = [p for p in member_places if p is not None]
        rows.append(
            {
                "trip_id": f"t{pd.Timestamp(start_at[first]):%Y%m%d}-{_short_hash(event_ids[first])}",
                "start_at": start_at[first],
                "end_at": end_at[members].max(),
                "nights": int(last_day[members].max() - first_day[first]),
                "distance_km": float(np.nanmax(dist[members])) if np.isfinite(dist[members]).any() else None,
                "place_name": name_places(member_places, n_photos[members], dominant_share=dominant_share),
                "countries": list(dict.fromkeys(p.country for p in visited)),
                "n_events": int(members.size),
                "n_photos": int(n_photos[members].sum()),
                "country_codes": list(dict.fromkeys(p.country_code for p in visited)),
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRIP_COLUMNS})
    return pd.DataFrame(rows, columns=list(TRIP_COLUMNS))

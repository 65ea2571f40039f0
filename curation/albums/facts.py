"""The facts of an album: dates, season, holiday, place, people, theme. Titles are written
from these and nothing else, so each one is something the photos or the events stage show.

Place: the finest level (city, then region, then country) that covers at least 75% of the
album's photos that belong to an event; a trip across countries lists up to three of them.
Season: the events stage's season when 60% of the photos agree, else the meteorological
season of the middle photo (flipped south of the equator) for albums within one season.
People: the album's subjects (person and together albums), and named people in a quarter
of its photos.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np

from curation.albums.candidates import Candidate, LibraryIndex
from curation.albums.records import AlbumFacts, AlbumKind, EventRecord, Home, Place, PlaceLevel, Season

_PLACE_SHARE = 0.75
_SEASON_SHARE = 0.6
_HOLIDAY_SHARE = 0.4
_COMPANION_SHARE = 0.25
_MAX_PEOPLE = 4
_MAX_COUNTRIES = 3
_MAX_HIGHLIGHTS = 3
# Kinds that are about a place and a time, and so get one when the photos agree.
_PLACED = {AlbumKind.TRIP, AlbumKind.EVENT}

_NORTH_SEASONS = {12: Season.WINTER, 1: Season.WINTER, 2: Season.WINTER, 3: Season.SPRING, 4: Season.SPRING,
                  5: Season.SPRING, 6: Season.SUMMER, 7: Season.SUMMER, 8: Season.SUMMER,
                  9: Season.AUTUMN, 10: Season.AUTUMN, 11: Season.AUTUMN}  # fmt: skip
_OPPOSITE = {Season.WINTER: Season.SUMMER, Season.SUMMER: Season.WINTER,
             Season.SPRING: Season.AUTUMN, Season.AUTUMN: Season.SPRING}  # fmt: skip


def season_of(day: date, lat: float | None = None) -> Season:
    """Meteorological season (Dec-Feb winter, ...), southern hemisphere flipped."""
    season = _NORTH_SEASONS[day.month]
    return _OPPOSITE[season] if lat is not None and lat < 0 else season


def dominant_place(
    events: Sequence[EventRecord], weights: Sequence[float], *, multi_country: bool
) -> tuple[Place | None, tuple[Place, ...]]:
    """(place covering 75% of the weight, countries when a trip spans several)."""
    total = float(sum(weights))
    if total <= 0:
        return None, ()
    for level, attr in ((PlaceLevel.CITY, "city"), (PlaceLevel.REGION, "region"), (PlaceLevel.COUNTRY, "country")):
        shares: Counter[tuple[str, str | None]] = Counter()
        for e, w in zip(events, weights, strict=True):
            name = getattr(e, attr)
            if name:
                shares[(name, e.country_code)] += w
        if shares:
            (name, code), w = min(shares.items(), key=lambda kv: (-kv[1], kv[0][0]))
            if w >= _PLACE_SHARE * total:
                return Place(name, level, code), ()
    if multi_country:
        countries: Counter[tuple[str, str | None]] = Counter()
        for e, w in zip(events, weights, strict=True):
            if e.country:
                countries[(e.country, e.country_code)] += w
        ranked = sorted(countries.items(), key=lambda kv: (-kv[1], kv[0][0]))
        picked = tuple(Place(n, PlaceLevel.COUNTRY, c) for (n, c), w in ranked if w >= 0.1 * total)
        if len(picked) >= 2:
            picked = picked[:_MAX_COUNTRIES]
            return Place(", ".join(p.name for p in picked), PlaceLevel.COUNTRIES), picked
    # Events without structured places: the events stage's own name when all agree.
    names = {e.place_name for e, w in zip(events, weights, strict=True) if w > 0}
    if len(names) == 1 and None not in names:
        return Place(names.pop(), PlaceLevel.CITY, events[0].country_code), ()
    return None, ()


def _main_city(events: Sequence[EventRecord]) -> Place | None:
    """The trip's place for a list of highlights: the city (else region) with most photos.
    Cities and regions read well in a list in every language; countries need articles."""
    for level, attr in ((PlaceLevel.CITY, "city"), (PlaceLevel.REGION, "region")):
        weights: Counter[tuple[str, str | None]] = Counter()
        for e in events:
            name = getattr(e, attr)
            if name:
                weights[(name, e.country_code)] += max(1, e.n_photos)
        if weights:
            (name, code), _ = min(weights.items(), key=lambda kv: (-kv[1], kv[0][0]))
            return Place(name, level, code)
    return None


def _is_home(place: Place | None, home: Home | None) -> bool:
    if place is None or home is None or not home.place_name or place.level is not PlaceLevel.CITY:
        return False
    return place.name.casefold() == home.place_name.split(",")[0].strip().casefold()


def album_facts(candidate: Candidate, index: LibraryIndex, rows: np.ndarray, today: date) -> AlbumFacts:
    inputs = index.inputs
    p = inputs.photos
    kind = candidate.kind
    times = p.taken_at[rows]
    days = [d.astype(datetime).date() for d in (times.min(), times.max())]
    start, end = days
    nights = None
    n_days = (end - start).days + 1
    if candidate.trip is not None:
        start, end, nights = candidate.trip.start_at.date(), candidate.trip.end_at.date(), candidate.trip.nights
        n_days = (end - start).days + 1
    elif candidate.event is not None:
        start, end = candidate.event.start_at.date(), candidate.event.end_at.date()
        # The events stage counts days of activity: a party past midnight is one day.
        n_days = max(1, candidate.event.n_days)
    years = tuple(int(y) for y in np.unique(index.year[rows]))

    # Events of the photos, weighted by how many photos each gives the album.
    ev = p.event[rows]
    ev = ev[ev >= 0]
    ids, counts = np.unique(ev, return_counts=True)
    events = [inputs.events[int(i)] for i in ids]
    weights = [float(c) for c in counts]
    share_base = max(1, len(rows))

    place, countries = (None, ())
    if kind in _PLACED:
        place, countries = dominant_place(events, weights, multi_country=kind is AlbumKind.TRIP)
        if place is None and candidate.trip is not None and candidate.trip.place_name:
            place = Place(candidate.trip.place_name, PlaceLevel.CITY, None)

    season = None
    if kind not in (AlbumKind.YEAR, AlbumKind.ON_THIS_DAY) and (end - start).days < 92:
        votes: Counter[Season] = Counter()
        for e, w in zip(events, weights, strict=True):
            if e.season is not None:
                votes[e.season] += w
        if votes:
            top, w = min(votes.items(), key=lambda kv: (-kv[1], kv[0].value))
            season = top if w >= _SEASON_SHARE * sum(votes.values()) else None
        else:
            lat = next((e.lat for e in events if e.lat is not None), inputs.home.lat if inputs.home else None)
            first, last = season_of(start, lat), season_of(end, lat)
            season = first if first == last else None

    holiday = None
    if candidate.event is not None:
        holiday = candidate.event.holiday
    elif kind is AlbumKind.TRIP:
        votes_h: Counter[str] = Counter()
        for e, w in zip(events, weights, strict=True):
            if e.holiday:
                votes_h[e.holiday] += w
        if votes_h:
            name, w = min(votes_h.items(), key=lambda kv: (-kv[1], kv[0]))
            holiday = name if w >= _HOLIDAY_SHARE * share_base else None

    names = {x.person_id: x.name for x in inputs.persons}
    subjects = candidate.subjects
    present = Counter(int(x) for r in rows for x in p.persons_of(int(r)))
    companions = sorted(
        (pid for pid, c in present.items() if pid not in subjects and names.get(pid)
         and c >= max(2, _COMPANION_SHARE * len(rows))),
        key=lambda pid: (-present[pid], pid),
    )  # fmt: skip
    people = [names[pid] for pid in companions]

    highlights: tuple[Place, ...] = ()
    n_trips = 0
    if kind is AlbumKind.YEAR:
        trips = [t for t in inputs.trips if t.start_at.year == candidate.year]
        n_trips = len(trips)
        by_trip: dict[str, list[EventRecord]] = {}
        for e in inputs.events:
            if e.trip_id is not None:
                by_trip.setdefault(e.trip_id, []).append(e)
        for trip in sorted(trips, key=lambda t: (-t.n_photos, t.start_at, t.trip_id)):
            spot = _main_city(by_trip.get(trip.trip_id, []))
            spot = spot or (Place(trip.place_name, PlaceLevel.CITY) if trip.place_name else None)
            if spot is not None and spot not in highlights:
                highlights += (spot,)
            if len(highlights) == _MAX_HIGHLIGHTS:
                break

    years_ago: tuple[int, ...] = ()
    if kind is AlbumKind.ON_THIS_DAY:
        years_ago = tuple(sorted(today.year - y for y in years))

    return AlbumFacts(
        kind=kind,
        n_photos=len(rows),
        start=start,
        end=end,
        n_days=n_days,
        nights=nights,
        years=years,
        season=season,
        holiday=holiday,
        place=place,
        countries=countries,
        at_home=_is_home(place, inputs.home),
        subjects=tuple(names[s] for s in subjects if names.get(s)),
        people=tuple(people[:_MAX_PEOPLE]),
        unnamed_subjects=sum(1 for s in subjects if not names.get(s)),
        theme=candidate.theme,
        n_occasions=len(np.unique(index.occasion[rows])),
        n_trips=n_trips,
        highlights=highlights,
        day_month=candidate.day_month,
        years_ago=years_ago,
    )

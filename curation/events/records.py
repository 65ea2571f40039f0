"""Typed records of the events stage: events, trips, the home, places and exclusions.

The stage works on pandas frames (a library has up to a few hundred thousand photos);
these records are what crosses module boundaries when one item is needed, and what the
frames' rows mean. Column names of the frames are the field names below.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pandas as pd


class EventsError(ValueError):
    """Bad input or parameters for the events stage; the message says how to fix it."""


class PlacedBy(StrEnum):
    TIME = "time"  # its own reliable capture time put it in the event
    NEIGHBOURS = "neighbours"  # no reliable time: the file-name sequence or its GPS did


class ExclusionCode(StrEnum):
    CLUTTER = "clutter"  # screenshot, receipt, document: never in an event
    NO_TIME = "no_time"  # no capture time at all and nothing to place it by
    UNRELIABLE_TIME = "unreliable_time"  # only the file's mtime, nothing to place it by
    AMBIGUOUS = "ambiguous"  # its neighbours point at more than one event


class PlaceSource(StrEnum):
    GPS = "gps"  # the event's own geotagged photos
    NEIGHBOURS = "neighbours"  # no GPS; the events just before and after agree on a place
    NONE = "none"


class Season(StrEnum):
    SPRING = "spring"
    SUMMER = "summer"
    AUTUMN = "autumn"
    WINTER = "winter"


class HomeMethod(StrEnum):
    GPS_DAYS = "gps-days"  # the area with the most distinct days (then months) of geotagged photos
    NONE = "none"  # too few geotagged days to say


@dataclass(frozen=True)
class Place:
    """A GeoNames populated place (cities with more than 1000 people)."""

    city: str
    region: str  # admin1: state, province, district ("" when GeoNames has none)
    country_code: str  # ISO 3166-1 alpha-2
    country: str  # English name
    lat: float  # the place's own coordinates, not the photo's
    lon: float

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.country_code, self.region, self.city)


@dataclass(frozen=True)
class Home:
    lat: float | None
    lon: float | None
    place_name: str | None
    country_code: str | None
    confidence: float  # 0..1
    method: HomeMethod
    n_days: int = 0  # distinct days with geotagged photos within radius_km of the home
    radius_km: float = 0.0

    @property
    def known(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class Event:
    event_id: str
    trip_id: str | None
    start_at: datetime  # local wall-clock time of the first photo with a reliable time
    end_at: datetime
    local_date: date  # the first day
    n_days: int  # days of activity; a night that did not split the event does not count
    n_photos: int
    lat: float | None  # centroid of the geotagged photos; None without GPS
    lon: float | None
    city: str | None
    region: str | None
    country: str | None
    country_code: str | None
    place_name: str | None  # named at the right level: city, region, country(s), continent
    season: Season
    holiday: str | None  # English, e.g. "Christmas", "Easter", "Freedom Day"
    year: int
    place_source: PlaceSource = PlaceSource.NONE
    home_distance_km: float | None = None


@dataclass(frozen=True)
class Trip:
    trip_id: str
    start_at: datetime
    end_at: datetime
    nights: int
    distance_km: float  # farthest event centroid from home
    place_name: str | None
    countries: tuple[str, ...]  # English names, in the order visited
    n_events: int
    n_photos: int
    country_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exclusion:
    photo_id: int
    code: ExclusionCode
    reason: str  # a sentence a person understands


@dataclass(frozen=True)
class BoundaryAnswer:
    """A person's answer on two photos (usually either side of a doubtful boundary): are they
    the same event? The events stage honours it on its next run (``EventSegmenter.fit``)."""

    photo_a: int
    photo_b: int
    same_event: bool


class BoundaryRule(StrEnum):
    TIME = "time"  # the pause against the typical pause around it
    NIGHT = "night"  # the pause across the day boundary
    PLACE = "place"  # the distance (and speed) between consecutive fixes


@dataclass(frozen=True)
class Boundary:
    """A gap between two consecutive photos that the segmenter was unsure about (its margin is
    within ``BOUNDARY_DOUBT`` of the cut-off), or that a person's answer decided."""

    photo_before: int
    photo_after: int
    gap_s: float
    rule: BoundaryRule  # the rule closest to deciding it
    margin: float  # ln(value / cut-off) of that rule: > 0 splits, near 0 is a close call
    split: bool  # the photos are in different events (after people's answers)
    labelled: bool  # a person's answer decided it
    reason: str  # a sentence a person understands
    model_version: str  # EventSegmenter.version


@dataclass(frozen=True)
class PhotoEvent:
    photo_id: int
    event_id: str
    placed_by: PlacedBy


EVENT_COLUMNS = tuple(f.name for f in fields(Event))
TRIP_COLUMNS = tuple(f.name for f in fields(Trip))
PHOTO_EVENT_COLUMNS = tuple(f.name for f in fields(PhotoEvent))
EXCLUSION_COLUMNS = tuple(f.name for f in fields(Exclusion))
BOUNDARY_COLUMNS = tuple(f.name for f in fields(Boundary))


def _clean(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


@dataclass
class EventsResult:
    """What ``build_events`` found for one library. Frames hold one row per record, with
    the record's field names as columns, in time order."""

    events: pd.DataFrame
    trips: pd.DataFrame
    photo_events: pd.DataFrame
    exclusions: pd.DataFrame
    home: Home
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    # Doubtful or labelled boundaries (Boundary fields), in time order.
    boundaries: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(BOUNDARY_COLUMNS)))
    answers: dict[str, int] = field(default_factory=dict)  # answers applied / conflicting / unknown

    def iter_events(self) -> Iterator[Event]:
        for row in self.events.itertuples(index=False):
            values = {k: _clean(v) for k, v in row._asdict().items() if k in EVENT_COLUMNS}
            values["local_date"] = pd.Timestamp(values["local_date"]).date()
            values["season"] = Season(values["season"])
            values["place_source"] = PlaceSource(values["place_source"])
            yield Event(**values)

    def iter_trips(self) -> Iterator[Trip]:
        for row in self.trips.itertuples(index=False):
            values = {k: _clean(v) for k, v in row._asdict().items() if k in TRIP_COLUMNS}
            values["countries"] = tuple(values["countries"] or ())
            values["country_codes"] = tuple(values["country_codes"] or ())
            yield Trip(**values)

    def iter_exclusions(self) -> Iterator[Exclusion]:
        for row in self.exclusions.itertuples(index=False):
            yield Exclusion(int(row.photo_id), ExclusionCode(row.code), row.reason)

    def iter_boundaries(self) -> Iterator[Boundary]:
        for row in self.boundaries.itertuples(index=False):
            yield Boundary(
                int(row.photo_before), int(row.photo_after), float(row.gap_s), BoundaryRule(row.rule),
                float(row.margin), bool(row.split), bool(row.labelled), str(row.reason), str(row.model_version),
            )

    def event(self, event_id: str) -> Event:
        for ev in self.iter_events():
            if ev.event_id == event_id:
                return ev
        raise KeyError(f"No event {event_id!r}; known ids are in result.events['event_id'].")

    def event_of(self, photo_id: int) -> str | None:
        match = self.photo_events.loc[self.photo_events["photo_id"] == photo_id, "event_id"]
        return None if match.empty else str(match.iloc[0])

"""Typed records for Memories albums: what the album builder reads (photos, events, trips,
people) and what it makes (albums, their photos and the facts titles are written from).

Photos travel as one columnar :class:`PhotoTable` (numpy arrays, one row per photo) because
a library has 100,000 of them; everything else is a frozen dataclass. Tests and small
callers build the table from :class:`PhotoRecord` rows with :meth:`PhotoTable.from_records`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np

from curation.taxonomy import THEMES, AlbumKind, Theme


class Season(StrEnum):
    SPRING = "spring"
    SUMMER = "summer"
    AUTUMN = "autumn"
    WINTER = "winter"

    @classmethod
    def parse(cls, text: str | None) -> Season | None:
        """The events table's season text ('summer', 'Fall', ...), or None when unknown."""
        if not text:
            return None
        value = text.strip().lower()
        return cls.AUTUMN if value == "fall" else cls._value2member_map_.get(value)  # type: ignore[return-value]


class PlaceLevel(StrEnum):
    CITY = "city"
    REGION = "region"
    COUNTRY = "country"
    COUNTRIES = "countries"  # several countries; Facts.countries lists them


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class EventRecord:
    """One row of the events stage's ``events`` table."""

    event_id: str
    start_at: datetime
    end_at: datetime
    trip_id: str | None = None
    n_days: int = 1
    n_photos: int = 0
    city: str | None = None
    region: str | None = None
    country: str | None = None
    country_code: str | None = None
    place_name: str | None = None
    season: Season | None = None
    holiday: str | None = None  # English holiday name, e.g. "Christmas"
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class TripRecord:
    """One row of the events stage's ``trips`` table."""

    trip_id: str
    start_at: datetime
    end_at: datetime
    nights: int = 0
    distance_km: float | None = None
    place_name: str | None = None
    countries: tuple[str, ...] = ()
    n_events: int = 0
    n_photos: int = 0


@dataclass(frozen=True)
class Person:
    person_id: int
    name: str | None = None  # None until someone names them


@dataclass(frozen=True)
class Home:
    lat: float | None = None
    lon: float | None = None
    place_name: str | None = None
    country_code: str | None = None


@dataclass(frozen=True)
class PhotoRecord:
    """One photo as the album builder sees it (tests and small callers)."""

    photo_id: int
    taken_at: datetime | None
    event_id: str | None = None
    quality: float | None = None  # photo_quality.score, 0..1
    sharpness: float | None = None
    is_clutter: bool = False
    dup_group: int | None = None  # near_duplicates.group_id
    dup_representative: bool = False
    persons: tuple[int, ...] = ()
    theme: Theme | None = None  # top theme
    theme_score: float = 0.0
    vector: Sequence[float] | None = None  # image embedding (any dimension, normalised here)


def _col(values: Sequence[Any], dtype: Any) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


@dataclass(frozen=True, eq=False)
class PhotoTable:
    """One row per photo, as aligned numpy arrays (see :class:`PhotoRecord` for meaning)."""

    photo_id: np.ndarray  # int64
    taken_at: np.ndarray  # datetime64[s]; NaT when unknown
    event: np.ndarray  # int32 index into LibraryInputs.events; -1 outside any event
    quality: np.ndarray  # float32; NaN when not scored
    sharpness: np.ndarray  # float32; NaN when not measured
    is_clutter: np.ndarray  # bool
    dup_group: np.ndarray  # int64; -1 when not in a near-duplicate group
    dup_representative: np.ndarray  # bool
    theme: np.ndarray  # int16 index into THEMES; -1 without a theme
    theme_score: np.ndarray  # float32
    person_indptr: np.ndarray  # int64, len n+1: persons of row i are person_ids[indptr[i]:indptr[i+1]]
    person_ids: np.ndarray  # int64
    vectors: np.ndarray | None = None  # float32 (n, d), rows unit length or all zero (unknown)

    def __post_init__(self) -> None:
        n = len(self.photo_id)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("person_ids",) or value is None:
                continue
            expected = n + 1 if f.name == "person_indptr" else n
            if len(value) != expected:
                raise ValueError(f"PhotoTable.{f.name} has {len(value)} rows, expected {expected}")
        if self.person_indptr[-1] != len(self.person_ids):
            raise ValueError("PhotoTable.person_indptr does not end at len(person_ids)")
        if self.vectors is not None and self.vectors.ndim != 2:
            raise ValueError(f"PhotoTable.vectors must be 2-d (n, dim), got shape {self.vectors.shape}")

    def __len__(self) -> int:
        return len(self.photo_id)

    def persons_of(self, row: int) -> np.ndarray:
        return self.person_ids[self.person_indptr[row] : self.person_indptr[row + 1]]

    @cached_property
    def n_persons(self) -> np.ndarray:
        return np.diff(self.person_indptr)

    @classmethod
    def from_records(cls, records: Sequence[PhotoRecord], events: Sequence[EventRecord] = ()) -> PhotoTable:
        event_index = {e.event_id: i for i, e in enumerate(events)}
        theme_index = {t: i for i, t in enumerate(THEMES)}
        unknown = sorted({r.event_id for r in records if r.event_id is not None and r.event_id not in event_index})
        if unknown:
            raise ValueError(f"photos refer to events that are not given: {unknown[:5]}")
        counts = [len(r.persons) for r in records]
        vectors = None
        if any(r.vector is not None for r in records):
            dims = {len(r.vector) for r in records if r.vector is not None}
            if len(dims) != 1:
                raise ValueError(f"photo vectors have different lengths: {sorted(dims)}")
            dim = dims.pop()
            vectors = np.zeros((len(records), dim), dtype=np.float32)
            for i, r in enumerate(records):
                if r.vector is not None:
                    vectors[i] = r.vector
            vectors = normalise_rows(vectors)
        return cls(
            photo_id=_col([r.photo_id for r in records], np.int64),
            taken_at=np.array(
                [np.datetime64(r.taken_at, "s") if r.taken_at else np.datetime64("NaT") for r in records],
                dtype="datetime64[s]",
            ),
            event=_col([event_index[r.event_id] if r.event_id is not None else -1 for r in records], np.int32),
            quality=_col([np.nan if r.quality is None else r.quality for r in records], np.float32),
            sharpness=_col([np.nan if r.sharpness is None else r.sharpness for r in records], np.float32),
            is_clutter=_col([r.is_clutter for r in records], bool),
            dup_group=_col([-1 if r.dup_group is None else r.dup_group for r in records], np.int64),
            dup_representative=_col([r.dup_representative for r in records], bool),
            theme=_col([theme_index[Theme(r.theme)] if r.theme else -1 for r in records], np.int16),
            theme_score=_col([r.theme_score for r in records], np.float32),
            person_indptr=np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64),
            person_ids=_col([p for r in records for p in r.persons], np.int64),
            vectors=vectors,
        )


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Unit rows; all-zero rows (no embedding) stay zero so they are similar to nothing."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


@dataclass(frozen=True, eq=False)
class LibraryInputs:
    """Everything the album builder needs about one library, read once by the stage."""

    photos: PhotoTable
    events: tuple[EventRecord, ...] = ()
    trips: tuple[TripRecord, ...] = ()
    persons: tuple[Person, ...] = ()
    home: Home | None = None
    library_id: int = 0

    @classmethod
    def from_records(
        cls,
        photos: Sequence[PhotoRecord],
        events: Sequence[EventRecord] = (),
        trips: Sequence[TripRecord] = (),
        persons: Sequence[Person] = (),
        *,
        home: Home | None = None,
        library_id: int = 0,
    ) -> LibraryInputs:
        return cls(PhotoTable.from_records(photos, events), tuple(events), tuple(trips), tuple(persons), home, library_id)


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Place:
    name: str  # as the events stage wrote it (English / local); titles translate known ones
    level: PlaceLevel
    country_code: str | None = None


@dataclass(frozen=True)
class AlbumFacts:
    """What is true about an album: the only material titles and captions may use."""

    kind: AlbumKind
    n_photos: int  # photos in the album
    start: date | None = None
    end: date | None = None
    n_days: int = 0  # calendar days from start to end, inclusive
    nights: int | None = None  # trips: nights away
    years: tuple[int, ...] = ()  # distinct capture years in the album
    season: Season | None = None
    holiday: str | None = None  # English name from the events stage
    place: Place | None = None  # the one place that covers the album, if any
    countries: tuple[Place, ...] = ()  # trips across several countries
    at_home: bool = False  # the place is the library's home town
    subjects: tuple[str, ...] = ()  # person/together albums: names of the people it is about
    unnamed_subjects: int = 0  # ... and how many of them nobody has named yet
    people: tuple[str, ...] = ()  # other named people in a quarter of the photos, most seen first
    theme: Theme | None = None
    n_occasions: int = 0  # events (or days outside events) the photos come from
    n_trips: int = 0  # year in review: trips that year
    highlights: tuple[Place, ...] = ()  # year in review: places of the biggest trips
    day_month: tuple[int, int] | None = None  # on this day: (month, day)
    years_ago: tuple[int, ...] = ()  # on this day: how many years back each photo year is

    @property
    def year(self) -> int | None:
        return self.years[0] if len(self.years) == 1 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (stored in albums.facts, shown on the review page, sent to the LLM)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == () or (value == 0 and f.name in ("at_home", "unnamed_subjects", "n_trips")):
                continue
            out[f.name] = _jsonable(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlbumFacts:
        def place(d: Mapping[str, Any]) -> Place:
            return Place(d["name"], PlaceLevel(d["level"]), d.get("country_code"))

        kw: dict[str, Any] = dict(data)
        kw["kind"] = AlbumKind(kw["kind"])
        for key in ("start", "end"):
            if kw.get(key):
                kw[key] = date.fromisoformat(kw[key])
        if kw.get("season"):
            kw["season"] = Season(kw["season"])
        if kw.get("theme"):
            kw["theme"] = Theme(kw["theme"])
        if kw.get("place"):
            kw["place"] = place(kw["place"])
        for key in ("countries", "highlights"):
            kw[key] = tuple(place(p) for p in kw.get(key, ()))
        for key in ("years", "subjects", "people", "years_ago"):
            kw[key] = tuple(kw.get(key, ()))
        if kw.get("day_month"):
            kw["day_month"] = tuple(kw["day_month"])
        return cls(**kw)


def _jsonable(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Place):
        return {k: v for k, v in (("name", value.name), ("level", value.level.value),
                                  ("country_code", value.country_code)) if v is not None}  # fmt: skip
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class AlbumPhoto:
    photo_id: int
    position: int  # 0-based, chronological
    reason: str  # one line: why this photo is in the album
    taken_at: datetime | None = None


@dataclass(frozen=True)
class Album:
    album_id: str  # stable: library, kind and the key of what the album is about
    kind: AlbumKind
    key: str  # trip/event id, person ids, theme, year, date
    score: float  # ranking among albums, 0..1 (see curation.albums.scoring)
    facts: AlbumFacts
    photos: tuple[AlbumPhoto, ...]
    cover_photo_id: int
    cover_reason: str
    n_eligible: int  # photos that could have been picked
    rule: str = ""  # why the album was worth making, e.g. "5 nights away, 3 events, 212 usable photos"

    @property
    def start_at(self) -> datetime | None:
        times = [p.taken_at for p in self.photos if p.taken_at is not None]
        return min(times) if times else None

    @property
    def end_at(self) -> datetime | None:
        times = [p.taken_at for p in self.photos if p.taken_at is not None]
        return max(times) if times else None

    @property
    def place_name(self) -> str | None:
        if self.facts.place is not None:
            return self.facts.place.name
        if self.facts.countries:
            return ", ".join(p.name for p in self.facts.countries)
        return None

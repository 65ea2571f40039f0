"""Album rules, one kind at a time, on small hand-made libraries (no store, no models)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from curation.albums import (
    AlbumKind,
    AlbumSettings,
    EventRecord,
    LibraryInputs,
    Person,
    PhotoRecord,
    TripRecord,
    build_albums,
)
from curation.vision.themes import Theme

TODAY = date(2024, 7, 14)
SMALL = AlbumSettings(min_photos=4, max_photos=10)


def event(event_id: str, day: date, *, trip: str | None = None, city: str = "Lisbon", holiday: str | None = None,
          country: str = "Portugal", code: str = "PT") -> EventRecord:  # fmt: skip
    start = datetime(day.year, day.month, day.day, 10)
    return EventRecord(event_id, start, start + timedelta(hours=6), trip_id=trip, city=city, region=city,
                       country=country, country_code=code, place_name=city, holiday=holiday)  # fmt: skip


class Library:
    """Builds photo records event by event with unique, increasing ids."""

    def __init__(self) -> None:
        self.photos: list[PhotoRecord] = []
        self.events: list[EventRecord] = []

    def add(self, ev: EventRecord | None, n: int, *, when: datetime | None = None, **fields: object) -> list[int]:
        if ev is not None and ev not in self.events:
            self.events.append(ev)
        start = ev.start_at if ev is not None else when
        ids = []
        for k in range(n):
            pid = len(self.photos) + 1
            self.photos.append(PhotoRecord(pid, start + timedelta(minutes=20 * k), ev.event_id if ev else None,
                                           quality=0.5 + 0.01 * k, **fields))  # type: ignore[arg-type]  # fmt: skip
            ids.append(pid)
        return ids

    def inputs(self, trips: tuple[TripRecord, ...] = (), persons: tuple[Person, ...] = ()) -> LibraryInputs:
        return LibraryInputs.from_records(self.photos, self.events, trips, persons, library_id=7)


def kinds(albums, kind: AlbumKind) -> dict[str, object]:  # noqa: ANN001
    return {a.key: a for a in albums if a.kind is kind}


# ----------------------------------------------------------------------------- trip


def test_trip_album_needs_nights_and_enough_photos() -> None:
    lib = Library()
    for d in range(3):
        lib.add(event(f"t1-{d}", date(2023, 7, 3 + d), trip="t1", city="Seville", country="Spain", code="ES"), 3)
    lib.add(event("t2-0", date(2023, 9, 1), trip="t2", city="Porto"), 8)  # a day trip: no nights
    lib.add(event("t3-0", date(2023, 10, 1), trip="t3", city="Rome"), 2)  # too few photos
    trips = (
        TripRecord("t1", datetime(2023, 7, 3), datetime(2023, 7, 5), nights=2),
        TripRecord("t2", datetime(2023, 9, 1), datetime(2023, 9, 1), nights=0),
        TripRecord("t3", datetime(2023, 10, 1), datetime(2023, 10, 2), nights=1),
    )
    albums = build_albums(lib.inputs(trips), SMALL, today=TODAY)
    found = kinds(albums, AlbumKind.TRIP)
    assert set(found) == {"t1"}
    trip = found["t1"]
    assert trip.album_id == "7-trip-t1"
    assert trip.facts.nights == 2 and trip.facts.place.name == "Seville"
    assert "2 nights away" in trip.rule


# ----------------------------------------------------------------------------- event


def test_event_album_for_events_outside_trips_only() -> None:
    lib = Library()
    lib.add(event("party", date(2023, 12, 24), holiday="Christmas"), 6)
    lib.add(event("in-trip", date(2023, 8, 1), trip="t1", city="Rome"), 6)
    lib.add(event("tiny", date(2023, 5, 1)), 3)
    trips = (TripRecord("t1", datetime(2023, 8, 1), datetime(2023, 8, 1), nights=0),)
    albums = build_albums(lib.inputs(trips), SMALL, today=TODAY)
    found = kinds(albums, AlbumKind.EVENT)
    assert set(found) == {"party"}
    assert found["party"].facts.holiday == "Christmas"


def test_event_of_an_unknown_trip_counts_as_an_event() -> None:
    lib = Library()
    lib.add(event("orphan", date(2023, 6, 1), trip="gone"), 5)
    assert set(kinds(build_albums(lib.inputs(), SMALL, today=TODAY), AlbumKind.EVENT)) == {"orphan"}


# ----------------------------------------------------------------------------- person


def test_person_album_needs_occasions_and_months() -> None:
    lib = Library()
    for m in (1, 3, 5):
        lib.add(event(f"e{m}", date(2023, m, 10)), 3, persons=(1,))
    lib.add(event("one-day", date(2023, 8, 1)), 12, persons=(2,))  # many photos, one event
    persons = (Person(1, "Anna"), Person(2, "Ben"))
    albums = build_albums(lib.inputs(persons=persons), SMALL, today=TODAY)
    found = kinds(albums, AlbumKind.PERSON)
    assert set(found) == {"1"}
    assert found["1"].facts.subjects == ("Anna",)
    assert all(r.reason.startswith("Anna") for r in found["1"].photos)


def test_unnamed_people_only_when_allowed() -> None:
    lib = Library()
    for m in (1, 3, 5):
        lib.add(event(f"e{m}", date(2023, m, 10)), 3, persons=(9,))
    persons = (Person(9, None),)
    allowed = build_albums(lib.inputs(persons=persons), SMALL, today=TODAY)
    assert kinds(allowed, AlbumKind.PERSON)["9"].facts.unnamed_subjects == 1
    strict = SMALL.model_copy(update={"include_unnamed_people": False})
    assert not kinds(build_albums(lib.inputs(persons=persons), strict, today=TODAY), AlbumKind.PERSON)


def test_rules_count_days_when_there_are_no_events() -> None:
    lib = Library()
    for m in (2, 4, 6):
        lib.add(None, 3, when=datetime(2023, m, 1, 9), persons=(1,))
    albums = build_albums(lib.inputs(persons=(Person(1, "Anna"),)), SMALL, today=TODAY)
    assert kinds(albums, AlbumKind.PERSON)["1"].facts.n_occasions == 3


# ----------------------------------------------------------------------------- together


def test_together_album_for_people_often_photographed_together() -> None:
    lib = Library()
    for m in (1, 4, 7):
        lib.add(event(f"e{m}", date(2023, m, 2)), 2, persons=(1, 2))
        lib.add(event(f"e{m}", date(2023, m, 2)), 1, persons=(1,))
    persons = (Person(1, "Anna"), Person(2, "Ben"))
    albums = build_albums(lib.inputs(persons=persons), SMALL, today=TODAY)
    together = kinds(albums, AlbumKind.TOGETHER)
    assert set(together) == {"1+2"}
    album = together["1+2"]
    assert album.facts.subjects == ("Anna", "Ben")
    assert all(r.reason.startswith("Anna and Ben together") for r in album.photos)


def test_a_group_replaces_the_pair_it_covers() -> None:
    lib = Library()
    for m in (1, 4, 7):
        lib.add(event(f"e{m}", date(2023, m, 2)), 2, persons=(1, 2, 3))
    persons = (Person(1, "Anna"), Person(2, "Ben"), Person(3, "Carla"))
    together = kinds(build_albums(lib.inputs(persons=persons), SMALL, today=TODAY), AlbumKind.TOGETHER)
    assert set(together) == {"1+2+3"}


def test_pairs_need_occasions_not_just_photos() -> None:
    lib = Library()
    lib.add(event("wedding", date(2023, 6, 2)), 10, persons=(1, 2))
    persons = (Person(1, "Anna"), Person(2, "Ben"))
    assert not kinds(build_albums(lib.inputs(persons=persons), SMALL, today=TODAY), AlbumKind.TOGETHER)


# ----------------------------------------------------------------------------- theme


def test_theme_album_from_strong_theme_photos_across_occasions() -> None:
    lib = Library()
    for m in (2, 5, 8):
        lib.add(event(f"e{m}", date(2023, m, 3)), 2, theme=Theme.PETS, theme_score=0.9)
        lib.add(event(f"e{m}", date(2023, m, 3)), 2, theme=Theme.PETS, theme_score=0.2)  # weak: not pets
        lib.add(event(f"e{m}", date(2023, m, 3)), 3, theme=Theme.PEOPLE_PORTRAITS, theme_score=0.9)
    albums = build_albums(lib.inputs(), SMALL, today=TODAY)
    themes = kinds(albums, AlbumKind.THEME)
    assert set(themes) == {"pets"}  # portraits are excluded by default
    assert len(themes["pets"].photos) == SMALL.min_photos  # 6 strong pets photos -> k = max(4, 3)


# ----------------------------------------------------------------------------- year


def test_year_in_review_for_finished_years_with_spread() -> None:
    lib = Library()
    for m in (1, 4, 9):
        lib.add(event(f"y23-{m}", date(2023, m, 5)), 2)
    lib.add(event("y22", date(2022, 3, 5)), 6)  # one month only
    for m in (1, 2, 3):
        lib.add(event(f"y24-{m}", date(2024, m, 5)), 2)  # the current year
    years = kinds(build_albums(lib.inputs(), SMALL, today=TODAY), AlbumKind.YEAR)
    assert set(years) == {"2023"}
    december = kinds(build_albums(lib.inputs(), SMALL, today=date(2024, 12, 20)), AlbumKind.YEAR)
    assert set(december) == {"2023", "2024"}


# ----------------------------------------------------------------------------- on this day


def test_on_this_day_collects_the_same_day_of_earlier_years() -> None:
    lib = Library()
    lib.add(event("d19", date(2019, 7, 14)), 3)
    lib.add(event("d21", date(2021, 7, 14)), 3)
    lib.add(event("d21b", date(2021, 7, 16)), 3)  # two days off: outside a 0-day window
    lib.add(event("d24", date(2024, 7, 14)), 3)  # this year's: not a memory yet
    found = kinds(build_albums(lib.inputs(), SMALL, today=TODAY), AlbumKind.ON_THIS_DAY)
    album = found["2024-07-14"]
    assert album.facts.years == (2019, 2021) and album.facts.years_ago == (3, 5)
    assert album.facts.day_month == (7, 14)
    assert album.n_eligible == 6 and len(album.photos) == 4  # half the pool, at least min_photos
    wide = SMALL.model_copy(update={"on_this_day_window_days": 3})
    album = kinds(build_albums(lib.inputs(), wide, today=TODAY), AlbumKind.ON_THIS_DAY)["2024-07-14"]
    assert album.n_eligible == 9


def test_on_this_day_on_29_february() -> None:
    lib = Library()
    lib.add(event("leap", date(2020, 2, 29)), 2)
    lib.add(event("plain", date(2021, 2, 28)), 2)
    found = kinds(build_albums(lib.inputs(), AlbumSettings(min_photos=2), today=date(2024, 2, 29)),
                  AlbumKind.ON_THIS_DAY)  # fmt: skip
    assert found["2024-02-29"].facts.years == (2020, 2021)


# ----------------------------------------------------------------------------- settings


def test_kinds_can_be_switched_off() -> None:
    lib = Library()
    for m in (1, 4, 9):
        lib.add(event(f"e{m}", date(2023, m, 5)), 3, persons=(1,))
    config = SMALL.model_copy(update={"kinds": (AlbumKind.YEAR,)})
    albums = build_albums(lib.inputs(persons=(Person(1, "Anna"),)), config, today=TODAY)
    assert {a.kind for a in albums} == {AlbumKind.YEAR}


def test_max_albums_per_kind_keeps_the_best() -> None:
    lib = Library()
    for d, n in enumerate((4, 9, 6)):
        lib.add(event(f"e{d}", date(2023, 3, 1 + 7 * d)), n)
    config = SMALL.model_copy(update={"max_albums_per_kind": 1, "kinds": (AlbumKind.EVENT,)})
    albums = build_albums(lib.inputs(), config, today=TODAY)
    assert [a.key for a in albums] == ["e1"]  # the biggest pool scores best


def test_max_below_min_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_photos .* is below min_photos"):
        AlbumSettings(min_photos=20, max_photos=10)


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_photos", 0), ("target_fraction", 0), ("target_fraction", 1.5), ("mmr_lambda", 2), ("max_pool", 1)],
)
def test_bad_settings_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field):
        AlbumSettings(**{field: value})


def test_unknown_theme_in_settings_lists_the_options() -> None:
    with pytest.raises(ValidationError, match="beach_sea"):
        AlbumSettings(excluded_themes=("kittens",))

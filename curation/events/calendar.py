"""Dates in context: the season (by hemisphere) and the holiday an event falls on.

Seasons are meteorological (whole months: December-February is winter in the north and
summer in the south); an event without GPS uses the home's latitude, or the north.

Holidays come from the ``holidays`` package, national calendars only, in English when the
package has an English translation for the country. Three celebrations span more days
than the public holiday, and are named as such wherever the country observes the feast:

* **Christmas**: the day before to the day after Christmas Day (24-26 December in the
  west, 6-8 January where Christmas is on the 7th). Christmas Eve dinner is "Christmas".
* **Easter**: Good Friday to Easter Monday, with Easter Sunday worked out from whichever
  of Good Friday / Easter Sunday / Easter Monday the country lists, so Orthodox dates follow;
  where the country keeps Christmas but lists no Easter holiday (the United States), the
  western date.
* **New Year's Eve**: 31 December, where 1 January is a holiday.

On any other day, a public holiday's English name ("Freedom Day", "Thanksgiving").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

from curation.events.records import Season

CHRISTMAS = "Christmas"
EASTER = "Easter"
NEW_YEARS_EVE = "New Year's Eve"

_NORTH = {12: Season.WINTER, 1: Season.WINTER, 2: Season.WINTER, 3: Season.SPRING, 4: Season.SPRING,
          5: Season.SPRING, 6: Season.SUMMER, 7: Season.SUMMER, 8: Season.SUMMER, 9: Season.AUTUMN,
          10: Season.AUTUMN, 11: Season.AUTUMN}
_OPPOSITE = {Season.WINTER: Season.SUMMER, Season.SUMMER: Season.WINTER, Season.SPRING: Season.AUTUMN,
             Season.AUTUMN: Season.SPRING}
# Offset from Easter Sunday of holidays that reveal its date.
_EASTER_ANCHORS = {"good friday": -2, "holy saturday": -1, "easter sunday": 0, "easter": 0, "easter monday": 1}


def season_of(day: date, lat: float | None) -> Season:
    north = _NORTH[day.month]
    if lat is not None and lat == lat and lat < 0:  # lat == lat: not NaN
        return _OPPOSITE[north]
    return north


def seasons(months: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Vectorised :func:`season_of`: one season name per (month, latitude); NaN latitude is north."""
    months = np.asarray(months, dtype=np.int64)
    lat = np.asarray(lat, dtype=float)
    north = np.array([""] + [_NORTH[m].value for m in range(1, 13)], dtype=object)
    south = np.array([""] + [_OPPOSITE[_NORTH[m]].value for m in range(1, 13)], dtype=object)
    return np.where(lat < 0, south[months], north[months])


class HolidayCalendar:
    """Looks up the holiday of a day in a country. Calendars are built per (country, year)
    on first use and kept by this instance only (one instance per stage run)."""

    def __init__(self, language: str = "en_US") -> None:
        self.language = language
        self._days: dict[tuple[str, int], dict[date, str]] = {}

    def holiday(self, country_code: str | None, days: Iterable[date]) -> str | None:
        """The first holiday among ``days`` (in order) in that country, or None."""
        if not isinstance(country_code, str) or not country_code:
            return None
        for day in days:
            name = self._year(country_code.upper(), day.year).get(day)
            if name:
                return name
        return None

    def _year(self, cc: str, year: int) -> dict[date, str]:
        key = (cc, year)
        if key not in self._days:
            self._days[key] = self._build(cc, year)
        return self._days[key]

    def _build(self, cc: str, year: int) -> dict[date, str]:
        import holidays  # imported here: the package takes ~0.5 s to import

        from holidays.utils import list_localized_countries

        languages = list_localized_countries().get(cc, [])
        language = self.language if self.language in languages else None
        try:
            found = holidays.country_holidays(cc, years=year, language=language)
        except NotImplementedError:  # the package has no calendar for this country
            return {}
        public = {d: str(name) for d, name in found.items()}
        days: dict[date, str] = dict(public)
        lowered = {d: n.casefold() for d, n in public.items()}
        celebrations: dict[date, str] = {}
        for d, name in lowered.items():
            if "christmas" in name and "eve" not in name and "second" not in name and d.month in (12, 1):
                # Christmas Day itself: 25 Dec, or 7 Jan in Orthodox calendars.
                if (d.month, d.day) in ((12, 25), (1, 7)):
                    for k in (-1, 0, 1):
                        celebrations[d + timedelta(days=k)] = CHRISTMAS
        sundays = {d + timedelta(days=-off) for d, name in lowered.items()
                   for anchor, off in _EASTER_ANCHORS.items() if name == anchor or name.startswith(anchor + " (")}
        if not sundays and CHRISTMAS in celebrations.values():
            # Countries that keep Christmas but list no Easter holiday (the United States)
            # still celebrate it, on the western date.
            from dateutil.easter import easter

            sundays = {easter(year)}
        for sunday in sundays:
            for k in (-2, -1, 0, 1):
                celebrations[sunday + timedelta(days=k)] = EASTER
        if any((d.month, d.day) == (1, 1) for d in lowered):  # the country keeps New Year's Day
            celebrations.setdefault(date(year, 12, 31), NEW_YEARS_EVE)
        days.update({d: n for d, n in celebrations.items() if d.year == year})
        return days

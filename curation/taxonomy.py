"""The names the whole engine shares: photo themes and album kinds.

A light module (no numpy, no models): the settings and the dashboard's first page import it.
The theme *model* (which ImageNet classes make each theme) is ``curation.vision.themes``.
"""

from __future__ import annotations

from enum import StrEnum


class Theme(StrEnum):
    BEACH_SEA = "beach_sea"
    MOUNTAINS_NATURE = "mountains_nature"
    CITY_ARCHITECTURE = "city_architecture"
    FOOD_DRINK = "food_drink"
    PETS = "pets"
    WILDLIFE = "wildlife"
    PEOPLE_PORTRAITS = "people_portraits"
    PARTY_CELEBRATION = "party_celebration"
    SPORT = "sport"
    SNOW_WINTER = "snow_winter"
    VEHICLES_TRAVEL = "vehicles_travel"
    FLOWERS_GARDEN = "flowers_garden"

    @property
    def label(self) -> str:
        """Name for people, e.g. "Beach & sea" (not ``title``: str already has that method)."""
        return THEME_TITLES[self]


THEMES: tuple[Theme, ...] = tuple(Theme)  # column order of score_themes()

THEME_TITLES: dict[Theme, str] = {
    Theme.BEACH_SEA: "Beach & sea",
    Theme.MOUNTAINS_NATURE: "Mountains & nature",
    Theme.CITY_ARCHITECTURE: "City & architecture",
    Theme.FOOD_DRINK: "Food & drink",
    Theme.PETS: "Pets",
    Theme.WILDLIFE: "Wildlife",
    Theme.PEOPLE_PORTRAITS: "People & portraits",
    Theme.PARTY_CELEBRATION: "Party & celebration",
    Theme.SPORT: "Sport",
    Theme.SNOW_WINTER: "Snow & winter",
    Theme.VEHICLES_TRAVEL: "Vehicles & travel",
    Theme.FLOWERS_GARDEN: "Flowers & garden",
}


class AlbumKind(StrEnum):
    TRIP = "trip"  # a trip of the events stage: nights away from home
    EVENT = "event"  # one event outside any trip (a party, a day out, Christmas at home)
    PERSON = "person"  # one person across many events and months
    TOGETHER = "together"  # two or more people who are often photographed together
    THEME = "theme"  # one theme (pets, beach, food...) across events
    YEAR = "year"  # a year in review
    ON_THIS_DAY = "on_this_day"  # this calendar day in earlier years

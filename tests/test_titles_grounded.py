"""The grounded title generator: exact titles in every language, grammar, facts_used trace."""

from __future__ import annotations

from datetime import date

import pytest

from curation.albums import AlbumFacts, AlbumKind, Place, PlaceLevel, Season, build_albums
from curation.albums.synthetic import synthetic_library
from curation.titles import (
    GroundedTitleGenerator,
    Language,
    UnknownLanguageError,
    UnknownTitleGeneratorError,
    create_title_generator,
    lexicon,
    list_title_generators,
    parse_language,
)
from curation.vision.themes import Theme

VIENNA = Place("Vienna", PlaceLevel.CITY, "AT")
CHRISTMAS = AlbumFacts(
    AlbumKind.EVENT, 24, start=date(2023, 12, 24), end=date(2023, 12, 26), n_days=3, years=(2023,),
    season=Season.WINTER, holiday="Christmas", place=VIENNA, people=("Anna", "Ben"),
)  # fmt: skip
ANDALUSIA = AlbumFacts(
    AlbumKind.TRIP, 40, start=date(2023, 7, 3), end=date(2023, 7, 10), n_days=8, nights=7, years=(2023,),
    season=Season.SUMMER, place=Place("Andalusia", PlaceLevel.REGION, "ES"), people=("Anna",),
)  # fmt: skip
IBERIA = AlbumFacts(
    AlbumKind.TRIP, 40, start=date(2023, 6, 28), end=date(2023, 7, 5), n_days=8, nights=7, years=(2023,),
    season=Season.SUMMER, place=Place("Portugal, Spain", PlaceLevel.COUNTRIES),
    countries=(Place("Portugal", PlaceLevel.COUNTRY, "PT"), Place("Spain", PlaceLevel.COUNTRY, "ES")),
)  # fmt: skip


def generate(facts: AlbumFacts, language: str):  # noqa: ANN201
    return GroundedTitleGenerator().generate(facts, language)


@pytest.mark.parametrize(
    ("language", "title", "caption"),
    [
        ("en", "Christmas 2023 with Anna & Ben", "From 24 to 26 December 2023 in Vienna. With Anna and Ben."),
        ("de", "Weihnachten 2023 mit Anna & Ben", "Vom 24. bis 26. Dezember 2023 in Wien. Mit Anna und Ben."),
        ("fr", "Noël 2023 avec Anna et Ben", "Du 24 au 26 décembre 2023 à Vienne. Avec Anna et Ben."),
        ("es", "Navidad 2023 con Anna y Ben", "Del 24 al 26 de diciembre de 2023 en Viena. Con Anna y Ben."),
        ("it", "Natale 2023 con Anna e Ben", "Dal 24 al 26 dicembre 2023 a Vienna. Con Anna e Ben."),
        ("nl", "Kerst 2023 met Anna & Ben", "Van 24 tot 26 december 2023 in Wenen. Met Anna en Ben."),
    ],
)
def test_christmas_with_names_in_every_language(language: str, title: str, caption: str) -> None:
    result = generate(CHRISTMAS, language)
    assert result.title == title
    assert result.caption == caption
    assert result.generator == "grounded" and result.fallback_reason is None


def test_christmas_suggestions_in_english() -> None:
    assert generate(CHRISTMAS, "en").titles == [
        "Christmas 2023 with Anna & Ben",
        "Christmas 2023",
        "Christmas in Vienna",
        "Winter in Vienna",
        "3 days in Vienna",
    ]


@pytest.mark.parametrize(
    ("language", "titles"),
    [
        ("en", ["A week in Andalusia", "Summer in Andalusia", "Summer 2023 with Anna", "Andalusia, July 2023"]),
        ("de", ["Eine Woche in Andalusien", "Sommer in Andalusien", "Sommer 2023 mit Anna", "Andalusien, Juli 2023"]),
        ("fr", ["Une semaine en Andalousie", "Un été en Andalousie", "Été 2023 avec Anna", "Andalousie, juillet 2023"]),
        ("es", ["Una semana en Andalucía", "Verano en Andalucía", "Verano de 2023 con Anna",
                "Andalucía, julio de 2023"]),
        ("it", ["Una settimana in Andalusia", "Estate in Andalusia", "Estate 2023 con Anna", "Andalusia, luglio 2023"]),
        ("nl", ["Een week in Andalusië", "Zomer in Andalusië", "Zomer 2023 met Anna", "Andalusië, juli 2023"]),
    ],
)  # fmt: skip
def test_a_week_in_andalusia(language: str, titles: list[str]) -> None:
    assert generate(ANDALUSIA, language).titles[:4] == titles


@pytest.mark.parametrize(
    ("language", "title", "caption"),
    [
        ("en", "A week in Portugal and Spain", "7 nights in Portugal and Spain, from 28 June to 5 July 2023."),
        ("fr", "Une semaine au Portugal et en Espagne", "7 nuits au Portugal et en Espagne, du 28 juin au 5 juillet 2023."),
        ("it", "Una settimana in Portogallo e in Spagna",
         "7 notti in Portogallo e in Spagna, dal 28 giugno al 5 luglio 2023."),
        ("es", "Una semana en Portugal y España",
         "7 noches en Portugal y España, del 28 de junio al 5 de julio de 2023."),
    ],
)  # fmt: skip
def test_prepositions_for_several_countries(language: str, title: str, caption: str) -> None:
    result = generate(IBERIA, language)
    assert result.title == title
    assert result.caption == caption


@pytest.mark.parametrize(
    ("language", "place", "expected"),
    [
        ("en", Place("NL", PlaceLevel.COUNTRY, "NL"), "in the Netherlands"),
        ("de", Place("Switzerland", PlaceLevel.COUNTRY, "CH"), "in der Schweiz"),
        ("de", Place("Tuscany", PlaceLevel.REGION, "IT"), "in der Toskana"),
        ("fr", Place("Portugal", PlaceLevel.COUNTRY, "PT"), "au Portugal"),
        ("fr", Place("United States", PlaceLevel.COUNTRY, "US"), "aux États-Unis"),
        ("fr", Place("Le Havre", PlaceLevel.CITY, "FR"), "au Havre"),
        ("fr", Place("Lisbon", PlaceLevel.CITY, "PT"), "à Lisbonne"),
        ("fr", Place("Sevilla", PlaceLevel.CITY, "ES"), "à Séville"),  # the geocoder's local spelling
        ("es", Place("United Kingdom", PlaceLevel.COUNTRY, "GB"), "en el Reino Unido"),
        ("it", Place("Amsterdam", PlaceLevel.CITY, "NL"), "ad Amsterdam"),
        ("it", Place("The Hague", PlaceLevel.CITY, "NL"), "all'Aia"),
        ("it", Place("Malta", PlaceLevel.COUNTRY, "MT"), "a Malta"),
        ("nl", Place("United Kingdom", PlaceLevel.COUNTRY, "GB"), "in het Verenigd Koninkrijk"),
        ("en", Place("Springfield", PlaceLevel.CITY, None), "in Springfield"),
    ],
)
def test_in_place_follows_each_language(language: str, place: Place, expected: str) -> None:
    assert lexicon(language).in_place(place) == expected


@pytest.mark.parametrize(
    ("language", "a", "b", "expected"),
    [
        ("en", date(2023, 7, 1), date(2023, 7, 1), "on 1 July 2023"),
        ("de", date(2023, 6, 28), date(2023, 7, 5), "vom 28. Juni bis 5. Juli 2023"),
        ("fr", date(2023, 7, 1), date(2023, 7, 3), "du 1er au 3 juillet 2023"),
        ("fr", date(2023, 12, 28), date(2024, 1, 3), "du 28 décembre 2023 au 3 janvier 2024"),
        ("es", date(2023, 7, 8), date(2023, 7, 8), "el 8 de julio de 2023"),
        ("it", date(2023, 8, 8), date(2023, 8, 8), "l'8 agosto 2023"),
        ("it", date(2023, 8, 8), date(2023, 8, 11), "dall'8 all'11 agosto 2023"),
        ("it", date(2023, 5, 1), date(2023, 5, 3), "dal 1º al 3 maggio 2023"),
        ("nl", date(2023, 3, 3), date(2023, 3, 5), "van 3 tot 5 maart 2023"),
    ],
)
def test_date_ranges_in_prose(language: str, a: date, b: date, expected: str) -> None:
    assert lexicon(language).range_prose(a, b) == expected


def test_spanish_and_becomes_e_before_an_i_sound() -> None:
    es = lexicon("es")
    assert es.join_title(["Ben", "Isabel"]) == "Ben e Isabel"
    assert es.join_title(["Ben", "Hilda"]) == "Ben e Hilda"
    assert es.join_title(["Ben", "Hielo"]) == "Ben y Hielo"
    assert es.join_title(["Ana", "Ben", "Carla"]) == "Ana, Ben y Carla"


def test_french_elides_de_before_a_vowel() -> None:
    facts = AlbumFacts(AlbumKind.TOGETHER, 48, years=(2019, 2024), subjects=("Anna", "Ben"))
    assert generate(facts, "fr").caption == "48 photos d'Anna et Ben ensemble, de 2019 à 2024."


def test_month_names_come_from_our_tables_not_the_os_locale() -> None:
    import locale

    saved = locale.setlocale(locale.LC_TIME)
    try:
        for name in ("de_DE.UTF-8", "fr_FR.UTF-8", "C.UTF-8"):  # whichever the machine has
            try:
                locale.setlocale(locale.LC_TIME, name)
                break
            except locale.Error:
                continue
        assert generate(ANDALUSIA, "en").titles[3] == "Andalusia, July 2023"
        assert lexicon("de").month(3) == "März"
        assert lexicon("fr").date(date(2024, 2, 1)) == "1er février 2024"
        assert lexicon("es").month_year(8, 2024) == "agosto de 2024"
    finally:
        locale.setlocale(locale.LC_TIME, saved)


def test_facts_used_trace_each_title() -> None:
    result = generate(CHRISTMAS, "en")
    first, second, third = result.suggestions[:3]
    assert first.facts_used == {"holiday": "Christmas", "year": 2023, "people": ["Anna", "Ben"]}
    assert second.facts_used == {"holiday": "Christmas", "year": 2023}
    assert third.facts_used == {"holiday": "Christmas", "place": "Vienna"}
    assert result.caption_facts_used == {
        "start": "2023-12-24", "end": "2023-12-26", "place": "Vienna", "people": ["Anna", "Ben"],
    }  # fmt: skip
    trace = result.trace()
    assert trace["suggestions"][0]["template"] == "holiday_year_with"
    assert trace["caption"]["facts_used"]["place"] == "Vienna"


@pytest.mark.parametrize(
    ("facts", "language", "titles"),
    [
        (AlbumFacts(AlbumKind.PERSON, 48, years=(2019, 2020, 2024), subjects=("Carla",)), "de",
         ["Carla im Lauf der Jahre", "Momente mit Carla", "Carla, 2019–2024"]),
        (AlbumFacts(AlbumKind.PERSON, 20, years=(2022,), unnamed_subjects=1), "fr",
         ["Un visage familier", "Un visage familier, 2022"]),
        (AlbumFacts(AlbumKind.TOGETHER, 30, years=(2021, 2023), subjects=("Anna", "Ben")), "it",
         ["Anna e Ben", "Anna e Ben insieme", "Anna e Ben negli anni", "Anna e Ben, 2021–2023"]),
        (AlbumFacts(AlbumKind.TOGETHER, 30, years=(2021, 2023), subjects=("Ana", "Isabel")), "es",
         ["Ana e Isabel", "Ana e Isabel a lo largo de los años", "Ana e Isabel, 2021–2023"]),
        (AlbumFacts(AlbumKind.THEME, 30, years=(2019, 2024), theme=Theme.BEACH_SEA, n_occasions=12), "nl",
         ["Stranddagen", "Stranddagen, 2019–2024", "Aan zee"]),
        (AlbumFacts(AlbumKind.YEAR, 60, years=(2023,), n_trips=2,
                    highlights=(Place("Seville", PlaceLevel.CITY, "ES"), Place("Rome", PlaceLevel.CITY, "IT"))),
         "fr", ["2023 en images", "Notre année 2023", "2023 : Séville et Rome"]),
        (AlbumFacts(AlbumKind.ON_THIS_DAY, 9, years=(2021,), day_month=(8, 8), years_ago=(3,)), "es",
         ["Un día como hoy, hace 3 años", "Un 8 de agosto"]),
        (AlbumFacts(AlbumKind.ON_THIS_DAY, 9, years=(2019, 2023), day_month=(7, 14), years_ago=(1, 5)), "de",
         ["Am 14. Juli", "Der 14. Juli im Lauf der Jahre"]),
    ],
)  # fmt: skip
def test_titles_of_the_other_kinds(facts: AlbumFacts, language: str, titles: list[str]) -> None:
    assert generate(facts, language).titles == titles


@pytest.mark.parametrize(
    ("facts", "caption"),
    [
        (AlbumFacts(AlbumKind.YEAR, 60, years=(2023,), n_trips=4,
                    highlights=(Place("Seville", PlaceLevel.CITY, "ES"), Place("Rome", PlaceLevel.CITY, "IT"))),
         "The year 2023 in 60 photos. 4 trips, including Seville and Rome."),
        (AlbumFacts(AlbumKind.ON_THIS_DAY, 9, years=(2023,), day_month=(7, 14), years_ago=(1,)),
         "14 July 2023, 1 year ago."),
        (AlbumFacts(AlbumKind.THEME, 30, years=(2019, 2024), theme=Theme.PETS, n_occasions=12),
         "A selection from 12 occasions, from 2019 to 2024."),
    ],
)  # fmt: skip
def test_captions_of_the_other_kinds(facts: AlbumFacts, caption: str) -> None:
    assert generate(facts, "en").caption == caption


def test_events_at_home_are_not_titled_like_a_trip() -> None:
    home = AlbumFacts(AlbumKind.EVENT, 14, start=date(2022, 5, 8), end=date(2022, 5, 8), n_days=1, years=(2022,),
                      season=Season.SPRING, place=Place("Lisbon", PlaceLevel.CITY, "PT"), at_home=True,
                      people=("Anna",))  # fmt: skip
    assert generate(home, "en").titles == ["Spring 2022 with Anna", "Lisbon, 8 May 2022", "Spring 2022"]


def test_unknown_holidays_are_only_named_in_english() -> None:
    facts = AlbumFacts(AlbumKind.EVENT, 14, start=date(2023, 4, 25), end=date(2023, 4, 25), n_days=1,
                       years=(2023,), holiday="Freedom Day", place=Place("Lisbon", PlaceLevel.CITY, "PT"))  # fmt: skip
    assert generate(facts, "en").title == "Freedom Day 2023"
    assert "Freedom" not in " ".join(generate(facts, "de").titles)


def test_holiday_names_from_the_holidays_package_are_folded() -> None:
    facts = AlbumFacts(AlbumKind.EVENT, 14, start=date(2023, 12, 25), end=date(2023, 12, 25), n_days=1,
                       years=(2023,), holiday="Christmas Day")  # fmt: skip
    assert generate(facts, "it").title == "Natale 2023"


def test_every_album_of_a_library_gets_titles_in_every_language() -> None:
    albums = build_albums(synthetic_library(1500, seed=5, dim=16), today=date(2023, 12, 31))
    assert albums
    for album in albums:
        for language in Language:
            result = generate(album.facts, language)
            assert result.suggestions and all(s.text.strip() for s in result.suggestions)
            assert len(result.suggestions) <= 5 and result.caption.endswith(".")
            assert result.language is language


def test_language_codes_are_parsed_and_checked() -> None:
    assert parse_language("de-AT") is Language.DE
    assert parse_language("FR_fr") is Language.FR
    with pytest.raises(UnknownLanguageError, match="supported languages: en, de, fr, es, it, nl"):
        parse_language("pt")


def test_registry_lists_generators_and_refuses_unknown_names() -> None:
    assert {"grounded", "llm"} <= set(list_title_generators())
    assert isinstance(create_title_generator("grounded"), GroundedTitleGenerator)
    with pytest.raises(UnknownTitleGeneratorError, match="valid names: grounded, llm"):
        create_title_generator("gpt-poet")
    with pytest.raises(ValueError, match="max_suggestions"):
        GroundedTitleGenerator(max_suggestions=0)

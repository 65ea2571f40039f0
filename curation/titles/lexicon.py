"""Words and grammar of each title language: months, seasons, holidays, theme phrases,
dates, date ranges, "in <place>" and name lists. Our own tables, never the OS locale
(``strftime`` would follow whatever locale the server happens to run in).

One :class:`Lexicon` per language; subclasses override the grammar that differs
(French ``au Portugal`` / ``à Lisbonne`` / ``le 1er juillet``, Spanish ``14 de julio de
2023`` and ``y``/``e``, Italian ``l'8 luglio`` / ``dall'11`` / ``nel 2023``, German
``14. Juli`` / ``vom 3. bis 10. Juli``...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache

from curation.albums.records import Place, PlaceLevel, Season
from curation.titles.places import country_name, place_name
from curation.vision.themes import Theme


class Language(StrEnum):
    EN = "en"
    DE = "de"
    FR = "fr"
    ES = "es"
    IT = "it"
    NL = "nl"


class UnknownLanguageError(ValueError):
    """``settings.language`` names a language titles cannot be written in."""


def parse_language(value: str | Language) -> Language:
    """'de', 'de-DE', 'de_AT', 'DE' -> Language.DE."""
    code = str(value).strip().lower().replace("_", "-").split("-")[0]
    try:
        return Language(code)
    except ValueError:
        options = ", ".join(lang.value for lang in Language)
        raise UnknownLanguageError(
            f"titles cannot be written in {value!r}; supported languages: {options}. "
            "Set CURATION_LANGUAGE to one of them."
        ) from None


# Holiday names from the events stage (English, as the `holidays` package writes them)
# folded onto the celebrations titles talk about.
HOLIDAY_ALIASES: dict[str, str] = {
    "christmas": "christmas", "christmas day": "christmas", "christmas eve": "christmas",
    "second day of christmas": "christmas", "boxing day": "christmas", "saint stephen's day": "christmas",
    "st. stephen's day": "christmas",
    "new year's eve": "new_years_eve", "new years eve": "new_years_eve", "hogmanay": "new_years_eve",
    "new year's day": "new_year", "new year": "new_year", "new years day": "new_year",
    "easter": "easter", "easter sunday": "easter", "easter monday": "easter", "good friday": "easter",
    "holy saturday": "easter", "maundy thursday": "easter", "holy thursday": "easter",
    "pentecost": "pentecost", "pentecost monday": "pentecost", "whit monday": "pentecost",
    "whit sunday": "pentecost", "whitsun": "pentecost",
    "halloween": "halloween",
    "thanksgiving": "thanksgiving", "thanksgiving day": "thanksgiving",
    "carnival": "carnival", "mardi gras": "carnival", "shrove tuesday": "carnival", "carnival tuesday": "carnival",
}  # fmt: skip


def holiday_key(name: str | None) -> str | None:
    if not name:
        return None
    text = re.sub(r"\s*\(observed\)\s*$", "", name.strip(), flags=re.IGNORECASE).casefold()
    return HOLIDAY_ALIASES.get(text.replace("’", "'"))


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Lexicon:
    language: Language
    months: tuple[str, ...]
    seasons: dict[Season, str]
    holidays: dict[str, str]
    themes: dict[Theme, tuple[str, ...]]
    phrases: dict[str, str]
    plurals: dict[str, tuple[str, str]]  # word -> (one, many)
    and_title: str
    and_prose: str
    prep_city: str = "in"
    prep_region: str = "in"
    prep_country: str = "in"
    # Whether a list of places shares one preposition ("in Italy & Germany") or repeats it
    # ("au Portugal et en Espagne", "in Portogallo e in Spagna").
    factor_preposition: bool = True
    capitalised_nouns: bool = False  # German: every noun is capitalised
    extra_words: tuple[str, ...] = field(default=())

    # -- words ---------------------------------------------------------------------------

    def month(self, m: int) -> str:
        return self.months[m - 1]

    def season(self, s: Season) -> str:
        return self.seasons[s]

    def holiday(self, name: str | None) -> str | None:
        """Local name of a holiday; unknown holidays only in English (as given)."""
        key = holiday_key(name)
        if key is not None:
            return self.holidays[key]
        if name and self.language is Language.EN:
            return re.sub(r"\s*\(observed\)\s*$", "", name.strip(), flags=re.IGNORECASE)
        return None

    def plural(self, word: str, n: int) -> str:
        one, many = self.plurals[word]
        return f"{n} {one if n == 1 else many}"

    def phrase(self, key: str, **values: object) -> str | None:
        template = self.phrases.get(key)
        return self.finish(template.format(**values)) if template is not None else None

    def finish(self, text: str) -> str:
        """Last touches of the language's spelling on a finished phrase."""
        return text

    # -- dates ---------------------------------------------------------------------------

    def day(self, d: date) -> str:
        return str(d.day)

    def date(self, d: date) -> str:
        return f"{self.day(d)} {self.month(d.month)} {d.year}"

    def day_month(self, month: int, day: int) -> str:
        return f"{self.day(date(2000, month, day))} {self.month(month)}"

    def month_year(self, month: int, year: int) -> str:
        return f"{self.month(month)} {year}"

    def season_year(self, season: Season, year: int) -> str:
        return f"{self.season(season)} {year}"

    def years(self, first: int, last: int) -> str:
        return str(first) if first == last else f"{first}–{last}"

    def range_prose(self, a: date, b: date) -> str:
        """'on 14 July 2023', 'from 3 to 10 July 2023', ... (lower-case start)."""
        raise NotImplementedError

    def years_prose(self, first: int, last: int) -> str:
        raise NotImplementedError

    # -- places and people ---------------------------------------------------------------

    def place(self, place: Place) -> str:
        if place.level is PlaceLevel.COUNTRY:
            known = country_name(place.country_code, self.language)
            if known:
                return known[0]
        if place.level is PlaceLevel.COUNTRIES:
            return place.name
        return place_name(place.name, self.language)[0]

    def in_place(self, place: Place, countries: tuple[Place, ...] = ()) -> str:
        if place.level is PlaceLevel.COUNTRIES and countries:
            phrases = [self.in_place(c) for c in countries]
            prefix = phrases[0].split(" ", 1)[0] + " "
            if self.factor_preposition and all(p.startswith(prefix) for p in phrases):
                # "in the Netherlands and Switzerland", "in den Niederlanden und der Schweiz"
                return prefix + self.join_prose([p[len(prefix) :] for p in phrases])
            return self.join_prose(phrases)
        if place.level is PlaceLevel.COUNTRY:
            known = country_name(place.country_code, self.language)
            if known:
                name, phrase = known
                return phrase or f"{self.prep_country} {name}"
            return f"{self.prep_country} {place.name}"
        name, phrase = place_name(place.name, self.language)
        if phrase:
            return phrase
        return self.in_city(name) if place.level is PlaceLevel.CITY else f"{self.prep_region} {name}"

    def in_city(self, name: str) -> str:
        return f"{self.prep_city} {name}"

    def places_label(self, place: Place, countries: tuple[Place, ...] = ()) -> str:
        """A place as a title subject: 'Lisbon', 'Italy & Germany'."""
        if place.level is PlaceLevel.COUNTRIES and countries:
            return self.join_title([self.place(c) for c in countries])
        return self.place(place)

    def join_title(self, names: list[str]) -> str:
        return self._join(names, self.and_title)

    def join_prose(self, names: list[str]) -> str:
        return self._join(names, self.and_prose)

    def _join(self, names: list[str], word: str) -> str:
        if len(names) <= 1:
            return "".join(names)
        return f"{', '.join(names[:-1])} {self._and_before(word, names[-1])} {names[-1]}"

    def _and_before(self, word: str, following: str) -> str:
        return word

    # -- vocabulary (grounding checks) ---------------------------------------------------

    def words(self) -> set[str]:
        """Every word this lexicon can produce, casefolded."""
        texts = [*self.months, *self.seasons.values(), *self.holidays.values(), *self.phrases.values(),
                 *(p for pair in self.plurals.values() for p in pair), self.and_title, self.and_prose,
                 self.prep_city, self.prep_region, self.prep_country, *self.extra_words]  # fmt: skip
        texts += [t for phrases in self.themes.values() for t in phrases]
        return {w.casefold() for t in texts for w in WORD.findall(re.sub(r"\{[^}]*\}", " ", t))}


WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?")


class _English(Lexicon):
    def range_prose(self, a: date, b: date) -> str:
        if a == b:
            return f"on {self.date(a)}"
        if (a.year, a.month) == (b.year, b.month):
            return f"from {a.day} to {self.date(b)}"
        if a.year == b.year:
            return f"from {self.day_month(a.month, a.day)} to {self.date(b)}"
        return f"from {self.date(a)} to {self.date(b)}"

    def years_prose(self, first: int, last: int) -> str:
        return f"in {first}" if first == last else f"from {first} to {last}"


class _German(Lexicon):
    def day(self, d: date) -> str:
        return f"{d.day}."

    def range_prose(self, a: date, b: date) -> str:
        if a == b:
            return f"am {self.date(a)}"
        if (a.year, a.month) == (b.year, b.month):
            return f"vom {a.day}. bis {self.date(b)}"
        if a.year == b.year:
            return f"vom {self.day_month(a.month, a.day)} bis {self.date(b)}"
        return f"vom {self.date(a)} bis {self.date(b)}"

    def years_prose(self, first: int, last: int) -> str:
        return f"im Jahr {first}" if first == last else f"von {first} bis {last}"


class _French(Lexicon):
    def finish(self, text: str) -> str:
        # Elision before a vowel or mute h: "photos de Anna" -> "photos d'Anna".
        return re.sub(r"\b([Dd])e (?=[AEIOUYÀÂÉÈÊËÎÏÔÛÙŒHaeiouyàâéèêëîïôûùœ])", r"\1'", text)

    def day(self, d: date) -> str:
        return "1er" if d.day == 1 else str(d.day)

    def range_prose(self, a: date, b: date) -> str:
        if a == b:
            return f"le {self.date(a)}"
        if (a.year, a.month) == (b.year, b.month):
            return f"du {self.day(a)} au {self.date(b)}"
        if a.year == b.year:
            return f"du {self.day_month(a.month, a.day)} au {self.date(b)}"
        return f"du {self.date(a)} au {self.date(b)}"

    def years_prose(self, first: int, last: int) -> str:
        return f"en {first}" if first == last else f"de {first} à {last}"

    def in_city(self, name: str) -> str:
        # Le Havre -> au Havre, Les Sables -> aux Sables, La Haye -> à La Haye
        if name.startswith("Le "):
            return f"au {name[3:]}"
        if name.startswith("Les "):
            return f"aux {name[4:]}"
        return f"à {name}"


class _Spanish(Lexicon):
    def date(self, d: date) -> str:
        return f"{d.day} de {self.month(d.month)} de {d.year}"

    def day_month(self, month: int, day: int) -> str:
        return f"{day} de {self.month(month)}"

    def month_year(self, month: int, year: int) -> str:
        return f"{self.month(month)} de {year}"

    def season_year(self, season: Season, year: int) -> str:
        return f"{self.season(season)} de {year}"

    def range_prose(self, a: date, b: date) -> str:
        if a == b:
            return f"el {self.date(a)}"
        if (a.year, a.month) == (b.year, b.month):
            return f"del {a.day} al {self.date(b)}"
        if a.year == b.year:
            return f"del {self.day_month(a.month, a.day)} al {self.date(b)}"
        return f"del {self.date(a)} al {self.date(b)}"

    def years_prose(self, first: int, last: int) -> str:
        return f"en {first}" if first == last else f"de {first} a {last}"

    def _and_before(self, word: str, following: str) -> str:
        # "y" becomes "e" before an /i/ sound: "Ben e Isabel", "Ana e Hilda" (not "hie-").
        low = following.casefold()
        if word == "y" and (low.startswith("i") or (low.startswith("hi") and low[2:3] not in ("a", "e", "o", "u"))):
            return "e"
        return word


class _Italian(Lexicon):
    def day(self, d: date) -> str:
        return "1º" if d.day == 1 else str(d.day)

    def range_prose(self, a: date, b: date) -> str:
        if a == b:
            return f"{self._article('il', a.day)}{self.date(a)}"
        start = self.day(a) if (a.year, a.month) == (b.year, b.month) else (
            self.day_month(a.month, a.day) if a.year == b.year else self.date(a)
        )
        return f"{self._article('dal', a.day)}{start} {self._article('al', b.day)}{self.date(b)}"

    @staticmethod
    def _article(word: str, day: int) -> str:
        # l'8, l'11, dall'8, all'11: the article elides before a vowel sound.
        if day in (8, 11):
            return {"il": "l'", "dal": "dall'", "al": "all'"}[word]
        return f"{word} "

    def years_prose(self, first: int, last: int) -> str:
        return f"nel {first}" if first == last else f"dal {first} al {last}"

    def in_city(self, name: str) -> str:
        for article, contracted in (("Il ", "al "), ("La ", "alla "), ("Le ", "alle "), ("L'", "all'")):
            if name.startswith(article):
                return contracted + name[len(article):]
        return f"ad {name}" if name[:1] in "Aa" else f"a {name}"


class _Dutch(Lexicon):
    def range_prose(self, a: date, b: date) -> str:
        if a == b:
            return f"op {self.date(a)}"
        if (a.year, a.month) == (b.year, b.month):
            return f"van {a.day} tot {self.date(b)}"
        if a.year == b.year:
            return f"van {self.day_month(a.month, a.day)} tot {self.date(b)}"
        return f"van {self.date(a)} tot {self.date(b)}"

    def years_prose(self, first: int, last: int) -> str:
        return f"in {first}" if first == last else f"van {first} tot {last}"


_THEMES: dict[Language, dict[Theme, tuple[str, ...]]] = {
    Language.EN: {
        Theme.BEACH_SEA: ("Beach days", "By the sea"),
        Theme.MOUNTAINS_NATURE: ("Out in nature", "Into the mountains"),
        Theme.CITY_ARCHITECTURE: ("City walks", "Streets and buildings"),
        Theme.FOOD_DRINK: ("Good food", "At the table"),
        Theme.PETS: ("Our pets", "Furry friends"),
        Theme.WILDLIFE: ("Into the wild", "Wild animals"),
        Theme.PEOPLE_PORTRAITS: ("Portraits",),
        Theme.PARTY_CELEBRATION: ("Celebrations", "Party time"),
        Theme.SPORT: ("On the move", "Game on"),
        Theme.SNOW_WINTER: ("Snow days", "Winter wonderland"),
        Theme.VEHICLES_TRAVEL: ("On the road", "Getting there"),
        Theme.FLOWERS_GARDEN: ("In bloom", "Flowers and gardens"),
    },
    Language.DE: {
        Theme.BEACH_SEA: ("Strandtage", "Am Meer"),
        Theme.MOUNTAINS_NATURE: ("Draußen in der Natur", "In den Bergen"),
        Theme.CITY_ARCHITECTURE: ("Stadtspaziergänge", "Straßen und Bauwerke"),
        Theme.FOOD_DRINK: ("Gutes Essen", "Zu Tisch"),
        Theme.PETS: ("Unsere Haustiere", "Tierische Freunde"),
        Theme.WILDLIFE: ("Wilde Tiere", "Tierbegegnungen"),
        Theme.PEOPLE_PORTRAITS: ("Porträts",),
        Theme.PARTY_CELEBRATION: ("Feste und Feiern", "Partyzeit"),
        Theme.SPORT: ("In Bewegung", "Sportlich"),
        Theme.SNOW_WINTER: ("Schneetage", "Winterzauber"),
        Theme.VEHICLES_TRAVEL: ("Unterwegs", "Auf Achse"),
        Theme.FLOWERS_GARDEN: ("In voller Blüte", "Blumen und Gärten"),
    },
    Language.FR: {
        Theme.BEACH_SEA: ("Journées à la plage", "Au bord de la mer"),
        Theme.MOUNTAINS_NATURE: ("En pleine nature", "À la montagne"),
        Theme.CITY_ARCHITECTURE: ("Balades en ville", "Rues et monuments"),
        Theme.FOOD_DRINK: ("À table", "Bonnes tables"),
        Theme.PETS: ("Nos animaux", "Nos compagnons à quatre pattes"),
        Theme.WILDLIFE: ("Animaux sauvages", "Rencontres sauvages"),
        Theme.PEOPLE_PORTRAITS: ("Portraits",),
        Theme.PARTY_CELEBRATION: ("Fêtes et célébrations", "Jours de fête"),
        Theme.SPORT: ("En mouvement", "Esprit sportif"),
        Theme.SNOW_WINTER: ("Jours de neige", "Féerie d'hiver"),
        Theme.VEHICLES_TRAVEL: ("En route", "Sur la route"),
        Theme.FLOWERS_GARDEN: ("En fleurs", "Fleurs et jardins"),
    },
    Language.ES: {
        Theme.BEACH_SEA: ("Días de playa", "Junto al mar"),
        Theme.MOUNTAINS_NATURE: ("En plena naturaleza", "En la montaña"),
        Theme.CITY_ARCHITECTURE: ("Paseos por la ciudad", "Calles y monumentos"),
        Theme.FOOD_DRINK: ("A la mesa", "Buena mesa"),
        Theme.PETS: ("Nuestras mascotas", "Amigos peludos"),
        Theme.WILDLIFE: ("Animales salvajes", "Vida salvaje"),
        Theme.PEOPLE_PORTRAITS: ("Retratos",),
        Theme.PARTY_CELEBRATION: ("Fiestas y celebraciones", "Días de fiesta"),
        Theme.SPORT: ("En movimiento", "Espíritu deportivo"),
        Theme.SNOW_WINTER: ("Días de nieve", "Paisajes de invierno"),
        Theme.VEHICLES_TRAVEL: ("De camino", "En ruta"),
        Theme.FLOWERS_GARDEN: ("En flor", "Flores y jardines"),
    },
    Language.IT: {
        Theme.BEACH_SEA: ("Giornate al mare", "In riva al mare"),
        Theme.MOUNTAINS_NATURE: ("Nella natura", "In montagna"),
        Theme.CITY_ARCHITECTURE: ("Passeggiate in città", "Strade e monumenti"),
        Theme.FOOD_DRINK: ("A tavola", "Buon cibo"),
        Theme.PETS: ("I nostri animali", "Amici a quattro zampe"),
        Theme.WILDLIFE: ("Animali selvatici", "Vita selvaggia"),
        Theme.PEOPLE_PORTRAITS: ("Ritratti",),
        Theme.PARTY_CELEBRATION: ("Feste e celebrazioni", "Giorni di festa"),
        Theme.SPORT: ("In movimento", "Spirito sportivo"),
        Theme.SNOW_WINTER: ("Giornate sulla neve", "Magia d'inverno"),
        Theme.VEHICLES_TRAVEL: ("In viaggio", "Sulla strada"),
        Theme.FLOWERS_GARDEN: ("In fiore", "Fiori e giardini"),
    },
    Language.NL: {
        Theme.BEACH_SEA: ("Stranddagen", "Aan zee"),
        Theme.MOUNTAINS_NATURE: ("Buiten in de natuur", "In de bergen"),
        Theme.CITY_ARCHITECTURE: ("Stadswandelingen", "Straten en gebouwen"),
        Theme.FOOD_DRINK: ("Lekker eten", "Aan tafel"),
        Theme.PETS: ("Onze huisdieren", "Harige vrienden"),
        Theme.WILDLIFE: ("Wilde dieren", "In het wild"),
        Theme.PEOPLE_PORTRAITS: ("Portretten",),
        Theme.PARTY_CELEBRATION: ("Feesten en vieringen", "Feesttijd"),
        Theme.SPORT: ("In beweging", "Sportief"),
        Theme.SNOW_WINTER: ("Sneeuwdagen", "Winterpret"),
        Theme.VEHICLES_TRAVEL: ("Onderweg", "Op reis"),
        Theme.FLOWERS_GARDEN: ("In bloei", "Bloemen en tuinen"),
    },
}

# Title and caption templates. Placeholders: {season} {in_place} {duration} {holiday}
# {year} {years} {people} {who} {place} {month_year} {date} {day_month} {n} {k} {t}
# {nights} {range} {years_prose} {places} {trips}. A missing key = no such title in that
# language (Spanish has no gender-neutral "together").
_PHRASES: dict[Language, dict[str, str]] = {
    Language.EN: {
        "season_in": "{season} {in_place}", "season_year": "{season_year}", "duration_in": "{duration} {in_place}",
        "holiday_year": "{holiday} {year}", "holiday_in": "{holiday} {in_place}", "with": "{base} with {people}",
        "place_month": "{place}, {month_year}", "place_date": "{place}, {date}", "place_year": "{place} {year}",
        "through_years": "{who} through the years", "moments_with": "Moments with {who}", "who_years": "{who}, {years}",
        "together": "{who} together", "familiar_face": "A familiar face", "familiar_faces": "Familiar faces",
        "familiar_face_prose": "a familiar face", "familiar_faces_prose": "familiar faces",
        "theme_years": "{theme}, {years}",
        "year_review": "{year} in review", "our_year": "Our year {year}", "year_places": "{year}: {places}",
        "on_day": "On {day_month}", "day_through_years": "{day_month} through the years",
        "years_ago_today": "{n} years ago today", "year_ago_today": "A year ago today",
        "day": "A day", "weekend": "A weekend", "days": "{n} days", "week": "A week", "two_weeks": "Two weeks",
        "cap_trip": "{nights} {in_place}, {range}.", "cap_event": "{range} {in_place}.", "cap_event_noplace": "{range}.",
        "cap_with": "With {people}.", "cap_person": "{n} moments with {who}, {years_prose}.",
        "cap_together": "{n} photos of {who} together, {years_prose}.",
        "cap_theme": "A selection from {k} occasions, {years_prose}.",
        "cap_year": "The year {year} in {n} photos.", "cap_trips_all": "{trips}: {places}.",
        "cap_trips_some": "{trips}, including {places}.",
        "cap_on_this_day": "{day_month} in {k} different years, {years_prose}.",
        "cap_years_ago": "{date}, {ago}.", "ago": "{n} years ago", "ago_one": "1 year ago",
    },
    Language.DE: {
        "season_in": "{season} {in_place}", "season_year": "{season_year}", "duration_in": "{duration} {in_place}",
        "holiday_year": "{holiday} {year}", "holiday_in": "{holiday} {in_place}", "with": "{base} mit {people}",
        "place_month": "{place}, {month_year}", "place_date": "{place}, {date}", "place_year": "{place} {year}",
        "through_years": "{who} im Lauf der Jahre", "moments_with": "Momente mit {who}", "who_years": "{who}, {years}",
        "together": "{who} gemeinsam", "familiar_face": "Ein vertrautes Gesicht", "familiar_faces": "Vertraute Gesichter",
        "familiar_face_prose": "einem vertrauten Gesicht", "familiar_faces_prose": "vertrauten Gesichtern",
        "theme_years": "{theme}, {years}",
        "year_review": "Das war {year}", "our_year": "Unser Jahr {year}", "year_places": "{year}: {places}",
        "on_day": "Am {day_month}", "day_through_years": "Der {day_month} im Lauf der Jahre",
        "years_ago_today": "Heute vor {n} Jahren", "year_ago_today": "Heute vor einem Jahr",
        "day": "Ein Tag", "weekend": "Ein Wochenende", "days": "{n} Tage", "week": "Eine Woche",
        "two_weeks": "Zwei Wochen",
        "cap_trip": "{nights} {in_place}, {range}.", "cap_event": "{range} {in_place}.", "cap_event_noplace": "{range}.",
        "cap_with": "Mit {people}.", "cap_person": "{n} Momente mit {who}, {years_prose}.",
        "cap_together": "{n} gemeinsame Fotos von {who}, {years_prose}.",
        "cap_theme": "Eine Auswahl aus {k} Anlässen, {years_prose}.",
        "cap_year": "Das Jahr {year} in {n} Fotos.", "cap_trips_all": "{trips}: {places}.",
        "cap_trips_some": "{trips}, darunter {places}.",
        "cap_on_this_day": "Der {day_month} in {k} verschiedenen Jahren, {years_prose}.",
        "cap_years_ago": "{date}, {ago}.", "ago": "vor {n} Jahren", "ago_one": "vor einem Jahr",
    },
    Language.FR: {
        "season_in": "Un {season} {in_place}", "season_year": "{season_year}", "duration_in": "{duration} {in_place}",
        "holiday_year": "{holiday} {year}", "holiday_in": "{holiday} {in_place}", "with": "{base} avec {people}",
        "place_month": "{place}, {month_year}", "place_date": "{place}, {date}", "place_year": "{place} {year}",
        "through_years": "{who} au fil des ans", "moments_with": "Moments avec {who}", "who_years": "{who}, {years}",
        "together": "{who} ensemble", "familiar_face": "Un visage familier", "familiar_faces": "Visages familiers",
        "familiar_face_prose": "un visage familier", "familiar_faces_prose": "visages familiers",
        "theme_years": "{theme}, {years}",
        "year_review": "{year} en images", "our_year": "Notre année {year}", "year_places": "{year} : {places}",
        "on_day": "Un {day_month}", "day_through_years": "Le {day_month} au fil des ans",
        "years_ago_today": "Il y a {n} ans aujourd'hui", "year_ago_today": "Il y a un an aujourd'hui",
        "day": "Une journée", "weekend": "Un week-end", "days": "{n} jours", "week": "Une semaine",
        "two_weeks": "Deux semaines",
        "cap_trip": "{nights} {in_place}, {range}.", "cap_event": "{range} {in_place}.", "cap_event_noplace": "{range}.",
        "cap_with": "Avec {people}.", "cap_person": "{n} moments avec {who}, {years_prose}.",
        "cap_together": "{n} photos de {who} ensemble, {years_prose}.",
        "cap_theme": "Une sélection de {k} moments, {years_prose}.",
        "cap_year": "L'année {year} en {n} photos.", "cap_trips_all": "{trips} : {places}.",
        "cap_trips_some": "{trips}, dont {places}.",
        "cap_on_this_day": "Le {day_month}, au fil de {k} années, {years_prose}.",
        "cap_years_ago": "{date}, {ago}.", "ago": "il y a {n} ans", "ago_one": "il y a un an",
    },
    Language.ES: {
        "season_in": "{season} {in_place}", "season_year": "{season_year}", "duration_in": "{duration} {in_place}",
        "holiday_year": "{holiday} {year}", "holiday_in": "{holiday} {in_place}", "with": "{base} con {people}",
        "place_month": "{place}, {month_year}", "place_date": "{place}, {date}", "place_year": "{place} {year}",
        "through_years": "{who} a lo largo de los años", "moments_with": "Momentos con {who}",
        "who_years": "{who}, {years}",
        "familiar_face": "Una cara conocida", "familiar_faces": "Caras conocidas",
        "familiar_face_prose": "una cara conocida", "familiar_faces_prose": "caras conocidas",
        "theme_years": "{theme}, {years}",
        "year_review": "{year} en fotos", "our_year": "Nuestro {year}", "year_places": "{year}: {places}",
        "on_day": "Un {day_month}", "day_through_years": "El {day_month} a lo largo de los años",
        "years_ago_today": "Un día como hoy, hace {n} años", "year_ago_today": "Un día como hoy, hace un año",
        "day": "Un día", "weekend": "Un fin de semana", "days": "{n} días", "week": "Una semana",
        "two_weeks": "Dos semanas",
        "cap_trip": "{nights} {in_place}, {range}.", "cap_event": "{range} {in_place}.", "cap_event_noplace": "{range}.",
        "cap_with": "Con {people}.", "cap_person": "{n} momentos con {who}, {years_prose}.",
        "cap_together": "{n} fotos de {who}, {years_prose}.",
        "cap_theme": "Una selección de {k} momentos, {years_prose}.",
        "cap_year": "El año {year} en {n} fotos.", "cap_trips_all": "{trips}: {places}.",
        "cap_trips_some": "{trips}, entre ellos {places}.",
        "cap_on_this_day": "El {day_month} en {k} años distintos, {years_prose}.",
        "cap_years_ago": "{date}, {ago}.", "ago": "hace {n} años", "ago_one": "hace un año",
    },
    Language.IT: {
        "season_in": "{season} {in_place}", "season_year": "{season_year}", "duration_in": "{duration} {in_place}",
        "holiday_year": "{holiday} {year}", "holiday_in": "{holiday} {in_place}", "with": "{base} con {people}",
        "place_month": "{place}, {month_year}", "place_date": "{place}, {date}", "place_year": "{place} {year}",
        "through_years": "{who} negli anni", "moments_with": "Momenti con {who}", "who_years": "{who}, {years}",
        "together": "{who} insieme", "familiar_face": "Un volto familiare", "familiar_faces": "Volti familiari",
        "familiar_face_prose": "un volto familiare", "familiar_faces_prose": "volti familiari",
        "theme_years": "{theme}, {years}",
        "year_review": "Il {year} in foto", "our_year": "Il nostro {year}", "year_places": "{year}: {places}",
        "on_day": "Un {day_month}", "day_through_years": "Il {day_month} negli anni",
        "years_ago_today": "Oggi, {n} anni fa", "year_ago_today": "Oggi, un anno fa",
        "day": "Una giornata", "weekend": "Un weekend", "days": "{n} giorni", "week": "Una settimana",
        "two_weeks": "Due settimane",
        "cap_trip": "{nights} {in_place}, {range}.", "cap_event": "{range} {in_place}.", "cap_event_noplace": "{range}.",
        "cap_with": "Con {people}.", "cap_person": "{n} momenti con {who}, {years_prose}.",
        "cap_together": "{n} foto di {who} insieme, {years_prose}.",
        "cap_theme": "Una selezione da {k} occasioni, {years_prose}.",
        "cap_year": "L'anno {year} in {n} foto.", "cap_trips_all": "{trips}: {places}.",
        "cap_trips_some": "{trips}, tra cui {places}.",
        "cap_on_this_day": "Il {day_month} in {k} anni diversi, {years_prose}.",
        "cap_years_ago": "{date}, {ago}.", "ago": "{n} anni fa", "ago_one": "un anno fa",
    },
    Language.NL: {
        "season_in": "{season} {in_place}", "season_year": "{season_year}", "duration_in": "{duration} {in_place}",
        "holiday_year": "{holiday} {year}", "holiday_in": "{holiday} {in_place}", "with": "{base} met {people}",
        "place_month": "{place}, {month_year}", "place_date": "{place}, {date}", "place_year": "{place} {year}",
        "through_years": "{who} door de jaren heen", "moments_with": "Momenten met {who}",
        "who_years": "{who}, {years}",
        "together": "{who} samen", "familiar_face": "Een bekend gezicht", "familiar_faces": "Bekende gezichten",
        "familiar_face_prose": "een bekend gezicht", "familiar_faces_prose": "bekende gezichten",
        "theme_years": "{theme}, {years}",
        "year_review": "{year} in beeld", "our_year": "Ons jaar {year}", "year_places": "{year}: {places}",
        "on_day": "Op {day_month}", "day_through_years": "{day_month} door de jaren heen",
        "years_ago_today": "Vandaag {n} jaar geleden", "year_ago_today": "Vandaag een jaar geleden",
        "day": "Een dag", "weekend": "Een weekend", "days": "{n} dagen", "week": "Een week",
        "two_weeks": "Twee weken",
        "cap_trip": "{nights} {in_place}, {range}.", "cap_event": "{range} {in_place}.", "cap_event_noplace": "{range}.",
        "cap_with": "Met {people}.", "cap_person": "{n} momenten met {who}, {years_prose}.",
        "cap_together": "{n} foto's van {who} samen, {years_prose}.",
        "cap_theme": "Een selectie uit {k} gelegenheden, {years_prose}.",
        "cap_year": "Het jaar {year} in {n} foto's.", "cap_trips_all": "{trips}: {places}.",
        "cap_trips_some": "{trips}, waaronder {places}.",
        "cap_on_this_day": "{day_month} in {k} verschillende jaren, {years_prose}.",
        "cap_years_ago": "{date}, {ago}.", "ago": "{n} jaar geleden", "ago_one": "een jaar geleden",
    },
}  # fmt: skip

_HOLIDAYS: dict[Language, dict[str, str]] = {
    Language.EN: {"christmas": "Christmas", "new_years_eve": "New Year's Eve", "new_year": "New Year's Day",
                  "easter": "Easter", "pentecost": "Whitsun", "halloween": "Halloween",
                  "thanksgiving": "Thanksgiving", "carnival": "Carnival"},
    Language.DE: {"christmas": "Weihnachten", "new_years_eve": "Silvester", "new_year": "Neujahr",
                  "easter": "Ostern", "pentecost": "Pfingsten", "halloween": "Halloween",
                  "thanksgiving": "Thanksgiving", "carnival": "Karneval"},
    Language.FR: {"christmas": "Noël", "new_years_eve": "Réveillon du Nouvel An", "new_year": "Jour de l'An",
                  "easter": "Pâques", "pentecost": "Pentecôte", "halloween": "Halloween",
                  "thanksgiving": "Thanksgiving", "carnival": "Carnaval"},
    Language.ES: {"christmas": "Navidad", "new_years_eve": "Nochevieja", "new_year": "Año Nuevo",
                  "easter": "Pascua", "pentecost": "Pentecostés", "halloween": "Halloween",
                  "thanksgiving": "Acción de Gracias", "carnival": "Carnaval"},
    Language.IT: {"christmas": "Natale", "new_years_eve": "San Silvestro", "new_year": "Capodanno",
                  "easter": "Pasqua", "pentecost": "Pentecoste", "halloween": "Halloween",
                  "thanksgiving": "Ringraziamento", "carnival": "Carnevale"},
    Language.NL: {"christmas": "Kerst", "new_years_eve": "Oudejaarsavond", "new_year": "Nieuwjaarsdag",
                  "easter": "Pasen", "pentecost": "Pinksteren", "halloween": "Halloween",
                  "thanksgiving": "Thanksgiving", "carnival": "Carnaval"},
}  # fmt: skip

_PLURALS: dict[Language, dict[str, tuple[str, str]]] = {
    Language.EN: {"night": ("night", "nights"), "trip": ("trip", "trips")},
    Language.DE: {"night": ("Nacht", "Nächte"), "trip": ("Reise", "Reisen")},
    Language.FR: {"night": ("nuit", "nuits"), "trip": ("voyage", "voyages")},
    Language.ES: {"night": ("noche", "noches"), "trip": ("viaje", "viajes")},
    Language.IT: {"night": ("notte", "notti"), "trip": ("viaggio", "viaggi")},
    Language.NL: {"night": ("nacht", "nachten"), "trip": ("reis", "reizen")},
}


@cache
def lexicon(language: Language | str) -> Lexicon:
    """The lexicon of a language (built on first use, then shared)."""
    lang = parse_language(language)
    common = {"language": lang, "themes": _THEMES[lang], "phrases": _PHRASES[lang],
              "holidays": _HOLIDAYS[lang], "plurals": _PLURALS[lang]}  # fmt: skip
    if lang is Language.EN:
        return _English(
            months=("January", "February", "March", "April", "May", "June", "July", "August", "September",
                    "October", "November", "December"),
            seasons={Season.SPRING: "spring", Season.SUMMER: "summer", Season.AUTUMN: "autumn",
                     Season.WINTER: "winter"},
            and_title="&", and_prose="and", **common,
        )  # fmt: skip
    if lang is Language.DE:
        return _German(
            months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                    "Oktober", "November", "Dezember"),
            seasons={Season.SPRING: "Frühling", Season.SUMMER: "Sommer", Season.AUTUMN: "Herbst",
                     Season.WINTER: "Winter"},
            and_title="&", and_prose="und", capitalised_nouns=True, extra_words=("der", "den", "im", "auf"),
            **common,
        )  # fmt: skip
    if lang is Language.FR:
        return _French(
            months=("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                    "octobre", "novembre", "décembre"),
            seasons={Season.SPRING: "printemps", Season.SUMMER: "été", Season.AUTUMN: "automne",
                     Season.WINTER: "hiver"},
            and_title="et", and_prose="et", prep_city="à", prep_region="en", prep_country="en",
            factor_preposition=False, extra_words=("au", "aux", "à", "le", "la", "les", "du", "de", "1er"),
            **common,
        )  # fmt: skip
    if lang is Language.ES:
        return _Spanish(
            months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                    "octubre", "noviembre", "diciembre"),
            seasons={Season.SPRING: "primavera", Season.SUMMER: "verano", Season.AUTUMN: "otoño",
                     Season.WINTER: "invierno"},
            and_title="y", and_prose="y", prep_city="en", prep_region="en", prep_country="en",
            extra_words=("el", "los", "las", "del", "al", "de", "e"),
            **common,
        )  # fmt: skip
    if lang is Language.IT:
        return _Italian(
            months=("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
                    "settembre", "ottobre", "novembre", "dicembre"),
            seasons={Season.SPRING: "primavera", Season.SUMMER: "estate", Season.AUTUMN: "autunno",
                     Season.WINTER: "inverno"},
            and_title="e", and_prose="e", prep_city="a", factor_preposition=False,
            extra_words=("il", "l'", "dal", "dall'", "al", "all'", "nel", "nei", "negli", "ad", "alla", "alle"),
            **common,
        )  # fmt: skip
    return _Dutch(
        months=("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                "oktober", "november", "december"),
        seasons={Season.SPRING: "lente", Season.SUMMER: "zomer", Season.AUTUMN: "herfst", Season.WINTER: "winter"},
        and_title="&", and_prose="en", extra_words=("de", "het", "op"),
        **common,
    )  # fmt: skip

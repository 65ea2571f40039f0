"""Is a generated title grounded in the album's facts?

A language model writes nicer titles than templates and also, now and then, a place the
family never went to. Before its text is used it must pass these checks; any failure
sends the album back to the grounded generator.

- shape: 1-8 titles of at most 70 characters on one line, a caption of at most 240;
- numbers: every number is a year, day, count or duration from the facts;
- months: a month name (this language or English) must lie within the album's dates;
- seasons: a season word must be the album's season (or that of its dates);
- holidays: a holiday name (any language) must be the album's holiday;
- countries: a country name (any language) must be one of the album's countries;
- places: a city or region of :mod:`curation.titles.places` must be the album's;
- library names: a person or place of *another* album must not appear;
- capitalised words: in languages that do not capitalise nouns (all but German), a
  capitalised word inside a sentence must be a name from the facts or a word of the
  language's own lexicon (the model is asked for sentence case).

The first word of a sentence is not checked for capitals (every sentence starts with
one); names there are still caught by the country, place-table and library-name checks.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from curation.albums.facts import season_of
from curation.albums.records import AlbumFacts, Place, Season
from curation.vision.themes import Theme
from curation.titles.lexicon import HOLIDAY_ALIASES, WORD, Language, holiday_key, lexicon
from curation.titles.places import all_country_names, all_place_names, gazetteer

MAX_TITLES = 8
MAX_TITLE_CHARS = 70
MAX_CAPTION_CHARS = 240
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n)\W*$")


def facts_names(facts: AlbumFacts) -> set[str]:
    """Every name the facts allow, in every language, casefolded (places, people)."""
    names: set[str] = set()
    places: list[Place] = [p for p in (facts.place, *facts.countries, *facts.highlights) if p is not None]
    for p in places:
        names |= all_place_names(p.name)
        if p.country_code:
            names |= all_country_names().get(p.country_code.upper(), set())
    names |= set(facts.people) | set(facts.subjects)
    return {n.casefold() for n in names}


def _words(names: Iterable[str]) -> set[str]:
    return {w.casefold() for n in names for w in WORD.findall(n)}


def _allowed_numbers(facts: AlbumFacts) -> set[int]:
    allowed = set(facts.years) | set(facts.years_ago)
    allowed |= {facts.n_photos, facts.n_occasions, facts.n_days, facts.n_trips, len(facts.years)}
    if facts.nights is not None:
        allowed |= {facts.nights, facts.nights + 1}
    for d in (facts.start, facts.end):
        if d is not None:
            allowed |= {d.day, d.year}
    if facts.day_month:
        allowed.add(facts.day_month[1])
    if facts.n_days >= 7:
        allowed.add(round(facts.n_days / 7))  # "2 weeks"
    for name in facts_names(facts):
        allowed |= {int(x) for x in re.findall(r"\d+", name)}
    return allowed


def _allowed_months(facts: AlbumFacts) -> set[int]:
    months: set[int] = set()
    if facts.day_month:
        months.add(facts.day_month[0])
    if facts.start and facts.end and (facts.end - facts.start).days < 366:
        d = date(facts.start.year, facts.start.month, 1)
        while d <= facts.end:
            months.add(d.month)
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return months


def _allowed_seasons(facts: AlbumFacts) -> set[Season]:
    seasons = {facts.season} if facts.season else set()
    if facts.start and facts.end and (facts.end - facts.start).days < 92:
        seasons |= {season_of(facts.start), season_of(facts.end)}
    return seasons


def grounding_problems(
    titles: Sequence[str],
    caption: str,
    facts: AlbumFacts,
    language: Language | str,
    *,
    known_names: Iterable[str] = (),
) -> list[str]:
    """Why the texts are not grounded in ``facts``; empty when they are.

    ``known_names`` are the people and places of the whole library: one of them that is
    not in this album's facts is a mix-up between albums.
    """
    lex = lexicon(language)
    problems: list[str] = []
    if not 1 <= len(titles) <= MAX_TITLES:
        problems.append(f"{len(titles)} titles (expected 1 to {MAX_TITLES})")
    for t in titles:
        if not t.strip() or len(t) > MAX_TITLE_CHARS or "\n" in t:
            problems.append(f"title of {len(t)} characters or on several lines: {t[:80]!r}")
    if not caption.strip() or len(caption) > MAX_CAPTION_CHARS:
        problems.append(f"caption of {len(caption)} characters (expected 1 to {MAX_CAPTION_CHARS})")
    if problems:
        return problems

    names = facts_names(facts)
    allowed_words = _words(names) | lex.words()
    numbers = _allowed_numbers(facts)
    months = _allowed_months(facts)
    seasons = _allowed_seasons(facts)
    holiday = holiday_key(facts.holiday)
    codes = {p.country_code.upper() for p in (facts.place, *facts.countries, *facts.highlights)
             if p is not None and p.country_code}  # fmt: skip
    finders = _finders(lex.language)
    other_albums = _Finder([(n, n.casefold()) for n in known_names if n.casefold() not in names], ignore_case=True)

    for text in [*titles, caption]:
        for number in re.findall(r"\d+", text):
            if int(number) not in numbers:
                problems.append(f"number {number} is not in the facts: {text!r}")
        for name, month in finders.months.find(text):
            if month not in months:
                problems.append(f"month {name!r} is outside the album's dates: {text!r}")
        for word, season in finders.seasons.find(text):
            if season not in seasons and not _snow_theme(facts, season):
                problems.append(f"season {word!r} is not the album's: {text!r}")
        for name, key in finders.holidays.find(text):
            if not _same_holiday(key, holiday):
                problems.append(f"holiday {name!r} is not the album's: {text!r}")
        for name, code in finders.countries.find(text):
            if code not in codes:
                problems.append(f"country {name!r} is not in the facts: {text!r}")
        for name, key in finders.places.find(text):
            if not {n.casefold() for n in gazetteer()[key]} & names:
                problems.append(f"place {name!r} is not in the facts: {text!r}")
        for name, _ in other_albums.find(text):
            problems.append(f"{name!r} belongs to another album: {text!r}")
        if not lex.capitalised_nouns:
            for match in WORD.finditer(text):
                word = match.group()
                if not word[:1].isupper() or _SENTENCE_START.search(text[: match.start()]):
                    continue
                if word.casefold() not in allowed_words and not _part_of_name(word, names):
                    problems.append(f"capitalised word {word!r} is not a name from the facts: {text!r}")
    return list(dict.fromkeys(problems))


class _Finder:
    """Whole-word search for many names at once (one compiled pattern), name -> key."""

    def __init__(self, entries: Iterable[tuple[str, Hashable]], *, ignore_case: bool) -> None:
        self.ignore_case = ignore_case
        self.keys = {(n.casefold() if ignore_case else n): k for n, k in entries}
        names = sorted(self.keys, key=len, reverse=True)
        self.pattern = (
            re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(n) for n in names)})(?!\w)", re.IGNORECASE if ignore_case else 0)
            if names
            else None
        )

    def find(self, text: str) -> list[tuple[str, Hashable]]:
        if self.pattern is None:
            return []
        found = []
        for match in self.pattern.finditer(text):
            name = match.group()
            found.append((name, self.keys[name.casefold() if self.ignore_case else name]))
        return found


class _Either:
    def __init__(self, *finders: _Finder) -> None:
        self.finders = finders

    def find(self, text: str) -> list[tuple[str, Hashable]]:
        return [hit for f in self.finders for hit in f.find(text)]


@dataclass(frozen=True)
class _Finders:
    months: _Either
    seasons: _Finder
    holidays: _Finder
    countries: _Finder
    places: _Finder


@cache
def _finders(language: Language) -> _Finders:
    lex, english = lexicon(language), lexicon(Language.EN)
    months = [(name, m) for m in range(1, 13) for name in {lex.month(m), english.month(m)}]
    holidays = [*HOLIDAY_ALIASES.items()]
    holidays += [(local, key) for lang in Language for key, local in lexicon(lang).holidays.items()]
    return _Finders(
        # Capitalised month names match case-sensitively ("May" the month, not "may" the
        # verb); the languages that write months lower-case match any case.
        months=_Either(
            _Finder([(n, m) for n, m in months if n[:1].isupper()], ignore_case=False),
            _Finder([(n, m) for n, m in months if not n[:1].isupper()], ignore_case=True),
        ),
        seasons=_Finder([(w, s) for s in Season for w in {lex.season(s), english.season(s)}], ignore_case=True),
        holidays=_Finder(holidays, ignore_case=True),
        countries=_Finder([(n, code) for code, spelled in all_country_names().items() for n in spelled],
                          ignore_case=True),  # fmt: skip
        # Case-sensitive: "Nice" the city, not "a nice day".
        places=_Finder([(n, key) for key, spelled in gazetteer().items() for n in spelled], ignore_case=False),
    )


# New Year's Eve and New Year's Day are one celebration (Italian "Capodanno" names both).
_SAME_HOLIDAY = [{"new_year", "new_years_eve"}]


def _same_holiday(key: str, album: str | None) -> bool:
    return key == album or any(key in group and album in group for group in _SAME_HOLIDAY)


def _snow_theme(facts: AlbumFacts, season: Season) -> bool:
    return season is Season.WINTER and facts.theme is Theme.SNOW_WINTER


def _part_of_name(word: str, names: set[str]) -> bool:
    w = word.casefold()
    return any(w in WORD.findall(n) or w == n for n in names)


def localised_names(facts: AlbumFacts, language: Language | str) -> dict[str, object]:
    """The facts' names as the language writes them (sent to the LLM so it can use them)."""
    lex = lexicon(language)
    out: dict[str, object] = {}
    if facts.place is not None:
        out["place"] = lex.places_label(facts.place, facts.countries)
        out["in_place"] = lex.in_place(facts.place, facts.countries)
    if facts.highlights:
        out["highlights"] = [lex.place(p) for p in facts.highlights]
    if facts.season is not None:
        out["season"] = lex.season(facts.season)
    if lex.holiday(facts.holiday):
        out["holiday"] = lex.holiday(facts.holiday)
    if facts.start and facts.end:
        out["dates"] = lex.range_prose(facts.start, facts.end)
    if facts.theme is not None:
        out["theme"] = lex.themes[facts.theme][0]
    return out


__all__ = ["facts_names", "grounding_problems", "localised_names"]

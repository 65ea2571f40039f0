"""The default title generator: templates filled from the album's facts, in the language's
own grammar. It cannot say anything the facts do not hold, and every suggestion records
the facts it used.

Suggestions come in a fixed order of preference per kind (the first is the title):

- trip: holiday in place > "A week/weekend/two weeks in place" > season in place >
  "N days in place" > place, month year > season year with people
- event: holiday year with people > holiday year > holiday in place > duration in place >
  season in place > season year with people > place, date > date
  (events at home skip the "in place" ones: "A day in Lisbon" is odd when you live there)
- person: name through the years > moments with name > name, years
- together: names > names together > names through the years > names, years
- theme: theme phrase > theme phrase, years > second phrase
- year: year in review > our year > year: highlights
- on this day: N years ago today > on day-month > day-month through the years
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from curation.albums.records import AlbumFacts, AlbumKind, Place
from curation.titles.base import TitleGenerator, TitleResult, TitleSuggestion, register_title_generator
from curation.titles.lexicon import Language, Lexicon, capitalise, lexicon

_MAX_NAMES_IN_TITLE = 3


def duration_key(facts: AlbumFacts) -> str | None:
    """'day', 'weekend', 'week', 'two_weeks', 'days' or None for the album's time span."""
    if facts.start is None or facts.end is None:
        return None
    n = facts.n_days
    nights = facts.nights if facts.nights is not None else n - 1
    if n == 1:
        return "day"
    if nights in (1, 2) and facts.start.weekday() in (4, 5) and facts.end.weekday() in (5, 6):
        return "weekend"
    if 6 <= nights <= 8:
        return "week"
    if 13 <= nights <= 15:
        return "two_weeks"
    if n <= 5:
        return "days"
    return None


def _place_value(facts: AlbumFacts) -> Any:  # noqa: ANN401
    if facts.countries:
        return [c.name for c in facts.countries]
    return facts.place.name if facts.place else None


@dataclass
class _Writer:
    facts: AlbumFacts
    lex: Lexicon
    out: list[TitleSuggestion] = field(default_factory=list)

    def add(self, template: str, text: str | None, **used: Any) -> None:  # noqa: ANN401
        if not text:
            return
        text = capitalise(" ".join(text.split()))
        if any(s.text == text for s in self.out):
            return
        self.out.append(TitleSuggestion(text, {k: v for k, v in used.items() if v is not None}, template))

    # -- shared pieces -----------------------------------------------------------------

    @property
    def year(self) -> int | None:
        return self.facts.year

    @property
    def years_label(self) -> str | None:
        ys = self.facts.years
        return self.lex.years(ys[0], ys[-1]) if ys else None

    @property
    def place(self) -> Place | None:
        return self.facts.place

    def in_place(self) -> str | None:
        return self.lex.in_place(self.place, self.facts.countries) if self.place else None

    def place_label(self) -> str | None:
        return self.lex.places_label(self.place, self.facts.countries) if self.place else None

    def people_title(self) -> str | None:
        names = list(self.facts.people[:_MAX_NAMES_IN_TITLE])
        return self.lex.join_title(names) if names else None

    def people_used(self) -> list[str]:
        return list(self.facts.people[:_MAX_NAMES_IN_TITLE])

    def with_people(self, base: str) -> str | None:
        people = self.people_title()
        return self.lex.phrase("with", base=base, people=people) if people else None

    def duration(self) -> tuple[str | None, str | None]:
        key = duration_key(self.facts)
        if key is None:
            return None, None
        return key, self.lex.phrase(key, n=self.facts.n_days)

    def season_year(self) -> str | None:
        if self.facts.season is None or self.year is None:
            return None
        return self.lex.season_year(self.facts.season, self.year)


def _trip_or_event_titles(w: _Writer) -> None:
    f, lex = w.facts, w.lex
    at_home = f.at_home and f.kind is AlbumKind.EVENT
    place = _place_value(f)
    holiday = lex.holiday(f.holiday)
    key, duration = w.duration()
    in_place = w.in_place()
    season = lex.season(f.season) if f.season else None
    people = w.people_used() or None

    if f.kind is AlbumKind.EVENT and holiday and w.year:
        base = lex.phrase("holiday_year", holiday=holiday, year=w.year)
        w.add("holiday_year_with", w.with_people(base), holiday=f.holiday, year=w.year, people=people)
        w.add("holiday_year", base, holiday=f.holiday, year=w.year)
    if holiday and in_place and not at_home:
        w.add("holiday_in", lex.phrase("holiday_in", holiday=holiday, in_place=in_place), holiday=f.holiday, place=place)
    used_duration = {"n_days": f.n_days, "nights": f.nights, "start": f.start.isoformat() if f.start else None}
    if in_place and not at_home and key in ("weekend", "week", "two_weeks"):
        w.add("duration_in", lex.phrase("duration_in", duration=duration, in_place=in_place), place=place, **used_duration)
    if season and in_place and not at_home:
        w.add("season_in", lex.phrase("season_in", season=season, in_place=in_place), season=f.season, place=place)
    if in_place and not at_home and key in ("day", "days"):
        w.add("duration_in", lex.phrase("duration_in", duration=duration, in_place=in_place), place=place, **used_duration)
    season_year = w.season_year()
    if season_year and people:
        w.add("season_year_with", w.with_people(season_year), season=f.season, year=w.year, people=people)
    label = w.place_label()
    if label and f.start and f.end:
        if f.start == f.end:
            w.add("place_date", lex.phrase("place_date", place=label, date=lex.date(f.start)),
                  place=place, start=f.start.isoformat())  # fmt: skip
        elif (f.start.year, f.start.month) == (f.end.year, f.end.month):
            month_year = lex.month_year(f.start.month, f.start.year)
            w.add("place_month", lex.phrase("place_month", place=label, month_year=month_year),
                  place=place, start=f.start.isoformat())  # fmt: skip
        elif w.year:
            w.add("place_year", lex.phrase("place_year", place=label, year=w.year), place=place, year=w.year)
    if season_year:
        w.add("season_year", season_year, season=f.season, year=w.year)
    if not w.out and f.start:
        w.add("date", lex.date(f.start), start=f.start.isoformat())


def _person_titles(w: _Writer) -> None:
    f, lex = w.facts, w.lex
    years = list(f.years[:1] + f.years[-1:]) if f.years else None
    if f.subjects and not f.unnamed_subjects:
        who = f.subjects[0]
        if len(f.years) >= 2:
            w.add("through_years", lex.phrase("through_years", who=who), subjects=[who], years=years)
        w.add("moments_with", lex.phrase("moments_with", who=who), subjects=[who])
        if w.years_label:
            w.add("who_years", lex.phrase("who_years", who=who, years=w.years_label), subjects=[who], years=years)
    else:
        face = lex.phrase("familiar_face")
        w.add("familiar_face", face)
        if w.years_label:
            w.add("who_years", lex.phrase("who_years", who=face, years=w.years_label), years=years)


def _together_titles(w: _Writer) -> None:
    f, lex = w.facts, w.lex
    years = list(f.years[:1] + f.years[-1:]) if f.years else None
    if len(f.subjects) >= 2 and not f.unnamed_subjects:
        names = list(f.subjects)
        who = lex.join_title(names)
        w.add("names", who, subjects=names)
        w.add("together", lex.phrase("together", who=who), subjects=names)
        if len(f.years) >= 2:
            w.add("through_years", lex.phrase("through_years", who=who), subjects=names, years=years)
        if w.years_label:
            w.add("who_years", lex.phrase("who_years", who=who, years=w.years_label), subjects=names, years=years)
    else:
        faces = lex.phrase("familiar_faces")
        w.add("familiar_faces", faces)
        if w.years_label:
            w.add("who_years", lex.phrase("who_years", who=faces, years=w.years_label), years=years)


def _theme_titles(w: _Writer) -> None:
    f, lex = w.facts, w.lex
    if f.theme is None:
        return
    phrases = lex.themes[f.theme]
    years = list(f.years[:1] + f.years[-1:]) if f.years else None
    w.add("theme", phrases[0], theme=f.theme.value)
    if w.years_label:
        w.add("theme_years", lex.phrase("theme_years", theme=phrases[0], years=w.years_label),
              theme=f.theme.value, years=years)  # fmt: skip
    for extra in phrases[1:]:
        w.add("theme", extra, theme=f.theme.value)


def _year_titles(w: _Writer) -> None:
    f, lex = w.facts, w.lex
    if w.year is None:
        return
    w.add("year_review", lex.phrase("year_review", year=w.year), year=w.year)
    w.add("our_year", lex.phrase("our_year", year=w.year), year=w.year)
    if f.highlights:
        places = lex.join_title([lex.place(p) for p in f.highlights])
        w.add("year_places", lex.phrase("year_places", year=w.year, places=places),
              year=w.year, highlights=[p.name for p in f.highlights])  # fmt: skip


def _on_this_day_titles(w: _Writer) -> None:
    f, lex = w.facts, w.lex
    if f.day_month is None:
        return
    month, day = f.day_month
    day_month = lex.day_month(month, day)
    if len(f.years_ago) == 1:
        n = f.years_ago[0]
        text = lex.phrase("year_ago_today") if n == 1 else lex.phrase("years_ago_today", n=n)
        w.add("years_ago_today", text, years_ago=[n])
    w.add("on_day", lex.phrase("on_day", day_month=day_month), day_month=[month, day])
    if len(f.years) >= 2:
        w.add("day_through_years", lex.phrase("day_through_years", day_month=day_month), day_month=[month, day],
              years=[f.years[0], f.years[-1]])  # fmt: skip


_TITLES = {
    AlbumKind.TRIP: _trip_or_event_titles,
    AlbumKind.EVENT: _trip_or_event_titles,
    AlbumKind.PERSON: _person_titles,
    AlbumKind.TOGETHER: _together_titles,
    AlbumKind.THEME: _theme_titles,
    AlbumKind.YEAR: _year_titles,
    AlbumKind.ON_THIS_DAY: _on_this_day_titles,
}


def caption(facts: AlbumFacts, lex: Lexicon) -> tuple[str, dict[str, Any]]:
    """One or two short sentences, and the facts they used."""
    f = facts
    used: dict[str, Any] = {}
    sentences: list[str | None] = []
    years_prose = lex.years_prose(f.years[0], f.years[-1]) if f.years else ""
    if f.years:
        used["years"] = [f.years[0], f.years[-1]]
    if f.kind in (AlbumKind.TRIP, AlbumKind.EVENT) and f.start and f.end:
        used.pop("years", None)
        in_place = lex.in_place(f.place, f.countries) if f.place else None
        rng = lex.range_prose(f.start, f.end)
        used.update(start=f.start.isoformat(), end=f.end.isoformat())
        if in_place:
            used["place"] = _place_value(f)
        if f.kind is AlbumKind.TRIP and f.nights and in_place:
            sentences.append(lex.phrase("cap_trip", nights=lex.plural("night", f.nights), in_place=in_place, range=rng))
            used["nights"] = f.nights
        elif in_place:
            sentences.append(lex.phrase("cap_event", range=rng, in_place=in_place))
        else:
            sentences.append(lex.phrase("cap_event_noplace", range=rng))
        if f.people:
            sentences.append(lex.phrase("cap_with", people=lex.join_prose(list(f.people))))
            used["people"] = list(f.people)
    elif f.kind is AlbumKind.PERSON:
        named = f.subjects and not f.unnamed_subjects
        who = f.subjects[0] if named else lex.phrase("familiar_face_prose")
        sentences.append(lex.phrase("cap_person", n=f.n_photos, who=who, years_prose=years_prose))
        used.update(n_photos=f.n_photos, **({"subjects": [who]} if named else {}))
    elif f.kind is AlbumKind.TOGETHER:
        named = len(f.subjects) >= 2 and not f.unnamed_subjects
        who = lex.join_prose(list(f.subjects)) if named else lex.phrase("familiar_faces_prose")
        sentences.append(lex.phrase("cap_together", n=f.n_photos, who=who, years_prose=years_prose))
        used.update(n_photos=f.n_photos, **({"subjects": list(f.subjects)} if named else {}))
    elif f.kind is AlbumKind.THEME:
        sentences.append(lex.phrase("cap_theme", k=f.n_occasions, years_prose=years_prose))
        used["n_occasions"] = f.n_occasions
    elif f.kind is AlbumKind.YEAR and f.year:
        used.pop("years", None)
        sentences.append(lex.phrase("cap_year", year=f.year, n=f.n_photos))
        used.update(year=f.year, n_photos=f.n_photos)
        if f.n_trips and f.highlights:
            key = "cap_trips_all" if f.n_trips == len(f.highlights) else "cap_trips_some"
            places = lex.join_prose([lex.place(p) for p in f.highlights])
            sentences.append(lex.phrase(key, trips=lex.plural("trip", f.n_trips), places=places))
            used.update(n_trips=f.n_trips, highlights=[p.name for p in f.highlights])
    elif f.kind is AlbumKind.ON_THIS_DAY and f.day_month:
        month, day = f.day_month
        used["day_month"] = [month, day]
        if len(f.years) == 1 and f.years_ago:
            n = f.years_ago[0]
            ago = lex.phrase("ago_one") if n == 1 else lex.phrase("ago", n=n)
            sentences.append(lex.phrase("cap_years_ago", date=lex.date(_safe_date(f.years[0], month, day)), ago=ago))
            used["years_ago"] = [n]
        else:
            sentences.append(lex.phrase("cap_on_this_day", day_month=lex.day_month(month, day), k=len(f.years),
                                        years_prose=years_prose))  # fmt: skip
    text = " ".join(capitalise(s) for s in sentences if s)
    return text, used


def _safe_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February
        return date(year, month, 28)


@register_title_generator("grounded")
class GroundedTitleGenerator(TitleGenerator):
    """Titles from templates and the album's facts; deterministic, offline, every language."""

    def __init__(self, max_suggestions: int = 5) -> None:
        if max_suggestions < 1:
            raise ValueError(f"max_suggestions must be >= 1, got {max_suggestions}")
        self.max_suggestions = max_suggestions

    def generate(self, facts: AlbumFacts, language: Language | str) -> TitleResult:
        lex = lexicon(language)
        writer = _Writer(facts, lex)
        _TITLES[facts.kind](writer)
        if not writer.out:  # facts too thin for any template: say what kind of album it is
            writer.add("fallback", lex.years(facts.years[0], facts.years[-1]) if facts.years else facts.kind.value)
        text, used = caption(facts, lex)
        return TitleResult(
            suggestions=tuple(writer.out[: self.max_suggestions]),
            caption=text,
            caption_facts_used=used,
            generator=self.name,
            language=lex.language,
        )

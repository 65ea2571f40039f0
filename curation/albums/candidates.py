"""Which albums are worth making: one rule per album kind.

A rule looks at the whole library and returns :class:`Candidate` albums: the photos the
album may draw from and a sentence saying why it qualified. Every rule asks for at least
``min_photos`` usable photos (not clutter, known capture time, one per near-duplicate
group) and for a spread that makes the album more than one afternoon, e.g. a person must
appear at ``person_min_occasions`` events and in ``person_min_months`` calendar months.

"Occasions" are events, and calendar days for photos outside any event (before the events
stage has run every photo is outside), so the rules still work on a library without events.
The thresholds live in :class:`~curation.albums.config.AlbumSettings`; docs/albums.md has
the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations

import numpy as np

from curation.albums.config import AlbumSettings
from curation.albums.records import AlbumKind, EventRecord, LibraryInputs, TripRecord
from curation.vision.themes import THEMES, Theme

# A group photo of 30 people holds 4,060 triples; such photos say little about who is
# close to whom, so groups larger than pairs are only counted from photos this small.
_MAX_PERSONS_FOR_GROUPS = 6
# Pairs from crowd photos (a wedding, a school class) would swamp the counts the same way.
_MAX_PERSONS_FOR_PAIRS = 20


@dataclass(frozen=True, eq=False)
class Candidate:
    kind: AlbumKind
    key: str  # unique within the kind; part of the album id
    rows: np.ndarray  # PhotoTable rows the album may use (not yet filtered or deduplicated)
    rule: str  # why it qualified, for the review page
    spread: float  # 0..1, how widely it covers its time span (scoring input)
    subjects: tuple[int, ...] = ()  # person ids (person / together albums)
    theme: Theme | None = None
    trip: TripRecord | None = None
    event: EventRecord | None = None
    year: int | None = None
    day_month: tuple[int, int] | None = None
    today: date | None = None


@dataclass(frozen=True, eq=False)
class LibraryIndex:
    """Per-photo arrays every rule needs, computed once."""

    inputs: LibraryInputs
    usable: np.ndarray  # bool: known time, not clutter, representative of its near-duplicate group
    day: np.ndarray  # int64 days since 1970 (meaningless where taken_at is NaT)
    year: np.ndarray  # int32
    month_key: np.ndarray  # int32 year * 12 + month - 1
    occasion: np.ndarray  # int64: event index, or n_events + day for photos outside events; -1 no time
    person_row: np.ndarray  # row of each entry of photos.person_ids
    burst: np.ndarray  # int64: size of the photo's near-duplicate group (1 outside groups)
    sharpest: np.ndarray  # bool: the sharpest member of its group (False when unmeasured)

    @classmethod
    def build(cls, inputs: LibraryInputs) -> LibraryIndex:
        p = inputs.photos
        has_time = ~np.isnat(p.taken_at)
        days = p.taken_at.astype("datetime64[D]")
        day = np.where(has_time, days.astype(np.int64), 0)
        months = days.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
        year = np.where(has_time, 1970 + months // 12, 0).astype(np.int32)
        month_key = np.where(has_time, year.astype(np.int64) * 12 + months % 12, -1).astype(np.int32)
        n_events = len(inputs.events)
        occasion = np.where(p.event >= 0, p.event.astype(np.int64), n_events + day - day.min(initial=0))
        occasion = np.where(has_time, occasion, -1)
        not_dup = (p.dup_group < 0) | p.dup_representative
        usable = has_time & ~p.is_clutter & not_dup
        person_row = np.repeat(np.arange(len(p), dtype=np.int64), p.n_persons)
        burst, sharpest = _burst_info(p.dup_group, p.sharpness)
        return cls(inputs, usable, day, year, month_key, occasion, person_row, burst, sharpest)

    def n_possible(self, rows: np.ndarray) -> int:
        """Photos of ``rows`` an album could hold at most (time known, not clutter)."""
        return int(((self.occasion[rows] >= 0) & ~self.inputs.photos.is_clutter[rows]).sum())

    def n_usable(self, rows: np.ndarray) -> int:
        return int(self.usable[rows].sum())

    def distinct(self, values: np.ndarray, rows: np.ndarray) -> int:
        rows = rows[self.usable[rows]]
        return len(np.unique(values[rows]))


def _burst_info(group: np.ndarray, sharpness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    burst = np.ones(len(group), dtype=np.int64)
    sharpest = np.zeros(len(group), dtype=bool)
    members = np.nonzero(group >= 0)[0]
    if not len(members):
        return burst, sharpest
    members = members[np.argsort(group[members], kind="stable")]
    _, starts, counts = np.unique(group[members], return_index=True, return_counts=True)
    burst[members] = np.repeat(counts, counts)
    sharp = np.where(np.isnan(sharpness[members]), -np.inf, sharpness[members])
    best = np.repeat(np.maximum.reduceat(sharp, starts), counts)
    sharpest[members] = np.isfinite(sharp) & (sharp >= best)
    return burst, sharpest


RuleFn = Callable[[LibraryIndex, AlbumSettings, date], Iterator[Candidate]]
CANDIDATE_RULES: dict[AlbumKind, RuleFn] = {}


def rule(kind: AlbumKind) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        CANDIDATE_RULES[kind] = fn
        return fn

    return register


def find_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> list[Candidate]:
    """Candidates of every enabled kind, in kind order then key order (deterministic)."""
    out: list[Candidate] = []
    for kind in AlbumKind:
        if kind in config.kinds:
            out.extend(sorted(CANDIDATE_RULES[kind](index, config, today), key=lambda c: c.key))
    return out


def _groups(values: np.ndarray, rows: np.ndarray) -> dict[int, np.ndarray]:
    """rows grouped by values[rows], groups and rows in ascending order."""
    if not len(rows):
        return {}
    order = np.argsort(values[rows], kind="stable")
    sorted_rows = rows[order]
    keys, starts = np.unique(values[sorted_rows], return_index=True)
    return {int(k): part for k, part in zip(keys, np.split(sorted_rows, starts[1:]), strict=True)}


def _all_rows(index: LibraryIndex) -> np.ndarray:
    return np.arange(len(index.inputs.photos), dtype=np.int64)


# ----------------------------------------------------------------------------- rules


@rule(AlbumKind.TRIP)
def trip_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> Iterator[Candidate]:
    """A trip of the events stage with ``trip_min_nights`` nights and enough photos."""
    by_trip: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(index.inputs.events):
        if e.trip_id is not None:
            by_trip[e.trip_id].append(i)
    event = index.inputs.photos.event
    for trip in index.inputs.trips:
        if trip.nights < config.trip_min_nights:
            continue
        rows = np.nonzero(np.isin(event, by_trip.get(trip.trip_id, [])))[0]
        n = index.n_usable(rows)
        if n < config.min_photos:
            continue
        days = index.distinct(index.day, rows)
        yield Candidate(
            AlbumKind.TRIP, trip.trip_id, rows,
            rule=f"{trip.nights} nights away, {len(by_trip.get(trip.trip_id, []))} events, {n} usable photos",
            spread=min(1.0, days / max(1, trip.nights + 1)) * min(1.0, (trip.nights + 1) / 8),
            trip=trip,
        )  # fmt: skip


@rule(AlbumKind.EVENT)
def event_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> Iterator[Candidate]:
    """An event outside any trip (trips get their own album) with enough photos."""
    trip_ids = {t.trip_id for t in index.inputs.trips}
    by_event = _groups(index.inputs.photos.event, np.nonzero(index.inputs.photos.event >= 0)[0])
    for i, event in enumerate(index.inputs.events):
        if event.trip_id is not None and event.trip_id in trip_ids:
            continue
        rows = by_event.get(i)
        if rows is None:
            continue
        n = index.n_usable(rows)
        if n < config.min_photos:
            continue
        hours = len(np.unique(index.inputs.photos.taken_at[rows].astype("datetime64[h]")))
        yield Candidate(
            AlbumKind.EVENT, event.event_id, rows,
            rule=f"{event.n_days} day(s), {n} usable photos" + (f", {event.holiday}" if event.holiday else ""),
            spread=min(1.0, hours / 6),
            event=event,
        )  # fmt: skip


def _person_rows(index: LibraryIndex) -> dict[int, np.ndarray]:
    p = index.inputs.photos
    return _groups(p.person_ids, np.arange(len(p.person_ids)))


@rule(AlbumKind.PERSON)
def person_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> Iterator[Candidate]:
    """A person seen at ``person_min_occasions`` occasions in ``person_min_months`` months."""
    names = {p.person_id: p.name for p in index.inputs.persons}
    for pid, entries in _person_rows(index).items():
        if pid not in names or (names[pid] is None and not config.include_unnamed_people):
            continue
        rows = np.unique(index.person_row[entries])
        n = index.n_usable(rows)
        if n < config.min_photos:
            continue
        occasions = index.distinct(index.occasion, rows)
        months = index.distinct(index.month_key, rows)
        if occasions < config.person_min_occasions or months < config.person_min_months:
            continue
        yield Candidate(
            AlbumKind.PERSON, str(pid), rows,
            rule=f"in {n} usable photos at {occasions} occasions over {months} months",
            spread=0.5 * min(1.0, occasions / 20) + 0.5 * min(1.0, months / 24),
            subjects=(pid,),
        )  # fmt: skip


@rule(AlbumKind.TOGETHER)
def together_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> Iterator[Candidate]:
    """Two or more people in the same photos at ``together_min_occasions`` occasions.

    A pair is dropped when a larger group covers 80% of its photos: the group album says
    the same thing, more precisely.
    """
    p = index.inputs.photos
    names = {x.person_id: x.name for x in index.inputs.persons}
    allowed = {pid for pid, name in names.items() if name is not None or config.include_unnamed_people}
    # Only people with enough usable photos of their own can be in a group album.
    usable_entries = index.usable[index.person_row]
    counts = np.bincount(p.person_ids[usable_entries]) if usable_entries.any() else np.zeros(0, np.int64)
    frequent = {pid for pid in allowed if pid < len(counts) and counts[pid] >= config.min_photos}
    keep = index.usable[index.person_row] & np.isin(p.person_ids, sorted(frequent))
    found: dict[tuple[int, ...], tuple[np.ndarray, int, int]] = {}
    for size in range(2, config.together_max_group + 1):
        limit = _MAX_PERSONS_FOR_PAIRS if size == 2 else _MAX_PERSONS_FOR_GROUPS
        for group, rows, occasions, months in _co_occurrences(
            index, index.person_row[keep], p.person_ids[keep], size, limit,
            config.min_photos, config.together_min_occasions,
        ):  # fmt: skip
            found[group] = (rows, occasions, months)
    covered: dict[tuple[int, ...], int] = {}  # subgroup -> photos of its largest kept supergroup
    for group in sorted(found, key=lambda g: (-len(g), g)):
        rows, occasions, months = found[group]
        if covered.get(group, 0) >= 0.8 * len(rows):
            continue
        for size in range(2, len(group)):
            for sub in combinations(group, size):
                covered[sub] = max(covered.get(sub, 0), len(rows))
        yield Candidate(
            AlbumKind.TOGETHER, "+".join(str(x) for x in group), rows,
            rule=f"{len(group)} people together in {len(rows)} usable photos at {occasions} occasions",
            spread=0.5 * min(1.0, occasions / 15) + 0.5 * min(1.0, months / 24),
            subjects=group,
        )  # fmt: skip


def _co_occurrences(
    index: LibraryIndex, rows: np.ndarray, pids: np.ndarray, size: int, max_persons: int,
    min_photos: int, min_occasions: int,
) -> list[tuple[tuple[int, ...], np.ndarray, int, int]]:
    """Groups of ``size`` people seen together in ``min_photos`` photos at ``min_occasions``
    occasions: (group, photo rows, occasions, months), counting photos with at most
    ``max_persons`` of the given people. Vectorised: one combinations template per photo
    size, groups encoded as one integer each."""  # fmt: skip
    order = np.lexsort((pids, rows))
    rows, pids = rows[order], pids[order]
    photo_rows, starts, counts = np.unique(rows, return_index=True, return_counts=True)
    found_groups, found_rows = [], []
    for m in np.unique(counts):
        if m < size or m > max_persons:
            continue
        which = np.nonzero(counts == m)[0]
        template = np.array(list(combinations(range(int(m)), size)), dtype=np.int64)
        positions = starts[which][:, None, None] + template[None]  # photos x groups x size
        found_groups.append(pids[positions].reshape(-1, size))
        found_rows.append(np.repeat(photo_rows[which], len(template)))
    if not found_groups:
        return []
    members = np.concatenate(found_groups)
    group_rows = np.concatenate(found_rows)
    # One int64 per group (dense person index in base n_people) so np.unique stays 1-d.
    people, dense = np.unique(members, return_inverse=True)
    dense = dense.reshape(members.shape).astype(np.int64)
    code = np.zeros(len(members), dtype=np.int64)
    for j in range(size):
        code = code * len(people) + dense[:, j]
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    groups = members[first]
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse, minlength=len(groups))
    n_occasions = _distinct_per_group(inverse, index.occasion[group_rows], len(groups))
    n_months = _distinct_per_group(inverse, index.month_key[group_rows], len(groups))
    wanted = np.nonzero((counts >= min_photos) & (n_occasions >= min_occasions))[0]
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    sorted_rows = group_rows[order]
    return [
        (tuple(int(x) for x in groups[g]), sorted_rows[bounds[g] : bounds[g + 1]], int(n_occasions[g]), int(n_months[g]))
        for g in wanted
    ]


def _distinct_per_group(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of distinct ``values`` per ``group`` id (both non-negative ints)."""
    span = int(values.max()) + 1 if len(values) else 1
    pairs = np.unique(group.astype(np.int64) * span + values)
    return np.bincount(pairs // span, minlength=n_groups)


@rule(AlbumKind.THEME)
def theme_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> Iterator[Candidate]:
    """Photos whose top theme scores ``theme_min_score``, from ``theme_min_occasions`` occasions."""
    p = index.inputs.photos
    strong = np.nonzero((p.theme >= 0) & (p.theme_score >= config.theme_min_score))[0]
    for t, rows in _groups(p.theme.astype(np.int64), strong).items():
        theme = THEMES[t]
        if theme in config.excluded_themes:
            continue
        n = index.n_usable(rows)
        occasions = index.distinct(index.occasion, rows)
        if n < config.min_photos or occasions < config.theme_min_occasions:
            continue
        years = index.distinct(index.year, rows)
        yield Candidate(
            AlbumKind.THEME, theme.value, rows,
            rule=f"{n} usable {theme.value} photos from {occasions} occasions",
            spread=0.5 * min(1.0, occasions / 15) + 0.5 * min(1.0, years / 4),
            theme=theme,
        )  # fmt: skip


@rule(AlbumKind.YEAR)
def year_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> Iterator[Candidate]:
    """A finished year (or the current one from December on) with photos in ``year_min_months`` months."""
    has_time = np.nonzero(index.occasion >= 0)[0]
    for year, rows in _groups(index.year.astype(np.int64), has_time).items():
        if year > today.year or (year == today.year and today.month < 12):
            continue
        n = index.n_usable(rows)
        months = index.distinct(index.month_key, rows)
        if n < config.min_photos or months < config.year_min_months:
            continue
        yield Candidate(
            AlbumKind.YEAR, str(year), rows,
            rule=f"{n} usable photos in {months} months",
            spread=min(1.0, months / 12),
            year=year,
        )  # fmt: skip


@rule(AlbumKind.ON_THIS_DAY)
def on_this_day_candidates(index: LibraryIndex, config: AlbumSettings, today: date) -> Iterator[Candidate]:
    """Today's calendar day (+- the window) in ``on_this_day_min_years`` earlier years."""
    has_time = index.occasion >= 0
    w = config.on_this_day_window_days
    parts = []
    years = sorted({int(y) for y in np.unique(index.year[has_time])} - {today.year})
    for year in years:
        if year > today.year:
            continue
        target = _same_day(today, year)
        lo = (target - timedelta(days=w) - date(1970, 1, 1)).days
        hi = (target + timedelta(days=w) - date(1970, 1, 1)).days
        hit = np.nonzero(has_time & (index.day >= lo) & (index.day <= hi))[0]
        if len(hit):
            parts.append(hit)
    if not parts:
        return
    rows = np.concatenate(parts)
    n = index.n_usable(rows)
    n_years = index.distinct(index.year, rows)
    if n < config.min_photos or n_years < config.on_this_day_min_years:
        return
    yield Candidate(
        AlbumKind.ON_THIS_DAY, today.isoformat(), rows,
        rule=f"{n} usable photos from {n_years} earlier years",
        spread=min(1.0, n_years / 5),
        day_month=(today.month, today.day),
        today=today,
    )  # fmt: skip


def _same_day(today: date, year: int) -> date:
    try:
        return today.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return date(year, 2, 28)

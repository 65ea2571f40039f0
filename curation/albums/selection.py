"""Picking an album's photos: eligible pool, maximal marginal relevance, cover, reasons.

1. **Pool.** The candidate's photos with a capture time, minus clutter, minus near-duplicates
   (one per ``near_duplicates`` group: the group's representative when it is in the pool,
   else the best-rated member). Huge pools are cut to ``max_pool`` by keeping the best
   photos of every event/day, so a 20,000-photo year still spans the whole year.
2. **Size.** ``target_fraction`` of the pool, clamped to ``min_photos..max_photos``;
   a pool below ``min_photos`` makes no album.
3. **MMR.** Greedy: each step takes the photo with the best
   ``lambda * relevance - (1 - lambda) * redundancy``. Relevance is quality (or
   ``default_quality``) plus ``face_bonus`` for photos with people; redundancy is the
   largest similarity to a photo already picked: cosine of the embeddings, or
   ``time_redundancy`` for a photo taken within minutes of it, whichever is larger (and
   at least 0.3 for a photo of an event or trip day already in the album).
   Photos closer than ``duplicate_similarity`` to a pick are never picked. Albums that
   span several events or days cap each at ``max(2, ceil(2k / n))`` photos until every
   other one is used up.
4. **Order and cover.** Chronological (time, then photo id). The cover is the pick with
   the best quality + faces + likeness to the album's mean embedding.

Every pick keeps a one-line reason built from why MMR took it. No randomness: ties go to
the earlier photo (argmax takes the first), so the same inputs give the same album.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np

from curation.albums.candidates import LibraryIndex
from curation.albums.config import AlbumSettings
from curation.vision.themes import THEMES, Theme

# Photos this close in time look alike even without embeddings (same table, same view).
_TIME_SCALE_S = 900.0
# A photo from an event (or trip day) already in the album counts as this redundant at
# least, so albums over many events reach more of them even where embeddings differ.
_SAME_OCCASION = 0.3

# Nouns for reasons ("first beach photo"); reasons are for the review team, in English.
THEME_NOUNS: dict[Theme, str] = {
    Theme.BEACH_SEA: "beach",
    Theme.MOUNTAINS_NATURE: "nature",
    Theme.CITY_ARCHITECTURE: "city",
    Theme.FOOD_DRINK: "food",
    Theme.PETS: "pet",
    Theme.WILDLIFE: "wildlife",
    Theme.PEOPLE_PORTRAITS: "portrait",
    Theme.PARTY_CELEBRATION: "party",
    Theme.SPORT: "sport",
    Theme.SNOW_WINTER: "snow",
    Theme.VEHICLES_TRAVEL: "travel",
    Theme.FLOWERS_GARDEN: "flower",
}


# Our own table: strftime("%B") follows the process locale.
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


class Strata(StrEnum):
    NONE = "none"  # one event: MMR alone spreads it
    DAY = "day"  # trips: every day of the trip
    OCCASION = "occasion"  # person, theme, year...: every event or day


@dataclass(frozen=True)
class Focus:
    """What an album is about, as far as choosing and explaining its photos goes."""

    subjects: tuple[int, ...] = ()  # person ids every photo shows
    subject_names: tuple[str, ...] = ()  # display names, same order ("person 7" when unnamed)
    theme: Theme | None = None
    strata: Strata = Strata.NONE
    person_names: dict[int, str] | None = None  # named people, for "Anna with Ben"


@dataclass(frozen=True)
class Selection:
    rows: np.ndarray  # picked PhotoTable rows, chronological
    reasons: tuple[str, ...]  # one per row
    cover_row: int
    cover_reason: str
    n_eligible: int  # pool size before MMR


@dataclass(frozen=True)
class Pool:
    rows: np.ndarray  # chronological
    relevance: np.ndarray  # float64
    quality: np.ndarray  # float64, default filled in


def album_size(n_eligible: int, config: AlbumSettings) -> int:
    """Photos an album of ``n_eligible`` usable photos gets (0 = no album)."""
    if n_eligible < config.min_photos:
        return 0
    k = round(n_eligible * config.target_fraction)
    return min(n_eligible, max(config.min_photos, min(config.max_photos, k)))


def eligible_pool(index: LibraryIndex, rows: np.ndarray, config: AlbumSettings, focus: Focus) -> Pool:
    p = index.inputs.photos
    if len(rows) > 1 and not (np.diff(rows) > 0).all():  # most rules give sorted rows already
        rows = np.unique(rows)
    rows = rows[(index.occasion[rows] >= 0) & ~p.is_clutter[rows]]
    quality = np.where(np.isnan(p.quality[rows]), config.default_quality, p.quality[rows]).astype(np.float64)
    n_persons = p.n_persons[rows]
    relevance = quality + config.face_bonus * (n_persons > 0)
    if focus.subjects:
        # A photo of just the album's people beats one where they are lost in a crowd.
        relevance = relevance + 0.1 * (n_persons == len(focus.subjects))
    if focus.theme is not None:
        relevance = relevance + 0.2 * p.theme_score[rows]

    # One photo per near-duplicate group: its representative if here, else the best one.
    group = p.dup_group[rows]
    in_group = group >= 0
    keep = ~in_group
    if in_group.any():
        idx = np.nonzero(in_group)[0]
        order = np.lexsort((p.photo_id[rows[idx]], -relevance[idx], ~p.dup_representative[rows[idx]], group[idx]))
        idx = idx[order]
        first = np.ones(len(idx), dtype=bool)
        first[1:] = group[idx][1:] != group[idx][:-1]
        keep[idx[first]] = True
    rows, quality, relevance = rows[keep], quality[keep], relevance[keep]

    if len(rows) > config.max_pool:
        rows, quality, relevance = _stratified_cut(index, rows, quality, relevance, config.max_pool, focus)

    order = np.lexsort((p.photo_id[rows], p.taken_at[rows]))
    rows, quality, relevance = rows[order], quality[order], relevance[order]
    return Pool(rows, relevance, quality)


def _stratified_cut(index, rows, quality, relevance, limit, focus):  # noqa: ANN001, ANN202
    strata = _strata(index, rows, focus.strata if focus.strata is not Strata.NONE else Strata.OCCASION)
    per = max(1, math.ceil(limit / len(np.unique(strata))))
    photo_id = index.inputs.photos.photo_id[rows]
    order = np.lexsort((photo_id, -relevance, strata))
    ranked = strata[order]
    starts = np.searchsorted(ranked, ranked, side="left")
    rank_in_stratum = np.arange(len(order)) - starts
    chosen = order[rank_in_stratum < per]
    if len(chosen) > limit:
        best = np.lexsort((photo_id[chosen], -relevance[chosen]))[:limit]
        chosen = chosen[best]
    return rows[chosen], quality[chosen], relevance[chosen]


def _strata(index: LibraryIndex, rows: np.ndarray, strata: Strata) -> np.ndarray:
    if strata is Strata.DAY:
        return index.day[rows]
    if strata is Strata.OCCASION:
        return index.occasion[rows]
    return np.zeros(len(rows), dtype=np.int64)


def select_photos(
    index: LibraryIndex, rows: np.ndarray, config: AlbumSettings, focus: Focus = Focus()
) -> Selection | None:
    """The album's photos, or None when fewer than ``min_photos`` survive the rules."""
    pool = eligible_pool(index, rows, config, focus)
    return select_from_pool(index, pool, album_size(len(pool.rows), config), config, focus)


def select_from_pool(
    index: LibraryIndex, pool: Pool, k: int, config: AlbumSettings, focus: Focus = Focus()
) -> Selection | None:
    if k == 0:
        return None
    picks, info = _mmr(index, pool, k, config, focus)
    if len(picks) < config.min_photos:
        return None
    picks = np.asarray(picks)
    chrono = np.argsort(picks, kind="stable")  # pool is chronological already
    picks = picks[chrono]
    reasons = tuple(_reason(index, pool, int(i), info[int(i)], focus) for i in picks)
    cover, cover_reason = _cover(index, pool, picks)
    return Selection(pool.rows[picks], reasons, int(pool.rows[cover]), cover_reason, len(pool.rows))


@dataclass(frozen=True)
class _PickInfo:
    step: int
    redundancy: float
    relevance_rank: int  # 0 = most relevant of the pool
    new_theme: bool
    new_stratum: bool
    pool_size: int
    n_before: int


def _mmr(index: LibraryIndex, pool: Pool, k: int, config: AlbumSettings, focus: Focus):  # noqa: ANN202
    p = index.inputs.photos
    rows = pool.rows
    n = len(rows)
    vectors = p.vectors[rows] if p.vectors is not None else None
    seconds = p.taken_at[rows].astype(np.int64)  # ascending: the pool is chronological
    strata = _strata(index, rows, focus.strata)
    _, stratum_ix = np.unique(strata, return_inverse=True)
    n_strata = int(stratum_ix.max()) + 1 if n else 0
    quota = max(2, math.ceil(2 * k / n_strata)) if focus.strata is not Strata.NONE and n_strata > 1 else n
    per_stratum = np.zeros(n_strata, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((p.photo_id[rows], -pool.relevance))] = np.arange(n)
    themes = p.theme[rows]
    # Beyond 12 time scales exp() is below 1e-5: only that window needs the time term.
    reach = int(12 * _TIME_SCALE_S)

    lam = config.mmr_lambda
    # float32 throughout: the vectors are float32 and the loop runs k times over the pool.
    gain = (lam * pool.relevance).astype(np.float32)
    weight = np.float32(1 - lam)
    redundancy = np.zeros(n, dtype=np.float32)  # largest similarity to a pick so far
    blocked = np.zeros(n, dtype=bool)  # picked, or a near-copy of a pick
    # penalty = weight * redundancy, or +inf where the photo cannot be picked now (blocked,
    # or its event/day has had its share); argmax(gain - penalty) is the MMR choice.
    penalty = np.zeros(n, dtype=np.float32)
    by_stratum = np.argsort(stratum_ix, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(stratum_ix, minlength=n_strata))])
    picked: list[int] = []
    info: dict[int, _PickInfo] = {}
    seen_themes: set[int] = set()
    seen_strata: set[int] = set()
    while len(picked) < k:
        i = int(np.argmax(gain - penalty))
        if penalty[i] == np.inf:
            if quota < n and not blocked.all():
                quota = n  # every event/day had its share; let the best of the rest in
                penalty = np.where(blocked, np.float32(np.inf), weight * redundancy).astype(np.float32)
                continue
            break
        theme, stratum = int(themes[i]), int(stratum_ix[i])
        info[i] = _PickInfo(
            step=len(picked), redundancy=float(redundancy[i]), relevance_rank=int(rank[i]),
            new_theme=theme >= 0 and theme not in seen_themes and len(picked) > 0,
            new_stratum=stratum not in seen_strata and len(picked) > 0,
            pool_size=n, n_before=len(picked),
        )  # fmt: skip
        picked.append(i)
        seen_themes.add(theme)
        seen_strata.add(stratum)
        per_stratum[stratum] += 1

        lo, hi = np.searchsorted(seconds, [seconds[i] - reach, seconds[i] + reach + 1])
        near = (config.time_redundancy * np.exp(-np.abs(seconds[lo:hi] - seconds[i]) / _TIME_SCALE_S)).astype(np.float32)
        if vectors is not None:
            sim = vectors @ vectors[i]
            copies = sim >= config.duplicate_similarity
            blocked |= copies
            sim[lo:hi] = np.maximum(sim[lo:hi], near)
        else:
            sim = np.zeros(n, dtype=np.float32)
            sim[lo:hi] = near
            copies = None
        same = by_stratum[bounds[stratum] : bounds[stratum + 1]]
        if focus.strata is not Strata.NONE:
            sim[same] = np.maximum(sim[same], _SAME_OCCASION)
        np.maximum(redundancy, sim, out=redundancy)
        np.maximum(penalty, weight * sim, out=penalty)
        if copies is not None:
            penalty[copies] = np.inf
        blocked[i] = True
        penalty[i] = np.inf
        if per_stratum[stratum] >= quota:
            penalty[same] = np.inf
    return picked, info


def _cover(index: LibraryIndex, pool: Pool, picks: np.ndarray) -> tuple[int, str]:
    p = index.inputs.photos
    rows = pool.rows[picks]
    quality = pool.quality[picks]
    faces = np.minimum(p.n_persons[rows], 3) / 3
    likeness = np.zeros(len(rows))
    if p.vectors is not None:
        v = p.vectors[rows]
        centre = v.mean(axis=0)
        norm = float(np.linalg.norm(centre))
        if norm > 0:
            likeness = v @ (centre / norm)
    score = quality + 0.3 * faces + 0.5 * likeness
    best = int(np.argmax(score))
    parts = [f"quality {quality[best]:.2f}"]
    if p.n_persons[rows[best]]:
        parts.append(f"{int(p.n_persons[rows[best]])} face(s)")
    if p.vectors is not None:
        parts.append(f"likeness to the album {likeness[best]:.2f}")
    return int(picks[best]), "best mix of " + ", ".join(parts)


def _reason(index: LibraryIndex, pool: Pool, i: int, info: _PickInfo, focus: Focus) -> str:
    p = index.inputs.photos
    row = int(pool.rows[i])
    parts: list[str] = []
    if focus.subjects:
        names = list(focus.subject_names)
        if len(names) == 1:
            others = [
                (focus.person_names or {}).get(int(x))
                for x in sorted(set(int(x) for x in p.persons_of(row)) - set(focus.subjects))
            ]
            others = [o for o in others if o]
            parts.append(names[0] + (f" with {_join(others[:2])}" if others else ""))
        else:
            parts.append(f"{_join(names)} together")

    top = max(1, math.ceil(info.pool_size * 0.1))
    if info.step == 0:
        parts.append(f"highest rated of {info.pool_size} (quality {pool.quality[i]:.2f})")
    elif info.relevance_rank < top:
        parts.append(f"among the best rated (#{info.relevance_rank + 1} of {info.pool_size})")
    elif info.new_theme and focus.theme is None:
        parts.append(f"adds variety: first {THEME_NOUNS[THEMES[int(p.theme[row])]]} photo")
    elif info.new_stratum and focus.strata is Strata.DAY:
        day = int(index.day[row] - index.day[pool.rows].min()) + 1
        parts.append(f"adds variety: first pick from day {day}")
    elif info.new_stratum and focus.strata is Strata.OCCASION:
        when = p.taken_at[row].astype(datetime)
        parts.append(f"adds variety: first pick from {when.day} {_MONTHS[when.month - 1]} {when.year}")
    else:
        parts.append(f"adds variety: unlike the {info.n_before} photos picked before it")

    if index.burst[row] > 1:
        best = "sharpest" if index.sharpest[row] else "best"
        parts.append(f"{best} of a burst of {int(index.burst[row])}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]

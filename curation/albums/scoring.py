"""How albums rank against each other (the Memories feed shows the best first).

    score = kind_weight * min(1, 0.35 * size + 0.30 * quality + 0.15 * people
                                 + 0.20 * spread + bonus)

- **size**: ``log(1 + eligible photos) / log(1 + 200)``, capped at 1: more to choose from
  makes a better album, with diminishing returns past a couple of hundred photos.
- **quality**: mean quality of the ``k`` most relevant eligible photos (roughly the ones
  the album will show; unscored photos count as ``default_quality``).
- **people**: share of those photos that show someone: people look at people.
- **spread**: from the kind's rule, 0..1: how much of its time span the album covers
  (days of a trip, hours of an event, occasions and months of a person, years of a theme,
  months of a year, past years of "on this day").
- **bonus**: +0.1 for an event on a holiday.
- **kind_weight**: what people open most: trips 1.0, on this day 0.95 (it is timely),
  together 0.9, year 0.9, person 0.85, event 0.8, theme 0.7.

The score depends only on the candidate and its eligible pool, so it is known before the
photos are picked and the ``max_albums_per_kind`` cut costs no selection work.
"""

from __future__ import annotations

import math

import numpy as np

from curation.albums.candidates import Candidate, LibraryIndex
from curation.albums.records import AlbumKind
from curation.albums.selection import Pool

KIND_WEIGHT: dict[AlbumKind, float] = {
    AlbumKind.TRIP: 1.0,
    AlbumKind.ON_THIS_DAY: 0.95,
    AlbumKind.TOGETHER: 0.9,
    AlbumKind.YEAR: 0.9,
    AlbumKind.PERSON: 0.85,
    AlbumKind.EVENT: 0.8,
    AlbumKind.THEME: 0.7,
}
_SIZE_SATURATION = 200


def _size(n: int) -> float:
    return min(1.0, math.log1p(n) / math.log1p(_SIZE_SATURATION))


def _bonus(candidate: Candidate) -> float:
    return 0.1 if candidate.event is not None and candidate.event.holiday else 0.0


def upper_bound(candidate: Candidate, n_possible: int) -> float:
    """The highest score the candidate can get: its pool holds at most ``n_possible``
    photos, and quality and people are at most 1."""
    base = 0.35 * _size(n_possible) + 0.30 + 0.15 + 0.20 * candidate.spread + _bonus(candidate)
    return round(KIND_WEIGHT[candidate.kind] * min(1.0, base), 4)


def score_album(candidate: Candidate, index: LibraryIndex, pool: Pool, k: int) -> float:
    n = len(pool.rows)
    if n == 0 or k == 0:
        return 0.0
    size = _size(n)
    best = np.argsort(-pool.relevance, kind="stable")[:k]
    quality = float(pool.quality[best].mean())
    people = float((index.inputs.photos.n_persons[pool.rows[best]] > 0).mean())
    base = 0.35 * size + 0.30 * quality + 0.15 * people + 0.20 * candidate.spread + _bonus(candidate)
    return round(KIND_WEIGHT[candidate.kind] * min(1.0, base), 4)

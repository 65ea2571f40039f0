"""``build_albums``: library inputs in, ranked albums (without titles) out. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from curation.albums.candidates import Candidate, LibraryIndex, find_candidates
from curation.albums.config import AlbumSettings
from curation.albums.facts import album_facts
from curation.albums.records import Album, AlbumKind, AlbumPhoto, LibraryInputs
from curation.albums.scoring import score_album, upper_bound
from curation.albums.selection import Focus, Strata, album_size, eligible_pool, select_from_pool
from curation.albums.vectors import DEFAULT_DIMS, project

ProgressFn = Callable[[int, int, str], None]

_STRATA: dict[AlbumKind, Strata] = {
    AlbumKind.TRIP: Strata.DAY,
    AlbumKind.EVENT: Strata.NONE,
    AlbumKind.PERSON: Strata.OCCASION,
    AlbumKind.TOGETHER: Strata.OCCASION,
    AlbumKind.THEME: Strata.OCCASION,
    AlbumKind.YEAR: Strata.OCCASION,
    AlbumKind.ON_THIS_DAY: Strata.OCCASION,
}


def album_id(library_id: int, kind: AlbumKind, key: str) -> str:
    """Stable across runs: the library, the kind, and the id of what the album is about."""
    return f"{library_id}-{kind.value}-{key}"


def focus_for(candidate: Candidate, names: dict[int, str | None]) -> Focus:
    return Focus(
        subjects=candidate.subjects,
        subject_names=tuple(names.get(s) or f"person {s}" for s in candidate.subjects),
        theme=candidate.theme,
        strata=_STRATA[candidate.kind],
        person_names={pid: name for pid, name in names.items() if name} if candidate.subjects else None,
    )


def _ranked(  # noqa: ANN202 - list of (score, candidate, focus, pool, k)
    index: LibraryIndex, candidates: list[Candidate], config: AlbumSettings, names: dict[int, str | None]
):
    """(score, candidate, focus, pool, k) of the albums to make, best first per kind.

    Scoring needs the candidate's eligible pool; with a per-kind cap, candidates are
    visited by an upper bound of their score (quality and people at their maximum) and
    the visit stops once the cap is filled with scores above the next bound, which gives
    exactly the albums that scoring every candidate would, at a fraction of the cost.
    """
    cap = config.max_albums_per_kind or len(candidates)
    by_kind: dict[AlbumKind, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_kind[c.kind].append(c)
    kept = []
    for kind in AlbumKind:
        bounded = sorted(
            ((upper_bound(c, index.n_possible(c.rows)), c) for c in by_kind.get(kind, [])),
            key=lambda bc: (-bc[0], bc[1].key),
        )
        scored: list[tuple] = []
        for bound, candidate in bounded:
            if len(scored) >= cap and scored[cap - 1][0] > bound:
                break
            focus = focus_for(candidate, names)
            pool = eligible_pool(index, candidate.rows, config, focus)
            k = album_size(len(pool.rows), config)
            if k:
                scored.append((score_album(candidate, index, pool, k), candidate, focus, pool, k))
                scored.sort(key=lambda s: (-s[0], s[1].key))
        kept.extend(scored[:cap])
    return sorted(kept, key=lambda s: (-s[0], s[1].kind.value, s[1].key))


def build_albums(
    inputs: LibraryInputs,
    config: AlbumSettings | None = None,
    *,
    today: date,
    progress: ProgressFn | None = None,
) -> list[Album]:
    """Every album worth making, best first (at most ``max_albums_per_kind`` of a kind).
    Same inputs, config and ``today`` give the same albums, ids, photos and order."""
    config = config or AlbumSettings()
    vectors = inputs.photos.vectors
    if vectors is not None and vectors.shape[1] > DEFAULT_DIMS:
        # Raw embeddings (the stage passes projected ones): the same projection the stage
        # caches, so both paths pick the same photos, and MMR stays cheap.
        inputs = replace(inputs, photos=replace(inputs.photos, vectors=project(vectors)))
    index = LibraryIndex.build(inputs)
    names = {p.person_id: p.name for p in inputs.persons}
    kept = _ranked(index, find_candidates(index, config, today), config, names)
    albums = []
    for done, (score, candidate, focus, pool, k) in enumerate(kept, start=1):
        selection = select_from_pool(index, pool, k, config, focus)
        if progress:
            progress(done, len(kept), f"{candidate.kind.value} {candidate.key}")
        if selection is None:
            continue
        taken = inputs.photos.taken_at[selection.rows].astype(datetime)
        photos = tuple(
            AlbumPhoto(int(inputs.photos.photo_id[row]), pos, reason, when)
            for pos, (row, reason, when) in enumerate(zip(selection.rows, selection.reasons, taken, strict=True))
        )
        albums.append(
            Album(
                album_id=album_id(inputs.library_id, candidate.kind, candidate.key),
                kind=candidate.kind,
                key=candidate.key,
                score=score,
                facts=album_facts(candidate, index, selection.rows, today),
                photos=photos,
                cover_photo_id=int(inputs.photos.photo_id[selection.cover_row]),
                cover_reason=selection.cover_reason,
                n_eligible=selection.n_eligible,
                rule=candidate.rule,
            )
        )
    return albums

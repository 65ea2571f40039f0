"""Photo selection: pool rules, MMR, cover, size, reasons, order and reproducibility."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from curation.albums import (
    AlbumKind,
    AlbumSettings,
    EventRecord,
    LibraryIndex,
    LibraryInputs,
    PhotoRecord,
    build_albums,
    select_photos,
)
from curation.albums.selection import Focus, Strata, album_size
from curation.albums.synthetic import synthetic_library
from curation.albums.vectors import project, projection_matrix

START = datetime(2023, 5, 1, 8)
EVENT = EventRecord("e", START, START + timedelta(days=1))


def basis(i: int, dim: int = 64) -> list[float]:
    v = [0.0] * dim
    v[i % dim] = 1.0
    return v


def photo(pid: int, **fields: object) -> PhotoRecord:
    # Two hours apart: the "taken within minutes" redundancy plays no part unless asked.
    defaults = {"taken_at": START + timedelta(hours=2 * pid), "event_id": "e", "quality": 0.5,
                "vector": basis(pid)}  # fmt: skip
    defaults.update(fields)
    return PhotoRecord(pid, **defaults)  # type: ignore[arg-type]


def select(records: list[PhotoRecord], config: AlbumSettings, focus: Focus = Focus()):  # noqa: ANN201
    inputs = LibraryInputs.from_records(records, [EVENT])
    index = LibraryIndex.build(inputs)
    selection = select_photos(index, np.arange(len(records)), config, focus)
    ids = [] if selection is None else [int(inputs.photos.photo_id[r]) for r in selection.rows]
    return selection, ids, inputs


def test_near_identical_embeddings_are_not_both_picked() -> None:
    twin = list(np.array(basis(1)) + 0.01 * np.array(basis(2)))
    records = [photo(1, quality=0.99), photo(2, quality=0.98, vector=twin)]
    records += [photo(i, quality=0.3) for i in range(3, 21)]
    _, ids, _ = select(records, AlbumSettings(min_photos=5, max_photos=5))
    assert 1 in ids and 2 not in ids


def test_mmr_trades_quality_for_variety() -> None:
    # Ten good photos of the same view (cosine 0.9, below the duplicate cut) and ten
    # average photos that all differ: after the first good one, variety wins.
    rng = np.random.default_rng(0)
    base = np.array(basis(0))
    same_view = [list(0.95 * base + 0.31 * np.array(basis(10 + i))) for i in range(10)]
    records = [photo(i + 1, quality=0.9, vector=same_view[i]) for i in range(10)]
    records += [photo(i + 11, quality=0.6, vector=basis(30 + i)) for i in range(10)]
    rng.shuffle(records)
    _, ids, _ = select(records, AlbumSettings(min_photos=6, max_photos=6))
    assert sum(1 for i in ids if i <= 10) <= 2
    quality_only = AlbumSettings(min_photos=6, max_photos=6, mmr_lambda=1.0)
    _, ids, _ = select(records, quality_only)
    assert all(i <= 10 for i in ids)


def test_near_duplicate_groups_give_one_photo_their_representative() -> None:
    burst = [
        photo(1, quality=0.95, dup_group=2, sharpness=10.0),
        photo(2, quality=0.90, dup_group=2, dup_representative=True, sharpness=50.0),
        photo(3, quality=0.92, dup_group=2, sharpness=20.0),
    ]
    records = burst + [photo(i, quality=0.2) for i in range(4, 12)]
    selection, ids, _ = select(records, AlbumSettings(min_photos=8, max_photos=8))
    assert 2 in ids and 1 not in ids and 3 not in ids
    reason = selection.reasons[ids.index(2)]
    assert "sharpest of a burst of 3" in reason


def test_without_its_representative_a_group_gives_its_best_member() -> None:
    burst = [photo(1, quality=0.6, dup_group=9), photo(2, quality=0.7, dup_group=9)]
    records = burst + [photo(i, quality=0.2) for i in range(3, 10)]
    selection, ids, _ = select(records, AlbumSettings(min_photos=8, max_photos=8))
    assert 2 in ids and 1 not in ids
    assert "best of a burst of 2" in selection.reasons[ids.index(2)]


def test_clutter_is_never_picked() -> None:
    records = [photo(1, quality=1.0, is_clutter=True)] + [photo(i) for i in range(2, 12)]
    selection, ids, _ = select(records, AlbumSettings(min_photos=10, max_photos=10))
    assert 1 not in ids and selection.n_eligible == 10


def test_photos_without_a_capture_time_are_not_eligible() -> None:
    records = [photo(1, taken_at=None, event_id=None)] + [photo(i) for i in range(2, 6)]
    selection, ids, _ = select(records, AlbumSettings(min_photos=4, max_photos=4))
    assert 1 not in ids and selection.n_eligible == 4


def test_cover_is_the_best_photo_with_people() -> None:
    records = [photo(i, quality=0.5) for i in range(1, 11)]
    records[3] = photo(4, quality=0.97)  # best quality, nobody in it
    records[6] = photo(7, quality=0.93, persons=(1, 2))  # nearly as good, with people
    selection, ids, inputs = select(records, AlbumSettings(min_photos=10, max_photos=10))
    assert int(inputs.photos.photo_id[selection.cover_row]) == 7
    assert "2 face(s)" in selection.cover_reason


@pytest.mark.parametrize(("eligible", "expected"), [(11, 0), (12, 12), (13, 12), (30, 15), (200, 60), (500, 60)])
def test_album_size_fits_a_photobook(eligible: int, expected: int) -> None:
    assert album_size(eligible, AlbumSettings()) == expected


def test_too_few_eligible_photos_make_no_album() -> None:
    records = [photo(i) for i in range(1, 6)]
    selection, _, _ = select(records, AlbumSettings(min_photos=6))
    assert selection is None
    selection, ids, _ = select(records, AlbumSettings(min_photos=3))  # a demo library's setting
    assert selection is not None and len(ids) == 3


def test_photos_are_chronological_and_every_one_has_a_reason() -> None:
    rng = random.Random(0)
    records = [photo(i, quality=rng.random(), taken_at=START + timedelta(minutes=rng.randrange(10_000)))
               for i in range(1, 41)]  # fmt: skip
    selection, ids, inputs = select(records, AlbumSettings(min_photos=10, max_photos=20))
    taken = inputs.photos.taken_at[selection.rows]
    assert np.all(np.diff(taken.astype(np.int64)) >= 0)
    assert len(selection.reasons) == len(ids) == 20
    assert all(r and "\n" not in r and r[0].isupper() for r in selection.reasons)
    assert sum(r.startswith("Highest rated") for r in selection.reasons) == 1


def test_albums_spanning_many_events_draw_from_many_of_them() -> None:
    events = [EventRecord(f"e{k}", START + timedelta(days=30 * k), START + timedelta(days=30 * k, hours=5))
              for k in range(10)]  # fmt: skip
    records = []
    for k, ev in enumerate(events):
        # Event 0 has by far the best photos; the quota still spreads the album.
        quality = 0.95 if k == 0 else 0.4
        records += [PhotoRecord(len(records) + 1, ev.start_at + timedelta(minutes=30 * j), ev.event_id,
                                quality=quality, vector=basis(20 * k + j))
                    for j in range(20)]  # fmt: skip
    inputs = LibraryInputs.from_records(records, events)
    index = LibraryIndex.build(inputs)
    config = AlbumSettings(min_photos=12, max_photos=12)
    selection = select_photos(index, np.arange(len(records)), config, Focus(strata=Strata.OCCASION))
    per_event = np.bincount(inputs.photos.event[selection.rows], minlength=10)
    assert (per_event > 0).sum() >= 6
    assert per_event.max() <= 3  # quota max(2, ceil(2 * 12 / 10)) = 3


def test_selection_works_without_embeddings_or_quality() -> None:
    records = [photo(i, quality=None, vector=None, taken_at=START + timedelta(minutes=i)) for i in range(1, 31)]
    selection, ids, _ = select(records, AlbumSettings(min_photos=6, max_photos=6))
    assert len(ids) == 6
    # Without embeddings the time term spreads the picks over the afternoon.
    assert max(ids) - min(ids) >= 20


# ----------------------------------------------------------------------------- whole library


@pytest.fixture(scope="module")
def library() -> LibraryInputs:
    return synthetic_library(2500, seed=3, dim=32)


def test_synthetic_library_albums_respect_every_rule(library: LibraryInputs) -> None:
    config = AlbumSettings()
    albums = build_albums(library, config, today=date(2024, 3, 1))
    assert {a.kind for a in albums} >= {AlbumKind.TRIP, AlbumKind.PERSON, AlbumKind.TOGETHER,
                                        AlbumKind.THEME, AlbumKind.YEAR}  # fmt: skip
    assert len({a.album_id for a in albums}) == len(albums)
    assert [a.score for a in albums] == sorted((a.score for a in albums), reverse=True)
    p = library.photos
    row_of = {int(pid): i for i, pid in enumerate(p.photo_id)}
    for album in albums:
        rows = [row_of[x.photo_id] for x in album.photos]
        assert config.min_photos <= len(rows) <= config.max_photos
        assert not p.is_clutter[rows].any()
        groups = p.dup_group[rows][p.dup_group[rows] >= 0]
        assert len(groups) == len(set(groups.tolist()))
        assert [x.position for x in album.photos] == list(range(len(rows)))
        assert all(x.reason for x in album.photos)
        assert album.cover_photo_id in {x.photo_id for x in album.photos}
        times = [x.taken_at for x in album.photos]
        assert times == sorted(times)


def test_same_inputs_give_the_same_albums(library: LibraryInputs) -> None:
    first = build_albums(library, today=date(2024, 3, 1))
    again = build_albums(library, today=date(2024, 3, 1))
    assert first == again


def test_photo_order_of_the_input_does_not_matter() -> None:
    records = [photo(i, quality=0.5 + (i % 7) / 20, persons=(1,) if i % 3 else ()) for i in range(1, 40)]
    shuffled = records[:]
    random.Random(1).shuffle(shuffled)
    config = AlbumSettings(min_photos=5, max_photos=12)
    a = build_albums(LibraryInputs.from_records(records, [EVENT]), config, today=date(2024, 1, 1))
    b = build_albums(LibraryInputs.from_records(shuffled, [EVENT]), config, today=date(2024, 1, 1))
    assert [(x.album_id, [p.photo_id for p in x.photos], x.cover_photo_id) for x in a] == [
        (x.album_id, [p.photo_id for p in x.photos], x.cover_photo_id) for x in b
    ]


def test_projection_is_fixed_and_keeps_near_copies_near() -> None:
    matrix = projection_matrix(1280, 128)
    assert matrix.shape == (1280, 128) and not matrix.flags.writeable
    assert np.array_equal(matrix, projection_matrix.__wrapped__(1280, 128))  # not numpy's RNG: same everywhere
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1280)).astype(np.float32)
    near = np.vstack([x[0], x[0] + 0.05 * rng.standard_normal(1280).astype(np.float32), x[1]])
    y = project(near)
    assert y.shape == (3, 128)
    assert y[0] @ y[1] > 0.99 and abs(y[0] @ y[2]) < 0.35


def test_photo_table_refuses_misaligned_columns(library: LibraryInputs) -> None:
    with pytest.raises(ValueError, match="quality has"):
        replace(library.photos, quality=library.photos.quality[:-1])

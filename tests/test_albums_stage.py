"""The albums stage against a real DuckDB store filled the way the earlier stages fill it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from curation.albums import AlbumKind, AlbumSettings
from curation.albums.export import fill_albums
from curation.albums.synthetic import store_synthetic_library, synthetic_library
from curation.pipeline.albums_stage import load_library_inputs, run_albums_stage, update_album_vectors
from curation.settings import Settings
from curation.store import Store
from curation.titles import LLMTitleGenerator, UnknownLanguageError, UnknownTitleGeneratorError
from curation.titles.llm import HttpResponse

TODAY = date(2024, 3, 1)


@pytest.fixture(scope="module")
def library():  # noqa: ANN201
    return synthetic_library(1500, seed=11, dim=64, library_id=1)


@pytest.fixture
def store(settings: Settings, library) -> Store:  # noqa: ANN001
    store = Store(settings.database)
    with store.connect() as con:
        store_synthetic_library(con, library)
    return store


def album_table(store: Store) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute(
            "SELECT album_id, kind, title, title_suggestions, caption, cover_photo_id, score, facts, title_trace, "
            "generator, fallback_reason, language FROM albums ORDER BY album_id"
        ).fetchall()


def album_photo_table(store: Store) -> list[tuple]:
    with store.connect(read_only=True) as con:
        return con.execute("SELECT * FROM album_photos ORDER BY album_id, position").fetchall()


def test_stage_writes_albums_with_photos_titles_and_traces(store: Store, settings: Settings) -> None:
    seen = []
    report = run_albums_stage(store, settings, 1, today=TODAY, progress=lambda d, t, item: seen.append((d, t)))
    assert report.n_albums > 5 and report.n_photos == 1500 and report.n_vectors_projected == 1500
    assert report.generator == "grounded" and report.language == "en" and report.n_fallbacks == 0
    assert seen[-1] == (report.n_albums, report.n_albums)
    rows = album_table(store)
    assert len(rows) == report.n_albums == sum(report.by_kind.values())
    photos = album_photo_table(store)
    by_album: dict[str, list[tuple]] = {}
    for album_id, photo_id, position, reason in photos:
        by_album.setdefault(album_id, []).append((photo_id, position, reason))
    for album_id, kind, title, suggestions, caption, cover, score, facts, trace, generator, fallback, lang in rows:
        assert album_id.startswith(f"1-{kind}-")
        assert title == suggestions[0] and caption and 0 < score <= 1
        assert json.loads(facts)["kind"] == kind
        trace = json.loads(trace)
        assert [s["text"] for s in trace["suggestions"]] == suggestions
        assert generator == "grounded" and fallback is None and lang == "en"
        members = by_album[album_id]
        assert [p for _, p, _ in members] == list(range(len(members)))
        assert cover in {pid for pid, _, _ in members}
        assert all(reason for _, _, reason in members)


def test_rerun_gives_the_same_albums_and_reuses_the_vectors(store: Store, settings: Settings) -> None:
    run_albums_stage(store, settings, 1, today=TODAY)
    first, first_photos = album_table(store), album_photo_table(store)
    again = run_albums_stage(store, settings, 1, today=TODAY)
    assert again.n_vectors_projected == 0
    assert album_table(store) == first and album_photo_table(store) == first_photos


def test_loader_reads_back_what_the_stages_wrote(store: Store, library) -> None:  # noqa: ANN001
    with store.connect() as con:
        update_album_vectors(con, 1)
        loaded = load_library_inputs(con, 1)
    a, b = library.photos, loaded.photos
    assert np.array_equal(a.photo_id, b.photo_id)
    assert np.array_equal(a.taken_at, b.taken_at)
    assert np.array_equal(a.is_clutter, b.is_clutter) and np.array_equal(a.dup_group, b.dup_group)
    assert np.array_equal(a.theme, b.theme) and np.array_equal(a.person_indptr, b.person_indptr)
    assert np.array_equal(a.person_ids, b.person_ids)
    assert np.allclose(a.quality, b.quality)
    # Events come back ordered by start: the same events, the same photos in each.
    assert [e.event_id for e in loaded.events] == sorted(
        (e.event_id for e in library.events), key=lambda i: next(e.start_at for e in library.events if e.event_id == i)
    )
    ids_a = [library.events[i].event_id if i >= 0 else None for i in a.event]
    ids_b = [loaded.events[i].event_id if i >= 0 else None for i in b.event]
    assert ids_a == ids_b
    assert {t.trip_id for t in loaded.trips} == {t.trip_id for t in library.trips}
    assert loaded.home.place_name == "Lisbon"
    assert np.allclose(b.vectors, a.vectors, atol=1e-5)  # 64-d: stored as they are, normalised


def test_export_lists_albums_with_paths_and_reasons(store: Store, settings: Settings) -> None:
    run_albums_stage(store, settings, 1, today=TODAY)
    document: dict = {"albums": []}
    with store.connect(read_only=True) as con:
        fill_albums(con, 1, document)
    albums = document["albums"]
    assert albums and [a["score"] for a in albums] == sorted((a["score"] for a in albums), reverse=True)
    first = albums[0]
    assert set(first) >= {"id", "kind", "title", "title_suggestions", "caption", "cover", "photos", "score", "facts"}
    assert first["cover"] in {p["path"] for p in first["photos"]}
    assert all(p["path"].endswith(".jpg") and p["reason"] for p in first["photos"])
    assert first["facts"]["kind"] == first["kind"]


def test_export_of_a_database_without_albums(settings: Settings) -> None:
    store = Store(settings.database)
    with store.connect() as con:
        con.execute("DROP TABLE albums")
    document: dict = {}
    with store.connect(read_only=True) as con:
        fill_albums(con, 1, document)
    assert document["albums"] == []


def test_a_small_library_gets_albums_with_a_lower_minimum(settings: Settings) -> None:
    small = synthetic_library(90, seed=2, years=1, first_year=2023, dim=16, trips_per_year=1)
    store = Store(settings.database)
    with store.connect() as con:
        store_synthetic_library(con, small)
    default = run_albums_stage(store, settings, 1, today=TODAY)
    report = run_albums_stage(store, settings, 1, config=AlbumSettings(min_photos=4, max_photos=24), today=TODAY)
    assert report.n_albums > default.n_albums
    assert AlbumKind.TRIP.value in report.by_kind and AlbumKind.TRIP.value not in default.by_kind


def test_photos_alone_are_enough(settings: Settings) -> None:
    """Before events, faces or vision ran: albums from capture times only."""
    store = Store(settings.database)
    start = datetime(2023, 1, 10, 12)
    with store.connect() as con:
        con.execute("INSERT INTO libraries (library_id, root, name) VALUES (1, '/lib', 'lib')")
        for i in range(12):
            taken = start + timedelta(days=30 * (i // 4), minutes=i)
            con.execute(
                "INSERT INTO photos (photo_id, library_id, rel_path, status, taken_at) VALUES (?, 1, ?, 'ok', ?)",
                [i + 1, f"p{i}.jpg", taken],
            )
    report = run_albums_stage(store, settings, 1, config=AlbumSettings(min_photos=4), today=TODAY)
    assert report.by_kind == {"year": 1}
    ((title,),) = [r[2:3] for r in album_table(store)]
    assert title == "2023 in review"


def test_bad_language_or_generator_fail_before_any_work(store: Store, settings: Settings) -> None:
    with pytest.raises(UnknownLanguageError, match="CURATION_LANGUAGE"):
        run_albums_stage(store, settings.model_copy(update={"language": "pt"}), 1, today=TODAY)
    with pytest.raises(UnknownTitleGeneratorError, match="valid names"):
        run_albums_stage(store, settings.model_copy(update={"title_generator": "poet"}), 1, today=TODAY)
    assert album_table(store) == []


def test_llm_fallbacks_are_recorded_per_album(store: Store, settings: Settings) -> None:
    def ungrounded(url: str, headers: dict, body: bytes, timeout_s: float) -> HttpResponse:
        content = json.dumps({"titles": ["Golden Memories of Atlantis"], "caption": "A trip to Atlantis in 1999."})
        return HttpResponse(200, json.dumps({"choices": [{"message": {"content": content}}]}).encode())

    gen = LLMTitleGenerator(base_url="http://127.0.0.1:9/v1", model="m", api_key="k", transport=ungrounded)
    report = run_albums_stage(store, settings.model_copy(update={"language": "de"}), 1, today=TODAY,
                              title_generator=gen)  # fmt: skip
    assert report.n_fallbacks == report.n_albums > 0
    rows = album_table(store)
    assert all(r[9] == "grounded" and r[10].startswith("llm output not grounded: number 1999") for r in rows)
    assert all(r[11] == "de" for r in rows)

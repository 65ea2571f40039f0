"""Memories review core (curation/review.py): decisions and their history, the gallery's
filters, the album detail, the export of approved albums, facts in words, the photobook layout.

The store holds real ingested photos (generated JPEGs) and album rows written here as the
albums stage would write them (sql/schema_albums.sql), so these tests do not depend on it.
``insert_albums`` and ``make_photos`` are shared with the dashboard and browser tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from curation import review as rv
from curation.settings import Settings
from curation.store import Store

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 1, 5, 9, 30)


# --------------------------------------------------------------------------- fixtures (shared)


def make_photos(root: Path, n: int = 10) -> Path:
    """``n`` smooth random JPEGs with EXIF dates: three days of a July 2023 trip, one December 2022 day."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rng = np.random.default_rng(100 + i)
        pixels = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
        size = (360, 480) if i % 3 == 0 else (640, 400) if i % 3 == 1 else (480, 360)
        image = Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC)
        exif = Image.Exif()
        when = f"2023:07:{14 + i // 3:02d} {9 + i % 3 * 3:02d}:15:00" if i < 8 else f"2022:12:24 1{i % 10}:00:00"
        exif.get_ifd(0x8769)[0x9003] = when
        image.save(root / f"IMG_{i:04d}.jpg", exif=exif)
    return root


def _trace(suggestions: list[tuple[str, dict]], caption: str, caption_used: dict) -> str:
    return json.dumps(
        {
            "suggestions": [{"text": t, "facts_used": used, "template": ""} for t, used in suggestions],
            "caption": {"text": caption, "facts_used": caption_used},
            "generator": "grounded",
            "language": "en",
            "fallback_reason": None,
        }
    )


TRIP = "1-trip-t20230714"
EVENT = "1-event-e20221224"
THEME = "1-theme-beach_sea"


def insert_albums(con, library_id: int) -> dict[str, list[int]]:  # noqa: ANN001 - a DuckDB connection
    """Three albums over the library's photos (a trip, an event, a theme); returns their photo ids."""
    ids = [r[0] for r in con.execute(
        "SELECT photo_id FROM photos WHERE library_id = ? AND status = 'ok' ORDER BY taken_at, photo_id", [library_id]
    ).fetchall()]  # fmt: skip
    december, july = ids[:2], ids[2:]
    trip_facts = {
        "kind": "trip", "n_photos": len(july), "start": "2023-07-14", "end": "2023-07-16", "n_days": 3, "nights": 2,
        "years": [2023], "season": "summer", "place": {"name": "Lisbon", "level": "city", "country_code": "PT"},
        "people": ["Anna", "Ben"], "n_occasions": 3,
    }  # fmt: skip
    trip_suggestions = [
        ("A weekend in Lisbon", {"place": "Lisbon", "n_days": 3, "nights": 2}),
        ("Summer in Lisbon", {"season": "summer", "place": "Lisbon"}),
        ("Summer 2023 with Anna & Ben", {"season": "summer", "year": 2023, "people": ["Anna", "Ben"]}),
    ]
    event_facts = {
        "kind": "event", "n_photos": 2, "start": "2022-12-24", "end": "2022-12-24", "n_days": 1, "years": [2022],
        "season": "winter", "holiday": "Christmas", "people": ["Anna"],
    }  # fmt: skip
    event_suggestions = [("Christmas 2022", {"holiday": "Christmas", "year": 2022}),
                         ("Christmas with Anna", {"holiday": "Christmas", "people": ["Anna"]})]  # fmt: skip
    theme_facts = {"kind": "theme", "n_photos": 4, "start": "2022-12-24", "end": "2023-07-15", "n_days": 204,
                   "years": [2022, 2023], "theme": "beach_sea", "n_occasions": 3}  # fmt: skip
    albums = [
        (TRIP, "trip", trip_suggestions, "2 nights in Lisbon, from 14 to 16 July 2023. With Anna and Ben.",
         {"start": "2023-07-14", "end": "2023-07-16", "place": "Lisbon", "people": ["Anna", "Ben"]},
         july, july[3], 0.91, "Lisbon", trip_facts, "2 nights away, 3 events, 8 usable photos"),
        (EVENT, "event", event_suggestions, "24 December 2022. With Anna.", {"start": "2022-12-24"},
         december, december[0], 0.74, None, event_facts, "an event of 2 usable photos"),
        (THEME, "theme", [("Beach days", {"theme": "beach_sea"})], "A selection from 3 occasions.",
         {"n_occasions": 3}, december[:1] + july[:3], july[0], 0.55, None, theme_facts, "4 beach photos"),
    ]  # fmt: skip
    out = {}
    for album_id, kind, suggestions, caption, caption_used, photos, cover, score, place, facts, rule in albums:
        times = [r[0] for r in con.execute(
            f"SELECT taken_at FROM photos WHERE photo_id IN ({', '.join('?' * len(photos))})", photos
        ).fetchall()]  # fmt: skip
        con.execute(
            "INSERT INTO albums (library_id, album_id, kind, title, title_suggestions, caption, cover_photo_id, "
            "cover_reason, score, start_at, end_at, place_name, facts, title_trace, rule, n_eligible, generator, "
            "fallback_reason, language) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'grounded', NULL, 'en')",
            [library_id, album_id, kind, suggestions[0][0], [t for t, _ in suggestions], caption, cover,
             "best mix of quality 0.9", score, min(times), max(times), place, json.dumps(facts),
             _trace(suggestions, caption, caption_used), rule, len(photos)],
        )  # fmt: skip
        for position, photo_id in enumerate(photos):
            con.execute(
                "INSERT INTO album_photos VALUES (?, ?, ?, ?)",
                [album_id, photo_id, position, f"Among the best rated (#{position + 1} of {len(photos)})"],
            )
        out[album_id] = photos
    return out


def make_album_data(tmp: Path) -> Path:
    """A data folder (database and thumbnails) with the ingested photos and the three albums."""
    from curation.ingest.pipeline import ingest_library

    settings = Settings(data_dir=tmp / "data")
    settings.ingest.workers = 1  # ten files: no process pool to start
    store = Store(settings.database)
    ingest_library(make_photos(tmp / "photos"), store, settings, now=datetime(2026, 1, 1))
    with store.connect() as con:
        insert_albums(con, 1)
    return settings.data_dir


@pytest.fixture(scope="module")
def album_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_album_data(tmp_path_factory.mktemp("review"))


@pytest.fixture
def store(album_data: Path, tmp_path: Path) -> Store:
    """A fresh copy of the module's database for each test."""
    shutil.copyfile(album_data / "curation.duckdb", tmp_path / "review.duckdb")
    return Store(tmp_path / "review.duckdb")


def submit(album_id: str = TRIP, decision: rv.Decision = rv.Decision.APPROVED, **kw: object) -> rv.ReviewSubmission:
    values = {"reviewer": "Ines", "title": "Summer in Lisbon", "rubric": rv.Rubric(4, 5, 3), "reason": ""} | kw
    return rv.ReviewSubmission(album_id=album_id, decision=decision, **values)


def read(store: Store, fn, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN201
    with store.connect(read_only=True) as con:
        return fn(con, *args, **kw)


# --------------------------------------------------------------------------- decisions


def test_a_decision_with_a_suggested_title_is_stored(store: Store) -> None:
    review = rv.record_review(store, submit(), now=NOW)
    assert (review.title, review.title_edited, review.suggestion_rank) == ("Summer in Lisbon", False, 2)
    assert review.generated_title == "A weekend in Lisbon" and review.library_id == 1
    with store.connect(read_only=True) as con:
        row = con.execute(
            "SELECT album_id, decision, reason, story, photo_choice, title_score, reviewer, title, title_edited, "
            "suggestion_rank, decided_at FROM album_reviews"
        ).fetchall()
    assert row == [(TRIP, "approved", None, 4, 5, 3, "Ines", "Summer in Lisbon", False, 2, NOW)]


def test_a_title_that_is_no_suggestion_is_stored_as_edited(store: Store) -> None:
    review = rv.record_review(store, submit(title="  Lisbon,   our long weekend "))
    assert (review.title, review.title_edited, review.suggestion_rank) == ("Lisbon, our long weekend", True, None)
    # The same text as a suggestion, spaces aside, is the suggestion: not an edit.
    again = rv.record_review(store, submit(title=" A weekend  in Lisbon"))
    assert (again.title, again.title_edited, again.suggestion_rank) == ("A weekend in Lisbon", False, 1)


def test_history_is_kept_and_the_latest_decision_wins(store: Store) -> None:
    rv.record_review(store, submit(decision=rv.Decision.REJECTED, reason="Too many similar shots"),
                     now=datetime(2026, 1, 1))  # fmt: skip
    rv.record_review(store, submit(reviewer="Marc", title="Our Lisbon"), now=datetime(2026, 1, 2))
    history = read(store, rv.review_history, TRIP)
    assert [(r.decision, r.reviewer) for r in history] == [("approved", "Marc"), ("rejected", "Ines")]
    assert history[1].reason == "Too many similar shots"
    (card,) = read(store, rv.list_albums, 1, rv.GalleryFilter(kinds=frozenset({"trip"})))
    assert card.status is rv.ReviewStatus.APPROVED and card.title == "Our Lisbon" and card.latest.reviewer == "Marc"
    assert card.generated_title == "A weekend in Lisbon"


def test_the_same_second_twice_still_has_one_latest(store: Store) -> None:
    rv.record_review(store, submit(), now=NOW)
    rv.record_review(store, submit(decision=rv.Decision.REJECTED, reason="No"), now=NOW)
    (card,) = read(store, rv.list_albums, 1, rv.GalleryFilter(kinds=frozenset({"trip"})))
    assert card.status is rv.ReviewStatus.REJECTED  # the later row


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"decision": rv.Decision.REJECTED, "reason": "  "}, "Say why you reject"),
        ({"reviewer": "  "}, "Enter your name"),
        ({"title": "   "}, "The title is empty"),
        ({"title": "x" * 121}, "121 characters"),
        ({"reason": "x" * 1001}, "keep it under 1000"),
        ({"decision": "maybe"}, "Unknown decision 'maybe'"),
    ],
    ids=["reject-without-reason", "no-reviewer", "empty-title", "long-title", "long-reason", "bad-decision"],
)
def test_a_bad_decision_is_refused_with_the_fix(store: Store, changes: dict, message: str) -> None:
    values = {"decision": rv.Decision.APPROVED} | changes
    with pytest.raises(rv.ReviewError, match=message):
        rv.record_review(store, submit(**values))
    assert read(store, rv.review_history, TRIP) == []


@pytest.mark.parametrize("bad", [0, 6, 3.5, None, True])
def test_rubric_scores_are_whole_numbers_from_1_to_5(bad: object) -> None:
    with pytest.raises(rv.ReviewError, match="from 1 to 5"):
        rv.Rubric(story=4, photo_choice=bad, title=3)  # type: ignore[arg-type]


def test_a_decision_about_a_missing_album_says_so(store: Store) -> None:
    with pytest.raises(rv.AlbumNotFoundError, match="albums stage may have run again"):
        rv.record_review(store, submit(album_id="1-trip-gone"))


def test_decisions_survive_a_rerun_of_the_albums_stage(store: Store) -> None:
    rv.record_review(store, submit(), now=NOW)
    with store.connect() as con:  # the stage replaces a library's albums; ids are stable
        con.execute("DELETE FROM album_photos")
        con.execute("DELETE FROM albums")
        insert_albums(con, 1)
    assert read(store, rv.list_albums, 1, rv.GalleryFilter(kinds=frozenset({"trip"})))[0].status == "approved"


# --------------------------------------------------------------------------- gallery and detail


def test_gallery_filters_by_kind_status_reviewer_and_score(store: Store) -> None:
    rv.record_review(store, submit(TRIP, reviewer="Ines"))
    rv.record_review(store, submit(EVENT, rv.Decision.REJECTED, reviewer="Marc", title="Christmas 2022",
                                   reason="Only two photos"))  # fmt: skip

    def ids(**kw) -> list[str]:  # noqa: ANN003
        return [c.album_id for c in read(store, rv.list_albums, 1, rv.GalleryFilter(**kw))]

    assert ids() == [TRIP, EVENT, THEME]  # best score first
    assert ids(kinds=frozenset({"event", "theme"})) == [EVENT, THEME]
    assert ids(statuses=frozenset({rv.ReviewStatus.UNREVIEWED})) == [THEME]
    assert ids(statuses=frozenset({rv.ReviewStatus.APPROVED, rv.ReviewStatus.UNREVIEWED})) == [TRIP, THEME]
    assert ids(statuses=frozenset({rv.ReviewStatus.REJECTED})) == [EVENT]
    assert ids(reviewers=frozenset({"Marc"})) == [EVENT]
    assert ids(min_score=0.6, max_score=0.8) == [EVENT]
    assert ids(sort=rv.GallerySort.OLDEST) == [EVENT, THEME, TRIP]
    assert ids(sort=rv.GallerySort.NEWEST) == [TRIP, THEME, EVENT]
    assert ids(sort=rv.GallerySort.RECENTLY_REVIEWED)[:2] == [EVENT, TRIP]
    assert ids(kinds=frozenset({"year"})) == []
    stats = read(store, rv.gallery_stats, 1)
    assert (stats.n_albums, stats.n_approved, stats.n_rejected, stats.n_unreviewed) == (3, 1, 1, 1)
    assert stats.kinds == ("event", "theme", "trip") and stats.reviewers == ("Ines", "Marc")
    (library,) = read(store, rv.libraries_with_albums)
    assert (library.library_id, library.name, library.n_albums) == (1, "photos", 3)


def test_album_detail_has_photos_in_order_with_reasons_facts_and_trace(store: Store) -> None:
    album = read(store, rv.album_detail, TRIP)
    assert album.card.kind == "trip" and album.card.n_photos == 8 and album.card.place_name == "Lisbon"
    assert [p.position for p in album.photos] == list(range(8))
    assert [p.taken_at for p in album.photos] == sorted(p.taken_at for p in album.photos)
    assert album.photos[0].reason == "Among the best rated (#1 of 8)" and album.photos[0].sha256
    assert album.cover is not None and album.cover.photo_id == album.card.cover_photo_id
    assert album.suggestion_texts == ["A weekend in Lisbon", "Summer in Lisbon", "Summer 2023 with Anna & Ben"]
    assert album.facts_used_by("Summer in Lisbon") == {"season": "summer", "place": "Lisbon"}
    assert album.facts_used_by("Something else") is None
    assert album.facts["place"]["name"] == "Lisbon" and album.caption_facts_used["place"] == "Lisbon"
    assert album.rule == "2 nights away, 3 events, 8 usable photos" and album.history == ()
    with pytest.raises(rv.AlbumNotFoundError):
        read(store, rv.album_detail, "nope")


def test_a_database_without_the_review_table_reads_as_unreviewed(tmp_path: Path, store: Store) -> None:
    """A read-only connection applies no schema: a database from before the review page."""
    with store.connect() as con:
        con.execute("DROP TABLE album_reviews")
    cards = read(store, rv.list_albums, 1)
    assert [c.status for c in cards] == ["unreviewed"] * 3
    assert read(store, rv.gallery_stats, 1).reviewers == ()
    assert read(store, rv.album_detail, TRIP).history == ()


def test_no_albums_table_means_no_albums(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "old.duckdb"
    duckdb.connect(str(db)).execute("CREATE TABLE photos (photo_id BIGINT)").close()
    store = Store(db)
    assert read(store, rv.libraries_with_albums) == []
    assert read(store, rv.list_albums, 1) == []
    assert read(store, rv.gallery_stats, 1).n_albums == 0


# --------------------------------------------------------------------------- export


def test_export_writes_the_approved_albums_with_their_final_titles(store: Store, tmp_path: Path) -> None:
    rv.record_review(store, submit(TRIP, title="Lisbon, our long weekend"), now=NOW)
    rv.record_review(store, submit(EVENT, title="Christmas 2022"), now=NOW)
    rv.record_review(store, submit(EVENT, rv.Decision.REJECTED, title="Christmas 2022", reason="Two photos"), now=NOW)
    out = tmp_path / "out" / "approved.json"
    document = rv.export_approved(store, 1, out, now=NOW)
    assert json.loads(out.read_text()) == document
    assert document["library"]["name"] == "photos" and document["exported_at"] == "2026-01-05T09:30:00"
    (album,) = document["albums"]  # the event's latest decision is a rejection
    assert album["id"] == TRIP and album["title"] == "Lisbon, our long weekend" and album["title_edited"] is True
    assert album["generated_title"] == "A weekend in Lisbon"
    assert [p["position"] for p in album["photos"]] == list(range(8))
    assert all(p["path"].endswith(".jpg") and p["reason"] for p in album["photos"])
    assert album["cover"]["path"].endswith(".jpg")
    assert album["review"] == {"reviewer": "Ines", "decided_at": "2026-01-05T09:30:00", "reason": None,
                               "rubric": {"story": 4, "photo_choice": 5, "title": 3}}  # fmt: skip
    assert album["facts"]["season"] == "summer"


def test_export_with_nothing_approved_is_an_empty_list(store: Store, tmp_path: Path) -> None:
    assert rv.export_approved(store, 1, tmp_path / "none.json")["albums"] == []


# --------------------------------------------------------------------------- facts in words


def test_facts_read_as_short_lines_and_know_which_a_title_used() -> None:
    facts = {
        "kind": "trip", "n_photos": 60, "start": "2022-08-15", "end": "2022-08-28", "n_days": 14, "nights": 13,
        "years": [2022], "season": "summer", "holiday": "Assumption Day",
        "place": {"name": "Seville", "level": "city", "country_code": "ES"}, "people": ["Anna", "Eva"],
        "n_occasions": 14,
    }  # fmt: skip
    lines = {line.label: line for line in rv.describe_facts(facts)}
    assert lines["Dates"].value == "15–28 Aug 2022 · 14 days · 13 nights"
    assert lines["Season"].value == "Summer" and lines["Holiday"].value == "Assumption Day"
    assert lines["Place"].value == "Seville (city)" and lines["People"].value == "Anna and Eva"
    assert lines["Size"].value == "60 photos · from 14 occasions"
    used = {"season": "summer", "year": 2022, "people": ["Anna", "Eva"]}
    assert {label for label, line in lines.items() if line.used_by(used)} == {"Dates", "Season", "People"}
    assert not lines["Place"].used_by(None)
    assert rv.describe_used({"place": "Seville", "n_days": 14, "start": "2022-08-15"}) == [
        "place Seville", "14 days", "from 15 Aug 2022"]  # fmt: skip


def test_facts_of_other_kinds() -> None:
    year = {"kind": "year", "years": [2021], "start": "2021-01-06", "end": "2021-12-31", "n_trips": 4,
            "highlights": [{"name": "Rome", "level": "city"}, {"name": "Munich", "level": "city"}]}  # fmt: skip
    assert {line.label: line.value for line in rv.describe_facts(year)}["Highlights"] == "Rome and Munich"
    person = {"kind": "together", "subjects": ["Carla", "Felix"], "unnamed_subjects": 1, "years": [2021, 2022, 2023],
              "theme": "beach_sea"}  # fmt: skip
    lines = {line.label: line.value for line in rv.describe_facts(person)}
    assert lines["About"] == "Carla and Felix (+1 unnamed person)" and lines["Years"] == "2021–2023"
    assert lines["Theme"] == "Beach & sea"
    otd = {"kind": "on_this_day", "day_month": [7, 14], "years_ago": [3], "start": "2021-07-14", "end": "2021-07-14"}
    lines = {line.label: line.value for line in rv.describe_facts(otd)}
    assert lines["On this day"] == "14 July · 3 years ago" and lines["Dates"] == "14 Jul 2021"
    countries = [{"name": "Portugal", "level": "country"}, {"name": "Spain", "level": "country"}]
    trip = {"kind": "trip", "countries": countries, "place": {"name": "Portugal, Spain", "level": "countries"}}
    assert {line.label: line.value for line in rv.describe_facts(trip)}["Place"] == "Portugal and Spain"
    home = {"kind": "event", "place": {"name": "Vienna", "level": "city"}, "at_home": True}
    assert {line.label: line.value for line in rv.describe_facts(home)}["Place"] == "Vienna (city) · home town"
    assert rv.describe_facts({}) == []


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (date(2021, 7, 14), date(2021, 7, 14), "14 Jul 2021"),
        (date(2022, 8, 15), date(2022, 8, 28), "15–28 Aug 2022"),
        (date(2023, 6, 30), date(2023, 7, 5), "30 Jun – 5 Jul 2023"),
        (date(2021, 1, 28), date(2023, 12, 31), "28 Jan 2021 – 31 Dec 2023"),
        (None, None, "dates unknown"),
        (None, date(2020, 2, 1), "1 Feb 2020"),
    ],
)
def test_date_ranges(start: date | None, end: date | None, text: str) -> None:
    assert rv.date_range(start, end) == text


# --------------------------------------------------------------------------- photobook layout


def _photos(aspects: list[float], days: list[int] | None = None) -> list[rv.AlbumPhotoView]:
    days = days or [1] * len(aspects)
    return [
        rv.AlbumPhotoView(i, i, "r", f"{i}.jpg", "0" * 64, datetime(2023, 7, d, 10, i), round(a * 300), 300)
        for i, (a, d) in enumerate(zip(aspects, days, strict=True))
    ]


def test_spreads_hold_every_photo_once_in_order_two_to_four_a_page() -> None:
    for n in range(1, 40):
        photos = _photos([4 / 3 if i % 3 else 3 / 4 for i in range(n)], days=[1 + i // 5 for i in range(n)])
        spreads = rv.plan_spreads(photos)
        pages = [p for s in spreads for p in (s.left, s.right) if p is not None]
        assert [i for p in pages for i in p.photos] == list(range(n))
        assert all(2 <= len(p.slots) <= 4 for p in pages) or n == 1
        assert [s.number for s in spreads] == list(range(1, len(spreads) + 1))
        for page in pages:  # cells inside the page, none overlapping
            for s in page.slots:
                assert 0 <= s.x and 0 <= s.y and s.x + s.w <= 1 + 1e-9 and s.y + s.h <= 1 + 1e-9


def test_pages_prefer_three_photos_and_a_new_page_for_a_new_day() -> None:
    assert rv.page_sizes([date(2023, 7, 1)] * 12) == [3, 3, 3, 3]
    day = [date(2023, 7, 1)] * 4 + [date(2023, 7, 2)] * 2 + [date(2023, 7, 3)] * 3
    assert rv.page_sizes(day) == [4, 2, 3]
    assert rv.page_sizes([None] * 5) in ([3, 2], [2, 3])
    assert rv.page_sizes([]) == [] and rv.page_sizes([None]) == [1]


def test_layout_fits_the_photos_shapes() -> None:
    portraits = rv.layout_page([3 / 4, 3 / 4])
    assert [(s.w, s.h) for s in portraits.slots] == [(0.5, 1), (0.5, 1)]  # side by side
    panoramas = rv.layout_page([2.5, 2.5])
    assert [(s.w, s.h) for s in panoramas.slots] == [(1, 0.5), (1, 0.5)]  # one above the other
    assert len(rv.layout_page([4 / 3] * 4).slots) == 4


# --------------------------------------------------------------------------- layering


def test_the_core_imports_without_streamlit() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, curation.review; print('streamlit' in sys.modules)"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    assert out.stdout.strip() == "False"

"""Memories review and Model quality pages: one AppTest per page on a store with synthetic
albums (ingested generated JPEGs + album rows as the albums stage writes them) and synthetic
model versions, the key widgets, one action each, the empty states, and the drawing helpers.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_review import EVENT, THEME, TRIP, make_album_data

from curation import review as rv
from curation.settings import Settings
from curation.store import Store

REPO = Path(__file__).resolve().parents[2]
REVIEW = REPO / "pages" / "memories_review.py"
QUALITY = REPO / "pages" / "model_quality.py"
TIMEOUT = 90


@pytest.fixture(scope="module")
def album_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_album_data(tmp_path_factory.mktemp("review-ui"))


@pytest.fixture
def albums_dir(album_template: Path, data_dir: Path) -> Path:
    """A copy of the database and thumbnails with three albums, as CURATION_DATA_DIR."""
    shutil.copytree(album_template, data_dir)
    return data_dir


def run(page: Path, **query: str) -> AppTest:
    at = AppTest.from_file(str(page), default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)


def reviews(db: Path) -> list[tuple]:
    with Store(db).connect(read_only=True) as con:
        return con.execute(
            "SELECT album_id, decision, title, title_edited, suggestion_rank, reviewer, story, photo_choice, "
            "title_score, reason FROM album_reviews ORDER BY review_id"
        ).fetchall()


def rate(at: AppTest, story: int = 4, photos: int = 5, title: int = 3) -> None:
    at.segmented_control(key="review_rubric_story").set_value(story)
    at.segmented_control(key="review_rubric_photo_choice").set_value(photos)
    at.segmented_control(key="review_rubric_title").set_value(title)


# --------------------------------------------------------------------------- Memories review


def test_gallery_shows_every_album_as_a_card(albums_dir: Path) -> None:
    at = run(REVIEW)
    assert not at.error, [e.value for e in at.error]
    assert "Memories review" in at.title[0].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Albums": "3", "To review": "3", "Approved": "0", "Rejected": "0"}
    assert [b.key for b in at.button if b.key.startswith("open_")] == [f"open_{a}" for a in (TRIP, EVENT, THEME)]
    assert len(at.image) == 3  # the covers
    page = text(at)
    assert "A weekend in Lisbon" in page and "Christmas 2022" in page and "Beach days" in page
    assert "14–16 Jul 2023 · Lisbon" in page and "8 photos · score 0.91" in page
    assert at.pills(key="review_kinds").options == ["Event", "Theme", "Trip"]
    assert at.segmented_control(key="review_statuses")
    assert at.multiselect(key="review_reviewers").options == []
    assert at.slider(key="review_score").value == (0.0, 1.0)
    assert at.selectbox(key="review_sort")


def test_gallery_filters(albums_dir: Path) -> None:
    at = run(REVIEW)
    at.pills(key="review_kinds").set_value(["trip", "theme"]).run()
    assert [b.key for b in at.button if b.key.startswith("open_")] == [f"open_{TRIP}", f"open_{THEME}"]
    at.slider(key="review_score").set_value((0.6, 1.0)).run()
    assert [b.key for b in at.button if b.key.startswith("open_")] == [f"open_{TRIP}"]
    at.segmented_control(key="review_statuses").set_value([rv.ReviewStatus.APPROVED]).run()
    assert not any(b.key.startswith("open_") for b in at.button)
    assert "No album matches" in at.info[0].value


def test_approve_an_album_with_a_changed_title(albums_dir: Path) -> None:
    """The page's action: open an album, write another title, rate, approve -> a new album_reviews row."""
    at = run(REVIEW)
    at.button(key=f"open_{TRIP}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.query_params["album"] == [TRIP] or at.query_params["album"] == TRIP
    radio = at.radio(key="review_title_choice")
    assert radio.options == [
        "A weekend in Lisbon", "Summer in Lisbon", "Summer 2023 with Anna & Ben", "Write my own…"]  # fmt: skip
    assert len(at.image) >= 3  # the cover spread and the inside spreads
    assert "**Place** Lisbon \\(city\\)" in text(at)  # the facts behind the titles
    assert "Among the best rated \\(\\#1 of 8\\)" in text(at)  # each photo's reason

    radio.set_value("__edit__").run()
    at.text_input(key="review_title_edit").input("Lisbon, our long weekend").run()
    rate(at)
    at.text_input(key="review_reviewer").input("Ines")
    at.button(key="review_approve").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert reviews(Settings().database) == [
        (TRIP, "approved", "Lisbon, our long weekend", True, None, "Ines", 4, 5, 3, None)]  # fmt: skip
    assert any("Approved “Lisbon, our long weekend”" in s.value for s in at.success)
    assert "Lisbon, our long weekend" in at.markdown[0].value or "Lisbon, our long weekend" in text(at)
    # The form is filled again from the decision; the reviewer's name is remembered.
    assert at.radio(key="review_title_choice").value == "__edit__"
    assert at.text_input(key="review_reviewer").value == "Ines"


def test_approve_with_another_suggestion_and_remember_the_reviewer(albums_dir: Path) -> None:
    at = run(REVIEW, album=TRIP)  # a shared link opens the album directly
    at.radio(key="review_title_choice").set_value(1).run()
    assert ":primary[:material/wb_sunny: **Season** Summer :material/check:]" in text(at)  # the facts it uses
    rate(at, 5, 4, 4)
    at.text_input(key="review_reviewer").input("  Marc ")
    at.button(key="review_approve").click().run()
    assert reviews(Settings().database)[-1][:6] == (TRIP, "approved", "Summer in Lisbon", False, 2, "Marc")
    at.button(key="review_next").click().run()  # the next album of the library, best first
    assert at.query_params["album"] in (EVENT, [EVENT])
    assert at.text_input(key="review_reviewer").value == "Marc"
    assert at.segmented_control(key="review_rubric_story").value is None  # a fresh form
    at.button(key="review_back").click().run()
    assert {m.label: m.value for m in at.metric}["Approved"] == "1"
    assert at.multiselect(key="review_reviewers").options == ["Marc"]
    assert not at.get("download_button")[0].proto.disabled


def test_reject_needs_a_reason_and_rubric(albums_dir: Path) -> None:
    at = run(REVIEW, album=EVENT)
    at.text_input(key="review_reviewer").input("Ines")
    at.button(key="review_reject").click().run()
    assert "Rate story, photo choice and title suggestions from 1 to 5" in at.error[0].value
    rate(at)
    at.button(key="review_reject").click().run()
    assert "Say why you reject the album" in at.error[0].value
    assert reviews(Settings().database) == []
    at.text_area(key="review_reason").input("Only two photos of the evening")
    at.button(key="review_reject").click().run()
    assert not at.error
    assert reviews(Settings().database)[0][:3] == (EVENT, "rejected", "Christmas 2022")
    assert reviews(Settings().database)[0][-1] == "Only two photos of the evening"


def test_an_album_that_is_gone_is_an_error_with_a_way_back(albums_dir: Path) -> None:
    at = run(REVIEW, album="1-trip-gone")
    assert "is not in the database" in at.error[0].value
    assert at.button(key="review_back")


def test_review_page_without_albums_says_which_stage_to_run(data_dir: Path, album_template: Path) -> None:
    at = run(REVIEW)  # no database at all
    assert not at.error
    assert "No photos yet" in text(at) and "What you can do now" in text(at)
    shutil.copytree(album_template, data_dir, dirs_exist_ok=True)
    with Store(Settings().database).connect() as con:
        con.execute("DELETE FROM albums")
    at = run(REVIEW)
    page = text(at)
    assert "albums stage" in page and "Albums: not yet" in page and "10 photos ingested" in page
    assert "curation run" in at.code[0].value


# --------------------------------------------------------------------------- drawing the spreads


def test_spreads_and_cover_are_drawn_from_the_thumbnails(albums_dir: Path) -> None:
    from dashboard import review_view

    settings = Settings()
    with Store(settings.database).connect(read_only=True) as con:
        album = rv.album_detail(con, TRIP)
    sources = tuple(review_view._source(settings, p.sha256) for p in album.photos)
    assert all(path is not None for path, _ in sources)
    spread = rv.plan_spreads(album.photos)[0]
    with Image.open(io.BytesIO(review_view.spread_image(spread, sources))) as image:
        assert image.size == (2 * review_view.PAGE_PX, review_view.PAGE_PX)
        photo_pixels = image.crop((60, 60, 300, 300)).getcolors(1 << 16)
        assert photo_pixels is None or len(photo_pixels) > 50  # a photo, not blank paper
    missing = tuple((None, 0) for _ in sources)  # thumbnails gone: grey boxes, no error
    assert review_view.spread_image(spread, missing)[:2] == b"\xff\xd8"
    cover = review_view.cover_image("A weekend in Lisbon", "Trip · 14–16 Jul 2023", album.card.caption, sources[0])
    with Image.open(io.BytesIO(cover)) as image:
        assert image.size == (2 * review_view.PAGE_PX, review_view.PAGE_PX)


# --------------------------------------------------------------------------- Model quality


# As curation.evaluate writes them (faces, themes, clutter), and one older layout.
FACES_V1 = {"bcubed": {"precision": 0.97, "recall": 0.90, "f1": 0.933}, "n_faces": 120}
FACES_V2 = {
    "model_version": "dlib_resnet@2", "bcubed_f": 0.965, "bcubed_precision": 0.98, "bcubed_recall": 0.95,
    "subsets": [{"subset": "all files", "n_faces": 120, "precision": 0.98, "recall": 0.95, "f1": 0.965},
                {"subset": "unique files", "n_faces": 100, "precision": 0.97, "recall": 0.93, "f1": 0.95}],
}  # fmt: skip
THEMES = {"top1": 0.81, "top3": 0.95, "n": 90, "per_theme": {"pets": {"top1": 0.9, "top3": 1.0, "n": 10}}}
CLUTTER = {"held_out": {"n": 162, "accuracy": 0.9815, "confusion": [[1, 0], [0, 1]], "per_category": {
    "photo": {"n": 83, "precision": 0.965, "recall": 1.0}, "receipt": {"n": 10, "precision": 1.0, "recall": 0.9}}}}
TRAINED = {"seed": 7, "themes": {"trained": True, "held_out": {"f1_micro": 0.7}, "baseline": {"f1_micro": 0.6}}}


def add_model_versions(db: Path) -> None:
    with Store(db).connect() as con:
        rows = [
            ("faces", "dlib_resnet@1", datetime(2026, 1, 1), FACES_V1),
            ("faces", "dlib_resnet@2", datetime(2026, 1, 2), FACES_V2),
            ("themes", "themes-imagenet-map@1", datetime(2026, 1, 1), THEMES),
            ("clutter", "clutter-lr@2d2e36c5", datetime(2026, 1, 1), CLUTTER),
            ("embedder", "efficientnet_lite0@1", datetime(2026, 1, 1), None),
        ]
        for task, version, created, metrics in rows:
            con.execute(
                "INSERT INTO model_versions VALUES (?, ?, ?, ?)",
                [task, version, created, json.dumps(metrics) if metrics else None],
            )
        con.execute(
            "INSERT INTO training_runs (model_version, embedder, seed, started_at, seconds, n_human, n_bootstrap, "
            "n_predicted, weights_path, metrics) VALUES ('heads@1-abc', 'efficientnet_lite0@1', 7, ?, 3.5, 40, 120, "
            "90, NULL, ?)",
            [datetime(2026, 1, 3), json.dumps(TRAINED)],
        )


def test_quality_page_charts_every_headline_metric_with_targets(albums_dir: Path) -> None:
    add_model_versions(Settings().database)
    at = run(QUALITY)
    assert not at.error, [e.value for e in at.error]
    assert "Model quality" in at.title[0].value
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert metrics["Faces · clustering · BCubed F"] == ("0.965", "+0.015 vs target 0.95")
    assert metrics["Clutter · Accuracy"] == ("0.982", "+0.012 vs target 0.97")
    charts = at.get("plotly_chart")
    # faces F/P/R, themes top-1/top-3, clutter accuracy/precision/recall
    assert len(charts) == 8
    faces = json.loads(charts[0].proto.spec)  # the new layout's bcubed_f, and the old one's bcubed.f1
    assert [(bar["name"], bar["y"]) for bar in faces["data"]] == [("overall", [None, 0.965]),
                                                                 ("bcubed", [0.933, None])]  # fmt: skip
    assert faces["layout"]["shapes"][0]["y0"] == 0.95  # the target line
    # A table per task and the training runs (st.dataframe without selection carries no key to find it by).
    faces_table, themes_table, clutter_table, runs_table = (d.value for d in at.dataframe)
    assert list(faces_table["model_version"]) == ["dlib_resnet@1", "dlib_resnet@2"]
    assert list(faces_table.columns[2:8]) == ["bcubed_f", "bcubed.f1", "bcubed_precision", "bcubed.precision",
                                              "bcubed_recall", "bcubed.recall"]  # fmt: skip
    assert faces_table["subsets.unique files.f1"].tolist()[1] == 0.95  # variants: in the table
    assert themes_table["top3"].tolist() == [0.95] and "per_theme.pets.top1" in themes_table
    assert "held_out.confusion" not in clutter_table  # lists are not metrics
    assert runs_table[["model_version", "n_human", "themes.held_out.f1_micro"]].values.tolist() == [
        ["heads@1-abc", 40, 0.7]]  # fmt: skip
    assert "efficientnet_lite0@1" in text(at)  # listed as not evaluated yet

    at.pills(key="quality_tasks").set_value(["clutter"]).run()  # the page's action: fewer tasks
    assert len(at.get("plotly_chart")) == 3
    assert len(at.dataframe) == 2  # clutter and the training runs


def test_quality_page_without_metrics_explains_curation_evaluate(albums_dir: Path) -> None:
    at = run(QUALITY)
    assert not at.error
    assert "curation evaluate" in at.code[0].value
    assert "What you can do now" in text(at)


def test_metrics_are_read_generically() -> None:
    from dashboard import quality_view as qv

    flat = qv.flatten_metrics(CLUTTER | {"ok": True, "name": "x", "nan": float("nan")})
    assert flat == {
        "held_out.n": 162, "held_out.accuracy": 0.9815, "held_out.per_category.photo.n": 83,
        "held_out.per_category.photo.precision": 0.965, "held_out.per_category.photo.recall": 1.0,
        "held_out.per_category.receipt.n": 10, "held_out.per_category.receipt.precision": 1.0,
        "held_out.per_category.receipt.recall": 0.9,
    }  # fmt: skip
    charts = {c.key: c for c in qv.headline_charts("clutter", [flat])}
    assert set(charts) == {"accuracy", "clutter_precision", "clutter_recall"}
    assert charts["accuracy"].target == 0.97  # curation.evaluate.TARGETS
    assert [label for label, _ in charts["clutter_precision"].series] == ["held out · photo", "held out · receipt"]
    faces = qv.headline_charts("faces", [qv.flatten_metrics(FACES_V1)])
    assert [(c.label, c.target) for c in faces] == [("BCubed F", 0.95), ("BCubed precision", None),
                                                   ("BCubed recall", None)]  # fmt: skip
    # A list of result blocks is keyed by their names; only the shallowest match is charted.
    flat = qv.flatten_metrics(FACES_V2)
    assert flat["subsets.unique files.f1"] == 0.95 and "model_version" not in flat
    assert [c.series for c in qv.headline_charts("faces", [flat])][0] == (("overall", "bcubed_f"),)
    themes = qv.headline_charts("themes", [qv.flatten_metrics(THEMES)])
    assert [(c.label, c.series) for c in themes] == [("Top-1 accuracy", (("overall", "top1"),)),
                                                     ("Top-3 accuracy", (("overall", "top3"),))]  # fmt: skip
    splits = {"accuracy": 0.98, "splits": {"64px_copies": {"accuracy": 0.8}}}
    assert qv.headline_charts("clutter", [qv.flatten_metrics(splits)])[0].series == (("overall", "accuracy"),)
    other = qv.headline_charts("events", [["boundary.f1", "pairwise.precision", "n"]])
    assert [c.key for c in other] == ["f1", "precision"]
    assert qv.column_label("held_out.per_category.receipt.precision") == "held out · receipt · precision"

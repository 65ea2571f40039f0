"""Memories review and Model quality in a real browser: `streamlit run dashboard/app.py` driven
by headless Chromium (the fixtures and helpers of test_browser.py).

A generated library is ingested and three albums are written as the albums stage would
(tests/test_review.py); the test opens Memories review, opens the trip, writes its own title,
rates it, approves it, and checks the decision in DuckDB. Screenshots of the gallery, the
album as photobook spreads, the decision and the Model quality page go to
test-artifacts/screenshots/ (ignored by git).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import (  # noqa: F401 - browser is a fixture
    PAGE_TIMEOUT_MS,
    assert_no_exception,
    browser,
    screenshot,
    streamlit_app,
    wait_until_idle,
)
from test_review import TRIP, make_album_data
from test_review_quality import add_model_versions

from curation.store import Store

pytestmark = pytest.mark.browser

NEW_TITLE = "Lisbon, our long weekend"


@pytest.fixture(scope="module")
def album_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = make_album_data(tmp_path_factory.mktemp("e2e-review"))
    add_model_versions(data / "curation.duckdb")
    return data


def test_approve_an_album_with_a_changed_title(browser, album_dir: Path) -> None:  # noqa: ANN001, F811
    with streamlit_app(album_dir, {}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/memories")
        page.get_by_role("heading", name="Memories review").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_text("3 albums").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        page.locator('[data-testid="stImage"] img').first.wait_for(timeout=PAGE_TIMEOUT_MS)
        # The gallery's cards arrive one after another: wait for the third before counting.
        page.get_by_role("button", name="Review", exact=True).nth(2).wait_for(timeout=PAGE_TIMEOUT_MS)
        assert page.get_by_role("button", name="Review", exact=True).count() == 3
        assert_no_exception(page)
        screenshot(page, "memories-gallery")

        page.locator(f".st-key-open_{TRIP} button").click()  # the trip, best first
        page.get_by_text("The facts behind it").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert page.url.endswith(f"?album={TRIP}")
        assert page.locator('[data-testid="stImage"] img').count() >= 3  # cover spread + inside spreads
        page.get_by_text("Write my own…").click()
        title_box = page.locator(".st-key-review_title_edit input")
        title_box.wait_for(timeout=PAGE_TIMEOUT_MS)
        title_box.fill(NEW_TITLE)
        title_box.press("Enter")
        wait_until_idle(page)
        for key, score in (("story", "4"), ("photo_choice", "5 · great"), ("title", "3 · fine")):
            page.locator(f".st-key-review_rubric_{key} button", has_text=score).first.click()
        page.locator(".st-key-review_reviewer input").fill("Ines")
        page.locator(".st-key-review_reason textarea").fill("Lovely light; the title needed our name for it.")
        assert_no_exception(page)
        screenshot(page, "memories-album")

        page.get_by_role("button", name="Approve").click()
        # The confirmation (the decision history repeats the words, folded away).
        page.locator('[data-testid="stAlert"]', has_text=f"Approved “{NEW_TITLE}”").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_exception(page)
        screenshot(page, "memories-approved")

        with Store(album_dir / "curation.duckdb", busy_timeout_s=30).connect(read_only=True) as con:
            rows = con.execute(
                "SELECT album_id, decision, title, title_edited, reviewer, story, photo_choice, title_score, reason "
                "FROM album_reviews"
            ).fetchall()
        assert rows == [(TRIP, "approved", NEW_TITLE, True, "Ines", 4, 5, 3,
                         "Lovely light; the title needed our name for it.")]  # fmt: skip

        page.get_by_role("button", name="All albums").click()
        page.get_by_text("3 albums").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert page.get_by_role("button", name="Export approved").is_enabled()
        screenshot(page, "memories-gallery-after-review")

        page.goto(f"{url}/model-quality")
        page.get_by_role("heading", name="Model quality").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.locator(".js-plotly-plot").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        page.set_viewport_size({"width": 1400, "height": 3400})  # the charts draw when they are in view
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot').length === 8", timeout=PAGE_TIMEOUT_MS
        )  # faces F/P/R, themes top-1/top-3, clutter accuracy/precision/recall
        assert_no_exception(page)
        screenshot(page, "model-quality-metrics")
        page.close()

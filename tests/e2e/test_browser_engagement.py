"""The Engagement SQL page in a real browser, from no data to an A/B verdict.

Starts `streamlit run dashboard/app.py` with an empty CURATION_DATA_DIR in tmp, opens the
page (empty state), presses **Generate sample engagement data**, runs a saved query (chart,
table, CSV), refused and bad SQL in the editor, and the Experiments tab. Screenshots go to
test-artifacts/screenshots/engagement*.png (ignored by git) for people to look at.

The server, browser and screenshot helpers are the ones of test_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import (  # noqa: F401 - `browser` is a fixture
    PAGE_TIMEOUT_MS,
    assert_no_exception,
    browser,
    screenshot,
    streamlit_app,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

SAMPLE_USERS = 3_000  # enough for readable charts, a few seconds to build


def _tab(page, label: str):  # noqa: ANN001, ANN202 - Playwright Page and Locator
    return page.get_by_role("tab", name=label)


def _run_sql(page, sql: str) -> None:  # noqa: ANN001
    editor = page.locator("textarea[aria-label=\"SQL\"]")
    editor.fill(sql)
    editor.press("Control+Enter")  # commit the text area's value before the click
    wait_until_idle(page)
    page.get_by_role("button", name="Run SQL").click()
    wait_until_idle(page)


def test_engagement_page_from_empty_to_verdict(browser, tmp_path: Path) -> None:  # noqa: ANN001, F811
    with streamlit_app(tmp_path / "data", {}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/sql")
        page.get_by_role("heading", name="Engagement SQL").wait_for(timeout=PAGE_TIMEOUT_MS)

        # Empty state: what is missing, the button, the commands.
        page.get_by_text("No engagement data yet").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_text("What you can do now").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_exception(page)
        screenshot(page, "engagement-empty")

        users = page.get_by_label("Simulated users", exact=True).and_(page.locator("input"))
        users.fill(str(SAMPLE_USERS))
        users.press("Enter")
        wait_until_idle(page)
        page.get_by_role("button", name="Generate sample engagement data").click()
        page.get_by_text("Built the engagement database").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert (tmp_path / "data" / "engagement.duckdb").is_file()

        # A saved query: chart, table, CSV download, timing.
        _tab(page, "Saved queries").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("button", name="Run query").click()
        page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=PAGE_TIMEOUT_MS)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("button", name="Download CSV").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert page.get_by_text("7 rows").is_visible()  # one per album kind
        assert_no_exception(page)
        screenshot(page, "engagement")

        # The SQL editor: a write is refused, bad SQL points at its position.
        _tab(page, "SQL editor").click()
        wait_until_idle(page)
        page.get_by_text("Cleaned data").wait_for(timeout=PAGE_TIMEOUT_MS)  # the schema browser
        _run_sql(page, "DELETE FROM users")
        error = page.locator('[data-testid="stAlertContentError"]')
        error.first.wait_for(timeout=PAGE_TIMEOUT_MS)
        assert "read-only" in error.first.inner_text()
        _run_sql(page, "SELECT country,\n       nope\nFROM users")
        page.get_by_text("at line 2, column 8").wait_for(timeout=PAGE_TIMEOUT_MS)
        assert "^" in page.locator('[data-testid="stAlertContentError"] pre').first.inner_text()
        assert_no_exception(page)
        screenshot(page, "engagement-sql-error")
        _run_sql(page, "SELECT country, count(*) AS users FROM users GROUP BY ALL ORDER BY users DESC")
        page.get_by_role("heading", name="Result").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        screenshot(page, "engagement-sql")

        # Experiments: the verdict in words, the cards, the figure.
        _tab(page, "Experiments").click()
        page.get_by_text("p-value").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=PAGE_TIMEOUT_MS)
        # The last things drawn: wait for them, not only for the status widget (which shows late).
        page.get_by_text("Per variant").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_text("Sample ratio").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_exception(page)
        screenshot(page, "engagement-experiments")
        page.close()

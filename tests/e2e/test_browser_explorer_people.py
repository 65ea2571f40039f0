"""Embedding explorer and People in a real browser (the fixtures and helpers of test_browser.py).

A generated library is ingested with `curation run --stages ingest`; its embeddings, themes
and faces are generated rows (tests/dashboard/test_explorer_people.py). The test opens the
explorer (which computes the map in the background on the first visit), clicks a dot and
checks its photo shows beside the map, box-selects every dot, tags the selection and checks
the tags in DuckDB; then opens People and renames a person. Screenshots go to
test-artifacts/screenshots/ (ignored by git).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import (  # noqa: F401 - browser is a fixture
    PAGE_TIMEOUT_MS,
    assert_no_exception,
    browser,
    ingest_with_cli,
    screenshot,
    streamlit_app,
    wait_until_idle,
)
from test_explorer_people import add_faces, add_vision_rows

from curation.settings import Settings
from curation.store import Store

pytestmark = pytest.mark.browser

# The position of a trace's first point on the page, from plotly's own axes.
FIRST_POINT_JS = """() => {
  const gd = document.querySelector('.st-key-explorer_map .js-plotly-plot');
  const fl = gd._fullLayout, trace = gd._fullData[0], box = gd.getBoundingClientRect();
  return [box.left + fl._size.l + fl.xaxis.l2p(trace.x[0]), box.top + fl._size.t + fl.yaxis.l2p(trace.y[0])];
}"""
PLOT_AREA_JS = """() => {
  const gd = document.querySelector('.st-key-explorer_map .js-plotly-plot');
  const s = gd._fullLayout._size, box = gd.getBoundingClientRect();
  return [box.left + s.l, box.top + s.t, s.w, s.h];
}"""


@pytest.fixture(scope="module")
def explorer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = ingest_with_cli(tmp_path_factory.mktemp("e2e-explorer"))
    settings = Settings(data_dir=data_dir)
    store = Store(settings.database)
    add_vision_rows(store)
    add_faces(store, settings)
    return data_dir


def rows(data_dir: Path, sql: str) -> list[tuple]:
    with Store(data_dir / "curation.duckdb", busy_timeout_s=30).connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def test_explorer_click_select_and_tag_then_rename_a_person(browser, explorer_dir: Path) -> None:  # noqa: ANN001, F811
    with streamlit_app(explorer_dir, {}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/embeddings")
        page.get_by_role("heading", name="Embedding explorer").wait_for(timeout=PAGE_TIMEOUT_MS)
        # First visit: the map is computed in the background, then the page shows it.
        page.get_by_role("heading", name="Clusters").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        page.locator(".st-key-explorer_map .js-plotly-plot").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.wait_for_timeout(1000)  # plotly draws after the element appears
        assert_no_exception(page)
        screenshot(page, "embeddings")

        x, y = page.evaluate(FIRST_POINT_JS)
        page.mouse.click(x, y)
        page.get_by_role("heading", name="Selected photos (1)").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert page.get_by_text("Click a dot").count() == 0  # the preview shows the photo instead

        page.locator('.st-key-explorer_map [data-title="Box Select"]').click()
        left, top, width, height = page.evaluate(PLOT_AREA_JS)
        page.mouse.move(left + 2, top + 2)
        page.mouse.down()
        page.mouse.move(left + width / 2, top + height / 2, steps=5)
        page.mouse.move(left + width - 2, top + height - 2, steps=5)
        page.mouse.up()
        page.get_by_role("heading", name="Selected photos (14)").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        page.locator(".st-key-explorer_tag_text input").fill("e2e pick")
        page.locator(".st-key-explorer_tag button").click()
        page.get_by_text("Tagged 14 photos").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_exception(page)
        screenshot(page, "embeddings-selection")

        page.goto(f"{url}/people")
        page.get_by_role("heading", name="Who appears with whom").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        page.locator(".st-key-people_graph .js-plotly-plot").wait_for(timeout=PAGE_TIMEOUT_MS)
        assert_no_exception(page)
        screenshot(page, "people")
        page.get_by_label("Name", exact=True).fill("Grandma")
        page.get_by_role("button", name="Save name").click()
        page.get_by_text("Renamed to Grandma").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_exception(page)
        page.close()
    assert rows(explorer_dir, "SELECT count(*), min(tag) FROM photo_tags") == [(14, "e2e pick")]
    assert rows(explorer_dir, "SELECT count(*) FROM persons WHERE name = 'Grandma'") == [(1,)]

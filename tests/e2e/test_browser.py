"""The dashboard in a real browser: `python -m dashboard` (`streamlit run dashboard/app.py`) driven by headless Chromium.

Starts the app in a subprocess on a free port with CURATION_DATA_DIR in tmp (a generated
library, ingested), visits every page, checks that no exception box shows, and saves a
screenshot of each page to test-artifacts/screenshots/ (ignored by git) for people to look at.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from curation.pipeline.runner import ALL_STAGES
from dashboard.navigation import PAGES
from dashboard.process import CHROMIUM, CHROMIUM_ARGS, ServerFailed, free_port, stop, wait_until_healthy
from dashboard.runs import stage_label

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 120_000  # shared CI machines can be very slow


def make_library(root: Path, n: int = 14) -> Path:
    """Smooth random JPEGs with EXIF dates over two years, and one text file named .jpg."""
    for i in range(n):
        rng = np.random.default_rng(i)
        pixels = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
        image = Image.fromarray(pixels).resize((640, 480) if i % 4 else (480, 640), Image.Resampling.BICUBIC)
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"{2020 + i % 2}:{1 + i % 12:02d}:{1 + i:02d} 1{i % 10}:00:00"
        folder = root / f"{2020 + i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"IMG_{i:04d}.jpg", exif=exif)
    (root / "notes.jpg").write_text("not a photo")
    return root


@contextmanager
def streamlit_app(data_dir: Path, timings: dict[str, float]) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CURATION_DATA_DIR": str(data_dir), "CURATION_SAMPLES": str(data_dir / "no-samples")}
    for var in ("CURATION_DB_PATH", "CURATION_CACHE_DIR", "CURATION_DEMO_LIBRARY"):
        env.pop(var, None)
    log = (data_dir.parent / f"streamlit-{port}.log").open("w")
    command = [
        sys.executable, "-m", "dashboard",  # `streamlit run dashboard/app.py` + warm imports
        "--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_healthy(url, server, Path(log.name), timeout_s=START_TIMEOUT_S, poll_s=0.1)
        except ServerFailed as exc:
            pytest.fail(str(exc))
        timings["server_healthy_s"] = time.perf_counter() - started
        timings["_started"] = started
        yield url
    finally:
        stop(server)
        log.close()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201 - a Playwright Browser
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it (apt-get install -y chromium) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def ingest_with_cli(tmp: Path) -> Path:
    """A generated library ingested as the README does it: `curation run` in its own process
    (ingest only: the model stages have their own tests). Returns the data folder."""
    data_dir = tmp / "data"
    root = make_library(tmp / "Family photos")
    subprocess.run(
        [sys.executable, "-m", "curation.cli", "run", str(root), "--stages", "ingest"],
        env={**os.environ, "CURATION_DATA_DIR": str(data_dir)},
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return data_dir


@pytest.fixture(scope="module")
def ingested_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_with_cli(tmp_path_factory.mktemp("e2e"))


def wait_until_idle(page) -> None:  # noqa: ANN001 - a Playwright Page
    """Until the script has finished and the page is drawn: Streamlit shows a "running" widget
    while the script runs, and a grey skeleton for each element whose code the browser is still
    loading (metric cards, radios, images: each kind loads on first use after a page load)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"], [data-testid=\"stSkeleton\"]')",
        timeout=PAGE_TIMEOUT_MS,
    )


def assert_no_exception(page) -> None:  # noqa: ANN001
    assert page.locator('[data-testid="stException"]').count() == 0
    body = page.inner_text("body")
    assert "Traceback" not in body and "unexpected error" not in body


# Elements drawn by lazily loaded frontend code (code blocks) can be empty for a moment after
# the script has finished: wait for them, so a screenshot shows what a person sees.
DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stCode"]')]
  .every(e => !e.getClientRects().length || e.innerText.trim())"""  # hidden (a closed expander) or drawn


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    """The whole page: the app scrolls inside its main area, so grow the window to fit it first."""
    page.wait_for_function(DRAWN_JS, timeout=PAGE_TIMEOUT_MS)
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stMainBlockContainer\"]')].map(e => e.scrollHeight), 900)"
    )
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(400)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    return path


def test_every_page_in_the_browser(browser, ingested_dir: Path) -> None:  # noqa: ANN001
    timings: dict[str, float] = {}
    with streamlit_app(ingested_dir, timings) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for spec in PAGES:
            page.goto(f"{url}/{spec.url}")
            page.get_by_role("heading", name=spec.title).wait_for(timeout=PAGE_TIMEOUT_MS)
            if spec.default:
                page.get_by_text("Photos", exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS)
                wait_until_idle(page)
                if "server_to_first_page_s" not in timings:
                    timings["server_to_first_page_s"] = time.perf_counter() - timings["_started"]
                page.locator('[data-testid="stImage"] img').first.wait_for(timeout=PAGE_TIMEOUT_MS)
                page.locator('[data-testid="stImage"]').nth(11).wait_for(timeout=PAGE_TIMEOUT_MS)
                assert page.locator('[data-testid="stImage"]').count() == 12  # the 12 latest photos
                assert page.get_by_text("Family photos").first.is_visible()
            else:
                wait_until_idle(page)
            assert_no_exception(page)
            screenshot(page, spec.url_path)

        # The Issues and Run history tabs are drawn when opened (a rerun), not with the first paint.
        page.goto(url)
        page.locator('[data-testid="stImage"] img').first.wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
        for tab, shown, shot in (
            ("Issues (1)", "1 of 1 issues shown.", "libraries-issues"),
            ("Run history (1)", "Run history (1)", "libraries-runs"),
        ):
            page.get_by_role("tab", name=tab).click()
            page.get_by_text(shown).wait_for(timeout=PAGE_TIMEOUT_MS)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=PAGE_TIMEOUT_MS)
            wait_until_idle(page)
            assert_no_exception(page)
            screenshot(page, shot)

        # The run button, end to end: a second run of the same library, progress, new history row.
        page.goto(url)
        for stage in ALL_STAGES[1:]:  # the model stages have their own tests; keep this quick
            page.get_by_role("button", name=stage_label(stage.value), exact=True).click()
            wait_until_idle(page)
        page.get_by_role("button", name="Run curation").click()
        page.get_by_text("finished").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        page.reload()
        page.get_by_text("Run history (2)").wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_exception(page)
        screenshot(page, "libraries-after-run")
        page.close()
    timings.pop("_started")
    (SHOTS.parent / "dashboard-timings.json").write_text(json.dumps(timings, indent=2))


def test_empty_database_shows_how_to_start(browser, tmp_path: Path) -> None:  # noqa: ANN001
    with streamlit_app(tmp_path / "data", {}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.get_by_text("No library yet").wait_for(timeout=PAGE_TIMEOUT_MS)
        assert page.get_by_role("button", name="Build & run curation").is_enabled()
        wait_until_idle(page)
        assert_no_exception(page)
        screenshot(page, "libraries-empty")
        page.close()

"""What every dashboard test shares: a data folder of its own, generated photo libraries.

Every library is generated in tmp (smooth random JPEGs with EXIF capture dates) and ingested
by the real ``ingest_library``; CURATION_DATA_DIR points at a temporary folder, so Settings()
in the test and in the page script see the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from curation.ingest.pipeline import ingest_library
from curation.settings import Settings
from curation.store import Store

# Settings that would point a test at another database, cache or engagement data.
_ISOLATED_VARS = (
    "CURATION_DB_PATH", "CURATION_CACHE_DIR", "CURATION_DEMO_LIBRARY", "CURATION_ENGAGEMENT__DB_PATH",
    "CURATION_ENGAGEMENT__SOURCES", "CURATION_ENGAGEMENT__ROW_LIMIT", "CURATION_ENGAGEMENT__TIME_LIMIT_S",
    "CURATION_ENGAGEMENT__THREADS", "CURATION_ENGAGEMENT__MEMORY_LIMIT",
)  # fmt: skip


@pytest.fixture
def isolate(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Path]:
    """Point the app at ``data`` (CURATION_DATA_DIR), with the sample sets beside it (none unless made)."""

    def point_at(data: Path) -> Path:
        monkeypatch.setenv("CURATION_DATA_DIR", str(data))
        monkeypatch.setenv("CURATION_SAMPLES", str(data.parent / "samples"))  # not the shared sets
        for var in _ISOLATED_VARS:
            monkeypatch.delenv(var, raising=False)
        return data

    return point_at


@pytest.fixture
def data_dir(tmp_path: Path, isolate: Callable[[Path], Path]) -> Path:
    """An empty data folder (no database yet) that the app and Settings() use."""
    return isolate(tmp_path / "data")


def photo(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def _make_library(root: Path, n: int, *, year: int = 2021, folders: bool = False, not_a_photo: bool = False) -> Path:
    for i in range(n):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"{year}:0{1 + i % 9}:1{i % 10} 10:00:00"
        folder = root / str(year) / ("beach" if i % 2 else "") if folders else root
        folder.mkdir(parents=True, exist_ok=True)
        photo(i, (480, 360) if i % 3 else (360, 480)).save(folder / f"IMG_{i:04d}.jpg", exif=exif)
    if not_a_photo:
        (root / "notes.jpg").write_text("not a photo")
    return root


@pytest.fixture
def make_library() -> Callable[..., Path]:
    """``make_library(root, n, year=2021, folders=False, not_a_photo=False)``: ``n`` JPEGs named
    IMG_0000.jpg… with capture dates in ``year`` (every third one portrait); ``folders`` spreads
    them over ``<year>/`` and ``<year>/beach/``; ``not_a_photo`` adds a text file named notes.jpg."""
    return _make_library


@pytest.fixture
def ingest(data_dir: Path) -> Callable[[Path], Store]:
    """``ingest(root)``: the real ingest of a folder into the data folder's database."""

    def run(root: Path) -> Store:
        settings = Settings()
        store = Store(settings.database)
        ingest_library(root, store, settings, now=datetime(2026, 1, 1))
        return store

    return run


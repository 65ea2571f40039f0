"""Cached reads for the pages: ``st.cache_data`` keyed by database path + file version.

The version is the (mtime, size) of the DuckDB file and of its write-ahead log, so a
page shows fresh numbers as soon as any process (this app's run, or `curation run` in a
terminal) writes, and costs nothing while nothing changes. Errors (no database, busy
database) are raised as :class:`curation.store.StoreError` for the page to show.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import streamlit as st

from curation.settings import Settings
from curation.store import StoreError
from dashboard import queries
from dashboard.queries import DatabaseSummary, LibraryOverview, LibrarySummary
from dashboard.runs import RunRegistry

if TYPE_CHECKING:  # pandas loads with the first table, not at app start-up
    import pandas as pd

# A page waits this long for a `curation run` in another process to release the file.
READ_BUSY_TIMEOUT_S = 3.0

DbVersion = tuple[int, int, int]
T = TypeVar("T")


def current_settings() -> Settings:
    """Settings read afresh on every script run (cheap), so CURATION_* changes apply."""
    return Settings()


@st.cache_resource(show_spinner=False)
def run_registry() -> RunRegistry:
    """The runs of this Streamlit process, shared by every browser session."""
    return RunRegistry()


def db_version(db: Path) -> DbVersion:
    def stat(path: Path) -> tuple[int, int]:
        try:
            st_ = os.stat(path)
        except FileNotFoundError:
            return (0, 0)
        return (st_.st_mtime_ns, st_.st_size)

    mtime, size = stat(db)
    wal_mtime, _ = stat(db.with_name(db.name + ".wal"))
    return (mtime, size, wal_mtime)


def _read(db: str, query: Callable[..., T], *args: object) -> T:
    """Run one of dashboard.queries on a connection the run registry's gate hands out."""
    with run_registry().gate(Path(db)).reader(READ_BUSY_TIMEOUT_S) as con:
        return query(con, *args)


@st.cache_data(show_spinner=False, max_entries=64)
def _libraries(db: str, version: DbVersion) -> list[LibrarySummary]:
    return _read(db, queries.list_libraries)


@st.cache_data(show_spinner=False, max_entries=64)
def _overview(db: str, version: DbVersion, library: LibrarySummary) -> LibraryOverview:
    return _read(db, queries.library_overview, library)


@st.cache_data(show_spinner=False, max_entries=64)
def _runs(db: str, version: DbVersion, library_id: int) -> pd.DataFrame:
    return _read(db, queries.library_runs, library_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _issues(db: str, version: DbVersion, library_id: int) -> pd.DataFrame:
    return _read(db, queries.library_issues, library_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _summary(db: str, version: DbVersion) -> DatabaseSummary:
    return _read(db, queries.database_summary)


def libraries(db: Path) -> list[LibrarySummary]:
    """Libraries in the database, most recently run first; [] when there is no database yet."""
    if not db.exists():
        return []
    return _libraries(str(db), db_version(db))


def library_overview(db: Path, library: LibrarySummary) -> LibraryOverview:
    if not db.exists():
        raise StoreError(f"No database at {db}: run curation on a library first.")
    return _overview(str(db), db_version(db), library)


def library_runs(db: Path, library_id: int) -> pd.DataFrame:
    """The Run history tab's rows (pandas loads here, not when the app starts)."""
    if not db.exists():
        raise StoreError(f"No database at {db}: run curation on a library first.")
    return _runs(str(db), db_version(db), library_id)


def library_issues(db: Path, library_id: int) -> pd.DataFrame:
    """The Issues tab's rows (pandas loads here, not when the app starts)."""
    if not db.exists():
        raise StoreError(f"No database at {db}: run curation on a library first.")
    return _issues(str(db), db_version(db), library_id)


def database_summary(db: Path) -> DatabaseSummary:
    if not db.exists():
        return DatabaseSummary(exists=False)
    return _summary(str(db), db_version(db))


TILE_SIZE = 256


@st.cache_data(show_spinner=False, max_entries=512)
def _tile(path: str, mtime_ns: int) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        square = ImageOps.fit(image.convert("RGB"), (TILE_SIZE, TILE_SIZE), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    square.save(out, "JPEG", quality=85)
    return out.getvalue()


def thumbnail_tile(path: Path) -> bytes | None:
    """The cached thumbnail cropped square for an even grid; None when it is missing or unreadable."""
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    try:
        return _tile(str(path), mtime_ns)
    except OSError:  # a damaged cache file: the grid shows a placeholder, ingest rewrites it
        return None

"""The DuckDB store: one file per installation, schema in ``sql/schema.sql``.

DuckDB lets one process write a database file at a time. The engine keeps write
transactions short (it opens a connection per batch), retries for a while when
another process holds the lock, and then raises :class:`StoreBusyError` with a
message that says who holds it; it never opens the file in a way that risks it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from curation.settings import REPO_ROOT

SCHEMA_DIR = REPO_ROOT / "sql"


class StoreError(RuntimeError):
    """A problem with the database file that the user can fix."""


class StoreBusyError(StoreError):
    """Another process holds the database file's write lock."""


def schema_files() -> list[Path]:
    """``schema.sql`` first, then the other ``schema_*.sql`` files added by later stages."""
    extra = sorted(p for p in SCHEMA_DIR.glob("schema_*.sql"))
    return [SCHEMA_DIR / "schema.sql", *extra]


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table ``name`` (stages add theirs; readers cope without).
    The result is fetched whole: DuckDB refuses ``register()`` while a result is half read."""
    rows = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
    return bool(rows[0][0])


def _lock_holder(message: str) -> str:
    match = re.search(r"held in (.+?)(?: \(PID (\d+)\))?(?:\.|$)", message)
    if not match:
        return "another process"
    program, pid = match.group(1), match.group(2)
    return f"{program} (PID {pid})" if pid else program


class Store:
    """Opens short-lived connections to one DuckDB file."""

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 15.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._schema_applied = False
        self._anchor: duckdb.DuckDBPyConnection | None = None
        self._holds = 0

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._open(read_only)
        try:
            if not read_only and not self._schema_applied:
                for file in schema_files():
                    con.execute(file.read_text())
                self._schema_applied = True
            yield con
        finally:
            con.close()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the database open for a burst of short connections.

        Opening a DuckDB file and closing it (a checkpoint) costs 50-150 ms; while one
        connection stays open, DuckDB shares that instance with every further connect in
        this process, which then costs well under a millisecond. Other processes wait
        (and get :class:`StoreBusyError` with the holder's name) for as long as the hold
        lasts, so hold around bursts of writes, not around long computations.
        """
        if self._holds == 0:
            self._anchor = self._open(read_only=False)
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if self._holds == 0 and self._anchor is not None:
                self._anchor.close()
                self._anchor = None

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if read_only and not self.path.exists():
            raise StoreError(
                f"No database at {self.path}. Run `curation run LIBRARY --db {self.path}` first."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.ConnectionException:
                if not read_only:
                    raise
                # This process already has the file open for writing; DuckDB refuses a
                # second, read-only configuration of the same file, but a read-write
                # connection shares that instance and reads just as well.
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                message = str(exc)
                if "lock" not in message.lower():
                    raise StoreError(f"Cannot open the database {self.path}: {message}") from exc
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"The database {self.path} is busy: {_lock_holder(message)} is writing to it. "
                        "DuckDB allows one writing process at a time; wait for that run to finish "
                        "(or close it) and try again, or use another --db file."
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise StoreError(
                    f"{self.path} is not a usable DuckDB database: {exc}. "
                    "Point --db at a new file or at a Curation Studio database."
                ) from exc

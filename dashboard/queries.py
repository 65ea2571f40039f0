"""The read queries behind the dashboard pages: plain Python over a DuckDB connection.

No Streamlit here (``dashboard.data`` caches these); every function takes an open
connection and returns typed records or DataFrames. Tables that later stages add
(events, people, albums, clutter) are only queried when they exist. What the first page
draws is typed records only: pandas loads with the first table (issues, run history),
which the page draws when its tab is opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads when a query returns a frame, not at app start-up
    import duckdb
    import pandas as pd


@dataclass(frozen=True)
class LibrarySummary:
    library_id: int
    root: str
    name: str
    n_photos: int
    n_runs: int
    last_run_at: datetime | None


@dataclass(frozen=True)
class StageCount:
    """A count that a later stage fills; "—" until that stage has run on the library."""

    key: str
    label: str
    tables: tuple[str, ...]  # all must exist before the queries are tried
    ran_sql: str  # > 0 once the stage has run on the library (one parameter: the library id)
    count_sql: str  # the number shown (one parameter: the library id)
    help: str


# Later stages: add or adjust your entry when your tables land in sql/schema_*.sql.
STAGE_COUNTS: tuple[StageCount, ...] = (
    StageCount(
        "events", "Events", ("events",),
        "SELECT count(*) FROM events WHERE library_id = ?",
        "SELECT count(*) FROM events WHERE library_id = ?",
        "Moments grouped by time and place. Comes with the events stage.",
    ),
    StageCount(
        "people", "People", ("face_scans", "persons", "photos"),
        "SELECT count(*) FROM face_scans JOIN photos USING (photo_id) WHERE library_id = ?",
        "SELECT count(*) FROM persons WHERE library_id = ? AND merged_into IS NULL",
        "Recurring faces grouped into people. Comes with the faces stage.",
    ),
    StageCount(
        "albums", "Albums", ("albums",),
        "SELECT count(*) FROM albums WHERE library_id = ?",
        "SELECT count(*) FROM albums WHERE library_id = ?",
        "Memories albums proposed for printing. Comes with the albums stage.",
    ),
    StageCount(
        "clutter", "Clutter", ("photo_clutter", "photos"),
        "SELECT count(*) FROM photo_clutter JOIN photos USING (photo_id) WHERE library_id = ?",
        "SELECT count(DISTINCT photo_id) FROM photo_clutter JOIN photos USING (photo_id) "
        "WHERE library_id = ? AND status = 'ok' AND is_clutter",
        "Screenshots, receipts and other shots that never reach an album. Comes with the vision stage.",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class RecentPhoto:
    rel_path: str
    sha256: str
    taken_at: datetime | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class LastRun:
    run_id: int
    started_at: datetime | None
    status: str
    n_new: int
    n_changed: int


@dataclass(frozen=True)
class LibraryOverview:
    library: LibrarySummary
    n_photos: int
    n_skipped: int
    n_removed: int
    n_warnings: int
    n_issues: int  # rows of ingest_issues: the Issues tab reads them when opened
    n_runs: int
    last_run: LastRun | None
    stage_counts: dict[str, int | None]  # key -> count, None while the stage has not run
    recent: list[RecentPhoto] = field(default_factory=list)


@dataclass(frozen=True)
class DatabaseSummary:
    """What the database holds, for the pages that wait on later stages."""

    exists: bool
    n_libraries: int = 0
    n_photos: int = 0
    table_rows: dict[str, int] = field(default_factory=dict)  # DuckDB's estimate, per table

    def has(self, table: str) -> bool:
        """The table exists and holds rows (the schema creates every table up front)."""
        return self.table_rows.get(table, 0) > 0


RUN_COLUMNS = [
    "run_id", "started_at", "finished_at", "status", "stages", "n_files", "n_new", "n_changed",
    "n_unchanged", "n_removed", "n_skipped", "n_warnings", "seconds", "message",
]  # fmt: skip
ISSUE_COLUMNS = ["file", "severity", "code", "reason", "run_id"]


def tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def database_summary(con: duckdb.DuckDBPyConnection) -> DatabaseSummary:
    table_rows = {
        name: int(rows)
        for name, rows in con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
    }
    n_libraries = n_photos = 0
    if "libraries" in table_rows:
        n_libraries = con.execute("SELECT count(*) FROM libraries").fetchone()[0]
    if "photos" in table_rows:
        n_photos = con.execute("SELECT count(*) FROM photos WHERE status = 'ok'").fetchone()[0]
    return DatabaseSummary(True, int(n_libraries), int(n_photos), table_rows)


def list_libraries(con: duckdb.DuckDBPyConnection) -> list[LibrarySummary]:
    """Every library in the database, the most recently run first."""
    if not {"libraries", "runs", "photos"} <= tables(con):
        return []
    rows = con.execute(
        """
        SELECT l.library_id, l.root, l.name,
               (SELECT count(*) FROM photos p WHERE p.library_id = l.library_id AND p.status = 'ok'),
               (SELECT count(*) FROM runs r WHERE r.library_id = l.library_id),
               (SELECT max(started_at) FROM runs r WHERE r.library_id = l.library_id) AS last_run_at
        FROM libraries l
        ORDER BY last_run_at DESC NULLS LAST, l.library_id DESC
        """
    ).fetchall()
    return [LibrarySummary(int(i), root, name, int(n), int(r), last) for i, root, name, n, r, last in rows]


def library_overview(
    con: duckdb.DuckDBPyConnection, library: LibrarySummary, *, recent_limit: int = 12
) -> LibraryOverview:
    library_id = library.library_id
    n_photos, n_skipped, n_removed = con.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'ok'),
               count(*) FILTER (WHERE status = 'skipped'),
               count(*) FILTER (WHERE status = 'removed')
        FROM photos WHERE library_id = ?
        """,
        [library_id],
    ).fetchone()
    # Scan-level problems (unreadable folders, link loops) have no photos row: count them too.
    n_scan_skipped, n_warnings = con.execute(
        """
        SELECT count(*) FILTER (WHERE severity = 'skipped'
                                AND rel_path NOT IN (SELECT rel_path FROM photos WHERE library_id = ?)),
               count(*) FILTER (WHERE severity = 'warning')
        FROM ingest_issues WHERE library_id = ?
        """,
        [library_id, library_id],
    ).fetchone()
    n_issues, n_runs = con.execute(
        "SELECT (SELECT count(*) FROM ingest_issues WHERE library_id = ?), "
        "(SELECT count(*) FROM runs WHERE library_id = ?)",
        [library_id, library_id],
    ).fetchone()
    last = con.execute(
        "SELECT run_id, started_at, status, coalesce(n_new, 0), coalesce(n_changed, 0) FROM runs "
        "WHERE library_id = ? ORDER BY run_id DESC LIMIT 1",
        [library_id],
    ).fetchone()
    recent = [
        RecentPhoto(rel_path, sha, taken_at, w, h)
        for rel_path, sha, taken_at, w, h in con.execute(
            """
            SELECT rel_path, sha256, taken_at, width, height FROM photos
            WHERE library_id = ? AND status = 'ok'
            ORDER BY taken_at DESC NULLS LAST, rel_path LIMIT ?
            """,
            [library_id, recent_limit],
        ).fetchall()
    ]
    return LibraryOverview(
        library=library,
        n_photos=int(n_photos),
        n_skipped=int(n_skipped + n_scan_skipped),
        n_removed=int(n_removed),
        n_warnings=int(n_warnings),
        n_issues=int(n_issues),
        n_runs=int(n_runs),
        last_run=None if last is None else LastRun(*last),
        stage_counts=stage_counts(con, library_id),
        recent=recent,
    )


def library_runs(con: duckdb.DuckDBPyConnection, library_id: int) -> pd.DataFrame:
    """The library's runs, the latest first (the Run history tab)."""
    return con.execute(
        f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE library_id = ? ORDER BY run_id DESC", [library_id]
    ).df()


def library_issues(con: duckdb.DuckDBPyConnection, library_id: int) -> pd.DataFrame:
    """The library's ingest issues (the Issues tab): skipped files first, then warnings."""
    return con.execute(
        """
        SELECT rel_path AS file, severity, code, reason, run_id FROM ingest_issues
        WHERE library_id = ? ORDER BY severity, rel_path, code
        """,
        [library_id],
    ).df()


def stage_counts(
    con: duckdb.DuckDBPyConnection, library_id: int, counts: Iterable[StageCount] = STAGE_COUNTS
) -> dict[str, int | None]:
    """Each count, or None while its stage has not run on the library (its tables may exist)."""
    present = tables(con)
    out: dict[str, int | None] = {}
    for c in counts:
        ran = set(c.tables) <= present and con.execute(c.ran_sql, [library_id]).fetchone()[0] > 0
        out[c.key] = int(con.execute(c.count_sql, [library_id]).fetchone()[0]) if ran else None
    return out


def filter_issues(issues: pd.DataFrame, severities: Iterable[str] | None, text: str = "") -> pd.DataFrame:
    """Issues of the given severities whose file, code or reason contains ``text`` (any case)."""
    keep = issues
    if severities is not None:
        keep = keep[keep["severity"].isin(list(severities))]
    text = text.strip().lower()
    if text:
        haystack = keep["file"].str.lower() + " " + keep["code"].str.lower() + " " + keep["reason"].str.lower()
        keep = keep[haystack.str.contains(text, regex=False)]
    return keep.reset_index(drop=True)

"""Results as Parquet, partitioned by library, and loading them into the store.

Layout (a local folder or any URI pyarrow understands, e.g. ``s3://bucket/prefix``)::

    OUT/_manifest.json                           the run: store, libraries, their ids
    OUT/<table>/library=<name>/part-0.parquet    one file per table and library

The rows are exactly the store's rows (same columns, same ids), so DuckDB reads them as
they are (``read_parquet('OUT/albums/*/*.parquet', hive_partitioning = true)``), and
``import_parquet`` loads them into the store the dashboard reads, replacing each
library's rows in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs as pafs

from curation.distributed.tables import LIBRARY_TABLES, insert_rows
from curation.records import Severity
from curation.store import Store, StoreError

MANIFEST = "_manifest.json"
MANIFEST_VERSION = 1


class ParquetImportError(StoreError):
    """The Parquet output does not fit the store it is being loaded into."""


@dataclass
class LibraryResult:
    """One library of a run: where its results are and how many rows each table got."""

    library_id: int
    run_id: int
    root: Path
    rows: dict[str, int] = field(default_factory=dict)  # rows per table (the ray backend)
    report: Any = None  # the local backend's curation.pipeline.runner.RunReport


def resolve_output(out: str | Path) -> tuple[pafs.FileSystem, str]:
    """The filesystem and base path of a folder or URI (s3://, gs://, file://, a path)."""
    text = str(out)
    if "://" in text:
        filesystem, base = pafs.FileSystem.from_uri(text)
        return filesystem, base.rstrip("/")
    return pafs.LocalFileSystem(), str(Path(text).resolve())


def write_library_tables(out: str | Path, partition: str, tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """Write one library's tables under ``OUT/<table>/library=<partition>/``, replacing what was there."""
    filesystem, base = resolve_output(out)
    counts = {}
    for name, table in tables.items():
        folder = f"{base}/{name}/library={partition}"
        filesystem.create_dir(folder, recursive=True)
        filesystem.delete_dir_contents(folder, missing_dir_ok=True)
        pq.write_table(table, f"{folder}/part-0.parquet", filesystem=filesystem)
        counts[name] = table.num_rows
    return counts


def write_manifest(out: str | Path, store: Store, libraries: Sequence[dict], now: datetime) -> None:
    filesystem, base = resolve_output(out)
    filesystem.create_dir(base, recursive=True)
    document = {
        "version": MANIFEST_VERSION,
        "store": str(store.path.resolve()),
        "created_at": now.isoformat(),
        "libraries": list(libraries),
    }
    with filesystem.open_output_stream(f"{base}/{MANIFEST}") as stream:
        stream.write(json.dumps(document, indent=2).encode())


def read_manifest(out: str | Path) -> dict:
    filesystem, base = resolve_output(out)
    try:
        with filesystem.open_input_stream(f"{base}/{MANIFEST}") as stream:
            return json.loads(stream.read())
    except FileNotFoundError:
        raise ParquetImportError(
            f"{out} has no {MANIFEST}: it is not the output of `curation run --backend ray` "
            "(or that run did not finish). Point at the --parquet-out folder of a finished run."
        ) from None


def read_library_tables(out: str | Path, partition: str) -> dict[str, pa.Table]:
    filesystem, base = resolve_output(out)
    tables = {}
    for name in LIBRARY_TABLES:
        path = f"{base}/{name}/library={partition}/part-0.parquet"
        if filesystem.get_file_info(path).type == pafs.FileType.File:
            tables[name] = pq.read_table(path, filesystem=filesystem)
    return tables


def import_parquet(store: Store, out: str | Path, *, finished_at: datetime | None = None) -> list[LibraryResult]:
    """Load a run's Parquet output into ``store``: each library's rows replace the ones it
    had, in one transaction per library, and the library's run is closed as 'done'."""
    manifest = read_manifest(out)
    results = []
    for library in manifest["libraries"]:
        library_id, run_id, root = int(library["library_id"]), int(library["run_id"]), library["root"]
        tables = read_library_tables(out, library["partition"])
        with store.connect() as con:
            row = con.execute("SELECT root FROM libraries WHERE library_id = ?", [library_id]).fetchall()
            if not row or row[0][0] != root:
                raise ParquetImportError(
                    f"{out} was planned against the store {manifest['store']}, where library {library_id} is "
                    f"{root}; in {store.path} it is {row[0][0] if row else 'missing'}. Import it into "
                    f"{manifest['store']} (--db), or run the libraries again against this store."
                )
            con.begin()
            try:
                # Children first: their rows are found through photos and albums.
                for name in reversed(LIBRARY_TABLES):
                    where = LIBRARY_TABLES[name]
                    if name != "model_versions":
                        con.execute(f"DELETE FROM {name} WHERE {where}", {"lib": library_id})  # noqa: S608
                for name, table in tables.items():
                    insert_rows(con, name, table, ignore_conflicts=name == "model_versions")
                _close_run(con, library_id, run_id, tables, library.get("n_files", 0), finished_at)
                con.commit()
            except Exception:
                con.rollback()
                raise
        results.append(LibraryResult(library_id, run_id, Path(root), {n: t.num_rows for n, t in tables.items()}))
    return results


def _close_run(con, library_id, run_id, tables, n_files, finished_at) -> None:  # noqa: ANN001
    """The run's counters, as a local first run's ingest sets them: every file is new, each
    skipped file or scan problem has one 'skipped' issue, every warning one 'warning' issue."""
    issues = tables.get("ingest_issues", pa.table({"severity": pa.array([], pa.string())}))
    severities = issues.column("severity").to_pylist()
    finished_at = finished_at or datetime.now()
    con.execute(
        "UPDATE runs SET n_files = ?, n_new = ?, n_changed = 0, n_unchanged = 0, n_removed = 0, n_skipped = ?, "
        "n_warnings = ?, finished_at = ?, status = 'done', message = NULL, seconds = epoch(? - started_at) "
        "WHERE run_id = ? AND library_id = ?",
        [n_files, n_files, severities.count(Severity.SKIPPED), severities.count(Severity.WARNING),
         finished_at, finished_at, run_id, library_id],
    )  # fmt: skip

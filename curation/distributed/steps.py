"""The work of a distributed run, as plain functions and classes on Arrow tables.

Ray calls them (``map_batches`` for the per-photo steps, one task per library for the
rest), but nothing here imports Ray: each step is testable on its own. Every step runs the
local stage code on a scratch store (see ``tables``), so a distributed run computes what a
local one does, with the same code.

A batch is one row per photo: ``library_id, run_id, photo_id, root, rel_path, size,
mtime_ns``, then one nested column per table the steps so far wrote (``photos``,
``ingest_issues``, then ``face_scans``, ``faces``, then the vision tables).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from curation.distributed.tables import (
    FACES_TABLES,
    INGEST_TABLES,
    PHOTO_STEP_TABLES,
    VISION_TABLES,
    insert_rows,
    library_tables,
    pack,
    pack_first,
    read_table,
    scratch_store,
    unpack,
)
from curation.settings import Settings
from curation.store import Store

FILE_COLUMNS = ("library_id", "run_id", "photo_id", "root", "rel_path", "size", "mtime_ns")


def _libraries(batch: pa.Table) -> Iterable[tuple[int, int, str]]:
    seen = dict.fromkeys(
        zip(batch.column("library_id").to_pylist(), batch.column("run_id").to_pylist(),
            batch.column("root").to_pylist(), strict=True)
    )  # fmt: skip
    return list(seen)


def _load_batch(store: Store, batch: pa.Table, tables: Iterable[str]) -> None:
    """The batch's rows of ``tables`` into ``store`` (plus the libraries they belong to)."""
    with store.connect() as con:
        for library_id, _run_id, root in _libraries(batch):
            con.execute(
                "INSERT INTO libraries (library_id, root, name) VALUES (?, ?, ?)",
                [library_id, root, Path(root).name],
            )
        for table in tables:
            if table in batch.column_names:
                insert_rows(con, table, unpack(batch.column(table)), ignore_conflicts=table == "model_versions")


def _with_tables(batch: pa.Table, store: Store, tables: Iterable[str]) -> pa.Table:
    """``batch`` plus one nested column per table, read back from the scratch ``store``."""
    ids = batch.column("photo_id").to_pylist()
    with store.connect() as con:
        for table in tables:
            rows = read_table(con, table)
            column = pack_first(len(ids), rows) if table == "model_versions" else pack(ids, rows)
            batch = batch.append_column(table, column)
    return batch


# ----------------------------------------------------------------------------- ingest


def ingest_batch(batch: pa.Table, *, settings: Settings, now: datetime) -> pa.Table:
    """Decode, hash and read the metadata of each file (``process_file``, as the local
    ingest), write its thumbnails to the shared cache; add ``photos`` and ``ingest_issues``."""
    from curation.ingest.pipeline import _write_batch
    from curation.ingest.scan import FileEntry
    from curation.ingest.worker import WorkerConfig, process_file

    rows = batch.to_pylist()
    planned = {(r["library_id"], r["rel_path"]): r["photo_id"] for r in rows}
    with scratch_store() as store:
        for library_id, run_id, root in _libraries(batch):
            cfg = WorkerConfig(
                root=Path(root),
                cache_dir=settings.cache,
                thumb_sizes=tuple(settings.ingest.thumb_sizes),
                max_pixels=settings.ingest.max_pixels,
                min_year=settings.ingest.min_year,
                now=now,
            )
            outcomes = [
                process_file(FileEntry(r["rel_path"], r["size"], r["mtime_ns"]), cfg)
                for r in rows
                if r["library_id"] == library_id
            ]
            # The local ingest's own writer, so the rows are typed exactly as a local run's.
            _write_batch(store, library_id, run_id, outcomes)
        with store.connect() as con:
            photos = read_table(con, "photos")
            issues = read_table(con, "ingest_issues")
    # The scratch store numbered the photos itself; give them their planned ids.
    keys = zip(photos.column("library_id").to_pylist(), photos.column("rel_path").to_pylist(), strict=True)
    photos = photos.set_column(
        photos.schema.get_field_index("photo_id"), "photo_id", pa.array([planned[k] for k in keys], pa.int64())
    )
    keys = zip(issues.column("library_id").to_pylist(), issues.column("rel_path").to_pylist(), strict=True)
    issues = issues.append_column("photo_id", pa.array([planned[k] for k in keys], pa.int64()))
    ids = batch.column("photo_id").to_pylist()
    return batch.append_column("photos", pack(ids, photos)).append_column("ingest_issues", pack(ids, issues))


# ----------------------------------------------------------------------------- per-photo models


class FacesStep:
    """A Ray actor's worth of face work: the dlib models load once, in ``__init__``."""

    def __init__(self, settings: Settings, face_model: Any = None) -> None:  # noqa: ANN401 - a FaceModel
        from curation.faces import create_face_model

        self.settings = settings
        self.face_model = (face_model or create_face_model(**settings.faces.model_options())).load()

    def __call__(self, batch: pa.Table) -> pa.Table:
        from curation.pipeline.faces_stage import run_faces_stage

        with scratch_store() as store:
            _load_batch(store, batch, INGEST_TABLES)
            for library_id, _run_id, _root in _libraries(batch):
                # Also saves the face crops (named by face id) to the shared cache.
                run_faces_stage(store, self.settings, library_id, face_model=self.face_model)
            with store.connect() as con:
                # People are the library's business (``finish_library``): this batch's
                # clustering is thrown away.
                con.execute("UPDATE faces SET person_id = NULL, pinned = false")
            return _with_tables(batch, store, FACES_TABLES)


class VisionStep:
    """A Ray actor's worth of vision work: embedder (ONNX, GPU when given one) and clutter
    head load once. Themes, clutter and quality come from the same pass, as locally."""

    def __init__(self, settings: Settings, embedder: Any = None, clutter: Any = None) -> None:  # noqa: ANN401
        from curation.vision import create_embedder
        from curation.vision.clutter import ClutterClassifier

        self.settings = settings
        self.embedder = (embedder or create_embedder(settings.embedder, cache_dir=settings.model_cache)).load()
        self.clutter = (clutter or ClutterClassifier()).load()

    def __call__(self, batch: pa.Table) -> pa.Table:
        from curation.pipeline.vision_stage import run_vision_stage

        with scratch_store() as store:
            _load_batch(store, batch, INGEST_TABLES + FACES_TABLES)
            for library_id, _run_id, _root in _libraries(batch):
                # Its near-duplicate groups cover this batch only; finish_library redoes them.
                run_vision_stage(store, self.settings, library_id, embedder=self.embedder, clutter=self.clutter)
            return _with_tables(batch, store, VISION_TABLES)


# ----------------------------------------------------------------------------- per library


@dataclass(frozen=True)
class LibraryTask:
    """What ``finish_library`` needs besides the library's photo rows."""

    library_id: int
    run_id: int
    root: str
    scan_issues: tuple  # IngestIssue records from the driver's scan


def finish_library(batch: pa.Table, task: LibraryTask, settings: Settings) -> dict[str, pa.Table]:
    """The library-level stages on all of one library's photo rows: exact duplicates,
    people, near-duplicate groups, events, albums. Returns every table of the library."""
    from curation.ingest.pipeline import IngestReport, _flag_exact_duplicates, _write_scan_issues
    from curation.pipeline.albums_stage import run_albums_stage
    from curation.pipeline.events_stage import run_events_stage
    from curation.pipeline.faces_stage import update_people
    from curation.pipeline.vision_stage import update_near_duplicates

    library_id, run_id = task.library_id, task.run_id
    with scratch_store() as store:
        with store.connect() as con:
            con.execute(
                "INSERT INTO libraries (library_id, root, name) VALUES (?, ?, ?)",
                [library_id, task.root, Path(task.root).name],
            )
        # Scan issues first, as the local ingest writes them before any photo.
        _write_scan_issues(store, library_id, run_id, list(task.scan_issues))
        _load_batch_tables(store, batch)
        _flag_exact_duplicates(store, library_id, run_id, IngestReport(library_id, run_id, Path(task.root)))
        with store.connect() as con:
            face_versions = [r[0] for r in con.execute("SELECT DISTINCT model_version FROM face_scans").fetchall()]
            embedder_versions = [r[0] for r in con.execute("SELECT DISTINCT model_version FROM embeddings").fetchall()]
        for version in face_versions:
            update_people(store, library_id, version)
        for version in embedder_versions:
            update_near_duplicates(store, library_id, version)
        run_events_stage(store, settings, library_id)
        run_albums_stage(store, settings, library_id)
        with store.connect() as con:
            return library_tables(con, library_id)


def _load_batch_tables(store: Store, batch: pa.Table) -> None:
    with store.connect() as con:
        for table in PHOTO_STEP_TABLES:
            if table in batch.column_names:
                insert_rows(con, table, unpack(batch.column(table)), ignore_conflicts=table == "model_versions")

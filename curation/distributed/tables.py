"""The store's tables as Arrow: which rows belong to a library, scratch stores, and the
per-photo "nested table" columns the Ray steps pass along.

A distributed step never forks a stage's logic: it loads the rows it needs into a
throw-away DuckDB file (a *scratch store*, same schema as the real one), runs the local
stage function on it, and reads back the rows the stage wrote. Between steps those rows
travel with the photo they belong to, one ``list<struct>`` column per table, so a batch
of photos carries everything the next step needs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from curation.store import Store, table_exists

# Every table a curation run writes, in an order that inserts cleanly, with the rows that
# belong to library $lib. ``libraries`` and ``runs`` are bookkeeping, kept by the driver.
# A stage that starts writing a new table must add it here (test_every_table_is_the_same
# fails until it does).
LIBRARY_TABLES: dict[str, str] = {
    "photos": "library_id = $lib",
    "ingest_issues": "library_id = $lib",
    "face_scans": "photo_id IN (SELECT photo_id FROM photos WHERE library_id = $lib)",
    "faces": "library_id = $lib",
    "persons": "library_id = $lib",
    "people_state": "library_id = $lib",
    "face_links": "library_id = $lib",  # written back by the people index (empty for a new library)
    "model_versions": "true",  # global and tiny: every row a library's results refer to
    "embeddings": "photo_id IN (SELECT photo_id FROM photos WHERE library_id = $lib)",
    "photo_predictions": "photo_id IN (SELECT photo_id FROM photos WHERE library_id = $lib)",
    "photo_themes": "photo_id IN (SELECT photo_id FROM photos WHERE library_id = $lib)",
    "photo_clutter": "photo_id IN (SELECT photo_id FROM photos WHERE library_id = $lib)",
    "photo_quality": "photo_id IN (SELECT photo_id FROM photos WHERE library_id = $lib)",
    "near_duplicates": "library_id = $lib",
    "events": "library_id = $lib",
    "trips": "library_id = $lib",
    "photo_events": "library_id = $lib",
    "event_exclusions": "library_id = $lib",
    "homes": "library_id = $lib",
    "event_boundaries": "library_id = $lib",
    "album_vectors": "photo_id IN (SELECT photo_id FROM photos WHERE library_id = $lib)",
    "albums": "library_id = $lib",
    "album_photos": "album_id IN (SELECT album_id FROM albums WHERE library_id = $lib)",
}

# What each per-photo step adds to the batch (the rest is library-level work).
INGEST_TABLES = ("photos", "ingest_issues")
FACES_TABLES = ("face_scans", "faces")
VISION_TABLES = ("embeddings", "photo_predictions", "photo_themes", "photo_clutter", "photo_quality", "model_versions")
PHOTO_STEP_TABLES = INGEST_TABLES + FACES_TABLES + VISION_TABLES


@contextmanager
def scratch_store() -> Iterator[Store]:
    """A fresh, empty store in a temporary folder, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="curation-scratch-") as folder:
        yield Store(Path(folder) / "scratch.duckdb", busy_timeout_s=0)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
    ).fetchall()
    return [r[0] for r in rows]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, *, ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` by column name; columns the table does not have are dropped."""
    if rows.num_rows == 0:
        return
    wanted = set(table_columns(con, table))
    rows = rows.select([c for c in rows.column_names if c in wanted])
    columns = ", ".join(f'"{c}"' for c in rows.column_names)
    con.register("_distributed_rows", rows)
    try:
        conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _distributed_rows{conflict}")  # noqa: S608
    finally:
        con.unregister("_distributed_rows")


def read_table(con: duckdb.DuckDBPyConnection, table: str, where: str = "true", params: dict | None = None) -> pa.Table:
    query = f"SELECT * FROM {table} WHERE {where}"  # noqa: S608 - names from LIBRARY_TABLES
    if "photo_id" in table_columns(con, table):
        query += " ORDER BY photo_id"
    return (con.sql(query, params=params) if params else con.sql(query)).to_arrow_table()


def library_tables(con: duckdb.DuckDBPyConnection, library_id: int) -> dict[str, pa.Table]:
    """Every row of library ``library_id``, table by table (tables the store lacks are left out)."""
    return {
        name: read_table(con, name, where, {"lib": library_id} if "$lib" in where else None)
        for name, where in LIBRARY_TABLES.items()
        if table_exists(con, name)
    }


# ----------------------------------------------------------------------------- nested columns


def pack(photo_ids: Sequence[int], rows: pa.Table, key: str = "photo_id") -> pa.ListArray:
    """``rows`` grouped by photo: one list of structs per entry of ``photo_ids`` (in that order).
    Rows whose key is not in ``photo_ids`` are an error."""
    position = {int(p): i for i, p in enumerate(photo_ids)}
    keys = rows.column(key).to_pylist() if rows.num_rows else []
    try:
        where = np.array([position[int(k)] for k in keys], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"a row's {key} {exc.args[0]} is not one of the batch's photos") from None
    order = np.argsort(where, kind="stable")
    rows = rows.take(pa.array(order, pa.int64()))
    counts = np.bincount(where, minlength=len(photo_ids))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = rows.to_struct_array().combine_chunks() if rows.num_rows else _empty_struct(rows.schema)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def pack_first(n: int, rows: pa.Table) -> pa.ListArray:
    """Rows that belong to no photo (``model_versions``): all on the batch's first row."""
    offsets = np.array([0] + [rows.num_rows] * n if n else [0], dtype=np.int32)
    values = rows.to_struct_array().combine_chunks() if rows.num_rows else _empty_struct(rows.schema)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def unpack(column: pa.ChunkedArray | pa.Array) -> pa.Table:
    """The rows of a nested column as one table (the inverse of ``pack``)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    value_type = column.type.value_type
    structs = [c.flatten() for c in chunks]
    values = pa.concat_arrays(structs) if structs else pa.array([], value_type)
    return pa.Table.from_struct_array(values)


def _empty_struct(schema: pa.Schema) -> pa.StructArray:
    return pa.StructArray.from_arrays([pa.array([], f.type) for f in schema], fields=list(schema))

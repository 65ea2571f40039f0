"""The Ray backend: many libraries (or one huge one) over a Ray cluster.

    plan (driver, against the store)  ids reserved, runs opened, folders scanned
    ingest     Ray Data tasks         decode, hash, metadata, thumbnails  (``ingest_batch``)
    faces      Ray Data actors        dlib models loaded once per actor   (``FacesStep``)
    vision     Ray Data actors        embedder (GPU if given) + clutter   (``VisionStep``)
    library    one task per library   duplicates, people, near-duplicates, events, albums
                                      (``finish_library``), written as Parquet per library
    import     driver                 the Parquet into the store, one transaction per library

Ray is imported when a run starts, never at import time; without it the run stops with
an ImportError that says what to install.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from curation.distributed.backends import Backend, register_backend
from curation.distributed.config import RaySettings
from curation.distributed.parquet import import_parquet, write_library_tables, write_manifest
from curation.distributed.plan import LibraryPlan, plan_libraries
from curation.distributed.steps import FacesStep, LibraryTask, VisionStep, finish_library, ingest_batch
from curation.pipeline.runner import ALL_STAGES
from curation.settings import Settings
from curation.store import Store

RAY_REQUIREMENT = "ray[data]==2.60.0"
_MAX_BLOCKS = 4096


def import_ray() -> Any:  # noqa: ANN401 - the ray module
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ImportError(
            "The ray backend needs Ray (with Ray Data): pip install 'curation-studio[ray]' "
            f"(or pip install '{RAY_REQUIREMENT}'). The local backend needs nothing more: --backend local."
        ) from None
    return ray


@register_backend
class RayBackend(Backend):
    """``address`` and ``parquet_out`` override the matching ``RaySettings`` fields."""

    name = "ray"

    def __init__(
        self, *, address: str | None = None, parquet_out: str | Path | None = None, config: RaySettings | None = None
    ) -> None:
        self.address = address
        self.parquet_out = parquet_out
        self.config = config

    def run(self, roots, store, settings, *, stages=ALL_STAGES, progress=None, now=None):  # noqa: ANN001, ANN201
        # ``progress`` is not used: Ray Data shows its own progress bars.
        if set(stages) != set(ALL_STAGES):
            raise ValueError(
                f"The ray backend runs every stage ({', '.join(s.value for s in ALL_STAGES)}); "
                "run a subset with --backend local."
            )
        config = self._config(settings)
        ray = import_ray()
        now = now or datetime.now()
        out = config.parquet_out or str(settings.data_dir / "parquet")
        plans = plan_libraries(store, roots, ",".join(s.value for s in ALL_STAGES), now)
        started_here = False
        try:
            if not ray.is_initialized():
                _init(ray, config)
                started_here = True
            run_on_ray(ray, plans, settings, config, out, now)
            write_manifest(out, store, [p.as_manifest() for p in plans], now)
            return import_parquet(store, out)
        except BaseException as exc:
            _fail_open_runs(store, plans, exc)
            raise
        finally:
            if started_here:
                ray.shutdown()

    def _config(self, settings: Settings) -> RaySettings:
        update: dict[str, Any] = {}
        if self.address is not None:
            update["address"] = self.address
        if self.parquet_out is not None:
            update["parquet_out"] = str(self.parquet_out)
        return (self.config or settings.ray).model_copy(update=update)


def _init(ray: Any, config: RaySettings) -> None:  # noqa: ANN401
    if config.address == "local":
        ray.init(
            num_cpus=config.num_cpus,
            object_store_memory=config.object_store_memory,
            include_dashboard=False,
            log_to_driver=True,
        )
    else:
        ray.init(address=config.address)


def run_on_ray(
    ray: Any,  # noqa: ANN401
    plans: Sequence[LibraryPlan],
    settings: Settings,
    config: RaySettings,
    out: str,
    now: datetime,
) -> dict[int, dict[str, int]]:
    """The per-photo pipeline and the per-library tasks; every library's tables end up as
    Parquet under ``out``. Returns rows written per table, by library id."""
    ray.data.DataContext.get_current().enable_progress_bars = config.progress_bars
    tasks = {p.library_id: LibraryTask(p.library_id, p.run_id, str(p.root), p.scan_issues) for p in plans}
    partitions = {p.library_id: p.partition for p in plans}
    finish_kwargs = {"tasks": tasks, "partitions": partitions, "settings": settings, "out": out}
    rows = [
        {"library_id": p.library_id, "run_id": p.run_id, "photo_id": f.photo_id, "root": str(p.root),
         "rel_path": f.rel_path, "size": f.size, "mtime_ns": f.mtime_ns}
        for p in plans
        for f in p.files
    ]  # fmt: skip
    written: dict[int, dict[str, int]] = {}
    if rows:
        blocks = min(_MAX_BLOCKS, max(1, math.ceil(len(rows) / config.ingest_batch_size)))
        photos = (
            ray.data.from_items(rows, override_num_blocks=blocks)
            .map_batches(
                ingest_batch,
                batch_format="pyarrow",
                batch_size=config.ingest_batch_size,
                num_cpus=config.ingest_num_cpus,
                fn_kwargs={"settings": settings, "now": now},
            )
            .map_batches(
                FacesStep,
                batch_format="pyarrow",
                batch_size=config.faces_batch_size,
                compute=ray.data.ActorPoolStrategy(size=config.faces_actors),
                num_cpus=config.faces_num_cpus,
                fn_constructor_kwargs={"settings": settings},
            )
            .map_batches(
                VisionStep,
                batch_format="pyarrow",
                batch_size=config.vision_batch_size,
                compute=ray.data.ActorPoolStrategy(size=config.vision_actors),
                num_cpus=config.vision_num_cpus,
                num_gpus=config.vision_num_gpus or None,
                fn_constructor_kwargs={"settings": settings},
            )
        )
        # One shuffle partition per library (up to Ray's default of 200): a library is one group.
        partitions_n = min(len(plans), 200)
        libraries = photos.groupby("library_id", num_partitions=partitions_n).map_groups(
            _finish_and_write, batch_format="pyarrow", num_cpus=config.library_num_cpus, fn_kwargs=finish_kwargs
        )
        for row in libraries.take_all():
            written[int(row["library_id"])] = json.loads(row["rows"])
    # A library with no photo files has no group; its (empty) tables still replace the old ones.
    empty = [p.library_id for p in plans if p.library_id not in written]
    if empty:
        remote = ray.remote(num_cpus=config.library_num_cpus)(_finish_empty)
        for library_id, counts in zip(empty, ray.get([remote.remote(i, finish_kwargs) for i in empty]), strict=True):
            written[library_id] = counts
    return written


def _finish_and_write(
    group: pa.Table, *, tasks: dict[int, LibraryTask], partitions: dict[int, str], settings: Settings, out: str
) -> pa.Table:
    library_id = int(group.column("library_id")[0].as_py())
    tables = finish_library(group, tasks[library_id], settings)
    counts = write_library_tables(out, partitions[library_id], tables)
    return pa.table({"library_id": [library_id], "rows": [json.dumps(counts)]})


def _finish_empty(library_id: int, kwargs: dict[str, Any]) -> dict[str, int]:
    tables = finish_library(pa.table({}), kwargs["tasks"][library_id], kwargs["settings"])
    return write_library_tables(kwargs["out"], kwargs["partitions"][library_id], tables)


def _fail_open_runs(store: Store, plans: Sequence[LibraryPlan], error: BaseException) -> None:
    from curation.ingest.pipeline import finish_run

    with store.connect() as con:
        open_runs = {
            r[0]
            for r in con.execute(
                "SELECT run_id FROM runs WHERE status = 'running' AND run_id IN (SELECT unnest(?))",
                [[p.run_id for p in plans]],
            ).fetchall()
        }
    for plan in plans:
        if plan.run_id in open_runs:
            finish_run(store, plan.run_id, error=error)


"""What the benchmarks share: headline numbers for the suite (``bench/suite.py``), where
results go, and the machine's description.

A benchmark calls :func:`emit` for each number worth a line in the suite's table; when it
runs alone (no ``BENCH_SUMMARY`` in the environment) this does nothing.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def emit(
    metric: str,
    value: float,
    unit: str,
    *,
    baseline: str | None = None,
    baseline_value: float | None = None,
    higher_is_better: bool = True,
    target: str | None = None,
) -> None:
    path = os.environ.get("BENCH_SUMMARY")
    if not path:
        return
    row = {
        "metric": metric,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "higher_is_better": higher_is_better,
        "target": target,
    }
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def results_dir(default: Path) -> Path:
    """Where a benchmark appends its report: ``BENCH_RESULTS`` (the suite's quick runs point
    it at a temporary folder, so smoke numbers never mix with real ones) or ``default``."""
    return Path(os.environ.get("BENCH_RESULTS") or default)


def cpu_name() -> str:
    """The CPU model, for the results files (numbers only compare on the same machine)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def store_synthetic_photos(con, photos):  # noqa: ANN001, ANN201 - a DuckDB connection, a pandas frame
    """A generated library's photo rows (``curation.events.synthetic``) as library 1 of a fresh
    store, so a stage can run on them; returns the frame with ``library_id`` and ``status``."""
    con.execute("INSERT INTO libraries (root, name) VALUES ('/bench', 'bench')")
    frame = photos.assign(library_id=1, status="ok")
    con.register("frame", frame)
    con.execute(
        "INSERT INTO photos (photo_id, library_id, rel_path, status, sha256, taken_at, tz_offset_min, "
        "time_source, time_reliable, lat, lon) SELECT photo_id, library_id, rel_path, status, sha256, "
        "taken_at, tz_offset_min, time_source, time_reliable, lat, lon FROM frame"
    )
    return frame


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best wall seconds of ``repeat`` runs, the CPU seconds of that run in this process, its result)."""
    best, best_cpu, best_out = float("inf"), 0.0, None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - start
        if wall < best:
            best, best_cpu, best_out = wall, time.process_time() - cpu, out
    return best, best_cpu, best_out

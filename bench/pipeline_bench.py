"""The whole pipeline on a large library: time per stage, CPU per photo, peak memory.

    .venv/bin/python bench/pipeline_bench.py                       # 10,000 generated 3 MP photos
    .venv/bin/python bench/pipeline_bench.py --photos 2000 --megapixels 12
    .venv/bin/python bench/pipeline_bench.py --library DIR [--profile 25]

Without ``--library`` it builds (once, cached under var/bench/) the large generated library of
``curation.demo.large``: real package photos cut into camera-sized variants with sensor-like
grain, on a ten-year timeline with trips, bursts, screenshots and receipts. Then it runs
``curation run`` (every stage, default settings unless ``--min-face-fraction``, a fresh database) in this process and prints
each stage's wall time, CPU time (all threads) and photos/s, the total against the 5-minute
target and the peak resident memory against 4 GiB. ``--profile N`` adds the N functions with
the most cumulative time (cProfile, which slows Python code, so take times from a run without
it). Results are appended to bench/results/pipeline-<host>.txt.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from _summary import emit, results_dir

REPO = Path(__file__).resolve().parent.parent
RESULTS = results_dir(REPO / "bench" / "results")
TARGET_S = 300.0
TARGET_RSS_GIB = 4.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", type=Path, help="an existing library (default: the generated one)")
    parser.add_argument("--photos", type=int, default=10_000, help="size of the generated library")
    parser.add_argument("--megapixels", type=float, default=3.0, help="photo size of the generated library")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the top N functions (cProfile)")
    parser.add_argument("--keep", type=Path, help="keep the data folder (database, thumbnails) here")
    parser.add_argument("--min-face-fraction", type=float, help="faces.min_face_fraction (default: the "
                        "setting's, 0.04; 0.06 is the faster scan, see docs/faces.md)")  # fmt: skip
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()

    from curation.pipeline.runner import ALL_STAGES, run_library
    from curation.settings import Settings
    from curation.store import Store

    library = args.library
    if library is None:
        from curation.demo.large import build_large_library

        library = REPO / "var" / "bench" / f"large-{args.photos}-{args.megapixels:g}mp"
        print(f"building {library} (once) ...", file=sys.stderr)
        build_large_library(library, photos=args.photos, megapixels=args.megapixels)
    library = library.resolve()
    files = [p for p in library.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".heic", ".tif", ".tiff", ".webp"}]
    size_mb = sum(p.stat().st_size for p in files) / 1e6

    data = args.keep or Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    if args.keep and data.exists():
        shutil.rmtree(data)
    settings = Settings(data_dir=data)
    if args.min_face_fraction is not None:
        settings.faces.min_face_fraction = args.min_face_fraction
    default_faces = type(settings.faces)().min_face_fraction
    faces_setting = f"faces.min_face_fraction {settings.faces.min_face_fraction:g}" + (
        " (default)" if settings.faces.min_face_fraction == default_faces else " (not the default)"
    )
    load = os.getloadavg()[0]
    profiler = cProfile.Profile() if args.profile else None
    done = {"stage": None, "n": 0}

    def progress(stage, i, total, item) -> None:  # noqa: ANN001
        if stage != done["stage"] or i == total or i % 500 == 0:
            print(f"  {stage.value:7s} {i:6d}/{total}", file=sys.stderr, flush=True)
            done["stage"] = stage

    start, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    report = run_library(library, Store(settings.database), settings, progress=progress)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    n = len(files)
    lines = [
        f"# pipeline benchmark {datetime.now():%Y-%m-%d %H:%M} on {platform.node()} "
        f"({len(os.sched_getaffinity(0))} cores), Python {platform.python_version()}, load average before {load:.2f}"
        + (" (cProfile on: times inflated)" if profiler else ""),
        f"# library: {library} ({n} photos, {size_mb / max(n, 1):.2f} MB/photo on average); all stages, "
        f"{faces_setting}, fresh database, models loaded in the run (the exported ONNX model comes "
        "from the per-machine model cache)",
        f"{'stage':8s} {'wall s':>8s} {'CPU s':>8s} {'CPU ms/photo':>13s} {'photos/s':>9s}",
    ]
    for stage in ALL_STAGES:
        if stage in report.seconds:
            s, c = report.seconds[stage], report.cpu_seconds[stage]
            lines.append(f"{stage.value:8s} {s:8.1f} {c:8.1f} {c * 1000 / n:13.1f} {n / s:9.1f}")
    verdict = "meets" if wall < TARGET_S * n / 10_000 else "misses"
    lines.append(
        f"{'total':8s} {wall:8.1f} {cpu:8.1f} {cpu * 1000 / n:13.1f} {n / wall:9.1f}   "
        f"({verdict} the 5 min per 10,000 photos target: {wall * 10_000 / n / 60:.1f} min per 10,000)"
    )
    lines.append(f"peak resident memory {peak_gib:.2f} GiB (target < {TARGET_RSS_GIB:.0f} GiB)")
    text = "\n".join(lines)
    print(text)
    if not profiler:
        emit(f"whole pipeline, {n:,} photos ({size_mb / max(n, 1):.1f} MB each)", wall, "s", higher_is_better=False,
             target=f"< {TARGET_S * n / 10_000:.0f} s")  # fmt: skip
        emit("whole pipeline, peak resident memory", peak_gib, "GiB", higher_is_better=False, target="< 4 GiB")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile)
        print(out.getvalue())
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        with (RESULTS / f"pipeline-{platform.node()}.txt").open("a") as f:
            f.write(text + "\n\n")
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()

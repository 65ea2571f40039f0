"""Ingest throughput: the real pipeline against a naive baseline, measured in the same run.

    .venv/bin/python bench/ingest_bench.py [LIBRARY] [--repeat N]

LIBRARY defaults to $CURATION_SAMPLES/camera-roll-large (full-size 5-22 MP photos).
The naive baseline does what most scripts do: full-resolution decode with Pillow, EXIF
transpose, resize to each thumbnail size, plus the same hashing. Results are appended to
bench/results/ingest-<host>.txt.
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps

from curation.ingest.hashing import perceptual_hash, sha256_file
from curation.ingest.pipeline import ingest_library
from curation.settings import Settings
from curation.store import Store

RESULTS = Path(__file__).parent / "results"


def naive_ingest(files: list[Path], out: Path, sizes: tuple[int, ...]) -> None:
    for i, path in enumerate(files):
        sha256_file(path)
        with Image.open(path) as image:
            image.getexif()
            full = ImageOps.exif_transpose(image.convert("RGB"))
        for size in sizes:
            thumb = full.copy()
            thumb.thumbnail((size, size), Image.Resampling.BICUBIC)
            thumb.save(out / f"{i}-{size}.jpg", quality=85)
        perceptual_hash(thumb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("library", nargs="?", type=Path, default=Settings().samples / "camera-roll-large")
    parser.add_argument("--repeat", type=int, default=2, help="take the best of N runs")
    args = parser.parse_args()
    files = sorted(p for p in args.library.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg"})
    if not files:
        sys.exit(f"no JPEG files under {args.library}")
    megapixels = sum(Image.open(p).size[0] * Image.open(p).size[1] for p in files) / 1e6 / len(files)
    sizes = Settings().ingest.thumb_sizes

    def timed(fn) -> float:
        best = float("inf")
        for _ in range(args.repeat):
            tmp = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
            try:
                start = time.perf_counter()
                fn(tmp)
                best = min(best, time.perf_counter() - start)
            finally:
                shutil.rmtree(tmp)
        return best

    def pipeline(workers: int):
        def go(tmp: Path) -> None:
            settings = Settings(data_dir=tmp)
            settings.ingest.workers = workers
            report = ingest_library(args.library, Store(settings.database), settings)
            assert report.n_skipped == 0, report.issues

        return go

    rows = [
        ("naive: full decode + resize (1 process)", timed(lambda tmp: naive_ingest(files, tmp, sizes))),
        ("curation ingest, 1 worker (draft decode)", timed(pipeline(1))),
        ("curation ingest, 2 workers (draft decode)", timed(pipeline(2))),
    ]
    baseline = len(files) / rows[0][1]
    lines = [
        f"# ingest benchmark {datetime.now():%Y-%m-%d %H:%M} on {platform.node()} "
        f"({platform.processor() or platform.machine()}, {_cores()} cores), Python {platform.python_version()}",
        f"# library: {args.library} ({len(files)} JPEGs, mean {megapixels:.1f} MP); thumbnails {sizes}; "
        f"best of {args.repeat}; includes sha256, metadata, thumbnails written, phash, DuckDB writes (pipeline)",
    ]
    for name, seconds in rows:
        rate = len(files) / seconds
        lines.append(f"{name:45s} {seconds:7.2f} s  {rate:7.1f} photos/s  {rate / baseline:5.2f}x baseline")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(f"peak RSS of the benchmark process: {peak:.0f} MiB")
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / f"ingest-{platform.node()}.txt").open("a") as f:
        f.write(text + "\n\n")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()

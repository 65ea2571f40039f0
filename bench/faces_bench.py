"""Faces throughput: the old detector settings against the new defaults, in one run.

    .venv/bin/python bench/faces_bench.py [--samples DIR] [--sets faces,camera-roll,...] [--threads 2]

Each photo is handed to the face model as the faces stage hands it: upright RGB, fitted
into 1024 px (the ingest thumbnail; smaller photos stay as they are). "before" is the
detector as it was (HOG on the colour image, CNN check on a 160 px crop, one photo at a
time); "after" is the current default model run as the stage runs it (``--threads``
photos side by side). Both run on the same photos in the same process, set by set,
before then after, so background load slows both alike.

Prints, per set: photos/s (wall), CPU ms per photo (the process's CPU time, all threads:
the cost on a free machine, which the shared VM's wall clock hides), faces found, and how
many of the "before" faces "after" finds again (box IoU >= 0.5) with the largest change of
their 128-d descriptor. Appends the same text to bench/results/faces-<hostname>.txt.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SETS = ("faces", "camera-roll", "camera-roll-large", "demo")
SUFFIXES = {".jpg", ".jpeg", ".png", ".heic"}

from _summary import cpu_name, emit, results_dir  # noqa: E402



def stage_images(folder: Path, longest_side: int = 1024) -> list[Image.Image]:
    """Every readable photo under ``folder`` as the faces stage gets it."""
    from curation.ingest.decode import register_heif

    register_heif()
    out = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in SUFFIXES:
            continue
        try:
            with Image.open(path) as img:
                image = ImageOps.exif_transpose(img).convert("RGB")
        except OSError:  # camera-roll/beach.jpg is broken on purpose
            continue
        image.thumbnail((longest_side, longest_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
        out.append(image)
    return out


def _iou(a: tuple, b: tuple) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def agreement(before: list[list], after: list[list]) -> tuple[int, float]:
    """Faces of ``before`` found again in ``after`` (IoU >= 0.5), and the largest
    descriptor distance between the matched pairs."""
    kept, drift = 0, 0.0
    for old, new in zip(before, after, strict=True):
        used: set[int] = set()
        for face in old:
            best = max((k for k in range(len(new)) if k not in used),
                       key=lambda k: _iou(face.box_norm, new[k].box_norm), default=None)
            if best is not None and _iou(face.box_norm, new[best].box_norm) >= 0.5:
                used.add(best)
                kept += 1
                drift = max(drift, float(np.linalg.norm(face.embedding - new[best].embedding)))
    return kept, drift


def run(model, images: list[Image.Image], threads: int) -> tuple[list[list], float, float]:  # noqa: ANN001
    wall, cpu = time.perf_counter(), time.process_time()
    if threads == 1:
        found = [model.detect_and_embed(im) for im in images]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            found = list(pool.map(model.detect_and_embed, images))
    return found, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    from curation.faces.detector import create_face_model
    from curation.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=Settings().samples)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    parser.add_argument("--threads", type=int, default=Settings().faces.threads)
    parser.add_argument("--quick", action="store_true", help="only the demo library (no samples needed)")
    parser.add_argument("--out", type=Path, default=results_dir(Path(__file__).parent / "results"))
    args = parser.parse_args()
    if args.quick:
        args.sets = "demo"

    before_model = create_face_model(grayscale=False, verify_crop_px=160).load()
    after_model = create_face_model().load()
    lines = [
        f"== {datetime.now().isoformat(timespec='minutes')} host {socket.gethostname()}: {cpu_name()}, "
        f"{os.cpu_count()} logical CPUs, load average at start {os.getloadavg()[0]:.2f}",
        "before: HOG on colour, CNN check on a 160 px crop, 1 photo at a time | "
        f"after: {after_model.model_version} defaults (HOG on luminance, CNN check on a "
        f"{after_model.verify_crop_px} px crop), {args.threads} photos side by side",
        f"{'set':18s} {'photos':>6s} | {'before p/s':>10s} {'cpu ms':>7s} {'faces':>5s} | "
        f"{'after p/s':>9s} {'cpu ms':>7s} {'faces':>5s} | {'speed-up wall/cpu':>17s} | kept, max drift",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets.split(","):
            if name == "demo":
                from curation.demo import build_demo_library

                build_demo_library(Path(tmp) / "demo", seed=0)
                folder = Path(tmp) / "demo"
            else:
                folder = args.samples / name
            images = stage_images(folder)
            old, old_wall, old_cpu = run(before_model, images, 1)
            new, new_wall, new_cpu = run(after_model, images, args.threads)
            kept, drift = agreement(old, new)
            n, n_old, n_new = len(images), sum(map(len, old)), sum(map(len, new))
            line = (
                f"{name:18s} {n:6d} | {n / old_wall:10.2f} {1000 * old_cpu / n:7.0f} {n_old:5d} | "
                f"{n / new_wall:9.2f} {1000 * new_cpu / n:7.0f} {n_new:5d} | "
                f"{old_wall / new_wall:7.2f}x / {old_cpu / new_cpu:5.2f}x | {kept}/{n_old}, {drift:.3f}"
            )
            print(line, flush=True)
            lines.append(line)
            emit(f"faces on {name} ({n} photos)", n / new_wall, "photos/s", baseline="previous settings",
                 baseline_value=n / old_wall)  # fmt: skip
    lines.append(f"load average at end {os.getloadavg()[0]:.2f}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"faces-{socket.gethostname()}.txt"
    with out.open("a") as f:
        f.write("\n".join(lines) + "\n\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    main()

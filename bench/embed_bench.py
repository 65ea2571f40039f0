"""Embedding throughput: eager torch vs ONNX Runtime, on the camera-roll thumbnails.

    .venv/bin/python bench/embed_bench.py [--samples DIR] [--threads 2] [--batch 32] [--repeats 3]

Prints images/second for the model alone (pre-made input tensors) and end to end
(``Embedder.embed`` on 256 px PIL thumbnails, preprocessing included), plus the
largest difference between the two runtimes' outputs, and writes the same text to
bench/results/embed-<hostname>.txt. The two runtimes' runs alternate, so background
load slows both alike; the load average is printed because it still slows every number.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _timed(fn, repeats: int) -> float:
    """Median seconds of ``repeats`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    from curation.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=Settings().samples)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    import onnxruntime
    import torch

    from curation.vision import create_embedder
    from curation.vision.evaluate_themes import PHOTO_SUFFIXES, load_thumbnail
    from curation.vision.transforms import preprocess_batch

    torch.set_num_threads(args.threads)
    folder = args.samples / "camera-roll"
    images = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in PHOTO_SUFFIXES:
            try:
                images.append(load_thumbnail(p))
            except OSError:  # camera-roll/beach.jpg is a broken JPEG on purpose
                continue
    images = images[: (len(images) // args.batch) * args.batch] or images
    n = len(images)

    lines = [
        f"host {socket.gethostname()}: {_cpu_name()}, {os.cpu_count()} logical CPUs, "
        f"load average at start {os.getloadavg()[0]:.2f}",
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, threads {args.threads}, "
        f"batch {args.batch}, {n} thumbnails from {folder} (256 px), median of {args.repeats} runs",
        "",
    ]
    print("\n".join(lines), flush=True)
    outputs = {}
    with tempfile.TemporaryDirectory() as cache:
        models = {
            backend: create_embedder(
                "efficientnet_lite0", backend=backend, cache_dir=cache, batch_size=args.batch, num_threads=args.threads
            ).load()
            for backend in ("torch", "onnx")
        }
        batch = images[: args.batch]
        pixels = preprocess_batch(batch, models["onnx"].preprocess_spec)
        pre_s = _timed(lambda: preprocess_batch(batch, models["onnx"].preprocess_spec), args.repeats)
        # Runs alternate between the two runtimes, so background load slows both alike.
        forward = {b: [] for b in models}
        e2e = {b: [] for b in models}
        for b, m in models.items():  # warm-up
            m.embed_and_logits(batch)
        for _ in range(args.repeats):
            for b, m in models.items():
                t = time.perf_counter()
                m.forward(pixels)
                forward[b].append(time.perf_counter() - t)
                t = time.perf_counter()
                outputs[b] = m.embed_and_logits(images)
                e2e[b].append(time.perf_counter() - t)
        line = f"preprocessing alone (resize, crop, normalise): {args.batch / pre_s:.0f} img/s"
        print(line)
        lines.append(line)
        for b, m in models.items():
            line = (
                f"{m.model_version:34s} forward only, batch {args.batch}: "
                f"{args.batch / statistics.median(forward[b]):6.1f} img/s | "
                f"embed_and_logits() on {n} thumbnails: {n / statistics.median(e2e[b]):6.1f} img/s"
            )
            print(line, flush=True)
            lines.append(line)
    lines.append(f"load average at end {os.getloadavg()[0]:.2f}")
    d_emb = float(np.abs(outputs["torch"][0] - outputs["onnx"][0]).max())
    d_log = float(np.abs(outputs["torch"][1] - outputs["onnx"][1]).max())
    top1 = float((outputs["torch"][1].argmax(1) == outputs["onnx"][1].argmax(1)).mean())
    line = f"torch vs onnx: max |diff| embedding {d_emb:.2e}, logits {d_log:.2e}; same top-1 class on {top1:.0%}"
    print(line)
    lines += ["", line]
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"embed-{socket.gethostname()}.txt"
    out.write_text("\n".join(lines) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()

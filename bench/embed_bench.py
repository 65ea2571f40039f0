"""Embedding throughput: eager torch vs ONNX Runtime float32 vs ONNX Runtime int8, on the
camera-roll thumbnails.

    .venv/bin/python bench/embed_bench.py [--samples DIR] [--threads 2] [--batch 32] [--repeats 3]

Prints images/second for the model alone (pre-made input tensors) and end to end
(``Embedder.embed`` on 256 px PIL thumbnails, preprocessing included), the CPU time per
image of the forward pass (all threads: the cost on a free machine), and the largest
difference between each runtime's outputs and float32 ONNX; appends the same text to
bench/results/embed-<hostname>.txt. The runtimes' runs alternate, so background load
slows all alike; the load average is printed because it still slows every number.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from _summary import cpu_name, emit, results_dir  # noqa: E402



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
    parser.add_argument("--out", type=Path, default=results_dir(Path(__file__).parent / "results"))
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
        f"== {datetime.now().isoformat(timespec='minutes')} host {socket.gethostname()}: {cpu_name()}, {os.cpu_count()} logical CPUs, "
        f"load average at start {os.getloadavg()[0]:.2f}",
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, threads {args.threads}, "
        f"batch {args.batch}, {n} thumbnails from {folder} (256 px), median of {args.repeats} runs",
        "",
    ]
    print("\n".join(lines), flush=True)
    outputs = {}
    with tempfile.TemporaryDirectory() as cache:
        common = {"cache_dir": cache, "batch_size": args.batch, "num_threads": args.threads}
        models = {
            "torch": create_embedder("efficientnet_lite0", backend="torch", **common).load(),
            "onnx": create_embedder("efficientnet_lite0", backend="onnx", **common).load(),
            "onnx-int8": create_embedder("efficientnet_lite0_int8", **common).load(),
        }
        batch = images[: args.batch]
        pixels = preprocess_batch(batch, models["onnx"].preprocess_spec)
        pre_s = _timed(lambda: preprocess_batch(batch, models["onnx"].preprocess_spec), args.repeats)
        # Runs alternate between the two runtimes, so background load slows both alike.
        forward = {b: [] for b in models}
        forward_cpu = {b: [] for b in models}
        e2e = {b: [] for b in models}
        for b, m in models.items():  # warm-up
            m.embed_and_logits(batch)
        for _ in range(args.repeats):
            for b, m in models.items():
                t, c = time.perf_counter(), time.process_time()
                m.forward(pixels)
                forward[b].append(time.perf_counter() - t)
                forward_cpu[b].append(time.process_time() - c)
                t = time.perf_counter()
                outputs[b] = m.embed_and_logits(images)
                e2e[b].append(time.perf_counter() - t)
        line = f"preprocessing alone (resize, crop, normalise): {args.batch / pre_s:.0f} img/s"
        print(line)
        lines.append(line)
        for b, m in models.items():
            line = (
                f"{m.model_version:34s} forward only, batch {args.batch}: "
                f"{args.batch / statistics.median(forward[b]):6.1f} img/s, "
                f"{1000 * statistics.median(forward_cpu[b]) / args.batch:5.1f} CPU ms/img | "
                f"embed_and_logits() on {n} thumbnails: {n / statistics.median(e2e[b]):6.1f} img/s"
            )
            print(line, flush=True)
            lines.append(line)
    lines.append(f"load average at end {os.getloadavg()[0]:.2f}")
    lines.append("")
    rate = {b: n / statistics.median(e2e[b]) for b in models}
    emit("embeddings (ONNX fp32, the default)", rate["onnx"], "img/s", baseline="eager torch",
         baseline_value=rate["torch"])  # fmt: skip
    if "onnx-int8" in rate:
        emit("embeddings (ONNX int8, opt-in)", rate["onnx-int8"], "img/s", baseline="ONNX fp32",
             baseline_value=rate["onnx"])  # fmt: skip
    ref_emb, ref_log = outputs["onnx"]
    for b in ("torch", "onnx-int8"):
        emb, log = outputs[b]
        cos = (emb * ref_emb).sum(axis=1)  # both L2-normalised
        top1 = float((log.argmax(1) == ref_log.argmax(1)).mean())
        line = (
            f"{b} vs onnx: max |diff| embedding {np.abs(emb - ref_emb).max():.2e}, logits "
            f"{np.abs(log - ref_log).max():.2e}; cosine min {cos.min():.4f} mean {cos.mean():.4f}; "
            f"same top-1 class on {top1:.0%}"
        )
        print(line)
        lines.append(line)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"embed-{socket.gethostname()}.txt"
    with out.open("a") as f:
        f.write("\n" + "\n".join(lines) + "\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    main()

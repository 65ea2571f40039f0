"""Embedding map speed: 20,000 synthetic 1280-d embeddings → PCA 50-d → UMAP 2-d → k-means.

    .venv/bin/python bench/umap_bench.py [--n 20000] [--dim 1280] [--groups 20]

Times each step of ``curation.analysis.embedding_map.layout_embeddings`` (what the
Embedding explorer runs once per embedder version): the umap import, a warm-up map of
5,000 points (numba compiles UMAP's kernels on the first fit of a process; above 4,096 points
UMAP switches to pynndescent's approximate neighbours, whose kernels compile too), then the full
map. The embeddings are seeded clusters around random centres, L2-normalised like the real
ones; the adjusted Rand index of the k-means clusters against the generated groups is
printed as a sanity check. Writes the same text to bench/results/umap-<hostname>.txt.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _summary import cpu_name, emit, results_dir  # noqa: E402



def synthetic_embeddings(n: int, dim: int, groups: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim)).astype(np.float32)
    labels = rng.integers(0, groups, n)
    x = centres[labels] + rng.normal(scale=0.8, size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, labels


class StepTimer:
    """The progress callback of layout_embeddings: the time between two messages is a step."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self._last: tuple[str, float] | None = None

    def __call__(self, message: str) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.steps.append((self._last[0], now - self._last[1]))
        self._last = (message, now)

    def finish(self) -> None:
        self("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--out", type=Path, default=results_dir(Path(__file__).parent / "results"))
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the naive map: UMAP on the raw vectors, no PCA (slow)")  # fmt: skip
    args = parser.parse_args()

    from sklearn.metrics import adjusted_rand_score

    from curation.analysis.embedding_map import MapParams, layout_embeddings

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    host = socket.gethostname()
    say(f"host {host}: {cpu_name()}, {os.cpu_count()} logical CPUs, load average at start {os.getloadavg()[0]:.2f}")
    x, groups = synthetic_embeddings(args.n, args.dim, args.groups)
    params = MapParams()
    say(f"{args.n:,} synthetic embeddings, {args.dim}-d, {args.groups} groups; {params}")

    t = time.perf_counter()
    import umap

    say(f"import umap: {time.perf_counter() - t:.1f} s (umap {umap.__version__})")

    # Above 4,096 points UMAP finds neighbours with pynndescent: warm that up too, or its
    # compilation (~40 s) lands in whichever map runs first.
    warm_x, _ = synthetic_embeddings(5_000, args.dim, args.groups, seed=1)
    t = time.perf_counter()
    layout_embeddings(np.arange(len(warm_x)), warm_x, params)
    say(f"warm-up map of 5,000 points (numba compiles UMAP and pynndescent): {time.perf_counter() - t:.1f} s")

    timer = StepTimer()
    t = time.perf_counter()
    layout = layout_embeddings(np.arange(args.n), x, params, progress=timer)
    timer.finish()
    total = time.perf_counter() - t
    for message, seconds in timer.steps:
        say(f"  {message}: {seconds:.1f} s")
    say(f"map of {args.n:,} points, total: {total:.1f} s ({layout.method}, {layout.n_clusters} clusters)")
    say(f"adjusted Rand index of the clusters vs the {args.groups} generated groups: "
        f"{adjusted_rand_score(groups, layout.clusters):.3f}")  # fmt: skip
    baseline_s = None
    if args.baseline:
        # What the explorer would do without the PCA pre-reduction: same UMAP, raw vectors.
        t = time.perf_counter()
        umap.UMAP(n_neighbors=params.n_neighbors, min_dist=params.min_dist, random_state=params.seed, n_jobs=1).fit_transform(x)
        baseline_s = time.perf_counter() - t
        say(f"baseline, UMAP straight on the {args.dim}-d vectors (no PCA): {baseline_s:.1f} s")
    emit(f"embedding map (PCA + UMAP), {args.n:,} points", total, "s", higher_is_better=False,
         baseline="UMAP on raw vectors" if baseline_s else None, baseline_value=baseline_s)  # fmt: skip
    say(f"load average at end {os.getloadavg()[0]:.2f}")

    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"umap-{host}.txt"
    target.write_text("\n".join(lines) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()

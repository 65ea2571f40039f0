"""Albums stage speed on a generated 100,000-photo library (metadata and stored embeddings,
nothing decoded).

    .venv/bin/python bench/albums_bench.py [--photos 100000] [--dim 1280] [--repeat 3] [--skip-events]

Measured, best of N unless said otherwise:

A. albums alone, on ``curation.albums.synthetic`` (ten years, trips, family and friends,
   bursts, clutter; random 1280-d unit embeddings around one centre per event):
   * ``build_albums`` on the in-memory inputs (candidates, pools, MMR, facts);
   * the whole stage through DuckDB, cold (once): it projects every 1280-d embedding
     into the ``album_vectors`` cache (a library pays this once; afterwards only new
     photos are projected);
   * the whole stage, warm: read, build, titles, write.
B. events + albums on the events engineer's generator (``curation.events.synthetic``):
   their events stage, then the albums stage (warm) on the events it wrote, with quality,
   near-duplicates, themes, faces and embeddings added for the same photos.

Results are appended to bench/results/albums-<host>.txt.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np

from _summary import best_of, emit, results_dir, store_synthetic_photos  # noqa: E402

RESULTS = results_dir(Path(__file__).parent / "results")
TODAY = date(2031, 7, 14)



def _albums_alone(args: argparse.Namespace, lines: list[str]) -> None:
    from curation.albums import build_albums
    from curation.albums.synthetic import store_synthetic_library, synthetic_library
    from curation.pipeline.albums_stage import run_albums_stage
    from curation.settings import Settings
    from curation.store import Store

    start = time.perf_counter()
    library = synthetic_library(args.photos, seed=0, years=10, first_year=2021, dim=args.dim, trips_per_year=8,
                                n_family=8, n_strangers=200)  # fmt: skip
    gen_s = time.perf_counter() - start
    p = library.photos
    lines.append(
        f"# A. curation.albums.synthetic seed 0: {len(p)} photos, {len(library.events)} events, "
        f"{len(library.trips)} trips, {len(library.persons)} persons, {int(p.is_clutter.sum())} clutter, "
        f"{int((p.dup_group >= 0).sum())} in bursts, {args.dim}-d embeddings; generated in {gen_s:.1f} s"
    )
    build_s, build_cpu, albums = best_of(lambda: build_albums(library, today=TODAY), args.repeat)
    lines.append(f"{'build_albums on the inputs (pure)':52s} {build_s:6.2f} s  (CPU {build_cpu:.2f} s)  "
                 f"{len(albums)} albums")  # fmt: skip

    tmp = Path(tempfile.mkdtemp(prefix="albums-bench-"))
    try:
        settings = Settings(data_dir=tmp)
        store = Store(settings.database)
        start = time.perf_counter()
        with store.connect() as con:
            store_synthetic_library(con, library)
        lines.append(f"{'(setup: write the library into DuckDB)':52s} {time.perf_counter() - start:6.2f} s")
        del library
        start, cpu = time.perf_counter(), time.process_time()
        cold = run_albums_stage(store, settings, 1, today=TODAY)
        lines.append(
            f"{'whole stage, cold (projects every embedding once)':52s} {time.perf_counter() - start:6.2f} s  "
            f"(CPU {time.process_time() - cpu:.2f} s)  {cold.n_vectors_projected} vectors projected"
        )
        lines.append("  steps: " + ", ".join(f"{k} {v:.2f}" for k, v in cold.seconds.items()))
        warm_s, warm_cpu, warm = best_of(lambda: run_albums_stage(store, settings, 1, today=TODAY), args.repeat)
        lines.append(f"{'whole stage, warm: read + build + titles + write':52s} {warm_s:6.2f} s  "
                     f"(CPU {warm_cpu:.2f} s)  {warm.n_albums} albums {warm.by_kind}")  # fmt: skip
        lines.append("  steps of the best warm run: " + ", ".join(f"{k} {v:.2f}" for k, v in warm.seconds.items()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extra_stage_data(con, photos, truth, dim: int, seed: int = 0) -> None:  # noqa: ANN001
    """What the faces and vision stages would have written for the events generator's photos."""
    import pandas as pd
    import pyarrow as pa

    from curation.albums.records import normalise_rows
    from curation.albums.synthetic import FAMILY, SYNTHETIC_VERSIONS
    from curation.vision.themes import THEMES

    rng = np.random.default_rng(seed)
    frame = photos[["photo_id", "taken_at", "is_clutter"]].merge(truth[["photo_id", "event"]], on="photo_id", how="left")
    frame = frame.sort_values(["taken_at", "photo_id"]).reset_index(drop=True)
    n = len(frame)
    event_codes, event_index = np.unique(frame["event"].fillna("-").to_numpy(str), return_inverse=True)
    quality = rng.beta(5, 2, n).astype(np.float32)
    # Bursts: photos under 3 s apart; the best of each run represents it.
    seconds = frame["taken_at"].to_numpy("datetime64[s]").astype(np.int64)
    starts = np.concatenate([[True], np.diff(seconds) > 3])
    run = np.cumsum(starts) - 1
    sizes = np.bincount(run)
    in_burst = sizes[run] > 1
    order = np.lexsort((-quality, run))
    best_of_run = np.zeros(n, dtype=bool)
    best_of_run[order[np.concatenate([[True], run[order][1:] != run[order][:-1]])]] = True
    ids = frame["photo_id"].to_numpy()
    rep_id = np.zeros(len(sizes), dtype=np.int64)
    rep_id[run[best_of_run]] = ids[best_of_run]
    con.register("q", pd.DataFrame({"photo_id": ids, "sharpness": quality * 100, "exposure": 1.0,
                                    "face_area": 0.0, "score": quality}))  # fmt: skip
    con.execute("INSERT INTO photo_quality SELECT * FROM q")
    con.register("d", pd.DataFrame({"library_id": 1, "photo_id": ids[in_burst], "group_id": rep_id[run[in_burst]],
                                    "representative": best_of_run[in_burst]}))  # fmt: skip
    con.execute("INSERT INTO near_duplicates SELECT * FROM d")
    theme = rng.integers(len(THEMES), size=n)
    con.register("t", pd.DataFrame({"photo_id": ids, "model_version": SYNTHETIC_VERSIONS["themes"],
                                    "theme": [THEMES[t].value for t in theme], "score": rng.uniform(0.3, 0.95, n),
                                    "rank": 1}))  # fmt: skip
    con.execute("INSERT INTO photo_themes SELECT photo_id, model_version, theme, score, rank::TINYINT FROM t")
    # Family at events: each of 8 people comes to half the events, then is in 40% of its photos.
    cast = rng.random((len(event_codes), len(FAMILY))) < 0.5
    present = cast[event_index] & (rng.random((n, len(FAMILY))) < 0.4)
    rows, person = np.nonzero(present)
    con.register("f", pd.DataFrame({"face_id": [f"{ids[r]}-{k}" for r, k in zip(rows, person, strict=True)],
                                    "library_id": 1, "photo_id": ids[rows],
                                    "model_version": SYNTHETIC_VERSIONS["faces"], "person_id": person + 1}))  # fmt: skip
    con.execute("INSERT INTO faces (face_id, library_id, photo_id, model_version, box_left, box_top, box_right, "
                "box_bottom, confidence, embedding, person_id) SELECT face_id, library_id, photo_id, model_version, "
                "0.1, 0.1, 0.3, 0.3, 0.99, []::FLOAT[], person_id FROM f")  # fmt: skip
    con.register("pe", pd.DataFrame({"library_id": 1, "person_id": np.arange(1, len(FAMILY) + 1), "name": FAMILY}))
    con.execute("INSERT INTO persons SELECT library_id, person_id, name, NULL FROM pe")
    for task, version in SYNTHETIC_VERSIONS.items():
        con.execute("INSERT INTO model_versions (task, model_version) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [task, version])  # fmt: skip
    centres = normalise_rows(rng.standard_normal((len(event_codes), dim)).astype(np.float32))
    for start in range(0, n, 20_000):
        part = slice(start, start + 20_000)
        k = len(ids[part])
        vec = normalise_rows(0.7 * centres[event_index[part]] + 0.7 * rng.standard_normal((k, dim)).astype(np.float32)
                             / np.sqrt(dim))  # fmt: skip
        con.register("v", pa.table({"photo_id": pa.array(ids[part], pa.int64()),
                                    "vector": pa.FixedSizeListArray.from_arrays(pa.array(vec.ravel()), dim)}))  # fmt: skip
        con.execute("INSERT INTO embeddings SELECT photo_id, ?, vector::FLOAT[] FROM v", [SYNTHETIC_VERSIONS["embedder"]])
        con.unregister("v")


def _events_and_albums(args: argparse.Namespace, lines: list[str]) -> None:
    try:
        from curation.events.synthetic import generate_library
        from curation.pipeline.events_stage import run_events_stage
    except ImportError as exc:
        lines.append(f"# B. events + albums skipped: the events stage cannot be imported ({exc})")
        return
    from curation.pipeline.albums_stage import run_albums_stage
    from curation.settings import Settings
    from curation.store import Store

    start = time.perf_counter()
    library = generate_library(0, years=10, scale=12.0, trips_per_year=4, max_photos=args.photos)
    photos = library.photos
    gen_s = time.perf_counter() - start
    tmp = Path(tempfile.mkdtemp(prefix="albums-bench-events-"))
    try:
        settings = Settings(data_dir=tmp)
        store = Store(settings.database)
        with store.connect() as con:
            frame = store_synthetic_photos(con, photos)
            clutter = frame[["photo_id", "is_clutter"]].assign(model_version="synthetic-clutter@1",
                                                               category="photo", score=0.9)  # fmt: skip
            con.register("clutter", clutter)
            con.execute("INSERT INTO photo_clutter (photo_id, model_version, category, score, is_clutter) "
                        "SELECT photo_id, model_version, category, score, is_clutter FROM clutter")  # fmt: skip
            _extra_stage_data(con, photos, library.truth, args.dim)
        lines.append(f"# B. curation.events.synthetic seed 0 (scale 12, ten years): {len(photos)} photos, "
                     f"generated in {gen_s:.1f} s; albums cache projected once before timing")  # fmt: skip
        run_events_stage(store, settings, 1)  # warm-up: GeoNames and holidays load once per process
        run_albums_stage(store, settings, 1, today=TODAY)  # fills the album_vectors cache
        events_s, events_cpu, events = best_of(lambda: run_events_stage(store, settings, 1), args.repeat)
        albums_s, albums_cpu, albums = best_of(lambda: run_albums_stage(store, settings, 1, today=TODAY), args.repeat)
        lines.append(f"{'events stage (warm process)':52s} {events_s:6.2f} s  (CPU {events_cpu:.2f} s)  "
                     f"{getattr(events, 'n_events', '?')} events, {getattr(events, 'n_trips', '?')} trips")  # fmt: skip
        lines.append(f"{'albums stage on those events (warm cache)':52s} {albums_s:6.2f} s  (CPU {albums_cpu:.2f} s)  "
                     f"{albums.n_albums} albums {albums.by_kind}")  # fmt: skip
        lines.append("  steps of the best albums run: " + ", ".join(f"{k} {v:.2f}" for k, v in albums.seconds.items()))
        lines.append(f"{'events + albums':52s} {events_s + albums_s:6.2f} s  (budget 10 s)")
        emit(f"events + albums, {args.photos:,} photos", events_s + albums_s, "s", higher_is_better=False,
             target="< 10 s")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1280, help="stored embedding dimension")
    parser.add_argument("--repeat", type=int, default=3, help="take the best of N runs")
    parser.add_argument("--skip-events", action="store_true", help="only part A")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    lines = [
        f"# albums benchmark {datetime.now():%Y-%m-%d %H:%M} on {platform.node()} "
        f"({platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores), "
        f"Python {platform.python_version()}, numpy {np.__version__}; load average at start {load_start:.2f}; "
        f"best of {args.repeat}"
    ]
    _albums_alone(args, lines)
    print("\n".join(lines), flush=True)
    printed = len(lines)
    if not args.skip_events:
        _events_and_albums(args, lines)
    lines.append(
        f"peak RSS of the benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
        f"load average at end {os.getloadavg()[0]:.2f}"
    )
    print("\n".join(lines[printed:]))
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / f"albums-{platform.node()}.txt").open("a") as f:
        f.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()

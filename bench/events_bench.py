"""Events stage speed on a generated 100,000-photo library (metadata only, nothing decoded).

    .venv/bin/python bench/events_bench.py [--photos 100000] [--repeat 3]

The library comes from ``curation.events.synthetic`` (ten years, a heavy photographer:
bursts, trips, missing GPS, mtime-only files, screenshots). Measured, best of N:

* ``build_events`` on the photos frame (segmentation, placement, home, places, trips,
  calendar), with the GeoNames data already loaded;
* the whole stage through DuckDB: read photos + clutter flags, build, write five tables;
* once, cold: loading GeoNames (``reverse_geocoder.RGeocoder``) and the holidays package,
  which a process pays on its first run only;
* for scale: reverse-geocoding every geotagged photo one by one instead of each event's
  centroid, which is what the stage avoids.

Results are appended to bench/results/events-<host>.txt.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from _summary import best_of, store_synthetic_photos  # noqa: E402

RESULTS = Path(__file__).parent / "results"



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="take the best of N runs")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    import pandas as pd

    from curation.events import EventSettings, GeoNamesPlaces, build_events, default_rgeocoder
    from curation.events.calendar import HolidayCalendar
    from curation.events.synthetic import generate_library
    from curation.pipeline.events_stage import run_events_stage
    from curation.settings import Settings
    from curation.store import Store

    start = time.perf_counter()
    # ~25 photos a day for eleven years: a heavy photographer's phone.
    library = generate_library(0, years=12, scale=11.0, trips_per_year=4, max_photos=args.photos)
    photos = library.photos
    gen_s = time.perf_counter() - start

    geonames_s, geonames_cpu, _ = best_of(default_rgeocoder, 1)
    holidays_s, holidays_cpu, _ = best_of(lambda: HolidayCalendar().holiday("PT", [datetime(2024, 12, 25).date()]), 1)

    settings = EventSettings()
    build_s, build_cpu, result = best_of(lambda: build_events(photos, settings), args.repeat)

    tmp = Path(tempfile.mkdtemp(prefix="events-bench-"))
    try:
        app_settings = Settings(data_dir=tmp)
        store = Store(app_settings.database)
        with store.connect() as con:
            frame = store_synthetic_photos(con, photos)
            clutter = frame.loc[frame["is_clutter"], ["photo_id"]].assign(
                model_version="bench@1", category="screenshot", score=0.9, is_clutter=True
            )
            con.register("clutter", clutter)
            con.execute(
                "INSERT INTO photo_clutter (photo_id, model_version, category, score, is_clutter) "
                "SELECT photo_id, model_version, category, score, is_clutter FROM clutter"
            )
        stage_s, stage_cpu, report = best_of(lambda: run_events_stage(store, app_settings, 1), args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    geo = photos[photos["lat"].notna()]
    per_photo_s, per_photo_cpu, _ = best_of(
        lambda: GeoNamesPlaces().lookup(geo["lat"].to_numpy(), geo["lon"].to_numpy(), fold=False), 1
    )

    n = len(photos)
    timings = report.timings
    lines = [
        f"# events benchmark {datetime.now():%Y-%m-%d %H:%M} on {platform.node()} "
        f"({platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores), "
        f"Python {platform.python_version()}, pandas {pd.__version__}; load average at start {load_start:.2f}",
        f"# library: curation.events.synthetic seed 0, {n} photos ({len(geo)} geotagged, "
        f"{int(photos['is_clutter'].sum())} screenshots, {int((~photos['time_reliable']).sum())} without a reliable "
        f"time), generated in {gen_s:.1f} s; best of {args.repeat}",
        f"result: {len(result.events)} events, {len(result.trips)} trips, "
        f"{int((result.photo_events['placed_by'] == 'neighbours').sum())} placed by neighbours, "
        f"{len(result.exclusions)} left out; home {result.home.place_name} (confidence {result.home.confidence:.2f})",
        f"{'':52s} {'wall':>8s} {'CPU':>8s}",
        f"{'build_events on the frame (GeoNames loaded)':52s} {build_s:7.2f}s {build_cpu:7.2f}s  "
        f"{n / build_s:7.0f} photos/s (wall)",
        f"{'whole stage: DuckDB read + build + write':52s} {stage_s:7.2f}s {stage_cpu:7.2f}s  "
        f"{n / stage_s:7.0f} photos/s (wall)",
        "  steps of the best stage run (wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()),
        f"{'first run in a process only: load GeoNames':52s} {geonames_s:7.2f}s {geonames_cpu:7.2f}s",
        f"{'first run in a process only: import holidays':52s} {holidays_s:7.2f}s {holidays_cpu:7.2f}s",
        f"{'cold stage (stage + both loads)':52s} {stage_s + geonames_s + holidays_s:7.2f}s "
        f"{stage_cpu + geonames_cpu + holidays_cpu:7.2f}s",
        f"{'for scale: geocode every geotagged photo (avoided)':52s} {per_photo_s:7.2f}s {per_photo_cpu:7.2f}s",
        "# CPU is this process's CPU time: the stage is single-threaded, so on an idle machine wall ~ CPU;",
        "# on a shared, loaded machine (see the load average) wall time stretches, CPU time does not.",
        f"peak RSS of the benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
        f"load average at end {os.getloadavg()[0]:.2f}",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / f"events-{platform.node()}.txt").open("a") as f:
        f.write(text + "\n\n")


if __name__ == "__main__":
    main()

"""Every benchmark in one command: headline numbers, each next to its baseline, and peak memory.

    .venv/bin/curation bench                  # or: .venv/bin/python bench/suite.py
    .venv/bin/curation bench --quick          # smaller sizes, a few minutes: a smoke run
    .venv/bin/curation bench --only ingest,umap

Runs the benchmark scripts of this folder one after another, each in its own process (so a
model loaded by one does not count against the next one's memory), collects the numbers each
hands over through ``bench/_summary.py``, and prints one table: value, baseline measured in the
same run, speed-up, target, and the peak resident memory of that benchmark's process (from
``wait4``). Each script also appends its full report to ``bench/results/<name>-<host>.txt``;
the table goes to ``bench/results/suite-<host>.txt``. Times move with the machine's load: the
load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    what: str


BENCHES: tuple[Bench, ...] = (
    Bench("ingest", "ingest_bench.py", ("--repeat", "2"), ("--repeat", "1"),
          "ingest photos/s on camera-roll-large vs naive full decode"),
    Bench("embed", "embed_bench.py", (), ("--repeats", "1"),
          "EfficientNet-Lite0 images/s: ONNX Runtime (fp32, int8) vs eager torch"),
    Bench("faces", "faces_bench.py", (), ("--quick",),
          "face detection + embeddings photos/s vs the previous settings"),
    Bench("events_albums", "albums_bench.py", ("--repeat", "1"), ("--repeat", "1", "--photos", "20000"),
          "events + albums on 100,000 generated photos"),
    Bench("umap", "umap_bench.py", (), ("--n", "5000"),
          "embedding map of 20,000 points vs UMAP without PCA"),
    # 1,000 photos keep the suite under half an hour; `pipeline_bench.py --photos 10000` is the
    # full 10,000-photo target run (about 40 minutes on 2 cores today, faces dominate).
    Bench("pipeline", "pipeline_bench.py", ("--photos", "1000"), ("--photos", "100"),
          "the whole pipeline on 1,000 generated 3 MP photos, peak memory"),
)  # fmt: skip


@dataclass
class Outcome:
    bench: Bench
    rows: list[dict]
    seconds: float
    peak_mib: float
    status: int
    tail: str


def run_one(bench: Bench, quick: bool) -> Outcome:
    script = BENCH / bench.script
    if not script.exists():
        return Outcome(bench, [], 0.0, 0.0, -1, f"{script.name} is missing")
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl", delete=False) as summary:
        path = Path(summary.name)
    env = {**os.environ, "BENCH_SUMMARY": str(path)}
    if quick:  # smoke numbers go to a scratch folder, never into bench/results
        env["BENCH_RESULTS"] = tempfile.mkdtemp(prefix="bench-quick-")
    argv = [sys.executable, str(script), *(bench.quick_args if quick else bench.args)]
    print(f"==> {bench.name}: {' '.join(argv[1:])}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH.parent)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    seconds = time.perf_counter() - start
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.unlink(missing_ok=True)
    print(output, flush=True)
    return Outcome(bench, rows, seconds, usage.ru_maxrss / 1024, proc.returncode, output[-2000:])


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def table(outcomes: list[Outcome]) -> list[str]:
    head = f"{'benchmark':14s} {'metric':48s} {'value':>14s} {'baseline (same run)':>44s} {'gain':>7s} {'target':>26s} {'peak RSS':>9s}"
    lines = [head, "-" * len(head)]
    for o in outcomes:
        if o.status != 0:
            lines.append(f"{o.bench.name:14s} FAILED (exit {o.status}): {o.tail.strip().splitlines()[-1] if o.tail.strip() else ''}")
            continue
        if not o.rows:
            lines.append(f"{o.bench.name:14s} (no headline numbers)  {o.seconds:.0f} s  {o.peak_mib:,.0f} MiB")
        for i, r in enumerate(o.rows):
            base = r.get("baseline_value")
            gain = "-"
            if base:
                ratio = r["value"] / base if r.get("higher_is_better", True) else base / r["value"]
                gain = f"{ratio:.2f}x"
            baseline = f"{r['baseline']}: {_fmt(base, r['unit'])}" if r.get("baseline") else "-"
            lines.append(
                f"{o.bench.name if i == 0 else '':14s} {r['metric'][:48]:48s} {_fmt(r['value'], r['unit']):>14s} "
                f"{baseline[:44]:>44s} {gain:>7s} {(r.get('target') or '-')[:26]:>26s} "
                f"{(f'{o.peak_mib:,.0f} MiB' if i == 0 else ''):>9s}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run; results not comparable)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(b.name for b in BENCHES)}")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    chosen = list(BENCHES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        known = {b.name: b for b in BENCHES}
        unknown = [n for n in names if n not in known]
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(known)}")
        chosen = [known[n] for n in names]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    outcomes = [run_one(b, args.quick) for b in chosen]
    lines = [
        f"# benchmark suite {datetime.now():%Y-%m-%d %H:%M} on {platform.node()} ({len(os.sched_getaffinity(0))} cores), "
        f"Python {platform.python_version()}{', QUICK sizes' if args.quick else ''}; load average {load:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; {time.perf_counter() - start:.0f} s in all",
        *table(outcomes),
    ]
    text = "\n".join(lines)
    print("\n" + text)
    if not args.no_save and not args.quick:
        RESULTS.mkdir(exist_ok=True)
        with (RESULTS / f"suite-{platform.node()}.txt").open("a") as f:
            f.write(text + "\n\n")
    return 0 if all(o.status == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

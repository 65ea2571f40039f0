"""Dashboard cold start: from `python -m dashboard` to the first page drawn in a browser.

`python -m dashboard` is `streamlit run dashboard/app.py` plus a background thread that imports
the first page's modules while the browser loads the page (dashboard/__main__.py); the plain
`streamlit run dashboard/app.py` is measured alongside. Each round starts a fresh Streamlit server (headless, free port) on a curated demo library's
database, opens it in headless Chromium (launched once, before the clock starts) and stops the
clock when the Libraries & runs page is fully drawn: its heading, the eight metric cards, every
thumbnail of the grid loaded, and no "Running..." status widget. The floor is the same
measurement on a three-line Streamlit app (a title and a metric), run from the same folder with
the same config, interleaved with the app's rounds so both see the same machine load. It also
reads the server process's CPU time (user + system, /proc) when the page is drawn: on a machine
shared with other jobs that moves much less than the wall time.

    .venv/bin/python bench/dashboard_startup_bench.py              # 5 rounds
    .venv/bin/python bench/dashboard_startup_bench.py --runs 9 --data-dir /tmp/dash
    # before/after: another tree (`git worktree add /tmp/before <rev>`) measured alongside
    .venv/bin/python bench/dashboard_startup_bench.py --baseline /tmp/before

The demo library is built and curated (`curation demo-library` + `curation run`, all stages)
into the data folder the first time (default var/bench/dashboard: a few minutes). Prints a
table and appends it to bench/results/dashboard-startup-vm.txt. Needs /usr/bin/chromium
(apt-get install -y chromium) and Playwright (in the dev extras).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dashboard.process import CHROMIUM, CHROMIUM_ARGS, free_port, stop, wait_until_healthy

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "dashboard-startup-vm.txt"
TIMEOUT_S = 120

FLOOR_APP = """import streamlit as st
st.title("Floor")
st.metric("Photos", 88)
"""

# "Drawn": the page's own content is there and the script has finished (no status widget).
APP_DRAWN = """() => {
  const heading = [...document.querySelectorAll('h1')].some(h => h.innerText.includes('Libraries & runs'));
  const metrics = document.querySelectorAll('[data-testid="stMetric"]').length >= 8;
  const images = [...document.querySelectorAll('[data-testid="stImage"] img')];
  const loaded = images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0);
  return heading && metrics && loaded && !document.querySelector('[data-testid="stStatusWidget"]');
}"""
FLOOR_DRAWN = """() => {
  const heading = [...document.querySelectorAll('h1')].some(h => h.innerText.includes('Floor'));
  const metric = document.querySelectorAll('[data-testid="stMetric"]').length >= 1;
  return heading && metric && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


@dataclass(frozen=True)
class Sample:
    healthy_s: float  # process start -> /_stcore/health answers
    drawn_s: float  # process start -> first page fully drawn in the browser
    server_cpu_s: float  # CPU time (user + system) of the server process until then


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): steadier than wall time on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ensure_demo_database(data_dir: Path) -> Path:
    """The demo library, built and curated (all stages) into ``data_dir`` unless it is there."""
    database = data_dir / "curation.duckdb"
    if database.is_file():
        return database
    env = {**os.environ, "CURATION_DATA_DIR": str(data_dir)}
    demo = data_dir / "demo-library"
    cli = [sys.executable, "-m", "curation.cli"]
    print(f"Building and curating the demo library into {data_dir} (once; a few minutes)…", flush=True)
    if not demo.is_dir():
        subprocess.run([*cli, "demo-library", str(demo)], env=env, cwd=REPO, check=True)
    subprocess.run([*cli, "run", str(demo)], env=env, cwd=REPO, check=True)
    return database


@dataclass(frozen=True)
class Target:
    name: str
    launch: list[str]  # the command up to its options: `python -m dashboard` or `streamlit run <script>`
    cwd: Path  # streamlit runs from here: its .streamlit/config.toml and its packages
    drawn: str  # JavaScript: true once the first page is fully drawn


def measure(browser, target: Target, data_dir: Path, log: Path) -> Sample:  # noqa: ANN001 - Playwright
    port = free_port()
    env = {**os.environ, "CURATION_DATA_DIR": str(data_dir), "CURATION_SAMPLES": str(data_dir / "no-samples")}
    for var in ("CURATION_DB_PATH", "CURATION_CACHE_DIR", "CURATION_DEMO_LIBRARY"):
        env.pop(var, None)
    command = [
        *target.launch, "--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        started = time.perf_counter()
        server = subprocess.Popen(command, cwd=target.cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(url, server, log, timeout_s=TIMEOUT_S, poll_s=0.02)
            healthy = time.perf_counter() - started
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            try:
                page.goto(url)
                page.wait_for_function(target.drawn, timeout=TIMEOUT_S * 1000, polling=20)
                done = time.perf_counter() - started
                cpu = cpu_seconds(server.pid)
                if page.locator('[data-testid="stException"]').count():
                    raise RuntimeError(f"{target.name} shows an exception:\n{page.inner_text('body')[:2000]}")
            finally:
                page.close()
        finally:
            stop(server)
    return Sample(healthy, done, cpu)


def summary(name: str, samples: list[Sample]) -> str:
    def stats(values: list[float]) -> str:
        return f"min {min(values):5.2f}  median {statistics.median(values):5.2f}  max {max(values):5.2f}"

    return (
        f"{name:<22} first page drawn: {stats([s.drawn_s for s in samples])}\n"
        f"{'':<22} server healthy:   {stats([s.healthy_s for s in samples])}\n"
        f"{'':<22} server CPU time:  {stats([s.server_cpu_s for s in samples])}"
    )


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )  # fmt: skip
    import streamlit

    chromium = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores (shared); Python {platform.python_version()}, "
        f"Streamlit {streamlit.__version__}, {chromium}"
    )


def git_revision() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
    return out.stdout.strip() + (" + uncommitted changes" if dirty.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="rounds (app and floor each), best and median kept")
    parser.add_argument("--data-dir", type=Path, default=REPO / "var" / "bench" / "dashboard",
                        help="CURATION_DATA_DIR with the curated demo library (built when missing)")  # fmt: skip
    parser.add_argument("--baseline", type=Path, help="another tree of this repository (a git worktree of an "
                        "earlier revision): its dashboard is measured too, interleaved, as 'baseline'")  # fmt: skip
    parser.add_argument("--no-save", action="store_true", help=f"print only; do not append to {RESULTS.name}")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    data_dir = args.data_dir.resolve()
    database = ensure_demo_database(data_dir)
    loads = [load_average()]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        floor = Path(tmp) / "floor_app.py"
        floor.write_text(FLOOR_APP)
        streamlit_run = [sys.executable, "-m", "streamlit", "run"]
        targets = [
            Target("dashboard", [sys.executable, "-m", "dashboard"], REPO, APP_DRAWN),
            Target("streamlit run app.py", [*streamlit_run, str(REPO / "dashboard" / "app.py")], REPO, APP_DRAWN),
            Target("three-line app", [*streamlit_run, str(floor)], REPO, FLOOR_DRAWN),
        ]
        if args.baseline:
            base = args.baseline.resolve()
            targets.insert(2, Target("baseline", [*streamlit_run, str(base / "dashboard" / "app.py")], base, APP_DRAWN))
        results: dict[str, list[Sample]] = {t.name: [] for t in targets}
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # A first, unrecorded round of each: byte-compiles and fills the OS file cache.
        for target in targets:
            measure(browser, target, data_dir, Path(tmp) / "warmup.log")
        for n in range(args.runs):
            for target in targets if n % 2 == 0 else targets[::-1]:
                sample = measure(browser, target, data_dir, Path(tmp) / f"round-{n}.log")
                results[target.name].append(sample)
                print(
                    f"round {n + 1}: {target.name:<20} healthy {sample.healthy_s:5.2f} s, "
                    f"drawn {sample.drawn_s:5.2f} s, server CPU {sample.server_cpu_s:4.2f} s (load {load_average()})",
                    flush=True,
                )
            loads.append(load_average())
        browser.close()

    report = "\n".join(
        [
            f"## {datetime.now():%Y-%m-%d %H:%M} · {git_revision()}",
            f"machine: {machine()}",
            f"database: {database} · {args.runs} rounds, interleaved, after one warm-up round each; seconds "
            "from process start (server CPU time: user + system of the Streamlit process until the page is drawn)",
            f"load average (1, 5, 15 min) before / after: {loads[0]} / {loads[-1]}"
            + (f" · baseline: {args.baseline}" if args.baseline else ""),
            *(summary(name, samples) for name, samples in results.items()),
            "",
        ]
    )
    print("\n" + report)
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as out:
            out.write(report + "\n")
        print(f"appended to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()

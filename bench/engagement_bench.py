"""Engagement analytics throughput: generation rate, database build, every named query.

    .venv/bin/python bench/engagement_bench.py [--users 500000] [--threads 2] [--repeat 5]

Generates ~20 events per user (500,000 users ~ 10 million events), builds the engagement
database from the Parquet files with DuckDB limited to ``--threads``, then runs each named
query with its default parameters through the sandboxed runner: the first run (a fresh
connection, cold caches) and the best of ``--repeat``. For contrast it also times the
funnel computed straight from the 10 M events, which is what the ``album_funnel``
pre-aggregation saves. The budget is 1 s per named query. Results are printed and written to
bench/results/engagement-<host>.txt (the machine and its load average are recorded: on a
shared machine numbers move with the load).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from curation.engagement.generate import generate
from curation.engagement.queries import list_queries, run_named_query
from curation.engagement.sandbox import build_database, run_sql

RESULTS = Path(__file__).parent / "results"
BUDGET_S = 1.0

# The funnel straight from events (what the album_funnel pre-aggregation replaces).
RAW_FUNNEL = """
WITH per_album AS (
    SELECT album_key,
           bool_or(event_type = 'open') AS opened,
           bool_or(event_type = 'edit') AS edited
    FROM events GROUP BY album_key HAVING bool_or(event_type = 'impression')
)
SELECT count(*) AS shown, count(*) FILTER (WHERE opened) AS opened,
       count(*) FILTER (WHERE opened AND edited) AS edited,
       count(*) FILTER (WHERE opened AND edited AND album_key IN (SELECT album_key FROM orders)) AS ordered
FROM per_album
"""
RAW_SCAN = "SELECT event_type, count(*) AS events, count(DISTINCT user_id) AS users FROM events GROUP BY ALL"

from _summary import cpu_name  # noqa: E402



def timed_query(run, repeat: int) -> tuple[float, float, int]:
    """(first wall time incl. opening the database, best of `repeat` wall times, rows)."""
    start = time.perf_counter()
    result = run()
    first = time.perf_counter() - start
    best = first
    for _ in range(repeat - 1):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return first, best, result.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=500_000, help="users to generate (~20 events each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads for build and queries")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query; the best is reported")
    parser.add_argument("--work-dir", type=Path, default=None, help="where to write data (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data and database")
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="engagement-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        say(f"# engagement bench {datetime.now().isoformat(timespec='seconds')}")
        say(
            f"host {socket.gethostname()}: {cpu_name()}, {os.cpu_count()} cores visible, "
            f"load average {load_before[0]:.1f} at start; Python {sys.version.split()[0]}, DuckDB {duckdb.__version__}"
        )
        say(f"users {args.users:,}, seed {args.seed}, DuckDB threads {args.threads}, best of {args.repeat}")
        say()

        report = generate(args.users, work / "raw", seed=args.seed)
        total = report.seconds_generate + report.seconds_write
        say(f"generate: {report.n_events:,} events ({', '.join(f'{n:,} {t.value}' for t, n in report.rows.items())})")
        say(
            f"  numpy {report.seconds_generate:.2f} s + Parquet {report.seconds_write:.2f} s = {total:.2f} s: "
            f"{report.n_events / report.seconds_generate / 1e6:.2f} M events/s simulated, "
            f"{report.events_per_s / 1e6:.2f} M events/s including writing"
        )

        db = work / "engagement.duckdb"
        build = build_database([work / "raw"], db, threads=args.threads)
        say(
            f"build (read Parquet, clean, pre-aggregate): {build.seconds:.1f} s, "
            f"cleaning {build.cleaning.seconds:.1f} s of it; {build.tables['events']:,} clean events, "
            f"{build.tables['album_funnel']:,} album_funnel rows, {db.stat().st_size / 2**20:.0f} MiB"
        )
        say()

        say(f"{'query':<28}{'first s':>9}{'best s':>9}{'rows':>8}  within {BUDGET_S:g} s")
        worst = 0.0
        for query in list_queries():
            first, best, rows = timed_query(
                lambda q=query: run_named_query(q, db_path=db, threads=args.threads, time_limit_s=60), args.repeat
            )
            worst = max(worst, best)
            say(f"{query.name:<28}{first:>9.3f}{best:>9.3f}{rows:>8}  {'yes' if best < BUDGET_S else 'NO'}")
        say()
        say("for contrast, straight from the events table (no pre-aggregation):")
        for name, sql in (("funnel from events", RAW_FUNNEL), ("scan: events by type", RAW_SCAN)):
            first, best, rows = timed_query(
                lambda s=sql: run_sql(s, db_path=db, threads=args.threads, time_limit_s=120), max(2, args.repeat // 2)
            )
            say(f"{name:<28}{first:>9.3f}{best:>9.3f}{rows:>8}")
        load_after = os.getloadavg()
        say()
        say(f"slowest named query {worst:.3f} s (best of {args.repeat}); load average {load_after[0]:.1f} at the end")
    finally:
        if not args.keep and args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"engagement-{socket.gethostname()}.txt"
    with out.open("a") as f:
        f.write("\n".join(lines) + "\n\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    main()

"""Running the dashboard as a server process: a free port, waiting for it, stopping it, and
the headless Chromium that drives it.

Shared by the browser tests (tests/e2e/) and the start-up benchmark
(bench/dashboard_startup_bench.py), which both start ``python -m dashboard`` on a free port,
must tell "not up yet" from "crashed" from "hung", and open it in the same browser. No
Streamlit import.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path


# Debian's chromium (scripts/test.sh installs it), for Playwright's executable_path.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


class ServerFailed(RuntimeError):
    """The server exited, or did not answer in time; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(
    url: str, server: subprocess.Popen, log: Path, *, timeout_s: float, poll_s: float = 0.05
) -> float:
    """Seconds from now until ``url``'s ``/_stcore/health`` answers 200.

    Raises :class:`ServerFailed` with the last 3,000 characters of ``log`` when the process
    exits first or ``timeout_s`` passes."""
    started = time.perf_counter()
    while True:
        if server.poll() is not None:
            raise ServerFailed(f"the dashboard exited with {server.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() - started > timeout_s:
            raise ServerFailed(f"the dashboard did not answer in {timeout_s:g} s:\n{_tail(log)}")
        time.sleep(poll_s)


def stop(server: subprocess.Popen, *, grace_s: float = 10.0) -> None:
    """Terminate, and kill if it is still there after ``grace_s``."""
    server.terminate()
    try:
        server.wait(grace_s)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"

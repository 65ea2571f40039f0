"""dashboard.process: telling a dashboard server that is up from one that crashed or hangs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboard.process import ServerFailed, free_port, stop, wait_until_healthy

HEALTH_SERVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

    print("serving", flush=True)
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
    """
)


def start(tmp_path: Path, code: str, *args: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=subprocess.STDOUT)
    return server, log


def test_a_server_that_answers_is_healthy(tmp_path: Path) -> None:
    port = free_port()
    server, log = start(tmp_path, HEALTH_SERVER, str(port))
    try:
        seconds = wait_until_healthy(f"http://127.0.0.1:{port}", server, log, timeout_s=30)
        assert 0 <= seconds < 30
    finally:
        stop(server)
    assert server.returncode is not None


def test_a_crashed_server_says_so_with_its_log(tmp_path: Path) -> None:
    server, log = start(tmp_path, "import sys; print('config error: no such page'); sys.exit(3)")
    with pytest.raises(ServerFailed, match=r"exited with 3:\n.*config error: no such page"):
        wait_until_healthy(f"http://127.0.0.1:{free_port()}", server, log, timeout_s=30)


def test_a_silent_server_times_out(tmp_path: Path) -> None:
    server, log = start(tmp_path, "import time; print('starting', flush=True); time.sleep(60)")
    try:
        with pytest.raises(ServerFailed, match=r"did not answer in 0.5 s:\n.*starting"):
            wait_until_healthy(f"http://127.0.0.1:{free_port()}", server, log, timeout_s=0.5)
    finally:
        stop(server, grace_s=2)

"""`python -m dashboard`: the launcher warms the first page's imports only once the server is up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


# A stand-in for streamlit.runtime.runtime in sys.modules: the launcher reads the runtime's state
# from there, so the test can say when "the server" is up without starting one.
FAKE_RUNTIME = """
import enum, sys, types
State = enum.Enum("State", "INITIAL NO_SESSIONS_CONNECTED")
module = types.ModuleType("streamlit.runtime.runtime")
module.Runtime = type("Runtime", (), {"_instance": None})
sys.modules["streamlit.runtime.runtime"] = module
def start():
    module.Runtime._instance = types.SimpleNamespace(state=State.NO_SESSIONS_CONNECTED)
"""


def test_warm_imports_wait_for_the_server() -> None:
    code = FAKE_RUNTIME + (
        "from dashboard.__main__ import server_started, warm_imports\n"
        "assert not server_started()\n"
        "warm_imports(('numpy', 'duckdb'), wait_s=0.3)\n"  # the server never comes up: gives up
        "print(sorted(m for m in ('numpy', 'duckdb') if m in sys.modules))\n"
    )
    assert run_python(code) == "[]"


def test_warm_imports_load_the_first_page_modules_once_the_server_is_up() -> None:
    code = FAKE_RUNTIME + (
        "import threading\n"
        "from dashboard.__main__ import WARM_IMPORTS, server_started, warm_imports\n"
        "worker = threading.Thread(target=warm_imports, kwargs={'wait_s': 30})\n"
        "worker.start()\n"
        "worker.join(0.3)\n"
        "assert worker.is_alive() and 'duckdb' not in sys.modules, 'imported before the server was up'\n"
        "start()\n"
        "assert server_started()\n"
        "worker.join(60)\n"
        "print(all(m in sys.modules for m in WARM_IMPORTS) and 'streamlit' not in sys.modules)\n"
    )
    assert run_python(code) == "True"


def test_streamlits_first_element_check_runs_in_the_warm_thread() -> None:
    """Streamlit's once-per-process direct-execution check (inspect.stack over every loaded
    module) runs while the server waits, so the first page does not pay for it."""
    code = FAKE_RUNTIME + (
        "calls = []\n"
        "dg = types.ModuleType('streamlit.delta_generator')\n"
        "dg._maybe_print_use_warning = lambda: calls.append('checked')\n"
        "sys.modules['streamlit.delta_generator'] = dg\n"
        "from dashboard.__main__ import warm_imports\n"
        "start()\n"
        "warm_imports(('json',), wait_s=5)\n"
        "print(calls)\n"
    )
    assert run_python(code) == "['checked']"


def test_the_real_streamlit_still_has_the_check() -> None:
    """The check is a private Streamlit function: if an upgrade removes it, warming it is a
    no-op, and this test says the start-up win is gone."""
    from streamlit import delta_generator

    assert callable(getattr(delta_generator, "_maybe_print_use_warning", None))

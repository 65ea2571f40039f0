"""Start the dashboard: ``python -m dashboard [streamlit run options]``, from the repository root.

The same as ``streamlit run dashboard/app.py``, plus one thing: once the server is up, and
while the browser loads the page's JavaScript (a second or two in which the server has nothing
to do), a background thread imports what the first page needs (the settings, DuckDB, numpy and
PIL for the thumbnails). The first script run then finds them loaded
(bench/dashboard_startup_bench.py measures both ways), and Streamlit's first-element check has
already run (:func:`check_direct_execution`).

The thread waits for the server: imports hold the GIL, so importing while Streamlit starts
would only slow the start. It imports no module that imports Streamlit, so it never races
Streamlit's own imports; if an import fails, the page fails the same way later and says so.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"

# What the first page (Libraries & runs) imports, minus Streamlit itself: about 0.5 s of CPU.
# dashboard.queries, dashboard.runs and dashboard.library_choice import no Streamlit (a test
# in tests/dashboard/test_pages.py holds them to it).
WARM_IMPORTS = (
    "numpy",  # Streamlit's image_to_url imports it for every st.image and st.logo
    "PIL.Image",
    "PIL.JpegImagePlugin",
    "duckdb",
    "curation.settings",
    "curation.store",
    "curation.pipeline.runner",
    "dashboard.queries",
    "dashboard.runs",
    "dashboard.library_choice",
)


def server_started() -> bool:
    """True once Streamlit's runtime is up (read from sys.modules: importing it here could race
    the main thread's own import of Streamlit)."""
    module = sys.modules.get("streamlit.runtime.runtime")
    runtime = getattr(getattr(module, "Runtime", None), "_instance", None)
    state = getattr(runtime, "state", None)
    return getattr(state, "name", "") in ("NO_SESSIONS_CONNECTED", "ONE_OR_MORE_SESSIONS_CONNECTED")


def warm_imports(modules: tuple[str, ...] = WARM_IMPORTS, *, wait_s: float = 60.0) -> None:
    import importlib
    import time

    deadline = time.monotonic() + wait_s
    while not server_started():
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optimisation only: the page reports its own errors
            return
    check_direct_execution()


def check_direct_execution() -> None:
    """Run Streamlit's once-per-process "not started with streamlit run?" check now.

    The first element a script draws triggers it, and it calls ``inspect.stack()``, which maps
    every frame to its module by resolving the path of every module loaded (about a thousand
    by then): 0.1-0.2 s of the first page, spent here instead while the server waits. Same
    check, same outcome (the runtime exists, so it prints nothing); a Streamlit without it
    makes this a no-op.
    """
    module = sys.modules.get("streamlit.delta_generator")
    check = getattr(module, "_maybe_print_use_warning", None)
    if callable(check):
        try:
            check()
        except Exception:  # noqa: BLE001 - an optimisation only
            pass


def main(argv: list[str] | None = None) -> int:
    threading.Thread(target=warm_imports, name="warm-imports", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())

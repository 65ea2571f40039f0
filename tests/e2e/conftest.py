"""The browser tests build their data with the AppTests' builders (tests/dashboard/): make those
modules importable here too. pytest puts tests/dashboard on sys.path only when it collects a
test there, which `pytest tests/e2e` alone does not; appended, it shadows nothing."""

from __future__ import annotations

import sys
from pathlib import Path

_DASHBOARD_TESTS = str(Path(__file__).resolve().parents[1] / "dashboard")
if _DASHBOARD_TESTS not in sys.path:
    sys.path.append(_DASHBOARD_TESTS)

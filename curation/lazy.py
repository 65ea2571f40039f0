"""Lazy package exports (PEP 562), for packages that the settings import.

``curation.settings`` imports ``AlbumSettings``, ``EventSettings`` and ``RaySettings`` from
their packages, and loading the settings must stay cheap (the dashboard's start-up): so those
packages name their exports and import the module that defines one on first use.

    _EXPORTS = {"build_albums": "builder", "AlbumSettings": "config"}
    __getattr__ = lazy_exports(__name__, _EXPORTS)
    __all__ = sorted(_EXPORTS)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``name`` is imported from ``package.<exports[name]>``."""

    def __getattr__(name: str) -> Any:  # noqa: ANN401 - whatever the package exports
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__

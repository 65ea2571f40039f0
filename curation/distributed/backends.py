"""Backends of ``curation run``: a registry and one factory, ``create_backend(name)``.

``local`` (the default) runs the stages in this process, library after library, and needs
nothing beyond the project's own dependencies. ``ray`` spreads the work over a Ray
cluster (``pip install 'curation-studio[ray]'``); see docs/scale.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from curation.distributed.parquet import LibraryResult
from curation.pipeline.runner import ALL_STAGES, Stage, StageProgressFn
from curation.settings import Settings
from curation.store import Store


class UnknownBackendError(ValueError):
    pass


class Backend(ABC):
    """Runs the curation stages on some libraries into one store. ``__init__`` only stores
    options; nothing is started or imported until ``run``."""

    name: ClassVar[str] = ""

    @abstractmethod
    def run(
        self,
        roots: Sequence[Path],
        store: Store,
        settings: Settings,
        *,
        stages: Sequence[Stage] = ALL_STAGES,
        progress: Callable[[Path], StageProgressFn | None] | None = None,
        now: datetime | None = None,
    ) -> list[LibraryResult]:
        """Curate ``roots`` into ``store``. ``progress(root)`` gives the per-stage progress
        callback of one library (the local backend reports progress, Ray shows its own)."""


_REGISTRY: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"backend {cls.__name__} needs a unique name, got {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def list_backends() -> list[str]:
    _register_builtins()
    return sorted(_REGISTRY)


def create_backend(name: str, **options: Any) -> Backend:  # noqa: ANN401
    """A backend by name; ``options`` go to its constructor (e.g. ``address=`` for ray)."""
    _register_builtins()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise UnknownBackendError(
            f"Unknown backend {name!r}. Valid backends: {', '.join(sorted(_REGISTRY))}. "
            "Pass one of them with --backend."
        ) from None
    return cls(**options)


def _register_builtins() -> None:
    # The ray backend's module imports no Ray at import time; it is safe to register always.
    from curation.distributed import ray_backend  # noqa: F401


@register_backend
class LocalBackend(Backend):
    """The embedded default: ``run_library`` on each library in turn, in this process."""

    name = "local"

    def __init__(self, *, models: dict[str, Any] | None = None) -> None:
        self.models = models  # loaded models shared across libraries (embedder, face_model)

    def run(self, roots, store, settings, *, stages=ALL_STAGES, progress=None, now=None):  # noqa: ANN001, ANN201
        from curation.pipeline.runner import run_library

        results = []
        for root in roots:
            report = run_library(
                Path(root), store, settings, stages=stages, progress=progress(Path(root)) if progress else None,
                models=self.models, now=now,
            )  # fmt: skip
            run_id = _run_id(store, report.library_id)
            results.append(LibraryResult(report.library_id, run_id, Path(root).resolve(), report=report))
        return results


def _run_id(store: Store, library_id: int) -> int:
    with store.connect(read_only=True) as con:
        return int(con.execute("SELECT max(run_id) FROM runs WHERE library_id = ?", [library_id]).fetchall()[0][0])

"""Model-stage results written in bursts: one database open per few seconds, not per batch.

Opening the DuckDB file and closing it costs 50-150 ms (the close checkpoints). The faces
stage finishes a batch of 16 photos every ~2.5 s and the vision stage one of 64 every ~3 s;
writing each batch on its own connection spent 4-7 % of those stages opening and closing the
file (on 10,000 photos about a minute). :class:`BufferedWrites` keeps the finished batches
and writes them together under one :meth:`Store.held`, at most once per ``interval_s``, and
whatever is left when the stage ends or fails (finished batches are never lost to an error
in a later one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from curation.store import Store

FLUSH_INTERVAL_S = 5.0


class BufferedWrites:
    """``add(*args)`` queues one ``write(*args)`` call; ``flush()`` runs the queued calls
    under one held connection. Use as a context manager: leaving it flushes."""

    def __init__(self, store: Store, write: Callable[..., None], *, interval_s: float = FLUSH_INTERVAL_S) -> None:
        self.store = store
        self.write = write
        self.interval_s = interval_s
        self.n_flushes = 0
        self._pending: list[tuple[Any, ...]] = []
        self._flushed = time.monotonic()

    def add(self, *args: Any) -> None:
        self._pending.append(args)
        if time.monotonic() - self._flushed >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            with self.store.held():
                for args in pending:
                    self.write(*args)
            self.n_flushes += 1
        self._flushed = time.monotonic()

    def __enter__(self) -> BufferedWrites:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.flush()

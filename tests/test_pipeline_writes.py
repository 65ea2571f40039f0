"""BufferedWrites: model-stage rows reach DuckDB in bursts, one file open per flush, none lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.pipeline.writes import BufferedWrites
from curation.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "writes.duckdb")
    with store.connect() as con:
        con.execute("CREATE TABLE batch_rows (batch INTEGER, n INTEGER)")
    return store


def insert(store: Store, batch: int, values: list[int]) -> None:
    # Under Store.held() the file stays open and this connect costs well under a millisecond.
    assert store._holds == 1, "a write outside a held store opens and checkpoints the file"
    with store.connect() as con:
        con.executemany("INSERT INTO batch_rows VALUES (?, ?)", [(batch, v) for v in values])


def rows(store: Store) -> list[tuple[int, int]]:
    with store.connect(read_only=True) as con:
        return con.execute("SELECT batch, n FROM batch_rows ORDER BY batch, n").fetchall()


def test_batches_wait_for_the_interval_and_share_one_open(store: Store) -> None:
    with BufferedWrites(store, insert, interval_s=3600) as writes:
        for batch in range(5):
            writes.add(store, batch, [batch * 10, batch * 10 + 1])
        assert writes.n_flushes == 0 and rows(store) == []  # nothing written yet
    assert writes.n_flushes == 1  # five batches, one held open
    assert rows(store) == [(b, b * 10 + k) for b in range(5) for k in (0, 1)]


def test_a_zero_interval_writes_every_batch(store: Store) -> None:
    with BufferedWrites(store, insert, interval_s=0) as writes:
        writes.add(store, 1, [1])
        assert rows(store) == [(1, 1)]
        writes.add(store, 2, [2])
    assert writes.n_flushes == 2 and rows(store) == [(1, 1), (2, 2)]


def test_finished_batches_are_kept_when_a_later_one_fails(store: Store) -> None:
    with pytest.raises(RuntimeError, match="model failed"), BufferedWrites(store, insert, interval_s=3600) as writes:
        writes.add(store, 1, [7, 8])
        raise RuntimeError("model failed on batch 2")
    assert rows(store) == [(1, 7), (1, 8)]

"""The Labeling page's view module shows the same-event task type (AppTest of the cards alone,
so it does not depend on the page script's name; tests/test_dashboard_labeling.py runs the page)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.store import Store
from dashboard import labeling_view as view
from labeling.queue import queue_frame


@pytest.fixture(autouse=True)
def restore_main_module() -> Iterator[None]:
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def _cards(db: str, cache: str) -> None:
    from pathlib import Path

    from curation.store import Store
    from dashboard import labeling_view as view

    with Store(db).connect(read_only=True) as con:
        state = view.read_state(con)
    view.queue_cards(state.queue, state, Path(cache), 256)


def test_same_event_pairs_show_both_photos_and_count_as_predictions(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.duckdb")
    with store.connect() as con:
        con.execute("INSERT INTO libraries (library_id, root, name) VALUES (1, '/lib', 'lib')")
        for pid in (1, 2):
            con.execute(
                "INSERT INTO photos (photo_id, library_id, rel_path, status, sha256) VALUES (?, 1, ?, 'ok', ?)",
                [pid, f"IMG_{pid}.jpg", f"{pid:064x}"],
            )
        con.execute(
            "INSERT INTO event_boundaries VALUES (1, 1, 2, 4000, 'time', 0.1, true, false, "
            "'photos at 06 May 2023 10:00 and 11:06: 1 h 06 min between them', 'events-segmenter@1')"
        )
    from labeling.queue import mine

    assert mine(store, task_types=["same_event"]).queued == 1
    assert queue_frame(store)["ref_photo_id"].tolist() == [2]
    with store.connect(read_only=True) as con:
        state = view.read_state(con)
    assert set(state.photos) == {1, 2} and state.n_predictions == 1
    assert view.TASK_TITLES["same_event"] == "Same event"
    assert len(view.filter_queue(state.queue, ["same_event"], None)) == 1

    at = AppTest.from_function(_cards, args=(str(store.path), str(tmp_path / "cache")), default_timeout=60).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert "before" in captions and "after" in captions
    assert any("photo 1 → 2" in c for c in captions)
    assert any("**Same event**" in m.value for m in at.markdown)

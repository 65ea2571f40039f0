"""Free-text tags on photos (``photo_tags``), and explorer picks kept for labeling.

People tag what they find in the embedding explorer ("blurry", "grandma's garden"); a tag
is trimmed, lower case, with inner spaces collapsed, so "Beach  Day" and "beach day" are one.

:func:`save_selection` is the fallback for "add to labeling queue" when the labeling
package is not installed: the picks wait in ``explorer_selections``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from curation.store import Store

if TYPE_CHECKING:
    import duckdb

MAX_TAG_LENGTH = 40
SELECTION_TASKS = ("themes", "clutter")


class TagError(ValueError):
    """A tag or a selection that cannot be stored; the message says what to change."""


def normalise_tag(text: str) -> str:
    tag = re.sub(r"\s+", " ", text or "").strip().lower()
    if not tag:
        raise TagError("type a tag first (a word or two, e.g. 'blurry' or 'grandma's garden')")
    if len(tag) > MAX_TAG_LENGTH:
        raise TagError(f"a tag has at most {MAX_TAG_LENGTH} characters; this one has {len(tag)}")
    return tag


def _photo_ids(con: duckdb.DuckDBPyConnection, photo_ids: Iterable[int]) -> list[int]:
    ids = sorted({int(p) for p in photo_ids})
    if not ids:
        raise TagError("select photos first: nothing is selected")
    known = {
        r[0]
        for r in con.execute(
            "SELECT photo_id FROM photos WHERE photo_id IN (SELECT unnest(?::BIGINT[]))", [ids]
        ).fetchall()
    }
    missing = [p for p in ids if p not in known]
    if missing:
        raise TagError(f"no such photos: {missing[:10]}{' …' if len(missing) > 10 else ''}")
    return ids


def tag_photos(store: Store, photo_ids: Iterable[int], tag: str, *, source: str = "explorer") -> int:
    """Put ``tag`` on the photos; returns how many did not have it yet."""
    tag = normalise_tag(tag)
    with store.connect() as con:
        ids = _photo_ids(con, photo_ids)
        con.begin()
        before = con.execute("SELECT count(*) FROM photo_tags WHERE tag = ?", [tag]).fetchone()[0]
        con.execute(
            "INSERT INTO photo_tags (photo_id, tag, source) SELECT unnest(?::BIGINT[]), ?, ? ON CONFLICT DO NOTHING",
            [ids, tag, source],
        )
        after = con.execute("SELECT count(*) FROM photo_tags WHERE tag = ?", [tag]).fetchone()[0]
        con.commit()
    return int(after - before)


def untag_photos(store: Store, photo_ids: Iterable[int], tag: str) -> int:
    """Take ``tag`` off the photos; returns how many had it."""
    tag = normalise_tag(tag)
    ids = sorted({int(p) for p in photo_ids})
    with store.connect() as con:
        n = con.execute(
            "SELECT count(*) FROM photo_tags WHERE tag = ? AND photo_id IN (SELECT unnest(?::BIGINT[]))", [tag, ids]
        ).fetchone()[0]
        con.execute("DELETE FROM photo_tags WHERE tag = ? AND photo_id IN (SELECT unnest(?::BIGINT[]))", [tag, ids])
    return int(n)


@dataclass(frozen=True)
class TagCount:
    tag: str
    n_photos: int


def tag_counts(con: duckdb.DuckDBPyConnection, library_id: int) -> list[TagCount]:
    """The tags used in a library, most photos first."""
    rows = con.execute(
        "SELECT t.tag, count(*) AS n FROM photo_tags t JOIN photos p ON p.photo_id = t.photo_id "
        "WHERE p.library_id = ? AND p.status = 'ok' GROUP BY t.tag ORDER BY n DESC, t.tag",
        [library_id],
    ).fetchall()
    return [TagCount(tag, int(n)) for tag, n in rows]


def save_selection(store: Store, photo_ids: Iterable[int], task_type: str, reason: str) -> int:
    """Keep explorer picks for labeling in ``explorer_selections``; returns the rows added."""
    if task_type not in SELECTION_TASKS:
        raise TagError(f"unknown task type {task_type!r}; use one of: {', '.join(SELECTION_TASKS)}")
    if not reason or not reason.strip():
        raise TagError("give a reason: the annotator sees it above the photo")
    with store.connect() as con:
        ids = _photo_ids(con, photo_ids)
        con.begin()
        before = con.execute("SELECT count(*) FROM explorer_selections").fetchone()[0]
        con.execute(
            "INSERT INTO explorer_selections (photo_id, task_type, reason) "
            "SELECT unnest(?::BIGINT[]), ?, ? ON CONFLICT DO NOTHING",
            [ids, task_type, reason.strip()],
        )
        after = con.execute("SELECT count(*) FROM explorer_selections").fetchone()[0]
        con.commit()
    return int(after - before)

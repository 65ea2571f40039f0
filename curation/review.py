"""Memories review: people approve or reject the albums the engine proposes.

A decision is an album, approve or reject, a reason (required to reject), a rubric (story,
photo choice, title: 1-5 each), the reviewer's name and the final title: one of the album's
suggestions, or the reviewer's own text, then flagged as edited. Decisions are history:
``album_reviews`` gets one row per decision and an album's latest row is its status.

Also here: the gallery and album queries of the review page (reads take an open DuckDB
connection, like ``dashboard.queries``), the facts behind the titles in words, the
photobook layout of an album (spreads of two pages) and the export of approved albums.
Plain Python: no Streamlit, no cache.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curation.store import Store, StoreError

if TYPE_CHECKING:
    import duckdb

EXPORT_VERSION = 1
RUBRIC_MIN, RUBRIC_MAX = 1, 5
MAX_TITLE_LENGTH = 120
MAX_REASON_LENGTH = 1000


class ReviewError(ValueError):
    """A decision that cannot be stored as it is; the message says what to change."""


class AlbumNotFoundError(StoreError):
    """The album is not (or no longer) in the database."""


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class ReviewStatus(StrEnum):
    """An album's status: its latest decision, or none yet."""

    UNREVIEWED = "unreviewed"
    APPROVED = "approved"
    REJECTED = "rejected"


class GallerySort(StrEnum):
    SCORE = "score"  # best first, as the albums stage ranks them
    NEWEST = "newest"  # latest photos first
    OLDEST = "oldest"
    RECENTLY_REVIEWED = "recently_reviewed"


_ORDER_BY = {
    GallerySort.SCORE: "a.score DESC, a.album_id",
    GallerySort.NEWEST: "a.end_at DESC NULLS LAST, a.album_id",
    GallerySort.OLDEST: "a.start_at ASC NULLS LAST, a.album_id",
    GallerySort.RECENTLY_REVIEWED: "r.decided_at DESC NULLS LAST, a.score DESC, a.album_id",
}


# ----------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Rubric:
    story: int  # does the album tell a story (beginning, middle, end)?
    photo_choice: int  # are these the photos you would print?
    title: int  # how good were the suggested titles?

    def __post_init__(self) -> None:
        for name in ("story", "photo_choice", "title"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not RUBRIC_MIN <= value <= RUBRIC_MAX:
                raise ReviewError(
                    f"Rubric {name.replace('_', ' ')} must be a whole number from {RUBRIC_MIN} to {RUBRIC_MAX}, "
                    f"got {value!r}."
                )


@dataclass(frozen=True)
class ReviewSubmission:
    """What a reviewer decided about one album, before it is checked and stored."""

    album_id: str
    decision: Decision
    reviewer: str
    title: str  # a suggestion, or the reviewer's own text (then stored as edited)
    rubric: Rubric
    reason: str = ""


@dataclass(frozen=True)
class Review:
    """One stored decision (a row of ``album_reviews``)."""

    review_id: int
    library_id: int
    album_id: str
    decision: Decision
    reason: str | None
    rubric: Rubric
    reviewer: str
    title: str
    title_edited: bool
    suggestion_rank: int | None  # 1-based; None when the title was edited
    generated_title: str
    decided_at: datetime


@dataclass(frozen=True)
class TitleChoice:
    title: str
    edited: bool
    suggestion_rank: int | None  # 1-based position among the suggestions


def choose_title(text: str, suggestions: Sequence[str]) -> TitleChoice:
    """The final title: a suggestion as it is, or anything else flagged as edited.

    Whitespace around the text and runs of spaces inside it do not make an edit.
    """
    title = " ".join(text.split())
    if not title:
        raise ReviewError("The title is empty: pick one of the suggestions or write one.")
    if len(title) > MAX_TITLE_LENGTH:
        raise ReviewError(f"The title has {len(title)} characters; a cover fits {MAX_TITLE_LENGTH} at most.")
    for rank, suggestion in enumerate(suggestions, start=1):
        if title == " ".join(suggestion.split()):
            return TitleChoice(suggestion, False, rank)
    return TitleChoice(title, True, None)


def validate_submission(submission: ReviewSubmission, suggestions: Sequence[str]) -> tuple[TitleChoice, str, str]:
    """The title choice, the reviewer and the reason, cleaned; ReviewError when one is wrong."""
    try:
        Decision(submission.decision)
    except ValueError:
        valid = ", ".join(d.value for d in Decision)
        raise ReviewError(f"Unknown decision {submission.decision!r}; use one of: {valid}.") from None
    if not isinstance(submission.rubric, Rubric):
        raise ReviewError("A decision needs a rubric: story, photo choice and title, 1 to 5 each.")
    reviewer = " ".join(submission.reviewer.split())
    if not reviewer:
        raise ReviewError("Who is reviewing? Enter your name, so others know whom to ask.")
    reason = submission.reason.strip()
    if submission.decision == Decision.REJECTED and not reason:
        raise ReviewError("Say why you reject the album: the reason is what the next version learns from.")
    if len(reason) > MAX_REASON_LENGTH:
        raise ReviewError(f"The reason has {len(reason)} characters; keep it under {MAX_REASON_LENGTH}.")
    return choose_title(submission.title, suggestions), reviewer, reason


def record_review(store: Store, submission: ReviewSubmission, *, now: datetime | None = None) -> Review:
    """Check a decision against the album and store it as a new row (the history is kept)."""
    with store.connect() as con:
        row = con.execute(
            "SELECT library_id, title, title_suggestions FROM albums WHERE album_id = ?", [submission.album_id]
        ).fetchall()
        if not row:
            raise AlbumNotFoundError(
                f"Album {submission.album_id!r} is not in {store.path}: the albums stage may have run again "
                "and dropped it. Reload the gallery."
            )
        library_id, generated_title, suggestions = row[0]
        choice, reviewer, reason = validate_submission(submission, list(suggestions or []))
        decided_at = now or datetime.now()
        rubric = submission.rubric
        (review_id,) = con.execute(
            """
            INSERT INTO album_reviews (library_id, album_id, decision, reason, story, photo_choice, title_score,
                                       reviewer, title, title_edited, suggestion_rank, generated_title, decided_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING review_id
            """,
            [
                library_id, submission.album_id, Decision(submission.decision).value, reason or None,
                rubric.story, rubric.photo_choice, rubric.title, reviewer, choice.title, choice.edited,
                choice.suggestion_rank, generated_title, decided_at,
            ],
        ).fetchone()  # fmt: skip
    return Review(
        review_id=int(review_id),
        library_id=int(library_id),
        album_id=submission.album_id,
        decision=Decision(submission.decision),
        reason=reason or None,
        rubric=rubric,
        reviewer=reviewer,
        title=choice.title,
        title_edited=choice.edited,
        suggestion_rank=choice.suggestion_rank,
        generated_title=generated_title,
        decided_at=decided_at,
    )


# ----------------------------------------------------------------------------- reading


def _tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    return frozenset(r[0] for r in rows)


def _has_albums(con: duckdb.DuckDBPyConnection) -> bool:
    return {"albums", "album_photos", "photos"} <= _tables(con)


# The latest decision of each album; an empty relation of the same shape on a database made
# before the review table existed (a read-only connection applies no schema).
_LATEST = """
    SELECT * FROM album_reviews
    QUALIFY row_number() OVER (PARTITION BY album_id ORDER BY decided_at DESC, review_id DESC) = 1
"""
_NO_REVIEWS = """
    SELECT NULL::BIGINT AS review_id, NULL::INTEGER AS library_id, NULL::VARCHAR AS album_id,
           NULL::VARCHAR AS decision, NULL::VARCHAR AS reason, NULL::TINYINT AS story,
           NULL::TINYINT AS photo_choice, NULL::TINYINT AS title_score, NULL::VARCHAR AS reviewer,
           NULL::VARCHAR AS title, NULL::BOOLEAN AS title_edited, NULL::INTEGER AS suggestion_rank,
           NULL::VARCHAR AS generated_title, NULL::TIMESTAMP AS decided_at
    WHERE false
"""
_REVIEW_COLUMNS = (
    "review_id, library_id, album_id, decision, reason, story, photo_choice, title_score, reviewer, "
    "title, title_edited, suggestion_rank, generated_title, decided_at"
)


def _latest_sql(con: duckdb.DuckDBPyConnection) -> str:
    return _LATEST if "album_reviews" in _tables(con) else _NO_REVIEWS


def _review(row: Sequence[Any]) -> Review:
    (review_id, library_id, album_id, decision, reason, story, photo_choice, title_score, reviewer,
     title, title_edited, rank, generated_title, decided_at) = row  # fmt: skip
    return Review(
        review_id=int(review_id),
        library_id=int(library_id),
        album_id=album_id,
        decision=Decision(decision),
        reason=reason,
        rubric=Rubric(int(story), int(photo_choice), int(title_score)),
        reviewer=reviewer,
        title=title,
        title_edited=bool(title_edited),
        suggestion_rank=None if rank is None else int(rank),
        generated_title=generated_title,
        decided_at=decided_at,
    )


@dataclass(frozen=True)
class AlbumLibrary:
    library_id: int
    name: str
    root: str
    n_albums: int


def libraries_with_albums(con: duckdb.DuckDBPyConnection) -> list[AlbumLibrary]:
    """Libraries that have albums, the most recently run first."""
    if not _has_albums(con) or "libraries" not in _tables(con):
        return []
    rows = con.execute(
        """
        SELECT l.library_id, l.name, l.root, count(a.album_id),
               (SELECT max(started_at) FROM runs r WHERE r.library_id = l.library_id) AS last_run
        FROM libraries l JOIN albums a USING (library_id)
        GROUP BY l.library_id, l.name, l.root
        ORDER BY last_run DESC NULLS LAST, l.library_id DESC
        """
    ).fetchall()
    return [AlbumLibrary(int(i), name, root, int(n)) for i, name, root, n, _ in rows]


@dataclass(frozen=True)
class GalleryFilter:
    kinds: frozenset[str] = frozenset()  # empty: every kind
    statuses: frozenset[ReviewStatus] = frozenset()  # empty: every status
    reviewers: frozenset[str] = frozenset()  # who made the latest decision; empty: anyone
    min_score: float = 0.0
    max_score: float = 1.0
    sort: GallerySort = GallerySort.SCORE


@dataclass(frozen=True)
class AlbumCard:
    """An album as the gallery shows it."""

    album_id: str
    library_id: int
    kind: str
    generated_title: str
    caption: str
    score: float
    start_at: datetime | None
    end_at: datetime | None
    place_name: str | None
    n_photos: int
    cover_photo_id: int
    cover_sha256: str | None  # None when the cover photo is gone from the library
    status: ReviewStatus
    latest: Review | None = None

    @property
    def title(self) -> str:
        """The reviewed title when there is a decision, else the generated one."""
        return self.latest.title if self.latest is not None else self.generated_title


_CARD_SELECT = """
    SELECT a.album_id, a.library_id, a.kind, a.title, a.caption, a.score, a.start_at, a.end_at, a.place_name,
           (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.album_id) AS n_photos,
           a.cover_photo_id, c.sha256,
           {review_columns}
    FROM albums a
    LEFT JOIN photos c ON c.photo_id = a.cover_photo_id
    LEFT JOIN ({latest}) r ON r.album_id = a.album_id
"""


def _card_sql(con: duckdb.DuckDBPyConnection) -> str:
    columns = ", ".join(f"r.{c.strip()} AS r_{c.strip()}" for c in _REVIEW_COLUMNS.split(","))
    return _CARD_SELECT.format(review_columns=columns, latest=_latest_sql(con))


def _card(row: Sequence[Any]) -> AlbumCard:
    (album_id, library_id, kind, title, caption, score, start_at, end_at, place, n_photos, cover_id, cover_sha,
     *review) = row  # fmt: skip
    latest = _review(review) if review[0] is not None else None
    return AlbumCard(
        album_id=album_id,
        library_id=int(library_id),
        kind=kind,
        generated_title=title,
        caption=caption,
        score=float(score),
        start_at=start_at,
        end_at=end_at,
        place_name=place,
        n_photos=int(n_photos),
        cover_photo_id=int(cover_id),
        cover_sha256=cover_sha,
        status=ReviewStatus(latest.decision.value) if latest else ReviewStatus.UNREVIEWED,
        latest=latest,
    )


def list_albums(
    con: duckdb.DuckDBPyConnection, library_id: int, filters: GalleryFilter = GalleryFilter()
) -> list[AlbumCard]:
    """The library's albums that pass the filters, in the filter's order."""
    if not _has_albums(con):
        return []
    where, params = ["a.library_id = ?", "a.score BETWEEN ? AND ?"], [library_id, filters.min_score, filters.max_score]
    if filters.kinds:
        where.append(f"a.kind IN ({', '.join('?' * len(filters.kinds))})")
        params += sorted(filters.kinds)
    if filters.statuses:
        states = []
        if ReviewStatus.UNREVIEWED in filters.statuses:
            states.append("r.decision IS NULL")
        decided = sorted(s.value for s in filters.statuses if s is not ReviewStatus.UNREVIEWED)
        if decided:
            states.append(f"r.decision IN ({', '.join('?' * len(decided))})")
            params += decided
        where.append(f"({' OR '.join(states)})")
    if filters.reviewers:
        where.append(f"r.reviewer IN ({', '.join('?' * len(filters.reviewers))})")
        params += sorted(filters.reviewers)
    sql = f"{_card_sql(con)} WHERE {' AND '.join(where)} ORDER BY {_ORDER_BY[GallerySort(filters.sort)]}"
    return [_card(row) for row in con.execute(sql, params).fetchall()]


@dataclass(frozen=True)
class GalleryStats:
    n_albums: int
    n_approved: int
    n_rejected: int
    kinds: tuple[str, ...]  # kinds present, for the filter
    reviewers: tuple[str, ...]  # everyone who decided something in this library

    @property
    def n_unreviewed(self) -> int:
        return self.n_albums - self.n_approved - self.n_rejected


def gallery_stats(con: duckdb.DuckDBPyConnection, library_id: int) -> GalleryStats:
    if not _has_albums(con):
        return GalleryStats(0, 0, 0, (), ())
    n, approved, rejected = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE r.decision = 'approved'),
               count(*) FILTER (WHERE r.decision = 'rejected')
        FROM albums a LEFT JOIN ({_latest_sql(con)}) r ON r.album_id = a.album_id
        WHERE a.library_id = ?
        """,
        [library_id],
    ).fetchone()
    kinds = [k for (k,) in con.execute(
        "SELECT DISTINCT kind FROM albums WHERE library_id = ? ORDER BY kind", [library_id]
    ).fetchall()]  # fmt: skip
    reviewers: list[str] = []
    if "album_reviews" in _tables(con):
        reviewers = [r for (r,) in con.execute(
            "SELECT DISTINCT reviewer FROM album_reviews WHERE library_id = ? ORDER BY reviewer", [library_id]
        ).fetchall()]  # fmt: skip
    return GalleryStats(int(n), int(approved), int(rejected), tuple(kinds), tuple(reviewers))


@dataclass(frozen=True)
class AlbumPhotoView:
    photo_id: int
    position: int
    reason: str
    rel_path: str | None  # None when the photo is gone from the library
    sha256: str | None
    taken_at: datetime | None
    width: int | None
    height: int | None

    @property
    def aspect(self) -> float:
        """Width / height after EXIF orientation; 4:3 when unknown."""
        if self.width and self.height:
            return self.width / self.height
        return 4 / 3


@dataclass(frozen=True)
class TitleSuggestionView:
    text: str
    rank: int  # 1-based
    facts_used: Mapping[str, Any] = field(default_factory=dict)
    template: str = ""


@dataclass(frozen=True)
class AlbumDetail:
    card: AlbumCard
    suggestions: tuple[TitleSuggestionView, ...]
    caption_facts_used: Mapping[str, Any]
    facts: Mapping[str, Any]
    title_trace: Mapping[str, Any]
    rule: str | None
    cover_reason: str | None
    n_eligible: int | None
    generator: str
    fallback_reason: str | None
    language: str
    photos: tuple[AlbumPhotoView, ...]
    history: tuple[Review, ...]  # newest first

    @property
    def album_id(self) -> str:
        return self.card.album_id

    @property
    def suggestion_texts(self) -> list[str]:
        return [s.text for s in self.suggestions]

    def facts_used_by(self, title: str) -> Mapping[str, Any] | None:
        """The facts a suggestion used; None for a title that is not a suggestion."""
        return next((s.facts_used for s in self.suggestions if s.text == title), None)

    @property
    def cover(self) -> AlbumPhotoView | None:
        return next((p for p in self.photos if p.photo_id == self.card.cover_photo_id), None)


def _json(value: Any) -> dict[str, Any]:  # noqa: ANN401 - DuckDB returns JSON as text
    if value is None:
        return {}
    data = json.loads(value) if isinstance(value, str) else value
    return data if isinstance(data, dict) else {}


def _suggestions(titles: Sequence[str], trace: Mapping[str, Any]) -> tuple[TitleSuggestionView, ...]:
    traced = {s.get("text"): s for s in trace.get("suggestions", []) if isinstance(s, Mapping)}
    return tuple(
        TitleSuggestionView(
            text, rank, dict(traced.get(text, {}).get("facts_used") or {}), traced.get(text, {}).get("template", "")
        )
        for rank, text in enumerate(titles, start=1)
    )


def album_detail(con: duckdb.DuckDBPyConnection, album_id: str) -> AlbumDetail:
    """One album with its photos in order, the facts and trace behind its titles, and its reviews."""
    if not _has_albums(con):
        raise AlbumNotFoundError("This database has no albums yet: run the albums stage first.")
    rows = con.execute(f"{_card_sql(con)} WHERE a.album_id = ?", [album_id]).fetchall()
    if not rows:
        raise AlbumNotFoundError(
            f"Album {album_id!r} is not in the database: the albums stage may have run again and dropped it."
        )
    card = _card(rows[0])
    (suggestions, facts, trace, rule, cover_reason, n_eligible, generator, fallback, language) = con.execute(
        "SELECT title_suggestions, facts, title_trace, rule, cover_reason, n_eligible, generator, fallback_reason, "
        "language FROM albums WHERE album_id = ?",
        [album_id],
    ).fetchone()
    trace = _json(trace)
    photos = tuple(
        AlbumPhotoView(int(pid), int(pos), reason, path, sha, taken, w, h)
        for pid, pos, reason, path, sha, taken, w, h in con.execute(
            """
            SELECT ap.photo_id, ap.position, ap.reason, p.rel_path, p.sha256, p.taken_at, p.width, p.height
            FROM album_photos ap LEFT JOIN photos p ON p.photo_id = ap.photo_id AND p.status = 'ok'
            WHERE ap.album_id = ? ORDER BY ap.position, ap.photo_id
            """,
            [album_id],
        ).fetchall()
    )
    return AlbumDetail(
        card=card,
        suggestions=_suggestions(list(suggestions or [card.generated_title]), trace),
        caption_facts_used=dict((trace.get("caption") or {}).get("facts_used") or {}),
        facts=_json(facts),
        title_trace=trace,
        rule=rule,
        cover_reason=cover_reason,
        n_eligible=None if n_eligible is None else int(n_eligible),
        generator=generator,
        fallback_reason=fallback,
        language=language,
        photos=photos,
        history=tuple(review_history(con, album_id)),
    )


def review_history(con: duckdb.DuckDBPyConnection, album_id: str) -> list[Review]:
    """Every decision about an album, newest first."""
    if "album_reviews" not in _tables(con):
        return []
    rows = con.execute(
        f"SELECT {_REVIEW_COLUMNS} FROM album_reviews WHERE album_id = ? ORDER BY decided_at DESC, review_id DESC",
        [album_id],
    ).fetchall()
    return [_review(r) for r in rows]


# ----------------------------------------------------------------------------- export


def approved_document(con: duckdb.DuckDBPyConnection, library_id: int, *, now: datetime | None = None) -> dict:
    """The approved albums of a library with their final titles, best score first (JSON-ready)."""
    library = con.execute("SELECT name, root FROM libraries WHERE library_id = ?", [library_id]).fetchall()
    if not library:
        raise StoreError(f"No library {library_id} in this database. Run `curation run LIBRARY` first.")
    name, root = library[0]
    albums = []
    for card in list_albums(con, library_id, GalleryFilter(statuses=frozenset({ReviewStatus.APPROVED}))):
        detail = album_detail(con, card.album_id)
        review = card.latest
        assert review is not None  # approved albums have a decision
        cover = detail.cover
        albums.append(
            {
                "id": card.album_id,
                "kind": card.kind,
                "title": review.title,
                "title_edited": review.title_edited,
                "generated_title": card.generated_title,
                "title_suggestions": detail.suggestion_texts,
                "caption": card.caption,
                "cover": {"id": card.cover_photo_id, "path": cover.rel_path if cover else None},
                "photos": [{"id": p.photo_id, "path": p.rel_path, "position": p.position, "reason": p.reason}
                           for p in detail.photos],  # fmt: skip
                "score": card.score,
                "start": card.start_at.isoformat() if card.start_at else None,
                "end": card.end_at.isoformat() if card.end_at else None,
                "place": card.place_name,
                "language": detail.language,
                "facts": dict(detail.facts),
                "review": {
                    "reviewer": review.reviewer,
                    "decided_at": review.decided_at.isoformat(),
                    "reason": review.reason,
                    "rubric": {"story": review.rubric.story, "photo_choice": review.rubric.photo_choice,
                               "title": review.rubric.title},  # fmt: skip
                },
            }
        )
    return {
        "export_version": EXPORT_VERSION,
        "exported_at": (now or datetime.now()).isoformat(timespec="seconds"),
        "library": {"id": library_id, "name": name, "root": root},
        "albums": albums,
    }


def export_approved(store: Store, library_id: int, out_path: Path | str, *, now: datetime | None = None) -> dict:
    """Write the approved albums of a library, with their final titles, as JSON; returns the document."""
    with store.connect(read_only=True) as con:
        document = approved_document(con, library_id, now=now)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out)  # never a half-written file
    return document


# ----------------------------------------------------------------------------- facts in words


@dataclass(frozen=True)
class FactLine:
    topic: str  # dates | years | on_this_day | season | holiday | place | highlights | people | theme | size
    label: str
    value: str
    keys: frozenset[str]  # the fact names it shows (as facts_used names them)

    def used_by(self, facts_used: Mapping[str, Any] | None) -> bool:
        return bool(facts_used) and not self.keys.isdisjoint(facts_used)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def _day(d: date, *, year: bool = True, month: bool = True) -> str:
    text = str(d.day)
    if month:
        text += f" {_MONTHS[d.month - 1][:3]}"
    return f"{text} {d.year}" if year else text


def date_range(start: date | None, end: date | None) -> str:
    """'14 Jul 2021', '15–28 Aug 2022', '30 Jun – 5 Jul 2023', '28 Jan 2021 – 31 Dec 2023'."""
    if start is None and end is None:
        return "dates unknown"
    start = start or end
    end = end or start
    if start == end:
        return _day(start)
    if start.year != end.year:
        return f"{_day(start)} – {_day(end)}"
    if start.month != end.month:
        return f"{_day(start, year=False)} – {_day(end)}"
    return f"{start.day}–{_day(end)}"


def _as_date(value: Any) -> date | None:  # noqa: ANN401 - from JSON
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _names(names: Iterable[Any]) -> str:
    """'Anna', 'Anna and Ben', 'Anna, Ben and Carla'."""
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def _place(place: Any) -> str:  # noqa: ANN401 - a place dict from JSON, or a bare name
    if isinstance(place, Mapping):
        return str(place.get("name", ""))
    return str(place)


def theme_title(theme: str) -> str:
    from curation.vision.themes import THEME_TITLES, Theme

    try:
        return THEME_TITLES[Theme(theme)]
    except (ValueError, KeyError):
        return theme.replace("_", " ").capitalize()


def describe_facts(facts: Mapping[str, Any]) -> list[FactLine]:
    """The facts of an album as short lines a person reads (places, dates, season, holiday, ...)."""
    lines: list[FactLine] = []
    years = [int(y) for y in facts.get("years", [])]
    start, end = _as_date(facts.get("start")), _as_date(facts.get("end"))
    if start or end:
        extra = []
        if facts.get("n_days", 0) > 1:
            extra.append(_plural(int(facts["n_days"]), "day"))
        if facts.get("nights"):
            extra.append(_plural(int(facts["nights"]), "night"))
        keys = {"start", "end", "n_days", "nights"} | ({"year", "years"} if len(years) <= 1 else set())
        value = " · ".join([date_range(start, end), *extra])
        lines.append(FactLine("dates", "Dates", value, frozenset(keys)))
    if len(years) > 1:
        consecutive = years == list(range(years[0], years[-1] + 1))
        value = f"{years[0]}–{years[-1]}" if consecutive else ", ".join(map(str, years))
        lines.append(FactLine("years", "Years", value, frozenset({"years", "year"})))
    if facts.get("day_month"):
        month, day = facts["day_month"]
        ago = facts.get("years_ago") or []
        value = f"{day} {_MONTHS[int(month) - 1]}"
        if ago:
            value += " · " + ", ".join(str(a) for a in ago) + (" year ago" if list(ago) == [1] else " years ago")
        lines.append(FactLine("on_this_day", "On this day", value, frozenset({"day_month", "years_ago"})))
    if facts.get("season"):
        lines.append(FactLine("season", "Season", str(facts["season"]).capitalize(), frozenset({"season"})))
    if facts.get("holiday"):
        lines.append(FactLine("holiday", "Holiday", str(facts["holiday"]), frozenset({"holiday"})))
    place, countries = facts.get("place"), facts.get("countries") or []
    if place or countries:
        level = place.get("level") if isinstance(place, Mapping) else None
        if countries and (not place or level == "countries"):  # a trip across countries: name them all
            value = _names(_place(c) for c in countries)
        else:
            value = _place(place) + (f" ({level})" if level else "")
        if facts.get("at_home"):
            value += " · home town"
        lines.append(FactLine("place", "Place", value, frozenset({"place", "countries", "at_home"})))
    if facts.get("highlights"):
        value = _names(_place(p) for p in facts["highlights"])
        lines.append(FactLine("highlights", "Highlights", value, frozenset({"highlights"})))
    subjects, unnamed = list(facts.get("subjects") or []), int(facts.get("unnamed_subjects") or 0)
    if subjects or unnamed:
        value = _names(subjects) + (f" (+{_plural(unnamed, 'unnamed person')})" if unnamed else "")
        lines.append(FactLine("people", "About", value.strip(), frozenset({"subjects", "unnamed_subjects"})))
    if facts.get("people"):
        lines.append(FactLine("people", "People", _names(facts["people"]), frozenset({"people"})))
    if facts.get("theme"):
        lines.append(FactLine("theme", "Theme", theme_title(str(facts["theme"])), frozenset({"theme"})))
    size = []
    if facts.get("n_photos"):
        size.append(_plural(int(facts["n_photos"]), "photo"))
    if facts.get("n_occasions"):
        size.append(f"from {_plural(int(facts['n_occasions']), 'occasion')}")
    if facts.get("n_trips"):
        size.append(_plural(int(facts["n_trips"]), "trip"))
    if size:
        lines.append(FactLine("size", "Size", " · ".join(size), frozenset({"n_photos", "n_occasions", "n_trips"})))
    return lines


def describe_used(facts_used: Mapping[str, Any]) -> list[str]:
    """What a title or caption took from the facts, in words: ['place Seville', '14 days', ...]."""
    out = []
    for key, value in facts_used.items():
        if key in ("place", "countries", "highlights"):
            values = value if isinstance(value, list) else [value]
            out.append(f"{key.rstrip('s') if key != 'countries' else 'countries'} {_names(_place(v) for v in values)}")
        elif key in ("people", "subjects"):
            names = _names(value if isinstance(value, list) else [value])
            out.append(f"{'about' if key == 'subjects' else 'with'} {names}")
        elif key in ("start", "end") and _as_date(value):
            out.append(f"{'from' if key == 'start' else 'to'} {_day(_as_date(value))}")
        elif key in ("n_days", "nights", "n_photos", "n_occasions", "n_trips") and isinstance(value, int | float):
            word = {"n_days": "day", "nights": "night", "n_photos": "photo", "n_occasions": "occasion",
                    "n_trips": "trip"}[key]  # fmt: skip
            out.append(_plural(int(value), word))
        elif key == "years" and isinstance(value, list) and value:
            out.append(f"years {value[0]}–{value[-1]}" if len(set(value)) > 1 else f"year {value[0]}")
        elif key == "theme":
            out.append(f"theme {theme_title(str(value))}")
        elif key == "day_month" and isinstance(value, list) and len(value) == 2:
            out.append(f"day {value[1]} {_MONTHS[int(value[0]) - 1]}")
        elif key == "years_ago" and isinstance(value, list):
            out.append(", ".join(map(str, value)) + " years ago")
        else:
            out.append(f"{key.replace('_', ' ')} {value if not isinstance(value, list) else _names(value)}")
    return out


# ----------------------------------------------------------------------------- photobook layout


@dataclass(frozen=True)
class Slot:
    """Where one photo goes on a page: a cell in fractions of the page's inner area."""

    photo: int  # index into the album's photos
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Page:
    slots: tuple[Slot, ...]

    @property
    def photos(self) -> tuple[int, ...]:
        return tuple(s.photo for s in self.slots)


@dataclass(frozen=True)
class Spread:
    """Two facing pages of the inside of the book."""

    number: int  # 1 = the first spread after the cover spread
    left: Page
    right: Page | None  # None: a blank end page


Cell = tuple[float, float, float, float]
# Page templates: cells in the inner area (1 x 1, a square page). Photos are fitted inside
# their cell, never cropped (a reviewer judges the photo as it is); the template that shows
# the most photo area wins.
TEMPLATES: dict[int, tuple[tuple[Cell, ...], ...]] = {
    1: (((0, 0, 1, 1),),),
    2: (
        ((0, 0, 0.5, 1), (0.5, 0, 0.5, 1)),  # side by side
        ((0, 0, 1, 0.5), (0, 0.5, 1, 0.5)),  # one above the other
    ),
    3: (
        ((0, 0, 1, 0.58), (0, 0.58, 0.5, 0.42), (0.5, 0.58, 0.5, 0.42)),  # one large on top, two below
        ((0, 0, 1, 0.42), (0, 0.42, 0.5, 0.58), (0.5, 0.42, 0.5, 0.58)),  # ... two large below
        ((0, 0, 0.5, 1), (0.5, 0, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)),  # one tall on the left
        ((0, 0, 0.5, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0, 0.5, 1)),  # ... on the right
        ((0, 0, 1, 1 / 3), (0, 1 / 3, 1, 1 / 3), (0, 2 / 3, 1, 1 / 3)),  # three panoramas
        ((0, 0, 1 / 3, 1), (1 / 3, 0, 1 / 3, 1), (2 / 3, 0, 1 / 3, 1)),  # three portraits
    ),
    4: (
        ((0, 0, 0.5, 0.5), (0.5, 0, 0.5, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)),  # grid
        ((0, 0, 1, 0.55), (0, 0.55, 1 / 3, 0.45), (1 / 3, 0.55, 1 / 3, 0.45), (2 / 3, 0.55, 1 / 3, 0.45)),
        ((0, 0, 0.6, 1), (0.6, 0, 0.4, 1 / 3), (0.6, 1 / 3, 0.4, 1 / 3), (0.6, 2 / 3, 0.4, 1 / 3)),
    ),
}
MAX_PER_PAGE = max(TEMPLATES)


def _shown_area(aspect: float, cell: Cell) -> float:
    """Area of a photo of this aspect fitted inside the cell."""
    _, _, w, h = cell
    return min(w, h * aspect) * min(h, w / aspect)


def layout_page(aspects: Sequence[float], first: int = 0) -> Page:
    """The template that shows the most of these photos (in their order); ties: the first template."""
    best = max(TEMPLATES[len(aspects)], key=lambda cells: sum(map(_shown_area, aspects, cells)))
    return Page(tuple(Slot(first + i, *cell) for i, cell in enumerate(best)))


def page_sizes(days: Sequence[date | None]) -> list[int]:
    """How many photos on each page, in order: 2-4, three preferred, a new day on a new page
    when that costs little. Dynamic programming over the chronological sequence."""
    n = len(days)
    if n <= 2:
        return [n] if n else []
    inf = math.inf
    cost = [0.0] + [inf] * n
    choice = [0] * (n + 1)
    for end in range(1, n + 1):
        for size in range(2, MAX_PER_PAGE + 1):
            start = end - size
            if start < 0 or cost[start] == inf:
                continue
            page = [d for d in days[start:end] if d is not None]
            mixed = len(set(page)) - 1 if page else 0  # days sharing the page
            c = cost[start] + 0.35 * (size - 3) ** 2 + 1.0 * mixed
            if c < cost[end] - 1e-9:
                cost[end], choice[end] = c, size
    sizes, end = [], n
    while end > 0:
        sizes.append(choice[end])
        end -= choice[end]
    return sizes[::-1]


def plan_spreads(photos: Sequence[AlbumPhotoView]) -> list[Spread]:
    """The inside of the photobook: pages of 2-4 photos in chronological order, two facing
    pages per spread (the last right page may stay blank). Spread 0, the cover spread (title
    page and cover photo), is not in the list: it needs no layout."""
    days = [p.taken_at.date() if p.taken_at else None for p in photos]
    pages, start = [], 0
    for size in page_sizes(days):
        pages.append(layout_page([p.aspect for p in photos[start : start + size]], first=start))
        start += size
    return [
        Spread(number, pages[i], pages[i + 1] if i + 1 < len(pages) else None)
        for number, i in enumerate(range(0, len(pages), 2), start=1)
    ]

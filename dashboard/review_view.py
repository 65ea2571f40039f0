"""The Memories review page's parts: gallery, photobook spreads, title and facts, the decision.

Reads go through the run registry's gate and ``st.cache_data`` keyed by the database
version (as ``dashboard.data`` does); the one write, a decision, takes the gate's writer
turn. The album logic itself (queries, checks, layout) is ``curation.review``; this module
draws it. Spreads are composed server-side from the 1024 px thumbnails, so a reviewer sees
the pages as they would print (photos fitted, never cropped) and the browser gets one
image per spread.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import streamlit as st

from curation import review as rv
from curation.ingest.decode import thumbnail_path
from curation.settings import Settings
from curation.store import Store, StoreError
from dashboard import data, ui
from dashboard.runs import RunInProgressError

PAGE_SIZE = 12  # cards per gallery page
CARD_COLUMNS = 4

KIND_LABELS = {
    "trip": ("Trip", ":material/flight:", "blue"),
    "event": ("Event", ":material/celebration:", "orange"),
    "person": ("Person", ":material/person:", "violet"),
    "together": ("Together", ":material/group:", "violet"),
    "theme": ("Theme", ":material/palette:", "green"),
    "year": ("Year in review", ":material/calendar_month:", "primary"),
    "on_this_day": ("On this day", ":material/history:", "gray"),
}
STATUS_LABELS = {
    rv.ReviewStatus.UNREVIEWED: ("To review", ":material/pending:", "gray"),
    rv.ReviewStatus.APPROVED: ("Approved", ":material/check_circle:", "green"),
    rv.ReviewStatus.REJECTED: ("Rejected", ":material/cancel:", "red"),
}
FACT_ICONS = {
    "dates": ":material/event:",
    "years": ":material/date_range:",
    "on_this_day": ":material/history:",
    "season": ":material/wb_sunny:",
    "holiday": ":material/celebration:",
    "place": ":material/location_on:",
    "highlights": ":material/star:",
    "people": ":material/group:",
    "theme": ":material/palette:",
    "size": ":material/photo_library:",
}
RUBRIC = (
    ("story", "Story", "Does it tell a story: a beginning, a middle, an end?"),
    ("photo_choice", "Photo choice", "Are these the photos you would print, in a good order?"),
    ("title", "Title suggestions", "How good were the suggested titles (before your edit)?"),
)
RUBRIC_SCALE = {1: "1 · poor", 2: "2", 3: "3 · fine", 4: "4", 5: "5 · great"}
EDIT = "__edit__"  # the title radio's "write my own" option

# Widget keys, stable for the tests.
K_ALBUM = "review_album"  # the album open in the detail view (None: the gallery)
K_LOADED = "review_loaded_album"  # the album the form's widgets were filled for
K_REVIEWER_MEMORY = "review_reviewer_memory"  # the reviewer's name, kept across albums
K_FLASH = "review_flash"  # the message after a decision, shown once on the next run
K_TITLE = "review_title_choice"
K_TITLE_EDIT = "review_title_edit"
K_REASON = "review_reason"
K_REVIEWER = "review_reviewer"
K_RUBRIC = {name: f"review_rubric_{name}" for name, _, _ in RUBRIC}


SHORT_KIND_LABELS = {"year": "Year"}  # cards are narrow


def kind_badge(kind: str, *, short: bool = False) -> str:
    label, icon, color = KIND_LABELS.get(kind, (kind.replace("_", " ").capitalize(), ":material/photo_album:", "gray"))
    if short:
        label = SHORT_KIND_LABELS.get(kind, label)
    return f":{color}-badge[{icon} {label}]"


def status_badge(status: rv.ReviewStatus) -> str:
    label, icon, color = STATUS_LABELS[status]
    return f":{color}-badge[{icon} {label}]"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, (kind.replace("_", " ").capitalize(),))[0]


# ----------------------------------------------------------------------------- cached reads


def _reader(db: str):  # noqa: ANN202 - a context manager yielding a DuckDB connection
    return data.run_registry().gate(Path(db)).reader(data.READ_BUSY_TIMEOUT_S)


@st.cache_data(show_spinner=False, max_entries=32)
def _libraries(db: str, version: data.DbVersion) -> list[rv.AlbumLibrary]:
    with _reader(db) as con:
        return rv.libraries_with_albums(con)


@st.cache_data(show_spinner=False, max_entries=64)
def _stats(db: str, version: data.DbVersion, library_id: int) -> rv.GalleryStats:
    with _reader(db) as con:
        return rv.gallery_stats(con, library_id)


@st.cache_data(show_spinner=False, max_entries=128)
def _albums(db: str, version: data.DbVersion, library_id: int, filters: rv.GalleryFilter) -> list[rv.AlbumCard]:
    with _reader(db) as con:
        return rv.list_albums(con, library_id, filters)


@st.cache_data(show_spinner=False, max_entries=64)
def _detail(db: str, version: data.DbVersion, album_id: str) -> rv.AlbumDetail:
    with _reader(db) as con:
        return rv.album_detail(con, album_id)


@st.cache_data(show_spinner=False, max_entries=16)
def _approved_json(db: str, version: data.DbVersion, library_id: int) -> bytes:
    with _reader(db) as con:
        document = rv.approved_document(con, library_id)
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _clear_reads() -> None:
    """After a decision: the file version changes too, but not always within the mtime tick."""
    for fn in (_libraries, _stats, _albums, _detail, _approved_json):
        fn.clear()


def libraries(db: Path) -> list[rv.AlbumLibrary]:
    return _libraries(str(db), data.db_version(db)) if db.exists() else []


def stats(db: Path, library_id: int) -> rv.GalleryStats:
    return _stats(str(db), data.db_version(db), library_id)


def albums(db: Path, library_id: int, filters: rv.GalleryFilter) -> list[rv.AlbumCard]:
    return _albums(str(db), data.db_version(db), library_id, filters)


def detail(db: Path, album_id: str) -> rv.AlbumDetail:
    return _detail(str(db), data.db_version(db), album_id)


def approved_json(db: Path, library_id: int) -> bytes:
    return _approved_json(str(db), data.db_version(db), library_id)


def save_review(db: Path, submission: rv.ReviewSubmission) -> rv.Review:
    """Store a decision, taking the dashboard's writer turn on the database."""
    store = Store(db, busy_timeout_s=data.READ_BUSY_TIMEOUT_S)
    try:
        with data.run_registry().gate(db).writer():
            review = rv.record_review(store, submission)
    except RunInProgressError:
        # A curation run of this dashboard is writing: DuckDB shares one read-write
        # configuration inside a process, so the decision goes in beside it.
        review = rv.record_review(store, submission)
    _clear_reads()
    return review


# ----------------------------------------------------------------------------- empty state


def _albums_commands() -> str:
    from curation.pipeline.runner import ALL_STAGES

    run = ".venv/bin/curation demo-library {demo}\n.venv/bin/curation run {demo} --db {database}"
    if "albums" in {s.value for s in ALL_STAGES}:
        return run
    # Until `curation run` has an albums stage: run it by hand on the first library of the database.
    return (
        f"{run}\n.venv/bin/python -c \"from curation.settings import Settings; from curation.store import Store; "
        "from curation.pipeline.albums_stage import run_albums_stage; s = Settings(db_path='{database}'); "
        "print(run_albums_stage(Store(s.database), s, library_id=1))\""
    )


def empty_spec() -> ui.EmptyPage:
    return ui.EmptyPage(
        title="Memories review",
        icon=":material/auto_stories:",
        pitch="The Memories albums the engine proposes, as photobook spreads: check them, then approve or reject.",
        features=(
            "A gallery of albums: cover, title, kind, dates, place, size, score and review status",
            "Each album as photobook spreads, every photo with the reason it was picked",
            "Pick one of the suggested titles or write your own, with the facts behind each",
            "Approve or reject with a reason and a 1-5 rubric; export the approved albums as JSON",
        ),
        filled_by="the albums stage",
        needs=(
            ui.Need(ui.NeedKind.PHOTOS, "Photos ingested", stage="ingest"),
            ui.Need(ui.NeedKind.TABLE, "Events", table="events", stage="events"),
            ui.Need(ui.NeedKind.TABLE, "Albums", table="albums", stage="albums"),
        ),
        now=(
            "Albums come from the **albums stage**, after ingest, faces, vision and events: "
            "run curation on a library (the demo library works offline).",
            "Then come back here: the gallery opens on the library run last.",
        ),
        snippet=_albums_commands(),
    )


def empty_state(settings: Settings) -> None:
    summary = data.database_summary(settings.database)
    ui.empty_page(empty_spec(), summary, settings)


# ----------------------------------------------------------------------------- gallery


def card_dates(card: rv.AlbumCard) -> str:
    start = card.start_at.date() if card.start_at else None
    end = card.end_at.date() if card.end_at else None
    return rv.date_range(start, end)


def library_picker(found: Sequence[rv.AlbumLibrary]) -> rv.AlbumLibrary:
    if len(found) == 1:
        return found[0]
    by_id = {lib.library_id: lib for lib in found}
    chosen = st.selectbox(
        "Library",
        list(by_id),
        format_func=lambda i: f"{by_id[i].name} · {by_id[i].n_albums} albums",
        key="review_library",
        help="Libraries with albums, the one run last first.",
    )
    return by_id[chosen]


def gallery_filters(stats: rv.GalleryStats) -> rv.GalleryFilter:
    with st.container(border=True):
        kind_col, status_col = st.columns([3, 2], vertical_alignment="bottom")
        kinds = kind_col.pills(
            "Kind",
            list(stats.kinds),
            selection_mode="multi",
            format_func=kind_label,
            key="review_kinds",
            help="None selected: every kind.",
        )
        statuses = status_col.segmented_control(
            "Status",
            list(rv.ReviewStatus),
            selection_mode="multi",
            format_func=lambda s: STATUS_LABELS[s][0],
            key="review_statuses",
            help="None selected: every album.",
        )
        reviewer_col, score_col, sort_col = st.columns([2, 2, 1], vertical_alignment="bottom")
        reviewers = reviewer_col.multiselect(
            "Decided by",
            list(stats.reviewers),
            key="review_reviewers",
            placeholder="Anyone" if stats.reviewers else "Nobody has reviewed yet",
            help="Albums whose latest decision is by these people.",
        )
        low, high = score_col.slider(
            "Score", 0.0, 1.0, (0.0, 1.0), step=0.05, key="review_score", help="The albums stage's ranking, 0 to 1."
        )
        sort = sort_col.selectbox(
            "Order",
            list(rv.GallerySort),
            format_func=lambda s: {
                rv.GallerySort.SCORE: "Best first",
                rv.GallerySort.NEWEST: "Newest first",
                rv.GallerySort.OLDEST: "Oldest first",
                rv.GallerySort.RECENTLY_REVIEWED: "Recently reviewed",
            }[s],
            key="review_sort",
        )
    return rv.GalleryFilter(
        kinds=frozenset(kinds or ()),
        statuses=frozenset(rv.ReviewStatus(s) for s in statuses or ()),
        reviewers=frozenset(reviewers or ()),
        min_score=float(low),
        max_score=float(high),
        sort=rv.GallerySort(sort),
    )


def gallery_summary(stats: rv.GalleryStats) -> None:
    ui.metric_row(
        [
            ui.Metric("Albums", stats.n_albums, "Albums the albums stage proposed for this library."),
            ui.Metric("To review", stats.n_unreviewed, "No decision yet."),
            ui.Metric("Approved", stats.n_approved, "Latest decision: approve. These go into the export."),
            ui.Metric("Rejected", stats.n_rejected, "Latest decision: reject, with a reason."),
        ]
    )


def export_button(db: Path, library: rv.AlbumLibrary, n_approved: int) -> None:
    st.download_button(
        "Export approved",
        data=approved_json(db, library.library_id) if n_approved else b"",
        file_name=f"approved-albums-{library.name}.json",
        mime="application/json",
        icon=":material/download:",
        key="review_export",
        disabled=not n_approved,
        help="The approved albums with their final titles, photos in order, facts and the review.",
    )


def album_card(card: rv.AlbumCard, settings: Settings) -> None:
    with st.container(border=True):
        tile = None
        if card.cover_sha256:
            small = settings.ingest.thumb_sizes[0]
            tile = data.thumbnail_tile(thumbnail_path(settings.cache, card.cover_sha256, small))
        if tile is None:
            with st.container(height=160, vertical_alignment="center", border=False):
                st.caption(":material/hide_image: cover missing")
        else:
            st.image(tile, width="stretch")
        st.markdown(f"**{ui.md_escape(card.title)}**")
        st.markdown(f"{kind_badge(card.kind, short=True)} {status_badge(card.status)}")
        place = f" · {ui.md_escape(card.place_name)}" if card.place_name else ""
        st.caption(f"{card_dates(card)}{place}  \n{card.n_photos} photos · score {card.score:.2f}")
        if card.latest is not None:
            edited = " · :material/edit: edited" if card.latest.title_edited else ""
            who = ui.md_escape(card.latest.reviewer)
            st.caption(f":material/rate_review: {who}, {ui.format_day(card.latest.decided_at)}{edited}")
        if st.button("Review", key=f"open_{card.album_id}", icon=":material/auto_stories:", width="stretch"):
            open_album(card.album_id)


def open_album(album_id: str | None) -> None:
    st.session_state[K_ALBUM] = album_id
    if album_id is None:
        st.query_params.pop("album", None)
    else:
        st.query_params["album"] = album_id
    st.rerun()


def selected_album() -> str | None:
    """The album open in the detail view: from the session, or from a shared link (?album=)."""
    if K_ALBUM not in st.session_state:
        st.session_state[K_ALBUM] = st.query_params.get("album")
    return st.session_state[K_ALBUM]


def gallery(db: Path, settings: Settings, library: rv.AlbumLibrary) -> None:
    st.session_state.pop(K_LOADED, None)  # the form's widgets are gone: fill them again on open
    summary = stats(db, library.library_id)
    gallery_summary(summary)
    filters = gallery_filters(summary)
    cards = albums(db, library.library_id, filters)
    st.session_state["review_queue"] = [c.album_id for c in cards]  # previous / next in the album view
    head, export = st.columns([3, 1], vertical_alignment="center")
    shown = f"{len(cards)} of {summary.n_albums} albums" if len(cards) != summary.n_albums else f"{len(cards)} albums"
    head.markdown(f"#### :material/photo_album: {shown}")
    with export:
        export_button(db, library, summary.n_approved)
    if not cards:
        st.info("No album matches these filters: clear some of them.", icon=":material/filter_alt_off:")
        return
    pages = (len(cards) + PAGE_SIZE - 1) // PAGE_SIZE
    page = 1
    if pages > 1:
        page = st.segmented_control(
            "Page", list(range(1, pages + 1)), key="review_gallery_page", default=1, label_visibility="collapsed"
        ) or 1
    for start in range((page - 1) * PAGE_SIZE, min(page * PAGE_SIZE, len(cards)), CARD_COLUMNS):
        row = cards[start : start + CARD_COLUMNS]
        for column, card in zip(st.columns(CARD_COLUMNS), row, strict=False):
            with column:
                album_card(card, settings)


# ----------------------------------------------------------------------------- spreads (drawing)

PAGE_PX = 640  # one square page; a spread is twice as wide
MARGIN = 0.06  # of the page, around the photos
GAP_PX = 10
PAPER = (252, 250, 246)
INK = (47, 45, 43)
MUTED = (120, 114, 106)
ACCENT = (181, 84, 44)  # the theme's primary colour


@cache
def _font(bold: bool = False, serif: bool = False, size: int = 16):  # noqa: ANN202 - a PIL font
    from PIL import ImageFont

    name = f"DejaVu{'Serif' if serif else 'Sans'}{'-Bold' if bold else ''}.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:  # fonts missing on this machine: Pillow's own, still scalable
        return ImageFont.load_default(size)


def _blank_spread():  # noqa: ANN202 - a PIL image
    from PIL import Image, ImageDraw

    spread = Image.new("RGB", (2 * PAGE_PX, PAGE_PX), PAPER)
    draw = ImageDraw.Draw(spread)
    for dx in range(-14, 15):  # the gutter's shadow
        shade = int(22 * (1 - abs(dx) / 15) ** 2)
        draw.line([(PAGE_PX + dx, 0), (PAGE_PX + dx, PAGE_PX)], fill=tuple(c - shade for c in PAPER))
    return spread


Box = tuple[int, int, int, int]  # left, top, width, height in pixels


def _paste_photo(spread, box: Box, source: str | None, number: int | None) -> None:  # noqa: ANN001 - a PIL image
    from PIL import Image, ImageDraw, ImageOps

    left, top, width, height = box
    draw = ImageDraw.Draw(spread)
    image = None
    if source is not None:
        try:
            with Image.open(source) as im:
                im.draft("RGB", (width, height))  # JPEG: decode at a smaller scale, much faster
                image = ImageOps.contain(im.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
        except (OSError, ValueError):  # a damaged cache file: show the gap, the ingest rewrites it
            image = None
    if image is None:
        draw.rectangle([left, top, left + width, top + height], fill=(236, 232, 225))
        draw.text((left + width // 2, top + height // 2), "photo missing", fill=MUTED, font=_font(size=14), anchor="mm")
        x, y = left, top
    else:
        x, y = left + (width - image.width) // 2, top + (height - image.height) // 2
        spread.paste(image, (x, y))
        draw.rectangle([x, y, x + image.width - 1, y + image.height - 1], outline=(222, 216, 206))
    if number is not None:
        label = str(number)
        font = _font(bold=True, size=20)
        w = max(32, int(draw.textlength(label, font=font)) + 16)
        draw.rounded_rectangle([x + 8, y + 8, x + 8 + w, y + 40], radius=16, fill=(40, 38, 36))
        draw.text((x + 8 + w / 2, y + 24), label, fill=(255, 255, 255), font=font, anchor="mm")


def _page_boxes(page: rv.Page, offset: int) -> list[tuple[int, tuple[int, int, int, int]]]:
    inner = PAGE_PX * (1 - 2 * MARGIN)
    origin = offset + PAGE_PX * MARGIN
    boxes = []
    for slot in page.slots:
        left = origin + slot.x * inner + (GAP_PX / 2 if slot.x > 0 else 0)
        top = PAGE_PX * MARGIN + slot.y * inner + (GAP_PX / 2 if slot.y > 0 else 0)
        right = origin + (slot.x + slot.w) * inner - (GAP_PX / 2 if slot.x + slot.w < 0.999 else 0)
        bottom = PAGE_PX * MARGIN + (slot.y + slot.h) * inner - (GAP_PX / 2 if slot.y + slot.h < 0.999 else 0)
        boxes.append((slot.photo, (round(left), round(top), round(right - left), round(bottom - top))))
    return boxes


def _jpeg(image) -> bytes:  # noqa: ANN001
    out = io.BytesIO()
    image.save(out, "JPEG", quality=86, optimize=True)
    return out.getvalue()


# Sources: (thumbnail path or None, its mtime) per photo index; the mtime keys the cache.
Sources = tuple[tuple[str | None, int], ...]


@st.cache_data(show_spinner=False, max_entries=256)
def spread_image(spread: rv.Spread, sources: Sources) -> bytes:
    """One inside spread as a JPEG: photos fitted in their cells, numbered in album order."""
    image = _blank_spread()
    for offset, page in ((0, spread.left), (PAGE_PX, spread.right)):
        if page is None:
            continue
        for photo, box in _page_boxes(page, offset):
            _paste_photo(image, box, sources[photo][0], photo + 1)
    return _jpeg(image)


def _wrap(text: str, font, width: int, draw) -> list[str]:  # noqa: ANN001
    lines: list[str] = []
    for word in text.split():
        line = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(line, font=font) <= width:
            lines[-1] = line
        else:
            lines.append(word)
    return lines


@st.cache_data(show_spinner=False, max_entries=128)
def cover_image(title: str, kicker: str, caption: str, cover: tuple[str | None, int]) -> bytes:
    """The cover spread: a title page on the left (as the chosen title would print), the cover photo right."""
    from PIL import ImageDraw

    image = _blank_spread()
    draw = ImageDraw.Draw(image)
    width = int(PAGE_PX * 0.76)
    left = (PAGE_PX - width) // 2
    size = 68
    title_font = _font(bold=True, serif=True, size=size)
    lines = _wrap(title, title_font, width, draw)
    while (len(lines) > 3 or any(draw.textlength(x, font=title_font) > width for x in lines)) and size > 36:
        size -= 6
        title_font = _font(bold=True, serif=True, size=size)
        lines = _wrap(title, title_font, width, draw)
    line_height = int(size * 1.22)
    caption_font = _font(serif=True, size=24)
    caption_lines = _wrap(caption, caption_font, width, draw)[:5]
    block = len(lines) * line_height + 56 + len(caption_lines) * 34
    y = (PAGE_PX - block) // 2
    draw.text((left, y - 48), kicker.upper(), fill=ACCENT, font=_font(bold=True, size=18))
    for line in lines:
        draw.text((left, y), line, fill=INK, font=title_font)
        y += line_height
    draw.line([(left, y + 18), (left + 80, y + 18)], fill=ACCENT, width=4)
    y += 56
    for line in caption_lines:
        draw.text((left, y), line, fill=MUTED, font=caption_font)
        y += 34
    _paste_photo(image, _page_boxes(rv.Page((rv.Slot(0, 0, 0, 1, 1),)), PAGE_PX)[0][1], cover[0], None)
    return _jpeg(image)


def _source(settings: Settings, sha256: str | None) -> tuple[str | None, int]:
    if not sha256:
        return (None, 0)
    path = thumbnail_path(settings.cache, sha256, settings.ingest.thumb_sizes[-1])
    try:
        return (str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return (None, 0)


def _photo_line(number: int, photo: rv.AlbumPhotoView) -> str:
    when = photo.taken_at.strftime("%-d %b %Y, %H:%M") if photo.taken_at else "date unknown"
    return f"**{number}** · {when} — {ui.md_escape(photo.reason)}"


def photobook(album: rv.AlbumDetail, title: str, settings: Settings) -> None:
    """The album as spreads: the cover spread (with the title being chosen), then every photo in order."""
    card = album.card
    kicker = " · ".join(x for x in (kind_label(card.kind), card_dates(card), card.place_name) if x)
    cover = _source(settings, card.cover_sha256)
    st.image(cover_image(title, kicker, card.caption, cover), width="stretch")
    st.caption(
        f":material/photo: Cover: {ui.md_escape(album.cover_reason or 'the album’s best photo')}"
        + ("" if cover[0] else " · cover thumbnail missing")
    )
    sources: Sources = tuple(_source(settings, p.sha256) for p in album.photos)
    spreads = rv.plan_spreads(album.photos)
    for spread in spreads:
        st.image(spread_image(spread, sources), width="stretch")
        left, right = st.columns(2)
        for column, page in ((left, spread.left), (right, spread.right)):
            if page is not None:
                column.caption("  \n".join(_photo_line(i + 1, album.photos[i]) for i in page.photos))
    st.caption(f"{len(album.photos)} photos on {sum(1 + (s.right is not None) for s in spreads)} pages.")


# ----------------------------------------------------------------------------- album view


def _init_form(album: rv.AlbumDetail) -> None:
    """Fill the form for a newly opened album: from its latest decision, else the first suggestion."""
    latest = album.history[0] if album.history else None
    texts = album.suggestion_texts
    if latest is not None and latest.title in texts:
        st.session_state[K_TITLE] = texts.index(latest.title)
        st.session_state[K_TITLE_EDIT] = latest.title
    elif latest is not None:
        st.session_state[K_TITLE] = EDIT
        st.session_state[K_TITLE_EDIT] = latest.title
    else:
        st.session_state[K_TITLE] = 0
        st.session_state[K_TITLE_EDIT] = texts[0] if texts else ""
    values = (latest.rubric.story, latest.rubric.photo_choice, latest.rubric.title) if latest else (None,) * 3
    for (name, _, _), value in zip(RUBRIC, values, strict=True):
        st.session_state[K_RUBRIC[name]] = value
    st.session_state[K_REASON] = ""
    st.session_state[K_REVIEWER] = st.session_state.get(K_REVIEWER_MEMORY, "")
    st.session_state[K_LOADED] = album.album_id


def _used_caption(facts_used: dict | None) -> str:
    if not facts_used:
        return "uses no fact"
    return "uses " + " · ".join(rv.describe_used(facts_used))


def title_picker(album: rv.AlbumDetail) -> str:
    """The title radio (suggestions, or your own); returns the title as it stands."""
    texts = album.suggestion_texts
    options: list[int | str] = [*range(len(texts)), EDIT]
    choice = st.radio(
        "Title for the cover",
        options,
        format_func=lambda o: "Write my own…" if o == EDIT else texts[o],
        captions=[_used_caption(dict(s.facts_used)) for s in album.suggestions] + ["kept as an edited title"],
        key=K_TITLE,
        help="The suggestions come from the album's facts only; an edit is stored flagged as edited.",
    )
    if choice == EDIT:
        if not st.session_state.get(K_TITLE_EDIT):
            st.session_state[K_TITLE_EDIT] = texts[0] if texts else ""
        return st.text_input(
            "Your title", key=K_TITLE_EDIT, max_chars=rv.MAX_TITLE_LENGTH, placeholder="A title for the cover"
        )
    return texts[int(choice)]


def facts_panel(album: rv.AlbumDetail, title: str) -> None:
    used = album.facts_used_by(title)
    st.markdown("##### :material/fact_check: The facts behind it")
    if used is None:
        st.caption("Your own title: check it against these facts, the album's only material.")
    else:
        st.caption("Highlighted: the facts the chosen title uses. Titles may use nothing else.")
    lines = rv.describe_facts(album.facts)
    if not lines:
        st.caption("No facts stored for this album.")
    for line in lines:
        icon = FACT_ICONS.get(line.topic, ":material/label:")
        text = f"{icon} **{line.label}** {ui.md_escape(line.value)}"
        st.markdown(f":primary[{text} :material/check:]" if line.used_by(used) else f":gray[{text}]")
    st.markdown(f"**Caption** · {ui.md_escape(card_caption(album))}")
    st.caption(_used_caption(dict(album.caption_facts_used)))
    source = f"Written by the **{album.generator}** title generator ({album.language})"
    if album.rule:
        source += f" · why this album: {ui.md_escape(album.rule)}"
    st.caption(source)
    if album.fallback_reason:
        st.warning(f"The configured title generator was not used: {album.fallback_reason}", icon=":material/info:")
    with st.expander(":material/data_object: Facts and title trace (JSON)"):
        st.json({"facts": dict(album.facts), "title_trace": dict(album.title_trace)}, expanded=1)


def card_caption(album: rv.AlbumDetail) -> str:
    return album.card.caption or "—"


def _submission(album: rv.AlbumDetail, decision: rv.Decision, title: str) -> rv.ReviewSubmission:
    values = {name: st.session_state.get(K_RUBRIC[name]) for name, _, _ in RUBRIC}
    missing = [label for name, label, _ in RUBRIC if values[name] is None]
    if missing:
        listed = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
        raise rv.ReviewError(f"Rate {listed.lower()} from 1 to 5 before you decide.")
    return rv.ReviewSubmission(
        album_id=album.album_id,
        decision=decision,
        reviewer=st.session_state.get(K_REVIEWER) or "",
        title=title,
        rubric=rv.Rubric(**{name: int(v) for name, v in values.items()}),
        reason=st.session_state.get(K_REASON) or "",
    )


def decision_form(db: Path, album: rv.AlbumDetail, title: str) -> None:
    st.markdown("##### :material/rate_review: Your decision")
    with st.form("review_form", border=False, enter_to_submit=False):
        for name, label, help_text in RUBRIC:
            st.segmented_control(
                label, list(RUBRIC_SCALE), format_func=RUBRIC_SCALE.get, key=K_RUBRIC[name], help=help_text
            )
        st.text_area(
            "Reason",
            key=K_REASON,
            height=80,
            max_chars=rv.MAX_REASON_LENGTH,
            placeholder="Required to reject, e.g. “two near-identical beach shots on spread 3”.",
        )
        st.text_input("Reviewer", key=K_REVIEWER, placeholder="Your name", icon=":material/person:")
        approve_col, reject_col = st.columns(2)
        approve = approve_col.form_submit_button(
            "Approve", type="primary", icon=":material/check_circle:", key="review_approve", width="stretch"
        )
        reject = reject_col.form_submit_button("Reject", icon=":material/cancel:", key="review_reject", width="stretch")
    if not (approve or reject):
        return
    if st.session_state.get(K_REVIEWER):  # remembered even when the decision is refused
        st.session_state[K_REVIEWER_MEMORY] = st.session_state[K_REVIEWER].strip()
    decision = rv.Decision.APPROVED if approve else rv.Decision.REJECTED
    try:
        review = save_review(db, _submission(album, decision, title))
    except (rv.ReviewError, StoreError) as exc:
        ui.show_error(str(exc))
        return
    st.session_state[K_REVIEWER_MEMORY] = review.reviewer
    verb = "Approved" if review.decision is rv.Decision.APPROVED else "Rejected"
    edited = " (your own title)" if review.title_edited else ""
    st.session_state[K_FLASH] = f"{verb} “{review.title}”{edited}. Saved as {review.reviewer}."
    st.session_state.pop(K_LOADED, None)  # refill the form from this decision
    st.rerun()


def history(album: rv.AlbumDetail) -> None:
    with st.expander(f":material/history: Decision history ({len(album.history)})", expanded=False):
        if not album.history:
            st.caption("No decision yet.")
        for r in album.history:
            status = status_badge(rv.ReviewStatus(r.decision.value))
            title = f"“{ui.md_escape(r.title)}”" + (" · edited" if r.title_edited else "")
            rubric = f"story {r.rubric.story} · photos {r.rubric.photo_choice} · title {r.rubric.title}"
            st.markdown(
                f"{status} {title}  \n:gray[{ui.md_escape(r.reviewer)}, {ui.format_when(r.decided_at)} · {rubric}]"
                + (f"  \n{ui.md_escape(r.reason)}" if r.reason else "")
            )


def album_nav(db: Path, library: rv.AlbumLibrary, album_id: str) -> None:
    queue: list[str] = st.session_state.get("review_queue") or []
    if album_id not in queue:  # opened from a link: the whole library, best first
        queue = [c.album_id for c in albums(db, library.library_id, rv.GalleryFilter())]
        st.session_state["review_queue"] = queue
    back, where, prev_col, next_col = st.columns([2, 3, 1, 1], vertical_alignment="center")
    if back.button("All albums", key="review_back", icon=":material/arrow_back:"):
        open_album(None)
    index = queue.index(album_id) if album_id in queue else None
    if index is not None:
        where.caption(f"Album {index + 1} of {len(queue)}")
    if prev_col.button("Previous", key="review_prev", icon=":material/chevron_left:", width="stretch",
                       disabled=not index):  # fmt: skip
        open_album(queue[index - 1])
    if next_col.button("Next", key="review_next", icon=":material/chevron_right:", width="stretch",
                       disabled=index is None or index + 1 >= len(queue)):  # fmt: skip
        open_album(queue[index + 1])


def album_view(db: Path, settings: Settings, library: rv.AlbumLibrary, album_id: str) -> None:
    album_nav(db, library, album_id)
    try:
        album = detail(db, album_id)
    except rv.AlbumNotFoundError as exc:
        ui.show_error(str(exc))
        return
    if st.session_state.get(K_LOADED) != album.album_id:
        _init_form(album)
    if flash := st.session_state.pop(K_FLASH, None):
        st.success(flash, icon=":material/check_circle:")
    card = album.card
    st.markdown(f"## {ui.md_escape(card.title)}")
    place = f" · :material/location_on: {ui.md_escape(card.place_name)}" if card.place_name else ""
    st.markdown(
        f"{kind_badge(card.kind)} {status_badge(card.status)} "
        f":gray[:material/event: {card_dates(card)}{place} · {card.n_photos} photos · score {card.score:.2f}]"
    )
    book, panel = st.columns([3, 2], gap="large")
    with panel:
        with st.container(border=True):
            title = title_picker(album)
            facts_panel(album, title)
        with st.container(border=True):
            decision_form(db, album, title)
        history(album)
    with book:
        photobook(album, title or card.generated_title, settings)

"""Shared page parts: header, metrics, thumbnail grid, empty states, errors, run progress.

Every page uses these, so the app looks like one product: same header, same cards, same
way of choosing a library, same way of saying "nothing here yet" (with what to do next) or
"this went wrong".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.navigation.page import StreamlitPage

from curation import __version__
from curation.ingest.decode import thumbnail_path
from curation.settings import Settings
from curation.store import StoreError
from dashboard import data
from dashboard.navigation import page_by_script
from dashboard.queries import (
    STAGE_COUNTS,
    DatabaseSummary,
    LibraryOverview,
    LibrarySummary,
    filter_issues,
)
from dashboard.runs import JobSnapshot, JobState, StepProgress, StepState

if TYPE_CHECKING:  # pandas loads with the first table, not at app start-up
    import pandas as pd

logger = logging.getLogger(__name__)

APP_NAME = "Curation Studio"
APP_ICON = ":material/photo_album:"
LOGO = Path(__file__).resolve().parent / "assets" / "logo.svg"
LIBRARY_TAB = "library_tab"  # session state: the label of the Libraries page's open tab
RUN_DEMO_FIRST = "Open **Libraries & runs**, pick the demo library and press **Run curation**."


def md_escape(text: str) -> str:
    """Text shown literally inside Markdown (file names have underscores and brackets)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$:])", r"\\\1", text)


def page_header(title: str, icon: str, caption: str) -> None:
    st.title(f"{icon} {title}", anchor=False)
    st.caption(caption)


def show_error(message: str, *, retry_key: str | None = None) -> None:
    """A clear error box (never a traceback); optionally a button to try again."""
    st.error(message, icon=":material/error:")
    if retry_key is not None:
        st.button("Try again", key=retry_key, icon=":material/refresh:")


def empty_state(icon: str, title: str, body: str) -> DeltaGenerator:
    """A bordered card for "nothing here yet"; returns it so the page can add actions."""
    card = st.container(border=True)
    with card:
        st.markdown(f"### {icon} {title}")
        st.markdown(body)
    return card


@dataclass(frozen=True)
class Metric:
    label: str
    value: int | None  # None: the stage that fills it has not run -> "—"
    help: str


def metric_row(metrics: Sequence[Metric]) -> None:
    for column, m in zip(st.columns(len(metrics)), metrics, strict=True):
        column.metric(
            m.label,
            "—" if m.value is None else f"{m.value:,}",
            help=m.help,
            border=True,
        )


@dataclass(frozen=True)
class Thumb:
    path: Path  # cached thumbnail JPEG
    caption: str


def thumbnail_grid(thumbs: Sequence[Thumb], *, columns: int = 6) -> None:
    for start in range(0, len(thumbs), columns):
        row = thumbs[start : start + columns]
        for column, thumb in zip(st.columns(columns), row, strict=False):
            with column:
                tile = data.thumbnail_tile(thumb.path)  # cropped square, cached
                if tile is None:
                    with st.container(border=True, height=160, vertical_alignment="center"):
                        st.caption(":material/hide_image: thumbnail missing")
                    st.caption(thumb.caption)
                else:
                    st.image(tile, caption=thumb.caption, width="stretch")


def library_overview(overview: LibraryOverview, settings: Settings) -> None:
    """One library: counts, then tabs with the latest photos, the issues and the run history.

    Only the open tab is drawn (the tabs rerun the page when switched): the first paint is
    the counts and the thumbnails, with no table and so no pandas.
    """
    library = overview.library
    last_run = overview.last_run
    st.subheader(f":material/insights: {library.name}", anchor=False)
    st.caption(
        f"`{library.root}` · {library.n_runs} {'run' if library.n_runs == 1 else 'runs'} · "
        f"last run {format_when(library.last_run_at)}"
        + (f": {last_run.n_new:,} new and {last_run.n_changed:,} changed files" if last_run else "")
    )
    metric_row(
        [
            Metric("Photos", overview.n_photos, "Usable photos in the library."),
            Metric("Skipped", overview.n_skipped, "Files that could not be read: see Issues."),
            Metric("Removed", overview.n_removed, "Photos that were in the library and are gone from disk."),
            Metric("Warnings", overview.n_warnings, "Photos ingested with a doubt (date, copy…)."),
        ]
    )
    metric_row([Metric(c.label, overview.stage_counts[c.key], c.help) for c in STAGE_COUNTS])
    if any(count is None for count in overview.stage_counts.values()):
        st.caption("A dash means the stage that fills the number has not run yet: hover a card for which one.")

    photos_tab, issues_tab, runs_tab = st.tabs(
        [
            ":material/photo: Latest photos",
            f":material/report: Issues ({overview.n_issues:,})",
            f":material/history: Run history ({overview.n_runs:,})",
        ],
        key=LIBRARY_TAB,
        on_change="rerun",
    )
    if photos_tab.open:
        with photos_tab:
            latest_photos(overview, settings)
    if issues_tab.open:
        with issues_tab:
            issues_panel(settings.database, overview)
    if runs_tab.open:
        with runs_tab:
            try:
                runs_table(data.library_runs(settings.database, library.library_id))
            except StoreError as exc:
                show_error(str(exc), retry_key="retry_runs")


def latest_photos(overview: LibraryOverview, settings: Settings) -> None:
    if not overview.recent:
        st.info("No usable photo in this library yet: see Issues for the files that were skipped.")
        return
    st.caption(f"The {len(overview.recent)} latest photos by capture date.")
    thumbnail_grid(
        [
            Thumb(
                thumbnail_path(settings.cache, p.sha256, settings.ingest.thumb_sizes[0]),
                f"{format_day(p.taken_at)} · {short_name(p.rel_path)}",
            )
            for p in overview.recent
        ]
    )


def issues_panel(db: Path, overview: LibraryOverview) -> None:
    if overview.n_issues == 0:
        st.success("No issues: every file was read cleanly.", icon=":material/check_circle:")
        return
    try:
        issues = data.library_issues(db, overview.library.library_id)
    except StoreError as exc:
        show_error(str(exc), retry_key="retry_issues")
        return
    severity_col, search_col = st.columns([1, 2], vertical_alignment="bottom")
    severities = severity_col.segmented_control(
        "Severity",
        ["skipped", "warning"],
        selection_mode="multi",
        default=["skipped", "warning"],
        format_func=str.capitalize,
        key="issue_severity",
    )
    search = search_col.text_input(
        "Search", key="issue_search", placeholder="file, code or reason", icon=":material/search:"
    )
    shown = filter_issues(issues, severities, search)
    issues_table(shown)
    st.caption(f"{len(shown)} of {len(issues)} issues shown.")


def issues_table(issues: pd.DataFrame) -> None:
    st.dataframe(
        issues,
        hide_index=True,
        placeholder="—",
        column_order=["file", "severity", "reason", "code"],
        column_config={
            "file": st.column_config.TextColumn("File", width="medium"),
            "severity": st.column_config.TextColumn("Severity", width="small"),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "code": st.column_config.TextColumn("Code", width="small"),
        },
        key="issues_table",
    )


def runs_table(runs: pd.DataFrame) -> None:
    when = "D MMM YYYY, HH:mm:ss"
    count = st.column_config.NumberColumn
    st.dataframe(
        runs,
        hide_index=True,
        placeholder="—",
        column_config={
            "run_id": count("Run", format="%d"),
            "started_at": st.column_config.DatetimeColumn("Started", format=when),
            "finished_at": st.column_config.DatetimeColumn("Finished", format=when),
            "status": st.column_config.TextColumn("Status"),
            "stages": st.column_config.TextColumn("Stages"),
            "n_files": count("Files", format="%d"),
            "n_new": count("New", format="%d"),
            "n_changed": count("Changed", format="%d"),
            "n_unchanged": count("Unchanged", format="%d"),
            "n_removed": count("Removed", format="%d"),
            "n_skipped": count("Skipped", format="%d"),
            "n_warnings": count("Warnings", format="%d"),
            "seconds": count("Time (s)", format="%.1f"),
            "message": st.column_config.TextColumn("Message"),
        },
        key="runs_table",
    )


def libraries_table(libraries: Sequence[LibrarySummary]) -> None:
    import pandas as pd

    st.dataframe(
        pd.DataFrame(
            [(lib.name, lib.root, lib.n_photos, lib.n_runs, lib.last_run_at) for lib in libraries],
            columns=["Library", "Folder", "Photos", "Runs", "Last run"],
        ),
        hide_index=True,
        placeholder="—",
        column_config={"Last run": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
        key="libraries_table",
    )


def format_when(value: datetime | None) -> str:
    return "date unknown" if value is None else value.strftime("%-d %b %Y, %H:%M")


def format_day(value: datetime | None) -> str:
    return "date unknown" if value is None else value.strftime("%-d %b %Y")


def short_name(rel_path: str, width: int = 18) -> str:
    """The file name, cut in the middle when long: 'PXL_2024…1449235.jpg'."""
    name = rel_path.rsplit("/", 1)[-1]
    if len(name) <= width:
        return name
    keep = width - 1
    return f"{name[: keep // 2]}…{name[-(keep - keep // 2):]}"


def format_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 90 else f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


_STEP_ICONS = {
    StepState.PENDING: ":material/schedule:",
    StepState.RUNNING: ":material/sync:",
    StepState.DONE: ":material/check_circle:",
    StepState.FAILED: ":material/error:",
    StepState.SKIPPED: ":material/block:",
}


def _step_text(step: StepProgress) -> str:
    if step.state is StepState.PENDING:
        return "waiting"
    if step.state is StepState.SKIPPED:
        return "not run: an earlier step failed"
    if step.state is StepState.FAILED:
        return f"failed after {format_seconds(step.seconds)}"
    if step.state is StepState.DONE:
        return f"{md_escape(step.summary)} · {format_seconds(step.seconds)}"
    if step.total is None:
        return "starting…"
    item = f" · {md_escape(step.item[-60:])}" if step.item else ""
    return f"{step.done:,} / {step.total:,}{item}"


def run_progress(snapshot: JobSnapshot) -> None:
    """One line per step with its own bar, so later stages simply add lines."""
    state = {JobState.RUNNING: "running", JobState.DONE: "complete", JobState.FAILED: "error"}[snapshot.state]
    verb = {JobState.RUNNING: "running", JobState.DONE: "finished", JobState.FAILED: "failed"}[snapshot.state]
    label = f"{snapshot.title}: {verb} · {format_seconds(snapshot.seconds)}"
    with st.status(label, state=state, expanded=True):
        for step in snapshot.steps:
            name, bar = st.columns([1, 3], vertical_alignment="center")
            name.markdown(f"{_STEP_ICONS[step.state]} **{step.label}**  \n:gray[{step.detail}]")
            bar.progress(step.fraction, text=_step_text(step))
        if snapshot.error:
            st.error(snapshot.error, icon=":material/error:")


# ----------------------------------------------------------------------------- empty states


class NeedKind(StrEnum):
    PHOTOS = "photos"  # at least one ingested photo
    TABLE = "table"  # a table that a stage fills
    SAMPLES = "samples"  # the labelled sample sets (CURATION_SAMPLES)
    DATABASE = "database"  # a database file


@dataclass(frozen=True)
class Need:
    kind: NeedKind
    label: str  # what it is, e.g. "Image embeddings"
    table: str = ""  # for NeedKind.TABLE
    stage: str = ""  # the stage that fills it


@dataclass(frozen=True)
class Readiness:
    ok: bool
    text: str


@dataclass(frozen=True)
class EmptyPage:
    """A page with nothing to show yet: what it shows once its data exists, and how to get it."""

    title: str
    icon: str  # Material icon, ":material/name:"
    pitch: str  # one sentence: what the page is for
    features: tuple[str, ...]  # what it shows / lets you do
    filled_by: str  # the stage(s) or command that make its data
    needs: tuple[Need, ...]
    now: tuple[str, ...]  # what to do (Markdown)
    snippet: str  # shell commands; {database} and {demo} are filled in

    def commands(self, settings: Settings) -> str:
        return self.snippet.format(database=settings.database, demo=settings.demo_library_path)


def readiness(spec: EmptyPage, summary: DatabaseSummary, settings: Settings) -> list[Readiness]:
    out = []
    for need in spec.needs:
        if need.kind is NeedKind.PHOTOS:
            ok = summary.n_photos > 0
            text = (
                f"{summary.n_photos:,} photos ingested in {summary.n_libraries} "
                f"{'library' if summary.n_libraries == 1 else 'libraries'}"
                if ok
                else "No photos yet: run curation on a library"
            )
        elif need.kind is NeedKind.DATABASE:
            ok = summary.exists
            text = f"Database at `{settings.database}`" if ok else f"No database yet at `{settings.database}`"
        elif need.kind is NeedKind.SAMPLES:
            ok = settings.samples.is_dir()
            text = (
                f"Labelled sample sets at `{settings.samples}`"
                if ok
                else f"No sample sets at `{settings.samples}` (set CURATION_SAMPLES)"
            )
        else:
            ok = summary.has(need.table)
            rows = summary.table_rows.get(need.table, 0)
            text = f"{need.label}: " + (f"{rows:,}" if ok else f"not yet — made by the {need.stage} stage")
        out.append(Readiness(ok, text))
    return out


def empty_page(spec: EmptyPage, summary: DatabaseSummary, settings: Settings) -> None:
    """The whole page while its data does not exist: what it will show, what is ready, what to do."""
    page_header(spec.title, spec.icon, spec.pitch)
    st.badge(f"Nothing to show yet: needs {spec.filled_by}", icon=":material/hourglass_empty:", color="orange")
    plans, ready = st.columns([3, 2], gap="medium")
    with plans, st.container(border=True, height="stretch"):
        st.markdown("#### :material/visibility: What this page shows")
        st.markdown("\n".join(f"- {feature}" for feature in spec.features))
    with ready, st.container(border=True, height="stretch"):
        st.markdown("#### :material/checklist: Ready so far")
        for item in readiness(spec, summary, settings):
            icon = ":green[:material/check_circle:]" if item.ok else ":gray[:material/radio_button_unchecked:]"
            st.markdown(f"{icon} {item.text}")
    what_to_do_now(spec.now, spec.commands(settings))


def what_to_do_now(lines: Sequence[str], commands: str) -> None:
    """The second half of an empty state: what to do, with the commands."""
    with st.container(border=True):
        st.markdown("#### :material/directions_run: What you can do now")
        st.markdown("\n".join(f"- {line}" for line in lines))
        st.code(commands, language="bash", wrap_lines=True)
        st.page_link(
            page_by_script("libraries.py"), label="Go to Libraries & runs", icon=":material/arrow_forward:"
        )


def run_demo_commands(settings: Settings) -> str:
    """Build and curate the demo library from a terminal (all stages)."""
    return (
        f".venv/bin/curation demo-library {settings.demo_library_path}\n"
        f".venv/bin/curation run {settings.demo_library_path} --db {settings.database}"
    )


def choose_library(
    settings: Settings, *, key: str, icon: str, purpose: str, stage_note: str, where: DeltaGenerator | None = None
) -> LibrarySummary:
    """The library a page shows: the one run last unless the person picks another.

    With no library (no database, an empty one) the page gets an empty state that says how to
    make one, and stops; a database it cannot read shows its error and a retry button.
    ``purpose`` says what the page does with a library, ``stage_note`` which stage it needs.
    """
    db = settings.database
    try:
        libraries = data.libraries(db)
    except StoreError as exc:
        show_error(str(exc), retry_key=f"{key}_retry")
        st.stop()
    if not libraries:
        where_now = f"There is no database at `{db}` yet" if not db.exists() else "This database holds no library yet"
        empty_state(
            icon,
            "No database yet" if not db.exists() else "No photos yet",
            f"{purpose} {where_now}: run curation on a library first (all stages: {stage_note}).",
        )
        what_to_do_now([RUN_DEMO_FIRST], run_demo_commands(settings))
        st.stop()
    ids = [lib.library_id for lib in libraries]
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    by_id = {lib.library_id: lib for lib in libraries}
    chosen = (where or st).selectbox(
        "Library", ids, key=key, format_func=lambda i: f"{by_id[i].name} ({by_id[i].n_photos:,} photos)"
    )
    return by_id[chosen]


def sidebar_footer(settings: Settings) -> None:
    with st.sidebar:
        st.caption(
            f"{APP_NAME} {__version__}  \nDatabase: `{settings.database}`  \n"
            "Data folder: set `CURATION_DATA_DIR` to use another."
        )


def run_guarded(page: StreamlitPage) -> None:
    """Run the chosen page; an unexpected error becomes a clear message, not a traceback.

    Pages handle the errors they expect (StoreError, a missing folder) themselves; this is
    the last line, so a bug shows as a sentence and its traceback goes to the server log.
    """
    try:
        page.run()
    except Exception as exc:  # noqa: BLE001 - the app's top level: log it, say it, carry on
        logger.exception("Page %s failed", getattr(page, "title", page))
        st.error(
            f"This page hit an unexpected error: {type(exc).__name__}: {exc}. "
            "The full traceback is in the terminal that runs Streamlit; please report it.",
            icon=":material/bug_report:",
        )

"""Shared page parts: header, metrics, thumbnail grid, empty states, errors, run progress.

Every page uses these, so the app looks like one product: same header, same cards, same
way of saying "nothing here yet" or "this went wrong".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from curation import __version__
from curation.ingest.decode import thumbnail_path
from curation.settings import Settings
from curation.store import StoreError
from dashboard import data
from dashboard.navigation import page_by_script
from dashboard.placeholders import ComingSoon, readiness
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


def empty_state(icon: str, title: str, body: str) -> st.delta_generator.DeltaGenerator:
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
    """One library: counts, then tabs with the latest photos, the issues and the run history."""
    library = overview.library
    last_run = overview.last_run
    st.subheader(f":material/insights: {library.name}", anchor=False)
    st.caption(
        f"`{library.root}` · {library.n_runs} {'run' if library.n_runs == 1 else 'runs'} · "
        f"last run {format_when(library.last_run_at)}"
        + (f": {last_run['n_new']:,} new and {last_run['n_changed']:,} changed files" if last_run else "")
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
            f":material/report: Issues ({len(overview.issues)})",
            f":material/history: Run history ({len(overview.runs)})",
        ]
    )
    with photos_tab:
        if overview.recent:
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
        else:
            st.info("No usable photo in this library yet: see Issues for the files that were skipped.")
    with issues_tab:
        if overview.issues.empty:
            st.success("No issues: every file was read cleanly.", icon=":material/check_circle:")
        else:
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
            shown = filter_issues(overview.issues, severities, search)
            issues_table(shown)
            st.caption(f"{len(shown)} of {len(overview.issues)} issues shown.")
    with runs_tab:
        runs_table(overview.runs)


def issues_table(issues: pd.DataFrame) -> None:
    st.dataframe(
        issues,
        hide_index=True,
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


def placeholder_page(spec: ComingSoon) -> None:
    """A whole page for a stage that has not landed yet."""
    settings = data.current_settings()
    try:
        summary = data.database_summary(settings.database)
    except StoreError as exc:
        page_header(spec.title, spec.icon, spec.pitch)
        show_error(str(exc), retry_key="retry_summary")
        return
    coming_soon(spec, summary, settings)


def coming_soon(spec: ComingSoon, summary: DatabaseSummary, settings: Settings) -> None:
    """The empty state of a page whose stage has not landed: what it will do, what to do now."""
    page_header(spec.title, spec.icon, spec.pitch)
    st.badge(f"Coming with {spec.arrives_with}", icon=":material/construction:", color="orange")
    plans, ready = st.columns([3, 2], gap="medium")
    with plans, st.container(border=True):
        st.markdown("#### :material/visibility: What this page will do")
        st.markdown("\n".join(f"- {feature}" for feature in spec.features))
    with ready, st.container(border=True):
        st.markdown("#### :material/checklist: Ready so far")
        for item in readiness(spec, summary, settings):
            icon = ":green[:material/check_circle:]" if item.ok else ":gray[:material/radio_button_unchecked:]"
            st.markdown(f"{icon} {item.text}")
    with st.container(border=True):
        st.markdown("#### :material/directions_run: What you can do now")
        st.markdown("\n".join(f"- {line}" for line in spec.now))
        st.code(spec.commands(settings), language="bash", wrap_lines=True)
        st.page_link(
            page_by_script("libraries.py"), label="Go to Libraries & runs", icon=":material/arrow_forward:"
        )


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

"""Libraries & runs: choose a library, run curation on it, see what came out."""

from __future__ import annotations

import streamlit as st

from curation.ingest.decode import thumbnail_path
from curation.store import StoreError
from dashboard import data, ui
from dashboard.library_choice import Source, choose_library, initial_choice, sample_sets
from dashboard.queries import STAGE_COUNTS, filter_issues
from dashboard.runs import RunError, curation_steps, demo_step

settings = data.current_settings()
db = settings.database
registry = data.run_registry()

ui.page_header(
    "Libraries & runs",
    ":material/photo_library:",
    "Choose a photo library, run curation on it, and see what came out.",
)

try:
    libraries = data.libraries(db)
except StoreError as exc:
    ui.show_error(str(exc), retry_key="retry_libraries")
    st.stop()

# ------------------------------------------------------------------ choose a library
for key, value in initial_choice(libraries[0].root if libraries else None, settings).items():
    st.session_state.setdefault(key, value)
sets = sample_sets(settings.samples)
if st.session_state.get("sample_set") not in sets:
    st.session_state["sample_set"] = sets[0] if sets else None

latest_job = registry.latest(db)
busy = latest_job is not None and latest_job.running

with st.container(border=True):
    pick, detail = st.columns([2, 3], gap="large")
    with pick:
        source = st.radio(
            "Library",
            list(Source),
            format_func=lambda s: s.label,
            captions=["Built in, works offline", "Labelled sets (CURATION_SAMPLES)", "Any folder on this machine"],
            key="library_source",
        )
    with detail:
        if source is Source.SAMPLE and sets:
            st.selectbox("Sample set", sets, key="sample_set", help=f"Folders in {settings.samples}")
        if source is Source.FOLDER:
            st.text_input(
                "Folder",
                key="folder_path",
                placeholder="/home/me/Pictures",
                icon=":material/folder:",
                help="A folder of photos; subfolders are scanned too.",
            )
        choice = choose_library(
            source,
            settings,
            sample_set=st.session_state.get("sample_set"),
            folder=st.session_state.get("folder_path") or "",
        )
        if choice.problem:
            ui.show_error(choice.problem)
        elif choice.needs_build:
            st.markdown(f"**Demo library** · `{choice.root}`")
            st.caption(
                "Not built yet. About a hundred real photos from installed packages on a generated "
                "three-year timeline with GPS, plus screenshots, receipts and a few broken files. "
                "The run builds it first."
            )
        else:
            st.markdown(f"**{choice.root.name}** · `{choice.root}`")
        with st.container(horizontal=True):
            run_clicked = st.button(
                "Build & run curation" if choice.needs_build else "Run curation",
                key="run_curation",
                type="primary",
                icon=":material/play_arrow:",
                disabled=busy or not choice.runnable,
            )
            build_clicked = choice.needs_build and st.button(
                "Only build the demo library", key="build_demo", icon=":material/construction:", disabled=busy
            )

if run_clicked or build_clicked:
    steps = curation_steps(choice.root, settings, build_demo=choice.needs_build) if run_clicked else [demo_step(choice.root)]
    title = f"Curation of {choice.root.name}" if run_clicked else "Demo library"
    try:
        latest_job = registry.start(db, title, choice.root, steps)
    except RunError as exc:
        ui.show_error(str(exc))
    else:
        st.session_state["watch_job"] = latest_job.job_id
        st.rerun()  # render the page with the run in progress (buttons disabled)

# ------------------------------------------------------------------ progress of the current run
if latest_job is not None and (latest_job.running or st.session_state.get("watch_job") == latest_job.job_id):
    st.session_state["watch_job"] = latest_job.job_id

    def progress_panel(job_id: int) -> None:
        snapshot = data.run_registry().get(job_id).snapshot()
        ui.run_progress(snapshot)
        if not snapshot.running and st.session_state.get("refreshed_after_job") != job_id:
            st.session_state["refreshed_after_job"] = job_id
            st.rerun()  # the whole page: the numbers below now include the run

    st.fragment(progress_panel, run_every=0.5 if latest_job.running else None)(latest_job.job_id)

# ------------------------------------------------------------------ what the database holds
try:
    libraries = data.libraries(db)
except StoreError as exc:
    ui.show_error(str(exc), retry_key="retry_libraries_after_run")
    st.stop()

if not libraries:
    ui.empty_state(
        ":material/photo_library:",
        "No library yet",
        "This database is empty. Pick **Demo library** above and press **Build & run curation** "
        "to see the whole flow on real photos, or choose a sample set or any folder of photos.\n\n"
        "From a terminal, the same:",
    ).code(
        f".venv/bin/curation demo-library {settings.demo_library_path}\n"
        f".venv/bin/curation run {settings.demo_library_path}",
        language="bash",
    )
    st.stop()

library = next((lib for lib in libraries if choice.root is not None and lib.root == str(choice.root)), None)
if library is None:
    st.info(
        "This library has not been run yet: press **Run curation** to ingest it. "
        "The libraries this database already holds are listed below.",
        icon=":material/info:",
    )
else:
    try:
        overview = data.library_overview(db, library)
    except StoreError as exc:
        ui.show_error(str(exc), retry_key="retry_overview")
        st.stop()

    last_run = overview.last_run
    st.subheader(f":material/insights: {library.name}", anchor=False)
    st.caption(
        f"`{library.root}` · {library.n_runs} {'run' if library.n_runs == 1 else 'runs'} · "
        f"last run {ui.format_when(library.last_run_at)}"
    )
    ui.metric_row(
        [
            ui.Metric(
                "Photos", overview.n_photos, "Usable photos in the library.",
                delta=f"{last_run['n_new']:,} new in the last run" if last_run else None,
            ),
            ui.Metric("Skipped", overview.n_skipped, "Files that could not be read: see Issues."),
            ui.Metric("Removed", overview.n_removed, "Photos that were in the library and are gone from disk."),
            ui.Metric("Warnings", overview.n_warnings, "Photos ingested with a doubt (date, duplicate…): see Issues."),
        ]
    )  # fmt: skip
    ui.metric_row([ui.Metric(c.label, overview.stage_counts[c.key], c.help) for c in STAGE_COUNTS])

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
            ui.thumbnail_grid(
                [
                    ui.Thumb(
                        thumbnail_path(settings.cache, p.sha256, settings.ingest.thumb_sizes[0]),
                        f"{p.rel_path.rsplit('/', 1)[-1]} · {ui.format_when(p.taken_at)}",
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
            ui.issues_table(shown)
            st.caption(f"{len(shown)} of {len(overview.issues)} issues shown.")
    with runs_tab:
        ui.runs_table(overview.runs)

with st.expander(f":material/library_books: All libraries in this database ({len(libraries)})"):
    ui.libraries_table(libraries)

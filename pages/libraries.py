"""Libraries & runs: choose a library, run curation on it, see what came out."""

from __future__ import annotations

import streamlit as st

from curation.store import StoreError
from dashboard import data, ui
from dashboard.library_choice import Source, choose_library, initial_choice, sample_sets
from dashboard.runs import RunError, curation_steps, demo_step, pipeline_stages, stage_label

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
            captions=[
                "Built in, works offline",
                "Labelled sets (CURATION_SAMPLES)",
                "Any folder on this machine",
            ],
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
        if busy:
            st.markdown(f"**A run is in progress** on `{latest_job.snapshot().library_root}`.")
        elif choice.problem:
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
        all_stages = pipeline_stages()
        stages = st.pills(
            "Stages",
            all_stages,
            selection_mode="multi",
            default=all_stages,
            format_func=stage_label,
            key="run_stages",
            help="What `curation run` does by default: all of them. Faces and vision load their "
            "models at the start of a run, which takes a while the first time.",
        )
        with st.container(horizontal=True):
            run_clicked = st.button(
                "Build & run curation" if choice.needs_build else "Run curation",
                key="run_curation",
                type="primary",
                icon=":material/play_arrow:",
                disabled=busy or not choice.runnable or not stages,
            )
            build_clicked = choice.needs_build and st.button(
                "Only build the demo library", key="build_demo", icon=":material/construction:", disabled=busy
            )

if run_clicked or build_clicked:
    if run_clicked:
        title = f"Curation of {choice.root.name}"
        steps = curation_steps(choice.root, settings, stages, build_demo=choice.needs_build)
    else:
        title, steps = "Demo library", [demo_step(choice.root)]
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
        job = data.run_registry().get(job_id)
        if job is None:  # the registry was cleared (st.cache_resource.clear())
            return
        snapshot = job.snapshot()
        ui.run_progress(snapshot)
        if not snapshot.running and st.session_state.get("refreshed_after_job") != job_id:
            st.session_state["refreshed_after_job"] = job_id
            st.rerun()  # the whole page: the numbers below now include the run

    st.fragment(progress_panel, run_every=0.5 if latest_job.running else None)(latest_job.job_id)

# ------------------------------------------------------------------ what the database holds
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
        wrap_lines=True,
    )
    st.stop()

library = next((lib for lib in libraries if choice.root and lib.root == str(choice.root)), None)
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

    ui.library_overview(overview, settings)

all_libraries = st.expander(
    f":material/library_books: All libraries in this database ({len(libraries)})",
    key="all_libraries",
    on_change="rerun",
)
if all_libraries.open:  # drawn when opened: the first paint has no table (and no pandas)
    with all_libraries:
        ui.libraries_table(libraries)

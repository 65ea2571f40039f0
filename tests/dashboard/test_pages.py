"""The dashboard: one AppTest per page, the run button, and the UI layer's own pieces.

Every library here is generated in tmp_path (conftest.py: smooth random JPEGs with EXIF
dates in two folders, and a text file named .jpg); CURATION_DATA_DIR points at a temporary
folder.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from curation.settings import Settings
from curation.store import Store
from dashboard import ui
from dashboard.library_choice import Source, choose_library, initial_choice
from dashboard.navigation import PAGES, PageSpec
from dashboard.queries import filter_issues, library_issues, library_overview, library_runs, list_libraries
from dashboard.runs import RunInProgressError, RunRegistry, Step

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboard" / "app.py"
LIBRARIES = next(p for p in PAGES if p.script == "libraries.py")
OTHER_PAGES = [p for p in PAGES if p is not LIBRARIES]
TIMEOUT = 60  # seconds for one script run; CI machines can be slow


@pytest.fixture
def ingested(make_library: Callable[..., Path], ingest: Callable[[Path], Store], tmp_path: Path) -> Path:
    """Five photos in two folders and a file that is not a photo, ingested into the data dir's database."""
    root = make_library(tmp_path / "photos", 5, folders=True, not_a_photo=True)
    ingest(root)
    return root.resolve()


def run_page(spec: PageSpec) -> AppTest:
    at = AppTest.from_file(str(spec.path), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tab(at: AppTest, label: str):  # noqa: ANN201 - an AppTest Tab
    return next(t for t in at.tabs if label in t.label)


def open_tab(at: AppTest, label: str):  # noqa: ANN201 - an AppTest Tab
    """Open a tab drawn on demand (``on_change="rerun"``), as a click on it does."""
    at.session_state[ui.LIBRARY_TAB] = tab(at, label).label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return tab(at, label)


def rows(db: Path, sql: str) -> list[tuple]:
    with Store(db).connect(read_only=True) as con:
        return con.execute(sql).fetchall()


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_page_renders_on_an_ingested_library(ingested: Path, spec: PageSpec) -> None:
    at = run_page(spec)
    assert not at.error, [e.value for e in at.error]
    assert spec.title in at.title[0].value


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_page_renders_on_an_empty_database(data_dir: Path, spec: PageSpec) -> None:
    at = run_page(spec)
    assert not at.error, [e.value for e in at.error]
    text = " ".join(m.value for m in at.markdown)
    if spec is LIBRARIES:
        assert "No library yet" in text
        assert at.button(key="run_curation").label == "Build & run curation"
    else:
        assert "No photos yet" in text or "No database yet" in text or "No sample sets" in text
        assert "What you can do now" in text


def test_app_navigation_opens_the_libraries_page_and_every_other(ingested: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "Libraries & runs" in at.title[0].value
    for spec in OTHER_PAGES:
        at.switch_page(f"../pages/{spec.script}").run()
        assert not at.exception, spec.script
        assert spec.title in at.title[0].value


# --------------------------------------------------------------------------- Libraries & runs


def test_libraries_page_shows_counts_issues_runs_and_thumbnails(ingested: Path) -> None:
    at = run_page(LIBRARIES)
    # The last library run is selected (a folder, not the demo library).
    assert at.radio(key="library_source").value == Source.FOLDER
    assert at.text_input(key="folder_path").value == str(ingested)
    assert at.button(key="run_curation").label == "Run curation"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Photos"] == "5" and metrics["Skipped"] == "1" and metrics["Removed"] == "0"
    assert all(metrics[k] == "—" for k in ("Events", "People", "Albums", "Clutter"))
    assert len(at.image) == 5  # the thumbnail grid
    assert [t.label.split(": ")[-1] for t in at.tabs] == ["Latest photos", "Issues (1)", "Run history (1)"]
    # The first paint draws the open tab only: no table, so no pandas (see the import test).
    assert not at.dataframe

    assert len(open_tab(at, "Run history").dataframe[0].value) == 1
    assert not at.image  # the photos' tab is closed now
    assert list(open_tab(at, "Issues").dataframe[0].value["file"]) == ["notes.jpg"]
    at.segmented_control(key="issue_severity").set_value(["warning"]).run()
    assert len(tab(at, "Issues").dataframe[0].value) == 0
    at.segmented_control(key="issue_severity").set_value(["skipped", "warning"])
    at.text_input(key="issue_search").input("not an image").run()
    assert list(tab(at, "Issues").dataframe[0].value["file"]) == ["notes.jpg"]


def test_all_libraries_table_is_drawn_when_opened(ingested: Path) -> None:
    at = run_page(LIBRARIES)
    assert "All libraries in this database (1)" in at.expander[0].label
    assert not at.dataframe
    at.session_state["all_libraries"] = True
    at.run()
    assert not at.exception
    assert list(at.dataframe[0].value["Library"]) == ["photos"]


def test_run_button_ingests_a_new_folder(ingested: Path, tmp_path: Path, make_library: Callable[..., Path]) -> None:
    new = make_library(tmp_path / "second", 3, folders=True, not_a_photo=True)
    at = run_page(LIBRARIES)
    at.text_input(key="folder_path").input(str(new)).run()
    assert "not been run yet" in at.info[0].value
    from curation.pipeline.runner import ALL_STAGES

    assert at.pills(key="run_stages").value == [s.value for s in ALL_STAGES]  # as `curation run`
    at.pills(key="run_stages").set_value(["ingest"])  # the model stages have their own tests
    at.button(key="run_curation").click().run()
    assert not at.exception
    wait_for_run(at)
    assert not at.error, [e.value for e in at.error]
    assert "finished" in at.status[0].label
    db = Settings().database
    of_new = f"JOIN libraries l USING (library_id) WHERE l.root = '{new.resolve()}'"
    assert rows(db, f"SELECT r.status FROM runs r {of_new}") == [("done",)]
    assert rows(db, f"SELECT count(*) FROM photos p {of_new} AND p.status = 'ok'") == [(3,)]
    at.run()
    assert {m.label: m.value for m in at.metric}["Photos"] == "3"


def wait_for_run(at: AppTest) -> None:
    deadline = time.monotonic() + 3 * TIMEOUT
    while not any("finished" in s.label or "failed" in s.label for s in at.status):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)
        at.run()
        assert not at.exception


def test_build_demo_library_button(data_dir: Path) -> None:
    """The real demo builder, started from the page (the run that ingests it is the CLI's job here)."""
    at = run_page(LIBRARIES)
    assert at.radio(key="library_source").value == Source.DEMO
    at.button(key="build_demo").click().run()
    wait_for_run(at)
    assert not at.error, [e.value for e in at.error]
    assert (data_dir / "demo-library" / "manifest.json").is_file()
    at.run()
    assert at.button(key="run_curation").label == "Run curation"  # built: no "Build & run" any more


def test_missing_folder_is_an_error_not_a_run(ingested: Path, tmp_path: Path) -> None:
    at = run_page(LIBRARIES)
    at.text_input(key="folder_path").input(str(tmp_path / "nowhere")).run()
    assert any("Folder not found" in e.value for e in at.error)
    assert at.button(key="run_curation").disabled


def test_sample_sets_are_offered(data_dir: Path, tmp_path: Path, make_library: Callable[..., Path]) -> None:
    make_library(tmp_path / "samples" / "tiny", 2)
    at = run_page(LIBRARIES)
    at.radio(key="library_source").set_value(Source.SAMPLE).run()
    assert at.selectbox(key="sample_set").options == ["tiny"]
    assert not at.button(key="run_curation").disabled


def test_busy_database_is_shown_as_an_error(ingested: Path) -> None:
    db = Settings().database
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(60)"],  # noqa: E501
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        at = AppTest.from_file(str(LIBRARIES.path), default_timeout=TIMEOUT).run()
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    assert any("is busy" in e.value for e in at.error)
    assert at.button(key="retry_libraries")


# --------------------------------------------------------------------------- the UI layer's pieces


def test_an_unexpected_error_is_a_sentence_not_a_traceback() -> None:
    def app() -> None:
        from dashboard import ui

        class BrokenPage:
            title = "Broken"

            def run(self) -> None:
                raise ZeroDivisionError("division by zero")

        ui.run_guarded(BrokenPage())

    at = AppTest.from_function(app, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "ZeroDivisionError: division by zero" in at.error[0].value
    assert "terminal that runs Streamlit" in at.error[0].value


# Loaded when a run, a map or a chart needs them, never to open the app. pandas included: the
# first page draws no table until a tab with one is opened.
HEAVY = (
    "torch", "torchvision", "timm", "onnxruntime", "umap", "dlib", "face_recognition", "sklearn", "scipy",
    "pandas", "curation.ingest.pipeline",
)  # fmt: skip


def test_start_up_imports_nothing_heavy(ingested: Path) -> None:
    """dashboard.app and the first page it runs (Libraries & runs, on a library) import no model
    runtime, umap or pandas. Not timed: bench/dashboard_startup_bench.py measures the time."""
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(APP)!r}, default_timeout={TIMEOUT}).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "assert 'Libraries & runs' in at.title[0].value and len(at.image) == 5, 'not the first page'\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_plain_python_parts_import_without_streamlit() -> None:
    script = (
        "import sys\n"
        "import dashboard.queries, dashboard.runs, dashboard.library_choice\n"
        "print('streamlit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


def test_queries_and_issue_filter(ingested: Path) -> None:
    with Store(Settings().database).connect(read_only=True) as con:
        (library,) = list_libraries(con)
        overview = library_overview(con, library)
        issues = library_issues(con, library.library_id)
        runs = library_runs(con, library.library_id)
    assert (library.name, library.n_photos, library.n_runs) == ("photos", 5, 1)
    assert (overview.n_photos, overview.n_skipped, overview.n_warnings) == (5, 1, 0)
    assert (overview.n_issues, overview.n_runs, len(issues), len(runs)) == (1, 1, 1, 1)
    assert overview.last_run is not None and overview.last_run.run_id == runs["run_id"][0]
    assert (overview.last_run.n_new, overview.last_run.n_changed) == (6, 0)
    # The schema creates every stage's tables up front: "—" means the stage has not run here.
    assert overview.stage_counts == {"events": None, "people": None, "albums": None, "clutter": None}
    assert [p.taken_at for p in overview.recent] == sorted((p.taken_at for p in overview.recent), reverse=True)
    assert len(filter_issues(issues, ["skipped"], "NOT AN IMAGE")) == 1
    assert len(filter_issues(issues, ["warning"])) == 0
    assert len(filter_issues(issues, None, "nothing like this")) == 0


def test_a_stage_count_shows_once_its_stage_ran(ingested: Path) -> None:
    store = Store(Settings().database)
    with store.connect() as con:
        photo_id = con.execute("SELECT min(photo_id) FROM photos WHERE status = 'ok'").fetchone()[0]
        con.execute("INSERT INTO face_scans VALUES (?, 'test@1', 0)", [photo_id])
    with store.connect(read_only=True) as con:
        (library,) = list_libraries(con)
        counts = library_overview(con, library).stage_counts
    assert counts["people"] == 0  # the faces stage ran and found nobody: 0, not "—"
    assert counts["clutter"] is None and counts["albums"] is None


def test_library_choice_explains_each_problem(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", samples=tmp_path / "samples")
    demo = choose_library(Source.DEMO, settings)
    assert demo.needs_build and demo.runnable
    (tmp_path / "data" / "demo-library").mkdir(parents=True)
    (tmp_path / "data" / "demo-library" / "stray.txt").write_text("x")
    assert "holds no demo library" in choose_library(Source.DEMO, settings).problem
    assert "No sample sets found" in choose_library(Source.SAMPLE, settings).problem
    assert "Type the path" in choose_library(Source.FOLDER, settings, folder="  ").problem
    assert "Folder not found" in choose_library(Source.FOLDER, settings, folder=str(tmp_path / "x")).problem
    a_file = str(tmp_path / "data" / "demo-library" / "stray.txt")
    assert "is a file" in choose_library(Source.FOLDER, settings, folder=a_file).problem
    assert choose_library(Source.FOLDER, settings, folder=str(tmp_path)).root == tmp_path.resolve()
    assert initial_choice(None, settings)["library_source"] is Source.DEMO
    last = initial_choice(str(tmp_path), settings)
    assert last == {"library_source": Source.FOLDER, "folder_path": str(tmp_path)}


def test_one_run_per_database_and_readers_never_break_the_writer(tmp_path: Path) -> None:
    """DuckDB refuses mixed read-only/read-write connections in one process; the gate avoids it."""
    db = tmp_path / "gate.duckdb"
    registry = RunRegistry()
    release = threading.Event()

    def write(progress) -> str:  # noqa: ANN001
        for i in range(20):
            with Store(db).connect() as con:
                con.execute("INSERT INTO libraries (root, name) VALUES (?, ?)", [f"/lib/{i}", str(i)])
            progress(i + 1, 20, f"/lib/{i}")
        release.wait(10)
        return "20 libraries"

    job = registry.start(db, "test", tmp_path, [Step("write", "Write", "rows", write)])
    with pytest.raises(RunInProgressError, match="already in progress"):
        registry.start(db, "second", tmp_path, [Step("write", "Write", "rows", write)])
    seen = []
    while job.snapshot().steps[0].done < 20:
        if db.exists():
            with registry.gate(db).reader(busy_timeout_s=1) as con:
                seen.append(con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0])
    release.set()
    assert job.wait(30)
    snapshot = job.snapshot()
    assert snapshot.error is None, snapshot.error
    assert snapshot.steps[0].summary == "20 libraries" and snapshot.steps[0].fraction == 1.0
    with registry.gate(db).reader(busy_timeout_s=1) as con:  # read-only again, after the run
        assert con.execute("SELECT count(*) FROM libraries").fetchone() == (20,)
    assert duckdb.connect(str(db), read_only=True).execute("SELECT 1").fetchone() == (1,)


def test_a_failing_step_reports_a_clear_error_and_skips_the_rest(tmp_path: Path) -> None:
    def missing(progress) -> str:  # noqa: ANN001
        raise FileNotFoundError(f"Library folder not found: {tmp_path / 'gone'}")

    registry = RunRegistry()
    job = registry.start(
        tmp_path / "x.duckdb",
        "test",
        tmp_path,
        [Step("a", "A", "fails", missing), Step("b", "B", "never runs", lambda p: "no")],
    )
    assert job.wait(10)
    snapshot = job.snapshot()
    assert snapshot.state == "failed" and "Library folder not found" in snapshot.error
    assert [s.state for s in snapshot.steps] == ["failed", "skipped"]

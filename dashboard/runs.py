"""Running the engine from the dashboard: a curation run in a background thread.

A run is a list of :class:`Step` s (build the demo library, then each engine stage: ingest,
faces, vision, and whatever ``curation.pipeline.runner`` adds), each reporting
``(done, total, item)`` progress. The run executes in a
thread, not in the page script, so a click elsewhere in the app (which makes Streamlit
stop the script) cannot abort it halfway; pages poll :meth:`CurationJob.snapshot`.

DuckDB refuses, inside one process, a read-only connection to a file that a read-write
connection has open (and the other way round). :class:`DatabaseGate` makes the dashboard's
readers and its one writer take turns: while a run writes, readers share the writer's
configuration instead of opening the file read-only.

Plain Python (no Streamlit); ``dashboard.data`` keeps the process-wide registry.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from curation.settings import Settings
from curation.store import Store, StoreError

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]


class RunError(Exception):
    """A run cannot start or go on, for a reason the user can fix (the message says how)."""


class RunInProgressError(RunError):
    pass


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # not reached because an earlier step failed


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Step:
    name: str  # short id, e.g. "ingest"
    label: str  # what the progress display calls it
    detail: str  # what it does, in a few words
    run: Callable[[ProgressFn], str]  # reports progress, returns a one-line summary


@dataclass(frozen=True)
class StepProgress:
    name: str
    label: str
    detail: str
    state: StepState = StepState.PENDING
    done: int = 0
    total: int | None = None  # None until the step knows how much there is
    item: str = ""  # what it works on now (a file)
    seconds: float = 0.0
    summary: str = ""

    @property
    def fraction(self) -> float:
        if self.state is StepState.DONE:
            return 1.0
        if not self.total:
            return 0.0
        return min(1.0, self.done / self.total)


@dataclass(frozen=True)
class JobSnapshot:
    job_id: int
    title: str
    library_root: Path
    state: JobState
    steps: tuple[StepProgress, ...]
    started_at: datetime
    seconds: float
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state is JobState.RUNNING


class DatabaseGate:
    """Lets the dashboard's readers and its one writer of a database file take turns.

    Readers open the file read-only (so a `curation run` in another process may write
    between two page refreshes); while a run of this process writes, readers use the
    writer's read-write configuration, which DuckDB shares inside one process.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cond = threading.Condition()
        self._readers = 0  # read-only connections open now
        self._writing = False

    @property
    def writing(self) -> bool:
        return self._writing

    @contextmanager
    def writer(self) -> Iterator[None]:
        with self._cond:
            if self._writing:
                raise RunInProgressError(f"A run is already writing to {self.path}.")
            self._writing = True
            # New readers now share the writer's configuration; wait for the old ones.
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    @contextmanager
    def reader(self, busy_timeout_s: float) -> Iterator[object]:
        """A DuckDB connection for reading; raises StoreError/StoreBusyError with a clear message."""
        import duckdb

        with self._cond:
            shared = self._writing
            if not shared:
                self._readers += 1
        try:
            if shared:
                try:
                    con = duckdb.connect(str(self.path))
                except duckdb.Error as exc:
                    raise StoreError(f"Cannot read {self.path} while a run writes to it: {exc}") from exc
                try:
                    yield con
                finally:
                    con.close()
            else:
                with Store(self.path, busy_timeout_s=busy_timeout_s).connect(read_only=True) as con:
                    yield con
        finally:
            if not shared:
                with self._cond:
                    self._readers -= 1
                    self._cond.notify_all()


class CurationJob:
    """One run of a list of steps in a daemon thread; thread-safe snapshots for the UI."""

    def __init__(
        self, job_id: int, title: str, library_root: Path, steps: list[Step], gate: DatabaseGate
    ) -> None:
        if not steps:
            raise ValueError("A run needs at least one step.")
        self.job_id = job_id
        self._title = title
        self._root = library_root
        self._steps = steps
        self._gate = gate
        self._lock = threading.Lock()
        self._progress = [StepProgress(s.name, s.label, s.detail) for s in steps]
        self._state = JobState.RUNNING
        self._error: str | None = None
        self._started_at = datetime.now()
        self._t0 = time.perf_counter()
        self._t_end: float | None = None
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"curation-run-{job_id}", daemon=True)

    def start(self) -> CurationJob:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the run has finished (tests and the CLI-like callers use it)."""
        return self._finished.wait(timeout)

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            end = self._t_end if self._t_end is not None else time.perf_counter()
            return JobSnapshot(
                job_id=self.job_id,
                title=self._title,
                library_root=self._root,
                state=self._state,
                steps=tuple(self._progress),
                started_at=self._started_at,
                seconds=end - self._t0,
                error=self._error,
            )

    def _update(self, index: int, **changes: object) -> None:
        with self._lock:
            self._progress[index] = replace(self._progress[index], **changes)

    def _run(self) -> None:
        try:
            with self._gate.writer():
                for index, step in enumerate(self._steps):
                    self._run_step(index, step)
        except RunError as exc:  # only raised by the gate, before any step ran
            self._fail(None, str(exc))
        finally:
            with self._lock:
                if self._state is JobState.RUNNING:
                    self._state = JobState.DONE
                self._t_end = time.perf_counter()
            self._finished.set()

    def _run_step(self, index: int, step: Step) -> None:
        if self._state is not JobState.RUNNING:
            self._update(index, state=StepState.SKIPPED)
            return
        t0 = time.perf_counter()
        self._update(index, state=StepState.RUNNING)

        def progress(done: int, total: int, item: str) -> None:
            self._update(index, done=done, total=total, item=item, seconds=time.perf_counter() - t0)

        try:
            summary = step.run(progress)
        except (RunError, StoreError, OSError) as exc:
            # Expected failures (missing folder, busy database, ...) carry their own fix.
            self._fail(index, str(exc), t0)
        except Exception as exc:  # noqa: BLE001 - the thread's top level: report, never die silently
            logger.exception("Step %s of run %s failed", step.name, self.job_id)
            self._fail(
                index,
                f"Unexpected error in the {step.label.lower()} step: {type(exc).__name__}: {exc}. "
                "The full traceback is in the terminal that runs Streamlit; please report it.",
                t0,
            )
        else:
            self._update(
                index, state=StepState.DONE, item="", summary=summary, seconds=time.perf_counter() - t0
            )

    def _fail(self, index: int | None, message: str, t0: float | None = None) -> None:
        if index is not None:
            self._update(
                index,
                state=StepState.FAILED,
                seconds=time.perf_counter() - (t0 or self._t0),
            )
        with self._lock:
            self._state = JobState.FAILED
            self._error = message
            for i, p in enumerate(self._progress):
                if p.state is StepState.PENDING:
                    self._progress[i] = replace(p, state=StepState.SKIPPED)


@dataclass
class RunRegistry:
    """All runs of this Streamlit process, one writer per database file at a time."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gates: dict[Path, DatabaseGate] = field(default_factory=dict)
    _jobs: dict[int, CurationJob] = field(default_factory=dict)
    _latest: dict[Path, int] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def gate(self, db: Path) -> DatabaseGate:
        db = Path(db).resolve()
        with self._lock:
            if db not in self._gates:
                self._gates[db] = DatabaseGate(db)
            return self._gates[db]

    def start(self, db: Path, title: str, library_root: Path, steps: list[Step]) -> CurationJob:
        db = Path(db).resolve()
        gate = self.gate(db)
        with self._lock:
            current = self._jobs.get(self._latest.get(db, -1))
            if current is not None and current.running:
                raise RunInProgressError(
                    f"A run is already in progress on {db} ({current.snapshot().title}); "
                    "wait for it to finish."
                )
            job = CurationJob(next(self._ids), title, library_root, steps, gate)
            self._jobs[job.job_id] = job
            self._latest[db] = job.job_id
        return job.start()

    def latest(self, db: Path) -> CurationJob | None:
        with self._lock:
            return self._jobs.get(self._latest.get(Path(db).resolve(), -1))

    def get(self, job_id: int) -> CurationJob | None:
        with self._lock:
            return self._jobs.get(job_id)


# --------------------------------------------------------------------------- the steps

# How the progress display names the engine's stages (curation.pipeline.runner.Stage);
# a stage missing here still runs and shows under its own name.
STAGE_LABELS: dict[str, tuple[str, str]] = {
    "ingest": ("Ingest", "scan, decode, hash, read metadata, thumbnails"),
    "faces": ("Faces", "detect faces, group them into people"),
    "vision": ("Vision", "embeddings, themes, clutter"),
    "events": ("Events", "events, trips, home, places, holidays"),
    "albums": ("Albums", "Memories: photo selection, titles, captions"),
}


def pipeline_stages() -> list[str]:
    """The engine's stages in pipeline order (what `curation run --stages` accepts)."""
    from curation.pipeline.runner import ALL_STAGES  # light: the stages load their models lazily

    return [stage.value for stage in ALL_STAGES]


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, (stage.capitalize(), ""))[0]


def curation_steps(
    root: Path, settings: Settings, stages: list[str], *, build_demo: bool = False, seed: int = 0
) -> list[Step]:
    """The steps of "Run curation" on ``root``: one per engine stage, each with its progress line."""
    steps: list[Step] = []
    if build_demo:
        steps.append(demo_step(root, seed=seed))
    for stage in stages:
        label, detail = STAGE_LABELS.get(stage, (stage.capitalize(), ""))
        steps.append(Step(stage, label, detail, partial(_run_stage, root, settings, stage)))
    return steps


def demo_step(out: Path, *, seed: int = 0) -> Step:
    detail = "build it from photos in installed packages"
    return Step("demo", "Demo library", detail, partial(_build_demo, out, seed))


def _build_demo(out: Path, seed: int, progress: ProgressFn) -> str:
    try:
        from curation.demo.library import build_demo_library
    except ModuleNotFoundError as exc:
        raise RunError(
            f"The demo library builder is not installed ({exc.name} is missing). "
            "Update the checkout, or choose a sample set or a folder instead."
        ) from exc
    progress(0, 1, f"writing {out}")
    try:
        manifest = build_demo_library(out, seed=seed)
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    progress(1, 1, "")
    return f"{len(manifest.files)} files written to {out}"


def _run_stage(root: Path, settings: Settings, stage: str, progress: ProgressFn) -> str:
    # Imported here, not at start-up: the dashboard opens without the engine's heavy parts.
    from curation.pipeline.runner import parse_stages, run_library

    try:
        (chosen,) = parse_stages([stage])
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    result = run_library(
        root,
        Store(settings.database),
        settings,
        stages=[chosen],
        progress=lambda _stage, done, total, item: progress(done, total, item),
    )
    return summarize(stage, result.reports.get(chosen))


def _ingest_summary(report: Any) -> str:
    parts = [f"{report.n_new} new", f"{report.n_changed} changed", f"{report.n_unchanged} unchanged"]
    if report.n_removed:
        parts.append(f"{report.n_removed} removed")
    parts += [f"{report.n_skipped} skipped", f"{report.n_warnings} warnings"]
    return f"{report.n_files} files: " + ", ".join(parts)


def _faces_summary(report: Any) -> str:
    return f"{report.n_scanned} photos scanned: {report.n_faces} faces, {report.n_persons} people"


def _vision_summary(report: Any) -> str:
    missing = f", {report.n_missing_thumbnail} without thumbnail" if report.n_missing_thumbnail else ""
    return f"{report.n_embedded} photos embedded{missing}"


# One line about a stage's report for its progress line; other stages just say "done".
SUMMARIES: dict[str, Callable[[Any], str]] = {
    "ingest": _ingest_summary,
    "faces": _faces_summary,
    "vision": _vision_summary,
}


def summarize(stage: str, report: Any) -> str:
    if report is None or stage not in SUMMARIES:
        return "done"
    return SUMMARIES[stage](report)

"""``run_library``: every stage of a curation run, in order, with per-stage progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from curation.settings import Settings
from curation.store import Store


class Stage(StrEnum):
    INGEST = "ingest"
    FACES = "faces"  # detection, embeddings, people (before vision: themes use face counts)
    VISION = "vision"  # embeddings, themes, clutter, quality
    EVENTS = "events"  # events, trips, home, places (after vision: clutter is left out)
    ALBUMS = "albums"  # Memories: candidates, photo selection, titles and captions


ALL_STAGES: tuple[Stage, ...] = tuple(Stage)

# progress(stage, done, total, item)
StageProgressFn = Callable[[Stage, int, int, str], None]


@dataclass
class RunReport:
    library_id: int
    stages: list[Stage]
    reports: dict[Stage, Any] = field(default_factory=dict)
    seconds: dict[Stage, float] = field(default_factory=dict)  # wall time per stage
    cpu_seconds: dict[Stage, float] = field(default_factory=dict)  # all threads of this process


def parse_stages(text: str | Sequence[str] | None) -> list[Stage]:
    if text is None:
        return list(ALL_STAGES)
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    valid = ", ".join(s.value for s in ALL_STAGES)
    stages = []
    for name in names:
        try:
            stages.append(Stage(name))
        except ValueError:
            raise ValueError(f"Unknown stage {name!r}. Valid stages: {valid}.") from None
    return [s for s in ALL_STAGES if s in stages]  # always in pipeline order


def run_library(
    root: Path,
    store: Store,
    settings: Settings,
    *,
    stages: Sequence[Stage] = ALL_STAGES,
    progress: StageProgressFn | None = None,
    models: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> RunReport:
    """Ingest ``root`` and run the model stages on what is new. ``models`` injects
    already-loaded models (``embedder``, ``face_model``) so callers can share them."""
    from curation.ingest.pipeline import finish_run, register_library, start_run

    if not Path(root).is_dir():
        raise FileNotFoundError(f"Library folder not found: {root}")
    models = models or {}

    def stage_progress(stage: Stage) -> Callable[[int, int, str], None] | None:
        if progress is None:
            return None
        return lambda done, total, item: progress(stage, done, total, item)

    report = RunReport(library_id=register_library(store, root), stages=list(stages))
    run_id = start_run(store, report.library_id, ",".join(s.value for s in stages), now or datetime.now())
    try:
        _run_stages(root, store, settings, stages, report, run_id, models, stage_progress, now)
    except BaseException as exc:
        finish_run(store, run_id, error=exc)
        raise
    finish_run(store, run_id)
    return report


def _run_stages(root, store, settings, stages, report, run_id, models, stage_progress, now) -> None:  # noqa: ANN001
    def timed(stage: Stage, run: Callable[[], Any]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        report.reports[stage] = run()
        report.seconds[stage] = time.perf_counter() - wall
        report.cpu_seconds[stage] = time.process_time() - cpu

    if Stage.INGEST in stages:
        from curation.ingest.pipeline import ingest_library

        timed(Stage.INGEST, lambda: ingest_library(
            root, store, settings, progress=stage_progress(Stage.INGEST), now=now, run_id=run_id
        ))  # fmt: skip
    if Stage.FACES in stages:
        from curation.pipeline.faces_stage import run_faces_stage

        timed(Stage.FACES, lambda: run_faces_stage(
            store, settings, report.library_id, face_model=models.get("face_model"), progress=stage_progress(Stage.FACES)
        ))  # fmt: skip
    if Stage.VISION in stages:
        from curation.pipeline.vision_stage import run_vision_stage

        timed(Stage.VISION, lambda: run_vision_stage(
            store, settings, report.library_id, embedder=models.get("embedder"), progress=stage_progress(Stage.VISION)
        ))  # fmt: skip
    if Stage.EVENTS in stages:
        from curation.pipeline.events_stage import run_events_stage

        timed(Stage.EVENTS, lambda: run_events_stage(
            store, settings, report.library_id, progress=stage_progress(Stage.EVENTS)
        ))  # fmt: skip
    if Stage.ALBUMS in stages:
        from curation.pipeline.albums_stage import run_albums_stage

        timed(Stage.ALBUMS, lambda: run_albums_stage(
            store, settings, report.library_id, progress=stage_progress(Stage.ALBUMS)
        ))  # fmt: skip

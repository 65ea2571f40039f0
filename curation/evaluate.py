"""``curation evaluate``: every model's quality on the labelled sample sets, in one report.

    from curation.evaluate import evaluate_all
    results = evaluate_all(Settings())          # prints the tables, returns the numbers

* faces: BCubed precision / recall / F of the face clustering on ``faces/``
  (:mod:`curation.faces.evaluate`), all files and byte-unique files;
* themes: top-1 / top-3 theme accuracy on the labelled photos of ``themed/``
  (:mod:`curation.vision.evaluate_themes`);
* clutter: per-category precision / recall and accuracy of the shipped clutter head on
  its held-out split (:func:`curation.vision.train_clutter.evaluate_held_out`).

Each task is reported under the model version that produced it, and with ``save`` the
numbers go into the store's ``model_versions.metrics`` (JSON) for that version, where
the dashboard's model-quality page reads them. docs/model-quality.md has the numbers
measured on the reference machine and the targets.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from curation.settings import Settings


class EvalTask(StrEnum):
    FACES = "faces"
    THEMES = "themes"
    CLUTTER = "clutter"


ALL_TASKS: tuple[EvalTask, ...] = tuple(EvalTask)

# What each task must reach (docs/model-quality.md); the report marks each number.
TARGETS: dict[EvalTask, tuple[str, float]] = {
    EvalTask.FACES: ("bcubed_f", 0.95),
    EvalTask.CLUTTER: ("accuracy", 0.97),
}


def parse_tasks(tasks: str | Sequence[str] | None) -> list[EvalTask]:
    if tasks is None:
        return list(ALL_TASKS)
    names = [t.strip() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t.strip()]
    out = []
    for name in names:
        try:
            out.append(EvalTask(name))
        except ValueError:
            raise ValueError(
                f"unknown evaluation task {name!r}; valid tasks: {', '.join(t.value for t in ALL_TASKS)}"
            ) from None
    return [t for t in ALL_TASKS if t in out]


def _heading(title: str, out: TextIO) -> None:
    print(f"\n== {title}", file=out)


def _mark(value: float, target: float) -> str:
    return f"target >= {target:.2f}: {'met' if value >= target else 'NOT MET'}"


def evaluate_faces(samples: Path, out: TextIO, *, face_model: Any = None) -> dict[str, Any]:
    from curation.faces.detector import create_face_model
    from curation.faces.evaluate import GROUP_PHOTOS, detect_samples, format_table, score_clustering

    faces_dir = samples / "faces"
    if not faces_dir.is_dir():
        raise FileNotFoundError(f"no faces/ folder in {samples}; set CURATION_SAMPLES to the shared sample sets")
    model = face_model or create_face_model()
    photos = detect_samples(faces_dir, model)
    scores = [score_clustering(photos, unique_files=u) for u in (False, True)]
    _heading(f"faces: clustering on {faces_dir.name}/ ({len(photos)} photos, {len(GROUP_PHOTOS)} "
             f"labelled group photos) | model {model.model_version}", out)
    print(format_table(scores), file=out)
    f_all = scores[0].f1
    print(f"BCubed F (all files) {f_all:.3f}, {_mark(f_all, TARGETS[EvalTask.FACES][1])}", file=out)
    if scores[0].missed:
        print("not detected: " + ", ".join(scores[0].missed), file=out)
    return {
        "model_version": model.model_version,
        "bcubed_f": f_all,
        "bcubed_precision": scores[0].precision,
        "bcubed_recall": scores[0].recall,
        "subsets": [asdict(s) for s in scores],
    }


def evaluate_theme_accuracy(samples: Path, embedder: Any, out: TextIO) -> dict[str, Any]:
    from curation.vision.evaluate_themes import evaluate_themes

    result = evaluate_themes(samples, embedder, verbose=False)
    _heading(f"themes: top-1 / top-3 on themed/ ({result['n']} labelled photos) | model "
             f"{result['model_version']} + {_themes_version()}", out)
    print(f"{'theme':20s} {'n':>3s} {'top-1':>6s} {'top-3':>6s}", file=out)
    for theme, m in result["per_theme"].items():
        print(f"{theme:20s} {m['n']:3d} {m['top1']:6.2f} {m['top3']:6.2f}", file=out)
    print(f"{'all':20s} {result['n']:3d} {result['top1']:6.2f} {result['top3']:6.2f}", file=out)
    misses = [r["file"] for r, h3 in zip(result["rows"], result["hit3"], strict=True) if not h3]
    if misses:
        print("not in the top 3: " + ", ".join(misses), file=out)
    return {
        "model_version": f"{result['model_version']}+{_themes_version()}",
        "n": result["n"],
        "top1": result["top1"],
        "top3": result["top3"],
        "recall_at_threshold": result["recall_at_threshold"],
        "per_theme": {str(k): v for k, v in result["per_theme"].items()},
    }


def _themes_version() -> str:
    from curation.pipeline.vision_stage import THEMES_VERSION

    return THEMES_VERSION


def evaluate_clutter(samples: Path, embedder: Any, out: TextIO, *, classifier: Any = None) -> dict[str, Any]:
    from curation.vision.clutter import ClutterClassifier
    from curation.vision.train_clutter import evaluate_held_out, format_metrics

    classifier = (classifier or ClutterClassifier()).load()
    metrics = evaluate_held_out(samples, embedder, classifier)
    record = classifier.record
    _heading(f"clutter: held-out split of the training sets (seed {record.get('seed')}, "
             f"{record.get('test_fraction')} held out) | model {classifier.model_version} "
             f"on {embedder.model_version}", out)
    format_metrics(metrics, out)
    accuracy = metrics["full"].accuracy
    print(f"clutter accuracy {accuracy:.3f}, {_mark(accuracy, TARGETS[EvalTask.CLUTTER][1])}", file=out)
    return {
        "model_version": classifier.model_version,
        "embedder_model_version": embedder.model_version,
        "accuracy": accuracy,
        "per_category": metrics["full"].per_category,
        "splits": {name: m.as_dict() for name, m in metrics.items()},
    }


def save_metrics(settings: Settings, results: dict[str, dict[str, Any]]) -> None:
    """Upsert each task's numbers into ``model_versions.metrics`` under its model version."""
    from curation.store import Store

    with Store(settings.database).connect() as con:
        for task, result in results.items():
            con.execute(
                "INSERT INTO model_versions (task, model_version, metrics) VALUES (?, ?, ?) "
                "ON CONFLICT (task, model_version) DO UPDATE SET metrics = excluded.metrics",
                [task, result["model_version"], json.dumps(result, default=float)],
            )


def evaluate_all(
    settings: Settings,
    out: TextIO = sys.stdout,
    *,
    tasks: Sequence[EvalTask | str] | str | None = None,
    save: bool = True,
    embedder: Any = None,
    face_model: Any = None,
) -> dict[str, Any]:
    """Evaluate every model on ``settings.samples``, print one table per task to ``out``,
    store the numbers in ``model_versions.metrics`` (``save``) and return them.

    ``embedder`` / ``face_model`` may be passed in already loaded (the dashboard caches them).
    Raises FileNotFoundError when the sample sets are missing.
    """
    chosen = parse_tasks(tasks)
    samples = Path(settings.samples)
    if not samples.is_dir():
        raise FileNotFoundError(
            f"the labelled sample sets are not at {samples}; set CURATION_SAMPLES to their folder"
        )
    if embedder is None and {EvalTask.THEMES, EvalTask.CLUTTER} & set(chosen):
        from curation.vision import create_embedder

        embedder = create_embedder(settings.embedder, cache_dir=settings.model_cache)
    results: dict[str, Any] = {}
    started = time.perf_counter()
    print(f"Evaluating {', '.join(t.value for t in chosen)} on {samples}", file=out)
    if EvalTask.FACES in chosen:
        results[EvalTask.FACES.value] = evaluate_faces(samples, out, face_model=face_model)
    if EvalTask.THEMES in chosen:
        results[EvalTask.THEMES.value] = evaluate_theme_accuracy(samples, embedder, out)
    if EvalTask.CLUTTER in chosen:
        results[EvalTask.CLUTTER.value] = evaluate_clutter(samples, embedder, out)
    _heading("summary", out)
    print(f"{'task':8s} {'metric':10s} {'value':>6s}  {'target':>6s}  model version", file=out)
    for task, result in results.items():
        metric, target = TARGETS.get(EvalTask(task), ("top1", float("nan")))
        value = float(result[metric])
        status = "" if target != target else ("met" if value >= target else "NOT MET")
        target_s = "-" if target != target else f"{target:.2f}"
        print(f"{task:8s} {metric:10s} {value:6.3f}  {target_s:>6s}  {result['model_version']} {status}", file=out)
    print(f"({time.perf_counter() - started:.0f} s)", file=out)
    if save and results:
        save_metrics(settings, results)
        print(f"saved to model_versions.metrics in {settings.database}", file=out)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m curation.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=None, help="comma-separated: faces,themes,clutter (default: all)")
    parser.add_argument("--no-save", action="store_true", help="do not write model_versions.metrics")
    args = parser.parse_args(argv)
    evaluate_all(Settings(), tasks=args.tasks, save=not args.no_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``curation train``: retrain the theme and clutter heads on the labels people gave.

1. Labels: the annotations pulled from Label Studio (``labels``), one answer per photo by
   majority over annotators (an annotator's latest answer counts once; a tie is left out),
   plus, unless ``bootstrap=False``, pseudo-labels from the engine's own confident
   predictions (the labels the shipped models were bootstrapped with): themes it is sure
   of (score >= 0.6 yes, < 0.1 no) and clutter calls at >= 0.9, weighted lower.
2. A seeded held-out split of the *human*-labelled photos (pseudo-labels never score a model).
3. :func:`curation.training.heads.fit_heads` on the stored embeddings.
4. A new model version ``heads@<n>-<hash>``: weights under ``<data_dir>/models/heads/``, the
   held-out metrics (and the previous version's on the same photos) in ``model_versions``
   and ``training_runs``.
5. Every photo with an embedding is re-scored: ``photo_predictions``, ``photo_themes`` and
   ``photo_clutter`` rows under the new version (clutter keeps the file-metadata priors of
   :mod:`curation.vision.clutter`), so albums, events and the next mining use it.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from curation.settings import Settings
from curation.store import Store
from curation.training.heads import HeadsError, HeadsWeights, TrainingData, fit_heads
from curation.vision.clutter import CATEGORIES, ClutterCategory, FileFacts, fuse, metadata_priors
from curation.vision.themes import THEMES, Theme, top_themes

VERSION_PREFIX = "heads@"
TEST_FRACTION = 0.25
MIN_HELD_OUT = 4  # fewer human-labelled photos than this: train on all, report no held-out metrics
THEME_THRESHOLD = 0.5  # the theme head is calibrated as a probability: a theme at >= 0.5
BOOTSTRAP_THEME_YES = 0.6
BOOTSTRAP_THEME_NO = 0.1
BOOTSTRAP_CLUTTER = 0.9
BOOTSTRAP_WEIGHT = 0.3  # one human label outweighs three pseudo-labels


class NotEnoughLabels(ValueError):
    """Too few labels to train; the message says how to get more."""


@dataclass(frozen=True)
class TrainingRun:
    run_id: int
    model_version: str
    embedder: str
    seed: int
    metrics: dict[str, Any]
    weights_path: Path
    n_human: int
    n_bootstrap: int
    n_predicted: int
    seconds: float

    def summary(self) -> str:
        lines = [f"trained {self.model_version} on {self.n_human} human + {self.n_bootstrap} bootstrap labels "
                 f"({self.embedder} embeddings, seed {self.seed}); re-scored {self.n_predicted} photos"]  # fmt: skip
        for head in ("themes", "clutter"):
            m = self.metrics.get(head, {})
            if m.get("trained"):
                held, base = m.get("held_out") or {}, m.get("baseline") or {}
                lines.append(f"  {head}: held-out {json.dumps(held)}; previous {base.get('model_version')}: "
                             f"{json.dumps({k: v for k, v in base.items() if k != 'model_version'})}")  # fmt: skip
            else:
                lines.append(f"  {head}: not trained ({m.get('why', 'no labels')})")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- metrics (pure)


def theme_metrics(true: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Multi-label metrics on 0/1 matrices [N, len(THEMES)]: micro/macro F1 and exact-set accuracy."""
    true, predicted = np.asarray(true, dtype=bool), np.asarray(predicted, dtype=bool)
    if true.shape != predicted.shape:
        raise ValueError(f"true {true.shape} and predicted {predicted.shape} differ")
    n = len(true)
    if n == 0:
        return {"n": 0}
    tp = (true & predicted).sum(axis=0)
    fp = (~true & predicted).sum(axis=0)
    fn = (true & ~predicted).sum(axis=0)
    per_theme = {}
    for j, theme in enumerate(THEMES):
        if true[:, j].any() or predicted[:, j].any():
            per_theme[theme.value] = round(_f1(tp[j], fp[j], fn[j]), 4)
    present = [j for j in range(len(THEMES)) if true[:, j].any()]
    return {
        "n": int(n),
        "f1_micro": round(_f1(tp.sum(), fp.sum(), fn.sum()), 4),
        "f1_macro": round(float(np.mean([_f1(tp[j], fp[j], fn[j]) for j in present])), 4) if present else None,
        "exact_match": round(float((true == predicted).all(axis=1).mean()), 4),
        "per_theme_f1": per_theme,
    }


def clutter_metrics(true: Sequence[int], predicted: Sequence[int]) -> dict[str, Any]:
    """Category accuracy, macro F1 over the categories present, and clutter-vs-photo precision/recall."""
    t, p = np.asarray(true, dtype=int), np.asarray(predicted, dtype=int)
    if t.shape != p.shape:
        raise ValueError(f"true {t.shape} and predicted {p.shape} differ")
    if len(t) == 0:
        return {"n": 0}
    photo = CATEGORIES.index(ClutterCategory.PHOTO)
    present = sorted(set(t.tolist()))
    f1s = [_f1(((t == c) & (p == c)).sum(), ((t != c) & (p == c)).sum(), ((t == c) & (p != c)).sum()) for c in present]
    tc, pc = t != photo, p != photo
    return {
        "n": int(len(t)),
        "accuracy": round(float((t == p).mean()), 4),
        "f1_macro": round(float(np.mean(f1s)), 4),
        "clutter_precision": round(float((tc & pc).sum() / pc.sum()), 4) if pc.any() else None,
        "clutter_recall": round(float((tc & pc).sum() / tc.sum()), 4) if tc.any() else None,
    }


def _f1(tp: float, fp: float, fn: float) -> float:
    denominator = 2 * tp + fp + fn
    return float(2 * tp / denominator) if denominator else 1.0


def split_held_out(photo_ids: Sequence[int], seed: int, fraction: float = TEST_FRACTION) -> set[int]:
    """A seeded held-out set of photos (empty below MIN_HELD_OUT photos)."""
    ids = sorted({int(p) for p in photo_ids})
    if len(ids) < MIN_HELD_OUT:
        return set()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ids))
    n_test = max(1, math.ceil(fraction * len(ids)))
    return {ids[i] for i in order[:n_test]}


# ----------------------------------------------------------------------------- labels


def human_labels(con: duckdb.DuckDBPyConnection) -> tuple[dict[int, np.ndarray], dict[int, int], int]:
    """Majority answer per photo: (theme rows with NaN for ties, clutter index, items left out as ties)."""
    rows = con.execute(
        "SELECT task_type, photo_id, annotator, value FROM labels WHERE NOT cancelled AND value IS NOT NULL "
        "AND task_type IN ('themes', 'clutter') "
        "QUALIFY row_number() OVER (PARTITION BY ls_url, item_id, annotator ORDER BY updated_at DESC NULLS LAST, "
        "annotation_id DESC) = 1"
    ).fetchall()
    theme_votes: dict[int, list[set[str]]] = defaultdict(list)
    clutter_votes: dict[int, list[str]] = defaultdict(list)
    for task_type, photo_id, _annotator, value in rows:
        answer = json.loads(value)
        if task_type == "themes":
            theme_votes[int(photo_id)].append(set(answer))
        else:
            clutter_votes[int(photo_id)].append(str(answer))
    ties = 0
    themes: dict[int, np.ndarray] = {}
    for pid, votes in theme_votes.items():
        row = np.full(len(THEMES), np.nan)
        for j, theme in enumerate(THEMES):
            yes = sum(theme.value in v for v in votes)
            if 2 * yes != len(votes):
                row[j] = 1.0 if 2 * yes > len(votes) else 0.0
        if np.isnan(row).all():
            ties += 1
        else:
            themes[pid] = row
    clutter: dict[int, int] = {}
    for pid, votes in clutter_votes.items():
        (best, n), *rest = Counter(votes).most_common() + [("", 0)]
        if rest and rest[0][1] == n:
            ties += 1
            continue
        clutter[pid] = CATEGORIES.index(ClutterCategory(best))
    return themes, clutter, ties


def _base_version(con: duckdb.DuckDBPyConnection, table: str, task: str, *, original: bool) -> str | None:
    """The current version of ``table`` (``original``: among versions not made by this module)."""
    exclude = f"WHERE t.model_version NOT LIKE '{VERSION_PREFIX}%'" if original else ""
    rows = con.execute(
        f"SELECT t.model_version FROM {table} t "  # noqa: S608 - fixed names
        "LEFT JOIN model_versions mv ON mv.task = ? AND mv.model_version = t.model_version "
        f"{exclude} GROUP BY t.model_version "
        "ORDER BY count(*) DESC, max(mv.created_at) DESC NULLS LAST, t.model_version DESC LIMIT 1",
        [task],
    ).fetchall()
    return rows[0][0] if rows else None


def _embedder(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "SELECT e.model_version FROM embeddings e LEFT JOIN model_versions mv ON mv.task = 'embedder' "
        "AND mv.model_version = e.model_version GROUP BY e.model_version "
        "ORDER BY count(*) DESC, max(mv.created_at) DESC NULLS LAST, e.model_version DESC LIMIT 1"
    ).fetchall()
    if not rows:
        raise NotEnoughLabels("no embeddings in the store: run the vision stage first (`curation run LIBRARY`)")
    return rows[0][0]


# ----------------------------------------------------------------------------- training


def train_heads(
    store: Store,
    settings: Settings,
    seed: int = 0,
    *,
    bootstrap: bool = True,
    test_fraction: float = TEST_FRACTION,
    l2: float = 1e-2,
    min_labels: int = 2,
) -> TrainingRun:
    """Train, evaluate, version and apply the heads (see the module doc)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    started_at, started = datetime.now(), time.perf_counter()
    with store.connect() as con:
        embedder = _embedder(con)
        emb = con.execute(
            "SELECT e.photo_id, e.vector FROM embeddings e JOIN photos p ON p.photo_id = e.photo_id "
            "AND p.status = 'ok' WHERE e.model_version = ? ORDER BY e.photo_id",
            [embedder],
        ).fetchall()
        vectors = {int(pid): np.asarray(v, dtype=np.float32) for pid, v in emb}
        human_themes, human_clutter, ties = human_labels(con)
        n_labels_total = len(human_themes) + len(human_clutter)
        human_themes = {p: r for p, r in human_themes.items() if p in vectors}
        human_clutter = {p: c for p, c in human_clutter.items() if p in vectors}
        base_theme = _base_version(con, "photo_predictions", "themes", original=False)
        base_clutter = _base_version(con, "photo_clutter", "clutter", original=False)
        boot_themes, boot_clutter = ({}, {})
        if bootstrap:
            boot_themes, boot_clutter = _bootstrap_labels(con)
    human_ids = set(human_themes) | set(human_clutter)
    if not human_ids:
        raise NotEnoughLabels(
            f"no human labels to train on ({n_labels_total} labelled photos, {ties} left out as ties): "
            "push hard cases (`curation label push`), annotate them in Label Studio, then `curation label pull`"
        )
    held_out = split_held_out(sorted(human_ids), seed, test_fraction)
    train_ids = sorted((human_ids - held_out) | ((set(boot_themes) | set(boot_clutter)) - held_out - human_ids))
    train_ids = [p for p in train_ids if p in vectors]
    data = _training_data(train_ids, vectors, human_themes, human_clutter, boot_themes, boot_clutter)
    try:
        weights = fit_heads(data, seed=seed, l2=l2, min_labels=min_labels)
    except HeadsError as exc:
        raise NotEnoughLabels(f"{exc}; label more photos (`curation label push`, then `curation label pull`)") from None

    with store.connect() as con:
        n_run = int(con.execute("SELECT count(*) FROM training_runs").fetchone()[0]) + 1
        version = f"{VERSION_PREFIX}{n_run}-{weights.digest()[:8]}"
        metrics = _metrics(
            con, weights, vectors, held_out, human_themes, human_clutter, base_theme, base_clutter, data, seed, ties
        )
    weights_path = settings.data_dir / "models" / "heads" / f"{version.replace('@', '-')}.npz"
    weights.save(weights_path)
    n_predicted = apply_heads(store, weights, version, embedder)
    seconds = time.perf_counter() - started
    metrics["seconds"] = round(seconds, 3)
    n_human = len([p for p in train_ids if p in human_ids])
    n_boot = len(train_ids) - n_human
    metrics_json = json.dumps(metrics, sort_keys=True)
    with store.connect() as con:
        con.begin()
        for task in ("themes", "clutter"):
            if metrics[task]["trained"]:
                con.execute(
                    "INSERT OR REPLACE INTO model_versions (task, model_version, created_at, metrics) VALUES (?, ?, ?, ?)",
                    [task, version, datetime.now(), json.dumps(task_metrics(metrics, task))],
                )
        run_id = int(
            con.execute(
                "INSERT INTO training_runs (model_version, embedder, seed, started_at, seconds, n_human, n_bootstrap, "
                "n_predicted, weights_path, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING run_id",
                [version, embedder, seed, started_at, seconds, n_human, n_boot, n_predicted, str(weights_path),
                 metrics_json],
            ).fetchone()[0]
        )  # fmt: skip
        con.commit()
    return TrainingRun(run_id, version, embedder, seed, metrics, weights_path, n_human, n_boot, n_predicted, seconds)


def _bootstrap_labels(con: duckdb.DuckDBPyConnection) -> tuple[dict[int, np.ndarray], dict[int, int]]:
    themes: dict[int, np.ndarray] = {}
    version = _base_version(con, "photo_predictions", "themes", original=True)
    if version is not None:
        for pid, scores in con.execute(
            "SELECT photo_id, theme_scores FROM photo_predictions WHERE model_version = ?", [version]
        ).fetchall():
            s = np.asarray(scores, dtype=np.float64)
            row = np.where(s >= BOOTSTRAP_THEME_YES, 1.0, np.where(s < BOOTSTRAP_THEME_NO, 0.0, np.nan))
            if not np.isnan(row).all():
                themes[int(pid)] = row
    clutter: dict[int, int] = {}
    version = _base_version(con, "photo_clutter", "clutter", original=True)
    if version is not None:
        for pid, category, score in con.execute(
            "SELECT photo_id, category, score FROM photo_clutter WHERE model_version = ? AND score >= ?",
            [version, BOOTSTRAP_CLUTTER],
        ).fetchall():
            clutter[int(pid)] = CATEGORIES.index(ClutterCategory(category))
    return themes, clutter


def _training_data(
    ids: Sequence[int],
    vectors: dict[int, np.ndarray],
    human_themes: dict[int, np.ndarray],
    human_clutter: dict[int, int],
    boot_themes: dict[int, np.ndarray],
    boot_clutter: dict[int, int],
) -> TrainingData:
    n = len(ids)
    dim = len(next(iter(vectors.values()))) if vectors else 0
    x = np.stack([vectors[p] for p in ids]) if n else np.zeros((0, dim), np.float32)
    themes = np.full((n, len(THEMES)), np.nan)
    clutter = np.full(n, -1, dtype=np.int64)
    tw, cw = np.zeros(n), np.zeros(n)
    for i, pid in enumerate(ids):
        if pid in human_themes:
            themes[i], tw[i] = human_themes[pid], 1.0
        elif pid in boot_themes:
            themes[i], tw[i] = boot_themes[pid], BOOTSTRAP_WEIGHT
        if pid in human_clutter:
            clutter[i], cw[i] = human_clutter[pid], 1.0
        elif pid in boot_clutter:
            clutter[i], cw[i] = boot_clutter[pid], BOOTSTRAP_WEIGHT
    return TrainingData(x, themes, clutter, tw, cw)


def _metrics(
    con: duckdb.DuckDBPyConnection,
    weights: HeadsWeights,
    vectors: dict[int, np.ndarray],
    held_out: set[int],
    human_themes: dict[int, np.ndarray],
    human_clutter: dict[int, int],
    base_theme: str | None,
    base_clutter: str | None,
    data: TrainingData,
    seed: int,
    ties: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "seed": seed,
        "held_out_photos": len(held_out),
        "ties_left_out": ties,
        "theme_threshold": THEME_THRESHOLD,
    }
    # themes: only fully labelled rows (a human answer says yes/no for every theme)
    t_ids = sorted(p for p in held_out if p in human_themes and not np.isnan(human_themes[p]).any())
    n_theme_train = int((data.has_themes & (data.theme_weight >= 1.0)).sum())
    if weights.theme_w is None:
        out["themes"] = {"trained": False, "why": f"{int(data.has_themes.sum())} labelled photos"}
    else:
        entry: dict[str, Any] = {"trained": True, "n_train_human": n_theme_train,
                                 "n_train_bootstrap": int((data.has_themes & (data.theme_weight < 1.0)).sum())}  # fmt: skip
        if t_ids:
            truth = np.stack([human_themes[p] for p in t_ids]).astype(bool)
            probs = weights.theme_probabilities(np.stack([vectors[p] for p in t_ids]))
            entry["held_out"] = theme_metrics(truth, probs >= THEME_THRESHOLD)
            if base_theme is not None:
                entry["baseline"] = {"model_version": base_theme,
                                     **theme_metrics(truth, _base_theme_sets(con, base_theme, t_ids))}  # fmt: skip
        out["themes"] = entry
    c_ids = sorted(p for p in held_out if p in human_clutter)
    if weights.clutter_w is None:
        out["clutter"] = {"trained": False, "why": f"{int(data.has_clutter.sum())} labelled photos"}
    else:
        entry = {"trained": True, "n_train_human": int((data.has_clutter & (data.clutter_weight >= 1.0)).sum()),
                 "n_train_bootstrap": int((data.has_clutter & (data.clutter_weight < 1.0)).sum())}  # fmt: skip
        if c_ids:
            truth_c = [human_clutter[p] for p in c_ids]
            probs = _clutter_posteriors(con, weights, vectors, c_ids)
            entry["held_out"] = clutter_metrics(truth_c, probs.argmax(axis=1).tolist())
            if base_clutter is not None:
                base = dict(
                    con.execute(
                        "SELECT photo_id, category FROM photo_clutter WHERE model_version = ? "
                        "AND photo_id IN (SELECT unnest(?))",
                        [base_clutter, c_ids],
                    ).fetchall()
                )
                pairs = [(human_clutter[p], CATEGORIES.index(ClutterCategory(base[p]))) for p in c_ids if p in base]
                if pairs:
                    entry["baseline"] = {"model_version": base_clutter,
                                         **clutter_metrics([a for a, _ in pairs], [b for _, b in pairs])}  # fmt: skip
        out["clutter"] = entry
    return out


def task_metrics(metrics: dict[str, Any], task: str) -> dict[str, Any]:
    """One task's part of a run's metrics, as stored in ``model_versions.metrics``: held-out
    numbers first (the model-quality page takes the first series as the headline), then the
    previous version's on the same photos, then the counts."""
    head = metrics[task]
    doc: dict[str, Any] = {}
    for key in ("held_out", "baseline"):
        if key in head:
            doc[key] = head[key]
    doc.update({k: v for k, v in head.items() if k not in ("held_out", "baseline", "trained")})
    doc.update({k: metrics[k] for k in ("seed", "held_out_photos", "ties_left_out", "seconds") if k in metrics})
    if task == "themes":
        doc["theme_threshold"] = metrics["theme_threshold"]
    return doc


def _base_theme_sets(con: duckdb.DuckDBPyConnection, version: str, ids: Sequence[int]) -> np.ndarray:
    """The themes the previous version reported (photo_themes rows) as a 0/1 matrix."""
    out = np.zeros((len(ids), len(THEMES)), dtype=bool)
    index = {pid: i for i, pid in enumerate(ids)}
    for pid, theme in con.execute(
        "SELECT photo_id, theme FROM photo_themes WHERE model_version = ? AND photo_id IN (SELECT unnest(?))",
        [version, list(ids)],
    ).fetchall():
        out[index[int(pid)], THEMES.index(Theme(theme))] = True
    return out


def _facts(con: duckdb.DuckDBPyConnection, ids: Sequence[int]) -> dict[int, FileFacts]:
    rows = con.execute(
        "SELECT photo_id, rel_path, format, width, height, camera_make, camera_model, time_source FROM photos "
        "WHERE photo_id IN (SELECT unnest(?))",
        [list(ids)],
    ).fetchall()
    return {int(r[0]): FileFacts(*r[1:]) for r in rows}


def _clutter_posteriors(
    con: duckdb.DuckDBPyConnection, weights: HeadsWeights, vectors: dict[int, np.ndarray], ids: Sequence[int]
) -> np.ndarray:
    head = weights.clutter_probabilities(np.stack([vectors[p] for p in ids]))
    facts = _facts(con, ids)
    return np.stack([fuse(head[i], metadata_priors(facts.get(pid))[0]) for i, pid in enumerate(ids)])


# ----------------------------------------------------------------------------- applying


def apply_heads(store: Store, weights: HeadsWeights, version: str, embedder: str, *, batch: int = 4096) -> int:
    """Re-score every photo that has an ``embedder`` embedding; returns how many."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT e.photo_id, e.vector FROM embeddings e JOIN photos p ON p.photo_id = e.photo_id "
            "AND p.status = 'ok' WHERE e.model_version = ? ORDER BY e.photo_id",
            [embedder],
        ).fetchall()
        base_theme = _base_version(con, "photo_predictions", "themes", original=True)
        imagenet = {}
        if base_theme is not None:
            imagenet = {
                int(pid): (top, prob)
                for pid, top, prob in con.execute(
                    "SELECT photo_id, imagenet_top, imagenet_prob FROM photo_predictions WHERE model_version = ?",
                    [base_theme],
                ).fetchall()
            }
    total = 0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        ids = [int(r[0]) for r in chunk]
        x = np.stack([np.asarray(r[1], dtype=np.float32) for r in chunk])
        frames: dict[str, pd.DataFrame] = {}
        if weights.theme_w is not None:
            scores = weights.theme_probabilities(x)
            frames["pred"] = pd.DataFrame(
                {
                    "photo_id": ids,
                    "model_version": version,
                    "theme_scores": list(scores.astype(np.float32)),
                    "imagenet_top": pd.array([imagenet.get(p, (None, None))[0] for p in ids], dtype="Int32"),
                    "imagenet_prob": pd.array([imagenet.get(p, (None, None))[1] for p in ids], dtype="Float32"),
                }
            )
            tags = [
                (pid, version, t.theme.value, t.score, rank)
                for pid, found in zip(ids, top_themes(scores, k=3, min_score=THEME_THRESHOLD), strict=True)
                for rank, t in enumerate(found, start=1)
            ]
            frames["tags"] = pd.DataFrame(tags, columns=["photo_id", "model_version", "theme", "score", "rank"])
        with store.connect() as con:
            if weights.clutter_w is not None:
                head = weights.clutter_probabilities(x)
                facts = _facts(con, ids)
                out = []
                for i, pid in enumerate(ids):
                    prior, fired = metadata_priors(facts.get(pid))
                    post = fuse(head[i], prior)
                    k = int(np.argmax(post))
                    signals = {"head": {c.value: round(float(p), 4) for c, p in zip(CATEGORIES, head[i], strict=True)},
                               "rules": fired}  # fmt: skip
                    out.append((pid, version, CATEGORIES[k].value, float(post[k]), CATEGORIES[k].is_clutter,
                                json.dumps(signals, sort_keys=True)))  # fmt: skip
                frames["clu"] = pd.DataFrame(
                    out, columns=["photo_id", "model_version", "category", "score", "is_clutter", "signals"]
                )
            con.begin()
            if "pred" in frames:
                con.register("pred", frames["pred"])
                con.execute("INSERT OR REPLACE INTO photo_predictions SELECT * FROM pred")
                con.register("tags", frames["tags"])
                con.execute(
                    "DELETE FROM photo_themes WHERE model_version = ? AND photo_id IN (SELECT photo_id FROM pred)",
                    [version],
                )
                con.execute(
                    "INSERT INTO photo_themes SELECT photo_id, model_version, theme, score, rank::TINYINT FROM tags"
                )
            if "clu" in frames:
                con.register("clu", frames["clu"])
                con.execute("INSERT OR REPLACE INTO photo_clutter SELECT * FROM clu")
            con.commit()
        total += len(ids)
    return total


# ----------------------------------------------------------------------------- comparing


def compare_versions(store: Store) -> pd.DataFrame:
    """One row per (task, model version) of themes and clutter, oldest first, with the held-out
    metrics recorded at training and the previous version's metrics on the same photos: the
    model-quality page's side-by-side table. Versions not trained here (no ``held_out`` block in
    their metrics) have empty metric columns."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT task, model_version, created_at, metrics FROM model_versions "
            "WHERE task IN ('themes', 'clutter') ORDER BY task, created_at, model_version"
        ).fetchall()
    records = []
    for task, version, created_at, metrics_json in rows:
        record: dict[str, Any] = {"task": task, "model_version": version, "created_at": created_at}
        doc = json.loads(metrics_json) if metrics_json else {}
        doc = doc if isinstance(doc, dict) else {}
        record["seed"] = doc.get("seed")
        record["n_train_human"] = doc.get("n_train_human")
        record["n_train_bootstrap"] = doc.get("n_train_bootstrap")
        for prefix, block in (("held_out", doc.get("held_out") or {}), ("baseline", doc.get("baseline") or {})):
            for key, value in block.items():
                if key in ("per_theme_f1",):
                    continue
                record[f"{prefix}.{key}"] = value
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=["task", "model_version", "created_at", "seed", "n_train_human", "n_train_bootstrap"])
    return frame

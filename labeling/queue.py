"""Hard-case mining and the ranked labeling queue (``label_queue`` in DuckDB).

A case is hard when the engine is unsure or its signals disagree:

* **themes**: the two best themes are close (small top-1/top-2 margin), a theme sits at its
  cut-off, or the ImageNet top class belongs to a theme the photo did not get;
* **clutter**: the winning category is not much above the rest, the metadata rules
  overturned the head, or the clutter model calls a photo clutter that the theme model
  finds clearly themed;
* **same person**: a face whose distance to its person's centroid is near the clustering
  threshold (or that is near another person's centroid), paired with that person's most
  typical face;
* **same event**: a boundary between two consecutive photos where the events stage's gap was
  close to its rule's cut-off, either side (a split it nearly did not make, or a merge it
  nearly split), as recorded in ``event_boundaries``; the two photos are shown side by side.

The miners are pure functions (arrays in, :class:`QueueItem` out); :func:`mine` runs them on
the store and upserts the queue. :func:`next_batch` picks what to send next: explorer picks
first, then mined cases spread over the embedding space by k-center greedy, so a batch is
not twenty shots of the same burst.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import duckdb
import numpy as np
import pandas as pd

from curation.faces.people import DEFAULT_ASSIGN_THRESHOLD
from curation.store import Store, table_exists as _table_exists
from curation.vision.clutter import CATEGORIES, ClutterCategory
from curation.vision.themes import (
    DEFAULT_MIN_SCORE,
    THEME_MIN_SCORES,
    THEME_TITLES,
    THEMES,
    Theme,
    theme_class_indices,
)
from labeling.config import PHOTO_TASKS, TaskType


class Source(StrEnum):
    MINED = "mined"  # found by the miners below
    EXPLORER = "explorer"  # picked by a person in the dashboard's embedding explorer


class QueueStatus(StrEnum):
    QUEUED = "queued"
    PUSHED = "pushed"
    LABELLED = "labelled"


@dataclass(frozen=True)
class QueueItem:
    item_key: str
    task_type: TaskType
    photo_id: int
    reason: str
    priority: float  # 0..1, higher first
    source: Source = Source.MINED
    model_version: str | None = None
    face_id: str | None = None
    ref_face_id: str | None = None
    person_id: int | None = None
    item_id: int | None = None  # set once stored
    status: QueueStatus = QueueStatus.QUEUED
    ref_photo_id: int | None = None  # same_event: the photo after the boundary (photo_id is before it)


def item_key(
    task_type: TaskType,
    photo_id: int,
    face_id: str | None = None,
    ref_face_id: str | None = None,
    *,
    ref_photo_id: int | None = None,
) -> str:
    """The stable identity of a question: re-mining or re-pushing it never makes a second one."""
    task_type = TaskType(task_type)
    if task_type is TaskType.SAME_PERSON:
        if not face_id or not ref_face_id:
            raise ValueError("a same_person item needs face_id and ref_face_id")
        return f"{task_type.value}:{face_id}:{ref_face_id}"
    if task_type is TaskType.SAME_EVENT:
        if ref_photo_id is None:
            raise ValueError("a same_event item needs ref_photo_id (the photo after the boundary)")
        return f"{task_type.value}:{int(photo_id)}:{int(ref_photo_id)}"
    return f"{task_type.value}:{int(photo_id)}"


# ----------------------------------------------------------------------------- thresholds

# Themes: a margin between the two best themes below this is a close call (scores are
# probabilities summed over classes, so 0.1 is "one or two ImageNet classes' worth").
THEME_MARGIN = 0.10
# ... but only when the runner-up is itself plausible; 0.05 vs 0.02 is "no theme".
THEME_MIN_RUNNER_UP = 0.15
# A theme whose score is within this of its cut-off (0.3) could go either way.
THEME_BAND = 0.06
# The ImageNet top class is trusted enough to disagree with the themes above this.
IMAGENET_CONFIDENT = 0.5
# Clutter: the winning category's posterior below this is unsure (4 categories: 0.25 = chance).
CLUTTER_CONFIDENT = 0.75
# Clutter vs themes: a photo called clutter with a theme this strong is a disagreement.
THEME_CONFIDENT = 0.5
# Faces: distances to the centroid within this of the threshold are doubtful.
FACE_BAND = 0.06
# Event boundaries: a gap within this factor of its rule's cut-off, either side, is doubtful
# (|margin| < ln 1.5; the events stage records those within a factor 2).
EVENT_BAND = math.log(1.5)


@dataclass
class _Hard:
    """Reasons a case is hard, each with its strength; the strongest sets the priority."""

    parts: list[tuple[float, str]] = field(default_factory=list)

    def add(self, strength: float, reason: str) -> None:
        self.parts.append((float(np.clip(strength, 0.0, 1.0)), reason))

    def __bool__(self) -> bool:
        return bool(self.parts)

    @property
    def priority(self) -> float:
        # the strongest reason, nudged up by each further one
        strengths = sorted((s for s, _ in self.parts), reverse=True)
        return float(min(1.0, strengths[0] + 0.05 * (len(strengths) - 1)))

    @property
    def reason(self) -> str:
        return "; ".join(r for _, r in sorted(self.parts, key=lambda p: -p[0]))


def _theme_cuts(min_score: float | Mapping[Theme, float] | None) -> np.ndarray:
    if min_score is None:
        min_score = THEME_MIN_SCORES
    if isinstance(min_score, Mapping):
        return np.array([min_score.get(t, DEFAULT_MIN_SCORE) for t in THEMES], dtype=np.float64)
    return np.full(len(THEMES), float(min_score))


def _theme_of_class() -> dict[int, Theme]:
    return {int(c): theme for theme, idx in theme_class_indices().items() for c in idx}


# ----------------------------------------------------------------------------- pure miners


def mine_theme_cases(
    photo_ids: Sequence[int],
    scores: np.ndarray,
    model_version: str,
    *,
    imagenet_top: Sequence[int | None] | None = None,
    imagenet_prob: Sequence[float | None] | None = None,
    class_names: Mapping[int, str] | None = None,
    min_score: float | Mapping[Theme, float] | None = None,
) -> list[QueueItem]:
    """Theme scores [N, len(THEMES)] (THEMES order) -> hard theme cases."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(THEMES) or len(scores) != len(photo_ids):
        raise ValueError(f"scores must have shape [{len(photo_ids)}, {len(THEMES)}], got {list(scores.shape)}")
    cuts = _theme_cuts(min_score)
    class_theme = _theme_of_class() if imagenet_top is not None else {}
    out: list[QueueItem] = []
    for i, pid in enumerate(photo_ids):
        row = scores[i]
        order = np.argsort(-row, kind="stable")
        t1, t2 = THEMES[order[0]], THEMES[order[1]]
        s1, s2 = row[order[0]], row[order[1]]
        hard = _Hard()
        if s2 >= THEME_MIN_RUNNER_UP and s1 - s2 < THEME_MARGIN:
            hard.add(
                1.0 - (s1 - s2) / THEME_MARGIN,
                f"top two themes are close: {THEME_TITLES[t1]} {s1:.2f} vs {THEME_TITLES[t2]} {s2:.2f}",
            )
        gaps = np.abs(row - cuts)
        j = int(np.argmin(gaps))
        if gaps[j] < THEME_BAND:
            hard.add(
                1.0 - gaps[j] / THEME_BAND,
                f"{THEME_TITLES[THEMES[j]]} scores {row[j]:.2f}, at its {cuts[j]:.2f} cut-off",
            )
        if imagenet_top is not None and imagenet_prob is not None:
            top, prob = imagenet_top[i], imagenet_prob[i]
            if top is not None and prob is not None and not np.isnan(prob) and prob >= IMAGENET_CONFIDENT:
                theme = class_theme.get(int(top))
                if theme is not None and theme != t1:
                    name = (class_names or {}).get(int(top), f"class {int(top)}")
                    hard.add(
                        float(prob) * 0.9,
                        f"ImageNet sees {name!s} ({prob:.2f}, a {THEME_TITLES[theme]} class) but the top theme is "
                        f"{THEME_TITLES[t1]} ({s1:.2f})",
                    )
        if hard:
            out.append(
                QueueItem(
                    item_key(TaskType.THEMES, int(pid)),
                    TaskType.THEMES,
                    int(pid),
                    f"themes: {hard.reason}",
                    hard.priority,
                    model_version=model_version,
                )
            )
    return out


def mine_clutter_cases(
    photo_ids: Sequence[int],
    categories: Sequence[str],
    scores: Sequence[float],
    model_version: str,
    *,
    signals: Sequence[str | None] | None = None,
    top_theme: Mapping[int, tuple[Theme, float]] | None = None,
) -> list[QueueItem]:
    """Clutter predictions -> hard clutter cases.

    ``signals``: the ``photo_clutter.signals`` JSON (head probabilities and rules that fired);
    ``top_theme``: photo_id -> (best theme, score) from the theme model, for disagreement.
    """
    if not (len(photo_ids) == len(categories) == len(scores)):
        raise ValueError("photo_ids, categories and scores must have the same length")
    chance = 1.0 / len(CATEGORIES)
    out: list[QueueItem] = []
    for i, pid in enumerate(photo_ids):
        category, score = ClutterCategory(categories[i]), float(scores[i])
        hard = _Hard()
        if score < CLUTTER_CONFIDENT:
            hard.add(
                (CLUTTER_CONFIDENT - score) / (CLUTTER_CONFIDENT - chance) * 0.8 + 0.2,
                f"unsure between categories: {category.value} at only {score:.2f}",
            )
        evidence = _signals(signals[i] if signals is not None else None)
        head = evidence.get("head") or {}
        if head:
            head_cat, head_p = max(head.items(), key=lambda kv: kv[1])
            rules = evidence.get("rules") or []
            if head_cat != category.value and rules:
                hard.add(
                    0.5 + 0.4 * float(head_p),
                    f"metadata rules ({', '.join(rules)}) overturned the head: head said {head_cat} "
                    f"{float(head_p):.2f}, final {category.value} {score:.2f}",
                )
        if top_theme is not None and category.is_clutter and int(pid) in top_theme:
            theme, tscore = top_theme[int(pid)]
            if tscore >= THEME_CONFIDENT:
                hard.add(
                    min(score, tscore),
                    f"clutter model says {category.value} ({score:.2f}) but the theme model says "
                    f"{THEME_TITLES[theme]} ({tscore:.2f})",
                )
        if hard:
            out.append(
                QueueItem(
                    item_key(TaskType.CLUTTER, int(pid)),
                    TaskType.CLUTTER,
                    int(pid),
                    f"clutter: {hard.reason}",
                    hard.priority,
                    model_version=model_version,
                )
            )
    return out


def _signals(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class FaceRow:
    face_id: str
    photo_id: int
    person_id: int | None
    embedding: np.ndarray
    pinned: bool = False


def mine_face_cases(
    faces: Sequence[FaceRow],
    model_version: str,
    *,
    threshold: float = DEFAULT_ASSIGN_THRESHOLD,
    band: float = FACE_BAND,
    person_names: Mapping[int, str] | None = None,
) -> list[QueueItem]:
    """Faces near a person boundary -> "same person?" pairs with the person's most typical face.

    A face of person P is doubtful when its distance to P's centroid is within ``band`` of
    ``threshold``; any face (assigned or not) is doubtful when another person's centroid is
    that close. Faces a person placed by hand (``pinned``) are never asked about again.
    """
    if not faces:
        return []
    names = person_names or {}
    x = np.stack([np.asarray(f.embedding, dtype=np.float64) for f in faces])
    persons: dict[int, list[int]] = {}
    for i, f in enumerate(faces):
        if f.person_id is not None:
            persons.setdefault(int(f.person_id), []).append(i)
    if not persons:
        return []
    pids = sorted(persons)
    centroids = np.stack([x[persons[p]].mean(axis=0) for p in pids])
    typical: dict[int, int] = {}
    for k, p in enumerate(pids):
        members = persons[p]
        d = np.linalg.norm(x[members] - centroids[k], axis=1)
        typical[p] = members[int(np.argmin(d))]
    out: dict[str, QueueItem] = {}

    def add(i: int, p: int, distance: float, own: bool) -> None:
        ref = typical[p]
        if ref == i:
            return
        face, ref_face = faces[i], faces[ref]
        strength = 1.0 - abs(distance - threshold) / band
        who = names.get(p) or f"person {p}"
        reason = (
            f"same person? face {face.face_id} is {distance:.2f} from {who}'s centre "
            f"({'its own person' if own else 'another person'}; threshold {threshold:.2f})"
        )
        key = item_key(TaskType.SAME_PERSON, face.photo_id, face.face_id, ref_face.face_id)
        if key not in out or out[key].priority < strength:
            out[key] = QueueItem(
                key,
                TaskType.SAME_PERSON,
                int(face.photo_id),
                reason,
                float(np.clip(strength, 0.0, 1.0)),
                model_version=model_version,
                face_id=face.face_id,
                ref_face_id=ref_face.face_id,
                person_id=p,
            )

    col = {p: k for k, p in enumerate(pids)}
    for start in range(0, len(faces), 2048):  # faces x persons distances in blocks
        block = x[start : start + 2048]
        d = np.sqrt(np.maximum(((block[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2), 0.0))
        for r in range(len(block)):
            i = start + r
            face = faces[i]
            if face.pinned:
                continue
            own = int(face.person_id) if face.person_id is not None else None
            if own is not None and len(persons[own]) > 1:
                dist = float(d[r, col[own]])
                if abs(dist - threshold) < band:
                    add(i, own, dist, own=True)
            others = d[r].copy()
            if own is not None:
                others[col[own]] = np.inf
            k = int(np.argmin(others))
            if np.isfinite(others[k]) and abs(others[k] - threshold) < band:
                add(i, pids[k], float(others[k]), own=False)
    return sorted(out.values(), key=lambda it: (-it.priority, it.item_key))


@dataclass(frozen=True)
class BoundaryRow:
    """An ``event_boundaries`` row as the miner sees it."""

    photo_before: int
    photo_after: int
    margin: float  # ln(value / cut-off) of the deciding rule: > 0 splits
    split: bool
    reason: str
    model_version: str
    labelled: bool = False


def mine_event_cases(boundaries: Sequence[BoundaryRow], *, band: float = EVENT_BAND) -> list[QueueItem]:
    """Doubtful event boundaries -> "same event?" pairs (the photos either side).

    A boundary is doubtful when its margin is within ``band`` of zero, on either side: a
    split the segmenter nearly did not make, or a merge it nearly split. Boundaries a
    person's answer already decided (``labelled``) are never asked about again."""
    if not band > 0:
        raise ValueError(f"band must be > 0, got {band}")
    out = []
    for b in boundaries:
        margin = float(b.margin)
        if b.labelled or not math.isfinite(margin) or abs(margin) >= band:
            continue
        out.append(
            QueueItem(
                item_key(TaskType.SAME_EVENT, b.photo_before, ref_photo_id=b.photo_after),
                TaskType.SAME_EVENT,
                int(b.photo_before),
                f"same event? {b.reason}",
                float(np.clip(1.0 - abs(margin) / band, 0.0, 1.0)),
                model_version=b.model_version,
                ref_photo_id=int(b.photo_after),
            )
        )
    return sorted(out, key=lambda it: (-it.priority, it.item_key))


# ----------------------------------------------------------------------------- spreading


def k_center_greedy(
    vectors: np.ndarray,
    k: int,
    *,
    priorities: Sequence[float] | None = None,
    already: np.ndarray | None = None,
) -> list[int]:
    """Pick ``k`` rows of ``vectors`` that cover the space: each pick is the row farthest from
    everything picked so far (and from ``already``: what earlier batches sent). With
    ``priorities`` (0..1) the distance is weighted by ``0.5 + priority``, so among far-apart
    candidates the harder goes first. The first pick is the highest priority (or row 0).
    Deterministic: ties go to the lower index.
    """
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if n == 0 or k == 0:
        return []
    weight = 0.5 + np.asarray(priorities if priorities is not None else np.zeros(n), dtype=np.float64)
    if len(weight) != n:
        raise ValueError(f"{len(weight)} priorities for {n} vectors")
    nearest = np.full(n, np.inf)
    if already is not None and len(already):
        seen = np.asarray(already, dtype=np.float64)
        for start in range(0, len(seen), 1024):
            block = seen[start : start + 1024]
            d = np.sqrt(np.maximum(((x[:, None, :] - block[None, :, :]) ** 2).sum(axis=2), 0.0))
            nearest = np.minimum(nearest, d.min(axis=1))
    picked: list[int] = []
    chosen = np.zeros(n, dtype=bool)
    for _ in range(min(k, n)):
        if np.isinf(nearest).all():
            score = weight.copy()
        else:
            score = np.where(np.isinf(nearest), np.finfo(np.float64).max, nearest) * weight
        score[chosen] = -1.0
        i = int(np.argmax(score))
        picked.append(i)
        chosen[i] = True
        nearest = np.minimum(nearest, np.linalg.norm(x - x[i], axis=1))
    return picked


def interleave(groups: Sequence[Sequence[QueueItem]], limit: int) -> list[QueueItem]:
    """Round-robin over the groups (one per task type) until ``limit`` items."""
    out: list[QueueItem] = []
    iters = [list(g) for g in groups]
    i = 0
    while len(out) < limit and any(iters):
        group = iters[i % len(iters)]
        if group:
            out.append(group.pop(0))
        i += 1
    return out


# ----------------------------------------------------------------------------- store side


def current_version(con: duckdb.DuckDBPyConnection, table: str, task: str) -> str | None:
    """The model version of ``table`` covering most photos, the newest on a tie (as albums do)."""
    rows = con.execute(
        f"SELECT t.model_version FROM {table} t "  # noqa: S608 - fixed names
        "LEFT JOIN model_versions mv ON mv.task = ? AND mv.model_version = t.model_version "
        "GROUP BY t.model_version ORDER BY count(*) DESC, max(mv.created_at) DESC NULLS LAST, t.model_version DESC "
        "LIMIT 1",
        [task],
    ).fetchall()
    return rows[0][0] if rows else None


@dataclass
class MineReport:
    found: dict[TaskType, int] = field(default_factory=dict)  # hard cases per task type
    queued: int = 0  # new queue rows
    updated: int = 0  # queued rows whose reason/priority changed
    dropped: int = 0  # queued (not yet pushed) mined rows no longer hard
    versions: dict[TaskType, str] = field(default_factory=dict)


def mine(store: Store, *, task_types: Iterable[TaskType | str] | None = None) -> MineReport:
    """Run the miners on the store's current predictions and upsert the queue.

    Mined items still waiting (``queued``) are replaced by this mining; pushed and labelled
    items, and the explorer's picks, are never touched.
    """
    types = [TaskType.parse(str(t)) for t in task_types] if task_types is not None else list(TaskType)
    report = MineReport()
    items: list[QueueItem] = []
    with store.connect() as con:
        theme_version = current_version(con, "photo_predictions", "themes")
        top_theme: dict[int, tuple[Theme, float]] = {}
        if theme_version is not None:
            pred = con.execute(
                "SELECT pp.photo_id, pp.theme_scores, pp.imagenet_top, pp.imagenet_prob FROM photo_predictions pp "
                "JOIN photos p ON p.photo_id = pp.photo_id AND p.status = 'ok' "
                "WHERE pp.model_version = ? ORDER BY pp.photo_id",
                [theme_version],
            ).df()
            if len(pred):
                scores = np.stack([np.asarray(s, dtype=np.float64) for s in pred["theme_scores"]])
                best = scores.argmax(axis=1)
                top_theme = {
                    int(pid): (THEMES[int(b)], float(scores[i, b]))
                    for i, (pid, b) in enumerate(zip(pred["photo_id"], best, strict=True))
                }
                if TaskType.THEMES in types:
                    found = mine_theme_cases(
                        pred["photo_id"].tolist(),
                        scores,
                        theme_version,
                        imagenet_top=[None if pd.isna(v) else int(v) for v in pred["imagenet_top"]],
                        imagenet_prob=[None if pd.isna(v) else float(v) for v in pred["imagenet_prob"]],
                        class_names=_class_names(),
                    )
                    items += found
                    report.found[TaskType.THEMES] = len(found)
                    report.versions[TaskType.THEMES] = theme_version
        clutter_version = current_version(con, "photo_clutter", "clutter")
        if TaskType.CLUTTER in types and clutter_version is not None:
            clu = con.execute(
                "SELECT c.photo_id, c.category, c.score, c.signals FROM photo_clutter c "
                "JOIN photos p ON p.photo_id = c.photo_id AND p.status = 'ok' "
                "WHERE c.model_version = ? ORDER BY c.photo_id",
                [clutter_version],
            ).df()
            found = mine_clutter_cases(
                clu["photo_id"].tolist(),
                clu["category"].tolist(),
                clu["score"].tolist(),
                clutter_version,
                signals=[None if pd.isna(s) else str(s) for s in clu["signals"]],
                top_theme=top_theme,
            )
            items += found
            report.found[TaskType.CLUTTER] = len(found)
            report.versions[TaskType.CLUTTER] = clutter_version
        if TaskType.SAME_PERSON in types and _table_exists(con, "faces"):
            found = []
            for version in [r[0] for r in con.execute("SELECT DISTINCT model_version FROM faces").fetchall()]:
                found += _mine_faces(con, version)
            items += found
            report.found[TaskType.SAME_PERSON] = len(found)
        if TaskType.SAME_EVENT in types and _table_exists(con, "event_boundaries"):
            found = mine_event_cases(_boundary_rows(con))
            items += found
            report.found[TaskType.SAME_EVENT] = len(found)
            if found:
                report.versions[TaskType.SAME_EVENT] = found[0].model_version or ""
    upsert_items(store, items, replace_queued_mined=types, report=report)
    return report


def _class_names() -> dict[int, str]:
    from curation.vision.imagenet_classes import imagenet_classes

    return {c.index: c.name for c in imagenet_classes()}


def _mine_faces(con: duckdb.DuckDBPyConnection, version: str) -> list[QueueItem]:
    rows = con.execute(
        "SELECT f.face_id, f.photo_id, f.person_id, f.embedding, f.pinned, f.library_id FROM faces f "
        "JOIN photos p ON p.photo_id = f.photo_id AND p.status = 'ok' "
        "WHERE f.model_version = ? ORDER BY f.library_id, f.face_id",
        [version],
    ).fetchall()
    names = {
        (int(lib), int(pid)): name
        for lib, pid, name in con.execute(
            "SELECT library_id, person_id, name FROM persons WHERE name IS NOT NULL"
        ).fetchall()
    }
    out: list[QueueItem] = []
    by_library: dict[int, list[FaceRow]] = {}
    for face_id, photo_id, person_id, emb, pinned, lib in rows:
        by_library.setdefault(int(lib), []).append(
            FaceRow(str(face_id), int(photo_id), None if person_id is None else int(person_id), np.asarray(emb), bool(pinned))
        )
    for lib, faces in by_library.items():
        person_names = {pid: n for (lb, pid), n in names.items() if lb == lib}
        out += mine_face_cases(faces, version, person_names=person_names)
    return out




def _boundary_rows(con: duckdb.DuckDBPyConnection) -> list[BoundaryRow]:
    rows = con.execute(
        "SELECT b.photo_before, b.photo_after, b.margin, b.split, b.reason, b.model_version, b.labelled "
        "FROM event_boundaries b "
        "JOIN photos pa ON pa.photo_id = b.photo_before AND pa.status = 'ok' "
        "JOIN photos pb ON pb.photo_id = b.photo_after AND pb.status = 'ok' "
        "ORDER BY b.library_id, b.photo_before"
    ).fetchall()
    return [
        BoundaryRow(int(a), int(b), float(m), bool(split), str(reason), str(version), bool(labelled))
        for a, b, m, split, reason, version, labelled in rows
    ]


def upsert_items(
    store: Store,
    items: Sequence[QueueItem],
    *,
    replace_queued_mined: Iterable[TaskType] = (),
    report: MineReport | None = None,
) -> MineReport:
    """Insert new items; refresh reason/priority of those still queued; leave the rest.

    ``replace_queued_mined``: for these task types, queued mined items absent from ``items``
    are dropped (the engine no longer finds them hard).
    """
    report = report or MineReport()
    frame = _items_frame(items)
    replace = [TaskType(t).value for t in replace_queued_mined]
    now = datetime.now()
    with store.connect() as con:
        con.begin()
        con.register("incoming", frame)
        if replace:
            report.dropped = con.execute(
                "DELETE FROM label_queue WHERE status = 'queued' AND source = 'mined' AND task_type IN "
                "(SELECT unnest(?::VARCHAR[])) AND item_key NOT IN (SELECT item_key FROM incoming) RETURNING item_id",
                [replace],
            ).fetchall().__len__()
        report.updated = len(
            con.execute(
                "UPDATE label_queue q SET reason = i.reason, priority = i.priority, model_version = i.model_version, "
                "updated_at = ? FROM incoming i WHERE q.item_key = i.item_key AND q.status = 'queued' "
                "AND (q.reason <> i.reason OR q.priority <> i.priority) RETURNING q.item_id",
                [now],
            ).fetchall()
        )
        report.queued = len(
            con.execute(
                "INSERT INTO label_queue (item_key, task_type, photo_id, face_id, ref_face_id, person_id, reason, "
                "priority, source, status, model_version, created_at, updated_at, ref_photo_id) "
                "SELECT item_key, task_type, photo_id, face_id, ref_face_id, person_id, reason, priority, source, "
                "'queued', model_version, ?, ?, ref_photo_id FROM incoming "
                "WHERE item_key NOT IN (SELECT item_key FROM label_queue) RETURNING item_id",
                [now, now],
            ).fetchall()
        )
        con.commit()
    return report


def _items_frame(items: Sequence[QueueItem]) -> pd.DataFrame:
    seen: dict[str, QueueItem] = {}
    for it in items:  # one row per key: the highest priority wins
        if it.item_key not in seen or seen[it.item_key].priority < it.priority:
            seen[it.item_key] = it
    rows = [
        {
            "item_key": it.item_key,
            "task_type": TaskType(it.task_type).value,
            "photo_id": int(it.photo_id),
            "face_id": it.face_id,
            "ref_face_id": it.ref_face_id,
            "person_id": it.person_id,
            "reason": it.reason,
            "priority": float(it.priority),
            "source": Source(it.source).value,
            "model_version": it.model_version,
            "ref_photo_id": it.ref_photo_id,
        }
        for it in seen.values()
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "item_key", "task_type", "photo_id", "face_id", "ref_face_id", "person_id", "reason", "priority",
            "source", "model_version", "ref_photo_id",
        ],
    ).astype({"photo_id": "int64", "priority": "float64", "person_id": "Int64", "ref_photo_id": "Int64"})  # fmt: skip


def enqueue_photos(
    store: Store,
    photo_ids: Iterable[int],
    task_type: TaskType | str,
    reason: str,
    source: Source | str = Source.EXPLORER,
    *,
    priority: float = 1.0,
) -> int:
    """Queue photos picked by a person (the dashboard's embedding explorer) for ``task_type``.

    Explorer picks go out before mined cases. A photo already queued for that task keeps its
    row (its reason and priority are refreshed while it waits). Returns the rows added.
    """
    task_type = TaskType.parse(str(task_type))
    if task_type not in PHOTO_TASKS:
        what = "faces, not photos" if task_type is TaskType.SAME_PERSON else "a pair of photos, not one"
        raise ValueError(
            f"{task_type.value} asks about {what}; enqueue_photos takes "
            f"{', '.join(t.value for t in PHOTO_TASKS)} (same-person and same-event pairs are mined: "
            "labeling.queue.mine)"
        )
    if not reason or not reason.strip():
        raise ValueError("give a reason: the annotator sees it above the photo")
    ids = sorted({int(p) for p in photo_ids})
    if not ids:
        return 0
    with store.connect() as con:
        known = {r[0] for r in con.execute("SELECT photo_id FROM photos WHERE photo_id IN (SELECT unnest(?))", [ids]).fetchall()}
    missing = [p for p in ids if p not in known]
    if missing:
        raise ValueError(f"no such photos: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    items = [
        QueueItem(item_key(task_type, p), task_type, p, reason.strip(), float(priority), Source(source)) for p in ids
    ]
    return upsert_items(store, items).queued


def queue_frame(store: Store, *, status: QueueStatus | str | None = None) -> pd.DataFrame:
    """The queue, ranked: explorer picks, then by priority (for the dashboard and the CLI)."""
    where = "WHERE status = ?" if status is not None else ""
    params = [QueueStatus(status).value] if status is not None else []
    with store.connect() as con:
        # A database made before same_event, opened read-only, lacks the column until a writer adds it.
        ref_photo = "ref_photo_id" if _has_column(con, "label_queue", "ref_photo_id") else "NULL::BIGINT AS ref_photo_id"
        return con.execute(
            "SELECT item_id, item_key, task_type, photo_id, face_id, ref_face_id, person_id, reason, priority, "
            f"source, status, model_version, created_at, updated_at, {ref_photo} FROM label_queue {where} "  # noqa: S608
            "ORDER BY (source = 'explorer') DESC, priority DESC, item_id",
            params,
        ).df()


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?", [table, column]
    ).fetchall()
    return bool(rows[0][0])


def load_items(store: Store, *, status: QueueStatus | str | None = None) -> list[QueueItem]:
    frame = queue_frame(store, status=status)
    return [_item_from_row(r) for r in frame.itertuples(index=False)]


def _item_from_row(r) -> QueueItem:  # noqa: ANN001 - a queue_frame row
    return QueueItem(
        item_key=r.item_key,
        task_type=TaskType(r.task_type),
        photo_id=int(r.photo_id),
        reason=r.reason,
        priority=float(r.priority),
        source=Source(r.source),
        model_version=None if pd.isna(r.model_version) else r.model_version,
        face_id=None if pd.isna(r.face_id) else r.face_id,
        ref_face_id=None if pd.isna(r.ref_face_id) else r.ref_face_id,
        person_id=None if pd.isna(r.person_id) else int(r.person_id),
        item_id=int(r.item_id),
        status=QueueStatus(r.status),
        ref_photo_id=None if pd.isna(r.ref_photo_id) else int(r.ref_photo_id),
    )


def next_batch(store: Store, limit: int, *, task_types: Iterable[TaskType | str] | None = None) -> list[QueueItem]:
    """What to send next: explorer picks first (by priority), then per task type the mined
    cases spread by :func:`k_center_greedy` over the embeddings (photo embeddings for photo
    tasks, face embeddings for pairs), away from what earlier batches sent; task types take turns."""
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    types = [TaskType.parse(str(t)) for t in task_types] if task_types is not None else list(TaskType)
    everything = load_items(store)
    queued = [it for it in everything if it.status is QueueStatus.QUEUED and it.task_type in types]
    picks = [it for it in queued if it.source is Source.EXPLORER][:limit]
    room = limit - len(picks)
    if room <= 0:
        return picks
    groups: list[list[QueueItem]] = []
    with store.connect() as con:
        for t in types:
            mined = [it for it in queued if it.source is Source.MINED and it.task_type is t]
            if not mined:
                continue
            sent = [it for it in everything if it.task_type is t and it.status is not QueueStatus.QUEUED]
            vectors, sent_vectors = _vectors(con, t, mined, sent)
            if vectors is None:
                groups.append(mined[:room])
                continue
            order = k_center_greedy(vectors, room, priorities=[it.priority for it in mined], already=sent_vectors)
            groups.append([mined[i] for i in order])
    return picks + interleave(groups, room)


def _vectors(
    con: duckdb.DuckDBPyConnection, task_type: TaskType, items: Sequence[QueueItem], sent: Sequence[QueueItem]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Embeddings of the items (and of those already sent); None when some item has none.
    A same-event pair is the two photos' embeddings side by side."""
    if task_type is TaskType.SAME_EVENT:
        version = current_version(con, "embeddings", "embedder")
        if version is None:
            return None, None
        photos = [p for it in [*items, *sent] for p in (it.photo_id, it.ref_photo_id) if p is not None]
        rows = dict(
            con.execute(
                "SELECT photo_id, vector FROM embeddings WHERE model_version = ? AND photo_id IN (SELECT unnest(?))",
                [version, photos],
            ).fetchall()
        )

        def pair(it: QueueItem) -> np.ndarray | None:
            if it.photo_id not in rows or it.ref_photo_id not in rows:
                return None
            return np.concatenate([np.asarray(rows[it.photo_id], np.float64), np.asarray(rows[it.ref_photo_id], np.float64)])

        mined = [pair(it) for it in items]
        if any(v is None for v in mined):
            return None, None
        done = [v for v in (pair(it) for it in sent) if v is not None]
        return np.stack(mined), (np.stack(done) if done else None)  # type: ignore[arg-type]
    if task_type is TaskType.SAME_PERSON:
        keys = [it.face_id for it in items] + [it.face_id for it in sent]
        rows = dict(
            con.execute("SELECT face_id, embedding FROM faces WHERE face_id IN (SELECT unnest(?))", [keys]).fetchall()
        )
        ids: list = [it.face_id for it in items]
        sent_ids: list = [it.face_id for it in sent]
    else:
        version = current_version(con, "embeddings", "embedder")
        if version is None:
            return None, None
        keys = [it.photo_id for it in items] + [it.photo_id for it in sent]
        rows = dict(
            con.execute(
                "SELECT photo_id, vector FROM embeddings WHERE model_version = ? AND photo_id IN (SELECT unnest(?))",
                [version, keys],
            ).fetchall()
        )
        ids, sent_ids = [it.photo_id for it in items], [it.photo_id for it in sent]
    if any(i not in rows for i in ids):
        return None, None
    vectors = np.stack([np.asarray(rows[i], dtype=np.float64) for i in ids])
    done = [np.asarray(rows[i], dtype=np.float64) for i in sent_ids if i in rows]
    return vectors, (np.stack(done) if done else None)


def set_status(store: Store, item_ids: Iterable[int], status: QueueStatus) -> None:
    ids = [int(i) for i in item_ids]
    if not ids:
        return
    with store.connect() as con:
        con.execute(
            "UPDATE label_queue SET status = ?, updated_at = ? WHERE item_id IN (SELECT unnest(?))",
            [QueueStatus(status).value, datetime.now(), ids],
        )

"""Vision stage: embeddings, ImageNet logits -> themes, clutter and quality from the same
pass over the cached thumbnails, for every photo the current models have not seen; then
near-duplicate groups over the whole library once all its embeddings exist.

Faces run before this stage (see ``runner.Stage``): the face counts lift the people
theme and the largest face's area feeds the quality score.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from curation.pipeline.images import load_thumbnail, prefetched
from curation.pipeline.writes import BufferedWrites
from curation.settings import Settings
from curation.store import Store

log = logging.getLogger(__name__)

THEMES_VERSION = "themes-imagenet-map@1"
_BATCH = 64

ProgressFn = Callable[[int, int, str], None]


@dataclass
class VisionReport:
    model_version: str
    n_embedded: int = 0
    n_missing_thumbnail: int = 0
    clutter_version: str = ""
    n_clutter: int = 0  # photos of this run classified as clutter
    n_dup_groups: int = 0  # near-duplicate groups in the library after this run
    n_in_dup_groups: int = 0


@dataclass(frozen=True)
class _Todo:
    photo_id: int
    sha256: str
    rel_path: str
    format: str | None
    width: int | None
    height: int | None
    camera_make: str | None
    camera_model: str | None
    time_source: str | None
    n_faces: int
    face_area: float

    def facts(self):  # noqa: ANN201 - a curation.vision.clutter.FileFacts
        from curation.vision.clutter import FileFacts

        return FileFacts(self.rel_path, self.format, self.width, self.height, self.camera_make,
                         self.camera_model, self.time_source)  # fmt: skip


@dataclass(frozen=True)
class _Prepared:
    """A photo made ready in a loader thread: the network's input (pixels, or the image for
    an embedder that takes images only), the clutter content signals, the quality score."""

    item: _Todo
    image: Image.Image | None
    pixels: np.ndarray | None
    signals: Any  # curation.vision.clutter.ContentSignals
    quality: Any  # curation.vision.quality.QualityScore


def run_vision_stage(
    store: Store,
    settings: Settings,
    library_id: int,
    *,
    embedder=None,  # noqa: ANN001 - a curation.vision.Embedder; injected by tests and the dashboard
    clutter=None,  # noqa: ANN001 - a curation.vision.clutter.ClutterClassifier; injected likewise
    progress: ProgressFn | None = None,
) -> VisionReport:
    from curation.vision import create_embedder
    from curation.vision.clutter import ClutterClassifier
    from curation.vision.neardup import NEARDUP_VERSION
    from curation.vision import transforms
    from curation.vision.clutter import content_signals
    from curation.vision.quality import QUALITY_VERSION, assess

    if embedder is None:
        embedder = create_embedder(settings.embedder, cache_dir=settings.model_cache)
    clutter = (clutter or ClutterClassifier()).load()
    version = embedder.model_version
    # Fail before any work: a head trained on other embeddings would score noise.
    clutter.check_embedder(version)
    clutter_version = clutter.model_version
    with store.connect() as con:
        todo = [
            _Todo(*row[:9], int(row[9] or 0), float(row[10] or 0.0))
            for row in con.execute(
                "SELECT p.photo_id, p.sha256, p.rel_path, p.format, p.width, p.height, p.camera_make, "
                "p.camera_model, p.time_source, "
                "(SELECT max(s.n_faces) FROM face_scans s WHERE s.photo_id = p.photo_id), "
                "(SELECT max((f.box_right - f.box_left) * (f.box_bottom - f.box_top)) FROM faces f "
                " WHERE f.photo_id = p.photo_id) "
                "FROM photos p WHERE p.library_id = ? AND p.status = 'ok' AND ("
                "  NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.photo_id AND e.model_version = ?)"
                "  OR NOT EXISTS (SELECT 1 FROM photo_clutter c WHERE c.photo_id = p.photo_id AND c.model_version = ?)"
                "  OR NOT EXISTS (SELECT 1 FROM photo_quality q WHERE q.photo_id = p.photo_id)) "
                "ORDER BY p.photo_id",
                [library_id, version, clutter_version],
            ).fetchall()
        ]
        held_out = clutter.record.get("metrics", {}).get("full", {})
        clutter_metrics = {"held_out": {k: held_out.get(k) for k in ("n", "accuracy", "per_category")}}
        con.execute(
            "INSERT INTO model_versions (task, model_version, metrics) VALUES "
            "('embedder', ?, NULL), ('themes', ?, NULL), ('clutter', ?, ?), ('quality', ?, NULL), "
            "('neardup', ?, NULL) ON CONFLICT DO NOTHING",
            [version, THEMES_VERSION, clutter_version, json.dumps(clutter_metrics), QUALITY_VERSION, NEARDUP_VERSION],
        )
    report = VisionReport(model_version=version, clutter_version=clutter_version)
    large = max(settings.ingest.thumb_sizes)

    takes_pixels = embedder.takes_pixels

    def load(item: _Todo) -> _Prepared | None:
        # JPEG draft decodes the 1024 px thumbnail at 1/2 scale where it can. With a 384 px
        # minimum the longest side is never below 512 (with 224 a square one came out at
        # 256), so the quality score measures every photo at QUALITY_SIDE = 512.
        try:
            image = load_thumbnail(settings.cache, item.sha256, large, min_side=384)
        except OSError:
            return None
        # Everything per photo but the network runs here, in the loader threads, while the
        # network (which releases the GIL) works on the previous batch.
        return _Prepared(
            item,
            None if takes_pixels else image,
            transforms.preprocess(image, embedder.preprocess_spec) if takes_pixels else None,
            content_signals(image),
            assess(image, min(1.0, item.face_area)),
        )

    def write(ids, vectors, scores, probs, themes, verdicts, quality) -> None:  # noqa: ANN001
        _write(store, version, ids, vectors, scores, probs, themes)
        _write_clutter_quality(store, clutter_version, ids, verdicts, quality)

    done = 0
    with BufferedWrites(store, write) as writes:
        for batch, prepared in prefetched(todo, load, _BATCH):
            done += _run_batch(batch, prepared, embedder, clutter, report, writes)
            if progress:
                progress(done, len(todo), batch[-1].rel_path)
    if report.n_missing_thumbnail:
        log.warning("%d photos had no cached thumbnail; re-run ingest", report.n_missing_thumbnail)
    if report.n_embedded or _near_duplicates_stale(store, library_id):
        update_near_duplicates(store, library_id, version)
    with store.connect() as con:
        row = con.execute(
            "SELECT count(DISTINCT group_id), count(*) FROM near_duplicates WHERE library_id = ?", [library_id]
        ).fetchone()
    report.n_dup_groups, report.n_in_dup_groups = int(row[0]), int(row[1])
    return report


def _run_batch(batch, prepared, embedder, clutter, report: VisionReport, writes: BufferedWrites) -> int:  # noqa: ANN001
    """The network, themes and clutter for one loaded batch; the rows go to ``writes``."""
    from curation.vision import score_themes, top_themes
    from curation.vision.themes import softmax

    keep = [p for p in prepared if p is not None]
    report.n_missing_thumbnail += len(batch) - len(keep)
    if keep:
        items = [p.item for p in keep]
        if embedder.takes_pixels:
            out = embedder.predict_pixels(np.stack([p.pixels for p in keep]))
        else:
            out = embedder.predict([p.image for p in keep])
        vectors, logits = out.embeddings, out.logits
        if logits is None:
            raise ValueError(f"embedder {embedder.name!r} has no ImageNet logits, which themes need")
        scores = score_themes(logits, faces=np.array([item.n_faces for item in items]))
        verdicts = clutter.predict(vectors, None, [item.facts() for item in items],
                                   signals=[p.signals for p in keep])  # fmt: skip
        ids = [item.photo_id for item in items]
        writes.add(ids, vectors, scores, softmax(logits), top_themes(scores, k=3), verdicts,
                   [p.quality for p in keep])  # fmt: skip
        report.n_embedded += len(keep)
        report.n_clutter += sum(v.is_clutter for v in verdicts)
    return len(batch)


def _write(store, version, ids, vectors, scores, probs, themes) -> None:  # noqa: ANN001
    emb = pd.DataFrame({"photo_id": ids, "model_version": version, "vector": list(vectors.astype(np.float32))})
    pred = pd.DataFrame(
        {
            "photo_id": ids,
            "model_version": THEMES_VERSION,
            "theme_scores": list(scores.astype(np.float32)),
            "imagenet_top": probs.argmax(axis=1).astype(np.int32),
            "imagenet_prob": probs.max(axis=1).astype(np.float32),
        }
    )
    rows = [
        (pid, THEMES_VERSION, t.theme.value, t.score, rank)
        for pid, photo_themes in zip(ids, themes, strict=True)
        for rank, t in enumerate(photo_themes, start=1)
    ]
    tags = pd.DataFrame(rows, columns=["photo_id", "model_version", "theme", "score", "rank"])
    with store.connect() as con:
        con.begin()
        con.register("emb", emb)
        con.execute("INSERT OR REPLACE INTO embeddings SELECT photo_id, model_version, vector FROM emb")
        con.register("pred", pred)
        con.execute("INSERT OR REPLACE INTO photo_predictions SELECT * FROM pred")
        con.register("tags", tags)
        con.execute(
            "DELETE FROM photo_themes WHERE model_version = ? AND photo_id IN (SELECT photo_id FROM pred)",
            [THEMES_VERSION],
        )
        con.execute("INSERT INTO photo_themes SELECT * FROM tags")
        con.commit()


def _write_clutter_quality(
    store: Store, clutter_version: str, ids: Sequence[int], verdicts, quality  # noqa: ANN001
) -> None:
    clu = pd.DataFrame(
        {
            "photo_id": ids,
            "model_version": clutter_version,
            "category": [v.category.value for v in verdicts],
            "score": np.array([v.score for v in verdicts], dtype=np.float32),
            "is_clutter": [v.is_clutter for v in verdicts],
            "signals": [v.signals_json() for v in verdicts],
        }
    )
    qual = pd.DataFrame(
        {
            "photo_id": ids,
            "sharpness": np.array([q.sharpness for q in quality], dtype=np.float32),
            "exposure": np.array([q.exposure for q in quality], dtype=np.float32),
            "face_area": np.array([q.face_area for q in quality], dtype=np.float32),
            "score": np.array([q.score for q in quality], dtype=np.float32),
        }
    )
    with store.connect() as con:
        con.begin()
        con.register("clu", clu)
        con.execute(
            "INSERT OR REPLACE INTO photo_clutter (photo_id, model_version, category, score, is_clutter, signals) "
            "SELECT * FROM clu"
        )
        con.register("qual", qual)
        con.execute(
            "INSERT OR REPLACE INTO photo_quality (photo_id, sharpness, exposure, face_area, score) SELECT * FROM qual"
        )
        con.commit()


def _near_duplicates_stale(store: Store, library_id: int) -> bool:
    """A photo in a stored group has been removed or changed since the groups were made."""
    with store.connect() as con:
        row = con.execute(
            "SELECT count(*) FROM near_duplicates d LEFT JOIN photos p ON p.photo_id = d.photo_id "
            "WHERE d.library_id = ? AND (p.photo_id IS NULL OR p.status != 'ok')",
            [library_id],
        ).fetchone()
    return bool(row[0])


def load_signatures(store: Store, library_id: int, embedder_version: str):  # noqa: ANN201
    """Every embedded photo of the library as (PhotoSignature list, [N, dim] embeddings)."""
    from curation.vision.neardup import PhotoSignature

    with store.connect() as con:
        table = con.sql(
            "SELECT p.photo_id, p.phash, CASE WHEN p.time_reliable THEN p.taken_at END AS taken_at, p.rel_path, "
            "coalesce(q.score, 0.0) AS quality, e.vector FROM photos p "
            "JOIN embeddings e ON e.photo_id = p.photo_id AND e.model_version = ? "
            "LEFT JOIN photo_quality q ON q.photo_id = p.photo_id "
            "WHERE p.library_id = ? AND p.status = 'ok' AND p.phash IS NOT NULL ORDER BY p.photo_id",
            params=[embedder_version, library_id],
        ).to_arrow_table()
    n = table.num_rows
    if n == 0:
        return [], np.zeros((0, 0), np.float32)
    # Flatten the list column in one go: 100k x 1280 floats as Python lists would take minutes.
    vectors = table.column("vector").combine_chunks()
    flat = vectors.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    embeddings = flat.reshape(n, -1)
    ids = table.column("photo_id").to_pylist()
    hashes = table.column("phash").to_pylist()
    times = table.column("taken_at").to_pylist()
    names = table.column("rel_path").to_pylist()
    quality = table.column("quality").to_pylist()
    photos = [
        PhotoSignature(int(i), h, t if isinstance(t, datetime) else None, name, float(q))
        for i, h, t, name, q in zip(ids, hashes, times, names, quality, strict=True)
    ]
    return photos, embeddings


def update_near_duplicates(store: Store, library_id: int, embedder_version: str) -> int:
    """Recompute the library's near-duplicate groups and replace its ``near_duplicates`` rows."""
    from curation.vision.neardup import find_near_duplicates

    photos, embeddings = load_signatures(store, library_id, embedder_version)
    groups = find_near_duplicates(photos, embeddings) if photos else []
    rows = [
        (library_id, pid, g.representative, pid == g.representative) for g in groups for pid in g.members
    ]
    frame = pd.DataFrame(rows, columns=["library_id", "photo_id", "group_id", "representative"])
    with store.connect() as con:
        con.begin()
        con.execute("DELETE FROM near_duplicates WHERE library_id = ?", [library_id])
        if rows:
            con.register("dups", frame)
            con.execute("INSERT INTO near_duplicates SELECT * FROM dups")
        con.commit()
    return len(groups)

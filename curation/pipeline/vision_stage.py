"""Vision stage: embeddings, ImageNet logits -> themes, for every photo not yet seen by
the current model version. Clutter and quality are scored from the same pass."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image

from curation.pipeline.images import load_thumbnail, prefetched
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


@dataclass(frozen=True)
class _Todo:
    photo_id: int
    sha256: str
    rel_path: str


def run_vision_stage(
    store: Store,
    settings: Settings,
    library_id: int,
    *,
    embedder=None,  # noqa: ANN001 - an curation.vision.Embedder; injected by tests and the dashboard
    progress: ProgressFn | None = None,
) -> VisionReport:
    from curation.vision import create_embedder, score_themes, top_themes

    if embedder is None:
        embedder = create_embedder(settings.embedder, cache_dir=settings.cache / "models")
    version = embedder.model_version
    with store.connect() as con:
        todo = [
            _Todo(*row)
            for row in con.execute(
                "SELECT p.photo_id, p.sha256, p.rel_path FROM photos p "
                "WHERE p.library_id = ? AND p.status = 'ok' AND NOT EXISTS ("
                "  SELECT 1 FROM embeddings e WHERE e.photo_id = p.photo_id AND e.model_version = ?) "
                "ORDER BY p.photo_id",
                [library_id, version],
            ).fetchall()
        ]
        con.execute(
            "INSERT INTO model_versions (task, model_version) VALUES ('embedder', ?), ('themes', ?) "
            "ON CONFLICT DO NOTHING",
            [version, THEMES_VERSION],
        )
    report = VisionReport(model_version=version)
    large = max(settings.ingest.thumb_sizes)

    def load(item: _Todo) -> Image.Image | None:
        try:
            return load_thumbnail(settings.cache, item.sha256, large, min_side=224)
        except OSError:
            return None

    done = 0
    for batch, images in prefetched(todo, load, _BATCH):
        keep = [(item, im) for item, im in zip(batch, images, strict=True) if im is not None]
        report.n_missing_thumbnail += len(batch) - len(keep)
        if keep:
            vectors, logits = embedder.embed_and_logits([im for _, im in keep])
            scores = score_themes(logits)
            probs = _softmax(logits)
            ids = [item.photo_id for item, _ in keep]
            themes = top_themes(scores, k=3)
            _write(store, version, ids, vectors, scores, probs, themes)
            report.n_embedded += len(keep)
        done += len(batch)
        if progress:
            progress(done, len(todo), batch[-1].rel_path)
    if report.n_missing_thumbnail:
        log.warning("%d photos had no cached thumbnail; re-run ingest", report.n_missing_thumbnail)
    return report


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


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

"""Vision models: image embeddings, ImageNet logits and the themes scored from them.

    from curation.vision import create_embedder, score_themes, top_themes
    emb = create_embedder("efficientnet_lite0", cache_dir=settings.model_cache)
    vectors, logits = emb.embed_and_logits(thumbnails)   # one forward pass
    themes = top_themes(score_themes(logits), k=3)

Importing this package loads no model and reads no file.
"""

from curation.vision.embedders import (
    Embedder,
    EmbeddingBatch,
    MissingWeightsError,
    UnknownModelError,
    WeightsMismatchError,
    create_embedder,
    list_embedders,
    register_embedder,
)
from curation.vision.themes import THEMES, Theme, ThemeScore, score_themes, top_themes

__all__ = [
    "THEMES",
    "Embedder",
    "EmbeddingBatch",
    "MissingWeightsError",
    "Theme",
    "ThemeScore",
    "UnknownModelError",
    "WeightsMismatchError",
    "create_embedder",
    "list_embedders",
    "register_embedder",
    "score_themes",
    "top_themes",
]

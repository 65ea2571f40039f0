"""Analysis of a curated library: the 2-D embedding map with its clusters, and tags.

``embedding_map`` lays a library's image embeddings out in 2-D (PCA, then UMAP) and
clusters them (k-means); the result is stored per embedder version, so it is computed once.
``tags`` keeps the free-text tags people put on photos. Nothing heavy loads on import:
scikit-learn and umap are imported inside the functions that need them.
"""

from curation.analysis.embedding_map import (
    ClusterSummary,
    EmbeddingMap,
    EmbeddingMapError,
    EmbeddingVersion,
    MapLayout,
    MapParams,
    embedding_map,
    embedding_versions,
    layout_embeddings,
    load_map,
    load_vectors,
    map_points,
    save_map,
    summarize_clusters,
)

__all__ = [
    "ClusterSummary",
    "EmbeddingMap",
    "EmbeddingMapError",
    "EmbeddingVersion",
    "MapLayout",
    "MapParams",
    "embedding_map",
    "embedding_versions",
    "layout_embeddings",
    "load_map",
    "load_vectors",
    "map_points",
    "save_map",
    "summarize_clusters",
]

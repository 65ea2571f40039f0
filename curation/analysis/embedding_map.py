"""A 2-D map of a library's image embeddings, with clusters, stored per embedder version.

The embeddings (1280-d for EfficientNet-Lite0) are reduced to ~50-d with PCA, which keeps
the neighbourhoods and makes UMAP several times faster, then laid out in 2-D with UMAP.
k-means runs on the PCA space (not on the 2-D layout, whose distances UMAP distorts), and
each photo gets its rank by distance to its cluster's centre, so "the most typical photos
of a cluster" is a lookup.

A map is computed once per (library, embedder version, parameters) and stored in
``embedding_maps`` / ``embedding_map_points`` (``sql/schema_analysis.sql``), with a hash of
the photos it covers: when the vision stage embeds new photos the map is *stale* and the
caller decides when to recompute (UMAP takes about a minute for 20,000 photos on 2 cores;
``bench/umap_bench.py``). Everything is seeded: the same embeddings and parameters give
the same map.

scikit-learn and umap are imported inside :func:`layout_embeddings` (umap takes seconds to
import), so importing this module costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from curation.store import Store

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

ProgressFn = Callable[[str], None]

MIN_PHOTOS = 3  # fewer cannot be laid out meaningfully
# UMAP learns the layout from each photo's neighbours; below this many photos there are
# too few, and the first two principal components are the map instead.
MIN_PHOTOS_FOR_UMAP = 16
MAX_AUTO_CLUSTERS = 20


class EmbeddingMapError(ValueError):
    """The map cannot be made from what was given; the message says what to change."""


@dataclass(frozen=True)
class MapParams:
    """How a map is made. ``__init__`` only stores; :meth:`validate` checks, one rule each."""

    pca_components: int = 50
    n_neighbors: int = 15  # UMAP: bigger keeps more of the global structure
    min_dist: float = 0.1  # UMAP: smaller packs clusters tighter
    n_clusters: int | None = None  # None: about sqrt(n / 5), between 2 and 20
    seed: int = 42

    def validate(self) -> MapParams:
        if not isinstance(self.pca_components, int) or self.pca_components < 2:
            raise EmbeddingMapError(f"pca_components must be an integer >= 2, got {self.pca_components!r}")
        if not isinstance(self.n_neighbors, int) or self.n_neighbors < 2:
            raise EmbeddingMapError(f"n_neighbors must be an integer >= 2, got {self.n_neighbors!r}")
        if not 0.0 <= self.min_dist <= 1.0:
            raise EmbeddingMapError(f"min_dist must be between 0 and 1, got {self.min_dist!r}")
        if self.n_clusters is not None and (not isinstance(self.n_clusters, int) or self.n_clusters < 1):
            raise EmbeddingMapError(
                f"n_clusters must be a positive integer, or None to choose it from the library size; "
                f"got {self.n_clusters!r}"
            )
        if not isinstance(self.seed, int):
            raise EmbeddingMapError(f"seed must be an integer, got {self.seed!r}")
        return self

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MapParams:
        return cls(**json.loads(text))

    @property
    def key(self) -> str:
        """Short, stable identity of these parameters (the storage key)."""
        return hashlib.sha1(self.to_json().encode()).hexdigest()[:12]  # noqa: S324 - an id, not security


def auto_n_clusters(n_photos: int) -> int:
    """About sqrt(n / 5): 4 clusters for 88 photos, 10 for 500, 20 (the cap) from 2,000."""
    return int(min(MAX_AUTO_CLUSTERS, max(2, round(math.sqrt(n_photos / 5)))))


@dataclass(frozen=True)
class MapLayout:
    """The pure result: one row per photo, in the order given."""

    photo_ids: np.ndarray  # int64
    xy: np.ndarray  # (n, 2) float32
    clusters: np.ndarray  # int32, 0 = biggest cluster
    typicality: np.ndarray  # int32, rank within its cluster by distance to the centre, 0 = closest
    method: str  # "umap" | "pca"

    @property
    def n_clusters(self) -> int:
        return int(self.clusters.max()) + 1 if len(self.clusters) else 0


def layout_embeddings(
    photo_ids: Sequence[int] | np.ndarray,
    vectors: np.ndarray,
    params: MapParams = MapParams(),  # noqa: B008 - frozen, immutable default
    progress: ProgressFn | None = None,
) -> MapLayout:
    """PCA to ``params.pca_components``, UMAP to 2-D, k-means on the PCA space."""
    params.validate()
    ids = np.asarray(photo_ids, dtype=np.int64)
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise EmbeddingMapError(f"vectors must be a 2-d array (photos, dimensions), got shape {x.shape}")
    if len(ids) != len(x):
        raise EmbeddingMapError(f"{len(ids)} photo ids for {len(x)} vectors")
    if len(np.unique(ids)) != len(ids):
        raise EmbeddingMapError("photo ids must be unique")
    if len(x) < MIN_PHOTOS:
        raise EmbeddingMapError(
            f"a map needs at least {MIN_PHOTOS} photos with embeddings, got {len(x)}: "
            "run the vision stage on a bigger library"
        )
    if x.shape[1] < 2:
        raise EmbeddingMapError(f"vectors need at least 2 dimensions, got {x.shape[1]}")
    if not np.isfinite(x).all():
        raise EmbeddingMapError("vectors contain NaN or infinite values; re-run the vision stage")

    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    n, dim = x.shape
    n_pca = min(params.pca_components, n - 1, dim)
    _say(progress, f"PCA: {dim:,}-d → {n_pca}-d for {n:,} photos")
    reduced = PCA(n_components=n_pca, random_state=params.seed).fit_transform(x).astype(np.float32)

    if n < MIN_PHOTOS_FOR_UMAP:
        method = "pca"
        xy = reduced[:, :2].copy()
    else:
        method = "umap"
        _say(progress, f"UMAP: {n_pca}-d → 2-d (imports umap the first time)")
        try:
            import umap  # slow to import (numba): only here
        except ImportError as exc:
            raise ImportError(
                "the embedding map needs umap-learn: `pip install umap-learn` (a dependency in pyproject.toml)"
            ) from exc

        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=min(params.n_neighbors, n - 1),
            min_dist=params.min_dist,
            metric="euclidean",
            random_state=params.seed,
            n_jobs=1,  # a seeded UMAP runs on one thread anyway; saying so silences its warning
        )
        xy = reducer.fit_transform(reduced).astype(np.float32)

    k = min(params.n_clusters or auto_n_clusters(n), n)
    _say(progress, f"k-means: {k} clusters")
    km = KMeans(n_clusters=k, n_init=4, random_state=params.seed).fit(reduced)
    labels = km.labels_.astype(np.int64)
    # Renumber: 0 = biggest cluster (ties: the lower k-means label), so colours are stable.
    sizes = np.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda c: (-sizes[c], c))
    renumber = np.empty(k, dtype=np.int64)
    renumber[order] = np.arange(k)
    clusters = renumber[labels]
    distance = np.linalg.norm(reduced - km.cluster_centers_[labels].astype(np.float32), axis=1)
    typicality = np.empty(n, dtype=np.int32)
    for c in range(k):
        members = np.nonzero(clusters == c)[0]
        ranked = members[np.lexsort((ids[members], distance[members]))]
        typicality[ranked] = np.arange(len(ranked), dtype=np.int32)
    return MapLayout(ids, xy, clusters.astype(np.int32), typicality, method)


def _say(progress: ProgressFn | None, message: str) -> None:
    if progress is not None:
        progress(message)


# ----------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class EmbeddingVersion:
    model_version: str
    n_photos: int  # the library's usable photos embedded by it


@dataclass(frozen=True)
class EmbeddingMap:
    """A stored map's facts; its points come from :func:`map_points`."""

    library_id: int
    model_version: str
    params: MapParams
    method: str
    n_photos: int  # photos on the map
    n_clusters: int
    seconds: float  # time it took to compute
    created_at: datetime | None
    n_current: int  # photos with embeddings of this version now
    stale: bool  # the embedded photos changed since the map was made
    from_cache: bool = True


def embedding_versions(con: duckdb.DuckDBPyConnection, library_id: int) -> list[EmbeddingVersion]:
    """Embedder versions with embeddings of this library's photos, most photos first."""
    if not {"embeddings", "photos"} <= _tables(con):
        return []
    rows = con.execute(
        """
        SELECT e.model_version, count(*) AS n FROM embeddings e
        JOIN photos p ON p.photo_id = e.photo_id
        WHERE p.library_id = ? AND p.status = 'ok'
        GROUP BY e.model_version ORDER BY n DESC, e.model_version DESC
        """,
        [library_id],
    ).fetchall()
    return [EmbeddingVersion(v, int(n)) for v, n in rows]


def load_vectors(
    con: duckdb.DuckDBPyConnection, library_id: int, model_version: str
) -> tuple[np.ndarray, np.ndarray]:
    """(photo ids, vectors) of the library's usable photos for one embedder version."""
    rows = con.execute(
        """
        SELECT e.photo_id, e.vector FROM embeddings e JOIN photos p ON p.photo_id = e.photo_id
        WHERE p.library_id = ? AND p.status = 'ok' AND e.model_version = ? ORDER BY e.photo_id
        """,
        [library_id, model_version],
    ).fetchnumpy()
    ids = np.asarray(rows["photo_id"], dtype=np.int64)
    if not len(ids):
        return ids, np.zeros((0, 0), dtype=np.float32)
    return ids, np.stack([np.asarray(v, dtype=np.float32) for v in rows["vector"]])


def photos_hash(photo_ids: Sequence[int] | np.ndarray) -> str:
    ids = np.sort(np.asarray(photo_ids, dtype=np.int64))
    return hashlib.sha1(ids.tobytes()).hexdigest()[:16]  # noqa: S324 - an id, not security


def _current_ids(con: duckdb.DuckDBPyConnection, library_id: int, model_version: str) -> np.ndarray:
    rows = con.execute(
        "SELECT e.photo_id FROM embeddings e JOIN photos p ON p.photo_id = e.photo_id "
        "WHERE p.library_id = ? AND p.status = 'ok' AND e.model_version = ?",
        [library_id, model_version],
    ).fetchnumpy()
    return np.asarray(rows["photo_id"], dtype=np.int64)


def load_map(
    con: duckdb.DuckDBPyConnection,
    library_id: int,
    model_version: str,
    params: MapParams | None = None,
) -> EmbeddingMap | None:
    """The stored map for these parameters (``None``: the one made last, whatever its
    parameters), or None when there is none."""
    if not {"embedding_maps", "embedding_map_points"} <= _tables(con):
        return None
    where = "WHERE library_id = ? AND model_version = ?"
    args: list = [library_id, model_version]
    if params is not None:
        where += " AND params_key = ?"
        args.append(params.key)
    row = con.execute(
        "SELECT params, method, n_photos, photos_hash, n_clusters, seconds, created_at FROM embedding_maps "  # noqa: S608
        f"{where} ORDER BY created_at DESC, params_key LIMIT 1",
        args,
    ).fetchone()
    if row is None:
        return None
    stored_params, method, n_photos, stored_hash, n_clusters, seconds, created_at = row
    params = MapParams.from_json(stored_params)
    current = _current_ids(con, library_id, model_version)
    return EmbeddingMap(
        library_id=library_id,
        model_version=model_version,
        params=params,
        method=method,
        n_photos=int(n_photos),
        n_clusters=int(n_clusters),
        seconds=float(seconds),
        created_at=created_at,
        n_current=len(current),
        stale=photos_hash(current) != stored_hash,
    )


def save_map(
    store: Store, library_id: int, model_version: str, params: MapParams, layout: MapLayout, seconds: float
) -> None:
    """Store a computed map, replacing the one with the same key."""
    import pandas as pd

    key = params.key
    points = pd.DataFrame(
        {
            "library_id": library_id,
            "model_version": model_version,
            "params_key": key,
            "photo_id": layout.photo_ids,
            "x": layout.xy[:, 0],
            "y": layout.xy[:, 1],
            "cluster": layout.clusters,
            "typicality": layout.typicality,
        }
    )
    where = "WHERE library_id = ? AND model_version = ? AND params_key = ?"
    with store.connect() as con:
        con.begin()
        con.execute(f"DELETE FROM embedding_map_points {where}", [library_id, model_version, key])  # noqa: S608
        con.execute(f"DELETE FROM embedding_maps {where}", [library_id, model_version, key])  # noqa: S608
        con.execute(
            "INSERT INTO embedding_maps (library_id, model_version, params_key, params, method, n_photos, "
            "photos_hash, n_clusters, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [library_id, model_version, key, params.to_json(), layout.method, len(layout.photo_ids),
             photos_hash(layout.photo_ids), layout.n_clusters, float(seconds)],
        )  # fmt: skip
        con.register("map_point_rows", points)
        con.execute(
            "INSERT INTO embedding_map_points SELECT library_id, model_version, params_key, photo_id, "
            "x, y, cluster, typicality FROM map_point_rows"
        )
        con.unregister("map_point_rows")
        con.commit()


def embedding_map(
    store: Store,
    library_id: int,
    model_version: str | None = None,
    params: MapParams = MapParams(),  # noqa: B008
    *,
    recompute: bool = False,
    progress: ProgressFn | None = None,
) -> EmbeddingMap:
    """The library's map: the stored one, or computed and stored when there is none (or
    ``recompute``). ``model_version`` defaults to the embedder covering most photos.

    A stored map that is stale (photos embedded since) is returned as it is, with
    ``stale=True``: recomputing takes a while, so the caller chooses when.
    """
    params.validate()
    with store.connect() as con:
        if model_version is None:
            versions = embedding_versions(con, library_id)
            if not versions:
                raise EmbeddingMapError(
                    f"library {library_id} has no image embeddings yet: run the vision stage "
                    "(`curation run LIBRARY --stages vision`)"
                )
            model_version = versions[0].model_version
        if not recompute:
            stored = load_map(con, library_id, model_version, params)
            if stored is not None:
                return stored
        _say(progress, "Loading the embeddings")
        ids, vectors = load_vectors(con, library_id, model_version)
    started = time.perf_counter()
    layout = layout_embeddings(ids, vectors, params, progress)
    seconds = time.perf_counter() - started
    _say(progress, "Saving the map")
    save_map(store, library_id, model_version, params, layout, seconds)
    with store.connect() as con:
        made = load_map(con, library_id, model_version, params)
    if made is None:  # pragma: no cover - just written
        raise EmbeddingMapError(f"the map of library {library_id} was not saved to {store.path}")
    return replace(made, from_cache=False)


# ----------------------------------------------------------------------------- what the points show


def _tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def current_version(con: duckdb.DuckDBPyConnection, table: str, library_id: int) -> str | None:
    """The model version of ``table`` that covers most of the library's photos (newest name on a tie)."""
    if table not in _tables(con):
        return None
    row = con.execute(
        f"SELECT t.model_version FROM {table} t JOIN photos p ON p.photo_id = t.photo_id "  # noqa: S608 - fixed names
        "WHERE p.library_id = ? AND p.status = 'ok' "
        "GROUP BY t.model_version ORDER BY count(DISTINCT t.photo_id) DESC, t.model_version DESC LIMIT 1",
        [library_id],
    ).fetchone()
    return row[0] if row else None


# Each part of map_points: its SQL (parameters in order) when its tables exist, else nothing.
_EMPTY = {
    "th": "SELECT NULL::BIGINT AS photo_id, NULL::VARCHAR AS theme, NULL::FLOAT AS score WHERE false",
    "cl": "SELECT NULL::BIGINT AS photo_id, NULL::VARCHAR AS category, NULL::FLOAT AS score, "
    "NULL::BOOLEAN AS is_clutter WHERE false",
    "ev": "SELECT NULL::BIGINT AS photo_id, NULL::VARCHAR AS event_id, NULL::VARCHAR AS place_name, "
    "NULL::DATE AS local_date WHERE false",
    "fc": "SELECT NULL::BIGINT AS photo_id, NULL::BIGINT AS n_faces, NULL::INTEGER AS person_id, "
    "NULL::VARCHAR AS person_name WHERE false",
    "tg": "SELECT NULL::BIGINT AS photo_id, NULL::VARCHAR AS tags WHERE false",
}

POINT_COLUMNS = [
    "photo_id", "x", "y", "cluster", "typicality", "rel_path", "sha256", "taken_at",
    "theme", "theme_score", "clutter", "clutter_score", "is_clutter",
    "event_id", "event_place", "event_date", "n_faces", "person_id", "person_name", "tags",
]  # fmt: skip


def map_points(
    con: duckdb.DuckDBPyConnection,
    library_id: int,
    model_version: str,
    params: MapParams = MapParams(),  # noqa: B008
) -> pd.DataFrame:
    """The map's points with what the explorer colours and shows them by, one row per photo.

    Columns (``POINT_COLUMNS``): position, cluster and typicality; the file; the top theme
    and its score; the clutter category and its probability; the event (id, place, first
    day); the number of faces and the person with the biggest face (id, name); the tags.
    Missing facts are null: a stage that has not run leaves its columns empty.
    """
    present = _tables(con)
    parts: dict[str, tuple[str, list]] = {}
    themes_version = current_version(con, "photo_themes", library_id)
    if themes_version:
        parts["th"] = (
            "SELECT photo_id, any_value(theme) AS theme, max(score) AS score FROM photo_themes "
            "WHERE model_version = ? AND rank = 1 GROUP BY photo_id",
            [themes_version],
        )
    clutter_version = current_version(con, "photo_clutter", library_id)
    if clutter_version:
        parts["cl"] = (
            "SELECT photo_id, category, score, is_clutter FROM photo_clutter WHERE model_version = ?",
            [clutter_version],
        )
    if {"photo_events", "events"} <= present:
        parts["ev"] = (
            "SELECT pe.photo_id, pe.event_id, e.place_name, e.local_date FROM photo_events pe "
            "LEFT JOIN events e ON e.library_id = pe.library_id AND e.event_id = pe.event_id "
            "WHERE pe.library_id = ?",
            [library_id],
        )
    faces_version = current_version(con, "faces", library_id)
    if faces_version and "persons" in present:
        parts["fc"] = (
            "SELECT f.photo_id, count(*) AS n_faces, "
            "arg_max(f.person_id, (f.box_right - f.box_left) * (f.box_bottom - f.box_top)) AS person_id, "
            "NULL::VARCHAR AS person_name "
            "FROM faces f WHERE f.library_id = ? AND f.model_version = ? GROUP BY f.photo_id",
            [library_id, faces_version],
        )
    if "photo_tags" in present:
        parts["tg"] = (
            "SELECT photo_id, string_agg(tag, ', ' ORDER BY tag) AS tags FROM photo_tags GROUP BY photo_id",
            [],
        )
    ctes, args = [], []
    for name, empty in _EMPTY.items():
        sql, values = parts.get(name, (empty, []))
        ctes.append(f"{name} AS ({sql})")
        args += values
    person_join = (
        "LEFT JOIN persons ps ON ps.library_id = p.library_id AND ps.person_id = fc.person_id"
        if "fc" in parts
        else "LEFT JOIN (SELECT NULL::INTEGER AS person_id, NULL::VARCHAR AS name WHERE false) ps "
        "ON ps.person_id = fc.person_id"
    )
    sql = f"""
        WITH {', '.join(ctes)}
        SELECT m.photo_id, m.x, m.y, m.cluster, m.typicality, p.rel_path, p.sha256, p.taken_at,
               th.theme, th.score AS theme_score, cl.category AS clutter, cl.score AS clutter_score,
               cl.is_clutter, ev.event_id, ev.place_name AS event_place, ev.local_date AS event_date,
               coalesce(fc.n_faces, 0) AS n_faces, fc.person_id, ps.name AS person_name, tg.tags
        FROM embedding_map_points m
        JOIN photos p ON p.photo_id = m.photo_id AND p.status = 'ok'
        LEFT JOIN th ON th.photo_id = m.photo_id
        LEFT JOIN cl ON cl.photo_id = m.photo_id
        LEFT JOIN ev ON ev.photo_id = m.photo_id
        LEFT JOIN fc ON fc.photo_id = m.photo_id
        {person_join}
        LEFT JOIN tg ON tg.photo_id = m.photo_id
        WHERE m.library_id = ? AND m.model_version = ? AND m.params_key = ?
        ORDER BY m.photo_id
    """  # noqa: S608 - fixed parts, values are parameters
    return con.execute(sql, [*args, library_id, model_version, params.key]).df()


# ----------------------------------------------------------------------------- cluster summary


@dataclass(frozen=True)
class ThemeShare:
    theme: str | None  # a curation.vision.themes.Theme value; None: no theme scored high enough
    n_photos: int
    share: float  # of the cluster's photos


@dataclass(frozen=True)
class ClusterSummary:
    cluster: int
    n_photos: int
    share: float  # of the map's photos
    themes: tuple[ThemeShare, ...]  # most photos first
    n_clutter: int  # photos the clutter model calls clutter
    n_events: int  # distinct events its photos belong to
    n_with_faces: int
    samples: tuple[int, ...] = field(default=())  # photo ids, most typical first

    @property
    def top_theme(self) -> str | None:
        named = [t for t in self.themes if t.theme is not None]
        return named[0].theme if named else None


def summarize_clusters(points: pd.DataFrame, *, n_samples: int = 6, n_themes: int = 3) -> list[ClusterSummary]:
    """Per cluster: size, its most common top themes, clutter, events, faces and the most
    typical photos. ``points`` is :func:`map_points`' frame (or any with its columns)."""
    if n_samples < 0 or n_themes < 1:
        raise ValueError(f"n_samples must be >= 0 and n_themes >= 1, got {n_samples} and {n_themes}")
    total = len(points)
    out = []
    for cluster, group in points.groupby("cluster", sort=True):
        n = len(group)
        counts = group["theme"].value_counts(dropna=False)
        themes = tuple(
            ThemeShare(None if _is_null(theme) else str(theme), int(count), count / n)
            for theme, count in sorted(counts.items(), key=lambda kv: (-kv[1], _is_null(kv[0]), str(kv[0])))[
                :n_themes
            ]
        )
        samples = tuple(int(p) for p in group.sort_values(["typicality", "photo_id"])["photo_id"].head(n_samples))
        out.append(
            ClusterSummary(
                cluster=int(cluster),
                n_photos=n,
                share=n / total,
                themes=themes,
                n_clutter=int(group["is_clutter"].fillna(False).astype(bool).sum()),
                n_events=int(group["event_id"].nunique(dropna=True)),
                n_with_faces=int((group["n_faces"] > 0).sum()),
                samples=samples,
            )
        )
    return out


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))

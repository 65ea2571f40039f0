"""The embedding map: PCA → UMAP layout, k-means clusters, stored once per embedder version.

Embeddings here are generated: seeded clusters around random centres, L2-normalised like
the vision stage's; photos are rows inserted straight into a temporary store (no pixels).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.analysis.embedding_map import (
    MIN_PHOTOS_FOR_UMAP,
    EmbeddingMapError,
    MapParams,
    auto_n_clusters,
    embedding_map,
    embedding_versions,
    layout_embeddings,
    load_map,
    map_points,
    summarize_clusters,
)
from curation.analysis.tags import TagError, normalise_tag, save_selection, tag_counts, tag_photos, untag_photos
from curation.store import Store

REPO = Path(__file__).resolve().parents[1]
VERSION = "test-embedder@1"


def clustered(n: int, dim: int, groups: int, seed: int = 0, spread: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim)).astype(np.float32)
    labels = np.arange(n) % groups
    x = centres[labels] + rng.normal(scale=spread, size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def add_photos(store: Store, n: int, root: str = "/lib") -> tuple[int, np.ndarray]:
    """A library with ``n`` usable photos (rows only); returns its id and the photo ids."""
    with store.connect() as con:
        con.execute("INSERT INTO libraries (root, name) VALUES (?, ?) ON CONFLICT DO NOTHING", [root, Path(root).name])
        # fetchall: DuckDB refuses register() while a result is only partly fetched
        library_id = con.execute("SELECT library_id FROM libraries WHERE root = ?", [root]).fetchall()[0][0]
        start = con.execute("SELECT count(*) FROM photos WHERE library_id = ?", [library_id]).fetchall()[0][0]
        frame = pd.DataFrame(
            {
                "library_id": library_id,
                "rel_path": [f"IMG_{start + i:05d}.jpg" for i in range(n)],
                "status": "ok",
                "sha256": [f"{library_id:02d}{start + i:062x}" for i in range(n)],
                "taken_at": [datetime(2021, 1, 1) + timedelta(hours=start + i) for i in range(n)],
            }
        )
        con.register("new_photos", frame)
        con.execute(
            "INSERT INTO photos (library_id, rel_path, status, sha256, taken_at) "
            "SELECT library_id, rel_path, status, sha256, taken_at FROM new_photos"
        )
        ids = con.execute(
            "SELECT photo_id FROM photos WHERE library_id = ? ORDER BY photo_id OFFSET ?", [library_id, start]
        ).fetchnumpy()["photo_id"]
    return int(library_id), np.asarray(ids, dtype=np.int64)


def add_embeddings(store: Store, photo_ids: np.ndarray, vectors: np.ndarray, version: str = VERSION) -> None:
    frame = pd.DataFrame({"photo_id": photo_ids, "model_version": version, "vector": list(vectors.astype(np.float32))})
    with store.connect() as con:
        con.register("new_vectors", frame)
        con.execute("INSERT INTO embeddings SELECT photo_id, model_version, vector FROM new_vectors")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "db.duckdb")


# --------------------------------------------------------------------------- the pure layout


def test_layout_is_deterministic_with_a_seed_and_finds_the_groups() -> None:
    from sklearn.metrics import adjusted_rand_score

    x, groups = clustered(300, 64, 5)
    params = MapParams(n_clusters=5, seed=3)
    first = layout_embeddings(np.arange(300), x, params)
    again = layout_embeddings(np.arange(300), x, params)
    assert first.method == "umap"
    np.testing.assert_array_equal(first.xy, again.xy)
    np.testing.assert_array_equal(first.clusters, again.clusters)
    assert adjusted_rand_score(groups, first.clusters) == pytest.approx(1.0)
    other_seed = layout_embeddings(np.arange(300), x, MapParams(n_clusters=5, seed=4))
    assert not np.allclose(first.xy, other_seed.xy)
    # Each group is one tight island on the map: closer to its own points than to others.
    centres = np.stack([first.xy[groups == g].mean(axis=0) for g in range(5)])
    own = np.linalg.norm(first.xy - centres[groups], axis=1).mean()
    nearest_other = min(np.linalg.norm(centres[a] - centres[b]) for a in range(5) for b in range(a + 1, 5))
    assert own < nearest_other / 2


def test_clusters_are_numbered_by_size_and_typicality_ranks_within_each() -> None:
    rng = np.random.default_rng(0)
    sizes = [10, 40, 25]
    centres = rng.normal(size=(3, 32)) * 3
    x = np.concatenate([c + rng.normal(scale=0.3, size=(s, 32)) for c, s in zip(centres, sizes, strict=True)])
    layout = layout_embeddings(np.arange(len(x)) + 100, x, MapParams(n_clusters=3))
    assert np.bincount(layout.clusters).tolist() == [40, 25, 10]
    for c in range(3):
        ranks = np.sort(layout.typicality[layout.clusters == c])
        assert ranks.tolist() == list(range(len(ranks)))


def test_tiny_libraries_get_a_pca_map() -> None:
    x, _ = clustered(MIN_PHOTOS_FOR_UMAP - 1, 16, 2)
    layout = layout_embeddings(range(len(x)), x)
    assert layout.method == "pca" and layout.xy.shape == (len(x), 2)
    assert np.isfinite(layout.xy).all()
    assert layout.n_clusters == auto_n_clusters(len(x))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (MapParams(pca_components=1), "pca_components"),
        (MapParams(n_neighbors=1), "n_neighbors"),
        (MapParams(min_dist=1.5), "min_dist"),
        (MapParams(n_clusters=0), "n_clusters"),
        (MapParams(seed="x"), "seed"),  # type: ignore[arg-type]
    ],
)
def test_each_bad_parameter_has_its_message(params: MapParams, message: str) -> None:
    x, _ = clustered(20, 8, 2)
    with pytest.raises(EmbeddingMapError, match=message):
        layout_embeddings(range(20), x, params)


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        (range(2), np.ones((2, 8)), "at least 3 photos"),
        (range(4), np.ones(8), "2-d array"),
        (range(3), np.ones((4, 8)), "3 photo ids for 4 vectors"),
        ([1, 1, 2], np.ones((3, 8)), "unique"),
        (range(3), np.full((3, 8), np.nan), "NaN"),
    ],
)
def test_each_bad_input_has_its_message(ids, vectors, message: str) -> None:  # noqa: ANN001
    with pytest.raises(EmbeddingMapError, match=message):
        layout_embeddings(ids, vectors)


def test_auto_cluster_count_grows_with_the_library_and_is_capped() -> None:
    assert [auto_n_clusters(n) for n in (3, 88, 500, 2_000, 20_000)] == [2, 4, 10, 20, 20]


# --------------------------------------------------------------------------- stored per model version


def test_map_is_computed_once_per_model_version_and_stored(store: Store) -> None:
    library_id, ids = add_photos(store, 120)
    x, _ = clustered(120, 48, 4)
    add_embeddings(store, ids, x)
    add_embeddings(store, ids[:60], clustered(60, 32, 3, seed=9)[0], version="other-embedder@2")

    first = embedding_map(store, library_id, VERSION)
    assert not first.from_cache and not first.stale
    assert (first.n_photos, first.method) == (120, "umap")
    second = embedding_map(store, library_id, VERSION)
    assert second.from_cache and second.created_at == first.created_at  # read, not recomputed

    with store.connect(read_only=True) as con:
        assert [v.model_version for v in embedding_versions(con, library_id)] == [VERSION, "other-embedder@2"]
        stored = map_points(con, library_id, VERSION, first.params)
    other = embedding_map(store, library_id, "other-embedder@2")
    assert not other.from_cache and other.n_photos == 60
    assert embedding_map(store, library_id).model_version == VERSION  # default: most photos

    recomputed = embedding_map(store, library_id, VERSION, recompute=True)
    assert not recomputed.from_cache
    with store.connect(read_only=True) as con:
        again = map_points(con, library_id, VERSION, first.params)
    # Same embeddings, same seed: the same map.
    np.testing.assert_allclose(stored[["x", "y"]].to_numpy(), again[["x", "y"]].to_numpy())
    assert stored["cluster"].tolist() == again["cluster"].tolist()


def test_a_map_goes_stale_when_photos_are_embedded_and_other_params_have_their_own(store: Store) -> None:
    library_id, ids = add_photos(store, 40)
    x, _ = clustered(50, 24, 3)
    add_embeddings(store, ids, x[:40])
    made = embedding_map(store, library_id)
    _, more = add_photos(store, 10)
    add_embeddings(store, more, x[40:])
    with store.connect(read_only=True) as con:
        stale = load_map(con, library_id, VERSION)
    assert stale is not None and stale.stale and (stale.n_photos, stale.n_current) == (40, 50)
    assert embedding_map(store, library_id).stale  # returned as is: the caller chooses when to recompute
    fresh = embedding_map(store, library_id, recompute=True)
    assert not fresh.stale and fresh.n_photos == 50

    tuned = MapParams(n_neighbors=5, n_clusters=3)
    custom = embedding_map(store, library_id, params=tuned)
    assert not custom.from_cache and custom.n_clusters == 3
    with store.connect(read_only=True) as con:
        assert load_map(con, library_id, VERSION, MapParams()).params == MapParams()
        assert load_map(con, library_id, VERSION).params == tuned  # no params: the map made last
        assert load_map(con, library_id, "unknown@0") is None
    assert made.params == MapParams()


def test_no_embeddings_says_to_run_the_vision_stage(store: Store) -> None:
    library_id, _ = add_photos(store, 5)
    with pytest.raises(EmbeddingMapError, match="run the vision stage"):
        embedding_map(store, library_id)


# --------------------------------------------------------------------------- points and clusters


def test_points_carry_themes_clutter_events_people_and_tags(store: Store) -> None:
    library_id, ids = add_photos(store, 30)
    x, groups = clustered(30, 16, 3)
    add_embeddings(store, ids, x)
    themes = ["beach_sea", "pets", "food_drink"]
    with store.connect() as con:
        for pid, g in zip(ids, groups, strict=True):
            con.execute("INSERT INTO photo_themes VALUES (?, 'themes@1', ?, 0.8, 1)", [int(pid), themes[g]])
            con.execute("INSERT INTO photo_themes VALUES (?, 'themes@1', 'sport', 0.1, 2)", [int(pid)])
        con.execute(
            "INSERT INTO photo_clutter VALUES (?, 'clutter@1', 'screenshot', 0.9, true, NULL)", [int(ids[0])]
        )
        con.execute(
            "INSERT INTO events (library_id, event_id, start_at, end_at, local_date, n_days, n_photos, place_name, "
            "season, year, place_source) VALUES (?, 'e1', '2021-01-01', '2021-01-01', '2021-01-01', 1, 2, 'Lisbon', "
            "'winter', 2021, 'gps')",
            [library_id],
        )
        for pid in ids[:2]:
            con.execute("INSERT INTO photo_events VALUES (?, ?, 'e1', 'time')", [library_id, int(pid)])
        emb = [0.0] * 128
        con.execute(
            "INSERT INTO faces VALUES (?, ?, ?, 'faces@1', 0.1, 0.1, 0.2, 0.2, 1.0, ?, 7, false), "
            "(?, ?, ?, 'faces@1', 0.3, 0.3, 0.7, 0.7, 1.0, ?, 8, false)",
            [f"{ids[1]}-0", library_id, int(ids[1]), emb, f"{ids[1]}-1", library_id, int(ids[1]), emb],
        )
        con.execute("INSERT INTO persons VALUES (?, 8, 'Ana', NULL), (?, 7, NULL, NULL)", [library_id, library_id])
    assert tag_photos(store, ids[:3], "  Beach  DAY ") == 3
    assert tag_photos(store, ids[:4], "beach day") == 1  # three had it already
    emap = embedding_map(store, library_id)
    with store.connect(read_only=True) as con:
        points = map_points(con, library_id, VERSION, emap.params)
        assert tag_counts(con, library_id)[0].tag == "beach day"
    assert len(points) == 30 and points["photo_id"].tolist() == sorted(ids.tolist())
    row = points.set_index("photo_id")
    assert row.at[ids[0], "theme"] == themes[groups[0]] and row.at[ids[0], "theme_score"] == pytest.approx(0.8)
    assert row.at[ids[0], "clutter"] == "screenshot" and bool(row.at[ids[0], "is_clutter"])
    assert row.at[ids[1], "event_place"] == "Lisbon" and row.at[ids[1], "event_id"] == "e1"
    assert row.at[ids[1], "n_faces"] == 2
    assert row.at[ids[1], "person_id"] == 8 and row.at[ids[1], "person_name"] == "Ana"  # the biggest face
    assert row.at[ids[3], "tags"] == "beach day" and pd.isna(row.at[ids[5], "tags"])

    summaries = summarize_clusters(points, n_samples=4)
    assert sum(s.n_photos for s in summaries) == 30
    assert [s.cluster for s in summaries] == sorted(s.cluster for s in summaries)
    for s in summaries:
        members = points[points["cluster"] == s.cluster]
        assert s.themes[0].theme == members["theme"].mode()[0]
        assert s.samples == tuple(members.sort_values("typicality")["photo_id"].head(4))
    assert sum(s.n_clutter for s in summaries) == 1
    assert sum(s.n_with_faces for s in summaries) == 1


def test_a_map_of_20000_photos(store: Store) -> None:
    """The explorer's target size: 20,000 1280-d embeddings through the store and back."""
    from sklearn.metrics import adjusted_rand_score

    n = 20_000
    library_id, ids = add_photos(store, n)
    x, groups = clustered(n, 1280, 20, spread=1.0)
    add_embeddings(store, ids, x)
    emap = embedding_map(store, library_id)
    assert (emap.n_photos, emap.method, emap.n_clusters) == (n, "umap", 20)
    with store.connect(read_only=True) as con:
        points = map_points(con, library_id, VERSION, emap.params)
    assert len(points) == n and points["photo_id"].is_unique
    assert np.isfinite(points[["x", "y"]].to_numpy()).all()
    truth = pd.Series(groups, index=ids).loc[points["photo_id"]].to_numpy()
    assert adjusted_rand_score(truth, points["cluster"]) > 0.95
    summaries = summarize_clusters(points)
    assert len(summaries) == 20 and all(len(s.samples) == 6 for s in summaries)
    assert embedding_map(store, library_id).from_cache


# --------------------------------------------------------------------------- tags and picks


def test_tags_are_normalised_and_checked(store: Store) -> None:
    _, ids = add_photos(store, 3)
    assert normalise_tag("  Grandma's   Garden ") == "grandma's garden"
    with pytest.raises(TagError, match="type a tag"):
        tag_photos(store, ids, "   ")
    with pytest.raises(TagError, match="at most 40"):
        tag_photos(store, ids, "x" * 41)
    with pytest.raises(TagError, match="select photos first"):
        tag_photos(store, [], "blurry")
    with pytest.raises(TagError, match="no such photos"):
        tag_photos(store, [999_999], "blurry")
    tag_photos(store, ids, "blurry")
    assert untag_photos(store, ids[:1], "Blurry") == 1
    assert save_selection(store, ids, "themes", "odd ones") == 3
    assert save_selection(store, ids, "themes", "again") == 0
    with pytest.raises(TagError, match="unknown task type"):
        save_selection(store, ids, "faces", "x")


def test_importing_the_module_loads_neither_umap_nor_sklearn() -> None:
    script = (
        "import sys, curation.analysis, curation.analysis.tags\n"
        "print(sorted(m for m in ('umap', 'sklearn', 'torch') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"

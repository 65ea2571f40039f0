"""The multi-head classifier and `curation train` on a small generated store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.settings import Settings
from curation.store import Store
from curation.training import HeadsError, HeadsWeights, NotEnoughLabels, TrainingData, compare_versions, fit_heads
from curation.training.train import clutter_metrics, split_held_out, theme_metrics, train_heads
from curation.vision.clutter import CATEGORIES, ClutterCategory
from curation.vision.themes import THEMES, Theme
from labeling.queue import current_version

DIM = 24
# four kinds of photo, each a tight cluster in embedding space, with its true answers
KINDS = [
    ({Theme.PETS}, ClutterCategory.PHOTO),
    ({Theme.BEACH_SEA, Theme.PEOPLE_PORTRAITS}, ClutterCategory.PHOTO),
    (set(), ClutterCategory.RECEIPT),
    (set(), ClutterCategory.SCREENSHOT),
]


def _data(rng: np.random.Generator, per_kind: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centers = rng.normal(0, 1, (len(KINDS), DIM))
    x, themes, clutter = [], [], []
    for k, (kind_themes, category) in enumerate(KINDS):
        for _ in range(per_kind):
            x.append(centers[k] + rng.normal(0, 0.3, DIM))
            themes.append([1.0 if t in kind_themes else 0.0 for t in THEMES])
            clutter.append(CATEGORIES.index(category))
    return np.asarray(x, np.float32), np.asarray(themes), np.asarray(clutter)


def _training_data(seed: int = 0) -> TrainingData:
    x, themes, clutter = _data(np.random.default_rng(seed))
    n = len(x)
    return TrainingData(x, themes, clutter, np.ones(n), np.ones(n))


def test_fit_heads_learns_both_heads() -> None:
    data = _training_data()
    weights = fit_heads(data, seed=0)
    x, themes, clutter = _data(np.random.default_rng(0))  # same centres: a fresh draw around them
    assert ((weights.theme_probabilities(x) >= 0.5) == themes.astype(bool)).mean() > 0.95
    assert (weights.clutter_probabilities(x).argmax(axis=1) == clutter).mean() > 0.95
    p = weights.clutter_probabilities(x)
    assert p.shape == (len(x), len(CATEGORIES)) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_same_seed_same_weights() -> None:
    a, b = fit_heads(_training_data(), seed=3), fit_heads(_training_data(), seed=3)
    for name in ("mean", "scale", "theme_w", "theme_b", "clutter_w", "clutter_b"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.digest() == b.digest()


def test_masked_labels_train_only_their_head() -> None:
    data = _training_data()
    only_clutter = TrainingData(data.x, np.full_like(data.themes, np.nan), data.clutter, data.theme_weight,
                                data.clutter_weight)  # fmt: skip
    weights = fit_heads(only_clutter)
    assert weights.theme_w is None and weights.clutter_w is not None
    with pytest.raises(HeadsError, match="no theme head"):
        weights.theme_probabilities(data.x)


def test_heads_file_round_trip(tmp_path: Path) -> None:
    weights = fit_heads(_training_data())
    path = tmp_path / "heads.npz"
    weights.save(path)
    back = HeadsWeights.read(path)
    assert back.digest() == weights.digest()
    np.testing.assert_array_equal(back.theme_probabilities(_training_data().x), weights.theme_probabilities(_training_data().x))


def test_heads_file_errors(tmp_path: Path) -> None:
    with pytest.raises(HeadsError, match="curation train"):
        HeadsWeights.read(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not numpy")
    with pytest.raises(HeadsError, match="not a heads file"):
        HeadsWeights.read(bad)


def test_wrong_embedding_size_says_retrain() -> None:
    weights = fit_heads(_training_data())
    with pytest.raises(HeadsError, match="another embedder"):
        weights.clutter_probabilities(np.zeros((2, DIM + 1)))


def test_fit_heads_bad_l2() -> None:
    with pytest.raises(HeadsError, match="l2 must be >= 0"):
        fit_heads(_training_data(), l2=-1.0)


def test_fit_heads_bad_max_iter() -> None:
    with pytest.raises(HeadsError, match="max_iter"):
        fit_heads(_training_data(), max_iter=0)


def test_fit_heads_too_few_labels() -> None:
    data = _training_data().subset(np.array([0]))
    with pytest.raises(HeadsError, match="too few labels"):
        fit_heads(data, min_labels=2)


def test_training_data_bad_shapes() -> None:
    with pytest.raises(HeadsError, match="themes must be"):
        TrainingData(np.zeros((2, 3)), np.zeros((2, 5)), np.zeros(2, int), np.ones(2), np.ones(2))


def test_training_data_bad_clutter_labels() -> None:
    with pytest.raises(HeadsError, match="clutter labels"):
        TrainingData(np.zeros((2, 3)), np.zeros((2, len(THEMES))), np.array([0, 9]), np.ones(2), np.ones(2))


def test_theme_metrics_table() -> None:
    true = np.zeros((2, len(THEMES)), bool)
    pred = np.zeros_like(true)
    true[0, 0] = pred[0, 0] = True  # right
    true[1, 1] = True  # missed
    pred[1, 2] = True  # wrong
    m = theme_metrics(true, pred)
    assert m["n"] == 2 and m["f1_micro"] == pytest.approx(0.5) and m["exact_match"] == 0.5
    assert m["f1_macro"] == pytest.approx(0.5)  # themes present: 0 (F1 1) and 1 (F1 0)
    assert theme_metrics(true[:0], pred[:0]) == {"n": 0}


def test_clutter_metrics_table() -> None:
    photo, shot, receipt = (CATEGORIES.index(c) for c in ("photo", "screenshot", "receipt"))
    m = clutter_metrics([photo, shot, receipt, photo], [photo, shot, shot, shot])
    assert m["accuracy"] == 0.5
    assert m["clutter_precision"] == pytest.approx(2 / 3, abs=1e-4) and m["clutter_recall"] == 1.0


def test_split_held_out_is_seeded() -> None:
    ids = list(range(20))
    assert split_held_out(ids, 0) == split_held_out(ids, 0)
    assert len(split_held_out(ids, 0)) == 5
    assert split_held_out(ids[:3], 0) == set()  # too few to hold any out


# ----------------------------------------------------------------------------- train_heads on a store


def _store(tmp_path: Path, *, with_labels: bool = True) -> Store:
    store = Store(tmp_path / "db.duckdb")
    x, themes, clutter = _data(np.random.default_rng(7), per_kind=8)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = list(range(1, len(x) + 1))
    with store.connect() as con:
        con.execute("INSERT INTO libraries (library_id, root, name) VALUES (1, '/lib', 'lib')")
        con.register("ph", pd.DataFrame({"photo_id": ids, "rel_path": [f"IMG_{i}.jpg" for i in ids]}))
        con.execute("INSERT INTO photos (photo_id, library_id, rel_path, status, format, width, height) "
                    "SELECT photo_id, 1, rel_path, 'ok', 'JPEG', 4000, 3000 FROM ph")  # fmt: skip
        con.register("emb", pd.DataFrame({"photo_id": ids, "model_version": "emb@1", "vector": list(x)}))
        con.execute("INSERT INTO embeddings SELECT * FROM emb")
        # the shipped models: unsure themes (0.35 on the truth), clutter right but unsure
        scores = [np.where(row > 0, 0.35, 0.05).astype(np.float32) for row in themes]
        con.register("pred", pd.DataFrame({"photo_id": ids, "model_version": "themes-imagenet-map@1",
                                           "theme_scores": scores, "imagenet_top": 1, "imagenet_prob": 0.2}))  # fmt: skip
        con.execute("INSERT INTO photo_predictions SELECT * FROM pred")
        con.execute("INSERT INTO photo_themes SELECT photo_id, model_version, 'pets', 0.35, 1 FROM pred")
        con.register("clu", pd.DataFrame({"photo_id": ids, "category": [CATEGORIES[c].value for c in clutter]}))
        con.execute("INSERT INTO photo_clutter SELECT photo_id, 'clutter-lr@1', category, 0.6, category <> 'photo', "
                    "NULL FROM clu")  # fmt: skip
        con.execute("INSERT INTO model_versions (task, model_version, created_at) VALUES "
                    "('themes', 'themes-imagenet-map@1', '2026-01-01'), ('clutter', 'clutter-lr@1', '2026-01-01'), "
                    "('embedder', 'emb@1', '2026-01-01')")  # fmt: skip
        if with_labels:
            rows = []
            for i, pid in enumerate(ids[::2]):  # half the photos labelled, themes and clutter
                k = pid - 1
                chosen = sorted(t.value for t, y in zip(THEMES, themes[k], strict=True) if y)
                for task_type, value in (("themes", json.dumps(chosen)), ("clutter", json.dumps(CATEGORIES[clutter[k]].value))):
                    rows.append(("http://ls", 1000 + len(rows), 1, pid * 10 + (task_type == "clutter"), task_type, pid,
                                 None, None, "ann@example.com", datetime(2026, 1, 1), datetime(2026, 1, 1, 0, i), 3.0,
                                 False, value, "[]", False, datetime(2026, 1, 2)))  # fmt: skip
            con.executemany(f"INSERT INTO labels VALUES ({', '.join(['?'] * 17)})", rows)
    return store


def test_train_heads_versions_scores_and_compares(tmp_path: Path) -> None:
    store = _store(tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    run = train_heads(store, settings, seed=0)
    assert run.model_version.startswith("heads@1-") and run.weights_path.is_file()
    assert run.n_human == 12  # 16 labelled, 4 held out
    assert run.n_bootstrap == 16  # the unlabelled half: themes the shipped model is sure they lack
    assert run.n_predicted == 32
    assert run.metrics["themes"]["trained"] and run.metrics["clutter"]["trained"]
    held = run.metrics["themes"]["held_out"]
    assert held["n"] == 4 and held["f1_micro"] > run.metrics["themes"]["baseline"]["f1_micro"]
    assert run.metrics["clutter"]["held_out"]["accuracy"] == 1.0
    with store.connect() as con:
        stored = dict(con.execute("SELECT task, metrics FROM model_versions WHERE model_version = ?",
                                  [run.model_version]).fetchall())  # fmt: skip
        assert set(stored) == {"themes", "clutter"}
        themes_doc = json.loads(stored["themes"])
        assert list(themes_doc)[:2] == ["held_out", "baseline"] and themes_doc["held_out"] == held
        assert json.loads(stored["clutter"])["held_out"] == run.metrics["clutter"]["held_out"]
        assert "clutter" not in themes_doc  # each task's row holds its own numbers
        full = json.loads(con.execute("SELECT metrics FROM training_runs").fetchone()[0])
        assert full == run.metrics
        assert con.execute("SELECT count(*) FROM photo_clutter WHERE model_version = ?", [run.model_version]).fetchone()[0] == 32
        assert con.execute("SELECT count(*) FROM photo_predictions WHERE model_version = ?", [run.model_version]).fetchone()[0] == 32
        pets = con.execute("SELECT count(DISTINCT photo_id) FROM photo_themes WHERE model_version = ? AND theme = 'pets'",
                           [run.model_version]).fetchone()[0]  # fmt: skip
        assert pets == 8
        runs = con.execute("SELECT model_version, seed, n_human FROM training_runs").fetchall()
        assert runs == [(run.model_version, 0, 12)]
        # the new version is now the current one for mining and albums
        assert current_version(con, "photo_predictions", "themes") == run.model_version
        assert current_version(con, "photo_clutter", "clutter") == run.model_version
    table = compare_versions(store)
    assert list(table["model_version"]) == ["clutter-lr@1", run.model_version, "themes-imagenet-map@1", run.model_version]
    row = table[(table["task"] == "themes") & (table["model_version"] == run.model_version)].iloc[0]
    assert row["held_out.f1_micro"] == held["f1_micro"] and row["baseline.model_version"] == "themes-imagenet-map@1"


def test_train_heads_is_reproducible(tmp_path: Path) -> None:
    a = train_heads(_store(tmp_path / "a"), Settings(data_dir=tmp_path / "a"), seed=5)
    b = train_heads(_store(tmp_path / "b"), Settings(data_dir=tmp_path / "b"), seed=5)
    assert a.model_version == b.model_version  # same number, same weight hash
    drop = {"seconds"}
    assert {k: v for k, v in a.metrics.items() if k not in drop} == {k: v for k, v in b.metrics.items() if k not in drop}
    np.testing.assert_array_equal(HeadsWeights.read(a.weights_path).theme_w, HeadsWeights.read(b.weights_path).theme_w)


def test_second_run_compares_with_the_first(tmp_path: Path) -> None:
    store = _store(tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    first = train_heads(store, settings, seed=0)
    second = train_heads(store, settings, seed=1)
    assert second.model_version.startswith("heads@2-")
    assert second.metrics["themes"]["baseline"]["model_version"] == first.model_version
    assert len(compare_versions(store)) == 6


def test_train_without_labels_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(NotEnoughLabels, match="curation label push"):
        train_heads(_store(tmp_path, with_labels=False), Settings(data_dir=tmp_path / "data"))


def test_train_without_embeddings(tmp_path: Path) -> None:
    with pytest.raises(NotEnoughLabels, match="vision stage"):
        train_heads(Store(tmp_path / "empty.duckdb"), Settings(data_dir=tmp_path / "data"))


def test_bootstrap_labels_join_when_confident(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with store.connect() as con:
        con.execute("UPDATE photo_clutter SET score = 0.95")
    run = train_heads(store, Settings(data_dir=tmp_path / "data"), seed=0)
    assert run.n_bootstrap == 16  # the unlabelled half, from the confident clutter calls
    assert run.metrics["clutter"]["n_train_bootstrap"] == 16


def test_compare_versions_empty(tmp_path: Path) -> None:
    frame = compare_versions(Store(tmp_path / "x.duckdb"))
    assert frame.empty and "model_version" in frame.columns

"""Hard-case mining, k-center spreading and the DuckDB queue (no Label Studio)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.store import Store
from curation.vision.clutter import CATEGORIES
from curation.vision.themes import THEMES, Theme, theme_class_indices
from labeling.config import TaskType
from labeling.queue import (
    EVENT_BAND,
    BoundaryRow,
    FaceRow,
    QueueItem,
    QueueStatus,
    Source,
    enqueue_photos,
    interleave,
    item_key,
    k_center_greedy,
    mine,
    mine_clutter_cases,
    mine_event_cases,
    mine_face_cases,
    mine_theme_cases,
    next_batch,
    queue_frame,
    set_status,
)

PETS, WILDLIFE, BEACH = (THEMES.index(t) for t in (Theme.PETS, Theme.WILDLIFE, Theme.BEACH_SEA))


def _scores(**by_theme: float) -> np.ndarray:
    row = np.zeros(len(THEMES))
    for name, value in by_theme.items():
        row[THEMES.index(Theme(name))] = value
    return row


# ----------------------------------------------------------------------------- pure miners


def test_theme_miner_finds_close_calls_and_boundary_cases() -> None:
    scores = np.stack(
        [
            _scores(pets=0.45, wildlife=0.41),  # close call
            _scores(beach_sea=0.31),  # at the cut-off
            _scores(pets=0.95),  # confident: not hard
            _scores(pets=0.04, wildlife=0.03),  # nothing: not hard (runner-up implausible)
        ]
    )
    items = {it.photo_id: it for it in mine_theme_cases([1, 2, 3, 4], scores, "themes@1")}
    assert set(items) == {1, 2}
    assert "close" in items[1].reason and "Pets 0.45 vs Wildlife 0.41" in items[1].reason
    assert "cut-off" in items[2].reason
    assert all(0 < it.priority <= 1 and it.model_version == "themes@1" for it in items.values())
    assert items[1].item_key == "themes:1" and items[1].source is Source.MINED


def test_theme_miner_flags_imagenet_disagreement() -> None:
    dog_class = int(theme_class_indices()[Theme.PETS][0])
    scores = np.stack([_scores(wildlife=0.9), _scores(pets=0.9)])
    items = mine_theme_cases(
        [1, 2], scores, "v", imagenet_top=[dog_class, dog_class], imagenet_prob=[0.8, 0.8], class_names={dog_class: "pug"}
    )
    assert [it.photo_id for it in items] == [1]
    assert "ImageNet sees pug (0.80, a Pets class)" in items[0].reason


def test_theme_miner_validates_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        mine_theme_cases([1, 2], np.zeros((1, len(THEMES))), "v")


def test_clutter_miner() -> None:
    overturned = json.dumps({"head": {"photo": 0.7, "screenshot": 0.2, "receipt": 0.05, "document": 0.05},
                             "rules": ["png", "screen_size"]})  # fmt: skip
    items = mine_clutter_cases(
        [1, 2, 3, 4],
        ["receipt", "screenshot", "screenshot", "photo"],
        [0.45, 0.95, 0.9, 0.99],
        "clutter@1",
        signals=[None, overturned, None, None],
        top_theme={3: (Theme.PETS, 0.8), 4: (Theme.PETS, 0.9)},
    )
    by_id = {it.photo_id: it for it in items}
    assert set(by_id) == {1, 2, 3}
    assert "unsure between categories" in by_id[1].reason
    assert "metadata rules (png, screen_size) overturned the head" in by_id[2].reason
    assert "theme model says Pets" in by_id[3].reason


def _person(center: np.ndarray, n: int, spread: float, rng: np.random.Generator) -> list[np.ndarray]:
    return [center + rng.normal(0, spread / np.sqrt(len(center)), len(center)) for _ in range(n)]


def test_face_miner_pairs_doubtful_faces_with_the_typical_face() -> None:
    rng = np.random.default_rng(0)
    d = 128
    a, b = np.zeros(d), np.zeros(d)
    b[0] = 3.0  # two people far apart
    faces = [FaceRow(f"1-{i}", 1 + i, 1, v) for i, v in enumerate(_person(a, 6, 0.1, rng))]
    faces += [FaceRow(f"2-{i}", 20 + i, 2, v) for i, v in enumerate(_person(b, 4, 0.1, rng))]
    edge, pinned = a.copy(), a.copy()
    edge[1] = pinned[2] = 0.6  # with 6 faces at a: each is 0.6 * sqrt(50) / 8 = 0.53 from the centroid
    faces.append(FaceRow("9-0", 9, 1, edge))
    faces.append(FaceRow("9-1", 9, 1, pinned, pinned=True))  # placed by hand: never asked
    stray = b.copy()
    stray[2] = 0.53  # unassigned, at the threshold from person 2
    faces.append(FaceRow("30-0", 30, None, stray))
    items = mine_face_cases(faces, "dlib@1", threshold=0.53, band=0.06, person_names={2: "Grandma"})
    by_face = {it.face_id: it for it in items}
    assert set(by_face) == {"9-0", "30-0"}
    assert by_face["9-0"].person_id == 1 and by_face["9-0"].ref_face_id.startswith("1-")
    assert by_face["30-0"].person_id == 2 and "Grandma" in by_face["30-0"].reason
    assert by_face["30-0"].item_key == f"same_person:30-0:{by_face['30-0'].ref_face_id}"
    assert by_face["30-0"].task_type is TaskType.SAME_PERSON


def test_event_miner_takes_close_calls_on_either_side_of_the_cut_off() -> None:
    rows = [
        BoundaryRow(1, 2, 0.05, True, "a split it nearly did not make", "seg@1"),
        BoundaryRow(2, 3, -0.30, False, "a merge it nearly split", "seg@1"),
        BoundaryRow(3, 4, 0.60, True, "a clear split (0.6 > ln 1.5)", "seg@1"),
        BoundaryRow(4, 5, -0.01, False, "decided by a person already", "seg@1", labelled=True),
        BoundaryRow(5, 6, float("-inf"), False, "no rule near", "seg@1"),
    ]
    items = mine_event_cases(rows)
    assert [(it.photo_id, it.ref_photo_id) for it in items] == [(1, 2), (2, 3)]  # closest first
    assert items[0].item_key == "same_event:1:2" and items[0].task_type is TaskType.SAME_EVENT
    assert items[0].priority == pytest.approx(1 - 0.05 / EVENT_BAND)
    assert items[1].reason == "same event? a merge it nearly split" and items[1].model_version == "seg@1"
    with pytest.raises(ValueError, match="band"):
        mine_event_cases(rows, band=0)


def test_item_key() -> None:
    assert item_key(TaskType.CLUTTER, 5) == "clutter:5"
    assert item_key(TaskType.SAME_EVENT, 5, ref_photo_id=6) == "same_event:5:6"
    with pytest.raises(ValueError, match="face_id"):
        item_key(TaskType.SAME_PERSON, 5)
    with pytest.raises(ValueError, match="ref_photo_id"):
        item_key(TaskType.SAME_EVENT, 5)


# ----------------------------------------------------------------------------- spreading


def _clusters(rng: np.random.Generator, n_clusters: int, per: int, dim: int = 16) -> tuple[np.ndarray, np.ndarray]:
    centers = rng.normal(0, 1, (n_clusters, dim)) * 5
    x = np.concatenate([c + rng.normal(0, 0.01, (per, dim)) for c in centers])
    labels = np.repeat(np.arange(n_clusters), per)
    return x, labels


def test_k_center_takes_one_per_cluster_not_near_copies() -> None:
    rng = np.random.default_rng(1)
    x, labels = _clusters(rng, 4, 10)
    picked = k_center_greedy(x, 4)
    assert sorted(labels[picked]) == [0, 1, 2, 3]
    assert k_center_greedy(x, 4) == picked  # deterministic


def test_k_center_avoids_what_earlier_batches_sent_and_prefers_priority() -> None:
    rng = np.random.default_rng(2)
    x, labels = _clusters(rng, 3, 5)
    picked = k_center_greedy(x, 2, already=x[labels == 0][:1])
    assert 0 not in labels[picked]
    priorities = np.zeros(len(x))
    priorities[7] = 1.0
    assert k_center_greedy(x, 1, priorities=priorities) == [7]
    assert k_center_greedy(x, 0) == [] and k_center_greedy(x[:0], 3) == []
    assert len(k_center_greedy(x, 100)) == len(x)
    with pytest.raises(ValueError, match="k must be"):
        k_center_greedy(x, -1)


def test_interleave_takes_turns() -> None:
    a = [QueueItem(f"themes:{i}", TaskType.THEMES, i, "r", 0.5) for i in range(3)]
    b = [QueueItem(f"clutter:{i}", TaskType.CLUTTER, i, "r", 0.5) for i in range(1)]
    assert [it.item_key for it in interleave([a, b], 3)] == ["themes:0", "clutter:0", "themes:1"]


# ----------------------------------------------------------------------------- the store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store with 12 photos in 3 tight embedding clusters, theme and clutter predictions
    that make every photo hard, and two people with a doubtful face."""
    store = Store(tmp_path / "db.duckdb")
    rng = np.random.default_rng(0)
    x, _ = _clusters(rng, 3, 4, dim=32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = list(range(1, 13))
    with store.connect() as con:
        con.execute("INSERT INTO libraries (library_id, root, name) VALUES (1, '/lib', 'lib')")
        for pid in ids:
            con.execute(
                "INSERT INTO photos (photo_id, library_id, rel_path, status, sha256) VALUES (?, 1, ?, 'ok', ?)",
                [pid, f"p{pid}.jpg", f"{pid:064x}"],
            )
        con.register("emb", pd.DataFrame({"photo_id": ids, "model_version": "emb@1", "vector": list(x.astype(np.float32))}))
        con.execute("INSERT INTO embeddings SELECT * FROM emb")
        scores = [_scores(pets=0.40 + 0.001 * i, wildlife=0.38).astype(np.float32) for i in ids]
        con.register("pred", pd.DataFrame({"photo_id": ids, "model_version": "themes@1", "theme_scores": scores,
                                           "imagenet_top": 0, "imagenet_prob": 0.1}))  # fmt: skip
        con.execute("INSERT INTO photo_predictions SELECT * FROM pred")
        con.execute(
            "INSERT INTO photo_clutter SELECT photo_id, 'clutter@1', 'receipt', 0.5, true, NULL FROM pred"
        )
        con.execute("INSERT INTO model_versions (task, model_version) VALUES ('themes', 'themes@1'), "
                    "('clutter', 'clutter@1'), ('embedder', 'emb@1')")  # fmt: skip
        emb = np.zeros((5, 128), np.float32)
        emb[4, 0] = 0.7  # far from the other three faces of person 1
        for i in range(5):
            con.execute(
                "INSERT INTO faces VALUES (?, 1, ?, 'dlib@1', 0, 0, 1, 1, 0.9, ?, 1, false)",
                [f"{i + 1}-0", i + 1, emb[i].tolist()],
            )
    return store


def test_mine_fills_the_queue_once(store: Store) -> None:
    report = mine(store)
    assert report.found[TaskType.THEMES] == 12 and report.found[TaskType.CLUTTER] == 12
    assert report.found[TaskType.SAME_PERSON] == 1
    assert report.queued == 25 and report.versions[TaskType.THEMES] == "themes@1"
    again = mine(store)
    assert again.queued == 0 and again.updated == 0 and again.dropped == 0
    frame = queue_frame(store)
    assert len(frame) == 25 and frame["item_key"].is_unique
    assert set(frame["status"]) == {"queued"}
    face = frame[frame["task_type"] == "same_person"].iloc[0]
    assert face["face_id"] == "5-0" and face["ref_face_id"] in {"1-0", "2-0", "3-0", "4-0"}


def test_remining_drops_cases_no_longer_hard_but_keeps_pushed_and_explorer(store: Store) -> None:
    mine(store)
    frame = queue_frame(store)
    pushed = frame[frame["item_key"] == "themes:1"]["item_id"].tolist()
    set_status(store, pushed, QueueStatus.PUSHED)
    enqueue_photos(store, [2], "clutter", "looks like a receipt to me")  # already queued as mined: kept as is
    with store.connect() as con:  # the model became sure of every theme
        con.execute("UPDATE photo_predictions SET theme_scores = ?", [_scores(pets=0.99).astype(np.float32).tolist()])
    report = mine(store, task_types=["themes"])
    assert report.dropped == 11  # themes:2..12; themes:1 was pushed
    frame = queue_frame(store)
    assert frame[frame["task_type"] == "themes"]["item_key"].tolist() == ["themes:1"]
    assert (frame["task_type"] == "clutter").sum() == 12


def test_enqueue_photos_from_the_explorer(store: Store) -> None:
    assert enqueue_photos(store, [3, 4, 4], TaskType.THEMES, "picked in the explorer") == 2
    assert enqueue_photos(store, [3], "themes", "again") == 0  # no duplicate
    frame = queue_frame(store)
    assert frame["source"].tolist() == ["explorer", "explorer"]
    assert frame["priority"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="same_person asks about faces"):
        enqueue_photos(store, [3], "same_person", "x")
    with pytest.raises(ValueError, match="no such photos"):
        enqueue_photos(store, [999], "themes", "x")
    with pytest.raises(ValueError, match="give a reason"):
        enqueue_photos(store, [3], "themes", " ")
    with pytest.raises(ValueError, match="unknown task type"):
        enqueue_photos(store, [3], "colour", "x")
    assert enqueue_photos(store, [], "themes", "x") == 0


def test_next_batch_explorer_first_then_spread_over_clusters(store: Store) -> None:
    mine(store, task_types=["themes"])
    enqueue_photos(store, [12], "clutter", "picked in the explorer")
    batch = next_batch(store, 4, task_types=["themes", "clutter"])
    assert batch[0].source is Source.EXPLORER and batch[0].photo_id == 12
    themes = [it.photo_id for it in batch[1:]]
    clusters = {(pid - 1) // 4 for pid in themes}
    assert len(themes) == 3 and len(clusters) == 3  # one per cluster, not three near-copies
    # once those are sent, the next batch starts from the clusters' other members
    set_status(store, [it.item_id for it in batch], QueueStatus.PUSHED)
    later = next_batch(store, 3, task_types=["themes"])
    assert not {it.photo_id for it in later} & set(themes)
    assert next_batch(store, 0) == []


def test_next_batch_takes_turns_between_task_types(store: Store) -> None:
    mine(store)
    batch = next_batch(store, 6)
    types = [it.task_type for it in batch]
    assert types.count(TaskType.THEMES) >= 2 and types.count(TaskType.CLUTTER) >= 2
    assert TaskType.SAME_PERSON in types
    assert len({it.item_key for it in batch}) == 6
    with pytest.raises(ValueError, match="limit"):
        next_batch(store, -1)


def _boundaries(store: Store, margins: dict[int, float]) -> None:
    """event_boundaries rows between photo p and p + 1, as the events stage writes them."""
    with store.connect() as con:
        for p, m in margins.items():
            con.execute(
                "INSERT INTO event_boundaries VALUES (1, ?, ?, 3600, 'time', ?, ?, false, 'r', 'seg@1')",
                [p, p + 1, m, m > 0],
            )


def test_same_event_pairs_are_mined_and_spread_over_the_embedding_space(store: Store) -> None:
    _boundaries(store, {p: 0.01 * (p % 3) - 0.01 for p in range(1, 12)} | {12: 0.9})
    with store.connect() as con:  # photo 13 does not exist: its boundary is never asked about
        con.execute("UPDATE event_boundaries SET photo_after = 13 WHERE photo_before = 12")
    report = mine(store, task_types=["same_event"])
    assert report.found[TaskType.SAME_EVENT] == 11 and report.versions[TaskType.SAME_EVENT] == "seg@1"
    frame = queue_frame(store)
    assert set(frame["item_key"]) == {f"same_event:{p}:{p + 1}" for p in range(1, 12)}
    assert frame["ref_photo_id"].tolist() == (frame["photo_id"] + 1).tolist()
    batch = next_batch(store, 3, task_types=["same_event"])
    # photos 1-4, 5-8, 9-12 are three tight clusters: three pairs of different cluster pairs, not
    # three near-copies from one afternoon
    kinds = {((it.photo_id - 1) // 4, (it.ref_photo_id - 1) // 4) for it in batch}
    assert len(kinds) == 3 and all(it.ref_photo_id == it.photo_id + 1 for it in batch)
    with pytest.raises(ValueError, match="pair of photos"):
        enqueue_photos(store, [3], "same_event", "x")


def test_categories_cover_the_clutter_head() -> None:
    assert [c.value for c in CATEGORIES] == ["photo", "screenshot", "receipt", "document"]


def test_push_with_label_studio_down_leaves_the_queue_intact(store: Store, tmp_path: Path) -> None:
    import socket

    from pydantic import SecretStr

    from curation.settings import LabelStudioSettings, Settings
    from labeling import LabelStudioUnavailable, pull, push

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    secret = "not-a-real-token-5f3a"
    settings = Settings(
        data_dir=tmp_path / "data",
        label_studio=LabelStudioSettings(url=f"http://127.0.0.1:{port}", api_key=SecretStr(secret)),
    )
    mine(store)
    before = queue_frame(store)
    with pytest.raises(LabelStudioUnavailable, match="scripts/labelstudio.sh start") as excinfo:
        push(store, settings, limit=5)
    assert secret not in str(excinfo.value) and "queue is intact" in str(excinfo.value)
    assert excinfo.value.__cause__ is None  # no chained SDK error that could carry headers
    pd.testing.assert_frame_equal(queue_frame(store), before)
    with pytest.raises(LabelStudioUnavailable):
        pull(store, settings)

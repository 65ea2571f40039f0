"""The Ray backend equals the local one, photo by photo and album by album.

Two libraries cut from the demo library (real photos from installed packages on a generated
timeline): a Paris week (faces, a burst, a screenshot, a non-image) and a home library (two
Christmases, a birthday, a receipt, an exact duplicate, a truncated file). Both are curated
once with the local backend and once with the Ray backend on a 2-CPU local Ray cluster, each
into its own store and cache; then every photo's and every album's results are compared.

The tests marked ``ray`` need Ray (``pip install 'curation-studio[ray]'``); the rest of this
file checks the backend registry, the nested-column plumbing and the import's errors
without starting Ray.
"""

from __future__ import annotations

import math
import shutil
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from curation.albums import AlbumSettings
from curation.distributed import (
    ParquetImportError,
    RaySettings,
    UnknownBackendError,
    create_backend,
    import_parquet,
    list_backends,
)
from curation.distributed.plan import LibraryNotFresh, plan_libraries
from curation.distributed.tables import LIBRARY_TABLES, pack, pack_first, unpack
from curation.export import build_export
from curation.pipeline.runner import Stage
from curation.settings import Settings
from curation.store import Store

NOW = datetime(2025, 6, 1, 12, 0, 0)
LIBRARIES = {
    "paris": lambda f: f["event_id"] in ("ev08-paris-tower", "ev09-paris-museum")
    or f["rel_path"] in ("Screenshots/Screenshot_20220610-064800.png", "Camera/IMG_0001.PNG"),
    "home": lambda f: f["event_id"] in ("ev13-christmas-2023", "ev14-birthday")
    or f["rel_path"] in ("Camera/IMG_1025.JPG", "Camera/IMG_1025 (1).JPG", "X-T30/DSCF0999.JPG"),
}


# ----------------------------------------------------------------------------- fast tier (no Ray)


def test_backend_registry_lists_names() -> None:
    assert {"local", "ray"} <= set(list_backends())
    with pytest.raises(UnknownBackendError, match=r"Unknown backend 'spark'\. Valid backends: local, ray"):
        create_backend("spark")


def test_ray_is_not_imported_by_the_engine() -> None:
    import subprocess

    code = "import sys, curation.distributed, curation.cli; create = curation.distributed.create_backend('ray'); "
    code += "assert 'ray' not in sys.modules, 'ray imported at import time'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_ray_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from curation.distributed.ray_backend import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'curation-studio\[ray\]'"):
        import_ray()


def test_ray_backend_refuses_a_subset_of_stages(tmp_path: Path, settings: Settings) -> None:
    backend = create_backend("ray")
    with pytest.raises(ValueError, match="runs every stage"):
        backend.run([tmp_path], Store(tmp_path / "db.duckdb"), settings, stages=[Stage.INGEST])


def test_pack_unpack_round_trip() -> None:
    rows = pa.table({"photo_id": [3, 1, 3, 7], "x": [0.5, 1.5, 2.5, 3.5], "v": [[1.0], [2.0], [3.0], [4.0]]})
    column = pack([1, 2, 3], rows.filter(pa.compute.not_equal(rows["photo_id"], 7)))
    assert column.to_pylist() == [
        [{"photo_id": 1, "x": 1.5, "v": [2.0]}],
        [],
        [{"photo_id": 3, "x": 0.5, "v": [1.0]}, {"photo_id": 3, "x": 2.5, "v": [3.0]}],
    ]
    assert unpack(pa.chunked_array([column[:1], column[1:]])).sort_by("x").equals(
        rows.slice(0, 3).sort_by("x")
    )
    with pytest.raises(ValueError, match="photo_id 7 is not one of the batch's photos"):
        pack([1, 2, 3], rows)
    first = pack_first(3, rows.slice(0, 2))
    assert [len(v) for v in first.to_pylist()] == [2, 0, 0]
    assert unpack(pack([1], rows.slice(0, 0))).num_rows == 0


def test_import_needs_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(ParquetImportError, match="has no _manifest.json"):
        import_parquet(Store(tmp_path / "db.duckdb"), tmp_path / "nothing-here")


def test_plan_reserves_the_ids_a_local_ingest_would_take(tmp_path: Path, settings: Settings) -> None:
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / name / "sub").mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8)).save(tmp_path / name / "sub" / f"{i}.jpg")
    store = Store(tmp_path / "db.duckdb")
    plans = plan_libraries(store, [tmp_path / "a", tmp_path / "b"], "ingest", NOW)
    assert [(p.library_id, p.run_id, p.partition) for p in plans] == [(1, 1, "a"), (2, 2, "b")]
    assert [[(f.photo_id, f.rel_path) for f in p.files] for p in plans] == [
        [(1, "sub/0.jpg"), (2, "sub/1.jpg"), (3, "sub/2.jpg")],
        [(4, "sub/0.jpg"), (5, "sub/1.jpg"), (6, "sub/2.jpg")],
    ]
    from curation.ingest.pipeline import ingest_library

    ingest_library(tmp_path / "a", store, settings)  # the library now has photos
    with pytest.raises(LibraryNotFresh, match="already has 3 photos"):
        plan_libraries(store, [tmp_path / "a"], "ingest", NOW)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI builds its own Settings: keep its cache and databases out of the repo's var/.
    monkeypatch.setenv("CURATION_DATA_DIR", str(tmp_path / "cli-data"))


def _cli(*args: str):  # noqa: ANN202
    from typer.testing import CliRunner

    from curation.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_run_checks_the_backend_options(tmp_path: Path) -> None:
    db = str(tmp_path / "db.duckdb")
    for args, message in [
        (("run", str(tmp_path), "--backend", "spark"), "Valid backends: local, ray"),
        (("run", str(tmp_path), "--parquet-out", str(tmp_path / "out")), "add --backend ray"),
        (("run", str(tmp_path), "--backend", "ray", "--stages", "ingest"), "runs every stage"),
        (("import-parquet", str(tmp_path / "nothing")), "has no _manifest.json"),
    ]:
        result = _cli(*args, "--db", db)
        assert result.exit_code == 1 and message in " ".join(result.output.split()), result.output


def test_cli_run_local_is_unchanged_for_one_library_and_takes_several(tmp_path: Path) -> None:
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (64, 48), "red").save(tmp_path / name / "IMG_20240101_120000.jpg")
    db = tmp_path / "db.duckdb"
    result = _cli("run", str(tmp_path / "a"), "--db", str(db), "--stages", "ingest")
    assert result.exit_code == 0, result.output
    assert "Ingest of" in result.output and "files found" in result.output
    result = _cli("run", str(tmp_path / "a"), str(tmp_path / "b"), "--db", str(db), "--stages", "ingest")
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        query = "SELECT name, count(*) FROM photos JOIN libraries USING (library_id) GROUP BY 1 ORDER BY 1"
        assert con.execute(query).fetchall() == [("a", 1), ("b", 1)]


# ----------------------------------------------------------------------------- Ray tier


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    pytest.importorskip("ray")  # before the local run: without Ray the tier skips at once
    from curation.demo.library import build_demo_library

    base = tmp_path_factory.mktemp("ray-libraries")
    demo = base / "demo"
    manifest = build_demo_library(demo)
    roots = []
    for name, wanted in LIBRARIES.items():
        root = base / name
        for f in (f for f in manifest.files if wanted(_as_dict(f))):
            target = root / _as_dict(f)["rel_path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(demo / _as_dict(f)["rel_path"], target)  # keeps the mtime
        roots.append(root)
    return roots


def _as_dict(entry: object) -> dict:
    return entry if isinstance(entry, dict) else vars(entry)


def _settings(data_dir: Path) -> Settings:
    # Albums of 3+ photos: the libraries are small (a printed album wants 12).
    return Settings(data_dir=data_dir, albums=AlbumSettings(min_photos=3))


@pytest.fixture(scope="module")
def local_run(libraries: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Store:
    settings = _settings(tmp_path_factory.mktemp("local"))
    store = Store(settings.database)
    create_backend("local").run(libraries, store, settings, now=NOW)
    return store


@pytest.fixture(scope="module")
def ray_run(libraries: list[Path], local_run: Store, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    ray = pytest.importorskip("ray")
    data_dir = tmp_path_factory.mktemp("ray")
    settings = _settings(data_dir)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        config = RaySettings(
            # Small batches so every step sees several, and the actors leave a CPU for the tasks.
            ingest_batch_size=8, faces_batch_size=8, vision_batch_size=16,
            faces_num_cpus=0.5, vision_num_cpus=0.5, progress_bars=False,
        )  # fmt: skip
        out = data_dir / "parquet"
        store = Store(settings.database)
        results = create_backend("ray", parquet_out=out, config=config).run(libraries, store, settings, now=NOW)
    finally:
        ray.shutdown()
    return store, out, results


def _photos(store: Store) -> dict[tuple[str, str], dict]:
    """Every file's results, keyed by (library folder name, path)."""
    with store.connect(read_only=True) as con:
        frame = con.execute(
            """
            SELECT l.name AS library, p.rel_path, p.photo_id, p.library_id, p.status, p.sha256, p.phash,
                   p.taken_at, p.tz_offset_min, p.time_source, p.lat, p.lon, p.width, p.height, p.format,
                   (SELECT list((t.theme, t.rank) ORDER BY t.rank) FROM photo_themes t WHERE t.photo_id = p.photo_id)
                     AS themes,
                   (SELECT list(round(t.score, 4) ORDER BY t.rank) FROM photo_themes t WHERE t.photo_id = p.photo_id)
                     AS theme_scores,
                   c.category AS clutter, c.is_clutter, round(q.score, 4) AS quality,
                   (SELECT list((f.face_id, f.person_id, round(f.box_left, 4), round(f.box_top, 4)) ORDER BY f.face_id)
                      FROM faces f WHERE f.photo_id = p.photo_id) AS faces,
                   s.n_faces, e.event_id, e.placed_by, x.code AS excluded, d.group_id AS dup_group,
                   (SELECT list(i.code ORDER BY i.code) FROM ingest_issues i
                     WHERE i.library_id = p.library_id AND i.rel_path = p.rel_path) AS issues
            FROM photos p JOIN libraries l USING (library_id)
            LEFT JOIN photo_clutter c ON c.photo_id = p.photo_id
            LEFT JOIN photo_quality q ON q.photo_id = p.photo_id
            LEFT JOIN face_scans s ON s.photo_id = p.photo_id
            LEFT JOIN photo_events e ON e.photo_id = p.photo_id
            LEFT JOIN event_exclusions x ON x.photo_id = p.photo_id
            LEFT JOIN near_duplicates d ON d.photo_id = p.photo_id
            ORDER BY p.photo_id
            """
        ).fetchall()
        columns = [d[0] for d in con.description]
    rows = [dict(zip(columns, r, strict=True)) for r in frame]
    return {(r["library"], r["rel_path"]): r for r in rows}


def _albums(store: Store) -> dict[str, dict]:
    with store.connect(read_only=True) as con:
        rows = con.execute(
            """
            SELECT a.album_id, a.library_id, a.kind, a.title, a.title_suggestions, a.caption, a.cover_photo_id,
                   a.cover_reason, round(a.score, 6) AS score, a.start_at, a.end_at, a.place_name, a.facts, a.rule,
                   a.n_eligible, (SELECT list((ap.photo_id, ap.reason) ORDER BY ap.position) FROM album_photos ap
                                  WHERE ap.album_id = a.album_id) AS photos
            FROM albums a ORDER BY a.album_id
            """
        ).fetchall()
        columns = [d[0] for d in con.description]
    return {r[0]: dict(zip(columns, r, strict=True)) for r in rows}


def _embeddings(store: Store) -> dict[int, np.ndarray]:
    with store.connect(read_only=True) as con:
        rows = con.execute("SELECT photo_id, vector FROM embeddings").fetchall()
    return {pid: np.asarray(v, np.float32) for pid, v in rows}


@pytest.mark.ray
def test_ray_equals_local_photo_by_photo(local_run: Store, ray_run) -> None:  # noqa: ANN001
    store, _, _ = ray_run
    local, distributed = _photos(local_run), _photos(store)
    assert len(local) >= 20 and set(local) == set(distributed)
    for key, expected in local.items():
        assert distributed[key] == expected, key
    # The results are not trivially empty: faces with persons, events, clutter, issues.
    values = list(local.values())
    assert any(p["faces"] and p["faces"][0][1] is not None for p in values)
    assert "screenshot" in {p["clutter"] for p in values}
    assert len({p["event_id"] for p in values if p["event_id"]}) >= 4
    assert any("exact_duplicate" in (p["issues"] or []) for p in values)
    assert any(p["status"] == "skipped" for p in values)
    assert {p["library_id"] for p in values} == {1, 2}
    # Embeddings: same model on the same thumbnails, in other batches.
    a, b = _embeddings(local_run), _embeddings(store)
    assert a.keys() == b.keys()
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < 1e-5


@pytest.mark.ray
def test_every_table_is_the_same(local_run: Store, ray_run) -> None:  # noqa: ANN001
    """All rows of every table a run writes, beyond what the photo and album views show."""
    store, _, _ = ray_run
    with local_run.connect(read_only=True) as a, store.connect(read_only=True) as b:
        written = {
            r[0] for r in a.execute(
                "SELECT table_name FROM duckdb_tables() WHERE estimated_size > 0 AND table_name NOT IN "
                "('libraries', 'runs')"
            ).fetchall()
        }  # fmt: skip
        assert written <= set(LIBRARY_TABLES), "a stage writes a table the ray backend does not carry"
        for table in LIBRARY_TABLES:
            columns = [
                c for c, t in a.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]
                ).fetchall()
                if c != "created_at" and not t.startswith("FLOAT[")  # vectors: compared with a tolerance
            ]  # fmt: skip
            query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL"
            expected, got = a.execute(query).fetchall(), b.execute(query).fetchall()
            assert len(got) == len(expected), table
            for want, have in zip(expected, got, strict=True):
                assert all(_same(w, h) for w, h in zip(want, have, strict=True)), (table, want, have)


def _same(want: object, have: object) -> bool:
    # Floats computed from embeddings (scores) may differ in the last bits between batchings.
    if isinstance(want, float) and isinstance(have, float):
        return math.isclose(want, have, rel_tol=1e-5, abs_tol=1e-6)
    return want == have


@pytest.mark.ray
def test_ray_equals_local_album_by_album(local_run: Store, ray_run) -> None:  # noqa: ANN001
    store, _, _ = ray_run
    local, distributed = _albums(local_run), _albums(store)
    assert len(local) >= 4 and {a["kind"] for a in local.values()} >= {"event", "theme"}
    assert list(distributed) == list(local)
    for album_id, expected in local.items():
        assert distributed[album_id] == expected, album_id


@pytest.mark.ray
def test_exports_are_the_same_document(libraries: list[Path], local_run: Store, ray_run) -> None:  # noqa: ANN001
    store, _, _ = ray_run
    for root in libraries:
        local, distributed = build_export(local_run, root), build_export(store, root)
        for document in (local, distributed):
            document["library"].pop("exported_at")
        assert distributed == local


@pytest.mark.ray
def test_runs_are_recorded_like_local_runs(local_run: Store, ray_run) -> None:  # noqa: ANN001
    store, _, results = ray_run
    query = "SELECT library_id, status, stages, n_files, n_new, n_skipped, n_warnings FROM runs ORDER BY run_id"
    with local_run.connect(read_only=True) as a, store.connect(read_only=True) as b:
        assert b.execute(query).fetchall() == a.execute(query).fetchall()
    assert [r.library_id for r in results] == [1, 2] and all(r.rows["photos"] for r in results)


@pytest.mark.ray
def test_parquet_is_partitioned_by_library_and_reads_like_the_store(ray_run) -> None:  # noqa: ANN001
    store, out, _ = ray_run
    assert (out / "_manifest.json").is_file()
    assert (out / "photos" / "library=paris" / "part-0.parquet").is_file()
    assert (out / "albums" / "library=home" / "part-0.parquet").is_file()
    con = duckdb.connect()
    from_parquet = con.execute(
        f"SELECT library, album_id, cover_photo_id FROM read_parquet('{out}/albums/*/*.parquet', "
        "hive_partitioning = true) ORDER BY album_id"
    ).fetchall()
    with store.connect(read_only=True) as db:
        from_store = db.execute(
            "SELECT l.name, a.album_id, a.cover_photo_id FROM albums a JOIN libraries l USING (library_id) "
            "ORDER BY album_id"
        ).fetchall()
    assert from_parquet == from_store


@pytest.mark.ray
def test_import_again_is_idempotent_and_checks_the_store(ray_run, tmp_path: Path) -> None:  # noqa: ANN001
    store, out, _ = ray_run
    before = _albums(store), _photos(store)
    import_parquet(store, out)
    assert (_albums(store), _photos(store)) == before
    with pytest.raises(ParquetImportError, match="was planned against the store"):
        import_parquet(Store(tmp_path / "other.duckdb"), out)

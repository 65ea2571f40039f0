"""The large generated library used by the scale benchmarks: real pixels, planned metadata."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from curation.demo.large import build_large_library, plan_shots
from curation.ingest.pipeline import ingest_library
from curation.settings import Settings
from curation.store import Store


def test_plan_is_reproducible_and_shaped_like_a_camera_roll() -> None:
    shots = plan_shots(3000, seed=3)
    assert len(shots) == 3000
    assert [s.rel_path for s in shots] == [s.rel_path for s in plan_shots(3000, seed=3)]
    assert shots != plan_shots(3000, seed=4)
    times = [s.taken_at for s in shots]
    assert times == sorted(times)  # one camera roll, in order
    assert times[0] >= datetime(2016, 1, 1)
    events = Counter(s.event for s in shots)
    assert 20 < len(events) < 300 and max(events.values()) <= 220
    clutter = Counter(s.clutter for s in shots)
    assert 0.02 < (clutter["screenshot"] + clutter["receipt"]) / len(shots) < 0.07
    assert {s.city for s in shots} - {"Lisbon"}  # trips abroad
    assert 0.08 < sum(s.portrait for s in shots) / len(shots) < 0.25


def test_build_writes_real_photos_with_metadata_and_is_reused(tmp_path: Path) -> None:
    root = tmp_path / "large"
    built = build_large_library(root, photos=40, megapixels=0.3, seed=1)
    files = sorted(p for p in root.rglob("*") if p.suffix in {".JPG", ".PNG"})
    assert len(files) == built.photos == 40
    assert built.bytes == sum(p.stat().st_size for p in files)
    first = files[0].stat().st_mtime_ns
    assert build_large_library(root, photos=40, megapixels=0.3, seed=1) == built  # reused, not rewritten
    assert files[0].stat().st_mtime_ns == first
    with pytest.raises(ValueError, match="megapixels"):
        build_large_library(tmp_path / "x", photos=5, megapixels=500)

    settings = Settings(data_dir=tmp_path / "data")
    report = ingest_library(root, Store(settings.database), settings)
    assert report.n_new == 40 and report.n_skipped == 0
    plan = {s.rel_path: s for s in plan_shots(40, seed=1)}
    with Store(settings.database).connect(read_only=True) as con:
        rows = con.execute(
            "SELECT rel_path, taken_at, time_source, lat, lon, width, height FROM photos ORDER BY rel_path"
        ).fetchall()
    photos = [r for r in rows if r[0].endswith(".JPG")]
    assert photos
    for rel_path, taken_at, source, lat, lon, width, height in photos:
        shot = plan[rel_path]
        assert source == "exif"
        assert abs((taken_at - shot.taken_at).total_seconds()) < 1
        assert lat == pytest.approx(shot.lat, abs=1e-4) and lon == pytest.approx(shot.lon, abs=1e-4)
        if shot.clutter is None:  # the upright size: portraits are taller than wide
            assert (height > width) == shot.portrait
            assert width * height == pytest.approx(0.3e6, rel=0.1)
    with Image.open(files[0]) as im:
        assert im.format in {"JPEG", "PNG"}


def test_cli_builds_the_large_library_and_the_bench_command_checks_its_names(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from curation.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["demo-library", str(tmp_path / "lg"), "--photos", "3", "--megapixels", "0.2"])
    assert result.exit_code == 0, result.output
    assert "3-photo library" in result.output
    assert len([p for p in (tmp_path / "lg").rglob("*") if p.suffix in {".JPG", ".PNG"}]) == 3
    result = runner.invoke(app, ["demo-library", str(tmp_path / "bad"), "--photos", "0"])
    assert result.exit_code != 0 and "at least 1" in result.output
    result = runner.invoke(app, ["bench", "--only", "nope"])
    assert result.exit_code == 2


def test_suite_table_puts_each_number_next_to_its_baseline() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    try:
        import suite
    finally:
        sys.path.pop(0)
    ingest = suite.BENCHES[0]
    rows = [
        {"metric": "ingest", "value": 30.0, "unit": "photos/s", "baseline": "naive", "baseline_value": 10.0,
         "higher_is_better": True, "target": ">= 40"},
        {"metric": "map", "value": 20.0, "unit": "s", "baseline": "raw", "baseline_value": 80.0,
         "higher_is_better": False, "target": None},
    ]  # fmt: skip
    lines = suite.table([suite.Outcome(ingest, rows, 12.0, 512.0, 0, ""), suite.Outcome(ingest, [], 1.0, 1.0, 3, "boom")])
    assert "3.00x" in lines[2] and "512 MiB" in lines[2]
    assert "4.00x" in lines[3]  # lower is better: 80 s / 20 s
    assert "FAILED (exit 3): boom" in lines[4]

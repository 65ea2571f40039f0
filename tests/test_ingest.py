"""Ingest on generated libraries: every bad-input case, incremental re-runs, the busy lock.

All files here are generated in tmp_path; nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest
from PIL import Image

from curation.export import write_export
from curation.ingest.decode import decode_oriented, open_image, thumbnail_path
from curation.ingest.pipeline import ingest_library
from curation.settings import Settings
from curation.store import Store, StoreBusyError

NOW = datetime(2026, 11, 25, 12, 0, 0)


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A smooth random picture (compresses like a photo, distinct per seed)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def exif_for(date: str | None = None, gps: tuple[float, float] | None = None, orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif[0x0112] = orientation
    if date:
        exif.get_ifd(0x8769)[0x9003] = date
    if gps:
        lat, lon = gps
        g = exif.get_ifd(0x8825)
        g[1] = "N" if lat >= 0 else "S"
        g[2] = _dms(abs(lat))
        g[3] = "E" if lon >= 0 else "W"
        g[4] = _dms(abs(lon))
    return exif


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 4)
    return (float(d), float(m), s)


def huge_png_header(path: Path, width: int, height: int) -> None:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    (root / "2019" / "trip").mkdir(parents=True)
    photo(1).save(root / "2019" / "trip" / "a.jpg", exif=exif_for("2019:07:01 10:00:00", (38.7223, -9.1393)))
    photo(2).save(root / "2019" / "trip" / "b.jpg", exif=exif_for("2019:07:01 11:30:00", (-33.9249, 18.4241)))
    # Stored landscape, shown portrait (orientation 6 = rotate 90 CW to display).
    photo(3, (400, 200)).save(root / "2019" / "rotated.jpg", exif=exif_for("2019:07:02 09:00:00", orientation=6))
    photo(4).save(root / "IMG_20180725_163423.jpg")  # date only in the file name
    photo(5).save(root / "old.jpg", exif=exif_for("1970:01:01 00:00:00"))  # absurd date
    photo(6).save(root / "future.jpg", exif=exif_for("2099:01:01 00:00:00"))  # absurd date
    photo(7).save(root / "zero-gps.jpg", exif=exif_for("2019:07:03 10:00:00", (0.0, 0.0)))
    photo(8).save(root / "shot.png")
    photo(9).save(root / "shot.webp")
    photo(10).save(root / "scan.tiff")
    (root / "2019" / "trip" / "a-copy.jpg").write_bytes((root / "2019" / "trip" / "a.jpg").read_bytes())
    # Bad input.
    (root / "empty.jpg").write_bytes(b"")
    good = (root / "2019" / "trip" / "b.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "notes.jpg").write_text("shopping list: milk, eggs\n")
    (root / "garbage.png").write_bytes(os.urandom(2048))
    huge_png_header(root / "bomb.png", 100_000, 100_000)
    os.symlink(root, root / "2019" / "loop")  # symlink loop back to the root
    os.symlink(root / "missing.jpg", root / "dangling.jpg")
    (root / "readme.txt").write_text("not a photo, ignored")
    return root


def run_ingest(root: Path, settings: Settings, **kw):
    return ingest_library(root, Store(settings.database), settings, now=NOW, **kw)


def rows(settings: Settings, sql: str, *params) -> list[tuple]:
    with Store(settings.database).connect(read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_ingest_generated_library(library: Path, settings: Settings) -> None:
    report = run_ingest(library, settings)
    photos = {
        r[0]: r[1:]
        for r in rows(
            settings,
            "SELECT rel_path, status, width, height, taken_at, time_source, lat, lon, camera_make, format "
            "FROM photos",
        )
    }
    ok = {p for p, r in photos.items() if r[0] == "ok"}
    assert ok == {
        "2019/trip/a.jpg", "2019/trip/a-copy.jpg", "2019/trip/b.jpg", "2019/rotated.jpg",
        "IMG_20180725_163423.jpg", "old.jpg", "future.jpg", "zero-gps.jpg",
        "shot.png", "shot.webp", "scan.tiff",
    }  # fmt: skip
    a = photos["2019/trip/a.jpg"]
    assert a[3] == datetime(2019, 7, 1, 10, 0, 0) and a[4] == "exif"
    assert a[5] == pytest.approx(38.7223, abs=1e-3) and a[6] == pytest.approx(-9.1393, abs=1e-3)
    assert a[7] == "Canon" and a[8] == "JPEG"
    b = photos["2019/trip/b.jpg"]
    assert b[5] == pytest.approx(-33.9249, abs=1e-3) and b[6] == pytest.approx(18.4241, abs=1e-3)
    assert photos["2019/rotated.jpg"][1:3] == (200, 400)  # portrait after orientation
    assert photos["IMG_20180725_163423.jpg"][3:5] == (datetime(2018, 7, 25, 16, 34, 23), "filename")
    for absurd in ("old.jpg", "future.jpg"):
        assert photos[absurd][4] == "mtime"  # EXIF date refused, fell through to the file time
    assert photos["zero-gps.jpg"][5] is None and photos["zero-gps.jpg"][6] is None
    assert {photos[p][8] for p in ("shot.png", "shot.webp", "scan.tiff")} == {"PNG", "WEBP", "TIFF"}

    issues = {(r[0], r[1]): (r[2], r[3]) for r in rows(settings, "SELECT rel_path, code, severity, reason FROM ingest_issues")}
    skipped = {p for (p, _), (sev, _) in issues.items() if sev == "skipped"}
    assert skipped == {"empty.jpg", "truncated.jpg", "notes.jpg", "garbage.png", "bomb.png", "dangling.jpg", "2019/loop"}
    assert issues[("empty.jpg", "empty")][1] == "The file is empty (0 bytes)."
    assert ("truncated.jpg", "truncated") in issues
    assert ("notes.jpg", "not_image") in issues and "text" in issues[("notes.jpg", "not_image")][1]
    assert ("bomb.png", "bomb") in issues and "10000 megapixels" in issues[("bomb.png", "bomb")][1]
    assert ("2019/loop", "symlink_loop") in issues
    assert ("dangling.jpg", "broken_link") in issues
    assert ("old.jpg", "absurd_date") in issues and ("future.jpg", "absurd_date") in issues
    assert ("2019/trip/a.jpg", "exact_duplicate") in issues or ("2019/trip/a-copy.jpg", "exact_duplicate") in issues
    # Skipped files are still rows (status skipped): nothing is lost.
    assert {p for p, r in photos.items() if r[0] == "skipped"} == skipped - {"dangling.jpg", "2019/loop"}
    assert report.n_skipped == len(skipped)
    assert report.n_files == 16  # 11 photos + 5 bad files; readme.txt ignored, dangling link and loop are issues

    # Thumbnails: two sizes, cached by content hash, upright.
    sha = rows(settings, "SELECT sha256 FROM photos WHERE rel_path = '2019/rotated.jpg'")[0][0]
    small, large = (thumbnail_path(settings.cache, sha, s) for s in settings.ingest.thumb_sizes)
    with Image.open(small) as im:
        assert im.size[0] < im.size[1] and max(im.size) == 256
    with Image.open(large) as im:
        assert im.size == (200, 400)  # never upscaled


def test_rerun_is_incremental_and_marks_removed(library: Path, settings: Settings) -> None:
    first = run_ingest(library, settings)
    second = run_ingest(library, settings)
    assert second.n_new == second.n_changed == 0
    assert second.n_unchanged == first.n_files  # nothing reopened
    # Change one file, remove one, add one.
    photo(42).save(library / "2019" / "trip" / "b.jpg", exif=exif_for("2019:07:01 12:00:00"))
    os.utime(library / "2019" / "trip" / "b.jpg", ns=(1, 10**18))
    (library / "shot.webp").unlink()
    photo(43).save(library / "new.jpg", exif=exif_for("2020:01:01 00:00:00"))
    third = run_ingest(library, settings)
    assert (third.n_new, third.n_changed, third.n_removed) == (1, 1, 1)
    status = dict(rows(settings, "SELECT rel_path, status FROM photos"))
    assert status["shot.webp"] == "removed" and status["new.jpg"] == "ok"
    assert rows(settings, "SELECT taken_at FROM photos WHERE rel_path = '2019/trip/b.jpg'")[0][0] == datetime(2019, 7, 1, 12)
    # Runs are recorded.
    assert [r[0] for r in rows(settings, "SELECT status FROM runs ORDER BY run_id")] == ["done"] * 3


def test_busy_database_gives_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    duckdb.connect(str(db)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(StoreBusyError, match="is busy.*one writing process"):
            with Store(db, busy_timeout_s=0.3).connect():
                pass
    finally:
        holder.kill()
        holder.wait()
    with Store(db).connect() as con:  # usable again, schema intact
        assert con.execute("SELECT count(*) FROM photos").fetchone() == (0,)


def test_draft_decoding_reduces_work(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    photo(1, (4000, 3000)).save(path, quality=90)
    with open_image(path, max_pixels=50_000_000) as image:
        rgb = decode_oriented(image, 1, 1024)
    assert rgb.size == (2000, 1500)  # libjpeg scaled by 1/2 while decoding, not a full decode


def test_cmyk_jpeg_decodes_small_upright_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    photo(2, (1600, 1200)).convert("CMYK").save(path, quality=90)
    with open_image(path, max_pixels=50_000_000) as image:
        assert image.mode == "CMYK"
        rgb = decode_oriented(image, 6, 400)  # stored sideways
    assert rgb.mode == "RGB"
    assert rgb.size == (300, 400)  # draft 1/4 of 1600x1200, then turned upright


def test_export_document(library: Path, settings: Settings, tmp_path: Path) -> None:
    run_ingest(library, settings)
    out = tmp_path / "export.json"
    write_export(Store(settings.database), out)
    doc = json.loads(out.read_text())
    assert set(doc) >= {"photos", "issues", "events", "people", "albums"}
    by_path = {p["path"]: p for p in doc["photos"]}
    a = by_path["2019/trip/a.jpg"]
    assert a["taken_at"] == "2019-07-01T10:00:00" and a["time_source"] == "exif"
    assert len(a["sha256"]) == 64 and (a["width"], a["height"]) == (640, 480)
    assert set(a) >= {"themes", "clutter", "faces", "event_id", "lat", "lon"}
    assert {i["path"] for i in doc["issues"]} >= {"empty.jpg", "bomb.png"}
    assert all(i["reason"] for i in doc["issues"])


def test_perceptual_hash_matches_imagehash() -> None:
    """Our numpy pHash gives imagehash's bits, on real photos and on noise."""
    import imagehash
    from skimage import data

    from curation.ingest.hashing import perceptual_hash

    images = [Image.fromarray(getattr(data, name)()) for name in ("astronaut", "chelsea", "coffee", "camera")]
    images += [photo(seed, (320 + seed, 240)) for seed in range(12)]
    for image in images:
        assert perceptual_hash(image) == str(imagehash.phash(image, hash_size=8))
    assert len({perceptual_hash(i) for i in images}) == len(images)

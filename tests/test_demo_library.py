"""The built-in demo library: deterministic, small, and its ground truth matches its files."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageOps, UnidentifiedImageError

from curation.demo import (
    BadKind,
    DemoLibraryError,
    DemoManifest,
    FileKind,
    build_demo_library,
    load_manifest,
)
from curation.demo.library import CITIES, HOME_CITIES, distance_km, store_oriented, utc_offset_min
from curation.records import TimeSource

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAX_BYTES = 15_000_000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    out = tmp_path_factory.mktemp("demo") / "library"
    return out, build_demo_library(out, seed=0)


def _files_on_disk(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _exif(path: Path) -> Image.Exif:
    with Image.open(path) as im:
        return im.getexif()


def _dms(values: tuple, ref: str) -> float:
    d, m, s = (float(v) for v in values)
    return (d + m / 60 + s / 3600) * (-1 if ref in ("S", "W") else 1)


# --------------------------------------------------------------------------- determinism, size


def test_same_seed_gives_the_same_bytes_and_overwrite_replaces_an_old_library(
    built: tuple[Path, DemoManifest], tmp_path: Path
) -> None:
    root, manifest = built
    again = tmp_path / "again"
    again.mkdir()
    (again / "manifest.json").write_text("{}")  # an earlier demo library lives here
    (again / "stale.jpg").write_bytes(b"old")

    rebuilt = build_demo_library(again, seed=0, overwrite=True)

    assert rebuilt == manifest
    assert _files_on_disk(again) == _files_on_disk(root)
    first = manifest.photos[0]
    assert (again / first.rel_path).stat().st_mtime_ns == (root / first.rel_path).stat().st_mtime_ns


def test_another_seed_and_home_change_pixels_not_structure(
    built: tuple[Path, DemoManifest], tmp_path: Path
) -> None:
    _, lisbon = built
    paris = build_demo_library(tmp_path / "paris", seed=1, home="Paris")

    assert {f.sha256 for f in paris.photos}.isdisjoint({f.sha256 for f in lisbon.photos})
    # The Paris trip would be at home: it is swapped for Rome.
    assert [t.trip_id for t in paris.trips] == ["trip-porto", "trip-andalusia", "trip-rome"]
    for photo in paris.photos:
        if photo.trip_id and photo.lat is not None:
            assert distance_km(photo.lat, photo.lon, paris.home_lat, paris.home_lon) > 150
    assert len(paris.clutter) == 5 and len(paris.bad_files) == 3
    assert paris.total_bytes < MAX_BYTES


def test_library_is_small(built: tuple[Path, DemoManifest]) -> None:
    root, manifest = built
    on_disk = _files_on_disk(root)
    assert sum(len(b) for b in on_disk.values()) < MAX_BYTES
    assert manifest.total_bytes == sum(len(b) for name, b in on_disk.items() if name != "manifest.json")
    assert sorted(f.rel_path for f in manifest.files) == sorted(n for n in on_disk if n != "manifest.json")


def test_manifest_json_round_trips(built: tuple[Path, DemoManifest]) -> None:
    root, manifest = built
    assert load_manifest(root) == manifest
    assert load_manifest(root / "manifest.json") == manifest


# --------------------------------------------------------------------------- contents


def test_expected_counts(built: tuple[Path, DemoManifest]) -> None:
    _, m = built
    kinds = Counter(f.kind for f in m.files)
    assert kinds == {FileKind.PHOTO: 83, FileKind.SCREENSHOT: 3, FileKind.RECEIPT: 2, FileKind.BAD: 3}
    assert len(m.events) == 20
    assert [(t.trip_id, len(t.event_ids)) for t in m.trips] == [
        ("trip-porto", 3), ("trip-paris", 5), ("trip-andalusia", 5)
    ]
    per_trip = Counter(f.trip_id for f in m.photos)
    assert per_trip == {None: 34, "trip-porto": 11, "trip-paris": 19, "trip-andalusia": 19}
    assert Counter(f.orientation for f in m.photos) == {1: 75, 6: 7, 8: 1}
    assert Counter(f.time_source for f in m.photos) == {
        TimeSource.EXIF: 80, TimeSource.FILENAME: 2, TimeSource.XMP: 1
    }
    assert {f.bad for f in m.bad_files} == set(BadKind)
    assert sorted(Counter(f.burst_id for f in m.photos if f.burst_id).values()) == [3, 4]
    assert sum(f.duplicate_of is not None for f in m.files) == 1
    assert {f.source for f in m.photos} == {s.name for s in m.sources}
    no_gps = [f for f in m.photos if f.lat is None]
    assert 15 < len(no_gps) < len(m.photos) - 30  # indoors and the travel camera, not everything


def test_exif_reads_back(built: tuple[Path, DemoManifest]) -> None:
    root, m = built
    checked_gps = 0
    for f in m.photos:
        exif = _exif(root / f.rel_path)
        if f.camera_make is None:
            assert len(exif) == 0, f.rel_path
            continue
        assert (exif[0x010F], exif[0x0110]) == (f.camera_make, f.camera_model)
        assert exif[0x0112] == f.orientation
        ifd = exif.get_ifd(EXIF_IFD)
        if f.time_source is TimeSource.EXIF:
            assert ifd[0x9003] == f.taken_at.strftime("%Y:%m:%d %H:%M:%S")
            assert int(ifd[0x9291]) * 1000 == f.taken_at.microsecond
            if f.offset_written:
                sign = "+" if f.tz_offset_min >= 0 else "-"
                assert ifd[0x9011] == f"{sign}{abs(f.tz_offset_min) // 60:02d}:{abs(f.tz_offset_min) % 60:02d}"
            else:
                assert 0x9011 not in ifd
        else:
            assert 0x9003 not in ifd
        gps = exif.get_ifd(GPS_IFD)
        if f.lat is None:
            assert not gps, f.rel_path
            continue
        checked_gps += 1
        assert gps[1] in ("N", "S") and gps[3] in ("E", "W")
        assert _dms(gps[2], gps[1]) == pytest.approx(f.lat, abs=1e-6)
        assert _dms(gps[4], gps[3]) == pytest.approx(f.lon, abs=1e-6)
        assert float(gps[6]) == pytest.approx(f.alt, abs=0.05)
    assert checked_gps > 40
    # Lisbon and Porto are west of Greenwich, Paris east: both refs are exercised.
    assert {f.lon < 0 for f in m.photos if f.lon is not None} == {True, False}


def test_orientation_is_stored_sideways(built: tuple[Path, DemoManifest]) -> None:
    root, m = built
    rotated = [f for f in m.photos if f.orientation != 1]
    assert rotated
    for f in rotated:
        with Image.open(root / f.rel_path) as im:
            assert im.size == (f.height, f.width)  # pixels on their side...
            assert ImageOps.exif_transpose(im).size == (f.width, f.height)  # ...upright once turned
            assert f.height > f.width


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_store_oriented_round_trips_through_exif_transpose(orientation: int) -> None:
    upright = Image.new("RGB", (40, 30), "white")
    upright.paste((255, 0, 0), (0, 0, 10, 10))  # a red top-left corner
    stored = store_oriented(upright, orientation)
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.info["exif"] = exif.tobytes()
    back = ImageOps.exif_transpose(stored)
    assert back.size == (40, 30)
    assert back.getpixel((2, 2)) == (255, 0, 0)
    assert back.getpixel((37, 27)) == (255, 255, 255)


def test_dates_outside_exif(built: tuple[Path, DemoManifest]) -> None:
    root, m = built
    xmp_only = [f for f in m.photos if f.time_source is TimeSource.XMP]
    assert len(xmp_only) == 1
    with Image.open(root / xmp_only[0].rel_path) as im:
        assert len(im.getexif()) == 0
        xmp = im.info["xmp"].decode("utf-8")
    assert f'xmp:CreateDate="{xmp_only[0].taken_at.isoformat(timespec="milliseconds")}' in xmp

    by_name = [f for f in m.photos if f.time_source is TimeSource.FILENAME]
    assert {f.camera_make is None for f in by_name} == {True, False}  # one bare, one with EXIF
    for f in by_name:
        assert Path(f.rel_path).name == f.taken_at.strftime("IMG_%Y%m%d_%H%M%S.jpg")
        assert 0x9003 not in _exif(root / f.rel_path).get_ifd(EXIF_IFD)
        assert f.lat is None


def test_clutter(built: tuple[Path, DemoManifest]) -> None:
    root, m = built
    for f in m.clutter:
        assert f.event_id is None and f.burst_id is None
        with Image.open(root / f.rel_path) as im:
            if f.kind is FileKind.SCREENSHOT:
                assert (im.format, im.size) == ("PNG", (1170, 2532))
                assert 0x010F not in im.getexif()
            else:
                assert im.format == "JPEG" and im.size == (f.width, f.height)
                assert im.getexif()[0x010F] == f.camera_make
    undated = [f for f in m.clutter if f.time_source is TimeSource.NONE]
    assert [f.kind for f in undated] == [FileKind.SCREENSHOT]


def test_bad_files_are_bad_in_the_right_way(built: tuple[Path, DemoManifest]) -> None:
    root, m = built
    bad = {f.bad: root / f.rel_path for f in m.bad_files}
    assert bad[BadKind.EMPTY].stat().st_size == 0
    with Image.open(bad[BadKind.TRUNCATED]) as im:  # the header is fine...
        assert im.format == "JPEG"
        with pytest.raises(OSError, match="truncated"):
            im.load()  # ...the pixels end early
    assert bad[BadKind.NOT_AN_IMAGE].suffix == ".PNG"
    with pytest.raises(UnidentifiedImageError):
        Image.open(bad[BadKind.NOT_AN_IMAGE])


def test_exact_duplicate_and_bursts(built: tuple[Path, DemoManifest]) -> None:
    root, m = built
    (dup,) = [f for f in m.files if f.duplicate_of]
    original = m.file(dup.duplicate_of)
    assert (root / dup.rel_path).read_bytes() == (root / original.rel_path).read_bytes()
    assert (dup.event_id, dup.taken_at) == (original.event_id, original.taken_at)

    bursts: dict[str, list] = {}
    for f in m.photos:
        if f.burst_id:
            bursts.setdefault(f.burst_id, []).append(f)
    for frames in bursts.values():
        assert len({(f.source, f.event_id, f.camera_model, f.orientation) for f in frames}) == 1
        times = sorted(f.taken_at for f in frames)
        assert (times[-1] - times[0]).total_seconds() < 4
        assert len({f.sha256 for f in frames}) == len(frames)  # near, not exact, duplicates


# --------------------------------------------------------------------------- ground truth


def test_events_are_contiguous_bursts_of_hours(built: tuple[Path, DemoManifest]) -> None:
    _, m = built
    photos = sorted(m.photos, key=lambda f: (f.taken_at_utc, f.rel_path))
    runs = [photos[0].event_id]
    for f in photos[1:]:
        if f.event_id != runs[-1]:
            runs.append(f.event_id)
    assert runs == [e.event_id for e in m.events]  # each event once, in time order
    for event in m.events:
        members = [f for f in photos if f.event_id == event.event_id]
        assert min(f.taken_at for f in members) == event.start
        assert max(f.taken_at for f in members) == event.end
        assert (event.end - event.start).total_seconds() < 6 * 3600
        assert {f.tz_offset_min for f in members} == {event.tz_offset_min}
        assert {f.trip_id for f in members} == {event.trip_id}


def test_trips_are_far_from_home_and_home_is_near(built: tuple[Path, DemoManifest]) -> None:
    _, m = built
    for f in [*m.photos, *m.clutter]:
        if f.lat is None:
            continue
        km = distance_km(f.lat, f.lon, m.home_lat, m.home_lon)
        if f.trip_id:
            assert km > 150, f.rel_path
        else:
            assert km < 50, f.rel_path
    for trip in m.trips:
        days = {f.taken_at.date() for f in m.files if f.trip_id == trip.trip_id}
        assert min(days) >= trip.start and max(days) <= trip.end
        assert set(trip.event_ids) == {e.event_id for e in m.events if e.trip_id == trip.trip_id}


def test_timeline_spans_about_three_years(built: tuple[Path, DemoManifest]) -> None:
    _, m = built
    days = (m.events[-1].start - m.events[0].start).days
    assert 2.5 * 365 < days < 3.2 * 365


def test_summer_time_follows_the_eu_rule() -> None:
    lisbon, paris = CITIES["Lisbon"], CITIES["Paris"]
    assert utc_offset_min(lisbon, datetime(2023, 12, 24, 20)) == 0
    assert utc_offset_min(lisbon, datetime(2022, 8, 13, 12)) == 60
    assert utc_offset_min(paris, datetime(2023, 4, 16, 10)) == 120
    assert utc_offset_min(paris, datetime(2024, 2, 10, 10)) == 60
    # 2023-03-26 is the switch: 00:59 local in Lisbon is still winter, 03:00 is summer.
    assert utc_offset_min(lisbon, datetime(2023, 3, 26, 0, 59)) == 0
    assert utc_offset_min(lisbon, datetime(2023, 3, 26, 3, 0)) == 60


def test_cc_by_photos_carry_their_credit(built: tuple[Path, DemoManifest]) -> None:
    root, m = built
    credits = {s.name: s.credit for s in m.sources if s.needs_attribution}
    assert credits  # the scikit-learn photos are CC BY 2.0
    for f in m.photos:
        if f.source in credits and f.camera_make is not None:
            assert _exif(root / f.rel_path)[0x8298] == credits[f.source]


# --------------------------------------------------------------------------- validation


def test_unknown_home_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(DemoLibraryError, match="Lisbon") as err:
        build_demo_library(tmp_path / "x", home="Atlantis")
    assert all(city in str(err.value) for city in HOME_CITIES)


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_seed(tmp_path: Path, seed: object) -> None:
    with pytest.raises(DemoLibraryError, match="seed"):
        build_demo_library(tmp_path / "x", seed=seed)  # type: ignore[arg-type]


def test_refuses_a_folder_that_is_not_a_demo_library(tmp_path: Path) -> None:
    (tmp_path / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(DemoLibraryError, match="not a demo library"):
        build_demo_library(tmp_path, overwrite=True)
    assert (tmp_path / "holiday.jpg").read_bytes() == b"precious"


def test_refuses_to_overwrite_a_demo_library_unless_asked(built: tuple[Path, DemoManifest]) -> None:
    root, _ = built
    with pytest.raises(DemoLibraryError, match="overwrite=True"):
        build_demo_library(root)


def test_importing_does_no_work() -> None:
    code = "import sys, curation.demo; assert not {'skimage', 'sklearn'} & set(sys.modules), sys.modules.keys()"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)

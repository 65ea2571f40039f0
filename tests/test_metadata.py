"""read_metadata: capture time, camera, GPS and orientation from EXIF, XMP, names, mtime.

Two tiers. The first builds its files here (Pillow writes the EXIF, XMP and PNG
chunks; a few raw EXIF blocks are assembled by hand to be broken on purpose). The
second reads the shared real samples; every expected value there was checked by
hand with exiftool 12.57 (``exiftool -G1 -a -s -n FILE``), differences noted inline.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin, TiffImagePlugin

from curation.ingest.metadata import read_metadata
from curation.records import PhotoMetadata, TimeSource

# Tests that need a fixed "now" pass one; the rest use the real clock, because the
# files they write get today's mtime.
NOW = datetime(2025, 6, 1, 12, 0, 0)
# Pillow's Image.open() of a JPEG already parses its EXIF (for the DPI) and warns about
# the tags it skips; the broken files here are broken on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL, ORIENTATION, DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
DTO, DTD, OFFSET, OFFSET_ORIGINAL, SUBSEC_ORIGINAL = 0x9003, 0x9004, 0x9010, 0x9011, 0x9291


def rational(value: float | str) -> TiffImagePlugin.IFDRational:
    fraction = Fraction(value).limit_denominator(1_000_000)
    return TiffImagePlugin.IFDRational(fraction.numerator, fraction.denominator)


def make_exif(ifd0: dict | None = None, exif_ifd: dict | None = None, gps: dict | None = None) -> Image.Exif:
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    # Pillow writes the Exif and GPS sub-IFDs itself when they are filled via get_ifd().
    if exif_ifd:
        exif.get_ifd(EXIF_IFD).update(exif_ifd)
    if gps:
        exif.get_ifd(GPS_IFD).update(gps)
    return exif


def write_jpeg(path: Path, exif: Image.Exif | bytes | None = None, xmp: bytes | None = None) -> Path:
    kwargs: dict = {}
    if exif is not None:
        kwargs["exif"] = exif
    if xmp is not None:
        kwargs["xmp"] = xmp
    Image.new("RGB", (16, 12), "teal").save(path, "JPEG", **kwargs)
    return path


def gps_block(
    lat: tuple, lat_ref: str, lon: tuple, lon_ref: str, alt: float | str | None = None, alt_ref: int = 0
) -> dict:
    """A GPS IFD: (degrees, minutes, seconds) as rationals, refs, altitude with its ref byte."""
    block = {1: lat_ref, 2: tuple(rational(v) for v in lat), 3: lon_ref, 4: tuple(rational(v) for v in lon)}
    if alt is not None:
        block.update({5: bytes([alt_ref]), 6: rational(alt)})
    return block


def read(path: Path, **kwargs) -> PhotoMetadata:
    """read_metadata the way the ingest pipeline calls it: with the lazily opened image."""
    with Image.open(path) as image:
        meta = read_metadata(path, image, **kwargs)
        assert image.tile, "read_metadata must not decode pixels"
    return meta


def codes(meta: PhotoMetadata) -> list[str]:
    return [code for code, _ in meta.warnings]


def xmp_packet(body: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{body}</rdf:RDF></x:xmpmeta>" + " " * 64 + '<?xpacket end="w"?>'
    ).encode()


XMP_DESC = (
    '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    ' xmlns:tiff="http://ns.adobe.com/tiff/1.0/" {attrs}>{elements}</rdf:Description>'
)


def xmp_desc(attrs: str = "", elements: str = "") -> bytes:
    return xmp_packet(XMP_DESC.format(attrs=attrs, elements=elements))


def raw_exif(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """b'Exif\\0\\0' + a little-endian TIFF with one IFD of (tag, type, count, value) entries.

    Values of up to 4 bytes sit in the entry; longer ones follow the IFD. Lets a test
    write what Pillow's writer refuses to: wrong types, bad offsets.
    """
    ifd_size = 2 + 12 * len(entries) + 4
    data_at = 8 + ifd_size
    ifd, data = struct.pack("<H", len(entries)), b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            ifd += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            ifd += struct.pack("<HHII", tag, kind, count, data_at + len(data))
            data += value
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + data


def jpeg_with_app1(path: Path, payload: bytes) -> Path:
    """A JPEG whose first segment is an APP1 carrying ``payload`` as is."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), "olive").save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    path.write_bytes(jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:])
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_late_chunks(path: Path, *chunks: bytes) -> Path:
    """A PNG with extra chunks between IDAT and IEND, where Pillow's header read stops."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), "navy").save(buffer, "PNG")
    png = buffer.getvalue()
    iend = png.rindex(b"IEND") - 4
    path.write_bytes(png[:iend] + b"".join(chunks) + png[iend:])
    return path


# --------------------------------------------------------------------------- EXIF time


def test_exif_datetime_original_with_subseconds_and_offset(tmp_path: Path) -> None:
    exif = make_exif(
        {MAKE: "Google", MODEL: "Pixel"},
        {
            DTO: "2018:07:25 16:34:23",
            SUBSEC_ORIGINAL: "935",
            OFFSET_ORIGINAL: "+02:00",
            DTD: "2018:07:25 16:34:24",
        },
    )
    meta = read(write_jpeg(tmp_path / "a.jpg", exif))

    assert meta.taken_at == datetime(2018, 7, 25, 16, 34, 23, 935000)
    assert meta.tz_offset_min == 120
    assert meta.time_source is TimeSource.EXIF
    assert meta.time_reliable
    assert (meta.camera_make, meta.camera_model) == ("Google", "Pixel")
    assert meta.warnings == []


def test_subsec_digits_are_a_decimal_fraction(tmp_path: Path) -> None:
    # "64" is .64 s (exiftool's SubSecDateTimeOriginal agrees), not 64 ms.
    exif = make_exif(exif_ifd={DTO: "2021:06:27 18:23:07", SUBSEC_ORIGINAL: "64"})
    assert read(write_jpeg(tmp_path / "a.jpg", exif)).taken_at == datetime(2021, 6, 27, 18, 23, 7, 640000)


def test_offset_time_is_used_when_offset_time_original_is_missing(tmp_path: Path) -> None:
    exif = make_exif(exif_ifd={DTO: "2019:03:01 08:00:00", OFFSET: "-05:30"})
    assert read(write_jpeg(tmp_path / "a.jpg", exif)).tz_offset_min == -330


def test_bad_offset_is_ignored_with_a_warning(tmp_path: Path) -> None:
    exif = make_exif(exif_ifd={DTO: "2019:03:01 08:00:00", OFFSET_ORIGINAL: "+25:00"})
    meta = read(write_jpeg(tmp_path / "a.jpg", exif))
    assert meta.taken_at == datetime(2019, 3, 1, 8, 0, 0)
    assert meta.tz_offset_min is None
    assert codes(meta) == ["bad_tz"]


def test_datetime_digitized_when_original_is_missing(tmp_path: Path) -> None:
    exif = make_exif({DATETIME: "2020:01:01 00:00:00"}, {DTD: "2003:09:10 20:59:18"})
    meta = read(write_jpeg(tmp_path / "a.jpg", exif))
    assert (meta.taken_at, meta.time_source) == (datetime(2003, 9, 10, 20, 59, 18), TimeSource.EXIF)
    assert meta.warnings == []


def test_ifd0_datetime_is_the_last_exif_resort_and_is_flagged(tmp_path: Path) -> None:
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif({DATETIME: "2014:04:17 14:34:05"})))
    assert (meta.taken_at, meta.time_source) == (datetime(2014, 4, 17, 14, 34, 5), TimeSource.EXIF)
    assert codes(meta) == ["exif_modify_time"]


def test_xmp_capture_date_beats_ifd0_datetime(tmp_path: Path) -> None:
    # An editor's export: DateTime is the export, XMP keeps when the photo was taken.
    exif = make_exif({DATETIME: "2008:05:09 14:03:06"})
    xmp = xmp_desc('photoshop:DateCreated="2003-08-30"')
    meta = read(write_jpeg(tmp_path / "a.jpg", exif, xmp))
    assert (meta.taken_at, meta.time_source) == (datetime(2003, 8, 30), TimeSource.XMP)


def test_zero_and_blank_dates_are_missing_without_a_warning(tmp_path: Path) -> None:
    exif = make_exif(exif_ifd={DTO: "0000:00:00 00:00:00", DTD: "    :  :     :  :  "})
    meta = read(write_jpeg(tmp_path / "IMG_20180725_163423.jpg", exif))
    assert (meta.taken_at, meta.time_source) == (datetime(2018, 7, 25, 16, 34, 23), TimeSource.FILENAME)
    assert meta.warnings == []


def test_garbage_date_is_reported_and_skipped(tmp_path: Path) -> None:
    exif = make_exif({DATETIME: "2001:02:03 04:05:06"}, {DTO: "yesterday", DTD: "2001:13:40 10:00:00"})
    meta = read(write_jpeg(tmp_path / "a.jpg", exif, xmp_desc('xmp:CreateDate="2001-02-03T04:05:06"')))
    assert codes(meta) == ["bad_date", "bad_date"]
    assert (meta.taken_at, meta.time_source) == (datetime(2001, 2, 3, 4, 5, 6), TimeSource.XMP)


@pytest.mark.parametrize(
    ("exif_date", "problem"),
    [("1970:01:01 00:00:00", "is before 1990"), ("2099:12:31 23:59:59", "is in the future")],
)
def test_absurd_exif_date_falls_through_to_the_file_name(tmp_path: Path, exif_date: str, problem: str) -> None:
    exif = make_exif(exif_ifd={DTO: exif_date, DTD: exif_date})
    meta = read(write_jpeg(tmp_path / "IMG_20180725_163423.jpg", exif))

    assert (meta.taken_at, meta.time_source) == (datetime(2018, 7, 25, 16, 34, 23), TimeSource.FILENAME)
    # The same bad value in two tags is reported once.
    assert codes(meta) == ["absurd_date"]
    assert problem in meta.warnings[0][1] and exif_date[:4] in meta.warnings[0][1]


def test_future_tolerance_is_one_day_and_min_year_is_configurable(tmp_path: Path) -> None:
    exif = make_exif(exif_ifd={DTO: "2025:06:02 11:00:00"})  # 23 h after NOW: clock skew, fine
    assert read(write_jpeg(tmp_path / "a.jpg", exif), now=NOW).time_source is TimeSource.EXIF
    exif = make_exif(exif_ifd={DTO: "2025:06:02 13:00:00"})  # 25 h after NOW
    meta = read(write_jpeg(tmp_path / "c.jpg", exif), now=NOW)
    assert meta.time_source is not TimeSource.EXIF
    assert "EXIF DateTimeOriginal 2025-06-02 13:00:00 is in the future" in meta.warnings[0][1]
    # An aware "now" is compared as local time (no TypeError), whatever the machine's zone.
    aware_now = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
    exif = make_exif(exif_ifd={DTO: "2025:06:03 13:00:00"})
    assert read(write_jpeg(tmp_path / "d.jpg", exif), now=aware_now).time_source is not TimeSource.EXIF
    old = write_jpeg(tmp_path / "b.jpg", make_exif(exif_ifd={DTO: "1985:05:05 10:00:00"}))
    assert read(old, min_year=1980).taken_at == datetime(1985, 5, 5, 10)
    assert read(old).time_source is not TimeSource.EXIF


# --------------------------------------------------------------------------- XMP


def test_xmp_only_jpeg_with_timezone(tmp_path: Path) -> None:
    xmp = xmp_desc('xmp:CreateDate="2019-05-04T07:03:15+02:00" xmp:ModifyDate="2019-05-04T07:04:52+02:00"')
    meta = read(write_jpeg(tmp_path / "a.jpg", xmp=xmp))
    assert (meta.taken_at, meta.tz_offset_min, meta.time_source) == (
        datetime(2019, 5, 4, 7, 3, 15),
        120,
        TimeSource.XMP,
    )


def test_xmp_priority_and_element_form(tmp_path: Path) -> None:
    # exif:DateTimeOriginal wins over xmp:CreateDate; element values, a Seq, and "Z".
    xmp = xmp_desc(
        'xmp:CreateDate="2010-01-01T00:00:00"',
        "<exif:DateTimeOriginal><rdf:Seq><rdf:li>2008-03-14T20:59:26.535Z</rdf:li></rdf:Seq>"
        "</exif:DateTimeOriginal>",
    )
    meta = read(write_jpeg(tmp_path / "a.jpg", xmp=xmp))
    assert (meta.taken_at, meta.tz_offset_min) == (datetime(2008, 3, 14, 20, 59, 26, 535000), 0)


def test_xmp_old_xap_prefix_is_the_same_namespace(tmp_path: Path) -> None:
    packet = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:xap="http://ns.adobe.com/xap/1.0/"'
        ' xap:CreateDate="2008-03-14T20:59:26"/>'
    )
    assert read(write_jpeg(tmp_path / "a.jpg", xmp=packet)).taken_at == datetime(2008, 3, 14, 20, 59, 26)


def test_png_with_xmp_itxt(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    packet = xmp_desc('photoshop:DateCreated="2018-07-25T16:34:22.173129472"')
    info.add_itxt("XML:com.adobe.xmp", packet.decode())
    path = tmp_path / "shot.png"
    Image.new("RGB", (16, 12)).save(path, "PNG", pnginfo=info)
    meta = read(path)
    assert (meta.taken_at, meta.time_source) == (datetime(2018, 7, 25, 16, 34, 22, 173129), TimeSource.XMP)


def test_png_exif_and_compressed_xmp_after_idat_are_found_without_decoding(tmp_path: Path) -> None:
    exif = make_exif({MAKE: "Canon", ORIENTATION: 8}, {DTO: "2003:12:14 12:01:44"})
    packet = xmp_desc('exif:GPSLatitude="51,30.5N" exif:GPSLongitude="0,7.5W"')
    # iTXt: keyword, NUL, compressed flag 1, method 0, empty language and translation.
    itxt = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(packet)
    late = (png_chunk(b"eXIf", exif.tobytes()), png_chunk(b"iTXt", itxt))
    meta = read(png_with_late_chunks(tmp_path / "late.png", *late))  # read() checks no pixel decode
    assert (meta.taken_at, meta.camera_make, meta.orientation) == (datetime(2003, 12, 14, 12, 1, 44), "Canon", 8)
    assert (meta.lat, meta.lon) == (pytest.approx(51.508333, abs=1e-6), pytest.approx(-0.125))


def test_exif_offset_borrowed_from_xmp_of_the_same_second(tmp_path: Path) -> None:
    # Lightroom writes the offset into XMP that pre-2.31 EXIF had no tag for.
    exif = make_exif(exif_ifd={DTO: "2010:12:12 12:41:35"})
    same = xmp_desc('exif:DateTimeOriginal="2010-12-12T12:41:35.00+01:00"')
    other = xmp_desc('exif:DateTimeOriginal="2010-12-12T12:41:36+01:00"')
    assert read(write_jpeg(tmp_path / "a.jpg", exif, same)).tz_offset_min == 60
    assert read(write_jpeg(tmp_path / "b.jpg", exif, other)).tz_offset_min is None


def test_malformed_xmp_is_read_leniently(tmp_path: Path) -> None:
    packet = xmp_desc('photoshop:DateCreated="2020-07-23T00:00+02:00"')
    broken = packet.replace(b"</rdf:RDF>", b"<oops></rdf:RDF>")  # an unclosed element
    meta = read(write_jpeg(tmp_path / "a.jpg", xmp=broken))
    assert (meta.taken_at, meta.tz_offset_min, meta.time_source) == (datetime(2020, 7, 23), 120, TimeSource.XMP)
    assert codes(meta)[0] == "bad_xmp"


def test_xmp_with_a_dtd_is_refused(tmp_path: Path) -> None:
    evil = b'<!DOCTYPE x [<!ENTITY e "2019-01-01">]>' + xmp_desc('xmp:CreateDate="&e;"')
    meta = read(write_jpeg(tmp_path / "a.jpg", xmp=evil))
    assert meta.time_source is TimeSource.MTIME
    assert codes(meta) == ["bad_xmp", "mtime_time"]


@pytest.mark.parametrize("sidecar_name", ["IMG_5910.xmp", "IMG_5910.XMP", "IMG_5910.jpg.xmp", "IMG_5910.jpg.XMP"])
def test_sidecar_xmp(tmp_path: Path, sidecar_name: str) -> None:
    photo = write_jpeg(tmp_path / "IMG_5910.jpg")
    (tmp_path / sidecar_name).write_bytes(
        xmp_desc("", "<photoshop:DateCreated>2015-06-11T10:29:26.69-07:00</photoshop:DateCreated>")
    )
    meta = read(photo)
    assert (meta.taken_at, meta.tz_offset_min, meta.time_source) == (
        datetime(2015, 6, 11, 10, 29, 26, 690000),
        -420,
        TimeSource.XMP,
    )


def test_embedded_exif_date_beats_the_sidecar(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "IMG_1.jpg", make_exif(exif_ifd={DTO: "2015:06:11 10:29:26"}))
    (tmp_path / "IMG_1.xmp").write_bytes(xmp_desc('xmp:CreateDate="2001-01-01T00:00:00"'))
    assert read(photo).taken_at == datetime(2015, 6, 11, 10, 29, 26)


# --------------------------------------------------------------------------- file name, mtime


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IMG_20180725_163423.jpg", datetime(2018, 7, 25, 16, 34, 23)),
        ("IMG_20180725_163423-tiny.jpg", datetime(2018, 7, 25, 16, 34, 23)),
        ("IMG-20180725-WA0001.jpg", datetime(2018, 7, 25)),
        ("20180725_163423.jpg", datetime(2018, 7, 25, 16, 34, 23)),
        ("PXL_20210101_123456789.jpg", datetime(2021, 1, 1, 12, 34, 56, 789000)),
        ("Screenshot 2019-05-21 at 10.45.52.png", datetime(2019, 5, 21, 10, 45, 52)),
        ("Bildschirmfoto 2019-05-21 um 10.45.52.png", datetime(2019, 5, 21, 10, 45, 52)),
        ("telegram_2020-01-30_09-57-18.jpg", datetime(2020, 1, 30, 9, 57, 18)),
        ("2019-05-21 10.45.52.jpg", datetime(2019, 5, 21, 10, 45, 52)),
        ("Screenshot_20190521-104552_Chrome.jpg", datetime(2019, 5, 21, 10, 45, 52)),
        ("WhatsApp Image 2020-01-30 at 09.57.18.jpeg", datetime(2020, 1, 30, 9, 57, 18)),
        ("photo_2020-01-30_25-61-00.jpg", datetime(2020, 1, 30)),  # impossible time: date only
    ],
)
def test_file_name_dates(tmp_path: Path, name: str, expected: datetime) -> None:
    meta = read(write_jpeg(tmp_path / name))
    assert (meta.taken_at, meta.time_source, meta.tz_offset_min) == (expected, TimeSource.FILENAME, None)


@pytest.mark.parametrize(
    "name",
    [
        "IMG_20181345_101010.jpg",  # month 13
        "32d08f4a5eb10332506ebedbb9bc7257.jpg",  # a hash
        "1548769823000.jpg",  # a Unix timestamp in ms
        "P1020345.JPG",
        "DSC_2019.jpg",
    ],
)
def test_names_that_are_not_dates(tmp_path: Path, name: str) -> None:
    assert read(write_jpeg(tmp_path / name)).time_source is TimeSource.MTIME


def test_mtime_fallback_is_local_time_and_flagged(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "noexif.jpg")
    stamp = datetime(2016, 8, 27, 10, 6, 19).timestamp()
    os.utime(path, (stamp, stamp))
    meta = read(path)
    assert (meta.taken_at, meta.time_source, meta.tz_offset_min) == (
        datetime(2016, 8, 27, 10, 6, 19),
        TimeSource.MTIME,
        None,
    )
    assert not meta.time_reliable
    assert codes(meta) == ["mtime_time"]


def test_absurd_mtime_leaves_no_time(tmp_path: Path) -> None:
    path = write_jpeg(tmp_path / "noexif.jpg")
    os.utime(path, (0, 0))
    meta = read(path)
    assert (meta.taken_at, meta.time_source) == (None, TimeSource.NONE)
    assert codes(meta) == ["absurd_date", "no_time"]


# --------------------------------------------------------------------------- GPS


def test_gps_south_west_and_below_sea_level(tmp_path: Path) -> None:
    gps = gps_block((33, 27, "12.48"), "S", (18, 25, "12.5"), "W", alt="2.809", alt_ref=1)
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif(gps=gps)))
    assert meta.lat == pytest.approx(-(33 + 27 / 60 + 12.48 / 3600), abs=1e-9)
    assert meta.lon == pytest.approx(-(18 + 25 / 60 + 12.5 / 3600), abs=1e-9)
    assert meta.alt == pytest.approx(-2.809)
    assert codes(meta) == ["mtime_time"]


def test_gps_north_east_above_sea_level(tmp_path: Path) -> None:
    gps = gps_block((50, 17, "58.57"), "N", (14, 49, "13.06"), "E", alt=252)
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif(gps=gps)))
    assert (meta.lat, meta.lon, meta.alt) == (
        pytest.approx(50.299603, abs=1e-6),
        pytest.approx(14.820294, abs=1e-6),
        252.0,
    )


def test_gps_zero_is_missing(tmp_path: Path) -> None:
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif(gps=gps_block((0, 0, 0), "N", (0, 0, 0), "E", alt=0))))
    assert (meta.lat, meta.lon, meta.alt) == (None, None, None)
    assert "gps_zero" in codes(meta)


def test_gps_out_of_range_is_missing(tmp_path: Path) -> None:
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif(gps=gps_block((95, 0, 0), "N", (10, 0, 0), "E"))))
    assert (meta.lat, meta.lon) == (None, None)
    assert "gps_out_of_range" in codes(meta)


def test_gps_division_by_zero(tmp_path: Path) -> None:
    # 5/0 degrees is garbage; 0/0 seconds is how Nikon writes "decimal minutes, no seconds".
    zero_div = TiffImagePlugin.IFDRational(5, 0)
    unused = TiffImagePlugin.IFDRational(0, 0)
    bad = {1: "N", 2: (zero_div, rational(0), rational(0)), 3: "E", 4: (rational(1), rational(0), rational(0))}
    meta = read(write_jpeg(tmp_path / "bad.jpg", make_exif(gps=bad)))
    assert (meta.lat, meta.lon) == (None, None)
    assert "bad_gps" in codes(meta)

    minutes_lat = TiffImagePlugin.IFDRational(5332358, 100000)
    minutes_lon = TiffImagePlugin.IFDRational(259507, 100000)
    nikon = {1: "N", 2: (rational(48), minutes_lat, unused), 3: "E", 4: (rational(21), minutes_lon, unused)}
    meta = read(write_jpeg(tmp_path / "nikon.jpg", make_exif(gps=nikon)))
    assert (meta.lat, meta.lon) == (pytest.approx(48 + 53.32358 / 60), pytest.approx(21 + 2.59507 / 60))


def test_gps_block_without_a_fix_is_quietly_missing(tmp_path: Path) -> None:
    unused = TiffImagePlugin.IFDRational(0, 0)
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif(gps={2: (unused,) * 3, 4: (unused,) * 3})))
    assert (meta.lat, meta.lon) == (None, None)
    assert codes(meta) == ["mtime_time"]


def test_gps_from_xmp_when_exif_has_none(tmp_path: Path) -> None:
    xmp = xmp_desc('exif:GPSLatitude="51,30,15S" exif:GPSLongitude="0,7.5E" exif:GPSAltitude="252/10"')
    meta = read(write_jpeg(tmp_path / "a.jpg", xmp=xmp))
    assert (meta.lat, meta.lon, meta.alt) == (
        pytest.approx(-(51 + 30 / 60 + 15 / 3600)),
        pytest.approx(0.125),
        pytest.approx(25.2),
    )


# --------------------------------------------------------------------------- orientation, camera


def test_orientation_6(tmp_path: Path) -> None:
    assert read(write_jpeg(tmp_path / "a.jpg", make_exif({ORIENTATION: 6}))).orientation == 6


@pytest.mark.parametrize("value", [0, 9, 300])
def test_bad_orientation_is_upright_with_a_warning(tmp_path: Path, value: int) -> None:
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif({ORIENTATION: value})))
    assert meta.orientation == 1
    assert "bad_orientation" in codes(meta)


def test_orientation_from_xmp_in_png(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_desc('tiff:Orientation="6"').decode())
    path = tmp_path / "a.png"
    Image.new("RGB", (16, 12)).save(path, "PNG", pnginfo=info)
    assert read(path).orientation == 6


def test_camera_strings_are_stripped_and_empty_is_none(tmp_path: Path) -> None:
    meta = read(write_jpeg(tmp_path / "a.jpg", make_exif({MAKE: "  Canon\x00\x00", MODEL: "   "})))
    assert (meta.camera_make, meta.camera_model) == ("Canon", None)


# --------------------------------------------------------------------------- broken input


def test_wrong_types_and_bad_offsets_do_not_raise(tmp_path: Path) -> None:
    exif = raw_exif(
        [
            (MAKE, 3, 1, struct.pack("<H", 456)),  # Make as a SHORT
            (MODEL, 2, 6, b"Pixel\x00"),
            (ORIENTATION, 2, 2, b"6\x00"),  # orientation as text
            (DATETIME, 2, 20, struct.pack("<I", 0xFFFF0000)),  # offset far past the end
        ]
    )
    meta = read(jpeg_with_app1(tmp_path / "a.jpg", exif))
    assert (meta.camera_make, meta.camera_model, meta.orientation) == (None, "Pixel", 6)
    assert "bad_exif" in codes(meta)
    assert meta.time_source is TimeSource.MTIME


@pytest.mark.parametrize(
    "payload",
    [
        b"Exif\x00\x00garbage-not-a-tiff-header",
        b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",  # IFD0 offset far past the end
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff",  # 65535 entries promised, none there
        b"Exif\x00\x00",
    ],
)
def test_broken_exif_block(tmp_path: Path, payload: bytes) -> None:
    meta = read(jpeg_with_app1(tmp_path / "IMG_20180725_163423.jpg", payload))
    assert (meta.taken_at, meta.time_source) == (datetime(2018, 7, 25, 16, 34, 23), TimeSource.FILENAME)
    assert set(codes(meta)) <= {"bad_exif"}


def test_image_none_reads_exif_from_a_jpeg_pillow_cannot_open(tmp_path: Path) -> None:
    gps = gps_block((33, 27, 0), "S", (25, 45, 0), "E")
    exif = make_exif({MAKE: "Canon", ORIENTATION: 3}, {DTO: "2013:11:26 15:53:55"}, gps)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12)).save(buffer, "JPEG", exif=exif)
    path = tmp_path / "broken.jpg"
    # Keep the header segments, then garbage where the frame header should be.
    jpeg = buffer.getvalue()
    path.write_bytes(jpeg[: jpeg.index(b"\xff\xdb")] + b"\x00" * 64)
    with pytest.raises(OSError), Image.open(path) as broken:
        broken.load()

    meta = read_metadata(path, None)
    assert (meta.taken_at, meta.time_source, meta.camera_make, meta.orientation) == (
        datetime(2013, 11, 26, 15, 53, 55),
        TimeSource.EXIF,
        "Canon",
        3,
    )
    assert (meta.lat, meta.lon) == (pytest.approx(-33.45), pytest.approx(25.75))


def test_image_none_for_a_non_image_uses_name_then_mtime(tmp_path: Path) -> None:
    named = tmp_path / "IMG_20180725_163423.jpg"
    named.write_bytes(b"not an image at all")
    assert read_metadata(named, None).time_source is TimeSource.FILENAME
    plain = tmp_path / "notes.jpg"
    plain.write_bytes(b"")
    meta = read_metadata(plain, None)
    assert meta.time_source is TimeSource.MTIME
    vanished = read_metadata(tmp_path / "vanished.jpg", None)
    assert vanished.time_source is TimeSource.NONE
    assert codes(vanished) == ["unreadable", "no_time"]


def test_randomly_corrupted_exif_never_raises(tmp_path: Path) -> None:
    exif = make_exif(
        {MAKE: "Canon", MODEL: "EOS", ORIENTATION: 6, DATETIME: "2018:07:25 16:34:23"},
        {DTO: "2018:07:25 16:34:23", SUBSEC_ORIGINAL: "935", OFFSET_ORIGINAL: "+02:00"},
        gps_block((33, 27, "12.48"), "S", (18, 25, "12.5"), "W", alt="5.5", alt_ref=1),
    ).tobytes()
    rng = random.Random(20240725)
    for i in range(300):
        payload = bytearray(b"Exif\x00\x00" + exif)
        for _ in range(rng.randint(1, 8)):
            payload[rng.randrange(6, len(payload))] = rng.randrange(256)
        if rng.random() < 0.2:
            payload = payload[: rng.randrange(6, len(payload))]
        path = jpeg_with_app1(tmp_path / f"fuzz{i % 5}.jpg", bytes(payload))
        for meta in (read(path), read_metadata(path, None)):
            assert 1 <= meta.orientation <= 8
            assert all(isinstance(code, str) and isinstance(reason, str) for code, reason in meta.warnings)


# --------------------------------------------------------------------------- real samples
# Expected values checked by hand with exiftool 12.57 (`exiftool -G1 -a -s -n FILE`,
# plus `-SubSecDateTimeOriginal` for the fractions and `-v3` for raw GPS rationals).


@pytest.fixture(scope="module")
def heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def open_or_none(path: Path) -> Image.Image | None:
    try:
        return Image.open(path)
    except (OSError, ValueError, SyntaxError):  # UnidentifiedImageError is an OSError
        return None


def sample_meta(samples: Path, rel: str) -> PhotoMetadata:
    path = samples / rel
    image = open_or_none(path)
    try:
        return read_metadata(path, image)
    finally:
        if image is not None:
            image.close()


def mtime_of(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime)


@dataclass(frozen=True)
class Sample:
    rel: str
    taken_at: datetime
    source: str
    camera: tuple[str | None, str | None] = (None, None)
    gps: tuple[float, float, float | None] | None = None  # lat, lon, alt
    tz: int | None = None
    orientation: int = 1


SAMPLES = [
    Sample(
        "exif-edge/canon-dslr.jpg",
        datetime(2019, 10, 26, 16, 7, 24, 540000),
        "exif",
        camera=("Canon", "Canon EOS 1300D"),
    ),
    Sample(
        "exif-edge/IMG_20180725_163423.jpg",
        datetime(2018, 7, 25, 16, 34, 23, 935476),
        "exif",
        camera=("Google", "Pixel"),
        gps=(50.2996027777778, 14.8202944444444, 252),
    ),
    Sample(
        "exif-edge/IMG_20180725_163423-tiny.jpg",
        datetime(2018, 7, 25, 16, 34, 23, 935476),
        "exif",
        camera=("Google", "Pixel"),
        gps=(50.2996027777778, 14.8202944444444, 252),
    ),
    # exiftool finds no date in -1.png: the file name is all there is.
    Sample("exif-edge/png/IMG_20180725_163423-1.png", datetime(2018, 7, 25, 16, 34, 23), "filename"),
    # XMP-photoshop:DateCreated 2018:07:25 16:34:22.173129472 (beats xmp:CreateDate 16:34:23).
    Sample("exif-edge/png/IMG_20180725_163423-2.png", datetime(2018, 7, 25, 16, 34, 22, 173129), "xmp"),
    # EXIF is an eXIf chunk after IDAT (exiftool: "Text/EXIF chunk(s) found after PNG IDAT").
    Sample(
        "exif-edge/png/png_with_exif_and_gps.png",
        datetime(2003, 12, 14, 12, 1, 44, 935476),
        "exif",
        camera=("Canon", "Canon PowerShot S40"),
        gps=(50.2996027777778, 14.8202944444444, 252),
    ),
    Sample(
        "exif-edge/img_1771.jpg",
        datetime(2003, 12, 14, 12, 1, 44),
        "exif",
        camera=("Canon", "Canon PowerShot S40"),
    ),
    Sample(
        "exif-edge/sidecar/IMG_5910.jpg",
        datetime(2015, 6, 11, 10, 29, 26, 690000),
        "exif",
        camera=("Canon", "Canon EOS 600D"),
        gps=(37.8710933333333, -122.25678, 90),
    ),
    Sample(
        "exif-edge/001.tif",
        datetime(2017, 11, 7, 18, 56, 7, 890000),
        "exif",
        camera=("DJI", "FLIR"),
        gps=(50.8625989166667, 4.67254213888889, -8),
    ),
    Sample(
        "exif-edge/002.tiff",
        datetime(2019, 5, 24, 15, 6, 38, 720000),
        "exif",
        camera=("DJI", "XT2"),
        gps=(39.9169997222222, -2.82502444444444, 881.909),
    ),
    Sample(
        "exif-edge/heic-iphone.heic",
        datetime(2019, 8, 21, 10, 57, 23, 345000),
        "exif",
        camera=("Apple", "iPhone XS Max"),
        gps=(7.83143055555556, 98.2966527777778, 12.7661795),
    ),
    Sample(
        "exif-edge/heic-iphone7.heic",
        datetime(2019, 10, 20, 18, 34, 30, 130000),
        "exif",
        camera=("Apple", "iPhone 7"),
        gps=(38.0466416666667, 12.9944111111111, 1.399879416),
        tz=120,
    ),
    Sample(
        "exif-edge/heic-maybebroken.HEIC",
        datetime(2018, 2, 5, 15, 11, 44, 277000),
        "exif",
        camera=("Apple", "iPhone 8"),
        gps=(23.1779166666667, 113.394316666667, 42.81033687),
    ),
    # exiftool: Orientation 6, but pillow-heif has already rotated the pixels (the
    # image opens 3024x4032) and reset the tag, so 1 is right for what the pipeline decodes.
    Sample(
        "themed/iphone_15_pro.heic",
        datetime(2023, 10, 31, 11, 44, 43, 432000),
        "exif",
        camera=("Apple", "iPhone 15 Pro"),
        gps=(52.4596055555556, 13.3218416666667, 50.15664187),
        tz=60,
    ),
    # broken XMP (invalid token) and an all-0/0 GPS block; the +01:00 is XMP-exif:DateTimeOriginal's.
    Sample(
        "exif-edge/broken1.jpg",
        datetime(2007, 8, 15, 10, 13, 13),
        "exif",
        camera=("Canon", "Canon EOS 30D"),
        tz=60,
    ),
    Sample("exif-edge/RangeError_Invalid_typed_array_length.jpg", datetime(2020, 7, 23), "xmp", tz=120),
    # XMP-xmp:CreateDate 2005:01:25 10:30:15-08:00; IFD0 ModifyDate 2013 is the edit.
    Sample(
        "exif-edge/issue-exifr-41-Error_Segment_Unreachable.jpg",
        datetime(2005, 1, 25, 10, 30, 15),
        "xmp",
        tz=-480,
    ),
    Sample("exif-edge/Bush-dog.jpg", datetime(2003, 8, 30), "xmp"),
    # photoshop:DateCreated 1985-11-25 is before 1990: xmp:CreateDate is next.
    Sample(
        "exif-edge/iptc-independent-photographer-example.jpg",
        datetime(2010, 4, 21, 16, 50, 46),
        "xmp",
        tz=-300,
    ),
    # OffsetTime (no OffsetTimeOriginal) +02:00; exiftool's SubSecDateTimeOriginal omits it.
    Sample(
        "exif-edge/iptc-mess.jpg",
        datetime(2021, 6, 27, 18, 23, 7, 640000),
        "exif",
        camera=("NIKON CORPORATION", "NIKON D3S"),
        tz=120,
    ),
    Sample(
        "exif-edge/issue-exifr-3.jpg",
        datetime(2019, 4, 30, 15, 56, 18, 606000),
        "exif",
        camera=("DJI", "FLIR"),
        gps=(40.3775014444444, -74.4899133611111, -8.5),
    ),
    Sample(
        "exif-edge/issue-exifr-36.jpg",
        datetime(2005, 8, 13, 9, 47, 23),
        "exif",
        camera=("EASTMAN KODAK COMPANY", "KODAK CX7530 ZOOM DIGITAL CAMERA"),
        gps=(-0.3713, 36.0564166666667, None),
    ),
    Sample(
        "camera-roll/Apple iPhone 4.jpg",
        datetime(2011, 1, 13, 14, 33, 39),
        "exif",
        camera=("Apple", "iPhone 4"),
        gps=(41.853, 12.4888333333333, None),
    ),
    Sample(
        "camera-roll/HTC Desire.jpg",
        datetime(2011, 5, 6, 9, 59, 48),
        "exif",
        camera=("HTC", "HTC Desire"),
        gps=(45.5006666666667, 9.11033333333333, 217),
    ),
    Sample(
        "camera-roll/FujiFilm FinePixS1Pro (1).jpg",
        datetime(2002, 7, 13, 15, 58, 28),
        "exif",
        camera=("FUJIFILM", "FinePixS1Pro"),
        gps=(54.9896666666667, -1.91416666666667, None),
    ),
    Sample(
        "camera-roll/Sony DSC-HX5V (2).jpg",
        datetime(2010, 5, 15, 17, 12, 5),
        "exif",
        camera=("SONY", "DSC-HX5V"),
        gps=(51.778615, 8.36563805555556, 93.3),
    ),
    Sample(
        "camera-roll/Issue 508.jpg",
        datetime(2020, 9, 2, 18, 52, 42, 892000),
        "exif",
        camera=("Apple", "iPhone XR"),
        gps=(43.8594694444444, 15.5032833333333, 0.9),
    ),
    # exiftool leaves GPSLatitude empty (raw 48/1 5332358/100000 0/0); the file's own
    # XMP says 48.8887263666667, 21.0432511666667, which is what reading 0/0 as 0 gives.
    # The +01:00 comes from XMP-xmp:CreateDate 2011:03:12 15:36:11.00+01:00.
    Sample(
        "camera-roll/Nikon D5000.jpg",
        datetime(2011, 3, 12, 15, 36, 11),
        "exif",
        camera=("NIKON CORPORATION", "NIKON D5000"),
        gps=(48.8887263666667, 21.0432511666667, 324.145),
        tz=60,
    ),
    # DateTimeOriginal is blank ("    :  :     :  :  "): CreateDate is next.
    Sample(
        "camera-roll/FujiFilm SP-2500.jpg",
        datetime(2003, 9, 10, 20, 59, 18),
        "exif",
        camera=("FUJI PHOTO FILM CO., LTD.", "SP-2500"),
        orientation=6,
    ),
    Sample(
        "camera-roll/Sony Cybershot (3).jpg",
        datetime(2001, 11, 27, 18, 33, 44),
        "exif",
        camera=("SONY", "CYBERSHOT"),
        orientation=6,
    ),
    Sample("camera-roll/Issue 80.jpg", datetime(2008, 3, 14, 13, 59, 26, 540000), "exif", tz=-360),
    # photoshop:DateCreated "2009-09-09T17:00:00, 2009-09-09"; IFD0 ModifyDate 2023 is GIMP's.
    Sample("camera-roll/Issue 600 (2).jpg", datetime(2009, 9, 9, 17, 0, 0), "xmp"),
    Sample(
        "camera-roll/Kodak CLAS Digital Film Scanner HR200 (1).jpg",
        datetime(2001, 1, 11, 3, 28, 39),
        "exif",
        camera=("Eastman Kodak Company", "Kodak CLAS Digital Film Scanner / HR200"),
    ),
    Sample(
        "themed/elephants.jpg",
        datetime(2013, 11, 26, 15, 53, 55),
        "exif",
        camera=("Canon", "Canon EOS 6D"),
        gps=(-33.45347, 25.764645, 190.2),
    ),
    Sample(
        "themed/zebra_green_brown.jpg",
        datetime(2013, 11, 26, 17, 49, 45),
        "exif",
        camera=("Canon", "Canon EOS 6D"),
        gps=(-33.6161333333333, 25.81887, 155.3),
    ),
    Sample(
        "themed/snake_lime_brown.jpg",
        datetime(2013, 11, 23, 13, 54, 17),
        "exif",
        camera=("Canon", "Canon EOS 6D"),
        gps=(-33.9592, 23.47351, 225.3),
    ),
    Sample(
        "themed/beach_sand.jpg",
        datetime(2017, 2, 15, 14, 13, 40, 249000),
        "exif",
        camera=("Apple", "iPhone SE"),
        gps=(-29.2824777777778, 31.4436361111111, -1.990417522),
    ),
    Sample(
        "themed/ferriswheel_colorful.jpg",
        datetime(2015, 2, 12, 3, 11, 0, 10000),
        "exif",
        camera=("Canon", "Canon EOS 6D"),
        gps=(34.0081433333333, -118.498125, 11.9),
    ),
    # a JPEG named .png: Pillow sniffs the content.
    Sample(
        "themed/this-is-a-jpeg.png",
        datetime(2018, 1, 11, 13, 9, 38, 321000),
        "exif",
        camera=("Apple", "iPhone SE"),
        gps=(-34.0213583333333, 23.899375, -2.809326425),
    ),
    Sample("themed/pillar_cyan.jpg", datetime(2019, 5, 4, 7, 0, 0), "xmp", tz=120),
    Sample("themed/example.png", datetime(2015, 11, 20, 5, 20, 30), "xmp"),
    Sample("themed/telegram_2020-01-30_09-57-18.jpg", datetime(2020, 1, 30, 9, 57, 18), "filename"),
    Sample("themed/Screenshot 2019-05-21 at 10.45.52.png", datetime(2019, 5, 21, 10, 45, 52), "filename"),
]


@pytest.mark.samples
@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.rel for sample in SAMPLES])
def test_real_samples(samples: Path, heif: None, sample: Sample) -> None:
    meta = sample_meta(samples, sample.rel)
    assert (meta.taken_at, meta.tz_offset_min, meta.time_source) == (
        sample.taken_at,
        sample.tz,
        TimeSource(sample.source),
    )
    assert (meta.camera_make, meta.camera_model) == sample.camera
    assert meta.orientation == sample.orientation
    if sample.gps is None:
        assert (meta.lat, meta.lon) == (None, None)
    else:
        lat, lon, alt = sample.gps
        assert meta.lat == pytest.approx(lat, abs=1e-4)
        assert meta.lon == pytest.approx(lon, abs=1e-4)
        assert meta.alt == (None if alt is None else pytest.approx(alt, abs=1e-3))


@pytest.mark.samples
@pytest.mark.parametrize("number", range(1, 9))
def test_sample_orientation_set(samples: Path, number: int) -> None:
    # exiftool: f1t..f8t carry Orientation 1..8 and nothing else.
    meta = sample_meta(samples, f"exif-edge/orientation/f{number}t.jpg")
    assert meta.orientation == number
    assert meta.time_source is TimeSource.MTIME


@pytest.mark.samples
@pytest.mark.parametrize(
    "rel",
    [
        "exif-edge/noexif.jpg",
        "exif-edge/img_1771_no_exif.jpg",
        "exif-edge/RangeError_Offset_outside_bounds.jpg",
        "exif-edge/heic-single.heic",
        "camera-roll/beach.jpg",  # no decoder opens it: image=None
        "camera-roll/Nikon E900 (1).jpg",  # every date 0000:00:00 00:00:00
    ],
)
def test_samples_without_a_date_fall_back_to_mtime(samples: Path, heif: None, rel: str) -> None:
    meta = sample_meta(samples, rel)
    assert (meta.taken_at, meta.time_source) == (mtime_of(samples / rel), TimeSource.MTIME)
    assert codes(meta) == ["mtime_time"]


@pytest.mark.samples
def test_sample_dates_before_1990_are_absurd(samples: Path) -> None:
    # exiftool: DateTimeOriginal, CreateDate, ModifyDate and XMP CreateDate all 1919-05-04.
    meta = sample_meta(samples, "themed/dog_created_1919.jpg")
    assert meta.time_source is TimeSource.MTIME
    assert codes(meta) == ["absurd_date", "mtime_time"]
    assert "1919-05-04 05:59:26" in meta.warnings[0][1]


@pytest.mark.samples
@pytest.mark.parametrize(
    ("rel", "make"),
    [("camera-roll/Samsung GT-I9000 (Galaxy S).jpg", "SAMSUNG"), ("camera-roll/Issue 308.jpg", "456")],
)
def test_sample_gps_zero(samples: Path, rel: str, make: str) -> None:
    # exiftool: GPSLatitude 0 deg 0' 0.00" N, GPSLongitude 0 deg 0' 0.00" E.
    meta = sample_meta(samples, rel)
    assert (meta.lat, meta.lon, meta.camera_make) == (None, None, make)
    assert "gps_zero" in codes(meta)


@pytest.mark.samples
def test_sample_gps_without_a_date(samples: Path) -> None:
    # exiftool: GPS only, 43.6873944444444, -85.4835194444444, altitude 848 m below sea level.
    meta = sample_meta(samples, "camera-roll/Issue 173 (dotnet).jpg")
    assert (meta.lat, meta.lon, meta.alt) == (
        pytest.approx(43.6873944444444, abs=1e-6),
        pytest.approx(-85.4835194444444, abs=1e-6),
        -848.0,
    )


@pytest.mark.samples
def test_every_sample_is_read_without_raising(samples: Path, heif: None) -> None:
    folders = ("exif-edge", "camera-roll", "themed")
    files = [p for folder in folders for p in sorted((samples / folder).rglob("*")) if p.is_file()]
    assert len(files) > 200
    for path in files:
        image = open_or_none(path)
        try:
            for meta in (read_metadata(path, image), read_metadata(path, None)):
                assert isinstance(meta, PhotoMetadata), path
                assert 1 <= meta.orientation <= 8, path
                assert all(isinstance(c, str) and isinstance(r, str) for c, r in meta.warnings), path
                if meta.lat is not None:
                    assert -90 <= meta.lat <= 90 and -180 <= meta.lon <= 180, path
        finally:
            if image is not None:
                image.close()

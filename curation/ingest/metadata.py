"""What a photo file says about itself: capture time, camera, GPS and orientation.

``read_metadata`` reads EXIF and XMP (embedded, then a sidecar ``.xmp``), then the
file name, then the file's modification time. It never raises for bad metadata:
camera firmware and editors write broken offsets, garbage rationals and impossible
dates, and one bad tag must not cost a photo its place in the library. Every doubt
becomes a ``(code, reason)`` pair in ``PhotoMetadata.warnings``.

It never decodes pixels. For a 100k-photo library it costs one header parse per
file; the sidecar lookup (a few ``stat`` calls) only happens when the file itself
has no capture date.
"""

from __future__ import annotations

import math
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from warnings import catch_warnings, simplefilter

from PIL import ExifTags, Image, TiffImagePlugin

from curation.ingest.decode import WARNINGS_LOCK
from curation.records import PhotoMetadata, TimeSource

Warnings = list[tuple[str, str]]

# What Pillow's EXIF/TIFF parser raises on corrupt data: SyntaxError is its "not a
# TIFF header", struct.error a truncated entry, the rest bad offsets and counts.
_PARSE_ERRORS = (
    SyntaxError,
    struct.error,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OSError,
    OverflowError,
    ZeroDivisionError,
)

_TIFF_XMP_TAG = 700
_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
# XMP sidecars are a few KB; anything bigger is not worth a stall per photo.
_MAX_SIDECAR_BYTES = 4 << 20
# A PNG chunk we copy into memory (eXIf, iTXt); pixel chunks are skipped with seek().
_MAX_PNG_META_CHUNK = 8 << 20
# UTC-14:00 .. UTC+14:00 is every offset in use.
_MAX_TZ_MIN = 14 * 60


# --------------------------------------------------------------------------- entry point


def read_metadata(
    path: Path,
    image: Image.Image | None = None,
    *,
    now: datetime | None = None,
    min_year: int = 1990,
) -> PhotoMetadata:
    """Everything ``path`` says about itself.

    ``image`` is ``path`` opened lazily by Pillow (header read, pixels not decoded),
    or None when Pillow could not open it.

    Capture time comes from, in order: EXIF DateTimeOriginal, EXIF
    DateTimeDigitized, the embedded XMP packet, a sidecar ``.xmp``, EXIF DateTime
    (IFD0), the file name, the file's mtime. A date before ``min_year`` or more
    than a day after ``now`` is recorded as ``absurd_date`` and skipped.
    """
    path = Path(path)
    meta = PhotoMetadata()
    warnings = meta.warnings

    raw_exif, xmp_packet = _metadata_blocks(path, image, warnings)
    # Pillow reports tags it had to skip with warnings.warn(); make them ours, once,
    # instead of log noise. catch_warnings swaps process-global state, so the ingest's
    # threads take turns here (EXIF parsing is Python, it holds the GIL anyway).
    with WARNINGS_LOCK, catch_warnings(record=True) as skipped:
        simplefilter("always")
        exif = _load_exif(image, raw_exif, warnings)
        ifd0 = _ifd0(exif, warnings)
        exif_ifd = _sub_ifd(exif, ExifTags.IFD.Exif, "Exif", warnings)
        gps_ifd = _sub_ifd(exif, ExifTags.IFD.GPSInfo, "GPS", warnings)
    if skipped:
        reason = f"EXIF is partly corrupt ({skipped[0].message}); the readable tags were used"
        warnings.append(("bad_exif", reason))
    xmp = _parse_xmp(xmp_packet, "XMP packet", warnings) if xmp_packet else {}

    meta.camera_make = _camera_field(ifd0, ExifTags.Base.Make, xmp.get("tiff:Make"), warnings)
    meta.camera_model = _camera_field(ifd0, ExifTags.Base.Model, xmp.get("tiff:Model"), warnings)
    meta.orientation = _orientation(ifd0, xmp, warnings)
    position = _gps(gps_ifd, warnings) or _xmp_gps(xmp, warnings)
    if position is not None:
        meta.lat, meta.lon, meta.alt = position

    now = now or datetime.now()
    if now.tzinfo is not None:  # dates in files are naive local time; compare like with like
        now = now.astimezone().replace(tzinfo=None)
    judge = _DateJudge(min_year=min_year, latest=now + timedelta(days=1), warnings=warnings)
    for source, what, stamp in _time_candidates(path, ifd0, exif_ifd, xmp, warnings):
        if judge.accept(stamp, what):
            meta.taken_at, meta.tz_offset_min = stamp.taken_at, stamp.tz_offset_min
            meta.time_source = source
            if source is TimeSource.MTIME:
                warnings.append(
                    (
                        "mtime_time",
                        "no capture date in EXIF, XMP or file name; using the file's "
                        "modification time, which is unreliable",
                    )
                )
            elif what == _MODIFY_TIME:
                warnings.append(
                    (
                        "exif_modify_time",
                        "no DateTimeOriginal or XMP capture date; using EXIF DateTime, "
                        "the file's last-change time, which editors overwrite",
                    )
                )
            break
    else:
        warnings.append(("no_time", "no plausible capture date anywhere, not even the file's mtime"))
    return meta


# --------------------------------------------------------------------------- capture time

_MODIFY_TIME = "EXIF DateTime"  # IFD0 DateTime: when the file was last changed


@dataclass(frozen=True)
class _Stamp:
    taken_at: datetime  # naive local wall-clock time
    tz_offset_min: int | None = None


@dataclass
class _DateJudge:
    """Decides whether a parsed date is plausible, warning once per rejected value."""

    min_year: int
    latest: datetime
    warnings: Warnings
    _rejected: set[datetime] = field(default_factory=set, init=False)

    def accept(self, stamp: _Stamp | None, what: str) -> bool:
        if stamp is None:
            return False
        taken = stamp.taken_at
        if taken.year < self.min_year:
            problem = f"is before {self.min_year}"
        elif taken > self.latest:
            problem = "is in the future"
        else:
            return True
        # The same bad value usually sits in several tags (EXIF and XMP); say it once.
        if taken not in self._rejected:
            self._rejected.add(taken)
            self.warnings.append(("absurd_date", f"{what} {taken:%Y-%m-%d %H:%M:%S} {problem}; ignored"))
        return False


def _time_candidates(
    path: Path,
    ifd0: Mapping[int, Any],
    exif_ifd: Mapping[int, Any],
    xmp: Mapping[str, str],
    warnings: Warnings,
) -> Iterator[tuple[TimeSource, str, _Stamp | None]]:
    """Capture-time candidates, best first; lazy, so the sidecar is read only if needed."""
    tags = ExifTags.Base
    yield (
        TimeSource.EXIF,
        "EXIF DateTimeOriginal",
        _exif_time(
            exif_ifd.get(tags.DateTimeOriginal),
            exif_ifd.get(tags.SubsecTimeOriginal),
            exif_ifd.get(tags.OffsetTimeOriginal) or exif_ifd.get(tags.OffsetTime),
            "EXIF DateTimeOriginal",
            xmp,
            warnings,
        ),
    )
    yield (
        TimeSource.EXIF,
        "EXIF DateTimeDigitized",
        _exif_time(
            exif_ifd.get(tags.DateTimeDigitized),
            exif_ifd.get(tags.SubsecTimeDigitized),
            exif_ifd.get(tags.OffsetTimeDigitized) or exif_ifd.get(tags.OffsetTime),
            "EXIF DateTimeDigitized",
            xmp,
            warnings,
        ),
    )
    yield from _xmp_time(xmp, "XMP", warnings)
    sidecar = _find_sidecar(path)
    if sidecar is not None:
        side_xmp = _parse_xmp(_read_sidecar(sidecar, warnings), f"XMP sidecar {sidecar.name}", warnings)
        yield from _xmp_time(side_xmp, f"XMP sidecar {sidecar.name}", warnings)
    # IFD0 DateTime is the file's last-change time: equal to the capture time for
    # camera originals, but an editor's export date otherwise. It ranks below XMP
    # because editors keep the real capture date in XMP (Bush-dog.jpg in the
    # samples: DateTime 2008, XMP photoshop:DateCreated 2003-08-30).
    yield (
        TimeSource.EXIF,
        _MODIFY_TIME,
        _exif_time(
            ifd0.get(tags.DateTime),
            exif_ifd.get(tags.SubsecTime),
            exif_ifd.get(tags.OffsetTime),
            _MODIFY_TIME,
            xmp,
            warnings,
        ),
    )
    yield TimeSource.FILENAME, f"file name {path.name!r}", _filename_time(path.stem)
    yield TimeSource.MTIME, "file modification time", _mtime(path)


# Dates as EXIF ("2018:07:25 16:34:23") and XMP/ISO 8601 ("2018-07-25T16:34:23.93+02:00",
# "2003-08-30") write them; fractions and an offset are optional.
_DATE_RE = re.compile(
    r"(?P<y>\d{4})[:\-/.](?P<mo>\d{1,2})[:\-/.](?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?:[.,](?P<frac>\d+))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{1,2}:?\d{2})?"
)
_TZ_RE = re.compile(r"(?P<sign>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})")


def _parse_date(text: str) -> _Stamp | None:
    """A date string as a stamp; None when blank or all zeros. ValueError when garbage."""
    text = text.strip().strip("\x00").strip()
    # Cameras without a clock write "0000:00:00 00:00:00" or blanks: missing, not wrong.
    if not text.strip(" :-T0"):
        return None
    match = _DATE_RE.match(text)
    if match is None:
        raise ValueError("unrecognised format")
    g = match.groupdict()
    micro = int((g["frac"] or "0")[:6].ljust(6, "0"))
    taken = datetime(
        int(g["y"]), int(g["mo"]), int(g["d"]), int(g["h"] or 0), int(g["mi"] or 0), int(g["s"] or 0), micro
    )
    return _Stamp(taken, _parse_offset(g["tz"]) if g["tz"] else None)


def _parse_offset(text: str) -> int | None:
    """'+02:00' -> 120, 'Z' -> 0; ValueError when it is not an offset."""
    text = text.strip().strip("\x00").strip()
    if not text.strip(" :"):
        return None
    if text == "Z":
        return 0
    match = _TZ_RE.fullmatch(text)
    if match is None:
        raise ValueError("unrecognised format")
    minutes = int(match["h"]) * 60 + int(match["m"])
    if minutes > _MAX_TZ_MIN or int(match["m"]) >= 60:
        raise ValueError("beyond ±14:00")
    return -minutes if match["sign"] == "-" else minutes


def _exif_time(
    value: Any, subsec: Any, offset: Any, what: str, xmp: Mapping[str, str], warnings: Warnings
) -> _Stamp | None:
    text = _text(value)
    if text is None:
        if value is not None and not isinstance(value, (str, bytes)):
            warnings.append(("bad_date", f"{what} has the wrong type ({type(value).__name__}); ignored"))
        return None
    try:
        stamp = _parse_date(text)
    except ValueError as err:
        warnings.append(("bad_date", f"{what} {text!r} is not a valid date ({err}); ignored"))
        return None
    if stamp is None:
        return None
    taken, tz = stamp.taken_at, stamp.tz_offset_min
    subsec_text = _text(subsec)
    # SubSecTime holds the decimal digits after the second: "64" is .64 s.
    if subsec_text and subsec_text.isdigit() and taken.microsecond == 0:
        taken = taken.replace(microsecond=int(subsec_text[:6].ljust(6, "0")))
    offset_text = _text(offset)
    if tz is None and offset_text:
        try:
            tz = _parse_offset(offset_text)
        except ValueError as err:
            warnings.append(("bad_tz", f"{what} UTC offset {offset_text!r} is not valid ({err}); ignored"))
    if tz is None:
        tz = _xmp_offset_for(taken, xmp)
    return _Stamp(taken, tz)


def _xmp_offset_for(taken: datetime, xmp: Mapping[str, str]) -> int | None:
    """The UTC offset an XMP date of the same wall-clock second states, if any.

    Lightroom and Photoshop copy DateTimeOriginal into XMP with the offset that
    EXIF (before 2.31) had no tag for.
    """
    for name in _XMP_DATE_PROPS:
        try:
            stamp = _parse_date(xmp[name]) if name in xmp else None
        except ValueError:
            continue
        if (
            stamp is not None
            and stamp.tz_offset_min is not None
            and stamp.taken_at.replace(microsecond=0) == taken.replace(microsecond=0)
        ):
            return stamp.tz_offset_min
    return None


# Capture-date properties, best first. photoshop:DateCreated is the IPTC "date the
# photo was taken"; xmp:CreateDate the creation of the file (the scan, for film).
_XMP_DATE_PROPS = (
    "exif:DateTimeOriginal",
    "photoshop:DateCreated",
    "xmp:CreateDate",
    "xmp:DateCreated",
    "exif:DateTimeDigitized",
)


def _xmp_time(
    xmp: Mapping[str, str], label: str, warnings: Warnings
) -> Iterator[tuple[TimeSource, str, _Stamp | None]]:
    for name in _XMP_DATE_PROPS:
        if name not in xmp:
            continue
        what = f"{label} {name}"
        try:
            stamp = _parse_date(xmp[name])
        except ValueError as err:
            warnings.append(("bad_date", f"{what} {xmp[name]!r} is not a valid date ({err}); ignored"))
            continue
        yield TimeSource.XMP, what, stamp


# IMG_20180725_163423, IMG-20180725-WA0001 (date only), PXL_20210101_123456789,
# Screenshot 2019-05-21 at 10.45.52 (macOS; "um" in German), 2019-05-21 10.45.52,
# telegram_2020-01-30_09-57-18. A date glued to other digits (a hash, a Unix
# timestamp) is not a date.
_FILENAME_RE = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)\d{2})(?P<dsep>[-_.]?)(?P<mo>\d{2})(?P=dsep)(?P<d>\d{2})"
    r"(?:(?:[ _](?:at|um)[ _]|[ _T-])"
    r"(?P<h>\d{2})(?P<tsep>[-_.:]?)(?P<mi>\d{2})(?P=tsep)(?P<s>\d{2})(?P<ms>\d{1,3})?)?"
    r"(?![0-9])"
)


def _filename_time(stem: str) -> _Stamp | None:
    for match in _FILENAME_RE.finditer(stem):
        g = match.groupdict()
        try:
            day = datetime(int(g["y"]), int(g["mo"]), int(g["d"]))
        except ValueError:  # month 13: a number that only looks like a date
            continue
        if g["h"] is None:
            return _Stamp(day)
        ms = int((g["ms"] or "0").ljust(3, "0"))
        try:
            return _Stamp(
                day.replace(hour=int(g["h"]), minute=int(g["mi"]), second=int(g["s"]), microsecond=ms * 1000)
            )
        except ValueError:  # 25 o'clock: keep the date, which is still good
            return _Stamp(day)
    return None


def _mtime(path: Path) -> _Stamp | None:
    try:
        return _Stamp(datetime.fromtimestamp(path.stat().st_mtime))
    except (OSError, OverflowError, ValueError):
        return None


# --------------------------------------------------------------------------- EXIF


def _metadata_blocks(
    path: Path, image: Image.Image | None, warnings: Warnings
) -> tuple[bytes | None, bytes | None]:
    """Raw EXIF (None: let Pillow read it from ``image``) and the XMP packet."""
    try:
        if image is None:
            # Pillow could not open it; a broken JPEG often still has intact APP segments.
            return _jpeg_app_segments(path)
        xmp = _image_xmp(image)
        if image.format != "PNG":
            return None, xmp
        # Pillow reads PNG chunks only up to the first IDAT and its getexif() decodes
        # every pixel to reach later ones, so walk the chunk headers ourselves.
        exif = image.info.get("exif")
        if exif is None and "Raw profile type exif" in image.info:  # ImageMagick's tEXt form
            exif = bytes.fromhex("".join(str(image.info["Raw profile type exif"]).split("\n")[3:]))
        if exif is None or xmp is None:
            late_exif, late_xmp = _png_late_chunks(path)
            exif, xmp = exif or late_exif, xmp or late_xmp
        return exif, xmp
    except OSError as err:
        warnings.append(("unreadable", f"the file cannot be read for metadata ({err.strerror or err})"))
        return None, None
    except (*_PARSE_ERRORS, zlib.error) as err:
        warnings.append(("bad_exif", f"metadata blocks cannot be read ({err}); ignored"))
        return None, None


def _image_xmp(image: Image.Image) -> bytes | None:
    packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if packet is None and isinstance(image, TiffImagePlugin.TiffImageFile):
        packet = image.tag_v2.get(_TIFF_XMP_TAG)
    if isinstance(packet, str):
        return packet.encode("utf-8")
    if isinstance(packet, tuple):  # some TIFF writers give tag 700 the BYTE type
        packet = bytes(packet)
    return packet if isinstance(packet, bytes) and packet else None


def _load_exif(image: Image.Image | None, raw: bytes | None, warnings: Warnings) -> Image.Exif:
    try:
        if raw is None and image is not None and image.format != "PNG":
            # Pillow keeps this parse on the image, so the pipeline's later calls are free.
            return image.getexif()
        exif = Image.Exif()
        if raw:
            exif.load(raw)
        return exif
    except _PARSE_ERRORS as err:
        warnings.append(("bad_exif", f"EXIF block is corrupt ({type(err).__name__}: {err}); ignored"))
        return Image.Exif()


def _sub_ifd(exif: Image.Exif, tag: int, name: str, warnings: Warnings) -> Mapping[int, Any]:
    try:
        return exif.get_ifd(tag)
    except _PARSE_ERRORS as err:
        reason = f"EXIF {name} IFD is corrupt ({type(err).__name__}: {err}); ignored"
        warnings.append(("bad_exif", reason))
        return {}


def _ifd0(exif: Image.Exif, warnings: Warnings) -> dict[int, Any]:
    """The IFD0 tags we use. Pillow decodes a tag's value on first access, so a
    corrupt entry raises there, not at load: read each one on its own."""
    values: dict[int, Any] = {}
    for tag in (ExifTags.Base.Make, ExifTags.Base.Model, ExifTags.Base.Orientation, ExifTags.Base.DateTime):
        try:
            value = exif.get(tag)
        except _PARSE_ERRORS as err:
            reason = f"EXIF {tag.name} is corrupt ({type(err).__name__}: {err}); ignored"
            warnings.append(("bad_exif", reason))
            continue
        if value is not None:
            values[tag] = value
    return values


def _camera_field(
    ifd0: Mapping[int, Any], tag: ExifTags.Base, xmp_value: str | None, warnings: Warnings
) -> str | None:
    value = ifd0.get(tag)
    if value is not None and not isinstance(value, (str, bytes)):
        warnings.append(("bad_exif", f"EXIF {tag.name} has the wrong type ({type(value).__name__}); ignored"))
    return _text(value) or _text(xmp_value)


def _orientation(ifd0: Mapping[int, Any], xmp: Mapping[str, str], warnings: Warnings) -> int:
    # For HEIF, pillow-heif has already rotated the pixels and reset this tag to 1
    # (the file's value is in info["original_orientation"]): 1 is then right for
    # the pixels the pipeline decodes.
    value = ifd0.get(ExifTags.Base.Orientation)
    if value is None:
        value = xmp.get("tiff:Orientation")
    if value is None:
        return 1
    number = _number(value)
    if number is not None and number.is_integer() and 1 <= number <= 8:
        return int(number)
    warnings.append(("bad_orientation", f"EXIF orientation {value!r} is not 1..8; treated as 1 (upright)"))
    return 1


def _text(value: Any) -> str | None:
    """An EXIF/XMP text value, without NUL padding and blanks; None if empty or not text."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:  # old firmware writes Latin-1
            value = value.decode("latin-1")
    if not isinstance(value, str):
        return None
    # Fixed-size fields are NUL padded; what follows the first NUL is leftover garbage.
    value = value.strip("\x00 \t\r\n").split("\x00", 1)[0].strip()
    return value or None


def _number(value: Any) -> float | None:
    """A finite float from an EXIF number, rational, 1-tuple, byte or numeric string."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bytes) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        value = value.strip().strip("\x00")
        if "/" in value:  # XMP writes rationals as "252/1"
            num, _, den = value.partition("/")
            try:
                value = float(num) / float(den)
            except (ValueError, ZeroDivisionError):
                return None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------- GPS


def _gps(gps_ifd: Mapping[int, Any], warnings: Warnings) -> tuple[float, float, float | None] | None:
    tags = ExifTags.GPS
    raw_lat, raw_lon = gps_ifd.get(tags.GPSLatitude), gps_ifd.get(tags.GPSLongitude)
    if raw_lat is None or raw_lon is None or _unset(raw_lat) or _unset(raw_lon):
        return None
    lat, lon = _dms(raw_lat), _dms(raw_lon)
    if lat is None or lon is None:
        warnings.append(("bad_gps", f"EXIF GPS position {raw_lat!r}, {raw_lon!r} is not a number; ignored"))
        return None
    lat = _signed(lat, _text(gps_ifd.get(tags.GPSLatitudeRef)), "S")
    lon = _signed(lon, _text(gps_ifd.get(tags.GPSLongitudeRef)), "W")
    alt = _number(gps_ifd.get(tags.GPSAltitude))
    # AltitudeRef 1 means below sea level; it is a BYTE, which Pillow may give as bytes.
    if alt is not None and _number(gps_ifd.get(tags.GPSAltitudeRef)) == 1:
        alt = -abs(alt)
    return _checked_position(lat, lon, alt, "EXIF", warnings)


def _unset(value: Any) -> bool:
    """All-0/0 rationals: a GPS block written before the receiver had a fix."""
    parts = value if isinstance(value, (tuple, list)) else (value,)
    return all(
        isinstance(part, TiffImagePlugin.IFDRational) and part.numerator == 0 and part.denominator == 0
        for part in parts
    )


def _dms(value: Any) -> float | None:
    """Degrees from EXIF (degrees, minutes, seconds) rationals; fewer parts are allowed.

    Signed by the degrees, for writers that store a negative degree and no reference."""
    parts = value if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    total, sign = 0.0, 1.0
    for part, scale in zip(parts, (1, 60, 3600)):
        # Nikon writes "48/1 5332358/100000 0/0": degrees and decimal minutes, seconds
        # 0/0. The 0/0 means "unused", not "unknown position".
        if isinstance(part, TiffImagePlugin.IFDRational) and part.numerator == 0 and part.denominator == 0:
            continue
        number = _number(part)
        if number is None:
            return None
        if scale == 1 and number < 0:
            sign = -1.0
        total += abs(number) / scale
    return sign * total


def _signed(value: float, ref: str | None, negative_ref: str) -> float:
    """Apply a N/S or E/W reference; without one, keep the value's own sign."""
    if not ref:
        return value
    return -abs(value) if ref[:1].upper() == negative_ref else abs(value)


def _checked_position(
    lat: float, lon: float, alt: float | None, source: str, warnings: Warnings
) -> tuple[float, float, float | None] | None:
    if lat == 0 and lon == 0:
        # Phones without a fix write 0,0: the Gulf of Guinea, never a holiday photo.
        warnings.append(("gps_zero", f"{source} GPS 0,0 treated as missing"))
        return None
    if abs(lat) > 90 or abs(lon) > 180:
        reason = f"{source} GPS {lat:.6f}, {lon:.6f} is outside ±90/±180; ignored"
        warnings.append(("gps_out_of_range", reason))
        return None
    return lat, lon, alt


# XMP writes "51,30.5N" (degrees, decimal minutes) or "51,30,15N"; a bare decimal too.
_XMP_COORD_RE = re.compile(
    r"\s*(?P<d>\d+(?:\.\d+)?)(?:,(?P<m>\d+(?:\.\d+)?))?(?:,(?P<s>\d+(?:\.\d+)?))?\s*(?P<ref>[NSEWnsew])?\s*"
)


def _xmp_gps(xmp: Mapping[str, str], warnings: Warnings) -> tuple[float, float, float | None] | None:
    raw_lat, raw_lon = xmp.get("exif:GPSLatitude"), xmp.get("exif:GPSLongitude")
    if raw_lat is None or raw_lon is None:
        return None
    lat, lon = _xmp_coord(raw_lat, "S"), _xmp_coord(raw_lon, "W")
    if lat is None or lon is None:
        warnings.append(("bad_gps", f"XMP GPS position {raw_lat!r}, {raw_lon!r} is not readable; ignored"))
        return None
    alt = _number(xmp.get("exif:GPSAltitude"))
    if alt is not None and _number(xmp.get("exif:GPSAltitudeRef")) == 1:
        alt = -abs(alt)
    return _checked_position(lat, lon, alt, "XMP", warnings)


def _xmp_coord(text: str, negative_ref: str) -> float | None:
    match = _XMP_COORD_RE.fullmatch(text)
    if match is None:
        return None
    degrees = float(match["d"]) + float(match["m"] or 0) / 60 + float(match["s"] or 0) / 3600
    return _signed(degrees, match["ref"], negative_ref)


# --------------------------------------------------------------------------- XMP

_XMP_NAMESPACES = {
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
}
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_XMP_WANTED = frozenset(
    {
        *_XMP_DATE_PROPS,
        "exif:GPSLatitude",
        "exif:GPSLongitude",
        "exif:GPSAltitude",
        "exif:GPSAltitudeRef",
        "tiff:Orientation",
        "tiff:Make",
        "tiff:Model",
    }
)
# Cheap test before any XML parse: most packets (edit history, ratings) have none of these.
_XMP_HINT_RE = re.compile(
    rb"DateTimeOriginal|DateCreated|CreateDate|DateTimeDigitized|GPSL|Orientation|Make|Model"
)
# The packet's root, and the close tag that ends it; what follows is padding or junk.
_XMP_ROOTS = (
    (b"<x:xmpmeta", b"</x:xmpmeta>"),
    (b"<x:xapmeta", b"</x:xapmeta>"),
    (b"<rdf:RDF", b"</rdf:RDF>"),
)
# Fallback for packets expat refuses: conventional prefixes, attribute or element form.
_XMP_LENIENT_RE = re.compile(
    rb"(?:\b(?P<p1>xmp|xap|photoshop|exif|tiff):(?P<n1>\w+)\s*=\s*(?P<q>[\"'])(?P<v1>[^\"'<]*)(?P=q))"
    rb"|(?:<(?P<p2>xmp|xap|photoshop|exif|tiff):(?P<n2>\w+)\b[^>/]*>\s*"
    rb"(?:<rdf:(?:Seq|Alt|Bag)>\s*<rdf:li\b[^>]*>)?(?P<v2>[^<]*)<)"
)


def _parse_xmp(packet: bytes | None, label: str, warnings: Warnings) -> dict[str, str]:
    """The properties in ``_XMP_WANTED`` found in an XMP packet, as 'prefix:Name' -> text."""
    if not packet or not _XMP_HINT_RE.search(packet):
        return {}
    # XMP never needs a DTD; refusing one rules out entity-expansion tricks.
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        warnings.append(("bad_xmp", f"{label} declares a DTD, which XMP never does; ignored"))
        return {}
    body = _xmp_body(packet)
    try:
        return _xmp_from_tree(ET.fromstring(body))
    except (ET.ParseError, ValueError) as err:
        warnings.append(("bad_xmp", f"{label} is malformed XML ({err}); read leniently"))
        return _xmp_lenient(body)


def _xmp_body(packet: bytes) -> bytes:
    for open_tag, close_tag in _XMP_ROOTS:
        start = packet.find(open_tag)
        end = packet.rfind(close_tag)
        if start >= 0 and end > start:
            return packet[start : end + len(close_tag)]
    return packet


def _xmp_from_tree(root: ET.Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in root.iter():
        for attr, value in element.attrib.items():
            name = _xmp_name(attr)
            if name in _XMP_WANTED and value.strip():
                found.setdefault(name, value.strip())
        name = _xmp_name(element.tag)
        if name in _XMP_WANTED:
            text = (element.text or "").strip()
            if not text:  # <exif:DateTimeOriginal><rdf:Seq><rdf:li>... or an Alt
                item = next(element.iter(f"{_RDF}li"), None)
                text = (item.text or "").strip() if item is not None else ""
            if text:
                found.setdefault(name, text)
    return found


def _xmp_name(tag: str) -> str | None:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return None
    namespace, _, local = tag[1:].partition("}")
    prefix = _XMP_NAMESPACES.get(namespace)
    return f"{prefix}:{local}" if prefix else None


def _xmp_lenient(body: bytes) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _XMP_LENIENT_RE.finditer(body):
        prefix = match["p1"] or match["p2"]
        local = match["n1"] or match["n2"]
        value = (match["v1"] if match["p1"] else match["v2"]) or b""
        name = f"{'xmp' if prefix == b'xap' else prefix.decode()}:{local.decode()}"
        text = value.decode("utf-8", "replace").strip()
        if name in _XMP_WANTED and text:
            found.setdefault(name, text)
    return found


def _find_sidecar(path: Path) -> Path | None:
    """IMG_5910.xmp or IMG_5910.jpg.xmp next to the photo (Lightroom, darktable, digiKam)."""
    for base in dict.fromkeys((path.stem, path.name)):
        for ext in (".xmp", ".XMP", ".Xmp"):
            candidate = path.with_name(base + ext)
            try:
                if candidate.is_file():
                    return candidate
            except OSError:
                continue
    return None


def _read_sidecar(sidecar: Path, warnings: Warnings) -> bytes | None:
    try:
        with sidecar.open("rb") as f:
            return f.read(_MAX_SIDECAR_BYTES)
    except OSError as err:
        reason = f"XMP sidecar {sidecar.name} cannot be read ({err.strerror or err}); ignored"
        warnings.append(("bad_xmp", reason))
        return None


# --------------------------------------------------------------------------- raw containers


def _jpeg_app_segments(path: Path) -> tuple[bytes | None, bytes | None]:
    """EXIF and XMP from a JPEG's APP1 segments, reading nothing past the header."""
    exif = xmp = None
    with path.open("rb") as f:
        if f.read(2) != b"\xff\xd8":
            return None, None
        while True:
            marker = f.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                break
            kind = marker[1]
            if kind == 0xFF:  # fill byte before a marker
                f.seek(-1, 1)
                continue
            if kind in (0xD9, 0xDA):  # end of image, start of scan: no metadata after this
                break
            if 0xD0 <= kind <= 0xD7 or kind == 0x01:  # markers without a length
                continue
            size_bytes = f.read(2)
            if len(size_bytes) < 2:
                break
            length = struct.unpack(">H", size_bytes)[0] - 2
            if length < 0:
                break
            if kind == 0xE1:
                data = f.read(length)
                if data.startswith(b"Exif\x00\x00") and exif is None:
                    exif = data
                elif data.startswith(_JPEG_XMP_HEADER) and xmp is None:
                    xmp = data[len(_JPEG_XMP_HEADER) :]
            else:
                f.seek(length, 1)
    return exif, xmp


def _png_late_chunks(path: Path) -> tuple[bytes | None, bytes | None]:
    """eXIf and XMP iTXt chunks of a PNG, wherever they are; pixel data is seeked over."""
    exif = xmp = None
    with path.open("rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None, None
        while True:
            header = f.read(8)
            if len(header) < 8:
                break
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IEND":
                break
            if kind in (b"eXIf", b"iTXt") and length <= _MAX_PNG_META_CHUNK:
                data = f.read(length)
                f.seek(4, 1)  # CRC
                if kind == b"eXIf" and exif is None:
                    exif = data
                elif kind == b"iTXt" and xmp is None:
                    xmp = _itxt_xmp(data)
            else:
                f.seek(length + 4, 1)
    return exif, xmp


def _itxt_xmp(data: bytes) -> bytes | None:
    keyword, _, rest = data.partition(b"\x00")
    if keyword != b"XML:com.adobe.xmp" or len(rest) < 2:
        return None
    compressed, text = rest[0], rest[2:]
    _language, _, text = text.partition(b"\x00")
    _translated, _, text = text.partition(b"\x00")
    # Bounded, so a zlib bomb in a text chunk cannot eat the worker's memory.
    return zlib.decompressobj().decompress(text, _MAX_PNG_META_CHUNK) if compressed else text

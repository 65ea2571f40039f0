"""The built-in demo library: real package photos on a generated three-year timeline.

``build_demo_library(out)`` writes a small camera roll (91 files, about 12 MB) so
the app works offline on a fresh clone, and a ``manifest.json`` with the ground truth
(capture times, places, events, trips, clutter, bad files) that tests and evaluations
compare the engine's output with.

The pixels come from photos that ship inside installed packages (scikit-image and
scikit-learn sample data), read straight from the package folders: nothing is
downloaded and neither package is imported. Every photo appears many times as a
different crop/rotation/colour variant, placed on a plan of home events and trips.
See docs/demo-library.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import math
import os
import shutil
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps
from PIL.TiffImagePlugin import IFDRational

from curation.records import TimeSource

GENERATOR = "curation-studio-demo/1"
MANIFEST_NAME = "manifest.json"
JPEG_QUALITY = 85
SCREEN_SIZE = (1170, 2532)  # iPhone 12/13/14 screenshot, portrait

# EXIF tag ids (Pillow has no names for the nested-IFD tags we write).
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825


# --------------------------------------------------------------------------- records


class DemoLibraryError(ValueError):
    """A bad argument or output folder. A ValueError, so callers that already catch
    ValueError (the dashboard's run step) show the message instead of a traceback."""


class FileKind(StrEnum):
    PHOTO = "photo"
    SCREENSHOT = "screenshot"  # clutter
    RECEIPT = "receipt"  # clutter
    BAD = "bad"  # deliberately unreadable


class BadKind(StrEnum):
    EMPTY = "empty"  # zero bytes
    TRUNCATED = "truncated"  # a JPEG cut short, as after an interrupted copy
    NOT_AN_IMAGE = "not_an_image"  # text with an image extension


@dataclass(frozen=True)
class DemoSource:
    """A real photo shipped inside an installed package."""

    name: str
    package: str
    file: str  # path inside the package
    licence: str
    credit: str

    @property
    def needs_attribution(self) -> bool:
        return self.licence.startswith("CC BY")


@dataclass(frozen=True)
class DemoTrip:
    trip_id: str
    title: str
    start: date  # first day away
    end: date  # last day away
    cities: tuple[str, ...]
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class DemoEvent:
    event_id: str
    title: str
    place: str  # city or named spot (e.g. "Cascais")
    lat: float  # centre the photos' GPS jitters around
    lon: float
    start: datetime  # local wall-clock time of the first photo, naive
    end: datetime  # ... of the last photo
    tz_offset_min: int
    trip_id: str | None


@dataclass(frozen=True)
class DemoFile:
    """One file of the demo library and the ground truth about it."""

    rel_path: str  # POSIX, relative to the library root
    kind: FileKind
    source: str | None  # DemoSource.name the pixels come from; None when drawn from scratch
    taken_at: datetime | None  # true local wall-clock capture time, naive
    tz_offset_min: int | None  # true offset, minutes east of UTC
    time_source: TimeSource  # where the file itself records the time (NONE: nowhere)
    offset_written: bool  # OffsetTimeOriginal is in the EXIF
    camera_make: str | None  # as written in EXIF
    camera_model: str | None
    lat: float | None  # as written in the GPS IFD; None when the file has no GPS
    lon: float | None
    alt: float | None
    orientation: int  # EXIF Orientation written (1 when none)
    width: int | None  # displayed size, after orientation
    height: int | None
    event_id: str | None
    trip_id: str | None
    burst_id: str | None  # near-identical frames shot within a second or two
    duplicate_of: str | None  # rel_path of the byte-identical original
    bad: BadKind | None
    size_bytes: int
    sha256: str

    @property
    def is_clutter(self) -> bool:
        return self.kind in (FileKind.SCREENSHOT, FileKind.RECEIPT)

    @property
    def taken_at_utc(self) -> datetime | None:
        if self.taken_at is None or self.tz_offset_min is None:
            return None
        return self.taken_at - timedelta(minutes=self.tz_offset_min)


@dataclass(frozen=True)
class DemoManifest:
    generator: str
    seed: int
    home: str
    home_lat: float
    home_lon: float
    sources: tuple[DemoSource, ...]
    trips: tuple[DemoTrip, ...]
    events: tuple[DemoEvent, ...]
    files: tuple[DemoFile, ...]

    @property
    def photos(self) -> tuple[DemoFile, ...]:
        return tuple(f for f in self.files if f.kind is FileKind.PHOTO)

    @property
    def clutter(self) -> tuple[DemoFile, ...]:
        return tuple(f for f in self.files if f.is_clutter)

    @property
    def bad_files(self) -> tuple[DemoFile, ...]:
        return tuple(f for f in self.files if f.kind is FileKind.BAD)

    @property
    def total_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    def file(self, rel_path: str) -> DemoFile:
        for f in self.files:
            if f.rel_path == rel_path:
                return f
        raise KeyError(f"{rel_path!r} is not in the demo manifest")

    def to_json(self) -> str:
        return json.dumps(_jsonable(asdict(self)), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DemoManifest:
        raw = json.loads(text)
        return cls(
            generator=raw["generator"],
            seed=raw["seed"],
            home=raw["home"],
            home_lat=raw["home_lat"],
            home_lon=raw["home_lon"],
            sources=tuple(DemoSource(**s) for s in raw["sources"]),
            trips=tuple(
                DemoTrip(
                    trip_id=t["trip_id"],
                    title=t["title"],
                    start=date.fromisoformat(t["start"]),
                    end=date.fromisoformat(t["end"]),
                    cities=tuple(t["cities"]),
                    event_ids=tuple(t["event_ids"]),
                )
                for t in raw["trips"]
            ),
            events=tuple(
                DemoEvent(
                    **{
                        **e,
                        "start": datetime.fromisoformat(e["start"]),
                        "end": datetime.fromisoformat(e["end"]),
                    }
                )
                for e in raw["events"]
            ),
            files=tuple(
                DemoFile(
                    **{
                        **f,
                        "kind": FileKind(f["kind"]),
                        "taken_at": None if f["taken_at"] is None else datetime.fromisoformat(f["taken_at"]),
                        "time_source": TimeSource(f["time_source"]),
                        "bad": None if f["bad"] is None else BadKind(f["bad"]),
                    }
                )
                for f in raw["files"]
            ),
        )


def load_manifest(library: Path) -> DemoManifest:
    """Read the manifest of a demo library folder (or of the manifest file itself)."""
    path = library / MANIFEST_NAME if library.is_dir() else library
    if not path.is_file():
        raise FileNotFoundError(f"No demo manifest at {path}; build one with build_demo_library().")
    return DemoManifest.from_json(path.read_text(encoding="utf-8"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


# --------------------------------------------------------------------------- the real photos

# Only photos that look like something a person would shoot; the microscopy, retina,
# Hubble and texture images in skimage.data are left out on purpose.
SOURCES: tuple[DemoSource, ...] = (
    DemoSource("astronaut", "skimage", "data/astronaut.png", "public domain",
               "NASA: Eileen Collins (scikit-image sample data)"),
    DemoSource("chelsea", "skimage", "data/chelsea.png", "CC0",
               "Stefan van der Walt: Chelsea the cat (scikit-image sample data)"),
    DemoSource("coffee", "skimage", "data/coffee.png", "CC0",
               "Rachel Michetti, courtesy of Pikolo Espresso Bar (scikit-image sample data)"),
    DemoSource("rocket", "skimage", "data/rocket.jpg", "public domain",
               "SpaceX: DSCOVR launch on Falcon 9 (scikit-image sample data)"),
    DemoSource("motorcycle", "skimage", "data/motorcycle_left.png",
               "not stated (Middlebury 2014 stereo benchmark; scikit-image ships only CC0/PD data)",
               "Scharstein et al., Middlebury College (scikit-image sample data)"),
    DemoSource("china", "sklearn", "datasets/images/china.jpg", "CC BY 2.0",
               "danielbuechele on Flickr, CC BY 2.0 (scikit-learn sample images)"),
    DemoSource("flower", "sklearn", "datasets/images/flower.jpg", "CC BY 2.0",
               "vultilion on Flickr, CC BY 2.0 (scikit-learn sample images)"),
)
_SOURCE_BY_NAME = {s.name: s for s in SOURCES}
_INSTALL_HINT = {"skimage": "scikit-image", "sklearn": "scikit-learn"}


def source_path(source: DemoSource) -> Path:
    """Where the package keeps the file. find_spec locates it without importing the package."""
    spec = importlib.util.find_spec(source.package)
    if spec is None or spec.origin is None:
        raise ImportError(
            f"The demo library needs {source.package!r} for its sample photos; "
            f"install it with `pip install {_INSTALL_HINT[source.package]}`."
        )
    path = Path(spec.origin).parent / source.file
    if not path.is_file():
        raise DemoLibraryError(
            f"{source.package} no longer ships {source.file} (looked at {path}); "
            f"drop {source.name!r} from curation.demo.library.SOURCES."
        )
    return path


def _load_sources() -> dict[str, Image.Image]:
    images = {}
    for source in SOURCES:
        with Image.open(source_path(source)) as im:
            images[source.name] = im.convert("RGB")
    return images


# --------------------------------------------------------------------------- places and time


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    alt_m: float
    std_offset_min: int  # winter offset; every city here follows the EU summer-time rule
    airport: str
    day_out: tuple[str, str, float, float] | None = None  # (title, place, lat, lon), near home


CITIES: dict[str, City] = {
    c.name: c
    for c in (
        City("Lisbon", 38.7223, -9.1393, 45, 0, "LIS", ("Beach day in Cascais", "Cascais", 38.6967, -9.4207)),
        City("Porto", 41.1496, -8.6110, 80, 0, "OPO", ("Beach day in Matosinhos", "Matosinhos", 41.1780, -8.6907)),
        City("Paris", 48.8566, 2.3522, 35, 60, "CDG", ("Day out in Versailles", "Versailles", 48.8049, 2.1204)),
        City("Rome", 41.9028, 12.4964, 30, 60, "FCO", ("Beach day in Ostia", "Ostia", 41.7330, 12.2870)),
        City("Berlin", 52.5200, 13.4050, 35, 60, "BER", ("Day at the Wannsee", "Wannsee", 52.4370, 13.1770)),
        City("London", 51.5074, -0.1278, 20, 0, "LHR", ("Day out in Richmond Park", "Richmond", 51.4425, -0.2760)),
        City("Seville", 37.3891, -5.9845, 10, 60, "SVQ"),
        City("Córdoba", 37.8882, -4.7794, 120, 60, "ODB"),
        City("Granada", 37.1773, -3.5986, 740, 60, "GRX"),
    )
}
HOME_CITIES = tuple(name for name, c in CITIES.items() if c.day_out is not None)
_TRIP_MIN_KM = 150  # a trip destination must be at least this far from home


def _last_sunday(year: int, month: int) -> date:
    d = date(year, month + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def utc_offset_min(city: City, local: datetime) -> int:
    """The city's offset at a local time. The EU rule (summer time from 01:00 UTC on the
    last Sunday of March to the last Sunday of October) is spelled out rather than read
    from the tz database so the library is identical on machines without tzdata."""
    utc = local - timedelta(minutes=city.std_offset_min)
    start = datetime.combine(_last_sunday(local.year, 3), datetime.min.time()) + timedelta(hours=1)
    end = datetime.combine(_last_sunday(local.year, 10), datetime.min.time()) + timedelta(hours=1)
    return city.std_offset_min + (60 if start <= utc < end else 0)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# --------------------------------------------------------------------------- cameras


@dataclass(frozen=True)
class _Camera:
    make: str
    model: str
    software: str
    stored_size: tuple[int, int]  # landscape sensor frame, as written to disk
    portrait_orientation: int  # how a portrait shot is stored: 6/8 sideways + tag, 1 upright pixels
    gps: bool
    writes_offset: bool


_IPHONE = _Camera("Apple", "iPhone 12", "15.4.1", (1280, 960), 6, gps=True, writes_offset=True)
_PIXEL = _Camera("Google", "Pixel 7", "HDR+ 1.0.540104767z", (1280, 960), 1, gps=True, writes_offset=True)
# A travel camera without GPS that only records local time, like many real ones.
_FUJI = _Camera("FUJIFILM", "X-T30", "Digital Camera X-T30 Ver2.00", (1200, 800), 8, gps=False, writes_offset=False)


def _phone_for(day: date) -> _Camera:
    return _IPHONE if day.year < 2024 else _PIXEL


# --------------------------------------------------------------------------- the plan


class _Special(StrEnum):
    FILENAME_DATE = "filename_date"  # IMG_YYYYMMDD_HHMMSS.jpg, EXIF without dates or GPS
    FILENAME_DATE_NO_EXIF = "filename_date_no_exif"  # same name, no EXIF at all
    XMP_DATE = "xmp_date"  # the date only in an XMP packet


@dataclass(frozen=True)
class _EventSpec:
    key: str
    title: str
    city: str | None  # None: the home city, or its day-out spot when day_out is set
    day: date
    start_hour: float
    hours: float
    n: int
    sources: tuple[str, ...]
    indoor: bool = False  # phones get no GPS fix
    portraits: int = 0
    burst: int = 0  # frames in one near-duplicate burst
    camera_share: int = 0  # photos taken with the travel camera instead of the phone
    camera_portraits: int = 0  # of the portraits, how many are the travel camera's
    specials: tuple[_Special, ...] = ()
    day_out: bool = False
    duplicate_first: bool = False  # its first photo is also saved as "IMG_nnnn (1).JPG"


@dataclass(frozen=True)
class _ReceiptSpec:
    day: date
    hour: float
    city: str | None  # None: home
    shop: str
    address: str
    items: tuple[str, ...]
    thanks: str


@dataclass(frozen=True)
class _TripSpec:
    key: str
    title: str
    events: tuple[_EventSpec, ...]
    receipt: _ReceiptSpec

    @property
    def cities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.city for e in self.events if e.city))

    @property
    def start(self) -> date:
        return min(e.day for e in self.events)

    @property
    def end(self) -> date:
        return max(e.day for e in self.events)


_HOME_EVENTS: tuple[_EventSpec, ...] = (
    _EventSpec("coffee", "Coffee with friends", None, date(2022, 3, 19), 10.5, 2.0, 4,
               ("coffee", "astronaut", "chelsea"), specials=(_Special.XMP_DATE,)),
    _EventSpec("day-out", "", None, date(2022, 8, 13), 11.0, 5.0, 8,
               ("flower", "astronaut", "motorcycle", "coffee"), portraits=1, burst=4, day_out=True),
    _EventSpec("cat", "Sunday with the cat", None, date(2022, 10, 2), 15.0, 2.0, 4,
               ("chelsea", "coffee"), indoor=True, portraits=2, duplicate_first=True),
    _EventSpec("motorbike", "Motorbike morning", None, date(2023, 6, 24), 9.5, 3.0, 3,
               ("motorcycle", "coffee", "rocket")),
    _EventSpec("christmas-2023", "Christmas Eve", None, date(2023, 12, 24), 19.0, 4.0, 6,
               ("chelsea", "coffee", "astronaut", "flower"), indoor=True, portraits=2,
               specials=(_Special.FILENAME_DATE,)),
    _EventSpec("birthday", "Birthday party", None, date(2024, 2, 10), 16.0, 3.0, 4,
               ("astronaut", "coffee", "flower"), indoor=True,
               specials=(_Special.FILENAME_DATE_NO_EXIF,)),
    _EventSpec("christmas-2024", "Christmas Eve", None, date(2024, 12, 24), 18.5, 3.5, 4,
               ("chelsea", "coffee", "astronaut"), indoor=True, portraits=1),
)

# Trips are taken in this order, skipping any that go near the home city, at most three.
_TRIP_POOL: tuple[_TripSpec, ...] = (
    _TripSpec("porto", "Weekend in Porto", (
        _EventSpec("porto-ribeira", "Evening at the Ribeira", "Porto", date(2022, 6, 10), 18.0, 2.5, 4,
                   ("china", "coffee", "flower"), portraits=1),
        _EventSpec("porto-gardens", "Gardens and the river", "Porto", date(2022, 6, 11), 10.5, 3.0, 4,
                   ("flower", "china", "astronaut")),
        _EventSpec("porto-brunch", "Sunday brunch", "Porto", date(2022, 6, 12), 11.0, 2.0, 3,
                   ("coffee", "motorcycle")),
    ), _ReceiptSpec(date(2022, 6, 11), 14.25, "Porto", "TASCA DO RIO", "Rua da Ribeira 12, Porto",
                    ("Francesinha", "Caldo verde", "Vinho verde 0.5L", "Agua 0.5L", "Cafe x2"), "Obrigado!")),
    _TripSpec("paris", "A week in Paris", (
        _EventSpec("paris-arrival", "Arrival in Paris", "Paris", date(2023, 4, 15), 17.0, 2.0, 3,
                   ("china", "coffee")),
        _EventSpec("paris-tower", "Around the Eiffel Tower", "Paris", date(2023, 4, 16), 10.0, 3.0, 4,
                   ("rocket", "china", "astronaut"), portraits=1, camera_share=2),
        _EventSpec("paris-museum", "A day at the museum", "Paris", date(2023, 4, 17), 14.0, 2.0, 4,
                   ("astronaut", "china", "flower"), indoor=True, camera_share=2),
        _EventSpec("paris-montmartre", "Montmartre", "Paris", date(2023, 4, 19), 16.0, 3.0, 5,
                   ("flower", "motorcycle", "coffee"), burst=3, camera_share=1),
        _EventSpec("paris-last-day", "Last day by the Seine", "Paris", date(2023, 4, 21), 11.0, 2.0, 3,
                   ("china", "coffee")),
    ), _ReceiptSpec(date(2023, 4, 18), 20.5, "Paris", "BRASSERIE DU CANAL", "42 quai de Jemmapes, Paris",
                    ("Soupe a l'oignon", "Steak frites", "Creme brulee", "Verre de vin", "Cafe"), "Merci !")),
    _TripSpec("andalusia", "Road trip through Andalusia", (
        _EventSpec("seville-evening", "First evening in Seville", "Seville", date(2024, 5, 2), 17.5, 3.0, 4,
                   ("china", "flower", "coffee"), portraits=1),
        _EventSpec("seville-alcazar", "The Alcázar", "Seville", date(2024, 5, 3), 10.0, 3.0, 4,
                   ("flower", "china", "astronaut"), camera_share=2),
        _EventSpec("cordoba-mezquita", "The Mezquita", "Córdoba", date(2024, 5, 5), 11.0, 2.5, 4,
                   ("china", "rocket"), camera_share=1),
        _EventSpec("granada-alhambra", "The Alhambra", "Granada", date(2024, 5, 6), 9.5, 4.0, 4,
                   ("china", "flower", "astronaut"), portraits=1, camera_share=2, camera_portraits=1),
        _EventSpec("granada-albaicin", "Sunset over the Albaicín", "Granada", date(2024, 5, 7), 18.0, 2.0, 3,
                   ("flower", "motorcycle")),
    ), _ReceiptSpec(date(2024, 5, 5), 14.5, "Córdoba", "BODEGA LA JUDERIA", "Calle Deanes 3, Cordoba",
                    ("Salmorejo", "Flamenquin", "Berenjenas", "Cana x2", "Agua"), "Gracias")),
    _TripSpec("rome", "Long weekend in Rome", (
        _EventSpec("rome-forum", "The Forum", "Rome", date(2023, 9, 22), 10.0, 3.0, 5,
                   ("china", "rocket", "astronaut")),
        _EventSpec("rome-trastevere", "Trastevere", "Rome", date(2023, 9, 23), 18.0, 3.0, 5,
                   ("coffee", "flower", "motorcycle")),
        _EventSpec("rome-vatican", "The Vatican", "Rome", date(2023, 9, 24), 9.0, 3.0, 4,
                   ("china", "astronaut"), indoor=True),
    ), _ReceiptSpec(date(2023, 9, 23), 13.0, "Rome", "TRATTORIA DA LUCIA", "Vicolo del Mattonato 2, Roma",
                    ("Cacio e pepe", "Carbonara", "Carciofi", "Vino rosso", "Acqua"), "Grazie!")),
)
_MAX_TRIPS = 3
_HOME_RECEIPT = _ReceiptSpec(date(2023, 3, 8), 18.6, None, "MERCEARIA DO BAIRRO", "Rua Nova 8",
                             ("Pao", "Leite 1L", "Queijo", "Tomates", "Azeite 0.75L", "Bananas", "Iogurtes x4"),
                             "Thank you!")


def _trips_for(home: City) -> tuple[_TripSpec, ...]:
    far = [
        t for t in _TRIP_POOL
        if all(distance_km(home.lat, home.lon, CITIES[c].lat, CITIES[c].lon) >= _TRIP_MIN_KM for c in t.cities)
    ]
    return tuple(far[:_MAX_TRIPS])


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class _Look:
    """How one variant is cut from its source photo."""

    mirror: bool
    brightness: float
    contrast: float
    colour: float
    angle: float  # degrees, small
    zoom: float  # share of the largest crop with the output's aspect
    cx: float  # crop centre, 0..1 of the free range
    cy: float

    @classmethod
    def random(cls, rng: np.random.Generator) -> _Look:
        return cls(
            mirror=bool(rng.random() < 0.3),
            brightness=float(rng.uniform(0.85, 1.15)),
            contrast=float(rng.uniform(0.9, 1.1)),
            colour=float(rng.uniform(0.85, 1.2)),
            # Half the shots are level; the rest tilt a little, as hand-held ones do.
            angle=float(rng.uniform(-3.5, 3.5)) if rng.random() < 0.5 else 0.0,
            zoom=float(rng.uniform(0.6, 0.97)),
            cx=float(rng.random()),
            cy=float(rng.random()),
        )

    def nudged(self, rng: np.random.Generator) -> _Look:
        """The next frame of a burst: the hand moved a little, the exposure barely."""
        return replace(
            self,
            brightness=self.brightness * float(rng.uniform(0.98, 1.02)),
            angle=self.angle + float(rng.uniform(-0.3, 0.3)),
            zoom=min(0.99, self.zoom * float(rng.uniform(0.99, 1.01))),
            cx=min(1.0, max(0.0, self.cx + float(rng.uniform(-0.02, 0.02)))),
            cy=min(1.0, max(0.0, self.cy + float(rng.uniform(-0.02, 0.02)))),
        )


def render_variant(src: Image.Image, look: _Look, size: tuple[int, int]) -> Image.Image:
    """Crop, tilt and scale ``src`` to ``size``.

    Colour changes and the tilt are applied to the small source (cheap), then one
    ``resize(box=...)`` crops and upscales; Pillow's general affine transform is ~20x
    slower at camera sizes. The crop shrinks until the tilted rectangle fits inside the
    source, so no black corners appear.
    """
    img = ImageOps.mirror(src) if look.mirror else src
    img = ImageEnhance.Brightness(img).enhance(look.brightness)
    img = ImageEnhance.Contrast(img).enhance(look.contrast)
    img = ImageEnhance.Color(img).enhance(look.colour)
    sw, sh = img.size
    ow, oh = size
    aspect = ow / oh
    cw = min(sw, sh * aspect) * look.zoom
    ch = cw / aspect
    theta = math.radians(look.angle)
    c, s = abs(math.cos(theta)), abs(math.sin(theta))
    hx = cw / 2 * c + ch / 2 * s  # half extent of the tilted crop, axis-aligned
    hy = cw / 2 * s + ch / 2 * c
    k = min(1.0, (sw / 2) / hx, (sh / 2) / hy)
    cw, ch, hx, hy = cw * k, ch * k, hx * k, hy * k
    cx = hx + look.cx * (sw - 2 * hx)
    cy = hy + look.cy * (sh - 2 * hy)
    if look.angle:
        # Bilinear is enough for a few degrees on the small source and 3x faster than bicubic.
        img = img.rotate(look.angle, resample=Image.Resampling.BILINEAR, center=(cx, cy))
    box = (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)
    return img.resize(size, Image.Resampling.BICUBIC, box=box)


# What exif_transpose applies for each orientation, inverted: the stored pixels are the
# upright picture turned the other way, as a camera held sideways records them.
_STORE_TRANSPOSE = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def store_oriented(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera writes for an upright picture tagged with ``orientation``."""
    if orientation == 1:
        return upright
    if orientation not in _STORE_TRANSPOSE:
        raise ValueError(f"orientation {orientation} is not one of 1, 3, 6, 8")
    return upright.transpose(_STORE_TRANSPOSE[orientation])


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: no system fonts, so the demo renders the same everywhere.
    return ImageFont.load_default(size=size)


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in 0..1: a few random cells scaled up smoothly."""
    w, h = size
    grid = (rng.random((cells, max(2, cells * h // w))) * 255).astype(np.uint8)
    img = Image.fromarray(grid.T, "L").resize(size, Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def render_receipt(rng: np.random.Generator, spec: _ReceiptSpec, when: datetime) -> Image.Image:
    """A paper receipt lying slightly askew on a wooden table, 1200x1600 upright."""
    w, h = 1200, 1600
    yy = np.arange(h, dtype=np.float32)[:, None]
    grain = 0.5 + 0.5 * np.sin(yy / 9.0 + 6.0 * _smooth_noise(rng, (w, h), 6))
    shade = 0.75 + 0.25 * _smooth_noise(rng, (w, h), 3)
    base = np.array([104, 70, 42], dtype=np.float32)
    table = (base * (0.8 + 0.25 * grain)[..., None] * shade[..., None]).clip(0, 255).astype(np.uint8)
    canvas = Image.fromarray(table, "RGB")

    pw, ph = 640, 1180
    paper = Image.new("RGBA", (pw, ph), (246, 244, 238, 255))
    draw = ImageDraw.Draw(paper)
    ink = (40, 40, 45, 255)
    big, small = _font(44), _font(30)
    y = 50
    draw.text((pw / 2, y), spec.shop, font=big, fill=ink, anchor="mt")
    y += 70
    for line in (spec.address, "NIF 509 123 456", when.strftime("%d/%m/%Y  %H:%M")):
        draw.text((pw / 2, y), line, font=small, fill=ink, anchor="mt")
        y += 44
    y += 20
    draw.line((40, y, pw - 40, y), fill=ink, width=2)
    y += 30
    total = 0.0
    for item in spec.items:
        price = round(float(rng.uniform(0.9, 16.0)), 2)
        total += price
        draw.text((50, y), item, font=small, fill=ink)
        draw.text((pw - 50, y), f"{price:.2f}", font=small, fill=ink, anchor="ra")
        y += 48
    y += 10
    draw.line((40, y, pw - 40, y), fill=ink, width=2)
    y += 30
    draw.text((50, y), "TOTAL EUR", font=big, fill=ink)
    draw.text((pw - 50, y), f"{total:.2f}", font=big, fill=ink, anchor="ra")
    y += 90
    draw.text((pw / 2, y), spec.thanks, font=small, fill=ink, anchor="mt")
    paper = paper.crop((0, 0, pw, min(ph, y + 110)))  # the till cuts the paper after the text

    angle = float(rng.uniform(-7, 7))
    paper = paper.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    shadow = Image.new("L", paper.size, 0)
    shadow.paste(paper.getchannel("A").point(lambda v: v * 0.6), (0, 0))
    shadow = shadow.filter(ImageFilter.GaussianBlur(14))
    x0 = (w - paper.width) // 2 + int(rng.integers(-40, 40))
    y0 = (h - paper.height) // 2 + int(rng.integers(-30, 30))
    canvas.paste((20, 12, 6), (x0 + 18, y0 + 22), shadow)
    canvas.paste(paper, (x0, y0), paper)
    return canvas


def _status_bar(draw: ImageDraw.ImageDraw, when: datetime, dark: bool) -> None:
    fg = (255, 255, 255) if dark else (20, 20, 20)
    draw.text((90, 60), when.strftime("%H:%M"), font=_font(48), fill=fg)
    draw.rounded_rectangle((960, 62, 1060, 108), radius=12, outline=fg, width=4)
    draw.rounded_rectangle((968, 70, 1030, 100), radius=6, fill=fg)
    for i, bar in enumerate((14, 22, 30, 38)):
        draw.rectangle((800 + i * 22, 106 - bar, 814 + i * 22, 106), fill=fg)


def render_screenshot(rng: np.random.Generator, style: str, when: datetime, home: City,
                      trip_city: City | None) -> Image.Image:
    """A phone screenshot: a chat, a boarding pass or a settings page."""
    w, h = SCREEN_SIZE
    if style == "chat":
        img = Image.new("RGB", (w, h), (236, 229, 221))
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, w, 300), fill=(7, 94, 84))
        _status_bar(draw, when, dark=True)
        draw.ellipse((60, 175, 160, 275), fill=(200, 200, 200))
        draw.text((190, 195), "Ana", font=_font(56), fill=(255, 255, 255))
        lines = ("Are we still on for Saturday?", "Yes! 10:30 at the usual place",
                 "Bring the cat pictures", "Haha ok", "Don't forget the charger",
                 "See you there", "Running 5 min late, sorry!", "No worries")
        y = 380
        for i, text in enumerate(lines):
            mine = i % 2 == 1
            tw = int(_font(44).getlength(text)) + 80
            x0 = w - 60 - tw if mine else 60
            fill = (220, 248, 198) if mine else (255, 255, 255)
            draw.rounded_rectangle((x0, y, x0 + tw, y + 110), radius=30, fill=fill)
            draw.text((x0 + 40, y + 30), text, font=_font(44), fill=(30, 30, 30))
            y += 150 + int(rng.integers(0, 60))
        draw.rectangle((0, h - 220, w, h), fill=(246, 246, 246))
        draw.rounded_rectangle((60, h - 190, w - 200, h - 90), radius=50, fill=(255, 255, 255))
    elif style == "boarding_pass":
        img = Image.new("RGB", (w, h), (242, 242, 247))
        draw = ImageDraw.Draw(img)
        _status_bar(draw, when, dark=False)
        draw.rounded_rectangle((70, 260, w - 70, h - 300), radius=50, fill=(255, 255, 255))
        draw.rounded_rectangle((70, 260, w - 70, 560), radius=50, fill=(0, 84, 166))
        draw.text((130, 320), "BOARDING PASS", font=_font(52), fill=(255, 255, 255))
        dest = trip_city or home
        draw.text((130, 640), home.airport, font=_font(110), fill=(20, 20, 20))
        draw.text((w - 130, 640), dest.airport, font=_font(110), fill=(20, 20, 20), anchor="ra")
        # Drawn, not typed: Pillow's bundled font has no arrow glyph.
        draw.line((470, 700, 680, 700), fill=(0, 84, 166), width=8)
        draw.polygon(((700, 700), (665, 676), (665, 724)), fill=(0, 84, 166))
        draw.text((130, 800), f"{home.name} to {dest.name}", font=_font(48), fill=(90, 90, 90))
        for i, (k, v) in enumerate((("Flight", "TP 1234"), ("Date", when.strftime("%d %b %Y")),
                                    ("Boarding", (when + timedelta(hours=2)).strftime("%H:%M")),
                                    ("Seat", "14C"))):
            x = 130 + (i % 2) * 480
            y = 960 + (i // 2) * 200
            draw.text((x, y), k.upper(), font=_font(36), fill=(120, 120, 120))
            draw.text((x, y + 55), v, font=_font(64), fill=(20, 20, 20))
        code = rng.random((29, 29)) < 0.5
        qr = Image.fromarray(np.where(code, 0, 255).astype(np.uint8), "L").resize(
            (580, 580), Image.Resampling.NEAREST)
        img.paste(qr, ((w - 580) // 2, 1450))
    else:  # settings
        img = Image.new("RGB", (w, h), (242, 242, 247))
        draw = ImageDraw.Draw(img)
        _status_bar(draw, when, dark=False)
        draw.text((70, 230), "Settings", font=_font(96), fill=(0, 0, 0))
        rows = (("Airplane Mode", (255, 149, 0)), ("Wi-Fi", (0, 122, 255)), ("Bluetooth", (0, 122, 255)),
                ("Mobile Data", (52, 199, 89)), ("Notifications", (255, 59, 48)), ("Sounds", (255, 45, 85)),
                ("Focus", (88, 86, 214)), ("Screen Time", (88, 86, 214)), ("General", (142, 142, 147)),
                ("Display", (0, 122, 255)), ("Wallpaper", (50, 173, 230)), ("Battery", (52, 199, 89)),
                ("Privacy", (0, 122, 255)))
        y = 420
        for i, (label, colour) in enumerate(rows):
            if i in (4, 8):
                y += 70
            draw.rectangle((40, y, w - 40, y + 140), fill=(255, 255, 255))
            draw.rounded_rectangle((80, y + 30, 160, y + 110), radius=18, fill=colour)
            draw.text((200, y + 45), label, font=_font(50), fill=(0, 0, 0))
            draw.text((w - 110, y + 40), "›", font=_font(60), fill=(190, 190, 190))
            y += 142
    # The home indicator every modern iPhone/Android screenshot has.
    ImageDraw.Draw(img).rounded_rectangle((w // 2 - 200, h - 40, w // 2 + 200, h - 26), radius=7, fill=(0, 0, 0))
    return img


# --------------------------------------------------------------------------- metadata writing


def _exif_time(t: datetime) -> str:
    return t.strftime("%Y:%m:%d %H:%M:%S")


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _to_dms(value: float) -> tuple[tuple[IFDRational, IFDRational, IFDRational], float]:
    """Degrees, minutes and hundredths of seconds as EXIF rationals, and the value they
    decode to (what a reader will see, which the manifest records)."""
    hundredths = round(abs(value) * 3600 * 100)
    deg, rest = divmod(hundredths, 360_000)
    minutes, sec = divmod(rest, 6_000)
    written = math.copysign(hundredths / 360_000, value)
    return (IFDRational(deg, 1), IFDRational(minutes, 1), IFDRational(sec, 100)), written


@dataclass(frozen=True)
class _Gps:
    lat: float
    lon: float
    alt: float


def _build_exif(
    camera: _Camera,
    *,
    taken_at: datetime | None,
    tz_offset_min: int,
    gps: _Gps | None,
    orientation: int,
    stored_size: tuple[int, int],
    source: DemoSource | None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = camera.make
    exif[0x0110] = camera.model
    exif[0x0112] = orientation
    exif[0x011A] = IFDRational(72, 1)  # XResolution
    exif[0x011B] = IFDRational(72, 1)  # YResolution
    exif[0x0128] = 2  # ResolutionUnit: inches
    exif[0x0131] = camera.software
    exif[0x0213] = 1  # YCbCrPositioning: centred
    if source is not None and source.needs_attribution:
        # CC BY pixels carry their credit with them, wherever the file goes.
        exif[0x8298] = source.credit  # Copyright
    ifd = exif.get_ifd(_IFD_EXIF)
    ifd[0x9000] = b"0232"  # ExifVersion
    # ComponentsConfiguration is left out: Pillow would type it BYTE, not UNDEFINED.
    ifd[0xA000] = b"0100"  # FlashpixVersion
    ifd[0xA001] = 1  # ColorSpace: sRGB
    ifd[0xA002] = stored_size[0]  # PixelXDimension
    ifd[0xA003] = stored_size[1]  # PixelYDimension
    if taken_at is not None:
        exif[0x0132] = _exif_time(taken_at)  # DateTime
        ifd[0x9003] = _exif_time(taken_at)  # DateTimeOriginal
        ifd[0x9004] = _exif_time(taken_at)  # DateTimeDigitized
        subsec = f"{taken_at.microsecond // 1000:03d}"
        ifd[0x9291] = subsec  # SubSecTimeOriginal
        ifd[0x9292] = subsec  # SubSecTimeDigitized
        if camera.writes_offset:
            for tag in (0x9010, 0x9011, 0x9012):  # OffsetTime, ...Original, ...Digitized
                ifd[tag] = _offset_text(tz_offset_min)
    if gps is not None and taken_at is not None:
        g = exif.get_ifd(_IFD_GPS)
        g[0x0000] = b"\x02\x03\x00\x00"  # GPSVersionID 2.3
        g[0x0001] = "N" if gps.lat >= 0 else "S"
        g[0x0002] = _to_dms(gps.lat)[0]
        g[0x0003] = "E" if gps.lon >= 0 else "W"
        g[0x0004] = _to_dms(gps.lon)[0]
        g[0x0005] = b"\x00" if gps.alt >= 0 else b"\x01"  # above / below sea level
        g[0x0006] = IFDRational(round(abs(gps.alt) * 10), 10)
        utc = taken_at - timedelta(minutes=tz_offset_min)
        g[0x0007] = (IFDRational(utc.hour, 1), IFDRational(utc.minute, 1), IFDRational(utc.second, 1))
        g[0x001D] = utc.strftime("%Y:%m:%d")  # GPSDateStamp
    return exif


def _xmp_packet(taken_at: datetime, tz_offset_min: int) -> bytes:
    stamp = taken_at.isoformat(timespec="milliseconds") + _offset_text(tz_offset_min)
    # The three properties readers look for; an editing app writes all of them.
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '   xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '   xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
        '   xmlns:exif="http://ns.adobe.com/exif/1.0/"\n'
        '   xmp:CreatorTool="Photos 7.0"\n'
        f'   xmp:CreateDate="{stamp}"\n'
        f'   photoshop:DateCreated="{stamp}"\n'
        f'   exif:DateTimeOriginal="{stamp}"/>\n'
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode("utf-8")


def _encode_jpeg(img: Image.Image, exif: Image.Exif | None = None, xmp: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {"quality": JPEG_QUALITY, "dpi": (72, 72)}
    if exif is not None:
        kwargs["exif"] = exif
    img.save(buf, "JPEG", **kwargs)
    data = buf.getvalue()
    return data if xmp is None else _insert_xmp(data, xmp)


def _insert_xmp(jpeg: bytes, packet: bytes) -> bytes:
    """Add an XMP APP1 segment by hand: Pillow's ``save(xmp=...)`` only exists from 11.0
    and older versions (the project allows >= 10.3) silently drop the argument."""
    body = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    segment = b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body
    pos = 2  # after SOI
    if jpeg[2:4] == b"\xff\xe0":  # JFIF APP0 must stay first
        pos = 4 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:pos] + segment + jpeg[pos:]


def _encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


# --------------------------------------------------------------------------- building


def _rng(seed: int, key: str) -> np.random.Generator:
    # One stream per event/file keyed by name, so changing one part of the plan (or the
    # home city, which changes the trips) leaves the other parts' pixels alone.
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


@dataclass
class _Shot:
    """A planned photo, before it has a file name."""

    taken_at: datetime
    tz_offset_min: int
    camera: _Camera
    source: str
    look: _Look
    portrait: bool
    gps: _Gps | None
    special: _Special | None = None
    burst_id: str | None = None
    duplicate: bool = False
    name: str = ""


@dataclass
class _Written:
    """Files as they are produced, turned into DemoFile at the end."""

    files: list[DemoFile] = field(default_factory=list)
    blobs: dict[str, tuple[bytes, datetime | None]] = field(default_factory=dict)

    def add(self, rel_path: str, data: bytes, mtime_utc: datetime | None, **fields: Any) -> DemoFile:
        if rel_path in self.blobs:
            raise RuntimeError(f"demo plan wrote {rel_path} twice")
        self.blobs[rel_path] = (data, mtime_utc)
        record = DemoFile(
            rel_path=rel_path,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            **fields,
        )
        self.files.append(record)
        return record


def _jitter(rng: np.random.Generator, lat: float, lon: float, metres: float) -> tuple[float, float]:
    dy, dx = rng.normal(0.0, metres, 2)
    return (
        lat + dy / 111_320.0,
        lon + dx / (111_320.0 * math.cos(math.radians(lat))),
    )


def _plan_event(
    spec: _EventSpec, event_id: str, seed: int, home: City, trip_id: str | None
) -> tuple[DemoEvent, list[_Shot]]:
    rng = _rng(seed, spec.key)
    if spec.city is not None:
        city = CITIES[spec.city]
        title, place = spec.title, city.name
        centre = _jitter(rng, city.lat, city.lon, 900.0)  # somewhere in the centre
    elif spec.day_out:
        assert home.day_out is not None
        title, place, lat, lon = home.day_out
        city = home
        centre = _jitter(rng, lat, lon, 250.0)
    else:
        city, title, place = home, spec.title, home.name
        centre = _jitter(rng, home.lat, home.lon, 1500.0)

    start = datetime.combine(spec.day, datetime.min.time()) + timedelta(
        hours=spec.start_hour, minutes=float(rng.uniform(-20, 20))
    )
    offset = utc_offset_min(city, start)
    phone = _phone_for(spec.day)

    # Roles are dealt to positions so that the counts do not depend on the seed.
    burst_len = spec.burst
    n_moments = spec.n - max(0, burst_len - 1)
    moments = sorted(float(x) for x in rng.uniform(0, spec.hours * 3600, n_moments))
    burst_at = int(rng.integers(0, n_moments)) if burst_len else -1
    free = [i for i in range(n_moments) if i != burst_at]
    order = [int(i) for i in rng.permutation(free)]
    specials = dict(zip(order[: len(spec.specials)], spec.specials, strict=True))
    rest = order[len(spec.specials):]
    travel_cam = set(rest[: spec.camera_share])
    phone_portraits = spec.portraits - spec.camera_portraits
    portraits = set(rest[: spec.camera_portraits])
    portraits |= set(rest[spec.camera_share: spec.camera_share + phone_portraits])
    source_cycle = [spec.sources[int(i)] for i in rng.permutation(len(spec.sources))]

    shots: list[_Shot] = []
    for i, t in enumerate(moments):
        source = source_cycle[i % len(source_cycle)]
        special = specials.get(i)
        if special is not None and _SOURCE_BY_NAME[source].needs_attribution:
            # Files that keep no EXIF could not carry the CC BY credit: use a CC0/PD photo.
            source = next(s for s in spec.sources if not _SOURCE_BY_NAME[s].needs_attribution)
        camera = _FUJI if i in travel_cam else phone
        look = _Look.random(rng)
        when = start + timedelta(seconds=round(t, 3))
        frames = burst_len if i == burst_at else 1
        for _ in range(frames):
            gps = None
            if camera.gps and not spec.indoor and special is None:
                lat, lon = _jitter(rng, *centre, metres=35.0)
                gps = _Gps(lat, lon, max(0.0, city.alt_m + float(rng.normal(0, 4))))
            shots.append(_Shot(
                taken_at=when,
                tz_offset_min=offset,
                camera=camera,
                source=source,
                look=look,
                portrait=i in portraits,
                gps=gps,
                special=special,
                burst_id=f"{event_id}-burst" if frames > 1 else None,
            ))
            look = look.nudged(rng)
            when += timedelta(milliseconds=int(rng.integers(250, 900)))

    # Real times carry milliseconds (SubSecTimeOriginal); keep nothing finer.
    for shot in shots:
        shot.taken_at = shot.taken_at.replace(microsecond=shot.taken_at.microsecond // 1000 * 1000)
    if spec.duplicate_first:
        shots[0].duplicate = True
    event = DemoEvent(
        event_id=event_id,
        title=title,
        place=place,
        lat=round(centre[0], 6),
        lon=round(centre[1], 6),
        start=shots[0].taken_at,
        end=shots[-1].taken_at,
        tz_offset_min=offset,
        trip_id=trip_id,
    )
    return event, shots


class _Namer:
    """Camera-style file names, numbered in shooting order like a real roll."""

    def __init__(self) -> None:
        self._counters = {_IPHONE.model: 1001, _FUJI.model: 2001}

    def _count(self, camera: _Camera) -> int:
        n = self._counters[camera.model]
        self._counters[camera.model] += 1
        return n

    def name(self, camera: _Camera, local: datetime, offset_min: int, special: _Special | None,
             ext: str = ".JPG") -> str:
        if special in (_Special.FILENAME_DATE, _Special.FILENAME_DATE_NO_EXIF):
            return f"Camera/IMG_{local:%Y%m%d_%H%M%S}.jpg"
        if camera is _FUJI:
            return f"X-T30/DSCF{self._count(camera):04d}{ext}"
        if camera is _PIXEL and special is None:
            # Pixel phones name files by UTC time, not local time.
            utc = local - timedelta(minutes=offset_min)
            return f"Camera/PXL_{utc:%Y%m%d_%H%M%S}{utc.microsecond // 1000:03d}{ext.lower()}"
        # iPhone; an edited copy exported by Photos gets IMG_E + the same numbering.
        edited = "E" if special is _Special.XMP_DATE else ""
        return f"Camera/IMG_{edited}{self._count(_IPHONE):04d}{ext}"


def _render_shot(shot: _Shot, src: Image.Image, event: DemoEvent) -> tuple[bytes, dict[str, Any]]:
    """The file bytes of one planned photo and its manifest fields (pure: safe in threads)."""
    camera = shot.camera
    sw, sh = camera.stored_size
    visual_size = (sh, sw) if shot.portrait else (sw, sh)
    upright = render_variant(src, shot.look, visual_size)
    orientation = camera.portrait_orientation if shot.portrait else 1
    stored = store_oriented(upright, orientation)
    source = _SOURCE_BY_NAME[shot.source]
    gps_written: tuple[float, float] | None = None
    if shot.gps is not None:
        gps_written = (_to_dms(shot.gps.lat)[1], _to_dms(shot.gps.lon)[1])

    exif: Image.Exif | None = None
    xmp: bytes | None = None
    time_source = TimeSource.EXIF
    if shot.special is _Special.XMP_DATE:
        xmp = _xmp_packet(shot.taken_at, shot.tz_offset_min)
        time_source = TimeSource.XMP
    elif shot.special is _Special.FILENAME_DATE_NO_EXIF:
        time_source = TimeSource.FILENAME
    else:
        exif = _build_exif(
            camera,
            taken_at=None if shot.special is _Special.FILENAME_DATE else shot.taken_at,
            tz_offset_min=shot.tz_offset_min,
            gps=shot.gps,
            orientation=orientation,
            stored_size=stored.size,
            source=source,
        )
        if shot.special is _Special.FILENAME_DATE:
            time_source = TimeSource.FILENAME
    data = _encode_jpeg(stored, exif, xmp)
    has_exif = exif is not None
    return data, dict(
        kind=FileKind.PHOTO,
        source=shot.source,
        taken_at=shot.taken_at,
        tz_offset_min=shot.tz_offset_min,
        time_source=time_source,
        offset_written=time_source is TimeSource.EXIF and camera.writes_offset,
        camera_make=camera.make if has_exif else None,
        camera_model=camera.model if has_exif else None,
        lat=None if gps_written is None else round(gps_written[0], 7),
        lon=None if gps_written is None else round(gps_written[1], 7),
        alt=None if shot.gps is None else round(shot.gps.alt, 1),
        orientation=orientation if has_exif else 1,
        width=upright.width,
        height=upright.height,
        event_id=event.event_id,
        trip_id=event.trip_id,
        burst_id=shot.burst_id,
        duplicate_of=None,
        bad=None,
    )


def _clutter_fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        source=None, offset_written=False, camera_make=None, camera_model=None, lat=None, lon=None,
        alt=None, orientation=1, event_id=None, trip_id=None, burst_id=None, duplicate_of=None, bad=None,
    )
    base.update(overrides)
    return base


@dataclass
class _ReceiptPlan:
    spec: _ReceiptSpec
    when: datetime
    offset: int
    camera: _Camera
    gps: _Gps
    trip_id: str | None
    seed: int
    name: str = ""


def _plan_receipt(spec: _ReceiptSpec, seed: int, home: City, trip_id: str | None) -> _ReceiptPlan:
    rng = _rng(seed, f"receipt-{spec.shop}")
    city = CITIES[spec.city] if spec.city else home
    when = datetime.combine(spec.day, datetime.min.time()) + timedelta(
        hours=spec.hour, seconds=int(rng.integers(0, 600)), milliseconds=int(rng.integers(0, 1000))
    )
    lat, lon = _jitter(rng, city.lat, city.lon, 400.0)
    return _ReceiptPlan(spec, when, utc_offset_min(city, when), _phone_for(spec.day),
                        _Gps(lat, lon, city.alt_m), trip_id, seed)


def _write_receipt(plan: _ReceiptPlan, out: _Written) -> None:
    img = render_receipt(_rng(plan.seed, f"receipt-pixels-{plan.spec.shop}"), plan.spec, plan.when)
    camera = plan.camera
    exif = _build_exif(camera, taken_at=plan.when, tz_offset_min=plan.offset, gps=plan.gps, orientation=1,
                       stored_size=img.size, source=None)
    out.add(
        plan.name, _encode_jpeg(img, exif), plan.when - timedelta(minutes=plan.offset),
        **_clutter_fields(
            kind=FileKind.RECEIPT, taken_at=plan.when, tz_offset_min=plan.offset, time_source=TimeSource.EXIF,
            offset_written=camera.writes_offset, camera_make=camera.make, camera_model=camera.model,
            lat=round(_to_dms(plan.gps.lat)[1], 7), lon=round(_to_dms(plan.gps.lon)[1], 7),
            alt=round(plan.gps.alt, 1), width=img.width, height=img.height, trip_id=plan.trip_id,
        ),
    )


@dataclass
class _ScreenPlan:
    style: str  # chat, boarding_pass, settings
    when: datetime
    offset: int
    dated: bool  # Android-style name with the date; otherwise an iOS IMG_nnnn.PNG without one
    name: str = ""


def _plan_screenshots(home: City, first_trip: DemoTrip | None) -> list[_ScreenPlan]:
    flight_day = first_trip.start if first_trip else date(2022, 6, 10)
    plans = (
        ("chat", datetime(2022, 9, 12, 21, 30, 5), True),
        ("boarding_pass", datetime.combine(flight_day, datetime.min.time()) + timedelta(hours=6, minutes=48), True),
        ("settings", datetime(2023, 11, 5, 22, 14, 41), False),
    )
    return [_ScreenPlan(style, when, utc_offset_min(home, when), dated) for style, when, dated in plans]


def _write_screenshot(plan: _ScreenPlan, seed: int, home: City, first_trip: DemoTrip | None,
                      out: _Written) -> None:
    trip_city = CITIES[first_trip.cities[0]] if first_trip else None
    img = render_screenshot(_rng(seed, f"screenshot-{plan.style}"), plan.style, plan.when, home, trip_city)
    out.add(
        plan.name, _encode_png(img), plan.when - timedelta(minutes=plan.offset),
        **_clutter_fields(
            kind=FileKind.SCREENSHOT, taken_at=plan.when, tz_offset_min=plan.offset,
            time_source=TimeSource.FILENAME if plan.dated else TimeSource.NONE,
            width=img.width, height=img.height,
        ),
    )


def _write_bad_files(sources: dict[str, Image.Image], seed: int, mtime: datetime, out: _Written) -> None:
    bad = _clutter_fields(kind=FileKind.BAD, taken_at=None, tz_offset_min=None,
                          time_source=TimeSource.NONE, width=None, height=None)
    out.add("Camera/IMG_0000.JPG", b"", mtime, **{**bad, "bad": BadKind.EMPTY})
    # A real JPEG whose copy stopped part-way: the header parses, the pixels run out.
    rng = _rng(seed, "truncated")
    frame = render_variant(sources["chelsea"], _Look.random(rng), _FUJI.stored_size)
    whole = _encode_jpeg(frame, _build_exif(_FUJI, taken_at=None, tz_offset_min=0, gps=None, orientation=1,
                                            stored_size=frame.size, source=None))
    out.add("X-T30/DSCF0999.JPG", whole[: len(whole) * 2 // 5], mtime,
            **{**bad, "bad": BadKind.TRUNCATED, "source": "chelsea"})
    out.add("Camera/IMG_0001.PNG", b"This is not a picture: a note saved with the wrong extension.\n",
            mtime, **{**bad, "bad": BadKind.NOT_AN_IMAGE})


def _prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DemoLibraryError(f"{out} is a file; give build_demo_library a folder path.")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST_NAME).is_file():
            raise DemoLibraryError(
                f"{out} is not empty and is not a demo library ({MANIFEST_NAME} is missing); "
                "choose an empty or new folder."
            )
        if not overwrite:
            raise DemoLibraryError(
                f"{out} already holds a demo library; delete it or pass overwrite=True to rebuild it."
            )
        # Only a folder that carries our manifest is ever deleted.
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def build_demo_library(
    out: Path, *, seed: int = 0, home: str = "Lisbon", overwrite: bool = False
) -> DemoManifest:
    """Write the demo library into ``out`` and return its manifest (also ``out/manifest.json``).

    The same ``seed`` gives byte-identical files. ``home`` picks the home city; trips that
    would go near it are swapped for others. ``out`` must be new or empty, unless it holds
    an earlier demo library and ``overwrite`` is true.
    """
    if home not in HOME_CITIES:
        raise DemoLibraryError(f"Unknown home city {home!r}; choose one of: {', '.join(HOME_CITIES)}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DemoLibraryError(f"seed must be a non-negative integer, got {seed!r}.")
    out = Path(out)
    home_city = CITIES[home]
    sources = _load_sources()  # before touching `out`: a missing package fails cleanly
    _prepare_out(out, overwrite)

    # Plan: every event with its shots, in time order, numbered ev01, ev02, ...
    trip_specs = _trips_for(home_city)
    planned: list[tuple[_EventSpec, str | None]] = [(e, None) for e in _HOME_EVENTS]
    planned += [(e, f"trip-{t.key}") for t in trip_specs for e in t.events]
    planned.sort(key=lambda p: (p[0].day, p[0].start_hour))
    events: list[DemoEvent] = []
    shots_by_event: list[list[_Shot]] = []
    for i, (spec, trip_id) in enumerate(planned, start=1):
        event, shots = _plan_event(spec, f"ev{i:02d}-{spec.key}", seed, home_city, trip_id)
        events.append(event)
        shots_by_event.append(shots)
    trips = tuple(
        DemoTrip(
            trip_id=f"trip-{t.key}",
            title=t.title,
            start=t.start,
            end=t.end,
            cities=t.cities,
            event_ids=tuple(e.event_id for e in events if e.trip_id == f"trip-{t.key}"),
        )
        for t in trip_specs
    )
    first_trip = trips[0] if trips else None
    receipts = [_plan_receipt(_HOME_RECEIPT, seed, home_city, None)]
    receipts += [_plan_receipt(t.receipt, seed, home_city, f"trip-{t.key}") for t in trip_specs[:1]]
    screens = _plan_screenshots(home_city, first_trip)

    # Names follow shooting order across photos, receipts and the undated screenshot,
    # as a phone's counter would.
    shots = [s for group in shots_by_event for s in group]
    timeline: list[tuple[datetime, Any]] = [(s.taken_at - timedelta(minutes=s.tz_offset_min), s) for s in shots]
    timeline += [(r.when - timedelta(minutes=r.offset), r) for r in receipts]
    timeline += [(p.when - timedelta(minutes=p.offset), p) for p in screens]
    namer = _Namer()
    for _, item in sorted(timeline, key=lambda x: x[0]):
        if isinstance(item, _Shot):
            item.name = namer.name(item.camera, item.taken_at, item.tz_offset_min, item.special)
        elif isinstance(item, _ReceiptPlan):
            item.name = namer.name(item.camera, item.when, item.offset, None)
        elif item.dated:
            item.name = f"Screenshots/Screenshot_{item.when:%Y%m%d-%H%M%S}.png"
        else:
            item.name = namer.name(_IPHONE, item.when, item.offset, None, ext=".PNG")

    # Rendering is the slow part and each shot is independent (all randomness was drawn
    # while planning), so threads give identical bytes; Pillow releases the GIL in
    # resize and JPEG encoding.
    jobs = [(shot, event) for event, group in zip(events, shots_by_event, strict=True) for shot in group]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        rendered = list(pool.map(lambda job: _render_shot(job[0], sources[job[0].source], job[1]), jobs))
    written = _Written()
    for (shot, _), (data, fields) in zip(jobs, rendered, strict=True):
        record = written.add(shot.name, data, shot.taken_at - timedelta(minutes=shot.tz_offset_min), **fields)
        if shot.duplicate:
            # The same bytes again under the name a second import gives them.
            stem, ext = os.path.splitext(record.rel_path)
            copied = {k: v for k, v in asdict(record).items() if k not in ("rel_path", "size_bytes", "sha256")}
            written.add(f"{stem} (1){ext}", data, written.blobs[record.rel_path][1],
                        **{**copied, "duplicate_of": record.rel_path})
    for receipt in receipts:
        _write_receipt(receipt, written)
    for screen in screens:
        _write_screenshot(screen, seed, home_city, first_trip, written)
    last = max(e.end - timedelta(minutes=e.tz_offset_min) for e in events)
    _write_bad_files(sources, seed, last + timedelta(days=3), written)

    for rel_path, (data, mtime_utc) in written.blobs.items():
        path = out / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime_utc is not None:
            # mtime = capture instant, as a camera leaves it; rebuilds are stat-identical too.
            ns = round((mtime_utc - datetime(1970, 1, 1)).total_seconds() * 1e9)
            os.utime(path, ns=(ns, ns))

    manifest = DemoManifest(
        generator=GENERATOR,
        seed=seed,
        home=home,
        home_lat=home_city.lat,
        home_lon=home_city.lon,
        sources=SOURCES,
        trips=trips,
        events=tuple(events),
        files=tuple(sorted(written.files, key=_file_order)),
    )
    # Written last and atomically: its presence is what marks a folder as a finished demo
    # library (dashboard/library_choice.py relies on it; an interrupted build has none).
    partial = out / f".{MANIFEST_NAME}.partial"
    partial.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(partial, out / MANIFEST_NAME)
    return manifest


def _file_order(f: DemoFile) -> tuple[int, str, str]:
    utc = f.taken_at_utc
    return (0 if utc is not None else 1, utc.isoformat() if utc else "", f.rel_path)


def summarize(manifest: DemoManifest) -> Iterable[str]:
    """Lines describing the library: per-trip and per-event counts (for docs and the CLI)."""
    photos = manifest.photos
    yield (
        f"{len(manifest.files)} files: {len(photos)} photos, {len(manifest.clutter)} clutter, "
        f"{len(manifest.bad_files)} bad; {manifest.total_bytes / 1e6:.1f} MB; home {manifest.home}"
    )
    for event in manifest.events:
        n = sum(1 for p in photos if p.event_id == event.event_id)
        trip = f" [{event.trip_id}]" if event.trip_id else ""
        yield f"  {event.event_id:28s} {event.start:%Y-%m-%d %H:%M} {event.place:12s} {n:3d}{trip}  {event.title}"

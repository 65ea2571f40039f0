"""A large generated library for scale benchmarks: thousands of photos on a years-long timeline.

The pixels are the demo library's real package photos (scikit-image, scikit-learn), cut into
variants at camera-like sizes; everything else is generated: ten years of a family's life in
Lisbon with outings, day trips and trips abroad (GPS tracks, time zones), bursts, photos taken
sideways, and screenshots and receipts sprinkled in. Unlike the small demo library it has no
hand-written story and no bad files: it exists to measure how the engine scales.

    curation demo-library OUT --photos 10000 [--megapixels 3]
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops

from curation.demo.library import (
    CITIES,
    SOURCES,
    _build_exif,
    _encode_jpeg,
    _encode_png,
    _Gps,
    _jitter,
    _Look,
    _phone_for,
    _ReceiptSpec,
    _load_sources,
    _rng,
    render_receipt,
    render_screenshot,
    render_variant,
    store_oriented,
    utc_offset_min,
)

MANIFEST = "large-library.json"
HOME = CITIES["Lisbon"]
_ABROAD = tuple(name for name in CITIES if name not in ("Lisbon",))
# Which package photos an event draws from: people days use the astronaut (a real face).
_SCENES = (
    ("astronaut", "chelsea"),
    ("china", "flower"),
    ("coffee", "chelsea"),
    ("rocket", "motorcycle"),
    ("astronaut", "coffee"),
    ("china", "motorcycle"),
    ("flower", "astronaut"),
)


@dataclass(frozen=True)
class _Shot:
    index: int
    rel_path: str
    taken_at: datetime  # local time
    city: str
    lat: float
    lon: float
    source: str | None  # None: clutter
    clutter: str | None  # "screenshot" | "receipt" | None
    look: _Look | None
    portrait: bool
    event: str


@dataclass(frozen=True)
class LargeLibrary:
    root: Path
    photos: int
    megapixels: float
    seed: int
    events: int
    bytes: int


def plan_shots(photos: int, seed: int = 0) -> list[_Shot]:
    """The whole timeline (no pixels): events of 5 to 120 shots, two or three a month, from
    2016 on, with a trip abroad every few months; about 4% screenshots and receipts."""
    rng = np.random.default_rng([seed, 4242])
    shots: list[_Shot] = []
    day = date(2016, 1, 9)
    n_event = 0
    while len(shots) < photos:
        n_event += 1
        trip = rng.random() < 0.18
        city = str(rng.choice(_ABROAD)) if trip else HOME.name
        days = int(rng.integers(3, 9)) if trip else 1
        size = int(rng.integers(40, 220)) if trip else int(rng.integers(5, 90))
        scene = _SCENES[int(rng.integers(len(_SCENES)))]
        key = f"e{n_event:05d}"
        c = CITIES[city]
        centre = (c.lat, c.lon) if trip else (c.lat + rng.uniform(-0.08, 0.08), c.lon + rng.uniform(-0.08, 0.08))
        look = _Look.random(rng)
        burst_left = 0
        for i in range(min(size, photos - len(shots))):
            k = len(shots)
            position = i * days / size  # days into the event; each day's shots between 9:00 and 20:00
            d = day + timedelta(days=int(position))
            when = datetime.combine(d, datetime.min.time()) + timedelta(
                hours=9 + 11 * (position - int(position)), seconds=int(rng.integers(0, 30))
            )
            when = when.replace(microsecond=0)
            lat, lon = _jitter(rng, centre[0], centre[1], 2500 if trip else 400)
            clutter = None
            if rng.random() < 0.04:
                clutter = "screenshot" if rng.random() < 0.6 else "receipt"
            if burst_left == 0 and rng.random() < 0.08:
                burst_left = int(rng.integers(2, 6))
            look = look.nudged(rng) if burst_left else _Look.random(rng)
            burst_left = max(0, burst_left - 1)
            ext = ".PNG" if clutter == "screenshot" else ".JPG"
            shots.append(
                _Shot(
                    index=k,
                    rel_path=f"{when:%Y}/{when:%m}/IMG_{k + 1:05d}{ext}",
                    taken_at=when,
                    city=city,
                    lat=lat,
                    lon=lon,
                    source=None if clutter else scene[int(rng.random() < 0.3)],
                    clutter=clutter,
                    look=None if clutter else look,
                    portrait=bool(rng.random() < 0.15),
                    event=key,
                )
            )
        day = day + timedelta(days=days + int(rng.integers(5, 21)))
    return shots


def _size(megapixels: float, portrait: bool) -> tuple[int, int]:
    width = int(round(math.sqrt(megapixels * 1e6 * 4 / 3) / 16) * 16)
    height = width * 3 // 4
    return (height, width) if portrait else (width, height)


@lru_cache(maxsize=4)
def _noise_tile(size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 25, (size[1] + 64, size[0] + 64, 3), dtype=np.uint8))


def _grain(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Sensor-like noise (about +-12 levels): upscaled package photos are far smoother than
    camera output and would compress, and so decode, several times cheaper than real files."""
    tile = _noise_tile(img.size)
    x, y = (int(v) for v in rng.integers(0, 64, 2))
    noise = tile.crop((x, y, x + img.width, y + img.height))
    return ImageChops.add(img, noise, scale=1.0, offset=-12)


def _render(shot: _Shot, sources: dict[str, Image.Image], megapixels: float, seed: int) -> bytes:
    rng = _rng(seed, shot.rel_path)
    city = CITIES[shot.city]
    offset = utc_offset_min(city, shot.taken_at)
    if shot.clutter == "screenshot":
        return _encode_png(render_screenshot(rng, "chat", shot.taken_at, HOME, None if city is HOME else city))
    camera = _phone_for(shot.taken_at.date())
    gps = _Gps(shot.lat, shot.lon, city.alt_m)
    if shot.clutter == "receipt":
        spec = _ReceiptSpec(shot.taken_at.date(), 13.0, None, "Mercado da Ribeira", "Av. 24 de Julho 49",
                            ("Pastel de nata 1,30", "Bica 0,90", "Água 1,20"), "Obrigado!")  # fmt: skip
        img = render_receipt(rng, spec, shot.taken_at)
        orientation = 1
    else:
        assert shot.source is not None and shot.look is not None
        upright = _grain(render_variant(sources[shot.source], shot.look, _size(megapixels, shot.portrait)), rng)
        orientation = camera.portrait_orientation if shot.portrait else 1
        img = store_oriented(upright, orientation)
    exif = _build_exif(
        camera,
        taken_at=shot.taken_at,
        tz_offset_min=offset,
        gps=gps,
        orientation=orientation,
        stored_size=img.size,
        source=next((s for s in SOURCES if s.name == shot.source), None),
    )
    return _encode_jpeg(img, exif)


def build_large_library(
    out: Path,
    *,
    photos: int = 10_000,
    megapixels: float = 3.0,
    seed: int = 0,
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> LargeLibrary:
    """Write ``photos`` files under ``out`` (reused when a finished library with the same
    parameters is there already) and return what was built."""
    if photos < 1:
        raise ValueError(f"photos must be at least 1, got {photos}")
    if not 0.1 <= megapixels <= 50:
        raise ValueError(f"megapixels must be between 0.1 and 50, got {megapixels}")
    out = Path(out)
    params = {"photos": photos, "megapixels": megapixels, "seed": seed}
    manifest = out / MANIFEST
    if manifest.is_file():
        done = json.loads(manifest.read_text())
        if {k: done.get(k) for k in params} == params:
            return LargeLibrary(out, photos, megapixels, seed, done["events"], done["bytes"])
    shots = plan_shots(photos, seed)
    sources = _load_sources()
    out.mkdir(parents=True, exist_ok=True)

    def write(shot: _Shot) -> int:
        data = _render(shot, sources, megapixels, seed)
        path = out / shot.rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return len(data)

    total = 0
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for i, size in enumerate(_in_order(pool, write, shots), start=1):
            total += size
            if progress:
                progress(i, len(shots))
    events = len({s.event for s in shots})
    manifest.write_text(json.dumps({**params, "events": events, "bytes": total}, indent=2))
    return LargeLibrary(out, photos, megapixels, seed, events, total)


def _in_order(pool: ThreadPoolExecutor, fn: Callable[[_Shot], int], shots: list[_Shot]) -> Iterator[int]:
    window = 32
    futures = [pool.submit(fn, s) for s in shots[:window]]
    for i in range(len(shots)):
        if i + window < len(shots):
            futures.append(pool.submit(fn, shots[i + window]))
        yield futures[i].result()
        futures[i] = None  # type: ignore[call-overload]  # let the result go

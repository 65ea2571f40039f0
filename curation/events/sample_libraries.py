"""Labelled evaluation libraries built from the shared sample photos (``settings.samples``).

Two libraries, both read with the project's own metadata reader (``read_metadata``), so
times, sources and GPS are what ingest would store:

* ``samples_real_library``: every readable photo of ``themed/`` and ``camera-roll/`` with
  its **real** metadata. The truth is hand-labelled below: files taken together are one
  event (the four IMG_4120 copies; the 25 themed files dated the morning of 2019-05-04;
  the elephants and the zebra of 26 Nov 2013 in the same park; the three FinePix1400Zoom
  frames; ...), every other dated photo is an event of its own, files with only an mtime
  belong to no event, and the two screenshots are clutter.
* ``samples_trip_library``: the **real** South Africa trip of ``themed/`` (Canon EOS 6D,
  18 Nov - 4 Dec 2013: Cape Town, the Garden Route, Addo; the giraffe has no GPS) inside
  a **generated** year at home in Berlin: the ``camera-roll/`` files keep their pixels
  and names but get generated capture times, offsets and GPS (events of 1-6 photos,
  70% with GPS within 6 km of Berlin, one on Christmas Eve 2013, indoors). The camera-roll
  files whose only date is their mtime keep it (expected: excluded).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from curation.events.synthetic import CITIES, LabelledLibrary
from curation.records import TimeSource

# Hand labels: files taken together (everything else dated is an event of its own).
_TOGETHER: tuple[tuple[str, ...], ...] = (
    ("themed/IMG_4120.JPG", "themed/IMG_4120 (1).JPG", "themed/IMG_4120 copy.JPG", "themed/IMG_E4120.JPG"),
    ("themed/fish_anthias_magenta.jpg", "themed/turtle_brown_blue.jpg"),
    ("themed/beach_wood.jpg", "themed/this-is-a-jpeg.png"),  # the same shot, same time and place
    ("themed/elephants.jpg", "themed/zebra_green_brown.jpg"),  # Addo, one afternoon
    ("camera-roll/Kodak CLAS Digital Film Scanner HR200 (1).jpg",
     "camera-roll/Kodak CLAS Digital Film Scanner HR200 (2).jpg"),
    ("camera-roll/FujiFilm FinePix1400Zoom (1).jpg", "camera-roll/FujiFilm FinePix1400Zoom (2).jpg",
     "camera-roll/FujiFilm FinePix1400Zoom (3).jpg"),
    ("camera-roll/Canon PowerShot G2 (1).jpg", "camera-roll/Canon PowerShot G2 (3).jpg"),
    ("camera-roll/Issue 600 (1).jpg", "camera-roll/Issue 600 (2).jpg"),
)
_MORNING_BATCH_DAY = "2019-05-04"  # 25 themed files with XMP dates between 05:47 and 07:03
_CLUTTER = {"themed/Screenshot 2019-05-21 at 10.45.52.png": "screenshot", "themed/tweethog.png": "screenshot"}
_SOUTH_AFRICA = ("themed/ocean_cyan.jpg", "themed/snake_lime_brown.jpg", "themed/elephants.jpg",
                 "themed/zebra_green_brown.jpg", "themed/giraffe_green_brown.jpg")


class SampleLibraryUnavailable(RuntimeError):
    """The shared sample photo sets are not on this machine."""


def _samples_dir(samples: Path | None) -> Path:
    if samples is None:
        from curation.settings import Settings

        samples = Settings().samples
    if not (samples / "themed").is_dir() or not (samples / "camera-roll").is_dir():
        raise SampleLibraryUnavailable(
            f"sample photo sets not found at {samples} (set CURATION_SAMPLES to the folder with themed/ and camera-roll/)"
        )
    return samples


def read_sample_metadata(samples: Path | None = None) -> pd.DataFrame:
    """Real metadata of every photo Pillow opens in themed/ and camera-roll/."""
    from PIL import Image, UnidentifiedImageError

    from curation.ingest.decode import register_heif
    from curation.ingest.metadata import read_metadata

    root = _samples_dir(samples)
    register_heif()
    rows = []
    for folder in ("themed", "camera-roll"):
        for path in sorted((root / folder).iterdir()):
            try:
                with Image.open(path) as image:
                    image.load()  # a file no decoder opens is skipped by ingest too
                    meta = read_metadata(path, image)
            except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
                continue
            rows.append({
                "rel_path": f"{folder}/{path.name}", "taken_at": meta.taken_at, "tz_offset_min": meta.tz_offset_min,
                "time_source": meta.time_source.value, "time_reliable": meta.time_reliable,
                "lat": meta.lat, "lon": meta.lon,
            })
    frame = pd.DataFrame(rows)
    frame["taken_at"] = pd.to_datetime(frame["taken_at"]).astype("datetime64[us]")
    frame["lat"] = frame["lat"].astype(float)
    frame["lon"] = frame["lon"].astype(float)
    frame["photo_id"] = np.arange(1, len(frame) + 1)
    frame["sha256"] = [f"{i:064x}" for i in frame["photo_id"]]
    frame["is_clutter"] = frame["rel_path"].isin(list(_CLUTTER))
    frame["clutter_category"] = frame["rel_path"].map(_CLUTTER)
    return frame


def _real_truth(frame: pd.DataFrame) -> pd.Series:
    event = pd.Series(
        np.where(frame["time_reliable"] & ~frame["is_clutter"], "solo-" + frame["rel_path"], None),
        index=frame.index, dtype=object,
    )
    batch = frame["rel_path"].str.startswith("themed/") & (frame["taken_at"].dt.strftime("%Y-%m-%d") == _MORNING_BATCH_DAY)
    event[batch] = "themed-2019-05-04-morning"
    for k, group in enumerate(_TOGETHER):
        event[frame["rel_path"].isin(group) & event.notna()] = f"together-{k}"
    return event


def samples_real_library(samples: Path | None = None) -> LabelledLibrary:
    frame = read_sample_metadata(samples)
    truth = pd.DataFrame({"photo_id": frame["photo_id"], "event": _real_truth(frame), "trip": None,
                          "holiday": None, "kind": "photo"})
    return LabelledLibrary(
        name="samples: real metadata",
        description=(
            f"real: {len(frame)} photos of themed/ and camera-roll/ with the times, offsets and GPS their files "
            "hold (1996-2023, about 100 cameras); hand-labelled events; the two screenshots flagged as clutter "
            "as the vision stage would"
        ),
        photos=frame,
        truth=truth,
        home=None,
    )


def samples_trip_library(samples: Path | None = None, seed: int = 0) -> LabelledLibrary:
    frame = read_sample_metadata(samples)
    rng = np.random.default_rng(seed)
    berlin = CITIES["Berlin"]
    event = pd.Series(None, index=frame.index, dtype=object)
    trip = pd.Series(None, index=frame.index, dtype=object)
    holiday = pd.Series(None, index=frame.index, dtype=object)

    sa = frame["rel_path"].isin(_SOUTH_AFRICA)
    for path in _SOUTH_AFRICA:
        key = "sa-addo" if path in ("themed/elephants.jpg", "themed/zebra_green_brown.jpg") else f"sa-{path}"
        event[frame["rel_path"] == path] = key
    trip[sa] = "south-africa-2013"

    roll = frame.index[frame["rel_path"].str.startswith("camera-roll/") & frame["time_reliable"]]
    order = rng.permutation(roll)
    sizes = []
    while sum(sizes) < len(order):
        sizes.append(int(rng.integers(1, 7)))
    days = pd.date_range("2013-06-01", "2014-05-31", freq="D")
    days = days[(days < "2013-11-14") | (days > "2013-12-08")]
    days = days[days.strftime("%m-%d") != "12-24"]
    chosen = sorted(rng.choice(days, size=len(sizes), replace=False))
    chosen[len(chosen) // 2] = pd.Timestamp("2013-12-24")  # Christmas Eve at home, indoors
    chosen = sorted(chosen)
    pos = 0
    for k, (size, day) in enumerate(zip(sizes, chosen, strict=True)):
        members = order[pos : pos + size]
        pos += size
        christmas = pd.Timestamp(day).strftime("%m-%d") == "12-24"
        start = datetime.combine(pd.Timestamp(day).date(), datetime.min.time()) + timedelta(
            hours=19.0 if christmas else float(rng.uniform(9, 19)))
        offsets = np.r_[0.0, np.cumsum(rng.lognormal(np.log(120), 1.0, len(members) - 1))]
        outdoors = not christmas and rng.random() < 0.7
        spot = (berlin.lat + rng.uniform(-0.05, 0.05), berlin.lon + rng.uniform(-0.08, 0.08))
        for m, off in zip(members, offsets, strict=True):
            frame.at[m, "taken_at"] = pd.Timestamp(start + timedelta(seconds=float(off)))
            frame.at[m, "tz_offset_min"] = 60
            frame.at[m, "time_source"] = TimeSource.EXIF.value
            frame.at[m, "lat"] = spot[0] + rng.normal(0, 0.0005) if outdoors else np.nan
            frame.at[m, "lon"] = spot[1] + rng.normal(0, 0.0005) if outdoors else np.nan
            event[m] = f"berlin-{k}"
            if christmas:
                holiday[m] = "Christmas"
    keep = sa | frame["rel_path"].str.startswith("camera-roll/")
    truth = pd.DataFrame({"photo_id": frame["photo_id"], "event": event, "trip": trip, "holiday": holiday,
                          "kind": "photo"})[keep]
    n_roll = int(frame["rel_path"].str.startswith("camera-roll/").sum())
    return LabelledLibrary(
        name="samples: South Africa trip in a generated Berlin year",
        description=(
            "real: the 5 South Africa photos of themed/ (times, GPS) and the camera-roll/ files whose only date "
            f"is their mtime; generated: times and GPS of the other {len(roll)} of {n_roll} camera-roll/ photos, "
            "as a year at home in Berlin (June 2013 - May 2014) with Christmas Eve indoors"
        ),
        photos=frame[keep].reset_index(drop=True),
        truth=truth.reset_index(drop=True),
        home=(berlin.lat, berlin.lon),
    )


def available_sample_libraries(samples: Path | None = None) -> list[LabelledLibrary]:
    """Both sample libraries; raises SampleLibraryUnavailable without the sample sets."""
    return [samples_real_library(samples), samples_trip_library(samples)]


def demo_manifest_library(seed: int = 0, home: str = "Lisbon") -> LabelledLibrary:
    """The built-in demo library (docs/demo-library.md), as its manifest says its files
    read: generated files on a generated timeline, ground truth from the manifest. Built
    in a temporary folder (about 4 s of CPU)."""
    import tempfile

    from curation.demo import FileKind, build_demo_library

    with tempfile.TemporaryDirectory(prefix="events-demo-") as tmp:
        manifest = build_demo_library(Path(tmp) / "demo", seed=seed, home=home)
    rows, truth = [], []
    for k, f in enumerate(manifest.files, start=1):
        if f.kind is FileKind.BAD:
            continue  # ingest skips it: never in the photos table
        dated = f.time_source is not TimeSource.NONE
        rows.append({
            "photo_id": k, "rel_path": f.rel_path, "sha256": f.sha256,
            # A file with no date anywhere gets its mtime, which the demo sets to the capture instant.
            "taken_at": f.taken_at, "tz_offset_min": f.tz_offset_min if f.offset_written else None,
            "time_source": f.time_source.value if dated else TimeSource.MTIME.value,
            "time_reliable": dated and f.time_source is not TimeSource.MTIME,
            "lat": f.lat, "lon": f.lon, "is_clutter": f.is_clutter,
            "clutter_category": f.kind.value if f.is_clutter else None,
        })
        christmas = f.event_id is not None and f.event_id.startswith(("ev13", "ev20"))
        truth.append({"photo_id": k, "event": f.event_id, "trip": f.trip_id if f.event_id else None,
                      "holiday": "Christmas" if christmas else None, "kind": f.kind.value})
    photos = pd.DataFrame(rows)
    photos["taken_at"] = pd.to_datetime(photos["taken_at"]).astype("datetime64[us]")
    photos["lat"] = photos["lat"].astype(float)
    photos["lon"] = photos["lon"].astype(float)
    return LabelledLibrary(
        name=f"demo library seed {seed}",
        description=(
            f"generated files (curation.demo, home {manifest.home}): times, offsets and GPS as the files state them, "
            "events and trips from its manifest; pixels from photos shipped in scikit-image / scikit-learn"
        ),
        photos=photos,
        truth=pd.DataFrame(truth),
        home=(manifest.home_lat, manifest.home_lon),
    )

"""Near-duplicate groups: the match rule, candidate search that stays far from all pairs,
groups on generated bursts and edited copies (real model), and on samples/themed."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from curation.ingest.hashing import perceptual_hash
from curation.vision.neardup import (
    NearDupParams,
    PhotoSignature,
    UnionFind,
    candidate_pairs,
    find_near_duplicates,
    is_match,
    name_key,
    synthetic_library,
)

T0 = datetime(2023, 7, 14, 10, 0, 0)


def test_union_find() -> None:
    uf = UnionFind(6)
    uf.union(0, 1)
    uf.union(2, 3)
    uf.union(1, 3)
    assert len({uf.find(i) for i in range(4)}) == 1
    assert uf.find(4) != uf.find(5) and uf.find(4) != uf.find(0)


def test_name_key_strips_copy_markers() -> None:
    keys = {name_key(n) for n in ("a/IMG_4120.JPG", "a/IMG_4120 (1).JPG", "a/IMG_4120 copy.JPG",
                                  "a/IMG_E4120.JPG", "a/IMG_4120-edited.jpg", "a/IMG_4120 copy 2.JPG")}
    assert len(keys) == 1
    assert name_key("b/IMG_4120.JPG") != name_key("a/IMG_4120.JPG")  # other folder
    assert name_key("IMG_9.JPG") < name_key("IMG_10.JPG") < name_key("IMG_89.JPG")  # natural order


@pytest.mark.parametrize(
    ("bits", "cosine", "dt", "match"),
    [
        (0, 1.0, np.nan, True),  # byte or pixel copy
        (2, 0.45, np.nan, True),  # downsized, blurred or black-and-white copy: pHash holds, cosine falls
        (12, 0.85, np.nan, True),  # colour edit + crop (IMG_E4120)
        (24, 0.95, np.nan, True),  # heavy crop, same content
        (30, 0.76, np.nan, False),  # same dog, another photo (dog_toshi_red vs dog_toshi_yellow)
        (20, 0.88, 2.0, True),  # burst: the subject moved
        (20, 0.88, 3600.0, False),  # the same scene an hour later
        (20, 0.88, np.nan, False),  # ... or at an unknown time
        (3, 0.2, np.nan, False),  # pHash collision of unrelated pictures
    ],
)
def test_match_rule(bits: int, cosine: float, dt: float, match: bool) -> None:
    got = is_match(np.array([bits]), np.array([cosine]), np.array([dt]), NearDupParams())
    assert bool(got[0]) is match


def test_bad_params() -> None:
    with pytest.raises(ValueError, match="copy_bits <= edit_bits <= crop_bits"):
        NearDupParams(copy_bits=20, edit_bits=16)
    with pytest.raises(ValueError, match="edit_cosine must be a cosine"):
        NearDupParams(edit_cosine=1.5)
    with pytest.raises(ValueError, match="time_window must be at least 1"):
        NearDupParams(time_window=0)


def _sig(i: int, bits: int, *, taken_at: datetime | None = None, name: str | None = None, q: float = 0.0
         ) -> PhotoSignature:
    return PhotoSignature(i, f"{bits:016x}", taken_at, name, q)


def test_candidates_find_every_pair_within_7_bits() -> None:
    rng = np.random.default_rng(0)
    base = [int(h) for h in rng.integers(0, 2**63, 300, dtype=np.int64)]
    photos, expected = [], set()
    for k, h in enumerate(base):
        photos.append(_sig(len(photos), h))
        flips = rng.choice(64, size=int(rng.integers(1, 8)), replace=False)
        photos.append(_sig(len(photos), h ^ sum(1 << int(b) for b in flips)))
        expected.add((2 * k, 2 * k + 1))
    pairs = candidate_pairs(photos)
    found = {tuple(map(int, p)) for p in pairs}
    assert expected <= found
    assert (pairs[:, 0] < pairs[:, 1]).all() and len(found) == len(pairs)
    assert len(pairs) < 0.02 * len(photos) ** 2 / 2


def test_candidates_by_time_and_name() -> None:
    photos = [
        _sig(0, 0x0F0F0F0F0F0F0F0F, taken_at=T0),
        _sig(1, 0xF0F0F0F0F0F0F0F0, taken_at=T0 + timedelta(seconds=1)),  # burst, pHash far
        _sig(2, 0x123456789ABCDEF0, taken_at=T0 + timedelta(hours=3)),  # hours later
        _sig(3, 0x0FEDCBA987654321, name="x/IMG_7.JPG"),
        _sig(4, 0x7777777777777777, name="x/IMG_7 copy.JPG"),
    ]
    found = {tuple(map(int, p)) for p in candidate_pairs(photos, NearDupParams(name_window=1))}
    assert (0, 1) in found and (3, 4) in found
    assert (0, 2) not in found and (1, 2) not in found


def test_groups_and_representative() -> None:
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(5, 64)).astype(np.float32)
    emb[1] = emb[0] + 0.05 * rng.normal(size=64)
    emb[2] = emb[0] + 0.05 * rng.normal(size=64)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    photos = [
        _sig(10, 0xAAAA_0000_1111_2222, q=0.3),
        _sig(11, 0xAAAA_0000_1111_2223, q=0.9),  # the best of the three copies
        _sig(12, 0xAAAA_0000_1111_2226, q=0.5),
        _sig(13, 0x5555_FFFF_EEEE_DDDD, q=1.0),
        _sig(14, 0x1234_5678_9ABC_DEF0, q=1.0),
    ]
    groups = find_near_duplicates(photos, emb)
    assert [(g.representative, g.members) for g in groups] == [(11, (11, 10, 12))]
    with pytest.raises(ValueError, match="one embedding row per photo"):
        find_near_duplicates(photos, emb[:3])
    assert find_near_duplicates([], np.zeros((0, 64))) == []


def test_scales_without_comparing_all_pairs() -> None:
    photos, emb = synthetic_library(6000, dim=64)
    pairs = candidate_pairs(photos)
    assert len(pairs) < 0.01 * len(photos) ** 2 / 2
    groups = find_near_duplicates(photos, emb)
    assert len(groups) == len(range(0, 5999, 20)) and all(len(g.members) == 2 for g in groups)


# ---------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from curation.vision import create_embedder

    return create_embedder("efficientnet_lite0", cache_dir=tmp_path_factory.getbasetemp() / "model-cache").load()


def _phash(image: Image.Image) -> str:
    """As ingest does: the pHash of the 256 px thumbnail."""
    small = image.copy()
    small.thumbnail((256, 256), Image.Resampling.BICUBIC)
    return perceptual_hash(small)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def test_generated_bursts_and_copies(embedder) -> None:  # noqa: ANN001
    from curation.vision.train_clutter import skimage_photo

    cat, coffee, astronaut, rocket, bike = (skimage_photo(n) for n in (
        "chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png"))
    w, h = cat.size
    frames = [
        # a burst of the cat: three frames a second apart, the camera drifting a little
        ("burst/IMG_0101.JPG", cat, T0, 0.6),
        ("burst/IMG_0102.JPG", cat.crop((8, 4, w, h)).resize(cat.size), T0 + timedelta(seconds=1), 0.9),
        ("burst/IMG_0103.JPG", ImageEnhance.Brightness(cat.crop((0, 0, w - 10, h - 6))).enhance(1.1).resize(cat.size),
         T0 + timedelta(seconds=2), 0.7),
        # the coffee photo and its edits: a shared, downsized recompressed copy without a
        # capture time, and a black-and-white edit under another name
        ("cafe/IMG_0200.JPG", coffee, T0 + timedelta(hours=2), 0.8),
        ("cafe/IMG_0200 (1).JPG", _jpeg(coffee.resize((w // 3, h // 3)), 40), None, 0.3),
        ("edits/coffee-bw.jpg", ImageOps.grayscale(coffee).convert("RGB"), None, 0.5),
        # unrelated photos, including two halves of one picture
        ("misc/astronaut-left.jpg", astronaut.crop((0, 0, 256, 512)), T0 + timedelta(hours=5), 0.5),
        ("misc/astronaut-right.jpg", astronaut.crop((256, 0, 512, 512)), T0 + timedelta(hours=5, seconds=5), 0.5),
        ("misc/rocket.jpg", rocket, T0 + timedelta(days=1), 0.5),
        ("misc/bike.jpg", bike, T0 + timedelta(days=1, seconds=20), 0.5),
    ]
    images = [f[1] for f in frames]
    photos = [PhotoSignature(k, _phash(im), t, name, q) for k, (name, im, t, q) in enumerate(frames)]
    groups = find_near_duplicates(photos, embedder.embed(images))
    named = sorted(sorted(frames[i][0] for i in g.members) for g in groups)
    assert named == [
        ["burst/IMG_0101.JPG", "burst/IMG_0102.JPG", "burst/IMG_0103.JPG"],
        ["cafe/IMG_0200 (1).JPG", "cafe/IMG_0200.JPG", "edits/coffee-bw.jpg"],
    ]
    reps = {frames[g.representative][0] for g in groups}
    assert reps == {"burst/IMG_0102.JPG", "cafe/IMG_0200.JPG"}  # the best quality of each


@pytest.mark.samples
def test_themed_groups(samples: Path, embedder) -> None:  # noqa: ANN001
    """The four IMG_4120 files (two copies and the iOS edit IMG_E4120, recropped to a
    square and black-and-white) group; so do two pairs of byte-different files holding
    the same picture (checked by eye: this-is-a-jpeg.png is beach_wood.jpg, and
    dog_created_1919.jpg is dog_toshi_yellow.jpg). No other group: dog_toshi_red shows
    the same dog in another photo and stays apart."""
    from curation.ingest.decode import register_heif

    register_heif()
    files = sorted(p for p in (samples / "themed").iterdir() if p.suffix.lower() in {".jpg", ".png", ".heic"})
    images = []
    for path in files:
        with Image.open(path) as raw:
            img = ImageOps.exif_transpose(raw).convert("RGB")
        img.thumbnail((1024, 1024))
        images.append(img)
    photos = [PhotoSignature(k, _phash(im), None, p.name) for k, (p, im) in enumerate(zip(files, images, strict=True))]
    groups = find_near_duplicates(photos, embedder.embed(images))
    named = sorted(sorted(files[i].name for i in g.members) for g in groups)
    assert named == [
        ["IMG_4120 (1).JPG", "IMG_4120 copy.JPG", "IMG_4120.JPG", "IMG_E4120.JPG"],
        ["beach_wood.jpg", "this-is-a-jpeg.png"],
        ["dog_created_1919.jpg", "dog_toshi_yellow.jpg"],
    ]

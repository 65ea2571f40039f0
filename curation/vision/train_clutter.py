"""Train the clutter head (photo / screenshot / receipt / document) and record how good it is.

    python -m curation.vision.train_clutter [--samples DIR] [--seed 0] [--out curation/vision/data/clutter_head.npz]

Training data (counts are written to ``clutter_head.json``):

* photo: ``screenshots/camera`` (150 camera photos, 64x64, nearly all of one lecture
  hall), ``camera-roll`` (real consumer photos; the broken ``beach.jpg`` is skipped, and
  the few that are test graphics, not photos, are left out or relabelled: see
  CAMERA_ROLL_LABELS), and for variety ``camera-roll-large`` and ``faces`` (portraits
  and group photos). ``themed/`` is kept out: it is the independent check set;
* screenshot: ``screenshots/screenshot`` (150 phone screenshots, 64x64) plus
  **generated** full-size phone/desktop UI screenshots (:func:`render_ui_screenshot`):
  the real set has no full-resolution screenshot at all;
* receipt: ``receipts/img`` (40 photographed and scanned receipts);
* document: scikit-image's two text images (``page.png``, a scanned book page, and
  ``text.png``) plus **generated** rendered pages (:func:`render_document`: letters,
  forms, two-column pages; scanned straight or photographed on a desk). No real set of
  document photos exists in the samples, so the document scores are on generated pages.

Resolution leakage: the 64x64 sets would let a head learn "64 px means screenshot or
lecture hall". Every full-size image therefore also enters training as a degraded copy
(squashed to 64x64 and JPEG-recompressed, as the 64 px sets were made), so each category
is seen at both resolutions and only content separates them.

Evaluation: a stratified, seeded hold-out (25%) grouped by near-duplicate clusters (the
64 px sets hold many frames of the same game or lecture hall; a frame and its twin must
not sit on both sides). The shipped head is fitted on the training part only, so
:func:`evaluate_held_out` can re-score it on the held-out part at any time.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from curation.vision.clutter import (
    CATEGORIES,
    DEFAULT_HEAD,
    ClutterCategory,
    ClutterClassifier,
    ClutterHead,
    ContentSignals,
    FileFacts,
    content_signals,
    fuse,
    metadata_priors,
)

SEED = 0
TEST_FRACTION = 0.25
DEGRADED_SIDE = 64  # the side of the screenshots/ sets' thumbnails
THUMB_SIDE = 1024  # what ingest caches and the vision stage reads
N_GENERATED_DOCUMENTS = 80
N_GENERATED_SCREENSHOTS = 40
DEFAULT_C = 0.05  # inverse L2 strength, chosen by cross-validation on the training part
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff"})

# camera-roll files that are not camera photos (checked by eye). None = left out: test
# graphics that are neither memories nor one of the clutter categories.
CAMERA_ROLL_LABELS: dict[str, ClutterCategory | None] = {
    "Apple iPhone 4.jpg": ClutterCategory.RECEIPT,  # a restaurant bill slip on a table
    "issue 121.jpg": ClutterCategory.DOCUMENT,  # a dimensioned technical drawing
    "Issue 125.jpg": None,  # a TV-show web banner
    "Issue 173 (dotnet).jpg": None,  # grey noise
    "Issue 258 (dotnet).jpg": None,  # the IPTC reference logo
    "Issue 609.jpg": None,  # one line of white text on black
    "Issue 614.jpg": None,  # a solid green square
    "Issue 80.jpg": None,  # a blank page with a one-line caption
    "Multiple ICC segments.jpg": None,  # a company logo
    "Canon Powershot A2500.JPG": None,  # (camera-roll-large) a pen drawing on paper
}


@dataclass(frozen=True)
class TrainingItem:
    key: str  # "receipts/img/000.jpg", "skimage/page.png", "generated/document/7"
    category: ClutterCategory
    source: str  # the set it comes from
    generated: bool = False


# ---------------------------------------------------------------- generated images

_WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there been one all we their has would when if so no will more can said who up its about into "
    "them than only other time new some could these two may first then do any like my now over such our man me "
    "even most made after also did many before must through back years where much your way well down should because "
    "each just those people how too little state good very make world still own see men work long get here between "
    "both life being under never day same another know while last might great old year off come since against go "
    "came right used take three account invoice payment date total amount please number reference meeting report "
    "section agreement notice policy service customer address period balance schedule terms conditions page"
).split()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: renders the same on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def _sentence(rng: np.random.Generator, n: int) -> str:
    return " ".join(_WORDS[i] for i in rng.integers(0, len(_WORDS), n)).capitalize()


def _paragraph(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y: int, width: int,
               size: int, lines: int, ink: tuple[int, int, int]) -> int:
    font = _font(size)
    for k in range(lines):
        words = []
        while True:
            words.append(_WORDS[int(rng.integers(0, len(_WORDS)))])
            if draw.textlength(" ".join(words), font=font) > width:
                words.pop()
                break
        if k == lines - 1:
            words = words[: max(1, int(len(words) * rng.uniform(0.3, 0.9)))]
        draw.text((x, y), " ".join(words), font=font, fill=ink)
        y += int(size * 1.45)
    return y


def skimage_photo(name: str) -> Image.Image:
    """A photo that ships with scikit-image, read from its package folder (not imported)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("generated clutter images need scikit-image's sample photos: pip install scikit-image")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    with Image.open(path) as im:
        return im.convert("RGB")


_SKIMAGE_PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "coins.png")
_DESKS = ((104, 70, 42), (150, 110, 70), (60, 60, 65), (200, 195, 185), (120, 40, 30), (30, 60, 90))


def render_document(rng: np.random.Generator) -> Image.Image:
    """A generated document: a letter, a form or a two-column page, either scanned straight
    (white page filling the frame) or photographed lying on a desk (askew, shaded)."""
    w, h = 1240, 1754  # A4 at 150 dpi
    paper_tone = int(rng.integers(236, 256))
    page = Image.new("RGB", (w, h), (paper_tone, paper_tone, max(0, paper_tone - int(rng.integers(0, 10)))))
    draw = ImageDraw.Draw(page)
    ink_v = int(rng.integers(0, 70))
    ink = (ink_v, ink_v, ink_v + int(rng.integers(0, 30)))
    style = rng.choice(["letter", "form", "columns", "report"])
    margin = int(rng.integers(90, 160))
    body = int(rng.integers(20, 30))
    y = margin
    if style == "letter":
        for _ in range(4):
            draw.text((margin, y), _sentence(rng, 3), font=_font(body), fill=ink)
            y += int(body * 1.4)
        y += 80
        draw.text((margin, y), "Dear " + _sentence(rng, 1) + ",", font=_font(body), fill=ink)
        y += 60
        while y < h - margin - 300:
            y = _paragraph(draw, rng, margin, y, w - 2 * margin, body, int(rng.integers(3, 8)), ink) + body
        draw.text((margin, y + 40), "Yours sincerely,", font=_font(body), fill=ink)
        draw.line((margin, y + 170, margin + 300, y + 150), fill=(20, 30, 120), width=3)
    elif style == "form":
        draw.text((margin, y), _sentence(rng, 3).upper(), font=_font(body + 16), fill=ink)
        y += 120
        rows = int(rng.integers(10, 22))
        row_h = (h - y - margin) // rows
        split = int(rng.integers(300, 600))
        for r in range(rows):
            draw.rectangle((margin, y, w - margin, y + row_h), outline=ink, width=2)
            draw.line((margin + split, y, margin + split, y + row_h), fill=ink, width=2)
            draw.text((margin + 14, y + row_h // 3), _sentence(rng, 2), font=_font(body), fill=ink)
            if rng.random() < 0.7:
                draw.text((margin + split + 14, y + row_h // 3), _sentence(rng, int(rng.integers(1, 5))),
                          font=_font(body), fill=(20, 20, 120) if rng.random() < 0.5 else ink)
            y += row_h
    elif style == "columns":
        draw.text((margin, y), _sentence(rng, 5), font=_font(body + 20), fill=ink)
        y += 110
        col_w = (w - 2 * margin - 60) // 2
        for col in range(2):
            yy = y
            while yy < h - margin - 100:
                yy = _paragraph(draw, rng, margin + col * (col_w + 60), yy, col_w, body - 4,
                                int(rng.integers(4, 12)), ink) + body
        draw.text((w // 2, h - margin // 2), str(int(rng.integers(1, 300))), font=_font(body), fill=ink, anchor="mm")
    else:  # report with a table
        draw.text((margin, y), _sentence(rng, 4), font=_font(body + 14), fill=ink)
        y += 90
        y = _paragraph(draw, rng, margin, y, w - 2 * margin, body, int(rng.integers(4, 9)), ink) + 40
        cols = int(rng.integers(3, 6))
        cw = (w - 2 * margin) // cols
        for r in range(int(rng.integers(6, 14))):
            for c in range(cols):
                text = _sentence(rng, 1) if c == 0 else f"{rng.uniform(0, 9999):.2f}"
                draw.text((margin + c * cw + 8, y + 8), text, font=_font(body - 2), fill=ink)
            draw.line((margin, y + body + 20, w - margin, y + body + 20), fill=(150, 150, 150), width=1)
            y += body + 24
        y += 40
        while y < h - margin - 200:
            y = _paragraph(draw, rng, margin, y, w - 2 * margin, body, int(rng.integers(3, 7)), ink) + body
    if rng.random() < 0.5:  # scanned: straight, the page fills the frame, a little noise
        arr = np.asarray(page, np.float32) + rng.normal(0, 3, (h, w, 1))
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    # photographed on a desk
    cw_, ch_ = (1512, 2016) if rng.random() < 0.75 else (2016, 1512)
    desk = np.array(_DESKS[int(rng.integers(0, len(_DESKS)))], np.float32)
    yy, xx = np.mgrid[0:ch_, 0:cw_].astype(np.float32)
    shade = 0.8 + 0.25 * np.sin(xx / cw_ * rng.uniform(1, 3) + rng.uniform(0, 6))[..., None]
    canvas = Image.fromarray((desk * shade + rng.normal(0, 6, (ch_, cw_, 1))).clip(0, 255).astype(np.uint8))
    scale = rng.uniform(0.6, 0.9) * min(cw_ / w, ch_ / h)
    small = page.resize((int(w * scale), int(h * scale)), Image.Resampling.LANCZOS).convert("RGBA")
    small = small.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BICUBIC, expand=True)
    x0 = (cw_ - small.width) // 2 + int(rng.integers(-60, 60))
    y0 = (ch_ - small.height) // 2 + int(rng.integers(-60, 60))
    canvas.paste(small, (x0, y0), small)
    light = 0.75 + 0.3 * (1 - np.hypot(xx / cw_ - rng.uniform(0.2, 0.8), yy / ch_ - rng.uniform(0.2, 0.8)))
    arr = np.asarray(canvas, np.float32) * light[..., None]
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    return img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 1.2))))


_PHONE_SCREENS = ((1170, 2532), (1080, 2400), (1284, 2778), (750, 1334), (1080, 1920), (1179, 2556))
_DESKTOP_SCREENS = ((1920, 1080), (2560, 1600), (1440, 900), (2048, 1536))


def _status_bar(draw: ImageDraw.ImageDraw, w: int, fg: tuple[int, int, int], rng: np.random.Generator) -> int:
    s = w / 1170
    draw.text((int(90 * s), int(50 * s)), f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}",
              font=_font(int(46 * s)), fill=fg)
    draw.rounded_rectangle((int(w - 210 * s), int(58 * s), int(w - 110 * s), int(104 * s)),
                           radius=int(10 * s), outline=fg, width=max(1, int(4 * s)))
    return int(140 * s)


def render_ui_screenshot(rng: np.random.Generator, size: tuple[int, int] | None = None) -> Image.Image:
    """A generated app screenshot: chat, settings list, photo feed, home screen, article,
    game or map; phone-sized (mostly) or desktop-sized; light or dark."""
    if size is None:
        screens = _PHONE_SCREENS if rng.random() < 0.75 else _DESKTOP_SCREENS
        size = screens[int(rng.integers(0, len(screens)))]
    w, h = size
    s = min(w, h) / 1170
    dark = bool(rng.random() < 0.3)
    bg = (int(rng.integers(0, 40)),) * 3 if dark else (int(rng.integers(235, 256)),) * 3
    fg = (235, 235, 235) if dark else (20, 20, 20)
    accent = tuple(int(v) for v in rng.integers(0, 256, 3))
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    top = _status_bar(draw, w, fg, rng) if h > w else 0
    style = rng.choice(["chat", "list", "feed", "home", "article", "game", "map"])
    font, big = _font(max(10, int(44 * s))), _font(max(12, int(70 * s)))
    if style == "chat":
        draw.rectangle((0, 0, w, top + int(160 * s)), fill=accent)
        y = top + int(220 * s)
        while y < h - int(300 * s):
            text = _sentence(rng, int(rng.integers(2, 7)))
            tw = int(draw.textlength(text, font=font)) + int(80 * s)
            tw = min(tw, w - int(120 * s))
            mine = rng.random() < 0.5
            x0 = w - int(60 * s) - tw if mine else int(60 * s)
            fill = accent if mine else ((60, 60, 60) if dark else (255, 255, 255))
            draw.rounded_rectangle((x0, y, x0 + tw, y + int(110 * s)), radius=int(30 * s), fill=fill)
            draw.text((x0 + int(40 * s), y + int(30 * s)), text, font=font, fill=fg)
            y += int(rng.integers(140, 220) * s)
    elif style == "list":
        draw.text((int(70 * s), top + int(60 * s)), _sentence(rng, 1), font=big, fill=fg)
        y = top + int(220 * s)
        while y < h - int(200 * s):
            draw.rectangle((int(40 * s), y, w - int(40 * s), y + int(140 * s)),
                           fill=(45, 45, 48) if dark else (255, 255, 255))
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw.rounded_rectangle((int(80 * s), y + int(30 * s), int(160 * s), y + int(110 * s)),
                                   radius=int(18 * s), fill=colour)
            draw.text((int(200 * s), y + int(45 * s)), _sentence(rng, int(rng.integers(1, 3))), font=font, fill=fg)
            y += int(142 * s) + (int(70 * s) if rng.random() < 0.2 else 0)
    elif style == "feed":
        y = top + int(40 * s)
        while y < h - int(300 * s):
            draw.ellipse((int(40 * s), y, int(140 * s), y + int(100 * s)), fill=accent)
            draw.text((int(170 * s), y + int(25 * s)), _sentence(rng, 2), font=font, fill=fg)
            y += int(130 * s)
            photo = skimage_photo(_SKIMAGE_PHOTOS[int(rng.integers(0, len(_SKIMAGE_PHOTOS)))])
            ph = int(min(w, h) * rng.uniform(0.5, 0.9))
            photo = ImageOps.fit(photo, (w if h > w else w // 2, ph))
            img.paste(photo, (0, y))
            y += ph + int(40 * s)
            y = _paragraph(draw, rng, int(40 * s), y, w - int(80 * s), max(10, int(38 * s)), 2, fg) + int(60 * s)
    elif style == "home":
        photo = skimage_photo(_SKIMAGE_PHOTOS[int(rng.integers(0, len(_SKIMAGE_PHOTOS)))])
        wallpaper = ImageOps.fit(photo, size).filter(ImageFilter.GaussianBlur(int(rng.integers(0, 30))))
        img.paste(wallpaper)
        draw = ImageDraw.Draw(img)
        _status_bar(draw, w, (255, 255, 255), rng)
        cols = 4 if h > w else 8
        cell = w // cols
        for r in range(int(rng.integers(3, 6))):
            for c in range(cols):
                colour = tuple(int(v) for v in rng.integers(0, 256, 3))
                x0, y0 = c * cell + cell // 6, top + int(80 * s) + r * int(cell * 1.3)
                draw.rounded_rectangle((x0, y0, x0 + cell * 2 // 3, y0 + cell * 2 // 3), radius=cell // 6,
                                       fill=colour)
                draw.text((x0, y0 + cell * 2 // 3 + int(10 * s)), _WORDS[int(rng.integers(0, len(_WORDS)))],
                          font=_font(max(8, int(30 * s))), fill=(255, 255, 255))
    elif style == "article":
        draw.text((int(60 * s), top + int(40 * s)), _sentence(rng, 4), font=big, fill=fg)
        y = top + int(200 * s)
        while y < h - int(150 * s):
            y = _paragraph(draw, rng, int(60 * s), y, w - int(120 * s), max(10, int(40 * s)),
                           int(rng.integers(3, 8)), fg) + int(40 * s)
    elif style == "game":
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        c1, c2 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        grad = np.broadcast_to(c1 * (1 - yy) + c2 * yy, (h, w, 3))
        img = Image.fromarray(grad.astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(8, 30))):
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            r = int(rng.integers(20, 160) * s)
            if rng.random() < 0.5:
                draw.ellipse((x0, y0, x0 + r, y0 + r), fill=colour, outline=(0, 0, 0), width=max(1, int(4 * s)))
            else:
                draw.rounded_rectangle((x0, y0, x0 + 2 * r, y0 + r), radius=r // 4, fill=colour,
                                       outline=(255, 255, 255), width=max(1, int(4 * s)))
        draw.text((int(40 * s), int(60 * s)), f"SCORE {int(rng.integers(0, 99999))}", font=big,
                  fill=(255, 255, 255), stroke_width=max(1, int(3 * s)), stroke_fill=(0, 0, 0))
        for k in range(3):
            x0 = int(w * (0.1 + 0.3 * k))
            draw.rounded_rectangle((x0, h - int(260 * s), x0 + int(w * 0.22), h - int(140 * s)),
                                   radius=int(30 * s), fill=accent, outline=(255, 255, 255), width=max(1, int(5 * s)))
    else:  # map
        land = np.array([232, 228, 218]) if not dark else np.array([40, 44, 52])
        img = Image.new("RGB", size, tuple(int(v) for v in land))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(3, 8))):  # parks and water
            colour = (170, 218, 170) if rng.random() < 0.5 else (160, 200, 240)
            pts = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(5)]
            draw.polygon(pts, fill=colour)
        for _ in range(int(rng.integers(15, 40))):  # roads
            draw.line([(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(2)],
                      fill=(255, 255, 255) if not dark else (90, 90, 100), width=int(rng.integers(6, 24) * s))
        for _ in range(int(rng.integers(5, 15))):
            draw.text((int(rng.integers(0, w - 200)), int(rng.integers(0, h - 50))), _sentence(rng, 1),
                      font=font, fill=fg)
        draw.ellipse((w // 2 - int(30 * s), h // 2 - int(30 * s), w // 2 + int(30 * s), h // 2 + int(30 * s)),
                     fill=(0, 122, 255), outline=(255, 255, 255), width=max(1, int(8 * s)))
    if h > w:  # the home indicator every modern phone screenshot has
        ImageDraw.Draw(img).rounded_rectangle((w // 2 - int(200 * s), h - int(40 * s), w // 2 + int(200 * s),
                                               h - int(26 * s)), radius=int(7 * s), fill=fg)
    return img


def degrade(image: Image.Image, side: int = DEGRADED_SIDE, quality: int = 85) -> Image.Image:
    """Squash to side x side and JPEG-recompress: how the 64 px sample sets were made."""
    small = image.convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as out:
        return out.convert("RGB")


# ---------------------------------------------------------------- the data set


def _photos_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing; set CURATION_SAMPLES to the shared sample sets")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def collect_items(samples: Path) -> list[TrainingItem]:
    """Every labelled image, real and generated (decodability is checked when loading)."""
    items: list[TrainingItem] = []
    for p in _photos_in(samples / "screenshots" / "camera"):
        items.append(TrainingItem(f"screenshots/camera/{p.name}", ClutterCategory.PHOTO, "screenshots/camera"))
    for p in _photos_in(samples / "camera-roll"):
        label = CAMERA_ROLL_LABELS.get(p.name, ClutterCategory.PHOTO)
        if label is not None:
            items.append(TrainingItem(f"camera-roll/{p.name}", label, "camera-roll"))
    for folder in ("camera-roll-large", "faces"):
        for p in _photos_in(samples / folder):
            if CAMERA_ROLL_LABELS.get(p.name, ClutterCategory.PHOTO) is not None:
                items.append(TrainingItem(f"{folder}/{p.name}", ClutterCategory.PHOTO, folder))
    for p in _photos_in(samples / "screenshots" / "screenshot"):
        items.append(TrainingItem(f"screenshots/screenshot/{p.name}", ClutterCategory.SCREENSHOT,
                                  "screenshots/screenshot"))
    for p in _photos_in(samples / "receipts" / "img"):
        items.append(TrainingItem(f"receipts/img/{p.name}", ClutterCategory.RECEIPT, "receipts"))
    for name in ("page.png", "text.png"):
        items.append(TrainingItem(f"skimage/{name}", ClutterCategory.DOCUMENT, "skimage"))
    for k in range(N_GENERATED_DOCUMENTS):
        items.append(TrainingItem(f"generated/document/{k}", ClutterCategory.DOCUMENT, "generated", True))
    for k in range(N_GENERATED_SCREENSHOTS):
        items.append(TrainingItem(f"generated/screenshot/{k}", ClutterCategory.SCREENSHOT, "generated", True))
    return items


def _generated_rng(key: str) -> np.random.Generator:
    # Seeded by the key, not by the run: item k is the same picture in every run.
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little"))


def load_item(item: TrainingItem, samples: Path) -> Image.Image | None:
    """Upright RGB, at most THUMB_SIDE on the longest side (what the vision stage sees);
    None for a file no decoder opens."""
    if item.key.startswith("generated/document/"):
        img = render_document(_generated_rng(item.key))
    elif item.key.startswith("generated/screenshot/"):
        img = render_ui_screenshot(_generated_rng(item.key))
    elif item.key.startswith("skimage/"):
        img = skimage_photo(item.key.split("/", 1)[1])
    else:
        try:
            with Image.open(samples / item.key) as raw:
                raw.draft("RGB", (THUMB_SIDE, THUMB_SIDE))  # JPEG: decode at the scale needed only
                img = ImageOps.exif_transpose(raw).convert("RGB")
        except OSError:
            return None
    img.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BICUBIC)
    return img


def file_facts(item: TrainingItem, samples: Path, image: Image.Image) -> FileFacts | None:
    """The facts the photos table would hold for a real sample file (None for generated)."""
    if item.generated or item.key.startswith("skimage/"):
        return None
    path = samples / item.key
    with Image.open(path) as raw:
        exif = raw.getexif()
        fmt = raw.format
        size = ImageOps.exif_transpose(raw).size
    has_time = bool(exif.get_ifd(0x8769).get(0x9003))
    return FileFacts(
        name=path.name, format=fmt, width=size[0], height=size[1],
        camera_make=(exif.get(0x010F) or None), camera_model=(exif.get(0x0110) or None),
        time_source="exif" if has_time else "none",
    )


def near_duplicate_groups(images: Sequence[Image.Image], max_distance: int = 10) -> list[int]:
    """Group ids such that images whose 64-bit pHash differ by at most ``max_distance``
    bits share a group (transitively): the split keeps each group on one side."""
    import imagehash

    from curation.vision.neardup import UnionFind

    hashes = [int(str(imagehash.phash(im)), 16) for im in images]
    uf = UnionFind(len(images))
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            if (hashes[i] ^ hashes[j]).bit_count() <= max_distance:
                uf.union(i, j)
    return [uf.find(i) for i in range(len(images))]


def split_held_out(categories: Sequence[str], groups: Sequence[int], seed: int = SEED,
                   test_fraction: float = TEST_FRACTION) -> np.ndarray:
    """Boolean mask of the held-out items: stratified by category, grouped, seeded."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_splits = round(1 / test_fraction)
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, test = next(folds.split(np.zeros(len(categories)), list(categories), list(groups)))
    mask = np.zeros(len(categories), dtype=bool)
    mask[test] = True
    return mask


# ---------------------------------------------------------------- features and fitting


@dataclass
class FeatureSet:
    """One row per image variant ("full" or the degraded "64px" copy)."""

    keys: list[str]
    variants: list[str]
    categories: list[ClutterCategory]
    embeddings: np.ndarray  # [N, dim]
    signals: np.ndarray  # [N, len(ContentSignals.NAMES)]
    facts: list[FileFacts | None]

    def select(self, mask: np.ndarray) -> FeatureSet:
        idx = np.flatnonzero(mask)
        return FeatureSet(
            [self.keys[i] for i in idx], [self.variants[i] for i in idx], [self.categories[i] for i in idx],
            self.embeddings[idx], self.signals[idx], [self.facts[i] for i in idx],
        )

    @property
    def labels(self) -> np.ndarray:
        return np.array([CATEGORIES.index(c) for c in self.categories])


def build_features(
    items: Sequence[TrainingItem],
    samples: Path,
    embedder: Any,
    *,
    degraded_copies: bool = True,
    log: Callable[[str], None] = lambda _m: None,
) -> tuple[FeatureSet, list[TrainingItem], list[Image.Image]]:
    """Load (or render) every item, add its 64 px copy when it is larger, embed all."""
    keys, variants, cats, images, facts, kept, originals = [], [], [], [], [], [], []
    for item in items:
        img = load_item(item, samples)
        if img is None:
            log(f"skipped unreadable {item.key}")
            continue
        kept.append(item)
        originals.append(img)
        info = file_facts(item, samples, img)
        keys.append(item.key)
        variants.append("full")
        cats.append(item.category)
        images.append(img)
        facts.append(info)
        if degraded_copies and min(img.size) > 2 * DEGRADED_SIDE:
            keys.append(item.key)
            variants.append("64px")
            cats.append(item.category)
            images.append(degrade(img))
            facts.append(None)  # the copy stands for a thumbnail without a file behind it
    log(f"embedding {len(images)} images ({len(kept)} originals)")
    vectors = []
    for start in range(0, len(images), 64):
        vectors.append(embedder.embed(images[start : start + 64]))
        log(f"  {min(start + 64, len(images))}/{len(images)}")
    signals = np.stack([content_signals(im).as_array() for im in images])
    return FeatureSet(keys, variants, cats, np.concatenate(vectors), signals, facts), kept, originals


def fit_head(features: FeatureSet, *, c: float = DEFAULT_C, use_signals: bool = True, seed: int = SEED) -> ClutterHead:
    """Multinomial logistic regression with class-balanced weights; exported as numpy arrays."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([features.embeddings, features.signals], axis=1) if use_signals else features.embeddings
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
    model.fit((x - mean) / scale, features.labels)
    if list(model.classes_) != list(range(len(CATEGORIES))):
        raise ValueError(f"training data lacks a category: has {model.classes_}, needs all of {CATEGORIES}")
    return ClutterHead(mean, scale, model.coef_.T.copy(), model.intercept_.copy(), use_signals)


@dataclass(frozen=True)
class ClutterMetrics:
    n: int
    accuracy: float
    per_category: dict[str, dict[str, float]]  # category -> precision, recall, n
    confusion: list[list[int]]  # rows: true, columns: predicted, CATEGORIES order
    errors: list[str]  # "key: true -> predicted"

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "accuracy": self.accuracy, "per_category": self.per_category,
                "confusion": self.confusion, "errors": self.errors}


def clutter_metrics(true: Sequence[int], predicted: Sequence[int], keys: Sequence[str] = ()) -> ClutterMetrics:
    true_a, pred_a = np.asarray(true), np.asarray(predicted)
    k = len(CATEGORIES)
    conf = np.zeros((k, k), dtype=int)
    for t, p in zip(true_a, pred_a, strict=True):
        conf[t, p] += 1
    per = {}
    for i, cat in enumerate(CATEGORIES):
        tp = conf[i, i]
        per[cat.value] = {
            "n": int(conf[i].sum()),
            "precision": float(tp / conf[:, i].sum()) if conf[:, i].sum() else float("nan"),
            "recall": float(tp / conf[i].sum()) if conf[i].sum() else float("nan"),
        }
    errors = [f"{key}: {CATEGORIES[t].value} -> {CATEGORIES[p].value}"
              for key, t, p in zip(keys, true_a, pred_a, strict=False) if t != p]
    return ClutterMetrics(len(true_a), float(np.mean(true_a == pred_a)) if len(true_a) else float("nan"),
                          per, conf.tolist(), errors)


def predict_rows(head: ClutterHead, features: FeatureSet, *, with_priors: bool) -> np.ndarray:
    p = head.probabilities(features.embeddings, features.signals if head.use_signals else None)
    if with_priors:
        p = np.stack([fuse(row, metadata_priors(f)[0]) for row, f in zip(p, features.facts, strict=True)])
    return p.argmax(axis=1)


def score_head(head: ClutterHead, features: FeatureSet) -> dict[str, ClutterMetrics]:
    """Metrics on full-size originals (with and without the file priors) and on 64 px copies."""
    out = {}
    full = features.select(np.array([v == "full" for v in features.variants]))
    if full.keys:
        out["full"] = clutter_metrics(full.labels, predict_rows(head, full, with_priors=True), full.keys)
        out["full_head_only"] = clutter_metrics(full.labels, predict_rows(head, full, with_priors=False), full.keys)
    small = features.select(np.array([v == "64px" for v in features.variants]))
    if small.keys:
        out["64px_copies"] = clutter_metrics(small.labels, predict_rows(head, small, with_priors=False),
                                             [f"{k} (64px)" for k in small.keys])
    return out


def cross_validate_c(features: FeatureSet, groups: Sequence[int], cs: Sequence[float], *, seed: int = SEED,
                     use_signals: bool = True, folds: int = 4) -> dict[float, float]:
    """Grouped, stratified k-fold accuracy on the full-size originals for each C."""
    from sklearn.model_selection import StratifiedGroupKFold

    cats = [c.value for c in features.categories]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + 1)
    out = {}
    for c in cs:
        hits, total = 0, 0
        for train, test in splitter.split(np.zeros(len(cats)), cats, list(groups)):
            tr = np.zeros(len(cats), bool)
            tr[train] = True
            head = fit_head(features.select(tr), c=c, use_signals=use_signals, seed=seed)
            te = features.select(~tr & np.array([v == "full" for v in features.variants]))
            hits += int((predict_rows(head, te, with_priors=False) == te.labels).sum())
            total += len(te.keys)
        out[c] = hits / total
    return out


# ---------------------------------------------------------------- held-out evaluation


def held_out_items(record: dict[str, Any]) -> list[TrainingItem]:
    return [TrainingItem(k, ClutterCategory(c), s, g) for k, c, s, g in record["held_out"]]


def evaluate_held_out(samples: Path, embedder: Any, classifier: ClutterClassifier | None = None, *,
                      degraded_copies: bool = True) -> dict[str, ClutterMetrics]:
    """Re-score the shipped head on the held-out items its JSON lists (it never saw them).
    ``degraded_copies=False`` skips the 64 px copies (half the embedding time)."""
    classifier = (classifier or ClutterClassifier()).load()
    classifier.check_embedder(embedder.model_version)
    items = held_out_items(classifier.record)
    features, _, _ = build_features(items, samples, embedder, degraded_copies=degraded_copies)
    return score_head(classifier.head, features)


def format_metrics(metrics: dict[str, ClutterMetrics], out: TextIO = sys.stdout) -> None:
    titles = {
        "full": "held-out, as the stage decides (head + file priors)",
        "full_head_only": "held-out, head only (no file priors)",
        "64px_copies": "held-out full-size images degraded to 64 px (head only)",
    }
    for name, m in metrics.items():
        print(f"{titles.get(name, name)}: accuracy {m.accuracy:.3f} on {m.n}", file=out)
        print(f"  {'category':<11} {'n':>4} {'precision':>9} {'recall':>6}", file=out)
        for cat, row in m.per_category.items():
            print(f"  {cat:<11} {row['n']:>4} {row['precision']:>9.3f} {row['recall']:>6.3f}", file=out)
        for err in m.errors[:10]:
            print(f"  wrong: {err}", file=out)


# ---------------------------------------------------------------- command


def train(samples: Path, embedder: Any, *, out: Path = DEFAULT_HEAD, seed: int = SEED,
          cs: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0), log: Callable[[str], None] = print) -> dict[str, Any]:
    started = time.perf_counter()
    items = collect_items(samples)
    features, kept, originals = build_features(items, samples, embedder, log=log)
    groups_by_key = dict(zip([i.key for i in kept], near_duplicate_groups(originals), strict=True))
    held = split_held_out([i.category.value for i in kept], [groups_by_key[i.key] for i in kept], seed=seed)
    held_keys = {i.key for i, h in zip(kept, held, strict=True) if h}
    test_mask = np.array([k in held_keys for k in features.keys])
    train_set, test_set = features.select(~test_mask), features.select(test_mask)
    train_groups = [groups_by_key[k] for k in train_set.keys]
    cv = {f"signals={u}": cross_validate_c(train_set, train_groups, cs, seed=seed, use_signals=u)
          for u in (True, False)}
    log(f"cross-validated accuracy by C: {json.dumps(cv)}")
    # Ties go to the simpler head (no signals) and the stronger regularisation (smaller C).
    best_key, best_c = max(((k, c) for k in cv for c in cv[k]),
                           key=lambda kc: (round(cv[kc[0]][kc[1]], 6), kc[0] == "signals=False", -kc[1]))
    use_signals = best_key == "signals=True"
    head = fit_head(train_set, c=best_c, use_signals=use_signals, seed=seed)
    metrics = score_head(head, test_set)
    head.save(out)
    counts: dict[str, dict[str, int]] = defaultdict(Counter)  # type: ignore[assignment]
    for key, variant, cat in zip(features.keys, features.variants, features.categories, strict=True):
        source = next(i.source for i in kept if i.key == key)
        split = "held_out" if key in held_keys else "train"
        counts[f"{split}/{variant}"][f"{cat.value}:{source}"] += 1
    record = {
        "embedder_model_version": embedder.model_version,
        "trained_at": datetime.now().isoformat(timespec="seconds"),
        "seed": seed,
        "test_fraction": TEST_FRACTION,
        "c": best_c,
        "use_signals": use_signals,
        "signal_names": list(ContentSignals.NAMES),
        "categories": [c.value for c in CATEGORIES],
        "cross_validation": cv,
        "counts": {k: dict(sorted(v.items())) for k, v in sorted(counts.items())},
        "generated": {"documents": N_GENERATED_DOCUMENTS, "screenshots": N_GENERATED_SCREENSHOTS,
                      "note": "generated documents and UI screenshots are rendered by this module, not real"},
        "excluded": {k: (v.value if v else "left out") for k, v in CAMERA_ROLL_LABELS.items()},
        "metrics": {k: m.as_dict() for k, m in metrics.items()},
        "held_out": [[i.key, i.category.value, i.source, i.generated] for i in kept if i.key in held_keys],
        "seconds": round(time.perf_counter() - started, 1),
    }
    out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    format_metrics(metrics)
    log(f"wrote {out} and {out.with_suffix('.json')}")
    return record


def main(argv: Sequence[str] | None = None) -> int:
    from curation.settings import Settings
    from curation.vision.embedders import create_embedder

    settings = Settings()
    parser = argparse.ArgumentParser(prog="python -m curation.vision.train_clutter", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=settings.samples)
    parser.add_argument("--embedder", default=settings.embedder)
    parser.add_argument("--out", type=Path, default=DEFAULT_HEAD)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    kwargs = {"cache_dir": settings.model_cache} if args.embedder == "efficientnet_lite0" else {}
    train(args.samples, create_embedder(args.embedder, **kwargs), out=args.out, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

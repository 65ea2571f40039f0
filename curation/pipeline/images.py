"""Loading cached thumbnails for the model stages, overlapped with inference."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from PIL import Image

from curation.ingest.decode import thumbnail_path

T = TypeVar("T")
R = TypeVar("R")


def load_thumbnail(cache_dir: Path, sha256: str, size: int, min_side: int = 0) -> Image.Image:
    """The cached thumbnail as RGB; JPEG draft keeps the decode to what ``min_side`` needs."""
    with Image.open(thumbnail_path(cache_dir, sha256, size)) as image:
        if min_side:
            w, h = image.size
            scale = min_side / min(w, h)
            if scale < 1:
                image.draft("RGB", (round(w * scale), round(h * scale)))
        return image.convert("RGB")


def prefetched(
    items: Sequence[T], load: Callable[[T], R], batch_size: int, threads: int = 2
) -> Iterator[tuple[list[T], list[R]]]:
    """Yield (items, loaded) batches; the next batch loads in threads while the caller runs
    the model on this one (Pillow releases the GIL while decoding and resizing, numpy in
    most array work, ONNX Runtime and dlib's HOG scan while they run)."""
    batches = [list(items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
    if not batches:
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending = pool.map(load, batches[0])
        for index, batch in enumerate(batches):
            images = list(pending)
            if index + 1 < len(batches):
                pending = pool.map(load, batches[index + 1])
            yield batch, images

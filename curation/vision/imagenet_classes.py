"""ImageNet-1k class names in the order of the classifier's logits.

Read from ``data/imagenet_classes.tsv`` (a copy of timm's list) on first use, so
neither importing this module nor the ONNX path needs timm or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

N_CLASSES = 1000
_DATA = Path(__file__).parent / "data" / "imagenet_classes.tsv"


@dataclass(frozen=True)
class ImageNetClass:
    index: int
    synset: str  # WordNet id, e.g. "n02123045"
    description: str  # comma-separated lemmas, e.g. "tabby, tabby cat"

    @property
    def name(self) -> str:
        """The first lemma: "tabby"."""
        return self.description.split(",")[0].strip()


@cache
def imagenet_classes() -> tuple[ImageNetClass, ...]:
    rows = [
        line.rstrip("\n").split("\t")
        for line in _DATA.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    if len(rows) != N_CLASSES:
        raise RuntimeError(f"{_DATA} lists {len(rows)} classes, expected {N_CLASSES}")
    return tuple(ImageNetClass(i, synset, desc) for i, (synset, desc) in enumerate(rows))


@cache
def _index_by_name() -> dict[str, int]:
    index: dict[str, int] = {}
    duplicated: set[str] = set()
    for c in imagenet_classes():
        if c.name in index:
            duplicated.add(c.name)
        index[c.name] = c.index
    # "crane" (bird and machine) and "maillot" are ambiguous: callers use the index.
    for name in duplicated:
        del index[name]
    return index


def class_index(name: str) -> int:
    """Index of the class whose first lemma is ``name`` ("seashore" -> 978)."""
    try:
        return _index_by_name()[name]
    except KeyError:
        dup = [c.index for c in imagenet_classes() if c.name == name]
        if dup:
            raise KeyError(f"ImageNet class name {name!r} is ambiguous (indices {dup}); use the index") from None
        raise KeyError(f"no ImageNet class is named {name!r} (first lemma, e.g. 'seashore')") from None


def class_name(index: int) -> str:
    return imagenet_classes()[index].name

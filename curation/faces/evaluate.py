"""How well faces are grouped into persons, on the labelled sample photos (BCubed).

Run ``python -m curation.faces.evaluate [--samples DIR]``. It detects and embeds every
photo of ``faces/``, clusters all faces, and scores the clustering against identities
read from the file names (see :func:`identities` for the rules and docs/faces.md for why).

BCubed (Bagga & Baldwin 1998, Amigó et al. 2009) scores each face: precision is the share
of its cluster that is the same person, recall the share of its person that is in its
cluster; both are averaged over faces. Unlike pair counting it does not let one big
person dominate, and unlike purity it punishes both merging and splitting.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from curation.faces.detector import Face, FaceModel, create_face_model
from curation.faces.people import DEFAULT_THRESHOLD, Linkage, cluster_faces

# Files whose name is not "FamilyN-Role<k>" but which show one known person. They are
# byte-identical copies or other photos of the family members (checked by eye).
_SINGLE_PERSON_ALIASES = {
    "child": "Family1-Daughter",  # child1..3-person-group = Family1-Daughter3, 1, 2
    "man": "Family2-Man",  # man1, man3 = Family2-Man2, Man1; man2 is another photo of him
    "woman": "Family2-Lady",  # woman2, woman3 = Family2-Lady2, Lady1; woman1 another photo
    "extra-woman-image": "Family2-Lady",  # = Family2-Lady1
    "findsimilar": "Family1-Dad",  # = Family1-Dad2
}
_FAMILY_PORTRAIT = re.compile(r"^(Family\d+-[A-Za-z]+)\d*$")
_GROUP_MEMBER = re.compile(r"^(child|man|woman)\d+-person-group$")

# Photos with several people: who is where, as the face centre in fractions of the width
# and height, labelled by eye. A detected face takes the label whose point lies inside
# its box (nearest if several). People turned away are listed too, so a detector that
# finds them is scored on them.
GROUP_PHOTOS: dict[str, tuple[tuple[float, float, str], ...]] = {
    "identification1.jpg": (  # Family1 on the beach, left to right
        (0.31, 0.38, "Family1-Son"),
        (0.45, 0.47, "Family1-Dad"),
        (0.55, 0.54, "Family1-Mom"),
        (0.67, 0.53, "Family1-Daughter"),
    ),
    "test-image-person-group.jpg": (
        (0.47, 0.37, "Family2-Man"),
        (0.665, 0.44, "Family2-Lady"),
    ),
    # detection*: people of no family, each their own person, except detection6, the
    # older couple of Family3-Man1 / Family3-Lady1 (same models, same shoot; judged by
    # eye side by side, then confirmed by descriptor distances of 0.33 and 0.45).
    "detection1.jpg": ((0.57, 0.34, "detection1-woman"),),
    "detection2.jpg": ((0.33, 0.29, "detection2-man"),),
    "detection3.jpg": ((0.56, 0.38, "detection3-man"),),  # looks up and sideways
    "detection4.jpg": (
        (0.24, 0.35, "detection4-woman-blurred"),  # out of focus in the foreground
        (0.44, 0.48, "detection4-woman"),
        (0.76, 0.46, "detection4-man"),
    ),
    "detection5.jpg": (
        (0.26, 0.42, "detection5-woman"),
        (0.48, 0.63, "detection5-baby"),
        (0.65, 0.40, "detection5-man"),
    ),
    "detection6.jpg": (
        (0.40, 0.40, "Family3-Man"),
        (0.54, 0.29, "Family3-Lady"),
    ),
}


def single_person_identity(file_name: str) -> str | None:
    """The person a one-person photo shows, from its name; None when it is not one."""
    stem = Path(file_name).stem
    if match := _FAMILY_PORTRAIT.match(stem):
        return match.group(1)
    if match := _GROUP_MEMBER.match(stem):
        return _SINGLE_PERSON_ALIASES[match.group(1)]
    return _SINGLE_PERSON_ALIASES.get(stem)


def identities(file_name: str, faces: Sequence[Face]) -> list[str | None]:
    """Ground-truth identity per detected face; None = unknown (left out of the score).

    One-person photos (portrait crops): the biggest face is the named person; any other
    face is a stranger cut by the crop edge and stays unknown. Group photos: the face
    whose box holds a labelled point. Faces in other photos are unknown.
    """
    out: list[str | None] = [None] * len(faces)
    points = GROUP_PHOTOS.get(Path(file_name).name)
    if points is not None:
        for k, face in enumerate(faces):
            left, top, right, bottom = face.box_norm
            cx, cy = (left + right) / 2, (top + bottom) / 2
            inside = [p for p in points if left <= p[0] <= right and top <= p[1] <= bottom]
            if inside:
                out[k] = min(inside, key=lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2)[2]
        return out
    person = single_person_identity(file_name)
    if person and faces:
        def area(face: Face) -> float:
            left, top, right, bottom = face.box_norm
            return (right - left) * (bottom - top)

        biggest = max(range(len(faces)), key=lambda k: area(faces[k]))
        out[biggest] = person
    return out


@dataclass(frozen=True)
class BCubed:
    precision: float
    recall: float
    f1: float
    n_items: int


def bcubed(predicted: Sequence[object], gold: Sequence[object]) -> BCubed:
    """BCubed precision, recall and F1 of a clustering (``predicted`` labels) against
    ``gold`` classes, one entry per item."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted labels for {len(gold)} gold labels")
    if not len(gold):
        raise ValueError("BCubed needs at least one item")
    _, pred = np.unique(np.asarray(predicted, dtype=object).astype(str), return_inverse=True)
    _, true = np.unique(np.asarray(gold, dtype=object).astype(str), return_inverse=True)
    same_cluster = pred[:, None] == pred[None, :]
    same_class = true[:, None] == true[None, :]
    both = (same_cluster & same_class).sum(axis=1)
    precision = float(np.mean(both / same_cluster.sum(axis=1)))
    recall = float(np.mean(both / same_class.sum(axis=1)))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BCubed(precision, recall, f1, len(gold))


@dataclass(frozen=True)
class DetectedPhoto:
    file_name: str
    sha256: str
    width: int
    height: int
    faces: tuple[Face, ...]
    seconds: float  # detect_and_embed wall time
    cpu_seconds: float  # its CPU time: the cost on an idle machine when the box is shared


def detect_samples(
    faces_dir: Path, model: FaceModel, *, longest_side: int | None = None
) -> list[DetectedPhoto]:
    """Detect and embed every JPEG/PNG in ``faces_dir`` (upright, RGB), sorted by name.

    ``longest_side`` first resizes each photo to that size, as the pipeline does (it
    hands the face model its 1024 px rendition); the samples are 109-1000 px as stored.
    """
    if longest_side is not None and longest_side < 32:
        raise ValueError(f"longest_side must be >= 32 px, got {longest_side}")
    files = sorted(p for p in faces_dir.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if not files:
        raise FileNotFoundError(f"no .jpg/.png photos in {faces_dir}")
    model.load()  # so the first photo's time is not the weights' loading time
    out = []
    for path in files:
        data = path.read_bytes()
        with Image.open(path) as img:
            image = ImageOps.exif_transpose(img).convert("RGB")
        if longest_side is not None:
            scale = longest_side / max(image.size)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        start, cpu_start = time.perf_counter(), time.process_time()
        faces = model.detect_and_embed(image)
        out.append(
            DetectedPhoto(
                path.name,
                hashlib.sha256(data).hexdigest(),
                image.width,
                image.height,
                tuple(faces),
                time.perf_counter() - start,
                time.process_time() - cpu_start,
            )
        )
    return out


@dataclass(frozen=True)
class FaceClusteringScore:
    subset: str  # "all files" or "unique files"
    n_photos: int
    n_faces: int  # detected
    n_labelled: int  # with a known identity (the scored ones)
    n_persons: int  # distinct identities among them
    n_clusters: int  # persons found among the labelled faces
    precision: float
    recall: float
    f1: float
    faces_per_s: float
    ms_per_photo: float
    cpu_ms_per_photo: float
    missed: tuple[str, ...]  # labelled people the detector did not find (group photos)


def score_clustering(
    photos: Sequence[DetectedPhoto],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    linkage: Linkage | str = Linkage.AVERAGE,
    unique_files: bool = False,
) -> FaceClusteringScore:
    """Cluster every detected face, then score the labelled ones with BCubed.

    Unknown faces are clustered too (they can pull known faces into wrong clusters) but
    are not scored. With ``unique_files`` byte-identical copies count once: the sample
    set holds 12 copies, whose faces match at distance 0 and make clustering look easy.
    """
    if unique_files:
        seen: set[str] = set()
        kept = []
        for p in photos:
            if p.sha256 not in seen:
                seen.add(p.sha256)
                kept.append(p)
        photos = kept
    embeddings, photo_ids, gold = [], [], []
    missed = []
    for p in photos:
        labels = identities(p.file_name, p.faces)
        for face, label in zip(p.faces, labels, strict=True):
            embeddings.append(face.embedding)
            photo_ids.append(p.file_name)
            gold.append(label)
        for _, _, person in GROUP_PHOTOS.get(p.file_name, ()):
            if person not in labels:
                missed.append(f"{p.file_name}:{person}")
    if not embeddings:
        raise ValueError("no face was detected in any sample photo")
    predicted = cluster_faces(
        np.stack(embeddings), threshold=threshold, linkage=linkage, photo_ids=photo_ids
    )
    scored = [k for k, g in enumerate(gold) if g is not None]
    result = bcubed([predicted[k] for k in scored], [gold[k] for k in scored])
    seconds = sum(p.seconds for p in photos)
    return FaceClusteringScore(
        subset="unique files" if unique_files else "all files",
        n_photos=len(photos),
        n_faces=len(embeddings),
        n_labelled=len(scored),
        n_persons=len({gold[k] for k in scored}),
        n_clusters=len({int(predicted[k]) for k in scored}),
        precision=result.precision,
        recall=result.recall,
        f1=result.f1,
        faces_per_s=len(embeddings) / seconds if seconds else float("nan"),
        ms_per_photo=1000 * seconds / len(photos),
        cpu_ms_per_photo=1000 * sum(p.cpu_seconds for p in photos) / len(photos),
        missed=tuple(missed),
    )


def format_table(scores: Sequence[FaceClusteringScore]) -> str:
    header = (
        f"{'subset':<13} {'photos':>6} {'faces':>5} {'scored':>6} {'persons':>7} "
        f"{'clusters':>8} {'precision':>9} {'recall':>6} {'F':>6} {'faces/s':>7} "
        f"{'ms/photo':>8} {'cpu ms':>6}"
    )
    lines = [header, "-" * len(header)]
    for s in scores:
        lines.append(
            f"{s.subset:<13} {s.n_photos:>6} {s.n_faces:>5} {s.n_labelled:>6} {s.n_persons:>7} "
            f"{s.n_clusters:>8} {s.precision:>9.3f} {s.recall:>6.3f} {s.f1:>6.3f} "
            f"{s.faces_per_s:>7.2f} {s.ms_per_photo:>8.0f} {s.cpu_ms_per_photo:>6.0f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m curation.faces.evaluate",
        description="BCubed precision/recall/F of face clustering on the labelled samples.",
    )
    parser.add_argument(
        "--samples", type=Path, default=None,
        help="sample sets folder holding faces/ (default: the CURATION_SAMPLES setting)",
    )
    parser.add_argument("--model", default="dlib_resnet", help="face model name")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--linkage", default=Linkage.AVERAGE.value,
                        choices=[m.value for m in Linkage])
    parser.add_argument("--jitters", type=int, default=1, help="dlib num_jitters")
    parser.add_argument(
        "--longest-side", type=int, default=None,
        help="resize photos to this longest side first (the pipeline uses 1024)",
    )
    args = parser.parse_args(argv)

    if args.samples is None:
        from curation.settings import Settings

        args.samples = Settings().samples
    faces_dir = args.samples / "faces" if (args.samples / "faces").is_dir() else args.samples
    if not faces_dir.is_dir():
        parser.error(f"{faces_dir} is not a folder; pass --samples DIR (the folder holding faces/)")
    model = create_face_model(args.model, num_jitters=args.jitters)
    photos = detect_samples(faces_dir, model, longest_side=args.longest_side)
    scores = [
        score_clustering(photos, threshold=args.threshold, linkage=args.linkage, unique_files=u)
        for u in (False, True)
    ]
    size = f"resized to {args.longest_side} px" if args.longest_side else "as stored"
    print(f"{faces_dir} ({size}) | model {model.model_version} | {args.linkage} linkage, "
          f"threshold {args.threshold}")
    print(format_table(scores))
    if scores[0].missed:
        print("not detected:", ", ".join(scores[0].missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

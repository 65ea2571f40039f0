"""Faces stage: detect and embed faces on the 1024 px thumbnails of photos not yet
scanned, save face crops, then place the new faces into persons (stable ids)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from curation.pipeline.images import load_thumbnail, prefetched
from curation.pipeline.writes import BufferedWrites
from curation.settings import Settings
from curation.store import Store, table_exists

ProgressFn = Callable[[int, int, str], None]
CROP_SIZE = 160


@dataclass
class FacesReport:
    model_version: str
    n_scanned: int = 0
    n_faces: int = 0
    n_persons: int = 0
    reclustered: bool = False


def face_crop_path(cache_dir: Path, face_id: str) -> Path:
    return cache_dir / "faces" / f"{face_id}.jpg"


def run_faces_stage(
    store: Store,
    settings: Settings,
    library_id: int,
    *,
    face_model=None,  # noqa: ANN001 - a curation.faces.FaceModel, injected to share a loaded one
    progress: ProgressFn | None = None,
) -> FacesReport:
    from curation.faces import create_face_model, face_crop

    face_model = face_model or create_face_model(**settings.faces.model_options())
    version = face_model.model_version
    report = FacesReport(model_version=version)
    with store.connect() as con:
        todo = con.execute(
            "SELECT p.photo_id, p.sha256, p.rel_path FROM photos p WHERE p.library_id = ? "
            "AND p.status = 'ok' AND NOT EXISTS (SELECT 1 FROM face_scans s "
            "WHERE s.photo_id = p.photo_id AND s.model_version = ?) ORDER BY p.photo_id",
            [library_id, version],
        ).fetchall()
    large = max(settings.ingest.thumb_sizes)

    def load(row: tuple):  # noqa: ANN202
        try:
            return load_thumbnail(settings.cache, row[1], large)
        except OSError:
            return None

    def scan(photo_id: int, image) -> list:  # noqa: ANN001 - a PIL image or None
        found = face_model.detect_and_embed(image) if image is not None else []
        for n, face in enumerate(found):
            target = face_crop_path(settings.cache, f"{photo_id}-{n}")
            target.parent.mkdir(parents=True, exist_ok=True)
            face_crop(image, face, CROP_SIZE).save(target, quality=88)
        return found

    done = 0
    # The HOG scan (most of the cost) releases the GIL, so settings.faces.threads photos are
    # scanned side by side; the next batch of thumbnails decodes meanwhile.
    with ThreadPoolExecutor(max_workers=settings.faces.threads) as pool, BufferedWrites(store, _write_scans) as writes:
        for batch, images in prefetched(todo, load, 16, threads=1):
            results = pool.map(scan, [row[0] for row in batch], images)
            scans, faces = [], []
            for (photo_id, _sha, _path), found in zip(batch, results, strict=True):
                scans.append((photo_id, version, len(found)))
                faces += [
                    (f"{photo_id}-{n}", library_id, photo_id, version, *face.box_norm, face.confidence,
                     np.asarray(face.embedding, np.float32))
                    for n, face in enumerate(found)
                ]
            writes.add(store, scans, faces)
            report.n_scanned += len(batch)
            report.n_faces += len(faces)
            done += len(batch)
            if progress:
                progress(done, len(todo), batch[-1][2])
    report.n_persons, report.reclustered = update_people(store, library_id, version)
    return report


def _write_scans(store: Store, scans: list[tuple], faces: list[tuple]) -> None:
    scan_frame = pd.DataFrame(scans, columns=["photo_id", "model_version", "n_faces"])
    face_frame = pd.DataFrame(
        faces,
        columns=["face_id", "library_id", "photo_id", "model_version", "box_left", "box_top",
                 "box_right", "box_bottom", "confidence", "embedding"],
    )  # fmt: skip
    with store.connect() as con:
        con.begin()
        con.register("scan_frame", scan_frame)
        con.execute("INSERT OR REPLACE INTO face_scans SELECT * FROM scan_frame")
        if len(face_frame):
            con.register("face_frame", face_frame)
            con.execute(
                "INSERT OR REPLACE INTO faces (face_id, library_id, photo_id, model_version, box_left, box_top, "
                "box_right, box_bottom, confidence, embedding) SELECT * FROM face_frame"
            )
        con.commit()


def load_people_index(con: duckdb.DuckDBPyConnection, library_id: int, version: str):  # noqa: ANN201
    """The library's PeopleIndex as persisted (faces already assigned to persons), with the
    face links people made (``face_links``, when the table exists)."""
    from curation.faces.people import FaceLink, FaceRecord, PeopleIndex, PeopleRecords, PersonRecord

    rows = con.execute(
        "SELECT face_id, photo_id, person_id, pinned, embedding FROM faces "
        "WHERE library_id = ? AND model_version = ? AND person_id IS NOT NULL ORDER BY face_id",
        [library_id, version],
    ).fetchall()
    persons = con.execute(
        "SELECT person_id, name, merged_into FROM persons WHERE library_id = ? ORDER BY person_id", [library_id]
    ).fetchall()
    state = con.execute("SELECT next_person_id FROM people_state WHERE library_id = ?", [library_id]).fetchone()
    links = (
        con.execute(
            "SELECT face_a, face_b, same_person, source FROM face_links WHERE library_id = ? ORDER BY position",
            [library_id],
        ).fetchall()
        if table_exists(con, "face_links")
        else []
    )
    records = PeopleRecords(
        faces=tuple(FaceRecord(r[0], str(r[1]), int(r[2]), bool(r[3])) for r in rows),
        persons=tuple(PersonRecord(int(p[0]), p[1], p[2]) for p in persons),
        next_person_id=int(state[0]) if state else 1,
        links=tuple(FaceLink(a, b, bool(same), source) for a, b, same, source in links),
    )
    embeddings = {r[0]: np.asarray(r[4], np.float32) for r in rows}
    return PeopleIndex.from_records(records, embeddings)


def save_people_index(con: duckdb.DuckDBPyConnection, library_id: int, index) -> None:  # noqa: ANN001
    records = index.to_records()
    assignments = pd.DataFrame(
        [(f.face_id, f.person_id, f.pinned) for f in records.faces], columns=["face_id", "person_id", "pinned"]
    )
    persons = pd.DataFrame(
        [(library_id, p.person_id, p.name, p.merged_into) for p in records.persons],
        columns=["library_id", "person_id", "name", "merged_into"],
    )
    links = pd.DataFrame(
        [(library_id, lk.face_a, lk.face_b, lk.same_person, lk.source.value, k) for k, lk in enumerate(records.links)],
        columns=["library_id", "face_a", "face_b", "same_person", "source", "position"],
    )
    con.begin()
    con.register("assignments", assignments)
    con.execute(
        "UPDATE faces SET person_id = a.person_id, pinned = a.pinned FROM assignments a WHERE faces.face_id = a.face_id"
    )
    con.execute("DELETE FROM persons WHERE library_id = ?", [library_id])
    if len(persons):
        con.register("person_rows", persons)
        con.execute("INSERT INTO persons SELECT * FROM person_rows")
    con.execute(
        "INSERT OR REPLACE INTO people_state VALUES (?, ?)", [library_id, records.next_person_id]
    )
    if table_exists(con, "face_links"):
        con.execute("DELETE FROM face_links WHERE library_id = ?", [library_id])
        if len(links):
            con.register("link_rows", links)
            con.execute(
                "INSERT INTO face_links (library_id, face_a, face_b, same_person, source, position) "
                "SELECT * FROM link_rows"
            )
    con.commit()


def update_people(store: Store, library_id: int, version: str) -> tuple[int, bool]:
    """Assign unplaced faces to persons. The first time (or while the library is small
    enough that a full re-clustering is cheap) all faces are re-clustered; ids stay stable."""
    from curation.faces.people import FaceObservation

    with store.connect() as con:
        index = load_people_index(con, library_id, version)
        new = [
            FaceObservation(r[0], str(r[1]), np.asarray(r[2], np.float32))
            for r in con.execute(
                "SELECT face_id, photo_id, embedding FROM faces WHERE library_id = ? AND model_version = ? "
                "AND person_id IS NULL ORDER BY face_id",
                [library_id, version],
            ).fetchall()
        ]
        if not new and len(index):
            return len(index.persons()), False
        recluster = len(index) + len(new) <= 5000
        if recluster:
            index.recluster(new)
        else:
            index.assign_new_faces(new)
        save_people_index(con, library_id, index)
        return len(index.persons()), recluster

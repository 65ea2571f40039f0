"""Planning a distributed run against the store: ids first, work second.

The store hands out ``library_id``, ``run_id`` and ``photo_id`` from its sequences. A local
run takes them while it writes; a distributed run takes the same ones up front (the
libraries in the order given, each library's files in scan order, exactly as the local
ingest would), so the workers can name faces (``<photo_id>-<n>``) and albums
(``<library_id>-<kind>-<key>``) just as a local run does, and the results load into the
store with no id rewriting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from curation.ingest.pipeline import register_library, start_run
from curation.ingest.scan import scan_library
from curation.records import IngestIssue
from curation.store import Store


class LibraryNotFresh(ValueError):
    """The library already has results in the store; a distributed run starts from scratch."""


@dataclass(frozen=True)
class PlannedFile:
    photo_id: int
    rel_path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class LibraryPlan:
    library_id: int
    run_id: int
    root: Path
    partition: str  # the Parquet partition value: library=<partition>
    files: tuple[PlannedFile, ...]
    scan_issues: tuple[IngestIssue, ...]

    def as_manifest(self) -> dict:
        return {
            "library_id": self.library_id,
            "run_id": self.run_id,
            "root": str(self.root),
            "name": self.root.name,
            "partition": self.partition,
            "n_files": len(self.files),
        }


def plan_libraries(store: Store, roots: Sequence[Path], stages: str, now: datetime) -> list[LibraryPlan]:
    """Register the libraries, open a run for each and reserve the photo ids of their files."""
    resolved = [Path(r).resolve() for r in roots]
    for root in resolved:
        if not root.is_dir():
            raise FileNotFoundError(f"Library folder not found: {root}")
    repeated = [str(r) for r, n in Counter(resolved).items() if n > 1]
    if repeated:
        raise ValueError(f"A library is given twice: {', '.join(repeated)}. Give each folder once.")
    names = Counter(r.name for r in resolved)
    library_ids = []
    for root in resolved:  # every check before any run is opened
        library_id = register_library(store, root)
        with store.connect() as con:
            n_photos = con.execute("SELECT count(*) FROM photos WHERE library_id = ?", [library_id]).fetchall()[0][0]
        if n_photos:
            raise LibraryNotFresh(
                f"{root} already has {n_photos} photos in {store.path}. The ray backend curates whole libraries "
                "from scratch; top it up with `--backend local` (it keeps person names, merges and reviews), "
                "or give another --db."
            )
        library_ids.append(library_id)
    plans = []
    for root, library_id in zip(resolved, library_ids, strict=True):
        scan = scan_library(root)
        run_id = start_run(store, library_id, stages, now)
        with store.connect() as con:
            # nextval in a query over range(n): the same ids, in the same order, that the
            # local ingest's n inserts would take.
            ids = sorted(
                r[0] for r in con.execute("SELECT nextval('photo_id_seq') FROM range(?)", [len(scan.files)]).fetchall()
            )
        files = tuple(
            PlannedFile(int(pid), e.rel_path, e.size, e.mtime_ns) for pid, e in zip(ids, scan.files, strict=True)
        )
        partition = root.name if names[root.name] == 1 else f"{root.name}-{library_id}"
        plans.append(LibraryPlan(library_id, run_id, root, partition, files, tuple(scan.issues)))
    return plans

"""Faces → people: clustering, stable person ids, incremental assignment, user edits,
and who appears with whom.

Everything here is pure: numpy arrays and dataclasses in, dataclasses out. Persisting
(DuckDB) is the caller's job; :meth:`PeopleIndex.to_records` / :meth:`PeopleIndex.from_records`
give it the few tables it needs.

Distances are euclidean between dlib 128-d descriptors. dlib calls two faces the same
person below 0.6, but that is tuned on adult celebrities: on family photos it merges
siblings and look-alikes. Average linkage at 0.53 separated every person of the sample
set (children included) with margin on both sides; see docs/faces.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

DEFAULT_THRESHOLD = 0.53
# A new face joins a person when its root-mean-square distance to the person's faces is
# below this; same scale as the clustering threshold (average linkage ≈ mean distance).
DEFAULT_ASSIGN_THRESHOLD = 0.53
# Clustering keeps a few (faces x faces) float64 matrices per connected component of the
# "closer than threshold" graph; 6000 faces is ~0.3 GB each. Beyond that we refuse with a
# message rather than swap (a library grows through assign_new_faces anyway).
MAX_COMPONENT = 6_000


class Linkage(StrEnum):
    AVERAGE = "average"  # mean pairwise distance: robust to one odd photo (default)
    COMPLETE = "complete"  # farthest pair: purest clusters, splits people across ages
    SINGLE = "single"  # nearest pair: chains siblings and look-alikes together


# ----------------------------------------------------------------------------- clustering


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _pairs_array(pairs: Iterable[tuple[int, int]], n: int, what: str) -> np.ndarray:
    arr = np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{what} holds an index outside 0..{n - 1}")
    return arr


def _validate_embeddings(embeddings: np.ndarray) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be a 2-d array (n_faces, dim), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("embeddings contain NaN or infinite values")
    return x


def _close_pairs(x: np.ndarray, threshold: float) -> np.ndarray:
    """All (i, j), i < j, with distance <= threshold (and a hair more), in row blocks of
    ~16 M distances. float32 is twice as fast; the slack only adds edges, which is safe:
    the graph is used to split the work, not to decide merges."""
    x32 = x.astype(np.float32)
    sq = np.einsum("ij,ij->i", x32, x32)
    limit = threshold * threshold + 1e-4
    chunk = max(1, 16_000_000 // max(len(x), 1))
    found = []
    for start in range(0, len(x), chunk):
        block = x32[start : start + chunk]
        rest = x32[start:]  # only j >= i: the lower triangle was seen by earlier blocks
        d2 = sq[start : start + chunk, None] + sq[None, start:] - 2.0 * block @ rest.T
        i, j = np.nonzero(d2 <= limit)
        i, j = i + start, j + start
        keep = i < j
        found.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)


def _agglomerate(
    dist: np.ndarray, sizes: np.ndarray, forbidden: np.ndarray, threshold: float, method: Linkage
) -> np.ndarray:
    """Constrained agglomerative clustering on a (groups x groups) distance matrix.

    Returns a cluster root per group. Lance-Williams updates; each row caches its nearest
    allowed neighbour, so a merge only rescans the rows that pointed at the merged pair:
    for these three linkages d(k, i+j) >= min(d(k, i), d(k, j)), so no other row's
    nearest distance can drop, and cannot-link only turns distances infinite.
    """
    m = len(dist)
    d = dist.copy()
    np.fill_diagonal(d, np.inf)
    allowed = np.where(forbidden, np.inf, d)
    size = sizes.astype(np.float64).copy()
    alive = np.ones(m, dtype=bool)
    root = np.arange(m)
    nearest = allowed.argmin(axis=1)
    nearest_d = allowed[np.arange(m), nearest]
    while True:
        i = int(np.argmin(np.where(alive, nearest_d, np.inf)))
        if not alive[i] or nearest_d[i] > threshold:
            break
        j = int(nearest[i])
        if method is Linkage.AVERAGE:
            new = (size[i] * d[i] + size[j] * d[j]) / (size[i] + size[j])
        elif method is Linkage.COMPLETE:
            new = np.maximum(d[i], d[j])
        else:
            new = np.minimum(d[i], d[j])
        size[i] += size[j]
        alive[j] = False
        root[root == j] = i
        forbidden[i] |= forbidden[j]
        forbidden[:, i] = forbidden[i]
        d[i] = new
        d[:, i] = new
        d[i, i] = np.inf
        d[j] = np.inf
        d[:, j] = np.inf
        row = np.where(forbidden[i] | ~alive, np.inf, d[i])
        allowed[i] = row
        allowed[:, i] = row
        allowed[j] = np.inf
        allowed[:, j] = np.inf
        nearest_d[j] = np.inf
        stale = np.nonzero(alive & ((nearest == i) | (nearest == j)))[0]
        stale = np.union1d(stale, [i])
        nearest[stale] = allowed[stale].argmin(axis=1)
        nearest_d[stale] = allowed[stale, nearest[stale]]
    return root


def cluster_faces(
    embeddings: np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    linkage: Linkage | str = Linkage.AVERAGE,
    photo_ids: Sequence[Hashable] | None = None,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
) -> np.ndarray:
    """Group face embeddings into persons; returns one label per face (0 = biggest person).

    Agglomerative clustering that stops when the closest two clusters are farther apart
    than ``threshold``; a face far from everyone stays a person of its own. ``photo_ids``
    adds the rule that one photo shows a person at most once. ``must_link`` /
    ``cannot_link`` are face-index pairs (user edits); they always win over distances.
    """
    x = _validate_embeddings(embeddings)
    n = len(x)
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    try:
        method = Linkage(linkage)
    except ValueError:
        options = ", ".join(m.value for m in Linkage)
        raise ValueError(f"linkage must be one of {options}, got {linkage!r}") from None
    if photo_ids is not None and len(photo_ids) != n:
        raise ValueError(f"photo_ids has {len(photo_ids)} entries for {n} embeddings")
    if n == 0:
        return np.empty(0, dtype=np.int64)
    must = _pairs_array(must_link, n, "must_link")
    cannot = _pairs_array(cannot_link, n, "cannot_link")
    if photo_ids is not None:
        by_photo: dict[Hashable, list[int]] = defaultdict(list)
        for i, photo in enumerate(photo_ids):
            by_photo[photo].append(i)
        same_photo = [(a, b) for idx in by_photo.values() if len(idx) > 1
                      for k, a in enumerate(idx) for b in idx[k + 1 :]]
        if same_photo:
            cannot = np.concatenate([cannot, np.asarray(same_photo, dtype=np.int64)])

    # Must-linked faces start as one group.
    uf = _UnionFind(n)
    for a, b in must:
        uf.union(int(a), int(b))
    group_of = np.array([uf.find(i) for i in range(n)])
    _, group_of = np.unique(group_of, return_inverse=True)
    n_groups = int(group_of.max()) + 1
    conflict = cannot[group_of[cannot[:, 0]] == group_of[cannot[:, 1]]] if len(cannot) else cannot
    if len(conflict):
        a, b = conflict[0]
        raise ValueError(
            f"faces {a} and {b} are both must-linked together and cannot-linked "
            "(or in the same photo); drop one of the two edits"
        )

    # Clusters never cross the components of the "distance <= threshold" graph (every
    # linkage needs at least one close pair to merge), so each component is clustered on
    # its own and the quadratic matrices stay component-sized.
    close = _close_pairs(x, threshold)
    edges = np.concatenate([close, must]) if len(must) else close
    graph = coo_matrix(
        (np.ones(len(edges)), (group_of[edges[:, 0]], group_of[edges[:, 1]])),
        shape=(n_groups, n_groups),
    )
    n_comp, comp_of_group = connected_components(graph, directed=False)

    comp_of_face = comp_of_group[group_of]
    faces_by_comp = np.argsort(comp_of_face, kind="stable")
    comp_starts = np.searchsorted(comp_of_face[faces_by_comp], np.arange(n_comp + 1))
    cannot_by_comp: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, b in cannot:
        if comp_of_face[a] == comp_of_face[b]:
            cannot_by_comp[int(comp_of_face[a])].append((int(group_of[a]), int(group_of[b])))

    cluster_of_group = np.arange(n_groups)
    for comp in range(n_comp):
        faces = faces_by_comp[comp_starts[comp] : comp_starts[comp + 1]]
        groups = np.unique(group_of[faces])
        if len(groups) < 2:
            continue
        if len(faces) > MAX_COMPONENT:
            raise ValueError(
                f"{len(faces)} faces are chained within distance {threshold}; clustering "
                f"more than {MAX_COMPONENT} at once needs too much memory. Lower the "
                "threshold, or add new photos with PeopleIndex.assign_new_faces"
            )
        local_group = np.searchsorted(groups, group_of[faces])
        order = np.argsort(local_group, kind="stable")
        fx = x[faces[order]]
        sq = np.einsum("ij,ij->i", fx, fx)
        fd = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * fx @ fx.T, 0.0))
        m = len(groups)
        starts = np.searchsorted(local_group[order], np.arange(m))
        sizes = np.diff(np.append(starts, len(faces))).astype(np.float64)
        # Group-to-group linkage distances from the face-to-face block, faces sorted by group.
        if method is Linkage.AVERAGE:
            total = np.add.reduceat(np.add.reduceat(fd, starts, axis=0), starts, axis=1)
            gd = total / np.outer(sizes, sizes)
        else:
            reduce = np.maximum if method is Linkage.COMPLETE else np.minimum
            gd = reduce.reduceat(reduce.reduceat(fd, starts, axis=0), starts, axis=1)
        del fd
        forbidden = np.zeros((m, m), dtype=bool)
        if comp in cannot_by_comp:
            pairs = np.searchsorted(groups, np.asarray(cannot_by_comp[comp]))
            forbidden[pairs[:, 0], pairs[:, 1]] = True
            forbidden[pairs[:, 1], pairs[:, 0]] = True
        root = _agglomerate(gd, sizes, forbidden, threshold, method)
        cluster_of_group[groups] = groups[root]

    raw = cluster_of_group[group_of]
    # Number clusters by size (biggest first), ties by first face, so labels are stable
    # for the same input.
    ids, first, counts = np.unique(raw, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    relabel = np.empty(len(ids), dtype=np.int64)
    relabel[order] = np.arange(len(ids))
    return relabel[np.searchsorted(ids, raw)]


# ----------------------------------------------------------------------------- people


# eq=False on records holding arrays: == on them would raise.
@dataclass(frozen=True, eq=False)
class FaceObservation:
    """A detected face as the people index sees it."""

    face_id: str
    photo_id: str
    embedding: np.ndarray  # (128,) dlib descriptor


@dataclass(frozen=True, eq=False)
class Person:
    person_id: int  # stable: survives re-clustering, never reused for someone else
    face_ids: tuple[str, ...]
    centroid: np.ndarray
    spread: float  # root-mean-square distance of its faces to the centroid
    name: str | None = None

    @property
    def n_faces(self) -> int:
        return len(self.face_ids)


@dataclass(frozen=True)
class Assignment:
    face_id: str
    person_id: int
    distance: float | None  # RMS distance to the person's faces; None when it founded it
    new_person: bool


@dataclass(frozen=True)
class PersonRecord:
    person_id: int
    name: str | None
    merged_into: int | None = None  # set for ids retired by a merge


@dataclass(frozen=True)
class FaceRecord:
    face_id: str
    photo_id: str
    person_id: int
    pinned: bool  # the user put this face in this person (merge, split, move)


class LinkSource(StrEnum):
    EDIT = "edit"  # a person's edit on the People page (move)
    LABEL = "label"  # an answer to a "same person?" question (Label Studio)


@dataclass(frozen=True)
class FaceLink:
    """Two faces a person judged: the same person (must-link) or not (cannot-link)."""

    face_a: str  # face_a < face_b
    face_b: str
    same_person: bool
    source: LinkSource = LinkSource.EDIT

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", LinkSource(self.source))  # rows from the store hold the value

    @classmethod
    def of(cls, a: str, b: str, same_person: bool, source: LinkSource | str = LinkSource.EDIT) -> FaceLink:
        first, second = sorted((a, b))
        return cls(first, second, bool(same_person), LinkSource(source))

    @property
    def key(self) -> tuple[str, str]:
        return (self.face_a, self.face_b)


@dataclass(frozen=True)
class PeopleRecords:
    """What to persist, as flat rows: faces (embeddings stay with the caller's face
    table), persons, the id counter so retired ids are never handed out again, and the
    face links people made."""

    faces: tuple[FaceRecord, ...]
    persons: tuple[PersonRecord, ...]
    next_person_id: int
    links: tuple[FaceLink, ...] = ()


class PeopleIndex:
    """Persons over a growing set of faces, with ids that stay put.

    * :meth:`recluster` re-runs clustering over all faces and gives each cluster the id of
      the previous person it shares most faces with (Hungarian matching), so names and
      links survive; new clusters get fresh ids, and ids are never reused.
    * :meth:`assign_new_faces` adds the faces of new photos without re-clustering.
    * :meth:`rename`, :meth:`merge`, :meth:`split`, :meth:`move_faces` are user edits.
      They pin faces to persons; pins become must-link / cannot-link constraints, so a
      later :meth:`recluster` never undoes them.
    * :meth:`link_faces` / :meth:`separate_faces` record a judgement on two faces (an answer
      to "same person?"): a must-link or cannot-link that every later re-clustering and
      assignment keeps, without pinning either face.
    """

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        assign_threshold: float = DEFAULT_ASSIGN_THRESHOLD,
        linkage: Linkage | str = Linkage.AVERAGE,
    ) -> None:
        self.threshold = threshold
        self.assign_threshold = assign_threshold
        self.linkage = linkage
        self._faces: dict[str, FaceObservation] = {}
        self._person_of: dict[str, int] = {}
        self._pins: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._merged_into: dict[int, int] = {}
        self._links: dict[tuple[str, str], FaceLink] = {}
        self._next_id = 1
        self.dropped_links_: list[FaceLink] = []  # links the last recluster could not keep

    # -- reading -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._faces)

    def person_of(self, face_id: str) -> int:
        try:
            return self._person_of[face_id]
        except KeyError:
            raise KeyError(f"unknown face {face_id!r}") from None

    def resolve(self, person_id: int) -> int:
        """The id a person has now, following merges (bookmarks to a merged id still work)."""
        seen = set()
        while person_id in self._merged_into and person_id not in seen:
            seen.add(person_id)
            person_id = self._merged_into[person_id]
        return person_id

    def persons(self) -> list[Person]:
        """All persons, most faces first."""
        members: dict[int, list[str]] = defaultdict(list)
        for face_id, pid in self._person_of.items():
            members[pid].append(face_id)
        pids, centroids, mean_sq = self._person_arrays()
        out = []
        for k, pid in enumerate(pids):
            out.append(
                Person(
                    person_id=pid,
                    face_ids=tuple(sorted(members[pid])),
                    centroid=centroids[k].astype(np.float32),
                    spread=float(np.sqrt(mean_sq[k])),
                    name=self._names.get(pid),
                )
            )
        return sorted(out, key=lambda p: (-p.n_faces, p.person_id))

    def person(self, person_id: int) -> Person:
        pid = self.resolve(person_id)
        for p in self.persons():
            if p.person_id == pid:
                return p
        raise KeyError(f"no person {person_id}; known ids: {sorted(set(self._person_of.values()))}")

    def face_person_by_photo(self) -> dict[str, list[int]]:
        """photo_id → person ids in it; the input :func:`relationships` wants."""
        out: dict[str, list[int]] = defaultdict(list)
        for face_id, face in self._faces.items():
            out[face.photo_id].append(self._person_of[face_id])
        return dict(out)

    # -- clustering --------------------------------------------------------------------

    def recluster(self, faces: Iterable[FaceObservation] = ()) -> list[Person]:
        """Cluster all faces (those known plus ``faces``) again; ids are kept where the
        cluster is recognisably the same person."""
        for face in faces:
            self._add_face(face)
        if not self._faces:
            return []
        ids = list(self._faces)
        index = {f: i for i, f in enumerate(ids)}
        x = np.stack([self._faces[f].embedding for f in ids]).astype(np.float64)
        must, cannot = self._constraints(index)
        labels = cluster_faces(
            x,
            threshold=self.threshold,
            linkage=self.linkage,
            photo_ids=[self._faces[f].photo_id for f in ids],
            must_link=must,
            cannot_link=cannot,
        )
        self._name_clusters(ids, labels)
        return self.persons()

    def _constraints(self, index: Mapping[str, int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Must-link and cannot-link face-index pairs from pins and links.

        Pins first: the faces pinned to one person are must-linked, one face of each pinned
        person is cannot-linked with one of every other. Then must-links, in the order they
        were made, joining groups unless that would put two pinned persons, two faces of one
        photo, or a cannot-linked pair together; then cannot-links within no group. Links that
        cannot be kept (edits avoid making them) go to ``dropped_links_``."""
        group: dict[str, int] = {}
        members: dict[int, set[str]] = {}
        pid_of: dict[int, int] = {}
        for face_id, pid in self._pins.items():
            g = group.setdefault(face_id, -pid)  # one group per pinned person
            members.setdefault(g, set()).add(face_id)
            pid_of[g] = pid
        cannot_of: dict[str, set[str]] = defaultdict(set)
        known = [link for link in self._links.values() if link.face_a in index and link.face_b in index]
        for link in known:
            if not link.same_person:
                cannot_of[link.face_a].add(link.face_b)
                cannot_of[link.face_b].add(link.face_a)
        next_group = 1
        self.dropped_links_ = []
        for link in (lk for lk in known if lk.same_person):
            for face_id in link.key:
                if face_id not in group:
                    group[face_id] = next_group
                    members[next_group] = {face_id}
                    next_group += 1
            ga, gb = group[link.face_a], group[link.face_b]
            if ga == gb:
                continue
            both = members[ga] | members[gb]
            photos = [self._faces[f].photo_id for f in both]
            clash = (
                (ga in pid_of and gb in pid_of and pid_of[ga] != pid_of[gb])
                or len(set(photos)) < len(photos)
                or any(cannot_of[f] & members[gb] for f in members[ga])
            )
            if clash:
                self.dropped_links_.append(link)
                continue
            for face_id in members[gb]:
                group[face_id] = ga
            members[ga] = both
            del members[gb]
            if gb in pid_of:
                pid_of[ga] = pid_of.pop(gb)
        must = [(index[first], index[f]) for g in members.values() for first, *rest in [sorted(g)] for f in rest]
        reps = [index[min(members[g])] for g in sorted(pid_of)]
        cannot = [(a, b) for k, a in enumerate(reps) for b in reps[k + 1 :]]
        for link in (lk for lk in known if not lk.same_person):
            if group.get(link.face_a, "a") == group.get(link.face_b, "b"):
                self.dropped_links_.append(link)
            else:
                cannot.append((index[link.face_a], index[link.face_b]))
        return must, cannot

    def _name_clusters(self, ids: list[str], labels: np.ndarray) -> None:
        previous = dict(self._person_of)
        label_of = {f: int(label) for f, label in zip(ids, labels, strict=True)}
        n_clusters = int(labels.max()) + 1 if len(labels) else 0
        cluster_pid: dict[int, int] = {}
        # 1. Pinned faces carry their person's id (constraints keep them in one cluster).
        for face_id, pid in self._pins.items():
            cluster_pid[label_of[face_id]] = pid
        taken = set(cluster_pid.values())
        # 2. Otherwise the previous person sharing most faces (one cluster per person).
        free = [c for c in range(n_clusters) if c not in cluster_pid]
        old = sorted({pid for pid in previous.values() if pid not in taken})
        if free and old:
            overlap = np.zeros((len(free), len(old)))
            row = {c: k for k, c in enumerate(free)}
            col = {p: k for k, p in enumerate(old)}
            for face_id, label in label_of.items():
                pid = previous.get(face_id)
                if pid in col and label in row:
                    overlap[row[label], col[pid]] += 1
            rows, cols = linear_sum_assignment(-overlap)
            for r, c in zip(rows, cols, strict=True):
                if overlap[r, c] > 0:
                    cluster_pid[free[r]] = old[c]
        # 3. Fresh ids for the rest, biggest cluster first (labels are size-ordered).
        for c in range(n_clusters):
            if c not in cluster_pid:
                cluster_pid[c] = self._new_id()
        self._person_of = {f: cluster_pid[label] for f, label in label_of.items()}
        # A previous person whose faces all went to another person was merged into it by
        # the re-run: remember where, so bookmarks and links to the old id still resolve.
        alive = set(self._person_of.values())
        went_to: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for face_id, old_pid in previous.items():
            if old_pid not in alive:
                went_to[old_pid][self._person_of[face_id]] += 1
        for old_pid, targets in went_to.items():
            self._merged_into[old_pid] = max(targets, key=lambda p: (targets[p], -p))
        for old_pid in went_to:
            name = self._names.pop(old_pid, None)
            heir = self._merged_into[old_pid]
            if name and heir not in self._names:
                self._names[heir] = name
        self._names = {pid: name for pid, name in self._names.items() if pid in alive}

    def assign_new_faces(self, faces: Iterable[FaceObservation]) -> list[Assignment]:
        """Put the faces of new photos into existing persons where close enough, else
        into new persons (new faces close to each other found one person together)."""
        new = list(faces)
        seen: set[str] = set()
        for face in new:
            if face.face_id in self._faces or face.face_id in seen:
                raise ValueError(
                    f"face {face.face_id!r} is already in the index; use recluster() to "
                    "re-cluster known faces"
                )
            seen.add(face.face_id)
        if not new:
            return []
        if not self.assign_threshold > 0:
            raise ValueError(f"assign_threshold must be > 0, got {self.assign_threshold}")
        pids, centroids, mean_sq = self._person_arrays()
        persons_in_photo: dict[str, set[int]] = defaultdict(set)
        for face_id, pid in self._person_of.items():
            persons_in_photo[self._faces[face_id].photo_id].add(pid)

        by_photo: dict[str, list[FaceObservation]] = defaultdict(list)
        for face in new:
            by_photo[face.photo_id].append(face)
        result: dict[str, Assignment] = {}
        leftovers: list[FaceObservation] = []
        col = {pid: k for k, pid in enumerate(pids)}
        linked = self._links_by_face()
        for photo_id, photo_faces in by_photo.items():
            # A face must-linked to a known face goes to that face's person (if it is free in
            # this photo); cannot-links rule persons out.
            rest = []
            for face in photo_faces:
                target = next(
                    (self._person_of[o] for o, same in linked.get(face.face_id, []) if same and o in self._person_of),
                    None,
                )
                if target is not None and target not in persons_in_photo[photo_id]:
                    result[face.face_id] = Assignment(face.face_id, target, None, new_person=False)
                    persons_in_photo[photo_id].add(target)
                else:
                    rest.append(face)
            photo_faces = rest
            if not photo_faces:
                continue
            if not pids:
                leftovers.extend(photo_faces)
                continue
            x = np.stack([f.embedding for f in photo_faces]).astype(np.float64)
            # RMS distance to each person's faces, exact from centroid and spread:
            # mean ||x - f||^2 = ||x - c||^2 + mean ||f - c||^2.
            sq = (
                np.einsum("ij,ij->i", x, x)[:, None]
                + np.einsum("ij,ij->i", centroids, centroids)[None, :]
                - 2.0 * x @ centroids.T
            )
            cost = np.sqrt(np.maximum(sq, 0.0) + mean_sq[None, :])
            for k, pid in enumerate(pids):
                if pid in persons_in_photo[photo_id]:
                    cost[:, k] = np.inf  # already in this photo
            for r, face in enumerate(photo_faces):
                for other, same in linked.get(face.face_id, []):
                    if not same and other in self._person_of and self._person_of[other] in col:
                        cost[r, col[self._person_of[other]]] = np.inf
            # One photo shows a person once: match the photo's faces to persons jointly.
            finite = np.where(np.isfinite(cost), cost, 1e6)
            rows, cols = linear_sum_assignment(finite)
            matched = set()
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] <= self.assign_threshold:
                    face = photo_faces[r]
                    result[face.face_id] = Assignment(
                        face.face_id, pids[c], float(cost[r, c]), new_person=False
                    )
                    matched.add(r)
            leftovers.extend(f for k, f in enumerate(photo_faces) if k not in matched)

        if leftovers:
            labels = cluster_faces(
                np.stack([f.embedding for f in leftovers]),
                threshold=self.threshold,
                linkage=self.linkage,
                photo_ids=[f.photo_id for f in leftovers],
            )
            label_pid = {int(label): self._new_id() for label in np.unique(labels)}
            for face, label in zip(leftovers, labels, strict=True):
                result[face.face_id] = Assignment(
                    face.face_id, label_pid[int(label)], None, new_person=True
                )

        for face in new:
            self._add_face(face)
            self._person_of[face.face_id] = result[face.face_id].person_id
        return [result[f.face_id] for f in new]

    def remove_faces(self, face_ids: Iterable[str]) -> None:
        """Forget faces (their photo left the library). Persons left empty disappear."""
        for face_id in list(face_ids):
            self.person_of(face_id)
            del self._faces[face_id], self._person_of[face_id]
            self._pins.pop(face_id, None)
            for key in [k for k in self._links if face_id in k]:
                del self._links[key]
        alive = set(self._person_of.values())
        self._names = {pid: name for pid, name in self._names.items() if pid in alive}

    # -- user edits --------------------------------------------------------------------

    def rename(self, person_id: int, name: str | None) -> None:
        pid = self._require_person(person_id)
        if name is None or not name.strip():
            self._names.pop(pid, None)
        else:
            self._names[pid] = name.strip()

    def merge(self, keep: int, other: int) -> int:
        """``other`` is the same person as ``keep``: all faces go to ``keep``, which takes
        ``other``'s name if it has none. Returns ``keep``; ``other`` is retired."""
        keep, other = self._require_person(keep), self._require_person(other)
        if keep == other:
            return keep
        clash = self._photos_of(keep) & self._photos_of(other)
        if clash:
            raise ValueError(
                f"persons {keep} and {other} appear together in {len(clash)} photo(s) "
                f"(e.g. {sorted(clash)[0]}), so they cannot be one person; "
                "move the wrong faces first"
            )
        for face_id, pid in list(self._person_of.items()):
            if pid in (keep, other):
                self._person_of[face_id] = keep
                self._pins[face_id] = keep
        if keep not in self._names and other in self._names:
            self._names[keep] = self._names[other]
        self._names.pop(other, None)
        self._merged_into[other] = keep
        self._drop_links_contradicting_pins()
        return keep

    def split(self, person_id: int, face_ids: Iterable[str], name: str | None = None) -> int:
        """``face_ids`` are someone else: they become a new person (returned). The faces
        left in ``person_id`` are confirmed as that person."""
        pid = self._require_person(person_id)
        moving = set(face_ids)
        members = {f for f, p in self._person_of.items() if p == pid}
        if not moving:
            raise ValueError("split needs at least one face id")
        stray = moving - members
        if stray:
            raise ValueError(f"faces {sorted(stray)} are not in person {pid}")
        if moving == members:
            raise ValueError(f"that is every face of person {pid}; use rename() instead")
        new_pid = self._new_id()
        for face_id in members:
            target = new_pid if face_id in moving else pid
            self._person_of[face_id] = target
            self._pins[face_id] = target
        if name:
            self._names[new_pid] = name.strip()
        self._drop_links_contradicting_pins()
        return new_pid

    def move_faces(self, face_ids: Iterable[str], person_id: int) -> None:
        """The user says these faces are ``person_id``, and not the person they were in.

        Pinning only the moved faces is not enough: a moved face still looks like its old
        person, so at the next re-clustering it would join that person's faces and, being
        pinned, carry ``person_id`` (and its name) over all of them. So, as with a merge, the
        target's faces are pinned too (the user chose that person as it is), and each moved
        face is cannot-linked with its old person's most typical remaining face. Earlier
        links of the moved faces are dropped: this edit supersedes them."""
        pid = self._require_person(person_id)
        moving = list(face_ids)
        for face_id in moving:
            self.person_of(face_id)  # raises for unknown faces
        photos = [self._faces[f].photo_id for f in moving]
        if len(set(photos)) < len(photos):
            raise ValueError("two of these faces are in the same photo; they cannot be one person")
        others = {
            self._faces[f].photo_id
            for f, p in self._person_of.items()
            if p == pid and f not in moving
        }
        if others & set(photos):
            raise ValueError(
                f"person {pid} already has a face in photo {sorted(others & set(photos))[0]}"
            )
        old = {face_id: self._person_of[face_id] for face_id in moving}
        for face_id in moving:
            for key in [k for k in self._links if face_id in k]:
                del self._links[key]
        for face_id, p in self._person_of.items():
            if p == pid:
                self._pins[face_id] = pid
        for face_id in moving:
            self._person_of[face_id] = pid
            self._pins[face_id] = pid
        for face_id in moving:
            if old[face_id] != pid:
                typical = self._typical_face(old[face_id])
                if typical is not None:
                    link = FaceLink.of(face_id, typical, False, LinkSource.EDIT)
                    self._links[link.key] = link
        self._drop_links_contradicting_pins()

    def link_faces(self, face_id: str, other: str, *, source: LinkSource | str = LinkSource.EDIT) -> int:
        """``face_id`` and ``other`` are the same person: a must-link, and ``face_id`` joins
        ``other``'s person now (it is not pinned: only the pair is a constraint). Returns that
        person. Refused when the two are in one photo, or when ``face_id`` was placed by hand
        in another person (hand edits win; move it on the People page instead)."""
        a, b = self._linked_pair(face_id, other)
        target = self._person_of[b]
        if self._faces[a].photo_id == self._faces[b].photo_id:
            raise ValueError(f"faces {a} and {b} are in the same photo, so they cannot be one person")
        if self._person_of[a] != target:
            if a in self._pins:
                raise ValueError(
                    f"face {a} was placed in person {self._pins[a]} by hand; move it on the People page instead"
                )
            clash = {f for f, p in self._person_of.items() if p == target and self._faces[f].photo_id == self._faces[a].photo_id}
            if clash:
                raise ValueError(
                    f"person {target} already has face {sorted(clash)[0]} in the photo of face {a}; "
                    "one photo shows a person once"
                )
        link = FaceLink.of(a, b, True, source)
        self._links.pop(link.key, None)  # re-inserted last: the newest judgement counts last
        self._links[link.key] = link
        before = self._person_of[a]
        self._person_of[a] = target
        if before != target and before not in set(self._person_of.values()):
            # its only face went to ``target``: like a merge, the old id resolves there
            self._merged_into[before] = target
            if target not in self._names and before in self._names:
                self._names[target] = self._names[before]
        self._retire_if_empty()
        return target

    def separate_faces(self, face_id: str, other: str, *, source: LinkSource | str = LinkSource.EDIT) -> int:
        """``face_id`` and ``other`` are different people: a cannot-link. When they are in one
        person now, ``face_id`` leaves it for the nearest other person it fits (as a new face
        would join one), else becomes a person of its own. Returns ``face_id``'s person.
        Refused when ``face_id`` was placed in that person by hand."""
        a, b = self._linked_pair(face_id, other)
        pid = self._person_of[b]
        if self._person_of[a] == pid and a in self._pins:
            raise ValueError(
                f"face {a} was placed in person {pid} by hand; split it off on the People page instead"
            )
        link = FaceLink.of(a, b, False, source)
        self._links.pop(link.key, None)
        self._links[link.key] = link
        if self._person_of[a] == pid:
            self._person_of[a] = self._nearest_person(a, exclude={pid})
            self._retire_if_empty()
        return self._person_of[a]

    def unlink_faces(self, face_id: str, other: str) -> bool:
        """Forget the judgement on two faces (an answer withdrawn); nobody moves. Returns
        whether there was one."""
        return self._links.pop(tuple(sorted((face_id, other))), None) is not None  # type: ignore[arg-type]

    def links(self) -> tuple[FaceLink, ...]:
        return tuple(self._links.values())

    def _linked(self, face_id: str) -> list[tuple[str, bool]]:
        return self._links_by_face().get(face_id, [])

    def _links_by_face(self) -> dict[str, list[tuple[str, bool]]]:
        out: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        for link in self._links.values():
            out[link.face_a].append((link.face_b, link.same_person))
            out[link.face_b].append((link.face_a, link.same_person))
        return out

    def _linked_pair(self, face_id: str, other: str) -> tuple[str, str]:
        self.person_of(face_id)
        self.person_of(other)  # both raise KeyError for unknown faces
        if face_id == other:
            raise ValueError(f"a link needs two different faces, got {face_id!r} twice")
        return face_id, other

    def _typical_face(self, pid: int) -> str | None:
        """The person's face nearest its centroid (None when it has no face left)."""
        members = sorted(f for f, p in self._person_of.items() if p == pid)
        if not members:
            return None
        x = np.stack([self._faces[f].embedding for f in members]).astype(np.float64)
        return members[int(np.argmin(np.linalg.norm(x - x.mean(axis=0), axis=1)))]

    def _nearest_person(self, face_id: str, exclude: set[int]) -> int:
        """The person ``face_id`` would join as a new face (RMS distance within
        ``assign_threshold``, free in its photo, not cannot-linked), else a fresh id."""
        face = self._faces[face_id]
        ruled_out = set(exclude)
        ruled_out |= {p for f, p in self._person_of.items() if f != face_id and self._faces[f].photo_id == face.photo_id}
        ruled_out |= {self._person_of[o] for o, same in self._linked(face_id) if not same and o in self._person_of}
        members: dict[int, list[str]] = defaultdict(list)
        for f, p in self._person_of.items():
            if f != face_id and p not in ruled_out:
                members[p].append(f)
        x = np.asarray(face.embedding, dtype=np.float64)
        best, best_d = None, np.inf
        for p in sorted(members):
            y = np.stack([self._faces[f].embedding for f in members[p]]).astype(np.float64)
            d = float(np.sqrt(np.mean(np.sum((y - x) ** 2, axis=1))))
            if d < best_d:
                best, best_d = p, d
        if best is not None and best_d <= self.assign_threshold:
            return best
        return self._new_id()

    def _retire_if_empty(self) -> None:
        """Names of persons left without faces go; their ids are not reused."""
        alive = set(self._person_of.values())
        self._names = {pid: name for pid, name in self._names.items() if pid in alive}

    def _drop_links_contradicting_pins(self) -> None:
        """A hand edit wins over an earlier link: drop must-links between faces pinned to
        different persons and cannot-links between faces pinned to the same one."""
        for key, link in list(self._links.items()):
            pa, pb = self._pins.get(link.face_a), self._pins.get(link.face_b)
            if pa is not None and pb is not None and (pa == pb) != link.same_person:
                del self._links[key]

    # -- persistence -------------------------------------------------------------------

    def to_records(self) -> PeopleRecords:
        faces = tuple(
            FaceRecord(f, self._faces[f].photo_id, self._person_of[f], f in self._pins)
            for f in sorted(self._faces)
        )
        alive = sorted(set(self._person_of.values()))
        persons = [PersonRecord(pid, self._names.get(pid)) for pid in alive]
        persons += [
            PersonRecord(old, None, merged_into=new)
            for old, new in sorted(self._merged_into.items())
        ]
        links = tuple(self._links[k] for k in self._links)
        return PeopleRecords(faces, tuple(persons), self._next_id, links)

    @classmethod
    def from_records(
        cls,
        records: PeopleRecords,
        embeddings: Mapping[str, np.ndarray],
        **params: float | str,
    ) -> PeopleIndex:
        """Rebuild an index from persisted rows and each face's embedding."""
        index = cls(**params)  # type: ignore[arg-type]
        for rec in records.faces:
            try:
                emb = embeddings[rec.face_id]
            except KeyError:
                raise ValueError(f"no embedding given for face {rec.face_id!r}") from None
            index._faces[rec.face_id] = FaceObservation(rec.face_id, rec.photo_id, np.asarray(emb))
            index._person_of[rec.face_id] = rec.person_id
            if rec.pinned:
                index._pins[rec.face_id] = rec.person_id
        for p in records.persons:
            if p.merged_into is not None:
                index._merged_into[p.person_id] = p.merged_into
            elif p.name:
                index._names[p.person_id] = p.name
        for link in records.links:
            index._links[link.key] = link
        used = [p.person_id for p in records.persons] + [f.person_id for f in records.faces]
        index._next_id = max([records.next_person_id, *(u + 1 for u in used)])
        return index

    # -- helpers -----------------------------------------------------------------------

    def _add_face(self, face: FaceObservation) -> None:
        emb = np.asarray(face.embedding)
        if emb.ndim != 1:
            raise ValueError(f"face {face.face_id!r}: embedding must be 1-d, got shape {emb.shape}")
        if self._faces:
            dim = next(iter(self._faces.values())).embedding.shape[0]
            if emb.shape[0] != dim:
                raise ValueError(
                    f"face {face.face_id!r}: embedding has {emb.shape[0]} values, "
                    f"the index uses {dim}"
                )
        self._faces[face.face_id] = face

    def _new_id(self) -> int:
        pid = self._next_id
        self._next_id += 1
        return pid

    def _require_person(self, person_id: int) -> int:
        pid = self.resolve(person_id)
        if pid not in set(self._person_of.values()):
            raise KeyError(f"no person {person_id}")
        return pid

    def _photos_of(self, pid: int) -> set[str]:
        return {self._faces[f].photo_id for f, p in self._person_of.items() if p == pid}

    def _person_arrays(self) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Person ids (sorted), their centroids, and their faces' mean squared distance
        to the centroid."""
        if not self._person_of:
            return [], np.zeros((0, 0)), np.zeros(0)
        face_ids = list(self._person_of)
        x = np.stack([self._faces[f].embedding for f in face_ids]).astype(np.float64)
        pids, which = np.unique([self._person_of[f] for f in face_ids], return_inverse=True)
        counts = np.bincount(which).astype(np.float64)
        totals = np.zeros((len(pids), x.shape[1]))
        np.add.at(totals, which, x)
        centroids = totals / counts[:, None]
        sq_norms = np.bincount(which, weights=np.einsum("ij,ij->i", x, x))
        mean_sq = np.maximum(sq_norms / counts - np.einsum("ij,ij->i", centroids, centroids), 0)
        return [int(p) for p in pids], centroids, mean_sq


# ----------------------------------------------------------------------------- who with whom


@dataclass(frozen=True)
class Relationship:
    person_a: int  # person_a < person_b
    person_b: int
    photos_together: int
    events_together: int
    first_seen_together: datetime | None
    last_seen_together: datetime | None


@dataclass(frozen=True)
class CircleMember:
    person_id: int
    photos_together: int  # photos with the owner
    events_together: int  # events where both appear in at least one shared photo
    photos_total: int  # photos this person is in


@dataclass(frozen=True)
class CloseCircle:
    owner: int
    owner_inferred: bool  # True when the owner was guessed as the most photographed person
    members: tuple[CircleMember, ...]


def _persons_per_photo(face_person_by_photo: Mapping[str, Iterable[int]]) -> dict[str, set[int]]:
    return {photo: set(pids) for photo, pids in face_person_by_photo.items()}


def relationships(
    face_person_by_photo: Mapping[str, Iterable[int]],
    photo_times: Mapping[str, datetime | None] | None = None,
    photo_events: Mapping[str, Hashable | None] | None = None,
    *,
    min_photos: int = 1,
) -> list[Relationship]:
    """Every pair of persons seen in one photo, most photos together first."""
    if min_photos < 1:
        raise ValueError(f"min_photos must be >= 1, got {min_photos}")
    times = photo_times or {}
    events = photo_events or {}
    photos: dict[tuple[int, int], int] = defaultdict(int)
    shared_events: dict[tuple[int, int], set[Hashable]] = defaultdict(set)
    first: dict[tuple[int, int], datetime] = {}
    last: dict[tuple[int, int], datetime] = {}
    for photo, pids in _persons_per_photo(face_person_by_photo).items():
        ordered = sorted(pids)
        when = times.get(photo)
        event = events.get(photo)
        for k, a in enumerate(ordered):
            for b in ordered[k + 1 :]:
                pair = (a, b)
                photos[pair] += 1
                if event is not None:
                    shared_events[pair].add(event)
                if when is not None:
                    if pair not in first or when < first[pair]:
                        first[pair] = when
                    if pair not in last or when > last[pair]:
                        last[pair] = when
    out = [
        Relationship(a, b, n, len(shared_events[(a, b)]), first.get((a, b)), last.get((a, b)))
        for (a, b), n in photos.items()
        if n >= min_photos
    ]
    return sorted(
        out, key=lambda r: (-r.photos_together, -r.events_together, r.person_a, r.person_b)
    )


def close_circle(
    face_person_by_photo: Mapping[str, Iterable[int]],
    photo_events: Mapping[str, Hashable | None] | None = None,
    *,
    owner: int | None = None,
    size: int = 10,
    min_photos_together: int = 2,
) -> CloseCircle:
    """The people closest to the library's owner: those who share the most events (then
    photos) with them. Without ``owner``, the owner is taken to be the person in the most
    photos: it is their library, and people photograph their own family."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    per_photo = _persons_per_photo(face_person_by_photo)
    totals: dict[int, int] = defaultdict(int)
    for pids in per_photo.values():
        for pid in pids:
            totals[pid] += 1
    if not totals:
        raise ValueError("no person appears in any photo; there is no circle to compute")
    inferred = owner is None
    if owner is None:
        owner = min(totals, key=lambda p: (-totals[p], p))
    elif owner not in totals:
        raise ValueError(f"owner {owner} appears in no photo; known persons: {sorted(totals)[:20]}")
    rel = relationships(per_photo, None, photo_events, min_photos=min_photos_together)
    members = []
    for r in rel:
        if owner not in (r.person_a, r.person_b):
            continue
        other = r.person_b if r.person_a == owner else r.person_a
        members.append(CircleMember(other, r.photos_together, r.events_together, totals[other]))
    members.sort(
        key=lambda m: (-m.events_together, -m.photos_together, -m.photos_total, m.person_id)
    )
    return CloseCircle(owner, inferred, tuple(members[:size]))

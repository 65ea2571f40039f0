"""How well ``build_events`` finds events, trips, home and holidays on labelled libraries.

    python -m curation.events.evaluate            # every library that is available
    python -m curation.events.evaluate --quick    # synthetic libraries only

Metrics, per library:

* **pairwise P/R/F1** over the photos that belong to a true event: a pair of photos is
  positive when both are in the same event. Precision: of the pairs put together, how
  many belong together; recall: of the pairs that belong together, how many were put
  together. Excluded photos count as events of their own.
* **boundary P/R/F1** over the photos with a reliable time, in time order: a boundary is
  a change of event between consecutive photos; predicted and true boundaries must be at
  the same place.
* **excluded ok**: photos that belong to no event (clutter, undated downloads) and were
  left out, out of all such photos; **unreliable placed**: photos with only an mtime that
  were placed in the right event / placed wrongly / left out.
* **trip F1**: the pairwise F1 of trip membership over the photos of true events.
* **home km**: distance from the true home. **holidays**: true Christmas / Easter / New
  Year's Eve events whose predicted event carries that holiday.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from curation.events.build import build_events
from curation.events.geo import haversine_km
from curation.events.records import EventsResult
from curation.events.settings import EventSettings
from curation.events.synthetic import LabelledLibrary, generate_library


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Evaluation:
    library: str
    description: str
    n_photos: int
    n_true_events: int
    n_events: int
    pairwise: Scores
    boundary: Scores
    excluded_ok: tuple[int, int]  # (left out, should be left out)
    unreliable: tuple[int, int, int]  # (placed right, placed wrong, left out)
    trips: Scores | None
    n_true_trips: int
    n_trips: int
    home_error_km: float | None
    holidays: tuple[int, int]  # (named right, true holiday events)
    seconds: float


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _pairs(counts: np.ndarray) -> float:
    counts = counts.astype(float)
    return float((counts * (counts - 1) / 2).sum())


def pairwise_scores(truth: pd.Series, predicted: pd.Series) -> Scores:
    """Pairwise precision/recall/F1 over the rows where ``truth`` is set. A missing
    prediction is a cluster of its own."""
    keep = truth.notna().to_numpy()
    t = pd.factorize(truth[keep])[0]
    pred = predicted[keep].astype(object).to_numpy()
    missing = pd.isna(pred)
    codes = pd.factorize(pd.Series(pred).where(~missing, None))[0]
    codes = np.where(missing, -1 - np.arange(len(codes)), codes)  # each missing one alone
    p = pd.factorize(codes)[0]
    joint = pd.Series(t).astype(np.int64) * (p.max() + 1 if len(p) else 1) + p
    tp = _pairs(np.bincount(pd.factorize(joint)[0])) if len(p) else 0.0
    pred_pairs = _pairs(np.bincount(p)) if len(p) else 0.0
    true_pairs = _pairs(np.bincount(t)) if len(t) else 0.0
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    return Scores(precision, recall, _f1(precision, recall))


def boundary_scores(truth: pd.Series, predicted: pd.Series, order: np.ndarray) -> Scores:
    """Boundaries between consecutive photos of ``order`` (positions in time order)."""
    t = truth.to_numpy(dtype=object)[order]
    p = predicted.to_numpy(dtype=object)[order]
    true_b = t[1:] != t[:-1]
    pred_b = p[1:] != p[:-1]
    tp = float((true_b & pred_b).sum())
    precision = tp / pred_b.sum() if pred_b.sum() else 1.0
    recall = tp / true_b.sum() if true_b.sum() else 1.0
    return Scores(precision, recall, _f1(precision, recall))


def evaluate_result(library: LabelledLibrary, result: EventsResult, seconds: float = 0.0) -> Evaluation:
    photos, truth = library.photos, library.truth.set_index("photo_id")
    pe = result.photo_events.set_index("photo_id")
    ids = photos["photo_id"]
    true_event = truth["event"].reindex(ids).reset_index(drop=True)
    pred_event = pe["event_id"].reindex(ids).reset_index(drop=True)
    pairwise = pairwise_scores(true_event, pred_event)

    timed = (photos["time_reliable"].to_numpy() & true_event.notna().to_numpy())
    frame = photos.loc[timed, ["taken_at", "rel_path", "photo_id"]]
    order = frame.sort_values(["taken_at", "rel_path", "photo_id"], kind="mergesort").index.to_numpy()
    boundary = boundary_scores(true_event, pred_event.fillna("-excluded-"), order)

    should_leave = true_event.isna().to_numpy()
    left_out = pred_event.isna().to_numpy()
    excluded_ok = (int((should_leave & left_out).sum()), int(should_leave.sum()))

    # Where the bulk of each true event went, to judge placed photos and holidays.
    bulk = (
        pd.DataFrame({"t": true_event[timed], "p": pred_event[timed]})
        .dropna()
        .groupby("t")["p"]
        .agg(lambda s: s.value_counts().index[0])
    )
    unreliable_rows = (~photos["time_reliable"].to_numpy()) & true_event.notna().to_numpy()
    right = wrong = out = 0
    for t, p in zip(true_event[unreliable_rows], pred_event[unreliable_rows], strict=True):
        if pd.isna(p):
            out += 1
        elif bulk.get(t) == p:
            right += 1
        else:
            wrong += 1

    trip_of_event = result.events.set_index("event_id")["trip_id"]
    pred_trip = pred_event.map(trip_of_event)
    true_trip = truth["trip"].reindex(ids).reset_index(drop=True)
    has_trips = true_trip.notna().any() or pred_trip.notna().any()
    in_event = true_event.notna() & pred_event.notna()
    trips = None
    if has_trips and library.home is not None:  # without a true home there are no true trips
        # Photos outside trips are each a trip of their own: only grouping is judged.
        solo = pd.Series([f"solo-{i}" for i in range(len(ids))])
        trips = pairwise_scores(true_trip.where(true_trip.notna(), solo)[in_event],
                                pred_trip.where(pred_trip.notna(), solo)[in_event])

    home_error = None
    if library.home is not None and result.home.known:
        home_error = float(haversine_km(library.home[0], library.home[1], result.home.lat, result.home.lon))

    holiday_of_event = result.events.set_index("event_id")["holiday"]
    true_holidays = truth.dropna(subset=["holiday"]).groupby("event")["holiday"].first()
    named = sum(
        1 for t, h in true_holidays.items() if t in bulk.index and holiday_of_event.get(bulk[t]) == h
    )
    return Evaluation(
        library=library.name,
        description=library.description,
        n_photos=len(photos),
        n_true_events=int(true_event.nunique()),
        n_events=len(result.events),
        pairwise=pairwise,
        boundary=boundary,
        excluded_ok=excluded_ok,
        unreliable=(right, wrong, out),
        trips=trips,
        n_true_trips=int(true_trip.nunique()),
        n_trips=len(result.trips),
        home_error_km=home_error,
        holidays=(named, len(true_holidays)),
        seconds=seconds,
    )


def evaluate_library(library: LabelledLibrary, settings: EventSettings | None = None) -> Evaluation:
    import time

    start = time.perf_counter()
    result = build_events(library.photos, settings)
    return evaluate_result(library, result, time.perf_counter() - start)


def synthetic_libraries() -> list[LabelledLibrary]:
    return [
        generate_library(0, home="Lisbon"),
        generate_library(1, home="Berlin"),
        generate_library(2, home="Sydney"),
        generate_library(3, home="New York", scale=2.0),
        generate_library(4, home="Lisbon", min_pause_h=1.0, relative_pause=0.0),
    ]


def format_table(rows: list[Evaluation]) -> str:
    head = (
        "| library | photos | events (true) | pairwise P / R / F1 | boundary P / R / F1 | excluded ok "
        "| mtime-only: right / wrong / out | trips (true) | trip F1 | home km | holidays |"
    )
    lines = [head, "| " + " | ".join(["---"] * 11) + " |"]
    for r in rows:
        trip_f1 = f"{r.trips.f1:.3f}" if r.trips else "-"
        home = f"{r.home_error_km:.1f}" if r.home_error_km is not None else "-"
        lines.append(
            f"| {r.library} | {r.n_photos} | {r.n_events} ({r.n_true_events}) "
            f"| {r.pairwise.precision:.3f} / {r.pairwise.recall:.3f} / **{r.pairwise.f1:.3f}** "
            f"| {r.boundary.precision:.3f} / {r.boundary.recall:.3f} / {r.boundary.f1:.3f} "
            f"| {r.excluded_ok[0]}/{r.excluded_ok[1]} | {r.unreliable[0]} / {r.unreliable[1]} / {r.unreliable[2]} "
            f"| {r.n_trips} ({r.n_true_trips}) | {trip_f1} | {home} | {r.holidays[0]}/{r.holidays[1]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="synthetic libraries only")
    args = parser.parse_args(argv)
    libraries = synthetic_libraries()
    notes = []
    if not args.quick:
        from curation.events.sample_libraries import (
            SampleLibraryUnavailable,
            available_sample_libraries,
            demo_manifest_library,
        )

        try:
            libraries = available_sample_libraries() + libraries
        except SampleLibraryUnavailable as exc:
            notes.append(f"skipped the sample libraries: {exc}")
        try:
            libraries.append(demo_manifest_library())
        except (ImportError, ValueError, OSError) as exc:  # the demo builder is optional here
            notes.append(f"skipped the demo library: {exc}")
    rows = [evaluate_library(lib) for lib in libraries]
    print(format_table(rows))
    print()
    for r in rows:
        print(f"- {r.library}: {r.description}")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())

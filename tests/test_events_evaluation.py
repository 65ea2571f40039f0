"""Segmentation quality on labelled evaluation libraries (target: pairwise F1 >= 0.9).

The synthetic library is generated (real city coordinates, everything else generated);
the sample libraries use the real metadata of the shared sample photos and skip without
them. See docs/events.md for the full table (`python -m curation.events.evaluate`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from curation.events.evaluate import boundary_scores, evaluate_library, pairwise_scores
from curation.events.synthetic import generate_library


def test_pairwise_and_boundary_scores_on_a_hand_example() -> None:
    truth = pd.Series(["a", "a", "a", "b", "b", None])
    pred = pd.Series(["x", "x", "y", "y", "y", "z"])
    s = pairwise_scores(truth, pred)
    # true pairs: ab-pairs (0,1),(0,2),(1,2),(3,4) = 4; predicted pairs among labelled rows:
    # (0,1),(2,3),(2,4),(3,4) = 4; both: (0,1),(3,4) = 2.
    assert (s.precision, s.recall) == (0.5, 0.5)
    # True boundary 2|3; predicted 1|2 (wrong) and 2|3 (right).
    b = boundary_scores(truth[:5], pd.Series(["x", "x", "y", "z", "z"]), order=pd.RangeIndex(5).to_numpy())
    assert (b.precision, b.recall) == (0.5, 1.0)


def test_generated_libraries_are_reproducible() -> None:
    a, b = generate_library(5, years=1), generate_library(5, years=1)
    pd.testing.assert_frame_equal(a.photos, b.photos)
    pd.testing.assert_frame_equal(a.truth, b.truth)


def test_synthetic_library_reaches_the_f1_target() -> None:
    evaluation = evaluate_library(generate_library(0, home="Lisbon"))
    assert evaluation.pairwise.f1 >= 0.9
    assert evaluation.boundary.f1 >= 0.9
    assert evaluation.excluded_ok[0] == evaluation.excluded_ok[1]  # all clutter and undated downloads left out
    assert evaluation.unreliable[1] == 0  # no mtime-only photo placed in a wrong event
    assert evaluation.trips is not None and evaluation.trips.f1 >= 0.9
    assert evaluation.home_error_km is not None and evaluation.home_error_km < 5
    assert evaluation.holidays[0] == evaluation.holidays[1]


def test_southern_home_and_a_harder_library_reach_the_target() -> None:
    for library in (generate_library(2, home="Sydney", years=2),
                    generate_library(4, home="Lisbon", years=2, min_pause_h=1.0, relative_pause=0.0)):
        assert evaluate_library(library).pairwise.f1 >= 0.9, library.name


@pytest.mark.samples
def test_sample_libraries_reach_the_f1_target(samples: Path) -> None:
    from curation.events.sample_libraries import samples_real_library, samples_trip_library

    real = evaluate_library(samples_real_library(samples))
    assert real.pairwise.f1 >= 0.9 and real.excluded_ok[0] == real.excluded_ok[1]
    trip = evaluate_library(samples_trip_library(samples))
    assert trip.pairwise.f1 >= 0.9
    assert trip.n_trips == 1 and trip.home_error_km is not None and trip.home_error_km < 10
    assert trip.holidays == (1, 1)  # Christmas Eve at home, indoors, named from the home country

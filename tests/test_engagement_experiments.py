"""A/B statistics against scipy and hand computation, and on generated experiments."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from curation.engagement.experiments import (
    ClusterSums,
    ExperimentDataError,
    analyze_experiment,
    delta_method_ztest,
    design_effect,
    minimum_detectable_effect,
    srm_check,
    two_proportion_ztest,
    wilson_interval,
)
from curation.engagement.generate import generate
from curation.engagement.queries import run_named_query
from curation.engagement.sandbox import build_database


@pytest.mark.parametrize(("x", "n"), [(81, 263), (0, 10), (10, 10), (4_321, 12_345), (1, 2)])
def test_wilson_matches_scipy(x: int, n: int) -> None:
    expected = stats.binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(x, n) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_wilson_by_hand() -> None:
    # p = 0.5, n = 100, z = 1.96: center 0.5, half = 1.96 * sqrt(0.0025 + 0.96^2/40000...) / (1 + 0.0384)
    z = stats.norm.ppf(0.975)
    half = z * math.sqrt(0.25 / 100 + z * z / 40_000) / (1 + z * z / 100)
    assert wilson_interval(50, 100) == pytest.approx((0.5 - half, 0.5 + half))


def test_two_proportion_z_matches_chi_square_and_norm() -> None:
    xa, na, xb, nb = 1_200, 10_000, 1_310, 10_100
    test = two_proportion_ztest(xa, na, xb, nb)
    chi2, p, _, _ = stats.chi2_contingency([[xa, na - xa], [xb, nb - xb]], correction=False)
    assert test.z**2 == pytest.approx(chi2)
    assert test.p_value == pytest.approx(p)
    assert test.p_value == pytest.approx(2 * stats.norm.sf(abs(test.z)))
    pa, pb = xa / na, xb / nb
    se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    assert test.diff == pytest.approx(pb - pa)
    assert (test.diff_low, test.diff_high) == pytest.approx(
        (pb - pa - 1.959964 * se, pb - pa + 1.959964 * se), rel=1e-5
    )
    assert test.relative_lift == pytest.approx((pb - pa) / pa)


def test_srm_matches_scipy_chisquare() -> None:
    check = srm_check({"a": 5_000, "b": 5_400}, {"a": 0.5, "b": 0.5})
    expected = stats.chisquare([5_000, 5_400], [5_200, 5_200])
    assert (check.chi2, check.p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert check.mismatch
    uneven = srm_check({"a": 2_480, "b": 7_520}, {"a": 1, "b": 3})  # a 25/75 split, shares normalised
    assert not uneven.mismatch and uneven.expected == {"a": 2_500, "b": 7_500}
    with pytest.raises(ExperimentDataError, match="one share per variant"):
        srm_check({"a": 1, "b": 2}, {"a": 0.5, "c": 0.5})


def test_minimum_detectable_effect_gives_the_asked_power() -> None:
    p, n = 0.3, 20_000
    mde = minimum_detectable_effect(p, n, n)
    se = math.sqrt(p * (1 - p) * 2 / n)
    assert mde == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se)
    power = stats.norm.sf(stats.norm.ppf(0.975) - mde / se)
    assert power == pytest.approx(0.8, abs=1e-3)
    assert minimum_detectable_effect(p, n, n, design_effect=4) == pytest.approx(2 * mde)
    with pytest.raises(ExperimentDataError, match="strictly between 0 and 1"):
        minimum_detectable_effect(0, n, n)


def test_delta_method_reduces_to_binomial_for_one_trial_per_user() -> None:
    rng = np.random.default_rng(0)
    xa, xb = rng.random(50_000) < 0.30, rng.random(50_000) < 0.31

    def sums(x: np.ndarray) -> ClusterSums:
        return ClusterSums(len(x), int(x.sum()), len(x), float(x.sum()), float(len(x)), float(x.sum()))

    delta = delta_method_ztest(sums(xa), sums(xb))
    plain = two_proportion_ztest(int(xa.sum()), len(xa), int(xb.sum()), len(xb))
    assert delta.diff == pytest.approx(plain.diff)
    assert delta.diff_high - delta.diff_low == pytest.approx(plain.diff_high - plain.diff_low, rel=1e-3)
    assert design_effect(sums(xa)) == pytest.approx(1.0, rel=1e-3)


# ---------------------------------------------------------------------------------------
# on generated data


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("experiments")
    generate(12_000, folder / "raw", seed=21, effect=0.12)
    return build_database([folder / "raw"], folder / "engagement.duckdb").db_path


def test_the_planted_llm_title_effect_is_detected(db: Path) -> None:
    frame = run_named_query("title_strategy_ab", db_path=db).frame
    result = analyze_experiment(frame, control="grounded", experiment="title_strategy")
    assert result.treatment.name == "llm"
    assert result.significant and result.test.p_value < 1e-6
    assert 0.06 < result.test.relative_lift < 0.18  # planted: +12 %
    assert result.test.diff_low > 0
    assert not result.srm.mismatch
    assert result.control.design_effect > 1.1  # a user's albums are alike
    assert result.control.ci_low < result.control.rate < result.control.ci_high
    assert result.mde_rel < 0.12
    assert "changes" in result.verdict()


def test_the_no_effect_experiment_is_not_detected(db: Path) -> None:
    """cover_layout has no effect at all (an A/A test); with this seed p = 0.16, and the
    calibration test below checks the false-positive rate over many splits."""
    frame = run_named_query("title_strategy_ab", {"experiment": "cover_layout"}, db_path=db).frame
    result = analyze_experiment(frame, control="control", experiment="cover_layout")
    assert not result.significant
    assert result.test.diff_low < 0 < result.test.diff_high
    assert not result.srm.mismatch
    assert "No significant difference" in result.verdict()


def test_false_positive_rate_of_random_aa_splits(db: Path) -> None:
    """Users randomised, albums counted: the delta method keeps ~5 % false positives,
    the test that treats albums as independent has more."""
    with duckdb.connect(str(db), read_only=True) as con:
        x, n = (
            con.execute(
                "SELECT albums_opened, albums_shown FROM experiment_users "
                "WHERE experiment = 'title_strategy' AND variant = 'grounded' AND albums_shown > 0"
            )
            .fetchnumpy()
            .values()
        )
    x, n = x.astype(float), n.astype(float)
    rng = np.random.default_rng(1)

    def sums(m: np.ndarray) -> ClusterSums:
        return ClusterSums(int(m.sum()), int(x[m].sum()), int(n[m].sum()), float((x[m] ** 2).sum()),
                           float((n[m] ** 2).sum()), float((x[m] * n[m]).sum()))  # fmt: skip

    delta = naive = 0
    splits = 400
    for _ in range(splits):
        b = rng.random(len(x)) < 0.5
        delta += delta_method_ztest(sums(~b), sums(b)).p_value < 0.05
        naive += (
            two_proportion_ztest(int(x[~b].sum()), int(n[~b].sum()), int(x[b].sum()), int(n[b].sum())).p_value < 0.05
        )
    assert 0.02 <= delta / splits <= 0.085
    assert naive > delta


def test_sample_ratio_mismatch_is_flagged(db: Path) -> None:
    frame = run_named_query("title_strategy_ab", db_path=db).frame.copy()
    frame.loc[frame.variant == "llm", "users"] = (frame.loc[frame.variant == "llm", "users"] * 0.9).astype(int)
    result = analyze_experiment(frame, control="grounded")
    assert result.srm.mismatch
    assert result.verdict().startswith("Do not trust this result: sample ratio mismatch")


def test_without_per_user_sums_it_falls_back_to_the_plain_test() -> None:
    frame = pd.DataFrame(
        {
            "variant": ["a", "b"],
            "users": [1_000, 1_010],
            "albums_shown": [8_000, 8_100],
            "albums_opened": [2_400, 2_700],
        }
    )
    result = analyze_experiment(frame, control="a")
    assert result.test == result.naive_test and result.test.method == "two-proportion z-test"
    assert result.control.design_effect == 1.0


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (pd.DataFrame({"variant": ["a", "b"]}), {"control": "a"}, "lacks column"),
        (
            pd.DataFrame({"variant": ["a", "b"], "users": [1, 1], "albums_shown": [1, 1], "albums_opened": [1, 1]}),
            {"control": "c"},
            "No control variant 'c'",
        ),
        (
            pd.DataFrame(
                {"variant": ["a", "b", "c"], "users": [1] * 3, "albums_shown": [5] * 3, "albums_opened": [1] * 3}
            ),
            {"control": "a"},
            "name the treatment",
        ),
        (
            pd.DataFrame({"variant": ["a", "b"], "users": [1, 1], "albums_shown": [5, 5], "albums_opened": [6, 1]}),
            {"control": "a"},
            "0 <= successes <= trials",
        ),
    ],
)
def test_bad_input_is_explained(frame: pd.DataFrame, kwargs: dict, match: str) -> None:
    with pytest.raises(ExperimentDataError, match=match):
        analyze_experiment(frame, **kwargs)

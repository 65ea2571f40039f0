"""A/B test analysis for Memories experiments: pure statistics, no database, no plotting.

For a rate metric (albums opened / albums shown) between a control and a treatment:

- per-variant rate with a 95 % Wilson interval;
- a two-proportion z-test: p-value, the difference with its confidence interval, the
  relative lift (:func:`two_proportion_ztest`, pooled standard error for the test,
  unpooled for the interval);
- because users are randomised but albums are counted, one user's albums are correlated;
  given per-user sums (what ``sql/queries/title_strategy_ab.sql`` returns) the primary test
  uses the delta method for a ratio of means (Deng et al., 2018), and Wilson intervals use
  the effective sample size ``albums / design effect``. Without the sums it falls back to
  the plain two-proportion test and says so;
- a sample-ratio-mismatch check: chi-square of users per variant against the intended split
  (flagged below p = 0.001, the usual threshold);
- the minimum detectable effect for this sample (two-sided alpha 0.05, power 0.8).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from scipy import stats


class ExperimentDataError(ValueError):
    """The experiment data cannot be analysed as given; the message says what is missing."""


@dataclass(frozen=True)
class ClusterSums:
    """Per-variant sums over randomisation units (users) of successes x and trials n."""

    units: int
    successes: int  # sum x
    trials: int  # sum n
    sum_x2: float
    sum_n2: float
    sum_xn: float


@dataclass(frozen=True)
class VariantStats:
    name: str
    units: int  # users assigned
    trials: int  # albums shown
    successes: int  # albums opened
    rate: float
    ci_low: float
    ci_high: float
    design_effect: float  # variance inflation from clustering (1 = independent trials)


@dataclass(frozen=True)
class ZTest:
    method: str
    diff: float  # treatment - control, absolute
    diff_low: float
    diff_high: float
    z: float
    p_value: float
    relative_lift: float  # diff / control rate


@dataclass(frozen=True)
class SrmCheck:
    observed: dict[str, int]
    expected: dict[str, float]  # expected counts
    chi2: float
    p_value: float
    threshold: float
    mismatch: bool


@dataclass(frozen=True)
class ExperimentResult:
    experiment: str
    metric: str
    control: VariantStats
    treatment: VariantStats
    test: ZTest  # primary: delta method when per-user sums are given
    naive_test: ZTest  # two-proportion test treating every album as independent
    srm: SrmCheck
    mde_abs: float  # smallest absolute difference detectable with `power`
    mde_rel: float  # the same relative to the control rate
    alpha: float
    power: float

    @property
    def significant(self) -> bool:
        return self.test.p_value < self.alpha

    def verdict(self) -> str:
        if self.srm.mismatch:
            return (
                f"Do not trust this result: sample ratio mismatch (p = {self.srm.p_value:.2g}); "
                "check assignment and logging first."
            )
        lift = f"{self.test.relative_lift:+.1%}"
        if self.significant:
            return f"{self.treatment.name} changes {self.metric} by {lift} (p = {self.test.p_value:.2g})."
        return (
            f"No significant difference (observed {lift}, p = {self.test.p_value:.2g}); this sample "
            f"detects {self.mde_rel:.1%} relative or more with {self.power:.0%} power."
        )


def wilson_interval(successes: float, trials: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    _check_counts(successes, trials)
    if trials == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = successes / trials
    denom = 1 + z * z / trials
    center = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def two_proportion_ztest(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, alpha: float = 0.05
) -> ZTest:
    """B against A: z and p-value with the pooled standard error, the interval of the
    difference with the unpooled one."""
    for s, n in ((successes_a, trials_a), (successes_b, trials_b)):
        _check_counts(s, n)
        if n == 0:
            raise ExperimentDataError("A variant has no trials; a z-test needs albums shown in both variants.")
    pa, pb = successes_a / trials_a, successes_b / trials_b
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    se = math.sqrt(pa * (1 - pa) / trials_a + pb * (1 - pb) / trials_b)
    return _ztest("two-proportion z-test", pa, pb - pa, se_pooled, se, alpha)


def delta_method_ztest(a: ClusterSums, b: ClusterSums, alpha: float = 0.05) -> ZTest:
    """B against A for a ratio metric sum(x)/sum(n) randomised by unit (delta method)."""
    ra, va = _ratio_variance(a)
    rb, vb = _ratio_variance(b)
    se = math.sqrt(va + vb)
    return _ztest("delta method, clustered by user", ra, rb - ra, se, se, alpha)


def design_effect(sums: ClusterSums) -> float:
    """Var(delta method) / Var(binomial): how much clustering inflates the variance."""
    rate, var = _ratio_variance(sums)
    binomial = rate * (1 - rate) / sums.trials
    return var / binomial if binomial > 0 else 1.0


def srm_check(observed: Mapping[str, int], expected_split: Mapping[str, float], threshold: float = 0.001) -> SrmCheck:
    """Chi-square goodness of fit of units per variant against the intended split."""
    names = list(observed)
    if sorted(names) != sorted(expected_split):
        raise ExperimentDataError(
            f"The intended split names {sorted(expected_split)} but the data has variants {sorted(names)}; "
            "give one share per variant, e.g. {'grounded': 0.5, 'llm': 0.5}."
        )
    shares = [float(expected_split[n]) for n in names]
    if any(s <= 0 for s in shares):
        raise ExperimentDataError("Every share of the intended split must be positive.")
    total = sum(observed[n] for n in names)
    if total == 0:
        raise ExperimentDataError("No units assigned to any variant.")
    expected = [total * s / sum(shares) for s in shares]
    chi2, p = stats.chisquare([observed[n] for n in names], expected)
    return SrmCheck(
        {n: int(observed[n]) for n in names},
        dict(zip(names, expected, strict=True)),
        float(chi2),
        float(p),
        threshold,
        bool(p < threshold),
    )


def minimum_detectable_effect(
    baseline: float,
    trials_a: float,
    trials_b: float,
    alpha: float = 0.05,
    power: float = 0.8,
    design_effect: float = 1.0,
) -> float:
    """Smallest absolute difference a two-sided test detects with ``power`` (normal approximation,
    variance at the baseline rate, inflated by ``design_effect`` for clustered trials)."""
    if not 0 < baseline < 1:
        raise ExperimentDataError(f"baseline must be a rate strictly between 0 and 1, got {baseline!r}.")
    if trials_a <= 0 or trials_b <= 0:
        raise ExperimentDataError("Both variants need trials to compute a minimum detectable effect.")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ExperimentDataError("alpha and power must be between 0 and 1 (e.g. 0.05 and 0.8).")
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return z * math.sqrt(design_effect * baseline * (1 - baseline) * (1 / trials_a + 1 / trials_b))


REQUIRED_COLUMNS = ("variant", "users")
CLUSTER_COLUMNS = ("exposed_users", "sum_opened_sq", "sum_shown_sq", "sum_opened_shown")


def analyze_experiment(
    frame: pd.DataFrame,
    *,
    control: str,
    treatment: str | None = None,
    expected_split: Mapping[str, float] | None = None,
    successes: str = "albums_opened",
    trials: str = "albums_shown",
    experiment: str = "",
    alpha: float = 0.05,
    power: float = 0.8,
) -> ExperimentResult:
    """Analyse one treatment against the control from a per-variant frame (the result of the
    named query ``title_strategy_ab``). ``expected_split`` defaults to equal shares."""
    needed = [*REQUIRED_COLUMNS, successes, trials]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ExperimentDataError(
            f"The frame lacks column(s) {', '.join(missing)} (it has {', '.join(map(str, frame.columns))}). "
            "Use the result of the named query title_strategy_ab."
        )
    variants = [str(v) for v in frame["variant"]]
    if len(set(variants)) != len(variants):
        raise ExperimentDataError("Each variant must appear in one row; aggregate per variant first.")
    if control not in variants:
        raise ExperimentDataError(f"No control variant {control!r}; the variants are {', '.join(variants)}.")
    others = [v for v in variants if v != control]
    if treatment is None:
        if len(others) != 1:
            raise ExperimentDataError(
                f"{len(others)} variants besides the control ({', '.join(others) or 'none'}); "
                "name the treatment to compare."
            )
        treatment = others[0]
    if treatment not in others:
        raise ExperimentDataError(f"No treatment variant {treatment!r}; the variants are {', '.join(variants)}.")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ExperimentDataError("alpha and power must be between 0 and 1 (e.g. 0.05 and 0.8).")
    rows = {str(r["variant"]): r for r in frame.to_dict("records")}
    split = dict(expected_split) if expected_split else {v: 1.0 for v in variants}

    # The per-user sums in the frame are of albums opened and shown; other metrics fall back.
    clustered = (successes, trials) == ("albums_opened", "albums_shown") and all(
        c in frame.columns for c in CLUSTER_COLUMNS
    )
    sums = {v: _sums(rows[v], successes, trials) for v in (control, treatment)} if clustered else None
    ca, cb = (rows[control], rows[treatment])
    naive = two_proportion_ztest(int(ca[successes]), int(ca[trials]), int(cb[successes]), int(cb[trials]), alpha)
    test = delta_method_ztest(sums[control], sums[treatment], alpha) if sums else naive
    deff = {v: design_effect(sums[v]) if sums else 1.0 for v in (control, treatment)}
    variant_stats = {v: _variant(v, rows[v], successes, trials, deff[v], alpha) for v in (control, treatment)}
    srm = srm_check({v: int(rows[v]["users"]) for v in variants}, split)
    baseline = variant_stats[control].rate
    pooled_deff = (deff[control] + deff[treatment]) / 2
    mde = (
        minimum_detectable_effect(baseline, int(ca[trials]), int(cb[trials]), alpha, power, pooled_deff)
        if 0 < baseline < 1
        else float("nan")
    )
    return ExperimentResult(
        experiment=experiment,
        metric=f"{successes} / {trials}",
        control=variant_stats[control],
        treatment=variant_stats[treatment],
        test=test,
        naive_test=naive,
        srm=srm,
        mde_abs=mde,
        mde_rel=mde / baseline if baseline else float("nan"),
        alpha=alpha,
        power=power,
    )


# ---------------------------------------------------------------------------------------


def _check_counts(successes: float, trials: float) -> None:
    if trials < 0 or successes < 0 or successes > trials:
        raise ExperimentDataError(
            f"Counts must satisfy 0 <= successes <= trials; got successes={successes}, trials={trials}."
        )


def _ztest(method: str, base: float, diff: float, se_test: float, se_ci: float, alpha: float) -> ZTest:
    crit = float(stats.norm.ppf(1 - alpha / 2))
    z = diff / se_test if se_test > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    p = float(2 * stats.norm.sf(abs(z)))
    return ZTest(method, diff, diff - crit * se_ci, diff + crit * se_ci, float(z), p, diff / base if base else math.nan)


def _ratio_variance(s: ClusterSums) -> tuple[float, float]:
    if s.units < 2 or s.trials <= 0:
        raise ExperimentDataError("The delta method needs at least two exposed users with trials per variant.")
    k = s.units
    mx, mn = s.successes / k, s.trials / k
    var_x = (s.sum_x2 - k * mx * mx) / (k - 1)
    var_n = (s.sum_n2 - k * mn * mn) / (k - 1)
    cov = (s.sum_xn - k * mx * mn) / (k - 1)
    rate = s.successes / s.trials
    return rate, max(0.0, (var_x - 2 * rate * cov + rate * rate * var_n) / (k * mn * mn))


def _sums(row: Mapping, successes: str, trials: str) -> ClusterSums:
    return ClusterSums(
        units=int(row["exposed_users"]),
        successes=int(row[successes]),
        trials=int(row[trials]),
        sum_x2=float(row["sum_opened_sq"]),
        sum_n2=float(row["sum_shown_sq"]),
        sum_xn=float(row["sum_opened_shown"]),
    )


def _variant(name: str, row: Mapping, successes: str, trials: str, deff: float, alpha: float) -> VariantStats:
    x, n = int(row[successes]), int(row[trials])
    _check_counts(x, n)
    rate = x / n if n else float("nan")
    # Wilson on the effective sample size: clustering makes n albums worth n / deff.
    n_eff = n / max(deff, 1.0)
    low, high = wilson_interval(rate * n_eff if n else 0.0, n_eff)
    return VariantStats(name, int(row["users"]), n, x, rate, low, high, deff)

"""Drift of a new batch against the reference profile: a test and an effect size per check.

For every feature, each check pairs a test (is the change real?) with an effect size in units a
person can act on and a threshold from ``configs/monitor.yaml`` named like the effect (is it big
enough to matter?):

* distribution of a number: ``wasserstein_sd``, how far values moved on average, in training
  standard deviations: the Wasserstein-1 distance between training and batch over the central
  98 % of the training range (1st to 99th training percentile; the tails are the out-of-range
  check's). A shift of the whole distribution by 0.3 SD scores 0.3 (0.294: 2 % of the mass
  lies outside that range); doubling the spread of a normal feature scores 0.56. Threshold
  0.2, Cohen's "small" effect. Test: the rank-sum (Mann-Whitney) test for a shift of location
  and the chi-square test of homogeneity on the training deciles for a change of spread or
  shape; the check's p-value is twice the smaller of the two (Bonferroni), so it keeps its size;
* distribution of a category: ``total_variation``, the share of rows whose category would have
  to change to turn the training mix into the batch's (0 to 1). Test: chi-square homogeneity
  on the category counts;
* missing rate: ``missing_rate_change``, the absolute change in the share of missing values;
  chi-square test on the 2 x 2 table;
* values outside the training range (numbers) and categories never seen in training:
  ``out_of_range_share`` and ``new_category_share``, the share itself; a one-sided binomial test
  that it exceeds the tolerated share (for numbers, plus the share ``2 / (m + 1)`` a clean batch
  has outside the range of ``m`` training values: :func:`expected_outside`).

Why not PSI and the Jensen-Shannon distance, used before? Both are squared, chi-square-like
divergences at heart, so the sampling noise of a batch of ``n`` rows and a training sample of
``m`` adds about ``(bins - 1) * (1/n + 1/m)`` to them on top of any real change: a +0.3 SD
shift had a median PSI (20 bins) of 0.139 on 1,000-row batches against 1,000 training rows and
0.091 on 200,000-row batches against 10,000, and alerted in 16 and 2 of 20 batches; clean
100-row batches had a median PSI of 0.21, twice the threshold. The Wasserstein distance and the
total variation are linear in the change, so noise adds to them in quadrature,
``observed**2 ~ true**2 + floor**2``, and ``floor`` (the expected distance when nothing
changed) is known in closed form from the bin counts: every gap between the two cumulative
shares is a difference of two binomial proportions. Each effect is reported with the floor
removed, ``sqrt(max(observed**2 - floor**2, 0))``. A real change then measures its true size at
every batch size (slightly less, never more, when it is no bigger than the noise). A clean batch
measures near 0; not exactly 0 on average (no estimate that is never negative can be), but
about 0.05 SD on 100 rows, where the uncorrected distance averages 0.12, against a threshold of
0.2. Measured in ``benchmarks/`` (20 batches per cell, 1,000 to 10,000 training rows): +0.3 SD
measures 0.28 to 0.31 and alerts 20 times out of 20 at 1,000, 2,000, 20,000 and 200,000 rows;
clean batches of 100 to 200,000 rows measure 0.00 to 0.02 and never alert; +0.02 SD on
200,000 rows measures 0.00 to 0.03 and never alerts. The tests have the power that a
chi-square on 19 or 99 degrees of freedom lacks: +0.3 SD in 1,000 rows gives a rank-sum z of
about 8 against 3,500 training rows (6 against 1,000).

The rank-sum test and the Wasserstein distance are computed from the 2 x k table of bin counts
(one pass over the batch); ``tests/test_monitoring.py`` checks them against
``scipy.stats.mannwhitneyu`` and ``scipy.stats.wasserstein_distance``.

The p-values of all checks of all features are adjusted together with Benjamini-Hochberg
(``scipy.stats.false_discovery_control``), so testing 25 features does not buy 25 chances of a
false alarm. A check flags drift only when it is both statistically significant (adjusted p
below ``alpha``) and practically significant (effect at or above its threshold): a huge batch
makes every tiny shift significant, but not large. A feature absent from the batch is skipped
(and listed in ``DriftReport.absent``), so the other features are still monitored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..data.features import FeaturePipeline, numbers
from .profile import CategoricalProfile, NumericProfile, Profile, bin_counts, category_counts

SHAPE_GROUPS = 10  # the shape test's chi-square runs on training deciles: 9 degrees of freedom
PLOT_GROUPS = 20  # the report's plot shows training vigintiles, not all 100 percentile bins
_MEAN_ABS_NORMAL = math.sqrt(2 / math.pi)  # E|Z| of a standard normal


@dataclass
class Check:
    """One check of one feature: the effect against its threshold and the test's p-value."""

    feature: str
    check: str
    effect_name: str
    effect: float
    threshold: float
    p_value: float
    p_adjusted: float = math.nan
    drifted: bool = False
    detail: str = ""


@dataclass
class Distribution:
    """Reference and batch shares per bin or category, for the report's plots."""

    labels: list[str]
    reference: list[float]
    current: list[float]


@dataclass
class DriftReport:
    """Every check of every feature, the features that drifted and the batch verdict.

    ``absent``: profiled features the batch does not have (skipped; the other features are
    still checked)."""

    rows: int
    checks: list[Check]
    distributions: dict[str, Distribution] = field(default_factory=dict)
    min_drifted_features: int = 1
    absent: list[str] = field(default_factory=list)

    @property
    def drifted_features(self) -> list[str]:
        return list(dict.fromkeys(c.feature for c in self.checks if c.drifted))

    @property
    def drifted(self) -> bool:
        return len(self.drifted_features) >= self.min_drifted_features


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.zeros_like(counts, dtype=float)


def debiased(observed: float, floor: float) -> float:
    """``observed`` with the expected contribution of sampling noise removed in quadrature.

    A linear distance summed over gaps that each carry independent-looking normal noise has
    expected value about ``sqrt(true**2 + floor**2)``, where ``floor`` is its expected value when
    nothing changed: exact at both ends (no change; a change much larger than the noise)."""
    return math.sqrt(max(observed**2 - floor**2, 0.0))


def cumulative_gaps(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batch minus training cumulative share at each interior edge, and each gap's standard
    error (binomial proportions of the batch's ``n`` and the training ``m`` rows)."""
    ref = np.cumsum(reference[:-1]) / reference.sum()
    cur = np.cumsum(current[:-1]) / current.sum()
    error = np.sqrt(ref * (1 - ref) / reference.sum() + cur * (1 - cur) / current.sum())
    return cur - ref, error


def wasserstein(edges: np.ndarray, reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein-1 distance between the binned distributions, between the first and last edge,
    in the feature's units: ``sum |F_batch(e_j) - F_train(e_j)| * (e_j+1 - e_j)``.

    Equal to ``scipy.stats.wasserstein_distance`` of the two distributions with each bin's rows
    placed on its upper edge (the outer bins on the outer edges). Exact for a discrete column
    whose values are edges; for a continuous one, a Riemann sum on 98 percentile steps."""
    if len(edges) < 2 or not reference.sum() or not current.sum():
        return 0.0
    gaps, _ = cumulative_gaps(reference, current)
    return float(np.abs(gaps[:-1]) @ np.diff(edges))


def wasserstein_sd(
    edges: np.ndarray, reference: np.ndarray, current: np.ndarray, sd: float
) -> tuple[float, float]:
    """The distribution effect of a number: (debiased, observed) Wasserstein-1 in training SDs.

    The noise floor is the distance's expected value when nothing changed, from the standard
    error of each cumulative gap: ``sqrt(2/pi) * sum(error_j * width_j)``."""
    if len(edges) < 2 or not reference.sum() or not current.sum() or not sd > 0:
        return 0.0, 0.0
    _, error = cumulative_gaps(reference, current)
    observed = wasserstein(edges, reference, current) / sd
    floor = _MEAN_ABS_NORMAL * float(error[:-1] @ np.diff(edges)) / sd
    return debiased(observed, floor), observed


def total_variation(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """The distribution effect of a category: (debiased, observed) total variation distance,
    half the sum of absolute share changes: the share of rows whose category must change."""
    if not reference.sum() or not current.sum():
        return 0.0, 0.0
    ref, cur = _shares(reference), _shares(current)
    observed = 0.5 * float(np.abs(cur - ref).sum())
    error = np.sqrt(ref * (1 - ref) / reference.sum() + cur * (1 - cur) / current.sum())
    floor = 0.5 * _MEAN_ABS_NORMAL * float(error.sum())
    return debiased(observed, floor), observed


def rank_sum(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Mann-Whitney U of the batch against training, from the 2 x k table of ordered bin counts
    (every row of a bin gets the bin's mid-rank), and its two-sided p-value: the normal
    approximation with the tie correction and no continuity correction, as
    ``scipy.stats.mannwhitneyu(batch, training, method="asymptotic", use_continuity=False)``."""
    ref, cur = reference.astype(float), current.astype(float)
    m, n = ref.sum(), cur.sum()
    if not m or not n:
        return math.nan, 1.0
    tied = ref + cur
    total = m + n
    midranks = np.cumsum(tied) - (tied - 1) / 2
    u = float(cur @ midranks - n * (n + 1) / 2)
    variance = m * n / 12 * ((total + 1) - float(np.sum(tied**3 - tied)) / (total * (total - 1)))
    if variance <= 0:
        return u, 1.0
    z = (u - m * n / 2) / math.sqrt(variance)
    return u, float(2 * stats.norm.sf(abs(z)))


def homogeneity_p(reference: np.ndarray, current: np.ndarray) -> float:
    """p-value of the chi-square test that both count vectors come from one distribution."""
    table = np.vstack([reference, current]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def group_starts(reference: np.ndarray, groups: int) -> np.ndarray:
    """First bin of each group when consecutive bins are merged into ``groups`` groups of about
    equal training share (fewer when a heavy bin spans several)."""
    below = (np.cumsum(reference) - reference) / max(reference.sum(), 1)
    group = np.minimum(np.floor(below * groups + 1e-9).astype(int), groups - 1)
    return np.flatnonzero(np.r_[True, group[1:] != group[:-1]])


def distribution_p(reference: np.ndarray, current: np.ndarray) -> float:
    """Rank-sum (location) and decile chi-square (shape) combined: twice the smaller p-value."""
    starts = group_starts(reference, SHAPE_GROUPS)
    shape = homogeneity_p(np.add.reduceat(reference, starts), np.add.reduceat(current, starts))
    return min(1.0, 2 * min(rank_sum(reference, current)[1], shape))


def _median(edges: np.ndarray, counts: np.ndarray) -> float:
    """The median read off the bins: the first edge with half the rows at or below it (to a
    percentile of training; exact for a discrete column). NaN when it lies outside the edges."""
    below = np.cumsum(counts[:-1])
    if not len(edges) or not counts.sum() or below[-1] < counts.sum() / 2:
        return math.nan
    return float(edges[np.searchsorted(below, counts.sum() / 2)])


def _missing_check(
    name: str, ref_missing: int, ref_rows: int, missing: int, rows: int, t: Any
) -> Check:
    table = np.array([[ref_missing, ref_rows - ref_missing], [missing, rows - missing]])
    change = abs(missing / rows - ref_missing / ref_rows) if rows and ref_rows else 0.0
    return Check(
        name,
        "missing rate",
        "missing_rate_change",
        change,
        t.missing_rate_change,
        homogeneity_p(table[0], table[1]),
        detail=f"{100 * ref_missing / ref_rows:.1f} % -> {100 * missing / rows:.1f} %"
        if rows and ref_rows
        else "",
    )


def excess_share(hits: int, rows: int, tolerated: float) -> tuple[float, float, float]:
    """A share check's effect, threshold and p-value: the share of ``hits`` in ``rows``, the
    ``tolerated`` share, and the binomial test that the share exceeds it."""
    if not rows:
        return 0.0, tolerated, 1.0
    p = stats.binomtest(hits, rows, tolerated, alternative="greater").pvalue
    return hits / rows, tolerated, float(p)


def expected_outside(profile: NumericProfile) -> float:
    """The share of a clean batch expected outside the min..max of ``m`` training values of a
    continuous feature, ``2 / (m + 1)``: added to the tolerated share, so a small training
    split (a 150-row table) does not make every large clean batch "out of range"."""
    present = profile.rows - profile.missing
    return 2.0 / (present + 1) if present else 0.0


def _plotted(edges: np.ndarray, reference: np.ndarray, current: np.ndarray) -> Distribution:
    """Training and batch shares on training vigintiles (the fine bins merged), for people."""
    starts = group_starts(reference, PLOT_GROUPS)
    ends = np.r_[starts[1:], len(reference)] - 1  # last fine bin of each group
    labels = []
    for first, last in zip(starts, ends, strict=True):
        if not len(edges):
            labels.append("all")
        elif first == 0:
            labels.append(f"<= {edges[last]:.4g}")
        elif last == len(edges):
            labels.append(f"> {edges[first - 1]:.4g}")
        else:
            labels.append(f"({edges[first - 1]:.4g}, {edges[last]:.4g}]")
    return Distribution(
        labels,
        _shares(np.add.reduceat(reference, starts)).tolist(),
        _shares(np.add.reduceat(current, starts)).tolist(),
    )


def numeric_checks(
    name: str, profile: NumericProfile, tally: NumberCounts, t: Any
) -> tuple[list[Check], Distribution]:
    """Distribution, missing rate and out-of-range checks of one number."""
    present = tally.rows - tally.missing
    edges = np.asarray(profile.edges, dtype=float)
    reference = np.asarray(profile.counts)
    current, outside = tally.bins, tally.outside
    effect, _ = wasserstein_sd(edges, reference, current, profile.sd)
    before, after = _median(edges, reference), _median(edges, current)
    detail = ""
    if math.isfinite(before) and profile.sd > 0 and current.sum():
        detail = (
            f"median {before:.4g} -> {after:.4g} ({(after - before) / profile.sd:+.2f} SD)"
            if math.isfinite(after)
            else f"median {before:.4g} -> above the training 99th percentile"
        )
    checks = [
        Check(
            name,
            "distribution",
            "wasserstein_sd",
            effect,
            t.wasserstein_sd,
            distribution_p(reference, current),
            detail=detail,
        ),
        _missing_check(name, profile.missing, profile.rows, tally.missing, tally.rows, t),
        Check(
            name,
            "out of training range",
            "out_of_range_share",
            *excess_share(outside, present, t.out_of_range_share + expected_outside(profile)),
            detail=f"{outside} of {present} rows outside the training range "
            f"[{profile.min:g}, {profile.max:g}]",
        ),
    ]
    return checks, _plotted(edges, reference, current)


def categorical_checks(
    name: str, profile: CategoricalProfile, tally: CategoryCounts, t: Any
) -> tuple[list[Check], Distribution]:
    """Distribution, missing rate and new-category checks of one category."""
    counts, missing = tally.counts, tally.missing
    known = list(profile.counts)
    new = sorted(set(counts.index) - set(known))
    order = known + new
    reference = np.array([profile.counts.get(k, 0) for k in order])
    current = counts.reindex(order, fill_value=0).to_numpy()
    unseen = int(current[len(known) :].sum())
    effect, _ = total_variation(reference, current)
    detail = ""
    if reference.sum() and current.sum():
        change = _shares(current) - _shares(reference)
        top = int(np.argmax(np.abs(change)))
        detail = (
            f"largest change: {order[top]} {100 * _shares(reference)[top]:.1f} % -> "
            f"{100 * _shares(current)[top]:.1f} %"
        )
    checks = [
        Check(
            name,
            "distribution",
            "total_variation",
            effect,
            t.total_variation,
            homogeneity_p(reference, current),
            detail=detail,
        ),
        _missing_check(name, profile.missing, profile.rows, missing, tally.rows, t),
        Check(
            name,
            "new categories",
            "new_category_share",
            *excess_share(unseen, int(current.sum()), t.new_category_share),
            detail=f"never seen in training: {new[:10]}" if new else "",
        ),
    ]
    return checks, Distribution(order, _shares(reference).tolist(), _shares(current).tolist())


@dataclass
class NumberCounts:
    """A number in the batch, counted: rows, missing rows, rows outside the training range and
    rows per training bin."""

    bins: np.ndarray
    rows: int = 0
    missing: int = 0
    outside: int = 0


@dataclass
class CategoryCounts:
    """A category in the batch, counted: rows, missing rows and rows per label."""

    counts: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    rows: int = 0
    missing: int = 0


class BatchCounts:
    """What drift needs of a batch, counted piece by piece, so a file of any size is checked in
    the memory of one piece: the profile's bins are fixed, so the pieces' counts add up to the
    whole batch's, and every statistic is computed from counts (:func:`report`)."""

    def __init__(self, profile: Profile, features: FeaturePipeline) -> None:
        self.profile, self.features = profile, features
        self.rows = 0
        self.numbers: dict[str, NumberCounts] = {}
        self.categories: dict[str, CategoryCounts] = {}

    def add(self, frame: pd.DataFrame) -> BatchCounts:
        """Count one piece of the batch (the whole batch is one piece too)."""
        self.rows += len(frame)
        for name, profile in self.profile.numeric.items():
            if name not in frame.columns:
                continue
            spec = self.features.numeric[name]
            values = numbers(frame[name], spec.magic_values, spec.is_date)
            present = values[~np.isnan(values)]
            empty = NumberCounts(np.zeros(len(profile.edges) + 1, dtype=np.int64))
            tally = self.numbers.setdefault(name, empty)
            tally.bins = tally.bins + bin_counts(present, np.asarray(profile.edges, dtype=float))
            tally.rows += len(values)
            tally.missing += len(values) - len(present)
            tally.outside += int(
                np.count_nonzero((present < profile.min) | (present > profile.max))
            )
        for name in self.profile.categorical:
            if name in frame.columns:
                counts, missing = category_counts(frame[name])
                tally = self.categories.setdefault(name, CategoryCounts())
                tally.counts = tally.counts.add(counts, fill_value=0).astype("int64")
                tally.rows += len(frame)
                tally.missing += missing
        return self

    def report(self, thresholds: Any) -> DriftReport:
        """Check every profiled feature the batch has; adjust all p-values together; decide.
        Features the batch lacks are skipped and listed in the report's ``absent``."""
        checks: list[Check] = []
        distributions: dict[str, Distribution] = {}
        for name, tally in self.numbers.items():
            numeric = self.profile.numeric[name]
            found, distributions[name] = numeric_checks(name, numeric, tally, thresholds)
            checks += found
        for name, counted in self.categories.items():
            categorical = self.profile.categorical[name]
            found, distributions[name] = categorical_checks(name, categorical, counted, thresholds)
            checks += found
        if checks:
            adjusted = stats.false_discovery_control([c.p_value for c in checks], method="bh")
            for check, p in zip(checks, adjusted, strict=True):
                check.p_adjusted = float(p)
                check.drifted = bool(p < thresholds.alpha and check.effect >= check.threshold)
        profiled = [*self.profile.numeric, *self.profile.categorical]
        absent = [n for n in profiled if n not in self.numbers and n not in self.categories]
        return DriftReport(
            self.rows, checks, distributions, thresholds.min_drifted_features, absent
        )


def detect_drift(
    frame: pd.DataFrame, profile: Profile, features: FeaturePipeline, thresholds: Any
) -> DriftReport:
    """The drift report of a whole batch (``monitor`` counts a large file piece by piece)."""
    return BatchCounts(profile, features).add(frame).report(thresholds)

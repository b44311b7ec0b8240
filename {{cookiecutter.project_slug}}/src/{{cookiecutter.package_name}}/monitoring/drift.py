"""Drift of a new batch against the reference profile: a test and an effect size per check.

For every feature, each check pairs a scipy test (is the change real?) with an effect size and
a threshold from ``configs/monitor/`` (is it big enough to matter?):

* distribution of a number: chi-square test of homogeneity on the training quantile bins
  (reference counts against batch counts, so the reference's own sampling noise is accounted
  for) and the population stability index (PSI) on the same bins;
* distribution of a category: the same chi-square test on category counts, and the
  Jensen-Shannon distance (base 2, between 0 and 1);
* missing rate: chi-square test on the 2 x 2 table, and the absolute change in the rate;
* values outside the training range (numbers) and categories never seen in training: a
  one-sided binomial test that the share exceeds the tolerated share, and the share itself.

The p-values of all checks of all features are adjusted together with Benjamini-Hochberg
(``scipy.stats.false_discovery_control``), so testing 25 features does not buy 25 chances of a
false alarm. A check flags drift only when it is both statistically significant (adjusted p
below ``alpha``) and practically significant (effect at or above its threshold): a huge batch
makes every tiny shift significant, but not large.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from ..data.features import FeaturePipeline, numbers
from .profile import CategoricalProfile, NumericProfile, Profile, bin_counts, category_counts

SMOOTHING = 1e-4  # added to empty bins so PSI stays finite


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
    """Every check of every feature, the features that drifted and the batch verdict."""

    rows: int
    checks: list[Check]
    distributions: dict[str, Distribution] = field(default_factory=dict)
    min_drifted_features: int = 1

    @property
    def drifted_features(self) -> list[str]:
        return list(dict.fromkeys(c.feature for c in self.checks if c.drifted))

    @property
    def drifted(self) -> bool:
        return len(self.drifted_features) >= self.min_drifted_features


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.zeros_like(counts, dtype=float)


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    ref = _shares(reference) + SMOOTHING
    cur = _shares(current) + SMOOTHING
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def homogeneity_p(reference: np.ndarray, current: np.ndarray) -> float:
    """p-value of the chi-square test that both count vectors come from one distribution."""
    table = np.vstack([reference, current]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


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


def _excess_share_check(
    name: str, check: str, effect_name: str, hits: int, rows: int, tolerated: float, detail: str
) -> Check:
    """The share of ``hits`` and the binomial test that it exceeds ``tolerated``."""
    share = hits / rows if rows else 0.0
    p = stats.binomtest(hits, rows, tolerated, alternative="greater").pvalue if rows else 1.0
    return Check(name, check, effect_name, share, tolerated, float(p), detail=detail)


def numeric_checks(
    name: str, profile: NumericProfile, values: np.ndarray, t: Any
) -> tuple[list[Check], Distribution]:
    """Distribution, missing rate and out-of-range checks of one number."""
    present = values[~np.isnan(values)]
    edges = np.asarray(profile.edges)
    reference = np.asarray(profile.counts)
    current = bin_counts(present, edges)
    outside = int(np.count_nonzero((present < profile.min) | (present > profile.max)))
    checks = [
        Check(
            name,
            "distribution",
            "psi",
            psi(reference, current),
            t.psi,
            homogeneity_p(reference, current),
        ),
        _missing_check(
            name, profile.missing, profile.rows, len(values) - len(present), len(values), t
        ),
        _excess_share_check(
            name,
            "out of training range",
            "out_of_range_share",
            outside,
            len(present),
            t.out_of_range_share,
            f"training range [{profile.min:g}, {profile.max:g}]",
        ),
    ]
    labels = [f"<= {edges[0]:.4g}"] if len(edges) else ["all"]
    labels += [f"({lo:.4g}, {hi:.4g}]" for lo, hi in pairwise(edges)]
    labels += [f"> {edges[-1]:.4g}"] if len(edges) else []
    return checks, Distribution(labels, _shares(reference).tolist(), _shares(current).tolist())


def categorical_checks(
    name: str, profile: CategoricalProfile, values: pd.Series, t: Any
) -> tuple[list[Check], Distribution]:
    """Distribution, missing rate and new-category checks of one category."""
    counts, missing = category_counts(values)
    known = list(profile.counts)
    new = sorted(set(counts.index) - set(known))
    order = known + new
    reference = np.array([profile.counts.get(k, 0) for k in order])
    current = counts.reindex(order, fill_value=0).to_numpy()
    unseen = int(current[len(known) :].sum())
    checks = [
        Check(
            name,
            "distribution",
            "js_distance",
            float(jensenshannon(_shares(reference), _shares(current), base=2))
            if current.sum()
            else 0.0,
            t.js_distance,
            homogeneity_p(reference, current),
        ),
        _missing_check(name, profile.missing, profile.rows, missing, len(values), t),
        _excess_share_check(
            name,
            "new categories",
            "new_category_share",
            unseen,
            int(current.sum()),
            t.new_category_share,
            f"never seen in training: {new[:10]}" if new else "",
        ),
    ]
    return checks, Distribution(order, _shares(reference).tolist(), _shares(current).tolist())


def detect_drift(
    frame: pd.DataFrame, profile: Profile, features: FeaturePipeline, thresholds: Any
) -> DriftReport:
    """Check every profiled feature of ``frame``; adjust all p-values together; decide."""
    checks: list[Check] = []
    distributions: dict[str, Distribution] = {}
    for name, numeric in profile.numeric.items():
        spec = features.numeric[name]
        values = numbers(frame[name], spec.magic_values, spec.is_date)
        found, distributions[name] = numeric_checks(name, numeric, values, thresholds)
        checks += found
    for name, categorical in profile.categorical.items():
        found, distributions[name] = categorical_checks(name, categorical, frame[name], thresholds)
        checks += found
    if checks:
        adjusted = stats.false_discovery_control([c.p_value for c in checks], method="bh")
        for check, p in zip(checks, adjusted, strict=True):
            check.p_adjusted = float(p)
            check.drifted = bool(p < thresholds.alpha and check.effect >= check.threshold)
    return DriftReport(len(frame), checks, distributions, thresholds.min_drifted_features)

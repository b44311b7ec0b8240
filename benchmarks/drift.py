"""Drift detection on the held-back dataset (``drift_data.py``): ours against the scipy floor.

Run by ``run.py`` with the baked project's ``src`` on the path; prints JSON. For each size the
reference (training) and the batch have the same number of rows; rounds are interleaved:

* ours, monitoring: ``detect_drift`` on the batch against a stored profile (what ``monitor``
  does; the profile is computed once, at training time);
* ours, profile + monitoring: also computing the reference profile, as a tool that keeps no
  profile must do each time;
* scipy floor: ``ks_2samp`` per numeric column and ``chi2_contingency`` per categorical
  column, p < 0.05 each, no correction and no effect size (the issue's "plain scipy").

Also the verdicts (which columns each flags) and ours' peak traced memory during one check.

Then the batch-size sweep (issue 9): one normal column, training profiles of 1,000, 3,500 and
10,000 rows, clean batches of 100 to 200,000 rows, +0.3 training SDs from 1,000 rows up and
+0.02 SD at 200,000 rows, each repeated (fresh training and batch rows every time). For each
case: the median of our effect (``wasserstein_sd``) and how often ``detect_drift`` alerted,
beside the previous rule (PSI on 20 training quantile bins, alert when the chi-square test on
those bins gives p < alpha and PSI >= 0.1), so the next reader sees whether an effect still
depends on the batch size.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from drift_data import CATEGORICAL, NUMERIC, PLANTED, make

package, sizes, repeats = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3])
sweep_repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 20
config = importlib.import_module(f"{package}.config")
schema = importlib.import_module(f"{package}.data.schema")
features_module = importlib.import_module(f"{package}.data.features")
profile_module = importlib.import_module(f"{package}.monitoring.profile")
drift = importlib.import_module(f"{package}.monitoring.drift")
THRESHOLDS = config.MonitorConfig(input="bench")
SPEC = schema.SchemaSpec(
    columns={
        **{n: schema.ColumnSpec("bench", schema.Kind.float, nullable=True) for n in NUMERIC},
        **{n: schema.ColumnSpec("bench", schema.Kind.category) for n in CATEGORICAL},
    }
)


def scipy_floor(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    flagged = []
    for name in NUMERIC:
        ref, cur = reference[name].dropna().to_numpy(), current[name].dropna().to_numpy()
        if stats.ks_2samp(ref, cur).pvalue < 0.05:
            flagged.append(name)
    for name in CATEGORICAL:
        table = pd.crosstab(
            np.r_[np.zeros(len(reference)), np.ones(len(current))],
            np.r_[reference[name].to_numpy(), current[name].to_numpy()],
        )
        if stats.chi2_contingency(table.to_numpy()).pvalue < 0.05:
            flagged.append(name)
    return flagged


def measure(rows: int, repeats: int) -> dict[str, object]:
    """Timings (interleaved rounds), verdicts and memory for one size."""
    reference, current = make(rows, 0, False), make(rows, 1, True)
    pipeline = features_module.FeaturePipeline.fit(reference, SPEC, 5)
    profile = profile_module.Profile.of(reference, pipeline)

    def ours() -> list[str]:
        return drift.detect_drift(current, profile, pipeline, THRESHOLDS).drifted_features

    def ours_with_profile() -> list[str]:
        fresh = profile_module.Profile.of(reference, pipeline)
        return drift.detect_drift(current, fresh, pipeline, THRESHOLDS).drifted_features

    cases = {
        "ours: monitor against the stored profile": ours,
        "ours: profile + monitor": ours_with_profile,
        "scipy floor: KS + chi-square per column": lambda: scipy_floor(reference, current),
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    verdicts: dict[str, list[str]] = {}
    for _ in range(repeats):
        for name, case in cases.items():
            start = time.perf_counter()
            verdicts[name] = sorted(case())
            timings[name].append(time.perf_counter() - start)
    tracemalloc.start()
    ours()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "timings": timings,
        "verdicts": verdicts,
        "planted": sorted(PLANTED),
        "peak_mib": peak / 2**20,
        "batch_mib": current.memory_usage(deep=True).sum() / 2**20,
        "profile_kib": len(profile.to_json()) / 1024,
    }


def previous_rule(reference: np.ndarray, current: np.ndarray) -> tuple[float, bool]:
    """PSI on 20 training quantile bins and the chi-square test on them (before issue 9)."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, 21)[1:-1]))
    ref = np.bincount(np.searchsorted(edges, reference), minlength=len(edges) + 1)
    cur = np.bincount(np.searchsorted(edges, current), minlength=len(edges) + 1)
    ref_share, cur_share = ref / ref.sum() + 1e-4, cur / cur.sum() + 1e-4
    psi = float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
    p = stats.chi2_contingency(np.vstack([ref, cur]), correction=False).pvalue
    return psi, bool(p < THRESHOLDS.alpha and psi >= 0.1)


SWEEP_TRAINING = (1000, 3500, 10_000)
SWEEP_CASES = [(rows, 0.0) for rows in (100, 300, 1000, 2000, 20_000, 200_000)]
SWEEP_CASES += [(rows, 0.3) for rows in (1000, 2000, 20_000, 200_000)] + [(200_000, 0.02)]


def sweep(repeats: int) -> dict[str, object]:
    """Per case and training size: effect medians and alert counts, ours and the previous rule."""
    spec = schema.SchemaSpec(columns={"x": schema.ColumnSpec("bench", schema.Kind.float)})
    rng = np.random.default_rng(9)
    cases = []
    for rows, shift in SWEEP_CASES:
        by_training = {}
        for training in SWEEP_TRAINING:
            ours, ours_alerts, psis, psi_alerts = [], 0, [], 0
            for _ in range(repeats):
                reference = pd.DataFrame({"x": rng.normal(0.0, 1.0, training)})
                current = pd.DataFrame({"x": rng.normal(shift, 1.0, rows)})
                pipeline = features_module.FeaturePipeline.fit(reference, spec, 5)
                profile = profile_module.Profile.of(reference, pipeline)
                report = drift.detect_drift(current, profile, pipeline, THRESHOLDS)
                (check,) = [c for c in report.checks if c.check == "distribution"]
                ours.append(check.effect)
                ours_alerts += report.drifted
                psi, alert = previous_rule(reference["x"].to_numpy(), current["x"].to_numpy())
                psis.append(psi)
                psi_alerts += alert
            by_training[str(training)] = {
                "ours_median": float(np.median(ours)),
                "ours_alerts": ours_alerts,
                "psi_median": float(np.median(psis)),
                "psi_alerts": psi_alerts,
            }
        cases.append({"rows": rows, "shift_sd": shift, "by_training": by_training})
    return {"repeats": repeats, "effect": check.effect_name, "cases": cases}


print(
    json.dumps(
        {
            "sizes": {str(rows): measure(rows, repeats) for rows in sizes},
            "sweep": sweep(sweep_repeats),
        }
    )
)

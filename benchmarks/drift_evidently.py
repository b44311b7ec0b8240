"""Evidently's data-drift preset on the held-back dataset, for the side-by-side in ``run.py``.

Runs in its own environment (``benchmarks/.venv-evidently``: Evidently 0.7.23 does not import
beside pandas 3), on the same rows as ``drift.py`` (``drift_data.py``). Prints JSON: per size,
seconds per round and the columns flagged, for the default preset and for KS + chi-square
forced.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from drift_data import make
from evidently import Report
from evidently.presets import DataDriftPreset

sizes, repeats = [int(s) for s in sys.argv[1].split(",")], int(sys.argv[2])
# Evidently's statistical tests (drift when the p-value is below the threshold); every other
# method is a distance (drift when at or above it). Default-preset names say "p_value".
P_VALUE_METHODS = {"ks", "chisquare", "z", "fisher_exact", "g_test", "t_test", "anderson"}
P_VALUE_METHODS |= {"mannw", "cramer_von_mises", "epps_singleton", "empirical_mmd"}


def flagged(snapshot: object) -> list[str]:
    """Columns whose ValueDrift crossed its threshold (p-values below it, distances above)."""
    columns = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        value, threshold = metric["value"], config["threshold"]
        p_value = "p_value" in config["method"] or config["method"] in P_VALUE_METHODS
        if (value < threshold) if p_value else (value >= threshold):
            columns.append(config["column"])
    return sorted(columns)


presets = {
    "Evidently 0.7.23 DataDriftPreset (default)": lambda: DataDriftPreset(),
    "Evidently 0.7.23, KS + chi-square forced": lambda: DataDriftPreset(
        num_method="ks", cat_method="chisquare"
    ),
}
results: dict[str, object] = {}
for rows in sizes:
    reference, current = make(rows, 0, False), make(rows, 1, True)
    timings: dict[str, list[float]] = {name: [] for name in presets}
    verdicts: dict[str, list[str]] = {}
    for _ in range(repeats):
        for name, preset in presets.items():
            start = time.perf_counter()
            snapshot = Report([preset()]).run(current_data=current, reference_data=reference)
            timings[name].append(time.perf_counter() - start)
            verdicts[name] = flagged(snapshot)
    results[str(rows)] = {"timings": timings, "verdicts": verdicts}
print(json.dumps(results))

"""The held-back drift dataset: 25 columns (20 numeric, 5 categorical), 5 planted shifts.

Shared by ``drift.py`` (ours and the scipy floor) and ``drift_evidently.py`` (run in its own
environment), so every tool sees the same rows. Standard library and numpy/pandas only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
# The planted shifts, one per kind: mean, scale, missing rate, category mix, new category.
PLANTED = {"num_00", "num_05", "num_12", "cat_0", "cat_3"}
CATEGORY_SHARES = [
    [0.5, 0.3, 0.2],
    [0.4, 0.3, 0.2, 0.1],
    [0.25, 0.25, 0.25, 0.25],
    [0.35, 0.25, 0.2, 0.1, 0.1],
    [0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05],
]


def numeric_column(i: int, rows: int, rng: np.random.Generator) -> np.ndarray:
    kind = i % 5
    if kind == 0:
        return rng.normal(10.0, 2.0, rows)
    if kind == 1:
        return rng.lognormal(3.0, 0.5, rows)
    if kind == 2:
        return rng.uniform(0.0, 100.0, rows)
    if kind == 3:
        return rng.exponential(5.0, rows)
    return rng.poisson(3.0, rows).astype(float)


def make(rows: int, seed: int, shifted: bool) -> pd.DataFrame:
    """``rows`` rows; with ``shifted``, the five :data:`PLANTED` columns drift."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        values = numeric_column(i, rows, rng)
        values[rng.random(rows) < 0.02] = np.nan  # every column has some missing values
        data[name] = values
    for i, name in enumerate(CATEGORICAL):
        shares = CATEGORY_SHARES[i]
        labels = np.array([f"c{k}" for k in range(len(shares))], dtype=object)
        data[name] = labels[rng.choice(len(shares), size=rows, p=shares)]
    frame = pd.DataFrame(data)
    if shifted:
        frame["num_00"] = frame["num_00"] + 1.0  # mean shift of half a standard deviation
        frame["num_05"] = 10.0 + (frame["num_05"] - 10.0) * 1.6  # scale change
        frame.loc[rng.random(rows) < 0.15, "num_12"] = np.nan  # missing rate 2 % -> 17 %
        mix = np.array(["c0", "c1", "c2"], dtype=object)
        frame["cat_0"] = mix[rng.choice(3, size=rows, p=[0.3, 0.3, 0.4])]  # category mix
        frame.loc[rng.random(rows) < 0.05, "cat_3"] = "c_new"  # a new category, 5 %
    return frame

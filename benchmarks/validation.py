"""Validation throughput: a baked project's ``validate_frame`` against one vectorized pass.

Run by ``run.py`` with the baked project's ``src`` on the path; prints JSON. The table is
1,000,000 rows x 24 columns (16 float, 4 int, 4 categorical), clean, so every check runs to
the end. The floor is one vectorized numpy pass over the same block: a range-or-missing test
of the 20 numeric columns as one float matrix and a membership test of the 4 categorical ones.
Rounds interleave floor and validation so machine noise hits both alike.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

package = sys.argv[1]
rows = int(sys.argv[2])
repeats = int(sys.argv[3])
schema = importlib.import_module(f"{package}.data.schema")
validation = importlib.import_module(f"{package}.data.validation")

rng = np.random.default_rng(0)
spec = schema.SchemaSpec()
columns: dict[str, object] = {}
for i in range(16):
    columns[f"f{i}"] = rng.normal(size=rows)
    spec.columns[f"f{i}"] = schema.ColumnSpec("a float", schema.Kind.float, min=-10, max=10)
for i in range(4):
    columns[f"i{i}"] = rng.integers(0, 100, size=rows)
    spec.columns[f"i{i}"] = schema.ColumnSpec("an int", schema.Kind.integer, min=0, max=100)
labels = np.array(["alpha", "beta", "gamma", "delta", "epsilon"], dtype=object)
for i in range(4):
    columns[f"c{i}"] = pd.array(labels[rng.integers(0, 5, size=rows)], dtype="str")
    spec.columns[f"c{i}"] = schema.ColumnSpec(
        "a category", schema.Kind.category, categories=list(labels)
    )
frame = pd.DataFrame(columns)
numeric = frame[[c for c in frame if not c.startswith("c")]].to_numpy(dtype=np.float64)
categorical = [frame[f"c{i}"].to_numpy() for i in range(4)]


def floor() -> float:
    start = time.perf_counter()
    (((numeric >= -10) & (numeric <= 100)) | np.isnan(numeric)).all(axis=0)
    for values in categorical:
        np.isin(values, labels)
    return time.perf_counter() - start


def ours() -> float:
    start = time.perf_counter()
    _, report = validation.validate_frame(frame, spec, "bench")
    elapsed = time.perf_counter() - start
    assert report.ok, report.render()
    return elapsed


samples: dict[str, list[float]] = {
    "numpy floor (one pass)": [],
    "validate_frame (pandera, lazy)": [],
}
for _ in range(repeats):
    samples["numpy floor (one pass)"].append(floor())
    samples["validate_frame (pandera, lazy)"].append(ours())
tracemalloc.start()
ours()
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(
    json.dumps(
        {
            "samples": samples,
            "peak_mb": peak / 2**20,
            "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
        }
    )
)

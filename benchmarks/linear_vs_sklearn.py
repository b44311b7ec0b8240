"""The project's linear model with its DEFAULT train config against scikit-learn's, same split.

Run by ``run.py`` with the baked project's ``src`` on the path; prints JSON on its last line.
Arguments: the package name, a comma-separated list of split seeds, then optional Hydra
overrides for the train config (for experiments; ``make bench`` passes none).

For scikit-learn's bundled iris, digits and breast cancer (classification: test accuracy)
and diabetes (regression: test RMSE), each split seed gets the project's own pieces, exactly as
``train`` uses them: ``split_frame`` with the default ``SplitConfig`` (only its seed changed),
``FeaturePipeline`` fitted on the training split of a ``SchemaSpec`` built here (every input a
float feature, the target a category or a float), ``TargetEncoding``, and ``train_network``
with ``cfg.train`` composed from the project's real ``configs/`` (``configs/train.yaml``
and its schema). ``LogisticRegression()`` / ``Ridge()`` with scikit-learn's defaults are fitted on
the same training matrix; both are scored on the same test rows with the project's metrics.
The table pulls the per-seed scores into a mean: one test row of iris is 4.3 accuracy points.

The large end: the project's own sample (its shipped data config and schema, categories one-hot)
generated at 300,000 rows, first split seed only, the same way.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
import torch
from hydra import compose, initialize_config_dir
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

package, seeds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
overrides = sys.argv[3:]
config = importlib.import_module(f"{package}.config")
sample = importlib.import_module(f"{package}.data.sample")
schema = importlib.import_module(f"{package}.data.schema")
split = importlib.import_module(f"{package}.data.split")
features = importlib.import_module(f"{package}.data.features")
tensors = importlib.import_module(f"{package}.data.tensors")
loop = importlib.import_module(f"{package}.training.loop")
models = importlib.import_module(f"{package}.models")
metrics = importlib.import_module(f"{package}.evaluation.metrics")
Task = config.Task

TARGET = "target"
LARGE_ROWS = 300_000


def bundled(load, task):
    """A scikit-learn table: every input a float feature, the target a category or a float."""

    def make():
        frame = load(as_frame=True).frame
        kind = schema.Kind.category if task.is_classification else schema.Kind.float
        columns = {
            name: schema.ColumnSpec(description=name, kind=schema.Kind.float)
            for name in frame.columns
            if name != TARGET
        }
        columns[TARGET] = schema.ColumnSpec("target", kind=kind, role=schema.Role.target)
        # iris has one duplicated row; the tables are used as published, as sklearn users do
        return frame, schema.SchemaSpec(columns, allow_duplicate_rows=True), TARGET, task

    return make


def large_sample():
    """The project's own sample data at 300,000 rows, with its shipped data config and schema."""
    data = composed().data
    frame = sample.generate(LARGE_ROWS, 0, data.task)
    spec = schema.load_contract(data.schema, data.target, data.task)
    spec.allow_duplicate_rows = True  # 300,000 generated customers repeat a few rows exactly
    return frame, spec, data.target, data.task


TABLES = {
    "iris": bundled(datasets.load_iris, Task.multiclass_classification),
    "digits": bundled(datasets.load_digits, Task.multiclass_classification),
    "breast_cancer": bundled(datasets.load_breast_cancer, Task.binary_classification),
    "diabetes": bundled(datasets.load_diabetes, Task.regression),
    f"sample, {LARGE_ROWS:,} rows": large_sample,  # the large end; first split seed only
}


def composed():
    """The project's config as ``train`` composes it: its shipped defaults (plus overrides)."""
    with initialize_config_dir(str(config.CONFIG_DIR), version_base=config.HYDRA_VERSION_BASE):
        return compose("train", overrides=[f"train.{o}" for o in overrides])


def one_split(frame: pd.DataFrame, spec, target: str, task, seed: int, train_cfg) -> dict:
    parts = split.split_frame(frame, spec, target, task, config.SplitConfig(seed=seed))
    rare_min_count = config.FeaturesConfig().rare_min_count
    pipeline = features.FeaturePipeline.fit(parts.train, spec, rare_min_count)
    encoding = tensors.TargetEncoding.fit(parts.train[target], task)
    train, val, test = (
        tensors.to_tensors(part, target, encoding, pipeline)
        for part in (parts.train, parts.val, parts.test)
    )
    (x_train, y_train), (x_test, y_test) = (train.x, train.y), (test.x, test.y)
    start = time.perf_counter()
    torch.manual_seed(train_cfg.seed)
    net = models.LinearModel(task, x_train.shape[1], encoding.n_outputs)
    model, history = loop.train_network(net, encoding, train, val, train_cfg)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    if task.is_classification:
        reference = LogisticRegression().fit(x_train.numpy(), y_train.numpy())
        theirs_outputs = reference.predict_proba(x_test.numpy())
    else:
        reference = Ridge().fit(x_train.numpy(), y_train.numpy())
        theirs_outputs = reference.predict(x_test.numpy())
    theirs_seconds = time.perf_counter() - start
    metric = "accuracy" if task.is_classification else "rmse"
    truth = y_test.numpy()
    ours = metrics.compute_metrics(task, truth, metrics.model_outputs(model, encoding, x_test))
    theirs = metrics.compute_metrics(task, truth, np.asarray(theirs_outputs))
    return {
        "ours": ours[metric],
        "sklearn": theirs[metric],
        "ours_seconds": ours_seconds,
        "sklearn_seconds": theirs_seconds,
        "epochs": len(history.train_loss),
        "batch_size": history.batch_size,
        "features": x_train.shape[1],
        "rows": [len(parts.train), len(parts.val), len(parts.test)],
    }


def main() -> None:
    torch.set_num_threads(1)  # small tables: threads cost more than they give, and add noise
    threadpool_limits(1)  # the same for scikit-learn's BLAS: one thread each, timed alike
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # sklearn's own defaults
    train_cfg = composed().train
    results = {}
    for name, make in TABLES.items():
        frame, spec, target, task = make()
        table_seeds = seeds if make is not large_sample else seeds[:1]
        runs = [one_split(frame, spec, target, task, seed, train_cfg) for seed in table_seeds]
        results[name] = {
            "task": task.value,
            "metric": "accuracy" if task.is_classification else "rmse",
            "rows": len(frame),
            "split_rows": runs[0]["rows"],
            "features": runs[0]["features"],
            "seeds": table_seeds,
            "ours": [r["ours"] for r in runs],
            "sklearn": [r["sklearn"] for r in runs],
            "ours_seconds": [r["ours_seconds"] for r in runs],
            "sklearn_seconds": [r["sklearn_seconds"] for r in runs],
            "epochs": [r["epochs"] for r in runs],
            "batch_size": runs[0]["batch_size"],
        }
    print(json.dumps({"overrides": overrides, "tables": results}))


main()

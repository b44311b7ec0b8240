"""What writing things down costs during training: MLflow logging and checkpoints, as shares.

Run by ``run.py`` with the baked project's ``src`` on the path; prints JSON. ``train_network``
trains an MLP (64, 32) for 5 epochs on ``rows`` x 32 features with its real per-epoch callback,
``RunRecorder.log_epoch`` (one ``log_batch`` per epoch to a SQLite store), and its real
per-epoch checkpoint. The time spent inside each is measured directly, in the same runs as
the total, so the shares are not differences of two noisy medians.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import torch
from mlflow.tracking import MlflowClient

package, rows, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = importlib.import_module(f"{package}.config")
loop = importlib.import_module(f"{package}.training.loop")
mlp = importlib.import_module(f"{package}.models.mlp")
tracking = importlib.import_module(f"{package}.tracking.runs")
checkpoint = importlib.import_module(f"{package}.training.checkpoint")
tensors = importlib.import_module(f"{package}.data.tensors")
TASK = config.Task.binary_classification
ENCODING = tensors.TargetEncoding(TASK, ("0", "1"))
generator = torch.Generator().manual_seed(0)
x = torch.randn(rows, 32, generator=generator)
y = (x[:, :4].sum(1) > 0).long()
spent = {"MLflow logging (log_epoch)": 0.0, "checkpoint (save)": 0.0}


class TimedCheckpoint(checkpoint.CheckpointFile):
    def save(self, state) -> None:
        start = time.perf_counter()
        super().save(state)
        spent["checkpoint (save)"] += time.perf_counter() - start


def timed_log(recorder: object) -> object:
    """``recorder.log_epoch``, with the time spent in it added to ``spent``."""

    def on_epoch(epoch: int, values: dict[str, float]) -> None:
        start = time.perf_counter()
        recorder.log_epoch(epoch, values)
        spent["MLflow logging (log_epoch)"] += time.perf_counter() - start

    return on_epoch


with tempfile.TemporaryDirectory() as tmp:
    uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("bench", Path(tmp, "artifacts").as_uri())
    cfg = config.TrainConfig(
        steps=5 * math.ceil(rows / 1024), batch_size=1024, patience=0, lr=0.001
    )
    samples: dict[str, list[float]] = {"training, 5 epochs": [], **{k: [] for k in spent}}
    for _ in range(repeats + 1):  # the first round warms up (torch._dynamo import, migrations)
        for key in spent:
            spent[key] = 0.0
        with mlflow.start_run(experiment_id=experiment) as run:
            on_epoch = timed_log(tracking.RunRecorder(run.info.run_id, MlflowClient(uri)))
            torch.manual_seed(0)
            net = mlp.MLPModel(TASK, 32, 2, [64, 32], config.Activation.relu, 0.0)
            saver = TimedCheckpoint(Path(tmp, "last.pt"), "bench", run.info.run_id)
            start = time.perf_counter()
            loop.train_network(
                net,
                ENCODING,
                tensors.Tensors(x, y),
                tensors.Tensors(x[:10_000], y[:10_000]),
                cfg,
                loop.Hooks(on_epoch=on_epoch, checkpoint=saver),
            )
            total = time.perf_counter() - start
        if _:
            samples["training, 5 epochs"].append(total)
            for key, value in spent.items():
                samples[key].append(value)
print(json.dumps(samples))

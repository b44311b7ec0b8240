"""Training-loop throughput: a baked project's ``train_network`` against two references.

Run by ``run.py`` with the baked project's ``src`` on the path; prints JSON. 1,000,000 rows x 32
features, an MLP (64, 32), batch 1,024, one epoch per sample, rounds interleaved:

* floor: forward + backward over the same batches, no optimizer, no bookkeeping;
* ours: ``train_network`` (permutation batching, Adam, the NaN/Inf guard, per-epoch validation,
  progress bar forced on and drawn to a throw-away console, per-epoch MLflow-style callback),
  without gradient clipping (like for like with the bare loop) and with the shipped clip;
* permutation + Adam: the issue's reference, the optimizer with no bookkeeping at all;
* DataLoader: the textbook ``DataLoader(TensorDataset)`` loop with Adam.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

package, rows, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = importlib.import_module(f"{package}.config")
loop = importlib.import_module(f"{package}.training.loop")
mlp = importlib.import_module(f"{package}.models.mlp")
tensors = importlib.import_module(f"{package}.data.tensors")
TASK = config.Task.binary_classification
ENCODING = tensors.TargetEncoding(TASK, ("0", "1"))
torch.set_num_threads(torch.get_num_threads())
BATCH = 1024
generator = torch.Generator().manual_seed(0)
x = torch.randn(rows, 32, generator=generator)
y = (x[:, :4].sum(1) > 0).long()
x_val, y_val = x[:10_000], y[:10_000]


def network() -> nn.Module:
    torch.manual_seed(0)
    return mlp.MLPModel(TASK, 32, 2, [64, 32], config.Activation.relu, 0.0)


def floor() -> float:
    net, loss_fn = network(), nn.CrossEntropyLoss()
    start = time.perf_counter()
    for begin in range(0, rows, BATCH):
        loss_fn(net(x[begin : begin + BATCH]), y[begin : begin + BATCH]).backward()
    return time.perf_counter() - start


def ours(grad_clip: float | None = 5.0) -> float:
    """``train_network`` with the shipped ``train.grad_clip`` (5.0: a norm clip every step),
    or with ``grad_clip=None``, the like-for-like comparison with the bare Adam loop."""
    cfg = config.TrainConfig(
        steps=math.ceil(rows / BATCH), batch_size=BATCH, patience=0, lr=0.001, grad_clip=grad_clip
    )
    logged: list[dict[str, float]] = []
    loop._show_progress = lambda: True  # the bar on, as at a terminal
    from rich import progress

    original = progress.Progress
    progress.Progress = lambda **kw: original(
        console=progress.Console(file=io.StringIO(), force_terminal=True), **kw
    )
    start = time.perf_counter()
    loop.train_network(
        network(),
        ENCODING,
        tensors.Tensors(x, y),
        tensors.Tensors(x_val, y_val),
        cfg,
        loop.Hooks(on_epoch=lambda epoch, values: logged.append(values)),
    )
    elapsed = time.perf_counter() - start
    progress.Progress = original
    return elapsed


def permutation_adam() -> float:
    """The issue's own reference: permutation batching and Adam, nothing else."""
    net, loss_fn = network(), nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    order = torch.randperm(rows, generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for begin in range(0, rows, BATCH):
        batch = order[begin : begin + BATCH]
        optimizer.zero_grad(set_to_none=True)
        loss_fn(net(x[batch]), y[batch]).backward()
        optimizer.step()
    return time.perf_counter() - start


def dataloader() -> float:
    net, loss_fn = network(), nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    batches = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    for xb, yb in batches:
        optimizer.zero_grad()
        loss_fn(net(xb), yb).backward()
        optimizer.step()
    return time.perf_counter() - start


cases = {
    "forward+backward floor": floor,
    "permutation + Adam, nothing else": permutation_adam,
    "train_network (ours), no clipping": lambda: ours(None),
    "train_network (ours), grad_clip 5.0 (default)": ours,
    "DataLoader(TensorDataset)": dataloader,
}
ours()  # warm-up: first optimizer construction imports torch._dynamo
samples: dict[str, list[float]] = {name: [] for name in cases}
for _ in range(repeats):
    for name, case in cases.items():
        samples[name].append(case())
print(json.dumps(samples))

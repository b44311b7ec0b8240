"""The training loop: tensor batching, a schedule in optimizer steps, guards, early stopping.

The schedule is sized in optimizer steps, not epochs, so the same defaults fit a 150-row table
and a 300,000-row one: ``train.batch_size`` left null picks a power of two from the training
row count (:func:`auto_batch_size`, T7), and training runs ``ceil(train.steps / batches per
epoch)`` whole epochs. Early stopping, checkpoints and the logged curves stay per epoch.

Batches are slices of preloaded tensors taken through one seeded permutation per epoch: no
per-sample ``Dataset.__getitem__`` path (measured in the issue: the default
``DataLoader(TensorDataset)`` costs about 5.9x the forward+backward floor, permutation slicing
1.3x). A NaN or infinite loss or gradient stops training with the epoch and step (ML Test
Score Mo5). Regression targets are standardised on the training split for the fit; the
returned model answers in the target's own units.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from ..config import Optimizer, Task, TrainConfig
from ..errors import PipelineError
from .checkpoint import CheckpointFile

EpochCallback = Callable[[int, dict[str, float]], None]


class TrainingDivergedError(PipelineError):
    """The loss or a gradient stopped being a finite number."""

    def __init__(self, what: str, epoch: int, step: int, lr: float) -> None:
        super().__init__(
            "<training>",
            f"finite {what}",
            f"{what} became NaN or infinite at epoch {epoch}, step {step}; "
            f"lower train.lr (now {lr:g}) (T4)",
        )
        self.epoch, self.step = epoch, step


MIN_BATCH = 16  # T7: smaller batches make the loss jump around
MAX_BATCH = 1024  # T7: "start with a large value such as 100 or 1000"
MIN_BATCHES_PER_EPOCH = 8  # a small table still gets several steps (and a shuffle) per epoch
INITIAL_LOSS_ROWS = 8192  # enough to place the curve's start; a small cost on a large table


def auto_batch_size(rows: int) -> int:
    """T7 for ``train.batch_size: null``: the largest power of two that still gives at least
    ``MIN_BATCHES_PER_EPOCH`` batches per epoch, within ``[MIN_BATCH, MAX_BATCH]``.

    105 rows (iris) give 16, 400 give 32, 3,500 give 256, 300,000 give 1,024.
    """
    size = 1 << (max(rows // MIN_BATCHES_PER_EPOCH, 1).bit_length() - 1)
    return min(max(size, MIN_BATCH), MAX_BATCH)


@dataclass(frozen=True)
class Schedule:
    """The batch size and epoch count one config gives on one training split."""

    batch_size: int
    batches_per_epoch: int
    epochs: int

    @classmethod
    def of(cls, cfg: TrainConfig, rows: int) -> Schedule:
        """``cfg.batch_size`` (null: :func:`auto_batch_size`) and enough whole epochs to take at
        least ``cfg.steps`` optimizer steps."""
        if cfg.steps < 1 or (cfg.batch_size is not None and cfg.batch_size < 1):
            raise PipelineError(
                "<train config>",
                "positive schedule",
                f"train.steps ({cfg.steps}) and train.batch_size ({cfg.batch_size}) must be "
                "positive (batch_size may be null: picked from the row count)",
            )
        batch_size = cfg.batch_size or auto_batch_size(rows)
        batches = max(math.ceil(rows / batch_size), 1)
        return cls(batch_size, batches, math.ceil(cfg.steps / batches))


@dataclass
class History:
    """Per-epoch training and validation loss, where the best validation loss was, and the
    schedule that produced them (the batch size actually used, the epochs planned).

    ``initial_loss`` is the untrained network's loss on the training split (at most
    ``INITIAL_LOSS_ROWS`` rows of it, evenly spaced) before the first step: where the curve
    starts, so the advisor sees a loss that exploded within the first epoch as a rise.
    """

    initial_loss: float = math.nan
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    batch_size: int = 0
    batches_per_epoch: int = 0
    epochs: int = 0


class Rescaled(nn.Module):
    """A regression network trained on standardised targets, answering in original units."""

    def __init__(self, net: nn.Module, mean: float, std: float) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * self.std + self.mean


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else CPU; anything else is passed to ``torch.device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer is Optimizer.sgd:
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    if cfg.optimizer is Optimizer.adamw:
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)  # L2 is explicit below
    return torch.optim.Adam(params, lr=cfg.lr)


def _penalty(weights: list[torch.Tensor], l1: float, l2: float) -> torch.Tensor | float:
    """L1 and L2 penalties on the weight matrices (biases are not penalised)."""
    total: torch.Tensor | float = 0.0
    if l1:
        total = total + l1 * sum(w.abs().sum() for w in weights)
    if l2:
        total = total + l2 * sum(w.pow(2).sum() for w in weights)
    return total


def _show_progress() -> bool:
    """A live bar only for a person at a terminal: never under CI or in a log file."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def train_network(
    net: nn.Module,
    task: Task,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    cfg: TrainConfig,
    on_epoch: EpochCallback | None = None,
    checkpoint: CheckpointFile | None = None,
    resume: dict[str, Any] | None = None,
) -> tuple[nn.Module, History]:
    """Fit ``net`` with mini-batches; return the best-validation-loss model and its history.

    The schedule is :meth:`Schedule.of` ``cfg`` and the training row count. With
    ``checkpoint``, the whole state (weights, optimizer, early-stopping bookkeeping, RNG states)
    is saved after every epoch; ``resume``, such a saved state, continues from the epoch
    after it and ends exactly where an uninterrupted run would.
    """
    from rich.progress import Progress

    torch.manual_seed(cfg.seed)
    device = pick_device(cfg.device)
    generator = torch.Generator().manual_seed(cfg.seed)
    if task.is_classification:
        loss_fn: nn.Module = nn.CrossEntropyLoss()
        targets_train, targets_val = y_train, y_val
    else:
        loss_fn = nn.MSELoss()
        mean, std = float(y_train.mean()), float(y_train.std()) or 1.0
        targets_train, targets_val = (y_train - mean) / std, (y_val - mean) / std
        targets_train, targets_val = targets_train[:, None], targets_val[:, None]
    net = net.to(device)
    x_train, targets_train = x_train.to(device), targets_train.to(device)
    x_val, targets_val = x_val.to(device), targets_val.to(device)
    optimizer = _optimizer(list(net.parameters()), cfg)
    weights = [p for name, p in net.named_parameters() if name.endswith("weight")]
    n = len(x_train)
    schedule = Schedule.of(cfg, n)
    history = History(
        batch_size=schedule.batch_size,
        batches_per_epoch=schedule.batches_per_epoch,
        epochs=schedule.epochs,
    )
    best_state, best_loss, since_best, start = None, math.inf, 0, 0
    if resume is None:  # the untrained loss, on at most INITIAL_LOSS_ROWS rows spread evenly
        every = max(math.ceil(n / INITIAL_LOSS_ROWS), 1)
        net.eval()
        with torch.no_grad():
            start_loss = loss_fn(net(x_train[::every]), targets_train[::every])
        history.initial_loss = float(start_loss)
    else:
        net.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        generator.set_state(resume["generator"])
        torch.set_rng_state(resume["torch_rng"])
        history = History(**resume["history"])
        best_state, best_loss, since_best = (
            resume["best"],
            resume["best_loss"],
            resume["since_best"],
        )
        start = len(history.train_loss) if not history.stopped_early else schedule.epochs
    # read once: a config node is slow to read in a loop that runs thousands of steps
    size, l1, l2, clip = schedule.batch_size, cfg.l1, cfg.l2, cfg.grad_clip
    with Progress(disable=not _show_progress(), transient=True) as progress:
        bar = progress.add_task("training", total=schedule.epochs, completed=start)
        for epoch in range(start, schedule.epochs):
            net.train()
            order = torch.randperm(n, generator=generator).to(device)
            running = torch.zeros((), device=device)
            for step in range(schedule.batches_per_epoch):
                batch = order[step * size : (step + 1) * size]
                loss = loss_fn(net(x_train[batch]), targets_train[batch])
                objective = loss + _penalty(weights, l1, l2)
                if not torch.isfinite(objective):
                    raise TrainingDivergedError("loss", epoch, step, cfg.lr)
                optimizer.zero_grad(set_to_none=True)
                objective.backward()
                if clip is not None:
                    norm = nn.utils.clip_grad_norm_(net.parameters(), clip)
                    if not torch.isfinite(norm):
                        raise TrainingDivergedError("gradient", epoch, step, cfg.lr)
                optimizer.step()
                running += loss.detach() * len(batch)
            net.eval()
            with torch.no_grad():
                val_loss = float(loss_fn(net(x_val), targets_val))
            train_loss = float(running) / n
            history.train_loss.append(train_loss)
            history.val_loss.append(val_loss)
            if on_epoch is not None:
                on_epoch(epoch, {"train/loss": train_loss, "val/loss": val_loss})
            progress.update(bar, advance=1, description=f"loss {train_loss:.4f} val {val_loss:.4f}")
            if val_loss < best_loss:
                best_state, best_loss, since_best = copy.deepcopy(net.state_dict()), val_loss, 0
                history.best_epoch = epoch
            else:
                since_best += 1
                history.stopped_early = bool(cfg.patience) and since_best >= cfg.patience
            if checkpoint is not None:
                checkpoint.save(
                    {
                        "model": net.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "generator": generator.get_state(),
                        "torch_rng": torch.get_rng_state(),
                        "history": asdict(history),
                        "best": best_state,
                        "best_loss": best_loss,
                        "since_best": since_best,
                    }
                )
            if history.stopped_early:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net = net.cpu().eval()
    if not task.is_classification:
        net = Rescaled(net, mean, std).eval()
    return net, history

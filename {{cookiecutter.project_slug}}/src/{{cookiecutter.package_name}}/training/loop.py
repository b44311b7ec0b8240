"""The training loop: tensor batching, a schedule in optimizer steps, guards, early stopping.

The schedule is sized in optimizer steps, not epochs, so the same defaults fit a 150-row table
and a 300,000-row one: ``train.batch_size`` left null picks a power of two from the training
row count (:func:`auto_batch_size`, T7), and training runs ``ceil(train.steps / batches per
epoch)`` whole epochs. Early stopping, checkpoints and the logged curves stay per epoch.

Batches are slices of preloaded tensors taken through one seeded permutation per epoch: no
per-sample ``Dataset.__getitem__`` path (measured in the issue: the default
``DataLoader(TensorDataset)`` costs about 5.9x the forward+backward floor, permutation slicing
1.3x). A NaN or infinite loss or gradient stops training with the epoch and step (ML Test
Score Mo5); the check runs once per epoch on the step losses kept on the device, so the hot
loop never waits for a number to reach Python. Targets are fitted as
:meth:`~..data.tensors.TargetEncoding.fit_targets` gives them (standardised for regression).
"""

from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ..config import Optimizer, TrainConfig
from ..data.tensors import TargetEncoding, Tensors
from ..errors import PipelineError
from . import distributed
from .checkpoint import CheckpointFile, History, TrainState
from .distributed import Shard

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


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else CPU; anything else is passed to ``torch.device``."""
    if name == "auto" and torch.cuda.is_available():  # under torchrun: this rank's own GPU
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if name == "auto":
        return torch.device("cpu")
    return torch.device(name)


def _optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer is Optimizer.sgd:
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    if cfg.optimizer is Optimizer.adamw:
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)  # L2 is explicit below
    return torch.optim.Adam(params, lr=cfg.lr)


def _penalty(weights: list[torch.Tensor], l1: float, l2: float) -> torch.Tensor:
    """L1 and L2 penalties on the weight matrices (biases are not penalised)."""
    terms = [l1 * w.abs().sum() for w in weights if l1] + [
        l2 * w.pow(2).sum() for w in weights if l2
    ]
    return torch.stack(terms).sum()


def _show_progress() -> bool:
    """A live bar only for a person at a terminal: never under CI or in a log file."""
    return sys.stderr.isatty() and not os.environ.get("CI") and distributed.current().main


@dataclass(frozen=True)
class Hooks:
    """What the caller wants around the loop: a per-epoch callback (curves in MLflow), a
    checkpoint file written after every epoch, and a saved state to resume from."""

    on_epoch: EpochCallback | None = None
    checkpoint: CheckpointFile | None = None
    resume: TrainState | None = None


def first_bad_step(values: torch.Tensor) -> int | None:
    """The first step whose value is NaN or infinite, if any (one sync per epoch)."""
    bad = ~torch.isfinite(values)
    return int(bad.nonzero()[0, 0]) if bool(bad.any()) else None


@dataclass
class Loop:
    """One fit's moving parts; :func:`train_network` drives it epoch by epoch."""

    net: nn.Module
    loss_fn: nn.Module
    train: Tensors  # features and fit targets, on the device
    val: Tensors
    cfg: TrainConfig
    schedule: Schedule
    shard: Shard = field(default_factory=Shard)

    def __post_init__(self) -> None:
        self.optimizer = _optimizer(list(self.net.parameters()), self.cfg)
        self.model = self.net  # what the training steps call; under torchrun, DDP around net
        if self.shard.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.model = DistributedDataParallel(self.net)
        self.generator = torch.Generator().manual_seed(self.cfg.seed)
        self.weights = [p for n, p in self.net.named_parameters() if n.endswith("weight")]
        self.state = TrainState(
            {},
            {},
            self.generator.get_state(),
            torch.get_rng_state(),
            History(
                batch_size=self.schedule.batch_size,
                batches_per_epoch=self.schedule.batches_per_epoch,
                epochs=self.schedule.epochs,
            ),
        )
        rows, size = len(self.train.x), self.schedule.batch_size
        self.sizes = torch.full((self.schedule.batches_per_epoch,), float(size))
        self.sizes[-1] = rows - size * (self.schedule.batches_per_epoch - 1)

    def start(self, resume: TrainState | None) -> int:
        """The first epoch to run: 0 after measuring the untrained loss (on at most
        ``INITIAL_LOSS_ROWS`` rows spread evenly), or the one after a resumed state's last."""
        if resume is None:
            every = max(math.ceil(len(self.train.x) / INITIAL_LOSS_ROWS), 1)
            self.state.history.initial_loss = self.loss(self.train, every)
            return 0
        self.net.load_state_dict(resume.model)
        self.optimizer.load_state_dict(resume.optimizer)
        self.generator.set_state(resume.generator)
        torch.set_rng_state(resume.torch_rng)
        self.state = resume
        done = resume.history.stopped_early
        return self.schedule.epochs if done else len(resume.history.train_loss)

    def loss(self, split: Tensors, every: int = 1) -> float:
        """The loss on ``split`` (every ``every``-th row) in evaluation mode."""
        self.net.eval()
        with torch.no_grad():
            return float(self.loss_fn(self.net(split.x[::every]), split.y[::every]))

    def epoch(self, epoch: int) -> float:
        """One pass over the shuffled training rows; the mean training loss. Step losses (and
        gradient norms, when clipped) stay on the device until the epoch's one guard check."""
        cfg, x, y, size = self.cfg, self.train.x, self.train.y, self.schedule.batch_size
        steps, params = self.schedule.batches_per_epoch, list(self.net.parameters())
        penalised, clip = bool(cfg.l1 or cfg.l2), cfg.grad_clip
        losses = torch.empty(steps, device=x.device)
        objectives = torch.empty(steps, device=x.device) if penalised else losses
        norms = torch.zeros(steps, device=x.device)
        self.net.train()
        order = torch.randperm(len(x), generator=self.generator).to(x.device)
        rank, world = self.shard.rank, self.shard.world
        for step in range(steps):
            batch = order[step * size : (step + 1) * size]
            if world > 1:  # this rank's piece of the batch; DDP averages the gradients
                batch = batch.tensor_split(world)[rank]
            loss = self.loss_fn(self.model(x[batch]), y[batch])
            objective = loss
            if penalised:
                objective = loss + _penalty(self.weights, cfg.l1, cfg.l2)
                objectives[step] = objective.detach()
            self.optimizer.zero_grad(set_to_none=True)
            objective.backward()
            if clip is not None:
                norms[step] = nn.utils.clip_grad_norm_(params, clip)
            self.optimizer.step()
            losses[step] = loss.detach()
        if world > 1:  # every rank sees every rank's losses: one exchange per epoch
            losses, objectives, norms = _averaged(losses, objectives, norms, world, penalised)
        self.guard(epoch, objectives, norms)
        return float((losses.cpu() * self.sizes).sum()) / len(x)

    def guard(self, epoch: int, objectives: torch.Tensor, norms: torch.Tensor) -> None:
        """Mo5: stop at the first step whose loss or gradient norm was NaN or infinite."""
        bad_loss, bad_gradient = first_bad_step(objectives), first_bad_step(norms)
        if bad_loss is not None and (bad_gradient is None or bad_loss <= bad_gradient):
            raise TrainingDivergedError("loss", epoch, bad_loss, self.cfg.lr)
        if bad_gradient is not None:
            raise TrainingDivergedError("gradient", epoch, bad_gradient, self.cfg.lr)

    def record(self, epoch: int, train_loss: float, val_loss: float) -> bool:
        """Add one epoch to the history, keep the best weights; ``True`` when it is time to
        stop early (``patience`` epochs without a better validation loss)."""
        state, history = self.state, self.state.history
        history.train_loss.append(train_loss)
        history.val_loss.append(val_loss)
        if val_loss < state.best_loss:
            state.best, state.best_loss, state.since_best = (
                copy.deepcopy(self.net.state_dict()),
                val_loss,
                0,
            )
            history.best_epoch = epoch
        else:
            state.since_best += 1
            patience = self.cfg.patience
            history.stopped_early = bool(patience) and state.since_best >= patience
        state.model, state.optimizer = self.net.state_dict(), self.optimizer.state_dict()
        state.generator, state.torch_rng = self.generator.get_state(), torch.get_rng_state()
        return history.stopped_early


def _averaged(
    losses: torch.Tensor, objectives: torch.Tensor, norms: torch.Tensor, world: int, both: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The step losses averaged over the ranks (a NaN on any rank reaches every rank, so all
    stop at the same step); gradient norms are the same everywhere after DDP's averaging."""
    import torch.distributed as dist

    stacked = torch.stack([losses, objectives if both else losses])
    dist.all_reduce(stacked)
    stacked /= world
    return stacked[0], stacked[1] if both else stacked[0], norms


def train_network(
    net: nn.Module,
    encoding: TargetEncoding,
    train: Tensors,
    val: Tensors,
    cfg: TrainConfig,
    hooks: Hooks | None = None,
) -> tuple[nn.Module, History]:
    """Fit ``net`` with mini-batches; return the best-validation-loss model and its history.

    The schedule is :meth:`Schedule.of` ``cfg`` and the training row count. With a checkpoint
    in ``hooks``, the whole state is saved after every epoch; a resumed state continues from
    the epoch after it and ends exactly where an uninterrupted run would.
    """
    from rich.progress import Progress

    hooks = hooks or Hooks()
    torch.manual_seed(cfg.seed)
    device = pick_device(cfg.device)
    on_device = [
        Tensors(s.x.to(device), encoding.fit_targets(s.y).to(device)) for s in (train, val)
    ]
    loss_fn = nn.CrossEntropyLoss() if encoding.task.is_classification else nn.MSELoss()
    schedule = Schedule.of(cfg, len(train.x))
    loop = Loop(net.to(device), loss_fn, *on_device, cfg, schedule, distributed.current())
    start, epochs = loop.start(hooks.resume), loop.schedule.epochs
    with Progress(disable=not _show_progress(), transient=True) as progress:
        bar = progress.add_task("training", total=epochs, completed=start)
        for epoch in range(start, epochs):
            train_loss = loop.epoch(epoch)
            val_loss = loop.loss(loop.val)
            stop = loop.record(epoch, train_loss, val_loss)
            if hooks.on_epoch is not None:
                hooks.on_epoch(epoch, {"train/loss": train_loss, "val/loss": val_loss})
            progress.update(bar, advance=1, description=f"loss {train_loss:.4f} val {val_loss:.4f}")
            if hooks.checkpoint is not None:
                hooks.checkpoint.save(loop.state)
            if stop:
                break
    if loop.state.best is not None:
        net.load_state_dict(loop.state.best)
    return net.cpu().eval(), loop.state.history

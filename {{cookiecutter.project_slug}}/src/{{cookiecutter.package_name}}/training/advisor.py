"""The training advisor: read the training loss curve and say what to change (T1-T7).

Every verdict is weighed against the curve's own noise, :func:`noise`: a robust estimate of how
much one epoch's loss wobbles around the curve's smooth trend (from its second differences, so
a steady fall is not mistaken for noise). The curve starts at ``initial``, the untrained
network's loss, when it is known (a loss that exploded within the first epoch then shows as a
rise), else at the first epoch's loss. Checked in this order, the first match wins:

1. diverged (T4: lower the rate): a loss that is not a finite number; or the loss rose: every
   epoch of the last quarter ended above ``DIVERGED_RATIO`` times the start (noise cannot lift
   them all), or the last epoch did and lies more than ``NOISE_SIGMAS`` noise units above the
   curve's lowest point (a late blow-up). A rise within the noise is not divergence;
2. too slow (T3: raise the rate): the loss fell by less than ``SLOW_DROP`` of its start and
   its wobble is small beside its level (below ``NOISY_LEVEL``): a rate that barely moves the
   weights, even if dropout or sampling make the curve wiggle;
3. noisy: the wobble is large beside the fall (above ``NOISY_FALL``): with a small batch raise
   it (T7, see T6), else lower the rate (T5);
4. stopped early: the validation loss stopped improving after a real fall (T1);
5. still falling: the last quarter of the epochs still cut the loss by more than
   ``STILL_FALLING`` of its level, and by more than the noise (T2: train longer);
6. converged: it fell steeply, then levelled off (T1).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .checkpoint import History

DIVERGED_RATIO = 1.1  # a loss this much above its start, beyond the noise, has diverged
NOISE_SIGMAS = 3.0  # a change smaller than this many noise units is noise
SLOW_DROP = 0.10  # total relative fall below which training is "too slow"
NOISY_LEVEL = 0.05  # wobble, as a share of the loss level, below which a flat curve is "slow"
NOISY_FALL = 0.15  # wobble, as a share of the total fall, above which the curve "bounces"
STILL_FALLING = 0.03  # relative fall over the last quarter above which it "has not converged"
SMALL_BATCH = 64
TAIL = 0.25  # the last quarter of the epochs decides "rose" and "still falling"


@dataclass(frozen=True)
class Advice:
    """A verdict on one run's loss curve, the practice behind it, and what to do."""

    verdict: str
    practice: str
    message: str

    def line(self) -> str:
        return f"advisor ({self.practice}, {self.verdict}): {self.message}"

    def markdown(self, losses: list[float]) -> str:
        shown = ", ".join(f"{value:.4g}" for value in losses)
        return (
            f"# Training advisor\n\n**{self.verdict}** ({self.practice}): {self.message}\n\n"
            f"Training loss per epoch: {shown}\n"
        )


def noise(losses: list[float]) -> float:
    """The curve's own noise: a robust standard deviation of one epoch's loss around the trend.

    Second differences cancel a straight or gently bending trend; for independent noise of
    standard deviation s they have standard deviation s * sqrt(6), and their median absolute
    value is 0.674 of that (the median, so the steep first epochs do not count as noise).
    """
    second = [abs(c - 2 * b + a) for a, b, c in zip(losses, losses[1:], losses[2:], strict=False)]
    if not second:
        return 0.0
    return statistics.median(second) / 0.6745 / math.sqrt(6)


def advise_run(history: History, lr: float) -> Advice:
    """Advice for a finished training run: its loss curve, schedule and how it ended."""
    return advise(
        history.train_loss,
        lr,
        history.batch_size,
        history.stopped_early,
        initial=history.initial_loss,
    )


@dataclass(frozen=True)
class Curve:
    """What the verdicts read off a finite loss curve of three or more epochs."""

    losses: list[float]
    start: float  # the untrained loss when known, else the first epoch's
    wobble: float  # :func:`noise`
    tail: list[float]  # the last quarter of the epochs (at least two)

    @classmethod
    def of(cls, losses: list[float], start: float) -> Curve:
        tail = losses[-max(2, math.ceil(len(losses) * TAIL)) :]
        return cls(losses, start, noise(losses), tail)

    @property
    def scale(self) -> float:
        return max(abs(self.start), 1e-12)

    @property
    def fall(self) -> float:
        """How far the loss fell from the start to the tail's median."""
        return self.start - statistics.median(self.tail)


def advise(
    losses: list[float],
    lr: float,
    batch_size: int,
    stopped_early: bool = False,
    initial: float | None = None,
) -> Advice:
    """Advice for a training-loss curve (one value per epoch) produced with learning rate
    ``lr`` and ``batch_size``; ``stopped_early``: early stopping ended it because the
    validation loss stopped falling; ``initial``: the loss before the first step (None or NaN:
    unknown). The checks run in the order the module docstring gives; the first match wins."""
    known = initial is not None and not math.isnan(initial)
    values = [initial, *losses] if known else losses
    if not losses or not all(math.isfinite(v) for v in values):
        return Advice(
            "diverged", "T4", f"the loss became NaN or infinite: lower train.lr (now {lr:g})"
        )
    if len(losses) < 3:
        return Advice(
            "too_short",
            "T2",
            f"only {len(losses)} epoch(s): raise train.steps to judge the curve",
        )
    curve = Curve.of(losses, values[0])
    return (
        _diverged(curve, lr)
        or _too_slow(curve, lr)
        or _noisy(curve, lr, batch_size)
        or _settled(curve, stopped_early)
    )


def _diverged(curve: Curve, lr: float) -> Advice | None:
    """T4: every epoch of the tail above the start, or a late blow-up beyond the noise."""
    start, last, lowest = curve.start, curve.losses[-1], min(curve.losses)
    if min(curve.tail) > DIVERGED_RATIO * start:
        return Advice(
            "diverged",
            "T4",
            f"the loss rose from {start:.4g} to {last:.4g}; each of the last {len(curve.tail)} "
            f"epochs ended above {DIVERGED_RATIO:g}x the start: lower train.lr (now {lr:g})",
        )
    if last > DIVERGED_RATIO * start and last - lowest > NOISE_SIGMAS * curve.wobble:
        return Advice(
            "diverged",
            "T4",
            f"the loss blew up from {lowest:.4g} to {last:.4g} at the end, far beyond its noise "
            f"({curve.wobble:.2g} per epoch): lower train.lr (now {lr:g})",
        )
    return None


def _too_slow(curve: Curve, lr: float) -> Advice | None:
    """T3: hardly any fall, and a wobble small beside the loss level."""
    level = max(abs(statistics.median(curve.tail)), 1e-12)
    if curve.fall / curve.scale < SLOW_DROP and curve.wobble / level < NOISY_LEVEL:
        return Advice(
            "too_slow",
            "T3",
            f"the loss moved only {100 * abs(curve.fall) / curve.scale:.1f} % over "
            f"{len(curve.losses)} epochs (its noise: {curve.wobble:.2g} per epoch): raise "
            f"train.lr (now {lr:g}); if a higher rate makes it bounce, the rate was already "
            "too high (T4)",
        )
    return None


def _noisy(curve: Curve, lr: float, batch_size: int) -> Advice | None:
    """T7 (small batches) or T5: a wobble large beside the fall."""
    fall, wobble = max(curve.fall, 0.0), curve.wobble
    if wobble <= NOISY_FALL * fall:
        return None
    if batch_size < SMALL_BATCH:
        return Advice(
            "noisy_small_batch",
            "T7",
            f"the loss jumps by about {wobble:.2g} per epoch against a fall of {fall:.2g} with "
            f"batches of {batch_size} rows: raise train.batch_size; a lower rate with more "
            "steps or a larger batch also works (T6)",
        )
    return Advice(
        "noisy",
        "T5",
        f"the loss jumps by about {wobble:.2g} per epoch against a fall of {fall:.2g}: lower "
        f"train.lr (now {lr:g}); with a lower rate, give it more train.steps (T6)",
    )


def _settled(curve: Curve, stopped_early: bool) -> Advice:
    """T1 or T2: stopped early, still falling at the end, or converged."""
    epochs, tail = len(curve.losses), curve.tail
    if stopped_early:
        return Advice(
            "stopped_early",
            "T1",
            f"the validation loss stopped improving, so training stopped after {epochs} "
            "epochs and kept the best one; more steps would only fit noise",
        )
    late = (tail[0] - tail[-1]) / max(abs(tail[0]), 1e-12)
    if late > STILL_FALLING and tail[0] - tail[-1] > NOISE_SIGMAS * curve.wobble:
        return Advice(
            "still_falling",
            "T2",
            f"the loss still fell {100 * late:.1f} % over the last {len(tail)} epochs: raise "
            "train.steps",
        )
    return Advice(
        "converged",
        "T1",
        f"the loss fell {100 * curve.fall / curve.scale:.0f} % and levelled off: converged",
    )

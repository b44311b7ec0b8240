"""The training advisor: read the training loss curve and say what to change (T1-T7).

Checked in this order, the first match wins:

1. diverged: a non-finite loss, or a final loss 10 % above the first (T4: lower the rate);
2. noisy: the loss goes up in many epochs: with a small batch raise it (T7, see T6), else
   lower the learning rate (T5);
3. too slow: over the whole run the loss fell by less than ``SLOW_DROP`` (T3: raise the rate;
   or, when it also bounces a little, T4: the rate may be too high);
4. stopped early with a good fall: the validation loss stopped improving (T1);
5. still falling: the last epochs still cut the loss by more than ``STILL_FALLING`` each
   (T2: train longer);
6. converged: it fell steeply, then levelled off (T1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

DIVERGED_RATIO = 1.1  # a final loss this much above the first counts as diverged
SLOW_DROP = 0.10  # total relative fall below which training is "too slow"
STILL_FALLING = 0.01  # relative fall per epoch at the end above which it "has not converged"
NOISY_SHARE = 0.3  # share of epochs in which the loss rose, above which the curve "bounces"
SMALL_BATCH = 64
TAIL = 0.25  # the last quarter of the epochs decides "still falling"


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


def advise(losses: list[float], lr: float, batch_size: int, stopped_early: bool = False) -> Advice:
    """Advice for a training-loss curve produced with learning rate ``lr`` and ``batch_size``
    (``stopped_early``: early stopping ended it because the validation loss stopped falling)."""
    if not losses or not all(math.isfinite(v) for v in losses):
        return Advice(
            "diverged", "T4", f"the loss became NaN or infinite: lower train.lr (now {lr:g})"
        )
    first, last = losses[0], losses[-1]
    if len(losses) < 3:
        return Advice(
            "too_short", "T2", f"only {len(losses)} epoch(s): raise train.epochs to judge"
        )
    if last > first:
        return Advice(
            "diverged",
            "T4",
            f"the loss rose from {first:.4g} to {last:.4g}: lower train.lr (now {lr:g})",
        )
    rises = sum(b > a for a, b in pairwise(losses)) / (len(losses) - 1)
    if rises > NOISY_SHARE:
        if batch_size < SMALL_BATCH:
            return Advice(
                "noisy_small_batch",
                "T7",
                f"the loss rose in {100 * rises:.0f} % of epochs with train.batch_size={batch_size}: raise "
                "the batch size; a lower rate with more steps or a larger batch also works (T6)",
            )
        return Advice(
            "noisy",
            "T5",
            f"the loss rose in {100 * rises:.0f} % of epochs: lower train.lr (now {lr:g}); with a lower "
            "rate, give it more epochs (T6)",
        )
    drop = (first - last) / max(abs(first), 1e-12)
    if stopped_early and drop >= SLOW_DROP:
        return Advice(
            "stopped_early",
            "T1",
            f"the validation loss stopped improving, so training stopped after {len(losses)} "
            "epochs and kept the best one; more epochs would only fit noise",
        )
    if drop < SLOW_DROP:
        return Advice(
            "too_slow",
            "T3",
            f"the loss fell only {100 * drop:.1f} % over {len(losses)} epochs: raise train.lr (now {lr:g}); "
            "if a higher rate makes it bounce, the rate was already too high (T4)",
        )
    tail = max(2, math.ceil(len(losses) * TAIL))
    window = losses[-tail:]
    per_epoch = (window[0] - window[-1]) / max(abs(window[0]), 1e-12) / (len(window) - 1)
    if per_epoch > STILL_FALLING:
        return Advice(
            "still_falling",
            "T2",
            f"the loss still falls {100 * per_epoch:.1f} % per epoch at the end: raise train.epochs",
        )
    return Advice(
        "converged", "T1", f"the loss fell {100 * drop:.0f} % and levelled off: converged"
    )

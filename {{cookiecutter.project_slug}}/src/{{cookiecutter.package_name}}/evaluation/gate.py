"""The gates a model passes before it is used, each measured on the validation split.

P1: anything fancier than the baseline must beat it (a model that does not ends its run
FAILED). Before promotion (I4), two more, each recorded as ``gate.*`` tags: M6, no slice of the
data much worse than the whole (:func:`slice_gate`), and M1, the specs it was made from are
committed (:func:`review_gate`); a model that fails either is registered but never ``champion``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import Task
from ..errors import BelowBaselineError
from .metrics import PRIMARY_METRIC, better_sign
from .slices import MIN_ROWS


def baseline_delta(metrics: dict[str, float]) -> dict[str, float]:
    """``delta/<metric>``: how much better than the baseline (positive is better, any metric)."""
    deltas = {}
    for key, value in metrics.items():
        if key.startswith("val/") and f"baseline/{key}" in metrics:
            name = key.removeprefix("val/")
            deltas[f"delta/{name}"] = better_sign(name) * (value - metrics[f"baseline/{key}"])
    return deltas


def require_beats_baseline(
    metrics: dict[str, float], task: Task, margin: float, model: str
) -> None:
    """Raise :class:`BelowBaselineError` unless the primary validation metric beats the
    baseline's by more than ``margin``."""
    name = PRIMARY_METRIC[task]
    delta = baseline_delta(metrics)[f"delta/{name}"]
    if delta <= margin:
        raise BelowBaselineError(
            "<validation split>",
            "beats baseline",
            f"{model} val/{name} = {metrics[f'val/{name}']:.4f} vs baseline "
            f"{metrics[f'baseline/val/{name}']:.4f}: improvement {delta:.4f} is not above "
            f"train.baseline_margin = {margin}",
        )


@dataclass(frozen=True)
class Verdict:
    """A promotion gate's outcome: the run's ``gate.*`` tags, and why the alias must stay
    where it is (None: the gate passed)."""

    tags: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None


def slice_gate(
    rows: list[dict[str, Any]], whole: float, task: Task, limit: float, sensitive: list[str]
) -> Verdict:
    """M6 (and M7 for ``sensitive`` columns): refuse when the worst slice of ``rows``
    (:func:`~.slices.slice_metrics` on the validation split, slices of ``MIN_ROWS`` rows or
    more) is worse on the primary metric than the ``whole`` split by more than ``limit``, a
    fraction of the whole split's value (``train.max_slice_gap``)."""
    primary = PRIMARY_METRIC[task]
    scale = max(abs(whole), 1e-12)  # a perfect whole split: any worse slice is infinitely worse
    scored = [(-row["gap"] / scale, row) for row in rows if "gap" in row]
    if not scored:
        none = f"none: no slice has {MIN_ROWS} rows"
        return Verdict({"gate.slices": "passed", "gate.slices.worst": none})
    worse, row = max(scored, key=lambda pair: pair[0])
    over = sum(1 for gap, _ in scored if gap > limit)
    tags = {
        "gate.slices": "failed" if over else "passed",
        "gate.slices.worst": f"{row['column']}={row['value']}",
        "gate.slices.gap": f"{worse:.4g}",
        "gate.slices.limit": str(limit),
    }
    if not over:
        return Verdict(tags)
    kind = ", a sensitive column" if row["column"] in sensitive else ""
    # formatted apart: a format spec ending in % would read as Jinja in the template
    gap, allowed = format(worse, ".0%"), format(limit, ".0%")
    return Verdict(
        tags,
        f"M6: slice {row['column']}={row['value']} ({row['rows']} rows{kind}) has val/{primary} "
        f"{row[primary]:.4f} against {whole:.4f} on the whole validation split, gap "
        f"{gap} worse, above train.max_slice_gap = {limit} ({allowed}; {over} slice(s) "
        "over it): fix the model or the data for that group, or review the limit",
    )


def review_gate(unreviewed: str, allow_dirty: bool) -> Verdict:
    """M1: refuse a model trained from uncommitted changes under ``configs/``, ``schemas/`` or
    ``src/`` (``unreviewed``, the run's ``git.unreviewed`` tag), unless ``allow_dirty``
    (``train.allow_dirty_promotion``). Without git nothing can be checked: allowed, and the
    tag says so."""
    if unreviewed == "none":
        return Verdict({"gate.reviewed": "passed"})
    if unreviewed == "unknown":
        return Verdict({"gate.reviewed": "unchecked: not a git checkout (or no git)"})
    if allow_dirty:
        return Verdict({"gate.reviewed": "allowed by train.allow_dirty_promotion"})
    return Verdict(
        {"gate.reviewed": "failed"},
        f"M1: trained from uncommitted changes under configs/, schemas/ or src/ ({unreviewed}): "
        "a model that serves must come from reviewed, committed specs; commit them and train "
        "again (or train.allow_dirty_promotion=true for an experiment)",
    )

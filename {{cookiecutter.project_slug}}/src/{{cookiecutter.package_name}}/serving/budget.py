"""ML Test Score Mo6, no regression in serving latency, throughput or memory: a served model
measured against the budget in ``configs/serve.yaml``.

The model is timed through its serving path (the pyfunc's ``predict``: the contract check, the
feature pipeline, the network), one row at a time as a request comes and as a batch as
``predict`` scores a file, and the process's peak resident memory is read. What counts as too
slow is decided by :func:`over_budget` from the numbers alone, so it is tested with numbers,
not with a clock.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import EXIT_FINDINGS, PipelineError

# The batch's time is the median of a few calls; the first call (lazy imports, allocator
# warm-up) is made before timing and not counted.
BATCH_CALLS = 3


class OverBudgetError(PipelineError):
    """Mo6: the served model is slower, or needs more memory, than ``serve.budget_*`` allow."""

    exit_code = EXIT_FINDINGS


@dataclass(frozen=True)
class Measurements:
    """Latency of one-row requests (p50, p95), the batch's time per row (p50 over the calls),
    the batch's size, and the peak resident memory of the serving process (MiB)."""

    one_row_p50_ms: float
    one_row_p95_ms: float
    batch_ms_per_row: float
    batch_rows: int
    peak_mib: float

    def metrics(self) -> dict[str, float]:
        return {
            "serve/one_row_p50_ms": self.one_row_p50_ms,
            "serve/one_row_p95_ms": self.one_row_p95_ms,
            "serve/batch_ms_per_row": self.batch_ms_per_row,
            "serve/batch_rows": self.batch_rows,
            "serve/peak_mib": self.peak_mib,
        }


@dataclass(frozen=True)
class Budget:
    """``serve.budget_p95_ms`` (one-row requests), ``serve.budget_ms_per_row`` (a batch),
    ``serve.budget_mib`` (peak memory)."""

    p95_ms: float
    ms_per_row: float
    mib: float


def over_budget(measured: Measurements, budget: Budget) -> list[str]:
    """One line per budget the measurements exceed, naming its setting; empty when within."""
    found = []
    if measured.one_row_p95_ms > budget.p95_ms:
        found.append(
            f"one-row p95 latency {measured.one_row_p95_ms:.4g} ms > "
            f"serve.budget_p95_ms={budget.p95_ms:g}"
        )
    if measured.batch_ms_per_row > budget.ms_per_row:
        found.append(
            f"{measured.batch_ms_per_row:.4g} ms a row in a batch of {measured.batch_rows} > "
            f"serve.budget_ms_per_row={budget.ms_per_row:g}"
        )
    if measured.peak_mib > budget.mib:
        found.append(f"peak memory {measured.peak_mib:.0f} MiB > serve.budget_mib={budget.mib:g}")
    return found


def measure(
    score: Callable[[pd.DataFrame], object], rows: pd.DataFrame, requests: int
) -> Measurements:
    """Time ``score`` (the serving path) on ``requests`` one-row frames (``rows`` in turn) and
    on all ``rows`` at once, then read the process's peak memory."""
    score(rows.head(1))  # warm-up, not counted
    singles = [rows.iloc[[i % len(rows)]] for i in range(requests)]
    one_row = np.array([_timed(score, row) for row in singles])
    batch = np.array([_timed(score, rows) for _ in range(BATCH_CALLS)])
    return Measurements(
        one_row_p50_ms=float(np.percentile(one_row, 50)),
        one_row_p95_ms=float(np.percentile(one_row, 95)),
        batch_ms_per_row=float(np.median(batch)) / len(rows),
        batch_rows=len(rows),
        peak_mib=peak_mib(),
    )


def _timed(score: Callable[[pd.DataFrame], object], rows: pd.DataFrame) -> float:
    start = time.perf_counter()
    score(rows)
    return (time.perf_counter() - start) * 1000


def peak_mib() -> float:
    """The peak resident memory of this process so far, in MiB (imports included: what a
    process serving the model needs)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes, or KiB

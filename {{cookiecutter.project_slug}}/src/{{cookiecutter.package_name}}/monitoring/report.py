"""The drift report: every figure as JSON and a table for people (plots: ``evaluation.plots``)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from .drift import DriftReport


def to_json(report: DriftReport, reference: str) -> str:
    """Every check with its effect, threshold and p-values; the verdict; the distributions."""
    payload = {
        "reference": reference,
        "rows": report.rows,
        "drifted": report.drifted,
        "drifted_features": report.drifted_features,
        "checks": [asdict(c) for c in report.checks],
        "distributions": {k: asdict(v) for k, v in report.distributions.items()},
    }
    return json.dumps(payload, indent=2, default=_finite)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else str(value)


def render(report: DriftReport) -> str:
    """The console summary: one line per feature that drifted or came close, then the verdict."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Drift check of {report.rows} rows", show_lines=False)
    for column in ("feature", "check", "effect", "threshold", "p (adjusted)", "verdict", "detail"):
        table.add_column(column)
    for check in sorted(report.checks, key=lambda c: (not c.drifted, -c.effect / c.threshold)):
        if not check.drifted and check.effect < check.threshold / 2:
            continue  # far below its threshold: in the JSON, not worth a line
        table.add_row(
            check.feature,
            check.check,
            f"{check.effect_name} {check.effect:.4f}",
            f"{check.threshold:g}",
            f"{check.p_adjusted:.2g}",
            "DRIFT" if check.drifted else "ok",
            check.detail,
        )
    buffer = StringIO()
    Console(file=buffer, width=140, force_terminal=False).print(table)
    drifted = report.drifted_features
    verdict = (
        f"DRIFT in {len(drifted)} feature(s): {', '.join(drifted)}"
        if report.drifted
        else "no drift: every feature within its thresholds"
    )
    return buffer.getvalue() + verdict + "\n"

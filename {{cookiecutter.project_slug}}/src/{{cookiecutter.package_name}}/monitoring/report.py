"""What one monitoring run found, as JSON and as a table for people (plots: ``evaluation.plots``).

A monitor is never blinded by the data it monitors: rows that break the model's contract are
findings in the same report as the drift checks (column, check, rows, examples), drift is
computed on every feature the batch has, and missing or new columns are named as schema
changes (F4). Only what cannot be read at all stops a run (``monitor``: exit 2).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data.io import atomic_write, write_text
from ..data.report import Problem
from .drift import DriftReport

if TYPE_CHECKING:
    from ..tracking.runs import RunRecorder


@dataclass
class MonitorReport:
    """Drift, contract violations and schema changes of one batch, and what they add up to.

    ``violations``: row-level checks of the model's contract that rows of the batch fail
    (types, ranges, categories, missing values). ``schema_changes``: new, missing or retyped
    columns since the reference run. ``new_columns`` break a strict contract."""

    file: str
    reference: str
    drift: DriftReport
    violations: list[Problem] = field(default_factory=list)
    schema_changes: list[Problem] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)
    strict: bool = True

    @property
    def alerts(self) -> list[str]:
        """One line per reason to alert; empty when the batch is fine."""
        found = []
        if self.drift.drifted:
            drifted = self.drift.drifted_features
            found.append(f"drift in {len(drifted)} feature(s): {', '.join(drifted)}")
        if self.violations:
            columns = list(dict.fromkeys(p.column or "table" for p in self.violations))
            found.append(f"contract violations in {len(columns)} column(s): {', '.join(columns)}")
        if self.drift.absent:
            found.append(f"missing feature column(s): {', '.join(self.drift.absent)}")
        if self.strict and self.new_columns:
            found.append(
                f"new column(s) the contract does not allow: {', '.join(self.new_columns)}"
            )
        return found

    @property
    def alert(self) -> bool:
        return bool(self.alerts)


def to_json(report: MonitorReport) -> str:
    """Every finding with its figures: drift checks (effect, threshold, p-values) and their
    distributions, contract violations, schema changes, and the verdict."""
    drift = report.drift
    payload = {
        "file": report.file,
        "reference": report.reference,
        "rows": drift.rows,
        "alert": report.alert,
        "alerts": report.alerts,
        "drifted": drift.drifted,
        "drifted_features": drift.drifted_features,
        "absent": drift.absent,
        "violations": [asdict(p) for p in report.violations],
        "schema_changes": [p.check for p in report.schema_changes],
        "checks": [asdict(c) for c in drift.checks],
        "distributions": {k: asdict(v) for k, v in drift.distributions.items()},
    }
    return json.dumps(payload, indent=2, default=_finite, ensure_ascii=False)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else str(value)


def render(report: MonitorReport) -> str:
    """The console summary: schema changes, contract violations, one line per drift check that
    fired or came close, then the verdict."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    drift = report.drift
    lines = [f"Monitoring {report.file} ({drift.rows} rows) against {report.reference}"]
    lines += [f"  schema change: {p.check}" for p in report.schema_changes]
    for p in report.violations:
        where = f"column {p.column!r}" if p.column else "table"
        examples = f", e.g. {', '.join(p.examples)}" if p.examples else ""
        lines.append(f"  contract violation: {where}: check {p.check!r}: {p.rows} row(s){examples}")
    table = Table(title=f"Drift check of {drift.rows} rows", show_lines=False)
    for column in ("feature", "check", "effect", "threshold", "p (adjusted)", "verdict", "detail"):
        table.add_column(column)
    for check in sorted(drift.checks, key=lambda c: (not c.drifted, -c.effect / c.threshold)):
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
    if table.row_count:
        Console(file=buffer, width=140, force_terminal=False).print(table)
    else:
        buffer.write(f"Drift check of {drift.rows} rows: every check far below its threshold\n")
    for check in (c for c in drift.checks if c.drifted):  # unwrapped, for logs and grep
        buffer.write(f"  drift: {check.feature}: {check.check}: {check.detail}\n")
    verdict = (
        "ALERT: " + "; ".join(report.alerts)
        if report.alert
        else "clean: no drift, no contract violation, no schema change that matters"
    )
    if drift.absent:
        verdict += f"\nnot checked, absent from the batch: {', '.join(drift.absent)}"
    return "\n".join(lines) + "\n" + buffer.getvalue() + verdict + "\n"


def record(report: MonitorReport, run: RunRecorder, output: Path, rows: int) -> str:
    """Write the report (JSON, text, one plot per drifted feature) into ``output`` and onto
    ``run`` with its numbers as metrics and its verdicts as tags; return the text report."""
    from ..evaluation.plots import distribution_shift
    from ..tracking.runs import file_name

    text, summary = to_json(report), render(report)
    for name, content in (("monitor.json", text), ("monitor.txt", summary)):
        write_text(output / name, content)
        run.log_text(content, f"monitor/{name}")
    for name in report.drift.drifted_features:
        shares = report.drift.distributions[name]
        figure = distribution_shift(name, shares.labels, shares.reference, shares.current)
        plot = f"drift_{file_name(name)}.png"
        atomic_write(output / plot, partial(figure.savefig, dpi=100, format="png"))
        run.log_figure(figure, f"monitor/{plot}", saved=output / plot)
    violated = {p.column for p in report.violations if p.column}
    run.log_metrics(
        {f"drift/{c.feature}/{c.effect_name}": c.effect for c in report.drift.checks}
        | {f"violations/{p.column or 'table'}/rows": p.rows for p in report.violations}
        | {
            "drift/features_drifted": len(report.drift.drifted_features),
            "monitor/rows": rows,
            "monitor/columns_violated": len(violated),
        }
    )
    run.set_tags(
        {
            "monitor.verdict": "alert" if report.alert else "clean",
            "monitor.alerts": " | ".join(report.alerts)[:5000],
            "drift.verdict": "drift" if report.drift.drifted else "clean",
            "drift.features": ",".join(report.drift.drifted_features),
        }
    )
    return summary

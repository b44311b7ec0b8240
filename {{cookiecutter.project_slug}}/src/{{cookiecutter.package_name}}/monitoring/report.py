"""What one monitoring run found: as JSON, as a console table, and as one HTML page a person opens
and shares (``report.html``: the verdict first, every check, the drifted features' plots inline;
plots: ``evaluation.plots``).

A monitor is never blinded by the data it monitors: rows that break the model's contract are
findings in the same report as the drift checks (column, check, rows, examples), drift is
computed on every feature the batch has, and missing or new columns are named as schema
changes (F4). Only what cannot be read at all stops a run (``monitor``: exit 2).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data.io import atomic_write, write_text
from ..data.report import Problem
from .age import ModelAge
from .drift import Check, DriftReport

if TYPE_CHECKING:
    from ..tracking.runs import RunRecorder


@dataclass
class MonitorReport:
    """Drift, contract violations and schema changes of one batch, and what they add up to.

    ``violations``: row-level checks of the model's contract that rows of the batch fail
    (types, ranges, categories, missing values). ``schema_changes``: new, missing or retyped
    columns since the reference run. ``new_columns`` break a strict contract. ``model_age``:
    how old the reference model is (Mo4; None when it was logged outside a run)."""

    file: str
    reference: str
    drift: DriftReport
    violations: list[Problem] = field(default_factory=list)
    schema_changes: list[Problem] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)
    strict: bool = True
    model_age: ModelAge | None = None

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
        if self.model_age and self.model_age.stale:
            found.append(self.model_age.line())
        return found

    @property
    def alert(self) -> bool:
        return bool(self.alerts)


def to_json(report: MonitorReport) -> str:
    """Every finding with its figures: drift checks (effect, threshold, p-values) and their
    distributions, contract violations, schema changes, the reference model's age (Mo4), and
    the verdict."""
    drift, age = report.drift, report.model_age
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
        "model_age": None if age is None else asdict(age) | {"stale": age.stale},  # Mo4
        "checks": [asdict(c) for c in drift.checks],
        "distributions": {k: asdict(v) for k, v in drift.distributions.items()},
    }
    return json.dumps(payload, indent=2, default=_finite, ensure_ascii=False)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else str(value)


CLEAN = "clean: no drift, no contract violation, no schema change that matters"


def _worst_first(checks: list[Check]) -> list[Check]:
    """Drifted checks first, then by how close each came to its threshold."""
    return sorted(checks, key=lambda c: (not c.drifted, -c.effect / c.threshold))


def render(report: MonitorReport) -> str:
    """The console summary: schema changes, contract violations, one line per drift check that
    fired or came close, then the verdict."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    drift = report.drift
    lines = [f"Monitoring {report.file} ({drift.rows} rows) against {report.reference}"]
    lines += [f"  {report.model_age.line()}"] if report.model_age else []
    lines += [f"  schema change: {p.check}" for p in report.schema_changes]
    for p in report.violations:
        where = f"column {p.column!r}" if p.column else "table"
        examples = f", e.g. {', '.join(p.examples)}" if p.examples else ""
        lines.append(f"  contract violation: {where}: check {p.check!r}: {p.rows} row(s){examples}")
    table = Table(title=f"Drift check of {drift.rows} rows", show_lines=False)
    for column in ("feature", "check", "effect", "threshold", "p (adjusted)", "verdict", "detail"):
        table.add_column(column)
    for check in _worst_first(drift.checks):
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
        # force_jupyter=False: in a notebook, rich would display the table instead of writing it
        Console(file=buffer, width=140, force_terminal=False, force_jupyter=False).print(table)
    else:
        buffer.write(f"Drift check of {drift.rows} rows: every check far below its threshold\n")
    for check in (c for c in drift.checks if c.drifted):  # unwrapped, for logs and grep
        buffer.write(f"  drift: {check.feature}: {check.check}: {check.detail}\n")
    verdict = "ALERT: " + "; ".join(report.alerts) if report.alert else CLEAN
    if drift.absent:
        verdict += f"\nnot checked, absent from the batch: {', '.join(drift.absent)}"
    return "\n".join(lines) + "\n" + buffer.getvalue() + verdict + "\n"


def to_html(report: MonitorReport, plots: Mapping[str, bytes]) -> str:
    """The report as one self-contained page (``reports.html.page``), for people who open a report
    rather than read JSON: the verdict first (clean, or ALERT with one line per reason), the
    batch and the reference model, every drift check, each drifted feature's plot (``plots``:
    PNG bytes by feature), contract violations and schema changes. P4, F4, Mo2."""
    from ..reports import html

    drift = report.drift
    verdict = "\n".join(["ALERT", *report.alerts]) if report.alert else CLEAN
    facts = [
        ["batch", report.file],
        ["rows", f"{drift.rows:,}"],
        ["reference model", report.reference],
        ["contract", "strict: new columns alert" if report.strict else "new columns allowed"],
    ]
    if report.model_age:  # Mo4
        facts.append(["reference model age", report.model_age.line()])
    if drift.absent:
        facts.append(["not checked, absent from the batch", ", ".join(drift.absent)])
    checks = [
        [
            c.feature,
            c.check,
            c.effect_name,
            c.effect,
            c.threshold,
            c.p_value,
            c.p_adjusted,
            "DRIFT" if c.drifted else "ok",
            c.detail,
        ]
        for c in _worst_first(drift.checks)
    ]
    header = ["feature", "check", "effect", "value", "threshold", "p", "p (adjusted)", "verdict"]
    header.append("detail")
    parts = [
        "<h2>Batch and reference</h2>",
        html.table([], facts),
        f"<h2>Drift checks ({len(checks)})</h2>",
        html.table(header, checks) if checks else "<p>No feature to check.</p>",
        f"<h2>Drifted features ({len(drift.drifted_features)})</h2>",
    ]
    for name in drift.drifted_features:
        alt = f"Distribution of {name}: training reference against this batch"
        fired = [f"{c.check}: {c.detail}" for c in drift.checks if c.feature == name and c.drifted]
        parts += [f"<h3>{html.escape(name)}</h3>", f"<p>{html.escape('; '.join(fired))}</p>"]
        parts.append(html.image(plots[name], alt))
    if not drift.drifted_features:
        parts.append("<p>None.</p>")
    violations = [
        [p.column or "(table)", p.check, p.rows, ", ".join(p.examples)] for p in report.violations
    ]
    parts += [
        f"<h2>Contract violations ({len(violations)})</h2>",
        html.table(["column", "check", "rows", "examples"], violations)
        if violations
        else "<p>None: every row meets the model's contract.</p>",
        f"<h2>Schema changes ({len(report.schema_changes)})</h2>",
    ]
    # New columns are schema changes too; the verdict says whether the contract allows them.
    changes = [p.check for p in report.schema_changes]
    if changes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in changes) + "</ul>")
    else:
        parts.append("<p>None since the reference model was trained.</p>")
    title = f"Monitoring {Path(report.file).name}"
    return html.page(title, verdict, "\n".join(parts), ok=not report.alert)


def record(report: MonitorReport, run: RunRecorder, output: Path, rows: int) -> str:
    """Write the report (JSON, text, one plot per drifted feature, the HTML page) into ``output``
    and onto ``run`` with its numbers as metrics and its verdicts as tags; return the text
    report."""
    from ..evaluation.plots import distribution_shift
    from ..tracking.runs import file_name

    text, summary = to_json(report), render(report)
    for name, content in (("monitor.json", text), ("monitor.txt", summary)):
        write_text(output / name, content)
        run.log_text(content, f"monitor/{name}")
    plots = {}
    for name in report.drift.drifted_features:
        shares = report.drift.distributions[name]
        figure = distribution_shift(name, shares.labels, shares.reference, shares.current)
        plot = f"drift_{file_name(name)}.png"
        atomic_write(output / plot, partial(figure.savefig, dpi=100, format="png"))
        run.log_figure(figure, f"monitor/{plot}", saved=output / plot)
        plots[name] = (output / plot).read_bytes()
    page = to_html(report, plots)
    write_text(output / "report.html", page)
    run.log_text(page, "monitor/report.html")
    violated = {p.column for p in report.violations if p.column}
    run.log_metrics(
        {f"drift/{c.feature}/{c.effect_name}": c.effect for c in report.drift.checks}
        | {f"violations/{p.column or 'table'}/rows": p.rows for p in report.violations}
        | {
            "drift/features_drifted": len(report.drift.drifted_features),
            "monitor/rows": rows,
            "monitor/columns_violated": len(violated),
        }
        | ({"monitor/model_age_days": report.model_age.days} if report.model_age else {})
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

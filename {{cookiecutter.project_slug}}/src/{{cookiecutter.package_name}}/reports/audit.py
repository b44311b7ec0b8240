"""The ML Test Score self-audit (Breck, Cai, Nielsen, Salib, Sculley 2017), scored on evidence.

``configs/audit.yaml`` says, for each of the paper's 28 tests, what the project does about it.
This module believes none of it: every named test is run (all in one pytest process, through
:mod:`.pytest_outcomes`) and every named file is read. A line scores the paper's way, 1 for an
automated test, 0.5 for a manual (documented) one, 0 for one not done; a line whose evidence is
missing, fails or is skipped is ``broken`` and scores 0, with the reason. Each section's score is
the sum of its lines; the final score is the lowest section's, since a system is only as ready
as its weakest part.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import AuditLine, AuditStatus, Evidence
from ..errors import ConfigError, PipelineError
from .pytest_outcomes import ENV, function_id

SECTIONS = {"D": "data", "M": "model", "I": "infrastructure", "Mo": "monitoring"}
IDS = [f"{prefix}{number}" for prefix in SECTIONS for number in range(1, 8)]
POINTS = {AuditStatus.automated: 1.0, AuditStatus.manual: 0.5, AuditStatus.not_done: 0.0}
BROKEN = "broken"
# The paper's reading of the final score (its Table V).
MEANING = [
    (0.0, "More of a research project than a productionized system."),
    (1.0, "Not totally untested, but there may be serious holes in reliability."),
    (2.0, "A first pass at basic productionization; more investment may be needed."),
    (3.0, "Reasonably tested, but more of the tests and procedures may be automated."),
    (5.0, "Strong automated testing and monitoring, fit for mission-critical systems."),
    (float("inf"), "Exceptional levels of automated testing and monitoring."),
]
_ID = re.compile(r"(Mo|D|M|I)([1-7])")


def section_of(test_id: str) -> str:
    """``Mo3`` -> ``monitoring``."""
    match = _ID.fullmatch(test_id)
    if match is None:
        raise ConfigError(f"audit.tests.{test_id}", "ML Test Score id", "not one of " + _ids())
    return SECTIONS[match.group(1)]


def _ids() -> str:
    return "D1..D7, M1..M7, I1..I7, Mo1..Mo7"


def check_config(tests: Mapping[str, AuditLine]) -> None:
    """Refuse a config that is not the paper's 28 tests, each with evidence of the right shape
    (an automated line needs evidence; a manual or not-done line says ``how``)."""
    unknown = [key for key in tests if key not in IDS]
    missing = [key for key in IDS if key not in tests]
    if unknown or missing:
        detail = f"unknown: {', '.join(unknown) or 'none'}; missing: {', '.join(missing) or 'none'}"
        raise ConfigError("audit.tests", "the 28 ML Test Score ids", f"{detail} ({_ids()})")
    for key, line in tests.items():
        where = f"audit.tests.{key}"
        if line.status is AuditStatus.automated and not line.evidence:
            raise ConfigError(where, "evidence", "an automated line names its evidence")
        if line.status is not AuditStatus.automated and not line.how:
            raise ConfigError(where, "how", f"a {line.status.value} line says how (or why not)")
        for number, item in enumerate(line.evidence):
            shape = (item.test is not None, item.file is not None, item.contains is not None)
            if shape not in {(True, False, False), (False, True, True)}:
                raise ConfigError(
                    f"{where}.evidence[{number}]",
                    "evidence item",
                    "give either {test: node id} or {file: path, contains: text}",
                )
            if item.test is not None and "::" not in item.test:
                raise ConfigError(
                    f"{where}.evidence[{number}]", "test node id", f"{item.test!r} lacks '::name'"
                )


@dataclass
class Checked:
    """One piece of evidence, checked: ``reason`` is None when it holds."""

    evidence: str
    reason: str | None = None


@dataclass
class Line:
    """One audited test: what the config claims and what the evidence showed."""

    id: str
    section: str
    title: str
    claimed: str
    status: str  # the claimed status, or ``broken``
    points: float
    how: str | None = None
    evidence: list[Checked] = field(default_factory=list)

    @property
    def reason(self) -> str | None:
        """Why the line is broken: its first piece of evidence that does not hold."""
        return next((c.reason for c in self.evidence if c.reason), None)


@dataclass
class Section:
    name: str
    points: float
    automated: int
    lines: int


@dataclass
class AuditReport:
    lines: list[Line]
    sections: list[Section]
    score: float
    meaning: str

    def metrics(self) -> dict[str, float]:
        """``audit/<section>`` and ``audit/score``, as the MLflow run records them."""
        return {f"audit/{s.name}": s.points for s in self.sections} | {"audit/score": self.score}

    def to_json(self) -> str:
        content = asdict(self)
        for line, raw in zip(self.lines, content["lines"], strict=True):
            raw["reason"] = line.reason
        return json.dumps(content, indent=2, ensure_ascii=False) + "\n"


def label(item: Evidence) -> str:
    """How one piece of evidence is shown: its node id, or the file and the text it must say."""
    return item.test if item.test is not None else f"{item.file} says {item.contains!r}"


def check_file(root: Path, item: Evidence) -> str | None:
    """Why ``item.file`` does not back its line (missing, unreadable, or without the text)."""
    path = root / str(item.file)
    if not path.is_file():
        return f"no such file {item.file}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return f"{item.file} cannot be read: {err}"
    if str(item.contains) not in text:
        return f"{item.file} does not say {item.contains!r}"
    return None


def run_tests(node_ids: Sequence[str], root: Path) -> dict[str, str | None]:
    """Run every named test in one pytest process in ``root``; for each id, why it does not
    count (failed, skipped, erred, absent, unimportable) or None when it passed."""
    wanted = sorted({function_id(n) for n in node_ids})
    files = sorted({n.split("::", 1)[0] for n in wanted})
    present = [f for f in files if (root / f).is_file()]
    reasons: dict[str, str | None] = {}
    outcomes: dict[str, Any] = {
        "tests": {},
        "unimportable": {},
    }
    if present:
        outcomes = _pytest(wanted, present, root)
    for node in wanted:
        file, name = node.split("::", 1)
        result = outcomes["tests"].get(node)
        if file not in present:
            reasons[node] = f"no such test file {file}"
        elif file in outcomes["unimportable"]:
            reasons[node] = f"{file} cannot be collected: {outcomes['unimportable'][file]}"
        elif result is None:
            reasons[node] = f"no test {name} in {file}"
        elif result["outcome"] == "passed":
            reasons[node] = None
        else:
            reasons[node] = f"{result['case']} {result['outcome']}: {result['detail']}"
    return {n: reasons[function_id(n)] for n in node_ids}


def _pytest(wanted: list[str], files: list[str], root: Path) -> dict[str, Any]:
    """One ``python -m pytest`` over ``files`` in ``root``, keeping only ``wanted``; its
    outcomes as :class:`.pytest_outcomes.Outcomes` wrote them. The tests write where they
    always do (their ``tmp_path``, their own tracking store): nothing lands in the project."""
    package = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package.parent), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="audit-") as scratch:
        request, results = Path(scratch, "request.json"), Path(scratch, "outcomes.json")
        request.write_text(json.dumps({"wanted": wanted, "results": str(results)}))
        env[ENV] = str(request)
        plugin = f"{package.name}.reports.pytest_outcomes"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", plugin]
        command += ["--continue-on-collection-errors", *files]
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        if not results.is_file():
            said = (done.stdout + done.stderr).strip().splitlines()
            detail = f"pytest exited {done.returncode}: {said[-1] if said else 'no output'}"
            raise PipelineError("pytest", "evidence tests ran", detail)
        return json.loads(results.read_text(encoding="utf-8"))


def audit(tests: Mapping[str, AuditLine], root: Path) -> AuditReport:
    """Check every line's evidence under ``root`` and score the lines, sections and project."""
    node_ids = [item.test for line in tests.values() for item in line.evidence if item.test]
    test_reasons = run_tests(node_ids, root) if node_ids else {}
    lines = []
    for key, line in tests.items():
        checked = [
            Checked(
                label(item),
                test_reasons[item.test] if item.test is not None else check_file(root, item),
            )
            for item in line.evidence
        ]
        holds = all(c.reason is None for c in checked)
        lines.append(
            Line(
                id=key,
                section=section_of(key),
                title=line.title,
                claimed=line.status.value,
                status=line.status.value if holds else BROKEN,
                points=POINTS[line.status] if holds else 0.0,
                how=line.how,
                evidence=checked,
            )
        )
    return score(lines)


def score(lines: list[Line]) -> AuditReport:
    """The paper's scoring: each section sums its lines; the final score is the lowest sum."""
    sections = [
        Section(
            name=name,
            points=sum(line.points for line in lines if line.section == name),
            automated=sum(line.points == 1.0 for line in lines if line.section == name),
            lines=sum(line.section == name for line in lines),
        )
        for name in SECTIONS.values()
    ]
    final = min(s.points for s in sections)
    meaning = next(text for bound, text in MEANING if final <= bound)
    return AuditReport(lines=lines, sections=sections, score=final, meaning=meaning)


def render(report: AuditReport) -> str:
    """The console table (id, title, status, points, evidence or reason), each section's total,
    the final score with its meaning, and for each section short of 5 automated lines, why."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(title="ML Test Score self-audit", show_lines=True)
    for column in ("id", "title", "status", "points", "evidence / reason"):
        table.add_column(column, overflow="fold")
    for section in report.sections:
        for line in (x for x in report.lines if x.section == section.name):
            if line.status == BROKEN:
                detail = f"{line.claimed}, but {line.reason}"
            else:  # a manual line says how, then where that is written down
                detail = "\n".join(
                    [*filter(None, [line.how]), *(c.evidence for c in line.evidence)]
                )
            table.add_row(line.id, line.title, line.status, f"{line.points:g}", detail)
        total = f"{section.name}: {section.automated} of {section.lines} automated"
        table.add_row("", total, "", f"{section.points:g}", "", end_section=True)
    buffer = StringIO()
    Console(file=buffer, width=160, force_terminal=False).print(table)
    for section in report.sections:
        buffer.write(f"audit/{section.name}: {section.points:g}\n")
    buffer.write(f"ML Test Score: {report.score:g} (the lowest section). {report.meaning}\n")
    for section in report.sections:
        if section.automated >= 5:
            continue
        buffer.write(f"{section.name}: {section.automated} of 7 automated; short of 5 because:\n")
        for line in report.lines:
            if line.section == section.name and line.points < 1.0:
                why = f"{line.claimed}, but {line.reason}" if line.status == BROKEN else line.how
                buffer.write(f"  {line.id} {line.status}: {why}\n")
    return buffer.getvalue()

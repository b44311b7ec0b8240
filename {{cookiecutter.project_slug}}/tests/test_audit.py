"""``make audit``: the ML Test Score scored the paper's way, on evidence that is checked.

The evidence checks run on a tiny project in a temporary directory (a test file that imports
only pytest), never on this project: the audit runs this project's tests, so a test here that
audited the project would run the suite from inside the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf

from {{ cookiecutter.package_name }}.audit import (
    audit as audit_stage,
)
from {{ cookiecutter.package_name }}.audit import (
    main,
)
from {{ cookiecutter.package_name }}.config import (
    AuditConfig,
    AuditLine,
    AuditStatus,
    Evidence,
)
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
)
from {{ cookiecutter.package_name }}.reports.audit import (
    BROKEN,
    IDS,
    AuditReport,
    Line,
    audit,
    check_config,
    score,
)

TINY = """
import pytest


def test_ok():
    pass


@pytest.mark.parametrize("x", [1, 2])
def test_cases(x):
    pass


@pytest.mark.parametrize("x", [1, 2])
def test_one_case_fails(x):
    assert x == 1, "case two is wrong"


def test_fails():
    raise AssertionError("the claim does not hold")


def test_skips():
    pytest.skip("no data here")
"""


def automated(*evidence: Evidence) -> AuditLine:
    return AuditLine(title="a test", status=AuditStatus.automated, evidence=list(evidence))


def node(name: str, file: str = "tests/test_tiny.py") -> Evidence:
    return Evidence(test=f"{file}::{name}")


def says(file: str, text: str) -> Evidence:
    return Evidence(file=file, contains=text)


def not_done() -> AuditLine:
    return AuditLine(title="a test", status=AuditStatus.not_done, how="nothing yet")


def every_id_not_done() -> dict[str, AuditLine]:
    return {key: not_done() for key in IDS}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditReport, Path]:
    """One audit (one pytest process) of a tiny project whose lines hold or break on purpose."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "tests").mkdir()
    (root / "tests" / "test_tiny.py").write_text(TINY)
    (root / "tests" / "test_unimportable.py").write_text("import no_such_module_here\n")
    (root / "README.md").write_text("This project says this.\n")
    lines = {
        "D1": automated(node("test_ok"), node("test_cases"), says("README.md", "says this")),
        "D2": automated(node("test_ok"), node("test_fails")),
        "D3": automated(node("test_skips")),
        "D4": automated(node("test_renamed")),
        "D5": automated(node("test_ok"), says("README.md", "says that")),
        "D6": AuditLine("a test", AuditStatus.manual, "by hand", [says("README.md", "this")]),
        "D7": automated(node("test_one_case_fails")),
        "M1": automated(node("test_x", "tests/test_unimportable.py")),
        "M2": automated(node("test_x", "tests/test_gone.py")),
        "M3": not_done(),
    }
    return audit(lines, root), root


def line(report: AuditReport, key: str) -> Line:
    return next(x for x in report.lines if x.id == key)


def test_lines_whose_evidence_holds_score_the_papers_points(audited: tuple) -> None:
    """An automated line whose tests (every case of a parametrized one) pass and whose file says
    the text scores 1; a manual line with its document, 0.5; a line not done, 0."""
    report, _ = audited
    assert (line(report, "D1").status, line(report, "D1").points) == ("automated", 1.0)
    assert (line(report, "D6").status, line(report, "D6").points) == ("manual", 0.5)
    assert (line(report, "M3").status, line(report, "M3").points) == ("not_done", 0.0)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("D2", "tests/test_tiny.py::test_fails failed: AssertionError: the claim does not hold"),
        ("D3", "tests/test_tiny.py::test_skips skipped: no data here"),
        ("D4", "no test test_renamed in tests/test_tiny.py"),
        ("D5", "README.md does not say 'says that'"),
        ("D7", "tests/test_tiny.py::test_one_case_fails[2] failed"),
        ("M1", "tests/test_unimportable.py cannot be collected"),
        ("M2", "no such test file tests/test_gone.py"),
    ],
)
def test_a_broken_piece_of_evidence_drops_its_line_with_the_reason(
    audited: tuple, key: str, reason: str
) -> None:
    """A claimed-automated line whose test fails, is skipped, is gone or cannot be imported, or
    whose file no longer says the text, scores 0 as ``broken``, saying which piece and why."""
    report, _ = audited
    dropped = line(report, key)
    assert (dropped.status, dropped.claimed, dropped.points) == (BROKEN, "automated", 0.0)
    assert dropped.reason is not None and dropped.reason.startswith(reason), dropped.reason


def test_the_audit_writes_nothing_into_the_project(audited: tuple) -> None:
    """The tests the audit runs write where they always do; the audited tree is left as it was
    (no cache, no report files)."""
    _, root = audited
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if "__pycache__" not in str(p)}
    assert files == {"tests", "tests/test_tiny.py", "tests/test_unimportable.py", "README.md"}


def _line(key: str, section: str, points: float) -> Line:
    status = {1.0: "automated", 0.5: "manual", 0.0: "not_done"}[points]
    return Line(key, section, "a test", status, status, points)


def test_scoring_is_the_papers() -> None:
    """Each section sums its lines (automated 1, manual 0.5, broken or not done 0) and the final
    score is the lowest section's, read with the paper's scale."""
    lines = [_line(f"D{n}", "data", 1.0) for n in range(1, 8)]
    lines += [_line("M1", "model", 1.0), _line("M2", "model", 0.5), _line("M3", "model", 0.5)]
    lines += [_line("I1", "infrastructure", 1.0), _line("I2", "infrastructure", 0.0)]
    lines += [_line("Mo1", "monitoring", 0.5), _line("Mo2", "monitoring", 0.5)]
    report = score(lines)
    totals = {s.name: (s.points, s.automated) for s in report.sections}
    assert totals == {
        "data": (7.0, 7),
        "model": (2.0, 1),
        "infrastructure": (1.0, 1),
        "monitoring": (1.0, 0),
    }
    assert report.score == 1.0 and report.meaning.startswith("Not totally untested")
    assert report.metrics()["audit/score"] == 1.0 and report.metrics()["audit/model"] == 2.0


def test_the_shipped_config_lists_the_papers_28_tests_with_evidence_that_exists(
    compose_cfg: Callable[..., DictConfig],
) -> None:
    """``configs/audit.yaml`` composes, has exactly the 28 ids, and names only test files and
    files that exist (whether they pass is ``make audit``'s job)."""
    settings = OmegaConf.to_object(compose_cfg(stage="audit").audit)
    assert isinstance(settings, AuditConfig)
    check_config(settings.tests)
    assert sorted(settings.tests) == sorted(IDS)
    root = Path(__file__).resolve().parents[1]
    for key, entry in settings.tests.items():
        for item in entry.evidence:
            path = item.test.split("::")[0] if item.test else item.file
            assert (root / str(path)).is_file(), f"{key}: {path}"


def test_an_unknown_status_fails_at_composition(compose_cfg: Callable[..., DictConfig]) -> None:
    """A status is one of automated, manual, not_done: a typo fails naming the key."""
    with pytest.raises(ConfigCompositionException) as caught:
        compose_cfg("audit.tests.D1.status=automatic", stage="audit")
    assert "status" in str(caught.value) + str(caught.value.__cause__)


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        (lambda t: t.update(D8=not_done()), "audit.tests"),
        (lambda t: t.pop("Mo7"), "audit.tests"),
        (lambda t: t.update(I2=automated()), "audit.tests.I2"),
        (lambda t: t.update(M4=AuditLine("a test", AuditStatus.manual)), "audit.tests.M4"),
        (lambda t: t.update(D1=automated(Evidence(test="t.py::x", file="f"))), "audit.tests.D1"),
        (lambda t: t.update(D1=automated(Evidence(file="README.md"))), "audit.tests.D1"),
    ],
    ids=["unknown-id", "missing-id", "no-evidence", "no-how", "test-and-file", "no-contains"],
)
def test_a_config_that_is_not_the_28_tests_is_refused_naming_the_key(
    change: Callable[[dict], object], setting: str
) -> None:
    """Unknown or missing ids, an automated line without evidence, a manual line without
    ``how`` and a malformed piece of evidence are refused naming the setting."""
    tests = every_id_not_done()
    change(tests)
    with pytest.raises(ConfigError) as caught:
        check_config(tests)
    assert caught.value.file.startswith(setting)


def test_the_stage_writes_audit_json_and_records_an_audit_run(
    compose_cfg: Callable[..., DictConfig],
    only_run: Callable[..., object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The stage prints the table and the score, writes ``audit.json`` and records a FINISHED
    ``audit`` run with each section's total and the score (a config without tests to run)."""
    cfg = compose_cfg(stage="audit")
    tests = every_id_not_done()
    tests["I7"] = AuditLine(
        "rollback", AuditStatus.manual, "by hand", [says("Makefile", "rollback")]
    )
    cfg.audit.tests = OmegaConf.structured(AuditConfig(tests=tests)).tests
    report = audit_stage(cfg)
    assert report.score == 0.0 and report.sections[2].points == 0.5
    assert (Path(cfg.paths.output_dir) / "audit.json").is_file()
    out = capsys.readouterr().out
    assert "ML Test Score: 0 (the lowest section)" in out and "I7" in out
    run = only_run(cfg)
    assert run.info.status == "FINISHED" and run.data.tags["stage"] == "audit"
    assert run.data.metrics["audit/infrastructure"] == 0.5
    assert {"audit/data", "audit/model", "audit/monitoring", "audit/score"} <= set(run.data.metrics)


def test_a_config_that_cannot_be_read_exits_2_in_one_line(
    compose_cfg: Callable[..., DictConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing ids: exit 2 with one line naming ``audit.tests`` (the score itself never fails)."""
    cfg = compose_cfg(stage="audit")
    tests = every_id_not_done()
    del tests["D3"]
    cfg.audit.tests = OmegaConf.structured(AuditConfig(tests=tests)).tests
    with pytest.raises(SystemExit) as caught:
        main.__wrapped__(cfg)
    assert caught.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: audit.tests: check") and "missing: D3" in error

"""A pytest plugin for ``make audit``: run only the named tests and write down each one's outcome.

The audit passes the test files to one pytest process with ``-p`` and this module; the node ids
it wants (a parametrized test by its function name) and the file to write the outcomes into come
in ``$AUDIT_OUTCOMES`` (a JSON file). Passing files rather than node ids keeps one missing test
from stopping pytest before anything runs: a name that is not collected is simply absent from the
outcomes, and a file that cannot be imported is written down with its error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ENV = "AUDIT_OUTCOMES"
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def function_id(nodeid: str) -> str:
    """``tests/test_x.py::test_f[case]`` -> ``tests/test_x.py::test_f``."""
    return nodeid.split("[", 1)[0]


class Outcomes:
    """Collects, for each wanted test function, the worst outcome of its cases."""

    def __init__(self, wanted: list[str], results: Path) -> None:
        self.wanted = set(wanted)
        self.results = results
        self.tests: dict[str, dict[str, Any]] = {}
        self.unimportable: dict[str, str] = {}

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.unimportable[report.nodeid] = _last_line(report.longreprtext)

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        kept = [item for item in items if function_id(item.nodeid) in self.wanted]
        dropped = [item for item in items if function_id(item.nodeid) not in self.wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.passed and report.when != "call":
            return
        outcome = report.outcome if report.when == "call" or report.skipped else "error"
        key = function_id(report.nodeid)
        seen = self.tests.get(key)
        if seen is None or _RANK[outcome] > _RANK[seen["outcome"]]:
            detail = _skip_reason(report) if report.skipped else _failure(report)
            self.tests[key] = {"outcome": outcome, "case": report.nodeid, "detail": detail}

    def pytest_sessionfinish(self) -> None:
        content = {"tests": self.tests, "unimportable": self.unimportable}
        self.results.write_text(json.dumps(content, indent=1), encoding="utf-8")


def _last_line(text: str) -> str:
    """The line of a failure report that says what went wrong (pytest puts it last)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _failure(report: pytest.TestReport) -> str:
    """What failed: the exception and its message (pytest's crash line), else the report's end."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", "")
    return (
        message.strip().splitlines()[0][:300]
        if message.strip()
        else _last_line(report.longreprtext)
    )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")[:300]
    return _last_line(str(longrepr))


def pytest_configure(config: pytest.Config) -> None:
    """Register the collector when ``$AUDIT_OUTCOMES`` names what to run (else do nothing)."""
    if ENV not in os.environ:
        return
    request = json.loads(Path(os.environ[ENV]).read_text(encoding="utf-8"))
    config.pluginmanager.register(Outcomes(request["wanted"], Path(request["results"])))

"""ML Test Score Mo1, dependency changes result in notification: CI tests the newest releases
the ranges in ``pyproject.toml`` allow on a weekly schedule
{%- if cookiecutter.ci == "github" %}, and Dependabot proposes
updates beyond them{% endif %}.

These read the CI files as the service does (YAML), so a broken file or a schedule that
was dropped fails here, not silently in the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EAGER = "--upgrade --upgrade-strategy eager"


def load(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def is_weekly(cron: str) -> bool:
    """Five fields, any day of the month and month, one day of the week."""
    fields = cron.split()
    return len(fields) == 5 and fields[2:4] == ["*", "*"] and fields[4].isdigit()


def test_is_weekly_tells_weekly_from_daily() -> None:
    assert is_weekly("0 6 * * 1")
    assert not is_weekly("0 6 * * *") and not is_weekly("0 6 1 * 1") and not is_weekly("0 6 * *")
{% if cookiecutter.ci == "github" %}

def test_a_weekly_run_tests_the_newest_dependencies() -> None:
    """``ci.yml`` has a weekly cron trigger and a job that runs only then (or by hand),
    installs every package at its newest allowed release and runs the tests; the ordinary
    job does not run on the schedule."""
    workflow = load(".github/workflows/ci.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    (schedule,) = triggers["schedule"]
    assert is_weekly(schedule["cron"])
    jobs = workflow["jobs"]
    newest = jobs["newest-dependencies"]
    assert "schedule" in newest["if"] and "schedule" not in jobs["test"]["if"]
    commands = "\n".join(step.get("run", "") for step in newest["steps"])
    assert f"{EAGER} -e" in commands and "make test" in commands


def test_dependabot_watches_pip_and_the_actions_weekly() -> None:
    """``dependabot.yml`` (format 2) checks the Python dependencies and the workflow's actions
    every week."""
    config = load(".github/dependabot.yml")
    assert config["version"] == 2
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"pip", "github-actions"}
    for update in updates.values():
        assert update["schedule"]["interval"] == "weekly" and update["directory"] == "/"
{%- elif cookiecutter.ci == "gitlab" %}

def test_a_scheduled_pipeline_tests_the_newest_dependencies() -> None:
    """``.gitlab-ci.yml`` has a job that runs only in scheduled pipelines, installs every
    package at its newest allowed release and runs the tests; the ordinary job does not run
    on the schedule. (The schedule itself lives in GitLab's UI; the README says how.)"""
    pipeline = load(".gitlab-ci.yml")
    newest = pipeline["newest-dependencies"]
    assert newest["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert pipeline["test"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE != "schedule"'}]
    commands = "\n".join(newest["script"])
    assert f"{EAGER} -e" in commands and "make test" in commands
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Pipeline schedules" in readme
{%- endif %}

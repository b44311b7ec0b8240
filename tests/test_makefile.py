"""The generated Makefile's targets, run in the order the README's quick start gives them, as a
new user would type them (cookiecutter-data-science verifies its Makefile the same way).

Each target runs through ``make`` with ``PYTHON`` set to the template's environment (which holds
every dependency of a bake) and the bake's ``src/`` on the path, so ``make setup``, the one target that creates a virtualenv and
installs the project, is the only one not run here: ``make demo`` in ``.ci/run`` runs it for real,
and ``test_editable_install_works`` installs a bake with pip.
"""

from __future__ import annotations

import json
import shlex
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
from conftest import PYTHON, SUITE_TASKS, committed_bake, free_port, run, running, worktree

QUICK_START = "## Quick start"


def readme_commands(project: Path) -> list[list[str]]:
    """Every ``make`` line of the README's quick-start block, in order, split like a shell."""
    text = (project / "README.md").read_text(encoding="utf-8")
    block = text.split(QUICK_START, 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [
        shlex.split(line.split(" # ", 1)[0])
        for line in block.splitlines()
        if line.startswith("make ")
    ]


def post(url: str, rows: pd.DataFrame) -> tuple[int, dict]:
    """POST ``rows`` to the server's /invocations; the status and the JSON answer."""
    payload = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def check_serve(project: Path, command: list[str]) -> None:
    """Issue 10: `make serve` (`mlflow models serve` on the champion, on loopback) answers one
    row, two rows and rows that are all alike (table-level checks never apply to a request),
    and refuses a request that breaks the contract, by name."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([*command, f"PYTHON={PYTHON}", f"ARGS=serve.port={port}"], project, f"{url}/ping"):
        batch = pd.read_csv(project / "data/sample/new_batch.csv")
        requests = {
            "one row": batch.head(1),
            "two rows": batch.head(2),
            "alike rows": pd.concat([batch.head(1)] * 3, ignore_index=True),
        }
        for label, rows in requests.items():
            status, answer = post(url, rows)
            assert status == 200, (label, answer)
            assert len(answer["predictions"]) == len(rows), label
        status, answer = post(url, batch.head(2).drop(columns="contract"))
        assert status >= 400 and "contract" in json.dumps(answer)


def check_ui(project: Path, command: list[str]) -> None:
    """`make ui` serves MLflow's UI on this project's store (its runs are there)."""
    from mlflow import MlflowClient

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ui = [*command, f"PYTHON={PYTHON}", f"ARGS=--host 127.0.0.1 --port {port}"]
    with running(ui, project, f"{url}/health"):
        names = {e.name for e in MlflowClient(url).search_experiments()}
    assert "my-ml-project" in names


# What each one-shot target must leave behind, beyond its exit status.
EXPECTED_EXIT = {"monitor.input=data/sample/drifted_batch.csv": 2}  # make's own code for exit 4


def test_make_targets_run_in_the_order_the_readme_gives(tmp_path: Path) -> None:
    """The quick start as typed: after `make data`, `validate`, `train`, `predict`,
    `evaluate`, `monitor` (clean: exit 0; the drifted batch: the monitor's exit 4, which make
    reports as its own exit 2 with "Error 4"), `serve`, `ui`, `test` and `lint` each do what
    the README's comment says, in that order, on one fresh bake."""
    project = committed_bake(tmp_path / "bake", task=SUITE_TASKS["test_makefile.py"])
    commands = readme_commands(project)
    targets = [command[1] for command in commands]
    assert targets == [
        "setup", "data", "validate", "train", "predict", "evaluate", "monitor", "monitor",
        "serve", "ui", "test", "lint",
    ]  # fmt: skip
    for command in commands:
        target, args = command[1], " ".join(command[2:])
        if target == "setup":
            continue  # a virtualenv and a pip install: `make demo` in .ci/run runs it
        if target == "serve":
            check_serve(project, command)
            continue
        if target == "ui":
            check_ui(project, command)
            continue
        before = worktree(project)
        done = run(
            [*command, f"PYTHON={PYTHON}"], project, env={"PYTHONPATH": str(project / "src")}
        )
        expected = next((code for key, code in EXPECTED_EXIT.items() if key in args), 0)
        assert done.returncode == expected, (command, done.stdout[-3000:], done.stderr[-3000:])
        said = done.stdout + done.stderr
        if target == "data":
            assert (project / "data/sample/sample.csv").is_file()
        elif target == "validate":
            assert "passed" in said
        elif target == "train":
            assert "is the new champion" in said
        elif target == "predict":
            lines = (project / "data/predictions/new_batch.csv").read_text().splitlines()
            assert lines[0].startswith("customer_id,prediction") and len(lines) == 501
        elif target == "evaluate":
            assert "champion on test" in said
        elif target == "monitor" and expected:
            assert "ALERT: drift in 3 feature(s): monthly_spend_usd, device, contract" in said
            assert "Error 4" in said
            plots = {p.name for p in (project / "logs").rglob("drift_*.png")}
            assert plots == {f"drift_{f}.png" for f in ("monthly_spend_usd", "device", "contract")}
            pages = [p.read_text() for p in (project / "logs").rglob("report.html")]
            assert any('class="alert"' in page for page in pages)  # beside the clean run's
        elif target == "monitor":
            assert "clean: no drift" in said
        elif target == "test":  # and every output of a test went to its temporary directory
            assert " passed" in done.stdout and " failed" not in done.stdout
            assert worktree(project) == before

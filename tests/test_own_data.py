"""Issue 9's acceptance: a new user's own table, end to end, with config edits only.

A fresh bake is installed the way ``make setup`` installs it (editable, into its own venv; the
packages come from the template's environment, so nothing is downloaded). The test writes a
real-shaped table of its own (other column names, a ``/`` and spaces in names, missing values,
a categorical, 350 rows), drafts its schema and data config with ``make infer-schema``, makes
only the edits the draft asks for, runs the one command it prints, and then every stage through
``make``. The user's table must be byte-identical at the end.
"""

from __future__ import annotations

import hashlib
import re
import sysconfig
import venv
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import SUITE_TASKS, TEMPLATE, committed_bake, run, worktree

SHIFTED = "flipper/body ratio"


def birds(rows: int, seed: int) -> pd.DataFrame:
    """A penguin-like table: three species told apart by bill, flipper/body ratio and mass."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], rows, p=[0.45, 0.35, 0.2])
    islands = rng.choice(["Dream", "Torgersen", "Biscoe"], rows)
    bill = np.select([species == "Adelie", species == "Gentoo"], [38.8, 47.5], 48.8)
    flipper = np.where(species == "Gentoo", 217.0, 192.0) + rng.normal(0.0, 6.5, rows)
    mass = np.where(species == "Gentoo", 5076.0, 3700.0) + rng.normal(0.0, 450.0, rows)
    frame = pd.DataFrame(
        {
            "specimen id": np.arange(1, rows + 1),
            "island": np.where(species == "Gentoo", "Biscoe", islands),
            "bill length (mm)": (bill + rng.normal(0.0, 2.5, rows)).round(1),
            SHIFTED: (flipper / mass * 100).round(3),
            "mass_g": mass.round(0),
            "species": species,
        }
    )
    frame.loc[rng.random(rows) < 0.04, "bill length (mm)"] = np.nan
    frame.loc[rng.random(rows) < 0.03, "island"] = np.nan
    return frame


def installed(project: Path, env_dir: Path) -> Path:
    """``pip install -e .`` of the bake into a new venv that sees the template's packages."""
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], env_dir
    )
    Path(site.stdout.strip(), "template-env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    constraints = str(TEMPLATE / "constraints.txt")
    command = ["-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", "-c", constraints]
    done = run([str(python), *command, "-e", str(project)], env_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    return python


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_own_table_end_to_end_with_config_edits_only(tmp_path: Path) -> None:
    """infer-schema, the draft's edits, the printed command, then validate, train, test,
    predict, evaluate and monitor through make: a clean half of new rows is clean (exit 0); a
    batch with one column shifted so that some rows leave the training range is an alert
    naming exactly that column with the out-of-range rows counted (exit 4); the table the user
    brought is byte-identical at the end."""
    # The multiclass bake: its `make test` is where that task's whole suite runs (SUITE_TASKS).
    project = committed_bake(tmp_path / "bake", task=SUITE_TASKS["test_own_data.py"])
    python = installed(project, tmp_path / "venv")
    make = ["make", "--no-print-directory", f"PYTHON={python}"]

    table = birds(700, seed=7)
    own = project / "data" / "raw" / "birds.csv"
    table.iloc[:350].to_csv(own, index=False)
    clean = project / "data" / "raw" / "birds_new.csv"
    table.iloc[350:].drop(columns="species").to_csv(clean, index=False)
    before = digest(own)

    drafted = run([*make, "infer-schema", "DATA=data/raw/birds.csv", "TARGET=species"], project)
    assert drafted.returncode == 0, drafted.stdout + drafted.stderr
    assert "multiclass_classification" in drafted.stdout
    printed = drafted.stdout.strip().splitlines()[-1].strip()
    assert printed == "make use-data NAME=birds"
    schema = project / "schemas" / "birds.yaml"
    text = schema.read_text(encoding="utf-8")
    asked = text.count('"FILL IN: what this column means"')
    assert asked == 6, "the draft asks for one description per column"
    schema.write_text(text.replace('"FILL IN: what this column means"', '"Field measurement"'))

    selected = run([*make, *printed.split()[1:]], project)
    assert selected.returncode == 0, selected.stdout + selected.stderr
    # The README's next step: commit the reviewed drafts, or `train` never promotes (M1).
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["add", "schemas/birds.yaml", "configs"], [*identity, "commit", "-qm", "b"]):
        assert run(["git", *command], project).returncode == 0
    stages = [
        ["validate"],
        ["train"],
        ["test"],
        ["predict", f"ARGS=predict.input={clean}"],
        ["evaluate"],
        ["monitor", f"ARGS=monitor.input={clean}"],
    ]
    for stage in stages:
        tree = worktree(project)
        done = run([*make, *stage], project, timeout=900)
        assert done.returncode == 0, (stage, done.stdout[-3000:] + done.stderr[-3000:])
        if stage == ["test"]:
            assert "2 skipped" not in done.stdout, "the tests on your own data ran"
            assert worktree(project) == tree, "every output of a test goes to its tmp_path"
    predictions = pd.read_csv(project / "data" / "predictions" / "birds_new.csv")
    assert len(predictions) == 350 and "probability_Gentoo" in predictions

    batch = table.iloc[350:].drop(columns="species").copy()
    batch[SHIFTED] += 0.8  # about 1.1 training SDs: some rows now lie above the training max
    shifted = project / "data" / "raw" / "birds_shifted.csv"
    batch.to_csv(shifted, index=False)
    module = [str(python), "-m", "my_ml_project.monitor", f"monitor.input={shifted}"]
    monitored = run(module, project)
    assert monitored.returncode == 4, monitored.stdout[-3000:] + monitored.stderr[-3000:]
    alert = [line for line in monitored.stdout.splitlines() if line.startswith("ALERT")]
    assert alert == [f"ALERT: drift in 1 feature(s): {SHIFTED}"]
    out_of_range = rf"drift: {re.escape(SHIFTED)}: out of training range: (\d+) of 350 rows"
    counted = re.search(out_of_range, monitored.stdout)
    assert counted and int(counted.group(1)) > 0
    through_make = run([*make, "monitor", f"ARGS=monitor.input={shifted}"], project)
    assert through_make.returncode == 2 and "Error 4" in through_make.stderr  # make's own code

    assert digest(own) == before

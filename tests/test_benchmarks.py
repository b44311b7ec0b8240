"""The benchmark scripts still run against a fresh bake (tiny sizes, one repeat).

They import the generated project's internals, which change; `make bench` is too slow to be the
place where that is found out. Numbers are not checked here, only that each script runs and
reports every case it promises (speed lives in `make bench`, never in a test).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PYTHON, TEMPLATE, bake_project, run

SCRIPTS = {  # script: (its arguments after the package, a case its JSON must report)
    "training.py": (["4096", "1"], "train_network (ours), no clipping"),
    "tracking_overhead.py": (["4096", "1"], "training, 5 epochs"),
    "validation.py": (["2000", "1"], "samples"),
    "batch_scoring.py": (["2000", "1"], "peaks"),
}  # linear_vs_sklearn.py trains on a 300,000-row table: `make bench` only


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bake_project(tmp_path_factory.mktemp("bench"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_script_runs_on_a_fresh_bake(project: Path, script: str) -> None:
    args, case = SCRIPTS[script]
    done = run(
        [PYTHON, str(TEMPLATE / "benchmarks" / script), "my_ml_project", *args],
        project,
        env={"PYTHONPATH": str(project / "src")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert case in json.loads(done.stdout.strip().splitlines()[-1])

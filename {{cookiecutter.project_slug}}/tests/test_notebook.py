"""``notebooks/quickstart.ipynb`` runs headless, top to bottom, and shows what it says it shows.

The cells run in order on ipykernel's kernel, the one Jupyter and Colab run, started in this
test's process (``ipykernel.inprocess``): the same IPython shell, magics (``%matplotlib
inline``) and display messages as a kernel process, without a second process importing torch,
MLflow and pandas again (about 8 s of CPU: the suite's budget is 30 s in all). One cell is added
after the notebook's ``parameters`` cell: a small sample and a short schedule. The project root
is a copy of ``configs/`` and ``schemas/`` under ``tmp_path`` (``$PROJECT_ROOT``, read by
``config.project_root``), so the sample it writes, its logs, Hydra outputs and checkpoints land
there, and its runs go to the session's throw-away MLflow store: the project's own tree is
never touched.
"""

from __future__ import annotations

import queue
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import nbformat
import pytest

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
)

NOTEBOOK = CONFIG_DIR.parent / "notebooks" / "quickstart.ipynb"
# What the test puts after the notebook's "parameters" cell: a small sample, a short schedule
# (5 epochs of 280 training rows) and the test's own experiment and registered model.
PARAMETERS = """\
SAMPLE_ROWS = 400
OVERRIDES = ["tracking.experiment=notebook", "tracking.model_name=notebook"]
TRAIN_OVERRIDES = ["train.steps=45"]
"""
PLANTED = {"monthly_spend_usd", "contract", "device"}  # data.sample.plant_drift's three drifts


class CellError(Exception):
    """A cell raised: its id, the exception's name and message."""


def executed(notebook: nbformat.NotebookNode) -> Iterator[nbformat.NotebookNode]:
    """Run ``notebook``'s code cells in order on an in-process ipykernel kernel, filling each
    cell's outputs as Jupyter would; raise :class:`CellError` at the first cell that fails."""
    from ipykernel.inprocess.manager import InProcessKernelManager

    manager = InProcessKernelManager()
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    backend = matplotlib.get_backend()
    try:
        for cell in (c for c in notebook.cells if c.cell_type == "code"):
            client.execute(cell.source)
            reply = client.get_shell_msg(timeout=120)["content"]
            cell.outputs = []
            while (message := client.get_iopub_msg(timeout=10))["msg_type"] != "status" or (
                message["content"]["execution_state"] != "idle"
            ):
                if message["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                    cell.outputs.append(nbformat.v4.output_from_msg(message))
            if reply["status"] != "ok":
                raise CellError(cell.id, reply["ename"], reply["evalue"])
            yield cell
    except queue.Empty as err:
        raise AssertionError("the kernel stopped answering") from err
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
        matplotlib.use(backend)  # %matplotlib inline: the other tests' plots draw off-screen


def shown(notebook: nbformat.NotebookNode, cell_id: str) -> dict[str, str]:
    """What cell ``cell_id`` showed, by MIME type (``text/html``, ``image/png``, ...), with
    what it printed as ``stdout``."""
    (cell,) = (cell for cell in notebook.cells if cell.get("id") == cell_id)
    found: dict[str, str] = {}
    for output in cell.outputs:
        if output.output_type == "stream":
            found[output.name] = found.get(output.name, "") + output.text
        elif output.output_type in ("display_data", "execute_result"):
            for kind, data in output.data.items():
                found[kind] = found.get(kind, "") + str(data)
    return found


def test_committed_notebook_is_clean_with_a_parameters_cell() -> None:
    """The notebook is committed without outputs or execution counts (its diffs stay
    reviewable), and its first code cell is the one tagged ``parameters`` that callers
    override, as this test and papermill do."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [c.id for c in code if c.outputs or c.execution_count is not None] == []
    assert "parameters" in code[0].metadata.get("tags", [])


def test_quickstart_runs_top_to_bottom_and_shows_its_results(
    tmp_path: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cell runs without an error (a failure names the cell and its error), and the
    notebook shows what its text promises: the linear model compared with the baseline (P1),
    the learning curves as a figure, and a drift table naming the three planted drifts (P4),
    with the printed report whole (its table written, not displayed by rich); everything it
    wrote is under its project root in ``tmp_path``."""
    root = tmp_path / "project"
    for name in ("configs", "schemas"):
        shutil.copytree(CONFIG_DIR.parent / name, root / name)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (first,) = (
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )
    notebook.cells.insert(first + 1, nbformat.v4.new_code_cell(PARAMETERS, id="test-parameters"))
    monkeypatch.setenv("PROJECT_ROOT", str(root))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the kernel's debugger's note
    monkeypatch.chdir(tmp_path)
    try:
        ran = [cell.id for cell in executed(notebook)]
    except CellError as err:
        cell, name, message = err.args
        pytest.fail(f"{NOTEBOOK.name}: cell {cell!r} raised {name}: {message}")
    assert ran == [c.id for c in notebook.cells if c.cell_type == "code"]

    trained = shown(notebook, "train")
    assert "linear beats the baseline on val/" in trained.get("stdout", "")
    assert "linear better by" in trained.get("text/html", ""), "no comparison table"
    curves = shown(notebook, "curves")
    assert "image/png" in curves, "the learning curves were not shown as a figure"
    assert curves.get("stdout", "").startswith("advisor: ")
    drift = shown(notebook, "monitor")
    (alert,) = re.findall(r"drift in \d+ feature\(s\): ([^*]+)", drift.get("text/markdown", ""))
    assert set(alert.split(", ")) == PLANTED
    assert all(f">{name}<" in drift.get("text/html", "") for name in PLANTED), "no drift table"
    assert "Drift check of" in drift.get("stdout", ""), "the printed report lost its table"
    assert (root / "data" / "sample" / "drifted_batch.csv").is_file()
    assert (root / "logs" / "notebook" / "monitor" / "monitor.json").is_file()

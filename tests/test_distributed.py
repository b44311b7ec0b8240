"""Issue 12, distributed training: `make train-ddp NPROC=2` in a bake, two CPU processes
(torchrun, gloo) against the single-process run of the same config.

Tolerance: each rank takes its half of every batch and DDP averages the two halves' gradients,
which is the whole batch's gradient; only the order of float additions differs (and halves
of an odd batch differ by one row). For the linear model (no dropout, whose masks would fall
differently on the halves) the validation log loss must match to 1e-4; measured: 7e-11.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import committed_bake, make

ARGS = "model=linear train.steps=300"


def val_log_loss(project: Path, experiment: str) -> list[tuple[str, float]]:
    """Each run of ``experiment``: its status and final val/log_loss."""
    with sqlite3.connect(project / "mlflow.db") as db:
        return db.execute(
            "select r.status, m.value from runs r join experiments e using (experiment_id) "
            "join latest_metrics m on m.run_uuid = r.run_uuid "
            "where e.name = ? and m.key = 'val/log_loss'",
            (experiment,),
        ).fetchall()


def test_two_processes_record_one_run_with_the_single_process_metric(tmp_path: Path) -> None:
    """Two ranks: one FINISHED run (rank 0 alone records), one Hydra run directory, and the
    validation log loss of the single-process run of the same config."""
    project = committed_bake(tmp_path)
    assert make(project, "data").returncode == 0
    ddp = make(project, "train-ddp", "NPROC=2", f"ARGS={ARGS} tracking.experiment=ddp")
    assert ddp.returncode == 0, ddp.stdout[-3000:] + ddp.stderr[-3000:]
    printed = [line for line in ddp.stdout.splitlines() if line.strip().startswith("val/log_loss")]
    assert len(printed) == 1, "rank 0 alone prints the metrics"
    single = make(project, "train", f"ARGS={ARGS} tracking.experiment=single")
    assert single.returncode == 0, single.stderr[-3000:]
    (distributed,) = val_log_loss(project, "ddp")
    (alone,) = val_log_loss(project, "single")
    assert distributed[0] == alone[0] == "FINISHED"
    assert abs(distributed[1] - alone[1]) < 1e-4, (distributed, alone)
    run_dirs = [p.parent for p in (project / "logs" / "runs").rglob(".hydra")]
    assert len(run_dirs) == 2  # one for the two ranks, one for the single process
    assert len(list((project / "logs").rglob("metrics.json"))) == 2

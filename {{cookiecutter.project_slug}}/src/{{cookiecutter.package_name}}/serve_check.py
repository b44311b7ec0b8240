"""Measure the served model against its budget: ``python -m {{ cookiecutter.package_name }}.serve_check``
(``make serve-check``).

ML Test Score Mo6: the model that ``serve`` would answer with (``serve.model``) scores rows of
the data config's ``new_rows`` (at most ``serve.check_rows``) through its serving path, one row
at a time (``serve.check_requests`` requests) and as one batch; the one-row p50 and p95 latency, the time per row of the batch and
the process's peak memory are recorded as the metrics ``serve/*`` of a ``serve_check`` MLflow
run, and compared with ``serve.budget_p95_ms``, ``serve.budget_ms_per_row`` and
``serve.budget_mib``. Run it after training, in CI or by cron, on the machine type that serves.

Exit codes: 0 within budget; 4 over budget (one line naming each budget exceeded; the run is
recorded, tagged ``serve.budget=over``); 2 nothing to measure (no rows, no such model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors

if TYPE_CHECKING:
    from .serving.budget import Measurements


def serve_check(cfg: DictConfig) -> tuple[str, Measurements, list[str]]:
    """The model measured (its description), what was measured, and one line per budget it
    exceeds (none: within budget)."""
    from .data.io import read_table, required_input
    from .serving.budget import Budget, measure, over_budget
    from .serving.predictor import PyfuncModel, open_model
    from .tracking.runs import tracked_run

    settings = cfg.serve
    with tracked_run(cfg, stage="serve_check", run_name="serve-check") as run:
        source = required_input(cfg.data.new_rows, "data.new_rows")
        predictor, described, _ = open_model(run, settings.model, cfg.tracking.model_name)
        rows = read_table(source, "data.new_rows").head(settings.check_rows)
        rows = rows.drop(columns=[predictor.meta["target"]], errors="ignore")
        served = PyfuncModel()
        served.predictor = predictor  # what loading sets: the served model's own predict is timed
        measured = measure(lambda f: served.predict(None, f), rows, settings.check_requests)
        budget = Budget(settings.budget_p95_ms, settings.budget_ms_per_row, settings.budget_mib)
        found = over_budget(measured, budget)
        run.log_metrics(measured.metrics())
        verdict = {"serve.budget": "over" if found else "within", "serve.over": "; ".join(found)}
        run.set_tags(verdict)
    return described, measured, found


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="serve")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: print the measurements; over budget, one ``error:`` line and exit 4."""
    from .serving.budget import OverBudgetError

    described, measured, found = serve_check(cfg)
    print(
        f"{described}: one row p50 {measured.one_row_p50_ms:.2f} ms, p95 "
        f"{measured.one_row_p95_ms:.2f} ms; {measured.batch_ms_per_row:.3f} ms a row in a batch "
        f"of {measured.batch_rows}; peak memory {measured.peak_mib:.0f} MiB"
    )
    if found:
        raise OverBudgetError(described, "serving budget (Mo6)", "; ".join(found))


if __name__ == "__main__":
    main()

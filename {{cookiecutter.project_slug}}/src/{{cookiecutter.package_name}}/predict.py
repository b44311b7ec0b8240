"""Score new rows: ``python -m {{ cookiecutter.package_name }}.predict predict.input=new.csv predict.output=out.csv``.

The rows are checked against the serving form of the model's own contract (no target needed,
Mo2) before anything is scored; on any failure the report names the file, column and check,
nothing is written and the exit code is 2. Categories the model never saw in training are
counted per column and reported. The output holds the id columns, ``prediction`` and, for
classification, one probability column per class. It is recorded as an MLflow run (stage
``predict``) linked to the model's training run.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors

log = logging.getLogger(__name__)


def predict(cfg: DictConfig) -> Path:
    """Score ``predict.input`` with ``predict.model``; write ``predict.output``; return it."""
    import pandas as pd

    from .data.io import check_writable, required_input, table_format, write_table
    from .data.load import Source, load_validated
    from .data.schema import Role
    from .serving.predictor import open_model
    from .tracking.runs import tracked_run

    with tracked_run(cfg, stage="predict", run_name="predict") as run:
        source = required_input(cfg.predict.input, "predict.input")
        output = Path(cfg.predict.output or Path(cfg.paths.data_dir, "predictions", source.name))
        table_format(output)  # a bad output fails now, not after the work
        check_writable(output, "predict.output")
        predictor, uri, _ = open_model(run, cfg.predict.model, cfg.tracking.model_name)
        read = Source(source, "predict", "predict.input", serving=True, contract=uri)
        frame = load_validated(read, predictor.spec, run)
        table, stats = predictor.predict(frame)
        ids = frame[predictor.spec.names(Role.id)].convert_dtypes()  # 7, not 7.0
        result = pd.concat([ids, table], axis=1)
        for column, count in stats.unseen.items():
            if count:
                log.warning("%s: %d rows have categories unseen in training", column, count)
        run.log_metrics(
            {"predict/rows": len(result)}
            | {f"predict/unseen/{column}": n for column, n in stats.unseen.items()}
        )
        write_table(result, output)
    log.info("wrote %d predictions to %s", len(result), output)
    return output


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="predict")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: exit 2 with the problems listed when the input breaks the contract."""
    print(f"predictions: {predict(cfg)}")


if __name__ == "__main__":
    main()

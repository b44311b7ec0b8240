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
    """Score ``predict.input`` with ``predict.model``; write ``predict.output``; return it.

    The rows are read, checked, scored and written ``predict.chunk_rows`` at a time, so a file
    of any size needs the memory of one piece; the output appears whole once the last piece is
    written, or not at all."""
    from .data.io import check_writable, required_input, table_format, write_tables
    from .data.load import Source, stream_validated
    from .serving.predictor import open_model
    from .tracking.runs import tracked_run

    with tracked_run(cfg, stage="predict", run_name="predict") as run:
        source = required_input(cfg.predict.input, "predict.input")
        output = Path(cfg.predict.output or Path(cfg.paths.data_dir, "predictions", source.name))
        table_format(output)  # a bad output fails now, not after the work
        check_writable(output, "predict.output")
        predictor, uri, _ = open_model(run, cfg.predict.model, cfg.tracking.model_name)
        read = Source(source, "predict", "predict.input", serving=True, contract=uri)
        pieces = stream_validated(read, predictor.spec, run, cfg.predict.chunk_rows)
        scored = predictor.score_pieces(pieces)
        write_tables(scored, output, "predict.output")
        for column, count in scored.unseen.items():
            if count:
                log.warning("%s: %d rows have categories unseen in training", column, count)
        run.log_metrics(
            {"predict/rows": scored.rows}
            | {f"predict/unseen/{column}": n for column, n in scored.unseen.items()}
        )
    log.info("wrote %d predictions to %s", scored.rows, output)
    return output


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="predict")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: exit 2 with the problems listed when the input breaks the contract."""
    print(f"predictions: {predict(cfg)}")


if __name__ == "__main__":
    main()

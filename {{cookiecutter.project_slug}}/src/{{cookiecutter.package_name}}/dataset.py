"""Write the sample data: ``python -m {{ cookiecutter.package_name }}.dataset`` (``make data``).

Deterministic: the same ``data.sample.rows``, ``data.sample.seed`` and ``data.task`` always
give the same file, described in ``data/README.md``. A second file, ``data/raw/new_batch.csv``,
holds ``data.sample.batch_rows`` unlabelled rows from the same process (another seed): new
customers to score with ``make predict`` and a clean batch for ``make monitor``.
``data/raw/drifted_batch.csv`` is a batch with planted drift (``data.sample.plant_drift``), which
``make monitor`` flags.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE

log = logging.getLogger(__name__)


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Write ``data.sample.rows`` labelled rows to ``data.path`` and a batch of new rows."""
    from .data.sample import write_sample

    sample = cfg.data.sample
    path = write_sample(cfg.data.path, sample.rows, sample.seed, cfg.data.task)
    log.info("wrote %d rows of sample data to %s", sample.rows, path)
    raw = Path(cfg.paths.data_dir) / "raw"
    for name, seed, drifted in (("new_batch", 1, False), ("drifted_batch", 2, True)):
        batch = raw / f"{name}.csv"
        rows = sample.batch_rows
        write_sample(batch, rows, sample.seed + seed, cfg.data.task, False, drifted)
        log.info("wrote %d new unlabelled rows to %s", rows, batch)


if __name__ == "__main__":
    main()

"""Write the sample data: ``python -m {{ cookiecutter.package_name }}.dataset`` (``make data``).

Deterministic: the same ``data.sample.rows``, ``data.sample.seed`` and ``data.task`` always
give the same file, described in ``data/README.md``.
"""

from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE

log = logging.getLogger(__name__)


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Generate ``data.sample.rows`` rows for ``data.task`` and write them to ``data.path``."""
    from .data.sample import write_sample

    path = write_sample(cfg.data.path, cfg.data.sample.rows, cfg.data.sample.seed, cfg.data.task)
    log.info("wrote %d rows of sample data to %s", cfg.data.sample.rows, path)


if __name__ == "__main__":
    main()

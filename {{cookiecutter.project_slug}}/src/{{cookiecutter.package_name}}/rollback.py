"""Undo a promotion: ``python -m {{ cookiecutter.package_name }}.rollback`` (``make rollback``, I7).

Moves the registry alias ``champion`` of ``tracking.model_name`` back to the version it replaced
and marks the demoted version ``rolled_back``. Run it again to step further back. Recorded as
an MLflow run (stage ``rollback``) with both versions, so every change of what serves is
written down (P6).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors


def rollback(cfg: DictConfig) -> tuple[str, str]:
    """Move ``champion`` back one step; return the ``(from, to)`` versions."""
    from .tracking import registry
    from .tracking.runs import tracked_run

    with tracked_run(cfg, stage="rollback", run_name="rollback") as run:
        demoted, restored = registry.rollback(cfg.tracking.model_name)
        run.set_tags({"rollback.from": demoted, "rollback.to": restored})
    return demoted, restored


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="rollback")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: exit 2 when there is nothing to roll back to."""
    demoted, restored = rollback(cfg)
    print(f"{cfg.tracking.model_name}: champion moved from v{demoted} back to v{restored}")


if __name__ == "__main__":
    main()

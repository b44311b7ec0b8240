"""Show a model's card: ``python -m {{ cookiecutter.package_name }}.card [card.model=<alias|run id|URI>]``.

P6: the card says what a model is for, what it learnt from, how good it is beside the baseline
and where not to trust it (``tracking.card``). It is rebuilt from what the model's training run
recorded, so a model registered before cards existed has one too; the intended use and the
limitations are the reviewed text of ``configs/card/default.yaml``, the file ``train`` reads for
the card it stores with every model it registers. Prints the card and writes
``model_card.md`` and ``model_card.html`` (one self-contained page) into the run's log
directory. A reference to nothing, or to a run that logged no model, exits 2 in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors

if TYPE_CHECKING:
    from .tracking.card import Card


def card(cfg: DictConfig) -> tuple[Card, Path]:
    """The card of ``card.model``, written as ``model_card.md`` and ``model_card.html`` into
    ``paths.output_dir``; returns it and the HTML file's path. Reads the store, records nothing:
    showing a card is not an experiment."""
    from mlflow.tracking import MlflowClient

    from .data.io import write_text
    from .tracking.card import build_card, resolve
    from .tracking.store import prepare

    prepare(cfg.tracking, Path(cfg.paths.root))
    run_id, version = resolve(cfg.card.model, cfg.tracking.model_name)
    client = MlflowClient()
    made = build_card(client.get_run(run_id), version, cfg.card)
    output = Path(cfg.paths.output_dir)
    write_text(output / "model_card.md", made.markdown)
    return made, write_text(output / "model_card.html", made.html())


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="card")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: print the card (rich's markdown) and where its page is."""
    from rich.console import Console
    from rich.markdown import Markdown

    made, page = card(cfg)
    console = Console()
    console.print(Markdown(made.markdown))
    console.print(f"\nwrote {page} (and model_card.md beside it)", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()

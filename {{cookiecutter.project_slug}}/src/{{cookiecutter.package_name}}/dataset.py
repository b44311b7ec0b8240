"""Write the bundled sample: ``python -m {{ cookiecutter.package_name }}.dataset`` (``make data``).

Deterministic: the same rows and seed always give the same bytes, described in
``data/README.md``. It writes three files into ``data/sample/`` and nowhere else, whatever the
data config says, and never over a file it did not write itself (see
:func:`~.data.sample.write_sample`): ``sample.csv`` (labelled rows for ``data=sample``),
``new_batch.csv`` (unlabelled rows from the same process, another seed: what ``make predict``
scores and ``make monitor`` finds clean) and ``drifted_batch.csv`` (a batch with planted drift
that ``make monitor`` flags).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .config import project_root
from .errors import one_line_errors

log = logging.getLogger(__name__)


def write_samples(rows: int, seed: int, batch_rows: int) -> list[Path]:
    """Write the sample and its two batches for the sample's task; return their paths."""
    from hydra import compose, initialize_config_dir

    from .config import CONFIG_DIR, HYDRA_VERSION_BASE
    from .data.sample import SAMPLE_DIR, refuse_foreign, write_sample

    with initialize_config_dir(str(CONFIG_DIR), version_base=HYDRA_VERSION_BASE):
        task = compose("validate", overrides=["data=sample"]).data.task
    directory = project_root() / SAMPLE_DIR
    files = {  # name: (rows, seed, labelled, drifted)
        "sample.csv": (rows, seed, True, False),
        "new_batch.csv": (batch_rows, seed + 1, False, False),
        "drifted_batch.csv": (batch_rows, seed + 2, False, True),
    }
    for name in files:  # all or nothing: refuse before writing any
        refuse_foreign(directory / name)
    return [
        write_sample(directory / name, *args[:2], task, *args[2:]) for name, args in files.items()
    ]


@one_line_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="labelled rows (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument(
        "--batch-rows", type=int, default=500, help="rows in each new batch (default 500)"
    )
    args = parser.parse_args(argv)
    for path in write_samples(args.rows, args.seed, args.batch_rows):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

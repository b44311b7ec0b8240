"""Draft a schema for your own data: ``python -m {{ cookiecutter.package_name }}.infer_schema DATA``.

Writes ``schemas/<file stem>.yaml`` (or ``--output``), never over an existing file. Review it,
then set ``data.path``, ``data.schema``, ``data.target`` and ``data.task`` in
``configs/data/default.yaml``: validation and training then run on your data, no code changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import project_root
from .errors import PipelineError, exit_bad_input


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="CSV or Parquet file to infer from")
    parser.add_argument("--output", type=Path, help="where to write (default schemas/<stem>.yaml)")
    args = parser.parse_args(argv)
    from .data.infer import write_draft

    output = args.output or project_root() / "schemas" / f"{args.data.stem}.yaml"
    try:
        written = write_draft(args.data, output)
    except PipelineError as err:
        exit_bad_input(err)
    except FileExistsError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    print(f"Wrote a draft schema to {written}. Review it, then set data.schema to it.")


if __name__ == "__main__":
    main()

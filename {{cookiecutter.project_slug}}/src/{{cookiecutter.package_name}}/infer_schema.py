"""Draft the contract and data config of your own table: ``python -m {{ cookiecutter.package_name }}.infer_schema DATA --target COLUMN``.

Writes ``schemas/<name>.yaml`` (the contract: roles, kinds, ranges, categories, proposed magic
values) and ``configs/data/<name>.yaml`` (path, schema, the task proposed from the target,
slices, split), where ``<name>`` is ``--name`` or the file's stem made safe. Neither is written
if either exists. Review both, then select the table with ``make use-data NAME=<name>``:
validation and training then run on it, no code changed (``make infer-schema DATA=...
TARGET=... [NAME=...]``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .config import project_root
from .errors import one_line_errors


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the project root when it is inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


@one_line_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="CSV or Parquet file to infer from")
    parser.add_argument("--target", required=True, help="the column to predict")
    parser.add_argument(
        "--name", help="the data config's name (default: the file's stem, made safe)"
    )
    args = parser.parse_args(argv)
    from .data.infer import write_drafts

    root = project_root()
    done = write_drafts(args.data, args.target, args.name, root)
    result, spec = done.draft, done.draft.spec
    assert result.task is not None
    magic = ", ".join(result.magic_columns) or "none"
    print(
        f"Drafted {_shown(done.schema, root)} and {_shown(done.data_config, root)} from "
        f"{args.data} ({done.rows} rows, {len(spec.columns)} columns):\n"
        f"  task {result.task.value}, proposed from the target {args.target!r}: {result.reason}\n"
        f"  magic values proposed in: {magic}; descriptions to FILL IN: {len(result.unfilled)}\n"
        "Review both files (each says what to check), then run:\n"
        f"  make use-data NAME={done.name}"
    )


if __name__ == "__main__":
    main()

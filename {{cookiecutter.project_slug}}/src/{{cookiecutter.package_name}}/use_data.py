"""Select the project's data: ``python -m {{ cookiecutter.package_name }}.use_data NAME`` (``make use-data``).

Makes ``configs/data/NAME.yaml`` the data every stage uses, by rewriting the one ``data:`` entry
of the defaults list in ``configs/config.yaml``, after checking that the whole config composes
with it and that its schema loads with the target and task it names. A missing table is only a
warning: the config may be ready before the data is. The change is a config edit like any other
(P5): review and commit it with the schema and the data config. ``NAME=sample`` goes back to the
bundled sample; tests always use the sample, whatever is selected here.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .config import CONFIG_DIR
from .errors import PipelineError, first_line, one_line_errors

DATA_ENTRY = re.compile(r"^(\s*-\s*data:\s*)([^\s#]+)", re.MULTILINE)


def use_data(name: str, config_dir: Path = CONFIG_DIR) -> str:
    """Select ``configs/data/<name>.yaml``; return the name it replaces."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from .config import HYDRA_VERSION_BASE
    from .data.io import write_text
    from .data.schema import load_contract

    root = config_dir / "config.yaml"
    available = sorted(p.stem for p in (config_dir / "data").glob("*.yaml"))
    if name not in available:
        raise PipelineError(
            str(config_dir / "data" / f"{name}.yaml"),
            "data config exists",
            f"no such data config; the choices are {', '.join(available)} "
            "(`make infer-schema` drafts one for a new table)",
        )
    try:
        with initialize_config_dir(str(config_dir), version_base=HYDRA_VERSION_BASE):
            cfg = compose("validate", overrides=[f"data={name}"])
            data = cfg.data
            path, schema, target, task = data.path, data.schema, data.target, data.task
    except (HydraException, OmegaConfBaseException) as err:
        raise PipelineError(
            str(config_dir / "data" / f"{name}.yaml"), "config composes", first_line(err)
        ) from err
    load_contract(schema, target, task)
    text = root.read_text(encoding="utf-8")
    entries = DATA_ENTRY.findall(text)
    if len(entries) != 1:
        raise PipelineError(
            str(root), "one data entry", "the defaults list must hold exactly one `- data: ...`"
        )
    previous = entries[0][1]
    write_text(root, DATA_ENTRY.sub(lambda m: m.group(1) + name, text), "configs/config.yaml")
    if not Path(path).is_file():
        print(f"warning: {path} (data.path of {name}) does not exist yet", file=sys.stderr)
    return previous


@one_line_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a data config: configs/data/<name>.yaml")
    args = parser.parse_args(argv)
    previous = use_data(args.name)
    print(
        f"configs/config.yaml now uses data={args.name} (was {previous}). Commit it with its "
        f"schema and data config (P5); next: make validate"
    )


if __name__ == "__main__":
    main()

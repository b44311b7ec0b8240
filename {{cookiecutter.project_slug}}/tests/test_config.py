"""P5: configs are reviewed code with a schema; every option composes and typos fail loudly."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ValidationError

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
    HYDRA_VERSION_BASE,
    STAGES,
    Task,
)
from {{ cookiecutter.package_name }}.config import (
    GROUPS as SCHEMA_GROUPS,
)
from {{ cookiecutter.package_name }}.data.sample import (
    SAMPLE_DIR,
)
from {{ cookiecutter.package_name }}.errors import (
    PipelineError,
)
from {{ cookiecutter.package_name }}.use_data import (
    DATA_ENTRY,
    use_data,
)

GROUPS = sorted(path.name for path in CONFIG_DIR.iterdir() if path.is_dir())
OPTIONS = [
    (group, option.stem)
    for group in GROUPS
    if group != "hydra"  # Hydra's own settings are not a choice
    for option in sorted((CONFIG_DIR / group).glob("*.yaml"))
]


def test_every_schema_group_has_a_config_directory() -> None:
    """Each group schema in config.py is used by a config group, and each group is present."""
    assert set(SCHEMA_GROUPS) <= set(GROUPS)
    assert {"data", "model", "tracking", "paths", "experiment"} <= set(GROUPS)


SHARED = {"data", "tracking", "paths"}
STAGE_KEYS = {
    "train": SHARED | {"model", "train", "card"},
    "tune": SHARED | {"model", "train", "card", "tune"},
    "validate": SHARED | {"validate"},
    "evaluate": SHARED | {"evaluate"},
    "predict": SHARED | {"predict"},
    "serve": SHARED | {"serve"},
    "monitor": SHARED | {"monitor"},
    "rollback": SHARED,
    "card": SHARED | {"card"},
    "audit": SHARED | {"audit"},
}


def test_each_stage_config_holds_what_it_uses_and_no_more() -> None:
    """Every stage has its own file, ``configs/<stage>.yaml``, with the shared selection and its
    own settings only: a training run records no predict or monitor settings as params, and
    a stage's schema refuses another stage's keys."""
    stages = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if p.stem != "config")
    assert stages == sorted(STAGE_KEYS)
    assert {f"{name}_schema" for name in STAGES} >= {
        line.strip().removeprefix("- ")
        for stage in stages
        for line in (CONFIG_DIR / f"{stage}.yaml").read_text(encoding="utf-8").splitlines()
        if line.strip().endswith("_schema")
    }
    with initialize_config_dir(str(CONFIG_DIR), version_base=HYDRA_VERSION_BASE):
        for stage in stages:
            cfg = compose(stage, overrides=["data=sample"])
            assert set(cfg) == STAGE_KEYS[stage], stage
        with pytest.raises(ConfigCompositionException, match="predict"):
            compose("train", overrides=["data=sample", "predict.model=champion"])


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_resolves(
    compose_cfg: Callable[..., DictConfig], group: str, option: str
) -> None:
    """Selecting any option of any group gives a config that fully resolves."""
    cfg = compose_cfg(f"{group}={option}")
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    assert {"data", "model", "train", "tracking", "paths"} <= set(resolved)


@pytest.mark.parametrize(
    ("stage", "overrides"),
    [
        ("train", ["model=mlp", "model.hidden=[16,8]", "train.lr=0.05", "train.optimizer=sgd"]),
        ("train", ["experiment=batch_sweep", "train.batch_size=null", "data.slices=[region]"]),
        ("train", ["+model.depth=3", "train.grad_clip=1", "data.split.seed=7"]),
        ("predict", ["predict.input='/tmp/a b,c.csv'", "predict.chunk_rows=5"]),
        ("monitor", ["monitor.alpha=0.05", "tracking=server"]),
        ("validate", ["data.task=regression", "data.target=next_year_spend_usd"]),
    ],
)
def test_the_tests_compose_exactly_what_hydra_composes(
    compose_in: Callable[..., DictConfig], tmp_path: Path, stage: str, overrides: list[str]
) -> None:
    """The tests' faster composition (group selections composed once, values set after) gives
    the config Hydra composes from the same overrides: every value, type and struct flag."""
    fast = compose_in(tmp_path, "same", *overrides, stage=stage)
    hydra = compose_in(tmp_path, "same", *overrides, stage=stage, hydra_only=True)
    assert OmegaConf.to_yaml(fast) == OmegaConf.to_yaml(hydra)
    assert OmegaConf.to_container(fast) == OmegaConf.to_container(hydra)
    assert OmegaConf.is_struct(fast) == OmegaConf.is_struct(hydra)
    assert OmegaConf.get_type(fast.train if stage == "train" else fast.data) is OmegaConf.get_type(
        hydra.train if stage == "train" else hydra.data
    )


def test_mistyped_key_fails_naming_it(compose_cfg: Callable[..., DictConfig]) -> None:
    """``train.sede=1`` (for ``train.seed``) is refused at composition, naming ``sede``."""
    with pytest.raises(ConfigCompositionException) as caught:
        compose_cfg("train.sede=1")
    assert "sede" in str(caught.value) + str(caught.value.__cause__)


def test_wrong_type_fails(compose_cfg: Callable[..., DictConfig]) -> None:
    """A value of the wrong type is refused at composition, naming the key."""
    with pytest.raises(ConfigCompositionException) as caught:
        compose_cfg("train.seed=not-a-number")
    assert "seed" in str(caught.value) + str(caught.value.__cause__)


def test_unknown_task_is_refused(compose_cfg: Callable[..., DictConfig]) -> None:
    """``data.task`` only takes the declared tasks."""
    with pytest.raises(ConfigCompositionException):
        compose_cfg("data.task=clustering")


def test_task_is_an_enum_and_fields_are_typed(compose_cfg: Callable[..., DictConfig]) -> None:
    """Composed values carry their schema types, so code never parses strings."""
    cfg = compose_cfg()
    assert isinstance(cfg.data.task, Task)
    with pytest.raises(ValidationError):
        cfg.data.split.seed = "abc"


def test_paths_are_absolute_and_outside_the_source_tree(
    compose_cfg: Callable[..., DictConfig],
) -> None:
    """Outputs and logs hang off the project root, never off ``src/`` or ``configs/``."""
    cfg = compose_cfg()
    root = CONFIG_DIR.parent
    assert cfg.paths.root == str(root)
    for key in ("data_dir", "log_dir"):
        assert cfg.paths[key].startswith(str(root) + "/")
        assert not cfg.paths[key].startswith((str(root / "src"), str(CONFIG_DIR)))


def test_experiment_files_are_global_overrides() -> None:
    """Every experiment file is a ``@package _global_`` override (one file per experiment)."""
    files = sorted((CONFIG_DIR / "experiment").glob("*.yaml"))
    assert files
    for path in files:
        assert path.read_text(encoding="utf-8").startswith("# @package _global_"), path.name


def test_codeowners_own_the_model_specs() -> None:
    """M1 and P5: a change to ``configs/`` or ``schemas/`` (what a model is made from) needs
    its owner's review: CODEOWNERS has a rule with an owner for each directory."""
    root = CONFIG_DIR.parent
    owners = {}
    for line in (root / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        pattern, *names = line.split("#", 1)[0].split() or [""]
        owners[pattern] = names
    for directory in ("configs", "schemas"):
        assert (root / directory).is_dir()
        assert owners.get(f"/{directory}/"), f"CODEOWNERS has no owner for /{directory}/"


def test_the_sample_config_reads_what_the_generator_writes(
    compose_cfg: Callable[..., DictConfig],
) -> None:
    """``data=sample`` reads data/sample/, the one place ``make data`` writes."""
    data = compose_cfg("data=sample").data
    assert Path(data.path) == CONFIG_DIR.parent / SAMPLE_DIR / "sample.csv"
    assert Path(data.new_rows) == CONFIG_DIR.parent / SAMPLE_DIR / "new_batch.csv"


def test_each_data_config_has_its_own_registered_model(
    compose_cfg: Callable[..., DictConfig],
) -> None:
    """The registered model is named after the data config, so a new table starts its own
    lineage instead of competing with the sample's champion."""
    with initialize_config_dir(str(CONFIG_DIR), version_base=HYDRA_VERSION_BASE):
        cfg = compose("validate", overrides=["data=sample", "data.name=wine"])
    assert cfg.tracking.model_name.endswith("-wine")


def test_use_data_selects_a_data_config_and_refuses_a_broken_one(tmp_path: Path) -> None:
    """``make use-data NAME=...`` rewrites the one data entry of config.yaml, and refuses, by
    name and without touching config.yaml, a config that is unknown or does not compose."""
    configs = Path(shutil.copytree(CONFIG_DIR, tmp_path / "configs"))
    text = (configs / "data" / "sample.yaml").read_text(encoding="utf-8")
    (configs / "data" / "other.yaml").write_text(text.replace("name: sample", "name: other"))
    selected = DATA_ENTRY.search((configs / "config.yaml").read_text()).group(2)
    assert use_data("other", configs) == selected  # the sample, or the project's own data
    with initialize_config_dir(str(configs), version_base=HYDRA_VERSION_BASE):
        assert compose("validate").data.name == "other"
    selected = (configs / "config.yaml").read_text(encoding="utf-8")
    with pytest.raises(PipelineError, match="no such data config") as unknown:
        use_data("nope", configs)
    assert "other, " in str(unknown.value) and "sample" in str(unknown.value)
    (configs / "data" / "broken.yaml").write_text(text.replace("slices:", "slicez:"))
    with pytest.raises(PipelineError, match="slicez") as broken:
        use_data("broken", configs)
    assert broken.value.check == "config composes"
    assert (configs / "config.yaml").read_text(encoding="utf-8") == selected

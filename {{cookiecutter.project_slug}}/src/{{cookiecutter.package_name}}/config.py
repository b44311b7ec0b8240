"""The schema of the configs (P5): one dataclass per config group, registered in Hydra's ConfigStore.

The YAML files under ``configs/`` are reviewed code; these dataclasses are their types. Each
group's YAML lists its schema first in its defaults list, so a mistyped key
(``train.sede=1``) or a wrong type (``train.seed=abc``) fails at composition with a message
naming the key, before any data is read or any run is started.

This module imports only Hydra and OmegaConf, so every entry point starts fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

HYDRA_VERSION_BASE = "1.3"


def project_root() -> Path:
    """The project directory: ``$PROJECT_ROOT`` when set, else the checkout this package sits in.

    MLflow's database, logs and data paths hang off this, never off the working directory or
    Hydra's output directory, so a run started from anywhere lands in the same places.
    """
    if env_root := os.environ.get("PROJECT_ROOT"):
        return Path(env_root).resolve()
    return Path(__file__).resolve().parents[2]


CONFIG_DIR = project_root() / "configs"


class Task(str, Enum):
    """What the target is; decides the split (stratified or not), the baseline and the metrics."""

    binary_classification = "binary_classification"
    multiclass_classification = "multiclass_classification"
    regression = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.regression


@dataclass
class PathsConfig:
    """Where things live; every path is absolute, derived from the project root."""

    root: str = MISSING
    data_dir: str = MISSING
    log_dir: str = MISSING
    output_dir: str = MISSING
    checkpoint_dir: str = MISSING


@dataclass
class SplitConfig:
    """Deterministic train/validation/test split; its seed is separate from the training seed.

    With ``time_column`` set, the split is by time instead: train on the past, validate on what
    follows, test on the most recent rows (the seed is then unused).
    """

    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 42
    time_column: str | None = None


@dataclass
class FeaturesConfig:
    """Feature hygiene: categories seen fewer than ``rare_min_count`` times in training share
    one ``__other__`` bucket (F1)."""

    rare_min_count: int = 5


@dataclass
class DataConfig:
    """The table to learn from, its contract (schema file) and what to predict in it.

    ``name`` names the table's lineage: its models register as ``<package>-<name>``, so a new
    table never competes with another table's champion. ``new_rows``: a file of new, unlabelled
    rows of this table, what ``predict`` and ``monitor`` read unless told otherwise.
    ``reference_run``: an MLflow run id whose training data ``validate`` compares against,
    reporting new, missing or retyped columns and a changed schema (F4). ``slices``: columns
    whose values (quartiles, for numbers) get their own metrics (M6), so a model that is good
    on average but bad for one group is seen.
    """

    name: str = MISSING
    path: str = MISSING
    schema: str = MISSING
    task: Task = MISSING
    target: str = MISSING
    new_rows: str | None = None
    reference_run: str | None = None
    slices: list[str] = field(default_factory=list)
    split: SplitConfig = field(default_factory=SplitConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)


@dataclass
class ModelConfig:
    """Which model to fit: ``_target_`` is its class (``models/``), ``name`` what runs and
    checkpoints call it. Every other field is an option passed to the class; a model with
    options has its own dataclass below, so a mistyped option fails at composition."""

    _target_: str = MISSING
    name: str = MISSING


class Activation(str, Enum):
    relu = "relu"
    gelu = "gelu"
    tanh = "tanh"


@dataclass
class MLPConfig(ModelConfig):
    """A multi-layer perceptron: ``hidden`` layer widths, their activation and dropout."""

    hidden: list[int] = field(default_factory=lambda: [64, 32])
    activation: Activation = Activation.relu
    dropout: float = 0.1


class Optimizer(str, Enum):
    sgd = "sgd"  # with momentum
    adam = "adam"
    adamw = "adamw"


@dataclass
class TrainConfig:
    """How to fit the model (ignored by the closed-form baseline, except the gate).

    The schedule is sized in optimizer steps, so the same defaults suit a 150-row table and a
    300,000-row one: ``batch_size`` (null: a power of two picked from the training row count,
    T7, see ``training.loop.auto_batch_size``) and at least ``steps`` optimizer steps, rounded
    up to whole epochs. ``l1`` and ``l2`` add penalties on the weights (not biases) to the
    loss. Training stops early when the validation loss, measured after every epoch, has not
    improved for ``patience`` epochs (0: never), and the best epoch's weights are kept.
    ``grad_clip`` caps the gradient norm (null: no cap). With ``require_beats_baseline`` (P1)
    a model whose validation metric is not better than the baseline's by ``baseline_margin``
    ends the run FAILED. Promotion (I4) compares a model with the current champion on the same
    rows (its validation split, each model through its own serving path) and moves the alias
    only when the split has at least ``promote_min_rows`` rows and the paired one-sided test
    says the new model's per-row loss is lower (p below ``promote_alpha``); otherwise it
    stays a challenger, and the run's tags say why. Two more gates keep the alias where it is:
    M6, a slice of the validation split (``data.slices`` and every sensitive column, with at
    least ``evaluation.slices.MIN_ROWS`` rows) whose primary metric is worse than the whole
    split's by more than ``max_slice_gap`` (a fraction of the whole split's value: 0.5 is 50 %
    worse); M1, uncommitted changes under ``configs/``, ``schemas/`` or ``src/`` (the model
    would come from specs nobody reviewed), unless ``allow_dirty_promotion`` (notebooks,
    experiments; without git at all promotion is allowed and the run says so). The state is
    checkpointed after every epoch; ``resume`` continues the interrupted run of the same
    config, in the same MLflow run.
    """

    seed: int = 0
    optimizer: Optimizer = Optimizer.adam
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int | None = None
    steps: int = 2000
    l1: float = 0.0
    l2: float = 0.0
    patience: int = 5
    grad_clip: float | None = 5.0
    device: str = "auto"
    require_beats_baseline: bool = True
    baseline_margin: float = 0.0
    promote_min_rows: int = 20
    promote_alpha: float = 0.05
    max_slice_gap: float = 0.5
    allow_dirty_promotion: bool = False
    resume: bool = False


@dataclass
class TrackingConfig:
    """Where experiments are written down (P6).

    ``uri`` left null means ``$MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<root>/mlflow.db``.
    """

    uri: str | None = None
    experiment: str = MISSING
    model_name: str = MISSING


class Split(str, Enum):
    train = "train"
    val = "val"
    test = "test"


@dataclass
class ValidateConfig:
    """``validate``: ``data.path`` is read, checked row by row and counted for the table checks
    ``chunk_rows`` rows at a time, so a file of any size needs the memory of one piece (and 8
    bytes a row to find repeated rows and ids across pieces)."""

    chunk_rows: int = 100_000


@dataclass
class EvaluateConfig:
    """``evaluate``: which model to score and on which split of ``data.path``.

    ``model`` is a registry alias (``champion``), an MLflow run id, or a model URI. The split is
    recomputed with the settings the model was trained with, so ``test`` is truly unseen.
    """

    model: str = "champion"
    split: Split = Split.test


@dataclass
class PredictConfig:
    """``predict``: the model, the raw rows to score (no target needed) and where to write.

    ``input`` defaults to the data config's ``new_rows``; ``output`` left null means
    ``data/predictions/<input file name>``. Rows are read, checked, scored and written
    ``chunk_rows`` at a time (Parquet row groups are read in batches of that size), so memory
    stays bounded whatever the file's size.
    """

    model: str = "champion"
    input: str | None = None
    output: str | None = None
    chunk_rows: int = 100_000


@dataclass
class ServeConfig:
    """``serve``: which model ``mlflow models serve`` answers with, and where it listens; and
    the budget ``serve_check`` holds it to (ML Test Score Mo6), measured on at most
    ``check_rows`` of the data config's ``new_rows`` and ``check_requests`` one-row requests:
    their p95 latency, the time per row of a batch, the peak memory of the serving process."""

    model: str = "champion"
    host: str = "127.0.0.1"
    port: int = 5001
    check_rows: int = 1000
    check_requests: int = 50
    budget_p95_ms: float = 200.0
    budget_ms_per_row: float = 2.0
    budget_mib: float = 2048.0


@dataclass
class MonitorConfig:
    """``monitor``: the batch to check, the model whose training profile is the reference, and
    when a change counts as drift (P4). A check flags drift only when its Benjamini-Hochberg
    adjusted p-value is below ``alpha`` *and* its effect reaches its threshold (each threshold
    is named after its effect, see ``monitoring.drift``); the batch is drifted when at least
    ``min_drifted_features`` features are. The batch is read, checked and counted
    ``chunk_rows`` rows at a time, so a file of any size needs the memory of one piece. A
    reference model trained more than ``max_model_age_days`` days ago is a finding too (ML Test
    Score Mo4: the model is not too stale)."""

    input: str | None = None
    reference: str = "champion"
    alpha: float = 0.01
    wasserstein_sd: float = 0.2
    total_variation: float = 0.1
    missing_rate_change: float = 0.05
    out_of_range_share: float = 0.01
    new_category_share: float = 0.01
    min_drifted_features: int = 1
    chunk_rows: int = 100_000
    max_model_age_days: float = 30.0


class AuditStatus(str, Enum):
    """What a project does about one ML Test Score test: ``automated`` (1 point when its evidence
    passes), ``manual`` (0.5: documented, done by people), ``not_done`` (0)."""

    automated = "automated"
    manual = "manual"
    not_done = "not_done"


@dataclass
class Evidence:
    """One piece of evidence for an audit line: a pytest node id (``test``), or a ``file`` that
    exists and ``contains`` the text the line relies on."""

    test: str | None = None
    file: str | None = None
    contains: str | None = None


@dataclass
class AuditLine:
    """One of the ML Test Score's 28 tests: its ``title``, ``status``, ``how`` (manual: how a
    team does it; not done: why not and what would do it) and the ``evidence`` the audit checks."""

    title: str = MISSING
    status: AuditStatus = MISSING
    how: str | None = None
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class AuditConfig:
    """``audit``: the ML Test Score's tests keyed by id (D1..D7, M1..M7, I1..I7, Mo1..Mo7)."""

    tests: dict[str, AuditLine] = field(default_factory=dict)


@dataclass
class CardText:
    """The part of a model card that only people can write (``configs/card/default.yaml``):
    what the model is for and what it must not be trusted with. One home for both stages that
    write a card: ``train`` puts it on the card of every model it registers, ``card`` on the
    card it regenerates."""

    intended_use: str = MISSING
    limitations: list[str] = field(default_factory=list)


@dataclass
class CardConfig(CardText):
    """``card``: whose card to show. ``model`` is a registry alias (``champion``), a training
    run id, or a model URI, resolved like ``evaluate.model``."""

    model: str = "champion"


@dataclass
class StageConfig:
    """What every stage reads (``configs/config.yaml``): the data, where runs are written down,
    where files go. A stage with settings of its own extends it with one field, so each stage's
    root config holds what it uses and no more, and an unknown top-level key fails loudly."""

    data: DataConfig = MISSING
    tracking: TrackingConfig = MISSING
    paths: PathsConfig = MISSING


@dataclass
class TrainStage(StageConfig):
    model: ModelConfig = MISSING
    train: TrainConfig = MISSING
    card: CardText = MISSING


@dataclass
class Dimension:
    """One searched setting: a number from ``low`` to ``high`` (``log``: on a log scale, as a
    rate wants) or one of ``choices`` (any values, lists included: ``[[32], [64, 32]]``)."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] | None = None


@dataclass
class TuneConfig:
    """``tune``: an Optuna study over training settings, each trial one ``train(cfg)``.

    ``search`` maps a config group and a setting to its :class:`Dimension`
    (``search.train.lr``), each checked against that dataclass when the search starts
    (OmegaConf does not type the values of a dict of dicts). The study lives in ``storage`` (null: ``sqlite:///optuna.db`` in the
    project root; relative sqlite paths resolve against it; a PostgreSQL URI shares one study
    across machines), so every process started on the same ``study`` adds ``trials`` trials to
    it. ``seed`` seeds this process's sampler (null: a fresh one, so parallel workers do not
    propose the same settings). A trial stops early when its validation loss, after
    ``prune_warmup_epochs`` epochs, is worse than the median of earlier trials at that epoch;
    the first ``prune_startup_trials`` trials are never stopped.
    """

    study: str = MISSING
    storage: str | None = None
    trials: int = 20
    seed: int | None = None
    prune_warmup_epochs: int = 3
    prune_startup_trials: int = 5
    search: dict[str, dict[str, Any]] = field(default_factory=dict)  # each a Dimension


@dataclass
class TuneStage(TrainStage):
    tune: TuneConfig = MISSING


@dataclass
class ValidateStage(StageConfig):
    validate: ValidateConfig = MISSING


@dataclass
class EvaluateStage(StageConfig):
    evaluate: EvaluateConfig = MISSING


@dataclass
class PredictStage(StageConfig):
    predict: PredictConfig = MISSING


@dataclass
class ServeStage(StageConfig):
    serve: ServeConfig = MISSING


@dataclass
class MonitorStage(StageConfig):
    monitor: MonitorConfig = MISSING


@dataclass
class CardStage(StageConfig):
    card: CardConfig = MISSING


@dataclass
class AuditStage(StageConfig):
    audit: AuditConfig = MISSING


# The root schema of each stage's config file (``configs/<stage>.yaml`` lists it first).
STAGES = {
    "stage": StageConfig,
    "train": TrainStage,
    "tune": TuneStage,
    "validate": ValidateStage,
    "evaluate": EvaluateStage,
    "predict": PredictStage,
    "serve": ServeStage,
    "monitor": MonitorStage,
    "card": CardStage,
    "audit": AuditStage,
}
# The schema of each group with options of its own (``configs/<group>/*.yaml`` extend it).
GROUPS = {
    "data": DataConfig,
    "model": ModelConfig,
    "tracking": TrackingConfig,
    "paths": PathsConfig,
}


def register_configs() -> None:
    """Register every schema; group YAML files extend ``schema`` in their defaults list."""
    store = ConfigStore.instance()
    for stage, root in STAGES.items():
        store.store(name=f"{stage}_schema", node=root)
    for group, schema in GROUPS.items():
        store.store(group=group, name="schema", node=schema)
    store.store(group="model", name="mlp_schema", node=MLPConfig)
    OmegaConf.register_new_resolver("project_root", lambda: str(project_root()), replace=True)
    # configs/hydra/default.yaml: under torchrun, every rank's run directory is named after
    # torchrun's run id (else the time, like Hydra's `now`), and only rank 0 writes Hydra's
    # config snapshot into it.
    OmegaConf.register_new_resolver("run_name", _run_name, use_cache=True, replace=True)
    OmegaConf.register_new_resolver("rank_zero", _rank_zero, replace=True)


def _run_name(pattern: str) -> str:
    return os.environ.get("TORCHELASTIC_RUN_ID") or datetime.now().strftime(pattern)


def _rank_zero(value: str) -> str | None:
    return value if os.environ.get("RANK", "0") == "0" else None


register_configs()

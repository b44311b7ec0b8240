"""The served model: raw rows in, predictions out, through the same feature pipeline as training.

A :class:`Predictor` is everything needed to answer for new rows, saved as plain files (no
pickle): the network's state dict (loaded with ``weights_only=True``), the fitted feature
pipeline as JSON, the data contract it was trained under, the reference profile of its training
features (P4, for ``monitor``), and a small ``model.json``. MLflow
logs it wrapped in :class:`PyfuncModel`, so ``mlflow models serve`` / ``mlflow models predict``,
``predict`` and ``evaluate`` all run the same code. MLflow loads it "from code"
(``pyfunc_entry.py``), not from a pickle (ML Test Score Mo3: one pipeline for training
and serving). Serving input is checked against the serving form of the contract (no target)
before any prediction (Mo2).
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from omegaconf import OmegaConf

from ..config import Task
from ..data.features import FeaturePipeline, TransformStats, stored_json
from ..data.report import ValidationReport
from ..data.schema import ColumnSpec, Kind, Role, SchemaSpec, dump_schema, load_schema
from ..data.tensors import TargetEncoding
from ..data.validation import check_frame, validate_frame
from ..errors import PipelineError, first_line
from ..evaluation.metrics import model_outputs
from ..models import build_model
from ..monitoring.profile import Profile

NETWORK, META, PIPELINE, SCHEMA = "network.pt", "model.json", "feature_pipeline.json", "schema.yaml"
PROFILE = "reference_profile.json"  # P4: the training distribution that `monitor` compares with
# model.json's format: 2 holds the target encoding (classes, or the regression target's mean and
# standard deviation) and the model class (`_target_`); 1, before them, cannot be served now.
META_FORMAT = 2
# Packages the served model imports, pinned to the versions it was trained with. Listing them
# spares MLflow from inferring requirements by loading the model in a subprocess (seconds).
SERVING_PACKAGES = ("torch", "pandas", "numpy", "pandera", "pyarrow", "omegaconf", "scikit-learn")
PROBABILITY_PREFIX = "probability_"
log = logging.getLogger(__name__)


@dataclass
class Predictor:
    """A trained network with the feature pipeline, target encoding and contract it needs."""

    network: torch.nn.Module
    features: FeaturePipeline
    encoding: TargetEncoding
    spec: SchemaSpec
    profile: Profile
    meta: dict[str, Any]

    @property
    def task(self) -> Task:
        return self.encoding.task

    def save(self, directory: Path) -> Path:
        """Write the predictor's files into ``directory`` (created); return it."""
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.network.state_dict(), directory / NETWORK)
        (directory / PIPELINE).write_text(self.features.to_json(), encoding="utf-8")
        contract = dump_schema(self.spec)  # with the target's role set by the config
        (directory / SCHEMA).write_text(contract, encoding="utf-8")
        (directory / PROFILE).write_text(self.profile.to_json(), encoding="utf-8")
        meta = self.meta | {"target_encoding": self.encoding.to_dict(), "version": META_FORMAT}
        (directory / META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Predictor:
        """Rebuild a saved predictor; loading runs no stored code (JSON, YAML, ``weights_only``)."""
        directory = Path(directory)
        meta = stored_json((directory / META).read_text(encoding="utf-8"), META_FORMAT, META)
        del meta["version"]
        encoding = TargetEncoding.from_dict(meta.pop("target_encoding"))
        features = FeaturePipeline.from_json((directory / PIPELINE).read_text(encoding="utf-8"))
        spec = load_schema(directory / SCHEMA)
        n_features = len(features.feature_names)
        model_cfg = OmegaConf.create(meta["model"])
        network = build_model(model_cfg, encoding.task, n_features, encoding.n_outputs)
        state = torch.load(directory / NETWORK, weights_only=True)
        network.load_state_dict(state)
        profile = Profile.from_json((directory / PROFILE).read_text(encoding="utf-8"))
        return cls(network.eval(), features, encoding, spec, profile, meta)

    def check(self, frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, ValidationReport]:
        """Validate ``frame`` with the serving form of the contract (the target may be absent)."""
        return validate_frame(frame, self.spec, source, serving=True)

    def outputs(self, frame: pd.DataFrame) -> tuple[np.ndarray, TransformStats]:
        """Class probabilities (rows sum to 1) or predicted values, and what was unseen."""
        matrix, stats = self.features.transform(frame)
        return model_outputs(self.network, self.encoding, torch.from_numpy(matrix)), stats

    def predict(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, TransformStats]:
        """One row per input row: ``prediction`` and, for classification, one
        ``probability_<class>`` column per class, indexed like ``frame``."""
        values, stats = self.outputs(frame)
        if not self.task.is_classification:
            return pd.DataFrame({"prediction": values}, index=frame.index), stats
        classes = np.asarray(self.encoding.classes, dtype=object)
        table = pd.DataFrame({"prediction": classes[values.argmax(axis=1)]}, index=frame.index)
        for i, label in enumerate(self.encoding.classes):
            table[f"{PROBABILITY_PREFIX}{label}"] = values[:, i]
        return table, stats

    def score_pieces(self, pieces: Iterable[pd.DataFrame]) -> Scored:
        """The predictions of rows that arrive in pieces, made one piece at a time as they are
        asked for (``predict`` on a file of any size)."""
        return Scored(self, pieces)


@dataclass
class Scored:
    """Iterate for one table per piece: the id columns, ``prediction`` and the probabilities;
    meanwhile the rows scored and the categories unseen in training add up over all pieces."""

    predictor: Predictor
    pieces: Iterable[pd.DataFrame]
    rows: int = 0
    unseen: Counter[str] = field(default_factory=Counter)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        ids = self.predictor.spec.names(Role.id)
        for frame in self.pieces:
            table, stats = self.predictor.predict(frame)
            self.rows += len(frame)
            self.unseen.update(stats.unseen)
            yield pd.concat([frame[ids].convert_dtypes(), table], axis=1)  # ids: 7, not 7.0


class PyfuncModel(mlflow.pyfunc.PythonModel):
    """MLflow's face of a :class:`Predictor`: raw rows in (validated first), predictions out."""

    def load_context(self, context: Any) -> None:
        self.predictor = Predictor.load(context.artifacts["predictor"])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """Raise :class:`~.data.report.DataValidationError` on rows that break the contract."""
        checked, _ = check_frame(model_input, self.predictor.spec, "<request>", serving=True)
        return self.predictor.predict(checked)[0]


def signature(predictor: Predictor, example: pd.DataFrame) -> mlflow.models.ModelSignature:
    """Inputs by name only (type ``Any``): the contract checks types with messages naming the
    column and the check, where MLflow's own enforcement would refuse a whole-number CSV column
    declared as a float. Outputs are inferred from a real prediction."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = Schema([ColSpec(AnyType(), name, required=True) for name in example.columns])
    with warnings.catch_warnings():  # predictions are never missing: no integer-column hint
        warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer", UserWarning)
        outputs = infer_signature(example, predictor.predict(example)[0]).outputs
    return ModelSignature(inputs, outputs)


@functools.cache  # what is installed does not change under a running process
def requirements() -> tuple[str, ...]:
    """``package==version`` for everything the served model imports, as installed now."""
    from importlib.metadata import version

    return tuple(f"{name}=={version(name)}" for name in ("mlflow", *SERVING_PACKAGES))


EXAMPLE_ROWS = 5
PLACEHOLDER_DATE = pd.Timestamp("2000-01-01")


def private_example(rows: pd.DataFrame, spec: SchemaSpec) -> pd.DataFrame:
    """D5: the input example logged with a model, which anyone who can read the registry sees:
    made from real ``rows`` but holding no one's record. Id columns and sensitive columns (M7)
    get :func:`placeholder` values that pass the contract, and every other column is shifted
    down by its position among them, so no example row is a real row while each value is still
    a real value of its column. The columns stay: the signature lists them, and the served
    model takes real rows with their ids."""
    example = rows.head(EXAMPLE_ROWS).reset_index(drop=True)
    hidden = set(spec.names(Role.id)) | set(spec.sensitive)
    kept = [name for name in example.columns if name not in hidden]
    for position, name in enumerate(kept):
        order = np.roll(np.arange(len(example)), position)
        example[name] = example[name].iloc[order].to_numpy()
    for name in example.columns:
        if name in hidden:
            example[name] = placeholder(spec.columns[name], len(example))
    return example


def placeholder(column: ColumnSpec, rows: int) -> list[Any]:
    """Neutral values for a hidden column that pass its contract: missing where it may be
    missing; else its first category, or its lowest allowed number (0 without a minimum), or
    2000-01-01; distinct (counting up) where it must be unique, as ids must."""
    numeric = column.kind in (Kind.integer, Kind.float)
    if column.nullable and not column.unique:
        return [np.nan if numeric else None] * rows
    step = range(rows) if column.unique else [0] * rows
    if column.categories:
        return [column.categories[i % len(column.categories)] for i in step]
    if column.kind is Kind.date:
        return [(PLACEHOLDER_DATE + pd.Timedelta(days=i)).strftime("%Y-%m-%d") for i in step]
    if numeric:
        low = column.min if column.min is not None else 0
        if column.max is not None and low + rows - 1 > column.max:
            low = column.max - (rows - 1 if column.unique else 0)
        return [int(np.ceil(low)) + i for i in step]
    return [f"example-{i}" for i in step]


def log_predictor(predictor: Predictor, example: pd.DataFrame) -> str:
    """Log ``predictor`` to the active run as the pyfunc model ``model``, with a
    :func:`private_example` of the rows ``example`` as its input example; return its URI."""
    import tempfile

    example = private_example(example, predictor.spec)

    here = Path(__file__).resolve().parent
    package = here.parent  # shipped whole: the served model runs this project's own code
    with tempfile.TemporaryDirectory() as tmp:
        directory = predictor.save(Path(tmp) / "predictor")
        with warnings.catch_warnings():  # pandas deprecations inside MLflow's example handling
            warnings.simplefilter("ignore", FutureWarning)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(here / "pyfunc_entry.py"),  # models from code: no pickle
                artifacts={"predictor": str(directory)},
                code_paths=[str(package)],
                signature=signature(predictor, example),
                input_example=example,
                pip_requirements=list(requirements()),
            )
    return info.model_uri


CANARY_ROWS = 20


def canary(uri: str, predictor: Predictor, rows: pd.DataFrame) -> Predictor:
    """Load the model just logged the way ``predict`` and ``mlflow models serve`` load it,
    score held-out ``rows`` (unlabelled) through its pyfunc, contract check included, and
    require the predictions the in-memory model gives: a model that cannot be served, or serves
    something else, never reaches the registry. Returns the served predictor."""
    rows = rows.head(CANARY_ROWS)
    try:
        model = mlflow.pyfunc.load_model(uri)
        served = model.predict(rows)
    except Exception as err:  # whatever breaks here, the model cannot be served
        raise PipelineError(uri, "canary: the logged model serves", first_line(err)) from err
    expected = predictor.predict(rows)[0]
    if len(served) != len(expected):
        raise PipelineError(
            uri, "canary: served like in training", f"{len(served)} answers for {len(rows)} rows"
        )
    numbers = [c for c in expected.columns if c != "prediction"] or ["prediction"]
    gap = np.abs(served[numbers].to_numpy(float) - expected[numbers].to_numpy(float))
    labels = np.zeros(len(rows), dtype=bool)
    if predictor.task.is_classification:
        labels = served["prediction"].astype(str).to_numpy() != expected["prediction"].astype(str)
    if labels.any() or not np.allclose(gap, 0, atol=1e-6):
        raise PipelineError(
            uri,
            "canary: served like in training",
            f"{int(labels.sum())} of {len(rows)} held-out rows predicted differently "
            f"(largest gap {gap.max():.3g})",
        )
    return model.unwrap_python_model().predictor


def open_model(
    run: Any, reference: str, model_name: str, role: str = "model"
) -> tuple[Predictor, str, str | None]:
    """Load the model ``reference`` names (alias, run id or URI, see
    :func:`~.tracking.registry.model_uri`) for a stage, naming it (URI, registered name and version, run)
    in the log, in every error and in the tags ``<role>.uri`` and ``<role>.run_id``; return
    the predictor, that description and the run that trained it."""
    from mlflow.exceptions import MlflowException

    from ..tracking.registry import describe_model, model_uri

    uri = model_uri(reference, model_name)
    described = describe_model(uri)
    try:
        model = mlflow.pyfunc.load_model(uri)
    except (MlflowException, OSError) as err:
        raise PipelineError(described, "model loads", first_line(err)) from err
    trained_by = model.metadata.run_id
    predictor = model.unwrap_python_model().predictor
    run.set_tags({f"{role}.uri": uri, f"{role}.run_id": trained_by})
    log.info(
        "%s: %s model of data %r (target %r)",
        described,
        predictor.meta["model"]["name"],
        predictor.meta.get("data", "?"),
        predictor.meta["target"],
    )
    return predictor, described, trained_by

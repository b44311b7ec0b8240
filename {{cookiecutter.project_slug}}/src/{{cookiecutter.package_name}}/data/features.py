"""One feature pipeline for training and serving (ML Test Score Mo3), fitted on training rows only.

* Numbers: declared magic values (F3) become missing; missing values are imputed with the
  training median and flagged in a ``<column>__missing`` indicator (for every column that may
  be missing or carries magic values); then standardised with the training mean and std.
* Categories: values seen fewer than ``rare_min_count`` times in training (F1), and values
  never seen in training, go to one shared ``__other__`` bucket; missing values to
  ``__missing__``; then one-hot. Unseen values are counted at transform time.
* Dates used as features become days since 1970-01-01, then are treated as numbers.

The fitted state is plain JSON (no pickle): reloading it executes no code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PipelineError
from .schema import Kind, SchemaSpec, as_labels

OTHER = "__other__"
MISSING = "__missing__"
FORMAT_VERSION = 1


def stored_json(text: str, version: int, what: str) -> dict[str, Any]:
    """The JSON of a ``what`` saved with a model, if this code reads its format ``version``;
    one written by another version of the project is a clear error that says to retrain."""
    raw = json.loads(text)
    if raw.get("version") != version:
        raise PipelineError(
            what,
            "format version",
            f"format {raw.get('version')} is not {version}: retrain the model to store one "
            "this version can read",
        )
    return raw


@dataclass
class NumericFeature:
    """Fitted state of one numeric column."""

    median: float
    mean: float
    std: float
    magic_values: list[float] = field(default_factory=list)
    indicator: bool = False
    is_date: bool = False


@dataclass
class CategoricalFeature:
    """Fitted state of one categorical column: the one-hot vocabulary and what was rare."""

    vocabulary: list[str]
    rare: list[str] = field(default_factory=list)


@dataclass
class TransformStats:
    """What a transform met that training did not: counts of unseen categories per column."""

    unseen: dict[str, int] = field(default_factory=dict)


@dataclass
class FeaturePipeline:
    """The fitted pipeline; ``transform`` gives the model's input matrix for any raw rows."""

    numeric: dict[str, NumericFeature]
    categorical: dict[str, CategoricalFeature]
    rare_min_count: int
    version: int = FORMAT_VERSION

    @classmethod
    def fit(cls, train: pd.DataFrame, spec: SchemaSpec, rare_min_count: int) -> FeaturePipeline:
        """Learn medians, scales and vocabularies from ``train`` (the training split only)."""
        numeric: dict[str, NumericFeature] = {}
        categorical: dict[str, CategoricalFeature] = {}
        for name in spec.features:
            col = spec.columns[name]
            if col.kind is Kind.category:
                values = categories(train[name])
                counts = values[values != MISSING].value_counts()
                rare = sorted(counts.index[counts < rare_min_count])
                kept = sorted(counts.index[counts >= rare_min_count])
                vocabulary = [*kept, OTHER] + ([MISSING] if col.nullable else [])
                categorical[name] = CategoricalFeature(vocabulary, rare)
            else:
                is_date = col.kind is Kind.date
                magic = [float(v) for v in col.magic_values or []]
                values = numbers(train[name], magic, is_date)
                finite = values[~np.isnan(values)]
                median = float(np.median(finite)) if finite.size else 0.0
                filled = np.where(np.isnan(values), median, values)
                std = float(filled.std())
                numeric[name] = NumericFeature(
                    median=median,
                    mean=float(filled.mean()),
                    std=std if std > 0 else 1.0,
                    magic_values=magic,
                    indicator=bool(col.nullable or magic),
                    is_date=is_date,
                )
        return cls(numeric, categorical, rare_min_count)

    def rare_values(self) -> dict[str, list[str]]:
        """F1: per categorical column, the training values too rare to keep their own feature."""
        return {name: f.rare for name, f in self.categorical.items() if f.rare}

    @property
    def feature_names(self) -> list[str]:
        """Names of the matrix columns, in order."""
        names = []
        for name, feature in self.numeric.items():
            names.append(name)
            if feature.indicator:
                names.append(f"{name}__missing")
        for name, feature in self.categorical.items():
            names += [f"{name}={value}" for value in feature.vocabulary]
        return names

    def column_groups(self) -> dict[str, list[int]]:
        """Per input column, the positions of the matrix columns made from it (in
        :attr:`feature_names` order): what shuffling one input column touches (D2)."""
        widths = {n: 2 if f.indicator else 1 for n, f in self.numeric.items()}
        widths |= {n: len(f.vocabulary) for n, f in self.categorical.items()}
        groups, start = {}, 0
        for name, width in widths.items():
            groups[name] = list(range(start, start + width))
            start += width
        return groups

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, TransformStats]:
        """The float32 feature matrix for ``frame`` and what it met that training did not."""
        blocks: list[np.ndarray] = []
        stats = TransformStats()
        for name, feature in self.numeric.items():
            values = numbers(frame[name], feature.magic_values, feature.is_date)
            missing = np.isnan(values)
            filled = np.where(missing, feature.median, values)
            blocks.append(((filled - feature.mean) / feature.std)[:, None])
            if feature.indicator:
                blocks.append(missing[:, None].astype(np.float64))
        for name, feature in self.categorical.items():
            values = categories(frame[name])
            known = set(feature.vocabulary) - {OTHER}
            unseen = ~values.isin(known | set(feature.rare))
            stats.unseen[name] = int(unseen.sum())
            codes = pd.Categorical(values.where(values.isin(known), OTHER), feature.vocabulary)
            blocks.append(np.eye(len(feature.vocabulary))[codes.codes])
        matrix = np.hstack(blocks) if blocks else np.empty((len(frame), 0))
        return matrix.astype(np.float32), stats

    def to_json(self) -> str:
        """Plain JSON; key order is the feature order, so it is kept, never sorted."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> FeaturePipeline:
        """Rebuild a fitted pipeline from :meth:`to_json` output (data only, no code)."""
        raw = stored_json(text, FORMAT_VERSION, "feature pipeline")
        return cls(
            numeric={k: NumericFeature(**v) for k, v in raw["numeric"].items()},
            categorical={k: CategoricalFeature(**v) for k, v in raw["categorical"].items()},
            rare_min_count=raw["rare_min_count"],
        )


def numbers(values: pd.Series, magic: list[float], is_date: bool) -> np.ndarray:
    """Float64 values with magic values (F3) turned into NaN."""
    if is_date:
        days = pd.to_datetime(values, errors="coerce")
        numbers = (days - pd.Timestamp("1970-01-01")).dt.days.astype("float64")
    else:
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    array = numbers.to_numpy(copy=True)
    if magic:
        array[np.isin(array, magic)] = np.nan
    return array


def categories(values: pd.Series) -> pd.Series:
    """Labels, with missing values as :data:`MISSING`."""
    return as_labels(values).astype(object).where(values.notna(), MISSING).astype(str)

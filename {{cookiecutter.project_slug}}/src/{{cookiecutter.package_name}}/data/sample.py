"""A deterministic generator of realistic customer data with deliberate, documented flaws.

The same ``(rows, seed, task)`` always gives byte-identical output, so tests make small copies
with it and later stages (validation, monitoring) can rely on the flaws being where the table
below says. One table serves every task; only the target column differs.

| column               | type        | meaning (unit)                              | deliberate flaw            |
|----------------------|-------------|---------------------------------------------|----------------------------|
| customer_id          | int         | unique customer number                      | none: a unique id          |
| signup_date          | date        | day the customer signed up (YYYY-MM-DD)     | none: a usable time column |
| age_years            | float       | customer age (years)                        | ~3 % missing               |
| tenure_months        | int         | months since signup (months)                | none                       |
| monthly_spend_usd    | float       | average monthly bill (USD)                  | ~2 % missing, long tail    |
| support_calls_90d    | int         | support calls in the last 90 days (calls)   | F3: -1 means "unknown"     |
| region               | category    | sales region                                | F1: "antarctica" 3 rows    |
| device               | category    | main device used                            | ~4 % missing               |
| contract             | category    | contract length                             | none                       |

Targets: ``churned`` (0/1, binary), ``plan_tier`` (basic/standard/premium, multiclass),
``next_year_spend_usd`` (USD, regression). Each depends on the features plus noise, so a
model can beat the baseline but not reach perfection.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Task
from ..errors import DataError
from .io import write_table, write_text

TARGETS = {
    Task.binary_classification: "churned",
    Task.multiclass_classification: "plan_tier",
    Task.regression: "next_year_spend_usd",
}
REGIONS = ("north", "south", "east", "west", "central")
RARE_REGION = "antarctica"
RARE_REGION_ROWS = 3  # F1: fewer than 5 occurrences, whatever the size of the sample
DEVICES = ("mobile", "desktop", "tablet")
CONTRACTS = ("month-to-month", "one-year", "two-year")
PLAN_TIERS = ("basic", "standard", "premium")
UNKNOWN_CALLS = -1  # F3: the magic value upstream uses for "not recorded"
MISSING_SHARE = {"age_years": 0.03, "monthly_spend_usd": 0.02, "device": 0.04}
UNKNOWN_CALLS_SHARE = 0.08
MIN_ROWS = 20
# The generator writes only here (``make data``), never to a configured data path, and records
# the digest of every file it writes in MANIFEST, so it can refuse to overwrite anything else.
SAMPLE_DIR = Path("data") / "sample"
MANIFEST = ".generated.json"


def generate(rows: int, seed: int, task: Task) -> pd.DataFrame:
    """Return ``rows`` customers with the target for ``task``; deterministic in ``seed``."""
    if rows < MIN_ROWS:
        raise ValueError(f"the sample needs at least {MIN_ROWS} rows, got {rows}")
    rng = np.random.default_rng(seed)
    contract = rng.choice(CONTRACTS, size=rows, p=[0.55, 0.25, 0.20])
    tenure = np.minimum(rng.gamma(2.0, 14.0, size=rows).astype(int), 120)
    signup = pd.Timestamp("2025-01-01") - pd.to_timedelta(tenure * 30, unit="D")
    age = np.clip(rng.normal(42, 13, size=rows), 18, 90).round(1)
    spend = rng.lognormal(mean=3.7, sigma=0.5, size=rows).round(2)
    calls = rng.poisson(1.0 + 1.5 * (contract == "month-to-month"), size=rows)
    region = rng.choice(REGIONS, size=rows, p=[0.3, 0.25, 0.2, 0.15, 0.1]).astype(object)
    region[rng.choice(rows, size=RARE_REGION_ROWS, replace=False)] = RARE_REGION
    device = rng.choice(DEVICES, size=rows, p=[0.55, 0.35, 0.10]).astype(object)

    frame = pd.DataFrame(
        {
            "customer_id": np.arange(100_001, 100_001 + rows),
            "signup_date": signup.strftime("%Y-%m-%d"),
            "age_years": age,
            "tenure_months": tenure,
            "monthly_spend_usd": spend,
            "support_calls_90d": calls,
            "region": region,
            "device": device,
            "contract": contract,
        }
    )
    frame[TARGETS[task]] = _target(frame, task, rng)

    # The flaws are planted after the target is computed: they hide information, as in life.
    for column, share in MISSING_SHARE.items():
        frame.loc[rng.random(rows) < share, column] = np.nan
    frame.loc[rng.random(rows) < UNKNOWN_CALLS_SHARE, "support_calls_90d"] = UNKNOWN_CALLS
    return frame


def _target(frame: pd.DataFrame, task: Task, rng: np.random.Generator) -> np.ndarray:
    """The target as a noisy function of the clean features."""
    rows = len(frame)
    month_to_month = (frame["contract"] == "month-to-month").to_numpy(dtype=float)
    two_year = (frame["contract"] == "two-year").to_numpy(dtype=float)
    tenure = frame["tenure_months"].to_numpy(dtype=float)
    calls = frame["support_calls_90d"].to_numpy(dtype=float)
    spend = frame["monthly_spend_usd"].to_numpy(dtype=float)
    mobile = (frame["device"] == "mobile").to_numpy(dtype=float)
    if task is Task.binary_classification:
        logit = -1.2 + 1.6 * month_to_month - 0.035 * tenure + 0.45 * calls - 0.8 * two_year
        return (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    if task is Task.multiclass_classification:
        score = 0.025 * (spend - 40.0) + 0.02 * tenure + 0.9 * two_year - 0.5 * mobile
        score = score + rng.normal(0.0, 0.6, size=rows)
        cuts = np.quantile(score, [0.45, 0.8])
        return np.asarray(PLAN_TIERS, dtype=object)[np.searchsorted(cuts, score)]
    value = 12.0 * spend * (1.0 - 0.3 * month_to_month) + 4.0 * tenure - 25.0 * calls
    return np.round(np.maximum(value + rng.normal(0.0, 60.0, size=rows), 0.0), 2)


def plant_drift(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A batch that drifted upstream, for ``make monitor`` to catch (P4): spend up 80 %
    (a price change), most new customers on two-year contracts (a campaign), and the device
    missing for a third of rows (a broken tracker). Every other column is left as it was."""
    rng = np.random.default_rng(seed)
    drifted = frame.copy()
    drifted["monthly_spend_usd"] = (drifted["monthly_spend_usd"] * 1.8).round(2)
    campaign = rng.random(len(drifted)) < 0.6
    drifted.loc[campaign, "contract"] = "two-year"
    broken = rng.random(len(drifted)) < 0.33
    drifted["device"] = drifted["device"].where(~broken)
    return drifted


def write_sample(
    path: str | Path,
    rows: int,
    seed: int,
    task: Task,
    labelled: bool = True,
    drifted: bool = False,
) -> Path:
    """Generate the sample and write it as CSV or Parquet (by the extension); without
    ``labelled``, the target column is left out, as in rows that arrive for scoring; with
    ``drifted``, :func:`plant_drift` is applied.

    Never overwrites a file it did not write: an existing ``path`` is replaced only when the
    manifest beside it records it, unchanged, as written by this generator (so a user's table
    that happens to sit there, or a sample someone edited, is never lost)."""
    path = Path(path)
    refuse_foreign(path)
    frame = generate(rows, seed, task)
    if not labelled:
        frame = frame.drop(columns=TARGETS[task])
    if drifted:
        frame = plant_drift(frame, seed)
    write_table(frame, path, "the sample's place, data/sample/")
    written = _manifest(path.parent)
    written[path.name] = _digest(path)
    write_text(path.parent / MANIFEST, json.dumps(written, indent=2, sort_keys=True) + "\n")
    return path


def refuse_foreign(path: Path) -> None:
    """Raise unless ``path`` is free or holds, unchanged, a file this generator wrote."""
    if path.exists() and _manifest(path.parent).get(path.name) != _digest(path):
        raise DataError(
            str(path),
            "written by the sample generator",
            "the file exists and was not written by `make data` (or was changed since); "
            "the generator never overwrites it: move it away to regenerate the sample",
        )


def _manifest(directory: Path) -> dict[str, str]:
    """File name -> digest of every file the generator wrote into ``directory``."""
    manifest = directory / MANIFEST
    return json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}


def _digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes (None for something that is not a regular file)."""
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()

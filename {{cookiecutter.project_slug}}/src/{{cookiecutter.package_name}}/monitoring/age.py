"""ML Test Score Mo4, the model is not too stale: how old the reference model is.

A model learns the world as it was when it was trained; the longer it serves, the further the
world has moved, whether or not a drift check has caught it yet. ``monitor`` reports the age
of its reference model (days since its training run ended) and flags it as a finding when it
exceeds ``monitor.max_model_age_days``: retrain, or raise the limit in review (P5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ModelAge:
    """The reference model's age in days, when it was trained (ISO 8601, with the offset from
    UTC) and the limit."""

    trained_at: str
    days: float
    max_days: float

    @property
    def stale(self) -> bool:
        return self.days > self.max_days

    def line(self) -> str:
        """One line for the console report: the age, and what to do when it is too old."""
        age = f"reference model trained {self.days:.1f} days ago ({self.trained_at})"
        if self.stale:
            return f"{age}, older than monitor.max_model_age_days={self.max_days:g}: retrain it"
        return f"{age}, within monitor.max_model_age_days={self.max_days:g}"


def model_age(trained: datetime, max_days: float, now: datetime | None = None) -> ModelAge:
    """The age at ``now`` (the current time unless given: tests pass a clock) of a model
    trained at ``trained`` (timezone-aware), against ``max_days``."""
    now = now or datetime.now().astimezone()
    days = (now - trained).total_seconds() / SECONDS_PER_DAY
    return ModelAge(trained.isoformat(timespec="seconds"), days, max_days)


def trained_at(run_id: str) -> datetime:
    """When the training run ``run_id`` ended (when it started, should it have no end), in the
    local time zone (``datetime.UTC`` is not in Python 3.10)."""
    import mlflow

    info = mlflow.MlflowClient(mlflow.get_tracking_uri()).get_run(run_id).info
    return datetime.fromtimestamp((info.end_time or info.start_time) / 1000).astimezone()

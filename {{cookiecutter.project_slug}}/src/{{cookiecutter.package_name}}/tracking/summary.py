"""What a person sees at the end of a run: the metrics and how to open them in MLflow."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from .store import resolve_tracking_uri


def print_metrics(metrics: dict[str, float], cfg: DictConfig, title: str | None = None) -> None:
    """Print ``metrics`` as an aligned table and the exact ``mlflow ui`` command for this store."""
    width = max(len(name) for name in metrics)
    print(f"\nMetrics ({title or cfg.model.name}, task {cfg.data.task.value}):")
    for name in sorted(metrics, key=lambda n: (not n.startswith("val/"), n)):
        print(f"  {name.ljust(width)}  {metrics[name]:.4f}")
    uri = resolve_tracking_uri(cfg.tracking.uri, Path(cfg.paths.root))
    if uri.startswith(("http://", "https://")):
        print(f"\nOpen them at:  {uri}")
    else:
        print(f"\nOpen them with:  mlflow ui --backend-store-uri {uri}")

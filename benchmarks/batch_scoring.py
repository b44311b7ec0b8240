"""Batch scoring, monitoring and validation of a large file: ``predict`` (pieces of
``predict.chunk_rows``) against loading the whole file and calling the MLflow pyfunc model once,
and ``monitor`` and ``validate`` (pieces of their ``chunk_rows``) on the whole file and on a
hundredth of it.

Run by ``run.py`` with the baked project's ``src`` on the path:
``batch_scoring.py <package> <rows> <repeats>``; prints JSON. It writes the sample,
trains a linear model into a throw-away store, and tiles the sample's new rows (and, for
``validate``, its labelled table) into Parquet files of ``rows`` rows (row groups of 100,000). Each case runs in a fresh process, so its peak
resident memory (``ru_maxrss``, imports included) is its own; rounds interleave the cases so
machine noise hits every case alike. The streamed stages also run on a tenth (predict) and a
hundredth (monitor, validate) of the rows: their peak memory must not grow with the file
(``validate`` keeps 8 bytes a row and a unique column to find repeats across pieces).
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def case(kind: str, package: str, store: str, source: str, output: str) -> None:
    """One scoring in this process; prints its wall seconds and peak RSS (MiB)."""
    start = time.perf_counter()
    if kind == "whole":
        import mlflow
        import pandas as pd

        mlflow.set_tracking_uri(store)
        model = mlflow.pyfunc.load_model(f"models:/{package}-bench@champion")
        model.predict(pd.read_parquet(source)).to_parquet(output, index=False)
    else:  # a stage of the project: predict, monitor or validate
        from hydra import compose, initialize_config_dir

        config = __import__(f"{package}.config", fromlist=["CONFIG_DIR"])
        stage = "predict" if kind == "stream" else kind
        run = getattr(__import__(f"{package}.{stage}", fromlist=[stage]), stage)
        reads = "data.path" if stage == "validate" else f"{stage}.input"
        overrides = [
            f"tracking.uri={store}",
            "tracking.experiment=bench",
            f"tracking.model_name={package}-bench",
            f"{reads}={source}",
            f"paths.output_dir={Path(output).parent / stage}",
        ]
        if stage == "predict":
            overrides.append(f"predict.output={output}")
        with initialize_config_dir(str(config.CONFIG_DIR), version_base="1.3"):
            run(compose(stage, overrides=overrides))
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mib": peak}))


def measured(kind: str, package: str, store: str, source: Path, output: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--case", kind, package, store, str(source), str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def tiled(batch: Path, rows: int, path: Path) -> None:
    """``rows`` rows made of copies of ``batch``, with unique ids, as Parquet."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.read_csv(batch)
    with pq.ParquetWriter(path, pa.Table.from_pandas(frame, preserve_index=False).schema) as out:
        for start in range(0, rows, 100_000):
            size = min(100_000, rows - start)
            piece = frame.iloc[np.arange(size) % len(frame)].reset_index(drop=True)
            piece[piece.columns[0]] = np.arange(start, start + size) + 1_000_000
            out.write_table(pa.Table.from_pandas(piece, preserve_index=False))


def main(package: str, rows: int, repeats: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    store = f"sqlite:///{work / 'mlflow.db'}"
    train = [
        sys.executable, "-m", f"{package}.train", f"tracking.uri={store}",
        "tracking.experiment=bench", f"tracking.model_name={package}-bench",
        "train.steps=200", f"paths.output_dir={work / 'train'}",
    ]  # fmt: skip
    for command in ([sys.executable, "-m", f"{package}.dataset"], train):
        subprocess.run(command, check=True, capture_output=True)
    root = Path(importlib.import_module(package).__file__).parents[2]  # src/<package>/..
    sample = root / "data" / "sample"
    files = {"all": work / "big.parquet", "tenth": work / "tenth.parquet"}
    files["hundredth"] = work / "hundredth.parquet"
    for path, share in zip(files.values(), (1, 10, 100), strict=True):
        tiled(sample / "new_batch.csv", max(rows // share, 1), path)
    for share, size in ((1, "table"), (100, "table-hundredth")):
        files[size] = work / f"{size}.parquet"
        tiled(sample / "sample.csv", max(rows // share, 1), files[size])
    cases = {  # name: (kind, file); the first two are timed against each other
        "whole file, pyfunc once": ("whole", "all"),
        "predict (pieces)": ("stream", "all"),
        "predict (pieces), a tenth of the rows": ("stream", "tenth"),
        "monitor (pieces)": ("monitor", "all"),
        "monitor (pieces), a hundredth of the rows": ("monitor", "hundredth"),
        "validate (pieces)": ("validate", "table"),
        "validate (pieces), a hundredth of the rows": ("validate", "table-hundredth"),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    peaks: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (kind, size) in cases.items():
            output = work / f"{kind}-{size}.parquet"
            result = measured(kind, package, store, files[size], output)
            samples[name].append(result["seconds"])
            peaks[name].append(result["peak_mib"])
    print(json.dumps({"samples": samples, "peaks": peaks, "rows": rows}))


if __name__ == "__main__":
    if sys.argv[1] == "--case":
        case(*sys.argv[2:7])
    else:
        main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

"""Read a table from CSV or Parquet, turning every way a file can be unreadable into a clear error.

Each error names the file and the check that failed, so a user never has to read a
pandas or pyarrow traceback to learn that a path is wrong or a file is not a CSV.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import DataError, first_line

READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: Path) -> str:
    """``csv`` or ``parquet``, from the extension; anything else names the file and fails."""
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(READERS))
        raise DataError(
            str(path), "file format", f"unsupported extension {path.suffix!r}; use {supported}"
        )
    return kind


def required_input(path: str | None, setting: str) -> Path:
    """The file a stage reads, named by the config key ``setting``; a clear error when unset
    (its default, the data config's ``new_rows``, is null for a table without new rows) or
    absent, before the stage spends time loading a model."""
    if not path:
        raise DataError(
            f"<{setting}>",
            "input file set",
            f"no file to read: pass {setting}=path/to/rows.csv, or set new_rows in the data config",
        )
    if not Path(path).exists():
        raise _no_such_file(Path(path), setting)
    return Path(path)


def _no_such_file(path: Path, setting: str) -> DataError:
    """The error for a path that does not exist, saying which config key to fix."""
    from .sample import SAMPLE_DIR

    hint = f"fix {setting}"
    if path.parent.parts[-2:] == SAMPLE_DIR.parts:
        hint = "the bundled sample is written by `make data`"
    return DataError(str(path), "file exists", f"no such file; {hint}")


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV or Parquet, whole or not at all: it goes to a hidden partial file
    first and is renamed into place, so a crash never leaves half a table at ``path``."""
    path = Path(path)
    kind = table_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if kind == "csv":
        frame.to_csv(partial, index=False)
    else:
        frame.to_parquet(partial, index=False)
    os.replace(partial, path)
    return path


def read_table(path: str | Path, setting: str = "data.path") -> pd.DataFrame:
    """Return the table at ``path``; raise :class:`DataError` naming the file and the check.

    ``setting`` is the config key that named the file, so a wrong path says what to fix."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise _no_such_file(path, setting)
    if not path.is_file():
        raise DataError(name, "is a file", "the path is a directory")
    kind = table_format(path)
    if path.stat().st_size == 0:
        raise DataError(name, "not empty", "the file is empty")
    try:
        frame = pd.read_csv(path, encoding="utf-8") if kind == "csv" else pd.read_parquet(path)
    except UnicodeDecodeError as err:
        raise DataError(name, "UTF-8 encoding", f"byte {err.start} is not valid UTF-8") from err
    except pd.errors.EmptyDataError as err:
        raise DataError(name, "not empty", "the file has no header and no rows") from err
    except (pd.errors.ParserError, ValueError, OSError) as err:
        raise DataError(name, f"readable {kind}", first_line(err)) from err
    if frame.empty:
        raise DataError(name, "has rows", "the file has a header but no data rows")
    return frame

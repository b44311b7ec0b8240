"""Read a table from CSV or Parquet, turning every way a file can be unreadable into a clear error.

Each error names the file and the check that failed, so a user never has to read a
pandas or pyarrow traceback to learn that a path is wrong or a file is not a CSV.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
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


def write_table(frame: pd.DataFrame, path: str | Path, setting: str = "predict.output") -> Path:
    """Write ``frame`` as CSV or Parquet, whole or not at all: it goes to a hidden partial file
    first and is renamed into place, so a crash never leaves half a table at ``path`` and the
    file already there stays as it was. Any failure (a read-only or full disk, a path that is a
    directory, a parent that is a file) is one :class:`DataError` naming the file and the config
    key ``setting``, and leaves no partial file behind."""
    path = Path(path)
    kind = table_format(path)

    def write(target: Path) -> None:
        if kind == "csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)

    atomic_write(path, write, setting)
    return path


def write_text(path: str | Path, text: str, setting: str = "paths.output_dir") -> Path:
    """Write ``text`` (UTF-8) whole or not at all, like :func:`write_table`."""
    path = Path(path)
    atomic_write(path, lambda target: target.write_text(text, encoding="utf-8"), setting)
    return path


def check_writable(path: Path, setting: str) -> None:
    """Refuse, before any work, an output path that is a directory or lies under a file."""
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if path.is_dir() or blocking is not None:
        why = "the path is a directory" if path.is_dir() else f"{blocking} is a file"
        raise DataError(str(path), "writable output", f"{why}; nothing was written (fix {setting})")


def atomic_write(
    path: Path, write: Callable[[Path], None], setting: str = "paths.output_dir"
) -> None:
    """Run ``write`` on a hidden partial file beside ``path``, then rename it into place; on any
    failure remove the partial file and raise one :class:`DataError` naming ``path``."""
    check_writable(path, setting)
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        os.replace(partial, path)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise DataError(
            str(path), "writable output", f"{reason}; nothing was written (fix {setting})"
        ) from err
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


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

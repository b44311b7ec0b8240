"""Read a table from CSV or Parquet, turning every way a file can be unreadable into a clear error.

Each error names the file and the check that failed, so a user never has to read a
pandas or pyarrow traceback to learn that a path is wrong or a file is not a CSV.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError

READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_table(path: str | Path) -> pd.DataFrame:
    """Return the table at ``path``; raise :class:`DataError` naming the file and the check."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise DataError(name, "file exists", "no such file; run `make data` or fix data.path")
    if not path.is_file():
        raise DataError(name, "is a file", "the path is a directory")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(READERS))
        raise DataError(
            name, "file format", f"unsupported extension {path.suffix!r}; use {supported}"
        )
    if path.stat().st_size == 0:
        raise DataError(name, "not empty", "the file is empty")
    try:
        frame = pd.read_csv(path, encoding="utf-8") if kind == "csv" else pd.read_parquet(path)
    except UnicodeDecodeError as err:
        raise DataError(name, "UTF-8 encoding", f"byte {err.start} is not valid UTF-8") from err
    except pd.errors.EmptyDataError as err:
        raise DataError(name, "not empty", "the file has no header and no rows") from err
    except (pd.errors.ParserError, ValueError, OSError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(name, f"readable {kind}", first_line) from err
    if frame.empty:
        raise DataError(name, "has rows", "the file has a header but no data rows")
    return frame

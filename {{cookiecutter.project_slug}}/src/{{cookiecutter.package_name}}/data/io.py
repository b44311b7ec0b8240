"""Read a table from CSV or Parquet, turning every way a file can be unreadable into a clear error.

Each error names the file and the check that failed, so a user never has to read a
pandas or pyarrow traceback to learn that a path is wrong or a file is not a CSV.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
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
    return write_tables([frame], path, setting)


def write_tables(
    frames: Iterable[pd.DataFrame], path: str | Path, setting: str = "predict.output"
) -> Path:
    """:func:`write_table` for a table that arrives in pieces (``predict`` on a large file): each
    is appended to the partial file as it comes, so memory holds one piece at a time, and the
    file appears at ``path`` only once the last piece is written. An error raised while the
    pieces are made (a chunk that breaks the contract) leaves nothing behind either."""
    path = Path(path)
    kind = table_format(path)

    def write(target: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet: pq.ParquetWriter | None = None
        try:
            for number, frame in enumerate(frames):
                if kind == "csv":
                    frame.to_csv(
                        target, index=False, mode="a" if number else "w", header=not number
                    )
                    continue
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if parquet is None:
                    parquet = pq.ParquetWriter(target, table.schema)
                parquet.write_table(table.cast(parquet.schema))
        finally:
            if parquet is not None:
                parquet.close()

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


def _readable(path: Path, setting: str) -> str:
    """The table's format, once the file is known to exist, be a file and not be empty."""
    if not path.exists():
        raise _no_such_file(path, setting)
    if not path.is_file():
        raise DataError(str(path), "is a file", "the path is a directory")
    kind = table_format(path)
    if path.stat().st_size == 0:
        raise DataError(str(path), "not empty", "the file is empty")
    return kind


@contextlib.contextmanager
def _reading(path: Path, kind: str) -> Iterator[None]:
    """What pandas and pyarrow raise on a bad file, as one :class:`DataError` naming it."""
    name = str(path)
    try:
        yield
    except UnicodeDecodeError as err:
        raise DataError(name, "UTF-8 encoding", f"byte {err.start} is not valid UTF-8") from err
    except pd.errors.EmptyDataError as err:
        raise DataError(name, "not empty", "the file has no header and no rows") from err
    except (pd.errors.ParserError, ValueError, OSError) as err:
        raise DataError(name, f"readable {kind}", first_line(err)) from err


def read_table(path: str | Path, setting: str = "data.path") -> pd.DataFrame:
    """Return the table at ``path``; raise :class:`DataError` naming the file and the check.

    ``setting`` is the config key that named the file, so a wrong path says what to fix."""
    path = Path(path)
    kind = _readable(path, setting)
    with _reading(path, kind):
        frame = pd.read_csv(path, encoding="utf-8") if kind == "csv" else pd.read_parquet(path)
    if frame.empty:
        raise DataError(str(path), "has rows", "the file has a header but no data rows")
    return frame


def read_chunks(path: str | Path, rows: int, setting: str = "data.path") -> Iterator[pd.DataFrame]:
    """The table at ``path`` in pieces of at most ``rows`` rows (Parquet record batches, CSV
    chunks), each indexed by its rows' positions in the file, with :func:`read_table`'s errors:
    memory holds one piece, whatever the file's size."""
    path = Path(path)
    kind = _readable(path, setting)
    start = 0
    with _reading(path, kind):
        if kind == "csv":
            pieces: Iterator[pd.DataFrame] = pd.read_csv(path, encoding="utf-8", chunksize=rows)
        else:
            import pyarrow.parquet as pq

            batches = pq.ParquetFile(path).iter_batches(batch_size=rows)
            pieces = (batch.to_pandas() for batch in batches)
        for piece in pieces:
            piece.index = pd.RangeIndex(start, start + len(piece))
            start += len(piece)
            if len(piece):
                yield piece
    if start == 0:
        raise DataError(str(path), "has rows", "the file has a header but no data rows")

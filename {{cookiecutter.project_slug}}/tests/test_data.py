"""P2: the sample data is deterministic and flawed on purpose; reading and splitting are exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import (
    SplitConfig,
    Task,
)
from {{ cookiecutter.package_name }}.data import (
    sample,
)
from {{ cookiecutter.package_name }}.data.io import (
    read_chunks,
    read_table,
)
from {{ cookiecutter.package_name }}.data.schema import (
    ColumnSpec,
    Role,
    SchemaSpec,
)
from {{ cookiecutter.package_name }}.data.split import (
    split_frame,
)
from {{ cookiecutter.package_name }}.dataset import (
    write_samples,
)
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
    DataError,
)

TASKS = list(Task)
SPEC = SchemaSpec()  # no declared ids: the leakage check compares whole rows


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.value)
def test_generator_is_deterministic(task: Task) -> None:
    """The same rows, seed and task give an identical table; another seed does not."""
    first = sample.generate(300, seed=7, task=task)
    pd.testing.assert_frame_equal(first, sample.generate(300, seed=7, task=task))
    assert not first.equals(sample.generate(300, seed=8, task=task))


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.value)
def test_sample_carries_its_documented_flaws(task: Task) -> None:
    """F1 rare category, F3 magic value and missing values are where data/README.md says."""
    frame = sample.generate(2000, seed=0, task=task)
    assert (frame["region"] == sample.RARE_REGION).sum() == sample.RARE_REGION_ROWS < 5
    calls = frame["support_calls_90d"]
    assert 0.04 < (calls == sample.UNKNOWN_CALLS).mean() < 0.12
    assert (calls[calls != sample.UNKNOWN_CALLS] >= 0).all()
    for column in sample.MISSING_SHARE:
        assert 0 < frame[column].isna().sum() < 0.1 * len(frame), column
    assert frame["customer_id"].is_unique
    assert frame[sample.TARGETS[task]].notna().all()


def test_targets_fit_their_task() -> None:
    """Binary is 0/1, multiclass has the three tiers, regression is a non-negative amount."""
    binary = sample.generate(500, 0, Task.binary_classification)["churned"]
    assert set(binary.unique()) == {0, 1}
    tiers = sample.generate(500, 0, Task.multiclass_classification)["plan_tier"]
    assert set(tiers.unique()) == set(sample.PLAN_TIERS)
    spend = sample.generate(500, 0, Task.regression)["next_year_spend_usd"]
    assert spend.dtype.kind == "f" and (spend >= 0).all() and spend.nunique() > 400


def test_written_sample_reads_back_identically(small_sample: Callable[..., Path]) -> None:
    """The CSV round trip keeps values, so tests and `make data` see the same table."""
    path = small_sample()
    again = small_sample()
    assert path.read_bytes() == again.read_bytes()
    frame = read_table(path)
    assert len(frame) == 400 and "customer_id" in frame


def test_make_data_writes_only_the_sample_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make data`` writes its three files into data/sample/ and nowhere else, whatever data
    the project is set to (it never reads data.path), and can run again over its own files."""
    monkeypatch.setenv("PROJECT_ROOT", str(tmp_path))
    own = tmp_path / "data" / "raw" / "mine.csv"
    own.parent.mkdir(parents=True)
    own.write_text("a,b\n1,2\n")
    first = write_samples(rows=50, seed=0, batch_rows=20)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in first) == [
        "data/sample/drifted_batch.csv",
        "data/sample/new_batch.csv",
        "data/sample/sample.csv",
    ]
    again = write_samples(rows=50, seed=0, batch_rows=20)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in first]
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"data/raw/mine.csv", "data/sample/.generated.json"} | {
        p.relative_to(tmp_path).as_posix() for p in first
    }
    assert own.read_text() == "a,b\n1,2\n"


@pytest.mark.parametrize("foreign", ["not written by it", "edited since"])
def test_the_generator_never_overwrites_a_file_it_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, foreign: str
) -> None:
    """A table the generator did not write (or one of its files edited since) is refused by
    name, byte for byte untouched, and no other sample file is written either."""
    monkeypatch.setenv("PROJECT_ROOT", str(tmp_path))
    directory = tmp_path / "data" / "sample"
    if foreign == "edited since":
        write_samples(rows=50, seed=0, batch_rows=20)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "drifted_batch.csv").write_text("my,own\n1,2\n")
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    with pytest.raises(DataError, match=r"drifted_batch\.csv") as caught:
        write_samples(rows=50, seed=0, batch_rows=20)
    assert caught.value.check == "written by the sample generator"
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    """A Parquet copy of the sample reads back to the same table as the CSV."""
    csv = sample.write_sample(tmp_path / "s.csv", 100, 0, Task.regression)
    parquet = sample.write_sample(tmp_path / "s.parquet", 100, 0, Task.regression)
    pd.testing.assert_frame_equal(read_table(csv), read_table(parquet), check_dtype=False)


@pytest.mark.parametrize(
    ("name", "content", "check"),
    [
        ("missing.csv", None, "file exists"),
        ("empty.csv", b"", "not empty"),
        ("header_only.csv", b"a,b,c\n", "has rows"),
        ("latin1.csv", "name\ncaf\xe9\n".encode("latin-1"), "UTF-8 encoding"),
        ("table.xlsx", b"PK\x03\x04", "file format"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n", "readable csv"),
    ],
)
def test_unreadable_files_raise_clear_errors(
    tmp_path: Path, name: str, content: bytes | None, check: str
) -> None:
    """Every unreadable input names the file and the failed check, never a parser traceback."""
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_table(path)
    assert caught.value.check == check
    assert str(path) in str(caught.value) and check in str(caught.value)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.value)
def test_split_is_deterministic_disjoint_and_complete(task: Task) -> None:
    """Same seed, same split; the parts share no row and together hold every row."""
    frame = sample.generate(600, 0, task)
    target = sample.TARGETS[task]
    cfg = SplitConfig(val_fraction=0.2, test_fraction=0.2, seed=3)
    first, second = (
        split_frame(frame, SPEC, target, task, cfg),
        split_frame(frame, SPEC, target, task, cfg),
    )
    ids = [set(part["customer_id"]) for part in (first.train, first.val, first.test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert len(ids[0] | ids[1] | ids[2]) == len(frame)
    assert list(first.val["customer_id"]) == list(second.val["customer_id"])
    assert len(first.test) == 120 and len(first.val) == 120
    other = split_frame(frame, SPEC, target, task, SplitConfig(0.2, 0.2, seed=4))
    assert list(other.val["customer_id"]) != list(first.val["customer_id"])


@pytest.mark.parametrize("task", [Task.binary_classification, Task.multiclass_classification])
def test_classification_split_is_stratified(task: Task) -> None:
    """Class shares in validation and test stay within a point of the full table's."""
    frame = sample.generate(3000, 0, task)
    target = sample.TARGETS[task]
    splits = split_frame(frame, SPEC, target, task, SplitConfig())
    overall = frame[target].value_counts(normalize=True)
    for part in (splits.train, splits.val, splits.test):
        shares = part[target].value_counts(normalize=True)
        assert (shares - overall).abs().max() < 0.01


def test_bad_split_fractions_are_refused() -> None:
    """Fractions that leave no training data are a configuration error, not a crash later."""
    frame = sample.generate(100, 0, Task.regression)
    with pytest.raises(ConfigError, match="val_fraction"):
        split_frame(frame, SPEC, "next_year_spend_usd", Task.regression, SplitConfig(0.6, 0.5))


def test_time_split_trains_on_the_past_and_tests_on_the_future() -> None:
    """With a time column, every training row is older than every validation row, and every
    validation row older than every test row; the seed plays no part."""
    frame = sample.generate(600, 0, Task.regression)
    cfg = SplitConfig(0.2, 0.2, seed=1, time_column="signup_date")
    splits = split_frame(frame, SPEC, "next_year_spend_usd", Task.regression, cfg)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (360, 120, 120)
    assert splits.train["signup_date"].max() <= splits.val["signup_date"].min()
    assert splits.val["signup_date"].max() <= splits.test["signup_date"].min()
    again = split_frame(
        frame,
        SPEC,
        "next_year_spend_usd",
        Task.regression,
        SplitConfig(0.2, 0.2, seed=9, time_column="signup_date"),
    )
    assert list(again.test["customer_id"]) == list(splits.test["customer_id"])


def test_a_row_in_two_splits_is_refused() -> None:
    """The same row under two ids is leakage: the split is refused, naming the check."""
    frame = sample.generate(300, 0, Task.regression)
    copies = frame.iloc[:40].assign(customer_id=frame["customer_id"].max() + 1 + pd.RangeIndex(40))
    leaky = pd.concat([frame, copies], ignore_index=True)
    spec = SchemaSpec(columns={"customer_id": ColumnSpec("id", role=Role.id)})
    with pytest.raises(DataError, match="no row in two splits") as caught:
        split_frame(leaky, spec, "next_year_spend_usd", Task.regression, SplitConfig(0.3, 0.3))
    assert "identical row(s)" in str(caught.value)
    spec.allow_duplicate_rows = True
    split_frame(leaky, spec, "next_year_spend_usd", Task.regression, SplitConfig(0.3, 0.3))


def test_a_table_read_in_pieces_is_the_table(tmp_path: Path) -> None:
    """``read_chunks`` gives the whole table, CSV or Parquet (row groups smaller and larger
    than a piece), each piece indexed by its rows' places in the file; a table with a header
    and no rows is the same error as for ``read_table``."""
    frame = pd.DataFrame({"id": range(23), "value": [float(i) / 3 for i in range(23)]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False, row_group_size=4)
    for name in ("t.csv", "t.parquet"):
        pieces = list(read_chunks(tmp_path / name, 5))
        assert [len(piece) for piece in pieces] == [5, 5, 5, 5, 3]
        pd.testing.assert_frame_equal(pd.concat(pieces), frame)
    frame.head(0).to_csv(tmp_path / "empty.csv", index=False)
    with pytest.raises(DataError, match=r"empty\.csv: check 'has rows' failed"):
        list(read_chunks(tmp_path / "empty.csv", 5))

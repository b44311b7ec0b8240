"""P2: every stage validates its input against the schema and reports every problem at once.

Each bad input names the file, the column and the check; the CLI exits 2 and the MLflow run is
FAILED with the report attached.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
    Task,
)
from {{ cookiecutter.package_name }}.data import (
    sample,
)
from {{ cookiecutter.package_name }}.data.io import (
    read_chunks,
    read_table,
)
from {{ cookiecutter.package_name }}.data.load import (
    Fingerprinter,
    Inspection,
    Source,
)
from {{ cookiecutter.package_name }}.data.report import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.data.schema import (
    ColumnSpec,
    Kind,
    PipelineError,
    Role,
    SchemaSpec,
    load_contract,
    load_schema,
)
from {{ cookiecutter.package_name }}.data.table_checks import (
    target_problems,
)
from {{ cookiecutter.package_name }}.data.validation import (
    validate_frame,
)
from {{ cookiecutter.package_name }}.errors import (
    exit_bad_input,
)
from {{ cookiecutter.package_name }}.training.distributed import (
    Unrecorded,
)
from {{ cookiecutter.package_name }}.validate import (
    main,
    validate,
)

SCHEMA = CONFIG_DIR.parent / "schemas" / "sample.yaml"


@pytest.fixture
def clean(small_sample: Callable[..., Path]) -> pd.DataFrame:
    return pd.read_csv(small_sample())


@pytest.fixture
def contract(compose_cfg: Callable[..., DictConfig]):
    cfg = compose_cfg()
    return load_contract(cfg.data.schema, cfg.data.target, cfg.data.task)


def problems(frame: pd.DataFrame, contract, serving: bool = False) -> dict[tuple, object]:
    """(column, check) of every failure, validating ``frame`` as file ``f.csv``."""
    _, report = validate_frame(frame, contract, "f.csv", serving=serving)
    return {(p.column, p.check): p for p in report.failures}


def test_sample_data_passes(clean: pd.DataFrame, contract) -> None:
    """The shipped sample honours the shipped schema, with no warning (its -1 is declared)."""
    _, report = validate_frame(clean, contract, "sample.csv")
    assert report.ok, report.render()
    assert report.warnings == []


def test_missing_column(clean: pd.DataFrame, contract) -> None:
    assert ("contract", "column present") in problems(clean.drop(columns=["contract"]), contract)


def test_unexpected_column_fails_when_strict_and_is_reported_when_not(
    clean: pd.DataFrame, contract
) -> None:
    extra = clean.assign(favourite_colour="blue")
    assert ("favourite_colour", "no unexpected column") in problems(extra, contract)
    contract.strict = False
    _, report = validate_frame(extra, contract, "f.csv")
    assert report.ok
    assert [w.column for w in report.warnings] == ["favourite_colour"]


def test_text_in_a_numeric_column(clean: pd.DataFrame, contract) -> None:
    frame = clean.astype({"tenure_months": object})
    frame.loc[5, "tenure_months"] = "ten"
    found = problems(frame, contract)
    problem = found[("tenure_months", "integer values")]
    assert problem.examples == ["'ten'"]
    assert len(found) == 1, "follow-on checks on a mistyped column are not repeated"


def test_target_problems(clean: pd.DataFrame, contract) -> None:
    """Missing target values and undeclared classes (or negative amounts) are both caught."""
    target = next(n for n, c in contract.columns.items() if c.role.value == "target")
    frame = clean.astype({target: object})
    frame.loc[[1, 2], target] = np.nan
    is_class = contract.columns[target].categories is not None
    frame.loc[3, target] = "unknown_class" if is_class else -5.0
    found = problems(frame, contract)
    assert found[(target, "not_nullable")].rows == 2
    assert any(column == target and check != "not_nullable" for column, check in found)


def test_out_of_range_inf_and_unseen_category(clean: pd.DataFrame, contract) -> None:
    frame = clean.copy()
    frame.loc[1, "age_years"] = 150.0
    frame.loc[2, "monthly_spend_usd"] = np.inf
    frame.loc[3, "region"] = "atlantis"
    found = problems(frame, contract)
    assert found[("age_years", "in_range[18.0, 90.0]")].examples == ["150.0"]
    assert ("monthly_spend_usd", "finite") in found
    assert any(col == "region" and "isin" in check for col, check in found)


def test_declared_magic_value_passes_and_undeclared_spike_warns(
    clean: pd.DataFrame, contract
) -> None:
    """F3: the declared -1 is allowed; a spike of 999 in another column is reported by count."""
    frame = clean.copy()
    frame.loc[frame.index[:40], "tenure_months"] = 999
    contract.columns["tenure_months"].max = None  # only the spike warning is under test
    _, report = validate_frame(frame, contract, "f.csv")
    assert report.ok
    (warning,) = report.warnings
    assert warning.column == "tenure_months"
    assert warning.rows == 40
    assert "999" in warning.check


def test_duplicate_rows(clean: pd.DataFrame, contract) -> None:
    frame = pd.concat([clean, clean.iloc[[7]]], ignore_index=True)
    found = problems(frame, contract)
    assert found[(None, "no_duplicate_rows")].rows == 1
    assert ("customer_id", "field_uniqueness") in found


def test_examples_look_like_the_data(clean: pd.DataFrame, contract) -> None:
    """An id read as float (a gap in the column) is shown as the file has it, ``100005`` not
    ``100005.0``; a constant column shows its value, not the check's ``False``; a report's
    further lines keep their own label when printed as an error."""
    frame = pd.concat([clean, clean.iloc[[7]]], ignore_index=True)
    frame.loc[3, "customer_id"] = np.nan
    frame["contract"] = "two-year"
    found = problems(frame, contract)
    (duplicate,) = found[("customer_id", "field_uniqueness")].examples
    assert duplicate == str(clean["customer_id"].iloc[7])
    assert found[("contract", "not_constant")].examples == ["'two-year' (every row)"]


def found_in(report) -> dict[tuple, tuple]:
    """Every failure and warning of ``report``: (kind, column, check) -> (rows, examples)."""
    return {
        (kind, p.column, p.check): (p.rows, p.examples)
        for kind, listed in (("failure", report.failures), ("warning", report.warnings))
        for p in listed
    }


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_read_in_pieces_gets_the_whole_tables_report(
    clean: pd.DataFrame,
    contract,
    compose_cfg: Callable[..., DictConfig],
    tmp_path: Path,
    suffix: str,
) -> None:
    """Issue 12: ``validate`` reads a large file in pieces, and the table checks see across them:
    a row and an id repeated 397 rows apart, a column constant in every piece, a magic value
    too rare in any piece of 7 (one row at most) but 2 % of the whole file, a bad value in
    the last piece. Pieces of 7 rows give exactly the whole table's report."""
    frame = pd.concat([clean, clean.iloc[[3]]], ignore_index=True)
    frame["contract"] = "two-year"
    frame.loc[frame.index[1::50], "tenure_months"] = 999
    frame.loc[398, "age_years"] = 150.0
    contract.columns["tenure_months"].max = None
    path = tmp_path / f"table{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    source = Source(path, "validate", task=compose_cfg().data.task)

    def report(rows: int | None):
        inspection = Inspection(source, contract, Unrecorded(), rows)
        assert sum(len(piece) for piece in inspection) == len(frame)
        return inspection.report

    whole, pieces = report(None), report(7)
    assert found_in(pieces) == found_in(whole)
    assert pieces.rows == whole.rows == len(frame)
    found = found_in(whole)
    assert found["failure", None, "no_duplicate_rows"] == (1, ["row 400"])
    id_examples = [str(clean["customer_id"].iloc[3])]
    assert found["failure", "customer_id", "field_uniqueness"] == (2, id_examples)
    assert found["failure", "contract", "not_constant"] == (0, ["'two-year' (every row)"])
    (too_old,) = [key for key in found if key[1] == "age_years"]
    assert too_old[0] == "failure" and too_old[2].startswith("in_range")
    assert found[too_old] == (1, ["150.0"])
    (spike,) = [key for key in found if key[1] == "tenure_months"]
    assert spike[0] == "warning" and found[spike] == (8, ["999"])


def test_a_category_read_as_numbers_in_one_piece_and_text_in_another_is_one_category(
    tmp_path: Path,
) -> None:
    """A CSV column of codes (``1``, ``2``, ``A``) reads as text whole, but a piece holding only
    digits reads as numbers: categories compare as labels, so pieces of 5 pass like the whole
    file, and a truly unknown code (``B``) fails both, the same rows counted."""
    spec = SchemaSpec(
        {
            "code": ColumnSpec("a code", Kind.category, categories=["1", "2", "A"]),
            "x": ColumnSpec("a number", Kind.float),
        }
    )
    codes = ["1", "2"] * 10 + ["A", "1"] * 10
    path = tmp_path / "codes.csv"

    def found(rows: int | None) -> dict[tuple, tuple]:
        inspection = Inspection(Source(path, "validate"), spec, Unrecorded(), rows)
        for _ in inspection:
            pass
        return found_in(inspection.report)

    pd.DataFrame({"code": codes, "x": np.arange(40.0)}).to_csv(path, index=False)
    assert pd.read_csv(path, nrows=5)["code"].dtype.kind in "iu"  # what a digits-only piece is
    assert found(5) == found(None) == {}
    pd.DataFrame({"code": [*codes[:-1], "B"], "x": np.arange(40.0)}).to_csv(path, index=False)
    assert found(5) == found(None)
    ((kind, column, check),) = found(None)
    assert (kind, column, found(None)[kind, column, check]) == ("failure", "code", (1, ["'B'"]))


def test_a_files_fingerprint_is_the_same_whole_or_in_pieces(
    clean: pd.DataFrame, tmp_path: Path
) -> None:
    """F4: whole numbers with a gap only in the last piece read as int64 in the other pieces
    and float64 whole; the fingerprint (columns with types, digest) is the whole file's either
    way, so ``validate`` in pieces reports no type change against the run that trained on it."""
    frame = clean.copy()
    frame["tenure_months"] = frame["tenure_months"].astype("Int64")  # written 12, not 12.0
    frame.loc[len(frame) - 1, "tenure_months"] = pd.NA
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    pieces = Fingerprinter()
    for piece in read_chunks(path, 7):
        pieces.add(piece)
    whole = Fingerprinter().add(read_table(path)).result()
    assert next(read_chunks(path, 7))["tenure_months"].dtype == np.int64
    assert whole["columns"]["tenure_months"] == "float64"
    assert pieces.result() == whole


def test_only_the_first_line_of_a_report_is_marked_as_the_error(
    clean: pd.DataFrame, contract, capsys: pytest.CaptureFixture[str]
) -> None:
    """Printed for the user, a report is one ``error:`` line followed by its own ``failure:``
    and ``warning:`` lines, never ``error:   warning:``."""
    frame = clean.copy()
    frame.loc[1, "age_years"] = 150.0
    frame.loc[frame.index[:40], "tenure_months"] = 999
    contract.columns["tenure_months"].max = None
    with pytest.raises(SystemExit):
        exit_bad_input(DataValidationError(validate_frame(frame, contract, "f.csv")[1]))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("error: Validation of f.csv")
    assert any(line.startswith("  failure: f.csv: column 'age_years'") for line in lines)
    assert any(line.startswith("  warning: f.csv: column 'tenure_months'") for line in lines)
    assert not any(line.startswith("error:") for line in lines[1:])


def test_many_problems_are_reported_at_once(clean: pd.DataFrame, contract) -> None:
    frame = clean.drop(columns=["device"]).assign(extra=1)
    frame.loc[1, "age_years"] = -3.0
    frame.loc[2, "contract"] = "lifetime"
    rendered = str(DataValidationError(validate_frame(frame, contract, "f.csv")[1]))
    for needle in ("device", "extra", "age_years", "contract", "f.csv: column"):
        assert needle in rendered
    assert rendered.count("failure:") == 4


def test_serving_form_needs_no_target(clean: pd.DataFrame, contract) -> None:
    target = next(n for n, c in contract.columns.items() if c.role.value == "target")
    assert problems(clean.drop(columns=[target]), contract, serving=True) == {}
    assert (target, "column present") in problems(clean.drop(columns=[target]), contract)


def test_parquet_input_validates_like_csv(clean: pd.DataFrame, contract, tmp_path: Path) -> None:
    clean.to_parquet(tmp_path / "f.parquet", index=False)
    _, report = validate_frame(read_table(tmp_path / "f.parquet"), contract, "f.parquet")
    assert report.ok, report.render()


def test_schema_typo_fails_naming_the_key_and_the_column(tmp_path: Path) -> None:
    """A misspelt key in the schema YAML fails loudly, like a config typo, naming the column
    whose entry holds it (the first nullable column of the sample's schema is ``age_years``)."""
    bad = tmp_path / "schema.yaml"
    bad.write_text(SCHEMA.read_text().replace("nullable: true", "nulable: true", 1))
    with pytest.raises(PipelineError, match="nulable") as caught:
        load_schema(bad)
    assert caught.value.column == "age_years"


def test_a_column_without_a_description_is_refused(tmp_path: Path) -> None:
    """F2, ML Test Score D4: every column of the contract says what it means; a schema with a
    column whose description was left out is refused naming that column and the key."""
    bad = tmp_path / "schema.yaml"
    bad.write_text(SCHEMA.read_text().replace("    description: Customer age\n", "", 1))
    assert bad.read_text() != SCHEMA.read_text()
    with pytest.raises(PipelineError, match="description") as caught:
        load_schema(bad)
    assert caught.value.column == "age_years"


@pytest.mark.parametrize("task", list(Task), ids=lambda t: t.value)
def test_a_target_that_does_not_fit_the_task_is_named(
    tmp_path: Path, task: Task, compose_cfg: Callable[..., DictConfig]
) -> None:
    """A binary task on a 3-class target is refused naming the classes found; a multiclass task
    on a single class too; a regression target of a few whole values is warned about."""
    frame = pd.DataFrame({"x": np.arange(60.0), "y": np.arange(60) % 3})
    spec = SchemaSpec(
        columns={
            "x": ColumnSpec("a number"),
            "y": ColumnSpec("the label", kind=Kind.integer, role=Role.target),
        }
    )
    if task is Task.multiclass_classification:
        frame["y"] = 1
    failures, warnings = target_problems(frame, spec, task)
    if task is Task.regression:
        assert failures == [] and warnings[0].column == "y"
        assert warnings[0].examples == ["0", "1", "2"] and "classification" in warnings[0].check
        return
    (failure,) = failures
    assert failure.column == "y" and warnings == []
    assert failure.examples == (["0", "1", "2"] if task.value.startswith("binary") else ["1"])
    assert task.value in failure.check


def test_validate_refuses_a_binary_task_on_three_classes(
    compose_cfg: Callable[..., DictConfig], tmp_path: Path
) -> None:
    """The stage, end to end: ``data.task=binary_classification`` on a 3-class target exits
    through a validation failure that names the target and its classes."""
    frame = sample.generate(200, 0, Task.multiclass_classification)
    path = tmp_path / "tiers.csv"
    frame.to_csv(path, index=False)
    contract = OmegaConf.load(SCHEMA)
    for name in [n for n, c in contract.columns.items() if c.get("role") == "target"]:
        del contract.columns[name]
    contract.columns.plan_tier = {"description": "tier", "kind": "category", "role": "target"}
    schema = tmp_path / "tiers.yaml"
    OmegaConf.save(contract, schema)
    cfg = compose_cfg(
        f"data.path={path}",
        f"data.schema={schema}",
        "data.task=binary_classification",
        "data.target=plan_tier",
        stage="validate",
    )
    with pytest.raises(DataValidationError) as caught:
        validate(cfg)
    (failure,) = caught.value.report.failures
    assert failure.column == "plan_tier" and "2 classes" in failure.check
    assert failure.examples == ["basic", "premium", "standard"]


def test_validate_names_every_unknown_slice_column(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """M6: ``data.slices`` naming columns the contract lacks fails ``validate`` (not only
    ``train``), naming all of them, and the run is FAILED."""
    cfg = compose_cfg(
        f"data.path={small_sample()}", "data.slices=[region,colour,size]", stage="validate"
    )
    with pytest.raises(PipelineError, match="'colour', 'size'") as caught:
        validate(cfg)
    assert caught.value.check == "slice column declared"
    assert only_run(cfg).info.status == "FAILED"


def test_validate_stage_records_a_failed_run_and_exits_2(
    compose_cfg: Callable[..., DictConfig],
    clean: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """``validate`` on bad data: exit 2, every problem on stderr, a FAILED run with the report,
    and the JSON report next to the run log."""
    clean.loc[1, "age_years"] = 150.0
    clean.loc[2, "region"] = "atlantis"
    bad = tmp_path / "bad.csv"
    clean.to_csv(bad, index=False)
    cfg = compose_cfg(f"data.path={bad}", stage="validate")
    with pytest.raises(SystemExit) as exited:
        main.__wrapped__(cfg)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"{bad}: column 'age_years'" in err
    assert f"{bad}: column 'region'" in err
    assert Path(cfg.paths.output_dir, "validation.json").exists()
    run = only_run(cfg)
    assert run.info.status == "FAILED"
    assert run.data.tags["stage"] == "validate"
    assert run.data.metrics["validation/failures"] == 2


def test_validate_stage_passes_on_the_sample(
    compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path]
) -> None:
    cfg = compose_cfg(f"data.path={small_sample()}", stage="validate")
    assert "passed" in validate(cfg)


def test_schema_change_since_training_is_reported_by_name(
    compose_cfg: Callable[..., DictConfig],
    tmp_path: Path,
    champion: tuple,
    champion_run: mlflow.entities.Run,
) -> None:
    """F4: validating new data against the run a model was trained on (the session's champion)
    names the new, missing and retyped columns."""
    compose, _ = champion
    changed = pd.read_csv(compose().data.path).drop(columns=["device"]).assign(loyalty_points=1)
    changed["tenure_months"] = changed["tenure_months"].astype(float)
    changed_path = tmp_path / "changed.csv"
    changed.to_csv(changed_path, index=False)
    later = compose_cfg(
        f"data.path={changed_path}",
        f"data.reference_run={champion_run.info.run_id}",
        stage="validate",
    )
    with pytest.raises(DataValidationError) as caught:
        validate(later)
    warnings = " | ".join(w.check for w in caught.value.report.schema_changes)
    assert "new column 'loyalty_points'" in warnings
    assert "missing column 'device'" in warnings
    assert "column 'tenure_months' changed type: int64 -> float64" in warnings

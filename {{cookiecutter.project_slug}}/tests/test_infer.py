"""``make infer-schema``: a drafted contract and data config a person only has to review (P2, P5).

On scikit-learn's bundled tables (offline) and the project's own sample: the target is drafted
as a target and the task is proposed from it; a magic value is proposed only when it is
frequent and far outside the rest of its column, by the rule validation warns with (F3); the
drafted ranges hold for a normal new batch; descriptions left as FILL IN are named (F2); the
CLI writes both files, never over one, and what it writes composes and is accepted by
``use_data``.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from sklearn import datasets

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
    HYDRA_VERSION_BASE,
    Task,
)
from {{ cookiecutter.package_name }}.data.infer import (
    draft,
    draft_spec,
    render_draft,
)
from {{ cookiecutter.package_name }}.data.sample import (
    TARGETS,
    generate,
)
from {{ cookiecutter.package_name }}.data.schema import (
    Kind,
    Role,
    load_contract,
    load_schema,
)
from {{ cookiecutter.package_name }}.data.validation import (
    PLACEHOLDER,
    validate_frame,
)
from {{ cookiecutter.package_name }}.infer_schema import (
    main,
)
from {{ cookiecutter.package_name }}.use_data import (
    DATA_ENTRY,
    use_data,
)

SAMPLE_TASK = Task.binary_classification


def bundled(name: str) -> pd.DataFrame:
    """A table scikit-learn ships (no download), with its label as column ``target``."""
    loader = getattr(datasets, f"load_{name}")
    return loader(as_frame=True, **({"scaled": False} if name == "diabetes" else {})).frame


def sample(rows: int = 1000) -> pd.DataFrame:
    return generate(rows, 0, SAMPLE_TASK)


def magic_warnings(frame: pd.DataFrame, spec) -> dict[str, str]:
    """Column -> check of every magic-value warning validation gives."""
    _, report = validate_frame(frame, spec, "f.csv")
    return {w.column: w.check for w in report.warnings if "magic value" in w.check}


def test_wine_target_is_drafted_as_a_three_class_target() -> None:
    """Issue 9: wine's class 0 was drafted as `kind: integer, min: 1, max: 2` and called
    'unknown'. The target is a category with the classes found, no range, no magic values."""
    result = draft(bundled("wine"), "target")
    target = result.spec.columns["target"]
    assert result.task is Task.multiclass_classification
    assert (target.role, target.kind, target.categories) == (Role.target, Kind.category, [0, 1, 2])
    assert (target.min, target.max, target.magic_values) == (None, None, None)
    assert result.reason.startswith("3 classes found: 0, 1, 2")


@pytest.mark.parametrize(
    ("table", "task", "kind"),
    [
        ("breast_cancer", Task.binary_classification, Kind.category),
        ("iris", Task.multiclass_classification, Kind.category),
        ("diabetes", Task.regression, Kind.integer),  # 214 distinct whole numbers
    ],
)
def test_the_task_is_proposed_from_the_target(table: str, task: Task, kind: Kind) -> None:
    result = draft(bundled(table), "target")
    target = result.spec.columns["target"]
    assert (result.task, target.kind, target.role) == (task, kind, Role.target)
    assert (target.min, target.max, target.magic_values) == (None, None, None)


def test_breast_cancer_zeros_are_real_values_not_magic() -> None:
    """Issue 9: 0 is a real, common value in six breast-cancer columns (13 rows each, next to
    values like 0.0007): it is neither proposed nor warned about."""
    frame = bundled("breast_cancer")
    assert (frame.drop(columns="target") == 0).any().sum() == 6
    spec = draft_spec(frame, "target")
    assert [n for n, c in spec.columns.items() if c.magic_values] == []
    assert magic_warnings(frame, spec) == {}


def test_the_samples_minus_one_is_proposed_and_its_real_zeros_are_not() -> None:
    """F3: the sample's -1 (8 % of support calls, 'not recorded') is proposed and left out of
    the range; tenure's and the calls' own zeros are real."""
    frame = sample()
    assert (frame["tenure_months"] == 0).any() and (frame["support_calls_90d"] == 0).any()
    spec = draft_spec(frame, TARGETS[SAMPLE_TASK])
    assert {n: c.magic_values for n, c in spec.columns.items() if c.magic_values} == {
        "support_calls_90d": [-1.0]
    }
    assert spec.columns["support_calls_90d"].min == 0
    assert magic_warnings(frame, spec) == {}, "the draft and validation's warning agree"


def test_codes_far_outside_a_column_are_proposed_and_real_zeros_and_classes_are_not() -> None:
    """The rule on planted codes: 999, -999 and -1 (in a count) are proposed; a real 0 in a
    sparse count, a -1 of a -1/0/1 scale and wine's class 0 (as a plain column) are not."""
    rng = np.random.default_rng(0)
    n = 1000
    coded = rng.random(n) < 0.05
    frame = pd.DataFrame(
        {
            "age": np.where(coded, 999, rng.normal(40, 12, n).round()),
            "temperature": np.where(coded, -999, rng.normal(10, 8, n).round(1)),
            "visits": np.where(coded, -1, rng.poisson(3, n)),
            "rare_events": rng.poisson(0.2, n),  # 80 % zeros, then 1, 2, 3
            "sentiment": rng.choice([-1, 0, 1], n),
        }
    )
    proposed = {n: c.magic_values for n, c in draft_spec(frame).columns.items() if c.magic_values}
    assert proposed == {"age": [999.0], "temperature": [-999.0], "visits": [-1.0]}
    wine = draft_spec(bundled("wine"))  # no target named: "target" is an integer column
    assert wine.columns["target"].kind is Kind.integer
    assert wine.columns["target"].magic_values is None


def test_magic_values_empty_means_none_and_the_warning_says_so(tmp_path: Path) -> None:
    """A spike of 999 warns while the column's magic values are not declared, and the warning
    says how to silence it; `magic_values: []` (as written and read back) never warns."""
    frame = sample(400)
    frame.loc[frame.index[:40], "tenure_months"] = 999
    spec = draft_spec(sample(400), TARGETS[SAMPLE_TASK])  # drafted before the spike
    (check,) = magic_warnings(frame, spec).values()
    assert "999" in check and "magic_values: []" in check
    spec.columns["tenure_months"].magic_values = []
    path = tmp_path / "schema.yaml"
    path.write_text(render_draft(spec, "f.csv"), encoding="utf-8")
    reloaded = load_schema(path)
    assert reloaded.columns["tenure_months"].magic_values == []
    assert reloaded.columns["age_years"].magic_values is None  # absent: not declared
    assert magic_warnings(frame, reloaded) == {}


@pytest.mark.parametrize("table", ["wine", "sample"])
def test_drafted_schema_passes_its_table_and_a_batch_slightly_beyond_its_range(
    table: str,
) -> None:
    """Issue 3: a contract with the observed min/max refused batches with a few rows slightly
    outside the training range. The draft passes its own table, and a batch from the same table
    with three rows per number 10 % of its width beyond the observed range."""
    frame = bundled("wine") if table == "wine" else sample()
    target = "target" if table == "wine" else TARGETS[SAMPLE_TASK]
    spec = draft_spec(frame, target)
    _, own = validate_frame(frame, spec, "own.csv")
    assert own.ok, own.render()
    batch = frame.sample(120, random_state=1).reset_index(drop=True)
    observed = copy.deepcopy(spec)  # what the old draft wrote: min/max as observed
    for name, col in spec.columns.items():
        if col.min is None:
            continue
        real = frame[name][~frame[name].isin(col.magic_values or [])]
        observed.columns[name].min, observed.columns[name].max = real.min(), real.max()
        step = 0.1 * (real.max() - real.min())
        high, low = real.max() + step, real.min() - step
        if col.kind is Kind.integer:
            high, low = int(np.ceil(high)), int(np.floor(low))
        batch.loc[:2, name] = high
        if low >= 0 or real.min() < 0:  # a column never negative gets no negative value
            batch.loc[3:5, name] = low
    assert not validate_frame(batch, observed, "batch.csv", serving=False)[1].ok
    _, report = validate_frame(batch, spec, "batch.csv", serving=False)
    assert report.ok, report.render()


def test_fill_in_descriptions_warn_naming_every_column() -> None:
    """10c: descriptions left as drafted pass validation, but never silently."""
    frame = bundled("iris")
    spec = draft_spec(frame, "target")

    def fill_in() -> list[str]:
        _, report = validate_frame(frame, spec, "iris.csv")
        assert report.ok, report.render()
        return [e for w in report.warnings if PLACEHOLDER in w.check for e in w.examples]

    assert fill_in() == [repr(str(c)) for c in frame.columns]
    for name, col in spec.columns.items():
        if name != "target":
            col.description = f"{name}, measured by hand"
    assert fill_in() == ["'target'"]
    spec.columns["target"].description = "Species of iris"
    assert fill_in() == []


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root under ``tmp_path`` with a copy of the configs (``$PROJECT_ROOT``), so
    the CLI writes there and ``use_data`` edits the copy, never the project's own files."""
    root = tmp_path / "project"
    shutil.copytree(CONFIG_DIR, root / "configs")
    monkeypatch.setenv("PROJECT_ROOT", str(root))
    return root


def test_cli_drafts_both_files_which_compose_and_use_data_accepts(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`infer-schema DATA --target COLUMN` writes the contract and the data config, prints one
    next command, and quotes names with `/`, spaces, quotes, `%`, unicode and `${`."""
    target, style = 'class ${kind}/é "q"', "style 50%/${x}"
    frame = bundled("wine").rename(columns={"target": target})
    frame[style] = np.where(np.arange(len(frame)) % 3 == 0, "white", "red")
    data = project / "data" / "raw" / "Wine Data.csv"
    data.parent.mkdir(parents=True)
    frame.to_csv(data, index=False)

    main([str(data), "--target", target])
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "  make use-data NAME=wine_data"
    assert out.count("make ") == 1, "exactly one next command"
    schema = project / "schemas" / "wine_data.yaml"
    config = project / "configs" / "data" / "wine_data.yaml"
    assert "schemas/wine_data.yaml" in out and "configs/data/wine_data.yaml" in out
    assert schema.is_file()
    assert 'path: "${paths.root}/data/raw/Wine Data.csv"' in config.read_text(encoding="utf-8")

    with initialize_config_dir(str(project / "configs"), version_base=HYDRA_VERSION_BASE):
        cfg = compose("validate", overrides=["data=wine_data"])
    assert (cfg.data.name, cfg.data.target, cfg.data.path) == ("wine_data", target, str(data))
    assert (cfg.data.task, list(cfg.data.slices)) == (Task.multiclass_classification, [style])
    assert cfg.data.new_rows is None
    spec = load_contract(cfg.data.schema, cfg.data.target, cfg.data.task)
    assert spec.columns[target].categories == [0, 1, 2]
    selected = DATA_ENTRY.search((project / "configs" / "config.yaml").read_text()).group(2)
    assert use_data("wine_data", project / "configs") == selected  # the sample, or your data
    assert "- data: wine_data" in (project / "configs" / "config.yaml").read_text()


def test_cli_never_overwrites_and_refuses_an_unknown_target(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both files are checked before either is written; a target that is not a column is
    refused naming the columns; every refusal is one line and exit 2."""
    data = project / "iris.csv"
    bundled("iris").to_csv(data, index=False)
    main([str(data), "--target", "target"])
    schema, config = project / "schemas" / "iris.yaml", project / "configs" / "data" / "iris.yaml"
    schema.unlink()  # the data config alone still stops a new draft
    capsys.readouterr()
    for argv in (
        [str(data), "--target", "target"],
        [str(data), "--target", "species", "--name", "x"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    first, second = capsys.readouterr().err.splitlines()
    assert str(config) in first and "never overwrites" in first
    assert not schema.exists() and not (project / "schemas" / "x.yaml").exists()
    assert "'species'" in second and "'sepal length (cm)'" in second and "'target'" in second

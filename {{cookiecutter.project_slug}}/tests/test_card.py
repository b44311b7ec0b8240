"""P6: every registered model has a card, built from what its training run recorded.

The session's ``champion`` was registered by ``train``, which stored its card on the run and as
the version's description; ``card`` rebuilds it from the run (``make card``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import mlflow
import mlflow.artifacts
import pytest
from hydra.errors import ConfigCompositionException
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.card import (
    card,
    main,
)
from {{ cookiecutter.package_name }}.data.schema import (
    load_schema,
)
from {{ cookiecutter.package_name }}.errors import (
    EXIT_BAD_INPUT,
)
from {{ cookiecutter.package_name }}.tracking.card import (
    DESCRIPTION_LIMIT,
    Card,
)

CHAMPION_NAME = "champion-model"  # conftest.CHAMPION_NAME: the model `champion` trains


UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def stored_card(run: mlflow.entities.Run) -> str:
    """The ``model_card.md`` that ``train`` stored on ``run``."""
    return mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_card.md")


def section(markdown: str, title: str) -> str:
    """The text of the card's ``## <title>`` section."""
    (found,) = [part for part in markdown.split("\n## ") if part.startswith(title)]
    return found


def table_rows(text: str) -> list[list[str]]:
    """The cells of each row of the first markdown table in ``text``, header and rule left out."""
    lines = [line.strip() for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in UNESCAPED_PIPE.split(line[1:-1])] for line in lines[2:]]


def test_the_cards_metrics_are_the_runs_with_the_baseline_beside_each(
    champion_run: mlflow.entities.Run,
) -> None:
    """P1, P3: each metric on the card is the run's validation value, with the baseline's on
    the same rows, how much better the model is and the test value, all as recorded."""
    metrics = champion_run.data.metrics
    rows = table_rows(section(stored_card(champion_run), "Metrics"))
    names = {key.removeprefix("baseline/val/") for key in metrics if key.startswith("baseline/")}
    assert {row[0] for row in rows} == names and names
    for name, val, baseline, better, test in rows:
        assert float(val) == pytest.approx(metrics[f"val/{name}"], abs=5e-5)
        assert float(baseline) == pytest.approx(metrics[f"baseline/val/{name}"], abs=5e-5)
        assert float(better) == pytest.approx(metrics[f"delta/{name}"], abs=5e-5)
        assert float(test) == pytest.approx(metrics[f"test/{name}"], abs=5e-5)


def test_every_schema_feature_is_listed_with_its_description_and_unit(
    champion: tuple, champion_run: mlflow.entities.Run
) -> None:
    """F2: the card lists exactly the contract's features, each with its meaning and unit;
    the data section names the contract's hash and rows per split (F4)."""
    compose, _ = champion
    spec = load_schema(compose().data.schema)
    markdown = stored_card(champion_run)
    rows = {row[0]: row for row in table_rows(section(markdown, "Features"))}
    assert set(rows) == set(spec.features)
    for name in spec.features:
        column = spec.columns[name]
        assert rows[name][2:] == [column.unit or "", column.description]
    data, tags = section(markdown, "Data"), champion_run.data.tags
    assert tags["schema.hash"] in data and tags["data.train.digest"] in data
    for split in ("train", "val", "test"):
        assert f"**{split} rows**: {tags[f'split.{split}.rows']}" in data


def test_the_versions_description_is_the_card_make_card_rebuilds(
    champion: tuple, champion_run: mlflow.entities.Run, tmp_path: Path
) -> None:
    """The registered version's description (what the MLflow UI shows) is the card stored on
    the training run, and ``card`` rebuilds the same card from the run (one function builds
    both), writing it as markdown and as one HTML page with the verdict as its banner."""
    compose, _ = champion
    client = MlflowClient(mlflow.get_tracking_uri())
    version = client.get_model_version_by_alias(CHAMPION_NAME, "champion")
    markdown = stored_card(champion_run)
    assert version.description == markdown
    made, page = card(compose(f"paths.output_dir={tmp_path}", stage="card"))
    assert made.markdown == markdown
    assert made.verdict.startswith(f"{CHAMPION_NAME} v{version.version} (champion): beats the")
    assert (page.parent / "model_card.md").read_text(encoding="utf-8") == markdown
    html = page.read_text(encoding="utf-8")
    banner = "ok" if made.ok else "alert"  # ok: beats the baseline, training settled (T1)
    assert f'id="verdict" class="{banner}"' in html and "<table>" in html


def test_a_card_too_long_for_the_store_keeps_whole_sections_and_says_where_the_rest_is() -> None:
    """MLflow's SQL stores hold a version's description in 5,000 characters (PostgreSQL refuses
    more): a longer card keeps its first whole sections and points at the full card."""
    sections = [f"## Part {i}\n\n" + "x" * 900 for i in range(8)]
    made = Card(
        "Model card: m v1", "m v1: fine", True, "# Model card: m v1\n\n" + "\n\n".join(sections)
    )
    assert len(made.markdown) > DESCRIPTION_LIMIT
    described = made.description("0" * 32)
    assert len(described) <= DESCRIPTION_LIMIT
    assert described.startswith("# Model card: m v1\n\n## Part 0") and "## Part 4" in described
    assert "## Part 5" not in described  # five of 900 characters and the note fill the limit
    assert described.endswith(f'`make card ARGS="card.model={"0" * 32}"`.*\n')
    assert Card("t", "v", True, "short").description("0" * 32) == "short"


def test_the_limitations_and_intended_use_come_from_the_config(
    champion: tuple, tmp_path: Path
) -> None:
    """The card's words written by people are the reviewed config's (``card.*``), listed as
    written, beside the recorded numbers."""
    compose, _ = champion
    limits = ["Never scored on customers | from 2020", "Blind to region <b>x</b>"]
    cfg = compose(
        "card.intended_use='Rank churn risk for the retention team'",
        f"card.limitations=['{limits[0]}','{limits[1]}']",
        f"paths.output_dir={tmp_path}",
        stage="card",
    )
    made, page = card(cfg)
    assert "Rank churn risk for the retention team" in section(made.markdown, "Intended use")
    assert section(made.markdown, "Known limitations").splitlines()[2:] == [
        f"- {item}" for item in limits
    ]
    assert "Blind to region &lt;b&gt;x&lt;/b&gt;" in page.read_text(encoding="utf-8")


def test_a_mistyped_card_key_fails_at_composition(compose_cfg: Callable[..., DictConfig]) -> None:
    """P5: ``card.limitation`` (for ``card.limitations``) is refused, naming the key."""
    with pytest.raises(ConfigCompositionException) as caught:
        compose_cfg("card.limitation=[x]", stage="card")
    assert "limitation" in str(caught.value) + str(caught.value.__cause__)


def test_card_on_a_run_without_a_model_fails_in_one_line(
    champion: tuple,
    champion_run: mlflow.entities.Run,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``make card ARGS="card.model=<run id>"`` on a run that logged no model exits 2 with one
    line naming the run and what is missing, and writes no card."""
    compose, _ = champion
    client = MlflowClient(mlflow.get_tracking_uri())
    empty = client.create_run(champion_run.info.experiment_id, tags={"stage": "validate"})
    client.set_terminated(empty.info.run_id)
    output = tmp_path / "output"
    cfg = compose(f"card.model={empty.info.run_id}", f"paths.output_dir={output}", stage="card")
    with pytest.raises(SystemExit) as caught:
        main.__wrapped__(cfg)
    assert caught.value.code == EXIT_BAD_INPUT
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and f"run {empty.info.run_id} (stage validate)" in line
    assert "logged no model" in line
    assert not output.exists()

"""Result rows on disk, the unit keys that resume a run, and the tables built from the rows."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.report.tables import build_tables
from bench.results import ExplainUnit, FitUnit, ResultStore, config_hash, unit_path
from bench.core.io import atomic_path
from bench.results.store import rows_frame
from bench.report.tables import to_markdown

FIT = FitUnit(suite="toy suite", dataset="wdbc", data_id="dataset-1510", fold=0, seed=1, model="mlp", model_hash="abc123", metrics_hash="m1")
EXPLAIN = ExplainUnit(fit=FIT, explainer="kernel_shap", explainer_hash="def456")
FIT_FOLDER = "toy_suite/wdbc-dataset-1510/fold0-seed1/mlp-abc123"
BASE = {"suite": "toy", "dataset": "wdbc", "dataset_id": 1510, "fold": 0, "split_kind": "local", "seed": 0, "model": "mlp"}


def row(**fields) -> dict:
    unit = f"toy/wdbc/fold0-seed{fields.get('seed', 0)}/mlp/{fields.get('explainer') or '_fit'}"
    return {**BASE, "status": "ok", "unit": unit, **fields}


# --- atomic_path ---------------------------------------------------------------------------

def test_atomic_path_leaves_nothing_when_the_block_fails(tmp_path):
    target = tmp_path / "out" / "table.csv"
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_path(target) as tmp:
            tmp.write_text("half written")
            raise RuntimeError("crash")
    assert list(target.parent.iterdir()) == []


def test_atomic_path_puts_the_content_in_place_when_the_block_succeeds(tmp_path):
    target = tmp_path / "out" / "table.csv"
    with atomic_path(target) as tmp:
        tmp.write_text("a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    assert list(target.parent.iterdir()) == [target]


# --- ResultStore ---------------------------------------------------------------------------

def test_rows_read_back_as_written(tmp_path):
    store = ResultStore(tmp_path)
    rows = [row(metric="accuracy", value=0.75, n_instances=40), row(metric="log_loss", value=0.5, n_instances=40)]
    store.write(FIT, rows)
    pd.testing.assert_frame_equal(pd.read_parquet(unit_path(store.root, FIT)), rows_frame(rows))


def test_a_unit_not_written_is_not_done(tmp_path):
    assert not ResultStore(tmp_path).is_done(FIT)


@pytest.mark.parametrize("statuses", [["ok"], ["ok", "n/a"], ["n/a"]])
def test_a_unit_whose_rows_are_ok_or_not_applicable_is_done(tmp_path, statuses):
    store = ResultStore(tmp_path)
    store.write(EXPLAIN, [row(explainer="kernel_shap", metric=f"m{i}", status=s) for i, s in enumerate(statuses)])
    assert store.is_done(EXPLAIN)


def test_a_unit_with_a_failed_row_is_not_done(tmp_path):
    store = ResultStore(tmp_path)
    store.write(EXPLAIN, [row(metric="deletion", value=0.1), row(metric="insertion", status="failed", error="boom")])
    assert not store.is_done(EXPLAIN)


def test_rows_with_an_unknown_column_are_refused():
    with pytest.raises(ValueError, match="bogus_column"):
        rows_frame([row(bogus_column=1)])


def test_rows_with_an_unknown_status_are_refused():
    with pytest.raises(ValueError, match="finished"):
        rows_frame([row(status="finished")])


def test_artifact_reads_back_as_saved(tmp_path):
    store = ResultStore(tmp_path)
    saved = {"y_test": np.array([0, 1, 1]), "classes": ["a", "b"]}
    store.save_artifact(FIT, "predictions.pkl", saved)
    loaded = store.load_artifact(FIT, "predictions.pkl")
    np.testing.assert_array_equal(loaded["y_test"], saved["y_test"])
    assert loaded["classes"] == ["a", "b"]


def test_absent_artifact_loads_as_none(tmp_path):
    assert ResultStore(tmp_path).load_artifact(FIT, "model.pkl") is None


# Where each network a stored model holds was defined before it moved to bench/models/networks/.
BEFORE_THE_NETWORKS_MOVED = {
    ("bench.models.networks.flint", "FlintNetwork"): "bench.models.flint",
    ("bench.models.networks.hyperlinear", "HyperLinearNetwork"): "bench.models.hyperlinear",
    ("bench.models.networks.residual", "ResidualTrunk"): "bench.models.residual",
    ("bench.models.networks.residual", "ResidualBlock"): "bench.models.residual",
}


@pytest.mark.parametrize("name, moved", [("hyperlinear", 3), ("flint", 1)])
def test_a_model_pickled_before_its_networks_moved_loads_and_predicts_the_same(tmp_path, name, moved):
    from bench.models import Flint, HyperLinear

    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = (HyperLinear(hidden_size=4, n_blocks=1, training=HyperLinear.loop(epochs=2, warmup_epochs=1), device="cpu")
             if name == "hyperlinear" else
             Flint(hidden_sizes=(8,), n_attributes=2, beta_from=1, l1_from=1, entropy_from=1, training=Flint.loop(epochs=2),
                   device="cpu")).fit(X, y)
    # Protocol 0 names each class as text, "c<module>\n<name>\n": as the code before the move did.
    stored, renamed = pickle.dumps(model, protocol=0), 0
    for (module, cls), before in BEFORE_THE_NETWORKS_MOVED.items():
        now, then = f"c{module}\n{cls}\n".encode(), f"c{before}\n{cls}\n".encode()
        renamed += now in stored
        stored = stored.replace(now, then)
    assert renamed == moved
    with pytest.raises((AttributeError, ModuleNotFoundError)):
        pickle.loads(stored)  # the old names alone no longer resolve
    path = tmp_path / "model.pkl"
    path.write_bytes(stored)
    loaded = ResultStore(tmp_path).load_artifact_at(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# --- units ---------------------------------------------------------------------------------

def test_unit_path_of_rows_and_artifacts():
    root = Path("/results")
    assert unit_path(root, FIT) == root / "rows" / FIT_FOLDER / "_fit-m1.parquet"
    # The model belongs to the folder: another set of prediction metrics scores the same model.
    assert unit_path(root, FIT, "model.pkl") == root / "artifacts" / FIT_FOLDER / "_model.model.pkl"
    other_metrics = FitUnit("toy suite", "wdbc", "dataset-1510", 0, 1, "mlp", "abc123", "m2")
    assert unit_path(root, other_metrics) != unit_path(root, FIT)
    assert unit_path(root, other_metrics, "model.pkl") == unit_path(root, FIT, "model.pkl")
    assert unit_path(root, EXPLAIN) == root / "rows" / FIT_FOLDER / "kernel_shap-def456.parquet"


def test_equal_units_share_their_paths():
    twin = ExplainUnit(fit=FitUnit("toy suite", "wdbc", "dataset-1510", 0, 1, "mlp", "abc123", "m1"),
                       explainer="kernel_shap", explainer_hash="def456")
    assert unit_path("/r", twin) == unit_path("/r", EXPLAIN)
    assert unit_path("/r", twin, "explanation.pkl") == unit_path("/r", EXPLAIN, "explanation.pkl")


def test_explainer_hash_changes_the_path():
    other = ExplainUnit(fit=FIT, explainer="kernel_shap", explainer_hash="000000")
    assert unit_path("/r", other) != unit_path("/r", EXPLAIN)
    assert unit_path("/r", other, "explanation.pkl") != unit_path("/r", EXPLAIN, "explanation.pkl")


def test_unit_keys_are_stable_strings():
    assert FIT.key == f"{FIT_FOLDER}/_fit-m1"
    assert EXPLAIN.key == f"{FIT_FOLDER}/kernel_shap-def456"


def test_config_hash_ignores_key_order():
    assert config_hash({"lr": 0.01, "epochs": 5}) == config_hash({"epochs": 5, "lr": 0.01})


def test_config_hash_changes_with_a_value():
    assert config_hash({"lr": 0.01, "epochs": 5}) != config_hash({"lr": 0.01, "epochs": 6})


# --- tables --------------------------------------------------------------------------------

@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return build_tables(rows_frame([
        row(metric="accuracy", category="prediction", value=0.9, higher_is_better=True),
        row(explainer="kernel_shap", metric="deletion", category="faithfulness", value=0.25, higher_is_better=True),
        row(explainer="kernel_shap", metric="seconds", category="cost", value=0.5, higher_is_better=False),
        row(explainer="ig", status="n/a", error="needs a torch model"),
        {"suite": "toy", "dataset": "gone", "dataset_id": 7, "category": "data", "status": "n/a", "error": "not in the cache"},
    ]))


def markdown_cells(text: str) -> list[list[str]]:
    """The cells of a markdown table, header first, without the |:---| line."""
    lines = [line for line in text.strip().splitlines() if not line.startswith("|:")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_each_row_lands_in_its_table(tables):
    assert tables["accuracy"]["metric"].tolist() == ["accuracy"]
    assert tables["explanations"]["explainer"].tolist() == ["ig", "kernel_shap"]
    assert tables["explanations"]["status"].tolist() == ["n/a", "ok"]
    assert tables["explanations"]["metric"].iloc[1] == "deletion"
    # The cost table also says why an explainer did not run.
    assert tables["cost"]["explainer"].tolist() == ["ig", "kernel_shap"]
    assert tables["cost"]["status"].tolist() == ["n/a", "ok"]
    assert tables["cost"]["metric"].iloc[1] == "seconds"
    assert tables["skipped"][["dataset", "error"]].values.tolist() == [["gone", "not in the cache"]]


def test_markdown_has_one_column_per_metric_and_a_note(tables):
    cells = markdown_cells(to_markdown("explanations", tables["explanations"]))
    assert cells[0] == ["suite", "dataset", "fold", "seed", "model", "explainer", "deletion", "note"]
    assert cells[1][:6] + cells[1][7:] == ["toy", "wdbc", "0", "0", "mlp", "ig", "n/a: needs a torch model"]
    assert cells[2][:7] == ["toy", "wdbc", "0", "0", "mlp", "kernel_shap", "0.25"]
    assert markdown_cells(to_markdown("accuracy", tables["accuracy"])) == [
        ["suite", "dataset", "fold", "seed", "model", "accuracy"], ["toy", "wdbc", "0", "0", "mlp", "0.9"]]


def test_markdown_leaves_the_cells_of_a_unit_that_did_not_run_blank(tables):
    cells = markdown_cells(to_markdown("explanations", tables["explanations"]))
    assert cells[1][6] == "" and cells[2][7] == ""


def test_markdown_keeps_seeds_and_configurations_apart():
    table = build_tables(rows_frame([
        row(metric="accuracy", category="prediction", value=0.9),
        row(metric="accuracy", category="prediction", value=0.8, seed=1),
        row(metric="accuracy", category="prediction", value=0.7, seed=1, unit="toy/wdbc/fold0-seed1/mlp-other/_fit"),
    ]))["accuracy"]
    cells = markdown_cells(to_markdown("accuracy", table))
    # Two configurations of mlp at seed 1 look alike but for their unit key, which is shown.
    assert cells[0][0] == "unit" and len(cells) == 4
    assert sorted(row[-1] for row in cells[1:]) == ["0.7", "0.8", "0.9"]


def test_a_failed_explanation_metric_stays_out_of_the_cost_table():
    tables = build_tables(rows_frame([
        row(explainer="kernel_shap", metric="seconds", category="cost", value=0.5),
        row(explainer="kernel_shap", metric="deletion", category="faithfulness", status="failed", error="boom"),
    ]))
    assert tables["cost"]["metric"].tolist() == ["seconds"]
    assert tables["explanations"]["metric"].tolist() == ["deletion"]


def test_a_note_names_together_the_metrics_that_did_not_run_for_one_reason():
    def not_applicable(metric, error):
        return row(explainer="ig", metric=metric, category="complexity", status="n/a", error=error)

    tables = build_tables(rows_frame([
        row(explainer="ig", metric="deletion", category="faithfulness", value=0.25),
        *(not_applicable(name, f"{name} scores concepts explanations") for name in ("cns_2", "cns_3")),
        not_applicable("road", "road needs images"),
        row(explainer="ig", metric="sparseness", category="complexity", status="failed", error="boom"),
    ]))
    cells = markdown_cells(to_markdown("explanations", tables["explanations"]))
    assert cells[1][-1] == ("n/a: cns_2, cns_3 scores concepts explanations; n/a: road needs images; "
                            "failed: boom")

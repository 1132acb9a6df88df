"""An interpreter learnt with a model (FLINT's g, CNN-INTE's meta-learner) is a predictor of its
own, the entry `<model>:g`: its own explanation and post-hoc explanations of g are scored against
g, and rows say which predictor they are about, so that a model that predicts with its base is
not counted as a predictor of its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import open_dict

import bench.cli.run as bench_run
import bench.pipeline.run as pipeline_run
from bench.data.source import TaskRef
from bench.models import CNN, CNNInte, Flint, FlintPosthoc
from bench.models.interpreter import Interpreter
from bench.pipeline.plan import make_plan
from bench.pipeline.run import _units, fitted_once, predictor_of
from bench.results import ResultStore
from tests.conftest import compose_config

DIGITS = ["data=digits", "explain.n_instances=4", "explainers=[native,saliency,random]", "metrics=[image]",
          "budget=smoke"]
METRICS = ("deletion_auc", "data_randomisation")


def digits_config(model: str, results):
    """A run of `model` on digits scored by METRICS only."""
    cfg = compose_config([*DIGITS, f"model={model}"], results)
    with open_dict(cfg):
        cfg.metrics.explanation = {name: cfg.metrics.explanation[name] for name in METRICS}
    return cfg


def stored_explanation(results, rows: pd.DataFrame, model: str, explainer: str):
    unit = rows[(rows["model"] == model) & (rows["explainer"] == explainer) & (rows["category"] == "cost")]["unit"]
    return pd.read_pickle(results / "artifacts" / f"{unit.iloc[0]}.explanation.pkl")


@pytest.fixture(scope="module")
def flint_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    fits = []
    with pytest.MonkeyPatch.context() as patch:
        fit = Flint.fit
        patch.setattr(Flint, "fit", lambda self, X, y: fits.append(len(X)) or fit(self, X, y))
        patch.setattr(pipeline_run, "_store_pictures", lambda *args, **kwargs: None)  # FLINT's: seconds, not tested here
        bench_run.run(digits_config("flint", results))
    return results, ResultStore(results).read_all(), fits


def test_the_interpreter_entry_holds_its_own_explanation_and_post_hoc_ones_of_g(flint_run):
    _, rows, _ = flint_run
    scored = rows[rows["metric"] == "deletion_auc"].set_index(["model", "explainer"])["status"]
    assert scored[("flint:g", "native")] == scored[("flint:g", "saliency")] == scored[("flint", "saliency")] == "ok"
    # FLINT's own explanation explains g: on f's entry it is not applicable, and says where it is.
    native_on_f = rows[(rows["model"] == "flint") & (rows["explainer"] == "native")]
    assert set(native_on_f["status"]) == {"n/a"} and native_on_f["error"].str.contains("interpreter g").all()


def test_rows_name_the_predictor_and_the_training_budget(flint_run):
    _, rows, _ = flint_run
    assert set(rows.loc[rows["model"] == "flint", "predictor"]) == {"flint"}
    assert set(rows.loc[rows["model"] == "flint:g", "predictor"]) == {"flint:g"}
    fit_rows = rows[(rows["model"] == "flint") & (rows["metric"] == "accuracy")]
    assert fit_rows["budget"].iloc[0] == "1 epoch, adam lr 0.0001, batch 16"


def test_g_is_explained_for_its_own_class_with_its_own_gradient(flint_run):
    results, rows, _ = flint_run
    predictions = pd.read_pickle(next((results / "artifacts").rglob("*predictions.pkl")))
    of_g, of_f = (stored_explanation(results, rows, entry, "saliency") for entry in ("flint:g", "flint"))
    assert np.array_equal(of_g["test_rows"], of_f["test_rows"])  # the same instances
    explained = of_g["test_rows"]
    # each explains its own predictor's class (digits' labels are 0-9, so labels are indices)
    assert np.array_equal(of_g["explanation"].target, predictions["interpreter_score"][explained].argmax(axis=1))
    assert np.array_equal(of_f["explanation"].target, predictions["y_score"][explained].argmax(axis=1))
    assert not np.allclose(of_g["explanation"].values, of_f["explanation"].values)


def test_the_model_and_its_interpreter_share_the_model_retrained_on_permuted_labels(flint_run):
    _, rows, fits = flint_run
    assert len(fits) == 2  # the run's fit, and one on permuted labels for both entries' data randomisation
    scored = rows[rows["metric"] == "data_randomisation"].set_index(["model", "explainer"])["status"]
    assert scored[("flint", "saliency")] == scored[("flint:g", "saliency")] == "ok"


@pytest.mark.parametrize("model", ["flint_posthoc", "cnn_inte"])
def test_a_model_that_predicts_with_its_base_is_the_bases_predictor_and_explains_g_only(model, tmp_path):
    plan = make_plan(compose_config([*DIGITS, f"model={model}"], tmp_path))
    assert predictor_of(plan, "image") == "cnn"
    _, units = _units(plan, TaskRef(suite="digits", name="digits"), 0, {})
    assert sorted(units) == ["native:g", "random:g", "saliency:g"]
    assert {unit.entry for unit in units.values()} == {"g"}
    assert predictor_of(make_plan(compose_config([*DIGITS, "model=flint"], tmp_path)), "image") == "flint"


def test_the_interpreter_view_is_g():
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 1, 8, 8), dtype=np.float32), np.arange(60) % 3
    base = CNN(training=CNN.loop(epochs=1), channels=(4, 8)).fit(X, y)
    flint = FlintPosthoc(base=base, training=FlintPosthoc.loop(epochs=1), beta_from=1, l1_from=1,
                         entropy_from=1).fit(X, y)
    view = Interpreter(flint)
    np.testing.assert_allclose(view.predict_proba(X), flint.interpreter_proba(X))
    with torch.no_grad():
        logits = view.torch_module().eval()(torch.as_tensor(X)).double()
    np.testing.assert_allclose(torch.softmax(logits, dim=1).numpy(), flint.interpreter_proba(X), atol=1e-6)
    assert view.explain == flint.explain
    # CNN-INTE's g is a forest over a hidden layer: no network of its own to differentiate.
    cnn_inte = CNNInte(base=base, k1=2, k2=1, n_estimators=5).fit(X, y)
    assert not hasattr(Interpreter(cnn_inte), "torch_module")
    np.testing.assert_allclose(Interpreter(cnn_inte).predict_proba(X), cnn_inte.interpreter_proba(X))


def test_a_fit_is_given_again_only_for_the_same_training_set():
    fits = []
    fit = fitted_once(lambda X, y: fits.append((X.copy(), y.copy())) or len(fits))
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    assert fit(X, y) == fit(X.copy(), y.copy()) == 1  # the same contents: the same model
    masked = X.copy()
    masked[0, 0] = 1
    assert fit(masked, y) == 2  # other rows, same labels (ROAR's masked copies): a fit of its own
    assert fit(X, y[::-1].copy()) == 3
    assert fit(X, y) == 4  # only the last fit is kept

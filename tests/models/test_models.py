"""The models on problems whose answer is known: separable blobs, an exact linear target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

from bench.pipeline.compose import variants
from bench.data.task import Task
from bench.models import ATEX, CNN, MLP, CNNInte, CNNTanh, LogisticRegression, MLPRegressor
from bench.models.base import input_kind_problem, model_output, task_type_problem


def small_mlp(estimator=MLP, **options):
    """Small and fast; lr 1e-2 converges on these problems in a few epochs."""
    return estimator(hidden_sizes=(16,), training=estimator.loop(lr=1e-2, epochs=30), **options)


def blobs(labels: list[int], *, n_per_class: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One unit-variance Gaussian blob per label (at most three), centres 8 or more apart:
    separable without error."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])[: len(labels)]
    X = np.vstack([rng.normal(centre, 1.0, size=(n_per_class, 2)) for centre in centres]).astype(np.float32)
    return X, np.repeat(np.array(labels), n_per_class)


@pytest.fixture(scope="module")
def binary_blobs():
    return blobs([0, 1])


@pytest.fixture(scope="module")
def labels_0_2_5():
    return blobs([0, 2, 5])


@pytest.fixture(scope="module")
def classifier_0_2_5(labels_0_2_5):
    return small_mlp().fit(*labels_0_2_5)


@pytest.fixture(scope="module")
def linear_regression_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2)).astype(np.float32)
    return X, (2.0 * X[:, 0] - X[:, 1]).astype(np.float64)


@pytest.fixture(scope="module")
def regressor(linear_regression_data):
    return small_mlp(MLPRegressor).fit(*linear_regression_data)


def toy_task(*, task_type: str = "binary", input_kind: str = "tabular", name: str = "toy") -> Task:
    X = np.zeros((2, 1, 2, 2)) if input_kind == "image" else pd.DataFrame({"a": [0.0, 1.0]})
    return Task(suite="unit", name=name, task_type=task_type, input_kind=input_kind, X=X,
                y=np.array([0, 1]), splits=())


# --- MLP, classification -------------------------------------------------------------------

def test_same_random_state_gives_identical_probabilities(binary_blobs):
    X, y = binary_blobs
    first = small_mlp(random_state=3).fit(X, y).predict_proba(X)
    second = small_mlp(random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_different_random_state_gives_different_probabilities(binary_blobs):
    X, y = binary_blobs
    first = small_mlp(random_state=3).fit(X, y).predict_proba(X)
    other = small_mlp(random_state=4).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)


def test_separable_blobs_are_learned_without_error(binary_blobs):
    X, y = binary_blobs
    model = small_mlp().fit(X, y)
    assert (model.predict(X) == y).mean() == 1.0


def test_non_contiguous_labels_are_kept_as_classes(classifier_0_2_5, labels_0_2_5):
    X, y = labels_0_2_5
    np.testing.assert_array_equal(classifier_0_2_5.classes_, [0, 2, 5])
    np.testing.assert_array_equal(classifier_0_2_5.predict(X), y)


def test_probability_rows_sum_to_one_and_columns_follow_classes(classifier_0_2_5, labels_0_2_5):
    X, y = labels_0_2_5
    proba = classifier_0_2_5.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # Column j is the probability of classes_[j]: the most probable column names the label.
    np.testing.assert_array_equal(classifier_0_2_5.classes_[proba.argmax(axis=1)], y)


def test_torch_module_of_a_binary_model_gives_each_class_its_log_odds(binary_blobs):
    X, y = binary_blobs
    model = small_mlp().fit(X, y)
    (network,) = model.networks_
    with torch.no_grad():
        logit, pair = network(torch.as_tensor(X))[:, 0], model.torch_module()(torch.as_tensor(X))
    assert network[-1].out_features == 1  # one logit, trained with BCE-with-logits
    np.testing.assert_array_equal(pair.numpy(), torch.stack([-logit, logit], dim=1).numpy())
    # predict_proba takes the sigmoid in float64; so does this, hence exact equality.
    np.testing.assert_array_equal(torch.sigmoid(logit.double()).numpy(), model.predict_proba(X)[:, 1])


def test_torch_module_of_a_multiclass_model_is_its_network(classifier_0_2_5, labels_0_2_5):
    X, _ = labels_0_2_5
    with torch.no_grad():
        logits = classifier_0_2_5.torch_module()(torch.as_tensor(X))
    np.testing.assert_array_equal(torch.softmax(logits.double(), dim=1).numpy(), classifier_0_2_5.predict_proba(X))


# --- MLP, regression -----------------------------------------------------------------------

def test_regressor_has_no_classes_and_predicts_a_vector(regressor, linear_regression_data):
    X, _ = linear_regression_data
    assert not hasattr(regressor, "classes_")
    assert regressor.predict(X).shape == (len(X),)


def test_regressor_fits_a_linear_target(regressor, linear_regression_data):
    X, y = linear_regression_data
    residual = ((regressor.predict(X) - y) ** 2).sum()
    assert 1.0 - residual / ((y - y.mean()) ** 2).sum() > 0.95


def test_regressor_has_no_predict_proba(regressor):
    assert not hasattr(regressor, "predict_proba")


def test_a_classifier_refuses_a_continuous_target(linear_regression_data):
    with pytest.raises(ValueError, match="continuous"):
        small_mlp().fit(*linear_regression_data)


# --- fitted state --------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda model, X: model.predict(X),
    lambda model, X: model.predict_proba(X),
    lambda model, X: model.torch_module(),
], ids=["predict", "predict_proba", "torch_module"])
def test_unfitted_model_says_it_is_not_fitted(call):
    with pytest.raises(AttributeError, match="not fitted"):
        call(MLP(), np.zeros((2, 2), dtype=np.float32))


# --- bench.models.base ---------------------------------------------------------------------

def test_input_kind_problem_is_none_when_the_model_takes_the_data():
    assert input_kind_problem(MLP(), "mlp", toy_task()) is None
    assert input_kind_problem(CNN(), "cnn", toy_task(input_kind="image")) is None


def test_input_kind_problem_names_the_model_and_the_task():
    problem = input_kind_problem(MLP(), "mlp", toy_task(input_kind="image", name="digits"))
    assert "model=mlp" in problem and "digits" in problem and "image" in problem


def test_input_kind_problem_offers_the_models_variant_and_a_base_for_the_data():
    problem = input_kind_problem(ATEX(base=CNNTanh()), "atex", toy_task(name="wdbc"), lambda: variants("model", "atex"))
    assert problem.endswith("is tabular data; model=atex_mlp or model=atex model@model.base=mlp, another model for "
                            "tabular data, or another data=... option")
    on_images = input_kind_problem(CNNInte(base=MLP()), "mlp_inte", toy_task(input_kind="image"),
                                   lambda: variants("model", "mlp_inte"))
    assert "model=cnn_inte or model=mlp_inte model@model.base=cnn" in on_images
    assert "pick a model for tabular data" in input_kind_problem(CNN(), "cnn", toy_task(),
                                                                 lambda: variants("model", "cnn"))


def test_task_type_problem_is_none_when_the_model_handles_the_task():
    assert task_type_problem(MLP(), "mlp", toy_task(task_type="regression")) is None
    assert task_type_problem(LogisticRegression(), "logreg", toy_task(task_type="multiclass")) is None


def test_task_type_problem_names_the_model_and_the_task():
    problem = task_type_problem(LogisticRegression(), "logreg", toy_task(task_type="regression", name="houses"))
    assert "model=logreg" in problem and "houses" in problem and "regression" in problem


def test_model_output_of_a_classifier_is_its_probabilities(binary_blobs):
    X, y = binary_blobs
    model = LogisticRegression().fit(X, y)
    output = model_output(model, X)
    assert output.shape == (len(X), 2)
    np.testing.assert_array_equal(output, model.predict_proba(X))


def test_model_output_of_a_regressor_is_one_column(regressor, linear_regression_data):
    X, _ = linear_regression_data
    output = model_output(regressor, X)
    assert output.shape == (len(X), 1)
    np.testing.assert_array_equal(output[:, 0], regressor.predict(X))


# --- LogisticRegression --------------------------------------------------------------------

def test_logistic_regression_declares_classification_only():
    assert LogisticRegression.task_types == ("binary", "multiclass")
    assert LogisticRegression.input_kinds == ("tabular",)


def test_logistic_regression_matches_sklearn(binary_blobs):
    X, y = binary_blobs
    ours = clone(LogisticRegression(C=0.5)).fit(X, y)
    theirs = SklearnLogisticRegression(C=0.5).fit(X, y)
    assert ours.get_params() == theirs.get_params()
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))

"""What an explainer's `target` may be, for every explainer of the registry (bench.explainers):
None explains the predicted class; labels (strings here, as `model.predict` returns them) and
class indices explain the same outputs; a wrong target is one ValueError that names the model's
classes and the fix. The rule itself, on its edge cases, is `class_indices`'s."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hydra.utils import instantiate

from bench.pipeline import registry
from bench.models import CNN, MLP, LogisticRegression, TrainingLoop
from bench.models.base import class_indices, class_labels, predicted_class
from tests.explainers.test_every_explainer import IMAGE_ONLY, explainer_configs, images, tabular
from tests.metrics.conftest import Linear

REGISTRY = list(registry.explainers())
FIX = r"target=model\.predict\(X\)"


@pytest.fixture(scope="module")
def configs() -> dict:
    """conf/explainers' fast settings (explainers=all), by the class each instantiates."""
    return {node._target_.rsplit(".", 1)[1]: (name, node) for name, node in explainer_configs().items()}


@pytest.fixture(scope="module")
def problems() -> dict:
    """(model fitted on string labels, 4 rows to explain, background): a torch MLP and a logistic
    regression (for `native`) on three classes of a table, a CNN on two classes of images."""
    X, y = tabular()
    animals = np.array(["ant", "bee", "cat"])[y + (X[:, 3] > 0.5)]
    pictures, y_pictures = images()
    return {
        "mlp": (MLP(hidden_sizes=(8,), training=TrainingLoop(epochs=2)).fit(X, animals), X[:4], X[10:30]),
        "logreg": (LogisticRegression().fit(X, animals), X[:4], X[10:30]),
        # 10 epochs at a higher rate, so that the explained images are not all of one class.
        "cnn": (CNN(channels=(4, 4), training=CNN.loop(epochs=10, lr=1e-2))
                .fit(pictures, np.array(["no", "yes"])[y_pictures]), pictures[:4], pictures[10:30]),
    }


def explainer_and_problem(name: str, configs: dict, problems: dict):
    assert name in configs, f"no conf/explainers config instantiates {name}: add it to explainers=all"
    config_name, node = configs[name]
    explainer = instantiate(node)
    if config_name in IMAGE_ONLY | {"gradcam"}:
        return explainer, problems["cnn"]
    mlp = problems["mlp"]
    return explainer, mlp if explainer.not_applicable(mlp[0]) is None else problems["logreg"]


@pytest.mark.parametrize("name", REGISTRY)
def test_no_target_labels_and_indices_explain_the_predicted_class_alike(name, configs, problems):
    explainer, (model, X, background) = explainer_and_problem(name, configs, problems)
    predicted = predicted_class(model, X)
    assert len(set(predicted)) > 1, "the explained rows should be of several classes, so that a mix-up shows"

    def explain(**target):  # random methods get the same draws each time
        return explainer.explain(model, X, **target, background=background, rng=np.random.default_rng(0))

    default = explain()
    np.testing.assert_array_equal(default.target, predicted)
    for target in (predicted, model.predict(X)):
        explanation = explain(target=target)
        np.testing.assert_array_equal(explanation.target, predicted)
        np.testing.assert_array_equal(explanation.values, default.values, err_msg=f"{name}, target={target}")


@pytest.mark.parametrize("name", REGISTRY)
def test_a_wrong_target_is_a_value_error_naming_the_classes_and_the_fix(name, configs, problems):
    explainer, (model, X, background) = explainer_and_problem(name, configs, problems)
    n, labels = len(X), model.classes_
    classes = re.escape(f"The model's classes (classes_) are {labels.tolist()}")
    wrong = {
        "an unknown label": (["dog"] * n, r"target values \['dog'\] are not labels or class indices"),
        "an index out of range": ([len(labels)] * n, rf"target values \[{len(labels)}\] are not labels or class "
                                                      rf"indices 0\.\.{len(labels) - 1} of the model"),
        "the wrong length": (model.predict(X)[:-1], rf"target has {n - 1} values for {n} rows of X"),
        "a one-hot matrix": (np.eye(len(labels))[predicted_class(model, X)], rf"target has shape \({n}, "),
    }
    for problem, (target, message) in wrong.items():
        with pytest.raises(ValueError, match=rf"{message}.*{classes}.*{FIX}"):
            explainer.explain(model, X, target=target, background=background, rng=np.random.default_rng(0))


@pytest.mark.parametrize("name", REGISTRY)
def test_background_and_rng_may_be_left_out_where_the_method_needs_no_background(name, configs, problems):
    explainer, (model, X, background) = explainer_and_problem(name, configs, problems)
    if explainer.needs_background:
        with pytest.raises(ValueError, match=f"{type(explainer).__name__} needs a background"):
            explainer.explain(model, X)
    else:
        # rng=None is default_rng(0), so the random control gives the same values both ways.
        np.testing.assert_array_equal(explainer.explain(model, X).values,
                                      explainer.explain(model, X, rng=np.random.default_rng(0)).values)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        explainer.explain(model, X, background=background, rng=0)


def test_numeric_labels_are_labels_and_strings_take_indices_too():
    class Classes:
        def __init__(self, classes):
            self.classes_ = np.array(classes)

    X = np.zeros((3, 2))
    # scikit-learn's predict returns labels: with classes_ [3, 7], 7 is class index 1.
    np.testing.assert_array_equal(class_indices(Classes([3, 7]), X, [7, 3, 7]), [1, 0, 1])
    np.testing.assert_array_equal(class_indices(Classes([3, 7]), X, 7), [1, 1, 1])  # one for every row
    with pytest.raises(ValueError, match=r"target values \[1, 0\] are not labels of the model\. The model's "
                                         r"classes \(classes_\) are \[3, 7\]"):
        class_indices(Classes([3, 7]), X, [1, 0, 1])
    # Labels that are not numbers leave integers free to be class indices.
    for target in (["b", "a", "b"], [1, 0, 1]):
        np.testing.assert_array_equal(class_indices(Classes(["a", "b"]), X, target), [1, 0, 1])
    # A caller that holds indices (an explanation's target) passes their labels.
    np.testing.assert_array_equal(class_indices(Classes([3, 7]), X, class_labels(Classes([3, 7]), [1, 0, 0])),
                                  [1, 0, 0])


def test_a_regressor_has_one_output():
    model, X = Linear([1.0, 2.0]), np.ones((3, 2))
    for target in (None, 0, [0, 0, 0]):
        np.testing.assert_array_equal(class_indices(model, X, target), [0, 0, 0])
    with pytest.raises(ValueError, match=r"target \[1\] asks for outputs the model does not have\. The model is a "
                                         r"regressor \(no classes_\), with one output: give target=None or 0"):
        class_indices(model, X, [0, 1, 0])


def test_an_interpretable_models_own_explain_takes_the_same_targets(problems):
    model, X, _ = problems["logreg"]
    own = model.explain(X).values
    np.testing.assert_array_equal(model.explain(X, target=model.predict(X)).values, own)  # string labels
    np.testing.assert_array_equal(model.explain(X, target=predicted_class(model, X)).values, own)  # indices
    with pytest.raises(ValueError, match=FIX):
        model.explain(X, target="dog")

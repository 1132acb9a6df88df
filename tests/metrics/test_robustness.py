"""Max-sensitivity, RIS and ROS with hand-made explainers whose answers are known in closed form.

The fake explainer records the rows it is asked to explain, so that each test knows the
perturbed points of the shared neighbourhood."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from captum.metrics import sensitivity_max
from torch import nn

from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import info_of
from bench.core.calls import CountingModel
from bench.metrics.robustness import max_sensitivity, relative_input_stability, relative_output_stability
from tests.metrics.conftest import make_context


class FakeExplainer:
    """context.explain with attributions attribute(X); records every call."""

    def __init__(self, attribute):
        self.attribute = attribute
        self.calls = []

    def __call__(self, model, X, target, rng=None):
        self.calls.append((np.array(X), np.array(target)))
        return Explanation(np.asarray(self.attribute(np.asarray(X)), dtype=float), "attribution", np.asarray(target))

    @property
    def rows(self):
        (X, _), = self.calls
        return X


class Linear:
    """f(x) = x @ w, a regressor."""

    classes_ = None

    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)

    def predict(self, X):
        return np.asarray(X).reshape(len(X), -1) @ self.w


def run(fn, explainer, X, *, model=None, target=None, seed=0, context=None, **params):
    """fn on X explained by `explainer`, in a fresh context unless one is given (then the
    context's own explain is used)."""
    target = np.zeros(len(X), dtype=int) if target is None else np.asarray(target)
    explanation = Explanation(np.asarray(explainer.attribute(X), dtype=float), "attribution", target)
    return fn(Linear(np.ones(X.shape[1])) if model is None else model, X, explanation,
              context=make_context(X, explain=explainer) if context is None else context,
              rng=np.random.default_rng(seed), **params)


X = np.random.default_rng(1).normal(size=(3, 4))
ALL = (max_sensitivity, relative_input_stability, relative_output_stability)


# ---- max-sensitivity ----

def test_a_constant_explainer_has_sensitivity_zero():
    explainer = FakeExplainer(lambda X: np.tile([1.0, -2.0, 0.0, 3.0], (len(X), 1)))
    assert run(max_sensitivity, explainer, X) == pytest.approx(np.zeros(3), abs=0)


def test_identity_explainer_sensitivity_is_the_largest_relative_step():
    # phi(x) = x: ||phi(x') - phi(x)|| / ||phi(x)|| = ||x' - x|| / ||x|| for each drawn x'.
    radius, m = 0.3, 7
    explainer = FakeExplainer(lambda X: X)
    value = run(max_sensitivity, explainer, X, radius=radius, n_samples=m)
    steps = explainer.rows.reshape(3, m, 4) - X[:, None, :]
    assert np.abs(steps).max() <= radius  # points of the L_inf ball
    expected = (np.linalg.norm(steps, axis=2) / np.linalg.norm(X, axis=1)[:, None]).max(axis=1)
    assert value == pytest.approx(expected)
    assert np.all(value <= radius * 2 / np.linalg.norm(X, axis=1))  # ||step|| <= radius sqrt(d)


def test_zero_attributions_are_scaled_by_one_as_captum_does():
    explainer = FakeExplainer(lambda X: X)
    x = np.zeros((1, 4))
    value = run(max_sensitivity, explainer, x, radius=0.1, n_samples=5)
    assert value == pytest.approx([np.linalg.norm(explainer.rows, axis=1).max()])


def test_max_sensitivity_matches_captum_on_the_same_points():
    def attribute(X):
        return X ** 2 * np.array([1.0, -1.0, 2.0, 0.5]) + np.sin(X)

    explainer = FakeExplainer(attribute)
    ours = run(max_sensitivity, explainer, X, radius=0.2, n_samples=6)
    points = torch.as_tensor(explainer.rows)

    def explanation_func(inputs):
        # captum passes the original inputs as a 1-tuple and the perturbed ones as a tensor, and
        # reads the attributions as a tuple.
        return (torch.as_tensor(attribute((inputs[0] if isinstance(inputs, tuple) else inputs).numpy())),)

    theirs = sensitivity_max(explanation_func, torch.as_tensor(X), perturb_func=lambda inputs: points,
                             n_perturb_samples=6)
    assert ours == pytest.approx(theirs.numpy(), rel=1e-9)


# ---- RIS and ROS ----

def test_ris_of_a_shifted_identity_explainer():
    # e(x) = x + b: (||x - x'|| / ||x + b||) / (||x - x'|| / ||x||) = ||x|| / ||x + b||, for every x'.
    b = np.array([1.0, 0.0, -2.0, 0.5])
    value = run(relative_input_stability, FakeExplainer(lambda X: X + b), X)
    assert value == pytest.approx(np.linalg.norm(X, axis=1) / np.linalg.norm(X + b, axis=1))


def test_ros_of_an_explainer_that_follows_the_output():
    # e(x) = f(x) * ones: the attributions change exactly as much as the output -> ROS = 1.
    model = Linear([2.0, -1.0, 0.5, 1.0])
    value = run(relative_output_stability, FakeExplainer(lambda X: np.outer(model.predict(X), np.ones(4))), X,
                model=model)
    assert value == pytest.approx(np.ones(3))


class TorchSoftmax:
    """A classifier with a torch network: logits x @ W."""

    classes_ = np.array([0, 1, 2])
    W = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 1.0]])

    def torch_module(self):
        layer = nn.Linear(4, 3, bias=False)
        layer.weight.data = torch.as_tensor(self.W.T, dtype=torch.float32)
        return layer

    def predict_proba(self, X):
        logits = np.asarray(X) @ self.W
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


class SklearnLike(TorchSoftmax):
    """The same classifier without a network: ROS takes the log of predict_proba."""

    torch_module = None


@pytest.mark.parametrize("model, to_logits", [
    (TorchSoftmax(), lambda X: X @ TorchSoftmax.W),
    (SklearnLike(), lambda X: np.log(SklearnLike().predict_proba(X))),
])
def test_ros_divides_by_the_change_of_the_logits(model, to_logits):
    # Attributions equal to the logits (one per class here, d = C = 3 + a zero feature) move
    # exactly as the logits do: ROS = 1 when, and only when, h is the logits the model has.
    x = np.array([[3.0, 0.1, 0.2, -0.3], [0.2, 2.5, 0.1, 0.4]])  # far from the class boundaries
    explainer = FakeExplainer(lambda X: np.column_stack([to_logits(X), np.zeros(len(X))]))
    value = run(relative_output_stability, explainer, x, model=model, target=[0, 1])
    assert value == pytest.approx(np.ones(2), rel=1e-5)  # the network runs in float32


@pytest.mark.parametrize("fn, model", [(relative_input_stability, SklearnLike()),
                                       (relative_output_stability, TorchSoftmax())])
def test_predictions_and_logits_come_from_one_model_call(fn, model):
    counted = CountingModel(model)
    run(fn, FakeExplainer(lambda X: X), X, model=counted, target=[0, 1, 2], n_samples=5)
    assert counted.calls == 1 and counted.rows == 3 * 6  # each row and its five perturbations


def test_perturbations_that_change_the_prediction_are_skipped_and_none_left_is_nan():
    class ExactlyZero:
        """Class 1 only where x0 is exactly 0: every perturbation of such a row changes class."""

        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            p1 = (np.asarray(X)[:, 0] == 0).astype(float)
            return np.column_stack([1 - p1, p1])

    x = np.array([[0.0, 1.0, 2.0, 3.0], [5.0, 1.0, 2.0, 3.0]])
    for fn in (relative_input_stability, relative_output_stability):
        explainer = FakeExplainer(lambda X: X + 1.0)
        value = run(fn, explainer, x, model=ExactlyZero(), target=[1, 0], n_samples=6)
        assert np.isnan(value[0]) and np.isfinite(value[1])
        # The neighbourhood is explained whole; the first row's explanations are ignored.
        X_explained, target = explainer.calls[0]
        assert len(X_explained) == 12 and target.tolist() == [1] * 6 + [0] * 6


def test_no_perturbation_kept_anywhere_is_nan():
    class AlwaysFlips:
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            # Class 1 only at the explained row's x0: every perturbation changes the class.
            p1 = np.isin(np.asarray(X)[:, 0], x[:, 0]).astype(float)
            return np.column_stack([1 - p1, p1])

    x = np.array([[0.5, 1.0, 2.0, 3.0]])
    for fn in (relative_input_stability, relative_output_stability):
        assert np.isnan(run(fn, FakeExplainer(lambda X: X), x, model=AlwaysFlips(), target=[1]))


def test_zero_attributions_make_ris_undefined():
    assert np.isnan(run(relative_input_stability, FakeExplainer(lambda X: np.zeros_like(X)), X)).all()


def test_eps_min_bounds_the_denominator():
    # A constant output: ||h(x) - h(x')|| = 0, so ROS = relative attribution change / eps_min.
    class Constant:
        classes_ = None

        def predict(self, X):
            return np.full(len(X), 2.0)

    explainer = FakeExplainer(lambda X: X)
    value = run(relative_output_stability, explainer, X, model=Constant(), eps_min=1e-3, n_samples=4)
    steps = explainer.rows.reshape(3, 4, 4) - X[:, None, :]
    expected = (np.linalg.norm(steps, axis=2) / np.linalg.norm(X, axis=1)[:, None]).max(axis=1) / 1e-3
    assert value == pytest.approx(expected)


# ---- all three ----

@pytest.mark.parametrize("fn", ALL)
def test_one_explainer_call_with_every_perturbed_row_and_its_target(fn):
    explainer = FakeExplainer(lambda X: X ** 2)
    value = run(fn, explainer, X, target=[0, 0, 0], n_samples=5)
    assert value.shape == (3,) and np.all(np.isfinite(value))
    assert len(explainer.calls) == 1
    rows, target = explainer.calls[0]
    assert rows.shape == (15, 4) and target.tolist() == [0] * 15
    steps = rows.reshape(3, 5, 4) - X[:, None, :]  # five perturbations of each row, in order
    assert np.abs(steps).max() <= 0.1 and np.abs(steps).max() > 0.05  # uniform in the L_inf ball of radius 0.1


@pytest.mark.parametrize("fn", ALL)
def test_images_are_perturbed_flat_and_explained_in_their_shape(fn):
    images = np.random.default_rng(2).normal(size=(2, 1, 2, 2))
    explainer = FakeExplainer(lambda X: np.asarray(X).reshape(len(X), -1) * 2)
    value = run(fn, explainer, images, model=Linear(np.ones(4)), n_samples=3)
    assert value.shape == (2,) and explainer.rows.shape == (6, 1, 2, 2)


@pytest.mark.parametrize("fn", ALL)
def test_without_an_explainer_the_metric_does_not_apply(fn):
    explanation = Explanation(X.copy(), "attribution", np.zeros(3, dtype=int))
    context = dataclasses.replace(make_context(X), explain=None)
    with pytest.raises(NotApplicable, match="explainer"):
        fn(Linear(np.ones(4)), X, explanation, context=context, rng=np.random.default_rng(0))


@pytest.mark.parametrize("fn", ALL)
def test_parameter_checks(fn):
    explainer = FakeExplainer(lambda X: X)
    with pytest.raises(ValueError, match="radius"):
        run(fn, explainer, X, radius=0.0)
    with pytest.raises(ValueError, match="n_samples"):
        run(fn, explainer, X, n_samples=0)
    with pytest.raises(ValueError, match="n_instances"):
        run(fn, explainer, X, n_instances=0)
    if fn is not max_sensitivity:
        with pytest.raises(ValueError, match="eps_min"):
            run(fn, explainer, X, eps_min=0.0)


def test_metadata():
    for fn in ALL:
        info = info_of(fn)
        assert info.category == "robustness" and not info.higher_is_better and info.kinds == ("attribution",)


# ---- the shared neighbourhood ----

def test_the_three_metrics_share_one_explainer_call():
    explainer = FakeExplainer(lambda X: X ** 2)
    context = make_context(X, explain=explainer)
    model = SklearnLike()
    values = [run(fn, explainer, X, model=model, target=[0, 1, 2], context=context, n_samples=4) for fn in ALL]
    assert all(np.isfinite(value).any() for value in values)
    assert len(explainer.calls) == 1 and len(explainer.rows) == 3 * 4
    # Other neighbourhood parameters are another neighbourhood, and other draws other explanations.
    run(max_sensitivity, explainer, X, context=context, n_samples=4, radius=0.2)
    run(max_sensitivity, explainer, X, context=context, n_samples=4, draws="shared")
    assert len(explainer.calls) == 3


def test_every_explainer_of_a_fold_is_scored_on_the_same_points():
    fold = make_context(X)
    first, second = FakeExplainer(lambda X: X), FakeExplainer(lambda X: X ** 3)
    # Different metrics, different metric rngs: the points depend on the fold only.
    run(max_sensitivity, first, X, context=dataclasses.replace(fold, explain=first, explainer_cache={}), seed=0)
    run(relative_output_stability, second, X, seed=1,
        context=dataclasses.replace(fold, explain=second, explainer_cache={}))
    assert np.array_equal(first.rows, second.rows)
    other_seed = FakeExplainer(lambda X: X)
    run(max_sensitivity, other_seed, X, context=dataclasses.replace(fold, explain=other_seed, seed=1))
    assert not np.array_equal(first.rows, other_seed.rows)


@pytest.mark.parametrize("fn", ALL)
def test_n_instances_scores_the_first_rows_only(fn):
    capped, uncapped = FakeExplainer(lambda X: X ** 2), FakeExplainer(lambda X: X ** 2)
    value = run(fn, capped, X, n_samples=4, n_instances=2)
    assert np.isnan(value[2]) and np.all(np.isfinite(value[:2]))
    assert len(capped.rows) == 2 * 4
    # The first rows' points, and so their scores, do not depend on the cap.
    assert value[:2] == pytest.approx(run(fn, uncapped, X, n_samples=4)[:2])
    assert np.array_equal(capped.rows, uncapped.rows[:8])


def test_a_cap_above_the_number_of_rows_shares_the_uncapped_neighbourhood():
    explainer = FakeExplainer(lambda X: X ** 2)
    context = make_context(X, explain=explainer)
    run(max_sensitivity, explainer, X, context=context)
    run(relative_input_stability, explainer, X, context=context, n_instances=len(X))
    assert len(explainer.calls) == 1



# ---- the re-explanations' draws ----

class NoisyExplainer(FakeExplainer):
    """A sampling explainer, x plus standard normal noise from its rng: None draws what the
    explanation drew (a fixed seed, as a run's explain unit has)."""

    def __init__(self):
        super().__init__(lambda X: X)

    def __call__(self, model, X, target, rng=None):
        self.calls.append((np.array(X), np.array(target)))
        return Explanation(np.asarray(X) + explanation_noise(np.shape(X), rng), "attribution", np.asarray(target))


def explanation_noise(shape, rng=None) -> np.ndarray:
    return (np.random.default_rng(7) if rng is None else rng).normal(size=shape)


def sensitivity(explainer, draws: str, seed: int = 0) -> np.ndarray:
    """max_sensitivity of the noisy explanation of X, one neighbour per row, in a run of `seed`."""
    explanation = Explanation(X + explanation_noise(X.shape), "attribution", np.zeros(3, dtype=int))
    return max_sensitivity(Linear(np.ones(4)), X, explanation, rng=np.random.default_rng(0), n_samples=1,
                           context=dataclasses.replace(make_context(X, explain=explainer), seed=seed), draws=draws)


def test_independent_draws_show_a_sampling_explainers_noise_and_shared_draws_hide_it():
    values, steps = {}, {}
    for draws in ("shared", "independent"):
        explainer = NoisyExplainer()
        values[draws] = sensitivity(explainer, draws)
        steps[draws] = explainer.rows - X  # the one neighbour of each row
    np.testing.assert_array_equal(steps["shared"], steps["independent"])  # the same points
    # Shared draws: each neighbour's noise is its row's, so phi(x') - phi(x) = x' - x alone.
    phi = np.linalg.norm(X + explanation_noise(X.shape), axis=1)
    np.testing.assert_allclose(values["shared"], np.linalg.norm(steps["shared"], axis=1) / phi)
    # Independent draws: two draws of the noise apart, |N(0, 2)| per feature against steps <= 0.1.
    assert np.all(values["independent"] > 5 * values["shared"])


def test_independent_draws_are_the_same_for_a_seed_and_others_for_another():
    first = sensitivity(NoisyExplainer(), "independent")
    np.testing.assert_array_equal(sensitivity(NoisyExplainer(), "independent"), first)
    assert not np.allclose(sensitivity(NoisyExplainer(), "independent", seed=1), first)

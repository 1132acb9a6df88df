"""Sanity checks (Adebayo et al. 2018) on small untrained networks and fake explainers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import info_of
from bench.core.calls import CountingModel
from bench.metrics.sanity import cascade, data_randomisation, model_parameter_randomisation, reexplanation_agreement
from bench.models import CNN, MLP, HyperLinearRegressor, MLPRegressor, TabResNetRegressor
from bench.models.training import seeded
from tests.metrics.conftest import make_context
from tests.metrics.test_deletion import Linear


def as_fitted(estimator, networks: list[nn.Module], n_features: int):
    """A torch regressor whose networks are given rather than trained."""
    estimator.networks_, estimator.device_ = [network.eval() for network in networks], torch.device("cpu")
    estimator.n_features_in_, estimator.input_shape_ = n_features, (n_features,)
    return estimator


def network_model(module: nn.Sequential) -> MLPRegressor:
    """A torch regressor with one given network."""
    return as_fitted(MLPRegressor(device="cpu"), [module], module[0].in_features)


def mlp(seed: int = 0, d: int = 6) -> MLPRegressor:
    with seeded(seed):
        return network_model(nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)))


def snapshot_model(estimator, n_features: int = 3, n_snapshots: int = 2):
    """A snapshot regressor (TabResNet, HyperLinear) with untrained snapshots, as if fitted."""
    with seeded(0):
        return as_fitted(estimator, [estimator._build((n_features,), 1) for _ in range(n_snapshots)], n_features)


def gradient_times_input(model, X, target, rng=None) -> Explanation:
    inputs = torch.as_tensor(X, dtype=torch.float32).requires_grad_()
    outputs = model.torch_module()(inputs)
    (gradient,) = torch.autograd.grad(outputs.gather(1, torch.as_tensor(target)[:, None]).sum(), inputs)
    return Explanation((gradient * inputs).detach().numpy().astype(np.float64), "attribution", np.asarray(target))


FIXED = np.random.default_rng(123).normal(size=(50, 6))


def model_blind(model, X, target, rng=None) -> Explanation:
    """Knows nothing about the model: the same attributions whatever it is."""
    return Explanation(FIXED[:len(X)].copy(), "attribution", np.asarray(target))


def blind_after_evaluating(model, X, target, rng=None) -> Explanation:
    """Evaluates the model, every layer of it, and ignores what it computes."""
    model.predict(X)
    return model_blind(model, X, target)


def rows(n: int = 20, d: int = 6) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, d))


def mprt(model, X, explain, rng_seed: int = 0, **params) -> np.ndarray:
    original = explain(model, X, np.zeros(len(X), dtype=int))
    return model_parameter_randomisation(model, X, original, context=make_context(explain=explain),
                                         rng=np.random.default_rng(rng_seed), **params)


def parameters(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_an_explanation_blind_to_the_model_fails_both_checks():
    model, X = mlp(), rows()
    np.testing.assert_allclose(mprt(model, X, blind_after_evaluating), 1.0)
    original = model_blind(model, X, np.zeros(len(X), dtype=int))
    context = make_context(X_train=rows(40), y_train=rows(40)[:, 0], explain=model_blind, fit=lambda X, y: mlp(1))
    np.testing.assert_allclose(data_randomisation(model, X, original, context=context, rng=np.random.default_rng(0)),
                               1.0)


def test_gradient_times_input_notices_the_randomised_layers():
    values = mprt(mlp(), rows(), gradient_times_input)
    assert values.shape == (20,) and np.all(values < 1)
    assert values.mean() < 0.8  # |x| alone keeps part of the ranking (Adebayo et al. §4)


def test_the_cascade_starts_at_the_output_layer_and_accumulates():
    model, X = mlp(), rows()
    trained = parameters(model.torch_module())  # weight, bias of the layers in forward order
    seen = []

    def recording(m, X, target, rng=None):
        seen.append(parameters(m.torch_module()))
        return gradient_times_input(m, X, target)

    mprt(model, X, recording)
    seen = seen[2:]  # the first two explain the trained model: the rows, then the probe (the first row)
    assert len(seen) == 3
    changed = [[not torch.equal(p, q) for p, q in zip(step, trained)] for step in seen]
    assert changed == [[False] * 4 + [True] * 2, [False] * 2 + [True] * 4, [True] * 6]
    # Cumulative: a layer randomised at one step keeps its random values in the next.
    assert all(torch.equal(seen[0][i], seen[1][i]) for i in (4, 5))


def test_max_layers_stops_the_cascade():
    calls = []
    mprt(mlp(), rows(), lambda m, X, t, rng=None: calls.append(1) or gradient_times_input(m, X, t), max_layers=2)
    assert len(calls) == 1 + 1 + 2  # the trained model, the probe, then two steps


def test_the_score_is_the_mean_over_the_steps_an_undefined_step_counting_as_zero():
    base = np.array([[1.0, 2, 3, 4], [1, 2, 3, 4]])
    scripted = iter([base[:1],  # the probe, which reads every layer
                     np.array([[1.0, 2, 3, 4], [2, 2, 2, 2]]),  # rho 1; undefined
                     np.array([[4.0, 3, 2, 1], [2, 2, 2, 2]]),  # rho -1; undefined
                     np.array([[2.0, 2, 2, 2], [2, 2, 2, 2]])])  # undefined; undefined

    def explain(m, X, target, rng=None):
        m.predict(X)
        return Explanation(next(scripted), "attribution", target)

    original = Explanation(base, "attribution", np.zeros(2, dtype=int))
    with seeded(0):
        model = network_model(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 3), nn.Linear(3, 1)))
    values = model_parameter_randomisation(model, np.ones((2, 4)), original, context=make_context(explain=explain),
                                           rng=np.random.default_rng(0))
    # (1 - 1 + 0) / 3 and (0 + 0 + 0) / 3: a constant explanation agrees with no ranking.
    np.testing.assert_allclose(values, [0.0, 0.0])


def test_the_model_and_torch_global_rng_are_as_found_afterwards():
    model, X = snapshot_model(TabResNetRegressor(hidden_size=4, n_blocks=1)), rows(20, 3)
    states = [{k: v.clone() for k, v in m.state_dict().items()} for m in model.networks_]  # BatchNorm stats too
    predictions = model.predict(X)
    rng_state = torch.get_rng_state()
    assert mprt(model, X, gradient_times_input).mean() < 1
    np.testing.assert_array_equal(model.predict(X), predictions)
    for member, state in zip(model.networks_, states):
        assert all(torch.equal(member.state_dict()[k], v) for k, v in state.items())
    assert torch.equal(torch.get_rng_state(), rng_state)


def test_the_model_is_restored_when_the_explainer_fails():
    model = mlp()
    trained = parameters(model.torch_module())
    calls = []

    def failing(m, X, target, rng=None):
        calls.append(len(X))
        if len(calls) > 1:  # the probe passes, the first step's explanation fails
            raise RuntimeError("explainer broke")
        return gradient_times_input(m, X, target)

    with pytest.raises(RuntimeError, match="explainer broke"):
        model_parameter_randomisation(model, rows(), model_blind(model, rows(), np.zeros(20, dtype=int)),
                                      context=make_context(explain=failing), rng=np.random.default_rng(0))
    assert calls == [1, 20]
    assert all(torch.equal(p, q) for p, q in zip(parameters(model.torch_module()), trained))


def test_a_snapshot_ensemble_randomises_one_layer_of_every_member_per_step():
    model = snapshot_model(TabResNetRegressor(hidden_size=4, n_blocks=1))
    network = model.torch_module()
    steps = cascade(network, lambda: network(torch.zeros(2, 3)))
    # Per member: trunk Linear + BatchNorm, block Linear, BatchNorm, Linear, BatchNorm, head.
    assert [len(step) for step in steps] == [2] * 7
    assert steps[0] == [member[1] for member in model.networks_]  # both heads first
    trained = [parameters(member) for member in model.networks_]
    seen = []

    def recording(m, X, target, rng=None):
        seen.append([parameters(member) for member in m.networks_])
        return gradient_times_input(m, X, target)

    mprt(model, rows(10, 3), recording, max_layers=1)
    assert len(seen) == 1 + 1 + 1  # the trained model, the probe, one step
    for member_now, member_trained in zip(seen[2], trained):
        assert [not torch.equal(p, q) for p, q in zip(member_now, member_trained)][-2:] == [True, True]
        assert all(torch.equal(p, q) for p, q in zip(member_now[:-2], member_trained[:-2]))


def test_hyperlinear_native_explanation_is_sensitive_to_its_network():
    model = snapshot_model(HyperLinearRegressor(hidden_size=8, n_blocks=1), n_features=6)
    values = mprt(model, rows(), lambda m, X, target, rng=None: m.explain(X, target=target))
    assert values.mean() < 0.8


@pytest.mark.parametrize("network, input_shape", [
    (MLP(hidden_sizes=(4, 4))._build((3,), 2), (3,)),
    (CNN(channels=(2, 3))._build((1, 6, 6), 2), (1, 6, 6)),
    (TabResNetRegressor(hidden_size=4, n_blocks=2)._build((3,), 2), (3,)),
    (HyperLinearRegressor(hidden_size=4, n_blocks=2)._build((3,), 2), (3,)),
])
def test_the_cascade_order_is_the_reverse_of_the_forward_order(network, input_shape):
    def forward():
        network.eval()(torch.zeros(2, *input_shape))

    layers = [module for step in cascade(network, forward) for module in step]
    called = []
    hooks = [m.register_forward_hook(lambda m, inputs, output: called.append(m)) for m in network.modules()
             if any(True for _ in m.parameters(recurse=False))]
    forward()
    for hook in hooks:
        hook.remove()
    assert called[::-1] == layers


def test_through_the_counting_wrapper_of_a_run():
    model, X = mlp(), rows()
    counted = CountingModel(model)
    np.testing.assert_array_equal(mprt(counted, X, gradient_times_input), mprt(model, X, gradient_times_input))
    assert counted.rows == 4 * len(X) + 1  # the original, the probe's first row, three randomised explanations


def test_the_same_rng_gives_the_same_randomisation():
    model, X = mlp(), rows()
    np.testing.assert_array_equal(mprt(model, X, gradient_times_input, rng_seed=5),
                                  mprt(model, X, gradient_times_input, rng_seed=5))
    assert not np.array_equal(mprt(model, X, gradient_times_input, rng_seed=5),
                              mprt(model, X, gradient_times_input, rng_seed=6))


def test_not_applicable_without_a_network_and_parameters_checked():
    X = rows()
    original = model_blind(None, X, np.zeros(len(X), dtype=int))
    with pytest.raises(NotApplicable, match="torch network"):
        model_parameter_randomisation(Linear(np.ones(6)), X, original, context=make_context(explain=model_blind),
                                      rng=np.random.default_rng(0))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="max_layers"):
            mprt(mlp(), X, model_blind, max_layers=bad)
    with pytest.raises(ValueError, match="absolute"):
        mprt(mlp(), X, model_blind, absolute="yes")
    with pytest.raises(ValueError, match="absolute"):
        data_randomisation(mlp(), X, original, context=make_context(), rng=None, absolute=1)


class LeastSquares:
    """A linear regressor fitted by least squares, explained by w * x."""

    classes_ = None

    def fit(self, X, y):
        self.w_ = np.linalg.lstsq(X, y, rcond=None)[0]
        return self

    def predict(self, X):
        return X @ self.w_


def linear_attribution(model, X, target, rng=None) -> Explanation:
    return Explanation(X * model.w_, "attribution", np.asarray(target))


@pytest.fixture
def regression():
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(200, 6))
    y_train = X_train @ np.array([6.0, 5, 4, 3, 2, 1]) + rng.normal(scale=0.1, size=200)
    return X_train, y_train


def test_data_randomisation_of_a_linear_model(regression):
    X_train, y_train = regression
    model = LeastSquares().fit(X_train, y_train)
    fits = []

    def fit(X, y):
        # The model "learnt" from the permuted labels: the original weights in reverse order,
        # so the expected correlation is known exactly.
        fits.append(y)
        reversed_model = LeastSquares()
        reversed_model.w_ = model.w_[::-1].copy()
        return reversed_model

    X = np.ones((3, 6))
    original = linear_attribution(model, X, np.zeros(len(X), dtype=int))
    context = make_context(X_train=X_train, y_train=y_train, explain=linear_attribution, fit=fit)
    values = data_randomisation(model, X, original, context=context, rng=np.random.default_rng(0))
    # |w| is ordered 6 > 5 > ... > 1 (least squares on a nearly noiseless target), reversed: rho = -1.
    np.testing.assert_allclose(values, -1.0)
    assert np.array_equal(np.sort(fits[0]), np.sort(y_train)) and not np.array_equal(fits[0], y_train)


def test_the_permuted_label_model_is_trained_once_per_fold(regression):
    X_train, y_train = regression
    fits = []

    def fit(X, y):
        fits.append(y)
        return LeastSquares().fit(X, y)

    model, X = LeastSquares().fit(X_train, y_train), rows()
    context = make_context(X_train=X_train, y_train=y_train, explain=linear_attribution, fit=fit)
    # A second explainer of the fold: its own explain, the fold's cache.
    other = replace(context, explain=lambda m, X, target, rng=None: model_blind(m, X, target))
    for ctx, seed in ((context, 0), (other, 1)):
        original = ctx.explain(model, X, np.zeros(len(X), dtype=int))
        data_randomisation(model, X, original, context=ctx, rng=np.random.default_rng(seed))
    assert len(fits) == 1
    # The permutation is the fold's, not the metric rng's: a new fold context draws it again.
    data_randomisation(model, X, linear_attribution(model, X, np.zeros(len(X), dtype=int)),
                       context=replace(context, cache={}), rng=np.random.default_rng(99))
    np.testing.assert_array_equal(fits[1], fits[0])


def test_signed_ranks_with_absolute_false(regression):
    X_train, y_train = regression
    X = rows()
    base = FIXED[:len(X)]

    def sign_flipping(m, X, target, rng=None):
        return Explanation(base if m == "trained" else -base, "attribution", np.asarray(target))

    original = sign_flipping("trained", X, np.zeros(len(X), dtype=int))
    context = make_context(X_train=X_train, y_train=y_train, explain=sign_flipping, fit=lambda X, y: "permuted")
    for absolute, expected in ((True, 1.0), (False, -1.0)):
        values = data_randomisation("trained", X, original, context=replace(context, cache={}),
                                    rng=np.random.default_rng(0), absolute=absolute)
        np.testing.assert_allclose(values, expected)


def noisy_after_evaluating(model, X, target, rng=None) -> Explanation:
    """Evaluates the model and returns noise, from its rng: None draws what the explanation drew
    (a fixed seed, as a run's explain unit has)."""
    model.predict(X)
    rng = np.random.default_rng(7) if rng is None else rng
    return Explanation(rng.standard_normal(np.shape(X)), "attribution", np.asarray(target))


@pytest.mark.parametrize("check", [model_parameter_randomisation, data_randomisation])
def test_independent_draws_show_a_sampling_explainers_noise_and_shared_draws_hide_it(check):
    model, X = mlp(), rows()
    original = noisy_after_evaluating(model, X, np.zeros(len(X), dtype=int))
    context = make_context(X_train=rows(40), y_train=rows(40)[:, 0], explain=noisy_after_evaluating,
                           fit=lambda X, y: mlp(1))

    def score(draws: str, seed: int = 0) -> np.ndarray:
        return check(model, X, original, context=replace(context, seed=seed, cache={}), rng=np.random.default_rng(0),
                     draws=draws)

    # The same draws of noise whatever the model: "did not notice". Other draws: as if it had.
    np.testing.assert_array_equal(score("shared"), 1.0)
    independent = score("independent")
    assert np.all(independent < 1)
    np.testing.assert_array_equal(score("independent"), independent)  # the same config and seed
    assert not np.allclose(score("independent", seed=1), independent)


def test_the_noise_floor_is_1_for_a_deterministic_explainer_and_the_noises_own_agreement_otherwise():
    model, X = mlp(), rows(200)
    context = make_context(explain=noisy_after_evaluating)
    target = np.zeros(len(X), dtype=int)
    deterministic = reexplanation_agreement(model, X, gradient_times_input(model, X, target), context=replace(
        context, explain=gradient_times_input), rng=np.random.default_rng(0))
    np.testing.assert_allclose(deterministic, 1.0)
    # independent standard normal attributions: |phi| ranks of two draws agree by chance only
    noise = reexplanation_agreement(model, X, noisy_after_evaluating(model, X, target), context=context,
                                    rng=np.random.default_rng(0), n_instances=100)
    assert abs(np.nanmean(noise)) < 0.1 and np.isnan(noise[100:]).all()
    assert info_of(reexplanation_agreement).category == "diagnostic"


def test_an_explanation_that_reads_no_layer_has_no_cascade():
    with pytest.raises(NotApplicable, match="reads none of the network's layers"):
        mprt(mlp(), rows(), model_blind)


def test_metadata():
    for fn in (model_parameter_randomisation, data_randomisation):
        info = info_of(fn)
        assert info.category == "sanity" and not info.higher_is_better and info.kinds == ("attribution",)


def test_n_instances_scores_and_re_explains_only_the_first_rows():
    explained = []

    def recording(model, X, target, rng=None):
        explained.append(len(X))
        return blind_after_evaluating(model, X, target)

    model, X = mlp(), rows()
    values = mprt(model, X, recording, n_instances=3, max_layers=2)
    assert explained == [20, 1, 3, 3]  # the original explanation, the probe (the first row), one per step
    np.testing.assert_allclose(values[:3], 1.0)
    assert np.isnan(values[3:]).all()
    with pytest.raises(ValueError, match="n_instances"):
        mprt(model, X, model_blind, n_instances=0)

"""Infidelity on a linear model, where the exact answer is known, and against captum's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.metrics import infidelity as captum_infidelity

from bench.core.explanation import Explanation
from bench.metrics.base import info_of
from bench.metrics.infidelity import (
    draw_perturbations,
    infidelity,
    infidelity_normalised,
)
from tests.metrics.conftest import Linear, make_context


class Curved:
    """f(x) = sin(x) @ w + x0 * x1: a regressor no attribution fits exactly."""

    classes_ = None
    w = np.array([1.0, -2.0, 0.5])

    def predict(self, X):
        return self.forward(np.asarray(X))

    @staticmethod
    def forward(X):
        return np.sin(X) @ Curved.w + X[:, 0] * X[:, 1]


def explanation(values, target=None):
    values = np.asarray(values, dtype=float)
    return Explanation(values, "attribution", np.zeros(len(values), dtype=int) if target is None else target)


def score(fn, model, X, values, *, seed=0, **params):
    return fn(model, X, explanation(values), context=make_context(X), rng=np.random.default_rng(seed), **params)


X = np.random.default_rng(1).normal(size=(4, 3))


@pytest.mark.parametrize("perturbation", ["noisy_baseline", "gaussian"])
def test_the_weights_of_a_linear_model_have_infidelity_zero(perturbation):
    # f(x) - f(x - I) = w.I = I^T phi for phi = w, whatever I is.
    model = Linear([2.0, -1.0, 0.5])
    values = np.tile(model.w, (len(X), 1))
    assert score(infidelity, model, X, values, perturbation=perturbation) == pytest.approx(np.zeros(4), abs=1e-12)
    assert score(infidelity_normalised, model, X, values, perturbation=perturbation) == pytest.approx(np.zeros(4),
                                                                                                    abs=1e-12)


def test_normalised_infidelity_forgives_scale_and_plain_infidelity_does_not():
    model = Linear([2.0, -1.0, 0.5])
    c, noise_std, m = 3.0, 0.2, 4000
    values = c * np.tile(model.w, (len(X), 1))
    assert score(infidelity_normalised, model, X, values, perturbation="gaussian",
                 n_perturbations=m) == pytest.approx(np.zeros(4), abs=1e-12)
    # Plain: E[((c - 1) w.I)^2] = (c - 1)^2 noise_std^2 ||w||^2 under gaussian I (Monte Carlo).
    plain = score(infidelity, model, X, values, perturbation="gaussian", noise_std=noise_std, n_perturbations=m)
    expected = (c - 1) ** 2 * noise_std ** 2 * model.w @ model.w
    assert plain == pytest.approx(np.full(4, expected), rel=0.1)


def test_a_zero_explanation_scores_the_mean_squared_output_drop():
    # I^T phi = 0: beta is taken as 0 (any beta gives the same) and both forms are E[Delta^2].
    model = Linear([2.0, -1.0, 0.5])
    zeros = np.zeros_like(X)
    plain = score(infidelity, model, X, zeros, perturbation="gaussian")
    assert np.all(plain > 0)
    assert score(infidelity_normalised, model, X, zeros, perturbation="gaussian") == pytest.approx(plain)


def captum_replay(X, values, *, perturbation, noise_std, m, seed, normalize):
    """captum's infidelity on the same perturbations as ours (replayed through perturb_func)."""
    perturbations, perturbed = draw_perturbations(X, perturbation=perturbation, noise_std=noise_std,
                                                  n_perturbations=m, rng=np.random.default_rng(seed))

    def perturb_func(inputs):
        # captum repeats each input m times in a row (repeat_interleave): our (n, m, d) order.
        return (torch.as_tensor(perturbations.reshape(-1, X.shape[1])),
                torch.as_tensor(perturbed.reshape(-1, X.shape[1])))

    def forward(inputs):
        return torch.as_tensor(Curved.forward(inputs.numpy()))

    return captum_infidelity(forward, perturb_func, torch.as_tensor(X), torch.as_tensor(values),
                             n_perturb_samples=m, normalize=normalize).numpy()


@pytest.mark.parametrize("perturbation", ["noisy_baseline", "gaussian"])
@pytest.mark.parametrize("fn, normalize", [(infidelity, False), (infidelity_normalised, True)])
def test_matches_captum_on_the_same_perturbations(perturbation, fn, normalize):
    values = np.random.default_rng(2).normal(size=X.shape)
    ours = score(fn, Curved(), X, values, seed=5, perturbation=perturbation, noise_std=0.3, n_perturbations=50)
    theirs = captum_replay(X, values, perturbation=perturbation, noise_std=0.3, m=50, seed=5, normalize=normalize)
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_noisy_baseline_replaces_the_input_by_a_clipped_noisy_point():
    x = np.array([[5.0, -5.0]])
    perturbations, perturbed = draw_perturbations(x, perturbation="noisy_baseline", noise_std=10.0,
                                                  n_perturbations=200, rng=np.random.default_rng(0))
    assert perturbed.min() == 0.0 and perturbed.max() == 1.0  # clip(-noise_std z, 0, 1) at both ends
    assert perturbations == pytest.approx(x[:, None, :] - perturbed)


def test_classifier_scores_the_target_class_probability():
    class Softmax:
        classes_ = np.array([0, 1, 2])

        def predict_proba(self, X):
            logits = np.asarray(X) @ np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0], [0.5, 0.0, 0.0]])
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

    model, values = Softmax(), np.random.default_rng(3).normal(size=X.shape)
    target = np.array([0, 1, 2, 1])
    ours = infidelity(model, X, explanation(values, target), context=make_context(X), rng=np.random.default_rng(4),
                      perturbation="gaussian", n_perturbations=30)
    perturbations, perturbed = draw_perturbations(X, perturbation="gaussian", noise_std=0.2, n_perturbations=30,
                                                  rng=np.random.default_rng(4))
    p_x = model.predict_proba(X)[np.arange(4), target]
    p_perturbed = model.predict_proba(perturbed.reshape(-1, 3)).reshape(4, 30, 3)[np.arange(4), :, target]
    expected = ((np.einsum("nmd,nd->nm", perturbations, values) - (p_x[:, None] - p_perturbed)) ** 2).mean(axis=1)
    assert ours == pytest.approx(expected)


def test_one_model_call_and_parameter_checks():
    model = Linear([1.0, 1.0, 1.0])
    score(infidelity, model, X, X, n_perturbations=20)
    assert model.calls == 1
    with pytest.raises(ValueError, match="perturbation must be one of"):
        score(infidelity, model, X, X, perturbation="uniform")
    with pytest.raises(ValueError, match="noise_std"):
        score(infidelity_normalised, model, X, X, noise_std=0.0)
    with pytest.raises(ValueError, match="n_perturbations"):
        score(infidelity, model, X, X, n_perturbations=0)


def test_metadata():
    for fn in (infidelity, infidelity_normalised):
        info = info_of(fn)
        assert info.category == "faithfulness" and not info.higher_is_better and info.kinds == ("attribution",)

"""Sparseness, complexity and faithfulness correlation on cases whose values are known."""

from __future__ import annotations

import numpy as np
import pytest

from bench.core.explanation import Concepts, DecisionPath, Explanation
from bench.metrics import complexity, faithfulness_correlation, info_of, sparseness
from bench.metrics.subsample import first_instances
from tests.metrics.conftest import Linear, make_context


def explanation(values, target=None):
    values = np.asarray(values, dtype=float)
    return Explanation(values, "attribution", np.zeros(len(values), dtype=int) if target is None else target)


def test_sparseness_is_the_gini_index_of_the_magnitudes():
    e = explanation([[0, 0, 0, 5.0], [1, 1, 1, 1], [-3, 0, 0, 0], [1, 2, 3, 4], [0, 0, 0, 0]])
    d = 4
    # Gini of (1, 2, 3, 4): sum (2i - d - 1) a_i / (d sum a) = (-3 - 2 + 3 + 12) / (4 * 10) = 0.25.
    np.testing.assert_allclose(sparseness(None, None, e, context=make_context(), rng=None),
                               [(d - 1) / d, 0, (d - 1) / d, 0.25, 0])
    assert info_of(sparseness).category == "complexity" and info_of(sparseness).higher_is_better


def test_complexity_is_the_entropy_of_the_normalised_magnitudes():
    e = explanation([[0, 0, 0, 5.0], [1, 1, 1, 1], [-2, 2, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(complexity(None, None, e, context=make_context(), rng=None),
                               [0, np.log(4), np.log(2), np.log(4)], atol=1e-12)
    assert not info_of(complexity).higher_is_better


@pytest.fixture
def linear_case():
    rng = np.random.default_rng(0)
    w = rng.normal(size=8)
    return Linear(w), rng.normal(size=(6, 8)), rng.normal(size=(40, 8))


def test_faithfulness_correlation_of_a_linear_models_exact_attributions_is_one(linear_case):
    model, X, background = linear_case
    exact = explanation((X - background.mean(axis=0)) * model.w)  # removing S drops f by their sum
    values = faithfulness_correlation(model, X, exact, context=make_context(background), rng=np.random.default_rng(0))
    np.testing.assert_allclose(values, 1.0, atol=1e-12)
    assert model.calls == 1  # every perturbed input of the six instances in one call


def test_faithfulness_correlation_of_unrelated_attributions_is_about_zero_and_seeded(linear_case):
    model, X, background = linear_case
    noise = explanation(np.random.default_rng(5).normal(size=X.shape))
    score = lambda seed: faithfulness_correlation(  # noqa: E731
        model, X, noise, context=make_context(background), rng=np.random.default_rng(seed), n_subsets=400)
    assert abs(score(0).mean()) < 0.15
    np.testing.assert_array_equal(score(0), score(0))
    negated = explanation(-(X - background.mean(axis=0)) * model.w)
    np.testing.assert_allclose(faithfulness_correlation(model, X, negated, context=make_context(background),
                                                        rng=np.random.default_rng(0)), -1.0, atol=1e-12)


def test_faithfulness_correlation_is_undefined_for_a_constant_model_and_checks_its_options(linear_case):
    _, X, background = linear_case
    flat = Linear(np.zeros(8))
    values = faithfulness_correlation(flat, X, explanation(X), context=make_context(background), rng=np.random.default_rng(0))
    assert np.isnan(values).all()
    with pytest.raises(ValueError, match="subset_fraction"):
        faithfulness_correlation(flat, X, explanation(X), context=make_context(background), rng=np.random.default_rng(0),
                                 subset_fraction=0)


def test_the_first_instances_of_a_concepts_or_path_explanation_keep_their_parts_aligned():
    concepts = Concepts(np.arange(6.0).reshape(3, 2), np.ones((3, 2)), np.zeros((3, 2, 4)))
    X, first = first_instances(np.zeros((3, 4)), Explanation(np.ones((3, 4)), "concepts", np.arange(3),
                                                             concepts=concepts), 2, "m")
    assert X.shape == (2, 4) and first.concepts.activations.tolist() == [[0, 1], [2, 3]]
    assert first.concepts.to_input.shape == (2, 2, 4) and first.values.shape == (2, 4)
    path = DecisionPath(routes=(("a",), ("b",), ("c",)), nodes=((1,), (2,), (3,)))
    _, first = first_instances(np.zeros((3, 4)), Explanation(None, "path", np.arange(3), input_shape=(4,), path=path),
                               1, "m")
    assert first.path.routes == (("a",),) and first.path.nodes == ((1,),) and first.values is None

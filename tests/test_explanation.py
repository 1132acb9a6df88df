"""The Explanation type's own helpers."""

from __future__ import annotations

import numpy as np
import pytest

from bench.core.explanation import Concepts, DecisionPath, Explanation, reference_input


def test_attributions_of_one_hot_columns_sum_to_their_original_column():
    e = Explanation(np.arange(8.0).reshape(2, 4), "attribution", np.zeros(2, int))
    frame = e.by_source_column(["age", "colour", "colour", "size"])
    assert list(frame.columns) == ["age", "colour", "size"]
    np.testing.assert_array_equal(frame.to_numpy(), [[0, 3, 3], [4, 11, 7]])
    with pytest.raises(ValueError, match="do not match 3 encoded columns"):
        e.by_source_column(["a", "b", "c"])


def test_the_reference_input_is_the_background_mean_or_zeros():
    background = np.arange(12.0).reshape(3, 1, 2, 2)
    np.testing.assert_array_equal(reference_input(background, "mean"), background.mean(axis=0))
    assert reference_input(background, "zero").shape == (1, 2, 2) and not reference_input(background, "zero").any()
    with pytest.raises(ValueError, match="baseline must be one of"):
        reference_input(background, "blur")


def concepts(n=3, J=2, d=4) -> Concepts:
    rng = np.random.default_rng(0)
    return Concepts(activations=rng.random((n, J)), relevance=rng.normal(size=(n, J)), to_input=rng.random((J, d)))


def test_a_concepts_explanation_without_a_view_offers_concepts_only():
    e = Explanation(None, "concepts", np.zeros(3, int), input_shape=(1, 2, 2), concepts=concepts())
    assert e.offers("concepts") and not e.offers("attribution") and e.n_features == 4
    with_view = Explanation(np.ones((3, 4)), "concepts", np.zeros(3, int), input_shape=(1, 2, 2), concepts=concepts())
    assert with_view.offers("attribution")


def test_a_path_explanation_holds_a_route_per_instance():
    path = DecisionPath(routes=(("x[0] <= 1", "leaf 2"),) * 2, nodes=((0, 2),) * 2)
    e = Explanation(None, "path", np.zeros(2, int), input_shape=(3,), path=path)
    assert e.offers("path") and not e.offers("attribution")
    with pytest.raises(ValueError, match="3 routes for 2 explained instances"):
        Explanation(None, "path", np.zeros(2, int), input_shape=(3,), path=DecisionPath(routes=((),) * 3))


@pytest.mark.parametrize("make, message", [
    (lambda: Explanation(None, "attribution", np.zeros(3, int), input_shape=(4,)), "needs its values"),
    (lambda: Explanation(None, "concepts", np.zeros(3, int)), "needs its input_shape"),
    (lambda: Explanation(None, "concepts", np.zeros(3, int), input_shape=(4,)), "needs its Concepts"),
    (lambda: Explanation(None, "concepts", np.zeros(3, int), input_shape=(5,), concepts=concepts()),
     "to_input (2, 4) must be (J, d) = (2, 5)"),
    (lambda: Explanation(None, "concepts", np.zeros(4, int), input_shape=(4,), concepts=concepts()),
     "must both be (n, J) = (4, J)"),
    (lambda: Explanation(np.ones((3, 5)), "attribution", np.zeros(3, int), input_shape=(1, 2, 2)),
     "5 attributions per instance for inputs of shape (1, 2, 2)"),
    (lambda: Explanation(np.ones((3, 4)), "verdict", np.zeros(3, int)), "kind must be one of"),
])
def test_an_explanation_that_does_not_add_up_is_refused(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert message in str(error.value)

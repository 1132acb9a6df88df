"""LIME read as a post-hoc interpreter (lime_image with every_class, bench/explainers/lime_explainers.py)
and its fidelity (bench/metrics/fidelity.py): on held-out perturbations the surrogates' class can
disagree with the model's, where at the instance it cannot."""

from __future__ import annotations

import numpy as np
import pytest

from bench.core.calls import CountingModel
from bench.explainers import LimeImage
from bench.metrics.fidelity import surrogate_fidelity, surrogate_fidelity_at_instance


class TwoCells:
    """Two classes on 4x4 grey images cut in four 2x2 cells: a, b are the means of the top-left and
    top-right cells, and class 1's probability is sigmoid(8 (rule(a, b) - 1/2))."""

    classes_ = np.array([0, 1])

    def __init__(self, rule):
        self.rule = rule

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        a, b = images[:, 0, :2, :2].mean(axis=(1, 2)), images[:, 0, :2, 2:].mean(axis=(1, 2))
        p = 1 / (1 + np.exp(-8 * (self.rule(a, b) - 0.5)))
        return np.stack([1 - p, p], axis=1)


XOR = TwoCells(lambda a, b: a + b - 2 * a * b)  # class 1 where exactly one of the two cells is on
LINEAR = TwoCells(lambda a, b: a)  # class 1 where the top-left cell is on: linear in the cells
IMAGES = np.ones((4, 1, 4, 4))  # every cell on (1); a hidden cell is 0


def interpreted(model, seed=0, **options):
    explainer = LimeImage(num_samples=300, hide_color=0.0, every_class=True, **options)
    explanation = explainer.explain(model, IMAGES, target=None, rng=np.random.default_rng(seed))
    score = lambda metric: metric(model, IMAGES, explanation, context=None, rng=None)  # noqa: E731
    return explanation, score(surrogate_fidelity), score(surrogate_fidelity_at_instance)


def test_a_model_no_linear_surrogate_can_follow_fails_on_held_out_neighbours_not_at_the_instance():
    _, held_out, at_instance = interpreted(XOR)
    # A line in (a, b) gets at most 3 of XOR's 4 corners right, each drawn with probability 1/4.
    assert at_instance.tolist() == [1.0] * 4 and held_out.mean() < 0.85
    assert held_out.min() < 0.9


def test_a_model_linear_in_the_cells_is_followed_on_held_out_neighbours():
    _, held_out, at_instance = interpreted(LINEAR)
    assert at_instance.tolist() == [1.0] * 4 and held_out.mean() > 0.98


def test_held_out_neighbours_are_fresh_draws_of_limes_perturbations_seeded_and_counted():
    explanation, *_ = interpreted(LINEAR, held_out_samples=50)
    model_class = explanation.extras["held_out_model_class"]
    assert model_class.shape == explanation.extras["held_out_surrogate_class"].shape == (4, 50)
    # The top-left cell is on in half of them (class 1), not in all, as the instance.
    assert model_class.mean() == pytest.approx(0.5, abs=0.1)
    again, *_ = interpreted(LINEAR, held_out_samples=50)
    np.testing.assert_array_equal(again.extras["held_out_model_class"], model_class)
    other, *_ = interpreted(LINEAR, seed=1, held_out_samples=50)
    assert not np.array_equal(other.extras["held_out_model_class"], model_class)
    # Every neighbour is a model evaluation the run counts, beside lime's own.
    counted = CountingModel(LINEAR)
    LimeImage(num_samples=300, every_class=True, held_out_samples=50).explain(
        counted, IMAGES, target=None, rng=np.random.default_rng(0))
    assert counted.rows == 4 * (1 + 300 + 50)  # target=None: 1 row per image for its predicted class


def test_the_explained_classs_attribution_is_the_same_with_and_without_the_interpreter_reading():
    explain = lambda every_class: LimeImage(num_samples=300, hide_color=0.0, every_class=every_class).explain(  # noqa: E731
        XOR, IMAGES, target=np.ones(4, int), rng=np.random.default_rng(0))
    alone = explain(False)
    np.testing.assert_array_equal(explain(True).values, alone.values)
    assert alone.extras == {}


def test_held_out_samples_must_be_a_positive_count():
    with pytest.raises(ValueError, match="held_out_samples"):
        LimeImage(held_out_samples=0)


@pytest.mark.parametrize("segmentation", ["slic", "quickshift", "felzenszwalb"])
def test_every_segmentation_labels_its_superpixels_from_0(segmentation):
    image = np.random.default_rng(0).random((28, 28, 3))
    segments = LimeImage(segmentation=segmentation)._segments(0)(image)
    assert segments.shape == (28, 28) and np.array_equal(np.unique(segments), np.arange(segments.max() + 1))

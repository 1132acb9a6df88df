"""The removal metrics on images: patches as units, the blur reference, and ROAD's noisy linear
imputation, each on a case whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from bench.core.errors import NotApplicable
from bench.core.images import BLUR_SIGMA
from bench.metrics import deletion_auc, faithfulness_correlation, info_of, road_lerf, road_morf
from bench.core.calls import CountingModel
from bench.metrics.deletion import deletion_curve
from bench.metrics.road import linear_imputation, road_curve
from tests.metrics.conftest import Linear, explanation, make_context

RNG = np.random.default_rng(0)


def of_image(values: np.ndarray, target=None):
    """An attribution of images: values flattened per image, as explainers return them."""
    return explanation(values.reshape(len(values), -1), target)


def patchwise_weights() -> np.ndarray:
    """(1, 4, 4) weights constant on each 2x2 patch: patch sums 1, 4 (top row), 2, 3 (bottom row)."""
    return np.kron(np.array([[0.25, 1.0], [0.5, 0.75]]), np.ones((2, 2)))[None]


def test_deletion_by_patches_removes_whole_patches_in_the_order_of_their_attribution_sums():
    w = patchwise_weights()
    model, x = Linear(w.ravel()), np.ones((1, 1, 4, 4))
    # Patches removed by decreasing sum 4, 3, 2, 1 (zero baseline): outputs 10, 6, 3, 1, 0 at
    # fractions 0, 1/4, ..., 1; area = (1/4) * (8 + 4.5 + 2 + 0.5) = 3.75.
    fractions, curve = deletion_curve(model, x, of_image(x * w), context=make_context(np.zeros((1, 1, 4, 4))),
                                      rng=RNG, insertion=False, replacement="zero", step=1, n_samples=1, patch=2)
    np.testing.assert_allclose(fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(curve, [[10, 6, 3, 1, 0]])
    assert deletion_auc(model, x, of_image(x * w), context=make_context(np.zeros((1, 1, 4, 4))), rng=RNG,
                        replacement="zero", patch=2) == pytest.approx([3.75])
    # One pixel of 3 in the top-left patch (sum 3 + 3 * 0.25) outranks every single pixel but
    # not the patch of sum 4 beside it: the patch, not the pixel, is ranked.
    attribution = x * w
    attribution[0, 0, 0, 0] = 3.0
    _, curve = deletion_curve(model, x, of_image(attribution), context=make_context(np.zeros((1, 1, 4, 4))),
                              rng=RNG, insertion=False, replacement="zero", step=1, n_samples=1, patch=2)
    np.testing.assert_allclose(curve, [[10, 6, 5, 2, 0]])


def test_the_blur_reference_keeps_a_constant_image_and_inserts_into_the_blurred_image():
    w = RNG.normal(size=(1, 6, 6))
    model = Linear(w.ravel())
    constant = np.full((1, 1, 6, 6), 0.7)
    _, curve = deletion_curve(model, constant, of_image(constant * w), context=make_context(constant), rng=RNG,
                              insertion=False, replacement="blur", step=6, n_samples=1)
    np.testing.assert_allclose(curve, np.full_like(curve, 0.7 * w.sum()))  # blurring a constant changes nothing
    image = RNG.random((1, 1, 6, 6))
    _, curve = deletion_curve(model, image, of_image(image * w), context=make_context(image), rng=RNG,
                              insertion=True, replacement="blur", step=6, n_samples=1)
    blurred = gaussian_filter(image[0, 0], BLUR_SIGMA, mode="reflect")
    assert curve[0, 0] == pytest.approx((blurred * w[0]).sum())  # nothing inserted yet: the blurred image
    assert curve[0, -1] == pytest.approx((image[0] * w).sum())  # everything inserted: the image


def test_patches_and_blur_need_images():
    model, x = Linear([1.0, 2.0]), np.ones((1, 2))
    for options in ({"patch": 2}, {"replacement": "blur"}):
        with pytest.raises(NotApplicable, match="applies to images"):
            deletion_auc(model, x, explanation(x), context=make_context(np.zeros((1, 2))), rng=RNG, **options)


def test_faithfulness_correlation_over_patches_of_exact_attributions_is_one():
    w = RNG.normal(size=(1, 8, 8))
    model, images, background = Linear(w.ravel()), RNG.normal(size=(3, 1, 8, 8)), RNG.normal(size=(5, 1, 8, 8))
    exact = of_image((images - background.mean(axis=0)) * w)
    values = faithfulness_correlation(model, images, exact, context=make_context(background), rng=RNG, patch=2,
                                      n_subsets=20)
    np.testing.assert_allclose(values, 1.0)
    # Every subset removes whole 2x2 patches: 25% of the 16 patches, 4 patches of 4 pixels.
    recorder = Linear(w.ravel())
    seen = []
    recorder.predict = lambda X: seen.append(np.asarray(X)) or Linear.predict(recorder, X)
    faithfulness_correlation(recorder, images, exact, context=make_context(background), rng=RNG, patch=2,
                             n_subsets=20)
    removed = np.concatenate(seen)[:, 0] != np.repeat(images[:, 0], 21, axis=0)  # original first, then 20
    cells = removed.reshape(-1, 4, 2, 4, 2)
    assert (cells.all(axis=(2, 4)) | ~cells.any(axis=(2, 4))).all()  # a cell is removed whole or not at all
    assert set(cells.all(axis=(2, 4)).sum(axis=(1, 2))) == {0, 4}
    shuffled = explanation(RNG.permutation(exact.values.ravel()).reshape(exact.values.shape))
    assert np.all(faithfulness_correlation(model, images, shuffled, context=make_context(background), rng=RNG,
                                           patch=2, n_subsets=20) < 0.9)


def test_linear_imputation_of_one_pixel_is_the_weighted_mean_of_its_neighbours():
    image = np.arange(25.0).reshape(1, 5, 5) ** 2 / 10
    removed = np.zeros((5, 5), dtype=bool)
    removed[2, 2] = True
    direct = image[0, 1, 2] + image[0, 3, 2] + image[0, 2, 1] + image[0, 2, 3]
    diagonal = image[0, 1, 1] + image[0, 1, 3] + image[0, 3, 1] + image[0, 3, 3]
    imputed = linear_imputation(image, removed)
    assert imputed[0, 2, 2] == pytest.approx(direct / 6 + diagonal / 12)
    np.testing.assert_array_equal(imputed[:, ~removed], image[:, ~removed])  # known pixels untouched


def test_linear_imputation_reproduces_constants_everywhere_and_ramps_inside():
    removed = RNG.random((7, 7)) < 0.6
    constant = np.full((2, 7, 7), 3.0)  # two channels: one system, two right-hand sides
    np.testing.assert_allclose(linear_imputation(constant, removed), constant)
    i, j = np.mgrid[:7, :7]
    ramp = (0.5 * i - 0.25 * j + 1.0)[None]
    inside = np.zeros((7, 7), dtype=bool)
    inside[1:-1, 1:-1] = RNG.random((5, 5)) < 0.7  # every removed pixel has all 8 neighbours
    np.testing.assert_allclose(linear_imputation(ramp, inside), ramp)


class BlobClassifier:
    """Class 1 when the top-left 2x2 blob is bright (its mean above 0.5), class 0 otherwise."""

    classes_ = np.array([0, 1])

    def predict_proba(self, images):
        p = (np.asarray(images)[:, 0, :2, :2].mean(axis=(1, 2)) > 0.5).astype(float)
        return np.stack([1 - p, p], axis=1)


def test_road_removes_the_blob_first_along_morf_and_last_along_lerf():
    image = np.zeros((1, 1, 10, 10))
    image[0, 0, :2, :2] = 1.0
    # The attribution ranks the blob first; the blob's pixels have only dark or removed
    # neighbours, so MoRF imputes them dark from the first level (10% = 10 pixels) on: class 0.
    # LeRF removes at most 90 of the 96 dark pixels: the blob stays, class 1 at every level.
    attribution = of_image(image + 1e-3 * RNG.random(image.shape), target=np.array([1]))
    context = make_context(image, task_type="binary")
    assert road_morf(BlobClassifier(), image, attribution, context=context, rng=RNG) == pytest.approx([0.0])
    assert road_lerf(BlobClassifier(), image, attribution, context=context, rng=RNG) == pytest.approx([1.0])
    assert not info_of(road_morf).higher_is_better and info_of(road_lerf).higher_is_better
    assert "regression" not in info_of(road_morf).task_types


def test_road_noise_is_seeded_and_has_the_given_spread():
    image = np.full((1, 1, 28, 28), 0.5)
    attribution = of_image(RNG.random(image.shape), target=np.array([0]))
    class Recorder:
        classes_ = np.array([0, 1])

        def __init__(self):
            self.seen = []

        def predict_proba(self, images):
            self.seen.append(np.asarray(images).copy())
            return np.tile([1.0, 0.0], (len(images), 1))

    model = Recorder()
    road_curve(model, image, attribution, rng=np.random.default_rng(1), most_relevant_first=True, levels=1, noise=0.01)
    road_curve(model, image, attribution, rng=np.random.default_rng(1), most_relevant_first=True, levels=1, noise=0.01)
    first, second = model.seen
    np.testing.assert_array_equal(first, second)
    changed = first[0, 0] != 0.5
    assert changed.sum() == 392  # half of the 784 pixels, each imputed 0.5 plus noise
    assert np.std(first[0, 0][changed] - 0.5) == pytest.approx(0.01, rel=0.15)


def test_road_needs_images():
    with pytest.raises(NotApplicable, match="ROAD applies to images"):
        road_morf(BlobClassifier(), np.ones((2, 4)), explanation(np.ones((2, 4))), context=make_context(), rng=RNG)


@pytest.mark.parametrize("insertion", [False, True])
def test_points_that_repeat_the_previous_input_are_not_evaluated_and_the_curve_is_unchanged(insertion):
    # A dark image with 5 bright pixels: removing (inserting) a dark pixel with the zero baseline
    # shows the model the same input again.
    image = np.zeros((2, 1, 5, 5))
    image[:, 0, 1:4, 2] = 1.0
    image[1, 0, 0, :2] = 0.5
    w = RNG.normal(size=25)
    attribution = of_image(RNG.normal(size=image.shape))
    counted = CountingModel(Linear(w))
    _, curve = deletion_curve(counted, image, attribution, context=make_context(np.zeros((1, 1, 5, 5))), rng=RNG,
                              insertion=insertion, replacement="zero", step=1, n_samples=1)
    flat = image.reshape(2, 25)
    order = np.argsort(-attribution.values, axis=1, kind="stable")
    for i in range(2):
        for removed in range(26):
            kept = np.ones(25, dtype=bool)
            kept[order[i, :removed]] = False
            present = ~kept if insertion else kept
            assert curve[i, removed] == pytest.approx(flat[i] @ (w * present))
    # One evaluation for the first point, then one per bright pixel: 1 + 3 and 1 + 5.
    assert counted.rows == (1 + 3) + (1 + 5)

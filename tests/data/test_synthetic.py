"""XAI-Bench's synthetic generators at points whose value is known, and the embedded source."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.data.embedded import EmbeddedSource
from bench.data.source import TaskRef
from bench.data.synthetic import (
    INTERACTION_STRENGTH,
    PLANTED_INTERACTIONS,
    covariance,
    gaussian_linear,
    gaussian_nonlinear_additive,
    gaussian_pairwise_interaction,
    gaussian_piecewise_constant,
    generate,
)

# --- label functions -----------------------------------------------------------------------


def test_linear_label_is_x_times_4_3_2_1_0():
    x = np.vstack([np.eye(5), [1.0, -1.0, 2.0, 0.5, 9.0]])
    np.testing.assert_array_equal(gaussian_linear(x), [4.0, 3.0, 2.0, 1.0, 0.0, 4.0 - 3.0 + 4.0 + 0.5])


def test_piecewise_label_at_a_documented_point():
    # g0(0.3) = 1, g1(-0.2) = -1, g2(1.0) = -1 since cos(pi) = -1.
    assert gaussian_piecewise_constant(np.array([[0.3, -0.2, 1.0, 0.0, 0.0]])).tolist() == [-1.0]


@pytest.mark.parametrize(("x0", "g0"), [(-0.1, -1.0), (0.0, 1.0), (2.0, 1.0)])
def test_piecewise_g0_is_a_sign_step(x0, g0):
    # x1 = 0 and x2 = 0 contribute g1 = 1 and g2 = 1.
    assert gaussian_piecewise_constant(np.array([[x0, 0.0, 0.0, 0.0, 0.0]])).tolist() == [g0 + 2.0]


@pytest.mark.parametrize(("x1", "g1"), [
    (-3.0, -2.0), (-0.51, -2.0), (-0.5, -1.0), (-0.01, -1.0), (0.0, 1.0), (0.49, 1.0), (0.5, 2.0), (3.0, 2.0),
])
def test_piecewise_g1_steps_at_minus_half_zero_and_half(x1, g1):
    # x0 = 0 and x2 = 0 contribute g0 = 1 and g2 = 1.
    assert gaussian_piecewise_constant(np.array([[0.0, x1, 0.0, 0.0, 0.0]])).tolist() == [g1 + 2.0]


@pytest.mark.parametrize(("x2", "g2"), [(0.0, 1.0), (0.6, 1.0), (0.7, -1.0), (1.0, -1.0), (-1.0, -1.0), (2.0, 1.0)])
def test_piecewise_g2_is_minus_one_where_cos_pi_x_is_at_most_minus_half(x2, g2):
    # cos(0.6 pi) = -0.31 and cos(0.7 pi) = -0.59; x0 = 0 and x1 = 0 contribute g0 = g1 = 1.
    assert gaussian_piecewise_constant(np.array([[0.0, 0.0, x2, 0.0, 0.0]])).tolist() == [g2 + 2.0]


def test_nonlinear_additive_label_at_known_points():
    x = np.array([[0.0] * 5, [np.pi / 2, -2.0, 3.0, 0.0, 7.0]])
    # sin 0 + |0| + 0^2 + exp(0) = 1;  sin(pi/2) + |-2| + 3^2 + exp(0) = 13 (x4 is unused).
    np.testing.assert_array_equal(gaussian_nonlinear_additive(x), [1.0, 13.0])


# --- covariance ----------------------------------------------------------------------------

def test_covariance_has_ones_on_the_diagonal_and_rho_off_it():
    expected = np.full((5, 5), 0.5)
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_array_equal(covariance(0.5), expected)


@pytest.mark.parametrize("rho", [-0.25, -0.3, 1.0, 1.5])
def test_covariance_refuses_rho_outside_the_positive_definite_range(rho):
    # For d = 5 the range is (-1/4, 1), both ends excluded.
    with pytest.raises(ValueError, match="rho"):
        covariance(rho)


# --- generate ------------------------------------------------------------------------------

def generate_linear(*, mode: str = "regression", seed: int = 0, n_train: int = 100, n_test: int = 40, rho: float = 0.5):
    return generate("gaussianLinear", rho=rho, n_train=n_train, n_test=n_test, noise_std=0.1, mode=mode,
                    rng=np.random.default_rng(seed))


def test_generate_returns_train_then_test_rows():
    X, y = generate_linear()
    assert X.shape == (140, 5)
    assert y.shape == (140,)


def test_regression_target_is_standardised_within_train_and_within_test():
    _, y = generate_linear()
    for part in (y[:100], y[100:]):
        assert part.mean() == pytest.approx(0.0, abs=1e-12)
        assert part.std() == pytest.approx(1.0, rel=1e-12)


def test_the_seed_decides_the_data():
    np.testing.assert_array_equal(generate_linear(seed=3)[0], generate_linear(seed=3)[0])
    np.testing.assert_array_equal(generate_linear(seed=3)[1], generate_linear(seed=3)[1])
    assert not np.array_equal(generate_linear(seed=3)[0], generate_linear(seed=4)[0])


def test_classification_mode_gives_binary_labels():
    _, y = generate_linear(mode="classification")
    assert set(np.unique(y).tolist()) == {0, 1}


def test_nonlinear_additive_has_no_classification_mode():
    with pytest.raises(ValueError, match="gaussianNonLinearAdditive"):
        generate("gaussianNonLinearAdditive", rho=0.0, n_train=10, n_test=10, noise_std=0.1, mode="classification",
                 rng=np.random.default_rng(0))


def test_sample_covariance_is_close_to_sigma():
    X, _ = generate_linear(n_train=20_000, n_test=10, rho=0.5)
    # Statistical check: the standard error of a sample covariance entry is
    # sqrt((s_ii s_jj + s_ij^2) / n) <= sqrt(2 / 20010) ~ 0.01, so 0.05 is five standard errors
    # for every one of the 15 distinct entries (and the seed is fixed, so the test is not flaky).
    np.testing.assert_allclose(np.cov(X, rowvar=False), covariance(0.5), rtol=0, atol=0.05)


# --- EmbeddedSource ------------------------------------------------------------------------

def embedded(datasets, **options) -> EmbeddedSource:
    settings = dict(suite="embedded", folds="all", n_folds=5, rho=0.5, n_train=80, n_test=20, noise_std=0.1,
                    synthetic_mode="regression", preprocess={}, seed=0)
    return EmbeddedSource(datasets=datasets, **{**settings, **options})


def test_refs_list_the_configured_datasets():
    refs = embedded(["wdbc", "gaussianLinear"]).refs()
    assert refs == [TaskRef("embedded", "wdbc", dataset_id=1510), TaskRef("embedded", "gaussianLinear")]


def test_wdbc_is_a_binary_tabular_task_with_five_stratified_folds():
    source = embedded(["wdbc"])
    task = source.load(source.refs()[0])
    assert (task.name, task.task_type, task.input_kind, task.dataset_id) == ("wdbc", "binary", "tabular", 1510)
    assert isinstance(task.X, pd.DataFrame) and task.X.shape == (569, 30)
    assert [s.kind for s in task.splits] == ["local"] * 5
    # 212 malignant of 569 rows: 42.4 per test fold of a stratified 5-fold split.
    assert sorted((task.y[s.test] == "malignant").sum() for s in task.splits) == [42, 42, 42, 43, 43]


def test_digits_is_an_image_task_scaled_to_the_unit_interval():
    source = embedded(["digits"])
    task = source.load(source.refs()[0])
    assert (task.task_type, task.input_kind) == ("multiclass", "image")
    assert task.X.shape == (1797, 1, 8, 8)
    assert (task.X.min(), task.X.max()) == (0.0, 1.0)


def test_synthetic_task_has_one_generated_split_and_skips_preprocessing():
    source = embedded(["gaussianLinear"], n_train=80, n_test=20)
    task = source.load(source.refs()[0])
    (split,) = task.splits
    assert split.kind == "generated"
    np.testing.assert_array_equal(split.train, np.arange(80))
    np.testing.assert_array_equal(split.test, np.arange(80, 100))
    assert task.X.shape == (100, 5)
    assert task.metadata["preprocess"] is False


def test_unknown_dataset_is_refused_with_the_available_names():
    with pytest.raises(ValueError, match="unknown embedded dataset") as error:
        embedded(["wdbc", "nope"])
    for name in ("'nope'", "wdbc", "digits", "gaussianLinear", "gaussianNonLinearAdditive", "gaussianPiecewiseConstant"):
        assert name in str(error.value)


def test_compat_reproduces_the_original_piecewise_g1_only_on_its_quirky_interval():
    x = np.zeros((3, 5))
    x[:, 1] = [-0.3, -0.7, 0.2]  # g1: the quirk's interval, then two others
    correct = gaussian_piecewise_constant(x)
    quirky = gaussian_piecewise_constant(x, compat="xaibench")
    np.testing.assert_array_equal(quirky - correct, [1.0, 0.0, 0.0])  # 0 instead of -1 on [-0.5, 0)


def test_pairwise_interaction_label_is_linear_plus_the_planted_product():
    x = np.array([[1.0, 0.0, 2.0, 0.0, -1.5]])
    (i, j), = PLANTED_INTERACTIONS["gaussianPairwiseInteraction"]
    assert (i, j) == (2, 4)
    assert gaussian_pairwise_interaction(x).tolist() == [4.0 + 2 * 2.0 + INTERACTION_STRENGTH * 2.0 * -1.5]


def test_synthetic_tasks_carry_their_distribution_and_planted_pairs():
    task = embedded(["gaussianPairwiseInteraction"], compat="xaibench").load(TaskRef("embedded", "gaussianPairwiseInteraction"))
    truth = task.metadata["truth"]
    np.testing.assert_array_equal(truth.distribution.cov, covariance(0.5))
    assert truth.interactions == ((2, 4),) and task.metadata["compat"] == "xaibench"


def test_an_unknown_compat_mode_is_named():
    with pytest.raises(ValueError, match="compat must be one of"):
        embedded(["gaussianLinear"], compat="original")

"""The exact Gaussian conditional against its closed form."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data.gaussian import Gaussian
from bench.data.synthetic import covariance


def closed_form(gaussian: Gaussian, x: np.ndarray, kept: list[int]) -> tuple[np.ndarray, np.ndarray]:
    removed = [j for j in range(gaussian.n_features) if j not in kept]
    cov, mu = gaussian.cov, gaussian.mean
    solve = cov[np.ix_(removed, kept)] @ np.linalg.inv(cov[np.ix_(kept, kept)])
    mean = mu[removed] + solve @ (x[kept] - mu[kept])
    return mean, cov[np.ix_(removed, removed)] - solve @ cov[np.ix_(kept, removed)]


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.99])
def test_conditional_samples_match_the_closed_form_mean_and_covariance(rho):
    gaussian = Gaussian(np.array([1.0, -1.0, 0.0, 2.0, 0.5]), covariance(rho))
    x = np.array([0.3, 1.2, -0.7, 2.5, 0.0])
    kept = [0, 2]
    keep = np.isin(np.arange(5), kept)
    samples = gaussian.sample_conditional(x, keep, 100_000, np.random.default_rng(0))
    mean, cov = closed_form(gaussian, x, kept)
    removed = ~keep
    np.testing.assert_array_equal(samples[:, keep], np.broadcast_to(x[keep], (100_000, 2)))
    np.testing.assert_allclose(samples[:, removed].mean(axis=0), mean, atol=1e-2)
    np.testing.assert_allclose(np.cov(samples[:, removed], rowvar=False), cov, atol=1e-2)
    np.testing.assert_allclose(gaussian.conditional_mean(x, keep)[removed], mean, atol=1e-12)


def test_many_masks_at_once_equal_one_mask_at_a_time():
    gaussian = Gaussian(np.zeros(4), covariance(0.25, d=4))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 3, 4))
    keep = rng.random((6, 3, 4)) < 0.5
    together = gaussian.conditional_mean(x, keep)
    for i in range(6):
        for j in range(3):
            np.testing.assert_allclose(together[i, j], gaussian.conditional_mean(x[i, j], keep[i, j]), atol=1e-12)


def test_no_kept_feature_samples_the_marginal_and_all_kept_returns_x():
    gaussian = Gaussian(np.array([1.0, 2.0]), np.array([[1.0, 0.5], [0.5, 2.0]]))
    x = np.array([5.0, 5.0])
    marginal = gaussian.sample_conditional(x, np.zeros(2, bool), 100_000, np.random.default_rng(2))
    np.testing.assert_allclose(marginal.mean(axis=0), gaussian.mean, atol=2e-2)
    np.testing.assert_allclose(np.cov(marginal, rowvar=False), gaussian.cov, atol=3e-2)
    np.testing.assert_array_equal(gaussian.sample_conditional(x, np.ones(2, bool), 3, np.random.default_rng(0)),
                                  np.tile(x, (3, 1)))


def test_rejects_a_mismatched_covariance():
    with pytest.raises(ValueError, match="covariance"):
        Gaussian(np.zeros(3), np.eye(2))

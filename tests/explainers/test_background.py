"""The background summaries: seeded samples of training rows, or the rows nearest k-means
centres."""

from __future__ import annotations

import numpy as np
import pytest

from bench.explainers.background import summarize


@pytest.fixture
def training():
    rng = np.random.default_rng(0)
    numeric = rng.normal(size=(200, 2))
    one_hot = np.eye(3)[rng.integers(3, size=200)]
    return np.hstack([numeric, one_hot]).astype(np.float32)


def test_sample_summary_is_distinct_training_rows_chosen_by_the_seed(training):
    rows = summarize(training, 20, "sample", np.random.default_rng(1))
    assert rows.shape == (20, 5) and len(np.unique(rows, axis=0)) == 20
    assert all((training == row).all(axis=1).any() for row in rows)
    np.testing.assert_array_equal(rows, summarize(training, 20, "sample", np.random.default_rng(1)))


def test_kmeans_summary_is_the_training_rows_nearest_the_centres(training):
    rows = summarize(training, 8, "kmeans", np.random.default_rng(0))
    assert rows.shape == (8, 5) and rows.dtype == training.dtype
    assert all((training == row).all(axis=1).any() for row in rows)  # real rows: one-hot groups stay valid
    np.testing.assert_array_equal(rows[:, 2:].sum(axis=1), 1)
    np.testing.assert_array_equal(rows, summarize(training, 8, "kmeans", np.random.default_rng(0)))
    # Rows from every cluster spread over the data, which a handful of sampled rows need not.
    assert len(np.unique(rows[:, 2:], axis=0)) == 3


def test_a_summary_no_smaller_than_the_data_is_the_data_and_unknown_methods_are_refused(training):
    np.testing.assert_array_equal(summarize(training[:5], 10, "kmeans", np.random.default_rng(0)), training[:5])
    with pytest.raises(ValueError, match="background_summary must be one of"):
        summarize(training, 10, "medoids", np.random.default_rng(0))

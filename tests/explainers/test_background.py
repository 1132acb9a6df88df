"""The background summaries: seeded samples of training rows, or k-means centres snapped to
values the features take."""

from __future__ import annotations

import numpy as np
import pytest

from bench.explainers.background import summarize
from bench.explanation import Explanation


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


def test_kmeans_summary_snaps_every_value_to_one_seen_in_training(training):
    centres = summarize(training, 8, "kmeans", np.random.default_rng(0))
    assert centres.shape == (8, 5) and centres.dtype == training.dtype
    for j in range(5):
        assert np.isin(centres[:, j], training[:, j]).all()
    assert set(np.unique(centres[:, 2:])) <= {0.0, 1.0}  # one-hot columns stay 0/1
    np.testing.assert_array_equal(centres, summarize(training, 8, "kmeans", np.random.default_rng(0)))
    # The centres summarise the data: their mean lies near its mean.
    assert np.abs(centres[:, :2].mean(axis=0) - training[:, :2].mean(axis=0)).max() < 0.5


def test_a_summary_no_smaller_than_the_data_is_the_data_and_unknown_methods_are_refused(training):
    np.testing.assert_array_equal(summarize(training[:5], 10, "kmeans", np.random.default_rng(0)), training[:5])
    with pytest.raises(ValueError, match="background_summary must be one of"):
        summarize(training, 10, "medoids", np.random.default_rng(0))


def test_attributions_of_one_hot_columns_sum_to_their_original_column():
    e = Explanation(np.arange(8.0).reshape(2, 4), "attribution", np.zeros(2, int))
    frame = e.by_source_column(["age", "colour", "colour", "size"])
    assert list(frame.columns) == ["age", "colour", "size"]
    np.testing.assert_array_equal(frame.to_numpy(), [[0, 3, 3], [4, 11, 7]])
    with pytest.raises(ValueError, match="do not match 3 encoded columns"):
        e.by_source_column(["a", "b", "c"])

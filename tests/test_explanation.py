"""The Explanation type's own helpers."""

from __future__ import annotations

import numpy as np
import pytest

from bench.explanation import Explanation, reference_input


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

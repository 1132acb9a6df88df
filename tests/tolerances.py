"""Tolerances that follow from the arithmetic a test checks, not from a guess."""

from __future__ import annotations

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)


def assert_float32_sum_close(float32_sum, terms) -> None:
    """Asserts that each entry of `float32_sum` (n,) is the sum of that row of `terms` (n, m)
    (e.g. the products x_m * w_m and a bias) up to the rounding of a float32 sum (or dot product).

    A float32 sum of m terms, in any order or blocking, is off by at most gamma_m * sum_m |term|,
    gamma_m = m u / (1 - m u) with u = eps32 / 2 (Higham, Accuracy and Stability of Numerical
    Algorithms, 2nd ed., §3.1); m * eps32 * sum |term| bounds it with room to spare. A bare rtol
    does not: when the terms cancel, the sum is small but its error is still that of the terms."""
    terms = np.asarray(terms, dtype=np.float64)
    tolerance = terms.shape[1] * EPS32 * np.abs(terms).sum(axis=1)
    error = np.abs(np.asarray(float32_sum, dtype=np.float64) - terms.sum(axis=1))
    beyond = ~(error <= tolerance)
    assert not beyond.any(), (f"{beyond.sum()} of {len(error)} rows differ from their sum by more than float32 "
                              f"rounding allows: rows {np.flatnonzero(beyond)}, errors {error[beyond]}, "
                              f"tolerances {tolerance[beyond]}")

"""Kernel SHAP (Lundberg & Lee 2017) through shap.KernelExplainer, on the model's probabilities
(or regression output), with training rows as the background distribution."""

from __future__ import annotations

import contextlib
import numbers
from typing import Iterator

import numpy as np
import shap

from bench.explainers.base import Explainer, flatten
from bench.explanation import Explanation
from bench.models.base import model_output


class KernelShap(Explainer):
    def __init__(self, *, nsamples: int | str = "auto", link: str = "identity", l1_reg: str | int | float | bool = "num_features(10)"):
        if nsamples != "auto" and (isinstance(nsamples, bool) or not isinstance(nsamples, numbers.Integral)
                                   or nsamples < 1):
            raise ValueError(f"kernel_shap nsamples must be 'auto' or a positive number of coalitions, got {nsamples!r}")
        self.nsamples = nsamples
        self.link = link
        self.l1_reg = l1_reg

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        shape = X.shape[1:]

        def f(rows: np.ndarray) -> np.ndarray:
            return model_output(model, rows.reshape((len(rows), *shape)))

        explainer = shap.KernelExplainer(f, flatten(background), link=self.link)
        with numpy_global_seed(int(rng.integers(2**31 - 1))):
            values = explainer.shap_values(flatten(X), nsamples=self.nsamples, l1_reg=self.l1_reg, silent=True)
        values = np.asarray(values)
        rows = np.arange(len(X))
        # shap returns (n, d, outputs) for a model with several outputs.
        chosen = values[rows, :, target]
        expected = np.atleast_1d(explainer.expected_value)[target]
        return Explanation(chosen, "attribution", target, extras={"expected_value": expected, "input_shape": shape})


@contextlib.contextmanager
def numpy_global_seed(seed: int) -> Iterator[None]:
    """shap's KernelExplainer samples coalitions from numpy's global RNG and takes no seed;
    seed it for the call and give the caller its state back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)

"""A control: standard-normal attributions that know nothing about the model."""

from __future__ import annotations

from bench.explainers.base import Explainer, flatten
from bench.core.explanation import Explanation


class RandomExplainer(Explainer):
    needs_background = False

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        values = rng.standard_normal(flatten(X).shape)
        return Explanation(values, "attribution", target, input_shape=X.shape[1:])

"""LIME for tabular data (Ribeiro, Singh, Guestrin, KDD 2016) through `lime`: a locally weighted
linear surrogate fitted on perturbations of each instance; its coefficients are the attributions
of the target output (class probability, or the regression output)."""

from __future__ import annotations

import numpy as np
from lime.lime_tabular import LimeTabularExplainer

from bench.explainers.base import Explainer
from bench.explanation import Explanation
from bench.models.base import is_classifier

# lime files a regressor's weights under label 1 (label 0 holds their negation).
REGRESSION_LABEL = 1


class LimeTabular(Explainer):
    """`discretize_continuous=True` (lime's default) explains with quartile-bin indicators;
    False fits the surrogate on the standardised features. The perturbation statistics come from
    the background (training) rows."""

    def __init__(self, *, num_samples: int = 5000, discretize_continuous: bool = True,
                 kernel_width: float | None = None):
        self.num_samples = num_samples
        self.discretize_continuous = discretize_continuous
        self.kernel_width = kernel_width

    def not_applicable(self, model) -> str | None:
        if "tabular" not in getattr(model, "input_kinds", ("tabular",)):
            return f"{type(model).__name__} takes images: tabular LIME explains tabular inputs"
        return None

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        classifier = is_classifier(model)
        explainer = LimeTabularExplainer(
            np.asarray(background, dtype=np.float64), mode="classification" if classifier else "regression",
            discretize_continuous=self.discretize_continuous, kernel_width=self.kernel_width,
            random_state=int(rng.integers(2**31 - 1)),
        )
        predict = model.predict_proba if classifier else model.predict
        values, intercepts, scores = np.zeros(X.shape), np.zeros(len(X)), np.zeros(len(X))
        for i, (x, t) in enumerate(zip(np.asarray(X, dtype=np.float64), target, strict=True)):
            label = int(t) if classifier else REGRESSION_LABEL
            surrogate = explainer.explain_instance(x, predict, labels=(label,), num_features=X.shape[1],
                                                   num_samples=self.num_samples)
            for feature, weight in surrogate.local_exp[label]:
                values[i, feature] = weight
            intercepts[i], scores[i] = surrogate.intercept[label], surrogate.score
        return Explanation(values, "attribution", target, extras={"intercept": intercepts, "surrogate_r2": scores})

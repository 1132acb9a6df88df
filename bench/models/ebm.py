"""InterpretML's Explainable Boosting Machine (Lou et al. 2013; Nori et al. 2019): a generalised
additive model with a few pairwise interactions, learnt by cyclic boosting. Its native
explanation is its additive terms evaluated at the instance."""

from __future__ import annotations

import numpy as np
from interpret.glassbox import ExplainableBoostingClassifier

from bench.core.explanation import Explanation
from bench.models.base import Capabilities, class_indices


class EBM(Capabilities, ExplainableBoostingClassifier):
    task_types = ("binary", "multiclass")

    def explain(self, X: np.ndarray, target: np.ndarray | None = None) -> Explanation:
        """values (n, d): each feature's main-effect term, plus half of every pairwise term it
        is part of (an even split of the pair, as EBM cannot attribute a pair to one feature);
        values plus "bias" (the intercept) equal the target class's logit exactly (binary: the
        positive class's log-odds, negated for class 0). extras: "terms" (n, n_terms) and
        "term_features" (the feature indices of each term)."""
        X = np.asarray(X, dtype=np.float64)
        target = class_indices(self, X, target)
        terms = self.eval_terms(X)  # (n, n_terms) for binary, (n, n_terms, C) for multi-class
        intercept = np.atleast_1d(self.intercept_)
        if terms.ndim == 2:
            sign = np.where(target == 1, 1.0, -1.0)
            terms, bias = sign[:, None] * terms, sign * intercept[0]
        else:
            terms, bias = terms[np.arange(len(X)), :, target], intercept[target]
        values = np.zeros(X.shape)
        for k, features in enumerate(self.term_features_):
            for feature in features:
                values[:, feature] += terms[:, k] / len(features)
        return Explanation(values, "attribution", target,
                           extras={"bias": bias, "terms": terms, "term_features": list(self.term_features_)})

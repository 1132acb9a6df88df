"""The native explanation of a model that is linear in its input, per instance (hyperlinear)
or globally (logistic regression): impacts x_m * w_mc for the target class c."""

from __future__ import annotations

import numpy as np

from bench.core.explanation import Explanation


def linear_explanation(X: np.ndarray, models: np.ndarray, target: np.ndarray, *, binary: bool) -> Explanation:
    """`models`: (n, M+1, C) weights with the bias in the last row. A `binary` model has C=1,
    the positive class's log-odds, which is negated for target class 0; a regressor has C=1
    and target 0. Either way the impacts plus the bias equal the target's logit exactly.

    Returns values (n, M) = x * w; extras: "weights" (n, M), "bias" (n,), "linear_models".
    """
    target = np.asarray(target, dtype=int)
    if binary:
        selected = np.where(target == 1, 1.0, -1.0)[:, None] * models[:, :, 0]
    else:
        selected = models[np.arange(len(X)), :, target]
    weights, bias = selected[:, :-1], selected[:, -1]
    return Explanation(np.asarray(X, dtype=np.float64) * weights, "attribution", target,
                       extras={"weights": weights, "bias": bias, "linear_models": models})


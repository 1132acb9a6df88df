"""The one perturbation engine of the metrics: the perturbed inputs of many instances go through
the model together, in as few calls as memory allows.

A metric describes its perturbations as `build(rows) -> (k, m, *input_shape)`: the m perturbed
inputs of each instance in `rows` (a slice of the explained instances). The engine asks for
chunks of instances sized so that one model call holds at most MAX_ELEMENTS_PER_CALL numbers,
evaluates each chunk in one call, and returns each perturbed input's output for its
instance's explained target. The model it is given may be a `CountingModel`
(bench/metrics/cost.py), which is how run.py counts every metric's model evaluations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.models.base import model_output

MAX_ELEMENTS_PER_CALL = 4_000_000  # bounds memory: perturbed rows x features per model call


def explained_outputs(model, build: Callable[[slice], np.ndarray], *, n_instances: int, n_perturbations: int,
                      n_features: int, target: np.ndarray) -> np.ndarray:
    """(n_instances, n_perturbations) outputs for the explained target of each instance."""
    chunk = max(1, MAX_ELEMENTS_PER_CALL // max(1, n_perturbations * n_features))
    outputs = np.empty((n_instances, n_perturbations))
    for start in range(0, n_instances, chunk):
        rows = slice(start, min(start + chunk, n_instances))
        inputs = build(rows)
        k = rows.stop - rows.start
        if inputs.shape[:2] != (k, n_perturbations):
            raise ValueError(f"a perturbation builder returned {inputs.shape[:2]} for {k} instances x "
                             f"{n_perturbations} perturbations")
        predicted = model_output(model, inputs.reshape(k * n_perturbations, *inputs.shape[2:]))
        outputs[rows] = np.take_along_axis(predicted.reshape(k, n_perturbations, -1),
                                           np.asarray(target)[rows, None, None], axis=2)[..., 0]
    return outputs


def outputs_at(model, X: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(n,) the explained output of each row of X itself (one call)."""
    X = np.asarray(X)
    return explained_outputs(model, lambda rows: X[rows, None], n_instances=len(X), n_perturbations=1,
                             n_features=int(np.prod(X.shape[1:])), target=target)[:, 0]

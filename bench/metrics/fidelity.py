"""Fidelity of an interpreter g to the predictor f it explains (FLINT, Parekh et al. 2021): the
share of test points where g predicts f's class.
`fidelity` and `fidelity_top5` read (n, C) class probabilities of the same test points, and
`accuracy_change` the labels too; the run scores every model that has an interpreter
(`interpreter_proba`) with these, beside g's own accuracy (bench/pipeline/run.py). `surrogate_fidelity`
is the explanation metric for an explainer that is a post-hoc interpreter: its local
surrogate's class against the model's (the paper's "Fid. LIME")."""

from __future__ import annotations

import numpy as np

from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.prediction import CLASSIFICATION, accuracy
from bench.models.base import predicted_class


def top_agreement(f_score: np.ndarray, g_score: np.ndarray, top: int) -> float:
    """The share of rows whose f class (argmax) is among g's `top` highest classes."""
    best = np.argsort(-np.asarray(g_score), axis=1, kind="stable")[:, :top]
    return float((best == np.asarray(f_score).argmax(axis=1)[:, None]).any(axis=1).mean())


@metric(category="fidelity", higher_is_better=True, task_types=CLASSIFICATION)
def fidelity(f_score: np.ndarray, g_score: np.ndarray) -> float:
    """argmax g == argmax f."""
    return top_agreement(f_score, g_score, 1)


@metric(category="fidelity", higher_is_better=True, task_types=CLASSIFICATION)
def fidelity_top5(f_score: np.ndarray, g_score: np.ndarray) -> float:
    """f's class among g's 5 most probable (FLINT's top-5 fidelity; 1 with 5 classes or fewer)."""
    return top_agreement(f_score, g_score, 5)


@metric(category="fidelity", higher_is_better=True, task_types=CLASSIFICATION)
def accuracy_change(y_true: np.ndarray, f_score: np.ndarray, g_score: np.ndarray) -> float:
    """g's accuracy minus f's, both against the labels y_true (class indices): what predicting
    with the interpreter instead of f gains (CNN-INTE's claim: no loss, 0 or more)."""
    return accuracy(y_true, np.asarray(g_score)) - accuracy(y_true, np.asarray(f_score))


@metric(category="fidelity", higher_is_better=True, task_types=CLASSIFICATION)
def surrogate_fidelity(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                       rng: np.random.Generator) -> np.ndarray:
    """(n,) 1 where the explainer's local surrogates, read at the instance, rank the model's
    predicted class first, else 0."""
    local = explanation.extras.get("surrogate_prediction")
    if local is None:
        raise NotApplicable("surrogate_fidelity reads the local surrogates' predictions of every class, which only "
                            "lime_image keeps, with explainers.lime_image.every_class=true")
    return (np.asarray(local).argmax(axis=1) == predicted_class(model, X)).astype(np.float64)

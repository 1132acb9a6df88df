"""Fidelity of an interpreter g to the predictor f it explains (FLINT, Parekh et al. 2021): the
share of test points where g predicts f's class.
Both scores are (n, C) class probabilities of the same test points; the run scores every model
that has an interpreter (`interpreter_proba`) with these, beside g's own accuracy (bench/run.py)."""

from __future__ import annotations

import numpy as np

from bench.metrics.base import metric
from bench.metrics.prediction import CLASSIFICATION


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

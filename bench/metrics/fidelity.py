"""Fidelity of an interpreter g to the predictor f it explains (FLINT, Parekh et al. 2021): the
share of test points where g predicts f's class.
`fidelity` and `fidelity_top5` read (n, C) class probabilities of the same test points, and
`accuracy_change` the labels too; the run scores every model that has an interpreter
(`interpreter_proba`) with these, beside g's own accuracy (bench/pipeline/run.py).
`surrogate_fidelity` is the explanation metric for an explainer that is a post-hoc interpreter,
LIME's local surrogates of every class (lime_image with `every_class`; the paper's "Fid. LIME"):
how often the surrogates' class agrees with the model's on held-out perturbations of each
instance. `surrogate_fidelity_at_instance`, the surrogates' class at the instance itself, is a
diagnostic: LIME fits each surrogate on perturbations that include the instance, at the largest
kernel weight, so it agrees almost always (100% in the nightly's MNIST run), whatever the
surrogate does elsewhere.

Where FLINT reads LIME's surrogate its repository (jayneelparekh/FLINT) does not show: it holds no
LIME. VIBI's code (Bang et al. 2021; SeojinBang/VIBI, compare/lime_.py and
compare/lib/lime_library.py), the other post-hoc interpreter of FLINT's Table 1, has a LIME
baseline that it reads at the instance too, but a different LIME: each class's surrogate is a
logistic regression of "the model predicts c" (one class against the rest) on the perturbed
images' 2x2-chunk means, read at the instance with each chunk averaged, and an instance is
skipped where its top class is the model's on every perturbation or on none. bench keeps lime's
ridge surrogates of the class probabilities and reads them where they were not fitted, which is
what an interpreter's fidelity asks; the held-out reading is ours, not a published protocol.
"""

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
    """(n,) for each instance, the share of its held-out perturbations (lime_image's
    `held_out_samples`, fitted on by no surrogate) whose class, the highest of the explainer's
    local surrogates there, is the model's class of that perturbation."""
    model_class, surrogate_class = (interpreter_reading(explanation, name)
                                    for name in ("held_out_model_class", "held_out_surrogate_class"))
    return (model_class == surrogate_class).mean(axis=1)


@metric(category="diagnostic", higher_is_better=True, task_types=CLASSIFICATION)
def surrogate_fidelity_at_instance(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                                   rng: np.random.Generator) -> np.ndarray:
    """(n,) 1 where the explainer's local surrogates, read at the instance (every superpixel on),
    rank the model's predicted class first, else 0: a diagnostic beside `surrogate_fidelity`
    (see the module docstring)."""
    local = interpreter_reading(explanation, "surrogate_prediction")
    return (local.argmax(axis=1) == predicted_class(model, X)).astype(np.float64)


def interpreter_reading(explanation: Explanation, name: str) -> np.ndarray:
    """What the explainer kept of its local surrogates read as an interpreter (`extras[name]`)."""
    if name not in explanation.extras:
        raise NotApplicable("surrogate_fidelity reads the local surrogates of every class, which only lime_image "
                            "keeps, with explainers.lime_image.every_class=true")
    return np.asarray(explanation.extras[name])

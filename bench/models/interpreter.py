"""The interpreter g learnt with a model (FLINT's g, CNN-INTE's meta-learner) as a predictor of
its own: the entry `<model>:g` (bench/results/entries.py) that explainers explain and metrics
score like any model, so that g's own explanation is compared with post-hoc explanations of g,
the same predictor, on the same instances.

A model offers its interpreter through `interpreter_proba(X)` (g's class probabilities), and
optionally `interpreter_module()` (g's network from the input, for gradient explainers; CNN-INTE's
g, a forest over a hidden layer, has none) and `explains_interpreter = True` when its own
`explain` explains g rather than f (FLINT's and CNN-INTE's do): that explanation is then g's
entry's, and not applicable to the model's.
"""

from __future__ import annotations

import numpy as np


def has_interpreter(model) -> bool:
    return callable(getattr(model, "interpreter_proba", None))


def explains_interpreter(model) -> bool:
    """Whether the model's own explanation explains its interpreter g rather than itself."""
    return bool(getattr(model, "explains_interpreter", False))


class Interpreter:
    """g of a fitted `model`, with the interface explainers and metrics read: `classes_`,
    `predict_proba` (g's), `predict`, `torch_module` where g is a network, and `explain` where the
    model's own explanation is g's. Attributes are set only where the model offers them, so that a
    check such as `callable(getattr(model, "torch_module", None))` answers for g."""

    def __init__(self, model):
        self.model = model
        self.classes_ = model.classes_
        self.input_kinds = getattr(model, "input_kinds", ("tabular",))
        if callable(getattr(model, "interpreter_module", None)):
            self.torch_module = model.interpreter_module
        if explains_interpreter(model):
            self.explain = model.explain

    def predict_proba(self, X) -> np.ndarray:
        return self.model.interpreter_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

"""The explanation an inherently interpretable model gives of itself (its `explain` method):
IMN's generated linear model, a logistic regression's impacts, a tree's decision path, an
EBM's terms. It costs what the model's own computation costs, which is the point of IMN.
A model whose explanation explains an interpreter learnt beside it (FLINT, CNN-INTE) has it on
the interpreter's entry (bench/models/interpreter.py), scored against g's predictions."""

from __future__ import annotations

from bench.core.errors import NotApplicable
from bench.explainers.base import Explainer
from bench.core.explanation import Differentiable, Explanation
from bench.models.base import class_labels
from bench.models.interpreter import explains_interpreter


class Native(Explainer):
    needs_background = False

    def not_applicable(self, model) -> str | None:
        if not callable(getattr(model, "explain", None)):
            return f"{type(model).__name__} is not interpretable by design: it has no native explanation"
        if explains_interpreter(model):
            return (f"{type(model).__name__}'s own explanation explains its interpreter g, not the model's predictor: "
                    "it is scored on the interpreter's entry, the model's name with ':g' (flint:g)")
        return None

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        return model.explain(X, target=class_labels(model, target))  # a model's explain reads labels too

    def differentiable(self, model, *, background, rng) -> Differentiable:
        form = getattr(model, "differentiable_explanation", None)
        if not callable(form):
            raise NotApplicable(f"{type(model).__name__}'s native explanation is not differentiable in the input "
                                "through torch (hyperlinear's is)")
        return form()

"""The explanation an inherently interpretable model gives of itself (its `explain` method):
IMN's generated linear model, a logistic regression's impacts, a tree's decision path, an
EBM's terms. It costs what the model's own computation costs, which is the point of IMN."""

from __future__ import annotations

from bench.core.errors import NotApplicable
from bench.explainers.base import Explainer
from bench.core.explanation import Differentiable, Explanation
from bench.models.base import class_labels


class Native(Explainer):
    needs_background = False

    def not_applicable(self, model) -> str | None:
        if not callable(getattr(model, "explain", None)):
            return f"{type(model).__name__} is not interpretable by design: it has no native explanation"
        return None

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        return model.explain(X, target=class_labels(model, target))  # a model's explain reads labels too

    def differentiable(self, model, *, background, rng) -> Differentiable:
        form = getattr(model, "differentiable_explanation", None)
        if not callable(form):
            raise NotApplicable(f"{type(model).__name__}'s native explanation is not differentiable in the input "
                                "through torch (hyperlinear's is)")
        return form()

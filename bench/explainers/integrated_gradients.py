"""Integrated Gradients (Sundararajan et al. 2017) through captum, on the network's logits
(or regression output)."""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import IntegratedGradients as CaptumIntegratedGradients

from bench.explainers.base import Explainer
from bench.explanation import Explanation

BASELINES = ("mean", "zero")


class IntegratedGradients(Explainer):
    def __init__(self, *, n_steps: int = 50, baseline: str = "mean", method: str = "gausslegendre"):
        if baseline not in BASELINES:
            raise ValueError(f"ig baseline must be one of {BASELINES}, got {baseline!r}")
        self.n_steps = n_steps
        self.baseline = baseline
        self.method = method

    def not_applicable(self, model) -> str | None:
        if not hasattr(model, "torch_module"):
            return f"{type(model).__name__} is not a torch model: integrated gradients needs gradients"
        return None

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        inputs = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if self.baseline == "mean":
            reference = torch.as_tensor(np.asarray(background, dtype=np.float32).mean(axis=0, keepdims=True))
        else:
            reference = torch.zeros_like(inputs[:1])
        ig = CaptumIntegratedGradients(model.torch_module())
        attributions, delta = ig.attribute(inputs, baselines=reference.expand_as(inputs), target=torch.as_tensor(target),
                                           n_steps=self.n_steps, method=self.method, return_convergence_delta=True)
        values = attributions.detach().numpy().reshape(len(X), -1).astype(np.float64)
        return Explanation(values, "attribution", target,
                           extras={"convergence_delta": delta.detach().numpy(), "input_shape": X.shape[1:]})

"""The value every explainer returns and every explanation metric reads (DESIGN.md, Interfaces).

An explanation is of one of three kinds:
- `attribution`: `values`, (n, d) (or (n, C, d)) scores of the input features for the `target`
  output of each instance, in the model's flattened input space;
- `concepts`: `concepts`, the activations of J learnt attributes, their relevance to the
  explained output, and each concept's map to the input space (FLINT's interpreter);
- `path`: `path`, the route each instance took to the output (a tree's decision path, a
  meta-learner's cluster -> base learner -> vote).
A concepts or path explanation may also carry an attribution view in `values`, so that
attribution metrics can score it; `offers(kind)` says what a metric can read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import torch
    from torch import nn

Kind = Literal["attribution", "concepts", "path"]
KINDS = get_args(Kind)
# What stands in for a removed feature, or where integrated gradients' path starts: the mean of
# the background (training) rows, or zeros.
Baseline = Literal["mean", "zero"]
REFERENCES = get_args(Baseline)


def reference_input(background: np.ndarray, reference: str) -> np.ndarray:
    """One input, shaped like a background row, that removal-based explainers and metrics put in
    place of removed features: the background's mean, or zeros."""
    if reference not in REFERENCES:
        raise ValueError(f"baseline must be one of {REFERENCES}, got {reference!r}")
    background = np.asarray(background, dtype=np.float64)
    return background.mean(axis=0) if reference == "mean" else np.zeros(background.shape[1:])


@dataclass(frozen=True)
class Concepts:
    """J learnt attributes of n explained instances.

    `activations` (n, J): how present each attribute is in the instance; `relevance` (n, J): its
    contribution to the explained output of the instance; `to_input` (J, d) or (n, J, d): each
    attribute as a map over the flattened input (e.g. FLINT's activation maximisation, or its
    attribution map for the instance); `names`: optional labels of the J attributes."""

    activations: np.ndarray
    relevance: np.ndarray
    to_input: np.ndarray
    names: tuple[str, ...] | None = None

    def check(self, n: int, d: int) -> None:
        J = self.activations.shape[1] if self.activations.ndim == 2 else -1
        if self.activations.shape != (n, J) or self.relevance.shape != (n, J):
            raise ValueError(f"concepts: activations {self.activations.shape} and relevance {self.relevance.shape} "
                             f"must both be (n, J) = ({n}, J)")
        if self.to_input.shape not in ((J, d), (n, J, d)):
            raise ValueError(f"concepts: to_input {self.to_input.shape} must be (J, d) = ({J}, {d}) or (n, J, d)")
        if self.names is not None and len(self.names) != J:
            raise ValueError(f"concepts: {len(self.names)} names for {J} attributes")


@dataclass(frozen=True)
class DecisionPath:
    """The route of each of n instances: `routes[i]`, its steps in order, each readable on its own
    (e.g. "x[3] = 0.12 <= 0.5", "leaf 7"); `nodes[i]`, the ids of the nodes visited, where the
    model numbers them."""

    routes: tuple[tuple[str, ...], ...]
    nodes: tuple[tuple[int, ...], ...] | None = None

    def check(self, n: int) -> None:
        if len(self.routes) != n or (self.nodes is not None and len(self.nodes) != n):
            raise ValueError(f"path: {len(self.routes)} routes for {n} explained instances")


@dataclass(frozen=True)
class Explanation:
    """`values`: the attribution view ((n, d) or (n, C, d)), or None for a concepts or path
    explanation without one. `input_shape`: one input's shape ((d,) for a table, (C, H, W) for
    an image; inferred from `values` when not given); `interactions`: optional (n, d, d) pairwise
    scores; `extras`: method-specific outputs (e.g. shap's expected value)."""

    values: np.ndarray | None
    kind: str
    target: np.ndarray
    interactions: np.ndarray | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, ...] | None = None
    concepts: Concepts | None = None
    path: DecisionPath | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Explanation.kind must be one of {KINDS}, got {self.kind!r}")
        n = len(self.target)
        if self.values is not None:
            if self.values.ndim not in (2, 3):
                raise ValueError(f"Explanation.values must be (n, d) or (n, C, d), got shape {self.values.shape}")
            if len(self.values) != n:
                raise ValueError(f"{len(self.values)} explained instances but {n} targets")
            if self.input_shape is None:
                object.__setattr__(self, "input_shape", tuple(self.values.shape[-1:]))
        if self.input_shape is None:
            raise ValueError("an Explanation without attribution values needs its input_shape")
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        if self.values is not None and self.values.shape[-1] != self.n_features:
            raise ValueError(f"{self.values.shape[-1]} attributions per instance for inputs of shape "
                             f"{self.input_shape} ({self.n_features} features)")
        self._check_kind(n)

    def _check_kind(self, n: int) -> None:
        if self.kind == "attribution" and self.values is None:
            raise ValueError("an attribution explanation needs its values")
        if self.kind == "concepts":
            if self.concepts is None:
                raise ValueError("a concepts explanation needs its Concepts")
            self.concepts.check(n, self.n_features)
        if self.kind == "path":
            if self.path is None:
                raise ValueError("a path explanation needs its DecisionPath")
            self.path.check(n)

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    def offers(self, kind: str) -> bool:
        """Whether a metric of `kind` can read this explanation: its own kind, or attributions
        through an attribution view."""
        return kind == self.kind or (kind == "attribution" and self.values is not None)

    def by_source_column(self, source_columns: list[str]) -> pd.DataFrame:
        """(n, original columns) attributions: the model's input features summed per column of
        the data they encode (a one-hot group sums to its categorical column)."""
        if self.values is None or self.values.ndim != 2 or self.values.shape[1] != len(source_columns):
            shape = None if self.values is None else self.values.shape[1:]
            raise ValueError(f"{shape} attributions do not match {len(source_columns)} encoded columns")
        frame = pd.DataFrame(self.values, columns=source_columns)
        return frame.T.groupby(level=0, sort=False).sum().T


@dataclass(frozen=True)
class Differentiable:
    """An explanation as a torch function of the input that keeps its graph (create_graph), so
    that an attack can follow its gradient: `explain(network, inputs, targets)` -> the attributions,
    shaped like the inputs, of `network` or of a stand-in for it with the same modules (the
    manipulation attack's softplus surrogate). `network` is the one the explanation reads."""

    network: nn.Module
    explain: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]

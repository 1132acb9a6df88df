"""hyperlinear: Interpretable Mesomorphic Networks (Kadra, Pineda Arango, Grabocka; arXiv
2305.13072, NeurIPS 2024). METHODS.md §1.

A residual hypernetwork reads the instance x (M features) and emits the weights of a linear
model, (M+1) x C with the bias in the last row, which is applied to the same x:
logits_c = sum_m x_m w_mc + b_c. Training adds lambda * mean(|w|) over every generated weight
(bias included) to the task loss, and follows IMN's schedule and snapshot ensemble
(bench/models/training.py). The explanation is free: the generated linear model. Every default
is the paper's: lambda = 0.1, and IMN's network and training (bench.models.tabresnet: PaperSetting,
IMNNet.TRAINING).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from bench.data.task import TASK_TYPES
from bench.core.explanation import Differentiable, Explanation
from bench.models.base import class_indices, store_params
from bench.models.linear_explanation import linear_explanation
from bench.models.residual import ResidualTrunk
from bench.models.tabresnet import IMN, IMNNet
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier, TorchRegressor, in_chunks
from bench.models.training import StepLoss, TrainingLoop


class HyperLinearNetwork(nn.Module):
    def __init__(self, n_features: int, n_outputs: int, *, width: int, n_blocks: int, dropout: float,
                 dropout_on_skip: bool):
        super().__init__()
        self.n_features, self.n_outputs = n_features, n_outputs
        self.trunk = ResidualTrunk(n_features, width=width, n_blocks=n_blocks, dropout=dropout,
                                   dropout_on_skip=dropout_on_skip)
        self.head = nn.Linear(width, (n_features + 1) * n_outputs)

    def linear_models(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M) -> (B, M+1, C): each instance's weights, the bias in the last row."""
        return self.head(self.trunk(x)).view(-1, self.n_features + 1, self.n_outputs)

    @staticmethod
    def logits(x: torch.Tensor, models: torch.Tensor) -> torch.Tensor:
        """(B, M), (B, M+1, C) -> (B, C) logits. (Not `apply`: that is nn.Module's, which
        libraries such as captum call to walk the submodules.)"""
        return torch.einsum("bm,bmc->bc", x, models[:, :-1]) + models[:, -1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x, self.linear_models(x))

    def impacts(self, x: torch.Tensor, targets: torch.Tensor, *, binary: bool) -> torch.Tensor:
        """(B, M) x_m * w_m,c(x) for each row's target c, in torch (linear_explanation's rule: a
        binary model's one column is the positive class's, negated for class 0)."""
        weights = self.linear_models(x)[:, :-1]
        if binary:
            return x * weights[:, :, 0] * torch.where(targets == 1, 1.0, -1.0).to(x.dtype)[:, None]
        return x * weights.gather(2, targets.long().view(-1, 1, 1).expand(-1, self.n_features, 1))[:, :, 0]


class _HyperLinearNetwork(IMNNet):
    """`l1_penalty` is the paper's lambda.

    `explain(X, target=None)`: values[i, m] = x_im * w_im,c for the target class c (default: the
    predicted class) from the last snapshot, as in the authors' code; the impacts plus the bias
    equal the snapshot's logit for c exactly (bench/models/linear_explanation.py).
    """

    _parameter_constraints = {**IMNNet._parameter_constraints, "l1_penalty": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, *, l1_penalty: float = 0.1, hidden_size: int = IMN.hidden_size, n_blocks: int = IMN.n_blocks,
                 dropout: float = IMN.dropout, dropout_on_skip: bool = IMN.dropout_on_skip,
                 training: TrainingLoop | None = None, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        return HyperLinearNetwork(input_shape[0], n_outputs, width=self.hidden_size, n_blocks=self.n_blocks,
                                  dropout=self.dropout, dropout_on_skip=self.dropout_on_skip)

    def _step_loss(self, task_loss) -> StepLoss:
        def step(module: HyperLinearNetwork, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            models = module.linear_models(X)
            return task_loss(module.logits(X, models), y) + self.l1_penalty * models.abs().mean()

        return step

    def linear_models(self, X) -> np.ndarray:
        """(n, M+1, C) generated linear models of the last snapshot (C=1 for binary tasks)."""
        return self._linear_models(self._validated(X))

    def _linear_models(self, X: np.ndarray) -> np.ndarray:
        last = self._networks()[-1]
        return in_chunks(last.linear_models, X, self.device_).double().numpy()

    def explain(self, X, target: np.ndarray | None = None) -> Explanation:
        X = self._validated(X)
        return linear_explanation(X, self._linear_models(X), class_indices(self, X, target),
                                  binary=self._output_kind() == "binary")

    def differentiable_explanation(self) -> Differentiable:
        """`explain`'s impacts as a torch function of x (the last snapshot's, as `explain`)."""
        binary = self._output_kind() == "binary"
        return Differentiable(self._networks()[-1].eval(), lambda network, inputs, targets:
                              network.impacts(inputs, targets, binary=binary))


class HyperLinearRegressor(TorchRegressor, _HyperLinearNetwork):
    pass


class HyperLinear(TorchClassifier, _HyperLinearNetwork):
    task_types = TASK_TYPES  # regression through HyperLinearRegressor (bench.models.base.for_task)
    regression_twin = HyperLinearRegressor

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
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils._param_validation import Interval

from bench.data.task import TASK_TYPES
from bench.core.explanation import Differentiable, Explanation
from bench.models.base import class_indices, store_params
from bench.models.linear_explanation import linear_explanation
from bench.models.tabresnet import IMN, IMNNet
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier, TorchRegressor
from bench.models.training import TrainingLoop

if TYPE_CHECKING:
    import torch
    from torch import nn

    from bench.models.networks.hyperlinear import HyperLinearNetwork
    from bench.models.training import StepLoss


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
        # The network's module imports torch: here, not with this one, so that the class imports
        # without it (bench.models.networks).
        from bench.models.networks.hyperlinear import HyperLinearNetwork

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
        from bench.models.networks.torch_estimator import in_chunks

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

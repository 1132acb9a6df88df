"""TabResNet: hyperlinear's residual trunk with a plain Linear(width, C) head, trained the same
way (IMN's schedule and snapshot ensemble, no L1 term) — the black-box twin of IMN in the
paper's comparison (METHODS.md §1). Every default is the paper's."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval
from torch import nn

from bench.data.task import TASK_TYPES
from bench.models.residual import ResidualTrunk
from bench.models.torch_estimator import TorchClassifier, TorchEstimator, TorchRegressor, store_params
from bench.models.training import LRSchedule, Optimizer, SnapshotTiming

RESIDUAL_CONSTRAINTS = {
    **TorchEstimator._parameter_constraints,
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "n_blocks": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "dropout_on_skip": ["boolean"],
}


class _TabResNetNetwork(TorchEstimator):
    _parameter_constraints = RESIDUAL_CONSTRAINTS

    def __init__(self, *, hidden_size: int = 128, n_blocks: int = 2, dropout: float = 0.25,
                 dropout_on_skip: bool = False, optimizer: Optimizer = "adam", lr: float = 0.01,
                 weight_decay: float = 0.01, batch_size: int = 64, epochs: int = 500, patience: int | None = None,
                 validation_fraction: float = 0.1, lr_schedule: LRSchedule = "cosine_restarts",
                 warmup_epochs: int = 5, t_mult: int = 2, n_restarts: int = 3,
                 snapshots: SnapshotTiming = "cycle_ends", device: str = "auto", random_state: int = 0):
        store_params(self, locals())

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        return nn.Sequential(
            ResidualTrunk(input_shape[0], width=self.hidden_size, n_blocks=self.n_blocks, dropout=self.dropout,
                          dropout_on_skip=self.dropout_on_skip),
            nn.Linear(self.hidden_size, n_outputs),
        )


class TabResNetRegressor(TorchRegressor, _TabResNetNetwork):
    pass


class TabResNet(TorchClassifier, _TabResNetNetwork):
    task_types = TASK_TYPES  # regression through TabResNetRegressor (bench.models.base.for_task)
    regression_twin = TabResNetRegressor

"""TabResNet: hyperlinear's residual trunk with a plain Linear(width, C) head, trained the same
way (IMN's schedule and snapshot ensemble, no L1 term) — the black-box twin of IMN in the
paper's comparison (METHODS.md §1). Every default is the paper's (PaperSetting)."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval
from torch import nn

from bench.data.task import TASK_TYPES
from bench.models.residual import ResidualTrunk
from bench.models.torch_estimator import LOOP, TorchClassifier, TorchEstimator, TorchRegressor, store_params
from bench.models.training import LRSchedule, Optimizer, SnapshotTiming

@dataclass(frozen=True)
class PaperSetting:
    """IMN's network and training (Kadra et al.; METHODS.md §1): the defaults of hyperlinear and of
    TabResNet, its black-box twin, which the paper trains the same way. `dropout_on_skip=True` is
    the authors' code, which also drops units of the skip path; the paper does not."""

    hidden_size: int = 128
    n_blocks: int = 2
    dropout: float = 0.25
    dropout_on_skip: bool = False
    optimizer: Optimizer = "adam"  # weight decay as Adam's coupled L2 term, as in the paper and the code
    lr: float = 0.01
    weight_decay: float = 0.01
    batch_size: int = 64
    epochs: int = 500
    patience: int | None = None  # fixed epochs: no early stopping
    lr_schedule: LRSchedule = "cosine_restarts"  # a linear warm-up, then cosine annealing with warm restarts
    warmup_epochs: int = 5
    t_mult: int = 2
    n_restarts: int = 3  # three cycles, a snapshot per cycle, averaged for prediction
    snapshots: SnapshotTiming = "cycle_ends"  # the paper; authors_code: where the authors' code takes them


IMN = PaperSetting()

RESIDUAL_CONSTRAINTS = {
    **TorchEstimator._parameter_constraints,
    "batch_size": [Interval(Integral, 2, None, closed="left")],  # BatchNorm normalises over the batch
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "n_blocks": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "dropout_on_skip": ["boolean"],
}


class _TabResNetNetwork(TorchEstimator):
    _parameter_constraints = RESIDUAL_CONSTRAINTS

    def __init__(self, *, hidden_size: int = IMN.hidden_size, n_blocks: int = IMN.n_blocks,
                 dropout: float = IMN.dropout, dropout_on_skip: bool = IMN.dropout_on_skip,
                 optimizer: Optimizer = IMN.optimizer, lr: float = IMN.lr, weight_decay: float = IMN.weight_decay,
                 batch_size: int = IMN.batch_size, epochs: int = IMN.epochs, patience: int | None = IMN.patience,
                 validation_fraction: float = LOOP.validation_fraction, lr_schedule: LRSchedule = IMN.lr_schedule,
                 warmup_epochs: int = IMN.warmup_epochs, t_mult: int = IMN.t_mult, n_restarts: int = IMN.n_restarts,
                 snapshots: SnapshotTiming = IMN.snapshots, device: str = LOOP.device,
                 random_state: int = LOOP.random_state):
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

"""TabResNet: hyperlinear's residual trunk with a plain Linear(width, C) head, trained the same
way (IMN's schedule and snapshot ensemble, no L1 term) — the black-box twin of IMN in the
paper's comparison (METHODS.md §1). Every default is the paper's (PaperSetting, IMNNet.TRAINING)."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING

from sklearn.utils._param_validation import Interval

from bench.data.task import TASK_TYPES
from bench.models.base import store_params
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier, TorchEstimator, TorchRegressor
from bench.models.training import TrainingLoop

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class PaperSetting:
    """IMN's network (Kadra et al.; METHODS.md §1): the defaults of hyperlinear and of TabResNet,
    its black-box twin, which the paper trains the same way (IMNNet.TRAINING). `dropout_on_skip=True`
    is the authors' code, which also drops units of the skip path; the paper does not."""

    hidden_size: int = 128
    n_blocks: int = 2
    dropout: float = 0.25
    dropout_on_skip: bool = False


IMN = PaperSetting()


class IMNNet(TorchEstimator):
    """What IMN's residual nets, hyperlinear and TabResNet, share: the trunk's options and the
    paper's training."""

    _parameter_constraints = {
        **TorchEstimator._parameter_constraints,
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout_on_skip": ["boolean"],
    }
    # The paper's: a fixed 500 epochs (no early stopping) at a rate of 0.01 with a weight decay of
    # 0.01 (the loop's Adam: a coupled L2 term, as in the paper and the code), batches of 64; a
    # linear warm-up of 5 epochs, then cosine annealing with the loop's warm restarts: three
    # cycles (t_mult 2), a snapshot at each cycle's end, the snapshots averaged for prediction.
    TRAINING = {"lr": 0.01, "weight_decay": 0.01, "epochs": 500, "patience": None, "lr_schedule": "cosine_restarts",
                "warmup_epochs": 5}
    TRAINING_CONSTRAINTS = {"batch_size": [Interval(Integral, 2, None, closed="left")]}  # BatchNorm: over the batch


class _TabResNetNetwork(IMNNet):
    def __init__(self, *, hidden_size: int = IMN.hidden_size, n_blocks: int = IMN.n_blocks,
                 dropout: float = IMN.dropout, dropout_on_skip: bool = IMN.dropout_on_skip,
                 training: TrainingLoop | None = None, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        # torch here, not with the module: the class imports without it (bench.models.networks)
        from torch import nn

        from bench.models.networks.residual import ResidualTrunk

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

"""A small convolutional network for image classification ((n, channels, height, width) input)."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval
from torch import nn

from bench.models.torch_estimator import LOOP, TorchClassifier, store_params
from bench.models.training import LRSchedule, Optimizer, SnapshotTiming


class CNN(TorchClassifier):
    input_kinds = ("image",)
    _parameter_constraints = {
        **TorchClassifier._parameter_constraints,
        "channels": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, channels: tuple[int, ...] = (16, 32), dropout: float = 0.1,
                 optimizer: Optimizer = LOOP.optimizer, lr: float = LOOP.lr, weight_decay: float = LOOP.weight_decay,
                 batch_size: int = LOOP.batch_size, epochs: int = 100, patience: int | None = 8,
                 validation_fraction: float = LOOP.validation_fraction, lr_schedule: LRSchedule = LOOP.lr_schedule,
                 warmup_epochs: int = LOOP.warmup_epochs, t_mult: int = LOOP.t_mult, n_restarts: int = LOOP.n_restarts,
                 snapshots: SnapshotTiming = LOOP.snapshots, device: str = LOOP.device,
                 random_state: int = LOOP.random_state):
        store_params(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_sizes("channels")

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        if len(input_shape) != 3:
            raise ValueError(f"CNN expects inputs of shape (n, channels, height, width), got (n, {input_shape})")
        layers: list[nn.Module] = []
        in_channels = input_shape[0]
        for out_channels in self.channels:
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(2, ceil_mode=True)]
            in_channels = out_channels
        # Global average pooling keeps the head independent of the image size.
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(self.dropout), nn.Linear(in_channels, n_outputs)]
        return nn.Sequential(*layers)

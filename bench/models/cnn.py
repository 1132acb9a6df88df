"""A small convolutional network for image classification ((n, channels, height, width) input)."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval
from torch import nn

from bench.models.torch_estimator import TorchClassifier, store_params
from bench.models.training import LRSchedule, Optimizer, SnapshotTiming


class CNN(TorchClassifier):
    input_kinds = ("image",)
    _parameter_constraints = {
        **TorchClassifier._parameter_constraints,
        "channels": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, channels: tuple[int, ...] = (16, 32), dropout: float = 0.1, optimizer: Optimizer = "adam",
                 lr: float = 1e-3, weight_decay: float = 0.0, batch_size: int = 64, epochs: int = 100,
                 patience: int | None = 8, validation_fraction: float = 0.1, lr_schedule: LRSchedule = "constant",
                 warmup_epochs: int = 0, t_mult: int = 2, n_restarts: int = 3,
                 snapshots: SnapshotTiming = "cycle_ends", device: str = "auto", random_state: int = 0):
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

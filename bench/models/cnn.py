"""A small convolutional network for image classification ((n, channels, height, width) input)."""

from __future__ import annotations

from typing import Sequence

from torch import nn

from bench.models.torch_estimator import TorchEstimator


class CNN(TorchEstimator):
    task_types = ("binary", "multiclass")
    input_kinds = ("image",)

    def __init__(self, *, channels: Sequence[int] = (16, 32), **training):
        super().__init__(**training)
        self.channels = channels

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        if len(input_shape) != 3:
            raise ValueError(f"CNN expects inputs of shape (n, channels, height, width), got (n, {input_shape})")
        layers: list[nn.Module] = []
        in_channels = input_shape[0]
        for out_channels in self.channels:
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
            in_channels = out_channels
        # Global average pooling keeps the head independent of the image size.
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(self.dropout), nn.Linear(in_channels, n_outputs)]
        return nn.Sequential(*layers)

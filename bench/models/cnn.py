"""FLINT's predictor f for MNIST (Parekh et al., NeurIPS 2021; METHODS.md §2), for any
(n, channels, height, width) images, and what every image network here shares.

Its network, like the cnn_tanh's and the mlp's, is an nn.Sequential whose layers have names, so
that a model built on top of it can address one: FLINT reads its hidden layer I (`relu2`, 32 x
H/2 x W/2), CNN-INTE the activations of a layer it is given by name. `layer_output(X, name)`
(bench/models/torch_estimator.py) is that layer's output for inputs X;
`dict(model.networks_[0].named_children())` is the layers themselves (to hook one during
training, say).

Max-pooling rounds up (ceil_mode): a 2x2 pool halves 28 or 8 exactly, as the authors' floor
does, and on an odd size it keeps the last row and column (5 -> 3, not 2), so every pixel
reaches the head and no image is too small.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from numbers import Real
from typing import TYPE_CHECKING

from sklearn.utils._param_validation import Interval

from bench.models.base import store_params
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier
from bench.models.training import TrainingLoop

if TYPE_CHECKING:
    from torch import nn


def pooled(size: int, times: int = 1) -> int:
    """A side of `size` pixels after `times` 2x2 max-pools with ceil_mode."""
    for _ in range(times):
        size = math.ceil(size / 2)
    return size


class ImageClassifier(TorchClassifier):
    """A classifier of (n, channels, height, width) images whose network has named layers and
    two convolutions of `channels` = (conv1's, conv2's) output channels."""

    input_kinds = ("image",)
    _parameter_constraints = {**TorchClassifier._parameter_constraints, "channels": ["array-like"]}

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_sizes("channels")
        if len(self.channels) != 2:
            raise ValueError(f"{type(self).__name__}: channels must be two sizes, conv1's and conv2's output channels, "
                             f"got {self.channels!r}")

    def _image_shape(self, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} expects inputs of shape (n, channels, height, width), "
                             f"got (n, {', '.join(map(str, input_shape))})")
        return tuple(input_shape)


class CNN(ImageClassifier):
    """FLINT's f: conv1 (C -> channels[0], 3x3, pad 1), relu1, conv2 (-> channels[1]), pool (2x2),
    dropout1, relu2 (= FLINT's layer I: channels[1] x H/2 x W/2, 32 x 14 x 14 on MNIST), flatten,
    fc1 (-> 128), relu3, dropout2, fc2 (-> classes). The authors' `Net2_MNIST_old` (networks.py)
    with its conv and classifier parts in one Sequential. Its training is the paper's (TRAINING)."""

    _parameter_constraints = {
        **ImageClassifier._parameter_constraints,
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }
    # The paper's: Adam at 1e-4, batches of 16, a fixed 12 epochs, after which the authors keep
    # the last weights: no early stopping.
    TRAINING = {"lr": 1e-4, "batch_size": 16, "epochs": 12, "patience": None}

    def __init__(self, *, channels: tuple[int, ...] = (16, 32), dropout: float = 0.5,
                 training: TrainingLoop | None = None, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        # torch here, not with the module: the class imports without it (bench.models.networks)
        from torch import nn

        in_channels, height, width = self._image_shape(input_shape)
        first, second = self.channels
        return nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, first, kernel_size=3, padding=1)),
            ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(first, second, kernel_size=3, padding=1)),
            ("pool", nn.MaxPool2d(2, ceil_mode=True)),
            ("dropout1", nn.Dropout(self.dropout)),
            ("relu2", nn.ReLU()),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(second * pooled(height) * pooled(width), 128)),
            ("relu3", nn.ReLU()),
            ("dropout2", nn.Dropout(self.dropout)),
            ("fc2", nn.Linear(128, n_outputs)),
        ]))

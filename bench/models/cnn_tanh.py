"""ATEX's MNIST / FashionMNIST network (Tang et al., Frontiers in Big Data 2022; METHODS.md §3):
two conv + ReLU + max-pool blocks and a Tanh before the head, smooth so that second-order
explanation attacks have a gradient to follow. Named layers as bench.models.cnn describes."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from bench.models.base import store_params
from bench.models.cnn import ImageClassifier, pooled
from bench.models.torch_estimator import DEVICE, RANDOM_STATE
from bench.models.training import TrainingLoop

if TYPE_CHECKING:
    from torch import nn


class CNNTanh(ImageClassifier):
    """conv1 (C -> channels[0], 3x3, pad 1), relu1, pool1 (2x2), conv2 (-> channels[1]), relu2,
    pool2, flatten, fc1 (channels[1] x H/4 x W/4 -> 120; 32 x 7 x 7 = 1568 on MNIST), tanh, fc2
    (-> classes): the authors' `ConvMnist` (src/model_conv_fashmnist.py). Its training is the
    pretraining of f_org (TRAINING)."""

    # The paper's pretraining of f_org: Adam at 1.5e-3, batches of 100, 2 epochs, the weights of
    # the epoch with the best validation score (early stopping's restore; its patience equals the
    # epochs, so it never stops early). The authors' split (src/data_fashmnist.py): 50,000 of
    # MNIST's 60,000 training images train, 10,000 validate. They keep the epoch of best
    # validation accuracy; the loop here keeps that of the lowest validation loss.
    TRAINING = {"lr": 1.5e-3, "batch_size": 100, "epochs": 2, "patience": 2, "validation_fraction": 1 / 6}

    def __init__(self, *, channels: tuple[int, ...] = (32, 32),
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
            ("pool1", nn.MaxPool2d(2, ceil_mode=True)),
            ("conv2", nn.Conv2d(first, second, kernel_size=3, padding=1)),
            ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2, ceil_mode=True)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(second * pooled(height, 2) * pooled(width, 2), 120)),
            ("tanh", nn.Tanh()),
            ("fc2", nn.Linear(120, n_outputs)),
        ]))

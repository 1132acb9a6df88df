"""ATEX's MNIST / FashionMNIST network (Tang et al., Frontiers in Big Data 2022; METHODS.md §3):
two conv + ReLU + max-pool blocks and a Tanh before the head, smooth so that second-order
explanation attacks have a gradient to follow. Named layers as bench.models.cnn describes."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from bench.models.cnn import ImageClassifier, pooled
from bench.models.torch_estimator import LOOP, store_params
from bench.models.training import LRSchedule, Optimizer, SnapshotTiming


class CNNTanh(ImageClassifier):
    """conv1 (C -> channels[0], 3x3, pad 1), relu1, pool1 (2x2), conv2 (-> channels[1]), relu2,
    pool2, flatten, fc1 (channels[1] x H/4 x W/4 -> 120; 32 x 7 x 7 = 1568 on MNIST), tanh, fc2
    (-> classes): the authors' `ConvMnist` (src/model_conv_fashmnist.py). Training defaults are
    the pretraining of f_org: Adam at 1.5e-3, batches of 100, 2 epochs, the weights of the epoch
    with the best validation score (early stopping's restore; its patience equals the epochs, so
    it never stops early)."""

    def __init__(self, *, channels: tuple[int, ...] = (32, 32),
                 optimizer: Optimizer = LOOP.optimizer, lr: float = 1.5e-3, weight_decay: float = LOOP.weight_decay,
                 batch_size: int = 100, epochs: int = 2, patience: int | None = 2,
                 # The authors' split (src/data_fashmnist.py): 50,000 of MNIST's 60,000 training images
                 # train, 10,000 validate. They keep the epoch of best validation accuracy; the loop
                 # here keeps that of the lowest validation loss.
                 validation_fraction: float = 1 / 6, lr_schedule: LRSchedule = LOOP.lr_schedule,
                 warmup_epochs: int = LOOP.warmup_epochs, t_mult: int = LOOP.t_mult, n_restarts: int = LOOP.n_restarts,
                 snapshots: SnapshotTiming = LOOP.snapshots, device: str = LOOP.device,
                 random_state: int = LOOP.random_state):
        store_params(self, locals())

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
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

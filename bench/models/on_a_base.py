"""A model built on another torch classifier, its `base` (FLINT post-hoc reads a frozen base's
hidden layer; ATEX fine-tunes a copy of its base): what such a model reads, the checks of the
option, and the base trained first or taken as given."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from bench.models.cnn import CNN
from bench.models.mlp import MLP
from bench.models.torch_estimator import TorchClassifier

if TYPE_CHECKING:
    from torch import nn


# Per kind of data, the base a model built on one takes when given none: its conf/model name and class.
DEFAULT_BASES = {"image": ("cnn", CNN), "tabular": ("mlp", MLP)}


def predicts_with_base(model) -> bool:
    """Whether the model's predictions are its base's, unchanged (FLINT post-hoc, CNN-INTE: they
    add an interpreter of the base): one predictor, which the base's entry stands for."""
    return bool(getattr(model, "predicts_with_base", False))


class OnABase:
    """Mixed into a TorchClassifier with a `base` option (None: `_default_base` for the data)."""

    base: TorchClassifier | None
    random_state: int
    device: str

    @property
    def input_kinds(self) -> tuple[str, ...]:
        """The base's (both kinds when the base is chosen at fit, from the data)."""
        return ("image", "tabular") if self.base is None else tuple(getattr(self.base, "input_kinds", ("tabular",)))

    def predictor_layers(self, input_kind: str) -> list[str]:
        """The layers of the base's network, which this model predicts with (ATEX a fine-tuned
        copy of it, FLINT post-hoc and CNN-INTE the base itself), by their names."""
        base = getattr(self, "base_", None) or self.base or self._default_base(image=input_kind == "image")
        return base.predictor_layers(input_kind)

    def _default_base(self, image: bool) -> TorchClassifier:
        """The base when none is given: the cnn on images, an mlp on tables."""
        return DEFAULT_BASES["image" if image else "tabular"][1]()

    @staticmethod
    def default_base_option(input_kind: str) -> str:
        """The conf/model option of the default base for `input_kind` data (model@model.base=...)."""
        return DEFAULT_BASES[input_kind][0]

    def _check_base(self, needs: str, example: str) -> None:
        """`needs`: what the model does with the base; `example`: the base config a run names."""
        if self.base is not None and not isinstance(self.base, TorchClassifier):
            raise ValueError(f"{type(self).__name__}: base must be a torch classifier (cnn, cnn_tanh, mlp, ...) {needs}, "
                             f"got {type(self.base).__name__} (in a run, choose it with model@model.base={example})")

    def _fit_base(self, X, y) -> None:
        """`base_`: the base itself when it is fitted already (it stays untouched), else a clone of
        it (or of the default) trained on (X, y) with this model's seed and device."""
        base = self.base if self.base is not None else self._default_base(image=np.ndim(X) == 4)
        try:
            check_is_fitted(base, "networks_")
            self.base_ = base
        except NotFittedError:
            self.base_ = clone(base).set_params(random_state=self.random_state, device=self.device).fit(X, y)

    def _base_network(self, uses: str, *, last_of_ensemble: bool = False) -> nn.Module:
        """The fitted base's one network (`uses`: what the model does with it, for the message),
        once the model has read its classes: a base fitted on other classes is refused. A
        snapshot ensemble (IMN's) is refused too, unless `last_of_ensemble`: then its last
        snapshot, the network IMN's native explanation reads."""
        if not np.array_equal(self.base_.classes_, self.classes_):
            raise ValueError(f"{type(self).__name__}: the base was fitted on the classes {self.base_.classes_.tolist()}, "
                             f"these labels hold {self.classes_.tolist()}")
        networks = self.base_._networks()
        if len(networks) != 1 and not last_of_ensemble:
            raise ValueError(f"{type(self).__name__}: the base holds {len(networks)} networks (a snapshot ensemble); "
                             f"{uses} one")
        return networks[-1]

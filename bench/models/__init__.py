"""Models, chosen in conf/model/ by `_target_`."""

from bench.models.cnn import CNN
from bench.models.logreg import LogisticRegression
from bench.models.mlp import MLP

__all__ = ["CNN", "LogisticRegression", "MLP"]

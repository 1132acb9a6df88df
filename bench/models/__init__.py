"""Models, chosen in conf/model/ by `_target_`. Inherent models (HyperLinear, EBM,
LogisticRegression, DecisionTree) also implement `explain(X, target=None) -> Explanation`."""

from bench.models.boosted_trees import CatBoost
from bench.models.cnn import CNN
from bench.models.decision_tree import DecisionTree
from bench.models.ebm import EBM
from bench.models.hyperlinear import HyperLinear
from bench.models.logreg import LogisticRegression
from bench.models.mlp import MLP
from bench.models.random_forest import RandomForest
from bench.models.tabresnet import TabResNet

__all__ = ["CNN", "CatBoost", "DecisionTree", "EBM", "HyperLinear", "LogisticRegression", "MLP", "RandomForest",
           "TabResNet"]

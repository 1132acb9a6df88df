"""Models, chosen in conf/model/ by `_target_`: scikit-learn estimators. Inherent models
(HyperLinear, Flint, EBM, LogisticRegression, DecisionTree) also implement
`explain(X, target=None) -> Explanation`. The torch classifiers that also regress name their
regression twin (bench.models.base.for_task). Every torch model trains with a TrainingLoop, its
`training` option."""

from bench.models.atex import ATEX
from bench.models.boosted_trees import CatBoost
from bench.models.cnn import CNN
from bench.models.cnn_inte import CNNInte
from bench.models.cnn_tanh import CNNTanh
from bench.models.decision_tree import DecisionTree
from bench.models.ebm import EBM
from bench.models.flint import Flint, FlintPosthoc
from bench.models.hyperlinear import HyperLinear, HyperLinearRegressor
from bench.models.logreg import LogisticRegression
from bench.models.mlp import MLP, MLPRegressor
from bench.models.random_forest import RandomForest
from bench.models.tabresnet import TabResNet, TabResNetRegressor
from bench.models.training import TrainingLoop  # every torch model's `training`: a component, not a model

__all__ = ["ATEX", "CNN", "CNNInte", "CNNTanh", "CatBoost", "DecisionTree", "EBM", "Flint", "FlintPosthoc", "HyperLinear", "HyperLinearRegressor",
           "LogisticRegression", "MLP", "MLPRegressor", "RandomForest", "TabResNet", "TabResNetRegressor"]

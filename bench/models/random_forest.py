"""scikit-learn's random forest (the paper's baseline uses class_weight="balanced", set in
conf/model/rf.yaml); a black box: no native explanation."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier

from bench.models.base import Capabilities


class RandomForest(Capabilities, RandomForestClassifier):
    task_types = ("binary", "multiclass")

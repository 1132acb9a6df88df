"""Explanations of every kind (attribution, concepts, path) through a whole run, from a stand-in
model that returns each: metrics score what the explanation offers and say n/a otherwise, and
every kind is stored."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

import bench.cli.run as bench_run
from bench.core.explanation import Concepts, DecisionPath, Explanation
from bench.models.base import class_indices
from tests.conftest import FAST, compose_config

N_CONCEPTS = 2


class KindsModel(ClassifierMixin, BaseEstimator):
    """A logistic regression whose native explanation is of `kind`, with an attribution view
    (the impacts x * w) or not (`view`)."""

    def __init__(self, *, kind: str = "attribution", view: bool = True, random_state: int = 0):
        self.kind = kind
        self.view = view
        self.random_state = random_state

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)

    def explain(self, X, target=None) -> Explanation:
        target = class_indices(self, X, target)
        impacts = np.where(target[:, None] == 1, 1.0, -1.0) * X * self.model_.coef_[0]
        values = impacts if self.view or self.kind == "attribution" else None
        d = X.shape[1]
        if self.kind == "concepts":  # the first features as concepts, each mapping onto itself
            concepts = Concepts(activations=X[:, :N_CONCEPTS], relevance=impacts[:, :N_CONCEPTS],
                                to_input=np.eye(N_CONCEPTS, d), names=tuple(f"x{j}" for j in range(N_CONCEPTS)))
            return Explanation(values, "concepts", target, input_shape=(d,), concepts=concepts)
        if self.kind == "path":
            routes = tuple((f"x[0] = {x0:.3g}", "leaf") for x0 in X[:, 0])
            return Explanation(values, "path", target, input_shape=(d,), path=DecisionPath(routes))
        return Explanation(values, "attribution", target)


CASES = [("attribution", True), ("concepts", True), ("concepts", False), ("path", True), ("path", False)]


@pytest.mark.parametrize("kind, view", CASES, ids=[f"{k}-{'view' if v else 'no-view'}" for k, v in CASES])
def test_every_kind_is_stored_and_scored_where_a_metric_reads_it(kind, view, results):
    cfg = compose_config([*FAST, "data.datasets=[wdbc]", "explainers=[native]", "metrics=nightly"], results)
    with open_dict(cfg):
        cfg.model = {"_target_": f"{__name__}.KindsModel", "name": "kinds", "kind": kind, "view": view}
    bench_run.run(cfg)
    rows = pd.read_csv(results / "tables" / "explanations.csv", keep_default_na=False, na_values=[""])
    status = rows.set_index("metric")["status"]
    assert set(status.index) == {"deletion_auc", "insertion_auc", "faithfulness_correlation", "sparseness"}
    if view:
        assert set(status) == {"ok"}, rows[["metric", "error"]]
    else:  # every metric of the set reads attributions: n/a, saying why
        assert set(status) == {"n/a"}
        assert all(f"scores attribution explanations; this one is a {kind} explanation without an attribution "
                   "view" in error for error in rows["error"])
    artifact = pickle.loads(next((results / "artifacts").rglob("native-*.explanation.pkl")).read_bytes())
    explanation = artifact["explanation"]
    assert explanation.kind == kind and explanation.input_shape == (30,)
    assert ("by_source_column" in artifact) == view  # per source column: tabular attributions only
    if kind == "concepts":
        assert explanation.concepts.activations.shape == (4, N_CONCEPTS) and explanation.concepts.names == ("x0", "x1")
    if kind == "path":
        assert len(explanation.path.routes) == 4 and explanation.path.routes[0][-1] == "leaf"


def test_a_decision_tree_explains_with_its_path_and_credits_it_per_feature(results):
    bench_run.run(compose_config([*FAST, "data.datasets=[wdbc]", "model=dtree", "explainers=[native]"], results))
    artifact = pickle.loads(next((results / "artifacts").rglob("native-*.explanation.pkl")).read_bytes())
    explanation = artifact["explanation"]
    assert explanation.kind == "path" and explanation.offers("attribution")
    route, nodes = explanation.path.routes[0], explanation.path.nodes[0]
    assert nodes[0] == 0 and len(route) == len(nodes) and route[-1].startswith(f"leaf {nodes[-1]}:")
    rows = pd.read_csv(results / "tables" / "explanations.csv", keep_default_na=False)
    assert list(rows["status"]) == ["ok"]  # deletion reads the path's attribution view

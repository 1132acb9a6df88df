"""scikit-learn's decision tree, with its native explanation: the decision path, and its
attribution view, the path credited feature by feature (Saabas, "Interpreting random forests",
2014).

Walking from the root to the leaf, each split moves the target class's probability from the
parent's value to the child's; the move is credited to the feature split on. The root's value
(the training class frequency) plus the credits equals the leaf's probability exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.tree import DecisionTreeClassifier

from bench.core.explanation import DecisionPath, Explanation
from bench.models.base import Capabilities, class_indices


class DecisionTree(Capabilities, DecisionTreeClassifier):
    task_types = ("binary", "multiclass")

    def explain(self, X: np.ndarray, target: np.ndarray | None = None) -> Explanation:
        """A path explanation: each instance's route from the root to its leaf (`path`), with an
        attribution view: values (n, d), each feature's credit for the target class's leaf
        probability; extras "bias" (n,), the root's probability."""
        X = np.asarray(X, dtype=np.float32)
        target = class_indices(self, X, target)
        tree = self.tree_
        probability = tree.value[:, 0, :] / tree.value[:, 0, :].sum(axis=1, keepdims=True)  # (nodes, C)
        parent = np.full(tree.node_count, -1)
        for children in (tree.children_left, tree.children_right):
            internal = children >= 0
            parent[children[internal]] = np.flatnonzero(internal)
        child = np.flatnonzero(parent >= 0)
        path = self.decision_path(X)  # (n, nodes) indicator of the visited nodes
        values = np.zeros(X.shape)
        for c in np.unique(target):
            rows = target == c
            # credit[node, feature split on at its parent] = probability change parent -> node
            credit = sparse.csr_matrix(
                (probability[child, c] - probability[parent[child], c], (child, tree.feature[parent[child]])),
                shape=(tree.node_count, X.shape[1]),
            )
            values[rows] = (path[rows] @ credit).toarray()
        routes = decision_routes(tree, X, path, probability, target, self.classes_)
        return Explanation(values, "path", target, extras={"bias": probability[0, target]}, path=routes)


def decision_routes(tree, X: np.ndarray, path, probability: np.ndarray, target: np.ndarray, classes) -> DecisionPath:
    """Each row's visited nodes (node ids grow from the root down, so sorted ids are the route) as
    readable steps: the split and the side taken, then the leaf's probability of the target."""
    routes, nodes = [], []
    for i, visited in enumerate(np.split(path.indices, path.indptr[1:-1])):
        visited = np.sort(visited)
        steps = [f"x[{tree.feature[node]}] = {X[i, tree.feature[node]]:.4g} "
                 f"{'<=' if X[i, tree.feature[node]] <= tree.threshold[node] else '>'} {tree.threshold[node]:.4g}"
                 for node in visited[:-1]]
        steps.append(f"leaf {visited[-1]}: p({classes[target[i]]}) = {probability[visited[-1], target[i]]:.4g}")
        routes.append(tuple(steps))
        nodes.append(tuple(int(node) for node in visited))
    return DecisionPath(tuple(routes), tuple(nodes))

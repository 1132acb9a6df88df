"""CNN-INTE: a meta-learner that interprets a trained network through two-level clustering of
one of its hidden layers (Liu, Wang, Matwin, IJCNN 2018; METHODS.md §4).

Only the paper's abstract is available and no code is public; the design follows the abstract
and the authors' meta-learning lineage (Chan & Stolfo's combiner, as in their Meta-MapReduce).
Each choice below is ours and is an option where it is a number:
- the base network f (a cnn by default; an mlp on tables) is trained first, or taken fitted;
  H = its activations at the layer `layer` (default: the penultimate dense layer's output, the
  layer before the output layer with dropout skipped), flattened, unscaled;
- level 1: k-means of H_train into `k1` clusters; level 2: k-means into `k2` sub-clusters inside
  each (fewer where a cluster has fewer members). scikit-learn's KMeans, seeded;
- base learners: one Random Forest per level-1 cluster (`n_estimators` trees), trained on its
  members' activations with f's predicted labels: the meta-learner models f, not the labels;
- meta-level data of a point: every base learner's class probabilities (k1 x C), then, with
  `memberships`, the one-hot level-1 cluster (k1) and sub-cluster (the number of sub-clusters).
  A training point's probability from its own cluster's forest is the out-of-bag estimate
  (in-sample only where no tree left it out): stacking on in-sample votes would teach the
  combiner to trust a forest exactly where it overfits;
- the combiner: a multinomial logistic regression on the meta-level data, learnt on the training
  points with f's predicted labels (the linear combiner stacking works best with: Ting & Witten
  1999). Its class is CNN-INTE's prediction.
A forest knows only the classes its cluster holds: outside it, its vote is mostly its cluster's
majority class. The combiner thus leans on the instance's own cluster's forest and on the
memberships; the votes decide where a cluster holds several classes (on MNIST at relu3, seed 0,
fidelity is 97.8% with the memberships and 97.7% from the votes alone).

As a model in a run it follows FLINT's convention (bench.models.flint): `predict_proba` is f's,
`interpreter_proba` the meta-learner's, so the run scores the meta-learner as the entry
"<model>:g" and its fidelity to f. Its native explanation is the path of each instance (kind
`path`, see `explain`), drawn as a diagram by bench/report/path_pictures.py.

torch is imported inside the functions that read the base's network, so that the class imports
without it (bench.models.networks).
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from bench.core.explanation import DecisionPath, Explanation
from bench.models.base import Capabilities, class_indices, store_params
from bench.models.on_a_base import OnABase
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier, layer_names

if TYPE_CHECKING:
    import torch
    from torch import nn

STREAM = 2  # tags CNN-INTE's random streams apart from the base's, which starts from random_state


def penultimate_layer(network: nn.Sequential) -> str:
    """The layer whose output the last Linear layer reads, dropout skipped (it is the identity at
    prediction): relu3 of the cnn, tanh of the cnn_tanh, relu<n> of an mlp."""
    from torch import nn

    children = list(network.named_children())
    last = max((i for i, (_, layer) in enumerate(children) if isinstance(layer, nn.Linear)), default=None)
    before = [name for name, layer in children[:last or 0] if not isinstance(layer, nn.Dropout)]
    if not before:
        raise ValueError(f"the network has no layer before a Linear output layer to read; its layers: "
                         f"{', '.join(layer_names(network))}; name one with layer=...")
    return before[-1]


def nearest_member(points: np.ndarray, members: np.ndarray, centre: np.ndarray, fallback: np.ndarray) -> int:
    """The index (into points) of the member nearest `centre`; of the `fallback` point nearest it
    when there is no member."""
    candidates = members if len(members) else fallback
    return int(candidates[np.argmin(((points[candidates] - centre) ** 2).sum(axis=1))])


class CNNInte(OnABase, Capabilities, ClassifierMixin, BaseEstimator):
    """CNN-INTE over `base` (a torch classifier whose network is a Sequential of named layers:
    cnn, cnn_tanh, mlp; None: the cnn on images, an mlp on tables), reading its layer `layer`."""

    task_types = ("binary", "multiclass")
    explains_interpreter = True  # `explain` is the meta-learner's: the entry <model>:g's (bench/models/interpreter.py)
    predicts_with_base = True  # predict_proba is the base's: its predictions are the base's entry's
    _parameter_constraints = {
        "base": "no_validation",  # _check_base names what it must be
        "layer": [str, None],
        **{name: [Interval(Integral, 1, None, closed="left")] for name in ("k1", "k2", "n_estimators")},
        "memberships": ["boolean"],
        "device": [str],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, *, base=None, layer: str | None = None, k1: int = 10, k2: int = 3, n_estimators: int = 100,
                 memberships: bool = True, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _validate_params(self) -> None:
        """scikit-learn's constraints, the base, and a layer the base does not have: before any
        data (in a run, when the plan is made)."""
        super()._validate_params()
        self._check_base("whose hidden layer CNN-INTE reads", example="cnn")
        if self.base is not None:
            self._check_layer(self.base)

    def _check_layer(self, base: TorchClassifier) -> None:
        if self.layer is None:
            return
        names = base.predictor_layers("image" if "image" in base.input_kinds else "tabular")
        if self.layer not in names:
            raise ValueError(f"CNNInte: the base ({type(base).__name__}) has no layer {self.layer!r}; its layers: "
                             f"{', '.join(names)}")

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X, y) -> "CNNInte":
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float32, allow_nd=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"the training labels hold one class ({self.classes_}); a classifier needs two or more")
        if self.k1 > len(X):
            raise ValueError(f"CNNInte: k1 = {self.k1} clusters for {len(X)} training points; set k1 to at most "
                             f"{len(X)}")
        if self.k1 * self.k2 > len(X):  # k2 sub-clusters in each of k1 clusters
            raise ValueError(f"CNNInte: k1 x k2 = {self.k1} x {self.k2} sub-clusters for {len(X)} training points; set "
                             f"k2 to at most {len(X) // self.k1}")
        if self.base is None:  # the default base, checked before it trains
            self._check_layer(self._default_base(image=X.ndim == 4))
        self._fit_base(X, y)
        if self.base_ is self.base:
            # Given fitted: a copy, so that following this model's device (_base) never moves the
            # caller's estimator or changes its parameters.
            self.base_ = copy.deepcopy(self.base)
        self._check_layer(self.base_)  # a base built from a base of its own (ATEX) is known now
        network = self._base_network("CNN-INTE reads a hidden layer of")
        self.layer_ = self.layer if self.layer is not None else penultimate_layer(network)
        H = self._activations(X)
        f_class = self._base().predict_proba(X).argmax(axis=1)  # codes into classes_
        # Streams of their own (the base trains from random_state itself): level 1's k-means, then
        # each cluster's level 2; each cluster's forest.
        kmeans, forests = np.random.SeedSequence([self.random_state, STREAM]).spawn(2)
        self._cluster(H, kmeans.generate_state(1 + self.k1))
        seeds = forests.generate_state(self.k1)
        self.learners_ = [self._forest(H[self.cluster_of_train_ == c], f_class[self.cluster_of_train_ == c],
                                       int(seeds[c])) for c in range(self.k1)]
        self.prototype_rows_ = self._prototype_rows(H)
        self.prototypes_ = X[self.prototype_rows_]
        meta = self._meta_features(self._learner_proba(H, out_of_bag=True), self.cluster_of_train_,
                                   self.subcluster_of_train_)
        # A base that predicts one class for every training point (an untrained net) leaves the
        # combiner nothing to learn: it predicts that class (a logistic regression needs two).
        # lbfgs draws nothing: the combiner needs no seed.
        self.combiner_ = (LogisticRegression(max_iter=2000) if len(np.unique(f_class)) > 1
                          else DummyClassifier(strategy="prior")).fit(meta, f_class)
        return self

    def _base(self) -> TorchClassifier:
        """The fitted base (this model's copy), computing on this model's device (a run may move a
        stored model)."""
        if self.base_.device != self.device:
            self.base_.set_params(device=self.device)
        return self.base_

    def _activations(self, X: np.ndarray) -> np.ndarray:
        """(n, m) H: the base's layer output, flattened, in float64 (k-means' distances)."""
        return self._base().layer_output(X, self.layer_).reshape(len(X), -1).astype(np.float64)

    def _cluster(self, H: np.ndarray, seeds: np.ndarray) -> None:
        """Level 1 (`level1_`, `cluster_of_train_`), level 2 inside each cluster (`level2_`: a KMeans
        per cluster, `subcluster_offset_`: cluster c's sub-clusters are global ids offset[c] + s,
        `subcluster_of_train_`: each training point's global sub-cluster). `seeds`: level 1's,
        then each cluster's."""
        with warnings.catch_warnings():
            # Duplicate activations (dead units, a tiny cluster) leave fewer distinct clusters than
            # asked: some stay empty, and get no base learner (their votes are 0). Not an error.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.level1_ = KMeans(self.k1, n_init="auto", random_state=int(seeds[0])).fit(H)
            self.cluster_of_train_ = self.level1_.labels_
            self.level2_, sizes = [], []
            self.subcluster_of_train_ = np.empty(len(H), dtype=int)
            for c in range(self.k1):
                members = self.cluster_of_train_ == c
                k = max(1, min(self.k2, int(members.sum())))
                # A cluster left without members (duplicate activations) gets one sub-cluster at its
                # centroid, so that a new point assigned to it still has a path.
                level2 = KMeans(k, n_init="auto", random_state=int(seeds[1 + c])).fit(
                    H[members] if members.any() else self.level1_.cluster_centers_[c:c + 1])
                self.level2_.append(level2)
                self.subcluster_of_train_[members] = sum(sizes) + level2.labels_
                sizes.append(k)
        self.subcluster_offset_ = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
        self.n_subclusters_ = int(sum(sizes))
        members = np.bincount(self.cluster_of_train_, minlength=self.k1)
        if (members < self.k2).any():  # the k2 asked for is not what these clusters got: say so
            warnings.warn(f"CNNInte: {(members < self.k2).sum()} of the {self.k1} clusters have fewer members than "
                          f"k2 = {self.k2} (the smallest: {members.min()}); each of them has one sub-cluster per "
                          "member", UserWarning, stacklevel=3)

    def _forest(self, H: np.ndarray, labels: np.ndarray, seed: int) -> RandomForestClassifier | None:
        """Cluster c's base learner; None for a cluster without members (its votes are 0)."""
        if not len(H):
            return None
        with warnings.catch_warnings():
            # A member that no tree left out gets its in-sample votes (_learner_proba): not a problem
            # to warn about, as scikit-learn does.
            warnings.filterwarnings("ignore", "Some inputs do not have OOB scores", UserWarning)
            return RandomForestClassifier(self.n_estimators, oob_score=True, random_state=seed).fit(H, labels)

    def _prototype_rows(self, H: np.ndarray) -> np.ndarray:
        """The training rows nearest each centroid among its members: the k1 clusters', then every
        sub-cluster's in global order (the ids of prototype_images)."""
        members = [np.flatnonzero(self.cluster_of_train_ == c) for c in range(self.k1)]
        everyone = np.arange(len(H))
        # An empty (sub-)cluster's prototype: the nearest point of its parent (of all, at level 1).
        rows = [nearest_member(H, members[c], centre, everyone)
                for c, centre in enumerate(self.level1_.cluster_centers_)]
        rows += [nearest_member(H, np.flatnonzero(self.subcluster_of_train_ == self.subcluster_offset_[c] + s), centre,
                                members[c] if len(members[c]) else everyone)
                 for c, level2 in enumerate(self.level2_) for s, centre in enumerate(level2.cluster_centers_)]
        return np.asarray(rows, dtype=int)

    # -- the meta-learner's pieces ---------------------------------------------------------------
    def _assign(self, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n,) level-1 cluster and (n,) global sub-cluster of each row: the nearest centroid."""
        cluster = self.level1_.predict(H)
        sub = np.empty(len(H), dtype=int)
        for c in np.unique(cluster):
            rows = cluster == c
            sub[rows] = self.subcluster_offset_[c] + self.level2_[c].predict(H[rows])
        return cluster, sub

    def _learner_proba(self, H: np.ndarray, *, out_of_bag: bool = False) -> np.ndarray:
        """(n, k1, C): each base learner's class probabilities. With `out_of_bag` (H is the
        training activations), a learner's own members get its out-of-bag estimate."""
        proba = np.zeros((len(H), self.k1, len(self.classes_)))
        for c, forest in enumerate(self.learners_):
            if forest is None:
                continue
            proba[:, c, forest.classes_] = forest.predict_proba(H)
            if out_of_bag:
                members = np.flatnonzero(self.cluster_of_train_ == c)
                oob = forest.oob_decision_function_
                left_out = oob.sum(axis=1) > 0  # sklearn leaves a row zero where no tree left it out
                proba[members[left_out], c] = 0.0
                proba[np.ix_(members[left_out], [c], forest.classes_)] = oob[left_out][:, None, :]
        return proba

    def _voters(self) -> np.ndarray:
        """(k1,) whether each cluster has a base learner (a cluster without members has none)."""
        return np.array([forest is not None for forest in self.learners_])

    def _meta_features(self, learner_proba: np.ndarray, cluster: np.ndarray, sub: np.ndarray) -> np.ndarray:
        """(n, k1 C [+ k1 + sub-clusters]): the learners' probabilities, learner by learner, then
        the one-hot memberships (see meta_feature_names)."""
        parts = [learner_proba.reshape(len(learner_proba), -1)]
        if self.memberships:
            parts += [np.eye(self.k1)[cluster], np.eye(self.n_subclusters_)[sub]]
        return np.hstack(parts)

    def meta_feature_names(self) -> list[str]:
        """The combiner's inputs in order: "learner c: p(k)" for each learner c and class k, then
        "in cluster c" and "in sub-cluster c.s"."""
        check_is_fitted(self, "combiner_")
        names = [f"learner {c}: p({k})" for c in range(self.k1) for k in self.classes_]
        if self.memberships:
            names += [f"in cluster {c}" for c in range(self.k1)]
            names += [f"in sub-cluster {c}.{s}" for c, level2 in enumerate(self.level2_)
                      for s in range(level2.n_clusters)]
        return names

    def _combiner_proba(self, meta: np.ndarray) -> np.ndarray:
        proba = np.zeros((len(meta), len(self.classes_)))
        proba[:, self.combiner_.classes_] = self.combiner_.predict_proba(meta)
        return proba

    # -- predictions ---------------------------------------------------------------------------------
    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self, "combiner_")
        return validate_data(self, X, reset=False, dtype=np.float32, allow_nd=True)

    def predict_proba(self, X) -> np.ndarray:
        """f's class probabilities: CNN-INTE interprets f, it does not replace it."""
        X = self._validated(X)
        return self._base().predict_proba(X)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)  # first: unfitted, it raises NotFittedError
        return self.classes_[proba.argmax(axis=1)]

    def interpreter_proba(self, X) -> np.ndarray:
        """(n, C) the meta-learner's class probabilities: the combiner's on the meta-level data."""
        H = self._activations(self._validated(X))
        cluster, sub = self._assign(H)
        return self._combiner_proba(self._meta_features(self._learner_proba(H), cluster, sub))

    def torch_module(self) -> nn.Module:
        """f's network: what gradient explainers explain."""
        return self._base().torch_module()

    def prototype_images(self, ids: np.ndarray) -> np.ndarray:
        """The prototypes' inputs: ids < k1 are the clusters', k1 + g the global sub-cluster g's."""
        check_is_fitted(self, "prototypes_")
        return self.prototypes_[np.asarray(ids, dtype=int)]

    # -- the explanation ---------------------------------------------------------------------------
    def explain(self, X, target: np.ndarray | None = None) -> Explanation:
        """Each instance's path (kind `path`): its level-1 cluster and distance (and the runner-up
        centroid), its sub-cluster, every base learner's vote and probability, and the combiner's
        decision with its strongest inputs; the prototypes of its cluster and sub-cluster.

        `extras` hold the path as arrays: "cluster", "cluster_distance", "runner_up",
        "runner_up_distance" (with one cluster, the cluster itself), "subcluster" (global ids),
        "subcluster_distance", "learner_proba" (n, k1, C), "votes" (n, k1) class indices (-1: a
        cluster without members has no learner), "decision" (n,) class index, "decision_proba"
        (n, C), "prototypes" (n, 2) ids for prototype_images, "prototype_rows" (n, 2) training
        rows; "layer". `path.nodes` are the prototypes' ids.

        The attribution view (`values`, (n, d)) is the input gradient of the margin by which the
        instance's activations sit nearer its cluster's centroid than the runner-up's,
        ||h(x) - mu_r||^2 - ||h(x) - mu_c||^2 (with one cluster, -||h(x) - mu_c||^2): which inputs
        put the instance in its cluster, the first step of its path. It does not depend on
        `target` (by default the meta-learner's predicted class, the decision the path explains);
        the run scores it on the meta-learner's entry (bench/models/interpreter.py), where the
        attribution metrics read how well "what puts x in its cluster" predicts g's output."""
        X = self._validated(X)
        target = self.interpreter_proba(X).argmax(axis=1) if target is None else class_indices(self, X, target)
        H = self._activations(X)
        cluster, sub = self._assign(H)
        distances = self.level1_.transform(H)  # (n, k1) Euclidean distances to the centroids
        rows = np.arange(len(X))
        others = distances.copy()
        others[rows, cluster] = np.inf  # the nearest centroid but the instance's own (ties included)
        runner_up = others.argmin(axis=1) if self.k1 > 1 else cluster
        sub_centres = np.vstack([level2.cluster_centers_ for level2 in self.level2_])
        learner_proba = self._learner_proba(H)
        meta = self._meta_features(learner_proba, cluster, sub)
        decision_proba = self._combiner_proba(meta)
        extras = {
            "cluster": cluster, "cluster_distance": distances[rows, cluster],
            "runner_up": runner_up, "runner_up_distance": distances[rows, runner_up],
            "subcluster": sub, "subcluster_distance": np.linalg.norm(H - sub_centres[sub], axis=1),
            "learner_proba": learner_proba, "votes": np.where(self._voters(), learner_proba.argmax(axis=2), -1),
            "decision": decision_proba.argmax(axis=1), "decision_proba": decision_proba,
            "prototypes": np.stack([cluster, self.k1 + sub], axis=1),
            "prototype_rows": self.prototype_rows_[np.stack([cluster, self.k1 + sub], axis=1)],
            "layer": self.layer_,
        }
        values = self._cluster_margin_gradient(X, cluster, runner_up)
        return Explanation(values, "path", target, extras=extras, input_shape=X.shape[1:],
                           path=self._routes(extras, meta, target))

    def _cluster_margin_gradient(self, X: np.ndarray, cluster: np.ndarray, runner_up: np.ndarray) -> np.ndarray:
        import torch

        from bench.models.networks.torch_estimator import chunks

        up_to = self._base().up_to_layer(self.layer_)
        device = self._base().device_
        centres = torch.as_tensor(self.level1_.cluster_centers_, dtype=torch.float32, device=device)
        own = torch.as_tensor(cluster, device=device)
        other = torch.as_tensor(runner_up, device=device)
        single = self.k1 == 1

        def gradient(part: torch.Tensor, rows: slice) -> torch.Tensor:
            with torch.enable_grad():
                x = part.clone().requires_grad_()
                h = up_to(x).flatten(1)
                margin = -((h - centres[own[rows]]) ** 2).sum(dim=1)
                if not single:
                    margin = margin + ((h - centres[other[rows]]) ** 2).sum(dim=1)
                return torch.autograd.grad(margin.sum(), x)[0]

        gradients, start = [], 0
        for part in chunks(X):
            gradients.append(gradient(part.to(device), slice(start, start + len(part))).cpu())
            start += len(part)
        return torch.cat(gradients).reshape(len(X), -1).double().numpy()

    def _routes(self, extras: dict, meta: np.ndarray, target: np.ndarray) -> DecisionPath:
        names = self.meta_feature_names()
        classes = self.classes_
        routes, nodes = [], []
        for i in range(len(target)):
            c, g = int(extras["cluster"][i]), int(extras["subcluster"][i])
            s = g - self.subcluster_offset_[c]
            rows = extras["prototype_rows"][i]
            runner_up = (f"; next nearest cluster {int(extras['runner_up'][i])} at "
                         f"{extras['runner_up_distance'][i]:.4g}") if self.k1 > 1 else ""
            steps = [f"layer {self.layer_}: cluster {c} of {self.k1} (distance {extras['cluster_distance'][i]:.4g}"
                     f"{runner_up}); prototype: training row {rows[0]}",
                     f"sub-cluster {c}.{s} of {self.level2_[c].n_clusters} (distance "
                     f"{extras['subcluster_distance'][i]:.4g}); prototype: training row {rows[1]}"]
            steps += [f"learner {j} (cluster {j}): votes {classes[extras['votes'][i, j]]} "
                      f"(p = {extras['learner_proba'][i, j].max():.3g})" if extras["votes"][i, j] >= 0
                      else f"learner {j} (cluster {j}): no members, no vote" for j in range(self.k1)]
            decision = int(extras["decision"][i])
            steps.append(f"combiner: {classes[decision]} (p = {extras['decision_proba'][i, decision]:.3g}); "
                         + self._combiner_reasons(meta[i], decision, names))
            if decision != target[i]:
                steps.append(f"explained class {classes[target[i]]}: p = {extras['decision_proba'][i, target[i]]:.3g} "
                             "by the combiner")
            routes.append(tuple(steps))
            nodes.append((c, self.k1 + g))  # the ids of prototype_images
        return DecisionPath(tuple(routes), tuple(nodes))

    def _combiner_reasons(self, meta: np.ndarray, decision: int, names: list[str], top: int = 3) -> str:
        """The combiner's strongest reasons for `decision`: the inputs with the largest contribution
        w x to its score (a row of coefficients per class; one row, the second class's, for two)."""
        if not hasattr(self.combiner_, "coef_"):
            return f"the base predicts {self.classes_[decision]} for every training point"
        coefficients = self.combiner_.coef_
        if len(coefficients) == 1:
            contribution = coefficients[0] * meta * (1.0 if decision == self.combiner_.classes_[1] else -1.0)
        else:
            contribution = coefficients[int(np.flatnonzero(self.combiner_.classes_ == decision)[0])] * meta
        strongest = np.argsort(-contribution, kind="stable")[:top]
        return "strongest inputs: " + ", ".join(f"{names[k]} = {meta[k]:.3g} ({contribution[k]:+.3g})"
                                                for k in strongest)

"""CNN-INTE's pieces on data whose answer is known: the two-level clustering, the combiner's
input, fidelity by hand and on a layer that separates the classes, the path and its prototypes,
its diagram, and the run's rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

import bench.cli.run as bench_run
from bench.report.gallery import gallery_files
from bench.metrics.fidelity import accuracy_change, fidelity
from bench.models import CNN, MLP, CNNInte, RandomForest, TrainingLoop
from bench.models.cnn_inte import penultimate_layer
from bench.pipeline.pictures import N_PATHS, path_pictures
from bench.report.path_pictures import draw_path_pictures
from bench.results import ResultStore
from tests.conftest import compose_config


def tiny_mlp(device: str = "cpu") -> MLP:
    return MLP(hidden_sizes=(8,), training=TrainingLoop(epochs=5, lr=1e-2), device=device)


def table(n=120, classes=3, seed=0):
    """Three well separated blobs in 4 features."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    X = rng.normal(size=(n, 4)) * 0.3 + np.eye(4)[y] * 3
    return X.astype(np.float32), y


def images(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 1, 8, 8)).astype(np.float32)
    return X, (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(int)


def fitted(k1=3, k2=2, **options):
    X, y = table()
    return CNNInte(base=tiny_mlp(), k1=k1, k2=k2, n_estimators=10, device="cpu", **options).fit(X, y), X, y


def test_every_training_point_has_one_cluster_and_one_sub_cluster_inside_it():
    model, X, _ = fitted(k1=3, k2=2)
    n = len(X)
    assert model.level1_.cluster_centers_.shape == (3, 8)  # k1 x the layer's 8 units
    assert model.cluster_of_train_.shape == model.subcluster_of_train_.shape == (n,)
    assert model.n_subclusters_ == 6 and list(model.subcluster_offset_) == [0, 2, 4]
    for c in range(3):
        members = model.cluster_of_train_ == c
        # Global sub-cluster ids of cluster c are offset[c] .. offset[c] + k2 - 1: one each, inside c.
        assert set(model.subcluster_of_train_[members]) <= {2 * c, 2 * c + 1}
        assert model.level2_[c].cluster_centers_.shape == (2, 8)
    assert len(model.learners_) == 3 and len(model.prototype_rows_) == 3 + 6


def test_a_cluster_smaller_than_k2_gets_one_sub_cluster_per_member():
    X, y = table(n=30)
    X[0] = 40.0  # an outlier: a cluster of its own, with one member
    with pytest.warns(UserWarning, match="1 of the 4 clusters have fewer members than k2 = 3 \\(the smallest: 1\\)"):
        model = CNNInte(base=tiny_mlp(), layer="flatten", k1=4, k2=3, n_estimators=5, device="cpu").fit(X, y)
    sizes = [level2.n_clusters for level2 in model.level2_]
    alone = model.cluster_of_train_[0]
    assert (model.cluster_of_train_ == alone).sum() == 1 and sizes[alone] == 1
    assert model.n_subclusters_ == sum(sizes) == 10


def test_the_combiner_reads_each_learners_probabilities_then_the_memberships():
    model, X, _ = fitted(k1=3, k2=2)
    H = model._activations(X[:5])
    cluster, sub = model._assign(H)
    proba = model._learner_proba(H)
    meta = model._meta_features(proba, cluster, sub)
    names = model.meta_feature_names()
    assert meta.shape == (5, 3 * 3 + 3 + 6) == (5, len(names)) == (5, model.combiner_.n_features_in_)
    np.testing.assert_array_equal(meta[:, :9], proba.reshape(5, 9))  # learner 0's p(0..2), then learner 1's, ...
    assert names[:4] == ["learner 0: p(0)", "learner 0: p(1)", "learner 0: p(2)", "learner 1: p(0)"]
    np.testing.assert_array_equal(meta[:, 9:12], np.eye(3)[cluster])
    np.testing.assert_array_equal(meta[:, 12:], np.eye(6)[sub])
    assert names[9] == "in cluster 0" and names[12] == "in sub-cluster 0.0"
    bare, _, _ = fitted(k1=3, k2=2, memberships=False)
    assert bare.combiner_.n_features_in_ == 9 and len(bare.meta_feature_names()) == 9


def test_a_learners_own_members_get_its_out_of_bag_votes():
    model, X, _ = fitted(k1=3, k2=2)
    H = model._activations(X)
    in_bag = model._learner_proba(H)
    out_of_bag = model._learner_proba(H, out_of_bag=True)
    never_left_out = 0
    for c, forest in enumerate(model.learners_):
        members = np.flatnonzero(model.cluster_of_train_ == c)
        others = np.flatnonzero(model.cluster_of_train_ != c)
        np.testing.assert_array_equal(out_of_bag[others, c], in_bag[others, c])
        oob = forest.oob_decision_function_
        left_out = oob.sum(axis=1) > 0
        np.testing.assert_allclose(out_of_bag[members[left_out], c][:, forest.classes_], oob[left_out])
        np.testing.assert_array_equal(out_of_bag[members[~left_out], c], in_bag[members[~left_out], c])
        never_left_out += (~left_out).sum()
    assert never_left_out > 0  # with 10 trees, some member is in every bootstrap sample: both cases ran


def test_fidelity_and_the_accuracy_change_on_hand_made_predictions():
    y = np.array([0, 1, 2, 2])
    f = np.eye(3)[[0, 1, 1, 2]]  # right on 3 of 4
    g = np.eye(3)[[0, 1, 2, 0]]  # right on 3 of 4, agrees with f on 2
    assert fidelity(f, g) == 0.5
    assert accuracy_change(y, f, g) == 0.0
    assert accuracy_change(y, f, np.eye(3)[y]) == 0.25


def separating_base(X, y):
    """An mlp whose hidden layer relu1 is its input (a one-hot-like code of the class) and whose
    logits are 10 times it: the layer separates the classes, and f predicts the class."""
    width = X.shape[1]
    base = MLP(hidden_sizes=(width,), training=TrainingLoop(epochs=1), device="cpu").fit(X, y)
    network = base.networks_[0]
    with torch.no_grad():
        network.fc1.weight.copy_(torch.eye(width))
        network.fc1.bias.zero_()
        network.fc2.weight.copy_(10 * torch.eye(width))
        network.fc2.bias.zero_()
    return base


def coded(n, classes, rng):
    """Each class a direction of its own, at a random length in [1, 2]."""
    y = np.arange(n) % classes
    return (np.eye(classes)[y] * rng.uniform(1, 2, size=(n, 1))).astype(np.float32), y


def test_a_layer_that_separates_the_classes_gives_fidelity_one():
    rng = np.random.default_rng(0)
    X, y = coded(90, 3, rng)
    base = separating_base(X, y)
    np.testing.assert_array_equal(base.predict(X), y)
    model = CNNInte(base=base, layer="relu1", k1=3, k2=2, n_estimators=10, device="cpu").fit(X, y)
    X_new, _ = coded(30, 3, rng)
    assert fidelity(model.predict_proba(X_new), model.interpreter_proba(X_new)) == 1.0
    # Each level-1 cluster is one class.
    assert all(len(set(y[model.cluster_of_train_ == c])) == 1 for c in range(3))


def test_the_forests_votes_alone_carry_the_class_where_a_cluster_holds_several():
    # Without the memberships, the combiner reads the votes only. A forest knows the classes of
    # its own cluster, so its votes decide where a cluster holds several classes.
    rng = np.random.default_rng(0)
    X, y = coded(200, 4, rng)
    model = CNNInte(base=separating_base(X, y), layer="relu1", k1=2, k2=2, n_estimators=10, memberships=False,
                    device="cpu").fit(X, y)
    assert max(len(set(y[model.cluster_of_train_ == c])) for c in range(2)) >= 2
    X_new, _ = coded(80, 4, rng)
    assert fidelity(model.predict_proba(X_new), model.interpreter_proba(X_new)) == 1.0


def test_the_path_names_a_real_cluster_and_its_real_prototypes():
    model, X, _ = fitted(k1=3, k2=2)
    X_new, _ = table(n=6, seed=1)
    explanation = model.explain(X_new)
    extras = explanation.extras
    H_train, H_new = model._activations(X), model._activations(X_new)
    centres = model.level1_.cluster_centers_
    assert explanation.kind == "path" and explanation.values.shape == (6, 4)
    for i in range(6):
        c = int(extras["cluster"][i])
        assert c == int(np.argmin(((centres - H_new[i]) ** 2).sum(axis=1)))  # its nearest centroid
        row, sub_row = extras["prototype_rows"][i]
        members = np.flatnonzero(model.cluster_of_train_ == c)
        # The cluster's prototype is its member nearest the centroid.
        assert row == members[np.argmin(((H_train[members] - centres[c]) ** 2).sum(axis=1))]
        assert model.subcluster_of_train_[sub_row] == extras["subcluster"][i]
        np.testing.assert_array_equal(model.prototype_images(extras["prototypes"][i]), X[[row, sub_row]])
        route = explanation.path.routes[i]
        assert route[0].startswith(f"layer relu1: cluster {c} of 3") and f"training row {row}" in route[0]
        assert route[1].startswith(f"sub-cluster {c}.{extras['subcluster'][i] - model.subcluster_offset_[c]} of 2")
        assert len(route) >= 2 + 3 + 1 and route[5].startswith("combiner: ")
        assert explanation.path.nodes[i] == tuple(extras["prototypes"][i]) == (c, 3 + int(extras["subcluster"][i]))
    np.testing.assert_array_equal(extras["decision_proba"], model.interpreter_proba(X_new))


def test_the_attribution_view_is_the_gradient_of_the_cluster_margin():
    model, _, _ = fitted(k1=3, k2=2)
    X_new, _ = table(n=4, seed=2)
    explanation = model.explain(X_new)
    c, r = explanation.extras["cluster"], explanation.extras["runner_up"]
    centres = model.level1_.cluster_centers_

    def margin(x, i):
        h = model._activations(x[None])[0]
        return ((h - centres[r[i]]) ** 2).sum() - ((h - centres[c[i]]) ** 2).sum()

    step = 1e-2
    for i in range(4):
        for j in range(4):
            up, down = X_new[i].astype(np.float64).copy(), X_new[i].astype(np.float64).copy()
            up[j] += step
            down[j] -= step
            numeric = (margin(up.astype(np.float32), i) - margin(down.astype(np.float32), i)) / (2 * step)
            assert explanation.values[i, j] == pytest.approx(numeric, rel=1e-2, abs=1e-2)


def test_the_same_seed_gives_the_same_model_and_another_seed_another():
    X, y = table()
    make = lambda seed: CNNInte(base=tiny_mlp(), k1=3, k2=2, n_estimators=10, device="cpu",  # noqa: E731
                                random_state=seed).fit(X, y)
    first, again, other = make(0), make(0), make(1)
    np.testing.assert_array_equal(first.subcluster_of_train_, again.subcluster_of_train_)
    np.testing.assert_array_equal(first.interpreter_proba(X), again.interpreter_proba(X))
    assert first.explain(X[:3]).path == again.explain(X[:3]).path
    assert not np.array_equal(first.interpreter_proba(X), other.interpreter_proba(X))


def test_clone_get_params_and_a_fitted_base_left_untouched():
    base = tiny_mlp()
    model = CNNInte(base=base, layer="relu1", k1=2)
    assert clone(model).get_params()["k1"] == 2 and clone(model).get_params()["base__hidden_sizes"] == (8,)
    model.set_params(k2=4, base__training__epochs=2)
    assert model.k2 == 4 and base.training.epochs == 2
    X, y = table()
    fitted_base = tiny_mlp(device="auto").fit(X, y)
    before = fitted_base.predict_proba(X)
    inte = CNNInte(base=fitted_base, k1=2, k2=2, n_estimators=5, device="cpu").fit(X, y)
    inte.explain(X[:2])
    # Not trained again, and not moved to CNN-INTE's device: CNN-INTE computes with its own copy.
    assert inte.base_ is not fitted_base and fitted_base.get_params()["device"] == "auto"
    np.testing.assert_array_equal(inte.predict_proba(X), before)


def test_a_given_target_and_a_binary_task():
    X, y = table(classes=2)
    model = CNNInte(base=tiny_mlp(), k1=2, k2=2, n_estimators=10, device="cpu").fit(X, y)
    explanation = model.explain(X[:4], target=np.array([1, 1, 1, 1]))
    assert list(explanation.target) == [1, 1, 1, 1] and explanation.extras["learner_proba"].shape == (4, 2, 2)
    decision = explanation.extras["decision"]
    for i, route in enumerate(explanation.path.routes):
        assert route[4].startswith(f"combiner: {decision[i]} (p = ")
        # A decision other than the explained class names the explained class's probability.
        assert (route[-1].startswith("explained class 1: p = ")) == (decision[i] != 1)
    assert model.combiner_.coef_.shape[0] == 1  # one row of coefficients for two classes


def test_the_default_layer_is_the_penultimate_dense_layers_output():
    X, y = images()
    cnn = CNN(channels=(2, 4), training=CNN.loop(lr=1e-2, epochs=3), device="cpu").fit(X, y)
    assert penultimate_layer(cnn.networks_[0]) == "relu3"  # fc1 -> relu3 -> dropout2 -> fc2
    assert penultimate_layer(MLP(hidden_sizes=(4, 4))._build((3,), 2)) == "relu2"
    model = CNNInte(base=cnn, k1=2, k2=2, n_estimators=5, device="cpu").fit(X, y)
    assert model.layer_ == "relu3" and model.level1_.cluster_centers_.shape == (2, 128)
    assert model.explain(X[:2]).values.shape == (2, 64)


@pytest.mark.parametrize("options, message", [
    (dict(layer="fc9"), "the base \\(MLP\\) has no layer 'fc9'; its layers: flatten, fc1, relu1, dropout1, fc2"),
    (dict(k1=0), "'k1' parameter of CNNInte must be an int in the range \\[1, inf\\)"),
    (dict(k2=0), "'k2' parameter of CNNInte must be an int in the range \\[1, inf\\)"),
    (dict(k1=500), "k1 = 500 clusters for 120 training points; set k1 to at most 120"),
    (dict(k2=500), "k1 x k2 = 10 x 500 sub-clusters for 120 training points; set k2 to at most 12"),
    (dict(base=RandomForest()), "base must be a torch classifier .* got RandomForest"),
])
def test_bad_options_fail_before_the_base_trains(options, message, monkeypatch):
    def trained(*args, **kwargs):
        raise AssertionError("the base trained")

    monkeypatch.setattr(MLP, "fit", trained)
    X, y = table()
    with pytest.raises(ValueError, match=message):
        CNNInte(**{"base": tiny_mlp(), **options}).fit(X, y)


def test_a_layer_the_default_base_lacks_fails_before_it_trains(monkeypatch):
    def trained(*args, **kwargs):
        raise AssertionError("the default base trained")

    monkeypatch.setattr(MLP, "fit", trained)
    X, y = table()
    with pytest.raises(ValueError, match="the base \\(MLP\\) has no layer 'bogus'; its layers: flatten, fc1"):
        CNNInte(layer="bogus").fit(X, y)


def test_the_diagram_draws_a_path_per_test_image(tmp_path):
    X, y = images()
    model = CNNInte(base=CNN(channels=(2, 4), training=CNN.loop(lr=1e-2, epochs=3), device="cpu"), k1=2, k2=2,
                    n_estimators=5, device="cpu").fit(X, y)
    [path] = draw_path_pictures(path_pictures(model, X), tmp_path / "fold")
    assert path.name == "fold-paths.png" and path.stat().st_size > 10_000
    import matplotlib.image
    height, width = matplotlib.image.imread(path).shape[:2]
    assert height > 100 * N_PATHS and width > height  # N_PATHS rows, five panels wide


def test_a_run_scores_the_meta_learner_beside_the_cnn_and_draws_its_paths(tmp_path, monkeypatch):
    results = tmp_path / "r"
    run = lambda *overrides: bench_run.run(compose_config(  # noqa: E731
        ["data=digits", *overrides, "explainers=[native]", "explain.n_instances=4"], results))
    run("model=cnn", "model.training.epochs=1")

    def trained_again(*args, **kwargs):
        raise RuntimeError("the stored cnn was trained again")

    monkeypatch.setattr(CNN, "fit", trained_again)
    run("model=cnn_inte", "model.base.training.epochs=1", "model.k1=4", "model.k2=2", "model.n_estimators=10")
    rows = ResultStore(results).read_all()
    assert not (rows["status"] == "failed").any()
    fit = rows[rows["explainer"].isna() & (rows["status"] == "ok")].set_index(["model", "metric"])["value"]
    assert fit[("cnn_inte", "accuracy")] == fit[("cnn", "accuracy")]  # the stored cnn is its f
    assert 0 <= fit[("cnn_inte:g", "fidelity")] <= 1  # g's scores on g's row
    assert fit[("cnn_inte:g", "accuracy_change")] == pytest.approx(
        fit[("cnn_inte:g", "accuracy")] - fit[("cnn_inte", "accuracy")])
    # the attribution view is scored on the meta-learner's entry, against g's predictions
    native = rows[(rows["explainer"] == "native") & (rows["model"] == "cnn_inte:g")].set_index("metric")
    assert native.loc["deletion_auc", "status"] == "ok"
    names = [path.name for path in gallery_files(results)]
    paths = [name for name in names if name.startswith("digits-cnn_inte-") and name.endswith("-paths.png")]
    assert len(paths) == 1
    # The diagram depends on the model alone: lost, a rerun draws it again, even without explainers.
    picture = results / "figures" / "explanations" / paths[0]
    picture.unlink()
    bench_run.run(compose_config(["data=digits", "model=cnn_inte", "model.base.training.epochs=1", "model.k1=4", "model.k2=2",
                                  "model.n_estimators=10", "explainers=none"], results))
    assert picture.exists()


def test_mlp_inte_joins_the_tabular_tables():
    cfg = compose_config(["model=mlp_inte"])
    assert cfg.model.name == "mlp_inte" and cfg.model.base.name == "mlp"
    assert compose_config(["model=cnn_inte"]).model.base.name == "cnn"


def test_fewer_distinct_activations_than_clusters_leave_a_cluster_without_learner_or_vote():
    X = np.repeat(np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32), 10, axis=0)
    y = np.repeat([0, 1], 10)
    model = CNNInte(base=tiny_mlp(), layer="flatten", k1=3, k2=2, n_estimators=5, device="cpu").fit(X, y)
    empty = [c for c in range(3) if not (model.cluster_of_train_ == c).any()]
    assert len(empty) == 1 and model.learners_[empty[0]] is None
    explanation = model.explain(X[:1])
    assert explanation.extras["votes"][0, empty[0]] == -1
    assert f"learner {empty[0]} (cluster {empty[0]}): no members, no vote" in explanation.path.routes[0]


def test_a_base_that_predicts_one_class_gets_a_constant_combiner():
    X, y = table()
    base = separating_base(X[:, :3], y)
    with torch.no_grad():
        base.networks_[0].fc2.bias.copy_(torch.tensor([100.0, 0.0, 0.0]))  # class 0 always
    model = CNNInte(base=base, layer="relu1", k1=2, k2=2, n_estimators=5, device="cpu").fit(X[:, :3], y)
    np.testing.assert_array_equal(model.interpreter_proba(X[:4, :3]), np.eye(3)[[0, 0, 0, 0]])
    route = model.explain(X[:1, :3]).path.routes[0]
    assert route[-1] == "combiner: 0 (p = 1); the base predicts 0 for every training point"

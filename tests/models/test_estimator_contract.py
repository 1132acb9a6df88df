"""Every model is a scikit-learn estimator: scikit-learn's own checks at a tiny budget, and what a
practitioner tries first: clone, get/set_params, a Pipeline with a scaler, a grid search."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from bench.models import (
    ATEX,
    CNN,
    CNNInte,
    EBM,
    Flint,
    FlintPosthoc,
    MLP,
    CNNTanh,
    CatBoost,
    DecisionTree,
    HyperLinear,
    HyperLinearRegressor,
    LogisticRegression,
    MLPRegressor,
    RandomForest,
    TabResNet,
    TabResNetRegressor,
)
from bench.models.base import for_task
from bench.models.training import TrainingLoop

# Enough to pass the checks' accuracy bars (0.83 on their blobs), in a second or two per check.
LOOP = {"epochs": 10, "lr": 1e-2, "batch_size": 32}


def small_hyperlinear() -> HyperLinear:
    return HyperLinear(hidden_size=8, n_blocks=1, training=HyperLinear.loop(**LOOP, warmup_epochs=1), device="cpu")

TABULAR_MODELS = [
    MLP(hidden_sizes=(16,), training=MLP.loop(**LOOP), device="cpu"),
    MLPRegressor(hidden_sizes=(16,), training=MLPRegressor.loop(**LOOP), device="cpu"),
    small_hyperlinear(),
    HyperLinearRegressor(hidden_size=8, n_blocks=1, training=HyperLinear.loop(**LOOP, warmup_epochs=1), device="cpu"),
    TabResNet(hidden_size=8, n_blocks=1, training=TabResNet.loop(**LOOP, warmup_epochs=1), device="cpu"),
    TabResNetRegressor(hidden_size=8, n_blocks=1, training=TabResNet.loop(**{**LOOP, "epochs": 30}, warmup_epochs=1),
                       device="cpu"),
    LogisticRegression(max_iter=200), DecisionTree(), RandomForest(n_estimators=5), CatBoost(iterations=20, thread_count=1),
    EBM(outer_bags=2, max_rounds=50, interactions=0, n_jobs=1),
    Flint(hidden_sizes=(16,), n_attributes=4, beta_from=1, l1_from=1, entropy_from=1, training=Flint.loop(**LOOP),
          device="cpu"),
    FlintPosthoc(base=MLP(hidden_sizes=(16,), training=MLP.loop(**LOOP), device="cpu"), n_attributes=4, beta_from=1,
                 l1_from=1, entropy_from=1, training=FlintPosthoc.loop(**LOOP), device="cpu"),
    ATEX(base=MLP(hidden_sizes=(16,), training=MLP.loop(**LOOP), device="cpu"), smoothgrad_samples=2, n_copies=2,
         training=ATEX.loop(**{**LOOP, "epochs": 2}), device="cpu"),
    CNNInte(base=MLP(hidden_sizes=(16,), training=MLP.loop(**LOOP), device="cpu"), k1=2, k2=2, n_estimators=10,
            device="cpu"),
]

# scikit-learn's checks feed tables; the image networks take (n, C, H, W) and refuse those, so
# they meet the rest of the contract below, on images.
IMAGE_MODELS = [CNN(channels=(2, 4), training=CNN.loop(lr=1e-2, epochs=3), device="cpu"),
                CNNTanh(channels=(2, 4), training=CNNTanh.loop(lr=1e-2, epochs=3, patience=None), device="cpu"),
                Flint(channels=(2, 4), n_attributes=4, beta_from=1, l1_from=1, entropy_from=1,
                      training=Flint.loop(lr=1e-2, epochs=3), device="cpu")]

FLOAT32_SUBSETS = ("the networks compute in float32, and a matrix product's last bits depend on the batch's shape "
                   "(oneDNN picks kernels by size): predictions of a subset agree to ~1e-6, not the check's 1e-7")
INTERPRET = "interpret-core's ExplainableBoostingClassifier, which EBM subclasses unchanged, "
EXPECTED_FAILURES = {
    **{name: {"check_methods_subset_invariance": FLOAT32_SUBSETS} for name in (
        "MLP", "MLPRegressor", "HyperLinear", "HyperLinearRegressor", "TabResNet", "TabResNetRegressor", "Flint", "FlintPosthoc", "ATEX")},
    "RandomForest": dict.fromkeys(
        ["check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data"],
        "bootstrap samples rows, so a weight of 2 is not a repeated row; scikit-learn expects the same failure of "
        "its RandomForestClassifier"),
    "EBM": {
        "check_valid_tag_types": INTERPRET + "declares a tag of a type scikit-learn does not accept",
        "check_n_features_in_after_fitting": INTERPRET + "does not compare the features of predict with fit's",
        "check_sample_weight_equivalence_on_dense_data": INTERPRET + "refuses a sample weight of zero",
        "check_sample_weight_equivalence_on_sparse_data": INTERPRET + "refuses a sample weight of zero",
        "check_complex_data": INTERPRET + "refuses complex data with another message",
        "check_estimators_empty_data_messages": INTERPRET + "accepts data without columns",
        "check_classifiers_one_label": INTERPRET + "fits one class instead of refusing it",
        "check_classifiers_one_label_sample_weights": INTERPRET + "fits one class instead of refusing it",
        "check_classifiers_regression_target": INTERPRET + "takes float targets as classes (the harness gives "
                                               "it integer codes)",
        "check_fit1d": INTERPRET + "accepts a 1-D X",
        "check_fit2d_predict1d": INTERPRET + "accepts a 1-D X",
        "check_requires_y_none": INTERPRET + "refuses y=None with another message",
        "check_supervised_y_2d": INTERPRET + "takes a column vector y without scikit-learn's DataConversionWarning",
    },
}


def expected_failed_checks(estimator) -> dict[str, str]:
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(TABULAR_MODELS, expected_failed_checks=expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def blobs(n_classes: int = 2, n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.normal(size=(n, 3)) * 10 + 100  # unscaled: the Pipeline's scaler matters
    X[np.arange(n), y] += 40
    return X, y


def test_clone_and_params_round_trip_for_every_model():
    for model in TABULAR_MODELS + IMAGE_MODELS:
        copy = clone(model)
        # A nested estimator (FLINT post-hoc's base) is cloned too: compared by its own parameters.
        plain = lambda m: {k: v for k, v in m.get_params().items() if not hasattr(v, "get_params")}  # noqa: E731
        assert copy is not model and plain(copy) == plain(model)
        assert copy.set_params(random_state=7).random_state == 7


def test_hyperlinear_default_constructs_and_clones():
    model = clone(HyperLinear())
    assert model.get_params()["training__epochs"] == 500 and is_classifier(model)  # the paper's default
    assert is_regressor(HyperLinearRegressor())


# -- the training loop, one component: scikit-learn's component__param ----------------------------
def test_deep_params_list_the_loop_the_model_trains_with_given_or_not():
    assert HyperLinear().get_params()["training__epochs"] == 500  # its own loop (IMN's), training=None
    assert HyperLinear().get_params(deep=False)["training"] is None  # stored unchanged
    given = HyperLinear(training=HyperLinear.loop(epochs=30))
    assert given.get_params()["training__epochs"] == 30 and given.get_params()["training__lr"] == 0.01
    assert TrainingLoop(epochs=30).get_params()["lr"] == 1e-3  # the loop's own default: not IMN's


def test_set_params_reaches_the_loop_without_touching_another_models():
    model, other = CNN(), CNN()
    assert model.set_params(training__epochs=3, dropout=0.2) is model
    assert (model.training.epochs, model.training.lr, model.dropout) == (3, 1e-4, 0.2)  # CNN's loop, changed
    assert other.training is None and other.get_params()["training__epochs"] == CNN.loop().epochs == 12
    given = MLP(training=TrainingLoop(epochs=5))
    given.set_params(training__lr=0.1)
    assert (given.training.epochs, given.training.lr) == (5, 0.1)


def test_clone_copies_the_loop_and_keeps_it_apart():
    model = TabResNet(training=TabResNet.loop(epochs=7))
    copy = clone(model)
    assert copy.training is not model.training and copy.get_params() == {
        **model.get_params(), "training": copy.training}
    copy.set_params(training__epochs=9)
    assert model.training.epochs == 7


def test_a_grid_search_over_the_loop_picks_a_rate_and_refits():
    X, y = blobs()
    search = GridSearchCV(make_pipeline(StandardScaler(), MLP(hidden_sizes=(16,), training=MLP.loop(**LOOP),
                                                              device="cpu")),
                          {"mlp__training__lr": [1e-2, 1e-3]}, cv=2).fit(X, y)
    assert search.best_params_["mlp__training__lr"] in (1e-2, 1e-3)
    assert search.best_estimator_[-1].training.lr == search.best_params_["mlp__training__lr"]
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_a_pipeline_with_a_scaler_fits_and_predicts():
    X, y = blobs()
    pipeline = make_pipeline(StandardScaler(), small_hyperlinear()).fit(X, y)
    assert (pipeline.predict(X) == y).mean() > 0.9
    assert pipeline.predict_proba(X).shape == (len(X), 2)


def test_a_grid_search_over_hyperlinear_picks_a_parameter_and_refits():
    X, y = blobs(3)
    search = GridSearchCV(make_pipeline(StandardScaler(), small_hyperlinear()),
                          {"hyperlinear__l1_penalty": [0.0, 0.1], "hyperlinear__training__lr": [1e-2, 1e-3]},
                          cv=2).fit(X, y)
    best = search.best_estimator_[-1]
    assert (best.l1_penalty, best.training.lr) == (search.best_params_["hyperlinear__l1_penalty"],
                                                   search.best_params_["hyperlinear__training__lr"])
    assert search.best_estimator_.predict(X).shape == (len(X),)
    assert len(search.cv_results_["mean_test_score"]) == 4


@pytest.mark.parametrize("model", IMAGE_MODELS, ids=["cnn", "cnn_tanh", "flint"])
def test_a_grid_search_over_an_image_model_fits_and_refits_on_images(model):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 1, 6, 6)).astype(np.float32)
    y = (X[:, 0, :3].mean(axis=(1, 2)) > X[:, 0, 3:].mean(axis=(1, 2))).astype(int)
    search = GridSearchCV(model, {"training__lr": [1e-2, 1e-3]}, cv=2).fit(X, y)
    assert search.best_estimator_.training.lr == search.best_params_["training__lr"]
    assert {params["training__lr"] for params in search.cv_results_["params"]} == {1e-2, 1e-3}
    assert search.best_estimator_.predict(X).shape == (40,) and search.best_estimator_ is not model
    fresh = clone(model)
    assert fresh.fit(X, y) is fresh and fresh.predict_proba(X[:5]).shape == (5, 2)


def test_a_classifier_hands_regression_to_its_twin_with_the_same_parameters():
    model = HyperLinear(l1_penalty=0.3, training=HyperLinear.loop(epochs=7))
    twin = for_task(model, "regression")
    assert type(twin) is HyperLinearRegressor and twin.training is not model.training
    assert {**twin.get_params(), "training": None} == {**model.get_params(), "training": None}  # the loop's values too
    assert for_task(model, "binary") is model
    assert for_task(LogisticRegression(), "regression").__class__ is LogisticRegression  # none: the run says n/a


@pytest.mark.parametrize("option, value, message", [
    ("training__batch_size", 0, "'batch_size' parameter of MLP.training must be an int in the range [1, inf)"),
    ("training__epochs", 0, "'epochs' parameter of MLP.training must be an int in the range [1, inf)"),
    ("training__optimizer", "sgd", "'optimizer' parameter of MLP.training must be a str among"),
    ("training", "fast", ("'training' parameter of MLP must be an instance of 'bench.models.training.TrainingLoop' "
                          "or None")),
    ("device", "gpu", "device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
    ("training__n_restarts", 5, "n_restarts would have no effect"),
])
def test_a_bad_option_is_named_before_training(option, value, message):
    with pytest.raises(ValueError) as error:
        MLP().set_params(**{option: value})._validate_params()
    assert message in str(error.value)


def test_early_stopping_and_the_snapshot_schedule_exclude_each_other():
    with pytest.raises(ValueError, match="patience=3.*set patience=None"):
        HyperLinear(training=HyperLinear.loop(patience=3))._validate_params()


def test_a_models_tighter_constraint_on_the_loop_is_named():
    with pytest.raises(ValueError, match="'batch_size' parameter of TabResNet.training must be an int in the range "
                                         r"\[2, inf\)"):  # BatchNorm normalises over the batch
        TabResNet(training=TabResNet.loop(batch_size=1))._validate_params()

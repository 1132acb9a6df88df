"""hyperlinear (IMN, METHODS.md §1) and TabResNet: the exact logit decomposition, the shapes,
the learning-rate schedule at known steps, the snapshot ensemble, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.models import HyperLinear, HyperLinearRegressor, TabResNet
from bench.models.training import RestartSchedule, TrainingDiverged, iterations_per_epoch
from tests.tolerances import assert_float32_sum_close


def small(estimator=HyperLinear, loop: dict | None = None, **options):
    """IMN's net, small (16 units, one block) and briefly trained: its own loop for 8 epochs, with
    `loop`'s changes."""
    training = estimator.loop(**{"epochs": 8, "warmup_epochs": 2, "batch_size": 32, **(loop or {})})
    return estimator(hidden_size=16, n_blocks=1, training=training, **options)


def classification_data(n_classes: int, *, n: int = 120, d: int = 4, seed: int = 0):
    """Class k lives around 8 * e_k (k < d), unit noise: separable, with d features."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[np.arange(n), y % d] += 8.0
    return X, y


@pytest.fixture(scope="module")
def binary():
    X, y = classification_data(2)
    return X, y, small().fit(X, y)


@pytest.fixture(scope="module")
def multiclass():
    X, y = classification_data(3)
    return X, y, small().fit(X, y)


def last_snapshot_logits(model: HyperLinear, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.networks_[-1](torch.as_tensor(X)).double().numpy()


# --- the native explanation --------------------------------------------------------------

def assert_impacts_plus_bias_equal(e, logit: np.ndarray) -> None:
    """The network sums x_m * w_m + b in float32; the explanation holds the same float32 factors."""
    assert_float32_sum_close(logit, np.column_stack([e.values, e.extras["bias"]]))


def test_binary_impacts_plus_bias_equal_the_target_log_odds(binary):
    X, _, model = binary
    logit = last_snapshot_logits(model, X)[:, 0]
    for target in (np.zeros(len(X), int), np.ones(len(X), int)):
        e = model.explain(X, target=target)
        expected = np.where(target == 1, logit, -logit)
        assert_impacts_plus_bias_equal(e, expected)


def test_multiclass_impacts_plus_bias_equal_the_target_logit(multiclass):
    X, _, model = multiclass
    logits = last_snapshot_logits(model, X)
    target = np.arange(len(X)) % 3
    e = model.explain(X, target=target)
    assert_impacts_plus_bias_equal(e, logits[np.arange(len(X)), target])


def test_impacts_are_inputs_times_the_generated_weights(multiclass):
    X, _, model = multiclass
    e = model.explain(X[:5], target=np.array([0, 1, 2, 0, 1]))
    models = model.linear_models(X[:5])
    np.testing.assert_allclose(e.values, X[:5] * models[np.arange(5), :-1, e.target], rtol=1e-6)


def test_regression_impacts_plus_bias_equal_the_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5])
    model = small(HyperLinearRegressor).fit(X, y)
    e = model.explain(X)
    np.testing.assert_array_equal(e.target, 0)
    assert_impacts_plus_bias_equal(e, last_snapshot_logits(model, X)[:, 0])


def test_default_target_is_the_predicted_class(multiclass):
    X, _, model = multiclass
    np.testing.assert_array_equal(model.explain(X).target, model.predict_proba(X).argmax(axis=1))


def test_shapes_binary_one_logit_multiclass_one_per_class(binary, multiclass):
    (Xb, _, mb), (Xm, _, mm) = binary, multiclass
    assert mb.linear_models(Xb[:7]).shape == (7, 4 + 1, 1)
    assert mm.linear_models(Xm[:7]).shape == (7, 4 + 1, 3)
    for X, model, n_classes in ((Xb, mb, 2), (Xm, mm, 3)):
        e = model.explain(X[:7])
        assert e.values.shape == (7, 4) and e.extras["weights"].shape == (7, 4) and e.extras["bias"].shape == (7,)
        assert model.predict_proba(X[:7]).shape == (7, n_classes)


# --- the schedule ------------------------------------------------------------------------

def paper_schedule(**given) -> RestartSchedule:
    """IMN's schedule (T_mult = 2, 3 cycles, snapshots at the cycles' ends) with `given` changes."""
    loop = HyperLinear.loop()
    return RestartSchedule(**{"t_mult": loop.t_mult, "n_restarts": loop.n_restarts, "snapshots": loop.snapshots, **given})


def learning_rates(schedule: RestartSchedule, lr: float) -> list[float]:
    """The learning rate used by each iteration, 0-based."""
    optimiser = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = schedule.scheduler(optimiser)
    rates = []
    for _ in range(schedule.total_iterations):
        rates.append(optimiser.param_groups[0]["lr"])
        optimiser.step()
        scheduler.step()
    return rates


def test_warmup_then_cosine_restarts_at_known_steps():
    # 10 iterations per epoch, 75 epochs: warm-up 50 iterations, then 700 = 7 * T_0, T_0 = 100.
    schedule = paper_schedule(iterations_per_epoch=10, epochs=75, warmup_epochs=5)
    assert schedule.t_0 == 100
    rates = learning_rates(schedule, lr=0.01)
    expected = {
        0: 0.0, 25: 0.005, 49: 0.01 * 49 / 50,  # linear warm-up from 0
        50: 0.01, 100: 0.005,                   # first cycle (T_0 = 100): its middle is half the rate
        150: 0.01, 250: 0.005,                  # restart; second cycle lasts 2 * T_0
        350: 0.01, 550: 0.005,                  # restart; third cycle lasts 4 * T_0
    }
    for step, rate in expected.items():
        assert rates[step] == pytest.approx(rate, abs=1e-12), step
    assert rates[149] == pytest.approx(0.01 * (1 + np.cos(np.pi * 99 / 100)) / 2)
    assert rates[749] == pytest.approx(0.01 * (1 + np.cos(np.pi * 399 / 400)) / 2)


def test_snapshots_are_taken_at_the_end_of_each_cycle():
    schedule = paper_schedule(iterations_per_epoch=10, epochs=75, warmup_epochs=5)
    assert schedule.snapshot_iterations == (150, 350, 750)  # 50 + T_0, 50 + 3 T_0, 50 + 7 T_0


def test_the_authors_code_counts_t0_and_the_snapshots_from_the_first_iteration():
    schedule = paper_schedule(iterations_per_epoch=10, epochs=70, warmup_epochs=5, snapshots="authors_code")
    assert schedule.t_0 == 100  # 700 / 7, warm-up included
    assert schedule.snapshot_iterations == (100, 300, 700)
    rates = learning_rates(schedule, lr=0.01)
    assert rates[99] == pytest.approx(0.005 * (1 + np.cos(np.pi * 49 / 100)))  # mid-cycle at the first snapshot


def test_no_warmup_starts_at_the_base_rate():
    rates = learning_rates(paper_schedule(iterations_per_epoch=10, epochs=7, warmup_epochs=0), lr=0.01)
    assert rates[0] == 0.01 and rates[5] == pytest.approx(0.005)  # T_0 = 10


def test_epochs_must_exceed_the_warmup():
    with pytest.raises(ValueError, match="warmup_epochs"):
        paper_schedule(iterations_per_epoch=10, epochs=5, warmup_epochs=5)


def test_a_trailing_batch_of_one_row_is_not_an_iteration():
    assert iterations_per_epoch(129, 64) == 2
    assert iterations_per_epoch(130, 64) == 3


# --- the snapshot ensemble ---------------------------------------------------------------

def test_three_snapshots_whose_probabilities_are_averaged(multiclass):
    X, _, model = multiclass
    assert len(model.networks_) == 3
    with torch.no_grad():
        each = [torch.softmax(m(torch.as_tensor(X)).double(), dim=1).numpy() for m in model.networks_]
    assert not np.allclose(each[0], each[2])
    np.testing.assert_allclose(model.predict_proba(X), np.mean(each, axis=0), rtol=1e-12)


def test_binary_snapshot_probabilities_are_averaged_sigmoids(binary):
    X, _, model = binary
    with torch.no_grad():
        positive = np.mean([torch.sigmoid(m(torch.as_tensor(X)).double()).numpy()[:, 0] for m in model.networks_],
                           axis=0)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], positive, rtol=1e-12)


def test_torch_module_is_the_logit_of_the_averaged_probabilities(binary, multiclass):
    (Xb, _, binary_model), (Xm, _, multiclass_model) = binary, multiclass
    with torch.no_grad():
        pair = binary_model.torch_module()(torch.as_tensor(Xb)).double().numpy()
        logits = multiclass_model.torch_module()(torch.as_tensor(Xm)).double()
    np.testing.assert_array_equal(pair[:, 0], -pair[:, 1])  # each class's log-odds
    positive = binary_model.predict_proba(Xb)[:, 1]
    np.testing.assert_allclose(pair[:, 1], np.log(positive / (1 - positive)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(torch.softmax(logits, dim=1).numpy(), multiclass_model.predict_proba(Xm), atol=1e-6)


# --- learning, determinism, bad input ----------------------------------------------------

@pytest.mark.parametrize("estimator", [HyperLinear, TabResNet])
def test_separable_classes_are_learned(estimator):
    X, y = classification_data(3, seed=1)
    model = small(estimator).fit(X, y)
    assert (model.predict(X) == y).mean() == 1.0


@pytest.mark.parametrize("estimator", [HyperLinear, TabResNet])
def test_same_seed_same_model_other_seed_other_model(estimator):
    X, y = classification_data(2)
    first = small(estimator, random_state=5).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, small(estimator, random_state=5).fit(X, y).predict_proba(X))
    assert not np.array_equal(first, small(estimator, random_state=6).fit(X, y).predict_proba(X))


def test_the_l1_penalty_shrinks_the_generated_weights():
    X, y = classification_data(2)
    free = small(l1_penalty=0.0).fit(X, y).linear_models(X)
    sparse = small(l1_penalty=1.0).fit(X, y).linear_models(X)
    assert np.abs(sparse).mean() < np.abs(free).mean()


def test_diverging_training_names_the_model_and_the_epoch():
    X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    with pytest.raises(TrainingDiverged, match=r"HyperLinearRegressor: training diverged at epoch 1 .*model\.training\.lr"):
        small(HyperLinearRegressor).fit(X, np.full(64, 1e30))


def test_nan_features_are_refused_before_torch():
    X, y = classification_data(2)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        small().fit(X, y)


def test_a_single_class_is_refused():
    X, _ = classification_data(2)
    with pytest.raises(ValueError, match="one class"):
        small().fit(X, np.zeros(len(X), dtype=int))


def test_unfitted_model_says_so():
    with pytest.raises(AttributeError, match="not fitted"):
        HyperLinear().explain(np.zeros((1, 2), np.float32))


def test_the_optimizer_decides_how_weight_decay_applies():
    X, y = classification_data(2)
    coupled = small().fit(X, y).predict_proba(X)
    decoupled = small(loop={"optimizer": "adamw"}).fit(X, y).predict_proba(X)
    assert not np.array_equal(coupled, decoupled)
    with pytest.raises(ValueError, match="'optimizer' parameter of HyperLinear.training must be a str among"):
        small(loop={"optimizer": "sgd"}).fit(X, y)

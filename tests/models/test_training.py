"""The one training loop of every torch model: step-loss hook, epoch callbacks, early stopping,
a warm-up before a constant rate, and the one output convention."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.models import MLP, MLPRegressor, TrainingLoop
from bench.models.training import _EarlyStopping, with_warmup


def blobs(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 3)).astype(np.float32)
    X[:, 0] += 3 * y
    return X, y


class PenaltyFromEpoch(MLP):
    """An MLP whose loss adds a large L2 penalty on the weights from epoch `switch_on`: what FLINT
    does with its loss terms. Records the epochs it was told about."""

    switch_on = 3

    def _epoch_callbacks(self):
        self.seen_, self.penalised_ = [], False

        def at_epoch(epoch: int) -> None:
            self.seen_.append(epoch)
            self.penalised_ = epoch >= self.switch_on

        return [at_epoch]

    def _step_loss(self, task_loss):
        def step(module, X, y):
            loss = task_loss(module(X), y)
            if self.penalised_:
                loss = loss + 10.0 * sum((p ** 2).sum() for p in module.parameters())
            return loss

        return step


def weight_norm(model) -> float:
    return float(sum((p.detach() ** 2).sum() for p in model.networks_[0].parameters()))


def penalised_from(epoch: int) -> PenaltyFromEpoch:
    model = PenaltyFromEpoch(hidden_sizes=(8,), training=TrainingLoop(epochs=6, patience=None, lr=1e-2), device="cpu")
    model.switch_on = epoch
    return model


def test_epoch_callbacks_switch_a_loss_term_on_at_a_given_epoch():
    X, y = blobs()
    late = penalised_from(2).fit(X, y)
    never = penalised_from(99).fit(X, y)
    assert late.seen_ == [1, 2, 3, 4, 5, 6]
    # Five epochs of the penalty shrink the weights; without it they are as an MLP's.
    assert weight_norm(late) < 0.9 * weight_norm(never)
    plain = MLP(hidden_sizes=(8,), training=TrainingLoop(epochs=6, patience=None, lr=1e-2), device="cpu").fit(X, y)
    np.testing.assert_array_equal(never.predict_proba(X), plain.predict_proba(X))


class ThreeStepsPerBatch(MLP):
    """Three optimiser steps on each mini-batch; records the first weight before each step's loss."""

    def _batch_steps(self, task_loss):
        self.seen_ = []

        def steps(module, X, y):
            for _ in range(3):
                self.seen_.append(float(next(module.parameters()).detach().flatten()[0]))
                yield task_loss(module(X), y)

        return steps


def test_batch_steps_take_one_optimiser_step_per_yielded_loss():
    X, y = blobs(64)
    model = ThreeStepsPerBatch(hidden_sizes=(8,), training=TrainingLoop(epochs=2, batch_size=32, patience=None, lr=1e-2),
                               device="cpu")
    model.fit(X, y)
    assert len(model.seen_) == 2 * 2 * 3  # epochs x batches x steps
    # Each loss is computed after the step before it: the weights differ at every step.
    assert len(set(model.seen_)) == len(model.seen_)


def test_early_stopping_stops_after_patience_epochs_without_a_better_loss_and_keeps_the_best_weights():
    module, mse = nn.Linear(1, 1, bias=False), nn.MSELoss()
    validation = (torch.ones(1, 1), torch.zeros(1, 1))  # the loss is the weight squared
    stopper = _EarlyStopping(module, patience=2)
    for epoch, (weight, stops) in enumerate([(3.0, False), (1.0, False), (2.0, False), (1.5, True)], start=1):
        module.weight.data.fill_(weight)
        assert stopper.stop_after(epoch, validation, mse) is stops, epoch
    assert stopper.best_loss == 1.0 and stopper.best_state["weight"].item() == 1.0


def test_a_net_with_early_stopping_ends_early_on_the_best_weights():
    X, y = blobs(200)
    model = MLP(hidden_sizes=(32,), training=TrainingLoop(epochs=300, patience=3, lr=5e-2), device="cpu").fit(X, y)
    assert model.history_["epochs"] < 300 and np.isfinite(model.history_["best_validation_loss"])
    assert len(model.networks_) == 1


def test_without_early_stopping_every_epoch_runs_and_no_rows_are_held_out():
    X, y = blobs()
    model = MLPRegressor(hidden_sizes=(8,), training=TrainingLoop(epochs=4, patience=None), device="cpu")
    model.fit(X, y.astype(float))
    assert model.history_ == {"epochs": 4}


def test_a_warm_up_rises_linearly_to_a_constant_rate():
    optimiser = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = with_warmup(optimiser, None, warmup_iterations=4)
    rates = []
    for _ in range(7):
        rates.append(optimiser.param_groups[0]["lr"])
        optimiser.step()
        scheduler.step()
    assert rates == pytest.approx([0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1])


def test_a_training_set_too_small_for_the_validation_split_names_the_fix():
    with pytest.raises(ValueError, match="too few for early stopping's validation split.*patience=None"):
        MLP(device="cpu").fit(np.zeros((2, 2), np.float32), np.array([0, 1]))


def test_a_binary_network_has_one_output_a_multiclass_one_per_class():
    X, y = blobs()
    model = MLP(hidden_sizes=(8,), training=TrainingLoop(epochs=2), device="cpu").fit(X, y)
    assert model.networks_[0][-1].out_features == 1
    four_classes = MLP(hidden_sizes=(8,), training=TrainingLoop(epochs=2), device="cpu").fit(X, np.arange(len(y)) % 4)
    assert four_classes.networks_[0][-1].out_features == 4

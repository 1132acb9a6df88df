"""A model that extends another trains at that model's budget, so that the leaderboard compares
them at one budget: FLINT's f on tables trains as the mlp does (on images the cnn's loop is the
paper's, FLINT's already). ATEX and CNN-INTE start from their base's own fit."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from bench.models import CNN, MLP, Flint, FlintPosthoc
from tests.conftest import compose_config

TABULAR = ("embedded", "openml", "openml_cc18", "amlb", "xai_synthetic")
IMAGES = ("digits", "mnist", "mnist_embedded")


def composed_loop(data: str, *overrides: str) -> dict:
    cfg = compose_config([f"data={data}", "model=flint", *overrides])
    return instantiate(OmegaConf.to_container(cfg.model.training, resolve=True)).get_params()


@pytest.mark.parametrize("data", TABULAR)
def test_flint_on_tables_trains_with_the_mlps_loop(data):
    assert composed_loop(data) == MLP.loop().get_params()


@pytest.mark.parametrize("data", IMAGES)
def test_flint_on_images_trains_with_the_cnns_loop_the_papers(data):
    assert composed_loop(data) == CNN.loop().get_params() == Flint.loop().get_params()


def test_an_option_given_still_wins_over_the_tabular_loop():
    assert composed_loop("embedded", "model.training.epochs=30")["epochs"] == 30


def test_flint_learning_f_stops_early_on_fs_validation_loss_but_a_frozen_f_cannot():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 5)).astype(np.float32), (np.arange(120) % 2)
    flint = Flint(hidden_sizes=(8,), n_attributes=3, training=MLP.loop(epochs=40, patience=2)).fit(X, y)
    assert flint.history_["epochs"] < 40  # stopped by f's validation loss, with noise labels
    # ... watched only once every loss term is on: the weights kept hold an interpreter trained with all
    late = Flint(hidden_sizes=(32,), n_attributes=3, entropy_from=9,
                 training=MLP.loop(epochs=40, patience=1, lr=0.01)).fit(X, y)  # unwatched, it stops at 2
    assert late.history_["epochs"] >= 10
    with pytest.raises(ValueError, match="a frozen f's never changes"):
        FlintPosthoc(training=MLP.loop(epochs=40, patience=2)).fit(X, y)


def test_each_entrys_budget_is_stated_for_the_page():
    from bench.models import RandomForest
    from bench.models.budget import training_budget

    X, y = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32), np.arange(40) % 2
    mlp = MLP(training=MLP.loop(epochs=3, patience=None)).fit(X, y)
    assert training_budget(mlp) == "3 epochs, adam lr 0.001, batch 64"
    assert training_budget(RandomForest(n_estimators=7)) == "n_estimators 7, max_depth None"

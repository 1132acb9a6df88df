"""FLINT (bench/models/flint.py; its networks and losses: bench/models/networks/flint.py): its loss
terms on tensors whose values are known, the schedule, the interpreter's relevance, conciseness
and fidelity by hand, and the model end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import bench.models.flint as flint
import bench.models.networks.flint as flint_networks
import bench.cli.run as bench_run
from bench.core.errors import NotApplicable
from bench.explainers import Native
from bench.core.explanation import Concepts, Explanation
from bench.metrics import conciseness
from bench.metrics.base import info_of
from bench.metrics.fidelity import (
    fidelity,
    fidelity_top5,
    surrogate_fidelity,
    surrogate_fidelity_at_instance,
)
from bench.models import CNN, Flint, FlintPosthoc, LogisticRegression
from bench.models.flint import local_relevance
from bench.models.networks.flint import (
    conciseness_diversity_loss,
    entropy,
    input_fidelity_loss,
    output_fidelity_loss,
)
from bench.report.gallery import gallery_files
from bench.results import ResultStore
from tests.conftest import compose_config

INTERPRETER = {"beta_from": 1, "l1_from": 1, "entropy_from": 2, "n_attributes": 4}


def tiny(estimator=Flint, loop: dict | None = None, **options):
    """FLINT at a test's size: J = 4, every loss term on by epoch 2 of its loop's 2 (`loop` changes
    the loop), f's convolutions 4 and 8 channels wide (FLINT post-hoc's f is its base)."""
    size = {"channels": (4, 8)} if estimator is Flint else {}
    return estimator(**{**INTERPRETER, **size, **options}, training=estimator.loop(**{"epochs": 2, **(loop or {})}))


def images(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 1, 8, 8)).astype(np.float32)
    return X, (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(int)


def test_entropy_of_a_uniform_and_of_a_one_hot_distribution():
    assert entropy(torch.full((5,), 0.2)).item() == pytest.approx(math.log(5))
    assert entropy(torch.tensor([0.0, 1.0, 0.0])).item() == pytest.approx(0.0)


def test_conciseness_and_diversity_of_silent_and_of_one_hot_attributes():
    J = 5
    # Silent attributes: every softmax uniform, so the two entropies cancel, and |Phi| = 0.
    assert conciseness_diversity_loss(torch.zeros(4, J), 0.2, 0.1).item() == pytest.approx(0.0)
    # Each instance one strong attribute, all attributes used over the batch: each row's entropy
    # ~0, the batch mean's softmax uniform (log J); mean |Phi| = 50 / J.
    loss = conciseness_diversity_loss(50 * torch.eye(J), 0.2, 0.1).item()
    assert loss == pytest.approx(0.2 * (0 - math.log(J)) + 0.1 * 50 / J, abs=1e-6)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_input_fidelity_is_the_mean_squared_error():
    x = torch.rand(3, 1, 4, 4)
    assert input_fidelity_loss(x.clone(), x).item() == 0.0
    assert input_fidelity_loss(x + 0.5, x).item() == pytest.approx(0.25)


def test_output_fidelity_is_the_cross_entropy_of_g_against_f_and_trains_g_alone():
    f_logits = torch.tensor([[3.0, 0.0, -1.0], [0.0, 1.0, 0.0]], requires_grad=True)
    g_logits = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, -2.0]], requires_grad=True)
    f, g = softmax(f_logits.detach().numpy()), softmax(g_logits.detach().numpy())
    loss = output_fidelity_loss(f_logits, g_logits, binary=False)
    # -sum_c f_c log g_c: not symmetric, so swapping f and g gives another number.
    assert loss.item() == pytest.approx(-(f * np.log(g)).sum(axis=1).mean(), rel=1e-6)
    assert output_fidelity_loss(g_logits, f_logits, binary=False).item() != pytest.approx(loss.item(), rel=1e-3)
    loss.backward()
    assert f_logits.grad is None and g_logits.grad.abs().sum() > 0  # f's softmax is the target, detached
    # A binary f has one logit z: its two probabilities are sigmoid(-z), sigmoid(z).
    z, g = 2.0, torch.tensor([[0.0, 1.0]])
    sigmoid = 1 / (1 + math.exp(-z))
    log_softmax_g = torch.log_softmax(g, dim=1)[0].tolist()
    assert output_fidelity_loss(torch.tensor([[z]]), g, binary=True).item() == pytest.approx(
        -((1 - sigmoid) * log_softmax_g[0] + sigmoid * log_softmax_g[1]))


class KnownNetwork:
    """A FlintNetwork's interface with fixed outputs: f's logits, Phi, d(Phi) and h(Phi)."""

    def __init__(self):
        self.f_logits = torch.tensor([[2.0, -1.0], [0.5, 0.0], [-1.0, 1.0]])
        self.phi = torch.tensor([[3.0, 0.0, -1.0], [0.5, 2.0, 0.0], [1.0, 1.0, 1.0]])
        self.reconstruction = torch.full((3, 1, 2, 2), 0.25)
        self.g_logits = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])

    def logits_and_attributes(self, X):
        return self.f_logits, self.phi

    def decoder(self, phi):
        return self.reconstruction.reshape(len(phi), -1)

    def head(self, phi):
        return self.g_logits


def hand_terms(network: KnownNetwork, X: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Each term of FLINT's loss, from the definitions in numpy (the authors' `train` in flint.py)."""
    def entropy_of(p):
        return -(p * np.log(p)).sum(axis=-1)

    f, phi, g = network.f_logits.numpy(), np.abs(network.phi.numpy()), network.g_logits.numpy()
    return {"pred": float(-np.log(softmax(f)[np.arange(3), y.numpy()]).mean()),
            "if": float(((network.reconstruction.numpy() - X.numpy()) ** 2).mean()),
            "of": float(-(softmax(f) * np.log(softmax(g))).sum(axis=1).mean()),
            "ent": float(entropy_of(softmax(phi)).mean() - entropy_of(softmax(phi.mean(axis=0)))),
            "l1": float(phi.mean())}


@pytest.mark.parametrize("estimator", [Flint, FlintPosthoc])
def test_one_steps_loss_weighs_each_term_as_the_authors_from_its_epoch(estimator):
    network, X, y = KnownNetwork(), torch.linspace(0, 1, 12).reshape(3, 1, 2, 2), torch.tensor([0, 0, 1])
    terms = hand_terms(network, X, y)
    assert len({round(value, 6) for value in terms.values()}) == 5  # distinct: a swapped weight shows
    model = estimator()
    step = model._step_loss(torch.nn.functional.cross_entropy)
    for epoch in range(1, 7):
        model._epoch_callbacks()[0](epoch)
        # The authors' MNIST weights (flint.py): lmbd_rec=0.8*(epoch>0), lmbd_expl=0.5*(epoch>2),
        # lmbd_spa=0.1*(epoch>2), lmbd_ent=0.2*(epoch>4); L_pred only where f learns.
        expected = ((estimator is Flint) * terms["pred"] + 0.8 * terms["if"] + 0.5 * (epoch > 2) * terms["of"]
                    + 0.1 * (epoch > 2) * terms["l1"] + 0.2 * (epoch > 4) * terms["ent"])
        assert step(network, X, y).item() == pytest.approx(expected, rel=1e-5), epoch


def test_the_loss_terms_switch_on_at_their_epochs():
    model = Flint()
    assert [model.weights_at(epoch) for epoch in (1, 2)] == [flint.LossWeights(0.0, 0.8, 0.0, 0.0)] * 2
    assert model.weights_at(3) == model.weights_at(4) == flint.LossWeights(0.5, 0.8, 0.1, 0.0)
    assert model.weights_at(5) == flint.LossWeights(0.5, 0.8, 0.1, 0.2)


def test_training_uses_the_weights_of_each_epoch(monkeypatch):
    seen = []
    original = flint_networks.conciseness_diversity_loss
    monkeypatch.setattr(flint_networks, "conciseness_diversity_loss",
                        lambda phi, delta_ent, delta_l1: seen.append((delta_ent, delta_l1))
                        or original(phi, delta_ent, delta_l1))
    X, y = images(32)
    tiny(l1_from=2, entropy_from=3, loop={"epochs": 3, "batch_size": 16}).fit(X, y)
    assert seen == [(0.0, 0.0)] * 2 + [(0.0, 0.1)] * 2 + [(0.2, 0.1)] * 2  # 2 batches per epoch


@pytest.mark.parametrize(("options", "message"), [
    ({"entropy_from": 13}, "entropy_from=13 would switch a loss term on after the last epoch"),
    ({"n_attributes": 0}, "n_attributes"),
    ({"training__lr_schedule": "cosine_restarts", "training__patience": None}, "snapshot ensemble"),
])
def test_bad_options_fail_before_training(options, message):
    X, y = images(20)
    with pytest.raises(ValueError, match=message):
        Flint().set_params(**options).fit(X, y)


def test_local_relevance_divides_by_the_signed_maximum_as_the_authors_code():
    phi = np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 0.5], [1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    w = np.array([[1.0, 1.0, -4.0], [-1.0, -1.0, -2.0]])  # (C, J)
    # Row 0 for class 0: alpha = (1, 2, -4), its signed maximum 2 (the paper's max|alpha| would be 4).
    # Rows 1 and 2 for class 1: alpha = (-1, -2, -1) and (-1, -2, 0), none positive: divided by
    # max|alpha| = 2, not by the signed maximum (which would flip the signs, or divide by 0), so
    # that none is relevant. Row 3: all zero. Row 4 for class 0: alpha = (1, 1, 0).
    np.testing.assert_allclose(local_relevance(phi, w, np.array([0, 1, 1, 0, 0])),
                               [[0.5, 1, -2], [-0.5, -1, -0.5], [-0.5, -1, 0], [0, 0, 0], [1, 1, 0]])


def test_conciseness_counts_the_relevance_over_one_over_tau_and_fidelity_agreement():
    relevance = np.array([[1.0, 0.6, 0.4, -1.0], [1.0, 0.2, 0.0, 0.0]])
    concepts = Explanation(None, "concepts", np.zeros(2, int), input_shape=(3,),
                           concepts=Concepts(np.ones((2, 4)), relevance, np.zeros((4, 3))))
    cns = lambda tau: conciseness(None, np.zeros((2, 3)), concepts, context=None, rng=None, tau=tau)  # noqa: E731
    np.testing.assert_array_equal(cns(2), [2, 1])  # r > 0.5
    np.testing.assert_array_equal(cns(5), [3, 1])  # r > 0.2
    f = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
    g = np.array([[0.8, 0.2, 0.0], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4]])
    assert fidelity(f, g) == pytest.approx(2 / 3)
    assert fidelity_top5(f, g) == pytest.approx(1.0)  # 3 classes: always among the top 5
    seven = np.eye(7)[[0]]  # f says class 0, which g ranks last of 7
    assert fidelity_top5(seven, np.arange(7.0)[None]) == 0.0 and fidelity_top5(seven, np.arange(7.0)[None, ::-1]) == 1.0


def test_surrogate_fidelity_reads_the_held_out_neighbours_and_the_instance_as_a_diagnostic():
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    X = np.array([[0.0], [3.0], [3.0]])  # the model predicts 0, 1, 1
    extras = {"surrogate_prediction": np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]),
              "held_out_model_class": np.array([[0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0]]),
              "held_out_surrogate_class": np.array([[0, 0, 1, 0], [1, 1, 1, 1], [1, 0, 1, 0]])}
    explanation = Explanation(np.zeros((3, 1)), "attribution", np.zeros(3, int), extras=extras)
    score = lambda metric, e: metric(model, X, e, context=None, rng=None)  # noqa: E731
    np.testing.assert_array_equal(score(surrogate_fidelity, explanation), [0.75, 1.0, 0.5])
    np.testing.assert_array_equal(score(surrogate_fidelity_at_instance, explanation), [1, 1, 0])
    assert info_of(surrogate_fidelity_at_instance).category == "diagnostic"  # shown, never ranked
    for metric in (surrogate_fidelity, surrogate_fidelity_at_instance):
        with pytest.raises(NotApplicable, match="every_class=true"):
            score(metric, Explanation(np.zeros((3, 1)), "attribution", np.zeros(3, int)))


def test_flint_on_images_predicts_interprets_and_explains_with_concepts_and_an_attribution_view():
    X, y = images()
    model = tiny(random_state=3).fit(X, y)
    again = tiny(random_state=3).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), again.predict_proba(X))  # seeded
    assert model.interpreter_proba(X).shape == (60, 2)
    np.testing.assert_allclose(model.interpreter_proba(X).sum(axis=1), 1.0)
    target = np.array([0, 1, 1])
    explanation = Native().explain(model, X[:3], target=target, background=X, rng=np.random.default_rng(0))
    concepts = explanation.concepts
    assert explanation.kind == "concepts" and explanation.offers("attribution")
    assert concepts.activations.shape == concepts.relevance.shape == (3, 4)
    assert concepts.to_input.shape == (3, 4, 64) and explanation.values.shape == (3, 64)
    np.testing.assert_allclose(concepts.activations, model.attributes(X[:3]), rtol=1e-6)
    np.testing.assert_allclose(concepts.relevance, model.relevance(X[:3], target), rtol=1e-6)
    assert concepts.relevance.max(axis=1) == pytest.approx(1.0)  # each row has a positive alpha here
    # The attribution view: the relevant attributes' input gradients weighted by their relevance.
    relevant = np.where(concepts.relevance > flint.RELEVANT, concepts.relevance, 0.0)
    np.testing.assert_allclose(explanation.values, np.einsum("nj,njd->nd", relevant, concepts.to_input))
    # Each attribute's input gradient, checked by a finite difference on one pixel.
    eps, j, pixel = 1e-2, int(np.argmax(concepts.activations[0])), 27
    shifted = X[:1].copy().reshape(1, -1)
    shifted[0, pixel] += eps
    change = (model.attributes(shifted.reshape(1, 1, 8, 8)) - model.attributes(X[:1]))[0, j] / eps
    assert change == pytest.approx(concepts.to_input[0, j, pixel], rel=0.05, abs=1e-3)


def test_flint_on_a_table_uses_an_mlp_predictor():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = tiny(hidden_sizes=(16, 8), loop={"lr": 1e-3}).fit(X, y)
    assert model.interpreter_proba(X).shape == (80, 2)
    network = model.networks_[0]
    # Psi reads the last hidden layer: everything before the output Linear.
    assert isinstance(network.predictor[-1], nn.Linear) and network.split == len(network.predictor) - 1
    explanation = model.explain(X[:5])
    assert explanation.values.shape == (5, 5) and explanation.concepts.to_input.shape == (5, 4, 5)


def test_a_run_scores_f_and_g_as_two_entries_with_fidelity_and_conciseness(tmp_path):
    cfg = compose_config(["data=digits", "model=flint", "model.training.epochs=3", "model.entropy_from=3",
                          "model.n_attributes=4", "explainers=[native]",
                          "explain.n_instances=4", "metrics=image", "~metrics.explanation.data_randomisation",
                          "~metrics.explanation.max_sensitivity", "~metrics.explanation.model_parameter_randomisation"],
                         tmp_path / "results")
    bench_run.run(cfg)
    rows = ResultStore(tmp_path / "results").read_all()
    fit = rows[rows["explainer"].isna()].set_index(["model", "metric"])["value"]
    # g's scores (its fidelity to f included) on g's row, f's on f's
    assert {"accuracy", "log_loss"} <= set(fit.loc["flint"].index) and "fidelity" not in fit.loc["flint"].index
    assert {"accuracy", "log_loss", "fidelity", "fidelity_top5", "accuracy_change"} <= set(fit.loc["flint:g"].index)
    assert 0 <= fit.loc[("flint:g", "fidelity")] <= fit.loc[("flint:g", "fidelity_top5")] <= 1
    native = rows[rows["explainer"] == "native"].set_index("metric")
    assert native.loc["conciseness", "status"] == "ok" and 0 <= native.loc["conciseness", "value"] <= 4  # of J = 4
    assert native.loc["deletion_auc", "status"] == "ok"  # the attribution view is scored too


def test_flint_posthoc_learns_an_interpreter_and_leaves_f_bit_identical():
    X, y = images()
    base = CNN(channels=(4, 8), training=CNN.loop(epochs=2), random_state=1).fit(X, y)
    before = {name: tensor.clone() for name, tensor in base.networks_[0].state_dict().items()}
    model = tiny(FlintPosthoc, base=base).fit(X, y)
    assert model.base_ is base  # given fitted: not trained again
    after = model.networks_[0].predictor.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert all(torch.equal(before[k], base.networks_[0].state_dict()[k]) for k in before)
    np.testing.assert_array_equal(model.predict_proba(X), base.predict_proba(X))
    assert model.interpreter_proba(X).shape == (60, 2)
    network = model.networks_[0].train()  # as the training loop sets it each epoch
    assert not network.predictor.training and network.psi.training  # f's dropout stays off
    assert not any(p.requires_grad for p in network.predictor.parameters())
    assert all(p.requires_grad for p in network.psi.parameters())
    assert FlintPosthoc(base=base).input_kinds == ("image",)  # what its f reads
    assert model.explain(X[:2]).concepts.activations.shape == (2, 4)


def test_flint_posthoc_trains_its_base_first_with_its_seed():
    X, y = images()
    first = tiny(FlintPosthoc, base=CNN(channels=(4, 8), training=CNN.loop(epochs=1)), random_state=2).fit(X, y)
    again = CNN(channels=(4, 8), training=CNN.loop(epochs=1), random_state=2).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))


def test_flint_posthoc_in_a_run_reuses_the_stored_base_of_its_fold_and_seed(tmp_path, monkeypatch):
    results = tmp_path / "results"
    run = lambda *overrides: bench_run.run(compose_config(  # noqa: E731
        ["data=digits", *overrides, "explainers=none", "metrics=default"], results))
    run("model=cnn", "model.training.epochs=1")
    stored = ResultStore(results).read_all()

    def trained_again(*args, **kwargs):
        raise RuntimeError("the stored cnn was trained again")

    monkeypatch.setattr(CNN, "fit", trained_again)
    run("model=flint_posthoc", "model.base.training.epochs=1", "model.training.epochs=1", "model.beta_from=1",
        "model.l1_from=1", "model.entropy_from=1")
    rows = ResultStore(results).read_all()
    f_scores = rows[(rows["status"] == "ok") & (rows["metric"] == "log_loss")].set_index("model")["value"]
    assert f_scores["flint_posthoc"] == f_scores["cnn"] == stored.set_index("metric").loc["log_loss", "value"]
    run("model=flint_posthoc", "model.base.training.epochs=2", "model.training.epochs=1", "model.beta_from=1",
        "model.l1_from=1", "model.entropy_from=1")  # another base config: none stored, so it trains its own
    failed = ResultStore(results).read_all().query("status == 'failed'")
    assert failed["error"].str.contains("the stored cnn was trained again").all() and len(failed) == 1


def test_flint_posthoc_refuses_a_base_it_cannot_read_before_training():
    X, y = images(20)
    with pytest.raises(ValueError, match="base must be a torch classifier"):
        FlintPosthoc(base=LogisticRegression()).fit(X, y)


def flint_whose_g_says(c: int, X, y):
    """A fitted FLINT whose h is set by hand: g predicts class c everywhere (its bias), and class
    c's weights have both signs, so that some alpha is negative and outweighs every positive one."""
    model = tiny(random_state=3).fit(X, y)
    head = model.networks_[0].head[1]
    with torch.no_grad():
        head.bias.copy_(torch.tensor([1e3, -1e3]) * (1 - 2 * c))
        head.weight[c] = torch.tensor([1.0, -8.0, 1.0, -8.0])
    return model


def test_flint_explains_gs_class_with_the_relevance_and_conciseness_of_the_authors_code():
    X, y = images()
    f_class = tiny(random_state=3).fit(X, y).predict_proba(X).argmax(axis=1)
    c = int(np.bincount(f_class, minlength=2).argmin())  # the class f predicts least: g and f disagree
    model = flint_whose_g_says(c, X, y)
    assert (model.interpreter_class(X) == c).all() and (f_class != c).any()
    explanation = model.explain(X)
    np.testing.assert_array_equal(explanation.target, np.full(len(X), c))  # g's class; f's only where asked
    np.testing.assert_array_equal(model.explain(X[:4], target=f_class[:4]).target, f_class[:4])
    # The authors' sparse_sense (flint.py) on g's predicted class: #{j : alpha_j > max(alpha) / tau}.
    alpha = model.attributes(X) * model._head_weights()[c]
    assert (-alpha.min(axis=1) > alpha.max(axis=1)).any() and (alpha.max(axis=1) > 0).all()  # signed max != max|.|
    np.testing.assert_allclose(explanation.concepts.relevance, alpha / alpha.max(axis=1, keepdims=True), rtol=1e-6)
    for tau in (1.5, 2, 3, 5):
        sparse_sense = (alpha > alpha.max(axis=1, keepdims=True) / tau).sum(axis=1)
        np.testing.assert_array_equal(conciseness(model, X, explanation, context=None, rng=None, tau=tau), sparse_sense)


def test_global_relevance_averages_the_local_relevance_per_class_g_predicts():
    X, y = images()
    model = tiny().fit(X, y)
    relevance = model.global_relevance(X)
    predicted = model.interpreter_class(X)
    assert relevance.shape == (2, 4)
    for c in range(2):
        expected = model.relevance(X[predicted == c], np.full((predicted == c).sum(), c)).mean(axis=0) \
            if (predicted == c).any() else np.zeros(4)
        np.testing.assert_allclose(relevance[c], expected, rtol=1e-6)
    # The authors' extract_attr_class_max groups by g's class: a g that says c everywhere leaves
    # the other class with none, whatever f predicts.
    for c in range(2):
        says_c = flint_whose_g_says(c, X, y).global_relevance(X)
        np.testing.assert_array_equal(says_c[1 - c], np.zeros(4))
        assert says_c[c].max() > 0


def test_activation_maximisation_raises_the_attribute_from_its_start():
    X, y = images()
    model = tiny().fit(X, y)
    j = 0
    start = X[np.argmax(model.attributes(X)[:, j])]
    network = model.networks_[0].eval()
    before = [None if p.grad is None else p.grad.clone() for p in network.parameters()]  # training's last
    image = model.activation_maximisation(j, start, rounds=2, steps=20)
    assert image.shape == start.shape
    objective = lambda x: flint_networks.am_objective(network, torch.as_tensor(x[None], dtype=torch.float32), j).item()  # noqa: E731
    assert objective(image) > objective(0.3 * start)  # the optimiser's start
    # Only the image was optimised: the weights' gradients are as training left them.
    assert all((a is None and p.grad is None) or torch.equal(a, p.grad) for a, p in zip(before, network.parameters()))


def test_the_run_draws_flints_attributes_beside_the_explanations(tmp_path):
    cfg = compose_config(["data=digits", "model=flint", "model.training.epochs=2", "model.beta_from=1",
                          "model.l1_from=1", "model.entropy_from=2", "model.n_attributes=4", "explainers=[native]",
                          "explain.n_instances=4"], tmp_path / "r")
    bench_run.run(cfg)
    names = [path.name for path in gallery_files(tmp_path / "r")]
    stem = next(name for name in names if name.endswith("-seed0.png"))[:-len(".png")]
    assert sorted(names) == sorted(f"{stem}{suffix}.png" for suffix in ("", "-attributes", "-local", "-relevance"))
    # The attributes' pictures depend on the model alone: a rerun that redraws the explanations
    # (their picture lost) leaves them as they are.
    folder = tmp_path / "r" / "figures" / "explanations"
    drawn = {name: (folder / name).stat().st_mtime_ns for name in names}
    (folder / f"{stem}.png").unlink()
    bench_run.run(cfg)
    assert (folder / f"{stem}.png").exists()
    assert all((folder / name).stat().st_mtime_ns == drawn[name] for name in names if name != f"{stem}.png")


def test_global_points_spread_over_a_training_set_sorted_by_class():
    X, y = images(60)
    order = np.argsort(y, kind="stable")
    model = tiny().fit(X, y)
    chosen = model.global_points(X[order], n_points=10)
    picked = {int(np.flatnonzero((X[order] == row).all(axis=(1, 2, 3)))[0]) for row in chosen}
    assert len(chosen) == 10 and set(y[order][sorted(picked)]) == {0, 1}  # not the first 10 rows, all one class
    np.testing.assert_array_equal(model.global_points(X[order], n_points=10), chosen)  # seeded


def test_an_interpreter_that_fails_leaves_fs_rows_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(Flint, "interpreter_proba", lambda self, X: 1 / 0)
    cfg = compose_config(["data=digits", "model=flint", "model.training.epochs=1", "model.beta_from=1",
                          "model.l1_from=1", "model.entropy_from=1", "model.n_attributes=4", "explainers=none"],
                         tmp_path / "r")
    bench_run.run(cfg)
    rows = ResultStore(tmp_path / "r").read_all()
    f_rows, g_rows = rows[rows["model"] == "flint"], rows[rows["model"] == "flint:g"]
    assert (f_rows["status"] == "ok").all() and "accuracy" in set(f_rows["metric"])
    assert list(g_rows["status"]) == ["failed"]
    assert g_rows["error"].iloc[0] == "the interpreter gave no predictions: ZeroDivisionError: division by zero"

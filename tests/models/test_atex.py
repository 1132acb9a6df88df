"""ATEX's pieces on tensors whose answers are known, and its fine-tuning end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.models import MLP, HyperLinear
from bench.models.atex import ATEX
from bench.models.cnn_tanh import CNNTanh
from bench.models.networks.atex import class_logits, label_logit, orthogonal_noise, scaled_to_max, smoothgrad


def images(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 1, 8, 8)).astype(np.float32)
    return X, (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(int)


def test_the_label_logit_and_the_class_logits_of_a_binary_and_a_multiclass_net():
    binary = torch.tensor([[2.0], [-1.0]])
    np.testing.assert_allclose(label_logit(binary, torch.tensor([1.0, 0.0])), [2.0, 1.0])  # z, then -z
    np.testing.assert_allclose(torch.softmax(class_logits(binary), dim=1)[:, 1], torch.sigmoid(binary[:, 0]))
    multi = torch.tensor([[1.0, 2.0, 3.0]])
    assert label_logit(multi, torch.tensor([2])).item() == 3.0 and class_logits(multi) is multi


def test_smoothgrad_of_a_linear_net_is_its_weight_row_and_clips_the_noise_to_the_range():
    net = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 4.0]]))
    X = torch.full((2, 3), 0.5)
    s = smoothgrad(net, X, torch.tensor([0, 1]), samples=5, sigma=0.3, low=torch.tensor(0.0), high=torch.tensor(1.0),
                   generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(s, net.weight.detach())  # the gradient of a linear logit is its weights

    class Records(nn.Module):
        def forward(self, x):
            self.seen = x.detach().clone()
            return x.sum(dim=1, keepdim=True).repeat(1, 2)

    recorder = Records()
    smoothgrad(recorder, X, torch.tensor([0, 1]), samples=1, sigma=10.0, low=torch.tensor(0.0),
               high=torch.tensor(1.0), generator=torch.Generator().manual_seed(0))
    assert recorder.seen.min() >= 0 and recorder.seen.max() <= 1


def test_the_explanation_is_scaled_to_mag_and_the_noise_is_orthogonal_to_it():
    s = torch.tensor([[1.0, -4.0, 2.0], [0.5, 0.5, 0.0]])
    scaled = scaled_to_max(s, 0.32)
    np.testing.assert_allclose(scaled.abs().max(dim=1).values, [0.32, 0.32])
    np.testing.assert_allclose(scaled[0] / scaled[0, 1], s[0] / s[0, 1])  # the direction is kept
    noise = orthogonal_noise(scaled, 8, 0.32, torch.Generator().manual_seed(0))
    assert noise.shape == (16, 3)
    # Copy k of row i sits at k * 2 + i: each is orthogonal to its own row's s.
    dots = (noise.view(8, 2, 3) * scaled[None]).sum(dim=2)
    assert dots.abs().max() < 1e-6 and noise.abs().max() > 0.01


def test_each_mini_batch_takes_rounds_times_two_steps_on_n_copies_of_it():
    X, y = images()
    model = ATEX(base=CNNTanh(channels=(4, 8), training=CNNTanh.loop(epochs=1), random_state=0), n_copies=3, rounds=2,
                 smoothgrad_samples=2, training=ATEX.loop(batch_size=20, epochs=1), device="cpu").fit(X, y)
    sizes = []
    student = model.networks_[0]
    student.register_forward_hook(lambda module, args, output: sizes.append(len(args[0])))
    model._range = (X.min(), X.max())
    model._teacher = model.base_.networks_[0]
    steps = model._batch_steps(None)(student, torch.as_tensor(X[:20]), torch.as_tensor(y[:20]))
    losses = list(steps)
    assert len(losses) == 4  # 2 rounds x 2 points along the explanation
    assert sizes == [20, 20] + [60] * 4  # SmoothGrad's 2 noisy copies, then 3 copies of 20 per step
    assert all(loss.item() >= 0 for loss in losses)  # a KL divergence


def test_atex_fine_tunes_a_copy_leaves_the_base_bit_identical_and_is_seeded():
    X, y = images()
    base = CNNTanh(channels=(4, 8), training=CNNTanh.loop(epochs=2), random_state=1).fit(X, y)
    before = {name: tensor.clone() for name, tensor in base.networks_[0].state_dict().items()}
    options = {"smoothgrad_samples": 2, "n_copies": 2, "device": "cpu"}
    model = ATEX(base=base, random_state=3, training=ATEX.loop(epochs=2, batch_size=20), **options).fit(X, y)
    again = ATEX(base=base, random_state=3, training=ATEX.loop(epochs=2, batch_size=20), **options).fit(X, y)
    assert model.base_ is base and all(torch.equal(before[k], base.networks_[0].state_dict()[k]) for k in before)
    assert not np.array_equal(model.predict_proba(X), base.predict_proba(X))  # fine-tuned
    np.testing.assert_array_equal(model.predict_proba(X), again.predict_proba(X))
    assert not hasattr(model, "_teacher") and not hasattr(model, "_range")


def test_atex_on_a_table_trains_an_mlp_base_first_with_its_seed():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = ATEX(smoothgrad_samples=2, n_copies=2, training=ATEX.loop(epochs=1, batch_size=20), random_state=2,
                 device="cpu").fit(X, y)
    assert isinstance(model.base_, MLP) and model.base_.random_state == 2
    assert model.predict_proba(X).shape == (80, 2) and (model.predict(X) == y).mean() > 0.7


def test_a_fitted_base_of_other_classes_is_refused():
    X, y = images()
    base = CNNTanh(channels=(4, 8), training=CNNTanh.loop(epochs=1), random_state=0, device="cpu").fit(X, y)
    with pytest.raises(ValueError, match=r"the base was fitted on the classes \[0, 1\], these labels hold \[0, 1, 2\]"):
        ATEX(base=base, training=ATEX.loop(epochs=1), device="cpu").fit(X, np.arange(len(y)) % 3)


@pytest.mark.parametrize(("options", "message"), [
    ({"epsilon": 0}, "'epsilon' parameter of ATEX must be a float in the range"),
    ({"n_copies": 0}, "'n_copies' parameter of ATEX must be an int in the range"),
    ({"base": "cnn"}, "base must be a torch classifier"),
])
def test_bad_options_fail_before_training(options, message):
    X, y = images(20)
    with pytest.raises(ValueError, match=message):
        ATEX(**options).fit(X, y)


def test_the_soft_targets_are_the_frozen_base_outputs_at_temperature():
    X, y = images(20)
    model = ATEX(base=CNNTanh(channels=(4, 8), training=CNNTanh.loop(epochs=1), random_state=0), rounds=1,
                 smoothgrad_samples=1, n_copies=2, training=ATEX.loop(epochs=1, batch_size=20), device="cpu").fit(X, y)

    class Constant(nn.Module):
        def __init__(self, logits, trainable):
            super().__init__()
            self.logits = nn.Parameter(torch.tensor(logits), requires_grad=trainable)

        def forward(self, x):
            return self.logits.expand(len(x), -1) + 0 * x.flatten(1)[:, :1]

    teacher, student = [2.0, -1.0], [0.3, 0.1]
    model._range, model._teacher = (X.min(), X.max()), Constant(teacher, False)
    loss = next(model._batch_steps(None)(Constant(student, True), torch.as_tensor(X), torch.as_tensor(y)))
    q = torch.softmax(torch.tensor(teacher) / model.temperature, dim=0)
    p = torch.softmax(torch.tensor(student), dim=0)
    assert loss.item() == pytest.approx((q * (q / p).log()).sum().item(), rel=1e-5)  # KL(q || p) per row


def test_atex_gives_its_base_native_explanation_of_the_fine_tuned_network():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    base = HyperLinear(training=HyperLinear.loop(epochs=6, warmup_epochs=1, batch_size=32), random_state=0,
                       device="cpu").fit(X, y)
    model = ATEX(base=base, smoothgrad_samples=2, n_copies=2, training=ATEX.loop(epochs=1, batch_size=40),
                 device="cpu").fit(X, y)
    assert len(base.networks_) == 3 and len(model.networks_) == 1  # the last snapshot, fine-tuned
    values = model.explain(X[:4], target=np.array([0, 1, 0, 1])).values
    assert not np.allclose(values, base.explain(X[:4], target=np.array([0, 1, 0, 1])).values)
    form = model.differentiable_explanation()
    np.testing.assert_allclose(form.explain(form.network, torch.as_tensor(X[:4]), torch.tensor([0, 1, 0, 1]))
                               .detach().numpy(), values, rtol=1e-5, atol=1e-6)
    assert not callable(getattr(ATEX(), "explain", None))  # unfitted: no explanation
    assert not callable(getattr(ATEX(smoothgrad_samples=1, n_copies=1, training=ATEX.loop(epochs=1, batch_size=20),
                                     device="cpu").fit(*images(20)), "explain", None))  # a cnn_tanh base has none

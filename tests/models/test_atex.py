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


class CubeAndSquare(nn.Module):
    """Class 0's logit sum(x^3) / 3, class 1's -sum(x^2) / 2: gradients x^2 and -x, which noise
    moves on average (E[(x + n)^2] = x^2 + sigma^2) and clipping at 0 too."""

    def forward(self, x):
        return torch.stack([(x ** 3).sum(dim=1) / 3, -(x ** 2).sum(dim=1) / 2], dim=1)


def test_smoothgrad_averages_the_label_gradient_over_noisy_copies_clipped_to_the_range():
    sigma, samples = 0.3, 1500
    X = torch.tensor([[0.5, -0.5, 0.0], [0.5, -0.5, 0.0]])
    low = torch.tensor([-10.0, -10.0, 0.0])  # the third feature sits on its floor
    s = smoothgrad(CubeAndSquare(), X, torch.tensor([0, 1]), samples=samples, sigma=sigma, low=low,
                   high=torch.tensor(10.0), generator=torch.Generator().manual_seed(0))
    # Class 0: E[(x + n)^2] = x^2 + sigma^2 inside the range, E[max(n, 0)^2] = sigma^2 / 2 on the
    # floor; class 1: -x inside, -E[max(n, 0)] = -sigma / sqrt(2 pi) on the floor. Without the
    # noise they would be x^2 (0.09 away) and 0 (0.12 away), without the clipping -E[n] = 0.
    expected = [[0.25 + sigma ** 2, 0.25 + sigma ** 2, sigma ** 2 / 2], [-0.5, 0.5, -sigma / np.sqrt(2 * np.pi)]]
    # 0.03: over 3.5 standard errors of a mean of 1,500 draws (the largest sd, at |x| = 0.5, is 0.33)
    np.testing.assert_allclose(s, expected, atol=0.03)


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


def linear(weight, bias) -> nn.Linear:
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer


def test_each_step_is_the_kl_from_the_base_soft_targets_at_points_along_the_explanation():
    # The fine-tuned net reads the first feature only, so its explanation (the gradient of the
    # label's logit) is +-e1 and the noise, orthogonal to it, moves the second feature alone: the
    # copies' outputs are those at the point itself, and each step's loss has a closed form.
    # The frozen base reads both features, so its soft targets depend on where the point lies.
    X = torch.tensor([[0.3, -0.2], [-0.1, 0.4], [0.6, 0.1]])
    y = torch.tensor([0, 1, 1])
    student = linear([[1.0, 0.0], [-0.5, 0.0]], [0.2, -0.1])
    teacher = linear([[2.0, -1.0], [-1.0, 0.5]], [0.0, 0.3])
    model = ATEX(epsilon=0.1, magnitude=4.0, temperature=4.0, n_copies=3, rounds=1, smoothgrad_samples=2,
                 random_state=0)
    model._range, model._teacher = (np.full(2, -5.0, dtype=np.float32), np.full(2, 5.0, dtype=np.float32)), teacher
    losses = [loss.item() for loss in model._batch_steps(None)(student, X, y)]
    # s: the label's gradient row scaled to max |s| = MAG = 4 x 0.1: (+0.4, 0) for class 0, (-0.4, 0)
    # for class 1; the points x - s and x (offsets -1 and 0).
    s = torch.tensor([[0.4, 0.0], [-0.4, 0.0], [-0.4, 0.0]])
    expected = []
    for point in (X - s, X):
        with torch.no_grad():
            q = torch.softmax(teacher(point) / 4.0, dim=1)  # the base's, at temperature 4
            p = torch.softmax(student(point), dim=1)  # the fine-tuned net's, at temperature 1
        expected.append((q * (q / p).log()).sum(dim=1).mean().item())  # KL(q || p), the mean over rows
    assert losses == pytest.approx(expected, rel=1e-5)
    assert losses[0] != pytest.approx(losses[1], rel=1e-2)  # the point along the explanation matters


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

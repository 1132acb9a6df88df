"""Robustness of explanations to small input perturbations. Lower is better for all three.

Max-sensitivity (Yeh, Hsieh, Suggala, Inouye, Ravikumar, "On the (In)fidelity and Sensitivity of
Explanations", NeurIPS 2019):

    SENS_MAX(phi, x) = max over x' in the L_inf ball of radius r around x of
                       ||phi(x') - phi(x)|| / ||phi(x)||

estimated, as captum.metrics.sensitivity_max does, with the maximum over `n_samples` points drawn
uniformly from the ball (L2 norms over the flattened attributions; a zero ||phi(x)|| is replaced
by 1, as captum does). The default radius is 0.1, not captum's 0.02: captum's default suits
pixels in [0, 1], while the harness's tabular features are standardised (std 1). 0.1 is a tenth
of a feature's standard deviation, still local (uniform noise of std 0.1/sqrt(3) = 0.058 per
feature, about OpenXAI's default Gaussian noise std of 0.05).

Relative input and output stability, RIS and ROS (Agarwal, Johnson, Pawelczyk, Krishna, Saha,
Zitnik, Lakkaraju, "Rethinking Stability for Attribution-based Explanations", 2022), as
../shared/docs/METRICS.md states them:

    RIS(x) = max over x' of (||e_x - e_x'|| / ||e_x||) / max(||x - x'|| / ||x||, eps_min)
    ROS(x) = max over x' of (||e_x - e_x'|| / ||e_x||) / max(||h(x) - h(x')|| / ||h(x)||, eps_min)

over the perturbations x' of a neighbourhood of x that keep the model's predicted class
(classification; every perturbation counts for regression); h is the model's logits: its torch
network's output where it has one (a snapshot ensemble's network returns the log of its averaged
probabilities), else the log of predict_proba, or the regression output. The paper divides
elementwise, ||(e_x - e_x') / e_x||, which is undefined wherever one attribution is 0 and
dominated by the smallest ones; METRICS.md (the project's spec, and OpenXAI's current
`compute_Lp_norm_diff`) divides norms, which is what is implemented. A relative change from a
zero reference (||e_x||, ||x|| or ||h(x)|| = 0) is undefined and that perturbation is skipped, as
OpenXAI does; an instance with no perturbation left is NaN. eps_min = 1e-6 is Quantus' default.

Deliberate choice, one shared neighbourhood: the paper samples x' from a neighbourhood of x
(OpenXAI: Gaussian noise, 1000 draws of which the first 100 with the same prediction are kept).
Here RIS and ROS use the same `n_samples` points of the uniform L_inf ball of radius `radius` as
max-sensitivity, and simply ignore the explanations at the points whose prediction changed.
Re-explaining is what these metrics cost (n_samples explanations per instance; kernel SHAP on 30
features takes ~0.7 s per explanation, ~140 s for 20 instances), and sharing the points means
one set of re-explanations per explainer instead of three: the first of the three metrics
explains all perturbed rows of all scored instances in ONE `context.reexplain` call (each
instance's explained target repeated) and caches the result (`context.cached_for_explainer`);
the other two make no explainer call, where they agree on `draws`. The points
come from `context.fold_rng`, not from the metric's `rng`, so every explainer of a fold is
scored on the same points: the explainers' scores are a paired comparison. The predictions and
logits RIS and ROS need come from the model in as few calls as memory allows.

The re-explanations draw independently of the explanation by default (`draws="independent"`,
bench/metrics/context.py): a sampling explainer's noise (LIME's, Kernel SHAP's, SmoothGrad's)
counts as part of how much its explanation moves, as a user who explains x and then a neighbour
of x sees it, and as a deterministic explainer's cannot. `draws="shared"` re-explains with the
explanation's own seed, which hides that noise wherever the explainer's draws line up with the
explanation's (the first perturbed row of the first instance, for an explainer that draws row
after row).

`n_instances` caps the cost further: only the first n_instances explained rows are scored, the
others are NaN (bench.metrics.subsample). An instance's points do not depend on the cap.
"""

from __future__ import annotations

import numpy as np

from bench.core.errors import NotApplicable
from bench.core.tensors import as_tensor, module_device
from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import Draws, MetricContext, check_draws
from bench.metrics.perturbation import MAX_ELEMENTS_PER_CALL
from bench.metrics.subsample import first_instances, padded
from bench.models.base import is_classifier, model_output


def require_explainer(context: MetricContext, metric_name: str) -> None:
    if context.explain is None:
        raise NotApplicable(f"{metric_name} needs to run the explainer again on perturbed inputs, "
                            "and this run's metric context has no explainer")


def flattened(X: np.ndarray, explanation: Explanation) -> tuple[np.ndarray, np.ndarray]:
    """X and its attributions as (n, d) float64."""
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    return flat, np.asarray(explanation.values, dtype=np.float64).reshape(flat.shape)


def neighbourhood(model, X: np.ndarray, explanation: Explanation, context: MetricContext, metric_name: str,
                  radius: float, n_samples: int, draws: str) -> tuple[np.ndarray, np.ndarray]:
    """(points, attributions), both (n, n_samples, d): `n_samples` points drawn uniformly from the
    L_inf ball of radius `radius` around each of the n (already capped) rows of X, and the
    explainer's attributions there for each instance's explained target, re-explained with
    `draws`. Computed once per explainer unit and shared by the three metrics; the points are the
    same for every explainer of the fold (the same rows X, the same fold stream)."""
    require_explainer(context, metric_name)

    def compute() -> tuple[np.ndarray, np.ndarray]:
        flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        n, d = flat.shape
        # Drawn in row order, so the first rows' points are the same whatever n_instances is.
        noise = context.fold_rng(f"robustness/{radius}/{n_samples}").uniform(-radius, radius, size=(n, n_samples, d))
        points = flat[:, None, :] + noise
        targets = np.repeat(np.asarray(explanation.target), n_samples)
        explained = context.reexplain(model, points.reshape(n * n_samples, *X.shape[1:]), targets, draws=draws,
                                      purpose=f"robustness/{radius}/{n_samples}")
        return points, np.asarray(explained.values, dtype=np.float64).reshape(n, n_samples, d)

    # Keyed by the number of rows scored rather than the n_instances asked for: a cap of None and
    # a cap >= len(X) score the same rows and share one set of re-explanations.
    return context.cached_for_explainer(("neighbourhood", radius, n_samples, len(X), draws), compute)


def in_chunks(evaluate, inputs: np.ndarray) -> np.ndarray:
    """evaluate(rows) over `inputs`, at most MAX_ELEMENTS_PER_CALL numbers per call."""
    step = max(1, MAX_ELEMENTS_PER_CALL // max(1, int(np.prod(inputs.shape[1:]))))
    return np.concatenate([evaluate(inputs[start:start + step]) for start in range(0, len(inputs), step)])


def logits(model, X: np.ndarray) -> np.ndarray:
    """(n, C) logits, or the regression output as (n, 1); see the module docstring."""
    if callable(getattr(model, "torch_module", None)):
        import torch  # a torch model's network: torch is loaded already; `--help` needs none of it

        network = model.torch_module().eval()
        with torch.no_grad():
            output = network(as_tensor(X, module_device(network)))
        return output.double().cpu().numpy().reshape(len(X), -1)
    if is_classifier(model):
        probabilities = np.asarray(model.predict_proba(X), dtype=np.float64)
        return np.log(np.maximum(probabilities, np.finfo(np.float64).tiny))
    return model_output(model, X)


def relative_change(reference: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """(n, m) ||reference - changed|| / ||reference|| for references (n, k) and changed (n, m, k);
    NaN where the reference is 0."""
    scale = np.linalg.norm(reference, axis=-1)[:, None]
    distance = np.linalg.norm(changed - reference[:, None, :], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, distance / scale, np.nan)


def check_neighbourhood(metric_name: str, radius: float, n_samples: int, draws: str) -> None:
    check_draws(metric_name, draws)
    if not radius > 0:
        raise ValueError(f"{metric_name} radius must be positive, got {radius}")
    if n_samples < 1:
        raise ValueError(f"{metric_name} n_samples must be at least 1, got {n_samples}")


# Every metric below takes the metric contract's `rng` and leaves it unused: the neighbourhood
# comes from context.fold_rng, so that every explainer of the fold is scored on the same points.

@metric(category="robustness", higher_is_better=False)
def max_sensitivity(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                    rng: np.random.Generator, radius: float = 0.1, n_samples: int = 10,
                    n_instances: int | None = None, draws: Draws = "independent") -> np.ndarray:
    """(n,) max over points of the L_inf ball of the relative change of the attributions; NaN
    after the first `n_instances`. Lower is better."""
    check_neighbourhood("max_sensitivity", radius, n_samples, draws)
    scored_X, scored = first_instances(X, explanation, n_instances, "max_sensitivity")
    _, values = neighbourhood(model, scored_X, scored, context, "max_sensitivity", radius, n_samples, draws)
    _, attributions = flattened(scored_X, scored)
    scale = np.linalg.norm(attributions, axis=1)
    scale = np.where(scale > 0, scale, 1.0)  # captum's choice: the absolute change where phi(x) = 0
    sensitivity = (np.linalg.norm(values - attributions[:, None, :], axis=2) / scale[:, None]).max(axis=1)
    return padded(sensitivity, len(X))


def relative_stability(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                       metric_name: str, on_logits: bool, radius: float, n_samples: int, eps_min: float,
                       n_instances: int | None, draws: str) -> np.ndarray:
    """(n,) RIS (on_logits=False) or ROS; see the module docstring."""
    check_neighbourhood(metric_name, radius, n_samples, draws)
    if not eps_min > 0:
        raise ValueError(f"{metric_name} eps_min must be positive, got {eps_min}")
    scored_X, scored = first_instances(X, explanation, n_instances, metric_name)
    points, values = neighbourhood(model, scored_X, scored, context, metric_name, radius, n_samples, draws)
    shape = X.shape[1:]
    flat, attributions = flattened(scored_X, scored)
    n = len(flat)
    classifier = is_classifier(model)
    outputs = None  # RIS of a regressor needs no model evaluation at all
    if on_logits or classifier:
        evaluate = logits if on_logits else model_output
        stacked = np.concatenate([flat[:, None, :], points], axis=1).reshape(n * (n_samples + 1), *shape)
        outputs = in_chunks(lambda rows: evaluate(model, rows), stacked).reshape(n, n_samples + 1, -1)
    denominator = relative_change(outputs[:, 0], outputs[:, 1:]) if on_logits else relative_change(flat, points)
    if classifier:
        predicted = outputs.argmax(axis=2)  # logits and probabilities have the same argmax
        keep = predicted[:, 1:] == predicted[:, :1]
    else:
        keep = np.ones((n, n_samples), dtype=bool)
    ratios = relative_change(attributions, values) / np.maximum(denominator, eps_min)  # NaN stays NaN
    stability = np.fmax.reduce(np.where(keep, ratios, np.nan), axis=1)  # ignores NaN; all NaN -> NaN
    return padded(stability, len(X))


@metric(category="robustness", higher_is_better=False)
def relative_input_stability(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                             rng: np.random.Generator, radius: float = 0.1, n_samples: int = 10,
                             eps_min: float = 1e-6, n_instances: int | None = None,
                             draws: Draws = "independent") -> np.ndarray:
    """(n,) RIS: relative change of the attributions over relative change of the input. Lower is better."""
    return relative_stability(model, X, explanation, context=context, metric_name="relative_input_stability",
                              on_logits=False, radius=radius, n_samples=n_samples, eps_min=eps_min,
                              n_instances=n_instances, draws=draws)


@metric(category="robustness", higher_is_better=False)
def relative_output_stability(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                              rng: np.random.Generator, radius: float = 0.1, n_samples: int = 10,
                              eps_min: float = 1e-6, n_instances: int | None = None,
                              draws: Draws = "independent") -> np.ndarray:
    """(n,) ROS: relative change of the attributions over relative change of the logits. Lower is better."""
    return relative_stability(model, X, explanation, context=context, metric_name="relative_output_stability",
                              on_logits=True, radius=radius, n_samples=n_samples, eps_min=eps_min,
                              n_instances=n_instances, draws=draws)

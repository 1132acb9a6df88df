"""XAI-Bench's faithfulness metrics (Liu, Khandagale, White, Neiswanger, "Synthetic Benchmarks
for Scientific Research in Explainable Machine Learning", NeurIPS 2021 Datasets & Benchmarks;
code abacusai/xai-bench, custom_metrics/; ../shared/docs/XAIBENCH.md, "Metrics").

All four need the data's distribution: "removing" a feature means drawing it from, or setting
it to the mean of, its exact Gaussian conditional given the features kept
(bench/data/gaussian.py). All are higher-is-better, one value per explained instance, and, as
in XAI-Bench, an undefined (NaN or infinite) correlation counts as 0, so none returns NaN.
f(x) is the model's output for the explained target (class probability, or the regression
output).

- faithfulness (Alvarez-Melis & Jaakkola 2018, as AIX360 and XAI-Bench compute it): for each
  feature j, x_j is resampled `n_samples` times from p(x_j | x_-j),
  Delta_j = |f(x) - mean f(resampled)|; score = Pearson(|phi|, Delta).
- monotonicity (Luss et al. 2019, XAI-Bench's 'inc' version with avg=True): starting from the
  mean prediction over the explained rows, features are added in ascending |phi| order, the
  absent ones sampled from their conditional `n_samples` times; with the curve
  P_0 = mean prediction, P_s = mean f after s features, deltas_s = |P_s - P_{s-1}| and the
  score is the fraction of the d - 1 consecutive differences deltas_{s+1} - deltas_s >= 0.
  compat="xaibench" reproduces the original code, which stores P_s at position 1 + (index of
  the feature added at step s) instead of at position s, so its curve is in feature order.
- roar_faithfulness (ROAR, Hooker et al. 2019, XAI-Bench's version): for rank r = 1..d, each
  row's r-th most important feature (by |phi|; that one feature only, not cumulatively) is set
  to its conditional mean given the others, in the training rows (ranked by the explainer's
  explanations of the training rows) and in the explained rows; a fresh model retrained on the
  modified training rows (labels y_train) predicts the modified explained rows, and
  delta_r = |f(x) - yhat_r| with f the original model. Correct score: Pearson(|phi| sorted
  descending, delta over r). compat="xaibench" reproduces the original code's row alignment:
  it concatenates the training rows' attributions before the explained rows' and correlates
  row i of that (i < number of explained rows, so a TRAINING row's |phi|, in feature order)
  with explained row i's deltas (in rank order); this is why IMN's non-linear value is ~0.
- roar_monotonicity (XAI-Bench's 'inc' version, avg=True): yhat_k is the prediction of a model
  retrained with every row keeping only its k least important features, the others at their
  conditional mean given the kept ones (k = 0: every feature at the mean; k = d: the data
  as it is); d_k = |yhat_k - yhat_{k-1}| for k = 1..d; score = fraction of k in 2..d with
  d_k >= d_{k-1}.

The retrained model (`retrained_model`): "mlp", sklearn's MLPRegressor with its defaults
(MLPClassifier for classification tasks), the inferred choice of the runs behind IMN's Table 3,
with a random_state drawn from the metric's rng; "same", the run's own model config
(context.fit); or a zero-argument callable returning an unfitted sklearn-style estimator (what
Hydra passes for `{_target_: ..., _partial_: true}`). Tabular inputs only: the distribution is
over the (n, d) features.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from bench.data.gaussian import Gaussian
from bench.data.synthetic import Compat, check_compat
from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.perturbation import explained_outputs, outputs_at
from bench.metrics.rowwise import pearson_rows
from bench.models.base import model_output, predicted_class

RETRAINED_MODELS = ("mlp", "same")


@metric(category="faithfulness", higher_is_better=True)
def faithfulness(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                 n_samples: int = 100) -> np.ndarray:
    """(n,) Pearson(|phi|, Delta) with Delta_j the output's change when x_j is resampled."""
    check_n_samples(n_samples)
    distribution = context.require_synthetic("faithfulness").distribution
    X, importance = table_and_importance(X, explanation, distribution)
    n, d = X.shape
    keep = ~np.eye(d, dtype=bool)  # row j: every feature but j

    def build(rows: slice) -> np.ndarray:
        x = np.broadcast_to(X[rows, None, :], (rows.stop - rows.start, d, d))
        resampled = distribution.sample_conditional(x, keep, n_samples, rng)  # (k, d, n_samples, d)
        return np.concatenate([X[rows, None, :], resampled.reshape(len(x), d * n_samples, d)], axis=1)

    outputs = explained_outputs(model, build, n_instances=n, n_perturbations=1 + d * n_samples, n_features=d,
                                target=explanation.target)  # the original input first
    deltas = np.abs(outputs[:, :1] - outputs[:, 1:].reshape(n, d, n_samples).mean(axis=2))
    return correlation_or_zero(importance, deltas)


@metric(category="faithfulness", higher_is_better=True)
def monotonicity(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                 n_samples: int = 100, compat: Compat = "correct") -> np.ndarray:
    """(n,) fraction of steps at which adding the next (more important) feature changes the
    prediction at least as much as the previous one did."""
    check_n_samples(n_samples)
    check_compat(compat)
    distribution = context.require_synthetic("monotonicity").distribution
    X, importance = table_and_importance(X, explanation, distribution)
    n, d = X.shape
    check_several_features("monotonicity", d)
    order = np.argsort(importance, axis=1, kind="stable")  # least important first
    rank = np.argsort(order, axis=1)
    steps = np.arange(1, d + 1)

    def build(rows: slice) -> np.ndarray:
        kept = rank[rows, None, :] < steps[None, :, None]  # (k, step, d): the features added so far
        x = np.broadcast_to(X[rows, None, :], kept.shape)
        sampled = distribution.sample_conditional(x, kept, n_samples, rng)  # (k, step, n_samples, d)
        return sampled.reshape(len(kept), d * n_samples, d)

    outputs = explained_outputs(model, build, n_instances=n, n_perturbations=d * n_samples, n_features=d,
                                target=explanation.target)
    curve = np.empty((n, d + 1))
    curve[:, 0] = mean_prediction(model, X, explanation.target)
    by_step = outputs.reshape(n, d, n_samples).mean(axis=2)
    if compat == "xaibench":
        # The original writes step s's prediction at 1 + the index of the feature added there.
        np.put_along_axis(curve, order + 1, by_step, axis=1)
    else:
        curve[:, 1:] = by_step
    return fraction_non_decreasing(np.abs(np.diff(curve, axis=1)))


@metric(category="faithfulness", higher_is_better=True)
def roar_faithfulness(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                      rng: np.random.Generator, retrained_model="mlp", compat: Compat = "correct",
                      n_train_rows: int | None = None) -> np.ndarray:
    """(n,) Pearson(|phi| sorted descending, |f(x) - yhat_r|) over ranks r, yhat_r from a model
    retrained without each row's r-th most important feature (on the first `n_train_rows`
    training rows, all when None)."""
    check_compat(compat)
    fit = retrainer(retrained_model, context, rng)
    distribution = context.require_synthetic("roar_faithfulness").distribution
    X, importance = table_and_importance(X, explanation, distribution)
    X_train, y_train, train_importance = training_importance(model, context, n_train_rows)
    order = np.argsort(-importance, axis=1, kind="stable")  # most important first
    train_order = np.argsort(-train_importance, axis=1, kind="stable")
    original = outputs_at(model, X, explanation.target)
    deltas = np.empty(X.shape)
    for r in range(X.shape[1]):
        retrained = fit(without_feature(distribution, X_train, train_order[:, r]), y_train)
        deltas[:, r] = np.abs(original - outputs_at(retrained, without_feature(distribution, X, order[:, r]),
                                                   explanation.target))
    if compat == "xaibench":
        # The original's rows: the training rows' |phi| then the explained rows', read from row 0.
        paired = np.concatenate([train_importance, importance])[:len(X)]
    else:
        paired = np.take_along_axis(importance, order, axis=1)
    return correlation_or_zero(paired, deltas)


@metric(category="faithfulness", higher_is_better=True)
def roar_monotonicity(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                      rng: np.random.Generator, retrained_model="mlp", n_train_rows: int | None = None) -> np.ndarray:
    """(n,) fraction of k in 2..d where keeping the k-th least important feature moves the
    retrained model's prediction at least as much as keeping the (k-1)-th did (retrained on the
    first `n_train_rows` training rows, all when None)."""
    fit = retrainer(retrained_model, context, rng)
    distribution = context.require_synthetic("roar_monotonicity").distribution
    X, importance = table_and_importance(X, explanation, distribution)
    n, d = X.shape
    check_several_features("roar_monotonicity", d)
    rank = importance_rank(importance)
    X_train, y_train, train_importance = training_importance(model, context, n_train_rows)
    train_rank = importance_rank(train_importance)
    predictions = np.empty((n, d + 1))
    for k in range(d + 1):
        retrained = fit(distribution.conditional_mean(X_train, train_rank < k), y_train)
        predictions[:, k] = outputs_at(retrained, distribution.conditional_mean(X, rank < k), explanation.target)
    return fraction_non_decreasing(np.abs(np.diff(predictions, axis=1)))


def check_n_samples(n_samples: int) -> None:
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive number of conditional draws, got {n_samples}")


def check_several_features(name: str, n_features: int) -> None:
    if n_features < 2:
        raise NotApplicable(f"{name} compares consecutive changes and needs at least 2 features, got {n_features}")


def table_and_importance(X: np.ndarray, explanation: Explanation, distribution: Gaussian
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The explained rows as (n, d) floats and |phi| as (n, d), checked against the distribution."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != distribution.n_features:
        raise NotApplicable(f"XAI-Bench metrics need (n, {distribution.n_features}) tabular rows of the synthetic "
                            f"distribution, got shape {X.shape}")
    return X, np.abs(np.asarray(explanation.values, dtype=np.float64).reshape(X.shape))


def importance_rank(importance: np.ndarray) -> np.ndarray:
    """(n, d) position of each feature in its row's ascending |phi| order (0 = least important)."""
    return np.argsort(np.argsort(importance, axis=1, kind="stable"), axis=1)


def without_feature(distribution: Gaussian, X: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """X with feature[i] of each row i at its conditional mean given the row's other features."""
    keep = np.ones(X.shape, dtype=bool)
    keep[np.arange(len(X)), feature] = False
    return distribution.conditional_mean(X, keep)


def training_importance(model, context: MetricContext, n_train_rows: int | None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first `n_train_rows` training rows (all when None), their labels, and |phi| of the
    explainer's explanations of them (for the predicted class), computed once per explainer:
    both ROAR metrics rank the training rows' features by them. Fewer rows bound the cost of
    explaining them with a slow explainer."""
    if n_train_rows is not None and n_train_rows < 2:
        raise ValueError(f"n_train_rows must be at least 2 training rows or null (all), got {n_train_rows}")
    X_train, y_train = context.X_train[:n_train_rows], context.y_train[:n_train_rows]
    if context.task_type != "regression" and len(np.unique(y_train)) != len(np.unique(context.y_train)):
        # A retrained classifier missing a class would index the wrong predict_proba column.
        raise NotApplicable(f"the first {n_train_rows} training rows miss a class; raise n_train_rows or set it "
                            "to null (all rows)")

    def explain_training_rows() -> Explanation:
        return context.explain(model, X_train, predicted_class(model, X_train))

    explanation = context.cached_for_explainer(("train_explanation", n_train_rows), explain_training_rows)
    return X_train, y_train, np.abs(np.asarray(explanation.values, dtype=np.float64).reshape(np.shape(X_train)))


def retrainer(retrained_model, context: MetricContext, rng: np.random.Generator) -> Callable:
    """fit(X, y) -> a freshly trained model of the kind `retrained_model` names. It learns the
    explained model's y_train, so a retrained classifier has the same classes_, and the explained
    target indexes the same column of its predict_proba."""
    if callable(retrained_model):
        return lambda X, y: retrained_model().fit(X, y)
    if retrained_model == "same":
        return context.fit
    if retrained_model == "mlp":
        return lambda X, y: fit_default_mlp(X, y, context.task_type, int(rng.integers(2**31 - 1)))
    raise ValueError(f"retrained_model must be one of {RETRAINED_MODELS} or a callable returning an unfitted "
                     f"estimator, got {retrained_model!r}")


def fit_default_mlp(X: np.ndarray, y: np.ndarray, task_type: str, random_state: int):
    estimator = (MLPRegressor if task_type == "regression" else MLPClassifier)(random_state=random_state)
    # sklearn's default 200 iterations do not converge on these data; XAI-Bench's retrained
    # models did not either, and the metric is meant to measure them as they were.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def mean_prediction(model, X: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(n,) the mean over the explained rows of the output each row's explanation is of."""
    return model_output(model, X).mean(axis=0)[np.asarray(target, dtype=int)]


def correlation_or_zero(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation, 0 where undefined (XAI-Bench's convention)."""
    return np.nan_to_num(pearson_rows(a, b), nan=0.0, posinf=0.0, neginf=0.0)


def fraction_non_decreasing(deltas: np.ndarray) -> np.ndarray:
    """(n,) fraction of consecutive pairs of the (n, d) deltas where the later is >= the earlier."""
    return (np.diff(deltas, axis=1) >= 0).mean(axis=1)

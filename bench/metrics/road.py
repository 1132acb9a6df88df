"""ROAD, RemOve And Debias (Rong, Leemann, Borisov, Kasneci, Kasneci, "A Consistent and Efficient
Evaluation Strategy for Attribution Methods", ICML 2022).

Removing pixels by setting them to a constant leaks the removed set through its shape: a model
can read the explanation off the mask (the "class information leakage" of the paper) and the
curves then rank explainers inconsistently. ROAD imputes every removed pixel instead, by noisy
linear imputation: each removed pixel is the weighted mean of its 8 neighbours (1/6 for the four
direct ones, 1/12 for the diagonal ones, renormalised over the neighbours inside the image), one
sparse linear system for all removed pixels of an image (every channel a right-hand side), plus
Gaussian noise of standard deviation `noise` (0.01, the paper's) on the imputed values.

The order is fixed from the explanation once (no retraining, unlike ROAR): MoRF removes the most
relevant pixels first, LeRF the least; a pixel's relevance is the sum of its channels'
attributions. At each removed fraction k/(levels+1), k = 1..levels (the paper's 10%, ..., 90%
for levels=9), the model predicts the imputed image. The paper plots the accuracy against the
fraction; per instance the score here is the fraction of levels at which the model still
predicts the explained class, so that the mean over instances is the mean of that curve (the
explained class is the predicted one by default, the label the paper compares with where the
model is right). A faithful explanation gives a low road_morf and a high road_lerf.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve

from bench.core.explanation import Explanation
from bench.core.images import require_images
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.perturbation import perturbed_outputs

# (row offset, column offset, weight) of the 8 neighbours of a pixel: Rong et al.'s weights.
NEIGHBOURS = tuple((di, dj, 1 / 6 if di == 0 or dj == 0 else 1 / 12)
                   for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0))


def linear_imputation(image: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """`image` (channels, height, width) with the pixels where `removed` (height, width) is True
    replaced by the solution of: each removed pixel = the weighted mean of its neighbours inside
    the image (NEIGHBOURS), known or imputed. Noise-free."""
    channels, height, width = image.shape
    rows, columns = np.nonzero(removed)
    m = len(rows)
    if m == 0:
        return image.copy()
    variable = np.full((height, width), -1)
    variable[rows, columns] = np.arange(m)
    diagonal = np.zeros(m)  # the total weight of each removed pixel's neighbours inside the image
    right = np.zeros((m, channels))
    a_rows, a_columns, a_values = [np.arange(m)], [np.arange(m)], []
    for di, dj, weight in NEIGHBOURS:
        r, c = rows + di, columns + dj
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        diagonal[inside] += weight
        index = np.nonzero(inside)[0]
        neighbour = variable[r[inside], c[inside]]
        imputed = neighbour >= 0
        a_rows.append(index[imputed])
        a_columns.append(neighbour[imputed])
        a_values.append(np.full(imputed.sum(), -weight))
        right[index[~imputed]] += weight * image[:, r[inside][~imputed], c[inside][~imputed]].T
    a_values.insert(0, diagonal)
    system = coo_matrix((np.concatenate(a_values), (np.concatenate(a_rows), np.concatenate(a_columns))),
                        shape=(m, m)).tocsc()
    solution = spsolve(system, right).reshape(m, channels)
    result = image.copy()
    result[:, rows, columns] = solution.T
    return result


def road_curve(model, X: np.ndarray, explanation: Explanation, *, rng: np.random.Generator, most_relevant_first: bool,
               levels: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(fractions (levels,), kept (n, levels)): whether the model still predicts the explained
    class after removing and imputing each fraction of the pixels."""
    require_images(X, "ROAD")
    if levels < 1 or noise < 0:
        raise ValueError(f"ROAD needs levels >= 1 and noise >= 0, got {levels} and {noise}")
    X = np.asarray(X, dtype=np.float64)
    n, channels, height, width = X.shape
    pixels = height * width  # a pixel is all its channels
    relevance = np.asarray(explanation.values, dtype=np.float64).reshape(n, channels, pixels).sum(axis=1)
    order = np.argsort(-relevance if most_relevant_first else relevance, axis=1, kind="stable")
    fractions = np.arange(1, levels + 1) / (levels + 1)
    counts = np.arange(1, levels + 1) * pixels // (levels + 1)  # rounded down, as the paper's code and Quantus

    def build(rows: slice) -> np.ndarray:
        images = np.empty((rows.stop - rows.start, levels, channels, height, width))
        for i, row in enumerate(range(rows.start, rows.stop)):
            for level, count in enumerate(counts):
                removed = np.zeros(pixels, dtype=bool)
                removed[order[row, :count]] = True
                imputed = linear_imputation(X[row], removed.reshape(height, width))
                imputed[:, removed.reshape(height, width)] += noise * rng.standard_normal((channels, count))
                images[i, level] = imputed
        return images

    outputs = perturbed_outputs(model, build, n_instances=n, n_perturbations=levels, n_features=channels * pixels)
    return fractions, outputs.argmax(axis=2) == np.asarray(explanation.target)[:, None]


@metric(category="faithfulness", higher_is_better=False, task_types=("binary", "multiclass"))
def road_morf(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
              levels: int = 9, noise: float = 0.01) -> np.ndarray:
    """(n,) the fraction of the `levels` removal fractions, most relevant pixels first, at which
    the model still predicts the explained class. Lower is better."""
    return road_curve(model, X, explanation, rng=rng, most_relevant_first=True, levels=levels, noise=noise)[1].mean(axis=1)


@metric(category="faithfulness", higher_is_better=True, task_types=("binary", "multiclass"))
def road_lerf(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
              levels: int = 9, noise: float = 0.01) -> np.ndarray:
    """(n,) as road_morf, least relevant pixels first. Higher is better."""
    return road_curve(model, X, explanation, rng=rng, most_relevant_first=False, levels=levels, noise=noise)[1].mean(axis=1)

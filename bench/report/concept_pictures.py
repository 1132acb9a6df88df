"""Pictures of a concepts model's attributes, as FLINT's paper shows them (Parekh et al. 2021,
METHODS.md §2), for an image task:
- `relevance`: the class-attribute relevance r_jc (classes x attributes, a diverging colormap);
- `attributes`: for each attribute relevant to some class (r_jc > RELEVANT), its 3 most
  activating training samples (MAS) and its activation-maximisation image (AM+PI, started from
  the first MAS);
- `local`: for a few test images, the image and its most relevant attributes, each with its
  relevance, its AM+PI image and its input attribution (the gradient of Phi_j at the image).
The run draws them beside the fold's explanation picture (bench/report/gallery.py) for a model with
`global_relevance` (FLINT), and the leaderboard page shows them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never a window, also on machines without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.models.flint import RELEVANT  # noqa: E402
from bench.core.figures import save_png, show_image  # noqa: E402

N_MAS = 3  # most activating samples per attribute, as in the paper
N_LOCAL = 3  # test images explained locally
TOP_ATTRIBUTES = 3  # attributes shown per local explanation


def concept_picture_paths(stem: Path) -> list[Path]:
    """Where draw_concept_pictures writes: `<stem>-relevance.png`, `-attributes.png`, `-local.png`."""
    return [Path(f"{stem}-{name}.png") for name in ("relevance", "attributes", "local")]


def draw_concept_pictures(model, X_train: np.ndarray, X_test: np.ndarray, stem: Path) -> list[Path]:
    """The three pictures, written to concept_picture_paths(stem)."""
    relevance = model.global_relevance(X_train)  # (C, J)
    relevant = [int(j) for j in np.unique(np.nonzero(relevance > RELEVANT)[1])]
    pool = model.global_points(X_train)
    activations = model.attributes(pool)
    mas = {j: np.argsort(-activations[:, j], kind="stable")[:N_MAS] for j in range(activations.shape[1])}
    explanation = model.explain(X_test[:N_LOCAL])  # the local view's, computed once
    concepts = explanation.concepts
    top = np.argsort(-concepts.relevance, axis=1, kind="stable")[:, :TOP_ATTRIBUTES]
    shown = sorted(set(relevant) | {int(j) for j in top.ravel()})
    am = {j: model.activation_maximisation(j, pool[mas[j][0]]) for j in shown}
    paths = []

    figure, axis = plt.subplots(figsize=(0.35 * relevance.shape[1] + 2, 0.35 * relevance.shape[0] + 1.5))
    scale = np.abs(relevance).max() or 1.0
    shown_image = axis.imshow(relevance, cmap="RdBu_r", vmin=-scale, vmax=scale)
    axis.set_xlabel("attribute j")
    axis.set_ylabel("class c")
    axis.set_xticks(range(relevance.shape[1]))
    axis.set_yticks(range(relevance.shape[0]))
    axis.tick_params(labelsize=6)
    axis.set_title(f"global relevance r_jc (shown pairs: r_jc > {RELEVANT})", fontsize=8)
    figure.colorbar(shown_image, ax=axis, shrink=0.8)
    relevance_path, attributes_path, local_path = concept_picture_paths(stem)
    paths.append(save_png(figure, relevance_path, dpi=90))

    rows = relevant or shown
    figure, axes = plt.subplots(len(rows), N_MAS + 1, figsize=(1.3 * (N_MAS + 1), 1.3 * len(rows)), squeeze=False)
    for axes_row, j in zip(axes, rows):
        classes = ", ".join(str(c) for c in np.nonzero(relevance[:, j] > RELEVANT)[0])
        for k, index in enumerate(mas[j]):
            show_image(axes_row[k], pool[index], f"MAS {k + 1}")
        show_image(axes_row[N_MAS], am[j], "AM+PI")
        axes_row[0].set_ylabel(f"j={j}\n(classes {classes or '-'})", fontsize=7, rotation=0, ha="right", va="center")
    paths.append(save_png(figure, attributes_path, dpi=90))

    figure, axes = plt.subplots(len(concepts.relevance), 1 + 2 * TOP_ATTRIBUTES,
                                figsize=(1.3 * (1 + 2 * TOP_ATTRIBUTES), 1.4 * len(concepts.relevance)), squeeze=False)
    for i, axes_row in enumerate(axes):
        show_image(axes_row[0], X_test[i], f"class {explanation.target[i]}")
        for k, j in enumerate(top[i]):
            show_image(axes_row[1 + 2 * k], am[int(j)], f"j={j}, r={concepts.relevance[i, j]:.2f}")
            gradient = concepts.to_input[i, j].reshape(X_test.shape[1:]).sum(axis=0, keepdims=True)
            limit = np.abs(gradient).max() or 1.0
            show_image(axes_row[2 + 2 * k], gradient, "input attribution", cmap="RdBu_r", vmin=-limit, vmax=limit)
    paths.append(save_png(figure, local_path, dpi=90))
    return paths


"""Pictures of a concepts model's attributes, as FLINT's paper shows them (Parekh et al. 2021,
METHODS.md §2), for an image task:
- `relevance`: the class-attribute relevance r_jc (classes x attributes, a diverging colormap);
- `attributes`: for each attribute relevant to some class (r_jc > RELEVANT), its 3 most
  activating training samples (MAS) and its activation-maximisation image (AM+PI, started from
  the first MAS);
- `local`: for a few test images, the image and its most relevant attributes, each with its
  relevance, its AM+PI image and its input attribution (the gradient of Phi_j at the image).
Drawn from what the run stored (bench/pipeline/pictures.py) beside the fold's explanation picture
(bench/report/pictures.py), for a model with `global_relevance` (FLINT); the leaderboard page
shows them."""

from __future__ import annotations

from pathlib import Path

from bench.core.figures import plt, save_png, show_image  # first: it sets matplotlib's file-only backend
import numpy as np  # noqa: E402

from bench.results.pictures import ConceptPictures  # noqa: E402


def concept_picture_paths(stem: Path) -> list[Path]:
    """Where draw_concept_pictures writes: `<stem>-relevance.png`, `-attributes.png`, `-local.png`."""
    return [Path(f"{stem}-{name}.png") for name in ("relevance", "attributes", "local")]


def draw_concept_pictures(data: ConceptPictures, stem: Path) -> list[Path]:
    """The three pictures, written to concept_picture_paths(stem)."""
    relevance, threshold = data.relevance, data.relevant
    paths = []

    figure, axis = plt.subplots(figsize=(0.35 * relevance.shape[1] + 2, 0.35 * relevance.shape[0] + 1.5))
    scale = np.abs(relevance).max() or 1.0
    shown_image = axis.imshow(relevance, cmap="RdBu_r", vmin=-scale, vmax=scale)
    axis.set_xlabel("attribute j")
    axis.set_ylabel("class c")
    axis.set_xticks(range(relevance.shape[1]))
    axis.set_yticks(range(relevance.shape[0]))
    axis.tick_params(labelsize=6)
    axis.set_title(f"global relevance r_jc (shown pairs: r_jc > {threshold})", fontsize=8)
    figure.colorbar(shown_image, ax=axis, shrink=0.8)
    relevance_path, attributes_path, local_path = concept_picture_paths(stem)
    paths.append(save_png(figure, relevance_path, dpi=90))

    n_mas = max(len(images) for images in data.most_activating.values())
    figure, axes = plt.subplots(len(data.rows), n_mas + 1, figsize=(1.3 * (n_mas + 1), 1.3 * len(data.rows)),
                                squeeze=False)
    for axes_row, j in zip(axes, data.rows):
        classes = ", ".join(str(c) for c in np.nonzero(relevance[:, j] > threshold)[0])
        for k, image in enumerate(data.most_activating[j]):
            show_image(axes_row[k], image, f"MAS {k + 1}")
        show_image(axes_row[n_mas], data.maximisation[j], "AM+PI")
        axes_row[0].set_ylabel(f"j={j}\n(classes {classes or '-'})", fontsize=7, rotation=0, ha="right", va="center")
    paths.append(save_png(figure, attributes_path, dpi=90))

    top = data.local_top
    figure, axes = plt.subplots(len(data.local_images), 1 + 2 * top.shape[1],
                                figsize=(1.3 * (1 + 2 * top.shape[1]), 1.4 * len(data.local_images)), squeeze=False)
    for i, axes_row in enumerate(axes):
        show_image(axes_row[0], data.local_images[i], f"class {data.local_targets[i]}")
        for k, j in enumerate(top[i]):
            show_image(axes_row[1 + 2 * k], data.maximisation[int(j)], f"j={j}, r={data.local_relevance[i, j]:.2f}")
            gradient = data.local_gradients[i, k]
            limit = np.abs(gradient).max() or 1.0
            show_image(axes_row[2 + 2 * k], gradient, "input attribution", cmap="RdBu_r", vmin=-limit, vmax=limit)
    paths.append(save_png(figure, local_path, dpi=90))
    return paths

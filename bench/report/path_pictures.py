"""CNN-INTE's diagrams (METHODS.md §4): for a few test images, each one's path drawn left to right,
as the paper presents an interpretation: the image -> its level-1 cluster's prototype -> its
sub-cluster's prototype -> every base learner's vote (a bar per learner, its height the
probability of the class it votes for, written above it; the instance's own cluster's learner
dark) -> the combiner's class probabilities and its prediction. Drawn from what the run stored
(bench/pipeline/pictures.py) beside the fold's explanation picture (bench/report/pictures.py), for a
model with `prototype_images` (CNN-INTE); the leaderboard page shows it."""

from __future__ import annotations

from pathlib import Path

from bench.core.figures import plt, save_png, show_image  # first: it sets matplotlib's file-only backend

from bench.results.pictures import PathPictures  # noqa: E402

OWN, OTHER = "#1f4e79", "#9ecae1"  # the instance's own cluster's learner (or the decided class), the rest


def path_picture_paths(stem: Path) -> list[Path]:
    """Where draw_path_pictures writes: `<stem>-paths.png`."""
    return [Path(f"{stem}-paths.png")]


def draw_path_pictures(data: PathPictures, stem: Path) -> list[Path]:
    """The diagram of the stored test images' paths, written to path_picture_paths(stem)."""
    X, extras, classes = data.images, data.extras, data.classes
    k1 = extras["learner_proba"].shape[1]
    figure = plt.figure(figsize=(1.5 * 3 + 0.32 * k1 + 0.3 * len(classes) + 1.5, 1.9 * len(X)))
    grid = figure.add_gridspec(len(X), 5, width_ratios=[1, 1, 1, max(2.0, 0.3 * k1), max(1.6, 0.25 * len(classes))])
    for i, image in enumerate(X):
        cluster, local = int(extras["cluster"][i]), int(data.subclusters[i])
        prototypes = data.prototypes[i]
        show_image(figure.add_subplot(grid[i, 0]), image, f"test image {data.rows[i]}\nf: {classes[data.targets[i]]}")
        show_image(figure.add_subplot(grid[i, 1]), prototypes[0],
                   f"→ cluster {cluster}\nd = {extras['cluster_distance'][i]:.3g}")
        show_image(figure.add_subplot(grid[i, 2]), prototypes[1],
                   f"→ sub-cluster {cluster}.{local}\nd = {extras['subcluster_distance'][i]:.3g}")
        votes = figure.add_subplot(grid[i, 3])
        heights = extras["learner_proba"][i].max(axis=1)
        votes.bar(range(k1), heights, color=[OWN if j == cluster else OTHER for j in range(k1)])
        for j, height in enumerate(heights):
            vote = extras["votes"][i, j]
            votes.text(j, height + 0.02, str(classes[vote]) if vote >= 0 else "-", ha="center", fontsize=6)
        _bars_axis(votes, "→ base learners' votes", "learner (= cluster)", k1)
        decided = int(extras["decision"][i])
        combiner = figure.add_subplot(grid[i, 4])
        combiner.bar(range(len(classes)), extras["decision_proba"][i],
                     color=[OWN if k == decided else OTHER for k in range(len(classes))])
        _bars_axis(combiner, f"→ combiner: {classes[decided]}\n(p = {extras['decision_proba'][i, decided]:.2f})",
                   "class", len(classes), labels=[str(c) for c in classes])
    figure.suptitle(f"CNN-INTE paths: layer {extras['layer']}, k1 = {k1}, "
                    f"{data.n_subclusters} sub-clusters (prototype: the nearest training image)", fontsize=8)
    return [save_png(figure, path_picture_paths(stem)[0], dpi=100)]


def _bars_axis(axis, title: str, xlabel: str, n: int, labels: list[str] | None = None) -> None:
    axis.set_ylim(0, 1.15)
    axis.set_xticks(range(n), labels if labels is not None else [str(j) for j in range(n)])
    axis.tick_params(labelsize=6)
    axis.set_title(title, fontsize=7)
    axis.set_xlabel(xlabel, fontsize=6)

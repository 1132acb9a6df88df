"""ATEX's figure on MNIST (Tang et al., Frontiers in Big Data 2022) from stored result rows: the
top-50 intersection of |gradient| under the manipulation attack against epsilon, without defence
(`cnn_tanh`) and with ATEX (`atex`), beside the published curve; the Spearman correlation, the
clean and the FGSM accuracy, which the figure does not give, beside it
(`python scripts/reproduce.py atex-figure`).

The defence's gain (ATEX's intersection minus the undefended net's) comes with a paired
bootstrap 95% confidence interval over the attacked images, from each image's intersection (the
per-instance values the run keeps beside each metric row, bench/results/units.py VALUES). Paired:
both nets of one seed are attacked on the same test images (the run draws its sample from the
task, fold and seed alone), so an image's difficulty cancels in its own difference. The
statistic is the mean over seeds of each seed's mean difference, as `ours` is, and the bootstrap
has two levels: with several seeds it draws seeds with replacement (how much the gain depends on
the nets trained), then, within each seed drawn, its images with replacement (on which images
were attacked); the pairs live within a seed. With one seed only the images are drawn, and the
interval holds no training variance: the note says how many seeds it rests on. The gain's
spread over seeds is its `ours_std`.

The gain is reproduced only where the interval excludes 0 on the paper's side and holds the
paper's gain as transcribed. The transcription's stated precision (AGREEMENT, 0.05) is not
counted: it is as large as the paper's gains themselves (0.047 to 0.060), so counted it would
make the paper's own gain indistinguishable from 0 and let any positive gain pass, while the
figure shows the two curves apart at every epsilon: their gap is read far better than their
level.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.papers.reproduction import (MNIST_ONLINE, Launch, Option, Reproduction, columns, output_dir,
                                       read_published, seeds, write_result)
from bench.results import ResultStore
from bench.results.units import VALUES, StoredMetricUnit

PUBLISHED = "baselines/atex_figure_topk_intersection.csv"
EXPERIMENT = "paper_atex_figure"
EPSILONS = (0.02, 0.04, 0.06, 0.08)
MODELS = {"cnn_tanh": "no defence", "atex": "ATEX"}
BASE, DEFENDED = MODELS  # the gain is DEFENDED's intersection minus BASE's
AGREEMENT = 0.05  # the figure was transcribed by eye: differences up to this count as agreement
PAPER_STEPS = 1200  # 2 epochs over MNIST's 60,000 images in batches of 100 (conf/model/cnn_tanh.yaml)
PAPER_IMAGES = 1000  # the test images the paper attacks
RESAMPLES = 10_000  # bootstrap resamples: a bound's Monte-Carlo error is ~3% of the gain's standard error
BOOTSTRAP_SEED = 0  # the same per-image values give the same interval
CONFIDENCE = 0.95
COLUMNS = columns(epsilon="column", ci_low="ours", ci_high="ours", n_images="n_seeds")
PLOT = "atex-figure"  # the stem of the figure's PNG


def entry(measure: str, epsilon: float) -> str:
    """The metric entry of conf/metrics/atex_figure.yaml for `measure` (topk, spearman) at epsilon."""
    return f"{measure}_at_{epsilon:.2f}".replace(".", "_")


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """row (quantity), column (model), epsilon, ours (mean over seeds), ours_std, n_seeds, n_images."""
    ok = rows[rows["status"] == "ok"]
    quantities = [(f"{measure}_intersection" if measure == "topk" else measure, entry(measure, eps), eps)
                  for eps in EPSILONS for measure in ("topk", "spearman")]
    quantities += [("accuracy", "accuracy", np.nan), ("fgsm_accuracy", "fgsm_accuracy", np.nan)]
    out = []
    for model in MODELS:
        for quantity, metric, eps in quantities:
            chosen = ok[(ok["model"] == model) & (ok["metric"] == metric)]
            per_seed = chosen.groupby("seed")["value"].mean()
            out.append({"row": quantity, "column": model, "epsilon": eps,
                        "ours": per_seed.mean() if len(per_seed) else np.nan,
                        "ours_std": per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan, "n_seeds": len(per_seed),
                        "n_images": chosen["n_instances"].max() if len(chosen) else np.nan})
    return pd.DataFrame(out)


def per_image(rows: pd.DataFrame, store: ResultStore) -> pd.DataFrame:
    """model, seed, epsilon, image (its place in the seed's explained sample), value: each attacked
    image's top-50 intersection, from the per-instance values stored beside each ok row of the
    figure's top-K entries; a row stored without them (scored before the run kept them) is left
    out, and its epsilon gets no interval."""
    topk = {entry("topk", eps): eps for eps in EPSILONS}
    chosen = rows[(rows["status"] == "ok") & rows["metric"].isin(list(topk)) & rows["model"].isin(list(MODELS))]
    out = []
    for row in chosen.itertuples():
        values = store.load_artifact(StoredMetricUnit(row.unit), VALUES)
        if values is not None:
            out.append(pd.DataFrame({"model": row.model, "seed": row.seed, "epsilon": topk[row.metric],
                                     "image": np.arange(len(values)), "value": np.asarray(values, dtype=float)}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["model", "seed", "epsilon", "image",
                                                                               "value"])


def paired_differences(images: pd.DataFrame, epsilon: float) -> list[np.ndarray]:
    """Per seed with both nets' per-image values at `epsilon`, DEFENDED's minus BASE's
    intersection of each image both scored, in seed order."""
    at = images[images["epsilon"] == epsilon].set_index(["seed", "image", "model"])["value"].unstack("model")
    if not {BASE, DEFENDED} <= set(at.columns):
        return []
    differences = (at[DEFENDED] - at[BASE]).dropna()  # NaN: an image after the metric's n_instances
    return [group.to_numpy() for _, group in differences.groupby(level="seed")]


def paired_bootstrap_ci(differences: list[np.ndarray], *, resamples: int = RESAMPLES,
                        seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """The percentile CONFIDENCE interval of the mean over seeds of each seed's mean paired
    difference (one array per seed, an entry per image): each resample draws the seeds with
    replacement (with several), then each drawn seed's images, the same draw for both nets (the
    difference is resampled whole)."""
    rng = np.random.default_rng(seed)
    per_seed = np.stack([_resampled_means(d, resamples, rng) for d in differences])  # (seeds, resamples)
    drawn = rng.integers(0, len(differences), size=(len(differences), resamples)) if len(differences) > 1 \
        else np.zeros((1, resamples), dtype=int)
    means = per_seed[drawn, np.arange(resamples)].mean(axis=0)
    low, high = np.quantile(means, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return float(low), float(high)


def _resampled_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples,) means of `values` drawn with replacement, in chunks of about 4 million draws."""
    step = max(1, 2 ** 22 // len(values))
    return np.concatenate([values[rng.integers(0, len(values), size=(min(step, resamples - start), len(values)))]
                           .mean(axis=1) for start in range(0, resamples, step)])


def compare(summary: pd.DataFrame, published: pd.DataFrame, *, n_train: int = 60000,
            images: pd.DataFrame | None = None) -> pd.DataFrame:
    """Ours beside the paper, and the defence's gain (ATEX's intersection minus the undefended
    net's) beside the paper's gain: a comparison that does not depend on how fragile the
    undefended net itself is, with its paired bootstrap interval where `images` (per_image's)
    holds the per-image values of every seed of both nets. `n_train`: the training images,
    which the notes' reasons cite."""
    paper = published.rename(columns={"model": "column", "value": "paper"}).assign(row="topk_intersection")
    both = summary.merge(paper[["row", "column", "epsilon", "paper"]], on=["row", "column", "epsilon"], how="left")
    curve = both[both["row"] == "topk_intersection"].set_index(["epsilon", "column"])
    gains = pd.DataFrame([_gain(curve.loc[eps], eps, images) for eps in EPSILONS])
    both = pd.concat([both, gains], ignore_index=True)
    both["diff"] = both["ours"] - both["paper"]
    reproduced = {row.epsilon: gain_verdict(row.ci_low, row.ci_high, row.paper) == "reproduced"
                  for row in gains.itertuples()}
    both["note"] = [_note(row, n_train, reproduced.get(row.epsilon, False)) for row in both.itertuples()]
    return both.assign(table=FIGURE.name)[COLUMNS]


def _gain(curve: pd.DataFrame, epsilon: float, images: pd.DataFrame | None) -> dict:
    """The gain's row at `epsilon` from the two curves' rows (indexed by model); its interval, and
    its standard deviation over seeds, only where every seed of both nets has its per-image values."""
    base, defended = curve.loc[BASE], curve.loc[DEFENDED]
    differences = [] if images is None else paired_differences(images, epsilon)
    complete = bool(differences) and len(differences) == base["n_seeds"] == defended["n_seeds"]
    low, high = paired_bootstrap_ci(differences) if complete else (np.nan, np.nan)
    spread = np.std([d.mean() for d in differences], ddof=1) if complete and len(differences) > 1 else np.nan
    return {"row": "topk_gain", "column": f"{DEFENDED} - {BASE}", "epsilon": epsilon,
            "ours": defended["ours"] - base["ours"], "ci_low": low, "ci_high": high, "ours_std": spread,
            "n_seeds": min(base["n_seeds"], defended["n_seeds"]), "n_images": defended["n_images"],
            "paper": defended["paper"] - base["paper"]}


def gain_verdict(low: float, high: float, paper: float) -> str:
    """What the gain's interval [low, high] says beside the paper's gain: "no interval",
    "not distinguishable from 0" (it covers 0), "opposite" (it excludes 0 on the other side of
    the paper's), "reproduced" (it holds the paper's gain), or "smaller" or "larger" than it."""
    if pd.isna(low) or pd.isna(high):
        return "no interval"
    if low <= 0 <= high:
        return "not distinguishable from 0"
    if np.sign(low) != np.sign(paper):
        return "opposite"
    if high < paper:
        return "smaller"
    if low > paper:
        return "larger"
    return "reproduced"


def _note(row, n_train: int, gain_reproduced: bool) -> str:
    """Agreement, or the reasons the rows and the README's measurements support for a
    difference: the undefended curve sits higher when the net trained on fewer images (measured
    with the paper's 1,200 steps: within 0.054); ATEX, fine-tuned from that net, sits higher with
    it where the defence's gain is reproduced; fewer attacked images add noise. The gain's note
    is its interval's verdict (_gain_note)."""
    if pd.isna(row.paper):
        return "ours only: the figure gives the top-50 intersection"
    if pd.isna(row.ours):
        return "no stored rows for this quantity"
    if row.row == "topk_gain":
        return _gain_note(row, n_train)
    if abs(row.diff) <= AGREEMENT:
        return "agrees (|diff| <= 0.05, the transcription's precision)"
    reasons = []
    if row.diff > 0 and n_train < 60000:
        steps = round(PAPER_STEPS * n_train / 60000)
        trained = (f"the undefended net trained on {n_train:,} images: 2 epochs are {steps:,} Adam steps against "
                   f"the paper's {PAPER_STEPS:,}, and the less trained net's |gradient| moves less under the attack "
                   f"(trained for {PAPER_STEPS:,} steps, its curve comes within 0.054 of the paper's: README)")
        if row.column == BASE:
            reasons.append(trained)
        elif gain_reproduced:
            reasons.append(f"ATEX fine-tunes {trained}; the defence's gain at this epsilon is reproduced")
    reasons += _fewer_images(row)
    return "differs by more than the transcription's 0.05: " + ("; ".join(reasons) or "no reason known")


def _gain_note(row, n_train: int) -> str:
    """The gain beside the paper's, with its interval, what the interval says and, where it
    does not hold the paper's gain, the reasons the rows support: the nets' shorter training
    (README: trained for the paper's 1,200 steps, ATEX's gain is +0.11 to +0.16, so the gain
    moves with the training) and fewer attacked images."""
    verdict = gain_verdict(row.ci_low, row.ci_high, row.paper)
    paper = f"the paper's {row.paper:+.3f}"
    if verdict == "no interval":
        return (f"the defence's gain {row.ours:+.3f} ({paper}) has no confidence interval: the per-image values of "
                "some seed's top-K rows are not stored (scored before the run kept them; remove those rows, or rerun "
                "with force=true, to score them again), so it is not called reproduced")
    gain = (f"the defence's gain {row.ours:+.3f} ({CONFIDENCE:.0%} CI {row.ci_low:+.3f} to {row.ci_high:+.3f}, "
            f"{row.n_images:.0f} images x {row.n_seeds:.0f} seed{'s' * (row.n_seeds != 1)}, paired)")
    if verdict == "reproduced":
        return f"{gain} is reproduced: its interval excludes 0 and holds {paper}"
    phrase = {"not distinguishable from 0": "is not distinguishable from 0, beside",
              "opposite": "excludes 0 on the other side of", "smaller": "excludes 0 but lies below",
              "larger": "excludes 0 but lies above"}[verdict]
    reasons = _fewer_images(row)
    if n_train < 60000:
        steps = round(PAPER_STEPS * n_train / 60000)
        reasons.insert(0, f"both nets trained on {n_train:,} images ({steps:,} Adam steps against the paper's "
                          f"{PAPER_STEPS:,}), and the gain moves with the training (README: trained for "
                          f"{PAPER_STEPS:,} steps, ATEX gains +0.11 to +0.16)")
    return f"{gain} {phrase} {paper}" + "".join(f"; {reason}" for reason in reasons)


def _fewer_images(row) -> list[str]:
    if pd.notna(row.n_images) and row.n_images < PAPER_IMAGES:
        return [f"{row.n_images:.0f} attacked images, not the paper's {PAPER_IMAGES:,}"]
    return []


def plot(result: pd.DataFrame, path: Path) -> None:
    """Top-50 intersection against epsilon: ours solid, the paper's dashed, one colour per model."""
    from bench.core.figures import save_png  # first: it sets matplotlib's file-only backend

    import matplotlib.pyplot as plt

    curve = result[result["row"] == "topk_intersection"]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for (model, label), colour in zip(MODELS.items(), ("tab:red", "tab:blue"), strict=True):
        points = curve[curve["column"] == model].sort_values("epsilon")
        ax.plot(points["epsilon"], points["ours"], "-o", color=colour, label=f"{label}, ours")
        ax.plot(points["epsilon"], points["paper"], "--s", color=colour, alpha=0.7, label=f"{label}, paper")
    images = curve["n_images"].max()
    ax.set(xlabel="epsilon (L_inf)", ylabel="top-50 intersection",
           title="Attack on |gradient|, MNIST" + (f", {images:.0f} images" if pd.notna(images) else ""))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_png(fig, path, dpi=120)  # laid out, written atomically, closed


def run_figure(args: argparse.Namespace, launch: Launch) -> list:
    overrides = [f"paths.results={args.results}", f"data.offline={str(not args.online).lower()}",
                 f"seed=range({args.seeds})", f"explain.n_instances={args.images}", *args.overrides]
    print(f"{FIGURE.name}: experiment={EXPERIMENT} as a Hydra multirun (cnn_tanh, then atex, x seeds; the attack "
          f"on {args.images} test images); stored units are reused", flush=True)
    sweep = launch(EXPERIMENT, overrides)
    if sweep.finished:
        store = ResultStore(args.results)
        rows = store.read_all()
        rows = rows[rows["unit"].isin(sweep.unit_keys())]
        n_train = int(rows["n_train"].dropna().iloc[0])
        images = per_image(rows, store)
        result = compare(summarise(rows), read_published(PUBLISHED), n_train=n_train, images=images)
        attacked = result.loc[result["row"] == "topk_intersection", "n_images"].max()
        print(f"\nMNIST, {n_train:,} training images; the attack on {attacked:.0f} test images; ours = mean over "
              f"seeds; the gain's {CONFIDENCE:.0%} CI: a paired bootstrap over the images ({RESAMPLES:,} resamples)")
        print(result[["row", "column", "epsilon", "ours", "ci_low", "ci_high", "paper", "diff", "note"]]
              .to_string(index=False, float_format="%.3f", na_rep=""))
        print_speed(rows)
        figure = output_dir(args.results) / f"{PLOT}.png"
        plot(result, figure)
        print(f"\nwrote {figure}")
        write_result(result, FIGURE.name, args)
    return [sweep]


def print_speed(rows: pd.DataFrame) -> None:
    """Images attacked per second and the models' training seconds."""
    # The top-K and Spearman rows of one epsilon share one attack: its time is in one of them.
    attack = rows[rows["metric"].str.match(r"(topk|spearman)_at_") & (rows["status"] == "ok")]
    fits = rows[(rows["metric"] == "fit_seconds") & (rows["status"] == "ok")]
    print("\nspeed: " + ", ".join(
        f"{m} {g.loc[g['metric'].str.startswith('topk'), 'n_instances'].sum() / g['duration_s'].sum():.1f} "
        "images attacked/s" for m, g in attack.groupby("model"))
          + "; training " + ", ".join(f"{m} {s:.1f}s" for m, s in fits.groupby("model")["value"].mean().items()))


FIGURE = Reproduction(
    name="atex-figure",
    title="ATEX (Tang et al., 2022): top-50 intersection under the manipulation attack",
    about="""ATEX's figure on MNIST (Tang et al., Frontiers in Big Data 2022),
        experiment=paper_atex_figure: cnn_tanh without defence and fine-tuned by ATEX, over --seeds (1),
        the top-k manipulation attack on the |gradient| of --images test images (1,000: the paper's) at
        epsilon 0.02, 0.04, 0.06 and 0.08. With one job at a time (the default), ATEX fine-tunes the
        stored cnn_tanh; with --jobs 2 it trains the same base itself. Prints the top-50 intersection
        beside the published curve (transcribed from the figure: |diff| <= 0.05 is agreement), the
        defence's gain with its paired bootstrap 95% CI over the images (reproduced where the CI
        excludes 0 and holds the paper's gain), the Spearman correlation, the clean and FGSM
        accuracy, the attack's speed, and writes <results>/reproduction/atex-figure.csv and
        atex-figure.png (ours solid, the paper dashed).""",
    experiment=EXPERIMENT,
    published=PUBLISHED,
    run=run_figure,
    options=(MNIST_ONLINE, seeds(1),
             Option("--images", "test images attacked (default 1000, the paper's; ~135 s per epsilon and model on "
                    "one CPU core)", default=PAPER_IMAGES, parse=int)),
    nightly=("--images", "10"),  # 10 attacked images of 1,000
    threshold=AGREEMENT,
    plots=(PLOT,),
)

"""The leaderboard on hand-made rows whose ranks and test statistics are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.markers import MarkerStyle
from scipy import stats

from bench.report.main import main as report_main
from bench.report import plots
from bench.report.leaderboard import build_leaderboard, build_leaderboards
from bench.report.predictors import VIEW
from bench.report.publish import statistics_frame, wide_table, write_leaderboard
from bench.report.statistics import ALPHA, complete_block, mean_ci, rank_test
from bench.results.store import rows_frame
from tests.results.conftest import KNOWN, TASKS, grid, row

def test_ranks_friedman_and_nemenyi_match_a_direct_computation():
    board = build_leaderboard(rows_frame(grid(KNOWN)))
    test = board.tests["accuracy"]
    # Ranks by hand: a is 1 everywhere; b is 2 on five tasks and 2.5 on task5; c 3 and 2.5.
    assert test.mean_ranks.to_dict() == pytest.approx({"a": 1.0, "b": (5 * 2 + 2.5) / 6, "c": (5 * 3 + 2.5) / 6})
    direct = stats.friedmanchisquare(*[KNOWN[m] for m in "abc"])
    assert test.test == "Friedman"
    assert test.statistic == pytest.approx(direct.statistic)
    assert test.pvalue == pytest.approx(direct.pvalue)
    # Nemenyi: q_alpha of the studentized range over sqrt(2), times sqrt(k(k+1) / 6N).
    k, n = 3, 6
    q = stats.studentized_range.ppf(1 - ALPHA, k, np.inf) / np.sqrt(2)
    assert test.critical_difference == pytest.approx(q * np.sqrt(k * (k + 1) / (6 * n)), rel=1e-3)
    summary = board.summary.set_index(["predictor", "metric"])
    assert summary.loc[("a", "roc_auc"), "mean_rank"] == 1.0
    assert summary.loc[("a", "roc_auc"), "mean"] == pytest.approx(np.mean(KNOWN["a"]))


def test_identical_rankings_on_every_task_give_the_largest_friedman_statistic():
    # Analytically, chi2 = 12 / (N k (k+1)) * sum_j R_j^2 - 3 N (k+1) = N (k-1) when all agree.
    values = {"a": [3.0] * 6, "b": [2.0] * 6, "c": [1.0] * 6, "d": [0.0] * 6}
    test = rank_test("x", pd.DataFrame(values, index=TASKS), higher_is_better=True)
    assert test.statistic == pytest.approx(6 * 3)
    assert test.mean_ranks.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_lower_is_better_ranks_the_smallest_value_first():
    # Within each predictor, e (lower) beats f on every task; random is the floor, at 1.
    rows = grid(KNOWN) + grid({m: [1.0] * 6 for m in KNOWN}, explainer="random", metric="deletion_auc",
                              higher_is_better=False) \
        + grid({m: [0.2] * 6 for m in KNOWN}, explainer="e", metric="deletion_auc", higher_is_better=False) \
        + grid({m: [0.6] * 6 for m in KNOWN}, explainer="f", metric="deletion_auc", higher_is_better=False)
    test = build_leaderboard(rows_frame(rows)).tests["deletion_auc"]
    assert set(test.mean_ranks.index[:3]) == {"a · e", "b · e", "c · e"} and test.mean_ranks.iloc[0] == 2.0
    assert "random" not in " ".join(test.mean_ranks.index)  # 0 by construction: the floor, not an entry


def test_mean_ci_is_the_student_t_interval():
    mean, half = mean_ci([1.0, 2.0, 3.0, np.nan])
    assert mean == 2.0
    assert half == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3))
    assert np.isnan(mean_ci([5.0])[1])


def test_complete_block_drops_whichever_loses_fewer_cells():
    matrix = pd.DataFrame(KNOWN, index=TASKS)
    straggler = matrix.assign(d=[0.5] + [np.nan] * 5)  # d on 1 task: dropping d loses 1 cell
    full, tasks, entries = complete_block(straggler)
    assert entries == ["d"] and tasks == [] and full.shape == (6, 3)
    one_hole = matrix.assign(d=[np.nan] + [0.5] * 5)  # dropping task0 loses 3 cells, d 5
    full, tasks, entries = complete_block(one_hole)
    assert tasks == ["task0"] and entries == [] and full.shape == (5, 4)


def test_an_incomplete_grid_is_reported_and_left_out_of_the_test():
    values = dict(KNOWN, d=[0.99, 0.99, 0.99, 0.99, 0.99, np.nan])
    board = build_leaderboard(rows_frame(grid(values)))
    assert any(note.startswith("d: no accuracy (roc_auc) on 1 of 6 tasks (task5)") for note in board.notes["accuracy"])
    test = board.tests["accuracy"]
    assert test.dropped_tasks == ["task5"] and test.n_tasks == 5
    assert "task5" in test.describe()
    assert board.summary.set_index("predictor").loc["d", "entry_tasks"] == 5


def test_complete_block_keeps_enough_tasks_for_a_test():
    # Dropping task4 loses 4 cells and dropping d loses 4, but only dropping d leaves 5 tasks.
    matrix = pd.DataFrame(KNOWN, index=TASKS).iloc[:5].assign(d=[0.5, 0.5, 0.5, 0.5, np.nan])
    full, tasks, entries = complete_block(matrix)
    assert entries == ["d"] and tasks == [] and full.shape == (5, 3)
    assert rank_test("x", matrix, higher_is_better=True).test == "Friedman"


def test_two_entries_get_a_wilcoxon_signed_rank_test():
    values = {"a": KNOWN["a"], "b": KNOWN["b"]}
    test = rank_test("x", pd.DataFrame(values, index=TASKS), higher_is_better=True)
    direct = stats.wilcoxon(values["a"], values["b"])
    assert test.test == "Wilcoxon signed-rank"
    assert (test.statistic, test.pvalue) == pytest.approx((direct.statistic, direct.pvalue))


def test_no_post_hoc_after_an_insignificant_friedman_test(tmp_path):
    # Each entry wins on two tasks: no difference in mean ranks at all.
    values = {"a": [3, 2, 1, 3, 2, 1], "b": [2, 1, 3, 2, 1, 3], "c": [1, 3, 2, 1, 3, 2]}
    test = rank_test("x", pd.DataFrame(values, index=TASKS, dtype=float), higher_is_better=True)
    assert test.test == "Friedman" and test.statistic == pytest.approx(0.0) and not test.significant
    assert "no post-hoc test" in test.describe() and "CD =" not in test.describe()
    assert plots.cd_diagram(test, tmp_path / "cd.png") is None


def test_entries_that_tie_on_every_task_are_not_tested():
    test = rank_test("x", pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0)}, index=TASKS), True)
    assert test.test is None and test.problem == "every entry ties on every task"


def test_a_metric_missing_for_one_pair_is_reported_with_its_tasks():
    rows = grid(KNOWN, explainer="e", metric="deletion_auc", higher_is_better=False) \
        + grid({m: [0.5] * 6 if m != "a" else [0.5, 0.5, 0.5] + [np.nan] * 3 for m in KNOWN},
               explainer="e", metric="sparseness", category="complexity")
    notes = build_leaderboard(rows_frame(rows)).notes["explanations"]
    assert notes[-1:] == ["a · e: no explanation scores (sparseness) on 3 of 6 tasks (task3, task4, task5); "
                          "those means are over the other 3."]


def test_a_diagnostic_row_is_summarised_but_never_ranked():
    rows = grid(KNOWN, explainer="e", metric="manipulation_topk", category="robustness") \
        + grid({m: [0.1] * 6 for m in KNOWN}, explainer="random", metric="manipulation_topk", category="robustness") \
        + grid(KNOWN, explainer="e", metric="manipulation_surrogate", category="diagnostic", higher_is_better=False) \
        + grid(KNOWN, explainer="random", metric="manipulation_surrogate", category="diagnostic",
               higher_is_better=False)
    board = build_leaderboard(rows_frame(rows))
    assert "manipulation_topk" in board.tests and "manipulation_surrogate" not in board.tests
    shown = board.summary[board.summary["metric"] == "manipulation_surrogate"]
    assert len(shown) == 6 and shown["mean_rank"].isna().all()


def test_metrics_not_applicable_for_one_reason_share_a_note():
    def not_applicable(metric):
        return {**row("task0", "a", np.nan, explainer="e", metric=metric, status="n/a"),
                "error": f"{metric} scores concepts explanations"}

    rows = grid(KNOWN) + [not_applicable("cns_2"), not_applicable("cns_2_5")]
    notes = [note for notes in build_leaderboard(rows_frame(rows)).notes.values() for note in notes]
    assert "e: cns_2, cns_2_5 scores concepts explanations (2 rows)" in " ".join(notes)


def test_rows_stored_before_model_configs_were_recorded_join_the_recorded_one():
    rows = grid(KNOWN, model_config=None) + grid(KNOWN, explainer="e", metric="deletion_auc", higher_is_better=False)
    board = build_leaderboard(rows_frame(rows))
    assert set(board.primary.columns) == {"a", "b", "c"}
    assert set(board.summary["predictor"]) == {"a", "b", "c"}


def test_non_finite_values_and_many_models_still_give_every_file(tmp_path):
    models = {f"m{i:02d}": [0.5 + 0.01 * i] * 6 for i in range(12)}  # more models than colours
    rows = grid(models) + grid(models, explainer="e", metric="deletion_auc", higher_is_better=False) \
        + grid({m: [0.9] * 6 for m in models}, explainer="random", metric="deletion_auc", higher_is_better=False) \
        + [row("task0", "m00", np.nan, metric="log_loss", higher_is_better=False),
           row("task1", "m00", np.inf, metric="log_loss", higher_is_better=False)]
    files = write_leaderboard({"tabular": build_leaderboard(rows_frame(rows))}, tmp_path)
    assert "tabular-accuracy-vs-quality" in files and "log_loss" not in files["leaderboard.md"].read_text()


def test_too_few_tasks_give_neither_ranks_nor_a_test_and_say_why(tmp_path):
    rows = [r for r in grid(KNOWN) + grid(KNOWN, explainer="e", metric="deletion_auc", higher_is_better=False)
            + grid({m: [0.9] * 6 for m in KNOWN}, explainer="random", metric="deletion_auc", higher_is_better=False)
            if r["dataset"] in TASKS[:3]]
    board = build_leaderboard(rows_frame(rows))
    assert board.tests == {} and board.summary["mean_rank"].isna().all()
    assert any(note.startswith("3 tasks: no ranks and no rank test") for note in board.notes["accuracy"])
    text, _ = wide_table(board, "accuracy")
    assert "mean rank ↓" not in text.columns and text["predictor"].tolist() == ["a", "b", "c"]  # by AUROC
    files = write_leaderboard({"tabular": board}, tmp_path)
    assert not [name for name in files if "cd-" in name] and not list(tmp_path.glob("*cd-*.png"))


def test_the_latest_run_wins_a_cell_and_configurations_stay_apart():
    rows = grid(KNOWN) + [row("task0", "a", 0.1, run_id="run-2")]
    board = build_leaderboard(rows_frame(rows))
    assert board.primary.loc["task0", "a"] == 0.1
    assert any("1 row(s) stored by an earlier run" in note for note in board.notes["data"])
    other = build_leaderboard(rows_frame(grid(KNOWN) + grid({"a": [0.5] * 6}, model_config="c2")))
    assert {"a [c1]", "a [c2]", "b", "c"} == set(other.primary.columns)


def test_the_page_escapes_names_from_the_data(tmp_path):
    evil = "<script>alert(1)</script>"
    rows = grid(KNOWN) + [row(evil, m, 0.5) for m in KNOWN] + [row(evil, "a", 0.2, explainer=evil, metric="deletion_auc")]
    files = write_leaderboard({"tabular": build_leaderboard(rows_frame(rows))}, tmp_path, source=evil)
    page = files["index.html"].read_text()
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # only the page's own sorting script


def test_report_writes_the_leaderboard_of_every_stored_row(tmp_path, capsys):
    deletion = {"metric": "deletion_auc", "higher_is_better": False}
    rows = grid(KNOWN) + grid(KNOWN, explainer="e", **deletion) + grid({m: [0.5] * 6 for m in KNOWN}, explainer="f",
                                                                       **deletion) \
        + grid({m: [1.0] * 6 for m in KNOWN}, explainer="random", **deletion) \
        + grid({m: [0.01] * 6 for m in KNOWN}, explainer="e", metric="wall_seconds_per_instance", category="cost")
    (tmp_path / "rows").mkdir()
    rows_frame(rows).to_parquet(tmp_path / "rows" / "hand.parquet")
    assert report_main(["--results", str(tmp_path)]) == 0
    folder = tmp_path / "leaderboard"
    for name in ("leaderboard.md", "leaderboard.csv", "statistics.csv", "index.html", "tabular-cd-accuracy.png",
                 "tabular-cd-deletion_auc.png", "tabular-accuracy-per-task.png", "tabular-accuracy-vs-deletion_auc.png",
                 "tabular-cost-per-explainer.png"):
        assert (folder / name).stat().st_size > 0, name
    statistics = pd.read_csv(folder / "statistics.csv", keep_default_na=False).set_index("compared")
    assert statistics.loc["accuracy", "test"] == "Friedman"
    assert statistics.loc["deletion_auc", "n_tasks"] == 6
    page = (folder / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 5
    assert "Friedman test over 6 tasks × 3 entries" in capsys.readouterr().out


def test_report_on_an_empty_folder_says_what_to_do(tmp_path, capsys):
    (tmp_path / "rows").mkdir()
    assert report_main(["--results", str(tmp_path)]) == 2
    assert "run `python -m bench` first" in capsys.readouterr().err


def test_report_on_a_mistyped_folder_creates_nothing(tmp_path, capsys):
    assert report_main(["--results", str(tmp_path / "reslts")]) == 2
    assert "holds no results" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_statistics_frame_lists_every_test():
    board = build_leaderboard(rows_frame(grid(KNOWN)))
    frame = statistics_frame(board)
    assert frame["compared"].tolist() == ["accuracy"] and frame["n_entries"].iloc[0] == 3
    assert frame["what"].tolist() == ["accuracy (roc_auc, by task)"]


def test_an_interpreters_fidelity_sits_beside_the_accuracy_without_a_rank():
    rows = grid(KNOWN) + grid({"a": [0.97] * 6}, metric="fidelity", category="fidelity") \
        + grid({"a": [-0.01] * 6}, metric="accuracy_change", category="fidelity")
    board = build_leaderboard(rows_frame(rows))
    accuracy = board.summary[board.summary["section"] == "accuracy"].set_index(["predictor", "metric"])
    assert accuracy.loc[("a", "fidelity"), "mean"] == pytest.approx(0.97)
    assert accuracy.loc[("a", "accuracy_change"), "mean"] == pytest.approx(-0.01)
    assert np.isnan(accuracy.loc[("a", "fidelity"), "mean_rank"])
    alone = build_leaderboard(rows_frame(grid(KNOWN))).tests["accuracy"].mean_ranks
    pd.testing.assert_series_equal(board.tests["accuracy"].mean_ranks, alone)  # ranked on AUROC alone
    assert "fidelity" not in board.tests


def scatter_points(figure):
    """The scatter's points (the error bars are line collections), each as (x, y, size, is a star,
    is a diamond)."""
    star, diamond = (MarkerStyle(m).get_path().vertices.shape for m in ("*", "D"))
    return [(*c.get_offsets()[0], float(c.get_sizes()[0]), c.get_paths()[0].vertices.shape == star,
             c.get_paths()[0].vertices.shape == diamond)
            for c in figure.axes[0].collections if isinstance(c, PathCollection)]


def test_the_scatter_marks_native_explanations_and_sizes_points_by_cost(tmp_path, monkeypatch):
    deletion = {"metric": "deletion_auc", "higher_is_better": False}
    rows = grid(KNOWN) + grid({m: [0.3] * 6 for m in KNOWN}, explainer="native", **deletion) \
        + grid({m: [0.2] * 6 for m in KNOWN}, explainer="kernel_shap", **deletion) \
        + grid({m: [0.8] * 6 for m in KNOWN}, explainer="random", **deletion) \
        + grid({m: [0.001] * 6 for m in KNOWN}, explainer="native", metric="wall_seconds_per_instance",
               category="cost") \
        + grid({m: [1.0] * 6 for m in KNOWN}, explainer="kernel_shap", metric="wall_seconds_per_instance",
               category="cost")
    board = build_leaderboard(rows_frame(rows))
    drawn = []
    monkeypatch.setattr(plots, "save_png", lambda figure, path: drawn.append(figure) or path)
    assert plots.accuracy_vs_quality(board.summary, board.headline, "deletion_auc", board.headline_metrics,
                                     tmp_path / "x.png")
    points = scatter_points(drawn[0])
    assert len(points) == 6  # 3 models x 2 explainers; random, 0 by construction, is the dashed line
    assert sorted({size for _, _, size, _, _ in points}) == [30.0, 300.0]  # the cheapest and the dearest
    # Stars (the native explanations) are the cheap ones, at (0.8 - 0.3) / (0.8 - 0.2) of the way
    # from random to the best (kernel SHAP, at 1); circles kernel SHAP.
    for x, y, size, is_star, is_diamond in points:
        assert is_star == (size == 30.0) and not is_diamond
        assert y == pytest.approx(5 / 6 if is_star else 1.0)
        assert min(abs(x - np.mean(values)) for values in KNOWN.values()) < 1e-12  # the model's mean AUROC


def test_a_leaderboard_per_modality_with_its_own_ranks_figures_and_sections(tmp_path):
    images = [{**r, "suite": "mnist", "input_kind": "image"}
              for r in grid({"cnn": [0.9] * 6, "flint": [0.8] * 6}, metric="accuracy")]
    older = [{**r, "suite": "mnist"} for r in grid({"cnn_tanh": [0.7] * 6}, metric="accuracy")]  # before input_kind
    rows = rows_frame(grid(KNOWN) + images + older)
    boards = build_leaderboards(rows)
    assert list(boards) == ["tabular", "image"]
    assert sorted(boards["image"].tests["accuracy"].mean_ranks.index) == ["cnn", "cnn_tanh", "flint"]
    assert sorted(boards["tabular"].tests["accuracy"].mean_ranks.index) == ["a", "b", "c"]
    files = write_leaderboard(boards, tmp_path)
    assert {"tabular-cd-accuracy", "image-cd-accuracy"} <= set(files)
    assert (tmp_path / "image-cd-accuracy.png").is_file() and not (tmp_path / "cd-accuracy.png").exists()
    # A modality's names do not depend on the others: the tabular rows alone write the same files.
    alone = write_leaderboard(build_leaderboards(rows_frame(grid(KNOWN))), tmp_path / "alone")
    assert {name for name in alone if name.endswith("cd-accuracy")} == {"tabular-cd-accuracy"}
    summary = pd.read_csv(tmp_path / "leaderboard.csv")
    assert list(summary.columns)[0] == "modality" and set(summary["modality"]) == {"tabular", "image"}
    assert set(summary.loc[summary["modality"] == "image", "predictor"]) == {"cnn", "cnn_tanh", "flint"}
    page = (tmp_path / "index.html").read_text()
    for section in ("Tabular data: Accuracy per predictor", "Images: Accuracy per predictor",
                    'id="image-accuracy-table"', 'id="tabular-accuracy-table"'):
        assert section in page
    markdown = (tmp_path / "leaderboard.md").read_text()
    assert "# Leaderboard: Tabular data" in markdown and "# Leaderboard: Images" in markdown


def test_a_modality_whose_rows_all_failed_says_so_in_its_section(tmp_path):
    failed = [{**r, "suite": "mnist", "input_kind": "image", "status": "failed", "value": float("nan")}
              for r in grid({"cnn": [0.9] * 6})]
    boards = build_leaderboards(rows_frame(grid(KNOWN) + failed))
    assert boards["image"].empty and not boards["tabular"].empty
    write_leaderboard(boards, tmp_path)
    page = (tmp_path / "index.html").read_text()
    image = page[page.index("Images: Accuracy per predictor"):]
    assert "No finished result for this modality." in image and "6 failed row(s) are missing cells" in image


def test_our_attribution_views_are_drawn_apart_from_inherent_explanations(tmp_path, monkeypatch):
    # Rows stored before g's explanations had rows of their own: FLINT's and FLINT post-hoc's
    # native explanations sit on the model, which has an interpreter entry; dtree's is inherent.
    models = {"flint": [0.9] * 6, "flint_posthoc": [0.8] * 6, "dtree": [0.7] * 6}
    deletion = {"metric": "deletion_auc", "higher_is_better": False}
    rows = grid(models) + grid({"flint:g": [0.6] * 6, "flint_posthoc:g": [0.7] * 6}, metric="fidelity",
                               category="fidelity") \
        + grid({m: [0.4] * 6 for m in models}, explainer="native", **deletion) \
        + grid({m: [0.2] * 6 for m in models}, explainer="ig", **deletion) \
        + grid({m: [0.9] * 6 for m in models}, explainer="random", **deletion)
    board = build_leaderboard(rows_frame(rows))
    explainers = board.summary.loc[board.summary["section"] == "explanations"].groupby("predictor")["explainer"]
    assert {p: sorted(e) for p, e in explainers.unique().items()} == {
        "dtree": ["ig", "native", "random"], "flint": ["ig", VIEW, "random"], "flint_posthoc": ["ig", VIEW, "random"]}
    drawn = []
    monkeypatch.setattr(plots, "save_png", lambda figure, path: drawn.append(figure) or path)
    assert plots.accuracy_vs_quality(board.summary, board.headline, "deletion_auc", board.headline_metrics,
                                     tmp_path / "x.png")
    # By accuracy, left to right: dtree (a star: its own, inherent), flint_posthoc and flint (diamonds).
    natives = sorted((x, is_star, is_diamond) for x, y, _, is_star, is_diamond in scatter_points(drawn[0]) if y < 1)
    assert [(is_star, is_diamond) for _, is_star, is_diamond in natives] == [(True, False), (False, True),
                                                                             (False, True)]

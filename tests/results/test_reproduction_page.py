"""The page of reproductions (bench/report/reproductions.py) from a folder made by hand:
every paper listed, differences over the threshold with their reasons, plots shown, strings
escaped; and `python -m bench.report` writing it beside the leaderboard."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.report.main import main as report
from bench.papers import REPRODUCTIONS
from bench.report.reproductions import NO_REASON, read_reproductions, reproductions_html
from bench.results.store import rows_frame
from tests.results.conftest import KNOWN, grid

EVIL = "<script>alert(1)</script>"


def write(folder, name, rows):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)


def a_png(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(2, 2))
    axis.plot([0, 1], [0, 1])
    figure.savefig(path)
    plt.close(figure)


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "reproduction"
    # IMN Table 8's CSV has no note column: a difference over 0.02 has no reason recorded.
    write(folder, "imn-table8", [
        {"table": "imn-table8", "row": "credit-g", "column": "hyperlinear", "ours": 0.80, "paper": 0.775, "diff": 0.025},
        {"table": "imn-table8", "row": EVIL, "column": "logreg", "ours": 0.90, "paper": 0.89, "diff": 0.01},
    ])
    write(folder, "atex-figure", [
        {"table": "atex-figure", "row": "topk_intersection", "column": "atex", "ours": 0.86, "paper": 0.76,
         "diff": 0.10, "note": "trained 12x shorter"},
        {"table": "atex-figure", "row": "topk_intersection", "column": "cnn_tanh", "ours": 0.72, "paper": 0.70,
         "diff": 0.02, "note": "agrees"},
    ])
    a_png(folder / "atex-figure.png")
    return folder


def test_every_paper_is_listed_and_each_difference_over_its_threshold_has_a_reason(folder):
    found = {r.reproduction.name: r for r in read_reproductions(folder)}
    assert list(found) == [reproduction.name for reproduction in REPRODUCTIONS]
    assert found["flint-table1"].rows is None and found["cnn-inte"].rows is None
    table8 = found["imn-table8"].flagged()
    assert list(table8["row"]) == ["credit-g"] and list(table8["reason"]) == [NO_REASON]
    atex = found["atex-figure"].flagged()
    assert list(atex["column"]) == ["atex"] and list(atex["reason"]) == ["trained 12x shorter"]
    assert [path.name for path in found["atex-figure"].plots] == ["atex-figure.png"]
    page = reproductions_html(list(found.values()), source=str(folder))
    assert page.count("not run yet") == 2 * 3  # in the list of contents and in the section, for 3 papers
    assert "2 rows, 1 over the threshold (|diff| &gt; 0.02), 1 of them without a recorded reason" in page
    assert "credit-g (hyperlinear): +0.025. no reason recorded" in page
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<img") == 1


def test_the_report_writes_the_page_beside_the_leaderboard_and_links_it(folder, tmp_path, capsys):
    results = tmp_path / "results"
    (results / "rows").mkdir(parents=True)
    rows_frame(grid(KNOWN)).to_parquet(results / "rows" / "u.parquet")
    assert report(["--results", str(results), "--reproductions", str(folder), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "reproductions.html").read_text()
    assert "ATEX (Tang et al., 2022)" in page
    assert 'href="reproductions.html"' in (tmp_path / "out" / "index.html").read_text()


@pytest.mark.e2e
def test_the_reproductions_page_in_a_browser_lists_every_paper_sorts_and_shows_its_plots(browser, folder, tmp_path):
    results = tmp_path / "results"
    (results / "rows").mkdir(parents=True)
    rows_frame(grid(KNOWN)).to_parquet(results / "rows" / "u.parquet")
    assert report(["--results", str(results), "--reproductions", str(folder), "--out", str(tmp_path / "out")]) == 0
    browser.get((tmp_path / "out" / "index.html").as_uri())
    browser.find_element("link text", "Reproductions of papers").click()
    assert browser.find_element("tag name", "h1").text == "Reproductions of papers"
    assert [h.text for h in browser.find_elements("tag name", "h2")] == [reproduction.title for reproduction in REPRODUCTIONS]
    images = browser.find_elements("tag name", "img")
    assert len(images) == 1 and browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", images[0])
    assert browser.execute_script("return document.querySelectorAll('script').length") == 1  # ours alone

    def rows_of(table):
        return [cell.text for cell in browser.find_elements("css selector", f"#{table} tbody tr td:nth-child(1)")]

    table8 = next(t.get_attribute("id") for t in browser.find_elements("css selector", "table.sortable"))
    assert rows_of(table8) == ["credit-g", EVIL]
    diff = next(h for h in browser.find_elements("css selector", f"#{table8} th") if h.text.startswith("diff"))
    diff.click()  # ascending: the smaller difference first
    assert rows_of(table8) == [EVIL, "credit-g"]


def test_an_unreadable_csv_is_named_on_the_page_not_a_crash(folder):
    (folder / "cnn-inte.csv").write_bytes(b'"unclosed\n\xff\xfe')
    found = {r.reproduction.name: r for r in read_reproductions(folder)}
    assert found["cnn-inte"].rows is None and "cnn-inte.csv could not be read" in found["cnn-inte"].problem
    assert "cnn-inte.csv could not be read" in reproductions_html(list(found.values()))


def test_rank_rows_a_claim_of_no_loss_and_a_bad_side_table(folder):
    write(folder, "imn-table8", [
        {"table": "imn-table8", "row": "mean rank", "column": "hyperlinear", "ours": 2.5, "paper": 2.0, "diff": 0.5},
        {"table": "imn-table8", "row": "credit-g", "column": "hyperlinear", "ours": 0.8, "paper": None, "diff": None},
    ])
    write(folder, "cnn-inte", [
        {"table": "cnn-inte", "row": "accuracy_change", "column": "MNIST", "ours": 0.3, "paper": 0.0, "diff": 0.3,
         "note": "the claim holds: no loss"},
        {"table": "cnn-inte", "row": "accuracy_change", "column": "other", "ours": -0.5, "paper": 0.0, "diff": -0.5,
         "note": "a loss of 0.50 points"},
    ])
    (folder / "cnn-inte-sweep.csv").write_bytes(b'"unclosed\n\xff\xfe')
    found = {r.reproduction.name: r for r in read_reproductions(folder)}
    assert found["imn-table8"].flagged().empty  # a rank is not an AUROC: the 0.02 threshold does not apply
    assert list(found["cnn-inte"].flagged()["column"]) == ["other"]  # a gain is no difference from "no loss"
    assert len(found["cnn-inte"].rows) == 2 and "cnn-inte-sweep.csv could not be read" in found["cnn-inte"].problem
    page = reproductions_html(list(found.values()))
    assert "1 without a comparison (no number on one side)" in page and "(diff &lt; -0)" in page


def test_a_csv_without_a_reproductions_columns_is_named_not_a_crash(folder, tmp_path):
    write(folder, "flint-table1", [{"row": "accuracy", "ours": "abc", "paper": 1.0, "diff": "abc", "column": "x"}])
    write(folder, "atex-figure", [{"ours": 1.0}])
    found = {r.reproduction.name: r for r in read_reproductions(folder)}
    assert "its column ours holds text where numbers go" in found["flint-table1"].problem
    assert "lacks the column(s) row, column, paper, diff" in found["atex-figure"].problem
    assert found["atex-figure"].rows is None and "(unreadable)" in reproductions_html(list(found.values()))


def test_the_page_says_which_command_wrote_each_csv(folder):
    from bench.papers.reproduction import read_run, write_run

    write_run(folder, "atex-figure", "python scripts/reproduce.py atex-figure --images 10", 251.0)
    (folder / "imn-table8.run.json").write_text("{not json")  # unreadable: the default command, said so
    assert read_run(folder, "imn-table8") is None and read_run(folder, "flint-table1") is None
    page = reproductions_html(read_reproductions(folder), source=str(folder))
    assert "By <code>python scripts/reproduce.py atex-figure --images 10</code>, finished 20" in page
    assert "(that command ran 4.2 min, reusing the units it found stored)" in page
    assert "By <code>python scripts/reproduce.py imn-table8</code> (its options not recorded)" in page


def test_table3_flags_by_its_threshold_and_names_the_mode(folder):
    write(folder, "imn-table3", [
        {"table": "imn-table3", "row": "roar_faithfulness / gaussianLinear", "column": "imn", "mode": "correct",
         "ours": 0.91, "paper": 0.639, "diff": 0.271, "note": "the original code's quirk"},
        {"table": "imn-table3", "row": "faithfulness / gaussianLinear", "column": "imn", "mode": "xaibench",
         "ours": 0.95, "paper": 0.987, "diff": -0.037, "note": ""},
    ])
    page = reproductions_html(read_reproductions(folder), source=str(folder))
    assert "2 rows, 1 over the threshold (|diff| &gt; 0.1)" in page
    assert "roar_faithfulness / gaussianLinear (imn, correct): +0.271. the original code&#x27;s quirk" in page

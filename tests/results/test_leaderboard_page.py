"""index.html in a real browser (headless Chromium through Selenium): the tables and figures
are there, sorting works, an injected script does not run. Saves a screenshot."""

from __future__ import annotations

import pytest

from bench.report.leaderboard import build_leaderboard, build_leaderboards
from bench.report.publish import write_leaderboard
from bench.results.store import rows_frame
from tests.results.conftest import KNOWN, grid, row

EVIL = "<script>alert(1)</script>"


def column(browser, table_id: str, index: int) -> list[str]:
    return [cell.text for cell in browser.find_elements("css selector", f"#{table_id} tbody tr td:nth-child({index})")]


@pytest.mark.e2e
def test_the_leaderboard_page_renders_sorts_and_runs_no_injected_script(browser, tmp_path):
    rows = grid(KNOWN) + [row(EVIL, m, 0.5) for m in KNOWN] \
        + grid(KNOWN, explainer="e", metric="deletion_auc", higher_is_better=False) \
        + grid({m: [0.5] * 6 for m in KNOWN}, explainer="native", metric="deletion_auc", higher_is_better=False) \
        + grid({m: [1.0] * 6 for m in KNOWN}, explainer="random", metric="deletion_auc", higher_is_better=False) \
        + grid({m: [0.01] * 6 for m in KNOWN}, explainer="e", metric="wall_seconds_per_instance", category="cost")
    files = write_leaderboard({"tabular": build_leaderboard(rows_frame(rows))}, tmp_path / "leaderboard")
    browser.get(files["index.html"].as_uri())

    assert browser.find_element("tag name", "h1").text == "bench leaderboard"
    # accuracy, per task, inherent vs post-hoc, explanations
    assert len(browser.find_elements("css selector", "table.sortable")) == 4
    images = browser.find_elements("tag name", "img")
    assert len(images) >= 4
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)
               for img in images)
    assert EVIL in browser.find_element("tag name", "body").text  # shown as text, not run
    assert browser.execute_script("return document.querySelectorAll('script').length") == 1

    # Ranked best first; sorting by the model name, then by AUROC both ways.
    assert column(browser, "tabular-accuracy-table", 1) == ["a", "b", "c"]
    headers = browser.find_elements("css selector", "#tabular-accuracy-table th")
    auroc = next(h for h in headers if h.text.startswith("roc_auc"))
    auroc.click()
    assert auroc.get_attribute("aria-sort") == "ascending"
    assert column(browser, "tabular-accuracy-table", 1) == ["c", "b", "a"]
    auroc.click()
    assert column(browser, "tabular-accuracy-table", 1) == ["a", "b", "c"]
    headers[0].click()
    assert column(browser, "tabular-accuracy-table", 1) == ["a", "b", "c"]
    headers[0].click()
    assert column(browser, "tabular-accuracy-table", 1) == ["c", "b", "a"]

    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1300, height + 100)
    screenshot = tmp_path / "leaderboard.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000


@pytest.mark.e2e
def test_each_modality_has_its_section_with_tables_that_sort_and_figures_that_load(browser, tmp_path):
    images = [{**r, "suite": "mnist", "input_kind": "image"} for r in grid(KNOWN, metric="accuracy")]
    rows = rows_frame(grid(KNOWN) + images)
    files = write_leaderboard(build_leaderboards(rows), tmp_path / "leaderboard")
    browser.get(files["index.html"].as_uri())
    headings = [h.text for h in browser.find_elements("tag name", "h2")]
    assert headings[:2] == ["Tabular data: Accuracy per predictor", "Tabular data: Explanation quality and cost per "
                                                                    "(predictor, explainer)"]
    assert "Images: Accuracy per predictor" in headings
    images = browser.find_elements("tag name", "img")
    assert len(images) >= 4 and all(browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", img) for img in images)
    for prefix in ("tabular-", "image-"):
        assert column(browser, f"{prefix}accuracy-table", 1) == ["a", "b", "c"]
        browser.find_elements("css selector", f"#{prefix}accuracy-table th")[0].click()
        browser.find_elements("css selector", f"#{prefix}accuracy-table th")[0].click()
        assert column(browser, f"{prefix}accuracy-table", 1) == ["c", "b", "a"]

"""Hand-made result rows for the leaderboard tests, and a headless browser for the pages'."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from scripts.nightly import find_chromium

TASKS = [f"task{i}" for i in range(6)]


def row(dataset, model, value, *, metric="roc_auc", explainer=None, fold=0, run_id="run-1", model_config="c1",
        category=None, higher_is_better=True, status="ok"):
    return {"run_id": run_id, "unit": f"{dataset}/{model}/{explainer}", "suite": "hand", "dataset": dataset,
            "fold": fold, "seed": 0, "model": model, "model_config": model_config, "explainer": explainer,
            "metric": metric, "category": category or ("prediction" if explainer is None else "faithfulness"),
            "value": value, "higher_is_better": higher_is_better, "status": status}


def grid(values: dict[str, list[float]], **kwargs) -> list[dict]:
    """{model: one value per task}, NaN for a missing cell."""
    return [row(task, model, v, **kwargs) for model, vs in values.items() for task, v in zip(TASKS, vs)
            if not np.isnan(v)]


# a > b > c on every task but task5, where b and c tie.
KNOWN = {"a": [0.9, 0.8, 0.95, 0.7, 0.85, 0.9], "b": [0.8, 0.7, 0.9, 0.6, 0.8, 0.5], "c": [0.7, 0.6, 0.8, 0.5, 0.6, 0.5]}


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -e '.[dev]'")
    binary = find_chromium()
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("no headless Chromium here: apt-get install chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,1000"):
        options.add_argument(argument)
    # The driver's path given explicitly: Selenium Manager would otherwise try to download one.
    session = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    yield session
    session.quit()

"""The package versions recorded in every row."""

from __future__ import annotations

from importlib.metadata import version

import bench.core.versions
from bench.core.paths import PROJECT_ROOT
from bench.core.versions import PACKAGES, versions


def recorded() -> dict[str, str]:
    return dict(item.split("=", 1) for item in versions().split(" "))


def test_every_package_that_decides_a_result_is_recorded_with_its_installed_version():
    # The models' and explainers' libraries (interpret-core is the distribution of `interpret`,
    # which the EBM comes from) and the data stack.
    assert set(PACKAGES) == {"bench", "torch", "scikit-learn", "shap", "captum", "lime", "interpret-core", "catboost",
                             "openml", "numpy", "pandas", "mlxtend"}
    assert recorded() == {package: version(package) for package in PACKAGES}


def test_a_package_that_is_not_installed_is_recorded_as_unknown(monkeypatch):
    monkeypatch.setattr(bench.core.versions, "PACKAGES", ("numpy", "no-such-distribution"))
    versions.cache_clear()
    try:
        assert recorded() == {"numpy": version("numpy"), "no-such-distribution": "?"}
    finally:
        versions.cache_clear()


def test_the_recorded_versions_are_the_locked_ones():
    """`make setup` and CI install requirements.lock, so that the rows name the code that ran;
    torch is pinned apart (Makefile), bench is this checkout."""
    locked = dict(line.split("==", 1) for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
                  if "==" in line and not line.startswith("#"))
    for package, installed in recorded().items():
        if package not in ("bench", "torch"):
            assert installed == locked[package].strip(), f"{package} {installed} is not the lock's; run `make setup`"

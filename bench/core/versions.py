"""Versions of the packages that decide a result, recorded in every row."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

# Distribution names, as pip knows them: interpret-core provides the `interpret` module.
PACKAGES = ("bench", "torch", "scikit-learn", "shap", "captum", "lime", "interpret-core", "catboost", "openml",
            "numpy", "pandas", "mlxtend")


@functools.cache
def versions() -> str:
    found = []
    for package in PACKAGES:
        try:
            found.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            found.append(f"{package}=?")
    return " ".join(found)

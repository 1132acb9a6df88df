"""The store: tidy result rows, resume keys, artifacts and trackers."""

from bench.results.store import ResultStore
from bench.results.units import ExplainUnit, FitUnit, MetricUnit, config_hash, unit_path

__all__ = ["ExplainUnit", "FitUnit", "MetricUnit", "ResultStore", "config_hash", "unit_path"]

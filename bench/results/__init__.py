"""Tidy result rows, resume keys, tables and trackers."""

from bench.results.store import ResultStore
from bench.results.tables import build_tables, write_tables
from bench.results.units import ExplainUnit, FitUnit, MetricUnit, config_hash, unit_path

__all__ = ["ExplainUnit", "FitUnit", "MetricUnit", "ResultStore", "build_tables", "config_hash", "unit_path", "write_tables"]

"""Metrics, chosen in conf/metrics/ by `_target_`; each carries its metadata (`info_of`)."""

from bench.metrics.base import MetricInfo, info_of, metric
from bench.metrics.complexity import complexity, sparseness
from bench.metrics.deletion import deletion_auc, deletion_lerf_auc, insertion_auc, insertion_lerf_auc
from bench.metrics.faithfulness_correlation import faithfulness_correlation
from bench.metrics.prediction import accuracy, balanced_accuracy, log_loss, r2, rmse, roc_auc

__all__ = ["MetricInfo", "accuracy", "balanced_accuracy", "complexity", "deletion_auc", "deletion_lerf_auc", "insertion_auc", "insertion_lerf_auc", "faithfulness_correlation", "info_of",
           "log_loss", "metric", "r2", "rmse", "roc_auc", "sparseness"]

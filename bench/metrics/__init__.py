"""Metrics, chosen in conf/metrics/ by `_target_`; each carries its metadata (`info_of`). The names
below are the public API; the run finds every metric of the package itself
(bench/pipeline/registry.py), so a new one needs no line here."""

from bench.metrics.adversarial import fgsm_accuracy
from bench.metrics.base import MetricInfo, info_of, metric
from bench.metrics.complexity import complexity, conciseness, sparseness
from bench.metrics.deletion import deletion_auc, insertion_auc
from bench.metrics.faithfulness_correlation import faithfulness_correlation
from bench.metrics.fidelity import surrogate_fidelity
from bench.metrics.ground_truth import (
    feature_agreement,
    interaction_recovery,
    pairwise_rank_agreement,
    rank_agreement,
    rank_correlation,
    shapley_corr,
    shapley_mse,
    sign_agreement,
    signed_rank_agreement,
)
from bench.metrics.manipulation import (
    manipulation_reverted,
    manipulation_spearman,
    manipulation_surrogate,
    manipulation_topk,
)
from bench.metrics.infidelity import infidelity, infidelity_normalised
from bench.metrics.prediction import accuracy, balanced_accuracy, log_loss, r2, rmse, roc_auc
from bench.metrics.prediction_gap import pgi, pgu
from bench.metrics.road import road_lerf, road_morf
from bench.metrics.robustness import max_sensitivity, relative_input_stability, relative_output_stability
from bench.metrics.sanity import data_randomisation, model_parameter_randomisation
from bench.metrics.smoothness import smoothgrad_spearman, smoothgrad_ssim, smoothgrad_topk
from bench.metrics.xaibench import faithfulness, monotonicity, roar_faithfulness, roar_monotonicity

__all__ = [
    "MetricInfo", "accuracy", "balanced_accuracy", "complexity", "conciseness", "data_randomisation", "deletion_auc",
    "faithfulness", "faithfulness_correlation", "feature_agreement", "fgsm_accuracy", "info_of",
    "infidelity", "infidelity_normalised", "insertion_auc", "interaction_recovery", "log_loss",
    "manipulation_reverted", "manipulation_spearman", "manipulation_surrogate", "manipulation_topk",
    "max_sensitivity", "metric",
    "model_parameter_randomisation", "monotonicity", "pairwise_rank_agreement", "pgi", "pgu", "r2", "rank_agreement",
    "rank_correlation", "relative_input_stability", "relative_output_stability", "rmse", "road_lerf", "road_morf",
    "roar_faithfulness", "roar_monotonicity", "roc_auc", "shapley_corr", "shapley_mse",
    "sign_agreement", "signed_rank_agreement", "smoothgrad_spearman", "smoothgrad_ssim", "smoothgrad_topk",
    "sparseness", "surrogate_fidelity",
]

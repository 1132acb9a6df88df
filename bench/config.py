"""Typed schemas of the Hydra configuration.

Each option of the `data`, `model` and `explainers` groups, and each explanation metric,
extends one of these dataclasses (through `defaults: [/schema_<kind>_<name>@<package>]`), so a
misspelt key or a value of the wrong type fails at composition, before any data is loaded.
The schemas are stored outside every group, so that `--help` and `data=foo` list only real
options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


class CategoricalEncoding(str, Enum):
    one_hot = "one_hot"  # the paper
    authors = "authors"  # the authors' code: target encoding for binary tasks, ordinal otherwise


@dataclass
class PreprocessConfig:
    max_missing_fraction: float = 0.9  # drop columns missing in more than this fraction
    id_unique_fraction: float = 0.9  # drop categoricals with more unique values than this (IDs)
    max_categories: int = 20  # one-hot cap; rarer categories share one "infrequent" column
    categorical_encoding: CategoricalEncoding = CategoricalEncoding.one_hot
    max_onehot_columns: int = 1000  # refuse wider one-hot encodings, naming the options that help


@dataclass
class OpenMLDataConfig:
    _target_: str = "bench.data.openml.OpenMLSource"
    suite: str = "openml"
    task_id: Optional[int] = None
    dataset_id: Optional[int] = None
    manifest: Optional[str] = None  # CSV of a suite, relative to the project root
    tasks: Optional[List[int]] = None  # subset of the manifest's ids
    max_tasks: Optional[int] = None
    skip_missing: bool = False
    offline: bool = False
    folds: Any = field(default_factory=lambda: [0])  # list of fold indices, or "all"
    n_folds: int = 5  # local split of a dataset that has no OpenML task
    target: Optional[str] = None
    cache_root: Optional[str] = "${paths.openml_cache}"
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)


class Compat(str, Enum):
    """"correct": every definition as its paper gives it; "xaibench": the original XAI-Bench
    code's quirks (XAIBENCH.md), to reproduce numbers published with it."""
    correct = "correct"
    xaibench = "xaibench"


@dataclass
class EmbeddedDataConfig:
    _target_: str = "bench.data.embedded.EmbeddedSource"
    suite: str = "embedded"
    datasets: List[str] = MISSING
    folds: Any = field(default_factory=lambda: [0])
    n_folds: int = 5
    rho: float = 0.0  # XAI-Bench feature correlation
    n_train: int = 1000
    n_test: int = 100
    noise_std: float = 0.01
    synthetic_mode: str = "regression"
    compat: Compat = "${compat}"  # "xaibench": the original code's piecewise g1 (XAIBENCH.md)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)


@dataclass
class LogRegConfig:
    _target_: str = "bench.models.LogisticRegression"
    name: str = "logreg"
    C: float = 1.0
    max_iter: int = 2000


@dataclass
class TorchTrainingConfig:
    """Options of the training loop every torch model shares (bench/models/torch_training.py)."""

    dropout: float = 0.1
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64
    max_epochs: int = 200
    patience: int = 10
    validation_fraction: float = 0.1


@dataclass
class MLPConfig(TorchTrainingConfig):
    _target_: str = "bench.models.MLP"
    name: str = "mlp"
    hidden_sizes: List[int] = field(default_factory=lambda: [128, 128])


@dataclass
class CNNConfig(TorchTrainingConfig):
    _target_: str = "bench.models.CNN"
    name: str = "cnn"
    channels: List[int] = field(default_factory=lambda: [16, 32])
    max_epochs: int = 100
    patience: int = 8


class Optimizer(str, Enum):
    adam = "adam"  # weight decay as a coupled L2 term: the paper and the authors' code
    adamw = "adamw"  # decoupled weight decay


class SnapshotTiming(str, Enum):
    """Where IMN's snapshots fall (bench/models/snapshot_training.py)."""

    cycle_ends = "cycle_ends"  # the paper: at the end of each cosine cycle
    authors_code = "authors_code"  # the authors' code: T_0, 3T_0, 7T_0 counted from the first iteration


@dataclass
class SnapshotNetworkConfig:
    """IMN's network and training (bench/models/snapshot_training.py); values in conf/model/."""

    hidden_size: int = MISSING
    n_blocks: int = MISSING
    dropout: float = MISSING
    dropout_on_skip: bool = MISSING
    lr: float = MISSING
    weight_decay: float = MISSING
    optimizer: Optimizer = MISSING
    batch_size: int = MISSING
    epochs: int = MISSING
    warmup_epochs: int = MISSING
    t_mult: int = MISSING
    n_restarts: int = MISSING
    snapshots: SnapshotTiming = MISSING


@dataclass
class HyperLinearConfig(SnapshotNetworkConfig):
    _target_: str = "bench.models.HyperLinear"
    name: str = "hyperlinear"
    l1_penalty: float = MISSING


@dataclass
class TabResNetConfig(SnapshotNetworkConfig):
    _target_: str = "bench.models.TabResNet"
    name: str = "tabresnet"


@dataclass
class DecisionTreeConfig:
    _target_: str = "bench.models.DecisionTree"
    name: str = "dtree"
    criterion: str = MISSING
    max_depth: Optional[int] = MISSING
    min_samples_leaf: int = MISSING
    class_weight: Optional[str] = MISSING


@dataclass
class RandomForestConfig:
    _target_: str = "bench.models.RandomForest"
    name: str = "rf"
    n_estimators: int = MISSING
    max_features: Any = MISSING
    class_weight: Optional[str] = MISSING
    n_jobs: Optional[int] = MISSING


@dataclass
class CatBoostConfig:
    _target_: str = "bench.models.CatBoost"
    name: str = "catboost"
    iterations: int = MISSING
    learning_rate: Optional[float] = MISSING
    depth: int = MISSING
    thread_count: int = MISSING


@dataclass
class EBMConfig:
    _target_: str = "bench.models.EBM"
    name: str = "ebm"
    interactions: Any = MISSING
    outer_bags: int = MISSING
    max_bins: int = MISSING
    learning_rate: float = MISSING
    n_jobs: int = MISSING


class Baseline(str, Enum):
    """What stands in for a removed feature, or the path start of integrated gradients."""

    mean = "mean"  # the mean of the background (training) rows
    zero = "zero"


class ShapLink(str, Enum):
    identity = "identity"
    logit = "logit"


class BackgroundSummary(str, Enum):
    sample = "sample"  # training rows drawn without replacement
    kmeans = "kmeans"  # k-means centres snapped to values seen in training (shap.kmeans)


class ImageSegmentation(str, Enum):
    grid = "grid"
    quickshift = "quickshift"
    slic = "slic"
    felzenszwalb = "felzenszwalb"


@dataclass
class BatchedExplainerConfig:
    """Options of an explainer that evaluates many rows per instance."""

    batch_size: int = 4096  # rows per model evaluation (perturbations, path points, feature sets); speed only


@dataclass
class KernelShapConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.KernelShap"
    nsamples: Any = "auto"  # "auto" (shap's 2 * d + 2048) or a number of coalitions
    link: ShapLink = ShapLink.identity
    l1_reg: Any = "num_features(10)"  # shap's default feature selection; false for none


@dataclass
class PermutationShapConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.PermutationShap"
    n_permutations: int = 10  # each walked forwards and backwards: 2d + 1 evaluations per permutation


@dataclass
class ExactShapConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.ExactShap"
    max_features: int = 12  # 2^d coalitions per instance; n/a above this many features


@dataclass
class GradientShapConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.GradientShap"
    nsamples: int = 200  # shap's default
    local_smoothing: float = 0.0


@dataclass
class DeepShapConfig:
    _target_: str = "bench.explainers.DeepShap"


@dataclass
class SaliencyConfig:
    _target_: str = "bench.explainers.Saliency"
    absolute: bool = True  # Simonyan et al.: the gradient's magnitude


@dataclass
class IntegratedGradientsConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.IntegratedGradients"
    n_steps: int = 50
    baseline: Baseline = Baseline.mean
    method: str = "gausslegendre"


@dataclass
class SmoothGradConfig:
    _target_: str = "bench.explainers.SmoothGrad"
    n_samples: int = 50
    noise_level: float = 0.15  # noise sd / range of the inputs; the paper finds 10-20% best


@dataclass
class InputXGradientConfig:
    _target_: str = "bench.explainers.InputXGradient"


@dataclass
class DeepLiftConfig:
    _target_: str = "bench.explainers.DeepLift"
    baseline: Baseline = Baseline.mean
    tolerance: float = 1e-3  # largest summation-to-delta miss, relative to the output scale, before n/a


@dataclass
class GradientShapCaptumConfig:
    _target_: str = "bench.explainers.GradientShapCaptum"
    n_samples: int = 50
    stdev: float = 0.0  # Gaussian noise added to the input before each sample


@dataclass
class FeatureAblationConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.FeatureAblation"
    baseline: Baseline = Baseline.mean


@dataclass
class OcclusionConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.Occlusion"
    window: int = 2  # side of the square patch, in pixels
    stride: int = 1
    baseline: Baseline = Baseline.mean


@dataclass
class ShapleySamplingConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.ShapleyValueSampling"
    n_samples: int = 25  # random feature orderings
    baseline: Baseline = Baseline.mean


@dataclass
class LimeConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.LimeTabular"
    num_samples: int = 5000  # perturbations per explained instance (lime's default)
    discretize_continuous: bool = True  # lime's default: quartile-bin indicators; false: standardised features
    kernel_width: Optional[float] = None  # None: lime's 0.75 * sqrt(d)


@dataclass
class LimeImageConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.LimeImage"
    num_samples: int = 1000  # lime's default
    segmentation: ImageSegmentation = ImageSegmentation.grid
    cell_size: int = 2  # grid cells' side in pixels
    hide_color: Optional[float] = None  # None: a hidden superpixel takes its mean value (lime's default)
    kernel_width: float = 0.25  # lime_image's default


@dataclass
class NativeExplainerConfig:
    _target_: str = "bench.explainers.Native"


@dataclass
class RandomExplainerConfig:
    _target_: str = "bench.explainers.RandomExplainer"


@dataclass
class ContextualDecompositionConfig(BatchedExplainerConfig):
    _target_: str = "bench.explainers.ContextualDecomposition"
    batch_size: int = 1024  # rows of (instance, feature set); each carries two activations, beta and gamma
    interactions: bool = True  # pairwise I(S1, S2) = CD(S1 u S2) - CD(S1) - CD(S2)
    max_interaction_features: int = 64  # no interactions above this many input features (d^2 / 2 pairs)


class Replacement(str, Enum):
    """What stands in for a removed feature in deletion and insertion curves."""
    mean = "mean"  # the background's mean
    zero = "zero"
    conditional = "conditional"  # draws from p(x_removed | x_present): synthetic tasks only


@dataclass
class DeletionAUCConfig:
    _target_: str = "bench.metrics.deletion_auc"
    _partial_: bool = True
    replacement: Replacement = Replacement.mean
    step: int = 1  # features removed per point of the curve
    n_samples: int = 1  # conditional draws averaged per point (conditional replacement only)


@dataclass
class InsertionAUCConfig(DeletionAUCConfig):
    _target_: str = "bench.metrics.insertion_auc"


@dataclass
class FaithfulnessCorrelationConfig:
    _target_: str = "bench.metrics.faithfulness_correlation"
    _partial_: bool = True
    baseline: Baseline = Baseline.mean
    n_subsets: int = 100  # random subsets per instance (Quantus' nr_runs)
    subset_fraction: float = 0.25  # |S| / d


@dataclass
class SparsenessConfig:
    _target_: str = "bench.metrics.sparseness"
    _partial_: bool = True


@dataclass
class ComplexityConfig:
    _target_: str = "bench.metrics.complexity"
    _partial_: bool = True


@dataclass
class FaithfulnessConfig:
    """XAI-Bench faithfulness (bench/metrics/xaibench.py)."""
    _target_: str = "bench.metrics.faithfulness"
    _partial_: bool = True
    n_samples: int = 100  # conditional draws of each removed feature


@dataclass
class MonotonicityConfig:
    _target_: str = "bench.metrics.monotonicity"
    _partial_: bool = True
    n_samples: int = 100  # conditional draws of the absent features per step
    compat: Compat = "${compat}"  # xaibench: steps stored by feature index, as the original code does


@dataclass
class RoarMonotonicityConfig:
    _target_: str = "bench.metrics.roar_monotonicity"
    _partial_: bool = True
    # "mlp": sklearn's MLP with its defaults (XAI-Bench's retrained model); "same": the run's own
    # model config; or a {_target_: ..., _partial_: true} node that builds an unfitted estimator.
    retrained_model: Any = "mlp"
    n_train_rows: Optional[int] = None  # retrain on the first k training rows (explained too); None: all


@dataclass
class RoarFaithfulnessConfig(RoarMonotonicityConfig):
    _target_: str = "bench.metrics.roar_faithfulness"
    compat: Compat = "${compat}"  # xaibench: the original code's row alignment (training |phi| vs test deltas)


class InfidelityPerturbation(str, Enum):
    noisy_baseline = "noisy_baseline"  # x - I = clip(-noise_std z, 0, 1): Yeh et al.'s code and XAI-Bench's
    gaussian = "gaussian"  # I ~ N(0, noise_std^2): captum's documented example


@dataclass
class InfidelityConfig:
    """Yeh et al.'s infidelity (bench/metrics/infidelity.py); the normalised form is XAI-Bench's."""
    _target_: str = "bench.metrics.infidelity"
    _partial_: bool = True
    perturbation: InfidelityPerturbation = InfidelityPerturbation.noisy_baseline
    noise_std: float = 0.2
    n_perturbations: int = 1000


@dataclass
class PredictionGapConfig:
    """OpenXAI's PGI / PGU (bench/metrics/prediction_gap.py)."""
    _target_: str = "bench.metrics.pgi"
    _partial_: bool = True
    noise_std: float = 0.1
    n_perturbations: int = 100
    top_fraction: float = 0.25  # k = 25% of the features


@dataclass
class MaxSensitivityConfig:
    """Max-sensitivity, RIS and ROS (bench/metrics/robustness.py) share one set of re-explained
    points per explainer when radius, n_samples and n_instances agree."""
    _target_: str = "bench.metrics.max_sensitivity"
    _partial_: bool = True
    radius: float = 0.1  # L_inf ball; captum's 0.02 suits pixels in [0, 1], our features have std 1
    n_samples: int = 10  # points (re-explanations) per instance
    n_instances: Optional[int] = None  # score the first k explained rows; None: all


@dataclass
class RelativeStabilityConfig(MaxSensitivityConfig):
    """RIS / ROS (Agarwal et al. 2022)."""
    _target_: str = "bench.metrics.relative_input_stability"
    eps_min: float = 1e-6  # floor of the denominator (Quantus' default)


@dataclass
class ShapleyGroundTruthConfig:
    """Metrics against the exact Shapley values of the trained model (bench/metrics/ground_truth.py).
    They share one ground truth per fold only with the same n_samples and compat."""
    _target_: str = "bench.metrics.shapley_corr"
    _partial_: bool = True
    # Conditional draws per coalition (XAI-Bench: 20,000). 500 keeps the Monte-Carlo error of
    # each Shapley value near 0.03 on the standardised XAI-Bench targets, and costs 100 rows x 31
    # coalitions x 500 = 1.6M evaluations per fold (once, shared by every explainer).
    n_samples: int = 500
    compat: Compat = "${compat}"  # xaibench: the original solver's + v(empty)/d (changes the MSE only)


@dataclass
class TopKAgreementConfig(ShapleyGroundTruthConfig):
    top_fraction: float = 0.25  # k = 25% of the features (OpenXAI)


@dataclass
class InteractionRecoveryConfig:
    _target_: str = "bench.metrics.interaction_recovery"
    _partial_: bool = True


@dataclass
class ModelParameterRandomisationConfig:
    _target_: str = "bench.metrics.model_parameter_randomisation"
    _partial_: bool = True
    absolute: bool = True  # rank |phi| (Adebayo et al.'s main figures); false: signed phi
    max_layers: Optional[int] = None  # cascade length from the output layer; None: every layer
    n_instances: Optional[int] = None  # score the first k explained rows (each step re-explains them); None: all


@dataclass
class DataRandomisationConfig:
    _target_: str = "bench.metrics.data_randomisation"
    _partial_: bool = True
    absolute: bool = True
    n_instances: Optional[int] = None


@dataclass
class MetricsConfig:
    prediction: Dict[str, Any] = field(default_factory=dict)
    explanation: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ExplainConfig:
    n_instances: int = 20  # test points explained per task and fold, the same for every explainer
    background_size: int = 50  # training rows given to explainers that need a background
    background_summary: BackgroundSummary = BackgroundSummary.sample


@dataclass
class PathsConfig:
    results: str = "results"
    openml_cache: Optional[str] = None  # None: openml-python's usual user cache


@dataclass
class Config:
    data: Any = MISSING
    model: Any = MISSING
    explainers: Dict[str, Any] = field(default_factory=dict)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    logger: Any = MISSING
    paths: PathsConfig = field(default_factory=PathsConfig)
    explain: ExplainConfig = field(default_factory=ExplainConfig)
    seed: int = 0
    force: bool = False
    torch_threads: int = 1
    compat: Compat = Compat.correct


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    cs.store(name="schema_data_openml", node=OpenMLDataConfig)
    cs.store(name="schema_data_embedded", node=EmbeddedDataConfig)
    cs.store(name="schema_model_logreg", node=LogRegConfig)
    cs.store(name="schema_model_mlp", node=MLPConfig)
    cs.store(name="schema_model_cnn", node=CNNConfig)
    cs.store(name="schema_model_hyperlinear", node=HyperLinearConfig)
    cs.store(name="schema_model_tabresnet", node=TabResNetConfig)
    cs.store(name="schema_model_dtree", node=DecisionTreeConfig)
    cs.store(name="schema_model_rf", node=RandomForestConfig)
    cs.store(name="schema_model_catboost", node=CatBoostConfig)
    cs.store(name="schema_model_ebm", node=EBMConfig)
    cs.store(name="schema_explainer_kernel_shap", node=KernelShapConfig)
    cs.store(name="schema_explainer_permutation_shap", node=PermutationShapConfig)
    cs.store(name="schema_explainer_exact_shap", node=ExactShapConfig)
    cs.store(name="schema_explainer_gradient_shap", node=GradientShapConfig)
    cs.store(name="schema_explainer_deep_shap", node=DeepShapConfig)
    cs.store(name="schema_explainer_saliency", node=SaliencyConfig)
    cs.store(name="schema_explainer_ig", node=IntegratedGradientsConfig)
    cs.store(name="schema_explainer_smoothgrad", node=SmoothGradConfig)
    cs.store(name="schema_explainer_input_x_gradient", node=InputXGradientConfig)
    cs.store(name="schema_explainer_deeplift", node=DeepLiftConfig)
    cs.store(name="schema_explainer_gradient_shap_captum", node=GradientShapCaptumConfig)
    cs.store(name="schema_explainer_feature_ablation", node=FeatureAblationConfig)
    cs.store(name="schema_explainer_occlusion", node=OcclusionConfig)
    cs.store(name="schema_explainer_shapley_sampling", node=ShapleySamplingConfig)
    cs.store(name="schema_explainer_lime", node=LimeConfig)
    cs.store(name="schema_explainer_lime_image", node=LimeImageConfig)
    cs.store(name="schema_explainer_native", node=NativeExplainerConfig)
    cs.store(name="schema_explainer_random", node=RandomExplainerConfig)
    cs.store(name="schema_explainer_cd", node=ContextualDecompositionConfig)
    cs.store(name="schema_metric_deletion_auc", node=DeletionAUCConfig)
    cs.store(name="schema_metric_insertion_auc", node=InsertionAUCConfig)
    cs.store(name="schema_metric_faithfulness", node=FaithfulnessConfig)
    cs.store(name="schema_metric_monotonicity", node=MonotonicityConfig)
    cs.store(name="schema_metric_roar_faithfulness", node=RoarFaithfulnessConfig)
    cs.store(name="schema_metric_roar_monotonicity", node=RoarMonotonicityConfig)
    for name in ("shapley_mse", "shapley_corr", "rank_correlation", "pairwise_rank_agreement"):
        cs.store(name=f"schema_metric_{name}", node=ShapleyGroundTruthConfig(_target_=f"bench.metrics.{name}"))
    for name in ("feature_agreement", "rank_agreement", "sign_agreement", "signed_rank_agreement"):
        cs.store(name=f"schema_metric_{name}", node=TopKAgreementConfig(_target_=f"bench.metrics.{name}"))
    cs.store(name="schema_metric_interaction_recovery", node=InteractionRecoveryConfig)
    for name in ("infidelity", "infidelity_normalised"):
        cs.store(name=f"schema_metric_{name}", node=InfidelityConfig(_target_=f"bench.metrics.{name}"))
    for name in ("pgi", "pgu"):
        cs.store(name=f"schema_metric_{name}", node=PredictionGapConfig(_target_=f"bench.metrics.{name}"))
    cs.store(name="schema_metric_max_sensitivity", node=MaxSensitivityConfig)
    for name in ("relative_input_stability", "relative_output_stability"):
        cs.store(name=f"schema_metric_{name}", node=RelativeStabilityConfig(_target_=f"bench.metrics.{name}"))
    cs.store(name="schema_metric_model_parameter_randomisation", node=ModelParameterRandomisationConfig)
    cs.store(name="schema_metric_data_randomisation", node=DataRandomisationConfig)
    cs.store(name="schema_metric_faithfulness_correlation", node=FaithfulnessCorrelationConfig)
    cs.store(name="schema_metric_sparseness", node=SparsenessConfig)
    cs.store(name="schema_metric_complexity", node=ComplexityConfig)

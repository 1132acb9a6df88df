"""Explainers, chosen in conf/explainers/ by `_target_`. The names below are the public API, and
the `_target_`s of the configs (part of every stored unit's key); the run finds every explainer
of the package itself (bench/pipeline/registry.py), so a new one needs no line here."""

from bench.explainers.base import Explainer
from bench.explainers.captum_explainers import (
    DeepLift,
    FeatureAblation,
    GradCam,
    GradientShapCaptum,
    InputXGradient,
    IntegratedGradients,
    Occlusion,
    Saliency,
    ShapleyValueSampling,
    SmoothGrad,
)
from bench.explainers.cd import ContextualDecomposition
from bench.explainers.lime_explainers import LimeImage, LimeTabular
from bench.explainers.native import Native
from bench.explainers.random import RandomExplainer
from bench.explainers.shap_explainers import (
    DeepShap,
    ExactShap,
    GradientShap,
    KernelShap,
    PartitionShap,
    PermutationShap,
)

__all__ = [
    "ContextualDecomposition", "DeepLift", "DeepShap", "ExactShap", "Explainer", "FeatureAblation", "GradCam", "GradientShap", "GradientShapCaptum",
    "InputXGradient", "IntegratedGradients", "KernelShap", "LimeImage", "LimeTabular", "Native", "Occlusion",
    "PartitionShap", "PermutationShap", "RandomExplainer", "Saliency", "ShapleyValueSampling", "SmoothGrad",
]

"""Explainers, chosen in conf/explainers/ by `_target_`."""

from bench.explainers.base import Explainer
from bench.explainers.integrated_gradients import IntegratedGradients
from bench.explainers.kernel_shap import KernelShap
from bench.explainers.lime_tabular import LimeTabular
from bench.explainers.native import Native
from bench.explainers.random import RandomExplainer

__all__ = ["Explainer", "IntegratedGradients", "KernelShap", "LimeTabular", "Native", "RandomExplainer"]

"""bench: accuracy, explanation quality and cost of interpretable models and post-hoc explainers."""

__version__ = "0.1.0"

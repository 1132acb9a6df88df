"""Counting a model's evaluations: every call and input row through predict/predict_proba, its
network's forward and an inherent model's own `explain`. The cost metrics report the counts;
an explainer that runs a network's layers itself records its rows here too (its network's
counting wrapper: bench/core/counted_network.py, which needs torch)."""

from __future__ import annotations


class CountingModel:
    """Wraps a model and counts its calls and the input rows they evaluate, through
    predict/predict_proba, its torch module's forward (gradient explainers call the network
    directly) and an inherent model's own `explain`."""

    def __init__(self, model):
        self._model = model
        self.rows = 0
        self.calls = 0

    def count(self, n_rows: int) -> None:
        self.rows += n_rows
        self.calls += 1

    def predict(self, X):
        self.count(len(X))
        return self._model.predict(X)

    def predict_proba(self, X):
        self.count(len(X))
        return self._model.predict_proba(X)

    def __getattr__(self, name):
        # Everything else is the model's own, torch_module included: a model without one
        # must still look like it has none. Dunder and private lookups (copy and pickle probe
        # them before __init__ has run) are not forwarded.
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = getattr(self._model, name)
        if name == "torch_module":
            from bench.core.counted_network import CountedNetwork  # torch: only for a model with a network

            return lambda: CountedNetwork(attribute(), self)
        if name == "explain":  # an inherent model's explanation: one evaluation of each row
            def explain(X, *args, **kwargs):
                self.count(len(X))
                return attribute(X, *args, **kwargs)
            return explain
        return attribute


"""A counted model's network (bench/core/calls.py): every forward counts its input rows. Apart
from CountingModel because it needs torch, which a model without a network never loads."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from bench.core.calls import CountingModel


class CountedNetwork(nn.Module):
    def __init__(self, inner: nn.Module, counter: CountingModel):
        super().__init__()
        self.inner = inner
        self.counter = counter

    def forward(self, inputs):
        self.counter.count(len(inputs))
        return self.inner(inputs)


def network_and_count(module: nn.Module) -> tuple[nn.Module, Callable[[int], None]]:
    """For an explainer that runs a network's layers itself rather than its forward
    (contextual decomposition): the network inside a counted module, and the function that
    records the rows it evaluates (which does nothing when the module is not counted)."""
    if isinstance(module, CountedNetwork):
        return module.inner, module.counter.count
    return module, lambda n_rows: None

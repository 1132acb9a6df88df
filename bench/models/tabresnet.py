"""TabResNet: hyperlinear's residual trunk with a plain Linear(width, C) head, trained the same
way (IMN's schedule and snapshot ensemble, no L1 term) — the black-box twin of IMN in the
paper's comparison (METHODS.md §1)."""

from __future__ import annotations

from torch import nn

from bench.models.residual import ResidualTrunk
from bench.models.snapshot_estimator import SnapshotEstimator


class TabResNet(SnapshotEstimator):
    name = "tabresnet"

    def _build(self, n_features: int, n_outputs: int) -> nn.Module:
        return nn.Sequential(
            ResidualTrunk(n_features, width=self.hidden_size, n_blocks=self.n_blocks, dropout=self.dropout,
                          dropout_on_skip=self.dropout_on_skip),
            nn.Linear(self.hidden_size, n_outputs),
        )

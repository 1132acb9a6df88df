"""The training loop shared by the torch models: Adam, mini-batches, early stopping on a
validation split of the training part, best weights restored."""

from __future__ import annotations

import contextlib
import copy
from typing import Iterator

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Weight initialisation and dropout seeded without touching torch's global state; yields a
    generator, seeded too, for the shuffling of mini-batches."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


def fit_module(
    module: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    *,
    loss_fn: nn.Module,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    validation_fraction: float,
    generator: torch.Generator,
    stratify: bool,
) -> dict:
    """Trains `module` in place; returns a small history (epochs run, best validation loss)."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=validation_fraction, random_state=seed, stratify=y if stratify else None
    )
    X_train, y_train = torch.as_tensor(X_train), torch.as_tensor(y_train)
    X_val, y_val = torch.as_tensor(X_val), torch.as_tensor(y_val)
    optimiser = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    best_loss, best_state, stale, epoch = np.inf, copy.deepcopy(module.state_dict()), 0, 0
    for epoch in range(1, max_epochs + 1):
        module.train()
        order = torch.randperm(len(X_train), generator=generator)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            if len(batch) < 2 and len(order) > 1:
                continue  # BatchNorm-free nets tolerate it, but one row makes a noisy step
            optimiser.zero_grad()
            loss_fn(module(X_train[batch]), y_train[batch]).backward()
            optimiser.step()
        module.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(module(X_val), y_val))
        if val_loss < best_loss - 1e-6:
            best_loss, best_state, stale = val_loss, copy.deepcopy(module.state_dict()), 0
        else:
            stale += 1
            if stale >= patience:
                break
    module.load_state_dict(best_state)
    module.eval()
    return {"epochs": epoch, "best_validation_loss": best_loss}

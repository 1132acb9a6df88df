"""The one training loop of every torch model (bench/models/torch_estimator.py).

Mini-batches of one seeded shuffle per epoch; Adam (weight decay as a coupled L2 term, the
paper's and IMN's code) or AdamW (decoupled); a learning rate that is constant or follows IMN's
schedule (METHODS.md §1), after an optional linear warm-up; and, as options of the same loop:
- `step_loss(module, X_batch, y_batch)`: one mini-batch's loss, so that a model adds penalties
  (IMN's L1 on the generated weights) or reads extra outputs;
- `batch_steps(module, X_batch, y_batch)`: instead, several optimiser steps on one mini-batch,
  yielding each step's loss, computed after the step before (ATEX explains the mini-batch once,
  then takes 4 steps on batches augmented along and across that explanation);
- `epoch_callbacks`: called with the 1-based epoch before it starts (FLINT switches loss terms
  on at given epochs);
- early stopping (`patience`) on a validation split of the training rows, the best weights
  restored;
- IMN's snapshot ensemble: cosine annealing with warm restarts (T_mult=2, 3 cycles: T_0 + 2T_0
  + 4T_0 = 7T_0) and a snapshot of the network at each cycle (Huang et al. 2017).

Where the snapshots fall (`snapshots`):
- "cycle_ends" (the paper's snapshot ensemble): the cycles fill the iterations after the
  warm-up, and each snapshot is taken at the end of a cycle, where the learning rate is ~0;
- "authors_code": the authors' code sizes T_0 from all iterations, warm-up included, and
  snapshots at global iterations T_0, 3T_0, 7T_0, i.e. a warm-up's length before each cycle's
  end (and its last cycle is cut short). The difference fades with many epochs: at 500 epochs
  the rate at the snapshots is <1.2% of the base rate, at 100 epochs up to 28%.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts, LambdaLR, LRScheduler, SequentialLR

Optimizer = Literal["adam", "adamw"]
LRSchedule = Literal["constant", "cosine_restarts"]
SnapshotTiming = Literal["cycle_ends", "authors_code"]
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}

StepLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
BatchSteps = Callable[[nn.Module, torch.Tensor, torch.Tensor], Iterable[torch.Tensor]]
EpochCallback = Callable[[int], None]


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the message names the model and the epoch."""


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Weight initialisation and dropout seeded without touching torch's global state; yields a
    generator, seeded too, for the shuffling of mini-batches."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


@dataclass(frozen=True)
class RestartSchedule:
    """Linear warm-up, then cosine annealing with warm restarts; the iterations after which a
    snapshot is taken. Stepped once per iteration."""

    iterations_per_epoch: int
    epochs: int
    warmup_epochs: int
    t_mult: int
    n_restarts: int
    snapshots: SnapshotTiming

    def __post_init__(self) -> None:
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be at least 0 and less than epochs "
                             f"({self.epochs})")
        if self.t_mult < 2 or self.n_restarts < 1 or self.iterations_per_epoch < 1:
            raise ValueError(f"need t_mult >= 2, n_restarts >= 1 and at least one batch per epoch, got {self}")

    @property
    def total_iterations(self) -> int:
        return self.epochs * self.iterations_per_epoch

    @property
    def warmup_iterations(self) -> int:
        return self.warmup_epochs * self.iterations_per_epoch

    @property
    def t_0(self) -> int:
        """First cycle's length: T_0 * (1 + T_mult + ... + T_mult^(n_restarts-1)) fills the
        iterations after the warm-up (all iterations for "authors_code")."""
        budget = self.total_iterations - (self.warmup_iterations if self.snapshots == "cycle_ends" else 0)
        return max(budget * (self.t_mult - 1) // (self.t_mult**self.n_restarts - 1), 1)

    @property
    def snapshot_iterations(self) -> tuple[int, ...]:
        """1-based iterations after which a snapshot is taken."""
        start = self.warmup_iterations if self.snapshots == "cycle_ends" else 0
        ends = start + np.cumsum([self.t_0 * self.t_mult**k for k in range(self.n_restarts)])
        return tuple(int(min(end, self.total_iterations)) for end in ends)

    def scheduler(self, optimizer: torch.optim.Optimizer) -> LRScheduler:
        """The warm-up rises linearly from 0 to the base rate."""
        restarts = CosineAnnealingWarmRestarts(optimizer, T_0=self.t_0, T_mult=self.t_mult)
        return with_warmup(optimizer, restarts, self.warmup_iterations)


def with_warmup(optimizer: torch.optim.Optimizer, after: LRScheduler | None, warmup_iterations: int) -> LRScheduler:
    """A linear warm-up from 0 over `warmup_iterations`, then `after` (None: the base rate)."""
    after = after or LambdaLR(optimizer, lambda step: 1.0)
    if warmup_iterations == 0:
        return after
    warmup = LambdaLR(optimizer, lambda step: step / warmup_iterations)
    return SequentialLR(optimizer, [warmup, after], milestones=[warmup_iterations])


def batches(n_rows: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """One epoch's shuffled mini-batches. A trailing batch of one row is dropped: BatchNorm
    cannot normalise a single row in training mode."""
    order = torch.randperm(n_rows, generator=generator)
    chunks = list(torch.split(order, batch_size))
    return chunks[:-1] if len(chunks[-1]) == 1 and len(chunks) > 1 else chunks


def iterations_per_epoch(n_rows: int, batch_size: int) -> int:
    full, rest = divmod(n_rows, batch_size)
    return full + (rest > 1)


@dataclass(frozen=True)
class Training:
    """How to train: the estimator's options, checked by the estimator."""

    step_loss: StepLoss
    task_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # what early stopping monitors
    optimizer: Optimizer
    lr: float
    weight_decay: float
    batch_size: int
    epochs: int
    patience: int | None  # None: no early stopping, no validation split
    validation_fraction: float
    stratify: bool  # the validation split keeps the class proportions
    lr_schedule: LRSchedule
    warmup_epochs: int
    t_mult: int
    n_restarts: int
    snapshots: SnapshotTiming
    epoch_callbacks: Sequence[EpochCallback] = field(default_factory=tuple)
    batch_steps: BatchSteps | None = None  # None: one step of step_loss per mini-batch
    model_name: str = "model"  # for messages


@dataclass
class Trained:
    networks: list[nn.Module]  # in eval mode: the snapshots, oldest first, or the one network
    history: dict


def train(module: nn.Module, X: torch.Tensor, y: torch.Tensor, how: Training, generator: torch.Generator) -> Trained:
    """Trains `module` in place on (X, y), which lie on the module's device."""
    if len(X) < 2:
        raise ValueError(f"{how.model_name} needs at least 2 training rows (BatchNorm), got {len(X)} sample")
    validation = None
    if how.patience is not None:
        X, y, validation = _validation_split(X, y, how, generator)
    optimiser = OPTIMIZERS[how.optimizer](module.parameters(), lr=how.lr, weight_decay=how.weight_decay)
    per_epoch = iterations_per_epoch(len(X), how.batch_size)
    if how.lr_schedule == "cosine_restarts":
        restarts = RestartSchedule(per_epoch, how.epochs, how.warmup_epochs, how.t_mult, how.n_restarts, how.snapshots)
        scheduler, pending = restarts.scheduler(optimiser), list(restarts.snapshot_iterations)
    else:
        scheduler, pending = with_warmup(optimiser, None, how.warmup_epochs * per_epoch), []
    stopper = _EarlyStopping(module, how.patience) if validation is not None else None
    snapshots, iteration, epoch = [], 0, 0
    for epoch in range(1, how.epochs + 1):
        for callback in how.epoch_callbacks:
            callback(epoch)
        module.train()
        # Checked once per epoch: reading a loss on the host every step would make a GPU wait.
        finite = torch.ones((), dtype=torch.bool, device=X.device)
        for batch in batches(len(X), how.batch_size, generator):
            steps = (how.batch_steps(module, X[batch], y[batch]) if how.batch_steps is not None
                     else (how.step_loss(module, X[batch], y[batch]),))
            for loss in steps:
                optimiser.zero_grad()
                finite &= torch.isfinite(loss.detach())
                loss.backward()
                optimiser.step()
            scheduler.step()
            iteration += 1
            if pending and iteration == pending[0]:
                pending.pop(0)
                snapshots.append(copy.deepcopy(module).eval())
        if not finite:
            raise TrainingDiverged(
                f"{how.model_name}: training diverged at epoch {epoch} (a loss became NaN or infinite); lower the "
                f"learning rate (model.lr={how.lr}) or check the data for extreme values")
        if stopper is not None and stopper.stop_after(epoch, validation, how.task_loss):
            break
    module.eval()
    if stopper is not None:
        module.load_state_dict(stopper.best_state)
    history = {"epochs": epoch, **({"best_validation_loss": stopper.best_loss} if stopper else {})}
    return Trained(snapshots or [module], history)


def _validation_split(X: torch.Tensor, y: torch.Tensor, how: Training, generator: torch.Generator):
    """`validation_fraction` of the rows (rounded up), stratified where every class has two rows
    or more; at least one row per class then, so that a small training set still splits."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    labels = y.cpu().numpy()
    size = int(np.ceil(how.validation_fraction * len(X)))
    stratify = how.stratify and np.unique(labels, return_counts=True)[1].min() >= 2
    if stratify:
        size = max(size, len(np.unique(labels)))
    if len(X) - size < 2:
        raise ValueError(f"{how.model_name}: {len(X)} training rows are too few for early stopping's validation "
                         f"split ({size} rows); set patience=None to train without one")
    train_rows, validation_rows = train_test_split(
        np.arange(len(X)), test_size=size, random_state=seed, stratify=labels if stratify else None)
    train_rows, validation_rows = (torch.as_tensor(rows, device=X.device) for rows in (train_rows, validation_rows))
    return X[train_rows], y[train_rows], (X[validation_rows], y[validation_rows])


class _EarlyStopping:
    """Stops after `patience` epochs without a lower validation loss; keeps the best weights."""

    def __init__(self, module: nn.Module, patience: int):
        self.module, self.patience = module, patience
        self.best_loss, self.best_state, self.stale = np.inf, copy.deepcopy(module.state_dict()), 0

    def stop_after(self, epoch: int, validation: tuple[torch.Tensor, torch.Tensor], task_loss) -> bool:
        self.module.eval()
        with torch.no_grad():
            loss = float(task_loss(self.module(validation[0]), validation[1]))
        if loss < self.best_loss - 1e-6:
            self.best_loss, self.best_state, self.stale = loss, copy.deepcopy(self.module.state_dict()), 0
            return False
        self.stale += 1
        return self.stale >= self.patience

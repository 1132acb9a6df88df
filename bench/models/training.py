"""The one training loop of every torch model (bench/models/torch_estimator.py), and its
options as one component, `TrainingLoop`, each torch model's `training`.

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

torch is imported by the functions that train, not with this module: bench.models imports
TrainingLoop for its signature (the typed Hydra schemas), and `--help` loads no torch.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from bench.models.base import store_params

if TYPE_CHECKING:
    import torch
    from torch import nn
    from torch.optim.lr_scheduler import LRScheduler

Optimizer = Literal["adam", "adamw"]
LRSchedule = Literal["constant", "cosine_restarts"]
SnapshotTiming = Literal["cycle_ends", "authors_code"]
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW"}  # torch.optim's class of each `optimizer`

if TYPE_CHECKING:
    StepLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
    BatchSteps = Callable[[nn.Module, torch.Tensor, torch.Tensor], Iterable[torch.Tensor]]
EpochCallback = Callable[[int], None]


def options_of(literal) -> StrOptions:
    """scikit-learn's constraint for an option whose allowed values are a Literal: one list."""
    return StrOptions(set(get_args(literal)))


class TrainingLoop(BaseEstimator):
    """The training loop's options: one component, the `training` parameter of every torch model
    (bench/models/torch_estimator.py), so that scikit-learn reaches them as `training__epochs`
    (get_params, set_params, a grid search) and a run as `model.training.epochs=30`. Its signature
    holds the loop's defaults; a model whose paper trains otherwise states what differs in its
    TRAINING.

    `patience`: early stopping after that many epochs without a lower validation loss, on
    `validation_fraction` of the training rows (None: no early stopping, no validation split).
    `lr_schedule="cosine_restarts"`: IMN's warm restarts, which `t_mult`, `n_restarts` and
    `snapshots` shape; `warmup_epochs` of linear warm-up go before either schedule."""

    _parameter_constraints: dict = {
        "optimizer": [options_of(Optimizer)],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "lr_schedule": [options_of(LRSchedule)],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "t_mult": [Interval(Integral, 2, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "snapshots": [options_of(SnapshotTiming)],
    }
    # Options counted in epochs, which a run's budget sets with `epochs` (bench/models/budget.py):
    # "before", a count that stays below epochs.
    EPOCH_OPTIONS = {"warmup_epochs": "before"}
    # Options that only lr_schedule="cosine_restarts" reads: set away from the model's own loop
    # with another schedule, they would change nothing, so that is an error (as
    # validation_fraction is without early stopping).
    _RESTART_OPTIONS = ("t_mult", "n_restarts", "snapshots")

    def __init__(self, *, optimizer: Optimizer = "adam", lr: float = 1e-3, weight_decay: float = 0.0,
                 batch_size: int = 64, epochs: int = 200, patience: int | None = 10, validation_fraction: float = 0.1,
                 lr_schedule: LRSchedule = "constant", warmup_epochs: int = 0, t_mult: int = 2, n_restarts: int = 3,
                 snapshots: SnapshotTiming = "cycle_ends"):
        store_params(self, locals())

    def check(self, owner: str, defaults: TrainingLoop, constraints: dict | None = None) -> None:
        """scikit-learn's constraints (tightened by the model's `constraints`), then the options
        that only act together. `owner` names the model in messages; `defaults` is its loop when
        given none, from which an option that changes nothing must not stray."""
        validate_parameter_constraints({**self._parameter_constraints, **(constraints or {})},
                                       self.get_params(deep=False), caller_name=f"{owner}.training")
        if self.warmup_epochs >= self.epochs:
            raise ValueError(f"{owner}: warmup_epochs ({self.warmup_epochs}) must be less than epochs ({self.epochs})")
        if self.lr_schedule == "cosine_restarts" and self.patience is not None:
            raise ValueError(f"{owner}: early stopping (patience={self.patience}) would cut the cosine restarts and "
                             "their snapshots short: set patience=None, or lr_schedule='constant'")
        unused = [option for option in self._RESTART_OPTIONS if self.lr_schedule != "cosine_restarts"
                  and getattr(self, option) != getattr(defaults, option)]
        if self.patience is None and self.validation_fraction != defaults.validation_fraction:
            unused.append("validation_fraction")
        if unused:
            raise ValueError(f"{owner}: {', '.join(unused)} would have no effect: t_mult, n_restarts and snapshots "
                             "shape lr_schedule='cosine_restarts', validation_fraction is early stopping's (patience)")


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the message names the model and the epoch."""


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Weight initialisation and dropout seeded without touching torch's global state; yields a
    generator, seeded too, for the shuffling of mini-batches."""
    import torch

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
        from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

        restarts = CosineAnnealingWarmRestarts(optimizer, T_0=self.t_0, T_mult=self.t_mult)
        return with_warmup(optimizer, restarts, self.warmup_iterations)


def with_warmup(optimizer: torch.optim.Optimizer, after: LRScheduler | None, warmup_iterations: int) -> LRScheduler:
    """A linear warm-up from 0 over `warmup_iterations`, then `after` (None: the base rate)."""
    from torch.optim.lr_scheduler import LambdaLR, SequentialLR

    after = after or LambdaLR(optimizer, lambda step: 1.0)
    if warmup_iterations == 0:
        return after
    warmup = LambdaLR(optimizer, lambda step: step / warmup_iterations)
    return SequentialLR(optimizer, [warmup, after], milestones=[warmup_iterations])


def batches(n_rows: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """One epoch's shuffled mini-batches. A trailing batch of one row is dropped: BatchNorm
    cannot normalise a single row in training mode."""
    import torch

    order = torch.randperm(n_rows, generator=generator)
    chunks = list(torch.split(order, batch_size))
    return chunks[:-1] if len(chunks[-1]) == 1 and len(chunks) > 1 else chunks


def iterations_per_epoch(n_rows: int, batch_size: int) -> int:
    full, rest = divmod(n_rows, batch_size)
    return full + (rest > 1)


@dataclass(frozen=True)
class Training:
    """How one fit trains: the loop's options, checked by the estimator, and the model's hooks."""

    loop: TrainingLoop
    step_loss: StepLoss
    task_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # what early stopping monitors
    stratify: bool  # the validation split keeps the class proportions
    epoch_callbacks: Sequence[EpochCallback] = field(default_factory=tuple)
    batch_steps: BatchSteps | None = None  # None: one step of step_loss per mini-batch
    model_name: str = "model"  # for messages
    # The first epoch early stopping watches: before it, no epoch is kept as the best nor counts
    # towards patience (FLINT's, until every loss term is on: its interpreter is not trained yet).
    stop_watching_from: int = 1


@dataclass
class Trained:
    networks: list[nn.Module]  # in eval mode: the snapshots, oldest first, or the one network
    history: dict


def train(module: nn.Module, X: torch.Tensor, y: torch.Tensor, how: Training, generator: torch.Generator) -> Trained:
    """Trains `module` in place on (X, y), which lie on the module's device."""
    import torch

    if len(X) < 2:
        raise ValueError(f"{how.model_name} needs at least 2 training rows (BatchNorm), got {len(X)} sample")
    loop, validation = how.loop, None
    if loop.patience is not None:
        X, y, validation = _validation_split(X, y, how, generator)
    optimiser = getattr(torch.optim, OPTIMIZERS[loop.optimizer])(module.parameters(), lr=loop.lr,
                                                                 weight_decay=loop.weight_decay)
    per_epoch = iterations_per_epoch(len(X), loop.batch_size)
    if loop.lr_schedule == "cosine_restarts":
        restarts = RestartSchedule(per_epoch, loop.epochs, loop.warmup_epochs, loop.t_mult, loop.n_restarts,
                                   loop.snapshots)
        scheduler, pending = restarts.scheduler(optimiser), list(restarts.snapshot_iterations)
    else:
        scheduler, pending = with_warmup(optimiser, None, loop.warmup_epochs * per_epoch), []
    stopper = _EarlyStopping(module, loop.patience) if validation is not None else None
    snapshots, iteration, epoch = [], 0, 0
    for epoch in range(1, loop.epochs + 1):
        for callback in how.epoch_callbacks:
            callback(epoch)
        module.train()
        # Checked once per epoch: reading a loss on the host every step would make a GPU wait.
        finite = torch.ones((), dtype=torch.bool, device=X.device)
        for batch in batches(len(X), loop.batch_size, generator):
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
                f"learning rate (model.training.lr={loop.lr}) or check the data for extreme values")
        watched = stopper is not None and epoch >= how.stop_watching_from
        if watched and stopper.stop_after(epoch, validation, how.task_loss):
            break
    module.eval()
    if stopper is not None:
        module.load_state_dict(stopper.best_state)
    history = {"epochs": epoch, **({"best_validation_loss": stopper.best_loss} if stopper else {})}
    return Trained(snapshots or [module], history)


def _validation_split(X: torch.Tensor, y: torch.Tensor, how: Training, generator: torch.Generator):
    """`validation_fraction` of the rows (rounded up), stratified where every class has two rows
    or more; at least one row per class then, so that a small training set still splits."""
    import torch

    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    labels = y.cpu().numpy()
    size = int(np.ceil(how.loop.validation_fraction * len(X)))
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
        import torch

        self.module.eval()
        with torch.no_grad():
            loss = float(task_loss(self.module(validation[0]), validation[1]))
        if loss < self.best_loss - 1e-6:
            self.best_loss, self.best_state, self.stale = loss, copy.deepcopy(self.module.state_dict()), 0
            return False
        self.stale += 1
        return self.stale >= self.patience

"""Sanity checks ("reality checks"): Adebayo, Gilmer, Muelly, Goodfellow, Hardt, Kim, "Sanity
Checks for Saliency Maps", NeurIPS 2018.

An explanation of a model should depend on what the model learnt. Both checks destroy it and
explain the same rows again, with the same explainer and options (`context.reexplain`); the
score of an instance is the Spearman rank correlation between its explanation of the trained
model and of the destroyed one. By default the ranks are of |phi|, as in the paper's main
figures (`absolute=False` ranks the signed attributions). Lower is better: 1 means the
explanation did not notice that the model was destroyed.

The re-explanations draw independently of the explanation by default (`draws="independent"`,
bench/metrics/context.py), as a user explaining twice sees it; a sampling explainer's own noise
then lowers the correlation as a destroyed model does, so that a noisy explainer looks more
sensitive than it is. `draws="shared"` re-explains with the explanation's own seed and measures
the destruction's effect alone. `reexplanation_agreement`, a diagnostic, measures that noise:
the similarity of two independent explanations of the unchanged model, the level below which a
check's score says nothing about the model.

- `model_parameter_randomisation` (the paper's cascading randomisation, §3.1): the layers the
  explanation reads are re-initialised one at a time from the output down, cumulatively, and
  the rows are explained again after each step. The paper (and Quantus) report the curve over
  the steps; a metric gives one number per instance, so the score is the mean of the curve (a
  step where one explanation is constant, as a randomised network's often is, counts as 0: see
  `explanation_similarity`). A layer is a module that owns parameters and re-initialises them
  with `reset_parameters` (Linear, Conv, BatchNorm, ...). The cascade is the layers the
  explanation reads, not every layer the network registers: a layer it never reads cannot
  change it, and a step that re-initialises one would count as the explanation failing to
  notice. FLINT's network registers f, Psi, h and the decoder, while a post-hoc explainer reads
  f alone and FLINT's own explanation f up to its layer I, Psi and h. So the metric first
  explains the first row again on the trained model and records, through a torch function mode
  (`layers_read`), the layers whose parameters that explanation reads, called or read directly
  (FLINT's explanation reads h's weights), in the order of their first read; the cascade takes
  them in reverse, output first. This assumes that the layers an explanation reads do not
  depend on the row, as for every network of bench.models (none branches on its input). An
  explanation that reads no layer (the `random` control never evaluates the model) has no
  cascade: n/a, since there is no step to average, and no randomisation of the network can
  change it. A BatchNorm layer returns to its initial state (scale 1, shift 0, running
  statistics 0 and 1), as in Quantus. In a snapshot ensemble the same layer of every member
  read is one step.
  Deliberate choice: the layers are re-initialised in the model itself, and their parameters
  and buffers are restored exactly afterwards, however the metric ends, rather than in a deep
  copy: explaining the model the run hands the metric (a CountingModel) counts the
  re-explanations' model evaluations with the metric. The re-initialisation draws from a
  torch RNG seeded from the metric's `rng` (the same stream for every explainer of the fold,
  so that all are checked against the same randomised networks) inside
  `torch.random.fork_rng`, so torch's global RNG state is left as found.
- `data_randomisation` (§3.2): a fresh model of the run's config is trained on a random
  permutation of the training labels, once per fold (`context.cached`, the permutation from
  `context.fold_rng`, so that it does not depend on which explainer asks first), and the rows
  are explained with it. Any model: retraining needs no network.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import Draws, MetricContext, check_draws
from bench.metrics.subsample import first_instances, padded
from bench.metrics.rowwise import spearman_rows

if TYPE_CHECKING:
    from torch import nn

# A snapshot ensemble's members sit at `members.<i>` (bench/models/torch_estimator.py, Ensemble):
# without the index, the paths of one layer of every member are the same.
MEMBER_INDEX = re.compile(r"(?:^|(?<=\.))members\.\d+(?:\.|$)")
# What a tensor's attributes and these methods tell about it without reading its values: an
# explainer that asks a parameter where it lives (bench.core.tensors.module_device) or how it is
# shaped does not compute with its layer.
METADATA = frozenset({"device", "dtype", "shape", "ndim", "layout", "is_cuda", "is_leaf", "requires_grad", "grad",
                      "grad_fn", "size", "dim", "numel", "is_floating_point", "requires_grad_",
                      "_has_compatible_shallow_copy_type"})
# Moves that return the tensor itself when it is where it is asked to go (module.to(device)):
# what is then done with it is a read of its own.
MOVES = frozenset({"to", "cpu", "cuda"})


@metric(category="sanity", higher_is_better=False)
def model_parameter_randomisation(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                                  rng: np.random.Generator, absolute: bool = True,
                                  max_layers: int | None = None, n_instances: int | None = None,
                                  draws: Draws = "independent") -> np.ndarray:
    """(n,) mean Spearman correlation over the cascade's steps (the first `max_layers` layers
    from the output, all when None); see the module docstring. Only the first `n_instances`
    rows are scored (bench/metrics/subsample.py), the rest are NaN."""
    check_absolute("model_parameter_randomisation", absolute)
    check_draws("model_parameter_randomisation", draws)
    n = len(X)
    X, explanation = first_instances(X, explanation, n_instances, "model_parameter_randomisation")
    if max_layers is not None and (isinstance(max_layers, bool) or not isinstance(max_layers, numbers.Integral)
                                   or max_layers < 1):
        raise ValueError(f"model_parameter_randomisation max_layers must be a positive integer or None (all "
                         f"layers), got {max_layers!r}")
    if not callable(getattr(model, "torch_module", None)):
        raise NotApplicable("model_parameter_randomisation re-initialises a network's layers, and the model has "
                            "no torch network")
    reexplain = functools.partial(context.reexplain, model, draws=draws)
    probe = functools.partial(reexplain, X[:1], explanation.target[:1], purpose="model_parameter_randomisation/probe")
    steps = cascade(model.torch_module(), probe)[:max_layers]
    correlations = []
    with parameters_restored([layer for step in steps for layer in step]):
        for i, step in enumerate(steps):
            reinitialise(step, rng)
            randomised = reexplain(X, explanation.target, purpose=f"model_parameter_randomisation/step{i}")
            correlations.append(explanation_similarity(explanation, randomised, absolute))
    return padded(np.mean(correlations, axis=0), n)


@metric(category="sanity", higher_is_better=False)
def data_randomisation(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                       rng: np.random.Generator, absolute: bool = True, n_instances: int | None = None,
                       draws: Draws = "independent") -> np.ndarray:
    """(n,) Spearman correlation with the explanation of a model trained on permuted labels.
    `rng` is unused: the permutation and the re-explanation's draws are the fold's (see the
    module docstring). Only the first `n_instances` rows are scored, the rest are NaN."""
    check_absolute("data_randomisation", absolute)
    check_draws("data_randomisation", draws)
    n = len(X)
    X, explanation = first_instances(X, explanation, n_instances, "data_randomisation")
    permuted_label_model = context.cached("permuted_label_model", lambda: fit_on_permuted_labels(context))
    randomised = context.reexplain(permuted_label_model, X, explanation.target, draws=draws,
                                   purpose="data_randomisation")
    return padded(explanation_similarity(explanation, randomised, absolute), n)


@metric(category="diagnostic", higher_is_better=True)
def reexplanation_agreement(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                            rng: np.random.Generator, absolute: bool = True, n_instances: int | None = None) -> np.ndarray:
    """(n,) Spearman correlation of the explanation with the same explainer's explanation of the
    same model and rows, drawn independently: the explainer's own noise, 1 for a deterministic
    one. It is the floor of both checks under independent draws: a check that scores near it
    cannot tell a destroyed model from the explainer's sampling noise (the random control scores
    about 0 on both). Only the first `n_instances` rows are scored, the rest are NaN."""
    check_absolute("reexplanation_agreement", absolute)
    n = len(X)
    X, explanation = first_instances(X, explanation, n_instances, "reexplanation_agreement")
    again = context.reexplain(model, X, explanation.target, draws="independent", purpose="reexplanation_agreement")
    return padded(explanation_similarity(explanation, again, absolute), n)


def check_absolute(metric_name: str, absolute) -> None:
    if not isinstance(absolute, bool):
        raise ValueError(f"{metric_name} absolute must be true (rank |phi|) or false (rank phi), got {absolute!r}")


def cascade(network: nn.Module, explain_probe: Callable[[], object]) -> list[list[nn.Module]]:
    """The layers to re-initialise, output first: those of `network` that `explain_probe` reads
    (`layers_read`), one list per step, the modules at one path (one per member of a snapshot
    ensemble)."""
    steps: dict[str, list[nn.Module]] = {}
    for path, module in layers_read(network, explain_probe):
        if not callable(getattr(module, "reset_parameters", None)):
            # Skipping it would leave trained parameters the explanation reads in a "randomised" network.
            raise NotApplicable(f"model_parameter_randomisation cannot re-initialise the layer {path} "
                                f"({type(module).__name__}): it has no reset_parameters")
        steps.setdefault(MEMBER_INDEX.sub("", path), []).append(module)
    if not steps:
        raise NotApplicable("model_parameter_randomisation: the explanation reads none of the network's layers (it "
                            "does not evaluate the model), so no randomisation of them can change it: the cascade "
                            "has no step")
    return list(steps.values())[::-1]


def layers_read(network: nn.Module, compute: Callable[[], object]) -> list[tuple[str, nn.Module]]:
    """(path, module) of each module of `network` that owns parameters and whose parameters
    `compute` reads, in the order of the first read: a layer called, or one whose weights are
    read outside a call. A torch function mode sees every torch operation and its arguments;
    asking a parameter about itself (METADATA) or writing an attribute of it is not a read, nor
    is a move that returns it where it already is (MOVES)."""
    # torch here, not at the top: `--help` imports this module for its signatures only
    from torch.overrides import TorchFunctionMode

    owners = {id(parameter): (path, module) for path, module in network.named_modules()
              for parameter in module.parameters(recurse=False)}
    read: dict[int, tuple[str, nn.Module]] = {}  # by the module's id, in the order of the first read

    class Reads(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            if reads_values(func, args, result):
                for argument in flattened_arguments((args, kwargs)):
                    if id(argument) in owners:
                        path, module = owners[id(argument)]
                        read.setdefault(id(module), (path, module))
            return result

    with Reads():
        compute()
    return list(read.values())


def reads_values(func: Callable, args: tuple, result) -> bool:
    """Whether the torch operation `func(*args)`, which gave `result`, reads its tensors' values
    (see layers_read)."""
    name = getattr(func, "__name__", "")
    if name == "__set__":  # an attribute written (module.to sets each parameter's .data)
        return False
    if name == "__get__":  # an attribute read, named by its descriptor: .device is not a value, .T is
        name = getattr(getattr(func, "__self__", None), "__name__", "")
    return name not in METADATA and not (name in MOVES and args and result is args[0])


def flattened_arguments(arguments) -> Iterator:
    """Every argument, inside lists, tuples and dicts too (torch.cat takes a list of tensors)."""
    if isinstance(arguments, (list, tuple)):
        for argument in arguments:
            yield from flattened_arguments(argument)
    elif isinstance(arguments, dict):
        for argument in arguments.values():
            yield from flattened_arguments(argument)
    else:
        yield arguments


@contextlib.contextmanager
def parameters_restored(modules: list[nn.Module]) -> Iterator[None]:
    """The modules' own parameters and buffers as they were before the block, however it ends."""
    saved = [{name: tensor.clone() for name, tensor in module.state_dict().items()} for module in modules]
    try:
        yield
    finally:
        for module, state in zip(modules, saved):
            module.load_state_dict(state)


def reinitialise(modules: list[nn.Module], rng: np.random.Generator) -> None:
    import torch  # here, not at the top: `--help` imports this module for its signatures only

    # A layer on a GPU draws from that device's generator: fork it too, so that no global state moves.
    gpus = sorted({p.device.index or 0 for m in modules for p in m.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=gpus):
        torch.manual_seed(int(rng.integers(2**63)))
        for module in modules:
            module.reset_parameters()


def explanation_similarity(original: Explanation, other: Explanation, absolute: bool) -> np.ndarray:
    """(n,) Spearman correlation of the two explanations, row by row. Where one is constant (a
    randomised network often gives all-zero gradients) the correlation is undefined and counts
    as 0, no rank agreement: leaving those rows out would drop exactly the instances where the
    explanation reacted to the randomisation, and bias the mean towards failing the check."""
    a, b = (np.asarray(e.values, dtype=np.float64).reshape(len(e.values), -1) for e in (original, other))
    correlation = spearman_rows(np.abs(a), np.abs(b)) if absolute else spearman_rows(a, b)
    return np.nan_to_num(correlation, nan=0.0)


def fit_on_permuted_labels(context: MetricContext):
    labels = context.fold_rng("permuted_labels").permutation(np.asarray(context.y_train))
    return context.fit(context.X_train, labels)

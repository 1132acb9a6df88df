"""Errors a user can act on. The command line prints their message on one line, without a
traceback (set HYDRA_FULL_ERROR=1 to see it), and exits non-zero."""


def one_line(error: BaseException, limit: int = 500) -> str:
    """An exception as one line for a result row or a log: its type and its message."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:limit]}"


class BenchError(Exception):
    """A problem with the user's input or environment; the message names it and the fix."""


class DataUnavailable(BenchError):
    """A task or dataset that cannot be loaded (not cached offline, corrupt cache file).

    `reason` is a short phrase shared by tasks skipped for the same cause, so that a list of
    skipped tasks can be grouped; the message says the same at length, with the fix."""

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


class IncompatibleModel(BenchError):
    """A model asked to handle data it cannot (e.g. a CNN on tabular data)."""


class UnusableFold(ValueError):
    """A fold no model can learn from (a single training class, no usable column): the run
    records its units as n/a with this message rather than retrying them."""


class NotApplicable(Exception):
    """An explainer that finds, only once it sees the data, that it cannot explain it (exact
    Shapley values of too many features, an image method on a table): the run records the
    unit as n/a with this message, as for a model the explainer cannot explain."""

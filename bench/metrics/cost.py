"""What an explanation costs: wall seconds, peak memory and model evaluations.

Peak memory is the process's resident set size sampled by a background thread (psutil),
minus its size when the measurement began: it sees torch's allocations, which tracemalloc
does not, but can miss a spike shorter than the sampling interval.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psutil
from bench.core.calls import CountingModel


class PeakMemory:
    def __init__(self, interval_s: float = 0.002):
        self.interval_s = interval_s
        self.peak_bytes = 0

    def __enter__(self) -> "PeakMemory":
        self._process = psutil.Process()
        self._start = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss - self._start)
            self._stop.wait(self.interval_s)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss - self._start)


@dataclass(frozen=True)
class Cost:
    seconds: float
    peak_memory_bytes: int
    model_evaluations: int  # input rows the model evaluated
    model_calls: int

    def per_instance(self, n_instances: int) -> dict[str, float]:
        """The cost rows of one explanation (lower is better). Peak memory is reported for the
        whole call, and divided by the instances explained together for comparisons across
        sample sizes (memory does not add up per instance the way time does)."""
        return {
            "wall_seconds_per_instance": self.seconds / n_instances,
            "peak_memory_mb": self.peak_memory_bytes / 2**20,
            "peak_memory_mb_per_instance": self.peak_memory_bytes / 2**20 / n_instances,
            "model_evaluations_per_instance": self.model_evaluations / n_instances,
            "model_calls_per_instance": self.model_calls / n_instances,
        }


def measure(explain, model) -> tuple[object, Cost]:
    """Runs `explain(counted_model)` and returns its result with what it cost."""
    counted = CountingModel(model)
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = explain(counted)
        seconds = time.perf_counter() - start
    return result, Cost(seconds, memory.peak_bytes, counted.rows, counted.calls)

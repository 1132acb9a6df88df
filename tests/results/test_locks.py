"""The lock a run holds on a unit: another process waits for it, and a holder killed with -9
leaves it free (the resume after a kill must not find a stale claim)."""

from __future__ import annotations

import errno
import fcntl
import logging
import signal
import subprocess
import sys
import threading
import time

from bench.core.paths import PROJECT_ROOT
from bench.results.locks import locked
from bench.results.units import ExplainUnit, FitUnit, lock_path

HOLD = "import sys, time; from bench.results.locks import locked\n" \
       "with locked(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(600)"


def test_a_held_lock_makes_another_process_wait_and_a_kill_9_frees_it(tmp_path):
    path = tmp_path / "locks" / "unit.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        events = []

        def waiter():
            with locked(path, on_wait=lambda: events.append("waiting")):
                events.append("held")

        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        time.sleep(0.5)
        assert events == ["waiting"]  # told it waits, and still waiting
        holder.send_signal(signal.SIGKILL)
        thread.join(timeout=30)
        assert events == ["waiting", "held"]
    finally:
        holder.kill()
        holder.wait()
    with locked(path, on_wait=lambda: events.append("waiting again")):
        pass
    assert events == ["waiting", "held"] and path.exists()  # a free lock: no wait; the file stays


def test_a_file_system_that_cannot_lock_leaves_the_run_unlocked_with_one_warning(tmp_path, monkeypatch, caplog):
    def refused(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refused)
    monkeypatch.setattr("bench.results.locks._unsupported", set())
    ran = []
    with caplog.at_level(logging.WARNING, logger="bench"):
        for name in ("a", "b"):
            with locked(tmp_path / f"{name}.lock"):
                ran.append(name)
    assert ran == ["a", "b"]
    assert caplog.text.count("cannot be locked") == 1 and "No locks available" in caplog.text


def test_lock_files_lie_outside_rows_and_artifacts(tmp_path):
    fit = FitUnit("s", "d", "task-1", 0, 0, "m", "abc", "def")
    explain = ExplainUnit(fit, "ig", "123")
    assert lock_path(tmp_path, fit) == tmp_path / "locks" / fit.folder / "_model.lock"
    assert lock_path(tmp_path, explain) == tmp_path / "locks" / explain.folder / "ig-123.lock"
    # The fit's lock is its model's, whatever the prediction metrics: one run trains the model.
    assert lock_path(tmp_path, fit) == lock_path(tmp_path, FitUnit("s", "d", "task-1", 0, 0, "m", "abc", "other"))

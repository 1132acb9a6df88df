"""A worker of a joblib sweep ends when the process that started it is gone. Otherwise a
`python -m bench -m` killed with SIGKILL (by hand, by the OOM killer) leaves its workers
re-parented, still writing rows, and a rerun started at once writes beside them into the same
folder. Rows are stored atomically (temporary file + rename): a worker that ends mid-unit loses
only that unit.

Why polling os.getppid() and not prctl(PR_SET_PDEATHSIG): the kernel sends that signal when the
*thread* that forked the child ends, not its process, and loky forks replacement workers from its
executor-manager thread, which ends whenever loky shuts the executor down or restarts it; it is
also Linux-only, and lost if the parent dies before the child sets it. One getppid() per half
second costs nothing and means the same on every POSIX system.

Only joblib's workers watch, from their start (WatchedWorkers): the process of `python -m bench`
itself may outlive its shell on purpose (nohup, setsid), and runs the jobs itself under Hydra's
basic launcher or joblib with one job (n_jobs=1 runs no worker). Jobs of other launchers are left
to them: a SLURM job lives as long as the scheduler says, and submitit's local jobs are children
of its own controller process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import psutil
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict

# Sysexits' "temporary failure" (75): the job stopped early, and a rerun resumes it; a process
# tracer or a subreaper tells it apart from a crash.
PARENT_GONE = os.EX_TEMPFAIL
POLL_S = 0.5
JOBLIB_LAUNCHER = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"

_watched: int | None = None  # the parent this process's watch thread compares against


def watch_parent(interval_s: float = POLL_S) -> None:
    """Ends this process, with exit code PARENT_GONE, within `interval_s` of its parent's death.
    Once per process: a loky worker runs job after job."""
    global _watched
    if _watched is not None:
        return
    _watched = _starting_parent()
    threading.Thread(target=_watch, args=(_watched, interval_s), name="bench-watch-parent", daemon=True).start()


def _starting_parent() -> int:
    """The process that started this one. A loky worker can begin its first job after the sweep is
    already gone and it has been re-parented: multiprocessing noted its parent when it was started
    (loky forks and execs each worker itself, so that parent is also its parent process)."""
    started_by = multiprocessing.parent_process()
    return os.getppid() if started_by is None else started_by.pid


def _watch(parent: int, interval_s: float) -> None:
    while os.getppid() == parent:
        time.sleep(interval_s)
    # os._exit: from a thread, the only way to end the process at once. No message first: the
    # worker's stderr is the dead sweep's, possibly a full pipe no one reads, and a write would block.
    os._exit(PARENT_GONE)


class WatchedWorkers(Callback):
    """Runs watch_parent first thing in each of joblib's workers, not only when a job begins: a
    worker that the sweep's death catches before its first job would wait for one until loky's
    idle timeout (5 minutes), and starting a job can take it seconds. In the process that launches
    the sweep, before Hydra builds the launcher from this config: joblib's launcher hands its config
    to joblib.Parallel, which gives `initializer` to loky, which calls it as each worker starts."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        launcher = config.hydra.launcher
        if launcher._target_ == JOBLIB_LAUNCHER:
            with open_dict(launcher):
                launcher.initializer = {"_target_": f"{__name__}.{watch_parent.__name__}", "_partial_": True}


def survivors(session: int) -> list[int]:
    """The processes of a session still running (a zombie has stopped; it only waits for its
    reaper). A sweep started in a session of its own (start_new_session=True) holds every process
    it started: loky's workers and resource trackers keep the session."""
    alive = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getsid(process.pid) == session and process.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except (ProcessLookupError, PermissionError):  # ended meanwhile, or another user's
            continue
    return alive

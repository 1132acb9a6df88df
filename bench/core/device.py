"""Where torch computes: the `device` option of every torch model ("auto": CUDA when there is
one, else the CPU; "cpu"; "cuda"; "cuda:N"), and the device's name for the result rows. torch is
imported when a device is resolved, not with this module: `--help` and config errors import
every model for its constructor's signature, and load no torch (tests/test_front_door.py)."""

from __future__ import annotations

import functools
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


def resolve_device(spec: str) -> torch.device:
    """The torch device of a `device` option; a ValueError that names the option and the fix
    for a spelling torch would not take or a GPU this machine does not have."""
    import torch

    if not isinstance(spec, str) or not DEVICE_PATTERN.fullmatch(spec):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={spec!r}, but torch sees no CUDA device here (torch {torch.__version__}, "
                             f"built {'with' if torch.version.cuda else 'without'} CUDA); use device=auto or "
                             "device=cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device={spec!r}, but this machine has {torch.cuda.device_count()} CUDA device(s): "
                             f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return device


def describe_device(device: torch.device | str | None) -> str:
    """What a result row records: "cuda:0 (NVIDIA H200)", or "cpu (<processor model>)"."""
    import torch

    device = torch.device("cpu" if device is None else device)
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({cpu_model()})"


@functools.cache
def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"

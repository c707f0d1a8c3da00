"""Which device and numeric precision a run uses.

`select_device("auto")` prefers CUDA, then Apple's MPS, then the CPU. Every problem is a
`DeviceError` (a ValueError) whose message says what to choose instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import torch


class DeviceError(ValueError):
    """A device or precision that cannot be used here; the message says what to pick."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def select_device(name: str) -> torch.device:
    """'auto' | 'cpu' | 'cuda' | 'cuda:N' | 'mps' -> torch.device; DeviceError if unusable."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    m = re.fullmatch(r"cuda(?::(\d+))?", name)
    if m:
        if not torch.cuda.is_available():
            raise DeviceError(
                f"CUDA was requested ({name!r}) but no CUDA device is available; choose 'cpu' or 'auto'"
            )
        index = int(m.group(1) or 0)
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceError(
                f"CUDA device {index} was requested but this machine has {count} "
                f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''}); choose one of those or 'auto'"
            )
        return torch.device("cuda", index)
    if name == "mps":
        if not _mps_available():
            raise DeviceError("MPS (Apple GPU) was requested but is not available here; choose 'cpu' or 'auto'")
        return torch.device("mps")
    raise DeviceError(f"unknown device {name!r}; choose 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")


def device_name(device: torch.device) -> str:
    """Words for a device, as shown to a person: 'CPU (2 cores)', 'NVIDIA H100 80GB HBM3'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({cpu_count()} cores, {torch.get_num_threads()} threads)"


def available_devices() -> list[tuple[str, str]]:
    """[("cpu", "CPU (N cores)"), ("cuda:0", "CUDA 0: NVIDIA H100 ..."), ("mps", "Apple GPU (MPS)")]"""
    out = [("cpu", f"CPU ({cpu_count()} cores)")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            out.append((f"cuda:{i}", f"CUDA {i}: {torch.cuda.get_device_name(i)}"))
    if _mps_available():
        out.append(("mps", "Apple GPU (MPS)"))
    return out


@dataclass(frozen=True)
class Precision:
    name: str  # "fp32" | "bf16" | "fp16"
    dtype: torch.dtype | None  # autocast dtype; None for plain fp32
    grad_scaler: bool  # fp16 needs a GradScaler

    @property
    def autocast(self) -> bool:
        return self.dtype is not None


def resolve_precision(requested: str, device: torch.device) -> Precision:
    """'auto' -> fp32 on CPU/MPS, bf16 on CUDA when supported else fp16 (+GradScaler).

    bf16 autocast works on the CPU and is allowed there; fp16 on the CPU is refused.
    """
    requested = requested or "auto"
    if requested == "fp32":
        return Precision("fp32", None, False)
    if requested == "auto":
        if device.type == "cuda":
            if torch.cuda.is_bf16_supported():
                return Precision("bf16", torch.bfloat16, False)
            return Precision("fp16", torch.float16, True)
        return Precision("fp32", None, False)
    if requested == "bf16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise DeviceError(
                f"{torch.cuda.get_device_name(device)} does not support bf16; choose precision 'fp16', 'fp32' or 'auto'"
            )
        return Precision("bf16", torch.bfloat16, False)
    if requested == "fp16":
        if device.type != "cuda":
            raise DeviceError(
                f"fp16 mixed precision needs a CUDA GPU (this run is on {device.type}); "
                "choose precision 'bf16', 'fp32' or 'auto'"
            )
        return Precision("fp16", torch.float16, True)
    raise DeviceError(f"unknown precision {requested!r}; choose 'auto', 'fp32', 'bf16' or 'fp16'")

"""Is the process that owns a "running" run still alive? (Same host only; a pid recycled by
another process is told apart by its start time.)"""

from __future__ import annotations

import os
import socket

__all__ = ["HOST", "proc_start_token", "process_alive"]


def proc_start_token(pid: int) -> str:
    """Start time of a process (Linux /proc), so a recycled pid is not mistaken for the run."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        # field 22 (starttime); the command name (field 2) may contain spaces, so split after ')'
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def process_alive(pid: int, token: str | None) -> bool:
    """Whether process `pid` (started at `token`, see proc_start_token) still runs on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    if token:
        now = proc_start_token(pid)
        if now and now != token:
            return False  # the pid was reused by another process
    return True


HOST = socket.gethostname()

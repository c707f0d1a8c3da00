"""A train target for the child-process tests (a stand-in for workbench.core.training.train, run
in the child): it yields a few epochs, then ends its process the way a crash does. Directives go
in spec.name as `key=value` words:

    after=2     epochs before the end
    code=5      os._exit(5); `code=segv` dereferences NULL (a segmentation fault) instead
    stderr=1    first write a warning and an error line to stderr (fd 2, as native code does)
"""

from __future__ import annotations

import ctypes
import os

from workbench.core.training import EpochEnd

STDERR_TEXT = b"some warning\nRuntimeError: the native thing broke\n"


def train(spec, **_ignored):
    d = dict(w.split("=", 1) for w in spec.name.split() if "=" in w)
    for epoch in range(1, int(d.get("after", 2)) + 1):
        yield EpochEnd(epoch=epoch, step=epoch, logs={"loss": 1.0 / epoch}, lr=0.01, samples_per_s=0.0,
                       elapsed=0.0, epoch_seconds=0.0)
    if d.get("stderr"):
        os.write(2, STDERR_TEXT)
    if d.get("code") == "segv":
        ctypes.string_at(0)
    os._exit(int(d.get("code", 3)))

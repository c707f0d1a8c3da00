"""Batch order of the training engine (public so a test can reproduce the engine by hand).

Epoch e (1-based) visits the training rows in `epoch_permutation(n, seed, e)` order, in slices
of `batch_size`; the last partial batch is kept, except a last batch of ONE sample when the
model has BatchNorm (BatchNorm cannot normalise a single sample in training mode), which is
dropped. `batch_slices` gives the slices.
"""

from __future__ import annotations

import os

import torch

from workbench.core.training.device import cpu_count

__all__ = ["epoch_seed", "epoch_permutation", "batch_slices", "gathered_batches", "resolve_batch_size",
           "threads_for", "GATHER_BYTES"]

GATHER_BYTES = 16 << 20  # the epoch's rows are gathered in permuted order this many bytes at a time


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch `epoch`'s generator (shuffling; augmentation uses `seed + 1`)."""
    return (int(seed) * 1_000_003 + int(epoch) * 7_919 + 0x5EED) % (2**63 - 1)


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order (CPU int64 tensor) in which epoch `epoch` (1-based) visits `n` training rows.
    A fresh generator per epoch: a resumed run visits the same order as an unbroken one."""
    g = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    return torch.randperm(n, generator=g)


def batch_slices(n: int, batch_size: int, drop_single_last: bool = False) -> list[tuple[int, int]]:
    """[(start, stop), ...] over the permuted rows; the last partial batch is kept unless it
    has one row and `drop_single_last` (models with BatchNorm)."""
    out = [(a, min(a + batch_size, n)) for a in range(0, n, batch_size)]
    if drop_single_last and len(out) > 1 and out[-1][1] - out[-1][0] == 1:
        out.pop()
    return out


def gathered_batches(X: torch.Tensor, perm: torch.Tensor, n_used: int, batch_size: int):
    """The epoch's batches of X in `perm` order: rows gathered a block of whole batches at a time
    (one `index_select` per block, then contiguous slices), so the loop does no per-batch gather
    and a big training set is never copied whole (a set under GATHER_BYTES is one block, as
    before: one gather per epoch)."""
    row_bytes = max(1, X[:1].numel() * X.element_size())
    rows = max(batch_size, (GATHER_BYTES // row_bytes) // batch_size * batch_size)
    for a in range(0, n_used, rows):
        yield from X.index_select(0, perm[a:min(a + rows, n_used)]).split(batch_size)


def resolve_batch_size(batch_size: int | str, n_train: int, full_batch: bool = False) -> int:
    """'full' (or a full-batch optimizer such as LBFGS) -> n_train; larger than n_train -> n_train."""
    if full_batch or batch_size == "full":
        return max(1, n_train)
    return max(1, min(int(batch_size), n_train))


def threads_for(spec_threads: int | None, threads: int | None = None) -> int | None:
    """CPU threads for torch: the spec's, else the caller's, else cores-1 when WORKBENCH_GUI=1
    (so the window keeps a core), else None (leave torch's default)."""
    if spec_threads:
        return int(spec_threads)
    if threads:
        return int(threads)
    if os.environ.get("WORKBENCH_GUI") == "1":
        return max(1, cpu_count() - 1)
    return None

"""The engine gathers an epoch's rows a block at a time: the same batches, the same training,
whether the training set fits one block or needs many."""

from __future__ import annotations

import torch

from trainer_support import mlp_spec, spiral_data
from workbench.core.training import EpochEnd, epoch_permutation, train
from workbench.core.training import batching


def test_gathered_batches_are_the_whole_gather_sliced(monkeypatch):
    X = torch.arange(1000 * 3, dtype=torch.float32).reshape(1000, 3)
    perm = epoch_permutation(1000, 0, 1)
    whole = list(X.index_select(0, perm)[:990].split(32))
    monkeypatch.setattr(batching, "GATHER_BYTES", 100 * 3 * 4)  # blocks of 96 rows (3 batches)
    blocks = list(batching.gathered_batches(X, perm, 990, 32))
    assert len(blocks) == len(whole) and all(torch.equal(a, b) for a, b in zip(blocks, whole))
    assert [len(b) for b in blocks][-2:] == [32, 30]


def test_training_is_the_same_with_many_small_blocks(monkeypatch):
    def losses():
        return [e.logs["loss"] for e in train(mlp_spec(epochs=2), data=spiral_data(400)) if isinstance(e, EpochEnd)]

    one_block = losses()
    monkeypatch.setattr(batching, "GATHER_BYTES", 64 * 2 * 4)  # 64 rows a block: several per epoch
    assert losses() == one_block

"""augment_batch: shapes, determinism, each transform doing what it says."""

from __future__ import annotations

import torch

from workbench.core.data import augment_batch
from workbench.core.spec import AugmentSpec


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def batch():
    return torch.rand(16, 3, 10, 12, generator=gen(99))


def test_shape_dtype_and_determinism():
    aug = AugmentSpec(hflip=True, vflip=True, rotate_degrees=15, shift=0.1, noise_std=0.1)
    x = batch()
    a, b = augment_batch(x, aug, gen(1)), augment_batch(x, aug, gen(1))
    assert a.shape == x.shape and a.dtype == x.dtype and a.device == x.device
    assert torch.equal(a, b)
    assert not torch.equal(a, augment_batch(x, aug, gen(2)))
    assert torch.equal(x, batch())  # input untouched


def test_nothing_enabled_is_identity():
    x = batch()
    assert torch.equal(augment_batch(x, AugmentSpec(), gen()), x)


def test_hflip_flips_some_samples_exactly():
    x = batch()
    y = augment_batch(x, AugmentSpec(hflip=True), gen())
    flipped = [torch.equal(y[i], x[i].flip(-1)) for i in range(len(x))]
    same = [torch.equal(y[i], x[i]) for i in range(len(x))]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same)


def test_vflip():
    x = batch()
    y = augment_batch(x, AugmentSpec(vflip=True), gen())
    assert all(torch.equal(y[i], x[i].flip(-2)) or torch.equal(y[i], x[i]) for i in range(len(x)))


def test_shift_moves_content():
    x = torch.zeros(32, 1, 20, 20)
    x[:, :, 8:12, 8:12] = 1.0
    y = augment_batch(x, AugmentSpec(shift=0.2), gen())
    com = lambda t: (t[:, 0].sum(1) * torch.arange(20.0)).sum(1) / t[:, 0].sum((1, 2))  # noqa: E731
    moved = (com(y) - com(x)).abs()
    assert moved.max() > 1.0 and moved.max() <= 0.2 * 20 + 0.5


def test_rotation_keeps_centre_and_mass():
    x = torch.zeros(8, 1, 21, 21)
    x[:, :, 9:12, 2:19] = 1.0  # a horizontal bar through the centre
    y = augment_batch(x, AugmentSpec(rotate_degrees=90), gen())
    assert torch.allclose(y[:, 0, 10, 10], torch.ones(8), atol=1e-4)
    assert not torch.allclose(y, x)


def test_noise_std():
    x = torch.zeros(64, 1, 16, 16)
    y = augment_batch(x, AugmentSpec(noise_std=0.5), gen())
    assert abs(y.std().item() - 0.5) < 0.02


def test_tabular_batches_get_noise_only():
    x = torch.zeros(100, 4)
    y = augment_batch(x, AugmentSpec(hflip=True, rotate_degrees=30, noise_std=0.1), gen())
    assert y.shape == x.shape and 0.08 < y.std().item() < 0.12

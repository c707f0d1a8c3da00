"""Batched, on-device augmentation of image training batches.

Applied by the trainer to training batches only. Every random number comes from `generator`
(drawn on the generator's device, then moved to x's device), so a seeded generator gives the
same batch twice. Rotation and shift are one affine warp (affine_grid + grid_sample, border
padding); flips are per-sample; noise is Gaussian. For non-image tensors (N, F) only the
noise applies.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported on first use: loading data must not wait for it
    import torch


def _rand(n: int, generator: torch.Generator, device: torch.device, shape=()) -> torch.Tensor:
    import torch

    return torch.rand((n, *shape), generator=generator, device=generator.device).to(device)


def augment_batch(x: torch.Tensor, aug, generator: torch.Generator) -> torch.Tensor:
    if aug is None or x.shape[0] == 0:
        return x
    import torch
    import torch.nn.functional as F

    n, device = x.shape[0], x.device
    if x.dim() == 4:
        if aug.hflip:
            flip = _rand(n, generator, device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        if aug.vflip:
            flip = _rand(n, generator, device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-2), x)
        if aug.rotate_degrees > 0 or aug.shift > 0:
            h, w = x.shape[-2:]
            angle = (_rand(n, generator, device) * 2 - 1) * math.radians(aug.rotate_degrees)
            # a shift of `shift` of the size is 2*shift in grid coordinates ([-1, 1] spans the image)
            shift = (_rand(n, generator, device, (2,)) * 2 - 1) * (2 * aug.shift)
            cos, sin = torch.cos(angle), torch.sin(angle)
            theta = torch.stack(
                [
                    torch.stack([cos, -sin * (h / w), shift[:, 0]], dim=1),
                    torch.stack([sin * (w / h), cos, shift[:, 1]], dim=1),
                ],
                dim=1,
            ).to(x.dtype)
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if aug.noise_std > 0:
        noise = torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype)
        x = x + aug.noise_std * noise.to(device)
    return x

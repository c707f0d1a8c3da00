"""What an export hands back, its error, and small helpers every format uses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = ["ExportError", "ExportResult", "file_stem", "model_output_width"]


class ExportError(ValueError):
    """An export that cannot be made; the message says why and what to do."""


@dataclass
class ExportResult:
    format: str
    files: list[Path]
    messages: list[str] = field(default_factory=list)      # sentences for people (checks, notes)
    parity: Any = None                                      # onnx_io.Parity for ONNX
    details: dict[str, Any] = field(default_factory=dict)  # numbers for --json

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "files": [str(f) for f in self.files], "messages": self.messages,
                "parity": self.parity.to_dict() if self.parity else None, **self.details}


def file_stem(name: str) -> str:
    """A file name from a run name: 'Spiral MLP (branch of #3)' -> 'spiral-mlp-branch-of-3'."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return stem[:60] or "model"


def model_output_width(model: torch.nn.Module, meta: Any) -> int:
    """How many numbers the model outputs per sample."""
    with torch.no_grad():
        was = model.training
        model.eval()
        out = model(torch.zeros((2, *meta.input_shape)))
        model.train(was)
    return int(out.reshape(2, -1).shape[1])

"""What a model is summarised as: its layers' shapes, parameters, FLOPs and memory, and the
error a person gets for an impossible one (see training/model.py for how they are counted)."""

from __future__ import annotations

from dataclasses import dataclass, field


class ModelError(ValueError):
    """An impossible model. The message names the layer ("Layer 3 (Linear)") and what to change."""

    def __init__(self, message: str, layer_index: int | None = None, layer_type: str | None = None):
        super().__init__(message)
        self.message = message
        self.layer_index = layer_index
        self.layer_type = layer_type


@dataclass
class LayerInfo:
    index: int                              # 0-based position in its list
    type: str
    out_shape: tuple[int, ...]              # per sample; () when not reached (after an error)
    params: int
    flops: int                              # per sample forward (see module docstring)
    error: str | None = None                # the full message, on the first failing layer only
    in_shape: tuple[int, ...] = ()
    inner: list["LayerInfo"] = field(default_factory=list)   # Residual's inner layers


@dataclass
class ModelSummary:
    layers: list[LayerInfo]
    total_params: int
    trainable_params: int
    total_flops: int                        # per sample forward
    memory_bytes: int                       # estimate per batch
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]           # () when a layer failed
    notes: list[str] = field(default_factory=list)      # e.g. automatic residual projections
    memory: dict[str, int] = field(default_factory=dict)  # weights, gradients, optimizer, activations

    @property
    def error(self) -> str | None:
        return next((info.error for info in self.layers if info.error), None)

    @property
    def error_index(self) -> int | None:
        return next((info.index for info in self.layers if info.error), None)

    def rows(self) -> list[dict]:
        return [
            {"index": i.index, "type": i.type, "out_shape": list(i.out_shape), "params": i.params,
             "flops": i.flops, "error": i.error}
            for i in self.layers
        ]


__all__ = ["LayerInfo", "ModelError", "ModelSummary"]

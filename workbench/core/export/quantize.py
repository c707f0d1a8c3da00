"""Quantised ONNX variants, made with onnxruntime's quantisation tools (the maintained path;
torch.ao.quantization is deprecated):

- int8, dynamic: Linear (MatMul/Gemm), LSTM and GRU weights stored as int8, activations
  quantised on the fly per batch. For models without convolutions.
- int8, static: convolution nets get QDQ int8 weights (per channel) and activations whose ranges
  are calibrated on batches of the training split (raw inputs, as the model takes them).
- fp16 weights: every large float32 weight is stored as float16 and cast back to float32 where
  it is used, so the file halves and the arithmetic (and onnxruntime's CPU kernels) stay float32.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

__all__ = ["has_convolutions", "quantize_int8", "fp16_weights", "CALIBRATION_ROWS"]

CALIBRATION_ROWS = 512  # training rows the static quantiser calibrates activation ranges on
CALIBRATION_BATCH = 32
FP16_MIN_ELEMENTS = 16  # smaller initializers (shapes, scalars) stay as they are


def has_convolutions(onnx_path: str | os.PathLike) -> bool:
    import onnx

    return any(node.op_type in ("Conv", "ConvTranspose") for node in onnx.load(str(onnx_path)).graph.node)


class _Calibration(CalibrationDataReader):
    """Raw training rows in small batches, for the static quantiser's activation ranges."""

    def __init__(self, X: np.ndarray, input_name: str):
        self.batches: Iterator[dict[str, np.ndarray]] = iter(
            [{input_name: np.ascontiguousarray(X[a:a + CALIBRATION_BATCH], dtype=np.float32)}
             for a in range(0, len(X), CALIBRATION_BATCH)])

    def get_next(self):
        return next(self.batches, None)


def quantize_int8(src: str | os.PathLike, dst: str | os.PathLike, calibration: np.ndarray | None) -> str:
    """int8 weights: static (QDQ, per channel, calibrated on `calibration` rows) for models with
    convolutions, dynamic otherwise. Returns "static" or "dynamic"."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from workbench.core.export.onnx_io import INPUT_NAME, quiet

    src, dst = str(src), str(dst)
    with quiet():
        if not has_convolutions(src) or calibration is None or not len(calibration):
            quantize_dynamic(src, dst, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Gemm", "LSTM", "GRU"])
            return "dynamic"
        reader = _Calibration(calibration[:CALIBRATION_ROWS], INPUT_NAME)
        with tempfile.TemporaryDirectory() as tmp:
            prepared = str(Path(tmp) / "prepared.onnx")
            quant_pre_process(src, prepared, skip_symbolic_shape=False)
            quantize_static(prepared, dst, reader, quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return "static"


def fp16_weights(src: str | os.PathLike, dst: str | os.PathLike) -> int:
    """Store float32 initializers as float16 (cast back to float32 in the graph). Returns how many
    weights were converted."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    casts, keep = [], []
    converted = 0
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < FP16_MIN_ELEMENTS:
            keep.append(init)
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), name=f"{init.name}__fp16")
        keep.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                      name=f"{init.name}__cast"))
        converted += 1
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.save(model, str(dst))
    return converted

"""Taking a model out of the app: ONNX (checked with onnxruntime), torch.export programs,
safetensors weights, a standalone training script, quantisation, pruning and the before/after
table of compressed variants. No Qt here.

    restored = restore_run(store, run_id)            # workbench.core.runs
    export_model(restored, "onnx", out_dir)          # ExportResult (files, parity sentence)
"""

from workbench.core.export.compress import (
    METHODS,
    CompressionReport,
    compress,
    save_variant,
    sparsity_curve,
    table_rows,
)
from workbench.core.export.formats import FORMATS, export_model, write_predict_script
from workbench.core.export.results import ExportError, ExportResult, file_stem
from workbench.core.export.onnx_io import Parity, check_parity, headline_metric
from workbench.core.export.raw_model import RawInputModel, describe_inputs, raw_input_model

__all__ = [
    "FORMATS", "ExportError", "ExportResult", "export_model", "file_stem", "write_predict_script",
    "METHODS", "CompressionReport", "compress", "save_variant", "sparsity_curve", "table_rows",
    "Parity", "check_parity", "headline_metric",
    "RawInputModel", "describe_inputs", "raw_input_model",
]

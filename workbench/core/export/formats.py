"""Writing a run's model out: ONNX (+ onnxruntime parity), a torch.export program (.pt2),
safetensors weights, and the JSON and predict.py that go beside them.

    result = export_model(restored, "onnx", out_dir)     # ExportResult: files, checks, sentences

Every format takes raw inputs (see raw_model.py) except safetensors, which holds the bare model's
weights (the state dict that `--init-from` and `load_state_dict` read) with the spec, the
preprocessing and the input description in its metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.core.export.onnx_io import check_parity, export_program, save_onnx
from workbench.core.export.raw_model import describe_inputs, raw_input_model
from workbench.core.export.results import ExportError, ExportResult, file_stem, model_output_width
from workbench.core.export.script import template_blocks, write_training_script

__all__ = ["FORMATS", "export_model", "write_sidecar", "write_predict_script", "raw_module"]

FORMATS = ("onnx", "pt2", "safetensors", "script")
TEMPLATES = Path(__file__).resolve().parent / "templates"


def raw_module(restored) -> torch.nn.Module:
    """The restored run's model behind its input standardisation (raw inputs in)."""
    return raw_input_model(restored.model, restored.meta, restored.preprocessing)


def write_sidecar(restored, path: Path, extra: dict[str, Any] | None = None) -> Path:
    """The JSON beside an export: inputs, classes, one-hot maps, image size/mode, the run."""
    info = describe_inputs(restored.meta, restored.spec, model_output_width(restored.model, restored.meta))
    info["run_id"] = restored.run_id
    info["test_metrics"] = {k: v for k, v in restored.recorded_metrics.items() if k.startswith("test_")}
    info.update(extra or {})
    path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return path


def write_predict_script(out_dir: Path, model_file: str, info_file: str) -> Path:
    """predict.py, set to the model beside it."""
    text = (TEMPLATES / "predict.py").read_text(encoding="utf-8")
    reader = template_blocks()["read_image"]
    text = text.replace("# read_image: Workbench's own image reader goes here (from train_script.py)\n", reader, 1)
    text = text.replace('MODEL_FILE = "model.onnx"', f"MODEL_FILE = {model_file!r}", 1)
    text = text.replace('INFO_FILE = "model.json"', f"INFO_FILE = {info_file!r}", 1)
    path = out_dir / "predict.py"
    path.write_text(text, encoding="utf-8")
    return path


def _sample_rows(restored) -> torch.Tensor | None:
    for split in (restored.raw.test, restored.raw.train):
        if len(split):
            return split.X[:2]
    return None


def _export_onnx(restored, out_dir: Path, stem: str) -> ExportResult:
    module = raw_module(restored)
    path = save_onnx(module, tuple(restored.meta.input_shape), out_dir / f"{stem}.onnx", _sample_rows(restored))
    test = restored.raw.test
    split_name, split = ("test", test) if len(test) else ("training", restored.raw.train)
    parity = check_parity(module, path, split.X, split.y, restored.meta, split=split_name)
    info = write_sidecar(restored, out_dir / f"{stem}.json", {"onnx_parity": parity.to_dict()})
    script = write_predict_script(out_dir, path.name, info.name)
    return ExportResult("onnx", [path, info, script], [parity.sentence()], parity,
                        {"size_bytes": path.stat().st_size})


def _export_pt2(restored, out_dir: Path, stem: str) -> ExportResult:
    module = raw_module(restored)
    program = export_program(module, tuple(restored.meta.input_shape), _sample_rows(restored))
    path = out_dir / f"{stem}.pt2"
    torch.export.save(program, str(path))
    loaded = torch.export.load(str(path)).module()
    split = restored.raw.test if len(restored.raw.test) else restored.raw.train
    with torch.no_grad():
        X = split.X[:4096]
        diff = float((loaded(X) - module(X)).abs().max()) if len(X) else 0.0
    info = write_sidecar(restored, out_dir / f"{stem}.json")
    msg = (f"torch.export program saved; reloaded with torch.export.load it matches the model: max |Δ| {diff:.1e} "
           f"over {len(X)} rows. Load it with torch.export.load('{path.name}').module() and call it on raw inputs.")
    return ExportResult("pt2", [path, info], [msg], None, {"max_abs_diff": diff, "size_bytes": path.stat().st_size})


def _export_safetensors(restored, out_dir: Path, stem: str) -> ExportResult:
    from safetensors.torch import save_file

    info = describe_inputs(restored.meta, restored.spec, model_output_width(restored.model, restored.meta))
    metadata = {
        "workbench_spec": restored.spec.to_json(indent=None),
        "workbench_preprocessing": json.dumps(restored.preprocessing),
        "workbench_inputs": json.dumps(info),
    }
    state = {k: v.detach().cpu().contiguous() for k, v in restored.model.state_dict().items()}
    path = out_dir / f"{stem}.safetensors"
    save_file(state, str(path), metadata=metadata)
    sidecar = write_sidecar(restored, out_dir / f"{stem}.json")
    path.chmod(sidecar.stat().st_mode & 0o777)  # safetensors writes 0600; share it as the JSON beside it is
    n = sum(int(np.prod(v.shape)) for v in state.values())
    msg = (f"{len(state)} tensors ({n:,} values) of the bare model (it takes standardised inputs; the "
           "standardisation, the spec and the class names are in the file's metadata). Start a new run from it "
           f"with `workbench train SPEC --init-from {path.name}`.")
    return ExportResult("safetensors", [path, sidecar], [msg], None, {"size_bytes": path.stat().st_size})


def export_model(restored, fmt: str, out_dir: str | Path) -> ExportResult:
    """Export a restored run (runs.restore_run) as `fmt` into `out_dir` (created if needed)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file; give a folder to export into")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(restored.name)
    if fmt == "onnx":
        return _export_onnx(restored, out_dir, stem)
    if fmt == "pt2":
        return _export_pt2(restored, out_dir, stem)
    if fmt == "safetensors":
        return _export_safetensors(restored, out_dir, stem)
    return write_training_script(restored, out_dir, stem)

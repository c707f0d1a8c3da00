"""Compressed variants of a run's model, side by side with the original.

    report = compress(restored, ["int8", "fp16", "prune"], work_dir, sparsity=0.5)
    for v in report.variants: ...        # original first: size, non-zero params, latency b1/b64, test metric

Every variant is an ONNX file that takes raw inputs (like `workbench export`), measured the same
way (measure.py). int8 that loses more than `QAT_TRIGGER` of the test metric is followed by a
quantisation-aware fine-tune (`qat_epochs`) and measured again. Pruning gives two variants:
magnitude masks (the same size and speed, fewer non-zeros) and structured (really smaller).
The sparsity curve is measured in PyTorch on the test split, without fine-tuning.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from workbench.core.export.finetune import fine_tune
from workbench.core.export.formats import write_predict_script, write_sidecar
from workbench.core.export.measure import Variant, measure_variant, note_slowdowns, time_variants
from workbench.core.export.onnx_io import headline_metric, save_onnx
from workbench.core.export.prune import (
    CURVE_SPARSITIES,
    magnitude_prune,
    make_permanent,
    structured_prune,
    weight_sparsity,
)
from workbench.core.export.qat import with_fake_quant, without_fake_quant
from workbench.core.export.quantize import CALIBRATION_ROWS, fp16_weights, has_convolutions, quantize_int8
from workbench.core.export.raw_model import raw_input_model
from workbench.core.export.results import ExportError, file_stem

__all__ = ["METHODS", "CompressionReport", "measured_split", "compress", "sparsity_curve", "save_variant", "table_rows", "QAT_TRIGGER"]

METHODS = ("int8", "fp16", "prune")
QAT_TRIGGER = 0.01  # int8 losing more than one point of accuracy (or of R²) gets a QAT fine-tune
QAT_EPOCHS = 3


@dataclass
class CompressionReport:
    variants: list[Variant]
    metric: str
    curve: list[tuple[float, float]] = field(default_factory=list)  # (sparsity, test metric), no fine-tuning
    messages: list[str] = field(default_factory=list)
    split: str = "test"  # where the metric was measured: "validation" or "training" for a run without a test split


def measured_split(raw) -> tuple[str, Any]:
    """The split the metric is measured on: test, or validation (then training) for a run trained
    without a test split."""
    for name, split in (("test", raw.test), ("validation", raw.val), ("training", raw.train)):
        if len(split):
            return name, split
    return "test", raw.test

    def to_dicts(self) -> list[dict[str, Any]]:
        return [v.to_dict() for v in self.variants]


class _Work:
    """What every variant shares: the restored run, raw test data, rows for timing/calibration."""

    def __init__(self, restored, work_dir: Path, progress, should_stop, repeats: int):
        self.restored = restored
        self.meta = restored.meta
        self.work_dir = work_dir
        self.stem = file_stem(restored.name)
        self.progress = progress or (lambda text: None)
        self.should_stop = should_stop or (lambda: False)
        self.repeats = repeats
        raw = restored.raw
        self.split, measured = measured_split(raw)
        self.test_X, self.test_y = measured.X, measured.y
        self.sample_rows = measured.X[:64].numpy()
        self.calibration = raw.train.X.numpy()

    def path(self, suffix: str) -> Path:
        return self.work_dir / (f"{self.stem}.onnx" if not suffix else f"{self.stem}-{suffix}.onnx")

    def export(self, model: torch.nn.Module, suffix: str) -> Path:
        module = raw_input_model(model, self.meta, self.restored.preprocessing)
        return save_onnx(module, tuple(self.meta.input_shape), self.path(suffix), self.test_X[:2] if len(
            self.test_X) else None)

    def measure(self, name: str, path: Path, notes: Sequence[str] = ()) -> Variant:
        if self.should_stop():
            raise InterruptedError("stopped")
        self.progress(f"measuring {name}")
        return measure_variant(Variant(name, path, notes=list(notes)), self.test_X, self.test_y, self.meta)


def _int8(work: _Work, original: Variant, qat_epochs: int, qat_trigger: float) -> list[Variant]:
    work.progress("quantising to int8")
    path = work.path("int8")
    how = quantize_int8(original.path, path, work.calibration)
    notes = (["weights int8; activations quantised per batch (onnxruntime dynamic quantisation)"]
             if how == "dynamic" else
             [f"weights int8 per channel; activation ranges calibrated on "
              f"{min(len(work.calibration), CALIBRATION_ROWS)} training rows (onnxruntime static QDQ)"])
    variants = [work.measure(f"int8 ({how})", path, notes)]
    loss = original.test_metric - variants[0].test_metric
    if qat_epochs > 0 and loss > qat_trigger:
        model = with_fake_quant(work.restored.model, per_channel=how == "static")
        fine_tune(model, work.restored, qat_epochs, progress=work.progress, should_stop=work.should_stop,
                  label="quantisation-aware fine-tuning")
        float_path = work.export(without_fake_quant(model), "qat-float")
        qat_path = work.path("int8-qat")
        quantize_int8(float_path, qat_path, work.calibration)
        float_path.unlink(missing_ok=True)
        variants.append(work.measure(
            f"int8 ({how}) + QAT {_epochs(qat_epochs)}", qat_path,
            [f"post-training int8 lost {loss:.3f}; {_epochs(qat_epochs)} of quantisation-aware fine-tuning first"]))
    return variants


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def _prune(work: _Work, sparsity: float, finetune_epochs: int) -> list[Variant]:
    model = work.restored.model
    tuned = f", fine-tuned {_epochs(finetune_epochs)}" if finetune_epochs else ""
    work.progress(f"magnitude pruning at {sparsity:.0%}")
    masked = magnitude_prune(model, sparsity)
    if finetune_epochs:
        fine_tune(masked, work.restored, finetune_epochs, progress=work.progress, should_stop=work.should_stop,
                  label="fine-tuning the pruned model")
    make_permanent(masked).eval()
    pct = f"{round(sparsity * 100):d}%"
    variants = [work.measure(
        f"pruned {pct} (masks{tuned})", work.export(masked, f"pruned{round(sparsity * 100)}"),
        [f"{weight_sparsity(masked):.0%} of the Linear/Conv weights are zero; masks shrink neither the file nor "
         "the time (the zeros are stored and multiplied)"])]
    work.progress(f"structured pruning at {sparsity:.0%}")
    result = structured_prune(model, tuple(work.meta.input_shape), sparsity)
    if result.params_after == result.params_before:
        variants[0].notes.append("structured pruning found nothing it could remove: " + "; ".join(result.notes))
        return variants
    small = result.model
    if finetune_epochs:
        fine_tune(small, work.restored, finetune_epochs, progress=work.progress, should_stop=work.should_stop,
                  label="fine-tuning the smaller model")
    small.eval()
    notes = [f"{result.params_before:,} → {result.params_after:,} parameters", *result.notes]
    variants.append(work.measure(f"pruned {pct} (structured{tuned})",
                                 work.export(small, f"structured{round(sparsity * 100)}"), notes))
    return variants


@torch.no_grad()
def sparsity_curve(restored, sparsities: Sequence[float] = CURVE_SPARSITIES) -> tuple[str, list[tuple[float, float]]]:
    """The test metric after global magnitude pruning at each sparsity (no fine-tuning)."""
    module_of = lambda m: raw_input_model(m, restored.meta, restored.preprocessing)  # noqa: E731
    split = measured_split(restored.raw)[1]
    X, y = split.X, split.y
    name, points = "accuracy", []
    for s in sparsities:
        pruned = make_permanent(magnitude_prune(restored.model, s)).eval()
        name, value = headline_metric(module_of(pruned)(X), y, restored.meta)
        points.append((float(s), float(value)))
    return name, points


def compress(restored, methods: Sequence[str], work_dir: str | Path, *, sparsity: float = 0.5,
             finetune_epochs: int = 0, qat_epochs: int = QAT_EPOCHS, qat_trigger: float = QAT_TRIGGER,
             curve: bool = False,
             progress: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None,
             repeats: int | None = None) -> CompressionReport:
    """The original and the compressed variants `methods` (int8, fp16, prune) of a restored run,
    each measured (see the module doc). Files go to `work_dir`. int8 losing more than
    `qat_trigger` of the test metric is followed by `qat_epochs` of quantisation-aware training."""
    from workbench.core.export.measure import LATENCY_REPEATS

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ExportError(f"unknown method {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    if not 0.0 < sparsity < 1.0:
        raise ExportError(f"sparsity {sparsity:g} is not a fraction between 0 and 1 (e.g. 0.5 for 50%)")
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    work = _Work(restored, work_dir, progress, should_stop, repeats or LATENCY_REPEATS)
    work.progress("exporting the original model")
    original = work.measure("original", work.export(restored.model, ""), ["float32, as trained"])
    variants = [original]
    if "fp16" in methods:
        path = work.path("fp16")
        n = fp16_weights(original.path, path)
        variants.append(work.measure("fp16 weights", path, [f"{n} weight tensors stored as float16, computed "
                                                            "in float32"]))
    if "int8" in methods:
        variants += _int8(work, original, qat_epochs, qat_trigger)
    if "prune" in methods:
        variants += _prune(work, sparsity, finetune_epochs)
    work.progress(f"timing {len(variants)} variants side by side")
    time_variants(variants, work.sample_rows, work.repeats)
    note_slowdowns(variants)
    report = CompressionReport(variants, original.metric, split=work.split)
    if work.split != "test":
        report.messages.append(f"the run has no test split: the metric is measured on its {work.split} split")
    if curve:
        work.progress("sparsity curve")
        report.curve = sparsity_curve(restored)[1]
    if "int8" in methods and has_convolutions(original.path):
        report.messages.append("convolutions: int8 uses static quantisation with calibration on the training split")
    return report


def save_variant(variant: Variant, restored, out_dir: str | Path) -> list[Path]:
    """Copy a variant's ONNX file into out_dir with its JSON and predict.py (as `workbench
    export` writes them)."""
    out_dir = Path(out_dir).expanduser()
    out_dir.mkdir(parents=True, exist_ok=True)
    model = Path(shutil.copy2(variant.path, out_dir / Path(variant.path).name))
    extra = {"variant": variant.name, "variant_notes": variant.notes,
             "measured": {k: v for k, v in variant.to_dict().items() if k not in ("file", "notes")}}
    info = write_sidecar(restored, model.with_suffix(".json"), extra)
    script = write_predict_script(out_dir, model.name, info.name)
    return [model, info, script]


def table_rows(report: CompressionReport) -> list[list[str]]:
    """The table as text cells (for the command line)."""
    metric = "R²" if report.metric == "r2" else report.metric
    rows = [["variant", "size", "non-zero params", "CPU ms (b=1)", "CPU ms (b=64)", f"{report.split} {metric}"]]
    for v in report.variants:
        rows.append([v.name, _size(v.size_bytes), f"{v.nonzero_params:,}", f"{v.latency_ms_b1:.3f}",
                     f"{v.latency_ms_b64:.3f}", f"{v.test_metric:.4f}" if np.isfinite(v.test_metric) else "-"])
    return rows


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"

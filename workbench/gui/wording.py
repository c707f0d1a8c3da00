"""The app's words for spec fields and for the fixes core's messages suggest.

Core speaks spec and command line ("set data.target / --target", "model.layers.2.p"): right for
a spec file or a terminal. In the app a person sees controls, so the same messages name the
control instead ("choose another Target above", "Layer 3 (Dropout): p"), and several problems
go on separate lines. Layers are numbered from 1, as the Model page numbers them.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["field_label", "for_the_app", "problems_text", "layer_label", "spec_error_text"]

# What the pages call each field (paths as in ExperimentSpec.with_values).
FIELD_NAMES: dict[str, str] = {
    "name": "Experiment name",
    "data.source": "Data",
    "data.target": "Target",
    "data.task": "Task",
    "data.missing": "Missing values",
    "data.noise": "Noise",
    "data.n_samples": "Points",
    "data.split.val": "Split: validation",
    "data.split.test": "Split: test",
    "data.seed": "Split seed",
    "data.standardize": "Standardize inputs",
    "data.standardize_target": "Standardize the target",
    "data.image_size": "Image size",
    "data.color_mode": "Colour mode",
    "data.x_key": "Inputs array (x)",
    "data.y_key": "Targets array (y)",
    "data.classes": "Keep classes",
    "data.train_per_class": "Rows per class",
    "data.augment": "Augmentation",
    "data.augment.hflip": "Augmentation: horizontal flip",
    "data.augment.vflip": "Augmentation: vertical flip",
    "data.augment.rotate_degrees": "Augmentation: rotation (degrees)",
    "data.augment.shift": "Augmentation: shift",
    "data.augment.noise_std": "Augmentation: noise",
    "model.layers": "Layers",
    "loss.type": "Loss",
    "optimizer.type": "Optimizer",
    "schedule": "Learning-rate schedule",
    "schedule.type": "Learning-rate schedule",
    "schedule.warmup": "Warmup",
    "schedule.warmup.epochs": "Warmup: epochs",
    "schedule.warmup.start_factor": "Warmup: starting fraction of lr",
    "train.epochs": "Epochs",
    "train.batch_size": "Batch size",
    "train.device": "Device",
    "train.precision": "Precision",
    "train.seed": "Seed",
    "train.grad_clip": "Gradient clip",
    "train.l1": "L1",
    "train.early_stopping": "Early stopping",
    "train.early_stopping.monitor": "Early stopping: monitor",
    "train.early_stopping.patience": "Early stopping: patience",
    "train.early_stopping.min_delta": "Early stopping: min. change",
    "train.early_stopping.mode": "Early stopping: mode",
    "train.early_stopping.restore_best": "Early stopping: restore the best weights",
    "train.terminate_on_nan": "Stop on NaN",
    "train.checkpoint": "Checkpoints",
    "train.num_threads": "CPU threads",
    "finetune.init_from": "Fine-tuning",
    "finetune.reset_head": "Fine-tuning: New head",
}
SECTIONS = {"loss": "Loss", "optimizer": "Optimizer", "schedule": "Schedule"}


def layer_label(indices: list[int], layers: list[dict] | None = None) -> str:
    """'Layer 3 (Dropout)', 'Layer 4.2 (Linear)' for an inner layer: numbered from 1."""
    number = ".".join(str(i + 1) for i in indices)
    node: Any = layers
    try:
        for depth, i in enumerate(indices):
            node = node[i] if depth == 0 else node["layers"][i]
        kind = node.get("type") if isinstance(node, dict) else None
    except (IndexError, KeyError, TypeError):
        kind = None
    return f"Layer {number} ({kind})" if kind else f"Layer {number}"


def field_label(path: str, spec: Any = None) -> str:
    """A spec path as the pages name it: 'optimizer.lr' -> 'Optimizer: lr', 'model.layers.2.p'
    -> 'Layer 3 (Dropout): p', 'train.batch_size' -> 'Batch size'. `spec` (an ExperimentSpec or
    its dict) supplies layer types."""
    if path in FIELD_NAMES:
        return FIELD_NAMES[path]
    parts = path.split(".")
    if parts[:2] == ["model", "layers"] and len(parts) > 2:
        indices, rest = [], parts[2:]
        while rest and rest[0].isdigit():
            indices.append(int(rest[0]))
            rest = rest[1:]
            if rest[:1] == ["layers"]:
                rest = rest[1:]
        layers = _layers_of(spec)
        label = layer_label(indices, layers)
        if not rest or rest == ["type"]:
            return label
        return f"{label}: {'.'.join(rest)}"
    if parts[0] in SECTIONS and len(parts) > 1:
        return f"{SECTIONS[parts[0]]}: {'.'.join(parts[1:])}"
    return path


def _layers_of(spec: Any) -> list[dict] | None:
    if spec is None:
        return None
    if hasattr(spec, "model_dump"):
        from workbench.core.spec import spec_to_dict

        spec = spec_to_dict(spec)
    return ((spec or {}).get("model") or {}).get("layers")


def problems_text(problems: list[tuple[str, str]], spec: Any = None) -> str:
    """A SpecError's problems, one per line, each named as the pages name its field."""
    lines = [f"{field_label(p, spec)}: {for_the_app(m)}" if p else for_the_app(m) for p, m in problems]
    return "\n".join(dict.fromkeys(lines))


def spec_error_text(err: Exception, spec: Any = None) -> str:
    """A refused spec (a SpecError) in the app's words: one problem per line, each naming its
    control; any other error's message with the controls named."""
    problems = getattr(err, "problems", None)
    if problems:
        return problems_text(list(problems), spec)
    return for_the_app(str(err))


# (pattern, replacement) from core's spec/CLI wording to the app's controls, most specific first;
# {where} is "below" on the Data page (its settings are under the messages) and "on the Data
# page" anywhere else.
_FIXES: list[tuple[str, str]] = [
    (r"\(set data\.target / --target to choose another\)", "(choose another Target {where})"),
    (r"[Ss]et data\.target / --target to one of them", "Choose one of them as the Target {where}"),
    (r"[Cc]hoose another target(?: column)? with data\.target / --target", "Choose another Target {where}"),
    (r"choose another with data\.target / --target", "choose another Target {where}"),
    (r"[Cc]hoose another target column \(data\.target / --target\)", "choose another Target {where}"),
    (r"[Cc]hoose a numeric target column \(data\.target / --target\)", "choose a Target of numbers {where}"),
    (r"set data\.missing to 'drop' or 'impute'(?: \(the Missing values choice in the data panel\))?",
     "choose Drop or Impute under Missing values {where}"),
    (r"[Ss]et data\.task \(--task\) to", "set Task {where} to"),
    (r"[Ss]et data\.task to", "set Task {where} to"),
    (r"data\.target \('([^']*)'\) does not apply", r"the Target ('\1') does not apply"),
    (r"the run used data\.missing = '(\w+)'", r"the run used Missing values: \1"),
    (r"\(a classifier needs two\), or null for all", "(a classifier needs two), or leave it empty for all"),
    # the health monitor's fixes (core names the spec fields)
    (r"Enable gradient clipping \(train\.grad_clip, e\.g\. ([\d.]+)\)",
     r"Tick Gradient clip on the Train page (about \1)"),
    (r"enable gradient clipping \(train\.grad_clip, e\.g\. ([\d.]+)\)",
     r"tick Gradient clip on the Train page (about \1)"),
    (r"lower the gradient clipping \(now", "lower Gradient clip on the Train page (now"),
    (r"or start from fresh weights$", "or press Fresh start under Fine-tuning on the Train page"),
    (r"or change the model's layers to match$",
     "change the model's layers to match, or press Fresh start under Fine-tuning on the Train page"),
    (r"early stopping with train\.early_stopping\.restore_best",
     "tick Early stopping and Restore the best weights on the Train page"),
]
_CLI_FLAGS = re.compile(r"\s*(?:/\s*|\()--[a-z][a-z-]*(?:\s+[A-Z]+)?\)?")  # "(--data PATH)" too
_SPEC_PATH = re.compile(r"(?<![\w/\\.-])(data|train|optimizer|loss|schedule|model|finetune)\.[a-z_]+(?:\.[a-z0-9_]+)*")
_FILE_ENDINGS = {"csv", "tsv", "txt", "json", "npy", "npz", "pt", "pt2", "onnx", "png", "jpg", "db", "py"}


def _spec_path_words(match: re.Match) -> str:
    path = match.group(0)
    if path.rsplit(".", 1)[-1] in _FILE_ENDINGS:  # a file called data.csv, not a field
        return path
    return field_label(path)


def _layer_numbers_from_one(match: re.Match) -> str:
    """"there is no layer 7; the model has 4 layers (0: Linear, 1: ReLU)" as the Model page
    counts: "there is no Layer 8; the model has 4 layers (1: Linear, 2: ReLU)"."""
    listed = re.sub(r"(?<![\w.])(\d+): ", lambda m: f"{int(m.group(1)) + 1}: ", match.group(3))
    return f"there is no Layer {int(match.group(1)) + 1}; the model has {match.group(2)} ({listed})"


_LAYER_INDEX = re.compile(r"there is no layer (\d+); the model has (\d+ layers?) \(([^)]*)\)")
_INNER_INDEX = re.compile(r"has no inner layer (\d+)")


def for_the_app(message: str, on_data_page: bool = False) -> str:
    """A core message with spec paths and command-line flags replaced by the controls' names
    (`on_data_page`: the message is shown above the Data page's settings)."""
    where = "below" if on_data_page else "on the Data page"
    text = message
    for pattern, replacement in _FIXES:
        text = re.sub(pattern, replacement.replace("{where}", where), text)
    text = _LAYER_INDEX.sub(_layer_numbers_from_one, text)
    text = _INNER_INDEX.sub(lambda m: f"has no inner layer {int(m.group(1)) + 1}", text)
    text = _CLI_FLAGS.sub("", text)
    return _SPEC_PATH.sub(_spec_path_words, text)

"""ExperimentSpec: the one serializable description of an experiment.

Panels edit it, files save it, the CLI runs it and sweeps vary it. Type and parameter names
are PyTorch's own. Layer, loss, optimizer and schedule parameters are validated against the
catalog (the single source of truth), so an error names the dotted path of the bad field and
the values it accepts.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.core import catalog
from workbench.core.spec import messages
from workbench.core.spec.errors import CatalogProblems, SpecError, json_error_text
from workbench.core.spec.paths import set_dotted

SCHEMA_VERSION = 1

Task = Literal["auto", "classification", "regression"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SplitSpec(_Strict):
    """Fractions of the data held out for validation and test; the rest trains."""

    val: float = Field(0.15, ge=0.0, lt=1.0)
    test: float = Field(0.15, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _leaves_training_data(self) -> "SplitSpec":
        if self.val + self.test >= 0.95:
            raise ValueError(
                f"val + test = {self.val + self.test:.2f} leaves almost nothing to train on; "
                "keep val + test below 0.95"
            )
        return self


class AugmentSpec(_Strict):
    """On-the-fly augmentation of image training batches (never applied to val/test)."""

    hflip: bool = False
    vflip: bool = False
    rotate_degrees: float = Field(0.0, ge=0.0, le=180.0)
    shift: float = Field(0.0, ge=0.0, le=0.5, description="max shift as a fraction of the size")
    noise_std: float = Field(0.0, ge=0.0, le=2.0)


class DataSpec(_Strict):
    """Where the data comes from and how it is split and prepared."""

    source: str = "sample:spiral"
    target: str | None = None
    task: Task = "auto"
    split: SplitSpec = Field(default_factory=SplitSpec)
    seed: int = 0
    standardize: bool = True
    # regression only: train on the target standardised (per column, fitted on the training
    # split); losses are then in standardised units, metrics and predictions in the target's own
    standardize_target: bool = True
    missing: Literal["error", "drop", "impute"] = "error"
    # classification: keep only these classes (by name); train on at most N rows of each class
    # (taken after the split, so validation and test keep all theirs)
    classes: list[str] | None = None
    train_per_class: int | None = Field(None, ge=1)
    # Built-in synthetic samples
    noise: float | None = Field(None, ge=0.0, le=2.0)
    n_samples: int | None = Field(None, ge=10, le=1_000_000)
    # Image folders
    image_size: int = Field(28, ge=4, le=512)
    color_mode: Literal["grayscale", "rgb"] = "grayscale"
    # .npz files
    x_key: str | None = None
    y_key: str | None = None
    augment: AugmentSpec | None = None

    @field_validator("classes")
    @classmethod
    def _two_classes(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) < 2:
            raise ValueError("name at least two different classes (a classifier needs two), or null for all")
        return v

    @field_validator("source")
    @classmethod
    def _source_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("give a sample ('sample:spiral') or a file/folder path")
        return v


class LayerSpec(BaseModel):
    """One layer: `type` is a catalog layer name; other fields are its parameters.

    `Residual` holds inner `layers` and adds its input to their output.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    type: str
    layers: list["LayerSpec"] | None = None
    # fine-tuning: a frozen layer's weights do not change (until finetune.unfreeze_epoch); lr_mult
    # multiplies the optimizer's learning rate for this layer (discriminative learning rates)
    frozen: bool | None = None
    lr_mult: float | None = Field(None, ge=0.0, le=1000.0)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FineTuneSpec(_Strict):
    """Start from learned weights: layers whose shapes match are loaded, the others start fresh."""

    init_from: str | None = Field(None, description="a run's checkpoint (.pt) or a .safetensors file")
    init_run: int | None = Field(None, ge=1, description="the run init_from belongs to, if any (for people)")
    reset_head: bool = Field(True, description="start the last layer with weights afresh (a new task's head)")
    unfreeze_epoch: int | None = Field(None, ge=2, description="from this epoch on, frozen layers train too")
    unfreeze_lr_factor: float = Field(0.1, gt=0.0, le=1.0, description="learning rates are multiplied by this "
                                                                         "when the layers are unfrozen")

    @field_validator("init_from")
    @classmethod
    def _file_not_empty(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("give a run's checkpoint (.pt) or a .safetensors file, or leave it out (null)")
        return v


class ModelSpec(_Strict):
    layers: list[LayerSpec] = Field(default_factory=list)


class _Typed(BaseModel):
    """A catalog item (loss, optimizer, schedule): `type` plus its parameters."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)
    type: str

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class LossSpec(_Typed):
    type: str = "CrossEntropyLoss"


class OptimizerSpec(_Typed):
    type: str = "Adam"


class WarmupSpec(_Strict):
    """Linear warmup chained in front of the schedule (LinearLR then the schedule)."""

    epochs: int = Field(5, ge=1)
    start_factor: float = Field(0.1, gt=0.0, le=1.0)


class ScheduleSpec(_Typed):
    warmup: WarmupSpec | None = None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class EarlyStoppingSpec(_Strict):
    monitor: str = "val_loss"
    patience: int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0.0)
    mode: Literal["auto", "min", "max"] = "auto"
    restore_best: bool = True


class EmaSpec(_Strict):
    """An exponential moving average of the weights, evaluated and checkpointed beside them:
    after every optimizer step, ema = decay·ema + (1 − decay)·weights."""

    decay: float = Field(0.999, ge=0.5, lt=1.0, description="share of the average kept each step")


class HealthSpec(_Strict):
    """The health monitor: per-layer gradient norms, update/weight ratios, activation statistics
    and dead units, sampled while training; alerts in plain words (see training.health)."""

    every: Union[int, Literal["auto"]] = Field(
        "auto", description="optimizer steps between samples; 'auto' keeps the cost near 2% of training")

    @field_validator("every", mode="before")
    @classmethod
    def _every_form(cls, v):
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v)
        if isinstance(v, bool) or not (isinstance(v, int) or v == "auto"):
            raise ValueError(f"must be a whole number of steps ≥ 1, or 'auto' (got {v!r})")
        if isinstance(v, int) and v < 1:
            raise ValueError(f"must be ≥ 1 step, or 'auto' (got {v})")
        return v


class TrainSpec(_Strict):
    epochs: int = Field(50, ge=1, le=100_000)
    batch_size: Union[int, Literal["full"]] = 32
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    seed: int = 0
    grad_clip: float | None = Field(None, gt=0.0, description="max gradient norm")
    l1: float = Field(0.0, ge=0.0, description="L1 penalty on weights")
    early_stopping: EarlyStoppingSpec | None = None
    terminate_on_nan: bool = True
    checkpoint: bool = True
    num_threads: int | None = Field(None, ge=1)
    accumulate_batches: int = Field(
        1, ge=1, le=4096,
        description="optimizer step every N batches: an effective batch of batch_size × N for the memory of one")
    ema: EmaSpec | None = None
    health: HealthSpec | None = Field(default_factory=HealthSpec)

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_form(cls, v):
        # one clear message instead of one per union member; true/false are not sizes
        if isinstance(v, str) and v.strip().isdigit():
            return int(v)
        if isinstance(v, bool) or not (isinstance(v, int) or v == "full"):
            raise ValueError(f"must be a whole number ≥ 1, or 'full' for full-batch gradient descent (got {v!r})")
        return v

    @field_validator("batch_size")
    @classmethod
    def _positive_batch(cls, v):
        if isinstance(v, int) and v < 1:
            raise ValueError("must be ≥ 1, or 'full' for full-batch gradient descent")
        return v

    @field_validator("device")
    @classmethod
    def _device_form(cls, v: str) -> str:
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", v):
            raise ValueError("allowed: 'auto', 'cpu', 'cuda', 'cuda:N', 'mps'")
        return v


class ExperimentSpec(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = "experiment"
    data: DataSpec = Field(default_factory=DataSpec)
    model: ModelSpec = Field(default_factory=ModelSpec)
    loss: LossSpec = Field(default_factory=LossSpec)
    optimizer: OptimizerSpec = Field(default_factory=lambda: OptimizerSpec(type="Adam", lr=0.01))
    schedule: ScheduleSpec | None = None
    train: TrainSpec = Field(default_factory=TrainSpec)
    finetune: FineTuneSpec | None = None

    @model_validator(mode="after")
    def _check_against_catalog(self) -> "ExperimentSpec":
        problems = catalog_problems(self) + fine_tuning_problems(self) + accumulation_problems(self)
        if problems:
            raise CatalogProblems(problems)
        return self

    # ---- serialization -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return spec_to_dict(self)

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(spec_to_dict(self), indent=indent) + "\n"

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a crash mid-save never leaves a half-written project."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def with_value(self, dotted_path: str, value: Any) -> "ExperimentSpec":
        """A validated copy with one field changed, e.g. ("optimizer.lr", 0.003) or
        ("model.layers.0.out_features", 32). Raises SpecError naming the path."""
        return self.with_values({dotted_path: value})

    def with_values(self, changes: dict[str, Any]) -> "ExperimentSpec":
        raw = spec_to_dict(self)
        for dotted, value in changes.items():
            set_dotted(raw, dotted, value)
        return parse_spec(raw)


def spec_to_dict(spec: ExperimentSpec) -> dict[str, Any]:
    """Plain JSON-able dict; inner `layers: null` of ordinary layers is dropped."""
    raw = spec.model_dump(mode="json")
    _drop_null_inner_layers(raw["model"]["layers"])
    if raw.get("schedule") is not None and raw["schedule"].get("warmup") is None:
        raw["schedule"].pop("warmup", None)
    if raw.get("finetune") is None:
        raw.pop("finetune", None)
    return raw


def _drop_null_inner_layers(layers: list[dict]) -> None:
    for layer in layers:
        for key in ("frozen", "lr_mult"):  # unset fine-tuning fields stay out of the file
            if layer.get(key) is None:
                layer.pop(key, None)
        if layer.get("layers") is None:
            layer.pop("layers", None)
        else:
            _drop_null_inner_layers(layer["layers"])


def fine_tuning_problems(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """Frozen layers, learning-rate multipliers and the unfreeze epoch that cannot work together."""
    problems: list[tuple[str, str]] = []
    layers = spec.model.layers
    frozen = [i for i, layer in enumerate(layers) if layer.frozen]
    for i, layer in enumerate(layers):
        for inner_i, inner in enumerate(layer.layers or ()):
            for key in ("frozen", "lr_mult"):
                if getattr(inner, key) is not None:
                    problems.append((f"model.layers.{i}.layers.{inner_i}.{key}",
                                     f"set {key} on the Residual block (model.layers.{i}.{key}); it applies to the "
                                     "whole block"))
    if layers and len(frozen) == len(layers) and (spec.finetune is None or spec.finetune.unfreeze_epoch is None):
        problems.append(("model.layers", "every layer is frozen, so nothing would train; unlock a layer (usually the "
                                         "last), or set finetune.unfreeze_epoch"))
    multipliers = [i for i, layer in enumerate(layers) if layer.lr_mult is not None and layer.lr_mult != 1.0]
    if multipliers and spec.optimizer.type == "LBFGS":
        problems.append((f"model.layers.{multipliers[0]}.lr_mult", "LBFGS cannot give layers their own learning "
                                                                   "rates; remove lr_mult or choose another optimizer"))
    ft = spec.finetune
    if ft is not None and ft.unfreeze_epoch is not None:
        if not frozen:
            problems.append(("finetune.unfreeze_epoch", "no layer is frozen, so there is nothing to unfreeze; lock "
                                                        "layers (model.layers.N.frozen) or remove unfreeze_epoch"))
        if ft.unfreeze_epoch > spec.train.epochs:
            problems.append(("finetune.unfreeze_epoch", f"{ft.unfreeze_epoch} is after the last epoch "
                                                        f"({spec.train.epochs}); use at most train.epochs"))
    return problems


def catalog_problems(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """Every parameter problem found by checking the spec against the catalog."""
    problems: list[tuple[str, str]] = []

    def check_layers(layers: list[LayerSpec], prefix: str) -> None:
        for i, layer in enumerate(layers):
            path = f"{prefix}.{i}"
            problems.extend(
                (f"{path}.{p}" if p else path, m)
                for p, m in catalog.param_problems("layer", layer.type, layer.params)
            )
            if layer.type == "Residual":
                if not layer.layers:
                    problems.append((f"{path}.layers", "a Residual block needs at least one inner layer"))
                else:
                    check_layers(layer.layers, f"{path}.layers")
            elif layer.layers is not None:
                problems.append((f"{path}.layers", f"only Residual blocks hold inner layers, not {layer.type}"))

    check_layers(spec.model.layers, "model.layers")
    for kind, field in (("loss", spec.loss), ("optimizer", spec.optimizer), ("schedule", spec.schedule)):
        if field is None:
            continue
        for p, m in catalog.param_problems(kind, field.type, field.params):
            path = f"{kind}.{p}" if p else kind
            hint = ""
            if p in field.params and " has no parameter " in m:  # optimizer.epochs: epochs belongs in train.epochs
                hint = field_home_hint(p, path, exclude=f"{kind}.")
            problems.append((path, f"{m}; {hint}" if hint else m))
    return problems


def accumulation_problems(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """Gradient accumulation needs mini-batches: not with batch_size 'full' or a full-batch
    optimizer (LBFGS), which already see every training row in one step."""
    n = spec.train.accumulate_batches
    if n == 1:
        return []
    if spec.train.batch_size == "full":
        return [("train.accumulate_batches",
                 f"batch_size 'full' already uses every training row in one step; set accumulate_batches "
                 f"to 1, or set batch_size to a number (an effective batch of batch_size × {n})")]
    entry = catalog.REGISTRY["optimizer"].get(spec.optimizer.type)
    if entry is not None and entry.info.get("full_batch"):
        return [("train.accumulate_batches",
                 f"{spec.optimizer.type} trains on the whole training set in one step; set "
                 f"accumulate_batches to 1 or choose a mini-batch optimizer (SGD, Adam, ...)")]
    return []


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring an older spec dict up to SCHEMA_VERSION (none older exists yet)."""
    version = raw.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise SpecError(
            [("schema_version", f"{version} is newer than this Workbench understands ({SCHEMA_VERSION}); update Workbench")]
        )
    return raw


def parse_spec(raw: dict[str, Any] | str, source: str | None = None) -> ExperimentSpec:
    """Validate a dict or JSON text into an ExperimentSpec; raise SpecError naming each bad field."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SpecError([("", json_error_text(exc))], source) from None
    if not isinstance(raw, dict):
        raise SpecError([("", "a spec is a JSON object ({...})")], source)
    try:
        raw = migrate(copy.deepcopy(raw))
    except SpecError as exc:  # name the file
        raise SpecError(exc.problems, source) from None
    try:
        return ExperimentSpec.model_validate(raw)
    except ValidationError as err:
        raise SpecError(messages.problems_from_validation(err, SCHEMA), source) from None


def load_spec(path: str | os.PathLike) -> ExperimentSpec:
    """Read a spec file. Relative data paths resolve against the file's folder (see resolve_source)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([("", f"file not found: {path}")], str(path)) from None
    except OSError as exc:
        raise SpecError([("", f"cannot read {path}: {exc.strerror}")], str(path)) from None
    return parse_spec(text, source=str(path))


LayerSpec.model_rebuild()

SCHEMA = messages.SpecSchema(root=ExperimentSpec, typed_base=_Typed, leaf_models=(LayerSpec,))


def field_home_hint(name: str, path: str, exclude: str = "") -> str:
    """'lr belongs in optimizer.lr' when `name` is a spec field or catalog parameter somewhere
    else than `path` (and not under `exclude`, e.g. "optimizer."), else ''."""
    return messages.field_home_hint(name, path, SCHEMA, exclude)

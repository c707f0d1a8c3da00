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

SCHEMA_VERSION = 1

Task = Literal["auto", "classification", "regression"]


class SpecError(ValueError):
    """A spec that cannot be used. `problems` holds (dotted_path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        head = f"Invalid experiment spec{f' in {source}' if source else ''}:"
        whole = Path(source).name if source else "(top level)"  # a problem with the file as a whole
        lines = [f"  {path or whole}: {msg}" for path, msg in problems]
        super().__init__("\n".join([head, *lines]))


def json_error_text(exc: json.JSONDecodeError) -> str:
    """'not valid JSON: ... at line L, column C' (json's own message for an unterminated string
    already ends in "starting at", which would read "starting at at line")."""
    msg = exc.msg.rstrip()
    where = f"line {exc.lineno}, column {exc.colno}"
    return f"not valid JSON: {msg} {where}" if msg.endswith(" at") else f"not valid JSON: {msg} at {where}"


class _CatalogProblems(ValueError):
    """Carries (path, message) pairs through pydantic (it keeps the exception in the error's ctx)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{p}: {m}" for p, m in problems))


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
    missing: Literal["error", "drop", "impute"] = "error"
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

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


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

    @model_validator(mode="after")
    def _check_against_catalog(self) -> "ExperimentSpec":
        problems = catalog_problems(self)
        if problems:
            raise _CatalogProblems(problems)
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
    return raw


def _drop_null_inner_layers(layers: list[dict]) -> None:
    for layer in layers:
        if layer.get("layers") is None:
            layer.pop("layers", None)
        else:
            _drop_null_inner_layers(layer["layers"])


def get_dotted(raw: Any, dotted: str) -> Any:
    node = raw
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def set_dotted(raw: dict, dotted: str, value: Any) -> None:
    """Set a value in a plain spec dict by dotted path; KeyError/IndexError name the path."""
    parts = dotted.split(".")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[: i + 1])
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise SpecError([(dotted, f"'{here}' does not exist in this spec")]) from None
        if node is None:
            raise SpecError([(dotted, f"'{here}' is empty (null); set it first")])
    last = parts[-1]
    if isinstance(node, list):
        try:
            node[int(last)] = value
        except (IndexError, ValueError):
            raise SpecError([(dotted, f"index {last} does not exist")]) from None
    else:
        node[last] = value


def catalog_problems(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """Every parameter problem found by checking the spec against the catalog."""
    from workbench.core import catalog  # late: only validation needs the palettes

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


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring an older spec dict up to SCHEMA_VERSION (none older exists yet)."""
    version = raw.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise SpecError(
            [("schema_version", f"{version} is newer than this Workbench understands ({SCHEMA_VERSION}); update Workbench")]
        )
    return raw


_UNION_TAGS = {"int", "float", "str", "bool", "none", "list", "dict"}


def _loc_to_path(loc: tuple) -> str:
    # pydantic puts union member tags ("int", "literal['full']", ...) into locations
    parts = [
        str(p) for p in loc
        if not (isinstance(p, str) and (p in _UNION_TAGS or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p)))
    ]
    return ".".join(parts)


def _problems_from_validation(err: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for e in err.errors():
        path = _loc_to_path(e["loc"])
        msg = e["msg"]
        if e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
            cause = (e.get("ctx") or {}).get("error")
            if isinstance(cause, _CatalogProblems):  # catalog problems keep their own dotted paths
                for p, m in cause.problems:
                    if (p, m) not in seen:
                        seen.add((p, m))
                        problems.append((p, m))
                continue
        elif e["type"] == "extra_forbidden":
            msg = _unknown_field_message(e["loc"], path)
        else:
            msg = _plain_message(e, path) or msg
        if (path, msg) not in seen:
            seen.add((path, msg))
            problems.append((path, msg))
    return problems


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation (X, X | None, list[X]), or None."""
    stack = [annotation]
    while stack:
        a = stack.pop(0)
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
        stack.extend(getattr(a, "__args__", ()))
    return None


def _model_at(loc: tuple) -> Any:
    """The model class that holds the last element of a pydantic error location."""
    model: Any = ExperimentSpec
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if not isinstance(part, str) or part not in getattr(model, "model_fields", {}):
            if isinstance(part, str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
                continue  # union member tags
            return None
        model = _model_of(model.model_fields[part].annotation)
    return model


def _allowed_fields(loc: tuple) -> list[str]:
    model = _model_at(loc)
    return sorted(getattr(model, "model_fields", {}).keys()) if model else []


def _field_info(loc: tuple) -> Any:
    model = _model_at(loc)
    name = next((p for p in reversed(loc) if isinstance(p, str) and p in getattr(model, "model_fields", {})), None)
    return model.model_fields[name] if model is not None and name is not None else None


def _bounds(field: Any) -> str:
    """' in [1, 100000]', ' in [0, 1)', ' ≥ 1', '' from a field's ge/gt/le/lt constraints."""
    lo = hi = None
    lo_open = hi_open = False
    for m in getattr(field, "metadata", ()):
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '≥'} {lo:g}"
    if hi is not None:
        return f" {'<' if hi_open else '≤'} {hi:g}"
    return ""


def _is_int_field(field: Any) -> bool:
    ann = getattr(field, "annotation", None)
    return ann is int or int in getattr(ann, "__args__", ())


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain_message(e: dict, path: str) -> str | None:
    """pydantic's generic messages in words for people: what the field takes, with its bounds."""
    kind = e["type"]
    loc = e["loc"]
    field = _field_info(loc)
    got = f" (got {_got(e.get('input'))})" if "input" in e else ""
    rng = _bounds(field)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number{rng}{got}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"must be a number{rng}{got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        what = "a whole number" if _is_int_field(field) else "a number"
        if not rng:  # constraint not found: use pydantic's own
            ctx = e.get("ctx") or {}
            sign = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}[kind]
            rng = f" {sign} {next(iter(ctx.values()), '?')}"
        return f"must be {what}{rng}{got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false{got}"
    if kind in ("string_type",):
        return f"must be text{got}"
    if kind == "list_type":
        return f"must be a list [...]{got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        fields = _allowed_fields(tuple(loc) + ("_",))
        return "must be an object {...}" + (f" with fields: {', '.join(fields)}" if fields else "") + got
    if kind == "literal_error":
        return e["msg"].replace("Input should be", "must be", 1) + got
    if kind == "missing":
        last = loc[-1] if loc else ""
        if last == "type":
            owner = path.rsplit(".", 1)[0] if "." in path else path
            example = {"loss": "CrossEntropyLoss", "optimizer": "Adam", "schedule": "StepLR"}.get(owner, "ReLU")
            what = "every layer" if owner.startswith("model.layers") else owner
            return f'missing; {what} needs a "type", e.g. {{"type": "{example}"}}'
        return "missing; this field is required"
    return None


_FIELD_HOMES: dict[str, list[str]] | None = None


def _field_homes() -> dict[str, list[str]]:
    """Field name -> every dotted place it belongs (spec sections and catalog parameters of the
    loss, optimizer and schedule), for 'lr belongs in optimizer.lr' hints."""
    global _FIELD_HOMES
    if _FIELD_HOMES is not None:
        return _FIELD_HOMES
    homes: dict[str, list[str]] = {}

    def add(name: str, where: str) -> None:
        if where not in homes.setdefault(name, []):
            homes[name].append(where)

    def walk(model: Any, prefix: str) -> None:
        for name, field in model.model_fields.items():
            if name == "schema_version" or (name == "type" and issubclass(model, _Typed)):
                continue
            dotted = f"{prefix}.{name}" if prefix else name
            add(name, dotted)
            inner = _model_of(field.annotation)
            if inner is not None and inner not in (LayerSpec,):
                walk(inner, dotted)

    walk(ExperimentSpec, "")
    try:
        from workbench.core import catalog

        for kind in ("optimizer", "loss", "schedule"):
            for entry in catalog.entries(kind):
                for p in entry.params:
                    add(p.name, f"{kind}.{p.name}")
    except Exception:  # noqa: BLE001 - hints are a nicety
        pass
    _FIELD_HOMES = homes
    return homes


def field_home_hint(name: str, path: str, exclude: str = "") -> str:
    """'lr belongs in optimizer.lr' when `name` is a field somewhere else than `path` (and not
    under `exclude`, e.g. "optimizer."), else ''."""
    places = [w for w in _field_homes().get(name, []) if w != path and not (exclude and w.startswith(exclude))]
    places.sort(key=lambda w: w.count("."))  # train.epochs before schedule.warmup.epochs
    if not places:
        return ""
    return f"{name} belongs in {' or '.join(places[:3])}"


def _unknown_field_message(loc: tuple, path: str) -> str:
    allowed = _allowed_fields(loc)
    name = str(loc[-1]) if loc else ""
    hint = field_home_hint(name, path)
    if hint:
        return f"unknown field; {hint}"
    import difflib

    lower = {a.lower(): a for a in allowed}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1)
    dym = f"did you mean {lower[close[0]]!r}? " if close else ""
    return f"unknown field; {dym}allowed here: {', '.join(allowed)}"


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
        raise SpecError(_problems_from_validation(err), source) from None


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


def resolve_source(source: str, base_dir: str | os.PathLike | None) -> str:
    """`sample:<name>` stays; a relative path is taken relative to base_dir (the spec's folder)."""
    if source.startswith("sample:"):
        return source
    p = Path(source).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return str(p)


LayerSpec.model_rebuild()

"""Does a model fit its loss and its data? The checks build_model and check_experiment make
beyond the layers' own shapes: the loss suits the task, the last layer has the width the loss
needs, a Softmax does not end a classifier whose loss applies its own, an Embedding gets integer
ids, the stack is not empty. Each problem is a ModelError that names the layer and the fix."""

from __future__ import annotations

from workbench.core import catalog
from workbench.core.catalog import describe_shape
from workbench.core.training.model_summary import ModelError, ModelSummary


def task_words(meta) -> str:
    if meta.task == "classification":
        return f"classification ({len(meta.class_names) or meta.target_width} classes)"
    w = meta.target_width
    return f"regression ({w} target{'s' if w != 1 else ''})"


def loss_task_problem(spec, meta) -> ModelError | None:
    try:
        entry = catalog.get_entry("loss", spec.loss.type)
    except KeyError as exc:
        return ModelError(str(exc.args[0]))
    if meta.task not in entry.info["tasks"]:
        return ModelError(f"{entry.name} is for {entry.info['tasks'][0]}; this dataset is {task_words(meta)}: choose "
                          f"{catalog.default_loss(meta.task)}")
    return None


def output_problem(spec, meta, summary: ModelSummary) -> ModelError | None:
    """The last layer's output must have the width the loss needs (only when the loss fits the task)."""
    if not summary.layers or loss_task_problem(spec, meta) is not None:
        return None
    entry = catalog.get_entry("loss", spec.loss.type)
    widths = entry.info["widths"](meta)
    out = summary.output_shape
    last = summary.layers[-1]
    head = f"Layer {last.index + 1} ({last.type}), the last layer,"
    if meta.task == "classification":
        n = widths[-1]
        need = f"one per class ({n})" if widths == [n] else f"1 or one per class ({n})"
    else:
        need = f"one per target ({widths[0]})"
    if len(out) != 1:
        msg = (f"{head} outputs {describe_shape(out)} per sample but {entry.name} needs a flat vector of {need}; "
               "add Flatten and then a Linear layer with out_features 'auto' at the end")
        return ModelError(msg, last.index, last.type)
    if out[0] in widths:
        return None
    fix = (f"set its out_features to 'auto' or {widths[-1]}" if last.type == "Linear"
           else "add a Linear layer with out_features 'auto' at the end")
    noun = "value" if out[0] == 1 else "values"
    return ModelError(f"{head} outputs {out[0]} {noun} but {entry.name} needs {need}; {fix}", last.index, last.type)


def output_notes(spec, layers) -> list[str]:
    if not layers:
        return []
    last = layers[-1].type
    loss = spec.loss.type
    if last in ("Softmax", "Sigmoid", "ReLU", "ReLU6") and loss in ("CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss"):
        return [f"Layer {len(layers)} ({last}) ends the model, but {loss} expects raw scores and applies "
                f"{'sigmoid' if loss == 'BCEWithLogitsLoss' else 'softmax'} itself; removing it usually trains better"]
    return []


def embedding_problem(spec, meta) -> ModelError | None:
    """An Embedding first layer looks up rows by integer id; standardized (or otherwise float)
    features would be truncated to meaningless or out-of-range ids. The model check sees the
    spec and the dataset's meta, not the values: it knows standardization and the built-in
    samples that generate float points."""
    layers = spec.model.layers
    if not layers or layers[0].type != "Embedding" or len(tuple(meta.input_shape)) != 1:
        return None  # other input shapes get the layer's own shape message
    head = "Layer 1 (Embedding) needs integer token ids in [0, num_embeddings)"
    if spec.data.standardize:
        return ModelError(f"{head}; this data has standardized float features. Set data.standardize to false "
                          "and use integer-coded features, or remove the Embedding layer.", 0, "Embedding")
    source = spec.data.source
    if source.startswith("sample:"):
        try:
            from workbench.core.data import SAMPLES

            info = SAMPLES.get(source.split(":", 1)[1])
        except Exception:  # noqa: BLE001 - the check is a courtesy
            info = None
        if info is not None and getattr(info, "synthetic", False):
            return ModelError(f"{head}; {source} has float features (points, not token ids). Use integer-coded "
                              "features, or remove the Embedding layer.", 0, "Embedding")
    return None


def empty_problem(spec) -> ModelError | None:
    if spec.model.layers:
        return None
    return ModelError("The model has no layers; add at least one, e.g. a Linear layer with out_features 'auto' "
                      "(one output per class or target)")


__all__ = ["embedding_problem", "empty_problem", "loss_task_problem", "output_notes", "output_problem",
           "task_words"]

"""The Evaluate page's views that need the run's model, not only its stored predictions: the
decision boundary (beyond the live grid the training process sends) and the playground. The model
is rebuilt from the run's weights on the page's background thread, once per run shown (a live
run's newest weights after each snapshot)."""

from __future__ import annotations

import numpy as np

from workbench.core.evaluation import format_value, stored_grid
from workbench.gui.pages.evaluate.source import load_source_model

__all__ = ["ModelViews", "held_inputs_text"]

MAX_HELD_SHOWN = 8


def held_inputs_text(prep, grid: dict) -> str:
    """What the inputs off the plane are held at, for the status line under the boundary."""
    if grid.get("method") == "pca":
        return " The plane spans the two main directions of the training inputs; the rest is held at their mean."
    if grid.get("method") != "features" or prep.kind != "tabular":
        return ""
    chosen = {prep.feature_names[k] for k in grid.get("features") or [] if k < len(prep.feature_names)}
    base, i, held = prep.baseline_raw(), 0, []
    for col in prep.input_columns:
        if col["kind"] == "numeric":
            if col["name"] not in chosen and i < len(base):
                held.append(f"{col['name']} {format_value(float(base[i]))}")
            i += 1
        else:
            held.append(f"{col['name']} {col.get('fill', '?')}")
            i += len(col.get("levels", []))
    if not held:
        return ""
    more = f" and {len(held) - MAX_HELD_SHOWN} more" if len(held) > MAX_HELD_SHOWN else ""
    return (" The other inputs are held at their training median (numbers) or most common value: "
            + ", ".join(held[:MAX_HELD_SHOWN]) + more + ".")


class ModelViews:
    """Boundary and playground for an EvaluatePage (which owns the widgets and the thread)."""

    def __init__(self, page) -> None:
        self.page = page
        self.model = None
        self._model_generation = -1
        self._model_loading = False
        self._after_model: list = []
        self._predict_generation = 0
        self.live_grid: dict | None = None  # the latest grid a live run's training process sent

    def forget_model(self) -> None:
        """Newer weights (a live run's snapshot) or another run: rebuild the model when next needed."""
        self.model = None

    def show_live_grid(self, epoch: int) -> None:
        grid = self.live_grid
        method = self.page.boundary.requested_view()[0]
        if grid is None or (method == "pca") != (grid.get("method") == "pca"):
            return
        self.page.boundary.select_view_for(grid)
        loaded = self.page.loaded_data
        held = held_inputs_text(loaded.prep, grid) if loaded is not None and loaded.prep is not None else ""
        self.page.boundary.set_grid(grid, f"Live: computed in the training process at epoch {epoch}." + held)
        self.page.boundary_ready.emit()

    def tab_shown(self, index: int) -> None:
        if self.page.loaded_data is None or self.page.loaded_data.prep is None:
            return
        if index == self.page.tab_index["boundary"] and self.page.boundary.grid is None:
            source = self.page.current_source()
            live = source is not None and source.live and self.live_grid is not None
            if live and not self.page.loaded_data.predictions.final:
                self.show_live_grid(self.page.loaded_data.predictions.epoch)
            else:
                self.request_boundary()
        elif index == self.page.tab_index["playground"]:
            prep, sp = self.page.loaded_data.prep, self.page.sp
            if prep.kind == "image" and not self.page.playground.has_image() and sp is not None \
                    and sp.inputs is not None:
                self.open_in_playground(0)  # start from a real sample rather than an empty view
            else:
                self._with_model(self.page.playground.request)

    def _with_model(self, then) -> None:
        """Run `then()` once the run's model is loaded (loading it in the background first)."""
        if self.model is not None and self._model_generation == self.page.generation:
            then()
            return
        self._after_model.append(then)
        if self._model_loading:
            return
        self._model_loading = True
        gen = self.page.generation
        source, prep = self.page.loaded_data.source, self.page.loaded_data.prep

        def done(result) -> None:
            self._model_loading = False
            if gen != self.page.generation:
                self._after_model.clear()
                return
            self.model, self._model_generation = result[0], gen
            pending, self._after_model = self._after_model, []
            for fn in pending:
                fn()

        def failed(exc, _details) -> None:
            self._model_loading = False
            self._after_model.clear()
            text = str(exc)
            self.page.boundary.set_status(text)
            self.page.playground.set_output(problem=text)

        self.page.calls.submit(load_source_model, source, self.page.store_path, prep, on_done=done, on_error=failed)

    def request_boundary(self) -> None:
        if self.page.loaded_data is None or self.page.loaded_data.predictions is None or self.page.loaded_data.prep is None:
            return
        method, i, j = self.page.boundary.requested_view()
        source = self.page.current_source()
        if source.live and self.live_grid is not None and not self.page.loaded_data.predictions.final \
                and method != "features" and (method == "pca") == (self.live_grid.get("method") == "pca"):
            self.show_live_grid(self.page.loaded_data.predictions.epoch)
            return
        self.page.boundary.set_status("Computing the decision boundary…")
        self._with_model(lambda: self._compute_boundary(method, i, j))

    def _compute_boundary(self, method: str, i: int, j: int) -> None:
        model, prep, gen = self.model, self.page.loaded_data.prep, self.page.generation
        preds = self.page.loaded_data.predictions
        if not preds.final and self.page.loaded_data.source.live:
            splits = dict(preds.splits)  # live: only val is stored until the run ends
        else:
            splits = preds.splits

        def compute():
            return stored_grid(model.outputs, prep, splits, method=method, i=i, j=j)

        def done(grid) -> None:
            if gen != self.page.generation:
                return
            if grid is None:
                self.page.boundary.set_grid(None, "The inputs of this run are too large to be stored with it, so the "
                                             "boundary cannot be drawn.")
            else:
                self.page.boundary.set_grid(grid, f"Computed from the run's {model.kind} weights."
                                            + held_inputs_text(prep, grid))
            self.page.boundary_ready.emit()

        self.page.calls.submit(compute, on_done=done,
                           on_error=lambda exc, _: self.page.boundary.set_status(f"Cannot compute the boundary: {exc}"))

    def open_in_playground(self, index: int) -> None:
        sp = self.page.sp
        if sp is None or sp.inputs is None or self.page.loaded_data.prep is None:
            return
        self.page.tabs.setCurrentIndex(self.page.tab_index["playground"])
        if sp.inputs.ndim >= 3:
            self.page.playground.set_image(sp.inputs[index], str(sp.labels[index]) if sp.labels is not None else "")
            self.predict(np.asarray(sp.inputs[index], dtype=np.float32)[None] / 255.0)
        else:
            self.page.playground.set_row(sp.inputs[index])

    def predict(self, request) -> None:
        """Predict one playground input: a raw feature row, an image path or raw image array(s)."""
        if self.page.loaded_data is None or self.page.loaded_data.prep is None:
            return
        self._predict_generation += 1
        ticket = self._predict_generation
        prep = self.page.loaded_data.prep

        def run():
            if isinstance(request, str):
                from workbench.core.evaluation import read_new_data

                raw = read_new_data(prep, request).X[:1]
            else:
                raw = np.asarray(request, dtype=np.float32)
                raw = raw.reshape(1, -1) if prep.kind == "tabular" else raw.reshape(1, *prep.input_shape)
            return self.model.split_predictions(raw, None, "playground")

        def done(sp) -> None:
            if ticket != self._predict_generation:
                return  # a newer input is on its way
            if sp.task == "classification":
                self.page.playground.set_output(probabilities=sp.probabilities[0], threshold=self.page.threshold)
            else:
                self.page.playground.set_output(value=sp.predictions[0])
            self.page.prediction_ready.emit()

        self._with_model(lambda: self.page.calls.submit(
            run, on_done=done, on_error=lambda exc, _: self.page.playground.set_output(problem=str(exc))))

"""Session: the controller between the panels and core.

It holds the one ExperimentSpec; panels edit it only through `edit()` / `set_layers()` /
`set_spec()` (each an undoable command) and redraw from `spec_changed`. After every change it
reloads the data in the background when a data field changed, recomputes the model summary,
and decides whether Train is possible (with the reason when not). `train()` hands a copy of
the spec to a RunWorker whose events come back through `run_event`; the child process records
the run in the run store itself, the GUI only shows it.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from workbench.core import catalog
from workbench.core.data import selected_meta
from workbench.core.training import Event, Paused, Resumed, RunRecorded, RunStarted, TerminalEvent
from workbench.core.spec import ExperimentSpec, SpecError, load_spec, set_dotted, spec_to_dict
from workbench.gui import engine
from workbench.gui.background import BackgroundCalls
from workbench.gui.defaults import default_spec
from workbench.gui.worker import RunHandle, RunWorker
from workbench.gui.wording import for_the_app, spec_error_text

# DataSpec fields that change what is loaded (the others only change how it is split/prepared).
ENGINE_DELAY_MS = 200  # see _engine_timer
_LOAD_FIELDS = ("source", "target", "task", "missing", "noise", "n_samples", "image_size", "color_mode",
                "x_key", "y_key")

RunFactory = Callable[[ExperimentSpec, "Path | None", "str | None"], RunHandle]




class _SpecCommand(QUndoCommand):
    """Swap the session's spec between two values. Consecutive edits of the same fields
    within a moment merge into one step (typing in a spin box is one undo)."""

    MERGE_SECONDS = 1.5

    def __init__(self, session: "Session", old: ExperimentSpec, new: ExperimentSpec, text: str, merge_key: str = ""):
        super().__init__(text)
        self._session, self.old, self.new, self.merge_key = session, old, new, merge_key
        self.at = time.monotonic()

    def id(self) -> int:
        return 7 if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _SpecCommand) or other.merge_key != self.merge_key:
            return False
        if other.at - self.at > self.MERGE_SECONDS:
            return False
        self.new, self.at = other.new, other.at
        return True

    def redo(self) -> None:
        self._session._apply(self.new)

    def undo(self) -> None:
        self._session._apply(self.old)


class Session(QObject):
    spec_changed = Signal(object)
    dataset_changed = Signal(object)
    data_error = Signal(str)
    summary_changed = Signal(object)
    validity_changed = Signal(bool, str)
    run_event = Signal(object)
    run_events = Signal(list)  # the same events, one signal per batch from the worker (~30 ms)
    run_state_changed = Signal(str)
    dirty_changed = Signal(bool)
    project_changed = Signal(object)  # Path | None of the project file
    loading_changed = Signal(bool)  # True while a dataset loads in the background
    load_progress = Signal(object)  # core.data LoadProgress, a few times a second while a big load runs
    _load_progress_from_loader = Signal(int, object)  # (generation, LoadProgress), emitted on the loading thread
    engine_ready = Signal()  # torch is imported (warm_engine): the summary and devices can be shown
    notice = Signal(str)  # something the session did on its own that a person should know (status bar)
    next_run_changed = Signal(object)  # the BranchPlan the next Train continues (None: a fresh run)

    def __init__(
        self,
        spec: ExperimentSpec | None = None,
        *,
        run_factory: RunFactory | None = None,
        store_path: str | os.PathLike | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._spec = spec if spec is not None else default_spec()
        self._base_dir: Path | None = None
        self._project_path: Path | None = None
        self._dataset = None
        self._data_error = ""
        self._loading = False
        self._load_generation = 0
        self._loaded_key: tuple | None = None
        self._load_cancel = threading.Event()  # set: the load in progress stops (LoadCancelled)
        self._summary = None
        self._validity: tuple[bool, str] = (False, "Loading data…")
        self._state = "idle"
        self._worker: RunWorker | None = None
        self._ending: set[RunWorker] = set()  # workers past their terminal event, reaping their child
        self._stopping: RunWorker | None = None  # the run shutdown(None) left stopping on its own
        self._pool = None
        self._pool_lock = threading.Lock()
        self._run_factory = run_factory
        self._factory_options = _accepted_options(run_factory)
        self._next_run = None  # core.runs.BranchPlan for the next train()
        self.current_run_dir: Path | None = None  # checkpoint folder of the live (or last) run
        if store_path is None:
            from workbench.core.runs import default_store_path

            store_path = default_store_path()  # $WORKBENCH_STORE or the user's data folder
        self._store_path = str(store_path)
        self._dirty = False
        self._closed = False
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._background = BackgroundCalls("data", self)
        self._load_progress_from_loader.connect(self._on_load_progress)  # queued: it comes from the loader
        self._engine_calls: BackgroundCalls | None = None  # imports torch off the GUI thread
        self._engine_error = ""
        # a summary waiting for torch starts the import a moment later, so the window paints its
        # data and layers first (loading libtorch holds the interpreter lock for a while)
        self._engine_timer = QTimer(self, singleShot=True, interval=ENGINE_DELAY_MS)
        self._engine_timer.timeout.connect(self.warm_engine)
        self._recheck_timer = QTimer(self, singleShot=True, interval=0)
        self._recheck_timer.timeout.connect(self._recheck)
        self._reload_if_needed()

    # ---- state --------------------------------------------------------------------------
    @property
    def spec(self) -> ExperimentSpec:
        return self._spec

    @property
    def dataset(self):
        return self._dataset

    @property
    def meta(self):
        """The loaded data's meta, as training will see it (data.classes applied)."""
        if self._dataset is None:
            return None
        return selected_meta(self._dataset.meta, self._spec.data.classes)

    @property
    def summary(self):
        return self._summary

    @property
    def base_dir(self) -> Path | None:
        return self._base_dir

    @property
    def project_path(self) -> Path | None:
        return self._project_path

    @property
    def store_path(self) -> str | None:
        return self._store_path

    @property
    def validity(self) -> tuple[bool, str]:
        return self._validity

    @property
    def state(self) -> str:
        return self._state

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def engine_is_ready(self) -> bool:
        """torch can be used on the GUI thread without waiting (see gui/engine.py)."""
        return engine.is_ready()

    def warm_engine(self) -> None:
        """Import torch on a background thread (once); `engine_ready` follows. The app calls it
        right after the window shows; the first summary asks for it too."""
        self._engine_timer.stop()
        if self._engine_calls is not None or self._closed:
            return  # (when torch is imported already, warm_up returns at once: engine_ready still comes)
        self._engine_calls = BackgroundCalls("torch", self)
        self._engine_calls.submit(engine.warm_up, on_done=self._on_engine_ready, on_error=self._on_engine_failed)

    def _on_engine_ready(self, _devices) -> None:
        self.engine_ready.emit()
        self._recheck_timer.start()

    def _on_engine_failed(self, err: BaseException, details: str) -> None:
        self._engine_error = f"PyTorch could not be loaded: {err}"
        self._recheck_timer.start()

    # ---- editing ------------------------------------------------------------------------
    def set_spec(self, spec: ExperimentSpec, *, mark_dirty: bool = True, text: str = "Replace experiment") -> None:
        """Replace the whole spec. mark_dirty=False starts a fresh history (a project was opened)."""
        if mark_dirty:
            if spec != self._spec:
                self.undo_stack.push(_SpecCommand(self, self._spec, spec, text))
            return
        self.undo_stack.clear()
        self._apply(spec)
        self.undo_stack.setClean()
        self._update_dirty()

    def edit(self, changes: dict[str, Any], text: str | None = None) -> str | None:
        """Apply dotted-path changes as one undoable step; an error message, or None if accepted."""
        try:
            new = self._spec.with_values(changes)
        except SpecError as err:
            return spec_error_text(err, self._proposed(changes))
        except (KeyError, IndexError, TypeError, ValueError) as err:
            return str(err)
        if new == self._spec:
            return None
        keys = ",".join(sorted(changes))
        label = text or f"Change {', '.join(sorted(changes))}"
        self.undo_stack.push(_SpecCommand(self, self._spec, new, label, merge_key=keys))
        return None

    def _proposed(self, changes: dict[str, Any]) -> dict[str, Any]:
        """The spec as a dict with `changes` made (not validated): what a refused edit's
        message names layers by."""
        raw = spec_to_dict(self._spec)
        try:
            for dotted, value in changes.items():
                set_dotted(raw, dotted, value)
        except (SpecError, KeyError, IndexError, TypeError, ValueError):
            return spec_to_dict(self._spec)
        return raw

    def set_layers(self, layers: list[dict]) -> str | None:
        return self.edit({"model.layers": [dict(layer) for layer in layers]}, text="Change layers")

    def load_data(self, source: str) -> None:
        """Use another dataset (sample:NAME or a path); it loads in the background."""
        source = str(source)
        if source == self._spec.data.source:  # opened again: read it again (it may have changed, or
            self.reload_data()                # its last load was cancelled)
            return
        changes: dict[str, Any] = {"data.source": source, "data.target": None, "data.task": "auto"}
        error = self.edit(changes, text="Load data")
        if error:
            self._set_data_error(error)

    def reload_data(self) -> None:
        self._loaded_key = None
        self._reload_if_needed()

    def _apply(self, spec: ExperimentSpec) -> None:
        """The one place the spec changes (undo commands call it)."""
        self._spec = spec
        self.spec_changed.emit(spec)
        self._reload_if_needed()
        self._recheck_timer.start()

    @Slot(bool)
    def _on_clean_changed(self, clean: bool) -> None:
        self._update_dirty()

    def _update_dirty(self) -> None:
        dirty = not self.undo_stack.isClean()
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    # ---- projects -----------------------------------------------------------------------
    def open_project(self, path: str | os.PathLike) -> str | None:
        try:
            spec = load_spec(path)
        except SpecError as err:
            return spec_error_text(err)
        self._project_path = Path(path).resolve()
        self._base_dir = self._project_path.parent
        self._loaded_key = None  # relative sources now resolve elsewhere
        if self._next_run is not None:
            self.set_next_run(None)  # a pending branch belongs to the experiment being left
        self.set_spec(spec, mark_dirty=False)
        self.project_changed.emit(self._project_path)
        return None

    def save_project(self, path: str | os.PathLike | None = None) -> str | None:
        path = Path(path) if path is not None else self._project_path
        if path is None:
            return "Choose where to save the project first"
        try:
            self._spec.save(path)
        except OSError as err:
            return f"Could not save {path}: {err.strerror or err}"
        self._project_path = path.resolve()
        if self._base_dir is None:
            self._base_dir = self._project_path.parent
        self.undo_stack.setClean()
        self._update_dirty()
        self.project_changed.emit(self._project_path)
        return None

    def new_project(self, spec: ExperimentSpec | None = None) -> None:
        self._project_path = None
        self._base_dir = None
        if self._next_run is not None:
            self.set_next_run(None)
        self.set_spec(spec or default_spec(), mark_dirty=False)
        self.project_changed.emit(None)

    def spec_dict(self) -> dict[str, Any]:
        return spec_to_dict(self._spec)

    # ---- data ---------------------------------------------------------------------------
    def _data_key(self) -> tuple:
        data = self._spec.data
        return (str(self._base_dir),) + tuple(repr(getattr(data, f)) for f in _LOAD_FIELDS)

    def _reload_if_needed(self) -> None:
        key = self._data_key()
        if key == self._loaded_key or self._closed:
            return
        self._loaded_key = key
        self._load_generation += 1
        generation = self._load_generation
        self._load_cancel.set()  # a load still running is for data no longer wanted
        self._load_cancel = cancel = threading.Event()
        self._set_loading(True)
        data, base_dir = self._spec.data.model_copy(deep=True), self._base_dir
        self._background.submit(
            _load_dataset, data, base_dir, lambda p, g=generation: self._load_progress_from_loader.emit(g, p), cancel,
            on_done=lambda ds, g=generation: self._on_loaded(g, ds),
            on_error=lambda err, details, g=generation: self._on_load_failed(g, err, details),
        )

    def cancel_load(self) -> None:
        """Stop the load in progress (Cancel beside its progress). The Data page then says so and
        shows nothing of the data loaded before (it is not this data); choosing the data again
        loads it again."""
        if self._loading:
            self._load_cancel.set()

    @Slot(int, object)
    def _on_load_progress(self, generation: int, progress) -> None:
        if generation == self._load_generation and self._loading:
            self.load_progress.emit(progress)

    def _on_loaded(self, generation: int, dataset) -> None:
        if generation != self._load_generation:
            return  # a newer load was asked for meanwhile
        self._dataset = dataset
        self._set_loading(False)
        self._set_data_error("")
        self.dataset_changed.emit(dataset)
        self._adapt_loss_to_task()
        self._adapt_model_to_images()
        self._recheck_timer.start()

    def _on_load_failed(self, generation: int, err: BaseException, details: str) -> None:
        if generation != self._load_generation:
            return
        from workbench.core.data import LoadCancelled

        self._dataset = None
        self._set_loading(False)
        if isinstance(err, LoadCancelled):
            self._loaded_key = None  # choosing the same data again loads it again
            source = self._spec.data.source
            message = (f"Loading {Path(source).name or source} was cancelled. Open it again to load it, "
                       "or choose other data.")
        else:
            message = str(err) if isinstance(err, ValueError) else f"Could not load the data: {err}"
        self._set_data_error(for_the_app(message, on_data_page=True))  # shown above the Data page's settings
        self.dataset_changed.emit(None)
        self._recheck_timer.start()

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)
        if loading:
            self._set_validity(False, "Loading data…")

    def _set_data_error(self, message: str) -> None:
        self._data_error = message
        self.data_error.emit(message)

    def _adapt_loss_to_task(self) -> None:
        """A regression dataset cannot train with CrossEntropyLoss: pick the first loss that fits."""
        meta = self.meta
        if meta is None:
            return
        valid = [e.name for e in catalog.losses_for_task(meta.task)]
        if valid and self._spec.loss.type not in valid:
            old = self._spec
            try:
                new = old.with_values({"loss": {"type": catalog.default_loss(meta.task)}})
            except SpecError:
                return
            # Part of loading the data: no undo step of its own, but the project is changed.
            self._apply(new)
            self.undo_stack.resetClean()
            self._update_dirty()

    def _adapt_model_to_images(self) -> None:
        """A built-in image sample into a model that starts with a Linear layer (the default MLP)
        cannot train: put a Flatten first, as an undoable edit, so choosing the sample trains at
        once. (A person's own images keep the model as built: the red layer says to add a Flatten,
        and the CNN template is there.)"""
        meta = self.meta
        layers = self.spec_dict()["model"]["layers"]
        if (meta is None or not meta.source.startswith("sample:") or len(meta.input_shape) < 2 or not layers
                or layers[0].get("type") != "Linear"):
            return
        error = self.edit({"model.layers": [{"type": "Flatten"}, *layers]}, text="Flatten the images for the MLP")
        if error is None:
            size = "×".join(str(n) for n in meta.input_shape[-2:])
            self.notice.emit(f"The sample is {size} images: added a Flatten layer first so the model can take them "
                             "(Edit ▸ Undo takes it out; the CNN template on the Model page suits images better).")

    # ---- summary and validity -----------------------------------------------------------
    @Slot()
    def _recheck(self) -> None:
        if self._closed:
            return
        meta = self.meta
        summary, reason = None, ""
        if self._loading:
            reason = "Loading data…"
        elif meta is None:
            first = self._data_error.strip().splitlines()[0] if self._data_error.strip() else "no data"
            reason = f"No data: {first}"
        else:
            summary, reason = self._summarize(meta)
        self._summary = summary
        self.summary_changed.emit(summary)
        self._set_validity(not reason, reason)

    def _summarize(self, meta) -> tuple[Any, str]:
        spec = self._spec
        if not spec.model.layers:
            return None, "The model has no layers: add some from the palette"
        if not engine.is_ready():  # never import torch here: it would freeze the window for seconds
            if self._engine_calls is None and not self._engine_timer.isActive():
                self._engine_timer.start()
            return None, self._engine_error or engine.loading_message()
        from workbench.core.training import model as core_model
        batch = spec.train.batch_size
        batch = batch if isinstance(batch, int) else max(1, meta.n_samples)
        try:
            summary = core_model.summarize(spec, meta, batch_size=batch)
        except Exception as err:  # summarize should not raise; if it does, say so rather than crash
            return None, f"Could not inspect the model: {err}"
        for layer in summary.layers:
            if layer.error:
                where = f"Layer {layer.index + 1} ({layer.type})"
                return summary, layer.error if layer.error.startswith(where) else f"{where}: {layer.error}"
        try:
            problems = core_model.check_experiment(spec, meta)
        except Exception as err:
            problems = [str(err)]
        return summary, "\n".join(dict.fromkeys(problems))  # each problem on its own line

    def _set_validity(self, ok: bool, reason: str) -> None:
        reason = for_the_app(reason)
        if (ok, reason) != self._validity:
            self._validity = (ok, reason)
            self.validity_changed.emit(ok, reason)

    # ---- runs ---------------------------------------------------------------------------
    def train(self, spec: ExperimentSpec | None = None, **options: Any) -> bool:
        """Start a run of the current spec (or `spec`); False (and nothing happens) if it cannot start.

        `options` (resume_from, parent_id, tags, name) go to the run; with none given, a pending
        branch (`set_next_run`) is used once. Every run gets its folder, runs/<id>/ beside the store
        (`current_run_dir` once the run is recorded)."""
        if self._recheck_timer.isActive():  # an edit is not checked yet: check it now
            self._recheck_timer.stop()
            self._recheck()
        if self._worker is not None or not self._validity[0] or self._closed:
            return False
        if spec is None and not options and self._next_run is not None:
            spec, options = self._spec, self._next_run.options()
            self.set_next_run(None)
        spec, base_dir = (spec or self._spec).model_copy(deep=True), self._base_dir
        from workbench.core.spec import experiment_name

        options.setdefault("name", experiment_name(spec, self.meta))  # "digits · MLP 128-10" unless named
        self.current_run_dir = None
        factory = self._run_factory or self._pool_run
        accepted = self._factory_options if self._run_factory else None
        kwargs = {k: v for k, v in options.items() if accepted is None or k in accepted}
        worker = RunWorker(lambda: factory(spec, base_dir, self._store_path, **kwargs), parent=self)
        worker.events_ready.connect(self._on_events)
        worker.done.connect(self._on_worker_done)
        self._worker = worker
        self._set_state("starting")
        worker.start()
        return True

    @property
    def next_run(self):
        return self._next_run

    def set_next_run(self, plan) -> None:
        """Make the next Train continue a run (a core.runs.BranchPlan), or None for a fresh run."""
        self._next_run = plan
        self.next_run_changed.emit(plan)

    def pause(self) -> None:
        if self._worker is not None and self._state == "running":
            self._worker.send("pause")

    def resume(self) -> None:
        """Resume a paused run; also one whose pause was sent and not yet acknowledged (the trainer
        takes commands in order, and resuming a run that is not paused does nothing)."""
        if self._worker is not None and self._state in ("paused", "running"):
            self._worker.send("resume")

    def toggle_pause(self) -> None:
        if self._state == "paused":
            self.resume()
        else:
            self.pause()

    def stop(self) -> None:
        if self._worker is not None and self._state != "stopping":
            self._worker.send("stop")
            self._set_state("stopping")

    def set_lr(self, lr: float) -> str | None:
        if self._worker is None:
            return "No run is going"
        if not (lr > 0):
            return "The learning rate must be greater than 0"
        self._worker.send("set_lr", float(lr))
        return None

    def _pool_run(self, spec: ExperimentSpec, base_dir: Path | None, store_path: str | None,
                  **options: Any) -> RunHandle:
        """Called on the worker thread: a ProcessRun from the warm pool (started here if needed)."""
        pool = self.warm_pool()
        # a person is watching: a loss that turns NaN pauses at the last good weights (see train())
        return pool.start_run(spec, base_dir=base_dir, store_path=store_path, progress_interval=0.1,
                              pause_on_divergence=True, **options)

    def warm_pool(self):
        """The WarmPool keeping a spawned child ready (created on first use)."""
        with self._pool_lock:
            if self._pool is None and not self._closed:
                from workbench.core.execution import WarmPool

                self._pool = WarmPool()
            return self._pool

    def adopt_pool(self, pool) -> None:
        """Use `pool` (a WarmPool spawned before this session existed: app.main spawns it first
        thing, so its child imports torch while the window is built) as `warm_pool()`."""
        with self._pool_lock:
            if self._pool is None and not self._closed:
                self._pool = pool
                return
        pool.close()

    @Slot(list)
    def _on_events(self, events: list[Event]) -> None:
        for i, event in enumerate(events):
            if isinstance(event, TerminalEvent):
                events = events[: i + 1]
                break
        if events:
            self.run_events.emit(events)
        for event in events:
            if isinstance(event, RunRecorded):
                self.current_run_dir = Path(event.run_dir)
            if isinstance(event, (RunStarted, Resumed)) and self._state != "stopping":
                self._set_state("running")
            elif isinstance(event, Paused) and self._state != "stopping":
                self._set_state("paused")
            self.run_event.emit(event)
            if isinstance(event, TerminalEvent):  # after the event: whoever waits for idle has seen how it ended
                self._release_worker(self.sender())

    def _release_worker(self, worker) -> None:
        """The run has ended: the next can start now. The child may take seconds to exit on a busy
        machine; its worker thread reaps it and is joined when it says it is done."""
        if worker is not None and worker is self._worker:
            self._worker = None
            self._ending.add(worker)
            self._set_state("idle")

    @Slot()
    def _on_worker_done(self) -> None:
        if self._closed:
            return  # shutdown() joined every worker
        worker = self.sender()
        if worker is self._worker:  # ended without a terminal event reaching us (cannot happen; be safe)
            self._worker = None
        self._ending.discard(worker)
        if worker is not None:
            worker.shutdown(1.0)  # the thread is returning; this only joins it
            worker.deleteLater()
        if self._worker is None:
            self._set_state("idle")

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.run_state_changed.emit(state)

    # ---- shutdown -----------------------------------------------------------------------
    def shutdown(self, timeout: float | None = 5.0) -> None:
        """Stop any run and close the threads and the warm pool. Safe to call twice.

        timeout: seconds to wait for a run to stop (then its child is killed); None never
        waits (closing the window): the run's own thread stops it, and `wait_runs_ended` lets
        the app's exit give it a moment."""
        if self._closed:
            return
        self._closed = True
        self._recheck_timer.stop()
        self._engine_timer.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.events_ready.disconnect(self._on_events)
            worker.done.disconnect(self._on_worker_done)
            worker.shutdown(timeout)
            self._stopping = worker
        for ending in list(self._ending):  # their runs are over and recorded: do not wait for a tidy exit
            ending.done.disconnect(self._on_worker_done)
            ending.shutdown(None if timeout is None else 0.5)
        self._ending.clear()
        self._load_cancel.set()  # a big load in progress stops at its next block instead of finishing
        self._background.shutdown()  # a load still going is dropped, never waited for
        if self._engine_calls is not None:
            self._engine_calls.shutdown()  # an import cannot be interrupted; it ends on its own
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.close()
            except Exception:
                pass
        self._set_state("idle")


    def wait_runs_ended(self, timeout: float) -> bool:
        """After shutdown(None): block up to `timeout` s for the run being stopped to end
        (the app's exit, once the window is gone). True if none is left."""
        return self._stopping is None or self._stopping.wait_ended(timeout)


def _accepted_options(factory) -> set[str] | None:
    """Which run options a custom run factory takes (None: all, it has **kwargs); a factory of
    (spec, base_dir, store_path) only gets none."""
    if factory is None:
        return None
    import inspect

    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params} & {"run_dir", "resume_from", "parent_id", "tags", "name"}


def _load_dataset(data, base_dir, on_progress, cancel):
    """Runs on the background thread."""
    from workbench.core.data import load_dataset

    return load_dataset(data, base_dir=base_dir, on_progress=on_progress, cancel=cancel)

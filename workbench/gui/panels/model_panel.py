"""The model panel: palette -> stack of layers (which shows the live summary: output shape and
parameters per layer, the totals under it) -> parameters of the selected layer, and the reason
Train is disabled.

It holds no state: each change is one undoable session change. Structural changes (add, move,
duplicate, remove, template) are separate undo steps named after what they did; parameter edits
go through `session.set_layers`, whose undo steps merge while a person keeps typing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core import catalog
from workbench.core.spec import SpecError
from workbench.gui.panels import layer_ops
from workbench.gui.panels.layer_palette import LayerPalette
from workbench.gui.panels.layer_stack import ERROR_COLOR, WARNING_COLOR, LayerStack, info_for
from workbench.gui.panels.layer_tuning import LayerTuning
from workbench.gui.panels.model_summary_view import ModelSummaryView, WrapLabel
from workbench.gui.widgets.param_form import ParamForm
from workbench.gui.wording import spec_error_text

_ICONS = {
    "add": QStyle.StandardPixmap.SP_ArrowRight,
    "up": QStyle.StandardPixmap.SP_ArrowUp,
    "down": QStyle.StandardPixmap.SP_ArrowDown,
    "duplicate": QStyle.StandardPixmap.SP_FileDialogNewFolder,
    "remove": QStyle.StandardPixmap.SP_TrashIcon,
    "undo": QStyle.StandardPixmap.SP_ArrowBack,
    "redo": QStyle.StandardPixmap.SP_ArrowForward,
}


def _icon(name: str) -> QIcon:
    try:
        from workbench.gui.theme import icon

        found = icon(name)
        if not found.isNull():
            return found
    except Exception:  # the theme module is optional here
        pass
    return QApplication.style().standardIcon(_ICONS[name])


class ModelPanel(QWidget):
    """Constructor: ModelPanel(session, parent=None). Public: add_layer(name), apply_template(key)."""

    def __init__(self, session: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._summary = getattr(session, "summary", None)
        self._form: ParamForm | None = None
        self._form_key: tuple | None = None
        self.tuning: LayerTuning | None = None
        self._select_next: tuple[int, ...] | None = None
        self._build()
        session.spec_changed.connect(self._spec_changed)
        session.summary_changed.connect(self._summary_changed)
        session.validity_changed.connect(self._validity_changed)
        if hasattr(session, "dataset_changed"):
            session.dataset_changed.connect(lambda _ds: self._update_template_menu())
        self._spec_changed(session.spec)
        self._update_template_menu()
        if self._summary is not None:
            self._summary_changed(self._summary)
        validity = getattr(session, "validity", None)
        if validity is not None:
            self._validity_changed(*validity)

    # ---- building ------------------------------------------------------------------------
    def _tool(self, icon: str, tip: str, slot, name: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(_icon(icon))
        button.setToolTip(tip)
        button.setObjectName(name)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        self._icon_names[button] = icon
        return button

    def _build(self) -> None:
        """Two columns: a narrow palette (filter box above it) and the stack, which is also the
        summary (# | Layer | Output | Params), with the totals line and the red message under
        it and the selected layer's parameters below. Fits a ~520 px dock without scrolling
        sideways."""
        self._icon_names: dict[QToolButton, str] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(4)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(5)
        self.splitter = splitter

        # palette: as wide as its longest name
        self.palette_view = LayerPalette()
        self.palette = self.palette_view.tree
        self.palette.add_requested.connect(self.add_layer)
        self.palette_view.setMinimumWidth(self.palette.fitting_width())
        splitter.addWidget(self.palette_view)

        # templates, undo, redo above the stack
        stack_box = QWidget()
        stack_layout = QVBoxLayout(stack_box)
        stack_layout.setContentsMargins(0, 0, 0, 0)
        stack_layout.setSpacing(3)
        top = QHBoxLayout()
        top.setSpacing(2)
        self.template_button = QToolButton()
        self.template_button.setText("Templates")
        self.template_button.setToolTip("Replace the layers with a ready-made model (undo brings yours back)")
        self.template_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.template_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.template_menu = QMenu(self.template_button)
        self.template_actions: dict[str, QAction] = {}
        for key, title in layer_ops.TEMPLATES.items():
            action = self.template_menu.addAction(title)
            action.setToolTip(layer_ops.TEMPLATE_HELP[key])
            action.triggered.connect(lambda _checked=False, k=key: self.apply_template(k))
            self.template_actions[key] = action
        self.template_menu.setToolTipsVisible(True)
        self.template_button.setMenu(self.template_menu)
        top.addWidget(self.template_button)
        top.addStretch(1)
        stack = self.session.undo_stack
        self.undo_button = self._tool("undo", "Undo", stack.undo, "undoButton")
        self.redo_button = self._tool("redo", "Redo", stack.redo, "redoButton")
        # signal arguments only: the stack may be mid-destruction when it emits at shutdown
        stack.canUndoChanged.connect(self.undo_button.setEnabled)
        stack.canRedoChanged.connect(self.redo_button.setEnabled)
        stack.undoTextChanged.connect(self._undo_text_changed)
        stack.redoTextChanged.connect(self._redo_text_changed)
        top.addWidget(self.undo_button)
        top.addWidget(self.redo_button)
        stack_layout.addLayout(top)

        # the stack: one row per layer with its output shape and parameters
        self.stack = LayerStack()
        self.stack.setMinimumWidth(220)
        self.stack.itemSelectionChanged.connect(self._selection_changed)
        self.stack.dropped_new.connect(self._dropped_new)
        self.stack.dropped_move.connect(self._dropped_move)
        self.stack.delete_pressed.connect(self.remove_selected)
        # queued: a lock click rebuilds the stack, which must not delete the item whose
        # setCheckState is still on the call stack (it crashed Qt)
        self.stack.lock_toggled.connect(self._lock_toggled, Qt.ConnectionType.QueuedConnection)
        stack_layout.addWidget(self.stack, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(0)
        self.add_button = self._tool("add", "Add the layer selected in the palette (or double-click it); "
                                     "the arrow lists every layer", self._add_from_palette, "addButton")
        self.add_menu = self._build_add_menu()
        self.add_button.setMenu(self.add_menu)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.up_button = self._tool("up", "Move the selected layer up", lambda: self.shift_selected(-1), "upButton")
        self.down_button = self._tool("down", "Move the selected layer down", lambda: self.shift_selected(1), "downButton")
        self.duplicate_button = self._tool("duplicate", "Duplicate the selected layer", self.duplicate_selected,
                                           "duplicateButton")
        self.remove_button = self._tool("remove", "Remove the selected layer (Delete)", self.remove_selected,
                                        "removeButton")
        for b in (self.add_button, self.up_button, self.down_button, self.duplicate_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        stack_layout.addLayout(buttons)
        # the totals (parameters, FLOPs, memory) and the red layer's message
        self.summary_view = ModelSummaryView()
        stack_layout.addWidget(self.summary_view)

        # parameters of the selected layer, under the stack
        right = QSplitter(Qt.Orientation.Vertical)
        right.setChildrenCollapsible(False)
        right.addWidget(stack_box)
        self.params_box = QGroupBox("Parameters")
        params_layout = QVBoxLayout(self.params_box)
        params_layout.setContentsMargins(6, 4, 6, 4)
        self.params_scroll = QScrollArea()
        self.params_scroll.setWidgetResizable(True)
        self.params_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.params_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.params_hint = QLabel("Select a layer to see its parameters.")
        self.params_hint.setWordWrap(True)
        self.params_hint.setEnabled(False)
        self.params_scroll.setWidget(self.params_hint)
        params_layout.addWidget(self.params_scroll)
        self.params_box.setMinimumHeight(110)
        right.addWidget(self.params_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        self.right_splitter = right
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([self.palette.fitting_width(), 10_000])
        outer.addWidget(splitter, 1)

        # layers after the output layer: allowed, but rarely meant
        self.order_note = WrapLabel()
        self.order_note.setObjectName("orderNote")
        self.order_note.setStyleSheet(f"QLabel {{ color: {WARNING_COLOR}; }}")
        self.order_note.hide()
        outer.addWidget(self.order_note)
        # why Train is disabled / edit problems
        self.message_label = WrapLabel()
        self.message_label.setObjectName("editProblem")
        self.message_label.setStyleSheet(f"QLabel {{ color: {ERROR_COLOR.name()}; }}")
        self.message_label.hide()
        outer.addWidget(self.message_label)
        self.validity_label = WrapLabel()
        self.validity_label.setObjectName("validity")
        outer.addWidget(self.validity_label)
        self._update_undo()

    def _build_add_menu(self) -> QMenu:
        """Every catalog layer by group: how layers are added when the palette is hidden (a
        narrow dock) and a second way when it is shown."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        groups: dict[str, QMenu] = {}
        for entry in catalog.entries("layer"):
            sub = groups.get(entry.group)
            if sub is None:
                sub = groups[entry.group] = menu.addMenu(entry.group)
                sub.setToolTipsVisible(True)
            action = sub.addAction(entry.name)
            action.setToolTip(entry.help)
            action.setObjectName(f"add_{entry.name}")
            action.triggered.connect(lambda _checked=False, n=entry.name: self.add_layer(n))
        return menu

    def add_menu_action(self, name: str) -> QAction | None:
        return self.add_menu.findChild(QAction, f"add_{name}")

    def _fit_palette(self) -> None:
        """Show the palette column only when the stack keeps room for every column whole next
        to it; otherwise the + button's menu adds layers."""
        stack = self.stack
        scroll = stack.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        need = sum(stack.sizeHintForColumn(c) for c in range(stack.columnCount()))
        header = stack.header()
        need = max(need, sum(header.sectionSizeHint(c) for c in range(stack.columnCount())))
        need += 2 * stack.frameWidth() + scroll + 24  # + room for the Layer column to breathe
        margins = self.layout().contentsMargins()
        room = self.width() - margins.left() - margins.right()
        show = room >= self.palette.fitting_width() + self.splitter.handleWidth() + max(need, 250)
        if show != self.palette_view.isVisibleTo(self):
            self.palette_view.setVisible(show)
            self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup if show
                                         else QToolButton.ToolButtonPopupMode.InstantPopup)
            self.add_button.setToolTip(
                "Add the layer selected in the palette (or double-click it); the arrow lists every layer"
                if show else "Add a layer (the list of every layer, by group)")

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_palette()

    # ---- public --------------------------------------------------------------------------
    def layers(self) -> list[dict]:
        return [layer_ops_dict(layer) for layer in self.session.spec.model.layers]

    def add_layer(self, name: str) -> None:
        """Add a palette layer after the selected one (inside its block); with none selected,
        before the output layer (or at the end when there is none)."""
        selected = self.stack.selected_path()
        layers = self.layers()
        if selected is None:
            out = layer_ops.output_index(layers)
            parent, row = (), (out if out is not None else len(layers))
        else:
            parent, row = selected[:-1], selected[-1] + 1
        self._insert_new(name, parent, row)

    def apply_template(self, key: str) -> None:
        images = self._input_is_images()
        layers = layer_ops.template(key, image_input=images)
        self._commit(layers, f"Use template {layer_ops.TEMPLATES[key]}", select=None)

    def shift_selected(self, delta: int) -> None:
        path = self.stack.selected_path()
        if path is None:
            return
        result = layer_ops.shift(self.layers(), path, delta)
        if result is not None:
            layers, new_path = result
            name = layer_ops.get(layers, new_path)["type"]
            self._commit(layers, f"Move {name} {'up' if delta < 0 else 'down'}", select=new_path)

    def duplicate_selected(self) -> None:
        path = self.stack.selected_path()
        if path is not None:
            layers, new_path = layer_ops.duplicate(self.layers(), path)
            self._commit(layers, f"Duplicate {layer_ops.get(layers, new_path)['type']}", select=new_path)

    def remove_selected(self) -> None:
        path = self.stack.selected_path()
        if path is not None:
            name = layer_ops.get(self.layers(), path)["type"]
            layers, next_path = layer_ops.remove(self.layers(), path)
            self._commit(layers, f"Remove {name}", select=next_path)

    # ---- changes -------------------------------------------------------------------------
    def _in_shape_at(self, parent: tuple[int, ...], row: int) -> tuple[int, ...] | None:
        """The per-sample shape flowing into position (parent, row), from the summary."""
        summary = self._summary
        if parent == () and row > 0:
            info = info_for(summary, (row - 1,))
            if info is not None and info.out_shape:
                return tuple(info.out_shape)
        if summary is not None and parent == () and row == 0:
            return tuple(summary.input_shape)
        meta = getattr(self.session, "meta", None) or getattr(getattr(self.session, "dataset", None), "meta", None)
        return tuple(meta.input_shape) if meta is not None else None

    def _insert_new(self, name: str, parent: tuple[int, ...], row: int) -> None:
        layer = layer_ops.new_layer(name, self._in_shape_at(parent, row))
        layers, path = layer_ops.insert(self.layers(), parent, row, layer)
        self._commit(layers, f"Add {name}", select=path)

    def _add_from_palette(self) -> None:
        name = self.palette.selected_name()
        if name:
            self.add_layer(name)
        else:
            self._show_message("Select a layer in the palette first (or double-click it there).")

    def _dropped_new(self, name: str, parent: tuple[int, ...], row: int) -> None:
        self._insert_new(name, tuple(parent), row)

    def _dropped_move(self, source: tuple[int, ...], parent: tuple[int, ...], row: int) -> None:
        result = layer_ops.move(self.layers(), tuple(source), tuple(parent), row)
        if result is None:
            self._show_message("A block cannot be moved into itself.")
            return
        layers, new_path = result
        if layers == self.layers():
            return
        self._commit(layers, f"Move {layer_ops.get(layers, new_path)['type']}", select=new_path)

    def _commit(self, layers: list[dict], text: str, select: tuple[int, ...] | None) -> None:
        """One structural change = one named undo step."""
        try:
            new = self.session.spec.with_values({"model.layers": layers})
        except (SpecError, ValueError) as err:
            self._show_message(spec_error_text(err, {"model": {"layers": layers}}))
            return
        self._show_message("")
        self._select_next = select
        self.session.set_spec(new, text=text)
        self._select_next = None

    def _params_edited(self, path: tuple[int, ...], layer_type: str, values: dict) -> None:
        layers = self.layers()
        if not layer_ops.exists(layers, path) or layer_ops.get(layers, path)["type"] != layer_type:
            return
        old = layer_ops.get(layers, path)
        new_layer = {"type": layer_type, **values}
        new_layer.update({k: old[k] for k in layer_ops.TUNING_KEYS if k in old})
        if old.get("layers") is not None:
            new_layer["layers"] = old["layers"]
        self._select_next = path
        error = self.session.set_layers(layer_ops.replace(layers, path, new_layer))
        self._select_next = None
        self._show_message(error or "")

    def _lock_toggled(self, path: tuple[int, ...], locked: bool) -> None:
        layer = layer_ops.get(self.layers(), path)
        self.set_tuning(path, locked, layer.get("lr_mult"))

    def set_tuning(self, path: tuple[int, ...], frozen: bool, lr_mult: float | None) -> None:
        """Lock/unlock a top-level layer and set its learning-rate multiplier (one undo step)."""
        layers = self.layers()
        if not layer_ops.exists(layers, path):
            return
        old = layer_ops.get(layers, path)
        new = layer_ops.with_tuning(old, frozen, lr_mult)
        if new == old:
            return
        if bool(frozen) != bool(old.get("frozen")):
            self._commit(layer_ops.replace(layers, path, new), f"{'Lock' if frozen else 'Unlock'} {old['type']}",
                         select=path)
            return
        self._select_next = path  # a multiplier being typed: undo steps merge like parameter edits
        error = self.session.set_layers(layer_ops.replace(layers, path, new))
        self._select_next = None
        self._show_message(error or "")

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # ---- reacting to the session ------------------------------------------------------------
    def _spec_changed(self, spec: Any) -> None:
        select = self._select_next if self._select_next is not None else self.stack.selected_path()
        layers = [layer_ops_dict(layer) for layer in spec.model.layers]
        note = layer_ops.output_note(layers)
        self.order_note.setText(f"⚠ {note}" if note else "")
        self.order_note.setVisible(bool(note))
        if select is not None and not layer_ops.exists(layers, select):
            select = None
        self.stack.pending = bool(self._pending())
        self.stack.show_layers(layers, self._summary, select)
        self._selection_changed()
        self._fit_palette()

    def _pending(self) -> str:
        """Why the summary is not there yet although it will be ("Loading PyTorch…"), or ""."""
        if self._summary is not None or getattr(self.session, "engine_is_ready", True):
            return ""
        if not self.session.spec.model.layers:
            return ""
        from workbench.gui.engine import loading_message

        return loading_message()

    def _summary_changed(self, summary: Any) -> None:
        self._summary = summary
        pending = self._pending()
        self.stack.pending = bool(pending)
        self.stack.show_layers(self.layers(), summary, self.stack.selected_path())
        self._fit_palette()
        batch = self.session.spec.train.batch_size
        self.summary_view.show_summary(summary, batch if isinstance(batch, int) else None, pending)
        validity = getattr(self.session, "validity", None)
        if validity is not None:
            self._validity_changed(*validity)

    def _validity_changed(self, ok: bool, reason: str) -> None:
        if ok:
            self.validity_label.setText("✓ Ready to train")
            self.validity_label.setStyleSheet("QLabel { color: #1a7f37; }")
        else:
            layer_error = getattr(self._summary, "error", None)
            if layer_error and layer_error in reason:  # the message is already under the stack
                reason = "a layer cannot take its input (in red above); fix or remove it"
            self.validity_label.setText(f"Train is disabled: {reason}")
            self.validity_label.setStyleSheet(f"QLabel {{ color: {ERROR_COLOR.name()}; }}")

    def _selection_changed(self) -> None:
        path = self.stack.selected_path()
        layers = self.layers()
        has = path is not None and layer_ops.exists(layers, path)
        self.up_button.setEnabled(has and path[-1] > 0)
        self.down_button.setEnabled(has and layer_ops.shift(layers, path, 1) is not None)
        self.duplicate_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        self._show_form(path if has else None, layers)

    def _show_form(self, path: tuple[int, ...] | None, layers: list[dict]) -> None:
        if path is None:
            self._form, self._form_key, self.tuning = None, None, None
            self.params_box.setTitle("Parameters")
            self.params_hint = QLabel("Select a layer to see its parameters.")
            self.params_hint.setWordWrap(True)
            self.params_hint.setEnabled(False)
            self.params_scroll.setWidget(self.params_hint)
            return
        layer = layer_ops.get(layers, path)
        key = (path, layer["type"])
        values = layer_ops.params_of(layer)
        if self._form is not None and self._form_key == key:
            self._form.set_values(values)  # same field the person is editing: keep it (and its focus)
            tuning = getattr(self, "tuning", None)
            if tuning is not None and tuning.lock.isChecked() != bool(layer.get("frozen")):
                tuning.lock.blockSignals(True)
                tuning.lock.setChecked(bool(layer.get("frozen")))
                tuning.lock.blockSignals(False)
        else:
            try:
                entry = catalog.get_entry("layer", layer["type"])
            except KeyError as err:
                self.params_scroll.setWidget(QLabel(str(err)))
                self._form, self._form_key = None, None
                return
            self.tuning = None
            form = ParamForm(entry, values)
            form.values_changed.connect(lambda v, p=path, t=layer["type"]: self._params_edited(p, t, v))
            self._form, self._form_key = form, key
            holder = QWidget()
            holder_layout = QVBoxLayout(holder)
            holder_layout.setContentsMargins(0, 0, 0, 0)
            help_label = QLabel(entry.help)
            help_label.setWordWrap(True)
            help_label.setEnabled(False)
            holder_layout.addWidget(help_label)
            holder_layout.addWidget(form)
            if layer["type"] == "Residual":
                note = QLabel("Its inner layers are listed under it in the stack; drop or add layers there.")
                note.setWordWrap(True)
                holder_layout.addWidget(note)
            info = info_for(self._summary, path)
            if len(path) == 1 and info is not None and info.params > 0:
                self.tuning = LayerTuning(bool(layer.get("frozen")), layer.get("lr_mult"))
                self.tuning.changed.connect(lambda frozen, mult, p=path: self.set_tuning(p, frozen, mult))
                holder_layout.addWidget(self.tuning)
            holder_layout.addStretch(1)
            self.params_scroll.setWidget(holder)
        number = ".".join(str(p + 1) for p in path)
        self.params_box.setTitle(f"Layer {number}: {layer['type']}")

    def _update_undo(self) -> None:
        stack = self.session.undo_stack
        self.undo_button.setEnabled(stack.canUndo())
        self.redo_button.setEnabled(stack.canRedo())
        self._undo_text_changed(stack.undoText())
        self._redo_text_changed(stack.redoText())

    def _undo_text_changed(self, text: str) -> None:
        self.undo_button.setToolTip(f"Undo {text}".strip() + " (Ctrl+Z)")

    def _redo_text_changed(self, text: str) -> None:
        self.redo_button.setToolTip(f"Redo {text}".strip() + " (Ctrl+Shift+Z)")

    def _input_is_images(self) -> bool:
        meta = getattr(self.session, "meta", None) or getattr(getattr(self.session, "dataset", None), "meta", None)
        return bool(meta is not None and len(tuple(meta.input_shape)) == 3)

    def _update_template_menu(self) -> None:
        images = self._input_is_images()
        cnn = self.template_actions["cnn"]
        cnn.setEnabled(images)
        cnn.setText(layer_ops.TEMPLATES["cnn"] if images else f"{layer_ops.TEMPLATES['cnn']} — needs image data")

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            QTimer.singleShot(0, self, self._refresh_icons)  # (cancelled if the panel goes first)

    def _refresh_icons(self) -> None:
        for button, name in self._icon_names.items():
            button.setIcon(_icon(name))


def layer_ops_dict(layer: Any) -> dict:
    """A LayerSpec as the plain dict the spec file holds (inner layers included)."""
    out = {"type": layer.type, **layer.params}
    for key in layer_ops.TUNING_KEYS:  # fine-tuning settings travel with the layer
        if getattr(layer, key, None) is not None:
            out[key] = getattr(layer, key)
    if layer.layers is not None:
        out["layers"] = [layer_ops_dict(inner) for inner in layer.layers]
    return out

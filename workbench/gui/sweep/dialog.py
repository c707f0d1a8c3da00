"""The sweep dialog: tick the fields to vary, shape their ranges, pick strategy and budget.

The space is validated by `core.sweep_space.parse_space` on every edit; each problem is shown
under the row of its field (or under the list when it concerns the whole space), and "Run
sweep" stays disabled until the space is valid. "Save space…" writes the SPACE.json the CLI
reads (`workbench sweep SPEC --space SPACE.json`); "Load space…" reads one back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.execution import default_parallel
from workbench.core.spec import ExperimentSpec, get_dotted, spec_to_dict
from workbench.core.sweep import (
    SpaceError,
    expand_grid,
    load_space,
    parse_space,
    resolve_direction,
    space_from_catalog,
    sweepable_paths,
)
from workbench.gui.file_dialogs import open_file, save_file
from workbench.gui.wording import for_the_app

from .config import SweepConfig, metric_choices
from .space_row import SpaceRow

STRATEGIES = [("Bayesian (TPE)", "tpe"), ("Random", "random"), ("Grid", "grid")]
PRUNERS = [("None", "none"), ("Median", "median"), ("Successive halving", "halving")]
PATH_ROLE = Qt.ItemDataRole.UserRole
_GROUP_ORDER = ["Optimizer", "Training", "Model layers", "Loss", "Schedule", "Data"]


def _group_and_label(path: str, label: str, spec: ExperimentSpec) -> tuple[str, str | None, str]:
    """(group, sub-group or None, item label) for the parameter tree."""
    parts = path.split(".")
    head = parts[0]
    if head == "model":
        # "Layer 2 (Linear): Linear.out_features" / "Layer 1 (Tanh) type"
        layer = label.split(":")[0].removesuffix(" type").strip()
        return "Model layers", layer, parts[-1]
    if head in ("optimizer", "loss", "schedule"):
        owner = getattr(spec, head)
        name = parts[-1]
        if name == "type":
            return head.capitalize(), None, f"type (now {owner.type})"
        return head.capitalize(), None, name
    if head == "train":
        return "Training", None, ".".join(parts[1:])
    return "Data", None, ".".join(parts[1:])


class SweepDialog(QDialog):
    """Build a sweep by clicking. After `exec()` returns Accepted, `config()` is the SweepConfig.

    `check(path)` / `row(path)` / `set_setting(...)` are what tests (and a scripted GUI) use;
    a person uses the tree, the rows and the settings form.
    """

    def __init__(self, spec: ExperimentSpec, base_dir: str | Path | None = None, parent: QWidget | None = None,
                 *, space: dict[str, Any] | None = None):
        super().__init__(parent)
        self.setWindowTitle("New sweep")
        self.setObjectName("sweepDialog")
        self.spec = spec
        self.base_dir = str(base_dir) if base_dir is not None else None
        self._rows: dict[str, SpaceRow] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._labels: dict[str, str] = {}
        self._problems: list[tuple[str, str]] = []
        self._grid_points: int | None = None
        self._valid = False
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(0)
        self._validate_timer.timeout.connect(self.validate)

        # -- parameter tree (left) ---------------------------------------------------------------
        self.tree = QTreeWidget()
        self.tree.setObjectName("sweepParameterTree")
        self.tree.setHeaderLabel("Parameters to vary")
        self.tree.setMinimumWidth(230)
        self._fill_tree()
        self.tree.itemChanged.connect(self._item_changed)

        # -- rows (right) --------------------------------------------------------------------------
        self.rows_box = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(2, 2, 2, 2)
        self.rows_layout.setSpacing(4)
        self.placeholder = QLabel("Tick the parameters to vary in the list on the left.\n"
                                  "Each one gets a range (or a list of choices) here.")
        self.placeholder.setObjectName("spacePlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.rows_layout.addWidget(self.placeholder)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.rows_box)
        self.space_error = QLabel()
        self.space_error.setObjectName("spaceError")
        self.space_error.setWordWrap(True)
        self.space_error.setStyleSheet("color: #c62828;")
        self.space_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.space_error.hide()
        space_group = QGroupBox("Search space")
        sg = QVBoxLayout(space_group)
        sg.addWidget(scroll, 1)
        sg.addWidget(self.space_error)

        # -- settings --------------------------------------------------------------------------------
        self.strategy = QComboBox()
        self.strategy.setObjectName("strategyCombo")
        for text, key in STRATEGIES:
            self.strategy.addItem(text, key)
        self.strategy.setToolTip("Bayesian (TPE) learns from finished trials where to look next; random samples "
                                 "blindly; grid tries every combination of the points of each range")
        self.trials = QSpinBox()
        self.trials.setObjectName("trialsSpin")
        self.trials.setRange(1, 100_000)
        self.trials.setValue(20)
        self.grid_note = QLabel()
        self.grid_note.setObjectName("gridNote")
        self.parallel = QSpinBox()
        self.parallel.setObjectName("parallelSpin")
        self.parallel.setRange(1, 256)
        self.parallel.setValue(default_parallel())
        self.parallel.setToolTip("trials trained at once, each in its own worker process (default: cores − 1)")
        self.pruner = QComboBox()
        self.pruner.setObjectName("prunerCombo")
        for text, key in PRUNERS:
            self.pruner.addItem(text, key)
        self.pruner.setToolTip("stop trials early whose per-epoch metric falls behind (median: behind the median "
                               "of earlier trials at the same epoch; successive halving: keep the best third)")
        self.repeats = QSpinBox()
        self.repeats.setObjectName("repeatsSpin")
        self.repeats.setRange(1, 50)
        self.repeats.setToolTip("runs per point with different seeds; the point's value is their mean")
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("metricCombo")
        self.metric_combo.addItems(metric_choices(spec))
        self.direction = QComboBox()
        self.direction.setObjectName("directionCombo")
        for key in ("auto", "minimize", "maximize"):
            self.direction.addItem(key, key)
        trials_row = QHBoxLayout()
        trials_row.addWidget(self.trials)
        trials_row.addWidget(self.grid_note, 1)
        settings = QGroupBox("Settings")
        form = QFormLayout(settings)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Strategy", self.strategy)
        form.addRow("Trials", trials_row)
        form.addRow("Parallel workers", self.parallel)
        form.addRow("Pruning", self.pruner)
        form.addRow("Repeats per point", self.repeats)
        form.addRow("Metric", self.metric_combo)
        form.addRow("Direction", self.direction)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(space_group, 1)
        rl.addWidget(settings)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tree)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 560])

        # -- buttons -------------------------------------------------------------------------------
        self.summary = QLabel()
        self.summary.setObjectName("sweepSummary")
        self.load_button = QPushButton("Load space…")
        self.load_button.setObjectName("loadSpaceButton")
        self.save_button = QPushButton("Save space…")
        self.save_button.setObjectName("saveSpaceButton")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = self.buttons.addButton("Run sweep", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setObjectName("runSweepButton")
        self.run_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.load_button.clicked.connect(self._load_clicked)
        self.save_button.clicked.connect(self._save_clicked)
        bottom = QHBoxLayout()
        bottom.addWidget(self.load_button)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.resize(900, 640)

        for w in (self.strategy, self.pruner, self.metric_combo, self.direction):
            w.currentIndexChanged.connect(self._schedule_validate)
        for w in (self.trials, self.parallel, self.repeats):
            w.valueChanged.connect(self._schedule_validate)
        if space:
            self.set_space(space)
        self.validate()

    # -- the parameter tree ------------------------------------------------------------------------
    def _fill_tree(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        subgroups: dict[tuple[str, str], QTreeWidgetItem] = {}
        entries = []
        raw = spec_to_dict(self.spec)
        for path, label in sweepable_paths(self.spec):
            try:
                if get_dotted(raw, path) == "auto":
                    continue  # sized from the data (the output layer): varying it breaks the model
            except (KeyError, IndexError, TypeError, ValueError):
                pass
            if path.endswith(".type") and path.startswith("model."):
                # a layer's type only swaps within its group (activations); others have one choice
                try:
                    default = space_from_catalog(self.spec, path)
                except SpaceError:
                    continue
                if len(default.get("choices", [])) < 2:
                    continue
            entries.append((path, label))
        for group_name in _GROUP_ORDER:
            for path, label in entries:
                group, sub, text = _group_and_label(path, label, self.spec)
                if group != group_name:
                    continue
                if group not in groups:
                    groups[group] = QTreeWidgetItem(self.tree, [group])
                    groups[group].setFlags(Qt.ItemFlag.ItemIsEnabled)
                    groups[group].setExpanded(group in ("Optimizer", "Training", "Model layers"))
                parent = groups[group]
                if sub is not None:
                    if (group, sub) not in subgroups:
                        subgroups[(group, sub)] = QTreeWidgetItem(parent, [sub])
                        subgroups[(group, sub)].setFlags(Qt.ItemFlag.ItemIsEnabled)
                        subgroups[(group, sub)].setExpanded(True)
                    parent = subgroups[(group, sub)]
                item = QTreeWidgetItem(parent, [text])
                item.setData(0, PATH_ROLE, path)
                item.setToolTip(0, path)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
                item.setCheckState(0, Qt.CheckState.Unchecked)
                self._items[path] = item
                self._labels[path] = f"{sub} · {text}" if sub else f"{group} · {text}"

    def item(self, path: str) -> QTreeWidgetItem:
        return self._items[path]

    @property
    def offered_paths(self) -> list[str]:
        return list(self._items)

    def _item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        path = item.data(0, PATH_ROLE)
        if path is None:
            return
        if item.checkState(0) == Qt.CheckState.Checked:
            self._add_row(path)
        else:
            self._remove_row(path)

    def check(self, path: str, on: bool = True) -> None:
        """Tick (or untick) a parameter, as a click on its box does."""
        self._items[path].setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # -- rows ------------------------------------------------------------------------------------------
    def row(self, path: str) -> SpaceRow:
        return self._rows[path]

    @property
    def rows(self) -> dict[str, SpaceRow]:
        return dict(self._rows)

    def _add_row(self, path: str, form: dict[str, Any] | None = None) -> SpaceRow:
        if path in self._rows:
            if form is not None:
                self._rows[path].set_json(form)
            return self._rows[path]
        default: dict[str, Any] | None = None
        problem = ""
        try:
            default = space_from_catalog(self.spec, path)
        except SpaceError as err:
            problem = "; ".join(m for _p, m in err.problems)
        options = None
        if default and "choices" in default and all(isinstance(c, (str, bool)) for c in default["choices"]):
            options = list(default["choices"])
        row = SpaceRow(path, self._labels.get(path, path), form or default, options=options)
        if problem:
            row.set_error(problem)
        row.changed.connect(self._schedule_validate)
        row.remove_requested.connect(lambda p: self.check(p, False) if p in self._items else self._remove_row(p))
        self._rows[path] = row
        self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
        self.placeholder.hide()
        self._schedule_validate()
        return row

    def _remove_row(self, path: str) -> None:
        row = self._rows.pop(path, None)
        if row is not None:
            self.rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        self.placeholder.setVisible(not self._rows)
        self._schedule_validate()

    # -- the space ---------------------------------------------------------------------------------------
    def space(self) -> dict[str, Any]:
        """The space as SPACE.json (dotted path -> distribution), in the order rows were added."""
        return {path: row.to_json() for path, row in self._rows.items()}

    def set_space(self, raw: dict[str, Any]) -> list[str]:
        """Replace the rows with a SPACE.json mapping; returns the paths this spec does not offer
        (they still get a row, so validation says what is wrong with them)."""
        for path in list(self._rows):
            if path in self._items:
                self.check(path, False)
            else:
                self._remove_row(path)
        unknown = []
        for path, form in raw.items():
            if path in self._items:
                self._items[path].treeWidget().blockSignals(True)
                self._items[path].setCheckState(0, Qt.CheckState.Checked)
                self._items[path].treeWidget().blockSignals(False)
            else:
                unknown.append(path)
                self._labels.setdefault(path, path)
            self._add_row(path, form if isinstance(form, (dict, list)) else {"choices": []})
        self.validate()
        return unknown

    def save_space(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.space(), indent=2) + "\n", encoding="utf-8")

    def load_space(self, path: str | Path) -> str:
        """Read SPACE.json into the rows; returns a message ("" when it read cleanly)."""
        try:
            raw = load_space(path)
        except SpaceError as err:
            msg = "; ".join(m for _p, m in err.problems)
            self._show_space_error(f"Could not load {Path(path).name}: {msg}")
            return msg
        if not isinstance(raw, dict):
            msg = f"{Path(path).name} is not a JSON object of spec paths"
            self._show_space_error(msg)
            return msg
        unknown = self.set_space(raw)
        return f"not in this spec: {', '.join(unknown)}" if unknown else ""

    def _save_clicked(self) -> None:
        name = save_file(self, "Save search space", str(Path(self.base_dir or ".") / "space.json"),
                         "Search space (*.json)")
        if name:
            try:
                self.save_space(name)
            except OSError as exc:
                self._show_space_error(f"Could not save {name}: {exc.strerror or exc}")

    def _load_clicked(self) -> None:
        name = open_file(self, "Load search space", self.base_dir or "", "Search space (*.json)")
        if name:
            self.load_space(name)

    # -- settings -------------------------------------------------------------------------------------
    def set_setting(self, name: str, value: Any) -> None:
        """Set strategy / pruner / metric / direction (by key) or trials / parallel / repeats."""
        widget = getattr(self, {"metric": "metric_combo"}.get(name, name))
        if isinstance(widget, QSpinBox):
            widget.setValue(int(value))
        else:
            index = widget.findData(value)
            if index < 0:
                index = widget.findText(str(value))
            if index < 0:
                raise ValueError(f"{name} has no option {value!r}")
            widget.setCurrentIndex(index)

    def config(self) -> SweepConfig:
        return SweepConfig(
            spec=self.spec, space=self.space(), strategy=self.strategy.currentData(), n_trials=self.trials.value(),
            parallel=self.parallel.value(), pruner=self.pruner.currentData(), repeats=self.repeats.value(),
            metric=self.metric_combo.currentText(), direction=self.direction.currentData(), base_dir=self.base_dir,
        )

    # -- validation ------------------------------------------------------------------------------------
    @property
    def valid(self) -> bool:
        return self._valid

    @property
    def problems(self) -> list[tuple[str, str]]:
        return list(self._problems)

    def _schedule_validate(self, *_args) -> None:
        self._validate_timer.start()

    def validate(self) -> bool:
        """Check the space with core's parse_space; show each problem at its row."""
        self._validate_timer.stop()
        raw = self.space()
        problems: list[tuple[str, str]] = []
        parsed = None
        if not raw:
            problems = [("", "Tick at least one parameter to vary.")]
        else:
            try:
                parsed = parse_space(raw, self.spec)
            except SpaceError as err:
                problems = list(err.problems)
            except Exception as exc:  # noqa: BLE001 - a bug must read as a message, not a traceback
                problems = [("", f"Could not check the space: {type(exc).__name__}: {exc}")]
        self._problems = problems
        by_path: dict[str, list[str]] = {}
        general: list[str] = []
        for path, msg in problems:
            (by_path.setdefault(path, []) if path in self._rows else general).append(
                msg if path in self._rows or not path else f"{path}: {msg}")
        for path, row in self._rows.items():
            row.set_error("\n".join(by_path.get(path, [])))
        self._show_space_error("\n".join(general) if raw else "")

        # grid size and the direction the metric implies
        strategy = self.strategy.currentData()
        self._grid_points = None
        if parsed is not None and strategy == "grid":
            try:
                self._grid_points = len(expand_grid(parsed, self.spec))
            except Exception:  # noqa: BLE001
                self._grid_points = parsed.grid_size()
        for row in self._rows.values():
            row.show_grid(strategy == "grid")
        if strategy == "grid":
            self.grid_note.setText(f"the grid has {self._grid_points} points" if self._grid_points else "")
            self.trials.setToolTip("the grid's points are tried in order, up to this many")
        else:
            self.grid_note.setText("")
        auto = resolve_direction(self.metric_combo.currentText(), "auto")
        self.direction.setItemText(0, f"auto ({auto})")

        self._valid = not problems
        self.run_button.setEnabled(self._valid)
        self.save_button.setEnabled(bool(raw))
        if self._valid:
            n = self.trials.value()
            if self._grid_points is not None:
                n = min(n, self._grid_points)
            runs = n * self.repeats.value()
            self.summary.setText(f"{len(raw)} parameter{'s' if len(raw) != 1 else ''} · {n} trial{'s' if n != 1 else ''}"
                                 f"{f' × {self.repeats.value()} repeats' if self.repeats.value() > 1 else ''}"
                                 f" = {runs} run{'s' if runs != 1 else ''} on {self.parallel.value()} "
                                 f"worker{'s' if self.parallel.value() != 1 else ''}")
        else:
            n_bad = len({p for p, _m in problems if p})
            self.summary.setText(f"{n_bad} field{'s' if n_bad != 1 else ''} to fix" if n_bad else "")
        return self._valid

    def _show_space_error(self, text: str) -> None:
        text = for_the_app(text)
        self.space_error.setText(text)
        self.space_error.setVisible(bool(text))

    def accept(self) -> None:
        if self.validate():
            super().accept()

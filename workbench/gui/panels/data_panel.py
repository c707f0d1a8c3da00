"""The data panel: pick a sample or open a file/folder, see the data, set how it is used.

Holds no state of its own: every edit goes through `session.edit(...)` or
`session.load_data(...)`, and what it shows comes from the session's signals
(spec_changed, dataset_changed, data_error).

When a load fails, the error is shown in words at the top (naming the control that fixes it)
and nothing else: no plot, table, classes or notes of an earlier dataset that would pass for
this one. The panel scrolls rather than squeezing its parts over each other when it is short.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.file_dialogs import open_file, open_folder
from workbench.gui.panels.class_subset import ClassSubset
from workbench.gui.panels.preview_table import PreviewTableModel
from workbench.gui.plots.palette import PlotColors, style_axes
from workbench.gui.widgets.class_balance import ClassBalance
from workbench.gui.widgets.image_grid import ImageGrid, spread_across_classes
from workbench.gui.widgets.load_progress import LoadProgressRow
from workbench.gui.widgets.sample_thumbnails import (
    THUMB_SIZE,
    ThumbnailQueue,
    as_images,
    downsample,
    plot_coordinates,
    point_colors,
)
from workbench.gui.wording import for_the_app

MAX_SCATTER_POINTS = 5000
RESIZE_SAMPLE_ROWS = 60
FILE_FILTER = "Data files (*.csv *.tsv *.txt *.npz *.npy);;All files (*)"
_ERROR_STYLE = (
    "QLabel { color: #b3261e; background: rgba(217, 48, 37, 0.10); border: 1px solid rgba(217, 48, 37, 0.55);"
    " border-radius: 4px; padding: 6px; }"
)
_NOTE_STYLE = "QLabel { color: palette(placeholder-text); }"


def sample_infos() -> list[Any]:
    """The built-in samples (workbench.core.data.SAMPLES), in the loader's order."""
    try:
        from workbench.core.data import SAMPLES
    except ImportError:  # data layer not installed: the picker is simply empty
        return []
    return list(SAMPLES.values())


def _icon(name: str, fallback: QStyle.StandardPixmap) -> QIcon:
    try:
        from workbench.gui.theme import icon

        found = icon(name)
        if not found.isNull():
            return found
    except Exception:  # theme helpers are optional here
        pass
    from PySide6.QtWidgets import QApplication

    return QApplication.style().standardIcon(fallback)


def _percent_slider(maximum: int) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, maximum)
    slider.setSingleStep(1)
    slider.setPageStep(5)
    slider.setTickPosition(QSlider.TickPosition.NoTicks)
    return slider


class _ViewTabs(QTabWidget):
    """The plot / table / images tabs. They take the room the page has left (stretch); asking
    for no more than their minimum keeps the scrolling page from growing past the window just
    to give a plot its preferred size."""

    def sizeHint(self):  # noqa: N802 (Qt name)
        hint = super().sizeHint()
        hint.setHeight(self.minimumSizeHint().height())
        return hint


class DataPanel(QWidget):
    """Constructor: DataPanel(session, parent=None, *, thumbnail_loader=None).

    Public: load_path(path) — what the main window calls for a dropped file or folder.
    """

    def __init__(self, session: Any, parent: QWidget | None = None, *,
                 thumbnail_loader: Callable[[str], Any] | None = None):
        super().__init__(parent)
        self.session = session
        self._shown: Any = None          # the dataset on screen (the last one that loaded)
        self._load_error = ""
        self._edit_error = ""
        self._syncing = False
        self._is_loading = bool(getattr(session, "is_loading", False))
        self._samples = {info.name: info for info in sample_infos()}
        self._thumbs = ThumbnailQueue(thumbnail_loader, size=THUMB_SIZE, parent=self)
        self._thumbs.ready.connect(self._thumbnail_ready)
        self._thumbs_requested = False

        self._build()
        session.spec_changed.connect(self._spec_changed)
        session.dataset_changed.connect(self._dataset_changed)
        session.data_error.connect(self._data_error)
        if hasattr(session, "loading_changed"):
            session.loading_changed.connect(self._loading_changed)
        if hasattr(session, "load_progress"):
            session.load_progress.connect(self.load_progress.report)
            self.load_progress.cancel_requested.connect(session.cancel_load)
        self._spec_changed(session.spec)
        if getattr(session, "dataset", None) is not None:
            self._dataset_changed(session.dataset)

    # ---- building ------------------------------------------------------------------------
    def _build(self) -> None:
        scroll = QScrollArea(self)
        scroll.setObjectName("dataPanelScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("dataPanelBody")
        scroll.setWidget(body)
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.addWidget(scroll)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)

        # source row: samples + open buttons
        row = QHBoxLayout()
        row.setSpacing(4)
        self.sample_combo = QComboBox()
        self.sample_combo.setObjectName("sampleCombo")
        self.sample_combo.setIconSize(QSize(28, 28))
        self.sample_combo.setPlaceholderText("Built-in sample…")
        self.sample_combo.setToolTip("A built-in dataset to play with")
        self.sample_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.sample_combo.setMinimumContentsLength(10)
        self.sample_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        blank = QIcon()
        for info in self._samples.values():
            self.sample_combo.addItem(blank, getattr(info, "title", info.name), info.name)
            i = self.sample_combo.count() - 1
            self.sample_combo.setItemData(i, getattr(info, "description", ""), Qt.ItemDataRole.ToolTipRole)
        self.sample_combo.activated.connect(self._sample_picked)
        row.addWidget(self.sample_combo, 1)

        self.open_file_button = QPushButton(_icon("open", QStyle.StandardPixmap.SP_DialogOpenButton), "Open file…")
        self.open_file_button.setToolTip("Load a CSV/TSV table or a NumPy .npy/.npz file")
        self.open_file_button.clicked.connect(self._open_file)
        self.open_folder_button = QPushButton(_icon("open", QStyle.StandardPixmap.SP_DirOpenIcon), "Open folder…")
        self.open_folder_button.setToolTip("Load a folder of images, one sub-folder per class")
        self.open_folder_button.clicked.connect(self._open_folder)
        row.addWidget(self.open_file_button)
        row.addWidget(self.open_folder_button)
        outer.addLayout(row)

        self.source_label = QLabel()
        self.source_label.setObjectName("sourceLabel")
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.source_label.setWordWrap(True)
        self.source_label.setStyleSheet(_NOTE_STYLE)
        outer.addWidget(self.source_label)
        self.load_progress = LoadProgressRow()  # rows/s and Cancel while a big file loads
        outer.addWidget(self.load_progress)

        # problems: loader errors in words (red), and the "showing the last good data" note
        self.error_label = QLabel()
        self.error_label.setObjectName("dataError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        self.empty_label = QLabel("Nothing is loaded. Do what the message above says, or pick a sample or "
                                  "another file.")
        self.empty_label.setObjectName("nothingLoaded")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(_NOTE_STYLE)
        self.empty_label.setMinimumHeight(80)
        self.empty_label.hide()
        outer.addWidget(self.empty_label, 1)

        # views: plot / table / images
        self.view_tabs = _ViewTabs()
        self.view_tabs.setDocumentMode(True)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(160, 140)
        self.plot_widget.setMenuEnabled(False)
        self.plot_widget.hideButtons()
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.plot_widget.addItem(self.scatter)
        self.table_model = PreviewTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(20)
        # column widths from the first rows only: the table may hold a million (read on demand)
        self.table.verticalHeader().setResizeContentsPrecision(RESIZE_SAMPLE_ROWS)
        self.table.horizontalHeader().setResizeContentsPrecision(RESIZE_SAMPLE_ROWS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.image_grid = ImageGrid()
        self.view_tabs.addTab(self.plot_widget, "Plot")
        self.view_tabs.addTab(self.table, "Table")
        self.view_tabs.addTab(self.image_grid, "Images")
        outer.addWidget(self.view_tabs, 1)

        # facts about the data
        self.info_label = QLabel()
        self.info_label.setObjectName("dataInfo")
        self.info_label.setWordWrap(True)
        outer.addWidget(self.info_label)
        self.class_balance = ClassBalance()
        outer.addWidget(self.class_balance)
        self.notes_label = QLabel()
        self.notes_label.setObjectName("dataNotes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setStyleSheet(_NOTE_STYLE)
        self.notes_label.hide()
        outer.addWidget(self.notes_label)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        outer.addWidget(line)

        # settings
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(4)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._form = form

        self.target_combo = QComboBox()
        self.target_combo.setToolTip("The column the model learns to predict")
        self.target_combo.setPlaceholderText("the last column")
        self.target_combo.activated.connect(self._target_picked)
        form.addRow("Target", self.target_combo)

        self.task_combo = QComboBox()
        for value, text in (("auto", "auto"), ("classification", "classification"), ("regression", "regression")):
            self.task_combo.addItem(text, value)
        self.task_combo.setToolTip("auto: a target of text or a few whole numbers is a classification")
        self.task_combo.activated.connect(self._task_picked)
        form.addRow("Task", self.task_combo)

        self.missing_combo = QComboBox()
        for value, text in (("error", "Error: stop and say where"), ("drop", "Drop: remove those rows"),
                            ("impute", "Impute: fill in median / most common")):
            self.missing_combo.addItem(text, value)
        self.missing_combo.setToolTip("What to do with empty cells in the table")
        self.missing_combo.activated.connect(self._missing_picked)
        form.addRow("Missing values", self.missing_combo)
        self.class_subset = ClassSubset(self.session, self._set_row_visible, self)  # data.classes, train_per_class
        form.addRow("Keep classes", self.class_subset.classes_edit)
        form.addRow("Rows per class", self.class_subset.per_class)
        form.addRow(self.class_subset.message)
        self.class_subset.show_spec()

        self.noise_slider = _percent_slider(100)
        self.noise_slider.setToolTip("Noise in the generated points (0 – 1; TensorFlow Playground's 0 – 50 % is 0 – 0.5)")
        self.noise_value = QLabel()
        self.noise_value.setMinimumWidth(34)
        self.n_samples_spin = QSpinBox()
        self.n_samples_spin.setRange(10, 1_000_000)
        self.n_samples_spin.setSingleStep(100)
        self.n_samples_spin.setKeyboardTracking(False)
        self.n_samples_spin.setToolTip("How many points to generate")
        self.n_samples_spin.valueChanged.connect(self._n_samples_changed)
        noise_row = QHBoxLayout()
        noise_row.setSpacing(4)
        noise_row.addWidget(self.noise_slider, 1)
        noise_row.addWidget(self.noise_value)
        noise_row.addWidget(QLabel("points"))
        noise_row.addWidget(self.n_samples_spin)
        self._noise_row = QWidget()
        self._noise_row.setLayout(noise_row)
        noise_row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Noise", self._noise_row)
        self._wire_slider(self.noise_slider, self._show_noise, self._commit_noise)

        self.val_slider = _percent_slider(50)
        self.val_slider.setToolTip("Share of the data held out to check the model while it trains")
        self.val_value = QLabel()
        self.test_slider = _percent_slider(50)
        self.test_slider.setToolTip("Share of the data held back for the final test")
        self.test_value = QLabel()
        for label in (self.val_value, self.test_value):
            label.setMinimumWidth(34)
        split_row = QHBoxLayout()
        split_row.setContentsMargins(0, 0, 0, 0)
        split_row.setSpacing(4)
        split_row.addWidget(QLabel("val"))
        split_row.addWidget(self.val_slider, 1)
        split_row.addWidget(self.val_value)
        split_row.addSpacing(6)
        split_row.addWidget(QLabel("test"))
        split_row.addWidget(self.test_slider, 1)
        split_row.addWidget(self.test_value)
        split_widget = QWidget()
        split_widget.setLayout(split_row)
        form.addRow("Split", split_widget)
        self._wire_slider(self.val_slider, lambda v: self._show_split(), lambda v: self._commit_split("val", v))
        self._wire_slider(self.test_slider, lambda v: self._show_split(), lambda v: self._commit_split("test", v))
        self.split_sizes_label = QLabel()
        self.split_sizes_label.setObjectName("splitSizes")
        self.split_sizes_label.setStyleSheet(_NOTE_STYLE)
        form.addRow("", self.split_sizes_label)

        self.standardize_check = QCheckBox("Standardize inputs")
        self.standardize_check.setToolTip(
            "Scale each feature (image channel) to mean 0 and standard deviation 1,\n"
            "using statistics of the training split only"
        )
        self.standardize_check.toggled.connect(self._standardize_toggled)
        form.addRow("", self.standardize_check)
        self.standardize_target_check = QCheckBox("Standardize the target")
        self.standardize_target_check.setToolTip(
            "Regression: train on the target scaled to mean 0 and standard deviation 1 (training split),\n"
            "so targets in any units (prices, scores) train with the usual learning rates.\n"
            "Losses are then in standardised units; MAE, RMSE, R² and predictions in the target's own."
        )
        self.standardize_target_check.toggled.connect(self._standardize_target_toggled)
        form.addRow("", self.standardize_target_check)
        self._set_row_visible(self.standardize_target_check, False)
        outer.addLayout(form)

        self.edit_error_label = QLabel()
        self.edit_error_label.setObjectName("editError")
        self.edit_error_label.setWordWrap(True)
        self.edit_error_label.setStyleSheet("QLabel { color: #d93025; }")
        self.edit_error_label.hide()
        outer.addWidget(self.edit_error_label)
        self._apply_plot_colors()

    def _wire_slider(self, slider: QSlider, show: Callable[[int], None], commit: Callable[[int], None]) -> None:
        """Labels follow the slider live; the spec changes when it is let go (or keyed)."""
        slider.valueChanged.connect(show)
        slider.valueChanged.connect(lambda v: None if (self._syncing or slider.isSliderDown()) else commit(v))
        slider.sliderReleased.connect(lambda: commit(slider.value()))

    def _set_row_visible(self, field: QWidget, visible: bool) -> None:
        self._form.setRowVisible(field, visible)

    # ---- public ------------------------------------------------------------------------------
    def load_path(self, path: str | Path) -> None:
        """Load a file or folder (dialogs and drag-and-drop end here)."""
        self.session.load_data(str(path))

    def shown_dataset(self) -> Any:
        """The dataset on screen (None after a load failed: nothing is shown then)."""
        return self._shown

    # ---- actions -----------------------------------------------------------------------------
    def _start_dir(self) -> str:
        base = getattr(self.session, "base_dir", None)
        source = self.session.spec.data.source
        if not source.startswith("sample:"):
            return str(Path(source).parent)
        return str(base) if base else str(Path.home())

    def _open_file(self) -> None:
        path = open_file(self, "Open data file", self._start_dir(), FILE_FILTER)
        if path:
            self.load_path(path)

    def _open_folder(self) -> None:
        path = open_folder(self, "Open image folder (one sub-folder per class)", self._start_dir())
        if path:
            self.load_path(path)

    def _sample_picked(self, index: int) -> None:
        name = self.sample_combo.itemData(index)
        if name and self.session.spec.data.source != f"sample:{name}":
            self.session.load_data(f"sample:{name}")

    def _loading_changed(self, loading: bool) -> None:
        self._is_loading = loading
        self.load_progress.loading(loading)
        self.source_label.setText(self._source_words(self.session.spec.data.source))

    def _edit(self, changes: dict[str, Any]) -> bool:
        """Apply a data edit through the session (which reloads the data when the edit changes
        what is loaded). A refused edit shows its reason and puts the controls back."""
        error = self.session.edit(changes)
        self._edit_error = error or ""
        self._show_problems()
        if error:
            self._spec_changed(self.session.spec)
            return False
        return True

    def _target_picked(self, index: int) -> None:
        column = self.target_combo.itemData(index)
        if column != self.session.spec.data.target:
            self._edit({"data.target": column})

    def _task_picked(self, index: int) -> None:
        task = self.task_combo.itemData(index)
        if task != self.session.spec.data.task:
            self._edit({"data.task": task})

    def _missing_picked(self, index: int) -> None:
        policy = self.missing_combo.itemData(index)
        if policy != self.session.spec.data.missing:
            self._edit({"data.missing": policy})

    def _standardize_toggled(self, on: bool) -> None:
        if not self._syncing and on != self.session.spec.data.standardize:
            self._edit({"data.standardize": on})

    def _standardize_target_toggled(self, on: bool) -> None:
        if not self._syncing and on != self.session.spec.data.standardize_target:
            self._edit({"data.standardize_target": on})

    def _commit_noise(self, value: int) -> None:
        noise = round(value / 100, 2)
        current = self.session.spec.data.noise
        if current is None or abs(current - noise) > 1e-9:
            self._edit({"data.noise": noise})

    def _n_samples_changed(self, value: int) -> None:
        if not self._syncing and value != self.session.spec.data.n_samples:
            self._edit({"data.n_samples": value})

    def _commit_split(self, which: str, value: int) -> None:
        fraction = round(value / 100, 2)
        if abs(getattr(self.session.spec.data.split, which) - fraction) > 1e-9:
            self._edit({f"data.split.{which}": fraction})
        self._show_split()

    # ---- showing -----------------------------------------------------------------------------
    def _show_noise(self, value: int) -> None:
        self.noise_value.setText(f"{value / 100:.2f}")

    def _show_split(self) -> None:
        val, test = self.val_slider.value(), self.test_slider.value()
        self.val_value.setText(f"{val} %")
        self.test_value.setText(f"{test} %")
        n = self._shown.meta.n_samples if self._shown is not None else None
        if n is None:
            self.split_sizes_label.setText(f"train {100 - val - test} % · val {val} % · test {test} %")
            return
        n_val, n_test = int(round(n * val / 100)), int(round(n * test / 100))
        self.split_sizes_label.setText(f"train {n - n_val - n_test} · val {n_val} · test {n_test} rows")

    def _sample_info(self, source: str) -> Any:
        return self._samples.get(source.removeprefix("sample:")) if source.startswith("sample:") else None

    @staticmethod
    def _short(source: str) -> str:
        if source.startswith("sample:"):
            return source
        p = Path(source)
        return f"{p.parent.name}/{p.name}" if p.parent.name else p.name

    def _spec_changed(self, spec: Any) -> None:
        data = spec.data
        self._syncing = True
        try:
            info = self._sample_info(data.source)
            index = self.sample_combo.findData(data.source.removeprefix("sample:")) if info else -1
            self.sample_combo.setCurrentIndex(index)
            self.source_label.setText(self._source_words(data.source))
            self.source_label.setToolTip(data.source)

            synthetic = bool(info is not None and getattr(info, "synthetic", False)
                             and getattr(info, "default_noise", None) is not None)
            self._set_row_visible(self._noise_row, synthetic)
            if synthetic:
                noise = data.noise if data.noise is not None else info.default_noise
                self.noise_slider.setValue(int(round(noise * 100)))
                self._show_noise(self.noise_slider.value())
                self.n_samples_spin.setValue(data.n_samples or getattr(info, "default_n", 500))

            is_file = not data.source.startswith("sample:")
            tabular_file = is_file and not Path(data.source).is_dir()
            self._set_row_visible(self.missing_combo, tabular_file)
            self.missing_combo.setCurrentIndex(max(0, self.missing_combo.findData(data.missing)))
            self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(data.task)))
            self.standardize_check.setChecked(data.standardize)
            self.standardize_target_check.setChecked(data.standardize_target)
            self.val_slider.setValue(int(round(data.split.val * 100)))
            self.test_slider.setValue(int(round(data.split.test * 100)))
            self._show_split()
            self._sync_target(data.target)
        finally:
            self._syncing = False

    def _source_words(self, source: str) -> str:
        if self._is_loading:
            return f"Loading {self._short(source)} …"
        info = self._sample_info(source)
        if info is not None:
            return f"Sample: {getattr(info, 'title', info.name)} — {getattr(info, 'description', '')}".rstrip(" —")
        return f"File: {source}"

    def _sync_target(self, target: str | None) -> None:
        # only the columns of the data in use: stale data on screen may be another file
        current_data = getattr(self.session, "dataset", None)
        columns = list(current_data.preview_columns) if current_data is not None else self._failed_file_columns()
        meta_target = current_data.meta.target_name if current_data is not None else None
        self.target_combo.clear()
        for c in columns:
            self.target_combo.addItem(c, c)
        current = target or meta_target
        if current and self.target_combo.findData(current) < 0:
            self.target_combo.addItem(current, current)
        self.target_combo.setCurrentIndex(self.target_combo.findData(current) if current else -1)
        # a generated sample's target is fixed; a table sample (Iris, Digits) is a table like any
        # other, and its note says "choose another Target below"
        source = self.session.spec.data.source
        info = self._samples.get(source[7:]) if source.startswith("sample:") else None
        fixed = info is not None and (info.synthetic or info.kind == "image")
        self._set_row_visible(self.target_combo, bool(columns or target) and not fixed)

    def _failed_file_columns(self) -> list[str]:
        """The header of a table that did not load, so its error's "choose another Target" can
        be done here."""
        source = self.session.spec.data.source
        if source.startswith("sample:") or not self._load_error:
            return []
        from workbench.core.data import header_columns
        from workbench.core.spec import resolve_source

        path = Path(resolve_source(source, getattr(self.session, "base_dir", None)))
        return header_columns(path) if path.is_file() else []

    def _dataset_changed(self, dataset: Any) -> None:
        self.source_label.setText(self._source_words(self.session.spec.data.source))
        if dataset is None:
            self._show_nothing()
            self._syncing = True
            try:
                self._sync_target(self.session.spec.data.target)
            finally:
                self._syncing = False
            return
        self._shown = dataset
        self._show_dataset(dataset)
        self._syncing = True
        try:
            self._sync_target(self.session.spec.data.target)
            task = dataset.meta.task
            self.task_combo.setItemText(0, f"auto ({task})")
            self._set_row_visible(self.standardize_target_check, task == "regression")
        finally:
            self._syncing = False
        self._show_split()

    def _data_error(self, message: str) -> None:
        self._load_error = message or ""
        if message:
            self.source_label.setText(self._source_words(self.session.spec.data.source))
            if "missing" in message.lower():
                self._set_row_visible(self.missing_combo, True)
        self._show_problems()
        if message and getattr(self.session, "dataset", None) is None:
            self._show_nothing()

    def _show_problems(self) -> None:
        self.error_label.setText(self._load_error)
        self.error_label.setVisible(bool(self._load_error))
        self.edit_error_label.setText(self._edit_error)
        self.edit_error_label.setVisible(bool(self._edit_error))

    def _show_nothing(self) -> None:
        """After a failed load: only the error (and the settings that fix it), no earlier data."""
        self._shown = None
        self.scatter.clear()
        self.table_model.set_dataset(None)
        self.image_grid.clear()
        self.view_tabs.hide()
        self.empty_label.show()
        self.info_label.clear()
        self.info_label.hide()
        self.class_balance.set_counts([], [])
        self.class_balance.hide()
        self.notes_label.clear()
        self.notes_label.hide()
        self.task_combo.setItemText(0, "auto")  # not the task of the data loaded before
        self._show_split()

    def _show_dataset(self, ds: Any) -> None:
        meta = ds.meta
        self.empty_label.hide()
        self.view_tabs.show()
        self.info_label.show()
        images = as_images(ds)
        sample = downsample(ds, MAX_SCATTER_POINTS)  # a big table: a random sample of its rows
        coords = plot_coordinates(sample)
        tabular = meta.kind == "tabular" and bool(ds.preview_columns)
        self.view_tabs.setTabVisible(0, coords is not None)
        self.view_tabs.setTabVisible(1, tabular)
        self.view_tabs.setTabVisible(2, images is not None)

        if coords is not None:
            x, y, xname, yname = coords
            n = len(x)
            # one brush object per colour: pyqtgraph renders a symbol per distinct brush object, so
            # 500 equal brushes cost 500 renders (0.2 s at startup) where 3 classes need 3
            by_rgba: dict[int, Any] = {}
            brushes = []
            for color in point_colors(sample, n):
                brush = by_rgba.get(color.rgba())
                if brush is None:
                    brush = by_rgba[color.rgba()] = pg.mkBrush(color)
                brushes.append(brush)
            self.scatter.setData(x=x[:n], y=y[:n], brush=brushes, size=5, pen=None)
            plot = self.plot_widget.getPlotItem()
            plot.setLabel("bottom", xname)
            plot.setLabel("left", yname)
            plot.enableAutoRange()
            self._apply_plot_colors()
        else:
            self.scatter.clear()
        self.table_model.set_dataset(ds if tabular else None)
        if tabular:
            self.table.resizeColumnsToContents()
        if images is not None:
            y = np.asarray(ds.y).reshape(len(ds.y), -1)[:, 0]
            labelled = meta.task == "classification" and bool(meta.class_names)
            pick = spread_across_classes(y if labelled else None, len(y))  # every class, not the first rows
            if labelled:
                classes = [int(c) for c in y[pick]]
                captions = [meta.class_names[c] for c in classes]
            else:
                captions, classes = [f"{v:.3g}" for v in y[pick]], None
            self.image_grid.set_images(images[pick], captions, classes)
        else:
            self.image_grid.clear()

        preferred = 0 if coords is not None and np.asarray(ds.X).shape[1] <= 2 else (2 if images is not None else 1)
        if not self.view_tabs.isTabVisible(preferred):
            preferred = next(i for i in range(3) if self.view_tabs.isTabVisible(i)) if any(
                self.view_tabs.isTabVisible(i) for i in range(3)) else 0
        self.view_tabs.setCurrentIndex(preferred)

        self.info_label.setText(self._facts(ds))
        if meta.task == "classification" and meta.class_counts:
            names = list(meta.class_names) or [str(i) for i in range(len(meta.class_counts))]
            self.class_balance.set_counts(names, list(meta.class_counts))
            self.class_balance.show()
        else:
            self.class_balance.set_counts([], [])
            self.class_balance.hide()
        self.notes_label.setText("\n".join(f"• {for_the_app(n, on_data_page=True)}" for n in meta.notes))
        self.notes_label.setVisible(bool(meta.notes))

    @staticmethod
    def _facts(ds: Any) -> str:
        meta = ds.meta
        shape = tuple(meta.input_shape)
        if meta.kind == "image":
            c, h, w = shape if len(shape) == 3 else (1, *shape[-2:])
            what = f"{meta.n_samples:,} images {h}×{w}, {c} channel{'s' if c != 1 else ''}"
        else:
            n_feat = shape[0] if shape else 0
            what = f"{meta.n_samples:,} rows · {n_feat} feature{'s' if n_feat != 1 else ''}"
        if meta.task == "classification":
            k = len(meta.class_names) or meta.target_width
            task = f"classification of '{meta.target_name}' into {k} classes"
        else:
            task = f"regression of '{meta.target_name}'"
            if meta.target_width > 1:
                task += f" ({meta.target_width} targets)"
        return f"{what} · {task}"

    # ---- thumbnails and theme ----------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._thumbs_requested:
            self._thumbs_requested = True
            self._thumbs.request(list(self._samples))

    def thumbnails(self) -> ThumbnailQueue:
        return self._thumbs

    def shutdown(self) -> None:
        """End the thumbnails' loading thread (the window is closing)."""
        self._thumbs.shutdown()

    def _thumbnail_ready(self, name: str, icon: QIcon) -> None:
        index = self.sample_combo.findData(name)
        if index >= 0:
            self.sample_combo.setItemIcon(index, icon)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_plot_colors()

    def _apply_plot_colors(self) -> None:
        colors = PlotColors(self.palette())
        self.plot_widget.setBackground(colors.background)
        style_axes(self.plot_widget.getPlotItem(), colors)

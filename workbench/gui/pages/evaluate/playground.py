"""The prediction playground: set a table's feature values (sliders or typed, categories from a
list) or drop an image, and see the class probabilities or the predicted value of the run's model.

The widget only collects inputs and shows outputs: `predict_requested(raw_row)` asks the page for
a prediction of one raw input (a feature row in the file's units, or an image path), and
`set_output(...)` shows it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.evaluation import format_value
from workbench.gui.file_dialogs import open_file
from workbench.gui.pages.evaluate.plots import themed_plot
from workbench.gui.widgets.class_colors import class_color
from workbench.gui.widgets.sample_thumbnails import image_to_qimage

__all__ = ["PlaygroundView", "SLIDER_STEPS"]

SLIDER_STEPS = 1000
DEBOUNCE_MS = 60


class _NumberInput(QWidget):
    """A slider over the training range and a spin box that also takes typed values beyond it."""

    changed = Signal()

    def __init__(self, lo: float, hi: float, value: float):
        super().__init__()
        span = hi - lo if hi > lo else max(abs(lo), 1.0)
        self.lo, self.hi = lo, lo + span
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(4 if span < 10 else 2)
        self.spin.setRange(lo - 10 * span, hi + 10 * span)
        self.spin.setSingleStep(span / 100)
        self.spin.setKeyboardTracking(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.set_value(value)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    def value(self) -> float:
        return float(self.spin.value())

    def set_value(self, v: float) -> None:
        self.spin.blockSignals(True)
        self.slider.blockSignals(True)
        self.spin.setValue(v)
        self.slider.setValue(int(round((v - self.lo) / (self.hi - self.lo) * SLIDER_STEPS)))
        self.spin.blockSignals(False)
        self.slider.blockSignals(False)

    def _from_slider(self, k: int) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(self.lo + (self.hi - self.lo) * k / SLIDER_STEPS)
        self.spin.blockSignals(False)
        self.changed.emit()

    def _from_spin(self, v: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(int(round((v - self.lo) / (self.hi - self.lo) * SLIDER_STEPS)))
        self.slider.blockSignals(False)
        self.changed.emit()


class PlaygroundView(QWidget):
    predict_requested = Signal(object)  # np.ndarray raw feature row, or str image path

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.form_host)
        self.reset_button = QPushButton("Reset to typical values", objectName="playgroundReset")
        self.open_button = QPushButton("Open image…", objectName="playgroundOpen")
        self.image_label = QLabel("Drop an image here, or open one.", objectName="playgroundImage")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumSize(160, 160)
        self.output_title = QLabel(objectName="playgroundOutput")
        self.output_title.setTextFormat(Qt.TextFormat.RichText)
        self.output_title.setWordWrap(True)
        self.output_title.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)  # no bars: stay on top
        self.bars = themed_plot("playgroundBars", y="probability", still=True, grid=False)
        self.bars.getPlotItem().setYRange(0, 1, padding=0.02)

        inputs = QWidget()
        il = QVBoxLayout(inputs)
        il.setContentsMargins(0, 0, 0, 0)
        il.addWidget(self.scroll, 1)
        il.addWidget(self.image_label, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        il.addLayout(buttons)
        outputs = QWidget()
        ol = QVBoxLayout(outputs)
        ol.setContentsMargins(0, 0, 0, 0)
        ol.addWidget(self.output_title)
        ol.addWidget(self.bars, 1)
        split = QSplitter()
        split.addWidget(inputs)
        split.addWidget(outputs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self.prep = None
        self.inputs: list[tuple[dict, QWidget]] = []
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.request)
        self.reset_button.clicked.connect(self.reset)
        self.open_button.clicked.connect(self._open_image)
        self._image_path = ""

    # ---- inputs --------------------------------------------------------------------------------
    def set_preprocessing(self, prep) -> None:
        """Build the inputs for a run: one per table column, or the image drop zone."""
        self.prep = prep
        while self.form.rowCount():
            self.form.removeRow(0)
        self.inputs = []
        image = prep is not None and prep.kind == "image"
        self.scroll.setVisible(not image)
        self.reset_button.setVisible(not image)
        self.image_label.setVisible(image)
        self.open_button.setVisible(image)
        self.image_label.clear()
        self.image_label.setText("Drop an image here, or open one.")
        self._image_path = ""
        if prep is None:
            return
        if not image:
            i = 0
            for col in prep.input_columns:
                if col["kind"] == "numeric":
                    lo = prep.feature_min[i] if i < len(prep.feature_min) else 0.0
                    hi = prep.feature_max[i] if i < len(prep.feature_max) else 1.0
                    w = _NumberInput(lo, hi, float(col.get("fill", (lo + hi) / 2)))
                    w.changed.connect(self._debounce.start)
                    i += 1
                else:
                    w = QComboBox()
                    w.addItems([str(v) for v in col.get("levels", [])])
                    w.setCurrentText(str(col.get("fill", "")))
                    w.currentIndexChanged.connect(lambda _: self._debounce.start())
                    i += len(col.get("levels", []))
                w.setObjectName(f"input_{col['name']}")
                self.form.addRow(col["name"], w)
                self.inputs.append((col, w))
        self.output_title.setText("")
        self.bars.getPlotItem().clear()

    def reset(self) -> None:
        for col, w in self.inputs:
            if isinstance(w, _NumberInput):
                w.set_value(float(col.get("fill", w.lo)))
            else:
                w.setCurrentText(str(col.get("fill", "")))
        self.request()

    def raw_row(self) -> np.ndarray:
        """The current inputs as one raw feature row (categories one-hot, in feature order)."""
        values: list[float] = []
        for col, w in self.inputs:
            if isinstance(w, _NumberInput):
                values.append(w.value())
            else:
                levels = [str(v) for v in col.get("levels", [])]
                values.extend(1.0 if lv == w.currentText() else 0.0 for lv in levels)
        return np.asarray(values, dtype=np.float32)

    def set_row(self, raw: np.ndarray) -> None:
        """Show one raw feature row (a sample double-clicked elsewhere) and predict it."""
        raw = np.asarray(raw, dtype=np.float64).reshape(-1)
        i = 0
        for col, w in self.inputs:
            if isinstance(w, _NumberInput):
                w.set_value(float(raw[i]))
                i += 1
            else:
                levels = [str(v) for v in col.get("levels", [])]
                if levels:
                    w.blockSignals(True)
                    w.setCurrentIndex(int(np.argmax(raw[i:i + len(levels)])))
                    w.blockSignals(False)
                i += len(levels)
        self.request()

    def set_image(self, image: np.ndarray, label: str = "") -> None:
        """Show an image (C, H, W) from the samples; the page predicts it."""
        self._show_pixmap(QPixmap.fromImage(image_to_qimage(image)))
        self._image_path = ""
        if label:
            self.image_label.setToolTip(label)

    def request(self) -> None:
        if self.prep is None:
            return
        if self.prep.kind == "image":
            if self._image_path:
                self.predict_requested.emit(self._image_path)
            return
        self.predict_requested.emit(self.raw_row())

    def load_image(self, path: str) -> None:
        self._image_path = str(path)
        pix = QPixmap(str(path))
        if not pix.isNull():
            self._show_pixmap(pix)
        self.request()

    def _show_pixmap(self, pix: QPixmap) -> None:
        self.image_label.setPixmap(pix.scaled(160, 160, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.FastTransformation))

    def _open_image(self) -> None:
        path = open_file(self, "Open an image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp)")
        if path:
            self.load_image(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self.prep is not None and self.prep.kind == "image" and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.load_image(urls[0])
            event.acceptProposedAction()

    # ---- outputs -------------------------------------------------------------------------------
    def set_output(self, probabilities: np.ndarray | None = None, value: np.ndarray | None = None,
                   problem: str = "", threshold: float | None = None) -> None:
        """Show class probabilities (with two classes and a `threshold`, the second class is
        predicted when its probability reaches it, as on the rest of the page), a predicted value
        in the target's units, or a problem."""
        plot = self.bars.getPlotItem()
        plot.clear()
        prep = self.prep
        if problem or prep is None:
            self.output_title.setText(f"<span style='color:#d62728'>{problem}</span>" if problem else "")
            return
        if probabilities is not None:
            p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
            binary = threshold is not None and len(p) == 2
            best = int(p[1] >= threshold) if binary else int(np.argmax(p))
            names = prep.class_names
            rule = f" (threshold {threshold:.3f} for '{names[1]}')" if binary else ""
            self.output_title.setText(f"Predicted <b>{names[best]}</b> with probability <b>{p[best]:.3f}</b>{rule}")
            x = np.arange(len(p))
            plot.addItem(pg.BarGraphItem(x=x, height=p, width=0.7, brushes=[pg.mkBrush(class_color(i)) for i in x]))
            plot.getAxis("bottom").setTicks([[(i, names[i]) for i in x]])
            if binary:  # the bar of the second class must reach this line
                plot.addItem(pg.InfiniteLine(threshold, angle=0, pen=pg.mkPen((120, 120, 120), width=1,
                                                                              style=Qt.PenStyle.DashLine)))
            plot.setYRange(0, 1, padding=0.02)
            self.bars.setVisible(True)
        elif value is not None:
            v = np.asarray(value, dtype=np.float64).reshape(-1)
            parts = [f"{n}: <b style='font-size:x-large'>{format_value(x, 5)}</b>" for n, x in zip(prep.target_names, v)]
            self.output_title.setText("Predicted " + ", ".join(parts) + "<br>in the target's own units")
            self.bars.setVisible(False)

    def image_path(self) -> str:
        return self._image_path

    def has_image(self) -> bool:
        pix = self.image_label.pixmap()
        return pix is not None and not pix.isNull()

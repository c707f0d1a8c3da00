"""Widgets that follow the current run: the progress bar and the live learning-rate control."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from workbench.core.catalog import Param, baseline_note
from workbench.core.training import (
    BatchProgress,
    EpochEnd,
    LRChanged,
    Paused,
    Resumed,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
)
from workbench.gui.session import Session
from workbench.gui.theme import icon
from workbench.gui.widgets.param_form import NumberSpinBox


def clock(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def rate(samples_per_s: float) -> str:
    if samples_per_s >= 10_000:
        return f"{samples_per_s / 1000:.0f}k samples/s"
    if samples_per_s >= 1000:
        return f"{samples_per_s / 1000:.1f}k samples/s"
    return f"{samples_per_s:.0f} samples/s"


PROGRESS_MIN_WIDTH, PROGRESS_MAX_WIDTH = 300, 440  # px: "Epoch 12/60 · 3,210 samples/s · ETA 0:42" fits
# QProgressBar.setValue repaints the bar at once (not at the next frame): a run that reports a
# few hundred batches a second cost the GUI thread a synchronous paint each. The bar shows the
# latest progress at most this often; what arrives in between is shown at the end of the wait.
PROGRESS_EVERY_S = 0.2


class RunProgress(QProgressBar):
    """Epoch, batch, samples/s and ETA of the current run, in the status bar. While the run is
    paused it says so and gives no ETA; after it resumes, the ETA leaves the pause out."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runProgress")
        # beside it, the status bar's messages need the room: an expanding bar took half of it
        self.setMaximumWidth(PROGRESS_MAX_WIDTH)
        self.setMinimumWidth(PROGRESS_MIN_WIDTH)
        self.setRange(0, 1000)
        self.setValue(0)
        self.setTextVisible(True)
        self.setFormat("No run yet")
        self._epochs = 1
        self._start_epoch = 0
        self._epoch = 0
        self._paused_since: float | None = None  # monotonic time of the pause, while paused
        self._paused_seconds = 0.0  # pauses so far (the run's elapsed time includes them)
        self._pending: tuple[float, str, float] | None = None  # progress not shown yet
        self._shown_at = -float("inf")  # monotonic time the bar last showed progress
        self._pending_timer = QTimer(self)
        self._pending_timer.setSingleShot(True)
        self._pending_timer.timeout.connect(self._show_pending)

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    def _eta(self, elapsed: float, fraction: float) -> float:
        active = max(0.0, elapsed - self._paused_seconds)
        return active * (1 - fraction) / fraction if fraction > 0 else float("nan")

    def _show_progress(self, fraction: float, text: str, elapsed: float) -> None:
        self._pending = (fraction, text, elapsed)
        wait = self._shown_at + PROGRESS_EVERY_S - time.monotonic()
        if wait <= 0:
            self._show_pending()
        elif not self._pending_timer.isActive():
            self._pending_timer.start(int(wait * 1000) + 1)

    @Slot()
    def _show_pending(self) -> None:
        self._pending_timer.stop()
        if self._pending is None:
            return
        (fraction, text, elapsed), self._pending = self._pending, None
        self._shown_at = time.monotonic()
        self.setValue(int(fraction * 1000))
        if self.paused:  # events sent just before the pause arrive after it
            self.setFormat(f"Paused at epoch {self._epoch}/{self._epochs}")
        else:
            self.setFormat(f"{text} · ETA {clock(self._eta(elapsed, fraction))}")

    def _baseline(self, metrics: dict) -> str:
        """' · ⚠ below the 41.0% of always guessing the most common class' for a classifier that
        learnt nothing (the tooltip has the whole sentence)."""
        metrics = metrics or {}
        self.setToolTip(baseline_note(metrics))
        short = baseline_note(metrics, short=True)
        return f" · ⚠ {short}" if short else ""

    @Slot(object)
    def handle_event(self, event) -> None:
        if isinstance(event, (Paused, Resumed, RunFinished, RunStopped, RunFailed)):
            self._show_pending()  # the progress that came before it first
        if isinstance(event, RunStarted):
            self._pending = None
            self._pending_timer.stop()
            self._shown_at = -float("inf")
            self.setToolTip("")
            self._epochs = max(1, event.epochs)
            self._start_epoch = self._epoch = event.start_epoch
            self._paused_since, self._paused_seconds = None, 0.0
            self.setValue(0)
            self.setFormat(f"Starting on {event.device_name}…")
        elif isinstance(event, BatchProgress):
            done = (event.epoch - 1 - self._start_epoch + event.batch / max(1, event.batches))
            total = max(1, self._epochs - self._start_epoch)
            self._epoch = event.epoch
            self._show_progress(min(1.0, max(0.0, done / total)),
                                f"Epoch {event.epoch}/{self._epochs} · batch {event.batch}/{event.batches} · "
                                f"{rate(event.samples_per_s)}", event.elapsed)
        elif isinstance(event, EpochEnd):
            total = max(1, self._epochs - self._start_epoch)
            self._epoch = event.epoch
            self._show_progress(min(1.0, (event.epoch - self._start_epoch) / total),
                                f"Epoch {event.epoch}/{self._epochs} · {rate(event.samples_per_s)}", event.elapsed)
        elif isinstance(event, Paused):
            self._paused_since = time.monotonic()
            self.setFormat(f"Paused at epoch {max(event.epoch, self._epoch)}/{self._epochs}")
        elif isinstance(event, Resumed):
            if self._paused_since is not None:
                self._paused_seconds += time.monotonic() - self._paused_since
            self._paused_since = None
            self.setFormat(f"Resumed at epoch {max(event.epoch, self._epoch)}/{self._epochs}")
        elif isinstance(event, RunFinished):
            self.setValue(1000)
            self.setFormat(f"Finished {event.epochs} epochs in {clock(event.duration)}"
                           + (f" ({event.reason})" if event.reason else "") + self._baseline(event.metrics))
        elif isinstance(event, RunStopped):
            reason = f" ({event.reason})" if event.reason and "user" not in event.reason else ""
            self.setFormat(f"Stopped after {event.epochs} epoch{'s' if event.epochs != 1 else ''}{reason}"
                           + self._baseline(event.metrics))
        elif isinstance(event, RunFailed):
            self.setFormat("Failed")


class LiveLrControl(QWidget):
    """Change the learning rate of the run that is going; the plots mark the change."""

    applied = Signal(float)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.spin = NumberSpinBox(Param("lr", "float", 0.01, low=1e-8, high=10.0, log=True))
        self.spin.setObjectName("liveLrSpin")
        self.spin.setToolTip("Learning rate to switch to while the run goes on (↑/↓ step 1-2-5)")
        self.spin.setMinimumWidth(80)
        self.apply_button = QPushButton(icon("apply"), "Apply", objectName="liveLrApply")
        self.apply_button.setToolTip("Send this learning rate to the running model now")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(4)
        label = QLabel("Live LR")
        label.setToolTip(self.spin.toolTip())
        layout.addWidget(label)
        layout.addWidget(self.spin)
        layout.addWidget(self.apply_button)
        self.apply_button.clicked.connect(self._apply)
        self.spin.lineEdit().returnPressed.connect(self._apply)
        session.run_event.connect(self._on_event)
        session.run_state_changed.connect(self._on_state)
        session.spec_changed.connect(self._on_spec)
        self._on_spec(session.spec)
        self._on_state(session.state)

    @Slot(object)
    def _on_spec(self, spec) -> None:
        if self.session.state not in ("running", "paused"):  # while a run goes, the box follows the run instead
            self.spin.setValue(float(spec.optimizer.params.get("lr", 0.001)))

    @Slot()
    def _apply(self) -> None:
        lr = float(self.spin.value())
        if self.session.set_lr(lr) is None:
            self.applied.emit(lr)

    @Slot(object)
    def _on_event(self, event) -> None:
        if isinstance(event, RunStarted):
            self.spin.setValue(float(self.session.spec.optimizer.params.get("lr", self.spin.value())))
        elif isinstance(event, LRChanged):
            self.spin.setValue(event.lr)

    @Slot(str)
    def _on_state(self, state: str) -> None:
        live = state in ("running", "paused")
        focus = QApplication.focusWidget()
        if not live and focus is not None and self.isAncestorOf(focus):
            # Disabling the focused box would hand the focus to the next field in tab order
            # (the loss's label_smoothing, text selected): park it on the window instead.
            self.window().setFocus(Qt.FocusReason.OtherFocusReason)
        if not live:  # the run's last rate (live or scheduled) is gone with it: the next run starts at the spec's
            self._on_spec(self.session.spec)
        self.spin.setEnabled(live)
        self.apply_button.setEnabled(live)
        self.setToolTip("" if live else "Available while a run is going")
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)

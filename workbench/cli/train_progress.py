"""The progress printer of `workbench train`: one updating line on a terminal (epoch, batch,
loss, the validation figure, an ETA), plain lines otherwise, health alerts as they come."""

from __future__ import annotations

import time
from typing import TextIO

from workbench.cli.common import fmt_duration, fmt_num


class Progress:
    """Training progress on stderr: one updating line on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, *, enabled: bool = True, interval: float = 2.0):
        self.stream = stream
        self.enabled = enabled
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval  # seconds between plain lines
        self.epochs = 1
        self.start_epoch = 0
        self._last_plain = 0.0
        self._width = 0
        self._val_key: str | None = None
        self._val: float | None = None
        self.data_notes: list[str] = []  # printed under the "Training ..." line

    def started(self, ev) -> None:
        """The run began: print what trains, on what, with which options."""
        self.epochs = ev.epochs
        self.start_epoch = ev.start_epoch
        if self.enabled:
            self._line(
                f"Training {ev.name}: {ev.n_train} train / {ev.n_val} val / {ev.n_test} test samples, "
                f"{ev.total_params:,} parameters, {ev.device_name}, {ev.precision}",
                permanent=True,
            )
            if getattr(ev, "accumulate_batches", 1) > 1:
                self._line(f"  batches of {ev.batch_size} accumulated {ev.accumulate_batches}× per optimizer step: "
                           f"effective batch {ev.batch_size * ev.accumulate_batches}", permanent=True)
            for note in self.data_notes:
                self._line(f"  data: {note}", permanent=True)
            for note in getattr(ev, "notes", None) or ():
                self._line(f"  fine-tuning: {note}", permanent=True)

    def _eta(self, epoch: int, batch: int, batches: int, elapsed: float) -> str:
        done = (epoch - 1 - self.start_epoch) + (batch / batches if batches else 1.0)
        total = self.epochs - self.start_epoch
        if done <= 0 or elapsed <= 0:
            return "?"
        return fmt_duration(max(0.0, elapsed / done * (total - done)))

    def _val_text(self) -> str:
        if self._val_key is None:
            return ""
        return f" | {self._val_key} {fmt_num(self._val)}"

    def batch(self, ev) -> None:
        """Update the progress line within an epoch (at most every `interval` seconds without a terminal)."""
        if not (self.enabled and self.tty):
            return
        self._line(
            f"epoch {ev.epoch}/{self.epochs} batch {ev.batch}/{ev.batches} | loss {fmt_num(ev.loss)}"
            f"{self._val_text()} | {ev.samples_per_s:,.0f} samples/s | ETA {self._eta(ev.epoch, ev.batch, ev.batches, ev.elapsed)}"
        )

    def epoch(self, ev) -> None:
        """One epoch's line: losses, the validation figure, speed, elapsed time and ETA."""
        logs = ev.logs
        for key in ("val_accuracy", "val_r2", "val_loss"):
            if key in logs:
                self._val_key, self._val = key, logs[key]
                break
        if not self.enabled:
            return
        text = (
            f"epoch {ev.epoch}/{self.epochs} | loss {fmt_num(logs.get('loss'))}{self._val_text()} | "
            f"{ev.samples_per_s:,.0f} samples/s | {fmt_duration(ev.elapsed)} elapsed | "
            f"ETA {self._eta(ev.epoch, 1, 1, ev.elapsed)}"
        )
        if self.tty:
            self._line(text)
        else:
            now = time.monotonic()
            if now - self._last_plain >= self.interval or ev.epoch in (self.start_epoch + 1, self.epochs):
                self._last_plain = now
                self._line(text, permanent=True)

    def alert(self, ev) -> None:
        """A health-monitor alert, on its own line (it stays above the progress line)."""
        if self.enabled:
            self._line(f"  health: epoch {ev.epoch}, step {ev.step}: {ev.message}", permanent=True)

    def done(self) -> None:
        """End the updating line (a newline on a terminal)."""
        if self.enabled and self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0

    def _line(self, text: str, permanent: bool = False) -> None:
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad + ("\n" if permanent else ""))
            self._width = 0 if permanent else len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

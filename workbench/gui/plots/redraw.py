"""When to redraw the live curves: at most ~30 times a second, only when something changed,
and less often when drawing is slow, so plotting never starves the event loop.

Each frame's cost is what `redraw` took plus the paint that follows it (the view reports its
paint time). The next frame waits at least cost / BUDGET (the plot gets at most a quarter of
the GUI thread), between BASE_MS and MAX_MS; a slow frame backs off at once and the estimate
then halves every HALF_LIFE_S, so one hiccup (the first paint, say) is forgotten within a second.

New points of a training run (`request(live=True)`) are drawn at most every LIVE_MS: a live
frame costs ~5-10 ms of the GUI thread (the axes' ticks, the curves, the dots), and ~12 frames a
second look as smooth for curves that grow by a point or two at a time, while leaving the
event loop (and the core the training child shares with it) twice the room of 30 Hz. A
person's own changes (zoom, smoothing, a new overlay) still draw at the next BASE_MS tick.

A frame may come in parts: `redraw` returns True while part of it is still to draw (the live
curves draw one panel per part), and the next part follows SUBFRAME_MS later. Between the parts
the event loop paints what changed and runs whatever else is due, so no single piece of drawing
holds the GUI thread for the whole frame's cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QGraphicsScene

BASE_MS = 33  # ~30 Hz
LIVE_MS = 80  # ~12 Hz while only new points of a running training wait to be drawn
MAX_MS = 500
BUDGET = 0.25  # largest share of the GUI thread the plot may take
HALF_LIFE_S = 0.25  # of the cost estimate after a slow frame
SUBFRAME_MS = 10  # from one part of a frame to the next


class RedrawScheduler(QObject):
    """`request()` after a change; `redraw` is called at the next frame (never re-entered). A
    `redraw` that returns True has more of the frame to draw: it is called again SUBFRAME_MS on."""

    def __init__(self, parent: QObject, redraw: Callable[[], bool | None],
                 can_draw: Callable[[], bool] = lambda: True):
        super().__init__(parent)
        self._redraw = redraw
        self._can_draw = can_draw
        self.dirty = False
        self.clock = time.perf_counter  # (tests substitute their own)
        self._urgent = False  # a change other than new live points waits to be drawn
        self.mid_frame = False  # part of a frame drawn, the rest due SUBFRAME_MS on
        self._in_redraw = False
        self._again = False  # something was requested while a frame's parts were drawn
        self._parts_ms = 0.0  # the redraw time of the current frame's parts so far
        self._redraw_done_at = -float("inf")
        self._frame_at = -float("inf")  # when the last frame was drawn (clock seconds)
        self.cost_ms = 0.0  # decaying estimate of one frame's cost (redraw + paint)
        self.interval_ms = BASE_MS
        self._redraw_ms = 0.0  # the last redraw, until the paint that shows it
        self._cost_at = time.perf_counter()
        self.timer = QTimer(self)
        # Single shot, armed after each frame: the interval counts from the end of the work.
        # (setInterval on a running timer restarts it, so the interval is applied at start.)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._tick)

    def request(self, *, live: bool = False) -> None:
        """Something changed; `live`: only new points of the running training (drawn at most
        every LIVE_MS), else drawn at the next tick."""
        self.dirty = True
        self._urgent |= not live
        if self.mid_frame and not self._in_redraw:
            # The frame under way took its x range and what to draw at its start: a change that
            # comes between its parts is drawn by another frame after it, not dropped.
            # (at the live pace: a person's change then waits at most LIVE_MS, and the range
            # changes of the parts' own paints do not turn every frame into two)
            self._again = True
        if not self._can_draw():
            return
        if not self.timer.isActive():
            self.timer.start(self.interval_ms)
        elif not live and self.timer.remainingTime() > self.interval_ms:
            self.timer.start(self.interval_ms)  # was waiting out LIVE_MS: a person's change goes first

    def resume(self) -> None:
        """Start the timer if there is something to draw (e.g. the widget was shown)."""
        if self.dirty and not self.timer.isActive():
            self.timer.start(self.interval_ms)

    def painted(self, ms: float) -> None:
        """The view took `ms` to paint: with the redraw before it (all of a frame's parts when it
        came in parts), one frame's cost."""
        # (a redraw long before this paint changed nothing on screen: not part of its frame)
        recent = time.perf_counter() - self._redraw_done_at < 0.1
        self._note_cost((self._redraw_ms if recent else 0.0) + ms)
        self._redraw_ms = 0.0

    def _tick(self) -> None:
        if not self.dirty or not self._can_draw():
            return  # idle: no wake-ups until the next request
        if not self._urgent:
            wait_ms = LIVE_MS - (self.clock() - self._frame_at) * 1e3
            if wait_ms >= 1:
                self.timer.start(int(wait_ms))  # new live points join the next frame
                return
        t0 = time.perf_counter()
        self._frame_at = self.clock()
        self.dirty = False
        self._in_redraw = True
        try:
            more = self.mid_frame = bool(self._redraw())
        finally:
            self._in_redraw = False
        self.dirty = self._urgent = False  # (range changes made by the redraw itself need no second frame)
        self._parts_ms += (time.perf_counter() - t0) * 1e3
        if more:  # the rest of this frame, after the loop has painted this part
            self.dirty = self._urgent = True
            self.timer.start(SUBFRAME_MS)
            return
        self._redraw_ms, self._parts_ms = self._parts_ms, 0.0
        self._redraw_done_at = time.perf_counter()
        self._note_cost(self._redraw_ms)
        if self._again:  # asked for while the parts were drawn
            self.dirty, self._again = True, False
        self.timer.start(self.interval_ms)  # one more tick: stops there if nothing changed

    def _note_cost(self, ms: float) -> None:
        now = time.perf_counter()
        decayed = self.cost_ms * 0.5 ** ((now - self._cost_at) / HALF_LIFE_S)
        self.cost_ms, self._cost_at = max(ms, decayed), now
        self.interval_ms = int(min(max(BASE_MS, self.cost_ms / BUDGET), MAX_MS))


class TimedLayoutWidget(pg.GraphicsLayoutWidget):
    """A GraphicsLayoutWidget that reports how long each paint took (`on_paint(ms)`)."""

    on_paint: Callable[[float], None] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every frame moves the curves' bounds: keeping Qt's BSP index of the items up to date
        # cost more than it saved for a scene of a few dozen items (paint median ~10 % less
        # without it, gui_latency.py)
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)

    def paintEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        t0 = time.perf_counter()
        super().paintEvent(ev)
        if self.on_paint is not None:
            self.on_paint((time.perf_counter() - t0) * 1e3)

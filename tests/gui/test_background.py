"""The one mechanism for work off the GUI thread: results in order on the GUI thread, errors in
words (never an exception that escapes), coalesced deliveries, and a close that never waits."""

from __future__ import annotations

import threading
import time

from workbench.gui.background import BackgroundCalls


def test_calls_and_streams_deliver_in_order_on_the_gui_thread(qtbot):
    calls = BackgroundCalls("test")
    main = threading.current_thread()
    seen = []
    calls.submit(lambda a, b: a + b, 2, 3, on_done=lambda r: seen.append(("sum", r, threading.current_thread() is main)))

    def numbers(n):
        for i in range(n):
            yield i

    batches = []
    calls.stream(numbers, 500, on_items=batches.append, on_done=lambda: seen.append(("streamed",)))
    qtbot.waitUntil(lambda: ("streamed",) in seen)
    assert seen[0] == ("sum", 5, True)
    assert [i for b in batches for i in b] == list(range(500))
    assert len(batches) < 500  # a burst arrives in a few deliveries, not one per item
    calls.shutdown(wait=True)


def test_an_exception_in_the_work_or_a_callback_never_escapes(qtbot, capfd):
    calls = BackgroundCalls("test")
    errors, after = [], []

    def boom():
        raise ValueError("no such column 'x'")

    calls.submit(boom, on_error=lambda err, details: errors.append((str(err), "Traceback" in details)))
    calls.submit(boom)  # no on_error: printed, nothing raised
    calls.submit(lambda: 1, on_done=lambda _r: 1 / 0)  # a broken callback
    calls.submit(lambda: 2, on_done=after.append)  # ...does not stop the next delivery
    qtbot.waitUntil(lambda: after == [2])
    assert errors == [("no such column 'x'", True)]
    err = capfd.readouterr().err
    assert "no such column 'x'" in err and "ZeroDivisionError" in err
    calls.shutdown()


def test_shutdown_returns_at_once_and_drops_what_is_left(qtbot):
    calls = BackgroundCalls("test")
    release = threading.Event()
    results = []
    calls.submit(release.wait, 30, on_done=results.append)  # a slow load
    calls.submit(lambda: "later", on_done=results.append)
    qtbot.waitUntil(calls.busy)
    started = time.perf_counter()
    assert calls.shutdown() is False  # still working: not waited for
    assert time.perf_counter() - started < 0.5
    release.set()
    qtbot.wait(100)
    assert results == []  # nothing delivered after shutdown
    assert calls.submit(lambda: 1, on_done=results.append).cancelled


def test_a_stream_stops_at_its_next_yield_and_runs_its_finally(qtbot):
    calls = BackgroundCalls("test")
    closed = threading.Event()

    def forever():
        try:
            while True:
                yield 1
                time.sleep(0.005)
        finally:
            closed.set()

    got = []
    calls.stream(forever, on_items=got.append)
    qtbot.waitUntil(lambda: bool(got))
    assert calls.shutdown(wait=5.0)
    assert closed.is_set()

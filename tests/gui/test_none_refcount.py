"""Guard against PySide6 6.12.0's bug: every void Qt call dropped a reference to None, and after
a few thousand calls the interpreter aborted ("none_dealloc"). pyproject pins PySide6 < 6.12;
this test fails on any version that has the bug again, before it can crash a session."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar


def test_qt_calls_do_not_leak_references_to_none(qtbot):
    label = QLabel()
    bar = QProgressBar()
    timer = QTimer()
    owner = QObject()
    qtbot.addWidget(label)
    qtbot.addWidget(bar)
    for _ in range(20):  # warm up caches that may legitimately hold None
        label.setText("x")
    before = sys.getrefcount(None)
    for i in range(300):
        label.setText(str(i))  # void methods: the ones that hit the bug
        label.setToolTip("")
        bar.setValue(i % 100)
        timer.setInterval(i + 1)
        owner.setObjectName("n")
    after = sys.getrefcount(None)
    # Other threads may take or drop a few references meanwhile; the bug loses one per call (1500).
    assert after >= before - 50, f"references to None fell from {before} to {after}"

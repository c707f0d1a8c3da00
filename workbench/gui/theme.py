"""Look and feel: resource paths, light/dark palettes, the style sheet and tinted SVG icons.

Icons are drawn with `currentColor` strokes; `icon(name)` renders them in the palette's text
colour, so one SVG serves both themes. Coloured parts (the green Train triangle) keep their
own colours.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from workbench.core.locations import resources_dir

RESOURCES = resources_dir()

# Accent used by the style sheet and icons; readable on both themes.
ACCENT = "#2f6fde"


def resource_path(*parts: str) -> Path:
    return RESOURCES.joinpath(*parts)


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, alt, text = QColor("#26282c"), QColor("#1d1f22"), QColor("#2c2f33"), QColor("#e3e5e8")
    disabled = QColor("#7c8088")
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, alt),
        (QPalette.ColorRole.ToolTipBase, QColor("#33363b")),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.PlaceholderText, disabled),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, QColor("#303338")),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor("#ff6b6b")),
        (QPalette.ColorRole.Light, QColor("#3a3d43")),
        (QPalette.ColorRole.Midlight, QColor("#34373c")),
        (QPalette.ColorRole.Mid, QColor("#43474d")),
        (QPalette.ColorRole.Dark, QColor("#16181a")),
        (QPalette.ColorRole.Shadow, QColor("#000000")),
        (QPalette.ColorRole.Highlight, QColor(ACCENT)),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.Link, QColor("#6ea0ff")),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def light_palette() -> QPalette:
    p = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, QColor("#f3f4f6")),
        (QPalette.ColorRole.WindowText, QColor("#222222")),
        (QPalette.ColorRole.Base, QColor("#ffffff")),
        (QPalette.ColorRole.AlternateBase, QColor("#f6f8fa")),
        (QPalette.ColorRole.ToolTipBase, QColor("#ffffff")),
        (QPalette.ColorRole.ToolTipText, QColor("#222222")),
        (QPalette.ColorRole.PlaceholderText, QColor("#8c959f")),
        (QPalette.ColorRole.Text, QColor("#222222")),
        (QPalette.ColorRole.Button, QColor("#f6f7f9")),
        (QPalette.ColorRole.ButtonText, QColor("#222222")),
        (QPalette.ColorRole.BrightText, QColor("#cf222e")),
        (QPalette.ColorRole.Light, QColor("#ffffff")),
        (QPalette.ColorRole.Midlight, QColor("#e8eaee")),
        (QPalette.ColorRole.Mid, QColor("#c9ced6")),
        (QPalette.ColorRole.Dark, QColor("#a0a7b1")),
        (QPalette.ColorRole.Shadow, QColor("#6e7781")),
        (QPalette.ColorRole.Highlight, QColor(ACCENT)),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.Link, QColor("#0969da")),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa1ab"))
    return p


def is_dark(app: QApplication | None = None) -> bool:
    app = app or QApplication.instance()
    return bool(app and app.property("workbench_dark"))


def apply_theme(app: QApplication, dark: bool) -> None:
    """Fusion style, our palette and the style sheet (which reads palette colours)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if dark else light_palette())
    app.setProperty("workbench_dark", dark)
    qss = resource_path("style.qss")
    text = qss.read_text(encoding="utf-8") if qss.exists() else ""
    app.setStyleSheet(text)
    icon.cache_clear()


@lru_cache(maxsize=128)
def icon(name: str) -> QIcon:
    """An SVG from resources/icons, with `currentColor` in the current theme's text colour."""
    path = resource_path("icons", f"{name}.svg")
    if not path.exists():
        return QIcon()
    app = QApplication.instance()
    normal = app.palette().color(QPalette.ColorRole.WindowText).name() if app else "#222222"
    disabled = app.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText).name() if app else "#9aa1ab"
    svg = path.read_text(encoding="utf-8")
    result = QIcon()
    for color, mode in ((normal, QIcon.Mode.Normal), (disabled, QIcon.Mode.Disabled)):
        text = svg.replace("currentColor", color)
        if mode is QIcon.Mode.Disabled:
            # Coloured parts (green Train, red Stop) fade when disabled.
            text = text.replace('stroke-width="2"', 'stroke-width="2" opacity="0.35"', 1)
        renderer = QSvgRenderer(QByteArray(text.encode("utf-8")))
        for size in (16, 24, 32, 48):
            image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            renderer.render(painter, QRectF(0, 0, size, size))
            painter.end()
            result.addPixmap(QPixmap.fromImage(image), mode)
    return result

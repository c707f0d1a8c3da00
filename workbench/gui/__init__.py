"""The PySide6 desktop application (a thin client of workbench.core)."""

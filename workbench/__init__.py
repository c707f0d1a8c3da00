"""Workbench: train PyTorch models by pointing and clicking."""

__version__ = "0.1.0"

"""The Evaluate page: confusion matrix and samples, per-class table, ROC/PR curves with a
decision threshold, calibration, regression errors, the decision boundary and a prediction
playground, for the live run and any recorded run."""

from workbench.gui.pages.evaluate.page import EvaluatePage

__all__ = ["EvaluatePage"]

"""Evaluation: what a model gets right and wrong, for any running or finished run.

Pure numpy metrics (confusion matrix, per-class precision/recall/F1, top-k accuracy, ROC and
precision-recall curves with AUC/average precision, reliability and ECE, regression errors);
predictions stored with a run (predictions.npz) and its preprocessing (preprocessing.json);
decision-boundary grids; the callback that records them during training (EvaluationRecorder);
and the run-level API: evaluate a stored run, rebuild its model, predict on new files.
Everything outside this package imports from here. EvaluationRecorder needs torch and is loaded
on first use (PEP 562), so the app can read metrics before torch is imported.
"""

from __future__ import annotations

from typing import Any

from workbench.core.evaluation.boundary import (
    GRID,
    Plane,
    default_plane,
    feature_plane,
    grid_snapshot,
    line_plane,
    pca_plane,
    plane_for,
    stored_grid,
)
from workbench.core.evaluation.classification import (
    ClassMetrics,
    accuracy,
    class_order,
    confusion_matrix,
    normalize_confusion,
    per_class_metrics,
    top_k_accuracy,
)
from workbench.core.evaluation.curves import (
    Curve,
    OneVsRest,
    Reliability,
    one_vs_rest,
    pr_curve,
    reliability,
    roc_curve,
    threshold_point,
)
from workbench.core.evaluation.inputs import NewData, read_new_data
from workbench.core.evaluation.predictions import (
    PREDICTIONS_FILE,
    SPLITS,
    RunPredictions,
    SplitPredictions,
    load_predictions,
    predicted_from_outputs,
    probabilities_from_outputs,
    save_predictions,
)
from workbench.core.evaluation.preprocessing import (
    PREPROCESSING_FILE,
    Preprocessing,
    target_scaler,
)
from workbench.core.evaluation.regression import (
    RegressionMetrics,
    regression_metrics,
    residuals,
    worst_rows,
)
from workbench.core.evaluation.report import (
    TOP_K_MIN_CLASSES,
    classification_report,
    format_value,
    regression_report,
    split_report,
    thresholded,
)
from workbench.core.evaluation.samples import SAMPLE_ORDERS, sample_label, select_samples
from workbench.core.evaluation.stored import (
    EvaluationError,
    EvaluationResult,
    PredictionTable,
    RunFiles,
    RunModel,
    evaluate_run,
    folder_files,
    load_model,
    load_run_model,
    load_run_predictions,
    load_run_preprocessing,
    predict_file,
    run_files,
    write_csv,
)
from workbench.core.lazy import lazy_attributes

# name -> submodule; these import torch, so they load when first asked for
_NEEDS_TORCH = {"EvaluationRecorder": "recorder", "FINAL_WEIGHTS_FILE": "recorder", "grid_side": "recorder"}

__all__ = [
    "confusion_matrix", "normalize_confusion", "ClassMetrics", "per_class_metrics", "accuracy", "top_k_accuracy",
    "class_order",
    "Curve", "OneVsRest", "Reliability", "roc_curve", "pr_curve", "one_vs_rest", "reliability", "threshold_point",
    "RegressionMetrics", "regression_metrics", "residuals", "worst_rows",
    "PREDICTIONS_FILE", "SPLITS", "SplitPredictions", "RunPredictions", "save_predictions", "load_predictions",
    "probabilities_from_outputs", "predicted_from_outputs",
    "PREPROCESSING_FILE", "Preprocessing", "target_scaler",
    "TOP_K_MIN_CLASSES", "classification_report", "format_value", "regression_report", "split_report", "thresholded",
    "GRID", "Plane", "default_plane", "feature_plane", "pca_plane", "line_plane", "grid_snapshot", "plane_for", "stored_grid",
    "NewData", "read_new_data", "SAMPLE_ORDERS", "sample_label", "select_samples",
    "EvaluationError", "RunFiles", "run_files", "folder_files", "load_model", "load_run_predictions", "load_run_preprocessing", "RunModel",
    "load_run_model", "EvaluationResult", "evaluate_run", "PredictionTable", "predict_file", "write_csv",
    *_NEEDS_TORCH,
]


__getattr__ = lazy_attributes(__name__, globals(), _NEEDS_TORCH)

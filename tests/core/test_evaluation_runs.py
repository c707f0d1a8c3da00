"""Predictions stored with a run reproduce its reported metrics exactly; a run records what
predict needs; live snapshots stay within their budget; stored runs are evaluated and used for
predictions on new files through exactly the run's preprocessing, with clear messages."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.evaluation_support import (
    make_spec,
    train_recorded,
    write_images,
    write_table,
)
from workbench.core.data import DataError
from workbench.core.evaluation import (
    EvaluationError,
    EvaluationRecorder,
    Preprocessing,
    accuracy,
    confusion_matrix,
    evaluate_run,
    load_predictions,
    load_run_model,
    per_class_metrics,
    predict_file,
    read_new_data,
    regression_metrics,
    run_files,
)
from workbench.core.training import EvaluationSnapshot, RunFinished


def _finished(events) -> RunFinished:
    term = events[-1]
    assert isinstance(term, RunFinished), term
    return term


def test_stored_predictions_reproduce_the_reported_classification_metrics(tmp_path):
    spec = make_spec("sample:gauss", epochs=3, n_samples=200, noise=0.4)
    run_id, events, run_dir, store = train_recorded(tmp_path, spec)
    metrics = _finished(events).metrics
    stored = load_predictions(run_dir / "predictions.npz")
    assert stored.final and set(stored.splits) == {"train", "val", "test"}
    for split in ("val", "test"):
        sp = stored.splits[split]
        cm = confusion_matrix(sp.y_true, sp.predicted, 2)
        m = per_class_metrics(cm).average("macro")
        assert accuracy(cm) == metrics[f"{split}_accuracy"]
        for key in ("precision", "recall", "f1"):
            assert m[key] == pytest.approx(metrics[f"{split}_{key}"], abs=1e-12)
    test = stored.splits["test"]
    assert test.rows is not None and len(set(test.rows)) == len(test)  # each sample's dataset row
    assert test.inputs.shape == (len(test), 2)
    # the run store knows the files
    kinds = {a["kind"] for a in store.artifacts(run_id)}
    assert {"preprocessing", "predictions", "checkpoint_final"} <= kinds
    report = evaluate_run(store, run_id, "test").report
    assert report["accuracy"] == metrics["test_accuracy"]
    assert report["macro_avg"]["f1"] == pytest.approx(metrics["test_f1"], abs=1e-12)


def test_stored_predictions_reproduce_the_reported_regression_metrics(tmp_path):
    spec = make_spec("sample:linear", epochs=5, loss="MSELoss")
    run_id, events, run_dir, store = train_recorded(tmp_path, spec)
    metrics = _finished(events).metrics
    for split in ("val", "test"):
        sp = load_predictions(run_dir / "predictions.npz").splits[split]
        m = regression_metrics(sp.y_true, sp.predictions)
        assert m.mae == pytest.approx(metrics[f"{split}_mae"], rel=1e-9)
        assert m.rmse == pytest.approx(metrics[f"{split}_rmse"], rel=1e-9)
        assert m.r2 == pytest.approx(metrics[f"{split}_r2"], rel=1e-9)
    report = evaluate_run(store, run_id, "test").report
    assert report["task"] == "regression" and report["r2"] == pytest.approx(metrics["test_r2"], rel=1e-9)
    assert len(report["worst"]) == 10
    assert abs(report["worst"][0]["residual"]) >= abs(report["worst"][-1]["residual"])


def test_live_snapshots_carry_a_boundary_grid_and_keep_to_their_budget(tmp_path):
    spec = make_spec("sample:spiral", epochs=12, n_samples=300)
    recorder = EvaluationRecorder(budget=0.04, grid=40, adaptive=False)
    _, events, _, _ = train_recorded(tmp_path, spec, recorder=recorder)
    snaps = [e for e in events if isinstance(e, EvaluationSnapshot)]
    assert snaps and snaps[0].epoch == 1
    b = snaps[-1].boundary
    assert b["method"] == "features" and (b["nx"], b["ny"]) == (40, 40)
    assert len(b["classes"]) == len(b["confidence"]) == 1600
    assert set(b["classes"]) <= {0, 1} and min(b["confidence"]) >= 0.5
    u, v, labels = b["points"]["train"]
    assert len(u) == len(v) == len(labels) > 0
    assert b["x_range"][0] <= min(u) and max(u) <= b["x_range"][1]
    assert snaps[0].predictions_path.endswith("predictions.npz")


def test_grid_size_keeps_one_snapshot_within_its_share_of_the_budget():
    from workbench.core.evaluation import grid_side

    # 12 s of planned training, 4 % budget, a dozen snapshots: 0.04 s per grid
    assert grid_side(1e-6, 12.0, 0.04, 100, line=False) == 100  # cheap model: the full grid
    assert grid_side(1e-4, 12.0, 0.04, 100, line=False) == 20  # 400 cells
    assert grid_side(1e-3, 12.0, 0.04, 100, line=False) == 0  # 40 cells: under 16 x 16, no live grid
    assert grid_side(1e-3, 12.0, 0.04, 100, line=True) == 40  # a line needs only one row of cells
    assert grid_side(1e-4, 12.0, 0.04, 100, line=False, fixed=0.02) == 0  # half of it fixed: 200 cells


def test_snapshots_are_spaced_by_their_measured_cost():
    rec = EvaluationRecorder(budget=0.05)
    assert rec.snapshot_due()  # the first epoch: always
    rec.snapshots, rec._snap_seconds, rec._last_cost = 1, 0.1, 0.1
    for train_seconds, due in ((1.0, False), (3.9, False), (4.0, True), (10.0, True)):
        rec._train_seconds = train_seconds
        assert rec.snapshot_due() is due, train_seconds


def test_live_file_holds_val_until_the_run_ends(tmp_path):
    spec = make_spec("sample:gauss", epochs=2, n_samples=100)
    seen = []

    class Peek(EvaluationRecorder):
        def on_epoch_end(self, run, epoch, logs):
            super().on_epoch_end(run, epoch, logs)
            if (run.run_dir / "predictions.npz").is_file():
                seen.append(load_predictions(run.run_dir / "predictions.npz"))

    train_recorded(tmp_path, spec, recorder=Peek())
    assert seen and not seen[0].final and set(seen[0].splits) == {"val"}


def test_a_run_records_everything_predict_needs(tmp_path):
    csv = write_table(tmp_path / "table.csv")
    spec = make_spec(str(csv), epochs=8)
    run_id, _, run_dir, store = train_recorded(tmp_path, spec)
    prep = Preprocessing.load(run_dir / "preprocessing.json")
    assert [c["name"] for c in prep.input_columns] == ["a", "b", "color"]
    assert prep.input_columns[2]["levels"] == ["blue", "green", "red"]
    assert prep.class_names == ["high", "low", "mid"] and prep.mean is not None and len(prep.std) == 5
    # predicting the training file's rows gives exactly the stored predictions of those rows
    table = predict_file(store, run_id, csv)
    assert len(table.rows) == 120
    assert table.columns == ["line", "prediction", "p_high", "p_low", "p_mid"]
    stored = load_predictions(run_dir / "predictions.npz").splits["test"]
    by_line = {row[0]: row for row in table.rows}
    for data_row, probs, pred in zip(stored.rows, stored.probabilities, stored.predicted):
        row = by_line[str(int(data_row) + 2)]  # the header is line 1, data row 0 is line 2
        assert row[1] == prep.class_names[pred]
        np.testing.assert_allclose([float(x) for x in row[2:]], probs, rtol=1e-4, atol=1e-6)
    # evaluating on the same labelled file agrees with its predictions
    result = evaluate_run(store, run_id, data=csv)
    assert result.report["n"] == 120 and result.source == str(csv)


def test_predict_messages_name_the_column_the_value_and_the_fix(tmp_path):
    csv = write_table(tmp_path / "table.csv", n=60)
    run_id, _, _, store = train_recorded(tmp_path, make_spec(str(csv), epochs=2))
    missing = tmp_path / "missing.csv"
    missing.write_text("a,color\n1,red\n")
    with pytest.raises(EvaluationError, match=r"no column 'b'.*Add the missing column"):
        predict_file(store, run_id, missing)
    unseen = tmp_path / "unseen.csv"
    unseen.write_text("a,b,color\n1,2,red\n3,4,purple\n")
    with pytest.raises(EvaluationError, match=r"'color' has a value the run never saw.*'purple' \(line 3\).*Known values"):
        predict_file(store, run_id, unseen)
    text = tmp_path / "text.csv"
    text.write_text("a,b,color\n1,x,red\n")
    with pytest.raises(EvaluationError, match=r"column 'b' must hold numbers.*line 2"):
        predict_file(store, run_id, text)
    holes = tmp_path / "holes.csv"
    holes.write_text("a,b,color\n1,,red\n")
    with pytest.raises(EvaluationError, match=r"missing values in column 'b' \(line 2\).*Fill them in"):
        predict_file(store, run_id, holes)
    bad_label = tmp_path / "labels.csv"
    bad_label.write_text("a,b,color,label\n1,2,red,extreme\n")
    with pytest.raises(EvaluationError, match=r"label the run was not trained on: 'extreme'"):
        evaluate_run(store, run_id, data=bad_label)
    with pytest.raises(EvaluationError, match="there is no run #99"):
        evaluate_run(store, 99)


def test_image_runs_predict_files_folders_and_refuse_arrays_of_another_size(tmp_path):
    root = write_images(tmp_path / "imgs", size=(12, 12))
    layers = [{"type": "Flatten"}, {"type": "Linear", "out_features": 8}, {"type": "ReLU"},
              {"type": "Linear", "out_features": "auto"}]
    spec = make_spec(str(root), layers, epochs=3, image_size=8, split={"val": 0.25, "test": 0.25})
    run_id, events, run_dir, store = train_recorded(tmp_path, spec)
    _finished(events)
    stored = load_predictions(run_dir / "predictions.npz").splits["test"]
    assert stored.inputs.dtype == np.uint8 and stored.inputs.shape[1:] == (1, 8, 8)
    assert stored.rows is not None and len(set(stored.rows)) == len(stored)
    table = predict_file(store, run_id, root / "bright")
    assert len(table.rows) == 8 and table.columns[:2] == ["file", "prediction"]
    assert any("resized 8 images to 8x8" in n for n in table.notes)
    single = predict_file(store, run_id, root / "dark" / "000.png")
    assert len(single.rows) == 1
    result = evaluate_run(store, run_id, data=root)  # class subfolders are the labels
    assert result.report["n"] == 16 and result.report["classes"] == ["bright", "dark"]
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 1, 16, 16), np.float32))
    with pytest.raises(EvaluationError, match=r"shape 1x16x16 per sample, but the run was trained on images of shape "
                                              r"1x8x8; resize them"):
        predict_file(store, run_id, wrong)


def test_a_run_without_stored_predictions_is_recomputed_from_its_weights(tmp_path):
    spec = make_spec("sample:gauss", epochs=2, n_samples=120)
    run_id, _, run_dir, store = train_recorded(tmp_path, spec)
    before = evaluate_run(store, run_id, "val").report
    (run_dir / "predictions.npz").unlink()
    (run_dir / "preprocessing.json").unlink()
    result = evaluate_run(store, run_id, "val")
    assert result.source == "recomputed"
    assert result.report["confusion_matrix"] == before["confusion_matrix"]
    assert result.report["roc_auc"] == pytest.approx(before["roc_auc"], abs=1e-6)
    assert any("recomputed" in n for n in result.notes)


def test_without_weights_the_message_says_what_to_do(tmp_path):
    spec = make_spec("sample:gauss", epochs=1, n_samples=60)
    run_id, _, run_dir, store = train_recorded(tmp_path, spec)
    for name in ("final.pt", "best.pt", "last.pt"):
        (run_dir / name).unlink()
    assert run_files(store, run_id).weights == {}
    with pytest.raises(EvaluationError, match="kept no weights.*Train it again with checkpoints on"):
        load_run_model(store, run_id)


def test_regression_predictions_are_stored_in_the_targets_own_units(tmp_path):
    import torch

    from workbench.core.data import load_dataset, prepare
    from workbench.core.training import build_model, model_outputs, train

    spec = make_spec("sample:linear", epochs=2, loss="MSELoss")
    data = prepare(load_dataset(spec.data), spec.data)
    scaler = data.meta.target_scaler  # the model learns standardised targets; y stays in units
    assert scaler is not None
    list(train(spec, data=data, callbacks=[EvaluationRecorder(grid=0)], run_dir=tmp_path / "run"))
    sp = load_predictions(tmp_path / "run" / "predictions.npz").splits["test"]
    np.testing.assert_array_equal(sp.y_true, data.test.y.numpy())
    prep = Preprocessing.load(tmp_path / "run" / "preprocessing.json")
    assert prep.target_mean == list(scaler.mean) and prep.target_std == list(scaler.std)
    net, _ = build_model(spec, prep.meta())
    net.load_state_dict(torch.load(tmp_path / "run" / "final.pt", weights_only=True)["model"])
    raw = model_outputs(net, data.test.X).numpy()
    np.testing.assert_allclose(sp.predictions, raw * scaler.std[0] + scaler.mean[0], rtol=1e-5)
    np.testing.assert_allclose(prep.target_to_units(raw), sp.predictions, rtol=1e-5)


def test_read_new_data_for_a_table_without_header(tmp_path):
    csv = write_table(tmp_path / "table.csv", n=40)
    _, _, run_dir, _ = train_recorded(tmp_path, make_spec(str(csv), epochs=1))
    prep = Preprocessing.load(run_dir / "preprocessing.json")
    plain = tmp_path / "plain.csv"
    plain.write_text("1.5,0.2,red\n2.5,-1,blue\n")
    new = read_new_data(prep, plain)
    assert new.X.shape == (2, 5)
    np.testing.assert_allclose(new.X[0], [1.5, 0.2, 0.0, 0.0, 1.0], rtol=1e-6)
    assert any("no header row" in n for n in new.notes)
    with pytest.raises(DataError, match="no header row and 2 columns"):
        (tmp_path / "two.csv").write_text("1,2\n3,4\n")
        read_new_data(prep, tmp_path / "two.csv")


def test_a_run_in_the_child_process_records_predictions_and_sends_snapshots(tmp_path):
    from workbench.core.execution import ProcessRun
    from workbench.core.runs import RunStore

    spec = make_spec("sample:xor", epochs=3, n_samples=200)
    run = ProcessRun(spec, run_dir=tmp_path / "run", store_path=tmp_path / "runs.db", threads=1)
    run.start()
    events = []
    while not run.finished:
        events += run.events(timeout=0.2)
    assert isinstance(events[-1], RunFinished), events[-1]
    snaps = [e for e in events if isinstance(e, EvaluationSnapshot)]
    assert snaps and snaps[0].epoch == 1 and snaps[0].predictions_path == str(tmp_path / "run" / "predictions.npz")
    stored = load_predictions(tmp_path / "run" / "predictions.npz")
    assert stored.final and stored.epoch == 3
    assert stored.splits["test"].probabilities.shape == (len(stored.splits["test"]), 2)
    with RunStore(tmp_path / "runs.db") as store:
        (rec,) = store.list_runs()
        kinds = {a["kind"] for a in store.artifacts(rec.id)}
        assert {"preprocessing", "predictions", "checkpoint_final"} <= kinds
        assert evaluate_run(store, rec.id).report["accuracy"] == rec.metrics["test_accuracy"]

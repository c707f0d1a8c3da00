"""The Evaluate page driven as a person would: pick a recorded run, click confusion cells and
buttons to see samples, move the decision threshold (slider and the point on the ROC curve), read
the per-class table, look at calibration, regression errors and the decision boundary, try inputs
in the playground; and follow a live run (in a thread stand-in) until it ends."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from helpers import wait_ready
from tests.core.evaluation_support import make_spec, train_recorded, write_images, write_table
from workbench.core.evaluation import confusion_matrix, load_predictions, per_class_metrics, regression_metrics
from workbench.gui.pages.evaluate import EvaluatePage


@pytest.fixture
def page(qtbot, tmp_path):
    made = []

    def make(store):
        p = EvaluatePage(store_path=str(store.path))
        qtbot.addWidget(p)
        p.resize(1366, 768)
        p.show()
        made.append(p)
        return p

    yield make
    for p in made:
        p.shutdown()


def _show(qtbot, page, run_id):
    with qtbot.waitSignal(page.loaded):
        page.show_run(run_id)
    qtbot.waitUntil(lambda: page.sp is not None and page.ovr is not None)


def _cell_count(page, row, col) -> int:
    return int(page.confusion.model.data(page.confusion.model.index(row, col)))


def test_a_classification_run_confusion_samples_and_classes(qtbot, tmp_path, page):
    csv = write_table(tmp_path / "table.csv", n=150)
    run_id, _, run_dir, store = train_recorded(tmp_path, make_spec(str(csv), epochs=3))
    p = page(store)
    _show(qtbot, p, run_id)
    stored = load_predictions(run_dir / "predictions.npz").splits["test"]
    cm = confusion_matrix(stored.y_true, stored.predicted, 3)
    assert [[_cell_count(p, r, c) for c in range(3)] for r in range(3)] == cm.tolist()
    assert _cell_count(p, 3, 3) == len(stored)  # the grand total

    # all misclassified: a table of rows with their feature values, most confidently wrong first
    qtbot.mouseClick(p.confusion.wrong_button, Qt.MouseButton.LeftButton)
    table = p.samples.table_model
    wrong = int((stored.predicted != stored.y_true).sum())
    assert table.rowCount() == wrong
    headers = [table.headerData(i, Qt.Orientation.Horizontal) for i in range(table.columnCount())]
    assert headers[:6] == ["where", "true", "predicted", "p(predicted)", "p(true)", "loss"]
    assert headers[6:] == ["a", "b", "color"]  # a category as the file wrote it, not its one-hot cells
    if wrong:
        shown_color = table.data(table.index(0, 8))
        assert stored.inputs[table.sample(0), 2 + ["blue", "green", "red"].index(shown_color)] == 1
    if wrong > 1:
        conf = [float(table.data(table.index(r, 3))) for r in range(wrong)]
        assert conf == sorted(conf, reverse=True)
        assert table.data(table.index(0, 0)).startswith("row ")

    # a cell: only its samples
    view = p.confusion.table
    t, q = np.unravel_index(np.argmax(cm - np.diag(np.diag(cm)) if wrong else cm), cm.shape)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(p.confusion.model.index(int(t), int(q))).center())
    assert table.rowCount() == cm[t, q]
    assert "predicted" in p.samples.title.text()

    # the per-class table agrees with the metrics
    m = per_class_metrics(cm)
    model = p.classes.model
    assert model.rowCount() == 3 + 2  # classes, macro avg, weighted avg
    assert float(model.item(0, 2).text()) == pytest.approx(m.recall[0], abs=5e-4)
    assert model.item(3, 0).text() == "macro avg"
    # the averages of the areas are scikit-learn's macro and (by support) weighted ones
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    onehot = np.eye(3)[stored.y_true]
    for row, how in ((3, "macro"), (4, "weighted")):
        assert float(model.item(row, 5).text()) == pytest.approx(sklearn_metrics.roc_auc_score(
            stored.y_true, stored.probabilities, multi_class="ovr", average=how, labels=range(3)), abs=5e-4)
        assert float(model.item(row, 6).text()) == pytest.approx(sklearn_metrics.average_precision_score(
            onehot, stored.probabilities, average=how), abs=5e-4)
    # sorted by any column either way, the averages stay below the classes
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        p.classes.table.sortByColumn(1, order)
        shown = [p.classes.proxy.index(r, 0).data() for r in range(5)]
        assert shown[3:] == ["macro avg", "weighted avg"]
        values = [float(p.classes.proxy.index(r, 1).data()) for r in range(3)]
        assert values == sorted(values, reverse=order == Qt.SortOrder.DescendingOrder)
    # the samples follow the chosen order, so no header claims to sort them
    assert p.samples.table.horizontalHeader().sortIndicatorSection() == -1

    # another order and the recall view
    p.confusion.order_combo.setCurrentText("Most rows first")
    p.confusion.mode_combo.setCurrentText("Recall (% of each true class)")
    first = p.confusion.model.order[0]
    assert cm[first].sum() == cm.sum(axis=1).max()
    assert p.confusion.model.data(p.confusion.model.index(0, 0)).endswith("%")


def test_binary_threshold_moves_matrix_curves_and_samples(qtbot, tmp_path, page):
    run_id, _, run_dir, store = train_recorded(tmp_path, make_spec("sample:moons", epochs=2, n_samples=200, noise=0.3))
    p = page(store)
    _show(qtbot, p, run_id)
    assert p.threshold_bar.isVisible()
    sp = load_predictions(run_dir / "predictions.npz").splits["test"]
    p1 = sp.probabilities[:, 1]
    p.threshold_slider.setValue(900)  # predict class 1 only when p >= 0.9
    assert p.threshold == pytest.approx(0.9)
    expected = confusion_matrix(sp.y_true, (p1 >= 0.9).astype(int), 2)
    assert [[_cell_count(p, r, c) for c in range(2)] for r in range(2)] == expected.tolist()
    roc = p.ovr.roc[1]
    pos = p.curves.roc_point.pos()
    tpr = ((p1 >= 0.9) & (sp.y_true == 1)).sum() / (sp.y_true == 1).sum()
    assert pos.y() == pytest.approx(tpr)
    # drag the operating point to the curve's point nearest (fpr, tpr) = (0.5, 1): the threshold follows
    p.curves.roc_point.setPos(0.5, 1.0)
    d = (roc.x - 0.5) ** 2 + (roc.y - 1.0) ** 2
    assert p.threshold == pytest.approx(min(1.0, roc.thresholds[int(np.argmin(d))]))
    assert p.threshold_spin.value() == pytest.approx(p.threshold, abs=1e-3)
    qtbot.mouseClick(p.threshold_reset, Qt.MouseButton.LeftButton)
    assert p.threshold is None
    expected = confusion_matrix(sp.y_true, sp.predicted, 2)
    assert [[_cell_count(p, r, c) for c in range(2)] for r in range(2)] == expected.tolist()
    # calibration and curves are drawn
    p.tabs.setCurrentIndex(p.tab_index["calibration"])
    assert "Expected calibration error" in p.calibration.caption.text()
    assert "ROC AUC" in p.curves.caption.text()
    # the playground predicts by the same threshold
    with qtbot.waitSignal(p.prediction_ready, timeout=20000):
        p.tabs.setCurrentIndex(p.tab_index["playground"])
    with qtbot.waitSignal(p.prediction_ready, timeout=20000):
        p.threshold_spin.setValue(0.999)
    text = p.playground.output_title.text()
    assert "threshold 0.999 for '1'" in text
    assert ("Predicted <b>1</b>" in text) == (p.playground.bars.getPlotItem().items[0].opts["height"][1] >= 0.999)


def test_regression_errors_boundary_line_and_playground(qtbot, tmp_path, page):
    run_id, _, run_dir, store = train_recorded(tmp_path, make_spec("sample:sine", epochs=3, loss="MSELoss"))
    p = page(store)
    with qtbot.waitSignal(p.loaded):
        p.show_run(run_id)
    assert p.tabs.isTabVisible(p.tab_index["errors"]) and not p.tabs.isTabVisible(p.tab_index["confusion"])
    sp = load_predictions(run_dir / "predictions.npz").splits["test"]
    m = regression_metrics(sp.y_true, sp.predictions)
    assert f"{m.r2:.4g}" in p.regression.metrics_label.text()
    assert p.regression.worst.rowCount() == min(50, len(sp))
    with qtbot.waitSignal(p.boundary_ready):
        p.tabs.setCurrentIndex(p.tab_index["boundary"])
    assert p.boundary.grid["ny"] == 1 and len(p.boundary.grid["values"]) == p.boundary.grid["nx"]
    with qtbot.waitSignal(p.prediction_ready):
        p.tabs.setCurrentIndex(p.tab_index["playground"])
    (col, widget), = p.playground.inputs
    with qtbot.waitSignal(p.prediction_ready):
        widget.spin.setValue(1.0)
    assert "Predicted y" in p.playground.output_title.text()


def test_image_run_gallery_boundary_and_playground(qtbot, tmp_path, page):
    root = write_images(tmp_path / "imgs", per_class=10, size=(10, 10))
    layers = [{"type": "Flatten"}, {"type": "Linear", "out_features": 8}, {"type": "ReLU"},
              {"type": "Linear", "out_features": "auto"}]
    run_id, _, run_dir, store = train_recorded(
        tmp_path, make_spec(str(root), layers, epochs=2, image_size=8, split={"val": 0.2, "test": 0.3}))
    p = page(store)
    _show(qtbot, p, run_id)
    qtbot.mouseClick(p.confusion.correct_button, Qt.MouseButton.LeftButton)
    assert p.samples.stack.currentWidget() is p.samples.gallery
    sp = load_predictions(run_dir / "predictions.npz").splits["test"]
    assert p.samples.gallery_model.rowCount() == int((sp.predicted == sp.y_true).sum())
    with qtbot.waitSignal(p.boundary_ready):
        p.tabs.setCurrentIndex(p.tab_index["boundary"])
    assert p.boundary.grid["method"] == "pca"
    with qtbot.waitSignal(p.prediction_ready):
        p.tabs.setCurrentIndex(p.tab_index["playground"])  # starts from the split's first image
    assert p.playground.has_image() and "Predicted" in p.playground.output_title.text()
    # a dropped file goes through the run's own image preprocessing
    with qtbot.waitSignal(p.prediction_ready):
        p.playground.load_image(str(root / "bright" / "000.png"))


def test_boundary_of_two_chosen_features_and_playground_from_a_sample(qtbot, tmp_path, page):
    csv = write_table(tmp_path / "table.csv", n=120)
    run_id, _, run_dir, store = train_recorded(tmp_path, make_spec(str(csv), epochs=3))
    p = page(store)
    _show(qtbot, p, run_id)
    with qtbot.waitSignal(p.boundary_ready):
        p.tabs.setCurrentIndex(p.tab_index["boundary"])
    g = p.boundary.grid
    assert g["method"] == "features" and (g["x_name"], g["y_name"]) == ("a", "b")
    prep = p.loaded_data.prep
    common = next(c["fill"] for c in prep.input_columns if c["name"] == "color")
    assert f"held at their training median (numbers) or most common value: color {common}." in p.boundary.status.text()
    with qtbot.waitSignal(p.boundary_ready):
        p.boundary.view_combo.setCurrentText("PCA plane of the inputs")
    assert p.boundary.grid["method"] == "pca"
    # double-click a sample: the playground shows its values and the stored prediction
    p.tabs.setCurrentIndex(p.tab_index["confusion"])
    qtbot.mouseClick(p.confusion.correct_button, Qt.MouseButton.LeftButton)
    sp = load_predictions(run_dir / "predictions.npz").splits["test"]
    first = p.samples.table_model.sample(0)
    with qtbot.waitSignal(p.prediction_ready):
        p.samples.sample_activated.emit(first)
    assert p.tabs.currentIndex() == p.tab_index["playground"]
    row = p.playground.raw_row()
    np.testing.assert_allclose(row, sp.inputs[first], rtol=1e-3, atol=1e-3)
    text = p.playground.output_title.text()
    assert sp.class_names[sp.predicted[first]] in text


def test_a_run_without_predictions_says_why(qtbot, tmp_path, page):
    run_id, _, run_dir, store = train_recorded(tmp_path, make_spec("sample:gauss", epochs=1, n_samples=60))
    (run_dir / "predictions.npz").unlink()
    p = page(store)
    with qtbot.waitSignal(p.loaded):
        p.show_run(run_id)
    assert p.stack.currentWidget() is p.message
    assert "stored no predictions" in p.message.text()


def test_a_live_run_replayed_event_by_event(qtbot, tmp_path):
    """The trainer's own events reach the page as they happen (the generator is advanced only once
    the page has caught up): live validation predictions and boundary, then the final ones."""
    from types import SimpleNamespace

    from workbench.core.data import load_dataset, prepare
    from workbench.core.evaluation import EvaluationRecorder
    from workbench.core.execution import recorded_run
    from workbench.core.runs import RunStore
    from workbench.core.training import EvaluationSnapshot, RunFinished, RunStarted

    spec = make_spec("sample:spiral", epochs=6, n_samples=200)
    store = RunStore(tmp_path / "runs.db")
    run_dir = tmp_path / "runs" / "live"
    p = EvaluatePage(SimpleNamespace(current_run_dir=run_dir, store_path=str(store.path)))
    qtbot.addWidget(p)
    p.show()
    data = prepare(load_dataset(spec.data), spec.data)
    seen_live = False
    events = recorded_run(spec, store=store, data=data, run_dir=run_dir,
                          callbacks=[EvaluationRecorder(grid=24, adaptive=False)])
    for ev in events:
        if isinstance(ev, EvaluationSnapshot) and not seen_live:
            with qtbot.waitSignal(p.loaded):
                p.handle_events([ev])
            assert not p.loaded_data.predictions.final and set(p.loaded_data.predictions.splits) == {"val"}
            assert p.split_combo.currentData() == "val"
            assert "live" in p.status.text()
            p.tabs.setCurrentIndex(p.tab_index["boundary"])
            qtbot.waitUntil(lambda: p.boundary.grid is ev.boundary)
            assert p.boundary.grid["nx"] == 24 and p.boundary.view_combo.currentText() == "The model's inputs"
            assert "Live" in p.boundary.status.text()
            seen_live = True
        elif isinstance(ev, RunFinished):
            with qtbot.waitSignal(p.loaded):
                p.handle_events([ev])
        elif isinstance(ev, RunStarted):
            with qtbot.waitSignal(p.loaded):  # nothing stored yet: the page says so
                p.handle_events([ev])
            assert p.run_combo.itemText(0) == "● live: eval-test"
            assert "appear after the first epoch" in p.message.text()
        else:
            p.handle_events([ev])
    assert seen_live
    assert p.loaded_data.predictions.final and set(p.loaded_data.predictions.splits) == {"train", "val", "test"}
    assert p.run_combo.itemText(0) == "last run: eval-test"
    p.shutdown()


def test_the_app_session_trains_and_the_page_follows(qtbot, make_session, tiny_spec):
    """Through the Session (trainer in a thread stand-in): the page picks the live run and ends on
    its final predictions."""
    session = make_session(spec=tiny_spec.with_values({"train.epochs": 8, "train.checkpoint": True}))
    p = EvaluatePage(session)
    qtbot.addWidget(p)
    session.run_events.connect(p.handle_events)
    p.show()
    wait_ready(qtbot, session)
    qtbot.waitUntil(lambda: session.validity[0])
    session.train()
    qtbot.waitUntil(lambda: session.state == "idle")
    qtbot.waitUntil(lambda: p.loaded_data is not None and p.loaded_data.predictions is not None
                    and p.loaded_data.predictions.final)
    assert p.loaded_data.source.live and set(p.loaded_data.predictions.splits) == {"train", "val", "test"}
    assert p.confusion.model.rowCount() == 3  # two classes and the total
    p.shutdown()


def test_the_window_has_an_evaluate_page_for_the_last_run_and_any_recorded_one(qtbot, make_window, tiny_spec):
    window = make_window(spec=tiny_spec.with_values({"train.epochs": 4, "train.checkpoint": True}))
    session = window.session
    wait_ready(qtbot, session)
    assert window.pages.keys().index("evaluate") == window.pages.keys().index("train") + 1
    ended = []
    session.run_event.connect(lambda ev: type(ev).__name__ == "RunFinished" and ended.append(ev))
    qtbot.waitUntil(window.train_button.isEnabled)
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(ended))
    window.show_page("evaluate")
    page = window.evaluate_page
    assert page is not None and window.pages.current_key == "evaluate"
    qtbot.waitUntil(lambda: page.loaded_data is not None and page.loaded_data.predictions is not None
                    and page.loaded_data.predictions.final)
    run_id = page.loaded_data.source.run_id
    assert run_id is not None and page.confusion.model.rowCount() == 3
    assert page.loaded_data.predictions.splits["test"].n_classes == 2
    # the runs table's "Evaluate" shows a run there
    window.show_page("runs")
    with qtbot.waitSignal(page.loaded):
        window.runs_panel.evaluate_requested.emit(run_id)
    assert window.pages.current_key == "evaluate"


def test_macro_pr_curve_averages_each_class_interpolated_precision():
    from workbench.core.evaluation import pr_curve
    from workbench.gui.pages.evaluate.curves import macro_pr

    y = np.array([1, 0, 1, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    curve = pr_curve(y == 1, s)  # recall 1/3 at precision 1, 2/3 at 2/3, 1 at 1/2
    other = pr_curve(y == 0, 1 - s)
    x, mean = macro_pr([curve, other])
    one = macro_pr([curve])[1]
    at = lambda r: float(one[np.searchsorted(x, r)])  # noqa: E731
    assert at(0.0) == at(0.33) == 1.0  # the best precision at this recall or more
    assert at(0.5) == pytest.approx(2 / 3) and at(1.0) == pytest.approx(0.5)
    assert np.allclose(mean, (one + macro_pr([other])[1]) / 2)


def test_a_table_of_pixels_shows_its_samples_as_pictures(qtbot):
    from workbench.core.evaluation import SplitPredictions
    from workbench.gui.pages.evaluate.samples_view import SamplesView

    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 17, (6, 64)).astype(np.float32)  # the 8x8 digits: 64 pixel columns
    sp = SplitPredictions("test", "classification", ["0", "1"], np.array([0, 1, 0, 1, 0, 1]),
                          rng.normal(size=(6, 2)).astype(np.float32), inputs=inputs)
    view = SamplesView()
    qtbot.addWidget(view)
    view.set_predictions(sp, None, [(f"pixel_{k}", k, None) for k in range(64)])
    view.show_samples(None, None, "all", "All samples")
    assert view.stack.currentWidget() is view.gallery and view.gallery_model.rowCount() == 6
    assert view.gallery_model.images.shape == (6, 1, 8, 8)
    assert view.gallery_model.data(view.gallery_model.index(0), Qt.ItemDataRole.DecorationRole) is not None
    sp5 = SplitPredictions("test", "classification", ["0", "1"], sp.y_true, sp.outputs, inputs=inputs[:, :5])
    view.set_predictions(sp5, None, [(f"f{k}", k, None) for k in range(5)])
    assert view.stack.currentWidget() is view.table and view.table_model.columnCount() == 6 + 5


def test_gallery_captions_are_whole(qtbot):
    """The walkthrough saw the gallery's captions cut."""
    from workbench.core.evaluation import SplitPredictions
    from workbench.gui.pages.evaluate.samples_view import SamplesView, gallery_captions

    rng = np.random.default_rng(0)
    names = ["circle", "rounded rectangle", "triangle"]
    sp = SplitPredictions("test", "classification", names, np.array([0, 1, 2, 1]),
                          rng.normal(size=(4, 3)).astype(np.float32),
                          inputs=rng.random((4, 1, 12, 12)).astype(np.float32))
    view = SamplesView()
    qtbot.addWidget(view)
    view.set_predictions(sp, None, [])
    view.show_samples(None, None, "all", "All samples")
    grid, metrics = view.gallery.gridSize(), view.gallery.fontMetrics()
    assert all(metrics.horizontalAdvance(line) + 8 <= grid.width() for line in gallery_captions(names))
    assert grid.height() >= 72 + 2 * metrics.lineSpacing()


def test_the_page_moves_on_to_a_newly_finished_run(qtbot, make_window, tiny_spec):
    """The page opened on the newest run (nobody picked one): the next run, once trained, is shown."""
    import os

    from workbench.core.runs import RunStore

    window = make_window(spec=tiny_spec.with_values({"train.epochs": 2, "train.checkpoint": True}))
    session = window.session
    wait_ready(qtbot, session)
    ended = []
    session.run_event.connect(lambda ev: type(ev).__name__ == "RunFinished" and ended.append(ev))
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(ended) == 1)
    window.show_page("evaluate")
    page = window.evaluate_page
    qtbot.waitUntil(lambda: page.loaded_data is not None and page.loaded_data.predictions is not None)
    window.show_page("train")
    qtbot.waitUntil(window.train_button.isEnabled)
    qtbot.mouseClick(window.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(ended) == 2)
    with RunStore(os.environ["WORKBENCH_STORE"]) as store:
        newest = store.list_runs()[0]
    assert newest.id == 2
    window.show_page("evaluate")
    qtbot.waitUntil(lambda: page.loaded_data is not None and page.loaded_data.predictions is not None
                    and page.loaded_data.predictions.final
                    and (page.loaded_data.source.run_id == 2 or page.loaded_data.source.folder == newest.run_dir))

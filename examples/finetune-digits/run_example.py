"""Why fine-tuning matters, on the 8x8 digits sample.

1. Train the `digits-cnn` preset on digits 0-4 (all their rows).
2. Train the same CNN on digits 5-9 with only 20 training images per class (finetune.json,
   started from step 1's weights: every layer loads except the output layer, which gets a new
   head for the new classes; the convolutions learn at 0.3x the rate) ...
3. ... and from scratch (scratch.json): the same model, data, epochs and seed.

It prints both runs' test accuracies and draws their validation curves into curves.png.

    python examples/finetune-digits/run_example.py [--store runs.db] [--out curves.png]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _train(argv: list[str]) -> dict:
    from workbench.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*argv, "--json", "--quiet"])
    final = json.loads(out.getvalue().splitlines()[-1])
    if code != 0:
        raise SystemExit(f"training failed: {final}")
    return final


def _draw(curves: dict[str, list[float]], path: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from pyqtgraph.exporters import ImageExporter
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])  # noqa: F841 - pyqtgraph needs one
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    plot = pg.PlotWidget(title="Digits 5-9, 20 training images per class: validation accuracy")
    plot.resize(900, 500)
    plot.show()
    plot.addLegend(offset=(-20, -20), labelTextSize="12pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", "validation accuracy")
    plot.showGrid(x=True, y=True, alpha=0.3)
    for (name, values), color in zip(curves.items(), ("#1f77b4", "#d62728")):
        plot.plot(range(1, len(values) + 1), values, pen=pg.mkPen(color, width=2.5), symbol="o", symbolSize=5,
                  symbolBrush=color, name=name)
    plot.setYRange(0.4, 1.0)
    exporter = ImageExporter(plot.plotItem)
    exporter.parameters()["width"] = 1200
    exporter.export(str(path))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="run store to record the three runs in (default: a temporary one)")
    parser.add_argument("--out", default=str(HERE / "curves.png"), help="where to draw the curves")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or str(Path(tmp) / "runs.db")
        pre = _train(["train", "digits-cnn", "--store", store, "--device", "cpu"])
        print(f"digits 0-4 (preset digits-cnn): run {pre['run_id']}, test accuracy "
              f"{pre['metrics']['test_accuracy']:.3f}")
        runs = {}
        for name, extra in (("fine-tuned from digits 0-4", ["--init-from", str(pre["run_id"])]),
                            ("from scratch", [])):
            spec = "finetune.json" if extra else "scratch.json"
            final = _train(["train", str(HERE / spec), "--store", store, "--device", "cpu", *extra])
            runs[name] = final
            print(f"digits 5-9, 20 per class, {name}: run {final['run_id']}, test accuracy "
                  f"{final['metrics']['test_accuracy']:.3f}")
        from workbench.core.runs import RunStore

        with RunStore(store) as rs:
            curves = {name: [e["val_accuracy"] for e in rs.epochs(final["run_id"])] for name, final in runs.items()}
        for name, values in curves.items():
            print(f"  {name}: validation accuracy by epoch " + " ".join(f"{v:.3f}" for v in values))
        _draw(curves, Path(args.out))
        print(f"curves drawn into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

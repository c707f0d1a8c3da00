"""What `workbench train --help`, the data panel and the loader's notes say about imputing is
what the loader does: numbers get the column's median, text its most common value."""

from __future__ import annotations

import numpy as np

from workbench.cli.main import build_parser
from workbench.core.data import load_dataset
from workbench.core.spec import DataSpec


def _train_help() -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return " ".join(sub.choices["train"].format_help().split())


def test_help_says_median_and_the_loader_uses_the_median(tmp_path):
    text = _train_help()
    assert "median" in text and "mean" not in text.replace("median", "")
    path = tmp_path / "gaps.csv"
    path.write_text("a,color,label\n1,red,0\n2,red,1\n100,blue,0\n,,1\n3,red,0\n")
    ds = load_dataset(DataSpec(source=str(path), missing="impute"))
    a = ds.X[:, ds.meta.feature_names.index("a")]
    assert a[3] == np.median([1, 2, 100, 3])  # 2.5, not the mean 26.5
    assert ds.X[3, ds.meta.feature_names.index("color=red")] == 1.0  # most common text
    assert any("median 2.5" in n for n in ds.meta.notes)

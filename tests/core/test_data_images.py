"""Image folders: layout, resizing, colour modes, corrupt files, one-class and empty folders."""

from __future__ import annotations


import numpy as np
import pytest
from PIL import Image

from workbench.core.data import DataError, load_dataset
from workbench.core.spec import DataSpec


def load(path, **kw):
    return load_dataset(DataSpec(source=str(path), **kw))


def make_folder(root, classes=("cat", "dog"), n=3, size=(20, 16), fmt="png", mode="RGB"):
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = np.full((size[1], size[0], 3), 40 * (k + 1) + i, np.uint8)
            Image.fromarray(arr, "RGB").convert(mode).save(root / name / f"{i}.{fmt}")
    return root


def test_image_folder_grayscale_default(tmp_path):
    make_folder(tmp_path / "pets")
    ds = load(tmp_path / "pets", image_size=12)
    assert ds.X.shape == (6, 1, 12, 12) and ds.X.dtype == np.float32
    assert ds.meta.kind == "image" and ds.meta.task == "classification"
    assert ds.meta.class_names == ["cat", "dog"] and ds.meta.class_counts == [3, 3]
    assert ds.meta.input_shape == (1, 12, 12) and ds.meta.feature_names == []
    assert 0.0 <= ds.X.min() and ds.X.max() <= 1.0
    assert ds.preview_rows == [] and ds.preview_columns == []


def test_image_folder_rgb_and_formats(tmp_path):
    root = tmp_path / "mixed"
    make_folder(root, classes=("a",), fmt="jpg")
    make_folder(root, classes=("b",), fmt="bmp")
    make_folder(root, classes=("c",), fmt="gif", mode="P")
    make_folder(root, classes=("d",), fmt="tiff", mode="L")
    ds = load(root, image_size=8, color_mode="rgb")
    assert ds.X.shape == (12, 3, 8, 8) and ds.meta.class_counts == [3, 3, 3, 3]


def test_corrupt_image_is_skipped_and_reported(tmp_path):
    root = make_folder(tmp_path / "pets")
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG this is not really a png")
    (root / "dog" / "notes.txt").write_text("hello")
    ds = load(root)
    assert ds.meta.n_samples == 6 and ds.meta.class_counts == [3, 3]
    notes = " ".join(ds.meta.notes)
    assert "skipped 1 unreadable file" in notes and "broken.png" in notes
    assert "not images" in notes


def test_class_with_only_corrupt_files_is_left_out(tmp_path):
    root = make_folder(tmp_path / "pets", classes=("cat", "dog", "emu"))
    for f in (root / "emu").iterdir():
        f.write_bytes(b"garbage")
    ds = load(root)
    assert ds.meta.class_names == ["cat", "dog"]
    assert any("emu" in n for n in ds.meta.notes)


def test_one_class_folder_is_an_error(tmp_path):
    root = make_folder(tmp_path / "pets", classes=("cat",))
    with pytest.raises(DataError) as err:
        load(root)
    assert "only one class ('cat')" in str(err.value) and "one subfolder per class" in str(err.value)


def test_empty_folder_explains_layout(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as err:
        load(tmp_path / "empty")
    msg = str(err.value)
    assert "it is empty" in msg and "one subfolder per class" in msg and str(tmp_path / "empty") in msg


def test_folder_of_loose_images_or_csv(tmp_path):
    root = tmp_path / "loose"
    root.mkdir()
    Image.new("L", (4, 4)).save(root / "a.png")
    with pytest.raises(DataError, match="no class subfolders"):
        load(root)
    (root / "table.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="table.csv.*give its path"):
        load(root)


def test_class_folders_without_images(tmp_path):
    (tmp_path / "ds" / "a").mkdir(parents=True)
    (tmp_path / "ds" / "b").mkdir(parents=True)
    with pytest.raises(DataError, match="no images found"):
        load(tmp_path / "ds")


def test_all_images_unreadable(tmp_path):
    root = make_folder(tmp_path / "pets")
    for f in root.rglob("*.png"):
        f.write_bytes(b"junk")
    with pytest.raises(DataError, match="none of the images could be read"):
        load(root)


def test_loads_a_few_hundred_files(tmp_path):
    """How fast: benchmarks/scale.py (images)."""
    root = make_folder(tmp_path / "many", classes=("a", "b", "c"), n=100, size=(32, 32))
    ds = load(root)
    assert ds.meta.n_samples == 300 and ds.meta.class_counts == [100, 100, 100]
    assert ds.X.shape == (300, 1, 28, 28)

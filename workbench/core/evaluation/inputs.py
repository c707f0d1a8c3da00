"""New data for a trained run: a table, arrays, image files or an image folder, read into the
raw inputs (and, when present, the true labels) that the run's preprocessing then standardises.

- tables (CSV/TSV...): the run's columns by name (core.data.encode_table);
- .npy / .npz arrays: inputs of the run's input shape (npz: keys X/x, labels y/Y optional);
- images: one image file, a folder of images, or a folder with one subfolder per class (the
  labels); each image is read and resized exactly as the training images were.
Problems are DataErrors naming the file and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from workbench.core.data import (
    IMAGE_SUFFIXES,
    DataError,
    encode_labels,
    encode_table,
    read_image,
)
from workbench.core.evaluation.preprocessing import Preprocessing

__all__ = ["NewData", "read_new_data"]

TABLES = {".csv", ".tsv", ".tab", ".txt", ".dat"}


@dataclass
class NewData:
    X: np.ndarray  # raw inputs (N, *input_shape) float32: file units, images in [0, 1]
    y: np.ndarray | None  # class indices or (N, w) values, when the data carries them
    ids: list[str]  # what each row is, in the id column: the file line "12", the row "5", "cat/003.png"
    id_name: str  # that column's name: "line", "row" or "file"
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """Where each row came from, for people: "line 12", "row 5", "cat/003.png"."""
        return self.ids if self.id_name == "file" else [f"{self.id_name} {i}" for i in self.ids]


def _shape_text(shape) -> str:
    return "x".join(str(int(s)) for s in shape)


def read_new_data(prep: Preprocessing, path: str | Path, *, labelled: bool = False) -> NewData:
    """Read `path` as inputs for a run with this preprocessing. With `labelled`, the true labels
    are required (for evaluation); otherwise they are read when present and may be ignored."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        return _arrays(prep, path, labelled)
    if prep.kind == "image":
        return _images(prep, path, labelled)
    if path.is_dir() or suffix in IMAGE_SUFFIXES:
        raise DataError(f"{path}: this run was trained on a table ({', '.join(c['name'] for c in prep.input_columns[:6])}"
                        f"{', ...' if len(prep.input_columns) > 6 else ''}); give a CSV file with those columns")
    rows = encode_table(path, prep.input_columns, target_name=prep.target_name if labelled else None,
                        task=prep.task, class_names=prep.class_names, missing=prep.missing, allow_drop=labelled,
                        require_target=labelled)
    return NewData(rows.X, rows.y, [str(n) for n in rows.lines], "line", list(rows.notes))


def _arrays(prep: Preprocessing, path: Path, labelled: bool) -> NewData:
    y_raw = None
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.files)
                xk = next((k for k in ("X", "x", "inputs", "features", "data") if k in keys), None)
                if xk is None:
                    raise DataError(f"{path} holds {', '.join(keys)}; name the inputs X (and the labels y)")
                X = z[xk]
                yk = next((k for k in ("y", "Y", "labels", "targets", "target") if k in keys), None)
                y_raw = z[yk] if yk is not None else None
        else:
            X = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable NumPy file ({exc}); save plain numeric arrays") from None
    want = tuple(prep.input_shape)
    if X.ndim == len(want) and prep.kind == "tabular" and len(want) == 1 and X.shape[-1] == want[0] and X.ndim == 1:
        X = X[None, :]
    if X.ndim == 1 and want == (1,):
        X = X[:, None]
    if prep.kind == "image" and X.ndim == 4 and X.shape[1:] != want and X.shape[-1] == want[0] and X.shape[1:3] == want[1:]:
        X = np.transpose(X, (0, 3, 1, 2))
    if prep.kind == "image" and X.ndim == 3 and want[0] == 1:
        X = X[:, None]
    if tuple(X.shape[1:]) != want:
        what = "images" if prep.kind == "image" else "rows"
        fix = ("resize them to that size (or give image files or a folder; they are resized as the training images were)"
               if prep.kind == "image" else f"give {want[0]} features per row, in the order {', '.join(prep.feature_names[:8])}")
        raise DataError(f"{path}: the inputs have shape {_shape_text(X.shape[1:])} per sample, but the run was trained "
                        f"on {what} of shape {_shape_text(want)}; {fix}")
    if prep.kind == "image" and X.dtype.kind in "ui":
        X = X.astype(np.float32) / 255.0
    X = X.astype(np.float32)
    notes: list[str] = []
    y = None
    if y_raw is not None:
        values = [str(v) for v in np.asarray(y_raw).reshape(len(y_raw), -1)[:, 0]]
        y = encode_labels(path, values, np.arange(1, len(values) + 1), prep.task, prep.class_names, "y")
    if labelled and y is None:
        raise DataError(f"{path} has no labels; save the true labels as y next to X (np.savez(path, X=X, y=y))")
    return NewData(X, y, [str(i + 1) for i in range(len(X))], "row", notes)


def _image_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                   and not p.name.startswith(".")), key=lambda p: p.name)


def _images(prep: Preprocessing, path: Path, labelled: bool) -> NewData:
    size = int(prep.image_size or prep.input_shape[-1])
    mode = "L" if (prep.color_mode or "grayscale") == "grayscale" else "RGB"
    jobs: list[tuple[Path, str | None]] = []
    root = path if path.is_dir() else path.parent
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"{path}: this run was trained on images; give an image file, a folder of images, or a "
                            "folder with one subfolder per class")
        jobs = [(path, None)]
    else:
        subfolders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        labelled_folders = [p for p in subfolders if _image_files(p)]
        if labelled_folders:
            for folder in labelled_folders:
                jobs += [(p, folder.name) for p in _image_files(folder)]
        jobs += [(p, None) for p in _image_files(path)]
    if not jobs:
        raise DataError(f"{path}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    notes: list[str] = []
    images, ids, resized, unreadable = [], [], 0, []
    for p, _ in jobs:
        try:
            with Image.open(p) as img:
                if img.size != (size, size):
                    resized += 1
            images.append(read_image(p, size, mode))
            ids.append(p.relative_to(root).as_posix())
        except Exception as exc:  # noqa: BLE001 - named in the message
            unreadable.append(f"{p.name} ({str(exc).splitlines()[0][:80]})")
    if unreadable:
        raise DataError(f"{path}: cannot read {len(unreadable)} image(s): {'; '.join(unreadable[:5])}. Remove or "
                        "replace them.")
    if resized:
        notes.append(f"resized {resized} image{'s' if resized > 1 else ''} to {size}x{size} "
                     f"{'grayscale' if mode == 'L' else 'RGB'}, as the training images were")
    X = np.stack(images).astype(np.float32) / 255.0
    y = None
    names = [lab for _, lab in jobs]
    if any(n is not None for n in names):
        if any(n is None for n in names):
            raise DataError(f"{path} mixes loose images with class subfolders; put every image in its class's "
                            "subfolder (or give a folder of loose images to predict)")
        unknown = sorted({n for n in names if n not in prep.class_names})
        if unknown:
            raise DataError(f"{path}: subfolder{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                            f"{'are' if len(unknown) > 1 else 'is'} not a class of this run "
                            f"({', '.join(prep.class_names)}); rename or remove {'them' if len(unknown) > 1 else 'it'}")
        y = np.array([prep.class_names.index(n) for n in names], dtype=np.int64)
    if labelled and y is None:
        raise DataError(f"{path}: to evaluate, the images must be sorted into one subfolder per class "
                        f"({', '.join(prep.class_names)}); loose images can only be predicted")
    return NewData(X, y, ids, "file", notes)

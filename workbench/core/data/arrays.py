"""NumPy arrays -> Dataset.

Accepted layouts:
  * a .npz file with keys X/y or x/y (also data/target, features/labels, inputs/targets),
    or the keys named by data.x_key / data.y_key;
  * a pair of .npy files: foo_X.npy with foo_y.npy (also foo_x / foo_Y), X.npy with y.npy,
    or foo.npy with foo_y.npy; the path may name either file of the pair;
  * a folder that holds X.npy and y.npy (or x.npy / Y.npy).
X of rank 1 is one feature per row; rank 2 (N, F) is tabular; rank 3 (N, H, W) is a one-channel
image; rank 4 (N, C, H, W) is an image (N, H, W, C with C in 1, 3, 4 is transposed, with a note).
Integer images (uint8) are scaled to [0, 1]. y of shape (N,) or (N, 1) is one target; a 0/1
one-hot (N, k) becomes class indices; other (N, k) float targets are k regression targets.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .targets import class_counts, encode_target
from .types import DataError, Dataset, DatasetMeta

KEY_PAIRS = [("X", "y"), ("x", "y"), ("X", "Y"), ("x", "Y"), ("data", "target"), ("features", "labels"), ("inputs", "targets")]


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(
                f"{path} holds Python objects (a pickled object array); save plain numeric arrays "
                "(np.save with a float/int dtype) instead"
            ) from None
        raise DataError(f"{path} is not a readable .npy file ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path} is not a readable .npy file ({exc})") from None


def _partner_candidates(path: Path) -> list[tuple[Path, Path]]:
    """(X path, y path) pairs the given .npy could belong to."""
    stem, folder = path.stem, path.parent
    pairs: list[tuple[Path, Path]] = []
    for x_suffix in ("_X", "_x", "-X", "-x"):
        if stem.endswith(x_suffix):
            base = stem[: -len(x_suffix)]
            pairs += [(path, folder / f"{base}{x_suffix[0]}{y}.npy") for y in ("y", "Y")]
    for y_suffix in ("_y", "_Y", "-y", "-Y"):
        if stem.endswith(y_suffix):
            base = stem[: -len(y_suffix)]
            pairs += [(folder / f"{base}{y_suffix[0]}{x}.npy", path) for x in ("X", "x")]
            pairs.append((folder / f"{base}.npy", path))
    if stem in ("X", "x"):
        pairs += [(path, folder / f"{y}.npy") for y in ("y", "Y")]
    if stem in ("y", "Y"):
        pairs += [(folder / f"{x}.npy", path) for x in ("X", "x")]
    pairs += [(path, folder / f"{stem}_y.npy"), (path, folder / f"{stem}_Y.npy")]
    return pairs


def find_npy_pair(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        for xn in ("X.npy", "x.npy"):
            for yn in ("y.npy", "Y.npy"):
                if (path / xn).is_file() and (path / yn).is_file():
                    return path / xn, path / yn
        raise DataError(f"{path}: expected X.npy and y.npy in this folder")
    for x, y in _partner_candidates(path):
        if x != y and x.is_file() and y.is_file():
            return x, y
    raise DataError(
        f"{path}: cannot find the targets (y) that go with this array. Save them next to it as "
        f"'{path.stem}_y.npy' (or name the pair foo_X.npy / foo_y.npy, or X.npy / y.npy), "
        "or put both in one .npz file with keys X and y."
    )


def _describe_keys(arrays: dict[str, np.ndarray]) -> str:
    return ", ".join(f"'{k}' {tuple(v.shape)}" for k, v in arrays.items()) or "(none)"


def load_npz_arrays(path: Path, x_key: str | None, y_key: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path} holds Python objects (pickled arrays); save plain numeric arrays instead") from None
        raise DataError(f"{path} is not a readable .npz file ({exc})") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a readable .npz file ({exc})") from None
    fix = "Set data.x_key / data.y_key in the spec to the names of the inputs and the targets."
    if x_key is not None or y_key is not None:
        wanted = [k for k in (x_key, y_key) if k is not None]
        absent = [k for k in wanted if k not in arrays]
        if absent:
            raise DataError(
                f"{path} has no array named {', '.join(repr(k) for k in absent)}. Arrays found: "
                f"{_describe_keys(arrays)}. {fix}"
            )
    for xk, yk in KEY_PAIRS:
        xk2, yk2 = x_key or xk, y_key or yk
        if xk2 in arrays and yk2 in arrays and xk2 != yk2:
            return arrays[xk2], arrays[yk2], yk2
    raise DataError(
        f"{path}: cannot tell which arrays are the inputs and the targets (expected keys 'X' and 'y'). "
        f"Arrays found: {_describe_keys(arrays)}. {fix}"
    )


def _images_from(X: np.ndarray, notes: list[str]) -> np.ndarray:
    if X.ndim == 3:
        return X[:, None, :, :]
    if X.shape[1] not in (1, 3, 4) and X.shape[3] in (1, 3, 4):
        notes.append(f"images stored channels-last {tuple(X.shape[1:])}; transposed to (C, H, W)")
        return np.transpose(X, (0, 3, 1, 2))
    return X


def _handle_missing(X: np.ndarray, y: np.ndarray, policy: str, where: str, notes: list[str]):
    bad_x = ~np.isfinite(X.reshape(len(X), -1)).all(axis=1)
    bad_y = ~np.isfinite(y.reshape(len(y), -1)).all(axis=1) if y.dtype.kind == "f" else np.zeros(len(y), bool)
    bad = bad_x | bad_y
    if not bad.any():
        return X, y
    rows = np.flatnonzero(bad)
    shown = ", ".join(str(i) for i in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    if policy == "error":
        raise DataError(
            f"{where}: {len(rows)} samples have NaN or infinite values (rows {shown}, counting from 0). "
            "To go on, set data.missing to 'drop' or 'impute' (the Missing values choice in the data panel)."
        )
    if policy == "impute" and bad_x.any():
        keep = ~bad_y
        flat = X.reshape(len(X), -1).astype(np.float64)
        holes = ~np.isfinite(flat)
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(holes, np.nan, flat)[keep], axis=0)
        med = np.where(np.isfinite(med), med, 0.0)
        flat[holes] = np.take(med, np.nonzero(holes)[1])
        X = flat.reshape(X.shape)
        notes.append(f"imputed {int(holes.sum())} NaN/infinite values with the median of their feature")
        if bad_y.any():
            notes.append(f"dropped {int(bad_y.sum())} samples whose target is NaN (targets are never imputed)")
        return X[keep], y[keep]
    notes.append(f"dropped {len(rows)} of {len(X)} samples with NaN or infinite values")
    if bad.all():
        raise DataError(f"{where}: every sample has NaN or infinite values")
    return X[~bad], y[~bad]


def arrays_to_dataset(X: np.ndarray, y: np.ndarray, data, *, where: str, source: str, target_name: str = "y",
                      notes: list[str] | None = None, class_names: list[str] | None = None) -> Dataset:
    notes = list(notes or [])
    if X.dtype.kind not in "fiub":
        raise DataError(f"{where}: the inputs X have dtype {X.dtype}, not numbers; save X as a numeric array")
    if y.dtype.kind not in "fiubUS":
        raise DataError(f"{where}: the targets y have dtype {y.dtype}; save y as numbers or strings")
    if X.ndim == 0 or X.shape[0] == 0:
        raise DataError(f"{where}: the inputs X are empty (shape {X.shape})")
    if len(X) != len(y):
        raise DataError(
            f"{where}: X has {len(X)} samples but y has {len(y)} (X shape {X.shape}, y shape {y.shape}); "
            "they must have the same first dimension"
        )
    if X.ndim > 4:
        raise DataError(f"{where}: X has shape {X.shape}; expected (N, features), (N, H, W) or (N, C, H, W)")
    if y.ndim > 2:
        raise DataError(f"{where}: y has shape {y.shape}; expected (N,) or (N, k)")
    if X.ndim == 1:
        X = X.reshape(-1, 1)
        notes.append("X is 1-D: one feature per sample")
    kind = "tabular" if X.ndim == 2 else "image"
    if kind == "image":
        X = _images_from(X, notes)
        if X.dtype.kind in "iub":
            top = 255.0 if X.dtype == np.uint8 or X.max() <= 255 else float(X.max())
            X = X.astype(np.float32) / top
            notes.append(f"integer pixel values scaled to [0, 1] (divided by {top:g})")
    X = X.astype(np.float32)
    if y.dtype.kind in "fiub":
        X, y = _handle_missing(X, y, data.missing, where, notes)

    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    task = data.task
    if y.ndim == 2:
        onehot = y.dtype.kind in "fiub" and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()
        if onehot and task != "regression":
            notes.append(f"y is one-hot ({y.shape[1]} columns); converted to class indices")
            y = y.argmax(axis=1)
        elif task == "classification":
            raise DataError(f"{where}: y has shape {y.shape}; classification needs one label per sample (N,)")
        else:
            task = "regression"
            notes.append(f"task: regression with {y.shape[1]} targets (y has shape {tuple(y.shape)})")
            y_out = y.astype(np.float32)
            return _finish(X, y_out, [], task, kind, data, source, target_name, notes, y.shape[1])
    values = y.astype(str) if y.dtype.kind in "US" else y.astype(np.float64)
    y_out, task, cls = encode_target(values, task=task, target_name=target_name, where=where, notes=notes,
                                     class_names=class_names)
    return _finish(X, y_out, cls, task, kind, data, source, target_name, notes, 1)


def _finish(X, y, cls, task, kind, data, source, target_name, notes, width) -> Dataset:
    X = np.ascontiguousarray(X, dtype=np.float32)
    meta = DatasetMeta(
        source=source,
        kind=kind,
        task=task,
        class_names=cls,
        feature_names=[f"x{i + 1}" for i in range(X.shape[1])] if kind == "tabular" else [],
        input_shape=tuple(int(s) for s in X.shape[1:]),
        target_name=target_name,
        target_width=len(cls) if task == "classification" else width,
        n_samples=int(X.shape[0]),
        notes=notes,
        class_counts=class_counts(y, len(cls)) if task == "classification" else [],
    )
    return Dataset(X=X, y=y, meta=meta)


def load_arrays(path: Path, data, *, source: str | None = None) -> Dataset:
    source = source or str(path)
    notes: list[str] = []
    if path.suffix.lower() == ".npz":
        X, y, y_name = load_npz_arrays(path, data.x_key, data.y_key)
        return arrays_to_dataset(X, y, data, where=str(path), source=source, target_name=y_name)
    x_path, y_path = find_npy_pair(path)
    if x_path != path:
        notes.append(f"inputs from {x_path.name}, targets from {y_path.name}")
    else:
        notes.append(f"targets from {y_path.name}")
    X, y = _load_npy(x_path), _load_npy(y_path)
    where = f"{x_path} / {y_path.name}"
    return arrays_to_dataset(X, y, data, where=where, source=source, target_name=y_path.stem, notes=notes)

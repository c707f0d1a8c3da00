"""load_dataset: one entry point that picks the loader from data.source."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .arrays import load_arrays
from .cache import cached_load, file_digest, folder_digest
from .images import load_image_folder
from .progress import LoadProgress, Progress
from .samples import load_sample
from .tabular import load_table
from .types import DataError, Dataset

TABLES = {".csv", ".tsv", ".tab", ".txt", ".dat"}
SPREADSHEETS = {".xlsx", ".xls", ".xlsm", ".ods"}
IMAGES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def load_dataset(data, base_dir: str | Path | None = None, *,
                 on_progress: Callable[[LoadProgress], None] | None = None, cancel=None) -> Dataset:
    """Load what data.source names: "sample:<name>", a CSV/TSV file, a .npy/.npz file, a folder
    holding X.npy and y.npy, or an image folder (one subfolder per class). Raises DataError.

    on_progress gets LoadProgress (rows or images so far, a few times a second, on this thread);
    once `cancel` (a threading.Event) is set the load stops with LoadCancelled."""
    from workbench.core.spec import resolve_source

    progress = Progress(on_progress, cancel)

    source = data.source.strip()
    if source.startswith("sample:"):
        return load_sample(source.split(":", 1)[1].strip(), data)
    path = Path(resolve_source(source, base_dir))
    if not path.exists():
        hint = f" (relative to {base_dir})" if base_dir is not None and not Path(source).expanduser().is_absolute() else ""
        near = ""
        if path.parent.is_dir():
            similar = sorted(p.name for p in path.parent.iterdir() if p.stem.lower() == path.stem.lower())
            if similar:
                near = f"; did you mean {', '.join(similar)}?"
        raise DataError(f"file not found: {path}{hint}{near}")
    if path.is_dir():
        if path.suffix.lower() in TABLES | {".npy", ".npz"}:
            raise DataError(f"{path} is a folder, but a file was expected here (the name ends in {path.suffix})")
        if any((path / n).is_file() for n in ("X.npy", "x.npy")):
            return load_arrays(path, data)
        return cached_load(lambda: folder_digest(path), str(path), data,
                           lambda: load_image_folder(path, data, progress=progress))
    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        return load_arrays(path, data)
    if suffix in SPREADSHEETS:
        raise DataError(f"{path} is a spreadsheet; save it as CSV (File > Save As > CSV) and load that")
    if suffix in IMAGES:
        raise DataError(
            f"{path} is a single image; give the folder that holds one subfolder per class instead "
            f"(here maybe {path.parent.parent})"
        )
    return cached_load(lambda: file_digest(path), str(path), data, lambda: load_table(path, data, progress=progress))

"""Image folders -> Dataset.

Layout: <folder>/<class name>/<image files>, one subfolder per class (class names sorted).
PNG, JPEG, BMP, GIF, TIFF and WebP are read with Pillow (first frame of animations), resized
to data.image_size x data.image_size (stretched if not square), converted to grayscale (C=1)
or RGB (C=3) by data.color_mode, and scaled to [0, 1]. Unreadable files are skipped and named
in meta.notes; it is an error only when fewer than two classes keep any images.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .progress import Progress
from .types import DataError, Dataset, DatasetMeta

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
IGNORED_NAMES = {"thumbs.db", "desktop.ini"}
LAYOUT_HELP = (
    "An image dataset is a folder with one subfolder per class, each holding that class's images, e.g.\n"
    "  shapes/circle/001.png, shapes/circle/002.png, ..., shapes/square/001.png, ..."
)
PROCESS_MIN_FILES = 4096  # from this many images on, child processes decode them in parallel
CHUNK_FILES = 1024  # images per task handed to a decoding process
SERIAL_STEP = 128  # images decoded here between looks at progress and cancel
MAX_LISTED_SKIPS = 10


def read_image(path: Path, size: int, mode: str) -> np.ndarray:
    """One image file as uint8 (C, H, W): first frame, alpha over white, `mode` ('L' or 'RGB'),
    resized to size x size (stretched if not square) as the loader does it."""
    with Image.open(path) as img:
        if img.format == "JPEG":
            img.draft(mode, (size, size))  # decode at reduced scale: much faster for big photos
            img = ImageOps.exif_transpose(img)
        if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            arr = np.asarray(img, dtype=np.float32)
            top = 65535.0 if img.mode.startswith("I;16") else max(float(arr.max()), 1.0)
            img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
        elif img.mode == "RGBA" or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
            background = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, img)
        if img.mode != mode:
            img = img.convert(mode)
        if img.size != (size, size):
            img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        arr = np.asarray(img, dtype=np.uint8)
    return arr[None, :, :] if arr.ndim == 2 else np.transpose(arr, (2, 0, 1))


def decode_images(paths: list[str], size: int, mode: str) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Decode images to one uint8 array (k, C, size, size) of the readable ones, and (index,
    why) for each unreadable one. Runs in a decoding process for big folders."""
    pixels, failed = [], []
    for i, path in enumerate(paths):
        try:
            pixels.append(read_image(Path(path), size, mode))
        except Exception as exc:  # noqa: BLE001 - any unreadable file is skipped and reported
            failed.append((i, _describe(exc)))
    channels = 1 if mode == "L" else 3
    return (np.stack(pixels) if pixels else np.zeros((0, channels, size, size), np.uint8)), failed


def _decoding_processes() -> int:
    """How many processes decode a big folder: every core, or all but one beside the app's window;
    0 (decode here) in a daemon process (a training child), which may not start processes."""
    if mp.current_process().daemon:
        return 0
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if os.environ.get("WORKBENCH_GUI") else cores


def _decode_all(paths: list[str], size: int, mode: str, progress: Progress | None):
    """(uint8 pixels of the readable images in order, {index: why} for the others). Big folders
    are decoded by child processes (PIL holds the interpreter lock for small images, so threads
    would not help); progress and cancel are looked at between chunks."""
    workers = _decoding_processes() if len(paths) >= PROCESS_MIN_FILES else 0
    step = CHUNK_FILES
    starts = list(range(0, len(paths), step))
    parts: dict[int, tuple[np.ndarray, list[tuple[int, str]]]] = {}
    decoded = [0]

    def finished(start: int, part) -> None:
        parts[start] = part
        decoded[0] += len(part[0]) + len(part[1])
        if progress is not None:
            progress.update(decoded[0], len(paths))

    if workers:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(starts)), mp_context=mp.get_context("spawn"))
        try:
            pending = {pool.submit(decode_images, paths[a:a + step], size, mode): a for a in starts}
            while pending:
                done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    finished(pending.pop(future), future.result())
                if progress is not None:
                    progress.check()
        except (BrokenProcessPool, OSError):
            pass  # the processes could not start or died: what is left is decoded here, below
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    for a in starts:
        if a not in parts:
            for b in range(a, min(a + step, len(paths)), SERIAL_STEP):  # small steps: lively progress
                finished(b, decode_images(paths[b:b + SERIAL_STEP], size, mode))
    starts = sorted(parts)
    if progress is not None:
        progress.update(decoded[0], len(paths), force=True)
    failed = {a + i: why for a in starts for i, why in parts[a][1]}
    channels = 1 if mode == "L" else 3
    pixels = (np.concatenate([parts[a][0] for a in starts]) if starts
              else np.zeros((0, channels, size, size), np.uint8))
    return pixels, failed


def _describe(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return text[:120] or type(exc).__name__


def _class_folders(root: Path) -> list[Path]:
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except PermissionError:
        raise DataError(f"{root}: permission denied; check the folder's permissions") from None
    return [p for p in entries if p.is_dir() and not p.name.startswith(".")]


def load_image_folder(root: Path, data, *, source: str | None = None, progress: Progress | None = None) -> Dataset:
    if data.task == "regression":
        raise DataError(f"{root}: an image folder gives class labels, not numbers; set data.task to 'classification' or 'auto'")
    size = data.image_size
    mode = "L" if data.color_mode == "grayscale" else "RGB"
    notes: list[str] = []
    folders = _class_folders(root)
    if not folders:
        files = [p.name for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
        tables = [f for f in files if Path(f).suffix.lower() in (".csv", ".tsv", ".txt", ".npz", ".npy")]
        images = [f for f in files if Path(f).suffix.lower() in IMAGE_SUFFIXES]
        if not files:
            found = "it is empty"
        elif tables:
            found = f"it holds data files ({', '.join(sorted(tables)[:5])}); to load one, give its path, not the folder"
        elif images:
            found = f"it holds {len(images)} images but no class subfolders; sort them into one subfolder per class"
        else:
            found = f"it holds no class subfolders ({len(files)} other files)"
        raise DataError(f"{root} is a folder, but not an image dataset: {found}.\n{LAYOUT_HELP}")

    jobs: list[tuple[str, int]] = []  # (file path, class index); strings: 60,000 Path objects cost seconds
    other_files: list[str] = []
    names: list[str] = []
    empty_classes: list[str] = []
    for folder in folders:
        with os.scandir(folder) as entries:  # scandir knows files from folders without a stat per file
            files = sorted(e.name for e in entries if e.is_file() and not e.name.startswith("."))
        imgs = [f for f in files if os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES]
        other_files += [f for f in files
                        if os.path.splitext(f)[1].lower() not in IMAGE_SUFFIXES and f.lower() not in IGNORED_NAMES]
        if not imgs:
            nested = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
            empty_classes.append(folder.name + (" (it has subfolders)" if nested else ""))
            continue
        base = os.path.join(str(folder), "")
        jobs += [(base + f, len(names)) for f in imgs]
        names.append(folder.name)
    if not jobs:
        nested_hint = ""
        if any("subfolders" in e for e in empty_classes):
            nested_hint = (" Its subfolders hold further folders - if this is e.g. train/ and test/, "
                           "point at one of them (the folder whose subfolders are the classes).")
        raise DataError(f"{root}: no images found in its subfolders ({', '.join(empty_classes)}).{nested_hint}\n{LAYOUT_HELP}")

    if progress is not None:
        progress.restart("images")
    pixels, failed = _decode_all([p for p, _ in jobs], size, mode, progress)
    labels = np.array([c for i, (_, c) in enumerate(jobs) if i not in failed], dtype=np.int64)
    skipped = [f"{Path(jobs[i][0]).relative_to(root)}: {why}" for i, why in sorted(failed.items())]
    if skipped:
        listed = "; ".join(skipped[:MAX_LISTED_SKIPS]) + (f"; and {len(skipped) - MAX_LISTED_SKIPS} more" if len(skipped) > MAX_LISTED_SKIPS else "")
        notes.append(f"skipped {len(skipped)} unreadable file{'s' if len(skipped) > 1 else ''}: {listed}")
    if empty_classes:
        notes.append(f"left out folder{'s' if len(empty_classes) > 1 else ''} with no images: {', '.join(empty_classes)}")
    if other_files:
        exts = sorted({Path(f).suffix.lower() or f for f in other_files})
        notes.append(f"ignored {len(other_files)} files that are not images ({', '.join(exts[:5])})")

    counts = np.bincount(labels, minlength=len(names)) if len(labels) else np.zeros(len(names), int)
    lost = [names[i] for i in range(len(names)) if counts[i] == 0]
    if lost:
        notes.append(f"left out class{'es' if len(lost) > 1 else ''} with no readable images: {', '.join(lost)}")
        remap = np.cumsum(counts > 0) - 1
        labels = remap[labels]
        names = [n for i, n in enumerate(names) if counts[i] > 0]
        counts = counts[counts > 0]
    if len(names) < 2:
        if not names:
            raise DataError(f"{root}: none of the images could be read ({len(skipped)} files failed: {'; '.join(skipped[:3])})")
        raise DataError(
            f"{root}: only one class ('{names[0]}') has images; a classifier needs at least two class "
            f"subfolders with images.\n{LAYOUT_HELP}"
        )
    X = pixels * np.float32(1.0 / 255.0)  # float32 in one pass
    notes.append(f"{len(X)} images resized to {size}x{size}, {'grayscale' if mode == 'L' else 'RGB'}, pixels scaled to [0, 1]")
    meta = DatasetMeta(
        source=source or str(root),
        kind="image",
        task="classification",
        class_names=names,
        feature_names=[],
        input_shape=tuple(int(s) for s in X.shape[1:]),
        target_name="class",
        target_width=len(names),
        n_samples=int(len(X)),
        notes=notes,
        class_counts=[int(c) for c in counts],
    )
    return Dataset(X=np.ascontiguousarray(X), y=labels, meta=meta)

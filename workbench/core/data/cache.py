"""The prepared-data cache: a loaded table's or image folder's arrays kept on disk, so a file is
parsed once and the app, its training processes and every sweep worker load the arrays
(memory-mapped) instead of reading the file again.

Key: a hash of the source (its content for a file: SHA-1 of the bytes; for an image folder the
names, sizes and modification times of its files), the data settings that change loading
(target, task, missing, image size, colour mode) and CACHE_FORMAT (bumped when loading changes).
Splitting and standardising are not in the key: they are cheap and done on the cached arrays.

Entry: a folder <cache>/<key>/ holding X.npy, y.npy and meta.json (the DatasetMeta, notes and
preview rows). Arrays load with np.load(mmap_mode="r", allow_pickle=False).

Location: $WORKBENCH_DATA_CACHE (a folder; "off" turns the cache off), else
<user data folder>/cache/data (workbench.core.locations).
Size: at most $WORKBENCH_DATA_CACHE_MB megabytes (default 4096); after each write the least
recently used entries go until the rest fits.
Concurrency: an entry is written into a temporary folder and renamed into place, so a reader
never sees half an entry and of two processes writing the same entry one gives way; an entry
that vanishes (evicted by another process) or does not read back is a miss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .types import ColumnInfo, Dataset, DatasetMeta

CACHE_ENV = "WORKBENCH_DATA_CACHE"
CACHE_MB_ENV = "WORKBENCH_DATA_CACHE_MB"
DEFAULT_CACHE_MB = 4096
CACHE_FORMAT = 2  # 2: named id columns with a few repeated values are left out (identifiers.py)
LOAD_FIELDS = ("target", "task", "missing", "image_size", "color_mode")
HASH_CHUNK = 8 << 20


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return None if env.strip().lower() in ("off", "0", "none", "false") else Path(env).expanduser()
    from workbench.core.locations import user_data_dir

    return user_data_dir() / "cache" / "data"


def _limit_bytes() -> int:
    try:
        return int(float(os.environ.get(CACHE_MB_ENV, DEFAULT_CACHE_MB)) * (1 << 20))
    except ValueError:
        return DEFAULT_CACHE_MB << 20


def file_digest(path: Path) -> str:
    """SHA-1 of a file's bytes (a cache key, not a security check)."""
    h = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def folder_digest(root: Path) -> str:
    """A hash of an image folder's listing: every file's path, size and modification time (an
    image edited in place changes its time; reading 60,000 images to hash them would cost what
    the cache saves)."""
    h = hashlib.sha1(usedforsecurity=False)

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            if entry.is_dir():
                walk(entry.path, f"{prefix}{entry.name}/")
            else:
                st = entry.stat()
                h.update(f"{prefix}{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))

    walk(str(root), "")
    return h.hexdigest()


def cache_key(source_digest: str, source: str, data) -> str:
    settings = {f: getattr(data, f, None) for f in LOAD_FIELDS}
    text = json.dumps({"format": CACHE_FORMAT, "digest": source_digest, "source": source, "settings": settings},
                      sort_keys=True)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _meta_to_json(ds: Dataset) -> str:
    meta = dataclasses.asdict(ds.meta)
    meta.pop("target_scaler", None)  # fitted later, by prepare()
    return json.dumps({"meta": meta, "preview_columns": ds.preview_columns, "preview_rows": ds.preview_rows})


def _meta_from_json(text: str) -> tuple[DatasetMeta, list[str], list[list[str]]]:
    raw = json.loads(text)
    meta = dict(raw["meta"])
    meta["input_shape"] = tuple(meta["input_shape"])
    meta["columns"] = [ColumnInfo(**{**c, "features": tuple(c["features"])}) for c in meta.get("columns", [])]
    return DatasetMeta(**meta), raw["preview_columns"], raw["preview_rows"]


def read_entry(folder: Path) -> Dataset | None:
    """The cached Dataset in `folder` (arrays memory-mapped), or None if it is absent or broken."""
    try:
        meta, columns, rows = _meta_from_json((folder / "meta.json").read_text(encoding="utf-8"))
        X = np.load(folder / "X.npy", mmap_mode="r", allow_pickle=False)
        y = np.load(folder / "y.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if X.shape[0] != meta.n_samples or y.shape[0] != meta.n_samples or tuple(X.shape[1:]) != meta.input_shape:
        return None
    try:
        os.utime(folder)  # recently used: evicted last
    except OSError:
        pass
    return Dataset(X=X, y=y, meta=meta, preview_columns=columns, preview_rows=rows, cache_path=str(folder))


def write_entry(root: Path, key: str, ds: Dataset) -> Path | None:
    """Write `ds` as entry `key` (atomically); None when the cache cannot be written (full disk,
    read-only folder): the load still succeeds, it is only not cached."""
    final = root / key
    tmp = root / f".tmp-{key}-{uuid.uuid4().hex}"
    try:
        tmp.mkdir(parents=True)
        np.save(tmp / "X.npy", np.ascontiguousarray(ds.X), allow_pickle=False)
        np.save(tmp / "y.npy", np.ascontiguousarray(ds.y), allow_pickle=False)
        (tmp / "meta.json").write_text(_meta_to_json(ds), encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError:  # another process wrote the same entry first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    evict(root, keep=final)
    return final


def _entry_size(folder: Path) -> int:
    try:
        return sum(f.stat().st_size for f in folder.iterdir())
    except OSError:
        return 0


def evict(root: Path, keep: Path | None = None, limit: int | None = None) -> None:
    """Remove least recently used entries until the cache fits its size limit."""
    limit = _limit_bytes() if limit is None else limit
    try:
        entries = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return
    sized = []
    for p in entries:
        try:
            sized.append((p.stat().st_mtime, p, _entry_size(p)))
        except OSError:
            continue
    total = sum(size for _, _, size in sized)
    for _, p, size in sorted(sized, key=lambda e: e[0]):
        if total <= limit:
            break
        if keep is not None and p == keep:
            continue
        gone = root / f".del-{uuid.uuid4().hex}"
        try:
            os.rename(p, gone)  # out of sight at once; then deleted
        except OSError:
            continue
        shutil.rmtree(gone, ignore_errors=True)
        total -= size
    _remove_stale_temporaries(root)


def _remove_stale_temporaries(root: Path, age: float = 3600.0) -> None:
    """Temporary folders left by a process that died while writing."""
    now = time.time()
    for p in root.glob(".*"):
        try:
            if p.is_dir() and now - p.stat().st_mtime > age:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def cached_load(digest: Callable[[], str], source: str, data, load: Callable[[], Dataset]) -> Dataset:
    """`load()`'s Dataset through the cache: from the entry when there is one, else loaded, written
    and read back memory-mapped (so the caller holds the page cache, not a second copy)."""
    root = cache_dir()
    if root is None:
        return load()
    try:
        key = cache_key(digest(), source, data)
    except OSError:
        return load()
    hit = read_entry(root / key)
    if hit is not None:
        hit.cache_hit = True
        return hit
    ds = load()
    written = write_entry(root, key, ds)
    if written is not None:
        back = read_entry(written)
        if back is not None:
            return back
    return ds


def describe_cache() -> dict[str, Any]:
    """Where the cache is, how many entries and bytes it holds (for `workbench data`)."""
    root = cache_dir()
    if root is None or not root.is_dir():
        return {"path": str(root) if root else None, "entries": 0, "bytes": 0, "limit_bytes": _limit_bytes()}
    entries = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {"path": str(root), "entries": len(entries), "bytes": sum(_entry_size(p) for p in entries),
            "limit_bytes": _limit_bytes()}

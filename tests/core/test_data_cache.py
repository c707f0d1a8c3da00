"""The prepared-data cache: a file is parsed once; later loads (other processes too) memory-map
the arrays; the key follows the file's content and the loading settings; the cache stays within
its size, survives concurrent writers and broken entries, and never unpickles."""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
import pytest

from workbench.core.data import cache, load_dataset, tabular
from workbench.core.data import images as images_module
from workbench.core.spec import DataSpec


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_DATA_CACHE", str(root))
    return root


def _csv(path: Path, n: int = 200, seed: int = 0) -> Path:
    g = np.random.default_rng(seed)
    rows = [f"{a:.4f},{b:.4f},{c}" for a, b, c in zip(g.normal(size=n), g.normal(size=n), g.choice(["x", "y"], n))]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    return path


def _count_reads(monkeypatch) -> list[Path]:
    reads: list[Path] = []
    real = tabular.read_fast

    def counting(path, *a, **k):
        reads.append(path)
        return real(path, *a, **k)

    monkeypatch.setattr(tabular, "read_fast", counting)
    return reads


def _entries(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")] if root.exists() else []


def test_second_load_comes_from_the_cache_memory_mapped(tmp_path, cache_root, monkeypatch):
    path = _csv(tmp_path / "t.csv")
    reads = _count_reads(monkeypatch)
    first = load_dataset(DataSpec(source=str(path)))
    second = load_dataset(DataSpec(source=str(path)))
    assert len(reads) == 1  # parsed once
    assert isinstance(second.X, np.memmap) and second.cache_path
    assert np.array_equal(first.X, second.X) and np.array_equal(first.y, second.y)
    assert first.meta == second.meta and second.preview_rows == first.preview_rows
    assert len(_entries(cache_root)) == 1


def test_key_follows_content_and_loading_settings(tmp_path, cache_root, monkeypatch):
    path = _csv(tmp_path / "t.csv")
    reads = _count_reads(monkeypatch)
    load_dataset(DataSpec(source=str(path)))
    load_dataset(DataSpec(source=str(path), target="a"))  # another target: another entry
    load_dataset(DataSpec(source=str(path), split={"val": 0.3, "test": 0.1}))  # splitting is not in the key
    assert len(reads) == 2
    _csv(path, seed=1)  # new content under the same name
    changed = load_dataset(DataSpec(source=str(path)))
    assert len(reads) == 3 and changed.meta.n_samples == 200
    assert len(_entries(cache_root)) == 3


def test_cache_off_and_unwritable_cache_still_load(tmp_path, monkeypatch):
    path = _csv(tmp_path / "t.csv")
    monkeypatch.setenv("WORKBENCH_DATA_CACHE", "off")
    assert load_dataset(DataSpec(source=str(path))).cache_path == ""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("WORKBENCH_DATA_CACHE", str(blocker / "cache"))
    ds = load_dataset(DataSpec(source=str(path)))
    assert ds.cache_path == "" and ds.meta.n_samples == 200


def test_broken_entries_are_misses(tmp_path, cache_root, monkeypatch):
    path = _csv(tmp_path / "t.csv")
    load_dataset(DataSpec(source=str(path)))
    (entry,) = _entries(cache_root)
    (entry / "X.npy").write_bytes(b"\x93NUMPY truncated")
    reads = _count_reads(monkeypatch)
    ds = load_dataset(DataSpec(source=str(path)))
    assert len(reads) == 1 and ds.meta.n_samples == 200
    # an entry holding pickled objects is never unpickled (np.load allow_pickle=False)
    np.save(entry / "X.npy", np.array([{"evil": 1}] * 200, dtype=object), allow_pickle=True)
    assert cache.read_entry(entry) is None


def test_cache_stays_within_its_size_least_recently_used_first(tmp_path, cache_root, monkeypatch):
    paths = [_csv(tmp_path / f"t{i}.csv", seed=i) for i in range(3)]
    load_dataset(DataSpec(source=str(paths[0])))
    (entry0,) = _entries(cache_root)
    size = cache._entry_size(entry0)
    monkeypatch.setenv("WORKBENCH_DATA_CACHE_MB", str(2.5 * size / (1 << 20)))  # room for two entries
    load_dataset(DataSpec(source=str(paths[1])))
    os.utime(entry0, (1, 1))  # the first is the least recently used
    load_dataset(DataSpec(source=str(paths[2])))
    kept = _entries(cache_root)
    assert len(kept) == 2 and entry0 not in kept


def test_a_second_writer_of_the_same_entry_gives_way(tmp_path, cache_root):
    ds = load_dataset(DataSpec(source=str(_csv(tmp_path / "t.csv"))))
    (entry,) = _entries(cache_root)
    assert cache.write_entry(cache_root, entry.name, ds) == entry  # the rename fails; theirs stays
    assert len(_entries(cache_root)) == 1 and not list(cache_root.glob(".tmp-*"))


def _load_in_child(source: str, cache_dir: str, queue) -> None:
    os.environ["WORKBENCH_DATA_CACHE"] = cache_dir
    ds = load_dataset(DataSpec(source=source))
    queue.put((ds.meta.n_samples, float(np.asarray(ds.X).sum())))


def test_processes_loading_at_once_agree_and_leave_one_entry(tmp_path, cache_root):
    path = _csv(tmp_path / "t.csv", n=3000)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_load_in_child, args=(str(path), str(cache_root), queue)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert len(set(results)) == 1 and results[0][0] == 3000
    assert len(_entries(cache_root)) == 1 and not list(cache_root.glob(".tmp-*"))


def _image_folder(root: Path, n_per_class: int = 12) -> Path:
    from PIL import Image

    g = np.random.default_rng(0)
    for c in ("a", "b", "c"):
        (root / c).mkdir(parents=True)
        for i in range(n_per_class):
            Image.fromarray(g.integers(0, 255, (10, 10), dtype=np.uint8), "L").save(root / c / f"{i:03d}.png")
    (root / "b" / "broken.png").write_bytes(b"not an image")
    return root


def test_image_folders_decode_in_processes_like_in_one_and_are_cached(tmp_path, cache_root, monkeypatch):
    root = _image_folder(tmp_path / "imgs")
    monkeypatch.setenv("WORKBENCH_DATA_CACHE", "off")
    serial = load_dataset(DataSpec(source=str(root), image_size=8))
    monkeypatch.setattr(images_module, "PROCESS_MIN_FILES", 4)
    monkeypatch.setattr(images_module, "CHUNK_FILES", 5)
    seen = []
    parallel = load_dataset(DataSpec(source=str(root), image_size=8), on_progress=seen.append)
    assert np.array_equal(serial.X, parallel.X) and np.array_equal(serial.y, parallel.y)
    assert serial.meta == parallel.meta and "skipped 1 unreadable file: b/broken.png" in " ".join(parallel.meta.notes)
    assert seen and seen[-1].unit == "images" and seen[-1].done == 37

    monkeypatch.setenv("WORKBENCH_DATA_CACHE", str(cache_root))
    load_dataset(DataSpec(source=str(root), image_size=8))
    again = load_dataset(DataSpec(source=str(root), image_size=8))
    assert again.cache_path and np.array_equal(again.X, serial.X)
    (root / "c" / "000.png").unlink()  # the listing changed: a new entry
    fewer = load_dataset(DataSpec(source=str(root), image_size=8))
    assert fewer.meta.n_samples == serial.meta.n_samples - 1


def test_a_training_child_reads_the_cache_instead_of_the_file(tmp_path, cache_root):
    """The app loads a file, then trains it in a child process: the child memory-maps the cached
    arrays and never parses the file (the entry's class names, changed here, are the run's)."""
    from workbench.core.execution import ProcessRun
    from workbench.core.spec import parse_spec
    from workbench.core.training import RunFinished, RunStarted, TerminalEvent

    path = _csv(tmp_path / "t.csv", n=300)
    load_dataset(DataSpec(source=str(path)))  # what the app does when the file is opened
    (entry,) = _entries(cache_root)
    meta = (entry / "meta.json").read_text()
    (entry / "meta.json").write_text(meta.replace('"class_names": ["x", "y"]', '"class_names": ["cached x", "cached y"]'))
    spec = parse_spec({"name": "t", "data": {"source": str(path)}, "loss": {"type": "CrossEntropyLoss"},
                       "model": {"layers": [{"type": "Linear", "out_features": "auto"}]},
                       "train": {"epochs": 1, "device": "cpu", "checkpoint": False}})
    run = ProcessRun(spec, store_path=tmp_path / "runs.db", threads=1)  # the child inherits WORKBENCH_DATA_CACHE
    run.start()
    events = []
    while not events or not isinstance(events[-1], TerminalEvent):
        events += run.events(timeout=1.0)
    run.close()
    assert isinstance(events[-1], RunFinished), events[-1]
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.class_names == ["cached x", "cached y"]  # what the entry says, not the file
    assert _entries(cache_root) == [entry]

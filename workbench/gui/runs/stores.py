"""One run-store connection per thread: the history's background reads, a branch being
prepared and the GUI thread's last writes at close never queue behind each other's lock."""

from __future__ import annotations

import threading


class ThreadStores:
    """`get()` is the calling thread's RunStore (opened on first use). `close()` closes the
    calling thread's store and those of threads that have ended, and forgets the rest: a thread
    still reading keeps its connection until it ends (never waited for)."""

    def __init__(self, path: str | None):
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list = []

    def get(self):
        store = getattr(self._local, "store", None)
        if store is None:
            from workbench.core.runs import RunStore

            store = self._local.store = RunStore(self.path)
            with self._lock:
                self._open.append((threading.current_thread(), store))
        return store

    def close(self) -> None:
        with self._lock:
            stores, self._open = self._open, []
        me = threading.current_thread()
        for thread, store in stores:
            if thread is me or not thread.is_alive():
                try:
                    store.close()
                except Exception:
                    pass
        self._local = threading.local()

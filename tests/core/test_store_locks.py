"""The run store survives another part of its own process opening and closing its files.

POSIX advisory locks belong to the process and are all dropped when ANY descriptor on the file
is closed (https://www.sqlite.org/howtocorrupt.html, 2.2). A Qt file dialog showing the store's
folder reads runs.db, runs.db-wal and runs.db-shm to guess their types; another process that
then closed its connection believed itself the last one, checkpointed and deleted the WAL, and
this process went on writing into the deleted file: its runs vanished for everyone else.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from test_runs import CHILD_SPEC, SPEC, _child_env

from workbench.core.runs import RunStore
from workbench.core.spec import parse_spec


def _open_and_close_store_files(folder) -> None:
    """What a file dialog's content sniffing does in the app's process."""
    for name in ("runs.db", "runs.db-wal", "runs.db-shm"):
        (folder / name).read_bytes()


def _child(path, script: str) -> str:
    code = CHILD_SPEC + f"from workbench.core.runs import RunStore\nstore = RunStore({str(path)!r})\n"
    code += textwrap.dedent(script) + "\nstore.close()\n"
    done = subprocess.run([sys.executable, "-c", code], env=_child_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_runs_written_after_the_locks_were_lost_are_seen_by_everyone(tmp_path):
    spec = parse_spec(SPEC)
    path = tmp_path / "runs.db"
    app = RunStore(path)
    first = app.create_run(spec, name="first")
    _open_and_close_store_files(tmp_path)
    _child(path, f"store.rename({first}, 'renamed by the CLI')")  # its close used to delete the WAL

    for i in range(5):
        app.create_run(spec, name=f"app {i}")
    seen_by_cli = _child(path, "print(store.count_runs()); store.create_run(SPEC, name='cli')")
    assert seen_by_cli.strip() == "6", "another process must see every run this one recorded"
    assert {r.name for r in app.list_runs()} >= {"renamed by the CLI", "cli", "app 4"}
    app.close()

    with RunStore(path) as fresh:
        assert fresh.count_runs() == 7
        assert fresh.query("PRAGMA integrity_check")[0][0] == "ok"

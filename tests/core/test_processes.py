"""Process liveness (the one check used by the run store and the sweep study), and failing the
trials a killed sweep process left running."""

from __future__ import annotations

import os
import subprocess
import sys

import optuna
from optuna.trial import TrialState

from workbench.core.processes import HOST, proc_start_token, process_alive
from workbench.core.sweep import fail_interrupted_trials


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_missing_zero_and_dead_pids_are_not_alive():
    # os.kill(-1, 0) and os.kill(0, 0) succeed (they signal a whole group), so a naive check
    # would call a missing pid alive and never fail its trial
    assert process_alive(-1, "") is False
    assert process_alive(0, "") is False
    assert process_alive(dead_pid(), "") is False
    me = os.getpid()
    assert process_alive(me, proc_start_token(me)) is True
    assert process_alive(me, "1") is False  # the same pid, started at another time: recycled


def test_interrupted_trials_of_this_host_are_failed_whatever_their_pid():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    attrs = {
        "missing pid": {"host": HOST},
        "pid -1": {"host": HOST, "pid": -1},
        "dead pid": {"host": HOST, "pid": dead_pid()},
        "alive": {"host": HOST, "pid": os.getpid(), "pid_token": proc_start_token(os.getpid())},
        "other host": {"host": HOST + "-elsewhere", "pid": dead_pid()},
    }
    trials = {}
    for name, values in attrs.items():
        trial = study.ask()
        for key, value in values.items():
            trial.set_user_attr(key, value)
        trials[name] = trial.number
    assert fail_interrupted_trials(study) == 3
    state = {name: study.trials[number].state for name, number in trials.items()}
    assert state == {"missing pid": TrialState.FAIL, "pid -1": TrialState.FAIL, "dead pid": TrialState.FAIL,
                     "alive": TrialState.RUNNING, "other host": TrialState.RUNNING}
    assert study.trials[trials["pid -1"]].user_attrs["error"] == "interrupted: the sweep process ended"

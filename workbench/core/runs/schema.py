"""The run store's SQLite schema, versioned with `PRAGMA user_version`: `MIGRATIONS[n]` brings a
database from version n-1 to n (inside one transaction), so an older file is upgraded in place."""

from __future__ import annotations

import sqlite3

__all__ = ["SCHEMA_VERSION", "MIGRATIONS"]

SCHEMA_VERSION = 2


def _execute_script(db: sqlite3.Connection, script: str) -> None:
    """Statement by statement: executescript() would COMMIT the migration's transaction."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_to_1(db: sqlite3.Connection) -> None:
    _execute_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS runs (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            name            TEXT NOT NULL,
            created         REAL NOT NULL,
            status          TEXT NOT NULL,
            spec_json       TEXT NOT NULL,
            dataset         TEXT,
            task            TEXT,
            model_summary   TEXT,
            optimizer       TEXT,
            lr              REAL,
            device          TEXT,
            duration        REAL,
            epochs_done     INTEGER NOT NULL DEFAULT 0,
            metrics_json    TEXT,
            best_val        REAL,
            best_val_metric TEXT,
            best_epoch      INTEGER,
            message         TEXT,
            parent_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
            sweep_id,
            tags            TEXT,
            notes           TEXT,
            pid             INTEGER,
            pid_token       TEXT,
            host            TEXT,
            run_dir         TEXT,
            total_params    INTEGER,
            finished        REAL
        );
        CREATE INDEX IF NOT EXISTS runs_created ON runs(created DESC, id DESC);
        CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep_id);
        CREATE INDEX IF NOT EXISTS runs_parent ON runs(parent_id);
        CREATE TABLE IF NOT EXISTS epochs (
            run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            epoch   INTEGER NOT NULL,
            logs    TEXT NOT NULL,
            PRIMARY KEY (run_id, epoch)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS events (
            id      INTEGER PRIMARY KEY,
            run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            kind    TEXT NOT NULL,
            epoch   INTEGER,
            step    INTEGER,
            data    TEXT,
            created REAL NOT NULL
        );
        CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
        CREATE TABLE IF NOT EXISTS artifacts (
            id      INTEGER PRIMARY KEY,
            run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            kind    TEXT NOT NULL,
            path    TEXT NOT NULL,
            created REAL NOT NULL
        );
        CREATE INDEX IF NOT EXISTS artifacts_run ON artifacts(run_id);
        CREATE TABLE IF NOT EXISTS sweeps (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            name        TEXT NOT NULL,
            created     REAL NOT NULL,
            config_json TEXT,
            status      TEXT
        );
        """
    )


def _migrate_to_2(db: sqlite3.Connection) -> None:
    # Sweeps live in their Optuna study (sweeps.db or an RDB URL); runs name it in sweep_id.
    # The store's own sweeps table was never written.
    db.execute("DROP TABLE IF EXISTS sweeps")


# MIGRATIONS[n] upgrades a database at version n-1 to version n (run inside one transaction).
MIGRATIONS = {1: _migrate_to_1, 2: _migrate_to_2}

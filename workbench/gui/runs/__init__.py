"""The run history: a table over the run store (sort, filter, rename, tag, notes, delete with
undo), overlays and colour-by, comparison of two runs, seed groups with bands, and branching /
resuming from checkpoints. `RunsPanel` (gui/panels/runs_panel.py) puts the pieces together."""

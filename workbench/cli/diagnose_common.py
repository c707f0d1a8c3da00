"""What `workbench check` and `workbench lr-find` share: the spec arguments (as `train` takes
them) and loading the spec and its data, with bad input as UsageError (exit 2)."""

from __future__ import annotations

import argparse

from workbench.cli.common import UsageError
from workbench.cli.train import load_train_spec


def add_spec_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", help="experiment spec file, or a preset by name (`workbench presets`)")
    p.add_argument("--data", metavar="PATH", help="use this data (a file, folder or sample:NAME) instead")
    p.add_argument("--target", metavar="COL", help="target column of a table")
    p.add_argument("--task", choices=("auto", "classification", "regression"), help="what the target is (data.task)")
    p.add_argument("--missing", choices=("error", "drop", "impute"), help="rows with missing values (data.missing)")
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--seed", metavar="N", type=int, help="random seed (initial weights, batch order)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.set_defaults(epochs=None)


def load_spec_and_data(args: argparse.Namespace):
    """(spec, base_dir, prepared data); UsageError for a bad spec, device or data."""
    from workbench.core.data import DataError, load_dataset, prepare
    from workbench.core.training import DeviceError, select_device

    spec, base_dir = load_train_spec(args)
    try:
        select_device(spec.train.device)
    except DeviceError as exc:
        raise UsageError(f"Device problem (train.device = {spec.train.device!r}): {exc}") from None
    try:
        prepared = prepare(load_dataset(spec.data, base_dir), spec.data)
    except DataError as exc:
        raise UsageError(f"Data problem: {exc}") from None
    except FileNotFoundError as exc:
        raise UsageError(f"Data problem: file not found: {exc.filename or exc}") from None
    return spec, base_dir, prepared

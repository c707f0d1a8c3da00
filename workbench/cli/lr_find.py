"""`workbench lr-find SPEC`: the learning-rate range test (as fastai's lr_find): the LR grows
exponentially from 1e-7 to 10 over ~100 steps of the real model and data; the smoothed loss
against the LR gives the suggestions valley (the default), steepest and minimum / 10. `--json`
prints one object with lrs, losses, suggestion, steepest and minimum; `--save` writes a copy
of the spec with optimizer.lr set to the suggestion."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from workbench.cli.common import EXIT_OK, UsageError, emit_json, err, fmt_num
from workbench.cli.diagnose_common import add_spec_arguments, load_spec_and_data

BARS = " ▁▂▃▄▅▆▇█"


def _curve_text(lrs: list[float], losses: list[float], width: int = 60) -> list[str]:
    """The loss against log LR as one line of bars (low = lower loss), with the LR axis under it."""
    finite = [v for v in losses if math.isfinite(v)]
    if not finite:
        return []
    # from the lowest loss to a little above where it started: the divergence at the end is cut off
    lo, hi = min(finite), max(finite[0], sorted(finite)[len(finite) // 2])
    hi += 0.1 * (hi - lo)
    step = max(1, len(losses) // width)
    cols = []
    for i in range(0, len(losses), step):
        v = losses[i]
        level = 8 if not math.isfinite(v) or hi <= lo else round(8 * (min(v, hi) - lo) / (hi - lo))
        cols.append(BARS[max(1, level)])
    return ["  loss  " + "".join(cols), f"  lr    {fmt_num(lrs[0])}{' ' * max(1, len(cols) - 16)}{fmt_num(lrs[-1])}"]


def _cmd_lr_find(args: argparse.Namespace) -> int:
    from workbench.core.diagnostics import LRFinderError, find_lr
    from workbench.core.spec import SpecError
    from workbench.core.training import ModelError

    spec, base_dir, prepared = load_spec_and_data(args)
    if not args.start_lr > 0 or not args.end_lr > args.start_lr:
        raise UsageError(f"--start-lr must be > 0 and below --end-lr (got {args.start_lr} and {args.end_lr})")
    if args.steps < 10:
        raise UsageError(f"--steps must be at least 10 (got {args.steps})")

    def progress(i, steps, lr, loss):
        if not args.json and sys.stderr.isatty():
            sys.stderr.write(f"\rstep {i}/{steps}  lr {fmt_num(lr)}  loss {fmt_num(loss)}   ")
            sys.stderr.flush()

    try:
        result = find_lr(spec, data=prepared, base_dir=base_dir, start_lr=args.start_lr, end_lr=args.end_lr,
                         steps=args.steps, progress=progress)
    except (LRFinderError, ModelError) as exc:
        raise UsageError(f"Cannot run the LR finder: {exc}") from None
    finally:
        if not args.json and sys.stderr.isatty():
            sys.stderr.write("\n")
    if args.save:
        path = Path(args.save).expanduser()
        try:
            spec.with_value("optimizer.lr", float(f"{result.suggestion:.3g}")).save(path)
        except (SpecError, OSError) as exc:
            raise UsageError(f"Cannot write {path}: {exc}") from None
    if args.json:
        emit_json(result.to_dict())
        return EXIT_OK
    out = sys.stdout
    low, high = result.sweep_range()
    from workbench.core.spec import experiment_name

    name = experiment_name(spec, prepared.meta)
    out.write(f"Learning-rate range test of {name} ({spec.optimizer.type}): {len(result.lrs)} steps"
              f"{', stopped when the loss diverged' if result.stopped_early else ''}\n")
    for line in _curve_text(result.lrs, result.losses):
        out.write(line + "\n")
    out.write(f"  suggestion (valley)  {fmt_num(result.suggestion)}\n")
    out.write(f"  steepest             {fmt_num(result.steepest)}\n")
    out.write(f"  minimum / 10         {fmt_num(result.minimum)}\n")
    if result.current_lr is not None:
        out.write(f"  the spec's lr        {fmt_num(result.current_lr)}\n")
    out.write(f"  a sweep range        {fmt_num(low)} .. {fmt_num(high)} (valley / 10 .. valley × 10)\n")
    if args.save:
        err(f"Wrote {args.save} with optimizer.lr = {result.suggestion:.3g}")
    out.flush()
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add `workbench lr-find` to the command parser."""
    p = sub.add_parser(
        "lr-find", help="learning-rate range test: suggests optimizer.lr",
        description="Sweeps the learning rate exponentially (1e-7 to 10 over 100 steps by default) on the real "
                    "model and data, smooths the loss (β = 0.98) and stops when it exceeds 4× its best. Suggests "
                    "the valley (default), the steepest descent and the minimum / 10. The weights are not kept.",
    )
    add_spec_arguments(p)
    p.add_argument("--start-lr", type=float, default=1e-7, metavar="LR", help="first learning rate (1e-7)")
    p.add_argument("--end-lr", type=float, default=10.0, metavar="LR", help="last learning rate (10)")
    p.add_argument("--steps", type=int, default=100, metavar="N", help="steps of the sweep (100)")
    p.add_argument("--save", metavar="SPEC_OUT", help="write a copy of the spec with optimizer.lr = the suggestion")
    p.set_defaults(func=_cmd_lr_find)

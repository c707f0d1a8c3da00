"""`workbench presets`: the built-in experiments, one per sample, that `workbench train NAME` runs."""

from __future__ import annotations

import argparse
import json
import sys

from workbench.cli.common import EXIT_OK, emit_json
from workbench.core.locations import preset_names, preset_path


def _describe(name: str) -> dict:
    raw = json.loads(preset_path(name).read_text(encoding="utf-8"))
    layers = [layer.get("type", "?") for layer in raw.get("model", {}).get("layers", [])]
    return {"name": name, "path": str(preset_path(name)), "data": raw.get("data", {}).get("source", ""),
            "model": " ".join(layers), "epochs": raw.get("train", {}).get("epochs")}


def _cmd_presets(args: argparse.Namespace) -> int:
    rows = [_describe(name) for name in preset_names()]
    if args.json:
        emit_json({"presets": rows})
        return EXIT_OK
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        sys.stdout.write(f"{r['name']:<{width}}  {r['data']:<16} {r['epochs']:>4} epochs  {r['model']}\n")
    sys.stdout.write("\nTrain one with `workbench train NAME` (for example `workbench train spiral`).\n")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the built-in presets (`workbench train NAME` runs one)",
                       description="The built-in experiments, one per sample data set.")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_presets)

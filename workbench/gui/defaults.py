"""The experiment a fresh window starts with: the spiral sample and a small MLP that learns it.

resources/presets/spiral.json wins when present; the built-in copy below keeps the first
launch working without it. It has no name: until the person names the experiment, runs are
named after their data and model ("digits · MLP 128-10"), not after the preset.
"""

from __future__ import annotations

from workbench.core.spec import ExperimentSpec, SpecError, load_spec, parse_spec
from workbench.gui.theme import resource_path

BUILTIN = {
    "name": "",
    "data": {"source": "sample:spiral"},
    "model": {
        "layers": [
            {"type": "Linear", "out_features": 32},
            {"type": "Tanh"},
            {"type": "Linear", "out_features": 32},
            {"type": "Tanh"},
            {"type": "Linear", "out_features": "auto"},
        ]
    },
    "loss": {"type": "CrossEntropyLoss"},
    "optimizer": {"type": "Adam", "lr": 0.01},
    "train": {"epochs": 100, "batch_size": 32},
}


def default_spec() -> ExperimentSpec:
    preset = resource_path("presets", "spiral.json")
    if preset.exists():
        try:
            return load_spec(preset).with_values({"name": ""})
        except SpecError:
            pass  # a broken preset must not stop the app from opening
    return parse_spec(BUILTIN)

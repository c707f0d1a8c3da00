"""The palettes, the spec and the data loaders import without torch.

`import torch` takes seconds; the app shows its window (spec validated against the catalog,
spiral sample loaded) before torch is imported, in a background thread. A module-level
`import torch` creeping back into these modules would slow every start by that much.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys

    import workbench.core.catalog, workbench.core.spec, workbench.core.data
    from workbench.core import catalog
    from workbench.core.data import SAMPLES, load_dataset
    from workbench.core.spec import SpecError, parse_spec

    spec = parse_spec({
        "data": {"source": "sample:spiral"},
        "model": {"layers": [{"type": "Linear", "out_features": 32}, {"type": "Tanh"},
                             {"type": "Residual", "layers": [{"type": "Linear", "out_features": 32}]},
                             {"type": "Linear", "out_features": "auto"}]},
        "loss": {"type": "CrossEntropyLoss", "weight": "balanced"},
        "optimizer": {"type": "Adam", "lr": 0.01},
        "schedule": {"type": "OneCycleLR", "max_lr": 0.1},
        "train": {"epochs": 3, "batch_size": 32},
    })
    try:  # validation against the catalog works without torch too
        parse_spec({"data": {"source": "sample:spiral"}, "model": {"layers": [{"type": "Linear", "bias": 3}]}})
    except SpecError as err:
        assert err.problems, err
    else:
        raise AssertionError("a bad parameter was accepted")
    assert len(catalog.entries("layer")) > 10 and catalog.get_entry("optimizer", "SGD").params
    assert [e.name for e in catalog.losses_for_task("regression")]
    ds = load_dataset(spec.data)
    assert ds.meta.source == "sample:spiral" and ds.meta.n_samples > 0 and ds.X.shape[1] == 2
    assert "spiral" in SAMPLES
    loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
    assert not loaded, loaded
    print("OK")
    """
)


def _run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_catalog_spec_and_data_import_without_torch():
    result = _run(SCRIPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


def test_training_events_and_control_import_without_torch_and_the_rest_loads_on_use():
    result = _run(textwrap.dedent(
        """
        import sys
        from workbench.core.training import EpochEnd, RunStarted, TrainControl, Callback
        from workbench.core.runs import RunRecorder, RunStore
        assert "torch" not in sys.modules, "events, control and the run store must not import torch"
        from workbench.core.training import build_model, train
        import torch
        from workbench.core.catalog.layer_modules import Residual, LSTMLastStep
        assert issubclass(Residual, torch.nn.Module) and issubclass(LSTMLastStep, torch.nn.Module)
        import workbench.core.training as training
        try:
            training.NoSuchThing
        except AttributeError:
            pass
        else:
            raise AssertionError("unknown names must raise AttributeError")
        print("OK")
        """
    ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"

"""Qt-free engine: spec, catalog, data, model, trainer, run store, sweeps."""

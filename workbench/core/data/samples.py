"""Built-in datasets: `sample:<name>`.

circle, xor, gauss, spiral reproduce TensorFlow Playground's generators (src/dataset.ts):
same shapes, same noise semantics (Playground's "noise" slider 0-50 % is data.noise 0-0.5),
labels -1/+1 become classes "0"/"1" (class 0 = Playground's orange -1, class 1 = blue +1).
moons follows scikit-learn's make_moons; sine and linear are 1-feature regressions.
They are generated on the fly, seeded by data.seed, so data.noise and data.n_samples apply.
iris, digits and shapes are files in sample_data/ (see sample_data/README.md).
"""

from __future__ import annotations

from workbench.core.locations import sample_data_dir

import math

import numpy as np

from .types import DataError, Dataset, DatasetMeta, SampleInfo

PLAYGROUND_N = 500


SAMPLES: dict[str, SampleInfo] = {
    s.name: s
    for s in [
        SampleInfo("circle", "Circle", "Two classes: a disc inside a ring (TensorFlow Playground). 2 features.",
                   "tabular", "classification", 0.0, PLAYGROUND_N, synthetic=True),
        SampleInfo("xor", "Exclusive or", "Two classes by the sign of x1*x2, four quadrants (TensorFlow Playground). 2 features.",
                   "tabular", "classification", 0.0, PLAYGROUND_N, synthetic=True),
        SampleInfo("gauss", "Two Gaussians", "Two classes: Gaussian blobs around (2, 2) and (-2, -2) (TensorFlow Playground). 2 features.",
                   "tabular", "classification", 0.0, PLAYGROUND_N, synthetic=True),
        SampleInfo("spiral", "Spiral", "Two classes on interleaved spirals (TensorFlow Playground). 2 features; needs a few hidden layers.",
                   "tabular", "classification", 0.0, PLAYGROUND_N, synthetic=True),
        SampleInfo("moons", "Two moons", "Two classes on interleaving half circles (scikit-learn's make_moons). 2 features.",
                   "tabular", "classification", 0.1, PLAYGROUND_N, synthetic=True),
        SampleInfo("sine", "Noisy sine", "Regression: y = sin(x) + noise for x in [-2pi, 2pi]. 1 feature.",
                   "tabular", "regression", 0.1, PLAYGROUND_N, synthetic=True),
        SampleInfo("linear", "Linear", "Regression: y = 2x + noise for x in [-1, 1]. 1 feature.",
                   "tabular", "regression", 0.2, 200, synthetic=True),
        SampleInfo("iris", "Iris", "Fisher's iris flowers: 150 rows, 4 measurements (cm), 3 species.",
                   "tabular", "classification", None, 150),
        SampleInfo("digits", "Digits 8x8", "Handwriting-like digits 0-9 as 8x8 grids of values 0-16 (64 features), "
                   "in the UCI optdigits format; generated, see sample_data/README.md.",
                   "tabular", "classification", None, 1800),
        SampleInfo("shapes", "Shapes", "28x28 grayscale images of circles, squares, triangles and crosses "
                   "(an image folder, one subfolder per class).",
                   "image", "classification", None, 480),
    ]
}


# ---- Playground generators (faithful to tensorflow/playground src/dataset.ts) -------------------
def _uniform(rng: np.random.Generator, a: float, b: float, n: int) -> np.ndarray:
    return rng.random(n) * (b - a) + a


def _circle(n: int, noise: float, rng: np.random.Generator):
    radius = 5.0
    parts = []
    for count, (r_lo, r_hi) in ((n // 2, (0.0, radius * 0.5)), (n - n // 2, (radius * 0.7, radius))):
        r = _uniform(rng, r_lo, r_hi, count)
        angle = _uniform(rng, 0, 2 * math.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        nx = _uniform(rng, -radius, radius, count) * noise
        ny = _uniform(rng, -radius, radius, count) * noise
        label = np.where(np.hypot(x + nx, y + ny) < radius * 0.5, 1, -1)
        parts.append((x, y, label))
    return parts


def _xor(n: int, noise: float, rng: np.random.Generator):
    padding = 0.3
    x = _uniform(rng, -5, 5, n)
    x += np.where(x > 0, padding, -padding)
    y = _uniform(rng, -5, 5, n)
    y += np.where(y > 0, padding, -padding)
    nx = _uniform(rng, -5, 5, n) * noise
    ny = _uniform(rng, -5, 5, n) * noise
    label = np.where((x + nx) * (y + ny) >= 0, 1, -1)
    return [(x, y, label)]


def _normal_random(rng: np.random.Generator, mean: float, variance: float, n: int) -> np.ndarray:
    """Marsaglia's polar method, as Playground's normalRandom (variance, not std)."""
    out = np.empty(0)
    while len(out) < n:
        v1 = 2 * rng.random(2 * n) - 1
        v2 = 2 * rng.random(2 * n) - 1
        s = v1 * v1 + v2 * v2
        ok = (s < 1) & (s > 0)  # s == 0 would divide by zero (Playground ignores this case)
        out = np.concatenate([out, np.sqrt(-2 * np.log(s[ok]) / s[ok]) * v1[ok]])
    return mean + math.sqrt(variance) * out[:n]


def _gauss(n: int, noise: float, rng: np.random.Generator):
    variance = 0.5 + (4 - 0.5) * noise / 0.5  # d3 linear scale [0, .5] -> [0.5, 4] (not clamped)
    parts = []
    for count, (c, label) in ((n // 2, (2.0, 1)), (n - n // 2, (-2.0, -1))):
        x = _normal_random(rng, c, variance, count)
        y = _normal_random(rng, c, variance, count)
        parts.append((x, y, np.full(count, label)))
    return parts


def _spiral(n: int, noise: float, rng: np.random.Generator):
    parts = []
    for count, (delta, label) in ((n // 2, (0.0, 1)), (n - n // 2, (math.pi, -1))):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * math.pi + delta
        x = r * np.sin(t) + _uniform(rng, -1, 1, count) * noise
        y = r * np.cos(t) + _uniform(rng, -1, 1, count) * noise
        parts.append((x, y, np.full(count, label)))
    return parts


def _moons(n: int, noise: float, rng: np.random.Generator):
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, math.pi, n_out), np.linspace(0, math.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)])
    y = np.concatenate([np.sin(t_out), 1 - np.sin(t_in) - 0.5])
    x += rng.normal(0, noise, n) if noise else 0
    y += rng.normal(0, noise, n) if noise else 0
    label = np.concatenate([np.full(n_out, -1), np.full(n_in, 1)])
    return [(x, y, label)]


_CLASSIFIERS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons}


def _two_d_classes(name: str, n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    parts = _CLASSIFIERS[name](n, noise, rng)
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    label = np.concatenate([p[2] for p in parts])
    order = rng.permutation(len(x))  # Playground shuffles too
    X = np.stack([x, y], axis=1)[order].astype(np.float32)
    return X, (label[order] > 0).astype(np.int64)


def _regression(name: str, n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if name == "sine":
        x = _uniform(rng, -2 * math.pi, 2 * math.pi, n)
        y = np.sin(x) + rng.normal(0, 1, n) * noise
    else:
        x = _uniform(rng, -1, 1, n)
        y = 2 * x + rng.normal(0, 1, n) * noise
    return x.reshape(-1, 1).astype(np.float32), y.reshape(-1, 1).astype(np.float32)


def _synthetic(info: SampleInfo, data) -> Dataset:
    n = data.n_samples or info.default_n
    noise = info.default_noise if data.noise is None else data.noise
    rng = np.random.default_rng(data.seed)
    notes = [f"generated {n} samples with noise {noise:g} (seed {data.seed})"]
    if data.target is not None:
        notes.append(f"data.target ('{data.target}') does not apply to generated samples; ignored")
    if info.task == "classification":
        if data.task == "regression":
            raise DataError(f"sample:{info.name} is a classification dataset; set data.task to 'classification' or 'auto'")
        X, y = _two_d_classes(info.name, n, noise, rng)
        counts = np.bincount(y, minlength=2)
        if (counts == 0).any():  # possible only with extreme noise and tiny n
            raise DataError(f"sample:{info.name} with n_samples={n} and noise={noise:g} produced a single class; lower the noise or raise n_samples")
        meta = DatasetMeta(f"sample:{info.name}", "tabular", "classification", ["0", "1"], ["x1", "x2"], (2,),
                           "label", 2, n, notes, [int(c) for c in counts])
    else:
        if data.task == "classification":
            raise DataError(f"sample:{info.name} is a regression dataset; set data.task to 'regression' or 'auto'")
        X, y = _regression(info.name, n, noise, rng)
        meta = DatasetMeta(f"sample:{info.name}", "tabular", "regression", [], ["x"], (1,), "y", 1, n, notes, [])
    preview = [[f"{v:.4g}" for v in X[i]] + [str(int(y[i])) if y.ndim == 1 else f"{y[i, 0]:.4g}"] for i in range(min(50, n))]
    return Dataset(X=X, y=y, meta=meta, preview_columns=[*meta.feature_names, meta.target_name], preview_rows=preview)


def load_sample(name: str, data) -> Dataset:
    from .images import load_image_folder
    from .tabular import load_table

    info = SAMPLES.get(name)
    if info is None:
        raise DataError(f"there is no sample named '{name}'. Samples: {', '.join(SAMPLES)} (use e.g. 'sample:spiral')")
    if info.synthetic:
        return _synthetic(info, data)
    folder = sample_data_dir()
    path = folder / {"iris": "iris.csv", "digits": "digits.csv", "shapes": "shapes"}[name]
    if not path.exists():
        raise DataError(
            f"sample:{name} needs {path}, which is missing. Set WORKBENCH_SAMPLE_DATA to the sample_data folder "
            "of a Workbench checkout, or regenerate it with 'python sample_data/make_samples.py'."
        )
    if info.kind == "image":
        ds = load_image_folder(path, data, source=f"sample:{name}")
    else:
        ds = load_table(path, data, source=f"sample:{name}")
    ignored = [f for f in ("noise", "n_samples") if getattr(data, f) is not None]
    if ignored:
        ds.meta.notes.append(f"{' and '.join('data.' + f for f in ignored)} apply only to generated samples; ignored")
    return ds

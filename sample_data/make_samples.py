"""Regenerate the generated sample data: digits.csv and shapes/.

    python sample_data/make_samples.py            # writes next to this script

Deterministic (fixed seeds, pure NumPy + Pillow drawing, no system fonts), so running it again
gives the same files. iris.csv is real data and is not produced here. The 2-D Playground sets,
moons, sine and linear are generated on the fly by workbench.core.data.samples (so noise and
n_samples can change); --playground-csv also writes copies of them for people to look at.
"""

from __future__ import annotations

import argparse
import math
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

# ---- digits: UCI optdigits format ---------------------------------------------------------------
# optdigits: 32x32 binary bitmaps, divided into non-overlapping 4x4 blocks, the "on" pixels of
# each block counted -> an 8x8 grid of integers 0..16. Here the bitmaps are drawn from stroke
# templates (several writing styles per digit) with random jitter, slant, scale, thickness and
# speckle noise instead of scanned handwriting.

DIGITS_PER_CLASS = 180
DIGITS_SEED = 1797


def _arc(cx, cy, rx, ry, a0, a1, steps=24):
    """Points on an ellipse, angles in degrees, y pointing down (90 = bottom, 270 = top)."""
    t = np.radians(np.linspace(a0, a1, steps))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


# each style: a list of strokes; each stroke a list of (x, y) in the unit square, y down
DIGIT_STYLES: dict[int, list[list[list[tuple[float, float]]]]] = {
    0: [
        [_arc(0.5, 0.5, 0.32, 0.45, 0, 360, 36)],
        [_arc(0.5, 0.5, 0.24, 0.46, 0, 360, 36)],
        [_arc(0.5, 0.5, 0.3, 0.44, -80, 280, 36), [(0.7, 0.15), (0.3, 0.85)]],
    ],
    1: [
        [[(0.5, 0.04), (0.5, 0.96)]],
        [[(0.3, 0.25), (0.55, 0.04), (0.55, 0.96)]],
        [[(0.32, 0.22), (0.52, 0.04), (0.52, 0.96)], [(0.3, 0.96), (0.74, 0.96)]],
    ],
    2: [
        [_arc(0.5, 0.3, 0.3, 0.25, 180, 400) + [(0.18, 0.95), (0.85, 0.95)]],
        [_arc(0.48, 0.28, 0.28, 0.24, 200, 380) + [(0.3, 0.7), (0.15, 0.95), (0.85, 0.93)]],
        [_arc(0.5, 0.3, 0.3, 0.26, 190, 420) + _arc(0.42, 0.9, 0.25, 0.08, 270, 120, 8)[::-1][:1] + [(0.2, 0.92), (0.85, 0.95)]],
    ],
    3: [
        [_arc(0.5, 0.27, 0.28, 0.23, 200, 450) + _arc(0.5, 0.73, 0.3, 0.23, 270, 520)],
        [[(0.2, 0.05), (0.8, 0.05), (0.45, 0.42)] + _arc(0.5, 0.7, 0.3, 0.26, 280, 520)],
        [_arc(0.48, 0.27, 0.26, 0.22, 190, 440) + _arc(0.5, 0.72, 0.32, 0.24, 260, 510)],
    ],
    4: [
        [[(0.68, 0.95), (0.68, 0.05), (0.12, 0.66), (0.88, 0.66)]],
        [[(0.25, 0.05), (0.18, 0.6), (0.86, 0.6)], [(0.66, 0.3), (0.66, 0.96)]],
        [[(0.62, 0.96), (0.62, 0.05), (0.15, 0.7), (0.88, 0.7)]],
    ],
    5: [
        [[(0.8, 0.05), (0.28, 0.05), (0.24, 0.45)] + _arc(0.48, 0.67, 0.3, 0.28, 235, 510)],
        [[(0.28, 0.05), (0.22, 0.47)] + _arc(0.48, 0.68, 0.3, 0.27, 230, 500), [(0.28, 0.05), (0.82, 0.05)]],
        [[(0.78, 0.06), (0.3, 0.06), (0.26, 0.42)] + _arc(0.5, 0.66, 0.3, 0.3, 240, 520)],
    ],
    6: [
        [_arc(0.6, 0.55, 0.36, 0.5, 250, 150) + _arc(0.5, 0.72, 0.28, 0.23, 150, 510)],
        [[(0.72, 0.05), (0.3, 0.5)] + _arc(0.5, 0.72, 0.26, 0.23, 180, 540)],
        [_arc(0.62, 0.5, 0.38, 0.45, 260, 160) + _arc(0.5, 0.7, 0.3, 0.25, 160, 520)],
    ],
    7: [
        [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)]],
        [[(0.15, 0.05), (0.85, 0.05), (0.45, 0.95)], [(0.35, 0.5), (0.75, 0.5)]],
        [[(0.15, 0.15), (0.2, 0.05), (0.85, 0.05), (0.55, 0.5), (0.5, 0.95)]],
    ],
    8: [
        [_arc(0.5, 0.27, 0.24, 0.22, 0, 360, 30), _arc(0.5, 0.72, 0.3, 0.24, 0, 360, 30)],
        [_arc(0.5, 0.28, 0.22, 0.23, 90, 450, 30), _arc(0.5, 0.74, 0.28, 0.22, 270, 630, 30)],
        [_arc(0.5, 0.3, 0.28, 0.24, 0, 360, 30), _arc(0.5, 0.74, 0.26, 0.21, 0, 360, 30)],
    ],
    9: [
        [_arc(0.5, 0.3, 0.28, 0.24, 0, 360, 30), [(0.78, 0.3), (0.72, 0.95)]],
        [_arc(0.48, 0.3, 0.27, 0.25, 10, 370, 30) + _arc(0.4, 0.55, 0.36, 0.42, 0, 100)],
        [_arc(0.5, 0.28, 0.26, 0.22, 0, 360, 30), [(0.76, 0.3), (0.5, 0.95)]],
    ],
}


def _render_digit(strokes, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """One 32x32 bitmap (bool) of a digit drawn from `strokes` with random handwriting-like variation."""
    scale = 8  # draw large, then threshold down to 32x32
    big = size * scale
    slant = rng.normal(0, 0.15)
    rot = math.radians(rng.normal(0, 6))
    sx, sy = rng.uniform(0.55, 0.8), rng.uniform(0.75, 0.92)
    ox, oy = rng.normal(0, 0.03), rng.normal(0, 0.03)
    width = rng.uniform(2.2, 4.2) * scale
    img = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = np.array(stroke, dtype=float) + rng.normal(0, 0.018, (len(stroke), 2))
        pts = pts - 0.5
        pts[:, 0] += slant * -pts[:, 1]
        pts = pts @ np.array([[math.cos(rot), math.sin(rot)], [-math.sin(rot), math.cos(rot)]])
        pts = (pts * [sx, sy] + 0.5 + [ox, oy]) * big
        xy = [tuple(p) for p in pts]
        draw.line(xy, fill=255, width=int(width), joint="curve")
        r = width / 2
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = np.asarray(img.resize((size, size), Image.Resampling.BOX)) > 110
    speckle = rng.random((size, size)) < 0.01
    return small ^ speckle


def make_digits(path: Path) -> None:
    rng = np.random.default_rng(DIGITS_SEED)
    rows = []
    for digit in range(10):
        styles = DIGIT_STYLES[digit]
        for i in range(DIGITS_PER_CLASS):
            bitmap = _render_digit(styles[i % len(styles)], rng)
            counts = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
            rows.append((counts.ravel().tolist(), digit))
    order = rng.permutation(len(rows))
    header = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)] + ["label"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\n")
        for k in order:
            pixels, digit = rows[k]
            fh.write(",".join(map(str, pixels)) + f",{digit}\n")


# ---- shapes: an image folder --------------------------------------------------------------------
SHAPES = ("circle", "cross", "square", "triangle")
SHAPES_PER_CLASS = 120
SHAPES_SEED = 28
SHAPE_SIZE = 28


def _polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if kind == "square":
        base = [(1, 1), (-1, 1), (-1, -1), (1, -1)]
        base = [(x * 0.75, y * 0.75) for x, y in base]
    elif kind == "triangle":
        base = [(math.cos(a), math.sin(a)) for a in (math.radians(d) for d in (-90, 30, 150))]
    else:  # cross: a plus sign made of 12 corners
        a, b = 0.3, 1.0
        base = [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)]
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in base]


def _render_shape(kind: str, rng: np.random.Generator) -> Image.Image:
    scale = 4
    big = SHAPE_SIZE * scale
    r = rng.uniform(5.0, 11.0)
    cx, cy = rng.uniform(r + 1, SHAPE_SIZE - r - 1, 2)
    angle = rng.uniform(0, 2 * math.pi)
    background = int(rng.integers(0, 50))
    ink = int(rng.integers(170, 256))
    filled = rng.random() < 0.6
    outline = max(1, int(round(rng.uniform(1.2, 2.5) * scale)))
    img = Image.new("L", (big, big), background)
    draw = ImageDraw.Draw(img)
    if kind == "circle":
        rx, ry = r * rng.uniform(0.85, 1.0) * scale, r * rng.uniform(0.85, 1.0) * scale
        box = (cx * scale - rx, cy * scale - ry, cx * scale + rx, cy * scale + ry)
        draw.ellipse(box, fill=ink if filled else None, outline=ink, width=outline)
    else:
        pts = [(x * scale, y * scale) for x, y in _polygon(kind, cx, cy, r, angle)]
        if filled:
            draw.polygon(pts, fill=ink)
        else:
            draw.line(pts + [pts[0]], fill=ink, width=outline, joint="curve")
    small = np.asarray(img.resize((SHAPE_SIZE, SHAPE_SIZE), Image.Resampling.BOX), dtype=np.float64)
    small = small + rng.normal(0, rng.uniform(3, 18), small.shape)
    return Image.fromarray(np.clip(small, 0, 255).round().astype(np.uint8), mode="L")


def make_shapes(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    rng = np.random.default_rng(SHAPES_SEED)
    for kind in SHAPES:
        (folder / kind).mkdir(parents=True)
        for i in range(SHAPES_PER_CLASS):
            _render_shape(kind, rng).save(folder / kind / f"{kind}_{i:03d}.png", optimize=False)


def write_playground_csv(folder: Path) -> None:
    import sys

    sys.path.insert(0, str(HERE.parent))
    from workbench.core.data import load_dataset
    from workbench.core.spec import DataSpec

    folder.mkdir(exist_ok=True)
    for name in ("circle", "xor", "gauss", "spiral", "moons", "sine", "linear"):
        ds = load_dataset(DataSpec(source=f"sample:{name}"))
        y = ds.y.reshape(len(ds.y), -1)
        table = np.hstack([ds.X, y.astype(np.float32)])
        header = ",".join([*ds.meta.feature_names, ds.meta.target_name])
        fmt = ["%.5f"] * ds.X.shape[1] + (["%d"] if ds.meta.task == "classification" else ["%.5f"])
        np.savetxt(folder / f"{name}.csv", table, fmt=fmt, delimiter=",", header=header, comments="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: next to this script)")
    parser.add_argument("--playground-csv", action="store_true", help="also write CSV copies of the generated 2-D sets")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    make_digits(args.out / "digits.csv")
    make_shapes(args.out / "shapes")
    if args.playground_csv:
        write_playground_csv(args.out / "generated")
    print(f"wrote {args.out / 'digits.csv'} and {args.out / 'shapes'}/")


if __name__ == "__main__":
    main()

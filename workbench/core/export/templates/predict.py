"""Predict with an exported Workbench model: onnxruntime + numpy (+ Pillow for images).

    python predict.py data.csv                 # a table: one prediction per row
    python predict.py images/                  # a folder of images (searched recursively)
    python predict.py photo.png --out preds.csv

The model takes raw inputs (the standardisation fitted in training is inside it). For tables,
the columns are found by name in the CSV header; text columns are one-hot encoded with the
categories seen in training (the JSON beside the model lists them); extra columns, such as the
target, are ignored. Images are converted and resized as in training.
Output: a CSV with the predicted class and one probability per class (classification), or the
predicted values (regression), on stdout or in --out.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
MODEL_FILE = "model.onnx"  # written by Workbench
INFO_FILE = "model.json"  # written by Workbench
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "#n/a", "<na>", "-nan"}
BATCH = 1024


# ---- tables ---------------------------------------------------------------------------------
def read_table(path: Path, info: dict) -> tuple[np.ndarray, list[str]]:
    """The CSV's rows encoded as the model's input features, and a label per row."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        sys.exit(f"{path}: no rows")
    delimiter = max(",;\t|", key=lines[0].count) if any(d in lines[0] for d in ",;\t|") else ","
    rows = list(csv.reader(lines, delimiter=delimiter, skipinitialspace=True))
    header = [h.strip() for h in rows[0]]
    columns = info.get("columns") or [{"name": n, "kind": "numeric"} for n in info["feature_names"]]
    folded = {h.lower(): i for i, h in enumerate(header)}
    where = {}
    for col in columns:
        i = folded.get(col["name"].strip().lower())
        if i is None:
            sys.exit(f"{path}: no column '{col['name']}'. The model needs the columns: "
                     f"{', '.join(c['name'] for c in columns)}")
        where[col["name"]] = i
    features = []
    for line_no, row in enumerate(rows[1:], start=2):
        feats = []
        for col in columns:
            cell = row[where[col["name"]]].strip() if where[col["name"]] < len(row) else ""
            if cell.lower() in MISSING:
                if "fill" not in col:
                    sys.exit(f"{path}, line {line_no}: column '{col['name']}' is empty; fill it in")
                cell = str(col["fill"])
            if col["kind"] == "numeric":
                try:
                    decimal_comma = cell.count(",") == 1 and "." not in cell
                    feats.append(float(cell.replace(",", ".") if decimal_comma else cell))
                except ValueError:
                    sys.exit(f"{path}, line {line_no}: column '{col['name']}' holds '{cell}', not a number")
            else:
                if cell not in col["levels"]:
                    print(f"{path}, line {line_no}: '{cell}' in column '{col['name']}' was not seen in training; "
                          "encoded as none of its categories", file=sys.stderr)
                feats.extend(1.0 if cell == level else 0.0 for level in col["levels"])
        features.append(feats)
    X = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    return X, [str(i) for i in range(1, len(features) + 1)]


# ---- images ---------------------------------------------------------------------------------
# read_image: Workbench's own image reader goes here (from train_script.py)


def read_images(path: Path, info: dict) -> tuple[np.ndarray, list[str]]:
    size, mode = info["image"]["size"], "L" if info["image"]["mode"] == "grayscale" else "RGB"
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not files:
        sys.exit(f"{path}: no images found")
    pixels, names = [], []
    for f in files:
        try:
            pixels.append(read_image(f, size, mode).astype(np.float32) * (1.0 / 255.0))  # noqa: F821 - see above
            names.append(str(f.relative_to(path)) if path.is_dir() else f.name)
        except Exception as exc:  # noqa: BLE001 - a broken file is skipped and named
            print(f"skipped {f}: {exc}", file=sys.stderr)
    return np.stack(pixels), names


# ---- predicting -----------------------------------------------------------------------------
def predict(session, X: np.ndarray) -> np.ndarray:
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: X[a:a + BATCH]})[0] for a in range(0, len(X), BATCH)])


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def result_rows(out: np.ndarray, info: dict) -> tuple[list[str], list[list[str]]]:
    kind = info["output"]
    if kind == "values":
        out = out.reshape(len(out), -1)
        names = ([info.get("target_name") or "prediction"] if out.shape[1] == 1
                 else [f"prediction_{i + 1}" for i in range(out.shape[1])])
        return names, [[f"{v:.6g}" for v in row] for row in out]
    classes = info["class_names"]
    if kind == "logit":
        p1 = 1.0 / (1.0 + np.exp(-out.reshape(-1)))
        probs = np.stack([1.0 - p1, p1], axis=1)
    else:
        probs = softmax(out)
    best = probs.argmax(axis=1)
    header = ["prediction", "probability", *[f"p({c})" for c in classes]]
    rows = [[classes[b], f"{probs[i, b]:.4f}", *[f"{p:.4f}" for p in probs[i]]] for i, b in enumerate(best)]
    return header, rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", help="a CSV file, an image, or a folder of images")
    parser.add_argument("--model", default=str(HERE / MODEL_FILE), help="the .onnx file (default: beside this script)")
    parser.add_argument("--out", help="write the predictions to this CSV file (default: stdout)")
    args = parser.parse_args(argv)
    model = Path(args.model)
    info = json.loads(Path(model.with_suffix(".json") if model.with_suffix(".json").exists()
                           else HERE / INFO_FILE).read_text(encoding="utf-8"))
    source = Path(args.inputs)
    if not source.exists():
        sys.exit(f"{source}: not found")
    if info["kind"] == "image":
        X, labels = read_images(source, info)
        label_name = "file"
    else:
        X, labels = read_table(source, info)
        label_name = "row"
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    out = predict(session, X)
    header, rows = result_rows(out, info)
    stream = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    writer = csv.writer(stream)
    try:
        writer.writerow([label_name, *header])
        for label, row in zip(labels, rows):
            writer.writerow([label, *row])
    except BrokenPipeError:  # `python predict.py data.csv | head`
        return 0
    if args.out:
        stream.close()
        print(f"{len(rows)} predictions written to {args.out}", file=sys.stderr)
    return 0 if all(math.isfinite(float(v)) for v in np.ravel(out)) else 1


if __name__ == "__main__":
    raise SystemExit(main())

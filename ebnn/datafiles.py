"""Data from a path (``--data PATH``): an ``.npz`` archive, a ``.csv`` table, a folder of images
or WAV clips in class sub-folders, or a folder of IDX files. The layouts are documented in
docs/data.md.

Every read is bounded (:data:`MAX_DATA_BYTES` of decoded values, :data:`MAX_FILES` images) and
checked before it is trusted: a bad file is one :class:`~ebnn.data.DatasetError` line naming
the file and what is wrong with it, never a traceback.
"""

from __future__ import annotations

import math
import re
import tokenize
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ebnn.csv_table import MAX_FILE_BYTES, Table, read_table
from ebnn.csv_table import number as _number
from ebnn.data import (
    IDX_FILES,
    MAX_DATA_BYTES,
    Clips,
    Dataset,
    DatasetError,
    _find_idx,
    _load_idx_dir,
)
from sim.inputs import GREY_MODES, WIDE_MODES, pandas_column_names
from sim.wav import Wav, WavError, read_header, read_wav

if TYPE_CHECKING:
    import PIL.Image

MAX_FILES = 200_000  # images in one folder tree
MAX_CLASSES = 4096
# a CSV label that is a class number: digits, maybe a sign and a zero fraction (pandas' 3.0);
# anything else (1e3, 1_0, nan, a 19-digit id) is a class name
_LABEL_NUMBER = re.compile(r"[+-]?[0-9]{1,18}(\.0*)?")
AUDIO_SUFFIXES = (".wav",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tif", ".tiff",
                  ".webp")
SPLIT_NAMES = ("train", "test")


def splits_of(path: Path) -> tuple[str, ...]:
    """The splits ``path`` holds ("train" always; "test" when it has one)."""
    if path.suffix.lower() == ".npz":
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (OSError, zipfile.BadZipFile):
            return ("train",)
        # x_test alone is a test split too: reading it says its labels are missing (scoring
        # x whole instead scored the training samples without a word)
        return ("train", "test") if "x_test.npy" in names else ("train",)
    if path.is_dir():
        if all(_find_idx(path, base) for base in IDX_FILES["test"]):
            return ("train", "test")
        if (path / "test").is_dir() and (path / "train").is_dir():
            return ("train", "test")
    return ("train",)


def _idx_sample_shape(root: Path, split: str) -> tuple[tuple[int, ...], Path] | None:
    """(the shape of one sample, the file) of ``split``'s IDX images in ``root``, from the
    file's header alone (gzipped or not); None when there is no such file or it is not IDX
    (reading that split says what is wrong with it)."""
    import gzip

    path = _find_idx(root, IDX_FILES[split][0])
    if path is None:
        return None
    try:
        with path.open("rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gz else path.open("rb")) as fh:
            head = fh.read(4)
            if len(head) < 4 or head[:2] != b"\0\0" or not 3 <= head[3] <= 4:
                return None
            dims = np.frombuffer(fh.read(4 * head[3]), ">u4")
    except (OSError, EOFError, ValueError):
        return None
    if len(dims) != head[3]:
        return None
    shape = tuple(int(d) for d in dims[1:])
    return ((*shape, 1) if len(shape) == 2 else shape), path


def _image_sample_shape(root: Path, split: str) -> tuple[tuple[int, ...], Path] | None:
    """(the shape of one sample, the file) of ``split``'s images in ``root/split/<class>/``,
    from the first image's header: (H, W) and, unless it is a palette (grey or colour by the
    colours the whole set uses), its channels; None when the split has none readable."""
    from PIL import Image, UnidentifiedImageError

    try:
        files = _class_files(root, split)[2]
        with _open_image(files[0][0]) as im:
            w, h = im.size
            mode = im.mode
    except (DatasetError, OSError, UnidentifiedImageError, Image.DecompressionBombError,
            ValueError):
        return None
    if mode in ("P", "PA"):
        return (h, w), files[0][0]
    return (h, w, 1 if mode in (*GREY_MODES, *WIDE_MODES) else 3), files[0][0]


def _check_other_split(root: Path, split: str, shape: tuple[int, ...],
                       sample_shape: Callable[[Path, str],
                                              tuple[tuple[int, ...], Path] | None]) -> None:
    """DatasetError when the other split of a folder (images in train/ and test/, or IDX
    files) holds samples of another shape than ``split``'s (``shape``): no model can read both,
    and it showed only when the test split was scored (eval, after training), in words about
    the model. Told from the other split's headers, not its samples."""
    if splits_of(root) != SPLIT_NAMES:
        return
    other = "test" if split == "train" else "train"
    found = sample_shape(root, other)
    if found is None:
        return
    theirs, where = found
    if theirs == shape[: len(theirs)]:
        return
    raise DatasetError(f"{root}: the {other} split holds samples of {theirs} ({where}), the "
                       f"{split} split {shape[: len(theirs)]}: a data set's two splits must "
                       "be alike")


def unlabelled_test(path: Path) -> bool:
    """Whether ``path`` is an .npz whose test split has samples (``x_test``) but no labels
    (``y_test``): it trains, but its test split cannot be scored."""
    if path.suffix.lower() != ".npz":
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return "x_test.npy" in names and "y_test.npy" not in names


def load_path(path: str | Path, split: str = "train", classes: int | None = None) -> Dataset:
    """One split of the data at ``path``; DatasetError (one line) for anything unusable."""
    p = Path(path)
    if split not in SPLIT_NAMES:
        raise DatasetError(f"unknown split {split!r}; expected 'train' or 'test'")
    if not p.exists():
        raise DatasetError(f"{p}: no such file or folder")
    if p.is_dir():
        if any(_find_idx(p, base) for pair in IDX_FILES.values() for base in pair):
            ds = _load_idx_dir(p.name or str(p), p, split, classes)
            _check_other_split(p, split, ds.image_shape, _idx_sample_shape)
            return ds
        ds = load_class_folder(p, split, classes)
        if ds.clips is None:  # clips are padded to the longest of both splits already
            _check_other_split(p, split, ds.image_shape, _image_sample_shape)
        return ds
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return load_npz(p, split, classes)
    if suffix == ".csv":
        if split != "train":
            raise DatasetError(f"{p}: a CSV holds one split, with no test part: --split all "
                               "(the default for a file the model was not trained on) uses it "
                               "whole, so a test CSV is given as --data alone")
        return load_csv(p, classes)
    raise DatasetError(f"{p}: not a data file; expected a .npz, a .csv, a folder of images or "
                       "WAV clips in class sub-folders or a folder of IDX files")


def _labels(raw: np.ndarray, where: str, classes: int | None) -> tuple[np.ndarray, int]:
    """Integer labels 0..classes-1 from integers (or whole floats)."""
    if raw.ndim != 1:
        raise DatasetError(f"{where}: labels must be one per sample, got shape {raw.shape}")
    if raw.dtype.kind == "f" and np.all(np.isfinite(raw)) and np.all(raw == np.round(raw)):
        raw = raw.astype(np.int64)
    if raw.dtype.kind not in "iu":
        raise DatasetError(f"{where}: labels must be integers, got {raw.dtype}")
    if len(raw) == 0:
        raise DatasetError(f"{where}: no samples")
    if raw.min() < 0 or raw.max() >= MAX_CLASSES:  # before the cast: 2**64-1 would wrap
        raise DatasetError(f"{where}: labels must be class numbers 0..{MAX_CLASSES - 1}, "
                           f"found {raw.min()}..{raw.max()}")
    labels = raw.astype(np.int64)
    n = int(labels.max()) + 1 if classes is None else classes
    if labels.min() < 0 or labels.max() >= n or n > MAX_CLASSES:
        raise DatasetError(f"{where}: labels must lie in 0..{min(n, MAX_CLASSES) - 1}, found "
                           f"{labels.min()}..{labels.max()}")
    return labels, max(n, 2)


def _values(raw: np.ndarray, where: str) -> np.ndarray:
    """uint8 as it is; other numbers as finite float32 (quantised later by the model)."""
    if raw.dtype == np.uint8:
        return raw
    if raw.dtype.kind not in "iuf" or raw.dtype.itemsize > 8:
        raise DatasetError(f"{where}: values must be numbers, got {raw.dtype}")
    with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused below
        values = raw.astype(np.float32)
    if not np.all(np.isfinite(values)):
        raise DatasetError(f"{where}: values must be finite and within float32 (found nan, "
                           "inf or a larger magnitude)")
    return values


def _layout(values: np.ndarray, where: str, layout: str | None) -> tuple[np.ndarray, str]:
    """(samples, layout) by the number of axes: (N, H, W, C) images; (N, H, W) grey images, or
    sequences (N, T, C) when the archive says ``layout = "sequence"``; (N, F) flat."""
    if layout not in (None, "image", "sequence"):
        raise DatasetError(f"{where}: layout must be 'image' or 'sequence', got {layout!r:.40}")
    if values.ndim == 4 and layout != "sequence":
        return values, "image"
    if values.ndim == 3:
        if layout == "sequence":
            return values, "sequence"
        return values[..., np.newaxis], "image"
    if values.ndim == 2 and layout is None:
        return values, "flat"
    raise DatasetError(f"{where}: samples of shape {values.shape} fit no layout; expected "
                       "(N, H, W, C), (N, H, W), (N, T, C) with layout 'sequence', or (N, F)")


def _read_member(zf: zipfile.ZipFile, name: str, where: str) -> np.ndarray:
    info = zf.getinfo(name)
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, _, dtype = header(fh)
        except (ValueError, EOFError, SyntaxError, TypeError, tokenize.TokenError,
                RecursionError, MemoryError) as exc:  # numpy literal_evals the header text
            raise DatasetError(f"{where}: member {name}: not a .npy array ({exc})") from None
    # each dimension on its own too: (0, 10**30) holds nothing, and numpy overflows on it
    if dtype.hasobject or math.prod(shape) * dtype.itemsize > info.file_size or \
            any(n < 0 or n > info.file_size for n in shape):
        raise DatasetError(f"{where}: member {name}: header claims {shape} of {dtype}, more "
                           "than it holds, or Python objects")
    with zf.open(info) as fh:
        try:
            arr: np.ndarray = np.lib.format.read_array(fh, allow_pickle=False)
        except (ValueError, EOFError) as exc:
            raise DatasetError(f"{where}: member {name}: {exc}") from None
    return arr


NPZ_MEMBERS = ("x", "y", "x_test", "y_test", "layout")


def _check_npz_members(names: set[str], where: str) -> None:
    """DatasetError for members that look meant but are not read: another case of a known
    name (``X_test`` was ignored, and eval scored the training samples), test labels without
    test samples, or ``x_train``/``y_train`` beside ``x``/``y``. Other members are ignored."""
    known = {f"{n}.npy" for n in (*NPZ_MEMBERS, "x_train", "y_train")}
    odd = sorted(n for n in names if n not in known and n.lower() in known)
    if odd:
        raise DatasetError(f"{where}: member(s) {', '.join(n[:-4] for n in odd)[:200]}: the "
                           f"names are lowercase ({', '.join(NPZ_MEMBERS)})")
    if "y_test.npy" in names and "x_test.npy" not in names:
        raise DatasetError(f"{where}: has y_test but not x_test: no test samples to score")
    if {"x.npy", "y.npy"} & names and {"x_train.npy", "y_train.npy"} & names:
        raise DatasetError(f"{where}: holds x/y and x_train/y_train: which are the training "
                           "samples cannot be told")


def load_npz(path: Path, split: str, classes: int | None = None) -> Dataset:
    """``x``/``y`` (train) and ``x_test``/``y_test`` (test), optional string ``layout``."""
    where = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_FILE_BYTES:
                raise DatasetError(f"{where}: members over {MAX_FILE_BYTES >> 20} MiB "
                                   "uncompressed")
            names = {i.filename for i in infos}
            _check_npz_members(names, where)
            if split == "train" and not {"x.npy", "y.npy"} & names:  # Keras' own names
                xk, yk = "x_train", "y_train"
            else:
                xk, yk = ("x", "y") if split == "train" else ("x_test", "y_test")
            if split != "train" and "x_test.npy" in names and "y_test.npy" not in names:
                raise DatasetError(f"{where}: has x_test but not y_test: its test split has "
                                   "no labels to score it by")
            missing = [k for k in (xk, yk) if f"{k}.npy" not in names]
            if missing:
                raise DatasetError(f"{where}: no array {' or '.join(missing)} (an .npz holds x, "
                                   "y (or x_train, y_train) and optionally x_test, y_test and "
                                   "layout)")
            x = _read_member(zf, f"{xk}.npy", where)
            y = _read_member(zf, f"{yk}.npy", where)
            layout = (str(_read_member(zf, "layout.npy", where)) if "layout.npy" in names
                      else None)
    except zipfile.BadZipFile:
        raise DatasetError(f"{where}: not an .npz archive") from None
    except (OSError, RuntimeError, NotImplementedError, zipfile.LargeZipFile, EOFError,
            UnicodeDecodeError, ValueError) as exc:  # a member name that is not UTF-8, ...
        raise DatasetError(f"{where}: cannot read ({exc})") from None
    if len(x) != len(y):
        raise DatasetError(f"{where}: {xk} has {len(x)} samples but {yk} has {len(y)} labels")
    values, kind = _layout(_values(x, f"{where}: {xk}"), f"{where}: {xk}", layout)
    labels, n = _labels(y, f"{where}: {yk}", classes)
    return Dataset(path.stem, values, labels, n, f"{path} ({split}: {xk}, {yk})", kind)


# header names that say "the label": a column so named is the label column, which is the first
# ("y", "class", "target" are not: an accelerometer's x, y, z, a passenger's class, a
# marketing target can be features)
LABEL_HEADERS = {"label", "labels"}


def load_csv(path: Path, classes: int | None = None) -> Dataset:
    """A header row, then one sample a row: the label (an integer, or a class name; names are
    numbered in sorted order) in the first column, the sample's values flattened after it.
    Read in one pass under bounded memory (:mod:`ebnn.csv_table`)."""
    pandas_names = False

    def check_header(header: list[str]) -> None:
        nonlocal pandas_names
        # pandas names the columns of a DataFrame made from an array 0, 1, 2, ...: a header
        pandas_names = pandas_column_names(header)
        if all(_number(c) for c in header) and not pandas_names:
            raise DatasetError(f"{path}: the first row must be a header (label, then feature "
                               "names); it holds only numbers")
        first = header[0].strip()
        if len(header) > 1 and (not first or first.lower().startswith("unnamed:")):
            # read as the label, a row index is a class per row (or a class count of rows)
            raise DatasetError(f"{path}: the first column has no name: a row index (pandas' "
                               "to_csv writes one unless index=False; R's write.csv unless "
                               "row.names=FALSE), not the labels the first column must hold: "
                               "write the file without it")
        if len(header) < 2:
            sep = next((name for c, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'"))
                        if c in header[0]), None)
            comment = header[0].lstrip().startswith("#")
            raise DatasetError(f"{path}: needs a label column and at least one feature column"
                               + (f" (its header is one column holding {sep}: the columns "
                                  "must be separated by commas)" if sep else "")
                               + (f" (its first line, {header[0].strip()[:40]!r}, is one "
                                  "column: a comment? The header, label then feature names, "
                                  "must be the first line)" if comment and not sep else ""))
        named = [i for i, c in enumerate(header) if c.strip().lower() in LABEL_HEADERS]
        if named and named[0] != 0 and not pandas_names:
            # read from the first column regardless, another column would silently be the
            # label
            raise DatasetError(f"{path}: column {named[0] + 1} is named "
                               f"{header[named[0]].strip()[:40]!r}, but the label is read from "
                               f"the first column ({header[0].strip()[:40]!r}): put the label "
                               "column first")

    table = read_table(path, check_header)
    header, names = table.header, table.names
    if (not pandas_names and header[0].strip() in set(names)
            and all(_number(c) for c in header[1:])):
        # a file without a header: its first sample was about to be dropped as one
        raise DatasetError(f"{path}: the first row is a sample, not a header (its label "
                           f"{header[0].strip()[:40]!r} labels rows below, the rest are "
                           "numbers): put a header row (label, then feature names) first")
    _check_label_column(path, table)
    labels, n, known = _csv_labels(path, table, classes)
    class_note = f"; classes {', '.join(known)[:200]}" if known else ""
    return Dataset(path.stem, table.values, labels, n, f"{path}{class_note}", "flat",
                   tuple(known) if known else None)


def _check_label_column(path: Path, table: Table) -> None:
    """DatasetError when the first column, which is read as the label, holds mostly numbers
    that are not whole: a feature (the label column is elsewhere), not a list of class names
    (it was read as one, a class per value). Names the last column when it holds class
    numbers (a label column written last)."""
    names, header, values = table.names, table.header, table.values
    odd = np.array([_LABEL_NUMBER.fullmatch(s) is None for s in names])[table.label_index]
    if 2 * int(odd.sum()) <= len(odd) or not all(_number(s) for s in names):
        return
    first = int(np.argmax(odd))
    last = values[:, -1]
    hint = ""
    if (values.shape[1] > 1 and np.all(last == np.round(last)) and last.min() >= 0
            and last.max() < MAX_CLASSES and len(np.unique(last)) >= 2):
        hint = (f"; column {len(header)} ({header[-1].strip()[:40]!r}) holds class numbers "
                f"{int(last.min())}..{int(last.max())}: if it is the label, move it first")
    raise DatasetError(f"{path}: the label is read from the first column "
                       f"({header[0].strip()[:40]!r}), which holds numbers that are not class "
                       f"numbers ({names[table.label_index[first]][:20]} at line "
                       f"{table.lines[first]}): the first column must hold the labels, class "
                       "numbers 0..K-1 or class names" + hint)


def _csv_labels(path: Path, table: Table, classes: int | None
                ) -> tuple[np.ndarray, int, list[str]]:
    """(labels, classes, class names or []) of a CSV's label column: whole numbers (``3``,
    ``3.0``) are the labels themselves; otherwise every label is a class name, numbered in
    sorted order. A column mixing numbers with something else (a blank, ``?``, ``2.5``) is
    refused at the first odd row, as is a number beyond the class numbers."""
    names, index = table.names, table.label_index
    numeric = [_LABEL_NUMBER.fullmatch(s) is not None for s in names]
    if any(numeric):
        bad = np.array([not is_num or not 0 <= float(s) < MAX_CLASSES
                        for s, is_num in zip(names, numeric, strict=True)])[index]
        if bad.any():  # the first odd row, in file order
            row = int(np.argmax(bad))
            s, line = names[index[row]], table.lines[row]
            if not numeric[index[row]]:
                raise DatasetError(f"{path}:{line}: label {s[:40]!r} is not a class number, "
                                   "as the other labels are; give every row a label 0..K-1")
            raise DatasetError(f"{path}:{line}: label {s[:40]} is not a class number "
                               f"0..{MAX_CLASSES - 1}")
        labels, n = _labels(np.array([round(float(s)) for s in names], np.int64)[index],
                            str(path), classes)
        return labels, n, []
    if "" in names:  # it became a class of its own, '', and the counts disagreed
        blank = int(np.argmax(index == names.index("")))
        raise DatasetError(f"{path}:{table.lines[blank]}: no label; give every row its class "
                           "name")
    known = sorted(names)
    if len(known) > MAX_CLASSES:
        raise DatasetError(f"{path}: more than {MAX_CLASSES} class names")
    rank = np.empty(len(names), np.int64)
    rank[np.array(sorted(range(len(names)), key=names.__getitem__), np.int64)] = \
        np.arange(len(names))
    return rank[index], max(len(known), 2) if classes is None else classes, known


def _class_files(root: Path, split: str
                 ) -> tuple[Path, list[str], list[tuple[Path, int]], list[Path]]:
    """(the split's folder, the class names, its (file, label) pairs, what its class folders
    hold besides: files of other types and sub-folders, not hidden ones) of a folder in class
    sub-folders: its images or WAV clips, whichever it holds (never both)."""

    def classes_in(folder: Path) -> set[str]:
        return {d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")}

    folder = root
    if (root / "train").is_dir() and (root / "test").is_dir():
        folder = root / split
        names = sorted(classes_in(root / "train") | classes_in(root / "test"))
    elif split != "train":
        raise DatasetError(f"{root}: has no test split (no train/ and test/ sub-folders)")
    else:
        names = sorted(classes_in(folder))
    if not names:
        raise DatasetError(f"{folder}: no class sub-folders (expected {folder}/<class>/*.png "
                           f"or {folder}/<class>/*.wav)")
    if len(names) > MAX_CLASSES:
        raise DatasetError(f"{folder}: more than {MAX_CLASSES} class sub-folders")
    files: list[tuple[Path, int]] = []
    skipped: list[Path] = []
    kinds: dict[bool, Path] = {}  # is a clip -> the first such file
    for label, name in enumerate(names):
        if not (folder / name).is_dir():  # a class only the other split has
            continue
        for f in sorted((folder / name).iterdir()):
            suffix = f.suffix.lower()
            # hidden files are skipped without a word: macOS writes ._NAME.wav beside every
            # file it copies
            if f.name.startswith("."):
                continue
            if suffix in (*IMAGE_SUFFIXES, *AUDIO_SUFFIXES) and f.is_file():
                kinds.setdefault(suffix in AUDIO_SUFFIXES, f)
                files.append((f, label))
                if len(files) > MAX_FILES:
                    raise DatasetError(f"{folder}: more than {MAX_FILES:,} files")
            elif len(skipped) < MAX_FILES:
                skipped.append(f)
    if not files:
        split_like = sorted(n for n in names if n.lower() in ("train", "test"))
        raise DatasetError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) or WAV clips "
                           "in its class sub-folders" + (
                               f" (its {'/ and '.join(split_like)}/ "
                               f"{'holds' if len(split_like) == 1 else 'hold'} folders: a data "
                               "set of two splits has both train/ and test/, in lower case)"
                               if split_like else ""))
    if len(kinds) == 2:
        raise DatasetError(f"{folder}: holds images ({kinds[False]}) and WAV clips "
                           f"({kinds[True]}); a data set is one or the other")
    return folder, names, files, skipped


def skipped_text(folder: Path, skipped: list[Path]) -> str:
    """A Dataset source's note of what a class folder held besides its inputs (files of
    other types, sub-folders, which are not read), with the first few named; "" for none."""
    if not skipped:
        return ""
    shown = ", ".join(str(p.relative_to(folder)) + ("/" if p.is_dir() else "")
                      for p in skipped[:3])
    return (f"; {len(skipped):,} not read (not images or WAV clips by their suffix, or "
            f"sub-folders): {shown}{', ...' if len(skipped) > 3 else ''}")


def load_class_folder(root: Path, split: str, classes: int | None = None) -> Dataset:
    """Images or WAV clips in class sub-folders (``root/<class>/*.png``, ``*.wav``; with
    ``root/train`` and ``root/test`` each holding class sub-folders, those are the splits).
    Classes are the sub-folder names in sorted order, over both splits when there are two (so
    a class missing from one split keeps its number)."""
    folder, names, files, skipped = _class_files(root, split)
    n = max(len(names), 2) if classes is None else classes
    note = skipped_text(folder, skipped)
    if files[0][0].suffix.lower() in AUDIO_SUFFIXES:
        return _load_clips(root, split, folder, names, files, n, note)
    return _load_images(root, folder, names, files, n, note)


def _load_clips(root: Path, split: str, folder: Path, names: list[str],
                files: list[tuple[Path, int]], classes: int, note: str = "") -> Dataset:
    """WAV clips as sequences (T, C) of their samples (``sim.wav``: 8-bit PCM as bytes, others
    as values to quantise), every clip padded at its end with silence to the longest clip of
    the folder (of both splits when it has two, so train and test agree: their headers are
    read, not their samples). Every clip must have the same sample format, rate and channel
    count. The samples go straight into one array of the padded size (at most
    :data:`MAX_DATA_BYTES`): memory is that array and one clip. ``note`` ends the
    description (:func:`skipped_text`)."""
    paths = [f for f, _ in files]
    if folder != root:  # the other split's clips set the length too (when it has any)
        other = "test" if split == "train" else "train"
        try:
            more = [f for f, _ in _class_files(root, other)[2]]
        except DatasetError:  # no class folders or no files there: this split alone
            more = []
        if any(f.suffix.lower() not in AUDIO_SUFFIXES for f in more):
            raise DatasetError(f"{root}: {split}/ holds WAV clips, {other}/ images; a data set "
                               "is one or the other")
        paths += more
    try:
        headers = [read_header(f) for f in paths]
    except WavError as exc:
        raise DatasetError(str(exc)) from None
    first = headers[0]
    for h, f in zip(headers, paths, strict=True):  # the other split's must be alike too
        if (h.bits, h.rate, h.channels) != (first.bits, first.rate, first.channels):
            raise DatasetError(f"{f}: {h.describe()}; the first clip ({paths[0]}) has "
                               f"{first.describe()}: all must be alike")
    frames, longest = max(((h.frames, f) for h, f in zip(headers, paths, strict=True)),
                          key=lambda fl: fl[0])
    eight = first.width == 1  # 8-bit PCM (or fewer bits): bytes as they are, 128 is silence
    channels = first.channels
    if len(files) * frames * channels * (1 if eight else 4) > MAX_DATA_BYTES:
        raise DatasetError(f"{folder}: {len(files):,} clips padded to {frames:,} frames (the "
                           f"longest: {longest}) are more than {MAX_DATA_BYTES >> 20} MiB")
    values = np.full((len(files), frames, channels), 128 if eight else 0,
                     np.uint8 if eight else np.float32)
    kind: Wav | None = None
    for i, (f, _) in enumerate(files):
        try:
            wav = read_wav(f, MAX_FILE_BYTES)
        except WavError as exc:
            raise DatasetError(str(exc)) from None
        if kind is None:
            kind = wav
        elif wav.describe() != kind.describe():
            raise DatasetError(f"{f}: {wav.describe()}; the first clip ({files[0][0]}) is "
                               f"{kind.describe()}: all must be alike")
        if len(wav.samples) > frames:  # read_wav holds it to its header: changed since
            raise DatasetError(f"{f}: changed while the folder was read")
        values[i, : len(wav.samples)] = _values(wav.samples, str(f))
    assert kind is not None  # files is not empty
    labels = np.array([label for _, label in files], np.int64)
    return Dataset(root.name or str(root), values, labels, classes,
                   f"{folder} ({len(files)} clips, {kind.describe()}, padded to {frames:,} "
                   f"frames; classes {', '.join(names)[:200]}{note})", layout="sequence",
                   class_names=tuple(names),
                   clips=Clips(kind.kind, kind.rate, 128 if eight else 0, str(longest)))


def _open_image(path: Path) -> PIL.Image.Image:
    """The image at ``path``, opened (not decoded); DatasetError when it has more pixels than
    any model's input may hold (MAX_VALUES), from its header: a palette image is decoded to
    RGB to tell grey from colour, and a 165 KB PNG can declare 13000 x 13000. PIL's warning
    about such sizes is not printed (the line here says it)."""
    from PIL import Image

    from ebnn.layers.base import MAX_VALUES

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = Image.open(path)
    w, h = im.size
    if w * h > MAX_VALUES:
        im.close()
        raise DatasetError(f"{path}: {w}x{h} pixels, more than a model's input holds "
                           f"({MAX_VALUES:,} values)")
    return im


def _load_images(root: Path, folder: Path, names: list[str], files: list[tuple[Path, int]],
                 n: int, note: str = "") -> Dataset:
    """The images of a class folder: every one must have the same size and mode; ``note``
    ends the description (:func:`skipped_text`)."""
    from PIL import Image, UnidentifiedImageError

    images: list[np.ndarray] = []
    first: tuple[tuple[int, int], str] | None = None
    grey_mode = False  # a grey image seen that is not a palette whose colours happen to be grey
    for f, _ in files:
        try:
            with _open_image(f) as im:
                grey = (*GREY_MODES, *WIDE_MODES)
                mode = "L" if im.mode in grey else "RGB"
                palette_grey = False
                if im.mode in ("P", "PA"):  # a palette: grey when every colour used is
                    rgb = np.asarray(im.convert("RGB"))  # (as `ebnn-sim run --input` decides)
                    mode = "L" if (rgb == rgb[..., :1]).all() else "RGB"
                    palette_grey = mode == "L"
                if first is None:
                    first = (im.size, mode)
                    w, h = im.size
                    if w * h * (1 if mode == "L" else 3) * len(files) > MAX_DATA_BYTES:
                        raise DatasetError(f"{folder}: {len(files):,} images of {w}x{h} are "
                                           f"more than {MAX_DATA_BYTES >> 20} MiB")
                elif im.size == first[0] and mode != first[1] and (
                        palette_grey or (mode == "RGB" and not grey_mode)):
                    # a palette of grey colours is a frame of a colour palette set: colour
                    if mode == "RGB":  # every image so far such a palette: all colour
                        if w * h * 3 * len(files) > MAX_DATA_BYTES:
                            raise DatasetError(f"{folder}: {len(files):,} images of {w}x{h} "
                                               f"are more than {MAX_DATA_BYTES >> 20} MiB")
                        images = [np.repeat(a, 3, axis=2) for a in images]
                        first = (first[0], "RGB")
                    mode = "RGB"
                elif (im.size, mode) != first:
                    raise DatasetError(
                        f"{f}: {im.size[0]}x{im.size[1]} {mode}, the first image is "
                        f"{first[0][0]}x{first[0][1]} {first[1]}; all must be alike")
                grey_mode = grey_mode or (mode == "L" and not palette_grey)
                if im.mode in WIDE_MODES:  # as `ebnn-sim run --input` reads a 16-bit PNG
                    wide = np.asarray(im, np.float64)
                    pixels = np.clip(np.round(wide * (255 / 65535)), 0, 255).astype(np.uint8)
                else:
                    pixels = np.asarray(im.convert(mode), np.uint8)
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as exc:
            raise DatasetError(f"{f}: not a readable image ({type(exc).__name__})") from None
        images.append(pixels.reshape(pixels.shape[0], pixels.shape[1], -1))
    labels = np.array([label for _, label in files], np.int64)
    return Dataset(root.name or str(root), np.stack(images), labels, n,
                   f"{folder} ({len(files)} images; classes {', '.join(names)[:200]}{note})",
                   class_names=tuple(names))


IDX_BUILTINS = ("mnist", "fashion-mnist")  # the built-in sets --data-dir reads from IDX files


def load_source(dataset: str | None, data: Path | None, data_dir: Path | None, split: str,
                default: str = "mnist") -> Dataset:
    """One split ("train" or "test") of a data set named (``--dataset``), at a path
    (``--data``) or in an IDX folder (``--data-dir``, the own files of ``--dataset``, mnist
    or fashion-mnist); ``--data`` with neither of the others."""
    from ebnn.data import load_dataset

    if data is not None and (dataset is not None or data_dir is not None):
        given = "--dataset" if dataset is not None else "--data-dir"
        raise DatasetError(f"give one of {given} and --data, not both")
    if dataset is not None and data_dir is not None and dataset not in IDX_BUILTINS:
        raise DatasetError(f"--data-dir reads the IDX files of {' or '.join(IDX_BUILTINS)}; "
                           f"{dataset} is not read from IDX files")
    if data is not None:
        return load_path(data, split)
    return load_dataset(dataset or default, data_dir=data_dir, split=split)


def has_test_split(dataset: str | None, data: Path | None, data_dir: Path | None) -> bool:
    """Whether the source of ``load_source`` has a test split."""
    from ebnn.datasets import BUILTINS

    if data is not None:
        return "test" in splits_of(data)
    if data_dir is not None:
        return True
    b = BUILTINS.get((dataset or "mnist").lower())
    return b is not None and "test" in b.splits

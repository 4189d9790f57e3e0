"""The images of a search: training, validation (held out, chooses) and test (only reported).

The same sources as ``ebnn train`` (a built-in data set, ``--data PATH``, an IDX folder), split
the way ``ebnn train`` splits them for the same config, and float data quantised to 8 bits per
channel with the parameters fitted on the training part (as ``ebnn train`` does), so every
candidate's firmware takes the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ebnn.data import Dataset, DatasetError, load_dataset, relabel_by_names, split_train_val
from ebnn.datafiles import has_test_split, load_path, load_source, splits_of, unlabelled_test


@dataclass(frozen=True, eq=False)
class SearchData:
    train: Dataset
    val: Dataset
    test: Dataset | None  # None when the data has no test split (the bundled MNIST subset)
    quant: dict[str, Any] | None = None  # the input quantisation of float data (to_dict form)
    notes: tuple[str, ...] = field(default=())  # what the user is told of the data (warnings)

    @property
    def name(self) -> str:
        return self.train.name

    def train_extra(self) -> dict[str, Any]:
        """What each candidate's checkpoint keeps beyond its weights, as `ebnn train`'s does:
        the input quantisation, the class names, a clip folder's format."""
        from ebnn.data import training_extra

        extra: dict[str, Any] = training_extra(self.train)
        if self.quant is not None:
            extra["input_quant"] = self.quant
        return extra

    @property
    def source(self) -> str:
        return self.train.source

    def digest(self) -> str:
        """What identifies the images and labels of every split (sha256): a search resumed on
        other data would rank candidates trained and validated on different images."""
        h = hashlib.sha256()
        for part in (self.train, self.val, self.test):
            if part is not None:
                h.update(np.ascontiguousarray(part.images).tobytes())
                h.update(np.ascontiguousarray(part.labels).tobytes())
            h.update(b"|")
        return h.hexdigest()

    def subset(self, limit: int | None) -> SearchData:
        """``limit`` training images, every class in proportion (``Dataset.sample``; for quick
        searches); validation and test whole."""
        if limit is None or limit >= len(self.train):
            return self
        return replace(self, train=self.train.sample(limit))


def _by_names(test: Dataset, train: Dataset) -> Dataset:
    """``test`` with its labels in ``train``'s numbering: data that names its classes numbers
    them by the names it holds (a test file without one class would shift the later ones)."""
    if test.class_names is None and train.class_names is None:
        if test.classes < train.classes:  # numbered from the labels it holds: fewer is fine
            test = replace(test, classes=train.classes)
        return test
    if train.class_names is None or (test.class_names is None and not all(
            n.isdigit() for n in train.class_names)):  # numbers only match names that are
        raise DatasetError(f"{test.source}: "
                           + ("names its classes, the training data numbers them"
                              if train.class_names is None else
                              "numbers its classes, the training data names them")
                           + ": which is which cannot be told")
    return relabel_by_names(test, train.class_names, train.classes, "the training data's")


def load_search_data(dataset: str | None, data_dir: Path | None, val_fraction: float,
                     seed: int, test_dir: Path | None = None,
                     data: Path | None = None,
                     shape: tuple[int, ...] | None = None,
                     test_data: Path | None = None) -> SearchData:
    """The training split, with ``val_fraction`` held out (stratified, fixed by ``seed``: the
    split ``ebnn train`` makes for the same config), and a test split: ``test_dir``'s (an IDX
    folder with the t10k files), or ``test_data``'s (a data path: its test split if it has
    one, else all of it; class names numbered by the training data's), else the source's own
    if it has one (the bundled MNIST subset has none). ``shape``: the space's input, which
    flat samples (CSV rows) take. DatasetError on a problem."""
    full = load_source(dataset, data, data_dir, "train")
    if shape is not None:
        full = full.fit_to(shape, "the space's input")
    train, val = split_train_val(full, val_fraction, seed)
    test: Dataset | None = None
    notes: list[str] = []
    if test_dir is not None:  # an IDX folder; the data set's name only labels it
        test = load_dataset(dataset or "mnist", data_dir=test_dir, split="test")
    elif test_data is not None:
        test = _by_names(load_path(test_data, "test" if "test" in splits_of(test_data)
                                   else "train"), full)
    elif data is not None and unlabelled_test(data):  # as `ebnn train` takes it
        notes.append(f"{data}: has x_test but not y_test: its test split cannot be scored, so "
                     "no test accuracy is reported")
    elif ("test" in splits_of(data_dir) if data_dir is not None
          else has_test_split(dataset, data, None)):
        test = load_source(dataset, data, data_dir, "test")
    if test is not None and test.clips is not None and full.clips is not None and (
            test.clips.describe() != full.clips.describe()):  # other clips: another scale
        raise DatasetError(f"{test.source}: {test.clips.describe()}; the training clips are "
                           f"{full.clips.describe()}: convert them")
    if test is not None and shape is not None:  # named by its source: the training split fits
        test = replace(replace(test, name=f"the test split, {test.source},").fit_to(
            shape, "the space's input"), name=test.name)
    if test is not None and (test.image_shape != full.image_shape
                             or test.classes != full.classes):
        raise DatasetError(f"the test split, {test.source}, holds {test.image_shape} in "
                           f"{test.classes} classes, the training split {full.image_shape} in "
                           f"{full.classes}")
    quant = None
    if full.images.dtype != np.uint8:
        from ebnn.quantize import QuantError, fit

        try:
            q = fit(train.images)
        except QuantError as exc:
            raise DatasetError(str(exc)) from None
        quant = q.to_dict()
        train = replace(train, images=q.apply(train.images))
        val = replace(val, images=q.apply(val.images))
        if test is not None:
            test = replace(test, images=q.apply(test.images))
    return SearchData(train, val, test, quant, tuple(notes))


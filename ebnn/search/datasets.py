"""The images of a search: training, validation (held out, chooses) and test (only reported).

One small function over ``ebnn.data``, so that another data source (``--data PATH``) needs only
a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ebnn.data import IDX_FILES, Dataset, DatasetError, load_dataset, split_train_val


@dataclass(frozen=True, eq=False)
class SearchData:
    train: Dataset
    val: Dataset
    test: Dataset | None  # None when the data has no test split (the bundled MNIST subset)

    @property
    def name(self) -> str:
        return self.train.name

    @property
    def source(self) -> str:
        return self.train.source

    def subset(self, limit: int | None) -> SearchData:
        """The first ``limit`` training images (for quick searches); validation and test whole."""
        if limit is None or limit >= len(self.train):
            return self
        return SearchData(self.train.head(limit), self.val, self.test)


def _has_test(data_dir: Path) -> bool:
    base = IDX_FILES["test"][0]
    return (data_dir / base).is_file() or (data_dir / f"{base}.gz").is_file()


def load_search_data(dataset: str | None, data_dir: Path | None, val_fraction: float,
                     seed: int, test_dir: Path | None = None) -> SearchData:
    """The training split, with ``val_fraction`` held out (stratified, fixed by ``seed``: the
    split ``ebnn train`` makes for the same config), and a test split: ``test_dir``'s (an IDX
    folder with the t10k files), else the data's own if it has one (the bundled MNIST subset
    has none). DatasetError on a problem."""
    name = dataset or "mnist"
    full = load_dataset(name, data_dir=data_dir, split="train")
    train, val = split_train_val(full, val_fraction, seed)
    test: Dataset | None = None
    if test_dir is not None:
        test = load_dataset(name, data_dir=test_dir, split="test")
    elif (data_dir is not None and _has_test(data_dir)) or (data_dir is None and name != "mnist"):
        test = load_dataset(name, data_dir=data_dir, split="test")
    for part, what in ((test, "test"),):
        if part is not None and (part.image_shape != full.image_shape
                                 or part.classes != full.classes):
            raise DatasetError(f"the {what} images are {part.image_shape} in {part.classes} "
                               f"classes, the training images {full.image_shape} in "
                               f"{full.classes}")
    return SearchData(train, val, test)

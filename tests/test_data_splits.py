"""A data folder whose two splits hold samples of different shapes (images in train/ and
test/, or IDX files) is refused when either split is loaded, in one line naming the split,
both shapes (H, W, C; of a palette image H, W) and a file: it trained without a word and
showed only at eval, as "fold samples are (10, 10, 1); the model takes (8, 8, 1)"."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_ebnn_cli import ebnn, one_line_error

from ebnn.data import DatasetError
from ebnn.datafiles import load_path

RNG = np.random.default_rng(7)
CONFIG = """
[model]
name = "m"
input = [8, 8, 1]
classes = 2

[[model.layers]]
type = "conv"
filters = 4
kernel = 3
padding = 1
pool = 2

[train]
epochs = 1
batch_size = 4
"""


def _images(root: Path, size: tuple[int, int], mode: str = "L", count: int = 3) -> None:
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(count):
            shape = size[::-1] + ((3,) if mode == "RGB" else ())
            im = Image.fromarray(RNG.integers(0, 256, shape, dtype=np.uint8))
            (im.convert("P") if mode == "P" else im).save(root / name / f"{i}.png")


def _idx(root: Path, base: str, images: np.ndarray, labels: np.ndarray, gz: bool) -> None:
    root.mkdir(exist_ok=True)
    data = (b"\0\0\x08" + bytes([images.ndim]) + struct.pack(f">{images.ndim}I", *images.shape)
            + images.tobytes())
    name = f"{base}-images-idx3-ubyte"
    if gz:
        (root / f"{name}.gz").write_bytes(gzip.compress(data))
    else:
        (root / name).write_bytes(data)
    (root / f"{base}-labels-idx1-ubyte").write_bytes(
        b"\0\0\x08\x01" + struct.pack(">I", len(labels)) + labels.astype(np.uint8).tobytes())


def _message(root: Path, split: str) -> str:
    with pytest.raises(DatasetError) as e:
        load_path(root, split)
    assert "\n" not in str(e.value)
    return str(e.value)


def test_image_splits_of_other_sizes_are_refused(tmp_path):
    root = tmp_path / "fold"
    _images(root / "train", (8, 8))
    _images(root / "test", (10, 10))
    assert _message(root, "train") == (
        f"{root}: the test split holds samples of (10, 10, 1) ({root}/test/a/0.png), the train "
        "split (8, 8, 1): a data set's two splits must be alike")
    assert _message(root, "test").startswith(
        f"{root}: the train split holds samples of (8, 8, 1) ({root}/train/a/0.png), the test "
        "split (10, 10, 1)")


def test_grey_and_colour_splits_are_refused_and_palettes_are_left_to_the_set(tmp_path):
    root = tmp_path / "fold"
    _images(root / "train", (8, 8))
    _images(root / "test", (8, 8), "RGB")
    assert "the test split holds samples of (8, 8, 3)" in _message(root, "train")
    # a palette image is grey or colour by the colours its whole split uses: not told here
    pal = tmp_path / "pal"
    _images(pal / "train", (8, 8))
    _images(pal / "test", (8, 8), "P")
    assert load_path(pal, "train").image_shape == (8, 8, 1)
    assert "the test split holds samples of (6, 8) " in _message(
        _resized(tmp_path / "pal6", (8, 6)), "train")


def _resized(root: Path, test_size: tuple[int, int]) -> Path:
    _images(root / "train", (8, 8))
    _images(root / "test", test_size, "P")
    return root


@pytest.mark.parametrize("gz", [False, True])
def test_idx_splits_of_other_shapes_are_refused(tmp_path, gz):
    labels = np.arange(6) % 2
    _idx(tmp_path, "train", RNG.integers(0, 256, (6, 8, 8), dtype=np.uint8), labels, gz)
    _idx(tmp_path, "t10k", RNG.integers(0, 256, (6, 10, 10), dtype=np.uint8), labels, gz)
    where = tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))
    assert _message(tmp_path, "train") == (
        f"{tmp_path}: the test split holds samples of (10, 10, 1) ({where}), the train split "
        "(8, 8, 1): a data set's two splits must be alike")
    assert "the train split holds samples of (8, 8, 1)" in _message(tmp_path, "test")


def test_alike_splits_load_and_a_broken_other_split_is_its_own_error(tmp_path):
    labels = np.arange(6) % 2
    _idx(tmp_path, "train", RNG.integers(0, 256, (6, 8, 8), dtype=np.uint8), labels, False)
    _idx(tmp_path, "t10k", RNG.integers(0, 256, (6, 8, 8, 1), dtype=np.uint8), labels, False)
    assert load_path(tmp_path, "train").image_shape == load_path(tmp_path, "test").image_shape
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"not an IDX file")
    assert load_path(tmp_path, "train").image_shape == (8, 8, 1)
    assert "not an IDX file" in _message(tmp_path, "test")


def test_train_refuses_a_folder_whose_splits_differ(tmp_path):
    root = tmp_path / "fold"
    _images(root / "train", (8, 8))
    _images(root / "test", (10, 10))
    cfg = tmp_path / "m.toml"
    cfg.write_text(CONFIG)
    line = one_line_error(ebnn("train", cfg, "--data", root, "-o", tmp_path / "m.pt"))
    assert "the test split holds samples of (10, 10, 1)" in line
    assert "the train split (8, 8, 1)" in line
    assert not (tmp_path / "m.pt").exists()

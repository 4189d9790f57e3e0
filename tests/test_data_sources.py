"""Data from anywhere (ebnn/datafiles.py, ebnn/datasets.py): .npz, .csv, image folders, IDX
folders and the built-in sets; every bad file is one line, never a traceback."""

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_ebnn_cli import ebnn, one_line_error

from ebnn.data import Dataset, DatasetError, load_dataset
from ebnn.datafiles import load_path, splits_of
from ebnn.datasets import read_ts

RNG = np.random.default_rng(5)


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg
    return msg


# --- .npz ------------------------------------------------------------------------------------
def test_npz_train_and_test_splits(tmp_path: Path) -> None:
    p = tmp_path / "set.npz"
    x = RNG.integers(0, 256, (20, 6, 5), dtype=np.uint8)
    xt = RNG.normal(size=(7, 6, 5)).astype(np.float64)
    np.savez(p, x=x, y=np.arange(20) % 3, x_test=xt, y_test=np.arange(7) % 3)
    train, test = load_path(p, "train"), load_path(p, "test")
    assert splits_of(p) == ("train", "test")
    assert train.images.dtype == np.uint8 and train.image_shape == (6, 5, 1)
    assert np.array_equal(train.images[..., 0], x) and train.classes == 3
    assert test.images.dtype == np.float32 and np.allclose(test.images[..., 0], xt)
    assert list(test.labels) == [i % 3 for i in range(7)]


def test_npz_sequences_and_flat(tmp_path: Path) -> None:
    p = tmp_path / "seq.npz"
    np.savez(p, x=RNG.normal(size=(10, 30, 6)), y=np.arange(10) % 2, layout=np.array("sequence"))
    ds = load_path(p)
    assert ds.layout == "sequence" and ds.image_shape == (30, 6)
    assert splits_of(p) == ("train",)
    flat = tmp_path / "flat.npz"
    np.savez(flat, x=RNG.integers(0, 256, (4, 12)), y=[0, 1, 0, 1])
    ds = load_path(flat)
    assert ds.layout == "flat" and ds.fit_to((3, 4, 1)).image_shape == (3, 4, 1)
    with pytest.raises(DatasetError) as e:
        ds.fit_to((5, 5, 1))
    assert "(12,)" in one_line(e)
    # (N, T, C) without layout: greyscale images; a sequence model names the missing member
    bare = tmp_path / "bare.npz"
    np.savez(bare, x=RNG.normal(size=(10, 30, 6)), y=np.arange(10) % 2)
    with pytest.raises(DatasetError) as e:
        load_path(bare).fit_to((1, 30, 6))
    assert 'takes sequences [30, 6] (180 values); an .npz of (N, T, C) sequences needs a ' \
        'member layout = "sequence"' in one_line(e)


@pytest.mark.parametrize("arrays, words", [
    ({"y": [0, 1]}, "no array x"),
    ({"x": np.zeros((3, 2, 2)), "y": [0, 1]}, "3 samples but y has 2"),
    ({"x": np.full((2, 2, 2), np.nan), "y": [0, 1]}, "finite"),
    ({"x": np.zeros((2, 2, 2)), "y": [0.5, 1]}, "integers"),
    ({"x": np.zeros((2, 2, 2)), "y": [-1, 1]}, "class numbers 0..4095"),
    ({"x": np.zeros((2,)), "y": [0, 1]}, "fit no layout"),
    ({"x": np.zeros((2, 2, 2)), "y": [0, 1], "layout": np.array("movie")}, "layout"),
    # meant but not read: X_test was ignored and eval scored the training samples, 100%
    ({"x": np.zeros((2, 2, 2)), "y": [0, 1], "X_test": np.zeros((2, 2, 2)), "Y_test": [0, 1]},
     "member(s) X_test, Y_test: the names are lowercase (x, y, x_test, y_test, layout)"),
    ({"x": np.zeros((2, 2, 2)), "y": [0, 1], "y_test": [0, 1]}, "has y_test but not x_test"),
    ({"x": np.zeros((2, 2, 2)), "y": [0, 1], "x_train": np.zeros((2, 2, 2))},
     "holds x/y and x_train/y_train"),
])
def test_bad_npz_is_one_line(tmp_path: Path, arrays, words) -> None:
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(DatasetError) as e:
        load_path(p)
    assert words in one_line(e) and str(p) in one_line(e)


def test_an_npz_with_keras_names_and_other_members_loads(tmp_path: Path) -> None:
    """x_train/y_train (keras.datasets' mnist.npz) are the training split; a member of
    another name (class names, say) is not read."""
    p = tmp_path / "keras.npz"
    np.savez(p, x_train=np.zeros((4, 2, 2), np.uint8), y_train=[0, 1, 0, 1],
             x_test=np.ones((2, 2, 2), np.uint8), y_test=[1, 0], names=np.array(["a", "b"]))
    train, test = load_path(p), load_path(p, "test")
    assert list(train.labels) == [0, 1, 0, 1] and list(test.labels) == [1, 0]
    assert train.images.shape[0] == 4 and int(test.images.max()) == 1


def test_an_npz_test_split_without_labels_trains_but_is_not_scored(tmp_path: Path) -> None:
    # eval scored x (the training samples) whole when y_test was missing, without a word
    p = tmp_path / "unlabelled.npz"
    np.savez(p, x=RNG.integers(0, 256, (4, 2, 2), dtype=np.uint8), y=[0, 1, 0, 1],
             x_test=np.zeros((2, 2, 2), np.uint8))
    assert splits_of(p) == ("train", "test")
    assert len(load_path(p)) == 4  # training reads x and y as ever
    with pytest.raises(DatasetError) as e:
        load_path(p, "test")
    assert "has x_test but not y_test: its test split has no labels" in one_line(e)


def test_hostile_npz(tmp_path: Path) -> None:
    pickled = tmp_path / "pickle.npz"
    np.savez(pickled, x=np.array([{"a": 1}, {"b": 2}], dtype=object), y=[0, 1])
    with pytest.raises(DatasetError, match="Python objects"):
        load_path(pickled)
    # a member whose header claims far more data than it holds (a 10^12-element array)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False,
                                               "shape": (10**6, 10**6)})
    huge = tmp_path / "huge.npz"
    with zipfile.ZipFile(huge, "w") as zf:
        zf.writestr("x.npy", buf.getvalue() + b"\0" * 16)
        zf.writestr("y.npy", buf.getvalue())
    with pytest.raises(DatasetError, match="more than it holds"):
        load_path(huge)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DatasetError, match=r"not an \.npz"):
        load_path(garbage)


# --- .csv ------------------------------------------------------------------------------------
def test_csv_with_integer_and_named_labels(tmp_path: Path) -> None:
    p = tmp_path / "pixels.csv"
    rows = RNG.integers(0, 256, (6, 4))
    p.write_text("label,a,b,c,d\n" + "".join(f"{i % 2}," + ",".join(map(str, r)) + "\n"
                                                for i, r in enumerate(rows)))
    ds = load_path(p)
    assert ds.images.dtype == np.uint8 and ds.layout == "flat" and ds.image_shape == (4,)
    assert np.array_equal(ds.images, rows) and list(ds.labels) == [0, 1] * 3
    named = tmp_path / "imu.csv"
    named.write_text("activity,ax,ay\nwalk,0.5,-1.25\nrun,2,3\nwalk,0,0\n")
    ds = load_path(named)
    assert ds.images.dtype == np.float32 and list(ds.labels) == [1, 0, 1]
    assert "classes run, walk" in ds.source


@pytest.mark.parametrize("text, words", [
    ("1,2,3\n0,4,5\n", "header"),
    ("label,a\n", "at least one sample"),
    ("label,a,b\n0,1\n", "2 columns, the header has 3"),
    ("label,a\n0,x\n", "bad.csv:2: column 2 ('a') holds 'x', not a number"),
    ("label,a,b\n0,1, \n", "bad.csv:2: column 3 ('b') is empty; features must be numbers"),
    # the label read from the first column while another is named so: the wrong column was
    # trained on without a word (data review F3); other separators than commas named (F9)
    ("id,a,label\n0,1,2\n", "column 3 is named 'label', but the label is read from the first "
     "column ('id'): put the label column first"),
    # the label column last under another name: the first, a float feature, was read as
    # class names, one per value ("c_activity_last has 100 (-0.033 (1), ...)", review M4)
    ("f0,f1,activity\n0.25,1.5,0\n-0.5,2.25,1\n1.75,0.5,2\n0,1,1\n", "bad.csv: the label is "
     "read from the first column ('f0'), which holds numbers that are not class numbers (0.25 "
     "at line 2): the first column must hold the labels, class numbers 0..K-1 or class names; "
     "column 3 ('activity') holds class numbers 0..2: if it is the label, move it first"),
    ("f0,f1\n0.25,1.5\n-0.5,2.25\n", "must hold the labels, class numbers 0..K-1 or class "
     "names"),
    # pandas' to_csv() and R's write.csv() write a row index first, unnamed: as the label it
    # gave every row a class of its own (or, with a named label column, a misleading message)
    (",activity,a\n0,walk,1\n1,run,2\n", "bad.csv: the first column has no name: a row index "
     "(pandas' to_csv writes one unless index=False"),
    ('"",a,b\n1,0,2\n2,1,3\n', "R's write.csv unless row.names=FALSE"),
    ("Unnamed: 0,label,a\n0,1,2\n", "the first column has no name"),
    ("label;a;b\n0;1;2\n", "(its header is one column holding ';': the columns must be "
     "separated by commas)"),
    ("label,a\n0,nan\n", "bad.csv:2: a feature is nan"),
    ("label,a\n0,1e300\n", "beyond float32"),
    ("label\n0\n", "feature column"),
    # a blank line does not shift the line numbers; a missing label is named, not a class
    ("label,a\n0,1\n\n1,2\n,3\n", "bad.csv:5: label '' is not a class number"),
    ("label,a\n0,1\n?,2\n", "bad.csv:3: label '?' is not a class number"),
    # among class names a blank label was a class of its own, ''
    ("label,a\ncat,1\ndog,2\n ,3\n", "bad.csv:4: no label; give every row its class name"),
    ("label,a\n0,1\n1000000000000000000000000000000,2\n", "bad.csv:3: label '1000"),
    ("label,a\n0,1\n2.5,2\n", "bad.csv:3: label '2.5' is not a class number"),
    ("label,a\n1_0,1\n2,2\n", "bad.csv:2: label '1_0' is not a class number"),
    ("label,a\n0,1\n-1,2\n", "bad.csv:3: label -1 is not a class number"),
    # no header: the first sample was taken for one and dropped without a word
    ("walk,0.5,1\nrun,2,3\nwalk,0,0\n", "the first row is a sample, not a header (its label "
     "'walk' labels rows below"),
])
def test_bad_csv_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DatasetError) as e:
        load_path(p)
    assert words in one_line(e)


def test_csv_with_pandas_column_names_reads_them_as_the_header(tmp_path: Path) -> None:
    # pd.DataFrame(array).to_csv(index=False) names the columns 0, 1, 2, ...
    p = tmp_path / "pandas.csv"
    p.write_text("0,1,2,3\n1,10,20,30\n0,40,50,60\n")
    ds = load_path(p)
    assert list(ds.labels) == [1, 0] and ds.images.tolist() == [[10, 20, 30], [40, 50, 60]]


def test_csv_whole_float_labels_are_numbers(tmp_path: Path) -> None:
    """pandas writes integer labels of a float column as 1.0: they are class 1, not names
    sorted as text (where "10.0" would come before "2.0")."""
    p = tmp_path / "f.csv"
    p.write_text("label,a\n" + "".join(f"{c}.0,{c}\n" for c in range(12)))
    ds = load_path(p)
    assert list(ds.labels) == list(range(12)) and ds.classes == 12 and ds.class_names is None


def test_csv_has_one_split(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("label,a\n0,1\n1,2\n")
    with pytest.raises(DatasetError, match="a CSV holds one split, with no test part: --split all"):
        load_path(p, "test")


# --- image folders and IDX -------------------------------------------------------------------
def _folder(root: Path, classes: dict[str, int], size: tuple[int, int] = (5, 4)) -> None:
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(RNG.integers(0, 256, size[::-1], dtype=np.uint8)).save(
                root / name / f"{i}.png")


def test_image_folder(tmp_path: Path) -> None:
    _folder(tmp_path / "shapes", {"circle": 3, "square": 2})
    ds = load_path(tmp_path / "shapes")
    assert ds.image_shape == (4, 5, 1) and ds.classes == 2 and list(ds.labels) == [0, 0, 0, 1, 1]
    assert "circle, square" in ds.source
    with pytest.raises(DatasetError, match="no test split"):
        load_path(tmp_path / "shapes", "test")
    _folder(tmp_path / "split" / "train", {"a": 2, "b": 2})
    _folder(tmp_path / "split" / "test", {"a": 1, "b": 1})
    assert splits_of(tmp_path / "split") == ("train", "test")
    assert len(load_path(tmp_path / "split", "test")) == 2


def test_what_a_class_folder_holds_besides_its_inputs_is_named(tmp_path: Path) -> None:
    """Files of other types and sub-folders are not read: the data's description says so,
    naming the first (data review F5: 11 of 31 images went without a word); hidden files are
    skipped without one."""
    _folder(tmp_path / "sk", {"a": 2, "b": 2, "b/session2": 3})
    (tmp_path / "sk" / "a" / "notes.txt").write_text("x")
    (tmp_path / "sk" / "a" / ".DS_Store").write_text("x")
    ds = load_path(tmp_path / "sk")
    assert len(ds) == 4 and ds.source.endswith(
        "; 2 not read (not images or WAV clips by their suffix, or sub-folders): a/notes.txt, "
        "b/session2/)")
    _folder(tmp_path / "plain", {"a": 2, "b": 2})
    assert "not read" not in load_path(tmp_path / "plain").source


def test_a_train_folder_without_test_says_so(tmp_path: Path) -> None:
    """train/ alone (or Train/ and Test/) read as classes whose images lie a level deeper:
    'no images' said nothing of why (data review F8)."""
    _folder(tmp_path / "one" / "train", {"a": 2, "b": 2})
    with pytest.raises(DatasetError) as e:
        load_path(tmp_path / "one")
    assert one_line(e).endswith("(its train/ holds folders: a data set of two splits has both "
                                "train/ and test/, in lower case)")


def test_image_folder_splits_share_class_numbers(tmp_path: Path) -> None:
    """A test split without one of the classes keeps the others' numbers (they used to shift
    down, so every later class was scored as the wrong one)."""
    _folder(tmp_path / "s" / "train", {"a": 2, "b": 2, "c": 2})
    _folder(tmp_path / "s" / "test", {"a": 1, "c": 2})
    train, test = load_path(tmp_path / "s", "train"), load_path(tmp_path / "s", "test")
    assert train.class_names == test.class_names == ("a", "b", "c")
    assert list(test.labels) == [0, 2, 2] and test.classes == 3


def test_sixteen_bit_png_is_scaled_as_run_reads_it(tmp_path: Path) -> None:
    from sim.inputs import console_bytes

    wide = (RNG.integers(0, 65536, (4, 5))).astype(np.uint16)
    for c in "ab":
        (tmp_path / "w" / c).mkdir(parents=True)
        Image.fromarray(wide).save(tmp_path / "w" / c / "0.png")
    ds = load_path(tmp_path / "w")
    run = np.frombuffer(console_bytes(tmp_path / "w" / "a" / "0.png"), np.uint8)
    assert np.array_equal(ds.images[0].ravel(), run)
    assert np.array_equal(run, np.round(wide.ravel().astype(float) * 255 / 65535).astype(np.uint8))


@pytest.mark.parametrize("colour", [True, False])
def test_palette_png_is_colour_or_grey_as_run_reads_it(tmp_path: Path, colour: bool) -> None:
    # a colour palette PNG (pngquant, a GIF re-saved) was converted to grey for training,
    # while `ebnn-sim run --input` read the same file as colour
    from sim.inputs import console_bytes

    rgb = RNG.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    if not colour:
        rgb[..., 1] = rgb[..., 2] = rgb[..., 0]
    for c in "ab":
        (tmp_path / "p" / c).mkdir(parents=True)
        Image.fromarray(rgb).quantize(16).save(tmp_path / "p" / c / "0.png")
    ds = load_path(tmp_path / "p")
    assert ds.image_shape == ((4, 5, 3) if colour else (4, 5, 1))
    run = np.frombuffer(console_bytes(tmp_path / "p" / "a" / "0.png"), np.uint8)
    assert np.array_equal(ds.images[0].ravel(), run)


def test_a_colour_palette_set_with_a_grey_frame_is_colour(tmp_path: Path) -> None:
    # a frame whose palette colours happen to be grey was 'L' beside 'RGB' ones: refused
    rgb = RNG.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    grey = np.repeat(rgb[..., :1], 3, axis=2)
    for c, frames in (("a", [grey, rgb]), ("b", [rgb, grey])):  # the grey frame first, then last
        (tmp_path / "p" / c).mkdir(parents=True)
        for i, frame in enumerate(frames):
            Image.fromarray(frame).quantize(16).save(tmp_path / "p" / c / f"{i}.png")
    ds = load_path(tmp_path / "p")
    assert ds.image_shape == (4, 5, 3) and len(ds) == 4
    # a grey image (mode L) beside colour stays refused: all grey or all colour
    Image.fromarray(rgb[..., 0]).save(tmp_path / "p" / "b" / "2.png")
    with pytest.raises(DatasetError, match="all must be alike"):
        load_path(tmp_path / "p")


def test_bad_image_folders(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no class sub-folders"):
        load_path(tmp_path / "empty")
    _folder(tmp_path / "mixed", {"a": 2})
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(tmp_path / "mixed" / "a" / "z.png")
    with pytest.raises(DatasetError) as e:
        load_path(tmp_path / "mixed")
    assert "z.png" in one_line(e) and "all must be alike" in one_line(e)
    _folder(tmp_path / "broken", {"a": 1})
    (tmp_path / "broken" / "a" / "zz.png").write_bytes(b"\x89PNG\r\n\x1a\nnope")
    with pytest.raises(DatasetError, match="not a readable image"):
        load_path(tmp_path / "broken")
    with pytest.raises(DatasetError, match="no such file"):
        load_path(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DatasetError, match="not a data file"):
        load_path(tmp_path / "notes.txt")


def test_hostile_idx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    import ebnn.data
    from ebnn.data import read_idx

    # dimensions whose product overflows int64 are a short file, not a negative count
    (tmp_path / "huge").write_bytes(b"\0\0\x08\x03" + b"\xee\x6b\x28\x00" * 3 + b"\0" * 8)
    with pytest.raises(DatasetError, match="truncated IDX file"):
        read_idx(tmp_path / "huge")
    # a small .gz that expands past the bound is refused while it expands
    monkeypatch.setattr(ebnn.data, "MAX_IDX_BYTES", 1 << 16)
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(b"\0" * (1 << 20)))
    with pytest.raises(DatasetError, match="expands to more than"):
        read_idx(tmp_path / "bomb.gz")
    (tmp_path / "ok.gz").write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\x02\x07\x09"))
    assert list(read_idx(tmp_path / "ok.gz")) == [7, 9]
    # a .gz of two members (cat a.gz b.gz, bgzip) is read whole, as gzip.decompress did
    (tmp_path / "two.gz").write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\x02")
                                      + gzip.compress(b"\x07\x09"))
    assert list(read_idx(tmp_path / "two.gz")) == [7, 9]
    (tmp_path / "big").write_bytes(b"\0" * ((1 << 16) + 1))
    with pytest.raises(DatasetError, match="larger than"):
        read_idx(tmp_path / "big")


@pytest.mark.parametrize("labels, words", [
    (np.array([0, 2**64 - 1], np.uint64), "class numbers 0..4095"),
    (np.array([0, 5000]), "class numbers 0..4095"),
])
def test_npz_labels_out_of_range(tmp_path: Path, labels: np.ndarray, words: str) -> None:
    p = tmp_path / "l.npz"
    np.savez(p, x=np.zeros((2, 3, 3), np.uint8), y=labels)
    with pytest.raises(DatasetError) as e:
        load_path(p)
    assert words in one_line(e)


def test_idx_files_under_dotted_names(tmp_path: Path) -> None:
    """Kaggle's MNIST names its files train-images.idx3-ubyte: a folder of them was 'no class
    sub-folders'."""
    import struct

    images = RNG.integers(0, 256, (3, 2, 2), dtype=np.uint8)
    (tmp_path / "train-images.idx3-ubyte").write_bytes(
        b"\0\0\x08\x03" + struct.pack(">III", 3, 2, 2) + images.tobytes())
    (tmp_path / "train-labels.idx1-ubyte").write_bytes(
        b"\0\0\x08\x01" + struct.pack(">I", 3) + bytes([2, 0, 1]))
    ds = load_path(tmp_path)
    assert list(ds.labels) == [2, 0, 1] and np.array_equal(ds.images[..., 0], images)


def test_idx_folder_by_path() -> None:
    mnist = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
    ds = load_path(mnist, "test")
    assert len(ds) == 10_000 and ds.image_shape == (28, 28, 1)
    assert splits_of(mnist) == ("train", "test")  # the test files are there


# --- built-in sets ---------------------------------------------------------------------------
def test_digits_and_basicmotions() -> None:
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    assert (len(train), len(test)) == (1438, 359) and train.image_shape == (8, 8, 1)
    assert train.images.dtype == np.float32 and train.images.max() == 16
    imu = load_dataset("basicmotions", split="test")
    assert len(imu) == 40 and imu.image_shape == (100, 6) and imu.classes == 4
    assert imu.layout == "sequence" and np.bincount(imu.labels).tolist() == [10] * 4


def test_ts_reader_refuses_bad_files(tmp_path: Path) -> None:
    p = tmp_path / "x.ts"
    p.write_text("@problemName x\n@data\n1,2,3:4,5,6:a\n1,2:3,4:b\n")
    with pytest.raises(DatasetError, match="unequal length"):
        read_ts(p)
    p.write_text("@data\n1,zz:a\n")
    with pytest.raises(DatasetError, match=r"x\.ts:2: not a list of numbers"):
        read_ts(p)
    p.write_text("@problemName x\n")
    with pytest.raises(DatasetError, match="no @data"):
        read_ts(p)
    p.write_text("@data\n1,2,3:4,5,6:a\n")
    values, labels = read_ts(p)
    assert values.shape == (1, 3, 2) and labels == ["a"] and values[0, 2, 1] == 6


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(DatasetError, match="basicmotions"):
        load_dataset("cifar")


def test_datasets_command_lists_every_set(tmp_path: Path) -> None:
    proc = ebnn("datasets", "--json", tmp_path / "d.json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads((tmp_path / "d.json").read_text())}
    assert rows["mnist"]["sizes"] == {"train": 5000}
    assert rows["fashion-mnist"]["sizes"] == {"train": 60000, "test": 10000}
    assert rows["mnist1d"]["sizes"] == {"train": 4000, "test": 1000}
    assert rows["mnist1d"]["shape"] == [40, 1] and rows["basicmotions"]["shape"] == [100, 6]
    assert all(r["problem"] is None for r in rows.values())
    assert "basicmotions: 6-axis IMU" in proc.stdout and "train 1,438, test 359" in proc.stdout
    assert max(map(len, proc.stdout.splitlines())) <= 80, proc.stdout  # issue 16: a CI log


# --- the commands ----------------------------------------------------------------------------
SEQ_CONFIG = """
[model]
name = "seq"
input = [8, 8, 1]
classes = 4
[[model.layers]]
type = "conv"
filters = 4
"""


def test_train_refuses_sequences_naming_conv1d(tmp_path: Path) -> None:
    cfg = tmp_path / "seq.toml"
    cfg.write_text(SEQ_CONFIG)
    msg = one_line_error(ebnn("train", cfg, "--dataset", "basicmotions", "-o", tmp_path / "m.pt"))
    assert "sequences [T, C]" in msg and "conv1d" in msg


def test_train_refuses_bad_data_and_two_sources(tmp_path: Path) -> None:
    cfg = tmp_path / "seq.toml"
    cfg.write_text(SEQ_CONFIG)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n")
    assert "header" in one_line_error(ebnn("train", cfg, "--data", bad, "-o", tmp_path / "m.pt"))
    msg = one_line_error(ebnn("train", cfg, "--data", bad, "--dataset", "digits", "-o",
                              tmp_path / "m.pt"))
    assert "--dataset and --data" in msg


def test_dataset_rejects_nan() -> None:
    with pytest.raises(DatasetError, match="finite"):
        Dataset("x", np.full((2, 2, 2, 1), np.inf, np.float32), np.zeros(2, np.int64), 2, "s")


def test_reads_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ebnn.csv_table
    import ebnn.datafiles

    monkeypatch.setattr(ebnn.datafiles, "MAX_FILE_BYTES", 1 << 20)
    endless = tmp_path / "endless.csv"
    endless.symlink_to("/dev/zero")  # not a file: its size is counted as it is read
    with pytest.raises(DatasetError, match=r"endless\.csv:1: a row longer than 4 MiB \(at most "
                       "131,072 columns"):
        load_path(endless)
    monkeypatch.setattr(ebnn.csv_table, "MAX_FILE_BYTES", 1 << 20)
    with pytest.raises(DatasetError, match=r"endless\.csv: larger than 1 MiB"):
        load_path(endless)
    p = tmp_path / "big.npz"
    np.savez(p, x=np.zeros((300, 32, 32)), y=np.zeros(300, np.int64))
    with pytest.raises(DatasetError, match="members over 1 MiB"):
        load_path(p)


# --- class names and labels from training to eval (issue: a test split without a class) ------
NAMED_CONFIG = """
[model]
name = "named"
input = [2, 2, 1]
classes = 3
[[model.layers]]
type = "conv"
filters = 4
kernel = 2
[train]
epochs = {epochs}
"""


def _named_csv(path: Path, names: list[str], rows: int = 20) -> None:
    body = "".join(f"{n}," + ",".join(str((k * 37 + j * 11 + i) % 256) for j in range(4)) + "\n"
                   for i, n in enumerate(names) for k in range(rows))
    path.write_text("label,a,b,c,d\n" + body)


@pytest.fixture(scope="module")
def named_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("named")
    (out / "named.toml").write_text(NAMED_CONFIG.format(epochs=1))
    _named_csv(out / "train.csv", ["cat", "dog", "emu"])
    proc = ebnn("train", out / "named.toml", "--data", out / "train.csv", "-o", out / "m.pt")
    assert proc.returncode == 0, proc.stderr
    assert ebnn("export", out / "m.pt", "-o", out / "m.ebnn").returncode == 0
    return out


def test_the_firmware_of_a_model_that_names_its_classes_prints_the_name(
        named_model: Path, tmp_path: Path) -> None:
    from ebnn.artifact import load
    from ebnn.build import build_firmware
    from ebnn.verify import parse_scores
    from sim import Simulator, load_elf

    art = load(named_model / "m.ebnn")
    result, _ = build_firmware(art, tmp_path / "named.elf", "stm32l031")
    report = Simulator(load_elf(result.elf)).run()
    assert report.status == "ok" and report.exit_code == 0
    [line] = [ln for ln in report.stdout.splitlines() if ln.startswith("class:")]
    _, classes = parse_scores(report.stdout, 3)  # verify reads the number as before
    assert line == f"class: {classes[0]} ({['cat', 'dog', 'emu'][classes[0]]})"


def test_eval_numbers_classes_by_the_training_names(named_model: Path, tmp_path: Path) -> None:
    from ebnn.artifact import load
    from ebnn.evaluate import EvalError, eval_dataset

    art = load(named_model / "m.ebnn")
    assert art.metadata["class_names"] == ["cat", "dog", "emu"]
    _named_csv(tmp_path / "no-dog.csv", ["cat", "emu"], rows=3)  # numbered 0, 1 on its own
    ds, _ = eval_dataset(art, None, None, None, tmp_path / "no-dog.csv")
    assert list(ds.labels) == [0] * 3 + [2] * 3
    _named_csv(tmp_path / "fox.csv", ["cat", "fox"], rows=2)
    with pytest.raises(EvalError, match="class 'fox' is not one of the 3"):
        eval_dataset(art, None, None, None, tmp_path / "fox.csv")
    named_numbers = replace(art, metadata={**art.metadata, "class_names": ["2", "0", "1"]})
    np.savez(tmp_path / "seven.npz", x=np.zeros((4, 2, 2), np.uint8), y=np.full(4, 7))
    with pytest.raises(EvalError, match="class 7 is not one of the 3"):
        eval_dataset(named_numbers, None, None, None, tmp_path / "seven.npz")


def test_a_model_with_class_names_takes_numbered_data_only_by_names_that_are_numbers(
        named_model: Path, tmp_path: Path) -> None:
    """Numbered labels (an .npz) for a model that names its classes: they were scored by index
    (an .npz of an image folder numbered its own way: 0.00%, exit 0). Refused in one line,
    unless the names are numbers (folders 0/, 1/, ...), which then number the labels."""
    from ebnn.artifact import load
    from ebnn.evaluate import eval_dataset

    np.savez(tmp_path / "numbered.npz", x=np.zeros((6, 2, 2), np.uint8), y=np.arange(6) % 3)
    msg = one_line_error(ebnn("eval", named_model / "m.ebnn", "--data",
                              tmp_path / "numbered.npz"))
    assert ("the data numbers its classes, the model names them (0 cat, 1 dog, 2 emu): which "
            "number is which name cannot be told") in msg
    art = load(named_model / "m.ebnn")
    named_numbers = replace(art, metadata={**art.metadata, "class_names": ["2", "0", "1"]})
    ds, _ = eval_dataset(named_numbers, None, None, None, tmp_path / "numbered.npz")
    assert list(ds.labels) == [1, 2, 0, 1, 2, 0]  # label 0 is the model's class "0": index 1


def test_a_model_without_class_names_takes_named_data_only_by_number(
        named_model: Path, tmp_path: Path) -> None:
    """A model trained on numbered labels scored on data that names its classes: names were
    numbered in sorted order, whatever the user's numbering was (26.67% instead of 95%, exit
    0). A name that is a number is that label; other names are refused, in one line."""
    from ebnn.artifact import load
    from ebnn.evaluate import eval_dataset

    numbered = tmp_path / "numbered.npz"  # the user's coding: emu 0, cat 1, dog 2
    values = RNG.integers(0, 256, (30, 2, 2), dtype=np.uint8)
    np.savez(numbered, x=values, y=np.arange(30) % 3)
    ebnn_file = tmp_path / "m.ebnn"
    assert ebnn("train", named_model / "named.toml", "--data", numbered, "-o",
                tmp_path / "m.pt").returncode == 0
    assert ebnn("export", tmp_path / "m.pt", "-o", ebnn_file).returncode == 0
    art = load(ebnn_file)
    assert "class_names" not in art.metadata or art.metadata["class_names"] is None
    _named_csv(tmp_path / "named.csv", ["emu", "cat", "dog"], rows=2)
    msg = one_line_error(ebnn("eval", ebnn_file, "--data", tmp_path / "named.csv"))
    assert "the model records no class names" in msg and "give the labels as those numbers" in msg
    # names that are numbers are those labels (not their sorted order: "10" after "1")
    _named_csv(tmp_path / "digits.csv", ["2", "0"], rows=2)
    ds, _ = eval_dataset(art, None, None, None, tmp_path / "digits.csv")
    assert list(ds.labels) == [2, 2, 0, 0]


def test_train_refuses_a_test_split_eval_could_not_score(tmp_path: Path) -> None:
    """x_test of another shape trained without a word and failed first at eval (review M5):
    refused before training, as a folder's splits of two shapes are (s54); x_test without
    y_test trains with a warning."""
    cfg = tmp_path / "named.toml"
    cfg.write_text(NAMED_CONFIG.format(epochs=1))
    x = RNG.integers(0, 256, (30, 2, 2), dtype=np.uint8)
    y = np.arange(30) % 3
    np.savez(tmp_path / "shape.npz", x=x, y=y, x_test=x[:6, :, :1], y_test=y[:6])
    proc = ebnn("train", cfg, "--data", tmp_path / "shape.npz", "-o", tmp_path / "s.pt")
    assert proc.returncode == 2 and not (tmp_path / "s.pt").exists(), proc.stderr
    assert (f"error: its test split, {tmp_path / 'shape.npz'} (test: x_test, y_test), samples "
            "are (2, 1, 1)") in " ".join(proc.stderr.split())
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    np.savez(tmp_path / "only.npz", x=x, y=y, x_test=x[:6])
    proc = ebnn("train", cfg, "--data", tmp_path / "only.npz", "-o", tmp_path / "o.pt")
    assert proc.returncode == 0, proc.stderr
    assert "has x_test but not y_test: its test split cannot be scored" in proc.stderr
    # labels the model cannot output: refused too (review s55 datarev L3; eval refused them)
    np.savez(tmp_path / "labels.npz", x=x, y=y, x_test=x[:6], y_test=np.arange(6) + 4)
    proc = ebnn("train", cfg, "--data", tmp_path / "labels.npz", "-o", tmp_path / "l.pt")
    assert proc.returncode == 2 and not (tmp_path / "l.pt").exists(), proc.stderr
    assert (f"error: {tmp_path / 'labels.npz'}: y_test holds labels up to 9; {cfg}'s model "
            "has 3 classes (0..2) (training does not read it, but eval could not score it)"
            ) in " ".join(proc.stderr.split())
    np.savez(tmp_path / "good.npz", x=x, y=y, x_test=x[:6], y_test=y[:6])
    proc = ebnn("train", cfg, "--data", tmp_path / "good.npz", "-o", tmp_path / "g.pt")
    assert proc.returncode == 0 and "test split" not in proc.stderr, proc.stderr


def test_train_refuses_one_class_and_warns_of_empty_ones(tmp_path: Path) -> None:
    cfg = tmp_path / "named.toml"
    cfg.write_text(NAMED_CONFIG.format(epochs=1))
    _named_csv(tmp_path / "one.csv", ["cat"])
    msg = one_line_error(ebnn("train", cfg, "--data", tmp_path / "one.csv", "-o", tmp_path / "x"))
    assert "every sample is of one class" in msg
    np.savez(tmp_path / "gap.npz", x=RNG.integers(0, 256, (40, 2, 2), dtype=np.uint8),
             y=np.arange(40) % 2 * 2)  # labels 0 and 2: class 1 never seen
    proc = ebnn("train", cfg, "--data", tmp_path / "gap.npz", "-o", tmp_path / "g.pt")
    assert proc.returncode == 0, proc.stderr
    assert "warning: 1 of the 3 classes has no samples (1)" in proc.stderr
    # the top class missing is a gap too: it was refused ("the model has 3 classes; top has 2",
    # review L7) where docs/data.md says it is warned of
    np.savez(tmp_path / "top.npz", x=RNG.integers(0, 256, (40, 2, 2), dtype=np.uint8),
             y=np.arange(40) % 2)  # labels 0 and 1: class 2 never seen
    proc = ebnn("train", cfg, "--data", tmp_path / "top.npz", "-o", tmp_path / "t.pt")
    assert proc.returncode == 0, proc.stderr
    assert "warning: 1 of the 3 classes has no samples (2)" in proc.stderr
    assert (tmp_path / "t.pt").is_file()
    np.savez(tmp_path / "from1.npz", x=RNG.integers(0, 256, (30, 2, 2), dtype=np.uint8),
             y=np.arange(30) % 3 + 1)  # labels 1..3 for 3 classes
    msg = one_line_error(ebnn("train", cfg, "--data", tmp_path / "from1.npz", "-o",
                              tmp_path / "f.pt"))
    assert "has 4 (its labels run 1..3: number them from 0)" in msg


def test_resume_refuses_other_data(tmp_path: Path) -> None:
    cfg = tmp_path / "named.toml"
    cfg.write_text(NAMED_CONFIG.format(epochs=2))
    _named_csv(tmp_path / "a.csv", ["cat", "dog", "emu"])
    _named_csv(tmp_path / "b.csv", ["cat", "dog", "emu"], rows=25)
    assert ebnn("train", cfg, "--data", tmp_path / "a.csv", "-o", tmp_path / "m.pt"
                ).returncode == 0
    assert (tmp_path / "m.pt.ckpt").is_file()
    again = ebnn("train", cfg, "--data", tmp_path / "a.csv", "-o", tmp_path / "m.pt", "--resume")
    assert again.returncode == 0, again.stderr  # the same data resumes (at its end)
    proc = ebnn("train", cfg, "--data", tmp_path / "b.csv", "-o", tmp_path / "m.pt", "--resume")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "error: --resume:" in proc.stderr and "trained on other data" in proc.stderr


def test_verify_a_model_of_many_classes(tmp_path: Path) -> None:
    """The harness prints a score per class: verify kept 4 KiB of console per image, too
    little for 500 scores, and blamed the firmware."""
    from helpers import run_cli_in_process

    cfg = tmp_path / "wide.toml"
    cfg.write_text(NAMED_CONFIG.format(epochs=1).replace("classes = 3", "classes = 500"))
    np.savez(tmp_path / "wide.npz", x=RNG.integers(0, 256, (5000, 2, 2), dtype=np.uint8),
             y=np.arange(5000) % 500)
    for args in (("train", cfg, "--data", tmp_path / "wide.npz", "-o", tmp_path / "w.pt"),
                 ("export", tmp_path / "w.pt", "-o", tmp_path / "w.ebnn"),
                 ("build", tmp_path / "w.ebnn", "--sram", "8k", "-o", tmp_path / "w.elf")):
        proc = ebnn(*args)
        assert proc.returncode == 0, proc.stderr
    res = run_cli_in_process("verify", tmp_path / "w.elf", "--model", tmp_path / "w.ebnn",
                             "--data", tmp_path / "wide.npz", "--limit", "40")
    assert res.returncode == 0, res.stderr
    assert "0 mismatches in 40 images" in res.stderr


def test_train_without_a_validation_split(tmp_path: Path) -> None:
    """docs/config.md allows val_fraction = 0; training refused it deep in the split."""
    cfg = tmp_path / "named.toml"
    cfg.write_text(NAMED_CONFIG.format(epochs=1) + "val_fraction = 0\n")
    _named_csv(tmp_path / "a.csv", ["cat", "dog", "emu"])
    proc = ebnn("train", cfg, "--data", tmp_path / "a.csv", "-o", tmp_path / "m.pt")
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stderr.split())
    assert "training named on 60 images" in said and "(no validation split)" in said
    proc = ebnn("train", cfg, "--data", tmp_path / "a.csv", "-o", tmp_path / "n.pt",
                "--train-images", "1000")  # more than there are: it said "1000 of them"
    assert "training named on 60 images" in " ".join(proc.stderr.split())
    assert "(--train-images 1000: all 60 there are)" in " ".join(proc.stderr.split())
    assert ebnn("export", tmp_path / "m.pt", "-o", tmp_path / "m.ebnn").returncode == 0
    msg = one_line_error(ebnn("eval", tmp_path / "m.ebnn", "--data", tmp_path / "a.csv"))
    assert ("trained without a validation split (val_fraction 0), so every sample of this "
            "data was a training one: --split all scores them all") in msg
    proc = ebnn("eval", tmp_path / "m.ebnn", "--data", tmp_path / "a.csv", "--split", "all")
    assert proc.returncode == 0, proc.stderr


def test_the_training_file_named_relatively_gives_its_validation_split(
        named_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the path recorded is absolute: a relative --data naming the same file was taken for
    # another file and scored whole (training images included)
    from ebnn.artifact import load
    from ebnn.evaluate import eval_dataset

    art = load(named_model / "m.ebnn")
    monkeypatch.chdir(named_model)
    _, split = eval_dataset(art, None, None, None, Path("train.csv"))
    assert split == "validation"
    _, split = eval_dataset(art, None, None, None, named_model / "train.csv")
    assert split == "validation"


def test_a_copy_of_the_training_file_gives_its_validation_split(
        named_model: Path, tmp_path: Path) -> None:
    """The same data under another path (a copy, another checkout) was used whole, 90% of it
    training samples, without a word (new-user review F2): its validation split, drawn as
    training drew it, is the one the model recorded (val_digest), so that split is used;
    other data is still used whole."""
    from ebnn.artifact import load
    from ebnn.evaluate import eval_dataset

    art = load(named_model / "m.ebnn")
    copy = tmp_path / "copy.csv"
    copy.write_bytes((named_model / "train.csv").read_bytes())
    ds, split = eval_dataset(art, None, None, None, copy)
    held, _ = eval_dataset(art, None, None, None, named_model / "train.csv")
    assert split == "validation" and np.array_equal(ds.images, held.images)
    lines = (named_model / "train.csv").read_text().splitlines()
    other = tmp_path / "other.csv"
    other.write_text("\n".join(lines[:1] + lines[1:][::-1][:-1]) + "\n")  # one row fewer
    _, split = eval_dataset(art, None, None, None, other)
    assert split == "all"


def test_class_names_match_whatever_their_unicode_normal_form() -> None:
    """A folder copied from macOS names büro with a combining diaeresis (NFD): it is the
    model's büro (NFC), not 'büro is not one of (büro, ...)' (data review F12)."""
    import unicodedata

    from ebnn.data import relabel_by_names

    nfd = unicodedata.normalize("NFD", "büro")
    assert nfd != "büro"
    ds = Dataset("d", np.zeros((2, 2, 2, 1), np.uint8), np.array([0, 1]), 2, "d",
                 class_names=(nfd, "zebra"))
    out = relabel_by_names(ds, ("zebra", "büro"), 2, "the model's")
    assert list(out.labels) == [1, 0]


def test_a_class_only_in_the_test_split_is_named(tmp_path: Path) -> None:
    """train/ with 2 classes, test/ with 3: 'the model has 2 classes; tt has 3' said nothing
    of where the third came from (data review F13)."""
    _folder(tmp_path / "tt" / "train", {"a": 3, "b": 3})
    _folder(tmp_path / "tt" / "test", {"a": 1, "b": 1, "c": 1})
    (tmp_path / "tt.toml").write_text('[model]\nname = "tt"\ninput = [4, 5, 1]\nclasses = 2\n'
                                      '[[model.layers]]\ntype = "conv"\nfilters = 2\n'
                                      'kernel = 3\n')
    line = one_line_error(ebnn("train", tmp_path / "tt.toml", "--data", tmp_path / "tt", "-o",
                               tmp_path / "tt.pt"))
    assert line.endswith("the model has 2 classes; tt has 3 (c without training samples: a "
                         "class only its test split has counts too)")


def test_a_misspelt_class_name_is_shown_with_the_counts(tmp_path: Path) -> None:
    """One row labelled 'Tap' among 'tap's: 'the model has 2 classes; case has 3' alone did
    not point at it; the names and their counts do (new-user review F7)."""
    rows = ["label,a,b"] + [f"{n},{i % 7},{i % 5}" for i, n in enumerate(
        ["tap"] * 5 + ["still"] * 6 + ["Tap"])]
    (tmp_path / "case.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "c.toml").write_text('[model]\nname = "c"\ninput = [2, 1]\nclasses = 2\n'
                                     '[[model.layers]]\ntype = "conv1d"\nfilters = 2\n'
                                     'kernel = 1\n')
    line = one_line_error(ebnn("train", tmp_path / "c.toml", "--data", tmp_path / "case.csv",
                               "-o", tmp_path / "c.pt"))
    assert line.endswith("the model has 2 classes; case has 3 (Tap (1), still (6), tap (5): "
                         "a misspelt name is a class of its own)")
    # fewer classes than the model's: no misspelling to suspect (review L6)
    (tmp_path / "c3.toml").write_text((tmp_path / "c.toml").read_text().replace(
        "classes = 2", "classes = 4"))
    line = one_line_error(ebnn("train", tmp_path / "c3.toml", "--data", tmp_path / "case.csv",
                               "-o", tmp_path / "c.pt"))
    assert line.endswith("the model has 4 classes; case has 3 (Tap (1), still (6), tap (5))")


def test_a_feature_column_named_y_is_a_feature(tmp_path: Path) -> None:
    """An accelerometer's columns x, y, z after the label: 'y' names a feature, not the label
    column (only label, labels, class and target do)."""
    p = tmp_path / "acc.csv"
    p.write_text("activity,x,y,z\nwalk,0.1,0.2,0.3\nrun,1,2,3\n")
    ds = load_path(p)
    assert len(ds) == 2 and ds.class_names == ("run", "walk")


@pytest.mark.parametrize("header", ["churned,revenue,target", "survived,class,fare"])
def test_columns_named_class_or_target_can_be_features(tmp_path: Path, header: str) -> None:
    p = tmp_path / "f.csv"
    p.write_text(f"{header}\n0,1,2\n1,3,4\n")
    assert list(load_path(p).labels) == [0, 1]


def test_a_refit_model_scored_on_a_whole_file_is_warned(tmp_path: Path) -> None:
    """A search --refit model (trained on every labelled sample) was scored on its own
    training file by default, 55.56%, with no word (review s55 datarev L8)."""
    from types import SimpleNamespace

    from ebnn.artifact import load
    from ebnn.evaluate import data_warnings

    art = load(Path(__file__).resolve().parent.parent / "examples/digits/digits.ebnn")
    ds = SimpleNamespace(source="d/small18.npz (train: x, y)", images=np.zeros((0, 8, 8, 1)))
    assert data_warnings(art, ds, "all", None) == []  # (a model that held data out)
    art.metadata.update(val_accuracy=None, search_refit=True,
                        dataset_source="d/small18.npz (train: x, y) + validation")
    [said] = data_warnings(art, ds, "all", None)
    assert said.startswith("warning: d/small18.npz (train: x, y): the model was trained on every "
                           "labelled sample of d/small18.npz (train: x, y) + validation (search "
                           "--refit, nothing held out): if this is that data")
    assert data_warnings(art, ds, "test", None) == []

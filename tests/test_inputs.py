"""The one input converter (sim/inputs.py): what the firmware reads from its console when a
file is its first ``--input``. (Moved here from the tests of a second, unused image loader in
ebnn/data.py, removed with it; the assertions that apply to the converter the CLI runs.)"""

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from sim.inputs import InputError, InputFormat, console_bytes

RNG = np.random.default_rng(0)

DIGIT = np.random.default_rng(7).integers(0, 256, (28, 28, 1), dtype=np.uint8)


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


def test_raw_files_pass_through(tmp_path: Path) -> None:
    p = tmp_path / "digit.bin"
    p.write_bytes(DIGIT.tobytes())
    assert console_bytes(p) == DIGIT.tobytes()


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a,
        lambda a: a.reshape(-1),
        lambda a: a[..., 0],
        lambda a: a.astype(np.int64),
        lambda a: a.astype(np.float32),
    ],
    ids=["uint8", "flat", "hw", "int64", "float32"],
)
def test_npy_becomes_its_uint8_bytes_in_c_order(tmp_path: Path, convert) -> None:
    p = tmp_path / "digit.npy"
    np.save(p, convert(DIGIT))
    assert console_bytes(p) == DIGIT.tobytes()


def test_csv_with_pandas_column_names_skips_them(tmp_path: Path) -> None:
    # pd.DataFrame(inputs).to_csv(index=False) writes the column names 0..N-1 first: they
    # were classified as an extra first input, every answer one row off the user's
    p = tmp_path / "inputs.csv"
    flat = DIGIT.reshape(-1)
    p.write_text(",".join(map(str, range(flat.size))) + "\n" + ",".join(map(str, flat)) + "\n")
    assert console_bytes(p) == DIGIT.tobytes()


@pytest.mark.parametrize("rows, where", [
    ("label,a,b\ntap,1,2\n", "line 2, column 1 is 'tap' (a label column? --input takes "
                               "unlabelled inputs; labelled data: ebnn-sim verify --data FILE"),
    ("a,b\n1,x\n", "line 2, column 2 is 'x'"),
])
def test_a_csv_input_that_is_not_numbers_says_where(tmp_path: Path, rows, where) -> None:
    """The training CSV given as --input (new-user review F8): the line and column of the
    first non-number, and when it starts a row, that a label column is not an input's."""
    p = tmp_path / "x.csv"
    p.write_text(rows)
    with pytest.raises(InputError) as exc:
        console_bytes(p)
    msg = one_line(exc)
    assert msg.startswith(f"{p}: a CSV input must hold only numbers: ") and where in msg


def test_a_float_models_inputs_quantise_as_the_reference_does(tmp_path: Path) -> None:
    from ebnn.quantize import InputQuant

    scale, zero = (0.1, 0.25), (3, -2)
    fmt = InputFormat((4, 2), 8, scale, zero)
    quant = InputQuant(scale, zero)
    # uint8 values of a float model were passed through raw (eval and verify quantise them)
    raw = RNG.integers(0, 256, (4, 2), dtype=np.uint8)
    np.save(tmp_path / "u8.npy", raw)
    assert console_bytes(tmp_path / "u8.npy", fmt) == quant.apply(raw).tobytes()
    # a float64 value within float32 rounding of a .5 step: the reference sees float32 data
    edge = np.full((4, 2), 0.25, np.float64) + 1e-9  # 2.5 steps of channel 1, as float32 2.5
    np.save(tmp_path / "f64.npy", edge)
    assert console_bytes(tmp_path / "f64.npy", fmt) == quant.apply(
        edge.astype(np.float32)).tobytes()
    # a PNG's pixels for a float model: quantised as eval quantises an image folder's
    from PIL import Image

    grey = RNG.integers(0, 256, (3, 2), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "g.png")
    one = InputQuant((2.0,), (7,))
    got = console_bytes(tmp_path / "g.png", InputFormat((3, 2, 1), 6, (2.0,), (7,)))
    assert got == one.apply(grey[..., None]).tobytes() != grey.tobytes()


def test_npy_errors_are_one_line(tmp_path: Path) -> None:
    p = tmp_path / "x.npy"
    np.save(p, DIGIT.astype(np.float32) * 2)
    with pytest.raises(InputError, match=r"0\.\.255"):
        console_bytes(p)
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match=r"not a readable \.npy"):
        console_bytes(p)
    p.write_bytes(b"garbage")
    with pytest.raises(InputError) as e:
        console_bytes(p)
    assert str(p) in one_line(e)


def test_png_gray_and_rgb(tmp_path: Path) -> None:
    p = tmp_path / "digit.png"
    mpimg.imsave(p, DIGIT[..., 0], cmap="gray", vmin=0, vmax=255)
    got = np.frombuffer(console_bytes(p), np.uint8)
    assert got.size == DIGIT.size  # one byte per pixel for a grey image
    # The gray colormap's lookup table may be one step off.
    assert np.abs(got.astype(int) - DIGIT.ravel().astype(int)).max() <= 1
    rgb = np.random.default_rng(2).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    p = tmp_path / "rgb.png"
    mpimg.imsave(p, rgb)
    assert console_bytes(p) == rgb.tobytes()


def test_png_errors_are_one_line(tmp_path: Path) -> None:
    good = tmp_path / "digit.png"
    mpimg.imsave(good, DIGIT[..., 0], cmap="gray", vmin=0, vmax=255)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:40])
    for p in (bad, broken):
        with pytest.raises(InputError) as e:
            console_bytes(p)
        assert str(p) in one_line(e) and "PNG" in one_line(e)


def test_empty_raw_input_is_refused(tmp_path: Path) -> None:
    """It used to let the firmware classify its embedded sample, as if no input were given."""
    from sim.inputs import InputFormat

    p = tmp_path / "empty.bin"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="empty; this firmware reads inputs of shape"):
        console_bytes(p, InputFormat((28, 28, 1), 784))
    assert console_bytes(p) == b""  # a firmware without a recorded format: no input is fine


def test_grey_looking_rgb_png_feeds_a_colour_model(tmp_path: Path) -> None:
    """An RGB PNG whose channels are equal is three channels to a colour firmware (as training
    read it), one to a grey one."""
    from PIL import Image

    from sim.inputs import InputFormat

    grey = np.random.default_rng(3).integers(0, 256, (5, 4), dtype=np.uint8)
    p = tmp_path / "g.png"
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(p)
    assert console_bytes(p, InputFormat((5, 4, 3), 60)) == np.stack([grey] * 3, -1).tobytes()
    assert console_bytes(p, InputFormat((5, 4, 1), 20)) == grey.tobytes()


@pytest.mark.parametrize(("suffix", "mode", "channels"), [
    (".jpg", "L", 1), (".jpg", "RGB", 3), (".bmp", "RGB", 3), (".gif", "P", 3),
    (".tif", "I;16", 1), (".pgm", "L", 1), (".ppm", "RGB", 3), (".webp", "RGB", 3)])
def test_other_images_read_as_training_reads_them(tmp_path: Path, suffix, mode, channels):
    """A model trained on a folder of JPEGs (or BMP, GIF, TIFF, WebP, PGM, PPM) takes those
    same files as --input: the pixels are those the training folder gave (review s55
    datarev M1: they were refused as "not PNG"); to firmware that records no input format a
    JPEG is the file's bytes, as before (it may decode them itself)."""
    from PIL import Image

    from ebnn.datafiles import load_path
    from sim.inputs import InputFormat

    rng = np.random.default_rng(7)
    if mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65536, (6, 5), dtype=np.uint16))
    elif mode == "P":
        im = Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).quantize(16)
    else:
        shape = (6, 5) if mode == "L" else (6, 5, 3)
        im = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
    for label in ("a", "b"):
        (tmp_path / "data" / label).mkdir(parents=True)
        im.save(tmp_path / "data" / label / f"x{suffix}")
    trained = load_path(tmp_path / "data")
    assert trained.images.shape[1:] == (6, 5, channels)
    p = tmp_path / "data" / "a" / f"x{suffix}"
    assert console_bytes(p, InputFormat((6, 5, channels), 30 * channels)) == (
        trained.images[0].tobytes())
    assert console_bytes(p) == p.read_bytes()
    with pytest.raises(InputError, match=r"a (grey|colour) image 5 wide and 6 high"):
        console_bytes(p, InputFormat((5, 6, channels), 30 * channels))
    broken = tmp_path / f"broken{suffix}"
    broken.write_bytes(p.read_bytes()[:20])
    with pytest.raises(InputError, match=f"broken{suffix}: not a readable"):
        console_bytes(broken, InputFormat((6, 5, channels), 30 * channels))

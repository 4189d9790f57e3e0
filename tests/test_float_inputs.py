"""Float data end to end: 8-bit input quantisation fitted on the training split and stored in
the artifact, the input format recorded in the ELF, `ebnn-sim run --input` checking and
quantising inputs, `ebnn summary`, and `ebnn eval --pt` refusing a foreign checkpoint."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
from helpers import assert_single_error_line, run_cli_in_process
from test_ebnn_cli import ebnn, one_line_error

from ebnn import artifact, reference
from ebnn.quantize import InputQuant, QuantError, fit, to_uint8
from sim.elf import load_elf
from sim.inputs import InputError, InputFormat, console_bytes

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
[model]
name = "blobs"
input = [8, 8, 1]
classes = 3

[[model.layers]]
type = "conv"
filters = 6
kernel = 3
padding = 1
pool = 2

[train]
epochs = 10
batch_size = 32
shift = 0
seed = 1
val_fraction = 0.2
"""


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of 8x8 float images (a bright row, column or diagonal) on an offset and
    scale no 8-bit range holds: values around -40..+60."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(0, 3, (n, 8, 8)) - 40
    for i, c in enumerate(y):
        k = rng.integers(1, 7)
        if c == 0:
            x[i, k, :] += 100
        elif c == 1:
            x[i, :, k] += 100
        else:
            x[i][np.eye(8, dtype=bool)] += 100
    return x.astype(np.float32), y


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("float")
    x, y = blobs(300, 0)
    xt, yt = blobs(60, 1)
    np.savez(out / "blobs.npz", x=x, y=y, x_test=xt, y_test=yt)
    (out / "blobs.toml").write_text(CONFIG)
    for args in (("train", out / "blobs.toml", "--data", out / "blobs.npz", "-o", out / "m.pt"),
                 ("export", out / "m.pt", "-o", out / "m.ebnn"),
                 ("build", out / "m.ebnn", "-o", out / "m.elf")):
        proc = ebnn(*args)
        assert proc.returncode == 0, proc.stderr
    return out


# --- quantisation ----------------------------------------------------------------------------
def test_fit_maps_each_channel_range_onto_bytes() -> None:
    x = np.stack([np.linspace(-3, 5, 50), np.linspace(100, 101, 50)], axis=-1)
    q = fit(x.astype(np.float32))
    b = q.apply(x)
    assert b.dtype == np.uint8 and b[:, 0].min() == 0 and b[:, 0].max() == 255
    assert b[:, 1].min() == 0 and b[:, 1].max() == 255
    assert q.apply(np.array([[-1e9, 1e9]])).tolist() == [[0, 255]]  # clamped
    const = fit(np.full((4, 1), 7.0))
    assert const.scale == (1.0,) and const.apply(np.array([[7.0]]))[0, 0] == 0
    with pytest.raises(QuantError, match="float samples"):
        to_uint8(np.zeros(3, np.float32), None)


@pytest.mark.parametrize("raw", [
    {"dtype": "float32", "scale": [0.0], "zero_point": [0]},
    {"dtype": "float32", "scale": [float("inf")], "zero_point": [0]},
    {"dtype": "float32", "scale": [1.0], "zero_point": [2**40]},
    {"dtype": "float32", "scale": [1.0], "zero_point": [0.5]},
    {"dtype": "int8", "scale": [1.0], "zero_point": [0]},
    {"dtype": "float32", "scale": [1.0, 2.0], "zero_point": [0]},
])
def test_bad_quantisation_records_are_refused(raw) -> None:
    with pytest.raises(QuantError):
        InputQuant.from_dict(raw)


def test_artifact_stores_the_quantisation_fitted_on_the_training_split(model: Path) -> None:
    art = artifact.load(model / "m.ebnn")
    assert art.input_quant is not None and art.input_quant.channels == 1
    payload = torch.load(model / "m.pt", weights_only=True)
    x = np.load(model / "blobs.npz")["x"]
    # fitted on the 80% training share only (the range of all 300 would differ)
    assert art.input_quant.to_dict() == payload["input_quant"]
    assert art.input_quant.scale[0] <= (x.max() - x.min()) / 255
    header = json.loads(np.load(model / "m.ebnn")["header"].tobytes())
    assert header["version"] == 2 and header["input_quant"]["dtype"] == "float32"
    text = (model / "m-src" / "ebnn.h").read_text()
    assert "round_half_even(x / scale[c]) + zero_point[c]" in text
    assert repr(art.input_quant.scale[0]) in text


def test_uint8_models_stay_version_1_byte_for_byte(tmp_path: Path) -> None:
    """Every shipped artifact re-saves byte for byte; the MNIST-like ones on uint8 pixels have
    no quantisation (the float-data examples, e.g. digits, carry theirs)."""
    uint8 = set()
    for src in sorted((ROOT / "examples").glob("*/*.ebnn")):
        art = artifact.load(src)
        if art.input_quant is None:
            uint8.add(src.stem)
        artifact.save(art, tmp_path / src.name)
        assert (tmp_path / src.name).read_bytes() == src.read_bytes(), src
    assert {"mnist", "mnist-tiny", "ebnn-simple", "fashion-mnist"} <= uint8


def test_a_version_2_artifact_with_a_bad_quantisation_is_refused(model: Path, tmp_path: Path):
    arrays = dict(np.load(model / "m.ebnn"))
    header = json.loads(arrays["header"].tobytes())
    header["input_quant"]["scale"] = [-1.0]
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with (tmp_path / "bad.ebnn").open("wb") as fh:
        np.savez(fh, **arrays)
    msg = one_line_error(ebnn("eval", tmp_path / "bad.ebnn"))
    assert "scale" in msg


def test_eval_verify_and_torch_agree_on_quantised_input(model: Path, tmp_path: Path) -> None:
    proc = ebnn("eval", model / "m.ebnn", "--data", model / "blobs.npz", "--pt", model / "m.pt",
                "--json", tmp_path / "e.json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["split"] == "test" and result["images"] == 60  # the npz's test split
    assert result["accuracy"] > 0.6 and result["torch_agreement"] == 1.0
    res = run_cli_in_process("verify", model / "m.elf", "--model", model / "m.ebnn",
                             "--data", model / "blobs.npz", "--split", "val")
    assert res.returncode == 0, res.stderr
    assert "0 mismatches in 60 images" in res.stderr  # 20% of 300 held out


def test_data_on_another_scale_is_warned_of(model: Path, tmp_path: Path) -> None:
    """A test split on another scale (x 10) is clamped to 0 or 255 by the quantisation: eval
    and verify say so instead of reporting a bad model's accuracy alone (data review F1);
    the model's own test split gets no warning."""
    proc = ebnn("eval", model / "m.ebnn", "--data", model / "blobs.npz")
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    x, y = blobs(300, 0)
    xt, yt = blobs(60, 1)
    np.savez(tmp_path / "scaled.npz", x=x, y=y, x_test=xt * 10, y_test=yt)
    proc = ebnn("eval", model / "m.ebnn", "--data", tmp_path / "scaled.npz", "--json",
                tmp_path / "e.json")
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stderr.split())
    assert re.search(r"warning: \S*scaled.npz \(test: x_test, y_test\): \d+\.\d% of the input "
                     r"values lie far beyond the range of the model's training data", said), said
    (warning,) = json.loads((tmp_path / "e.json").read_text())["warnings"]
    assert "lie far beyond the range of the model's training data" in warning
    res = run_cli_in_process("verify", model / "m.elf", "--model", model / "m.ebnn",
                             "--data", tmp_path / "scaled.npz")
    assert res.returncode == 0 and "lie far beyond the range" in res.stderr, res.stderr


def test_input_files_on_another_scale_are_warned_of(model: Path, tmp_path: Path, cli) -> None:
    """The same for files given with --input (a CSV in millivolts for a model trained in
    volts): ebnn-sim run, check, eval and verify say which file, from the scale the ELF or
    the model records; the model's own test samples get no warning."""
    xt = np.load(model / "blobs.npz")["x_test"][:5]
    np.save(tmp_path / "own.npy", xt)
    np.save(tmp_path / "scaled.npy", xt * 10)
    words = "of its values lie far beyond the range the model's input quantisation covers"
    own = cli("run", model / "m.elf", "--input", tmp_path / "own.npy")
    assert own.returncode == 0 and "warning" not in own.stderr, own.stderr
    scaled = cli("run", model / "m.elf", "--input", tmp_path / "scaled.npy")
    said = " ".join(scaled.stderr.split())
    assert scaled.returncode == 0 and re.search(
        rf"warning: \S*scaled.npy: \d+\.\d% {words}", said), said
    (tmp_path / "b.toml").write_text(f'[[budget]]\nelf = "{model / "m.elf"}"\n'
                                     f'input = "{tmp_path / "scaled.npy"}"\nsram = "15k"\n')
    check = cli("check", "--config", tmp_path / "b.toml", "--json", tmp_path / "c.json",
                json=False)
    assert check.returncode == 0, check.stdout + check.stderr
    [elf] = json.loads((tmp_path / "c.json").read_text())["elfs"]
    assert any(words in w for w in elf["warnings"]), elf
    proc = ebnn("eval", model / "m.ebnn", "--input", tmp_path / "scaled.npy", "--json",
                tmp_path / "e.json")
    assert proc.returncode == 0 and words in " ".join(proc.stderr.split()), proc.stderr
    assert [words in w for w in json.loads((tmp_path / "e.json").read_text())["warnings"]] == [
        True]
    proc = ebnn("eval", model / "m.ebnn", "--input", tmp_path / "own.npy")
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    res = run_cli_in_process("verify", model / "m.elf", "--model", model / "m.ebnn",
                             "--input", tmp_path / "scaled.npy")
    assert res.returncode == 0 and words in " ".join(res.stderr.split()), res.stderr


# --- the ELF's input format and ebnn-sim run --input -------------------------------------------
def test_elf_records_its_input_format(model: Path) -> None:
    art = artifact.load(model / "m.ebnn")
    meta = load_elf(model / "m.elf").metadata
    assert meta["input.shape"] == "8,8,1" and meta["input.bytes"] == "64"
    assert meta["input.dtype"] == "uint8"
    fmt = InputFormat.from_metadata(meta)
    assert fmt is not None and fmt.scale == art.input_quant.scale
    assert fmt.zero_point == art.input_quant.zero_point


def _classes(stdout: str) -> list[int]:
    return [int(line.split()[1]) for line in stdout.splitlines() if line.startswith("class:")]


def test_run_quantises_npy_and_csv_as_the_reference_does(model: Path, tmp_path: Path, cli):
    art = artifact.load(model / "m.ebnn")
    xt = np.load(model / "blobs.npz")["x_test"][:5]
    expected = reference.run(art, reference.quantize_input(art, xt[..., None])).classes.tolist()
    np.save(tmp_path / "five.npy", xt)
    res = cli("run", model / "m.elf", "--input", tmp_path / "five.npy")
    assert res.returncode == 0, res.stderr
    assert _classes(res.stdout) == expected
    np.savetxt(tmp_path / "rows.csv", xt.reshape(5, -1), delimiter=",",
               header=",".join(f"v{i}" for i in range(64)), comments="")
    res = cli("run", model / "m.elf", "--input", tmp_path / "rows.csv")
    assert res.returncode == 0, res.stderr
    assert _classes(res.stdout) == expected
    np.savetxt(tmp_path / "one.csv", xt[0], delimiter=",")  # one input as 8 rows of 8
    res = cli("run", model / "m.elf", "--input", tmp_path / "one.csv")
    assert _classes(res.stdout) == expected[:1]


def test_save_bytes_feeds_float_recordings_to_firmware_without_an_input_format(
        model: Path, tmp_path: Path, cli, firmware) -> None:
    """A user's own firmware records no input format: a float recording was refused (values
    must be whole numbers) with no way to convert it but the Python API (s52 integration
    review MEDIUM-1). `ebnn eval --input ... --save-bytes` writes the bytes the model's C
    reads: the firmware's own conversion of the same file gives those bytes exactly."""
    xt = np.load(model / "blobs.npz")["x_test"][:3]
    np.save(tmp_path / "three.npy", xt)
    out = tmp_path / "three.bin"
    res = ebnn("eval", model / "m.ebnn", "--input", tmp_path / "three.npy", "--save-bytes", out)
    assert res.returncode == 0, res.stderr
    assert "wrote " in res.stderr and "3 inputs of 64 bytes" in res.stderr
    art = artifact.load(model / "m.ebnn")
    assert out.read_bytes() == reference.quantize_input(art, xt[..., None]).tobytes()
    # the ebnn build firmware reads the .bin and the .npy alike: the same classes
    by_bin = cli("run", model / "m.elf", "--input", out)
    by_npy = cli("run", model / "m.elf", "--input", tmp_path / "three.npy")
    assert _classes(by_bin.stdout) == _classes(by_npy.stdout) and len(_classes(by_bin.stdout)) == 3
    # firmware that records no format: the float file is refused with the way to convert it
    refused = cli("run", firmware("hello.c"), "--input", tmp_path / "three.npy")
    assert refused.returncode == 2
    assert "the ELF records no input format" in " ".join(refused.stderr.split())
    assert "--save-bytes FILE.bin" in " ".join(refused.stderr.split())
    assert one_line_error(ebnn("eval", model / "m.ebnn", "--save-bytes", out)) == (
        "error: --save-bytes writes the --input files as bytes: give --input too")
    # never over an input, nor inside an input folder, where the next run reads it back (or
    # it replaces one of its files: s52 review M2)
    assert "would replace the input" in one_line_error(ebnn(
        "eval", model / "m.ebnn", "--input", tmp_path / "three.npy", "--save-bytes",
        tmp_path / "three.npy"))
    folder = tmp_path / "recordings"
    folder.mkdir()
    np.save(folder / "a.npy", xt[:1])
    assert "lies in the --input folder" in one_line_error(ebnn(
        "eval", model / "m.ebnn", "--input", folder, "--save-bytes", folder / "all.bin"))
    assert sorted(p.name for p in folder.iterdir()) == ["a.npy"]


@pytest.fixture(scope="module")
def mnist_elf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mnist") / "mnist.elf"
    proc = ebnn("build", ROOT / "examples" / "mnist" / "mnist.ebnn", "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("size, words", [
    ((56, 56), "a grey image 56 wide and 56 high, of shape [56, 56, 1] ([height, width, "
     "channels]); this firmware reads inputs of shape [28, 28, 1]"),
    # its shape in the firmware's order: "a 28x20 ... [28, 28, 1]" read W x H beside [H, W, C]
    ((20, 28), "a grey image 28 wide and 20 high, of shape [20, 28, 1]"),
    ((1, 1), "a grey image 1 wide and 1 high"),
])
def test_run_refuses_a_png_of_another_size(mnist_elf: Path, tmp_path: Path, cli, size, words):
    png = tmp_path / "wrong.png"
    mpimg.imsave(png, np.zeros(size), cmap="gray")
    res = cli("run", mnist_elf, "--input", png)
    assert words in assert_single_error_line(res)


def test_run_refuses_other_wrong_inputs(mnist_elf: Path, tmp_path: Path, cli) -> None:
    raw = tmp_path / "x.bin"
    raw.write_bytes(bytes(1000))
    assert "1,000 bytes, not a whole number of inputs" in assert_single_error_line(
        cli("run", mnist_elf, "--input", raw))
    np.save(tmp_path / "x.npy", np.zeros((27, 28), np.uint8))
    assert "shape [27, 28]" in assert_single_error_line(
        cli("run", mnist_elf, "--input", tmp_path / "x.npy"))
    np.save(tmp_path / "f.npy", np.full((28, 28), 0.5))  # a uint8 model has no quantisation
    assert "0..255" in assert_single_error_line(
        cli("run", mnist_elf, "--input", tmp_path / "f.npy"))
    (tmp_path / "x.csv").write_text("1,2,3\n")
    assert "CSV of 1 row of 3 values" in assert_single_error_line(
        cli("run", mnist_elf, "--input", tmp_path / "x.csv"))


def test_run_accepts_whole_inputs(mnist_elf: Path, tmp_path: Path, cli) -> None:
    res = cli("run", mnist_elf, "--input", ROOT / "examples" / "mnist" / "digit-7.png")
    assert res.returncode == 0 and _classes(res.stdout) == [7]
    np.save(tmp_path / "two.npy", np.zeros((2, 28, 28, 1), np.uint8))
    res = cli("run", mnist_elf, "--input", tmp_path / "two.npy")
    assert res.returncode == 0 and len(_classes(res.stdout)) == 2


@pytest.mark.parametrize("meta, words", [
    ({"input.shape": "28,x"}, "not a list of numbers"),
    ({"input.shape": "0,5"}, "not a shape"),
    ({"input.shape": "2,2", "input.bytes": "5"}, "does not match"),
    ({"input.shape": "2,2", "input.scale": "1,1"}, "one positive scale"),
    ({"input.shape": "2,1", "input.scale": "-1", "input.zero_point": "0"}, "one positive"),
    ({"input.shape": "2,1", "input.scale": "nan", "input.zero_point": "0"}, "finite"),
])
def test_hostile_input_metadata_is_one_line(meta, words) -> None:
    with pytest.raises(InputError, match=words):
        InputFormat.from_metadata(meta)


def test_a_csv_input_is_an_input_a_row_its_rows_or_a_column_never_another_layout(
        tmp_path: Path) -> None:
    """A [64, 3] window: 64 rows of 3, one row of 192, a column of 192, or inputs a row; the
    same window channel-major (3 rows of 64), or 6 rows of 32, has the size but not the
    layout and is refused (it was flattened and classified, scrambled)."""
    fmt = InputFormat.from_metadata({"input.shape": "64,3"})
    window = (np.arange(192).reshape(64, 3) * 7 + 1) % 256  # no row reads as pandas column names
    want = window.astype(np.uint8).tobytes()

    def csv(name: str, table: np.ndarray) -> Path:
        path = tmp_path / name
        np.savetxt(path, table, fmt="%d", delimiter=",")
        return path

    assert console_bytes(csv("rows.csv", window), fmt) == want
    assert console_bytes(csv("row.csv", window.reshape(1, -1)), fmt) == want
    assert console_bytes(csv("column.csv", window.reshape(-1, 1)), fmt) == want
    assert console_bytes(csv("two.csv", np.stack([window.ravel()] * 2)), fmt) == want * 2
    rgb = InputFormat.from_metadata({"input.shape": "4,4,3"})
    image = (np.arange(48).reshape(4, 4, 3) * 5 + 1) % 256
    for name, table in (("hwc.csv", image.reshape(4, 12)), ("pixels.csv", image.reshape(16, 3))):
        assert console_bytes(csv(name, table), rgb) == image.astype(np.uint8).tobytes()
    for name, table in (("t.csv", window.T), ("six.csv", window.reshape(6, 32))):
        with pytest.raises(InputError, match=r"one input a row \(192 values in C order\), one "
                                             r"input as 64 rows of 3, or a column"):
            console_bytes(csv(name, table), fmt)


def test_no_metadata_keeps_the_old_pass_through(tmp_path: Path) -> None:
    assert InputFormat.from_metadata({}) is None
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc")
    assert console_bytes(p, None) == b"abc"


# --- ebnn summary ----------------------------------------------------------------------------
def test_summary_measures_the_firmware(tmp_path: Path, cli, mnist_elf: Path) -> None:
    proc = ebnn("summary", ROOT / "examples" / "mnist" / "mnist.ebnn", "--json",
                tmp_path / "s.json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    run = cli("run", mnist_elf).report
    assert s["stack_peak"] == run["sram"]["stack_peak"] > 0
    assert s["flash_total"] == run["flash"]["used"] and s["cycles"] == run["cycles"]
    assert s["sram_static"] + s["stack_peak"] == s["sram_peak"] == run["sram"]["peak"]
    layers = s["layers"]
    assert [r["kind"] for r in layers] == ["conv", "conv", "output"]
    assert sum(r["weight_bits"] for r in layers) == 30_160
    assert layers[0]["int8_macs"] == 13 * 13 * 7 * 16 and layers[0]["binary_macs"] == 0
    assert all(r["flash_code"] > 0 and 0 < r["stack"] <= s["stack_peak"] for r in layers)
    # a hidden conv's code is mostly its rows function (a GCC clone, ebnn_layer1_rows.constprop.0
    # on this target), not the 36-byte ebnn_layer1 that calls it
    assert layers[1]["flash_code"] > 500, layers[1]
    assert layers[2]["flash_const"] >= 10 * 2400 // 8  # the output weights at least
    assert sum(r["cycles"] for r in layers) < s["cycles"]
    # the image sits in the layers' scratch area (its outputs overwrite it once read)
    assert s["buffers"]["ebnn_work"] >= 784 and sum(s["buffers"].values()) == s["sram_static"]
    assert "conv96" in proc.stdout  # "conv96 3x3 pool2", wrapped at 80 columns
    assert f"stack peak {s['stack_peak']:,} B" in proc.stdout


def test_summary_of_a_config_and_static(tmp_path: Path) -> None:
    proc = ebnn("summary", ROOT / "examples" / "mnist" / "mnist.toml", "--static", "--json",
                tmp_path / "s.json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["target"] is None and s["layers"][1]["binary_macs"] == 11 * 11 * 96 * 63
    (tmp_path / "bad.toml").write_text("[model]\n")
    one_line_error(ebnn("summary", tmp_path / "bad.toml"))
    one_line_error(ebnn("summary", tmp_path / "missing.ebnn"))


# --- eval --pt ---------------------------------------------------------------------------------
def test_eval_refuses_a_checkpoint_the_artifact_was_not_exported_from(model: Path, tmp_path):
    payload = torch.load(model / "m.pt", weights_only=True)
    w = next(k for k in payload["state_dict"] if k.endswith("op.weight"))
    payload["state_dict"][w] = -payload["state_dict"][w]
    torch.save(payload, tmp_path / "other.pt")
    msg = one_line_error(ebnn("eval", model / "m.ebnn", "--data", model / "blobs.npz", "--pt",
                              tmp_path / "other.pt"))
    assert "not the checkpoint this artifact was exported from" in msg
    msg = one_line_error(ebnn("eval", ROOT / "examples" / "mnist" / "mnist.ebnn", "--pt",
                              model / "m.pt"))
    assert "not the checkpoint" in msg


def test_help_of_the_new_commands() -> None:
    for cmd in ("datasets", "summary"):
        proc = ebnn(cmd, "--help")
        assert proc.returncode == 0 and "Usage:" in proc.stdout and len(proc.stdout) > 300
    assert "--data PATH" in ebnn("train", "--help").stdout


@pytest.mark.parametrize("name", ["mnist", "basicmotions"])
def test_summary_fits_80_columns(tmp_path: Path, name: str) -> None:
    """Issue 16: a pipe or CI log is 80 columns; the table wraps its headers and long layer
    labels there, the lines around it wrap at spaces, and every number stays whole."""
    exe = Path(sys.executable).with_name("ebnn")
    proc = subprocess.run([str(exe), "summary", str(ROOT / "examples" / name / f"{name}.ebnn"),
                           "--json", str(tmp_path / "s.json")], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert max(len(ln.rstrip()) for ln in proc.stdout.splitlines()) <= 80, proc.stdout
    s = json.loads((tmp_path / "s.json").read_text())
    for r in s["layers"]:
        for key in ("weight_bits", "binary_macs", "cycles", "stack"):
            assert f"{r[key]:,}" in proc.stdout, (key, proc.stdout)
    assert f"{s['cycles']:,}" in proc.stdout


WIDE_MODEL = """[model]
name = "wide"
input = [32, 32, 3]
classes = 100
[[model.layers]]
type = "conv"
filters = 64
kernel = 3
pool = 2
[[model.layers]]
type = "conv"
filters = 256
kernel = 3
padding = 1
pool = 2
[[model.layers]]
type = "linear"
units = 512
"""


def test_summary_of_figures_wider_than_80_columns_keeps_every_figure_whole(
        tmp_path: Path) -> None:
    """A model whose figures cannot fit 80 columns: the table is printed wider rather than
    any figure (or a header word) being cut."""
    config = tmp_path / "wide.toml"
    config.write_text(WIDE_MODEL)
    exe = Path(sys.executable).with_name("ebnn")
    proc = subprocess.run([str(exe), "summary", str(config), "-t", "stm32f746", "--json",
                           str(tmp_path / "s.json")], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"}, check=False)
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    for r in s["layers"]:
        for key in ("weight_bits", "binary_macs", "cycles", "flash_const"):
            assert f"{r[key]:,}" in proc.stdout, (key, proc.stdout)
    assert f"{s['cycles']:,}" in proc.stdout and "buffer" in proc.stdout


def test_float_test_data_for_an_8_bit_model_names_its_file(tmp_path: Path) -> None:
    """Training data of whole bytes, a test split of floats: the refusal names the file and
    members, as every data error does (data review F10)."""
    x, y = blobs(40, 0)
    x = np.clip(x + 40, 0, 255).astype(np.uint8)
    xt, yt = blobs(10, 1)
    np.savez(tmp_path / "mixed.npz", x=x, y=y, x_test=xt, y_test=yt)
    (tmp_path / "m.toml").write_text(CONFIG.replace("epochs = ", "epochs = 1 #"))
    for args in (("train", tmp_path / "m.toml", "--data", tmp_path / "mixed.npz", "-o",
                  tmp_path / "m.pt"), ("export", tmp_path / "m.pt", "-o", tmp_path / "m.ebnn")):
        proc = ebnn(*args)
        assert proc.returncode == 0, proc.stderr
    line = one_line_error(ebnn("eval", tmp_path / "m.ebnn", "--data", tmp_path / "mixed.npz"))
    assert "mixed.npz (test: x_test, y_test): float samples for a model trained on 8-bit data" \
        in line


def test_a_validation_split_drawn_from_changed_data_is_warned_of(model: Path,
                                                                  tmp_path: Path) -> None:
    """--split val draws the split held out in training again (same seed and fraction); from
    data changed since, it may hold samples the model trained on: eval and verify say so
    (data review F4). The data the model was trained on, a float npz, draws it exactly."""
    proc = ebnn("eval", model / "m.ebnn", "--data", model / "blobs.npz", "--split", "val")
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    x, y = blobs(300, 0)
    xt, yt = blobs(60, 1)
    np.savez(tmp_path / "changed.npz", x=x[::-1], y=y[::-1], x_test=xt, y_test=yt)
    proc = ebnn("eval", model / "m.ebnn", "--data", tmp_path / "changed.npz", "--split", "val")
    assert proc.returncode == 0, proc.stderr
    assert "this validation split is not the one held out when the model was trained" in (
        " ".join(proc.stderr.split()))
    res = run_cli_in_process("verify", model / "m.elf", "--model", model / "m.ebnn",
                             "--data", tmp_path / "changed.npz", "--split", "val")
    assert res.returncode == 0 and "is not the one held out" in " ".join(res.stderr.split())


def test_features_that_quantise_to_one_byte_are_warned_of(tmp_path: Path) -> None:
    """A CSV row of features of very different ranges as an [F, 1] input: one scale for all,
    so the small ones become one constant byte; training says so (data review F2), and does
    not for the same features as channels, [1, 1, F], each with its own scale."""
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    x = np.column_stack([rng.normal(0, 1e-3, 60) + y * 1e-3, rng.normal(0, 1e-3, 60),
                         rng.uniform(0, 10000, 60), rng.normal(0, 1, 60)])
    np.savetxt(tmp_path / "f.csv", np.column_stack([y, x]), fmt="%.6g", delimiter=",",
               header="label,a,b,c,d", comments="")
    for shape, layer, warned in (("[4, 1]", "conv1d", True), ("[1, 1, 4]", "conv", False)):
        (tmp_path / "f.toml").write_text(
            f'[model]\nname = "f"\ninput = {shape}\nclasses = 2\n[[model.layers]]\n'
            f'type = "{layer}"\nfilters = 2\nkernel = 1\n[train]\nepochs = 1\n')
        proc = ebnn("train", tmp_path / "f.toml", "--data", tmp_path / "f.csv", "-o",
                    tmp_path / "f.pt")
        assert proc.returncode == 0, proc.stderr
        said = " ".join(proc.stderr.split())
        assert ("warning: 3 of the input's 4 values become one constant byte" in said) == warned


def test_the_data_warnings_leave_normal_data_alone() -> None:
    """No warning for what normal data does (review of the data fixes): a test split a little
    wider than the training split (a few rows of tabular data), float rounding noise round a
    constant border."""
    from ebnn.quantize import beyond_range, collapsed_positions

    train = np.linspace(0.0, 1.0, 50).reshape(-1, 1)
    quant = fit(train)
    assert beyond_range(np.array([[-0.3], [1.4], [0.5]]), quant) == 0.0  # within half a range
    assert beyond_range(np.array([[255.0], [0.5]]), quant) == 0.5  # another scale
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (20, 4, 4, 1))
    images[:, 0, :, :] = 1e-17 * rng.standard_normal((20, 4, 1))  # a border, rounding noise
    assert collapsed_positions(images, fit(images).apply(images)) == (0, 16)


def test_a_model_trained_on_every_image_says_so_on_its_validation_split(tmp_path: Path):
    """A --refit model held no validation split out: --split val counts samples it trained
    on, and the warning says why, not that the data changed (review of the data fixes)."""
    from dataclasses import replace

    art = artifact.load(ROOT / "examples" / "mnist-tiny" / "mnist-tiny.ebnn")
    artifact.save(replace(art, metadata={**art.metadata, "val_accuracy": None}),
                  tmp_path / "refit.ebnn")
    proc = ebnn("eval", tmp_path / "refit.ebnn", "--split", "val")
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stderr.split())
    assert "the model was trained with no validation split held out" in said
    proc = ebnn("eval", ROOT / "examples" / "mnist-tiny" / "mnist-tiny.ebnn", "--split", "val")
    assert "warning" not in proc.stderr

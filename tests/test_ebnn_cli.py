"""The `ebnn` commands end to end on the bundled MNIST images, and their fault paths.

Commands run in this process (click's CliRunner); two tests start the installed scripts, as a
user would: a config error from `ebnn train` and a firmware fault in `ebnn-sim verify` workers.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import traceback
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from helpers import CliResult, run_cli_in_process
from rich.console import Console

from ebnn import artifact
from ebnn import cli as ebnn_cli
from ebnn.config import load_config, parse_config
from ebnn.data import load_dataset, split_train_val
from ebnn.train import train
from sim.cli import main as sim_main
from sim.elf import load_elf

SMALL = """
[model]
name = "small"
input = [28, 28, 1]
classes = 10

[[model.layers]]
type = "conv"
filters = 8
kernel = 3
stride = 2
padding = 1
pool = 2

[train]
epochs = 2
batch_size = 64
lr = 0.01
seed = 3
shift = 1
val_fraction = 0.2
"""


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def ebnn(*args: object) -> Ran:
    """`ebnn ARGS` in this process. Its console is made afresh for the runner's captured
    (non-terminal) stderr, as a new process writing to a pipe would make it; an exception
    escaping the command is appended to stderr as the traceback Python would print."""
    console = Console(stderr=True, highlight=False, color_system=None, width=80)
    with mock.patch.object(ebnn_cli, "err", console):
        res = CliRunner().invoke(ebnn_cli.main, [str(a) for a in args], env={"NO_COLOR": "1"})
    stderr = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        stderr += "".join(traceback.format_exception(res.exception))
    return Ran(res.exit_code, res.stdout, stderr)


def ebnn_process(*args: object) -> subprocess.CompletedProcess:
    """The installed `ebnn` script in a new process."""
    exe = Path(sys.executable).with_name("ebnn")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True,
                          check=False)


def one_line_error(proc: Ran | CliResult | subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A small model trained by the CLI: out/small.pt, .ebnn, .elf."""
    out = tmp_path_factory.mktemp("small")
    cfg = out / "small.toml"
    cfg.write_text(SMALL)
    proc = ebnn("train", cfg, "-o", out / "small.pt")
    assert proc.returncode == 0, proc.stderr
    (out / "train.log").write_text(proc.stderr)
    proc = ebnn("export", out / "small.pt", "-o", out / "small.ebnn")
    assert proc.returncode == 0, proc.stderr
    proc = ebnn("build", out / "small.ebnn", "-o", out / "small.elf", "--target", "curie")
    assert proc.returncode == 0, proc.stderr
    return out


def test_training_learns(trained):
    proc = ebnn("eval", trained / "small.ebnn", "--pt", trained / "small.pt", "--json",
                trained / "eval.json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((trained / "eval.json").read_text())
    assert result["split"] == "validation" and result["images"] == 1000
    assert result["accuracy"] > 0.5  # chance is 0.1
    assert result["torch_agreement"] >= 0.99
    assert (trained / "small.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (trained / "small.pt.ckpt").is_file()


def test_firmware_runs_with_no_input_and_with_an_image(trained, tmp_path):
    runner = CliRunner()
    res = runner.invoke(sim_main, ["run", str(trained / "small.elf"), "--sram", "15k", "-q",
                                   "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r.json").read_text())
    art = artifact.load(trained / "small.ebnn")
    from ebnn.reference import run as ref_run

    expected = ref_run(art, art.sample)
    assert f"class: {int(expected.classes[0])}" in report["stdout"]
    from PIL import Image

    Image.fromarray(art.sample[..., 0]).save(tmp_path / "digit.png")
    res = runner.invoke(sim_main, ["run", str(trained / "small.elf"), "-q", "--input",
                                   str(tmp_path / "digit.png"), "--json",
                                   str(tmp_path / "p.json")])
    assert res.exit_code == 0, res.output
    png_report = json.loads((tmp_path / "p.json").read_text())
    assert png_report["stdout"] == report["stdout"]


def test_firmware_properties(trained):
    image = load_elf(trained / "small.elf")
    assert "__popcountsi2" not in image.symbols
    assert not [s for s in image.symbols if s.startswith(("__aeabi_f", "__aeabi_d"))]
    for name in ("out_w", "out_scale", "l1_rec", "l1_tab"):
        if name in image.symbols:
            assert image.symbols[name] < 0x2000_0000, f"{name} is not in flash"
    assert image.symbols["ebnn_work"] >= 0x2000_0000


def test_training_records_validation_loss_and_plots_it(trained):
    """Issue 16: the curves show the validation loss and which epoch was exported."""
    payload = torch.load(trained / "small.pt", weights_only=True)
    hist = payload["history"]
    assert len(hist["val_loss"]) == len(hist["train_loss"]) == 2
    assert all(np.isfinite(v) and v > 0 for v in hist["val_loss"])
    assert (trained / "small.png").stat().st_size > 10_000


def test_training_progress_is_visible_in_a_ci_log(trained):
    """stderr is not a terminal here: the final epoch's progress is a plain line (issue 16)."""
    lines = (trained / "train.log").read_text().splitlines()
    assert any(ln.startswith("epoch 2/2") and "(100%)" in ln for ln in lines), lines


def test_verify_cli(trained, tmp_path):
    res = CliRunner().invoke(sim_main, [
        "verify", str(trained / "small.elf"), "--model", str(trained / "small.ebnn"),
        "--limit", "40", "--json", str(tmp_path / "v.json")],
        env={"EBNN_PROGRESS_SECONDS": "0"})
    assert res.exit_code == 0, res.output
    # outside a terminal: a plain progress line per update, the last one complete
    assert "verifying: 40/40 (100%)" in res.stderr, res.stderr
    data = json.loads((tmp_path / "v.json").read_text())
    assert data["compared"] == 40 and data["mismatches"] == 0
    assert 0 < data["instructions"]["min"] <= data["instructions"]["median"] <= \
        data["instructions"]["max"]


def test_build_at_the_optimisation_level_a_product_ships(trained, tmp_path):
    """ebnn build -O s: the model at -Os (it had -O2 only; s52 integration review MEDIUM-2),
    smaller, and still the model bit for bit."""
    elf = tmp_path / "os.elf"
    proc = ebnn("build", trained / "small.ebnn", "-O", "s", "-o", elf, "--target", "curie")
    assert proc.returncode == 0, proc.stderr

    def text(path: Path) -> int:
        out = subprocess.run(["arm-none-eabi-size", str(path)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[1]
        return int(out.split()[0])

    assert text(elf) < text(trained / "small.elf")
    res = CliRunner().invoke(sim_main, ["verify", str(elf), "--model",
                                        str(trained / "small.ebnn"), "--limit", "5"])
    assert res.exit_code == 0 and "0 mismatches in 5 images" in res.output, res.output


def test_verify_cli_mismatch_exits_1(trained, tmp_path):
    """The firmware against an artifact whose output offsets differ: every score mismatches."""
    art = artifact.load(trained / "small.ebnn")
    art.output.offset = art.output.offset + 1
    artifact.save(art, tmp_path / "other.ebnn")
    res = CliRunner().invoke(sim_main, [
        "verify", str(trained / "small.elf"), "--model", str(tmp_path / "other.ebnn"),
        "--limit", "5", "--json", str(tmp_path / "v.json")])
    assert res.exit_code == 1, res.output
    data = json.loads((tmp_path / "v.json").read_text())
    assert data["mismatches"] == 5 and data["status"] == "mismatch"
    assert data["first_mismatch"]["firmware"] + 1 == data["first_mismatch"]["reference"]
    assert "output layer (all hidden bits agree)" in data["first_mismatch"]["where"]
    # the ELF records the digest of the model it was built from: another model is named
    digest = data["model_digest"]
    assert digest["elf"] == artifact.model_digest(artifact.load(trained / "small.ebnn"))
    assert digest["model"] == artifact.model_digest(art) != digest["elf"]
    assert f"was built from another model than {tmp_path / 'other.ebnn'}" in res.stderr


def test_model_digest_is_what_the_model_computes(trained):
    """Metadata, name and sample do not change it (a re-export keeps it); any array does."""
    art = artifact.load(trained / "small.ebnn")
    digest = artifact.model_digest(art)
    art.metadata = {**art.metadata, "note": "re-exported"}
    art.name, art.sample = "renamed", None
    assert artifact.model_digest(art) == digest
    art.hidden[0].weights = ~art.hidden[0].weights
    assert artifact.model_digest(art) != digest


def test_verify_cli_names_another_models_firmware(trained):
    """It used to say only 'firmware run failed: ok: exited with status 2'."""
    res = run_cli_in_process("verify", trained / "small.elf", "--model",
                             Path(__file__).resolve().parents[1] / "examples" / "digits"
                             / "digits.ebnn")
    line = one_line_error(res)
    assert "reads inputs of shape [28, 28, 1]" in line and "takes [8, 8, 1]" in line
    assert "not its firmware" in line


def _input_files(root: Path) -> np.ndarray:
    """A folder of unlabelled inputs: a.png, sub/b.npy (3 images), and hidden files that are
    not inputs; returns the 4 images in the order verify --input reads them."""
    from PIL import Image

    images = load_dataset("mnist", split="train").images[:4].astype(np.uint8)
    (root / "sub" / ".cache").mkdir(parents=True)
    Image.fromarray(images[0][:, :, 0]).save(root / "a.png")
    np.save(root / "sub" / "b.npy", images[1:])
    (root / "._a.png").write_bytes(b"AppleDouble")  # not an input: skipped as hidden
    (root / "sub" / ".cache" / "x").write_bytes(b"junk")
    return images


def test_verify_cli_on_unlabelled_input_files(trained, tmp_path):
    """verify --input: files (a folder of them) instead of a data set, without labels."""
    images = _input_files(tmp_path / "in")
    res = run_cli_in_process("verify", trained / "small.elf", "--model",
                             trained / "small.ebnn", "--input", tmp_path / "in",
                             json_path=tmp_path / "v.json")
    assert res.returncode == 0, res.stderr
    assert "0 mismatches in 4 images (2 input files, no labels)" in res.stderr
    assert "accuracy" not in res.stderr
    data = json.loads((tmp_path / "v.json").read_text())
    assert data["compared"] == 4 and data["mismatches"] == 0 and data["accuracy"] is None

    from ebnn.input_files import load_input_files

    art = artifact.load(trained / "small.ebnn")
    got = load_input_files(art, [tmp_path / "in"])
    assert np.array_equal(got.images, images)  # by name: a.png, then sub/b.npy's three
    assert [(p.name, k) for p, k in got.sources] == [("a.png", 0)] + [("b.npy", k)
                                                                      for k in range(3)]
    limited = load_input_files(art, [tmp_path / "in" / "sub", tmp_path / "in" / "a.png"], 2)
    assert np.array_equal(limited.images, images[1:3]) and limited.files == 1


def test_input_folders_are_read_in_name_order_and_other_files_skipped(trained, tmp_path):
    """Name order over the whole tree (a sub-folder's files where its name sorts), and the
    files that are no inputs by their suffix named in a note instead of aborting the run."""
    images = load_dataset("mnist", split="train").images[:3].astype(np.uint8)
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "z.raw").write_bytes(images[2].tobytes())
    (root / "sub" / "b.raw").write_bytes(images[1].tobytes())
    (root / "a.raw").write_bytes(images[0].tobytes())
    (root / "README.txt").write_text("captured on the bench")
    (root / "sub" / "Thumbs.db").write_bytes(bytes(784))  # a multiple of the input: not read
    res = ebnn("eval", trained / "small.ebnn", "--input", root, "--json", tmp_path / "e.json")
    assert res.returncode == 0, res.stderr
    rows = json.loads((tmp_path / "e.json").read_text())["inputs"]
    assert [Path(r["file"]).relative_to(root).as_posix() for r in rows] == [
        "a.raw", "sub/b.raw", "z.raw"]
    assert "note: 2 files skipped: not inputs by their suffix" in res.stderr
    assert "README.txt" in res.stderr and "Thumbs.db" in res.stderr


def test_verify_mismatches_are_counted_when_they_cannot_be_located(trained, tmp_path):
    """A streaming build (no whole layer outputs) and a firmware built before the scratch was
    named ebnn_work: every mismatch is still counted and written, the location says why it is
    missing (both used to stop verify with exit 2 and no report)."""
    art = artifact.load(trained / "small.ebnn")
    art.output.offset = art.output.offset + 1
    artifact.save(art, tmp_path / "other.ebnn")
    stream = tmp_path / "stream.elf"
    assert ebnn("build", trained / "small.ebnn", "--stream", "-o", stream).returncode == 0
    res = run_cli_in_process("verify", stream, "--model", tmp_path / "other.ebnn", "--limit",
                             "3", json_path=tmp_path / "s.json")
    assert res.returncode == 1, res.stderr
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["mismatches"] == 3
    assert data["first_mismatch"]["where"].startswith("not located: a streaming build")
    old = tmp_path / "old.elf"  # ebnn_buf, as ebnn build named the harness's scratch before
    subprocess.run(["arm-none-eabi-objcopy", "--redefine-sym", "ebnn_work=ebnn_buf",
                    str(trained / "small.elf"), str(old)], check=True)
    res = run_cli_in_process("verify", old, "--model", tmp_path / "other.ebnn", "--limit", "2",
                             json_path=tmp_path / "o.json")
    assert res.returncode == 1, res.stderr
    where = json.loads((tmp_path / "o.json").read_text())["first_mismatch"]["where"]
    assert where == "output layer (all hidden bits agree)"


def test_verify_cli_names_the_file_of_a_mismatch(trained, tmp_path):
    _input_files(tmp_path / "in")
    art = artifact.load(trained / "small.ebnn")
    art.output.offset = art.output.offset + 1
    artifact.save(art, tmp_path / "other.ebnn")
    res = run_cli_in_process("verify", trained / "small.elf", "--model", tmp_path / "other.ebnn",
                             "--input", tmp_path / "in" / "sub", json_path=tmp_path / "v.json")
    assert res.returncode == 1, res.stderr
    first = json.loads((tmp_path / "v.json").read_text())["first_mismatch"]
    assert first["image"] == 0 and first["file"].endswith("b.npy") and first["file_index"] == 0
    assert f"first mismatch: image 0 ({first['file']}, input 0), score" in res.stderr


@pytest.mark.parametrize("make, extra, words", [
    (lambda d: d.mkdir(), (), "a folder without input files"),
    (lambda d: (d.mkdir(), (d / "notes.bin").write_text("hi")), (),
     "notes.bin: 2 bytes, not a whole number of inputs"),
    (lambda d: (d.mkdir(), (d / "notes.txt").write_text("hi")), (),
     "in: a folder without input files (images: .png, .jpg, ...; .wav, .npy, .csv, .bin, "
     ".raw)"),
    (lambda d: (d.mkdir(), os.mkfifo(d / "live.raw")), (),
     "live.raw: not a regular file"),
    (lambda d: (d.mkdir(), np.save(d / "x.npy", np.zeros((2, 8, 8)))), (),
     "an array of shape [2, 8, 8]; this firmware reads inputs of shape [28, 28, 1]"),
    (lambda d: d.mkdir(), ("--data-dir", "."), "--input verifies files instead of a data set"),
])
def test_verify_cli_refuses_input_files_in_one_line(trained, tmp_path, make, extra, words):
    make(tmp_path / "in")
    assert words in one_line_error(run_cli_in_process(
        "verify", trained / "small.elf", "--model", trained / "small.ebnn", "--input",
        tmp_path / "in", *extra))


def test_eval_input_prints_what_the_firmware_must_print(trained, tmp_path):
    """ebnn eval --input: the reference's class and scores per input, one line each on stdout;
    the firmware's own for the same PNG (run --input) are the same numbers."""
    _input_files(tmp_path / "in")
    res = ebnn("eval", trained / "small.ebnn", "--input", tmp_path / "in", "--json",
               tmp_path / "e.json")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 4 and lines[0].startswith(f"{tmp_path / 'in' / 'a.png'}: class ")
    assert lines[3].startswith(f"{tmp_path / 'in' / 'sub' / 'b.npy'} [2]: class ")
    rows = json.loads((tmp_path / "e.json").read_text())["inputs"]
    assert [(Path(r["file"]).name, r["index"]) for r in rows] == [("a.png", 0)] + [
        ("b.npy", k) for k in range(3)]
    fw = run_cli_in_process("run", trained / "small.elf", "--input", tmp_path / "in" / "a.png")
    assert fw.returncode == 0, fw.stderr
    assert f"scores: {' '.join(map(str, rows[0]['scores']))}" in fw.stdout
    assert f"class: {rows[0]['class']}" in fw.stdout
    assert lines[0].endswith(f"class {rows[0]['class']}  scores: "
                             + " ".join(map(str, rows[0]["scores"])))
    assert "--input evaluates files instead of a data set" in one_line_error(
        ebnn("eval", trained / "small.ebnn", "--input", tmp_path / "in", "--pt",
             trained / "small.pt"))
    assert ("a.png: a grey image 28 wide and 28 high, of shape [28, 28, 1] ([height, "
            "width, channels]); this model reads inputs of shape [8, 8, 1]") in (
        one_line_error(ebnn("eval", Path(__file__).resolve().parents[1] / "examples" / "digits"
                            / "digits.ebnn", "--input", tmp_path / "in" / "a.png")))


def test_a_pipe_named_as_input_is_read(tmp_path):
    """`verify --input <(make_inputs)` or /dev/stdin: a FIFO named by the user is an input
    (one found in a folder is refused: nothing may be writing it)."""
    import threading

    from ebnn.input_files import load_input_files

    art = artifact.load(Path(__file__).resolve().parents[1] / "examples" / "mnist" / "mnist.ebnn")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    image = bytes(range(256)) * 3 + bytes(16)

    def feed() -> None:
        with fifo.open("wb") as fh:
            fh.write(image)

    writer = threading.Thread(target=feed)
    writer.start()
    got = load_input_files(art, [fifo])
    writer.join()
    assert got.images.tobytes() == image


def test_verify_input_files_are_bounded(tmp_path, monkeypatch):
    """A folder named by mistake (/, a home directory) stops at MAX_FILES files; inputs stop
    at MAX_INPUTS_BYTES in all: one line each, before the emulator starts."""
    from ebnn import datafiles, input_files
    from ebnn.input_files import InputFilesError, load_input_files

    art = artifact.load(Path(__file__).resolve().parents[1] / "examples" / "mnist" / "mnist.ebnn")
    for i in range(4):
        (tmp_path / f"{i}.bin").write_bytes(bytes(784))
    monkeypatch.setattr(datafiles, "MAX_FILES", 3)
    with pytest.raises(InputFilesError, match="more than 3 files"):
        load_input_files(art, [tmp_path])
    monkeypatch.setattr(datafiles, "MAX_FILES", 4)
    assert len(load_input_files(art, [tmp_path]).images) == 4
    monkeypatch.setattr(input_files, "MAX_INPUTS_BYTES", 3 * 784)
    with pytest.raises(InputFilesError, match=r"3\.bin: the inputs so far are more than"):
        load_input_files(art, [tmp_path])


def test_verify_input_files_are_quantised_as_the_models_data(tmp_path):
    """A float model's inputs from .npy and .csv files: the bytes its data set gives it."""
    from ebnn.evaluate import eval_dataset, eval_inputs
    from ebnn.input_files import load_input_files

    art = artifact.load(Path(__file__).resolve().parents[1] / "examples" / "basicmotions"
                        / "basicmotions.ebnn")
    assert art.input_quant is not None
    ds, _ = eval_dataset(art, None, None, None, None)
    x = ds.images[:5].reshape(5, *art.input_dims())
    np.save(tmp_path / "a.npy", x)
    np.savetxt(tmp_path / "b.csv", x.reshape(5, -1), delimiter=",", fmt="%.9g")
    got = load_input_files(art, [tmp_path / "a.npy", tmp_path / "b.csv"])
    expected = eval_inputs(art, ds.images[:5], ds.source)
    assert np.array_equal(got.images, np.concatenate([expected, expected]))
    assert got.files == 2


@pytest.mark.parametrize("how, words", [
    ("not_ebnn", "no symbol ebnn_infer"),
    ("truncated", "error:"),
])
def test_verify_cli_cannot_run(trained, tmp_path, how, words):
    if how == "not_ebnn":
        from toolchain.build import build
        elf = tmp_path / "hello.elf"
        build([Path(__file__).parent / "programs" / "hello.c"], elf, "curie")
    else:
        elf = tmp_path / "cut.elf"
        elf.write_bytes((trained / "small.elf").read_bytes()[:300])
    proc = run_cli_in_process("verify", elf, "--model", trained / "small.ebnn", "--limit", "3")
    assert words in one_line_error(proc)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_verify_cli_firmware_fault(trained, jobs, tmp_path):
    """A firmware that faults (its target record rewritten, so the Cortex-M3 build runs as a
    Cortex-M0+ and hits Thumb-2 it lacks): one line, exit 2, from the verify process or from a
    worker."""
    elf = tmp_path / "m0.elf"
    shutil.copy(trained / "small.elf", elf)
    record = tmp_path / "target.txt"
    record.write_text("stm32l031")
    subprocess.run(["arm-none-eabi-objcopy", "--update-section",
                    f".ebnn_sim.target={record}", str(elf)], check=True)
    exe = Path(sys.executable).with_name("ebnn-sim")
    proc = subprocess.run([str(exe), "verify", str(elf), "--model",
                           str(trained / "small.ebnn"), "--limit", "8",
                           "--jobs", jobs], capture_output=True, text=True, check=False)
    assert "firmware run failed: fault" in one_line_error(proc)


def interrupt_verify(model: Path, elf: Path, jobs: str, sig: int, json_path: Path
                     ) -> tuple[subprocess.CompletedProcess[str], float]:
    """``ebnn-sim verify`` on the training split, ``sig`` sent to its process group once the
    progress line shows a finished image: (the process, seconds from the signal to its end)."""
    exe = Path(sys.executable).with_name("ebnn-sim")
    args = [str(exe), "verify", str(elf), "--model", str(model), "--split", "train", "-j", jobs,
            "--json", str(json_path)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            env={**os.environ, "EBNN_PROGRESS_SECONDS": "0"})
    assert proc.stderr is not None
    while True:  # progress lines: images are being emulated; wait for a finished one
        line = proc.stderr.readline()
        assert line.startswith("verifying: "), line
        if not line.startswith("verifying: 0/"):
            break
    os.killpg(proc.pid, sig)
    sent = time.monotonic()
    stdout, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr), took


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_verify_cli_stops_on_ctrl_c(trained, jobs, tmp_path, sig):
    """Issue 12: Ctrl-C (SIGINT to the process group, as a terminal sends it) stops verify
    within a second, with one line, exit 130 and a JSON that says so; SIGTERM too (a job's
    time limit: it killed verify without a report, its workers emulating on as orphans).
    What the firmware answered before the signal is compared (it was thrown away), from every
    worker that is still there: a SIGTERM to the group kills verify -j's workers with it."""
    out = tmp_path / "v.json"
    proc, took = interrupt_verify(trained / "small.ebnn", trained / "small.elf", jobs, sig, out)
    assert took < 5  # within a second on a quiet machine
    assert proc.returncode == 130, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("verifying: ")]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), proc.stderr
    data = json.loads(out.read_text())
    assert data["status"] == "interrupted" and data["images"] == 5000
    assert 0 <= data["compared"] <= data["run"] < 5000
    if sig == signal.SIGINT or jobs == "1":
        assert data["compared"] > 0 and data["mismatches"] == 0, data
        assert data["instructions"]["min"] > 0 and 0.5 < data["accuracy"] <= 1
        assert f"0 mismatches in the {data['compared']:,} compared; firmware accuracy" in lines[0]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_interrupted_verify_reports_the_mismatches_it_found(trained, jobs, tmp_path):
    """Ctrl-C after mismatches: they are counted and named (the first's image), not lost;
    the exit stays 130 (interrupted)."""
    art = artifact.load(trained / "small.ebnn")
    art.output.offset = art.output.offset + 1  # every score one below the reference's
    artifact.save(art, tmp_path / "other.ebnn")
    out = tmp_path / "v.json"
    proc, _ = interrupt_verify(tmp_path / "other.ebnn", trained / "small.elf", jobs,
                               signal.SIGINT, out)
    assert proc.returncode == 130, proc.stderr
    data = json.loads(out.read_text())
    assert data["status"] == "interrupted"
    assert data["mismatches"] == data["compared"] > 0, data
    assert data["first_mismatch"]["image"] == 0 == data["mismatch_indices"][0]
    assert data["first_mismatch"]["firmware"] + 1 == data["first_mismatch"]["reference"]
    assert "where" not in data["first_mismatch"]  # no second run to locate it once stopped
    assert (f"{data['compared']:,} mismatches in the {data['compared']:,} compared, the first "
            "at image 0") in proc.stderr


@pytest.mark.parametrize("option, images", [
    (("--max-instructions", "1000"), "50"),
    # 1,000 images (27 M instructions, ~30 ms): 50 could all be emulated within the 1 ms
    (("--timeout", "0.001"), "1000")])
def test_verify_cli_limits_stop_a_run_with_exit_5(trained, option, images):
    """Issue 16: verify takes run's limits; a firmware stopped by one is one line and exit 5."""
    proc = run_cli_in_process("verify", trained / "small.elf", "--model",
                              trained / "small.ebnn", "--limit", images, *option)
    assert proc.returncode == 5, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: firmware run stopped: "), lines
    assert ("instruction limit" if option[0] == "--max-instructions" else "timeout") in lines[0]
    # the limit is a session's: N per image times the images and start-up, and says so
    assert ("(1,000 per image x 51: the images and start-up)" in lines[0]) == (
        option[0] == "--max-instructions")


def test_verify_cli_limits_that_hold_change_nothing(trained):
    proc = run_cli_in_process("verify", trained / "small.elf", "--model",
                              trained / "small.ebnn", "--limit", "5", "--max-instructions",
                              "10000000", "--timeout", "600")
    assert proc.returncode == 0, proc.stderr


def test_verify_cli_refuses_a_target_contradicting_the_elf(trained):
    """Issue 16: verify --target stm32l031 on a curie build used to pass."""
    proc = run_cli_in_process("verify", trained / "small.elf", "--model",
                              trained / "small.ebnn", "--target", "stm32l031", "--limit", "3")
    assert "the ELF was built for curie (cortex-m3); target stm32l031" in one_line_error(proc)


class Stop(Exception):
    """Raised from a progress hook: the training stops there, as Ctrl-C stops it."""


def train_stopped_in_second_epoch(spec, tr, path: Path) -> None:
    """Train ``spec`` on ``tr`` into ``path``, stopped in its second epoch: the first's
    checkpoint (``path``.ckpt) is left."""
    def stop_in_second_epoch(step: int, total: int, text: str) -> None:
        if step == total // 2 + 1:
            raise Stop

    with pytest.raises(Stop):
        train(spec, tr, tr, path, progress=stop_in_second_epoch)


def test_resume_continues_exactly(tmp_path):
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    spec = load_config(cfg)
    ds = load_dataset("mnist")
    tr, _ = split_train_val(ds, 0.9, 0)  # its 500-image training part keeps this quick
    train_stopped_in_second_epoch(spec, tr, tmp_path / "a.pt")
    resumed, _ = train(spec, tr, tr, tmp_path / "a.pt", resume=True)
    straight, _ = train(spec, tr, tr, tmp_path / "b.pt")
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_a_training_checkpoint_is_not_exported(tmp_path):
    """MODEL.pt.ckpt (the last finished epoch, for --resume) lacks the input quantisation,
    the class names and the BN calibration: export refuses it in one line instead of writing
    an artifact whose C contract is wrong."""
    spec = parse_config(tomllib.loads(SMALL))
    tr, _ = split_train_val(load_dataset("mnist"), 0.95, 0)  # 250 images
    train_stopped_in_second_epoch(spec, tr, tmp_path / "a.pt")
    proc = ebnn("export", tmp_path / "a.pt.ckpt", "-o", tmp_path / "a.ebnn")
    assert proc.returncode == 2
    assert "a training checkpoint (epoch 1 of 2: for ebnn train --resume)" in one_line_error(
        proc)
    assert not (tmp_path / "a.ebnn").exists()


@pytest.mark.parametrize("name, words", [
    ("d.npz", "data, not a model config: give it with --data d.npz"),
    ("m.ebnn", "a trained model or its firmware, not a model config"),
])
def test_train_given_data_or_a_model_as_its_config_says_so(tmp_path, name, words):
    (tmp_path / name).write_bytes(b"\xff\x00")
    assert words in one_line_error(ebnn("train", tmp_path / name, "-o", tmp_path / "x.pt"))


def test_export_given_a_config_says_train_it_first(tmp_path):
    (tmp_path / "c.toml").write_text(SMALL)
    line = one_line_error(ebnn("export", tmp_path / "c.toml", "-o", tmp_path / "c.ebnn"))
    assert line.endswith("a model config: train it first (ebnn train CONFIG -o MODEL.pt), "
                         "then give MODEL.pt")


def test_resume_with_another_config_names_what_changed(tmp_path):
    from ebnn.train import TrainError

    spec = parse_config(tomllib.loads(SMALL.replace("epochs = 2", "epochs = 1")))
    tr, _ = split_train_val(load_dataset("mnist"), 0.95, 0)  # 250 images
    train(spec, tr, tr, tmp_path / "a.pt")
    other = parse_config(tomllib.loads(SMALL.replace("epochs = 2", "epochs = 1")
                                       .replace("lr = 0.01", "lr = 0.02")))
    with pytest.raises(TrainError, match=r"another config or epoch count: train\.lr 0\.01 -> "
                                         r"0\.02$"):
        train(other, tr, tr, tmp_path / "a.pt", resume=True)
    with pytest.raises(TrainError, match=r"epoch count: epochs 1 -> 3$"):
        train(spec, tr, tr, tmp_path / "a.pt", resume=True, epochs=3)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_during_training_keeps_the_checkpoint(tmp_path, sig):
    """Issue 12: Ctrl-C stops `ebnn train` with one line and exit 130; the last finished
    epoch's checkpoint stays, and --resume finishes from it. SIGTERM too: it killed train
    outright (exit 143, no word; signal review finding 3)."""
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL.replace("epochs = 2", "epochs = 4"))
    exe = Path(sys.executable).with_name("ebnn")
    model = tmp_path / "m.pt"
    proc = subprocess.Popen([str(exe), "train", str(cfg), "-o", str(model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            env={**os.environ, "EBNN_PROGRESS_SECONDS": "0"})
    assert proc.stderr is not None
    for line in proc.stderr:  # progress lines, one per batch
        if line.startswith("epoch 2/4"):  # epoch 1 is done and checkpointed
            break
    os.killpg(proc.pid, sig)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest
    last = [ln for ln in rest.splitlines() if not ln.startswith("epoch ")]
    assert last == [f"interrupted: {model}.ckpt holds the last finished epoch: continue with "
                    "--resume"], rest
    done = ebnn("train", cfg, "-o", model, "--resume")
    assert done.returncode == 0, done.stderr
    assert model.is_file()


def test_train_images_trains_on_n_of_every_class(tmp_path):
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL.replace("epochs = 2", "epochs = 1"))
    proc = ebnn("train", cfg, "-o", tmp_path / "m.pt", "--train-images", "64")
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stderr.split())
    assert "on 64 images of" in said
    assert "(--train-images: 64 of them, every class in proportion)" in said
    assert "1000 held out for validation" in said  # the validation split stays whole
    assert "x>=1" in ebnn("train", cfg, "-o", tmp_path / "n.pt", "--train-images", "0").stderr


def test_training_again_without_resume_warns_of_the_checkpoint_it_replaces(tmp_path):
    # an interrupted run's epoch-15 checkpoint became an epoch-8 one without a word
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL.replace("epochs = 2", "epochs = 1"))
    model = tmp_path / "m.pt"
    first = ebnn("train", cfg, "-o", model, "--train-images", "64")
    assert first.returncode == 0 and "warning" not in first.stderr, first.stderr
    again = ebnn("train", cfg, "-o", model, "--train-images", "64")
    assert again.returncode == 0, again.stderr
    assert (f"warning: {model}.ckpt (an earlier run's last finished epoch) will be replaced "
            "when this run's first epoch ends: it starts again from epoch 1; --resume goes on "
            "from it instead") in " ".join(again.stderr.split())


def test_resume_without_checkpoint_is_an_error(tmp_path):
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    msg = one_line_error(ebnn("train", cfg, "-o", tmp_path / "m.pt", "--resume"))
    assert "checkpoint" in msg


@pytest.mark.parametrize("text, words", [
    ("[model]\nname = 'x'\n", "input"),
    (SMALL.replace('type = "conv"', 'type = "dense"'), "type"),
    (SMALL.replace("kernel = 3", "kernel = 40"), "does not fit"),
    (SMALL.replace("filters = 8", "filters = 8\ncolour = 1"), "unknown key"),
    (SMALL.replace("epochs = 2", "epochs = 'two'"), "epochs"),
    (SMALL.replace("classes = 10", "classes = 10\nclases = 10"), "[model]: unknown key(s) clases"),
    (SMALL.replace("[train]", "[trian]"), "unknown table(s) trian"),
    # a map longer than any artifact may hold: export wrote it, every command refused it
    ("[model]\nname = 'x'\ninput = [65536, 1]\nclasses = 2\n[[model.layers]]\n"
     "type = 'conv1d'\nfilters = 2\nkernel = 1\npadding = 4096\n",
     "layer 1's output map [1, 73728, 2] has a side over the limit of 65,536"),
    (SMALL.replace("input = [28, 28, 1]", "input = [28, 28, 5000]"), "C in 1..4096"),
    # named like a layer's typo: the file, the likely key, and every key [train] takes
    (SMALL.replace("epochs = 2", "epoch = 2"),
     "bad.toml: [train]: unknown key(s) epoch (did you mean epochs?); it takes epochs, "
     "batch_size, lr,"),
    ("this is [not toml", "TOML"),
    # each named alone (review L6: "epochs must be >= 1 and lr > 0" for epochs = 0)
    (SMALL.replace("epochs = 2", "epochs = 0"), "[train]: epochs must be >= 1, got 0"),
])
def test_bad_configs_are_rejected(tmp_path, text, words):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert words in one_line_error(ebnn("train", cfg, "-o", tmp_path / "m.pt"))


def test_eval_with_a_missing_checkpoint(trained, tmp_path):
    msg = one_line_error(ebnn("eval", trained / "small.ebnn", "--pt", tmp_path / "none.pt"))
    assert "no such file" in msg


def test_checkpoint_with_removed_training_options_still_exports(trained, tmp_path):
    """Checkpoints from versions with options since removed (distillation) keep working."""
    payload = torch.load(trained / "small.pt", weights_only=True)
    payload["config"]["train"].update(teacher_epochs=0, distill=0.0, distill_temperature=4.0)
    torch.save(payload, tmp_path / "old.pt")
    proc = ebnn("export", tmp_path / "old.pt", "-o", tmp_path / "old.ebnn")
    assert proc.returncode == 0, proc.stderr
    old, new = artifact.load(tmp_path / "old.ebnn"), artifact.load(trained / "small.ebnn")
    assert all(np.array_equal(a.weights, b.weights) and np.array_equal(a.threshold, b.threshold)
               for a, b in zip(old.layers, new.layers, strict=True))


def test_missing_config(tmp_path):
    assert "no such file" in one_line_error(ebnn_process("train", tmp_path / "nope.toml", "-o",
                                                         tmp_path / "m.pt"))


def _corrupt(trained: Path, tmp_path: Path, how: str) -> Path:
    data = (trained / "small.ebnn").read_bytes()
    bad = tmp_path / f"{how}.ebnn"
    if how == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        bad.write_bytes(bytes(range(256)) * 8)
    else:
        art = artifact.load(trained / "small.ebnn")
        arrays = dict(np.load(trained / "small.ebnn", allow_pickle=False))
        if how == "version":
            header = json.loads(arrays["header"].tobytes())
            header["version"] = 99
            arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
        elif how == "threshold":
            arrays["l0_threshold"] = arrays["l0_threshold"][:-1]
        elif how == "weights":
            arrays["l1_weights"] = arrays["l1_weights"][:-3]
        assert art.layers
        with bad.open("wb") as fh:
            np.savez(fh, **arrays)
    return bad


@pytest.mark.parametrize("how, words", [
    ("truncated", "not a readable"), ("garbage", "not a readable"),
    ("version", "version 99"), ("threshold", "threshold"), ("weights", "weight"),
])
def test_corrupted_artifacts_are_rejected(trained, tmp_path, how, words):
    bad = _corrupt(trained, tmp_path, how)
    assert words in one_line_error(ebnn("build", bad, "-o", tmp_path / "x.elf"))
    assert words in one_line_error(ebnn("eval", bad))


def test_a_checkpoint_and_an_artifact_mistaken_for_each_other_say_which_is_which(trained,
                                                                                  tmp_path):
    pt, art = trained / "small.pt", trained / "small.ebnn"
    msg = one_line_error(ebnn("build", pt, "-o", tmp_path / "x.elf"))
    assert "a PyTorch checkpoint (what `ebnn train` writes), not a .ebnn artifact" in msg
    msg = one_line_error(ebnn("export", art, "-o", tmp_path / "x.ebnn"))
    assert "a .ebnn artifact, which `ebnn export` made from a checkpoint" in msg


def test_pickle_is_never_loaded(trained, tmp_path):
    bad = tmp_path / "pickle.ebnn"
    with bad.open("wb") as fh:
        np.savez(fh, header=np.array([{"evil": 1}], dtype=object))
    one_line_error(ebnn("eval", bad))


def test_wrong_dataset_shape(trained, tmp_path):
    cfg = tmp_path / "rgb.toml"
    cfg.write_text(SMALL.replace("input = [28, 28, 1]", "input = [32, 32, 3]"))
    assert "(32, 32, 3)" in one_line_error(ebnn("train", cfg, "-o", tmp_path / "m.pt"))


def test_help_explains_every_command():
    runner = CliRunner()
    for cmd in ("train", "export", "eval", "build"):
        res = runner.invoke(ebnn_cli.main, [cmd, "--help"])
        assert res.exit_code == 0 and "Usage:" in res.output and len(res.output) > 300


def test_a_model_too_big_for_the_part_says_what_it_needs_in_one_line(tmp_path):
    model = Path(__file__).resolve().parents[1] / "examples/fashion-mnist/fashion-mnist.ebnn"
    line = one_line_error(ebnn("build", model, "-o", tmp_path / "x.elf", "--target",
                               "stm32l031", "--flash", "4k"))
    assert "the firmware does not fit: code and constants need" in line
    assert "B of flash, linked for 4,096 B" in line and "6x its weight bytes" in line
    assert "overflowed" not in line  # the linker's own words stay out of it


def test_sizes_the_simulator_cannot_map_are_refused_and_larger_than_the_part_warned(tmp_path):
    model = Path(__file__).resolve().parents[1] / "examples/mnist-tiny/mnist-tiny.ebnn"
    # 1.5 KiB linked, then no `ebnn-sim run`/`verify` could map it (the emulator's pages)
    line = one_line_error(ebnn("build", model, "-o", tmp_path / "a.elf", "--sram", "1536"))
    assert "SRAM size 1,536 bytes is not a whole number of KiB" in line and "link for 2k" in line
    assert not (tmp_path / "a.elf").exists()
    # 64 KiB on an 8 KiB part: built (a larger variant of the part), with a warning
    built = ebnn("build", model, "-o", tmp_path / "b.elf", "-t", "stm32l031", "--sram", "64k")
    assert built.returncode == 0 and (tmp_path / "b.elf").is_file()
    assert ("warning: SRAM 64 KiB is more than stm32l031's 8 KiB: right only for a larger "
            "variant of the part") in " ".join(built.stderr.split())
    quiet = ebnn("build", model, "-o", tmp_path / "c.elf", "-t", "stm32l031", "--sram", "8k")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_no_sample_links_no_sample_and_needs_input(tmp_path):
    from sim import load_elf

    model = Path(__file__).resolve().parents[1] / "examples/mnist-tiny/mnist-tiny.ebnn"
    digit = Path(__file__).resolve().parents[1] / "examples/mnist/digit-7.png"
    assert ebnn("build", model, "-o", tmp_path / "a.elf").returncode == 0
    assert ebnn("build", model, "-o", tmp_path / "b.elf", "--no-sample").returncode == 0
    with_sample, without = load_elf(tmp_path / "a.elf"), load_elf(tmp_path / "b.elf")
    assert "ebnn_sample" in with_sample.symbols and "ebnn_sample" not in without.symbols
    assert without.flash_used < with_sample.flash_used - 600  # the 784-byte image, less a message
    bare = run_cli_in_process("run", tmp_path / "b.elf")
    assert bare.returncode == 1 and "built without its sample (--no-sample)" in bare.stdout
    ran = run_cli_in_process("run", tmp_path / "b.elf", "--input", digit)
    assert ran.returncode == 0 and "class: 7" in ran.stdout


def test_a_flash_overflow_names_a_large_sample(tmp_path):
    from test_ebnn_exact import random_model

    from ebnn.export import export_model

    seq = {"seq": {"input": [3000, 1], "classes": 2, "layers": [
        {"type": "conv1d", "filters": 4, "kernel": 8, "stride": 4, "pool": 4}]}}
    art = export_model(random_model("seq", models=seq))
    artifact.save(art, tmp_path / "seq.ebnn")
    line = one_line_error(ebnn("build", tmp_path / "seq.ebnn", "-o", tmp_path / "x.elf",
                               "--flash", "2k"))
    assert "the sample input embedded for runs without input takes 3,000 B" in line
    assert "--no-sample leaves it out" in line


def test_a_stack_that_does_not_fit_is_said_at_build_time(tmp_path):
    """The link checks static data only: 8,000 input bytes on the 8 KiB STM32L031 linked, and
    the firmware overflowed its stack at its first run. The build runs its sample once: an
    error (exit 3)."""
    from test_ebnn_exact import random_model

    from ebnn.export import export_model

    seq = {"fit": {"input": [8000, 1], "classes": 3, "layers": [
        {"type": "conv1d", "filters": 8, "kernel": 16, "stride": 4, "pool": 8}]}}
    art = export_model(random_model("fit", models=seq))
    artifact.save(art, tmp_path / "fit.ebnn")
    ran = ebnn("build", tmp_path / "fit.ebnn", "-o", tmp_path / "fit.elf", "-t", "stm32l031")
    # built (the ELF kept), and an error: a CI job does not go on with it
    assert ran.returncode == 3 and (tmp_path / "fit.elf").is_file()
    said = " ".join(ran.stderr.split())
    assert "error: on its sample the firmware overflows its stack" in said
    assert "of the 8,192 B it was linked for, not enough (--stream keeps" in said
    streamed = ebnn("build", tmp_path / "fit.ebnn", "-o", tmp_path / "s.elf", "-t", "stm32l031",
                    "--stream")
    assert streamed.returncode == 0 and "warning" not in streamed.stderr


def test_stream_says_when_it_keeps_the_whole_input(tmp_path):
    """Overlapping first-layer pools: --stream holds the whole image (its help says 'no image
    buffer'), which the build now says."""
    from test_ebnn_exact import random_model

    from ebnn.export import export_model

    art = export_model(random_model("wide"))  # pool 3, pool stride 2 on the pixels
    artifact.save(art, tmp_path / "wide.ebnn")
    ran = ebnn("build", tmp_path / "wide.ebnn", "-o", tmp_path / "w.elf", "--stream")
    assert ran.returncode == 0
    assert "warning: --stream keeps the whole input of this model" in " ".join(ran.stderr.split())
    tiny = Path(__file__).resolve().parents[1] / "examples/mnist-tiny/mnist-tiny.ebnn"
    rows = ebnn("build", tiny, "-o", tmp_path / "t.elf", "--stream")
    assert rows.returncode == 0 and "warning" not in rows.stderr


def test_memory_overflow_names_each_memory_against_what_it_was_linked_for():
    from toolchain.build import MemoryOverflow

    exc = MemoryOverflow("ld: region `RAM' overflowed by 10 bytes", {"sram": 1034},
                         {"sram": 1024, "flash": 4096})
    assert str(exc) == ("the firmware does not fit: static data needs 1,034 B of SRAM, linked for "
                        "1,024 B")
    assert "overflowed" in exc.linker


def test_data_dir_reads_the_files_of_the_dataset_named(tmp_path):
    """--dataset fashion-mnist --data-dir DIR: Fashion-MNIST's own IDX files from a folder, as
    the help says (it was refused as 'not both'); a set not read from IDX files is refused."""
    from ebnn.data import FASHION_MNIST_DIR

    model = Path(__file__).resolve().parents[1] / "examples/fashion-mnist/fashion-mnist.ebnn"
    ran = ebnn("eval", model, "--dataset", "fashion-mnist", "--data-dir", FASHION_MNIST_DIR,
               "--limit", "100")
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.startswith("fashion-mnist (test, 100 images): reference accuracy")
    line = one_line_error(ebnn("eval", model, "--dataset", "digits", "--data-dir",
                               FASHION_MNIST_DIR))
    assert "--data-dir reads the IDX files of mnist or fashion-mnist" in line

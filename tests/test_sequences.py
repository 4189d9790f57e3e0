"""Sequences [T, C] end to end through the commands: a conv1d config trained on an .npz of
float multi-channel sequences, exported, built, verified bit for bit, summarised, and run on
inputs of the sequence's shape (wrong shapes refused with one line)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from test_ebnn_cli import ebnn, one_line_error

from ebnn import artifact, reference
from ebnn.reference import quantize_input

T, C = 23, 3  # odd length, 3 channels

CONFIG = f"""
[model]
name = "seq"
input = [{T}, {C}]
classes = 3

[[model.layers]]
type = "conv1d"
filters = 6
kernel = 5
stride = 2
padding = 2
pool = 3
pool_stride = 2

[[model.layers]]
type = "conv1d"
filters = 8
kernel = 3
padding = 1

[train]
epochs = 2
batch_size = 16
shift = 1
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """out/seq.npz (float sequences whose class is the channel with the largest mean),
    seq.pt, seq.ebnn and seq.elf made by the commands."""
    out = tmp_path_factory.mktemp("seq")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, T, C)).astype(np.float32)
    y = rng.integers(0, C, 90)
    x[np.arange(90), :, y] += 1.5
    np.savez(out / "seq.npz", x=x[:60], y=y[:60], x_test=x[60:], y_test=y[60:],
             layout=np.array("sequence"))
    (out / "seq.toml").write_text(CONFIG)
    for args in (("train", out / "seq.toml", "--data", out / "seq.npz", "-o", out / "seq.pt"),
                 ("export", out / "seq.pt", "-o", out / "seq.ebnn"),
                 ("build", out / "seq.ebnn", "-o", out / "seq.elf")):
        ran = ebnn(*args)
        assert ran.returncode == 0, ran.stderr
    return out, x[60:]


def test_artifact_is_a_sequence_model(model) -> None:
    out, _ = model
    art = artifact.load(out / "seq.ebnn")
    assert art.sequence and art.input_dims() == (T, C) and tuple(art.input_shape) == (1, T, C)
    assert [layer.kind for layer in art.layers] == ["conv1d", "conv1d", "output"]
    assert art.layers[0].kernel == (1, 5) and art.layers[0].padding == (0, 2)
    assert art.input_quant is not None and art.input_quant.channels == C
    # the generated header says what an input is, and how to quantise it
    text = (out / "seq-src" / "ebnn.h").read_text()
    header = " ".join(re.sub(r"(?m)^ \* ?", "", text).split())
    assert f"one uint8 sequence of {T} steps x {C} channels in time-major order" in header
    assert "byte t * EBNN_INPUT_CHANNELS + c is channel c at step t" in header
    assert "zero_point = {" in header


def test_verify_has_no_mismatch(model, cli) -> None:
    out, _ = model
    ran = cli("verify", out / "seq.elf", "--model", out / "seq.ebnn", "--data", out / "seq.npz",
              json=False)
    assert ran.returncode == 0, ran.stderr
    assert "0 mismatches in 30 sequences" in ran.stdout + ran.stderr


def test_summary_names_the_conv1d_layers(model, tmp_path) -> None:
    out, _ = model
    ran = ebnn("summary", out / "seq.ebnn", "--json", tmp_path / "s.json")
    assert ran.returncode == 0, ran.stderr
    assert f"sequence {T}x{C} (T x C)" in ran.stdout
    table = [ln for ln in ran.stdout.splitlines()[1:] if not ln.startswith(("flash", "total:"))]
    assert max(len(ln.rstrip()) for ln in table) <= 80, ran.stdout  # a pipe's 80 columns
    assert "0 conv1d6 " in ran.stdout and "conv1d8 k3" in ran.stdout  # labels whole
    assert "1x5x6" not in ran.stdout and " 5x6 " in ran.stdout  # sequences shown as T x F
    rows = json.loads((tmp_path / "s.json").read_text())["layers"]
    assert [r["label"] for r in rows] == ["conv1d6 k5/s2 pool3/s2", "conv1d8 k3", "out3"]
    # 12 conv positions x 6 filters x 15 taps of 8-bit input; 5 x 8 filters x 18 taps of bits
    assert rows[0]["int8_macs"] == 12 * 6 * 15 and rows[1]["binary_macs"] == 5 * 8 * 18
    assert all(r["cycles"] > 0 for r in rows)


LONG_CONFIG = """[model]
name = "long"
input = [6000, 2]
classes = 3
[[model.layers]]
type = "conv1d"
filters = 8
kernel = 16
stride = 4
pool = 8
[[model.layers]]
type = "conv1d"
filters = 16
kernel = 3
padding = 1
pool = 10
"""


def test_summary_of_the_streaming_firmware_sizes_a_model_that_fits_only_streamed(
        tmp_path, cli) -> None:
    """6,000 steps of 2 channels: 12,000 bytes that the STM32L031's 8 KiB cannot hold whole;
    `ebnn summary --stream` measures the firmware that fits, per layer."""
    config = tmp_path / "long.toml"
    config.write_text(LONG_CONFIG)
    whole = ebnn("summary", config, "-t", "stm32l031")
    assert "static data needs" in one_line_error(whole)
    ran = ebnn("summary", config, "-t", "stm32l031", "--stream", "--json", tmp_path / "s.json")
    assert ran.returncode == 0, ran.stderr
    assert "streaming firmware for stm32l031" in " ".join(ran.stdout.split())
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["stream"] and s["sram_peak"] < 1024
    rows = s["layers"]
    assert all(r["flash_code"] > 0 and r["cycles"] > 0 and r["stack"] > 0 for r in rows)
    assert sum(r["cycles"] for r in rows) < s["cycles"]
    # the same figures as the firmware `ebnn build --stream` makes, run on its sample
    from ebnn.build import build_firmware
    from ebnn.cli import _artifact_or_config

    build_firmware(_artifact_or_config(config), tmp_path / "long.elf", "stm32l031", stream=True)
    run = cli("run", tmp_path / "long.elf").report
    assert (run["sram"]["peak"], run["flash"]["used"]) == (s["sram_peak"], s["flash_total"])


def test_run_takes_inputs_of_the_sequence_shape(model, cli, tmp_path) -> None:
    out, x = model
    art = artifact.load(out / "seq.ebnn")
    want = reference.run(art, quantize_input(art, x[:2].reshape(2, 1, T, C))).classes
    np.save(tmp_path / "two.npy", x[:2])
    ran = cli("run", out / "seq.elf", "--input", tmp_path / "two.npy")
    assert ran.returncode == 0, ran.stderr
    assert [int(v) for v in re.findall(r"class: (\d+)", ran.stdout)] == list(want)
    np.save(tmp_path / "wrong.npy", x[0].T)  # (C, T): channels first
    ran = cli("run", out / "seq.elf", "--input", tmp_path / "wrong.npy")
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert f"inputs of shape [{T}, {C}]" in ran.stderr


def test_sequence_data_needs_a_sequence_model(model, tmp_path) -> None:
    out, _ = model
    cfg = tmp_path / "long.toml"
    cfg.write_text(CONFIG.replace(f"input = [{T}, {C}]", f"input = [{T + 1}, {C}]"))
    msg = one_line_error(ebnn("train", cfg, "--data", out / "seq.npz", "-o", tmp_path / "m.pt"))
    assert f"sequences [T, C] = [{T}, {C}]" in msg and f"takes sequences [{T + 1}, {C}]" in msg


def _rewrite_header(src: Path, dst: Path, edit) -> None:
    arrays = dict(np.load(src))
    header = json.loads(arrays["header"].tobytes())
    edit(header)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with dst.open("wb") as f:  # a path not ending in .npz would get that suffix
        np.savez(f, **arrays)


def test_artifact_format_version_3_holds_the_new_geometry(model, tmp_path) -> None:
    """conv1d and per-axis sizes need version 3 (old tools refuse it by its version); a file
    claiming an older version with them is refused with one line; per-axis sizes are lists."""
    out, _ = model
    header = json.loads(np.load(out / "seq.ebnn")["header"].tobytes())
    assert header["version"] == 3
    assert header["layers"][0]["padding"] == [0, 2] and header["layers"][1]["stride"] == 1
    art = artifact.load(out / "seq.ebnn")
    artifact.save(art, tmp_path / "again.ebnn")
    assert (tmp_path / "again.ebnn").read_bytes() == (out / "seq.ebnn").read_bytes()

    def old(h: dict) -> None:  # a conv with per-axis padding in a version 2 file
        h["version"] = 2
        h["layers"][0]["kind"] = "conv"

    _rewrite_header(out / "seq.ebnn", tmp_path / "old.ebnn", old)
    with pytest.raises(artifact.ArtifactError) as exc:
        artifact.load(tmp_path / "old.ebnn")
    assert "stride must be an integer in 1..4096, got [1, 2]" in str(exc.value)
    assert "\n" not in str(exc.value)

    def conv1d_in_v2(h: dict) -> None:
        h["version"] = 2
        h["layers"][0]["padding"] = 2

    _rewrite_header(out / "seq.ebnn", tmp_path / "v2.ebnn", conv1d_in_v2)
    with pytest.raises(artifact.ArtifactError, match="a conv1d layer needs format version 3"):
        artifact.load(tmp_path / "v2.ebnn")

    def tall_conv1d(h: dict) -> None:
        h["layers"][0]["kernel"] = [2, 5]

    _rewrite_header(out / "seq.ebnn", tmp_path / "tall.ebnn", tall_conv1d)
    with pytest.raises(artifact.ArtifactError, match="a conv1d is 1 along the height"):
        artifact.load(tmp_path / "tall.ebnn")

"""Hostile input on the model side (issue 12): each case is one clear line and exit 2 (or the
domain error), never a traceback, a hang or an unbounded allocation."""

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from ebnn.artifact import ArtifactError, load
from ebnn.cli import main
from ebnn.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "examples" / "mnist-tiny" / "mnist-tiny.ebnn"
TINY_PT = ROOT / "examples" / "mnist-tiny" / "mnist-tiny.pt"


def _arrays() -> dict[str, np.ndarray]:
    with np.load(TINY, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _header() -> dict[str, Any]:
    return dict(json.loads(_arrays()["header"].tobytes().decode()))


def _write(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with path.open("wb") as f:  # a file object: savez would add .npz to a name
        np.savez(f, **arrays)  # type: ignore[arg-type]
    return path


def _with_header(path: Path, text: str) -> Path:
    arrays = _arrays()
    arrays["header"] = np.frombuffer(text.encode(), np.uint8)
    return _write(path, arrays)


def _fails_load(path: Path, *words: str) -> str:
    with pytest.raises(ArtifactError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400, message
    for w in words:
        assert w in message, message
    return message


def _cli_fails(args: list[str], *words: str) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for w in words:
        assert w in result.output, result.output
    return result.output


# 1. the .ebnn loader

def test_shipped_artifact_still_loads() -> None:
    assert load(TINY).classes == 10


def test_a_device_or_folder_is_not_called_missing(tmp_path: Path) -> None:
    for p in (Path("/dev/zero"), tmp_path):
        with pytest.raises(ArtifactError, match="not a regular file"):
            load(p)
    with pytest.raises(ArtifactError, match="no such file"):
        load(tmp_path / "missing.ebnn")


@pytest.mark.parametrize("text", ["[1, 2]", '"ebnn"', "42", "null"])
def test_header_not_an_object(tmp_path: Path, text: str) -> None:
    _fails_load(_with_header(tmp_path / "a.ebnn", text), "not a JSON object")


def test_header_nested_deeply(tmp_path: Path) -> None:
    _fails_load(_with_header(tmp_path / "a.ebnn", "[" * 100_000 + "]" * 100_000),
                "nested too deeply")


def test_header_not_utf8(tmp_path: Path) -> None:
    arrays = _arrays()
    arrays["header"] = np.frombuffer(b"\xff\xfe{", np.uint8)
    _fails_load(_write(tmp_path / "a.ebnn", arrays), "corrupted")


@pytest.mark.parametrize("field,value", [
    ("classes", "Infinity"), ("classes", "NaN"), ("classes", "10.0"), ("classes", "1e300"),
    ("classes", str(10**40)), ("input_shape", "[28, 28.5, 1]"), ("input_shape", "[28, 28]"),
    ("input_shape", "[100000, 100000, 1]"), ("input_shape", '"abc"'),
    ("input_shape", "[1, 1, 5000]"), ("input_shape", "[1, 70000, 1]"),
])
def test_header_bad_numbers(tmp_path: Path, field: str, value: str) -> None:
    header = _header()
    header[field] = "@@"
    text = json.dumps(header).replace('"@@"', value)
    _fails_load(_with_header(tmp_path / "a.ebnn", text))


@pytest.mark.parametrize("field,value", [
    ("kernel", "[3, Infinity]"), ("kernel", "[3.0, 3]"), ("stride", "NaN"), ("stride", "1.5"),
    ("stride", str(2**70)), ("pool", "-1"), ("padding", "-2"), ("pool_stride", "true"),
    ("weights_shape", "[1000000, 1000000]"), ("weights_shape", "[-8, -1]"),
    ("weights_shape", "[]"), ("in_shape", "{}"), ("first", "1"), ("kind", "[]"),
    ("shift", "1e400"),
    # a map's sides may be 65,536 (a long sequence), its channels (filters) 4,096 only
    ("out_shape", "[1, 1, 60000]"), ("in_shape", "[1, 1, 5000]"), ("out_shape", "[70000, 1, 1]"),
])
def test_layer_bad_numbers(tmp_path: Path, field: str, value: str) -> None:
    header = _header()
    header["layers"][0][field] = "@@"
    text = json.dumps(header).replace('"@@"', value)
    _fails_load(_with_header(tmp_path / "a.ebnn", text))


def test_layers_not_a_list(tmp_path: Path) -> None:
    header = _header()
    header["layers"] = {"0": 1}
    _fails_load(_with_header(tmp_path / "a.ebnn", json.dumps(header)), "layers")
    header["layers"] = [3]
    _fails_load(_with_header(tmp_path / "b.ebnn", json.dumps(header)), "layer 0")


def test_weights_over_the_limit(tmp_path: Path) -> None:
    header = _header()
    header["layers"][0]["weights_shape"] = [4096, 4096, 8, 1]  # 128 Mi bits
    _fails_load(_with_header(tmp_path / "a.ebnn", json.dumps(header)), "limit")


def test_wide_linear_input_round_trips(tmp_path: Path) -> None:
    """A linear layer's weights are (units, inputs), its inputs a whole flattened map: more than
    the 4,096 any one size may be (here 12 x 12 x 64 = 9,216 bits into the output layer)."""
    from ebnn.artifact import save
    from ebnn.export import export_model
    from ebnn.model import EBNN

    spec = parse_config({"model": {"name": "wide", "input": [12, 12, 1], "classes": 3, "layers": [
        {"type": "conv", "filters": 64, "kernel": 3, "padding": 1}]}})
    art = export_model(EBNN(spec).eval())
    save(art, tmp_path / "wide.ebnn")
    back = load(tmp_path / "wide.ebnn")
    assert back.layers[-1].weights.shape == (3, 9216)
    assert np.array_equal(back.layers[-1].weights, art.layers[-1].weights)


def test_pool_stride_without_pool(tmp_path: Path) -> None:
    header = _header()
    layer = header["layers"][0]
    layer["pool"], layer["pool_stride"] = 1, 2
    _fails_load(_with_header(tmp_path / "a.ebnn", json.dumps(header)), "pool")


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "a.ebnn"
    path.write_text("hello, I am not a model\n" * 10)
    message = _fails_load(path, "not a .ebnn file")
    assert "pickle" not in message


def test_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.ebnn"
    with (zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf,
          zf.open("header.npy", "w", force_zip64=True) as f):
        chunk = bytes(1 << 20)
        for _ in range(300):  # 300 MiB of zeros, ~300 KiB compressed
            f.write(chunk)
    assert path.stat().st_size < 2 << 20
    _fails_load(path, "uncompressed")


def test_unsupported_compression(tmp_path: Path) -> None:
    path = tmp_path / "a.ebnn"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("header.npy", b"x" * 100)
    _fails_load(path, "compression method")


def _npy_header(shape: str) -> bytes:
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': " + shape + ", }"
    text += " " * (63 - len(text) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()


@pytest.mark.parametrize("shape", ["(1000000000000,)", "(-5,)", "(1000000, 1000000)"])
def test_npy_header_claims_huge_array(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "a.ebnn"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.npy", _npy_header(shape) + b"\0" * 64)
    _fails_load(path, "header.npy")


def test_npy_object_dtype(tmp_path: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    path = tmp_path / "a.ebnn"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("header.npy", buf.getvalue())
    _fails_load(path, "dtype")


def test_truncated_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.ebnn"
    path.write_bytes(TINY.read_bytes()[:-200])
    _fails_load(path)


def test_cli_eval_text_file(tmp_path: Path) -> None:
    path = tmp_path / "a.ebnn"
    path.write_text("not a model\n")
    _cli_fails(["eval", str(path)], "not a .ebnn file")


# 2. configs

BASE = {"model": {"name": "m", "input": [28, 28, 1], "classes": 10,
                  "layers": [{"type": "conv", "filters": 4, "pool": 2}]},
        "train": {"epochs": 1}}


def _config(layer: dict[str, Any] | None = None, train: dict[str, Any] | None = None,
            **model: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(BASE))
    if layer is not None:
        data["model"]["layers"][0].update(layer)
    if train is not None:
        data["train"].update(train)
    data["model"].update(model)
    return dict(data)


def _config_fails(data: dict[str, Any], *words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert "\n" not in str(info.value)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_base_config_is_valid() -> None:
    assert parse_config(_config()).layers[0].out == 4
    for path in (ROOT / "examples").glob("*/*.toml"):
        if path.parent.name == "search":  # search spaces (docs/search.md), not model configs
            from ebnn.search.space import load_space

            load_space(path)
        elif path.name == "budgets.toml":  # ebnn-sim check's budgets (docs/ci.md)
            from sim.budgets import load_config as load_budgets

            assert load_budgets(path).budgets
        elif path.name == "host.toml":  # a host addressing the part (--i2c controller=)
            from sim.i2c_controller import load_controller

            assert load_controller(path).transactions
        elif path.parent.name == "sensors":  # devices on a bus (--i2c, --spi: simulator.md)
            from sim.i2c_targets import I2cSpec
            from sim.i2c_targets import load_target as load_i2c
            from sim.spi_targets import SpiSpec
            from sim.spi_targets import load_target as load_spi

            spi = "increment_bit" in path.read_text()  # (an SPI device's own key)
            device = load_spi(SpiSpec("PA4", path)) if spi else load_i2c(I2cSpec(0x48, path))
            assert device.registers.size
        else:
            load_config(path)


@pytest.mark.parametrize("key", ["lr", "weight_decay", "rotate", "scale", "elastic",
                                 "elastic_sigma", "init", "bn_momentum", "val_fraction"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 10**400])
def test_train_float_not_finite(key: str, value: float) -> None:
    _config_fails(_config(train={key: value}), key)


@pytest.mark.parametrize("value", [-1, 2**32, 10**20, 1e20, 1.5, True])
def test_train_seed(value: Any) -> None:
    _config_fails(_config(train={"seed": value}), "seed")


def test_train_seed_bounds_ok() -> None:
    assert parse_config(_config(train={"seed": 2**32 - 1})).train.seed == 2**32 - 1


@pytest.mark.parametrize("key,value", [("epochs", 10_001), ("batch_size", 65_537),
                                       ("epochs", 10**30), ("bn_calibrate", 10**9)])
def test_train_int_too_large(key: str, value: int) -> None:
    _config_fails(_config(train={key: value}), key)


def test_pool_stride_needs_pool() -> None:
    _config_fails(_config(layer={"pool": 1, "pool_stride": 2}), "pool_stride")
    spec = parse_config(_config(layer={"pool": 2, "pool_stride": 1}))
    assert spec.layers[0].pool_stride == (1, 1)


@pytest.mark.parametrize("layer", [{"filters": 100_000}, {"filters": 4097}, {"kernel": 10**6},
                                   {"kernel": [3, 5000]}, {"stride": 10**9},
                                   {"padding": 5000}, {"pool": 10**12}])
def test_absurd_layer_sizes(layer: dict[str, Any]) -> None:
    _config_fails(_config(layer=layer), "4096")


def test_absurd_units_and_classes() -> None:
    data = _config()
    data["model"]["layers"].append({"type": "linear", "units": 100_000})
    _config_fails(data, "units")
    _config_fails(_config(classes=10**6), "classes")


@pytest.mark.parametrize("inp", [[100_000, 28, 1], [4096, 4096, 2], [28, 28.0, 1]])
def test_absurd_input(inp: list[Any]) -> None:
    _config_fails(_config(input=inp), "input")


def test_weights_over_the_limit_in_config() -> None:
    data = _config(layer={"filters": 4096, "kernel": 3, "padding": 1, "pool": 1},
                   input=[64, 64, 1])
    data["model"]["layers"].append({"type": "linear", "units": 4096})  # 4096 * 16 Mi bits
    _config_fails(data, "limit")


def test_conv_output_over_the_limit() -> None:
    _config_fails(_config(layer={"filters": 4096, "kernel": 1, "pool": 1}, input=[256, 256, 1]),
                  "limit")


def test_cli_train_bad_config(tmp_path: Path) -> None:
    cfg = tmp_path / "m.toml"
    cfg.write_text('[model]\ninput = [28, 28, 1]\nclasses = 10\n[[model.layers]]\n'
                   'type = "conv"\nfilters = 4\n[train]\nlr = nan\n')
    _cli_fails(["train", str(cfg), "-o", str(tmp_path / "m.pt")], "lr")


# 3. unwritable outputs

def test_export_to_unwritable_path(tmp_path: Path) -> None:
    _cli_fails(["export", str(TINY_PT), "-o", "/proc/x.ebnn"], "cannot write")


def test_export_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _cli_fails(["export", str(TINY_PT), "-o", str(blocker / "m.ebnn")], "cannot write")
    assert blocker.read_text() == "x"


def test_build_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _cli_fails(["build", str(TINY), "-o", str(blocker / "sub" / "m.elf")], "cannot")


def test_train_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = ROOT / "examples" / "mnist-tiny" / "mnist-tiny.toml"
    _cli_fails(["train", str(cfg), "-o", str(blocker / "m.pt")], "cannot")


def test_export_c_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _cli_fails(["export-c", str(TINY), "-o", str(blocker / "lib")], "cannot")


# 4. verify -j

@pytest.mark.parametrize("jobs", ["0", "65", "100000"])
def test_verify_jobs_bounded(jobs: str) -> None:
    from sim.cli import main as sim_main

    result = CliRunner().invoke(sim_main, ["verify", "nonexistent.elf", "-j", jobs])
    assert result.exit_code == 2, result.output
    assert "jobs" in result.output or "-j" in result.output


# 6. properties: only the domain errors escape, whatever the bytes or the values

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is in the dev extra
    st = None

if st is not None:
    import tempfile

    from hypothesis.configuration import set_hypothesis_home_dir

    # its caches go to a temporary folder, not .hypothesis/ in the checkout
    set_hypothesis_home_dir(tempfile.mkdtemp(prefix="ebnn-hypothesis-"))
    _TINY_BYTES = TINY.read_bytes()
    _SETTINGS = settings(max_examples=60, deadline=2000, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow])

    @_SETTINGS
    @given(st.lists(st.tuples(st.integers(0, len(_TINY_BYTES) - 1), st.integers(0, 255)),
                    min_size=1, max_size=16),
           st.integers(1, len(_TINY_BYTES)))
    def test_load_mutated_bytes(edits: list[tuple[int, int]], keep: int) -> None:
        data = bytearray(_TINY_BYTES[:keep])
        for pos, value in edits:
            if pos < len(data):
                data[pos] = value
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "m.ebnn"
            path.write_bytes(bytes(data))
            try:
                load(path)
            except ArtifactError as exc:
                assert "\n" not in str(exc)

    _VALUES = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(-3, 5000),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
        st.lists(st.integers(-2, 30000), max_size=4), st.dictionaries(st.text(max_size=3),
                                                                        st.integers(), max_size=2))
    _LAYER_KEYS = st.sampled_from(["type", "filters", "units", "kernel", "stride", "padding",
                                   "pool", "pool_stride", "bogus"])
    _TRAIN_KEYS = st.sampled_from(["epochs", "batch_size", "lr", "seed", "shift", "val_fraction",
                                   "rotate", "scale", "elastic", "init", "bn_calibrate"])
    _MODEL_KEYS = st.sampled_from(["name", "input", "classes", "layers"])

    @_SETTINGS
    @given(st.dictionaries(_LAYER_KEYS, _VALUES, max_size=3),
           st.dictionaries(_TRAIN_KEYS, _VALUES, max_size=3),
           st.dictionaries(_MODEL_KEYS, _VALUES, max_size=2),
           st.booleans())
    def test_parse_config_generated(layer: dict[str, Any], train: dict[str, Any],
                                    model: dict[str, Any], linear: bool) -> None:
        data = _config(layer, train)
        if linear:
            data["model"]["layers"].append({"type": "linear", "units": layer.get("filters", 8)})
        data["model"].update(model)
        try:
            spec = parse_config(data)
        except ConfigError as exc:
            assert "\n" not in str(exc)
        else:
            assert spec.weight_bits() <= 64 << 20


# 3. review of session 29: small artifacts and configs that asked for much, metadata that
# named files or held the wrong types

def _artifact_with(path: Path, **fields: Any) -> Path:
    header = _header()
    header.update(fields)
    return _with_header(path, json.dumps(header))


def _big_window_artifact(path: Path, k: int, pad: int) -> Path:
    """A first conv of a k x k kernel over a 1 x 1 input padded by ``pad``: a few weights and
    one output, but (hc x wc) windows of k*k values each."""
    hc = 1 + 2 * pad - k + 1
    layers = [
        {"kind": "conv", "first": True, "in_shape": [1, 1, 1], "out_shape": [1, 1, 1],
         "weights_shape": [1, k, k, 1], "kernel": [k, k], "stride": 1, "padding": pad,
         "pool": hc, "pool_stride": hc, "shift": 0},
        {"kind": "output", "first": False, "in_shape": [1, 1, 1], "out_shape": [2],
         "weights_shape": [2, 1], "kernel": [1, 1], "stride": 1, "padding": 0, "pool": 1,
         "pool_stride": 1, "shift": 0}]
    header = {"format": "ebnn", "version": 1, "name": "big", "input_shape": [1, 1, 1],
              "classes": 2, "layers": layers, "metadata": {}}
    return _write(path, {
        "header": np.frombuffer(json.dumps(header).encode(), np.uint8),
        "l0_weights": np.zeros((k * k + 7) // 8, np.uint8),
        "l0_threshold": np.zeros(1, np.int32), "l0_direction": np.ones(1, np.int8),
        "l1_weights": np.zeros(1, np.uint8), "l1_scale": np.ones(2, np.int32),
        "l1_offset": np.zeros(2, np.int32)})


def test_windows_over_the_limit_are_refused_at_load(tmp_path: Path) -> None:
    # 1.6 KB: export-c took 5.4 GB and eval asked numpy for 16 GiB to 128 TiB
    _fails_load(_big_window_artifact(tmp_path / "w.ebnn", 192, 191), "windows", "limit")


def test_a_large_window_model_runs_a_few_images_at_a_time(tmp_path: Path) -> None:
    # within the limit (91 x 91 windows of 4,096 values: 135 MB per image in float32), the
    # reference holds a batch of them within reference.WORK_BYTES instead of 256 images
    import resource

    from ebnn import reference

    art = load(_big_window_artifact(tmp_path / "w.ebnn", 64, 63))
    images = np.zeros((16, 1, 1, 1), np.uint8)  # 2.2 GB of windows in one batch
    status = Path("/proc/self/status").read_text().splitlines()
    in_use = next(int(line.split()[1]) << 10 for line in status if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (in_use + (1 << 30), hard))
    try:
        result = reference.run(art, images)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert result.classes.shape == (16,)


def test_first_layer_fold_over_the_limit_in_config() -> None:
    # a 10-line config made ebnn summary / export ask torch for 8.5 GB (137 GB with 16
    # filters): export folds the first BN over 2 x 255 x fan-in accumulator values
    _config_fails(_config(layer={"filters": 4, "kernel": 2048, "padding": 1024, "pool": 1},
                          input=[1, 1, 1]), "folds its batch norm")


def test_a_first_layer_whose_sums_pass_float32s_exact_range_is_refused() -> None:
    # 257 x 257 x 1 taps: sums up to 255 x 66,049 > 2^24, where torch's float32 convolution
    # rounded (torch +1 where the exact sum gives 0); 65,793 taps are the most that stay exact
    _config_fails(_config(layer={"filters": 1, "kernel": 257, "padding": 0, "pool": 1},
                          input=[257, 257, 1]), "66,049 inputs per output are too many",
                  "at most 65,793 inputs per output")
    assert parse_config(_config(layer={"filters": 1, "kernel": [256, 257], "padding": 0,
                                       "pool": 1}, input=[256, 257, 1]))  # 65,792 taps


def test_long_names_are_refused(tmp_path: Path) -> None:
    # a 32 MiB name (a 35 KB file) took export-c to a MemoryError and summary to minutes
    _fails_load(_artifact_with(tmp_path / "n.ebnn", name="A" * 257), "name", "256")
    _fails_load(_artifact_with(tmp_path / "e.ebnn", name=""), "name")
    _fails_load(_artifact_with(tmp_path / "i.ebnn", name=7), "name")
    _config_fails(_config(name="A" * 257), "name", "256")


def test_a_float_beyond_range_is_no_infinity(tmp_path: Path) -> None:
    text = json.dumps(_header())
    assert '"metadata": {' in text
    _fails_load(_with_header(tmp_path / "f.ebnn", text.replace('"metadata": {',
                                                                '"metadata": {"x": 1e400, ')),
                "1e400")


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    arrays = _arrays()
    arrays.update({f"junk{i}": np.zeros(0, np.uint8) for i in range(5000)})
    _fails_load(_write(tmp_path / "m.ebnn", arrays), "members")


def test_eval_never_reads_a_path_the_artifact_names(tmp_path: Path) -> None:
    # an artifact from elsewhere named a secret file (eval quoted its content in an error)
    # or a FIFO (eval blocked for ever)
    import os

    secret = tmp_path / "secret.csv"
    secret.write_text("id,amount\n0,1\nsk_live_TOKEN,5\n")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for target in (secret, fifo):
        meta = {**_header()["metadata"], "data_path": str(target)}
        path = _artifact_with(tmp_path / "d.ebnn", metadata=meta)
        out = _cli_fails(["eval", str(path)], "--data PATH", str(target))
        assert "sk_live" not in out


@pytest.mark.parametrize("meta", [
    {"config": [1]}, {"config": "abc"}, {"config": {"train": "abc"}},
    {"config": {"train": {"val_fraction": "abc"}}}, {"config": {"train": {"seed": -1}}},
    {"config": {"train": {"seed": 1.5}}}, {"dataset": 123}, {"dataset": [1]},
])
def test_metadata_of_the_wrong_type_is_one_line(tmp_path: Path, meta: dict[str, Any]) -> None:
    # each was a traceback in eval (and verify --model)
    header = _header()
    path = _artifact_with(tmp_path / "m.ebnn", metadata={
        k: v for k, v in {**header["metadata"], **meta}.items() if k != "data_path"})
    result = CliRunner().invoke(main, ["eval", str(path), "--limit", "20"])
    assert result.exit_code in (0, 2), (result.output, result.exception)
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), result.exception


@pytest.mark.parametrize("damage", ["no config", "no history", "config str", "val_acc str",
                                    "sample str", "empty state", "wrong shape"])
def test_a_damaged_checkpoint_is_one_line(tmp_path: Path, damage: str) -> None:
    # each was a traceback from ebnn export (KeyError, TypeError, load_state_dict's error)
    import torch

    payload = torch.load(TINY_PT, weights_only=True)
    if damage == "no config":
        del payload["config"]
    elif damage == "no history":
        del payload["history"]
    elif damage == "config str":
        payload["config"] = "abc"
    elif damage == "val_acc str":
        payload["history"]["val_acc"] = "x"
    elif damage == "sample str":
        payload["sample"] = "abc"
    elif damage == "empty state":
        payload["state_dict"] = {}
    else:
        key = next(k for k in payload["state_dict"] if k.endswith("op.weight"))
        payload["state_dict"][key] = torch.zeros(3, 3)
    torch.save(payload, tmp_path / "bad.pt")
    out = _cli_fails(["export", str(tmp_path / "bad.pt"), "-o", str(tmp_path / "bad.ebnn")])
    assert "checkpoint" in out
    assert not (tmp_path / "bad.ebnn").exists()


def test_toml_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    # a RecursionError traceback from tomllib in ebnn summary and ebnn train
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(deep)
    _cli_fails(["summary", str(deep)], "nested too deeply")

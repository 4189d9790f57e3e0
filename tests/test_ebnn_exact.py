"""Export, reference and firmware agree bit for bit, on random models of every block kind.

The models are untrained but have random weights and random BN statistics, including negative
and zero BN scales, odd map sizes, padding, strides, overlapping pools and channel counts that
are not multiples of 32; 1-D sequences (conv1d) and per-axis geometry on multi-channel input.
Each is built for every target profile and run in the emulator.
"""

import io
import subprocess

import numpy as np
import pytest
import torch

from ebnn import artifact, reference
from ebnn.build import build_firmware
from ebnn.config import parse_config
from ebnn.export import export_model, fold_threshold
from ebnn.model import EBNN
from ebnn.verify import parse_scores
from sim import Simulator, load_elf
from toolchain.profiles import TARGETS

MODELS = {
    # odd sizes, RGB-like input, padding, a 2x3 kernel, overlapping pool, 33 channels, linear
    "mixed": {"input": [9, 11, 3], "classes": 5, "layers": [
        {"type": "conv", "filters": 7, "kernel": 3, "padding": 1, "pool": 2},
        {"type": "conv", "filters": 33, "kernel": [2, 3], "padding": 1, "pool": 3,
         "pool_stride": 1},
        {"type": "linear", "units": 13}]},
    # strided first conv without pool, a 5x5 kernel, two linear layers, 70 inputs per unit
    "strided": {"input": [12, 10, 1], "classes": 3, "layers": [
        {"type": "conv", "filters": 5, "kernel": 5, "stride": 2, "padding": 2},
        {"type": "conv", "filters": 14, "kernel": 1, "pool": 2},
        {"type": "linear", "units": 40},
        {"type": "linear", "units": 9}]},
    # overlapping pools on the pixels, then a padded conv over 72 bits (7 count planes) with
    # 40 filters (a full and a partial group of 32) and an overlapping pool
    "wide": {"input": [10, 10, 2], "classes": 4, "layers": [
        {"type": "conv", "filters": 8, "kernel": 3, "pool": 3, "pool_stride": 2},
        {"type": "conv", "filters": 40, "kernel": 3, "padding": 1, "pool": 2,
         "pool_stride": 1}]},
    # a sequence [T, C]: odd length, 6 channels (an IMU), a strided padded conv1d with an
    # overlapping pool on the samples, then a padded conv1d of 33 filters, overlapping pool
    "seq": {"input": [37, 6], "classes": 4, "layers": [
        {"type": "conv1d", "filters": 9, "kernel": 5, "stride": 2, "padding": 2, "pool": 3,
         "pool_stride": 2},
        {"type": "conv1d", "filters": 33, "kernel": 3, "padding": 1, "pool": 2,
         "pool_stride": 1},
        {"type": "linear", "units": 11}]},
    # sequences whose first layer streams step by step (the stream turns them on their side):
    # a strided padded conv1d into a conv1d with overlapping pools, then a linear layer that
    # reads the turned map; and conv1d layers only (the output counts bits as they come), one
    # of stride 3 that skips steps
    "seqrows": {"input": [41, 3], "classes": 4, "layers": [
        {"type": "conv1d", "filters": 7, "kernel": 5, "stride": 2, "padding": 2, "pool": 2},
        {"type": "conv1d", "filters": 33, "kernel": 3, "padding": 1, "pool": 2,
         "pool_stride": 1},
        {"type": "linear", "units": 9}]},
    "seqchain": {"input": [29, 2], "classes": 3, "layers": [
        {"type": "conv1d", "filters": 6, "kernel": 3, "pool": 2},
        {"type": "conv1d", "filters": 35, "kernel": 2, "stride": 2, "padding": 1},
        {"type": "conv1d", "filters": 9, "kernel": 1, "stride": 3}]},
    # per-axis geometry on 4 channels: rectangular kernels, strides, padding and pools, an
    # overlapping pool along y only
    "rect": {"input": [11, 9, 4], "classes": 3, "layers": [
        {"type": "conv", "filters": 6, "kernel": [3, 2], "stride": [2, 1], "padding": [1, 0],
         "pool": [1, 2]},
        {"type": "conv", "filters": 10, "kernel": [1, 3], "stride": [1, 2], "padding": [0, 1],
         "pool": [2, 1], "pool_stride": [1, 1]}]},
    # conv layers only, so a stream runs all of them by rows and counts the output as it comes:
    # rows of 24 and 105 bits (rings that drop rows mid-word), a strided padded conv, a 1x1
    # conv of stride 3 that skips rows (and its last input row), 35 filters
    "chain": {"input": [17, 9, 2], "classes": 3, "layers": [
        {"type": "conv", "filters": 6, "kernel": 3, "padding": 1, "pool": 2},
        {"type": "conv", "filters": 35, "kernel": 2, "stride": 2, "padding": 1},
        {"type": "conv", "filters": 9, "kernel": 1, "stride": 3}]},
    # a one-word window with padding (2x2x8 bits): GCC's -Warray-bounds once failed its build
    "oneword": {"input": [8, 8, 1], "classes": 10, "layers": [
        {"type": "conv", "filters": 8, "kernel": 3, "padding": 1, "pool": 2},
        {"type": "conv", "filters": 33, "kernel": 2, "padding": 1, "pool": 2}]},
}


def random_model(name: str, seed: int = 0, models: dict | None = None) -> EBNN:
    """The model ``name`` of ``models`` (default: MODELS) with random weights and BN."""
    spec = parse_config({"model": {"name": name, **(models or MODELS)[name]}})
    torch.manual_seed(seed)
    model = EBNN(spec)
    with torch.no_grad():
        for block in model.blocks:
            bn = block.bn
            n = bn.num_features
            bn.running_mean.uniform_(-4, 4)
            bn.running_var.uniform_(0.3, 5)
            bn.weight.uniform_(-1, 1)
            bn.bias.uniform_(-1, 1)
            if not block.output:
                bn.weight[0] = 0.0  # constant channel
                bn.weight[1 % n] = -abs(float(bn.weight[1 % n])) - 0.1  # negative scale
    model.eval()
    return model


@pytest.fixture(scope="module", params=sorted(MODELS))
def exported(request, tmp_path_factory):
    model = random_model(request.param)
    art = export_model(model)
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (12, *art.input_shape), dtype=np.uint8)
    art.sample = images[0]
    path = tmp_path_factory.mktemp("art") / f"{request.param}.ebnn"
    artifact.save(art, path)
    return model, artifact.load(path), images, path.parent


def test_export_uses_every_direction(exported):
    _, art, _, _ = exported
    dirs = np.concatenate([layer.direction for layer in art.hidden])
    assert set(dirs.tolist()) == {-1, 0, 1}


def test_reference_bits_equal_torch(exported):
    model, art, images, _ = exported
    ref = reference.run(art, images, keep_bits=True)
    x = EBNN.pixels(torch.from_numpy(images))
    with torch.no_grad():
        for block, bits in zip(model.blocks[:-1], ref.bits, strict=True):
            x = block(x)
            torch_bits = (x > 0).numpy()
            if torch_bits.ndim == 4:
                torch_bits = torch_bits.transpose(0, 2, 3, 1)
            assert np.array_equal(torch_bits, bits)
        scores = model.blocks[-1](x).numpy()
    # fixed-point scores track the float BN to within the rounding of scale and offset
    shift = art.output.shift
    assert np.allclose(ref.scores / 2.0**shift, scores, atol=1e-3 * np.abs(scores).max())


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_firmware_scores_equal_reference(exported, target):
    _, art, images, outdir = exported
    result, _ = build_firmware(art, outdir / f"{art.name}-{target}.elf", target)
    report = Simulator(load_elf(result.elf)).run(stdin=io.BytesIO(images.tobytes()))
    assert report.status == "ok" and report.exit_code == 0
    scores, classes = parse_scores(report.stdout, art.classes)
    ref = reference.run(art, images)
    assert scores.shape == ref.scores.shape
    assert np.array_equal(scores, ref.scores)
    assert np.array_equal(classes, ref.classes)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_streamed_rows_give_the_same_scores(exported, target):
    """`ebnn build --stream`: the harness feeds each image row by row to ebnn_stream_row."""
    _, art, images, outdir = exported
    result, _ = build_firmware(art, outdir / f"{art.name}-{target}-stream.elf", target,
                               stream=True)
    if art.name in ("seqrows", "seqchain"):  # step by step, the first layer along the steps
        source = (outdir / f"{art.name}-{target}-stream-src" / "ebnn.c").read_text()
        assert "ebnn_stream_layer0_rows(" in source and "ebnn_stream_step(" in source
    report = Simulator(load_elf(result.elf)).run(stdin=io.BytesIO(images.tobytes()))
    assert report.status == "ok" and report.exit_code == 0
    scores, classes = parse_scores(report.stdout, art.classes)
    ref = reference.run(art, images)
    assert np.array_equal(scores, ref.scores) and np.array_equal(classes, ref.classes)


@pytest.mark.parametrize("opt", ["-O0", "-Os"])
@pytest.mark.parametrize("name", ["chain", "seqrows"])
def test_a_stream_built_without_inlining_verifies(tmp_path, name, opt):
    """Built by hand at -O0, -O1 or -Os (a user's own flags), the stream step's reset for the
    next image was a call of ebnn_stream_begin, whose entry verify takes for the start of an
    image: "ran more than N inferences". The reset is inlined at both places now."""
    from ebnn.verify import verify

    art = export_model(random_model(name))
    images = np.random.default_rng(2).integers(0, 256, (4, *art.input_shape), dtype=np.uint8)
    result, _ = build_firmware(art, tmp_path / "fw.elf", "curie", opt=opt, stream=True)
    checked = verify(art, result.elf, images)
    assert (checked.compared, checked.mismatches) == (4, 0)


def test_first_layer_as_a_loop_gives_the_same_scores(exported, monkeypatch):
    """A first layer too large for straight-line code (first_conv.LOOP_CHARS) sums its taps
    in a loop over weight bits: forced here on every config, whole image and streamed (on
    the M0+ for the configs whose first layer pads, overlaps its pools or reads a sequence,
    on the M3 for the others: the loop's C is the same for every core)."""
    from ebnn.layers import first_conv

    _, art, images, outdir = exported
    target = "stm32l031" if art.name in ("mixed", "wide", "seq") else "curie"
    monkeypatch.setattr(first_conv, "LOOP_CHARS", 0)
    ref = reference.run(art, images)
    for stream in (False, True):
        elf = outdir / f"{art.name}-{target}-loop{'-stream' if stream else ''}.elf"
        result, _ = build_firmware(art, elf, target, stream=stream)
        assert "ebnn_first_dot(" in (result.elf.parent / f"{elf.stem}-src" / "ebnn.c").read_text()
        report = Simulator(load_elf(result.elf)).run(stdin=io.BytesIO(images.tobytes()))
        assert report.status == "ok" and report.exit_code == 0
        scores, classes = parse_scores(report.stdout, art.classes)
        assert np.array_equal(scores, ref.scores) and np.array_equal(classes, ref.classes)


# a hidden conv pooled over 3x4 windows without padding: kept one window at a time (the
# kernel's ONE order, as a stream does; "mixed" has it padded), 40 filters in two groups
BIG_POOL = {"bigpool": {"input": [13, 12, 1], "classes": 3, "layers": [
    {"type": "conv", "filters": 6, "kernel": 3},
    {"type": "conv", "filters": 40, "kernel": 2, "pool": [3, 4]}]}}


@pytest.mark.parametrize("target", ["curie", "stm32l031"])
def test_a_large_unpadded_pool_gives_the_same_scores(tmp_path, target):
    art = export_model(random_model("bigpool", models=BIG_POOL))
    images = np.random.default_rng(2).integers(0, 256, (8, *art.input_shape), dtype=np.uint8)
    result, _ = build_firmware(art, tmp_path / f"bigpool-{target}.elf", target)
    source = (result.elf.parent / f"bigpool-{target}-src" / "ebnn.c").read_text()
    whole = [ln for ln in source.splitlines() if "ebnn_conv_sliced_hw(in, 0, bw, py0" in ln]
    assert whole and all(", 1, win, mask, 0, bits, n);" in ln for ln in whole)  # ONE order
    report = Simulator(load_elf(result.elf)).run(stdin=io.BytesIO(images.tobytes()))
    scores, classes = parse_scores(report.stdout, art.classes)
    ref = reference.run(art, images)
    assert np.array_equal(scores, ref.scores) and np.array_equal(classes, ref.classes)


def test_hidden_layers_use_no_floating_point(exported):
    _, art, _, outdir = exported
    result, _ = build_firmware(art, outdir / f"{art.name}-fp.elf", "nrf52832")  # has an FPU
    image = load_elf(result.elf)
    assert not [s for s in image.symbols if s.startswith(("__aeabi_f", "__aeabi_d"))]
    assert "__popcountsi2" not in image.symbols
    disasm = subprocess.run(["arm-none-eabi-objdump", "-d", str(result.elf)], check=True,
                            capture_output=True, text=True).stdout
    for function in disasm.split("\n\n"):
        if "<ebnn_" in function.split("\n", 1)[0]:
            mnemonics = [ln.split("\t")[2] for ln in function.splitlines()[1:]
                         if ln.count("\t") >= 2]
            assert not [m for m in mnemonics if m.startswith("v")], function.split("\n", 1)[0]
    # the DSP popcount reduction is used on the M4
    assert "usad8" in disasm


def test_no_library_division_on_m0plus(exported):
    """ARMv6-M has no divide instruction: no layer of any geometry may call the library's."""
    _, art, _, outdir = exported
    result, _ = build_firmware(art, outdir / f"{art.name}-div.elf", "stm32l031")
    disasm = subprocess.run(["arm-none-eabi-objdump", "-d", str(result.elf)], check=True,
                            capture_output=True, text=True).stdout
    layers = [f for f in disasm.split("\n\n") if "<ebnn_layer" in f.split("\n", 1)[0]
              or "<ebnn_output_layer>" in f.split("\n", 1)[0]]
    assert len(layers) >= len(art.layers)
    for function in layers:
        calls = [ln for ln in function.splitlines() if "\tbl\t" in ln]
        assert not [c for c in calls if "__aeabi" in c or "__div" in c], function[:40]


def test_sample_is_classified_without_input(exported):
    _, art, _, outdir = exported
    result, _ = build_firmware(art, outdir / f"{art.name}-sample.elf", "curie")
    report = Simulator(load_elf(result.elf)).run()
    scores, _ = parse_scores(report.stdout, art.classes)
    assert np.array_equal(scores[0], reference.run(art, art.sample).scores[0])
    assert len(scores) == 1


def _bn_block(gamma: float, mean: float, var: float, beta: float, first: bool):
    spec = parse_config({"model": {"input": [3, 3, 1], "classes": 2, "layers": [
        {"type": "conv", "filters": 1, "kernel": 3}]}})
    model = EBNN(spec)
    block = model.blocks[0]
    block.first = first
    with torch.no_grad():
        block.bn.weight.fill_(gamma)
        block.bn.bias.fill_(beta)
        block.bn.running_mean.fill_(mean)
        block.bn.running_var.fill_(var - block.bn.eps)
    block.eval()
    return block


@pytest.mark.parametrize("gamma", [1.0, -1.0])
def test_threshold_at_an_exact_tie(gamma):
    # BN output is exactly 0 at acc = 5: torch's sign says +1 there, so must the threshold.
    block = _bn_block(gamma, mean=5.0, var=1.0, beta=0.0, first=False)
    thr, direction = fold_threshold(block, 9)
    assert direction[0] == (1 if gamma > 0 else -1)
    assert thr[0] == 5
    with torch.no_grad():
        for acc in range(-9, 10):
            y = block.bn(torch.full((1, 1, 1, 1), float(acc)))
            expected = bool(y >= 0)
            got = acc >= thr[0] if direction[0] > 0 else acc <= thr[0]
            assert got == expected, acc


def test_first_layer_threshold_follows_float32_rounding():
    # The crossing of (acc / 255 - mean) * gamma lies between integers; every reachable
    # accumulator must get torch's float32 decision, whatever the rounding does near it.
    block = _bn_block(3.0, mean=0.3137, var=0.7, beta=0.05, first=True)
    bound = 9 * 255
    thr, direction = fold_threshold(block, bound)
    accs = torch.arange(-bound, bound + 1, dtype=torch.float32)
    with torch.no_grad():
        y = block.bn((accs / 255.0).reshape(-1, 1, 1, 1)).flatten()
    expected = (y >= 0).numpy()
    got = (accs.numpy() >= thr[0]) if direction[0] > 0 else (accs.numpy() <= thr[0])
    assert np.array_equal(got, expected)
    assert 0 < expected.sum() < len(expected)


def test_zero_gamma_gives_constant_bit():
    for beta, bit in ((0.5, 1), (-0.5, 0)):
        thr, direction = fold_threshold(_bn_block(0.0, 1.0, 1.0, beta, first=False), 9)
        assert direction[0] == 0 and int(thr[0] != 0) == bit


# a sequence longer than any other size may be (MAX_DIM 4096): 6,000 steps of 2 channels
LONG = {"long": {"input": [6000, 2], "classes": 3, "layers": [
    {"type": "conv1d", "filters": 8, "kernel": 16, "stride": 4, "pool": 8},
    {"type": "conv1d", "filters": 16, "kernel": 3, "padding": 1, "pool": 10},
    {"type": "linear", "units": 10}]}}


def test_a_long_sequence_streams_step_by_step_in_little_sram(tmp_path):
    """Whole, the firmware holds the 12,000-byte sequence; streamed, a ring of the steps the
    first layer still reads and the maps' rings: the same scores."""
    art = export_model(random_model("long", models=LONG))
    seqs = np.random.default_rng(3).integers(0, 256, (3, *art.input_shape), dtype=np.uint8)
    ref = reference.run(art, seqs)
    peaks = {}
    for stream in (False, True):
        result, _ = build_firmware(art, tmp_path / f"long-{stream}.elf", "nrf52832",
                                   stream=stream)
        report = Simulator(load_elf(result.elf)).run(stdin=io.BytesIO(seqs.tobytes()))
        assert report.status == "ok" and report.exit_code == 0, report.problem
        scores, classes = parse_scores(report.stdout, art.classes)
        assert np.array_equal(scores, ref.scores) and np.array_equal(classes, ref.classes)
        peaks[stream] = report.sram_peak
    assert peaks[False] > 12_000 and peaks[True] < 1_000, peaks

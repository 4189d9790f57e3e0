"""The kernels' resource properties on the shipped models: the buffer plan (the image shares
the scratch with the activations), peak SRAM, and no run-time library division on the M0+."""

import io
import itertools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ebnn import artifact, reference
from ebnn.build import build_firmware
from ebnn.codegen import ping_pong, plan_buffers, plan_stream, stream_artifact
from ebnn.ctext import words
from ebnn.verify import parse_scores
from sim import Simulator, load_elf

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODELS = ("mnist", "ebnn-simple", "mnist-tiny", "fashion-mnist")


def load(name: str) -> artifact.Artifact:
    return artifact.load(EXAMPLES / name / f"{name}.ebnn")


@pytest.mark.parametrize("name", MODELS)
def test_no_layer_writes_over_what_it_reads(name):
    art = load(name)
    plan = plan_buffers(art)
    sizes = [words(int(np.prod(layer.out_shape))) for layer in art.hidden]
    spans = [(o, o + n) for o, n in zip(plan.outputs, sizes, strict=True)]
    for (a0, a1), (b0, b1) in itertools.pairwise(spans):  # layer i + 1 reads i, writes i + 1
        assert a1 <= b0 or b1 <= a0
    assert plan.scratch_words == max(end for _, end in spans)
    assert plan.input_offset % 4 == 0
    image = int(np.prod(art.input_shape))
    assert plan.work_words == max(plan.scratch_words, words(8 * (plan.input_offset + image)))


@pytest.mark.parametrize(("sizes", "length"), [
    ([2048, 7168, 7168, 16], 14336),  # 8, 28, 28 KiB: a greedy plan took 16 Ki words
    ([4096, 8192, 8192, 8192, 8192, 8192, 8192, 8192], 16384),
    ([40, 20, 10], 60), ([12], 12), ([5, 30, 5, 30], 35),
])
def test_consecutive_outputs_need_only_the_largest_neighbouring_pair(sizes, length):
    offsets, total = ping_pong(sizes)
    assert total == length
    spans = [(o, o + n) for o, n in zip(offsets, sizes, strict=True)]
    assert all(a >= 0 and b <= total for a, b in spans)
    for (a0, a1), (b0, b1) in itertools.pairwise(spans):
        assert a1 <= b0 or b1 <= a0


def test_mnist_image_shares_the_first_layers_output():
    """mnist's first layer (4x4, stride 2) stores its bits behind its reads: the image starts
    where the output does, and the scratch is no larger than the image."""
    plan = plan_buffers(load("mnist"))
    assert plan.input_offset == 0
    assert plan.work_words == 784 // 4


def test_image_in_scratch_is_exact_where_the_first_layer_overwrites_it(tmp_path):
    """Random and saturated images through the mnist firmware, each read into the scratch its
    first layer writes: scores equal the reference's."""
    art = load("mnist")
    result, _ = build_firmware(art, tmp_path / "mnist.elf", "curie")
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (6, *art.input_shape), dtype=np.uint8)
    images[0] = 255  # every pixel set: the first layer's bits are far from random
    report = Simulator(load_elf(result.elf)).run(stdin=io.BytesIO(images.tobytes()))
    scores, classes = parse_scores(report.stdout, art.classes)
    ref = reference.run(art, images)
    assert np.array_equal(scores, ref.scores) and np.array_equal(classes, ref.classes)


def test_mnist_peak_sram(tmp_path):
    """The harness on the sample image: image, activations, scores and stack in <= 1,150 B."""
    result, _ = build_firmware(load("mnist"), tmp_path / "mnist.elf", "curie")
    report = Simulator(load_elf(result.elf)).run()
    assert report.status == "ok" and report.exit_code == 0
    assert report.sram_peak <= 1150, report.sram_peak


def test_mnist_stream_keeps_no_whole_map():
    """mnist streamed: both conv layers run by rows (rings of the 4 image rows and the 4 layer-0
    rows layer 1 reads), the output layer counts as layer 1's pixels come: no layer's whole
    output and no whole image is ever stored."""
    art = load("mnist")
    sp = plan_stream(art, plan_buffers(art))
    assert (sp.chain, sp.rows, sp.outputs) == (2, 4, ())
    assert sp.words == words(8 * 4 * 28) + words(4 * 13 * 7) + words(96)


def test_a_sequence_streams_step_by_step(tmp_path):
    """A [T, C] sequence (a 1 x T image) streams turned on its side: its rows are its steps,
    C bytes each, and its conv1d layers run on rings of steps (mnist1d: 588 B streamed on the
    sample, 664 B whole; held whole, as before, the stream took 708 B); its scores are the
    whole-input firmware's."""
    art = load("mnist1d")
    sp = plan_stream(stream_artifact(art), plan_buffers(art))
    assert sp.chain == 3 and sp.cap > sp.rows > 1
    whole, _ = build_firmware(art, tmp_path / "seq.elf", "curie")
    streamed, _ = build_firmware(art, tmp_path / "seq-stream.elf", "curie", stream=True)
    header = (streamed.elf.parent / "seq-stream-src" / "ebnn.h").read_text()
    assert "#define EBNN_STREAM_ROWS 40\n#define EBNN_ROW_SIZE 1\n" in header
    assert f"(the sequence: {sp.cap} steps)" in " ".join(header.split())
    w = Simulator(load_elf(whole.elf)).run()
    s = Simulator(load_elf(streamed.elf)).run()
    assert s.status == "ok" and s.exit_code == 0 and s.stdout == w.stdout
    assert s.sram_peak < w.sram_peak, (s.sram_peak, w.sram_peak)


def test_mnist_streamed_peak_sram(tmp_path):
    """`ebnn build --stream` on the sample: the image fed row by row to ebnn_stream_row, in
    <= 600 B of static + stack (the harness's row buffer and scores included): the budget of
    issue 15, well under the whole-image firmware's."""
    art = load("mnist")
    whole, _ = build_firmware(art, tmp_path / "mnist.elf", "curie")
    streamed, _ = build_firmware(art, tmp_path / "mnist-stream.elf", "curie", stream=True)
    w = Simulator(load_elf(whole.elf)).run()
    s = Simulator(load_elf(streamed.elf)).run()
    assert s.status == "ok" and s.exit_code == 0 and s.stdout == w.stdout
    assert s.sram_peak <= 600, s.sram_peak
    assert s.sram_peak < w.sram_peak


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("name", MODELS)
def test_no_library_division_in_kernels_on_m0plus(name, stream, tmp_path):
    """The ARMv6-M core has no divide instruction: no layer (nor a stream's functions) may
    call the C library's."""
    result, _ = build_firmware(load(name), tmp_path / f"{name}.elf", "stm32l031", stream=stream)
    disasm = subprocess.run(["arm-none-eabi-objdump", "-d", str(result.elf)], check=True,
                            capture_output=True, text=True).stdout
    layers = [f for f in disasm.split("\n\n") if "<ebnn_layer" in f.split("\n", 1)[0]
              or "<ebnn_output_layer>" in f.split("\n", 1)[0]
              or "<ebnn_stream" in f.split("\n", 1)[0]]
    assert layers
    for function in layers:
        calls = [ln for ln in function.splitlines() if "\tbl\t" in ln]
        assert not [c for c in calls if "__aeabi" in c or "__div" in c], function[:40]

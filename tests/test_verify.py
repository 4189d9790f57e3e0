"""Verification catches a broken firmware and names the layer, element and bit."""

import re

import numpy as np
import pytest
from test_ebnn_exact import random_model

from ebnn import artifact, reference
from ebnn.build import build_firmware, compile_firmware, source_dir
from ebnn.export import export_model
from ebnn.verify import firmware_layer_bits, verify


def _built(name: str, out):
    art = export_model(random_model(name, seed=5))
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (6, *art.input_shape), dtype=np.uint8)
    art.sample = images[0]
    artifact.save(art, out / "m.ebnn")
    result, _ = build_firmware(art, out / "m.elf", "curie")
    return artifact.load(out / "m.ebnn"), result.elf, images


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return _built("mixed", tmp_path_factory.mktemp("verify"))


@pytest.fixture(scope="module")
def seq_model(tmp_path_factory):
    """A conv1d model: its mismatches are named along time."""
    return _built("seq", tmp_path_factory.mktemp("verify-seq"))


def test_good_firmware_verifies(model):
    art, elf, images = model
    result = verify(art, elf, images, labels=np.zeros(len(images), np.int64))
    assert result.compared == len(images) and result.mismatches == 0
    assert len(result.instructions) == len(images) and min(result.instructions) > 1000
    assert result.first_mismatch is None


def test_firmware_layer_bits_equal_reference(model):
    art, elf, images = model
    ref = reference.run(art, images[:1], keep_bits=True)
    for got, expected in zip(firmware_layer_bits(art, elf, images[0]), ref.bits, strict=True):
        assert np.array_equal(got, expected[0])


@pytest.mark.parametrize("which", ["model", "seq_model"])
def test_flipped_threshold_is_named(which, request, tmp_path):
    art, elf, images = request.getfixturevalue(which)
    layer = art.layers[1]
    ref = reference.run(art, images, keep_bits=True)
    channel = int(np.nonzero(layer.direction != 0)[0][0])
    # flip the channel's inversion bit: its bit becomes the opposite of the reference's
    want_one = not ref.bits[1][0, 0, 0, channel]
    src = source_dir(elf)
    broken_src = tmp_path / "broken-src"
    broken_src.mkdir()
    for name in ("ebnn.h", "ebnn_kernels.h"):
        (broken_src / name).write_text((src / name).read_text())
    code = (src / "ebnn.c").read_text()
    match = re.search(r"static const uint32_t l1_inv\[\d+\] = \{\n(.*?)\n\};", code, re.S)
    assert match is not None
    values = [int(v.strip().rstrip("u"), 16) for v in match.group(1).split(",")]
    values[channel // 32] ^= 1 << (channel % 32)
    body = ",\n".join(f"    0x{v:08x}u" for v in values)
    code = code[: match.start(1)] + body + code[match.end(1):]
    (broken_src / "ebnn.c").write_text(code)
    broken = compile_firmware(broken_src, tmp_path / "broken.elf", "curie").elf

    result = verify(art, broken, images)
    assert result.mismatches > 0 and result.status == "mismatch"
    first = result.first_mismatch
    assert first["image"] == 0
    assert first["layer"] == 1
    assert first["element"] == [0, 0, channel]
    assert first["firmware_bit"] == int(want_one) and first["reference_bit"] == int(not want_one)
    assert f"channel={channel}" in first["where"]
    kind = art.layers[1].kind
    assert first["where"].startswith(f"layer 1 ({kind}), "
                                     + ("t=0" if kind == "conv1d" else "y=0, x=0"))


def test_per_inference_count_is_the_inference(model):
    """One image: verify's instructions per inference are ebnn_infer's inclusive count from the
    profiler plus the harness's one `bl ebnn_report` between return and report."""
    import io

    import sim
    from sim.profile import Profiler

    art, elf, images = model
    result = verify(art, elf, images[:1])
    prof = Profiler(sim.Simulator(sim.load_elf(elf), sim.RunOptions())).run(
        io.BytesIO(images[0].tobytes()))
    assert result.instructions == [prof.function("ebnn_infer").inclusive.instructions + 1]


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_image(model, jobs):
    art, elf, images = model
    done: list[int] = []
    result = verify(art, elf, np.concatenate([images] * 3), jobs=jobs, progress=done.append)
    assert result.compared == sum(done) == 3 * len(images)
    assert result.mismatches == 0 and len(result.instructions) == 3 * len(images)


def test_marks_beyond_capacity_are_reported(firmware):
    """Marks are recorded in C up to a capacity; reaching more is an error, not a silent cut."""
    import sim

    image = sim.load_elf(firmware("recurse.c", "descend.S", defines={"DEPTH": 5}))
    s = sim.Simulator(image, sim.RunOptions())
    s.add_marks([image.symbols["descend"]], capacity=3)
    assert s.run().status == "ok"
    with pytest.raises(RuntimeError, match="marks reached"):
        s.marks()
    s = sim.Simulator(image, sim.RunOptions())
    s.add_marks([image.symbols["descend"]], capacity=64)
    s.run()
    marks = s.marks()
    assert len(marks) > 3 and set(marks[:, 0].tolist()) == {image.symbols["descend"]}
    assert np.all(np.diff(marks[:, 1].astype(np.int64)) > 0)


def test_marks_inside_a_block_count_what_retired(firmware):
    """loop.S: `movs r1, #N` then `loop: subs; bne loop`. The first arrival at `loop` falls
    through inside the first block; the others start blocks. Before the k-th arrival exactly
    1 + 2k instructions have retired, whatever the block boundaries."""
    import sim

    elf = firmware("loop.S", runtime=False, defines={"N": 10})
    image = sim.load_elf(elf)
    loop = next(a for n, a in image.symbols.items() if n == "loop")
    s = sim.Simulator(image, sim.RunOptions())
    s.add_marks([loop], capacity=16)
    for _ in range(2):  # a second run starts its marks afresh
        assert s.run().instructions == 24
        marks = s.marks()
        assert marks[:, 1].tolist() == [1 + 2 * k for k in range(10)]
    with pytest.raises(RuntimeError, match="already installed"):
        s.add_marks([loop], capacity=16)


def test_marks_leave_out_what_retires_in_a_pause(firmware):
    """loop.S again, with a pause at each `bne` (loop + 2): a record closes it, so before the
    k-th arrival at `loop` the k branches taken so far do not count: 1 + k instructions.
    Paused at each `subs` and recorded at its `bne`, the subs are left out."""
    import sim

    image = sim.load_elf(firmware("loop.S", runtime=False, defines={"N": 10}))
    loop = image.symbols["loop"]
    s = sim.Simulator(image, sim.RunOptions())
    s.add_marks([loop], capacity=16, pauses=[loop + 2])
    assert s.run().instructions == 24  # the run's own counts are whole
    marks = s.marks()
    assert marks[:, 1].tolist() == [1 + k for k in range(10)]
    whole = sim.Simulator(image, sim.RunOptions())
    whole.add_marks([loop], capacity=16)
    whole.run()
    assert np.all(marks[1:, 2] < whole.marks()[1:, 2])  # the branches' cycles left out too
    again = sim.Simulator(image, sim.RunOptions())
    again.add_marks([loop + 2], capacity=16, pauses=[loop])
    again.run()  # paused from each subs to its bne: at the k-th bne, movs and k - 1 bne
    assert again.marks()[:, 1].tolist() == list(range(1, 11))
    with pytest.raises(ValueError, match="given twice"):  # its records would vanish
        sim.Simulator(image, sim.RunOptions()).add_marks([loop], 16, pauses=[loop])



def test_ctrl_c_while_the_workers_are_submitted_is_an_interrupt(model, monkeypatch):
    """A Ctrl-C (or SIGTERM) while verify -j submitted its chunks: the first ones only had a
    future, and gathering their answers raised ValueError (zip), a traceback and exit 1
    instead of 130 (s52 review H1)."""
    from concurrent.futures import ProcessPoolExecutor

    from ebnn.verify import VerifyInterrupted, run_parallel

    _, elf, images = model
    submit, calls = ProcessPoolExecutor.submit, []

    def interrupted_submit(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", interrupted_submit)
    with pytest.raises(VerifyInterrupted):
        run_parallel(elf, np.concatenate([images] * 4), None, jobs=2)


def test_an_interrupted_run_keeps_the_lines_it_finished():
    """The answers of an interrupted run are its finished lines: a scores line the stop cut
    off is left out, whatever its digits (s52 review L1)."""
    from ebnn.verify import _answered

    class Stopped:
        def marks(self):
            return np.array([[4, 0, 0], [8, 10, 20], [4, 30, 40], [8, 45, 60], [4, 70, 80]])

    stdout = "scores: 1 2 3\nclass: 2\nscores: 4 5 6\nclass: 2\nscores: 7 -"
    scores, classes, insns, cycles = _answered(Stopped(), 4, 8, stdout)
    assert scores.tolist() == [[1, 2, 3], [4, 5, 6]] and classes.tolist() == [2, 2]
    assert (insns, cycles) == ([10, 15], [20, 20])


def test_an_interrupted_verify_numbers_the_images_it_compared(model, monkeypatch):
    """verify -j interrupted: each worker's answers are the first images of its chunk, so the
    images compared are not 0..n-1; a mismatch is named by its image in the whole run (it was
    numbered in the concatenation: s52 review L1)."""
    import ebnn.verify as ev

    art, elf, images = model
    idx = np.array([0, 1, 4, 5])  # chunk 1's first two images, chunk 2's first two
    ref = reference.run(art, images[idx])
    scores = ref.scores.copy()
    scores[2, 0] += 1  # image 4 answered wrong

    def interrupted(*args, **kwargs):
        exc = ev.VerifyInterrupted("interrupted")
        exc.indices, exc.ran = idx, (scores, ref.classes, [1] * 4, [2] * 4)
        raise exc

    monkeypatch.setattr(ev, "run_parallel", interrupted)
    with pytest.raises(ev.VerifyInterrupted) as info:
        verify(art, elf, images, np.zeros(len(images), np.int64), jobs=2)
    result = info.value.result
    assert (result.compared, result.mismatches, result.mismatch_indices) == (4, 1, [4])
    assert result.first_mismatch["image"] == 4 and "where" not in result.first_mismatch
    assert result.accuracy == float(np.mean(ref.classes == 0))


def test_ctrl_c_while_the_whole_reference_is_awaited_compares_every_answer(model, monkeypatch):
    """Every image ran and verify waited for the reference's thread when Ctrl-C came: the
    answers were dropped (none compared, s52 review); they are compared as any interrupt's."""
    import ebnn.verify as ev

    art, elf, images = model
    ref = reference.run(art, images)

    def answered(*args, started=None, **kwargs):
        return ref.scores, ref.classes, [1] * len(images), [2] * len(images)

    def waited(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(ev, "run_parallel", answered)
    monkeypatch.setattr(ev._Side, "result", waited)
    with pytest.raises(ev.VerifyInterrupted) as info:
        verify(art, elf, images, ref.classes, jobs=2)
    result = info.value.result
    assert (result.compared, result.mismatches, result.accuracy) == (len(images), 0, 1.0)

"""Bit-exact verification: the firmware in the emulator against the numpy reference.

This is the one place where the model world (artifact, reference) and the firmware world
(ELF, simulator) meet. All images go through one emulator session per job: the harness reads
them one after another from its console, so nothing is reloaded per image. Instruction and
cycle counts per inference are marks the simulator's native hook records, in C, at the entries
of ``ebnn_infer`` and of the harness's report function. The reference runs in a thread beside
the emulation. See docs/verify.md.
"""

import io
import itertools
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ebnn import reference
from ebnn.artifact import Artifact, layer_kind
from ebnn.codegen import (
    layer_function,
    output_function,
    plan_buffers,
    scratch_buffer,
    work_buffer,
)
from ebnn.workers import (
    WAKE_SECONDS,
    ignore_sigint,
    sigint_blocked,
    stop_pool,
)
from sim import FirmwareImage, Simulator, load_elf
from sim.interrupts import signals_interrupt, stop_on_sigint
from sim.runner import MAX_INSTRUCTIONS, RunOptions

CONSOLE_PER_IMAGE = 4096  # console bytes verify keeps per image at least
CONSOLE_PER_CLASS = 12  # the harness prints each score as a decimal int32 and a space
INFER_SYMBOL = "ebnn_infer"
STREAM_SYMBOL = "ebnn_stream_begin"  # where an inference starts in a streaming build
REPORT_SYMBOL = "ebnn_report"


class VerifyError(Exception):
    """Verification cannot run; ``str()`` is one line for the user."""


class VerifyLimit(VerifyError):
    """The firmware ran past the instruction limit or the timeout (exit 5, as `run`)."""


class VerifyInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped the firmware run before every image was verified.
    A KeyboardInterrupt: a caller's ``except Exception`` (a search trial's) does not take it
    for the candidate's failure.

    ``ran`` is what the firmware answered before it stopped (``run_firmware``'s first four
    values for the images it finished; ``None`` when nothing is known), for the images at
    ``indices`` (``None``: the first ones, in order); ``result`` is ``verify``'s comparison
    of those images."""

    ran: "Ran | None" = None
    indices: np.ndarray | None = None
    result: "VerifyResult | None" = None

    def with_ran(self, ran: "Ran", indices: np.ndarray | None = None) -> "VerifyInterrupted":
        self.ran, self.indices = ran, indices
        return self


@dataclass
class VerifyResult:
    compared: int
    mismatches: int
    accuracy: float | None
    instructions: list[int]
    cycles: list[int]
    first_mismatch: dict[str, Any] | None = None
    mismatch_indices: list[int] = field(default_factory=list)
    status: str = "ok"

    @staticmethod
    def _stats(values: list[int]) -> dict[str, float]:
        if not values:
            return {"min": 0, "median": 0, "max": 0}
        return {"min": int(min(values)), "median": float(np.median(values)),
                "max": int(max(values))}

    def to_dict(self) -> dict[str, Any]:
        return {
            "compared": self.compared, "mismatches": self.mismatches, "accuracy": self.accuracy,
            "instructions": self._stats(self.instructions), "cycles": self._stats(self.cycles),
            "first_mismatch": self.first_mismatch, "mismatch_indices": self.mismatch_indices[:100],
            "status": self.status,
        }


# What a firmware run answered: scores (N, classes), classes (N,), instructions and cycles
# per inference.
Ran = tuple[np.ndarray, np.ndarray, list[int], list[int]]


def parse_scores(stdout: str, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores (N, classes), class (N,)) from the harness's console output."""
    scores, labels = [], []
    for line in stdout.splitlines():
        if line.startswith("scores:"):
            values = [int(v) for v in line.split()[1:]]
            if len(values) != classes:
                raise VerifyError(f"firmware printed {len(values)} scores, expected {classes}")
            scores.append(values)
        elif line.startswith("class:"):
            labels.append(int(line.split()[1]))
    return (np.array(scores, np.int64).reshape(-1, classes), np.array(labels, np.int64))


def load_firmware(elf: Path) -> FirmwareImage:
    """The ELF, checked to be an eBNN firmware with the harness verification relies on
    (InvalidFirmware or VerifyError otherwise)."""
    image = load_elf(elf)
    start = INFER_SYMBOL if STREAM_SYMBOL not in image.symbols else STREAM_SYMBOL
    for sym in (start, REPORT_SYMBOL):
        if sym not in image.symbols:
            raise VerifyError(f"{elf}: no symbol {sym}; not an eBNN firmware built by `ebnn build` "
                              "(your own firmware: run it with `ebnn-sim run --input` and "
                              "compare with `ebnn eval MODEL --input`, docs/deploy.md)")
    return image


ROW_SYMBOL = "ebnn_stream_row"  # a streaming build's call per row


def return_sites(image: FirmwareImage, callee: str) -> list[int]:
    """The address after each ``bl callee`` in the harness (the image's functions but the
    library's, whose names begin ``ebnn_``): where its calls return. Literal pools between
    the instructions are stepped over (capstone's skipdata)."""
    import capstone
    from capstone import arm_const

    target = image.symbols.get(callee)
    if target is None:
        return []
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = True
    md.skipdata = True
    sites = []
    for start, size, name in image.functions:
        seg = next((s for s in image.segments
                    if s.address <= start and start + size <= s.address + len(s.data)), None)
        if seg is None or size <= 0 or name.startswith("ebnn_"):
            continue
        code = seg.data[start - seg.address : start - seg.address + size]
        for insn in md.disasm(code, start):
            if insn.id == arm_const.ARM_INS_BL and insn.operands[0].imm == target:
                sites.append(insn.address + insn.size)
    return sites


def stream_pauses(image: FirmwareImage) -> tuple[list[int], list[int]]:
    """(pauses, resumes) that leave a streaming harness's own work out of an inference's
    counts: a pause where each call of ``ebnn_stream_begin`` or ``ebnn_stream_row`` returns,
    a resume at ``ebnn_stream_row``'s entry, so what counts is those two functions' calls
    (the rows' reading from the console between them is the harness's). ([], []) for a
    whole-input build; VerifyError when the harness calls them otherwise than ``ebnn build``'s
    does (its counts would mean something else)."""
    if ROW_SYMBOL not in image.symbols or STREAM_SYMBOL not in image.symbols:
        return [], []
    begin, row = return_sites(image, STREAM_SYMBOL), return_sites(image, ROW_SYMBOL)
    if not begin or not row:
        raise VerifyError(f"{image.path}: no bl to {STREAM_SYMBOL} and {ROW_SYMBOL} in the "
                          "harness; not a streaming firmware built by `ebnn build --stream`")
    return begin + row, [image.symbols[ROW_SYMBOL]]


@dataclass(frozen=True)
class Limits:
    """What may stop a verification's emulator: wall-clock seconds per session (one per job)
    and instructions per image (the session may run that many times its images)."""

    timeout: float | None = None
    max_instructions: int | None = None  # per image
    console_per_image: int = CONSOLE_PER_IMAGE  # bytes kept (more for a model of many classes)

    def for_images(self, n: int) -> int | None:
        """The session's instruction limit for ``n`` images (start-up counts as one more)."""
        if self.max_instructions is None:
            return None
        return min(self.max_instructions * (n + 1), MAX_INSTRUCTIONS)


def run_firmware(elf: Path, images: np.ndarray, target: str | None = None,
                 timeout: float | None = None,
                 progress: Callable[[int], None] | None = None,
                 limits: Limits | None = None,
                 stop_when: Callable[[], bool] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, list[int], list[int], str]:
    """Run all images through the firmware in one session.

    Per-inference instructions and cycles are what retires from the first instruction of
    ``ebnn_infer`` up to the first of ``ebnn_report`` (the harness's call in between
    included), recorded in C by marks on those two entries; in a streaming build, what its
    calls of ``ebnn_stream_begin`` and ``ebnn_stream_row`` retire (``stream_pauses``: the
    harness reading the rows from the console is left out). ``progress(n)`` reports
    finished images from a thread that polls the mark count, so no Python runs per image;
    the same thread interrupts the run once ``stop_when()`` is true. An interrupted run raises
    VerifyInterrupted with what it answered.
    """
    image = load_firmware(elf)
    # the harness prints one line of scores and one of the class per image: keep all of it
    # (well over what any model prints), still bounded for a firmware that prints without end
    limits = limits or Limits(timeout=timeout)
    keep = 64 * 1024 + limits.console_per_image * len(images)
    try:
        sim = Simulator(image, RunOptions(target=target, timeout=limits.timeout,
                                          console_keep=keep,
                                          max_instructions=limits.for_images(len(images))))
    except MemoryError:  # an ELF that records hundreds of MiB of SRAM or flash
        raise VerifyError(f"{elf}: not enough host memory to map the SRAM and flash it was "
                          "linked for") from None
    infer = image.symbols[STREAM_SYMBOL if STREAM_SYMBOL in image.symbols else INFER_SYMBOL]
    report_at = image.symbols[REPORT_SYMBOL]
    pauses, resumes = stream_pauses(image)
    sim.add_marks([infer, report_at], capacity=2 * len(images) + 2, pauses=pauses,
                  resumes=resumes)
    # SIGINT and SIGTERM stop the emulator at the next block (in the command's own process;
    # verify -j's workers are stopped by their parent through ``stop_when``)
    with stop_on_sigint(sim), _Poller(lambda: sim.marks_reached // 2, progress,
                                      stop_when, sim.interrupt):
        report = sim.run(stdin=io.BytesIO(np.ascontiguousarray(images, np.uint8).tobytes()))
    if report.status == "interrupted":
        exc = VerifyInterrupted(f"interrupted after {sim.marks_reached // 2} of "
                                f"{len(images)} images")
        exc.ran = _answered(sim, infer, report_at, report.stdout)
        raise exc
    if report.status == "timeout":
        by_count = limits.max_instructions is not None and "instruction" in (report.problem or "")
        per = (f" ({limits.max_instructions:,} per image x {len(images) + 1}: the images and "
               "start-up)" if by_count else "")
        raise VerifyLimit(f"firmware run stopped: {report.problem}{per}")
    if report.status != "ok" or report.exit_code != 0:
        why = report.problem
        raise VerifyError(f"firmware run failed: {report.status}: {why}")
    if report.stdout_dropped:
        raise VerifyError(f"{elf}: the firmware printed more than {keep:,} bytes for "
                          f"{len(images)} images; not the harness of `ebnn build`")
    try:
        marks = sim.marks()
    except RuntimeError:
        raise VerifyError(f"{elf}: the firmware ran more than {len(images)} inferences for "
                          f"{len(images)} images") from None
    instructions, cycles = _per_inference(marks, infer, report_at)
    scores, classes = parse_scores(report.stdout, image_classes(report.stdout))
    return scores, classes, instructions, cycles, report.stdout


def _per_inference(marks: np.ndarray, infer: int, report_at: int) -> tuple[list[int], list[int]]:
    """Instructions and cycles of each inference: from a mark at ``infer`` to the next at
    ``report_at``."""
    instructions, cycles = [], []
    for (a0, i0, c0), (a1, i1, c1) in itertools.pairwise(marks.tolist()):
        if (a0, a1) == (infer, report_at):
            instructions.append(i1 - i0)
            cycles.append(c1 - c0)
    return instructions, cycles


def _answered(sim: Simulator, infer: int, report_at: int, stdout: str) -> Ran:
    """What an interrupted run answered in full: the images whose scores and class lines the
    harness finished printing (a line cut off by the stop is left out, whatever its digits)."""
    done = stdout[:stdout.rfind("\n") + 1]
    try:
        scores, classes = parse_scores(done, image_classes(done))
        instructions, cycles = _per_inference(sim.marks(), infer, report_at)
    except (VerifyError, RuntimeError):  # nothing printed yet
        return np.zeros((0, 0), np.int64), np.zeros(0, np.int64), [], []
    n = min(len(scores), len(classes), len(instructions))
    return scores[:n], classes[:n], instructions[:n], cycles[:n]


class _Poller:
    """Calls ``progress(delta)`` with the growth of ``count()`` every ``interval`` seconds
    from a thread, and once more at exit; calls ``stop()`` (once) when ``stop_when()`` is
    true."""

    def __init__(self, count: Callable[[], int], progress: Callable[[int], None] | None,
                 stop_when: Callable[[], bool] | None = None,
                 stop: Callable[[], None] | None = None, interval: float = 0.1) -> None:
        self._count, self._progress, self._interval = count, progress, interval
        self._stop_when, self._stop_run = stop_when, stop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported = 0

    def _report(self) -> None:
        now = self._count()
        if now > self._reported and self._progress is not None:
            self._progress(now - self._reported)
            self._reported = now

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._report()
            if self._stop_when is not None and self._stop_run is not None and self._stop_when():
                self._stop_run()
                self._stop_when = None

    def __enter__(self) -> "_Poller":
        if self._progress is not None or self._stop_when is not None:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._report()


def image_classes(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("scores:"):
            return len(line.split()) - 1
    raise VerifyError("firmware printed no scores")


# Worker processes of ``run_parallel``: a counter of finished images shared with the parent,
# and the parent's event asking them to stop (Ctrl-C), inherited when the pool starts them.
_done: Any = None
_stop: Any = None
GATHER_SECONDS = 5.0  # how long an interrupted verify -j waits for its workers' answers


def _init_worker(done: Any, stop: Any) -> None:
    global _done, _stop
    ignore_sigint()
    _done, _stop = done, stop


def _count_done(n: int) -> None:
    with _done.get_lock():
        _done.value += n


def _run_chunk(args: tuple[Path, np.ndarray, str | None, Limits | None]
               ) -> tuple[Ran | None, bool]:
    """(what the firmware answered, whether that is all of the chunk)."""
    elf, images, target, limits = args
    try:
        return run_firmware(elf, images, target, progress=_count_done, limits=limits,
                            stop_when=_stop.is_set)[:4], True
    except VerifyInterrupted as exc:  # the parent asked: its answers so far
        return exc.ran, False


def run_parallel(elf: Path, images: np.ndarray, target: str | None, jobs: int,
                 progress: Callable[[int], None] | None = None,
                 started: Callable[[], None] | None = None,
                 limits: Limits | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, list[int], list[int]]:
    """``run_firmware`` over ``jobs`` processes, results in order.

    Each process runs one contiguous share of the images in one emulator session (one ELF
    load, one set of decode tables per process). ``started()`` is called once the emulation is
    under way (after the worker processes exist), so the caller can start other work beside it.
    """
    if jobs <= 1 or len(images) < 2 * jobs:
        if started is not None:
            started()
        return run_firmware(elf, images, target, progress=progress, limits=limits)[:4]
    chunks = np.array_split(np.arange(len(images)), jobs)
    # Workers come from a fork server, not from a fork of this process: a process that has
    # started threads (the reference's, numpy's BLAS pool, Ray's, torch's) can be forked while
    # one of them holds a lock, and the child then waits on it forever.
    ctx = multiprocessing.get_context("forkserver")
    done, stop = ctx.Value("q", 0), ctx.Event()
    with signals_interrupt():  # SIGTERM too: the workers ended, as on Ctrl-C
        pool = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(done, stop))
        pending: list[Future[tuple[Ran | None, bool]]] = []
        try:  # the first worker to fail (or die) ends the verification at once
            with sigint_blocked():  # the fork server and the workers start on these submits
                pending = [pool.submit(_run_chunk, (elf, images[idx], target, limits))
                           for idx in chunks]
            with _Poller(lambda: done.value, progress):
                if started is not None:
                    started()
                waiting = set(pending)
                while waiting:
                    finished, waiting = wait(waiting, timeout=WAKE_SECONDS,
                                             return_when=FIRST_COMPLETED)
                    for future in finished:
                        try:
                            future.result()  # re-raises the worker's error
                        except BrokenProcessPool:
                            raise VerifyError("a worker process died (killed, or out of "
                                              "memory?)") from None
                parts = [f.result()[0] for f in pending]
        except KeyboardInterrupt:
            interrupted = VerifyInterrupted("interrupted")
            gathered = _gather(pending, chunks, stop)
            if gathered is not None:
                interrupted.indices, interrupted.ran = gathered
            raise interrupted from None
        finally:
            stop_pool(pool)
    return _joined([p for p in parts if p is not None])


def _joined(parts: list[Ran]) -> Ran:
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            [v for p in parts for v in p[2]], [v for p in parts for v in p[3]])


def _gather(pending: list[Future[tuple[Ran | None, bool]]], chunks: list[np.ndarray],
            stop: Any) -> tuple[np.ndarray, Ran] | None:
    """Ctrl-C in verify -j: ask the workers to stop and take what they answered within
    GATHER_SECONDS: (the images' indices, their answers). A chunk whose worker did not answer
    (killed with the signal) is left out; a second Ctrl-C meanwhile gives up (None)."""
    stop.set()
    try:
        wait(pending, timeout=GATHER_SECONDS)
    except KeyboardInterrupt:
        return None
    indices, parts = [], []
    # (a Ctrl-C while the chunks were being submitted: only the first ones have a future)
    for future, idx in zip(pending, chunks[:len(pending)], strict=True):
        if not future.done() or future.cancelled() or future.exception() is not None:
            continue
        ran = future.result()[0]
        if ran is not None and len(ran[0]):
            indices.append(idx[:len(ran[0])])
            parts.append(ran)
    return (np.concatenate(indices), _joined(parts)) if parts else None


def verify(art: Artifact, elf: Path, images: np.ndarray, labels: np.ndarray | None = None,
           target: str | None = None, jobs: int = 1,
           progress: Callable[[int], None] | None = None,
           limits: Limits | None = None) -> VerifyResult:
    """Compare every score and class of firmware and reference on ``images``.

    The reference runs in a thread beside the emulation (numpy and the emulator both release
    the GIL), so it costs no wall time when a core is free.
    """
    per_image = max(CONSOLE_PER_IMAGE, 64 + CONSOLE_PER_CLASS * art.classes)
    limits = replace(limits or Limits(), console_per_image=per_image)
    side = _Side()
    try:
        ran = run_parallel(elf, images, target, jobs, progress,
                           started=lambda: side.start(reference.run, art, images),
                           limits=limits)
        try:
            ref = side.result()
        except KeyboardInterrupt:  # every image ran; the whole reference was still at work
            raise VerifyInterrupted("interrupted").with_ran(ran) from None
    except VerifyInterrupted as exc:  # Ctrl-C: compare what the firmware answered
        if exc.ran is None or not len(exc.ran[0]):
            raise
        idx = exc.indices if exc.indices is not None else np.arange(len(exc.ran[0]))
        # the reference of those images alone (milliseconds): the whole one may take seconds
        # more, and the process does not wait for it (a daemon thread)
        part = reference.run(art, images[idx])
        exc.result = _compare(art, elf, images, labels, idx, exc.ran, part.scores,
                              part.classes, target, locate=False)
        raise
    if ran[0].shape != ref.scores.shape:
        raise VerifyError(f"firmware answered {len(ran[0])} of {len(images)} images "
                          f"with {ran[0].shape[1] if ran[0].ndim == 2 else 0} scores each")
    return _compare(art, elf, images, labels, np.arange(len(images)), ran, ref.scores,
                    ref.classes, target, locate=True)


class _Side:
    """The reference beside the emulation, in a daemon thread: numpy and the emulator both
    release the GIL, so it costs no wall time when a core is free, and an interrupted
    verification (or the process) never waits for it to finish."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._value: reference.ReferenceResult | None = None
        self._error: BaseException | None = None

    def start(self, fn: Callable[..., reference.ReferenceResult], *args: Any) -> None:
        def work() -> None:
            try:
                self._value = fn(*args)
            except BaseException as exc:  # re-raised in the caller's thread by result()
                self._error = exc

        self._thread = threading.Thread(target=work, name="reference", daemon=True)
        self._thread.start()

    def result(self) -> reference.ReferenceResult:
        assert self._thread is not None, "start() first"
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def _compare(art: Artifact, elf: Path, images: np.ndarray, labels: np.ndarray | None,
             idx: np.ndarray, ran: Ran, ref_scores: np.ndarray, ref_classes: np.ndarray,
             target: str | None, locate: bool) -> VerifyResult:
    """The firmware's answers ``ran`` for ``images[idx]`` against the reference's; with
    ``locate``, the first mismatch's first differing bit is searched for (a run of its own)."""
    scores, classes, instructions, cycles = ran
    bad = np.nonzero(np.any(scores != ref_scores, axis=1) | (classes != ref_classes))[0]
    result = VerifyResult(
        compared=len(idx), mismatches=len(bad),
        accuracy=float(np.mean(classes == labels[idx])) if labels is not None else None,
        instructions=instructions, cycles=cycles,
        mismatch_indices=[int(idx[i]) for i in bad],
        status="ok" if len(bad) == 0 else "mismatch",
    )
    if len(bad):
        j = int(bad[0])
        i, k = int(idx[j]), int(np.argmax(scores[j] != ref_scores[j]))
        result.first_mismatch = {"image": i, "score_index": k, "firmware": int(scores[j, k]),
                                 "reference": int(ref_scores[j, k])}
        if locate:
            result.first_mismatch.update(locate_mismatch(art, elf, images[i], target))
    return result


@dataclass
class NativeResult:
    """The model's C library built for this machine against the reference (``--native``)."""

    compiler: str
    compared: int
    mismatch_indices: list[int]

    @property
    def mismatches(self) -> int:
        return len(self.mismatch_indices)

    def to_dict(self) -> dict[str, Any]:
        return {"compiler": self.compiler, "compared": self.compared,
                "mismatches": self.mismatches, "mismatch_indices": self.mismatch_indices[:100],
                "status": "ok" if self.mismatches == 0 else "mismatch"}


def verify_native(art: Artifact, images: np.ndarray, compiler: str | None = None
                  ) -> NativeResult:
    """The C library ``ebnn export-c`` ships for ``art`` (``ebnn build``'s C), compiled by the
    host's ``compiler`` (default cc) and run natively on ``images``, against the reference:
    every score and the class. No emulator, so it takes a second for 10,000 MNIST images; it
    checks the C and the compiler, not a target's code generation (the firmware run does)."""
    from ebnn.library import LibraryError, run_native

    cc = compiler or "cc"
    try:
        scores, classes = parse_scores(run_native(art, images, cc), art.classes)
    except LibraryError as exc:
        raise VerifyError(f"--native: {exc}") from None
    ref = reference.run(art, images)
    if scores.shape != ref.scores.shape:
        raise VerifyError(f"--native: the library answered {len(scores)} of {len(images)} "
                          "images")
    bad = np.nonzero(np.any(scores != ref.scores, axis=1) | (classes != ref.classes))[0]
    return NativeResult(Path(cc).name, len(images), [int(i) for i in bad])


def firmware_layer_bits(art: Artifact, elf: Path, image: np.ndarray,
                        target: str | None = None) -> list[np.ndarray]:
    """Every hidden layer's output bits as the firmware computed them for one image.

    Layer i's buffer is read when layer i + 1 (or the output layer) starts, before anything
    overwrites it.
    """
    fw = load_elf(elf)
    hidden = art.hidden
    entries = [layer_function(i + 1) for i in range(len(hidden) - 1)] + [output_function()]
    plan = plan_buffers(art)  # the harness's layer outputs: in the library's static scratch
    # (with the image in it: ebnn_work; ebnn_buf in firmware built before it had its own name)
    scratch = next((n for n in (work_buffer(), scratch_buffer()) if n in fw.symbols),
                   work_buffer())
    for name in [*entries, scratch]:
        if name not in fw.symbols:
            raise VerifyError(f"{elf}: no symbol {name}; was it built from this model?")
    sim = Simulator(fw, RunOptions(target=target))
    snapshots: dict[int, np.ndarray] = {}

    def snap(i: int) -> Callable[[], None]:
        nbits = int(np.prod(hidden[i].out_shape))
        nwords = (nbits + 31) // 32

        def hook() -> None:
            raw = sim.read_memory(fw.symbols[scratch] + 4 * plan.outputs[i], nwords * 4)
            words = np.frombuffer(raw, "<u4")
            bits = np.unpackbits(words.view(np.uint8), bitorder="little")[:nbits].astype(bool)
            snapshots[i] = bits.reshape(hidden[i].out_shape)
        return hook

    for i, name in enumerate(entries):
        sim.on_entry(fw.symbols[name], snap(i))
    sim.run(stdin=io.BytesIO(np.ascontiguousarray(image, np.uint8).tobytes()))
    if len(snapshots) != len(hidden):
        raise VerifyError(f"{elf}: the firmware did not reach every layer")
    return [snapshots[i] for i in range(len(hidden))]


def locate_mismatch(art: Artifact, elf: Path, image: np.ndarray,
                    target: str | None = None) -> dict[str, Any]:
    """The first hidden layer, element and bit where firmware and reference differ on
    ``image`` (the reference's bits of that one image computed again). A firmware whose
    layers cannot be read (a streaming build: no whole layer outputs; a harness of another
    shape) is still a mismatch, left unlocated with the reason."""
    ref = reference.run(art, image, keep_bits=True)
    if STREAM_SYMBOL in load_elf(elf).symbols:
        return {"where": "not located: a streaming build keeps only a few rows of each layer "
                         "(build it whole with ebnn build, without --stream, to locate it)"}
    try:
        layers = firmware_layer_bits(art, elf, image, target)
    except VerifyError as exc:
        return {"where": f"not located: {exc}"}
    for layer, bits in enumerate(layers):
        expected = ref.bits[layer][0]
        diff = np.argwhere(bits != expected)
        if len(diff):
            element = [int(v) for v in diff[0]]
            flat = np.ravel_multi_index(tuple(diff[0]), expected.shape)
            where = layer_kind(art.layers[layer], f"layer {layer}").describe(element)
            return {"layer": layer, "element": element, "bit": int(flat),
                    "firmware_bit": int(bits[tuple(diff[0])]),
                    "reference_bit": int(expected[tuple(diff[0])]),
                    "where": f"layer {layer} ({art.layers[layer].kind}), {where}, "
                             f"bit {flat} of its output",
                    "differing_bits": len(diff)}
    return {"layer": len(art.hidden), "where": "output layer (all hidden bits agree)"}

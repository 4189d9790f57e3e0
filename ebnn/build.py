"""Artifact -> firmware ELF: the model's C library with prefix ``ebnn`` (the one generator,
``ebnn.codegen``, as ``ebnn export-c --prefix ebnn`` writes it) compiled with the harness
``firmware/ebnn_main.c`` and the start-up runtime."""

import contextlib
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import firmware
from ebnn.artifact import Artifact, model_digest
from ebnn.codegen import GeneratedC, generate
from toolchain.build import BuildResult, build

PREFIX = "ebnn"  # the harness and verify rely on ebnn_infer, ebnn_layer<N>, ebnn_work, ...
# The harness reads each image into the library's scratch (EBNN_INPUT_BUFFER): no image buffer;
# or, streaming, row by row into ebnn_stream_row.
HARNESS_DEFINES = ["-DEBNN_IMAGE_IN_SCRATCH"]
STREAM_DEFINES = ["-DEBNN_HARNESS_STREAM"]
NO_SAMPLE_DEFINES = ["-DEBNN_HARNESS_NO_SAMPLE"]


def source_dir(elf: Path) -> Path:
    """Where the generated C of ``elf`` is written: ``NAME-src/`` beside it."""
    return elf.with_name(elf.stem + "-src")


def write_sources(gen: GeneratedC, directory: Path) -> list[Path]:
    """The library's files (``<prefix>.h``, ``<prefix>.c``, the kernel header, ...) in
    ``directory``, created if needed; other files there are left alone. Each is written to a
    temporary name beside it first, and all are renamed into place together, a Ctrl-C or
    SIGTERM meanwhile held back until they are: an interrupted build leaves the old files or
    the new ones, never a header of one model beside the source of another."""
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in gen.files.items():
            tmp = directory / f".{name}.{os.getpid()}.tmp"
            tmp.unlink(missing_ok=True)  # a link planted at this name: not written through
            tmp.write_bytes(text.encode())
            staged.append((tmp, directory / name))
        with _signals_held():
            for tmp, final in staged:
                os.replace(tmp, final)
            staged = []
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [directory / name for name in gen.files]


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM that come within the block are raised again when it ends (in the
    main thread; elsewhere signals do not reach Python code)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: held.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if held:
            signal.raise_signal(held[0])


def build_firmware(art: Artifact, elf: str | Path, target: str = "curie", opt: str = "-O2",
                   sram: int | None = None, flash: int | None = None, stream: bool = False,
                   sample: bool = True) -> tuple[BuildResult, GeneratedC]:
    """Generate ``ebnn.c``/``ebnn.h`` beside the ELF and build them with the harness (with
    ``stream``, the harness that feeds each image row by row to ``ebnn_stream_row``; without
    ``sample``, one that links no sample input and needs input to run)."""
    out = Path(elf)
    gen = generate(art, PREFIX)
    src = source_dir(out)
    write_sources(gen, src)
    return compile_firmware(src, out, target, opt, sram, flash, stream,
                            input_metadata(art), sample), gen


def compile_firmware(src: Path, elf: str | Path, target: str = "curie", opt: str = "-O2",
                     sram: int | None = None, flash: int | None = None,
                     stream: bool = False,
                     metadata: dict[str, str] | None = None,
                     sample: bool = True) -> BuildResult:
    """Build the generated (or hand-edited) ``ebnn.c`` in ``src`` with the harness."""
    fw = Path(firmware.__file__).parent
    # -Werror: the generated C and the kernels must stay -Wall -Wextra clean on every core.
    return build([src / f"{PREFIX}.c", fw / "ebnn_main.c"], Path(elf), target,
                 include_dirs=[src], opt=opt, sram=sram, flash=flash,
                 extra_cflags=["-Werror", *(STREAM_DEFINES if stream else HARNESS_DEFINES),
                               *([] if sample else NO_SAMPLE_DEFINES)],
                 metadata=metadata)


WAV_FORMAT = re.compile(r"(8|16|24|32|64)-bit (PCM|float)")  # sim.wav.Wav.kind


def input_metadata(art: Artifact) -> dict[str, str]:
    """The ELF metadata (``.ebnn_sim.meta``) of the harness's console input: one uint8 sample
    of the input shape per inference, and the float quantisation when the model has one, so
    ``ebnn-sim run --input`` checks and converts inputs without knowing the model; and the
    model's digest, by which ``verify`` tells another model's firmware."""
    meta = {"model.digest": model_digest(art),
            "input.shape": ",".join(map(str, art.input_dims())), "input.dtype": "uint8",
            "input.bytes": str(int(np.prod(art.input_shape))),
            "input.layout": "TC" if art.sequence else "HWC"}
    if art.input_quant is not None:
        meta["input.scale"] = ",".join(repr(float(v)) for v in art.input_quant.scale)
        meta["input.zero_point"] = ",".join(str(int(v)) for v in art.input_quant.zero_point)
    clips = art.metadata.get("input_clips")  # trained on WAV clips: other clips must match
    if isinstance(clips, dict) and WAV_FORMAT.fullmatch(str(clips.get("format"))) and (
            type(clips.get("rate")) is int and 0 < clips["rate"] < 2**32):
        meta["input.wav.format"], meta["input.wav.rate"] = clips["format"], str(clips["rate"])
    return meta


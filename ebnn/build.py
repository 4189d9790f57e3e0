"""Artifact -> firmware ELF: the model's C library with prefix ``ebnn`` (the one generator,
``ebnn.codegen``, as ``ebnn export-c --prefix ebnn`` writes it) compiled with the harness
``firmware/ebnn_main.c`` and the start-up runtime."""

import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

import firmware
from ebnn.artifact import Artifact, model_digest
from ebnn.codegen import GeneratedC, generate
from sim.formats import write_bytes
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
    """The library's files (``<prefix>.h``, ``<prefix>.c``, the kernel header) in
    ``directory``, replacing what a previous build left there all at once: they are written to
    a folder beside it that then takes its place, so an interrupted build never leaves a
    header of one model beside the source of another."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    umask = os.umask(0)
    os.umask(umask)
    try:
        staged.chmod(0o777 & ~umask)  # (mkdtemp makes it 0700) as a folder made here would be
        for name, text in gen.files.items():
            write_bytes(staged / name, text.encode())
        old = None
        if directory.is_dir() and not directory.is_symlink():
            old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
            directory.rename(old)
        staged.rename(directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return [directory / name for name in gen.files]


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


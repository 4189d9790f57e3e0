"""Artifact -> firmware ELF: generate the model's C, compile it with the kernels and harness."""

from pathlib import Path

import firmware
from ebnn.artifact import Artifact
from ebnn.codegen import GeneratedC, generate
from toolchain.build import BuildResult, build


def source_dir(elf: Path) -> Path:
    """Where the generated C of ``elf`` is written: ``NAME-src/`` beside it."""
    return elf.with_name(elf.stem + "-src")


def build_firmware(art: Artifact, elf: str | Path, target: str = "curie", opt: str = "-O2",
                   sram: int | None = None, flash: int | None = None,
                   ) -> tuple[BuildResult, GeneratedC]:
    """Generate ``model.c``/``model.h`` beside the ELF and build them with the eBNN runtime."""
    out = Path(elf)
    gen = generate(art)
    src = source_dir(out)
    src.mkdir(parents=True, exist_ok=True)
    (src / "model.h").write_text(gen.header)
    (src / "model.c").write_text(gen.source)
    return compile_firmware(src, out, target, opt, sram, flash), gen


def compile_firmware(src: Path, elf: str | Path, target: str = "curie", opt: str = "-O2",
                     sram: int | None = None, flash: int | None = None) -> BuildResult:
    """Build the generated (or hand-edited) ``model.c`` in ``src`` with the eBNN runtime."""
    fw = Path(firmware.__file__).parent
    # -Werror: the generated C and the kernels must stay -Wall -Wextra clean on every core.
    return build([src / "model.c", fw / "ebnn_main.c"], Path(elf), target, include_dirs=[src],
                 opt=opt, sram=sram, flash=flash, extra_cflags=["-Werror"])

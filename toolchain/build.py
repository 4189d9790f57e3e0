"""Cross-compile C sources into a bare-metal Cortex-M ELF.

The ELF gets the project's start-up code and semihosting runtime (``firmware/``), a linker script
for the requested memory sizes, and a non-allocated section ``.ebnn_sim.target`` naming its target
profile and the SRAM and flash sizes it was linked for (``curie sram=2048 flash=200704``), so
``ebnn-sim run`` picks the right core, clock and memory without being told.

A build may also record ``metadata``: ``key=value`` lines in a second non-allocated section,
``.ebnn_sim.meta``, that the simulator reads without knowing what built the ELF. The keys it
uses are ``input.*``, the format of one console input (``input.shape=28,28,1``,
``input.dtype=uint8``, ``input.bytes=784``, and for float input ``input.scale=`` and
``input.zero_point=`` per channel): see docs/simulator.md.
"""

import contextlib
import dataclasses
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

import firmware
from toolchain.linker import linker_script
from toolchain.memory_map import PAGE_SIZE, REGION_SIZE, SRAM_BASE
from toolchain.profiles import Target, get_target

TARGET_SECTION = ".ebnn_sim.target"
META_SECTION = ".ebnn_sim.meta"
MAX_META_BYTES = 16 << 10  # what the simulator reads of the metadata section
APT_HINT = "apt-get install gcc-arm-none-eabi picolibc-arm-none-eabi"


class ToolchainError(Exception):
    """The cross toolchain is missing or the build failed; ``str()`` is fit for the user."""


class MemoryOverflow(ToolchainError):
    """The image does not fit the memories it was linked for (``linked``: bytes of
    ``"flash"`` and ``"sram"``): ``needed`` holds, per memory that overflowed, the bytes the
    linker asked for (the size linked for plus its "region overflowed by N bytes"). For SRAM
    that is the static data only: the stack, at the top of SRAM, is not in the region.
    ``str()`` says what needs how much against what it was linked for, in one line; the
    linker's own message is in ``linker``."""

    def __init__(self, message: str, needed: dict[str, int], linked: dict[str, int]) -> None:
        self.needed, self.linked, self.linker = needed, linked, message
        super().__init__("the firmware does not fit: " + "; ".join(
            f"{'static data needs' if mem == 'sram' else 'code and constants need'} "
            f"{need:,} B of {'SRAM' if mem == 'sram' else 'flash'}, linked for "
            f"{linked[mem]:,} B" for mem, need in needed.items()))


# GNU ld: "region `FLASH' overflowed by 74736 bytes" ("by 1 byte"); toolchain/linker.py names
# the regions
_OVERFLOW = re.compile(r"region `(FLASH|RAM)' overflowed by (\d+) bytes?")
_REGIONS = {"FLASH": "flash", "RAM": "sram"}
_OVERFLOW_LINES = ("will not fit in region", "overflowed by", "ld returned 1 exit status")


def _overflow(stderr: str, linked: dict[str, int], flags: Sequence[str]) -> dict[str, int]:
    """The bytes each memory needed, when the link failed for lack of room and for nothing
    else (another error is not hidden behind it); {} otherwise, and when the flags bring a
    linker script of their own (its regions' sizes are not ``linked``)."""
    own_script = any(f.startswith(("-T", "-Wl,-T", "-Wl,--script", "--script"))
                     or f == "-Xlinker" for f in flags)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if own_script or not lines or not all(any(w in ln for w in _OVERFLOW_LINES)
                                          for ln in lines):
        return {}
    return {_REGIONS[m[1]]: linked[_REGIONS[m[1]]] + int(m[2]) for m in _OVERFLOW.finditer(stderr)}


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    target: Target
    sram: int
    flash: int
    command: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # handlers no vector calls (unused_handlers)


# The exception handlers the start-up code's vector tables name: startup.c routes every
# exception but reset to Fault_Handler; irq_startup.c (--irq-vectors) has weak CMSIS names.
IRQ_STARTUP_HANDLERS = frozenset(
    {"NMI_Handler", "HardFault_Handler", "MemManage_Handler", "BusFault_Handler",
     "UsageFault_Handler", "SVC_Handler", "PendSV_Handler", "SysTick_Handler",
     "Default_Handler"} | {f"IRQ{i}_Handler" for i in range(32)})
_REMOVED_HANDLER = re.compile(r"removing unused section '\.text\.(\w+_(?:Handler|IRQHandler))'")


def unused_handlers(linker_output: str, irq_vectors: bool) -> list[str]:
    """The exception handlers a source defines that no vector calls, from ld's
    --print-gc-sections: a SysTick_Handler built without --irq-vectors (the table then sends
    SysTick to the fault handler) or a vendor's TIM2_IRQHandler (no vector of that name)."""
    names = sorted({m.group(1) for m in _REMOVED_HANDLER.finditer(linker_output)})
    if irq_vectors:  # a removed CMSIS name there is irq_startup.c's weak one, overridden
        return [n for n in names if n not in IRQ_STARTUP_HANDLERS]
    return [n for n in names if n not in ("Reset_Handler", "Fault_Handler")]


def check_memory_sizes(sram: int | None, flash: int | None, whole_kib: bool = False) -> None:
    """ToolchainError for a size beyond the Cortex-M memory map; with ``whole_kib`` (the build
    commands: an ELF a user then runs) also for one the simulator could not map, not whole KiB
    (a budget in between is a peak to check, not a size to link for)."""
    for what, size in (("SRAM", sram), ("flash", flash)):
        if size is None:
            continue
        if not 0 < size <= REGION_SIZE:
            raise ToolchainError(f"{what} size {size:,} bytes does not fit the Cortex-M memory "
                                 f"map: at most {REGION_SIZE >> 20} MiB")
        if whole_kib and size % PAGE_SIZE:
            whole = -(-size // PAGE_SIZE)
            raise ToolchainError(
                f"{what} size {size:,} bytes is not a whole number of KiB: the simulator maps "
                f"memory by the KiB and could not run the ELF (link for {whole}k; a budget of "
                f"{size:,} B is a peak for `ebnn-sim check`: docs/ci.md)")


def find_compiler() -> str:
    """Path of arm-none-eabi-gcc, or ToolchainError naming the apt packages."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        raise ToolchainError(f"arm-none-eabi-gcc not found; install it with: {APT_HINT}")
    return gcc


def _libc_flags(gcc: str) -> list[str]:
    """picolibc when installed (small, no start files of its own), otherwise newlib-nano.
    picolibc's stdio goes to the semihosting console (``--oslib=semihost``), so ``printf``
    links; a firmware that does not use stdio links nothing more."""
    specs = subprocess.run([gcc, "-print-file-name=picolibc.specs"], capture_output=True,
                           text=True, check=False).stdout.strip()
    if specs and Path(specs).is_file():
        return ["--specs=picolibc.specs", "--oslib=semihost"]
    return ["--specs=nano.specs"]


CXX_SUFFIXES = (".cpp", ".cc", ".cxx", ".c++", ".cp")  # any case; and .C


def build(
    sources: Sequence[str | Path],
    output: str | Path,
    target: str | Target = "curie",
    *,
    sram: int | None = None,
    flash: int | None = None,
    include_dirs: Sequence[str | Path] = (),
    defines: Mapping[str, str | int | None] | None = None,
    opt: str = "-O2",
    extra_cflags: Sequence[str] = (),
    extra_ldflags: Sequence[str] = (),
    runtime: bool = True,
    metadata: Mapping[str, str] | None = None,
    irq_vectors: bool = False,
) -> BuildResult:
    """Compile and link ``sources`` into ``output`` for ``target``.

    ``sram``/``flash`` override the profile's sizes. With ``runtime`` the start-up code (vector
    table, ``.data`` copy, ``.bss`` zeroing, ``exit(main())``) and semihosting helpers from
    ``firmware/`` are linked in; without it the sources bring their own vector table. With
    ``irq_vectors`` that start-up code is ``irq_startup.c``, whose vector table adds 32
    interrupts with weak CMSIS-named handlers (``startup.c`` has the 16 system exceptions).
    ``extra_cflags`` follow the project's compiler flags (so ``-O3`` there wins over ``opt``);
    ``extra_ldflags`` follow the sources, where the linker resolves libraries such as ``-lm``.
    ``metadata`` (keys and values of printable ASCII, no ``=`` in a key) goes into the
    ``.ebnn_sim.meta`` section as ``key=value`` lines.
    """
    meta_text = format_metadata(metadata or {})
    tgt = get_target(target) if isinstance(target, str) else target
    if tgt.fpu is not None and any(f.startswith("-mfloat-abi=soft") for f in extra_cflags):
        # Soft float asked for on a part with an FPU: build as that part without its FPU.
        # Appending the flag after the profile's -mfpu/-mfloat-abi=hard instead makes gcc pick
        # a C library variant for another architecture, silently: code that faults at run time.
        tgt = dataclasses.replace(tgt, fpu=None)
    sram = tgt.sram if sram is None else sram
    flash = tgt.flash if flash is None else flash
    check_memory_sizes(sram, flash)
    gcc = find_compiler()
    srcs = [Path(s) for s in sources]
    for s in srcs:
        if not s.is_file():
            raise ToolchainError(f"source file not found: {s}")
        # gcc would compile it as C++ with C's flags and libraries
        if s.suffix.lower() in CXX_SUFFIXES or s.suffix == ".C":
            raise ToolchainError(f"{s}: C++ is not built here (no C++ runtime, and the start-up "
                                 "code runs no static constructors); build it with your own "
                                 "toolchain and run the ELF")
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fw_dir = Path(firmware.__file__).parent

    with tempfile.TemporaryDirectory(prefix="ebnn-build-") as tmp:
        ld = Path(tmp) / "target.ld"
        ld.write_text(linker_script(sram, flash))
        cmd = [
            gcc, *tgt.cflags, opt, "-g", "-std=c99", "-Wall", "-Wextra", "-ffreestanding",
            "-ffunction-sections", "-fdata-sections", "-nostartfiles",
            *_libc_flags(gcc), f"-T{ld}", "-Wl,--gc-sections",
            *(["-Wl,--print-gc-sections"] if runtime else []),  # handlers no vector calls
            f"-I{fw_dir}", *(f"-I{d}" for d in include_dirs),
        ]
        for key, val in (defines or {}).items():
            cmd.append(f"-D{key}" if val is None else f"-D{key}={val}")
        cmd += list(extra_cflags)
        cmd += [str(s) for s in srcs]
        if runtime:
            startup = "irq_startup.c" if irq_vectors else "startup.c"
            cmd += [str(fw_dir / startup), str(fw_dir / "semihost.c")]
        cmd += list(extra_ldflags)
        staged = Path(tmp) / "firmware.elf"  # `out` is replaced once the ELF is whole
        cmd += ["-o", str(staged)]
        # ld's messages in English whatever the locale: _overflow() reads them
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={**os.environ, "LC_ALL": "C"})
        link_output = proc.stderr
        if proc.returncode != 0:
            shown = "\n".join(line for line in proc.stderr.splitlines()
                              if "removing unused section" not in line)
            message = f"compilation failed:\n{shown.strip()}"
            linked = {"flash": flash, "sram": sram}
            needed = _overflow(shown, linked, [*extra_cflags, *extra_ldflags])
            raise MemoryOverflow(message, needed, linked) if needed else ToolchainError(message)
        name_file = Path(tmp) / "target.txt"
        # the profile's name, then the memory sizes the image was linked for
        name_file.write_text(f"{tgt.name} sram={sram} flash={flash}")
        objcopy = str(Path(gcc).with_name("arm-none-eabi-objcopy"))
        sections = [TARGET_SECTION]
        if meta_text:
            (Path(tmp) / "meta.txt").write_text(meta_text)
            sections.append(META_SECTION)
        files = {TARGET_SECTION: name_file, META_SECTION: Path(tmp) / "meta.txt"}
        proc = subprocess.run(
            [objcopy, *(a for sec in sections for a in (
                "--add-section", f"{sec}={files[sec]}", "--set-section-flags",
                f"{sec}=readonly")), str(staged)],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise ToolchainError(f"objcopy failed: {proc.stderr.strip()}")
        _check_ram_sections(staged)
        _replace(staged, out)
    handlers = unused_handlers(link_output, irq_vectors) if runtime else []
    warnings = [f"{name} is defined but no vector calls it: "
                + ("the vector table without --irq-vectors sends every exception but reset to "
                   "the fault handler; build with --irq-vectors, whose table calls it"
                   if not irq_vectors and name in IRQ_STARTUP_HANDLERS else
                   "no vector table here has that name (the --irq-vectors one names "
                   "SVC_Handler, PendSV_Handler, SysTick_Handler and IRQ0_Handler.."
                   "IRQ31_Handler): rename it, or link start-up code of your own")
                for name in handlers]
    # the command as it would build `out` in one step (it linked a staged copy, renamed)
    return BuildResult(out, tgt, sram, flash, tuple(str(out) if a == str(staged) else a
                                                    for a in cmd), tuple(warnings))


# The SRAM sections the linker script places (toolchain/linker.py): the start-up code copies
# .data (and .tdata), zeroes .bss (and .tbss), leaves .noinit; the heap starts above them all.
RAM_SECTIONS = frozenset({".data", ".tdata", ".tbss", ".bss", ".noinit"})


def _check_ram_sections(elf: Path) -> None:
    """ToolchainError for a section in SRAM that the script does not place (a source's own
    ``section(".name")``): ld puts such an orphan where it likes, so the start-up code would
    not initialise it and the heap could be handed out over it."""
    with elf.open("rb") as fh:
        stray = [sec.name for sec in ELFFile(fh).iter_sections()
                 if sec["sh_flags"] & SH_FLAGS.SHF_ALLOC and sec["sh_size"]
                 and SRAM_BASE <= sec["sh_addr"] < SRAM_BASE + REGION_SIZE
                 and sec.name not in RAM_SECTIONS]
    if stray:
        raise ToolchainError(
            f"section{'s' if len(stray) > 1 else ''} {', '.join(stray)} in SRAM: the start-up "
            "code initialises only .data and .bss (and keeps .noinit as it is); put the "
            "variables there (e.g. __attribute__((section(\".noinit\"))))")


def _replace(staged: Path, out: Path) -> None:
    """``out`` becomes a copy of ``staged`` at once (a temporary file beside it, renamed): a
    build that fails or is interrupted halfway leaves no ELF without its target record, and
    an earlier good ELF there stays whole. A device or FIFO is written to (``-o /dev/null``
    must not replace the device), a symbolic link through (its target replaced, the link
    kept). ToolchainError when it cannot be written."""
    try:
        mode = os.stat(out).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):  # a device or FIFO (/dev/null): written
        try:  # to, never replaced
            with open(out, "wb") as fh:
                fh.write(staged.read_bytes())
        except OSError as exc:
            raise ToolchainError(f"cannot write {out}: {exc.strerror or exc}") from None
        return
    out = Path(os.path.realpath(out))  # a link is written through: its target replaced
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name[:32]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(staged.read_bytes())
        shutil.copymode(staged, tmp)  # executable, as gcc made it (under the umask)
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ToolchainError(f"cannot write {out}: {exc.strerror or exc}") from None
        raise


def format_metadata(metadata: Mapping[str, str]) -> str:
    """``key=value`` lines; ToolchainError for text the simulator could not read back."""
    lines = []
    for key, value in metadata.items():
        for text in (key, value):
            if not text.isascii() or not text.isprintable():
                raise ToolchainError(f"ELF metadata must be printable ASCII: {text!r:.60}")
        if not key or "=" in key or key.strip() != key:
            raise ToolchainError(f"ELF metadata key {key!r:.60} must be non-empty, without = "
                                 "or surrounding spaces")
        lines.append(f"{key}={value}\n")
    text = "".join(lines)
    if len(text) > MAX_META_BYTES:
        raise ToolchainError(f"ELF metadata over {MAX_META_BYTES} bytes")
    return text

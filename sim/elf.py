"""Read a bare-metal Cortex-M ELF: load image, memory use, symbols, target profile name."""

import bisect
import hashlib
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section as Section_
from elftools.elf.sections import SymbolTableSection

from sim.printable import printable
from toolchain.memory_map import FLASH_BASE, REGION_SIZE, SRAM_BASE, STM32_FLASH

TARGET_SECTION = ".ebnn_sim.target"
FLASH_STARTS = (FLASH_BASE, STM32_FLASH)  # where a vector table may start flash (sim.runner)
META_SECTION = ".ebnn_sim.meta"  # key=value lines written by toolchain.build (metadata=)
MAX_META = 16 << 10
EM_ARM = "EM_ARM"


class InvalidFirmware(Exception):
    """The file is not a loadable Cortex-M ELF; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Segment:
    address: int  # load (physical) address
    data: bytes


@dataclass(frozen=True)
class Section:
    name: str
    address: int
    size: int
    # "flash" (code/constants), "data" (.data: SRAM, initialised from flash), "bss", "device"
    # (placed at a peripheral's registers, beyond the SRAM region)
    kind: str
    align: int = 1  # sh_addralign


@dataclass
class FirmwareImage:
    path: Path
    entry: int
    segments: list[Segment]
    sections: list[Section]
    symbols: dict[str, int]  # name -> address (Thumb bit cleared for functions)
    functions: list[tuple[int, int, str]]  # sorted (start, size, name)
    target_name: str | None
    flash_used: int  # bytes of flash the image occupies (code, constants, .data initial values)
    static_end: int  # the stack's limit: first SRAM address past the static data below it
    exec_ranges: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of code
    # the SRAM and flash sizes `ebnn-sim build` linked it for (None: not recorded)
    linked_sram: int | None = None
    linked_flash: int | None = None
    objects: list[tuple[int, int, str]] = field(default_factory=list)  # sorted data objects

    def object_at(self, address: int) -> tuple[str, int, int] | None:
        """(name, start, size) of the sized data object (STT_OBJECT) holding ``address``."""
        i = bisect.bisect_right([o[0] for o in self.objects], address) - 1
        if i >= 0:
            start, size, name = self.objects[i]
            if start <= address < start + size:
                return name, start, size
        return None
    # key=value metadata of the build (.ebnn_sim.meta): e.g. input.shape, input.bytes
    metadata: dict[str, str] = field(default_factory=dict)
    # bytes of static data in SRAM, below and above the initial SP (a stack linked below
    # .data/.bss, a .noinit at the top), with the alignment padding between sections
    static_bytes: int = 0
    static_top: int = 0  # first SRAM address past all static data (0: static_end)
    static_sections: list[str] = field(default_factory=list)  # their names, by address
    initial_sp: int | None = None  # the vector table's first word, when the image has one
    # (name, start, end) of the static object the initial SP lies in, when the reset stack is
    # an array in .bss/.data (``vector[0] = &stack[N]``): the main stack's bound at reset
    reset_stack: tuple[str, int, int] | None = None

    def heap_above_stack(self, sp0: int | None) -> bool:
        """Whether the heap lies above the initial SP ``sp0``, so the stack grows away from it:
        where ``__heap_start`` says, else when all static data does (a stack linked below
        .data/.bss; a .noinit above a stack that sits over .bss leaves the heap below)."""
        if sp0 is None:
            return False
        start = self.symbols.get("__heap_start")
        if start is not None:
            return start >= sp0
        return self.static_top > sp0 and self.static_end == SRAM_BASE

    @property
    def static_ram(self) -> int:
        """Bytes of SRAM the static data takes (the padding that aligns its sections
        included; not a hole between two memories, nor a stack or heap reservation)."""
        return self.static_bytes

    def function_at(self, address: int) -> tuple[str, int] | None:
        """(name, offset) of the function containing ``address``, if the symbol table knows it."""
        address &= ~1
        i = bisect.bisect_right(self._starts, address) - 1
        while i >= 0:
            start, size, name = self.functions[i]
            if start <= address < start + max(size, 2):
                return name, address - start
            if size:  # sized symbol that does not cover it: nothing lower will either
                return None
            i -= 1
        return None

    def __post_init__(self) -> None:
        self._starts = [f[0] for f in self.functions]


def _static_layout(in_sram: list[Section], sp0: int | None,
                   objects: Sequence[tuple[int, int, str]] = ()
                   ) -> tuple[int, int, int, list[Section]]:
    """(the stack's limit, bytes of static data, first address past all static data, the
    sections counted) of the SRAM sections. The stack grows down from ``sp0`` to the end of
    the highest section below it (SRAM's start when there is none); sections above ``sp0``
    are no limit. A stack reservation (an uninitialised section named like ``.stack``: one
    linked below .data and .bss, ending at ``sp0``, as flip-link and many vendor scripts
    place it; STM32CubeIDE's ``._user_heap_stack`` after .bss, which only makes ld check that
    a minimum heap and stack fit; or one holding no variable (no sized object of ``objects``;
    a stripped ELF names none, so there only the two before count) is neither static data nor
    a limit; a section of task stacks (arrays) is static data.
    Without an initial SP every section counts as below it."""
    top = max((s.address + s.size for s in in_sram), default=SRAM_BASE)
    if sp0 is None or not SRAM_BASE < sp0 <= SRAM_BASE + REGION_SIZE:
        return top, _static_bytes(in_sram), top, sorted(in_sram, key=lambda s: s.address)

    def reserve(s: Section) -> bool:  # a stack's reservation
        end = s.address + s.size
        if "stack" not in s.name.lower() or s.kind != "bss":
            return False
        if end == sp0 or s.name == "._user_heap_stack":
            return True
        # no variable in it; a stripped ELF names none, so only the two shapes above count
        return bool(objects) and not any(s.address <= a < end for a, _, _ in objects)

    below = [s for s in in_sram if s.address + s.size <= sp0 and not reserve(s)]
    above = [s for s in in_sram if s.address + s.size > sp0 and not reserve(s)]
    limit = max((s.address + s.size for s in below), default=SRAM_BASE)
    counted = sorted(below + above, key=lambda s: s.address)
    return limit, _static_bytes(below) + _static_bytes(above), top, counted


def _reset_stack(counted: Sequence[Section], sp0: int | None,
                 objects: Sequence[tuple[int, int, str]]) -> tuple[str, int, int] | None:
    """(name, start, end) of the sized object in a static data section (one of ``counted``)
    that the initial SP ``sp0`` is the end of or lies in: a hand-written start-up's
    ``static uint32_t stack[N]`` with ``vector[0] = &stack[N]``. The stack is then that
    object (static data already) and may not go below its start; None for a stack in no
    static object (above .bss, in a reservation, in a stripped ELF)."""
    if sp0 is None or not any(s.address < sp0 <= s.address + s.size for s in counted):
        return None
    for start, size, name in objects:
        if start < sp0 <= start + size:
            return name, start, start + size
    return None


def _static_bytes(sections: list[Section]) -> int:
    """Bytes the sections cover, overlaps counted once (``.tbss`` lies over ``.bss``: the
    thread-local template takes no memory of its own), with the padding before a section
    that its alignment makes (a hole smaller than that alignment, and the hole from SRAM's
    start to the first section when it is). A larger hole lies between two memories (DTCM
    and SRAM) or was left on purpose: not static data."""
    covered, end = 0, SRAM_BASE
    for s in sorted(sections, key=lambda s: (s.address, s.size)):
        start, stop = s.address, s.address + s.size
        if end < start < end + max(1, s.align):
            covered += start - end  # alignment padding
        start = max(start, end)
        if stop > start:
            covered += stop - start
            end = stop
    return covered


def _printable(name: str) -> str:
    """A symbol or section name with its control characters (which no C identifier has, but
    an assembler label may) written as ``\\xNN``: reports print names, and an escape sequence
    in one would recolour a terminal or make a JUnit file unreadable (sim.printable)."""
    return printable(name, one_line=True)


def load_elf(path: str | os.PathLike[str]) -> FirmwareImage:
    """Parse ``path``; InvalidFirmware for anything that is not a 32-bit little-endian ARM ELF."""
    p = Path(path)
    if not p.exists():
        raise InvalidFirmware(f"{p}: no such file")
    if not p.is_file():
        raise InvalidFirmware(f"{p}: not a file")
    try:
        with p.open("rb") as fh:
            return _parse(p, ELFFile(fh), os.fstat(fh.fileno()).st_size)
    except InvalidFirmware:
        raise
    except (ELFError, ValueError, KeyError, IndexError, OSError, AssertionError,
            struct.error) as exc:
        raise InvalidFirmware(f"{p}: not a valid ELF file ({exc}){_what_instead(p)}") from None
    except MemoryError:
        raise InvalidFirmware(f"{p}: not enough host memory to read it") from None


def _what_instead(p: Path) -> str:
    """For a file that is not an ELF but a source or a model, the command that makes one."""
    suffix = p.suffix.lower()
    if suffix in (".c", ".s", ".h"):
        return f": C or assembly source, which `ebnn-sim build {p.name} -o out.elf` builds"
    if suffix == ".ebnn":
        return f": a model, whose firmware `ebnn build {p.name} -o model.elf` builds"
    return ""


def code_ranges(sections: list[tuple[int, int]], mapping: list[tuple[int, bool]]
                ) -> list[tuple[int, int]]:
    """The executable sections' [start, end) ranges without the data in them.

    The Arm ELF ABI's mapping symbols mark where data (``$d``: literal pools, jump tables) and
    code (``$t``, ``$a``) begin inside a section. A linear sweep that decodes a literal as an
    instruction can swallow the real instruction after it (a pool word ending in 0xF7FF opens a
    32-bit encoding), so the sweeps over code (cycle and SP tables, alignment checks) skip
    them. A section without mapping symbols (a stripped image) stays whole."""
    marks = sorted(mapping)
    out: list[tuple[int, int]] = []
    for start, end in sections:
        code, pos = True, start  # before its first mapping symbol: code, as without any
        for addr, is_code in marks:
            if not start <= addr < end or is_code == code:
                continue
            if code and addr > pos:  # data from here
                out.append((pos, addr))
            pos, code = addr, is_code
        if code and end > pos:
            out.append((pos, end))
    merged: list[tuple[int, int]] = []
    for a, b in out:  # a $d and a $t at one address leave two touching ranges
        if merged and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def clip_ranges(ranges: list[tuple[int, int]], code: list[tuple[int, int]]
                ) -> list[tuple[int, int]]:
    """The parts of ``ranges`` (e.g. functions) that lie inside ``code`` (``exec_ranges``)."""
    return [(max(a, c), min(b, d)) for a, b in ranges for c, d in code if max(a, c) < min(b, d)]


# Tag_CPU_arch_profile (7) of the ARM build attributes: 'A' application, 'R' real-time, 'M'
# microcontroller, 'S' application or real-time; absent from objects that say nothing
_NOT_M_PROFILES = {ord("A"): "an A-profile (application) core",
                   ord("R"): "an R-profile (real-time) core"}
_MAX_ATTRIBUTES = 1 << 16  # bytes of .ARM.attributes read (gcc writes ~60)
# what the loader reads of an ELF from elsewhere, so that a small hostile file cannot make it
# allocate gigabytes: a section (a NOBITS one reads as sh_size zeros in pyelftools, a
# compressed one inflates to the size its header claims), the symbols (a large firmware has
# tens of thousands), a symbol's name
MAX_TARGET = 256
# the largest SRAM or flash an ELF's recorded build sizes may make a run map (and zero) by
# itself; a larger one is not taken from the file (--sram/--flash give any size)
MAX_LINKED = 64 << 20
MAX_SYMBOLS = 1 << 20
MAX_STRTAB = 64 << 20
MAX_NAME = 1024
# a name longer than MAX_NAME keeps its first MAX_NAME bytes and a digest of the whole, so that
# two long C++ names sharing those bytes stay apart: its end is looked for up to MAX_LONG_NAME
# bytes on, and at most MAX_STRTAB bytes in all are read for digests (past either, the
# digest is of the name's place in the string table: still one per name, only not the same
# from one build to the next)
MAX_LONG_NAME = 64 << 10
_SHF_COMPRESSED = 0x800


def section_data(sec: Section_, limit: int) -> bytes:
    """The contents of ``sec``, ValueError when it would be more than ``limit`` bytes (as
    stored, or once inflated); a NOBITS section has none."""
    if sec["sh_type"] == "SHT_NOBITS":
        return b""
    size = sec.data_size if sec["sh_flags"] & _SHF_COMPRESSED else sec["sh_size"]
    if size > limit or sec["sh_size"] > limit:
        raise ValueError(f"section {_printable(sec.name)[:64]} of {size:,} bytes, more than "
                         f"the {limit:,} read")
    data: bytes = sec.data()
    return data


def _uleb(data: bytes, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while pos < end and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
    raise ValueError("truncated ULEB128")


def _arch_profile(elf: ELFFile) -> str | None:
    """What the ELF's build attributes say it was built for when that is not a Cortex-M (A- or
    R-profile code: ARM state, another memory map); None otherwise, also when they say
    nothing or their contents cannot be read (the image is then judged as it runs; a section
    whose format byte pyelftools refuses makes the ELF unreadable, as it always did). Read by
    hand, every step bounded: pyelftools' reader loops for ever on a subsection of length 0."""
    sec = elf.get_section_by_name(".ARM.attributes")
    if sec is None or sec["sh_type"] != "SHT_ARM_ATTRIBUTES":
        return None
    try:
        data = section_data(sec, _MAX_ATTRIBUTES)
        if data[:1] != b"A":
            return None
        pos, name, profile = 1, None, None
        while pos + 4 <= len(data):  # subsections: length, vendor, sub-subsections
            end = pos + struct.unpack_from("<I", data, pos)[0]
            vendor = data.find(b"\0", pos + 4, len(data))
            if end <= pos + 4 or end > len(data) or not pos + 4 <= vendor < end:
                return None
            q = vendor + 1
            while data[pos + 4:vendor] == b"aeabi" and q + 5 <= end:  # tag, size, attributes
                tag, size = data[q], struct.unpack_from("<I", data, q + 1)[0]
                if size < 5 or q + size > end:
                    return None
                p, stop = q + 5, q + size
                while tag == 1 and p < stop and profile is None:  # the whole file's attributes
                    attr, p = _uleb(data, p, stop)
                    if attr in (4, 5, 67) or (attr > 32 and attr % 2):  # a NUL-ended string
                        nul = data.find(b"\0", p, stop)
                        if nul < 0:
                            return None
                        if attr == 5:
                            name = data[p:nul].decode("ascii", "replace")
                        p = nul + 1
                    elif attr == 32:  # Tag_compatibility: a number, then a string
                        return None
                    else:
                        value, p = _uleb(data, p, stop)
                        if attr == 7:
                            profile = value
                q = stop
            pos = end
        if profile in _NOT_M_PROFILES:
            return _NOT_M_PROFILES[profile] + (f" ({_printable(name)})" if name else "")
    except (ELFError, ValueError, struct.error):
        return None
    return None


class _LongNames:
    """The names of a string table longer than MAX_NAME: their first MAX_NAME bytes, then
    ``...#`` and 16 hex digits of a digest of the whole name (found up to MAX_LONG_NAME on,
    MAX_STRTAB bytes in all), else of its offset in the table. Each offset is read once."""

    def __init__(self, strtab: bytes) -> None:
        self._strtab = strtab
        self._budget = MAX_STRTAB
        self._seen: dict[int, bytes] = {}

    def name(self, offset: int) -> bytes:
        known = self._seen.get(offset)
        if known is not None:
            return known
        strtab, start = self._strtab, offset + MAX_NAME
        end, window = -1, min(MAX_LONG_NAME, self._budget, len(strtab) - start)
        if window > 0:
            end = strtab.find(b"\0", start, start + window)
            self._budget -= (end - start) if end >= 0 else window
        if end == start:  # exactly MAX_NAME bytes: whole
            self._seen[offset] = strtab[offset:start]
            return self._seen[offset]
        whole = (memoryview(strtab)[offset:end] if end >= 0
                 else f"@{offset}".encode() + strtab[offset:start])
        digest = hashlib.blake2b(whole, digest_size=8).hexdigest()
        name = strtab[offset:start] + f"...#{digest}".encode()
        self._seen[offset] = name
        return name


def _symbols(elf: ELFFile, symtab: Section_
             ) -> Iterator[tuple[str, int, int, int, int, int]]:
    """(name, value, size, type, binding, section index) of each symbol, read from the table
    itself: a bounded count (entries of 16 bytes, at most MAX_SYMBOLS) and names of at most
    MAX_NAME bytes (a longer one: its first MAX_NAME and a digest, _LongNames) from a string
    table of at most MAX_STRTAB (pyelftools makes a string of each symbol's whole name: 4,000
    symbols naming one 1 MiB string took 4 GB). Two long names sharing their first MAX_NAME
    bytes were one name: one of the symbols lost."""
    if symtab["sh_entsize"] != 16:
        raise ValueError(f"a symbol table of {symtab['sh_entsize']}-byte entries (Elf32_Sym: 16)")
    count = symtab["sh_size"] // 16
    if count > MAX_SYMBOLS:
        raise ValueError(f"{count:,} symbols, more than the {MAX_SYMBOLS:,} read")
    data = section_data(symtab, 16 * count)
    strtab = section_data(elf.get_section(symtab["sh_link"]), MAX_STRTAB)
    long_names = _LongNames(strtab)
    for st_name, value, size, info, _, shndx in struct.iter_unpack("<IIIBBH", data[:16 * count]):
        end = strtab.find(b"\0", st_name, st_name + MAX_NAME)
        name = (strtab[st_name:end] if end >= 0 else strtab[st_name:]
                if st_name + MAX_NAME >= len(strtab) else long_names.name(st_name))
        yield name.decode("utf-8", "replace"), value, size, info & 0xF, info >> 4, shndx


_STT_OBJECT, _STT_FUNC, _STB_GLOBAL = 1, 2, 1
_SYMBOL_KINDS = (0, _STT_OBJECT, _STT_FUNC, 6)  # NOTYPE, OBJECT, FUNC, TLS


def _parse(path: Path, elf: ELFFile, file_size: int) -> FirmwareImage:
    if elf.elfclass != 32 or not elf.little_endian:
        raise InvalidFirmware(
            f"{path}: a 64-bit or big-endian ELF; expected 32-bit little-endian ARM")
    if elf["e_machine"] != EM_ARM:
        raise InvalidFirmware(f"{path}: ELF for {elf['e_machine']}, not ARM (Cortex-M)")
    if elf["e_type"] != "ET_EXEC":
        raise InvalidFirmware(f"{path}: {elf['e_type']} file, expected a linked executable")
    profile = _arch_profile(elf)
    if profile is not None:
        raise InvalidFirmware(f"{path}: built for {profile}, not a Cortex-M (M-profile) core: "
                              "build with -mcpu=cortex-m<N> -mthumb")

    segments: list[Segment] = []
    loaded = 0
    for seg in elf.iter_segments():
        if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
            continue
        if seg["p_offset"] + seg["p_filesz"] > file_size:
            raise InvalidFirmware(f"{path}: truncated file (a load segment runs past its end)")
        loaded += seg["p_filesz"]
        if loaded > file_size:  # (disjoint parts of one file cannot add up to more)
            raise InvalidFirmware(f"{path}: not a valid ELF file (its load segments overlap in "
                                  "the file)")
        data = seg.data()
        if len(data) != seg["p_filesz"]:
            raise InvalidFirmware(f"{path}: truncated file (a load segment runs past its end)")
        segments.append(Segment(seg["p_paddr"], data))
    if not segments:
        raise InvalidFirmware(f"{path}: no loadable segments")
    sp0 = next((struct.unpack_from("<I", s.data)[0] for s in segments
                if s.address in FLASH_STARTS and len(s.data) >= 4), None)

    sections: list[Section] = []
    in_sram: list[Section] = []
    exec_ranges: list[tuple[int, int]] = []
    exec_index: set[int] = set()  # the executable sections' indices: their mapping symbols
    for index, sec in enumerate(elf.iter_sections()):
        flags = sec["sh_flags"]
        if not flags & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
            continue
        addr, size = sec["sh_addr"], sec["sh_size"]
        if SRAM_BASE <= addr < SRAM_BASE + REGION_SIZE:
            kind = "bss" if sec["sh_type"] == "SHT_NOBITS" else "data"
            in_sram.append(Section(_printable(sec.name), addr, size, kind,
                                   sec["sh_addralign"]))
        elif addr >= SRAM_BASE:  # a device's registers (a struct placed on a UART): not SRAM
            kind = "device"
        else:
            kind = "flash"
        if flags & SH_FLAGS.SHF_EXECINSTR:
            exec_ranges.append((addr, addr + size))
            exec_index.add(index)
        sections.append(Section(_printable(sec.name), addr, size, kind))

    flash_used = sum(
        len(s.data) for s in segments if FLASH_BASE <= s.address < SRAM_BASE
    )

    symbols: dict[str, int] = {}
    functions: list[tuple[int, int, str]] = []
    objects: list[tuple[int, int, str]] = []
    mapping: list[tuple[int, bool]] = []  # (address, code follows) from $t/$a and $d
    symtab = elf.get_section_by_name(".symtab")
    if symtab is not None and not isinstance(symtab, SymbolTableSection):
        raise InvalidFirmware(f"{path}: not a valid ELF file (.symtab is not a symbol table)")
    if symtab is not None:
        for raw, at, size, stt, bind, shndx in _symbols(elf, symtab):
            if not raw or shndx == 0:  # (SHN_UNDEF)
                continue
            sym = _printable(raw)
            # a mapping symbol of another section (.debug_frame's $d, an offset into the
            # debug data) says nothing about the code that happens to lie at that address
            if (sym[:2] in ("$t", "$a", "$d") and sym[2:3] in ("", ".")
                    and shndx in exec_index):
                mapping.append((at, sym[1] != "d"))
            if stt == _STT_FUNC:
                at &= ~1
                functions.append((at, size, sym))
            elif size and (stt == _STT_OBJECT or (stt == 0 and shndx not in exec_index
                                                  and shndx < 0xFF00)):
                # (a sized label in data: an array assembly defines with .space and .size,
                # as NuttX's interrupt stack g_intstackalloc)
                objects.append((at, size, sym))
            if stt in _SYMBOL_KINDS and (sym not in symbols or bind == _STB_GLOBAL):
                symbols[sym] = at
    functions.sort()
    objects.sort()
    exec_ranges = code_ranges(exec_ranges, mapping)

    target_name = None
    linked: dict[str, int] = {}
    tsec = elf.get_section_by_name(TARGET_SECTION)
    if tsec is not None:  # "curie sram=2048 flash=200704"; older builds: the name alone
        words = section_data(tsec, MAX_TARGET).decode("ascii", "replace").strip("\0 \n").split()
        target_name = words[0] if words else None
        for word in words[1:]:
            key, _, value = word.partition("=")
            if (key in ("sram", "flash") and value.isdigit() and len(value) <= 12
                    and int(value) <= MAX_LINKED):  # (more: the user's --sram/--flash)
                linked[key] = int(value)

    metadata: dict[str, str] = {}
    msec = elf.get_section_by_name(META_SECTION)
    if msec is not None and msec["sh_type"] != "SHT_NOBITS" and msec["sh_size"] <= MAX_META:
        for line in section_data(msec, MAX_META).decode("ascii", "replace").splitlines()[:256]:
            key, sep, value = line.partition("=")
            if sep and key:
                metadata[key] = value

    static_end, static_bytes, static_top, counted = _static_layout(in_sram, sp0, objects)
    return FirmwareImage(
        path=path,
        entry=elf["e_entry"],
        segments=segments,
        sections=sections,
        symbols=symbols,
        functions=functions,
        target_name=target_name,
        flash_used=flash_used,
        static_end=static_end,
        static_bytes=static_bytes,
        static_sections=[sec.name for sec in counted if sec.size],
        static_top=static_top,
        initial_sp=sp0,
        reset_stack=_reset_stack(counted, sp0, objects),
        exec_ranges=exec_ranges,
        linked_sram=linked.get("sram"),
        linked_flash=linked.get("flash"),
        objects=objects,
        metadata=metadata,
    )

"""Where a run spends its instructions and cycles: per function, per group of functions the
caller names (e.g. a model's layers), per instruction.

A :class:`Profiler` adds a Python block callback to a :class:`~sim.runner.Simulator`
(``on_block``), which runs after the native counting hook, so the simulator's running totals
already include the block when the callback sees it. Per executed block it

- takes the block's instructions and cycles as the change in the simulator's own totals since
  the previous block (``Simulator.instructions`` / ``.active_cycles()``, sleep left out), so
  the per-function numbers add up to the run report's totals exactly, refills included;
- keeps a shadow call stack as a calling-context tree: a block at a function's first
  instruction whose LR holds the end of the previous block (the return address a BL/BLX just
  wrote) is a call; a block at the return address of a frame on the stack, with SP back at its
  value at the call, is a return to that frame's caller; any other jump to a function's entry
  is a tail call (replaces the top frame); a jump into the middle of a function already on the
  stack unwinds to it;
- counts executions per block (instruction counts per address follow from them) and notes
  which function's block first lowered the simulator's stack low-water mark.

After the run, the last block is corrected exactly as the run report corrects it (instructions
after a fault, an exit or a stop were counted with the block but never executed).

Profiling runs Python for every block, so it is tens of times slower than ``ebnn-sim run``.
"""

from __future__ import annotations

import bisect
import itertools
import os
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from elftools.elf.elffile import ELFFile

from sim.elf import FirmwareImage
from sim.function_names import FunctionNames
from sim.report import RunReport
from sim.runner import Simulator
from sim.timing import instruction_cycles, make_disassembler
from toolchain.memory_map import SRAM_BASE

UNKNOWN = "<unknown>"  # code outside every function symbol

# How a caller groups functions (the ebnn plugin: its layer functions): function name ->
# (group name, sort index), or None for a function in no group. Groups are listed under
# "layers" in the profile, sorted by index (None last).
FunctionGroups = Callable[[str], tuple[str, int | None] | None]


# --- source lines from DWARF --------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


_SOURCE_SUFFIXES = frozenset({".c", ".h", ".s", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".inc"})
_MAX_SOURCE_BYTES = 4 << 20
# DWARF read, as stored or once inflated: pyelftools keeps every line-table row and DIE as
# Python objects (hundreds of bytes each, one row per byte of a hostile line program), so a
# larger debug section (or a NOBITS one, which reads as zeros) gives no source lines
_MAX_DEBUG_LINE = 2 << 20
_MAX_DEBUG = 32 << 20


def _dwarf_bounded(elf: ELFFile) -> bool:
    """Whether the ELF's debug sections are within what SourceMap reads (_MAX_DEBUG_LINE,
    _MAX_DEBUG in all), none of them NOBITS."""
    total = 0
    for sec in elf.iter_sections():
        if not sec.name.startswith((".debug", ".zdebug")):
            continue
        if sec["sh_type"] == "SHT_NOBITS":
            return False
        size = max(sec["sh_size"], sec.data_size)  # (data_size: inflated, if compressed)
        total += size
        if total > _MAX_DEBUG or (sec.name.endswith("debug_line") and size > _MAX_DEBUG_LINE):
            return False
    return True


class SourceMap:
    """Address -> (file, line) from the ELF's DWARF line programs (empty without ``-g``)."""

    def __init__(self, path: str | Path) -> None:
        # the folders source files are read from: the current one and the ELF's (a hostile
        # ELF's DWARF may name any host file: /home/you/.aws/credentials.h)
        self._roots = {Path.cwd().resolve(), Path(path).resolve().parent}
        self._starts: list[int] = []
        self._rows: list[tuple[int, int, str, int]] = []  # (start, end, file, line)
        self._lines: dict[str, list[str] | None] = {}
        self.functions: dict[int, tuple[str, int]] = {}  # entry -> where it is defined
        self._units: list[tuple[int, int, str]] = []  # (start, end, source file compiled)
        try:
            with open(path, "rb") as fh:
                elf = ELFFile(fh)
                if elf.has_dwarf_info() and _dwarf_bounded(elf):
                    self._read(elf)
        except Exception:  # pyelftools on a hostile or corrupt file can raise anything
            self._rows = []  # unreadable debug info: no source lines, never an error
            self.functions = {}
            self._units = []
        self._rows.sort()
        self._starts = [r[0] for r in self._rows]
        self._units.sort()
        self._unit_starts = [u[0] for u in self._units]

    def _read(self, elf: ELFFile) -> None:
        # Linked firmware carries no relocations for its debug sections; looking them up costs
        # more than decoding a small program's line table.
        dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False)
        for cu in dwarf.iter_CUs():
            prog = dwarf.line_program_for_CU(cu)
            if prog is None:
                continue
            top = cu.get_top_DIE()
            comp = top.attributes.get("DW_AT_comp_dir")
            comp_dir = _text(comp.value) if comp is not None else ""
            unit_attr = top.attributes.get("DW_AT_name")
            unit = (os.path.normpath(os.path.join(comp_dir, _text(unit_attr.value)))
                    if unit_attr is not None else None)
            hdr = prog.header
            v5 = hdr["version"] >= 5
            dirs = [_text(d.get("DW_LNCT_path", d) if hasattr(d, "get") else d)
                    for d in hdr["include_directory"]]
            files = list(hdr["file_entry"])

            def file_name(index: int, v5: bool = v5, dirs: list[str] = dirs,
                          files: list[Any] = files, comp_dir: str = comp_dir) -> str:
                i = index if v5 else index - 1
                if not 0 <= i < len(files):
                    return "?"
                entry = files[i]
                name = _text(entry["name"])
                d = entry["dir_index"]
                if v5:
                    base = dirs[d] if 0 <= d < len(dirs) else comp_dir
                else:
                    base = comp_dir if d == 0 else (dirs[d - 1] if d - 1 < len(dirs) else "")
                full = os.path.join(base, name)
                if not os.path.isabs(full):
                    full = os.path.join(comp_dir, full)
                return os.path.normpath(full)

            for die in cu.iter_DIEs():
                if die.tag != "DW_TAG_subprogram":
                    continue
                attrs = die.attributes
                low, decl = attrs.get("DW_AT_low_pc"), attrs.get("DW_AT_decl_file")
                line = attrs.get("DW_AT_decl_line")
                if low is not None and decl is not None and line is not None and low.value:
                    self.functions[low.value & ~1] = (file_name(decl.value), line.value)

            seq: list[tuple[int, int, int]] = []
            for entry in prog.get_entries():
                st = entry.state
                if st is None:
                    continue
                seq.append((st.address, st.file, st.line))
                if st.end_sequence:
                    # Sequences at address 0 belong to functions the linker discarded
                    # (--gc-sections); the vector table, not code, lives at 0.
                    if seq and seq[0][0] != 0:
                        for (a, f, line), (b, _, _) in itertools.pairwise(seq):
                            if b > a and line > 0:
                                self._rows.append((a, b, file_name(f), line))
                        if unit is not None and seq[-1][0] > seq[0][0]:
                            self._units.append((seq[0][0], seq[-1][0], unit))
                    seq = []

    def lookup(self, address: int) -> tuple[str, int] | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0:
            start, end, name, line = self._rows[i]
            if start <= address < end:
                return name, line
        return None

    @property
    def has_lines(self) -> bool:
        """Whether the ELF has DWARF line information (built with -g, not stripped of it)."""
        return bool(self._rows)

    def unit(self, address: int) -> str | None:
        """The source file whose compilation (DWARF unit) holds the code at ``address``: for a
        ``static`` function defined in a header, the file that included it."""
        i = bisect.bisect_right(self._unit_starts, address) - 1
        if i >= 0:
            start, end, name = self._units[i]
            if start <= address < end:
                return name
        return None

    def line_text(self, file: str, line: int) -> str | None:
        """The source line itself, when the file is readable here. Only source files (by
        suffix) of at most 4 MiB under the current folder or the ELF's, reached through no
        link, are read: the names come from the ELF, which may be hostile, and must not make
        the report quote other host files or read without bound."""
        if file not in self._lines:
            self._lines[file] = None
            path = Path(file).absolute()
            try:
                real = path.resolve()
                if (path.suffix.lower() in _SOURCE_SUFFIXES and real == Path(os.path.normpath(
                        path)) and any(root in real.parents for root in self._roots)
                        and path.is_file() and path.stat().st_size <= _MAX_SOURCE_BYTES):
                    self._lines[file] = path.read_text(errors="replace").splitlines()
            except OSError:
                pass
        lines = self._lines[file]
        if lines is None or not 0 < line <= len(lines):
            return None
        return lines[line - 1].strip()


# --- the calling-context tree ---------------------------------------------------------------
class _Node:
    """One distinct call stack (root .. this function). ``ret``/``sp`` describe the activation
    currently on the shadow stack: a path is on the stack at most once at a time."""

    __slots__ = ("calls", "children", "cycles", "func", "insns", "owner", "parent", "ret", "sp",
                 "start", "sub_cycles", "sub_insns", "tail")

    def __init__(self, func: str | None, parent: _Node | None) -> None:
        self.func = func
        self.parent = parent
        self.children: dict[str, _Node] = {}
        self.insns = self.cycles = self.calls = 0
        self.sub_insns = self.sub_cycles = 0
        self.ret: int | None = None
        self.sp = 0
        self.tail = False  # entered by a tail call: returns straight to its caller's caller
        self.start = 0  # active cycles when the activation on the stack was entered
        self.owner = func  # the function that activation called (a jump may have left it)

    def child(self, func: str) -> _Node:
        node = self.children.get(func)
        if node is None:
            node = self.children[func] = _Node(func, self)
        return node

    def path(self) -> list[str]:
        out: list[str] = []
        node: _Node | None = self
        while node is not None and node.func is not None:
            out.append(node.func)
            node = node.parent
        return out[::-1]


# --- results ----------------------------------------------------------------------------------
@dataclass
class Counts:
    instructions: int = 0
    cycles: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"instructions": self.instructions, "cycles": self.cycles}


@dataclass
class FunctionProfile:
    name: str  # the symbol's, or with its file when several functions have it (sim.function_names)
    address: int | None
    self: Counts
    inclusive: Counts
    calls: int
    file: str | None = None
    line: int | None = None
    # the most active cycles one call took, from its first block to the return (what it
    # called and the handlers that preempted it included); None: no call returned
    max_call_cycles: int | None = None
    symbol: str | None = None  # the ELF symbol's name (None: code outside every function)


@dataclass
class LayerProfile:
    """One group of functions (e.g. a model layer), counted inclusively."""

    name: str
    index: int | None  # the group's sort index from FunctionGroups; None sorts last
    inclusive: Counts
    calls: int


@dataclass
class HotInstruction:
    address: int
    count: int
    cost: int  # base cycles per execution (no refills)
    instruction: str | None
    function: str | None  # name+0xoff
    file: str | None
    line: int | None
    text: str | None  # the source line

    @property
    def source(self) -> str | None:
        return None if self.file is None else f"{self.file}:{self.line}"


@dataclass
class HotLine:
    """One source line and the instructions executed for it, over all its addresses (a loop's
    body is one or a few lines, where its hottest instructions are many)."""

    file: str
    line: int
    text: str | None  # the source line, when the file is readable here
    function: str | None  # the function holding the line's most executed instruction
    instructions: int  # executions of the line's instructions

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class StackSample:
    """One distinct call stack (root first) and what ran with it on top."""

    stack: list[str]
    self: Counts


@dataclass
class Profile:
    report: RunReport
    total: Counts
    functions: list[FunctionProfile]  # sorted by inclusive cycles, highest first
    layers: list[LayerProfile]
    hot: list[HotInstruction]
    stacks: list[StackSample]
    memory: dict[str, Any]
    blocks: int = 0
    distinct_blocks: int = 0
    top: int = 20
    hot_lines: list[HotLine] = field(default_factory=list)  # by instructions, highest first
    sources: SourceMap | None = field(default=None, repr=False)
    counts: dict[int, int] = field(default_factory=dict, repr=False)  # address -> executions
    # what the ELF lacks that the profile would show (no symbols, no line information)
    notes: list[str] = field(default_factory=list)

    def function(self, name: str) -> FunctionProfile | None:
        for f in self.functions:
            if f.name == name:
                return f
        return None

    def share(self, cycles: int) -> float:
        return cycles / self.total.cycles if self.total.cycles else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON profile (docs/profile.md); built by :mod:`sim.formats.json`."""
        from sim.formats.json import profile_dict

        return profile_dict(self)


# --- the profiler -------------------------------------------------------------------------------
def _insn_len(hw: int) -> int:
    return 4 if (hw >> 11) >= 0x1D else 2


class Profiler:
    """Attach to ``sim`` (before running it) and profile its runs: ``Profiler(sim).run()``."""

    def __init__(self, sim: Simulator, top: int = 20, groups: FunctionGroups | None = None) -> None:
        self.sim = sim
        self.groups = groups
        self.image: FirmwareImage = sim.image
        self.top = top
        self._funcs: dict[int, tuple[str, bool]] = {}  # block address -> (function, is entry)
        self._sources: SourceMap | None = None
        # the profile's names for the functions (two static helpers: "helper (a.c)")
        self.names = FunctionNames(self.image.functions, lambda a: self.sources().unit(a))
        self._entries: dict[str, tuple[int, str]] = {}  # name -> (start, symbol)
        self._reset()
        sim.exceptions.trace = []  # exception entries and returns, consumed per block
        sim.on_block(self._on_block)
        sim.on_cut(self._on_cut)

    def _reset(self) -> None:
        self.root = _Node(None, None)
        self._node = self.root
        self._next: int | None = None  # end of the previous block: where fall-through goes
        self._rets: Counter[int] = Counter()  # return addresses of the frames on the stack
        self._blocks: Counter[tuple[int, int]] = Counter()
        self._cuts: Counter[tuple[int, int]] = Counter()  # the ranges _on_cut took back
        self._last: tuple[int, int] | None = None
        self._insns = self._cycles = 0
        self._now = 0  # active cycles before the block being followed
        self._max_call: dict[str, int] = {}  # function -> most cycles one call took
        # the activations' starts of a chain set aside while other code may run the same
        # functions: a preempted handler's or thread's (another thread, or the same handler
        # on a second vector, would overwrite them: a node is a call path, not a thread)
        self._saved: list[list[tuple[_Node, int, str | None]]] = []
        self._thread_saved: dict[tuple[int, int], list[tuple[_Node, int, str | None]]] = {}
        self._min_sp = 0xFFFFFFFF
        self._min_node: _Node | None = None
        # the call chain at the stack's peak: the frames handlers preempted, then the top's
        self._min_chain: list[str] = []
        self._interrupted: list[_Node] = []  # the frames exception handlers preempted
        # preempted thread-mode code, by its exception frame's address and return address
        self._threads: dict[tuple[int, int], _Node] = {}

    def sources(self) -> SourceMap:
        """The ELF's source lines (read once, when first needed)."""
        if self._sources is None:
            self._sources = SourceMap(self.image.path)
        return self._sources

    def function_name(self, addr: int) -> tuple[str, int] | None:
        """(the profile's name of the function holding ``addr``, offset), as
        ``FirmwareImage.function_at`` with the name told apart from others of its symbol's."""
        hit = self.image.function_at(addr)
        if hit is None:
            return None
        symbol, off = hit
        start = (addr & ~1) - off
        name = self.names.name(start, symbol)
        self._entries.setdefault(name, (start, symbol))
        return name, off

    # --- per block ---------------------------------------------------------------------------
    def _function(self, addr: int) -> tuple[str, bool]:
        hit = self.function_name(addr)
        info = (UNKNOWN, False) if hit is None else (hit[0], hit[1] == 0)
        self._funcs[addr] = info
        return info

    def _on_block(self, addr: int, size: int) -> None:
        sim = self.sim
        if sim.stopped:
            return  # the native hook stopped the run before this block: it never ran
        if sim.exceptions.trace and self._exceptions(addr):
            return  # an exception entry replaced this block: it did not run
        # active cycles, as the report counts them: a WFI's sleep is no block's cost
        insns, cycles = sim.instructions, sim.active_cycles()
        if self._last is None and insns == 0:
            # The deltas below are this block's only if the native hook (registered first)
            # has already counted it; Unicorn calls block hooks in registration order.
            raise RuntimeError("sim.profile: the simulator's native block hook did not run "
                               "before the profiler's block callback")
        d_insns, d_cycles = insns - self._insns, cycles - self._cycles
        self._now = self._cycles
        self._insns, self._cycles = insns, cycles
        key = (addr, size)
        self._blocks[key] += 1
        self._last = key
        func, entry = self._funcs.get(addr) or self._function(addr)
        node = self._node
        if (addr != self._next or func != node.func) and (
                entry or func != node.func or addr in self._rets):
            # not just a jump inside the running function
            node = self._node = self._transfer(addr, func, entry, node)
        self._next = addr + size
        node.insns += d_insns
        node.cycles += d_cycles
        low = sim.min_sp
        if low < self._min_sp:
            self._min_sp = low
            self._min_node = node
            self._min_chain = [f for n in (*self._interrupted, node) for f in n.path()]

    def _on_cut(self, addr: int, size: int) -> None:
        """The simulator took back the rest of the block _on_block saw last, from ``addr``:
        those instructions did not run then (their cycles are out of the totals already)."""
        self._cuts[(addr, size)] += 1

    def _exceptions(self, addr: int) -> bool:
        """Follow the exception entries and returns since the last block. An entry is not a
        call: the handler runs as a frame of its own at the top level, its time its own, and
        its return resumes the frame it preempted, or, returning to thread mode, the frame of
        the thread whose exception frame it pops (after an RTOS's context switch: each task's
        calls stay its own, not nested in the task it replaced; main's are there again when a
        handler returns to it on the main stack). True when an entry replaced the block at
        ``addr`` (its cycles so far, the entry's, go to the handler)."""
        trace = self.sim.exceptions.trace
        assert trace is not None
        replaced = False
        for i, (kind, handler, diverted) in enumerate(trace):
            if kind == "thread_out" and handler is not None and diverted is not None:
                # thread mode preempted: its frame's address and return address name it until
                # it resumes
                self._threads[handler, diverted] = self._node
                self._thread_saved[handler, diverted] = self._chain(self._node)
            elif kind == "thread_in" and handler is not None and diverted is not None:
                # a return to thread mode: the thread preempted with that frame (the same, or
                # one an RTOS switched to), or a thread starting (a frame the RTOS made,
                # perhaps where a deleted task's was): at the top
                self._node = self._threads.pop((handler, diverted), self.root)
                self._restore(self._thread_saved.pop((handler, diverted), []))
            elif kind == "enter" and handler is not None:
                self._interrupted.append(self._node)
                self._saved.append(self._chain(self._node))
                func, _ = self._funcs.get(handler) or self._function(handler)
                node = self._node = self.root.child(func)
                node.ret, node.sp, node.tail = None, 0, False
                node.start, node.owner = self._cycles, func  # the entry's cycles: next block's
                node.calls += 1
                replaced = replaced or diverted == addr
            elif kind == "reset":
                # a reset of the part: every frame ends (preempted ones too), the reset
                # handler starts at the top
                for top in [self._node, *self._interrupted, *self._threads.values()]:
                    frame: _Node | None = top
                    while frame is not None and frame is not self.root:
                        self._ended(frame, self._cycles)
                        frame = frame.parent
                self._node = self.root
                self._interrupted.clear()
                self._saved.clear()
                self._threads.clear()
                self._thread_saved.clear()
                self._rets.clear()
            elif kind == "return":
                # the handler's frame ends, and the functions it jumped to (a tail call), its
                # return's latency its own
                latency = self._return_latency(trace, i)
                if latency and self._node is not self.root:
                    self._node.cycles += latency
                    self._cycles += latency
                n: _Node | None = self._node
                while n is not None and n is not self.root:
                    self._ended(n, self._cycles)
                    n = n.parent
                self._node = self._interrupted.pop() if self._interrupted else self.root
                self._restore(self._saved.pop() if self._saved else [])
        trace.clear()
        self._next = None
        return replaced

    def _return_latency(self, trace: list[tuple[str, int | None, int | None]], i: int) -> int:
        """The cycles the exception return at ``trace[i]`` added (sim.exceptions: as many as an
        entry when it pops a frame), which the handler is charged, not the code it resumes;
        0 when an entry follows at once (a tail-chain, or a refused return taken as a fault:
        those cycles are the next handler's entry)."""
        if i + 1 < len(trace) and trace[i + 1][0] == "enter":
            return 0
        latency = getattr(self.sim.exceptions, "entry_cycles", 0)
        # never more than the cycles not yet charged to any block (so totals stay exact)
        return max(0, min(latency, self.sim.active_cycles() - self._cycles))

    def _transfer(self, addr: int, func: str, entry: bool, node: _Node) -> _Node:
        """The frame a non-sequential block (or one in another function) runs in."""
        root = self.root
        if addr in self._rets:
            sp = self.sim.read_register("sp")
            frame = node
            while frame is not root:
                caller = frame.parent
                assert caller is not None  # only the root has no parent
                if frame.ret == addr and frame.sp == sp:
                    while frame.tail:  # a tail-called function returns for its caller too
                        frame, caller = caller, caller.parent
                        assert caller is not None
                    return self._pop_to(node, caller)
                frame = caller
        if entry:
            lr = self.sim.read_register("lr") & ~1
            if node is root or (lr == self._next and addr != self._next):
                # a call: BL/BLX wrote the address that follows the block ending in it
                return self._push(node, func, lr if node is not root else None,
                                  self.sim.read_register("sp"), tail=False)
            # A jump to a function's entry without a link: a tail call, shown (as in the
            # source) as a call from the function that made it. A function already in the
            # current chain of tail calls is a loop back to it, not a new frame: still a tail
            # call into it (calls count each, as the source makes them), unless this is a
            # handler's first block after its entry (counted there; no block ran between)
            frame = node
            while True:
                if frame.func == func:
                    if self._next is not None:
                        frame.calls += 1
                    return self._pop_to(node, frame)
                if not frame.tail:
                    break
                assert frame.parent is not None  # a tail call's frame has a caller
                frame = frame.parent
            return self._push(node, func, node.ret, node.sp, tail=True)
        if func == node.func:
            return node
        caller = node.parent
        while caller is not None and caller is not root:
            if caller.func == func:
                return self._pop_to(node, caller)  # unwound into a function on the stack
            caller = caller.parent
        # a jump into the middle of a function not on the stack: it replaces the top frame,
        # the rest of the call that was made (its return ends that call, not one of ``func``)
        parent = node.parent or root
        new = parent.child(func)
        new.ret, new.sp, new.tail = node.ret, node.sp, node.tail
        new.start, new.owner = node.start, node.owner
        return new

    def _push(self, node: _Node, func: str, ret: int | None, sp: int, tail: bool) -> _Node:
        new = node.child(func)
        new.ret, new.sp, new.tail = ret, sp, tail
        new.start, new.owner = self._now, func  # this block, the callee's first, is the call's
        if ret is not None:
            self._rets[ret] += 1
        new.calls += 1
        return new

    def _ended(self, node: _Node, now: int) -> None:
        """An activation of ``node`` returned at ``now`` (active cycles): a call of the
        function it was made to (``owner``) ended."""
        owner = node.owner
        if owner is not None and owner != UNKNOWN:
            took = now - node.start
            if took > self._max_call.get(owner, -1):
                self._max_call[owner] = took

    def _chain(self, node: _Node) -> list[tuple[_Node, int, str | None]]:
        """The starts of the activations on ``node``'s chain, to be restored."""
        out = []
        n: _Node | None = node
        while n is not None and n is not self.root:
            out.append((n, n.start, n.owner))
            n = n.parent
        return out

    @staticmethod
    def _restore(saved: list[tuple[_Node, int, str | None]]) -> None:
        for n, start, owner in saved:
            n.start, n.owner = start, owner

    def _pop_to(self, node: _Node, target: _Node) -> _Node:
        rets = self._rets
        n: _Node | None = node
        while n is not target and n is not None:
            if n.ret is not None:
                rets[n.ret] -= 1
                if rets[n.ret] <= 0:
                    del rets[n.ret]
            self._ended(n, self._now)  # returned before this block, its caller's
            n = n.parent
        return target

    # --- running -------------------------------------------------------------------------------
    def run(self, stdin: BinaryIO | None = None) -> Profile:
        self._reset()
        report = self.sim.run(stdin=stdin)
        return self._finish(report)

    def finish(self, report: RunReport) -> Profile:
        """The profile of a run the simulator made by itself after this profiler was attached
        (``sim.session.run(..., prepared=Profiler)``): what ``run`` returns."""
        return self._finish(report)

    def _finish(self, report: RunReport) -> Profile:
        # The report takes back what the last block counted but never executed (the rest of a
        # block cut short by a fault or an exit, or a block stopped before it ran): so do we.
        counted_i = sum(n.insns for n in self._nodes())
        counted_c = sum(n.cycles for n in self._nodes())
        fix_i, fix_c = report.instructions - counted_i, report.cycles - counted_c
        if fix_i or fix_c:
            self._node.insns += fix_i
            self._node.cycles += fix_c
        insn_counts = self._instruction_counts(-fix_i if fix_i < 0 else 0)

        nodes = self._nodes()
        for n in reversed(nodes):  # children come after their parents in the pre-order
            n.sub_insns += n.insns
            n.sub_cycles += n.cycles
            if n.parent is not None:
                n.parent.sub_insns += n.sub_insns
                n.parent.sub_cycles += n.sub_cycles
        self_c: dict[str, Counts] = {}
        incl: dict[str, Counts] = {}
        calls: Counter[str] = Counter()
        for n in nodes[1:]:
            assert n.func is not None  # only the root has no function
            c = self_c.setdefault(n.func, Counts())
            c.instructions += n.insns
            c.cycles += n.cycles
            calls[n.func] += n.calls
        self._inclusive(incl)

        sources = self.sources()
        functions = []
        for name, own in self_c.items():
            addr, symbol = self._entries.get(name, (None, None))
            loc = None
            if addr is not None:
                loc = sources.functions.get(addr) or sources.lookup(addr)
            functions.append(FunctionProfile(
                name=name, address=addr, self=own, inclusive=incl.get(name, Counts()),
                calls=calls[name], file=loc[0] if loc else None, line=loc[1] if loc else None,
                max_call_cycles=self._max_call.get(name), symbol=symbol))
        functions.sort(key=lambda f: (-f.inclusive.cycles, -f.self.cycles, f.name))

        layers = []
        if self.groups is not None:  # one layer per group, however many functions it has
            known = {f.name: f.symbol or f.name for f in functions}  # (a plugin knows symbols)
            of = {f.name: g for f in functions if (g := self.groups(known[f.name])) is not None}
            # asked again: a plugin whose groups failed part-way (sim.plugins) answers None
            # since, so none of its groups is kept
            of = {name: g for name in of if (g := self.groups(known[name])) is not None}
            index: dict[str, int | None] = {}  # a group's smallest index
            for name, i in of.values():
                if index.get(name) is None or (i is not None and i < (index[name] or 0)):
                    index[name] = i
            group_incl: dict[str, Counts] = {}
            group_of = {func: g[0] for func, g in of.items()}
            entries = self._inclusive(group_incl, group_of.get)
            layers = [LayerProfile(name, index[name], group_incl[name], entries[name])
                      for name in index if name in group_incl]
        layers.sort(key=lambda layer: (layer.index is None, layer.index or 0))

        stacks = [StackSample(n.path(), Counts(n.insns, n.cycles))
                  for n in nodes[1:] if n.insns or n.cycles]
        return Profile(
            report=report,
            total=Counts(report.instructions, report.cycles),
            functions=functions,
            layers=layers,
            hot=self._hot(insn_counts, sources),
            hot_lines=self._hot_lines(insn_counts, sources),
            stacks=stacks,
            memory=self._memory(report),
            blocks=sum(self._blocks.values()),
            distinct_blocks=len(self._blocks),
            top=self.top,
            sources=sources,
            counts=dict(insn_counts),
            notes=self._notes(sources),
        )

    def _notes(self, sources: SourceMap) -> list[str]:
        """What the ELF lacks, said where the profile would otherwise just leave it out."""
        notes = []
        if not self.image.functions:
            notes.append("the ELF has no function symbols (stripped): all code is "
                         f"{UNKNOWN}, and its calls are exception entries only; profile the "
                         "ELF before arm-none-eabi-strip")
        if not sources.has_lines:
            notes.append("the ELF has no DWARF line information (built without -g, or "
                         "stripped of it): no source lines")
        return notes

    def _nodes(self) -> list[_Node]:
        """Every node of the tree, parents before children."""
        out, todo = [], [self.root]
        while todo:
            n = todo.pop()
            out.append(n)
            todo.extend(n.children.values())
        return out

    def _inclusive(self, incl: dict[str, Counts],
                   key: Callable[[str], str | None] = lambda func: func) -> Counter[str]:
        """Inclusive counts by ``key`` (a function's own name by default, or its group; None:
        not counted): every stack on which some function of the key is, counted once however
        many times it is on that stack (recursion, or a group's functions calling each
        other, is not double counted). Returns the calls into each key from outside it."""
        on_path: Counter[str] = Counter()
        entries: Counter[str] = Counter()
        todo: list[tuple[_Node, str | None]] = [(self.root, None)]
        while todo:
            n, leaving = todo.pop()
            if leaving is not None:
                on_path[leaving] -= 1
                continue
            k = key(n.func) if n.func is not None else None
            if k is not None:
                if not on_path[k]:
                    c = incl.setdefault(k, Counts())
                    c.instructions += n.sub_insns
                    c.cycles += n.sub_cycles
                    entries[k] += n.calls
                on_path[k] += 1
                todo.append((n, k))
            todo.extend((ch, None) for ch in n.children.values())
        return entries

    def _read(self, addr: int, size: int) -> bytes | None:
        try:
            return self.sim.read_memory(addr, size)
        except ValueError:
            return None

    def _block_insns(self, addr: int, size: int) -> list[int]:
        """Start addresses of the instructions of a block (Thumb-2 lengths, as the simulator
        counts them)."""
        data = self._read(addr, size + 2)
        if data is None:
            return [addr + i for i in range(0, size, 2)]
        out, off = [], 0
        while off < size and off + 1 < len(data):
            out.append(addr + off)
            off += _insn_len(data[off] | data[off + 1] << 8)
        return out

    def _instruction_counts(self, unexecuted: int) -> Counter[int]:
        counts: Counter[int] = Counter()
        for blocks, sign in ((self._blocks, 1), (self._cuts, -1)):
            for (addr, size), n in blocks.items():
                for a in self._block_insns(addr, size):
                    counts[a] += sign * n
        if unexecuted and self._last is not None:
            for a in self._block_insns(*self._last)[-unexecuted:]:
                counts[a] -= 1
        return +counts  # (those that ran)

    def _hot(self, counts: Counter[int], sources: SourceMap) -> list[HotInstruction]:
        md = make_disassembler()
        timing = self.sim.timing
        hot = []
        for addr, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top]:
            text, cost = None, 1
            data = self._read(addr, 4) or self._read(addr, 2)
            if data is not None:
                for insn in md.disasm(data, addr, 1):
                    text = f"{insn.mnemonic} {insn.op_str}".strip()
                    if addr < SRAM_BASE:
                        cost = min(max(instruction_cycles(insn, timing), 1), 255)
            loc = sources.lookup(addr)
            where = self.function_name(addr)
            hot.append(HotInstruction(
                address=addr, count=n, cost=cost, instruction=text,
                function=None if where is None else f"{where[0]}+0x{where[1]:x}",
                file=loc[0] if loc else None, line=loc[1] if loc else None,
                text=sources.line_text(*loc) if loc else None))
        return hot

    def _hot_lines(self, counts: Counter[int], sources: SourceMap) -> list[HotLine]:
        per_line: Counter[tuple[str, int]] = Counter()
        top_addr: dict[tuple[str, int], tuple[int, int]] = {}  # line -> (count, address)
        for addr, n in counts.items():
            loc = sources.lookup(addr)
            if loc is None:
                continue
            per_line[loc] += n
            if n > top_addr.get(loc, (-1, 0))[0]:
                top_addr[loc] = (n, addr)
        lines = []
        for (file, line), n in sorted(per_line.items(),
                                      key=lambda kv: (-kv[1], kv[0]))[: self.top]:
            where = self.function_name(top_addr[(file, line)][1])
            lines.append(HotLine(file=file, line=line, text=sources.line_text(file, line),
                                 function=where[0] if where else None, instructions=n))
        return lines

    def _memory(self, report: RunReport) -> dict[str, Any]:
        image = self.image
        sp0 = struct.unpack("<I", self.sim.read_memory(self.sim.flash_base, 4))[0]
        lowest = sp0 - report.stack_peak if report.stack_peak else None
        node = self._min_node if report.stack_peak else None
        heap_start = image.symbols.get("__heap_start")
        return {
            "sram_base": SRAM_BASE,
            "sram_size": report.sram_size,
            "sections": [
                {"name": s.name, "address": s.address, "size": s.size, "kind": s.kind}
                for s in image.sections
            ],
            "static": report.static,
            "static_sections": list(report.static_sections),
            "stack": {
                "top": sp0,
                "peak": report.stack_peak,
                "lowest": lowest,
                "function": node.func if node is not None else None,
                "call_stack": self._min_chain if node is not None else [],
            },
            "heap": {
                "start": heap_start,
                "peak": report.heap_peak,
                "tracked": report.heap_tracked,
            },
            "peak": report.sram_peak,
            "free": report.sram_size - report.sram_peak,
            "flash": {"size": report.flash_size, "used": report.flash_used},
        }

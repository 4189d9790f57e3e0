"""Stores exception handlers make on a thread's stack: the context an RTOS saves below the frame.

A thread's stack peak is the lowest address written on it. While the thread runs, the native
block hook sees every SP it uses; but an RTOS's context switch also writes the thread's stack
from handler mode, through a register holding the PSP: FreeRTOS's PendSV handler reads PSP and
stores r4-r11 (and on FPU ports s16-s31) below the hardware frame (`mrs r0, psp; stmdb r0!,
{r4-r11}`), and Armv6-M ports lower the pointer first and store upwards (`subs r0, #32; stmia
r0!, {r4-r7}`). Those words are part of the thread's stack use.

So the simulator puts a native code hook (``sim/_blockhook.c``: ``sim_store_hook``) on every
store whose base is not SP inside the functions the vector table points at (the handlers
themselves, not what they call: a handler's context save is its own code, as it must run before
anything else touches the callee-saved registers). Before the store runs, the hook works out
the lowest address it writes and, when that lies in a data object already seen as a thread's
stack, lowers that stack's low-water mark. Only firmware that writes PSP (``MSR PSP, Rn``: how
every RTOS points a thread at its stack) gets these hooks; firmware that takes no exceptions
never runs them either way; other stores have no hook.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import capstone
import numpy as np
from capstone import CS_OP_IMM, CS_OP_MEM
from capstone import arm_const as A

from sim.alignment import _code, _unicorn_reg
from sim.timing import make_disassembler

_MULTIPLE_UP = frozenset({A.ARM_INS_STM, A.ARM_INS_VSTMIA})  # lowest address: the base
_MULTIPLE_DOWN = frozenset({A.ARM_INS_STMDB, A.ARM_INS_VSTMDB})  # base - the bytes stored
_SINGLE = frozenset({A.ARM_INS_STR, A.ARM_INS_STRB, A.ARM_INS_STRH, A.ARM_INS_STRD,
                     A.ARM_INS_STREX, A.ARM_INS_STREXB, A.ARM_INS_STREXH, A.ARM_INS_STRT,
                     A.ARM_INS_STRBT, A.ARM_INS_STRHT, A.ARM_INS_VSTR})
_NOT_HOOKED = frozenset({A.ARM_REG_SP, A.ARM_REG_PC, 0})
_AL = 14  # the condition "always", as encoded (capstone numbers conditions from 1)


@dataclass(frozen=True)
class StoreCheck:
    """The store at ``address`` writes nothing below ``base + (index << shift) + offset``
    (Unicorn register ids; ``index`` -1: none), when condition ``cond`` (0-14, as encoded in
    the instruction set; 14: always) holds."""

    address: int
    base: int
    index: int
    shift: int
    offset: int
    cond: int


def writes_psp(flash: np.ndarray) -> bool:
    """Whether the image holds an ``MSR PSP, Rn`` (T1 encoding: 0xF38n then 0x8809; data
    that happens to look like one only costs hooks that find no thread stack)."""
    hw = flash[: len(flash) & ~1].view(np.uint16)
    return bool(np.any(((hw[:-1] & 0xFFF0) == 0xF380) & (hw[1:] == 0x8809)))


def handler_ranges(flash: np.ndarray, flash_base: int, vectors: int,
                   functions: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """[start, end) of each function an entry 2 .. ``vectors`` - 1 of the vector table at the
    start of flash points at (the reset handler, entry 1, is thread code). A function without
    a size runs up to the next symbol."""
    words = flash[: 4 * vectors].view(np.uint32) if len(flash) >= 4 * vectors else None
    if words is None:
        return []
    starts = [f[0] for f in functions]
    ranges = set()
    for target in {int(w) & ~1 for w in words[2:].tolist() if w & 1}:
        i = np.searchsorted(starts, target, side="right") - 1
        if i < 0:
            continue
        start, size, _ = functions[i]
        if size and not start <= target < start + size:
            continue
        end = start + size if size else next(
            (s for s in starts[i + 1:] if s > start), target + 2)
        ranges.add((start, end))
    return sorted(ranges)


def _lowest(insn: capstone.CsInsn, names: "capstone.Cs") -> tuple[int, int, int, int] | None:
    """(base register, index register or 0, shift, offset) of the lowest address the store
    writes, in capstone's register numbers; None for a store based on SP or PC."""
    ops = insn.operands
    if insn.id in _MULTIPLE_UP or insn.id in _MULTIPLE_DOWN:
        base = ops[0].reg
        if base in _NOT_HOOKED:
            return None
        size = sum(8 if names.reg_name(o.reg).startswith("d") else 4 for o in ops[1:])
        return base, 0, 0, -size if insn.id in _MULTIPLE_DOWN else 0
    mem = next((o for o in ops if o.type == CS_OP_MEM), None)
    if mem is None or mem.mem.base in _NOT_HOOKED:
        return None
    if insn.post_index:  # [rn], #imm: the store is at the base, then the base moves
        return mem.mem.base, 0, 0, 0
    shift = mem.shift.value if mem.mem.index else 0
    return mem.mem.base, mem.mem.index, shift, mem.mem.disp


def store_checks(flash: np.ndarray, flash_base: int,
                 ranges: list[tuple[int, int]]) -> list[StoreCheck]:
    """One check per store in ``ranges`` whose base register is not SP or PC."""
    md = make_disassembler()
    md.skipdata = True  # a literal pool inside a handler: go on after it
    out = []
    for insn in _instructions(md, flash, flash_base, ranges):
        if insn.id not in _SINGLE | _MULTIPLE_UP | _MULTIPLE_DOWN:
            continue
        found = _lowest(insn, md)
        if found is None:
            continue
        base, index, shift, offset = found
        if any(o.type == CS_OP_IMM for o in insn.operands) and not insn.post_index:
            continue  # not a form this knows
        cond = _AL if insn.cc in (A.ARM_CC_AL, A.ARM_CC_INVALID) else insn.cc - 1
        out.append(StoreCheck(
            insn.address, _unicorn_reg(md.reg_name(base)),
            _unicorn_reg(md.reg_name(index)) if index else -1, shift, offset, cond))
    return out


def _instructions(md: "capstone.Cs", flash: np.ndarray, flash_base: int,
                  ranges: list[tuple[int, int]]) -> Iterator[capstone.CsInsn]:
    for start, code in _code(flash, flash_base, ranges):
        yield from md.disasm(code, start)


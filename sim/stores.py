"""What a Thumb store instruction writes, decoded from capstone's operands: for the stores the
simulator carries out itself rather than Unicorn (those into the flash program memory a part's
flash interface programs: sim/runner.py ``_program_store``).

STR, STRH, STRB (immediate or register offset, with a shift; pre-indexed, post-indexed or with
writeback; the T forms), STRD and STM (increment after, decrement before) are decoded; the rest
(exclusive stores, PUSH, floating-point stores) are not: ``decode_store`` returns None. (The
runner does not carry out a store inside an IT block, whose state it would have to advance: the
STM32L0's Cortex-M0+, ARMv6-M, has none.)
"""

from collections.abc import Callable
from dataclasses import dataclass

import capstone
import capstone.arm as A

from sim.faults import effective_address

_SIZES = {"strb": 1, "strbt": 1, "strh": 2, "strht": 2, "str": 4, "strt": 4, "strd": 4}


@dataclass(frozen=True)
class StoreEffect:
    """The memory writes of one store instruction, in the order it makes them, and its base
    register's new value (``writeback``) when it has one."""

    writes: tuple[tuple[int, int, int], ...]  # (address, bytes, value)
    writeback: tuple[str, int] | None = None  # (register name, value)


def decode_store(insn: capstone.CsInsn, reg: Callable[[str], int]) -> StoreEffect | None:
    """The writes ``insn`` makes with the registers ``reg`` reads (as they are before it
    runs); None for an instruction this module does not decode."""
    name = insn.mnemonic.split(".")[0]
    if name in _SIZES:
        return _single(insn, name, reg)
    if name in ("stm", "stmia", "stmea", "stmdb", "stmfd"):
        return _multiple(insn, name.startswith(("stmdb", "stmfd")), reg)
    return None


def _single(insn: capstone.CsInsn, name: str, reg: Callable[[str], int]) -> StoreEffect | None:
    ops = list(insn.operands)
    mem = next((op for op in ops if op.type == A.ARM_OP_MEM), None)
    sources = [op for op in ops if op.type == A.ARM_OP_REG]
    address = effective_address(insn, reg)
    if mem is None or not sources or mem.mem.base == A.ARM_REG_PC or address is None:
        return None
    base_name = insn.reg_name(mem.mem.base)
    after = address
    if insn.post_index:
        after = reg(base_name) + next((op.imm for op in ops if op.type == A.ARM_OP_IMM), 0)
    size = _SIZES[name]
    values = [reg(insn.reg_name(op.reg)) for op in sources[: 2 if name == "strd" else 1]]
    mask = (1 << (8 * size)) - 1
    writes = tuple(((address + 4 * i) & 0xFFFF_FFFF, size, v & mask)
                   for i, v in enumerate(values))
    writeback = (base_name, after & 0xFFFF_FFFF) if insn.writeback else None
    return StoreEffect(writes, writeback)


def _multiple(insn: capstone.CsInsn, before: bool, reg: Callable[[str], int]
              ) -> StoreEffect | None:
    ops = list(insn.operands)
    if len(ops) < 2 or any(op.type != A.ARM_OP_REG for op in ops):
        return None
    base_name = insn.reg_name(ops[0].reg)
    base = reg(base_name)
    values = [reg(insn.reg_name(op.reg)) for op in ops[1:]]
    span = 4 * len(values)
    start = base - span if before else base
    writes = tuple(((start + 4 * i) & 0xFFFF_FFFF, 4, v) for i, v in enumerate(values))
    after = start if before else base + span
    writeback = (base_name, after & 0xFFFF_FFFF) if insn.writeback else None
    return StoreEffect(writes, writeback)

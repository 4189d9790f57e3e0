"""sim/stores.py: the writes a Thumb store instruction makes (what the simulator carries out
itself for a store into the flash an STM32L0 programs), checked on each form it decodes."""

import struct

import pytest

from sim.faults import effective_address
from sim.stores import StoreEffect, decode_store
from sim.timing import make_disassembler

REGS = {"r0": 0x0800_7F80, "r1": 0x1111_1111, "r2": 0x0000_0003, "r3": 0x3333_3333,
        "sp": 0x2000_1F00}
R0 = REGS["r0"]


def halfwords(*words: int) -> bytes:
    return struct.pack(f"<{len(words)}H", *words)


def case(text: str, code: bytes, writes: tuple[tuple[int, int, int], ...],
         writeback: tuple[str, int] | None = None):
    return pytest.param(code, StoreEffect(writes, writeback), id=text)


@pytest.mark.parametrize("code, effect", [
    case("str r1, [r0, #4]", halfwords(0x6041), ((R0 + 4, 4, 0x1111_1111),)),
    case("strh r1, [r0, #2]", halfwords(0x8041), ((R0 + 2, 2, 0x1111),)),  # the low half
    case("strb r1, [r0, r2]", halfwords(0x5481), ((R0 + 3, 1, 0x11),)),
    case("stmia r0!, {r1, r2, r3}", halfwords(0xC00E),
         ((R0, 4, 0x1111_1111), (R0 + 4, 4, 3), (R0 + 8, 4, 0x3333_3333)), ("r0", R0 + 12)),
    case("str.w r1, [r0], #-4", halfwords(0xF840, 0x1904), ((R0, 4, 0x1111_1111),),
         ("r0", R0 - 4)),
    case("str.w r1, [r0, #-8]!", halfwords(0xF840, 0x1D08), ((R0 - 8, 4, 0x1111_1111),),
         ("r0", R0 - 8)),
    case("strd r2, r3, [r0], #8", halfwords(0xE8E0, 0x2302),
         ((R0, 4, 3), (R0 + 4, 4, 0x3333_3333)), ("r0", R0 + 8)),
    case("stmdb r0!, {r1, r2}", halfwords(0xE920, 0x0006),
         ((R0 - 8, 4, 0x1111_1111), (R0 - 4, 4, 3)), ("r0", R0 - 8)),
    case("str.w r1, [r0, r2, lsl #2]", halfwords(0xF840, 0x1022), ((R0 + 12, 4, 0x1111_1111),)),
    # the base in the list, lowest: the value it had (ARMv6-M)
    case("stmia r0!, {r0, r1}", halfwords(0xC003), ((R0, 4, R0), (R0 + 4, 4, 0x1111_1111)),
         ("r0", R0 + 8)),
    case("str r1, [sp, #8]", halfwords(0x9102), ((0x2000_1F08, 4, 0x1111_1111),)),
    case("stmia.w r0, {r1, r2}", halfwords(0xE880, 0x0006),
         ((R0, 4, 0x1111_1111), (R0 + 4, 4, 3))),
])
def test_each_form_writes_what_the_core_would(code: bytes, effect: StoreEffect):
    insn = next(make_disassembler().disasm(code, 0x100, 1))
    assert decode_store(insn, REGS.__getitem__) == effect


@pytest.mark.parametrize("code", [
    halfwords(0xE840, 0x2100),  # strex r1, r2, [r0]: a status register written
    halfwords(0xB402),  # push {r1}
    halfwords(0x6801),  # ldr r1, [r0]: not a store
])
def test_the_rest_is_not_decoded(code: bytes):
    insn = next(make_disassembler().disasm(code, 0x100, 1))
    assert decode_store(insn, REGS.__getitem__) is None


def test_a_shifted_index_counts_in_the_address_a_fault_or_a_device_store_names():
    """faults.effective_address (fault reports, sim/store_match.py): capstone 5 gives a
    Thumb-2 index's shift in the operand's shift, not in mem.lshift."""
    insn = next(make_disassembler().disasm(halfwords(0xF840, 0x1022), 0x100, 1))
    assert effective_address(insn, REGS.__getitem__) == R0 + 12

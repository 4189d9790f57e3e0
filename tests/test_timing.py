"""Tests for sim.timing: per-core base cycle costs and static SP deltas.

Instructions are given as raw little-endian Thumb encodings (produced once with
arm-none-eabi-as); every test first checks capstone decodes them to the expected text.
"""

import random

import capstone
import pytest

from sim.timing import (
    CORES,
    CoreTiming,
    dual_issues,
    instruction_cycles,
    make_disassembler,
    sp_delta,
    timing_for,
)
from toolchain.profiles import TARGETS

MD = make_disassembler()


def decode(code: bytes, text: str) -> capstone.CsInsn:
    """Decode the single instruction in ``code`` and check it reads as ``text``."""
    insns = list(MD.disasm(code, 0x1000))
    assert len(insns) == 1 and insns[0].size == len(code), insns
    insn = insns[0]
    assert f"{insn.mnemonic} {insn.op_str}".strip() == text
    return insn


def cycles(code: bytes, text: str, core: str) -> int:
    return instruction_cycles(decode(code, text), timing_for(core))


# --- sp_delta --------------------------------------------------------------------------------

SP_CASES = [
    (b"\x10\xb5", "push {r4, lr}", -8),
    (b"\x10\xbd", "pop {r4, pc}", 8),
    (b"\x00\xb5", "push {lr}", -4),
    (b"\x84\xb0", "sub sp, #0x10", -16),
    (b"\x04\xb0", "add sp, #0x10", 16),
    (bytes.fromhex("adf5807d"), "sub.w sp, sp, #0x100", -256),
    (bytes.fromhex("0df5807d"), "add.w sp, sp, #0x100", 256),
    (bytes.fromhex("adf22c1d"), "subw sp, sp, #0x12c", -300),
    (bytes.fromhex("2ded048b"), "vpush {d8, d9}", -16),
    (bytes.fromhex("bdec048b"), "vpop {d8, d9}", 16),
    (bytes.fromhex("2ded038a"), "vpush {s16, s17, s18}", -12),
    # stmdb sp!, {r4-r6} is shown by capstone as its alias push.w
    (bytes.fromhex("2de97000"), "push.w {r4, r5, r6}", -12),
    (bytes.fromhex("bde87080"), "pop.w {r4, r5, r6, pc}", 16),
    (bytes.fromhex("3de93000"), "ldmdb sp!, {r4, r5}", -8),
    (bytes.fromhex("3ded020a"), "vldmdb sp!, {s0, s1}", -8),
    (bytes.fromhex("4df8080d"), "str r0, [sp, #-0x8]!", -8),
    (bytes.fromhex("6de90201"), "strd r0, r1, [sp, #-0x8]!", -8),
    (bytes.fromhex("5df8040b"), "ldr r0, [sp], #4", 4),
    (bytes.fromhex("5df80409"), "ldr r0, [sp], #-4", -4),
    (bytes.fromhex("fde80201"), "ldrd r0, r1, [sp], #8", 8),
    (bytes.fromhex("5df804fb"), "ldr pc, [sp], #4", 4),
    # SP not written
    (b"\x01\x98", "ldr r0, [sp, #4]", 0),
    (b"\x01\x90", "str r0, [sp, #4]", 0),
    (b"\x02\xa8", "add r0, sp, #8", 0),
    (b"\x6f\x46", "mov r7, sp", 0),
    (b"\x88\x18", "adds r0, r1, r2", 0),
    (bytes.fromhex("9de80300"), "ldm.w sp, {r0, r1}", 0),
    (bytes.fromhex("51f8040f"), "ldr r0, [r1, #4]!", 0),
    (bytes.fromhex("fff7feff"), "bl #0x1000", 0),
    (bytes.fromhex("80f31088"), "msr primask, r0", 0),
    # SP written with a value unknown statically
    (b"\x85\x46", "mov sp, r0", None),
    (b"\x9d\x44", "add sp, r3", None),
    (bytes.fromhex("adeb030d"), "sub.w sp, sp, r3", None),
    (bytes.fromhex("80f30888"), "msr msp, r0", None),
    (bytes.fromhex("80f30988"), "msr psp, r0", None),
    (bytes.fromhex("d0f800d0"), "ldr.w sp, [r0]", None),
]


@pytest.mark.parametrize(("code", "text", "delta"), SP_CASES, ids=[c[1] for c in SP_CASES])
def test_sp_delta(code: bytes, text: str, delta: int | None) -> None:
    assert sp_delta(decode(code, text)) == delta


# --- instruction_cycles ----------------------------------------------------------------------

ADD_W = bytes.fromhex("01eb0200")  # add.w r0, r1, r2
LDR = b"\x08\x68"  # ldr r0, [r1]
PUSH5 = b"\xf0\xb5"  # push {r4, r5, r6, r7, lr}
MLA = bytes.fromhex("01fb0230")  # mla r0, r1, r2, r3
UMULL = bytes.fromhex("a2fb0301")  # umull r0, r1, r2, r3
UDIV = bytes.fromhex("b1fbf2f0")  # udiv r0, r1, r2
MULS = b"\x48\x43"  # muls r0, r1, r0
BEQ = b"\xfe\xd0"  # beq to itself
BL = bytes.fromhex("fff7feff")  # bl to itself
POP_PC = b"\x10\xbd"  # pop {r4, pc}


@pytest.mark.parametrize("core", CORES)
def test_simple_data_processing_is_one_cycle(core: str) -> None:
    assert cycles(ADD_W, "add.w r0, r1, r2", core) == 1
    assert cycles(b"\x88\x18", "adds r0, r1, r2", core) == 1
    assert cycles(MULS, "muls r0, r1, r0", core) == 1
    assert cycles(BEQ, "beq #0x1000", core) == 1  # not-taken cost; refill added by the simulator


SINGLE_ISSUE = ("cortex-m0plus", "cortex-m3", "cortex-m4")  # two-cycle loads


@pytest.mark.parametrize("core", SINGLE_ISSUE)
def test_loads_and_register_lists(core: str) -> None:
    assert cycles(LDR, "ldr r0, [r1]", core) == 2
    # "STR Rx,[Ry,#imm] is always one cycle" on the ARMv7-M cores (M3/M4 TRM, "Load/store
    # timings"); the M0+ has no such pipelining
    str_imm = 2 if core == "cortex-m0plus" else 1
    assert cycles(b"\x01\x90", "str r0, [sp, #4]", core) == str_imm
    assert cycles(PUSH5, "push {r4, r5, r6, r7, lr}", core) == 6  # 1 + N


LDR_R2_R3 = b"\x1a\x68"  # ldr r2, [r3]
LDR_R3_R0 = b"\x03\x68"  # ldr r3, [r0]: its address is the value the first load brought
STR_REG = b"\x50\x50"  # str r0, [r2, r1]
STR_IMM = b"\x08\x60"  # str r0, [r1]
LDR_PC = bytes.fromhex("d1f800f0")  # ldr.w pc, [r1]


@pytest.mark.parametrize("core", SINGLE_ISSUE)
def test_a_load_or_store_after_a_load_pipelines(core: str) -> None:
    """Neighbouring single loads and stores overlap their address and data phases (M3/M4
    TRM): after a load, an independent load or a register-offset store takes one cycle; not
    after a store, not when the address needs the loaded value, never a load into PC."""
    timing = timing_for(core)
    ldr = decode(LDR, "ldr r0, [r1]")
    after_ldr = 2 if core == "cortex-m0plus" else 1
    assert instruction_cycles(decode(LDR_R2_R3, "ldr r2, [r3]"), timing, ldr) == after_ldr
    assert instruction_cycles(decode(STR_REG, "str r0, [r2, r1]"), timing, ldr) == after_ldr
    assert instruction_cycles(decode(STR_REG, "str r0, [r2, r1]"), timing) == 2
    assert instruction_cycles(decode(LDR_R3_R0, "ldr r3, [r0]"), timing, ldr) == 2  # depends
    store = decode(STR_IMM, "str r0, [r1]")
    assert instruction_cycles(decode(LDR_R2_R3, "ldr r2, [r3]"), timing, store) == 2
    assert instruction_cycles(decode(LDR_PC, "ldr.w pc, [r1]"), timing, ldr) == 2


def test_cortex_m3_table() -> None:
    m3 = "cortex-m3"
    assert cycles(MLA, "mla r0, r1, r2, r3", m3) == 2
    assert cycles(UMULL, "umull r0, r1, r2, r3", m3) == 5  # 3-5: upper bound
    assert cycles(bytes.fromhex("c2fb0301"), "smlal r0, r1, r2, r3", m3) == 7  # 4-7
    assert cycles(UDIV, "udiv r0, r1, r2", m3) == 12  # 2-12: upper bound
    assert cycles(bytes.fromhex("dde90201"), "ldrd r0, r1, [sp, #8]", m3) == 3  # 1 + N
    assert cycles(POP_PC, "pop {r4, pc}", m3) == 3  # 1 + N, P added by the simulator
    assert cycles(BL, "bl #0x1000", m3) == 1
    assert cycles(bytes.fromhex("dfe800f0"), "tbb [pc, r0]", m3) == 2
    assert cycles(bytes.fromhex("b1fa81f0"), "clz r0, r1", m3) == 1
    assert timing_for(m3).branch_refill == 2


def test_cortex_m4_dsp_and_fpu() -> None:
    m4 = "cortex-m4"
    assert cycles(MLA, "mla r0, r1, r2, r3", m4) == 1
    assert cycles(UMULL, "umull r0, r1, r2, r3", m4) == 1
    assert cycles(UDIV, "udiv r0, r1, r2", m4) == 12
    assert cycles(bytes.fromhex("21fb0230"), "smlad r0, r1, r2, r3", m4) == 1
    assert cycles(bytes.fromhex("71fb0230"), "usada8 r0, r1, r2, r3", m4) == 1
    assert cycles(bytes.fromhex("30ee810a"), "vadd.f32 s0, s1, s2", m4) == 1
    assert cycles(bytes.fromhex("80ee810a"), "vdiv.f32 s0, s1, s2", m4) == 14
    assert cycles(bytes.fromhex("b1eee00a"), "vsqrt.f32 s0, s1", m4) == 14
    assert cycles(bytes.fromhex("00ee810a"), "vmla.f32 s0, s1, s2", m4) == 3
    assert cycles(bytes.fromhex("90ed000a"), "vldr s0, [r0]", m4) == 2
    assert cycles(bytes.fromhex("10ee100a"), "vmov r0, s0", m4) == 1
    assert cycles(bytes.fromhex("51ec100b"), "vmov r0, r1, d0", m4) == 2
    assert cycles(bytes.fromhex("2ded048b"), "vpush {d8, d9}", m4) == 5  # 1 + 4 words


def test_cortex_m0plus_table() -> None:
    m0 = "cortex-m0plus"
    assert timing_for(m0).branch_refill == 1  # taken branch = 2 cycles
    assert cycles(MULS, "muls r0, r1, r0", m0) == 1  # single-cycle multiplier option
    assert cycles(BL, "bl #0x1000", m0) == 2  # 3 with the refill
    assert cycles(b"\x70\x47", "bx lr", m0) == 1  # 2 with the refill
    assert cycles(POP_PC, "pop {r4, pc}", m0) == 4  # 3 + N = 5 with the refill
    assert cycles(bytes.fromhex("eff30880"), "mrs r0, msp", m0) == 3
    assert cycles(bytes.fromhex("bff34f8f"), "dsb sy", m0) == 3
    assert cycles(b"\x30\xbf", "wfi", m0) == 2


def test_conditional_instructions_in_it_block() -> None:
    insns = list(MD.disasm(bytes.fromhex("08bf4018"), 0))  # it eq; addeq r0, r0, r1
    assert [i.mnemonic for i in insns] == ["it", "addeq"]
    for core in CORES:
        assert [instruction_cycles(i, timing_for(core)) for i in insns] == [1, 1]


def test_instruction_outside_core_table_costs_one() -> None:
    # An FP instruction has no entry in the Cortex-M3 table.
    assert cycles(bytes.fromhex("80ee810a"), "vdiv.f32 s0, s1, s2", "cortex-m3") == 1
    assert cycles(bytes.fromhex("2ded048b"), "vpush {d8, d9}", "cortex-m0plus") == 1


def test_never_raises_on_decoded_instructions() -> None:
    rng = random.Random(0)
    timings = [timing_for(core) for core in CORES]
    decoded = 0
    for _ in range(5000):
        for insn in MD.disasm(rng.randbytes(4), 0, count=1):
            decoded += 1
            delta = sp_delta(insn)
            assert delta is None or isinstance(delta, int)
            for timing in timings:
                assert instruction_cycles(insn, timing) >= 1
    assert decoded > 4000


# --- timing_for / CORES / make_disassembler --------------------------------------------------


def test_cores_and_timing_for() -> None:
    assert CORES == ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")
    for core in CORES:
        timing = timing_for(core)
        assert isinstance(timing, CoreTiming)
        assert timing.core == core
        assert timing.branch_refill >= 1
        assert "DDI" in timing.source


def test_timing_for_unknown_core() -> None:
    with pytest.raises(ValueError, match="cortex-m5") as info:
        timing_for("cortex-m5")
    assert "\n" not in str(info.value)


def test_timing_is_frozen() -> None:
    with pytest.raises(AttributeError):
        timing_for("cortex-m3").branch_refill = 3  # type: ignore[misc]


def test_make_disassembler() -> None:
    md = make_disassembler()
    assert md.detail
    assert md.arch == capstone.CS_ARCH_ARM
    assert md.mode == capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS


# --- the per-halfword tables the simulator builds from an ELF ---------------------------------

@pytest.mark.parametrize("target", list(TARGETS))
def test_code_tables_equal_full_detail_decoding(firmware, target: str) -> None:
    """build_tables decodes most instructions without operand detail; its tables must be what
    decoding every instruction with detail gives (programs with FP, stack frames, lists)."""
    import numpy as np

    from sim import load_elf
    from sim.codemap import PAIRS, build_tables
    from sim.native import SPD_DYNAMIC
    from toolchain.memory_map import FLASH_BASE
    from toolchain.profiles import get_target

    sources: list[tuple[str, ...]] = [
        ("compute.c",), ("recurse.c", "descend.S"), ("heap.c",), ("hello.c",)]
    if target in ("nrf52832", "stm32f746", "stm32l552"):
        sources.append(("float.c",))
    timing = timing_for(get_target(target).core)
    for source in sources:
        image = load_elf(firmware(*source, target=target))
        flash = np.zeros(get_target(target).flash, np.uint8)
        for seg in image.segments:
            if seg.address < len(flash):
                flash[seg.address : seg.address + len(seg.data)] = np.frombuffer(seg.data, np.uint8)
        cost, spd, _ = build_tables(flash, FLASH_BASE, image.exec_ranges, timing)
        want_cost, want_spd = np.zeros_like(cost), np.zeros_like(spd)
        md = make_disassembler()
        md.skipdata = True
        for start, end in image.exec_ranges:
            prev = None
            for insn in md.disasm(flash[start:end].tobytes(), start):
                if insn.id:
                    i, d = insn.address >> 1, sp_delta(insn)
                    want_cost[i] = min(max(instruction_cycles(insn, timing, prev), 1), 127)
                    want_cost[i] |= PAIRS if dual_issues(insn, prev, timing) else 0
                    want_spd[i] = SPD_DYNAMIC if d is None else d
                prev = insn if insn.id else None
        assert np.count_nonzero(want_cost) > 50
        assert np.array_equal(cost, want_cost), source
        assert np.array_equal(spd, want_spd), source


# --- dual issue (Cortex-M7, Cortex-M33) ---------------------------------------------------------

M7, M33 = timing_for("cortex-m7"), timing_for("cortex-m33")
INSN = {text: decode(bytes.fromhex(code), text) for code, text in [
    ("01eb0200", "add.w r0, r1, r2"),
    ("04eb0503", "add.w r3, r4, r5"),
    ("00eb0503", "add.w r3, r0, r5"),
    ("0868", "ldr r0, [r1]"),
    ("1a68", "ldr r2, [r3]"),
    ("1a60", "str r2, [r3]"),
    ("0368", "ldr r3, [r0]"),
    ("421c", "adds r2, r0, #1"),
    ("01fb02f0", "mul r0, r1, r2"),
    ("04fb05f3", "mul r3, r4, r5"),
    ("01eb0210", "add.w r0, r1, r2, lsl #4"),
    ("04eb8503", "add.w r3, r4, r5, lsl #2"),
    ("91fa02f0", "sadd16 r0, r1, r2"),
    ("0028", "cmp r0, #0"),
    ("fed0", "beq #0x1000"),
    ("c4f38203", "ubfx r3, r4, #2, #3"),
    ("10b5", "push {r4, lr}"),
    ("0120", "movs r0, #1"),
    ("0221", "movs r1, #2"),
]}


@pytest.mark.parametrize(("older", "younger", "pairs"), [
    ("add.w r0, r1, r2", "add.w r3, r4, r5", True),  # independent ALU operations
    ("add.w r0, r1, r2", "add.w r3, r0, r5", False),  # reads what the older writes
    ("ldr r0, [r1]", "ldr r2, [r3]", True),  # load + load (TRM: two load ports)
    ("ldr r2, [r3]", "str r2, [r3]", False),  # stores what the load brings
    ("ldr r0, [r1]", "str r2, [r3]", True),  # load + store
    ("str r2, [r3]", "ldr r0, [r1]", False),  # store first: one store slot, in order
    ("mul r0, r1, r2", "mul r3, r4, r5", False),  # one MAC pipeline
    ("add.w r0, r1, r2, lsl #4", "add.w r3, r4, r5, lsl #2", False),  # one shifter ALU
    ("add.w r0, r1, r2, lsl #4", "ubfx r3, r4, #2, #3", False),  # bit-field needs it too
    ("add.w r0, r1, r2, lsl #4", "add.w r3, r4, r5", True),
    ("sadd16 r0, r1, r2", "add.w r3, r4, r5", True),  # DSP in the older slot
    ("add.w r3, r4, r5", "sadd16 r0, r1, r2", False),  # ... never in the younger
    ("cmp r0, #0", "beq #0x1000", True),  # a predicted branch does not wait for the flags
    ("push {r4, lr}", "movs r0, #1", False),  # multi-cycle
    ("movs r0, #1", "push {r4, lr}", False),
])
def test_cortex_m7_pairing_rules(older: str, younger: str, pairs: bool) -> None:
    assert dual_issues(INSN[younger], INSN[older], M7) is pairs
    for core in ("cortex-m0plus", "cortex-m3", "cortex-m4"):
        assert not dual_issues(INSN[younger], INSN[older], timing_for(core))


def test_cortex_m33_pairs_a_16_bit_instruction_with_the_branch_after_it() -> None:
    assert dual_issues(INSN["beq #0x1000"], INSN["cmp r0, #0"], M33)
    assert not dual_issues(INSN["movs r1, #2"], INSN["movs r0, #1"], M33)
    assert not dual_issues(INSN["beq #0x1000"], INSN["add.w r0, r1, r2"], M33)  # 32-bit
    assert not dual_issues(INSN["movs r0, #1"], None, M33)


@pytest.mark.parametrize("timing", [M7, M33], ids=["m7", "m33"])
def test_single_cycle_loads_wait_for_a_loaded_value(timing: CoreTiming) -> None:
    """Loads and stores issue in one cycle; the instruction after a load that uses the loaded
    value (as data or as its address) waits one more."""
    ldr = INSN["ldr r0, [r1]"]
    assert instruction_cycles(ldr, timing) == 1
    assert instruction_cycles(INSN["str r2, [r3]"], timing) == 1
    assert instruction_cycles(INSN["ldr r2, [r3]"], timing, ldr) == 1  # independent
    assert instruction_cycles(INSN["ldr r3, [r0]"], timing, ldr) == 2  # address from the load
    assert instruction_cycles(INSN["adds r2, r0, #1"], timing, ldr) == 2  # data from the load
    assert instruction_cycles(INSN["adds r2, r0, #1"], timing_for("cortex-m4"), ldr) == 1
    assert timing.branch_refill == (2 if timing is M7 else 1)


@pytest.mark.parametrize(("target", "saved"), [("stm32f746", 4), ("stm32l552", 0),
                                               ("nrf52832", 0), ("curie", 0)])
def test_dual_issue_inside_a_block_two_at_a_time(firmware, target: str, saved: int) -> None:
    """Eight independent single-cycle operations in one block take four cycles on the M7
    (in-order pairs: the third does not pair with the second), a dependency chain eight."""
    import sim

    pairs, chain = (sim.run(firmware.image("pairs.S", runtime=False, target=target,
                                           defines={"CASE": case})) for case in (1, 2))
    assert pairs.status == chain.status == "ok"
    assert pairs.instructions == chain.instructions == 11
    assert chain.cycles - pairs.cycles == saved

"""ARMv7-M and ARMv8-M Mainline always require these accesses aligned (Armv7-M ARM A3.2.1),
whatever CCR.UNALIGN_TRP says; Unicorn does not enforce it, the simulator does: the access
does not happen and the run stops with UsageFault UNALIGNED at the instruction."""

import numpy as np
import pytest

import sim
from sim.alignment import alignment_checks
from toolchain.cores import get_core
from toolchain.profiles import TARGETS

# case of tests/programs/unaligned.S -> (instruction, access bytes, read/write, address offset)
CASES = {
    1: ("ldrd r2, r3, [r0, #8]", 8, "read", 10),
    2: ("strd r1, r2, [r0, #8]", 8, "write", 10),
    3: ("ldm.w r0, {r2, r3}", 8, "read", 2),
    4: ("stm r0!, {r1, r2}", 8, "write", 2),
    5: ("ldrex r2, [r0, #4]", 4, "read", 6),
    6: ("strex r3, r1, [r0]", 4, "write", 2),
    7: ("vldr s0, [r0, #4]", 4, "read", 6),
    8: ("vstr s0, [r0]", 4, "write", 2),
    9: ("ldrexh r2, [r0]", 2, "read", 1),
}
SRAM = 0x2000_0000


def _cases(target: str) -> list[int]:
    fpu = TARGETS[target].fpu is not None
    return [c for c in CASES if fpu or c not in (7, 8)]


@pytest.mark.parametrize(("target", "case"), [
    (t, c) for t in ("curie", "nrf52832") for c in _cases(t)
] + [("stm32f746", 1), ("stm32f746", 4), ("stm32f746", 7), ("stm32l552", 3),
     ("stm32l552", 6), ("stm32l552", 8)])
def test_an_unaligned_access_that_must_be_aligned_faults_before_it_happens(
        firmware, target: str, case: int) -> None:
    text, size, access, offset = CASES[case]
    core = get_core(TARGETS[target].core)
    image = firmware.image("unaligned.S", runtime=False, target=target, defines={"CASE": case})
    s = sim.Simulator(image, sim.RunOptions())
    report = s.run()
    assert report.status == "fault"
    fault = report.fault
    assert fault.pc == image.symbols["probe"]
    assert fault.instruction == text
    unit = "halfword" if size == 2 else "word"
    assert fault.message == (
        f"unaligned {size}-byte {access} at 0x{SRAM + offset:08x}: UsageFault UNALIGNED "
        f"(`{text}` needs a {unit}-aligned address on {core.architecture}, whatever "
        "CCR.UNALIGN_TRP says)")
    assert (fault.address, fault.size, fault.access) == (SRAM + offset, size, access)
    # the instruction did not run: no register it writes changed, nothing was stored
    assert fault.registers["r2"] == 9 and fault.registers["r0"] == SRAM + (1 if case == 9 else 2)
    assert s.read_memory(SRAM, 16) == bytes(16)
    aligned = sim.run(firmware.image("unaligned.S", runtime=False, target=target,
                                     defines={"CASE": 0x10 | case}))
    assert aligned.status == "ok"
    # what came before the probe retired; the probe and the exit sequence (3) did not
    assert report.instructions == aligned.instructions - 4


@pytest.mark.parametrize(("target", "case"), [("curie", 0x11), ("curie", 0x14),
                                              ("nrf52832", 0x17), ("stm32l552", 0x13)])
def test_the_same_access_aligned_runs(firmware, target: str, case: int) -> None:
    report = sim.run(firmware.image("unaligned.S", runtime=False, target=target,
                                    defines={"CASE": case}))
    assert (report.status, report.exit_code) == ("ok", 0), report.fault


def test_armv6m_needs_no_checks_and_sp_or_pc_bases_are_not_checked(firmware) -> None:
    """The M0+ model faults on every unaligned access itself; SP is always word-aligned and a
    PC-relative literal is aligned when linked, so those instructions carry no check."""
    image = firmware.image("copies.c", target="nrf52832")
    flash = np.zeros(TARGETS["nrf52832"].flash, np.uint8)
    for seg in image.segments:
        if seg.address < len(flash):
            flash[seg.address : seg.address + len(seg.data)] = np.frombuffer(seg.data, np.uint8)
    m4 = alignment_checks(flash, 0, image.exec_ranges, get_core("cortex-m4"))
    s = sim.Simulator(image, sim.RunOptions())
    # main's LDM, STM and LDRD (bases from literals); its PUSH/POP and literal loads need none
    main = image.symbols["main"]
    in_main = sorted(s.disassemble(c.address).split()[0] for c in m4
                     if main <= c.address < main + 0x20)
    assert in_main == ["ldm", "ldrd", "stm.w"], in_main
    assert alignment_checks(flash, 0, image.exec_ranges, get_core("cortex-m0plus")) == []
    for check in m4:
        text = s.disassemble(check.address)
        assert "sp" not in text.split(",")[-1] and "pc" not in text, text
        assert check.alignment in (2, 4)


def test_armv6m_unaligned_store_multiple_names_its_address(firmware) -> None:
    report = sim.run(firmware.image("unaligned.S", runtime=False, target="stm32l031",
                                    defines={"CASE": 4}))
    assert report.status == "fault"
    assert report.fault.message == ("unaligned 4-byte write at 0x20000002: HardFault "
                                     "(cortex-m0plus has no unaligned access)")


# --- CCR.DIV_0_TRP ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["curie", "stm32l552"])
def test_divide_by_zero_returns_zero_unless_the_firmware_sets_ccr_div_0_trp(
        firmware, target: str) -> None:
    """Armv7-M ARM B3.2.8: with CCR.DIV_0_TRP set (the program writes it through the SCS), an
    SDIV/UDIV by zero raises UsageFault DIVBYZERO and does not run; without it, it returns 0."""
    plain = sim.run(firmware.image("div0.S", runtime=False, target=target,
                                   defines={"TRAP": 0}))
    assert (plain.status, plain.exit_code) == ("ok", 0)
    image = firmware.image("div0.S", runtime=False, target=target, defines={"TRAP": 1})
    report = sim.run(image)
    assert report.status == "fault"
    fault = report.fault
    assert (fault.kind, fault.pc, fault.instruction) == (
        "hard_fault", image.symbols["probe"], "udiv r4, r1, r2")
    assert fault.message == ("divide by zero (UsageFault DIVBYZERO): the divisor register is 0 "
                             "and CCR.DIV_0_TRP is set")
    assert fault.registers["r4"] == 5  # the divide did not run
    assert report.instructions == 9  # the CCR write and the set-up before the probe


def test_div_0_trap_setter_turns_the_check_on_and_off(firmware) -> None:
    image = firmware.image("div0.S", runtime=False, target="nrf52832", defines={"TRAP": 0})
    s = sim.Simulator(image, sim.RunOptions())
    s.set_div0_trap(True)
    assert s.run().status == "fault"
    s = sim.Simulator(image, sim.RunOptions())
    s.set_div0_trap(True)
    s.set_div0_trap(False)
    report = s.run()
    assert (report.status, report.exit_code) == ("ok", 0)


def test_an_access_based_on_a_register_just_set_from_sp_needs_no_check(firmware) -> None:
    """SP is always word-aligned: `add lr, sp, #16; stmdb lr, {...}` (a struct copied to the
    stack) is proven aligned from the code and carries no check; the same access after a
    register set any other way, or at a branch target, keeps its check."""
    from capstone import arm_const as A

    from sim.alignment import _effect
    from sim.timing import make_disassembler

    md = make_disassembler()

    def one(hexcode: str) -> "object":
        return next(md.disasm(bytes.fromhex(hexcode), 0x1000, 1))

    assert _effect(one("0df1100e"), A.ARM_REG_LR) == "sp"  # add.w lr, sp, #16
    assert _effect(one("ec46"), A.ARM_REG_R12) == "sp"  # mov ip, sp
    assert _effect(one("0830"), A.ARM_REG_R0) == "keeps"  # adds r0, #8
    assert _effect(one("0130"), A.ARM_REG_R0) == "breaks"  # adds r0, #1
    assert _effect(one("4318"), A.ARM_REG_R3) == "breaks"  # adds r3, r0, r1
    assert _effect(one("0830"), A.ARM_REG_R1) == "none"
    image = firmware.image("unaligned.S", runtime=False, target="curie", defines={"CASE": 1})
    flash = np.zeros(TARGETS["curie"].flash, np.uint8)
    for seg in image.segments:
        if seg.address < len(flash):
            flash[seg.address : seg.address + len(seg.data)] = np.frombuffer(seg.data, np.uint8)
    checks = alignment_checks(flash, 0, image.exec_ranges, get_core("cortex-m3"),
                              image.symbols.values())
    assert [c.address for c in checks] == [image.symbols["probe"]]  # r0 came from movs/lsls
    image = firmware.image("unaligned.S", runtime=False, target="curie", defines={"CASE": 0x21})
    flash[:] = 0
    for seg in image.segments:
        if seg.address < len(flash):
            flash[seg.address : seg.address + len(seg.data)] = np.frombuffer(seg.data, np.uint8)
    others = [a for name, a in image.symbols.items() if name != "probe"]
    assert alignment_checks(flash, 0, image.exec_ranges, get_core("cortex-m3"), others) == []
    # the global label `probe` is an entry point: reached from elsewhere, r0 could be anything
    assert alignment_checks(flash, 0, image.exec_ranges, get_core("cortex-m3"),
                            image.symbols.values()) != []
    report = sim.run(image)
    assert (report.status, report.exit_code) == ("ok", 0), report.fault


def test_the_checks_can_be_left_out_to_measure_their_cost(firmware) -> None:
    """check_alignment=False (for benchmarks): the same unaligned LDRD is not stopped by the
    simulator, Unicorn executes it, as before the checks."""
    image = firmware.image("unaligned.S", runtime=False, target="curie", defines={"CASE": 1})
    assert sim.Simulator(image, sim.RunOptions()).run().status == "fault"
    unchecked = sim.Simulator(image, sim.RunOptions(check_alignment=False)).run()
    assert unchecked.fault is None or "UNALIGNED" not in unchecked.fault.message


# --- checks at block entry (tests/programs/unaligned_block.S) ---------------------------------

# case -> (the probe's check is made at block entry, OFF that faults, instruction at the probe)
BLOCK_CASES = {
    1: (True, 2, "ldrd r2, r3, [r0, #8]"),
    2: (False, 0, "ldrd r2, r3, [r0, #8]"),  # the block makes r0 unaligned: its own hook
    3: (True, 2, "ldm r3, {r2, r3}"),  # r3 = r0 + r4 * 8: aligned when r0 is
    4: (True, None, "ldrd r2, r3, [r0]"),  # ldrdne in an IT block, not executed: no fault
    5: (True, 2, "ldm r0!, {r2, r3}"),
    6: (True, 2, "ldm r0!, {r2, r3}"),
    7: (True, 0, "ldm r3, {r2, r3}"),  # r3 = r0 + 2: checked on r0 and r4, decided exactly
    8: (False, 2, "stm.w r3, {r1, r2}"),  # a base the block loads: its own hook
}


def _flash_of(image: sim.FirmwareImage, target: str) -> np.ndarray:
    flash = np.zeros(TARGETS[target].flash, np.uint8)
    for seg in image.segments:
        if seg.address < len(flash):
            flash[seg.address : seg.address + len(seg.data)] = np.frombuffer(seg.data, np.uint8)
    return flash


@pytest.mark.parametrize("case", sorted(BLOCK_CASES))
def test_checks_at_block_entry_follow_the_base_register_through_the_block(
        firmware, case: int) -> None:
    """The block hook checks what the base register depends on when the block starts; an
    access whose base the block loads or makes unaligned keeps its own hook; a failed check at
    entry is decided again at the instruction (it may not run, or be aligned after all)."""
    at_entry, faulting, text = BLOCK_CASES[case]
    for off in (0, 2):
        image = firmware.image("unaligned_block.S", runtime=False, target="nrf52832",
                               defines={"CASE": case, "OFF": off})
        probe = image.symbols["probe"]
        checks = {c.address: c for c in alignment_checks(
            _flash_of(image, "nrf52832"), 0, image.exec_ranges, get_core("cortex-m4"))}
        assert checks[probe].at_entry is at_entry
        s = sim.Simulator(image, sim.RunOptions())
        assert s.disassemble(probe) == text
        report = s.run()
        if off != faulting:
            assert (report.status, report.exit_code) == ("ok", 0), report.fault
            assert report.instructions == 11 + {6: 15}.get(case, 0) + (
                {2: 2, 3: 2, 4: 2, 5: 3, 7: 2, 8: 3}.get(case, 1)) + 3
            continue
        assert report.status == "fault"
        assert (report.fault.pc, report.fault.instruction) == (probe, text)
        assert "UsageFault UNALIGNED" in report.fault.message
        before = {2: 1, 3: 1, 7: 1, 8: 2}.get(case, 0)  # in the block, before the probe
        assert report.instructions == 11 + before
        assert report.fault.registers["r1"] == 7 and report.fault.registers["r5"] == 4
        assert s.read_memory(SRAM, 32) == bytes(32)


def test_a_failed_entry_check_moves_to_a_hook_once(firmware) -> None:
    """The conditional access that does not run: the block is stopped once, its check moved
    to the instruction, and the run goes on with the same counts as without any check."""
    image = firmware.image("unaligned_block.S", runtime=False, target="nrf52832",
                           defines={"CASE": 4, "OFF": 2})
    checked = sim.Simulator(image, sim.RunOptions())
    report = checked.run()
    unchecked = sim.Simulator(image, sim.RunOptions(check_alignment=False)).run()
    assert (report.instructions, report.cycles) == (unchecked.instructions, unchecked.cycles)
    assert report.status == unchecked.status == "ok"


# --- CCR.UNALIGN_TRP (tests/programs/unalign_trp.S) -------------------------------------------

TRP_CASES = {1: ("ldr.w r2, [r0, #2]", 4, "read", 2), 2: ("strh.w r1, [r0, #1]", 2, "write", 1),
             3: ("ldr r2, [r0, r5]", 4, "read", 2)}


@pytest.mark.parametrize(("target", "case"), [("curie", 1), ("curie", 2), ("curie", 3),
                                              ("stm32l552", 1), ("stm32f746", 3)])
def test_ccr_unalign_trp_makes_unaligned_word_and_halfword_accesses_fault(
        firmware, target: str, case: int) -> None:
    """Armv7-M ARM A3.2.1 / B3.2.8: with CCR.UNALIGN_TRP set, an unaligned LDR/STR/LDRH/STRH
    raises UsageFault UNALIGNED and does not happen; with it clear the same access runs."""
    text, size, access, offset = TRP_CASES[case]
    plain = sim.run(firmware.image("unalign_trp.S", runtime=False, target=target,
                                   defines={"CASE": case, "TRAP": 0}))
    assert (plain.status, plain.exit_code) == ("ok", 0), plain.fault
    image = firmware.image("unalign_trp.S", runtime=False, target=target,
                           defines={"CASE": case, "TRAP": 1})
    s = sim.Simulator(image, sim.RunOptions())
    report = s.run()
    assert report.status == "fault"
    fault = report.fault
    assert (fault.kind, fault.pc, fault.instruction) == ("hard_fault", image.symbols["probe"],
                                                          text)
    assert fault.message == (f"unaligned {size}-byte {access} at 0x{SRAM + offset:08x}: "
                             f"UsageFault UNALIGNED (`{text}`): CCR.UNALIGN_TRP is set")
    assert (fault.address, fault.size, fault.access) == (SRAM + offset, size, access)
    assert fault.registers["r2"] == 9 and s.read_memory(SRAM, 4) == bytes(4)
    assert report.instructions == plain.instructions + 7 - 4  # the CCR write ran, not the probe


@pytest.mark.parametrize("case", [4, 5])
def test_ccr_unalign_trp_leaves_bytes_and_aligned_accesses_alone(firmware, case: int) -> None:
    report = sim.run(firmware.image("unalign_trp.S", runtime=False, target="nrf52832",
                                    defines={"CASE": case, "TRAP": 1}))
    assert (report.status, report.exit_code) == ("ok", 0), report.fault


def test_armv6m_faults_on_every_unaligned_word_access(firmware) -> None:
    """Armv6-M ARM A3.2 "Alignment support": no unaligned access at all (CCR.UNALIGN_TRP
    reads as one); Unicorn's Cortex-M0 raises it, reported as a HardFault."""
    report = sim.run(firmware.image("unalign_trp.S", runtime=False, target="stm32l031",
                                    defines={"CASE": 3, "TRAP": 0}))
    assert report.status == "fault"
    assert report.fault.message == ("unaligned 4-byte read at 0x20000002: HardFault "
                                    "(cortex-m0plus has no unaligned access)")

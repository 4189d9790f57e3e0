"""A device read is timed at the load's own cycle (sim/store_match.py, Simulator._access_cycle):
the cycles of the instructions before the load and the load's own, not the end of its basic
block (whose cycles Unicorn counts when it starts). tests/programs/load_timing.S reads a
counter twice in one block around a fixed sequence; what it reads must move by exactly the
cycles the timing model (sim/timing.py) gives the instructions in between."""

import capstone
import pytest

import sim
from sim.timing import dual_issues, instruction_cycles, make_disassembler, timing_for
from toolchain.profiles import get_target

CYCCNT, SYSTICK, OWN_ADDRESS_REGISTER, POP, IN_SRAM = 1, 2, 3, 4, 5


def _code(image: sim.FirmwareImage, start: int, end: int) -> list[capstone.CsInsn]:
    """The instructions in [start, end) of the image's flash."""
    segment = next(s for s in image.segments if s.address <= start < s.address + len(s.data))
    data = bytes(segment.data[start - segment.address:end - segment.address])
    return list(make_disassembler().disasm(data, start))


def cycles_through(image: sim.FirmwareImage, target: str) -> dict[int, int]:
    """For each instruction of the block from ``measure`` to the exit call: the cycles the
    timing model gives the block's instructions up to and including it, as the native hook adds
    them (each one's cost given the instruction before it in the code; on a dual-issue core
    one cycle less when it pairs with the one before, two at a time, not the block's first)."""
    timing = timing_for(get_target(target).core)
    symbols = image.symbols
    code = _code(image, symbols["Reset_Handler"] & ~1, symbols["exit_call"] + 2)
    through, total, paired, prev, n = {}, 0, False, None, 0
    for insn in code:
        if insn.address >= symbols["measure"]:
            cost = max(instruction_cycles(insn, timing, prev), 1)
            if n > 0 and not paired and dual_issues(insn, prev, timing):
                cost, paired = cost - 1, True
            else:
                paired = False
            total += cost
            through[insn.address] = total
            n += 1
        prev = insn
    return through


def run_case(firmware, target: str, case: int) -> tuple[int, int, dict[int, int], dict]:
    image = firmware.image("load_timing.S", runtime=False, target=target,
                           defines={"CASE": case})
    report = sim.run(image)
    assert report.status == "ok", report.problem
    assert report.unmodelled == []
    code = report.exit_code
    return code & 0xFF, code >> 8, cycles_through(image, target), image.symbols


@pytest.mark.parametrize("target", ["curie", "nrf52832", "stm32f746", "stm32l552"])
def test_cyccnt_reads_move_by_the_cycles_between_the_loads(firmware, target: str) -> None:
    """``t0 = CYCCNT; ...; t1 = CYCCNT`` in one block: t1 - t0 is the cycles of the sequence
    and of the second load; t0, after a store of 0 to CYCCNT, the cycles of the first load
    (and of what lies between)."""
    moved, first, through, symbols = run_case(firmware, target, CYCCNT)
    assert moved == through[symbols["second"]] - through[symbols["first"]] > 0
    assert first == through[symbols["first"]] - through[symbols["measure"]]


@pytest.mark.parametrize("target", ["curie", "stm32f746"])
def test_cyccnt_reads_in_code_run_from_sram(firmware, target: str) -> None:
    """The same block copied to SRAM (its loads found in code the simulator does not cache as
    flash's, kept while its bytes stay the same): code outside the flash the timing tables
    were built for counts a cycle per instruction, so the reads move by the instructions."""
    moved, first, through, symbols = run_case(firmware, target, IN_SRAM)
    count = sorted(through).index  # (the block's instructions, in order)
    assert moved == count(symbols["second"]) - count(symbols["first"]) > 0
    assert first == count(symbols["first"]) - count(symbols["measure"]) > 0


@pytest.mark.parametrize("target", ["curie", "stm32l031", "stm32f746", "stm32l552"])
def test_systick_cvr_reads_count_down_by_the_cycles_between_the_loads(
        firmware, target: str) -> None:
    """SysTick's CVR, read twice in one block, counts down by the cycles between the loads;
    it starts (RVR + 1, at the enabling store to CSR in the same block) at that store's cycle."""
    moved, first, through, symbols = run_case(firmware, target, SYSTICK)
    assert moved == through[symbols["second"]] - through[symbols["first"]] > 0
    assert first == through[symbols["first"]] - through[symbols["measure"]] > 0


@pytest.mark.parametrize("target", ["curie", "stm32f746"])
def test_a_load_whose_address_register_is_its_destination(firmware, target: str) -> None:
    """``ldr r4, [r4]``: the read callback sees r4 before the load writes it (the address
    taken from the literal pool by the instruction before), so the load is found."""
    moved, first, through, symbols = run_case(firmware, target, OWN_ADDRESS_REGISTER)
    assert moved == through[symbols["second"]] - through[symbols["first"]] > 0
    assert first == through[symbols["first"]] - through[symbols["measure"]] > 0


@pytest.mark.parametrize("target", ["curie", "stm32f746"])
def test_a_read_by_a_load_not_looked_for_is_timed_at_its_blocks_end(
        firmware, target: str) -> None:
    """A POP reading CYCCNT (SP pointed at it) is not a load the simulator looks for: that
    read gives the count at the end of its block, the first (an LDR) its own."""
    moved, first, through, symbols = run_case(firmware, target, POP)
    assert moved == through[symbols["exit_call"]] - through[symbols["first"]]
    assert first == through[symbols["first"]] - through[symbols["measure"]]


def test_block_loads_are_the_instructions_that_read_through_an_address() -> None:
    """is_load: LDR (every size, literal, exclusive), LDRD, LDM; not POP (the stack) nor a
    store. An LDM's or LDRD's every word is the instruction's."""
    from sim.store_match import BlockAccesses, is_load

    md = make_disassembler()
    # ldr r3, [r3]; ldm r3!, {r1, r2}; ldrd r0, r1, [r2]; pop {r4}; str r1, [r0]; ldr r0, [pc, #4]
    code = list(md.disasm(bytes.fromhex("1b6806cbd2e9000110bc01600148"), 0x1000))
    assert [is_load(i) for i in code] == [True, True, True, False, False, True]
    regs = {"r0": 0, "r1": 0, "r2": 0x4000_0000, "r3": 0x4000_0010, "r4": 0, "pc": 0}
    loads = BlockAccesses(code, 0x100E, lambda a: None, lambda s, e: 0, loads=True)
    assert loads.accesses == [0, 1, 2, 5]
    assert loads.find(0x4000_0010, -1, regs.__getitem__) == 0
    assert loads.find(0x4000_0014, 0, regs.__getitem__) == 1  # the LDM's second word
    assert loads.find(0x4000_0004, 1, regs.__getitem__) == 2  # the LDRD's second word
    assert loads.find(0x4000_0004, 2, regs.__getitem__) == 2  # (again: still that one)
    assert loads.find(0x4000_0020, -1, regs.__getitem__) is None

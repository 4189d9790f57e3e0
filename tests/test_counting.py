"""Exact instruction counts, the instruction limit, flash wait states, repeatability.

loop.S (tests/programs) is counted by hand: ``movs; N x (subs; bne); movs; adr; bkpt`` is
2N + 4 instructions. Unicorn runs it as blocks:

    0x08  movs r1,#N; subs; bne      3   (first iteration)
    0x0a  subs; bne                  2   (iterations 2..N: N - 1 blocks)
    0x0e  movs r0,#0x20; adr; bkpt   3   (the exit call)

so the counts reached at block boundaries are 0, 3, 5, ..., 2N + 1, 2N + 4. The instruction
limit stops *before* the block that would exceed it, at one of these boundaries.
"""

import pytest
from helpers import report_without_wall_time

import sim

N = 100


def loop_elf(firmware, n: int = N, status: int = 0, target: str = "curie"):
    return firmware("loop.S", runtime=False, target=target,
                    defines={"N": n, "EXIT_STATUS": status})


@pytest.mark.parametrize("n", [1, 2, 100, 255])
def test_loop_instruction_count_is_exact(firmware, n):
    report = sim.run(sim.load_elf(loop_elf(firmware, n)))
    assert report.status == "ok"
    assert report.fault is None
    assert report.exit_code == 0
    assert report.instructions == 2 * n + 4


@pytest.mark.parametrize("target", ["curie", "stm32l031", "nrf52832", "stm32f746", "stm32l552"])
def test_loop_count_is_the_same_on_every_core(firmware, target):
    # Counting is architectural: the same instructions retire on M0+, M3, M4, M7 and M33.
    report = sim.run(sim.load_elf(loop_elf(firmware, target=target)))
    assert (report.target, report.status, report.instructions) == (target, "ok", 2 * N + 4)


def test_exit_status_of_an_assembly_program(firmware):
    # SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit: the subcode is the exit status.
    report = sim.run(sim.load_elf(loop_elf(firmware, status=3)))
    assert (report.status, report.exit_code, report.instructions) == ("ok", 3, 2 * N + 4)
    assert report.exit_status == 1  # non-zero firmware status: the CLI exits 1


def test_stack_program_count(firmware):
    # stack.S: bl (1) + push, sub, str, add, pop (5) + movs, adr, bkpt (3).
    report = sim.run(sim.load_elf(firmware("stack.S", runtime=False)))
    assert (report.status, report.exit_code, report.instructions) == ("ok", 0, 9)


def block_boundaries(n: int = N) -> list[int]:
    """Instruction counts at the start of each block of loop.S (see the module docstring)."""
    return [0, 3, *(3 + 2 * k for k in range(1, n)), 2 * n + 4]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 50, 51, 199, 201, 202, 203])
def test_instruction_limit_stops_before_the_block_that_would_exceed_it(firmware, limit):
    report = sim.run(sim.load_elf(loop_elf(firmware)), max_instructions=limit)
    expected = max(b for b in block_boundaries() if b <= limit)
    assert report.status == "timeout"
    assert report.exit_code is None
    assert report.instructions == expected <= limit
    fault = report.fault
    assert fault.kind == "instruction_limit"
    assert f"instruction limit of {limit} reached" in fault.message
    assert f"stopped after {expected} instructions" in fault.message
    # The machine state agrees with the count: movs + s * (subs; bne) retired, so r1 = N - s.
    if expected == 0:
        assert fault.pc == 0x08 and fault.function == "Reset_Handler+0x0"
        assert fault.registers["r1"] == 0
    elif expected <= 2 * N + 1:
        subs_done = (expected - 1) // 2
        assert fault.registers["r1"] == N - subs_done
        assert fault.pc == (0x0A if subs_done < N else 0x0E)
    assert report.exit_status == 5


def test_instruction_limit_equal_to_the_count_lets_the_program_finish(firmware):
    elf = sim.load_elf(loop_elf(firmware))
    assert sim.run(elf, max_instructions=2 * N + 4).status == "ok"
    stopped = sim.run(elf, max_instructions=2 * N + 3)
    assert (stopped.status, stopped.instructions) == ("timeout", 2 * N + 1)


def test_instruction_limit_on_a_program_that_never_ends(firmware):
    report = sim.run(sim.load_elf(firmware("spin.c")), max_instructions=1000)
    assert report.status == "timeout"
    assert report.fault.kind == "instruction_limit"
    # spin.c's loop is one 4-instruction block (ldr, adds, str, b): the run stops within one
    # block of the limit, never past it.
    assert 1000 - 4 < report.instructions <= 1000
    assert report.fault.function.startswith("main+")


@pytest.mark.parametrize("wait_states", [1, 2, 5])
def test_each_wait_state_costs_one_cycle_per_taken_branch(firmware, wait_states):
    # loop.S takes its backward branch N - 1 times; nothing else in it is non-sequential
    # (the first block is where the run starts, the exit block is reached by falling through).
    elf = sim.load_elf(loop_elf(firmware))
    base = sim.run(elf, flash_wait_states=0)
    slow = sim.run(elf, flash_wait_states=wait_states)
    assert slow.instructions == base.instructions == 2 * N + 4
    assert slow.cycles - base.cycles == (N - 1) * wait_states
    assert slow.flash_wait_states == wait_states


def test_target_default_wait_states_are_used(firmware):
    # stm32l031 (no flash accelerator at 32 MHz) has 1 wait state; curie has none.
    m0 = sim.run(sim.load_elf(loop_elf(firmware, target="stm32l031")))
    assert m0.flash_wait_states == 1
    forced = sim.run(sim.load_elf(loop_elf(firmware, target="stm32l031")), flash_wait_states=0)
    assert m0.cycles - forced.cycles == N - 1


@pytest.mark.parametrize(("program", "defines"), [
    ("compute.c", None),
    ("heap.c", None),
    ("hello.c", None),
    ("faults.c", {"CASE": "stack_overflow"}),  # a run that faulted leaves nothing behind
])
def test_same_simulator_run_twice_gives_identical_reports(firmware, program, defines):
    image = firmware.image(program, defines=defines)
    simulator = sim.Simulator(image, sim.RunOptions())
    first = report_without_wall_time(simulator.run())
    second = report_without_wall_time(simulator.run())
    fresh = report_without_wall_time(sim.Simulator(image, sim.RunOptions()).run())
    assert first == second == fresh
    assert first["instructions"] > 0


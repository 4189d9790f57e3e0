"""Every fault kind: what the report says, what the CLI prints, and that the program stopped.

faults.c (tests/programs) calls one noinline function per build (-DCASE=name) and prints
"survived" only if that function returns, so an empty stdout shows the run really stopped.
"""

import time

import pytest
from helpers import PROGRAMS

import sim
from toolchain.memory_map import SRAM_BASE
from toolchain.profiles import TARGETS

SRAM_END = SRAM_BASE + 15 * 1024  # curie

# case -> (kind, access, address, size, function prefix, text in the message, instruction)
CASES = {
    "unmapped_read": ("unmapped_read", "read", 0x3000_0000, 4, "unmapped_read+",
                      "read outside mapped memory: 4 bytes at 0x30000000", "ldr"),
    "unmapped_write": ("unmapped_write", "write", SRAM_END, 4, "unmapped_write+",
                       "write outside mapped memory: 4 bytes at 0x20003c00 "
                       "(0 bytes past the end of 15 KiB SRAM)", "str"),
    "flash_write": ("flash_write", "write", 0x100, 4, "flash_write+",
                    "write to flash: 4 bytes at 0x00000100", "str"),
    "null_write": ("flash_write", "write", 0, 4, "null_write+",
                   "write to flash: 4 bytes at 0x00000000 (near address 0: null pointer?)",
                   "str"),
    "unmapped_fetch": ("unmapped_fetch", "fetch", 0x1000_0000, 2, None,
                       "instruction fetch from unmapped memory: 2 bytes at 0x10000000", None),
    "undefined_instruction": ("undefined_instruction", None, None, None,
                              "undefined_instruction+0x0", "UNDEFINSTR", "udf #0x2a"),
    "breakpoint": ("breakpoint", None, None, None, "breakpoint+0x0",
                   "BKPT 0x01 (not semihosting)", "bkpt #1"),
    # blx to flash_write's address with the Thumb bit clear: the fault is at the target.
    "arm_state_branch": ("hard_fault", None, None, None, "flash_write+0x0",
                         "invalid state (UsageFault INVSTATE: the Thumb bit is clear",
                         "movs"),
}


def fault_elf(firmware, case: str, target: str = "curie"):
    return firmware("faults.c", target=target, defines={"CASE": case})


@pytest.mark.parametrize("case", list(CASES))
def test_fault_report_via_cli(firmware, cli, case):
    kind, access, address, size, function, text, insn = CASES[case]
    result = cli("run", fault_elf(firmware, case))
    assert result.returncode == 4
    assert result.stdout == ""  # "survived" never printed: the run stopped at the fault
    report = result.report
    assert report["status"] == "fault"
    assert report["exit_code"] is None
    fault = report["fault"]
    assert fault["kind"] == kind
    assert text in fault["message"]
    assert fault["access"] == access
    assert fault["address"] == address
    assert fault["size"] == size
    if function is None:
        assert fault["function"] is None
    else:
        assert fault["function"].startswith(function)
    if insn is None:
        assert fault["instruction"] is None
    else:
        assert fault["instruction"].startswith(insn)
    assert set(fault["registers"]) == {*(f"r{i}" for i in range(13)), "sp", "lr", "pc", "xpsr"}
    # The human summary on stderr names the kind, the message and the place.
    assert f"{kind}: {fault['message']}" in result.stderr
    where = "" if function is None else f" in {fault['function']}: {fault['instruction']}"
    assert f"  at pc 0x{fault['pc']:08x}{where}\n" in result.stderr


@pytest.mark.parametrize("case", ["unmapped_read", "unmapped_write", "flash_write",
                                  "undefined_instruction", "breakpoint"])
def test_fault_pc_is_the_faulting_instruction(firmware, case):
    image = sim.load_elf(fault_elf(firmware, case))
    simulator = sim.Simulator(image, sim.RunOptions())
    report = simulator.run()
    fault = report.fault
    name, offset = image.function_at(fault.pc)
    assert name == case
    assert fault.function == f"{case}+0x{offset:x}"
    # Registers are the machine's state at the stop: at the faulting instruction.
    assert fault.registers["pc"] & ~1 == fault.pc
    assert simulator.disassemble(fault.pc) == fault.instruction
    # main called the function: lr returns into main.
    assert image.function_at(fault.registers["lr"])[0] == "main"


def test_unmapped_fetch_names_the_caller(firmware):
    image = sim.load_elf(fault_elf(firmware, "unmapped_fetch"))
    report = sim.run(image)
    fault = report.fault
    assert (fault.kind, fault.pc, fault.address) == ("unmapped_fetch", 0x1000_0000, 0x1000_0000)
    # The bad call came from unmapped_fetch: its return address is in lr.
    assert image.function_at(fault.registers["lr"])[0] == "unmapped_fetch"


def test_branch_with_the_thumb_bit_clear_names_the_caller(firmware):
    image = sim.load_elf(fault_elf(firmware, "arm_state_branch"))
    fault = sim.run(image).fault
    assert fault.pc == image.symbols["flash_write"]
    assert fault.registers["xpsr"] & 1 << 24 == 0  # the T bit: cleared by the bad branch
    assert image.function_at(fault.registers["lr"])[0] == "arm_state_branch"


def test_stack_overflow_stops_before_static_data_is_touched(firmware):
    image = sim.load_elf(fault_elf(firmware, "stack_overflow"))
    simulator = sim.Simulator(image, sim.RunOptions())
    report = simulator.run()
    fault = report.fault
    assert report.status == "fault"
    assert report.stdout == ""
    assert fault.kind == "stack_overflow"
    assert "stack overflow into static data (.data/.bss)" in fault.message
    assert fault.function.startswith("dive+")
    assert fault.access == "write"
    static_end = SRAM_BASE + report.static
    # The block that would cross the limit was not run: the lowest address it would have
    # written is reported, below the limit by fault.size bytes, and SP is still above it.
    assert fault.address < static_end
    assert fault.address + fault.size == static_end
    assert f"{fault.size} bytes below its limit 0x{static_end:08x}" in fault.message
    assert fault.registers["sp"] >= static_end
    assert report.stack_peak <= report.sram_size - report.static
    # Static data is intact: the .data canary and every word of the .bss fence.
    def word(addr: int) -> int:
        off = addr - SRAM_BASE
        return int.from_bytes(simulator.sram[off : off + 4].tobytes(), "little")

    assert word(image.symbols["canary"]) == 0xC0FFEE42
    fence = image.symbols["fence"]
    assert [word(fence + 4 * i) for i in range(16)] == [0xA5A5A5A5] * 16


def test_stack_overflow_into_the_heap(firmware):
    image = sim.load_elf(fault_elf(firmware, "stack_into_heap"))
    report = sim.run(image)
    fault = report.fault
    assert fault.kind == "stack_overflow"
    assert "stack overflow into heap" in fault.message
    # sbrk(2048) moved the break; the stack may not cross it.
    brk = image.symbols["__heap_start"] + 2048
    assert report.heap_peak == 2048
    assert fault.address < brk == fault.address + fault.size
    assert fault.registers["sp"] >= brk


def test_stack_overflow_via_the_installed_command(firmware, cli):
    result = cli("run", fault_elf(firmware, "stack_overflow"), process=True)
    assert result.returncode == 4
    assert result.report["fault"]["kind"] == "stack_overflow"
    assert "stack_overflow: stack overflow into static data" in result.stderr


def test_unaligned_word_load_is_a_hard_fault_on_cortex_m0plus(firmware, cli):
    elf = fault_elf(firmware, "unaligned_load", target="stm32l031")
    image = sim.load_elf(elf)
    result = cli("run", elf)
    assert result.returncode == 4
    assert result.stdout == ""
    fault = result.report["fault"]
    assert fault["kind"] == "hard_fault"
    odd = image.symbols["unaligned_bytes"] + 1
    assert fault["message"] == (f"unaligned 4-byte read at 0x{odd:08x}: HardFault "
                                "(cortex-m0plus has no unaligned access)")
    assert (fault["address"], fault["size"], fault["access"]) == (odd, 4, "read")
    assert fault["function"] == "load_word+0x0"
    assert fault["instruction"] == "ldr r0, [r0]"


def test_unaligned_word_load_is_allowed_on_cortex_m3(firmware):
    # Same source on v7-M: the load works and returns the little-endian word.
    report = sim.run(sim.load_elf(fault_elf(firmware, "unaligned_load")))
    assert (report.status, report.exit_code, report.stdout) == ("ok", 0, "survived\n")


def test_semihosting_call_with_a_bad_pointer_is_a_fault(firmware, cli):
    result = cli("run", firmware("io.c", defines={"OP": "OP_BAD_POINTER"}))
    assert result.returncode == 4
    assert result.stdout == "before\n"
    fault = result.report["fault"]
    assert fault["kind"] == "hard_fault"
    assert fault["message"] == "semihosting call 0x04 points outside mapped memory"
    assert fault["function"].startswith("sh_write0+")
    assert fault["instruction"] == "bkpt #0xab"


def test_instruction_limit_via_cli(firmware, cli):
    result = cli("run", firmware("spin.c"), "--max-instructions", "1000")
    assert result.returncode == 5
    report = result.report
    assert report["status"] == "timeout"
    assert report["fault"]["kind"] == "instruction_limit"
    assert 1000 - 4 < report["instructions"] <= 1000
    assert "instruction_limit: instruction limit of 1000 reached" in result.stderr


def test_wall_clock_timeout_via_cli(firmware, cli):
    start = time.monotonic()
    result = cli("run", firmware("spin.c"), "--timeout", "0.5", process=True, timeout=30)
    elapsed = time.monotonic() - start
    assert result.returncode == 5
    report = result.report
    assert report["status"] == "timeout"
    fault = report["fault"]
    assert fault["kind"] == "timeout"
    assert fault["message"] == "wall-clock timeout of 0.5 s reached"
    assert fault["function"].startswith("main+")
    assert 0.5 <= report["wall_seconds"] < 5
    assert elapsed < 15
    assert report["instructions"] > 100_000  # it really ran for half a second


def test_wall_clock_timeout_count_matches_the_work_done(firmware):
    # spin.c's loop increments `ticks` once per 4 instructions (ldr, adds, str, b), so
    # instructions - 4 * ticks is the same constant (the instructions before the loop) wherever
    # a run is stopped: by the instruction limit, or by the wall clock in another thread.
    image = sim.load_elf(firmware("spin.c"))

    def stop(**options) -> tuple[str, int]:
        simulator = sim.Simulator(image, sim.RunOptions(**options))
        report = simulator.run()
        off = image.symbols["ticks"] - SRAM_BASE
        ticks = int.from_bytes(simulator.sram[off : off + 4].tobytes(), "little")
        assert ticks > 0
        return report.status, report.instructions - 4 * ticks

    status, prologue = stop(max_instructions=10_000)
    assert status == "timeout"
    for _ in range(2):
        assert stop(timeout=0.2) == ("timeout", prologue)


def test_vector_table_for_a_larger_sram(firmware, cli):
    # Linked for curie's 15 KiB, run with 8 KiB mapped: the initial SP lies outside SRAM.
    result = cli("run", firmware("hello.c"), "--sram", "8k")
    assert result.returncode == 4
    assert result.stdout == ""
    fault = result.report["fault"]
    assert fault["kind"] == "hard_fault"
    assert "no usable vector table at 0x00000000" in fault["message"]
    assert "initial SP 0x20003c00 must lie in the 8 KiB SRAM" in fault["message"]
    assert "linked for a larger SRAM" in fault["message"]
    assert result.report["instructions"] == 0


def test_faulting_programs_exist():
    # Guard against a renamed program silently changing what the parametrized tests build.
    source = (PROGRAMS / "faults.c").read_text()
    for case in [*CASES, "stack_overflow", "stack_into_heap", "unaligned_load"]:
        assert f"NOINLINE int {case}(void)" in source


@pytest.mark.parametrize("target", [t for t, p in TARGETS.items() if p.fpu])
def test_float_with_the_fpu_disabled_faults(firmware, cli, target):
    """fpu.S runs a VADD; only with CP10/CP11 enabled in CPACR first does it exit normally.
    Unicorn itself would execute it either way."""
    ok = cli("run", firmware("fpu.S", runtime=False, target=target,
                             defines={"ENABLE_FPU": None}))
    assert ok.returncode == 0 and ok.report["status"] == "ok"
    bad = cli("run", firmware("fpu.S", runtime=False, target=target))
    assert bad.returncode == 4 and bad.report["status"] == "fault"
    fault = bad.report["fault"]
    assert fault["kind"] == "hard_fault" and "FPU disabled" in fault["message"]
    assert fault["instruction"].startswith("vmov s0, r2")  # the first VFP instruction
    assert bad.report["instructions"] == 3  # movs, movs, b: the VFP block never ran


def test_float_firmware_enables_the_fpu_in_start_up(firmware):
    # The project's start-up code enables the FPU, so C using floats runs on FPU targets.
    report = sim.run(sim.load_elf(firmware("float.c", target="nrf52832")))
    assert report.status == "ok" and report.exit_code == 0


@pytest.mark.parametrize("case", ["unmapped_read", "unmapped_write", "flash_write"])
def test_fault_cycles_leave_out_the_unexecuted_rest_of_the_block(firmware, case):
    """The block holding the faulting instruction was counted whole when it started; the
    report takes back the instructions from the faulting one on, and their base cycles
    (decoded here independently with capstone and the core's timing table)."""
    from sim.timing import instruction_cycles, make_disassembler, timing_for

    image = sim.load_elf(fault_elf(firmware, case))
    simulator = sim.Simulator(image, sim.RunOptions())
    report = simulator.run()
    # the last block as the native counter recorded it: [start, end), counted whole
    start, end = simulator.last_block.start, simulator.last_block.end
    assert start <= report.fault.pc < end
    code = simulator.read_memory(report.fault.pc, end - report.fault.pc)
    rest = list(make_disassembler().disasm(code, report.fault.pc))
    timing = timing_for(simulator.target.core)
    assert report.instructions == simulator.instructions - len(rest)
    assert report.cycles == simulator.cycles - sum(instruction_cycles(i, timing) for i in rest)


@pytest.mark.parametrize("target", [t for t, p in TARGETS.items() if p.fpu])
def test_double_precision_faults_on_a_single_precision_fpu(firmware, cli, target):
    """fp64.S runs a VMUL.F64 after two MOVS in its block. Every FPU target has FPv4-SP or
    FPv5-SP: UsageFault UNDEFINSTR at that instruction (Unicorn's Cortex-M7 would compute it),
    with the counts and registers a UDF in its place gives."""
    elf = firmware("fp64.S", runtime=False, target=target)
    bad = cli("run", elf)
    udf = cli("run", firmware("fp64.S", runtime=False, target=target, defines={"UDF": None}))
    assert bad.returncode == 4 and udf.returncode == 4
    fault, at = bad.report["fault"], sim.load_elf(elf).symbols["at_fp64"]
    assert fault["kind"] == "undefined_instruction" and fault["pc"] == at
    assert "double precision" in fault["message"] and "single precision only" in fault["message"]
    assert fault["instruction"].startswith("vmul.f64")
    assert (fault["registers"]["r4"], fault["registers"]["r5"]) == (5, 7)  # the MOVS ran
    for key in ("instructions", "cycles"):
        assert bad.report[key] == udf.report[key]
    vectored = cli("run", elf, "--vector-faults")
    assert vectored.report["exit_code"] == 1  # the handler saw CFSR.UNDEFINSTR
    assert vectored.report["vectored_faults"][0].startswith(
        f"undefined_instruction at 0x{at:08x}")


def test_a_fault_handler_that_spins_is_a_deadlock(firmware, cli):
    # --vector-faults into a vendor Default_Handler (`b .`): the run spun until a limit (run
    # has none by default), a CI job until its own time limit
    vectored = cli("run", firmware("spin_handler.S", runtime=False), "--vector-faults")
    assert vectored.returncode == 5, vectored.stderr
    assert vectored.report["status"] == "deadlock"
    fault = vectored.report["fault"]
    assert fault["kind"] == "deadlock" and "the HardFault handler spins (b .)" in fault["message"]
    assert vectored.report["instructions"] < 10
    # the same `b .` in thread mode (a `while (1);` waiting for interrupts) with nothing that
    # can ever interrupt it: a deadlock too, at once (it spun until a limit: picolibc's own
    # start-up code ends in one after main returns)
    thread = cli("run", firmware("spin_handler.S", runtime=False, defines={"THREAD_SPIN": None}),
                 "--max-instructions", "100000")
    assert thread.report["status"] == "deadlock" and thread.returncode == 5
    assert "the firmware spins (b .) with nothing that can ever interrupt it" in (
        thread.report["fault"]["message"])
    assert thread.report["instructions"] < 10
    # with SysTick interrupting it the spin waits for them: no deadlock
    ticking = cli("run", firmware("spin_handler.S", runtime=False,
                                  defines={"THREAD_SPIN": None, "TICK": None}),
                  "--max-instructions", "100000")
    assert ticking.report["fault"]["kind"] == "instruction_limit", ticking.report["fault"]
    assert ticking.report["exceptions"]["taken"]["SysTick"] > 10
    # (review) the spin ran before (its block cached for the fast path), then its only
    # interrupt turns itself off: a deadlock from there on, not a spin to the limit
    once = cli("run", firmware("spin_handler.S", runtime=False,
                               defines={"THREAD_SPIN": None, "TICK": None, "TICK_ONCE": None}),
               "--max-instructions", "100000")
    assert once.report["status"] == "deadlock", once.report["fault"]
    assert once.report["exceptions"]["taken"]["SysTick"] == 1


def test_faults_delivered_in_a_loop_are_listed_bounded(firmware, monkeypatch):
    """A HardFault handler that steps past a faulting load, for ever (--vector-faults): every
    fault was a report line (1 M instructions: 142,856 lines, 16 MB of JSON, all printed to
    stderr too). The first MAX_VECTORED are listed, the rest counted."""
    import sim.runner
    from tests.test_exceptions import irq_program

    monkeypatch.setattr(sim.runner, "MAX_VECTORED", 10, raising=False)
    image = sim.load_elf(irq_program(firmware, "vfault_loop.c", "stm32l031"))
    report = sim.run(image, sim.RunOptions(vector_faults=True, max_instructions=20_000))
    assert len(report.vectored_faults) == 11, len(report.vectored_faults)
    assert report.vectored_faults[-1].startswith("... and ")
    assert report.vectored_faults[-1].endswith(" more faults delivered, not listed")


@pytest.mark.parametrize(("case", "target", "note"), [
    (1, "curie", "(in table, a const object in flash)"),
    (2, "nrf52832", "(the bit-band alias of SRAM, an option of the Cortex-M3/M4 that nrf52832 "
                    "does not implement)"),
    (3, "nrf52832", "(the nRF52's FICR or UICR: not modelled)"),
    # (it was "past the end of 196 KiB flash": s55 firmware review L4)
    (4, "curie", "4 bytes at 0x1ffffffc (4 bytes below SRAM's start (0x20000000): a stack "
                 "overflowing downwards?)"),
])
def test_a_fault_names_what_lies_at_its_address(firmware, case, target, note):
    """A store into a const table at 0x4a8 was 'near address 0: null pointer?', a bit-band
    store or a FICR read said nothing of what lies there (s53 firmware review L3, L4, L8)."""
    report = sim.run(sim.load_elf(firmware("region_notes.c", target=target,
                                           defines={"CASE": str(case)})))
    assert report.fault is not None and report.fault.message.endswith(note), report.fault

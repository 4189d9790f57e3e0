"""The STM32L0's flash program memory programmed by the firmware (sim/devices/stm32l0_flash.py,
the runner's _program_store): unlocked by PEKEYR's then PRGKEYR's keys, a word, a half page
from SRAM, a page erase, each busy for t_prog; the errors the part sets (NOTZEROERR, WRPERR,
SIZERR, FWWERR, PGAERR); its data through a reset of the part, and every run from the image."""

import json
import subprocess

import pytest
from helpers import EBNN_SIM, FakeDeviceHost

import sim
from sim.devices.stm32l0_flash import (
    ERASE,
    FPRG,
    PECR,
    PEKEYS,
    PRGKEYR,
    PRGKEYS,
    PRGLOCK,
    PROG,
    SIZERR,
    SR,
    Stm32l0Flash,
)
from sim.devices.stm32l0_flash import PEKEYR as PECR_KEY
from sim.elf import load_elf
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")
PAGE = 0x0800_7F80


def flashprog(firmware, case: str):
    return irq_program(firmware, "flashprog.c", "stm32l031", **{f"CASE_{case}": None})


def fields(stdout: str) -> dict[str, str]:
    words = stdout.split()
    return dict(zip(words[::2], words[1::2], strict=True))


def test_a_word_a_half_page_and_an_erase_each_busy_for_t_prog(firmware, cli):
    """The word reads back; programming it again is NOTZEROERR (bit 16) and leaves it; the half
    page from SRAM holds its 16 words; the erase clears the whole page (the half page too);
    TIM21 counts 3 x 3.2 ms (and the little code between); PRGLOCK and PELOCK set again."""
    result = cli("run", flashprog(firmware, "program"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    got = fields(result.report["stdout"])
    assert got["word"] == "cafef00d" and got["again"] == "cafef00d"
    assert int(got["sr"], 16) & 0x3_2F00 == 1 << 16  # NOTZEROERR alone
    assert got["half"] == "00000000" and got["before"] == "11111111"
    assert got["erased"] == "00000000"
    assert 9_600 <= int(got["us"]) < 9_800
    assert int(got["pecr"], 16) & 7 == 7
    assert result.report["unmodelled_registers"] == []
    assert any("NOTZEROERR" in warning for warning in result.report["warnings"])


def test_one_stm_programs_two_words_and_writes_its_base_back(firmware, cli):
    """The second word waits for the first; the core, running from flash, stalls until both
    are programmed (2 x 102,400 cycles at 32 MHz) rather than polling BSY. Against the same
    stores into SRAM: the same instructions (the store's block, cut short and resumed, is not
    counted twice) and the same cycles but the stall's (no refill for the resumed block)."""
    result = cli("run", flashprog(firmware, "stm"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "words a5a5a5a5 5a5a5a5a next 00000008\n"
    in_sram = cli("run", irq_program(firmware, "flashprog.c", "stm32l031", CASE_stm=None,
                                     TO_SRAM=1), *LIMIT)
    assert in_sram.report["stdout"] == result.report["stdout"]
    # +1: wait()'s store clearing EOP, which only the programming sets (its cycles and those
    # of the branch not taken over it are those of the branch taken in SRAM's case)
    assert result.report["instructions"] == in_sram.report["instructions"] + 1
    assert result.report["cycles"] - in_sram.report["cycles"] == 2 * 102_400


def test_a_run_for_end_during_the_stall_ends_the_run_there(firmware, cli):
    """--run-for 1 ms ends in the middle of the two words' 6.4 ms stall: at 1 ms to the cycle
    (32,000 at 32 MHz), not when the stall ends."""
    result = cli("run", flashprog(firmware, "stm"), "--run-for", "1ms", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["status"] == "ok" and result.report["run_for"] == 0.001
    assert result.report["cycles"] + result.report["sleep_cycles"] == 32_000


def test_a_store_while_locked_is_not_done(firmware, cli):
    result = cli("run", flashprog(firmware, "locked"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000000 sr 0000010c\n"  # WRPERR, ENDHV, READY
    assert any("PRGLOCK" in warning for warning in result.report["warnings"])


def test_a_halfword_store_is_a_size_error(firmware, cli):
    result = cli("run", flashprog(firmware, "size"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000000 sr 0000040c\n"  # SIZERR


def test_a_half_page_programmed_from_flash_is_aborted(firmware, cli):
    """The fetches between its stores abort it on the chip: FWWERR, nothing written."""
    result = cli("run", flashprog(firmware, "fww"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000000 sr 0002000c\n"  # FWWERR
    assert any("from SRAM" in warning for warning in result.report["warnings"])


def test_a_half_page_store_outside_it_drops_it(firmware, cli):
    result = cli("run", flashprog(firmware, "pga"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000000 sr 0000020c\n"  # PGAERR


def test_the_hals_half_page_loop_fills_it_in_order(firmware, cli):
    """HAL_FLASHEx_HalfPageProgram stores all sixteen words to the half page's first word:
    they fill it in order (SR: ENDHV and READY only, EOP cleared by the wait)."""
    result = cli("run", flashprog(firmware, "hal_half"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 11111111 sr 0000000c half 00000000\n"


def test_a_half_page_not_started_at_its_start_is_an_alignment_error(firmware, cli):
    result = cli("run", flashprog(firmware, "misaligned"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000000 sr 0000020c\n"  # PGAERR
    assert any("not at the start" in warning for warning in result.report["warnings"])


def test_a_wrong_program_key_keeps_it_locked(firmware, cli):
    result = cli("run", flashprog(firmware, "wrong_key"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "pecr 00000006\n"  # PELOCK clear, PRGLOCK still set
    assert any("PRGKEYR" in warning for warning in result.report["warnings"])


def test_the_end_of_programming_interrupt_comes_before_the_next_instruction(firmware, cli):
    """The core's fetches from flash stall while the word is programmed: at the stall's end
    the interrupt is taken before the code after the store runs, which then finds it done and
    never sleeps (no WFI)."""
    result = cli("run", flashprog(firmware, "irq"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "eop 1\n"
    assert result.report["exceptions"]["taken"]["IRQ3"] == 1
    assert result.report["sleep_cycles"] == 0 and result.report["cycles"] > 102_400


def test_its_data_lives_through_a_reset_and_each_run_starts_from_the_image(firmware):
    """A boot count in flash: 1, 2 (each followed by NVIC_SystemReset), 3; a second run of the
    same simulator counts from the image again."""
    simulator = sim.Simulator(load_elf(flashprog(firmware, "boots")),
                              sim.RunOptions(allow_resets=2, max_instructions=5_000_000))
    for _ in range(2):
        report = simulator.run()
        assert (report.status, report.exit_code) == ("ok", 0), report.problem
        assert report.stdout.endswith("boots 3\n")
        assert len(report.resets) == 2


def test_stores_after_a_semihosting_call_are_carried_out_once(firmware, cli):
    """A block storing to SRAM, adding, then storing into flash (then the EEPROM), after the
    firmware printed: the store into flash is the one carried out, the add runs once."""
    result = cli("run", flashprog(firmware, "printed"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == (
        "storing\nadds 00000002 flash 5a5a1234 eeprom 5a5a1234\n")


def test_a_timeout_ends_a_loop_of_stores_the_simulator_carries_out(firmware, tmp_path):
    """Each store into locked flash or the locked EEPROM is refused between two instructions,
    the run resuming after it: the wall-clock timeout still ends the run (it was checked only
    where Unicorn stopped on its own, and each resume started a fresh 1 us timer)."""
    elf, out = flashprog(firmware, "locked_loop"), tmp_path / "report.json"
    proc = subprocess.run([str(EBNN_SIM), "run", str(elf), "-q", "--timeout", "0.5", "--json",
                           str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 5, proc.stderr
    report = json.loads(out.read_text())
    assert report["fault"]["kind"] == "timeout"
    assert report["wall_seconds"] < 3.0  # (it ran on for 7 to 180 s before)


@pytest.mark.parametrize("case", ["code", "vectors"])
def test_erasing_its_own_code_or_vector_table_stops_the_run(firmware, cli, case):
    result = cli("run", flashprog(firmware, case), *LIMIT)
    assert result.returncode == 4, result.report
    fault = result.report["fault"]
    assert fault["kind"] == "flash_write"
    assert "holds its own code or vector table" in fault["message"]


def test_code_it_programs_runs_as_programmed(firmware, cli):
    """A function programmed into free flash and called, then reprogrammed and called again:
    the second call runs the new code (Unicorn's translation of the old is dropped)."""
    elf = flashprog(firmware, "new_code")
    result = cli("run", elf, "--target", "stm32l031", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "a 7 b 9\n"


def test_a_store_to_a_constant_in_flash_is_refused_here_and_faults_elsewhere(firmware, cli):
    """Locked, the STM32L0 refuses it (WRPERR); without a flash interface to program it
    (curie), a store to flash is a fault, as before."""
    result = cli("run", flashprog(firmware, "konst"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000007 sr 0000010c\n"
    result = cli("run", irq_program(firmware, "flashprog.c", "curie", CASE_konst=None), *LIMIT)
    assert result.returncode == 4, result.report
    assert result.report["fault"]["kind"] == "flash_write"


def test_a_store_the_simulator_cannot_place_faults_rather_than_guess(firmware, monkeypatch):
    """Should the instruction found at the PC not write what the store does (a stale PC), the
    simulator stops with a fault naming that, never carrying out another store."""
    from sim import runner
    from sim.stores import StoreEffect

    monkeypatch.setattr(runner, "decode_store", lambda insn, reg: StoreEffect(((0, 4, 0),)))
    report = sim.Simulator(load_elf(flashprog(firmware, "stm")),
                           sim.RunOptions(max_instructions=5_000_000)).run()
    assert report.status == "fault" and report.fault is not None
    assert report.fault.kind == "flash_write"
    assert "could not tell which instruction stored" in report.fault.message


def executed(image, **options) -> tuple[sim.RunReport, int]:
    """(a run's report, the instructions Unicorn began: a code hook on every one)."""
    from unicorn import UC_HOOK_CODE

    simulator = sim.Simulator(image, sim.RunOptions(**options))
    began = [0]

    def count(uc, address, size, user) -> None:
        began[0] += 1

    simulator.uc.hook_add(UC_HOOK_CODE, count)
    return simulator.run(), began[0]


def test_stores_after_interrupts_also_when_profiled(firmware):
    """Interrupts taken (the profiler follows their entries in Python, a PC written in a hook,
    as semihosting's is), then stores into flash and the EEPROM: each found and carried out,
    profiled or not, with the same counts."""
    from sim.profile import Profiler

    image = load_elf(flashprog(firmware, "ticked"))
    plain = sim.Simulator(image, sim.RunOptions(max_instructions=5_000_000)).run()
    profiled = Profiler(sim.Simulator(image, sim.RunOptions(max_instructions=5_000_000))).run()
    expected = "ttttt\nticks 5 flash 600df00d eeprom feedbeef\n"
    assert (plain.status, plain.stdout) == ("ok", expected), plain.problem
    assert (profiled.report.status, profiled.report.stdout) == ("ok", expected)
    assert profiled.report.instructions == plain.instructions


@pytest.mark.parametrize("case", ["stm", "printed", "hal_half", "ticked"])
def test_the_instructions_counted_are_those_that_ran(firmware, case):
    """Around each store the simulator carries out (its block cut, the rest resumed), and
    each semihosting call resumed after: every instruction Unicorn began is counted once."""
    report, began = executed(load_elf(flashprog(firmware, case)), max_instructions=5_000_000)
    assert report.status == "ok", report.problem
    assert report.instructions == began


def test_the_instructions_counted_with_faults_delivered(firmware):
    """vfault.c's three faults delivered (--vector-faults): the faulting instructions began
    but did not run, the rest of their blocks never ran either."""
    report, began = executed(load_elf(irq_program(firmware, "vfault.c")), vector_faults=True)
    assert (report.status, report.exit_code) == ("ok", 3), report.problem
    assert report.instructions == began - 3


# --- register level: the flash interface with a fake host's flash ----------------------------
class ProgrammingHost(FakeDeviceHost):
    """A host with 1 KiB of flash at 0x08000000 (erased: 0) and a stretch the firmware's code
    holds (0x08000000-0x080000FF), which flash_write refuses as the simulator does."""

    def __init__(self) -> None:
        super().__init__()
        self.memory = bytearray(1024)
        self.flash = Stm32l0Flash(self)  # type: ignore[arg-type]
        self.flash.reset()

    def flash_read(self, address: int, size: int) -> bytes:
        return bytes(self.memory[address - 0x0800_0000:address - 0x0800_0000 + size])

    def flash_write(self, address: int, data: bytes) -> bool:
        if address < 0x0800_0100:
            return False
        self.memory[address - 0x0800_0000:address - 0x0800_0000 + len(data)] = data
        return True

    def unlock(self) -> None:
        for key in PEKEYS:
            self.flash.write(PECR_KEY, 4, key)
        for key in PRGKEYS:
            self.flash.write(PRGKEYR, 4, key)

    def word(self, address: int) -> int:
        return int.from_bytes(self.flash_read(address, 4), "little")


def test_program_memory_modes_and_errors_register_by_register():
    host = ProgrammingHost()
    flash = host.flash
    host.flash.write(PRGKEYR, 4, PRGKEYS[0])  # while PELOCK is set: nothing
    host.unlock()
    assert flash.read(PECR, 4) & 3 == 0 and host.warnings == []
    flash.program_flash(0x0800_0200, 4, 0x1234, at=0, from_flash=True)
    assert host.word(0x0800_0200) == 0x1234 and host.stalled_until == 102_400
    flash.program_flash(0x0800_0204, 2, 0xBEEF, at=0, from_flash=True)  # SIZERR
    assert host.word(0x0800_0204) == 0 and flash.read(SR, 4) & SIZERR
    flash.write(PECR, 4, ERASE)  # ERASE alone: a word programmed (an assumption)
    flash.program_flash(0x0800_0208, 4, 7, at=0, from_flash=True)
    assert host.word(0x0800_0208) == 7
    flash.write(PECR, 4, ERASE | PROG)  # the page of 0x08000200, 128 bytes, erased
    flash.program_flash(0x0800_0240, 4, 0, at=0, from_flash=True)
    assert host.word(0x0800_0200) == host.word(0x0800_0208) == 0
    flash.write(PECR, 4, FPRG | PROG)  # a half page loading, dropped when PECR changes
    flash.program_flash(0x0800_0300, 4, 1, at=0, from_flash=False)
    flash.write(PECR, 4, 0)
    flash.write(PECR, 4, FPRG | PROG)
    for i in range(16):  # a new half page, from its start
        flash.program_flash(0x0800_0340 + 4 * i, 4, i + 1, at=0, from_flash=False)
    assert host.word(0x0800_0300) == 0 and host.word(0x0800_034C) == 4
    flash.write(PECR, 4, 1 << 23)  # NZDISABLE: listed, not modelled
    assert host.listed and "NZDISABLE" in host.whys[-1]
    assert host.exceptions.due == 4 * 102_400  # four operations queued at cycle 0


def test_a_wrong_program_key_locks_until_reset_and_a_refused_write_is_not_an_operation():
    host = ProgrammingHost()
    flash = host.flash
    for key in PEKEYS:
        flash.write(PECR_KEY, 4, key)
    flash.write(PRGKEYR, 4, 0x1234_5678)
    flash.write(PRGKEYR, 4, PRGKEYS[0])
    flash.write(PRGKEYR, 4, PRGKEYS[1])
    assert flash.read(PECR, 4) & PRGLOCK
    flash.reset()
    host.unlock()
    assert not flash.read(PECR, 4) & PRGLOCK
    flash.program_flash(0x0800_0080, 4, 1, at=0, from_flash=True)  # the "code": refused
    assert host.exceptions.due is None and host.stalled_until == 0

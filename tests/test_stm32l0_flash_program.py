"""The STM32L0's flash program memory programmed by the firmware (sim/devices/stm32l0_flash.py,
the runner's _program_store): unlocked by PEKEYR's then PRGKEYR's keys, a word, a half page
from SRAM, a page erase, each busy for t_prog; the errors the part sets (NOTZEROERR, WRPERR,
SIZERR, FWWERR, PGAERR); its data through a reset of the part, and every run from the image."""

import sim
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


def test_erasing_its_own_code_stops_the_run(firmware, cli):
    result = cli("run", flashprog(firmware, "code"), *LIMIT)
    assert result.returncode == 4, result.report
    fault = result.report["fault"]
    assert fault["kind"] == "flash_write"
    assert "holds its own code" in fault["message"]


def test_a_store_to_a_constant_in_flash_is_refused_here_and_faults_elsewhere(firmware, cli):
    """Locked, the STM32L0 refuses it (WRPERR); without a flash interface to program it
    (curie), a store to flash is a fault, as before."""
    result = cli("run", flashprog(firmware, "konst"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000007 sr 0000010c\n"
    result = cli("run", irq_program(firmware, "flashprog.c", "curie", CASE_konst=None), *LIMIT)
    assert result.returncode == 4, result.report
    assert result.report["fault"]["kind"] == "flash_write"

"""The STM32L0's data EEPROM (sim/devices/stm32l0_flash.py) programmed as STM32CubeL0's
HAL_FLASHEx_DATAEEPROM functions do it: unlocked by PEKEYR's keys, each store busy for
t_prog, refused while locked, its data kept through a reset of the part."""

from collections.abc import Callable
from typing import cast

from helpers import FakeDeviceHost

from sim.devices.stm32l0_flash import PECR, PEKEYR, PEKEYS, SR, Stm32l0Eeprom, Stm32l0Flash
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")


def eeprom(firmware, case: str):
    return irq_program(firmware, "eeprom.c", "stm32l031", **{f"CASE_{case}": None})


def test_unlocked_stores_program_it_each_busy_for_t_prog(firmware, cli):
    """A word, a halfword and a byte, each waited for: 3 x 3.2 ms (TIM21 at 1 MHz counts
    9,600 us and the few of the code between), read back after PELOCK is set again. The core,
    running from flash, stalls while each is programmed (its fetches wait): its BSY loops do
    not spin (154,511 instructions in all when it ran on, polling)."""
    result = cli("run", eeprom(firmware, "program"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["instructions"] < 2_000
    words = result.report["stdout"].split()
    assert words[1:4] == ["cafef00d", "0000beef", "0000005a"]
    assert 9_600 <= int(words[5]) < 9_700
    assert int(words[6], 16) & 7 == 7  # PELOCK set again (PRGLOCK, OPTLOCK never cleared)
    assert result.report["unmodelled_registers"] == []


def test_a_store_while_locked_is_not_done(firmware, cli):
    result = cli("run", eeprom(firmware, "locked"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "data 00000000 sr 0000010c\n"  # WRPERR, ENDHV, READY
    assert any("PELOCK" in warning for warning in result.report["warnings"])


def test_a_wrong_key_locks_until_the_next_reset(firmware, cli):
    result = cli("run", eeprom(firmware, "wrong_key"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "pecr 00000007\n"
    assert any("PEKEYR" in warning for warning in result.report["warnings"])


def test_its_data_lives_through_a_reset_of_the_part(firmware, cli):
    """A boot counter: 1, 2 (each followed by NVIC_SystemReset), 3."""
    result = cli("run", eeprom(firmware, "boots"), "--allow-resets", "2", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"].endswith("boots 3\n")


def test_semihosting_reads_a_string_from_it(firmware, cli):
    result = cli("run", eeprom(firmware, "printed"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "hi\n"


def test_the_end_of_programming_interrupt(firmware, cli):
    """The stall ends with EOP's interrupt pending: it is taken before the code after the
    store looks, which never sleeps (no WFI)."""
    result = cli("run", eeprom(firmware, "irq"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "eop 2\n"
    assert result.report["exceptions"]["taken"]["IRQ3"] == 2
    assert result.report["sleep_cycles"] == 0


class FlashHost(FakeDeviceHost):
    def __init__(self) -> None:
        super().__init__()
        self.flash = Stm32l0Flash(self)  # type: ignore[arg-type]
        self.eeprom = Stm32l0Eeprom(self)  # type: ignore[arg-type]
        self.flash.reset()
        self.eeprom.reset()

    def device(self, name: str):  # type: ignore[override]
        return self.flash if name == "stm32l0_flash" else None


def test_stores_during_programming_wait_their_turn_and_pecr_while_locked():
    """Two stores back to back: busy for 2 x t_prog (102,400 cycles each at 32 MHz); PECR's
    bits other than the locks are written only while PELOCK is clear; SR's EOP is rc_w1."""
    host = FlashHost()
    flash, eeprom = host.flash, host.eeprom
    flash.write(PECR, 4, 1 << 16)  # EOPIE while locked: not taken
    assert flash.read(PECR, 4) == 7
    for key in PEKEYS:
        flash.write(PEKEYR, 4, key)
    assert flash.read(PECR, 4) == 6 and flash.read(SR, 4) == 0xC  # ENDHV, READY
    host.exceptions.now = 100
    eeprom.write(0, 4, 0x11111111)
    eeprom.write(4, 2, 0x2222)
    assert host.exceptions.due == 100 + 2 * 102_400
    host.exceptions.now = 100 + 102_400
    assert flash.read(SR, 4) == 0x9  # BSY, READY
    host.exceptions.now = 100 + 2 * 102_400
    cast(Callable[[], None], host.exceptions.action)()
    assert flash.read(SR, 4) == 0xE  # EOP, ENDHV, READY
    flash.write(SR, 4, 0x2)
    assert flash.read(SR, 4) == 0xC
    assert eeprom.read(0, 4) == 0x11111111 and eeprom.read(4, 4) == 0x2222
    assert host.listed == []

"""The STM32L0's reset and clock control and its peripheral buses (sim/devices/stm32l0.py),
register by register; tests/test_vendor_map.py runs a clock set-up on them."""

import pytest
from helpers import FakeDeviceHost

from sim import devices
from sim.devices.stm32l0 import CFGR, CIFR, CR, CSR, ICSCR, Stm32l0Ahb, Stm32l0Rcc
from tests.test_exceptions import irq_program


def rcc() -> tuple[Stm32l0Rcc, FakeDeviceHost]:
    host = FakeDeviceHost()
    dev = Stm32l0Rcc(host)  # type: ignore[arg-type]
    dev.reset()
    return dev, host


def test_an_oscillator_is_ready_once_on_and_not_after():
    dev, _ = rcc()
    assert dev.read(CR, 4) == 0x300  # reset: MSI on and ready
    dev.write(CR, 4, dev.read(CR, 4) | 1 | 1 << 24 | 1 << 16)  # HSI16, PLL (from HSI16), HSE
    assert dev.read(CR, 4) == 0x300 | 0b101 | 0b11 << 24 | 0b11 << 16
    dev.write(CR, 4, 1 << 9)  # a ready flag alone: flags are read-only; MSI runs the core
    assert dev.read(CR, 4) == 0x300
    dev.write(CR + 3, 1, 1)  # a byte store to bits 24-31: PLLON, its input (HSI16) off
    assert dev.read(CR, 4) == 0x300 | 1 << 24 and dev.read(CR + 3, 1) == 1
    dev.write(CR, 4, 0xFFFF_FFFF)  # reserved bits read 0
    assert dev.read(CR, 4) == 0x013D_012B | 0x0222_0214


def test_the_pll_locks_only_on_a_running_input():
    """Forgetting HSE before a PLL fed from it times out on the chip: here too."""
    dev, _ = rcc()
    dev.write(CFGR, 4, 1 << 16)  # PLLSRC: HSE, which is off
    dev.write(CR, 4, dev.read(CR, 4) | 1 << 24)
    assert dev.read(CR, 4) & 1 << 25 == 0
    dev.write(CR, 4, dev.read(CR, 4) | 1 << 16)  # HSE on: the PLL locks
    assert dev.read(CR, 4) & 0b11 << 24 == 0b11 << 24


def test_the_clock_switches_once_its_source_is_ready():
    dev, _ = rcc()
    dev.write(CFGR, 4, 3 | 0xC << 18)  # SW: PLL (off); PLLMUL kept
    assert dev.read(CFGR, 4) == 3 | 0xC << 18  # SWS still MSI
    dev.write(CR, 4, dev.read(CR, 4) | 1)  # HSI16 on: the PLL's input, the PLL still off
    assert (dev.read(CFGR, 4) >> 2) & 3 == 0
    dev.write(CR, 4, dev.read(CR, 4) | 1 << 24)  # PLL on: the switch happens now (RM0377)
    assert (dev.read(CFGR, 4) >> 2) & 3 == 3
    dev.write(CR, 4, 0)  # the PLL and its input run the core: only MSI goes off
    assert dev.read(CR, 4) == 0b101 | 0b11 << 24
    dev.write(CFGR, 4, 0xC | 0xC << 18)  # SW: MSI, which is off now; SWS is read-only
    assert dev.read(CFGR, 4) == 0xC | 0xC << 18
    dev.write(CR, 4, dev.read(CR, 4) | 1 << 8)  # MSI on again: the switch back is made
    assert dev.read(CFGR, 4) == 0xC << 18
    dev.write(CR, 4, 1 << 8)  # off the PLL, PLL and HSI16 may go off
    assert dev.read(CR, 4) == 0x300


def test_pll_settings_written_while_it_runs_are_ignored_and_listed():
    """RM0377: PLLSRC, PLLMUL and PLLDIV are written only while the PLL is off. A PLLMUL x 8
    written under a running PLL would double the core's clock; the chip's behaviour is not
    defined: the write keeps the old settings and is listed."""
    dev, host = rcc()
    dev.write(CR, 4, dev.read(CR, 4) | 1)
    dev.write(CFGR, 4, 1 << 18 | 1 << 22)  # x 4 / 2, the PLL off: taken
    dev.write(CR, 4, dev.read(CR, 4) | 1 << 24)
    dev.write(CFGR, 4, 3 | 3 << 18 | 1 << 22)  # SW: PLL, and x 8 while it runs
    assert dev.read(CFGR, 4) & ~0xC == 3 | 1 << 18 | 1 << 22 and (dev.read(CFGR, 4) >> 2) & 3 == 3
    assert host.listed == [("stm32l0_rcc", CFGR, 4, 3 | 3 << 18 | 1 << 22)]
    dev.write(CFGR, 4, 1 << 18 | 1 << 22)  # SW: MSI, the settings unchanged: not listed
    assert len(host.listed) == 1


def test_reset_flags_read_a_power_on_reset_until_rmvf():
    dev, _ = rcc()
    assert dev.read(CSR, 4) == 0x0C00_0000
    dev.write(CSR, 4, dev.read(CSR, 4) | 1 | 1 << 8)  # LSI, LSE on
    assert dev.read(CSR, 4) == 0x0C00_0000 | 0b11 | 0b11 << 8
    dev.write(CSR, 4, 0xFF00_0000)  # the flags cannot be set
    assert dev.read(CSR, 4) == 0x0C00_0000
    dev.write(CSR, 4, 1 << 23)  # RMVF: cleared, and RMVF reads 0; LSI and LSE now off
    assert dev.read(CSR, 4) == 0


def test_storage_registers_read_back_and_reserved_ones_read_0():
    dev, host = rcc()
    assert dev.read(ICSCR, 4) == 0xB000
    dev.write(ICSCR, 4, 0xFFFF_FFFF)  # HSI16CAL and MSICAL are read-only
    assert dev.read(ICSCR, 4) == 0xFF00_FF00
    dev.write(0x2C, 4, 0x81)  # IOPENR
    dev.write(CIFR, 4, 0xFF)  # read-only
    assert dev.read(0x2C, 4) == 0x81 and dev.read(CIFR, 4) == 0
    # RM0377's reset values: MIFEN; the sleep-mode enables
    assert [dev.read(off, 4) for off in (0x30, 0x3C, 0x40, 0x44, 0x48)] == [
        0x100, 0x8F, 0x0111_1301, 0x0040_5225, 0xB8E6_4A11]
    for reserved in (0x08, 0x60):  # CRRCR's (no HSI48 on the L0x1), past CSR
        dev.write(reserved, 2, 0x1234)
        assert dev.read(reserved, 4) == 0
    assert host.listed == []  # every offset of the RCC is modelled


def test_a_bus_reads_back_by_byte_and_lists_every_access():
    host = FakeDeviceHost()
    bus = Stm32l0Ahb(host)  # type: ignore[arg-type]
    bus.reset()
    bus.write(0x2000, 4, 0x11223344)
    bus.write(0x2001, 1, 0xAA)
    assert bus.read(0x2000, 4) == 0x1122AA44 and bus.read(0x2002, 2) == 0x1122
    assert len(host.listed) == 4 and host.listed[1] == ("stm32l0_ahb", 0x2001, 1, 0xAA)


@pytest.mark.parametrize("names, expected", [
    # the AHB bus around the RCC: below it and above it
    (("stm32l0_ahb", "stm32l0_rcc"), [(0x4002_0000, 0x1000), (0x4002_1400, 0x5000)]),
    # APB1 around the CMSDK timers and UART of the mps2 map
    (("stm32l0_apb1", "cmsdk_timer0", "cmsdk_timer1", "cmsdk_uart"),
     [(0x4000_2000, 0x2000), (0x4000_5000, 0x3000)]),
    (("stm32l0_ioport", "cmsdk_uart"), [(0x5000_0000, 0x2000)]),  # nothing in the way
])
def test_a_bus_is_mapped_around_the_other_devices(names, expected):
    made = devices.create(names, None)  # type: ignore[arg-type]
    assert devices.windows(made[0], made) == expected
    for other in made[1:]:  # foreground devices whole
        assert devices.windows(other, made) == [(other.base, other.size)]


def test_the_parts_devices_are_the_stm32l031s_only():
    from toolchain.profiles import TARGETS

    for target in TARGETS.values():
        has = {n for n in target.devices if n.startswith("stm32l0")}
        assert has == (set() if target.name != "stm32l031" else {
            "stm32l0_rcc", "stm32l0_usart2", "stm32l0_lpuart1", "stm32l0_tim2", "stm32l0_tim21",
            "stm32l0_tim22", "stm32l0_lptim1", "stm32l0_pwr", "stm32l0_exti", "stm32l0_rtc",
            "stm32l0_adc", "stm32l0_factory", "stm32l0_flash", "stm32l0_gpioa", "stm32l0_gpiob",
            "stm32l0_gpioc", "stm32l0_gpioh", "stm32l0_syscfg", "stm32l0_i2c1", "stm32l0_spi1",
            "stm32l0_iwdg", "stm32l0_dma", "stm32l0_wwdg", "stm32l0_crc", "stm32l0_eeprom",
            "stm32l0_dbgmcu", "stm32l0_apb1", "stm32l0_apb2", "stm32l0_ahb", "stm32l0_ioport"})


def test_the_debug_component_tells_the_parts_identity(firmware, cli):
    """HAL_GetDEVID: 0x425 (STM32L031/L041), HAL_GetREVID: 0x2008 (revision Y); IDCODE is
    read-only; CR reads back DBG_STOP, listed: its debug effect is not modelled."""
    elf = irq_program(firmware, "dbgmcu.c", "stm32l031")
    result = cli("run", elf)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "dev 00000425 rev 00002008 cr 00000002\n"
    listed = result.report["unmodelled_registers"]
    assert len(listed) == 1 and listed[0].startswith(
        "stm32l0_dbgmcu+0x004 (0x40015804) write, debug support"), listed

"""The STM32L0's ADC and factory data (sim/devices/stm32l0_adc.py, stm32l0_factory.py) on the
stm32l031 profile: a vendor HAL's calibration, enable and conversions (polled, scanned,
interrupt-driven, overrun), the supply and temperature its formulas compute from the factory
calibration values, and what is not there (a pin's voltage, the HSI16 left off, a write to
system memory), from tests/programs/irq/adc.c."""

import pytest

from sim.devices.stm32l0_factory import TS_CAL1, VREFINT_CAL
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")  # a regression fails, not hangs


def adc(firmware, case: str, **defines):
    return irq_program(firmware, "adc.c", "stm32l031", **{f"CASE_{case}": 1}, **defines)


def listed(report) -> list[str]:
    return [r for r in report["unmodelled_registers"] if "stm32l0_adc" in r]


def test_the_supply_and_temperature_the_hal_computes(firmware, cli):
    """VREFINT reads its calibration value and the sensor TS_CAL1: VDDA 3.0 V, 30 degrees C,
    through the HAL's formulas and the calibration values in system memory."""
    result = cli("run", adc(firmware, "supply"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "vdda mV 3000\ntemp C 30\n"


@pytest.mark.parametrize("defines, values", [
    ({}, [0, VREFINT_CAL, TS_CAL1]),  # upwards, 12 bits right-aligned
    ({"DOWN": None, "RES8": None}, [(TS_CAL1 >> 4) << 8, (VREFINT_CAL >> 4) << 8, 0]),
])
def test_a_scan_converts_the_channels_in_order(firmware, cli, defines, values):
    result = cli("run", adc(firmware, "scan", **defines), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert result.report["stdout"] == "".join(f"dr {v}\n" for v in values)
    # the pin's result, read: listed with why
    assert listed(result.report) == ["stm32l0_adc+0x040 (0x40012440) read, channel 0: a pin's "
                                     "voltage is not modelled, 0 V: 1"]


def test_continuous_conversions_interrupt_a_sleeping_core(firmware, cli):
    """EOCIE, IRQ 12: 20 conversions of 160.5 + 12.5 cycles of PCLK / 2 (346 core cycles)."""
    result = cli("run", adc(firmware, "irq", CONVERSIONS=20), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    assert report["stdout"] == "conversions 20\n"
    assert report["exceptions"]["taken"] == {"IRQ12": 20}
    assert report["sleep_cycles"] > 15 * 346 - report["cycles"]
    assert 20 * 346 < report["cycles"] + report["sleep_cycles"] < 20 * 346 + 1_500


def test_an_unread_result_is_an_overrun(firmware, cli):
    result = cli("run", adc(firmware, "overrun"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]


def test_without_its_clock_the_calibration_never_ends(firmware, cli):
    """CKMODE 0 takes the HSI16, off: the firmware's wait for ADCAL gives up; every read of
    CR meanwhile says why, and without the firmware's own timeout the polling hint does."""
    result = cli("run", adc(firmware, "hsi_off"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert listed(result.report) == [
        "stm32l0_adc+0x008 (0x40012408) read, its clock, the HSI16 (ADC_CFGR2.CKMODE 0), is "
        "off (RCC CR HSI16ON): 20000"]
    hung = cli("run", adc(firmware, "hsi_off", TRIES=0), "--max-instructions", "100000")
    assert hung.returncode == 5
    assert "polling stm32l0_adc+0x008 (0x40012408)" in hung.report["fault"]["message"]


def test_the_factory_data_reads_and_refuses_writes(firmware, cli):
    result = cli("run", adc(firmware, "info"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "flash KiB 32\nvrefint_cal 1671\nts_cal1 677\nts_cal2 897\n"
    fault = cli("run", adc(firmware, "info_write"), *LIMIT)
    assert fault.returncode == 4
    assert fault.report["fault"]["kind"] == "bus_fault"
    assert "0x1ff80050: the factory data in system memory is read-only" in (
        fault.report["fault"]["message"])

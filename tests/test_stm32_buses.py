"""The STM32F746's and STM32L552's buses (sim/devices/stm32_buses.py): vendor clock set-up
code runs. Their RCC was unmapped: a CMSIS SystemInit stopped at its first access with an
unmapped_read (s53 firmware review M2)."""

import pytest

import sim


@pytest.mark.parametrize("target", ["stm32f746", "stm32l552"])
def test_a_vendor_clock_set_up_runs(firmware, target):
    defines = {"F7": None} if target == "stm32f746" else None
    image = sim.load_elf(firmware("stm32_clock.c", target=target, defines=defines))
    report = sim.Simulator(image, sim.RunOptions(max_instructions=100_000)).run()
    assert (report.status, report.exit_code, report.stdout) == ("ok", 0, "clock set-up done\n"), (
        report.problem, report.stdout)
    rcc = "stm32f7_rcc+0x000 (0x40023800)" if defines else "stm32l5_rcc+0x000 (0x40021000)"
    assert any(u.startswith(f"{rcc} read, its ready flags follow") for u in report.unmodelled)


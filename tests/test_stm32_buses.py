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



@pytest.mark.parametrize(("target", "keep", "stdout"), [
    # F7 (RM0385): PORRSTF, PINRSTF, BORRSTF at power-on; L5 (RM0438): PINRSTF, BORRSTF
    ("stm32f746", False, "power-on 14\ncleared 0\nafter the reset 20\n"),
    ("stm32l552", False, "power-on 12\ncleared 0\nafter the reset 20\n"),
    # without RMVF the power-on flags stay, SFTRSTF and PINRSTF added
    ("stm32f746", True, "power-on 14\nafter the reset 30\n"),
    ("stm32l552", True, "power-on 12\nafter the reset 28\n"),
])
def test_a_software_reset_sets_sftrstf_and_keeps_the_flags_and_the_backup_domain(
        firmware, cli, target, keep, stdout):
    """SYSRESETREQ sets RCC_CSR.SFTRSTF (bit 28, with PINRSTF: the internal reset drives NRST)
    and keeps the flags before it, which only RMVF (F7 bit 24, L5 bit 23) or a power-on
    clear, and BDCR (the backup domain). The reset put CSR back to its power-on value and
    cleared BDCR; RMVF was taken at bit 24 on the L5 too."""
    defines = ({"F7": None} if target == "stm32f746" else {}) | ({"KEEP": None} if keep else {})
    elf = firmware("stm32_reset_flags.c", target=target, defines=defines or None)
    result = cli("run", elf, "--allow-resets", "1")
    assert result.returncode == 0, result
    assert result.report["stdout"] == stdout + "LSE kept\n"
    assert [r["cause"] for r in result.report["resets"]] == ["software"]

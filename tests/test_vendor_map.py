"""Firmware linked by a vendor's linker script for an STM32: flash at 0x08000000, the part
booting through its alias at 0 (tests/programs/vendor_map). The STM32 target profiles run it
where it was linked; other profiles refuse it in one line naming the ones that can."""

import subprocess
from pathlib import Path

import pytest
from helpers import PROGRAMS, assert_single_error_line

VENDOR = PROGRAMS / "vendor_map"


def vendor_elf(out: Path, cpu: str, *defines: str) -> Path:
    elf = out / f"vendor-{cpu}{''.join(defines)}.elf"
    subprocess.run(["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-O2", "-ffreestanding",
                    "-nostdlib", "-Wall", "-Wextra", "-Werror", *defines,
                    "-T", str(VENDOR / "vendor_map.ld"), str(VENDOR / "vendor_map.c"),
                    "-o", str(elf)], check=True, capture_output=True, text=True)
    return elf


@pytest.mark.parametrize("target, cpu", [("stm32l031", "cortex-m0plus"),
                                         ("stm32f746", "cortex-m7"),
                                         ("stm32l552", "cortex-m33")])
def test_an_stm32_vendor_layout_runs_where_it_was_linked(cli, tmp_path, target, cpu):
    """.data copied from flash at 0x0800xxxx, the reset vector read back through the alias at
    0 with VTOR at its reset value 0, and SysTick's vector fetched through it three times."""
    elf = vendor_elf(tmp_path, cpu)
    res = cli("run", elf, "--target", target)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "vendor ok\n"
    report = res.report
    assert report is not None and report["exit_code"] == 0
    assert report["exceptions"]["taken"] == {"SysTick": 3}
    text, data, bss = map(int, subprocess.run(["arm-none-eabi-size", str(elf)], check=True,
                                              capture_output=True, text=True
                                              ).stdout.splitlines()[1].split()[:3])
    assert report["flash"]["used"] == text + data  # vectors and code, and .data's image
    assert report["sram"]["static"] == data + bss == 8  # .data copied to SRAM, and .bss

    profile = cli("profile", elf, "--target", target, json=False)
    assert profile.returncode == 0, profile.stderr
    assert "SysTick_Handler" in profile.stdout and "Reset_Handler" in profile.stdout


def test_code_run_from_the_boot_alias_is_a_fault_that_says_so(cli, tmp_path):
    """The alias at 0 is mapped for reads (vector fetches): code there would be counted as
    code outside flash, so a jump into it stops with a fault naming the alias."""
    res = cli("run", vendor_elf(tmp_path, "cortex-m0plus", "-DRUN_FROM_ALIAS"), "--target",
              "stm32l031")
    assert res.returncode == 4, res.stderr
    fault = res.report["fault"]
    assert fault["kind"] == "unmapped_fetch" and fault["pc"] < 0x400
    assert "the boot alias of flash at 0x08000000" in fault["message"]


def test_a_part_whose_flash_is_at_0_names_those_that_run_it(cli, tmp_path):
    line = assert_single_error_line(cli("run", vendor_elf(tmp_path, "cortex-m4"), "--target",
                                        "nrf52832", json=False))
    assert "load segment at 0x08000000" in line and "outside the memory map" in line
    assert "(--target stm32l031, stm32f746, stm32l552)" in line

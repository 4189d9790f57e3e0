"""Firmware linked by a vendor's linker script for an STM32L0: flash at 0x08000000, the part
booting through its alias at 0 (tests/programs/vendor_map). The stm32l031 profile runs it
where it was linked, the STM32F7 and L5 profiles too, each booting as its part does; a
profile whose flash is at 0 refuses it in one line naming those that run it."""

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


def test_an_stm32_vendor_layout_runs_where_it_was_linked(cli, tmp_path):
    """.data copied from flash at 0x0800xxxx, the reset vector read back through the alias at
    0 with VTOR at its reset value 0, and SysTick's vector fetched through it three times."""
    target = "stm32l031"
    elf = vendor_elf(tmp_path, "cortex-m0plus")
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


def test_a_vendor_clock_set_up_runs_on_the_parts_rcc(cli, tmp_path):
    """A vendor SystemInit's RCC writes (CRRCR's reserved offset too), then HSI16, the PLL
    and the switch to it, LSI, the reset flags: each step waits for the flag the chip sets, and
    the firmware checks the RCC's answers (a switch to HSE, which is off, is not made; MSI
    switched off is no longer ready; HSI16, the PLL's input, stays on); then it prints through
    USART2, as on a Nucleo board. Every register it touches is modelled: the RCC's, PWR's (its
    clock enabled first, as a vendor's SystemClock_Config does), the flash interface's ACR,
    GPIOA's (PA5 set, read back, traced) and USART2's, so --strict-peripherals runs it too;
    before, the first RCC access was an unmapped_read fault, and GPIOA's were listed. The
    core's clock follows: MSI from SystemInit's CFGR write, a wait state from the FLASH_ACR
    write, 32 MHz from the switch to the PLL."""
    elf = vendor_elf(tmp_path, "cortex-m0plus", "-DCLOCK_SETUP")
    limit = ("--max-instructions", "1000000")  # a flag never set fails the test, not hangs it
    res = cli("run", elf, "--target", "stm32l031", *limit)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "usart2: clock set up\nvendor ok\n" and res.report["exit_code"] == 0
    assert res.report["unmodelled_registers"] == []
    assert res.report["pins"]["PA5"]["level"] == 1
    clocks = [(c["hz"], c["wait_states"], c["source"]) for c in res.report["clocks"]]
    assert clocks == [(2_097_152, 0, "MSI range 5"), (2_097_152, 1, "MSI range 5"),
                      (32_000_000, 1, "PLL: HSI16 x 4 / 2")]

    strict = cli("run", elf, "--target", "stm32l031", "--strict-peripherals", *limit)
    assert strict.returncode == 0, strict.stderr


@pytest.mark.parametrize("vector", [False, True])
def test_code_run_from_the_boot_alias_is_a_fault_that_says_so(cli, tmp_path, vector):
    """The alias at 0 is mapped for reads (vector fetches): code there would be counted as
    code outside flash, so a jump into it stops with a fault naming the alias. The chip would
    run that code, so --vector-faults does not hand it to the firmware's HardFault handler."""
    res = cli("run", vendor_elf(tmp_path, "cortex-m0plus", "-DRUN_FROM_ALIAS"), "--target",
              "stm32l031", *(["--vector-faults"] if vector else []))
    assert res.returncode == 4, res.stderr
    fault = res.report["fault"]
    assert fault["kind"] == "unmapped_fetch" and fault["pc"] < 0x400
    assert "the boot alias of flash at 0x08000000" in fault["message"]
    assert res.report["exceptions"]["taken"] == {}


def test_an_exception_past_the_table_through_the_alias_is_a_missing_vector(cli, tmp_path):
    """VTOR 0 reads the table at 0x08000000 through the alias: IRQ0, past its 16 entries, is
    the missing_vector fault a 0-linked image gets, not a jump to the word after the table."""
    res = cli("run", vendor_elf(tmp_path, "cortex-m0plus", "-DIRQ_PAST_TABLE"), "--target",
              "stm32l031")
    assert res.returncode == 4, res.stderr
    fault = res.report["fault"]
    assert fault["kind"] == "missing_vector" and "g_pfnVectors, 16 entries at 0x08000000" in (
        fault["message"])


def test_the_boot_alias_is_no_larger_than_the_address_of_flash(cli, tmp_path):
    """--flash of 256 MiB: flash at 0x08000000 runs past 0x10000000, its alias at 0 stops
    where flash starts (mapping both whole overlapped: a Unicorn traceback)."""
    res = cli("run", vendor_elf(tmp_path, "cortex-m0plus"), "--target", "stm32l031",
              "--flash", "256M")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr


@pytest.mark.parametrize("target, cpu, boot", [("stm32f746", "cortex-m7", 0x00200000),
                                               ("stm32l552", "cortex-m33", 0x08000000)])
def test_other_stm32s_boot_it_as_they_do(cli, tmp_path, target, cpu, boot):
    """The F7 boots from its ITCM flash address 0x00200000 (BOOT_ADD0's default), the L5
    without TrustZone from the flash address itself (NSBOOTADD0): VTOR's reset value, where
    the reset vector is read and SysTick's vector fetched. Both refused such an image before
    (s52 integration review MEDIUM-5: a CubeMX project could not run on its own part)."""
    res = cli("run", vendor_elf(tmp_path, cpu, f"-DBOOT={boot:#x}u"), "--target", target)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "vendor ok\n"
    assert res.report["exceptions"]["taken"] == {"SysTick": 3}


def test_a_part_whose_flash_is_at_0_refuses_it_naming_those_that_run_it(cli, tmp_path):
    """nRF52 flash is at 0: an image linked at 0x08000000 is for another part."""
    line = assert_single_error_line(cli("run", vendor_elf(tmp_path, "cortex-m4"), "--target",
                                        "nrf52832", json=False))
    assert "load segment at 0x08000000" in line and "outside the memory map" in line
    assert line.endswith("(--target stm32l031, stm32f746, stm32l552)")


def test_an_image_not_starting_at_the_flash_gets_no_hint(cli, tmp_path):
    """Linked after a bootloader (0x08004000): no part here runs it as it is."""
    elf = tmp_path / "offset.elf"
    ld = (VENDOR / "vendor_map.ld").read_text().replace("ORIGIN = 0x08000000",
                                                        "ORIGIN = 0x08004000")
    (tmp_path / "offset.ld").write_text(ld)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m0plus", "-mthumb", "-O2",
                    "-ffreestanding", "-nostdlib", "-T", str(tmp_path / "offset.ld"),
                    str(VENDOR / "vendor_map.c"), "-o", str(elf)], check=True)
    line = assert_single_error_line(cli("run", elf, "--target", "stm32l031", json=False))
    assert "load segment at 0x08004000" in line and "--target" not in line


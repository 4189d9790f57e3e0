"""Every target profile builds and runs firmware, FPU targets included."""

import subprocess

import pytest

import sim
from toolchain.profiles import TARGETS


@pytest.mark.parametrize("target", list(TARGETS))
def test_hello_on_every_target(firmware, cli, target):
    profile = TARGETS[target]
    result = cli("run", firmware("hello.c", target=target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello, world\n"
    report = result.report
    assert (report["status"], report["exit_code"], report["fault"]) == ("ok", 0, None)
    assert (report["target"], report["core"], report["clock_hz"]) == (
        target, profile.core, profile.clock_hz)
    assert report["sram"]["size"] == profile.sram
    assert report["flash"]["size"] == profile.flash
    assert report["flash_wait_states"] == profile.flash_wait_states


@pytest.mark.parametrize("target", list(TARGETS))
def test_float_arithmetic_on_every_target(firmware, target):
    # FPU targets build float.c with -mfloat-abi=hard: real VFP instructions, which run only
    # after Reset_Handler has enabled CP10/CP11. The others call libgcc's soft-float routines.
    elf = firmware("float.c", target=target)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True,
                                 text=True, check=True).stdout
    uses_fpu = "vmul.f32" in disassembly and "vdiv.f32" in disassembly
    assert uses_fpu == (TARGETS[target].fpu is not None)
    assert ("__aeabi_fmul" in disassembly) == (not uses_fpu)
    report = sim.run(sim.load_elf(elf))
    assert (report.status, report.exit_code) == ("ok", 0)
    assert report.stdout == "z*1000 = 10000\n"


@pytest.mark.parametrize("target", list(TARGETS))
def test_stack_program_on_every_target(firmware, target):
    # stack.S uses only v6-M instructions: the same 84-byte peak and 9 instructions everywhere.
    report = sim.run(firmware.image("stack.S", runtime=False, target=target))
    assert (report.status, report.stack_peak, report.instructions) == ("ok", 84, 9)


def test_soft_float_on_an_fpu_part_builds_a_working_soft_float_image(tmp_path):
    """-mfloat-abi=soft on an FPU profile builds for that part without its FPU (appended after
    the profile's hard-float flags, gcc would link a C library for another architecture)."""
    from helpers import PROGRAMS

    from toolchain.build import build

    elf = tmp_path / "soft.elf"
    build([PROGRAMS / "float.c"], elf, "nrf52832", extra_cflags=["-mfloat-abi=soft"])
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True,
                                 text=True, check=True).stdout
    assert "__aeabi_fmul" in disassembly and "vmul.f32" not in disassembly
    report = sim.run(sim.load_elf(elf))
    assert (report.status, report.exit_code, report.target) == ("ok", 0, "nrf52832")
    assert report.stdout == "z*1000 = 10000\n"


@pytest.mark.parametrize(("target", "base", "freeze", "idcode"), [
    ("stm32f746", 0xE004_2000, 0x08, 0x1001_0449), ("stm32l552", 0xE004_4000, 0x08, 0x2000_0472)])
def test_the_f7_and_l5_debug_component_names_the_part(firmware, target, base, freeze, idcode):
    """HAL_GetDEVID and the HAL's DBGMCU freeze macros faulted on the F7 and L5, whose DBGMCU
    lies in the private peripheral bus (s55 firmware review L8)."""
    elf = firmware("dbgmcu.c", target=target, defines={
        "DBGMCU": f"0x{base:08x}u", "FREEZE": str(freeze), "DEV": str(idcode & 0xFFF)})
    report = sim.run(sim.load_elf(elf))
    assert (report.status, report.exit_code) == ("ok", 0), (report.problem, report.stdout)
    assert report.stdout == f"idcode {idcode:08x} freeze 00001000\n"

"""The CPU state an exception entry and return change besides the frame's registers, which
the simulator's own entry and return must carry out on Unicorn's state: the local exclusive
monitor is cleared at every entry and return, as ARMv7-M and ARMv8-M do (sim/exclusive.py),
so a STREX after an exception fails, lock-free code retries and an interrupted atomic
read-modify-write loses no update; the frame's APSR.GE come back at the return. QEMU's mps2
boards agree."""

import numpy as np
import pytest

import sim
from sim.exclusive import holds_exclusive
from tests.test_exceptions import irq_program
from tests.test_qemu import BOARDS, run_qemu

OUTPUT = "no exception: 0, PendSV between: 1\nno update lost\n"


@pytest.mark.parametrize("target", ["curie", "nrf52832", "stm32f746", "stm32l552"])
def test_an_exception_between_ldrex_and_strex_makes_the_store_fail(firmware, target):
    report = sim.run(sim.load_elf(irq_program(firmware, "exclusive.c", target)))
    assert (report.status, report.exit_code) == ("ok", 0), (report.problem, report.stdout)
    assert report.stdout == OUTPUT
    assert report.exceptions["SysTick"] > 100


@pytest.mark.parametrize("target", ["curie", "stm32l552"])
def test_the_monitor_is_cleared_by_the_python_exception_model_too(firmware, target):
    """Entries and returns the native fast path leaves to Python (a profiler records them)."""
    elf = irq_program(firmware, "exclusive.c", target, ROUNDS=300)
    reference = sim.Simulator(sim.load_elf(elf))
    reference.exceptions.trace = []
    report = reference.run()
    assert (report.status, report.exit_code) == ("ok", 0), (report.problem, report.stdout)
    assert report.stdout == OUTPUT


def test_qemu_agrees(firmware, tmp_path):
    elf = irq_program(firmware, "exclusive.c", "curie", ROUNDS=300)
    assert "curie" in BOARDS
    qemu = run_qemu(elf, "curie", tmp_path / "trace.log")
    assert qemu.console.startswith("no exception: 0, PendSV between: 1\n")
    qemu = run_qemu(irq_program(firmware, "ge.c", "nrf52832"), "nrf52832", tmp_path / "ge.log")
    assert qemu.console == "ge 15 15\n"


def test_only_images_with_a_load_exclusive_pay_for_it():
    def image(*halfwords: int) -> np.ndarray:
        return np.frombuffer(np.array(halfwords, "<u2").tobytes(), np.uint8)

    assert holds_exclusive(image(0xBF00, 0xE851, 0x0F00))  # ldrex r0, [r1]
    assert holds_exclusive(image(0xE8D1, 0x0F4F))  # ldrexb r0, [r1]
    assert not holds_exclusive(image(0xE8DF, 0xF000))  # tbb [pc, r0]: a switch's table
    assert not holds_exclusive(image(0xBF00, 0x4770))


@pytest.mark.parametrize("target", ["nrf52832", "stm32f746", "stm32l552"])
@pytest.mark.parametrize("native", [True, False])
def test_an_exception_return_restores_the_ge_flags(firmware, target, native):
    """APSR.GE[3:0] come back from the frame at return (Unicorn's XPSR write left them as the
    handler had them: s55 firmware review M5); QEMU's mps2-an386/an500 print the same."""
    s = sim.Simulator(sim.load_elf(irq_program(firmware, "ge.c", target)))
    if not native:
        s.exceptions.trace = []  # entry and return in Python
    report = s.run()
    assert (report.status, report.exit_code, report.stdout) == ("ok", 0, "ge 15 15\n"), (
        report.problem, report.stdout)


def test_a_load_exclusive_in_code_loaded_into_sram_is_found(tmp_path):
    """The scan for load-exclusives covered flash only: a .ramcode section the ELF loads
    straight into SRAM kept the monitor set across a PendSV (s55 review LOW-1; QEMU: 1)."""
    import subprocess
    from pathlib import Path

    programs = Path(__file__).parent / "programs" / "ramcode"
    elf = tmp_path / "ramcode.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-O1", "-nostdlib",
                    "-nostartfiles", "-T", str(programs / "ramcode.ld"),
                    str(programs / "exclusive.c"), "-o", str(elf)], check=True,
                   capture_output=True)
    image = sim.load_elf(elf)
    s = sim.Simulator(image)
    report = s.run()
    assert (report.status, report.exceptions) == ("ok", {"PendSV": 1}), report.problem
    result = int.from_bytes(bytes(s.uc.mem_read(image.symbols["result"], 4)), "little")
    assert result == 1

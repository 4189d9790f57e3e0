"""The interrupt programs under QEMU's MPS2 boards (AN385 Cortex-M3, AN386 Cortex-M4, AN500
Cortex-M7): the same console output, and the same instruction count where the program's path
does not depend on timing. QEMU single-steps (test_qemu.run_qemu), so it takes a pended
interrupt after the very store that pends it, where the simulator takes it at the end of the
block; both execute the same instructions, in a different order. ``-icount`` makes QEMU's
time (SysTick) follow the instruction count instead of the host's clock, and ``sleep=off``
lets WFI skip ahead to the next timer, as the simulator does."""

import shutil
import subprocess
from pathlib import Path

import pytest
from test_exceptions import BASEPRI, NVIC_OUTPUT, THREADS_OUTPUT, irq_program
from test_qemu import BOARDS, QEMU, TRACE, QemuRun
from test_qemu import run_qemu as run_qemu_realtime

import sim


def run_qemu(elf: Path, target: str, log: Path) -> QemuRun:
    """test_qemu.run_qemu with virtual time from the instruction count. (Its trace repeats
    an instruction that accesses a device: -icount re-executes it, so count with
    ``run_qemu_realtime`` where timing does not matter.)"""
    assert shutil.which(QEMU), f"{QEMU} is required for the cross-check (apt: qemu-system-arm)"
    proc = subprocess.run(
        [QEMU, "-M", BOARDS[target], "-semihosting", "-nographic", "-monitor", "none",
         "-serial", "none", "-icount", "shift=0,align=off,sleep=off", "-kernel", str(elf),
         "-singlestep", "-d", "exec,nochain", "-D", str(log)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    pcs = [int(m, 16) for m in TRACE.findall(log.read_text())]
    return QemuRun(proc.returncode, proc.stderr, pcs)


@pytest.mark.parametrize("target", ["curie", "nrf52832", "stm32f746"])
def test_nvic_program_matches_qemu(firmware, tmp_path, target):
    elf = irq_program(firmware, "nvic.c", target)
    report = sim.run(sim.load_elf(elf))
    qemu = run_qemu_realtime(elf, target, tmp_path / "trace.log")
    assert report.stdout == qemu.console == NVIC_OUTPUT.format(basepri=BASEPRI)
    assert report.instructions == len(qemu.pcs)
    assert report.exit_code == qemu.returncode == 0


def test_systick_program_matches_qemu(firmware, tmp_path):
    elf = irq_program(firmware, "systick.c", TICKS=10, RELOAD=999)
    report = sim.run(sim.load_elf(elf))
    qemu = run_qemu(elf, "curie", tmp_path / "trace.log")
    assert report.stdout == qemu.console == "counts down\nticks 10\n"
    assert report.exit_code == qemu.returncode == 0


@pytest.mark.parametrize("target", ["curie", "nrf52832"])
def test_threads_program_matches_qemu(firmware, tmp_path, target):
    # thread B spins until the third tick: the count depends on timing, the output does not
    elf = irq_program(firmware, "threads.c", target)
    report = sim.run(sim.load_elf(elf))
    qemu = run_qemu(elf, target, tmp_path / "trace.log")
    assert report.stdout == qemu.console == THREADS_OUTPUT
    assert report.exit_code == qemu.returncode == 0


def test_vectored_faults_match_qemu(firmware, tmp_path):
    from test_exceptions import VFAULT_OUTPUT

    elf = irq_program(firmware, "vfault.c")
    report = sim.run(sim.load_elf(elf), sim.RunOptions(vector_faults=True))
    qemu = run_qemu_realtime(elf, "curie", tmp_path / "trace.log")
    assert report.stdout == qemu.console == VFAULT_OUTPUT
    assert report.exit_code == qemu.returncode == 3
    # QEMU's trace lists the three faulting instructions too, which never complete
    assert report.instructions + 3 == len(qemu.pcs)


def test_execute_never_fetches_match_qemu(firmware, tmp_path):
    from test_exceptions import XN_OUTPUT

    elf = irq_program(firmware, "xnfetch.c")
    report = sim.run(sim.load_elf(elf), sim.RunOptions(vector_faults=True))
    qemu = run_qemu_realtime(elf, "curie", tmp_path / "trace.log")
    assert report.stdout == qemu.console == XN_OUTPUT
    assert report.exit_code == qemu.returncode == 0


def test_uart_output_matches_qemu(firmware, tmp_path):
    elf = irq_program(firmware, "periph.c")  # without TRACE: QEMU has no ITM or DWT
    report = sim.run(sim.load_elf(elf))
    serial = tmp_path / "uart.txt"
    proc = subprocess.run(
        [QEMU, "-M", "mps2-an385", "-semihosting", "-nographic", "-monitor", "none",
         "-serial", f"file:{serial}", "-kernel", str(elf)],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == report.exit_code == 0
    assert report.stdout == serial.read_text() == "uart: hello\n"


def test_cmsdk_timers_match_qemu(firmware, tmp_path):
    from test_exceptions import TIMER_OUTPUT

    # QEMU does not model SCR.SLEEPONEXIT: that part is the simulator's own test
    elf = irq_program(firmware, "timer.c", NO_SLEEPONEXIT=None)
    report = sim.run(sim.load_elf(elf))
    qemu = run_qemu(elf, "curie", tmp_path / "trace.log")
    assert report.stdout == qemu.console == TIMER_OUTPUT
    assert report.exit_code == qemu.returncode == 0

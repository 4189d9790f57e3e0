"""Instruction counts agree exactly with QEMU's single-step trace.

``qemu-system-arm -singlestep -d exec,nochain`` logs one "Trace" line per executed instruction
(semihosting BKPTs included). The MPS2 boards share the simulator's memory map: flash at 0,
SRAM at 0x20000000. AN385 is a Cortex-M3 (curie), AN386 a Cortex-M4 (nrf52832), AN500 a
Cortex-M7 (stm32f746). QEMU prints the semihosting console on stderr and exits with the
firmware's SYS_EXIT_EXTENDED status.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import sim

QEMU = "qemu-system-arm"
BOARDS = {"curie": "mps2-an385", "nrf52832": "mps2-an386", "stm32f746": "mps2-an500"}
TRACE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/", re.MULTILINE)


@dataclass
class QemuRun:
    returncode: int
    console: str
    pcs: list[int]  # address of every executed instruction, in order


def run_qemu(elf: Path, target: str, log: Path) -> QemuRun:
    assert shutil.which(QEMU), f"{QEMU} is required for the cross-check (apt: qemu-system-arm)"
    proc = subprocess.run(
        [QEMU, "-M", BOARDS[target], "-semihosting", "-nographic", "-monitor", "none",
         "-serial", "none", "-kernel", str(elf), "-singlestep", "-d", "exec,nochain",
         "-D", str(log)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    pcs = [int(m, 16) for m in TRACE.findall(log.read_text())]
    return QemuRun(proc.returncode, proc.stderr, pcs)


def program(sources, runtime=True, defines=None, target="curie", by_hand=None):
    tag = "-".join(f"{k}{'' if v is None else v}" for k, v in (defines or {}).items())
    name = "+".join(Path(s).stem for s in sources) + (f"-{tag}" if tag else "") + f"-{target}"
    return pytest.param(sources, runtime, defines, target, by_hand, id=name)


PROGRAMS = [
    # sources, runtime, defines, target, the count worked out by hand (where it was)
    program(("hello.c",)),
    program(("loop.S",), False, {"N": 100, "EXIT_STATUS": 0}, by_hand=204),
    program(("loop.S",), False, {"N": 255, "EXIT_STATUS": 0}, by_hand=514),
    program(("stack.S",), False, by_hand=9),
    program(("compute.c",)),
    program(("recurse.c", "descend.S"), defines={"DEPTH": 10}),
    program(("heap.c",)),
    program(("heap.c",), defines={"USE_MALLOC": None}),
    program(("exit.c",), defines={"STATUS": 7}),
    program(("float.c",)),
    program(("float.c",), target="nrf52832"),
    program(("float.c",), target="stm32f746"),
    # an SVC is taken: the start-up code's handler reports exception 11 and exits 139
    program(("faults.c",), defines={"CASE": "supervisor_call"}),
]


@pytest.mark.parametrize(("sources", "runtime", "defines", "target", "by_hand"), PROGRAMS)
def test_instruction_count_matches_qemu(firmware, tmp_path, sources, runtime, defines, target,
                                        by_hand):
    elf = firmware(*sources, runtime=runtime, defines=defines, target=target)
    report = sim.run(sim.load_elf(elf))
    qemu = run_qemu(elf, target, tmp_path / "trace.log")
    assert report.status == "ok"
    assert len(qemu.pcs) > 0
    assert report.instructions == len(qemu.pcs)
    if by_hand is not None:
        assert report.instructions == by_hand
    assert report.stdout == qemu.console
    assert report.exit_code == qemu.returncode


@pytest.mark.parametrize("case", ["undefined_instruction", "breakpoint",
                                  "unmapped_read", "arm_state_branch"])
def test_instructions_before_a_fault_match_qemu(firmware, tmp_path, case):
    # QEMU takes the exception and runs the start-up code's Fault_Handler; up to the faulting
    # instruction both executed the same instructions. The simulator stops there and reports
    # the faulting instruction's address, not counting it.
    elf = firmware("faults.c", defines={"CASE": case})
    report = sim.run(sim.load_elf(elf))
    qemu = run_qemu(elf, "curie", tmp_path / "trace.log")
    assert report.status == "fault"
    assert "fault: exception" in qemu.console  # QEMU took the exception too
    assert qemu.pcs.index(report.fault.pc) == report.instructions

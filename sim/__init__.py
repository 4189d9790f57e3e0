"""Run bare-metal Cortex-M firmware in Unicorn with an exact memory model.

``sim`` knows Cortex-M firmware, not neural networks: it loads an ELF, maps flash and SRAM of
exactly the requested sizes, runs from the reset vector, serves semihosting, counts instructions
and estimated cycles, measures stack and heap, and stops with a precise report on any fault.

    from sim import load_elf, run
    report = run(load_elf("model.elf"), sram=15 * 1024)
"""

from sim.elf import FirmwareImage, InvalidFirmware, load_elf
from sim.report import Fault, RunReport
from sim.runner import RunOptions, Simulator, run

__all__ = [
    "Fault",
    "FirmwareImage",
    "InvalidFirmware",
    "RunOptions",
    "RunReport",
    "Simulator",
    "load_elf",
    "run",
]

"""Run bare-metal Cortex-M firmware in Unicorn with an exact memory model.

``sim`` knows Cortex-M firmware, not neural networks: it loads an ELF, maps flash and SRAM of
exactly the requested sizes, runs from the reset vector, serves semihosting, counts instructions
and estimated cycles, measures stack and heap, and stops with a precise report on any fault.

    from sim import load_elf, run
    report = run(load_elf("model.elf"), sram=15 * 1024)
"""

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.elf import FirmwareImage, InvalidFirmware, load_elf
    from sim.report import Fault, RunReport
    from sim.runner import RunOptions, Simulator, run

# Imported on first use (PEP 562): a light submodule (``sim.output_guard``, which ``ebnn
# --help`` loads) does not load Unicorn and the runner with it.
_HOMES = {
    "FirmwareImage": "sim.elf", "InvalidFirmware": "sim.elf", "load_elf": "sim.elf",
    "Fault": "sim.report", "RunReport": "sim.report",
    "RunOptions": "sim.runner", "Simulator": "sim.runner", "run": "sim.runner",
}

__all__ = ["Fault", "FirmwareImage", "InvalidFirmware", "RunOptions", "RunReport", "Simulator",
           "load_elf", "run"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        return getattr(import_module(home), name)
    if not name.startswith("_") and find_spec(f"sim.{name}") is not None:
        return import_module(f"sim.{name}")  # `import sim; sim.runner`, as when all loaded
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])

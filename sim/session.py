"""Run one ELF the way every command does: ``ebnn-sim run``, ``profile``, ``check`` and the
pytest fixture.

A session loads the ELF, converts the console input, builds the :class:`~sim.runner.RunOptions`,
constructs the :class:`~sim.runner.Simulator` and, after the run, applies the run's budgets.
Anything that keeps the run from starting (not an ELF, an unreadable input, an unknown target,
memory sizes that cannot be mapped) is a :class:`SessionError` with a one-line message.

    report = session.run("fw.elf", RunSpec(sram=15 * 1024, budgets={"stack": 1024}))

``prepare`` stops before running, for callers that attach to the simulator first (the
profiler); they apply the budgets to the report themselves with :func:`apply_budgets`.
"""

import io
import os
import struct
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from sim.analog import AnalogSpec
from sim.budget_check import check_limits, compare
from sim.elf import FLASH_STARTS, FirmwareImage, InvalidFirmware, load_elf
from sim.i2c_targets import I2cSpec
from sim.inputs import InputError, InputFormat, console_bytes, file_problem
from sim.interrupts import stop_on_sigint
from sim.pins import PinSpec
from sim.report import RunReport
from sim.runner import PAGE, REGION, ImageError, RunOptions, Simulator, resolve_target
from sim.spi_targets import SpiSpec
from toolchain.memory_map import SRAM_BASE
from toolchain.sizes import format_size


class SessionError(Exception):
    """The run cannot start; ``str()`` is one line for the user.

    ``elf`` is set when the message does not name the ELF (an unknown target, memory sizes):
    :attr:`with_elf` then leads with it, for callers that run more than one ELF."""

    def __init__(self, message: str, elf: Path | None = None) -> None:
        super().__init__(message)
        self.elf = elf

    @property
    def with_elf(self) -> str:
        return str(self) if self.elf is None else f"{self.elf}: {self}"


@dataclass
class RunSpec:
    """What to run the ELF with; None means the target's default."""

    target: str | None = None  # default: the one recorded in the ELF, else curie
    sram: int | None = None  # bytes of SRAM to map
    flash: int | None = None  # bytes of flash to map
    wait_states: int | None = None
    max_instructions: int | None = None
    timeout: float | None = None  # seconds of wall time
    run_for: float | None = None  # seconds of device time, then the run ends "ok"
    inputs: Sequence[Path] = ()  # host files the firmware may read; the first is the console
    stdin: bytes | None = None  # console bytes instead of the first input's
    output_dir: Path | None = None  # created if missing
    echo: Callable[[bytes], None] | None = None  # console output as it appears
    # told of the first input's values far beyond the ELF's recorded input scale
    warn: Callable[[str], None] | None = None
    cmdline: str = ""
    # metric (sim.budget_check.METRICS) -> limit (None: not checked), judged after a run that
    # was otherwise ok; checked when the spec is made (ValueError)
    budgets: Mapping[str, int | None] = field(default_factory=dict)
    # Map the target's memories, grown only as far as the image needs to start (it was linked
    # for a larger memory): budgets, not the mapping, then judge the peaks.
    fit_image: bool = False
    # SIGINT (Ctrl-C) or SIGTERM stops the run with status "interrupted" instead of raising
    # KeyboardInterrupt after it (the commands set this; a library caller decides itself)
    interruptible: bool = False
    vector_faults: bool = False  # faults go to the firmware's handlers (still reported)
    strict_peripherals: bool = False  # an unmodelled device register is a fault
    analog: Sequence[AnalogSpec] = ()  # volts for the ADC's pins (sim/analog.py)
    pins: Sequence[PinSpec] = ()  # levels for the GPIO pins (sim/pins.py)
    vcd: Path | None = None  # the GPIO pins' waveform, written at the run's end
    i2c: Sequence[I2cSpec] = ()  # devices on the I2C bus (sim/i2c_targets.py)
    spi: Sequence[SpiSpec] = ()  # devices on the SPI bus (sim/spi_targets.py)
    reset_clock: bool = False  # start at the part's own reset clock (stm32l031: MSI)
    allow_resets: int = 0  # resets of the part that restart the firmware (sim/resets.py)

    def __post_init__(self) -> None:
        check_limits(self.budgets)


def prepare(elf: str | os.PathLike[str] | FirmwareImage, spec: RunSpec) -> Simulator:
    """The simulator for ``elf``, loaded and ready to run; SessionError if it cannot be."""
    try:
        image = elf if isinstance(elf, FirmwareImage) else load_elf(elf)
    except InvalidFirmware as exc:
        raise SessionError(str(exc)) from None
    for p in spec.inputs:  # (a FIFO would block the open for ever, signals and --timeout
        problem = file_problem(Path(p))  # too; /dev/zero never ends)
        if problem is not None:
            raise SessionError(f"{p}: {problem}: an input is a regular file")
    try:
        if spec.output_dir is not None:
            if spec.output_dir.exists() and not spec.output_dir.is_dir():
                raise SessionError(f"{spec.output_dir}: not a directory (--output-dir)")
            spec.output_dir.mkdir(parents=True, exist_ok=True)
        console = spec.stdin
        if console is None and spec.inputs:
            notes: list[str] = []
            console = console_bytes(Path(spec.inputs[0]),
                                    InputFormat.from_metadata(image.metadata), notes)
            if spec.warn is not None:
                for note in notes:
                    spec.warn(note)
    except (InputError, OSError) as exc:
        raise SessionError(str(exc)) from None
    try:
        target = resolve_target(image, spec.target)
        sram, flash = spec.sram, spec.flash
        if spec.fit_image:
            sram, flash = _fitted(image, target.sram if sram is None else sram,
                                  target.flash if flash is None else flash)
        options = RunOptions(
            target=target.name, sram=sram, flash=flash, flash_wait_states=spec.wait_states,
            max_instructions=spec.max_instructions, timeout=spec.timeout, run_for=spec.run_for,
            inputs=[Path(p) for p in spec.inputs],
            stdin=None if console is None else io.BytesIO(console),
            output_dir=spec.output_dir, echo=spec.echo, cmdline=spec.cmdline,
            vector_faults=spec.vector_faults, strict_peripherals=spec.strict_peripherals,
            analog=spec.analog, pins=spec.pins, vcd=spec.vcd, i2c=spec.i2c, spi=spec.spi,
            reset_clock=spec.reset_clock, allow_resets=spec.allow_resets)
        return Simulator(image, options)
    except (ImageError, ValueError, InputError) as exc:
        raise SessionError(str(exc), image.path) from None
    except MemoryError:  # the maps and the emulator's tables take ~3 bytes per mapped byte
        own = target.name == image.target_name  # as Simulator picks them
        sizes = (options.sram or (image.linked_sram if own else None) or target.sram,
                 options.flash or (image.linked_flash if own else None) or target.flash)
        raise SessionError(f"not enough host memory to map {format_size(sizes[0])} of SRAM "
                           f"and {format_size(sizes[1])} of flash (the ELF's or the options' "
                           "sizes)", image.path) from None


def run(elf: str | os.PathLike[str] | FirmwareImage, spec: RunSpec,
        prepared: Callable[[Simulator], None] | None = None) -> RunReport:
    """Prepare, run once, apply ``spec.budgets``; ``prepared`` is handed the simulator before
    it runs (``run``'s echo stops it by it when the reader of the console leaves)."""
    simulator = prepare(elf, spec)
    if prepared is not None:
        prepared(simulator)
    with stop_on_sigint(simulator) if spec.interruptible else nullcontext():
        report = simulator.run()
    return apply_budgets(report, spec.budgets)


def apply_budgets(report: RunReport, budgets: Mapping[str, int | None]) -> RunReport:
    """Record the broken budgets in ``report.over_budget``; a run that was otherwise ok is then
    ``over_budget``. A fault, limit or image too large keeps its status (and is not checked:
    its measurements are not the run's)."""
    if report.status == "ok":
        report.over_budget = [c for c in compare(report, budgets) if not c.passed]
        if report.over_budget:
            report.status = "over_budget"
    return report


def _round_up(n: int) -> int:
    return -(-n // PAGE) * PAGE


def _fitted(image: FirmwareImage, sram: int, flash: int) -> tuple[int, int]:
    """``sram`` and ``flash``, or more where the image needs more to start: its static data and
    code, and the initial SP of its vector table (an image linked for a larger SRAM)."""
    flash = max(flash, _round_up(image.flash_used))
    sram = max(sram, _round_up(max(image.static_top, image.static_end) - SRAM_BASE))
    for seg in image.segments:  # initial SP: the first word of the vector table
        if seg.address in FLASH_STARTS and len(seg.data) >= 4:
            sp0 = struct.unpack_from("<I", seg.data)[0]
            if SRAM_BASE < sp0 <= SRAM_BASE + REGION:
                sram = max(sram, _round_up(sp0 - SRAM_BASE))
    return min(sram, REGION), min(flash, REGION)

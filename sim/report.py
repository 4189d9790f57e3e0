"""What a run did: the report, why a run failed, and the CLI's exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.clocks import ClockChange, clock_rows, format_hz
from sim.formats.json import report_dict
from sim.resets import Reset

if TYPE_CHECKING:
    from sim.budget_check import Check

# Exit codes of `ebnn-sim run` (and of anything built on RunReport.exit_status).
# why a report's heap_tracked is False, as the summary, check and run say it
HEAP_UNTRACKED = "no __heap_peak: an allocator of its own, or a stripped ELF"
# the heaps RTOSes allocate task stacks from (xTaskCreate): a thread stack peak measured in
# one is the distance from its end to the lowest of all its tasks' SPs, no task's own use
SHARED_STACKS = {"ucHeap": "FreeRTOS's heap of xTaskCreate's stacks"}
EXIT_OK = 0
EXIT_FIRMWARE_FAILED = 1
EXIT_USAGE = 2
EXIT_OVER_BUDGET = 3
EXIT_FAULT = 4
EXIT_LIMIT = 5
EXIT_INTERRUPTED = 130  # stopped by SIGINT (Ctrl-C), as shells report 128 + 2


@dataclass
class Fault:
    """Why a run stopped abnormally.

    ``kind`` is one of: ``unmapped_read``, ``unmapped_write``, ``unmapped_fetch``,
    ``flash_write``, ``stack_overflow``, ``undefined_instruction``, ``hard_fault``,
    ``breakpoint``, ``sandbox``, ``image_too_large``, ``instruction_limit``, ``timeout``.
    """

    kind: str
    message: str
    pc: int | None = None
    address: int | None = None
    size: int | None = None
    access: str | None = None  # "read", "write", "fetch"
    function: str | None = None  # "name+0xoff"
    instruction: str | None = None  # disassembly at pc
    registers: dict[str, int] = field(default_factory=dict)


@dataclass
class RunReport:
    elf: str
    target: str
    core: str
    clock_hz: int
    status: str  # "ok" | "fault" | "timeout" | "over_budget" | "interrupted" | "deadlock" | "reset"
    exit_code: int | None
    instructions: int
    cycles: int
    sram_size: int
    static: int
    stack_peak: int
    heap_peak: int
    heap_tracked: bool
    flash_size: int
    flash_used: int
    stdout: str
    fault: Fault | None = None
    over_budget: list[Check] = field(default_factory=list)  # the broken budgets, if checked
    wall_seconds: float = 0.0
    flash_wait_states: int = 0
    refusals: list[str] = field(default_factory=list)  # sandbox refusals, in order
    stdout_dropped: int = 0  # console bytes left out between the kept head and tail
    sleep_cycles: int = 0  # cycles asleep in WFI/WFE (not in ``cycles``, which are active)
    exceptions: dict[str, int] = field(default_factory=dict)  # exception name -> times taken
    handler_cycles: dict[str, int] = field(default_factory=dict)  # name -> cycles in handler
    tail_chained: int = 0  # entries by tail-chaining (no unstacking and restacking)
    static_sections: list[str] = field(default_factory=list)  # the SRAM sections in ``static``
    unmodelled: list[str] = field(default_factory=list)  # device registers not modelled, used
    thread_stacks: dict[str, int] = field(default_factory=dict)  # PSP stack object -> peak bytes
    # static objects MSR MSP moved the main stack into (or the initial SP lies in) -> its peak
    # there (``stack_peak`` is the stack below the initial SP alone, or the reset stack's)
    main_stacks: dict[str, int] = field(default_factory=dict)
    # the one of them the initial SP lies in (a reset stack that is an array in .bss), if any
    reset_stack: str | None = None
    vectored_faults: list[str] = field(default_factory=list)  # faults the firmware handled
    # the console input given (bytes; None: none, or a stream of unknown length) and how much
    # of it the firmware read (semihosting or a serial port's receiver)
    console_input: int | None = None
    console_read: int = 0
    # --run-for: the seconds of device time after which the run ended with the firmware still
    # running (status "ok", no exit code), and where it was then ("0x... in f+0x4: wfi (asleep)")
    run_for: float | None = None
    stopped_at: str | None = None
    # device time awake and asleep (seconds): the cycles at the core's clock, which the
    # firmware may have set up (``clocks``: each change; empty: the target's all along)
    seconds: float | None = None
    sleep_seconds: float | None = None
    clocks: list[ClockChange] = field(default_factory=list)
    # what the clock at reset (clock_hz) is: "" for the target's, else the part's (--reset-clock)
    clock_source: str = ""
    clock_changes: int = 0  # in all (``clocks`` keeps the first and last 100)
    # what the firmware did that the chip does not allow, though the run went on ("at 0.010
    # ms: the core's clock, 32 MHz, is beyond the 16 MHz RM0377 allows in voltage range 2 ...")
    warnings: list[str] = field(default_factory=list)
    deep_sleeps: int = 0  # sleeps in the part's deep-sleep mode (the STM32L0's Stop mode)
    # the resets the run went on after (allow_resets; wake-ups from Stand-by): the first and
    # last 100, and how many of each cause (sim/resets.py)
    resets: list[Reset] = field(default_factory=list)
    reset_counts: dict[str, int] = field(default_factory=dict)
    # --analog: channel -> {"file", "rate_hz", "samples", "conversions", "past_end", "clamped"}
    analog: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the GPIO pins that changed or --pin drove: name -> {"initial", "level" (0, 1, None: no
    # level), "rising", "falling", "changes", "high_ms", "driven" (the --pin value or None)}
    pins: dict[str, dict[str, Any]] = field(default_factory=dict)
    vcd: str | None = None  # the pins' waveform file written (--vcd)
    # the I2C bus, when it had targets (--i2c) or traffic: {"targets": {"0x48": {"name", "file",
    # "writes", "reads", "bytes_written", "bytes_read", "ignored_writes"}}, "transactions",
    # "nacked": {"0x50": times}, "log": the first transactions}
    i2c: dict[str, Any] = field(default_factory=dict)
    # the SPI bus, when it had devices (--spi) or bytes went out: {"targets": {"PA4": {"name",
    # "file", "selections", "writes", "reads", "bytes_written", "bytes_read",
    # "ignored_writes"}}, "unselected_bytes", "contended_bytes", "cut_bytes", "log": the first
    # selections}
    spi: dict[str, Any] = field(default_factory=dict)

    @property
    def time_ms(self) -> float:
        """Device time awake, in milliseconds."""
        if self.seconds is not None:
            return self.seconds * 1e3
        return self.cycles / self.clock_hz * 1e3

    @property
    def sleep_ms(self) -> float:
        """Device time asleep (WFI/WFE), in milliseconds."""
        if self.sleep_seconds is not None:
            return self.sleep_seconds * 1e3
        return self.sleep_cycles / self.clock_hz * 1e3

    @property
    def duty_cycle(self) -> float:
        """The share of device time the core was awake (1.0 for a run that never slept)."""
        total = self.time_ms + self.sleep_ms
        return self.time_ms / total if total else 1.0

    @property
    def clock_text(self) -> str:
        """``32 MHz``, or with a clock the firmware set up, the one it ended at."""
        if not self.clocks:
            return format_hz(self.clock_hz) + (f", {self.clock_source}" if self.clock_source
                                               else "")
        return f"{format_hz(self.clocks[-1].hz)} at the end, set up by the firmware"

    @property
    def clock_rows(self) -> list[tuple[str, str]]:
        """The clock the firmware set up, a (frequency, since when and from what) row a
        change; none if it did not."""
        return clock_rows(self.clock_hz, self.flash_wait_states, self.clocks,
                          total=max(self.clock_changes, len(self.clocks)),
                          initial=self.clock_source)

    @property
    def sram_peak(self) -> int:
        # (a reset stack that is an array in .bss is static RAM already: not added again)
        stack = 0 if self.reset_stack is not None else self.stack_peak
        return self.static + stack + self.heap_peak

    @property
    def main_stack_peak(self) -> int:
        """The main stack's deepest use: below the initial SP, or in an object MSR MSP moved
        it into (what a ``stack`` budget checks)."""
        return max(self.stack_peak, *self.main_stacks.values(), 0)

    @property
    def exit_status(self) -> int:
        """The CLI's exit code: fault 4, limit/timeout 5, interrupted 130, firmware non-zero 1,
        over budget 3."""
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        if self.status == "fault":
            return EXIT_FAULT
        if self.status in ("timeout", "deadlock"):
            return EXIT_LIMIT
        if self.status == "reset":
            return EXIT_FIRMWARE_FAILED
        if self.exit_code not in (0, None):
            return EXIT_FIRMWARE_FAILED
        if self.status == "over_budget":
            return EXIT_OVER_BUDGET
        return EXIT_OK

    @property
    def problem(self) -> str | None:
        """Why the run failed, in one line; None when the firmware exited 0 (or ran for its
        --run-for time) within its budgets.

        The first that applies: a fault, a limit, an image that never ran (too large for the
        memories), a non-zero exit status, broken budgets.
        """
        fault = self.fault
        if fault is not None and self.status == "interrupted":
            return f"interrupted: {fault.message}"
        if fault is not None and self.status in ("deadlock", "reset"):
            where = f" in {fault.function}" if fault.function else ""
            return f"{self.status}: {fault.message}{where}"
        if fault is not None and self.status == "timeout":
            what = "instruction limit" if fault.kind == "instruction_limit" else "timeout"
            return f"stopped by the {what}: {fault.message}"
        if fault is not None and self.status == "fault":
            where = f" in {fault.function}" if fault.function else (
                f" at pc 0x{fault.pc:08x}" if fault.pc is not None else "")
            return f"{fault.kind}: {fault.message}{where}"
        if fault is not None:  # image_too_large: the firmware never ran
            return f"did not run: {fault.message}"
        if self.exit_code not in (0, None):
            return f"exited with status {self.exit_code}"
        if self.over_budget:
            return "over budget: " + "; ".join(str(c) for c in self.over_budget)
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (docs/simulator.md); built by :mod:`sim.formats.json`."""
        return report_dict(self)


def console_input_note(report: RunReport) -> str | None:
    """What a run left of its console input unread ("the firmware read none of its 1,152
    bytes"), or None when it read all of it or had none: a firmware that reads its input
    through a port it never set up, or stops early, reads less than it was given."""
    given, read = report.console_input, report.console_read
    if not given or read >= given:
        return None
    if read == 0:
        return f"the firmware read none of its {given:,} bytes"
    return f"the firmware read {read:,} of its {given:,} bytes"

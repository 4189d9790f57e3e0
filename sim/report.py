"""What a run did: the report, its JSON form, and the CLI's exit codes."""

from dataclasses import asdict, dataclass, field
from typing import Any

# Exit codes of `ebnn-sim run` (and of anything built on RunReport.exit_status).
EXIT_OK = 0
EXIT_FIRMWARE_FAILED = 1
EXIT_USAGE = 2
EXIT_OVER_BUDGET = 3
EXIT_FAULT = 4
EXIT_LIMIT = 5


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
class Budgets:
    """Limits a run must stay within; None means unchecked."""

    sram: int | None = None
    flash: int | None = None
    stack: int | None = None
    cycles: int | None = None


@dataclass
class BudgetViolation:
    name: str
    limit: int
    actual: int

    def __str__(self) -> str:
        return f"{self.name}: {self.actual} > {self.limit} (over by {self.actual - self.limit})"


@dataclass
class RunReport:
    elf: str
    target: str
    core: str
    clock_hz: int
    status: str  # "ok" | "fault" | "timeout" | "over_budget"
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
    over_budget: list[BudgetViolation] = field(default_factory=list)
    wall_seconds: float = 0.0
    flash_wait_states: int = 0
    refusals: list[str] = field(default_factory=list)  # sandbox refusals, in order

    @property
    def time_ms(self) -> float:
        return self.cycles / self.clock_hz * 1e3

    @property
    def sram_peak(self) -> int:
        return self.static + self.stack_peak + self.heap_peak

    @property
    def exit_status(self) -> int:
        """The CLI's exit code: fault 4, limit/timeout 5, firmware non-zero 1, over budget 3."""
        if self.status == "fault":
            return EXIT_FAULT
        if self.status == "timeout":
            return EXIT_LIMIT
        if self.exit_code not in (0, None):
            return EXIT_FIRMWARE_FAILED
        if self.status == "over_budget":
            return EXIT_OVER_BUDGET
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "instructions": self.instructions,
            "cycles": self.cycles,
            "cycles_method": "estimate: per-instruction timing table + refill per taken branch",
            "time_ms": self.time_ms,
            "target": self.target,
            "core": self.core,
            "clock_hz": self.clock_hz,
            "flash_wait_states": self.flash_wait_states,
            "sram": {
                "size": self.sram_size,
                "static": self.static,
                "stack_peak": self.stack_peak,
                "heap_peak": self.heap_peak,
                "heap_tracked": self.heap_tracked,
                "peak": self.sram_peak,
            },
            "flash": {"size": self.flash_size, "used": self.flash_used},
            "fault": None if self.fault is None else asdict(self.fault),
            "over_budget": [asdict(v) for v in self.over_budget],
            "stdout": self.stdout,
            "refusals": self.refusals,
            "elf": self.elf,
            "wall_seconds": self.wall_seconds,
        }


def check_budgets(report: RunReport, budgets: Budgets) -> list[BudgetViolation]:
    """Every budget the run broke, with the measured value."""
    checks = [
        ("sram", budgets.sram, report.sram_peak),
        ("flash", budgets.flash, report.flash_used),
        ("stack", budgets.stack, report.stack_peak),
        ("cycles", budgets.cycles, report.cycles),
    ]
    return [BudgetViolation(n, lim, act) for n, lim, act in checks if lim is not None and act > lim]

"""A budget compared with what a run measured: the one check behind ``ebnn-sim check`` (one per
budget table and metric) and behind the limits of a single run (``ebnn-sim run --max-stack``,
the pytest fixture), whose broken checks are the report's ``over_budget``."""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sim.clocks import format_hz
from sim.report import RunReport

SIZE_METRICS = ("sram", "flash", "stack")
COUNT_METRICS = ("cycles", "instructions")
METRICS = (*SIZE_METRICS, *COUNT_METRICS)  # in the order they are reported
_MEASURED_AS = {
    "sram": "peak SRAM",
    "flash": "flash used",
    "stack": "stack peak",
    "cycles": "cycles",
    "instructions": "instructions",
    "call_cycles": "longest call",
    "thread_stack": "thread stack peak",
}
_BYTES = (*SIZE_METRICS, "thread_stack")  # shown in bytes


@dataclass
class Check:
    """One budget compared with one measurement."""

    metric: str  # sram, flash, stack, cycles, instructions
    measured: int
    limit: int
    where: str  # the budget table ("" for a single run's limits)
    note: str = ""  # e.g. "16 ms at 32 MHz" for a budget given in ms
    # why nothing could be measured (a function budgeted that no call of returned): broken
    missing: str | None = None

    @property
    def passed(self) -> bool:
        return self.missing is None and self.measured <= self.limit

    @property
    def margin(self) -> int:
        """Budget left (positive) or overshoot (negative)."""
        return self.limit - self.measured

    def format(self, n: int) -> str:
        """``n`` in this metric's unit: ``1,024 B`` or ``5,476``."""
        return f"{n:,} B" if self.metric in _BYTES else f"{n:,}"

    def _pct(self, n: int) -> str:
        return f"{100 * n / self.limit:.1f}%" if self.limit else "∞%"

    @property
    def budget_text(self) -> str:
        if self.missing is not None and not self.limit and self.note:
            return self.note  # a budget with no figure of its own yet ("90% of each ...")
        return self.format(self.limit) + (f" ({self.note})" if self.note else "")

    @property
    def margin_text(self) -> str:
        if self.missing is not None:
            return self.missing
        if self.passed:
            return f"{self.format(self.margin)} left ({self._pct(self.margin)})"
        return f"over by {self.format(-self.margin)} (+{self._pct(-self.margin)})"

    @property
    def message(self) -> str:
        """One line, e.g. ``sram: peak SRAM 16,384 B > budget 15,360 B, over by 1,024 B``."""
        if self.missing is not None:
            return f"{self.metric}: {self.missing} (budget {self.budget_text})"
        verdict = "<=" if self.passed else ">"
        return (f"{self.metric}: {_MEASURED_AS[self.metric]} {self.format(self.measured)} "
                f"{verdict} budget {self.budget_text}, {self.margin_text}")

    def __str__(self) -> str:
        """Short, as a run's summary lists it: ``cycles: 81,785 > 50,000 (over by 31,785)``."""
        if self.missing is not None:
            return f"{self.metric}: {self.missing}"
        if self.passed:
            return f"{self.metric}: {self.measured:,} <= {self.limit:,}"
        return f"{self.metric}: {self.measured:,} > {self.limit:,} (over by {-self.margin:,})"


def sram_budget(mapped: int | None, max_sram: int | None) -> int | None:
    """The peak-SRAM budget of a run: the SRAM mapped (``--sram``) and ``--max-sram``, the
    lower of the two given."""
    given = [v for v in (mapped, max_sram) if v is not None]
    return min(given) if given else None


def check_limits(limits: Mapping[str, int | None]) -> None:
    """ValueError for a metric not in METRICS (a typo must not check nothing) or a limit that
    is not a whole number >= 0."""
    for metric, value in limits.items():
        if metric not in METRICS:
            raise ValueError(f"unknown budget {metric!r} (known: {', '.join(METRICS)})")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise ValueError(f"budget {metric} must be a whole number >= 0, not {value!r}")


def compare(report: RunReport, limits: Mapping[str, int | None], where: str = "",
            ms: float | None = None) -> list[Check]:
    """``report`` against ``limits`` (metric in METRICS -> limit; None: not checked) and, with
    ``ms``, a cycles budget in milliseconds at the report's clock. In METRICS order;
    ValueError for limits :func:`check_limits` refuses."""
    check_limits(limits)
    measured = {
        "sram": report.sram_peak,
        "flash": report.flash_used,
        "stack": report.main_stack_peak,
        "cycles": report.cycles,
        "instructions": report.instructions,
    }
    checks = [Check(m, measured[m], limit, where) for m in METRICS
              if (limit := limits.get(m)) is not None]
    if ms is not None:
        # cycles <= ms * f / 1000  <=>  cycles <= floor(ms * f / 1000) for whole cycles
        hz: float = report.clock_hz
        note = f"{ms:g} ms at {format_hz(hz)}"
        if report.clocks and report.time_ms > 0:
            # the firmware's clocks: time <= ms  <=>  cycles <= ms at the run's mean clock
            hz = report.cycles / report.time_ms * 1000
            note = f"{ms:g} ms at the firmware's clocks (a mean {format_hz(hz)})"
        limit = math.floor(ms * hz / 1000 + 1e-9)
        checks.append(Check("cycles", report.cycles, limit, where, note))
        checks.sort(key=lambda c: METRICS.index(c.metric))
    return checks

"""The core's clock over a run: cycles become device time piece by piece.

A run starts at the target's clock. Firmware that sets its part's clock up itself (on the
STM32L0: RCC's system clock, its AHB prescaler and the flash's wait states) changes it as it
runs; each change starts a new piece at the new rate. Everything the simulator counts stays in
core cycles (instructions, SysTick, DWT, device timers); :class:`ClockLog` turns a cycle count
into seconds and back, and splits the time into awake and asleep (WFI/WFE) for the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ClockChange:
    """The core's clock from ``cycle`` on (cycles since reset, sleep included)."""

    cycle: int
    hz: int
    wait_states: int  # flash wait states per pipeline refill from then on
    source: str  # what the firmware set up: "PLL (HSI16 x4 / 2)", "MSI range 5", ...
    seconds: float  # device time at the change

    def to_dict(self) -> dict[str, object]:
        return {"cycle": self.cycle, "hz": self.hz, "wait_states": self.wait_states,
                "source": self.source, "time_ms": self.seconds * 1e3}


def format_hz(hz: float) -> str:
    """``32 MHz``, ``2.097 MHz``, ``65.54 kHz``: four significant digits at most."""
    if hz >= 1e6:
        return f"{hz / 1e6:.4g} MHz"
    if hz >= 1e3:
        return f"{hz / 1e3:.4g} kHz"
    return f"{hz:.4g} Hz"


class ClockLog:
    """The pieces of a run at one clock each: where each began (cycle, cycles asleep by then,
    device time by then) and its rate."""

    def __init__(self, hz: int) -> None:
        self.initial_hz = hz
        self.hz = hz
        self.changes: list[ClockChange] = []
        self._cycle = 0  # where the current piece began
        self._sleep = 0  # cycles asleep before it
        self._awake_s = 0.0  # device time awake and asleep before it
        self._asleep_s = 0.0

    def change(self, cycle: int, sleep_cycles: int, hz: int, wait_states: int,
               source: str) -> None:
        """From ``cycle`` (with ``sleep_cycles`` of all cycles so far asleep) the core runs
        at ``hz``."""
        awake, asleep = self.split(cycle, sleep_cycles)
        self._awake_s, self._asleep_s = awake, asleep
        self._cycle, self._sleep, self.hz = cycle, sleep_cycles, hz
        self.changes.append(ClockChange(cycle, hz, wait_states, source, awake + asleep))

    def split(self, cycle: int, sleep_cycles: int) -> tuple[float, float]:
        """Device time (seconds) awake and asleep up to ``cycle``, ``sleep_cycles`` of the
        cycles so far asleep."""
        asleep = sleep_cycles - self._sleep
        awake = cycle - self._cycle - asleep
        return self._awake_s + awake / self.hz, self._asleep_s + asleep / self.hz

    def seconds(self, cycle: int, sleep_cycles: int) -> float:
        """Device time up to ``cycle``, awake and asleep."""
        return sum(self.split(cycle, sleep_cycles))

    def cycle_at(self, seconds: float, cycle: int, sleep_cycles: int) -> int:
        """The first cycle at which device time reaches ``seconds``, the clock staying as it
        is from ``cycle`` on (at least one cycle after reset, and not before ``cycle``)."""
        left = seconds - self.seconds(cycle, sleep_cycles)
        return max(1, cycle, cycle + math.ceil(left * self.hz - 1e-6))

    @property
    def varied(self) -> bool:
        """Whether the firmware changed the clock (or its wait states) during the run."""
        return bool(self.changes)


def clock_rows(initial_hz: int, initial_wait_states: int, changes: list[ClockChange],
               most: int = 6) -> list[tuple[str, str]]:
    """What a run's clock was, a (frequency, since when and from what) row a piece, ``most``
    at most (the first and the last ones, with a count of those between); none when it never
    changed."""
    if not changes:
        return []

    def states(n: int) -> str:
        return "1 wait state" if n == 1 else f"{n} wait states"

    rows = [(format_hz(initial_hz), f"from reset (the target's), {states(initial_wait_states)}")]
    rows += [(format_hz(c.hz), f"from {c.seconds * 1e3:,.3f} ms: {c.source}, "
              f"{states(c.wait_states)}") for c in changes]
    if len(rows) > most:
        keep = most - 1
        head, tail = rows[: keep // 2], rows[len(rows) - (keep - keep // 2):]
        rows = [*head, ("...", f"{len(rows) - keep:,} more changes"), *tail]
    return rows

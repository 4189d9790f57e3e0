"""The core's clock over a run: cycles become device time piece by piece.

A run starts at the target's clock. Firmware that sets its part's clock up itself (on the
STM32L0: RCC's system clock, its AHB prescaler and the flash's wait states) changes it as it
runs; each change starts a new piece at the new rate. Everything the simulator counts stays in
core cycles (instructions, SysTick, DWT, device timers); :class:`ClockLog` turns a cycle count
into seconds and back, and splits the time into awake and asleep (WFI/WFE) for the report.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class ClockChange:
    """The core's clock from ``cycle`` on (cycles since reset, sleep included)."""

    cycle: int
    hz: int
    wait_states: int  # flash wait states per pipeline refill from then on
    source: str  # what the firmware set up: "PLL: HSI16 x 4 / 2", "MSI range 5", ...
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


KEEP = 100  # changes kept for the report at each end of a run: the first and the last ones


@dataclass(frozen=True)
class _Piece:
    """Where a piece of the run at one clock began, and the device time before it."""

    cycle: int
    sleep: int  # cycles asleep before it
    awake_s: float
    asleep_s: float
    hz: int


class ClockLog:
    """The pieces of a run at one clock each. Time needs only the last few (a run's last block,
    taken back when it faulted, may reach back past changes its own writes made); the report
    keeps the first and last KEEP changes and their count."""

    def __init__(self, hz: int) -> None:
        self.initial_hz = hz
        self._pieces: deque[_Piece] = deque([_Piece(0, 0, 0.0, 0.0, hz)], maxlen=KEEP)
        self.count = 0  # changes in all
        self._first: list[ClockChange] = []
        self._last: deque[ClockChange] = deque(maxlen=KEEP)

    @property
    def hz(self) -> int:
        """The clock now."""
        return self._pieces[-1].hz

    def change(self, cycle: int, sleep_cycles: int, hz: int, wait_states: int,
               source: str) -> None:
        """From ``cycle`` (with ``sleep_cycles`` of all cycles so far asleep) the core runs
        at ``hz``."""
        awake, asleep = self.split(cycle, sleep_cycles)
        self._pieces.append(_Piece(cycle, sleep_cycles, awake, asleep, hz))
        self.count += 1
        record = ClockChange(cycle, hz, wait_states, source, awake + asleep)
        (self._first if len(self._first) < KEEP else self._last).append(record)

    def split(self, cycle: int, sleep_cycles: int) -> tuple[float, float]:
        """Device time (seconds) awake and asleep up to ``cycle``, ``sleep_cycles`` of the
        cycles so far asleep."""
        piece = self._pieces[-1]
        for piece in reversed(self._pieces):  # the last, unless ``cycle`` was taken back
            if piece.cycle <= cycle:
                break
        asleep = sleep_cycles - piece.sleep
        awake = cycle - piece.cycle - asleep
        return piece.awake_s + awake / piece.hz, piece.asleep_s + asleep / piece.hz

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
        """Whether the firmware changed the clock (or its wait states) during the run (from
        the clock at reset: the profile's, or the part's with --reset-clock)."""
        return self.count > 0

    def changes(self, until: int | None = None) -> list[ClockChange]:
        """The changes kept for the report (all of them up to 2 x KEEP), in order; with
        ``until``, only those at or before that cycle (a run's end, its last block taken
        back)."""
        kept = [*self._first, *self._last]
        return kept if until is None else [c for c in kept if c.cycle <= until]


def clock_rows(initial_hz: int, initial_wait_states: int, changes: list[ClockChange],
               most: int = 6, total: int | None = None,
               initial: str = "") -> list[tuple[str, str]]:
    """What a run's clock was, a (frequency, since when and from what) row a piece, ``most``
    at most (the first and the last ones, with a count of those between: ``total`` changes in
    all, when ``changes`` keeps only some); none when it never changed. ``initial``: what the
    clock at reset is ("": the target's)."""
    if not changes:
        return []
    total = len(changes) if total is None else total

    def states(n: int) -> str:
        return "1 wait state" if n == 1 else f"{n} wait states"

    source = initial or "the target's"
    rows = [(format_hz(initial_hz), f"from reset ({source}), {states(initial_wait_states)}")]
    rows += [(format_hz(c.hz), f"from {c.seconds * 1e3:,.3f} ms: {c.source}, "
              f"{states(c.wait_states)}") for c in changes]
    if total + 1 > most:
        keep = most - 1
        head, tail = rows[: keep // 2], rows[len(rows) - (keep - keep // 2):]
        rows = [*head, ("...", f"{total + 1 - keep:,} more changes"), *tail]
    return rows

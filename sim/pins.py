"""Levels on the part's GPIO pins: a button, a sensor's data-ready line, a switch, for firmware
that reads its pins or waits for their interrupts.

``--pin PA0=button.csv`` drives pin PA0 from a file of rows ``seconds,level``: from device
time ``seconds`` on (awake and asleep, at the core's clock as the firmware sets it up) the pin
is held at ``level`` (0 or 1) by the outside world, until the next row; before the first row it
is not driven (its pull resistor, if any, decides). Times are non-decreasing (two rows at one
time: the later wins), a header row is skipped; a ``.npy`` of shape (N, 2) is read alike.
``--pin PA0=1`` (or ``=0``) holds the pin at that level for the whole run.

The simulator reads the files before the run: a file that is not such a series is refused with
one line. A driven pin reads its level in GPIOx_IDR while it is an input; its edges reach the
EXTI through SYSCFG's EXTICR (sim/devices/stm32l0_gpio.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.inputs import InputError, read_table

MAX_ROWS = 1 << 24  # level changes one pin's file may hold
MAX_TIME = 1e6  # seconds: a row's time at most (as --run-for's longest run)
_SPEC = re.compile(r"^\s*P([A-Z])(\d{1,2})\s*=\s*(.+?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class PinSpec:
    """``PIN=FILE`` or ``PIN=LEVEL`` as given: the port letter, the pin (0-15), and the file
    of level changes or the constant level."""

    port: str
    number: int
    path: Path | None = None
    level: int | None = None

    @property
    def name(self) -> str:
        return f"P{self.port}{self.number}"

    def __str__(self) -> str:
        return f"{self.name}={self.path if self.path is not None else self.level}"


def parse_spec(text: str, base: Path | None = None) -> PinSpec:
    """``PA0=button.csv``, ``PB3=1`` as a PinSpec, the file relative to ``base``; ValueError
    with one line otherwise."""
    m = _SPEC.match(text)
    if m is None:
        raise ValueError(f"not a pin input: {text!r} (PIN=FILE or PIN=0|1: PA0=button.csv, "
                         "PB3=1)")
    port, number, value = m.group(1).upper(), int(m.group(2)), m.group(3)
    if number > 15:
        raise ValueError(f"pin input {text!r}: a port's pins are 0 to 15")
    if value in ("0", "1"):
        return PinSpec(port, number, level=int(value))
    if re.fullmatch(r"[-+.\d]+", value):
        raise ValueError(f"pin input {text!r}: a level is 0 or 1 (or give a file of "
                         "seconds,level rows)")
    path = Path(value)
    return PinSpec(port, number, path if base is None or path.is_absolute() else base / path)


def check_specs(specs: list[PinSpec], ports: str) -> None:
    """ValueError when a pin is on a port the target lacks (``ports``: its letters) or is
    given twice."""
    seen: set[str] = set()
    for spec in specs:
        if spec.port not in ports:
            raise ValueError(f"pin {spec.name}: the target has ports {', '.join(ports)}")
        if spec.name in seen:
            raise ValueError(f"pin {spec.name} is given twice")
        seen.add(spec.name)


def load_timed(path: Path, what: str, of: str) -> tuple[np.ndarray, np.ndarray]:
    """The (seconds, values) rows of ``path`` (.csv or .npy of two columns), ``what`` it is
    (``"a pin input"``) and ``of`` what rows (``"seconds,level rows"``) saying in an
    InputError with one line why not: times from 0 to MAX_TIME that do not go down."""
    rows = read_table(path, what, of)
    if rows.dtype.kind not in "iufb" or rows.ndim != 2 or rows.shape[1] != 2 or not len(rows):
        raise InputError(f"{path}: {what} is {of} (two numbers a row), not {rows.shape} of "
                         f"{rows.dtype}")
    if len(rows) > MAX_ROWS:
        raise InputError(f"{path}: more than {MAX_ROWS:,} rows")
    times = rows[:, 0].astype(np.float64)
    if not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(times > MAX_TIME):
        raise InputError(f"{path}: every time must be a number of seconds from 0 to "
                         f"{MAX_TIME:,.0f}")
    if np.any(np.diff(times) < 0):
        row = int(np.argmax(np.diff(times) < 0)) + 2
        raise InputError(f"{path}: the times must not go down (row {row:,} of the data is "
                         "earlier than the one before)")
    values = rows[:, 1].astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise InputError(f"{path}: every value must be a finite number")
    return times, values


def load_levels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The (seconds, levels) rows of ``path`` (.csv or .npy of two columns); InputError with
    one line otherwise."""
    times, levels = load_timed(path, "a pin input", "seconds,level rows")
    if not np.all((levels == 0) | (levels == 1)):
        raise InputError(f"{path}: every level must be 0 or 1")
    return times, levels.astype(np.uint8)


class PinInput:
    """One pin's levels during a run: the rows applied so far, in core cycles as the clock
    goes (the simulator converts each row's time when it comes, at the clock then)."""

    def __init__(self, spec: PinSpec) -> None:
        self.spec = spec
        if spec.path is None:
            self.times = np.zeros(1)
            self.levels = np.array([spec.level or 0], dtype=np.uint8)
        else:
            self.times, self.levels = load_levels(spec.path)
        self.applied = 0

    def reset(self) -> None:
        self.applied = 0

    @property
    def level(self) -> int | None:
        """The level the outside holds the pin at now; None: not driven (before the first
        row)."""
        return None if self.applied == 0 else int(self.levels[self.applied - 1])

    def next_time(self) -> float | None:
        """The device time of the next row, None after the last."""
        return None if self.applied >= len(self.times) else float(self.times[self.applied])

    def take(self) -> None:
        """Apply the next row (and the rows at its time after it: the last of them holds)."""
        t = self.times[self.applied]
        self.applied += 1
        while self.applied < len(self.times) and self.times[self.applied] == t:
            self.applied += 1

    @property
    def rows(self) -> int:
        return len(self.times)

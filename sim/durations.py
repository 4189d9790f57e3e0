"""Device time as users write it (``500ms``, ``2s``, ``250us``, ``0.5``) and as reports show
it; ``DurationParam``, the click parameter type of ``--run-for``.

Device time is short: seconds, milliseconds, microseconds. No minutes: ``m`` would be read as
milli by some and minutes by others, and a plain number is seconds, as ``--timeout`` takes.
"""

import math
import re

import click

# divisors, not factors: 9 / 1000 is the double nearest 0.009, 9 * 1e-3 is not
_UNITS = {"": 1, "s": 1, "ms": 1_000, "us": 1_000_000, "µs": 1_000_000, "μs": 1_000_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?\s*([a-zµμ]*)\s*$",
                       re.IGNORECASE)


def parse_duration(text: str | float) -> float:
    """Seconds in ``text``: a number with unit s, ms or us (µs), or a plain number of seconds.

    Raises ValueError with a one-line message for anything else (zero, negative, not finite,
    an unknown unit).
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        m = _DURATION.match(str(text))
        unit = m.group(3).lower() if m else None
        if m is None or unit not in _UNITS:
            raise ValueError(f"not a duration: {text!r} (examples: 500ms, 2s, 250us, 0.5)")
        seconds = float(m.group(1) + (f"e{m.group(2)}" if m.group(2) else "")) / _UNITS[unit]
    if not (0 < seconds < math.inf):
        raise ValueError(f"not a duration: {text!r}: give a finite time of more than 0 s")
    return seconds


def format_duration(seconds: float) -> str:
    """``0.5`` -> ``500 ms``, ``2.0`` -> ``2 s``, ``0.00025`` -> ``250 µs``: the largest unit
    in which it is at least 1 once rounded to six decimals."""
    for divisor, unit in ((1, "s"), (1_000, "ms")):
        value = round(seconds * divisor, 6)
        if value >= 1:
            return f"{value:.10g} {unit}"
    return f"{round(seconds * 1_000_000, 6):.10g} µs"


def out_of_range(value: object, minimum: float, maximum: float) -> str:
    """The one way every entry point says a duration is outside what it takes."""
    return (f"{value!r} is out of range: {format_duration(minimum)} to "
            f"{format_duration(maximum)} of device time")


# Recent clicks type ParamType by its value type, but ParamType[float] fails at run time on the
# older clicks the project supports (click>=8.1): the base stays unsubscripted.
class DurationParam(click.ParamType):  # type: ignore[type-arg]
    """Device time on a command line: ``500ms``, ``2s``, ``250us``, ``0.5`` (seconds), from
    ``minimum`` to ``maximum`` seconds."""

    name = "duration"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            seconds = value if isinstance(value, float) else parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if not self.minimum <= seconds <= self.maximum:
            self.fail(out_of_range(value, self.minimum, self.maximum), param, ctx)
        return seconds

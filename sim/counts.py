"""Counts as users write them on a command line (``30000``, ``30k``, ``1.5M``, ``2G``: decimal
multiples, as a cycle budget is counted) and milliseconds (``16``, ``0.5ms``, ``500us``);
``CountParam`` and ``MillisecondsParam``, their click parameter types. Sizes in bytes are
binary instead (``2k`` is 2,048 bytes: toolchain/sizes.py)."""

import math
import re
from decimal import Decimal, localcontext

import click

from sim.durations import parse_duration

_MULTIPLES = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmg]?)\s*$", re.IGNORECASE)


def parse_count(text: str | int) -> int:
    """The whole number in ``text``: digits, or a number with k (1,000), M (1,000,000) or G
    (10^9) that makes a whole number. ValueError with one line otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    m = _COUNT.match(str(text).replace("_", "").replace(",", ""))
    if m is not None:  # in decimal: 4.1M is 4,100,000 (in binary floating point 4099999.99...)
        with localcontext() as exact:
            exact.prec = 100  # (the default 28 digits would round a longer count)
            value = Decimal(m.group(1)) * _MULTIPLES[m.group(2).lower()]
        if value == value.to_integral_value():
            return int(value)
    raise ValueError(f"{text!r}: give a whole number, e.g. 30000 or 30k (k = 1,000, "
                     "M = 1,000,000, G = 10^9)")


class CountParam(click.ParamType):  # type: ignore[type-arg]
    """A whole number from ``minimum`` to ``maximum`` (None: no bound), k/M/G accepted."""

    name = "count"

    def __init__(self, minimum: int, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        try:
            n = parse_count(value if isinstance(value, int) else str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if n < self.minimum or (self.maximum is not None and n > self.maximum):
            bound = (f"{self.minimum:,} or more" if self.maximum is None
                     else f"{self.minimum:,} to {self.maximum:,}")
            self.fail(f"{value!r} is out of range: give {bound}", param, ctx)
        return n


class MillisecondsParam(click.ParamType):  # type: ignore[type-arg]
    """A positive time in milliseconds: a plain number is milliseconds; with a unit (500us,
    0.5ms, 2s) it is converted."""

    name = "ms"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            ms = float(text)
        except ValueError:
            try:
                ms = parse_duration(text) * 1_000
            except ValueError:
                self.fail(f"{value!r}: give milliseconds, e.g. 16 or 0.5 (or with a unit: "
                          "500us, 0.5ms, 2s)", param, ctx)
        if not ms > 0 and not math.isnan(ms):  # (NaN and inf: the command says what it takes)
            self.fail(f"{value!r}: give a time of more than 0 ms", param, ctx)
        return ms

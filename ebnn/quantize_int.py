"""Integer readings -> input bytes without arithmetic: threshold tables for the C quantisers.

A float model's input byte is ``q(x) = clamp(round_half_even(x / scale) + zero_point, 0, 255)``
in float64 from the value's float32 (ebnn/quantize.py). An integer reading's byte is ``q`` of
the reading as a float32, as training data, ``ebnn eval --input`` and ``NAME_quantize((float)x)``
have it: the reading itself up to 2^24 in magnitude (every int16), the nearest float32 beyond.
For ``scale > 0`` (``InputQuant`` admits no other) every step is monotonic non-decreasing in
the reading: rounding to float32, a correctly rounded division by a positive number, rounding
to an integer, adding one, the clamp. So over the integers ``lo..hi`` of a C type, a channel's
byte is ``base + #{k : x > limit[k]}`` with ``base`` the byte of ``lo`` and ``limit[k]`` the
largest reading whose byte is below ``base + 1 + k`` (``hi``, which no reading exceeds, once
``base + 1 + k`` is past the byte of ``hi``): 255 sorted limits, counted in C by an 8-step
binary search.

The limits are found with the reference function itself (``InputQuant.apply``), by binary
search over the type's range; ``check`` compares the table with the reference for every
reading (int16) or on both sides of every limit (int32, where monotonicity makes that enough),
so a table that is not the reference's bytes is never written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ebnn.quantize import InputQuant

STEPS = 255  # limits per channel: one per byte above the lowest


@dataclass(frozen=True)
class IntType:
    """A C integer type the readings come in."""

    suffix: str  # of the function name: <prefix>_quantize_<suffix>
    ctype: str
    lo: int
    hi: int
    lo_text: str  # lo as a C constant of the type (-2147483648 is no int literal)

    @property
    def size(self) -> int:
        return 2 if self.ctype == "int16_t" else 4

    def bytes_per_channel(self) -> int:
        """Flash of one channel's table: its limits and its base byte."""
        return STEPS * self.size + 1


INT16 = IntType("i16", "int16_t", -(2**15), 2**15 - 1, "-32768")
INT32 = IntType("i32", "int32_t", -(2**31), 2**31 - 1, "INT32_MIN")
INT_TYPES = (INT16, INT32)


def reference(quant: InputQuant, x: np.ndarray) -> np.ndarray:
    """The bytes of integer readings ``x`` (..., C): the reference quantisation of their
    float32 values."""
    with np.errstate(over="ignore"):  # x / 5e-324 is inf, which the clamp makes 255
        return quant.apply(np.asarray(x).astype(np.float32))


@dataclass(frozen=True)
class IntTable:
    """Per channel: the byte of the lowest reading and the 255 limits above it."""

    kind: IntType
    base: np.ndarray  # (C,) uint8
    limits: np.ndarray  # (C, 255) int64, each row non-decreasing, in kind.lo..kind.hi

    def apply(self, x: np.ndarray) -> np.ndarray:
        """What the C function computes for readings ``x`` (..., C): the host's model of it."""
        x = np.asarray(x, np.int64)
        flat = x.reshape(-1, self.base.size)
        out = np.empty(flat.shape, np.int64)
        for c in range(self.base.size):
            out[:, c] = np.searchsorted(self.limits[c], flat[:, c], side="left")
        out += self.base.astype(np.int64)
        return out.astype(np.uint8).reshape(x.shape)


def first_reaching(quant: InputQuant, lo: int, hi: int) -> np.ndarray:
    """(255, C): for byte b = 1..255 (row b - 1) the smallest integer reading in lo..hi of
    each channel whose byte is at least b, hi + 1 for none; by binary search with the
    reference (monotonic in the reading)."""
    want = np.arange(1, STEPS + 1, dtype=np.int64)[:, None]
    low = np.full((STEPS, quant.channels), lo, np.int64)
    high = np.full((STEPS, quant.channels), hi + 1, np.int64)
    while np.any(low < high):
        mid = (low + high) // 2  # < high <= hi + 1: a reading of the type
        reached = reference(quant, np.minimum(mid, hi)) >= want
        high = np.where(reached, mid, high)
        low = np.where(reached, low, np.minimum(mid + 1, high))
    return low


def table(quant: InputQuant, kind: IntType) -> IntTable:
    """The checked table of ``quant`` for readings of ``kind``."""
    first = first_reaching(quant, kind.lo, kind.hi)
    base = reference(quant, np.full((1, quant.channels), kind.lo))[0].astype(np.int64)
    byte = base[:, None] + 1 + np.arange(STEPS)  # (C, 255): the byte each limit leads to
    reached = first[np.minimum(byte, STEPS) - 1, np.arange(quant.channels)[:, None]]
    limits = np.where((byte <= STEPS) & (reached <= kind.hi), reached - 1, kind.hi)
    result = IntTable(kind, base.astype(np.uint8), limits)
    check(quant, result)
    return result


def check(quant: InputQuant, tab: IntTable) -> None:
    """Raise if ``tab`` gives any reading of its type another byte than the reference: every
    int16 reading; for int32, both sides of every limit and the ends of the range."""
    kind = tab.kind
    if kind.hi - kind.lo < 2**17:
        readings = np.arange(kind.lo, kind.hi + 1, dtype=np.int64).astype(np.float32)
        for start in range(0, quant.channels, 64):  # 64 channels of 65,536 readings at a time
            end = min(start + 64, quant.channels)
            sub = InputQuant(quant.scale[start:end], quant.zero_point[start:end])
            x = np.broadcast_to(readings[:, None], (readings.size, sub.channels))
            _same(reference(sub, x), _every_reading(tab, start, end), start)
        return
    x = np.concatenate([tab.limits.T, np.minimum(tab.limits.T + 1, kind.hi),
                        np.full((1, quant.channels), kind.lo),
                        np.full((1, quant.channels), kind.hi)])
    _same(reference(quant, x), tab.apply(x))


def _every_reading(tab: IntTable, start: int, end: int) -> np.ndarray:
    """(hi - lo + 1, end - start): the table's byte of every reading of channels start..end,
    from where each limit lets the count step up (at limit + 1)."""
    kind, width = tab.kind, end - start
    steps = np.zeros((width, kind.hi - kind.lo + 2), np.uint8)  # 255 steps at most: no wrap
    np.add.at(steps, (np.arange(width)[:, None], tab.limits[start:end] - kind.lo + 1), 1)
    counts = np.cumsum(steps[:, :-1], axis=1, dtype=np.uint8) + tab.base[start:end, None]
    out: np.ndarray = counts.T
    return out


def _same(expected: np.ndarray, got: np.ndarray, first_channel: int = 0) -> None:
    if not np.array_equal(expected, got):
        reading, channel = (int(i) for i in np.argwhere(expected != got)[0])
        raise AssertionError(f"integer quantisation table differs from the reference on "
                             f"channel {first_channel + channel} (row {reading}): "
                             f"{got[reading, channel]} for {expected[reading, channel]}")

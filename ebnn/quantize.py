"""8-bit input quantisation: float samples -> the uint8 values the firmware reads.

Per channel ``c`` (the last axis of a sample), with ``scale[c] > 0`` and an integer
``zero_point[c]`` fitted on the training split::

    q = clamp(round_half_even(x / scale[c]) + zero_point[c], 0, 255)

computed in float64 from the float32 value. ``fit`` maps each channel's training range
[min, max] onto 0..255 (``scale = (max - min) / 255``, ``zero_point = round(-min / scale)``;
a constant channel gets scale 1). The numpy reference, training and evaluation in torch, and
``ebnn-sim run --input`` (sim/inputs.py, which repeats these three lines because sim/ imports
nothing from ebnn/) all apply exactly this, so the same float sample is the same bytes
everywhere. A model trained on uint8 data (pixels) has no quantisation: its input is the
bytes as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.inputs import FAR_SHARE, far_beyond

MAX_ZERO_POINT = 2**31 - 1


class QuantError(ValueError):
    """A quantisation record that cannot be right; ``str()`` is one line."""


@dataclass(frozen=True)
class InputQuant:
    """Per-channel scale and zero point of a model's float input."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.scale or len(self.scale) != len(self.zero_point) or len(self.scale) > 4096:
            raise QuantError("input quantisation needs one scale and one zero point per channel")
        for s in self.scale:
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not (
                    math.isfinite(s) and s > 0):
                raise QuantError(f"input scale must be a finite number > 0, got {s!r:.40}")
        for z in self.zero_point:
            if isinstance(z, bool) or not isinstance(z, int) or abs(z) > MAX_ZERO_POINT:
                raise QuantError(f"input zero point must be an integer of at most "
                                 f"{MAX_ZERO_POINT} in magnitude, got {z!r:.40}")

    @property
    def channels(self) -> int:
        return len(self.scale)

    def to_dict(self) -> dict[str, Any]:
        return {"dtype": "float32", "scale": [float(s) for s in self.scale],
                "zero_point": [int(z) for z in self.zero_point]}

    @staticmethod
    def from_dict(raw: Any) -> InputQuant:
        if not isinstance(raw, dict) or raw.get("dtype") != "float32":
            raise QuantError("input quantisation must be an object with dtype 'float32'")
        scale, zero = raw.get("scale"), raw.get("zero_point")
        if not isinstance(scale, list) or not isinstance(zero, list):
            raise QuantError("input quantisation needs lists 'scale' and 'zero_point'")
        return InputQuant(tuple(scale), tuple(zero))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """The uint8 input for float samples ``x`` (..., C)."""
        x = np.asarray(x)
        if x.shape[-1:] != (self.channels,):
            raise QuantError(f"samples have {x.shape[-1:] or 'no'} channels, the quantisation "
                             f"{self.channels}")
        q = self.unclamped(x)
        q[np.isnan(q)] = 0.0  # a NaN reads 0 (as the C quantiser), not whatever a cast makes
        out: np.ndarray = np.clip(q, 0, 255).astype(np.uint8)
        return out

    def unclamped(self, x: np.ndarray) -> np.ndarray:
        """``round_half_even(x / scale) + zero_point`` of float samples ``x`` (..., C), in
        float64, before the clamp to 0..255."""
        q = np.rint(np.asarray(x).astype(np.float64) / np.asarray(self.scale, np.float64))
        q += np.asarray(self.zero_point, np.float64)
        return q


def beyond_range(x: np.ndarray, quant: InputQuant) -> float:
    """The share of the values of float samples ``x`` that lie far beyond the range the
    model's training data had, by more than half that range, where ``quant`` clamps them
    (0 for no values). A test split a little wider than the training split's (a few rows of
    tabular data) is not counted; one on another scale (0..255 beside 0..1) is."""
    x = np.asarray(x)
    if x.size == 0 or x.shape[-1:] != (quant.channels,):
        return 0.0
    return far_beyond(quant.unclamped(x))


def collapsed_positions(x: np.ndarray, q: np.ndarray) -> tuple[int, int]:
    """(positions whose float values vary but whose quantised bytes ``q`` do not, positions)
    of samples ``x`` (N, ..., C): features that share a channel's scale with ones of a far
    larger range become one constant byte (a CSV row of F features as an [F, 1] input)."""
    flat_x = np.asarray(x).reshape(len(x), -1)  # no float64 copy of the data
    flat_q = np.asarray(q).reshape(len(q), -1)
    if len(flat_x) < 2:
        return 0, flat_x.shape[1]
    lo = flat_x.min(axis=0).astype(np.float64)
    hi = flat_x.max(axis=0).astype(np.float64)
    # float rounding noise (1e-16 round a constant border) is no variation
    varies = hi - lo > 1e-9 * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
    constant = flat_q.min(axis=0) == flat_q.max(axis=0)
    return int(np.count_nonzero(varies & constant)), flat_x.shape[1]


# a share of clamped values beyond which the data is likely on another scale than training's
# (the simulator's, for --input files)
BEYOND_WARN = FAR_SHARE


def fit(x: np.ndarray) -> InputQuant:
    """Scale and zero point per channel (last axis) mapping [min, max] of ``x`` onto 0..255."""
    flat = np.asarray(x, np.float64).reshape(-1, x.shape[-1])
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    scales, zeros = [], []
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        s = (b - a) / 255.0 if b > a else 1.0
        if not s > 0 or not math.isfinite(s):  # a range below float64's resolution
            s = 1.0
        z = round(-a / s)
        if abs(z) > MAX_ZERO_POINT:
            raise QuantError(f"input values from {a:g} to {b:g} cannot be quantised to 8 bits "
                             "with an int32 zero point; shift or scale them first")
        scales.append(s)
        zeros.append(int(z))
    return InputQuant(tuple(scales), tuple(zeros))


def to_uint8(x: np.ndarray, quant: InputQuant | None) -> np.ndarray:
    """Samples as the model reads them: through ``quant`` when the model has one (whatever
    their type: a model trained on float data always quantises), else uint8 as they are."""
    if quant is not None:
        return quant.apply(x)
    if x.dtype != np.uint8:
        raise QuantError("float samples for a model trained on 8-bit data (whole numbers "
                         "0..255), which has no input quantisation: give the values as its "
                         "training data had them")
    return x

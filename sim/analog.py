"""Voltages on the ADC's pins: recorded sensor data for firmware that samples it.

``--analog 3=accel.csv`` feeds the ADC's channel 3 (pin IN3) from a file of volts: a ``.csv``
of one column (or one row) of numbers, a header row skipped, or a 1-D ``.npy``. Each conversion
of the channel reads the next value (the values are samples, taken as the firmware takes them);
``--analog 3=accel.csv@100Hz`` plays them in device time instead, value ``floor(t x 100)`` at
device time ``t`` (a recording at its own rate, which the firmware samples at its own). Past the
end, a conversion reads the last value (the report says how many did). The ADC converts a
value ``v`` to ``round(v / VDDA x 4095)``, clamped to the rails 0 and VDDA (3.0 V, the
simulator's supply: the factory calibration's condition), at 12 bits and as fewer.

A pin may be named instead: ``--analog PA3=...`` is channel 3 (PA0-PA7 are IN0-IN7, PB0 and PB1
IN8 and IN9); ``--analog PB5=level.csv@1kHz`` gives a pin that is no ADC channel its volts, for
the comparators (sim/devices/stm32l0_comp.py: PB3-PB7 only, at a rate), which see the same
values as the pins' voltages (``volts_at``: nothing used up).

The supply: ``--analog VDDA=battery.csv@1Hz`` plays the part's supply voltage (VDDA, the ADC's
reference; VDD with it on the small packages) in device time, a battery's discharge for
firmware that watches it: each conversion then reads ``round(v / VDDA x 4095)`` at the VDDA of
its own time, and VREFINT (a fixed 1.224 V: VREFINT_CAL's 1,671 at the calibration's 3.0 V) and
the temperature sensor read more as VDDA falls, as on the chip, so the HAL's
``__LL_ADC_CALC_VREFANALOG_VOLTAGE`` gives the played voltage back. Its values must stay within
the part's supply range, 1.65 V to 3.6 V (a brown-out is not modelled); without it VDDA is 3.0 V.

The simulator reads the files before the run: a file that is not a series of finite numbers is
refused with one line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.inputs import InputError, read_table

VDDA = 3.0  # volts: the ADC's reference, the part's supply in the simulator (without VDDA=)
SUPPLY = "VDDA"  # --analog's key for the supply's values
SUPPLY_RANGE = (1.65, 3.6)  # volts: the STM32L031's supply range (its datasheet's)
MAX_SAMPLES = 1 << 24  # values one channel's file may hold (128 MiB as float64)
MIN_RATE, MAX_RATE = 1e-3, 1e9  # samples per second
PINS = range(16)  # the ADC's external channels, IN0 ... IN15
# the STM32L031's pins that are ADC channels: IN0-IN7 on PA0-PA7, IN8 and IN9 on PB0 and PB1
ADC_PINS = {**{f"PA{n}": n for n in range(8)}, "PB0": 8, "PB1": 9}
# the pins no ADC channel reaches that something reads volts from: the comparators' PB3-PB7
COMPARATOR_PINS = ("PB3", "PB4", "PB5", "PB6", "PB7")


def sample_index(seconds: float, rate: float) -> int:
    """The sample of a series played at ``rate`` that holds at device time ``seconds``,
    ``floor(seconds x rate)``: a sample's own instant (``k / rate``, whose product may come
    back from the float a hair below ``k``) counts as that sample."""
    x = seconds * rate
    return int(x + 1e-9 + x * 1e-12)
_SPEC = re.compile(r"^\s*(\d+|P[A-Z]\d{1,2}|VDDA)\s*=\s*(.+?)(?:@\s*([0-9.e+-]+)\s*(hz|khz|mhz)?)?"
                   r"\s*$", re.IGNORECASE)
# what follows a file name's last '@' when it was meant as a rate: no path, no suffix
_RATE_LIKE = re.compile(r"^[0-9.eE+-]*\s*[a-zA-Z]{0,4}$")
_RATE_UNITS = {"hz": 1.0, "khz": 1e3, "mhz": 1e6}


@dataclass(frozen=True)
class AnalogSpec:
    """``CHANNEL=FILE[@RATE]`` or ``PIN=FILE[@RATE]`` as given: the ADC channel (a pin that is
    one is given by its channel), or the pin that is none (``pin``, channel -1: a comparator's
    input, PB3-PB7; or ``VDDA``, the supply), the file, and samples per second of device time
    (None: a value per conversion)."""

    channel: int
    path: Path
    rate: float | None = None
    pin: str = ""

    @property
    def key(self) -> int | str:
        """What the run's values are found by: the channel, or the pin's name."""
        return self.pin or self.channel

    @property
    def label(self) -> str:
        """``channel 3``, ``pin PB5``, ``supply VDDA``."""
        if self.pin == SUPPLY:
            return f"supply {SUPPLY}"
        return f"pin {self.pin}" if self.pin else f"channel {self.channel}"

    def __str__(self) -> str:
        rate = "" if self.rate is None else f"@{self.rate:g}Hz"
        return f"{self.key}={self.path}{rate}"


def parse_spec(text: str, base: Path | None = None) -> AnalogSpec:
    """``3=accel.csv``, ``3=accel.csv@100Hz`` (``kHz``, ``MHz``, or a plain number of Hz) as
    an AnalogSpec, the file relative to ``base``; ValueError with one line otherwise."""
    m = _SPEC.match(text)
    if m is None:
        raise ValueError(f"not an analog input: {text!r} (CHANNEL=FILE, PIN=FILE or with "
                         "@RATE: 3=accel.csv, 3=accel.csv@100Hz, PB5=level.csv@1kHz, "
                         "VDDA=battery.csv@1Hz)")
    pin = ""
    if m.group(1).upper() == SUPPLY:
        channel, pin = -1, SUPPLY
    elif m.group(1).isdigit():
        channel = int(m.group(1))
        if channel not in PINS:
            raise ValueError(f"analog input {text!r}: channel {channel} is not one of the "
                             "ADC's pins, 0 to 15")
    else:
        given = m.group(1).upper()
        if int(given[2:]) > 15:
            raise ValueError(f"analog input {text!r}: a port's pins are 0 to 15")
        name = f"P{given[1]}{int(given[2:])}"  # (PA03: PA3)
        channel = ADC_PINS.get(name, -1)
        if channel < 0:  # (an ADC pin is given by its channel)
            if name not in COMPARATOR_PINS:
                raise ValueError(f"analog input {text!r}: {name} is neither an ADC channel's "
                                 f"pin ({', '.join(ADC_PINS)}) nor a comparator's input "
                                 f"({', '.join(COMPARATOR_PINS)})")
            pin = name
    rate = None
    if m.group(3) is not None:
        try:
            rate = float(m.group(3)) * _RATE_UNITS[(m.group(4) or "hz").lower()]
        except ValueError:
            rate = math.nan
        if not MIN_RATE <= rate <= MAX_RATE:
            raise ValueError(f"analog input {text!r}: a rate of {MIN_RATE:g} Hz to "
                             f"{MAX_RATE:g} Hz, such as 100Hz or 1kHz")
    if pin == SUPPLY and rate is None:
        raise ValueError(f"analog input {text!r}: the supply plays in device time: give its "
                         "values a rate, VDDA=FILE@1Hz")
    if pin and rate is None:
        raise ValueError(f"analog input {text!r}: {pin} is no ADC channel's pin (no conversion "
                         f"moves its values on): give them a rate, {pin}=FILE@1kHz")
    path = Path(m.group(2).strip())
    if rate is None and "@" in path.name:
        tail = path.name.rsplit("@", 1)[1].strip()
        if _RATE_LIKE.match(tail) and not path.exists():
            raise ValueError(f"analog input {text!r}: not a rate: {tail!r} (100Hz, 1kHz, 2MHz, "
                             "or a number of Hz)")
    return AnalogSpec(channel, path if base is None or path.is_absolute() else base / path, rate,
                      pin)


def check_specs(specs: list[AnalogSpec]) -> None:
    """ValueError when a channel is not a pin or two feed one channel (or pin)."""
    seen: set[int | str] = set()
    for spec in specs:
        if spec.pin == SUPPLY and spec.rate is None:
            raise ValueError("the supply VDDA plays in device time: give its values a rate "
                             "(VDDA=FILE@1Hz)")
        if spec.pin and (spec.pin not in (*COMPARATOR_PINS, SUPPLY) or spec.rate is None):
            raise ValueError(f"analog pin {spec.pin!r}: by name only {', '.join(COMPARATOR_PINS)}"
                             " (the comparators' inputs no ADC channel reaches), at a rate")
        if not spec.pin and spec.channel not in PINS:
            raise ValueError(f"analog channel {spec.channel} is not one of the ADC's pins, 0 "
                             "to 15")
        if spec.key in seen:
            raise ValueError(f"analog {spec.label} is given twice")
        seen.add(spec.key)


def load_supply(path: Path) -> np.ndarray:
    """The supply's series of volts in ``path`` (load_volts), each within SUPPLY_RANGE;
    InputError with one line otherwise."""
    series = load_volts(path)
    low, high = SUPPLY_RANGE
    outside = np.flatnonzero((series < low) | (series > high))
    if outside.size:
        raise InputError(f"{path}: value {outside[0] + 1} ({series[outside[0]]:g} V) is outside "
                         f"the part's supply range, {low:g} V to {high:g} V (a brown-out is "
                         "not modelled)")
    return series


def load_volts(path: Path) -> np.ndarray:
    """The series of volts in ``path`` (.csv: one column or one row; .npy: one dimension, or
    one column or row); InputError with one line otherwise."""
    values = read_table(path, "an analog input", "volts")
    if values.dtype.kind not in "iuf" or values.ndim > 2 or (
            values.ndim == 2 and min(values.shape) != 1) or values.size == 0:
        raise InputError(f"{path}: an analog input is one series of numbers (volts): one "
                         f"column or one row, not {values.shape} of {values.dtype}")
    if values.size > MAX_SAMPLES:  # (before the float64 copy: 8 bytes a value)
        raise InputError(f"{path}: more than {MAX_SAMPLES:,} values")
    series = values.astype(np.float64).reshape(-1)
    if not np.all(np.isfinite(series)):
        raise InputError(f"{path}: every value must be a finite number of volts")
    return series


@dataclass
class AnalogInput:
    """One channel's values during a run, and how the run read them."""

    spec: AnalogSpec
    volts: np.ndarray
    conversions: int = 0  # conversions that read it
    past_end: int = 0  # of them, past the last value (they read the last)
    clamped: int = 0  # of them, beyond the rails 0 and VDDA
    _clamped_volts: np.ndarray | None = field(default=None, repr=False, compare=False)

    def reset(self) -> None:
        self.conversions = self.past_end = self.clamped = 0

    def clamped_volts(self) -> np.ndarray:
        """The values clamped to the rails 0 and VDDA (what a comparator sees; computed once)."""
        if self._clamped_volts is None:
            self._clamped_volts = np.clip(self.volts, 0.0, VDDA)
        return self._clamped_volts

    def volts_at(self, seconds: float) -> float:
        """The pin's voltage at device time ``seconds`` (clamped to the rails), nothing used
        up: played at a rate, that instant's value; else the value the next conversion reads."""
        rate = self.spec.rate
        index = self.conversions if rate is None else sample_index(seconds, rate)
        return float(self.clamped_volts()[min(index, len(self.volts) - 1)])

    def supply_at(self, seconds: float) -> float:
        """The supply's value at device time ``seconds`` (the VDDA input: at a rate), for a
        conversion: counted, and past the recording's end (its last value) too."""
        index = sample_index(seconds, self.spec.rate or 1.0)
        self.conversions += 1
        if index >= len(self.volts):
            self.past_end += 1
            index = len(self.volts) - 1
        return float(self.volts[index])

    def code(self, seconds: float, vdda: float = VDDA) -> int:
        """The 12-bit result of a conversion at device time ``seconds``, VDDA ``vdda`` then."""
        rate = self.spec.rate
        # (a sample's own instant counts as it: 0.29 s at 100 Hz is sample 29, not 28.999...)
        index = self.conversions if rate is None else sample_index(seconds, rate)
        self.conversions += 1
        if index >= len(self.volts):
            self.past_end += 1
            index = len(self.volts) - 1
        volts = float(self.volts[index])
        if not 0.0 <= volts <= vdda:
            self.clamped += 1
            volts = min(max(volts, 0.0), vdda)
        return round(volts / vdda * 4095)

    def summary(self) -> dict[str, object]:
        return {"file": str(self.spec.path), "rate_hz": self.spec.rate,
                "samples": len(self.volts), "conversions": self.conversions,
                "past_end": self.past_end, "clamped": self.clamped}

    def notes(self) -> list[str]:
        """What the report warns of: conversions past the data, values beyond the rails."""
        name, out = f"analog {self.spec.label} ({self.spec.path.name})", []
        if self.past_end:
            out.append(f"{name}: {self.past_end:,} of {self.conversions:,} conversions came "
                       f"after its {len(self.volts):,} values: they read the last one")
        if self.clamped:
            out.append(f"{name}: {self.clamped:,} conversions read a value beyond 0 V to "
                       "VDDA, taken as the rail")
        return out

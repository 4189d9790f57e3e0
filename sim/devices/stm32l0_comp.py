"""The STM32L0x1's two comparators, COMP1 and COMP2 (RM0377; their registers COMP1_CSR and
COMP2_CSR at 0x40010018 and 0x4001001C, inside SYSCFG: sim/devices/stm32l0_gpio.py), as
STM32CubeL0's HAL_COMP and LL_COMP drive them: an analog watchdog that wakes the part from Stop
mode when a sensor's voltage crosses a threshold, a window comparator, a polled level.

A comparator's output is high while its plus input's voltage is above its minus input's (the
other way round with POLARITY), low while it is off (EN clear). Its inputs (CSR fields, the
STM32L031's pins):

- COMP1: plus PA1; minus (INNSEL, 2 bits) VREFINT, PA0, PA4, PA5 (the DAC's outputs' pins on
  parts that have one: the L031 has none). COMP1WM (window mode) connects COMP2's plus input to
  COMP1's (PA1): the common input, as the HAL documents it.
- COMP2: plus (INPSEL) PA3, PB4, PB5, PB6, PB7 (101, PA7, only on category 1 parts: reserved
  here, as 110 and 111); minus (INNSEL, 3 bits) VREFINT, PA2, PA4, PA5, 1/4, 1/2 or 3/4 of
  VREFINT, PB3.

VREFINT is the factory calibration's value (VREFINT_CAL x 3.0 V / 4095: 1.224 V,
sim/devices/stm32l0_factory.py). A pin's voltage is the run's ``--analog`` values for its ADC
channel (PA0-PA7 are IN0-IN7; sim/analog.py), clamped to the rails 0 and VDDA: played at a rate,
the value of device time ``t`` (the output changes at the instant of the sample that crosses,
to the cycle, also while the core sleeps or is in Stop mode); without a rate, the value the
channel's next conversion reads (it changes as the ADC converts). A pin without such values, and
PB3-PB7 (no ADC channel: no way to give their voltage), is taken as 0 V and listed when the
comparator is enabled with it (``COMP2 plus input PB4: not an ADC pin, its voltage is not
modelled (0 V)``).

The output drives EXTI line 21 (COMP1) or 22 (COMP2) (sim/devices/stm32l0_exti.py): each edge,
at its own cycle, is latched in PR as RTSR and FTSR select, the interrupt (IRQ 12, ADC_COMP) or
the wake-up event; an enable, a disable or a change of the inputs or the polarity that changes
the output is an edge too. VALUE (bit 30, read-only) reads the output. LOCK (bit 31) makes the
register read-only until a reset of the part (writes ignored, listed). SPEED (COMP2) reads back.

Not modelled: the output's way to LPTIM1 (COMP1LPTIMIN1, COMP2LPTIMIN1, COMP2LPTIMIN2: listed
when set), to TIM2, TIM21 and TIM22's remapped inputs (their OR registers list it) and to the
pins (alternate function 7); the comparators' start-up and propagation times (the output
follows its inputs at once) and their offset; a pin's GPIO mode (the chip wants it analog). A
COMP2 minus input from VREFINT without SYSCFG_CFGR3.ENBUFLP_VREFINT_COMP (bit 12), which the HAL
sets for it, is listed and taken as VREFINT all the same. The SYSCFG's clock (RCC APB2ENR
SYSCFGEN) gates the registers, not the comparators, which run on in Stop mode; held in reset
(APB2RSTR SYSCFGRST), they are off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.analog import VDDA
from sim.devices.stm32l0_factory import VREFINT_CAL

if TYPE_CHECKING:
    from sim.analog import AnalogInput
    from sim.devices import Device, DeviceHost

COMP1_CSR, COMP2_CSR = 0x18, 0x1C  # SYSCFG's offsets
EN, SPEED, WM, POLARITY, VALUE, LOCK = 1, 1 << 3, 1 << 8, 1 << 15, 1 << 30, 1 << 31
ENBUFLP_VREFINT_COMP = 1 << 12  # SYSCFG_CFGR3
VREFINT = VREFINT_CAL * VDDA / 4095  # volts
EXTI_LINES = (21, 22)
NEVER = 1 << 64


@dataclass(frozen=True)
class Source:
    """A comparator input: a pin (its name and ADC channel, None for a pin the ADC does not
    reach), a fraction of VREFINT, or nothing the part connects (``name`` says which)."""

    name: str
    channel: int | None = None
    vrefint: float = 0.0  # its fraction of VREFINT (a reference)
    pin: bool = False

    def constant(self) -> float | None:
        """Its voltage when it is a reference, else None."""
        return None if self.pin else self.vrefint * VREFINT


def _pin(name: str) -> Source:
    port, number = name[1], int(name[2:])
    return Source(name, number if port == "A" and number < 8 else None, pin=True)


def _ref(name: str, fraction: float) -> Source:
    return Source(name, vrefint=fraction)


_RESERVED = Source("reserved")
COMP1_PLUS = _pin("PA1")
COMP1_MINUS = (_ref("VREFINT", 1.0), _pin("PA0"), _pin("PA4"), _pin("PA5"))
COMP2_PLUS = (_pin("PA3"), _pin("PB4"), _pin("PB5"), _pin("PB6"), _pin("PB7"), _RESERVED,
              _RESERVED, _RESERVED)
COMP2_MINUS = (_ref("VREFINT", 1.0), _pin("PA2"), _pin("PA4"), _pin("PA5"),
               _ref("1/4 VREFINT", 0.25), _ref("1/2 VREFINT", 0.5), _ref("3/4 VREFINT", 0.75),
               _pin("PB3"))
WRITABLE = (EN | 0x30 | WM | 1 << 12 | POLARITY | LOCK,
            EN | SPEED | 0x70 | 0x700 | 3 << 12 | POLARITY | LOCK)
LPTIM_BITS = ((1 << 12, "COMP1LPTIMIN1"), (3 << 12, "COMP2LPTIMIN1/IN2"))


class Comparators:
    """COMP1 and COMP2 of one SYSCFG (``owner``, the device their registers are listed
    against): their CSRs, outputs and the plan for the next change of an output."""

    def __init__(self, owner: Device, host: DeviceHost, cfgr3: Callable[[], int]) -> None:
        self.owner, self.host, self._cfgr3 = owner, host, cfgr3
        self.csr = [0, 0]
        self.out = [False, False]  # the outputs as the EXTI last saw them
        self._next = [NEVER, NEVER]  # the core cycle of each output's next change
        self._next_t: list[float | None] = [None, None]  # and its device time
        self.running = True  # False in Stand-by mode: nothing changes

    def reset(self) -> None:
        """Both off (CSRs 0): an output that was high falls."""
        self.csr = [0, 0]
        for n in (0, 1):
            self._set_out(n, False)
        self._plan()

    # --- inputs --------------------------------------------------------------------------------
    def inputs(self, n: int) -> tuple[Source, Source]:
        """Comparator ``n``'s (0: COMP1) plus and minus inputs as its CSR selects them."""
        csr = self.csr[n]
        if n == 0:
            return COMP1_PLUS, COMP1_MINUS[csr >> 4 & 3]
        plus = COMP1_PLUS if self.csr[0] & WM else COMP2_PLUS[csr >> 8 & 7]
        return plus, COMP2_MINUS[csr >> 4 & 7]

    def _series(self, source: Source) -> AnalogInput | None:
        return None if source.channel is None else self.host.analog_input(source.channel)

    def _volts(self, source: Source, seconds: float) -> float:
        constant = source.constant()
        if constant is not None:
            return constant
        series = self._series(source)
        return 0.0 if series is None else series.volts_at(seconds)

    def level(self, n: int, seconds: float) -> bool:
        """Comparator ``n``'s output at device time ``seconds``."""
        csr = self.csr[n]
        if not csr & EN:
            return False
        plus, minus = self.inputs(n)
        return (self._volts(plus, seconds) > self._volts(minus, seconds)) != bool(
            csr & POLARITY)

    def _next_change(self, n: int, seconds: float) -> float | None:
        """The device time after ``seconds`` at which comparator ``n``'s output next differs
        from its level at ``seconds`` (an input's sample that crosses); None when no input
        played at a rate changes any more."""
        csr = self.csr[n]
        if not csr & EN:
            return None
        # each side: (its constant volts, or None and the series played at its rate)
        sides: list[tuple[float, np.ndarray | None, float]] = []
        for source in self.inputs(n):
            series = self._series(source)
            rate = None if series is None else series.spec.rate
            if series is None or rate is None:
                sides.append((self._volts(source, seconds), None, 0.0))
            else:
                sides.append((0.0, series.clamped_volts(), rate))
        timed: list[tuple[np.ndarray, float]] = [(v, r) for _, v, r in sides if v is not None]
        if not timed:
            return None
        now = self.level(n, seconds)
        invert = bool(csr & POLARITY)
        chunk = 64
        start = seconds
        while True:
            times = []
            horizon = np.inf
            for volts, rate in timed:
                first = int(start * rate + 1e-9) + 1
                last = min(first + chunk, len(volts))
                if first >= len(volts):
                    continue  # past its last value: it stays
                times.append(np.arange(first, last) / rate)
                if last < len(volts):
                    horizon = min(horizon, (last - 1) / rate)
            if not times:
                return None
            t = np.unique(np.concatenate(times))
            t = t[t <= horizon]
            values = []
            for const, samples, rate in sides:
                if samples is None:
                    values.append(np.full(len(t), const))
                else:
                    index = np.minimum((t * rate + 1e-9).astype(np.int64), len(samples) - 1)
                    values.append(samples[index])
            out = (values[0] > values[1]) != invert
            differ = np.flatnonzero(out != now)
            if differ.size:
                return float(t[differ[0]])
            start = float(t[-1])
            chunk = min(chunk * 8, 1 << 20)

    # --- the outputs over time -----------------------------------------------------------------
    def _set_out(self, n: int, level: bool) -> None:
        if level != self.out[n]:
            self.out[n] = level
            from sim.devices.stm32l0_exti import Stm32l0Exti

            exti = self.host.device(Stm32l0Exti.name)
            if isinstance(exti, Stm32l0Exti):
                exti.edge(EXTI_LINES[n], level)

    def _plan(self, at: int | None = None) -> None:
        """Plan each output's next change after cycle ``at`` (default now; none while off or
        not running)."""
        seconds = self.host.seconds_at(self.host.exceptions.now if at is None else at)
        for n in (0, 1):
            t = self._next_change(n, seconds) if self.running else None
            self._next_t[n] = t
            self._next[n] = NEVER if t is None else self.host.cycle_at(t)
        due = min(self._next)
        self.host.exceptions.set_timer(self, None if due == NEVER else due, self._event)

    def _event(self) -> None:
        """The timer's event: the changes due by now, then the next plan."""
        self._catch_up(self.host.exceptions.now)
        self._plan()

    def _catch_up(self, until: int) -> None:
        """The outputs' changes due by cycle ``until``, one at a time in time order (a pulse
        between two block boundaries is not lost)."""
        while True:
            n = min((0, 1), key=lambda k: self._next[k])
            t = self._next_t[n]
            if self._next[n] > until or t is None:
                break
            self._set_out(n, not self.out[n])
            after = self._next_change(n, t)
            self._next_t[n] = after
            self._next[n] = NEVER if after is None else self.host.cycle_at(after)

    def update(self, at: int | None = None) -> None:
        """Settle the outputs at cycle ``at`` (default now: a register write's, an input's
        change) and plan again."""
        if self.running:
            seconds = self.host.seconds_at(self.host.exceptions.now if at is None else at)
            for n in (0, 1):
                self._set_out(n, self.level(n, seconds))
        self._plan(at)

    # --- the registers -------------------------------------------------------------------------
    def read(self, offset: int, at: int) -> int:
        n = 0 if offset == COMP1_CSR else 1
        seconds = self.host.seconds_at(at)
        return self.csr[n] | (VALUE if self.running and self.level(n, seconds) else 0)

    def write(self, offset: int, size: int, value: int, at: int) -> None:
        """A CSR write (``value``, the whole register merged) at cycle ``at``."""
        n = 0 if offset == COMP1_CSR else 1
        name = f"COMP{n + 1}"
        if self.csr[n] & LOCK:
            self.host.unmodelled(self.owner, offset, size, value, f"ignored: {name}_CSR is "
                                 f"locked ({name}LOCK) until a reset of the part")
            return
        self._catch_up(at)  # (the changes before the write first)
        self.csr[n] = value & WRITABLE[n]
        bits, what = LPTIM_BITS[n]
        if value & bits:
            self.host.unmodelled(self.owner, offset, size, value,
                                 f"{what}: the output to LPTIM1 is not modelled")
        if self.csr[n] & EN:
            self._list_inputs(n, offset, size, value)
        self.update(at)

    def _list_inputs(self, n: int, offset: int, size: int, value: int) -> None:
        """What an enabled comparator takes that the simulator does not know: listed."""
        for side, source in zip(("plus", "minus"), self.inputs(n), strict=True):
            name = f"COMP{n + 1} {side} input {source.name}"
            why = ""
            if source is _RESERVED:
                why = f"COMP{n + 1} {side} input: a reserved selection (0 V)"
            elif source.pin and source.channel is None:
                why = f"{name}: not an ADC pin, its voltage is not modelled (0 V)"
            elif source.pin and self._series(source) is None:
                why = (f"{name}: no --analog values for ADC channel {source.channel}, "
                       "its voltage is not modelled (0 V)")
            elif (n == 1 and not source.pin and source is not _RESERVED
                  and not self._cfgr3() & ENBUFLP_VREFINT_COMP):
                why = (f"{name}: SYSCFG_CFGR3.ENBUFLP_VREFINT_COMP (bit 12) is clear; taken "
                       "as if set")
            if why:
                self.host.unmodelled(self.owner, offset, size, value, why)

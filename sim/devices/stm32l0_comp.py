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
channel (PA0-PA7 are IN0-IN7; sim/analog.py), or for PB3-PB7, which no ADC channel reaches, by
the pin's name (``--analog PB5=level.csv@1kHz``), clamped to 0 and 3.0 V (the rails without a
played supply: --analog VDDA= does not move them, not modelled): played at a
rate, the value of device time ``t`` (the output changes at the instant of the sample that
crosses, to the cycle, also while the core sleeps or is in Stop mode); without a rate, the value
the channel's next conversion reads (it changes as the ADC converts). A pin without such values
is taken as 0 V and listed when the comparator is enabled with it (``COMP2 plus input PB4: no
--analog values for PB4 (--analog PB4=FILE@RATE), its voltage is not modelled (0 V)``).

The output drives EXTI line 21 (COMP1) or 22 (COMP2) (sim/devices/stm32l0_exti.py): each edge,
at its own cycle, is latched in PR as RTSR and FTSR select, the interrupt (IRQ 12, ADC_COMP) or
the wake-up event; an enable, a disable or a change of the inputs or the polarity that changes
the output is an edge too. It is also the timers' input where their OR takes it (TIM2's TI4,
TIM21's TI1 and TI2, TIM22's TI1: sim/devices/stm32l0_tim.py), each edge at its own cycle to
their captures and slave modes (a pulse's width measured by input capture), and the level of a
pin in alternate function 7 (COMP1_OUT: PA0, PA6, PA11; COMP2_OUT: PA2, PA7, PA12:
sim/devices/stm32l0_gpio.py). A sleep with only a comparator's changes to come, its EXTI line
masked and no timer, LPTIM1 or pin on an enabled EXTI line taking it, is a deadlock. A store that
changes where the edges go (the RCC's, SYSCFG's, the EXTI's, a GPIO port's configuration, a
timer's OR) first brings the comparators to its own cycle (``settle``).
VALUE (bit 30, read-only) reads the output. LOCK (bit 31) makes the register read-only until a
reset of the part (a write that would change it is ignored and listed; SYSCFG's own reset keeps
a locked register). SPEED (COMP2) reads back.

With COMP1LPTIMIN1 or COMP2LPTIMIN1 the output is LPTIM1's IN1 (sim/devices/stm32l0_lptim.py:
a count at each active edge); where a timer's OR remaps its ETR to it, that timer's external
trigger (sim/devices/stm32l0_tim.py: external clock mode 2, OCREF_CLR). Not modelled: the output
to LPTIM1's IN2 (COMP2LPTIMIN2, the encoder's: listed when set); the comparators' start-up
and propagation times (the output follows its inputs at once) and their offset; a pin's GPIO
mode (the chip wants it analog). A COMP2 minus input from VREFINT without
SYSCFG_CFGR3.ENBUFLP_VREFINT_COMP (bit 12), which the HAL sets for it, is listed and taken as
VREFINT all the same. The SYSCFG's clock (RCC APB2ENR SYSCFGEN) gates the registers, not the
comparators, which run on in Stop mode; SYSCFG held in reset (APB2RSTR SYSCFGRST) turns an
unlocked one off; in Stand-by mode they are off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.analog import VDDA, sample_index
from sim.devices.stm32l0_factory import VREFINT_CAL
from sim.devices.stm32l0_lptim import in1_changed as lptim_in1_changed
from sim.devices.stm32l0_lptim import takes_comparator as lptim_takes_comparator

if TYPE_CHECKING:
    from sim.analog import AnalogInput
    from sim.devices import Device, DeviceHost
    from sim.devices.stm32l0_gpio import Stm32l0Gpio

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
LPTIM_IN1 = (1 << 12, 1 << 13)  # COMP1LPTIMIN1, COMP2LPTIMIN1: the output is LPTIM1's IN1
COMP2_LPTIM_IN2 = 1 << 12  # COMP2LPTIMIN2: LPTIM1's IN2 (its encoder), not modelled


class Comparators:
    """COMP1 and COMP2 of one SYSCFG (``owner``, the device their registers are listed
    against): their CSRs, outputs and the plan for the next change of an output.

    The outputs change only at planned changes (``_catch_up``: one at a time, in time order,
    each at its own cycle: a pulse shorter than a block is not lost) and where what decides
    them changed (a CSR write, an untimed input moved by a conversion, SYSCFG's reset: the
    comparator is marked dirty and its level and next change are found again at that cycle).
    Time never goes back for them (``_at``). The next change of a pin played at a rate against
    a reference is looked up in that series' crossings of the reference, found once."""

    def __init__(self, owner: Device, host: DeviceHost, cfgr3: Callable[[], int]) -> None:
        self.owner, self.host, self._cfgr3 = owner, host, cfgr3
        self._crossings: dict[tuple[int, float, bool], np.ndarray] = {}
        self._port_list: list[Stm32l0Gpio] | None = None
        self.reset()

    def reset(self) -> None:
        """The power-on state (a reset of the part): both off, their outputs low."""
        self.csr = [0, 0]
        self.out = [False, False]  # the outputs as the EXTI and the timers last saw them
        self._next = [NEVER, NEVER]  # the core cycle of each output's next change
        self._next_t: list[float | None] = [None, None]  # and its device time
        self._dirty = [False, False]  # level and next change to be found again
        self._at = 0  # the cycle the outputs are settled at (it never goes back)
        self.running = True  # False in Stand-by mode: nothing changes
        self._lptim_reset = False  # SYSCFG's reset took LPTIM1's IN1 off an output
        self.host.exceptions.set_timer(self, None, self._event)

    def peripheral_reset(self) -> None:
        """SYSCFG's reset (RCC APB2RSTR): an unlocked comparator off (its output falls when
        the comparators settle next, ``update``); a locked one keeps its register (LOCK is
        cleared by a reset of the part only)."""
        for n in (0, 1):
            if not self.csr[n] & LOCK:
                if self.csr[n] & LPTIM_IN1[n]:  # (LPTIM1's IN1 no longer this output)
                    self._lptim_reset = True
                self.csr[n] = 0
                self._dirty[n] = True

    # --- inputs --------------------------------------------------------------------------------
    def inputs(self, n: int) -> tuple[Source, Source]:
        """Comparator ``n``'s (0: COMP1) plus and minus inputs as its CSR selects them."""
        csr = self.csr[n]
        if n == 0:
            return COMP1_PLUS, COMP1_MINUS[csr >> 4 & 3]
        plus = COMP1_PLUS if self.csr[0] & WM else COMP2_PLUS[csr >> 8 & 7]
        return plus, COMP2_MINUS[csr >> 4 & 7]

    def _series(self, source: Source) -> AnalogInput | None:
        if source.channel is not None:
            return self.host.analog_input(source.channel)
        return self.host.analog_input(source.name) if source.pin else None

    def _volts(self, source: Source, seconds: float) -> float:
        constant = source.constant()
        if constant is not None:
            return constant
        series = self._series(source)
        return 0.0 if series is None else series.volts_at(seconds)

    def level(self, n: int, seconds: float) -> bool:
        """Comparator ``n``'s output at device time ``seconds``, from its inputs."""
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
        if not self.csr[n] & EN:
            return None
        # each side: (its constant volts, or None and the series played at its rate)
        sides: list[tuple[float, np.ndarray | None, float]] = []
        moving = False  # a side an untimed pin's (a constant only until its next conversion)
        for source in self.inputs(n):
            series = self._series(source)
            rate = None if series is None else series.spec.rate
            if series is None or rate is None:
                sides.append((self._volts(source, seconds), None, 0.0))
                moving = moving or series is not None
            else:
                sides.append((0.0, series.clamped_volts(), rate))
        timed = [(v, r) for _, v, r in sides if v is not None]
        if not timed:
            return None
        if len(timed) == 1 and not moving:  # a pin against a reference: its crossings, once
            samples, rate = timed[0]
            plus_timed = sides[0][1] is not None
            const = sides[1][0] if plus_timed else sides[0][0]
            changes = self._changes(samples, const, plus_timed)
            i = sample_index(seconds, rate)
            k = int(np.searchsorted(changes, i, side="right"))
            return None if k == len(changes) else float(changes[k] / rate)
        return self._scan(sides, seconds, bool(self.csr[n] & POLARITY),
                          self.level(n, seconds))

    def _changes(self, samples: np.ndarray, const: float, plus_timed: bool) -> np.ndarray:
        """The indices of ``samples`` whose side of ``const`` differs from the one before."""
        key = (id(samples), const, plus_timed)
        changes = self._crossings.get(key)
        if changes is None:
            above = samples > const if plus_timed else const > samples
            changes = np.flatnonzero(above[1:] != above[:-1]) + 1
            if len(self._crossings) >= 8:
                self._crossings.clear()
            self._crossings[key] = changes
        return changes

    @staticmethod
    def _scan(sides: list[tuple[float, np.ndarray | None, float]], seconds: float,
              invert: bool, now: bool) -> float | None:
        """_next_change for two pins played at a rate, or one against an untimed pin (whose
        value each conversion may change: crossings found once for it would be thrown away at
        the next): their samples' instants in chunks that grow, the first where the output
        differs from ``now``."""
        timed = [(v, r) for _, v, r in sides if v is not None]
        chunk, start = 64, seconds
        while True:
            times = []
            horizon = np.inf
            for volts, rate in timed:
                first = sample_index(start, rate) + 1
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
                    x = t * rate
                    index = np.minimum((x + 1e-9 + x * 1e-12).astype(np.int64), len(samples) - 1)
                    values.append(samples[index])
            out = (values[0] > values[1]) != invert
            differ = np.flatnonzero(out != now)
            if differ.size:
                return float(t[differ[0]])
            start = float(t[-1])
            chunk = min(chunk * 8, 1 << 20)

    # --- the outputs over time -----------------------------------------------------------------
    def _set_out(self, n: int, level: bool, at: int) -> None:
        """Comparator ``n``'s output becomes ``level`` at cycle ``at``: an edge to its EXTI
        line and to the timers whose input it is (sim/devices/stm32l0_tim.py, OR)."""
        if level != self.out[n]:
            self.out[n] = level
            from sim.devices.stm32l0_exti import Stm32l0Exti
            from sim.devices.stm32l0_tim import part_timers

            exti = self.host.device(Stm32l0Exti.name)
            if isinstance(exti, Stm32l0Exti):
                exti.edge(EXTI_LINES[n], level)
            for timer in part_timers(self.host):
                if timer.takes_comparator(n):
                    timer.inputs_changed(at)
            for port in self._ports():
                if port.comparator_pins(n):
                    port.af_changed(at)
            if self.csr[n] & LPTIM_IN1[n] or lptim_takes_comparator(self.host, n):
                lptim_in1_changed(self.host, at)  # (IN1, the trigger)

    def _ports(self) -> list[Stm32l0Gpio]:
        """The part's GPIO ports (sim/devices/stm32l0_gpio.py) that the run maps (looked up
        once: the devices are the simulator's for good)."""
        if self._port_list is None:
            from sim.devices.stm32l0_gpio import Stm32l0Gpio

            found = (self.host.device(f"stm32l0_gpio{letter}") for letter in "abch")
            self._port_list = [port for port in found if isinstance(port, Stm32l0Gpio)]
        return self._port_list

    def _wakes(self, n: int) -> bool:
        """Whether comparator ``n``'s edges can wake the core: its EXTI line enabled (IMR,
        EMR), LPTIM1's IN1 or its armed trigger, or a timer taking it (conservatively: the
        count, the capture or the slave mode may interrupt), or a pin showing it whose EXTI
        line is enabled."""
        from sim.devices.stm32l0_tim import part_timers

        exti = self.host.device("stm32l0_exti")
        enabled = int(getattr(exti, "imr", 0)) | int(getattr(exti, "emr", 0))
        return bool(enabled >> EXTI_LINES[n] & 1 or self.csr[n] & LPTIM_IN1[n]
                    or lptim_takes_comparator(self.host, n, acting=True)) or any(
            timer.takes_comparator(n) for timer in part_timers(self.host)) or any(
            port.comparator_wakes(n) for port in self._ports())

    def _plan(self, at: int) -> None:
        """The timer for the outputs' next change (none while off or not running), its cycle
        from its device time at the clock now."""
        for n in (0, 1):
            t = self._next_t[n] if self.running and self.csr[n] & EN else None
            self._next[n] = NEVER if t is None else self.host.cycle_at(t, at)
        due = min(self._next)
        wakes = any(self._next[n] != NEVER and self._wakes(n) for n in (0, 1))
        self.host.exceptions.set_timer(self, None if due == NEVER else due, self._event,
                                       wakes)

    def _event(self) -> None:
        """The timer's event: the changes due by now, then the next plan."""
        now = self.host.exceptions.now
        self._catch_up(now)
        self._at = max(self._at, now)
        self._plan(self._at)

    def _catch_up(self, until: int) -> None:
        """The outputs' planned changes due by cycle ``until``, one at a time in time order,
        each at its own cycle."""
        while True:
            due = [(t, n) for n in (0, 1)
                   if (t := self._next_t[n]) is not None and self._next[n] <= until]
            if not due:
                return
            t, n = min(due)
            cycle = self._next[n]
            self._set_out(n, not self.out[n], cycle)
            after = self._next_change(n, t)
            self._next_t[n] = after
            self._next[n] = NEVER if after is None else self.host.cycle_at(after, cycle)
            self._at = max(self._at, cycle)

    def settle(self, at: int) -> None:
        """The planned changes up to cycle ``at`` (a store's, before what it changes acts: the
        core's clock, SYSCFG's reset, a timer's remap), at the old settings and clock."""
        at = max(at, self._at)
        self._catch_up(at)
        self._at = at

    def update(self, at: int | None = None) -> None:
        """Settle the outputs at cycle ``at`` (default now; never before the cycle they are
        settled at): the planned changes up to it, then a dirty comparator's level there (an
        edge if it differs) and its next change; then the plan (the core's clock, Stop or
        Stand-by mode, the EXTI's enables may have changed)."""
        at = max(self.host.exceptions.now if at is None else at, self._at)
        self._catch_up(at)
        if self.running and any(self._dirty):
            seconds = self.host.seconds_at(at)
            for n in (0, 1):
                if self._dirty[n]:
                    self._dirty[n] = False
                    self._set_out(n, self.level(n, seconds), at)
                    self._next_t[n] = self._next_change(n, seconds)
        self._at = at
        self._plan(at)
        if self._lptim_reset:  # (SYSCFG's reset cleared COMPxLPTIMIN1: IN1 is its pin again)
            self._lptim_reset = False
            lptim_in1_changed(self.host, at)

    def input_changed(self, channel: int, at: int) -> None:
        """A conversion moved ADC channel ``channel``'s untimed values on at cycle ``at``: an
        enabled comparator reading that pin sees its next value."""
        dirty = False
        for n in (0, 1):
            if self.csr[n] & EN and any(s.channel == channel for s in self.inputs(n)):
                self._dirty[n] = dirty = True
        if dirty:
            self.update(at)

    # --- the registers -------------------------------------------------------------------------
    def read(self, offset: int, at: int) -> int:
        n = 0 if offset == COMP1_CSR else 1
        self._catch_up(at)
        return self.csr[n] | (VALUE if self.running and self.out[n] else 0)

    def write(self, offset: int, size: int, value: int, at: int) -> None:
        """A CSR write (``value``, the whole register merged) at cycle ``at``."""
        n = 0 if offset == COMP1_CSR else 1
        name = f"COMP{n + 1}"
        old = self.csr[n]
        if old & LOCK:  # (the chip ignores it; listed only when it would change something)
            if (value ^ old) & WRITABLE[n]:
                self.host.unmodelled(self.owner, offset, size, value, f"ignored: {name}_CSR "
                                     f"is locked ({name}LOCK) until a reset of the part")
            return
        at = max(at, self._at)
        self._catch_up(at)  # (the changes before the write, at the old settings)
        self.csr[n] = value & WRITABLE[n]
        if n == 1 and value & COMP2_LPTIM_IN2:
            self.host.unmodelled(self.owner, offset, size, value, "COMP2LPTIMIN2: the output "
                                 "to LPTIM1's IN2 (its encoder) is not modelled")
        if self.csr[n] & EN:
            self._list_inputs(n, offset, size, value)
        if self.csr[n] != old:
            self._dirty[n] = True
            if n == 0 and (old ^ self.csr[0]) & WM:  # (COMP2's plus input)
                self._dirty[1] = True
        self.update(at)
        if (old ^ self.csr[n]) & LPTIM_IN1[n]:  # (LPTIM1's IN1 from the output, or not)
            lptim_in1_changed(self.host, at)

    def _list_inputs(self, n: int, offset: int, size: int, value: int) -> None:
        """What an enabled comparator takes that the simulator does not know: listed."""
        for side, source in zip(("plus", "minus"), self.inputs(n), strict=True):
            name = f"COMP{n + 1} {side} input {source.name}"
            why = ""
            if source is _RESERVED:
                why = f"COMP{n + 1} {side} input: a reserved selection (0 V)"
            elif source.pin and self._series(source) is None:
                given = (f"ADC channel {source.channel}" if source.channel is not None
                         else f"{source.name} (--analog {source.name}=FILE@RATE)")
                why = f"{name}: no --analog values for {given}, its voltage is not modelled (0 V)"
            elif (n == 1 and not source.pin and source is not _RESERVED
                  and not self._cfgr3() & ENBUFLP_VREFINT_COMP):
                why = (f"{name}: SYSCFG_CFGR3.ENBUFLP_VREFINT_COMP (bit 12) is clear; taken "
                       "as if set")
            if why:
                self.host.unmodelled(self.owner, offset, size, value, why)


def _of(host: DeviceHost) -> Comparators | None:
    comparators = getattr(host.device("stm32l0_syscfg"), "comparators", None)
    return comparators if isinstance(comparators, Comparators) else None


def replan(host: DeviceHost) -> None:
    """What the comparators' edges can wake changed (the EXTI's IMR or EMR, a timer's OR, a
    pin's function): they plan again, from the store's cycle."""
    comparators = _of(host)
    if comparators is not None:
        comparators.update(host.store_cycle())


def settle(host: DeviceHost) -> None:
    """The comparators' changes up to the store's cycle, before the store acts on what takes
    their outputs (a timer's OR)."""
    comparators = _of(host)
    if comparators is not None:
        comparators.settle(host.store_cycle())

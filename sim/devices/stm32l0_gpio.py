"""The STM32L0x1's GPIO ports (RM0377, "General-purpose I/Os") and SYSCFG's EXTI line selection:
pins the firmware drives, reads and takes interrupts from, with the levels the run's ``--pin``
values hold inputs at (sim/pins.py), traced for the report's ``pins`` and ``--vcd``.

A port (GPIOA 0x50000000, GPIOB 0x50000400, GPIOC 0x50000800, GPIOH 0x50001C00: the ports the
STM32L031 has) has 16 pins, each configured by MODER (input, output, alternate function,
analog: the reset state of every pin but port A's PA4 (input), PA13 and PA14 (SWD's alternate
functions)), OTYPER (push-pull, open-drain), PUPDR (pull-up, pull-down; PA13 pulled up and
PA14 down at reset), OSPEEDR (kept: the speed changes no level here) and AFRL/AFRH (the
alternate function: a timer channel's, TIMER_PINS, or a comparator's output, COMP_PINS, drives
the pin; the others' signals are not modelled). A pin's level:

- output, push-pull: ODR's bit (a level the run's ``--pin`` holds against it is a warning: the
  pins would short; the output wins);
- alternate function of a timer channel whose output is enabled (TIMx_CCER.CCxE; the table
  ``TIMER_PINS``): the channel's output (sim/devices/stm32l0_tim.py: OCxREF, PWM), at each of
  its edges (push-pull; open-drain, like an output, only pulls low); of a comparator's output
  (AF7, ``COMP_PINS``): that output (sim/devices/stm32l0_comp.py), at each of its edges;
- output, open-drain, ODR 1; input; another alternate function (its peripheral's signal is not
  modelled): the level ``--pin`` holds it at, else its pull resistor's, else none (floating);
  open-drain with ODR 0: 0; a pin whose alternate function is a timer channel's and not driven
  by it is that channel's input, one whose function is a timer's TIMx_ETR its external
  trigger: each change of its level goes to the timer at its own cycle (input capture, slave
  modes, external clock mode 2, OCREF_CLR);
- analog: none (the input's Schmitt trigger is off: IDR reads 0).

A pin in LPTIM1_IN1's alternate function (``LPTIM_IN1_PINS``) is LPTIM1's input 1, one in
LPTIM1_ETR's (``LPTIM_ETR_PINS``) its external trigger: their changes go to LPTIM1 at their own
cycle (sim/devices/stm32l0_lptim.py counts external pulses, starts on a trigger).

IDR reads the levels (0 for no level); ODR reads back (16 bits); BSRR sets (bits 0-15) and
resets (16-31) ODR's bits, setting winning, and BRR resets; BSRR and BRR read 0. LCKR's key
sequence (LCKK written 1, 0, 1 with the same LCK bits) locks the configuration (MODER, OTYPER,
OSPEEDR, PUPDR, AFR) of the LCK pins until reset; writes to their fields are then ignored, as
on the chip. Byte and half-word accesses reach their bytes of a register.

Each port works only while RCC_IOPENR enables its clock (bit 0, 1, 2, 7 for A, B, C, H) and
IOPRSTR does not hold it in reset (sim.devices.stm32l0.Clocked); its pins keep their levels
without the clock (and in Stop mode), and their edges still reach the EXTI.

SYSCFG (0x40010000, clock APB2ENR bit 0): EXTICR1-4 select which port's pin n drives EXTI line n
(4 bits a line: 0 PA, 1 PB, 2 PC, 5 PH); a change of that pin's IDR bit is an edge of the line
(sim/devices/stm32l0_exti.py: latched in PR as RTSR and FTSR select), and so is a change of the
selection (or SYSCFG's reset) that changes the line's level. CFGR3's VREFINT_RDYF (bit 30) reads
1: the reference is always ready, as PWR_CSR's VREFINTRDYF (STM32CubeL0's
HAL_ADCEx_EnableVREFINT waits for it); its other bits read back. COMP1_CSR and COMP2_CSR are
the comparators' (sim/devices/stm32l0_comp.py). CFGR1 (the memory remap) and CFGR2 (I2C
fast-mode plus) read back and are listed when written: what they switch is not modelled.
"""

from sim.devices import Device, lane
from sim.devices.stm32l0 import Clocked, merge
from sim.devices.stm32l0_comp import Comparators
from sim.devices.stm32l0_comp import replan as replan_comparators
from sim.devices.stm32l0_comp import settle as settle_comparators
from sim.devices.stm32l0_lptim import in1_changed as lptim_in1_changed
from sim.devices.stm32l0_pwr import Stm32l0Pwr
from sim.devices.stm32l0_tim import part_timers, replan_timers

MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH, BRR = range(0, 0x2C, 4)
LCKK = 1 << 16
IOPENR, APB2ENR = 0x2C, 0x34  # RCC's offsets
# EXTICR's codes for the ports
PORT_CODES = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4, "H": 5}
SYSCFG_BASE = 0x4001_0000
EXTICR1 = 0x08  # ... EXTICR4 at 0x14
CFGR1, CFGR2, COMP1_CSR, COMP2_CSR, CFGR3 = 0x00, 0x04, 0x18, 0x1C, 0x20
_SYSCFG_WORDS = (CFGR1, CFGR2, 0x08, 0x0C, 0x10, 0x14, COMP1_CSR, COMP2_CSR, CFGR3)
_UNMODELLED = (CFGR1, CFGR2)  # what they switch is not modelled
VREFINT_RDYF = 1 << 30  # CFGR3 (read-only)
# The timer channels' alternate functions (the STM32L031x4/6 datasheet's tables, as ST's pin
# data lists them for its 32- and 48-pin packages): (port, pin) -> {AF number: (timer, channel)}
# (channel 0: the timer's external trigger input, TIMx_ETR)
TIMER_PINS: dict[tuple[str, int], dict[int, tuple[str, int]]] = {
    ("A", 0): {2: ("stm32l0_tim2", 1), 5: ("stm32l0_tim2", 0)},
    ("A", 1): {2: ("stm32l0_tim2", 2), 5: ("stm32l0_tim21", 0)},
    ("A", 2): {0: ("stm32l0_tim21", 1), 2: ("stm32l0_tim2", 3)},
    ("A", 3): {0: ("stm32l0_tim21", 2), 2: ("stm32l0_tim2", 4)},
    ("A", 4): {5: ("stm32l0_tim22", 0)},
    ("A", 5): {2: ("stm32l0_tim2", 0), 5: ("stm32l0_tim2", 1)},
    ("A", 6): {5: ("stm32l0_tim22", 1)},
    ("A", 7): {5: ("stm32l0_tim22", 2)}, ("A", 8): {5: ("stm32l0_tim2", 1)},
    ("A", 9): {5: ("stm32l0_tim22", 1)}, ("A", 10): {5: ("stm32l0_tim22", 2)},
    ("A", 11): {5: ("stm32l0_tim21", 2)},
    ("A", 15): {2: ("stm32l0_tim2", 0), 5: ("stm32l0_tim2", 1)},
    ("B", 0): {5: ("stm32l0_tim2", 3)}, ("B", 1): {5: ("stm32l0_tim2", 4)},
    ("B", 3): {2: ("stm32l0_tim2", 2)}, ("B", 4): {4: ("stm32l0_tim22", 1)},
    ("B", 5): {4: ("stm32l0_tim22", 2)}, ("B", 6): {5: ("stm32l0_tim21", 1)},
    ("B", 10): {2: ("stm32l0_tim2", 3)}, ("B", 11): {2: ("stm32l0_tim2", 4)},
    ("B", 13): {5: ("stm32l0_tim21", 1)}, ("B", 14): {5: ("stm32l0_tim21", 2)},
}
# The comparators' outputs (COMP1_OUT, COMP2_OUT: alternate function 7, the STM32L031's table in
# STM32CubeL0's stm32l0xx_hal_gpio_ex.h): (port, pin) -> the comparator (0: COMP1)
COMP_PINS = {("A", 0): 0, ("A", 6): 0, ("A", 11): 0, ("A", 2): 1, ("A", 7): 1, ("A", 12): 1}
COMP_AF = 7
# LPTIM1's input 1 (LPTIM1_IN1): (port, pin) -> its alternate function (STM32CubeL0's L031 table
# names LPTIM1 on these; which input each is, as its L011 table and the L0 datasheets name them)
LPTIM_IN1_PINS = {("A", 0): 1, ("A", 4): 1, ("A", 8): 2, ("B", 5): 2, ("C", 0): 0}
# LPTIM1's external trigger (LPTIM1_ETR, CFGR.TRIGSEL 000): PA6 AF1 (STM32CubeL0's LPTIM_Timeout
# for the NUCLEO-L031K6), PB6 AF2, PC3 AF0 (the L0 datasheets' tables)
LPTIM_ETR_PINS = {("A", 6): 1, ("B", 6): 2, ("C", 3): 0}


def _field_table(value: int) -> list[int]:
    """For each byte of a register of 2-bit pin fields: the 4-bit mask of its pins whose
    field is ``value``."""
    return [sum(1 << k for k in range(4) if byte >> (2 * k) & 3 == value) for byte in range(256)]


_FIELDS = [_field_table(v) for v in range(4)]


def _fields(register: int, value: int) -> int:
    """The 16-bit mask of the pins whose 2-bit field of ``register`` is ``value``."""
    table = _FIELDS[value]
    return (table[register & 0xFF] | table[register >> 8 & 0xFF] << 4
            | table[register >> 16 & 0xFF] << 8 | table[register >> 24 & 0xFF] << 12)


def _spread(mask16: int) -> int:
    """A 16-bit pin mask as a mask of the pins' 2-bit fields (MODER, OSPEEDR, PUPDR)."""
    out = 0
    for pin in range(16):
        if mask16 >> pin & 1:
            out |= 3 << (2 * pin)
    return out


def _nibbles(mask16: int, half: int) -> int:
    """The 4-bit AFR fields of the pins of ``mask16`` in AFRL (``half`` 0) or AFRH (1)."""
    out = 0
    for pin in range(8):
        if mask16 >> (pin + 8 * half) & 1:
            out |= 0xF << (4 * pin)
    return out


class Stm32l0Gpio(Clocked):
    """One port; the subclasses name it."""

    gpio_port: str  # its letter
    size = 0x400
    _RESET = (0xFFFF_FFFF, 0, 0)  # MODER, OSPEEDR, PUPDR

    _known = _high = 0  # (pins at a level, those at 1), as the EXTI and the trace last saw

    def reset(self) -> None:
        super().reset()
        self.moder, self.ospeedr, self.pupdr = self._RESET
        self.otyper = self.odr = self.lckr = 0
        self.afr = [0, 0]
        self.locked = 0  # pins whose configuration LCKR locked
        self._lckk = False  # the key sequence went through: LCKR frozen until reset
        self._key = 0  # LCKR's key sequence: writes of it so far (0-2)
        self._warned = 0  # pins warned of as shorted
        self._syscfg = self.host.device(Stm32l0Syscfg.name)
        self._pwr = self.host.device(Stm32l0Pwr.name)
        self._rtc = self.host.device("stm32l0_rtc")  # (its time stamp and tamper pins)
        self._off = False  # in Stand-by: the pins high-impedance
        self._timers: dict[str, Device | None] = {}  # the timers its pins may show, looked up
        self._comp_key: tuple[int, tuple[int, ...]] | None = None  # (comparator_pins' cache)
        self._comp_shown: tuple[list[int], list[int]] = ([], [])

    def settle(self) -> None:
        """Before the RCC resets the port (IOPRSTR) or stops its clock: the comparators' edges
        up to the store, to the pins as they were."""
        settle_comparators(self.host)

    def power_off(self) -> None:
        """Stand-by mode: the pins go high-impedance (outputs and pulls off, RM0377), so only
        what drives them from outside (--pin) gives them a level, until the wake-up's reset."""
        self._off = True
        self._update(False)

    keeps_events = True  # the --pin rows go on through a reset of the part

    def system_reset(self, cause: str) -> None:
        """The registers' reset state; the pins' levels follow (an output's level is gone)."""
        self.reset()
        self._update(False)

    def start(self) -> None:
        """The run's first levels (the --pin values of time 0 among them), and the plan for
        the next --pin change."""
        at = self.host.pin_events(self.gpio_port, lambda _: None)  # time 0's: the start's
        self._known, self._high = self._levels()
        if isinstance(self._pwr, Stm32l0Pwr):
            self._pwr.drive_changed(self.gpio_port)
        self.host.pin_levels(self.gpio_port, self._known, self._high, initial=True)
        self.host.exceptions.set_timer(self, at, self._drive_event)

    def rcc_changed(self) -> None:
        super().rcc_changed()  # held in reset: its reset state, whose levels change now
        replan_timers(self.host)  # (the pins that showed a timer output may not)
        self._update(True)
        lptim_in1_changed(self.host, self.host.store_cycle())  # (LPTIM1's IN1 pin may be gone)

    # --- levels -------------------------------------------------------------------------------
    def _levels(self) -> tuple[int, int]:
        """(pins at a level, those at 1) from the configuration and what drives the pins."""
        driven, outside = self.host.pin_drive(self.gpio_port)
        if self._off:
            return driven, driven & outside
        analog, output = _fields(self.moder, 3), _fields(self.moder, 1)
        # what the pins' drivers put out: ODR for the outputs, a timer channel's output for
        # its alternate function
        alternate = _fields(self.moder, 2)
        shown, level = self._timer_outputs(alternate)
        compared, compared_high = self._comparator_outputs(alternate)
        shown, level = shown | compared, level | compared_high
        level |= self.odr & output
        # push-pull drivers, and open-drain ones pulling low
        forced = (output | shown) & ~(self.otyper & level)
        free = ~(analog | forced) & 0xFFFF  # inputs, alternate functions, released drains
        up, down = _fields(self.pupdr, 1), _fields(self.pupdr, 2)
        known = forced | (free & (driven | up | down))
        high = (forced & level) | (free & driven & outside) | (free & ~driven & up)
        shorted = forced & driven & (outside ^ level) & ~self._warned
        for pin in range(16):
            if shorted >> pin & 1:
                self._warned |= 1 << pin
                self.host.warn(f"P{self.gpio_port}{pin} is held at {outside >> pin & 1} by --pin "
                               f"while its output drives it to {level >> pin & 1}: the pins "
                               "would short (the output wins here)")
        return known, high

    def _timer_outputs(self, alternate: int) -> tuple[int, int]:
        """(pins whose alternate function is a timer channel's enabled output, those at 1)
        among the pins of ``alternate``."""
        shown = high = 0
        for pin in range(16):
            found = self._timer_function(pin, alternate)
            if found is None:
                continue
            name, channel = found
            if name not in self._timers:
                self._timers[name] = self.host.device(name)
            timer = self._timers[name]
            output = getattr(timer, "output", None)
            out = None if output is None else output(channel)
            if out is not None:
                shown |= 1 << pin
                high |= out << pin
        return shown, high

    def _comparator_pins(self, alternate: int) -> dict[int, int]:
        """The pins of ``alternate`` whose alternate function is a comparator's output: pin ->
        the comparator (0: COMP1)."""
        return {pin: n for pin in range(16) if alternate >> pin & 1
                and (n := COMP_PINS.get((self.gpio_port, pin))) is not None
                and self.afr[pin >> 3] >> (4 * (pin & 7)) & 0xF == COMP_AF}

    def _comparator_outputs(self, alternate: int) -> tuple[int, int]:
        """(pins showing a comparator's output, those at 1) among the pins of ``alternate``."""
        pins = self._comparator_pins(alternate)
        if not pins:
            return 0, 0
        comparators = getattr(self._syscfg, "comparators", None)
        high = 0
        for pin, n in pins.items():
            high |= int(comparators is not None and comparators.out[n]) << pin
        return sum(1 << pin for pin in pins), high

    def _lptim_pins(self, alternate: int, table: dict[tuple[str, int], int]) -> int:
        """The pins of ``alternate`` whose alternate function is the one ``table`` gives
        them (LPTIM_IN1_PINS: LPTIM1_IN1, LPTIM_ETR_PINS: LPTIM1_ETR)."""
        return sum(1 << pin for pin in range(16) if alternate >> pin & 1
                   and table.get((self.gpio_port, pin)) ==
                   self.afr[pin >> 3] >> (4 * (pin & 7)) & 0xF)

    def _lptim_level(self, table: dict[tuple[str, int], int]) -> int | None:
        pins = self._lptim_pins(_fields(self.moder, 2), table)
        if not pins:
            return None
        return self.idr() >> ((pins & -pins).bit_length() - 1) & 1

    def lptim_in1(self) -> int | None:
        """The level of the (first) pin of the port in alternate function LPTIM1_IN1: LPTIM1's
        input 1; None for none."""
        return self._lptim_level(LPTIM_IN1_PINS)

    def lptim_etr(self) -> int | None:
        """The level of the (first) pin of the port in alternate function LPTIM1_ETR: LPTIM1's
        external trigger; None for none."""
        return self._lptim_level(LPTIM_ETR_PINS)

    def comparator_pins(self, n: int) -> list[int]:
        """The pins of the port that show comparator ``n``'s output (alternate function 7),
        kept until the port's configuration changes (a comparator's every edge asks)."""
        key = (self.moder, tuple(self.afr))
        if self._comp_key != key:
            shown = self._comparator_pins(_fields(self.moder, 2))
            self._comp_shown = ([p for p, k in shown.items() if k == 0],
                                [p for p, k in shown.items() if k == 1])
            self._comp_key = key
        return self._comp_shown[n]

    def shows_comparator(self, n: int) -> bool:
        """Whether a pin of the port shows comparator ``n``'s output (alternate function 7)."""
        return bool(self.comparator_pins(n))

    def comparator_wakes(self, n: int) -> bool:
        """Whether a pin showing comparator ``n``'s output is an EXTI line that SYSCFG routes
        from this port and EXTI lets through (IMR or EMR): its edges may wake the core."""
        return self._exti_wakes(self.comparator_pins(n))

    def af_changed(self, at: int) -> None:
        """A timer channel's or a comparator's output changed at cycle ``at``: the pins that
        show it."""
        self._update(False, at, inputs=False)

    def _timer_function(self, pin: int, alternate: int) -> tuple[str, int] | None:
        """The timer channel whose alternate function ``pin`` has, if it is among the pins in
        alternate-function mode (``alternate``)."""
        if not alternate >> pin & 1:
            return None
        function = self.afr[pin >> 3] >> (4 * (pin & 7)) & 0xF
        return TIMER_PINS.get((self.gpio_port, pin), {}).get(function)

    def _pins_showing(self, timer: str, channel: int) -> list[int]:
        alternate = _fields(self.moder, 2)
        return [pin for pin in range(16)
                if self._timer_function(pin, alternate) == (timer, channel)]

    def timer_input(self, timer: str, channel: int) -> int | None:
        """The level of the (first) pin in alternate-function mode with that timer channel's
        function, the channel's input TIx; None for no such pin."""
        pins = self._pins_showing(timer, channel)
        return self.idr() >> pins[0] & 1 if pins else None

    def shows(self, timer: str, channel: int) -> bool:
        """Whether a pin of the port is in alternate-function mode with that timer channel's
        function (whatever the channel's output does)."""
        return bool(self._pins_showing(timer, channel))

    def wakes_on(self, timer: str, channel: int) -> bool:
        """Whether a pin showing that timer channel's output is an EXTI line that SYSCFG routes
        from this port and EXTI lets through (IMR or EMR): its edges may wake the core."""
        return self._exti_wakes(self._pins_showing(timer, channel))

    def _exti_wakes(self, pins: list[int]) -> bool:
        """Whether one of ``pins`` is an EXTI line that SYSCFG routes from this port and EXTI
        lets through (IMR or EMR)."""
        from sim.devices.stm32l0_exti import Stm32l0Exti

        if not pins:
            return False
        exti = self.host.device(Stm32l0Exti.name)
        if not isinstance(exti, Stm32l0Exti) or not isinstance(self._syscfg, Stm32l0Syscfg):
            return False
        return any((exti.imr | exti.emr) >> pin & 1
                   and self._syscfg.selected(pin) == PORT_CODES[self.gpio_port]
                   for pin in pins)

    def idr(self) -> int:
        return self._high & self._known

    def _update(self, at_store: bool, at: int | None = None, inputs: bool = True) -> None:
        """The pins' levels after a change of what sets them (at cycle ``at``, default now;
        ``at_store``: the store being handled): their edges to the EXTI and (``inputs``: not
        a timer's own output) to the timer channels whose inputs they are, the change to the
        trace."""
        known, high = self._levels()
        if (known, high) == (self._known, self._high):
            return
        before = self.idr()
        self._known, self._high = known, high
        self.host.pin_levels(self.gpio_port, known, high, at_store=at_store, at=at)
        changed = before ^ self.idr()
        if changed and isinstance(self._syscfg, Stm32l0Syscfg):
            self._syscfg.pins_changed(self.gpio_port, changed, self.idr())
        alternate = _fields(self.moder, 2)
        if changed & alternate and inputs:
            cycle = at if at is not None else (
                self.host.store_cycle() if at_store else self.host.exceptions.now)
            self._inputs_changed(changed & alternate, cycle)
            if changed & (self._lptim_pins(alternate, LPTIM_IN1_PINS)
                          | self._lptim_pins(alternate, LPTIM_ETR_PINS)):
                lptim_in1_changed(self.host, cycle)  # (IN1, the trigger)

    def _inputs_changed(self, pins: int, at: int) -> None:
        """Pins in alternate-function mode (``pins``) changed level at cycle ``at``: the
        timers whose channels' inputs they are take the edges."""
        names = {found[0] for pin in range(16)
                 if (found := self._timer_function(pin, pins))}
        for timer in part_timers(self.host):
            if timer.name in names:
                timer.inputs_changed(at)

    def _drive_event(self) -> None:
        """The --pin changes due now, each in turn, and the next planned."""
        at = self.host.pin_events(self.gpio_port, self._driven)
        self.host.exceptions.set_timer(self, at, self._drive_event)

    def _driven(self, at: int) -> None:
        """A --pin change at cycle ``at``: the pins' levels, and the wake-up pins and the
        RTC's time stamp and tamper pins (whatever the port's configuration: PWR and the RTC
        take them over)."""
        self._update(False, at)
        if isinstance(self._pwr, Stm32l0Pwr):
            self._pwr.drive_changed(self.gpio_port)
        if self._rtc is not None:
            self._rtc.drive_changed(self.gpio_port, at)  # type: ignore[attr-defined]

    def restart(self) -> None:
        """The core's clock changed: the next --pin change is planned at the new one."""
        if self.host.exceptions.has_timer(self):
            self._drive_event()

    # --- registers ----------------------------------------------------------------------------
    def _word(self, word: int) -> int:
        if word == IDR:
            return self.idr()
        if word == LCKR:
            return self.lckr | (LCKK if self._lckk else 0)
        values = {MODER: self.moder, OTYPER: self.otyper, OSPEEDR: self.ospeedr,
                  PUPDR: self.pupdr, ODR: self.odr, AFRL: self.afr[0], AFRH: self.afr[1]}
        return values.get(word, 0)  # BSRR, BRR: write-only

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word > BRR:
            self.host.unmodelled(self, offset, size, None)
        if word == IDR and (self.comparator_pins(0) or self.comparator_pins(1)):
            settle_comparators(self.host)  # (a pin showing one: as VALUE reads it, at the load)
        return lane(self._word(word), offset, size)

    def _config(self, old: int, offset: int, size: int, value: int, fields: int) -> int:
        """A configuration register written, the locked pins' ``fields`` kept."""
        return (merge(old, offset, size, value) & ~fields) | (old & fields)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word, locked = offset & ~3, self.locked
        if word in (MODER, OTYPER, PUPDR, AFRL, AFRH):  # (what a pin does with a comparator's
            settle_comparators(self.host)  # output: its edges up to the store first)
        if word == BSRR:
            bits = merge(0, offset, size, value)
            self.odr = (self.odr & ~(bits >> 16) | bits) & 0xFFFF
        elif word == BRR:
            self.odr &= ~merge(0, offset, size, value) & 0xFFFF
        elif word == ODR:
            self.odr = merge(self.odr, offset, size, value) & 0xFFFF
        elif word in (MODER, AFRL, AFRH):  # which timer outputs the pins show: the timers
            timers = part_timers(self.host)  # up to now first, then planned for the new ones
            for timer in timers:
                timer.settle()
            if word == MODER:
                self.moder = self._config(self.moder, offset, size, value, _spread(locked))
            else:
                half = (word - AFRL) // 4
                self.afr[half] = self._config(self.afr[half], offset, size, value,
                                              _nibbles(locked, half))
            for timer in timers:
                timer.pins_changed()
            replan_comparators(self.host)  # (whether a pin shows one: its edges may wake)
            lptim_in1_changed(self.host, self.host.store_cycle())  # (which pin is LPTIM1's IN1)
        elif word == OTYPER:
            self.otyper = self._config(self.otyper, offset, size, value, locked) & 0xFFFF
        elif word == OSPEEDR:
            self.ospeedr = self._config(self.ospeedr, offset, size, value, _spread(locked))
        elif word == PUPDR:
            self.pupdr = self._config(self.pupdr, offset, size, value, _spread(locked))
        elif word == LCKR:
            self._lock_key(value if size == 4 else None, merge(self.lckr, offset, size, value))
            return
        elif word != IDR:  # IDR is read-only: a write does nothing
            self.host.unmodelled(self, offset, size, value)
            return
        self._update(True)

    def _lock_key(self, word: int | None, merged: int) -> None:
        """RM0377's key sequence: LCKK 1, 0, 1 written (a word each) with LCK[15:0] unchanged
        locks the LCK pins (LCKR itself, LCKK reading 1, until reset, even with no LCK bit);
        any other write restarts it (a byte or half-word one keeps its LCK bits)."""
        if self._lckk:
            return
        if word is None:
            self.lckr, self._key = merged & 0xFFFF, 0
            return
        lck, key = word & 0xFFFF, bool(word & LCKK)
        step = self._key
        if step == 1 and not key and lck == self.lckr:
            self._key = 2
        elif step == 2 and key and lck == self.lckr:
            self.locked, self._lckk, self._key = lck, True, 0
        else:
            self._key = 1 if key else 0
        self.lckr = lck


class Stm32l0GpioA(Stm32l0Gpio):
    name, base, gpio_port = "stm32l0_gpioa", 0x5000_0000, "A"
    clock = (IOPENR, 0)
    _RESET = (0xEBFF_FCFF, 0x0C00_0000, 0x2400_0000)


class Stm32l0GpioB(Stm32l0Gpio):
    name, base, gpio_port = "stm32l0_gpiob", 0x5000_0400, "B"
    clock = (IOPENR, 1)


class Stm32l0GpioC(Stm32l0Gpio):
    name, base, gpio_port = "stm32l0_gpioc", 0x5000_0800, "C"
    clock = (IOPENR, 2)


class Stm32l0GpioH(Stm32l0Gpio):
    name, base, gpio_port = "stm32l0_gpioh", 0x5000_1C00, "H"
    clock = (IOPENR, 7)


class Stm32l0Syscfg(Clocked):
    name, base, size = "stm32l0_syscfg", SYSCFG_BASE, 0x400
    clock = (APB2ENR, 0)

    def reset(self) -> None:
        super().reset()
        self._regs = dict.fromkeys(_SYSCFG_WORDS, 0)
        self._ports: dict[str, Device | None] = {}
        if not hasattr(self, "comparators"):  # (sim/devices/stm32l0_comp.py)
            self.comparators = Comparators(self, self.host, lambda: self._regs[CFGR3])
        elif self._held:  # SYSCFG's own reset (RCC APB2RSTR), not the part's
            self.comparators.peripheral_reset()
        else:
            self.comparators.reset()

    _held = False  # in rcc_changed: a reset() is SYSCFG's own

    def rcc_changed(self) -> None:
        """Held in reset: EXTICR back to port A, an edge where a line's level changes; an
        unlocked comparator off (restart settles them: an output that was high falls)."""
        before = {n: self._line_level(n) for n in range(16)}
        self._held = True
        try:
            super().rcc_changed()
        finally:
            self._held = False
        for n, level in before.items():
            if self._line_level(n) != level:
                self._edge(n, not level)

    def settle(self) -> None:
        """Before the RCC changes the core's clock, the part's mode or SYSCFG's reset: the
        comparators' changes up to the store, at the clock and settings before it."""
        self.comparators.settle(self.host.store_cycle())

    def restart(self) -> None:
        """After it: the comparators settle there and plan their outputs' changes again (none
        in Stand-by mode, where they are off)."""
        rcc = self._rcc
        self.comparators.running = not (rcc is not None and rcc.standby)
        self.comparators.update(self.host.store_cycle())

    def analog_changed(self, channel: int, at: int) -> None:
        """A conversion moved ADC channel ``channel``'s untimed --analog values on at cycle
        ``at``: a comparator reading that pin sees it."""
        self.comparators.input_changed(channel, at)

    def _port(self, code: int) -> "Stm32l0Gpio | None":
        letter = next((p for p, c in PORT_CODES.items() if c == code), None)
        if letter is None:
            return None
        if letter not in self._ports:
            self._ports[letter] = self.host.device(f"stm32l0_gpio{letter.lower()}")
        port = self._ports[letter]
        return port if isinstance(port, Stm32l0Gpio) else None

    def selected(self, line: int) -> int:
        """EXTICR's port code for EXTI line ``line`` (0-15)."""
        return self._regs[EXTICR1 + 4 * (line // 4)] >> (4 * (line % 4)) & 0xF

    def _line_level(self, line: int) -> bool:
        port = self._port(self.selected(line))
        return port is not None and bool(port.idr() >> line & 1)

    def pins_changed(self, port: str, changed: int, idr: int) -> None:
        """Port ``port``'s IDR bits ``changed`` (to ``idr``): an edge on each EXTI line that
        selects them."""
        code = PORT_CODES[port]
        for line in range(16):
            if changed >> line & 1 and self.selected(line) == code:
                self._edge(line, bool(idr >> line & 1))

    def _edge(self, line: int, rising: bool) -> None:
        from sim.devices.stm32l0_exti import Stm32l0Exti

        exti = self.host.device(Stm32l0Exti.name)
        if isinstance(exti, Stm32l0Exti):
            exti.edge(line, rising)

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in self._regs:
            self.host.unmodelled(self, offset, size, None)
        if word in (COMP1_CSR, COMP2_CSR):
            value = self.comparators.read(word, self.host.store_cycle())
        else:
            value = self._regs.get(word, 0) | (VREFINT_RDYF if word == CFGR3 else 0)
        return lane(value, offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word not in self._regs or word in _UNMODELLED:
            self.host.unmodelled(self, offset, size, value)
            if word not in self._regs:
                return
        if word in (COMP1_CSR, COMP2_CSR):
            merged = merge(self.comparators.csr[word == COMP2_CSR], offset, size, value)
            self.comparators.write(word, size, merged, self.host.store_cycle())
            return
        if EXTICR1 <= word <= EXTICR1 + 12:
            self.comparators.settle(self.host.store_cycle())
            first = word - EXTICR1  # EXTICR1 selects lines 0-3, EXTICR2 4-7, ...
            lines = range(first, first + 4)
            before = {n: self._line_level(n) for n in lines}
            self._regs[word] = merge(self._regs[word], offset, size, value) & 0xFFFF
            for n in lines:
                level = self._line_level(n)
                if level != before[n]:
                    self._edge(n, level)
            replan_timers(self.host)  # (which pins' edges may wake the core)
            self.comparators.update(self.host.store_cycle())
            return
        self._regs[word] = merge(self._regs[word], offset, size, value)


DEVICES = (Stm32l0GpioA, Stm32l0GpioB, Stm32l0GpioC, Stm32l0GpioH, Stm32l0Syscfg)

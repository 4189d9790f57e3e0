"""The STM32L0x1's general-purpose timers TIM2, TIM21 and TIM22 (RM0377) as time bases: what
STM32CubeL0's HAL_InitTick sets up when the HAL's tick comes from a timer (STM32CubeMX's choice,
a timer rather than SysTick, for firmware whose RTOS takes SysTick), and what firmware counts
periods or delays with.

Each is a 16-bit up-counter clocked at its bus's timer clock (PCLK, twice PCLK when RCC_CFGR's
APB prescaler divides: the core's clock divided by 1, 1, 2, 4 or 8) through its prescaler: CNT
steps once per PSC + 1 timer clocks (asleep too, not in Stop mode) from 0 to ARR, and the step past
ARR is an update event: CNT back to 0, the prescaler's and (with CR1.ARPE) ARR's preloaded
values take effect, SR.UIF set (not with CR1.UDIS), and with CR1.OPM the counter stops (CEN
cleared). EGR.UG makes an update event at once (UIF only with CR1.URS clear). The interrupt
(TIM2: IRQ 15, TIM21: IRQ 20, TIM22: IRQ 22) is a level, UIF with DIER.UIE: a handler that does
not clear UIF (SR is rc_w0: a 0 written clears a flag, a 1 leaves it) is entered again when it
returns. CR2.MMS sets the trigger output (TRGO) the ADC takes (sim/devices/stm32l0_adc.py,
CFGR1.EXTSEL: TIM2's and TIM22's): reset (EGR.UG), enable (CEN's level) or update (each update
event, given at its own cycle; while the ADC waits for it each is planned, as with UIE).
ARR 0 stops the counter, as on the chip. A count written past ARR (or an ARR written
below the count without ARPE) is taken back into the period; the chip counts on to 0xFFFF first.

Each runs only while its RCC clock is on (APB1ENR: TIM2EN, bit 0; APB2ENR: TIM21EN, bit 2;
TIM22EN, bit 5) and it is not held in reset (APB1RSTR, APB2RSTR, the same bits): without its
clock it stops counting, its registers read 0 and ignore writes, each access listed as
unmodelled; a reset returns it to its reset state (sim.devices.stm32l0.Clocked). Not modelled:
down and centre-aligned counting, slave modes and external clocks (a timer so set does not
count), the capture/compare channels (TIM2: four, TIM21 and TIM22: two) and the TRGO modes from
them (MMS 3-7). CR2, SMCR, OR, CCER and the channels' CCMRx and CCRx read back (EGR,
write-only, reads 0); a CR1, CR2, SMCR, DIER, EGR or CCER write that asks for what is not
modelled (DIR or CMS, such a TRGO, a slave mode or external clock, an enable other than UIE, an
event other than UG, a channel enabled) is listed as unmodelled, as is
any access to another offset (which reads back what was written). On the stm32l031 profile TIM2
takes the place of the mps2 map's CMSDK TIMER0 (also at 0x40000000).
"""

from typing import Protocol, cast

from sim.devices.stm32l0 import Clocked, merge

NEVER = 1 << 64
CR1, CR2, SMCR, DIER, SR, EGR, CNT, PSC, ARR, OR = (0x00, 0x04, 0x08, 0x0C, 0x10, 0x14,
                                                    0x24, 0x28, 0x2C, 0x50)
CCMR1, CCMR2, CCER, CCR1, CCR2, CCR3, CCR4 = 0x18, 0x1C, 0x20, 0x34, 0x38, 0x3C, 0x40
CCXE = 0x1111  # CCER: a channel's output or capture enabled (CC1E ... CC4E)
CEN, UDIS, URS, OPM, ARPE = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 7
DIR_CMS = 0x70  # CR1: down or centre-aligned counting
UIE = UIF = UG = 1
SMS, ECE = 0x7, 1 << 14  # SMCR: slave mode, external clock mode 2
MMS = 7 << 4  # CR2: the master mode, what the trigger output (TRGO) is
TRGO_RESET, TRGO_ENABLE, TRGO_UPDATE = 0, 1, 2  # (3 ... 7: compare events, not modelled)
RISING, FALLING, PULSE = 1, 2, 3  # TRGO's edges (as ADC_CFGR1.EXTEN's bits select them)
APB2ENR, APB1ENR = 0x34, 0x38


class TriggerInput(Protocol):
    """What takes a timer's trigger output (the ADC: sim/devices/stm32l0_adc.py)."""

    def waits_for(self, source: str) -> bool:
        """Whether it takes the trigger output of the timer named ``source`` now."""

    def trigger(self, source: str, at: int, edge: int) -> None:
        """``source``'s trigger output changed at core cycle ``at`` (at most now): ``edge``
        RISING, FALLING or PULSE (both at once)."""


class _Tim(Clocked):
    size = 0x400
    irq: int
    bus: int  # the APB it is on (1 or 2)
    channels: tuple[int, ...] = (CCMR1, CCR1, CCR2)  # TIM21, TIM22: two

    def reset(self) -> None:
        super().reset()
        self.cr1 = self.dier = self.sr = 0
        self.psc = 0  # as written (preloaded)
        self.arr = 0xFFFF
        self._psc = 0  # in effect
        self._arr = 0xFFFF
        self._pos = 0  # cycles into the current count period, at cycle self._since
        self._since = 0
        self._div = 1  # core cycles in a timer clock (the APB prescaler)
        # read back; written, listed only for what they ask that is not modelled (_write);
        # a channel the timer lacks (TIM21, TIM22: CCMR2, CCR3, CCR4) is a reserved offset
        self._regs = dict.fromkeys((CR2, SMCR, CCER, OR, *self.channels), 0)
        self._stored: dict[int, int] = {}  # the registers not modelled, as written
        self._next = NEVER
        self._input: TriggerInput | None = None  # the part's ADC, once looked up
        self._input_known = False

    # --- counting ------------------------------------------------------------------------------
    def _counting(self) -> bool:
        return (bool(self.cr1 & CEN) and not self.cr1 & DIR_CMS
                and not self._regs[SMCR] & (SMS | ECE) and self._arr > 0 and self.clocked())

    def _divider(self) -> int:
        """Core cycles in a cycle of the timer's clock, as the RCC's APB prescaler sets it."""
        return 1 if self._rcc is None else self._rcc.timer_divider(self.bus)

    def _step(self) -> int:
        """Cycles per count."""
        return (self._psc + 1) * self._div

    def _period(self) -> int:
        """Cycles from CNT 0 to the update event."""
        return (self._arr + 1) * self._step()

    def _load(self) -> None:
        """An update event's transfer of the preloaded values."""
        self._psc = self.psc
        self._arr = self.arr

    def _advance(self) -> None:
        """Bring the count to the present: the update events since, if any, each at its own
        cycle (an ADC waiting for TRGO with CR2.MMS update takes each)."""
        now = self.host.exceptions.now
        if self._counting():
            listener = self._listener(TRGO_UPDATE)
            since, pos = self._since, self._pos
            while True:
                due = since + self._period() - pos  # the next step past ARR
                if due > now:
                    pos += now - since
                    break
                since, pos = due, 0
                if not self.cr1 & UDIS:  # an update event
                    self._load()
                    self.sr |= UIF
                    if listener is not None:
                        listener.trigger(self.name, due, PULSE)
                    if self.cr1 & OPM:
                        self._set_cen(0, due)
                if not self._counting():
                    break
                if listener is None:  # nobody sees each event: on to the period under way
                    since += (now - since) // self._period() * self._period()
            self._pos = pos
        self._since = now

    def _listener(self, mode: int) -> TriggerInput | None:
        """The ADC while it waits for this timer's trigger output and CR2.MMS is ``mode``."""
        if self._regs[CR2] & MMS != mode << 4:
            return None
        if not self._input_known:
            found = self.host.device("stm32l0_adc")
            self._input = cast(TriggerInput, found) if hasattr(found, "waits_for") else None
            self._input_known = True
        listener = self._input
        return listener if listener is not None and listener.waits_for(self.name) else None

    def _set_cen(self, value: int, at: int) -> None:
        """CR1.CEN set to ``value`` at cycle ``at``: with CR2.MMS enable, TRGO follows it."""
        if value != self.cr1 & CEN:
            self.cr1 ^= CEN
            listener = self._listener(TRGO_ENABLE)
            if listener is not None:
                listener.trigger(self.name, at, RISING if value else FALLING)

    def _schedule(self) -> None:
        """Plan the next update event only while it could raise the interrupt (UIE set, UIF
        clear) or trigger the ADC: a timer that can do neither costs nothing and never wakes a
        sleeping core."""
        now = self.host.exceptions.now
        seen = (self.dier & UIE and not self.sr & UIF) or self._listener(TRGO_UPDATE)
        due = (now + self._period() - self._pos
               if seen and self._counting() and not self.cr1 & UDIS else None)
        self._next = NEVER if due is None else due
        self.host.exceptions.set_timer(self, due, self._catch_up)
        self.host.set_irq_level(self.irq, bool(self.dier & UIE and self.sr & UIF))

    def settle(self) -> None:
        self._advance()

    def restart(self) -> None:
        div = self._divider()
        if div != self._div:  # the APB prescaler changed: the count goes on at the new rate
            self._pos = self._pos * div // self._div
            self._div = div
        self._since = self.host.exceptions.now
        self._schedule()

    def _catch_up(self) -> None:
        if self._next > self.host.exceptions.now:
            return
        self._advance()
        self._schedule()

    # --- registers ----------------------------------------------------------------------------
    def read_clocked(self, offset: int, size: int) -> int:
        self._advance()
        word = offset & ~3
        if word not in (CR1, DIER, SR, EGR, CNT, PSC, ARR, *self._regs):  # EGR: reads 0
            self.host.unmodelled(self, offset, size, None)
        return (self._word(word) >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        self._advance()
        word = offset & ~3
        value = merge(self._word(word), offset, size, value)
        listed = False
        if word == CR1:
            self._set_cen(value & CEN, self.host.exceptions.now)
            self.cr1 = value & 0x3FF
            listed = bool(value & DIR_CMS)
        elif word == DIER:
            self.dier = value & 0x5F5F
            listed = bool(self.dier & ~UIE)
        elif word == SR:
            self.sr &= value  # rc_w0
        elif word == EGR:
            if value & UG:  # with UDIS the count restarts, but no update event
                self._pos = 0
                if not self.cr1 & UDIS:
                    self._load()
                    if not self.cr1 & URS:
                        self.sr |= UIF
                listener = self._listener(TRGO_RESET)
                if listener is not None:
                    listener.trigger(self.name, self.host.exceptions.now, PULSE)
            listed = bool(value & ~UG)
        elif word == CNT:
            self._pos = (value & 0xFFFF) * self._step()
        elif word == PSC:
            self.psc = value & 0xFFFF
        elif word == ARR:
            self.arr = value & 0xFFFF
            if not self.cr1 & ARPE:
                self._arr = self.arr
        elif word in self._regs:
            self._regs[word] = value
            listed = ((word == SMCR and bool(value & (SMS | ECE)))
                      or (word == CCER and bool(value & CCXE))
                      or (word == CR2 and value & MMS > TRGO_UPDATE << 4))
        else:
            self._stored[word] = value
            listed = True
        if listed:
            self.host.unmodelled(self, offset, size, value)
        if self._counting() and self._pos >= self._period():
            self._pos %= self._period()  # a count past ARR: back into the period
        self._schedule()

    def _word(self, word: int) -> int:
        """The register at offset ``word`` (unmodelled ones as written)."""
        if word == CNT:
            return self._pos // self._step()
        values = {CR1: self.cr1, DIER: self.dier, SR: self.sr, PSC: self.psc, ARR: self.arr}
        return values.get(word, self._regs.get(word, self._stored.get(word, 0)))


class Stm32l0Tim2(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim2", 0x4000_0000, 15, (APB1ENR, 0), 1
    channels = (CCMR1, CCMR2, CCR1, CCR2, CCR3, CCR4)


class Stm32l0Tim21(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim21", 0x4001_0800, 20, (APB2ENR, 2), 2


class Stm32l0Tim22(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim22", 0x4001_1400, 22, (APB2ENR, 5), 2


DEVICES = (Stm32l0Tim2, Stm32l0Tim21, Stm32l0Tim22)

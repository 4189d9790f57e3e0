"""The STM32L0x1's general-purpose timers TIM2, TIM21 and TIM22 (RM0377) as time bases and
compare timers: what STM32CubeL0's HAL_InitTick sets up when the HAL's tick comes from a timer
(STM32CubeMX's choice, a timer rather than SysTick, for firmware whose RTOS takes SysTick), what
firmware counts periods, delays and deadlines with (HAL_TIM_OC_Start_IT), and what paces the
ADC's conversions (sim/devices/stm32l0_adc.py, CFGR1.EXTSEL).

Each is a 16-bit up-counter clocked at its bus's timer clock (PCLK, twice PCLK when RCC_CFGR's
APB prescaler divides: the core's clock divided by 1, 1, 2, 4 or 8) through its prescaler: CNT
steps once per PSC + 1 timer clocks (asleep too, not in Stop mode) from 0 to ARR, and the step
past ARR is an update event: CNT back to 0, the prescaler's, (with CR1.ARPE) ARR's and (with a
channel's OCxPE) CCRx's preloaded values take effect, SR.UIF set (not with CR1.UDIS), and with
CR1.OPM the counter stops (CEN cleared). EGR.UG makes an update event at once (UIF only with
CR1.URS clear). A channel in output compare mode (CCMRx's CCxS 0, as after reset) has a compare
event when the count reaches its CCRx (at most ARR; CCRx 0: at the update event, the count 0
again) or at EGR.CCxG: SR.CCxIF set. The interrupt (TIM2: IRQ 15, TIM21: IRQ 20, TIM22: IRQ
22) is a level, a flag with its enable in DIER (UIE, CCxIE): a handler that does not clear it
(SR is rc_w0: a 0 written clears a flag, a 1 leaves it) is entered again when it returns.
CR2.MMS sets the trigger output (TRGO): reset (EGR.UG), enable (CEN's level), update (each
update event) or compare pulse (channel 1's compare events); the ADC takes TIM2's and TIM22's
TRGO and the compare events of TIM21's channel 2 and TIM2's channels 3 and 4, each at its own
cycle (while it waits for one, each event is planned, as for an interrupt). ARR 0 stops the
counter, as on the chip. A count written past ARR (or an ARR written below the count without
ARPE) is taken back into the period; the chip counts on to 0xFFFF first.

Each runs only while its RCC clock is on (APB1ENR: TIM2EN, bit 0; APB2ENR: TIM21EN, bit 2;
TIM22EN, bit 5) and it is not held in reset (APB1RSTR, APB2RSTR, the same bits): without its
clock it stops counting, its registers read 0 and ignore writes, each access listed as
unmodelled; a reset returns it to its reset state (sim.devices.stm32l0.Clocked). Not modelled:
down and centre-aligned counting, slave modes and external clocks (a timer so set does not
count), the channels' outputs on their pins (OCxM's waveforms, PWM; TRGO's MMS 4-7, OCxREF) and
input capture. CR2, SMCR, OR, CCER and the channels' CCMRx read back (EGR, write-only, reads 0);
a CR1, CR2, SMCR, DIER, EGR or CCER write that asks for what is not modelled (DIR or CMS, TRGO
from OCxREF, a slave mode or external clock, a trigger or DMA enable, the trigger event, a
channel's output or capture enabled) is listed as unmodelled, as is any access to another
offset (which reads back what was written). On the stm32l031 profile TIM2 takes the place of
the mps2 map's CMSDK TIMER0 (also at 0x40000000).
"""

from typing import Protocol, cast

from sim.devices.stm32l0 import Clocked, merge

NEVER = 1 << 64
CR1, CR2, SMCR, DIER, SR, EGR, CNT, PSC, ARR, OR = (0x00, 0x04, 0x08, 0x0C, 0x10, 0x14,
                                                    0x24, 0x28, 0x2C, 0x50)
CCMR1, CCMR2, CCER, CCR1, CCR2, CCR3, CCR4 = 0x18, 0x1C, 0x20, 0x34, 0x38, 0x3C, 0x40
CEN, UDIS, URS, OPM, ARPE = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 7
DIR_CMS = 0x70  # CR1: down or centre-aligned counting
UIE = UIF = UG = 1
CCIF = 0x1E  # SR: CC1IF ... CC4IF (DIER: CC1IE ... CC4IE; EGR: CC1G ... CC4G)
SMS, ECE = 0x7, 1 << 14  # SMCR: slave mode, external clock mode 2
MMS = 7 << 4  # CR2: the master mode, what the trigger output (TRGO) is
# (4 ... 7: OC1REF ... OC4REF, the channels' output waveforms, not modelled)
TRGO_RESET, TRGO_ENABLE, TRGO_UPDATE, TRGO_COMPARE = 0, 1, 2, 3
RISING, FALLING, PULSE = 1, 2, 3  # a trigger's edges (as ADC_CFGR1.EXTEN's bits select them)
OCPE = 1 << 3  # a channel's CCMR byte: CCR preloaded (CCxS, bits 0-1: 0 output compare)
APB2ENR, APB1ENR = 0x34, 0x38


class TriggerInput(Protocol):
    """What takes a timer's trigger signals (the ADC: sim/devices/stm32l0_adc.py)."""

    def waiting_for(self) -> str | None:
        """The signal it takes now, None for none: a timer's name and ``TRGO`` or ``CH1`` ...
        ``CH4`` (that channel's compare event), e.g. ``"stm32l0_tim2 TRGO"``."""

    def trigger(self, source: str, at: int, edge: int) -> None:
        """``source`` changed at core cycle ``at`` (at most now): ``edge`` RISING, FALLING or
        PULSE (both at once)."""


class _Tim(Clocked):
    size = 0x400
    irq: int
    bus: int  # the APB it is on (1 or 2)
    channels: tuple[int, ...] = (CCMR1, CCR1, CCR2)  # TIM21, TIM22: two
    count = 2  # compare channels

    def reset(self) -> None:
        super().reset()
        self.cr1 = self.dier = self.sr = 0
        self.psc = 0  # as written (preloaded)
        self.arr = 0xFFFF
        self._psc = 0  # in effect
        self._arr = 0xFFFF
        self._ccr = [0] * (self.count + 1)  # CCR1 ... (index 1 ...) in effect (OCxPE)
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
        for ch in range(1, self.count + 1):
            if self._mode(ch) & OCPE:
                self._ccr[ch] = self._regs[CCR1 + 4 * (ch - 1)]

    def _mode(self, ch: int) -> int:
        """Channel ``ch``'s byte of CCMR1 or CCMR2."""
        return self._regs[CCMR1 if ch <= 2 else CCMR2] >> (8 * (1 - ch % 2)) & 0xFF

    def _matches(self) -> list[tuple[int, int]]:
        """(the cycle into the period at which the count reaches CCRx, x) for each channel in
        output compare mode whose CCRx the count reaches (at most ARR; 0 is reached at the
        update event, a period in)."""
        step, period = self._step(), self._period()
        return [(self._ccr[ch] * step or period, ch) for ch in range(1, self.count + 1)
                if not self._mode(ch) & 3 and self._ccr[ch] <= self._arr]

    def _advance(self) -> None:
        """Bring the count to the present: the compare matches and update events since, each
        at its own cycle (the ADC takes those it waits for)."""
        now = self.host.exceptions.now
        if self._counting():
            since, pos = self._since, self._pos
            watched = self._awaited() is not None
            while True:
                period = self._period()
                # the next event: a match within the period, else the update (and the matches
                # of 0, at the same cycle)
                at, chans = period, [ch for p, ch in self._matches() if p == period]
                for p, ch in self._matches():
                    if pos < p < at:
                        at, chans = p, [ch]
                    elif p == at < period:
                        chans.append(ch)
                due = since + at - pos
                if due > now:
                    pos += now - since
                    break
                since, pos = due, at
                if at == period:  # the update event, past ARR
                    pos = 0
                    if not self.cr1 & UDIS:
                        self._load()
                        self.sr |= UIF
                        self._signal(TRGO_UPDATE, "TRGO", due, PULSE, watched)
                for ch in chans:
                    self._compare(ch, due, watched)
                if at == period:
                    if self.cr1 & OPM and not self.cr1 & UDIS:
                        self._set_cen(0, due)
                    if not self._counting():
                        break
                    if not watched:  # nobody sees each event: on to the period under way
                        periods = (now - since) // self._period()
                        if periods:
                            since += periods * self._period()
                            self.sr |= (0 if self.cr1 & UDIS else UIF) | sum(
                                1 << ch for _, ch in self._matches())
            self._pos = pos
        self._since = now

    def _compare(self, ch: int, at: int, watched: bool) -> None:
        """Channel ``ch``'s compare event (a match, or EGR.CCxG) at cycle ``at``: CCxIF, and
        the pulse it gives the ADC (TIM21_CH2, TIM2_CH3, TIM2_CH4; TRGO with MMS compare)."""
        self.sr |= 1 << ch
        if watched:
            listener = self._listener(None, f"CH{ch}")
            if listener is not None:
                listener.trigger(f"{self.name} CH{ch}", at, PULSE)
            if ch == 1:
                self._signal(TRGO_COMPARE, "TRGO", at, PULSE, watched)

    def _signal(self, mode: int | None, signal: str, at: int, edge: int,
                watched: bool = True) -> None:
        """``signal`` (TRGO with CR2.MMS ``mode``) changed at cycle ``at``: to the ADC if it
        waits for it."""
        listener = self._listener(mode, signal) if watched else None
        if listener is not None:
            listener.trigger(f"{self.name} {signal}", at, edge)

    def _listener(self, mode: int | None, signal: str) -> TriggerInput | None:
        """The ADC while it waits for this timer's ``signal`` (and for TRGO, CR2.MMS is
        ``mode``)."""
        if mode is not None and self._regs[CR2] & MMS != mode << 4:
            return None
        return self._input if self._awaited() == signal else None

    def _awaited(self) -> str | None:
        """The signal of this timer the ADC waits for (``TRGO``, ``CH1`` ...), None for none."""
        if not self._input_known:
            found = self.host.device("stm32l0_adc")
            self._input = cast(TriggerInput, found) if hasattr(found, "waiting_for") else None
            self._input_known = True
        source = None if self._input is None else self._input.waiting_for()
        if source is None:
            return None
        name, _, signal = source.partition(" ")
        return signal if name == self.name else None

    def _set_cen(self, value: int, at: int) -> None:
        """CR1.CEN set to ``value`` at cycle ``at``: with CR2.MMS enable, TRGO follows it."""
        if value != self.cr1 & CEN:
            self.cr1 ^= CEN
            self._signal(TRGO_ENABLE, "TRGO", at, RISING if value else FALLING)

    def _schedule(self) -> None:
        """Plan the next event only while it could raise the interrupt (an enabled flag still
        clear) or trigger the ADC: a timer that can do neither costs nothing and never wakes a
        sleeping core. A watched match that comes after the update is planned at the update
        (which may change CCRx, ARR and PSC)."""
        now = self.host.exceptions.now
        due = None
        if self._counting():
            want = {ch for ch in range(1, self.count + 1)
                    if (self.dier >> ch & 1 and not self.sr >> ch & 1)
                    or self._listener(None, f"CH{ch}") is not None}
            if self._listener(TRGO_COMPARE, "TRGO") is not None:
                want.add(1)
            period = self._period()
            at = [p for p, ch in self._matches() if ch in want and self._pos < p < period]
            update = not self.cr1 & UDIS and (
                (self.dier & UIE and not self.sr & UIF)
                or self._listener(TRGO_UPDATE, "TRGO") is not None)
            if update or (want and not at):  # (a match after the update: planned there)
                at.append(period)
            if at:
                due = now + min(at) - self._pos
        self._next = NEVER if due is None else due
        self.host.exceptions.set_timer(self, due, self._catch_up)
        self.host.set_irq_level(self.irq, bool(self.dier & self.sr & (UIF | CCIF)))

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
        channels = (1 << self.count + 1) - 2  # CCIF's bits of this timer's channels
        listed, why = False, ""
        if word == CR1:
            self._set_cen(value & CEN, self.host.exceptions.now)
            self.cr1 = value & 0x3FF
            listed = bool(value & DIR_CMS)
        elif word == DIER:
            self.dier = value & 0x5F5F
            listed = bool(self.dier & ~(UIE | channels))
        elif word == SR:
            self.sr &= value  # rc_w0
        elif word == EGR:
            now = self.host.exceptions.now
            if value & UG:  # with UDIS the count restarts, but no update event
                self._pos = 0
                if not self.cr1 & UDIS:
                    self._load()
                    if not self.cr1 & URS:
                        self.sr |= UIF
                self._signal(TRGO_RESET, "TRGO", now, PULSE)
            for ch in range(1, self.count + 1):
                if value >> ch & 1:
                    self._compare(ch, now, True)
            listed = bool(value & ~(UG | channels))
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
            if CCR1 <= word <= CCR4:
                ch = (word - CCR1) // 4 + 1
                self._regs[word] = value & 0xFFFF
                if not self._mode(ch) & OCPE:
                    self._ccr[ch] = value & 0xFFFF
            elif word == SMCR:
                listed = bool(value & (SMS | ECE))
            elif word == CR2:
                listed = value & MMS > TRGO_COMPARE << 4
            elif word == CCER:
                why = self._ccer_why(value)
                listed = bool(why)
        else:
            self._stored[word] = value
            listed = True
        if listed:
            self.host.unmodelled(self, offset, size, value, why)
        if self._counting() and self._pos >= self._period():
            self._pos %= self._period()  # a count past ARR: back into the period
        self._schedule()

    def _ccer_why(self, value: int) -> str:
        """What a CCER write enables that is not modelled: a channel's output on its pin (its
        waveform), or its input capture."""
        enabled = [ch for ch in range(1, self.count + 1) if value >> (4 * (ch - 1)) & 1]
        if not enabled:
            return ""
        kinds = ["an input capture" if self._mode(ch) & 3 else "an output" for ch in enabled]
        return "; ".join(f"CC{ch}E, {kind}: not modelled (compare events are)"
                         for ch, kind in zip(enabled, kinds, strict=True))

    def _word(self, word: int) -> int:
        """The register at offset ``word`` (unmodelled ones as written)."""
        if word == CNT:
            return self._pos // self._step()
        values = {CR1: self.cr1, DIER: self.dier, SR: self.sr, PSC: self.psc, ARR: self.arr}
        return values.get(word, self._regs.get(word, self._stored.get(word, 0)))


class Stm32l0Tim2(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim2", 0x4000_0000, 15, (APB1ENR, 0), 1
    channels, count = (CCMR1, CCMR2, CCR1, CCR2, CCR3, CCR4), 4


class Stm32l0Tim21(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim21", 0x4001_0800, 20, (APB2ENR, 2), 2


class Stm32l0Tim22(_Tim):
    name, base, irq, clock, bus = "stm32l0_tim22", 0x4001_1400, 22, (APB2ENR, 5), 2


DEVICES = (Stm32l0Tim2, Stm32l0Tim21, Stm32l0Tim22)

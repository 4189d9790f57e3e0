"""The STM32L0x1's analog-to-digital converter, ADC (RM0377), as STM32CubeL0's HAL and LL drive
it: calibration, enable, software-started single or continuous conversions of the selected
channels, polled or interrupt-driven, so that firmware measuring its supply (VREFINT) or its
temperature runs instead of waiting for ever for ADCAL, ADRDY or EOC.

What it converts: channel 17 (VREFINT, with CCR.VREFEN) reads VREFINT_CAL and channel 18 (the
temperature sensor, with CCR.TSEN) reads TS_CAL1 (sim/devices/stm32l0_factory.py): VDDA is 3.0
V and the die at 30 degrees C, the conditions of the part's calibration, so the HAL's formulas
give 3,000 mV and 30 degrees C. With the run's supply (--analog VDDA=FILE@RATE, sim/analog.py)
both are fixed voltages read against the VDDA of the conversion's time (VREFINT_CAL x 3.0 /
VDDA: the HAL's formula gives that VDDA back), as the pins are. With VREFEN or TSEN off the
channel converts to 0, its read listed with why. A pin (channels 0-15) converts the run's
values for it (--analog 3=accel.csv, sim/analog.py: recorded volts, a value per conversion or
played at a rate); without them it converts to 0, and the firmware's read of such a result is
listed as unmodelled ("channel 3: a pin's voltage is not modelled, 0 V"). RES (12, 10, 8, 6
bits) and ALIGN apply.

Timing: the ADC clock is PCLK / 2, / 4 or PCLK (CFGR2.CKMODE; PCLK is PCLK2, the core's clock
divided by RCC_CFGR.PPRE2) or, with CKMODE 0, the HSI16 (16 MHz, divided by CCR.PRESC), which
then must be on in the RCC. A conversion takes SMPR's sampling time plus 12.5 ADC clock cycles
(10.5, 8.5, 6.5 at 10, 8, 6 bits), a sequence's conversions back to back; calibration (CR.ADCAL)
83, after which DR[6:0] holds the calibration factor, as CALFACT does; ADRDY is set as soon as
ADEN is. Without the HSI16, nothing comes (ADRDY, calibration, conversions) and every ISR and CR
read while the firmware waits is listed with why; a conversion or calibration whose clock stops
(the HSI16, or the RCC's ADCEN) stops where it is and goes on when the clock is back (one
started without it starts then), and one whose clock changes goes on at the new rate. ADSTART
(with ADEN, or with CFGR1.AUTOFF, where the ADC powers itself on to convert) converts CHSELR's
channels in order (CFGR1.SCANDIR: downwards), EOC after each (DR holds it; reading DR clears
EOC), EOS after the last; CONT starts the sequence again, otherwise ADSTART clears. With
CFGR1.EXTEN, ADSTART waits for a hardware trigger instead, and stays set: EXTSEL 2 or 4, the
trigger output of TIM2 or TIM22 (sim/devices/stm32l0_tim.py, CR2.MMS), or 1, 5, 3, the outputs
of TIM21's channel 2 and TIM2's channels 3 and 4 (CCER.CCxE on; edges as OCxM makes them), each
edge EXTEN selects starting the sequence at the edge's own cycle; an edge while a sequence is
under way is ignored, as on the chip. The other sources (EXTI line 11, and TIM6 and TIM3, which
the part lacks) are listed at the CFGR1 write: no conversion starts. A result that overwrites
one not read sets OVR (DR keeps the old one unless CFGR1.OVRMOD). ADSTP stops, ADDIS disables
(ADEN clears). ISR's flags are rc_w1. The interrupt (IRQ 12, ADC_COMP) is a level: ISR & IER
over ADRDY, EOSMP, EOC, EOS, OVR, EOCAL.

Like the other peripherals of the part it works only while its RCC clock is on (APB2ENR ADCEN,
bit 9; APB2RSTR resets it: sim.devices.stm32l0.Clocked). Not modelled, each listed when the
firmware asks for it: the other hardware triggers (above), the analog watchdog, discontinuous mode,
WAIT, oversampling, CCR.LFMEN; CFGR1.AUTOFF needs no ADEN to start (no power is modelled). SMPR,
TR, CALFACT and the CFGR registers read back. With CFGR1.DMAEN each end of conversion asks the
DMA (sim/devices/stm32l0_dma.py) to read DR, as it comes; in one-shot mode (DMACFG clear) the
DMA channel's end of transfer (even a circular one's) freezes DR, aborts the conversion under
way and stops the sequence: nothing converts (no EOC, no overrun) until ADSTART or DMAEN is set
again.
"""

from sim.analog import VDDA
from sim.devices import lane
from sim.devices.stm32l0 import CR as RCC_CR
from sim.devices.stm32l0 import HSION, Clocked, merge
from sim.devices.stm32l0_factory import TS_CAL1, VREFINT_CAL

ISR, IER, CR, CFGR1, CFGR2, SMPR, TR, CHSELR, DR, CALFACT, CCR = (
    0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x20, 0x28, 0x40, 0xB4, 0x308)
ADRDY, EOSMP, EOC, EOS, OVR, AWD, EOCAL = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 7, 1 << 11
_FLAGS = ADRDY | EOSMP | EOC | EOS | OVR | AWD | EOCAL
_IRQ_FLAGS = ADRDY | EOSMP | EOC | EOS | OVR | EOCAL
ADEN, ADDIS, ADSTART, ADSTP, ADVREGEN, ADCAL = 1, 1 << 1, 1 << 2, 1 << 4, 1 << 28, 1 << 31
# CFGR1
DMAEN, SCANDIR, RES, ALIGN, EXTEN, OVRMOD, CONT, WAIT, AUTOFF, DISCEN, AWDEN = (
    1, 1 << 2, 3 << 3, 1 << 5, 3 << 10, 1 << 12, 1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 23)
DMACFG = 1 << 1  # CFGR1: circular DMA requests (clear: one-shot)
# CFGR1.EXTSEL's hardware triggers (RM0377; STM32CubeL0's LL_ADC_REG_TRIG_EXT_*), and the
# modelled ones: a timer's trigger output (TRGO) or a channel's output (CHx)
TRIGGERS = ("TIM6_TRGO", "TIM21_CH2", "TIM2_TRGO", "TIM2_CH4", "TIM22_TRGO", "TIM2_CH3",
            "TIM3_TRGO", "EXTI line 11")
_SOURCES = {1: "stm32l0_tim21 CH2", 2: "stm32l0_tim2 TRGO", 3: "stm32l0_tim2 CH4",
            4: "stm32l0_tim22 TRGO", 5: "stm32l0_tim2 CH3"}
OVSE = 1  # CFGR2
VREFEN, TSEN, LFMEN = 1 << 22, 1 << 23, 1 << 25  # CCR
SAMPLING = (1.5, 3.5, 7.5, 12.5, 19.5, 39.5, 79.5, 160.5)  # SMPR.SMP, ADC clock cycles
PRESC = (1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256)  # CCR.PRESC, the HSI16's divider
HSI16_HZ = 16_000_000
CALIBRATION = 83  # ADC clock cycles
VREFINT, TEMPERATURE = 17, 18
IRQ = 12
_REGISTERS = (ISR, IER, CR, CFGR1, CFGR2, SMPR, TR, CHSELR, DR, CALFACT, CCR)  # the modelled
# an internal channel converted while its source is off: 0, and why
_OFF = {VREFINT: (1 << 22, "channel 17: VREFINT is off (ADC_CCR.VREFEN), 0"),
        TEMPERATURE: (1 << 23, "channel 18: the temperature sensor is off (ADC_CCR.TSEN), 0")}
APB2ENR = 0x34
NEVER = 1 << 64


class Stm32l0Adc(Clocked):
    name, base, size = "stm32l0_adc", 0x4001_2400, 0x400
    clock = (APB2ENR, 9)
    analog_pins = range(16)  # IN0 ... IN15: --analog feeds them (sim/analog.py)

    def reset(self) -> None:
        super().reset()
        self.isr = self.ier = self.cr = self.cfgr1 = self.cfgr2 = self.smpr = 0
        self.tr = 0x0FFF_0000
        self.chselr = self.ccr = self.calfact = 0
        self.dr = 0
        self._dr_channel: int | None = None  # the channel DR's result is from
        self._dr_known = False  # and whether its value is known (a pin: --analog)
        self._sequence: list[int] = []  # channels left to convert in this sequence
        self._calibrating = False
        self._due = NEVER  # the cycle the conversion (or calibration) under way ends
        # the ADC clock cycles it has left, from an RCC change (settle) until it goes on
        # (restart), kept while its clock is off
        self._left: float | None = None
        self._catching = False  # in _catch_up
        # the cycle the last sequence ended (a hardware trigger before it found the ADC busy)
        self._free_at = 0
        self._waiting: str | None = None  # what it waited for before an RCC change
        self._dma_over = False  # one-shot DMA: the transfer ended (no more requests)
        self.host.exceptions.set_timer(self, None, self._catch_up)

    # --- time ---------------------------------------------------------------------------------
    def _adc_hz(self) -> float:
        """The ADC clock, 0 when its source is off."""
        mode = self.cfgr2 >> 30
        if mode:
            pclk = self.host.clock_hz / (1 if self._rcc is None else self._rcc.apb_divider(2))
            return pclk / (2, 4, 1)[mode - 1]
        if self._rcc is not None and not self._rcc.read(RCC_CR, 4) & HSION:
            return 0
        presc = self.ccr >> 18 & 0xF
        return HSI16_HZ / PRESC[min(presc, len(PRESC) - 1)]

    def _cycles(self, adc_cycles: float) -> int | None:
        hz = self._adc_hz()
        return None if not hz else max(1, round(adc_cycles * self.host.clock_hz / hz))

    def _plan(self, adc_cycles: float, start: int | None = None) -> None:
        """The conversion or calibration ending ``adc_cycles`` ADC clock cycles after
        ``start`` (default now; a sequence's next conversion starts where the last ended)."""
        took = self._cycles(adc_cycles)
        # without its clock it waits for it: the RCC's change that brings it starts it there
        self._left = adc_cycles if took is None else None
        begin = self.host.exceptions.now if start is None else start
        self._due = NEVER if took is None else begin + took
        self._set_timer()

    def _set_timer(self) -> None:
        """The event at ``_due``: whether it wakes the core asked when the core sleeps (a
        calibration or a single sequence ends; continuous conversions go on for ever and
        wake it only as conversions_wake says)."""
        self.host.exceptions.set_timer(self, None if self._due == NEVER else self._due,
                                       self._catch_up, wakes=self._event_wakes)

    def _event_wakes(self) -> bool:
        return self._calibrating or not self.cfgr1 & CONT or self.conversions_wake()

    def conversions_wake(self) -> bool:
        """Whether a conversion's end may lead to something that wakes the core, asked while
        it sleeps (ExceptionModel.set_timer): an interrupt enabled among the flags it sets
        (IER: EOSMP, EOC, EOS, OVR) that is still clear (one left set raises the line no
        more; EOC read by the DMA rises again) on a line that can wake the core (IRQ 12:
        ExceptionModel.irq_wakes), or its result taken by the DMA in a way that may
        (one-shot: its end stops the conversions; circular: sim/devices/stm32l0_dma.py,
        Stm32l0Dma.wakes)."""
        left = self.isr & ~(EOC if self.cfgr1 & DMAEN else 0)
        if self.ier & ~left & (EOSMP | EOC | EOS | OVR) and self.host.exceptions.irq_wakes(IRQ):
            return True
        if not self.cfgr1 & DMAEN or self._dma_over:
            return False
        if not self.cfgr1 & DMACFG:
            return True
        wakes = getattr(self.host.device("stm32l0_dma"), "wakes", None)
        return wakes is None or bool(wakes(self.name, "adc"))

    def _catch_up(self) -> None:
        if self._catching:  # (the DMA reading DR as a conversion ends)
            return
        self._catching = True
        try:
            while self._due <= self.host.exceptions.now:
                ended, self._due = self._due, NEVER
                if self._calibrating:
                    self._calibrating = False
                    self.cr &= ~ADCAL
                    self.calfact = 0x40  # a calibration factor (the part's own; any will do)
                    self.dr, self._dr_channel = self.calfact, None  # DR[6:0] holds it too
                    self.isr |= EOCAL
                elif self._sequence:
                    self._convert(self._sequence.pop(0), ended)
                    if self.cfgr1 & DMAEN:  # each result read by the DMA as it comes: the
                        self._drive()  # flags' line first (EOC pends IRQ 12 with EOCIE, as on
                        self.dma_service()  # the part, though the DMA's read clears it)
        finally:
            self._catching = False
        self._drive()

    def dma_request(self, line: str) -> bool:
        """The DMA request (an end of conversion with CFGR1.DMAEN) is up; in one-shot mode
        (CFGR1.DMACFG clear) not after the DMA's end of transfer, until the next start."""
        return bool(self.cfgr1 & DMAEN and self.isr & EOC and self.clocked()
                    and not self._dma_over)

    def dma_ended(self, line: str) -> None:
        """The DMA's channel reached its end of transfer. In one-shot mode (the reference
        manual's DMACFG 0): DR frozen, the conversion under way aborted, the sequence stopped
        and reset, no more DMA requests (and so no overrun) until ADSTART or DMAEN is set
        again: no conversion starts meanwhile."""
        if not self.cfgr1 & DMACFG:
            self._dma_over = True
            self._sequence, self._due, self._left = [], NEVER, None
            self.host.exceptions.set_timer(self, None, self._catch_up)

    def settle(self) -> None:
        """Before an RCC change: what the conversion (or calibration) under way has left, in
        ADC clock cycles (its clock may change); the trigger's timer up to now."""
        self._waiting = self._timer_settle()
        if self._due != NEVER:
            self._catch_up()
        if self._due != NEVER:
            now = self.host.exceptions.now
            self._left = (self._due - now) * self._adc_hz() / self.host.clock_hz

    def restart(self) -> None:
        """After it: the conversion goes on at the ADC clock now; without its clock (the RCC's
        ADCEN, or the HSI16) it stops where it is, until the clock is back."""
        if self._left is not None:
            if self.clocked() and self._adc_hz():
                self._plan(self._left)
                self._left = None
            else:  # stopped: what it has left is kept
                self._due = NEVER
                self.host.exceptions.set_timer(self, None, self._catch_up)
        self._drive()  # held in reset: the line falls with the flags
        self._timer_restart(self._waiting)  # (its clock gone or back: the wait too)

    # --- converting ---------------------------------------------------------------------------
    def _channels(self) -> list[int]:
        chosen = [c for c in range(19) if self.chselr >> c & 1]
        return chosen[::-1] if self.cfgr1 & SCANDIR else chosen

    def _start_sequence(self, start: int | None = None) -> None:
        if self._dma_over:  # one-shot DMA done: nothing converts until a restart
            return
        self._sequence = self._channels()
        self._next_conversion(start)

    def _next_conversion(self, start: int | None = None) -> None:
        """Plan the sequence's next conversion: sampling, then 12.5 ADC clock cycles at 12 bits
        (10.5, 8.5, 6.5 at 10, 8, 6: CFGR1.RES)."""
        if self._sequence:
            resolution = 12.5 - 2 * (self.cfgr1 >> 3 & 3)
            self._plan(SAMPLING[self.smpr & 7] + resolution, start)
        elif not self.cfgr1 & EXTEN:  # an empty sequence: nothing to do
            self.cr &= ~ADSTART

    # --- hardware triggers --------------------------------------------------------------------
    def waiting_for(self) -> str | None:
        """The signal a conversion waits for (a timer's name and TRGO or CHx, as EXTSEL
        selects it: ADSTART with CFGR1.EXTEN), None for none."""
        if not (self.cr & ADSTART and self.cfgr1 & EXTEN and self.clocked()) or self._dma_over:
            return None
        if self.cfgr1 & CONT and self._sequence:  # converting for ever: triggers do nothing
            return None
        return _SOURCES.get(self.cfgr1 >> 6 & 7)

    def trigger(self, source: str, at: int, edge: int) -> None:
        """``source`` changed at cycle ``at``: an edge EXTEN selects starts the sequence there,
        unless one is under way then (the chip ignores the trigger)."""
        if self.waiting_for() != source or not self.cfgr1 >> 10 & edge:
            return
        self._catch_up()
        if self._sequence or self._calibrating or at < self._free_at:
            return
        self._start_sequence(at)
        self._catch_up()

    def _trigger_timer(self) -> Clocked | None:
        """The timer whose signal CFGR1.EXTSEL selects, if it is modelled."""
        source = _SOURCES.get(self.cfgr1 >> 6 & 7)
        timer = None if source is None else self.host.device(source.split()[0])
        return timer if isinstance(timer, Clocked) else None

    def _value(self, channel: int, at: int) -> tuple[int, bool]:
        """The 12-bit result of the conversion that ended at cycle ``at``, and whether the
        simulator knows it: VREFINT and the sensor as calibrated, a pin from the run's --analog
        values then (sim/analog.py; the end of the conversion, not the cycle the simulator
        handles it at), else 0 V."""
        if channel in (VREFINT, TEMPERATURE) and self.ccr & (
                VREFEN if channel == VREFINT else TSEN):
            # a fixed voltage (the calibration's code at 3.0 V), read against VDDA then
            supply = getattr(self.host, "supply_volts", None)
            vdda = VDDA if supply is None else supply(at)
            cal = VREFINT_CAL if channel == VREFINT else TS_CAL1
            return round(cal * VDDA / vdda), True  # (at most 3,038: VDDA >= 1.65 V)
        code = self.host.analog_code(channel, at) if channel in self.analog_pins else None
        return (0, False) if code is None else (code, True)

    def _convert(self, channel: int, at: int) -> None:
        """The conversion of ``channel`` that ended at cycle ``at``."""
        bits = 12 - 2 * (self.cfgr1 >> 3 & 3)
        code, known = self._value(channel, at)
        value = code >> (12 - bits)
        if self.cfgr1 & ALIGN:
            value <<= (16 if bits > 6 else 8) - bits
        self.isr |= EOSMP
        if self.isr & EOC:  # the last result not read
            self.isr |= OVR
            if self.cfgr1 & OVRMOD:
                self.dr, self._dr_channel, self._dr_known = value, channel, known
        else:
            self.dr, self._dr_channel, self._dr_known = value, channel, known
        self.isr |= EOC
        if not self._sequence:
            self.isr |= EOS
            if self.cfgr1 & CONT and self.cr & ADSTART:
                self._sequence = self._channels()
            else:  # done; with a hardware trigger ADSTART stays set: the next trigger starts
                self._free_at = at
                if not self.cfgr1 & EXTEN:
                    self.cr &= ~ADSTART
        if self._sequence and self.cr & ADSTART:
            self._next_conversion(at)

    def _stalled(self) -> bool:
        """Calibrating, enabled or converting without the ADC clock: nothing comes."""
        return bool(self.cr & (ADCAL | ADEN | ADSTART)) and not self._adc_hz()

    def _drive(self) -> None:
        self.host.set_irq_level(IRQ, bool(self.isr & self.ier & _IRQ_FLAGS), self)

    # --- registers ----------------------------------------------------------------------------
    def read_clocked(self, offset: int, size: int) -> int:
        self._catch_up()
        word = offset & ~3
        if word == DR:
            value = self.dr
            channel = self._dr_channel
            if channel is not None and channel < 16 and not self._dr_known:
                self.host.unmodelled(self, offset, size, None,
                                     f"channel {channel}: a pin's voltage is not modelled, 0 V")
            elif channel in _OFF and not self.ccr & _OFF[channel][0]:
                self.host.unmodelled(self, offset, size, None, _OFF[channel][1])
            self.isr &= ~EOC
            self._drive()
        else:
            if word not in _REGISTERS:
                self.host.unmodelled(self, offset, size, None)
            elif word in (ISR, CR) and self._stalled():  # waiting for what cannot come
                self.host.unmodelled(self, offset, size, None,
                                     "its clock, the HSI16 (ADC_CFGR2.CKMODE 0), is off (RCC "
                                     "CR HSI16ON)")
            value = self.read_word(word)
        return lane(value, offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        waiting = self._timer_settle()
        self._write(offset, size, value)
        self._timer_restart(waiting)

    def _timer_settle(self) -> str | None:
        """Before a change that may start or end the wait for a trigger: the timer it waits
        for brought up to now (its events before the change are not for the new state); what
        it waits for."""
        waiting = self.waiting_for()
        timer = self._trigger_timer()
        if timer is not None:
            timer.settle()
        return waiting

    def _timer_restart(self, waiting: str | None) -> None:
        """After it: when the wait changed (``waiting`` before), the timers concerned plan
        their events anew (each event while the ADC waits for it, none otherwise)."""
        if self.waiting_for() == waiting:
            return
        for source in {waiting, self.waiting_for()}:
            timer = None if source is None else self.host.device(source.split()[0])
            if isinstance(timer, Clocked):
                timer.restart()

    def _write(self, offset: int, size: int, value: int) -> None:
        self._catch_up()
        word = offset & ~3
        old = self.read_word(word)
        new = merge(old, offset, size, value)
        listed = False
        if word == ISR:
            self.isr &= ~(merge(0, offset, size, value) & _FLAGS)  # rc_w1: the bytes written
        elif word == IER:
            self.ier = new & 0x89F
            listed = bool(self.ier & AWD)
        elif word == CR:
            listed = self._control(new)
        elif word == CFGR1:
            if new & DMAEN and not self.cfgr1 & DMAEN:
                self._dma_over = False
            self.cfgr1 = new & 0x7CC1_FFFF
            listed = bool(new & (WAIT | DISCEN | AWDEN))
            source = new >> 6 & 7
            if new & EXTEN and source not in _SOURCES:
                self.host.unmodelled(self, offset, size, value,
                                     f"EXTSEL {source}, {TRIGGERS[source]}: a hardware trigger "
                                     "not modelled, no conversion starts")
        elif word == CFGR2:
            self.cfgr2 = new & 0xC000_03FD
            listed = bool(new & OVSE)
        elif word == SMPR:
            self.smpr = new & 7
        elif word == TR:
            self.tr = new & 0x0FFF_0FFF
        elif word == CHSELR:
            self.chselr = new & 0x7FFFF
        elif word == CALFACT:
            self.calfact = new & 0x7F
        elif word == CCR:
            self.ccr = new & 0x03FC_0000
            listed = bool(new & LFMEN)
        else:
            listed = True
        if listed:
            self.host.unmodelled(self, offset, size, value)
        self._drive()

    def _control(self, new: int) -> bool:
        """A CR write (its bits are set by software and cleared by the ADC); True when it asks
        for what is not done (a start the ADC refuses in its state, as the chip ignores it)."""
        refused = False
        if new & ADCAL and not self.cr & ADCAL:
            if self.cr & ADEN:
                refused = True  # only while disabled
            else:
                self.cr |= ADCAL
                self._calibrating = True
                self._plan(CALIBRATION)
        if new & ADVREGEN:
            self.cr |= ADVREGEN
        elif not self.cr & ADEN:
            self.cr &= ~ADVREGEN
        if new & ADEN and not self.cr & (ADEN | ADCAL):
            self.cr |= ADEN
            if self._adc_hz():  # ready at once; without its clock, never
                self.isr |= ADRDY
        if new & ADSTART and not self.cr & ADSTART:
            self._dma_over = False
            # with CFGR1.AUTOFF the ADC powers itself on to convert: no ADEN needed (the
            # HAL's HAL_ADC_Start skips ADC_Enable in that mode)
            if (self.cr & ADEN or self.cfgr1 & AUTOFF) and not self.cr & ADDIS:
                if self.cfgr1 & EXTEN:  # waits for the trigger, from now on
                    self.cr |= ADSTART
                    self._free_at = self.host.store_cycle()  # (from the store on)
                else:
                    self.cr |= ADSTART
                    self._start_sequence()
            else:
                refused = True
        if new & ADSTP and self.cr & ADSTART:
            self.cr &= ~ADSTART
            self._sequence = []
            self._due, self._left = NEVER, None
            self.host.exceptions.set_timer(self, None, self._catch_up)
        if new & ADDIS and self.cr & ADEN and not self.cr & ADSTART:
            self.cr &= ~(ADEN | ADDIS)
            self.isr &= ~ADRDY
        return refused

    def read_word(self, word: int) -> int:
        """A register as the firmware reads it, without a read's side effects."""
        values = {ISR: self.isr, IER: self.ier, CR: self.cr, CFGR1: self.cfgr1,
                  CFGR2: self.cfgr2, SMPR: self.smpr, TR: self.tr, CHSELR: self.chselr,
                  DR: self.dr, CALFACT: self.calfact, CCR: self.ccr}
        return values.get(word, 0)


DEVICES = (Stm32l0Adc,)

"""The STM32L0x1's low-power timer LPTIM1 (RM0377), as a time base: what STM32CubeL0's
HAL_LPTIM_Counter_Start_IT and HAL_LPTIM_TimeOut_Start_IT set up, and what low-power firmware
(a tickless idle, a periodic wake-up from Stop mode) counts with, on the LSE or the LSI while
the core sleeps.

The counter counts kernel clock cycles (RCC_CCIPR.LPTIM1SEL: PCLK1, the LSI (37 kHz), the HSI16
(16 MHz, 4 with HSI16DIVEN) or the LSE (32,768 Hz)) divided by CFGR.PRESC (1 ... 128), from 0 up
to ARR: CNT equal to ARR sets ISR.ARRM and the next count is 0; CNT equal to CMP sets CMPM.
CR.ENABLE enables it (disabled, the counter is 0 and stopped, and CR.CNTSTRT and SNGSTRT are
ignored); CNTSTRT starts continuous counting, SNGSTRT one period (the counter back to 0 and
stopped after ARR), once enabled (set in the write that enables, they are ignored and listed);
CMP 0 matches at each wrap to 0. ARR and CMP take writes only while enabled (ARROK and CMPOK set
two kernel clock cycles later, as the write crosses to the LPTIM's clock domain), CFGR and IER
only while disabled, as RM0377 says: other writes are ignored and listed. With CFGR.PRELOAD a
new ARR or CMP takes effect at the end of the period, else at once. ICR clears ISR's flags. The
interrupt (IRQ 13) is a level, ISR & IER; IMR line 29 of the EXTI is its Stop-mode wake-up,
which the NVIC line does here. On the LSE or the LSI it runs in Stop mode.

External pulses (a meter's, HAL_LPTIM_Counter_Start_IT): with CFGR.COUNTMODE (IN1 sampled on the
kernel clock, which must run) or CKSEL (the ultra-low-power clock, IN1 itself) the counter counts
IN1's active edges (CKPOL: rising, falling, both) through PRESC instead of the clock, each at its
own cycle (``in1_changed``, told by the GPIO port of a pin in alternate function LPTIM1_IN1 and
by a comparator whose COMPx_CSR connects its output); with CKSEL the writes' ARROK and CMPOK
come two IN1 edges later.

A hardware trigger (CFGR.TRIGEN: rising, falling or both edges of what TRIGSEL selects: the pin
in LPTIM1_ETR's alternate function, COMP1's or COMP2's output; ``trigger_changed``, each edge at
its own cycle): CNTSTRT or SNGSTRT arms the counter and the trigger starts it (ISR.EXTTRIG);
continuous, later triggers are ignored; one-shot, each trigger after the counter stopped starts
one period (set-once, CFGR.WAVE: only the first); a start bit written while it counts switches
the mode on the fly; with CFGR.TIMOUT each trigger while it counts restarts it from 0 (the
time-out mode: CMPM only when no trigger came for CMP counts). The chip's two kernel clock
cycles of synchronisation before the start are not modelled.

Each runs only while its RCC clock is on (APB1ENR LPTIM1EN, bit 31) and it is not held in reset
(APB1RSTR, the same bit; sim.devices.stm32l0.Clocked), and counts only while its kernel clock
runs. The RTC's alarms and tampers (TRIGSEL 1-5) are triggers as their flags' levels
(ALRAF, ALRBF, TAMP1F-TAMP3F: rising when the event comes, falling when the firmware clears the
flag; sim/devices/stm32l0_rtc.py), the RTC planning its alarms while one would start or restart
the counter. Not modelled (listed when set): the encoder mode (ENC), the triggers' and IN1's
glitch filters (TRGFLT, CKFLT: each edge acts), the waveform output (its settings read back),
UP and DOWN.
"""

from sim.devices import DeviceHost, lane
from sim.devices.stm32l0 import Clocked, merge
from sim.devices.timeline import Timeline

LPTIM1_BASE = 0x4000_7C00
ISR, ICR, IER, CFGR, CR, CMP, ARR, CNT = range(0, 0x20, 4)
CMPM, ARRM, EXTTRIG, CMPOK, ARROK = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4
FLAGS = 0x7F  # ISR: CMPM ... DOWN
ENABLE, SNGSTRT, CNTSTRT = 1, 1 << 1, 1 << 2
CKSEL, PRELOAD, COUNTMODE, ENC = 1, 1 << 22, 1 << 23, 1 << 24
CKPOL, CKFLT = 3 << 1, 3 << 3  # IN1's active edges (00 rising, 01 falling, 10 both), filter
EXTERNAL = CKSEL | COUNTMODE  # the counter counts IN1's edges
TRIGEN, TRIGSEL, TRGFLT, TIMOUT, WAVE = 3 << 17, 7 << 13, 3 << 6, 1 << 19, 1 << 20
# CFGR.TRIGSEL's sources modelled (RM0377's LPTIM1 external trigger table): 0 the pin in
# LPTIM1_ETR's alternate function (sim/devices/stm32l0_gpio.py LPTIM_ETR_PINS), 6 COMP1's
# output, 7 COMP2's; 1-5 the RTC's alarms A and B and tampers 1 to 3 (STM32CubeL0's current
# LPTIM_TRIGSOURCE_5 is RTC_TAMP3 wherever RTC_TAMPER3_SUPPORT is, as in stm32l031xx.h; its 2015
# HAL named it for the L07x/L08x only): their flags' levels (sim/devices/stm32l0_rtc.py)
TRIG_PIN, TRIG_COMP1, TRIG_COMP2 = 0, 6, 7
TRIG_RTC = range(1, 6)
_CFGR_BITS = 0x01FE_EEDF  # CKSEL ... ENC (reserved bits read 0)
APB1ENR, CCIPR = 0x38, 0x4C  # RCC's offsets
LSI_HZ, LSE_HZ = 37_000, 32_768
IRQ = 13
SYNC = 2  # kernel clock cycles for an ARR or CMP write to reach the counter (ARROK, CMPOK)
NEVER = 1 << 64


class Stm32l0Lptim1(Clocked):
    name, base, size = "stm32l0_lptim1", LPTIM1_BASE, 0x400
    clock = (APB1ENR, 31)

    def reset(self) -> None:
        taking = getattr(self, "_rtc_taking", 0)  # (the RTC planned its alarms for it)
        super().reset()
        self.isr = self.ier = self.cfgr = self.cr = 0
        self.cmp = self.arr = 0  # in effect
        self._pending: dict[int, int] = {}  # PRELOAD: ARR and CMP for the period's end
        self._syncing: dict[int, int] = {}  # ARROK/CMPOK -> the kernel cycle it sets at
        self.mode = 0  # 0 stopped, SNGSTRT or CNTSTRT: how the counter runs
        self.cnt = 0
        self._in1: int | None = None  # IN1's level as last seen (None: not yet)
        self._trig: int | None = None  # the external trigger's level as last seen (TRIGEN)
        self._armed = 0  # TRIGEN: SNGSTRT or CNTSTRT set, the counter waiting for a trigger
        self._rtc_taking = 0  # rtc_trigger() as the RTC last heard it
        self._sub = 0  # kernel cycles into the current count (the prescaler)
        # kernel clock cycles against the core's (either clock may change); hz 0: stopped
        self._line = Timeline(self.host.clock_hz, self.host.exceptions.now)
        self._next = NEVER
        self.host.exceptions.set_timer(self, None, self._catch_up)
        if taking:  # (an RCC or system reset: the RTC no longer plans its alarms for it)
            rtc = self.host.device("stm32l0_rtc")
            if rtc is not None:
                rtc.lptim_changed()  # type: ignore[attr-defined]

    # --- the clock ----------------------------------------------------------------------------
    def runs_in_stop(self) -> bool:
        # the LSI or the LSE; or IN1 clocking it (CKSEL), which needs no clock of the part
        return bool(self.cfgr & CKSEL) or self._kernel_sel() in (1, 3)

    def _kernel_sel(self) -> int:
        rcc = self._rcc
        return 0 if rcc is None else rcc.read(CCIPR, 4) >> 18 & 3

    def _kernel_hz(self) -> int:
        """The kernel clock (RCC_CCIPR.LPTIM1SEL); 0 when it does not run for the counter."""
        rcc = self._rcc
        if self.cfgr & (CKSEL | ENC) or not self.clocked():
            return 0  # (COUNTMODE: the kernel clock runs, to sample IN1 and sync writes)
        sel = self._kernel_sel()
        if rcc is None or sel == 0:
            return self.host.clock_hz // (1 if rcc is None else rcc.apb_divider(1))
        if sel == 1:
            return LSI_HZ if rcc.read(0x50, 4) & 2 else 0  # CSR.LSIRDY
        if sel == 2:
            return rcc.hsi16_hz() if rcc.read(0, 4) & 4 else 0  # CR.HSI16RDYF
        return LSE_HZ if rcc.read(0x50, 4) & 1 << 9 else 0  # CSR.LSERDY

    def _presc(self) -> int:
        return 1 << (self.cfgr >> 9 & 7)

    def _retime(self) -> None:
        """Go on at the kernel clock and the core clock there are now, from where it is."""
        self._line.retime(self._kernel_hz(), self.host.clock_hz, self.host.exceptions.now)

    # --- counting -----------------------------------------------------------------------------
    def _advance(self, until: int | None = None) -> None:
        """The counter, its matches and the ARROK/CMPOK completions, up to now (or cycle
        ``until``)."""
        line = self._line
        before = line.count
        line.rebase(self.host.exceptions.now if until is None else until)
        for flag, at in list(self._syncing.items()):
            if line.count >= at:
                self.isr |= flag
                del self._syncing[flag]
        if not self.mode or self.cfgr & EXTERNAL:
            return  # (counting IN1's edges: _tick)
        self._tick(line.count - before)

    def _tick(self, ticks: int) -> None:
        """``ticks`` periods of what the counter counts (the kernel clock, or IN1's active
        edges), through the prescaler."""
        total = self._sub + ticks
        n, self._sub = divmod(total, self._presc())
        while n > 0 and self.mode:
            to_end = self.arr + 1 - self.cnt if self.cnt <= self.arr else 0x10000 - self.cnt
            step = min(n, to_end)
            self._matches(self.cnt, self.cnt + step)
            n -= step
            if step < to_end:
                self.cnt += step
                break
            self.cnt = 0  # the count after ARR: the period's end
            self.arr = self._pending.pop(ARR, self.arr)
            self.cmp = self._pending.pop(CMP, self.cmp)
            if self.cmp == 0:  # CNT equal to CMP: at the wrap to 0
                self.isr |= CMPM
            if self.mode == SNGSTRT:  # (with a trigger: the next one starts it again)
                self.mode, self._sub = 0, 0
            elif n > self.arr + 1:  # whole periods: their matches are flags, set once
                self._matches(0, self.arr + 1)
                n %= self.arr + 1

    def _matches(self, start: int, end: int) -> None:
        """CNT takes the values start + 1 ... end (ARR + 1: the wrap to 0, no value)."""
        if start < self.arr <= end:
            self.isr |= ARRM
        if start < self.cmp <= min(end, self.arr):
            self.isr |= CMPM

    def _schedule(self) -> None:
        """Plan the next event that could raise the interrupt: a match or a completion with its
        interrupt enabled and its flag clear (nothing else needs the core's attention)."""
        due = NEVER
        if self._line.hz:
            for flag, at in self._syncing.items():
                if self.ier & flag:
                    due = min(due, at)
            presc = self._presc()
            # the next period's ARR and CMP: those PRELOAD holds for it
            arr2 = self._pending.get(ARR, self.arr)
            to_wrap = (self.arr + 1 if self.cnt <= self.arr else 0x10000) - self.cnt
            for flag, value, value2 in ((ARRM, self.arr, arr2),
                                        (CMPM, self.cmp, self._pending.get(CMP, self.cmp))):
                if not (self.mode and self.ier & flag and not self.isr & flag) or (
                        self.cfgr & EXTERNAL):  # (IN1's edges come when they come)
                    continue
                if self.cnt < value <= self.arr:
                    counts = value - self.cnt
                elif flag == CMPM and value2 == 0:
                    counts = to_wrap  # CMP 0: at the wrap (single mode: its end)
                elif self.mode == SNGSTRT or not 0 < value2 <= arr2:
                    continue  # one period: no match after its end
                else:
                    counts = to_wrap + value2
                due = min(due, self._line.count + counts * presc - self._sub)
        self._next = NEVER if due == NEVER else self._line.cycle_of(due)
        self.host.exceptions.set_timer(self, None if due == NEVER else self._next,
                                       self._catch_up)
        self._drive()
        taking = self.rtc_trigger()
        if taking != self._rtc_taking:  # the RTC plans its alarms for it, or no longer
            self._rtc_taking = taking
            rtc = self.host.device("stm32l0_rtc")
            if rtc is not None:
                rtc.lptim_changed()  # type: ignore[attr-defined]

    def _catch_up(self) -> None:
        if self._next > self.host.exceptions.now:
            return
        self._advance()
        self._schedule()

    def _drive(self) -> None:
        self.host.set_irq_level(IRQ, bool(self.isr & self.ier), self)

    # --- IN1: external counting -------------------------------------------------------------
    def _comparator_in1(self) -> int | None:
        """The comparator (0: COMP1) whose output COMPx_CSR connects to IN1, if one does
        (COMP1LPTIMIN1, COMP2LPTIMIN1; sim/devices/stm32l0_comp.py)."""
        comparators = getattr(self.host.device("stm32l0_syscfg"), "comparators", None)
        if comparators is None:
            return None
        return next((n for n, bit in ((0, 1 << 12), (1, 1 << 13))
                     if comparators.csr[n] & bit), None)

    def _in1_level(self) -> int:
        """IN1: a comparator's output (COMPx_CSR), else the level of a pin in its alternate
        function LPTIM1_IN1 (sim/devices/stm32l0_gpio.py LPTIM_IN1_PINS), else 0."""
        n = self._comparator_in1()
        return self._comparator_out(n) if n is not None else self._pin_level("lptim_in1")

    def _comparator_out(self, n: int) -> int:
        """Comparator ``n``'s output (0: COMP1; sim/devices/stm32l0_comp.py)."""
        comparators = getattr(self.host.device("stm32l0_syscfg"), "comparators", None)
        return int(bool(comparators is not None and comparators.out[n]))

    def _pin_level(self, function: str) -> int:
        """The level of the first pin the GPIO ports' ``function`` (``lptim_in1``,
        ``lptim_etr``) finds in that alternate function, 0 for none."""
        for letter in "abch":
            port = self.host.device(f"stm32l0_gpio{letter}")
            level = getattr(port, function, lambda: None)()
            if level is not None:
                return int(level)
        return 0

    def takes_in1(self) -> bool:
        """Whether the counter counts IN1's edges now (enabled, counting, external mode)."""
        return bool(self.mode and self.cfgr & EXTERNAL and self.cr & ENABLE)

    def in1_changed(self, at: int) -> None:
        """IN1's source (a pin, a comparator's output) may have changed level at cycle
        ``at``: an active edge (CKPOL) is a count, at its own cycle (CKSEL 1 needs no clock;
        COUNTMODE samples IN1 on the kernel clock, so it must run), then the matches and the
        interrupt."""
        if not self.cfgr & EXTERNAL:  # (nothing takes IN1: its level is read at the CFGR write)
            return
        level = self._in1_level()
        before, self._in1 = self._in1, level
        if before is None or level == before or not self.cr & ENABLE or not self.clocked():
            return
        if not self.cfgr & CKSEL and not self._kernel_hz():
            return  # (COUNTMODE without its kernel clock: IN1 is not sampled)
        pol = self.cfgr >> 1 & 3
        if not (pol == 2 or (pol == 1) == (level == 0)):
            return
        self._line.rebase(max(at, self._line.base))
        self._advance()
        if self.cfgr & CKSEL:  # IN1 is the kernel clock: the writes' synchronisation runs on
            for flag in list(self._syncing):  # its edges, counting or not
                self._syncing[flag] -= 1
                if self._syncing[flag] <= self._line.count:
                    self.isr |= flag
                    del self._syncing[flag]
        if self.takes_in1():
            self._tick(1)
        self._schedule()

    # --- the external trigger (CFGR.TRIGEN, TRIGSEL) ------------------------------------------
    def _trigger_level(self) -> int:
        """The trigger CFGR.TRIGSEL selects: a comparator's output, the level of a pin in
        LPTIM1_ETR's alternate function, an RTC flag (ALRAF, ALRBF, TAMP1F-TAMP3F)."""
        sel = self.cfgr >> 13 & 7
        if sel in (TRIG_COMP1, TRIG_COMP2):
            return self._comparator_out(sel - TRIG_COMP1)
        if sel in TRIG_RTC:
            rtc = self.host.device("stm32l0_rtc")
            return 0 if rtc is None else rtc.trigger_level(sel)  # type: ignore[attr-defined]
        return self._pin_level("lptim_etr")

    def rtc_trigger(self) -> int:
        """The RTC source (TRIGSEL 1-5) whose edge would start or restart the counter now
        (takes_trigger), else 0: the RTC plans its alarms for it (they may wake the core)."""
        sel = self.cfgr >> 13 & 7
        return sel if sel in TRIG_RTC and self.takes_trigger() else 0

    def trigger_from(self, comparator: int) -> bool:
        """Whether the trigger (TRIGEN set) is comparator ``comparator``'s output (0: COMP1)."""
        return bool(self.cfgr & TRIGEN) and self.cfgr >> 13 & 7 == TRIG_COMP1 + comparator

    def takes_trigger(self) -> bool:
        """Whether a trigger's edge would act now: enabled and clocked (in Stop mode: on the
        LSE, the LSI or CKSEL), and armed (CNTSTRT or SNGSTRT waiting) or counting in the
        time-out mode (a restart)."""
        return bool(self.cfgr & TRIGEN and self.cr & ENABLE and self.clocked()
                    and (self._armed or (self.mode and self.cfgr & TIMOUT)))

    def trigger_changed(self, at: int) -> None:
        """The trigger's source may have changed level at cycle ``at``: an active edge
        (TRIGEN: 01 rising, 10 falling, 11 both) starts the counter armed by CNTSTRT or
        SNGSTRT (one-shot: each trigger after the counter stopped starts it again), restarts it
        from 0 in the time-out mode (TIMOUT) and sets ISR.EXTTRIG; a trigger while it runs
        (not TIMOUT) is ignored."""
        if not self.cfgr & TRIGEN:
            return
        level = self._trigger_level()
        before, self._trig = self._trig, level
        if before is None or level == before or not self.cr & ENABLE or not self.clocked():
            return
        edges = self.cfgr >> 17 & 3
        if not (edges == 3 or (edges == 1) == bool(level)):
            return
        self._advance(max(at, self._line.base))  # (up to the edge as the counter was)
        if self.mode and self.cfgr & TIMOUT:
            self.cnt = self._sub = 0
        elif not self.mode and self._armed:
            self.mode, self.cnt, self._sub = self._armed, 0, 0
            if self._armed == CNTSTRT or self.cfgr & WAVE:  # (continuous, set-once: later
                self._armed = 0  # triggers are ignored)
        else:
            return
        self.isr |= EXTTRIG
        self._advance()
        self._schedule()

    def _settle_rtc(self, always: bool = False) -> None:
        """The RTC's flags up to now (an alarm nothing planned is only accounted at its next
        access) before the trigger's level is taken from them: an alarm already past is a
        high level, no edge (at CR and CFGR writes, ``always``; before an RCC change)."""
        rtc = self.host.device("stm32l0_rtc")
        taken = bool(self.cfgr & TRIGEN) and self.cfgr >> 13 & 7 in TRIG_RTC
        if rtc is not None and (always or taken):
            rtc.settle()  # type: ignore[attr-defined]

    def settle(self) -> None:
        self._settle_rtc()
        self._advance()

    def restart(self) -> None:
        self._retime()
        self._schedule()

    def rcc_changed(self) -> None:
        """A reset or the clock changed: whether an armed comparator trigger may wake the core
        changes too (the comparators plan again)."""
        from sim.devices.stm32l0_comp import replan

        super().rcc_changed()
        replan(self.host)

    # --- registers ----------------------------------------------------------------------------
    def read_word(self, word: int) -> int:
        """A register as the firmware reads it (after _advance)."""
        return {ISR: self.isr, IER: self.ier, CFGR: self.cfgr, CR: self.cr, CMP: self.cmp,
                ARR: self.arr, CNT: self.cnt}.get(word, 0)

    def read_clocked(self, offset: int, size: int) -> int:
        self._advance()
        self._schedule()
        word = offset & ~3
        if word not in (ISR, ICR, IER, CFGR, CR, CMP, ARR, CNT):
            self.host.unmodelled(self, offset, size, None)
        return lane(self.read_word(word), offset, size)

    def _refuse(self, offset: int, size: int, value: int, why: str) -> None:
        self.host.unmodelled(self, offset, size, value, f"ignored: {why}")

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        if offset & ~3 in (CR, CFGR):  # (a comparator's edges on IN1 up to the store first)
            from sim.devices.stm32l0_comp import settle

            settle(self.host)
            self._settle_rtc(always=True)
        self._advance()
        word = offset & ~3
        value = merge(self.read_word(word), offset, size, value)
        enabled = bool(self.cr & ENABLE)
        if word == ICR:
            self.isr &= ~(value & FLAGS)
        elif word in (IER, CFGR):
            if enabled:
                self._refuse(offset, size, value, "LPTIM1 is enabled (RM0377: written only "
                             "while CR.ENABLE is clear)")
            elif word == IER:
                self.ier = value & FLAGS
            else:
                self.cfgr = value & _CFGR_BITS
                why = []
                if self.cfgr & ENC:
                    why.append("ENC, the encoder mode: it does not count")
                if self.cfgr & TRIGEN and self.cfgr & TRGFLT:
                    why.append("TRGFLT: the trigger's glitch filter not modelled (each edge "
                               "triggers)")
                if self.cfgr & EXTERNAL and self.cfgr & CKPOL == CKPOL:
                    why.append("CKPOL 11 (reserved outside the encoder): rising edges taken")
                if self.cfgr & EXTERNAL and self.cfgr & CKFLT:
                    why.append("CKFLT: IN1's glitch filter not modelled (each edge counts)")
                if why:
                    self.host.unmodelled(self, offset, size, value, "; ".join(why))
                self._in1 = self._in1_level()
                self._trig = self._trigger_level()
        elif word == CR:
            self._control(value)
        elif word in (ARR, CMP):
            if not enabled:
                self._refuse(offset, size, value, "LPTIM1 is disabled (RM0377: written only "
                             "while CR.ENABLE is set)")
            else:
                if self.cfgr & PRELOAD and self.mode:
                    self._pending[word] = value & 0xFFFF
                elif word == ARR:
                    self.arr = value & 0xFFFF
                else:
                    self.cmp = value & 0xFFFF
                flag = ARROK if word == ARR else CMPOK
                self.isr &= ~flag
                self._syncing[flag] = self._line.count + SYNC
        elif word not in (CNT, ISR):  # CNT and ISR are read-only
            self.host.unmodelled(self, offset, size, value)
        self._retime()
        self._schedule()
        if word in (CR, CFGR):  # (whether a comparator's edges may wake the core through it)
            from sim.devices.stm32l0_comp import replan

            replan(self.host)

    def _control(self, value: int) -> None:
        if not value & ENABLE:  # disabled: the counter stops at 0
            self.cr, self.mode, self.cnt, self._sub, self._armed = 0, 0, 0, 0, 0
            self._pending.clear()
            return
        if not self.cr & ENABLE:
            if value & (SNGSTRT | CNTSTRT):  # RM0377: set only once enabled
                self.host.unmodelled(self, CR, 4, value, "CNTSTRT, SNGSTRT ignored: LPTIM1 "
                                     "was disabled (RM0377: set them once CR.ENABLE is set)")
            self.cr = ENABLE
            return
        self.cr = ENABLE
        if self.cfgr & TRIGEN:  # the counter waits for the trigger (trigger_changed)
            if value & (CNTSTRT | SNGSTRT):
                start = CNTSTRT if value & CNTSTRT else SNGSTRT
                if self.mode:  # counting: the mode switched on the fly (RM0377); one-shot
                    self.mode = start  # (not set-once): the next trigger after it stops
                    self._armed = start if start == SNGSTRT and not self.cfgr & WAVE else 0
                else:
                    self._armed = start
                    self._trig = self._trigger_level()  # (its edges from now on)
            return
        if value & CNTSTRT:
            self.mode = CNTSTRT
        elif value & SNGSTRT:
            self.mode = SNGSTRT


DEVICES = (Stm32l0Lptim1,)


def in1_changed(host: DeviceHost, at: int) -> None:
    """LPTIM1's inputs may have changed at cycle ``at`` (a pin's level or function, a
    comparator's output or its connection): the part's LPTIM1, if the run maps it, takes a look
    at IN1 and at the external trigger."""
    lptim = host.device(Stm32l0Lptim1.name)
    if isinstance(lptim, Stm32l0Lptim1):
        lptim.in1_changed(at)
        lptim.trigger_changed(at)


def takes_comparator(host: DeviceHost, n: int, acting: bool = False) -> bool:
    """Whether the part's LPTIM1's trigger is comparator ``n``'s output (``acting``: and an
    edge of it would start or restart the counter now, so that it may wake the core)."""
    lptim = host.device(Stm32l0Lptim1.name)
    return isinstance(lptim, Stm32l0Lptim1) and lptim.trigger_from(n) and (
        not acting or lptim.takes_trigger())

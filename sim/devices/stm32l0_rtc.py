"""The STM32L0x1's real-time clock, RTC (RM0377): what STM32CubeL0's HAL_RTC_Init, the calendar
functions, the wake-up timer and the alarms need, so that a low-power application that sleeps
between RTC wake-ups runs, and its calendar reads the device time that passed.

Clock: RTCCLK is the LSE (32,768 Hz) or the LSI (37,000 Hz), as RCC_CSR.RTCSEL selects, while
that oscillator is on and CSR.RTCEN is set; CSR.RTCRST (a backup-domain reset) returns the RTC
to its reset state. RTCSEL's HSE (its frequency is the board's) is not modelled. Without RTCCLK
nothing counts and INITF, RSF, the wake-up timer and the alarms never come: the registers still
read and write (the APB side is clocked), each access listed as unmodelled with why, as
firmware so set up waits for ever on the chip.

Write protection: after reset the protected registers (TR, DR, CR, ISR's INIT and RSF, PRER,
WUTR, the alarms, SHIFTR, CALR) ignore writes until WPR is given 0xCA then 0x53 (any other
value locks them again); a write the chip would ignore (locked, or PWR_CR.DBP clear: the backup
domain is write-protected, sim/devices/stm32l0_pwr.py; TR, DR or PRER outside initialisation
mode; WUTR or an alarm while it is enabled) is ignored and listed with why.

Calendar: ISR.INIT stops it (INITF at once, with RTCCLK); TR, DR and PRER are written then (TR
and DR taken whole when INIT clears: a date set a field at a time is not corrected on the way);
clearing INIT starts the calendar from what was written, the prescalers from 0. It counts with
the prescalers PREDIV_A and PREDIV_S (ck_apre = RTCCLK / (PREDIV_A + 1), one second every
PREDIV_S + 1 of those), in 24-hour or (CR.FMT) 12-hour format, the years 2000-2099, the weekday
on its own (as the chip does: it steps with the date, whatever date was written). SSR is the
sub-second down-counter. Reading SSR freezes TR and DR, reading TR freezes DR, until DR is
read, as the shadow registers do with CR.BYPSHAD clear. RSF: clear after reset, cleared by
software or by INIT, set two RTCCLK periods later. INITS says the year is not 0. ISR's ALRAWF,
ALRBWF and WUTWF follow ALRAE, ALRBE and WUTE (set while off: the register may be written).

Wake-up timer (CR.WUTE): WUTR + 1 periods of RTCCLK / 16, / 8, / 4, / 2 or of ck_spre
(CR.WUCKSEL; WUCKSEL 11x adds 2^16), then WUTF and again: RTCCLK's periods counted from the
enable, ck_spre's as the calendar's seconds step (none in INIT mode); WUCKSEL is not changed
while WUTE is set. Alarms A and B (ALRAE, ALRBE): ALRMxR's date or weekday, hours, minutes and
seconds, each compared unless its MSKx bit is set (a PM hour in 24-hour format, or a field out
of range, never matches), at each second's increment (ALRMxSSR's MASKSS must be 0: a sub-second
alarm is not modelled). WUTF, ALRAF and ALRBF are rc_w0; with WUTIE, ALRAIE or ALRBIE the
rising flag is an edge on the EXTI line 20 or 17 (sim/devices/stm32l0_exti.py, whose IMR and
RTSR the firmware sets: the NVIC's IRQ 2). The backup registers BKP0R-BKP4R read back.

Time stamp (CR.TSE; STM32CubeL0's RTC_TimeStamp) and tampers (TAMPCR's TAMPnE, edge mode;
RTC_Tamper): an edge of RTC_TS (PA2; CR.TSEDGE: falling) or of RTC_TAMPn (TAMP3 on PA2, TAMP2
on PA0, TAMP1 on PC13; TAMPnTRG: falling) as --pin drives it (the RTC takes the pin over: the
GPIO's mode does not matter; undriven: low), each at its own cycle (drive_changed): a time
stamp copies the calendar then into TSTR, TSDR (no year) and TSSSR, TSF two ck_apre periods
later (the second ck_apre edge after it; one while TSF is set or coming: TSOVF, the registers
kept; they read 0 once TSF is cleared); a tamper sets TAMPnF (none while it is up), erases the
backup registers (not with TAMPnNOERASE) and with TAMPTS stamps the time too, its TAMPnF then
set with TSF three ck_apre periods later (RM0367, the L0x3's manual for the same RTC). TSF with
TSIE, TAMPnF with TAMPIE or TAMPnIE: EXTI line 19. The edge detectors start from the pins'
levels when TSE or TAMPnE is set. Level detection (TAMPFLT not 0): the pin sampled every
RTCCLK / 32768 ... / 256 periods of the RTC's count (TAMPFREQ), a tamper at the 2nd, 4th or
8th consecutive sample at its active level (TAMPnTRG: high), an undriven pin precharged high
by its pull-up (TAMPPUDIS clear; TAMPPRCH's duration does not matter here); a level still
there when TAMPnF is cleared counts again from the clear, a change of the level settings
counts afresh (assumptions). ALRAF, ALRBF and TAMP1F-TAMP3F are LPTIM1's triggers
(TRIGSEL 1-5: trigger_level; each change tells it), and the alarms are planned while LPTIM1
takes one (lptim_changed). Not modelled: TAMPnMF (listed: no event), RTC_TS on PC13, the
calibration (CALR reads back),
SHIFTR (a shift is listed; 0 asks for none), ADD1H and SUB1H (listed, read 0), the outputs (OR
reads back).
"""

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta

from sim.devices import lane
from sim.devices.stm32l0 import CSR, Clocked, merge
from sim.devices.stm32l0_exti import RTC_ALARM, RTC_TAMPER, RTC_WAKEUP, Stm32l0Exti
from sim.devices.stm32l0_pwr import Stm32l0Pwr
from sim.devices.timeline import Timeline

TR, DR, CR, ISR, PRER, WUTR, ALRMAR, ALRMBR, WPR, SSR, SHIFTR = (
    0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x1C, 0x20, 0x24, 0x28, 0x2C)
TSTR, TSDR, TSSSR, CALR, TAMPCR, ALRMASSR, ALRMBSSR, OR = (
    0x30, 0x34, 0x38, 0x3C, 0x40, 0x44, 0x48, 0x4C)
BKP = tuple(range(0x50, 0x64, 4))  # BKP0R-BKP4R
LSE_HZ, LSI_HZ = 32_768, 37_000
RTCSEL_LSE, RTCSEL_LSI, RTCEN, RTCRST = 1, 2, 1 << 18, 1 << 19
LSION, LSEON = 1 << 0, 1 << 8
# CR
WUCKSEL, FMT, ALRAE, ALRBE, WUTE = 0x7, 1 << 6, 1 << 8, 1 << 9, 1 << 10
ALRAIE, ALRBIE, WUTIE, BYPSHAD = 1 << 12, 1 << 13, 1 << 14, 1 << 5
_CR_MODELLED = 0x00FF_FF7F  # every CR bit is kept; the unmodelled ones listed (_CR_LISTED)
# REFCKON, ADD1H, SUB1H, OSEL, COE: what they turn on is not modelled
_CR_LISTED = (1 << 4) | (3 << 16) | (3 << 21) | (1 << 23)
TSEDGE, TSE, TSIE = 1 << 3, 1 << 11, 1 << 15  # CR: the time stamp (TSEDGE 1: falling edges)
# ISR
ALRAWF, ALRBWF, WUTWF, SHPF, INITS, RSF, INITF, INIT = (1 << b for b in range(8))
ALRAF, ALRBF, WUTF, TSF, TSOVF = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
TAMPF = {1: 1 << 13, 2: 1 << 14, 3: 1 << 15}  # TAMP1F ... TAMP3F
_ISR_FLAGS = 0xFF00  # ALRAF ... TAMP3F (ISR[15:8]): rc_w0, not write-protected
# TAMPCR: tamper n's enable (TAMPnE; TAMPnTRG the next bit: falling edges), the interrupt
# enables (TAMPIE for all, TAMPnIE), TAMPnNOERASE, TAMPnMF, the time stamp on a tamper event
TAMPE = {1: 1 << 0, 2: 1 << 3, 3: 1 << 5}
TAMPIE, TAMPTS, TAMPFLT = 1 << 2, 1 << 7, 3 << 11
TAMPFREQ, TAMPPUDIS = 7 << 8, 1 << 15  # level detection's sampling rate; the pull-up off
_TAMP_TRG = {n: enable << 1 for n, enable in TAMPE.items()}  # TAMPnTRG
# what level detection is counted from: a change restarts its filters
_LEVEL_SETTINGS = sum(TAMPE.values()) | sum(_TAMP_TRG.values()) | TAMPFLT | TAMPFREQ | TAMPPUDIS


def _tamp_bit(n: int, k: int) -> int:
    """TAMPCR's per-tamper bits from 16 on: k 0 TAMPnIE, 1 TAMPnNOERASE, 2 TAMPnMF."""
    return 1 << (16 + 3 * (n - 1) + k)


# the pins (port, number): RTC_TS and RTC_TAMP3 on PA2 (STM32CubeL0's RTC_TimeStamp and
# RTC_Tamper on the NUCLEO-L031K6), RTC_TAMP2 on PA0 and RTC_TAMP1 on PC13 (the family's
# datasheets' pattern, not verified here)
TS_PIN = ("A", 2)
TAMP_PINS = {1: ("C", 13), 2: ("A", 0), 3: ("A", 2)}
# LPTIM1's triggers from the RTC (its CFGR.TRIGSEL 1-5): these flags' levels
LPTIM_FLAGS = {1: ALRAF, 2: ALRBF, 3: TAMPF[1], 4: TAMPF[2], 5: TAMPF[3]}
_LPTIM_MASK = sum(LPTIM_FLAGS.values())
WPR_KEYS = (0xCA, 0x53)
PROTECTED = (TR, DR, CR, PRER, WUTR, ALRMAR, ALRMBR, SHIFTR, CALR, ALRMASSR, ALRMBSSR)
MSK1, MSK2, MSK3, MSK4, WDSEL, PM = 1 << 7, 1 << 15, 1 << 23, 1 << 31, 1 << 30, 1 << 22
_CENTURY_END = datetime(2100, 1, 1)  # the calendar's years are 2000-2099
NEVER = 1 << 64


_EVENTS = {WUTF: "the RTC's wake-up timer (WUTF)", ALRAF: "the RTC's alarm A (ALRAF)",
           ALRBF: "the RTC's alarm B (ALRBF)", TSF: "the RTC's time stamp (TSF)",
           **{flag: f"the RTC's tamper {n} (TAMP{n}F)" for n, flag in TAMPF.items()}}


def _bcd(value: int, shift: int, bits: int) -> int:
    """The BCD field of ``bits`` bits (tens and units) at ``shift``."""
    field = (value >> shift) & ((1 << bits) - 1)
    return (field >> 4) * 10 + (field & 0xF)


def _to_bcd(n: int) -> int:
    return (n // 10) << 4 | n % 10


class Stm32l0Rtc(Clocked):
    name, base, size = "stm32l0_rtc", 0x4000_2800, 0x400
    clock = (CSR, 18)  # RCC_CSR.RTCEN (RTCRST, bit 19, is its reset)

    def reset(self) -> None:
        before = getattr(self, "flags", 0)  # (a backup-domain reset clears LPTIM1's trigger)
        super().reset()
        self.wpr = 0  # keys given: 2 unlocked
        self.cr = 0
        self.init = False
        self.flags = 0  # ALRAF, ALRBF, WUTF (and the others, never set)
        self.prer = 0x007F_00FF
        self.wutr = 0xFFFF
        self.alarm = {ALRMAR: 0, ALRMBR: 0}
        self.alarm_ss = {ALRMASSR: 0, ALRMBSSR: 0}
        self._regs = {CALR: 0, TAMPCR: 0, OR: 0, **dict.fromkeys(BKP, 0)}
        # Time is counted in RTCCLK periods ("ticks") on a timeline that stands still while
        # RTCCLK is off: _tick(). The calendar reads self.time at tick _t0, the prescalers at
        # 0 there (while INIT is set: frozen, at no tick).
        self.time = datetime(2000, 1, 1)
        self.weekday = 1  # 1 Monday ... 7 Sunday; counted on its own
        self._t0 = 0
        # RTCCLK periods against the core's cycles (either clock may change); hz 0: stopped
        self._line = Timeline(self.host.clock_hz, self.host.exceptions.now)
        self._wut_start = 0  # the tick the current wake-up period began
        self._rsf_due: int | None = 2  # the tick RSF sets (again); None: set. Reset: clear
        self._raw: tuple[int, int] | None = None  # TR and DR as written in INIT mode
        # the shadow TR and DR as an SSR read (TR, DR) or a TR read (DR) froze them, until DR
        # is read
        self._tr_held: int | None = None
        self._dr_held: int | None = None
        self._next = NEVER
        self._at = 0  # the tick the calendar was last brought to (_advance)
        self._stamp = (0, 0, 0)  # TSTR, TSDR, TSSSR: the calendar at the last time stamp
        self._ts_due: int | None = None  # the tick TSF sets (2 or 3 ck_apre after the event)
        self._ts_tampers = 0  # the TAMPnF to set with it (TAMPTS)
        self._pins: dict[tuple[str, int], int] | None = None  # TS's and the tampers' levels
        # level detection (TAMPFLT not 0): the tampers whose pin is at its active level, each
        # with the tick from which its samples count
        self._active_since: dict[int, int] = {}
        self._retime()  # the RCC, reset before it, has RTCEN clear: not yet (no RCC: the LSE)
        self._lptim_edge(before)

    # --- the clock ----------------------------------------------------------------------------
    def runs_in_stop(self) -> bool:
        return True  # on the LSE or the LSI, in the backup domain

    def runs_in_standby(self) -> bool:
        return True

    keeps_events = True  # in the backup domain: a reset of the part leaves it counting

    def system_reset(self, cause: str) -> None:
        """The calendar, the alarms, the wake-up timer, the backup registers and the write
        protection live through a reset of the part (the backup domain); the APB side does
        not: RSF is cleared (set again two RTCCLK periods later) and TR and DR are no longer
        frozen by a read."""
        self._rsf_due = self._tick() + 2
        self._tr_held = self._dr_held = None

    def _bits(self) -> tuple[bool, bool]:
        """(RTCCLK on, held in reset) from the RCC's CSR."""
        if self._rcc is None:
            return True, False
        csr = self._rcc.read(CSR, 4)
        return self._source_hz(csr) > 0, bool(csr & RTCRST)

    @staticmethod
    def _source_hz(csr: int) -> int:
        sel = csr >> 16 & 3
        if not csr & RTCEN:
            return 0
        if sel == RTCSEL_LSE:
            return LSE_HZ if csr & LSEON else 0
        if sel == RTCSEL_LSI:
            return LSI_HZ if csr & LSION else 0
        return 0  # none selected, or the HSE (not modelled)

    def _rtcclk(self) -> int:
        if self._rcc is None:
            return LSE_HZ
        return self._source_hz(self._rcc.read(CSR, 4))

    def _clock_off(self) -> str:
        if self._bits()[1]:
            return "it is held in reset (RCC CSR RTCRST, bit 19)"
        csr = self._rcc.read(CSR, 4) if self._rcc is not None else 0
        if not csr & RTCEN:
            return "its clock is off (RCC CSR RTCEN, bit 18)"
        if csr >> 16 & 3 == 3:
            return "its clock, the HSE (RCC CSR RTCSEL), is not modelled"
        if not csr >> 16 & 3:
            return "no clock is selected for it (RCC CSR RTCSEL)"
        return "its clock's oscillator is off (RCC CSR LSEON or LSION)"

    def _tick(self) -> int:
        """The timeline now: RTCCLK periods counted so far."""
        return self._line.at(self.host.exceptions.now)

    @property
    def _second(self) -> int:
        """RTCCLK periods in a calendar second: (PREDIV_A + 1) (PREDIV_S + 1)."""
        return ((self.prer >> 16 & 0x7F) + 1) * ((self.prer & 0x7FFF) + 1)

    def _wut_period(self) -> int:
        """Periods between wake-ups: of RTCCLK (WUCKSEL 0xx, RTCCLK / 16 ... / 2), or seconds
        of the calendar (1xx, ck_spre)."""
        sel = self.cr & WUCKSEL
        if sel < 4:
            return (self.wutr + 1) * (16 >> sel)
        return self.wutr + 1 + (0x10000 if sel >= 6 else 0)

    def _on_seconds(self) -> bool:
        """The wake-up timer counts the calendar's seconds (ck_spre), which stop in INIT."""
        return (self.cr & WUCKSEL) >= 4

    # --- counting -----------------------------------------------------------------------------
    def _retime(self) -> None:
        """Follow RTCCLK as the RCC gives it now: the timeline goes on at a new rate from now,
        stops without it, or starts; while the rate stays the same nothing changes (no part of
        a period is lost to an RCC write). A change of the core's clock keeps the timeline
        where it is, the part of a period included, counting cycles at the new rate."""
        hz = 0 if self._bits()[1] else self._rtcclk()
        self._line.retime(hz, self.host.clock_hz, self.host.exceptions.now)
        self._schedule()

    def _advance(self, until: int | None = None) -> None:
        """The seconds, wake-ups, alarms and level-detected tampers up to now (or tick
        ``until``), in time order."""
        if not self._line.hz:
            return
        tick = self._tick() if until is None else until  # (callers: not before self._at)
        while True:
            due = min(((d, n) for n in self._active_since
                       if (d := self._level_due(n)) is not None and d <= tick), default=None)
            if due is None:
                break
            self._count(due[0])
            self._tampered(due[0], self._line.cycle_of(due[0]), False, [due[1]])
        self._count(tick)

    def _count(self, tick: int) -> None:
        """The seconds, wake-ups, alarms and the time stamp's flag up to tick ``tick``."""
        tick = max(tick, self._at)
        self._at = tick
        if self._ts_due is not None and tick >= self._ts_due:
            self._ts_due = None
            self._raise(TSF)
            tampers, self._ts_tampers = self._ts_tampers, 0  # (TAMPTS: set with TSF)
            for flag in TAMPF.values():
                if tampers & flag:
                    self._raise(flag)
        seconds = 0
        if not self.init:
            seconds = (tick - self._t0) // self._second
            if seconds > 0:
                self._alarms_within(seconds)
                self._step(seconds)
                self._t0 += seconds * self._second
        if self.cr & WUTE:
            # _wut_start: the tick the period began (RTCCLK), or the seconds counted (ck_spre)
            done = (self._wut_start + seconds if self._on_seconds()
                    else tick - self._wut_start)
            n = done // self._wut_period()
            if self._on_seconds():
                self._wut_start = done - n * self._wut_period()
            else:
                self._wut_start += n * self._wut_period()
            if n > 0:
                self._raise(WUTF)

    def _step(self, seconds: int) -> None:
        """The calendar ``seconds`` on: year 99 is followed by 00 (a leap year on the chip, as
        2000 is), the weekday stepping at each midnight."""
        days = 0
        while seconds > 0:
            step = min(seconds, int((_CENTURY_END - self.time).total_seconds()))
            after = self.time + timedelta(seconds=step)  # at most 2100-01-01 00:00
            days += after.toordinal() - self.time.toordinal()
            self.time = after if after < _CENTURY_END else datetime(2000, 1, 1)
            seconds -= step
        self.weekday = (self.weekday - 1 + days) % 7 + 1

    def _enabled(self, flag: int) -> bool:
        """Whether the flag's interrupt is enabled (a tamper's: TAMPIE or its TAMPnIE)."""
        for n, tamp in TAMPF.items():
            if flag == tamp:
                return bool(self._regs[TAMPCR] & (TAMPIE | _tamp_bit(n, 0)))
        return bool(self.cr & {WUTF: WUTIE, ALRAF: ALRAIE, ALRBF: ALRBIE, TSF: TSIE}[flag])

    def _raise(self, flag: int, at: int | None = None) -> None:
        """Set an event flag (at cycle ``at``, default the store's or now); its rising edge,
        when its interrupt is enabled, goes to the EXTI (line 20 the wake-up timer, 17 the
        alarms, 19 the time stamp and the tampers), and to LPTIM1 as its trigger."""
        was = self.flags & flag
        self.flags |= flag
        if not was:
            self._lptim_edge(self.flags & ~flag, at)
        if not was and self._enabled(flag):
            exti = self.host.device(Stm32l0Exti.name)
            if isinstance(exti, Stm32l0Exti):
                exti.edge(RTC_WAKEUP if flag == WUTF else RTC_ALARM if flag in (ALRAF, ALRBF)
                          else RTC_TAMPER)
            pwr = self.host.device(Stm32l0Pwr.name)
            if isinstance(pwr, Stm32l0Pwr):  # (a wake-up event: wakes the part from Stand-by)
                pwr.wakeup_event(_EVENTS[flag])

    # --- alarms -------------------------------------------------------------------------------
    def _alarm_fields(self, reg: int) -> tuple[list[int], list[int], list[int], int | None, bool]:
        """Hours (24-hour), minutes, seconds that match (empty: none can), and the date (or
        weekday) or None."""
        value = self.alarm[reg]
        hours = list(range(24))
        if not value & MSK3:
            h = _bcd(value, 16, 6)
            if self.cr & FMT:  # 12-hour: 12 AM is 0, 12 PM is 12
                h = h % 12 + (12 if value & PM else 0) if 1 <= h <= 12 else 99
            elif value & PM:  # 24-hour time has no PM: never matches
                h = 99
            hours = [h] if h < 24 else []
        minutes = list(range(60)) if value & MSK2 else [
            m for m in [_bcd(value, 8, 7)] if m < 60]
        seconds = list(range(60)) if value & MSK1 else [
            s for s in [_bcd(value, 0, 7)] if s < 60]
        day = None if value & MSK4 else (value >> 24 & 0xF if value & WDSEL
                                          else _bcd(value, 24, 6))
        return hours, minutes, seconds, day, bool(value & WDSEL)

    def _next_alarm(self, reg: int) -> int | None:
        """Seconds from now to the alarm's next match (at most about 8 years ahead), or None."""
        hours, minutes, seconds, day, weekday = self._alarm_fields(reg)
        if not (hours and minutes and seconds) or (
                day is not None and not 1 <= day <= (7 if weekday else 31)):
            return None  # a field no calendar value matches
        now = self.time
        after: tuple[int, int, int] | None = (now.hour, now.minute, now.second)
        for d in range(0, 366 * 8 + 1):
            date = now + timedelta(days=d)
            wd = (self.weekday - 1 + d) % 7 + 1
            if day is not None and (wd if weekday else date.day) != day:
                after = None
                continue
            hms = _next_hms(hours, minutes, seconds, after)
            if hms is not None:
                at = datetime(date.year, date.month, date.day, *hms)
                return int((at - now).total_seconds())
            after = None
        return None

    def _alarms_within(self, seconds: int) -> None:
        """The alarms matched within the next ``seconds`` seconds of the calendar."""
        for reg, enable, flag in ((ALRMAR, ALRAE, ALRAF), (ALRMBR, ALRBE, ALRBF)):
            if self.cr & enable:
                due = self._next_alarm(reg)
                if due is not None and due <= seconds:
                    self._raise(flag)

    def _schedule(self) -> None:
        """Plan the next event that could raise an interrupt: a wake-up, an alarm or a
        level-detected tamper with its interrupt enabled (or LPTIM1 taking it as its trigger)
        and its flag clear, a time stamp's TSF (nothing else needs the core's attention; a
        read finds the rest)."""
        due = NEVER
        if self._line.hz:
            if self._ts_due is not None:
                due = self._ts_due
            if self.cr & WUTE and self.cr & WUTIE and not self.flags & WUTF:
                if not self._on_seconds():
                    due = min(due, self._wut_start + self._wut_period())
                elif not self.init:  # the seconds left, at the calendar's second steps
                    due = min(due, self._t0 + (self._wut_period() - self._wut_start)
                              * self._second)
            if not self.init:  # _advance left the calendar less than a second before now
                for reg, enable, ie, flag in ((ALRMAR, ALRAE, ALRAIE, ALRAF),
                                              (ALRMBR, ALRBE, ALRBIE, ALRBF)):
                    if (self.cr & enable and (self.cr & ie or self._lptim_takes(flag))
                            and not self.flags & flag):
                        seconds = self._next_alarm(reg)
                        if seconds is not None:
                            due = min(due, self._t0 + seconds * self._second)
            for n in self._active_since:  # a level-detected tamper that would be seen
                flag = TAMPF[n]
                if self._enabled(flag) or self._lptim_takes(flag):
                    level_due = self._level_due(n)
                    if level_due is not None:
                        due = min(due, level_due)
        self._next = NEVER if due == NEVER else self._line.cycle_of(due)
        self.host.exceptions.set_timer(self, None if due == NEVER else self._next,
                                       self._catch_up)

    def _catch_up(self) -> None:
        if self._next > self.host.exceptions.now:
            return
        self._advance()
        self._schedule()

    def settle(self) -> None:
        self._advance()

    def restart(self) -> None:
        self._retime()

    # --- registers ----------------------------------------------------------------------------
    def _tr(self) -> int:
        t = self.time
        hour, pm = t.hour, 0
        if self.cr & FMT:
            pm = PM if hour >= 12 else 0
            hour = hour % 12 or 12
        return pm | _to_bcd(hour) << 16 | _to_bcd(t.minute) << 8 | _to_bcd(t.second)

    def _dr(self) -> int:
        t = self.time
        return (_to_bcd(t.year - 2000) << 16 | self.weekday << 13 | _to_bcd(t.month) << 8
                | _to_bcd(t.day))

    def _ssr(self, tick: int | None = None) -> int:
        """The sub-second down-counter (now, or at tick ``tick``): PREDIV_S at the second's
        start (and in INIT mode, the prescalers held at 0)."""
        s = self.prer & 0x7FFF
        if self.init:
            return s
        apre = ((self._tick() if tick is None else tick) - self._t0) // (
            (self.prer >> 16 & 0x7F) + 1)
        return s - apre % (s + 1)

    # --- LPTIM1's triggers --------------------------------------------------------------------
    def trigger_level(self, sel: int) -> int:
        """LPTIM1's trigger from the RTC, CFGR.TRIGSEL ``sel`` 1-5: ALRAF, ALRBF, TAMP1F ...
        TAMP3F (RM0377's RTC_ALARMA ... RTC_TAMP3: taken as the flag's level)."""
        return int(bool(self.flags & LPTIM_FLAGS[sel]))

    def _lptim_edge(self, before: int, at: int | None = None) -> None:
        """The flags changed from ``before``: LPTIM1 looks at its trigger (at cycle ``at``)."""
        if not (before ^ self.flags) & _LPTIM_MASK:
            return
        lptim = self.host.device("stm32l0_lptim1")
        if lptim is not None:
            lptim.trigger_changed(  # type: ignore[attr-defined]
                self.host.store_cycle() if at is None else at)

    def lptim_changed(self) -> None:
        """LPTIM1 started or stopped taking an RTC trigger: the alarms planned again."""
        self._schedule()

    def _lptim_takes(self, flag: int) -> bool:
        lptim = self.host.device("stm32l0_lptim1")
        sel = 0 if lptim is None else lptim.rtc_trigger()  # type: ignore[attr-defined]
        return bool(sel) and LPTIM_FLAGS[sel] == flag

    # --- the time stamp and the tampers ---------------------------------------------------------
    def drive_changed(self, port: str, at: int) -> None:
        """--pin changed port ``port``'s pins at cycle ``at``: an edge of RTC_TS or of an
        RTC_TAMPn pin (the level driven from outside, whatever the GPIO's mode: the RTC takes
        the pin over; undriven: low) is a time stamp or a tamper event, as CR and TAMPCR
        select; a level-detected tamper's pin starts or stops its count. They need RTCCLK
        (without it nothing is taken)."""
        if not (self.cr & TSE or self._regs[TAMPCR] & sum(TAMPE.values())):
            return  # (nothing takes them: their levels are taken when TSE or a TAMPnE is set)
        levels = self._pin_levels()
        old, self._pins = self._pins, levels
        if not self._line.hz:
            return
        if self._regs[TAMPCR] & TAMPFLT:  # the samples before the change saw the old level
            self._advance(max(self._line.at(at), self._at))
            self._track_levels(self._line.at(at))
        if old is None:
            self._schedule()
            return
        for pin, level in levels.items():
            if pin[0] != port or level == old.get(pin, level):
                continue
            falling = not level
            stamp = pin == TS_PIN and bool(self.cr & TSE) and falling == bool(self.cr & TSEDGE)
            tampcr = self._regs[TAMPCR]
            tampers = [n for n, tamper in TAMP_PINS.items()  # (none while its flag is up)
                       if tamper == pin and tampcr & TAMPE[n] and not tampcr & TAMPFLT
                       and falling == bool(tampcr & TAMPE[n] << 1)
                       and not (self.flags | self._ts_tampers) & TAMPF[n]]
            if stamp or tampers:
                self._edge(at, stamp, tampers)
        self._schedule()

    def _level_active(self, n: int) -> bool:
        """Level detection: tamper ``n``'s pin at its active level (TAMPnTRG: high, else low)
        as sampled: driven from outside, that level; undriven, high while the pull-up
        precharges it (TAMPPUDIS clear), else low."""
        tampcr = self._regs[TAMPCR]
        port, number = TAMP_PINS[n]
        pin_drive = getattr(self.host, "pin_drive", None)
        driven, high = pin_drive(port) if pin_drive is not None else (0, 0)
        level = (bool(high >> number & 1) if driven >> number & 1
                 else not tampcr & TAMPPUDIS)
        return level == bool(tampcr & _TAMP_TRG[n])

    def _track_levels(self, tick: int) -> None:
        """The level-detected tampers' counts at ``tick``: one whose pin reached its active
        level counts from there, one whose pin left it stops."""
        tampcr = self._regs[TAMPCR]
        for n, enable in TAMPE.items():
            if tampcr & TAMPFLT and tampcr & enable and self._level_active(n):
                self._active_since.setdefault(n, tick)
            else:
                self._active_since.pop(n, None)

    def _level_due(self, n: int) -> int | None:
        """The tick at which level-detected tamper ``n`` is detected: the 2nd, 4th or 8th
        (TAMPFLT) consecutive sample at its active level, the samples every RTCCLK / 32768
        ... / 256 periods (TAMPFREQ) of the RTC's count, the first after the count began;
        None while its flag is up (or on its way with TAMPTS)."""
        since = self._active_since.get(n)
        if since is None or (self.flags | self._ts_tampers) & TAMPF[n]:
            return None
        tampcr = self._regs[TAMPCR]
        period = 32768 >> (tampcr >> 8 & 7)
        samples = 1 << (tampcr >> 11 & 3)
        return (since // period + samples) * period

    def _pin_levels(self) -> dict[tuple[str, int], int]:
        """The RTC's pins' levels as the outside drives them (undriven: low)."""
        pin_drive = getattr(self.host, "pin_drive", None)
        levels = {}
        for port, number in {TS_PIN, *TAMP_PINS.values()}:
            driven, high = pin_drive(port) if pin_drive is not None else (0, 0)
            levels[(port, number)] = (driven & high) >> number & 1
        return levels

    def _edge(self, at: int, stamp: bool, tampers: list[int]) -> None:
        """One pin edge's events at cycle ``at`` (the RTC brought there first)."""
        tick = max(self._line.at(at), self._at)
        self._advance(tick)
        self._tampered(tick, at, stamp, tampers)

    def _tampered(self, tick: int, at: int, stamp: bool, tampers: list[int]) -> None:
        """Events at ``tick`` (cycle ``at``): a time stamp (``stamp``: RTC_TS's), tamper
        events (``tampers``: each TAMPnF, the backup registers erased unless TAMPnNOERASE). With
        TAMPTS a tamper event stamps the time too, its TAMPnF set with TSF (RM0367, the L0x3's
        manual, same RTC: "at the same time"); one edge is one time stamp, however many of
        them see it."""
        tampcr = self._regs[TAMPCR]
        flags = sum(TAMPF[n] for n in tampers)
        for n in tampers:
            if not tampcr & _tamp_bit(n, 1):
                for reg in BKP:
                    self._regs[reg] = 0
        if tampers and tampcr & TAMPTS:
            self._timestamp(tick, flags, at)
            return
        for flag in TAMPF.values():
            if flags & flag:
                self._raise(flag, at)
        if stamp:
            self._timestamp(tick, 0, at)

    def _timestamp(self, tick: int, tampers: int, at: int) -> None:
        """A time stamp event at ``tick`` (cycle ``at``): TSTR, TSDR (the date without the
        year) and TSSSR take the calendar then (in initialisation mode: TR and DR as written),
        TSF sets two ck_apre periods later, three for a tamper's (TAMPTS; RM0367's
        synchronisation), with the ``tampers`` flags; one while TSF is set (or on its way)
        sets TSOVF, the tampers' flags at once, and keeps the registers."""
        if self.flags & TSF or self._ts_due is not None:
            self.flags |= TSOVF
            for flag in TAMPF.values():
                if tampers & flag:
                    self._raise(flag, at)
            return
        tr, dr = self._raw or (self._tr(), self._dr())
        self._stamp = (tr, dr & 0xFF3F, self._ssr(tick))
        self._ts_tampers = tampers
        apre = (self.prer >> 16 & 0x7F) + 1
        edge = tick if self.init else self._t0 + ((tick - self._t0) // apre) * apre
        self._ts_due = edge + (3 if tampers else 2) * apre

    def _isr(self) -> int:
        value = self.flags
        value |= 0 if self.cr & ALRAE else ALRAWF
        value |= 0 if self.cr & ALRBE else ALRBWF
        value |= 0 if self.cr & WUTE else WUTWF
        if self.time.year != 2000:
            value |= INITS
        if self.init:
            value |= INIT | (INITF if self._line.hz else 0)
        elif self._rsf_set():
            value |= RSF
        return value

    def _rsf_set(self) -> bool:
        """RSF: the shadow registers copied since it was cleared (every two RTCCLK periods,
        not in INIT mode nor with BYPSHAD)."""
        if self.cr & BYPSHAD or self.init:
            return False
        if self._rsf_due is not None and self._tick() >= self._rsf_due:
            self._rsf_due = None
        return self._rsf_due is None

    def read(self, offset: int, size: int) -> int:
        if not self.clocked():
            self.host.unmodelled(self, offset, size, None, self._clock_off())
        self._advance()
        word = offset & ~3
        shadow = not self.cr & BYPSHAD
        if word in (TR, DR) and self._raw is not None:  # INIT mode: as written
            value = self._raw[0 if word == TR else 1]
        elif word == TR:
            value = self._tr() if self._tr_held is None else self._tr_held
            if shadow and self._dr_held is None:
                self._dr_held = self._dr()
        elif word == DR:
            value = self._dr() if self._dr_held is None else self._dr_held
            self._tr_held = self._dr_held = None
        elif word == SSR:
            value = self._ssr()
            if shadow and self._dr_held is None:
                self._tr_held, self._dr_held = self._tr(), self._dr()
        else:  # WPR, SHIFTR (write-only) read 0
            if word not in (ISR, CR, PRER, WUTR, TSTR, TSDR, TSSSR, WPR, SHIFTR, *self.alarm,
                            *self.alarm_ss, *self._regs):
                self.host.unmodelled(self, offset, size, None)
            value = self.read_word(word)
        return lane(value, offset, size)

    def _refuse(self, offset: int, size: int, value: int, why: str) -> None:
        self.host.unmodelled(self, offset, size, value, f"ignored: {why}")

    def _backup_locked(self) -> bool:
        """PWR_CR.DBP clear: the backup domain, the RTC's registers, ignore writes (without a
        PWR model, never)."""
        pwr = self.host.device(Stm32l0Pwr.name)
        return isinstance(pwr, Stm32l0Pwr) and not pwr.backup_writable()

    def write(self, offset: int, size: int, value: int) -> None:
        if not self.clocked():
            self.host.unmodelled(self, offset, size, value, self._clock_off())
        word = offset & ~3
        if self._backup_locked():
            self._refuse(offset, size, value,
                         "the backup domain is write-protected (PWR_CR.DBP clear)")
            return
        if word == WPR:
            key = value & 0xFF
            self.wpr = (1 if key == WPR_KEYS[0] else
                        2 if key == WPR_KEYS[1] and self.wpr == 1 else 0)
            return
        self._advance()
        self._write(word, offset, size, value, self.wpr != 2)
        self._schedule()

    def _write(self, word: int, offset: int, size: int, value: int, locked: bool) -> None:
        old = self.read_word(word)
        new = merge(old, offset, size, value)
        if word == ISR:
            before = self.flags
            self.flags &= new | ~_ISR_FLAGS  # rc_w0, open to every write
            self._lptim_edge(before)
            for n, flag in TAMPF.items():  # (a level still active counts again from here)
                if before & flag & ~self.flags and n in self._active_since:
                    self._active_since[n] = self._tick()
            if locked:
                if (new ^ old) & INIT or (old & RSF and not new & RSF):
                    self._refuse(offset, size, value, "write-protected (RTC_WPR)")
                return
            if not new & RSF:
                self._rsf_due = self._tick() + 2
            if new & INIT and not self.init:
                self.init = True  # the calendar stops, the prescalers are held at 0
                self._tr_held = self._dr_held = None
                self._raw = (self._tr(), self._dr())
            elif not new & INIT and self.init:
                self.init = False  # the calendar starts from what was written
                if self._raw is not None:
                    self._set_time(*self._raw)
                    self._raw = None
                self._t0 = self._tick()
                self._rsf_due = self._t0 + 2
            return
        if word in PROTECTED and locked:
            self._refuse(offset, size, value, "write-protected (RTC_WPR)")
            return
        if word in (TR, DR, PRER) and not self.init:
            self._refuse(offset, size, value, "outside initialisation mode (RTC_ISR.INIT)")
            return
        if word in (TR, DR) and self._raw is not None:  # taken as a whole when INIT clears
            tr, dr = self._raw
            self._raw = (new & 0x007F_7F7F, dr) if word == TR else (tr, new & 0x00FF_FF3F)
        elif word == PRER:
            self.prer = new & 0x007F_7FFF
        elif word == CR:
            if (old ^ new) & WUCKSEL and old & WUTE:
                self._refuse(offset, size, value, "WUCKSEL while the wake-up timer is on "
                             "(RTC_CR.WUTE)")
                new = (new & ~WUCKSEL) | (old & WUCKSEL)
            if new & WUTE and not old & WUTE:  # counted from the enable
                self._wut_start = 0 if (new & WUCKSEL) >= 4 else self._tick()
            self.cr = new & _CR_MODELLED & ~(3 << 16)  # ADD1H, SUB1H: actions, read 0
            if new & _CR_LISTED:
                self.host.unmodelled(self, offset, size, value)
            if new & TSE and not old & TSE:  # the edge detector starts from the pin's level
                self._pins = self._pin_levels()
            for flag, enable in ((WUTF, WUTIE), (ALRAF, ALRAIE), (ALRBF, ALRBIE), (TSF, TSIE)):
                if self.flags & flag and self.cr & enable and not old & enable:
                    self.flags &= ~flag  # an edge of flag AND enable: raised again
                    self._raise(flag)
        elif word == WUTR:
            if self.cr & WUTE:
                self._refuse(offset, size, value, "the wake-up timer is on (RTC_CR.WUTE)")
            else:
                self.wutr = new & 0xFFFF
        elif word in self.alarm:
            enable = ALRAE if word == ALRMAR else ALRBE
            if self.cr & enable and not self.init:
                self._refuse(offset, size, value, "the alarm is on (RTC_CR.ALRxE)")
            else:
                self.alarm[word] = new
        elif word in self.alarm_ss:
            self.alarm_ss[word] = new & 0x0F00_7FFF
            if new >> 24 & 0xF:
                self.host.unmodelled(self, offset, size, value)  # a sub-second alarm
        elif word == TAMPCR:
            self._write_tampcr(offset, size, value, old, new)
        elif word in self._regs:
            self._regs[word] = new
        elif new or word != SHIFTR:  # a shift (SHIFTR 0 asks for none), the time stamps
            self.host.unmodelled(self, offset, size, value)

    def _write_tampcr(self, offset: int, size: int, value: int, old: int, new: int) -> None:
        """TAMPCR: the tampers' enables, edges or levels and interrupt enables, level
        detection's filter, sampling rate and pull-up, NOERASE, TAMPTS. A change of what level
        detection counts from restarts its counts. The mask flags are listed: no tamper event
        comes from them."""
        self._regs[TAMPCR] = new & 0x01FF_FFFF
        enabled = sum(TAMPE.values())
        if new & enabled & ~old:  # the edge detectors start from the pins' levels
            self._pins = self._pin_levels()
        if (old ^ new) & _LEVEL_SETTINGS:
            self._active_since.clear()
        self._track_levels(self._tick())
        masked = [n for n in TAMPE if new & _tamp_bit(n, 2)]
        if masked:
            self.host.unmodelled(self, offset, size, value,
                                 f"TAMP{masked[0]}MF, a masked tamper flag: not modelled")
        for n, flag in TAMPF.items():  # an edge of flag AND enable: raised again
            ie = TAMPIE | _tamp_bit(n, 0)
            if self.flags & flag and new & ie and not old & ie:
                self.flags &= ~flag
                self._raise(flag)

    def read_word(self, word: int) -> int:
        """A register's value as the firmware would read it, without a read's side effects."""
        if word == ISR:
            return self._isr()
        if word in (TR, DR):
            tr, dr = self._raw or (self._tr(), self._dr())
            return tr if word == TR else dr
        stamp = self._stamp if self.flags & TSF else (0, 0, 0)  # (cleared with TSF)
        values = {CR: self.cr, PRER: self.prer, TSTR: stamp[0], TSDR: stamp[1],
                  TSSSR: stamp[2], WUTR: self.wutr, **self.alarm, **self.alarm_ss,
                  **self._regs}
        return values.get(word, 0)

    def _set_time(self, tr: int | None = None, dr: int | None = None) -> None:
        """TR and DR as written in initialisation mode, taken when it ends (a field out of
        range is taken modulo, a day past the month's end as its last)."""
        t = self.time
        if tr is not None:
            hour = _bcd(tr, 16, 6)
            if self.cr & FMT:
                hour = hour % 12 + (12 if tr & PM else 0)
            t = t.replace(hour=hour % 24, minute=_bcd(tr, 8, 7) % 60,
                          second=_bcd(tr, 0, 7) % 60)
        if dr is not None:
            year, month, day = 2000 + _bcd(dr, 16, 8) % 100, _bcd(dr, 8, 5), _bcd(dr, 0, 6)
            month = min(max(month, 1), 12)
            last = (datetime(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
            t = t.replace(year=year, month=month, day=min(max(day, 1), last))
            self.weekday = (dr >> 13 & 7) or 1
        self.time = t

    # Clocked's read/write take its registers off while the clock is off; the RTC's APB side
    # keeps working (listed above), so these are not used
    def read_clocked(self, offset: int, size: int) -> int:
        return self.read(offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        self.write(offset, size, value)


def _next_hms(hours: list[int], minutes: list[int], seconds: list[int],
              after: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    """The first (hour, minute, second) of the lists strictly after ``after`` (None: the
    day's first), or None."""
    if after is None:
        return hours[0], minutes[0], seconds[0]
    ah, am, asec = after
    for h in hours[bisect_left(hours, ah):]:
        if h > ah:
            return h, minutes[0], seconds[0]
        for m in minutes[bisect_left(minutes, am):]:
            if m > am:
                return h, m, seconds[0]
            i = bisect_right(seconds, asec)
            if i < len(seconds):
                return h, m, seconds[i]
    return None


DEVICES = (Stm32l0Rtc,)

"""The STM32L0x1's own peripheral space (RM0377), so that a vendor's start-up code runs: its
reset and clock control (RCC) modelled far enough for a clock set-up to finish, the peripherals
it gates (:class:`Clocked`), and every other peripheral register on its buses reading back
what was written.

RCC (0x40021000) is the one vendor start-up code waits on: it switches an oscillator on and
spins until its ready flag is set, then selects the system clock and spins until the switch
status says so (STM32CubeL0's SystemClock_Config, through HAL_RCC_OscConfig and
HAL_RCC_ClockConfig). Here an oscillator is ready as soon as it is on: CR's HSI16RDYF,
HSI16DIVF, MSIRDY and HSERDY follow HSI16ON, HSI16DIVEN, MSION and HSEON, PLLRDY follows PLLON
while the PLL's input (CFGR.PLLSRC: HSI16 or HSE) is ready, and CSR's LSIRDY and LSERDY follow
LSION and LSEON. CFGR.SWS takes the source CFGR.SW selects as soon as that source is ready (at
the CFGR write, or at the CR write that makes it ready later), as RM0377 says. The enable of
the system clock's source, and of the PLL's input while the PLL is that source, cannot be
cleared. Read-only and reserved bits ignore writes. CSR's reset flags read a power-on reset
(PORRSTF, PINRSTF) until RMVF clears them. ICSCR (reset: MSI range 5; the calibration values
are the part's own, 0 here), CIER, the peripheral reset, clock-enable and sleep-mode enable
registers (RM0377's reset values) and CCIPR read back; CSR's backup-domain bits (the LSE, RTCSEL,
RTCEN, RTCRST) take writes only while PWR_CR.DBP is set (others are listed as ignored), and
RTCRST clears the others, as a backup-domain reset does; CIFR reads 0 (no clock interrupt is
raised), CICR is write-only, and the reserved offsets (CRRCR's, 0x08, on parts without HSI48,
which STM32CubeL0's SystemInit clears all the same) read 0.

The core's clock: until the firmware first writes CFGR or ICSCR (or FLASH_ACR,
sim/devices/stm32l0_flash.py), the core runs at the profile's clock with its flash wait states,
standing for a start-up's clock set-up that the image does not hold (the project's own firmware
never sets a clock up). From that write on it runs at HCLK as the registers give it, with
FLASH_ACR.LATENCY's wait states: SYSCLK from CFGR.SWS (MSI at 32,768 x 2^(ICSCR.MSIRANGE + 1)
Hz, HSI16 at 16 MHz or 4 MHz with CR.HSI16DIVEN, the HSE at 8 MHz (the board's crystal, which
the simulator cannot know: STM32CubeL0's default HSE_VALUE), the PLL at its input x PLLMUL /
PLLDIV, as SystemCoreClockUpdate computes them) divided by CFGR.HPRE. The peripherals follow:
PCLK1 and PCLK2 are HCLK divided by PPRE1 and PPRE2 (a timer counts at PCLK, or at twice it
when its bus is divided), the USARTs' kernel clocks and the ADC's follow RCC_CCIPR, CFGR and
ICSCR, and a change of any of them (each write to CR, ICSCR, CFGR or CCIPR) is taken by every
peripheral at once (at the device time a register access sees: its basic block's end; what a
frame, a conversion or a count has left goes on at the new rate). Device time, the report's
milliseconds and --run-for follow the clock from the store on (sim/clocks.py,
Simulator.set_clock). A clock beyond what the voltage range allows is a warning (check_limits).

Stop mode (deep_sleep: a sleep with SCR.SLEEPDEEP and PWR_CR.PDDS clear): the peripherals of the
core domain stop (Clocked.runs_in_stop: the RTC, LPTIM1 and a USART on the LSE or LSI go on),
the simulator freezes SysTick, and the core wakes on MSI (HSI16 with CFGR.STOPWUCK), the PLL and
HSE off.

USART2, LPUART1 (sim/devices/stm32l0_usart.py), TIM2, TIM21 and TIM22 (sim/devices/stm32l0_tim.py)
and LPTIM1 (sim/devices/stm32l0_lptim.py) are modelled, each a :class:`Clocked` peripheral that
works only while its RCC clock is on, and so are the RTC (sim/devices/stm32l0_rtc.py, clocked by
CSR's RTCEN and RTCSEL), the EXTI (sim/devices/stm32l0_exti.py), the ADC
(sim/devices/stm32l0_adc.py), the factory data in system memory (sim/devices/stm32l0_factory.py),
the flash interface (sim/devices/stm32l0_flash.py), PWR (sim/devices/stm32l0_pwr.py), the GPIO
ports with SYSCFG (sim/devices/stm32l0_gpio.py), I2C1 (sim/devices/stm32l0_i2c.py), SPI1
(sim/devices/stm32l0_spi.py), the independent watchdog (sim/devices/stm32l0_iwdg.py), the window
watchdog (sim/devices/stm32l0_wwdg.py), DMA1 (sim/devices/stm32l0_dma.py), the CRC unit
(sim/devices/stm32l0_crc.py), the data EEPROM (sim/devices/stm32l0_flash.py) and the debug
component's identity (sim/devices/stm32l0_dbgmcu.py). The buses (APB1, APB2, AHB, IOPORT) cover the
other peripherals: the comparators, the firewall... They are not
modelled: their registers read back what was written (0 after reset), so a register polled for a
flag the firmware did not write reads 0 for ever; every access to them is listed in the report's
unmodelled registers and with ``--strict-peripherals`` is a fault. The buses are background
devices: mapped only where no other device of the target is (the modelled peripherals, and the mps2
map's CMSDK TIMER1 at 0x40001000 and the first KiB of its UART at 0x40004000, stay), so an address
off the buses still faults, as a reserved one does on the chip.
"""

from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.clocks import format_hz
from sim.devices import DeepSleep, Device, lane

if TYPE_CHECKING:
    from sim.devices import DeviceHost

RCC_BASE = 0x4002_1000
CR, ICSCR, CFGR, CIER, CIFR, CICR, CSR = 0x00, 0x04, 0x0C, 0x10, 0x14, 0x18, 0x50
MASK32 = 0xFFFF_FFFF
# CR: HSI16ON, HSI16KERON, HSI16DIVEN, HSI16OUTEN, MSION, HSEON, HSEBYP, CSSHSEON, RTCPRE, PLLON
_CR_WRITABLE = 0x013D_012B
HSION, HSIDIVEN, MSION, HSEON, PLLON = 1 << 0, 1 << 3, 1 << 8, 1 << 16, 1 << 24
HSIRDY, HSIDIVF, MSIRDY, HSERDY, PLLRDY = 1 << 2, 1 << 4, 1 << 9, 1 << 17, 1 << 25
PLLSRC_HSE = 1 << 16  # CFGR
STOPWUCK = 1 << 15  # CFGR: the clock after Stop mode, HSI16 (MSI when clear)
_PLL_SETTINGS = 0x00FD_0000  # CFGR: PLLSRC, PLLMUL, PLLDIV
# CFGR: SW, HPRE, PPRE1, PPRE2, STOPWUCK, PLLSRC, PLLMUL, PLLDIV, MCOSEL, MCOPRE (SWS read-only)
_CFGR_WRITABLE = 0x7FFD_BFF3
# ICSCR: HSI16TRIM, MSIRANGE, MSITRIM (HSI16CAL and MSICAL read-only)
_ICSCR_WRITABLE = 0xFF00_FF00
# CSR: LSION, LSEON, LSEBYP, LSEDRV, CSSLSEON, RTCSEL, RTCEN, RTCRST
_CSR_WRITABLE = 0x000F_3D01
LSION, LSIRDY, LSEON, LSERDY = 1 << 0, 1 << 1, 1 << 8, 1 << 9
# CSR's backup-domain bits (LSEON, LSEBYP, LSEDRV, CSSLSEON, RTCSEL, RTCEN, RTCRST): written only
# while PWR_CR.DBP is set; RTCRST (bit 19) clears the others
_CSR_BACKUP = 0x000F_3D00
RTCRST = 1 << 19
RMVF = 1 << 23
PINRSTF, PORRSTF, SFTRSTF, IWDGRSTF, WWDGRSTF = 1 << 26, 1 << 27, 1 << 28, 1 << 29, 1 << 30
_POWER_ON = PORRSTF | PINRSTF
# a reset's flags in CSR, by cause (sim.resets.CAUSES): an internal reset drives the NRST pin
# low too (RM0377 7.1.2: PINRSTF with it); the wake-up from Stand-by sets none
# (the STM32F746's and STM32L552's RCC_CSR have them at the same bits: stm32_buses.py)
RESET_FLAGS = {"software": SFTRSTF | PINRSTF, "watchdog": IWDGRSTF | PINRSTF,
               "window_watchdog": WWDGRSTF | PINRSTF, "standby": 0}
# read back as written from their reset values: ICSCR (MSI range 5, HSI16TRIM 16), CIER, the
# resets (0x1C-0x28), clock enables (0x2C-0x38: MIFEN), sleep-mode enables (0x3C-0x48) and CCIPR
_STORED_RESET = {ICSCR: 5 << 13 | 16 << 8, CIER: 0, 0x1C: 0, 0x20: 0, 0x24: 0, 0x28: 0,
                 0x2C: 0, 0x30: 1 << 8, 0x34: 0, 0x38: 0, 0x3C: 0x8F, 0x40: 0x0111_1301,
                 0x44: 0x0040_5225, 0x48: 0xB8E6_4A11, 0x4C: 0}


# the clock tree (RM0377 section 7.2)
HSI16_HZ = 16_000_000
HSE_HZ = 8_000_000  # the board's crystal: STM32CubeL0's default HSE_VALUE
PLL_MUL = (3, 4, 6, 8, 12, 16, 24, 32, 48)  # CFGR.PLLMUL (codes past 8 are reserved)
AHB_DIV = (1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 8, 16, 64, 128, 256, 512)  # CFGR.HPRE
APB_DIV = (1, 1, 1, 1, 2, 4, 8, 16)  # CFGR.PPRE1, PPRE2
CCIPR = 0x4C
# the writes that may change a clock some peripheral or the core runs on
_CLOCK_WORDS = (CR, ICSCR, CFGR, CCIPR)
# RM0377's limits in each voltage range (PWR_CR.VOS 1, 2, 3): HCLK at most, HCLK at most with
# no flash wait state, the PLL's VCO (its input x PLLMUL) at most
_RANGES = {1: (32_000_000, 16_000_000, 96_000_000), 2: (16_000_000, 8_000_000, 48_000_000),
           3: (4_200_000, 4_200_000, 24_000_000)}


def merge(old: int, offset: int, size: int, value: int) -> int:
    """``old`` with the ``size`` bytes at ``offset & 3`` replaced by ``value`` (within the
    word)."""
    shift = 8 * (offset & 3)
    mask = (((1 << (8 * size)) - 1) << shift) & MASK32
    return (old & ~mask) | ((value << shift) & mask)


class Stm32l0Rcc(Device):
    name = "stm32l0_rcc"
    base = RCC_BASE
    size = 0x400

    def __init__(self, host: "DeviceHost") -> None:
        super().__init__(host)
        self.gated: dict[str, Clocked] = {}  # the peripherals its bits gate (Clocked.reset)

    def reset(self) -> None:
        self.cr = MSION  # the part starts on MSI
        self.cfgr = 0  # SW: MSI
        self.sws = 0  # the source the system clock is on: MSI
        self.csr = _POWER_ON
        self._regs = dict(_STORED_RESET)
        # the firmware sets the clock up itself (it wrote CFGR, ICSCR or FLASH_ACR): the core
        # runs at HCLK from then on; before, at the profile's clock (with --reset-clock, the
        # part's from the start)
        self.managed = bool(getattr(self.host, "at_reset_clock", False))
        self.stopped = False  # in Stop mode: the core domain's clocks are off
        self.standby = False  # in Stand-by mode (stopped too): only the backup domain runs
        self._woken = False  # the clock change under way is Stop mode's end

    def system_reset(self, cause: str) -> None:
        """The part's reset during a run: the reset state but for CSR's backup-domain bits (the
        LSE, the RTC's clock) and its reset flags, which only RMVF or a power-on clear, the
        reset's own added."""
        csr = self.csr & (_CSR_BACKUP | 0xFF00_0000)
        self.reset()
        self.csr = csr | RESET_FLAGS[cause]

    # --- the clock tree -----------------------------------------------------------------------
    def _hsi16(self) -> tuple[int, str]:
        return (HSI16_HZ // 4, "HSI16 / 4") if self.cr & HSIDIVEN else (HSI16_HZ, "HSI16")

    def hsi16_hz(self) -> int:
        """The HSI16 as SYSCLK, the PLL and the serial ports' kernel clocks take it: divided by
        4 with CR.HSI16DIVEN."""
        return self._hsi16()[0]

    def sysclk(self) -> tuple[int, str]:
        """SYSCLK in Hz and where it comes from (CFGR.SWS), as SystemCoreClockUpdate
        computes it."""
        if self.sws == 0:
            msi = self._regs[ICSCR] >> 13 & 7
            return 32_768 << (msi + 1), f"MSI range {msi}"
        if self.sws == 1:
            return self._hsi16()
        if self.sws == 2:
            return HSE_HZ, "HSE, 8 MHz assumed"
        mul = PLL_MUL[min(self.cfgr >> 18 & 15, len(PLL_MUL) - 1)]
        div = (self.cfgr >> 22 & 3) + 1
        hz, name = (HSE_HZ, "HSE") if self.cfgr & PLLSRC_HSE else self._hsi16()
        return hz * mul // div, f"PLL: {name} x {mul} / {div}"

    def ahb_divider(self) -> int:
        """SYSCLK cycles in an HCLK (core) cycle: CFGR.HPRE."""
        return AHB_DIV[self.cfgr >> 4 & 15]

    def apb_divider(self, bus: int) -> int:
        """Core (HCLK) cycles in a cycle of APB ``bus`` (1 or 2): CFGR.PPRE1, PPRE2."""
        return APB_DIV[self.cfgr >> (8 if bus == 1 else 11) & 7]

    def timer_divider(self, bus: int) -> int:
        """Core cycles in a cycle of the timers' clock on APB ``bus``: PCLK, or twice PCLK
        when the bus is divided."""
        div = self.apb_divider(bus)
        return 1 if div == 1 else div // 2

    def core_clock(self) -> tuple[int, str] | None:
        """HCLK in Hz and its source, once the firmware manages the clock; None before (the
        profile's clock)."""
        if not self.managed:
            return None
        hz, source = self.sysclk()
        div = self.ahb_divider()
        return hz // div, (source + (f", AHB / {div}" if div > 1 else "")
                           + (", woken from Stop mode" if self._woken else ""))

    def reset_clock(self) -> tuple[int, int, str]:
        """The part's clock at reset (--reset-clock): MSI range 5, no flash wait state."""
        msi = _STORED_RESET[ICSCR] >> 13 & 7
        return 32_768 << (msi + 1), 0, f"MSI range {msi}, the part's clock at reset"

    # --- Stop and Stand-by modes ------------------------------------------------------------
    def deep_sleep(self) -> DeepSleep | None:
        """WFI/WFE with SCR.SLEEPDEEP: Stop mode (PWR_CR.PDDS clear), entered now, with what
        its end does (the simulator calls it when the core wakes); not entered while an EXTI
        line is pending or an RTC event flag is set (RM0377: the entry is then ignored and the
        program goes on). With PDDS set, Stand-by mode (sim/devices/stm32l0_pwr.py)."""
        pwr = self.host.device("stm32l0_pwr")
        for dev in self.gated.values():  # their flags up to now
            dev.settle()
        enter_standby = getattr(pwr, "enter_standby", None)
        if int(getattr(pwr, "cr", 0)) & 2 and enter_standby is not None:  # PDDS
            self.stopped = self.standby = True
            for dev in self.gated.values():
                dev.restart()
                power_off = getattr(dev, "power_off", None)
                if power_off is not None:  # (the pins)
                    power_off()
            enter_standby()
            return DeepSleep(wake=lambda: None, standby=True)
        pending = []
        pr = int(getattr(self.host.device("stm32l0_exti"), "pr", 0))
        if pr:
            pending.append(f"EXTI_PR 0x{pr:08x}")
        flags = int(getattr(self.host.device("stm32l0_rtc"), "flags", 0))
        pending += [f"RTC_ISR.{name}" for bit, name in (
            (8, "ALRAF"), (9, "ALRBF"), (10, "WUTF"), (11, "TSF"), (12, "TSOVF"), (13, "TAMP1F"),
            (14, "TAMP2F"), (15, "TAMP3F")) if flags >> bit & 1]
        if pending:
            return DeepSleep(ignored=f"Stop mode not entered: {', '.join(pending)} set (RM0377: "
                             "the EXTI's pending bits and the RTC's event flags must be cleared "
                             "first, else the entry is ignored and the program goes on)")
        self.stopped = True  # (settled above)
        for dev in self.gated.values():
            dev.restart()
        return DeepSleep(wake=self._leave_stop)

    def _leave_stop(self) -> None:
        """RM0377: the core wakes on MSI (HSI16 with CFGR.STOPWUCK), the PLL and the HSE off
        (HSI16 too unless it is the clock now), whatever the clock was before; the core domain's
        peripherals go on from where they stopped."""
        def wake() -> None:
            hsi = bool(self.cfgr & STOPWUCK)
            self.cr = (self.cr & ~(PLLON | HSEON | (0 if hsi else HSION))) | (
                HSION if hsi else MSION)
            self.sws = 1 if hsi else 0
            self.cfgr = (self.cfgr & ~3) | self.sws
            self.stopped = False

        self._woken = True
        try:
            self.reclock(wake, manage=True)  # the part's own clock now, set up or not before
        finally:
            self._woken = False

    def reclock(self, change: Callable[[], None], manage: bool = False) -> None:
        """Make ``change`` (to registers a clock comes from) as the chip does, at this cycle:
        every peripheral brought up to now at the old clocks before it, and going on at the
        new ones after it, the core's clock following (``manage``: the firmware sets the
        clock up from now on)."""
        devices = list(self.gated.values())
        for dev in devices:
            dev.settle()
        change()
        self.managed = self.managed or manage
        clock = self.core_clock()
        if clock is not None:
            self.host.set_clock(clock[0], self._latency(), clock[1])
            self.check_limits()
        for dev in devices:
            dev.restart()

    def _latency(self) -> int:
        """FLASH_ACR.LATENCY (sim/devices/stm32l0_flash.py)."""
        return int(getattr(self.host.device("stm32l0_flash"), "latency", 0))

    def check_limits(self) -> None:
        """Warn (the report's ``warnings``) when the clock the firmware set up is beyond what
        RM0377 allows in the voltage range PWR_CR.VOS selects: HCLK too fast for the range, or
        for no flash wait state (the flash misreads on the chip), the PLL's VCO too fast, or
        PLLDIV's code 0, or MSIRANGE 111 (not allowed). STM32CubeL0's HAL_RCC_ClockConfig
        orders its writes so that none of these ever holds."""
        clock = self.core_clock()
        pwr = self.host.device("stm32l0_pwr")
        vos = int(getattr(pwr, "cr", 1 << 11)) >> 11 & 3
        if clock is None or vos not in _RANGES:
            return
        hz, fastest, zero_wait, vco_max = clock[0], *_RANGES[vos]
        where = f"in voltage range {vos} (PWR_CR.VOS)"
        if hz > fastest:
            self.host.warn(f"the core's clock, {format_hz(hz)}, is beyond the {format_hz(fastest)} "
                           f"RM0377 allows {where}")
        elif hz > zero_wait and not self._latency():
            self.host.warn(f"the core's clock, {format_hz(hz)}, needs a flash wait state "
                           f"{where} (RM0377: {format_hz(zero_wait)} at most without one; "
                           "FLASH_ACR.LATENCY is 0): the flash misreads on the chip")
        if self.sws == 0 and self._regs[ICSCR] >> 13 & 7 == 7:
            self.host.warn("the core runs on MSI with RCC_ICSCR.MSIRANGE 111, which RM0377 "
                           "does not allow")
        if self.cr & PLLON:
            source = HSE_HZ if self.cfgr & PLLSRC_HSE else self._hsi16()[0]
            vco = source * PLL_MUL[min(self.cfgr >> 18 & 15, len(PLL_MUL) - 1)]
            if vco > vco_max:
                self.host.warn(f"the PLL's VCO, {format_hz(vco)}, is beyond the "
                               f"{format_hz(vco_max)} RM0377 allows {where}")
            if not self.cfgr >> 22 & 3:
                self.host.warn("the PLL runs with RCC_CFGR.PLLDIV 00, which RM0377 does not "
                               "allow")

    # --- the clocks -------------------------------------------------------------------------
    def _pll_input(self) -> int:
        """The CR enable of the oscillator CFGR.PLLSRC feeds the PLL from."""
        return HSEON if self.cfgr & PLLSRC_HSE else HSION

    def _flags(self) -> int:
        """CR's ready flags, from the enables."""
        cr = self.cr
        return ((HSIRDY if cr & HSION else 0) | (HSIDIVF if cr & HSIDIVEN else 0)
                | (MSIRDY if cr & MSION else 0) | (HSERDY if cr & HSEON else 0)
                | (PLLRDY if cr & PLLON and cr & self._pll_input() else 0))

    def _sources_on(self, source: int) -> int:
        """The CR enables system clock ``source`` (SW's encoding) needs."""
        return (MSION, HSION, HSEON, PLLON | self._pll_input())[source]

    def _switch(self) -> None:
        """SWS takes SW's source once that source is ready (RM0377: a switch to a source not
        yet ready happens when it becomes ready)."""
        sw = self.cfgr & 3
        ready = (MSIRDY, HSIRDY, HSERDY, PLLRDY)[sw]
        if self._flags() & ready:
            self.sws = sw

    # --- registers ----------------------------------------------------------------------------
    def _word(self, word: int) -> int:
        if word == CR:
            return self.cr | self._flags()
        if word == CFGR:
            return self.cfgr | self.sws << 2
        if word == CSR:
            csr = self.csr
            return csr | (LSIRDY if csr & LSION else 0) | (LSERDY if csr & LSEON else 0)
        return self._regs.get(word, 0)  # CIFR, CICR and the reserved offsets: 0

    def read(self, offset: int, size: int) -> int:
        return lane(self._word(offset & ~3), offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word in _CLOCK_WORDS:
            self.reclock(lambda: self._write(word, merge(self._word(word), offset, size, value)),
                         manage=word in (ICSCR, CFGR))
            return
        # (the RTC's bits are in CSR, whose word 0x10 below is a sleep-mode enable register: an
        # extra settle and restart there change nothing)
        gated = [d for d in self.gated.values() if word in (d.clock[0], d.clock[0] - RESETS)]
        # CSR also starts and stops the LSE and the LSI, the kernel clocks of some (LPTIM1)
        others = [d for d in self.gated.values() if d not in gated] if word == CSR else []
        for dev in gated + others:
            dev.settle()
        self._write(word, merge(self._word(word), offset, size, value))
        for dev in gated:
            dev.rcc_changed()
        for dev in others:
            dev.restart()

    def _backup_writable(self) -> bool:
        """PWR_CR.DBP (sim/devices/stm32l0_pwr.py); without a PWR model, always."""
        pwr = self.host.device("stm32l0_pwr")
        writable = getattr(pwr, "backup_writable", None)
        return True if writable is None else bool(writable())

    def _write(self, word: int, new: int) -> None:
        if word == CR:
            # the system clock's source (and the PLL's input under it) cannot be switched off
            self.cr = (new & _CR_WRITABLE) | self._sources_on(self.sws)
            self._switch()
        elif word == CFGR:
            new &= _CFGR_WRITABLE
            if self.cr & PLLON and (new ^ self.cfgr) & _PLL_SETTINGS:
                self.host.unmodelled(self, CFGR, 4, new, "PLLSRC, PLLMUL, PLLDIV ignored: the "
                                     "PLL is on (RM0377: written only while it is off)")
                new = (new & ~_PLL_SETTINGS) | (self.cfgr & _PLL_SETTINGS)
            self.cfgr = new
            self._switch()
        elif word == CSR:
            flags = 0 if new & RMVF else self.csr & 0xFF00_0000
            written = new & _CSR_WRITABLE
            if (written ^ self.csr) & _CSR_BACKUP and not self._backup_writable():
                self.host.unmodelled(self, CSR, 4, new, "ignored: the backup domain is "
                                     "write-protected (PWR_CR.DBP clear)")
                written = (written & ~_CSR_BACKUP) | (self.csr & _CSR_BACKUP)
            if written & RTCRST:  # a backup-domain reset: the LSE and the RTC's clock off
                written &= ~_CSR_BACKUP | RTCRST
            self.csr = written | flags
        elif word == ICSCR:
            self._regs[word] = (new & _ICSCR_WRITABLE) | (self._regs[word] & ~_ICSCR_WRITABLE)
        elif word in self._regs:
            self._regs[word] = new
        # CIFR (read-only), CICR (no flag to clear) and the reserved offsets: nothing to keep


_ENABLES = {0x2C: "IOPENR", 0x30: "AHBENR", 0x34: "APB2ENR", 0x38: "APB1ENR"}
_RESETS = {0x1C: "IOPRSTR", 0x20: "AHBRSTR", 0x24: "APB2RSTR", 0x28: "APB1RSTR"}
RESETS = 0x10  # a bus's reset register lies this far below its enable register


class Clocked(Device):
    """A peripheral of the part that works only while its clock enable in the RCC is set
    (``clock``: the enable register's offset and the bit; clear after reset) and its reset bit
    clear (the same bit in the reset register 0x10 below). Without its clock it stops: its
    registers read 0 and ignore writes, it does not count or receive, and its flags keep their
    values; each access is listed as unmodelled (with ``--strict-peripherals``, a fault), as
    firmware that forgot the clock waits for ever on the chip for a flag that never comes.
    Setting its reset bit returns it to its reset state, held there until the bit is cleared.
    On a target without the part's RCC it is always clocked.

    The RCC tells the peripheral before and after a write that changes its bits:
    :meth:`settle` (bring it up to now, as it ran) and :meth:`restart` (go on as it runs now)."""

    clock: tuple[int, int]

    def reset(self) -> None:
        rcc = self.host.device(Stm32l0Rcc.name)
        self._rcc = rcc if isinstance(rcc, Stm32l0Rcc) else None
        if self._rcc is not None:
            self._rcc.gated[self.name] = self
        self._clocked: bool | None = None  # known since the RCC's last change of its bits
        self._dma: Device | None = None  # the part's DMA (dma_service), once looked up
        self._dma_known = False

    def _bits(self) -> tuple[bool, bool]:
        """(enabled, held in reset) by the RCC."""
        if self._rcc is None:
            return True, False
        offset, bit = self.clock
        return (bool(self._rcc.read(offset, 4) >> bit & 1),
                bool(self._rcc.read(offset - RESETS, 4) >> bit & 1))

    def clocked(self) -> bool:
        if self._clocked is None:  # the RCC's reset at a run's start does not tell: read it
            enabled, held = self._bits()
            self._clocked = enabled and not held
        rcc = self._rcc
        return self._clocked and not (rcc is not None and rcc.stopped and not (
            self.runs_in_standby() if rcc.standby else self.runs_in_stop()))

    def runs_in_stop(self) -> bool:
        """Whether it keeps running in Stop mode (on the LSE or the LSI): the core domain's
        peripherals, clocked from HCLK, stop."""
        return False

    def runs_in_standby(self) -> bool:
        """Whether it keeps running in Stand-by mode: only the backup domain (the RTC) and the
        independent watchdog do."""
        return False

    def _clock_off(self) -> str:
        offset, bit = self.clock
        if self._bits()[1]:
            return f"it is held in reset (RCC {_RESETS[offset - RESETS]} bit {bit})"
        return f"its clock is off (RCC {_ENABLES[offset]} bit {bit})"

    def settle(self) -> None:
        """Before the RCC changes its clock or reset bit: account the time up to now."""

    def restart(self) -> None:
        """After the change: plan what comes next (nothing, stopped)."""

    def dma_service(self) -> None:
        """A DMA request of this peripheral may be up: the DMA serves it now, if a channel of
        it is on (sim/devices/stm32l0_dma.py; the peripheral's ``dma_request``). Costs a
        look at the DMA's channels when none is."""
        if not self._dma_known:
            self._dma, self._dma_known = self.host.device("stm32l0_dma"), True
        dma = self._dma
        if dma is not None and dma.active:  # type: ignore[attr-defined]
            dma.service()  # type: ignore[attr-defined]

    def rcc_changed(self) -> None:
        """The RCC changed its bits: back to the reset state while held in reset."""
        self._clocked = None
        if self._bits()[1]:
            self.reset()
        self.restart()

    def read(self, offset: int, size: int) -> int:
        if not self.clocked():
            self.host.unmodelled(self, offset, size, None, self._clock_off())
            return 0
        return self.read_clocked(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        if not self.clocked():
            self.host.unmodelled(self, offset, size, value, self._clock_off())
            return
        self.write_clocked(offset, size, value)

    @abstractmethod
    def read_clocked(self, offset: int, size: int) -> int:
        """``read`` while the clock is on."""

    @abstractmethod
    def write_clocked(self, offset: int, size: int, value: int) -> None:
        """``write`` while the clock is on."""


class ReadBackBus(Device):
    """One of the part's peripheral buses: registers that read back what was written, each
    access listed as unmodelled (with ``WHY``, when the bus says more of what it does)."""

    background = True
    WHY = ""

    def reset(self) -> None:
        self._regs: dict[int, int] = {}

    def _word(self, word: int) -> int:
        """The value the register at ``word`` reads."""
        return self._regs.get(word, 0)

    def read(self, offset: int, size: int) -> int:
        self.host.unmodelled(self, offset, size, None, self.WHY)
        return lane(self._word(offset & ~3), offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        self.host.unmodelled(self, offset, size, value, self.WHY)
        word = offset & ~3
        self._regs[word] = merge(self._regs.get(word, 0), offset, size, value)



# RM0377's memory map of the STM32L0x1: the peripheral boundary addresses of each bus
class Stm32l0Apb1(ReadBackBus):
    name, base, size = "stm32l0_apb1", 0x4000_0000, 0x8000  # TIM2 ... LPTIM1


class Stm32l0Apb2(ReadBackBus):
    name, base, size = "stm32l0_apb2", 0x4001_0000, 0x5C00  # SYSCFG ... DBGMCU


class Stm32l0Ahb(ReadBackBus):
    name, base, size = "stm32l0_ahb", 0x4002_0000, 0x6400  # DMA1, RCC, FLASH ... AES


class Stm32l0Ioport(ReadBackBus):
    name, base, size = "stm32l0_ioport", 0x5000_0000, 0x2000  # GPIOA ... GPIOH


DEVICES = (Stm32l0Rcc, Stm32l0Apb1, Stm32l0Apb2, Stm32l0Ahb, Stm32l0Ioport)

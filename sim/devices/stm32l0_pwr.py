"""The STM32L0x1's power controller, PWR (RM0377), as far as a vendor's clock set-up, RTC and
low-power code use it: the voltage range (CR.VOS, with CSR.VOSF clear: the regulator is always
ready), the backup domain's write protection (CR.DBP: the RTC and RCC_CSR's RTC bits ignore
writes while it is clear), Stand-by mode, the wake-up flags and pins.

CR (reset 0x1000: range 2) keeps what is written; CWUF and CSBF clear CSR's WUF and SBF and read
0. CSR (reset 0x0008) reads VREFINTRDYF set, VOSF clear, REGLPF while CR.LPRUN and LPSDSR are
set, PVDO clear, WUF and SBF as below; its EWUP1-3 bits read back. With CR.PDDS clear a deep
sleep is Stop mode (sim.devices.stm32l0.Stm32l0Rcc.deep_sleep).

Stand-by mode (a WFI/WFE with SCR.SLEEPDEEP and CR.PDDS set): SBF is set, the core and every
peripheral stop but the RTC (the backup domain) and the independent watchdog, and the part wakes
on a wake-up event: an RTC flag rising with its interrupt enabled (WUTF with WUTIE, ALRAF with
ALRAIE, ALRBF with ALRBIE: the EXTI and the NVIC are not needed), or a rising edge of a wake-up
pin enabled in CSR (EWUP1: PA0, EWUP2: PC13: the pin as --pin drives it, else the pull-down the
chip forces on it, whatever the GPIO port's configuration; enabling it while the pin is high is
an event too). Any such event sets WUF, asleep or not. The wake-up is a reset
(DeviceHost.request_reset, cause "standby"): the firmware starts again at its reset vector with
its SRAM lost (0 here), SBF and WUF set; the RTC and its backup registers, and RCC_CSR's backup-
domain bits, kept. Entering Stand-by with WUF already set wakes the part at once (the chip does:
clear WUF with CWUF first), with a warning. The watchdog's reset ends Stand-by too. A system
reset (SYSRESETREQ, the watchdog) clears WUF and keeps SBF; only CSBF (or a power-on) clears
SBF.

Not modelled: the PVD (CR.PVDE), the ultra-low-power mode (CR.ULP), the fast wake-up; a write
that turns PVDE on is listed. Like the part's other peripherals it works only while its RCC
clock is on (APB1ENR PWREN, bit 28; sim.devices.stm32l0.Clocked): vendor code enables it before
it sets the voltage range or DBP. A voltage range too low for the clock the firmware set up is
a warning in the report (sim.devices.stm32l0.Stm32l0Rcc.check_limits).
"""

from sim.devices import lane
from sim.devices.stm32l0 import Clocked, Stm32l0Rcc, merge

CR, CSR = 0x00, 0x04
LPSDSR, PDDS, CWUF, CSBF, PVDE, DBP, LPRUN = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 8, 1 << 14
_CR_KEPT = 0x0000_7FF3  # LPSDSR ... LPRUN, without the actions CWUF and CSBF
WUF, SBF, VREFINTRDYF, REGLPF = 1 << 0, 1 << 1, 1 << 3, 1 << 5
EWUP = 0x0700  # CSR: EWUP1-3
EWUP1, EWUP2 = 1 << 8, 1 << 9
# the wake-up pins of the STM32L031 (WKUP1, WKUP2) by port and pin, with their enables
WAKEUP_PINS = {("A", 0): (EWUP1, "WKUP1 (PA0)"), ("C", 13): (EWUP2, "WKUP2 (PC13)")}
APB1ENR = 0x38
VOS = 3 << 11  # CR: the voltage range


class Stm32l0Pwr(Clocked):
    name, base, size = "stm32l0_pwr", 0x4000_7000, 0x400
    clock = (APB1ENR, 28)

    def reset(self) -> None:
        super().reset()
        self.cr = 0x1000  # VOS: range 2
        self.ewup = 0
        self.wuf = self.sbf = False
        self.in_standby = False
        self._high: set[tuple[str, int]] = set()  # the wake-up pins driven high

    def system_reset(self, cause: str) -> None:
        """WUF lives through the wake-up from Stand-by (its cause), SBF through any reset (and
        the wake-up pins' levels: the outside world's)."""
        wuf, sbf, high = self.wuf, self.sbf, self._high
        self.reset()
        self.wuf, self.sbf, self._high = wuf and cause == "standby", sbf, high

    # --- Stand-by -------------------------------------------------------------------------------
    def enter_standby(self) -> None:
        """The core enters Stand-by mode (the RCC stops the clocks): SBF; with WUF already set
        the part wakes at once."""
        self.sbf = self.in_standby = True
        if self.wuf:
            self.host.warn("Stand-by mode entered with PWR_CSR.WUF set: the part woke at once "
                           "(clear it with PWR_CR.CWUF before entering)")
            self.host.request_reset("woke from Stand-by at once: PWR_CSR.WUF was set", "standby")

    def wakeup_event(self, what: str) -> None:
        """A wake-up event (``what`` names it): WUF; in Stand-by the part wakes (a reset)."""
        self.wuf = True
        if self.in_standby:
            self.host.request_reset(f"woke from Stand-by: {what}", "standby")

    def drive_changed(self, port: str) -> None:
        """--pin changed port ``port``'s pins: a rising edge of an enabled wake-up pin is a
        wake-up event."""
        driven, outside = self.host.pin_drive(port)
        for (letter, pin), (enable, name) in WAKEUP_PINS.items():
            if letter != port:
                continue
            high = bool((driven & outside) >> pin & 1)  # undriven: the pull-down
            if high and (letter, pin) not in self._high and self.ewup & enable:
                self.wakeup_event(f"a rising edge of {name}")
            (self._high.add if high else self._high.discard)((letter, pin))

    def backup_writable(self) -> bool:
        """CR.DBP: the backup domain (the RTC, RCC_CSR's RTC bits) takes writes."""
        return bool(self.cr & DBP)

    def _csr(self) -> int:
        low_power = self.cr & (LPRUN | LPSDSR) == LPRUN | LPSDSR
        return (VREFINTRDYF | (REGLPF if low_power else 0) | self.ewup | (WUF if self.wuf else 0)
                | (SBF if self.sbf else 0))

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in (CR, CSR):
            self.host.unmodelled(self, offset, size, None)
        value = {CR: self.cr, CSR: self._csr()}.get(word, 0)
        return lane(value, offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == CR:
            new = merge(self.cr, offset, size, value)
            if new & PVDE & ~self.cr:
                self.host.unmodelled(self, offset, size, value)
            if new & CWUF:
                self.wuf = False
            if new & CSBF:
                self.sbf = False
            if not new & VOS:  # RM0377: 00 is forbidden; the range stays
                self.host.unmodelled(self, offset, size, value, "VOS ignored: 00 is not a "
                                     "voltage range (RM0377)")
                new |= self.cr & VOS
            vos = (self.cr ^ new) & VOS
            self.cr = new & _CR_KEPT
            rcc = self.host.device(Stm32l0Rcc.name)
            if vos and isinstance(rcc, Stm32l0Rcc):  # the clock may be beyond the new range
                rcc.check_limits()
        elif word == CSR:
            new = merge(self._csr(), offset, size, value) & EWUP
            for key, (enable, name) in WAKEUP_PINS.items():
                if new & enable & ~self.ewup and key in self._high:
                    self.wakeup_event(f"{name} enabled while high")
            self.ewup = new
        else:
            self.host.unmodelled(self, offset, size, value)


DEVICES = (Stm32l0Pwr,)

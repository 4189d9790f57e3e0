"""The STM32L0x1's power controller, PWR (RM0377), as far as a vendor's clock set-up and RTC code
use it: the voltage range (CR.VOS, with CSR.VOSF clear: the regulator is always ready), the
backup domain's write protection (CR.DBP: the RTC and RCC_CSR's RTC bits ignore writes while it
is clear), the wake-up flags and pins.

CR (reset 0x1000: range 2) keeps what is written; CWUF and CSBF clear CSR's WUF and SBF and read
0. CSR (reset 0x0008) reads VREFINTRDYF set, VOSF clear, REGLPF while CR.LPRUN and LPSDSR are
set, WUF and SBF clear (no stand-by or wake-up event here), PVDO clear; its EWUP1-3 bits read
back. With CR.PDDS clear a deep sleep is Stop mode (sim.devices.stm32l0.Stm32l0Rcc.deep_sleep).
What the other settings would do is not modelled: the PVD (CR.PVDE), stand-by (CR.PDDS: a deep
sleep with it set is a sleep, and the part's clocks keep running), the ultra-low-power mode; a
write that turns PVDE or PDDS on is listed. Like the part's other peripherals it works only
while its RCC clock is on (APB1ENR PWREN, bit 28; sim.devices.stm32l0.Clocked): vendor code
enables it before it sets the voltage range or DBP. A voltage range too low for the clock the
firmware set up is a warning in the report (sim.devices.stm32l0.Stm32l0Rcc.check_limits).
"""

from sim.devices.stm32l0 import Clocked, Stm32l0Rcc, merge

CR, CSR = 0x00, 0x04
LPSDSR, PDDS, CWUF, CSBF, PVDE, DBP, LPRUN = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 8, 1 << 14
_CR_KEPT = 0x0000_7FF3  # LPSDSR ... LPRUN, without the actions CWUF and CSBF
VREFINTRDYF, REGLPF = 1 << 3, 1 << 5
EWUP = 0x0700  # CSR: EWUP1-3
APB1ENR = 0x38
VOS = 3 << 11  # CR: the voltage range


class Stm32l0Pwr(Clocked):
    name, base, size = "stm32l0_pwr", 0x4000_7000, 0x400
    clock = (APB1ENR, 28)

    def reset(self) -> None:
        super().reset()
        self.cr = 0x1000  # VOS: range 2
        self.ewup = 0

    def backup_writable(self) -> bool:
        """CR.DBP: the backup domain (the RTC, RCC_CSR's RTC bits) takes writes."""
        return bool(self.cr & DBP)

    def _csr(self) -> int:
        low_power = self.cr & (LPRUN | LPSDSR) == LPRUN | LPSDSR
        return VREFINTRDYF | (REGLPF if low_power else 0) | self.ewup

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in (CR, CSR):
            self.host.unmodelled(self, offset, size, None)
        value = {CR: self.cr, CSR: self._csr()}.get(word, 0)
        return (value >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == CR:
            new = merge(self.cr, offset, size, value)
            if new & (PVDE | PDDS) & ~self.cr:
                self.host.unmodelled(self, offset, size, value)
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
            self.ewup = merge(self._csr(), offset, size, value) & EWUP
        else:
            self.host.unmodelled(self, offset, size, value)


DEVICES = (Stm32l0Pwr,)

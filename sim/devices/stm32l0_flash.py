"""The STM32L0x1's flash interface (RM0377 section 3.7, 0x40022000): its access control
register, whose LATENCY bit sets the wait states a fetch from flash pays, modelled; the rest
(programming and erasing, the option bytes) not.

FLASH_ACR keeps LATENCY, PRFTEN, SLEEP_PD, RUN_PD, DISAB_BUF and PRE_READ as written (reset 0).
The firmware's first write to it (as to RCC_CFGR or RCC_ICSCR: sim/devices/stm32l0.py) hands
the core's clock to the registers: from then on a pipeline refill pays LATENCY's wait states
(0 or 1) rather than the profile's, at the clock RCC gives (a HAL_RCC_ClockConfig writes
LATENCY before it raises the clock, and lowers it after). Unless ``--wait-states`` fixes
them for the run.

Every other register reads back what was written, from RM0377's reset values (PECR locked:
0x7; SR: READY and ENDHV set, 0xC; OPTR: a factory-fresh part's option bytes, read-out
protection level 0, 0x807000AA), each access listed as unmodelled: the data EEPROM and flash
are not written by their programming sequences here, and firmware that programs them should
be run on the chip.
"""

from sim.devices import Device
from sim.devices.stm32l0 import Stm32l0Rcc, merge

FLASH_BASE = 0x4002_2000
ACR, PECR, SR, OPTR = 0x00, 0x04, 0x18, 0x1C
_ACR_WRITABLE = 0x7B  # LATENCY, PRFTEN, SLEEP_PD, RUN_PD, DISAB_BUF, PRE_READ
LATENCY = 1
_RESET = {PECR: 0x7, SR: 0xC, OPTR: 0x8070_00AA}


class Stm32l0Flash(Device):
    name, base, size = "stm32l0_flash", FLASH_BASE, 0x400

    def reset(self) -> None:
        self.acr = 0
        self._regs = dict(_RESET)

    @property
    def latency(self) -> int:
        """FLASH_ACR.LATENCY: the wait states of a fetch from flash."""
        return self.acr & LATENCY

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word == ACR:
            value = self.acr
        else:
            self.host.unmodelled(self, offset, size, None)
            value = self._regs.get(word, 0)
        return (value >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word != ACR:
            self.host.unmodelled(self, offset, size, value)
            self._regs[word] = merge(self._regs.get(word, 0), offset, size, value)
            return
        acr = merge(self.acr, offset, size, value) & _ACR_WRITABLE

        def change() -> None:
            self.acr = acr

        rcc = self.host.device(Stm32l0Rcc.name)
        if isinstance(rcc, Stm32l0Rcc):
            rcc.reclock(change, manage=True)
        else:
            change()


DEVICES = (Stm32l0Flash,)

"""The STM32F746's and STM32L552's peripheral buses, so that their vendors' start-up code runs.

STM32CubeF7/L5 firmware starts with CMSIS ``SystemInit`` and ``SystemClock_Config``: it turns
oscillators and the PLL on and waits for each one's ready flag, switches the system clock and
waits for the switch status, raises the regulator (the F7's over-drive, the L5's voltage range)
and waits for it, sets the flash wait states and reads them back. Here the registers of the
buses read back what was written (each access listed as unmodelled, as the STM32L0's buses),
and the clock controller's and power controller's ready and status flags follow at once what
their enable bits ask for. The clock tree itself is not modelled: the core runs at the
profile's clock whatever the firmware sets (HAL computes the same ``SystemCoreClock`` from the
registers it wrote). Addresses from RM0385 (F7) and RM0438 (L5, non-secure aliases).
"""

from dataclasses import dataclass
from typing import ClassVar

from sim.devices import lane
from sim.devices.stm32l0 import RESET_FLAGS, ReadBackBus


@dataclass(frozen=True)
class Follows:
    """Bit ``ready`` of register ``status`` reads as bit ``enable`` of register ``control``
    (offsets in the device); ``width`` bits from each (a clock switch's SW and SWS)."""

    control: int
    enable: int
    status: int
    ready: int
    width: int = 1


class _Bus(ReadBackBus):
    """Registers that read back what was written, each access listed as unmodelled, except
    the flags in ``FOLLOWS`` (read-only there), which reflect their controls; ``RESET``: the
    registers' reset values; ``CSR``: the RCC's CSR, whose RMVF (bit ``RMVF``) clears its
    reset flags (``FLAGS``), which a reset during the run keeps, adding its own (SFTRSTF for
    SYSRESETREQ, with PINRSTF: an internal reset drives NRST; at the bits the STM32L0's
    have); ``KEEP``: the registers a system reset leaves as they are (the backup domain's)."""

    RESET: ClassVar[dict[int, int]] = {}
    FOLLOWS: ClassVar[tuple[Follows, ...]] = ()
    CSR, RMVF, FLAGS = -1, 24, 0xFE00_0000
    KEEP: ClassVar[tuple[int, ...]] = ()

    def reset(self) -> None:
        self._regs = dict(self.RESET)

    def system_reset(self, cause: str) -> None:
        """A reset during the run: the reset values, but for CSR's reset flags (cleared only
        by RMVF or a power-on reset: those of the power-on and of earlier resets stay, the
        reset's own added) and the backup domain's registers."""
        kept = {word: self._regs[word] for word in self.KEEP if word in self._regs}
        flags = self._regs.get(self.CSR, 0) & self.FLAGS
        self.reset()
        self._regs.update(kept)
        if self.CSR >= 0:
            self._regs[self.CSR] = (self._regs[self.CSR] & ~self.FLAGS | flags
                                    | RESET_FLAGS[cause])

    def _word(self, word: int) -> int:
        value = self._regs.get(word, 0)
        for f in self.FOLLOWS:
            if f.status == word:
                mask = (1 << f.width) - 1
                bits = self._regs.get(f.control, 0) >> f.enable & mask
                value = value & ~(mask << f.ready) | bits << f.ready
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        super().write(offset, size, value)
        word = offset & ~3
        if word == self.CSR and self._regs[word] >> self.RMVF & 1:  # the reset flags cleared
            self._regs[word] &= ~(self.FLAGS | 1 << self.RMVF)


class _Ready(_Bus):
    """A clock or power controller: its accesses listed saying its flags follow."""

    background = False
    WHY = "its ready flags follow their enables (the clocks are not modelled)"


# --- STM32F746 (RM0385) -----------------------------------------------------------------------

class Stm32f7Rcc(_Ready):
    name, base, size = "stm32f7_rcc", 0x4002_3800, 0x400
    # RCC_CSR (RM0385 5.3.21): RMVF bit 24, the flags BORRSTF (25) to LPWRRSTF (31); the
    # backup domain control register BDCR (0x70: LSE, RTC) lives through a system reset
    CSR, RMVF, FLAGS, KEEP = 0x74, 24, 0xFE00_0000, (0x70,)
    # CR: HSION, HSIRDY, HSITRIM 16; CFGR 0; PLLCFGR, PLLI2SCFGR, PLLSAICFGR; CSR: PORRSTF,
    # PINRSTF
    RESET: ClassVar[dict[int, int]] = {0x00: 0x0000_0083, 0x04: 0x2400_3010,
                                       0x84: 0x2400_3000, 0x88: 0x2400_3000, 0x74: 0x0E00_0000}
    FOLLOWS = (Follows(0x00, 0, 0x00, 1), Follows(0x00, 16, 0x00, 17),  # HSI, HSE
               Follows(0x00, 24, 0x00, 25), Follows(0x00, 26, 0x00, 27),  # PLL, PLLI2S
               Follows(0x00, 28, 0x00, 29),  # PLLSAI
               Follows(0x08, 0, 0x08, 2, 2),  # CFGR.SW -> SWS
               Follows(0x70, 0, 0x70, 1), Follows(0x74, 0, 0x74, 1))  # LSE, LSI


class Stm32f7Pwr(_Ready):
    name, base, size = "stm32f7_pwr", 0x4000_7000, 0x400
    RESET: ClassVar[dict[int, int]] = {0x00: 0x0000_C000}  # CR1.VOS: scale 1
    # CR1.ODEN -> CSR1.ODRDY, CR1.ODSWEN -> CSR1.ODSWRDY; CSR1.VOSRDY reads 1 (below)
    FOLLOWS = (Follows(0x00, 16, 0x04, 16), Follows(0x00, 17, 0x04, 17))

    def read(self, offset: int, size: int) -> int:
        value = super().read(offset, size)
        if offset & ~3 == 0x04:  # VOSRDY: the regulator is at the scale asked for
            value |= lane(1 << 14, offset, size)
        return value


class Stm32f7Apb1(_Bus):
    name, base, size = "stm32f7_apb1", 0x4000_0000, 0x8000  # TIM2 ... UART8


class Stm32f7Apb2(_Bus):
    name, base, size = "stm32f7_apb2", 0x4001_0000, 0x6C00  # TIM1 ... LTDC


class Stm32f7Ahb1(_Bus):
    name, base, size = "stm32f7_ahb1", 0x4002_0000, 0x6_0000  # GPIOA ... USB OTG HS


class Stm32f7Ahb2(_Bus):
    name, base, size = "stm32f7_ahb2", 0x5000_0000, 0x6_0C00  # USB OTG FS ... RNG


# --- STM32L552 (RM0438, non-secure addresses) --------------------------------------------------

class Stm32l5Rcc(_Ready):
    name, base, size = "stm32l5_rcc", 0x4002_1000, 0x400
    # RCC_CSR (RM0438, as the STM32L4's): RMVF bit 23, the flags OBLRSTF (25) to LPWRRSTF
    # (31); BDCR (0x90: LSE, RTC) lives through a system reset
    CSR, RMVF, FLAGS, KEEP = 0x94, 23, 0xFE00_0000, (0x90,)
    # CR: MSION, MSIRDY, MSIRANGE 6 (4 MHz); PLLCFGR 0x1000; CSR: PINRSTF, BORRSTF
    RESET: ClassVar[dict[int, int]] = {0x00: 0x0000_0063, 0x0C: 0x0000_1000, 0x94: 0x0C00_0600}
    FOLLOWS = (Follows(0x00, 0, 0x00, 1), Follows(0x00, 8, 0x00, 10),  # MSI, HSI16
               Follows(0x00, 16, 0x00, 17), Follows(0x00, 24, 0x00, 25),  # HSE, PLL
               Follows(0x00, 26, 0x00, 27), Follows(0x00, 28, 0x00, 29),  # PLLSAI1, 2
               Follows(0x08, 0, 0x08, 2, 2),  # CFGR.SW -> SWS
               Follows(0x90, 0, 0x90, 1), Follows(0x94, 0, 0x94, 1),  # LSE, LSI
               Follows(0x98, 0, 0x98, 1))  # CRRCR: HSI48


class Stm32l5Pwr(_Ready):
    name, base, size = "stm32l5_pwr", 0x4000_7000, 0x400
    # CR1.VOS: range 2; SR2.VOSF reads 0: the range asked for is reached
    RESET: ClassVar[dict[int, int]] = {0x00: 0x0000_0400}


class Stm32l5Apb1(_Bus):
    name, base, size = "stm32l5_apb1", 0x4000_0000, 0xD400  # TIM2 ... UCPD1


class Stm32l5Apb2(_Bus):
    name, base, size = "stm32l5_apb2", 0x4001_0000, 0x6400  # SYSCFG ... DFSDM1


class Stm32l5Ahb1(_Bus):
    name, base, size = "stm32l5_ahb1", 0x4002_0000, 0x1_3800  # DMA1 ... GTZC


class Stm32l5Ahb2(_Bus):
    name, base, size = "stm32l5_ahb2", 0x4202_0000, 0xA_8800  # GPIOA ... SDMMC1


DEVICES = (Stm32f7Rcc, Stm32f7Pwr, Stm32f7Apb1, Stm32f7Apb2, Stm32f7Ahb1, Stm32f7Ahb2,
           Stm32l5Rcc, Stm32l5Pwr, Stm32l5Apb1, Stm32l5Apb2, Stm32l5Ahb1, Stm32l5Ahb2)

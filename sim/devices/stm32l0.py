"""The STM32L0x1's own peripheral space (RM0377), so that a vendor's start-up code runs: its
reset and clock control (RCC) modelled far enough for a clock set-up to finish, and every other
peripheral register on its buses reading back what was written.

RCC (0x40021000) is the one vendor start-up code waits on: it switches an oscillator on and
spins until its ready flag is set, then selects the system clock and spins until the switch
status says so (STM32CubeL0's SystemClock_Config, through HAL_RCC_OscConfig and
HAL_RCC_ClockConfig). Here an oscillator is ready as soon as it is on: CR's HSI16RDYF,
HSI16DIVF, MSIRDY, HSERDY and PLLRDY follow HSI16ON, HSI16DIVEN, MSION, HSEON and PLLON, and
CSR's LSIRDY and LSERDY follow LSION and LSEON. CFGR.SWS takes the source CFGR.SW selects when
that source is on, and keeps the one before when it is not, as the chip does. CSR's reset
flags read a power-on reset (PORRSTF, PINRSTF) until RMVF clears them. ICSCR (reset: MSI range
5), CIER, the peripheral reset, clock-enable and sleep-mode enable registers and CCIPR read
back what was written; CIFR reads 0 (no clock interrupt is raised) and CICR is write-only. The
clock the firmware sets up does not change the simulated one: cycles become time at the
profile's clock.

The buses (APB1, APB2, AHB, IOPORT) cover the other peripherals: GPIO, the flash interface,
PWR, EXTI, the part's own timers and U(S)ARTs. They are not modelled: their registers read back
what was written (0 after reset), so a register polled for a flag the firmware did not write
reads 0 for ever; every access to them is listed in the report's unmodelled registers and with
``--strict-peripherals`` is a fault. The buses are background devices: mapped only where no
other device of the target is (the CMSDK timers and UART at 0x40000000, 0x40001000 and
0x40004000 stay), so an address off the buses still faults, as a reserved one does on the
chip.
"""

from sim.devices import Device

RCC_BASE = 0x4002_1000
CR, ICSCR, CFGR, CIER, CIFR, CICR, CSR = 0x00, 0x04, 0x0C, 0x10, 0x14, 0x18, 0x50
# IOPRSTR 0x1C to CCIPR 0x4C: peripheral resets, clock enables, sleep-mode enables, clock
# selection: storage only here
_STORED = (ICSCR, CIER, *range(0x1C, 0x50, 4))
# CR: (enable, ready) bit pairs: HSI16, its divider, MSI, HSE, PLL
_CR_READY = ((0, 2), (3, 4), (8, 9), (16, 17), (24, 25))
_CR_FLAGS = sum(1 << ready for _, ready in _CR_READY)
# CSR: LSI and LSE
_CSR_READY = ((0, 1), (8, 9))
_CSR_FLAGS = sum(1 << ready for _, ready in _CSR_READY)
RMVF = 1 << 23
_RESET_FLAGS = 0xFF00_0000  # CSR bits 24-31, read-only
_POWER_ON = (1 << 27) | (1 << 26)  # PORRSTF, PINRSTF
# CFGR.SW's sources and the CR bit that has each on: MSI, HSI16, HSE, PLL
_SOURCE_ON = (8, 0, 16, 24)
MASK32 = 0xFFFF_FFFF


def _merge(old: int, offset: int, size: int, value: int) -> int:
    """``old`` with the ``size`` bytes at ``offset & 3`` replaced by ``value`` (within the
    word)."""
    shift = 8 * (offset & 3)
    mask = (((1 << (8 * size)) - 1) << shift) & MASK32
    return (old & ~mask) | ((value << shift) & mask)


def _ready(enables: int, pairs: tuple[tuple[int, int], ...]) -> int:
    return sum(1 << ready for on, ready in pairs if enables >> on & 1)


class Stm32l0Rcc(Device):
    name = "stm32l0_rcc"
    base = RCC_BASE
    size = 0x400

    def reset(self) -> None:
        self.cr = 1 << 8  # MSION: the part starts on MSI
        self.cfgr = 0  # SW and SWS: MSI
        self.csr = _POWER_ON
        # ICSCR: MSI range 5, HSITRIM 16 (the calibration values are the part's own: 0 here);
        # AHBENR: MIFEN
        self._regs: dict[int, int] = {ICSCR: 5 << 13 | 16 << 8, 0x30: 1 << 8}
        self._other: dict[int, int] = {}

    def _word(self, word: int) -> int | None:
        if word == CR:
            return (self.cr & ~_CR_FLAGS) | _ready(self.cr, _CR_READY)
        if word == CFGR:
            return self.cfgr
        if word == CSR:
            return (self.csr & ~_CSR_FLAGS) | _ready(self.csr, _CSR_READY)
        if word in (CIFR, CICR):
            return 0
        if word in _STORED:
            return self._regs.get(word, 0)
        return None

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        value = self._word(word)
        if value is None:
            self.host.unmodelled(self, offset, size, None)
            value = self._other.get(word, 0)
        return (value >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        old = self._word(word)
        if old is None:
            self.host.unmodelled(self, offset, size, value)
            self._other[word] = _merge(self._other.get(word, 0), offset, size, value)
            return
        new = _merge(old, offset, size, value)
        if word == CR:
            self.cr = new & ~_CR_FLAGS
        elif word == CFGR:
            sw = new & 3
            sws = sw if self.cr >> _SOURCE_ON[sw] & 1 else (self.cfgr >> 2) & 3
            self.cfgr = (new & ~0xC) | (sws << 2)
        elif word == CSR:
            flags = 0 if new & RMVF else self.csr & _RESET_FLAGS
            self.csr = (new & ~(_CSR_FLAGS | RMVF | _RESET_FLAGS)) | flags
        elif word in _STORED:
            self._regs[word] = new
        # CIFR (read-only) and CICR (no flag to clear): nothing to keep


class _Bus(Device):
    """One of the part's peripheral buses: registers that read back what was written, each
    access listed as unmodelled."""

    background = True

    def reset(self) -> None:
        self._regs: dict[int, int] = {}

    def read(self, offset: int, size: int) -> int:
        self.host.unmodelled(self, offset, size, None)
        value = self._regs.get(offset & ~3, 0)
        return (value >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        self.host.unmodelled(self, offset, size, value)
        word = offset & ~3
        self._regs[word] = _merge(self._regs.get(word, 0), offset, size, value)


# RM0377's memory map of the STM32L0x1: the peripheral boundary addresses of each bus
class Stm32l0Apb1(_Bus):
    name, base, size = "stm32l0_apb1", 0x4000_0000, 0x8000  # TIM2 ... LPTIM1


class Stm32l0Apb2(_Bus):
    name, base, size = "stm32l0_apb2", 0x4001_0000, 0x5C00  # SYSCFG ... DBGMCU


class Stm32l0Ahb(_Bus):
    name, base, size = "stm32l0_ahb", 0x4002_0000, 0x6400  # DMA1, RCC, FLASH ... AES


class Stm32l0Ioport(_Bus):
    name, base, size = "stm32l0_ioport", 0x5000_0000, 0x2000  # GPIOA ... GPIOH


DEVICES = (Stm32l0Rcc, Stm32l0Apb1, Stm32l0Apb2, Stm32l0Ahb, Stm32l0Ioport)

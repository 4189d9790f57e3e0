"""The System Control Space (0xE000E000, 4 KiB): CPACR, the FPU's enable, is modelled.

Every other register reads back what was last written to it (0 after reset), which is what
start-up code that only configures the SCS needs. CPACR (0xE000ED88) resets to 0: the FPU is
disabled until CP10 and CP11 are granted (0b01 privileged or 0b11 full; the firmware runs
privileged). Unicorn would execute floating-point instructions regardless, so the device tells
the host, which stops the run before a block holding one while access is denied, as hardware
raises UsageFault NOCP there. A word write to CCR (0xE000ED14) passes its DIV_0_TRP bit to
the host: SDIV/UDIV by zero then fault (UsageFault DIVBYZERO) instead of returning 0.
"""

from sim.devices import Device
from toolchain.memory_map import SCS_BASE, SCS_SIZE

CPACR = 0xE000_ED88
CCR = 0xE000_ED14
CCR_DIV_0_TRP = 1 << 4


class SystemControlSpace(Device):
    name = "scs"
    base = SCS_BASE
    size = SCS_SIZE

    def reset(self) -> None:
        self._regs: dict[int, int] = {}
        self.cpacr = 0
        self._update_fpu()

    def read(self, offset: int, size: int) -> int:
        return self._regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int) -> None:
        self._regs[offset] = value
        cpacr = CPACR - SCS_BASE
        if cpacr <= offset < cpacr + 4:  # any width: merge into the register
            shift = 8 * (offset - cpacr)
            mask = ((1 << (8 * size)) - 1) << shift & 0xFFFFFFFF
            self.cpacr = (self.cpacr & ~mask) | (value << shift & mask)
            self._update_fpu()
        if offset == CCR - SCS_BASE and size == 4:
            self.host.set_div0_trap(bool(value & CCR_DIV_0_TRP))

    def _update_fpu(self) -> None:
        granted = all((self.cpacr >> bit) & 3 in (1, 3) for bit in (20, 22))
        self.host.set_fpu_access(granted)

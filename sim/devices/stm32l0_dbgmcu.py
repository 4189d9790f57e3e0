"""The STM32L0x1's MCU debug component (RM0377, "DBG"), at 0x40015800, so that firmware asking
which part it runs on (STM32CubeL0's HAL_GetDEVID and HAL_GetREVID, LL_DBGMCU_GetDeviceID, a
bootloader checking its target) reads the STM32L031's identity.

IDCODE (0x00, read-only) reads 0x20080425: DEV_ID 0x425 (the STM32L031/L041, category 2) and
REV_ID 0x2008 (revision Y, a current part's, as OpenOCD's STM32L0 revision table names the
codes; the first cut was 0x1000). CR (0x04: DBG_SLEEP,
DBG_STOP, DBG_STANDBY), APB1_FZ (0x08) and APB2_FZ (0x0C) read back what was written: they keep
the clocks on in low-power modes and freeze peripherals while a debugger halts the core, which a
run does not model; a write setting any of their bits is listed as unmodelled. Other offsets
read back, listed. Readable whether or not RCC APB2ENR's DBGEN is set (the HAL reads IDCODE
without it).
"""

from sim.devices import Device, lane
from sim.devices.stm32l0 import merge

BASE = 0x4001_5800
IDCODE, CR, APB1_FZ, APB2_FZ = 0x00, 0x04, 0x08, 0x0C
DEV_ID, REV_ID = 0x425, 0x2008
_DEBUG = (CR, APB1_FZ, APB2_FZ)


class Stm32l0Dbgmcu(Device):
    name, base, size = "stm32l0_dbgmcu", BASE, 0x400

    def reset(self) -> None:
        self._regs: dict[int, int] = dict.fromkeys(_DEBUG, 0)

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word == IDCODE:
            value = REV_ID << 16 | DEV_ID
        else:
            if word not in self._regs:
                self.host.unmodelled(self, offset, size, None)
            value = self._regs.get(word, 0)
        return lane(value, offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == IDCODE:
            return  # read-only
        merged = merge(self._regs.get(word, 0), offset, size, value)
        if word not in _DEBUG:
            self.host.unmodelled(self, offset, size, value)
        elif merged:
            self.host.unmodelled(self, offset, size, value, "debug support: the clocks kept "
                                 "on in low-power modes and the peripherals frozen while a "
                                 "debugger halts the core are not modelled")
        self._regs[word] = merged


DEVICES = (Stm32l0Dbgmcu,)

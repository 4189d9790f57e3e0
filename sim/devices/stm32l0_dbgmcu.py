"""The STM32s' MCU debug component (DBGMCU), so that firmware asking which part it runs on
(STM32Cube's HAL_GetDEVID and HAL_GetREVID, LL_DBGMCU_GetDeviceID, a bootloader checking its
target) reads the part's identity, and the HAL's ``__HAL_DBGMCU_FREEZE_*`` macros find their
registers.

- STM32L0x1 (RM0377, "DBG"), at 0x40015800: IDCODE (0x00, read-only) reads 0x20080425: DEV_ID
  0x425 (the STM32L031/L041, category 2) and REV_ID 0x2008 (revision Y, a current part's, as
  OpenOCD's STM32L0 revision table names the codes; the first cut was 0x1000); CR (0x04:
  DBG_SLEEP, DBG_STOP, DBG_STANDBY), APB1_FZ (0x08) and APB2_FZ (0x0C).
- STM32F74x (RM0385), at 0xE0042000 in the private peripheral bus: IDCODE 0x10010449, DEV_ID
  0x449 and REV_ID 0x1001 (revision Z, OpenOCD's STM32F7 table); CR, APB1_FZ, APB2_FZ as the
  L0's.
- STM32L552 (RM0438), at 0xE0044000: IDCODE 0x20000472, DEV_ID 0x472 and REV_ID 0x2000
  (revision B); CR (0x04), APB1FZR1 (0x08), APB1FZR2 (0x0C), APB2FZR (0x10).

The debug registers read back what was written: they keep the clocks on in low-power modes and
freeze peripherals while a debugger halts the core, which a run does not model; a write setting
any of their bits is listed as unmodelled. Other offsets read back, listed. Readable whether or
not a clock enable is set (the HAL reads IDCODE without it).
"""

from sim.devices import Device, lane
from sim.devices.stm32l0 import merge

BASE = 0x4001_5800
IDCODE, CR, APB1_FZ, APB2_FZ = 0x00, 0x04, 0x08, 0x0C
DEV_ID, REV_ID = 0x425, 0x2008


class Stm32l0Dbgmcu(Device):
    name, base, size = "stm32l0_dbgmcu", BASE, 0x400
    dev_id, rev_id = DEV_ID, REV_ID
    debug: tuple[int, ...] = (CR, APB1_FZ, APB2_FZ)  # the debug registers: read back

    def reset(self) -> None:
        self._regs: dict[int, int] = dict.fromkeys(self.debug, 0)

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word == IDCODE:
            value = self.rev_id << 16 | self.dev_id
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
        if word not in self.debug:
            self.host.unmodelled(self, offset, size, value)
        elif merged:
            self.host.unmodelled(self, offset, size, value, "debug support: the clocks kept "
                                 "on in low-power modes and the peripherals frozen while a "
                                 "debugger halts the core are not modelled")
        self._regs[word] = merged


class Stm32f7Dbgmcu(Stm32l0Dbgmcu):
    name, base, size = "stm32f7_dbgmcu", 0xE004_2000, 0x1000
    dev_id, rev_id = 0x449, 0x1001


class Stm32l5Dbgmcu(Stm32l0Dbgmcu):
    name, base, size = "stm32l5_dbgmcu", 0xE004_4000, 0x1000
    dev_id, rev_id = 0x472, 0x2000
    debug = (CR, 0x08, 0x0C, 0x10)


DEVICES = (Stm32l0Dbgmcu, Stm32f7Dbgmcu, Stm32l5Dbgmcu)

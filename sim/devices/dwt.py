"""The Data Watchpoint and Trace unit (0xE0001000, 4 KiB): CTRL and CYCCNT.

CYCCNT counts the cycles the run report counts (active cycles: not the cycles spent asleep in
WFI/WFE) while DEMCR.TRCENA (in the SCS) and CTRL.CYCCNTENA are both set; a write sets it.
A load reads it at the load's own cycle: the cycles of the instructions before the load and the
load's own (``host.active_cycles()`` during the read: the end of its block less the cycles of
the instructions after it, sim/store_match.py), and a store sets it (a CTRL store starts or
stops it) at the store's own cycle alike. So ``t0 = CYCCNT; work(); t1 = CYCCNT`` gives
``t1 - t0`` = the cycles of ``work()`` and of the second load, whatever the blocks.
CTRL reads NUMCOMP = 4 (bits 31:28) and CYCCNTENA. The comparators, the other profiling
counters (CPICNT, EXCCNT, SLEEPCNT, LSUCNT, FOLDCNT) and PCSR are not modelled: they read back
what was written and are listed in the report. On ARMv6-M (the Cortex-M0+) the DWT has no
cycle counter: CTRL reads NUMCOMP = 2 and NOCYCCNT, CYCCNT reads 0 and ignores writes.
"""

from sim.devices import Device, lane

DWT_BASE = 0xE000_1000
CTRL, CYCCNT = 0x000, 0x004
NUMCOMP = 4 << 28
V6M_CTRL = 2 << 28 | 1 << 25  # two comparators, NOCYCCNT


class DataWatchpointTrace(Device):
    name = "dwt"
    base = DWT_BASE
    size = 0x1000

    keeps_events = True

    def system_reset(self, cause: str) -> None:
        """The debug unit is reset at power-on only: a reset of the part leaves it counting
        (not the wake-up from Stand-by, where it is off)."""
        if cause == "standby":
            self.reset()

    def reset(self) -> None:
        self._regs: dict[int, int] = {}
        self.ctrl = 0
        self._count = 0  # CYCCNT at _since (active cycles)
        self._since = 0
        self._v6m = self.host.core.architecture == "armv6-m"  # (no CYCCNT; looked up once)

    def _counting(self) -> bool:
        return bool(self.ctrl & 1) and self.host.trace_enabled() and not self._v6m

    def _cyccnt(self) -> int:
        if self._counting():
            return (self._count + self.host.active_cycles() - self._since) & 0xFFFFFFFF
        return self._count

    def _freeze(self) -> None:
        self._count = self._cyccnt()
        self._since = self.host.active_cycles()

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word == CTRL:
            value = V6M_CTRL if self._v6m else NUMCOMP | (self.ctrl & 1)
        elif word == CYCCNT:
            value = 0 if self._v6m else self._cyccnt()
        else:
            self.host.unmodelled(self, offset, size, None)
            value = self._regs.get(word, 0)
        return lane(value, offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == CTRL:
            self._freeze()
            self.ctrl = value
        elif word == CYCCNT:
            if not self._v6m:
                self._count = value & 0xFFFFFFFF
                self._since = self.host.active_cycles()
        else:
            self.host.unmodelled(self, offset, size, value)
            self._regs[word] = value

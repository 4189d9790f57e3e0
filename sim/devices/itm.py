"""The Instrumentation Trace Macrocell (0xE0000000, 4 KiB): stimulus port 0 to the console.

A store to STIM0 (any width; its bytes, least significant first) is console output, like a
semihosting write, while DEMCR.TRCENA, TCR.ITMENA (0xE80 bit 0) and TER bit 0 (0xE00) are set;
a load from STIM0 reads 1 (FIFO ready) then, 0 otherwise, so CMSIS ``ITM_SendChar`` works. TER,
TPR, TCR and LAR read back what was written; other ports and registers are not modelled (listed
in the report).
"""

from sim.devices import Device, lane

ITM_BASE = 0xE000_0000
STIM0, TER, TPR, TCR, LAR = 0x000, 0xE00, 0xE40, 0xE80, 0xFB0


class InstrumentationTrace(Device):
    name = "itm"
    base = ITM_BASE
    size = 0x1000

    keeps_events = True

    def system_reset(self, cause: str) -> None:
        """Reset at power-on only (and off in Stand-by), as the DWT."""
        if cause == "standby":
            self.reset()

    def reset(self) -> None:
        self._regs: dict[int, int] = {}

    def _port0_on(self) -> bool:
        return (self.host.trace_enabled() and bool(self._regs.get(TCR, 0) & 1)
                and bool(self._regs.get(TER, 0) & 1))

    def read(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word == STIM0:
            return 1 if self._port0_on() else 0
        if word not in (TER, TPR, TCR, LAR):
            self.host.unmodelled(self, offset, size, None)
        value = self._regs.get(word, 0)
        return lane(value, offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == STIM0:
            if self._port0_on():
                self.host.console_write((value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            return
        if word not in (TER, TPR, TCR, LAR):
            self.host.unmodelled(self, offset, size, value)
        self._regs[word] = value

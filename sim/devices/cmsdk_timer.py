"""The two CMSDK APB timers of the mps2-an385 board: TIMER0 at 0x40000000 (IRQ 8) and TIMER1
at 0x40001000 (IRQ 9), each a 32-bit down-counter clocked by the core clock (on MPS2 the APB
clock equals it), as in Arm's Cortex-M System Design Kit TRM (DDI 0479) and QEMU's model.

CTRL 0x00: EN (bit 0) counts; INTEN (bit 3) lets the count reaching zero raise the interrupt;
SELEXTEN and SELEXTCLK (bits 1, 2: the EXTIN pin as enable or clock) read back, and with either
set the timer does not count (nothing drives EXTIN here). VALUE 0x04: the current count, which
a write sets. RELOAD 0x08: a write sets the reload value and the count. INTSTATUS/INTCLEAR
0x0C: bit 0 set when the count goes from 1 to 0 with INTEN set; write one to clear.

Counting: while enabled the count drops by one per cycle (sleep included); on reaching 0 it
stays there one cycle and then reloads, so with RELOAD = R the interrupt comes every R + 1
cycles. With RELOAD 0 the timer stops at 0 (one shot). A count written as 0 reloads without an
interrupt. The interrupt line is level-sensitive and follows INTSTATUS: a handler that does
not clear it is entered again as soon as it returns, as on the chip. The PrimeCell ID
registers (0xFD0-0xFFC) read their CMSDK values; any other offset is listed in the report.
"""

from sim.devices import Device

NEVER = 1 << 64
CTRL, VALUE, RELOAD, INTSTATUS = 0x00, 0x04, 0x08, 0x0C
EN, SELEXTEN, SELEXTCLK, INTEN = 1, 2, 4, 8
# PID4-PID7, PID0-PID3, CID0-CID3 from 0xFD0: the CMSDK APB timer's identification
_IDS = (0x04, 0x00, 0x00, 0x00, 0x22, 0xB8, 0x1B, 0x00, 0x0D, 0xF0, 0x05, 0xB1)
_ID_BASE = 0xFD0
MASK32 = 0xFFFF_FFFF


class CmsdkTimer(Device):
    """One timer; the subclasses give its address and interrupt line."""

    size = 0x1000
    irq: int

    def reset(self) -> None:
        self.ctrl = 0
        self.reload = 0
        self.intstatus = 0
        self._count = 0  # the count at cycle self._since (frozen while not counting)
        self._since = 0
        self._next_zero = NEVER  # the 1 -> 0 step that sets INTSTATUS next (NEVER: none can)
        self._regs: dict[int, int] = {}

    # --- time ---------------------------------------------------------------------------------
    @property
    def _counting(self) -> bool:
        return self.ctrl & (EN | SELEXTEN | SELEXTCLK) == EN

    def _count_at(self, now: int) -> int:
        """The count at cycle ``now`` (counting since ``self._since`` from ``self._count``)."""
        elapsed = now - self._since
        if not self._counting or elapsed < self._count:
            return self._count - (elapsed if self._counting else 0)
        if self.reload == 0:
            return 0  # reached 0 and stays there
        # after the first zero: 0 for one cycle, then RELOAD, RELOAD - 1, ..., 0 again
        into = (elapsed - self._count) % (self.reload + 1)
        return 0 if into == 0 else self.reload + 1 - into

    def _zero_after(self, after: int) -> int:
        """The first cycle after ``after`` at which the count goes from 1 to 0 (NEVER: none):
        ``count`` cycles from the base, then every RELOAD + 1 (a count written as 0 reloads
        first, without a step)."""
        if not self._counting:
            return NEVER
        first = self._since + (self._count if self._count else self.reload + 1)
        if not self._count and not self.reload:
            return NEVER
        if first > after:
            return first
        if not self.reload:
            return NEVER
        period = self.reload + 1
        return first + period * ((after - first) // period + 1)

    def _schedule(self) -> None:
        """Plan the next step that changes something: only while INTEN is set and INTSTATUS
        clear (a step sets it; once set, more steps change nothing), so a timer that cannot
        interrupt costs nothing and never wakes a sleeping core."""
        now = self.host.exceptions.now
        self._next_zero = (self._zero_after(now) if self.ctrl & INTEN and not self.intstatus
                           else NEVER)
        at = None if self._next_zero == NEVER else self._next_zero
        self.host.exceptions.set_timer(self, at, self._catch_up)

    def _catch_up(self) -> None:
        """The planned step, when it has come: INTSTATUS set and the line raised."""
        if self._next_zero > self.host.exceptions.now:
            return
        self._next_zero = NEVER
        self.intstatus = 1
        self.host.set_irq_level(self.irq, True)
        self._schedule()

    def _rebase(self, count: int) -> None:
        """The count is ``count`` now (a write, a start or a stop)."""
        self._count, self._since = count & MASK32, self.host.exceptions.now
        self._schedule()

    # --- registers ----------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        self._catch_up()
        if offset == CTRL:
            return self.ctrl
        if offset == VALUE:
            return self._count_at(self.host.exceptions.now)
        if offset == RELOAD:
            return self.reload
        if offset == INTSTATUS:
            return self.intstatus
        if _ID_BASE <= offset < _ID_BASE + 4 * len(_IDS) and offset % 4 == 0:
            return _IDS[(offset - _ID_BASE) // 4]
        self.host.unmodelled(self, offset, size, None)
        return self._regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int) -> None:
        self._catch_up()
        now = self.host.exceptions.now
        if offset == CTRL:
            count = self._count_at(now)
            self.ctrl = value & 0xF
            self._rebase(count)
        elif offset == VALUE:
            self._rebase(value)
        elif offset == RELOAD:
            self.reload = value & MASK32
            self._rebase(value)
        elif offset == INTSTATUS:
            if value & 1 and self.intstatus & 1:
                self.intstatus = 0
                self.host.set_irq_level(self.irq, False)
                self._schedule()
        elif _ID_BASE <= offset < _ID_BASE + 4 * len(_IDS):
            pass  # read-only identification
        else:
            self.host.unmodelled(self, offset, size, value)
            self._regs[offset] = value


class CmsdkTimer0(CmsdkTimer):
    name = "cmsdk_timer0"
    base = 0x4000_0000
    irq = 8


class CmsdkTimer1(CmsdkTimer):
    name = "cmsdk_timer1"
    base = 0x4000_1000
    irq = 9

"""The STM32L0x1's window watchdog WWDG (RM0377, section 26), as STM32CubeL0's HAL_WWDG_Init,
HAL_WWDG_Refresh and HAL_WWDG_IRQHandler drive it: firmware that refreshes it too late, or too
early (before the window opens), is reset by it on the chip, and here (status ``reset``, or
with ``--allow-resets`` the firmware starting again with RCC_CSR.WWDGRSTF set).

CR (0x00): T[6:0], the 7-bit down-counter (reset 0x7F), and WDGA, which starts the watchdog
(set by software, cleared only by a reset). CFR (0x04): W[6:0] the window (reset 0x7F),
WDGTB[1:0] (bits 7-8) the prescaler, EWI (bit 9) the early wake-up interrupt (set only, cleared
by a reset). SR (0x00 + 8): EWIF, set when the counter reaches 0x40 (whether or not EWI is
set), cleared by writing 0.

The counter counts down once every 4096 x 2^WDGTB cycles of PCLK1 (the core's clock divided by
RCC_CFGR.PPRE1), free-running from reset (modulo 0x80) whether or not WDGA is set. With WDGA
set the part is reset when the counter passes from 0x40 to 0x3F (T6 clears), when CR is written
with T6 clear, or when CR is written (a refresh) while the counter is still above the window W.
The interrupt (IRQ 0, WWDG) is a level: EWIF with EWI; its handler refreshes the watchdog in
time or saves what it must before the reset. Like the part's other peripherals it works only
while its RCC clock is on (APB1ENR WWDGEN, bit 11; APB1RSTR resets it: sim.devices.stm32l0
.Clocked), and it stops in Stop mode with PCLK1. Not modelled: the debug freeze (DBGMCU).
"""

from sim.devices.stm32l0 import Clocked
from sim.devices.timeline import Timeline

WWDG_BASE = 0x4000_2C00
CR, CFR, SR = 0x00, 0x04, 0x08
WDGA, T6 = 1 << 7, 1 << 6
EWI = 1 << 9
EWIF = 1
APB1ENR = 0x38
IRQ = 0
TICK = 4096  # PCLK1 cycles a count, times 2^WDGTB


class Stm32l0Wwdg(Clocked):
    name, base, size = "stm32l0_wwdg", WWDG_BASE, 0x400
    clock = (APB1ENR, 11)

    def reset(self) -> None:
        super().reset()
        self.active = False  # WDGA
        self.cfr = 0x7F
        self.ewif = False
        self._t0 = 0x7F  # the counter at the line's base
        self._ewi_done = False  # EWIF set for the 0x40 after the base
        self._line = Timeline(self.host.clock_hz, self.host.exceptions.now)
        self._retime()
        self.host.exceptions.set_timer(self, None, self._event)

    # --- the counter ----------------------------------------------------------------------------
    def _divider(self) -> int:
        return TICK << (self.cfr >> 7 & 3)

    def _pclk1_hz(self) -> int:
        if not self.clocked():
            return 0
        div = 1 if self._rcc is None else self._rcc.apb_divider(1)
        return self.host.clock_hz // div

    def _retime(self) -> None:
        self._line.retime(self._pclk1_hz(), self.host.clock_hz, self.host.exceptions.now)

    def _steps(self, now: int) -> int:
        """Counts down since the base."""
        return self._line.at(now) // self._divider()

    def counter(self, now: int) -> int:
        """T[6:0] at core cycle ``now``."""
        return (self._t0 - self._steps(now)) & 0x7F

    def _rebase(self, value: int, now: int, ewi_done: bool = False) -> None:
        """The counter at ``value`` from ``now`` (a write of CR, a new prescaler); ``ewi_done``:
        its 0x40 is behind it (EWIF set for it already)."""
        self._line = Timeline(self.host.clock_hz, now)
        self._line.retime(self._pclk1_hz(), self.host.clock_hz, now)
        self._t0 = value & 0x7F
        self._ewi_done = ewi_done or self._t0 < 0x40
        self._plan()

    def _plan(self) -> None:
        """The next event: the counter reaching 0x40 (EWIF), then with WDGA passing it (the
        reset)."""
        at = None
        if self._line.hz and self._t0 >= 0x40 and (self.active or not self._ewi_done):
            steps = self._t0 - (0x3F if self._ewi_done else 0x40)
            at = self._line.cycle_of(steps * self._divider())
        self.host.exceptions.set_timer(self, at, self._event)

    def _event(self) -> None:
        now = self.host.exceptions.now
        steps = self._steps(now)
        if not self._ewi_done and steps >= self._t0 - 0x40:
            self._ewi_done = True
            self.ewif = True
            self._drive()
        if self.active and self._t0 >= 0x40 and steps >= self._t0 - 0x3F:
            self._fire(f"its counter passed 0x40 (T6 cleared) {self._since(now)}")
            return
        self._plan()

    def _since(self, now: int) -> str:
        """How long since the last refresh, in device time at PCLK1 (for the message)."""
        hz = self._line.hz
        if not hz:
            return ""
        ms = self._line.at(now) / hz * 1e3
        return f"{ms:,.3f} ms after its last refresh (prescaler {self._divider():,})"

    def _fire(self, why: str) -> None:
        self.host.exceptions.set_timer(self, None, self._event)
        self.host.request_reset(f"the window watchdog (WWDG) reset the part: {why}",
                                "window_watchdog")

    def _drive(self) -> None:
        self.host.set_irq_level(IRQ, self.ewif and bool(self.cfr & EWI), self)

    def settle(self) -> None:
        self._line.rebase(self.host.exceptions.now)

    def restart(self) -> None:
        """PCLK1 changed (or stopped): the counter goes on at the new rate."""
        self._retime()
        self._plan()

    # --- registers ------------------------------------------------------------------------------
    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        now = self.host.exceptions.now
        value = {CR: self.counter(now) | (WDGA if self.active else 0), CFR: self.cfr,
                 SR: EWIF if self.ewif else 0}.get(word)
        if value is None:
            self.host.unmodelled(self, offset, size, None)
            value = 0
        return (value >> (8 * (offset & 3))) & ((1 << (8 * size)) - 1)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        now = self.host.store_cycle()
        value = (value << (8 * (offset & 3))) & 0xFFFF_FFFF
        if word == CR:
            current = self.counter(now)
            window = self.cfr & 0x7F
            was = self.active
            self.active = was or bool(value & WDGA)
            if was and current > window:
                self._fire(f"refreshed with its counter at 0x{current:02x}, above the window "
                           f"(W 0x{window:02x})")
                return
            if self.active and not value & T6:
                self._fire(f"CR written with T6 clear (0x{value & 0x7F:02x})")
                return
            self._rebase(value & 0x7F, now)
        elif word == CFR:
            value_now = self.counter(now)
            self.cfr = (value & 0x3FF) | (self.cfr & EWI)  # EWI: set only
            # (the counts so far at the old prescaler, the next at the new)
            self._rebase(value_now, now, self._ewi_done)
            self._drive()
        elif word == SR:
            if not value & EWIF:
                self.ewif = False
                self._drive()
        else:
            self.host.unmodelled(self, offset, size, value)


DEVICES = (Stm32l0Wwdg,)

"""The STM32L0x1's window watchdog WWDG (RM0377, section 26), as STM32CubeL0's HAL_WWDG_Init,
HAL_WWDG_Refresh and HAL_WWDG_IRQHandler drive it: firmware that refreshes it too late, or too
early (before the window opens), is reset by it on the chip, and here (status ``reset``, or
with ``--allow-resets`` the firmware starting again with RCC_CSR.WWDGRSTF set).

CR (0x00): T[6:0], the 7-bit down-counter (reset 0x7F), and WDGA, which starts the watchdog
(set by software, cleared only by a reset). CFR (0x04): W[6:0] the window (reset 0x7F),
WDGTB[1:0] (bits 7-8) the prescaler, EWI (bit 9) the early wake-up interrupt (set only, cleared
by a reset). SR (0x08): EWIF, set each time the counter reaches 0x40 (whether or not EWI is
set; a counter written as 0x40 has not reached it), cleared by writing 0.

The counter counts down once every 4096 x 2^WDGTB cycles of PCLK1 (the core's clock divided by
RCC_CFGR.PPRE1), free-running from reset (modulo 0x80) whether or not WDGA is set. With WDGA
set the part is reset when the counter passes from 0x40 to 0x3F (T6 clears), when CR is written
with T6 clear, or when CR is written (a refresh) while the counter is still above the window W.
The interrupt (IRQ 0, WWDG) is a level: EWIF with EWI; its handler refreshes the watchdog in
time or saves what it must before the reset. Like the part's other peripherals it works only
while its RCC clock is on (APB1ENR WWDGEN, bit 11; APB1RSTR resets it: sim.devices.stm32l0
.Clocked), and it stops in Stop mode with PCLK1. Not modelled: the debug freeze (DBGMCU).
"""

from sim.devices import lane
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
        self._ewi_at = 0x3F  # counts from the base to the next 0x40 (EWIF)
        self._line = Timeline(self.host.clock_hz, self.host.exceptions.now)
        self._retime(self.host.exceptions.now)
        self.host.exceptions.set_timer(self, None, self._event)

    # --- the counter ----------------------------------------------------------------------------
    def _divider(self) -> int:
        return TICK << (self.cfr >> 7 & 3)

    def _pclk1_hz(self) -> int:
        if not self.clocked():
            return 0
        div = 1 if self._rcc is None else self._rcc.apb_divider(1)
        return self.host.clock_hz // div

    def _retime(self, now: int) -> None:
        self._line.retime(self._pclk1_hz(), self.host.clock_hz, now)

    def _steps(self, now: int) -> int:
        """Counts down since the base."""
        return self._line.at(max(now, self._line.base)) // self._divider()

    def counter(self, now: int) -> int:
        """T[6:0] at core cycle ``now``."""
        return (self._t0 - self._steps(now)) & 0x7F

    def _rebase(self, value: int, now: int, ewi_at: int | None = None) -> None:
        """The counter at ``value`` from ``now`` (a write of CR, a new prescaler), the next 0x40
        ``ewi_at`` counts on (default: as the counter gets there from ``value``, counting down
        and wrapping; 0x40 itself is behind it)."""
        self._line = Timeline(self.host.clock_hz, now)
        self._line.retime(self._pclk1_hz(), self.host.clock_hz, now)
        self._t0 = value & 0x7F
        self._ewi_at = (self._t0 - 0x41) % 0x80 + 1 if ewi_at is None else ewi_at
        self._plan()

    def _reset_at(self) -> int | None:
        """Counts from the base to the reset (the counter passing 0x40), with WDGA."""
        return self._t0 - 0x3F if self.active and self._t0 >= 0x40 else None

    def _plan(self) -> None:
        """The next event: the counter reaching 0x40 (EWIF), or passing it with WDGA (the
        reset). It wakes the core only when it may reset the part or raise the interrupt (EWI
        with EWIF clear): the counter of a watchdog not started wraps for ever, and its EWIF
        alone (or one already set) wakes nothing."""
        at = None
        if self._line.hz:
            steps = min(x for x in (self._ewi_at, self._reset_at()) if x is not None)
            at = self._line.cycle_of(steps * self._divider())
        wakes = self.active or bool(self.cfr & EWI and not self.ewif)
        self.host.exceptions.set_timer(self, at, self._event, wakes=wakes)

    def _catch_up(self, now: int) -> bool:
        """EWIF and the reset, as far as they are due at ``now``; True when the part was
        reset (before a register access: a store in the block where it fell due)."""
        steps = self._steps(now)
        while steps >= self._ewi_at:
            self.ewif = True
            self._ewi_at += 0x80  # (free-running: the next pass, a wrap later)
            self._drive()
        reset_at = self._reset_at()
        if reset_at is not None and steps >= reset_at:
            self._fire(f"its counter passed 0x40 (T6 cleared), {steps} counts of "
                       f"{self._divider():,} PCLK1 cycles after it was last written")
            return True
        return False

    def _event(self) -> None:
        if not self._catch_up(self.host.exceptions.now):
            self._plan()

    def _fire(self, why: str) -> None:
        self.host.exceptions.set_timer(self, None, self._event)
        self.host.request_reset(f"the window watchdog (WWDG) reset the part: {why}",
                                "window_watchdog")

    def _drive(self) -> None:
        self.host.set_irq_level(IRQ, self.ewif and bool(self.cfr & EWI), self)

    def settle(self) -> None:
        self._line.rebase(max(self.host.store_cycle(), self._line.base))

    def restart(self) -> None:
        """PCLK1 changed (or stopped), or the RCC reset it: the counter goes on at the new
        rate from the change's store, the line as its flag is."""
        self._retime(max(self.host.store_cycle(), self._line.base))
        self._drive()
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
        return lane(value, offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        now = max(self.host.store_cycle(), self._line.base)
        if self._catch_up(now):  # (due before this store, in its block)
            return
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
            new = (value & 0x3FF) | (self.cfr & EWI)  # EWI: set only
            if (new ^ self.cfr) >> 7 & 3:  # a new prescaler: the counts so far at the old one
                steps = self._steps(now)
                value_now = (self._t0 - steps) & 0x7F
                self.cfr = new
                self._rebase(value_now, now, self._ewi_at - steps)
            else:
                self.cfr = new
            self._drive()
            self._plan()  # (EWI set: its events may wake the core now)
        elif word == SR:
            if not value & EWIF:
                self.ewif = False
                self._drive()
                self._plan()
        else:
            self.host.unmodelled(self, offset, size, value)


DEVICES = (Stm32l0Wwdg,)

"""The STM32L0x1's independent watchdog IWDG (RM0377, section 25): firmware that starts it and
then stops refreshing it (a hung loop, a missed deadline) is reset by it on the chip, and here
the run stops as for a reset the firmware asks for (status ``reset``, exit 1), its fault
saying when the watchdog fired and how long it had gone without a refresh. STM32CubeL0's
HAL_IWDG_Init and HAL_IWDG_Refresh drive it.

KR (0x00) takes keys: 0xCCCC starts the watchdog (for good: only a reset stops it; the LSI runs
for it), 0xAAAA reloads the counter with RLR (a refresh), 0x5555 lets PR, RLR and WINR be
written (any other key, and a refresh, locks them again; a locked write is ignored and
listed). The counter counts down from RLR (12 bits, reset 0xFFF) at the LSI's 37 kHz divided
by 4 x 2^PR (PR 6 and 7: 256), awake, asleep and in Stop mode, not gated by the RCC; it resets
the part when it has counted RLR + 1 (RM0377's timeout: (RLR + 1) x 4 x 2^PR LSI periods). A
new PR takes effect at once, a new RLR at the next reload. WINR (reset 0xFFF) is the window: a
refresh while the counter is above it resets the part; writing WINR reloads the counter
without that check (STM32CubeL0 writes it last in HAL_IWDG_Init). SR's PVU, RVU and WVU are
set for 5 LSI periods after a write of PR, RLR or WINR (the update crossing to the LSI's
domain, which HAL_IWDG_Init waits for); a write while its flag is set is ignored and listed.
Not modelled: the hardware watchdog option (IWDG_SW in the option bytes) and the debug freeze
(DBGMCU).
"""

from sim.clocks import format_hz
from sim.devices import lane
from sim.devices.stm32l0 import Clocked
from sim.devices.timeline import Timeline

IWDG_BASE = 0x4000_3000
KR, PR, RLR, SR, WINR = range(0, 0x14, 4)
START, RELOAD, UNLOCK = 0xCCCC, 0xAAAA, 0x5555
LSI_HZ = 37_000  # the LSI (as the RTC and LPTIM1 take it)
UPDATE_LSI = 5  # LSI periods a PR, RLR or WINR write takes to reach the counter's domain
_FLAG = {PR: 1, RLR: 2, WINR: 4}  # SR: PVU, RVU, WVU
_MASK = {PR: 0x7, RLR: 0xFFF, WINR: 0xFFF}


class Stm32l0Iwdg(Clocked):
    name, base, size = "stm32l0_iwdg", IWDG_BASE, 0x400
    clock = (0, 0)  # (none: the LSI, not an RCC enable; see _bits)

    def reset(self) -> None:
        super().reset()
        self.running = False
        self.unlocked = False
        self._regs = {PR: 0, RLR: 0xFFF, WINR: 0xFFF}
        self._reload = 0xFFF  # the value the counter counts down from
        self._busy: dict[int, int] = {}  # register -> the core cycle its update is done
        # LSI periods against the core's cycles (hz 0 before the start), from the last refresh
        # or prescaler change on; the prescaled counts and LSI periods before that
        self._line = Timeline(self.host.clock_hz, self.host.exceptions.now)
        self._done = 0
        self._lsi_before = 0
        self.host.exceptions.set_timer(self, None, self._expire)

    def _bits(self) -> tuple[bool, bool]:
        return True, False  # clocked by the LSI whatever the RCC's enables say

    def runs_in_stop(self) -> bool:
        return True

    def runs_in_standby(self) -> bool:
        return True

    # --- the counter ---------------------------------------------------------------------------
    def _divider(self) -> int:
        """LSI periods a count: 4 x 2^PR (PR 6 and 7: 256)."""
        return 4 << min(self._regs[PR], 6)

    def _counted(self, now: int) -> int:
        """Counts down from the reload value by core cycle ``now``."""
        return self._done + self._line.at(now) // self._divider()

    def _restart_line(self, now: int) -> None:
        """The LSI periods counted from ``now`` (its clock running once started)."""
        self._line = Timeline(self.host.clock_hz, now)
        self._line.retime(LSI_HZ if self.running else 0, self.host.clock_hz, now)

    def _reload_counter(self, now: int) -> None:
        """The counter from the reload value at ``now``."""
        self._done = self._lsi_before = 0
        self._restart_line(now)
        self._plan()

    def _plan(self) -> None:
        """The reset when the counter has counted RLR + 1 (RM0377's timeout table)."""
        left = (self._reload + 1 - self._done) * self._divider()
        at = self._line.cycle_of(left) if self.running else None
        self.host.exceptions.set_timer(self, at, self._expire)

    def _expire(self) -> None:
        self._fire("its counter reached 0")

    def _fire(self, why: str) -> None:
        now = self.host.exceptions.now
        quiet = (self._lsi_before + self._line.at(now)) / LSI_HZ * 1e3  # in LSI time
        self.running = False
        self.host.exceptions.set_timer(self, None, self._expire)
        timeout = (self._reload + 1) * self._divider() / LSI_HZ * 1e3
        self.host.request_reset(
            f"the independent watchdog (IWDG) reset the part: {why}, {quiet:,.3f} ms after "
            f"its last refresh (RLR {self._reload}, PR {self._regs[PR]}: a timeout of "
            f"{timeout:,.1f} ms at {format_hz(LSI_HZ)} LSI)", "watchdog")

    def settle(self) -> None:
        self._line.rebase(self.host.exceptions.now)

    def restart(self) -> None:
        """The core's clock changed: the counter goes on in LSI time."""
        now = self.host.exceptions.now
        self._line.retime(LSI_HZ if self.running else 0, self.host.clock_hz, now)
        self._plan()

    # --- registers -----------------------------------------------------------------------------
    def _updating(self, now: int) -> int:
        """SR: the PR, RLR and WINR updates still crossing to the LSI's domain."""
        self._busy = {reg: done for reg, done in self._busy.items() if done > now}
        return sum(_FLAG[reg] for reg in self._busy)

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        value = (self._updating(self.host.exceptions.now) if word == SR
                 else self._regs.get(word, 0))
        if word not in (KR, PR, RLR, SR, WINR):
            self.host.unmodelled(self, offset, size, None)
        return lane(value, offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        now = self.host.store_cycle()
        word = offset & ~3
        if word == KR:
            key = value & 0xFFFF
            self.unlocked = key == UNLOCK
            if key == START and not self.running:
                others = [] if self._rcc is None else [  # (the LSI starts with it: what
                    dev for dev in self._rcc.gated.values() if dev is not self]  # takes it
                for dev in others:  # goes on from now, as at RCC_CSR.LSION)
                    dev.settle()
                self.running = True
                self._reload_counter(now)
                for dev in others:
                    dev.restart()
            elif key == RELOAD and self.running:
                self._refresh(now)
        elif word in _MASK:
            if not self.unlocked or self._updating(now) & _FLAG[word]:
                why = ("ignored: locked (IWDG_KR 0x5555 first)" if not self.unlocked else
                       "ignored: the previous update is still under way (IWDG_SR)")
                self.host.unmodelled(self, offset, size, value, why)
                return
            if word == PR and self.running:  # the counts so far at the old prescaler
                self._done = self._counted(now)
                self._lsi_before += self._line.at(now)
                self._restart_line(now)
            self._regs[word] = value & _MASK[word]
            lsi_cycles = round(UPDATE_LSI * self.host.clock_hz / LSI_HZ)
            self._busy[word] = now + lsi_cycles
            if word == WINR and self.running:  # (RM0377: writing WINR reloads the counter,
                self._reload = self._regs[RLR]  # with no window check)
                self._reload_counter(now)
            elif self.running:
                self._plan()
        elif word != SR:
            self.host.unmodelled(self, offset, size, value)

    def _refresh(self, now: int) -> None:
        """0xAAAA: the counter from RLR again; above the window, a reset."""
        counter = max(0, self._reload - self._counted(now))
        window = self._regs[WINR]
        if window < 0xFFF and counter > window:
            self._fire(f"refreshed with its counter at {counter}, above the window (WINR "
                       f"{window})")
            return
        self._reload = self._regs[RLR]
        self._reload_counter(now)


DEVICES = (Stm32l0Iwdg,)

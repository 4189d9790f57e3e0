"""A peripheral's own clock counted against the core's cycles: what the STM32L0's RTC (RTCCLK)
and LPTIM1 (its kernel clock) count with, while the core's clock and theirs may change.

:class:`Timeline` counts ``hz`` clock cycles a second while the core runs ``core`` cycles a
second, exactly (integers, the part of a count carried as a remainder in 1/``core`` of one), and
goes on from where it is when either rate changes; at ``hz`` 0 it stands still.
"""


class Timeline:
    def __init__(self, core: int, now: int) -> None:
        self.hz = 0  # counts a second; 0: stopped
        self.core = core  # the core's cycles a second the counting is measured in
        self.base = now  # the core cycle at which the timeline was at ``count``
        self.count = 0
        self.rem = 0  # and the part of a count past it, in 1 / core of one

    def at(self, now: int) -> int:
        """The counts at core cycle ``now``."""
        if not self.hz:
            return self.count
        return self.count + (self.rem + (now - self.base) * self.hz) // self.core

    def cycle_of(self, count: int) -> int:
        """The first core cycle at which the timeline reaches ``count`` (while counting; the
        base for a count already reached)."""
        need = (count - self.count) * self.core - self.rem
        return self.base + max(0, -(-need // self.hz))

    def rebase(self, now: int) -> None:
        """The base at ``now``, the part of a count kept."""
        if self.hz and now != self.base:
            total = self.rem + (now - self.base) * self.hz
            self.count += total // self.core
            self.rem = total % self.core
        self.base = now

    def retime(self, hz: int, core: int, now: int) -> bool:
        """Go on at ``hz`` counts a second, the core at ``core`` cycles, from where the timeline
        is at ``now`` (a new ``hz`` starts a whole count there; a new core clock keeps the part
        of one); False when neither changed (nothing is lost to a call that changes nothing)."""
        if hz == self.hz and core == self.core:
            return False
        self.rebase(now)
        self.rem = self.rem * core // self.core if hz == self.hz else 0
        self.hz, self.core = hz, core
        return True

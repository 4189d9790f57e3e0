"""The resets of the part during a run (a watchdog's, the firmware's SYSRESETREQ, the wake-up
from Stand-by), as the report lists them.

A reset the firmware or a watchdog causes ends the run (status ``reset``) unless the run allows
it (``allow_resets``: so many of them restart the firmware at its reset vector, as the chip
does); a wake-up from Stand-by is the part's way of waking from that mode, so it always goes on.
"""

from collections import Counter, deque
from dataclasses import dataclass

KEEP = 100  # resets kept for the report at each end of a run: the first and the last ones
MAX_RESETS = 1_000_000  # the most a run may allow (allow_resets)
# the causes: what asked for it
SOFTWARE, WATCHDOG, WINDOW_WATCHDOG, STANDBY = (
    "software", "watchdog", "window_watchdog", "standby")
CAUSES = (SOFTWARE, WATCHDOG, WINDOW_WATCHDOG, STANDBY)


@dataclass(frozen=True)
class Reset:
    """One reset: at ``cycle`` (since the run's start, sleep included), ``seconds`` of device
    time; ``cause`` one of CAUSES; ``message`` says what caused it; ``sram_lost``: it came
    out of Stand-by, where the SRAM is off (its contents are gone)."""

    cycle: int
    seconds: float
    cause: str
    message: str
    sram_lost: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"cycle": self.cycle, "time_ms": self.seconds * 1e3, "cause": self.cause,
                "message": self.message, "sram_lost": self.sram_lost}


class ResetLog:
    """A run's resets: the first and last KEEP, and how many of each cause."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._first: list[Reset] = []
        self._last: deque[Reset] = deque(maxlen=KEEP)

    def add(self, reset: Reset) -> None:
        self.counts[reset.cause] += 1
        (self._first if len(self._first) < KEEP else self._last).append(reset)

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    @property
    def allowed_used(self) -> int:
        """Resets the run's allowance (allow_resets) has paid for: all but Stand-by's."""
        return self.count - self.counts[STANDBY]

    def kept(self) -> list[Reset]:
        return self._first + list(self._last)


def reset_rows(resets: list[Reset], counts: dict[str, int]) -> list[tuple[str, str, str]]:
    """The report's summary rows (name, value, note): how many resets of each cause, and the
    last one's time and cause; none without a reset."""
    if not resets:
        return []
    parts = [_NAMES[c].format(n=counts[c], s="" if counts[c] == 1 else "s")
             for c in CAUSES if counts.get(c)]
    last = resets[-1]
    return [("resets", f"{sum(counts.values()):,}",
             f"{', '.join(parts)}: the firmware started again at its reset vector"),
            ("", "", f"the last at {last.seconds * 1e3:,.3f} ms: {last.message}")]


_NAMES = {SOFTWARE: "{n:,} by the firmware (SYSRESETREQ)",
          WATCHDOG: "{n:,} by the independent watchdog",
          WINDOW_WATCHDOG: "{n:,} by the window watchdog",
          STANDBY: "{n:,} wake-up{s} from Stand-by"}

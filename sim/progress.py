"""Progress of long commands, in a terminal and in a CI log.

In a terminal, a rich progress bar. When stderr is not a terminal (a CI log, a pipe) rich
draws nothing until the end, so a job looks hung: there a plain line is printed at a steady
pace instead, at most every ``interval`` seconds (default 5, ``EBNN_PROGRESS_SECONDS`` to
change it) and once at the end, e.g. ``verifying: 3,000/10,000 (30%), 12 s, about 28 s left``.
"""

from __future__ import annotations

import math
import os
import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

DEFAULT_INTERVAL = 5.0


def _interval() -> float:
    try:
        value = float(os.environ.get("EBNN_PROGRESS_SECONDS", DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL
    return value if math.isfinite(value) and value >= 0 else DEFAULT_INTERVAL


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ProgressLine:
    """``with ProgressLine(console, "verifying", total) as p: p.update(advance=1)``."""

    def __init__(self, console: Console, description: str, total: int | None = None, *,
                 transient: bool = False, interval: float | None = None) -> None:
        self.console = console
        self.description = description
        self.total = total
        self.completed = 0
        self._interval = _interval() if interval is None else interval
        self._start = self._last = 0.0
        self._printed_at: int | None = None
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                                 transient=transient)

    def __enter__(self) -> ProgressLine:
        self._start = self._last = time.monotonic()
        if self._bar is not None:
            self._bar.__enter__()
            self._task = self._bar.add_task(escape(self.description), total=self.total)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)
        elif kind is None and self._printed_at != self.completed:
            self._line()

    def update(self, completed: int | None = None, *, advance: int = 0, total: int | None = None,
               description: str | None = None) -> None:
        if completed is not None:
            self.completed = completed
        self.completed += advance
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.completed, total=self.total,
                             description=escape(self.description))
            return
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._line()

    def text(self) -> str:
        """The plain progress line for the current state."""
        elapsed = time.monotonic() - self._start
        done = f"{self.completed:,}"
        left = ""
        if self.total:
            done += f"/{self.total:,} ({100 * self.completed / self.total:.0f}%)"
            if 0 < self.completed < self.total:
                rest = elapsed * (self.total - self.completed) / self.completed
                left = f", about {_duration(rest)} left"
        return f"{self.description}: {done}, {_duration(elapsed)}{left}"

    def _line(self) -> None:
        self._printed_at = self.completed
        self.console.print(escape(self.text()), highlight=False, soft_wrap=True)

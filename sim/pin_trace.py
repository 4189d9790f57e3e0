"""The part's GPIO pins over a run: each pin's level changes, for the report's ``pins`` and a
waveform file (``--vcd``) a logic-analyser viewer (GTKWave, PulseView) opens.

A pin is at 0, at 1, or at no level (None: an analog pin, or an input nobody drives and no pull
resistor holds). The trace keeps, per pin that changed or was driven during the run, its
changes (rising: to 1, falling: from 1), the time it spent at 1 and its level at the end; with
a waveform asked for, also each change's time, the first MAX_CHANGES of them (a pin toggled
for ever must not fill the host's memory: the report says when the file holds fewer).
"""

from __future__ import annotations

import io
from array import array
from dataclasses import dataclass

MAX_CHANGES = 2_000_000  # changes a waveform keeps (~20 MB)
PS = 1e12  # the waveform's time unit: 1 ps


@dataclass
class _Pin:
    level: int | None  # now
    initial: int | None  # at the run's start
    since: float = 0.0  # seconds: when it took its level
    high_s: float = 0.0  # seconds at 1, before ``since``
    rising: int = 0
    falling: int = 0
    changes: int = 0


class PinTrace:
    def __init__(self, waveform: bool = False) -> None:
        self.waveform = waveform
        self.reset()

    def reset(self) -> None:
        self._pins: dict[str, _Pin] = {}
        self._ids: dict[str, int] = {}  # pin name -> its number in the change arrays
        self._times = array("d")  # seconds
        self._which = array("H")  # pin number
        self._levels = array("b")  # -1: no level
        self.dropped = 0  # changes past MAX_CHANGES, not in the waveform
        self._last = 0.0  # the latest change's time
        self.driven: dict[str, str] = {}  # pin -> what --pin holds it at (a file, 0 or 1)

    def initial(self, pin: str, level: int | None) -> None:
        """``pin``'s level at the run's start."""
        self._pins[pin] = _Pin(level, level)

    def change(self, pin: str, level: int | None, seconds: float) -> None:
        """``pin`` took ``level`` at device time ``seconds`` (no earlier than its change before;
        another pin's may be later: a device's event handled after a store it came before)."""
        state = self._pins.get(pin)
        if state is None:
            state = self._pins[pin] = _Pin(None, None)
        if state.level == level:
            return
        seconds = max(seconds, state.since)
        self._last = max(self._last, seconds)
        if state.level == 1:
            state.high_s += seconds - state.since
            state.falling += 1
        if level == 1:
            state.rising += 1
        state.level, state.since = level, seconds
        state.changes += 1
        if not self.waveform:
            return
        if len(self._times) >= MAX_CHANGES:
            self.dropped += 1
            return
        self._times.append(seconds)
        self._which.append(self._ids.setdefault(pin, len(self._ids)))
        self._levels.append(-1 if level is None else level)

    @property
    def kept(self) -> int:
        """Changes the waveform holds."""
        return len(self._times)

    def _shown(self) -> list[str]:
        """The pins the report and the waveform show: those that changed or were driven, in
        port and pin order."""
        names = [n for n, p in self._pins.items() if p.changes or n in self.driven]
        return sorted(names, key=lambda n: (n[1], int(n[2:])))

    def summary(self, end_s: float) -> dict[str, dict[str, object]]:
        """The report's ``pins``: per pin shown, its level at the start and the end, its
        changes, the milliseconds it spent at 1 up to ``end_s``, and what --pin drove it with
        (None: nothing)."""
        out: dict[str, dict[str, object]] = {}
        for name in self._shown():
            p = self._pins[name]
            high = p.high_s + (max(0.0, end_s - p.since) if p.level == 1 else 0.0)
            out[name] = {"initial": p.initial, "level": p.level, "rising": p.rising,
                         "falling": p.falling, "changes": p.changes, "high_ms": high * 1e3,
                         "driven": self.driven.get(name)}
        return out

    def vcd(self, end_s: float, scope: str) -> str:
        """The waveform of the pins shown, as a Value Change Dump (IEEE 1364) in 1 ps steps,
        to ``end_s``; ``scope`` names the part."""
        from vcd import VCDWriter

        names = self._shown()
        ids = {self._ids[n]: n for n in names if n in self._ids}

        def value(level: int | None) -> str:
            return "z" if level is None else str(level)

        fh = io.StringIO()
        with VCDWriter(fh, timescale="1 ps", date="", version="ebnn-sim") as writer:
            wires = {n: writer.register_var(scope, n, "wire", size=1,
                                            init=value(self._pins[n].initial)) for n in names}
            # in time order (stable: one pin's changes are in order already)
            order = sorted(range(len(self._times)), key=self._times.__getitem__)
            for t, which, level in ((self._times[i], self._which[i], self._levels[i])
                                    for i in order):
                name = ids.get(which)
                if name is not None:
                    writer.change(wires[name], round(t * PS), value(None if level < 0 else level))
            writer.flush(round(max(end_s, self._last) * PS))
        return fh.getvalue()

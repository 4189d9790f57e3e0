"""Compare two JSON reports: what a change did to instructions, cycles, memory and per-function
or per-layer work. ``ebnn-sim diff BASE.json HEAD.json [--markdown]``; the tables are drawn by
:mod:`sim.formats.text` and :mod:`sim.formats.markdown`.

Reads both report shapes:

- ``ebnn-sim run --json``: top-level ``instructions``, ``cycles``, ``sram`` {static, stack_peak,
  heap_peak, peak} and ``flash`` {used};
- ``ebnn-sim profile --json``: ``total`` {instructions, cycles}, ``memory`` {...} and the lists
  ``functions`` and ``layers``, each entry {name, self: {instructions, cycles},
  inclusive: {instructions, cycles}, share} (an entry may also carry its counts at the top:
  {name, instructions, cycles}). Functions are compared by their *self* counts (they add up to
  the total), layers by their *inclusive* counts (a layer's whole cost).

Notes above the tables say what makes the two not compare like for like: a run that did not
end at the firmware's exit, other targets, clocks or flash wait states, another ebnn-sim
version or cycle model (``ebnn_sim_version``, ``cycle_model``: absent from older reports).
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from sim.clocks import format_hz
from sim.durations import format_duration
from sim.printable import printable


class DiffError(Exception):
    """A report that cannot be read or compared; ``str()`` is one line for the user."""


def _paths(run: tuple[str, ...], *profile: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Where a metric lives: in a run report, in the run report a profile embeds under "run",
    then in the profile's own keys."""
    return (run, ("run", *run), *profile)


# label, unit, candidate key paths (the first number found wins)
SUMMARY: tuple[tuple[str, str, tuple[tuple[str, ...], ...]], ...] = (
    ("instructions", "", _paths(("instructions",), ("total", "instructions"))),
    ("cycles", "", _paths(("cycles",), ("total", "cycles"))),
    ("time", "ms", _paths(("time_ms",), ("total", "time_ms"))),
    ("SRAM peak", "B", _paths(("sram", "peak"), ("memory", "peak"),
                              ("memory", "sram", "peak"), ("memory", "sram_peak"))),
    ("static RAM", "B", _paths(("sram", "static"), ("memory", "static"),
                               ("memory", "sram", "static"))),
    ("stack peak", "B", _paths(("sram", "stack_peak"), ("memory", "stack", "peak"),
                               ("memory", "stack_peak"), ("memory", "sram", "stack_peak"),
                               ("memory", "stack"))),
    ("heap peak", "B", _paths(("sram", "heap_peak"), ("memory", "heap", "peak"),
                              ("memory", "heap_peak"), ("memory", "sram", "heap_peak"),
                              ("memory", "heap"))),
    ("flash", "B", _paths(("flash", "used"), ("memory", "flash", "used"),
                          ("memory", "flash_used"), ("memory", "flash"))),
)
SECTIONS = (("functions", "self"), ("layers", "inclusive"))
COUNTS = ("instructions", "cycles")


# a report larger than this is not one ebnn-sim wrote (a profile of every function of a large
# firmware is a few MiB; parsed, JSON takes about 25 times its size)
MAX_REPORT_BYTES = 32 << 20


def _is_number(v: Any) -> TypeGuard[int | float]:
    """A finite number a report could hold (a huge integer from a hand-made file is not)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _lookup(data: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> float | None:
    for path in paths:
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if _is_number(node):
            return node
    return None


def load_report(path: Path) -> dict[str, Any]:
    """The parsed report; DiffError (one line) when missing, not JSON or not a report."""
    path = Path(path)
    try:
        if path.exists() and not path.is_file():  # (a FIFO would block the read for ever)
            raise DiffError(f"{path}: not a regular file; not a report")
        with path.open("rb") as fh:
            raw = fh.read(MAX_REPORT_BYTES + 1)
        if len(raw) > MAX_REPORT_BYTES:
            raise DiffError(f"{path}: larger than {MAX_REPORT_BYTES >> 20} MiB; not a report")
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise DiffError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiffError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DiffError(f"{path}: not valid JSON ({exc})") from None
    except (RecursionError, ValueError) as exc:  # nesting too deep, an integer too long
        raise DiffError(f"{path}: not a report ({type(exc).__name__})") from None
    if (isinstance(data, dict) and data.get("status") == "error"
            and isinstance(data.get("error"), str)):  # (run/profile --json of an exit 2)
        raise DiffError(f"{path}: the report of a run that stopped at an error before it ran: "
                        f"{printable(data['error'][:200], one_line=True)}")
    if isinstance(data, dict) and isinstance(data.get("elfs"), list) and "config" in data:
        data = _check_run(data, path)  # `ebnn-sim check --json`: its run's report
    if isinstance(data, dict):
        _check_values(data, path)
    if not isinstance(data, dict) or (
            all(_lookup(data, paths) is None for _, _, paths in SUMMARY)
            and not any(isinstance(data.get(s), list) for s, _ in SECTIONS)):
        raise DiffError(f"{path}: not an ebnn-sim report (no instructions, cycles, sram, flash, "
                        "functions or layers)")
    return data


def _check_run(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The run report in an ``ebnn-sim check --json`` document of one run; DiffError for
    one of several (which to compare is not the diff's to guess)."""
    runs = [e for e in data["elfs"] if isinstance(e, dict) and isinstance(e.get("report"), dict)]
    if not runs and isinstance(data.get("error"), str):  # (check --json of an exit 2)
        raise DiffError(f"{path}: an `ebnn-sim check` report of a check that stopped at an "
                        f"error before any run: {printable(data['error'][:200], one_line=True)}")
    if len(runs) != 1:
        names = ", ".join(str(e.get("elf"))[:40] for e in runs[:3]) + (", ..." if len(runs) > 3
                                                                       else "")
        raise DiffError(f"{path}: an `ebnn-sim check` report of {len(runs)} runs ({names}); "
                        "diff reports of one run (run --json, profile --json, or a check of "
                        "one ELF)")
    report: dict[str, Any] = runs[0]["report"]
    return report


def _bad(v: Any) -> bool:
    """A value where a count or a size belongs that is neither one (a non-negative finite
    number) nor absent (null, or a table of further keys)."""
    return v is not None and not isinstance(v, dict) and not (_is_number(v) and v >= 0)


def _check_values(data: dict[str, Any], path: Path) -> None:
    """DiffError naming the first measurement that is not a count: a hand-edited or damaged
    report would otherwise show it as gone, or a negative count as a change."""
    for _, _, paths in SUMMARY:
        for keys in paths:
            node: Any = data
            for depth, key in enumerate(keys):
                if depth and not (node is None or isinstance(node, dict) or _is_number(node)):
                    break  # where a table (or, in another shape, a count) goes: text, a list
                node = node.get(key) if isinstance(node, dict) else None
            else:
                if _bad(node):
                    raise DiffError(f"{path}: {'.'.join(keys)} is {json.dumps(node)[:40]}, "
                                    "not a non-negative number; not a report ebnn-sim wrote")
                continue
            raise DiffError(f"{path}: {'.'.join(keys[:depth])} is {json.dumps(node)[:40]}, "
                            "not a table; not a report ebnn-sim wrote")
    for section, which in SECTIONS:
        items = data.get(section)
        if items is not None and not isinstance(items, list):
            raise DiffError(f"{path}: {section} is not a list; not a report ebnn-sim wrote")
        for i, item in enumerate(items or []):
            if not isinstance(item, dict):
                raise DiffError(f"{path}: {section}[{i}] is {json.dumps(item)[:40]}, not an "
                                "entry; not a report ebnn-sim wrote")
            counts = item.get(which)
            counts = counts if isinstance(counts, dict) else item
            for k in COUNTS:
                if isinstance(counts, dict) and _bad(counts.get(k)):
                    raise DiffError(f"{path}: {section}[{i}] {k} is "
                                    f"{json.dumps(counts.get(k))[:40]}, not a non-negative "
                                    "number; not a report ebnn-sim wrote")


@dataclass
class Change:
    name: str
    unit: str
    base: float | None  # None: absent in the base report (new)
    head: float | None  # None: absent in the head report (gone)

    @property
    def delta(self) -> float:
        return (self.head or 0) - (self.base or 0)

    @property
    def relative(self) -> float | None:
        """Change as a fraction of the base; None when the base is 0 or absent."""
        if not self.base:
            return None
        return self.delta / self.base

    @property
    def changed(self) -> bool:
        return self.delta != 0 or (self.base is None) != (self.head is None)

    def _fmt(self, v: float | None) -> str:
        if v is None:
            return "—"
        text = f"{v:,}" if float(v).is_integer() else f"{v:,.3f}"
        return f"{text} {self.unit}" if self.unit else text

    @property
    def base_text(self) -> str:
        return self._fmt(self.base)

    @property
    def head_text(self) -> str:
        return self._fmt(self.head)

    @property
    def delta_text(self) -> str:
        if self.head is None:
            return "gone"
        if self.base is None:
            return "new"
        d = self.delta
        if d == 0:
            return "0"
        text = f"{d:+,}" if float(d).is_integer() else f"{d:+,.3f}"
        return f"{text} {self.unit}" if self.unit else text

    @property
    def relative_text(self) -> str:
        r = self.relative
        if self.delta == 0 and self.base is not None and self.head is not None:
            return "0%"
        if r is None:
            return "—" if self.delta == 0 or self.base is None or self.head is None else "∞"
        if abs(100 * r) < 0.005:  # a change too small for two decimals is not -0.00%
            return f"{'+' if r > 0 else '-'}<0.01%"
        return f"{100 * r:+.2f}%"


@dataclass
class EntryChange:
    """One function or layer: instructions and cycles."""

    name: str
    instructions: Change
    cycles: Change

    @property
    def changed(self) -> bool:
        return self.instructions.changed or self.cycles.changed

    @property
    def magnitude(self) -> tuple[float, float]:
        return (abs(self.cycles.delta), abs(self.instructions.delta))


@dataclass
class Diff:
    summary: list[Change]
    sections: dict[str, list[EntryChange]]  # "functions"/"layers" -> changed entries, sorted
    unchanged: dict[str, int]  # entries in both reports with the same counts
    # what makes the comparison not like for like: a run that did not end normally, another
    # target or clock (one line each, shown above the tables)
    notes: list[str] = field(default_factory=list)
    # functions whose longest call (max_call_cycles, what call_cycles budgets) changed, the
    # largest change first (profiles only)
    calls: list[Change] = field(default_factory=list)

    @property
    def any_change(self) -> bool:
        return (any(c.changed for c in self.summary) or any(self.sections.values())
                or bool(self.calls))


def _entries(data: dict[str, Any], section: str, which: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    items = data.get(section)
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        counts = item.get(which)
        if not isinstance(counts, dict):
            counts = item  # an entry with its counts at the top ({"name", "cycles", ...})
            if not any(_is_number(item.get(k)) for k in COUNTS):
                continue
        entry = out.setdefault(item["name"], {k: 0 for k in COUNTS})
        for k in COUNTS:  # duplicate names (older reports' static functions of two files) add up
            if _is_number(counts.get(k)):
                entry[k] += counts[k]
    return out


def diff(base: dict[str, Any], head: dict[str, Any]) -> Diff:
    """What changed from ``base`` to ``head``. Summary metrics present in either report, sorted
    by the size of their relative change; functions and layers that changed, sorted by the size
    of their cycle change (then instructions)."""
    summary = []
    for label, unit, paths in SUMMARY:
        b, h = _lookup(base, paths), _lookup(head, paths)
        if b is not None or h is not None:
            summary.append(Change(label, unit, b, h))
    summary += _thread_stacks(base, head)
    if not summary and not any(isinstance(base.get(s), list) and isinstance(head.get(s), list)
                               for s, _ in SECTIONS):
        raise DiffError("the two reports have no metric in common")

    def order(c: Change) -> tuple[int, float, float]:
        if not c.changed:
            return (1, 0.0, 0.0)
        r = c.relative
        return (0, -(abs(r) if r is not None else math.inf), -abs(c.delta))

    summary.sort(key=order)
    sections: dict[str, list[EntryChange]] = {}
    unchanged: dict[str, int] = {}
    for section, which in SECTIONS:
        lists = base.get(section), head.get(section)
        if not all(isinstance(x, list) for x in lists) or not any(lists):
            continue  # compared only when both reports list them (and one is not empty)
        b_entries, h_entries = _entries(base, section, which), _entries(head, section, which)
        entries = []
        for name in dict.fromkeys([*b_entries, *h_entries]):
            be, he = b_entries.get(name, {}), h_entries.get(name, {})  # {}: not in that report
            entries.append(EntryChange(
                name,
                Change("instructions", "", be.get("instructions"), he.get("instructions")),
                Change("cycles", "", be.get("cycles"), he.get("cycles")),
            ))
        changed = [e for e in entries if e.changed]
        changed.sort(key=lambda e: tuple(-m for m in e.magnitude))
        sections[section] = changed
        unchanged[section] = len(entries) - len(changed)
    return Diff(summary, sections, unchanged, _notes(base, head), _longest_calls(base, head))


def _thread_stacks(base: dict[str, Any], head: dict[str, Any]) -> list[Change]:
    """A row per thread stack (an RTOS task's peak, sram.thread_stacks) in either report."""
    def stacks(data: dict[str, Any]) -> dict[str, float]:
        found = _text(data, "sram", "thread_stacks")
        if not isinstance(found, dict):
            return {}
        return {str(k)[:60]: v for k, v in found.items() if _is_number(v)}

    b, h = stacks(base), stacks(head)
    return [Change(f"thread stack {name}", "B", b.get(name), h.get(name))
            for name in sorted(b.keys() | h.keys())]


def _longest_calls(base: dict[str, Any], head: dict[str, Any]) -> list[Change]:
    """The functions (of two profiles) whose longest call changed, largest change first."""
    def longest(data: dict[str, Any]) -> dict[str, float]:
        items = data.get("functions")
        return {f["name"]: f["max_call_cycles"] for f in items or []
                if isinstance(f, dict) and isinstance(f.get("name"), str)
                and _is_number(f.get("max_call_cycles"))} if isinstance(items, list) else {}

    if not (isinstance(base.get("functions"), list) and isinstance(head.get("functions"), list)):
        return []
    b, h = longest(base), longest(head)
    changes = [Change(name, "", b.get(name), h.get(name)) for name in dict.fromkeys([*b, *h])]
    changed = [c for c in changes if c.changed]
    changed.sort(key=lambda c: -abs(c.delta))
    return changed


def _text(data: dict[str, Any], *path: str) -> Any:
    """The value at ``path`` in the report, or in the run report a profile embeds."""
    for keys in (path, ("run", *path)):
        node: Any = data
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None


def _notes(base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    """One line per reason the two reports' counts do not compare like for like."""
    notes = []
    for side, data in (("base", base), ("head", head)):
        status, code = _text(data, "status"), _text(data, "exit_code")
        kind = _text(data, "fault", "kind")
        if status == "over_budget" and kind != "image_too_large":
            continue  # it ran to its end and broke a budget: its counts are whole
        if isinstance(status, str) and status != "ok":
            why = f" ({str(kind)[:40]})" if isinstance(kind, str) else ""
            notes.append(f"{side}: the run ended '{status[:20]}'{why}, not at the firmware's "
                         "exit: its counts stop there")
        elif _is_number(code) and code != 0:
            notes.append(f"{side}: the firmware exited with status {code}")

    ran = []  # --run-for: the device time each side ran for, the firmware still running
    for side, data in (("base", base), ("head", head)):
        seconds = _text(data, "run_for")
        if seconds is not None:
            shown = (format_duration(seconds) if _is_number(seconds) and 0 < seconds < 1e9
                     else str(seconds)[:20])
            ran.append((side, shown))
    if len(ran) == 2 and ran[0][1] == ran[1][1]:
        notes.append(f"both ran for {ran[0][1]} of device time with the firmware still "
                     "running (--run-for)")
    else:
        for side, shown in ran:
            notes.append(f"{side}: ran for {shown} of device time with the firmware still "
                         "running (--run-for): its counts stop there")

    for side, data in (("base", base), ("head", head)):  # the firmware's own clocks
        changes = _text(data, "clock_changes")
        if isinstance(changes, int) and not isinstance(changes, bool) and changes > 0:
            notes.append(f"{side}: the firmware set its clock up ({min(changes, 10**9):,} "
                         "changes): time is device time at its clocks")

    def where(data: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(_text(data, k) for k in ("target", "core", "clock_hz"))

    def clock(hz: Any) -> str:
        return format_hz(hz) if _is_number(hz) else str(hz)[:20]

    notes += _model_notes(base, head)
    b, h = where(base), where(head)
    if all(x is not None for x in b + h) and b[:2] != h[:2]:
        def show(t: tuple[Any, ...]) -> str:
            return f"{str(t[0])[:30]} ({str(t[1])[:20]} @ {clock(t[2])})"
        notes.append(f"different targets: base {show(b)}, head {show(h)}; cycles and time "
                     "compare different cores or clocks")
    elif all(x is not None for x in b + h) and b[2] != h[2]:
        def source(data: dict[str, Any], t: tuple[Any, ...]) -> str:
            text = _text(data, "clock_source")
            return clock(t[2]) + (f" ({str(text)[:60]})" if isinstance(text, str) and text
                                  else "")
        notes.append(f"different clocks at reset: base {source(base, b)}, head "
                     f"{source(head, h)} (--reset-clock): time compares different clocks")
    return notes


def _model_notes(base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    """Notes for two reports whose cycles were estimated differently: other flash wait states,
    another ebnn-sim version or cycle model, or one made before reports recorded them."""
    notes = []
    ws = _text(base, "flash_wait_states"), _text(head, "flash_wait_states")
    if all(_is_number(w) for w in ws) and ws[0] != ws[1]:
        notes.append(f"different flash wait states: base {ws[0]:g}, head {ws[1]:g} "
                     "(--wait-states, or the target's): every refill pays them, so cycles and "
                     "time compare different flash timings")

    def made(data: dict[str, Any]) -> tuple[str, str] | None:
        tool, model = _text(data, "ebnn_sim_version"), _text(data, "cycle_model")
        if tool is None and model is None:
            return None  # a report from before they were recorded
        return str(tool)[:30], str(model)[:20]

    by = made(base), made(head)
    if by[0] is not None and by[1] is not None and by[0] != by[1]:
        notes.append(f"made by different ebnn-sim versions: base {by[0][0]} (cycle model "
                     f"{by[0][1]}), head {by[1][0]} (cycle model {by[1][1]})"
                     + (": cycles were estimated by different models" if by[0][1] != by[1][1]
                        else ""))
    elif (by[0] is None) != (by[1] is None):
        side = "base" if by[0] is None else "head"
        notes.append(f"{side}: made by an older ebnn-sim that recorded no version: its cycles "
                     "may come from another cycle model")
    return notes


CALLS_TITLE = "longest calls (cycles of one call: what call_cycles budgets)"


def section_title(section: str) -> str:
    """``functions (self counts)``: a section and the counts it compares."""
    which = dict(SECTIONS)[section]
    return f"{section} ({which} counts)"

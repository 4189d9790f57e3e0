"""Text for the terminal, drawn with rich: the run summary (``run``, the head of ``profile``, the
pytest fixture's report section), the profile's tables, the budget table of ``check``, the
tables of ``diff`` and the list of targets.

Tables are returned as renderables for the caller to print; the run summary and the profile are
printed on a console given by the caller, because some of their lines must never be wrapped or
cut (a sandbox refusal is printed verbatim). :func:`plain_text` captures either as plain text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape as _markup_escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from sim.clocks import format_hz
from sim.diff import CALLS_TITLE, section_title
from sim.durations import format_duration
from sim.printable import printable
from sim.report import HEAP_UNTRACKED, SHARED_STACKS, console_input_note
from sim.resets import reset_rows
from toolchain.sizes import format_size

if TYPE_CHECKING:
    from sim.budgets import CheckResult
    from sim.diff import Change, Diff
    from sim.profile import Profile
    from sim.report import RunReport
    from toolchain.profiles import Target


def escape(text: str) -> str:
    """``text`` for rich's markup, its control characters escaped (an input's: a name, a
    refusal's detail, a report's field; rich passes ESC through to the terminal)."""
    return _markup_escape(printable(text))


_DATA_BSS = {".data", ".bss", ".tdata", ".tbss"}


def static_label(sections: list[str]) -> str:
    """What static RAM holds: '.data + .bss' for the usual sections, else their names (a
    vendor script's .noinit, .dtcm, a heap reservation), at most four."""
    if not sections:
        return "none"
    if set(sections) <= _DATA_BSS:
        return ".data + .bss"
    names = [n for n in sections if n not in (".tdata", ".tbss")]
    return " + ".join(names[:4]) + (f" + {len(names) - 4} more" if len(names) > 4 else "")


def plain_text(draw: Callable[[Console], None], width: int = 200) -> str:
    """What ``draw(console)`` prints, as plain text (no colour, no styles)."""
    out = io.StringIO()
    draw(Console(file=out, width=width, color_system=None, highlight=False,
                 force_terminal=False))
    return out.getvalue()


def pct_of(part: int | float, whole: int | float) -> str:
    """``part`` as a percentage of ``whole``, one decimal; ``—`` when ``whole`` is 0."""
    return f"{100 * part / whole:.1f}%" if whole else "—"


# --- a run ------------------------------------------------------------------------------------


PIN_ROWS = 8  # pins the summary shows (the JSON has them all)


def _pin_rows(table: Table, pins: dict[str, dict[str, Any]], vcd: str | None) -> None:
    """A row for each GPIO pin that changed or --pin drove (the first PIN_ROWS)."""
    def level(v: object) -> str:
        return "no level" if v is None else str(v)

    for i, (name, pin) in enumerate(pins.items()):
        if i == PIN_ROWS:
            table.add_row("", "", f"and {len(pins) - PIN_ROWS} more pins (--json)")
            break
        driven = "" if pin["driven"] is None else (
            f", driven by {Path(pin['driven']).name}"
            + (f" ({pin['applied']:,} of {pin['rows']:,} rows)" if pin.get("rows", 1) > 1
               else ""))
        table.add_row("pins" if i == 0 else "", f"{name} {pin['changes']:,}",
                      f"changes ({level(pin['initial'])} to {level(pin['level'])}), "
                      f"{pin['high_ms']:,.3f} ms at 1{driven}")
    if vcd is not None:
        table.add_row("waveform" if pins else "pins", "", f"{vcd} (--vcd)")


def _labelled(table: Table, label: str, rows: list[tuple[str, str]]) -> None:
    """``rows`` of (count, text) under one ``label``, on the first."""
    for i, (count, text) in enumerate(rows):
        table.add_row(label if i == 0 else "", count, text)


def _i2c_rows(table: Table, i2c: dict[str, Any]) -> None:
    """A row for each --i2c target (what the firmware did with it), one for the addresses
    nobody answered."""
    if not i2c:
        return
    rows = [(f"{t['reads'] + t['writes']:,}",
             f"transfers with {address} ({t['name']}): {t['writes']:,} writes, "
             f"{t['reads']:,} reads, {t['bytes_written']:,} B out, {t['bytes_read']:,} B in")
            for address, t in i2c["targets"].items()]
    if i2c["nacked"]:
        rows.append((f"{sum(i2c['nacked'].values()):,}",
                     "addressed with no target there (NACK): "
                     + ", ".join(list(i2c["nacked"])[:8])
                     + (" ..." if len(i2c["nacked"]) > 8 else "")))
    host = i2c.get("controller")
    if host:
        rows.append((f"{host['begun']:,}",
                     f"transactions of the host ({escape(Path(host['file']).name)}) with the part: "
                     f"{host['done']:,} done, of {host['transactions']:,}"))
    _labelled(table, "i2c", rows)


def _spi_rows(table: Table, spi: dict[str, Any]) -> None:
    """A row for each --spi device, one for the bytes no device took."""
    if not spi:
        return
    rows = [(f"{t['selections']:,}",
             f"selections of {cs} ({t['name']}): {t['writes']:,} writes, {t['reads']:,} "
             f"reads, {t['bytes_written']:,} B out, {t['bytes_read']:,} B in")
            for cs, t in spi["targets"].items()]
    if spi["unselected_bytes"]:
        rows.append((f"{spi['unselected_bytes']:,}", "bytes with no device selected"))
    _labelled(table, "spi", rows)


def print_run_summary(report: RunReport, console: Console) -> None:
    """Status and exit code, the measurements, sandbox refusals, broken budgets, the fault."""
    # a clean run whose firmware exited non-zero is a failure (exit 1), not "ok"
    failed = report.status in ("ok", "over_budget") and report.exit_code not in (0, None)
    headline = "failed" if failed else report.status
    status_style = {"ok": "green", "over_budget": "yellow"}.get(headline, "red")
    exit_text = "—" if report.exit_code is None else str(report.exit_code)
    how = f"firmware exit code {exit_text}"
    if report.run_for is not None:
        how = f"still running after {format_duration(report.run_for)}"
    console.print(f"[bold {status_style}]{headline}[/]  {how}  "
                  f"[dim]({report.target}: {report.core} @ {report.clock_text})[/]")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(style="dim")
    table.add_row("instructions", f"{report.instructions:,}", "exact")
    ws = report.flash_wait_states
    varied = any(c.wait_states != ws for c in report.clocks)
    table.add_row("cycles", f"{report.cycles:,}",
                  "estimate, flash wait states as the firmware set them" if varied else
                  f"estimate, {ws} flash wait state{'' if ws == 1 else 's'} per refill")
    mhz = "the firmware's clocks" if report.clocks else format_hz(report.clock_hz)
    if report.sleep_cycles:  # the time the core ran; asleep it spent more
        table.add_row("time", f"{report.time_ms:,.3f} ms",
                      f"at {mhz} awake, + {report.sleep_ms:,.3f} ms asleep")
    else:
        table.add_row("time", f"{report.time_ms:,.3f} ms",
                      f"at {mhz}, the whole run (start-up included)")
    for i, (hz, since) in enumerate(report.clock_rows):
        table.add_row("clock" if i == 0 else "", hz, since)
    table.add_row("static RAM", f"{report.static:,} B", static_label(report.static_sections))
    table.add_row("stack peak", f"{report.stack_peak:,} B",
                  f"in {report.reset_stack}, the reset stack (static RAM)"
                  if report.reset_stack is not None
                  else "below the initial SP" if report.main_stacks else "")
    heap_note = "" if report.heap_tracked else (
        f"not tracked ({HEAP_UNTRACKED})")
    table.add_row("heap peak", f"{report.heap_peak:,} B", heap_note)
    table.add_row("SRAM peak", f"{report.sram_peak:,} B", f"of {format_size(report.sram_size)}")
    table.add_row("flash", f"{report.flash_used:,} B", f"of {format_size(report.flash_size)}")
    if report.sleep_cycles:
        stop = (f"; {report.deep_sleeps:,} of the sleeps in Stop mode" if report.deep_sleeps
                else "")
        table.add_row("sleep", f"{report.sleep_cycles:,}",
                      f"cycles in WFI/WFE, not in cycles{stop}")
        awake = 100 * report.duty_cycle
        table.add_row("duty cycle", f"{awake:.1f}%" if awake >= 10 else f"{awake:.2g}%",
                      "of the time awake")
    for row in reset_rows(report.resets, report.reset_counts):
        table.add_row(*row)
    if report.exceptions:
        taken = ", ".join(f"{name} {n:,}" for name, n in report.exceptions.items())
        table.add_row("exceptions", f"{sum(report.exceptions.values()):,}", taken)
    for name, peak in report.main_stacks.items():
        if name != report.reset_stack:  # (its peak is the stack peak's row)
            table.add_row("main stack", f"{peak:,} B", f"{name} (MSR MSP moved it there)")
    for name, peak in report.thread_stacks.items():
        shared = SHARED_STACKS.get(name)
        table.add_row("thread stack", f"{peak:,} B", name if shared is None else
                      f"{name} ({shared}: every task's as one)")
    for i, (channel, fed) in enumerate(report.analog.items()):
        rate = "" if fed["rate_hz"] is None else f" at {fed['rate_hz']:g} Hz"
        if channel.isdigit():
            what = f"{fed['conversions']:,}", f"conversions of channel {channel}: "
        else:  # a pin no ADC channel reaches (a comparator's input), or the supply
            what = "", f"{'supply' if channel == 'VDDA' else 'pin'} {channel}: "
        table.add_row("analog" if i == 0 else "", what[0],
                      f"{what[1]}{fed['samples']:,} values{rate}, "
                      f"{Path(str(fed['file'])).name}")
    _pin_rows(table, report.pins, report.vcd)
    _i2c_rows(table, report.i2c)
    _spi_rows(table, report.spi)
    console.print(table)
    if report.stopped_at is not None:
        console.print(f"[dim]stopped at pc {escape(report.stopped_at)}[/]", soft_wrap=True)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    for register in report.unmodelled:
        console.print(f"[yellow]unmodelled register:[/] {escape(register)}", soft_wrap=True)
    unread = console_input_note(report)
    if unread is not None:
        console.print(f"[yellow]console input:[/] {unread}", soft_wrap=True)
    for vectored in report.vectored_faults:
        console.print(f"[yellow]vectored fault:[/] {escape(vectored)}", soft_wrap=True)
    for refusal in report.refusals:
        console.print(f"[yellow]sandbox:[/] {escape(refusal)}", soft_wrap=True)
    for check in report.over_budget:
        console.print(f"[yellow]over budget:[/] {check}")
    fault = report.fault
    if fault is not None:
        console.print(f"[bold red]{fault.kind}:[/] {escape(fault.message)}", soft_wrap=True)
        if fault.pc is not None:
            where = f" in {fault.function}" if fault.function else ""
            insn = f": {fault.instruction}" if fault.instruction else ""
            console.print(f"  at pc 0x{fault.pc:08x}{escape(where + insn)}")
        if fault.registers:
            regs = [f"{k}={v:08x}" for k, v in fault.registers.items()]
            for i in range(0, len(regs), 6):
                console.print("  " + "  ".join(regs[i : i + 6]))


# --- a profile --------------------------------------------------------------------------------


def _name_width(console: Console, names: Iterable[str], others: Iterable[Iterable[str]]) -> int:
    """The width that keeps the longest name whole, as far as the console leaves room beside
    the ``others`` columns (each given as its header and cells; one space between columns)."""
    used = sum(max((len(line) for cell in col for line in cell.split("\n")), default=0) + 1
               for col in others)
    return min(max((len(n) for n in names), default=4), max(console.width - used, 8))


def print_profile(prof: Profile, console: Console, top: int | None = None) -> None:
    """The run summary, then tables: functions by inclusive cycles, layers, hottest
    instructions, memory."""
    top = prof.top if top is None else top
    print_run_summary(prof.report, console)

    def pct(n: int) -> str:
        return f"{100 * prof.share(n):.1f}%"

    # Below 100 columns the cell padding goes (the column separators stay): the decoration,
    # not the data, gives way to fit 80 columns.
    narrow = console.width < 100  # one space between columns: tables fitted to the width
    style: dict[str, Any] = {"title_justify": "left", "box": box.SIMPLE_HEAD,
                             "show_edge": False, "pad_edge": False,
                             "padding": (0, 0) if narrow else (0, 1)}
    funcs = prof.functions[:top]
    console.print()
    table = Table(title=f"functions (top {len(funcs)} of {len(prof.functions)}, "
                        "by inclusive cycles)", **style)
    rows = [[f"{f.inclusive.cycles:,}", pct(f.inclusive.cycles), f"{f.self.cycles:,}",
             pct(f.self.cycles), f"{f.inclusive.instructions:,}", f"{f.calls:,}",
             "—" if f.max_call_cycles is None else f"{f.max_call_cycles:,}"]
            for f in funcs]
    # below 100 columns the headers take two lines, so the figures, not their headers, set
    # the columns' widths; names are not split while the figures leave room (then they wrap)
    sep = " " if console.width >= 100 else "\n"
    headers = [f"incl{sep}cycles", "%", f"self{sep}cycles", "%", f"incl{sep}insns", "calls",
               f"longest{sep}call"]
    columns = [[h, *(r[i] for r in rows)] for i, h in enumerate(headers)]
    table.add_column("function", overflow="fold",
                     min_width=_name_width(console, (f.name for f in funcs), columns))
    for col in headers:
        table.add_column(col, justify="right", no_wrap=True)
    for f, row in zip(funcs, rows, strict=True):
        table.add_row(escape(f.name), *row)
    console.print(table)

    if prof.layers:
        console.print()
        table = Table(title="layers (inclusive)", **style)
        table.add_column("layer")
        for col in ("cycles", "%", "instructions", "calls"):
            table.add_column(col, justify="right", no_wrap=True)
        for layer in prof.layers:
            c = layer.inclusive
            table.add_row(escape(layer.name), f"{c.cycles:,}", pct(c.cycles),
                          f"{c.instructions:,}", f"{layer.calls:,}")
        console.print(table)

    if prof.hot_lines:
        console.print()
        table = Table(title=f"hottest source lines (top {len(prof.hot_lines)}, by instructions "
                            "executed)", **style)
        table.add_column("instructions", justify="right", no_wrap=True)
        table.add_column("%", justify="right", no_wrap=True)
        # where, and the line itself below it: the code gets the width of the whole column
        table.add_column("line, function and source", overflow="fold", ratio=1)
        total = prof.total.instructions
        for hl in prof.hot_lines:
            where = escape(f"{Path(hl.file).name}:{hl.line}")
            if hl.function:
                where += f" in {escape(hl.function)}"
            if hl.text:
                where += f"\n[dim]{escape(hl.text)}[/]"
            table.add_row(f"{hl.instructions:,}", pct_of(hl.instructions, total), where)
        console.print(table)

    console.print()
    table = Table(title=f"hottest instructions (top {len(prof.hot)})", **style)
    # the function's name alone (the address says where in it): kept whole beside the count,
    # the address and a short instruction; the instruction and the line wrap
    names = [(h.function or "?").rsplit("+0x", 1)[0] for h in prof.hot]
    counts = [f"{h.count:,}" for h in prof.hot]
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("address", no_wrap=True)
    table.add_column("function", overflow="fold", min_width=_name_width(
        console, names, [["count", *counts], ["address", "x" * 8], ["instruction", "x" * 12],
                         ["line", "x" * 18]]))
    table.add_column("instruction", overflow="fold")
    table.add_column("line", overflow="fold")
    for h, name, count in zip(prof.hot, names, counts, strict=True):
        src = f"{Path(h.file).name}:{h.line}" if h.file is not None else ""
        table.add_row(count, f"{h.address:08x}", escape(name), escape(h.instruction or "?"),
                      escape(src))
    console.print(_fit_narrow(console, table) if narrow else table)

    mem = prof.memory
    console.print()
    table = Table(title="memory", **style)
    table.add_column("what")
    table.add_column("address", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for s in mem["sections"]:
        table.add_row(escape(s["name"]), f"{s['address']:08x}", f"{s['size']:,} B", s["kind"])
    stack = mem["stack"]
    where = ""
    if stack["function"]:
        where = f"peak set in {escape(stack['function'])}"
    table.add_row("stack peak", f"{stack['lowest']:08x}" if stack["lowest"] else "",
                  f"{stack['peak']:,} B", where)
    heap = mem["heap"]
    table.add_row("heap peak", f"{heap['start']:08x}" if heap["start"] else "",
                  f"{heap['peak']:,} B", "" if heap["tracked"] else "not tracked")
    budget = mem["sram_size"]
    table.add_row("[bold]SRAM peak[/]", "", f"{mem['peak']:,} B",
                  f"static + stack + heap: {pct_of(mem['peak'], budget)} of "
                  f"{format_size(budget)}, {mem['free']:,} B free")
    flash = mem["flash"]
    table.add_row("flash", "", f"{flash['used']:,} B", f"of {format_size(flash['size'])}")
    console.print(table)
    for note in prof.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


# --- budgets ----------------------------------------------------------------------------------


def print_fitted(console: Console, *renderables: RenderableType) -> None:
    """Print tables within the console's width (80 columns in a pipe or CI log) without
    cutting a cell: a table too wide loses its borders and cell padding first (decoration,
    not data), then its wrapping columns wrap (a column that folds, such as a path, at its
    min_width); only if its unbreakable cells still do not fit is it printed wider."""
    for r in renderables:
        if isinstance(r, Table):
            opts = console.options.update(max_width=10_000)
            if Measurement.get(console, opts, r).maximum > console.width:
                # no borders, one space between columns (rich drops a column that does not
                # fit with a box drawn around cells this tight)
                r.box, r.show_edge, r.padding, r.pad_edge = None, False, (0, 0, 0, 1), False
                lows, highs = _column_ranges(console, r)
                needed = sum(lows) + len(lows) - 1
                if needed > console.width:
                    # of the console's own class: a PipeConsole's reader that leaves is 141
                    wide = type(console)(file=console.file, width=needed, highlight=False,
                                         force_terminal=console.is_terminal)
                    _fix_widths(r, lows, highs, needed)
                    wide.print(r)
                    continue
                _fix_widths(r, lows, highs, console.width)
        console.print(r)


def _column_ranges(console: Console, table: Table) -> tuple[list[int], list[int]]:
    """(narrowest, widest) width of each column's text: a no-wrap column's whole text, a
    folding one's min_width, a wrapping one's longest word (or its min_width)."""
    opts = console.options.update(max_width=10_000)
    lows, highs = [], []
    for col in table.columns:
        sizes = [Measurement.get(console, opts, cell) for cell in (col.header, *col.cells)]
        high = max(m.maximum for m in sizes)
        if col.no_wrap:
            low = high
        elif col.overflow == "fold" and col.min_width:
            low = min(col.min_width, high)
        else:
            low = max(max(m.minimum for m in sizes), col.min_width or 0)
        lows.append(low)
        highs.append(max(high, low))
    return lows, highs


def _fit_narrow(console: Console, table: Table) -> Table:
    """``table`` (one space between columns) with fixed column widths when it is wider than
    the console and its narrowest layout fits (``_fix_widths``); unchanged otherwise."""
    opts = console.options.update(max_width=10_000)
    if Measurement.get(console, opts, table).maximum > console.width:
        lows, highs = _column_ranges(console, table)
        if sum(lows) + len(lows) - 1 <= console.width:
            _fix_widths(table, lows, highs, console.width)
    return table


def _fix_widths(table: Table, lows: list[int], highs: list[int], width: int) -> None:
    """Give each column of ``table`` (undecorated, one space between columns) a fixed width
    within ``width``: its narrowest plus a share of the spare room in proportion to what more
    it could use. rich's own shrinking takes from every column alike once the wrapping ones
    are narrow, which cut a no-wrap column ('pass' became 'pa')."""
    spare = width - (len(lows) - 1) - sum(lows)  # less the spaces between columns
    want = [h - lo for lo, h in zip(lows, highs, strict=True)]
    total = sum(want)
    for col, low, w in zip(table.columns, lows, want, strict=True):
        col.width = low + (w * spare // total if total else 0)


def check_table(result: CheckResult) -> Table:
    """ELF, metric, measured, budget, margin, result: one row per ELF and budget."""
    table = Table(title="ebnn-sim budgets")
    longest = max((len(e.name) for e in result.elfs), default=3)
    table.add_column("ELF", overflow="fold", min_width=min(longest, 30))  # paths stay whole
    table.add_column("metric", no_wrap=True)
    for col in ("measured", "budget", "margin"):  # wrap at their spaces, never inside a number
        table.add_column(col, justify="right")
    table.add_column("result", no_wrap=True)
    for e in result.elfs:
        metrics = [c.metric for c in e.checks]
        for i, c in enumerate(e.checks):
            metric = c.metric
            if metrics.count(metric) > 1:  # two tables budget it: say which this one is
                table_no = re.search(r"budget \d+", c.where)
                metric += f" ({table_no.group() if table_no else c.where})"
            measured = c.format(c.measured) if c.missing is None else "—"
            if c.metric == "cycles":
                measured += f" ({e.report.time_ms:,.3f} ms)"
            if e.problem is not None:
                verdict = "[bold red]ERROR[/]"
            elif c.passed:
                verdict = "[green]pass[/]"
            else:
                verdict = "[bold red]FAIL[/]"
            if e.problem is not None:  # measured up to a fault or limit: no headroom to show
                margin = "[dim]—[/]"
            else:
                margin = c.margin_text if c.passed else f"[red]{escape(c.margin_text)}[/]"
            table.add_row(escape(printable(e.name, one_line=True)) if i == 0 else "",
                          escape(metric), measured,
                          escape(c.budget_text), margin, verdict,
                          end_section=i == len(e.checks) - 1)
    return table


# --- diff -------------------------------------------------------------------------------------


def _styled(c: Change, text: str) -> Text:
    style = "red" if c.delta > 0 else "green" if c.delta < 0 else "dim"
    return Text(text, style=style)


def diff_tables(d: Diff, base_name: str = "base", head_name: str = "head",
                limit: int | None = 20) -> list[Table | Text]:
    """The summary table, then one table per section (functions, layers) that changed."""
    out: list[Table | Text] = [Text(f"note: {printable(n)}", style="yellow") for n in d.notes]
    table = Table(title=escape(f"{base_name} → {head_name}"))
    table.add_column("metric", no_wrap=True)
    for col in ("base", "head", "change", "%"):
        table.add_column(col, justify="right", no_wrap=True)
    for c in d.summary:
        table.add_row(Text(printable(c.name)), Text(printable(c.base_text)),
                      Text(printable(c.head_text)), _styled(c, c.delta_text),
                      _styled(c, c.relative_text))
    out.append(table)
    for section, entries in d.sections.items():
        if not entries:
            out.append(Text(f"{section}: no change ({d.unchanged[section]} unchanged)"))
            continue
        t = Table(title=escape(section_title(section)))
        t.add_column("name", overflow="fold")
        for col in ("instructions", "change", "cycles", "change", "%"):
            t.add_column(col, justify="right", no_wrap=True)
        shown = entries if limit is None else entries[:limit]
        for e in shown:
            ins, cyc = e.instructions, e.cycles
            t.add_row(Text(printable(e.name)), ins.head_text, _styled(ins, ins.delta_text),
                      cyc.head_text, _styled(cyc, cyc.delta_text),
                      _styled(cyc, cyc.relative_text))
        out.append(t)
        rest = len(entries) - len(shown)
        tail = f"{rest} more changed (--limit 0 shows all), " if rest else ""
        out.append(Text(f"{tail}{d.unchanged[section]} unchanged", style="dim"))
    if d.calls:
        t = Table(title=CALLS_TITLE)
        t.add_column("function", overflow="fold")
        for col in ("base", "head", "change", "%"):
            t.add_column(col, justify="right", no_wrap=True)
        calls = d.calls if limit is None else d.calls[:limit]
        for c in calls:
            t.add_row(Text(printable(c.name)), c.base_text, c.head_text, _styled(c, c.delta_text),
                      _styled(c, c.relative_text))
        out.append(t)
        if len(d.calls) > len(calls):
            out.append(Text(f"{len(d.calls) - len(calls)} more changed (--limit 0 shows all)",
                            style="dim"))
    return out


# --- targets ----------------------------------------------------------------------------------


def devices_table(targets: Iterable[Target]) -> Table:
    """Each profile's memory-mapped devices and where each is mapped (a part's peripheral bus,
    a background device, only around the others: its whole range is shown)."""
    from sim import devices

    table = Table(title="memory-mapped devices (docs/simulator.md, Devices)")
    for col in ("target", "device", "address", "size"):
        table.add_column(col, justify="right" if col == "size" else "left", no_wrap=True)
    for t in targets:
        made = devices.create(t.devices, None)  # type: ignore[arg-type]  # built, not reset
        for i, dev in enumerate(sorted(made, key=lambda d: d.base)):
            windows = devices.windows(dev, made)
            size = sum(n for _, n in windows)
            where = f"{dev.base:#010x}-{dev.base + dev.size - 1:#010x}"
            table.add_row(t.name if i == 0 else "", dev.name,
                          where + (" (around the others)" if dev.background else ""),
                          format_size(size), end_section=i == len(made) - 1)
    return table


def targets_table(targets: Iterable[Target]) -> Table:
    """Name, part, core, clock, SRAM, flash, FPU and flash wait states of each profile."""
    table = Table(title="target profiles")
    for col in ("name", "part", "core", "clock", "SRAM", "flash", "FPU", "wait states"):
        # Only the descriptive columns wrap: names and figures are never cut.
        wraps = col in ("part", "wait states")
        table.add_column(col, justify="right" if col in ("clock", "SRAM", "flash") else "left",
                         no_wrap=not wraps, overflow="fold" if wraps else "ellipsis",
                         min_width=12 if col == "part" else None)
    for t in targets:
        table.add_row(t.name, t.part, t.core, f"{t.clock_mhz:g} MHz", format_size(t.sram),
                      format_size(t.flash), t.fpu or "—", str(t.flash_wait_states))
    return table

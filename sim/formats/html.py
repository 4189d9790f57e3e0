"""A profile as one self-contained HTML page: inline CSS and inline SVG, nothing fetched.

The page has no scripts, fonts, images, style sheets or links of any kind, so it opens the same
offline, from a CI artifact or in a mail attachment. Any text taken from the firmware (symbol
names, source lines) is escaped, and "://" / "url(" in it are written as character references
so that nothing in the page even looks like an address.
"""

from __future__ import annotations

import html
import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.clocks import format_hz
from sim.durations import format_duration
from sim.formats.text import pct_of
from toolchain.sizes import format_size

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sim.profile import Profile

_URLISH = re.compile(r"url\(", re.IGNORECASE)

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { padding: 0.25em 0.7em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
td code { white-space: pre-wrap; }
td code.fn { white-space: nowrap; }  /* a function's name whole: SysTick_Handl|er */
th { border-bottom: 2px solid #ccc; }
tr:nth-child(even) td { background: #f6f6f6; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: ui-monospace, monospace; font-size: 0.95em; }
.src { color: #555; }
svg { display: block; margin: 0.6em 0; }
svg text { font-family: ui-monospace, monospace; font-size: 12px; fill: #222; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle;
          margin-right: 0.4em; border: 1px solid #999; }
.status-ok { color: #1a7f37; } .status-bad { color: #b42318; }
"""

COLORS = {
    "data": "#4c78a8", "bss": "#72b7b2", "tls": "#9d755d", "heap": "#f58518",
    "stack": "#e45756", "free": "#eeeeee", "inclusive": "#a6c8e8", "self": "#2f6fb0",
    "layer": "#54a24b",
}



# a function name up to this long is kept on one line in a table; a longer one (a C++
# signature) may break, after a separator first
_WHOLE_NAME = 40
_NAME_BREAKS = re.compile(r"(?<=[_,(<])|(?<=::)")


def fn_code(name: str) -> str:
    """``name`` (a function's, escaped) as a table cell's code: kept whole when short, else
    with break opportunities after ``_ :: , ( <`` (a table squeezed for room split
    ``SysTick_Handler`` mid-word)."""
    if len(name) <= _WHOLE_NAME:
        return f'<code class="fn">{esc(name)}</code>'
    return "<code>" + "<wbr>".join(esc(part) for part in _NAME_BREAKS.split(name)) + "</code>"


def esc(value: Any) -> str:
    """HTML-escape ``value``; also defuse anything that reads like an address or a CSS url."""
    text = html.escape(str(value), quote=True)
    text = text.replace("://", ":&#47;&#47;")
    return _URLISH.sub("url&#40;", text)


def _num(n: int | float) -> str:
    return f"{n:,}" if isinstance(n, int) else f"{n:,.1f}"


def bar_chart(rows: Sequence[tuple[str, int, int | None]], total: int, unit: str = "cycles",
              colors: tuple[str, str] = (COLORS["inclusive"], COLORS["self"])) -> str:
    """Horizontal bars, one per row (label, value, inner value or None), scaled to the largest
    value; the inner value is drawn over the bar (self inside inclusive)."""
    if not rows:
        return "<p>nothing to show</p>"
    label_w, bar_w, row_h, text_w = 230, 520, 22, 230
    width = label_w + bar_w + text_w
    top = max(max(v for _, v, _ in rows), 1)
    parts = [f'<svg width="{width}" height="{row_h * len(rows) + 6}" role="img">']
    for i, (label, value, inner) in enumerate(rows):
        y = 3 + i * row_h
        w = bar_w * value / top
        shown = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{esc(shown)}'
                     f"<title>{esc(label)}</title></text>")
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{max(w, 1):.1f}" '
                     f'height="{row_h - 6}" fill="{colors[0]}"/>')
        if inner is not None:
            wi = bar_w * inner / top
            parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{max(wi, 0):.1f}" '
                         f'height="{row_h - 6}" fill="{colors[1]}"/>')
        note = f"{_num(value)} {unit} ({pct_of(value, total)})"
        if inner is not None:
            note = f"{_num(value)} ({_num(inner)} self) {pct_of(value, total)}"
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{esc(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def sram_regions(memory: dict[str, Any]) -> list[dict[str, Any]]:
    """SRAM from its first to its last byte as (kind, name, start, size) regions, gaps free.
    The static data are the sections the run counts as such (``static_sections``): a linker
    script's reservation for the stack (``._stack_guard``) is room the stack grows into, free
    as the report counts it, not data."""
    base, size = memory["sram_base"], memory["sram_size"]
    end = base + size
    static = memory.get("static_sections")
    used: list[dict[str, Any]] = []
    for s in memory["sections"]:
        if static is not None and s["name"] not in static:
            continue
        if s["kind"] in ("data", "bss") and s["size"] and base <= s["address"] < end:
            kind = "tls" if "tdata" in s["name"] or "tbss" in s["name"] else s["kind"]
            used.append({"kind": kind, "name": s["name"], "start": s["address"],
                         "size": min(s["size"], end - s["address"])})
    heap = memory["heap"]
    if heap["peak"] and heap["start"] is not None:
        used.append({"kind": "heap", "name": "heap (peak)", "start": heap["start"],
                     "size": heap["peak"]})
    stack = memory["stack"]
    if stack["peak"] and stack["lowest"] is not None:
        used.append({"kind": "stack", "name": "stack (peak)", "start": stack["lowest"],
                     "size": stack["peak"]})
    clipped = []
    for r in used:  # a run that failed early may report regions outside the mapped SRAM
        lo, hi = max(r["start"], base), min(r["start"] + r["size"], end)
        if hi > lo:
            clipped.append({**r, "start": lo, "size": hi - lo})
    used = sorted(clipped, key=lambda r: r["start"])
    out: list[dict[str, Any]] = []
    at = base
    for r in used:
        if r["start"] > at:
            out.append({"kind": "free", "name": "free", "start": at, "size": r["start"] - at})
        out.append(r)
        at = max(at, r["start"] + r["size"])
    if at < end:
        out.append({"kind": "free", "name": "free", "start": at, "size": end - at})
    return out


def sram_map(memory: dict[str, Any]) -> str:
    regions = sram_regions(memory)
    size = memory["sram_size"] or 1
    width, height = 960, 46
    parts = [f'<svg width="{width}" height="{height + 22}" role="img">']
    x = 0.0
    for r in regions:
        w = width * r["size"] / size
        color = COLORS.get(r["kind"], "#bbbbbb")
        tip = (f'{r["name"]}: {r["size"]:,} B at 0x{r["start"]:08x} '
               f'({pct_of(r["size"], size)} of the budget)')
        w_min = 0 if r["kind"] == "free" else 1  # used regions stay visible however small
        parts.append(f'<rect x="{x:.2f}" y="0" width="{max(w, w_min):.2f}"'
                     f' height="{height}" fill="{color}" stroke="#ffffff" stroke-width="0.5">'
                     f"<title>{esc(tip)}</title></rect>")
        x += w
    parts.append(f'<text x="0" y="{height + 16}">0x{memory["sram_base"]:08x}</text>')
    parts.append(f'<text x="{width}" y="{height + 16}" text-anchor="end">'
                 f'0x{memory["sram_base"] + memory["sram_size"]:08x} '
                 f'({esc(format_size(memory["sram_size"]))})</text>')
    parts.append("</svg>")
    rows = []
    for r in regions:
        rows.append(
            f'<tr><td><span class="swatch" style="background:{COLORS.get(r["kind"], "#bbb")}">'
            f'</span>{esc(r["name"])}</td><td class="mono">0x{r["start"]:08x}</td>'
            f'<td class="n">{r["size"]:,} B</td><td class="n">{pct_of(r["size"], size)}</td></tr>')
    table = ('<table><tr><th>region</th><th>address</th><th class="n">size</th>'
             '<th class="n">of budget</th></tr>' + "".join(rows) + "</table>")
    return "".join(parts) + table


def collapse_chain(chain: list[str]) -> list[str]:
    """A call chain with each run of one function shown once with its depth: a 215-deep
    recursion reads ``dive \u00d7215``, not 215 names."""
    out: list[str] = []
    for name, run in itertools.groupby(chain):
        n = len(list(run))
        out.append(name if n == 1 else f"{name} \u00d7{n}")
    return out


def render_html(profile: Profile, top: int | None = None) -> str:
    """The whole page."""
    top = profile.top if top is None else top
    r = profile.report
    mem = profile.memory
    total = profile.total
    problem = r.problem
    status = f'<span class="{"status-bad" if problem else "status-ok"}">{esc(r.status)}</span>'
    if r.exit_code is not None:
        status += f", exit code {esc(r.exit_code)}"
    if r.run_for is not None:
        status += f", still running after {esc(format_duration(r.run_for))}"
    if problem is not None:
        status += f": {esc(problem)}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>profile: {esc(Path(r.elf).name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Profile of <code>{esc(Path(r.elf).name)}</code></h1>",
        f'<p class="sub">{esc(r.target)}: {esc(r.core)} @ {esc(r.clock_text)}, '
        f"{r.flash_wait_states} flash wait state{'' if r.flash_wait_states == 1 else 's'}"
        f"{' from reset' if r.clocks else ''}. "
        f"Run {status}.</p>",
        "<table>",
        f'<tr><td>instructions</td><td class="n">{total.instructions:,}</td><td>exact</td></tr>',
        f'<tr><td>cycles</td><td class="n">{total.cycles:,}</td>'
        "<td>estimate (per-instruction timing table + refill per taken branch + exception "
        "latency)</td></tr>",
        f'<tr><td>time</td><td class="n">{r.time_ms:,.3f} ms</td>'
        f"<td>at {'the firmware&#x27;s clocks' if r.clocks else format_hz(r.clock_hz)}"
        "</td></tr>",
        *(f'<tr><td>{"clock" if i == 0 else ""}</td><td class="n">{esc(hz)}</td>'
          f"<td>{esc(since)}</td></tr>" for i, (hz, since) in enumerate(r.clock_rows)),
        f'<tr><td>SRAM peak</td><td class="n">{mem["peak"]:,} B</td>'
        f"<td>of {esc(format_size(mem['sram_size']))} "
        f"({pct_of(mem['peak'], mem['sram_size'])}); {mem['free']:,} B free</td></tr>",
        f'<tr><td>flash</td><td class="n">{mem["flash"]["used"]:,} B</td>'
        f"<td>of {esc(format_size(mem['flash']['size']))}</td></tr>",
        "</table>",
        *(f'<p class="sub">Note: {esc(note)}</p>' for note in profile.notes),
        "<h2>SRAM against the budget</h2>",
        sram_map(mem),
    ]
    stack = mem["stack"]
    if stack["function"]:
        chain = " → ".join(collapse_chain(stack["call_stack"]))
        out.append(f"<p>Stack peak {stack['peak']:,} B, first reached in "
                   f"<code>{esc(stack['function'])}</code> "
                   f"(<span class='mono'>{esc(chain)}</span>).</p>")
    heap = mem["heap"]
    if not heap["tracked"]:
        out.append("<p>Heap not tracked (the ELF has no <code>__heap_peak</code> symbol: an "
                   "allocator of its own, or a stripped ELF).</p>")

    if profile.layers:
        out.append("<h2>Cycles per layer</h2>")
        rows = [(layer.name, layer.inclusive.cycles, None) for layer in profile.layers]
        out.append(bar_chart(rows, total.cycles, colors=(COLORS["layer"], COLORS["layer"])))
        out.append('<table><tr><th>layer</th><th class="n">cycles</th><th class="n">share</th>'
                   '<th class="n">instructions</th><th class="n">calls</th></tr>')
        for layer in profile.layers:
            c = layer.inclusive
            out.append(f"<tr><td><code>{esc(layer.name)}</code></td>"
                       f'<td class="n">{c.cycles:,}</td>'
                       f'<td class="n">{pct_of(c.cycles, total.cycles)}</td>'
                       f'<td class="n">{c.instructions:,}</td>'
                       f'<td class="n">{layer.calls:,}</td></tr>')
        out.append("</table>")

    funcs = profile.functions[:top]
    out.append(f"<h2>Cycles per function (top {len(funcs)} by inclusive cycles)</h2>")
    out.append('<p class="sub"><span class="swatch" style="background:'
               f'{COLORS["inclusive"]}"></span>inclusive <span class="swatch" '
               f'style="background:{COLORS["self"]}"></span>self</p>')
    out.append(bar_chart([(f.name, f.inclusive.cycles, f.self.cycles) for f in funcs],
                         total.cycles))
    out.append('<table><tr><th>function</th><th class="n">inclusive cycles</th>'
               '<th class="n">share</th><th class="n">self cycles</th>'
               '<th class="n">inclusive instructions</th><th class="n">self instructions</th>'
               '<th class="n">calls</th><th class="n">longest call</th><th>source</th></tr>')
    for f in funcs:
        src = f"{Path(f.file).name}:{f.line}" if f.file else ""
        out.append(f"<tr><td>{fn_code(f.name)}</td>"
                   f'<td class="n">{f.inclusive.cycles:,}</td>'
                   f'<td class="n">{pct_of(f.inclusive.cycles, total.cycles)}</td>'
                   f'<td class="n">{f.self.cycles:,}</td>'
                   f'<td class="n">{f.inclusive.instructions:,}</td>'
                   f'<td class="n">{f.self.instructions:,}</td>'
                   f'<td class="n">{f.calls:,}</td>'
                   f'<td class="n">{"—" if f.max_call_cycles is None else f"{f.max_call_cycles:,}"}'
                   f'</td><td class="src mono">{esc(src)}</td></tr>')
    out.append("</table>")

    if profile.hot_lines:
        out.append(f"<h2>Hottest source lines (top {len(profile.hot_lines)})</h2>")
        out.append('<p class="sub">Executions of each line\'s instructions, over all its '
                   "addresses: a loop is a few lines here, where it is many instructions "
                   "below.</p>")
        out.append('<table><tr><th class="n">instructions</th><th class="n">share</th>'
                   "<th>line</th><th>function</th><th>source</th></tr>")
        for hl in profile.hot_lines:
            out.append(f'<tr><td class="n">{hl.instructions:,}</td>'
                       f'<td class="n">{pct_of(hl.instructions, total.instructions)}</td>'
                       f'<td class="mono">{esc(Path(hl.file).name)}:{hl.line}</td>'
                       f"<td>{fn_code(hl.function or '')}</td>"
                       f"<td class=\"src\"><code>{esc(hl.text or '')}</code></td></tr>")
        out.append("</table>")

    out.append(f"<h2>Hottest instructions (top {len(profile.hot)})</h2>")
    out.append('<p class="sub">Executions per instruction; cycles are base cycles '
               "(count times the instruction's cost), without pipeline refills.</p>")
    out.append('<table><tr><th class="n">count</th><th class="n">cycles</th><th>address</th>'
               "<th>function</th><th>instruction</th><th>line</th></tr>")
    for h in profile.hot:
        src = f"{Path(h.file).name}:{h.line}" if h.file else ""
        out.append(f'<tr><td class="n">{h.count:,}</td><td class="n">{h.count * h.cost:,}</td>'
                   f'<td class="mono">0x{h.address:08x}</td>'
                   f"<td>{fn_code(h.function or '')}</td>"
                   f"<td><code>{esc(h.instruction or '?')}</code></td>"
                   f'<td class="src mono">{esc(src)}</td></tr>')
    out.append("</table>")

    out.append("<h2>Static sections</h2>")
    out.append('<table><tr><th>section</th><th>kind</th><th>address</th>'
               '<th class="n">size</th></tr>')
    for s in mem["sections"]:
        out.append(f"<tr><td><code>{esc(s['name'])}</code></td><td>{esc(s['kind'])}</td>"
                   f'<td class="mono">0x{s["address"]:08x}</td>'
                   f'<td class="n">{s["size"]:,} B</td></tr>')
    out.append("</table>")
    out.append(f'<p class="sub">{profile.blocks:,} blocks executed '
               f"({profile.distinct_blocks:,} distinct). Generated by ebnn-sim profile.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"

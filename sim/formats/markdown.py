"""A diff of two reports as GitHub-flavoured Markdown, for a pull-request comment
(``ebnn-sim diff --markdown``)."""

from sim.diff import CALLS_TITLE, Change, Diff, section_title
from sim.printable import printable


def diff_markdown(d: Diff, base_name: str = "base", head_name: str = "head",
                  limit: int | None = 20) -> str:
    """The summary table, then one table per section (functions, layers); growth in bold."""
    lines = [f"### ebnn-sim: `{_escape(base_name)}` → `{_escape(head_name)}`", ""]
    for note in d.notes:
        lines += [f"> **Note:** {_escape(note)}", ""]
    lines += ["| metric | base | head | change | % |", "|---|---:|---:|---:|---:|"]
    for c in d.summary:
        lines.append(f"| {_escape(c.name)} | {_escape(c.base_text)} | {_escape(c.head_text)} | "
                     f"{_delta(c)} | {c.relative_text} |")
    for section, entries in d.sections.items():
        lines += ["", f"#### {_escape(section_title(section))}", ""]
        if not entries:
            lines.append(f"No change ({d.unchanged[section]} unchanged).")
            continue
        lines += ["| name | instructions | change | cycles | change | % |",
                  "|---|---:|---:|---:|---:|---:|"]
        shown = entries if limit is None else entries[:limit]
        for e in shown:
            ins, cyc = e.instructions, e.cycles
            lines.append(f"| `{_escape(e.name)}` | {ins.head_text} | {_delta(ins)} | "
                         f"{cyc.head_text} | {_delta(cyc)} | {cyc.relative_text} |")
        rest = len(entries) - len(shown)
        tail = f"{rest} more changed, " if rest else ""
        lines += ["", f"{tail}{d.unchanged[section]} unchanged."]
    if d.calls:
        lines += ["", f"#### {CALLS_TITLE}", "", "| function | base | head | change | % |",
                  "|---|---:|---:|---:|---:|"]
        calls = d.calls if limit is None else d.calls[:limit]
        for c in calls:
            lines.append(f"| `{_escape(c.name)}` | {c.base_text} | {c.head_text} | "
                         f"{_delta(c)} | {c.relative_text} |")
        if len(d.calls) > len(calls):
            lines += ["", f"{len(d.calls) - len(calls)} more changed."]
    if not d.any_change and not d.sections:  # each section above says so otherwise
        lines += ["", "No change."]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """An input's text in a table cell or a note: one line (a newline in a report's field
    started a heading or an image), its controls escaped, no pipe or backtick breaking out."""
    return printable(text, one_line=True).replace("|", "\\|").replace("`", "'")


def _delta(c: Change) -> str:
    text = c.delta_text
    if c.base is not None and c.head is not None and c.delta > 0:
        return f"**{text}**"  # growth stands out in a review
    return text

"""A profile as a speedscope file (https://www.speedscope.app, "File format" in its wiki).

One sampled profile weighted by estimated cycles: one sample per distinct call stack, weighted
with the cycles spent with that stack's innermost function running (its self cycles). The
weights add up to the run's total cycles, so speedscope's flame graph, left-heavy view and
sandwich view show where the cycles went. Frames are functions, with their source file and line
when the ELF has DWARF line information.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.profile import Profile

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def speedscope(profile: Profile, name: str | None = None) -> dict[str, Any]:
    """The speedscope document for ``profile`` (``json.dumps`` it to write the file)."""
    title = name or profile.report.elf
    frames: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    where = {f.name: f for f in profile.functions}

    def frame(func: str) -> int:
        i = index.get(func)
        if i is None:
            i = index[func] = len(frames)
            entry: dict[str, Any] = {"name": func}
            f = where.get(func)
            if f is not None and f.file is not None:
                entry["file"] = f.file
                entry["line"] = f.line
            frames.append(entry)
        return i

    samples, weights = [], []
    for stack in profile.stacks:
        if stack.self.cycles <= 0 or not stack.stack:
            continue
        samples.append([frame(func) for func in stack.stack])
        weights.append(stack.self.cycles)
    return {
        "$schema": SCHEMA,
        "shared": {"frames": frames},
        "profiles": [{
            "type": "sampled",
            "name": f"{title}: estimated cycles ({profile.report.core})",
            "unit": "none",
            "startValue": 0,
            "endValue": sum(weights),
            "samples": samples,
            "weights": weights,
        }],
        "name": title,
        "activeProfileIndex": 0,
        "exporter": "ebnn-sim profile",
    }

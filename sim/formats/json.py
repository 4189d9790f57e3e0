"""The JSON documents: the run report (docs/simulator.md), the profile (docs/profile.md) and the
results of ``ebnn-sim check`` (docs/ci.md). Keys are contracts: add, never rename."""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.formats import write_text

if TYPE_CHECKING:
    from sim.budget_check import Check
    from sim.budgets import CheckResult
    from sim.profile import Profile
    from sim.report import RunReport

# The cycle model's revision: raise it with every change that makes the estimate of an unchanged
# ELF differ (sim/timing.py, toolchain/cores.py, the refill and exception latencies), so that
# `ebnn-sim diff` can say two reports were estimated differently (docs/cycle-model.md).
CYCLE_MODEL = 1
CYCLES_METHOD = ("estimate: per-instruction timing table + refill per taken branch + exception "
                 "entry/return latency")


def write_json(path: Path, doc: Any, indent: int | None = 2) -> None:
    """``doc`` as JSON in ``path``, with a final newline, written atomically
    (``sim.formats.write_text``)."""
    write_text(path, json.dumps(doc, indent=indent) + "\n")


@cache
def tool_version() -> str | None:
    """The installed ebnn-sim's version (None: not installed as a package)."""
    try:
        return version("ebnn-sim")
    except PackageNotFoundError:
        return None


def report_dict(report: RunReport) -> dict[str, Any]:
    """``ebnn-sim run --json``."""
    return {
        "ebnn_sim_version": tool_version(),
        "cycle_model": CYCLE_MODEL,
        "status": report.status,
        "exit_code": report.exit_code,
        "instructions": report.instructions,
        "cycles": report.cycles,
        "cycles_method": CYCLES_METHOD,
        "time_ms": report.time_ms,
        "target": report.target,
        "core": report.core,
        "clock_hz": report.clock_hz,
        "clock_source": report.clock_source,
        "flash_wait_states": report.flash_wait_states,
        "sram": {
            "size": report.sram_size,
            "static": report.static,
            "static_sections": report.static_sections,
            "stack_peak": report.stack_peak,
            "heap_peak": report.heap_peak,
            "heap_tracked": report.heap_tracked,
            "peak": report.sram_peak,
            "thread_stacks": report.thread_stacks,
            "main_stacks": report.main_stacks,
            "reset_stack": report.reset_stack,
        },
        "flash": {"size": report.flash_size, "used": report.flash_used},
        "fault": None if report.fault is None else asdict(report.fault),
        "over_budget": [{"name": c.metric, "limit": c.limit, "actual": c.measured}
                        for c in report.over_budget],
        "stdout": report.stdout,
        "stdout_dropped": report.stdout_dropped,
        "refusals": report.refusals,
        "elf": report.elf,
        "wall_seconds": report.wall_seconds,
        "sleep_cycles": report.sleep_cycles,
        "sleep_ms": report.sleep_ms,
        "deep_sleeps": report.deep_sleeps,
        "resets": [r.to_dict() for r in report.resets],
        "reset_counts": report.reset_counts,
        "analog": report.analog,
        "pins": report.pins,
        "i2c": report.i2c,
        "spi": report.spi,
        "vcd": report.vcd,
        "clocks": [c.to_dict() for c in report.clocks],
        "clock_changes": report.clock_changes,
        "warnings": report.warnings,
        "exceptions": {"taken": report.exceptions, "tail_chained": report.tail_chained,
                       "handler_cycles": report.handler_cycles},
        "unmodelled_registers": report.unmodelled,
        "console_input": (None if report.console_input is None else
                          {"bytes": report.console_input, "read": report.console_read}),
        "vectored_faults": report.vectored_faults,
        "run_for": report.run_for,
        "stopped_at": report.stopped_at,
    }


def error_dict(elf: str | None, error: str) -> dict[str, Any]:
    """``ebnn-sim run --json`` and ``profile --json`` of a command that stopped at an error
    (exit 2: a usage error, an ELF that cannot be loaded, a bad input) before any run: the
    keys of a report that are known without one; no figure, the run did not happen. Its
    ``exit_code`` is, as in every run report, the firmware's: null, none ran."""
    return {
        "ebnn_sim_version": tool_version(),
        "status": "error",
        "exit_code": None,
        "error": error,  # the one line printed after "error: " (or click's "Error: ")
        "elf": elf,  # as given (null: none was)
    }


def profile_dict(prof: Profile) -> dict[str, Any]:
    """``ebnn-sim profile --json``."""
    r = prof.report
    return {
        "ebnn_sim_version": tool_version(),
        "cycle_model": CYCLE_MODEL,
        "elf": r.elf,
        "target": r.target,
        "core": r.core,
        "clock_hz": r.clock_hz,
        "status": r.status,
        "exit_code": r.exit_code,
        "total": {**prof.total.to_dict(), "time_ms": r.time_ms},
        "functions": [
            {
                "name": f.name,
                "symbol": f.symbol,
                "address": f.address,
                "file": f.file,
                "line": f.line,
                "calls": f.calls,
                "max_call_cycles": f.max_call_cycles,
                "self": f.self.to_dict(),
                "inclusive": f.inclusive.to_dict(),
                "share": prof.share(f.inclusive.cycles),
                "self_share": prof.share(f.self.cycles),
            }
            for f in prof.functions
        ],
        "layers": [
            {
                "name": layer.name,
                "index": layer.index,
                "instructions": layer.inclusive.instructions,
                "cycles": layer.inclusive.cycles,
                "calls": layer.calls,
                "share": prof.share(layer.inclusive.cycles),
            }
            for layer in prof.layers
        ],
        "hot": [
            {
                "address": h.address,
                "count": h.count,
                "cycles": h.count * h.cost,
                "instruction": h.instruction,
                "function": h.function,
                "source": h.source,
                "file": h.file,
                "line": h.line,
                "text": h.text,
            }
            for h in prof.hot
        ],
        "hot_lines": [
            {"source": h.source, "file": h.file, "line": h.line, "text": h.text,
             "function": h.function, "instructions": h.instructions,
             "share": h.instructions / prof.total.instructions if prof.total.instructions else 0}
            for h in prof.hot_lines
        ],
        "memory": prof.memory,
        "blocks": {"executed": prof.blocks, "distinct": prof.distinct_blocks},
        "notes": prof.notes,
        "run": report_dict(r),
    }


def _check_dict(check: Check) -> dict[str, Any]:
    missing = check.missing is not None  # nothing measured: the reason instead
    return {"metric": check.metric, "measured": None if missing else check.measured,
            "budget": check.limit, "margin": None if missing else check.margin,
            "passed": check.passed, "note": check.note, "budget_table": check.where,
            **({"missing": check.missing} if missing else {})}


def check_dict(result: CheckResult) -> dict[str, Any]:
    """``ebnn-sim check --json``: every ELF's checks and its full run report."""
    return {
        "ebnn_sim_version": tool_version(),
        "cycle_model": CYCLE_MODEL,
        "config": str(result.config.path),
        "exit_code": result.exit_code,
        "summary": result.summary,
        # the one line of the usage or configuration error that stopped the check (exit 2)
        "error": result.error,
        "elfs": [
            {"elf": e.name, "path": str(e.path), "problem": e.problem,
             "warnings": [w for r, w in result.warnings if r is e],
             "checks": [_check_dict(c) for c in e.checks], "report": report_dict(e.report)}
            for e in result.elfs
        ],
        "not_run": result.not_run,  # interrupted (Ctrl-C) or stopped by an error before these ran
    }

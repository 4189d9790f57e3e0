"""Firmware efficiency of every example model on every target profile (one per core).

Per model and target (``toolchain.profiles.TARGETS``): the firmware built by ``ebnn build``;
``ebnn-sim run`` on the embedded sample with the target's own SRAM and flash (static RAM, stack
peak, peak SRAM, flash used; a model that does not fit faults or fails to link, and that is
reported); and the instructions and estimated cycles of one inference, as ``ebnn-sim verify``
counts them (from entry to ``ebnn_infer`` to the report), median and max over the first test
images, with the time at the profile's clock.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench import common

IMAGES = 20  # test images per model and target for the per-inference counts
QUICK_IMAGES = 3


def measure(ex: common.Example, target: str, images: Any) -> dict[str, Any]:
    from bench.models import sample_run
    from ebnn.verify import run_firmware
    from toolchain.build import ToolchainError
    from toolchain.profiles import get_target

    t = get_target(target)
    row: dict[str, Any] = {"model": ex.name, "target": target, "core": t.core,
                           "part": t.part, "clock_hz": t.clock_hz, "sram_size": t.sram,
                           "flash_size": t.flash, "fpu": t.fpu}
    try:
        elf = common.build_elf(ex.artifact, target, ex.name)
    except ToolchainError as exc:
        row["error"] = f"does not build: {exc}"
        return row
    run = sample_run(elf)
    row.update({k: run[k] for k in ("status", "static", "stack_peak", "sram_peak",
                                    "flash_used")})
    row["run_instructions"] = run["instructions"]
    row["run_cycles"] = run["cycles"]
    if run["status"] != "ok" or run["exit_code"] != 0:
        row["error"] = f"ebnn-sim run: {run['status']}: {run['fault'] or run['exit_code']}"
        return row
    _, _, insns, cycles, _ = run_firmware(elf, images, target)
    row.update({
        "images": len(insns),
        "instructions": statistics.median(insns), "instructions_max": max(insns),
        "cycles": statistics.median(cycles), "cycles_max": max(cycles),
    })
    row["ms"] = row["cycles"] / t.clock_hz * 1e3
    row["fits_sram"] = row["sram_peak"] <= t.sram
    return row


def main(quick: bool, out: Path) -> int:
    from ebnn.artifact import load
    from toolchain.profiles import TARGETS

    t0 = time.perf_counter()
    examples = [e for e in common.discover() if e.artifact is not None]
    n = QUICK_IMAGES if quick else IMAGES
    result: dict[str, Any] = {
        **common.result_header("cores", quick),
        "images_per_row": n, "targets": list(TARGETS), "rows": [],
        "missing": [e.name for e in common.discover() if e.artifact is None],
    }
    status = 0
    con = common.console()
    con.print(f"[bold]cores[/]: {len(examples)} models x {len(TARGETS)} targets, "
              f"{n} images each")
    with common.progress() as prog:
        task = prog.add_task("models x cores", total=len(examples) * len(TARGETS))
        for ex in examples:
            art = load(ex.artifact)
            images = common.test_data(art).images[:n]
            for target in TARGETS:
                prog.update(task, description=f"{ex.name} on {target}")
                try:
                    row = measure(ex, target, images)
                except Exception as exc:  # report it in the table, keep going
                    row = {"model": ex.name, "target": target,
                           "error": f"{type(exc).__name__}: {exc}"}
                    status = 1
                result["rows"].append(row)
                prog.advance(task)
    result["bench_seconds"] = round(time.perf_counter() - t0, 1)
    common.write_json(out / "cores.json", result)
    return status

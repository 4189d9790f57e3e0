"""FreeRTOS, built by the project's toolchain and run in the simulator, against QEMU.

::

    .venv/bin/python -m bench freertos           # writes bench/results/freertos.json + page
    .venv/bin/python -m bench.freertos           # the same

The demo (bench/programs/freertos/main.c) has five tasks on static stacks, a queue, a binary
semaphore given from an interrupt handler (IRQ0, pended by the tick hook), SysTick ticks, time
slicing between two tasks that never block (in floating point on FPU parts) and an idle hook
that sleeps in WFI. FreeRTOS-Kernel is third-party code (MIT), read from
``../shared/thirdparty/FreeRTOS-Kernel`` beside the checkout and compiled from there, never
copied; when the folder is missing the part says so in one line and succeeds.

Per target (curie: ARM_CM3 port, nrf52832: ARM_CM4F, stm32l031: ARM_CM0): the console output
against QEMU's (mps2-an385, mps2-an386, micro:bit, with ``-icount shift=0,sleep=off`` so that
time follows the instruction count), exceptions taken, the share of cycles asleep, each task's
stack peak, and the wall time. Then the cost of one exception (entry and return) on this
machine: bench/programs/exception_loop.c takes N PendSV exceptions, or none (TAKE=0: the same
loop storing to RAM), run alternately; the median over the pairs of their CPU-time difference
over N, with its spread and the load average.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sim
from bench import common
from toolchain.build import build
from toolchain.profiles import get_target

KERNEL = common.REPO.parent / "shared" / "thirdparty" / "FreeRTOS-Kernel"
DEMO = common.BENCH_DIR / "programs" / "freertos"
FIRMWARE = common.REPO / "firmware"
# target -> (FreeRTOS port, QEMU machine with the same core and memory map)
PORTS = {"curie": ("ARM_CM3", "mps2-an385"), "nrf52832": ("ARM_CM4F", "mps2-an386"),
         "stm32l031": ("ARM_CM0", "microbit")}
EXCEPTION_LOOP = common.BENCH_DIR / "programs" / "exception_loop.c"


def build_demo(target: str, out_dir: Path, stack_report: bool = False) -> Path:
    """The demo for ``target``; with ``stack_report``, a build whose control task also prints
    each task's stack use as FreeRTOS measures it (uxTaskGetStackHighWaterMark)."""
    port, _ = PORTS[target]
    port_dir = KERNEL / "portable" / "GCC" / port
    sources = [DEMO / "main.c", FIRMWARE / "irq_startup.c", FIRMWARE / "semihost.c",
               KERNEL / "tasks.c", KERNEL / "queue.c", KERNEL / "list.c",
               *sorted(port_dir.glob("port*.c"))]
    t = get_target(target)
    defines: dict[str, str | int | None] = {"CPU_HZ": t.clock_hz, "PRIO_BITS": t.prio_bits}
    if stack_report:
        defines["STACK_REPORT"] = None
    out = out_dir / f"freertos-{target}{'-stacks' if stack_report else ''}.elf"
    build(sources, out, target, include_dirs=[KERNEL / "include", port_dir, DEMO],
          defines=defines, runtime=False)
    return out


def run_qemu(elf: Path, machine: str) -> tuple[int, str] | None:
    """(exit status, semihosting console) under QEMU; None without qemu-system-arm."""
    if not shutil.which("qemu-system-arm"):
        return None
    proc = subprocess.run(
        ["qemu-system-arm", "-M", machine, "-semihosting", "-nographic", "-monitor", "none",
         "-serial", "none", "-icount", "shift=0,align=off,sleep=off", "-kernel", str(elf)],
        capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def measure_target(target: str, out_dir: Path, repeats: int, use_qemu: bool) -> dict[str, Any]:
    elf = build_demo(target, out_dir)
    simulator = sim.Simulator(sim.load_elf(elf))
    walls = []
    report = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        report = simulator.run()
        walls.append(time.perf_counter() - t0)
    assert report is not None
    total = report.cycles + report.sleep_cycles
    entry: dict[str, Any] = {
        "target": target, "port": PORTS[target][0], "elf": elf, "status": report.status,
        "exit_code": report.exit_code, "stdout": report.stdout,
        "instructions": report.instructions, "cycles": report.cycles,
        "sleep_cycles": report.sleep_cycles,
        "sleep_share": report.sleep_cycles / total if total else 0.0,
        "exceptions": report.exceptions, "tail_chained": report.tail_chained,
        "handler_cycles": report.handler_cycles, "thread_stacks": report.thread_stacks,
        "main_stack_peak": report.stack_peak, "wall_seconds": statistics.median(walls),
        "qemu_machine": PORTS[target][1], "qemu_exit": None, "matches_qemu": None,
    }
    if use_qemu:
        qemu = run_qemu(elf, PORTS[target][1])
        if qemu is not None:
            entry["qemu_exit"] = qemu[0]
            entry["matches_qemu"] = qemu[1] == report.stdout and qemu[0] == report.exit_code
    return entry


def exception_cost(out_dir: Path, pairs: int, n: int) -> dict[str, Any]:
    """CPU time per exception (entry + return, and the store to ICSR that pends it): N
    PendSVs against the same loop that stores to a plain variable and calls the handler as a
    function (both run the handler's body N times), run alternately (with, without, with, ...)
    so that both halves of each pair see the same load; each pair gives (with - without) / N,
    and the median of the pairs is the cost, with the lowest and highest beside it. CPU time of this
    thread (``time.thread_time``), not wall time: the machine is shared, and waiting for a
    core is not the simulator's cost. The load average during the measurement is recorded."""
    simulators = {}
    for take in (1, 0):
        elf = out_dir / f"exception-loop-{take}.elf"
        build([FIRMWARE / "irq_startup.c", EXCEPTION_LOOP, FIRMWARE / "semihost.c"], elf, "curie",
              defines={"N": n, "TAKE": take}, runtime=False)
        simulators[take] = sim.Simulator(sim.load_elf(elf))
        simulators[take].run()  # translation happens once, in the first run
    seconds: dict[int, list[float]] = {1: [], 0: []}
    per_exception = []
    load_before = os.getloadavg()[0]
    for _ in range(pairs):
        for take in (1, 0):
            t0 = time.thread_time()
            report = simulators[take].run()
            seconds[take].append(time.thread_time() - t0)
            assert report.status == "ok" and report.exit_code == 0, report.problem
        per_exception.append((seconds[1][-1] - seconds[0][-1]) / n * 1e6)
    load = (load_before + os.getloadavg()[0]) / 2
    return {"n": n, "pairs": pairs, "with_seconds": statistics.median(seconds[1]),
            "without_seconds": statistics.median(seconds[0]),
            "us_per_exception": statistics.median(per_exception),
            "us_min": min(per_exception), "us_max": max(per_exception),
            "load_average": round(load, 2), "cores": os.cpu_count()}


def main(quick: bool, out: Path, repeats: int | None = None, use_qemu: bool = True) -> int:
    con = common.console()
    if not KERNEL.is_dir():
        con.print(f"freertos: {KERNEL} not found: part skipped")
        return 0
    repeats = repeats or (1 if quick else 3)
    t0 = time.perf_counter()
    build_dir = common.BUILD / "freertos"
    result: dict[str, Any] = common.result_header("freertos", quick)
    result["targets"] = []
    status = 0
    for target in PORTS:
        entry = measure_target(target, build_dir, repeats, use_qemu)
        result["targets"].append(entry)
        ok = entry["status"] == "ok" and entry["exit_code"] == 0 and entry["matches_qemu"] in (
            True, None)
        status |= 0 if ok else 1
        con.print(f"{target:10} {entry['port']:9} {entry['status']} exit {entry['exit_code']} "
                  f"QEMU {'same' if entry['matches_qemu'] else entry['matches_qemu']}  "
                  f"{sum(entry['exceptions'].values()):,} exceptions  "
                  f"sleep {100 * entry['sleep_share']:.0f}%  {entry['wall_seconds']:.3f} s")
    result["exception_cost"] = cost = exception_cost(build_dir, 5 if quick else 25,
                                                     2_000 if quick else 20_000)
    con.print(f"one exception (entry + return): {cost['us_per_exception']:.2f} us CPU, median "
              f"of {cost['pairs']} pairs ({cost['us_min']:.2f}-{cost['us_max']:.2f}), load "
              f"average {cost['load_average']:.1f} on {cost['cores']} cores")
    result["bench_seconds"] = round(time.perf_counter() - t0, 1)
    common.write_json(out / "freertos.json", result)
    return status


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv, out=common.RESULTS))

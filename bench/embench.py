"""Embench-IoT, built by the project's toolchain and run in the simulator, on every target.

Calibrating the cycle model: the M4 estimate of every benchmark against Embench's measured
STM32F407 (under a minute the first time, about 10 s once the ELFs are cached in
build/bench/embench/; only a change to the sources, the toolchain or the start-up code
rebuilds them, never one to sim/)::

    .venv/bin/python -m bench.embench --compare
    .venv/bin/python -m bench.embench --compare --variant stm32f746   # M7 estimate vs that M4

The full part (what ``make bench`` runs; writes bench/results/embench.json and the page)::

    .venv/bin/python -m bench embench            # or: python -m bench.embench
    .venv/bin/python -m bench embench --quick    # 3 benchmarks -> bench/results/quick/

Embench-IoT is third-party code (GPL-3.0): an input, never copied into this repository. It is
read from ``../shared/thirdparty/embench-iot`` beside the checkout; when that folder is missing
the part says so in one line and succeeds. Each benchmark of ``src/`` is compiled with Embench's
``support/main.c`` and ``support/beebsc.c`` and our board layer (bench/programs/embench_board.c:
empty ``initialise_board``, ``start_trigger`` and ``stop_trigger``) by ``toolchain.build.build``,
at -O2 with each target's own flags, ``GLOBAL_SCALE_FACTOR=1`` (one timed call of
``benchmark()``, the configuration of ``baseline-data/speed.json``, whose value x 1000 is the
measured cycles) and ``WARMUP_HEAT=1``. A benchmark that does not fit a part's SRAM or flash
is linked (and run) with the next larger power of two, and the row says so.

Per benchmark and target: the exit status (0: Embench's own ``verify_benchmark`` passed), the
instructions of the whole run, the instructions and estimated cycles of ``benchmark()`` alone
(between the marks at ``start_trigger`` and ``stop_trigger``, recorded in C by the simulator),
the SRAM peak, and QEMU's count of the same ELF (instruction-count plugin,
bench/programs/qemu_insn_count.c) on the MPS2/micro:bit board of the core (the M33's
mps2-an505 starts in the Secure state, and flash at 0 is Non-secure there: QEMU locks up, which
the row records). Then the instruction rates of the M0+ and the M3 (simulator and bare Unicorn
on the same ELFs, alternating), and the counting overhead on a CPU-bound loop of short blocks
(bench/sim_speed.py's measurement, shorter).

The comparison with hardware: Embench's baseline is an STM32F407 (Cortex-M4) at 16 MHz with 0
wait states, built with GCC -O2 -mfloat-abi=soft; ours is the ``nrf52832`` profile (Cortex-M4)
built with soft float (variant ``nrf52832-soft``) and run with 0 flash wait states.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bench import common

THIRDPARTY = common.REPO.parent / "shared" / "thirdparty"
EMBENCH = THIRDPARTY / "embench-iot"
BOARD = common.BENCH_DIR / "programs" / "embench_board.c"
BUILD_DIR = common.BUILD / "embench"

# Embench's scale: one timed benchmark() call (GLOBAL_SCALE_FACTOR=1) after one warm-up call.
DEFINES: dict[str, str | int | None] = {"GLOBAL_SCALE_FACTOR": 1, "WARMUP_HEAT": 1,
                                        "CPU_MHZ": 1}
OPT = "-O2"
# Third-party code: its warnings are not ours to fix (the build is otherwise the project's).
EXTRA_CFLAGS = ("-w",)
QUICK = ("aha-mont64", "crc32", "nettle-sha256")
KIB = 1024
# Where a benchmark does not fit the part: the next of these sizes that links and runs.
SRAM_STEPS = tuple(k * KIB for k in (8, 16, 32, 64, 128, 256))
FLASH_STEPS = tuple(k * KIB for k in (32, 64, 128, 256, 512, 1024))
MAX_INSTRUCTIONS = 400_000_000  # every benchmark runs 2.5-11 M; a bound against hangs
RUN_TIMEOUT = 120.0  # seconds of wall time per run

QEMU = "qemu-system-arm"
QEMU_TIMEOUT = 60.0  # seconds per QEMU run
QEMU_BUDGET = 600.0  # seconds for all QEMU runs of a part
QEMU_BOARDS = {  # core -> (board, SRAM the board has at 0x20000000)
    "cortex-m3": ("mps2-an385", 4 * KIB * KIB),
    "cortex-m4": ("mps2-an386", 4 * KIB * KIB),
    "cortex-m7": ("mps2-an500", 4 * KIB * KIB),
    "cortex-m33": ("mps2-an505", 4 * KIB * KIB),
    "cortex-m0plus": ("microbit", 16 * KIB),
}

BASELINE = {
    "file": "baseline-data/speed.json",
    "what": "Embench-IoT baseline: STM32F407 (Cortex-M4) at 16 MHz, 0 wait states, benchmark() "
            "timed with the DWT cycle counter, GCC -O2 -mfloat-abi=soft (Embench: GCC 14.1 + "
            "newlib); value x 1000 = measured cycles",
    "scale": 1000,
}
COMPARE = "nrf52832-soft"  # the variant compared with the STM32F407 measurement
M7, M33 = "stm32f746", "stm32l552"
M0, M3 = "stm32l031", "curie"
RATE_BENCHMARK = "nettle-sha256"
# popcount_loop: about 6.4 G instructions, the size `python -m bench sim` judges (a shorter run
# weighs ebnn-sim's fixed start-up, about 0.45 s of imports and ELF analysis, more)
OVERHEAD_ITERATIONS = 10_000_000
OVERHEAD_REPEATS = 3
OVERHEAD_LIMIT = 1.3  # issue 10: ebnn-sim run / bare Unicorn, wall time, whole process


# --- what is built ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    key: str  # row key: the target's name, or "<target>-soft"
    target: str  # profile name (toolchain.profiles.TARGETS)
    soft_float: bool = False  # built with -mfloat-abi=soft although the part has an FPU
    wait_states: int | None = None  # None: the profile's

    def profile(self) -> Any:
        """The toolchain.profiles.Target to build with: the profile, without its FPU for a
        soft-float variant (passing ``-mfloat-abi=soft`` in extra flags after the profile's
        ``-mfloat-abi=hard`` makes GCC's multilib selection fall back to the default ARM-state
        libraries, whose ``memcpy`` a Cortex-M cannot run)."""
        from toolchain.profiles import get_target

        t = get_target(self.target)
        return dataclasses.replace(t, fpu=None) if self.soft_float else t

    @property
    def float_abi(self) -> str:
        return "soft" if self.soft_float or self.profile().fpu is None else "hard"


def variants() -> list[Variant]:
    """Every target with its own flags, and the M4 with soft float beside it."""
    from toolchain.profiles import TARGETS

    out = []
    for name, t in TARGETS.items():
        out.append(Variant(name, name))
        if t.core == "cortex-m4":
            out.append(Variant(f"{name}-soft", name, soft_float=True, wait_states=0))
    return out


def variant(key: str) -> Variant:
    for v in variants():
        if v.key == key:
            return v
    raise SystemExit(f"unknown variant {key!r}; known: {', '.join(v.key for v in variants())}")


def embench_root() -> Path | None:
    """The Embench-IoT tree beside the checkout, or None."""
    return EMBENCH if (EMBENCH / "src").is_dir() and (EMBENCH / "support").is_dir() else None


def missing_line() -> str:
    return (f"Embench-IoT not found at {EMBENCH} (../shared/thirdparty/embench-iot beside the "
            "checkout): third-party section skipped")


def benchmark_names(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "src").iterdir()
                  if p.is_dir() and any(p.glob("*.c")))


def upstream_commit() -> str | None:
    """The Embench commit the shared folder's README records."""
    try:
        text = (THIRDPARTY / "README.md").read_text()
    except OSError:
        return None
    m = re.search(r"`embench-iot/`[^\n]*?`([0-9a-f]{40})`", text)
    return m.group(1) if m else None


def baseline(root: Path) -> dict[str, int]:
    """Measured cycles of benchmark() on the STM32F407, by benchmark."""
    data = json.loads((root / BASELINE["file"]).read_text())
    return {k: round(v * BASELINE["scale"]) for k, v in data.items()}


def sources(root: Path, name: str) -> list[Path]:
    bench_dir = root / "src" / name
    return [*sorted(bench_dir.glob("*.c")), root / "support" / "main.c",
            root / "support" / "beebsc.c", BOARD]


# --- building (cached: the cycle model changes far more often than the builds) -----------------

@dataclass
class Built:
    name: str
    variant: Variant
    elf: Path | None
    sram: int  # linked for
    flash: int
    enlarged: list[str] = field(default_factory=list)  # why sram/flash exceed the part's
    error: str | None = None
    seconds: float = 0.0
    cached: bool = False
    command: tuple[str, ...] = ()


@cache
def _gcc_version() -> str:
    return common.host()["arm-none-eabi-gcc"] or "?"


def _build_key(srcs: list[Path], target: Any, sram: int, flash: int) -> str:
    import firmware
    import toolchain

    h = hashlib.sha256()
    tc = Path(toolchain.__file__).parent
    fw = Path(firmware.__file__).parent
    for p in [*srcs, tc / "build.py", tc / "linker.py", tc / "memory_map.py",
              fw / "startup.c", fw / "semihost.c", fw / "semihost.h"]:
        h.update(str(p).encode())
        h.update(p.read_bytes())
    h.update(json.dumps([target.name, list(target.cflags), sram, flash, DEFINES, OPT,
                         list(EXTRA_CFLAGS), _gcc_version()]).encode())
    return h.hexdigest()[:20]


def _link(root: Path, name: str, v: Variant, sram: int, flash: int, use_cache: bool,
          build_dir: Path) -> tuple[Path, bool, tuple[str, ...]]:
    """Build one ELF for these memory sizes (ToolchainError when it does not compile or fit)."""
    from toolchain.build import build

    srcs = sources(root, name)
    target = v.profile()
    key = _build_key(srcs, target, sram, flash)
    elf = build_dir / v.key / f"{name}-{sram // KIB}k-{flash // KIB}k.elf"
    stamp = elf.with_suffix(".key")
    if use_cache and elf.is_file() and stamp.is_file():
        saved = json.loads(stamp.read_text())
        if saved.get("key") == key:
            return elf, True, tuple(saved.get("command", ()))
    res = build(srcs, elf, target, sram=sram, flash=flash,
                include_dirs=[root / "support", root / "src" / name], defines=DEFINES,
                opt=OPT, extra_cflags=EXTRA_CFLAGS)
    stamp.write_text(json.dumps({"key": key, "command": list(res.command)}))
    return elf, False, res.command


def _next(steps: tuple[int, ...], current: int) -> int | None:
    return next((s for s in steps if s > current), None)


def build_benchmark(root: Path, name: str, v: Variant, *, sram: int | None = None,
                    flash: int | None = None, use_cache: bool = True,
                    enlarged: list[str] | None = None, build_dir: Path | None = None) -> Built:
    """Link for the part's memories, or the next larger sizes where the linker says it needs
    them. ELFs go to ``build_dir`` (default build/bench/embench/)."""
    from toolchain.build import ToolchainError

    t = v.profile()
    sram = sram or t.sram
    flash = flash or t.flash
    notes = list(enlarged or [])
    t0 = time.perf_counter()
    while True:
        try:
            elf, cached, cmd = _link(root, name, v, sram, flash, use_cache,
                                     build_dir or BUILD_DIR)
            return Built(name, v, elf, sram, flash, notes, None,
                         time.perf_counter() - t0, cached, cmd)
        except ToolchainError as exc:
            text = str(exc)
            grow = []
            if re.search(r"region `RAM' overflowed|will not fit in region `RAM'", text):
                new = _next(SRAM_STEPS, sram)
                if new:
                    notes.append(f"static data does not fit {sram // KIB} KiB SRAM: linked for "
                                 f"{new // KIB} KiB")
                    sram = new
                    grow.append("sram")
            if re.search(r"region `FLASH' overflowed|will not fit in region `FLASH'", text):
                new = _next(FLASH_STEPS, flash)
                if new:
                    notes.append(f"code does not fit {flash // KIB} KiB flash: linked for "
                                 f"{new // KIB} KiB")
                    flash = new
                    grow.append("flash")
            if not grow:
                lines = [ln for ln in text.splitlines() if ln.strip()]
                return Built(name, v, None, sram, flash, notes,
                             "does not build: " + " | ".join(lines[-3:]),
                             time.perf_counter() - t0)


def build_all(root: Path, jobs: Iterable[tuple[str, Variant]], use_cache: bool = True,
              workers: int | None = None) -> dict[tuple[str, str], Built]:
    jobs = list(jobs)
    workers = workers or max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:  # each build is a gcc process
        done = pool.map(lambda j: build_benchmark(root, j[0], j[1], use_cache=use_cache), jobs)
        return {(b.name, b.variant.key): b for b in done}


# --- running ---------------------------------------------------------------------------------

def run_built(b: Built) -> dict[str, Any]:
    """Run the ELF in the simulator: the row of the results table."""
    from sim.elf import load_elf
    from sim.session import RunSpec, SessionError, prepare

    v = b.variant
    t = v.profile()
    row: dict[str, Any] = {
        "benchmark": b.name, "variant": v.key, "target": v.target, "core": t.core,
        "float_abi": v.float_abi, "sram_linked": b.sram, "flash_linked": b.flash,
        "sram_part": t.sram, "flash_part": t.flash, "enlarged": b.enlarged,
        "build_seconds": round(b.seconds, 2), "build_cached": b.cached,
    }
    if b.elf is None:
        row.update(status="build_failed", error=b.error)
        return row
    image = load_elf(b.elf)
    start, stop = image.symbols.get("start_trigger"), image.symbols.get("stop_trigger")
    if start is None or stop is None:
        row.update(status="build_failed", error="start_trigger/stop_trigger not in the ELF")
        return row
    try:
        simulator = prepare(image, RunSpec(target=v.target, sram=b.sram, flash=b.flash,
                                           wait_states=v.wait_states,
                                           max_instructions=MAX_INSTRUCTIONS,
                                           timeout=RUN_TIMEOUT))
    except SessionError as exc:
        row.update(status="error", error=exc.with_elf)
        return row
    simulator.add_marks([start & ~1, stop & ~1], capacity=4)
    report = simulator.run()
    marks = simulator.marks()
    row.update({
        "elf": common.rel(b.elf), "status": report.status, "exit_code": report.exit_code,
        "verified": report.status == "ok" and report.exit_code == 0,
        "instructions": report.instructions, "cycles": report.cycles,
        "static": report.static, "stack_peak": report.stack_peak,
        "heap_peak": report.heap_peak, "sram_peak": report.sram_peak,
        "flash_used": report.flash_used, "wait_states": report.flash_wait_states,
        "wall_s": round(report.wall_seconds, 4),
    })
    if report.fault is not None:
        f = report.fault
        row["fault"] = f"{f.kind}: {f.message}" + (f" in {f.function}" if f.function else "")
        row["fault_kind"] = f.kind
    addrs = [int(m[0]) for m in marks]
    if len(marks) >= 2 and addrs[0] == start & ~1 and addrs[1] == stop & ~1:
        row["bench_instructions"] = int(marks[1][1] - marks[0][1])
        row["bench_cycles"] = int(marks[1][2] - marks[0][2])
    return row


def measure(root: Path, b: Built, use_cache: bool = True) -> dict[str, Any]:
    """Run; where the stack overflows the part's SRAM, relink for more and run again."""
    row = run_built(b)
    while row.get("fault_kind") == "stack_overflow":
        new = _next(SRAM_STEPS, b.sram)
        if new is None:
            break
        note = f"stack overflows {b.sram // KIB} KiB SRAM at run time: linked for {new // KIB} KiB"
        assert b.elf is not None
        b = build_benchmark(root, b.name, b.variant, sram=new, flash=b.flash,
                            use_cache=use_cache, enlarged=[*b.enlarged, note],
                            build_dir=b.elf.parent.parent)
        row = run_built(b)
    return row


# --- QEMU --------------------------------------------------------------------------------------

def qemu_count(row: dict[str, Any], plugin: Path) -> dict[str, Any]:
    """QEMU's instruction count of the row's ELF on the core's board, or why there is none."""
    board, board_sram = QEMU_BOARDS[row["core"]]
    out: dict[str, Any] = {"board": board}
    if row["sram_linked"] > board_sram:
        out["error"] = (f"linked for {row['sram_linked'] // KIB} KiB SRAM; {board} has "
                        f"{board_sram // KIB} KiB")
        return out
    with tempfile.TemporaryDirectory(prefix="ebnn-embench-qemu-") as tmp:
        log = Path(tmp) / "count.txt"
        cmd = [QEMU, "-M", board, "-nographic", "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native",
               "-kernel", str(common.REPO / row["elf"]), "-plugin", str(plugin), "-d", "plugin",
               "-D", str(log)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=QEMU_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            out["error"] = f"timed out after {QEMU_TIMEOUT:.0f} s"
            return out
        out["seconds"] = round(time.perf_counter() - t0, 2)
        out["exit_code"] = proc.returncode
        text = log.read_text() if log.is_file() else ""
        m = re.search(r"^insns: (\d+)", text, re.MULTILINE)
        if proc.returncode != 0 or m is None:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            out["error"] = f"QEMU exit {proc.returncode}: " + (err[0] if err else "no count")
            return out
        out["instructions"] = int(m.group(1))
        out["matches"] = out["instructions"] == row["instructions"]
    return out


def add_qemu(rows: list[dict[str, Any]], log: Callable[[str], None]) -> dict[str, Any]:
    """QEMU counts for every verified row, two at a time, within QEMU_BUDGET seconds."""
    from bench import sim_speed

    if shutil.which(QEMU) is None:
        return {"skipped": f"{QEMU} not installed"}
    with tempfile.TemporaryDirectory(prefix="ebnn-embench-plugin-") as tmp:
        plugin = sim_speed.build_plugin(Path(tmp))
        if plugin is None:
            return {"skipped": "no host C compiler for the QEMU plugin"}
        todo = [r for r in rows if r.get("status") == "ok" and r.get("elf")]
        t0 = time.perf_counter()

        def one(r: dict[str, Any]) -> None:
            if time.perf_counter() - t0 > QEMU_BUDGET:
                r["qemu"] = {"board": QEMU_BOARDS[r["core"]][0],
                             "error": f"not run: the {QEMU_BUDGET:.0f} s budget was spent"}
                return
            r["qemu"] = qemu_count(r, plugin)

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(one, todo))
    counted = [r for r in todo if "instructions" in r.get("qemu", {})]
    log(f"QEMU: {len(counted)} of {len(todo)} runs counted in "
        f"{time.perf_counter() - t0:.0f} s")
    return {"plugin": "bench/programs/qemu_insn_count.c", "version": common.host()[
        "qemu-system-arm"], "runs": len(todo), "counted": len(counted),
        "matching": sum(1 for r in counted if r["qemu"]["matches"]),
        "seconds": round(time.perf_counter() - t0, 1)}


# --- analysis -----------------------------------------------------------------------------------

def geomean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _spread(pairs: list[tuple[str, float]]) -> dict[str, Any]:
    if not pairs:
        return {"geomean": None, "min": None, "max": None, "n": 0}
    lo = min(pairs, key=lambda p: p[1])
    hi = max(pairs, key=lambda p: p[1])
    return {"geomean": round(geomean([p[1] for p in pairs]) or 0, 4), "n": len(pairs),
            "min": {"benchmark": lo[0], "ratio": round(lo[1], 4)},
            "max": {"benchmark": hi[0], "ratio": round(hi[1], 4)}}


def _cycles(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {r["benchmark"]: r["bench_cycles"] for r in rows
            if r["variant"] == key and r.get("verified") and r.get("bench_cycles")}


def compare(rows: list[dict[str, Any]], measured: dict[str, int]) -> dict[str, Any]:
    """Our estimates against the STM32F407's measured cycles, and M7/M33 against our M4."""
    m4, m7, m33 = _cycles(rows, COMPARE), _cycles(rows, M7), _cycles(rows, M33)
    names = sorted({r["benchmark"] for r in rows} & set(measured))
    table = []
    for name in names:
        e = {"benchmark": name, "measured": measured[name], "m4": m4.get(name),
             "m7": m7.get(name), "m33": m33.get(name)}
        for k in ("m4", "m7", "m33"):
            e[f"{k}_vs_measured"] = round(e[k] / measured[name], 4) if e[k] else None
        e["m4_over_m7"] = round(m4[name] / m7[name], 4) if name in m4 and name in m7 else None
        e["m4_over_m33"] = round(m4[name] / m33[name], 4) if name in m4 and name in m33 \
            else None
        table.append(e)

    def pairs(key: str) -> list[tuple[str, float]]:
        return [(e["benchmark"], e[key]) for e in table if e[key] is not None]

    return {
        "estimate_variant": COMPARE, "m7_variant": M7, "m33_variant": M33,
        "rows": table,
        "m4_vs_measured": _spread(pairs("m4_vs_measured")),
        "m7_vs_measured": _spread(pairs("m7_vs_measured")),
        "m33_vs_measured": _spread(pairs("m33_vs_measured")),
        "m4_over_m7": _spread(pairs("m4_over_m7")),
        "m4_over_m33": _spread(pairs("m4_over_m33")),
        "not_verified": [n for n in names if n not in m4],
        "not_run": sorted(set(measured) - set(names)),
    }


def per_core(rows: list[dict[str, Any]], measured: dict[str, int]) -> list[dict[str, Any]]:
    """Per variant: geomean of benchmark() cycles and their ratio to our M4 and the F407."""
    ref = _cycles(rows, COMPARE)
    out = []
    for v in variants():
        cyc = _cycles(rows, v.key)
        common_names = sorted(set(cyc) & set(ref))
        meas = sorted(set(cyc) & set(measured))
        t = v.profile()
        out.append({
            "variant": v.key, "target": v.target, "core": t.core, "float_abi": v.float_abi,
            "clock_hz": t.clock_hz, "verified": len(cyc),
            "total": sum(1 for r in rows if r["variant"] == v.key),
            "geomean_cycles": round(geomean([cyc[n] for n in cyc]) or 0) if cyc else None,
            # > 1: fewer cycles than our M4 estimate (faster per MHz)
            "speed_vs_m4_estimate": round(geomean([ref[n] / cyc[n] for n in common_names])
                                          or 0, 4) if common_names else None,
            "estimate_vs_f407_measured": round(geomean([cyc[n] / measured[n] for n in meas])
                                               or 0, 4) if meas else None,
        })
    return out


def _timed_runs(row: dict[str, Any], v: Variant) -> tuple[float, float, bool]:
    """One run of the row's ELF by the simulator and one by bare Unicorn, each on a fresh
    engine: (simulator emu_start seconds, bare emu_start seconds, same exit status)."""
    from bench import bare_unicorn
    from sim.session import RunSpec, prepare

    elf = common.REPO / row["elf"]
    rep = prepare(elf, RunSpec(target=v.target, sram=row["sram_linked"],
                               flash=row["flash_linked"], wait_states=v.wait_states,
                               max_instructions=MAX_INSTRUCTIONS, timeout=RUN_TIMEOUT)).run()
    _, status, bare_s = bare_unicorn.run(elf.read_bytes(), row["flash_linked"],
                                         row["sram_linked"], row["core"])
    same = rep.instructions == row["instructions"] and status == row["exit_code"]
    return rep.wall_seconds, bare_s, same


def rates(rows: list[dict[str, Any]], names: list[str], repeats: int,
          log: Callable[[str], None]) -> dict[str, Any]:
    """Emulated instructions per second (emu_start) on the M0+ and the M3, by the simulator and
    by bare Unicorn (bench/bare_unicorn.py: the true core, no counting), on the ELFs measured
    (their runs are mostly benchmark(): the warm-up is one inner iteration of it). The cores
    alternate, so drifts in the load of a shared machine touch both alike; medians over
    ``repeats``, each run on a fresh engine."""
    keys = (M3, M0)
    t0 = time.perf_counter()
    by = {(r["benchmark"], r["variant"]): r for r in rows}
    table = []
    for name in names:
        entry: dict[str, Any] = {"benchmark": name}
        first = {k: by[(name, k)] for k in keys}
        samples: dict[str, list[tuple[float, float, bool]]] = {k: [] for k in keys}
        for r in range(repeats):
            for k in keys if r % 2 == 0 else keys[::-1]:
                if first[k].get("verified"):
                    samples[k].append(_timed_runs(first[k], variant(k)))
        for k in keys:
            row = first[k]
            if not row.get("verified") or not all(x[2] for x in samples[k]):
                entry[k] = {"error": row.get("error") or row.get("fault") or "not the same run"}
                continue
            sim_s = statistics.median(x[0] for x in samples[k])
            bare_s = statistics.median(x[1] for x in samples[k])
            entry[k] = {"instructions": row["instructions"], "sim_s": round(sim_s, 4),
                        "bare_s": round(bare_s, 4),
                        "sim_insn_per_s": round(row["instructions"] / sim_s),
                        "bare_insn_per_s": round(row["instructions"] / bare_s)}
        if "sim_s" in entry[M0] and "sim_s" in entry[M3]:
            entry["m0plus_over_m3"] = round(entry[M0]["sim_insn_per_s"]
                                            / entry[M3]["sim_insn_per_s"], 4)
            entry["bare_m0plus_over_m3"] = round(entry[M0]["bare_insn_per_s"]
                                                 / entry[M3]["bare_insn_per_s"], 4)
        table.append(entry)
    per: dict[str, Any] = {}
    for k in keys:
        ok = [e[k] for e in table if "sim_s" in e[k]]
        if ok:
            insns = sum(x["instructions"] for x in ok)
            sim_s, bare_s = sum(x["sim_s"] for x in ok), sum(x["bare_s"] for x in ok)
            per[k] = {"core": variant(k).profile().core, "benchmarks": len(ok),
                      "instructions": insns, "sim_s": round(sim_s, 3),
                      "bare_s": round(bare_s, 3), "sim_insn_per_s": round(insns / sim_s),
                      "bare_insn_per_s": round(insns / bare_s),
                      "sim_vs_bare": round(bare_s / sim_s, 4)}
    out: dict[str, Any] = {"repeats": repeats, "m3": M3, "m0plus": M0,
                           "benchmark": RATE_BENCHMARK, "rows": table, "per_variant": per,
                           "seconds": round(time.perf_counter() - t0, 1)}
    both = [e for e in table if "m0plus_over_m3" in e]
    if M0 in per and M3 in per:
        out["m0plus_over_m3"] = round(per[M0]["sim_insn_per_s"] / per[M3]["sim_insn_per_s"], 4)
        out["bare_m0plus_over_m3"] = round(per[M0]["bare_insn_per_s"]
                                           / per[M3]["bare_insn_per_s"], 4)
        out["m0plus_over_m3_geomean"] = round(geomean([e["m0plus_over_m3"] for e in both])
                                              or 0, 4)
    sha = next((e for e in both if e["benchmark"] == RATE_BENCHMARK), None)
    if sha:
        out[f"m0plus_over_m3_{RATE_BENCHMARK}"] = sha["m0plus_over_m3"]
        out[f"bare_m0plus_over_m3_{RATE_BENCHMARK}"] = sha["bare_m0plus_over_m3"]
    log(f"instruction rates: {len(both)} benchmarks on M3 and M0+, {repeats} repeats, "
        f"{out['seconds']:.0f} s")
    return out


def overhead(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """Counting overhead on a CPU-bound loop of short blocks: whole-process ``ebnn-sim run``
    vs bare Unicorn on bench/programs/popcount_loop.c, measured by bench/sim_speed.py's own
    code (fewer iterations and repeats than ``python -m bench sim``)."""
    from bench import sim_speed

    n = sim_speed.QUICK_ITERATIONS if quick else OVERHEAD_ITERATIONS
    reps = 1 if quick else OVERHEAD_REPEATS
    t0 = time.perf_counter()
    result = sim_speed.measure(quick, repeats=reps, iterations=n, use_qemu=False, log=log)
    s = sim_speed.summarise(result, time.perf_counter() - t0)
    return {
        "firmware": s["firmware"]["source"], "target": s["firmware"]["target"],
        "iterations": n, "instructions": s["instructions"], "repeats": reps,
        "commands": s["commands"], "median": s["median"], "ratio": s["ratio"],
        "rate_insn_per_s": s["rate_insn_per_s"],
        "exact": {k: s["exact"][k] for k in ("instructions_equal_across_repeats",
                                             "matches_prediction", "checksum_matches_bare")},
        "judged": not quick and s["instructions"] > 1e9, "limit": OVERHEAD_LIMIT,
        "seconds": s["bench_seconds"],
    }


# --- the part -------------------------------------------------------------------------------

def measure_all(root: Path, names: list[str], quick: bool, use_qemu: bool, repeats: int,
                use_cache: bool, with_overhead: bool,
                log: Callable[[str], None]) -> dict[str, Any]:
    # the overhead first, as `python -m bench sim` times it: before this process has run
    # anything else (its runs of the same ELF vary by about 10% on a shared machine anyway)
    overhead_result = overhead(quick, log) if with_overhead else None
    vs = variants()
    t0 = time.perf_counter()
    jobs = [(n, v) for v in vs for n in names]
    log(f"building {len(names)} benchmarks x {len(vs)} variants")
    built = build_all(root, jobs, use_cache)
    build_s = time.perf_counter() - t0
    log(f"built in {build_s:.0f} s ({sum(b.cached for b in built.values())} cached)")
    rows = []
    for v in vs:
        for n in names:
            rows.append(measure(root, built[(n, v.key)], use_cache))
        ok = sum(1 for r in rows if r["variant"] == v.key and r.get("verified"))
        log(f"  {v.key}: {ok}/{len(names)} verified")
    run_s = time.perf_counter() - t0 - build_s
    measured = baseline(root)
    result: dict[str, Any] = {
        "source": {
            "path": "../shared/thirdparty/embench-iot", "upstream": "github.com/embench/"
            "embench-iot", "commit": upstream_commit(), "licence": "GPL-3.0 (not copied here)",
            "benchmarks": names, "all_benchmarks": benchmark_names(root),
        },
        "build": {
            "board": common.rel(BOARD), "defines": DEFINES, "opt": OPT,
            "extra_cflags": list(EXTRA_CFLAGS), "compiler": _gcc_version(),
            "sources": "src/<benchmark>/*.c, support/main.c, support/beebsc.c, the board",
            "variants": [{"key": v.key, "target": v.target, "core": v.profile().core,
                          "cflags": list(v.profile().cflags), "float_abi": v.float_abi,
                          "wait_states": v.wait_states} for v in vs],
            "seconds": round(build_s, 1),
        },
        "baseline": {**{k: v for k, v in BASELINE.items()}, "cycles": measured},
        "rows": rows,
        "comparison": compare(rows, measured),
        "per_core": per_core(rows, measured),
        "run_seconds": round(run_s, 1),
    }
    result["rates"] = rates(rows, names, repeats, log)
    if use_qemu:
        result["qemu"] = add_qemu(rows, log)
    else:
        result["qemu"] = {"skipped": "--no-qemu"}
    if overhead_result is not None:
        result["overhead"] = overhead_result
    return result


def main(quick: bool, out: Path, use_qemu: bool = True, repeats: int | None = None,
         use_cache: bool = True, with_overhead: bool = True,
         benchmarks: list[str] | None = None) -> int:
    con = common.console()
    root = embench_root()
    if root is None:
        con.print(missing_line())
        common.write_json(out / "embench.json", {**common.result_header("embench", quick),
                                                  "skipped": missing_line()})
        return 0
    t0 = time.perf_counter()
    names = benchmarks or (list(QUICK) if quick else benchmark_names(root))
    unknown = sorted(set(names) - set(benchmark_names(root)))
    if unknown:
        con.print(f"[red]unknown Embench benchmarks: {', '.join(unknown)}[/]")
        return 1
    data = measure_all(root, names, quick, use_qemu, repeats or (1 if quick else 5), use_cache,
                       with_overhead, log=lambda m: con.print(f"[dim]{m}[/]"))
    result = {**common.result_header("embench", quick), **data,
              "bench_seconds": round(time.perf_counter() - t0, 1)}
    path = common.write_json(out / "embench.json", result)
    print_summary(result)
    con.print(f"wrote {common.rel(path)}")
    bad = [r for r in data["rows"] if not r.get("verified")]
    qbad = [r for r in data["rows"] if r.get("qemu", {}).get("matches") is False]
    for r in bad:
        con.print(f"[red]{r['benchmark']} on {r['variant']}: {r.get('status')} "
                  f"{r.get('error') or r.get('fault') or r.get('exit_code')}[/]")
    for r in qbad:
        con.print(f"[red]{r['benchmark']} on {r['variant']}: {r['instructions']:,} instructions, "
                  f"QEMU {r['qemu']['instructions']:,}[/]")
    return 1 if bad or qbad else 0


# --- printing ---------------------------------------------------------------------------------

def print_compare(cmp: dict[str, Any], key: str = "m4", title: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or "benchmark() cycles: our estimate vs the STM32F407 measured")
    for col in ("benchmark", "estimate", "measured (F407)", "estimate / measured"):
        table.add_column(col, justify="left" if col == "benchmark" else "right")
    for e in cmp["rows"]:
        est, r = e[key], e[f"{key}_vs_measured"]
        table.add_row(e["benchmark"], f"{est:,}" if est else "—", f"{e['measured']:,}",
                      f"{r:.3f}" if r else "—")
    s = cmp[f"{key}_vs_measured"]
    if s["geomean"]:
        table.add_row("[bold]geomean[/]", "", "", f"[bold]{s['geomean']:.3f}[/]")
    con = Console()
    con.print(table)
    if s["geomean"]:
        con.print(f"geomean {s['geomean']:.3f} over {s['n']} (min {s['min']['ratio']:.3f} "
                  f"{s['min']['benchmark']}, max {s['max']['ratio']:.3f} "
                  f"{s['max']['benchmark']})")


def print_summary(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    rows = result["rows"]
    table = Table(title="Embench-IoT: benchmark() estimated cycles (x: not verified; = / ≠Q: "
                        "QEMU's count equal / different)")
    keys = [v["key"] for v in result["build"]["variants"]]
    table.add_column("benchmark")
    for k in keys:
        table.add_column(k.replace("-", " "), justify="right")
    for name in result["source"]["benchmarks"]:
        cells = []
        for k in keys:
            r = next((r for r in rows if r["benchmark"] == name and r["variant"] == k), {})
            c = r.get("bench_cycles")
            mark = "" if r.get("verified") else " x"
            q = r.get("qemu", {}).get("matches")
            mark += "" if q is None else " =" if q else " ≠Q"
            cells.append(f"{c / 1e3:,.0f}k{mark}" if c else f"—{mark}")
        table.add_row(name, *cells)
    con.print(table)
    print_compare(result["comparison"])
    c = result["comparison"]
    for key, label in (("m4_over_m7", "M4 est / M7 est"), ("m4_over_m33", "M4 est / M33 est")):
        s = c[key]
        if s["geomean"]:
            con.print(f"{label}: geomean {s['geomean']:.3f} (min {s['min']['ratio']:.3f} "
                      f"{s['min']['benchmark']}, max {s['max']['ratio']:.3f} "
                      f"{s['max']['benchmark']})")
    rt = result["rates"]
    if "m0plus_over_m3" in rt:
        con.print(f"M0+/M3 instruction rate: {rt['m0plus_over_m3']:.3f} over all "
                  f"(bare Unicorn {rt['bare_m0plus_over_m3']:.3f}); "
                  f"{rt.get(f'm0plus_over_m3_{RATE_BENCHMARK}', float('nan')):.3f} on "
                  f"{RATE_BENCHMARK} (bare "
                  f"{rt.get(f'bare_m0plus_over_m3_{RATE_BENCHMARK}', float('nan')):.3f})")
    ov = result.get("overhead")
    if ov:
        con.print(f"counting overhead, {ov['firmware']} ({ov['instructions']:,} instructions): "
                  f"ebnn-sim run / bare Unicorn wall {ov['ratio']['wall']:.3f} (CPU "
                  f"{ov['ratio']['cpu']:.3f})")


def compare_only(names: list[str] | None, key: str, use_cache: bool) -> int:
    """Build and run one variant and print its estimate against the STM32F407 measurement."""
    con = common.console()
    root = embench_root()
    if root is None:
        con.print(missing_line())
        return 0
    t0 = time.perf_counter()
    v = variant(key)
    names = names or benchmark_names(root)
    built = build_all(root, [(n, v) for n in names], use_cache)
    rows = [measure(root, built[(n, v.key)], use_cache) for n in names]
    measured = baseline(root)
    est = {r["benchmark"]: r.get("bench_cycles") for r in rows if r.get("verified")}
    cmp = compare([{**r, "variant": COMPARE} for r in rows], measured)
    for r in rows:
        if not r.get("verified"):
            con.print(f"[red]{r['benchmark']}: {r.get('status')} "
                      f"{r.get('error') or r.get('fault') or r.get('exit_code')}[/]")
    title = (f"benchmark() cycles: {v.key} ({v.profile().core}, {v.float_abi} float, "
             f"{v.wait_states if v.wait_states is not None else v.profile().flash_wait_states} "
             f"wait states) estimate vs STM32F407 measured")
    print_compare(cmp, "m4", title)
    con.print(f"[dim]{len(est)}/{len(names)} verified; {time.perf_counter() - t0:.1f} s "
              f"({sum(b.cached for b in built.values())} builds cached)[/]")
    return 0 if len(est) == len(names) else 1


def cli(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.embench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compare", action="store_true",
                    help="only print one variant's benchmark() cycles against the STM32F407 "
                         "measurement (default variant nrf52832-soft); writes nothing")
    ap.add_argument("--variant", default=COMPARE,
                    help="with --compare: the variant to estimate (a target name, or "
                         "nrf52832-soft)")
    ap.add_argument("--benchmarks", default=None,
                    help="comma-separated subset of Embench's benchmarks")
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}; results "
                    "to bench/results/quick/")
    ap.add_argument("--no-qemu", action="store_true", help="skip QEMU's instruction counts")
    ap.add_argument("--no-cache", action="store_true", help="rebuild every ELF")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed runs of each ELF for the instruction rates (default 5, --quick 1)")
    ap.add_argument("--out", type=Path, default=None, help="directory for embench.json")
    args = ap.parse_args(argv)
    names = args.benchmarks.split(",") if args.benchmarks else None
    if args.compare:
        return compare_only(names, args.variant, not args.no_cache)
    from bench import report

    out = args.out or (common.QUICK_RESULTS if args.quick else common.RESULTS)
    status = main(args.quick, out, use_qemu=not args.no_qemu, repeats=args.repeats,
                  use_cache=not args.no_cache, benchmarks=names)
    report.main(quick=args.quick, out=out)
    return status


if __name__ == "__main__":
    sys.exit(cli())

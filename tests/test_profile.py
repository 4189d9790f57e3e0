"""``ebnn-sim profile``: per-function, per-layer and per-instruction attribution of a run.

The profile's totals must be the run report's totals exactly (instructions and estimated cycles),
self counts must add up to them, inclusive counts must never count a recursive function twice,
and the speedscope and HTML outputs must be well-formed and self-contained.
"""

import html
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_single_error_line

import sim
from ebnn.sim_plugin import OUTPUT_LAYER, layer_groups
from sim.formats.html import esc, render_html
from sim.formats.speedscope import SCHEMA, speedscope
from sim.profile import Profile, Profiler
from tests.test_exceptions import irq_program

ROOT = Path(__file__).resolve().parent.parent
DEPTH = 20  # recurse.c: main -> descend(DEPTH), DEPTH + 1 activations of descend

PROGRAMS = {
    "compute": (("compute.c",), None),
    "recurse": (("recurse.c", "descend.S"), {"DEPTH": DEPTH}),
    "hello": (("hello.c",), None),
    "heap": (("heap.c",), None),
    "long_names": (("long_names.c",), None),
}


def _profile(elf: Path, **options) -> tuple[sim.RunReport, Profile]:
    """(report of a plain run, profile of the same ELF with the same options, its functions
    grouped as the ebnn plugin groups them for ``ebnn-sim profile``)."""
    image = sim.load_elf(elf)
    plain = sim.Simulator(image, sim.RunOptions(**options)).run()
    prof = Profiler(sim.Simulator(image, sim.RunOptions(**options)),
                    groups=layer_groups(image)).run()
    return plain, prof


@pytest.fixture(scope="module")
def profiles(firmware):
    out = {}
    for name, (sources, defines) in PROGRAMS.items():
        out[name] = _profile(firmware(*sources, defines=defines))
    return out


def _assert_consistent(plain: sim.RunReport, prof: Profile) -> None:
    total = prof.total
    assert (total.instructions, total.cycles) == (plain.instructions, plain.cycles)
    assert (prof.report.instructions, prof.report.cycles) == (plain.instructions, plain.cycles)
    assert sum(f.self.instructions for f in prof.functions) == plain.instructions
    assert sum(f.self.cycles for f in prof.functions) == plain.cycles
    assert sum(prof.counts.values()) == plain.instructions  # per instruction, from blocks
    assert sum(s.self.cycles for s in prof.stacks) == plain.cycles
    for f in prof.functions:
        assert 0 <= f.self.instructions <= f.inclusive.instructions <= total.instructions
        assert 0 <= f.self.cycles <= f.inclusive.cycles <= total.cycles


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_totals_equal_the_run_report(profiles, name):
    plain, prof = profiles[name]
    assert plain.status == "ok" and plain.exit_code == 0
    assert prof.report.status == "ok"
    assert plain.instructions > 0
    _assert_consistent(plain, prof)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_reset_handler_includes_everything(profiles, name):
    _, prof = profiles[name]
    reset = prof.function("Reset_Handler")
    assert reset is not None and reset.calls == 1
    assert reset.inclusive.instructions == prof.total.instructions
    assert reset.inclusive.cycles == prof.total.cycles
    assert all(s.stack[0] == "Reset_Handler" for s in prof.stacks)


def test_main_dominates_a_compute_bound_program(profiles):
    _, prof = profiles["compute"]
    main = prof.function("main")
    assert main is not None and main.calls == 1
    assert 0.95 * prof.total.cycles <= main.inclusive.cycles <= prof.total.cycles
    assert prof.functions[0].name == "Reset_Handler"  # sorted by inclusive cycles
    # every return was seen: Reset_Handler -> main -> sh_write_int / sh_write0, and sh_exit
    assert max(len(s.stack) for s in prof.stacks) == 3
    assert prof.functions[1].name == "main"
    write_int = prof.function("sh_write_int")
    assert write_int is not None and write_int.calls == 1
    # sh_write_int is called from main: part of main's inclusive, not of its self
    assert main.inclusive.cycles >= main.self.cycles + write_int.inclusive.cycles


def test_recursion_is_not_double_counted(profiles):
    plain, prof = profiles["recurse"]
    descend = prof.function("descend")
    assert descend is not None
    assert descend.calls == DEPTH + 1
    # descend calls nothing else: every instruction under it is its own, counted once
    assert descend.inclusive == descend.self
    assert descend.inclusive.cycles < prof.total.cycles
    # main tail-calls descend (b.w): shown as main's callee
    main = prof.function("main")
    assert main is not None
    assert main.inclusive.cycles == main.self.cycles + descend.inclusive.cycles
    deepest = max(prof.stacks, key=lambda s: len(s.stack))
    assert deepest.stack.count("descend") == DEPTH + 1
    stack = prof.memory["stack"]
    assert stack["peak"] == plain.stack_peak
    assert stack["function"] == "descend"
    assert stack["call_stack"].count("descend") == DEPTH + 1


def test_the_longest_call_of_each_function(firmware, profiles):
    """max_call_cycles: a function's longest call, from its first block to its return, what it
    calls included (an uneven function's worst case: a streamed model's step, an interrupt
    handler). work(10) among work(1..10) takes as long as work(10) called alone."""
    _, many = _profile(firmware("calls.c"))
    _, once = _profile(firmware("calls.c", defines={"ONCE": None}))
    work, alone = many.function("work"), once.function("work")
    assert work is not None and alone is not None and (work.calls, alone.calls) == (10, 1)
    assert work.max_call_cycles == alone.max_call_cycles == alone.inclusive.cycles
    assert work.inclusive.cycles / 10 < work.max_call_cycles < work.inclusive.cycles
    # a recursive function's outermost call holds all the others
    descend = profiles["recurse"][1].function("descend")
    assert descend is not None and descend.max_call_cycles == descend.inclusive.cycles
    reset = once.function("Reset_Handler")  # never returns: no call to measure
    assert reset is not None and reset.max_call_cycles is None
    # an interrupt handler: each entry to its exception return, the same ten times
    _, ticks = _profile(firmware("../../firmware/irq_startup.c", "irq/systick.c",
                                 "../../firmware/semihost.c", runtime=False,
                                 defines={"TICKS": 10, "RELOAD": 999}))
    handler = ticks.function("SysTick_Handler")
    assert handler is not None and handler.calls == 10
    assert handler.max_call_cycles is not None
    assert 10 * handler.max_call_cycles == handler.inclusive.cycles


def _tick_profile(firmware, target: str, tickcsr: int) -> Profile:
    """irq/tick_spin.c's profile, every instruction listed among the hottest."""
    elf = firmware("../../firmware/irq_startup.c", "irq/tick_spin.c", "../../firmware/semihost.c",
                   runtime=False, target=target, defines={"TICKCSR": tickcsr})
    plain = sim.run(sim.load_elf(elf))
    assert plain.status == "ok" and plain.exit_code == 0, plain.problem
    prof = Profiler(sim.Simulator(sim.load_elf(elf)), top=100_000).run()
    _assert_consistent(plain, prof)
    assert plain.handler_cycles == prof.report.handler_cycles  # (natively, and in Python)
    return prof


def _own_base_cycles(prof: Profile, function: str) -> int:
    """The base cost (no refills, no latency) of what ``function`` executed, from the hottest
    instructions (the profile must list them all)."""
    return sum(h.count * h.cost for h in prof.hot
               if h.function and h.function.startswith(f"{function}+"))


def _documented_entry_latency() -> dict[str, int]:
    """Entry latency per core as docs/cycle-model.md states it."""
    text = " ".join((ROOT / "docs" / "cycle-model.md").read_text().split())
    m = re.search(r"an exception entry costs (\d+) cycles on the M3, M4, M7 and M33, (\d+) on "
                  r"the M0 and (\d+) on the M0\+; an exception return that pops a frame costs "
                  r"as much again", text)
    assert m is not None, "cycle-model.md no longer states the exception latency"
    return {"cortex-m4": int(m[1]), "cortex-m0": int(m[2]), "cortex-m0plus": int(m[3])}


@pytest.mark.parametrize(("target", "core"), [("nrf52832", "cortex-m4"),
                                              ("stm32l031", "cortex-m0plus")])
def test_exception_latency_is_as_the_docs_say_and_the_handlers(firmware, target, core):
    """Each SysTick interrupt adds the documented latency (12 cycles on the M4, 15 on the M0+)
    at its entry and again at its return; cycle-model.md said the model ignored it while
    simulator.md said 12 each (s53 profiling review M2). The profile charges both to the
    handler, its longest call included: the return's went to the function it interrupted, so
    a handler showed about 2/3 of its cost and the interrupted code grew with the interrupt
    rate (review M1)."""
    entry = _documented_entry_latency()[core]
    quiet = _tick_profile(firmware, target, 0)
    ticked = _tick_profile(firmware, target, 7)
    handler = ticked.function("SysTick_Handler")
    assert handler is not None and handler.calls >= 15
    body = _own_base_cycles(ticked, "SysTick_Handler")
    assert body % handler.calls == 0
    assert handler.self.cycles == handler.calls * 2 * entry + body
    assert handler.max_call_cycles == 2 * entry + body // handler.calls
    # the run report's handler_cycles the same (they left the return out: review M1)
    assert ticked.report.handler_cycles["SysTick"] == handler.self.cycles
    # what spin runs is the same; interrupted, it only loses refills its resumed blocks skip
    spin, alone = ticked.function("spin"), quiet.function("spin")
    assert spin is not None and alone is not None
    assert spin.self.instructions == alone.self.instructions
    assert alone.self.cycles - 3 * handler.calls <= spin.self.cycles <= alone.self.cycles
    simulator = " ".join((ROOT / "docs" / "simulator.md").read_text().split())
    assert ("an entry and a return that pops a frame add 12 cycles each (16 on the M0, 15 on "
            "the M0+), a tail-chain 6") in simulator
    assert "entry/exit latency beyond the refill" not in (ROOT / "docs" / "cycle-model.md"
                                                           ).read_text()


def test_a_stack_peak_in_a_handler_names_what_it_preempted(firmware):
    """The stack peak is reached in SysTick_Handler, its exception frame on top of spin's: the
    call stack shows the chain it preempted, then the handler, where it showed the handler
    alone, leaving out the depth that explains the peak (s53 profiling review L3)."""
    quiet = _tick_profile(firmware, "nrf52832", 0)
    ticked = _tick_profile(firmware, "nrf52832", 7)
    stack = ticked.memory["stack"]
    assert stack["function"] == "SysTick_Handler"
    assert stack["call_stack"] == ["Reset_Handler", "main", "spin", "SysTick_Handler"]
    assert stack["peak"] > quiet.memory["stack"]["peak"]
    assert quiet.memory["stack"]["call_stack"] == ["Reset_Handler", "main", "spin"]
    assert "Reset_Handler → main → spin → SysTick_Handler" in render_html(ticked)


def test_a_loop_of_tail_calls_counts_every_state_entered(firmware):
    """s1 -> s2 -> s3 -> s1 ... as tail calls (b.w), 30 states a chain, 5 chains: each state is
    entered 50 times. The loop back to s1 (already in the chain) counted no call, so s1 showed
    5 against s2's and s3's 50 (s53 profiling review L2); it stays one frame, not a new one."""
    plain, prof = _profile(firmware("tail_states.c"))
    _assert_consistent(plain, prof)
    states = [prof.function(f"s{i}") for i in (1, 2, 3)]
    assert all(s is not None for s in states)
    assert [s.calls for s in states if s is not None] == [50, 50, 50]
    assert max(len(s.stack) for s in prof.stacks) <= 6  # Reset_Handler, main, s1, s2, s3


def _irq_profile(firmware, name: str, **defines) -> Profile:
    elf = firmware("../../firmware/irq_startup.c", f"irq/{name}", "../../firmware/semihost.c",
                   runtime=False, defines=defines or None)
    plain, prof = _profile(elf)
    assert plain.status == "ok", plain.problem
    return prof


def test_the_longest_call_across_exceptions_threads_and_jumps(firmware):
    """A handler's tail call ends at the exception return; a handler on two nested vectors,
    and two threads running the same function, do not restart each other's calls; a call that
    ends in another function's middle is the called function's."""
    prof = _irq_profile(firmware, "calls.c", TAIL=None)
    spin = prof.function("spin")  # IRQ0_Handler is `b spin`
    assert spin is not None and spin.calls == 3 and spin.max_call_cycles is not None
    assert 3 * spin.max_call_cycles == spin.inclusive.cycles
    prof = _irq_profile(firmware, "calls.c", SHARED=None)
    shared = prof.function("shared_handler")  # IRQ0's run holds IRQ1's
    assert shared is not None and shared.calls == 2
    assert shared.max_call_cycles == shared.inclusive.cycles
    elf = firmware("../../firmware/irq_startup.c", "irq/shared_threads.c",
                   "../../firmware/semihost.c", runtime=False)
    plain, prof = _profile(elf)
    measured = [int(v) for v in re.findall(r"\d+", plain.stdout)]  # DWT, in the threads
    job = prof.function("job")
    assert job is not None and job.calls == 21 and job.max_call_cycles is not None
    assert abs(job.max_call_cycles - max(measured)) < 100, (job.max_call_cycles, measured)
    _, prof = _profile(firmware("midjump_main.c", "midjump.S"))
    work_a, func_b = prof.function("work_a"), prof.function("func_b")
    assert work_a is not None and func_b is not None
    assert work_a.max_call_cycles is not None and work_a.max_call_cycles > 2000
    assert func_b.max_call_cycles is not None
    assert func_b.max_call_cycles <= func_b.inclusive.cycles < 200


STATICS = ("statics/main.c", "statics/a.c", "statics/b.c")


def test_static_functions_of_one_name_are_kept_apart(firmware):
    """Two static helper()s (a.c: one call of 100 iterations; b.c: two calls, 1,000 and 10)
    and regs.h's read_reg in both files are four rows named by the file each was compiled in,
    with their own address, calls and longest call, in the JSON and the flame graph too
    (s53 profiling review H1: they were one row, its cycles put on one of them)."""
    elf = firmware(*STATICS)
    plain, prof = _profile(elf)
    _assert_consistent(plain, prof)
    image = sim.load_elf(elf)
    starts = {name: sorted(s for s, _, n in image.functions if n == name)
              for name in ("helper", "read_reg")}
    assert [len(v) for v in starts.values()] == [2, 2]
    names = {f.name for f in prof.functions}
    assert "helper" not in names and "read_reg" not in names
    a, b = prof.function("helper (a.c)"), prof.function("helper (b.c)")
    assert a is not None and b is not None
    assert (a.calls, b.calls) == (1, 2)
    assert a.symbol == b.symbol == "helper"
    assert sorted([a.address, b.address]) == starts["helper"]
    assert Path(a.file or "").name == "a.c" and Path(b.file or "").name == "b.c"
    assert a.max_call_cycles is not None and b.max_call_cycles is not None
    assert 5 * a.max_call_cycles < b.max_call_cycles < b.inclusive.cycles  # 1,000 vs 100
    # a static function in a header: one copy per file that includes it, named by that file
    ra, rb = prof.function("read_reg (a.c)"), prof.function("read_reg (b.c)")
    assert ra is not None and rb is not None and (ra.calls, rb.calls) == (1, 2)
    assert Path(ra.file or "").name == Path(rb.file or "").name == "regs.h"
    doc = prof.to_dict()
    rows = {f["name"]: f for f in doc["functions"]}
    assert rows["helper (a.c)"]["symbol"] == "helper"
    assert rows["helper (a.c)"]["address"] != rows["helper (b.c)"]["address"]
    assert {h["function"].rsplit("+0x", 1)[0] for h in doc["hot"]
            if h["source"] and "statics/b.c:" in h["source"] and "helper" in h["function"]
            } == {"helper (b.c)"}
    stacks = {tuple(s.stack) for s in prof.stacks}
    assert ("Reset_Handler", "main", "run_a", "helper (a.c)") in stacks
    assert ("Reset_Handler", "main", "run_b", "helper (b.c)") in stacks
    assert not any(s[-2:] in (("run_a", "helper (b.c)"), ("run_b", "helper (a.c)"))
                   for s in stacks)
    frames = [f["name"] for f in speedscope(prof)["shared"]["frames"]]
    assert {"helper (a.c)", "helper (b.c)"} <= set(frames) and len(frames) == len(set(frames))


def _cxx_firmware(tmp_path: Path) -> Path:
    """cxx/cxx_main.c with cxx/geo.cpp compiled by arm-none-eabi-g++ (`ebnn-sim build` takes C
    only), for curie."""
    from toolchain.build import build
    from toolchain.profiles import get_target

    gxx = shutil.which("arm-none-eabi-g++")  # (Debian's gcc-arm-none-eabi, which set-up installs)
    assert gxx is not None, "arm-none-eabi-g++ missing: `make setup` installs gcc-arm-none-eabi"
    programs = ROOT / "tests" / "programs" / "cxx"
    obj = tmp_path / "geo.o"
    subprocess.run([gxx, *get_target("curie").cflags, "-O2", "-g", "-fno-exceptions",
                    "-fno-rtti", "-ffunction-sections", "-c", str(programs / "geo.cpp"),
                    "-o", str(obj)], check=True)
    elf = tmp_path / "cxx.elf"
    build([programs / "cxx_main.c"], elf, "curie", extra_ldflags=[str(obj)])
    return elf


def test_cxx_functions_are_demangled_and_budgets_take_their_names(tmp_path):
    """C++ functions were shown mangled (_ZN3geo5totalEPKNS_4RectEi), and a budget on
    geo::total was 'no such function' (s53 profiling review L1): the profile shows them
    demangled, keeping the symbol in the JSON, and a budget takes the name with or without its
    parameters, or the symbol; an overloaded name without parameters is refused, naming them."""
    from helpers import run_cli_in_process

    elf = _cxx_firmware(tmp_path)
    plain, prof = _profile(elf)
    _assert_consistent(plain, prof)
    total = prof.function("geo::total(geo::Rect const*, int)")
    area = prof.function("geo::Rect::area() const [clone .isra.0]")  # GCC's copy of it
    one, two = prof.function("geo::scale(int)"), prof.function("geo::scale(long, int)")
    assert total is not None and area is not None and one is not None and two is not None
    assert total.calls >= 1 and area.calls == 3 * total.calls and one.calls == two.calls == 1
    assert total.symbol == "_ZN3geo5totalEPKNS_4RectEi"
    assert not any(f.name.startswith("_Z") for f in prof.functions)
    rows = {f["name"]: f for f in prof.to_dict()["functions"]}
    assert rows["geo::Rect::area() const [clone .isra.0]"]["symbol"] == (
        "_ZNK3geo4Rect4areaEv.isra.0")
    shutil.copy(elf, tmp_path / "c.elf")
    (tmp_path / "b.toml").write_text("".join(
        f'[[budget]]\nelf = "c.elf"\nfunction = "{f}"\ncall_cycles = 100000\n\n'
        for f in ("geo::total", "geo::scale(long, int)", "_ZN3geo5totalEPKNS_4RectEi",
                  "geo::Rect::area")))
    result = run_cli_in_process("check", "--config", "b.toml", "--json", "c.json",
                                cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    checks = json.loads((tmp_path / "c.json").read_text())["elfs"][0]["checks"]
    assert [(c["note"], c["measured"]) for c in checks] == [
        ("geo::total", total.max_call_cycles), ("geo::scale(long, int)", two.max_call_cycles),
        ("_ZN3geo5totalEPKNS_4RectEi", total.max_call_cycles),
        ("geo::Rect::area as geo::Rect::area() const [clone .isra.0]", area.max_call_cycles)]
    (tmp_path / "b.toml").write_text(
        '[[budget]]\nelf = "c.elf"\nfunction = "geo::scale"\ncall_cycles = 100000\n')
    line = assert_single_error_line(run_cli_in_process("check", "--config", "b.toml",
                                                       cwd=tmp_path))
    assert ("function = 'geo::scale' names 2 overloads (geo::scale(int), "
            "geo::scale(long, int))") in line, line


def test_a_stripped_or_debugless_elf_is_said_to_be(firmware, tmp_path):
    """A stripped ELF's profile was one '<unknown>' row without a word, and a function budget
    on it said 'no such function'; without DWARF the source lines just vanished (s53 profiling
    review L8): the profile (text, JSON, HTML) and the budget say what the ELF lacks."""
    from helpers import run_cli_in_process

    elf = firmware("calls.c")
    strip = shutil.which("arm-none-eabi-strip")
    assert strip is not None  # binutils-arm-none-eabi, with the toolchain
    stripped, nodebug = tmp_path / "stripped.elf", tmp_path / "nodebug.elf"
    subprocess.run([strip, str(elf), "-o", str(stripped)], check=True)
    subprocess.run([strip, "--strip-debug", str(elf), "-o", str(nodebug)], check=True)
    whole = Profiler(sim.Simulator(sim.load_elf(elf))).run()
    assert whole.notes == []
    prof = Profiler(sim.Simulator(sim.load_elf(stripped))).run()
    assert [f.name for f in prof.functions] == ["<unknown>"]
    assert prof.notes[0].startswith("the ELF has no function symbols (stripped)")
    assert prof.notes[1].startswith("the ELF has no DWARF line information")
    assert prof.to_dict()["notes"] == prof.notes
    assert "Note: the ELF has no function symbols (stripped)" in render_html(prof)
    prof = Profiler(sim.Simulator(sim.load_elf(nodebug))).run()
    assert prof.function("work") is not None and prof.hot_lines == []
    assert prof.notes == ["the ELF has no DWARF line information (built without -g, or "
                          "stripped of it): no source lines"]
    text = run_cli_in_process("profile", nodebug, env={"COLUMNS": "80"})
    assert "note: the ELF has no DWARF line information" in text.stdout
    (tmp_path / "b.toml").write_text(
        '[[budget]]\nelf = "stripped.elf"\nfunction = "work"\ncall_cycles = 1000\n')
    result = run_cli_in_process("check", "--config", "b.toml", "--json", "c.json",
                                cwd=tmp_path)
    assert result.returncode == 3, result.stdout
    [c] = json.loads((tmp_path / "c.json").read_text())["elfs"][0]["checks"]
    assert c["missing"] == ("work: no such function in the ELF: it has no function symbols "
                            "(stripped)")


def test_hot_instructions_point_to_source_lines(profiles):
    _, prof = profiles["compute"]
    hot = prof.hot
    assert len(hot) == 20
    counts = [h.count for h in hot]
    assert counts == sorted(counts, reverse=True)
    # the CRC's inner loop runs 256 bytes x 8 bits = 2048 times
    assert hot[0].count == 2048
    assert all(h.instruction for h in hot)
    own = [h for h in hot if h.function and h.function.startswith("main+")]
    assert len(own) >= 5
    for h in own:
        assert h.file is not None and Path(h.file).is_file(), h
        assert Path(h.file).name == "compute.c"
        assert h.line is not None and h.line > 0
        assert h.text  # the source line itself
        assert prof.counts[h.address] == h.count


def test_hot_source_lines_group_a_loop(profiles):
    """The hottest instructions of a loop are many; its hot source lines are few, each with the
    executions of all its instructions (issue 16)."""
    _, prof = profiles["compute"]
    lines = prof.hot_lines
    assert lines and len({(h.file, h.line) for h in lines}) == len(lines)
    counts = [h.instructions for h in lines]
    assert counts == sorted(counts, reverse=True)
    for hl in lines:  # each line's count is the sum over its addresses
        assert hl.instructions == sum(n for a, n in prof.counts.items()
                                      if prof.sources and prof.sources.lookup(a) ==
                                      (hl.file, hl.line))
    top = lines[0]
    assert Path(top.file).name == "compute.c" and top.function == "main"
    assert top.text and "crc" in top.text  # the inner CRC loop's line
    # the 20 hottest instructions are all on a handful of lines, each listed among hot lines
    assert {(h.file, h.line) for h in prof.hot} <= {(h.file, h.line) for h in lines}
    assert prof.to_dict()["hot_lines"][0]["instructions"] == top.instructions


@pytest.mark.parametrize("columns", [80, 120])
def test_profile_text_fits_the_terminal(profiles, columns):
    """Nothing wider than the terminal, no function name split over lines, no cut cells."""
    from rich.console import Console

    from sim.formats.text import print_profile

    _, prof = profiles["compute"]
    buf = io.StringIO()
    print_profile(prof, Console(file=buf, width=columns, force_terminal=False))
    text = buf.getvalue()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= columns
    assert "…" not in text
    for header in ("incl cycles", "self cycles", "incl insns", "calls", "instruction", "note"):
        # every column, its header whole: below 100 columns on two lines ("incl" / "cycles")
        words = header.split() if columns < 100 else [header]
        assert all(re.search(rf"(^|\s){w}(\s|$)", text, re.M) for w in words), header
    for f in prof.functions:
        assert re.search(rf"^{re.escape(f.name)}\s", text, re.M), f.name
    for hl in prof.hot_lines:  # each hot line's code is on one line of the output at 80+
        if hl.text and len(hl.text) < columns - 25:
            assert hl.text in text


def test_memory_section(profiles):
    plain, prof = profiles["compute"]
    mem = prof.memory
    assert mem["sram_size"] == plain.sram_size
    assert mem["static"] == plain.static
    assert mem["peak"] == plain.sram_peak
    assert mem["free"] == plain.sram_size - plain.sram_peak
    bss = [s for s in mem["sections"] if s["name"] == ".bss"]
    assert bss and bss[0]["size"] == 256 and bss[0]["kind"] == "bss"  # compute.c's data[256]
    assert mem["stack"]["peak"] == plain.stack_peak > 0
    assert mem["stack"]["lowest"] == mem["stack"]["top"] - plain.stack_peak
    assert mem["stack"]["function"] in {f.name for f in prof.functions}

    plain, prof = profiles["heap"]
    heap = prof.memory["heap"]
    assert heap["tracked"] is True
    assert heap["peak"] == plain.heap_peak == 384


@pytest.mark.parametrize("case", [
    ("faults.c", {"CASE": "unmapped_read"}, {}),
    ("faults.c", {"CASE": "stack_overflow"}, {}),
    ("spin.c", None, {"max_instructions": 1001}),
])
def test_totals_match_when_the_run_stops_early(firmware, case):
    source, defines, options = case
    plain, prof = _profile(firmware(source, defines=defines), **options)
    assert plain.status in ("fault", "timeout")
    assert prof.report.status == plain.status
    _assert_consistent(plain, prof)


@pytest.mark.parametrize("case", [
    ("flashprog.c", {"CASE_stm": None}, {}),  # a store into flash: the block cut, resumed
    ("eeprom.c", {"CASE_program": None}, {}),  # stores to the EEPROM: the same
    ("vfault.c", None, {"vector_faults": True}),  # faults delivered: the rest never runs
], ids=["flash", "eeprom", "vector_faults"])
def test_totals_match_when_the_simulator_takes_back_part_of_a_block(firmware, case):
    """The instructions after a store the simulator carries out (or a fault it delivers),
    counted with their block, are taken back (Simulator.on_cut): no instruction is counted
    twice, none that did not run is counted."""
    source, defines, options = case
    target = "curie" if source == "vfault.c" else "stm32l031"
    elf = irq_program(firmware, source, target, **(defines or {}))
    plain, prof = _profile(elf, **options)
    assert plain.status == "ok", plain.problem
    _assert_consistent(plain, prof)


# --- speedscope ----------------------------------------------------------------------------
UNITS = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"}


def validate_speedscope(doc: dict) -> None:
    """The structure speedscope's file-format schema requires of a sampled profile."""
    assert isinstance(doc, dict)
    assert doc["$schema"] == SCHEMA == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert isinstance(frames, list) and frames
    for frame in frames:
        assert isinstance(frame["name"], str) and frame["name"]
        assert set(frame) <= {"name", "file", "line", "col"}
        if "file" in frame:
            assert isinstance(frame["file"], str)
        if "line" in frame:
            assert isinstance(frame["line"], int)
    profiles = doc["profiles"]
    assert isinstance(profiles, list) and profiles
    for p in profiles:
        assert p["type"] == "sampled"
        assert isinstance(p["name"], str)
        assert p["unit"] in UNITS
        for key in ("startValue", "endValue"):
            assert isinstance(p[key], int | float) and not isinstance(p[key], bool)
        samples, weights = p["samples"], p["weights"]
        assert isinstance(samples, list) and isinstance(weights, list)
        assert len(samples) == len(weights)
        for stack in samples:
            assert isinstance(stack, list) and stack
            assert all(isinstance(i, int) and 0 <= i < len(frames) for i in stack)
        assert all(isinstance(w, int | float) and w >= 0 for w in weights)
        assert p["endValue"] - p["startValue"] == sum(weights)
    for key in ("name", "exporter"):
        if key in doc:
            assert isinstance(doc[key], str)
    if "activeProfileIndex" in doc:
        assert 0 <= doc["activeProfileIndex"] < len(profiles)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_speedscope_is_a_valid_flame_graph_of_the_cycles(profiles, name):
    plain, prof = profiles[name]
    doc = json.loads(json.dumps(speedscope(prof)))
    validate_speedscope(doc)
    p = doc["profiles"][0]
    assert p["endValue"] == sum(p["weights"]) == plain.cycles
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert len(names) == len(set(names))
    assert all(names[s[0]] == "Reset_Handler" for s in p["samples"])
    main = doc["shared"]["frames"][names.index("main")]
    assert Path(main["file"]).is_file() and main["line"] > 0


def test_speedscope_recursion_is_a_deep_stack(profiles):
    _, prof = profiles["recurse"]
    doc = speedscope(prof)
    names = [f["name"] for f in doc["shared"]["frames"]]
    depth = max(sum(names[i] == "descend" for i in s) for s in doc["profiles"][0]["samples"])
    assert depth == DEPTH + 1


# --- HTML ------------------------------------------------------------------------------------
# No external resource of any kind. (Text from the firmware is escaped, so "<" never starts a
# tag there; "src=" may legitimately appear in a C source line.)
FORBIDDEN = ("http://", "https://", "<script", "<link", "url(", "@import", "<img", "<iframe",
             "<object", "<embed", "<a ", "<base", "<meta http-equiv")


def assert_self_contained(page: str) -> None:
    low = page.lower()
    for bad in FORBIDDEN:
        assert bad not in low, bad
    assert "<svg" in low


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_html_is_self_contained(profiles, name):
    _, prof = profiles[name]
    page = render_html(prof)
    assert page.startswith("<!DOCTYPE html>")
    assert_self_contained(page)
    assert "SRAM against the budget" in page
    assert "Cycles per function" in page
    assert "Hottest instructions" in page
    assert f"{prof.total.cycles:,}" in page
    for f in prof.functions[:5]:
        assert esc(f.name) in page


def test_html_text_cannot_smuggle_addresses():
    text = esc('see https://example.org/a <script src="x"> url(evil) URL(x)')
    assert_self_contained("<svg>" + text)
    assert "&lt;script" in text


# --- command line ------------------------------------------------------------------------------
JSON_KEYS = {"elf", "target", "core", "clock_hz", "status", "exit_code", "total", "functions",
             "layers", "hot", "memory", "blocks", "run"}


def test_cli_writes_all_outputs(cli, firmware, tmp_path):
    elf = firmware("compute.c")
    paths = {k: tmp_path / f"out.{k}" for k in ("json", "speedscope", "html")}
    result = cli("profile", elf, "--top", "7", "--json", paths["json"],
                 "--speedscope", paths["speedscope"], "--html", paths["html"], json=False)
    assert result.returncode == 0, result
    assert "Traceback" not in result.stdout + result.stderr
    for heading in ("functions", "hottest instructions", "memory", "main", "compute.c:19"):
        assert heading in result.stdout
    plain = sim.run(sim.load_elf(elf))
    doc = json.loads(paths["json"].read_text())
    assert set(doc) >= JSON_KEYS
    assert doc["total"]["instructions"] == plain.instructions
    assert doc["total"]["cycles"] == plain.cycles
    assert set(doc["total"]) == {"instructions", "cycles", "time_ms"}
    for f in doc["functions"]:
        assert set(f) >= {"name", "self", "inclusive", "share", "calls"}
        assert set(f["self"]) == set(f["inclusive"]) == {"instructions", "cycles"}
        assert 0 <= f["share"] <= 1
    assert sum(f["self"]["cycles"] for f in doc["functions"]) == plain.cycles
    assert len(doc["hot"]) == 7
    for h in doc["hot"]:
        assert set(h) >= {"address", "count", "instruction", "source"}
    assert doc["hot"][0]["source"].endswith("compute.c:19")
    assert set(doc["memory"]) >= {"sram_size", "sections", "static", "stack", "heap", "peak",
                                  "free", "flash"}
    assert doc["layers"] == []
    assert doc["run"]["instructions"] == plain.instructions
    validate_speedscope(json.loads(paths["speedscope"].read_text()))
    assert_self_contained(paths["html"].read_text())


def test_cli_missing_elf_is_one_error_line(cli, tmp_path):
    line = assert_single_error_line(cli("profile", tmp_path / "missing.elf", json=False))
    assert "missing.elf" in line


def test_cli_not_an_elf_is_one_error_line(cli, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not firmware\n")
    assert_single_error_line(cli("profile", bad, json=False))


def test_cli_exit_status_follows_the_run(cli, firmware):
    result = cli("profile", firmware("faults.c", defines={"CASE": "unmapped_read"}), json=False)
    assert result.returncode == 4
    assert "unmapped_read" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# --- eBNN firmware: layers -----------------------------------------------------------------
def test_ebnn_layers(tmp_path, cli):
    from test_ebnn_exact import random_model

    from ebnn.build import build_firmware
    from ebnn.export import export_model

    art = export_model(random_model("strided"))
    art.sample = np.random.default_rng(3).integers(0, 256, tuple(art.input_shape), np.uint8)
    result, _ = build_firmware(art, tmp_path / "strided.elf", "curie")
    plain, prof = _profile(result.elf)
    assert plain.status == "ok" and plain.exit_code == 0
    _assert_consistent(plain, prof)
    hidden = len(art.hidden)
    names = [layer.name for layer in prof.layers]
    assert names == [f"ebnn_layer{i}" for i in range(hidden)] + [OUTPUT_LAYER]
    assert all(layer.calls == 1 and layer.inclusive.cycles > 0 for layer in prof.layers)
    infer = prof.function("ebnn_infer")
    assert infer is not None
    # ebnn_infer tail-calls the output layer (b.w): still shown as its callee
    assert [OUTPUT_LAYER] in [s.stack[-1:] for s in prof.stacks if "ebnn_infer" in s.stack]
    assert max(len(s.stack) for s in prof.stacks) <= 5  # returns seen; no runaway nesting
    layer_cycles = sum(layer.inclusive.cycles for layer in prof.layers)
    assert layer_cycles <= infer.inclusive.cycles <= prof.total.cycles

    out = tmp_path / "p.json"
    cli_result = cli("profile", result.elf, "--json", out, "--html", tmp_path / "p.html",
                     json=False)
    assert cli_result.returncode == 0, cli_result
    assert "layers" in cli_result.stdout
    doc = json.loads(out.read_text())
    assert [layer["name"] for layer in doc["layers"]] == names
    assert sum(layer["cycles"] for layer in doc["layers"]) == layer_cycles
    page = (tmp_path / "p.html").read_text()
    assert "Cycles per layer" in page and "ebnn_output_layer" in page
    assert_self_contained(page)


# --- the HTML page as a person sees it -----------------------------------------------------------

@pytest.mark.parametrize("name", ["chain", "seqrows"])
def test_ebnn_layers_of_a_streaming_build(tmp_path, name):
    """`ebnn build --stream` drops ebnn_infer and the whole-input layers: the layers are its
    rows functions (and the output layer's count), which the table listed none of."""
    from test_ebnn_exact import random_model

    from ebnn.build import build_firmware
    from ebnn.export import export_model

    art = export_model(random_model(name))
    art.sample = np.random.default_rng(3).integers(0, 256, tuple(art.input_shape), np.uint8)
    result, _ = build_firmware(art, tmp_path / f"{name}.elf", "curie", stream=True)
    plain, prof = _profile(result.elf)
    assert plain.status == "ok" and plain.exit_code == 0
    _assert_consistent(plain, prof)
    names = [layer.name for layer in prof.layers]
    convs = [f"ebnn_layer{i}" for i, layer in enumerate(art.hidden) if len(layer.out_shape) == 3]
    assert names[:len(convs)] == convs and names[-1] == OUTPUT_LAYER
    assert all(layer.inclusive.cycles > 0 for layer in prof.layers)
    assert sum(layer.inclusive.cycles for layer in prof.layers) < prof.total.cycles


def test_html_recursion_is_collapsed_and_paths_are_short(profiles):
    from sim.formats.html import collapse_chain

    assert collapse_chain(["main", "dive", "dive", "dive", "leaf"]) == [
        "main", "dive \u00d73", "leaf"]
    _, prof = profiles["recurse"]
    page = render_html(prof)
    assert f"descend \u00d7{DEPTH + 1}" in page  # the stack-peak chain
    assert "descend → descend" not in page
    assert str(ROOT) not in page and "/tmp/" not in page  # no host paths of the build machine


def test_html_header_without_exit_code_says_what_happened(firmware):
    elf = firmware("faults.c", defines={"CASE": "unmapped_read"})
    image = sim.load_elf(elf)
    prof = Profiler(sim.Simulator(image, sim.RunOptions())).run()
    page = render_html(prof)
    assert prof.report.exit_code is None
    assert "exit code" not in page and "— —" not in page
    assert f"{prof.report.status}</span>: " in page


CHROMIUM_CHECK = """<script>
window.addEventListener('load', () => {
  const w = document.documentElement.clientWidth, bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 0.5) bad.push('past the page: ' + el.tagName + ' ' +
        (el.textContent || '').slice(0, 40));
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth &&
        getComputedStyle(el).overflowX !== 'visible')
      bad.push('cut: ' + el.tagName);
  }
  for (const el of document.querySelectorAll('td code.fn'))  // a short name split in two
    if (el.getClientRects().length > 1) bad.push('name split: ' + el.textContent);
  if (document.documentElement.scrollWidth > w) bad.push('page scrolls sideways');
  document.body.setAttribute('data-layout', JSON.stringify({width: w, problems: bad}));
});
</script>"""


def _chromium_layout(page: str, tmp_path: Path) -> dict:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is installed by `make setup` (apt-get install chromium)"
    html_file = tmp_path / "page.html"
    html_file.write_text(page.replace("</body>", CHROMIUM_CHECK + "</body>"))
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom",
         html_file.as_uri()], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(tmp_path)})
    m = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert m, proc.stderr[-2000:]
    return json.loads(html.unescape(m.group(1)))


@pytest.mark.parametrize("name", ["compute", "recurse"])
def test_html_fits_1280_pixels_in_chromium(profiles, name, tmp_path):
    """Rendered by headless Chromium at 1,280 px: nothing runs past the page, nothing is cut."""
    _, prof = profiles[name]
    layout = _chromium_layout(render_html(prof), tmp_path)
    assert layout["width"] <= 1280 and layout["problems"] == [], layout


def test_html_keeps_function_names_whole_in_chromium(firmware, tmp_path):
    """At 1,280 px the functions table split 'SysTick_Handler' as 'SysTick_Handl' / 'er' (s53
    profiling review L9): a name is kept whole (a long C++ one breaks after a separator)."""
    prof = _tick_profile(firmware, "nrf52832", 7)
    page = render_html(prof)
    assert '<code class="fn">SysTick_Handler</code>' in page
    layout = _chromium_layout(page, tmp_path)
    assert layout["problems"] == [], layout


def test_html_long_source_lines_wrap_in_chromium(profiles, tmp_path):
    """A source line far wider than the page wraps inside its cell (it ran past the page)."""
    _, prof = profiles["compute"]
    long_line = "x = " + " + ".join(f"very_long_identifier_{i}" for i in range(60)) + ";"
    prof.hot_lines[0].text = long_line
    prof.hot[0].function = "a_function_with_a_name_that_goes_on_" * 4
    page = render_html(prof)
    assert html.escape(long_line) in page
    layout = _chromium_layout(page, tmp_path)
    assert layout["problems"] == [], layout


def test_a_table_printed_wider_goes_where_the_console_prints_and_as_it_does():
    """A table whose unbreakable cells do not fit is printed wider by another console: of
    the caller's class (a PipeConsole: 141 when the reader leaves, not rich's 1) and into
    the caller's file (it went to sys.stdout whatever the console wrote to)."""
    from rich.console import Console
    from rich.table import Table

    from sim.formats.text import print_fitted

    made: list[Console] = []

    class Mine(Console):
        def __init__(self, *args, **kwargs) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    table = Table()
    table.add_column("name", no_wrap=True)
    table.add_row("x" * 200)
    buf = io.StringIO()
    console = Mine(file=buf, width=80, force_terminal=False)
    print_fitted(console, table)
    assert len(made) == 2 and made[1].file is buf
    assert "x" * 200 in buf.getvalue()


def test_profile_keeps_long_function_names_whole_at_80_columns(profiles):
    # 'ebnn_layer1_rows.constprop.0' (28 characters) was split over two lines in the functions
    # table and the hottest instructions (with its +0x offset) in ebnn-sim's own main model.
    from rich.console import Console

    from sim.formats.text import print_profile

    _, prof = profiles["long_names"]
    buf = io.StringIO()
    print_profile(prof, Console(file=buf, width=80, force_terminal=False))
    text = buf.getvalue()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    functions = text.split("functions (", 1)[1].split("\n\n", 1)[0]
    hot = text.split("hottest instructions", 1)[1].split("\n\n", 1)[0]
    for name in ("accumulate_rows_of_first_layer", "threshold_and_pack_output_bits"):
        assert re.search(rf"^{name} ", functions, re.M), functions
        assert re.search(rf" {name} ", hot), hot



def _keys(value: object) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        return {k for key, item in value.items() for k in (key, *_keys(item))}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


def test_the_json_keys_are_the_documented_ones(profiles):
    """Every key `profile --json` writes (the run report under "run" aside: simulator.md's)
    is in docs/profile.md's schema and every key there is written: memory.static_sections was
    written but not documented."""
    from sim.formats.json import profile_dict

    doc = profile_dict(profiles["hello"][1])
    doc["run"] = {}
    assert not doc["layers"]  # (no eBNN layers here: their keys from a made-up one)
    doc["layers"] = [{"name": "", "index": 0, "instructions": 0, "cycles": 0, "calls": 0,
                      "share": 0.0}]
    block = (ROOT / "docs/profile.md").read_text().split("## JSON (`--json`)")[1]
    documented = set(re.findall(r'"(\w+)":', block.split("```")[1]))
    assert _keys(doc) == documented

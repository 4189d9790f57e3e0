"""Exact SRAM accounting: static data, stack peak, heap peak, and their sum.

Expected values come from the programs' disassembly (arm-none-eabi-gcc 12.2, -O2), spelled out
next to each assertion.
"""

import json
import shutil
import subprocess

import pytest

import sim
from sim.elf import clip_ranges, code_ranges
from sim.native import CHECK_SP_ENV
from toolchain.memory_map import SRAM_BASE


def test_stack_peak_of_a_known_frame(firmware):
    # stack.S: push {r4-r7, lr} (20 bytes) + sub sp, #64 (64 bytes) = 84; nothing else uses SP.
    report = sim.run(firmware.image("stack.S", runtime=False))
    assert report.status == "ok"
    assert report.stack_peak == 84
    # no allocator is linked, so the heap is known to be empty
    assert (report.static, report.heap_peak, report.heap_tracked) == (0, 0, True)
    assert report.sram_peak == 84


def test_stack_peak_after_data_in_code(firmware, monkeypatch, tmp_path):
    # stack.S with DATA_BEFORE_FRAME: a halfword of data (0xF7FF, a 32-bit encoding's first
    # half) right before frame's PUSH. The mapping symbols keep the sweep over flash off the
    # data, so the PUSH's 20 bytes count: 84, as without it (a sweep through the data said 64).
    monkeypatch.setenv(CHECK_SP_ENV, "1")
    elf = firmware("stack.S", runtime=False, defines={"DATA_BEFORE_FRAME": None})
    report = sim.run(sim.load_elf(elf))
    assert (report.status, report.instructions, report.stack_peak) == ("ok", 9, 84)
    # Stripped of its symbols the image has no mapping symbols: the PUSH's SP change is lost
    # to the sweep, but the block hook sees an instruction without facts, samples SP after
    # it, and its shadow SP stays right (the self-check would fail the run otherwise).
    stripped = tmp_path / "stripped.elf"
    subprocess.run(["arm-none-eabi-strip", "-o", str(stripped), str(elf)], check=True)
    report = sim.run(sim.load_elf(stripped))
    assert (report.status, report.instructions) == ("ok", 9)
    assert 64 <= report.stack_peak <= 84


@pytest.mark.parametrize("systick", [False, True])
def test_stack_peak_with_conditional_and_large_sp_changes(firmware, monkeypatch, systick):
    # it_stack.S: SP moved inside IT blocks (taken or not, by the loop index) and by a 1 KiB
    # frame; the self-check compares the block hook's shadow SP with SP at every use and fails
    # the run on any difference.
    monkeypatch.setenv(CHECK_SP_ENV, "1")
    image = firmware.image("it_stack.S", runtime=False,
                           defines={"SYSTICK": None} if systick else None)
    report = sim.run(image)
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    if not systick:
        # frame 8 + 1024, leaf 8 + 8, and its conditional 16
        assert report.stack_peak == 1064
    else:
        # the handler's 8-word frame (+ 4 to align it), push {r4, lr} and sub sp, #32
        assert report.exceptions["SysTick"] > 100
        assert 1064 <= report.stack_peak <= 1064 + 36 + 8 + 32


@pytest.mark.parametrize("depth", [0, 1, 10, 100])
def test_stack_peak_of_a_recursion_through_the_c_runtime(firmware, depth):
    # Reset_Handler: push {r3, lr}             8 bytes
    # main:          movs r0, #DEPTH; b.w descend   (a tail call: no frame of its own)
    # descend.S:     push {r4, lr}; sub sp, #24  32 bytes per level, DEPTH + 1 levels
    # sh_exit afterwards uses 8 below Reset_Handler's frame (16 in all), less than any of these.
    image = firmware.image("recurse.c", "descend.S", defines={"DEPTH": depth})
    report = sim.run(image)
    assert (report.status, report.exit_code) == ("ok", 0)
    assert report.stack_peak == 8 + 32 * (depth + 1)


def test_stack_peak_of_hello(firmware):
    # Reset_Handler push {r3, lr} (8) + main push {r3, lr} (8); sh_write0 has no frame and
    # sh_exit's 8 bytes sit where main's frame was.
    report = sim.run(firmware.image("hello.c"))
    assert report.stack_peak == 16


def test_heap_peak_of_known_sbrk_calls(firmware):
    # heap.c: sbrk(128), sbrk(256) -> break at start + 384 (the peak), sbrk(-384), sbrk(64), and a
    # refused sbrk(1 MiB) that must not move the peak.
    image = firmware.image("heap.c")
    report = sim.run(image)
    assert (report.status, report.exit_code, report.stdout) == ("ok", 0, "sbrk ok\n")
    assert report.heap_tracked
    assert report.heap_peak == 384


def test_heap_peak_of_malloc(firmware):
    report = sim.run(firmware.image("heap.c", defines={"USE_MALLOC": None}))
    assert (report.status, report.exit_code, report.stdout) == ("ok", 0, "malloc ok\n")
    assert report.heap_tracked
    # malloc(1000) needs at least 1000 bytes from sbrk; picolibc adds a small header.
    assert 1000 <= report.heap_peak <= 1000 + 64


def test_heap_is_empty_when_no_allocator_is_linked(firmware):
    # hello.c never calls sbrk, so --gc-sections drops the allocator and its heap symbols.
    report = sim.run(firmware.image("hello.c"))
    assert (report.heap_tracked, report.heap_peak) == (True, 0)


def test_a_stripped_elf_does_not_claim_its_heap_is_tracked(firmware, cli, tmp_path):
    """Stripped (strip, or --ldflags -s), an ELF names neither its break nor its allocator:
    its heap used to count as tracked and empty, so a check SRAM budget passed a firmware
    over it. Now it is untracked, and check says its SRAM peak leaves the heap out."""
    elf = firmware("heap.c", defines={"USE_MALLOC": None})
    stripped = tmp_path / "stripped.elf"
    subprocess.run(["arm-none-eabi-strip", "-o", str(stripped), str(elf)], check=True)
    report = sim.run(sim.load_elf(stripped))
    assert report.exit_code == 0 and (report.heap_tracked, report.heap_peak) == (False, 0)
    kept = tmp_path / "kept-main.elf"  # strip -s -K main: one symbol left, not the heap's
    subprocess.run(["arm-none-eabi-strip", "-s", "-K", "main", "-o", str(kept), str(elf)],
                   check=True)
    assert sim.run(sim.load_elf(kept)).heap_tracked is False
    # built elsewhere (no record of ebnn-sim build, which says __heap_start is always there):
    # only main named, not even the reset handler, and no allocator's name to see
    foreign = tmp_path / "foreign-kept-main.elf"
    subprocess.run(["arm-none-eabi-objcopy", "--remove-section", ".ebnn_sim.target",
                    str(kept), str(foreign)], check=True)
    assert sim.load_elf(foreign).target_name is None
    assert sim.run(sim.load_elf(foreign)).heap_tracked is False
    run = cli("run", stripped)
    assert "not tracked (no __heap_peak: an allocator of its own, or a stripped ELF)" in (
        " ".join(run.stderr.split()))  # the summary's note, however the table wraps it
    assert "warning: heap not tracked" not in run.stderr  # no SRAM budget to qualify
    budget = cli("run", stripped, "--max-sram", "15k")
    assert budget.returncode == 0 and "warning: heap not tracked" in budget.stderr
    assert "SRAM budget was checked against static data and stack only" in " ".join(
        budget.stderr.split())
    (tmp_path / "budgets.toml").write_text(f'[[budget]]\nelf = "{stripped}"\nsram = "15k"\n')
    check = cli("check", "--config", tmp_path / "budgets.toml", "--json", tmp_path / "c.json",
                json=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "heap not tracked" in " ".join((check.stdout + check.stderr).split())
    [elf_result] = json.loads((tmp_path / "c.json").read_text())["elfs"]
    assert any("heap not tracked" in w for w in elf_result["warnings"])


def test_heap_is_untracked_with_an_allocator_of_its_own(firmware):
    report = sim.run(firmware.image("own_malloc.c"))
    assert report.exit_code == 0
    assert (report.heap_tracked, report.heap_peak) == (False, 0)


def test_static_data_size(firmware):
    # big.c: 2 KiB of .bss (scratch); its 4 KiB table is const and stays in flash.
    big = firmware.image("big.c")
    report = sim.run(big)
    assert (report.status, report.exit_code) == ("ok", 0)
    assert report.static == 2048
    assert report.flash_used >= 4096
    # compute.c: one 256-byte array in .bss, nothing in .data.
    assert sim.run(firmware.image("compute.c")).static == 256
    # faults.c built for its stack_overflow case: .data holds canary (4 bytes, the section
    # padded to 8), .bss holds fence (64). Unused variables are dropped by --gc-sections.
    faults = firmware.image("faults.c", defines={"CASE": "stack_overflow"})
    assert faults.static_ram == 8 + 64


@pytest.mark.parametrize(("program", "defines"), [
    ("heap.c", None), ("heap.c", {"USE_MALLOC": None}), ("compute.c", None), ("big.c", None),
])
def test_sram_peak_is_static_plus_stack_plus_heap(firmware, program, defines):
    report = sim.run(firmware.image(program, defines=defines))
    assert report.sram_peak == report.static + report.stack_peak + report.heap_peak
    d = report.to_dict()["sram"]
    assert d["peak"] == d["static"] + d["stack_peak"] + d["heap_peak"]
    assert d["peak"] <= d["size"]


def test_a_stack_peak_never_exceeds_sram(firmware):
    """SP moved to 0x100 by `mov sp`: the stack peak was the initial SP minus 0x100, 512 MiB
    on a 15 KiB part, added to the SRAM peak (s55 firmware review L1)."""
    report = sim.run(firmware.image("sp_below_sram.c"))
    assert report.fault is not None and report.fault.kind == "stack_overflow", report.problem
    assert report.fault.address == 0x100
    assert 0 < report.stack_peak <= report.sram_size
    assert report.sram_peak <= report.sram_size


def test_stack_peak_counts_bytes_below_the_initial_sp(firmware):
    # An ELF linked for 8 KiB starts SP at 0x20002000; the peak is measured from there, not
    # from the end of the mapped SRAM.
    image = firmware.image("recurse.c", "descend.S", defines={"DEPTH": 10}, sram=8 * 1024)
    assert int.from_bytes(image.segments[0].data[:4], "little") == SRAM_BASE + 8 * 1024
    report = sim.run(image, sram=15 * 1024)
    assert report.stack_peak == 8 + 32 * 11


@pytest.mark.parametrize(("mapping", "expected"), [
    ([], [(0, 100)]),  # no mapping symbols (stripped): the section stays whole
    ([(0, True), (40, False), (48, True), (90, False)], [(0, 40), (48, 90)]),
    ([(0, False), (8, True)], [(8, 100)]),  # data first (a vector table in a code section)
    ([(20, False), (20, True)], [(0, 100)]),  # $d and $t at one address: code goes on
    ([(150, False)], [(0, 100)]),  # another section's symbol
])
def test_code_ranges_cut_sections_at_mapping_symbols(mapping, expected):
    assert code_ranges([(0, 100)], mapping) == expected


def test_clip_ranges_keeps_the_parts_inside_code():
    assert clip_ranges([(0, 10), (20, 30), (40, 50)], [(5, 25)]) == [(5, 10), (20, 25)]


def test_debug_sections_mapping_symbols_do_not_hide_code(firmware, tmp_path):
    # libgcc's ARMv6-M division routines carry a $d in .debug_frame whose value (an offset in
    # the debug data) lies inside .text: taken for a literal pool, it hid the code after it
    # from the cycle and SP tables (an M0+ -g build: stack peak 80 B instead of 104, cycles
    # too few). The same image stripped of its debug sections must measure the same.
    elf = firmware("recurse.c", "descend.S", target="stm32l031", defines={"DEPTH": 10})
    stripped = tmp_path / "stripped.elf"
    objcopy = shutil.which("arm-none-eabi-objcopy")
    assert objcopy is not None
    subprocess.run([objcopy, "--strip-debug", str(elf), str(stripped)], check=True)
    full, bare = sim.load_elf(elf), sim.load_elf(stripped)
    assert full.exec_ranges == bare.exec_ranges
    a = sim.run(full, target="stm32l031")
    b = sim.run(bare, target="stm32l031")
    assert (a.cycles, a.stack_peak) == (b.cycles, b.stack_peak)

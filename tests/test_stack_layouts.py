"""Linker layouts other than ebnn-sim's own: a stack linked below .data/.bss (flip-link and
many vendor scripts), a section placed on a peripheral's registers. Each is valid on the chip;
the emulator must neither fault them nor count a device as static RAM."""

import subprocess
from pathlib import Path

import pytest

import sim
from sim.elf import load_elf
from sim.profile import Profiler

START = r"""
#include <stdint.h>
extern uint32_t _sdata[], _edata[], _sidata[], _sbss[], _ebss[], _estack[];
int main(void);
static void sh_exit(int code) {
    uint32_t blk[2] = {0x20026, (uint32_t)code};
    register int r0 __asm__("r0") = 0x20;
    register void *r1 __asm__("r1") = blk;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}
void Reset_Handler(void) {
    uint32_t *s = _sidata, *d = _sdata;
    while (d < _edata) *d++ = *s++;
    for (d = _sbss; d < _ebss;) *d++ = 0;
    sh_exit(main());
    for (;;) {}
}
void Default_Handler(void) { sh_exit(99); for (;;) {} }
__attribute__((section(".vectors"), used)) void (*const vec[16])(void) = {
    (void (*)(void))_estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0,
    Default_Handler, Default_Handler};
int counter = 5;
int arr[100];
int f(int n) { volatile int b[20]; b[0] = n; return n ? f(n - 1) + b[0] : 0; }
int main(void) { arr[3] = counter; return f(%(depth)d) - %(sum)d + arr[3] - 5; }
"""

LOW_STACK = """
MEMORY { FLASH (rx) : ORIGIN = 0x0, LENGTH = 64K  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 15K }
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > FLASH
  .stack (NOLOAD) : { . = . + 0x800; _estack = .; } > RAM
  .data : { _sdata = .; *(.data*) _edata = .; } > RAM AT > FLASH
  _sidata = LOADADDR(.data);
  .bss : { _sbss = .; *(.bss*) *(COMMON) _ebss = .; } > RAM
  .uart 0x40004000 (NOLOAD) : { *(.uart) } %(uart)s
}
"""


# STM32CubeIDE's layout: the stack at the top of RAM, ._user_heap_stack after .bss only to
# make ld check that a minimum heap and stack fit (ST's section, sizes as CubeMX's defaults)
CUBE = """
_estack = ORIGIN(RAM) + LENGTH(RAM);
_Min_Heap_Size = 0x200;
_Min_Stack_Size = 0x400;
MEMORY { FLASH (rx) : ORIGIN = 0x0, LENGTH = 64K  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 15K }
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > FLASH
  .data : { _sdata = .; *(.data*) _edata = .; } > RAM AT > FLASH
  _sidata = LOADADDR(.data);
  .bss : { _sbss = .; *(.bss*) *(COMMON) _ebss = .; } > RAM
  ._user_heap_stack : { . = ALIGN(8); PROVIDE(end = .); . = . + _Min_Heap_Size;
                        . = . + _Min_Stack_Size; . = ALIGN(8); } > RAM
  .uart 0x40004000 (NOLOAD) : { *(.uart) } %(uart)s
}
"""


def _build(tmp_path: Path, name: str, depth: int, uart: bool = False, heap: bool = False,
           script: str = LOW_STACK) -> Path:
    src, ld, elf = tmp_path / f"{name}.c", tmp_path / f"{name}.ld", tmp_path / f"{name}.elf"
    extra = "__attribute__((section(\".uart\"))) volatile uint32_t UART0[4];\n" if uart else ""
    if heap:  # a heap break as firmware/semihost.c keeps it: above the stack here
        extra += "uint8_t *__heap_break = (uint8_t *)_ebss;\n"
    src.write_text(START % {"depth": depth, "sum": depth * (depth + 1) // 2} + extra)
    ld.write_text(script % {"uart": ""})
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-O1", "-nostdlib",
                    "-nostartfiles", "-T", str(ld), str(src), "-o", str(elf)], check=True,
                   capture_output=True)
    return elf


@pytest.mark.parametrize("heap", [False, True])
def test_a_stack_below_static_data_runs_and_is_measured(tmp_path: Path, heap: bool) -> None:
    image = load_elf(_build(tmp_path, "low", 10, heap=heap))
    # the limit is SRAM's start; the static data (.data + .bss above the stack) is counted
    assert image.static_end == 0x2000_0000 and image.static_ram == 4 + 400 + 4 * heap
    report = sim.run(image, sim.RunOptions(sram=15 * 1024))
    assert report.fault is None and report.exit_code == 0, report.fault
    assert 0 < report.stack_peak < 0x800
    assert report.sram_peak == report.static + report.stack_peak


def test_a_stack_below_static_data_overflows_at_sram_start(tmp_path: Path) -> None:
    report = sim.run(load_elf(_build(tmp_path, "deep", 200)), sim.RunOptions(sram=15 * 1024))
    assert report.fault is not None and report.fault.kind == "stack_overflow"
    assert "unmapped memory below SRAM" in report.fault.message


def test_a_section_on_a_peripheral_is_not_static_ram(tmp_path: Path) -> None:
    image = load_elf(_build(tmp_path, "uart", 10, uart=True))
    assert image.static_ram == 4 + 400
    assert any(s.kind == "device" for s in image.sections)


def test_static_data_above_the_stack_counts_overlapping_sections_once() -> None:
    # .tbss (the thread-local template) lies over the start of .bss: its bytes are .bss's
    from sim.elf import Section, _static_layout
    sections = [Section(".stack", 0x2000_0000, 0x800, "bss"),
                Section(".data", 0x2000_0800, 0x10, "data"),
                Section(".tbss", 0x2000_0810, 0x4, "bss"),
                Section(".bss", 0x2000_0810, 0x190, "bss")]
    limit, static, top, counted = _static_layout(sections, 0x2000_0800)
    assert (limit, static, top) == (0x2000_0000, 0x10 + 0x190, 0x2000_09a0)
    assert [s.name for s in counted] == [".data", ".tbss", ".bss"]


def test_static_ram_counts_alignment_padding_not_holes_between_memories() -> None:
    from sim.elf import Section, _static_layout
    dtcm_and_ram = [Section(".dtcm", 0x2000_0000, 0x10, "data", 4),
                    Section(".data", 0x2001_0000, 0x6, "data", 4),
                    Section(".bss", 0x2001_0008, 0x10, "bss", 8)]  # 2 bytes of padding
    limit, static, _, _ = _static_layout(dtcm_and_ram, 0x2005_0000)
    assert (limit, static) == (0x2001_0018, 0x10 + 0x6 + 2 + 0x10)


def test_a_cube_heap_and_stack_check_section_is_not_static_data_nor_a_limit() -> None:
    # STM32CubeIDE's ._user_heap_stack only makes ld check a minimum heap and stack fit
    from sim.elf import Section, _static_layout
    sections = [Section(".data", 0x2000_0000, 0x20, "data", 8),
                Section(".bss", 0x2000_0020, 0x40, "bss", 4),
                Section("._user_heap_stack", 0x2000_0060, 0x600, "bss", 8)]
    limit, static, _, counted = _static_layout(sections, 0x2000_4000)
    assert (limit, static) == (0x2000_0060, 0x60)
    assert [s.name for s in counted] == [".data", ".bss"]


def test_a_stack_deeper_than_cubes_minimum_runs_as_on_the_chip(tmp_path: Path) -> None:
    # 150 frames take about 11 KiB: far past _Min_Stack_Size, into what ld only reserved as
    # a check, and still inside the 15 KiB
    elf = _build(tmp_path, "cube", 150, script=CUBE)
    report = sim.run(load_elf(elf), sim.RunOptions(sram=15 * 1024))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert report.static == 4 + 400 and report.static_sections == [".data", ".bss"]
    assert report.stack_peak > 0x600 + 0x400


def test_the_profiles_sram_map_counts_the_static_data_the_report_counts(tmp_path: Path) -> None:
    """CubeMX's ._user_heap_stack (room ld only checks) drawn as data in the HTML profile's
    SRAM map while the page's header counted it free (s52 integration review L4): the map's
    used regions are now the report's static data and stack peak, the rest free."""
    from sim.formats.html import sram_regions
    from sim.profile import Profiler

    elf = _build(tmp_path, "cube", 10, script=CUBE)
    s = sim.Simulator(load_elf(elf), sim.RunOptions(sram=15 * 1024))
    prof = Profiler(s).run()
    memory = prof.to_dict()["memory"]
    regions = sram_regions(memory)
    assert "._user_heap_stack" not in [r["name"] for r in regions]
    used = sum(r["size"] for r in regions if r["kind"] != "free")
    assert used == memory["peak"] and memory["sram_size"] - used == memory["free"]


def test_a_section_of_task_stacks_is_static_data_and_the_stacks_limit() -> None:
    # named like a stack, but holding arrays (RTOS task stacks): the main stack must not run
    # into it unseen, and its bytes are SRAM the firmware uses
    from sim.elf import Section, _static_layout
    sections = [Section(".bss", 0x2000_0000, 0x4, "bss", 4),
                Section(".task_stacks", 0x2000_0004, 0x2000, "bss", 4)]
    objects = [(0x2000_0004, 0x2000, "task_stacks")]
    limit, static, _, counted = _static_layout(sections, 0x2000_4000, objects)
    assert (limit, static) == (0x2000_2004, 0x2004)
    assert [s.name for s in counted] == [".bss", ".task_stacks"]


def test_a_stripped_elf_keeps_its_stack_named_sections_static() -> None:
    # without a symbol table nothing says the section holds no variable: only a reservation
    # ending at the initial SP and ST's check section are left out
    from sim.elf import Section, _static_layout
    sections = [Section(".bss", 0x2000_0000, 0x4, "bss", 4),
                Section(".task_stacks", 0x2000_0004, 0x2000, "bss", 4),
                Section("._user_heap_stack", 0x2000_2008, 0x600, "bss", 8)]
    limit, static, _, counted = _static_layout(sections, 0x2000_4000, [])
    assert (limit, static) == (0x2000_2004, 0x2004)
    assert [s.name for s in counted] == [".bss", ".task_stacks"]


# A hand-written start-up whose reset stack is an array in .bss: vector[0] = &main_stack[N],
# other static data below it and (AFTER) above it in the same section
BSS_STACK = r"""
#include <stdint.h>
extern uint32_t _sbss[], _ebss[];
__attribute__((section(".bss.a"))) uint32_t before_stack[16];
__attribute__((section(".bss.b"), aligned(8))) uint32_t main_stack[256];
#ifdef AFTER
__attribute__((section(".bss.c"))) uint32_t after_stack[64];
#endif
static void sh_exit(int code) {
    uint32_t blk[2] = {0x20026, (uint32_t)code};
    register int r0 __asm__("r0") = 0x20;
    register void *r1 __asm__("r1") = blk;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}
__attribute__((noinline)) static int rec(int n) {
    volatile uint32_t pad[8]; pad[0] = n; return n ? rec(n - 1) + pad[0] : 0;
}
void Reset_Handler(void) {
    for (uint32_t *d = _sbss; d < _ebss; d++)
        if (d < main_stack || d >= main_stack + 256) *d = 0;  /* (not the one it stands on) */
    before_stack[0] = (uint32_t)rec(DEPTH);
    sh_exit(before_stack[0] != DEPTH * (DEPTH + 1) / 2);
    for (;;) {}
}
__attribute__((section(".vectors"), used)) void *const vec[2] = {
    main_stack + 256, (void *)Reset_Handler};
"""

BSS_STACK_LD = """
MEMORY { FLASH (rx) : ORIGIN = 0x0, LENGTH = 64K  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 15K }
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > FLASH
  .bss : { _sbss = .; *(.bss.a) *(.bss.b) *(.bss.c) *(.bss*) *(COMMON) . = ALIGN(4);
           _ebss = .; } > RAM
}
"""


def _build_bss_stack(tmp_path: Path, depth: int, after: bool) -> Path:
    src, ld = tmp_path / "bss_stack.c", tmp_path / "bss_stack.ld"
    elf = tmp_path / f"bss_stack_{depth}_{after}.elf"
    src.write_text(BSS_STACK)
    ld.write_text(BSS_STACK_LD)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-O1", "-nostdlib",
                    "-nostartfiles", f"-DDEPTH={depth}", *(["-DAFTER"] if after else []),
                    "-T", str(ld), str(src), "-o", str(elf)], check=True, capture_output=True)
    return elf


@pytest.mark.parametrize("after", [True, False])
def test_a_reset_stack_in_bss_is_bounded_by_its_array_and_counted_once(
        tmp_path: Path, after: bool) -> None:
    """vector[0] = &main_stack[256], the array in .bss between other static data (s55
    firmware review M2): the stack limit fell back to SRAM's start, so a recursion ran over
    before_stack silently, and the SRAM peak added the stack on top of the static data that
    holds it. Without after_stack, .bss ends at the initial SP: the limit was the SP itself."""
    image = load_elf(_build_bss_stack(tmp_path, 10, after))
    start = image.symbols["main_stack"]
    assert image.reset_stack == ("main_stack", start, start + 1024)
    report = sim.run(image, sim.RunOptions(sram=15 * 1024))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert report.static == 64 + 1024 + 256 * after
    on_array = report.main_stacks["main_stack"]
    assert 10 * 32 < on_array < 1024 and report.reset_stack == "main_stack"
    assert report.sram_peak == report.static  # the stack is in the static data already
    assert report.main_stack_peak == on_array
    # the stack peak is the reset stack's (it was 0: diff, profile and the pytest plugin,
    # which read it, saw no stack at all: s55 review MEDIUM-1)
    assert report.stack_peak == on_array
    profile = Profiler(sim.Simulator(image, sim.RunOptions(sram=15 * 1024))).run()
    assert profile.memory["stack"]["peak"] == on_array
    assert profile.memory["stack"]["call_stack"], profile.memory["stack"]

    deep = load_elf(_build_bss_stack(tmp_path, 40, after))
    over = sim.run(deep, sim.RunOptions(sram=15 * 1024))
    assert over.status == "fault" and over.fault is not None
    assert over.fault.kind == "stack_overflow", over.problem
    assert f"limit 0x{start:08x}" in over.fault.message
    assert "below main_stack (the reset stack" in over.fault.message


def test_a_stack_reservation_holding_an_array_is_no_reset_stack_object() -> None:
    # a .stack section ending at the initial SP is a reservation, not static data: its
    # array (a startup's Stack_Mem) keeps the stack's old bounds
    from sim.elf import Section, _reset_stack, _static_layout
    sections = [Section(".data", 0x2000_0000, 0x20, "data", 4),
                Section(".stack", 0x2000_0020, 0x400, "bss", 8)]
    objects = [(0x2000_0020, 0x400, "Stack_Mem")]
    limit, _, _, counted = _static_layout(sections, 0x2000_0420, objects)
    assert limit == 0x2000_0020
    assert _reset_stack(counted, 0x2000_0420, objects) is None

"""Load a firmware image into Unicorn, run it, and say what happened.

Memory: flash at 0x00000000 (read/execute: a store faults; on the stm32l031 profile, an image
linked at 0x08000000 has it there, aliased at 0 for reads) and SRAM at 0x20000000, each mapped
at exactly the requested size from host buffers the simulator owns, so every access past them
faults. Counting happens in a native block hook (sim/_blockhook.c); Python runs only for
semihosting calls and faults.
"""

import functools
import io
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import capstone
import numpy as np
from unicorn import (
    UC_ARCH_ARM,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_BLOCK,
    UC_HOOK_CODE,
    UC_HOOK_MEM_FETCH_PROT,
    UC_HOOK_MEM_READ,
    UC_HOOK_MEM_UNMAPPED,
    UC_HOOK_MEM_WRITE,
    UC_HOOK_MEM_WRITE_PROT,
    UC_MEM_FETCH_PROT,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE_PROT,
    UC_MEM_WRITE_UNMAPPED,
    UC_MODE_THUMB,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    Uc,
    UcError,
)
from unicorn import arm_const as R

from sim import devices, faults
from sim.alignment import _unicorn_reg, alignment_checks, division_checks, unaligned_trap_checks
from sim.analog import (
    SUPPLY,
    VDDA,
    AnalogInput,
    AnalogSpec,
    check_specs,
    load_supply,
    load_volts,
)
from sim.clocks import ClockLog
from sim.codemap import UNDEFINED, build_tables
from sim.durations import out_of_range
from sim.elf import FirmwareImage, clip_ranges
from sim.exceptions import (
    BUSFAULT,
    HARDFAULT,
    IRQ0,
    MEMMANAGE,
    SVCALL,
    USAGEFAULT,
    ExceptionModel,
    InvalidReturn,
    StackingError,
    StackLimit,
    exception_name,
)
from sim.exclusive import holds_exclusive, monitor_offset
from sim.formats import OutputError, write_text
from sim.i2c_controller import load_controller
from sim.i2c_targets import I2cBus, I2cSpec, load_target
from sim.i2c_targets import check_specs as check_i2c_specs
from sim.native import (
    NEVER,
    CodeTables,
    LastBlock,
    NativeCounter,
    NativeStop,
    Registers,
    StopReason,
)
from sim.pin_trace import PinTrace
from sim.pins import PinInput, PinSpec
from sim.pins import check_specs as check_pin_specs
from sim.report import Fault, RunReport
from sim.resets import MAX_RESETS, SOFTWARE, STANDBY, Reset, ResetLog
from sim.semihosting import ExitRequest, Memory, Semihost
from sim.spi_targets import SpiBus, SpiSpec
from sim.spi_targets import check_specs as check_spi_specs
from sim.spi_targets import load_target as load_spi_target
from sim.store_match import BlockAccesses
from sim.stores import StoreEffect, decode_store
from sim.thread_stores import handler_ranges, store_checks, writes_psp
from sim.timing import make_disassembler
from toolchain.cores import Core
from toolchain.memory_map import FLASH_BASE, PAGE_SIZE, REGION_SIZE, SRAM_BASE
from toolchain.profiles import DEFAULT_TARGET, TARGETS, Target, get_target
from toolchain.sizes import format_size

# how far below SRAM's start a stack stopped there counts as depth it reached (a VLA asking
# more than SRAM has), not an SP set elsewhere (sim/runner.py's stack peak)
BELOW_SRAM_DEPTH = 0x10_0000
_END = 0xFFFFFFFF  # emu_start's `until` for a run without an end address
_UNKNOWN = object()  # a device access's store (load), not looked for yet
_RAM_BLOCKS = 4096  # blocks in SRAM whose stores or loads are kept (_running_block_accesses)
EXCP_EXCEPTION_EXIT = 8  # QEMU's number for a branch to EXC_RETURN (Unicorn pops nothing)
# --vector-faults: fault kind -> (exception, CFSR bits) (ARMv7-M ARM B3.2.15)
_FAULT_CAUSES = {
    "unmapped_read": (BUSFAULT, 1 << 9),  # PRECISERR
    "unmapped_write": (BUSFAULT, 1 << 9),
    "flash_write": (BUSFAULT, 1 << 9),
    "unmapped_fetch": (BUSFAULT, 1 << 8),  # IBUSERR (an Execute-Never region's: IACCVIOL)
    "undefined_instruction": (USAGEFAULT, 1 << 16),  # UNDEFINSTR
    "stack_limit": (USAGEFAULT, 1 << 20),  # STKOF (ARMv8-M)
    "bus_fault": (BUSFAULT, 1 << 9),  # a device refused the access: PRECISERR
}
# native stops for faults the chip raises: reported as faults, delivered under --vector-faults
_CHIP_FAULTS = (StopReason.UNALIGNED, StopReason.DIV_BY_ZERO, StopReason.UNALIGN_TRP)
# the MSRs to a stack register (the second halfword: CONTROL, PSP, MSP, MSPLIM, PSPLIM) the
# native hook stops an SRAM block for until they are hooked (sim/_blockhook.c sram_msr_at)
_MSR_SYSM = (0x8814, 0x8809, 0x8808, 0x880A, 0x880B)
_ALLOCATORS = ("_sbrk", "sbrk", "_sbrk_r", "malloc", "_malloc_r")
BELOW_SRAM = 8 << 10  # an access this close below SRAM's start: a stack run out of SRAM?
PAGE = PAGE_SIZE  # Unicorn's page size for ARM: mapped sizes must be multiples of it
REGION = REGION_SIZE  # largest flash or SRAM the Cortex-M map has room for
T = TypeVar("T")

# Limits the options must stay within, so that every limit limits: a wall-clock timeout is
# honoured to about a millisecond (Unicorn counts it in microseconds, 0 meaning none), and
# counters are 64-bit (instructions) or 32-bit (cycles added per refill) in the native hook.
MIN_TIMEOUT, MAX_TIMEOUT = 1e-3, 1e6  # seconds
# --run-for: device time from a microsecond (a few cycles) to about eleven days (2**48 cycles
# at 300 MHz: far inside the 64-bit cycle counter)
MIN_RUN_FOR, MAX_RUN_FOR = 1e-6, 1e6  # seconds
MAX_INSTRUCTIONS = (1 << 63) - 1
# a run stopped at most POLL_WINDOW instructions after its last read of an unmodelled register,
MAX_DOZES = 4096  # a sleep's rounds of 64 events that wake nothing before its WFI returns
# read POLL_READS times or more, was polling it (a wait loop, with a HAL's timeout check)
POLL_READS, POLL_WINDOW = 100, 1_000
MAX_WAIT_STATES = 255
# faults delivered to the firmware (--vector-faults) the report lists: the first ones, the
# rest counted (a handler that steps past a faulting load in a loop faults for ever)
MAX_VECTORED = 1000
CONSOLE_KEEP = 1 << 20  # console bytes a report keeps: the first and the last half MiB

def _span(stream: BinaryIO | None) -> tuple[int, int] | None:
    """(position, bytes left) of a seekable console input, None for none or a stream."""
    if stream is None:
        return None
    try:
        if not stream.seekable():
            return None
        at = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(at)
    except (OSError, ValueError):
        return None
    return at, max(end - at, 0)


def _and_more(kept: list[str], dropped: int, what: str) -> list[str]:
    """A report's list of the first lines kept, with one more line counting the rest."""
    return [*kept, f"... and {dropped:,} more {what}"] if dropped else list(kept)


_REGS = [(f"r{i}", getattr(R, f"UC_ARM_REG_R{i}")) for i in range(13)] + [
    ("sp", R.UC_ARM_REG_SP), ("lr", R.UC_ARM_REG_LR), ("pc", R.UC_ARM_REG_PC),
    ("xpsr", R.UC_ARM_REG_XPSR),
]
# capstone's names for r9-r12 too, for operands decoded from an instruction
_REG_IDS = {**dict(_REGS), "sb": R.UC_ARM_REG_R9, "sl": R.UC_ARM_REG_R10,
            "fp": R.UC_ARM_REG_R11, "ip": R.UC_ARM_REG_R12}

# XPSR (IPSR 0, T set), CONTROL (SPSEL 0: swaps back to the MSP), masks, PSP
_RESET_STATE = (R.UC_ARM_REG_XPSR, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_PRIMASK,
                R.UC_ARM_REG_BASEPRI, R.UC_ARM_REG_FAULTMASK, R.UC_ARM_REG_PSP)

BlockCallback = Callable[[int, int], None]  # (address, size in bytes) of a block about to run
# the vector table entries looked at for a handler that is only `b .`: the system exceptions and
# the first 48 interrupts (a Default_Handler serves several of them)
SPIN_VECTORS = 64
PPB_BASE = 0xE000_0000  # the core's private peripherals: no other bus master reaches them


class ImageError(Exception):
    """The image cannot be run with these options (e.g. memory sizes); message for the user."""


def _checked(check: Callable[..., None], *args: Any) -> None:
    """``check(*args)``, its ValueError (a spec the run cannot take) as an ImageError."""
    try:
        check(*args)
    except ValueError as exc:
        raise ImageError(str(exc)) from None


@dataclass
class RunOptions:
    target: str | None = None  # profile name; default: the one recorded in the ELF, else curie
    sram: int | None = None  # bytes of SRAM to map (default: the target's)
    flash: int | None = None  # bytes of flash to map (default: the target's)
    flash_wait_states: int | None = None  # default: the target's
    max_instructions: int | None = None
    timeout: float | None = None  # seconds of wall time
    # seconds of device time (awake and asleep, at the core's clock) after which the run
    # ends as "ok" with the firmware still running: for firmware that never exits
    run_for: float | None = None
    # host files the firmware may open for reading (semihosting SYS_OPEN); not its console
    # input: that is ``stdin`` (sim.session.prepare makes the first input's bytes both)
    inputs: Sequence[Path] = ()
    stdin: BinaryIO | None = None  # what SYS_READ on the console (and a UART) returns
    output_dir: Path | None = None  # where the firmware may create files
    echo: Callable[[bytes], None] | None = None  # console output as it appears
    cmdline: str = ""
    console_keep: int = CONSOLE_KEEP  # console bytes kept in the report (head and tail)
    # The ARMv7-M/v8-M alignment rules Unicorn does not enforce (LDRD/LDM/LDREX/VLDR at an
    # unaligned address: UsageFault), checked mostly at block entry by the native block hook
    # (sim/alignment.py). Every command applies them; False only measures what they cost.
    check_alignment: bool = True
    vector_faults: bool = False  # deliver faults to the firmware's handlers (still reported)
    strict_peripherals: bool = False  # an access to an unmodelled device register faults
    # volts for the ADC's pins (sim/analog.py), read when the simulator is made: InputError
    analog: Sequence[AnalogSpec] = ()
    # levels for the GPIO pins (sim/pins.py), read when the simulator is made: InputError
    pins: Sequence[PinSpec] = ()
    vcd: Path | None = None  # the GPIO pins' waveform, written at the run's end
    # devices on the I2C bus (sim/i2c_targets.py), read when the simulator is made: InputError
    i2c: Sequence[I2cSpec] = ()
    # devices on the SPI bus (sim/spi_targets.py), read when the simulator is made: InputError
    spi: Sequence[SpiSpec] = ()
    # start at the part's own reset clock (the STM32L0's MSI), not the profile's, managed by
    # the part's registers from the first cycle
    reset_clock: bool = False
    # resets of the part (a watchdog's, SYSRESETREQ) that restart the firmware at its reset
    # vector, as on the chip; the next one ends the run (status "reset"). A wake-up from
    # Stand-by always restarts it.
    allow_resets: int = 0


def check_options(opts: RunOptions) -> None:
    """ImageError (one line) for an option outside what the simulator can honour."""
    t = opts.timeout
    if t is not None and not (MIN_TIMEOUT <= t <= MAX_TIMEOUT):  # also rejects nan and inf
        raise ImageError(f"timeout {t} s cannot be honoured: give {MIN_TIMEOUT:g} to "
                         f"{MAX_TIMEOUT:g} seconds")
    r = opts.run_for
    if r is not None and (isinstance(r, bool) or not isinstance(r, int | float)):
        raise ImageError(f"run_for {r!r}: give seconds of device time as a number (the "
                         "command line's 500ms is 0.5)")
    if r is not None and not (MIN_RUN_FOR <= r <= MAX_RUN_FOR):  # also rejects nan
        raise ImageError("run_for " + out_of_range(r, MIN_RUN_FOR, MAX_RUN_FOR))
    n = opts.max_instructions
    if n is not None and not 1 <= n <= MAX_INSTRUCTIONS:
        raise ImageError(f"instruction limit {n} out of range: 1 to {MAX_INSTRUCTIONS}")
    w = opts.flash_wait_states
    if w is not None and not 0 <= w <= MAX_WAIT_STATES:
        raise ImageError(f"{w} flash wait states out of range: 0 to {MAX_WAIT_STATES}")
    if opts.console_keep < 0:
        raise ImageError("console_keep must not be negative")
    a = opts.allow_resets
    if isinstance(a, bool) or not isinstance(a, int) or not 0 <= a <= MAX_RESETS:
        raise ImageError(f"allow_resets {a!r}: give a number of resets, 0 to {MAX_RESETS:,}")


def resolve_target(image: FirmwareImage, name: str | None) -> Target:
    """The target to run ``image`` on: ``name``, else the one recorded in the ELF, else curie.

    A ``name`` whose core differs from the recorded target's is refused (ImageError): the
    code was compiled for another CPU, so its run would be meaningless (an M3 build "faults"
    on an M0+ and an M0+ build runs slower than on the part it was made for). A record that
    names no known target (a foreign ELF) leaves ``name`` free.
    """
    target = get_target(name or image.target_name or DEFAULT_TARGET)
    recorded = TARGETS.get(image.target_name or "")
    if recorded is not None and (recorded.core, recorded.fpu) != (target.core, target.fpu):
        def cpu(t: Target) -> str:
            return t.core + (" with FPU" if t.fpu else "")

        raise ImageError(
            f"the ELF was built for {recorded.name} ({cpu(recorded)}); target {target.name} "
            f"is a {cpu(target)}: rebuild for {target.name} or leave the target out")
    return target


class Simulator:
    """One Unicorn engine with an image loaded; ``run()`` may be called repeatedly.

    The public API: ``run()``; ``read_memory``/``read_register``; counters live during a run
    and final after it (``instructions``, ``cycles``, ``min_sp``, ``stopped``); marks recorded
    in C (``add_marks``/``marks``/``marks_reached``); Python callbacks per block (``on_block``)
    and at an address (``on_entry``); ``describe_address``/``disassemble`` for reports.
    """

    def __init__(self, image: FirmwareImage, options: RunOptions | None = None) -> None:
        self.image = image
        self.options = opts = options or RunOptions()
        check_options(opts)
        self.target = resolve_target(image, opts.target)
        # default: the sizes the ELF was linked for, when it runs on the target it was built
        # for (an image linked for 2 KiB of SRAM runs in 2 KiB), else the target's
        own = self.target.name == image.target_name
        sram = (image.linked_sram if own else None) or self.target.sram
        flash = (image.linked_flash if own else None) or self.target.flash
        self.sram_size = sram if opts.sram is None else opts.sram
        self.flash_size = flash if opts.flash is None else opts.flash
        for what, size in (("SRAM", self.sram_size), ("flash", self.flash_size)):
            if size <= 0 or size % PAGE:
                raise ImageError(
                    f"{what} size {size} bytes cannot be mapped exactly: "
                    f"use a positive multiple of {PAGE} bytes (1 KiB)"
                )
            if size > REGION:
                raise ImageError(
                    f"{what} size {format_size(size)} does not fit the Cortex-M memory map: "
                    f"at most {format_size(REGION)}"
                )
        self.wait_states = (
            self.target.flash_wait_states if opts.flash_wait_states is None
            else opts.flash_wait_states
        )
        self.core: Core = self.target.cpu
        self.timing = self.core.timing
        self.flash_base = flash_base(image, self.target)
        # the boot alias of flash linked elsewhere (at 0 on the STM32L0, up to where the flash
        # itself starts; at the STM32F7's ITCM address), where its vectors are read at reset
        boot = self.target.boot_alias
        self.alias_base = 0 if boot is None else boot
        self.alias_size = (min(self.flash_size, self.flash_base - self.alias_base)
                           if self.flash_base and boot is not None else 0)
        # where loads see the flash (start, bytes): where it is linked; the boot alias at 0;
        # for an image linked at 0 (the alias) on a part whose flash is elsewhere (the STM32L0's
        # 0x08000000), the flash there too, as on the chip (the HAL programs it there)
        self._flash_views = [(self.flash_base, self.flash_size)]
        if self.alias_size:
            self._flash_views.append((self.alias_base, self.alias_size))
        elif self.flash_base == FLASH_BASE and 0 < self.flash_size <= self.target.flash_address:
            self._flash_views.append((self.target.flash_address, self.flash_size))
        self.fit_problem = self._check_fit()
        self._fault: Fault | None = None  # how the current run ended, if it faulted
        self._exit: int | None = None  # the firmware's exit status, if it exited
        self._interrupted = False  # interrupt() was called during the current run
        self._elapsed = False  # the current run reached its --run-for end
        self._sleeping: tuple[int, str] | None = None  # (WFI/WFE address, what) while asleep
        self._ended_asleep: tuple[int, str] | None = None  # where the end found the core
        self.interrupted_runs = 0  # runs that interrupt() stopped (sim.interrupts reads it)

        self.flash = np.full(self.flash_size, self.target.flash_erased, np.uint8)
        self.sram = np.zeros(self.sram_size, np.uint8)
        self._sram_image: list[tuple[int, bytes]] = []
        # Flash is at 0, or where the part has it when the image was linked there (an STM32's
        # 0x08000000: flash_base). An image linked for another map (an STM32's, on a part
        # whose flash is at 0) has no vector table at the start of flash; a segment outside
        # both regions belongs to no memory at all. Either is refused.
        # A segment that starts in the flash or SRAM region past the mapped size is the image
        # not fitting the memories asked for: _check_fit reports it (image_too_large).
        base = self.flash_base
        starts_at_base = any(s.address == base for s in image.segments)
        for seg in image.segments:
            if base <= seg.address < base + self.flash_size:
                off = seg.address - base
                n = min(len(seg.data), self.flash_size - off)
                self.flash[off : off + n] = np.frombuffer(seg.data[:n], np.uint8)
            elif SRAM_BASE <= seg.address < SRAM_BASE + self.sram_size:
                self._sram_image.append((seg.address - SRAM_BASE, seg.data))
            elif not starts_at_base or not (
                    base <= seg.address < FLASH_BASE + REGION
                    or SRAM_BASE <= seg.address < SRAM_BASE + REGION):
                raise ImageError(
                    f"load segment at 0x{seg.address:08x} ({len(seg.data):,} bytes) lies "
                    f"outside the memory map (flash 0x{base:08x}-"
                    f"0x{base + self.flash_size - 1:08x}, SRAM 0x{SRAM_BASE:08x}-"
                    f"0x{SRAM_BASE + self.sram_size - 1:08x}): link for flash at "
                    f"0x{FLASH_BASE:08x} and SRAM at 0x{SRAM_BASE:08x}, as `ebnn-sim build` "
                    "does" + _other_map_hint(min(s.address for s in image.segments),
                                             self.target))

        # The core's own model, without UC_MODE_MCLASS: with that mode Unicorn ignores the
        # model and emulates a Cortex-M33 whatever was asked (../docs/simulator.md).
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
        self.uc.ctl_set_cpu_model(self.core.unicorn_model)
        self._regs = Registers(self.uc)
        self.uc.mem_map_ptr(base, self.flash_size, UC_PROT_READ | UC_PROT_EXEC,
                            self.flash.ctypes.data)
        for start, size in self._flash_views[1:]:  # (vector fetches at VTOR 0): reads only
            self.uc.mem_map_ptr(start, size, UC_PROT_READ, self.flash.ctypes.data)
        self.uc.mem_map_ptr(SRAM_BASE, self.sram_size, UC_PROT_READ | UC_PROT_WRITE | UC_PROT_EXEC,
                            self.sram.ctypes.data)

        brk = image.symbols.get("__heap_break")
        if image.heap_above_stack(image.initial_sp):  # the stack cannot grow into it
            brk = None
        tables = CodeTables(*build_tables(self.flash, base, image.exec_ranges, self.timing,
                                          self.core.architecture, self.core.fpu is not None))
        self._fp_table = tables.fp
        self._counter = NativeCounter(
            self.uc, flash=self.flash, flash_base=base, sram=self.sram, sram_base=SRAM_BASE,
            tables=tables,
            refill=self.timing.branch_refill + self.wait_states, static_end=image.static_end,
            brk_addr=brk if brk is not None and self._in_sram(brk, 4) else 0,
            max_instructions=opts.max_instructions)
        self._native = self._counter.state  # (its fields read directly where it counts)
        if ((self.target.fpu is not None and self.core.unicorn_fp64)
                or bool(np.any(tables.fp == UNDEFINED))):  # (sim/isa_gaps.py)
            self._counter.set_fp64_trap(True)
        in_sram = [seg.data for seg in image.segments  # (code the ELF loads into SRAM)
                   if self._in_sram(seg.address, max(len(seg.data), 1))]
        if self.core.architecture != "armv6-m" and holds_exclusive(self.flash, *in_sram):
            offset = monitor_offset(self.core.unicorn_model)
            if offset is not None:
                self._counter.clear_exclusive_at_exceptions(self.uc, offset)
        if opts.check_alignment:
            self._counter.add_alignment_checks(
                alignment_checks(self.flash, base, image.exec_ranges, self.core,
                                 image.symbols.values()))
        self._div0_installed = False
        self._trp_installed = False
        self.exceptions = ExceptionModel(
            self.core, self.target.irqs, self.target.prio_bits, self._counter, self._regs,
            self._frame_read, self._frame_write, has_fpu=self.target.fpu is not None,
            stack_objects=image.objects, frame_guard=self._frame_guard,
            systick_ref_div=self.target.systick_ref_div)
        if opts.vector_faults:
            self.exceptions.on_derived = self._derived_entry_fault
        # VTOR at reset: where the part boots (its alias, or the flash itself without one)
        self.exceptions.boot_vtor = self.alias_base if self.alias_size else base
        self.exceptions.watch_spins(self.warn, self.seconds_at)  # (a warning: ExceptionModel)
        table = _vector_table(image, base)
        # what the firmware may not program: its code and its vector table (the first two
        # words, its SP and reset vector, where the image does not say how long it is)
        self._protected = [*image.exec_ranges, (base, base + 4 * (2 if table is None else
                                                                   table[2]))]
        if table is not None:
            self.exceptions.vector_table = table
            if self.alias_size:  # VTOR at the alias reads it there
                self.exceptions.vector_alias = self.alias_base + table[1] - base
            self._counter.state.vec_base, self._counter.state.vec_entries = table[1:]
        # the context an RTOS saves on a thread's stack from its handlers counts in its peak
        if writes_psp(self.flash):
            self._counter.add_store_checks(store_checks(
                self.flash, base,
                clip_ranges(handler_ranges(self.flash, base, IRQ0 + self.target.irqs,
                                           image.functions), image.exec_ranges)))
        self._unmodelled: dict[str, int] = {}  # "device+0xoff read|write" -> accesses
        self._console_span: tuple[int, int] | None = None  # the console input (_span)
        self._warnings: dict[str, str] = {}  # warn()'s texts -> as the report lists them
        self._deep_sleeps = 0  # sleeps in the part's deep-sleep mode (_deep_sleep)
        # the last read of an unmodelled register: its key, the instructions retired by then
        self._polled: tuple[str, int] | None = None
        self._reset_requested = False
        self._reset_cut: int | None = None  # where the store that asked for it ends
        self._reset_final = False  # a reset the run may not go on after ended it
        self._reset_why, self._reset_cause = "", SOFTWARE
        self._resets = ResetLog()  # the resets the run went on after (allow_resets, Stand-by)
        self._standby = False  # in the part's Stand-by mode (its SRAM off)
        self._wall_start = 0.0  # perf_counter() at the run's start
        self._deadlock: Fault | None = None
        self._vectored: list[str] = []  # faults delivered to the firmware (--vector-faults)
        self._vectored_dropped = 0  # of them, past MAX_VECTORED: counted, not listed
        # the main stack moved into a static object by MSR MSP (an RTOS's interrupt stack):
        # (name, end) of that object, or None on the stack below the initial SP; the lowest
        # SP on that initial stack while MSP was elsewhere; each object's peak
        self._msp_object: tuple[str, int] | None = None
        self._msp_outside = False  # MSR MSP moved the main stack outside SRAM
        self._initial_min = 0
        self._main_stacks: dict[str, int] = {}
        # where to go on after a hint instruction (WFE, SEV) or a store into flash carried out
        self._resume: int | None = None
        self._hook_error: BaseException | None = None  # raised in a native callback
        self._cut_callbacks: list[BlockCallback] = []  # on_cut's
        # a device a memory covers (the STM32L0's data EEPROM under a --flash of more than
        # 512 KiB) is not mapped: the memory answers there
        memories = [(start, start + size) for start, size in self._flash_views]
        memories.append((SRAM_BASE, SRAM_BASE + self.sram_size))
        self.devices = [dev for dev in devices.create(self.target.devices, self)
                        if dev.background or not any(dev.base < end and start < dev.base + dev.size
                                                     for start, end in memories)]
        # the clock at reset: the profile's, or with reset_clock the part's (hz, wait states,
        # what it is), which its clock control tells
        self._reset_clock = self._part_reset_clock() if opts.reset_clock else None
        self._clock = ClockLog(self.clock_at_reset)  # the core's clock over a run
        self._wait_states = self.wait_states_at_reset  # the flash wait states now
        self._analog = self._load_analog(opts.analog)
        # the devices that hear of an untimed --analog series moved on (analog_code)
        self._analog_listeners: list[Callable[[int, int], None]] = [
            dev.analog_changed for dev in self.devices
            if hasattr(dev, "analog_changed")]
        self._pins = self._load_pins(opts.pins)
        self._i2c = self._load_i2c(opts.i2c)
        self._spi = self._load_spi(opts.spi)
        self._pin_trace = PinTrace(waveform=opts.vcd is not None)
        self._pin_state: dict[str, tuple[int, int]] = {}  # port -> (known, high) traced
        self._pin_time: float | None = None  # the --pin change being applied: its time
        self._scs = next((d for d in self.devices if d.name == "scs"), None)
        # where each device is mapped (address, size, device): what a bus master reaches
        self._windows = [(start, size, dev) for dev in self.devices
                         for start, size in devices.windows(dev, self.devices)]
        # the part's flash interface, which programs the flash: the core's stores into flash go
        # to it (_program_store) rather than faulting; so do those to a non-volatile memory
        self._programmer = next((dev for dev in self.devices if dev.programs_flash), None)
        self._nvms = [dev for dev in self.devices if dev.nvm]
        self._flash_image: np.ndarray | None = None  # flash as loaded, once programmed
        # a store into flash or an NVM Unicorn stopped at, carried out by _program_store: its
        # PC, size, effect
        self._nvm_store: tuple[int, int, StoreEffect] | None = None
        self._bad_write = (0, 0, 0, 0)  # (pc, address, size, value) of the last unmapped store
        self._bad_write_in_it = False  # and whether it was in an IT block
        self._store_pc: int | None = None  # the PC of the store _program_store carries out
        self._bus_master = False  # a device access is another bus master's (the DMA's)
        self._bus_refused = False  # and the device refused it (a bus error)
        for dev in self.devices:
            if dev.nvm:  # its bytes read as memory; a store faults to _program_store
                self.uc.mem_map_ptr(dev.base, dev.size, UC_PROT_READ, dev.data.ctypes.data)
                continue
            if dev is self._scs:  # natively: its hot store (PENDSVSET) never reaches Python
                self._counter.map_scs(dev.base, dev.size, self._guarded(self._scs_read(dev), 0),
                                      self._guarded(self._scs_write(dev), None))
                continue
            for start, size in devices.windows(dev, self.devices):
                self.uc.mmio_map(start, size, self._device_read(dev, start - dev.base), None,
                                 self._device_write(dev, start - dev.base), None)
        self._device_pc: int | None = None
        # the stores and the loads of blocks, as _store_cycle finds them (code in flash only:
        # it cannot change during a run)
        self._block_stores: dict[tuple[int, int], BlockAccesses] = {}
        self._block_loads: dict[tuple[int, int], BlockAccesses] = {}
        # those of blocks in SRAM: (start, end, loads) -> (the block's bytes, its accesses)
        self._ram_blocks: dict[tuple[int, int, bool], tuple[bytes, BlockAccesses]] = {}
        self._store_address: int | None = None  # of the device write being handled
        self._load_address: int | None = None  # of the device read being handled
        self._this_load: object = _UNKNOWN  # its load (_current_load), once found
        self._load_matched: tuple[tuple[int, int], int] = ((-1, -1), -1)  # as _matched
        # the System Control Space's store being handled: (address, size, value)
        self._scs_store: tuple[int, int, int] | None = None
        self._acting: int | None = None  # the cycle a device's own access acts at (acting_at)
        self._this_store: object = _UNKNOWN  # its store (_current_store), once found
        # the pass through a block (its start, the cycle count at it) and the position of its
        # store matched last: each device write of a pass is matched in turn
        self._matched: tuple[tuple[int, int], int] = ((-1, -1), -1)
        if self.options.strict_peripherals:
            # a device's callback sees the PC of its block's start (Unicorn syncs it for
            # memory hooks, not for MMIO): note where each device access is, to fault there.
            # (Only then: a memory hook, whatever its range, puts every store of the firmware
            # on Unicorn's slow path, about 3 times slower.)
            for dev in self.devices:
                for start, size in ([] if dev.nvm else devices.windows(dev, self.devices)):
                    self.uc.hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
                                     self._note_device_pc, begin=start, end=start + size - 1)

        # natively: exception returns finish in C when they can; the rest comes here
        self._counter.set_interrupt_handler(
            self._guarded(lambda intno: self._on_interrupt(self.uc, intno, None), None))
        # Unicorn executes SEV as a no-op: a code hook on each one sets the event register
        halfwords = self.flash[: self.flash_size & ~1].view(np.uint16)
        for index in np.flatnonzero((halfwords == 0xBF40) & (tables.cost > 0)).tolist():
            self.on_entry(base + 2 * index, self._sev)
        # MSR CONTROL (thread code leaving its PSP stack), MSR MSP (the main stack moved) and,
        # on ARMv8-M, MSR MSPLIM/PSPLIM
        # (Unicorn has no register id for them): a code hook on each, in flash now; in SRAM
        # (code copied there) when the native hook first meets its block (_hook_sram_msrs)
        self._msr_sysm = _MSR_SYSM if self.exceptions.v8m else _MSR_SYSM[:3]
        first = np.flatnonzero(((halfwords[:-1] & 0xFFF0) == 0xF380)
                               & np.isin(halfwords[1:], self._msr_sysm)
                               & (tables.cost[: len(halfwords) - 1] > 0))
        for index in first.tolist():
            self.on_entry(base + 2 * index, self._msr_hook(int(halfwords[index]) & 0xF,
                                                           int(halfwords[index + 1])))
        # a handler that is only `b .` (the Default_Handler of many vendors' start-up code):
        # reached where nothing can preempt it, the firmware has stopped for good
        vectors = self.flash[: min(self.flash_size, 4 * SPIN_VECTORS) & ~3].view(np.uint32)
        for entry in sorted({int(v) & ~1 for v in vectors[2:] if v & 1}):
            if (base <= entry < base + self.flash_size - 1 and entry % 2 == 0
                    and halfwords[(entry - base) // 2] == 0xE7FE
                    and tables.cost[(entry - base) // 2] > 0):
                self.on_entry(entry, functools.partial(self._spin, entry))
        self.uc.hook_add(UC_HOOK_MEM_UNMAPPED, self._on_bad_access)
        self.uc.hook_add(UC_HOOK_MEM_WRITE_PROT | UC_HOOK_MEM_FETCH_PROT, self._on_bad_access)
        self._md = make_disassembler()

    # --- layout -----------------------------------------------------------------------------
    def _in_sram(self, addr: int, size: int = 1) -> bool:
        return addr >= SRAM_BASE and addr + size <= SRAM_BASE + self.sram_size

    def _check_fit(self) -> str | None:
        img = self.image
        base = self.flash_base
        flash_end = max((s.address + len(s.data) for s in img.segments
                         if base <= s.address < FLASH_BASE + REGION), default=base)
        needed = max(img.flash_used, flash_end - base)
        if needed > self.flash_size:
            # an image whose flash segments lie far apart (one at 0, one at 0x08000000) needs
            # the whole distance mapped: where the holes alone are more than the flash mapped,
            # name the span, as the size alone reads as a miscount
            span = ("" if flash_end - base - img.flash_used <= self.flash_size else
                    f" (its flash segments span {base:#010x} to {flash_end:#010x})")
            return (f"the image needs {needed:,} bytes of flash{span}; "
                    f"only {format_size(self.flash_size)} mapped")
        static_top = max(img.static_top, img.static_end)
        if static_top > SRAM_BASE + self.sram_size:
            last = max((sec for sec in img.sections if sec.kind in ("data", "bss")),
                       key=lambda sec: sec.address + sec.size, default=None)
            which = "" if last is None else f" ({last.name[:40]} ends there)"
            return (f"the SRAM sections need {static_top - SRAM_BASE} bytes{which}; "
                    f"only {format_size(self.sram_size)} of SRAM mapped")
        sram_end = max((s.address + len(s.data) for s in img.segments
                        if SRAM_BASE <= s.address < SRAM_BASE + REGION), default=SRAM_BASE)
        if sram_end > SRAM_BASE + self.sram_size:
            return (f"the image loads {sram_end - SRAM_BASE} bytes into SRAM; "
                    f"only {format_size(self.sram_size)} mapped")
        return None

    # --- devices ------------------------------------------------------------------------------
    def _device_read(self, dev: devices.Device, shift: int) -> Callable[..., int]:
        """The callback of a window ``shift`` bytes into ``dev``'s range: the load reading it
        noted while it runs (store_cycle() and active_cycles() then give its own cycle). The
        load is looked for only when the device asks for its cycle (a polling loop's reads of
        a flag do not): a register a device times (a counter) is timed at every read of it, so
        the loads matched in turn in a pass are those of the reads that ask."""
        base = dev.base + shift

        def read(uc: Uc, offset: int, size: int, user: object) -> int:
            self._load_address, self._this_load = base + offset, _UNKNOWN
            try:
                return dev.read(shift + offset, size)
            finally:
                self._device_pc = self._load_address = None  # (noted for this access only)
        return read

    def _scs_read(self, dev: devices.Device) -> Callable[[int, int], int]:
        """The System Control Space's read callback (native): the load noted as a device's
        read is (SysTick's CVR reads at the load's own cycle)."""
        def read(offset: int, size: int) -> int:
            self._load_address, self._this_load = dev.base + offset, _UNKNOWN
            try:
                return dev.read(offset, size)
            finally:
                self._load_address = None
        return read

    def _scs_write(self, dev: devices.Device) -> Callable[[int, int, int], None]:
        """The System Control Space's store callback: the address it writes noted while it
        runs (a reset it asks for ends after that store: request_reset)."""
        def write(offset: int, size: int, value: int) -> None:
            self._scs_store = (dev.base + offset, size, value)
            try:
                dev.write(offset, size, value)
            finally:
                self._scs_store = None
        return write

    def _device_write(self, dev: devices.Device, shift: int) -> Callable[..., None]:
        base = dev.base + shift

        def write(uc: Uc, offset: int, size: int, value: int, user: object) -> None:
            self._store_address, self._this_store = base + offset, _UNKNOWN
            dev.write(shift + offset, size, value)
            if self._this_store is _UNKNOWN:  # matched in turn, though nothing asked
                self._current_store()
            self._device_pc = self._store_address = None
        return write

    # --- the device host: what devices may ask of the core --------------------------------------
    def active_cycles(self) -> int:
        if self._load_address is None and self._store_address is None \
                and self._scs_store is None:
            return self._native.cycles - self.exceptions.sleep_cycles
        return self._access_cycle() - self.exceptions.sleep_cycles  # (DWT CYCCNT: at its own)

    @property
    def clock_hz(self) -> int:
        return self._clock.hz

    def set_clock(self, hz: int, wait_states: int, source: str) -> None:
        if self.options.flash_wait_states is not None:  # fixed for the run
            wait_states = self.options.flash_wait_states
        if hz == self._clock.hz and wait_states == self._wait_states:
            return
        now, asleep = self._access_cycle(), self.exceptions.sleep_cycles
        self._clock.change(now, asleep, hz, wait_states, source)
        if wait_states != self._wait_states:
            self._wait_states = wait_states
            self._counter.set_refill(self.timing.branch_refill + wait_states)
        if self.options.run_for is not None and not self._elapsed:
            self.exceptions.end_at(self._clock.cycle_at(self.options.run_for, now, asleep),
                                   self._elapse)

    def warn(self, text: str) -> None:
        if text not in self._warnings:
            seconds = self._clock.seconds(self._access_cycle(), self.exceptions.sleep_cycles)
            self._warnings[text] = f"at {seconds * 1e3:,.3f} ms: {text}"

    def trace_enabled(self) -> bool:
        return self._scs is not None and bool(getattr(self._scs, "demcr", 0) >> 24 & 1)

    def ipsr(self) -> int:
        return self._regs.read(R.UC_ARM_REG_IPSR) & 0x1FF

    def set_irq_level(self, irq: int, high: bool, source: object = None) -> None:
        if not 0 <= irq < self.target.irqs:
            return
        drivers = self._irq_drivers.setdefault(irq, set())
        if high:
            drivers.add(source)
        else:
            drivers.discard(source)
        self.exceptions.set_level(16 + irq, bool(drivers))

    def request_reset(self, why: str = "", cause: str = SOFTWARE) -> None:
        if self._reset_requested:
            return  # (the first one is the part's)
        self._reset_requested = True
        self._reset_why = why or "the firmware requested a system reset (AIRCR.SYSRESETREQ)"
        self._reset_cause = cause
        # asked for by the core's store (AIRCR's, a watchdog's register): the last instruction
        # to run; the rest of its block, counted when the block began, does not
        self._reset_cut = None
        if self._sleeping is None and not self._bus_master:
            if self._store_address is not None:
                self._reset_cut = self._store_end()
            elif self._scs_store is not None:  # (AIRCR's SYSRESETREQ)
                self._reset_cut = self._store_end(self._scs_store)
        self.exceptions.halted = True  # (an interrupt pending now is not taken: the reset is)
        if self._sleeping is not None:  # (a device's event in a sleep: the sleep ends here)
            self.exceptions.wake_now()
        self.uc.emu_stop()

    def _bus_device(self, address: int, size: int) -> tuple[devices.Device, int] | None:
        """The device (and the offset in it) a bus master reaches at ``address``: not the
        core's private peripherals (the System Control Space, the DWT, the ITM)."""
        if address >= PPB_BASE:
            return None
        for start, length, dev in self._windows:
            if start <= address and address + size <= start + length:
                return dev, address - dev.base
        return None

    def in_sram(self, address: int, size: int) -> bool:
        return self._in_sram(address, size)

    def peripheral_at(self, address: int, size: int) -> tuple[devices.Device, int] | None:
        return self._bus_device(address, size)

    def bus_read(self, address: int, size: int) -> int | None:
        if self._readable(address, size):
            return int.from_bytes(self._host_read(address, size), "little")
        found = self._bus_device(address, size)
        if found is None:
            return None
        self._bus_master, self._bus_refused = True, False
        try:
            value = found[0].read(found[1], size)
        finally:
            self._bus_master = False
        return None if self._bus_refused else value

    def bus_write(self, address: int, size: int, value: int) -> bool:
        if self._in_sram(address, size):
            self._host_write(address, value.to_bytes(size, "little"))
            # code there translated before runs the new bytes (as after a core's store)
            self.uc.ctl_remove_cache(address, address + size)
            return True
        found = self._bus_device(address, size)
        if found is None:
            return False
        self._bus_master, self._bus_refused = True, False
        try:
            found[0].write(found[1], size, value)
        finally:
            self._bus_master = False
        return not self._bus_refused

    def console_write(self, data: bytes) -> None:
        self._sh.console.add(data)
        if self._sh.echo is not None:
            self._sh.echo(data)

    def console_read(self) -> int | None:
        stdin = self._sh.stdin
        data = stdin.read(1) if stdin is not None else b""
        return data[0] if data else None

    def _first_input_opened(self) -> bool:
        """Whether the firmware opened the first --input file by name (semihosting SYS_OPEN)."""
        inputs = self.options.inputs
        return bool(inputs) and Path(inputs[0]) in self._sh.opened_inputs

    def _console_consumed(self) -> int:
        """Bytes of the console input the firmware read in this run."""
        stdin = self._sh.stdin
        if self._console_span is None or stdin is None:
            return 0
        return min(max(stdin.tell() - self._console_span[0], 0), self._console_span[1])

    def unprivileged(self) -> bool:
        return not self.ipsr() and bool(self._regs.read(R.UC_ARM_REG_CONTROL) & 1)

    def bus_fault(self, device: devices.Device, offset: int, size: int, value: int | None,
                  why: str) -> None:
        if self._bus_master:  # another master's access (the DMA's): its bus error, not the core's
            self._bus_refused = True
            return
        verb = "read" if value is None else "write"
        address = device.base + offset
        if self._device_pc is not None:
            pc, where = self._device_pc, ""
        else:  # a device callback sees the PC of its block's start, not of the access
            pc = self._counter.last_block.start
            where = (" (in the block starting here: run with --strict-peripherals for the "
                     "instruction)")
        fault = self._make_fault(
            "bus_fault", f"{size}-byte {verb} at 0x{address:08x}: {why}: precise BusFault on "
            f"the chip{where}", pc)
        fault.address, fault.size, fault.access = address, size, verb
        self._stop_with(fault)

    def unmodelled(self, device: devices.Device, offset: int, size: int,
                   value: int | None, why: str = "") -> None:
        verb = "read" if value is None else "write"
        key = (f"{device.name}+0x{offset:03x} (0x{device.base + offset:08x}) {verb}"
               + (f", {why}" if why else ""))
        self._unmodelled[key] = self._unmodelled.get(key, 0) + 1
        if value is None and not self._bus_master:
            self._polled = (key, self._counter.instructions)
        if self.options.strict_peripherals and not self._bus_master:
            pc = self._device_pc if self._device_pc is not None else self._regs.read(
                R.UC_ARM_REG_PC)
            what = f"while {why}" if why else "which the simulator does not model"
            fault = self._make_fault(
                "unmodelled_register",
                f"{size}-byte {verb} of {device.name} register at 0x{device.base + offset:08x}, "
                f"{what} (--strict-peripherals)", pc)
            fault.address, fault.size, fault.access = device.base + offset, size, verb
            self._stop_with(fault)

    def device(self, name: str) -> devices.Device | None:
        return next((d for d in self.devices if d.name == name), None)

    def _polling_hint(self, instructions: int) -> str:
        """For a run stopped by a limit or a signal (after ``instructions``): when the firmware
        read a register the simulator does not model again and again up to the stop, the flag
        it waits for is likely one the simulator never sets; this says so."""
        if self._polled is None:
            return ""
        key, at = self._polled
        reads = self._unmodelled.get(key, 0)
        if reads < POLL_READS or instructions - at > POLL_WINDOW:
            return ""
        register, _, why = key.partition(", ")
        return (f"; the firmware was polling {register.removesuffix(' read')} ({reads:,} reads), "
                + (f"while {why}" if why else
                   "a register the simulator does not model: it reads back what was written, "
                   "so a status flag the firmware waits for never comes"))

    def _note_device_pc(self, uc: Uc, access: int, address: int, size: int, value: int,
                        user: object) -> None:
        self._device_pc = uc.reg_read(R.UC_ARM_REG_PC)

    def _stack_region(self, addr: int) -> tuple[str, int, int] | None:
        """(name, start, end) of the static object (a task's stack array, an RTOS heap) that
        holds ``addr``: what a thread's stack is named by and may not run out of."""
        hit = self.image.object_at(addr - 1)  # SP points just past the last word pushed
        if hit is None:
            return None
        name, start, size = hit
        return name, start, start + size

    def _frame_read(self, addr: int, size: int) -> bytes | None:
        return self._host_read(addr, size) if self._readable(addr, size) else None

    def _frame_write(self, addr: int, data: bytes) -> bool:
        if not self._in_sram(addr, len(data)):
            return False
        off = addr - SRAM_BASE
        self.sram[off : off + len(data)] = np.frombuffer(data, np.uint8)
        return True

    def set_fpu_access(self, granted: bool) -> None:
        """Floating-point instructions fault unless the FPU is granted (CPACR, modelled by the
        SCS device). Unicorn executes them regardless, so the native hook stops before a block
        that holds one while access is denied. Cores without an FPU never get there: Unicorn
        reports the instruction as undefined."""
        self._counter.set_fp_trap(self.target.fpu is not None and not granted)

    # --- public API: memory, registers, counters, hooks ---------------------------------------
    def set_div0_trap(self, on: bool) -> None:
        """CCR.DIV_0_TRP, as the System Control Block sets it: while on, SDIV/UDIV by zero
        raises UsageFault DIVBYZERO (the divide does not run); while off it returns 0. The
        checks are installed the first time it is turned on (code translated before is
        dropped so that they apply), so firmware that never sets it pays nothing."""
        if on and not self._div0_installed:
            self._div0_installed = True
            self._counter.add_division_checks(
                division_checks(self.flash, self.flash_base, self.image.exec_ranges, self.core),
                True)
            self.uc.ctl_remove_cache(self.flash_base, self.flash_base + self.flash_size)
        self._counter.set_div0_trap(on)

    def set_unaligned_trap(self, on: bool) -> None:
        """CCR.UNALIGN_TRP, as the System Control Block sets it: while on, a word or halfword
        LDR/STR at an address that is not a multiple of its size raises UsageFault UNALIGNED
        (the access does not run). Installed the first time it is turned on, like the divide
        checks: a code hook on every such instruction, which costs a dispatch each time one
        runs, so only firmware that sets the bit pays."""
        if on and not self._trp_installed:
            self._trp_installed = True
            self._counter.add_unaligned_trap_checks(
                unaligned_trap_checks(self.flash, self.flash_base, self.image.exec_ranges,
                                      self.core))
            self.uc.ctl_remove_cache(self.flash_base, self.flash_base + self.flash_size)
        self._counter.set_unaligned_trap(on)

    def read_memory(self, address: int, size: int) -> bytes:
        """Flash or SRAM contents, read from the host arrays Unicorn maps, so always current.
        ValueError for a range outside both."""
        try:
            return self._host_read(address, size)
        except UcError:
            raise ValueError(f"{size} bytes at 0x{address:08x} are not in flash or SRAM") from None

    def read_register(self, name: str) -> int:
        """A core register by name: r0..r12, sp, lr, pc, xpsr."""
        return self._regs.read(_REG_IDS[name])

    @property
    def instructions(self) -> int:
        """Instructions counted so far in this run (every started block counted whole; the
        report takes back what a fault or exit left unexecuted)."""
        return self._counter.instructions

    @property
    def cycles(self) -> int:
        return self._counter.cycles

    @property
    def min_sp(self) -> int:
        """The lowest stack address touched so far."""
        return self._counter.min_sp

    @property
    def last_block(self) -> LastBlock:
        """The last block counted (whole, when it started): its range and what it added."""
        return self._counter.last_block

    @property
    def stopped(self) -> bool:
        """Whether the native hooks have stopped this run (the block now starting will not
        run)."""
        return self._counter.stopped

    def add_marks(self, addresses: Iterable[int], capacity: int,
                  pauses: Iterable[int] = (), resumes: Iterable[int] = ()) -> None:
        """Record, in C, (address, instructions, cycles retired before it) each time execution
        reaches one of ``addresses`` (e.g. function entries), at most ``capacity`` per run.
        Once per Simulator. Read them with ``marks()``; ``marks_reached`` counts them live.
        What retires between reaching a ``pauses`` address and the next ``resumes`` (or
        recorded) one is left out of the records (``NativeCounter.add_marks``)."""
        self._counter.add_marks(list(addresses), capacity, list(pauses), list(resumes))
        self._flush_translations()  # code translated by an earlier run() has no hook

    def marks(self) -> np.ndarray:
        """(n, 3) uint64 rows of address, instructions, cycles; RuntimeError when more marks
        were reached than the capacity held."""
        return self._counter.marks()

    @property
    def marks_reached(self) -> int:
        return self._counter.marks_reached

    def on_block(self, callback: BlockCallback) -> None:
        """Call ``callback(address, size)`` in Python before every block, after the native
        counter has counted it (so ``instructions``/``cycles`` include it). Slow: for
        profiling, not for runs whose speed matters. May be added after a ``run()``: the
        next run calls it too."""
        self.uc.hook_add(UC_HOOK_BLOCK, lambda uc, address, size, user: callback(address, size))
        self._flush_translations()  # code translated by an earlier run() has no hook

    def on_cut(self, callback: BlockCallback) -> None:
        """Call ``callback(address, size)`` when the simulator takes back the rest of a block
        it counted whole, from ``address`` on (a store it carried out between two
        instructions, the run resuming after it; a fault delivered to the firmware): that code
        did not run then (on_block's callback saw the whole block)."""
        self._cut_callbacks.append(callback)

    def _cut(self, address: int, cut: tuple[int, int, int] | None = None) -> None:
        """Take back the last counted block from ``address`` on (see on_cut); ``cut`` is what
        _cut_of found before an exception entry moved the block's end (branch_to)."""
        n, c, end = self._cut_of(address) if cut is None else cut
        self._counter.uncount(n, c)
        if n and address < end:
            for callback in self._cut_callbacks:
                callback(address, end - address)

    def _cut_of(self, address: int) -> tuple[int, int, int]:
        """(instructions, cycles, end) of the last counted block from ``address`` on."""
        n, c = self._unretired(address)
        return n, c, self._counter.last_block.end

    def on_entry(self, address: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever execution reaches ``address``, before the instruction
        there runs. May be added after a ``run()``: the next run calls it too."""
        self.uc.hook_add(UC_HOOK_CODE, lambda uc, a, size, user: callback(), begin=address,
                         end=address)
        self._flush_translations()  # code translated by an earlier run() has no hook

    # --- hooks --------------------------------------------------------------------------------
    def _stop_with(self, fault: Fault) -> None:
        if self._fault is None and self._exit is None:
            self._fault = fault
        self.uc.emu_stop()

    def _guarded(self, fn: Callable[..., T], default: T) -> Callable[..., T]:
        """``fn`` for a native callback: nothing may unwind through Unicorn's C frames, so an
        error stops the run and is raised again after ``emu_start``."""
        def call(*args: int) -> T:
            try:
                return fn(*args)
            except BaseException as exc:  # re-raised by _emulate
                if self._hook_error is None:
                    self._hook_error = exc
                self.uc.emu_stop()
                return default
        return call

    def _on_interrupt(self, uc: Uc, intno: int, user: object) -> None:
        if self._counter.stopped:
            return  # a fault the native hooks caught earlier in this block ends the run
        self.exceptions.in_interrupt_hook = True
        try:
            self._interrupt(uc, intno)
        finally:
            self.exceptions.in_interrupt_hook = False

    def _interrupt(self, uc: Uc, intno: int) -> None:
        pc = self._regs.read(R.UC_ARM_REG_PC)
        if intno == faults.EXCP_BKPT:
            insn = self._host_read(pc, 2) if self._mapped(pc, 2) else b""
            if insn == b"\xab\xbe":
                self._semihost_call(uc, pc)
                return
            imm = insn[0] if insn else 0
            self._stop_with(
                self._make_fault("breakpoint", f"BKPT 0x{imm:02x} (not semihosting)", pc))
            return
        if intno == faults.EXCP_DATA_ABORT and not self.core.unaligned_access:
            self._stop_with(self._unaligned_fault(pc))
            return
        if intno == EXCP_EXCEPTION_EXIT:
            self._exception_return(pc)
            return
        if intno == faults.EXCP_SWI:
            try:
                if self.exceptions.svc(pc) or self._escalated_svc(pc):
                    return
            except StackingError as exc:
                self._stop_with(self._stacking_fault(exc, pc - 2))
                return
            lockup = (" (in the HardFault handler or with FAULTMASK set: lockup)"
                      if self.options.vector_faults else "")
            self._stop_with(self._make_fault(
                "hard_fault", "SVC where SVCall cannot be taken: its priority is not above the "
                f"execution priority (HardFault){lockup}", pc - 2))
            return
        if intno == faults.EXCP_PREFETCH_ABORT and faults.execute_never(pc) is not None:
            self._stop_with(self._fetch_fault(pc, 2, faults.XN_FETCH))  # (a device there)
            return
        if intno == faults.EXCP_STKOF:  # the SP move was refused: not in the stack peak
            self._counter.refused_sp(self._regs.read(R.UC_ARM_REG_SP))
        kind, text = faults.EXCEPTIONS.get(intno, ("hard_fault", f"exception {intno}"))
        if intno == faults.EXCP_SWI:
            pc -= 2  # SVC (always 16 bits) arrives with PC already past it: report the SVC
        elif intno == faults.EXCP_NOCP:
            text = faults.no_coprocessor(self.core, self._decode(pc))
        self._stop_with(self._make_fault(kind, text, pc))

    def _escalated_svc(self, pc: int) -> bool:
        """--vector-faults: an SVC that SVCall cannot take (PRIMASK set, or in a handler of its
        priority or above) escalates to HardFault with HFSR.FORCED (ARMv7-M B1.5.4; ARMv6-M:
        HardFault), returning after the SVC as SVCall would. False without --vector-faults, or
        where HardFault cannot be taken either (lockup)."""
        model = self.exceptions
        if not self.options.vector_faults or model.execution_priority() <= -1:
            return False
        if not model.v6m:
            model.hfsr |= 1 << 30  # FORCED
        model.fault_entry(HARDFAULT, pc)
        self._note_vectored(self._make_fault(
            "hard_fault", "SVC where SVCall cannot be taken: escalated to HardFault", pc - 2))
        return True

    def _note_vectored(self, fault: Fault, to: str | None = None) -> None:
        """A fault delivered to the firmware (--vector-faults), for the report's
        ``vectored_faults``: the first MAX_VECTORED listed, the rest counted. ``to``: where it
        went, if not to the exception now taken."""
        if len(self._vectored) >= MAX_VECTORED:
            self._vectored_dropped += 1
            return
        where = f" in {fault.function}" if fault.function else ""
        self._vectored.append(f"{fault.kind} at 0x{fault.pc or 0:08x}{where}: {fault.message} "
                              f"-> {to or exception_name(self.ipsr())}")

    def _imprecise_writes(self, address: int | None) -> bool:
        """Whether a store's bus error at ``address`` is an imprecise BusFault: on ARMv7-M and
        ARMv8-M stores to bufferable memory (the default map's below the System region at
        0xE0000000, which is strongly ordered) go through the write buffer, so their bus
        errors come back after the store retired (CFSR.IMPRECISERR, no BFAR); the Cortex-M3/
        M4's ACTLR.DISDEFWBUF (bit 1) turns the buffer off and makes them precise (their
        TRMs). ARMv6-M: a precise HardFault. A store in an IT block is delivered precisely
        here (retiring it would have to advance the IT state)."""
        if self.exceptions.v6m or address is None or address >= 0xE000_0000:
            return False
        if self._bad_write_in_it:  # (ITSTATE, as the store's hook saw it)
            return False
        return not (self.target.core in ("cortex-m3", "cortex-m4") and self._scs is not None
                    and getattr(self._scs, "actlr", 0) & 2)

    def _imprecise_bus_fault(self, fault: Fault) -> bool:
        """--vector-faults, a store to unmapped memory on a core whose stores are buffered:
        the store retires (its SRAM writes and base writeback done, the unmapped ones lost on
        the bus), the run goes on after it, and BusFault (CFSR.IMPRECISERR) is pended: taken
        before the next instruction when its priority allows, else when that falls (an
        asynchronous exception waits); escalated to HardFault (HFSR.FORCED) while BusFault is
        disabled, which waits the same way in the HardFault handler or under FAULTMASK: an
        asynchronous fault is never a lockup (the ARM ARM locks up on synchronous faults at
        priority -1 or above only; the Cortex-M7 guide, DUI0646 2.4.3: "The HardFault caused
        by the asynchronous BusFault never escalates into lockup"). False: the store cannot
        be told (the run stops as without the option)."""
        model = self.exceptions
        pc, address, size, value = self._bad_write
        found = self._store_at(pc, address, size, value)
        if isinstance(found, str):
            return False
        store, width, effect = found
        exc = BUSFAULT if model.shcsr_enables >> 17 & 1 else HARDFAULT
        self._cut(store + width)
        self._counter.branch_to(store + width)  # (the rest runs on in sequence)
        for at, n, word in effect.writes:
            if self._in_sram(at, n):
                self.uc.mem_write(at, word.to_bytes(n, "little"))
        if effect.writeback is not None:
            self._regs.write(_REG_IDS[effect.writeback[0]], effect.writeback[1])
        self._regs.write(R.UC_ARM_REG_PC, (store + width) | 1)
        model.cfsr |= 1 << 10  # IMPRECISERR (BFAR not written)
        if exc == HARDFAULT:
            model.hfsr |= 1 << 30  # FORCED
        model.set_pending(exc)
        fault.pc = store
        fault.message += " (imprecise: the store retired, the bus error came back after it)"
        self._note_vectored(fault, f"{exception_name(exc)}, pending")
        self._fault = None
        return True

    def _exception_return(self, pc: int) -> None:
        """A branch to an EXC_RETURN value (Unicorn raises it with nothing popped)."""
        model = self.exceptions
        value = self._exc_return_value(pc) if model.v8m else pc | 1
        if not self.ipsr():
            branch = self._last_instruction()
            self._stop_with(self._make_fault(
                "hard_fault", f"branch to 0x{value:08x} in thread mode: not a valid exception "
                "return (UsageFault INVPC)",
                branch if branch is not None else self._regs.read(R.UC_ARM_REG_LR)))
            return
        try:
            model.exception_return(value)
        except StackingError as exc:
            branch = self._last_instruction() if exc.address is None else None
            fault = self._stacking_fault(exc, pc if branch is None else branch)
            if isinstance(exc, InvalidReturn) and self.options.vector_faults and not model.v6m:
                if model.invalid_return_fault(value):
                    self._note_vectored(fault)
                    return
                fault.message += " (in the HardFault handler or with FAULTMASK set: lockup)"
            self._stop_with(fault)
            return
        if model.scr & 2 and not self.ipsr():
            # SCR.SLEEPONEXIT: back in thread mode the core sleeps at once, as WFI would;
            # the exception that wakes it is taken before any thread instruction runs
            resumed = self._regs.read(R.UC_ARM_REG_PC) & ~1
            if not self._sleep(resumed, "sleep on exit (SCR.SLEEPONEXIT)") or (
                    self._reset_requested):
                self.uc.emu_stop()

    def _exc_return_value(self, pc: int) -> int:
        """ARMv8-M: the EXC_RETURN the firmware branched with, bit 0 (ES) included, which
        Unicorn drops from the PC: read back from a ``bx Rm``'s register or the word a ``pop``
        took into PC (its bits 31:1 must be the PC's); else the PC, bit 0 clear."""
        code = self._last_block_code()
        insn = code[-1] if code else None
        value = None
        if insn is not None and insn.id == capstone.arm_const.ARM_INS_BX:
            value = self._regs.read(_unicorn_reg(insn.reg_name(insn.operands[0].reg)))
        elif insn is not None and insn.id == capstone.arm_const.ARM_INS_POP:
            word = self.exceptions.read_mem(self._regs.read(R.UC_ARM_REG_SP) - 4, 4)
            value = None if word is None else int.from_bytes(word, "little")
        return value if value is not None and value & ~1 == pc & ~1 else pc & ~1

    def _last_block_code(self) -> list[capstone.CsInsn] | None:
        """The instructions of the block that ran last, in order; None if one cannot be
        decoded."""
        block = self._counter.last_block
        code: list[capstone.CsInsn] = []
        address = block.start
        while block.start <= address < block.end:
            insn = self._decode(address)
            if insn is None:
                return None
            code.append(insn)
            address += insn.size
        return code

    def _last_instruction(self) -> int | None:
        """The address of the last instruction of the block that ran last (the branch that
        left it, when execution stopped on its target), or None if it cannot be decoded."""
        code = self._last_block_code()
        return int(code[-1].address) if code else None

    def _stacking_fault(self, exc: StackingError, pc: int) -> Fault:
        fault = self._make_fault(exc.kind, str(exc), pc)
        fault.address, fault.access = exc.address, exc.access
        return fault

    def _frame_guard(self, frame: int, size: int, sp: int, on_psp: bool) -> StackingError | None:
        """Why exception entry from ``sp`` may not stack its ``size``-byte frame at ``frame``
        (None: it may): below MSPLIM/PSPLIM on ARMv8-M (the chip's UsageFault STKOF, nothing
        written), or, as the simulator's own checks for code, into static data or the heap, or
        below the object holding a thread's stack."""
        c = self._counter.state
        what = f"exception entry would stack its {size}-byte frame at 0x{frame:08x}"
        if self.exceptions.v8m:
            limit, name = (c.psplim, "PSPLIM") if on_psp else (c.msplim, "MSPLIM")
            if frame < limit:
                return StackLimit(frame, limit, f"{what}, below {name} 0x{limit:08x}: "
                                  "UsageFault STKOF")
        if on_psp:  # bounded by the object its SP lies in, whoever set it (MSR, a return)
            region = self._stack_region(sp)
            start = region[1] if region else 0
            if frame < start:
                name = f" ({region[0]})" if region else ""
                return StackingError(frame, kind="stack_overflow", message=(
                    f"thread stack overflow: {what}, {start - frame} bytes below its "
                    f"region{name} at 0x{start:08x}"))
            return None
        limit = self._counter.stack_limit()
        if frame < limit:
            return StackingError(frame, kind="stack_overflow", message=(
                f"stack overflow into {self._below(limit)}: {what}, {limit - frame} bytes below "
                f"its limit 0x{limit:08x}"))
        return None

    def _derived_entry_fault(self, refused: StackingError, detail: str, return_address: int,
                             exc: int, derived: int, taken: int) -> None:
        """--vector-faults: the entry of ``exc`` took a derived exception (``derived``: the
        UsageFault STKOF of a frame below MSPLIM/PSPLIM, the BusFault STKERR of one outside
        SRAM, or HardFault escalated) instead of stopping the run on ``refused`` (sim.exceptions'
        _derived_entry; ``detail`` says what the entry did); listed with the faults delivered,
        at the SVC for an SVC's entry, else at the instruction the entry preempted.
        ``taken``: the exception entered; the other one stays pending."""
        at = return_address & ~1
        if exc == SVCALL and self._mapped(at - 2, 2) and self._host_read(at - 1, 1) == b"\xdf":
            at -= 2
        fault = self._make_fault(refused.kind, f"{refused}, {detail}", at)
        other = exc if taken == derived else derived
        self._note_vectored(fault, exception_name(taken) if other == taken else
                            f"{exception_name(taken)}, {exception_name(other)} pending")

    def _below(self, limit: int) -> str:
        """What lies below the main stack's ``limit``."""
        if self._msp_object is not None and limit == self._counter.state.msp_floor:
            reset = self.image.reset_stack
            how = ("the reset stack: the initial SP lies in it"
                   if reset is not None and reset[0] == self._msp_object[0]
                   else "where MSR MSP moved the stack")
            return f"static data below {self._msp_object[0]} ({how})"
        return ("heap" if limit > self.image.static_end else "static data (.data/.bss)"
                if limit > SRAM_BASE else "unmapped memory below SRAM")

    def _msr_hook(self, rn: int, sys_reg: int) -> Callable[[], None]:
        """What an MSR from register ``rn`` to special register ``sys_reg`` (its second
        halfword) must do before it runs."""
        return (functools.partial(self._msr_control, rn) if sys_reg == 0x8814 else
                functools.partial(self._msr_psp, rn) if sys_reg == 0x8809 else
                functools.partial(self._msr_msp, rn) if sys_reg == 0x8808 else
                functools.partial(self._msr_stack_limit, rn, sys_reg == 0x880B))

    def _hook_sram_msrs(self, stop: NativeStop) -> int:
        """After ``StopReason.SRAM_MSR`` (the SRAM block at ``stop.pc`` did not run: it holds
        an MSR to a stack register with no hook): a code hook on each such MSR of the block,
        as flash's have, which reads the instruction when it runs (the code there may be
        replaced); Unicorn's translation of the block dropped so that they are compiled in.
        Returns the address to run from (the block again)."""
        at, end = stop.pc, stop.limit
        while at < end and self._in_sram(at, 2):
            first = int.from_bytes(self._host_read(at, 2), "little")
            if (first >> 11) < 0x1D:
                at += 2
                continue
            sysm = int.from_bytes(self._host_read(at + 2, 2), "little") if self._in_sram(
                at, 4) else 0
            # (the native hook stops for MSPLIM/PSPLIM on any core: noted, hooked on ARMv8-M)
            if (first & 0xFFF0 == 0xF380 and sysm in _MSR_SYSM
                    and self._counter.mark_sram_msr(at) and sysm in self._msr_sysm):
                self.uc.hook_add(UC_HOOK_CODE, functools.partial(self._sram_msr, at),
                                 begin=at, end=at)
            at += 4
        self._retranslate(stop.pc, end)
        self._counter.clear_stop()
        return stop.pc

    def _sram_msr(self, address: int, uc: Uc, pc: int, size: int, user: object) -> None:
        """The code hook on an MSR to a stack register in SRAM: what it does before it runs,
        if the instruction there still is one."""
        first, second = struct.unpack("<HH", self._host_read(address, 4))
        if first & 0xFFF0 == 0xF380 and second in self._msr_sysm:
            self._msr_hook(first & 0xF, second)()

    def _msr_stack_limit(self, rn: int, psp: bool) -> None:
        """An MSR to MSPLIM (or PSPLIM, ``psp``) from register ``rn`` is about to run: ignored
        when unprivileged, bits [2:0] read as zero."""
        if not self.ipsr() and self._regs.read(R.UC_ARM_REG_CONTROL) & 1:
            return
        value = self._regs.read(R.UC_ARM_REG_R0 + rn) & ~7 if rn < 13 else 0
        if psp:
            self._counter.state.psplim = value
        else:
            self._counter.state.msplim = value

    def _msr_control(self, rn: int) -> None:
        """An MSR to CONTROL is about to run in thread mode: setting SPSEL starts a thread
        on the PSP's stack (tracked apart from the main stack, bounded by the object it lies
        in), clearing it leaves that stack (its peak recorded, as when an exception preempts
        the thread), so that a later thread on another stack is not held to its bounds."""
        if rn >= 13:
            return
        value = self._regs.read(R.UC_ARM_REG_R0 + rn)
        if value & 1:  # nPRIV: from now on the native SCS store checks privilege too
            self._counter.state.unpriv = 1
        if self.ipsr():
            return
        control = self._regs.read(R.UC_ARM_REG_CONTROL)
        if control & 1:
            return  # unprivileged: SPSEL cannot change
        to_psp = bool(value & 2)
        psp = self._regs.read(R.UC_ARM_REG_PSP)
        if to_psp and not control & 2:
            self._counter.enter_thread_stack(psp)
        elif not to_psp and control & 2 and self._counter.state.psp_mode:
            self._counter.leave_thread_stack(psp)

    def _msr_psp(self, rn: int) -> None:
        """An MSR to PSP is about to run: in thread mode on the PSP the thread moves to
        another stack (the one it leaves records its peak; the new one is bounded by its
        object)."""
        if self.ipsr() or rn >= 13:
            return
        control = self._regs.read(R.UC_ARM_REG_CONTROL)
        if control & 1 or not control & 2:
            return
        if self._counter.state.psp_mode:
            self._counter.leave_thread_stack(self._regs.read(R.UC_ARM_REG_PSP))
        self._counter.enter_thread_stack(self._regs.read(R.UC_ARM_REG_R0 + rn))

    def _msr_msp(self, rn: int) -> None:
        """An MSR to MSP is about to run (privileged): the main stack moves (unprivileged
        writes are ignored)."""
        if rn >= 13 or (not self.ipsr() and self._regs.read(R.UC_ARM_REG_CONTROL) & 1):
            return
        self._move_msp(self._regs.read(R.UC_ARM_REG_R0 + rn) & ~3)

    def _move_msp(self, sp: int) -> None:
        """The main stack moves to ``sp``: into a static object (Zephyr's and NuttX's interrupt
        stacks are arrays in .bss or .noinit), it is bounded by that object and its peak
        measured there, apart from the stack below the initial SP (which alone adds to the
        SRAM peak: the object is static data already); elsewhere (back to the initial stack,
        as FreeRTOS resets MSP from the vector table) as at reset."""
        self._close_msp_region()
        # outside SRAM (flash, unmapped memory): no stack the simulator bounds or measures;
        # what is pushed there meets the bus (an exception's frame: BusFault STKERR), and a
        # floor of 1 keeps the stack check, which knows nothing of it, from calling it an
        # overflow into static data
        self._msp_outside = not SRAM_BASE <= sp <= SRAM_BASE + self.sram_size
        region = None if self._msp_outside else self._main_stack_object(sp)
        self._msp_object = None if region is None else (region[0], region[2])
        self._counter.state.msp_floor = (1 if self._msp_outside else
                                         0 if region is None else region[1])
        self._counter.state.min_sp = sp

    def _main_stack_object(self, sp: int) -> tuple[str, int, int] | None:
        """(name, start, end) of the static object bounding a main stack at ``sp``: one below
        the static data's end (an interrupt stack array), or the reset stack's object when the
        initial SP lies in one (``vector[0] = &stack[N]``, the array in .bss: MSP set back to
        the vector table's value lands there again)."""
        if SRAM_BASE < sp <= self.image.static_end:
            return self._stack_region(sp)
        reset = self.image.reset_stack
        if reset is not None and reset[1] < sp <= reset[2]:
            return reset
        return None

    def _close_msp_region(self) -> None:
        """The main stack's low-water mark so far, recorded for the stack it is on."""
        lowest = self._counter.state.min_sp
        if self._msp_outside:
            return  # (no stack in SRAM: nothing to record)
        if self._msp_object is None:
            self._initial_min = min(self._initial_min, lowest)
        else:
            name, end = self._msp_object
            self._main_stacks[name] = max(self._main_stacks.get(name, 0), end - lowest)

    def _sev(self) -> None:
        self.exceptions.event_register = True

    def _hint(self, pc: int) -> bool:
        """WFE and YIELD end Unicorn's run as invalid instructions, with PC already past them:
        model them (WFE sleeps unless the event register is set) and resume. False for any
        other instruction."""
        insn = self._host_read(pc - 2, 2) if self._mapped(pc - 2, 2) else b""
        model = self.exceptions
        if insn == b"\x20\xbf":  # WFE
            if model.event_register:
                model.event_register = False
            elif not self._sleep(pc - 2, "WFE", wfe=True):
                return True  # deadlock: the run ends
        elif insn != b"\x10\xbf":  # YIELD: a hint, nothing to do
            return False
        self._resume = pc | 1
        return True

    def _semihost_call(self, uc: Uc, pc: int) -> None:
        op = self._regs.read(R.UC_ARM_REG_R0)
        arg = self._regs.read(R.UC_ARM_REG_R1)
        try:
            result = self._sh.call(op, arg, self._memory)
        except UcError as exc:
            where = ("into flash, which is read-only" if exc.errno == UC_ERR_WRITE_PROT
                     else "outside mapped memory")
            self._stop_with(self._make_fault(
                "hard_fault", f"semihosting call 0x{op:02x} points {where}", pc))
            return
        if isinstance(result, ExitRequest):
            self._exit = result.status
            uc.emu_stop()
            return
        # R0 and PC in one batch (ExceptionModel.jump: a PC written alone here left later
        # faults in the emu_start at their block's start)
        self._regs.write_many((R.UC_ARM_REG_R0, R.UC_ARM_REG_PC), [result, (pc + 2) | 1])

    def _on_bad_access(self, uc: Uc, access: int, address: int, size: int, value: int,
                       user: object) -> bool:
        pc = uc.reg_read(R.UC_ARM_REG_PC)
        nvm = self._nvm_at(address, 1)
        why = ""
        if access == UC_MEM_WRITE_PROT and self._fault is None and (
                (self._programmer is not None and self._flash_offset(address) is not None)
                or nvm is not None):
            found = self._store_at(pc, address, size, value)
            in_it = self._regs.read(R.UC_ARM_REG_XPSR) & 0x0600_FC00  # (ITSTATE: not v6-M)
            if isinstance(found, str) or in_it:
                why = (" (a store in an IT block, which the simulator does not carry out there)"
                       if in_it else f" ({found})")
            else:
                pc = found[0]
                self._nvm_store = found  # done by _program_store
                return False
        if access == UC_MEM_WRITE_PROT:
            kind = "flash_write"
            verb = f"write to {'the data EEPROM' if nvm is not None else 'flash'}{why}"
        elif access in (UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT):
            self._stop_with(self._fetch_fault(
                address, size, faults.XN_FETCH if faults.execute_never(address) is not None
                else "instruction fetch from unmapped memory" if access == UC_MEM_FETCH_UNMAPPED
                else "instruction fetch from memory mapped for reads only"))
            return False
        elif access == UC_MEM_WRITE_UNMAPPED:
            kind, verb = "unmapped_write", "write outside mapped memory"
            self._bad_write = (pc, address, size, value)  # (an imprecise BusFault's store)
            self._bad_write_in_it = bool(self._regs.read(R.UC_ARM_REG_XPSR) & 0x0600_FC00)
        elif access == UC_MEM_READ_UNMAPPED:
            kind, verb = "unmapped_read", "read outside mapped memory"
        else:
            kind, verb = "hard_fault", f"memory access error ({access})"
        acc = {"flash_write": "write", "unmapped_write": "write"}.get(kind, "read")
        where = self._region_note(address)
        fault = self._make_fault(kind, f"{verb}: {size} bytes at 0x{address:08x}{where}", pc)
        fault.address, fault.size, fault.access = address, size, acc
        self._stop_with(fault)
        return False

    def _fetch_fault(self, address: int, size: int, verb: str) -> Fault:
        """The ``unmapped_fetch`` of ``size`` bytes at ``address`` (PC there): from memory
        that does not answer, or from an Execute-Never region (``verb`` says which), a device
        there or not."""
        xn = faults.execute_never(address)
        where = self._region_note(address) or (
            "" if xn is None else f" ({xn}{self._device_note(address)})")
        fault = self._make_fault("unmapped_fetch",
                                 f"{verb}: {size} bytes at 0x{address:08x}{where}", address)
        fault.address, fault.size, fault.access = address, size, "fetch"
        return fault

    def _device_note(self, address: int) -> str:
        """``: cmsdk_uart0 mapped there`` for an address inside a device the simulator maps
        (registers, or an alias such as the bit-band region's)."""
        dev = next((d for d in self.devices if d.base <= address < d.base + d.size), None)
        return "" if dev is None else f": {dev.name} mapped there"

    def _store_at(self, pc: int, address: int, size: int, value: int
                  ) -> tuple[int, int, StoreEffect] | str:
        """The store writing ``size`` bytes of ``value`` at ``address`` that Unicorn is making:
        (its PC, its size, what it writes), or why the simulator cannot carry it out. Unicorn's
        PC is the store's, except after a PC written in an interrupt hook earlier in this
        emu_start (ExceptionModel.jump: not by this simulator's own hooks): then it is the
        block's start, and the store is found in the block as a device's store is
        (sim/store_match.py: by the address it writes and the registers now, after the store
        matched last in this pass); none found: not carried out, never another one."""
        insn = self._decode(pc)
        effect = None if insn is None else decode_store(insn, self.read_register)
        write = (address, size, value & ((1 << (8 * size)) - 1))
        if insn is not None and effect is not None and write in effect.writes:
            return pc, insn.size, effect
        # the block's store writing there now, as a device's store is found (sim/store_match.py)
        block = self._counter.last_block
        stores = self._running_block_accesses()
        this_pass = (block.start, self._counter.cycles)
        after = self._matched[1] if self._matched[0] == this_pass else -1
        position = stores.find(address, after, self.read_register)
        if position is not None:
            store = stores.code[stores.accesses[position]]
            found = decode_store(store, self.read_register)
            if found is not None and write in found.writes:
                return int(store.address), int(store.size), found
        if insn is None or effect is None:
            return "not a store the simulator carries out into it: STR, STRH, STRB, STRD, STM"
        return f"the simulator could not tell which instruction stored; PC 0x{pc:08x}"

    def _in_alias(self, address: int) -> bool:
        """Whether ``address`` is in the boot alias of flash linked elsewhere."""
        return self.alias_base <= address < self.alias_base + self.alias_size

    def _region_note(self, address: int) -> str:
        sram_end = SRAM_BASE + self.sram_size
        const = (self.image.object_at(address) if self._in_flash(address) and address >= 0x100
                 else None)  # (below: a null pointer's member, more likely)
        if const is not None:  # (a store into a const table: more likely than a null pointer)
            return f" (in {const[0]}, a const object in flash)"
        if (self.target.core in ("cortex-m3", "cortex-m4") and not self._device_note(address)
                and (address >> 25) in (0x11, 0x21)):  # 0x22000000.., 0x42000000..
            what = "SRAM" if address < 0x4000_0000 else "the peripherals"
            return (f" (the bit-band alias of {what}, an option of the Cortex-M3/M4 that "
                    f"{self.target.name} does not implement)")
        if self.target.name == "nrf52832" and 0x1000_0000 <= address < 0x1000_2000:
            return " (the nRF52's FICR or UICR: not modelled)"
        if sram_end <= address < sram_end + 0x100000:
            past = address - sram_end
            return f" ({past} bytes past the end of {format_size(self.sram_size)} SRAM)"
        base = self.flash_base
        if self._in_alias(address):  # (8) a data access at 0 is more likely a null pointer
            return (f" (the boot alias of flash at 0x{base:08x}: read-only, and code runs at "
                    "its linked address" + ("; null pointer?)" if address < 0x1000 else ")"))
        if self._flash_offset(address) is not None and not self._in_flash(address):
            return (f" (the part's address of flash linked at 0x{base:08x}: code runs at its "
                    "linked address)")
        nvm = self._nvm_at(address, 1)
        if nvm is not None:
            return f" ({nvm.name}, 0x{nvm.base:08x}-0x{nvm.base + nvm.size - 1:08x})"
        if SRAM_BASE - BELOW_SRAM <= address < SRAM_BASE:
            return (f" ({SRAM_BASE - address} bytes below SRAM's start (0x{SRAM_BASE:08x}): "
                    "a stack overflowing downwards?)")
        if address < SRAM_BASE and address >= base + self.flash_size:
            return f" (past the end of {format_size(self.flash_size)} flash)"
        if address < 0x1000:
            return " (near address 0: null pointer?)"
        return ""

    def _host_read(self, addr: int, size: int) -> bytes:
        """Firmware memory for the semihosting host, read from the host arrays Unicorn maps
        (mem_map_ptr), so always current, with no call into Unicorn. A range outside flash and
        SRAM raises UcError(UC_ERR_READ_UNMAPPED), like Unicorn's mem_read."""
        if addr >= SRAM_BASE and addr + size <= SRAM_BASE + self.sram_size:
            return self.sram[addr - SRAM_BASE : addr - SRAM_BASE + size].tobytes()
        offset = self._flash_offset(addr, size)
        if offset is not None:
            return self.flash[offset : offset + size].tobytes()
        nvm = self._nvm_at(addr, size)  # (a string in the STM32L0's data EEPROM, say)
        if nvm is not None:
            return nvm.data[addr - nvm.base : addr - nvm.base + size].tobytes()
        raise UcError(UC_ERR_READ_UNMAPPED)

    def _host_write(self, addr: int, data: bytes) -> None:
        """Where the semihosting host may write for the firmware (SYS_READ's buffer, ...):
        SRAM only. Flash is read-only to the firmware, so to its host calls too: UcError
        (UC_ERR_WRITE_PROT) there, UC_ERR_WRITE_UNMAPPED outside both."""
        if self._in_sram(addr, len(data)):
            self.uc.mem_write(addr, data)
            return
        if self._flash_offset(addr, len(data)) is not None:
            raise UcError(UC_ERR_WRITE_PROT)  # flash, or its other view
        raise UcError(UC_ERR_WRITE_UNMAPPED)

    def _in_flash(self, addr: int) -> bool:
        """Code there cannot change during a run (a store to flash faults, or is programmed by
        the part's flash interface outside the code: flash_write)."""
        return self.flash_base <= addr < self.flash_base + self.flash_size

    def _mapped(self, addr: int, size: int) -> bool:
        base = self.flash_base
        return (addr >= base and addr + size <= base + self.flash_size) or \
            self._in_sram(addr, size)

    def _readable(self, addr: int, size: int) -> bool:
        """Mapped, or in another view of flash (reads only: the boot alias at 0)."""
        return self._mapped(addr, size) or self._flash_offset(addr, size) is not None

    def _flash_offset(self, addr: int, size: int = 1) -> int | None:
        """Where [addr, addr + size) lies in the flash, seen through any of its views; None
        outside them."""
        for start, length in self._flash_views:
            if start <= addr and addr + size <= start + length:
                return addr - start
        return None

    # --- fault description -----------------------------------------------------------------
    def _make_fault(self, kind: str, text: str, pc: int) -> Fault:
        pc &= ~1
        fault = Fault(kind=kind, message=text, pc=pc)
        fault.function = self.describe_address(pc)
        fault.instruction = self.disassemble(pc)
        fault.registers = {name: self.uc.reg_read(reg) for name, reg in _REGS}
        return fault

    def describe_address(self, address: int) -> str | None:
        hit = self.image.function_at(address)
        if hit is None:
            return None
        name, off = hit
        return f"{name}+0x{off:x}"

    def disassemble(self, pc: int) -> str | None:
        insn = self._decode(pc)
        return None if insn is None else f"{insn.mnemonic} {insn.op_str}".strip()

    def _code(self, pc: int) -> bytes:
        """The bytes of the instruction at ``pc`` (2 or 4; empty when not mapped)."""
        if not self._mapped(pc, 2):
            return b""
        first = self._host_read(pc, 2)
        wide = (first[1] >> 3) >= 0x1D  # Thumb-2: a 32-bit instruction's first halfword
        return self._host_read(pc, 4) if wide and self._mapped(pc, 4) else first

    def _decode(self, pc: int) -> capstone.CsInsn | None:
        """The instruction at ``pc`` as capstone reads it (with operand detail), or None."""
        for insn in self._md.disasm(self._code(pc), pc, 1):
            return insn
        return None

    # --- running -----------------------------------------------------------------------------
    def _reset(self) -> tuple[int, int]:
        """Power-on state: SRAM zeroed (plus any image parts loaded there), registers from the
        vector table. Returns (initial SP, reset handler)."""
        self.sram[:] = 0
        for off, data in self._sram_image:
            n = min(len(data), self.sram_size - off)
            self.sram[off : off + n] = np.frombuffer(data[:n], np.uint8)
        if self._flash_image is not None:  # programmed by the last run: as loaded again
            self.flash[:] = self._flash_image
            self._flash_image = None
            self._drop_flash_translations(0, self.flash_size)
        self._nvm_store = None
        sp0, reset = struct.unpack("<II", self.flash[:8].tobytes())
        self._counter.reset(sp0, reset)
        self._msp_object, self._initial_min, self._main_stacks = None, sp0, {}
        self._msp_outside = False
        self._move_msp(sp0)  # (a reset stack that is a static object is bounded by it)
        self._irq_drivers: dict[int, set[object]] = {}  # the sources holding each line high
        self._clock = ClockLog(self.clock_at_reset)
        self._wait_states = self.wait_states_at_reset
        self._counter.set_refill(self.timing.branch_refill + self._wait_states)
        for pin in self._pins.values():
            pin.reset()
        self._i2c.reset()
        self._spi.reset()
        self._pin_trace.reset()
        self._pin_trace.driven = {s.spec.name: str(s.spec.path or s.spec.level)
                                  for s in self._pins.values()}
        for dev in self.devices:
            dev.reset()
        self.exceptions.reset()
        for dev in self.devices:
            dev.start()
        self._elapsed = False
        self._sleeping = self._ended_asleep = None
        if self.options.run_for is not None:
            self.exceptions.end_at(self.run_for_cycles, self._elapse)
        self._unmodelled = {}
        self._warnings = {}
        self._deep_sleeps = 0
        for source in self._analog.values():
            source.reset()
        self._polled = None
        self._matched = self._load_matched = ((-1, -1), -1)
        self._reset_requested = False
        self._reset_cut = None
        self._deadlock = None
        self._vectored = []
        self._vectored_dropped = 0
        self._resume = None
        self._reset_why, self._reset_cause = "", SOFTWARE
        self._reset_final = False
        self._resets = ResetLog()
        self._standby = False
        self._core_registers(sp0)
        self._fault = None
        self._exit = None
        return sp0, reset

    def _core_registers(self, sp0: int) -> None:
        """The core's registers at reset: thread mode, privileged, on the main stack at
        ``sp0``, no mask set (the previous run, or the code before a reset, may have been in a
        handler or in a thread on the process stack)."""
        self._regs.write_many(_RESET_STATE, [1 << 24, 0, 0, 0, 0, 0])
        for _, reg in _REGS[:15]:
            self.uc.reg_write(reg, 0)
        self.uc.reg_write(R.UC_ARM_REG_SP, sp0)
        self.uc.reg_write(R.UC_ARM_REG_LR, 0xFFFFFFFF)

    def _reboot(self) -> int | None:
        """The reset requested (request_reset), during the run, as the chip does it: the
        firmware starts again at its reset vector, the core and the part's peripherals as at
        reset but what lives through it (the RTC and its backup domain, the reset flags, the
        debug unit, the pins' outside drive), the SRAM kept (lost, read as 0, coming out of
        Stand-by, where it is off), the counts, time and peaks going on. Returns the reset
        handler's address; None when the run may not go on (allow_resets used up): the run
        ends there, status "reset"."""
        cause, model = self._reset_cause, self.exceptions
        last = self._counter.last_block
        cut, self._reset_cut = self._reset_cut, None
        if cut is not None:  # a store asked for it: the rest of its block never ran
            self._cut(cut)
        elif self._regs.read(R.UC_ARM_REG_PC) & ~1 == last.start and not self._standby:
            # asked for at a block boundary (a watchdog's event): that block never ran
            self._counter.uncount(last.instructions, last.cycles)
        if cause != STANDBY and self._resets.allowed_used >= self.options.allow_resets:
            self._reset_final = True
            return None
        if self._counter.state.psp_mode:  # the thread on its stack: its peak so far
            self._counter.leave_thread_stack(self._regs.read(R.UC_ARM_REG_PSP))
        now, asleep = model.now, model.sleep_cycles
        lost = self._standby
        self._resets.add(Reset(now, self._clock.seconds(now, asleep), cause, self._reset_why,
                               lost))
        if lost:
            self.sram[:] = 0
        kept = [dev for dev in self.devices if dev.keeps_events]
        # the core's clock as at reset; what lives through the reset goes on at it
        for dev in kept:
            getattr(dev, "settle", lambda: None)()
        source = ("the profile's clock, after a reset" if self._reset_clock is None
                  else self._reset_clock[2])
        self.set_clock(self.clock_at_reset, self.wait_states_at_reset, source)
        for dev in kept:
            getattr(dev, "restart", lambda: None)()
        sp0, reset = struct.unpack("<II", self.flash[:8].tobytes())
        model.system_reset(kept)
        self._counter.reboot(sp0, reset)
        self._move_msp(sp0)  # (back on the initial stack; after reboot, which clears its bound)
        if self._div0_installed:
            self._counter.set_div0_trap(False)
        if self._trp_installed:
            self._counter.set_unaligned_trap(False)
        self._irq_drivers = {}
        for dev in self.devices:
            dev.system_reset(cause)
        for dev in self.devices:
            if not dev.keeps_events:
                dev.start()
        self._reset_requested, self._standby = False, False
        self._sleeping = self._resume = self._deadlock = None
        self._matched = self._load_matched = ((-1, -1), -1)
        self._core_registers(sp0)
        return int(reset)

    def _unsupported(self, option: str, what: str) -> ImageError:
        """The error for an option the target has no model for (``what``: "ADC")."""
        return ImageError(f"{option} needs a target whose {what} the simulator models "
                          f"(stm32l031); {self.target.name} has none")

    @property
    def _ports(self) -> str:
        """The letters of the target's GPIO ports the simulator models ("" for none)."""
        return "".join(str(getattr(dev, "gpio_port", "")) for dev in self.devices)

    def _load_analog(self, specs: Sequence[AnalogSpec]) -> dict[int | str, AnalogInput]:
        """The analog pins' values by ADC channel (or pin name: a pin no channel reaches);
        ImageError for a target without an ADC model or a pin on a port it lacks, InputError
        for a file that is not a series of volts."""
        if not specs:
            return {}
        if not any(hasattr(dev, "analog_pins") for dev in self.devices):
            raise self._unsupported("--analog", "ADC")
        _checked(check_specs, list(specs))
        ports = self._ports
        for spec in specs:
            if spec.pin and spec.pin != SUPPLY and spec.pin[1] not in ports:
                raise ImageError(f"analog {spec.label}: the target has ports "
                                 f"{', '.join(ports)}")
        return {s.key: AnalogInput(s, (load_supply if s.pin == SUPPLY else load_volts)(s.path))
                for s in specs}

    def _load_pins(self, specs: Sequence[PinSpec]) -> dict[str, PinInput]:
        """The GPIO pins' levels by pin name; ImageError for a target without a GPIO model or
        a pin on a port it lacks, InputError for a file that is not a series of levels."""
        ports = self._ports
        if not ports and (specs or self.options.vcd is not None):
            raise self._unsupported("--pin" if specs else "--vcd", "GPIO")
        if not specs:
            return {}
        _checked(check_pin_specs, list(specs), ports)
        return {s.name: PinInput(s) for s in specs}

    def _load_i2c(self, specs: Sequence[I2cSpec]) -> I2cBus:
        """The I2C bus with the targets ``specs`` describe; ImageError for a target without an
        I2C controller model or an address given twice, InputError for a file that does not
        describe a target."""
        if specs and not any(getattr(dev, "i2c_controller", False) for dev in self.devices):
            raise self._unsupported("--i2c", "I2C controller")
        _checked(check_i2c_specs, list(specs))
        host = next((load_controller(s.path) for s in specs if s.address is None), None)
        return I2cBus([load_target(s) for s in specs if s.address is not None],
                      self._device_seconds, host)

    def _load_spi(self, specs: Sequence[SpiSpec]) -> SpiBus:
        """The SPI bus with the devices ``specs`` describe; ImageError for a target without an
        SPI controller model, a chip select on a port it lacks or given twice, InputError for a
        file that does not describe a device."""
        if specs and not any(getattr(dev, "spi_controller", False) for dev in self.devices):
            raise self._unsupported("--spi", "SPI controller")
        _checked(check_spi_specs, list(specs), self._ports)
        return SpiBus([load_spi_target(s) for s in specs], self._device_seconds)

    def i2c_bus(self) -> I2cBus:
        return self._i2c

    def spi_bus(self) -> SpiBus:
        return self._spi

    def _device_seconds(self, cycle: int) -> float:
        """Device time (awake and asleep) at core cycle ``cycle``, at the clock as it went."""
        return self._clock.seconds(cycle, self.exceptions.sleep_cycles)

    def _cycle_of(self, seconds: float) -> int:
        """The core cycle of device time ``seconds`` (not after now), at the clock now."""
        now = self.exceptions.now
        back = self._clock.seconds(now, self.exceptions.sleep_cycles) - seconds
        return max(0, now - max(0, round(back * self.clock_hz)))

    def pin_drive(self, port: str) -> tuple[int, int]:
        driven = high = 0
        for source in self._pins.values():
            level = source.level
            if source.spec.port == port and level is not None:
                driven |= 1 << source.spec.number
                high |= level << source.spec.number
        return driven, high

    def pin_events(self, port: str, apply: Callable[[int], None]) -> int | None:
        now, asleep = self.exceptions.now, self.exceptions.sleep_cycles
        seconds = self._clock.seconds(now, asleep)

        def cycle_of(t: float) -> int:  # (due when it is now: the plan's own rounding)
            return now if t <= seconds else self._clock.cycle_at(t, now, asleep)

        sources = [source for source in self._pins.values() if source.spec.port == port]
        try:
            while True:  # the changes due, earliest first
                due = [(t, source) for source in sources
                       if (t := source.next_time()) is not None and cycle_of(t) <= now]
                if not due:
                    break
                t, source = min(due, key=lambda d: d[0])
                source.take()
                self._pin_time = t  # its change is traced at its own time
                apply(self._cycle_of(t))
        finally:
            self._pin_time = None
        times = [t for source in sources if (t := source.next_time()) is not None]
        return cycle_of(min(times)) if times else None

    def pin_levels(self, port: str, known: int, high: int, initial: bool = False,
                   at_store: bool = False, at: int | None = None) -> None:
        trace = self._pin_trace
        if self._spi.targets:  # chip selects: at the store that changes one (a --pin change: at
            # its own time)
            cycle = (self._cycle_of(self._pin_time) if self._pin_time is not None else
                     at if at is not None else
                     self._access_cycle() if at_store and not initial else self.exceptions.now)
            self._spi.pins(port, known, high, cycle)
        if initial:
            self._pin_state[port] = (known, high)
            for pin in range(16):
                trace.initial(f"P{port}{pin}", high >> pin & 1 if known >> pin & 1 else None)
            return
        was_known, was_high = self._pin_state.get(port, (0, 0))
        self._pin_state[port] = (known, high)
        changed = (known ^ was_known) | ((high ^ was_high) & known)
        if self._pin_time is not None:
            seconds = self._pin_time
        else:
            cycle = (at if at is not None else self._access_cycle() if at_store
                     else self.exceptions.now)
            seconds = self._clock.seconds(cycle, self.exceptions.sleep_cycles)
        for pin in range(16):
            if changed >> pin & 1:
                trace.change(f"P{port}{pin}", high >> pin & 1 if known >> pin & 1 else None,
                             seconds)

    def analog_code(self, channel: int, at: int | None = None) -> int | None:
        source = self._analog.get(channel)
        if source is None:
            return None
        cycle = self._counter.cycles if at is None else at
        seconds = self._clock.seconds(cycle, self.exceptions.sleep_cycles)
        code = source.code(seconds, self._supply_at(seconds))
        if source.spec.rate is None:  # the pin's voltage is the next value now
            for changed in self._analog_listeners:
                changed(channel, cycle)
        return code

    def analog_input(self, channel: int | str) -> AnalogInput | None:
        return self._analog.get(channel)

    def _supply_at(self, seconds: float) -> float:
        supply = self._analog.get(SUPPLY)
        return VDDA if supply is None else supply.supply_at(seconds)

    def supply_volts(self, at: int | None = None) -> float:
        cycle = self._counter.cycles if at is None else at
        return self._supply_at(self._clock.seconds(cycle, self.exceptions.sleep_cycles))

    def seconds_at(self, cycle: int) -> float:
        return self._device_seconds(cycle)

    def cycle_at(self, seconds: float, since: int | None = None) -> int:
        return self._clock.cycle_at(seconds, self.exceptions.now if since is None else since,
                                    self.exceptions.sleep_cycles)

    def store_cycle(self) -> int:
        return self._access_cycle()

    def acting_at(self, cycle: int | None) -> int | None:
        old, self._acting = self._acting, cycle
        return old

    def _access_cycle(self) -> int:
        """The cycle at which the store (load) a device is handling now ends: the cycles of
        the instructions before it and its own (sim/store_match.py: a block's cycles are
        counted when it starts, so those of its instructions after the access are taken back);
        the block's end when the access is not found, and now outside an access (a device's
        event, a sleep)."""
        if self._acting is not None:  # a bus master's access at its event's cycle
            return self._acting
        end: int = self._native.cycles
        if self._sleeping is not None:
            return end
        if self._load_address is not None and self._this_load is _UNKNOWN \
                and self._device_pc is None:  # (a polling loop's block: quickly)
            state = self._native
            loads = self._block_loads.get((state.last_addr, state.next_seq))
            if loads is not None and loads.single is not None:
                self._this_load = (loads, 0)
                return end - loads.single
        if self._store_address is not None:
            found = self._current_store()
        elif self._load_address is not None:
            found = self._current_load()
        elif self._scs_store is not None:
            found = self._scs_store_found(self._scs_store)
        else:
            return end
        if found is None:
            return end
        accesses, position = found
        return end - accesses.cycles_after(position)

    def _running_block_accesses(self, loads: bool = False) -> BlockAccesses:
        """The stores (``loads``: the loads) of the block running now (cached for code in
        flash; in SRAM, while its bytes stay the same: code copied there, a counter polled
        from a RAM function, is not decoded at each access)."""
        block = self._counter.last_block
        cache = self._block_loads if loads else self._block_stores
        found = cache.get((block.start, block.end))
        if found is not None:
            return found
        ram = None
        if self._in_sram(block.start, block.end - block.start):
            ram = self._host_read(block.start, block.end - block.start)
            kept = self._ram_blocks.get((block.start, block.end, loads))
            if kept is not None and kept[0] == ram:
                return kept[1]
        found = BlockAccesses(self._last_block_code() or [], block.end, self._literal,
                              lambda start, end: self._counter.range_facts(start, end)[1],
                              loads)
        if self._in_flash(block.start):
            cache[(block.start, block.end)] = found
        elif ram is not None:
            if len(self._ram_blocks) >= _RAM_BLOCKS:  # (code rewritten again and again)
                self._ram_blocks.clear()
            self._ram_blocks[(block.start, block.end, loads)] = (ram, found)
        return found

    def _store_end(self, scs: tuple[int, int, int] | None = None) -> int | None:
        """The address after the store writing a device now (None when it is not found);
        ``scs``: the System Control Space's (address, size, value) being written
        (_scs_store_found)."""
        found = self._current_store() if scs is None else self._scs_store_found(scs)
        if found is None:
            return None
        stores, position = found
        store = stores.code[stores.accesses[position]]
        return int(store.address) + int(store.size)

    def _scs_store_found(self, scs: tuple[int, int, int]) -> tuple[BlockAccesses, int] | None:
        """The running block's stores and the position of the one writing the System Control
        Space's (address, size, value) now, found as a device's store is (its native callback
        sees no PC): the first store there that writes that value at that address with the
        registers now."""
        stores = self._running_block_accesses()
        address, size, value = scs
        write = (address, size, value & ((1 << (8 * size)) - 1))
        after = -1
        while True:
            position = stores.find(address, after, self.read_register)
            if position is None or position <= after:  # (an STM found again: no other)
                return None
            effect = decode_store(stores.code[stores.accesses[position]], self.read_register)
            if effect is not None and write in effect.writes:
                return stores, position
            after = position

    def _current_store(self) -> tuple[BlockAccesses, int] | None:
        """The running block's stores and the position of the one writing a device now (found
        once a write): at the PC --strict-peripherals' memory hook noted, else by its
        address."""
        if self._this_store is _UNKNOWN:
            self._this_store, self._matched = self._current_access(
                self._running_block_accesses(), self._store_address, self._matched)
        return self._this_store  # type: ignore[return-value]

    def _current_load(self) -> tuple[BlockAccesses, int] | None:
        """The running block's loads and the position of the one reading a device now (found
        once a read), as _current_store finds a store; quickly in a block with one load (a
        polling loop's)."""
        found = self._this_load
        if found is _UNKNOWN:
            state = self._counter.state
            loads = self._block_loads.get((state.last_addr, state.next_seq))
            if loads is None:
                loads = self._running_block_accesses(loads=True)
            if len(loads.accesses) == 1 and self._device_pc is None:
                found = (loads, 0)  # (no other in the pass to match in turn)
            else:
                found, self._load_matched = self._current_access(
                    loads, self._load_address, self._load_matched)
            self._this_load = found
        return found  # type: ignore[return-value]

    def _current_access(self, accesses: BlockAccesses, address: int | None,
                        matched: tuple[tuple[int, int], int]
                        ) -> tuple[tuple[BlockAccesses, int] | None, tuple[tuple[int, int], int]]:
        """(``accesses`` and the position of the one at ``address`` now, or None; the pass and
        position matched last, ``matched`` before): at the PC --strict-peripherals' memory
        hook noted, else by its address, after the one ``matched`` last in this pass."""
        block = self._counter.last_block
        pc = self._device_pc  # (--strict-peripherals only)
        noted = [] if pc is None else [
            p for p, i in enumerate(accesses.accesses) if accesses.code[i].address == pc]
        this_pass = (block.start, self._counter.cycles)
        after = matched[1] if matched[0] == this_pass else -1
        if noted:
            position: int | None = noted[0]
        elif len(accesses.accesses) == 1:
            position = 0
        else:
            position = accesses.find(address or 0, after, self.read_register)
        if position is None:
            return None, matched
        return (accesses, position), (this_pass, position)

    def _literal(self, address: int) -> int | None:
        """A word of the literal pool (flash), None where none is mapped."""
        if not self._in_flash(address) or not self._in_flash(address + 3):
            return None
        return int.from_bytes(self._host_read(address, 4), "little")

    def _ticks(self) -> int:
        """Device time in periods of the target's clock (semihosting's clock: SYS_CLOCK,
        SYS_ELAPSED at SYS_TICKFREQ): the cycles, unless the firmware set a clock up or the run
        started at the part's reset clock."""
        if not self._clock.varied and self._reset_clock is None:
            return self._counter.cycles
        seconds = self._clock.seconds(self._counter.cycles, self.exceptions.sleep_cycles)
        return int(seconds * self.target.clock_hz)

    @property
    def run_for_cycles(self) -> int:
        """--run-for in cycles at the target clock (at least one; replanned when the firmware
        changes the clock: set_clock); 0 without it."""
        run_for = self.options.run_for
        return 0 if run_for is None else max(1, round(run_for * self.clock_at_reset))

    def _part_reset_clock(self) -> tuple[int, int, str]:
        """The part's own clock at reset (reset_clock); ImageError for a target whose clock
        control the simulator does not model."""
        for dev in self.devices:
            reset_clock = getattr(dev, "reset_clock", None)
            if reset_clock is not None:
                clock: tuple[int, int, str] = reset_clock()
                return clock
        raise ImageError(f"--reset-clock (reset_clock) needs a target whose clock control the "
                         f"simulator models (stm32l031); {self.target.name} has none")

    @property
    def clock_at_reset(self) -> int:
        """The core's clock when a run starts: the profile's, or the part's (reset_clock)."""
        return self.target.clock_hz if self._reset_clock is None else self._reset_clock[0]

    @property
    def wait_states_at_reset(self) -> int:
        """Flash wait states when a run starts: the profile's or those given for the run; with
        reset_clock the part's (unless given)."""
        if self._reset_clock is None or self.options.flash_wait_states is not None:
            return self.wait_states
        return self._reset_clock[1]

    @property
    def at_reset_clock(self) -> bool:
        return self._reset_clock is not None

    def _elapse(self) -> None:
        """The run's --run-for time is up: stop at this block boundary (or this sleep)."""
        self._elapsed = True
        self._ended_asleep = self._sleeping
        self._counter.request_stop()

    def interrupt(self) -> None:
        """Stop the current run as soon as the emulator reaches a block boundary; the report
        says ``interrupted``. Safe to call from another thread (e.g. a SIGINT watcher)."""
        self._interrupted = True
        self.uc.emu_stop()

    def cancel_interrupt(self) -> None:
        """Forget an interrupt() that came when no run was going (sim.interrupts raises its
        signal again instead): the next run is not stopped by it."""
        self._interrupted = False

    def _read_word(self, symbol: str) -> int | None:
        addr = self.image.symbols.get(symbol)
        if addr is None or not self._in_sram(addr, 4):
            return None
        off = addr - SRAM_BASE
        return int(struct.unpack("<I", self.sram[off : off + 4].tobytes())[0])

    def run(self, stdin: BinaryIO | None = None) -> RunReport:
        """Run from reset until the firmware exits, faults or hits a limit."""
        opts = self.options
        sp0, reset = self._reset()
        img = self.image
        if img.heap_above_stack(sp0):  # the heap grows up from the data above the stack
            heapinfo = (img.symbols.get("__heap_start", img.static_top),
                        SRAM_BASE + self.sram_size, sp0, img.static_end)
        else:
            heapinfo = (img.symbols.get("__heap_start", img.static_end), sp0 - 1024, sp0,
                        SRAM_BASE)
        self._sh = Semihost(
            inputs=[Path(p) for p in opts.inputs],
            output_dir=opts.output_dir,
            stdin=stdin if stdin is not None else opts.stdin,
            echo=opts.echo,
            clock=self._ticks,
            clock_hz=self.target.clock_hz,
            cmdline=opts.cmdline.encode(),
            heapinfo=heapinfo,
            console_keep=opts.console_keep,
        )
        self._memory = Memory(self._host_read, self._host_write)
        self._console_span = _span(self._sh.stdin)
        start = time.perf_counter()

        if self.fit_problem is None:
            self._check_vectors(sp0, reset)
        if self.fit_problem is None and self._fault is None:
            self._execute(reset, start)
            shadow_error = self._counter.shadow_sp_error()
            if shadow_error is not None:
                raise RuntimeError(shadow_error)
        wall = time.perf_counter() - start
        self._sh.close_all()
        report = self._report(sp0, wall)
        # cleared only now: an interrupt() that came before the run started still stops it
        self._interrupted = False
        return report

    def _execute(self, reset: int, start: float) -> None:
        """Run from ``reset`` until a stop; WFI ends Unicorn's run loop, so a sleep is a
        fast-forward here and the run resumes after the WFI."""
        opts = self.options
        self._wall_start = start
        pc, until = reset | 1, _END
        at_until: Callable[[int], Fault] = self._undefined  # the fault where `until` is reached
        while not self._interrupted and not self._elapsed:
            if self._reset_requested and self._out_of_time():
                return  # (a reset storm: each emu_start got a microsecond, then reset again)
            if self._reset_requested:
                handler = self._reboot()
                if handler is None:
                    return
                pc, until = handler | 1, _END
            timeout_us = 0
            if opts.timeout:
                timeout_us = max(1, int((opts.timeout - (time.perf_counter() - start)) * 1e6))
            ok = self._emulate(pc, timeout_us, until)
            stop = self._counter.stop
            if (until != _END and ok and stop is None and self._fault is None
                    and self.uc.reg_read(R.UC_ARM_REG_PC) & ~1 == until):
                self._fault = at_until(until)  # the FP64 or NOCP stop below: reached it
            until = _END
            if ok and stop is not None and stop.reason == StopReason.SRAM_MSR:
                pc = self._hook_sram_msrs(stop) | 1
                continue
            if ok and stop is not None and stop.reason == StopReason.ALIGN_ENTRY:
                pc = self._counter.hook_unaligned_entry(stop, self._retranslate) | 1
                continue
            trap = self._trap(stop) if ok and stop is not None else None
            if trap is not None:
                # the native hook stopped a block before it ran, for an instruction in it that
                # faults on the chip (Unicorn's model would run it): the block runs up to it,
                # then the instruction faults (delivered with --vector-faults)
                assert stop is not None
                mask, fault_at = trap
                at = self._first_marked(stop.pc, mask)
                self._counter.clear_stop()
                if at != stop.pc:
                    pc, until, at_until = stop.pc | 1, at, fault_at
                    continue
                self._fault = fault_at(at)
            if (ok and stop is not None and stop.reason == StopReason.SELF_LOOP
                    and (self._reset_requested or self._elapsed or self._interrupted
                         or self.exceptions.end_due)):
                # the event that ended the run or resets the part came in this very block
                # (its timer used up: none left to come): no deadlock, that happens instead
                self._counter.clear_stop()
            if (ok and opts.vector_faults and stop is not None and self._fault is None
                    and stop.reason in _CHIP_FAULTS):
                # a fault the chip raises, found by the simulator's own checks: delivered too
                self._fault = self._native_fault(stop)
                self._counter.clear_stop()
            if self._fault is not None and opts.vector_faults and self._vector_fault():
                pc = self._regs.read(R.UC_ARM_REG_PC) | 1
                continue
            if self._resume is not None and not self._reset_requested:  # WFE, SEV, YIELD, flash
                pc, self._resume = self._resume, None
                if (self._fault is None and self._exit is None and not self._counter.stopped
                        and not self._out_of_time()):
                    continue
                self._regs.write(R.UC_ARM_REG_PC, pc)  # (where the run stopped)
                return
            if not ok:
                return
            if (self._fault is not None or self._exit is not None or self._counter.stopped
                    or self._interrupted or self._elapsed
                    or self.exceptions.fault is not None or self._deadlock is not None):
                return
            if self._reset_requested:
                continue
            if opts.timeout and time.perf_counter() - start >= opts.timeout:
                return
            pc = self._regs.read(R.UC_ARM_REG_PC)
            if not (self._mapped(pc - 2, 2) and self._host_read(pc - 2, 2) == b"\x30\xbf"):
                return  # not a WFI: Unicorn's own timeout
            if not self._sleep(pc - 2, "WFI") or self._out_of_time():
                return
            pc |= 1  # (a reset during the sleep, a watchdog's: the loop's top reboots)

    def _undefined(self, pc: int) -> Fault:
        """UsageFault UNDEFINSTR for the instruction at ``pc`` (which did not run)."""
        return self._make_fault("undefined_instruction",
                                faults.undefined(self.core, self._decode(pc)), pc)

    def _nocp(self, pc: int) -> Fault:
        """UsageFault NOCP for the floating-point instruction at ``pc`` (which did not run):
        CPACR does not grant the FPU."""
        return self._make_fault(
            "hard_fault", "floating-point instruction with the FPU disabled: CPACR does not "
            "grant CP10/CP11 access (UsageFault NOCP)", pc)

    def _trap(self, stop: NativeStop) -> tuple[int, Callable[[int], Fault]] | None:
        """For a block the native hook stopped for an instruction that faults on the chip:
        (the code table bits marking it, the fault it raises); None for another stop.
        FP64: a double-precision operation on a single-precision FPU, or an instruction the
        core lacks (sim/isa_gaps.py): UNDEFINSTR. FPU_DISABLED, under --vector-faults (else the
        run stops before the block): a floating-point instruction while CPACR denies the FPU,
        NOCP (an RTOS enabling the FPU lazily in its handler: the instruction runs again)."""
        if stop.reason == StopReason.FP64:
            return UNDEFINED, self._undefined
        if (stop.reason == StopReason.FPU_DISABLED and self.options.vector_faults
                and self._fault is None):
            return 1, self._nocp
        return None

    def _first_marked(self, start: int, mask: int) -> int:
        """Address of the first instruction from ``start`` on whose code table entry has a bit
        of ``mask`` (in the block there, which the native hook flagged from the same table)."""
        fp = self._fp_table[(start - self.flash_base) >> 1:]
        found = np.flatnonzero(fp & mask)
        return start + 2 * int(found[0]) if len(found) else start

    def _flush_translations(self) -> None:
        """Drop all of Unicorn's translated code: hooks added since take effect everywhere."""
        self.uc.ctl_flush_tb()  # type: ignore[attr-defined]  # unicorn 2.1's Uc has it

    def _retranslate(self, start: int, end: int) -> None:
        """Drop Unicorn's translated code for [start, end): hooks added since take effect."""
        self.uc.ctl_remove_cache(start, end)

    def _vector_fault(self) -> bool:
        """--vector-faults: deliver the fault that stopped the run to the firmware's handler,
        as the chip would (CFSR, BFAR, HFSR set; escalated to HardFault where the handler is
        disabled, or always on ARMv6-M). False when the fault is not one the chip raises (the
        simulator's own checks) or cannot be taken (a fault in HardFault: lockup)."""
        fault = self._fault
        assert fault is not None and fault.pc is not None
        model = self.exceptions
        cause = _FAULT_CAUSES.get(fault.kind)
        if fault.kind == "stack_limit" and fault.address is not None:
            return False  # at exception entry, where even HardFault could not be taken: lockup
        if fault.kind == "bus_fault" and not self.options.strict_peripherals:
            return False  # found after its block ran: without its instruction, not delivered
        if fault.kind == "unmapped_write" and self._imprecise_writes(fault.address):
            return self._imprecise_bus_fault(fault)
        if fault.kind == "flash_write" and self._programmer is not None:
            return False  # what the part's flash interface would do is not modelled
        if (fault.kind == "unmapped_fetch" and fault.address is not None
                and self._in_alias(fault.address)):
            return False  # the chip runs code from its boot alias; the simulator stops there
        if (fault.kind == "unmapped_fetch" and fault.address is not None
                and faults.execute_never(fault.address) is not None):
            cause = (MEMMANAGE, 1 << 0)  # IACCVIOL, MMARVALID clear (ARMv7-M B3.2.15)
        if cause is None and "INVSTATE" in fault.message:
            cause = (USAGEFAULT, 1 << 17)
        if cause is None and "unaligned" in fault.message:
            cause = (USAGEFAULT, 1 << 24)  # UNALIGNED
        if cause is None and "DIVBYZERO" in fault.message:
            cause = (USAGEFAULT, 1 << 25)
        if cause is None and "NOCP" in fault.message:
            cause = (USAGEFAULT, 1 << 19)
        if fault.kind == "breakpoint":  # no debugger to halt: HardFault, HFSR.DEBUGEVT
            cause = (HARDFAULT, 1 << 31)  # (ARMv7-M C1.4; ARMv6-M: HardFault too)
        if cause is None:
            return False
        exc, status = cause
        cut = self._cut_of(fault.pc)  # (before the entry moves the block's end)
        if not model.v6m and exc == HARDFAULT:
            model.hfsr |= status
        elif not model.v6m:  # ARMv6-M has no fault status or address registers
            if exc == BUSFAULT and fault.address is not None and fault.kind != "unmapped_fetch":
                status |= 1 << 15  # BFARVALID
                model.bfar = fault.address
            model.cfsr |= status
        else:
            exc = HARDFAULT
        try:
            taken = model.fault_entry(exc, fault.pc)
        except StackingError as err:
            self._fault = self._stacking_fault(err, fault.pc)
            return False
        if not taken:
            fault.message += " (in the HardFault handler or with FAULTMASK set: lockup)"
            return False
        self._cut(fault.pc, cut)  # the faulting instruction on did not run
        self._note_vectored(fault)
        self._fault = None
        return True

    def _spin(self, pc: int) -> None:
        """A handler's `b .` at ``pc`` runs: a deadlock when nothing can ever preempt it (its
        execution priority is 0 or less: only NMI could, and nothing pends one there)."""
        if self.exceptions.execution_priority() > 0 or self._deadlock is not None:
            return
        self._deadlock = self._make_fault(
            "deadlock", f"the {exception_name(self.ipsr())} handler spins (b .) where nothing "
            "can preempt it: the firmware stopped here for good (deadlock)", pc)
        self.uc.emu_stop()

    def _sleep(self, pc: int, what: str, wfe: bool = False) -> bool:
        """WFI/WFE at ``pc``: fast-forward to the event that wakes the core; False (and the
        run ends as a deadlock) when nothing can ever wake it."""
        model = self.exceptions
        model.advance_systick()  # a wrap due in the WFI's own block pends its tick first
        # SCR.SLEEPDEEP, and the core does go to sleep (nothing wakes it at once)
        deep = model.scr & 4 and not model.wake_pending(wfe) and not (
            wfe and model.event_register)
        self._sleeping = (pc, what)  # (the time of a warning: now, not at a store)
        mode = self._deep_sleep() if deep else None
        if mode is not None and mode.ignored:
            self.warn(mode.ignored)
            self._sleeping = None
            return True  # the part does not sleep: the program goes on
        wake = None if mode is None else mode.wake
        # Stand-by: the core is off, its interrupts wake nothing; the part's wake-up is a reset
        self._standby = standby = mode is not None and mode.standby
        asleep = False
        systick = self.exceptions.systick
        held, start = systick.zero_at, self._counter.cycles
        if wake is not None and held != NEVER:  # its clock, the core's, stops: so does it
            systick.zero_at = NEVER
            self.exceptions.update()
        try:
            asleep = model.sleep(wfe, interrupts=not standby)
            dozes = 0  # rounds of events that woke nothing (a WFI returns after MAX_DOZES:
            # firmware waiting for what never comes then loops, and a limit ends its run)
            while ((standby or (model.dozing and dozes < MAX_DOZES)) and asleep
                   and not self._reset_requested and not self._elapsed and not model.end_due
                   and not self._interrupted and not self._out_of_time()):
                asleep = model.sleep(wfe, interrupts=not standby)  # (asleep again)
                dozes += 1
        finally:
            if wake is not None and not standby:
                self._deep_sleeps += 1
                if held != NEVER:
                    systick.zero_at = held + self._counter.cycles - start
                    self.exceptions.update()
                if (asleep and not self._elapsed and not model.end_due
                        and not self._reset_requested):  # woken, not ended nor reset
                    wake()
            self._sleeping = None
        if asleep:
            return True
        stop = (" in Stop mode (SCR.SLEEPDEEP: SysTick and the peripherals on the core's clock "
                "stop with it)" if wake is not None else "")
        nothing = ("with nothing that can ever wake the core: no exception pending that could "
                   "preempt, no SysTick interrupt counting, no device event to come that could")
        quiet = model.quiet_owners()
        if quiet:  # events still run, but what they raise cannot reach the core
            verbs = "runs but raises" if len(quiet) == 1 else "run but raise"
            nothing += (f" ({', '.join(quiet[:3])} still {verbs} only what the NVIC keeps "
                        "from the core: its enables and priorities?)")
        if standby:
            stop = (" in Stand-by mode (SCR.SLEEPDEEP, PWR_CR.PDDS: the core and its "
                    "peripherals off)")
            nothing = ("with nothing that can ever wake the part: no RTC wake-up timer or alarm "
                       "flag to rise with its interrupt enabled (one left set never rises again), "
                       "no wake-up pin (PWR_CSR.EWUPx) to rise, no watchdog running")
        self._deadlock = self._make_fault("deadlock", f"{what}{stop} {nothing} (deadlock)", pc)
        return False

    def _out_of_time(self) -> bool:
        """The run's wall-clock timeout has passed."""
        timeout = self.options.timeout
        return bool(timeout) and time.perf_counter() - self._wall_start >= (timeout or 0.0)

    def _deep_sleep(self) -> devices.DeepSleep | None:
        """A sleep with SCR.SLEEPDEEP: the part's deep-sleep mode, if a device of the target
        models one (the STM32L0's RCC: Stop mode), entered now (or refused). None: a deep
        sleep is a sleep here."""
        for dev in self.devices:
            enter = getattr(dev, "deep_sleep", None)
            if enter is not None:
                mode: devices.DeepSleep | None = enter()
                return mode
        return None

    def _emulate(self, pc: int, timeout_us: int, until: int = _END) -> bool:
        """One emu_start, to ``until`` (an address reached: Unicorn stops before it runs);
        False when it ended in an error (recorded as the run's fault)."""
        try:
            self._counter.forget_sp()
            self.uc.emu_start(pc, until, timeout=timeout_us)
            if self._hook_error is not None:
                error, self._hook_error = self._hook_error, None
                raise error
        except UcError as exc:
            if self._nvm_store is not None and exc.errno == UC_ERR_WRITE_PROT:
                return self._program_store()
            if self._fault is None:
                pc = self.uc.reg_read(R.UC_ARM_REG_PC)
                if exc.errno == UC_ERR_INSN_INVALID and self._hint(pc):
                    return True
                if exc.errno == UC_ERR_INSN_INVALID and not (
                        self.uc.reg_read(R.UC_ARM_REG_XPSR) & 1 << 24):
                    # Thumb bit clear (e.g. BLX to an even address): M-profile has no ARM
                    # state, and Unicorn reports the attempt as an invalid instruction.
                    self._fault = self._make_fault(*faults.EXCEPTIONS[faults.EXCP_INVSTATE],
                                                   pc)
                elif exc.errno == UC_ERR_INSN_INVALID:
                    self._fault = self._make_fault(
                        "undefined_instruction",
                        faults.undefined(self.core, self._decode(pc), self._code(pc)), pc)
                else:
                    self._fault = self._make_fault("hard_fault", f"emulation error: {exc}", pc)
            return False
        return True

    def _program_store(self) -> bool:
        """A store into flash for the part's flash interface to program, or into a
        non-volatile memory (Device.nvm): Unicorn stopped before it (the write-protection hook
        declined it), so it is carried out here, each of its writes handed to the device
        (which programs it or refuses it as the part does), its register writeback applied;
        the rest of its block, counted when the block started, is taken back, and the run
        resumes after it (False: it stopped the run)."""
        assert self._nvm_store is not None
        (pc, size, effect), self._nvm_store = self._nvm_store, None
        self._cut(pc + size)
        self._counter.branch_to(pc + size)  # the rest runs on in sequence: no refill
        from_flash, self._store_pc = self._in_flash(pc), pc
        try:
            for address, width, value in effect.writes:
                at = self.exceptions.now  # (after the stall of the one before)
                nvm = self._nvm_at(address, width)
                if self._programmer is not None and self._flash_offset(address, width) is not None:
                    self._programmer.program_flash(address, width, value, at, from_flash)
                elif nvm is not None:
                    nvm.write(address - nvm.base, width, value)
                elif self._in_sram(address, width):  # (an STM reaching across)
                    self.uc.mem_write(address, value.to_bytes(width, "little"))
                else:
                    fault = self._make_fault("unmapped_write", f"write outside mapped memory: "
                                             f"{width} bytes at 0x{address:08x}", pc)
                    fault.address, fault.size, fault.access = address, width, "write"
                    self._fault = fault
                if self._fault is not None:
                    return False
        finally:
            self._store_pc = None
        if effect.writeback is not None:
            self._regs.write(_REG_IDS[effect.writeback[0]], effect.writeback[1])
        self._resume = (pc + size) | 1
        return True

    def _nvm_at(self, address: int, size: int) -> devices.Device | None:
        """The non-volatile memory device [address, address + size) lies in, if any."""
        return next((dev for dev in self._nvms
                     if dev.base <= address and address + size <= dev.base + dev.size), None)

    def stall_fetches(self, until: int) -> None:
        # only for a store _program_store carries out: the run resumes after it, so nothing of
        # its block runs before the stall (a device's store is handled mid-block; a bus
        # master's does not stall the core)
        pc, model = self._store_pc, self.exceptions
        until = min(until, model.end_cycle)  # (--run-for: the run ends stalled, at its end)
        if pc is not None and self._in_flash(pc) and until > model.now:
            self._counter.add_cycles(until - model.now)

    def flash_read(self, address: int, size: int) -> bytes:
        return self._host_read(address, size)

    def flash_write(self, address: int, data: bytes) -> bool:
        offset = self._flash_offset(address, len(data))
        assert offset is not None, f"0x{address:08x}: not flash"
        linked, end = self.flash_base + offset, self.flash_base + offset + len(data)
        if any(start < end and linked < stop for start, stop in self._protected):
            fault = self._make_fault(
                "flash_write", f"the firmware programmed flash at 0x{address:08x}-"
                f"0x{address + len(data) - 1:08x}, which holds its own code or vector table: a "
                "firmware that rewrites them is not modelled (run it on the chip)",
                self._regs.read(R.UC_ARM_REG_PC) if self._store_pc is None else self._store_pc)
            fault.address, fault.size, fault.access = address, len(data), "write"
            self._fault = fault
            return False
        if self._flash_image is None:
            self._flash_image = self.flash.copy()
        self.flash[offset : offset + len(data)] = np.frombuffer(data, np.uint8)
        self._drop_flash_translations(offset, offset + len(data))
        return True

    def _drop_flash_translations(self, start: int, end: int) -> None:
        """Unicorn's translated code from flash offsets [start, end), through every view:
        code the firmware programmed there runs as it is now."""
        for view, size in self._flash_views:
            if start < size:
                self.uc.ctl_remove_cache(view + start, view + min(end, size))

    def _check_vectors(self, sp0: int, reset: int) -> None:
        lowest = min(s.address for s in self.image.segments)
        if lowest != self.flash_base:  # linked at 0x8000 (gcc's default) or for another map
            self._fault = Fault(
                kind="hard_fault",
                message=(f"no vector table at 0x00000000: the image loads nothing there (its "
                         f"lowest load segment is at 0x{lowest:08x}); link it with a Cortex-M "
                         "linker script that puts the vector table at the start of flash"),
                pc=None,  # the erased word there is no address
            )
        elif not (SRAM_BASE < sp0 <= SRAM_BASE + self.sram_size) or not self._mapped(reset & ~1, 2):
            larger = SRAM_BASE + self.sram_size < sp0 <= SRAM_BASE + REGION
            self._fault = Fault(
                kind="hard_fault",
                message=(
                    f"no usable vector table at 0x00000000: initial SP 0x{sp0:08x} must lie in "
                    f"the {format_size(self.sram_size)} SRAM and the reset vector 0x{reset:08x} "
                    "in flash" + (" (was the ELF linked for a larger SRAM?)" if larger else "")
                ),
                pc=reset & ~1,
            )
        elif not reset & 1:
            self._fault = Fault(kind="hard_fault", pc=reset,
                                message=f"reset vector 0x{reset:08x} has the Thumb bit clear")

    def _report(self, sp0: int, wall: float) -> RunReport:
        opts = self.options
        counter = self._counter
        insns, cycles = counter.instructions, counter.cycles - self.exceptions.sleep_cycles
        stop = counter.stop
        reason = stop.reason if stop is not None else StopReason.NONE
        status = "ok"
        stopped_at = None
        fault = self._fault
        model = self.exceptions
        if fault is None and model.fault is not None:
            kind, text, at, address, access = model.fault
            fault = self._make_fault(kind, text, at)
            fault.address, fault.access = address, access
        if self.fit_problem is not None:
            status = "over_budget"
            fault = Fault(kind="image_too_large", message=self.fit_problem)
        elif stop is not None and reason == StopReason.STACK_OVERFLOW:
            status, fault = "fault", self._stack_fault(stop)
        elif stop is not None and reason == StopReason.SP_WRITE:
            status, fault = "fault", self._stack_fault(stop)
            insns, cycles = self._take_back(insns, cycles, stop.pc)
        elif stop is not None and reason in _CHIP_FAULTS:
            status, fault = "fault", self._native_fault(stop)
            insns, cycles = self._take_back(insns, cycles, stop.pc)
        elif stop is not None and reason == StopReason.THREAD_STACK:
            status, fault = "fault", self._thread_stack_fault(stop)
        elif stop is not None and reason == StopReason.FPU_DISABLED:
            status, fault = "fault", self._fpu_fault(stop)
        elif stop is not None and reason == StopReason.SELF_LOOP:
            spinner = ("the firmware" if not self.ipsr()
                       else f"the {exception_name(self.ipsr())} handler")
            status, fault = "deadlock", self._make_fault(
                "deadlock", f"{spinner} spins (b .) with nothing that can ever interrupt it: no "
                "exception pending that could preempt, no SysTick interrupt counting, no device "
                "event to come (deadlock)", stop.pc)
        elif fault is not None:
            status = "fault"
            insns, cycles = self._take_back(insns, cycles, fault.pc)
        elif self._exit is not None:
            pc = self.uc.reg_read(R.UC_ARM_REG_PC) & ~1
            insns, cycles = self._take_back(insns, cycles, pc + 2)
        elif self._deadlock is not None:
            status, fault = "deadlock", self._deadlock
        elif self._reset_final:
            status = "reset"
            pc = self.uc.reg_read(R.UC_ARM_REG_PC) & ~1
            allowed = opts.allow_resets
            fault = self._make_fault("reset", self._reset_why + (
                f" (the run allowed {allowed:,} reset{'s' if allowed > 1 else ''}: this was "
                f"one more)" if allowed else ""), pc)
        elif self._elapsed:  # --run-for: the firmware is still running, and that is fine
            pc = self.uc.reg_read(R.UC_ARM_REG_PC) & ~1
            insns, cycles = self._take_back_unstarted(insns, cycles, pc)
            asleep = ""
            if self._ended_asleep is not None:  # where it sleeps, not where it would resume
                at, what = self._ended_asleep
                pc, asleep = (at, " (asleep)") if what in ("WFI", "WFE") else (
                    pc, " (asleep: SCR.SLEEPONEXIT)")
            where = self._make_fault("run_for", "", pc)
            stopped_at = (f"0x{pc:08x}" + (f" in {where.function}" if where.function else "")
                          + (f": {where.instruction}" if where.instruction else "") + asleep)
        elif stop is not None and reason == StopReason.INSN_LIMIT:
            status = "timeout"
            fault = self._make_fault(
                "instruction_limit",
                f"instruction limit of {opts.max_instructions} reached: stopped after {insns} "
                "instructions, before the block that would exceed it",
                stop.pc,
            )
        else:  # the wall-clock timeout, or an interruption
            pc = self.uc.reg_read(R.UC_ARM_REG_PC) & ~1
            insns, cycles = self._take_back_unstarted(insns, cycles, pc)
            if self._interrupted:
                status = "interrupted"
                self.interrupted_runs += 1
                fault = self._make_fault(
                    "interrupted",
                    f"stopped by a signal (Ctrl-C, SIGTERM) after {insns:,} instructions", pc)
            else:
                status = "timeout"
                fault = self._make_fault(
                    "timeout", f"wall-clock timeout of {opts.timeout} s reached", pc)

        if status in ("timeout", "interrupted") and fault is not None:
            fault.message += self._polling_hint(counter.instructions)

        peak_brk = self._read_word("__heap_peak")
        heap_start = self.image.symbols.get("__heap_start")
        heap_peak = max(0, peak_brk - heap_start) if (
            peak_brk is not None and heap_start is not None) else 0
        # Without a break variable the heap is known only when no allocator is linked at all,
        # which a stripped ELF cannot tell: no symbols, (built by ebnn-sim build, whose
        # linker script always defines __heap_start) not that one, or (strip -s -K main)
        # none for its reset handler, which every linked image names
        reset = struct.unpack("<I", self.flash[4:8].tobytes())[0] & ~1
        stripped = not self.image.symbols or (
            self.image.target_name is not None and heap_start is None) or (
            reset not in self.image.symbols.values())
        heap_tracked = (peak_brk is not None and heap_start is not None) or (
            not stripped and not any(name in self.image.symbols for name in _ALLOCATORS))
        self._close_msp_region()
        # a computed SP write below SRAM's start, stopped there, counts the depth it reached
        # (what a VLA asked for) when that lies within BELOW_SRAM_DEPTH of it; an SP set
        # further off (into flash: `mov sp, r0`) is no depth, and counts SRAM's alone (a main
        # stack MSR MSP moved outside SRAM is not measured at all)
        lowest = (self._initial_min if self._initial_min >= SRAM_BASE - BELOW_SRAM_DEPTH
                  else SRAM_BASE)
        stack_peak = max(0, sp0 - lowest) if self.fit_problem is None else 0
        reset_stack = (self.image.reset_stack[0] if self.image.reset_stack is not None
                       and self.image.reset_stack[0] in self._main_stacks else None)
        if reset_stack is not None:  # the main stack's, though it is static RAM already
            stack_peak = max(stack_peak, self._main_stacks[reset_stack])
        # a handler the run ended in counts to the end, less what was taken back
        stats = model.stats_until(cycles + model.sleep_cycles)
        awake_s, asleep_s = self._clock.split(cycles + model.sleep_cycles, model.sleep_cycles)
        report = RunReport(
            elf=str(self.image.path),
            target=self.target.name,
            core=self.target.core,
            clock_hz=self.clock_at_reset,
            status=status,
            exit_code=self._exit,
            instructions=max(insns, 0),
            cycles=cycles,
            sram_size=self.sram_size,
            static=self.image.static_ram,
            static_sections=list(self.image.static_sections),
            stack_peak=stack_peak,
            heap_peak=heap_peak,
            heap_tracked=heap_tracked,
            flash_size=self.flash_size,
            flash_used=self.image.flash_used,
            stdout=self._sh.console.value().decode("utf-8", "replace"),
            stdout_dropped=self._sh.console.dropped,
            fault=fault,
            wall_seconds=wall,
            flash_wait_states=self.wait_states_at_reset,
            clock_source="" if self._reset_clock is None else self._reset_clock[2],
            refusals=_and_more([str(r) for r in self._sh.refusals], self._sh.refusals_dropped,
                               "refusals, not kept"),
            sleep_cycles=model.sleep_cycles,
            exceptions={exception_name(n): k for n, k in sorted(stats.taken.items())},
            handler_cycles={exception_name(n): k
                            for n, k in sorted(stats.handler_cycles.items())},
            tail_chained=stats.tail_chained,
            thread_stacks=self._thread_peaks(),
            main_stacks=dict(self._main_stacks),
            reset_stack=reset_stack,
            vectored_faults=_and_more(self._vectored, self._vectored_dropped,
                                      "faults delivered, not listed"),
            unmodelled=[f"{k}: {n}" for k, n in sorted(self._unmodelled.items())],
            # (none when the firmware opened the first input by name: it read it that way)
            console_input=(None if self._console_span is None or self._first_input_opened()
                           else self._console_span[1]),
            console_read=self._console_consumed(),
            run_for=self.options.run_for if stopped_at is not None else None,
            stopped_at=stopped_at,
            seconds=awake_s,
            sleep_seconds=asleep_s,
            clocks=self._clock.changes(until=cycles + model.sleep_cycles),
            clock_changes=self._clock.count,
            warnings=[*self._warnings.values(),
                      *(note for source in self._analog.values() for note in source.notes())],
            analog={str(key): source.summary() for key, source in sorted(
                self._analog.items(), key=lambda item: (  # the channels, then the pins
                    (1, 0, item[0]) if isinstance(item[0], str) else (0, item[0], "")))},
            deep_sleeps=self._deep_sleeps,
            resets=self._resets.kept(),
            reset_counts=dict(self._resets.counts),
            pins=self._pin_summary(awake_s + asleep_s),
            i2c=self._i2c.summary() if (self._i2c.targets or self._i2c.transactions
                                        or self._i2c.controller) else {},
            spi=self._spi.summary() if self._spi.targets or self._spi.unselected else {},
        )
        report.warnings += self._pin_notes(report.pins) + self._i2c.notes() + self._spi.notes()
        if self.options.vcd is not None:
            self._write_vcd(self.options.vcd, awake_s + asleep_s, report)
        return report

    def _pin_summary(self, end_s: float) -> dict[str, dict[str, Any]]:
        """The report's ``pins``, a driven pin's with the rows of its --pin file applied."""
        pins = self._pin_trace.summary(end_s)
        for name, source in self._pins.items():
            if name in pins:
                pins[name].update(rows=source.rows, applied=source.applied)
        return pins

    def _pin_notes(self, pins: dict[str, dict[str, Any]]) -> list[str]:
        """A warning for each pin --pin drove that had no level all run: the firmware never
        made it an input, so nothing could read it."""
        return [f"{name}: --pin drove it, but it had no level all run (analog, as after "
                "reset, or floating): the firmware never made it an input (MODER)"
                for name in sorted(self._pins) if pins.get(name, {}).get("changes") == 0
                and pins[name].get("initial") is None]

    def _write_vcd(self, path: Path, end_s: float, report: RunReport) -> None:
        """The pins' waveform (--vcd) to ``path``, whole or not at all; a failure to write it
        is a warning (the commands check that it can be written before the run)."""
        trace = self._pin_trace
        try:
            write_text(path, trace.vcd(end_s, self.target.name))
        except OutputError as exc:
            report.warnings.append(f"the pins' waveform was not written: {exc}")
            return
        report.vcd = str(path)
        if trace.dropped:
            report.warnings.append(f"the pins' waveform ({path.name}) holds the first "
                                   f"{trace.kept:,} pin changes; {trace.dropped:,} later ones "
                                   "are not in it")

    def _thread_peaks(self) -> dict[str, int]:
        """Each thread stack's peak, the running thread's included."""
        model = self.exceptions
        peaks = dict(model.thread_peaks)
        on, lowest = self._counter.thread_stack()
        if on:
            region = self._stack_region(lowest)
            if region is not None:
                peaks[region[0]] = max(peaks.get(region[0], 0), region[2] - lowest)
        return peaks

    def _take_back_unstarted(self, insns: int, cycles: int, pc: int) -> tuple[int, int]:
        """Less the last counted block when the run stopped at its start (``pc``): Unicorn
        stopped before running it."""
        last = self._counter.last_block
        if pc == last.start:
            return insns - last.instructions, cycles - last.cycles
        return insns, cycles

    def _take_back(self, insns: int, cycles: int, pc: int | None) -> tuple[int, int]:
        n, c = self._unretired(pc)
        return insns - n, cycles - c

    def _unretired(self, pc: int | None) -> tuple[int, int]:
        """(instructions, base cycles) of the last counted block from ``pc`` on: counted when
        the block started, never executed (a fault or an exit cut the block short)."""
        last = self._counter.last_block
        if pc is None or not last.instructions or not last.start <= pc < last.end:
            return 0, 0
        return self._counter.range_facts(pc, last.end)

    def _unaligned_fault(self, pc: int) -> Fault:
        """An ARMv6-M core faulted on the load or store at ``pc``: its address comes from the
        instruction's operands and the registers, which the faulting access left unchanged."""
        insn = self._decode(pc)
        address = None if insn is None else faults.effective_address(insn, self.read_register)
        if insn is None or address is None:
            return self._make_fault(*faults.EXCEPTIONS[faults.EXCP_DATA_ABORT], pc)
        verb = "write" if faults.is_store(insn) else "read"
        size = faults.access_size(insn)
        fault = self._make_fault(
            "hard_fault",
            f"unaligned {size}-byte {verb} at 0x{address:08x}: HardFault "
            f"({self.core.name} has no unaligned access)",
            pc,
        )
        fault.address, fault.size, fault.access = address, size, verb
        return fault

    def _native_fault(self, stop: NativeStop) -> Fault:
        """The fault of an UNALIGNED or DIV_BY_ZERO stop: the instruction at stop.pc did not
        run."""
        if stop.reason == StopReason.UNALIGNED:
            return self._alignment_fault(stop)
        if stop.reason == StopReason.UNALIGN_TRP:
            insn = self._decode(stop.pc)
            verb = "write" if insn is not None and faults.is_store(insn) else "read"
            what = f" (`{insn.mnemonic} {insn.op_str}`)" if insn is not None else ""
            fault = self._make_fault(
                "hard_fault", f"unaligned {stop.limit}-byte {verb} at 0x{stop.address:08x}: "
                f"UsageFault UNALIGNED{what}: CCR.UNALIGN_TRP is set", stop.pc)
            fault.address, fault.size, fault.access = stop.address, stop.limit, verb
            return fault
        return self._make_fault(
            "hard_fault", "divide by zero (UsageFault DIVBYZERO): the divisor register is 0 "
            "and CCR.DIV_0_TRP is set", stop.pc)

    def _alignment_fault(self, stop: NativeStop) -> Fault:
        """The instruction at stop.pc, which the architecture requires aligned, was about to
        access an unaligned address (its base register is stop.address): it did not run."""
        text, address, size, verb = faults.unaligned_required(
            self.core, self._decode(stop.pc), stop.address, stop.limit)
        fault = self._make_fault("hard_fault", text, stop.pc)
        fault.address, fault.size, fault.access = address, size, verb
        return fault

    def _fpu_fault(self, stop: NativeStop) -> Fault:
        """The block at stop_pc was not run: it holds a floating-point instruction and the FPU
        is disabled. The fault names that instruction; counts and registers are those at the
        start of its block."""
        start = stop.pc
        pc = start
        size = self._counter.last_block.end - start  # the stopped block: [stop.pc, end)
        code = self._host_read(start, size) if self._mapped(start, 2) else b""
        for insn in self._md.disasm(code, start):
            if insn.mnemonic.startswith("v"):
                pc = insn.address
                break
        return self._make_fault(
            "hard_fault",
            "floating-point instruction with the FPU disabled: CPACR does not grant CP10/CP11 "
            "access (UsageFault NOCP; HardFault while UsageFault is disabled, as at reset); the "
            "start-up code must enable the FPU before any float use. Stopped before its block "
            f"at 0x{start:08x} ran",
            pc,
        )

    def _thread_stack_fault(self, stop: NativeStop) -> Fault:
        region = self._stack_region(stop.limit + 1)
        name = f" ({region[0]})" if region else ""
        fault = self._make_fault(
            "stack_overflow",
            f"thread stack overflow: this block would lower the thread's stack (PSP) to "
            f"0x{stop.address:08x}, {stop.limit - stop.address} bytes below its region"
            f"{name} at 0x{stop.limit:08x}", stop.pc)
        fault.address, fault.access, fault.size = stop.address, "write", stop.limit - stop.address
        return fault

    def _stack_fault(self, stop: NativeStop) -> Fault:
        """Stack overflow, caught before anything was stored below the limit: either a block
        would have lowered SP past it (the block did not run), or an instruction that writes SP
        with a computed value (a VLA, alloca, a large frame) just did (the next did not run);
        the fault names that instruction."""
        lowest, limit = stop.address, stop.limit
        into = self._below(limit)
        if stop.reason == StopReason.SP_WRITE:
            pc = self._counter.sp_writers.get(stop.pc, stop.pc)
            what = f"this instruction moved SP to 0x{lowest:08x}"
        else:
            pc = stop.pc
            what = f"this block would lower the stack to 0x{lowest:08x}"
        fault = self._make_fault(
            "stack_overflow",
            f"stack overflow into {into}: {what}, {limit - lowest} bytes below its limit "
            f"0x{limit:08x}",
            pc,
        )
        fault.address, fault.access = lowest, "write"
        fault.size = limit - lowest
        return fault


def _vector_table(image: FirmwareImage, base: int = FLASH_BASE) -> tuple[str, int, int] | None:
    """(name, address, entries) of the vector table at reset (at the start of flash, ``base``):
    the sized object there (``__vectors``, ``g_pfnVectors``), else a section named for vectors
    starting there; None when the image does not say (the check then stays off)."""
    hit = image.object_at(base)
    if hit is not None and hit[1] == base and hit[2] >= 8:
        return hit[0], base, hit[2] // 4
    for section in image.sections:
        if section.address == base and "vector" in section.name and section.size >= 8:
            return section.name, base, section.size // 4
    return None


def flash_base(image: FirmwareImage, target: Target) -> int:
    """Where ``image``'s flash is on ``target``: 0, or the part's own flash address (an
    STM32's 0x08000000, aliased at 0 when it boots from flash) when the image loads its
    vector table there and nothing below it, as a vendor linker script links it."""
    at = target.flash_address
    if at != FLASH_BASE and min((s.address for s in image.segments), default=0) == at:
        return at
    return FLASH_BASE


def _other_map_hint(lowest: int, target: Target) -> str:
    """For an image whose lowest segment is at another part's flash: the targets that run it
    (its vector table must be there, at the start of that flash)."""
    there = [t.name for t in TARGETS.values() if t.flash_address and t.flash_address == lowest]
    if not there or target.name in there:
        return ""
    return f", or run it as a part whose flash is there (--target {', '.join(there)})"


def run(image: FirmwareImage, options: RunOptions | None = None, **kwargs: Any) -> RunReport:
    """Run ``image`` once. Keyword arguments are RunOptions fields."""
    opts = options or RunOptions(**kwargs)
    return Simulator(image, opts).run()



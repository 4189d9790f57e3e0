"""The native block hook (sim/_blockhook.c) and everything that touches Unicorn below its API.

Registering a C function pointer with ``uc_hook_add`` on the engine handle the Python binding
holds keeps Python off the per-block path: counting costs about as much as not counting. This is
the only module that uses the binding's private engine handle (``Uc._uch``) and library
(``uclib``), and the only one that knows the C state struct: everything else goes through
:class:`NativeCounter` and :class:`Registers`. The struct's ctypes mirror is checked against the
layout the C compiler chose (``sim_layout``) when the library loads.
"""

import ctypes
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_INTR, Uc
from unicorn import arm_const as R
from unicorn.arm_const import (
    UC_ARM_REG_APSR_NZCV,
    UC_ARM_REG_APSR_NZCVQG,
    UC_ARM_REG_BASEPRI,
    UC_ARM_REG_CONTROL,
    UC_ARM_REG_FAULTMASK,
    UC_ARM_REG_FPSCR,
    UC_ARM_REG_IPSR,
    UC_ARM_REG_LR,
    UC_ARM_REG_MSP,
    UC_ARM_REG_PC,
    UC_ARM_REG_PRIMASK,
    UC_ARM_REG_PSP,
    UC_ARM_REG_R0,
    UC_ARM_REG_R1,
    UC_ARM_REG_R2,
    UC_ARM_REG_R3,
    UC_ARM_REG_R12,
    UC_ARM_REG_S0,
    UC_ARM_REG_SP,
    UC_ARM_REG_XPSR,
)
from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib

if TYPE_CHECKING:
    from _ctypes import CFuncPtr

    from sim.alignment import AccessCheck, AlignmentCheck
    from sim.thread_stores import StoreCheck

NEVER = (1 << 64) - 1  # event_at/timer_at: no event
NO_PENDING = 0x7FFF_FFFF  # pend_prio: nothing pending
EventHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32)
InterruptHandler = ctypes.CFUNCTYPE(None, ctypes.c_uint32)
MmioRead = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32)
MmioWrite = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint64)
EXC_WORDS = 4  # 64-bit words of the exception bitmasks: 256 exception numbers
MARK_RECORD, MARK_PAUSE, MARK_RESUME = 0, 1, 2  # the kinds of marked addresses (_blockhook.c)
HANDLER_STACK = 264  # handlers entered and not yet returned, for their cycles
# exc_flags
EXC_FAST, EXC_FPU, EXC_V8M, EXC_V6M, EXC_DSP = 1, 2, 4, 8, 16
# exc_regids, in the order of the enum in _blockhook.c
_EXC_REGIDS = (UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12,
               UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_XPSR, UC_ARM_REG_APSR_NZCV,
               UC_ARM_REG_CONTROL, UC_ARM_REG_SP, UC_ARM_REG_MSP, UC_ARM_REG_PSP,
               UC_ARM_REG_IPSR, *(UC_ARM_REG_S0 + i for i in range(16)), UC_ARM_REG_FPSCR,
               UC_ARM_REG_APSR_NZCVQG)

SPD_DYNAMIC = -32768  # SP change of an instruction that writes SP with a value unknown statically


class StopReason(IntEnum):
    """Why the native hooks stopped a run (``stop_reason`` in _blockhook.c)."""

    NONE = 0
    STACK_OVERFLOW = 1  # a block would lower SP below the stack limit: stopped before it ran
    INSN_LIMIT = 2  # the next block would pass the instruction limit: stopped before it ran
    SP_WRITE = 3  # an instruction moved SP below the stack limit: stopped before the next ran
    FPU_DISABLED = 4  # a block with an FP instruction while CPACR denies the FPU
    UNALIGNED = 5  # an access the architecture requires aligned was not: it did not run
    DIV_BY_ZERO = 6  # a divide by zero while CCR.DIV_0_TRP is set: it did not run
    THREAD_STACK = 7  # a block would lower a thread's SP (PSP) below its stack's region
    ALIGN_ENTRY = 8  # a base register checked at block entry is unaligned: the block did not run
    UNALIGN_TRP = 9  # an unaligned LDR/STR(H) while CCR.UNALIGN_TRP is set: it did not run
    FP64 = 10  # a block with a double-precision operation on a single-precision FPU: not run
    SELF_LOOP = 11  # `b .` where nothing can ever interrupt it: a deadlock
    SRAM_MSR = 12  # a block in SRAM with an MSR to a stack register not hooked yet: not run


# block flags (_blockhook.c): blocks with these take the slow path
_BF_MOVES_SP, _BF_DYNAMIC_SP, _BF_FP, _BF_ALIGN, _BF_SP_UNSURE, _BF_FP64 = 2, 4, 8, 16, 32, 64
_BF_SELF_LOOP = 128
_SP_FLAGS = _BF_MOVES_SP | _BF_DYNAMIC_SP | _BF_SP_UNSURE
# always slow; BF_FP too while the FPU is disabled, BF_FP64 where double precision is trapped
_SLOW_FLAGS = _SP_FLAGS | _BF_ALIGN | _BF_SELF_LOOP
# Unicorn ids of R0-R12, SP, LR, PC: gpr_regids in _blockhook.c
_GPR_REGIDS = [getattr(R, f"UC_ARM_REG_R{i}") for i in range(13)] + [
    UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_PC]

_P = ctypes.c_void_p

# Set to 1, the shadow SP checks itself against the real SP on every use (tests).
CHECK_SP_ENV = "EBNN_SIM_CHECK_SP"

# ``block_info`` in _blockhook.c: the cached facts of the block starting at a flash halfword.
_BLOCK_INFO = np.dtype([("cost", np.uint32), ("spmin", np.int32), ("count", np.uint16),
                        ("size", np.uint16), ("flags", np.uint8), ("spnet", np.int8),
                        ("amask", np.uint16)])


# ``align_check`` in _blockhook.c: one alignment check, the user data of its code hook.
_ALIGN_CHECK = np.dtype([("s", np.uint64), ("regid", np.int32), ("mask", np.uint32)])
# ``access_check``: one word or halfword LDR/STR checked while CCR.UNALIGN_TRP is set.
_ACCESS_CHECK = np.dtype([("s", np.uint64), ("base", np.int32), ("index", np.int32),
                          ("disp", np.int32), ("shift", np.uint32), ("mask", np.uint32),
                          ("pad", np.uint32)])

# ``store_check`` in _blockhook.c: one store by an exception handler, the user data of its hook.
_STORE_CHECK = np.dtype([("s", np.uint64), ("base", np.int32), ("index", np.int32),
                         ("offset", np.int32), ("shift", np.uint16), ("cond", np.uint16)])


class _SimState(ctypes.Structure):
    """Mirror of ``sim_state`` in _blockhook.c, checked against ``sim_layout`` at load."""

    # the fields Python reads back (ctypes returns them as int)
    insns: int
    cycles: int
    min_sp: int
    next_seq: int
    last_addr: int
    stop_reason: int
    stop_pc: int
    stop_addr: int
    stop_limit: int
    last_count: int
    last_cycles: int
    marks_cap: int
    marks_len: int
    event_at: int
    timer_at: int
    device_at: int
    pend_prio: int
    active_prio: int
    group_mask: int
    prio_mask: int
    psp_mode: int
    psp_limit: int
    psp_min: int
    pend_exc: int
    vtor: int
    ccr: int
    entry_cycles: int
    tail_cycles: int
    exc_flags: int
    event_register: int
    tail_chained: int
    hs_len: int
    scr: int
    msplim: int
    psplim: int
    vec_base: int
    vec_entries: int
    min_sp_prev: int
    min_sp_at: int
    unpriv: int
    st_zero_at: int
    st_csr: int
    st_rvr: int
    st_countflag: int
    st_stopped: int
    st_div: int
    msp_floor: int
    ctx_save: int
    ctx_restore: int
    excl_ctx: int
    excl_off: int

    _fields_ = [
        ("flash", _P), ("sram", _P), ("cost", _P), ("spd", _P),
        ("bcache", _P),
        ("reg_read", _P), ("emu_stop", _P),
        ("flash_base", ctypes.c_uint32), ("flash_size", ctypes.c_uint32),
        ("sram_base", ctypes.c_uint32), ("sram_size", ctypes.c_uint32),
        ("refill", ctypes.c_uint32), ("static_end", ctypes.c_uint32),
        ("brk_addr", ctypes.c_uint32), ("msp_floor", ctypes.c_uint32),
        ("sp_regid", ctypes.c_int32),
        ("max_insns", ctypes.c_uint64),
        ("insns", ctypes.c_uint64), ("cycles", ctypes.c_uint64),
        ("min_sp", ctypes.c_uint32), ("next_seq", ctypes.c_uint32),
        ("last_addr", ctypes.c_uint32),
        ("stop_reason", ctypes.c_uint32), ("stop_pc", ctypes.c_uint32),
        ("stop_addr", ctypes.c_uint32), ("stop_limit", ctypes.c_uint32),
        ("sp_pending", ctypes.c_uint32), ("sp_shadow", ctypes.c_uint32),
        ("sp_known", ctypes.c_uint32),
        ("last_count", ctypes.c_uint32), ("last_cycles", ctypes.c_uint32),
        ("marks", _P), ("marks_cap", ctypes.c_uint32), ("marks_len", ctypes.c_uint32),
        ("fp", _P), ("slow_flags", ctypes.c_uint32),
        ("event_at", ctypes.c_uint64), ("timer_at", ctypes.c_uint64),
        ("device_at", ctypes.c_uint64), ("on_event", _P),
        ("pend_prio", ctypes.c_int32), ("active_prio", ctypes.c_int32),
        ("group_mask", ctypes.c_uint32), ("prio_mask", ctypes.c_uint32),
        ("primask_regid", ctypes.c_int32), ("faultmask_regid", ctypes.c_int32),
        ("basepri_regid", ctypes.c_int32),
        ("psp_mode", ctypes.c_uint32), ("psp_limit", ctypes.c_uint32),
        ("psp_min", ctypes.c_uint32),
        ("control_regid", ctypes.c_int32), ("ipsr_regid", ctypes.c_int32),
        ("exc_pending", ctypes.c_uint64 * EXC_WORDS),
        ("exc_active", ctypes.c_uint64 * EXC_WORDS),
        ("exc_enabled", ctypes.c_uint64 * EXC_WORDS),
        ("exc_level", ctypes.c_uint64 * EXC_WORDS),
        ("exc_prio", ctypes.c_int32 * (64 * EXC_WORDS)),
        ("pend_exc", ctypes.c_int32), ("vtor", ctypes.c_uint32), ("ccr", ctypes.c_uint32),
        ("entry_cycles", ctypes.c_uint32), ("tail_cycles", ctypes.c_uint32),
        ("exc_flags", ctypes.c_uint32), ("event_register", ctypes.c_uint32),
        ("exc_taken", ctypes.c_uint32 * (64 * EXC_WORDS)),
        ("exc_handler_cycles", ctypes.c_uint64 * (64 * EXC_WORDS)),
        ("tail_chained", ctypes.c_uint64), ("hs_len", ctypes.c_uint32),
        ("hs_exc", ctypes.c_uint32 * HANDLER_STACK), ("hs_start", ctypes.c_uint64 * HANDLER_STACK),
        ("reg_write", _P), ("reg_read_batch", _P), ("reg_write_batch", _P), ("on_intr", _P),
        ("exc_regids", ctypes.c_int32 * len(_EXC_REGIDS)),
        ("scr", ctypes.c_uint32), ("msplim", ctypes.c_uint32), ("psplim", ctypes.c_uint32),
        ("vec_base", ctypes.c_uint32), ("vec_entries", ctypes.c_uint32),
        ("min_sp_prev", ctypes.c_uint32), ("min_sp_at", ctypes.c_uint32),
        ("unpriv", ctypes.c_uint32),
        ("scs_read", _P), ("scs_write", _P),
        ("obj_start", _P), ("obj_size", _P), ("obj_peak", _P), ("obj_order", _P),
        ("n_objs", ctypes.c_uint32), ("seen_seq", ctypes.c_uint32),
        ("switched_in_at", ctypes.c_uint32),
        ("st_zero_at", ctypes.c_uint64), ("st_csr", ctypes.c_uint32),
        ("st_rvr", ctypes.c_uint32), ("st_countflag", ctypes.c_uint32),
        ("st_stopped", ctypes.c_uint32), ("st_div", ctypes.c_uint32),
        ("align", _P), ("xfer", _P), ("gpr_regids", ctypes.c_int32 * 16),
        ("sp_check", ctypes.c_uint32), ("sp_mismatches", ctypes.c_uint32),
        ("sp_mismatch_pc", ctypes.c_uint32),
        ("mark_addrs", _P), ("mark_kinds", _P), ("n_marks", ctypes.c_uint32),
        ("paused", ctypes.c_uint32), ("pause_insns", ctypes.c_uint64),
        ("pause_cycles", ctypes.c_uint64), ("paused_insns", ctypes.c_uint64),
        ("paused_cycles", ctypes.c_uint64), ("sram_msr", _P),
        ("ctx_save", _P), ("ctx_restore", _P), ("excl_ctx", _P), ("excl_off", ctypes.c_uint32),
    ]


SimState = _SimState  # the type of ``NativeCounter.state``, for the exception model


class NativeUnavailable(RuntimeError):
    """The native library is missing or does not match this module."""


def _python_layout() -> list[int]:
    """What ``sim_layout`` must return: sizes and field offsets of both records."""
    state = [ctypes.sizeof(_SimState)] + [getattr(_SimState, f[0]).offset
                                          for f in _SimState._fields_]
    names, fields = _BLOCK_INFO.names, _BLOCK_INFO.fields
    assert names is not None and fields is not None  # a structured dtype has both
    info = [_BLOCK_INFO.itemsize] + [fields[n][1] for n in names if n != "pad"]
    return state + info


def check_layout(lib: ctypes.CDLL) -> None:
    """NativeUnavailable unless the C records are laid out exactly as mirrored here."""
    want = _python_layout()
    buf = (ctypes.c_uint32 * (len(want) + 8))()
    n = lib.sim_layout(buf, len(buf))
    got = list(buf[: min(n, len(buf))])
    if got != want:
        raise NativeUnavailable(
            "sim._blockhook does not match sim/native.py (the C state struct and its mirror "
            "differ); rebuild with `pip install -e .`")


def _load() -> ctypes.CDLL:
    spec = importlib.util.find_spec("sim._blockhook")
    if spec is None or spec.origin is None:
        raise NativeUnavailable(
            "the native block hook (sim._blockhook) is not built; reinstall with `pip install -e .`"
        )
    lib = ctypes.CDLL(spec.origin)
    lib.sim_range.argtypes = [ctypes.POINTER(_SimState), ctypes.c_uint32, ctypes.c_uint32,
                              ctypes.POINTER(ctypes.c_uint32)]
    lib.sim_range.restype = ctypes.c_uint32
    lib.sim_layout.argtypes = [ctypes.POINTER(ctypes.c_uint32), ctypes.c_uint32]
    lib.sim_layout.restype = ctypes.c_uint32
    for name in ("sim_exc_update", "sim_advance_systick"):
        getattr(lib, name).argtypes = [ctypes.POINTER(_SimState)]
        getattr(lib, name).restype = None
    for name in ("sim_handler_enter", "sim_handler_close", "sim_leave_thread_stack",
                 "sim_enter_thread_stack"):
        getattr(lib, name).argtypes = [ctypes.POINTER(_SimState), ctypes.c_uint32]
        getattr(lib, name).restype = None
    lib.sim_stack_limit.argtypes = [ctypes.POINTER(_SimState)]
    lib.sim_stack_limit.restype = ctypes.c_uint32
    lib.sim_clear_exclusive.argtypes = [ctypes.c_void_p, ctypes.POINTER(_SimState)]
    lib.sim_clear_exclusive.restype = None
    check_layout(lib)
    return lib


_lib: ctypes.CDLL | None = None


def library() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def _addr(fn: "CFuncPtr") -> int:
    return ctypes.cast(fn, ctypes.c_void_p).value or 0


@dataclass(frozen=True)
class NativeStop:
    """A stop the native hooks made: the block at ``pc`` did not run (stack overflow,
    instruction limit, FPU disabled), or the instruction at ``pc`` did not run because the one
    before it moved SP below the limit (SP_WRITE)."""

    reason: StopReason
    pc: int
    address: int  # stack overflow: the lowest address the block would write
    limit: int  # stack overflow: the limit it crossed


@dataclass(frozen=True)
class LastBlock:
    """The last block the hook counted: [start, end), with what it added when it started."""

    start: int
    end: int
    instructions: int
    cycles: int


@dataclass(frozen=True)
class CodeTables:
    """Per flash halfword: base cycles (0: no instruction), SP change, FP-instruction flag."""

    cost: np.ndarray  # uint8
    spd: np.ndarray  # int16, SPD_DYNAMIC when unknown statically
    fp: np.ndarray  # uint8


def _dynamic_sp_writers(flash: np.ndarray, flash_base: int, spd: np.ndarray) -> dict[int, int]:
    """{address of the next instruction: address} of every instruction that writes SP with a
    value unknown statically (rare: VLAs, alloca, large frames on v6-M, stack switches)."""
    out = {}
    for idx in np.flatnonzero(spd == SPD_DYNAMIC).tolist():
        off = 2 * idx
        hw = int(flash[off]) | int(flash[off + 1]) << 8
        out[flash_base + off + (4 if (hw >> 11) >= 0x1D else 2)] = flash_base + off
    return out


class NativeCounter:
    """The native hooks on one engine: exact instruction count, estimated cycles, stack
    low-water mark and stack-overflow checks (per block, and after each instruction that writes
    SP with a value unknown statically), instruction limit, FPU-disabled trap, and marks. Owns
    the C state and the block cache; the arrays it is given must outlive it.
    """

    def __init__(self, uc: Uc, *, flash: np.ndarray, flash_base: int, sram: np.ndarray,
                 sram_base: int, tables: CodeTables, refill: int, static_end: int,
                 brk_addr: int = 0, max_instructions: int | None = None) -> None:
        lib = library()
        self._uch = uc._uch
        self._tables = tables  # the state points into these arrays: keep them alive
        self._bcache = np.zeros(len(flash) // 2, _BLOCK_INFO)
        self._marks = np.zeros((0, 3), np.uint64)
        self._mark_addrs = np.zeros(0, np.uint32)  # the marked addresses and their kinds: C
        self._mark_kinds = np.zeros(0, np.uint8)  # reads them (kept alive here)
        self._marks_installed = False
        self._mark_fn = _addr(lib.sim_mark_hook)
        s = self._s = _SimState()
        s.flash, s.sram = flash.ctypes.data, sram.ctypes.data
        s.cost, s.spd, s.fp = (tables.cost.ctypes.data, tables.spd.ctypes.data,
                               tables.fp.ctypes.data)
        s.bcache = self._bcache.ctypes.data
        s.reg_read = _addr(uclib.uc_reg_read)
        s.emu_stop = _addr(uclib.uc_emu_stop)
        s.flash_base, s.flash_size = flash_base, len(flash)
        s.sram_base, s.sram_size = sram_base, len(sram)
        # a bit per SRAM halfword: an MSR to a stack register hooked there (mark_sram_msr)
        self._sram_msr = np.zeros((len(sram) + 15) // 16, np.uint8)
        s.sram_msr = self._sram_msr.ctypes.data
        s.refill = refill
        s.static_end = static_end
        s.brk_addr = brk_addr
        s.sp_regid = UC_ARM_REG_SP
        s.max_insns = max_instructions or (1 << 64) - 1
        s.slow_flags = _SLOW_FLAGS
        s.sp_check = int(os.environ.get(CHECK_SP_ENV) == "1")
        s.gpr_regids[:] = _GPR_REGIDS
        s.event_at = s.timer_at = s.device_at = NEVER
        s.pend_prio, s.active_prio, s.group_mask, s.prio_mask = NO_PENDING, 256, 0xFF, 0xFF
        s.primask_regid, s.faultmask_regid, s.basepri_regid = UC_ARM_REG_PRIMASK, -1, -1
        s.control_regid, s.ipsr_regid = UC_ARM_REG_CONTROL, UC_ARM_REG_IPSR
        s.reg_write = _addr(uclib.uc_reg_write)
        s.reg_read_batch = _addr(uclib.uc_reg_read_batch)
        s.reg_write_batch = _addr(uclib.uc_reg_write_batch)
        s.pend_exc = -1
        s.exc_regids[:] = list(_EXC_REGIDS)
        self._state_ref = ctypes.byref(s)
        self._update_fn = lib.sim_exc_update
        self._event_handler: object = None  # the ctypes callback: keep it alive
        self._intr_handler: object = None
        self._add(UC_HOOK_BLOCK, _addr(lib.sim_block_hook))
        # next instruction -> the one before it that writes SP dynamically
        self.sp_writers = _dynamic_sp_writers(flash, flash_base, tables.spd)
        for addr in self.sp_writers:
            self._add(UC_HOOK_CODE, _addr(lib.sim_sp_hook), addr, addr)

    def _add(self, kind: int, fn: int, begin: int = 1, end: int = 0) -> None:
        handle = uc_hook_h()
        err = uclib.uc_hook_add(self._uch, ctypes.byref(handle), kind, fn,
                                ctypes.addressof(self._s), begin, end)
        if err:
            raise RuntimeError(f"uc_hook_add failed with unicorn error {err}")

    # --- control --------------------------------------------------------------------------------
    def reset(self, sp: int, pc: int) -> None:
        """Counters to zero, the stack low-water mark to ``sp``; the run starts at ``pc``."""
        s = self._s
        s.insns = s.cycles = 0
        s.min_sp = sp
        s.next_seq = pc & ~1
        s.last_addr = 0
        s.last_count = s.last_cycles = 0
        s.stop_reason = StopReason.NONE
        s.sp_pending = s.sp_known = 0
        s.marks_len = 0
        s.paused = s.paused_insns = s.paused_cycles = 0
        s.psp_mode = s.psp_limit = s.psp_min = 0
        s.msp_floor = 0

    def reboot(self, sp: int, pc: int) -> None:
        """A reset of the part during a run: the run goes on at ``pc`` with the counts, the
        stack low-water mark, the marks and the thread stacks' peaks kept; no thread is on
        its stack any more."""
        s = self._s
        s.next_seq = pc & ~1
        s.last_addr = 0
        s.last_count = s.last_cycles = 0
        s.stop_reason = StopReason.NONE
        s.sp_pending = s.sp_known = 0
        s.psp_mode = s.psp_limit = s.psp_min = 0
        s.min_sp = min(s.min_sp, sp)
        s.msp_floor = 0

    def set_fp_trap(self, on: bool) -> None:
        """Stop before any block holding a floating-point instruction (the FPU is disabled)."""
        self._s.slow_flags = self._s.slow_flags & ~_BF_FP | (_BF_FP if on else 0)

    def set_fp64_trap(self, on: bool) -> None:
        """Stop before any block holding a double-precision operation (StopReason.FP64): the
        core's FPU has single precision only, and Unicorn's model of it executes them."""
        self._s.slow_flags = self._s.slow_flags & ~_BF_FP64 | (_BF_FP64 if on else 0)

    # --- exceptions -----------------------------------------------------------------------------
    def set_event_handler(self, handler: "Callable[[int], int]", *, masks: bool) -> None:
        """Have ``handler(address)`` called at a block boundary when a timer falls due
        (``timer_at``) or a pending exception can preempt (``pend_prio`` below the execution
        priority, which C works out from ``active_prio`` and the core's masks). It returns 1
        when it redirected execution (the block at ``address`` did not run). ``masks``: the core
        has BASEPRI and FAULTMASK (ARMv7-M and later)."""
        self._event_handler = EventHandler(handler)
        s = self._s
        s.on_event = ctypes.cast(self._event_handler, ctypes.c_void_p).value
        s.faultmask_regid = UC_ARM_REG_FAULTMASK if masks else -1
        s.basepri_regid = UC_ARM_REG_BASEPRI if masks else -1

    def set_interrupt_handler(self, handler: "Callable[[int], None]") -> None:
        """Install the native interrupt hook: it finishes exception returns (intno 8) itself
        when its fast path applies and calls ``handler(intno)`` for everything else. The
        handler must not raise (nothing can unwind through Unicorn's C frames)."""
        self._intr_handler = InterruptHandler(handler)
        self._s.on_intr = ctypes.cast(self._intr_handler, ctypes.c_void_p).value
        self._add(UC_HOOK_INTR, _addr(library().sim_intr_hook))

    def map_scs(self, base: int, size: int, read: "Callable[[int, int], int]",
                write: "Callable[[int, int, int], None]") -> None:
        """Map the System Control Space with native MMIO callbacks: a store of PENDSVSET alone
        to ICSR pends PendSV in C; every other access calls ``read(offset, size)`` or
        ``write(offset, size, value)``, which must not raise."""
        s = self._s
        self._scs_handlers = (MmioRead(read), MmioWrite(write))  # keep them alive
        s.scs_read = ctypes.cast(self._scs_handlers[0], ctypes.c_void_p).value
        s.scs_write = ctypes.cast(self._scs_handlers[1], ctypes.c_void_p).value
        lib = library()
        user = ctypes.addressof(s)
        err = uclib.uc_mmio_map(self._uch, base, size, _addr(lib.sim_scs_read), user,
                                _addr(lib.sim_scs_write), user)
        if err:
            raise RuntimeError(f"uc_mmio_map failed with unicorn error {err}")

    def configure_exceptions(self, *, flags: int, entry_cycles: int, tail_cycles: int) -> None:
        """The core's exception facts for the native fast path (``EXC_*`` flags)."""
        s = self._s
        s.exc_flags, s.entry_cycles, s.tail_cycles = flags, entry_cycles, tail_cycles

    def set_fast_exceptions(self, on: bool) -> None:
        """Allow (or not) the native entry and return (off while a profiler records them)."""
        self._s.exc_flags = (self._s.exc_flags & ~EXC_FAST) | (EXC_FAST if on else 0)

    def exc_masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Views of the C exception state: pending, active, enabled (uint64 words, bit per
        exception number) and the priorities (int32 per exception number)."""
        s = self._s
        return (np.ctypeslib.as_array(s.exc_pending), np.ctypeslib.as_array(s.exc_active),
                np.ctypeslib.as_array(s.exc_enabled), np.ctypeslib.as_array(s.exc_prio))

    def exc_levels(self) -> np.ndarray:
        """View of the interrupt lines held high (uint64 words, bit per exception number): an
        exception return whose line is high is left to Python, which pends it again."""
        return np.ctypeslib.as_array(self._s.exc_level)

    @property
    def state(self) -> _SimState:
        """The C state itself (the exception model reads and writes its fields)."""
        return self._s

    def set_stack_objects(self, objects: list[tuple[int, int, str]]) -> None:
        """The image's sized data objects (start, size, name), sorted by start: what thread
        stacks are named by and bounded by."""
        self._objects = objects
        n = len(objects)
        self._obj = np.zeros((4, n + 1), np.uint32)  # start, size, peak, first-seen order
        self._obj[0, :n] = [o[0] & 0xFFFFFFFF for o in objects]
        self._obj[1, :n] = [o[1] & 0xFFFFFFFF for o in objects]
        s = self._s
        base = self._obj.ctypes.data
        row = self._obj.strides[0]
        s.obj_start, s.obj_size, s.obj_peak, s.obj_order = (base, base + row, base + 2 * row,
                                                            base + 3 * row)
        s.n_objs = n

    def reset_thread_stacks(self) -> None:
        self._obj[2:] = 0
        self._s.seen_seq = self._s.switched_in_at = 0

    def thread_peaks(self, unknown: str) -> dict[str, int]:
        """Each thread stack's peak, by its object's name (``unknown``: in no object), in the
        order first seen."""
        order = self._obj[3]
        peaks: dict[str, int] = {}
        for i in sorted(np.flatnonzero(order).tolist(), key=lambda i: int(order[i])):
            name = self._objects[i][2] if i < len(self._objects) else unknown
            peaks[name] = max(peaks.get(name, 0), int(self._obj[2, i]))
        return peaks

    def leave_thread_stack(self, frame: int) -> None:
        """An exception preempts a thread on PSP whose frame ends at ``frame``."""
        library().sim_leave_thread_stack(self._state_ref, frame)

    def enter_thread_stack(self, sp: int) -> None:
        """Thread mode resumes on PSP at ``sp``."""
        library().sim_enter_thread_stack(self._state_ref, sp)

    def stack_limit(self) -> int:
        """The lowest address the main stack may reach: the end of static data, or the heap's
        break when the heap has grown past it."""
        return int(library().sim_stack_limit(self._state_ref))

    def advance_systick(self) -> None:
        """Account SysTick's wraps up to now (its state lives in ``state.st_*``)."""
        library().sim_advance_systick(self._state_ref)

    def handler_enter(self, exc: int) -> None:
        """A handler starts now (statistics: counted, its cycles timed from here)."""
        library().sim_handler_enter(self._state_ref, exc)

    def handler_close(self, exc: int) -> None:
        """A handler returns now: the cycles since its entry are attributed to it."""
        library().sim_handler_close(self._state_ref, exc)

    def exc_stats(self, end: int | None = None) -> tuple[dict[int, int], dict[int, int], int]:
        """(entries per exception, handler cycles per exception, tail-chains), nonzero ones; a
        handler still running (a run that ended inside it) counts up to cycle ``end`` (default
        now: the last block counted whole)."""
        s = self._s
        end = s.cycles if end is None else end
        taken = np.ctypeslib.as_array(s.exc_taken)
        cycles = np.ctypeslib.as_array(s.exc_handler_cycles).astype(np.int64)
        for i in range(s.hs_len):
            cycles[s.hs_exc[i]] += max(0, end - s.hs_start[i])
        return ({int(e): int(taken[e]) for e in np.flatnonzero(taken)},
                {int(e): int(cycles[e]) for e in np.flatnonzero(cycles)}, int(s.tail_chained))

    def close_handlers(self) -> None:
        """Every handler still running ends now (a reset in one): its cycles so far are
        its."""
        s = self._s
        while s.hs_len:
            self.handler_close(int(s.hs_exc[s.hs_len - 1]))

    def reset_exc_stats(self) -> None:
        s = self._s
        ctypes.memset(ctypes.addressof(s.exc_taken), 0, ctypes.sizeof(s.exc_taken))
        ctypes.memset(ctypes.addressof(s.exc_handler_cycles), 0,
                      ctypes.sizeof(s.exc_handler_cycles))
        s.tail_chained = s.hs_len = 0

    def set_events(self, *, timer_at: int, group_mask: int, prio_mask: int = 0xFF,
                   device_at: int = NEVER) -> None:
        """What the native hook checks per block: the next timer event (cycles, NEVER for
        none: the earlier of SysTick's interrupt and ``device_at``, the next device event,
        which the hook keeps in it when it accounts SysTick itself), the PRIGROUP mask and
        the implemented priority bits; the pending and active state comes from the C state
        itself (``sim_exc_update`` works out the best pending and the active priority)."""
        s = self._s
        s.timer_at = min(timer_at, device_at)
        s.device_at = device_at
        s.group_mask, s.prio_mask = group_mask, prio_mask
        self._update_fn(self._state_ref)

    def clear_exclusive_at_exceptions(self, uc: Uc, offset: int) -> None:
        """From now on, clear the local exclusive monitor at every exception entry and return
        (sim/exclusive.py; ``offset``: its word's place in a saved context)."""
        self._excl_ctx = uc.context_save()  # the C state points into it: kept alive
        s = self._s
        s.ctx_save, s.ctx_restore = (_addr(uclib.uc_context_save),
                                     _addr(uclib.uc_context_restore))
        s.excl_off = offset
        s.excl_ctx = self._excl_ctx.context.value

    def clear_exclusive(self) -> None:
        """ClearExclusiveLocal, for an entry or return the exception model takes in Python
        (nothing unless clear_exclusive_at_exceptions was called)."""
        if self._s.excl_ctx:
            library().sim_clear_exclusive(self._uch, self._state_ref)

    def request_stop(self) -> None:
        """Stop the run at the next opportunity (from a hook)."""
        uclib.uc_emu_stop(self._uch)

    def uncount(self, instructions: int, cycles: int) -> None:
        """Take back what a block counted whole but did not execute (a fault cut it short and
        the run goes on in the firmware's fault handler)."""
        self._s.insns -= instructions
        self._s.cycles -= cycles

    def set_refill(self, cycles: int) -> None:
        """Cycles a non-sequential transfer pays from the next block on (the pipeline refill
        plus the flash wait states, which firmware may change as it sets its clock up)."""
        self._s.refill = cycles

    def add_cycles(self, n: int) -> None:
        """Cycles the core spends outside any block: exception entry and return, sleep."""
        self._s.cycles += n

    def branch_to(self, address: int) -> None:
        """Execution continues at ``address`` (an exception entry or return, which pays its
        own latency): no pipeline refill is added for the block there."""
        self._s.next_seq = address & ~1

    def thread_stack(self) -> tuple[bool, int]:
        """(whether SP is a thread's stack now, the lowest address it touched since
        ``set_thread_stack``)."""
        return bool(self._s.psp_mode), self._s.psp_min

    def set_thread_stack(self, on: bool, sp: int = 0, limit: int = 0) -> None:
        """SP is now a thread's stack at ``sp`` whose region starts at ``limit`` (0: unknown),
        or (``on`` False) the main stack."""
        s = self._s
        s.psp_mode, s.psp_min, s.psp_limit = int(on), sp, limit

    def refused_sp(self, sp: int) -> None:
        """An instruction of the last block was refused its SP move (ARMv8-M STKOF): the low
        the block's entry recorded for it is taken back; SP, as the fault left it, counts."""
        s = self._s
        if s.min_sp_at == s.last_addr and s.min_sp_prev:
            s.min_sp = min(s.min_sp_prev, sp)

    def lower_min_sp(self, sp: int) -> None:
        """Record a stack address written outside any block (an exception frame)."""
        if sp < self._s.min_sp:
            self._s.min_sp = sp

    # --- live counters (read them during a run from hooks, or after it) -----------------------
    @property
    def instructions(self) -> int:
        """Instructions of every block started so far (the last one counted whole)."""
        return self._s.insns

    @property
    def cycles(self) -> int:
        return self._s.cycles

    @property
    def min_sp(self) -> int:
        """The lowest stack address touched so far."""
        return self._s.min_sp

    @property
    def stopped(self) -> bool:
        """Whether a native hook has stopped the run."""
        return self._s.stop_reason != StopReason.NONE

    @property
    def stop(self) -> NativeStop | None:
        s = self._s
        if s.stop_reason == StopReason.NONE:
            return None
        return NativeStop(StopReason(s.stop_reason), s.stop_pc, s.stop_addr, s.stop_limit)

    @property
    def last_block(self) -> LastBlock:
        s = self._s
        return LastBlock(s.last_addr, s.next_seq, s.last_count, s.last_cycles)

    def range_facts(self, start: int, end: int) -> tuple[int, int]:
        """(instructions, base cycles) of the code in [start, end), decoded as the hook does."""
        cost = ctypes.c_uint32()
        n = library().sim_range(ctypes.byref(self._s), start, end, ctypes.byref(cost))
        return int(n), int(cost.value)

    # --- marks ----------------------------------------------------------------------------------
    def add_marks(self, addresses: list[int], capacity: int, pauses: list[int] | None = None,
                  resumes: list[int] | None = None) -> None:
        """Record (address, instructions and cycles retired before it) whenever execution
        reaches one of ``addresses``, up to ``capacity`` times in all (per run), in C: no Python
        runs per mark. Read them back with ``marks()``. Once per engine.

        ``pauses`` and ``resumes``: reaching a pause address opens a pause (unless one is
        open), a resume address or a recorded one closes it; the recorded counts leave out
        what retired in pauses (e.g. a harness's reading of input between a library's
        calls)."""
        if self._marks_installed:
            raise RuntimeError("marks are already installed on this engine")
        self._marks_installed = True
        self._marks = np.zeros((capacity, 3), np.uint64)
        s = self._s
        s.marks = self._marks.ctypes.data
        s.marks_cap, s.marks_len = capacity, 0
        kinds = {a: MARK_RECORD for a in addresses}
        for kind, more in ((MARK_PAUSE, pauses or []), (MARK_RESUME, resumes or [])):
            for a in more:
                if kinds.setdefault(a, kind) != kind:
                    raise ValueError(f"mark address {a:#x} given twice, as two kinds")
        self._mark_addrs = np.array(list(kinds), np.uint32)
        self._mark_kinds = np.array(list(kinds.values()), np.uint8)
        s.mark_addrs, s.mark_kinds = self._mark_addrs.ctypes.data, self._mark_kinds.ctypes.data
        s.n_marks = len(kinds)
        for addr in kinds:
            self._add(UC_HOOK_CODE, self._mark_fn, addr, addr)

    # --- alignment ------------------------------------------------------------------------------
    def add_alignment_checks(self, checks: "list[AlignmentCheck]") -> None:
        """Stop before any of these instructions runs with its base register not aligned
        (``StopReason.UNALIGNED``: address = the register's value, limit = the alignment).
        Checks ``at_entry`` are made by the block hook when the block holding them starts (a
        table entry per instruction, nothing per run of it); the others get a native code hook
        on their address. Once per engine."""
        hooked = [c for c in checks if not c.at_entry]
        self._align_tables = [self._register_checks(
            hooked, [c.alignment - 1 for c in hooked], library().sim_align_hook)]
        self._entry_checks = {c.address: c for c in checks if c.at_entry}
        self._align = np.zeros(len(self._bcache), np.uint8)
        self._xfer = np.zeros(len(self._bcache), np.uint32)
        base = self._s.flash_base
        for c in self._entry_checks.values():
            self._align[(c.address - base) >> 1] = 0x80 | c.reg
            for address, record in c.transfers:
                self._xfer[(address - base) >> 1] = record
        if self._entry_checks:
            self._s.align, self._s.xfer = self._align.ctypes.data, self._xfer.ctypes.data

    def forget_sp(self) -> None:
        """Before every ``emu_start``: registers may have been written since the hooks last
        ran, so the next block that moves SP reads it instead of trusting the shadow SP."""
        self._s.sp_known = 0

    def shadow_sp_error(self) -> str | None:
        """With the self-check on (``EBNN_SIM_CHECK_SP=1`` in the environment: every use of
        the shadow SP also reads SP and compares), what disagreed; None when nothing did."""
        s = self._s
        if not s.sp_mismatches:
            return None
        return (f"internal error: the shadow SP disagreed with SP {s.sp_mismatches} times, "
                f"first at the block at 0x{s.sp_mismatch_pc:08x}")

    def clear_stop(self) -> None:
        """Forget the stop the native hooks made (the run goes on: a fault was delivered to
        the firmware's handler)."""
        self._s.stop_reason = StopReason.NONE

    def mark_sram_msr(self, address: int) -> bool:
        """Note a code hook on the MSR to a stack register at ``address`` in SRAM
        (``StopReason.SRAM_MSR`` no longer stops for it); False when already noted."""
        off = address - self._s.sram_base
        byte, bit = off >> 4, (off >> 1) & 7
        if self._sram_msr[byte] >> bit & 1:
            return False
        self._sram_msr[byte] |= 1 << bit
        return True

    def hook_unaligned_entry(self, stop: NativeStop, remove_cache: "Callable[[int, int], None]"
                             ) -> int:
        """After ``StopReason.ALIGN_ENTRY`` (the block at ``stop.pc`` did not run: a base
        register checked at its entry was unaligned): the checks in that block on those
        registers (``stop.address``) move to code hooks on their instructions, which decide
        exactly (the access may be conditional, or an instruction before it may fault first).
        ``remove_cache``
        drops Unicorn's translation of [start, end) so that the new hooks are compiled in.
        Clears the stop; returns the address to run from (the block again)."""
        base, start, end = self._s.flash_base, stop.pc, stop.limit
        moved = [c for a, c in self._entry_checks.items() if start <= a < end]
        for c in moved:
            del self._entry_checks[c.address]
            self._align[(c.address - base) >> 1] = 0
        self._align_tables.append(self._register_checks(
            moved, [c.alignment - 1 for c in moved], library().sim_align_hook))
        self._bcache["flags"] = 0  # every block's facts again, without the moved checks
        remove_cache(start, end)
        self._s.stop_reason = StopReason.NONE
        return start

    def add_division_checks(self, checks: "list[AlignmentCheck]", enabled: bool) -> None:
        """Stop before any of these divides runs with a zero divisor while the trap is
        enabled (``set_div0_trap``; ``StopReason.DIV_BY_ZERO``). Once per engine."""
        self._div_table = self._register_checks(
            checks, [int(enabled)] * len(checks), library().sim_div0_hook)

    def add_unaligned_trap_checks(self, checks: "list[AccessCheck]") -> None:
        """Stop before any of these loads and stores runs at an address that is not a multiple
        of its size while the trap is enabled (``set_unaligned_trap``;
        ``StopReason.UNALIGN_TRP``: address = the address, limit = the size). Once per
        engine."""
        table = np.zeros(len(checks), _ACCESS_CHECK)
        self._trp_table, self._trp_masks = table, np.array([c.size - 1 for c in checks],
                                                           np.uint32)
        if not checks:
            return
        table["s"] = ctypes.addressof(self._s)
        table["base"] = [c.base for c in checks]
        table["index"] = [c.index for c in checks]
        table["disp"] = [c.disp for c in checks]
        table["shift"] = [c.shift for c in checks]
        fn = _addr(library().sim_unalign_trp_hook)
        for i, c in enumerate(checks):
            handle = uc_hook_h()
            err = uclib.uc_hook_add(self._uch, ctypes.byref(handle), UC_HOOK_CODE, fn,
                                    table.ctypes.data + i * _ACCESS_CHECK.itemsize,
                                    c.address, c.address)
            if err:
                raise RuntimeError(f"uc_hook_add failed with unicorn error {err}")

    def set_unaligned_trap(self, on: bool) -> None:
        """Enable or disable the checks added by ``add_unaligned_trap_checks``."""
        table = getattr(self, "_trp_table", None)
        if table is not None and len(table):
            table["mask"] = self._trp_masks if on else 0

    def set_div0_trap(self, on: bool) -> None:
        """Enable or disable the divide-by-zero checks added by ``add_division_checks``."""
        table = getattr(self, "_div_table", None)
        if table is not None and len(table):
            table["mask"] = int(on)

    def _register_checks(self, checks: "list[AlignmentCheck]", masks: list[int],
                         fn_obj: "CFuncPtr") -> np.ndarray:
        table = np.zeros(len(checks), _ALIGN_CHECK)
        if not checks:
            return table
        table["s"] = ctypes.addressof(self._s)
        table["regid"] = [c.regid for c in checks]
        table["mask"] = masks
        fn = _addr(fn_obj)
        for i, c in enumerate(checks):  # the hooks point into the table: the caller keeps it
            handle = uc_hook_h()
            err = uclib.uc_hook_add(self._uch, ctypes.byref(handle), UC_HOOK_CODE, fn,
                                    table.ctypes.data + i * _ALIGN_CHECK.itemsize,
                                    c.address, c.address)
            if err:
                raise RuntimeError(f"uc_hook_add failed with unicorn error {err}")
        return table

    # --- stores on thread stacks ------------------------------------------------------------------
    def add_store_checks(self, checks: "list[StoreCheck]") -> None:
        """Before any of these stores (by exception handlers) runs, lower the peak of the
        thread stack it writes, if any (sim/thread_stores.py). Once per engine."""
        table = self._store_table = np.zeros(len(checks), _STORE_CHECK)
        if not checks:
            return
        table["s"] = ctypes.addressof(self._s)
        table["base"] = [c.base for c in checks]
        table["index"] = [c.index for c in checks]
        table["offset"] = [c.offset for c in checks]
        table["shift"] = [c.shift for c in checks]
        table["cond"] = [c.cond for c in checks]
        fn = _addr(library().sim_store_hook)
        for i, c in enumerate(checks):  # the hooks point into the table, which self keeps
            handle = uc_hook_h()
            err = uclib.uc_hook_add(self._uch, ctypes.byref(handle), UC_HOOK_CODE, fn,
                                    table.ctypes.data + i * _STORE_CHECK.itemsize,
                                    c.address, c.address)
            if err:
                raise RuntimeError(f"uc_hook_add failed with unicorn error {err}")

    @property
    def marks_reached(self) -> int:
        """Marks reached so far in this run (may exceed the capacity)."""
        return self._s.marks_len

    def marks(self) -> np.ndarray:
        """The recorded marks, (n, 3) uint64 rows of address, instructions, cycles.

        Raises RuntimeError when more were reached than the capacity held."""
        s = self._s
        if s.marks_len > s.marks_cap:
            raise RuntimeError(f"{s.marks_len} marks reached, room for {s.marks_cap}")
        return self._marks[: s.marks_len]


class Registers:
    """32-bit core registers read and written through ``uc_reg_read``/``uc_reg_write`` directly.

    The semihosting path touches four registers per call; the binding's generic ``reg_read``
    (register-class lookup, a new ctypes object per call) costs several times the C call, which
    adds up to much of a small model's run when every image makes console calls."""

    def __init__(self, uc: Uc) -> None:
        self._uch = uc._uch
        self._value = ctypes.c_uint32()
        self._ref = ctypes.byref(self._value)
        self._batches: dict[tuple[int, ...], _Batch] = {}

    def read(self, regid: int) -> int:
        uclib.uc_reg_read(self._uch, regid, self._ref)
        return self._value.value

    def write(self, regid: int, value: int) -> None:
        self._value.value = value & 0xFFFFFFFF
        uclib.uc_reg_write(self._uch, regid, self._ref)

    def read_many(self, regids: tuple[int, ...]) -> list[int]:
        """Several registers in one call into Unicorn (``uc_reg_read_batch``)."""
        batch = self._batch(regids)
        uclib.uc_reg_read_batch(self._uch, batch.ids, batch.refs, batch.count)
        return list(batch.values)

    def write_many(self, regids: tuple[int, ...], values: list[int]) -> None:
        """Several registers in one call, written in the order given."""
        batch = self._batch(regids)
        for i, v in enumerate(values):
            batch.values[i] = v & 0xFFFFFFFF
        uclib.uc_reg_write_batch(self._uch, batch.ids, batch.refs, batch.count)

    def _batch(self, regids: tuple[int, ...]) -> "_Batch":
        batch = self._batches.get(regids)
        if batch is None:
            batch = self._batches[regids] = _Batch(regids)
        return batch


class _Batch:
    """Buffers for one batch of registers: ids, 32-bit values, pointers to them."""

    def __init__(self, regids: tuple[int, ...]) -> None:
        n = self.count = len(regids)
        self.ids = (ctypes.c_int32 * n)(*regids)
        self.values = (ctypes.c_uint32 * n)()
        base = ctypes.addressof(self.values)
        self.refs = (ctypes.c_void_p * n)(*(base + 4 * i for i in range(n)))

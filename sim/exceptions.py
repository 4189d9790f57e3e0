"""The M-profile exception model: pending and active exceptions, priorities, entry and return.

Unicorn emulates the instructions of a Cortex-M but not its exceptions (../docs/simulator.md):
`bx lr` with an EXC_RETURN value raises an interrupt to the host with nothing popped, `svc`
raises one with nothing stacked, and nothing ever preempts. This module is the missing part of
the core: the state the NVIC and the SCB hold (enables, pending, active, priorities, PRIGROUP,
VTOR, SysTick), and the architecture's ExceptionEntry / ExceptionReturn / tail-chaining.

Exceptions are taken at basic-block boundaries only: the native block hook compares the cycle
count with the next timer event and, while something is pending, the pending exception's group
priority with the execution priority (active exceptions, PRIMASK, BASEPRI, FAULTMASK), and calls
:meth:`ExceptionModel.on_event` when one can preempt. An interrupt pended in the middle of a
block (a store to ICSR or ISPR, a SysTick wrap) is taken once the block ends, a few
instructions later than hardware would; CPSIE, MSR BASEPRI and ISB end blocks, so unmasking
takes effect before the next instruction, as on hardware.

The frame (8 words, or 26 with the FP context when CONTROL.FPCA is set on an FPU core) is
written straight into the host array that backs SRAM; SP banking (MSP/PSP) goes through
Unicorn's own MSR semantics: CONTROL.SPSEL written in thread mode swaps the stack pointers.

Entry and return run in C (sim/_blockhook.c): integer and FP extended frames, on the main or
a thread's stack, tail-chaining, SVC, and SysTick falling due, without a call into Python. It
is the same algorithm as here, on the same state: pending, active, enabled, priorities, VTOR,
CCR, SCR, the event register, SysTick, the statistics (entries, handler cycles, tail-chains)
and the thread stacks' peaks live in the C struct and are read and written here through it.
This module remains the reference and runs the rare paths: faults delivered to the firmware
(--vector-faults), frames or vectors outside memory, invalid returns, and every entry and
return while a profiler records them (``trace``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np
from unicorn import arm_const as R

from sim.native import (
    EXC_DSP,
    EXC_FAST,
    EXC_FPU,
    EXC_V6M,
    EXC_V8M,
    NEVER,
    NativeCounter,
    Registers,
    SimState,
)
from toolchain.cores import Core

# exception numbers
NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 2, 3, 4, 5, 6
SVCALL, DEBUGMON, PENDSV, SYSTICK = 11, 12, 14, 15
IRQ0 = 16

_SLEEP_EVENTS = 64  # timer events one WFI sleeps through before the core looks again
_EVENT_ROUNDS = 8  # rounds of device events one block boundary runs (events planned by others)
_END_OWNER = object()  # owner of the timer that ends the run (ExceptionModel.end_at)
# One sleep (WFIs joined by the returns of dozing) running this many device events, or this
# much device time, with nothing becoming pending: a warning (ExceptionModel.watch_spins)
SPIN_EVENTS = 1_000_000
SPIN_SECONDS = 3600.0
Wakes = bool | Callable[[], bool]  # set_timer: whether an owner's event may wake the core

NAMES = {NMI: "NMI", HARDFAULT: "HardFault", MEMMANAGE: "MemManage", BUSFAULT: "BusFault",
         USAGEFAULT: "UsageFault", SVCALL: "SVCall", DEBUGMON: "DebugMon", PENDSV: "PendSV",
         SYSTICK: "SysTick"}



def valid_exc_return(value: int, v8m: bool, fpu: bool = True) -> bool:
    """An EXC_RETURN this core's architecture defines (no Security Extension); an extended
    (FP) frame, bit 4 clear, only on a core with an FPU."""
    if not fpu and not value & 0x10:
        return False
    if v8m:  # bits 31:7 ones, S (6) and ES (0) clear, bit 1 clear; DCRS (5) any
        return value >> 7 == 0x1FFFFFF and not value & 0x43
    return value >> 5 == 0x7FFFFFF and value & 0xF in (1, 9, 0xD)


def _mask(words: np.ndarray) -> int:
    """A bitmask held as 64-bit words (lowest first) as one integer."""
    value = 0
    for i, w in enumerate(words.tolist()):
        value |= w << (64 * i)
    return value


def _set_mask(words: np.ndarray, value: int) -> None:
    words[:] = [(value >> (64 * i)) & 0xFFFF_FFFF_FFFF_FFFF for i in range(len(words))]


_BASE = 256  # execution priority with nothing active and no mask set

# register batches (one call into Unicorn each)
_MASKS = (R.UC_ARM_REG_PRIMASK, R.UC_ARM_REG_BASEPRI, R.UC_ARM_REG_FAULTMASK)
_FRAME_REGS = (R.UC_ARM_REG_R0, R.UC_ARM_REG_R1, R.UC_ARM_REG_R2, R.UC_ARM_REG_R3,
               R.UC_ARM_REG_R12, R.UC_ARM_REG_LR)
_ENTRY_READ = (R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_XPSR, R.UC_ARM_REG_SP,
               R.UC_ARM_REG_APSR_NZCV, *_FRAME_REGS)
_FP_REGS = (*(R.UC_ARM_REG_S0 + i for i in range(16)), R.UC_ARM_REG_FPSCR)
_HANDLER_WRITE = (R.UC_ARM_REG_XPSR, R.UC_ARM_REG_LR, R.UC_ARM_REG_APSR_NZCV)
_RETURN_READ = (R.UC_ARM_REG_IPSR, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_PSP, R.UC_ARM_REG_MSP)


# latencies in cycles (Cortex-M TRMs: 12 on M3/M4/M7/M33, 16 on M0, 15 on M0+; tail-chain 6)
_ENTRY = {"cortex-m0": 16, "cortex-m0plus": 15}
_TAIL_CHAIN = 6
_FP_FRAME_EXTRA = 18  # S0-S15, FPSCR, reserved


THREAD_STACK_UNKNOWN = "(thread stacks in no symbol)"


def exception_name(n: int) -> str:
    return NAMES.get(n, f"IRQ{n - IRQ0}" if n >= IRQ0 else f"exception {n}")


class StackingError(Exception):
    """Exception entry or return could not go on: a frame or vector outside SRAM and flash
    (``what`` at ``address``), or, with ``message``, a frame that would overflow its stack
    (``kind`` stack_limit or stack_overflow) or an invalid return (no ``address``)."""

    def __init__(self, address: int | None, what: str = "", *, kind: str = "hard_fault",
                 message: str | None = None, access: str | None = "write") -> None:
        if message is None:
            message = f"exception stacking failed: {what} at 0x{address or 0:08x} lies outside SRAM"
        super().__init__(message)
        self.address, self.kind, self.access = address, kind, access


class StackLimit(StackingError):
    """ARMv8-M: an exception entry's frame would go below ``limit`` (MSPLIM, or PSPLIM for a
    thread on the PSP): the chip's UsageFault STKOF, a derived exception of the entry."""

    def __init__(self, frame: int, limit: int, message: str) -> None:
        super().__init__(frame, kind="stack_limit", message=message)
        self.limit = limit


class InvalidReturn(StackingError):
    """An exception return the architecture refuses (UsageFault INVPC; ARMv7-M B1.5.8): the
    returning exception is already deactivated, nothing popped."""

    def __init__(self, message: str) -> None:
        super().__init__(None, access=None, message=message)


class SysTick:
    """SysTick's state, counting the core's cycles (CLKSOURCE 1) or the part's reference
    clock (CLKSOURCE 0: a count every ``ref_div`` cycles; a part without one reads CLKSOURCE
    as 1), held in the native hook's C state so that C accounts its wraps and takes its
    interrupt without Python. ``zero_at`` is the cycle at which the counter next reaches 0;
    the current value is derived from it when read."""

    def __init__(self, state: SimState, ref_div: int = 0) -> None:
        self._s = state
        self.ref_div = ref_div  # the target's systick_ref_div (0: no reference clock)

    def clear(self) -> None:
        """The reset state: disabled, RVR 0, CVR 0; CLKSOURCE as the part resets it (0 where
        there is a reference clock, else reading as 1)."""
        self.csr = 0 if self.ref_div else 4
        self.rvr = self.stopped_value = 0
        self.zero_at = NEVER
        self.countflag = False
        self._s.st_div = self.div_for(self.csr)

    def div_for(self, csr: int) -> int:
        """Core cycles per count with CSR ``csr``."""
        return 1 if csr & 4 or not self.ref_div else self.ref_div

    @property
    def div(self) -> int:
        return int(self._s.st_div) or 1

    @property
    def csr(self) -> int:
        return self._s.st_csr

    @csr.setter
    def csr(self, value: int) -> None:
        self._s.st_csr = value

    @property
    def rvr(self) -> int:
        return self._s.st_rvr

    @rvr.setter
    def rvr(self, value: int) -> None:
        self._s.st_rvr = value

    @property
    def zero_at(self) -> int:
        return self._s.st_zero_at

    @zero_at.setter
    def zero_at(self, value: int) -> None:
        self._s.st_zero_at = value

    @property
    def countflag(self) -> bool:
        return bool(self._s.st_countflag)

    @countflag.setter
    def countflag(self, value: bool) -> None:
        self._s.st_countflag = int(value)

    @property
    def stopped_value(self) -> int:
        """CVR while disabled."""
        return self._s.st_stopped

    @stopped_value.setter
    def stopped_value(self, value: int) -> None:
        self._s.st_stopped = value

    @property
    def enabled(self) -> bool:
        return bool(self.csr & 1)

    @property
    def period(self) -> int:
        """Core cycles from one wrap to the next."""
        return (self.rvr + 1) * self.div


@dataclass
class Stats:
    """What the report says about exceptions."""

    taken: dict[int, int] = field(default_factory=dict)  # exception number -> entries
    tail_chained: int = 0
    handler_cycles: dict[int, int] = field(default_factory=dict)


def either_wakes(*parts: Wakes) -> Wakes:
    """set_timer's ``wakes`` for an event that may wake the core through any of ``parts``
    (each a bool or a predicate): True when one is True, False when all are False, else a
    predicate asking the others."""
    if any(part and not callable(part) for part in parts):
        return True
    asks = [part for part in parts if callable(part)]
    if not asks:
        return False
    if len(asks) == 1:
        return asks[0]
    return lambda: any(ask() for ask in asks)


def _owner_name(owner: object, event: Callable[[], None]) -> str:
    """A timer's owner as a warning names it: the device whose method the event is (a
    device's sub-owner: a DMA channel, a serial port's transmitter), else the owner's name."""
    for thing in (getattr(event, "__self__", None), owner):
        name = getattr(thing, "name", None)
        if isinstance(name, str):
            return name
    return type(owner).__name__


class ExceptionModel:
    """NVIC + SCB state and exception entry/return for one engine; reset before every run.

    ``read_mem``/``write_mem`` access SRAM or flash for frames and the vector table; both raise
    StackingError outside them. ``on_fault(kind, message, pc)`` stops the run.
    """

    def __init__(self, core: Core, irqs: int, prio_bits: int, counter: NativeCounter,
                 regs: Registers, read_mem: Callable[[int, int], bytes | None],
                 write_mem: Callable[[int, bytes], bool], has_fpu: bool,
                 stack_objects: list[tuple[int, int, str]] | None = None,
                 frame_guard: Callable[[int, int, int, bool], StackingError | None] | None = None,
                 systick_ref_div: int = 0) -> None:
        self.core = core
        self.v6m = core.architecture == "armv6-m"
        self.v8m = core.architecture.startswith("armv8")
        # the DSP extension's APSR.GE[3:0] (the M4, M7 and the STM32L5's M33): restored from
        # a frame at return; RAZ on the M0+ and M3
        self.dsp = core.architecture in ("armv7e-m", "armv8-m.main")
        self.irqs = irqs
        self.prio_mask = (0xFF << (8 - prio_bits)) & 0xFF
        self.counter = counter
        self.regs = regs
        self.read_mem = read_mem
        self.write_mem = write_mem
        self.has_fpu = has_fpu
        # the image's vector table: (name, address, entries), None when unknown
        self.vector_table: tuple[str, int, int] | None = None
        self.vector_alias: int | None = None  # the table's address in a boot alias
        self.boot_vtor = 0  # VTOR's reset value: where the part reads its vectors at reset
        # (frame, size, SP, on the PSP) -> why an entry may not stack there (None: it may)
        self.frame_guard = frame_guard
        # --vector-faults: an entry below MSPLIM/PSPLIM takes the derived UsageFault STKOF, one
        # whose frame lies outside SRAM the derived BusFault STKERR (else either stops the
        # run); called with (the refusal, what the entry did instead, the return address, the
        # exception entered, the derived exception, the one taken) for the report
        self.on_derived: Callable[[StackingError, str, int, int, int, int], None] | None = None
        # (start, size, name) of the image's sized data objects, by start: thread stacks
        counter.set_stack_objects(stack_objects or [])
        # For a profiler: ("enter", handler address, the block the entry replaced or None) and
        # ("return", None) events, in order, when set to a list (None: not recorded).
        self._trace: list[tuple[str, int | None, int | None]] | None = None
        self.entry_cycles = _ENTRY.get(core.name, 12)
        self._c = counter.state
        self._holding = False  # update() held while device events run
        self.systick = SysTick(self._c, systick_ref_div)
        self._pending_w, self._active_w, self._enabled_w, self.prio = counter.exc_masks()
        self._level_w = counter.exc_levels()
        counter.configure_exceptions(
            flags=EXC_FAST | (EXC_FPU if has_fpu else 0) | (EXC_V8M if self.v8m else 0)
            | (EXC_V6M if self.v6m else 0) | (EXC_DSP if self.dsp else 0),
            entry_cycles=self.entry_cycles, tail_cycles=_TAIL_CHAIN)
        counter.set_event_handler(self._on_event_c, masks=not self.v6m)
        # set when the model stops the run: kind, message, pc, address, access
        self.fault: tuple[str, str, int, int | None, str | None] | None = None
        self._spin_warn: Callable[[str], None] | None = None  # (watch_spins)
        self._spin_seconds: Callable[[int], float] | None = None
        self.reset()

    # --- state ----------------------------------------------------------------------------------
    # --- the state the C struct holds -----------------------------------------------------------
    @property
    def pending(self) -> int:
        return _mask(self._pending_w)

    @pending.setter
    def pending(self, value: int) -> None:
        _set_mask(self._pending_w, value)

    @property
    def active(self) -> int:
        return _mask(self._active_w)

    @active.setter
    def active(self, value: int) -> None:
        _set_mask(self._active_w, value)

    @property
    def enabled(self) -> int:
        """Bit per exception number (IRQs only; system ones always enabled)."""
        return _mask(self._enabled_w)

    @enabled.setter
    def enabled(self, value: int) -> None:
        _set_mask(self._enabled_w, value)

    @property
    def levels(self) -> int:
        """Bit per exception number: the interrupt lines devices hold high."""
        return _mask(self._level_w)

    @levels.setter
    def levels(self, value: int) -> None:
        _set_mask(self._level_w, value)

    @property
    def vtor(self) -> int:
        return self._c.vtor

    @vtor.setter
    def vtor(self, value: int) -> None:
        self._c.vtor = value

    @property
    def ccr(self) -> int:
        return self._c.ccr

    @ccr.setter
    def ccr(self, value: int) -> None:
        self._c.ccr = value

    @property
    def scr(self) -> int:
        return self._c.scr

    @scr.setter
    def scr(self, value: int) -> None:
        self._c.scr = value

    @property
    def event_register(self) -> bool:
        return bool(self._c.event_register)

    @event_register.setter
    def event_register(self, value: bool) -> None:
        self._c.event_register = int(value)

    @property
    def trace(self) -> list[tuple[str, int | None, int | None]] | None:
        """For a profiler: ("enter", handler address, the block the entry replaced or None)
        and ("return", None) events, in order, when set to a list (None: not recorded). While
        set, every entry and return runs here."""
        return self._trace

    @trace.setter
    def trace(self, value: list[tuple[str, int | None, int | None]] | None) -> None:
        self._trace = value
        self.counter.set_fast_exceptions(value is None)

    def stats_until(self, end: int | None) -> Stats:
        """The statistics, a handler still running counted up to cycle ``end`` (sleep
        included; None: now)."""
        taken, handler_cycles, tail_chained = self.counter.exc_stats(end)
        return Stats(taken=taken, tail_chained=tail_chained, handler_cycles=handler_cycles)

    def reset(self) -> None:
        self.counter.reset_exc_stats()
        self._core_reset()
        self._timers: dict[object, tuple[int, Callable[[], None]]] = {}  # device events
        self._overdue = False  # an event planned for a cycle already passed (_run_timers)
        self._quiet: set[object] = set()  # owners whose event cannot wake the core
        self._asks: dict[object, Callable[[], bool]] = {}  # owners whose event may: ask them
        self._wake_prio = 0  # what a pended IRQ must beat to wake the sleep under way (sleep)
        self._wake_wfe = False  # the sleep under way is a WFE's
        self._wake_interrupts = True  # ... and interrupts wake it (not the part's Stand-by)
        self._spin_events: dict[str, int] = {}  # waking events run in one sleep, by owner
        self._spin_since: int | None = None  # the cycle that sleep began (None: awake)
        self._spin_warned = False  # (watch_spins: one warning a run)
        self._end = NEVER  # the cycle at which the run ends (end_at), NEVER for none
        self.ended = False  # the end fired: the run stops, and no exception is taken now
        self.sleep_cycles = 0
        self.counter.reset_thread_stacks()
        if self.trace is not None:
            self.trace.clear()
        self.update()

    def system_reset(self, keep: Collection[object]) -> None:
        """A reset of the part during a run (a watchdog's, SYSRESETREQ, the wake-up from
        Stand-by): the NVIC, the SCB and SysTick as at reset, every handler running ended; the
        time (sleep included), the statistics, the run's end and the events of the owners in
        ``keep`` (what lives through the reset) go on, the other events are forgotten."""
        self.counter.close_handlers()
        self._core_reset()
        self._timers = {owner: timer for owner, timer in self._timers.items()
                        if owner is _END_OWNER or owner in keep}
        if self.trace is not None:
            self.trace.append(("reset", None, None))
        self.update()

    def _core_reset(self) -> None:
        """The NVIC, the SCB and SysTick as a reset leaves them."""
        self.prio[:] = 0
        self.prio[1], self.prio[NMI], self.prio[HARDFAULT] = -3, -2, -1
        self.enabled = 0  # bit per exception number (IRQs only; system ones always enabled)
        self.pending = 0
        self.active = 0
        self.levels = 0
        self.prigroup = 0
        self.vtor = self.boot_vtor
        self.shcsr_enables = 0  # MEMFAULTENA/BUSFAULTENA/USGFAULTENA (bits 16-18)
        # STKALIGN; v6-M: also UNALIGN_TRP; v8-M: NONBASETHRDENA (RES1)
        self.ccr = 0x208 if self.v6m else 0x201 if self.v8m else 0x200
        if self.core.name == "cortex-m7":
            self.ccr |= 0x4_0000  # BP: branch prediction, always reads as one
        self.scr = 0
        self._c.msplim = self._c.psplim = 0  # ARMv8-M stack limits (MSR hooks set them)
        self._c.unpriv = 0  # set by the MSR CONTROL hook when the firmware drops privilege
        self.cfsr = self.hfsr = self.mmfar = self.bfar = 0
        self.systick.clear()
        self.event_register = False
        self.fault = None
        self._diverting: int | None = None  # the block an asynchronous entry replaces
        self._wake_now = False  # (wake_now)
        self.dozing = False  # the last sleep() returned for events that do not wake the core
        self.in_interrupt_hook = False  # set by the runner while Unicorn's interrupt hook runs
        self.halted = False  # a reset of the part is under way: no exception is taken

    @property
    def group_mask(self) -> int:
        """Bits of an 8-bit priority that form the group priority (AIRCR.PRIGROUP)."""
        if self.v6m:
            return 0xFF
        return (0xFF << (self.prigroup + 1)) & 0xFF

    def group(self, exc: int) -> int:
        p = int(self.prio[exc])
        return p if p < 0 else p & self.group_mask

    def _enabled(self, exc: int) -> bool:
        return exc < IRQ0 or bool(self.enabled >> exc & 1)

    def best_pending(self) -> int | None:
        """The pending, enabled exception that would be taken first: lowest group priority,
        then lowest subpriority, then lowest number."""
        best, key = None, None
        bits = self.pending
        while bits:
            low = bits & -bits
            exc = low.bit_length() - 1
            bits ^= low
            if not self._enabled(exc):
                continue
            k = (self.group(exc), int(self.prio[exc]), exc)
            if key is None or k < key:
                best, key = exc, k
        return best

    def active_priority(self) -> int:
        prio = _BASE
        bits = self.active
        while bits:
            low = bits & -bits
            exc = low.bit_length() - 1
            bits ^= low
            prio = min(prio, self.group(exc))
        return prio

    def execution_priority(self) -> int:
        prio = self.active_priority()
        if self.v6m:
            primask, basepri, faultmask = self.regs.read(R.UC_ARM_REG_PRIMASK), 0, 0
        else:
            primask, basepri, faultmask = self.regs.read_many(_MASKS)
        prio = self._basepri_boost(prio, basepri)
        if primask & 1 and prio > 0:
            prio = 0
        if faultmask & 1:
            prio = -1
        return prio

    def update(self) -> None:
        """Tell the native hook what to watch: the next SysTick event, the PRIGROUP mask (C
        works out the best pending exception and the active priority from the shared state).
        Held (and done once after) while device events run."""
        if self._holding:
            return
        st = self.systick
        timer_at = st.zero_at if st.enabled and st.csr & 2 else NEVER
        self.counter.set_events(timer_at=timer_at, group_mask=self.group_mask,
                                prio_mask=self.prio_mask, device_at=self.device_at)

    # --- device events ----------------------------------------------------------------------------
    def set_timer(self, owner: object, at: int | None, event: Callable[[], None],
                  wakes: Wakes = True) -> None:
        """Call ``event()`` at the block boundary at or after cycle ``at`` (sleep included:
        WFI wakes for it), once; ``at`` None cancels ``owner``'s timer. One timer per owner
        (a device), replaced by the next call. ``wakes`` False: the event cannot lead to
        anything that wakes the core (a timer's output edge on a pin no interrupt watches):
        a sleep with only such events to come is a deadlock. ``wakes`` a callable: asked by
        sleep() whenever it looks for what can wake the core (each time, so it may read the
        state of any device, and irq_wakes: the NVIC as the sleep has it), True when the
        event may lead to a wake-up (it must stay True while a quiet event could make it so:
        a sleep whose events all answer False is a deadlock)."""
        if at is None:
            self._timers.pop(owner, None)
        else:
            self._timers[owner] = (at, event)
            if at <= self.now:
                self._overdue = True
        if callable(wakes):
            self._quiet.discard(owner)
            self._asks[owner] = wakes
        else:
            self._asks.pop(owner, None)
            if wakes:
                self._quiet.discard(owner)
            else:
                self._quiet.add(owner)
        self.update()

    def end_at(self, at: int, event: Callable[[], None]) -> None:
        """End the run at cycle ``at`` (a length of device time, sleep included): ``event()``
        runs at the block boundary at or after it, or when a sleep reaches it (the sleep
        ends there). Not an event that wakes the core: a WFI that nothing else can ever end
        is still a deadlock. Set after reset(), which forgets it."""
        self._end = at

        def end() -> None:
            self.ended = True
            event()

        self.set_timer(_END_OWNER, at, end)

    @property
    def end_cycle(self) -> int:
        """The cycle at which the run ends (end_at), NEVER for none."""
        return self._end

    @property
    def end_due(self) -> bool:
        """Whether the run's end (end_at) has come: the core is not to go on."""
        return self.now >= self._end

    def has_timer(self, owner: object) -> bool:
        """Whether ``owner``'s timer is set (and has not run yet)."""
        return owner in self._timers

    @property
    def device_at(self) -> int:
        """The cycle of the next device event, NEVER for none."""
        return min((at for at, _ in self._timers.values()), default=NEVER)

    def _run_timers(self) -> None:
        """The device events that fell due, earliest first (a --pin edge before a timer's
        update at the same block boundary is taken before it); an event may set its owner's
        next, or another device's (a timer another's trigger starts): those due by now too
        run at this boundary (a bounded number of rounds)."""
        now = self.now
        for _ in range(_EVENT_ROUNDS):
            self._overdue = False  # (set_timer: an event planned for by now)
            due = [(at, owner, event) for owner, (at, event) in self._timers.items()
                   if at <= now]
            if len(due) > 1:
                due.sort(key=lambda d: d[0])  # (stable: owners due at one cycle keep their order)
            for at, owner, event in due:
                if self._timers.get(owner) == (at, event):
                    del self._timers[owner]
                    event()
            if not self._overdue:
                return

    def _run_timers_held(self) -> None:
        """The device events that fell due, with one update() after them all."""
        self._holding = True
        try:
            self._run_timers()
        finally:
            self._holding = False
        self.update()

    def set_level(self, exc: int, high: bool) -> None:
        """A device drives the (level-sensitive) line of exception ``exc``: rising, it pends
        the exception; while high, a return from its handler pends it again (the handler
        must clear the device's interrupt status, as on the chip). Falling does not un-pend."""
        words, w, bit = self._level_w, exc >> 6, 1 << (exc & 63)
        was = int(words[w]) & bit
        words[w] = int(words[w]) | bit if high else int(words[w]) & ~bit
        if high and not was:
            self.set_pending(exc)

    def set_pending(self, exc: int, on: bool = True) -> None:
        if on:
            self.pend(1 << exc)
            return
        self.pending &= ~(1 << exc)
        self.update()

    def pend(self, bits: int) -> None:
        """Make the exceptions of ``bits`` pending (a device's line, NVIC_ISPR, ICSR): with
        SCR.SEVONPEND each that was not pending is a wake-up event for WFE, enabled or not
        (ARMv7-M B3.2.7; ARMv6-M the same)."""
        if bits & ~self.pending and self.scr & 0x10:  # SEVONPEND
            self.event_register = True
        self.pending |= bits
        self.update()

    # --- time -------------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Cycles since reset, sleep included: what SysTick counts."""
        return self.counter.cycles

    def advance_systick(self) -> None:
        """Account SysTick's wraps up to now: COUNTFLAG, and SysTick pending with TICKINT (in
        C, where the block hook does the same when the timer falls due)."""
        self.counter.advance_systick()

    def systick_value(self, at: int | None = None) -> int:
        """CVR at cycle ``at`` (default now): a load's own cycle, before the end of the block
        running now (its cycles are counted when it starts; a wrap between the two, accounted
        already, is taken back)."""
        st = self.systick
        if not st.enabled:
            return st.stopped_value
        self.advance_systick()
        if st.zero_at == NEVER:
            return 0
        # the wrap is accounted when it falls due, so 0 < distance <= period: the value that
        # follows a reload (or the enable from 0) within the same block reads as RVR
        distance = st.zero_at - (self.now if at is None else min(at, self.now))
        if distance > st.period:  # (a wrap after ``at``: the count before it)
            distance = (distance - 1) % st.period + 1
        return min(-(-distance // st.div), st.rvr)

    def systick_write(self, reg: int, value: int, at: int | None = None) -> None:
        """Writes to CSR (0), RVR (4), CVR (8) by a store ending at cycle ``at`` (default
        now), at or before the end of the block running now."""
        st = self.systick
        self.advance_systick()
        at = self.now if at is None else min(at, self.now)
        if reg == 0:
            was = st.enabled
            current = self.systick_value(at) if was else st.stopped_value
            st.csr = value & 7 | (0 if st.ref_div else 4)  # CLKSOURCE: RAO/WI without one
            changed = st.div_for(st.csr) != st.div
            self._c.st_div = st.div_for(st.csr)
            if st.enabled and (not was or changed):
                # counting resumes from CVR (at the clock now chosen); from 0 it reloads on the
                # next count
                st.zero_at = at + (current * st.div if current else st.period)
                if st.rvr == 0 and not current:
                    st.zero_at = NEVER
            elif was and not st.enabled:
                st.stopped_value = current
                st.zero_at = NEVER
        elif reg == 4:
            stopped = st.enabled and st.zero_at == NEVER  # at 0, held there by RVR 0
            st.rvr = value & 0xFFFFFF
            if stopped and st.rvr:  # reloaded on the next count (ARMv7-M B3.3.1)
                st.zero_at = at + st.period
        elif reg == 8:  # any write clears the counter (and COUNTFLAG); it reloads next cycle
            st.countflag = False
            if st.enabled:
                st.zero_at = at + st.period if st.rvr else NEVER
            else:
                st.stopped_value = 0
        self.update()

    def systick_csr(self) -> int:
        self.advance_systick()
        value = self.systick.csr | (0x10000 if self.systick.countflag else 0)
        self.systick.countflag = False  # COUNTFLAG clears on read
        return value

    # --- entry ------------------------------------------------------------------------------------
    def _on_event_c(self, address: int) -> int:
        """The native hook's call at a block boundary where a timer is due or an exception
        can preempt: 1 when an exception was taken here; 2 when device events ran and the
        hook may take what they pended itself (its fast path; it calls again if that does not
        apply); 0 otherwise."""
        try:
            if self._trace is None and self.device_at <= self.now:
                self.advance_systick()
                self._run_timers_held()
                # 0 once the run's end fired: the C hook would take a pending exception
                # after the end (the block here runs, then the run stops)
                return 0 if self.ended or self.halted else 2
            return self.on_event(address)
        except StackingError as exc:
            self.fault = (exc.kind, str(exc), address, exc.address, exc.access)
            self.counter.request_stop()
            return 0
        except Exception as exc:  # an exception must not unwind through Unicorn's C frames
            self.fault = ("hard_fault", f"exception model error: {exc!r}", address, None, None)
            self.counter.request_stop()
            return 0

    def on_event(self, address: int) -> int:
        """At the block boundary before ``address``: account timers, then take the pending
        exception if it can preempt. 1 when taken (the block at ``address`` does not run)."""
        self.advance_systick()
        self._run_timers()
        exc = self.best_pending()
        if (exc is None or self.ended or self.halted
                or self.group(exc) >= self.execution_priority()):
            self.update()
            return 0
        self._diverting = address
        try:
            self.enter(exc, address)
        finally:
            self._diverting = None
        return 1

    def enter(self, exc: int, return_address: int) -> None:
        """ExceptionEntry: push the frame on the current stack, switch to handler mode on the
        main stack, branch to the vector. ``return_address`` is where the interrupted code
        resumes (the frame's PC)."""
        regs = self.regs
        control, xpsr, sp, nzcv, *words = regs.read_many(_ENTRY_READ)
        ipsr = xpsr & 0x1FF
        fp = self.has_fpu and bool(control & 4)
        size = 0x20 + (4 * _FP_FRAME_EXTRA if fp else 0)
        aligned = self.v6m or bool(self.ccr & 0x200)  # CCR.STKALIGN: 8-byte aligned frames
        frame = (sp - size) & ~7 if aligned else sp - size
        forced = 0x200 if aligned and (sp - size) & 4 else 0  # xPSR bit 9: 4 bytes added
        data = struct.pack("<8I", *words, return_address & ~1, (xpsr & ~0x200) | forced)
        if fp:
            data += struct.pack("<18I", *regs.read_many(_FP_REGS), 0)
        refused = self.frame_guard(frame, size, sp, not ipsr and bool(control & 2)) if (
            self.frame_guard is not None) else None
        if refused is not None:
            if isinstance(refused, StackLimit) and self.on_derived is not None:
                # (UFSR.STKOF) SP at the limit
                self._derived_entry(exc, return_address, refused, USAGEFAULT, 1 << 20,
                                    refused.limit, "SP set to the limit", control=control,
                                    xpsr=xpsr, nzcv=nzcv, fp=fp)
                return
            raise refused
        if not self.write_mem(frame, data):
            # a bus error stacking the frame (outside SRAM: the simulator's own stack checks,
            # frame_guard's stack_overflow, come first): BusFault STKERR, SP lowered as if
            # the frame had been pushed; ARMv6-M: HardFault
            refused = StackingError(frame, message=(
                f"exception stacking failed: exception frame at 0x{frame:08x} lies outside "
                f"SRAM: {'HardFault' if self.v6m else 'BusFault STKERR'}"))
            if self.on_derived is None:
                raise refused
            self._derived_entry(exc, return_address, refused, BUSFAULT, 1 << 12, frame,
                                "SP lowered by the frame's size", control=control, xpsr=xpsr,
                                nzcv=nzcv, fp=fp)
            return
        self._to_handler(exc, frame, return_address, control=control, xpsr=xpsr, nzcv=nzcv,
                         fp=fp)

    def _to_handler(self, exc: int, frame: int, return_address: int, *, control: int,
                    xpsr: int, nzcv: int, fp: bool) -> None:
        """The end of an entry whose frame (if any) is at ``frame``: that stack pointer, handler
        mode on the main stack, the branch to ``exc``'s vector and the entry's cycles."""
        ipsr = xpsr & 0x1FF
        exc_return = self._exc_return(handler=bool(ipsr), psp=bool(control & 2), fp=fp)
        if not ipsr and self.trace is not None:  # the profiler keeps the thread's calls by it
            self.trace.append(("thread_out", frame, return_address & ~1))
        # CONTROL: FPCA and (ARMv8-M) SFPA cleared on entry; bit 3 is reserved before v8-M
        if not ipsr and control & 2:  # a thread on PSP: SPSEL=0 swaps SP to the MSP
            self._leave_thread_stack(frame)
            first: tuple[tuple[int, ...], list[int]] = (
                (R.UC_ARM_REG_PSP, R.UC_ARM_REG_CONTROL), [frame, control & ~0xE])
        else:
            self.counter.lower_min_sp(frame)
            first = ((R.UC_ARM_REG_SP, R.UC_ARM_REG_CONTROL), [frame, control & ~0xC])
        self._branch_to_handler(exc, exc_return, first, nzcv, xpsr)
        self.counter.add_cycles(self.entry_cycles)

    def _derived_entry(self, exc: int, return_address: int, refused: StackingError,
                       fault: int, cfsr_bit: int, sp: int, sp_note: str, *, control: int,
                       xpsr: int, nzcv: int, fp: bool) -> None:
        """A derived exception of the entry of ``exc`` (--vector-faults): the frame could not
        be stacked (``refused``), nothing of it is written, the stack pointer becomes ``sp``
        (``sp_note`` says how, for the report), the CFSR bit ``cfsr_bit`` is set and ``fault``
        (a configurable fault) becomes pending: escalated to HardFault (HFSR.FORCED) when
        disabled or not above the preempted context's priority; on ARMv6-M it is HardFault,
        no status bit. Then, as a late arrival, whichever of it and ``exc`` comes first is
        taken and the other stays pending. Raises ``refused`` (the run stops) when even
        HardFault cannot be taken: lockup.

        ARMv8-M PushStack below MSPLIM/PSPLIM (UsageFault, UFSR.STKOF, ``sp`` the limit): the
        architecture forbids the writes below the limit; whether those above it are made is
        IMPLEMENTATION DEFINED, the Cortex-M33 TRM does not say: none here. A bus error while
        stacking (BusFault, BFSR.STKERR, BFAR not valid, ``sp`` the frame's address: SP is
        still lowered): which words reach memory is IMPLEMENTATION DEFINED: none here."""
        preempted = self.execution_priority()
        derived = fault
        if self.v6m:
            derived, cfsr_bit = HARDFAULT, 0
        elif (not self.shcsr_enables >> (fault - MEMMANAGE + 16) & 1
              or self.group(fault) >= preempted):
            derived = HARDFAULT
        if derived == HARDFAULT and preempted <= -1:
            refused.args = (f"{refused} (in the HardFault handler or with FAULTMASK set: "
                            "lockup)",)
            raise refused
        self.cfsr |= cfsr_bit
        if derived == HARDFAULT and not self.v6m:
            self.hfsr |= 1 << 30  # FORCED

        def order(e: int) -> tuple[int, int, int]:
            return self.group(e), int(self.prio[e]), e

        taken = derived if order(derived) < order(exc) else exc
        self.pending |= 1 << derived  # (``exc`` is pending already)
        self._to_handler(taken, sp, return_address, control=control, xpsr=xpsr, nzcv=nzcv,
                         fp=fp)
        assert self.on_derived is not None
        self.on_derived(refused, f"a derived exception of the entry ({sp_note}, nothing "
                        "stacked)", return_address, exc, derived, taken)

    def _exc_return(self, *, handler: bool, psp: bool, fp: bool) -> int:
        """EXC_RETURN for the interrupted context. ARMv8-M without the Security Extension:
        DCRS set, S and ES clear (0xFFFFFFBC for thread mode on PSP, no FP frame)."""
        if self.v8m:
            value = 0xFFFFFFA0 | (0 if handler else 0x08 | (0x04 if psp else 0))
        else:
            value = 0xFFFFFFE1 if handler else 0xFFFFFFE9 | (0x04 if psp else 0)
        return value | (0 if fp else 0x10)

    def _branch_to_handler(self, exc: int, exc_return: int,
                           first: tuple[tuple[int, ...], list[int]] = ((), []),
                           nzcv: int | None = None, xpsr: int | None = None) -> None:
        """Handler mode for ``exc``: xPSR with IPSR = ``exc`` and the IT state cleared, LR =
        ``exc_return``, PC = its vector; the registers in ``first`` are written before (in one
        call with the rest)."""
        table = self.vector_table
        if table is not None and self.vtor in (table[1], self.vector_alias) and exc >= table[2]:
            raise StackingError(None, access=None, kind="missing_vector", message=(
                f"{exception_name(exc)} (exception {exc}) was taken, but the vector table "
                f"({table[0]}, {table[2]} entries at 0x{table[1]:08x}) ends before its entry: "
                "the chip would branch to whatever word follows the table"))
        vector = self.read_mem(self.vtor + 4 * exc, 4)
        if vector is None:  # (HardFault's vector, in the same table, would fail too)
            at = self.vtor + 4 * exc
            raise StackingError(at, access="read", message=(
                f"vector fetch failed: the vector of {exception_name(exc)} at 0x{at:08x} "
                f"(VTOR 0x{self.vtor:08x}) lies outside flash and SRAM "
                f"({'HardFault' if self.v6m else 'HardFault VECTTBL, HFSR bit 1,'} on the chip)"))
        handler = struct.unpack("<I", vector)[0]
        self.counter.clear_exclusive()  # ClearExclusiveLocal (sim/exclusive.py)
        self.pending &= ~(1 << exc)
        self.active |= 1 << exc
        self.counter.handler_enter(exc)
        if self.trace is not None:
            self.trace.append(("enter", handler & ~1, self._diverting))
        if nzcv is None or xpsr is None:
            nzcv, xpsr = self.regs.read_many((R.UC_ARM_REG_APSR_NZCV, R.UC_ARM_REG_XPSR))
        # writing APSR (an MSR) after xPSR rebuilds Unicorn's cached flags: handler mode
        ids, values = first
        new_xpsr = (xpsr & 0xF80F0000) | (1 << 24) | exc  # flags, Q, GE kept; IT cleared
        self.regs.write_many(ids + _HANDLER_WRITE, [*values, new_xpsr, exc_return, nzcv])
        self.jump(handler | 1)
        self.counter.branch_to(handler)
        self.update()

    def jump(self, pc: int) -> None:
        """PC written, for a branch the core makes. In a block hook, alone: a PC written in a
        batch does not end the block Unicorn is running. In the interrupt hook (no block
        runs), in a batch: Unicorn 2.1.4's single PC write there leaves every later memory
        hook of the emu_start with the PC of its block's start, so a fault mid-block was
        reported and stacked there (s53 review H1); its batch write, which the native hook
        uses too, does not."""
        if self.in_interrupt_hook:
            self.regs.write_many((R.UC_ARM_REG_PC,), [pc])
        else:
            self.regs.write(R.UC_ARM_REG_PC, pc)

    # --- return -----------------------------------------------------------------------------------
    def exception_return(self, exc_return: int) -> None:
        """ExceptionReturn for a `bx`/`pop`/`ldr` of EXC_RETURN into PC in handler mode: the
        handler's exception becomes inactive, then either the best pending exception that can
        preempt the returned-to context is tail-chained, or the frame is popped."""
        regs = self.regs
        ipsr, control, psp, msp = regs.read_many(_RETURN_READ)
        self.counter.clear_exclusive()  # ClearExclusiveLocal (sim/exclusive.py)
        self.active &= ~(1 << ipsr)
        if int(self._level_w[ipsr >> 6]) >> (ipsr & 63) & 1:  # a line still high: pends again
            self.pending |= 1 << ipsr
        if self.trace is not None:
            self.trace.append(("return", None, None))
        self.event_register = True  # an exception return is an event for WFE
        if ipsr != NMI and not self.v6m:  # DeActivate clears FAULTMASK (ARMv7-M B1.5.8)
            regs.write(R.UC_ARM_REG_FAULTMASK, 0)
        invpc = "HardFault: UsageFault INVPC on ARMv7-M" if self.v6m else "UsageFault INVPC"
        if not valid_exc_return(exc_return, self.v8m, self.has_fpu):
            raise self._invalid_return(ipsr, f"branch to 0x{exc_return:08x} in "
                                       f"{exception_name(ipsr)}: not a valid exception return "
                                       f"({invpc}){self._v7m_exc_return_note(exc_return)}")
        to_thread = bool(exc_return & 8)
        if to_thread and self.active and not (self.ccr & 1):
            raise self._invalid_return(ipsr, "return to thread mode with exceptions still "
                                       "active (CCR.NONBASETHRDENA clear): UsageFault INVPC")
        if not to_thread and not self.active:  # (ARMv6-M: UNPREDICTABLE)
            raise self._invalid_return(ipsr, "return to handler mode (EXC_RETURN "
                                       f"0x{exc_return:08x}) from the only active exception: "
                                       f"{invpc}")
        self.advance_systick()
        exc = self.best_pending()
        if exc is not None and self.group(exc) < self.execution_priority():
            self.counter.handler_close(ipsr)
            self._c.tail_chained += 1
            self._branch_to_handler(exc, exc_return)
            self.counter.add_cycles(_TAIL_CHAIN)
            return
        use_psp = to_thread and bool(exc_return & 4)
        fp = not exc_return & 0x10
        frame = psp if use_psp else msp
        size = 0x20 + (4 * _FP_FRAME_EXTRA if fp else 0)
        data = self.read_mem(frame, size)
        if data is None:
            raise StackingError(frame, "exception frame (return)", access="read")
        words = list(struct.unpack_from("<8I", data))
        pc, xpsr = words[6], words[7]
        if bool(xpsr & 0x1FF) == to_thread:  # the frame's IPSR must say where it returns
            raise self._invalid_return(  # (the chip pops the frame, then pushes it back)
                ipsr, f"the exception frame at 0x{frame:08x} holds IPSR {xpsr & 0x1FF} for a "
                f"return to {'thread' if to_thread else 'handler'} mode: {invpc}")
        new_sp = frame + size + (4 if xpsr & 0x200 else 0)
        # IPSR from the frame (0 in thread mode, else the preempted handler's number), then
        # CONTROL: SPSEL written in thread mode swaps SP to the PSP; FPCA from EXC_RETURN
        ipsr_new = 0 if to_thread else xpsr & 0x1FF
        new_control = (control & ~0x6) | (2 if use_psp else 0) | (4 if fp else 0)
        if not to_thread:
            new_control = (control & ~0x4) | (4 if fp else 0)
        ids: tuple[int, ...] = (R.UC_ARM_REG_XPSR, R.UC_ARM_REG_CONTROL, R.UC_ARM_REG_SP,
                                *_FRAME_REGS)
        # EPSR.T from the frame: a frame with it clear (a hand-made task frame whose xPSR is
        # 0) returns into INVSTATE at the stacked PC, as on the chip
        thumb = xpsr >> 24 & 1
        values = [(xpsr & ~0x3FF) | ipsr_new, new_control, new_sp, *words[:6]]
        if fp:
            ids += _FP_REGS[:17]
            values += list(struct.unpack_from("<17I", data, 0x20))
        regs.write_many(ids, values)
        # the frame's Q and GE[3:0] (Unicorn's XPSR write leaves GE as it was), then an MSR of
        # the flags after the XPSR write rebuilds Unicorn's cached flags; then the branch
        regs.write(R.UC_ARM_REG_APSR_NZCVQG, xpsr & (0xF80F0000 if self.dsp else 0xF8000000))
        regs.write(R.UC_ARM_REG_APSR_NZCV, regs.read(R.UC_ARM_REG_APSR_NZCV))
        self.jump(pc & ~1 | thumb)  # (bit 0 sets Unicorn's Thumb state)
        if to_thread and self.trace is not None:  # the thread whose frame this was resumes
            self.trace.append(("thread_in", frame, pc & ~1))
        if use_psp:
            self._enter_thread_stack(new_sp)
        else:
            self.counter.set_thread_stack(False)
        self.counter.branch_to(pc)
        self.counter.add_cycles(self.entry_cycles)
        self.counter.handler_close(ipsr)  # (its return's latency the handler's)
        self.update()

    # --- thread stacks ----------------------------------------------------------------------------
    @property
    def thread_peaks(self) -> dict[str, int]:
        """Thread stack (its object's name) -> peak bytes, as of each thread's last preemption."""
        return self.counter.thread_peaks(THREAD_STACK_UNKNOWN)

    def _enter_thread_stack(self, sp: int) -> None:
        """Thread mode resumes on PSP at ``sp``: the native hook tracks it apart from the main
        stack, and stops a block that would take it below its object's start."""
        self.counter.enter_thread_stack(sp)

    def _leave_thread_stack(self, frame: int) -> None:
        """An exception preempts a thread on PSP; its frame ends at ``frame``: record the
        thread's stack peak (its object's end minus the lowest address touched; in no object,
        a lower bound from where the thread was switched in)."""
        self.counter.leave_thread_stack(frame)

    # --- synchronous exceptions -----------------------------------------------------------------
    def svc(self, return_address: int) -> bool:
        """SVC: taken at once when SVCall's priority is above the execution priority; False
        otherwise (the architecture escalates to HardFault)."""
        if self.group(SVCALL) >= self.execution_priority():
            return False
        self.pending |= 1 << SVCALL
        self.enter(SVCALL, return_address)
        return True

    def fault_entry(self, exc: int, return_address: int) -> bool:
        """A synchronous fault delivered to the firmware's handler (--vector-faults):
        escalated to HardFault when its handler is disabled or cannot preempt; False when
        even HardFault cannot be taken (lockup)."""
        taken = self._fault_taken_as(exc)
        if taken is None:
            return False
        self.pending |= 1 << taken
        self.enter(taken, return_address)
        return True

    def _fault_taken_as(self, exc: int) -> int | None:
        """The exception a synchronous fault ``exc`` is taken as: itself, or HardFault (HFSR
        FORCED) when its handler is disabled or cannot preempt; None when even HardFault
        cannot be taken (lockup)."""
        prio = self.execution_priority()
        if exc in (MEMMANAGE, BUSFAULT, USAGEFAULT):
            enabled = self.shcsr_enables >> (exc - MEMMANAGE + 16) & 1
            if not enabled or self.group(exc) >= prio:
                self.hfsr |= 1 << 30  # FORCED
                exc = HARDFAULT
        return None if exc == HARDFAULT and prio <= -1 else exc

    def _v7m_exc_return_note(self, exc_return: int) -> str:
        """ARMv8-M: for an ARMv7-M EXC_RETURN (S and ES set, as an ARMv7-M RTOS port such as
        FreeRTOS's ARM_CM4F hard-codes 0xFFFFFFFD), the value this core returns with."""
        if not self.v8m or not valid_exc_return(exc_return, v8m=False, fpu=self.has_fpu):
            return ""
        v8m = exc_return & ~0x41  # S and ES clear (no Security Extension), DCRS kept set
        return (f": 0x{exc_return:08x} is an ARMv7-M value; an ARMv8-M core without the "
                f"Security Extension returns with 0x{v8m:08x} (FreeRTOS: use the ARM_CM33_NTZ "
                "port, not an ARMv7-M one)")

    def _invalid_return(self, ipsr: int, message: str) -> InvalidReturn:
        """The InvalidReturn of a return from ``ipsr``'s handler, which has ended (deactivated,
        its cycles closed)."""
        self.counter.handler_close(ipsr)
        return InvalidReturn(message)

    def invalid_return_fault(self, exc_return: int) -> bool:
        """--vector-faults, after exception_return raised InvalidReturn: UFSR.INVPC set and
        UsageFault taken as ExceptionReturn takes it (ARMv7-M B1.5.8; ARMv8-M likewise): no
        frame pushed (the one returned to stays on its stack), LR = the EXC_RETURN; escalated
        to HardFault (HFSR.FORCED) when UsageFault is disabled or cannot preempt what is still
        active. False when even HardFault cannot be taken (lockup)."""
        assert not self.v6m, "ARMv6-M: UNPREDICTABLE, not delivered"
        self.cfsr |= 1 << 18  # INVPC
        exc = self._fault_taken_as(USAGEFAULT)
        if exc is None:
            return False
        self.pending |= 1 << exc
        self._branch_to_handler(exc, exc_return)
        self.counter.add_cycles(_TAIL_CHAIN)
        return True

    # --- sleep ------------------------------------------------------------------------------------
    def wake_pending(self, wfe: bool = False) -> bool:
        """Whether a pending exception wakes the core: for WFI one that could preempt but for
        PRIMASK (ARMv7-M B1.5.19: it wakes, then is taken once PRIMASK clears); for WFE only
        one that can preempt now, PRIMASK and FAULTMASK included (SEVONPEND aside: that is
        the event register)."""
        exc = self.best_pending()
        if exc is None:
            return False
        return self.group(exc) < self._wake_priority(wfe)

    def _wake_priority(self, wfe: bool) -> int:
        """The priority a pending exception's group must beat to wake the core (wake_pending):
        for WFE the execution priority, for WFI that without PRIMASK."""
        if wfe:
            return self.execution_priority()
        prio = self.active_priority()
        if not self.v6m:
            prio = self._basepri_boost(prio, self.regs.read(R.UC_ARM_REG_BASEPRI))
        return prio

    def irq_wakes(self, irq: int) -> bool:
        """For a device's set_timer predicate, asked by sleep(): whether external interrupt
        ``irq`` becoming pending could wake the core from the sleep under way. The NVIC's
        enables and priorities, PRIMASK, BASEPRI and SCR cannot change while the core sleeps
        (only the core writes them), so sleep() notes once what a pend must beat: the line
        enabled with a group priority that beats it (as wake_pending has it: for WFI PRIMASK
        aside), or, for WFE under SCR.SEVONPEND, the IRQ not pending already (its pend is an
        event, enabled or not). In the part's Stand-by (the core off) none does."""
        if not self._wake_interrupts or not 0 <= irq < self.irqs:
            return False
        exc = IRQ0 + irq
        if self.enabled >> exc & 1 and self.group(exc) < self._wake_prio:
            return True
        return self._wake_wfe and bool(self.scr & 0x10) and not self.pending >> exc & 1

    def _basepri_boost(self, prio: int, basepri: int) -> int:
        """``prio`` lowered by BASEPRI: only the part's implemented priority bits are held,
        and the register is judged non-zero before its subpriority bits are dropped
        (ExecutionPriority: with PRIGROUP 7 any non-zero BASEPRI masks every exception with
        a configurable priority)."""
        basepri &= self.prio_mask
        return min(prio, basepri & self.group_mask) if basepri else prio

    def wake_now(self) -> None:
        """End the sleep under way at once: a device's event in it reset the part."""
        self._wake_now = True

    def sleep(self, wfe: bool = False, interrupts: bool = True) -> bool:
        """WFI (or, ``wfe``, WFE with no event): fast-forward to the next event that wakes the
        core (a SysTick interrupt, a device event; for WFE also the event register, which a
        pended interrupt sets under SCR.SEVONPEND, consumed), counting the cycles as sleep;
        no further than the run's end (end_at), where it returns True and the run stops.
        False when nothing ever can: deadlock (a device's event can as set_timer's ``wakes``
        says, a predicate asked afresh each time it matters). Without ``interrupts`` (the
        part's Stand-by mode: the core is off) only wake_now() ends it. After _SLEEP_EVENTS
        events that do not wake it, it returns True with ``dozing`` set: the caller checks
        its limits (wall time, Ctrl-C) and sleeps on; the core does not wake for them."""
        self.dozing = False
        self._wake_wfe, self._wake_interrupts = wfe, interrupts  # (irq_wakes: frozen while
        self._wake_prio = self._wake_priority(wfe)  # the core sleeps)
        if self._spin_since is None:
            self._spin_since = self.now
        for _ in range(_SLEEP_EVENTS):
            if self._wake_now:
                self._wake_now = False
                self._awake()
                return True
            if interrupts and self.wake_pending(wfe):
                self._awake()
                return True
            if wfe and interrupts and self.event_register:
                self.event_register = False
                self._awake()
                return True
            if self.now >= self._end:
                self._run_timers_held()  # the end's event among them: the run stops here
                self._watch_spin()
                return True
            st = self.systick
            at = min((at for owner, (at, _) in self._timers.items() if owner is not _END_OWNER),
                     default=NEVER)
            ticking = st.enabled and st.csr & 2 and not self.pending >> SYSTICK & 1
            if ticking:
                at = min(at, st.zero_at)
            if at == NEVER or (not ticking and not self._may_wake()):
                self._awake()
                return False  # (nothing to come, or only events that wake nothing)
            at = min(at, self._end)
            skip = max(0, at - self.now)
            self.counter.add_cycles(skip)
            self.sleep_cycles += skip
            self.advance_systick()
            self._count_spin()
            self._run_timers_held()
        self.dozing = True  # events that do not wake it: asleep still, the caller looks
        self._watch_spin()
        return True

    def _may_wake(self) -> bool:
        """Whether an owner's event to come may wake the core (set_timer's ``wakes``): one
        registered waking, else one whose predicate says so now."""
        asks = []
        for owner in self._timers:
            if owner is _END_OWNER or owner in self._quiet:
                continue
            ask = self._asks.get(owner)
            if ask is None:
                return True
            asks.append(ask)
        return any(ask() for ask in asks)

    # --- spins: one sleep running waking events that wake nothing (a warning) -------------------
    def watch_spins(self, warn: Callable[[str], None], seconds_at: Callable[[int], float]) -> None:
        """Warn (once a run) through ``warn`` when one sleep (WFIs and WFEs joined by the
        returns of dozing) has run SPIN_EVENTS device events that may wake it, or
        SPIN_SECONDS of device time (``seconds_at(cycle)``) through one or more of those events,
        with nothing becoming pending that wakes the core: a wake-up that may never come (a
        device's event waking in the model that cannot on the part), or a long legitimate
        sleep. Looked at every _SLEEP_EVENTS
        events and at the run's end (end_at); never changes how the run ends."""
        self._spin_warn, self._spin_seconds = warn, seconds_at

    def _awake(self) -> None:
        """The sleep ended (woken, or a deadlock): a new one counts from nothing."""
        self._spin_since = None
        if self._spin_events:
            self._spin_events.clear()

    def _count_spin(self) -> None:
        """The events about to run in a sleep that may wake the core (_watch_spin): registered
        waking, or whose predicate says so now (an ADC streaming into a DMA buffer with its
        interrupt off is known not to: not counted)."""
        now, counts = self.now, self._spin_events
        for owner, (at, event) in self._timers.items():
            if at <= now and owner is not _END_OWNER and owner not in self._quiet:
                ask = self._asks.get(owner)
                if ask is not None and not ask():
                    continue
                name = _owner_name(owner, event)
                counts[name] = counts.get(name, 0) + 1

    def quiet_owners(self) -> list[str]:
        """The devices with an event to come whose interrupt cannot wake the core (asked at the
        sleep: NVIC enables and priorities), for a deadlock's message."""
        names = {_owner_name(owner, event) for owner, (at, event) in self._timers.items()
                 if owner is not _END_OWNER and at != NEVER
                 and owner in self._asks}
        return sorted(names)

    def _watch_spin(self) -> None:
        """The warning, when the sleep under way has passed a limit (watch_spins)."""
        warn, seconds_at, since = self._spin_warn, self._spin_seconds, self._spin_since
        if warn is None or seconds_at is None or since is None or self._spin_warned:
            return
        events = sum(self._spin_events.values())
        seconds = seconds_at(self.now) - seconds_at(since)
        if events < SPIN_EVENTS and (seconds < SPIN_SECONDS or not events):
            return  # (an hour asleep through no such event: a long sleep, an RTC's 90 min)
        self._spin_warned = True
        ranked = sorted(self._spin_events.items(), key=lambda item: -item[1])[:3]
        owners = ", ".join(f"{name} ({count:,})" for name, count in ranked) or "none"
        warn(f"the core has slept {seconds:,.1f} s of device time through {events:,} device "
             f"events that may wake it (most from {owners}) with nothing pending to wake it: "
             "if it should have woken, can what they raise reach it (NVIC enables and "
             "priorities; for WFE, SCR.SEVONPEND or an EXTI event line)? (a warning: the run "
             "goes on)")

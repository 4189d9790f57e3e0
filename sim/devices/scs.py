"""The System Control Space (0xE000E000, 4 KiB): SysTick, the NVIC and the SCB.

The state behind these registers (pending, enabled, active, priorities, PRIGROUP, VTOR, SysTick)
lives in the exception model (sim/exceptions.py), which the run's core uses to take
exceptions; this device is its register view. Modelled (offsets from 0xE000E000):

- ICTR 0x004 (read-only: the target's interrupt lines), ACTLR 0x008 (reads back).
- SysTick: CSR 0x010 (ENABLE, TICKINT, CLKSOURCE, COUNTFLAG cleared on read), RVR 0x014,
  CVR 0x018 (derived from the cycle count; a write clears it), CALIB 0x01C (SKEW, no TENMS;
  NOREF on a part without a reference clock, whose CLKSOURCE then reads as 1; the STM32s'
  reference is HCLK / 8: ``Target.systick_ref_div``).
- NVIC: ISER 0x100, ICER 0x180, ISPR 0x200, ICPR 0x280, IABR 0x300 (one bit per IRQ, 32 per
  word), IPR 0x400 (a byte per IRQ, the part's implemented priority bits), STIR 0xF00.
- SCB: CPUID 0xD00, ICSR 0xD04, VTOR 0xD08, AIRCR 0xD0C (VECTKEY, PRIGROUP, SYSRESETREQ stops
  the run as a reset), SCR 0xD10, CCR 0xD14, SHPR1-3 0xD18-0xD23, SHCSR 0xD24, CFSR 0xD28 (write
  one to clear), HFSR 0xD2C, MMFAR 0xD34, BFAR 0xD38, CPACR 0xD88 (the FPU's enable: the host
  stops before an FP instruction while CP10/CP11 are not granted), DEMCR 0xDFC (TRCENA gates the
  DWT and the ITM), MVFR0-2 0xF40-0xF48 on FPU cores (read-only: the core's FPU features),
  FPCCR 0xF34 on FPU cores (ASPEN and LSPEN read back, from reset value
  0xC0000000; frames are stacked eagerly, so clearing ASPEN is listed as unmodelled).

Every other offset reads back what was last written (0 after reset) and is listed in the report
as unmodelled; ``--strict-peripherals`` makes an access to one a fault. A write to CCR passes
its DIV_0_TRP bit to the host: SDIV/UDIV by zero then fault (UsageFault DIVBYZERO) instead of
returning 0; and on ARMv7-M/v8-M its UNALIGN_TRP bit: unaligned word and halfword LDR/STR then
fault (UsageFault UNALIGNED).
"""

from sim.devices import Device, lane
from sim.exceptions import (
    BUSFAULT,
    DEBUGMON,
    HARDFAULT,
    IRQ0,
    MEMMANAGE,
    NMI,
    PENDSV,
    SVCALL,
    SYSTICK,
    USAGEFAULT,
    ExceptionModel,
)
from toolchain.memory_map import SCS_BASE, SCS_SIZE

CPACR = 0xE000_ED88
CCR_DIV_0_TRP = 1 << 4
CCR_UNALIGN_TRP = 1 << 3
DEMCR = 0xE000_EDFC

# CPUID as QEMU's models report it (the revisions Arm's TRMs name for these cores)
CPUID = {"cortex-m0plus": 0x410CC601, "cortex-m3": 0x410FC231, "cortex-m4": 0x410FC241,
         "cortex-m7": 0x411FC272, "cortex-m33": 0x410FD213}

_SHCSR_ACTIVE = {MEMMANAGE: 0, BUSFAULT: 1, USAGEFAULT: 3, SVCALL: 7, DEBUGMON: 8, PENDSV: 10,
                 SYSTICK: 11}
_SHCSR_PENDED = {USAGEFAULT: 12, MEMMANAGE: 13, BUSFAULT: 14, SVCALL: 15}

# registers ARMv6-M does not have (ICTR, IABR, the fault status and address registers, STIR):
# read as zero, writes ignored there; of SHCSR it has only SVCALLPENDED, of SHPR1 nothing
_NOT_V6M = {0x004, 0x300, 0xD28, 0xD2C, 0xD34, 0xD38, 0xF00}
_V6M_SHCSR = 1 << 15

# VTOR's TBLOFF as each core implements it: bits 29:7 on the Cortex-M3 (r2p1) and M4 (their
# TRMs: bit 29 chose code or SRAM), 31:8 on the STM32L0's Cortex-M0+ (PM0223); 31:7 else
_VTOR_BITS = {"cortex-m3": 0x3FFFFF80, "cortex-m4": 0x3FFFFF80, "cortex-m0plus": 0xFFFFFF00}
# The FPU's feature registers MVFR0-2 (0xF40-0xF48) as each core's single-precision FPU reads
# them (QEMU's values for the M4 and M33; the M7's with FPv5-SP: no double precision, FPDP and
# FPHP's double conversions 0), so CMSIS SCB_GetFPUType() finds the FPU; MVFR2 only on the M7
# and ARMv8-M. A core without an FPU fitted has none of them.
_MVFR = {"cortex-m4": (0x10110021, 0x11000011), "cortex-m7": (0x10110021, 0x11000011, 0x40),
         "cortex-m33": (0x10110021, 0x11000011, 0x40)}
# offsets of registers modelled (everything else is unmodelled)
_WORD_REGS = {0x004, 0x008, 0x010, 0x014, 0x018, 0x01C, 0xD00, 0xD04, 0xD08, 0xD0C, 0xD10,
              0xD14, 0xD24, 0xD28, 0xD2C, 0xD34, 0xD38, 0xD88, 0xDFC, 0xF00}


class SystemControlSpace(Device):
    name = "scs"
    base = SCS_BASE
    size = SCS_SIZE

    def reset(self) -> None:
        self._regs: dict[int, int] = {}
        self.fpccr = 0xC0000000  # ASPEN and LSPEN, as at reset
        self.cpacr = 0
        self.demcr = 0
        self.actlr = 0
        self._update_fpu()

    def system_reset(self, cause: str) -> None:
        """DEMCR is the debug unit's, reset at power-on only (and off in Stand-by)."""
        demcr = self.demcr
        self.reset()
        if cause != "standby":
            self.demcr = demcr

    @property
    def _model(self) -> ExceptionModel:
        return self.host.exceptions

    @property
    def _irq_words(self) -> int:
        return (self._model.irqs + 31) // 32

    def _known(self, offset: int) -> bool:
        word = offset & ~3
        if word in _WORD_REGS:
            return True
        if word == 0xF34:  # FPCCR, on a core with an FPU
            return self._model.has_fpu
        if 0xF40 <= word < 0xF4C:  # MVFR0-2, read-only
            return self._model.has_fpu and (word - 0xF40) // 4 < len(
                _MVFR.get(self._model.core.name, ()))
        if 0xD18 <= word < 0xD24:  # SHPR1-3
            return True
        for base in (0x100, 0x180, 0x200, 0x280, 0x300):
            if base <= word < base + 4 * self._irq_words:
                return True
        return 0x400 <= word < 0x400 + self._model.irqs + (-self._model.irqs % 4)

    # --- access -------------------------------------------------------------------------------
    def _refused(self, offset: int, size: int, value: int | None) -> bool:
        """Unprivileged code (thread mode with CONTROL.nPRIV set) may not touch the SCS (but
        STIR, with CCR.USERSETMPEND): the chip takes a precise BusFault."""
        if not self.host.unprivileged():
            return False
        if offset & ~3 == 0xF00 and value is not None and self._model.ccr & 2:
            return False
        self.host.bus_fault(self, offset, size, value,
                            "unprivileged access (thread mode, CONTROL.nPRIV set) to the "
                            "System Control Space")
        return True

    def read(self, offset: int, size: int) -> int:
        if self._refused(offset, size, None):
            return 0
        if not self._known(offset):
            self.host.unmodelled(self, offset, size, None, _unmodelled_why(offset))
            return self._merged_read(offset, size)
        if self._byte_priority(offset):
            self._narrow_priority(offset, size, None)
            return sum(self._priority_byte(offset + i) << (8 * i) for i in range(size))
        shift = 8 * (offset & 3)
        mask = (1 << (8 * size)) - 1
        return (self._read_word(offset & ~3) >> shift) & mask

    def write(self, offset: int, size: int, value: int) -> None:
        if self._refused(offset, size, value):
            return
        if not self._known(offset):
            self.host.unmodelled(self, offset, size, value, _unmodelled_why(offset))
            self._merged_write(offset, size, value)
            return
        if self._byte_priority(offset):
            self._narrow_priority(offset, size, value)
            for i in range(size):
                self._set_priority_byte(offset + i, value >> (8 * i) & 0xFF)
            self._model.update()
            return
        word = offset & ~3
        if size < 4:  # a narrower store: merge into the current value
            shift = 8 * (offset & 3)
            mask = ((1 << (8 * size)) - 1) << shift
            current = self._read_word(word) if word not in (0xD04, 0xF00, 0xD28) else 0
            value = (current & ~mask) | (value << shift & mask)
        self._write_word(word, value & 0xFFFFFFFF)

    def _merged_read(self, offset: int, size: int) -> int:
        word = self._regs.get(offset & ~3, 0)
        return lane(word, offset, size)

    def _merged_write(self, offset: int, size: int, value: int) -> None:
        shift = 8 * (offset & 3)
        mask = ((1 << (8 * size)) - 1) << shift
        word = offset & ~3
        self._regs[word] = (self._regs.get(word, 0) & ~mask) | (value << shift & mask)

    # --- priorities (byte-addressable) --------------------------------------------------------
    def _narrow_priority(self, offset: int, size: int, value: int | None) -> None:
        """ARMv6-M's NVIC_IPR and SHPR2/3 are word-accessible only (ARMv6-M B3.4.7, B3.2.8): a
        byte or halfword access (v7-M code, CMSIS's byte-wise NVIC_SetPriority of an ARMv7-M
        build) is UNPREDICTABLE on the part. Carried out as bytes, and listed."""
        if self._model.v6m and size < 4:
            self.host.unmodelled(self, offset, size, value,
                                 "ARMv6-M allows word accesses only (UNPREDICTABLE)")

    def _byte_priority(self, offset: int) -> bool:
        return 0x400 <= offset < 0x400 + 4 * ((self._model.irqs + 3) // 4) or \
            0xD18 <= offset < 0xD24

    def _exception_at(self, offset: int) -> int | None:
        if offset >= 0xD18 and offset < 0xD24:
            exc = offset - 0xD18 + 4
            ours = (SVCALL, PENDSV, SYSTICK) if self._model.v6m else (
                MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, DEBUGMON, PENDSV, SYSTICK)
            return exc if exc in ours else None
        irq = offset - 0x400
        return IRQ0 + irq if irq < self._model.irqs else None

    def _priority_byte(self, offset: int) -> int:
        exc = self._exception_at(offset)
        return 0 if exc is None else int(self._model.prio[exc])

    def _set_priority_byte(self, offset: int, value: int) -> None:
        exc = self._exception_at(offset)
        if exc is not None:
            self._model.prio[exc] = value & self._model.prio_mask

    # --- word registers -----------------------------------------------------------------------
    def _bank(self, word: int) -> tuple[int, int] | None:
        """(bank base, index of the 32-IRQ word) for the NVIC's bit registers."""
        for base in (0x100, 0x180, 0x200, 0x280, 0x300):
            if base <= word < base + 4 * self._irq_words:
                return base, (word - base) // 4
        return None

    def _read_word(self, word: int) -> int:
        m = self._model
        if m.v6m and word in _NOT_V6M:
            return 0
        bank = self._bank(word)
        if bank is not None:
            base, index = bank
            bits = {0x100: m.enabled, 0x180: m.enabled, 0x200: m.pending, 0x280: m.pending,
                    0x300: m.active}[base]
            return (bits >> (IRQ0 + 32 * index)) & 0xFFFFFFFF & self._irq_mask(index)
        if word == 0x004:
            return self._irq_words - 1
        if word == 0x008:
            return self.actlr
        if word == 0x010:
            return m.systick_csr()
        if word == 0x014:
            return m.systick.rvr
        if word == 0x018:
            return m.systick_value(self.host.store_cycle())  # (at the load's own cycle)
        if word == 0x01C:  # SKEW, TENMS 0: no calibration value; NOREF without a reference
            return 0x40000000 if m.systick.ref_div else 0xC0000000
        if word == 0xD00:
            return CPUID.get(m.core.name, 0)
        if 0xF40 <= word < 0xF4C:
            return _MVFR[m.core.name][(word - 0xF40) // 4]
        if word == 0xD04:
            return self._icsr()
        if word == 0xD08:
            return m.vtor
        if word == 0xD0C:
            return 0xFA050000 | (m.prigroup << 8)
        if word == 0xD10:
            return m.scr
        if word == 0xD14:
            return m.ccr
        if word == 0xD24:
            return self._shcsr()
        if word == 0xD28:
            return m.cfsr
        if word == 0xD2C:
            return m.hfsr
        if word == 0xD34:
            return m.mmfar
        if word == 0xD38:
            return m.bfar
        if word == 0xD88:
            return self.cpacr
        if word == 0xDFC:
            return self.demcr
        if word == 0xF34:
            return self.fpccr
        return 0  # STIR reads as 0

    def _irq_mask(self, index: int) -> int:
        lines = self._model.irqs - 32 * index
        return 0xFFFFFFFF if lines >= 32 else (1 << lines) - 1

    def _write_word(self, word: int, value: int) -> None:
        m = self._model
        bank = self._bank(word)
        if bank is not None:
            base, index = bank
            bits = (value & self._irq_mask(index)) << (IRQ0 + 32 * index)
            if base == 0x100:
                m.enabled |= bits
            elif base == 0x180:
                m.enabled &= ~bits
            elif base == 0x200:
                m.pend(bits)
            elif base == 0x280:  # a line held high (and not active) pends again at once
                m.pending = m.pending & ~bits | m.levels & bits & ~m.active
            m.update()  # IABR (0x300) is read-only
            return
        if word == 0x008:
            self.actlr = value
        elif word in (0x010, 0x014, 0x018):
            m.systick_write(word - 0x010, value, self.host.store_cycle())  # (the store's)
        elif word == 0xD04:
            self._write_icsr(value)
        elif word == 0xD08:  # TBLOFF: the bits each core implements
            m.vtor = value & _VTOR_BITS.get(m.core.name, 0xFFFFFF80)
        elif word == 0xD0C:
            if value >> 16 == 0x05FA:
                if not m.v6m:
                    m.prigroup = (value >> 8) & 7
                if value & 4:
                    self.host.request_reset()
                m.update()
        elif word == 0xD10:
            m.scr = value & 0x16
        elif word == 0xD14:
            # STKALIGN is fixed to 1 on ARMv6-M, ARMv8-M (RES1) and the Cortex-M7
            fixed = m.v6m or m.v8m or m.core.name == "cortex-m7"
            # ARMv8-M: NONBASETHRDENA is RES1, STKOFHFNMIGN (bit 10) stored
            # the Cortex-M7's cache enables DC and IC (bits 16, 17) read back: CMSIS
            # SCB_EnableDCache tests DC (no cache is modelled: they change nothing); its BP
            # (bit 18, branch prediction) always reads as one (DUI0646 4.3.7)
            m7 = m.core.name == "cortex-m7"
            m.ccr = (value & (0x71B if m.v8m else 0x31B | (0x3_0000 if m7 else 0))) | (
                0x200 if fixed else 0) | (1 if m.v8m else 0) | (0x4_0000 if m7 else 0)
            if m.v6m:
                m.ccr |= 0x8
            self.host.set_div0_trap(bool(m.ccr & CCR_DIV_0_TRP))
            if not m.v6m:  # ARMv6-M: always set, and Unicorn's Cortex-M0 enforces it
                self.host.set_unaligned_trap(bool(m.ccr & CCR_UNALIGN_TRP))
        elif m.v6m and word in _NOT_V6M:
            pass  # not on ARMv6-M
        elif word == 0xD24:
            if m.v6m:  # only SVCALLPENDED is there to write
                value = self._shcsr_state() & ~_V6M_SHCSR | value & _V6M_SHCSR
            m.shcsr_enables = value & 0x70000
            for exc, bit in _SHCSR_ACTIVE.items():
                m.active = (m.active & ~(1 << exc)) | ((value >> bit & 1) << exc)
            for exc, bit in _SHCSR_PENDED.items():
                m.pending = (m.pending & ~(1 << exc)) | ((value >> bit & 1) << exc)
            m.update()
        elif word == 0xD28:
            m.cfsr &= ~value
        elif word == 0xD2C:
            m.hfsr &= ~value
        elif word == 0xD34:
            m.mmfar = value
        elif word == 0xD38:
            m.bfar = value
        elif word == 0xD88:
            self.cpacr = value
            self._update_fpu()
        elif word == 0xDFC:
            self.demcr = value & 0x010F07F1
        elif word == 0xF34:
            self.fpccr = value & 0xC0000000  # the status bits are the hardware's
            if not value >> 31:  # ASPEN cleared: frames would stay integer, not modelled
                self.host.unmodelled(self, word, 4, value)
        elif word == 0xF00:
            irq = value & 0x1FF
            if irq < m.irqs:
                m.set_pending(IRQ0 + irq)
        # CPUID, ICTR, CALIB, MVFR0-2 read only: writes ignored

    def _icsr(self) -> int:
        m = self._model
        ipsr = self.host.ipsr()
        best = m.best_pending()
        value = ipsr
        if best is not None:
            value |= (best & 0x1FF) << 12
        others = m.active & ~(1 << ipsr)
        if not others and not m.v6m:
            value |= 1 << 11  # RETTOBASE (ARMv7-M and later)
        if m.pending >> IRQ0:
            value |= 1 << 22  # ISRPENDING
        if m.pending >> SYSTICK & 1:
            value |= 1 << 26
        if m.pending >> PENDSV & 1:
            value |= 1 << 28
        if m.pending >> NMI & 1:
            value |= 1 << 31
        return value

    def _write_icsr(self, value: int) -> None:
        m = self._model
        if value & 1 << 27:
            m.pending &= ~(1 << PENDSV)
        if value & 1 << 25:
            m.pending &= ~(1 << SYSTICK)
        m.pend((value >> 31 & 1) << NMI | (value >> 28 & 1) << PENDSV
               | (value >> 26 & 1) << SYSTICK)

    def _shcsr(self) -> int:
        return self._shcsr_state() & _V6M_SHCSR if self._model.v6m else self._shcsr_state()

    def _shcsr_state(self) -> int:
        """SHCSR with every bit the model holds (ARMv6-M shows only SVCALLPENDED of it)."""
        m = self._model
        value = m.shcsr_enables
        for exc, bit in _SHCSR_ACTIVE.items():
            value |= (m.active >> exc & 1) << bit
        for exc, bit in _SHCSR_PENDED.items():
            value |= (m.pending >> exc & 1) << bit
        if m.v8m:  # HARDFAULTACT, NMIACT, HARDFAULTPENDED (read here, not written)
            for exc, bit in ((HARDFAULT, 2), (NMI, 5)):
                value |= (m.active >> exc & 1) << bit
            value |= (m.pending >> HARDFAULT & 1) << 21
        return value

    def _update_fpu(self) -> None:
        granted = all((self.cpacr >> bit) & 3 in (1, 3) for bit in (20, 22))
        self.host.set_fpu_access(granted)


# what an unmodelled register of the System Control Space belongs to (ARMv7-M B3.5, B3.2.x;
# the Cortex-M7's caches: ARMv7-M B2.2.7)
_UNMODELLED_RANGES = (
    (0xD90, 0xDBC, "the MPU, not modelled (its TYPE reads 0 regions, as a part without one: "
                   "no MemManage for its regions)"),
    (0xD78, 0xD88, "the cache identification (CLIDR, CTR, CCSIDR, CSSELR): no cache is "
                   "modelled"),
    (0xF50, 0xF80, "cache maintenance: no cache is modelled"),
)


def _unmodelled_why(offset: int) -> str:
    """What the unmodelled SCS register at ``offset`` is, for the report's list ('' if
    nothing to add)."""
    return next((why for lo, hi, why in _UNMODELLED_RANGES if lo <= offset < hi), "")

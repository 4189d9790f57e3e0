"""Instructions the native hooks check before they run: the accesses an ARMv7-M / ARMv8-M
Mainline core always requires aligned, and the divides CCR.DIV_0_TRP makes fault.

Armv7-M ARM (DDI 0403E) A3.2.1 "Alignment behavior": whatever CCR.UNALIGN_TRP says, an
unaligned address faults (UsageFault UNALIGNED) for LDRD/STRD, LDM/STM (and their PUSH/POP
forms), LDREX/STREX and their halfword forms, and the FP loads and stores VLDR/VSTR/VLDM/VSTM;
Armv8-M ARM (DDI 0553) B7.? adds the load-acquire/store-release family (LDA*/STL*). Unicorn
does not enforce this on the cores it emulates: the simulator puts a native check (``sim/
_blockhook.c``: ``sim_align_hook``) on exactly these instructions, found here once per ELF.

Every such access's offset is a multiple of its alignment (LDRD/LDM/LDREX/VLDR immediates are
scaled by 4; the halfword exclusives have none), so the address is aligned exactly when the
base register is: the check reads one register and tests its low bits. Instructions based on
SP (always word-aligned on M-profile, B1.4.1) or PC (a literal: aligned when linked) are left out.
"""

from dataclasses import dataclass

import numpy as np
from capstone import arm_const as A
from unicorn import arm_const as U

from sim.timing import make_disassembler
from toolchain.cores import Core


def _ids(*names: str) -> frozenset[int]:
    return frozenset(getattr(A, f"ARM_INS_{n}") for n in names)


_WORD = _ids("LDRD", "STRD", "LDM", "LDMDB", "STM", "STMDB", "LDREX", "STREX",
             "LDA", "STL", "LDAEX", "STLEX")
_HALF = _ids("LDREXH", "STREXH", "LDAH", "STLH", "LDAEXH", "STLEXH")
_FP_WORD = _ids("VLDR", "VSTR", "VLDMIA", "VLDMDB", "VSTMIA", "VSTMDB")
_BASE_FIRST = _ids("LDM", "LDMDB", "STM", "STMDB", "VLDMIA", "VLDMDB", "VSTMIA", "VSTMDB")
_NOT_CHECKED = frozenset({A.ARM_REG_SP, A.ARM_REG_PC, 0})


@dataclass(frozen=True)
class AlignmentCheck:
    """The instruction at ``address`` needs its base register (Unicorn id ``regid``) to be a
    multiple of ``alignment``."""

    address: int
    regid: int
    alignment: int


def _unicorn_reg(name: str) -> int:
    reg: int = getattr(U, f"UC_ARM_REG_{name.upper()}")
    return reg


def alignment_checks(flash: np.ndarray, flash_base: int, exec_ranges: list[tuple[int, int]],
                     core: Core) -> list[AlignmentCheck]:
    """The checks the core needs on the code in ``flash``: none on ARMv6-M (Unicorn's
    Cortex-M0 faults on every unaligned access itself)."""
    if core.architecture == "armv6-m":
        return []
    wanted = _WORD | _HALF | (_FP_WORD if core.fpu is not None else frozenset())
    sweep = make_disassembler()
    sweep.detail = False
    sweep.skipdata = True
    md = make_disassembler()
    out = []
    size = len(flash)
    for start, end in exec_ranges:
        lo, hi = max(start - flash_base, 0), min(end - flash_base, size)
        if lo >= hi:
            continue
        code = flash[lo:hi].tobytes()
        for insn in sweep.disasm(code, flash_base + lo):
            if insn.id not in wanted:
                continue
            off = insn.address - flash_base - lo
            insn = next(md.disasm(code[off : off + insn.size], insn.address, 1))
            ops = insn.operands
            if insn.id in _BASE_FIRST:
                base = ops[0].reg if ops and ops[0].type == A.ARM_OP_REG else 0
            else:
                base = next((op.mem.base for op in ops if op.type == A.ARM_OP_MEM), 0)
            if base in _NOT_CHECKED:
                continue
            out.append(AlignmentCheck(insn.address, _unicorn_reg(insn.reg_name(base)),
                                      2 if insn.id in _HALF else 4))
    return out


_DIVIDES = _ids("SDIV", "UDIV")


def division_checks(flash: np.ndarray, flash_base: int, exec_ranges: list[tuple[int, int]],
                    core: Core) -> list[AlignmentCheck]:
    """Every SDIV/UDIV in the code, with its divisor register (``alignment`` unused: 0). With
    CCR.DIV_0_TRP set, a divide by zero raises UsageFault DIVBYZERO (Armv7-M ARM B3.2.8,
    "Configuration and Control Register"); otherwise the result is 0, as Unicorn computes it."""
    if core.architecture == "armv6-m":
        return []
    sweep = make_disassembler()
    sweep.detail = False
    sweep.skipdata = True
    md = make_disassembler()
    out = []
    size = len(flash)
    for start, end in exec_ranges:
        lo, hi = max(start - flash_base, 0), min(end - flash_base, size)
        if lo >= hi:
            continue
        code = flash[lo:hi].tobytes()
        for insn in sweep.disasm(code, flash_base + lo):
            if insn.id not in _DIVIDES:
                continue
            off = insn.address - flash_base - lo
            insn = next(md.disasm(code[off : off + insn.size], insn.address, 1))
            divisor = insn.operands[-1].reg  # sdiv Rd, Rn, Rm
            out.append(AlignmentCheck(insn.address, _unicorn_reg(insn.reg_name(divisor)), 0))
    return out

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

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import capstone
import numpy as np
from capstone import CS_AC_WRITE
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


def _disassemblers() -> tuple[Any, Any]:
    """A fast sweep (no operand details, data skipped) and a detailed single-instruction
    decoder for the instructions the sweep picks out."""
    sweep = make_disassembler()
    sweep.detail = False
    sweep.skipdata = True
    return sweep, make_disassembler()


def _code(flash: np.ndarray, flash_base: int,
          exec_ranges: list[tuple[int, int]]) -> Iterator[tuple[int, bytes]]:
    """(start address, bytes) of each executable range that lies in ``flash``."""
    for start, end in exec_ranges:
        lo, hi = max(start - flash_base, 0), min(end - flash_base, len(flash))
        if lo < hi:
            yield flash_base + lo, flash[lo:hi].tobytes()


def _unicorn_reg(name: str) -> int:
    reg: int = getattr(U, f"UC_ARM_REG_{name.upper()}")
    return reg


# Proving a base register aligned from the code before the access (no check needed then).
_CONDITIONAL_BRANCHES = _ids("CBZ", "CBNZ")
_DIRECT_BRANCHES = _ids("B", "BL", "BLX", "CBZ", "CBNZ")
_TABLE_BRANCHES = _ids("TBB", "TBH")
_UNCONDITIONAL = _ids("BX", "BL", "BLX", "TBB", "TBH", "BXNS", "BLXNS")
_WALK_LIMIT = 32  # instructions looked at before an access


def _base_register(insn: capstone.CsInsn) -> int:
    ops = insn.operands
    if insn.id in _BASE_FIRST:
        return int(ops[0].reg) if ops and ops[0].type == A.ARM_OP_REG else 0
    return int(next((op.mem.base for op in ops if op.type == A.ARM_OP_MEM), 0))


def _effect(insn: capstone.CsInsn, base: int) -> str:
    """What ``insn`` (decoded with detail) does to ``base`` modulo 4: "none" (not written),
    "sp" (set to SP plus a multiple of 4), "keeps" (plus a multiple of 4) or "breaks"."""
    written = insn.regs_access()[1]
    if base not in written:
        return "none"
    if insn.cc not in (A.ARM_CC_AL, A.ARM_CC_INVALID):
        return "breaks"  # written or not, depending on the flags
    ops = insn.operands
    imms_aligned = all(op.imm % 4 == 0 for op in ops if op.type == A.ARM_OP_IMM)
    if insn.id in (A.ARM_INS_ADD, A.ARM_INS_SUB, A.ARM_INS_ADDW, A.ARM_INS_SUBW, A.ARM_INS_MOV):
        regs = [op.reg for op in ops if op.type == A.ARM_OP_REG]
        shifted = any(op.type == A.ARM_OP_REG and op.shift.type != 0 for op in ops)
        srcs = regs[1:] if len(regs) > 1 else regs  # add rd, #imm reads rd
        if shifted or not imms_aligned or len(srcs) != 1 or regs[0] != base:
            return "breaks"
        return "sp" if srcs[0] == A.ARM_REG_SP else "keeps" if srcs[0] == base else "breaks"
    # a load/store or register list that writes its base back by a multiple of 4
    loaded = [op.reg for op in ops if op.type == A.ARM_OP_REG and op.access & CS_AC_WRITE]
    if base in loaded:
        return "breaks"
    if insn.id in _BASE_FIRST or insn.id in (A.ARM_INS_PUSH, A.ARM_INS_POP):
        return "keeps"  # 4 bytes per register
    mem = next((op.mem for op in ops if op.type == A.ARM_OP_MEM), None)
    if mem is not None and mem.base == base and not mem.index and mem.disp % 4 == 0 \
            and imms_aligned:
        return "keeps"
    return "breaks"


def _ends_fall_through(insn: capstone.CsInsn) -> bool:
    """Whether the instruction after ``insn`` is reached only from elsewhere (an
    unconditional branch, a call, a table branch, any other write to PC)."""
    if insn.id in _CONDITIONAL_BRANCHES:
        return False
    if insn.id == A.ARM_INS_B:
        return insn.cc in (A.ARM_CC_AL, A.ARM_CC_INVALID)
    return insn.id in _UNCONDITIONAL or A.ARM_REG_PC in insn.regs_access()[1]


def _sp_derived(insns: list[capstone.CsInsn], k: int, base: int, targets: set[int],
                md: capstone.Cs) -> bool:
    """Whether the access at ``insns[k]`` is proven aligned: walking back through straight-line
    code that nothing else jumps into, its base register was last set from SP plus a multiple
    of 4 (SP is always word-aligned on M-profile) and changed since only by multiples of 4."""
    for j in range(k - 1, max(k - _WALK_LIMIT, 0) - 1, -1):
        if insns[j + 1].address in targets:
            return False  # reached from elsewhere too
        if insns[j].id == 0:
            return False  # data
        insn = next(md.disasm(bytes(insns[j].bytes), insns[j].address, 1))
        if _ends_fall_through(insn):
            return False
        effect = _effect(insn, base)
        if effect != "none" and effect != "keeps":
            return effect == "sp"
    return False


def alignment_checks(flash: np.ndarray, flash_base: int, exec_ranges: list[tuple[int, int]],
                     core: Core, entry_points: Iterable[int] = ()) -> list[AlignmentCheck]:
    """The checks the core needs on the code in ``flash``: none on ARMv6-M (Unicorn's
    Cortex-M0 faults on every unaligned access itself), none on an access whose base register
    the code right before it provably set from SP (``entry_points``: addresses reached other
    than by falling through or a direct branch, e.g. function symbols)."""
    if core.architecture == "armv6-m":
        return []
    wanted = _WORD | _HALF | (_FP_WORD if core.fpu is not None else frozenset())
    sweep, md = _disassemblers()
    out = []
    for start, code in _code(flash, flash_base, exec_ranges):
        insns = list(sweep.disasm(code, start))
        targets = {int(a) & ~1 for a in entry_points}
        for insn in insns:
            if insn.id in _DIRECT_BRANCHES and insn.op_str.startswith("#"):
                targets.add(int(insn.op_str.split()[-1].lstrip("#"), 16))
            elif insn.id in (A.ARM_INS_BL, A.ARM_INS_BLX):
                targets.add(insn.address + insn.size)  # a call returns here
        # A table branch's targets are not listed: no proofs from it to the next entry point.
        entries = sorted(targets)
        zones = []
        for i in insns:
            if i.id in _TABLE_BRANCHES:
                nxt = bisect.bisect_right(entries, i.address)
                zones.append((i.address, entries[nxt] if nxt < len(entries) else 1 << 32))
        for k, insn in enumerate(insns):
            if insn.id not in wanted:
                continue
            off = insn.address - start
            insn = next(md.disasm(code[off : off + insn.size], insn.address, 1))
            base = _base_register(insn)
            if base in _NOT_CHECKED:
                continue
            guarded = any(z0 < insn.address < z1 for z0, z1 in zones)
            if not guarded and insn.address not in targets and _sp_derived(
                    insns, k, base, targets, md):
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
    sweep, md = _disassemblers()
    out = []
    for start, code in _code(flash, flash_base, exec_ranges):
        for insn in sweep.disasm(code, start):
            if insn.id not in _DIVIDES:
                continue
            off = insn.address - start
            insn = next(md.disasm(code[off : off + insn.size], insn.address, 1))
            divisor = insn.operands[-1].reg  # sdiv Rd, Rn, Rm
            out.append(AlignmentCheck(insn.address, _unicorn_reg(insn.reg_name(divisor)), 0))
    return out

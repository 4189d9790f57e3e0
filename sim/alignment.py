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

Most checks are made at block entry, by the native block hook (``at_entry``): a word access
whose base register no instruction that can share a translation block with it changes before
it, other than by a multiple of 4 (a writeback ``ldm r0!``, ``adds r0, #8``), has an aligned
address exactly when the register is aligned when the block starts. Unicorn ends a block at
every branch and every write to PC, so the code that can share a block with an access is the
straight-line code back to the previous branch; whatever start inside it Unicorn picks, the
register cannot have been made unaligned in between. The rest (and the halfword exclusives)
keep a code hook on the instruction itself, which Unicorn dispatches through every code hook
each time one runs.
"""

import bisect
from collections.abc import Callable, Iterable, Iterator
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
    at_entry: bool = False  # checked by the block hook at the start of the block holding it
    reg: int = -1  # the base register's number (0-12, 14 for LR) for a check at entry
    # for a check at entry: (address, transfer record) of each instruction from the previous
    # branch up to this one, what the block hook follows the base register back through
    transfers: tuple[tuple[int, int], ...] = ()


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
_BLOCK_WALK_LIMIT = 256  # straight-line instructions looked at for a check at block entry
_BLOCK_ENDS = _DIRECT_BRANCHES | _TABLE_BRANCHES | _ids("BX", "BXNS", "BLXNS")
_REG_NUMBERS = {getattr(A, f"ARM_REG_R{i}"): i for i in range(13)} | {A.ARM_REG_LR: 14}


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
                decode: "Callable[[int], capstone.CsInsn]") -> bool:
    """Whether the access at ``insns[k]`` is proven aligned: walking back through straight-line
    code that nothing else jumps into, its base register was last set from SP plus a multiple
    of 4 (SP is always word-aligned on M-profile) and changed since only by multiples of 4."""
    for j in range(k - 1, max(k - _WALK_LIMIT, 0) - 1, -1):
        if insns[j + 1].address in targets:
            return False  # reached from elsewhere too
        if insns[j].id == 0:
            return False  # data
        insn = decode(j)
        if _ends_fall_through(insn):
            return False
        effect = _effect(insn, base)
        if effect != "none" and effect != "keeps":
            return effect == "sp"
    return False


def _ends_block(insn: capstone.CsInsn) -> bool:
    """Whether Unicorn (QEMU's translator) always ends a translation block after ``insn``:
    every branch, conditional or not, and every other write to PC."""
    return insn.id in _BLOCK_ENDS or A.ARM_REG_PC in insn.regs_access()[1]


# Transfer records (``xfer`` in sim/_blockhook.c): what an instruction does to the registers'
# alignment, as "this register is word-aligned if those were at block entry". One 32-bit record:
# bits 0-15 the registers it makes unknown (a load's destination, any other write not modelled),
# bits 16-18 the kind, 20-23 Rd, 24-27 Rn, 28-31 Rm. SP is always word-aligned (dependence on
# nothing); bit 15 (PC) stands for "unknown" in a dependence set.
XF_NONE, XF_COPY, XF_SUM, XF_ALIGNED = 1, 2, 3, 4  # 0: no record (everything unknown)
_UNKNOWN = 1 << 15
_SP_NUMBER = 13
_GPRS = {**_REG_NUMBERS, A.ARM_REG_SP: _SP_NUMBER}
_ADDS = _ids("ADD", "ADDW", "SUB", "SUBW")


def _record(kind: int, clobber: int = 0, rd: int = 0, rn: int = 0, rm: int = 0) -> int:
    return clobber | kind << 16 | rd << 20 | rn << 24 | rm << 28


def _transfer(insn: capstone.CsInsn, literal: "Callable[[int], int | None]") -> int:
    """The transfer record of ``insn`` (decoded with detail); ``literal(address)`` reads a
    word of flash (None outside it)."""
    written = [_GPRS[r] for r in insn.regs_access()[1] if r in _GPRS]
    written = [r for r in written if r != _SP_NUMBER]  # SP stays word-aligned whatever
    if not written:
        return _record(XF_NONE)
    everything = sum(1 << r for r in written)
    if insn.cc not in (A.ARM_CC_AL, A.ARM_CC_INVALID):
        return _record(XF_NONE, everything)  # written or not, depending on the flags
    ops = insn.operands
    regs = [op for op in ops if op.type == A.ARM_OP_REG]
    imms = [op.imm for op in ops if op.type == A.ARM_OP_IMM]
    rd = written[0] if len(written) == 1 else -1
    if rd >= 0 and regs and regs[0].reg in _GPRS and _GPRS[regs[0].reg] == rd:
        srcs = regs[1:]
        if insn.id in _ADDS and (len(regs) == 1 or (len(regs) == 2 and not imms)):
            srcs = regs  # add rd, #imm and add rd, rm: rd is a source too
        if any(op.reg not in _GPRS for op in srcs):
            return _record(XF_NONE, everything)
        src = [_GPRS[op.reg] for op in srcs]
        shift = [op.shift.value if op.shift.type else 0 for op in srcs]
        if insn.id in _ADDS and all(i % 4 == 0 for i in imms):
            if len(src) == 1 and shift[0] == 0:
                return _record(XF_COPY, rd=rd, rn=src[0])
            if len(src) == 2 and shift[0] == 0 and srcs[1].shift.type == A.ARM_SFT_LSL \
                    and shift[1] >= 2:
                return _record(XF_COPY, rd=rd, rn=src[0])  # rn + rm * 4**k
            if len(src) == 2 and shift == [0, 0]:
                return _record(XF_SUM, rd=rd, rn=src[0], rm=src[1])
        if insn.id == A.ARM_INS_MOV and len(src) == 1 and not imms and shift[0] == 0:
            return _record(XF_COPY, rd=rd, rn=src[0])
        if insn.id in (A.ARM_INS_MOV, A.ARM_INS_MOVW) and not src and len(imms) == 1 \
                and imms[0] % 4 == 0:
            return _record(XF_ALIGNED, rd=rd)
        if insn.id == A.ARM_INS_MOVT:
            return _record(XF_NONE)  # the low half stays
        if insn.id == A.ARM_INS_LSL and len(src) == 1 and len(imms) == 1 and imms[0] >= 2:
            return _record(XF_ALIGNED, rd=rd)
        if insn.id == A.ARM_INS_LSL and len(src) == 1 and shift[0] >= 2:
            return _record(XF_ALIGNED, rd=rd)  # capstone's lsl rd, rm, #k form
        mem = next((op.mem for op in ops if op.type == A.ARM_OP_MEM), None)
        if insn.id == A.ARM_INS_LDR and mem is not None and mem.base == A.ARM_REG_PC \
                and not mem.index:
            value = literal(((insn.address + 4) & ~3) + mem.disp)  # flash is read-only
            if value is not None and value % 4 == 0:
                return _record(XF_ALIGNED, rd=rd)
        if insn.id in (A.ARM_INS_BIC, A.ARM_INS_AND) and len(imms) == 1 and (
                (imms[0] & 3) == 3 if insn.id == A.ARM_INS_BIC else (imms[0] & 3) == 0):
            return _record(XF_ALIGNED, rd=rd)
        return _record(XF_NONE, everything)
    # a load/store or register list: its base written back by a multiple of 4 keeps its
    # alignment, the registers it loads are unknown
    base = _base_register(insn)
    if insn.id in _BASE_FIRST and base in _REG_NUMBERS and all(op.reg != base
                                                               for op in ops[1:]):
        return _record(XF_NONE, everything & ~(1 << _REG_NUMBERS[base]))  # 4 bytes a register
    if base in _REG_NUMBERS and _REG_NUMBERS[base] in written and _effect(insn, base) == "keeps":
        return _record(XF_NONE, everything & ~(1 << _REG_NUMBERS[base]))
    return _record(XF_NONE, everything)


def follow(records: Iterable[int], base: int) -> int:
    """The registers (bit n: Rn) whose word alignment at the start of ``records`` makes ``base``
    word-aligned after them; bit 15 set when nothing does. What sim/_blockhook.c computes for
    each block (it must agree)."""
    dep = [1 << r for r in range(16)]
    dep[_SP_NUMBER], dep[15] = 0, _UNKNOWN
    for x in records:
        kind, rd, rn, rm = x >> 16 & 7, x >> 20 & 15, x >> 24 & 15, x >> 28 & 15
        if kind == 0:
            dep = [0 if r == _SP_NUMBER else _UNKNOWN for r in range(16)]
            continue
        if kind == XF_COPY:
            dep[rd] = dep[rn]
        elif kind == XF_SUM:
            dep[rd] = dep[rn] | dep[rm]
        elif kind == XF_ALIGNED:
            dep[rd] = 0
        for r in range(16):
            if x >> r & 1:
                dep[r] = _UNKNOWN
    return dep[base]


def _entry_transfers(insns: list[capstone.CsInsn], k: int, base: int,
                     decode: "Callable[[int], capstone.CsInsn]",
                     literal: "Callable[[int], int | None]"
                     ) -> tuple[tuple[int, int], ...] | None:
    """The transfer records from the previous branch (where any block holding the word access
    ``insns[k]`` starts at the earliest) up to it, when they show the base register's
    alignment follows from registers at that point; None when it does not (a load or an
    unknown computation sets it), or no branch is found within the walk limit. Starting later
    only drops instructions from the front of the chain: if the chain from the earliest start
    is known, so is every shorter one."""
    j = k - 1
    while j >= max(k - _BLOCK_WALK_LIMIT, 0):
        if insns[j].id == 0:
            return None  # data, or an instruction capstone does not know
        if _ends_block(decode(j)):
            break
        j -= 1
    else:
        return None  # too far back, or the start of the code range (another could run into it)
    window = tuple((insns[i].address, _transfer(decode(i), literal)) for i in range(j + 1, k))
    if follow((x for _, x in window), _REG_NUMBERS[base]) & _UNKNOWN:
        return None
    return window


class _Detailed:
    """``insns[j]`` (from the fast sweep of ``code`` at ``start``) decoded with operand detail,
    once each."""

    def __init__(self, md: capstone.Cs, insns: list[capstone.CsInsn], start: int,
                 code: bytes) -> None:
        self._md, self._insns, self._start, self._code = md, insns, start, code
        self._done: dict[int, capstone.CsInsn] = {}

    def __call__(self, j: int) -> capstone.CsInsn:
        if j not in self._done:
            insn = self._insns[j]
            off = insn.address - self._start
            self._done[j] = next(self._md.disasm(self._code[off : off + insn.size],
                                                 insn.address, 1))
        return self._done[j]


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

    def literal(address: int) -> int | None:
        off = address - flash_base
        if 0 <= off <= len(flash) - 4:
            return int.from_bytes(flash[off : off + 4].tobytes(), "little")
        return None

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
        decode = _Detailed(md, insns, start, code)
        for k, insn in enumerate(insns):
            if insn.id not in wanted:
                continue
            insn = decode(k)
            base = _base_register(insn)
            if base in _NOT_CHECKED:
                continue
            guarded = any(z0 < insn.address < z1 for z0, z1 in zones)
            if not guarded and insn.address not in targets and _sp_derived(
                    insns, k, base, targets, decode):
                continue
            regid = _unicorn_reg(insn.reg_name(base))
            window = None
            if insn.id not in _HALF and base in _REG_NUMBERS:
                window = _entry_transfers(insns, k, base, decode, literal)
            if window is not None:
                out.append(AlignmentCheck(insn.address, regid, 4, True, _REG_NUMBERS[base],
                                          window))
            else:
                out.append(AlignmentCheck(insn.address, regid, 2 if insn.id in _HALF else 4))
    return out


_SINGLE_WORD = _ids("LDR", "STR", "LDRT", "STRT")
_SINGLE_HALF = _ids("LDRH", "STRH", "LDRSH", "LDRHT", "STRHT", "LDRSHT")


@dataclass(frozen=True)
class AccessCheck:
    """The single load or store at ``address`` moves ``size`` bytes (2 or 4) at base register
    + ``disp`` + index register << ``shift`` (Unicorn ids; ``index`` -1: none)."""

    address: int
    base: int
    index: int
    shift: int
    disp: int
    size: int


def unaligned_trap_checks(flash: np.ndarray, flash_base: int,
                          exec_ranges: list[tuple[int, int]], core: Core) -> list[AccessCheck]:
    """Every word or halfword LDR/STR (LDRH, LDRSH, STRH, the unprivileged forms) in the code,
    for CCR.UNALIGN_TRP: while it is set, each of them faults (UsageFault UNALIGNED) at an
    unaligned address (Armv7-M ARM A3.2.1 "Alignment behavior", B3.2.8 "Configuration and
    Control Register"). None on ARMv6-M, where every unaligned access faults and Unicorn's
    Cortex-M0 enforces it itself. Left out: PC-relative literals (aligned when linked) and
    accesses at SP plus a multiple of their size (SP is word-aligned)."""
    if core.architecture == "armv6-m":
        return []
    sweep, md = _disassemblers()
    out = []
    for start, code in _code(flash, flash_base, exec_ranges):
        for insn in sweep.disasm(code, start):
            if insn.id not in _SINGLE_WORD and insn.id not in _SINGLE_HALF:
                continue
            off = insn.address - start
            insn = next(md.disasm(code[off : off + insn.size], insn.address, 1))
            mem = next((op for op in insn.operands if op.type == A.ARM_OP_MEM), None)
            if mem is None or mem.mem.base == A.ARM_REG_PC:
                continue
            size = 2 if insn.id in _SINGLE_HALF else 4
            base, index, disp = mem.mem.base, mem.mem.index, int(mem.mem.disp)
            if base == A.ARM_REG_SP and not index and disp % size == 0:
                continue
            out.append(AccessCheck(
                insn.address, _unicorn_reg(insn.reg_name(base)),
                _unicorn_reg(insn.reg_name(index)) if index else -1,
                int(mem.shift.value) if index and mem.shift.type else 0,
                -disp if mem.subtracted else disp, size))
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

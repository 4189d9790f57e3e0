"""Per-core cycle costs and static stack-pointer effects of Thumb/Thumb-2 instructions.

The model (see docs/cycle-model.md) is: every executed instruction costs a base number of
cycles taken from the Arm Technical Reference Manual (TRM) instruction timing table of the
selected core (``toolchain.cores`` holds the tables; this module sorts instructions into their
classes), assuming zero wait states and a conditional branch that is *not* taken. The simulator
adds ``CoreTiming.branch_refill`` (the TRM's "P") itself whenever control flow does
not fall through, and adds flash wait states per refill.
"""

from collections.abc import Mapping

import capstone
from capstone import arm_const as A

from toolchain.cores import CORES as _CORES
from toolchain.cores import CoreTiming, DualIssue, InsnClass, get_core

__all__ = ["CORES", "CoreTiming", "DualIssue", "dual_issues", "instruction_cycles",
           "make_disassembler", "needs_detail", "sp_delta", "timing_for"]

_Cat = InsnClass  # short name for the tables below


def _ids(*names: str) -> tuple[int, ...]:
    return tuple(getattr(A, f"ARM_INS_{n}") for n in names)


_GROUPS: dict[_Cat, tuple[int, ...]] = {
    _Cat.MUL: _ids("MUL"),
    _Cat.MAC: _ids("MLA", "MLS"),
    _Cat.MULL: _ids("SMULL", "UMULL"),
    _Cat.MLAL: _ids("SMLAL", "UMLAL"),
    _Cat.DIV: _ids("SDIV", "UDIV"),
    _Cat.LOAD: _ids(
        "LDR", "LDRB", "LDRH", "LDRSB", "LDRSH", "LDRT", "LDRBT", "LDRHT", "LDRSBT", "LDRSHT",
        "LDREX", "LDREXB", "LDREXH", "LDA", "LDAB", "LDAH", "LDAEX", "LDAEXB", "LDAEXH",
    ),
    _Cat.STORE: _ids(
        "STR", "STRB", "STRH", "STRT", "STRBT", "STRHT", "STREX", "STREXB", "STREXH",
        "STL", "STLB", "STLH", "STLEX", "STLEXB", "STLEXH",
    ),
    _Cat.PAIR: _ids("LDRD", "STRD"),
    _Cat.LIST: _ids("LDM", "LDMDB", "STM", "STMDB", "PUSH", "POP"),
    _Cat.BRANCH: _ids("B", "BX", "BLX", "CBZ", "CBNZ", "BXNS", "BLXNS"),
    _Cat.CALL: _ids("BL"),
    _Cat.TABLE: _ids("TBB", "TBH"),
    _Cat.SPECIAL: _ids("MRS", "MSR"),
    _Cat.CPS: _ids("CPS"),
    _Cat.BARRIER: _ids("DMB", "DSB"),
    _Cat.ISB: _ids("ISB"),
    _Cat.WAIT: _ids("WFI", "WFE"),
    _Cat.FP_MAC: _ids("VMLA", "VMLS", "VNMLA", "VNMLS", "VFMA", "VFMS", "VFNMA", "VFNMS"),
    _Cat.FP_DIV: _ids("VDIV", "VSQRT"),
    _Cat.FP_MEM: _ids("VLDR", "VSTR"),
    _Cat.FP_LIST: _ids("VLDMIA", "VLDMDB", "VSTMIA", "VSTMDB", "VPUSH", "VPOP"),
}
_CATEGORY: dict[int, _Cat] = {i: cat for cat, ids in _GROUPS.items() for i in ids}

CORES: tuple[str, ...] = tuple(_CORES)


def timing_for(core: str) -> CoreTiming:
    """The timing parameters of ``core`` (one of ``CORES``); ValueError naming the known ones."""
    return get_core(core).timing


def _reg_words(reg: int) -> int:
    """Size of a core or FP register in 32-bit words (D registers are two words)."""
    return 2 if A.ARM_REG_D0 <= reg <= A.ARM_REG_D31 else 1


_STACK_LISTS = frozenset(_ids("PUSH", "POP", "VPUSH", "VPOP"))  # operands are the list only
_ADD_IDS = frozenset(_ids("ADD", "ADDW"))
_SUB_IDS = frozenset(_ids("SUB", "SUBW"))


def _list_operands(insn: capstone.CsInsn) -> list[capstone.arm.ArmOp]:
    """Register-list operands (LDM/STM/VLDM/VSTM operands start with the base register)."""
    ops = list(insn.operands)
    return ops if insn.id in _STACK_LISTS else ops[1:]


def _list_words(insn: capstone.CsInsn) -> int:
    return sum(_reg_words(op.reg) for op in _list_operands(insn) if op.type == A.ARM_OP_REG)


def _single_load(insn: capstone.CsInsn) -> bool:
    return _CATEGORY.get(insn.id) is _Cat.LOAD


def _pipelined(insn: capstone.CsInsn, cat: _Cat, prev: capstone.CsInsn | None) -> bool:
    """Whether a single load or store takes one cycle on a core that pipelines them
    (``CoreTiming.pipelined_load_store``): a store with an immediate offset always does ("STR
    Rx,[Ry,#imm] is always one cycle", Cortex-M3/M4 TRM "Load/store timings"), and any single
    load or store right after a single load does ("neighboring load and store single
    instructions can pipeline their address and data phases"; a store cannot pipeline with
    what follows it), unless its address needs the loaded value. A load into PC is a blocking
    operation and never pipelines."""
    mem = next((op.mem for op in insn.operands if op.type == A.ARM_OP_MEM), None)
    if mem is None:
        return False
    if any(op.type == A.ARM_OP_REG and op.reg == A.ARM_REG_PC for op in insn.operands[:1]):
        return False  # ldr pc, [...]
    if cat is _Cat.STORE and not mem.index:
        return True
    if prev is None or not _single_load(prev):
        return False
    written = {op.reg for op in prev.operands if op.type == A.ARM_OP_REG}
    if prev.writeback:
        written |= {op.mem.base for op in prev.operands if op.type == A.ARM_OP_MEM}
    return mem.base not in written and mem.index not in written


def _loaded(load: capstone.CsInsn) -> set[int]:
    """The registers a single load writes with the data it reads (not a written-back base)."""
    return {op.reg for op in load.operands if op.type == A.ARM_OP_REG}


def _address_waits_for_load(insn: capstone.CsInsn, prev: capstone.CsInsn | None) -> bool:
    """Whether ``insn`` addresses memory through a register the single load ``prev`` wrote."""
    if prev is None or not _single_load(prev):
        return False
    mem = next((op.mem for op in insn.operands if op.type == A.ARM_OP_MEM), None)
    if mem is None:
        return False
    written = _loaded(prev)
    return mem.base in written or (mem.index != 0 and mem.index in written)


def instruction_cycles(insn: capstone.CsInsn, timing: CoreTiming,
                       prev: capstone.CsInsn | None = None) -> int:
    """Base cycle cost of one Thumb/Thumb-2 instruction on ``timing.core``; ``prev`` is the
    instruction before it in the code (None: unknown or not an instruction), which decides
    whether a load or store pipelines with it.

    Assumes zero wait states and a conditional branch that is not taken. The pipeline refill
    of a taken branch or any other PC write is *not* included: the simulator adds
    ``timing.branch_refill`` whenever control flow does not fall through.
    """
    table = timing.cycles
    cat = _CATEGORY.get(insn.id, _Cat.ALU)
    if timing.pipelined_load_store and cat in (_Cat.LOAD, _Cat.STORE):
        try:
            if _pipelined(insn, cat, prev):
                return 1
        except capstone.CsError:  # decoded without detail: the class cost
            pass
    stall = 0
    if (timing.load_to_address_stall or timing.load_use_stall) and prev is not None \
            and _single_load(prev):
        try:
            if _address_waits_for_load(insn, prev):
                stall = timing.load_to_address_stall
            elif _reads_writes(insn)[0] & _loaded(prev):
                stall = timing.load_use_stall
        except capstone.CsError:
            pass
    return _class_cycles(insn, cat, table) + stall


def _class_cycles(insn: capstone.CsInsn, cat: _Cat, table: Mapping[_Cat, int]) -> int:
    """The table cost of ``insn`` in class ``cat``, with its register count where it has one."""
    if insn.id == A.ARM_INS_HINT and insn.mnemonic.startswith(("wfi", "wfe")):
        cat = _Cat.WAIT  # capstone reports WFI/WFE (any suffix) as the generic HINT id
    try:
        if insn.id == A.ARM_INS_VMOV and len(insn.operands) >= 3:
            cat = _Cat.FP_MOV2
        base = table.get(cat, 1)
        if cat in (_Cat.LIST, _Cat.FP_LIST) and cat in table:  # 1 + N
            ops = _list_operands(insn)
            base += _list_words(insn) if cat is _Cat.FP_LIST else len(ops)
            if any(op.type == A.ARM_OP_REG and op.reg == A.ARM_REG_PC for op in ops):
                base += table.get(_Cat.POP_PC, 0)
        elif cat is _Cat.FP_MEM and cat in table:  # 1 + words
            base += _reg_words(insn.operands[0].reg)
    except (capstone.CsError, IndexError):  # no detail / odd operands: keep the class cost
        base = table.get(cat, 1)
    return base


# --- dual issue (docs/cycle-model.md, "Cortex-M7" and "Cortex-M33") -----------------------------

# Classes that never share their issue cycle: multi-cycle (register lists, divides, table
# branches), serialising (system registers, CPS, barriers, sleep) or the 1 + N FP transfers.
_SOLO = frozenset({_Cat.LIST, _Cat.FP_LIST, _Cat.DIV, _Cat.FP_DIV, _Cat.TABLE, _Cat.SPECIAL,
                   _Cat.CPS, _Cat.BARRIER, _Cat.ISB, _Cat.WAIT, _Cat.FP_MEM, _Cat.FP_MOV2,
                   _Cat.FP_MAC})
_SOLO_IDS = frozenset(_ids("SVC", "BKPT", "UDF", "CPS", "MRS", "MSR"))
_MEMORY = frozenset({_Cat.LOAD, _Cat.STORE, _Cat.PAIR, _Cat.FP_MEM})
_BRANCHES = frozenset({_Cat.BRANCH, _Cat.CALL})
_MAC_PIPE = frozenset({_Cat.MUL, _Cat.MAC, _Cat.MULL, _Cat.MLAL})
# Shift-and-operate work only the full ALU does on the Cortex-M7 (one per cycle): bit-field,
# extend and byte-reverse instructions, besides shifted register operands and rotated
# immediates (found from the operands).
_ALU0_IDS = frozenset(_ids("UBFX", "SBFX", "BFI", "BFC", "UXTB", "UXTH", "SXTB", "SXTH",
                           "REV", "REV16", "REVSH", "RBIT"))
_PLAIN_IMMEDIATE_IDS = frozenset(_ids("MOVW", "MOVT", "ADDW", "SUBW"))
_SHIFT_IDS = frozenset(_ids("LSL", "LSR", "ASR", "ROR", "RRX"))
_DSP_SECOND_SLOT_IDS = frozenset(_ids("REV", "REV16", "REVSH"))
_FLAGS = frozenset({A.ARM_REG_CPSR, A.ARM_REG_APSR, A.ARM_REG_APSR_NZCV})
_PC_REGS = frozenset({A.ARM_REG_PC})


def _category(insn: capstone.CsInsn) -> _Cat:
    return _CATEGORY.get(insn.id, _Cat.ALU)


def _is_fp_data(insn: capstone.CsInsn) -> bool:
    return bool(insn.mnemonic.startswith("v")) and _category(insn) not in _MEMORY


def _needs_full_alu(insn: capstone.CsInsn) -> bool:
    """Shift-and-operate work (Cortex-M7: only its first ALU has the shifter in series)."""
    if insn.id in _ALU0_IDS or insn.group(A.ARM_GRP_THUMB2DSP):
        return True
    if _category(insn) is not _Cat.ALU or insn.id in _SHIFT_IDS:
        return False
    for op in insn.operands:
        if op.type == A.ARM_OP_REG and op.shift.type != 0:
            return True  # add r0, r1, r2, lsl #4
        if (op.type == A.ARM_OP_IMM and insn.size == 4 and insn.id not in _PLAIN_IMMEDIATE_IDS
                and not 0 <= op.imm <= 255):
            return True  # a Thumb-2 modified immediate wider than 8 bits is rotated
    return False


def _reads_writes(insn: capstone.CsInsn) -> tuple[set[int], set[int]]:
    """Registers read and written, the flags as CPSR; a conditional instruction reads them."""
    read, written = (set(r) for r in insn.regs_access())
    if insn.update_flags:
        written.add(A.ARM_REG_CPSR)
    if insn.cc not in (A.ARM_CC_AL, A.ARM_CC_INVALID):
        read.add(A.ARM_REG_CPSR)
    return ({A.ARM_REG_CPSR if r in _FLAGS else r for r in read},
            {A.ARM_REG_CPSR if r in _FLAGS else r for r in written})


def _independent(insn: capstone.CsInsn, prev: capstone.CsInsn) -> bool:
    """No register (flags included) the younger reads or writes is written by the older; a
    branch is predicted at fetch, so it does not wait for the flags or register it tests."""
    w1 = _reads_writes(prev)[1]
    if w1 & _PC_REGS:
        return False  # the older instruction branches
    r2, w2 = _reads_writes(insn)
    if _category(insn) in _BRANCHES:
        r2 = set()
    return not (r2 & w1) and not ((w2 - {A.ARM_REG_CPSR}) & w1)


def dual_issues(insn: capstone.CsInsn, prev: capstone.CsInsn | None, timing: CoreTiming) -> bool:
    """Whether ``insn`` issues in the same cycle as ``prev``, the instruction just before it in
    the same basic block, on a superscalar core (``timing.dual_issue``); the caller makes sure
    ``prev`` did not already pair with its own predecessor. Both must be single-cycle
    instructions. Decoded without detail, or on a single-issue core: False."""
    mode = timing.dual_issue
    if mode is DualIssue.NONE or prev is None:
        return False
    c1, c2 = _category(prev), _category(insn)
    if c1 in _SOLO or c2 in _SOLO or prev.id in _SOLO_IDS or insn.id in _SOLO_IDS:
        return False
    if c1 in _BRANCHES:
        return False  # a branch ends its pair (and its block)
    try:
        if (instruction_cycles(prev, timing) != 1
                or instruction_cycles(insn, timing, prev) != 1
                or not _independent(insn, prev)):
            return False
        if mode is DualIssue.CORTEX_M33:
            # Limited dual issue: a 16-bit instruction and the branch after it.
            return prev.size == 2 and c2 in _BRANCHES
        # Cortex-M7: one load/store unit pair slot (load + load or load + store), one MAC
        # pipeline, one FP data-processing pipeline, one full ALU, DSP only in the older slot.
        if c1 in _MEMORY and c2 in _MEMORY and not (
                c1 is _Cat.LOAD and c2 in (_Cat.LOAD, _Cat.STORE)):
            return False
        if c1 in _MAC_PIPE and c2 in _MAC_PIPE:
            return False
        if _is_fp_data(prev) and _is_fp_data(insn):
            return False
        if insn.group(A.ARM_GRP_THUMB2DSP) or insn.id in _DSP_SECOND_SLOT_IDS:
            return False
        return not (_needs_full_alu(prev) and _needs_full_alu(insn))
    except (capstone.CsError, IndexError):
        return False


# MSR targets that change the stack pointer in use (CONTROL.SPSEL can switch MSP/PSP).
_SP_SYSREGS = frozenset(
    getattr(A, f"ARM_SYSREG_{n}")
    for n in ("MSP", "PSP", "MSP_NS", "PSP_NS", "SP_NS", "CONTROL", "CONTROL_NS")
)
_INCREMENT_LISTS = frozenset(_ids("POP", "VPOP", "LDM", "STM", "VLDMIA", "VSTMIA"))
_DECREMENT_LISTS = frozenset(_ids("PUSH", "VPUSH", "LDMDB", "STMDB", "VLDMDB", "VSTMDB"))


def _writes_sp(insn: capstone.CsInsn) -> bool:
    try:
        if A.ARM_REG_SP in insn.regs_access()[1]:
            return True
    except capstone.CsError:
        pass
    return any(
        op.type == A.ARM_OP_REG and op.reg == A.ARM_REG_SP and op.access & capstone.CS_AC_WRITE
        for op in insn.operands
    )


def sp_delta(insn: capstone.CsInsn) -> int | None:
    """Net change this instruction makes to SP in bytes, when known statically.

    ``push {r4, lr}`` -> -8, ``add sp, #16`` -> 16, ``str r0, [sp, #-8]!`` -> -8;
    0 if SP is not written; None if SP is written with a value not known statically
    (``mov sp, r0``, ``sub sp, sp, r3``, ``msr msp, r0``, ``ldr sp, [r0]``).
    """
    iid, ops = insn.id, insn.operands
    if iid == A.ARM_INS_MSR:
        regs = {op.reg for op in ops if op.type == A.ARM_OP_SYSREG}
        return None if regs & _SP_SYSREGS else 0
    if iid in _INCREMENT_LISTS or iid in _DECREMENT_LISTS:
        based = iid in _STACK_LISTS or (
            insn.writeback and ops[0].type == A.ARM_OP_REG and ops[0].reg == A.ARM_REG_SP
        )
        sp_in_list = any(
            op.type == A.ARM_OP_REG and op.reg == A.ARM_REG_SP for op in _list_operands(insn)
        )
        if based and not sp_in_list:
            size = 4 * _list_words(insn)
            return size if iid in _INCREMENT_LISTS else -size
    if not _writes_sp(insn):
        return 0
    if insn.group(A.ARM_GRP_NEON):  # not M-profile; writeback size depends on the element list
        return None
    mem = next((op for op in ops if op.type == A.ARM_OP_MEM), None)
    if mem is not None:
        loads_sp = any(
            op.type == A.ARM_OP_REG
            and op.reg == A.ARM_REG_SP
            and op.access & capstone.CS_AC_WRITE
            for op in ops
        )
        if not insn.writeback or mem.mem.base != A.ARM_REG_SP or loads_sp or mem.mem.index:
            return None
        if insn.post_index:  # ldr r0, [sp], #4: offset is the trailing immediate
            return int(ops[-1].imm) if ops[-1].type == A.ARM_OP_IMM else None
        return int(-abs(mem.mem.disp) if mem.subtracted else mem.mem.disp)
    # add sp, #imm (2 operands) or add sp, sp, #imm (3 operands); any other form is unknown
    sp_only = all(op.type == A.ARM_OP_REG and op.reg == A.ARM_REG_SP for op in ops[:-1])
    if (iid in _ADD_IDS or iid in _SUB_IDS) and ops and ops[-1].type == A.ARM_OP_IMM and sp_only:
        return int(ops[-1].imm if iid in _ADD_IDS else -ops[-1].imm)
    return None


# Instructions whose cost or SP change depends on their operands: register lists, FP memory
# moves, VMOV's register count, MSR's target, loads and stores (addressing mode and registers
# decide whether they pipeline). Any other instruction costs its class's base cycles
# and leaves SP alone unless its operand text names SP, so capstone's operand detail (the slow
# part of decoding) is only needed for these and for operands that mention SP.
_DETAIL_IDS = frozenset(
    i for cat in (_Cat.LIST, _Cat.FP_LIST, _Cat.FP_MEM, _Cat.LOAD, _Cat.STORE)
    for i in _GROUPS[cat]
) | {A.ARM_INS_VMOV, A.ARM_INS_MSR}


def needs_detail(insn: capstone.CsInsn) -> bool:
    """Whether ``instruction_cycles``/``sp_delta`` of ``insn`` need capstone's operand detail.

    When False, the instruction (decoded without detail) costs its class's base cycles and
    changes SP by 0, exactly what both functions return for it decoded with detail."""
    return insn.id in _DETAIL_IDS or "sp" in insn.op_str


def make_disassembler() -> capstone.Cs:
    """Capstone disassembler for ARM Thumb + M-class with instruction details enabled."""
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = True
    return md

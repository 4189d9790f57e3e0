"""Per-halfword facts about the code in flash, computed once per ELF with capstone.

For every flash halfword where an instruction starts (found by a linear sweep of the code
ranges of ``FirmwareImage.exec_ranges``: the executable sections without the literal pools and
tables their mapping symbols mark as data), three tables hold its base cycle cost on the target
core, the change it makes to SP, and whether it is a floating-point (VFP) instruction. The
native block hook sums these over each basic block the first time the block runs. Instruction
*counts* do not depend on these tables: the hook decodes Thumb-2 instruction lengths itself.

On a dual-issue core the cost byte's top bit (``PAIRS``) marks an instruction that issues in the
same cycle as the one before it; the hook applies it only inside a basic block and only when
that one did not pair with its own predecessor (in-order pairs), and then charges one cycle
less. The low seven bits hold the cost (at most ``MAX_COST``).
"""

import capstone
import numpy as np

from sim.isa_gaps import lacks
from sim.native import SPD_DYNAMIC
from sim.timing import (
    CoreTiming,
    DualIssue,
    dual_issues,
    instruction_cycles,
    make_disassembler,
    needs_detail,
    sp_delta,
)

PAIRS = 0x80  # cost-byte flag: dual-issues with the instruction before it (sim/_blockhook.c)
MAX_COST = 0x7F


def cost_byte(insn: capstone.CsInsn, timing: CoreTiming, prev: capstone.CsInsn | None) -> int:
    """The cost table's byte for ``insn`` after ``prev`` (the instruction at the address
    before it, None when unknown)."""
    cost = min(max(instruction_cycles(insn, timing, prev), 1), MAX_COST)
    return cost | (PAIRS if dual_issues(insn, prev, timing) else 0)


FP64 = 3  # the fp table's value for a double-precision operation
# the fp table's bit for an instruction the core lacks (sim/isa_gaps.py): with FP64 it is what
# the native hook stops a block before (BF_FP64); bit 0 alone marks floating point (BF_FP)
UNDEFINED = 2


def fp_kind(mnemonic: str) -> int:
    """The fp table's value for an instruction: 0 not floating point, 1 floating point,
    FP64 a double-precision operation (which an FPv4-SP/FPv5-SP FPU does not have)."""
    if not mnemonic.startswith("v"):
        return 0
    return FP64 if "f64" in mnemonic else 1


def build_tables(
    flash: np.ndarray, flash_base: int, exec_ranges: list[tuple[int, int]], timing: CoreTiming,
    architecture: str | None = None, fpu: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost, spd, fp) arrays of ``len(flash) // 2`` entries; cost 0 means "no instruction
    known", fp 1 marks a floating-point instruction (all of them, and nothing else, have
    mnemonics starting with "v" in Arm syntax), fp 3 one that computes in double precision
    (an ``.f64`` mnemonic: loads, stores and moves of a D register are single-precision FPU
    instructions too), fp 2 one a core of ``architecture`` lacks though Unicorn's model of it
    executes it (sim/isa_gaps.py); without ``fpu`` (a core with none) no instruction is
    marked FP64: each floating-point one is a coprocessor access (NOCP)."""
    n = len(flash) // 2
    cost = np.zeros(n, np.uint8)
    spd = np.zeros(n, np.int16)
    fp = np.zeros(n, np.uint8)
    # The sweep decodes without operand detail (several times faster); the few instructions
    # whose cost or SP change depends on operands are decoded again with detail.
    sweep = make_disassembler()
    sweep.detail = False
    sweep.skipdata = True
    md = make_disassembler()
    every_detail = timing.dual_issue is not DualIssue.NONE  # pairing reads every operand
    size = len(flash)
    for start, end in exec_ranges:
        lo, hi = max(start - flash_base, 0), min(end - flash_base, size)
        if lo >= hi:
            continue
        code = flash[lo:hi].tobytes()
        prev = None  # the instruction before, in address order: loads and stores pipeline
        for insn in sweep.disasm(code, flash_base + lo):
            if insn.id == 0:  # skipped data
                prev = None
                continue
            idx = (insn.address - flash_base) >> 1
            fp[idx] = fp_kind(insn.mnemonic)
            if fp[idx] == FP64 and not fpu:  # no FPU at all: NOCP, as any FP instruction
                fp[idx] = 1
            if architecture is not None and lacks(architecture, insn.mnemonic):
                fp[idx] = UNDEFINED
            if every_detail or needs_detail(insn):
                off = insn.address - flash_base - lo
                insn = next(md.disasm(code[off : off + insn.size], insn.address, 1))
                d = sp_delta(insn)
                spd[idx] = SPD_DYNAMIC if d is None else max(min(d, 32767), -32767)
            cost[idx] = cost_byte(insn, timing, prev)
            prev = insn
    return cost, spd, fp

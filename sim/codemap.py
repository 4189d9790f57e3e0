"""Per-halfword facts about the code in flash, computed once per ELF with capstone.

For every flash halfword where an instruction starts (found by a linear sweep of each executable
section, data in literal pools skipped), three tables hold its base cycle cost on the target
core, the change it makes to SP, and whether it is a floating-point (VFP) instruction. The
native block hook sums these over each basic block the first time the block runs. Instruction
*counts* do not depend on these tables: the hook decodes Thumb-2 instruction lengths itself.
"""

import numpy as np

from sim.native import SPD_DYNAMIC
from sim.timing import CoreTiming, instruction_cycles, make_disassembler, needs_detail, sp_delta


def build_tables(
    flash: np.ndarray, flash_base: int, exec_ranges: list[tuple[int, int]], timing: CoreTiming
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost, spd, fp) arrays of ``len(flash) // 2`` entries; cost 0 means "no instruction
    known", fp 1 marks a floating-point instruction (all of them, and nothing else, have
    mnemonics starting with "v" in Arm syntax)."""
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
            fp[idx] = insn.mnemonic.startswith("v")
            if needs_detail(insn):
                off = insn.address - flash_base - lo
                insn = next(md.disasm(code[off : off + insn.size], insn.address, 1))
                d = sp_delta(insn)
                spd[idx] = SPD_DYNAMIC if d is None else max(min(d, 32767), -32767)
            cost[idx] = min(max(instruction_cycles(insn, timing, prev), 1), 255)
            prev = insn
    return cost, spd, fp

"""What a core does with an instruction or access it cannot perform, in words for the report.

The engine emulates the target's own core (``Core.unicorn_model``, without Unicorn's
"any M-class" mode), so what the core lacks faults: an instruction outside its architecture is
undefined, a coprocessor it does not have (the FPU on a Cortex-M0+/M3, any cp15 access) raises
NOCP, and on ARMv6-M an unaligned halfword or word access raises HardFault. Unicorn reports
these as QEMU exception numbers (``UC_HOOK_INTR``) or as an invalid instruction; this module
turns them into the fault kind and the one-line message, naming the instruction, the
coprocessor or the address.

Sources: Armv7-M Architecture Reference Manual (DDI 0403E) B1.5.14 "Fault behavior" (UsageFault
UNDEFINSTR, NOCP, INVSTATE, UNALIGNED, DIVBYZERO) and A3.2 "Alignment support"; Armv6-M
Architecture Reference Manual (DDI 0419E) B1.5.2 (no UsageFault: every fault is HardFault) and
A3.2 "Alignment support" (unaligned halfword and word accesses always fault).
"""

import re
from collections.abc import Callable

import capstone
from capstone import arm_const as A

from toolchain.cores import Core

# QEMU exception numbers as Unicorn reports them to UC_HOOK_INTR.
EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT, EXCP_BKPT = 1, 2, 3, 4, 7
EXCP_NOCP, EXCP_INVSTATE, EXCP_STKOF, EXCP_UNALIGNED, EXCP_DIVBYZERO = 17, 18, 19, 22, 23

EXCEPTIONS: dict[int, tuple[str, str]] = {
    EXCP_UDEF: ("undefined_instruction", "undefined instruction (UsageFault UNDEFINSTR)"),
    EXCP_SWI: ("hard_fault", "SVC with no handler modelled"),
    EXCP_PREFETCH_ABORT: ("hard_fault", "prefetch abort (bus fault on instruction fetch)"),
    EXCP_DATA_ABORT: ("hard_fault", "data abort (bus fault)"),
    EXCP_NOCP: ("hard_fault", "coprocessor access (UsageFault NOCP)"),
    EXCP_INVSTATE: ("hard_fault",
                    "invalid state (UsageFault INVSTATE: the Thumb bit is clear, after a branch "
                    "to an even address or an exception return whose stacked xPSR has T = 0)"),
    EXCP_STKOF: ("stack_limit", "SP would go below MSPLIM/PSPLIM, the stack limit "
                               "(UsageFault STKOF)"),
    EXCP_UNALIGNED: ("hard_fault", "unaligned access (UsageFault UNALIGNED)"),
    EXCP_DIVBYZERO: ("hard_fault", "divide by zero (UsageFault DIVBYZERO)"),
}

_COPROC = re.compile(r"\bp(\d+)\b")

# The Execute-Never regions of the ARMv6-M/v7-M/v8-M default memory map (ARMv7-M ARM B3.1
# Table B3-1): (start, end inclusive, name). A fetch there is a MemManage fault IACCVIOL
# (MMFAR not valid; HardFault while MemManage is disabled, and on ARMv6-M), whether a device
# answers at that address or not.
XN_REGIONS = ((0x4000_0000, 0x5FFF_FFFF, "Peripheral"), (0xA000_0000, 0xDFFF_FFFF, "Device"),
              (0xE000_0000, 0xFFFF_FFFF, "System"))
XN_FETCH = "instruction fetch from an Execute-Never region (MemManage IACCVIOL on the chip)"


def execute_never(address: int) -> str | None:
    """``the Peripheral region, 0x40000000-0x5fffffff`` when ``address`` lies in an
    Execute-Never region of the default memory map, else None."""
    for start, end, name in XN_REGIONS:
        if start <= address <= end:
            return f"the {name} region, 0x{start:08x}-0x{end:08x}"
    return None


def undefined(core: Core, insn: capstone.CsInsn | None, raw: bytes = b"") -> str:
    """The message for an instruction the core cannot execute. ``insn`` is the instruction as
    a decoder that knows the M-profile extensions reads it (None: not even that; ``raw`` then
    holds its halfwords, little-endian, when they are readable)."""
    fault = "HardFault" if core.architecture == "armv6-m" else "UsageFault UNDEFINSTR"
    if insn is not None and insn.mnemonic in ("udf", "udf.w"):
        return f"undefined instruction ({fault})"
    if insn is not None:
        what = f"`{f'{insn.mnemonic} {insn.op_str}'.strip()}`"
        if "f64" in insn.mnemonic and core.fpu is not None and "-sp-" in core.fpu:
            return (f"undefined instruction ({fault}): {what} computes in double precision; "
                    f"{core.name}'s FPU ({core.fpu}) has single precision only (build with "
                    f"-mfpu={core.fpu}: doubles then go to the C library)")
    elif len(raw) >= 2:
        halfwords = [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]
        what = "encoding " + " ".join(f"0x{h:04x}" for h in halfwords)
    else:
        return f"undefined instruction ({fault})"
    return (f"undefined instruction ({fault}): {what} is not in {core.name}'s instruction set "
            f"({core.architecture})")


def no_coprocessor(core: Core, insn: capstone.CsInsn | None) -> str:
    """The message for a NOCP fault: which coprocessor, and why it is not there."""
    fault = "HardFault" if core.architecture == "armv6-m" else "UsageFault NOCP"
    if insn is not None and insn.mnemonic.startswith("v"):
        why = (f"{core.name} has no FPU" if core.fpu is None
               else "the FPU (coprocessors p10/p11) is not enabled in CPACR")
        return f"floating-point instruction: {why} ({fault})"
    m = _COPROC.search(insn.op_str) if insn is not None else None
    which = f"coprocessor p{m.group(1)}" if m else "a coprocessor"
    return f"access to {which}, which {core.name} does not have ({fault})"


def effective_address(insn: capstone.CsInsn, reg: Callable[[str], int]) -> int | None:
    """The address a load or store accesses (before any writeback), from its memory operand
    and the registers as they are when it faults; None when it has no such operand."""
    for op in insn.operands:
        if op.type != A.ARM_OP_MEM:
            continue
        mem = op.mem
        base = 0 if mem.base == 0 else reg(insn.reg_name(mem.base))
        if mem.base == A.ARM_REG_PC:
            base = (insn.address + 4) & ~3
        offset = 0
        if mem.index:  # (capstone 5 gives a Thumb-2 index's shift in op.shift)
            shift = op.shift.value if op.shift.type == A.ARM_SFT_LSL else max(mem.lshift, 0)
            offset = reg(insn.reg_name(mem.index)) << shift
            offset = -offset if op.subtracted else offset
        elif not insn.post_index:
            offset = mem.disp
        return (base + offset) & 0xFFFFFFFF
    if insn.mnemonic.startswith(("ldm", "stm")) and insn.operands:  # base register first
        op = insn.operands[0]
        start = reg(insn.reg_name(op.reg)) if op.type == A.ARM_OP_REG else 0
        if insn.id in (A.ARM_INS_LDMDB, A.ARM_INS_STMDB):
            start -= 4 * (len(insn.operands) - 1)
        return start & 0xFFFFFFFF
    return None


def access_size(insn: capstone.CsInsn) -> int:
    """Bytes one element of the access moves: 1 (byte), 2 (halfword) or 4 (word and the
    multi-word forms, which fault per word)."""
    name = insn.mnemonic.split(".")[0]
    if name.startswith(("ldrb", "strb", "ldrsb")):
        return 1
    if name.startswith(("ldrh", "strh", "ldrsh")):
        return 2
    return 4


def is_store(insn: capstone.CsInsn) -> bool:
    mnemonic: str = insn.mnemonic
    return mnemonic.startswith(("str", "stm", "push", "vst", "vpush"))


_DECREMENT = frozenset({A.ARM_INS_LDMDB, A.ARM_INS_STMDB, A.ARM_INS_VLDMDB, A.ARM_INS_VSTMDB})


def _transfer_bytes(insn: capstone.CsInsn) -> int:
    """Bytes a multi-register or doubleword access moves (FP D registers count 8)."""
    regs = [op.reg for op in insn.operands if op.type == A.ARM_OP_REG]
    if insn.mnemonic.startswith(("ldm", "stm", "vldm", "vstm")):
        regs = regs[1:]  # the base register comes first
    elif insn.mnemonic.startswith(("ldrex", "strex", "lda", "stl")):
        return 0  # the alignment the caller knows
    elif insn.mnemonic.startswith(("strd", "ldrd")):
        return 8
    return sum(8 if A.ARM_REG_D0 <= r <= A.ARM_REG_D31 else 4 for r in regs[:1]) \
        if insn.mnemonic.startswith(("vldr", "vstr")) else 4 * len(regs)


def unaligned_required(core: Core, insn: capstone.CsInsn | None, base: int,
                       alignment: int) -> tuple[str, int, int, str]:
    """(message, first address, bytes, "read"/"write") for an access the architecture always
    requires aligned (sim/alignment.py) made through base register value ``base``. Armv7-M
    ARM A3.2.1: these fault whatever CCR.UNALIGN_TRP says."""
    address, size, verb, what = base, alignment, "read", "this access"
    if insn is not None:
        size = _transfer_bytes(insn) or alignment
        verb = "write" if is_store(insn) or insn.mnemonic.startswith(("stl", "strex")) \
            else "read"
        what = f"`{f'{insn.mnemonic} {insn.op_str}'.strip()}`"
        if insn.id in _DECREMENT:
            address = (base - size) & 0xFFFFFFFF
        else:  # the base register's value is all the address needs besides the instruction
            ea = effective_address(insn, lambda _name: base)
            address = base if ea is None else ea
    unit = "word" if alignment == 4 else "halfword"
    return (f"unaligned {size}-byte {verb} at 0x{address:08x}: UsageFault UNALIGNED ({what} "
            f"needs a {unit}-aligned address on {core.architecture}, whatever "
            "CCR.UNALIGN_TRP says)", address, size, verb)

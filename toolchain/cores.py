"""One record per Cortex-M core: everything that differs between cores, in one place.

A :class:`Core` names the core as gcc's ``-mcpu`` does, its architecture, the FPU it can be
fitted with, the Unicorn CPU model that emulates it, its alignment rule, and the per-instruction
base cycle costs of its Arm Technical Reference Manual (``CoreTiming``, see docs/cycle-model.md).
Target profiles (``toolchain.profiles``) refer to a core by name; the simulator reads the record
to choose the emulated CPU, the cycle table and the fault rules.

The instruction *classes* a timing table prices are listed in :class:`InsnClass`; which
instruction falls in which class is the simulator's decoding business (``sim.timing``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto
from types import MappingProxyType

from unicorn import arm_const


class InsnClass(Enum):
    """Timing classes; an instruction in no other class is ``ALU`` (1 cycle)."""

    ALU = auto()
    MUL = auto()  # MUL/MULS, 32-bit result
    MAC = auto()  # MLA, MLS
    MULL = auto()  # SMULL, UMULL
    MLAL = auto()  # SMLAL, UMLAL
    DIV = auto()  # SDIV, UDIV
    LOAD = auto()  # single load (incl. exclusive / acquire)
    STORE = auto()  # single store (incl. exclusive / release)
    PAIR = auto()  # LDRD / STRD: 1 + N with N = 2
    LIST = auto()  # LDM/STM/PUSH/POP: cost = table value + N registers
    POP_PC = auto()  # extra cycles for a register list that loads PC (M0+ only)
    BRANCH = auto()  # B, BX, BLX, CBZ, CBNZ (refill added by the simulator)
    CALL = auto()  # BL (immediate)
    TABLE = auto()  # TBB, TBH
    SPECIAL = auto()  # MRS, MSR
    CPS = auto()  # CPSID, CPSIE
    BARRIER = auto()  # DMB, DSB
    ISB = auto()  # ISB: barrier plus pipeline refill
    WAIT = auto()  # WFI, WFE (time spent asleep not modelled)
    FP_MAC = auto()  # VMLA/VMLS/VNMLA/VNMLS/VFMA/VFMS/VFNMA/VFNMS
    FP_DIV = auto()  # VDIV, VSQRT
    FP_MEM = auto()  # VLDR/VSTR: cost = table value + 32-bit words moved
    FP_LIST = auto()  # VLDM/VSTM/VPUSH/VPOP: cost = table value + 32-bit words moved
    FP_MOV2 = auto()  # VMOV between two core registers and a D / two S registers


class DualIssue(Enum):
    """Which neighbouring instruction pairs a core issues in one cycle (sim.timing.dual_issues
    holds the rules, docs/cycle-model.md their sources)."""

    NONE = auto()  # single issue
    CORTEX_M7 = auto()  # two issue slots behind a full and a limited ALU, one MAC, two loads
    CORTEX_M33 = auto()  # limited: a 16-bit instruction and the branch after it


@dataclass(frozen=True)
class CoreTiming:
    """A core's cycle model: base cost per instruction class (a class missing from
    ``cycles`` costs 1), and the pipeline refill the simulator adds per taken branch."""

    core: str  # the core's name (gcc -mcpu)
    branch_refill: int  # extra cycles when a branch / PC write is taken (TRM "P")
    source: str  # which Arm TRM / table the numbers come from
    cycles: Mapping[InsnClass, int]
    # The ARMv7-M cores' load/store pipelining (Cortex-M3/M4 TRM, "Load/store timings"): a
    # store with an immediate offset takes one cycle, and a single load or store right after a
    # single load overlaps its address phase with that load's data phase (one cycle) unless it
    # needs the loaded value for its address. False: every load and store costs its class.
    pipelined_load_store: bool = False
    # Superscalar issue: an instruction that pairs with the one before it in the same basic
    # block (and that one did not pair with its own predecessor) adds no cycle.
    dual_issue: DualIssue = DualIssue.NONE
    # Extra cycles for a load or store whose address register the load just before it wrote
    # (cores whose single loads cost 1: the value arrives after the address stage needs it).
    load_to_address_stall: int = 0
    # Extra cycles for any other instruction that reads a register the load just before it
    # wrote (load-to-use latency beyond one cycle).
    load_use_stall: int = 0


@dataclass(frozen=True)
class Core:
    name: str  # gcc -mcpu name
    architecture: str  # "armv6-m", "armv7-m", "armv7e-m" or "armv8-m.main"
    fpu: str | None  # gcc -mfpu of the FPU the core can be fitted with; None: never an FPU
    unicorn_model: int  # unicorn.arm_const.UC_CPU_ARM_*
    unaligned_access: bool  # False (v6-M): every unaligned halfword or word access faults
    timing: CoreTiming
    # Unicorn's model of the core executes double-precision VFP operations, which ``fpu`` (a
    # single-precision FPU) does not have: the simulator stops them as the chip would
    # (QEMU's Cortex-M7 has FPv5-D16; its M4 and M33 refuse .f64 operations themselves)
    unicorn_fp64: bool = False


def _table(**costs: int) -> Mapping[InsnClass, int]:
    return MappingProxyType({InsnClass[k]: v for k, v in costs.items()})


# Base costs per core. A class missing from a core's table costs 1 (e.g. FP on M3, or
# ARMv7-M-only instructions decoded for the ARMv6-M Cortex-M0+).
_M3 = dict(MUL=1, MAC=2, MULL=5, MLAL=7, DIV=12, LOAD=2, STORE=2, PAIR=3, LIST=1, BRANCH=1,
           CALL=1, TABLE=2, SPECIAL=2, CPS=2, BARRIER=1, ISB=3, WAIT=1)
_M4 = dict(_M3, MAC=1, MULL=1, MLAL=1, FP_MAC=3, FP_DIV=14, FP_MEM=1, FP_LIST=1, FP_MOV2=2)
_M0P = dict(MUL=1, LOAD=2, STORE=2, LIST=1, POP_PC=1, BRANCH=1, CALL=2, SPECIAL=3, CPS=1,
            BARRIER=3, ISB=3, WAIT=2)
# Cortex-M7: every single load and store issues in one cycle (pipelined load/store unit), as
# does an LDRD/STRD (64-bit AXIM and 2x32-bit DTCM data paths); see docs/cycle-model.md.
_M7 = dict(_M4, LOAD=1, STORE=1, PAIR=1, ISB=2)
# Cortex-M33: address generation in the second of three stages, so a single load or store
# takes one cycle; a doubleword moves over the 32-bit bus in two.
_M33 = dict(_M4, LOAD=1, STORE=1, PAIR=2)

CORES: dict[str, Core] = {
    c.name: c
    for c in (
        Core("cortex-m0plus", "armv6-m", None, arm_const.UC_CPU_ARM_CORTEX_M0, False,
             CoreTiming("cortex-m0plus", 1, (
                 "Arm Cortex-M0+ TRM (ARM DDI 0484C), Table 3-1 'Cortex-M0+ instruction "
                 "summary'; MULS assumes the single-cycle multiplier option"), _table(**_M0P))),
        Core("cortex-m3", "armv7-m", None, arm_const.UC_CPU_ARM_CORTEX_M3, True,
             CoreTiming("cortex-m3", 2, (
                 "Arm Cortex-M3 TRM r2p1 (ARM DDI 0337I), section 3.3.1, Table 3-1 'Cortex-M3 "
                 "instruction set summary'; P = 2 of 1-3, data-dependent ranges at their "
                 "maximum"), _table(**_M3), pipelined_load_store=True)),
        Core("cortex-m4", "armv7e-m", "fpv4-sp-d16", arm_const.UC_CPU_ARM_CORTEX_M4, True,
             CoreTiming("cortex-m4", 2, (
                 "Arm Cortex-M4 TRM (ARM DDI 0439 / 100166), Table 3-1 'Processor instruction "
                 "set summary' and the FPU chapter instruction table; P = 2 of 1-3"),
                 _table(**_M4), pipelined_load_store=True)),
        Core("cortex-m7", "armv7e-m", "fpv5-sp-d16", arm_const.UC_CPU_ARM_CORTEX_M7, True,
             CoreTiming("cortex-m7", 2, (
                 "Arm Cortex-M7 TRM (ARM DDI 0489) sections 1.2-1.3 (dual issue, load/load and "
                 "load/store pairs, BTAC) with Cortex-M4 costs (DDI 0439 Table 3-1) per "
                 "instruction; pairing, load-use and refill rules of docs/cycle-model.md"),
                 _table(**_M7), dual_issue=DualIssue.CORTEX_M7, load_to_address_stall=1,
                 load_use_stall=1), unicorn_fp64=True),
        Core("cortex-m33", "armv8-m.main", "fpv5-sp-d16", arm_const.UC_CPU_ARM_CORTEX_M33, True,
             CoreTiming("cortex-m33", 1, (
                 "Arm Cortex-M33 TRM (ARM DDI 0553 / 100230) gives no per-instruction table: "
                 "Cortex-M4 costs (DDI 0439 Table 3-1) with the M33 pipeline's single-cycle "
                 "loads and stores, branches resolved in stage 2 (P = 1) and dual issue of "
                 "a 16-bit instruction with a branch; docs/cycle-model.md"), _table(**_M33),
                 dual_issue=DualIssue.CORTEX_M33, load_to_address_stall=1, load_use_stall=1)),
    )
}


def get_core(name: str) -> Core:
    """The record of core ``name``; ValueError (one line) naming the known cores otherwise."""
    try:
        return CORES[name]
    except KeyError:
        raise ValueError(
            f"unknown core {name!r}; expected one of: {', '.join(CORES)}"
        ) from None

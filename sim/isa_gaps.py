"""Instructions Unicorn's model of a core executes though the core does not have them.

Unicorn (QEMU) gates most of the Thumb-2 instruction set by architecture, not all of it: its
Cortex-M3 executes some ARMv7E-M DSP instructions (SXTAB, SMLAD, USAD8, SSAT16, SMULWB, ...)
and its Cortex-M0+ the 16-bit CBZ, CBNZ and IT, which ARMv6-M lacks (v6-M ARM A5.2; v7-M ARM
A7.7 marks each DSP encoding "ARMv7E-M"). On the chip each is UNDEFINED: UsageFault UNDEFINSTR
on the M3, HardFault on the M0+. The code tables mark them (``sim/codemap.py``), and the native
hook stops a block that holds one before it runs, as it does for double precision on a
single-precision FPU: the run faults where the chip faults.

Only code in flash is covered (the tables are built from it); code copied to SRAM and run
there is Unicorn's alone.
"""

import re

# The DSP extension's instructions (ARMv7E-M, and ARMv8-M Mainline with the DSP extension):
# SIMD adds and subtracts, saturating arithmetic, the extend-and-add forms, the halfword and
# dual multiplies. SSAT/USAT, SXTB/UXTB and the long multiplies are in ARMv7-M itself.
_SIMD = {f"{p}{op}" for p in ("s", "q", "sh", "u", "uq", "uh")
         for op in ("add16", "add8", "asx", "sax", "sub16", "sub8")}
DSP = frozenset(_SIMD | {
    "qadd", "qsub", "qdadd", "qdsub", "ssat16", "usat16",
    "sxtab", "sxtah", "sxtab16", "sxtb16", "uxtab", "uxtah", "uxtab16", "uxtb16",
    "usad8", "usada8", "sel", "pkhbt", "pkhtb", "umaal",
    "smlabb", "smlabt", "smlatb", "smlatt", "smlad", "smladx", "smlsd", "smlsdx",
    "smlalbb", "smlalbt", "smlaltb", "smlaltt", "smlald", "smlaldx", "smlsld", "smlsldx",
    "smlawb", "smlawt", "smulbb", "smulbt", "smultb", "smultt", "smulwb", "smulwt",
    "smuad", "smuadx", "smusd", "smusdx", "smmla", "smmlar", "smmls", "smmlsr", "smmul",
    "smmulr",
})
# ARMv7-M's 16-bit additions, which ARMv6-M does not have (its 32-bit ones Unicorn refuses)
_V7M_16BIT = frozenset({"cbz", "cbnz"})
_IT = re.compile(r"^it[te]{0,3}$")
_CONDITIONS = ("eq", "ne", "hs", "cs", "lo", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge",
               "lt", "gt", "le", "al")


def _base(mnemonic: str) -> str:
    """The mnemonic without a width qualifier or the condition an IT block gives it."""
    m = mnemonic.removesuffix(".w").removesuffix(".n")
    if m[-2:] in _CONDITIONS and m not in DSP and m[:-2] in DSP:
        return m[:-2]
    return m


def lacks(architecture: str, mnemonic: str) -> bool:
    """Whether a core of ``architecture`` ("armv6-m", "armv7-m", "armv7e-m", "armv8-m.main")
    lacks the instruction ``mnemonic`` (capstone's name for it) though Unicorn's model of
    the core may execute it."""
    if architecture not in ("armv6-m", "armv7-m"):
        return False
    base = _base(mnemonic)
    if base in DSP:
        return True
    return architecture == "armv6-m" and (base in _V7M_16BIT or bool(_IT.match(base)))

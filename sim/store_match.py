"""Which store (or load) of a basic block is writing (reading) a device now.

Unicorn counts a block's cycles when the block starts, and a device's callback sees the
block's start as the PC, not the store's (a memory hook would give it, but any memory hook puts
every store of the firmware on Unicorn's slow path, about 3 times slower). The general
registers are up to date in the callback, though, so the store can be told from the address it
writes: the simulator takes back the cycles of the instructions after it, and a pin's or the
clock's change is timed at its own cycle. A load is found the same way (``BlockAccesses(...,
loads=True)``), so that a counter read (DWT CYCCNT, SysTick CVR, a timer's CNT) gives its value
at the load's own cycle: in the read callback the registers are those before the load (Unicorn
writes the load's destination, and a writeback, after the callback: ``ldr r3, [r3]`` is found
by r3's old value); only an LDM's own earlier words are in their registers already.

A store ``k`` is the one writing ``address`` when its address, computed from the registers now,
is ``address`` (a store-multiple's words: any of them), and the registers agree with ``k``
running now: for each register an instruction before ``k`` in the block writes, the last such
writer's value (a literal-pool load, a move of a constant or of a register) is the register's
value now; otherwise an instruction after ``k`` has run and ``k`` ran before (GCC reuses one
register for each peripheral register it writes in turn). Each device write of a pass through
the block is matched in turn, so the search starts after the store matched last. None when no
store fits: the caller then takes the block's end. Loads likewise: a load-multiple's (LDM) or
a doubleword's (LDRD) words: any of them.
"""

from __future__ import annotations

from collections.abc import Callable

import capstone
from capstone import arm_const as A

from sim import faults

Reg = Callable[[str], int]


class BlockAccesses:
    """The stores (``loads``: the loads) of one block's instructions ``code`` (the block ends
    at ``end``), and what each instruction writes; ``literal(address)`` reads a word of the
    literal pool (None: not readable), ``cycles(start, end)`` counts the cycles of the code in
    [start, end)."""

    def __init__(self, code: list[capstone.CsInsn], end: int,
                 literal: Callable[[int], int | None],
                 cycles: Callable[[int, int], int], loads: bool = False) -> None:
        self.code = code
        kind = is_load if loads else faults.is_store
        self.accesses = [i for i, insn in enumerate(code) if kind(insn)]  # (loads: the loads)
        self._written = [_written(insn) for insn in code]
        self._literal = literal
        self._end, self._cycles = end, cycles
        self._after: dict[int, int] = {}
        # the cycles after the block's only access (None: none, or several)
        self.single = self.cycles_after(0) if len(self.accesses) == 1 else None

    def cycles_after(self, position: int) -> int:
        """The cycles of the block's instructions after the access at ``position`` (counted
        once): the block's less those up to the access and its own, each counted from the
        block's start (on a dual-issue core whether an instruction pairs with the one before
        depends on what paired before it)."""
        if position not in self._after:
            insn = self.code[self.accesses[position]]
            start, rest = int(self.code[0].address), int(insn.address) + int(insn.size)
            self._after[position] = (self._cycles(start, self._end) - self._cycles(start, rest)
                                     if rest < self._end else 0)
        return self._after[position]

    def find(self, address: int, after: int, reg: Reg) -> int | None:
        """The position in ``accesses`` of the store writing (load reading) ``address`` now,
        searching after position ``after`` (the one matched last in this pass: -1 for none; a
        multiple-word access matched last may access again)."""
        start = after if after >= 0 and self._multiple(self.accesses[after]) else after + 1
        for position in range(max(start, 0), len(self.accesses)):
            index = self.accesses[position]
            if self._reaches(index, address, reg) and self._agrees(index, reg):
                return position
        return None

    def _multiple(self, index: int) -> bool:
        """Whether the access at ``index`` moves several words (each its own callback)."""
        return bool(self._mnemonic(index).startswith(("stm", "ldm", "ldrd")))

    def _mnemonic(self, index: int) -> str:
        return str(self.code[index].mnemonic)

    def _reaches(self, index: int, address: int, reg: Reg) -> bool:
        insn = self.code[index]
        first = faults.effective_address(insn, reg)  # (a push writes the stack: None)
        if first is None:
            return False
        mnemonic = self._mnemonic(index)
        if mnemonic.startswith(("stm", "ldm")):  # the base register, then the registers moved
            return first <= address < first + 4 * (len(insn.operands) - 1)
        if mnemonic.startswith("ldrd"):
            return first <= address < first + 8
        return first == address

    def _agrees(self, index: int, reg: Reg) -> bool:
        """Whether the registers now are what the block's instructions before ``index`` left
        (as far as their values can be known): the access at ``index`` may be running now (an
        LDM's or LDRD's registers may hold its earlier words already: Unicorn writes each word's
        register before it reads the next; not compared)."""
        last: dict[str, int] = {}
        for i in range(index):
            for name in self._written[i]:
                last[name] = i
        own = (self._written[index] if self._mnemonic(index).startswith(("ldm", "ldrd"))
               else frozenset())
        for name, writer in last.items():
            if name in own:
                continue
            value = self._value(writer, index, reg)
            if value is not None and value != reg(name):
                return False
        return True

    def _value(self, writer: int, until: int, reg: Reg) -> int | None:
        """What instruction ``writer`` put in its register, when known: a literal-pool load, a
        move of a constant, or a move of another register (or an add or subtract of a constant
        to one) that no instruction in (writer, until) writes."""
        insn = self.code[writer]
        ops = insn.operands
        if insn.id == A.ARM_INS_LDR and len(ops) == 2 and ops[1].type == A.ARM_OP_MEM \
                and ops[1].mem.base == A.ARM_REG_PC and not ops[1].mem.index:
            return self._literal(((insn.address + 4) & ~3) + ops[1].mem.disp)
        offset = 0
        if insn.id in (A.ARM_INS_ADD, A.ARM_INS_SUB) and len(ops) == 3 \
                and ops[1].type == A.ARM_OP_REG and ops[2].type == A.ARM_OP_IMM:
            # (`mov r3, r4` between low registers assembles as `adds r3, r4, #0`)
            offset = int(ops[2].imm) * (1 if insn.id == A.ARM_INS_ADD else -1)
        elif insn.id not in (A.ARM_INS_MOV, A.ARM_INS_MOVS) or len(ops) != 2:
            return None
        elif ops[1].type == A.ARM_OP_IMM:
            return int(ops[1].imm) & 0xFFFFFFFF
        if ops[1].type != A.ARM_OP_REG:
            return None
        source = insn.reg_name(ops[1].reg)
        if source in ("pc", "sp") or source == insn.reg_name(ops[0].reg) or any(
                source in self._written[i] for i in range(writer + 1, until)):
            return None
        return (reg(source) + offset) & 0xFFFFFFFF


def is_load(insn: capstone.CsInsn) -> bool:
    """Whether ``insn`` reads memory through an address it computes (LDR and its sizes, LDRD,
    LDREX, LDM, VLDR, VLDM; LDA on ARMv8-M): not POP, which reads the stack."""
    mnemonic: str = insn.mnemonic
    return mnemonic.startswith(("ldr", "ldm", "lda", "vldr", "vldm"))


def _written(insn: capstone.CsInsn) -> frozenset[str]:
    """The general registers ``insn`` writes (r0-r12, lr; not the PC or flags)."""
    try:
        names = {insn.reg_name(r) for r in insn.regs_access()[1]}
    except capstone.CsError:
        return frozenset()
    return frozenset(n for n in names if n and ((n[0] == "r" and n[1:].isdigit()) or n in (
        "sb", "sl", "fp", "ip", "lr")))

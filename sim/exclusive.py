"""The local exclusive monitor across exceptions: LDREX, then an exception, then STREX fails.

ARMv7-M and ARMv8-M clear the local exclusive monitor at every exception entry and return
(ClearExclusiveLocal in the ARM ARM's ExceptionTaken and ExceptionReturn), so an interrupted
load-exclusive/store-exclusive sequence (a C11 atomic, an RTOS's lock-free queue) retries
instead of overwriting what the handler stored. Unicorn keeps the monitor in its CPU state
(QEMU's ``exclusive_addr``) and offers no call to clear it, and the simulator takes exceptions
itself (sim/exceptions.py, natively in sim/_blockhook.c), so without help a STREX after an
exception succeeds. The monitor is cleared here by saving Unicorn's CPU context, writing
``exclusive_addr = -1`` into the copy and restoring it (two copies of a few KiB per entry and
return). Where that field lies in the context is found once per process by experiment: an
LDREX from two known addresses in a scratch engine, and the one 64-bit word of the context
that follows them.

Only images that hold a load-exclusive pay for it (``holds_exclusive``: a conservative scan of
the flash image's halfwords); ARMv6-M has no exclusives at all.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, UcError
from unicorn import arm_const as R

_CODE = 0x1000
_PROBES = (0x2000, 0x3A40)  # two addresses an LDREX reads in the scratch engine


@functools.cache
def monitor_offset(unicorn_model: int) -> int | None:
    """The byte offset of ``exclusive_addr`` (a 64-bit word, -1 when the monitor is open)
    in a context ``uc_context_save`` writes for a core of ``unicorn_model``; None when the
    experiment does not find exactly one such word (another Unicorn build: the monitor then
    stays as Unicorn leaves it)."""
    try:
        uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(unicorn_model)
        uc.mem_map(0, 0x10000)
        uc.mem_write(_CODE, bytes.fromhex("51e8000f00bf"))  # ldrex r0, [r1]; nop
        snaps = []
        for address in _PROBES:
            uc.mem_write(address, _value(address).to_bytes(4, "little"))
            uc.reg_write(R.UC_ARM_REG_R1, address)
            uc.emu_start(_CODE | 1, _CODE + 4)
            ctx = uc.context_save()
            snaps.append(np.frombuffer(ctypes.string_at(ctx.context.value, ctx.size),
                                       np.uint8).copy())
    except (UcError, ValueError):
        return None
    size = min(len(s) for s in snaps)
    # exclusive_addr, then exclusive_val: the word the LDREX read
    found = [off for off in range(0, size - 15, 4)
             if all(int.from_bytes(s[off:off + 8].tobytes(), "little") == a
                    and int.from_bytes(s[off + 8:off + 16].tobytes(), "little") == _value(a)
                    for s, a in zip(snaps, _PROBES, strict=True))]
    return found[0] if len(found) == 1 else None


def _value(address: int) -> int:
    """The word the scratch engine holds at probe ``address``."""
    return 0x5EED_0000 | address


def holds_exclusive(flash: np.ndarray, *loaded: bytes) -> bool:
    """Whether the image (its flash, and the ``loaded`` bytes it puts in SRAM itself) may hold
    a load-exclusive (LDREX, LDREXB/H/D, LDAEX*): a halfword 0xE85n, or 0xE8Dn followed by one
    whose bits 7:4 are not those of TBB/TBH (0 and 1)."""
    return any(_holds(data) for data in (flash.tobytes(), *loaded))


def _holds(data: bytes) -> bool:
    words = np.frombuffer(data, "<u2", count=len(data) // 2)
    if len(words) < 2:
        return False
    first, second = words[:-1], words[1:]
    ldrex = (first & 0xFFF0) == 0xE850
    dual = ((first & 0xFFF0) == 0xE8D0) & (((second >> 4) & 0xF) >= 4)
    return bool(np.any(ldrex | dual))

"""ctypes side of the native block hook (sim/_blockhook.c).

Registering a C function pointer with ``uc_hook_add`` on the engine handle the Python binding
holds keeps Python off the per-block path: counting costs about as much as not counting.
"""

import ctypes
import importlib.util

import numpy as np
from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE
from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib

SPD_DYNAMIC = -32768
STOP_NONE, STOP_STACK_OVERFLOW, STOP_INSN_LIMIT, STOP_UNALIGNED, STOP_FPU_DISABLED = 0, 1, 2, 3, 4
# block flags (_blockhook.c): blocks with these take the slow path
BF_MOVES_SP, BF_DYNAMIC_SP, BF_FP = 2, 4, 8

_P = ctypes.c_void_p

# ``block_info`` in _blockhook.c: the cached facts of the block starting at a flash halfword.
BLOCK_INFO = np.dtype([("cost", np.uint32), ("spmin", np.int32), ("count", np.uint16),
                       ("size", np.uint16), ("flags", np.uint8), ("pad", np.uint8, 3)])
assert BLOCK_INFO.itemsize == 16


class SimState(ctypes.Structure):
    """Mirror of ``sim_state`` in _blockhook.c: keep the two in the same order."""

    _fields_ = [
        ("flash", _P), ("sram", _P), ("cost", _P), ("spd", _P),
        ("bcache", _P),
        ("reg_read", _P), ("emu_stop", _P),
        ("flash_base", ctypes.c_uint32), ("flash_size", ctypes.c_uint32),
        ("sram_base", ctypes.c_uint32), ("sram_size", ctypes.c_uint32),
        ("refill", ctypes.c_uint32), ("static_end", ctypes.c_uint32),
        ("brk_addr", ctypes.c_uint32), ("sp_regid", ctypes.c_int32),
        ("max_insns", ctypes.c_uint64),
        ("insns", ctypes.c_uint64), ("cycles", ctypes.c_uint64),
        ("min_sp", ctypes.c_uint32), ("next_seq", ctypes.c_uint32),
        ("last_addr", ctypes.c_uint32),
        ("stop_reason", ctypes.c_uint32), ("stop_pc", ctypes.c_uint32),
        ("stop_addr", ctypes.c_uint32), ("stop_limit", ctypes.c_uint32),
        ("sp_pending", ctypes.c_uint32),
        ("last_count", ctypes.c_uint32), ("last_cycles", ctypes.c_uint32),
        ("stop_size", ctypes.c_uint32), ("stop_access", ctypes.c_uint32),
        ("pc_regid", ctypes.c_int32),
        ("marks", _P), ("marks_cap", ctypes.c_uint32), ("marks_len", ctypes.c_uint32),
        ("fp", _P), ("slow_flags", ctypes.c_uint32),
    ]


class NativeUnavailable(RuntimeError):
    pass


def _load() -> ctypes.CDLL:
    spec = importlib.util.find_spec("sim._blockhook")
    if spec is None or spec.origin is None:
        raise NativeUnavailable(
            "the native block hook (sim._blockhook) is not built; reinstall with `pip install -e .`"
        )
    lib = ctypes.CDLL(spec.origin)
    lib.sim_range.argtypes = [ctypes.POINTER(SimState), ctypes.c_uint32, ctypes.c_uint32,
                              ctypes.POINTER(ctypes.c_uint32)]
    lib.sim_range.restype = ctypes.c_uint32
    return lib


_lib: ctypes.CDLL | None = None


def library() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def _addr(fn: object) -> int:
    return ctypes.cast(fn, ctypes.c_void_p).value or 0


class BlockCounter:
    """Owns the state struct and the block cache arrays for one engine."""

    def __init__(self, flash_size: int) -> None:
        lib = library()
        n = flash_size // 2
        self.state = SimState()
        self.bcache = np.zeros(n, BLOCK_INFO)
        s = self.state
        s.bcache = self.bcache.ctypes.data
        s.slow_flags = BF_MOVES_SP | BF_DYNAMIC_SP
        s.reg_read = _addr(uclib.uc_reg_read)
        s.emu_stop = _addr(uclib.uc_emu_stop)
        self._hook_fn = _addr(lib.sim_block_hook)
        self._align_fn = _addr(lib.sim_align_hook)
        self._mark_fn = _addr(lib.sim_mark_hook)
        self._marks = np.zeros((0, 3), np.uint64)
        self._marks_installed = False

    def invalidate(self) -> None:
        """Forget cached block facts (after flash contents change)."""
        self.bcache["flags"] = 0

    def install(self, uch: ctypes.c_void_p, trap_unaligned: bool = False) -> None:
        """Register the block hook (and, for v6-M cores, the alignment check) on ``uch``."""
        self._add(uch, UC_HOOK_BLOCK, self._hook_fn)
        if trap_unaligned:
            self._add(uch, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, self._align_fn)

    def install_marks(self, uch: ctypes.c_void_p, addresses: list[int], capacity: int) -> None:
        """Record (address, instructions and cycles retired before it) whenever execution
        reaches one of ``addresses``, up to ``capacity`` times in all (per run), in C: no Python
        runs per mark. Read them back with ``marks()``. Once per engine."""
        if self._marks_installed:
            raise RuntimeError("marks are already installed on this engine")
        self._marks_installed = True
        self._marks = np.zeros((capacity, 3), np.uint64)
        self.state.marks = self._marks.ctypes.data
        self.state.marks_cap, self.state.marks_len = capacity, 0
        for addr in addresses:
            self._add(uch, UC_HOOK_CODE, self._mark_fn, addr, addr)

    def marks(self) -> np.ndarray:
        """The recorded marks, (n, 3) uint64 rows of address, instructions, cycles.

        Raises RuntimeError when more were reached than the capacity held."""
        if self.state.marks_len > self.state.marks_cap:
            raise RuntimeError(f"{self.state.marks_len} marks reached, room for "
                               f"{self.state.marks_cap}")
        return self._marks[: self.state.marks_len]

    def _add(self, uch: ctypes.c_void_p, kind: int, fn: int, begin: int = 1,
             end: int = 0) -> None:
        handle = uc_hook_h()
        err = uclib.uc_hook_add(uch, ctypes.byref(handle), kind, fn,
                                ctypes.addressof(self.state), begin, end)
        if err:
            raise RuntimeError(f"uc_hook_add failed with unicorn error {err}")

    def range_facts(self, start: int, end: int) -> tuple[int, int]:
        """(instructions, base cycles) of the code in [start, end), decoded as the hook does."""
        cost = ctypes.c_uint32()
        n = library().sim_range(ctypes.byref(self.state), start, end, ctypes.byref(cost))
        return int(n), int(cost.value)


class Registers:
    """32-bit core registers read and written through ``uc_reg_read``/``uc_reg_write`` directly.

    The semihosting path touches four registers per call; the binding's generic ``reg_read``
    (register-class lookup, a new ctypes object per call) costs several times the C call, which
    adds up to much of a small model's run when every image makes console calls."""

    def __init__(self, uch: ctypes.c_void_p) -> None:
        self._uch = uch
        self._value = ctypes.c_uint32()
        self._ref = ctypes.byref(self._value)

    def read(self, regid: int) -> int:
        uclib.uc_reg_read(self._uch, regid, self._ref)
        return self._value.value

    def write(self, regid: int, value: int) -> None:
        self._value.value = value & 0xFFFFFFFF
        uclib.uc_reg_write(self._uch, regid, self._ref)


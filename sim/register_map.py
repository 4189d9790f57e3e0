"""Register maps: the registers of a device on a serial bus (a sensor, an EEPROM) as a TOML file
describes them, for the bus models that put such devices beside the firmware (``--i2c``,
sim/i2c_targets.py).

A map is ``size`` registers of ``register_bytes`` bytes each (1, most sensors; 2, TI's TMP102
or INA219; up to 4), sent high byte first. A bus front-end sets the register pointer
(``select``) and starts a transfer (``start``: at the register's first byte); each data byte
then reads or writes the byte the pointer is at, and after a register's last byte the pointer
steps to the next register (``auto_increment = false``: it stays), wrapping at ``size``.

The file's keys, every one optional (an empty file: 256 one-byte registers of 0)::

    name = "TMP102"            # for the report
    register_bytes = 2         # bytes a register holds: 1 to 4
    size = 4                   # registers; 256 by default, at most 65,536
    auto_increment = false
    read_only = [0x00]         # writes to these are ignored (and counted)

    [registers]                # initial values: a value, or values from that register on
    0x01 = 0x60A0
    0x02 = [0x4B00, 0x5000]

    [series]                   # registers that follow a recording (read-only)
    0x00 = { file = "temperature.csv", scale = 256 }

and a bus's own keys (``address_bytes`` for I2C; ``read_bit``, ``address_mask``,
``address_base``, ``increment_bit``, ``write_pairs`` for SPI). A series file (.csv or .npy,
relative to the TOML file, inside its folder) holds rows ``seconds,value`` in device time, as
``--pin``'s: from ``seconds`` on, the register reads ``value`` x ``scale`` + ``offset``,
rounded (1 and 0 by default; a recording in the quantity's own units, degrees or mg, becomes
the device's counts),
a whole number (two's complement when negative) as ``bytes`` bytes (a register's by default:
several registers' with more) in ``order`` ("big", the default, or "little"); before its first
row it reads its initial value.

The simulator reads every file before the run: one that is not such a description is refused
with one line (InputError).
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim import toml_guard
from sim.inputs import InputError, file_problem
from sim.pins import load_timed

MAX_FILE = 1 << 20  # bytes a description may hold
MAX_SIZE = 1 << 16  # registers a device may have
# rows a device's series may hold in all (each row 16 bytes kept): a 1 KiB description naming
# one large recording for many registers must not make the host load it once a register
MAX_SERIES_ROWS = 1 << 24
_KEYS = {"name", "register_bytes", "size", "auto_increment", "read_only", "registers", "series"}
_SERIES_KEYS = {"file", "bytes", "order", "scale", "offset"}


@dataclass
class Series:
    """Bytes ``first`` .. ``first + width - 1`` of the register map following a recording."""

    first: int
    width: int
    order: str
    times: np.ndarray
    values: np.ndarray
    path: Path

    def bytes_at(self, seconds: float) -> bytes | None:
        """The bytes at device time ``seconds``; None before the first row."""
        row = int(np.searchsorted(self.times, seconds + 1e-12, side="right"))
        if row == 0:
            return None
        value = int(self.values[row - 1]) & ((1 << (8 * self.width)) - 1)
        return value.to_bytes(self.width, "big" if self.order == "big" else "little")


def _register(key: str, path: Path, size: int, what: str) -> int:
    try:
        reg = int(key, 0)
    except ValueError:
        raise InputError(f"{path}: {what} {key[:20]!r} is not a register number (0x0F, 15)"
                         ) from None
    if not 0 <= reg < size:
        raise InputError(f"{path}: {what} {key[:20]} is beyond the {size:,} registers (size)")
    return reg


def _value(value: object, width: int, path: Path, where: str) -> bytes:
    """A register's value as its ``width`` bytes, high byte first."""
    top = (1 << (8 * width)) - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise InputError(f"{path}: {where}: a register holds {width} byte(s), 0 to {top:,}, "
                         f"not {value!r}")
    return value.to_bytes(width, "big")


def int_key(table: dict[str, Any], key: str, default: int, allowed: range, path: Path) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise InputError(f"{path}: {key} is a whole number from {allowed.start:,} to "
                         f"{allowed.stop - 1:,}, not {value!r}")
    return value


def _number(entry: dict[str, Any], name: str, default: float, path: Path, key: str) -> float:
    """A series' ``scale`` or ``offset``: a finite number."""
    value = entry.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value) or abs(value) > 1e12:
        raise InputError(f"{path}: series {key[:20]}: {name} is a number (up to 1e12 either "
                         f"way), not {value!r}")
    return float(value)


def _series(key: str, entry: object, path: Path, size: int, width: int,
            loaded: dict[Path, tuple[np.ndarray, np.ndarray]] | None = None) -> Series:
    """Register ``key``'s recording (from its first byte on; ``width``: a register's bytes);
    ``loaded``: the files read so far for this device (each is read once)."""
    reg = _register(key, path, size, "series")
    if not isinstance(entry, dict) or "file" not in entry or set(entry) - _SERIES_KEYS:
        raise InputError(f"{path}: series {key[:20]}: give {{ file = \"values.csv\", bytes "
                         "= 2, order = \"big\", scale = 1, offset = 0 } (all but file "
                         "optional)")
    count = int_key(entry, "bytes", width, range(1, 5), path)
    order = entry.get("order", "big")
    if order not in ("big", "little"):
        raise InputError(f"{path}: series {key[:20]}: order is \"big\" or \"little\"")
    if reg * width + count > size * width:
        raise InputError(f"{path}: series {key[:20]}: its {count} bytes run past the {size:,} "
                         "registers (size)")
    if not isinstance(entry["file"], str):
        raise InputError(f"{path}: series {key[:20]}: file is a file name")
    file = _series_file(path, entry["file"], key)
    scale, offset = (_number(entry, name, default, path, key)
                     for name, default in (("scale", 1.0), ("offset", 0.0)))
    if loaded is None:
        loaded = {}
    if file not in loaded:
        loaded[file] = load_timed(file, "a register series", "seconds,value rows")
    times, values = loaded[file]
    if (scale, offset) != (1.0, 0.0):  # a recording in its own units: the register's counts
        values = np.rint(values * scale + offset)
    lo, hi = -(1 << (8 * count - 1)), (1 << (8 * count)) - 1
    if not np.all(values == np.round(values)) or np.any(values < lo) or np.any(values > hi):
        scaled = "" if (scale, offset) == (1.0, 0.0) else " (after scale and offset)"
        raise InputError(f"{file}: every value{scaled} must be a whole number that fits in "
                         f"{count} byte(s), {lo:,} to {hi:,}")
    return Series(reg * width, count, order, times, values.astype(np.int64), file)


def _series_file(path: Path, name: str, key: str) -> Path:
    """Series file ``name`` of the map ``path``: relative to the map's folder and inside it,
    every link followed; InputError otherwise (a map from elsewhere must not feed the user's
    other files to the firmware, which may print them)."""
    file = path.parent / name
    inner, outer = os.path.realpath(file), os.path.realpath(path.parent)
    if Path(name).is_absolute() or os.path.commonpath([inner, outer]) != outer:
        raise InputError(f"{path}: series {key[:20]}: file {name[:60]!r} is outside the map's "
                         "folder (a series file is named relative to it, and lies inside it)")
    return file


@dataclass
class RegisterMap:
    """One device's registers and how the run used them: ``size`` registers of
    ``register_bytes`` bytes each (sent high byte first), ``memory`` at reset."""

    name: str
    path: Path  # the description
    memory: bytes
    register_bytes: int = 1
    auto_increment: bool = True
    read_only: frozenset[int] = frozenset()  # registers
    series: list[Series] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.size = len(self.memory) // self.register_bytes
        # the bytes a recording owns: byte -> (its series, the byte's place in it)
        self._owner: dict[int, tuple[Series, int]] = {
            s.first + i: (s, i) for s in self.series for i in range(s.width)}
        self.reset()

    def reset(self) -> None:
        self.regs = bytearray(self.memory)
        self.pointer = 0  # the register
        self._offset = 0  # the byte of it next
        self.reads = self.writes = self.bytes_read = self.bytes_written = 0
        self.ignored = 0  # bytes written to read-only registers

    def start(self, read: bool) -> None:
        """A transfer begins: from the first byte of the register the pointer selects."""
        self._offset = 0
        if read:
            self.reads += 1
        else:
            self.writes += 1

    def select(self, register: int) -> None:
        """The bus set the pointer (wrapping at ``size``)."""
        self.pointer = register % self.size
        self._offset = 0

    def _next(self) -> int:
        """The byte a data byte reads or writes now (the pointer moves on past it)."""
        at = self.pointer * self.register_bytes + self._offset
        self._offset += 1
        if self._offset == self.register_bytes:
            self._offset = 0
            if self.auto_increment:
                self.pointer = (self.pointer + 1) % self.size
        return at

    def write(self, byte: int) -> None:
        """A data byte written at the pointer (ignored for a read-only register)."""
        self.bytes_written += 1
        reg = self.pointer
        at = self._next()
        if reg in self.read_only or at in self._owner:
            self.ignored += 1
        else:
            self.regs[at] = byte

    def read(self, seconds: float) -> int:
        """The byte at the pointer at device time ``seconds``."""
        self.bytes_read += 1
        at = self._next()
        owner = self._owner.get(at)
        if owner is not None:
            recorded = owner[0].bytes_at(seconds)
            if recorded is not None:
                return recorded[owner[1]]
        return self.regs[at]

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "file": str(self.path), "writes": self.writes,
                "reads": self.reads, "bytes_written": self.bytes_written,
                "bytes_read": self.bytes_read, "ignored_writes": self.ignored}


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML table in ``path`` (at most MAX_FILE bytes), a description of ``what``;
    InputError with one line when it cannot be read or is not TOML."""
    problem = file_problem(path)
    if problem is not None:
        raise InputError(f"{path}: {problem} ({what})")
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE:
        raise InputError(f"{path}: a description of {what} is larger than "
                         f"{MAX_FILE >> 20} MiB")
    try:  # (the guard refuses keys of absurdly many parts and too deep nesting as invalid)
        return toml_guard.loads(data.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a TOML description of {what} ({exc})") from None


def load_map(path: Path, name: str, own_keys: frozenset[str] = frozenset()
             ) -> tuple[RegisterMap, dict[str, Any]]:
    """The register map ``path`` describes (``name`` unless it names one) and the file's
    table, for the bus's ``own_keys``; InputError with one line when it is not such a
    description."""
    table = read_toml(path, "a device's registers")
    known = _KEYS | own_keys
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} (known: "
                         f"{', '.join(sorted(known))})")
    name = table.get("name", name)
    if not isinstance(name, str):
        raise InputError(f"{path}: name is a string")
    width = int_key(table, "register_bytes", 1, range(1, 5), path)
    size = int_key(table, "size", 256, range(1, MAX_SIZE + 1), path)
    increment = table.get("auto_increment", True)
    if not isinstance(increment, bool):
        raise InputError(f"{path}: auto_increment is true or false")
    read_only = table.get("read_only", [])
    if not isinstance(read_only, list):
        raise InputError(f"{path}: read_only is a list of registers: [0x00, 0x0F]")
    for reg in read_only:
        if isinstance(reg, bool) or not isinstance(reg, int) or not 0 <= reg < size:
            raise InputError(f"{path}: read_only: {reg!r} is not one of the {size:,} "
                             "registers (0 to size - 1)")
    memory = bytearray(size * width)
    registers = table.get("registers", {})
    if not isinstance(registers, dict):
        raise InputError(f"{path}: [registers] is a table: 0x0F = 0x33")
    for key, value in registers.items():
        reg = _register(key, path, size, "register")
        values = value if isinstance(value, list) else [value]
        if reg + len(values) > size:
            raise InputError(f"{path}: register {key}: its {len(values)} values run past the "
                             f"{size:,} registers (size)")
        for i, v in enumerate(values):
            at = (reg + i) * width
            memory[at:at + width] = _value(v, width, path, f"register {key}")
    series_table = table.get("series", {})
    if not isinstance(series_table, dict):
        raise InputError(f"{path}: [series] is a table: 0x00 = {{ file = \"values.csv\" }}")
    loaded: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
    series: list[Series] = []
    rows = 0
    for key, entry in series_table.items():
        series.append(_series(key, entry, path, size, width, loaded))
        rows += len(series[-1].times)
        if rows > MAX_SERIES_ROWS:
            raise InputError(f"{path}: its series hold more than {MAX_SERIES_ROWS:,} rows in "
                             "all")
    spans = sorted((s.first, s.first + s.width, s.path.name) for s in series)
    for (_, end, a), (start, _, b) in itertools.pairwise(spans):
        if start < end:
            raise InputError(f"{path}: series {a} and {b} overlap")
    return RegisterMap(name, path, bytes(memory), width, increment, frozenset(read_only),
                       series), table

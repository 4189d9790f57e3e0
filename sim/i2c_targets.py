"""Devices on the part's I2C bus: a sensor, an EEPROM, for firmware whose drivers talk to them.

``--i2c 0x48=tmp102.toml`` puts a target at 7-bit address 0x48 (0x08 to 0x77; the firmware's
CR2.SADD holds it shifted left by one, as STM32CubeL0's ``DevAddress`` does). It behaves as most
register-based I2C devices do: a write transaction's first byte (two with ``address_bytes = 2``,
high byte first: a large EEPROM's) sets its register pointer, the bytes after it are written
from there; a read transaction reads from the pointer. A register holds ``register_bytes``
bytes (1, most sensors; 2, TI's TMP102 or INA219), sent high byte first; a transaction starts
at a register's first byte, and after its last the pointer steps to the next register
(``auto_increment = false``: it stays, and the register is read again), wrapping at ``size``.
A repeated start or a stop keeps the pointer. The target acknowledges every byte; an address
with no target is not acknowledged (NACK), as on a real bus.

The file (TOML) describes the registers; every key is optional::

    name = "TMP102"            # for the report
    address_bytes = 1          # register address bytes: 1 or 2
    register_bytes = 2         # bytes a register holds: 1 to 4
    size = 4                   # registers; 256 by default, at most 65,536
    auto_increment = false
    read_only = [0x00]         # writes to these are ignored (and counted)

    [registers]                # initial values: a value, or values from that register on
    0x01 = 0x60A0
    0x02 = [0x4B00, 0x5000]

    [series]                   # registers that follow a recording (read-only)
    0x00 = { file = "temperature.csv" }

A series file (.csv or .npy, relative to the TOML file) holds rows ``seconds,value`` in device
time, as ``--pin``'s: from ``seconds`` on, the register reads ``value`` (an integer, two's
complement when negative) as ``bytes`` bytes (a register's by default: several registers' with
more) in ``order`` ("big", the default, or "little"); before its first row it reads its initial
value. An empty file is 256 one-byte registers of 0.

The simulator reads every file before the run: one that is not such a description is refused
with one line.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.inputs import InputError
from sim.pins import load_timed

ADDRESSES = range(0x08, 0x78)  # the 7-bit addresses a target may have (the others reserved)
MAX_FILE = 1 << 20  # bytes a target's description may hold
MAX_SIZE = 1 << 16  # registers a target may have
LOG_KEEP = 1000  # transactions the report lists (the counts cover them all)
LOG_BYTES = 64  # data bytes a listed transaction shows (``bytes`` counts them all)
_SPEC = re.compile(r"^\s*(0[xX][0-9a-fA-F]+|\d+)\s*=\s*(.+?)\s*$")
_KEYS = {"name", "address_bytes", "register_bytes", "size", "auto_increment", "read_only",
         "registers", "series"}
_SERIES_KEYS = {"file", "bytes", "order"}


@dataclass(frozen=True)
class I2cSpec:
    """``ADDR=FILE`` as given: the target's 7-bit address and its description."""

    address: int
    path: Path

    def __str__(self) -> str:
        return f"0x{self.address:02x}={self.path}"


def parse_spec(text: str, base: Path | None = None) -> I2cSpec:
    """``0x48=tmp102.toml`` (or a decimal address) as an I2cSpec, the file relative to
    ``base``; ValueError with one line otherwise."""
    m = _SPEC.match(text)
    if m is None:
        raise ValueError(f"not an I2C target: {text!r} (ADDR=FILE: 0x48=tmp102.toml)")
    address = int(m.group(1), 0)
    if address not in ADDRESSES:
        raise ValueError(f"I2C target {text!r}: a 7-bit address from 0x08 to 0x77 (the "
                         "others are reserved; the 8-bit form the firmware writes is twice it)")
    path = Path(m.group(2))
    return I2cSpec(address, path if base is None or path.is_absolute() else base / path)


def check_specs(specs: list[I2cSpec]) -> None:
    """ValueError when two targets share an address."""
    seen: set[int] = set()
    for spec in specs:
        if spec.address in seen:
            raise ValueError(f"I2C address 0x{spec.address:02x} is given twice")
        seen.add(spec.address)


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
        raise InputError(f"{path}: {what} {key!r} is not a register number (0x0F, 15)"
                         ) from None
    if not 0 <= reg < size:
        raise InputError(f"{path}: {what} {key} is beyond the {size:,} registers (size)")
    return reg


def _value(value: object, width: int, path: Path, where: str) -> bytes:
    """A register's value as its ``width`` bytes, high byte first."""
    top = (1 << (8 * width)) - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise InputError(f"{path}: {where}: a register holds {width} byte(s), 0 to {top:,}, "
                         f"not {value!r}")
    return value.to_bytes(width, "big")


def _int(table: dict[str, Any], key: str, default: int, allowed: range, path: Path) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise InputError(f"{path}: {key} is a whole number from {allowed.start:,} to "
                         f"{allowed.stop - 1:,}, not {value!r}")
    return value


def _series(key: str, entry: object, path: Path, size: int, width: int) -> Series:
    """Register ``key``'s recording (from its first byte on; ``width``: a register's bytes)."""
    reg = _register(key, path, size, "series")
    if not isinstance(entry, dict) or "file" not in entry or set(entry) - _SERIES_KEYS:
        raise InputError(f"{path}: series {key}: give {{ file = \"values.csv\", bytes = 2, "
                         "order = \"big\" }} (bytes and order optional)")
    count = _int(entry, "bytes", width, range(1, 9), path)
    order = entry.get("order", "big")
    if order not in ("big", "little"):
        raise InputError(f"{path}: series {key}: order is \"big\" or \"little\"")
    if reg * width + count > size * width:
        raise InputError(f"{path}: series {key}: its {count} bytes run past the {size:,} "
                         "registers (size)")
    if not isinstance(entry["file"], str):
        raise InputError(f"{path}: series {key}: file is a file name")
    file = Path(entry["file"])
    file = file if file.is_absolute() else path.parent / file
    times, values = load_timed(file, "an I2C register series", "seconds,value rows")
    lo, hi = -(1 << (8 * count - 1)), (1 << (8 * count)) - 1
    if not np.all(values == np.round(values)) or np.any(values < lo) or np.any(values > hi):
        raise InputError(f"{file}: every value must be a whole number that fits in {count} "
                         f"byte(s), {lo:,} to {hi:,}")
    return Series(reg * width, count, order, times, values.astype(np.int64), file)


@dataclass
class RegisterTarget:
    """One target's registers and how the run used them. Its register map is ``size``
    registers of ``register_bytes`` bytes each (sent high byte first), ``memory`` at reset."""

    spec: I2cSpec
    name: str
    memory: bytes
    register_bytes: int = 1
    address_bytes: int = 1
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
        self._address_left = 0  # register address bytes still to come in this write
        self._pointer_bytes = 0
        self.reads = self.writes = self.bytes_read = self.bytes_written = 0
        self.ignored = 0  # bytes written to read-only registers

    def _next(self) -> int:
        """The byte a data byte reads or writes now (the pointer moves on past it)."""
        at = self.pointer * self.register_bytes + self._offset
        self._offset += 1
        if self._offset == self.register_bytes:
            self._offset = 0
            if self.auto_increment:
                self.pointer = (self.pointer + 1) % self.size
        return at

    def start(self, read: bool) -> None:
        """A transaction addressed to it begins (after a start or a repeated start): from the
        first byte of the register the pointer selects."""
        self._offset = 0
        if read:
            self.reads += 1
        else:
            self.writes += 1
            self._address_left = self.address_bytes
            self._pointer_bytes = 0

    def write(self, byte: int) -> None:
        self.bytes_written += 1
        if self._address_left:
            self._pointer_bytes = (self._pointer_bytes << 8) | byte
            self._address_left -= 1
            if not self._address_left:
                self.pointer = self._pointer_bytes % self.size
            return
        reg = self.pointer
        at = self._next()
        if reg in self.read_only or at in self._owner:
            self.ignored += 1
        else:
            self.regs[at] = byte

    def read(self, seconds: float) -> int:
        self.bytes_read += 1
        at = self._next()
        owner = self._owner.get(at)
        if owner is not None:
            recorded = owner[0].bytes_at(seconds)
            if recorded is not None:
                return recorded[owner[1]]
        return self.regs[at]

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "file": str(self.spec.path), "writes": self.writes,
                "reads": self.reads, "bytes_written": self.bytes_written,
                "bytes_read": self.bytes_read, "ignored_writes": self.ignored}


def load_target(spec: I2cSpec) -> RegisterTarget:
    """The target ``spec``'s file describes; InputError with one line when it does not."""
    path = spec.path
    if not path.is_file():
        raise InputError(f"{path}: no such file (an I2C target)")
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise InputError(f"{path}: an I2C target's description is larger than "
                         f"{MAX_FILE >> 20} MiB")
    try:
        table = tomllib.loads(data.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a TOML description of an I2C target ({exc})") from None
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} (known: "
                         f"{', '.join(sorted(_KEYS))})")
    name = table.get("name", f"0x{spec.address:02x}")
    if not isinstance(name, str):
        raise InputError(f"{path}: name is a string")
    address_bytes = _int(table, "address_bytes", 1, range(1, 3), path)
    width = _int(table, "register_bytes", 1, range(1, 5), path)
    size = _int(table, "size", 256, range(1, MAX_SIZE + 1), path)
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
    series = [_series(key, entry, path, size, width) for key, entry in series_table.items()]
    spans = sorted((s.first, s.first + s.width, s.path.name) for s in series)
    for (_, end, a), (start, _, b) in itertools.pairwise(spans):
        if start < end:
            raise InputError(f"{path}: series {a} and {b} overlap")
    return RegisterTarget(spec, name, bytes(memory), width, address_bytes, increment,
                          frozenset(read_only), series)


@dataclass
class Transaction:
    """One transfer to or from an address, as the report lists it."""

    seconds: float
    address: int
    read: bool
    acked: bool
    data: bytearray = field(default_factory=bytearray)  # the first LOG_BYTES
    count: int = 0  # data bytes in all

    def add(self, byte: int) -> None:
        self.count += 1
        if len(self.data) < LOG_BYTES:
            self.data.append(byte)

    def as_dict(self) -> dict[str, object]:
        return {"ms": round(self.seconds * 1e3, 6), "address": f"0x{self.address:02x}",
                "read": self.read, "acked": self.acked, "bytes": self.count,
                "data": self.data.hex(" ")}


class I2cBus:
    """The targets on the bus and what the controller did with them: the I2C peripheral
    model calls :meth:`start`, :meth:`write`, :meth:`read` and :meth:`stop` as its transfers
    reach those points; ``now`` gives device time in seconds."""

    def __init__(self, targets: list[RegisterTarget], now: Callable[[], float]) -> None:
        self.targets = {t.spec.address: t for t in targets}
        self._now = now
        self.reset()

    def reset(self) -> None:
        for target in self.targets.values():
            target.reset()
        self.log: list[Transaction] = []
        self.transactions = 0
        self.nacked: dict[int, int] = {}  # address with no target -> times addressed
        self._current: RegisterTarget | None = None
        self._open: Transaction | None = None

    def start(self, address: int, read: bool) -> bool:
        """A start (or repeated start) and ``address`` (7-bit) with the direction: whether a
        target acknowledged it."""
        target = self.targets.get(address)
        self._current = target
        self.transactions += 1
        entry = Transaction(self._now(), address, read, target is not None)
        self._open = entry if len(self.log) < LOG_KEEP else None
        if self._open is not None:
            self.log.append(entry)
        if target is None:
            self.nacked[address] = self.nacked.get(address, 0) + 1
            return False
        target.start(read)
        return True

    def write(self, byte: int) -> bool:
        """A data byte from the controller: whether the target acknowledged it."""
        if self._current is None:
            return False
        self._current.write(byte)
        if self._open is not None:
            self._open.add(byte)
        return True

    def read(self) -> int:
        """A data byte from the target (0xFF, the bus's idle level, with none)."""
        if self._current is None:
            return 0xFF
        byte = self._current.read(self._now())
        if self._open is not None:
            self._open.add(byte)
        return byte

    def stop(self) -> None:
        self._current = None
        self._open = None

    def summary(self) -> dict[str, object]:
        """The report's ``i2c``: each target's counts, the addresses nobody answered, the
        first transactions."""
        return {"targets": {f"0x{a:02x}": t.summary() for a, t in sorted(self.targets.items())},
                "transactions": self.transactions,
                "nacked": {f"0x{a:02x}": n for a, n in sorted(self.nacked.items())},
                "log": [t.as_dict() for t in self.log]}

    def notes(self) -> list[str]:
        """Warnings: addresses nobody answered, targets never addressed."""
        out = []
        if self.nacked:
            shown = ", ".join(f"0x{a:02x} ({n:,}x)" for a, n in sorted(self.nacked.items())[:8])
            more = f" and {len(self.nacked) - 8} more" if len(self.nacked) > 8 else ""
            out.append(f"I2C: no target answered at {shown}{more} (NACK): give one with --i2c "
                       "ADDR=FILE")
        for address, target in sorted(self.targets.items()):
            if not target.reads and not target.writes:
                out.append(f"I2C target 0x{address:02x} ({target.spec.path.name}) was never "
                           "addressed: the firmware's CR2.SADD holds a 7-bit address shifted "
                           f"left by one (0x{address << 1:02x} for 0x{address:02x})")
        return out

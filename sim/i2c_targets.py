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

The file (TOML) describes the registers (sim/register_map.py), and ``address_bytes``::

    name = "TMP102"
    address_bytes = 1          # register address bytes: 1 or 2
    register_bytes = 2
    size = 4
    auto_increment = false
    read_only = [0x00]
    [registers]
    0x01 = 0x60A0
    [series]
    0x00 = { file = "temperature.csv", scale = 256 }

``--i2c controller=host.toml`` puts a controller on the bus instead, which addresses the part
itself (the firmware an I2C target): sim/i2c_controller.py.

The simulator reads every file before the run: one that is not such a description is refused
with one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sim.i2c_controller import ScriptedController
from sim.register_map import RegisterMap, int_key, load_map

ADDRESSES = range(0x08, 0x78)  # the 7-bit addresses a target may have (the others reserved)
LOG_KEEP = 1000  # transactions the report lists (the counts cover them all)
LOG_BYTES = 64  # data bytes a listed transaction shows (``bytes`` counts them all)
_SPEC = re.compile(r"^\s*(0[xX][0-9a-fA-F]+|\d+|controller)\s*=\s*(.+?)\s*$",
                   re.IGNORECASE)


@dataclass(frozen=True)
class I2cSpec:
    """``ADDR=FILE`` as given: the target's 7-bit address and its description; or
    ``controller=FILE`` (``address`` None): a controller addressing the part."""

    address: int | None
    path: Path

    def __str__(self) -> str:
        where = "controller" if self.address is None else f"0x{self.address:02x}"
        return f"{where}={self.path}"


def parse_spec(text: str, base: Path | None = None) -> I2cSpec:
    """``0x48=tmp102.toml`` (or a decimal address), or ``controller=host.toml``, as an
    I2cSpec, the file relative to ``base``; ValueError with one line otherwise."""
    m = _SPEC.match(text)
    if m is None:
        raise ValueError(f"not an I2C target: {text!r} (ADDR=FILE: 0x48=tmp102.toml; or "
                         "controller=FILE: a host that addresses the part)")
    digits = m.group(1).lower()
    address = (None if digits == "controller" else
               int(digits, 16) if digits[:2] == "0x" else int(digits))
    if address is not None and address not in ADDRESSES:
        raise ValueError(f"I2C target {text!r}: a 7-bit address from 0x08 to 0x77 (the "
                         "others are reserved; the 8-bit form the firmware writes is twice it)")
    path = Path(m.group(2))
    return I2cSpec(address, path if base is None or path.is_absolute() else base / path)


def check_specs(specs: list[I2cSpec]) -> None:
    """ValueError when two targets share an address, or two controllers are given."""
    seen: set[int | None] = set()
    for spec in specs:
        if spec.address in seen:
            raise ValueError("one I2C controller=FILE at most" if spec.address is None else
                             f"I2C address 0x{spec.address:02x} is given twice")
        seen.add(spec.address)


class I2cTarget:
    """A register map on the I2C bus: a write transfer's first ``address_bytes`` bytes (high
    byte first) set its pointer, the rest are data."""

    def __init__(self, spec: I2cSpec, registers: RegisterMap, address_bytes: int = 1) -> None:
        self.spec, self.registers, self.address_bytes = spec, registers, address_bytes
        self._address_left = 0  # register address bytes still to come in this write
        self._pointer = 0

    def reset(self) -> None:
        self.registers.reset()
        self._address_left = 0

    def start(self, read: bool) -> None:
        """A transfer addressed to it begins (after a start or a repeated start)."""
        self.registers.start(read)
        if not read:
            self._address_left, self._pointer = self.address_bytes, 0

    def write(self, byte: int) -> None:
        if not self._address_left:
            self.registers.write(byte)
            return
        self.registers.bytes_written += 1
        self._pointer = (self._pointer << 8) | byte
        self._address_left -= 1
        if not self._address_left:
            self.registers.select(self._pointer)

    def read(self, seconds: float) -> int:
        return self.registers.read(seconds)


def load_target(spec: I2cSpec) -> I2cTarget:
    """The target ``spec``'s file describes (its registers, and ``address_bytes``: 1 or 2);
    InputError with one line when it does not."""
    registers, table = load_map(spec.path, f"0x{spec.address or 0:02x}",
                                frozenset({"address_bytes"}))
    return I2cTarget(spec, registers, int_key(table, "address_bytes", 1, range(1, 3),
                                              spec.path))


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
    reach those points, at core cycles that ``seconds`` turns into device time."""

    def __init__(self, targets: list[I2cTarget], seconds: Callable[[int], float],
                 controller: ScriptedController | None = None) -> None:
        self.targets = {t.spec.address or 0: t for t in targets}
        self._seconds = seconds
        self.controller = controller  # a host addressing the part (--i2c controller=FILE)
        self.reset()

    def reset(self) -> None:
        for target in self.targets.values():
            target.reset()
        if self.controller is not None:
            self.controller.reset()
        self.log: list[Transaction] = []
        self.transactions = 0
        self.nacked: dict[int, int] = {}  # address with no target -> times addressed
        self._current: I2cTarget | None = None
        self._open: Transaction | None = None

    def start(self, address: int, read: bool, cycle: int = 0) -> bool:
        """A start (or repeated start) and ``address`` (7-bit) with the direction, sent by
        core cycle ``cycle``: whether a target acknowledged it."""
        target = self.targets.get(address)
        self._current = target
        self.transactions += 1
        entry = Transaction(self._seconds(cycle), address, read, target is not None)
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

    def read(self, cycle: int = 0) -> int:
        """A data byte from the target at core cycle ``cycle`` (0xFF, the bus's idle level,
        with none)."""
        if self._current is None:
            return 0xFF
        byte = self._current.read(self._seconds(cycle))
        if self._open is not None:
            self._open.add(byte)
        return byte

    def stop(self) -> None:
        self._current = None
        self._open = None

    def summary(self) -> dict[str, object]:
        """The report's ``i2c``: each target's counts, the addresses nobody answered, the
        first transactions."""
        summary: dict[str, object] = {
            "targets": {f"0x{a:02x}": t.registers.summary()
                        for a, t in sorted(self.targets.items())},
            "transactions": self.transactions,
            "nacked": {f"0x{a:02x}": n for a, n in sorted(self.nacked.items())},
            "log": [t.as_dict() for t in self.log]}
        if self.controller is not None:
            summary["controller"] = self.controller.summary()
        return summary

    def notes(self) -> list[str]:
        """Warnings: addresses nobody answered, targets never addressed."""
        out = [] if self.controller is None else self.controller.notes()
        if self.nacked:
            shown = ", ".join(f"0x{a:02x} ({n:,}x)" for a, n in sorted(self.nacked.items())[:8])
            more = f" and {len(self.nacked) - 8} more" if len(self.nacked) > 8 else ""
            out.append(f"I2C: no target answered at {shown}{more} (NACK): give one with --i2c "
                       "ADDR=FILE (check: i2c = \"ADDR=FILE\")")
        for address, target in sorted(self.targets.items()):
            if not target.registers.reads and not target.registers.writes:
                out.append(f"I2C target 0x{address:02x} ({target.spec.path.name}) was never "
                           "addressed: the firmware's CR2.SADD holds a 7-bit address shifted "
                           f"left by one (0x{address << 1:02x} for 0x{address:02x})")
        return out

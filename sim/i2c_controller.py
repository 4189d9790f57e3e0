"""A controller on the I2C bus that addresses the part itself: ``--i2c controller=host.toml``
makes the firmware an I2C target (STM32CubeL0's HAL_I2C_Slave_* and HAL_I2C_EnableListen_IT),
as a sensor hub is to its host: the host writes a command, reads back a result.

The file (TOML) lists the host's transactions in device time::

    scl_hz = 100000          # the bus's clock: 1 kHz to 1 MHz (default 100 kHz)

    [[transaction]]
    at = "10ms"              # device time: 10ms, 2s, 250us, or seconds (0, 0.5)
    address = 0x42           # the part's 7-bit address (0x08 to 0x77)
    write = [0x01, 0x80]     # bytes written to it

    [[transaction]]
    at = "20ms"
    address = 0x42
    write = [0x00]           # e.g. a register's number, then
    read = 2                 # a repeated start and 2 bytes read back

A transaction is a start, the address with the direction, the ``write`` bytes (each
acknowledged by the part, or the host stops at the first it does not), then with ``read`` a
repeated start (a start, without ``write``), the address and ``read`` bytes (the host
acknowledges each but the last), and a stop: 10 SCL periods for a start and an address, 9 for
a byte, 1 for a stop, longer where the part stretches the clock (until its firmware serves
it). A transaction whose time comes while the bus is busy (the part's own transfer as a
controller, the host's previous transaction) starts when the bus is free. At most
MAX_TRANSACTIONS transactions of MAX_BYTES bytes each way.

The report's ``i2c`` key lists them under ``controller``: when each started and ended, the
bytes written and read, and how it ended (``done``; ``nack``: the address or a byte not
acknowledged; ``aborted``: the part's I2C1 turned off in it; ``stalled``: the part was holding
the clock when the run ended; ``under way``: the run ended in one of its steps). The simulator
reads the file before the run: one that is not such a description is refused with one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.durations import parse_duration
from sim.inputs import InputError
from sim.register_map import int_key, read_toml

MAX_TRANSACTIONS = 10_000
MAX_BYTES = 4_096  # bytes a transaction writes, and reads
LOG_KEEP = 1_000  # transactions the report lists (the counts cover them all)
_KEYS = {"scl_hz", "transaction"}
_TRANSACTION_KEYS = {"at", "address", "write", "read"}
ADDRESSES = range(0x08, 0x78)


@dataclass(frozen=True)
class Transaction:
    """One of the host's transactions: from device time ``seconds`` on, to ``address``."""

    seconds: float
    address: int
    write: bytes
    read: int


@dataclass
class Outcome:
    """How a transaction went: when it started and ended (device time), what moved, how it
    ended (``status``: done, nack, aborted)."""

    started: float
    acked: bool = False  # the address acknowledged (the last one sent)
    written: int = 0  # bytes written and acknowledged
    data: bytearray = field(default_factory=bytearray)  # bytes read
    ended: float | None = None
    status: str = ""  # once ended
    waiting: str = ""  # what the part holds the clock for, while it does

    def as_dict(self, transaction: Transaction) -> dict[str, object]:
        return {"ms": round(self.started * 1e3, 6), "address": f"0x{transaction.address:02x}",
                "write": transaction.write[:self.written].hex(" "),
                "read": self.data.hex(" "), "acked": self.acked,
                "end_ms": None if self.ended is None else round(self.ended * 1e3, 6),
                "status": (self.status if self.ended is not None else
                           "stalled" if self.waiting else "under way")}


class ScriptedController:
    """The host's transactions and their outcomes (the part's I2C model runs them: its
    target role, sim/devices/stm32l0_i2c_target.py)."""

    def __init__(self, path: Path, scl_hz: int, transactions: list[Transaction]) -> None:
        self.path, self.scl_hz, self.transactions = path, scl_hz, transactions
        self.reset()

    def reset(self) -> None:
        self.outcomes: list[Outcome] = []  # of the transactions begun, in order

    def summary(self) -> dict[str, object]:
        """The report's ``i2c.controller``."""
        done = sum(1 for o in self.outcomes if o.ended is not None and o.status == "done")
        return {"file": str(self.path), "scl_hz": self.scl_hz,
                "transactions": len(self.transactions), "begun": len(self.outcomes),
                "done": done,
                "log": [o.as_dict(t) for o, t in zip(self.outcomes[:LOG_KEEP],
                                                      self.transactions, strict=False)]}

    def notes(self) -> list[str]:
        """Warnings: transactions not acknowledged, one the part stalled, ones not run."""
        out, name = [], f"I2C controller ({self.path.name})"
        nacked = [n for n, o in enumerate(self.outcomes) if o.status == "nack"]
        if nacked:
            n, t = nacked[0], self.transactions[nacked[0]]
            out.append(f"{name}: {len(nacked):,} transaction(s) not acknowledged, the first "
                       f"(#{n + 1}, 0x{t.address:02x} at {self.outcomes[n].started * 1e3:g} ms): "
                       "the part answers an address its I2C1 has enabled (OAR1.OA1EN, "
                       "OAR2.OA2EN) while PE is set and its clock runs")
        if self.outcomes and self.outcomes[-1].ended is None and self.outcomes[-1].waiting:
            o = self.outcomes[-1]
            out.append(f"{name}: transaction #{len(self.outcomes)} (0x"
                       f"{self.transactions[len(self.outcomes) - 1].address:02x}, begun at "
                       f"{o.started * 1e3:g} ms) stalled: when the run ended the part was "
                       f"holding the clock, {o.waiting}")
        left = len(self.transactions) - len(self.outcomes)
        if left:
            out.append(f"{name}: {left:,} transaction(s) not run: the run ended first")
        return out


def _bytes(value: Any, where: str) -> bytes:
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_BYTES or any(
            isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= 255 for b in value)):
        raise InputError(f"{where}: write is a list of 1 to {MAX_BYTES:,} bytes (0 to 255): "
                         "[0x01, 0x80]")
    return bytes(value)


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise InputError(f"{where}: at: {exc}") from None


def _transaction(entry: Any, where: str) -> Transaction:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: a table with at, address and write or read")
    unknown = sorted(set(entry) - _TRANSACTION_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r} (known: "
                         f"{', '.join(sorted(_TRANSACTION_KEYS))})")
    for key in ("at", "address"):
        if key not in entry:
            raise InputError(f"{where}: {key} is missing")
    address = entry["address"]
    if isinstance(address, bool) or not isinstance(address, int) or address not in ADDRESSES:
        raise InputError(f"{where}: address is the part's 7-bit address, 0x08 to 0x77, not "
                         f"{address!r}")
    if "write" not in entry and "read" not in entry:
        raise InputError(f"{where}: give write (bytes), read (a count) or both")
    write = _bytes(entry["write"], where) if "write" in entry else b""
    read = entry.get("read", 0)
    if "read" in entry and (isinstance(read, bool) or not isinstance(read, int)
                            or not 1 <= read <= MAX_BYTES):
        raise InputError(f"{where}: read is a count of bytes, 1 to {MAX_BYTES:,}, not {read!r}")
    return Transaction(_seconds(entry["at"], where), address, write, read)


def load_controller(path: Path) -> ScriptedController:
    """The host ``path`` describes; InputError with one line when it does not."""
    table = read_toml(path, "an I2C controller's transactions")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} (known: scl_hz, [[transaction]])")
    scl_hz = int_key(table, "scl_hz", 100_000, range(1_000, 1_000_001), path)
    entries = table.get("transaction", [])
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: no [[transaction]]: list the host's transactions")
    if len(entries) > MAX_TRANSACTIONS:
        raise InputError(f"{path}: more than {MAX_TRANSACTIONS:,} transactions")
    transactions = [_transaction(e, f"{path}: transaction {n + 1}")
                    for n, e in enumerate(entries)]
    transactions.sort(key=lambda t: t.seconds)  # (stable: equal times keep their order)
    return ScriptedController(path, scl_hz, transactions)

"""Devices on the part's SPI bus: a sensor, for firmware whose driver talks to it.

``--spi PA4=lis3dh.toml`` puts a device on SPI1's bus selected by GPIO pin PA4: while the pin is
an output at 0 (the firmware's chip select, HAL_GPIO_WritePin(..., GPIO_PIN_RESET)) the device
takes the bytes SPI1 sends and answers on MISO; ``--spi NSS=...`` selects it by SPI1's own NSS
output instead (CR1.SSM clear, CR2.SSOE set: low while CR1.SPE is set). Its registers are a
register map (sim/register_map.py) and it speaks as most SPI sensors do (ST's, Bosch's,
InvenSense's): the first byte after the select is a command, ``read_bit`` (default 0x80) set
for a read, the register in ``address_mask`` (default 0x7F); the bytes after it read from, or
write to, the registers from there. With ``increment_bit`` (ST's MS bit, 0x40) the pointer steps
on only when the command has it set (``address_mask`` then 0x3F). MISO is 0xFF during the
command byte, from a device not being read, and with no device selected.

The file's own keys, beside the register map's::

    read_bit = 0x80
    address_mask = 0x7F
    increment_bit = 0x40       # default 0: auto_increment decides
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sim.inputs import InputError
from sim.register_map import RegisterMap, int_key, load_map

IDLE = 0xFF  # MISO when no device drives it (pulled up)
LOG_KEEP = 1000  # selections the report lists (the counts cover them all)
LOG_BYTES = 64  # bytes a listed selection shows
NSS = "NSS"
_SPEC = re.compile(r"^\s*(P([A-Z])(\d{1,2})|NSS)\s*=\s*(.+?)\s*$", re.IGNORECASE)
_OWN_KEYS = frozenset({"read_bit", "address_mask", "increment_bit"})


@dataclass(frozen=True)
class SpiSpec:
    """``CS=FILE`` as given: the device's chip select (a GPIO pin, or NSS) and its
    description."""

    cs: str
    path: Path

    @property
    def port(self) -> str | None:
        return None if self.cs == NSS else self.cs[1]

    @property
    def pin(self) -> int:
        return -1 if self.cs == NSS else int(self.cs[2:])

    def __str__(self) -> str:
        return f"{self.cs}={self.path}"


def parse_spec(text: str, base: Path | None = None) -> SpiSpec:
    """``PA4=lis3dh.toml`` or ``NSS=lis3dh.toml`` as an SpiSpec, the file relative to ``base``;
    ValueError with one line otherwise."""
    m = _SPEC.match(text)
    if m is None:
        raise ValueError(f"not an SPI device: {text!r} (CS=FILE: PA4=lis3dh.toml, the chip "
                         "select's GPIO pin, or NSS=lis3dh.toml)")
    if m.group(2) is not None and int(m.group(3)) > 15:
        raise ValueError(f"SPI device {text!r}: a port's pins are 0 to 15")
    cs = NSS if m.group(2) is None else f"P{m.group(2).upper()}{int(m.group(3))}"
    path = Path(m.group(4))
    return SpiSpec(cs, path if base is None or path.is_absolute() else base / path)


def check_specs(specs: list[SpiSpec], ports: str) -> None:
    """ValueError when a chip select is on a port the target lacks (``ports``: its letters)
    or is given twice."""
    seen: set[str] = set()
    for spec in specs:
        if spec.port is not None and spec.port not in ports:
            raise ValueError(f"SPI chip select {spec.cs}: the target has ports "
                             f"{', '.join(ports)}")
        if spec.cs in seen:
            raise ValueError(f"SPI chip select {spec.cs} is given twice")
        seen.add(spec.cs)


class SpiTarget:
    """A register map on the SPI bus, selected by its chip select."""

    def __init__(self, spec: SpiSpec, registers: RegisterMap, read_bit: int = 0x80,
                 address_mask: int = 0x7F, increment_bit: int = 0) -> None:
        self.spec, self.registers = spec, registers
        self.read_bit, self.address_mask, self.increment_bit = read_bit, address_mask, increment_bit
        self._increment = registers.auto_increment
        self.selections = 0
        self.reset()

    def reset(self) -> None:
        self.registers.reset()
        self.registers.auto_increment = self._increment
        self.selected = False
        self.selections = 0
        self._command = True  # the next byte is a command
        self._reading = False

    def select(self, on: bool) -> None:
        if on and not self.selected:
            self._command = True
            self.selections += 1
        self.selected = on

    def exchange(self, mosi: int, seconds: float) -> int:
        """A byte from the controller while selected: the byte it answers."""
        regs = self.registers
        if self._command:
            self._command = False
            self._reading = bool(mosi & self.read_bit)
            if self.increment_bit:
                regs.auto_increment = bool(mosi & self.increment_bit)
            regs.bytes_written += 1
            regs.select(mosi & self.address_mask)
            regs.start(self._reading)
            return IDLE
        if self._reading:
            return regs.read(seconds)
        regs.write(mosi)
        return IDLE


def load_target(spec: SpiSpec) -> SpiTarget:
    """The device ``spec``'s file describes; InputError with one line when it does not."""
    registers, table = load_map(spec.path, spec.cs, _OWN_KEYS)
    read_bit = int_key(table, "read_bit", 0x80, range(0, 256), spec.path)
    increment = int_key(table, "increment_bit", 0, range(0, 256), spec.path)
    mask = int_key(table, "address_mask", 0x7F if not increment else 0x3F, range(1, 256),
                   spec.path)
    if (read_bit | increment) & mask or read_bit & increment:
        raise InputError(f"{spec.path}: read_bit, increment_bit and address_mask must not "
                         "share a bit")
    return SpiTarget(spec, registers, read_bit, mask, increment)


@dataclass
class Selection:
    """One selection of a device (chip select low to high), as the report lists it."""

    seconds: float
    cs: str
    mosi: bytearray = field(default_factory=bytearray)  # the first LOG_BYTES
    miso: bytearray = field(default_factory=bytearray)
    count: int = 0

    def add(self, mosi: int, miso: int) -> None:
        self.count += 1
        if len(self.mosi) < LOG_BYTES:
            self.mosi.append(mosi)
            self.miso.append(miso)

    def as_dict(self) -> dict[str, object]:
        return {"ms": round(self.seconds * 1e3, 6), "cs": self.cs, "bytes": self.count,
                "mosi": self.mosi.hex(" "), "miso": self.miso.hex(" ")}


class SpiBus:
    """The devices on the bus and what the controller exchanged with them. The GPIO model
    tells it the pins' levels (:meth:`pins`), the SPI model its NSS output (:meth:`nss`) and
    each byte (:meth:`exchange`); ``now`` gives device time in seconds. A controller model
    ``attach``es a catch-up, called before a chip select changes: the bytes it has sent by
    then reach the device that was selected."""

    def __init__(self, targets: list[SpiTarget], now: Callable[[], float]) -> None:
        self.targets = {t.spec.cs: t for t in targets}
        self._now = now
        self.reset()

    def reset(self) -> None:
        """Before a run (the controller model attaches again as it resets)."""
        self._catch_up: Callable[[], None] | None = None
        for target in self.targets.values():
            target.reset()
        self.log: list[Selection] = []
        self.unselected = 0  # bytes sent with no device selected
        self.contended = 0  # bytes sent with several selected
        self._open: dict[str, Selection] = {}

    def attach(self, catch_up: Callable[[], None]) -> None:
        self._catch_up = catch_up

    def _select(self, target: SpiTarget, on: bool) -> None:
        if on == target.selected:
            return
        if self._catch_up is not None:
            self._catch_up()
        target.select(on)
        cs = target.spec.cs
        if on and len(self.log) < LOG_KEEP:
            self._open[cs] = Selection(self._now(), cs)
            self.log.append(self._open[cs])
        elif not on:
            self._open.pop(cs, None)

    def pins(self, port: str, known: int, high: int) -> None:
        """GPIO port ``port``'s levels now: a device whose chip select is at 0 is selected."""
        for target in self.targets.values():
            if target.spec.port == port:
                bit = 1 << target.spec.pin
                self._select(target, bool(known & bit) and not high & bit)

    def nss(self, low: bool) -> None:
        """SPI1's NSS output now (low: selected)."""
        target = self.targets.get(NSS)
        if target is not None:
            self._select(target, low)

    def exchange(self, mosi: int) -> int:
        """A byte on MOSI; the byte on MISO (IDLE with no device selected)."""
        selected = [t for t in self.targets.values() if t.selected]
        if not selected:
            self.unselected += 1
            return IDLE
        if len(selected) > 1:
            self.contended += 1
        miso = IDLE
        seconds = self._now()
        for target in selected:  # (several: their outputs fight; a 0 wins, as pulled up)
            miso &= target.exchange(mosi, seconds)
            opened = self._open.get(target.spec.cs)
            if opened is not None:
                opened.add(mosi, miso)
        return miso

    def summary(self) -> dict[str, object]:
        """The report's ``spi``: each device's counts, bytes with none selected, the first
        selections."""
        return {"targets": {cs: {**t.registers.summary(), "selections": t.selections}
                            for cs, t in self.targets.items()},
                "unselected_bytes": self.unselected, "contended_bytes": self.contended,
                "log": [s.as_dict() for s in self.log]}

    def notes(self) -> list[str]:
        """Warnings: bytes no device took, devices selected together, devices never
        selected."""
        out = []
        if self.unselected:
            out.append(f"SPI: {self.unselected:,} bytes went out with no --spi device selected "
                       "(MISO read 0xFF)")
        if self.contended:
            out.append(f"SPI: {self.contended:,} bytes went out with several devices selected "
                       "at once (their MISO outputs fight)")
        for cs, target in self.targets.items():
            if not target.selections:
                how = ("SPI1's NSS output: CR1.SSM clear, CR2.SSOE set, while CR1.SPE is set"
                       if cs == NSS else f"{cs} an output at 0 (MODER, ODR)")
                out.append(f"SPI device {cs} ({target.spec.path.name}) was never selected: "
                           f"its chip select is {how}")
        return out

"""Devices on the part's SPI bus: a sensor, for firmware whose driver talks to it.

``--spi PA4=lis3dh.toml`` puts a device on SPI1's bus selected by GPIO pin PA4: while the pin is
an output at 0 (the firmware's chip select, HAL_GPIO_WritePin(..., GPIO_PIN_RESET)) the device
takes the bytes SPI1 sends and answers on MISO; ``--spi NSS=...`` selects it by SPI1's own NSS
output instead (CR1.SSM clear, CR2.SSOE set: low while CR1.SPE is set). Its registers are a
register map (sim/register_map.py) and it speaks as most SPI sensors do (ST's, Bosch's,
InvenSense's): the first byte after the select is a command, ``read_bit`` (default 0x80) set
for a read, the register in ``address_mask`` (default 0x7F) OR ``address_base`` (default 0;
Bosch's BMP280, whose registers are 0x80-0xFF and whose bit 7 is the read bit: 0x80); the bytes
after it read from, or write to, the registers from there. With ``increment_bit`` (ST's MS bit,
0x40) the pointer steps on only when the command has it set (``address_mask`` then 0x3F); with
``write_pairs = true`` (Bosch) a write's bytes alternate: data, the next register, data...
MISO is 0xFF during the command byte, from a device not being read, and with no device
selected. A frame reaches a device only when it was selected for the whole frame: one whose
chip select falls or rises while the frame goes out gets nothing of it.

The file's own keys, beside the register map's::

    read_bit = 0x80
    address_mask = 0x7F
    address_base = 0x00
    increment_bit = 0x40       # default 0: auto_increment decides
    write_pairs = false
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
_OWN_KEYS = frozenset({"read_bit", "address_mask", "address_base", "increment_bit",
                       "write_pairs"})


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
                 address_mask: int = 0x7F, increment_bit: int = 0, address_base: int = 0,
                 write_pairs: bool = False) -> None:
        self.spec, self.registers = spec, registers
        self.read_bit, self.address_mask, self.increment_bit = read_bit, address_mask, increment_bit
        self.address_base, self.write_pairs = address_base, write_pairs
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
        self._pair_address = False  # write_pairs: the next byte is a register

    def select(self, on: bool) -> None:
        if on and not self.selected:
            self._command = True
            self.selections += 1
        self.selected = on

    def exchange(self, mosi: int, seconds: float) -> int:
        """A byte from the controller while selected: the byte it answers."""
        regs = self.registers
        if self._command or self._pair_address:
            if self._command:
                self._reading = bool(mosi & self.read_bit)
                if self.increment_bit:
                    regs.auto_increment = bool(mosi & self.increment_bit)
            regs.bytes_written += 1
            regs.select((mosi & self.address_mask) | self.address_base)
            if self._command:
                regs.start(self._reading)
            self._command = self._pair_address = False
            return IDLE
        if self._reading:
            return regs.read(seconds)
        regs.write(mosi)
        self._pair_address = self.write_pairs
        return IDLE


def load_target(spec: SpiSpec) -> SpiTarget:
    """The device ``spec``'s file describes; InputError with one line when it does not."""
    registers, table = load_map(spec.path, spec.cs, _OWN_KEYS)
    read_bit = int_key(table, "read_bit", 0x80, range(1, 256), spec.path)
    increment = int_key(table, "increment_bit", 0, range(0, 256), spec.path)
    mask = int_key(table, "address_mask", 0x7F if not increment else 0x3F, range(1, 256),
                   spec.path)
    base = int_key(table, "address_base", 0, range(0, 256), spec.path)
    if (read_bit | increment) & mask or read_bit & increment or base & mask:
        raise InputError(f"{spec.path}: read_bit, increment_bit, address_mask and "
                         "address_base must not share a bit")
    pairs = table.get("write_pairs", False)
    if not isinstance(pairs, bool):
        raise InputError(f"{spec.path}: write_pairs is true or false")
    return SpiTarget(spec, registers, read_bit, mask, increment, base, pairs)


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
    each byte (:meth:`exchange`), at core cycles that ``seconds`` turns into device time. A
    controller model
    ``attach``es a catch-up, called before a chip select changes: the bytes it has sent by
    then reach the device that was selected."""

    def __init__(self, targets: list[SpiTarget], seconds: Callable[[int], float]) -> None:
        self.targets = {t.spec.cs: t for t in targets}
        self._seconds = seconds
        self.reset()

    def reset(self) -> None:
        """Before a run (the controller model attaches again as it resets)."""
        self._catch_up: Callable[[int], None] | None = None
        for target in self.targets.values():
            target.reset()
        self.log: list[Selection] = []
        self.unselected = 0  # bytes sent with no device selected
        self.contended = 0  # bytes sent with several selected
        self.cut = 0  # bytes a device's chip select fell or rose during (it got none)
        self._open: dict[str, Selection] = {}

    def attach(self, catch_up: Callable[[int], None]) -> None:
        self._catch_up = catch_up

    def _select(self, target: SpiTarget, on: bool, cycle: int) -> None:
        if on == target.selected:
            return
        if self._catch_up is not None:
            self._catch_up(cycle)
        target.select(on)
        cs = target.spec.cs
        if on and len(self.log) < LOG_KEEP:
            self._open[cs] = Selection(self._seconds(cycle), cs)
            self.log.append(self._open[cs])
        elif not on:
            self._open.pop(cs, None)

    def pins(self, port: str, known: int, high: int, cycle: int) -> None:
        """GPIO port ``port``'s levels from core cycle ``cycle`` on: a device whose chip
        select is at 0 is selected."""
        for target in self.targets.values():
            if target.spec.port == port:
                bit = 1 << target.spec.pin
                self._select(target, bool(known & bit) and not high & bit, cycle)

    def nss(self, low: bool, cycle: int) -> None:
        """SPI1's NSS output from core cycle ``cycle`` on (low: selected)."""
        target = self.targets.get(NSS)
        if target is not None:
            self._select(target, low, cycle)

    def frame_start(self) -> dict[str, int]:
        """The devices selected as a frame starts (chip select -> its selections so far), for
        :meth:`exchange` at its end."""
        return {cs: t.selections for cs, t in self.targets.items() if t.selected}

    def exchange(self, mosi: int, started: dict[str, int] | None = None, cycle: int = 0
                 ) -> int:
        """A byte on MOSI, of a frame that started with the devices ``started`` selected
        (frame_start; None: those selected now) and ends at core cycle ``cycle``; the byte on
        MISO (IDLE with none)."""
        selected = [t for t in self.targets.values() if t.selected]
        whole = [t for t in selected
                 if started is None or started.get(t.spec.cs) == t.selections]
        if len(whole) < len(selected) or (started and len(started) > len(whole)):
            self.cut += 1  # a chip select fell (or rose and fell) during the frame
        if not selected:
            if not started:
                self.unselected += 1
            return IDLE
        if len(whole) > 1:
            self.contended += 1
        miso = IDLE
        seconds = self._seconds(cycle)
        for target in whole:  # (several: their outputs fight; a 0 wins, as pulled up)
            answer = target.exchange(mosi, seconds)
            miso &= answer
            opened = self._open.get(target.spec.cs)
            if opened is not None:
                opened.add(mosi, answer)
        return miso

    def summary(self) -> dict[str, object]:
        """The report's ``spi``: each device's counts, bytes with none selected, the first
        selections."""
        return {"targets": {cs: {**t.registers.summary(), "selections": t.selections}
                            for cs, t in self.targets.items()},
                "unselected_bytes": self.unselected, "contended_bytes": self.contended,
                "cut_bytes": self.cut,
                "log": [s.as_dict() for s in self.log]}

    def notes(self) -> list[str]:
        """Warnings: bytes no device took, devices selected together, devices never
        selected."""
        out = []
        def count(n: int) -> str:
            return f"{n:,} byte{'' if n == 1 else 's'}"

        if self.unselected:
            out.append(f"SPI: {count(self.unselected)} went out with no --spi device selected "
                       "(MISO read 0xFF)")
        if self.cut:
            out.append(f"SPI: {count(self.cut)} went out while a device's chip select changed "
                       "(it fell or rose mid-frame): the device got none of them; select it "
                       "before the DR write and release it once BSY is clear")
        if self.contended:
            out.append(f"SPI: {count(self.contended)} went out with several devices selected "
                       "at once (their MISO outputs fight)")
        for cs, target in self.targets.items():
            if not target.selections:
                how = ("SPI1's NSS output: CR1.SSM clear, CR2.SSOE set, while CR1.SPE is set"
                       if cs == NSS else f"{cs} held at 0 by the firmware, an output (MODER "
                       "01) at 0 in ODR; a pin in its alternate function is SPI1's NSS: "
                       "--spi NSS=...")
                out.append(f"SPI device {cs} ({target.spec.path.name}) was never selected: "
                           f"its chip select is {how}")
        return out

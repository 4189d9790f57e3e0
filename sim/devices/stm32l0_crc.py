"""The STM32L0x1's CRC calculation unit (RM0377, section 14), as STM32CubeL0's HAL_CRC_Calculate
and HAL_CRC_Accumulate drive it (and X-CUBE-AI's runtime expects it clocked): each write to DR
feeds its 8, 16 or 32 bits, most significant bit first, into the CRC of POLYSIZE's width, and
DR reads back the result.

DR (0x00): a write of a byte, halfword or word feeds that many bits (the word's most significant
byte first, as the chip does: a little-endian buffer read as words is fed in reverse byte
order), bit-reversed first as CR.REV_IN says (none, by byte, by halfword, by word; a write
narrower than the reversal's unit is reversed within its own width); a read returns the CRC in
its low POLYSIZE bits, bit-reversed within them with CR.REV_OUT. IDR (0x04): 8 bits for
software, not touched by RESET. CR (0x08): RESET (writes DR with INIT; reads 0), POLYSIZE (0:
32 bits, 1: 16, 2: 8, 3: 7), REV_IN, REV_OUT. INIT (0x10, reset 0xFFFFFFFF): written, also
loads DR. POL (0x14, reset 0x04C11DB7, the Ethernet CRC-32): the polynomial's low POLYSIZE
bits; an even one (RM0377: not supported) is listed as unmodelled. Each CRC is exact; its time
(a word in 4 AHB cycles) is the store's.

Like the part's other peripherals it works only while its RCC clock is on (AHBENR CRCEN, bit
12; AHBRSTR resets it: sim.devices.stm32l0.Clocked). Any other offset reads back what was
written and is listed as unmodelled.
"""

from sim.devices import lane
from sim.devices.stm32l0 import Clocked, merge

CRC_BASE = 0x4002_3000
DR, IDR, CR, INIT, POL = 0x00, 0x04, 0x08, 0x10, 0x14
RESET = 1
AHBENR = 0x30
_WIDTHS = (32, 16, 8, 7)  # CR.POLYSIZE


def reverse(value: int, width: int) -> int:
    """``value``'s low ``width`` bits in reverse order."""
    return int(f"{value & ((1 << width) - 1):0{width}b}"[::-1], 2)


def _reverse_in(value: int, width: int, unit: int) -> int:
    """``width`` bits of ``value`` bit-reversed in units of ``unit`` bits (0: not at all)."""
    if not unit:
        return value
    unit = min(unit, width)
    return sum(reverse(value >> shift, unit) << shift for shift in range(0, width, unit))


def feed(crc: int, data: int, bits: int, poly: int, width: int) -> int:
    """The CRC of ``width`` bits after ``bits`` bits of ``data``, most significant first."""
    top, mask = 1 << (width - 1), (1 << width) - 1
    for i in range(bits - 1, -1, -1):
        feedback = bool(crc & top) ^ (data >> i & 1)
        crc = (crc << 1) & mask
        if feedback:
            crc ^= poly & mask
    return crc


class Stm32l0Crc(Clocked):
    name, base, size = "stm32l0_crc", CRC_BASE, 0x400
    clock = (AHBENR, 12)

    def reset(self) -> None:
        super().reset()
        self.crc = 0xFFFF_FFFF
        self.idr = 0
        self.cr = 0
        self.init = 0xFFFF_FFFF
        self.pol = 0x04C1_1DB7
        self._stored: dict[int, int] = {}

    def _width(self) -> int:
        return _WIDTHS[self.cr >> 3 & 3]

    def _word(self, word: int) -> int:
        if word == DR:
            width = self._width()
            value = self.crc & ((1 << width) - 1)
            return reverse(value, width) if self.cr & 1 << 7 else value
        values = {IDR: self.idr, CR: self.cr, INIT: self.init, POL: self.pol}
        return values.get(word, self._stored.get(word, 0))

    def read_clocked(self, offset: int, size: int) -> int:
        word = offset & ~3
        if word not in (DR, IDR, CR, INIT, POL):
            self.host.unmodelled(self, offset, size, None)
        return lane(self._word(word), offset, size)

    def write_clocked(self, offset: int, size: int, value: int) -> None:
        word = offset & ~3
        if word == DR:  # (a narrower store feeds its own bits, wherever it lands in DR)
            bits = 8 * size
            data = _reverse_in(value & ((1 << bits) - 1), bits, (0, 8, 16, 32)[self.cr >> 5 & 3])
            self.crc = feed(self.crc, data, bits, self.pol, self._width())
            return
        value = merge(self._word(word), offset, size, value)
        if word == IDR:
            self.idr = value & 0xFF
        elif word == CR:
            self.cr = value & 0xF8
            if value & RESET:
                self.crc = self.init
        elif word == INIT:
            self.init = self.crc = value
        elif word == POL:
            self.pol = value
            if not value & 1:
                self.host.unmodelled(self, offset, size, value,
                                     "an even polynomial: not supported (RM0377)")
        else:
            self._stored[word] = value
            self.host.unmodelled(self, offset, size, value)


DEVICES = (Stm32l0Crc,)

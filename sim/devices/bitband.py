"""The Cortex-M3/M4 bit-band aliases: a word per bit of SRAM and of the peripherals.

The lowest MiB of SRAM (``0x20000000``) and of the peripheral region (``0x40000000``) is seen
a bit at a time through 32 MiB aliases at ``0x22000000`` and ``0x42000000``: the word at
``alias + byte_offset * 32 + bit * 4`` is bit ``bit`` of the byte at ``region + byte_offset``
(ARM's Cortex-M3 and M4 technical reference manuals, "Bit-banding"; CMSIS-era firmware's
``BITBAND_SRAM``/``BITBAND_PERIPH`` macros). A load reads 0 or 1; a store's bit 0 is the bit's
new value, written by a read-modify-write of the bit-band region. Both are of the access's own
size (a byte, half-word or word of the region, aligned to that size: the bit is found in it
as the address says), so a store through the alias into a peripheral register reads the
register and writes it back whole, as on the chip (its write-1-to-clear flags that read 1 are
cleared too). The bits of the alias address below bit 2 are ignored.

Bit-banding is an implementation option of the M3 and M4: the ``curie`` profile has it (as
QEMU's ``mps2-an385``, the Cortex-M3 board it follows); the nRF52832 does not implement it,
and the ARMv6-M, ARMv7E-M M7 and ARMv8-M cores have no bit-band at all. Where the alias names
a byte outside the SRAM the run maps, or a peripheral address no device answers, the access
is a precise BusFault (the run stops), as the direct access would be. The access costs the
cycles of an ordinary load or store (the chip's locked read-modify-write takes a cycle or two
more).
"""

from sim.devices import Device

ALIAS_SIZE = 0x0200_0000  # 32 MiB: one word per bit of a 1 MiB region


class _BitBand(Device):
    """The alias of the 1 MiB region at ``region`` (a subclass names its addresses)."""

    region: int
    size = ALIAS_SIZE

    def reset(self) -> None:
        pass  # no state: every access goes to the region

    def _target(self, offset: int, size: int) -> tuple[int, int]:
        """(the region's address the access reaches, the bit's position in it): ``size``
        bytes aligned to their size, holding the byte the alias word names."""
        byte = self.region + (offset >> 5)
        bit = (offset >> 2) & 7
        start = byte & ~(size - 1)
        return start, (byte - start) * 8 + bit

    def _refuse(self, offset: int, size: int, value: int | None, address: int) -> None:
        what = "SRAM the run maps" if self.region < 0x4000_0000 else "a peripheral"
        self.host.bus_fault(self, offset, size, value,
                            f"its bit-band byte 0x{address:08x} is not {what}")

    def read(self, offset: int, size: int) -> int:
        address, bit = self._target(offset, size)
        value = self._load(address, size)
        if value is None:
            self._refuse(offset, size, None, self.region + (offset >> 5))
            return 0
        return value >> bit & 1

    def write(self, offset: int, size: int, value: int) -> None:
        address, bit = self._target(offset, size)
        old = self._load(address, size)
        if old is None:
            self._refuse(offset, size, value, self.region + (offset >> 5))
            return
        new = old | 1 << bit if value & 1 else old & ~(1 << bit)
        self._store(address, size, new)

    def _load(self, address: int, size: int) -> int | None:
        raise NotImplementedError

    def _store(self, address: int, size: int, value: int) -> None:
        raise NotImplementedError


class SramBitBand(_BitBand):
    name = "bitband_sram"
    base = 0x2200_0000
    region = 0x2000_0000

    def _load(self, address: int, size: int) -> int | None:
        # (the alias reaches the bit-band region's 1 MiB; the run maps less SRAM)
        return self.host.bus_read(address, size) if self.host.in_sram(address, size) else None

    def _store(self, address: int, size: int, value: int) -> None:
        self.host.bus_write(address, size, value)


class PeripheralBitBand(_BitBand):
    name = "bitband_periph"
    base = 0x4200_0000
    region = 0x4000_0000

    def _load(self, address: int, size: int) -> int | None:
        found = self.host.peripheral_at(address, size)
        return None if found is None else found[0].read(found[1], size)

    def _store(self, address: int, size: int, value: int) -> None:
        found = self.host.peripheral_at(address, size)
        if found is not None:
            found[0].write(found[1], size, value)


DEVICES = (SramBitBand, PeripheralBitBand)

"""The STM32L0's CRC unit (sim/devices/stm32l0_crc.py): the catalogue's CRCs by its polynomial
sizes and reversals, the chip's byte order for words, its registers one by one, and firmware
driving it as STM32CubeL0's HAL_CRC does."""

import zlib

import pytest
from helpers import FakeDeviceHost

from sim.devices.stm32l0_crc import CR, DR, IDR, INIT, POL, Stm32l0Crc
from tests.test_exceptions import irq_program

CHECK = b"123456789"


def mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 (the unit's default: no reversal, no final XOR) through zlib's reflected
    CRC-32: the bytes' bits reversed in, the result's reversed out."""
    reflected = zlib.crc32(bytes(int(f"{b:08b}"[::-1], 2) for b in data)) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def unit() -> tuple[Stm32l0Crc, FakeDeviceHost]:
    host = FakeDeviceHost()
    dev = Stm32l0Crc(host)  # type: ignore[arg-type]
    dev.reset()
    return dev, host


# (POLYSIZE, POL, INIT, REV_IN, REV_OUT, the catalogue's check value of "123456789")
@pytest.mark.parametrize("size, poly, init, rev_in, rev_out, check", [
    (0, 0x04C11DB7, 0xFFFFFFFF, 1, 1, zlib.crc32(CHECK) ^ 0xFFFFFFFF),  # CRC-32 (before xorout)
    (0, 0x04C11DB7, 0xFFFFFFFF, 0, 0, mpeg2(CHECK)),  # CRC-32/MPEG-2: 0x0376E6E7
    (1, 0x8005, 0xFFFF, 1, 1, 0x4B37),  # CRC-16/MODBUS
    (1, 0x1021, 0xFFFF, 0, 0, 0x29B1),  # CRC-16/IBM-3740 (CCITT-FALSE)
    (2, 0x07, 0x00, 0, 0, 0xF4),  # CRC-8/SMBUS
    (3, 0x09, 0x00, 0, 0, 0x75),  # CRC-7/MMC
    (1, 0x8005, 0x0000, 1, 1, 0xBB3D),  # CRC-16/ARC
    (2, 0x31, 0x00, 1, 1, 0xA1),  # CRC-8/MAXIM-DOW: REV_OUT within 8 bits
    (3, 0x4F, 0x7F, 1, 1, 0x53),  # CRC-7/ROHC: within 7
])
def test_the_catalogues_crcs(size, poly, init, rev_in, rev_out, check):
    dev, host = unit()
    dev.write(POL, 4, poly)
    dev.write(INIT, 4, init)
    dev.write(CR, 4, size << 3 | rev_in << 5 | rev_out << 7 | 1)
    for byte in CHECK:
        dev.write(DR, 1, byte)
    assert dev.read(DR, 4) == check and host.listed == []


def test_words_feed_their_most_significant_byte_first_and_the_reversals():
    """A word is fed from its top byte: 0x12345678 as the bytes 12 34 56 78 (the STM32's known
    0xDF8A8A2B); REV_IN by byte, halfword and word as RM0377's example (0x1A2B3C4D fed as
    0x58D43CB2, 0xD458B23C, 0xB23CD458); REV_OUT as its example (0x11223344 read 0x22CC4488)."""
    dev, host = unit()
    dev.write(DR, 4, 0x12345678)
    assert dev.read(DR, 4) == 0xDF8A8A2B
    dev.write(CR, 4, 1)
    for byte in (0x12, 0x34, 0x56, 0x78):
        dev.write(DR, 1, byte)
    assert dev.read(DR, 4) == 0xDF8A8A2B
    results = []
    for rev_in, fed in ((1, 0x58D43CB2), (2, 0xD458B23C), (3, 0xB23CD458)):
        dev.write(CR, 4, rev_in << 5 | 1)
        dev.write(DR, 4, 0x1A2B3C4D)
        results.append(dev.read(DR, 4))
        dev.write(CR, 4, 1)
        dev.write(DR, 4, fed)
        assert results[-1] == dev.read(DR, 4)
    assert len(set(results)) == 3
    dev.write(INIT, 4, 0x11223344)  # (loads DR)
    dev.write(CR, 4, 1 << 7)
    assert dev.read(DR, 4) == 0x22CC4488 and host.listed == []


def test_the_registers():
    """Reset values; CR's RESET reads 0 and loads INIT; IDR keeps 8 bits and survives RESET;
    a byte read of DR; an even polynomial and an unknown offset are listed."""
    dev, host = unit()
    assert [dev.read(reg, 4) for reg in (DR, IDR, CR, INIT, POL)] == [
        0xFFFFFFFF, 0, 0, 0xFFFFFFFF, 0x04C11DB7]
    dev.write(IDR, 4, 0x1A5)
    dev.write(INIT, 4, 0xCAFEF00D)
    dev.write(DR, 4, 1)
    dev.write(CR, 4, 1 | 1 << 3)
    assert dev.read(CR, 4) == 1 << 3 and dev.read(IDR, 4) == 0xA5
    assert dev.read(DR, 4) == 0xF00D and dev.read(DR, 1) == 0x0D  # (16 bits: INIT's low half)
    assert host.listed == []
    dev.write(POL, 4, 0x8004)
    dev.write(0x20, 4, 7)
    assert dev.read(0x20, 4) == 7
    assert [entry[1] for entry in host.listed] == [POL, 0x20, 0x20]
    assert "even polynomial" in host.whys[0]


def test_firmware_computes_with_the_unit(firmware, cli):
    """CRC-32 by bytes, the default CRC by words, CRC-16/MODBUS by halfwords: each as the core
    computes it bit by bit, and as the catalogue has it."""
    result = cli("run", irq_program(firmware, "crc.c", "stm32l031", CASE_crc32=None),
                 "--strict-peripherals")
    assert result.returncode == 0, result.report
    words = mpeg2(bytes.fromhex("123456789ABCDEF0"))  # (the words' bytes, top byte first)
    assert result.report["stdout"] == (
        f"crc32 {zlib.crc32(CHECK):08x} words {words:08x} modbus {0x4B37:08x}\n")
    assert result.report["unmodelled_registers"] == []


def test_without_its_clock_the_unit_does_nothing(firmware, cli):
    result = cli("run", irq_program(firmware, "crc.c", "stm32l031", CASE_no_clock=None))
    assert result.returncode == 0, result.report
    listed = result.report["unmodelled_registers"]
    assert listed and all(entry.startswith("stm32l0_crc+0x") and "clock" in entry
                          for entry in listed), listed

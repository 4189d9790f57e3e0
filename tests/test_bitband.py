"""The bit-band aliases of the Cortex-M3 profile (curie): the bit each alias word names, in
SRAM and in a peripheral's register, as the chip and QEMU's mps2-an385 give it; a target
without them (the nRF52832's M4) faults there and says so."""

import sim
from tests.test_qemu import run_qemu

EXPECTED = ("flags 00000081, bits 7 and 6 read 1 0\n"
            "bytes 00 f7 10 00, byte load 1, half-word load 0\n"
            "reload 00100001, bit 20 reads 1\n")


def test_bit_band_aliases_read_and_write_one_bit(firmware, tmp_path):
    elf = firmware("bitband.c")
    report = sim.run(sim.load_elf(elf))
    assert report.status == "ok", report.fault
    assert report.stdout == EXPECTED
    qemu = run_qemu(elf, "curie", tmp_path / "trace.log")
    assert qemu.console == EXPECTED
    assert report.instructions == len(qemu.pcs)


def test_an_alias_past_the_runs_sram_is_a_bus_fault(firmware):
    report = sim.run(sim.load_elf(firmware("bitband.c", defines={"CASE": "1"})))
    assert report.fault is not None and report.fault.kind == "bus_fault", report.fault
    assert "its bit-band byte 0x20080000 is not SRAM the run maps" in report.fault.message
    assert report.fault.address == 0x2300_0000


def test_a_part_without_bit_band_faults_at_the_alias(firmware):
    report = sim.run(sim.load_elf(firmware("bitband.c", target="nrf52832")))
    assert report.fault is not None and report.fault.kind == "unmapped_write", report.fault
    assert report.fault.message.endswith(
        "(the bit-band alias of SRAM, an option of the Cortex-M3/M4 that nrf52832 does not "
        "implement)")

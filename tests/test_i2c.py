"""The STM32L0's I2C1 as a bus controller (sim/devices/stm32l0_i2c.py) and the run's devices on
its bus (--i2c, sim/i2c_targets.py): register targets, NACKs, timing, the report's ``i2c``."""

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.i2c_targets import I2cBus, I2cSpec, load_target, parse_spec
from tests.helpers import build_example, check_one
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")
PERIOD = 188 + 125 + 6  # TIMINGR 0x00707CBB at 32 MHz: SCLL + 1, SCLH + 1, the sync


def i2c(firmware, case: str, **defines):
    return irq_program(firmware, "i2c.c", "stm32l031", **{f"CASE_{case}": None, **defines})


def target_file(tmp_path, text: str, name: str = "dev.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SENSOR = """name = "test sensor"
read_only = [0x0F]
[registers]
0x0F = 0x33
0x10 = [1, 2, 3, 4, 5, 6, 7, 8]
"""


def test_a_register_write_then_read_back_through_a_repeated_start(firmware, cli, tmp_path):
    """Mem_Write of 3 bytes at 0x10, then Mem_Read of 5 from 0x0F: the read-only WHO_AM_I
    (0x33), the three written, the fourth initial byte; the report counts the transfers and
    their bytes (register numbers included)."""
    dev = target_file(tmp_path, SENSOR)
    res = cli("run", i2c(firmware, "mem", READ_REG="0x0F", READ_BYTES=5), "--i2c",
              f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "read: 33 a1 a2 a3 04\n"
    bus = res.report["i2c"]
    assert bus["targets"]["0x48"] == {
        "name": "test sensor", "file": str(dev), "writes": 2, "reads": 1, "bytes_written": 5,
        "bytes_read": 5, "ignored_writes": 0}
    assert bus["transactions"] == 3 and bus["nacked"] == {}
    assert [(t["address"], t["read"], t["acked"], t["data"]) for t in bus["log"]] == [
        ("0x48", False, True, "10 a1 a2 a3"), ("0x48", False, True, "0f"),
        ("0x48", True, True, "33 a1 a2 a3 04")]
    assert res.report["warnings"] == []
    assert "transfers with 0x48 (test sensor)" in res.stderr


def test_the_data_phases_by_dma(firmware, cli, tmp_path):
    """HAL_I2C_Mem_Write_DMA and Mem_Read_DMA: the DMA writes TXDR as TXIS sets and reads RXDR
    as RXNE does; the bytes the target got and gave are the polled run's."""
    dev = target_file(tmp_path, SENSOR)
    res = cli("run", i2c(firmware, "dma", READ_REG="0x0F", READ_BYTES=5), "--i2c",
              f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "read: 33 b1 b2 b3 04\n"
    assert res.report["i2c"]["targets"]["0x48"]["bytes_read"] == 5
    assert res.report["unmodelled_registers"] == []


def test_the_same_transfer_interrupt_driven(firmware, cli, tmp_path):
    """TXIS, TC (a repeated start from the handler), RXNE and STOPF as interrupts (IRQ 23),
    the core asleep in between."""
    dev = target_file(tmp_path, SENSOR)
    res = cli("run", i2c(firmware, "irq", READ_REG="0x0F", READ_BYTES=3), "--i2c",
              f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "read: 33 01 02\n"
    assert res.report["exceptions"]["taken"]["IRQ23"] == 1 + 1 + 3 + 1  # TXIS TC RXNE*3 STOPF
    assert res.report["sleep_cycles"] > 5 * 9 * PERIOD


def test_an_address_without_a_target_is_not_acknowledged(firmware, cli, tmp_path):
    """IsDeviceReady: 0x48 answers, 0x50 does not (NACKF, then the controller's own stop);
    the warning names 0x50."""
    dev = target_file(tmp_path, "")
    res = cli("run", i2c(firmware, "probe"), "--i2c", f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "0x48 ack\n0x50 nack\n"
    assert res.report["i2c"]["nacked"] == {"0x50": 1}
    assert any("no target answered at 0x50 (1x)" in w for w in res.report["warnings"])


def test_without_i2c_every_transfer_ends_with_a_nack(firmware, cli):
    res = cli("run", i2c(firmware, "nack"), *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["i2c"]["nacked"] == {"0x48": 1}
    assert res.report["i2c"]["targets"] == {}


def test_a_long_read_with_reload(firmware, cli, tmp_path):
    """300 bytes of a 2-byte-addressed EEPROM from 0x0000: 255 with RELOAD, TCR, 45 with
    AUTOEND; the pointer set by two address bytes."""
    values = [(i * 7) & 0xFF for i in range(300)]
    dev = target_file(tmp_path, "address_bytes = 2\nsize = 1024\n[registers]\n0x0000 = ["
                      + ", ".join(map(str, values)) + "]\n")
    res = cli("run", i2c(firmware, "reload", ADDR="0x50"), "--i2c", f"0x50={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == f"sum {sum(values)} of 300\n"
    assert res.report["i2c"]["log"][-1]["bytes"] == 300


def test_hal_mem_write_with_a_reload_of_the_same_count(firmware, cli, tmp_path):
    """TCR clears when CR2 is written with NBYTES non-zero, even the same count again."""
    dev = target_file(tmp_path, SENSOR)
    res = cli("run", i2c(firmware, "halwrite"), "--i2c", f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "read: 01 5a 03\n"


def test_a_stop_asked_mid_transfer_follows_the_byte_under_way(firmware, cli, tmp_path):
    """CR2.STOP written after the second byte: the third (being received) still lands in
    RXDR, then the stop; no further byte is read from the target."""
    dev = target_file(tmp_path, SENSOR)
    res = cli("run", i2c(firmware, "abort"), "--i2c", f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "read: 01 02 03\nstopped\n"
    assert res.report["i2c"]["targets"]["0x48"]["bytes_read"] == 3


@pytest.mark.parametrize("case, output", [
    ("phantom", "read: 01 02\nread: 01 02\n"),  # no byte after the stop
    ("pestart", "read: 01 02\n"),  # START cleared with PE: the next START is taken
    ("pending", "read: 01 02\n"),  # START during the transfer: a repeated start after it
])
def test_start_and_stop_at_awkward_moments(firmware, cli, tmp_path, case, output):
    dev = target_file(tmp_path, SENSOR)
    res = cli("run", i2c(firmware, case), "--i2c", f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == output
    assert res.report["unmodelled_registers"] == []


def test_clearing_pe_resets_the_controller(firmware, cli, tmp_path):
    dev = target_file(tmp_path, SENSOR)
    res = cli("run", i2c(firmware, "pe"), "--i2c", f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr


def test_a_transfer_takes_its_scl_periods(firmware, cli, tmp_path):
    """17 bytes read instead of 1 take 16 x 9 SCL periods more (319 cycles each at 100 kHz
    from 32 MHz), to within the poll loop's few cycles a byte."""
    dev = target_file(tmp_path, SENSOR)
    cycles = []
    for n in (1, 17):
        res = cli("run", i2c(firmware, "timed", READ_BYTES=n), "--i2c", f"0x48={dev}", *LIMIT)
        assert res.returncode == 0, res.stderr
        cycles.append(res.report["cycles"])
    assert cycles[1] - cycles[0] == pytest.approx(16 * 9 * PERIOD, rel=0.01)
    # the whole transfer: start + address (10), register (9), restart + address (10), a
    # byte (9), stop (1) periods
    assert cycles[0] > 39 * PERIOD


def test_a_series_register_follows_its_recording(firmware, tmp_path):
    """A 2-byte big-endian register from a seconds,value file: its value at device time."""
    (tmp_path / "temp.csv").write_text("seconds,value\n0,400\n0.001,-2\n")
    dev = target_file(tmp_path, "[series]\n0x00 = { file = \"temp.csv\", bytes = 2 }\n")
    target = load_target(I2cSpec(0x48, dev))
    bus = I2cBus([target], lambda cycle: now)
    now = 0.0005
    assert bus.start(0x48, False) and bus.write(0x00)
    assert bus.start(0x48, True) and [bus.read(), bus.read()] == [0x01, 0x90]
    now = 0.002
    bus.stop()
    assert bus.start(0x48, False) and bus.write(0x00) and bus.start(0x48, True)
    assert [bus.read(), bus.read()] == [0xFF, 0xFE]
    assert bus.start(0x48, False) and bus.write(0x01) and bus.write(0x12)
    assert target.registers.ignored == 1  # a write to a series register is ignored
    assert bus.start(0x48, False) and bus.write(0x01) and bus.start(0x48, True)
    assert bus.read() == 0xFE


def test_a_series_in_its_own_units_is_scaled_to_counts(tmp_path):
    """A TMP102 fed degrees: scale 256, and an offset; rounded to the nearest count."""
    (tmp_path / "c.csv").write_text("seconds,celsius\n0,25.0\n1,-0.0625\n")
    dev = target_file(tmp_path, "register_bytes = 2\n[series]\n"
                      "0 = { file = \"c.csv\", scale = 256, offset = 0.4 }\n")
    clock = [0.0]
    bus = I2cBus([load_target(I2cSpec(0x48, dev))], lambda cycle: clock[0])
    for clock[0], want in ((0.5, [0x19, 0x00]), (1.5, [0xFF, 0xF0])):  # 6400, -15.6 -> -16
        bus.start(0x48, False)
        bus.write(0)
        bus.start(0x48, True)
        assert [bus.read(), bus.read()] == want


def test_read_only_registers_ignore_writes_and_the_pointer_wraps(tmp_path):
    dev = target_file(tmp_path, "size = 4\nread_only = [1]\n[registers]\n1 = 9\n")
    target = load_target(I2cSpec(0x20, dev))
    bus = I2cBus([target], lambda cycle: 0.0)
    assert bus.start(0x20, False)
    for byte in (0, 5, 6, 7, 8, 10):  # register 0, then 0..3 and 0 again
        bus.write(byte)
    assert bytes(target.registers.regs) == bytes([10, 9, 7, 8]) and target.registers.ignored == 1
    assert not bus.start(0x21, True) and bus.read() == 0xFF and bus.nacked == {0x21: 1}


def test_registers_of_two_bytes_are_sent_high_byte_first(tmp_path):
    """A TMP102-like map: 16-bit registers, the pointer staying; a transaction starts at a
    register's first byte; a series spans its register; a write fills a register's bytes."""
    (tmp_path / "t.csv").write_text("0,6400\n")
    dev = target_file(tmp_path, "register_bytes = 2\nsize = 4\nauto_increment = false\n"
                      "read_only = [0]\n[registers]\n1 = 0x60A0\n2 = [0x4B00, 0x5000]\n"
                      "[series]\n0 = { file = \"t.csv\" }\n")
    target = load_target(I2cSpec(0x48, dev))
    bus = I2cBus([target], lambda cycle: 0.5)
    bus.start(0x48, False)
    bus.write(1)
    bus.start(0x48, True)
    assert [bus.read() for _ in range(3)] == [0x60, 0xA0, 0x60]  # the same register again
    bus.start(0x48, True)  # a new transaction: its first byte again
    assert bus.read() == 0x60
    bus.start(0x48, False)
    for byte in (3, 0x12, 0x34):
        bus.write(byte)
    bus.start(0x48, False)
    for byte in (0, 0xFF, 0xFF):  # the temperature: read-only
        bus.write(byte)
    assert target.registers.ignored == 2
    for reg, want in ((3, [0x12, 0x34]), (0, [0x19, 0x00]), (2, [0x4B, 0x00])):
        bus.start(0x48, False)
        bus.write(reg)
        bus.start(0x48, True)
        assert [bus.read(), bus.read()] == want


def test_no_auto_increment_keeps_the_pointer(tmp_path):
    dev = target_file(tmp_path, "auto_increment = false\n[registers]\n3 = [1, 2]\n")
    bus = I2cBus([load_target(I2cSpec(0x20, dev))], lambda cycle: 0.0)
    bus.start(0x20, False)
    bus.write(3)
    bus.start(0x20, True)
    assert [bus.read() for _ in range(3)] == [1, 1, 1]


@pytest.mark.parametrize("text, message", [
    ("size = 0\n", "size is a whole number from 1 to 65,536"),
    ("colour = 1\n", "unknown key 'colour'"),
    ("[registers]\n0x100 = 1\n", "register 0x100 is beyond the 256 registers"),
    ("[registers]\n0x10 = 256\n", "a register holds 1 byte(s), 0 to 255, not 256"),
    ("register_bytes = 2\n[registers]\n0x10 = 0x10000\n", "holds 2 byte(s), 0 to 65,535"),
    ("register_bytes = 5\n", "register_bytes is a whole number from 1 to 4"),
    ("[registers]\nfoo = 1\n", "'foo' is not a register number"),
    ("[registers]\n0xFE = [1, 2, 3]\n", "its 3 values run past the 256 registers"),
    ("read_only = [300]\n", "read_only: 300 is not one of the 256 registers"),
    ("address_bytes = 3\n", "address_bytes is a whole number from 1 to 2"),
    ("auto_increment = 1\n", "auto_increment is true or false"),
    ("name = [\n", "not a TOML description of a device's registers"),
    ("[series]\n0 = { file = \"nope.csv\" }\n", "no such file (a register series)"),
    ("[series]\n0 = { bytes = 2 }\n", "offset = 0 } (all but file optional)"),
    ("[series]\n0 = { file = \"v.csv\", order = \"middle\" }\n", "order is \"big\" or"),
    ("[series]\n0xFF = { file = \"v.csv\", bytes = 2 }\n", "its 2 bytes run past"),
    ("[series]\n0 = { file = \"v.csv\", bytes = 2 }\n1 = { file = \"v.csv\" }\n", "overlap"),
    ("[series]\n0 = { file = \"big.csv\" }\n", "fits in 1 byte(s), -128 to 255"),
    ("[series]\n0 = { file = \"v.csv\", scale = 300 }\n", "(after scale and offset) must"),
    ("[series]\n0 = { file = \"v.csv\", scale = \"x\" }\n", "scale is a number"),
    ("[series]\n0 = { file = \"v.csv\", offset = nan }\n", "offset is a number"),
    ("[series]\n0 = { file = \"v.csv\", bytes = 5 }\n", "bytes is a whole number from 1 to 4"),
    ("[series]\n0 = { file = \".\" }\n", "not a file (a register series)"),
    ("name = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ("[registers]\n" + "9" * 500 + " = 1\n", "register 99999999999999999999 is beyond"),
])
def test_a_bad_target_file_is_refused_in_one_line(firmware, cli, tmp_path, text, message):
    (tmp_path / "v.csv").write_text("0,1\n")
    (tmp_path / "big.csv").write_text("0,300\n")
    dev = target_file(tmp_path, text)
    res = cli("run", i2c(firmware, "probe"), "--i2c", f"0x48={dev}", json=False)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("spec, message", [
    ("0x48", "not an I2C target"),
    ("0x05=dev.toml", "a 7-bit address from 0x08 to 0x77"),
    ("0x90=dev.toml", "a 7-bit address from 0x08 to 0x77"),
    ("0120=dev.toml", "a 7-bit address from 0x08 to 0x77"),  # decimal 120
    ("0x48=missing.toml", "no such file"),
])
def test_bad_i2c_options_are_one_line(firmware, cli, tmp_path, monkeypatch, spec, message):
    monkeypatch.chdir(tmp_path)
    target_file(tmp_path, "")
    res = cli("run", i2c(firmware, "probe"), "--i2c", spec, json=False)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


def test_an_address_twice_and_a_target_without_i2c_are_refused(firmware, cli, tmp_path):
    dev = target_file(tmp_path, "")
    res = cli("run", i2c(firmware, "probe"), "--i2c", f"0x48={dev}", "--i2c", f"72={dev}",
              json=False)
    assert res.returncode == 2 and "I2C address 0x48 is given twice" in res.stderr
    curie = irq_program(firmware, "systick.c", "curie", TICKS=1, RELOAD=999)
    res = cli("run", curie, "--i2c", f"0x48={dev}", json=False)
    assert res.returncode == 2 and "--i2c needs a target whose I2C controller" in res.stderr


def test_a_target_never_addressed_is_a_warning_naming_the_shifted_address(firmware, cli,
                                                                          tmp_path):
    dev = target_file(tmp_path, "")
    res = cli("run", i2c(firmware, "nack", ADDR="0x24"), "--i2c", f"0x48={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert any("0x48 (dev.toml) was never addressed" in w and "0x90 for 0x48" in w
               for w in res.report["warnings"])


def test_check_and_the_api_take_i2c(firmware, cli, tmp_path):
    """check's ``i2c`` key (relative to the config) and RunOptions.i2c."""
    dev = target_file(tmp_path, SENSOR)
    elf = i2c(firmware, "mem")
    res, report = check_one(cli, tmp_path, elf, f'i2c = "0x48={dev.name}"')
    assert report is not None, res.stderr
    assert report["stdout"] == "read: a1 a2 a3 04\n"
    assert report["i2c"]["targets"]["0x48"]["bytes_read"] == 4
    report = sim.run(sim.load_elf(elf), i2c=[parse_spec(f"0x48={dev}")])
    assert report.stdout == "read: a1 a2 a3 04\n"


def test_the_i2c_clock_stops_with_its_rcc_enable(firmware, cli, tmp_path):
    """Without I2C1EN the registers read 0 (the accesses listed): the driver's wait for TXIS
    gives up (exit 1)."""
    dev = target_file(tmp_path, SENSOR)
    elf = i2c(firmware, "mem", NO_CLOCK=1)
    res = cli("run", elf, "--i2c", f"0x48={dev}", *LIMIT)
    assert res.report["exit_code"] == 1
    assert any("stm32l0_i2c1" in u for u in res.report["unmodelled_registers"])


def test_spec_round_trip():
    assert str(parse_spec("72=x.toml")) == "0x48=x.toml"
    assert str(parse_spec("072=x.toml")) == "0x48=x.toml"  # a leading zero: still decimal
    assert np.array_equal(parse_spec("0x48=a/b.toml", Path("/base")).path,
                          Path("/base/a/b.toml"))


def test_the_thermometer_example(cli, tmp_path):
    """examples/sensors/thermometer.c (docs/simulator.md): a TMP102 read every half second, its
    temperature following examples/sensors/temperature.csv; the optional EEPROM absent."""
    root = Path(__file__).resolve().parents[1]
    elf = build_example(cli, tmp_path, "sensors/thermometer.c")
    res = cli("run", elf, "--run-for", "5s", "--i2c",
              f"0x48={root / 'examples/sensors/tmp102.toml'}")
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"].splitlines()[:8] == [
        "thermometer up", "no EEPROM at 0x50", "TMP102 config 0x60a0", "0.5 s  21.50 C",
        "1.0 s  22.00 C", "1.5 s  23.25 C", "2.0 s  25.00 C", "2.5 s  26.50 C  above T_HIGH"]
    assert res.report["cycles"] == 809_951  # as docs/simulator.md says
    bus = res.report["i2c"]
    assert bus["transactions"] == 26 and bus["targets"]["0x48"]["bytes_read"] == 22
    assert bus["nacked"] == {"0x50": 1}
    assert bus["log"][4]["data"] == "02 14 00"  # T_LOW: 20 C
    res = cli("run", elf, "--run-for", "1s")
    assert res.report["status"] == "deadlock"  # asleep with nothing to wake it
    assert res.report["stdout"].splitlines() == ["thermometer up", "no TMP102 at 0x48"]


def test_the_fixture_takes_i2c(firmware, ebnn_sim, tmp_path):
    dev = target_file(tmp_path, SENSOR)
    elf = i2c(firmware, "mem")
    assert ebnn_sim(elf, i2c=f"0x48={dev}").stdout == "read: a1 a2 a3 04\n"
    assert ebnn_sim(elf, i2c=[I2cSpec(0x48, dev)]).i2c["targets"]["0x48"]["reads"] == 1
    with pytest.raises(pytest.fail.Exception, match="i2c: give 'ADDR=FILE'"):
        ebnn_sim(elf, i2c=[dev])


def test_series_of_one_description_are_bounded_in_all(tmp_path, monkeypatch):
    """A 1.7 KB description naming one 32 MiB recording (16 Mi rows) for 64 registers made
    the host load it 64 times (4.8 GB, then a misleading 'not enough host memory to map 8 KiB
    of SRAM'). The series of a device are bounded in all, and a file is read once."""
    import sim.register_map as register_map
    from sim.inputs import InputError

    monkeypatch.setattr(register_map, "MAX_SERIES_ROWS", 10, raising=False)
    reads = []
    real = register_map.load_timed
    monkeypatch.setattr(register_map, "load_timed",
                        lambda *a: reads.append(a[0]) or real(*a))
    (tmp_path / "rows.csv").write_text("".join(f"{t},1\n" for t in range(4)))
    dev = tmp_path / "dev.toml"
    dev.write_text("[series]\n" + "".join(f'{r} = {{ file = "rows.csv" }}\n' for r in range(4)))
    with pytest.raises(InputError, match="series hold more than 10 rows in all"):
        load_target(I2cSpec(0x48, dev))
    assert len(reads) == 1

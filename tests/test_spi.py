"""The STM32L0's SPI1 as a master (sim/devices/stm32l0_spi.py) and the run's devices on its bus
(--spi, sim/spi_targets.py): chip selects, register reads and writes, timing, the report's
``spi``."""

import json
from pathlib import Path

import pytest

import sim
from sim.spi_targets import SpiBus, SpiSpec, load_target, parse_spec
from tests.helpers import build_example, check_one
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")
# an ST accelerometer's map (LIS3DH-like): WHO_AM_I, CTRL_REG1, the outputs; MS bit 0x40
SENSOR = """name = "accelerometer"
increment_bit = 0x40
read_only = [0x0F, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D]
[registers]
0x0F = 0x33
0x28 = [0x10, 0x01, 0x20, 0x02, 0x30, 0x03]
"""


def spi(firmware, case: str, **defines):
    return irq_program(firmware, "spi.c", "stm32l031", **{f"CASE_{case}": None, **defines})


def device_file(tmp_path, text: str = SENSOR, name: str = "dev.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_register_reads_and_writes_through_a_gpio_chip_select(firmware, cli, tmp_path):
    """HAL_SPI_TransmitReceive with PA4 as the chip select: WHO_AM_I, a control register
    written and read back, a burst of the outputs with the auto-increment bit."""
    dev = device_file(tmp_path)
    res = cli("run", spi(firmware, "regs"), "--spi", f"PA4={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "who 33 ctrl 57 data 10 01 20 02 30 03\n"
    bus = res.report["spi"]
    assert bus["targets"]["PA4"] == {
        "name": "accelerometer", "file": str(dev), "selections": 4, "writes": 1, "reads": 3,
        "bytes_written": 5, "bytes_read": 8, "ignored_writes": 0}
    assert bus["unselected_bytes"] == 0 and res.report["warnings"] == []
    assert [(s["cs"], s["mosi"], s["miso"]) for s in bus["log"]][:2] == [
        ("PA4", "8f 00", "ff 33"), ("PA4", "20 57", "ff ff")]
    assert "selections of PA4 (accelerometer)" in res.stderr


def test_nss_as_the_chip_select(firmware, cli, tmp_path):
    """SSM clear, SSOE set: NSS is low while SPE is set, a selection each time."""
    dev = device_file(tmp_path)
    res = cli("run", spi(firmware, "nss"), "--spi", f"NSS={dev}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "who 33 33\n"
    assert res.report["spi"]["targets"]["NSS"]["selections"] == 2


def test_without_a_device_miso_reads_ff_and_a_warning_says_so(firmware, cli):
    res = cli("run", spi(firmware, "nss"), *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "who ff ff\n"
    assert res.report["spi"]["unselected_bytes"] == 4
    assert any("4 bytes went out with no --spi device selected" in w
               for w in res.report["warnings"])


@pytest.mark.parametrize("case", ["modf", "ovr"])
def test_mode_fault_and_overrun(firmware, cli, tmp_path, case):
    """MODF (a master with SSM and SSI clear: SPE and MSTR clear) and OVR (a frame lost
    behind an unread DR), each cleared by its read sequence."""
    res = cli("run", spi(firmware, case), "--spi", f"PA4={device_file(tmp_path)}", *LIMIT)
    assert res.returncode == 0, res.stderr


def test_interrupt_driven_transfer(firmware, cli, tmp_path):
    res = cli("run", spi(firmware, "irq"), "--spi", f"PA4={device_file(tmp_path)}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "irq 10 01 20 02 30 03\n"
    assert res.report["exceptions"]["taken"]["IRQ25"] >= 7


def test_a_transfer_by_dma(firmware, cli, tmp_path):
    """HAL_SPI_TransmitReceive_DMA's way: the DMA feeds DR as TXE sets and empties it as RXNE
    does; the same burst as the interrupt-driven one, without an overrun, back to back."""
    res = cli("run", spi(firmware, "dma"), "--spi", f"PA4={device_file(tmp_path)}", *LIMIT)
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "dma 10 01 20 02 30 03\n"
    assert res.report["exceptions"]["taken"] == {"IRQ10": 1}
    assert res.report["spi"]["targets"]["PA4"]["bytes_read"] == 6
    assert res.report["unmodelled_registers"] == []


def test_sixteen_bit_frames(firmware, cli, tmp_path):
    """DFF: a frame is two bytes, high first: the read command, then WHO_AM_I back."""
    res = cli("run", spi(firmware, "dff"), "--spi", f"PA4={device_file(tmp_path)}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "frame ff33\n"


def test_a_clock_change_mid_frame_takes_the_rest_of_it(firmware, cli, tmp_path):
    """PPRE2 / 16 written a few hundred cycles into a 2,048-cycle frame: the rest of the
    frame takes 16 times as many core cycles (the core and HCLK as they were)."""
    dev = device_file(tmp_path)
    cycles = []
    for bits in (0, 7):
        res = cli("run", spi(firmware, "clock", PPRE2_BITS=f"{bits}u"), "--spi", f"PA4={dev}",
                  *LIMIT)
        assert res.returncode == 0, res.stderr
        cycles.append(res.report["cycles"])
    rest = (cycles[1] - cycles[0]) / 15  # the frame's cycles left at the write
    assert 1_500 < rest < 2_048


def test_frames_take_their_bit_times(firmware, cli, tmp_path):
    """BR = 2: a bit is 8 core cycles at 32 MHz, a frame 64: 16 frames more than 1 take
    about 15 x 64 cycles more (back to back: TXE served while the frame before goes out)."""
    dev = device_file(tmp_path)
    cycles = []
    for n in (1, 16):
        res = cli("run", spi(firmware, "timed", FRAMES=n), "--spi", f"PA4={dev}", *LIMIT)
        assert res.returncode == 0, res.stderr
        cycles.append(res.report["cycles"])
    assert cycles[1] - cycles[0] == pytest.approx(15 * 64, rel=0.05)


def test_a_chip_select_lowered_mid_frame_gets_none_of_it(firmware, cli, tmp_path):
    """CS falls after the DR store, while the frame goes out: the device decodes nothing (on
    the chip it would see a cut byte); a warning says why."""
    res = cli("run", spi(firmware, "latecs"), "--spi", f"PA4={device_file(tmp_path)}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "late ff\n"
    assert res.report["spi"]["cut_bytes"] == 1
    assert res.report["spi"]["targets"]["PA4"]["bytes_written"] == 0
    assert any("chip select changed" in w for w in res.report["warnings"])


def test_chip_select_edges_are_timed_at_their_stores(firmware, cli, tmp_path):
    """In one basic block: CS low, a 16-cycle frame, 24 NOPs, CS high: the frame ended first
    and reached the device; with 4 NOPs CS rose mid-frame: cut. (Timed at the block's end
    both would be wrong.)"""
    res = cli("run", spi(firmware, "inblock"), "--spi", f"PA4={device_file(tmp_path)}",
              *LIMIT)
    assert res.returncode == 0, res.stderr
    bus = res.report["spi"]
    assert [s["mosi"] for s in bus["log"]] == ["8f", ""]
    assert bus["cut_bytes"] == 1 and bus["unselected_bytes"] == 0


def test_a_chip_select_raised_before_the_frame_ends_loses_it(tmp_path):
    """The bus catches the controller up before a chip select changes: a frame that ended by
    then reached the device; one still going out when CS rose reaches none."""
    target = load_target(SpiSpec("PA4", device_file(tmp_path)))
    bus = SpiBus([target], lambda cycle: 0.0)
    sent: list[int] = []

    def catch_up(cycle: int) -> None:  # a frame that ended by then, before CS rose
        if target.selected and not sent:
            sent.append(bus.exchange(0x8F, started))

    bus.attach(catch_up)
    bus.pins("A", 1 << 4, 0, 10)  # selected
    started = bus.frame_start()
    bus.pins("A", 1 << 4, 1 << 4, 30)  # deselected: the catch-up sends the command first
    assert sent == [0xFF] and target.selections == 1 and target.registers.pointer == 0x0F
    started = bus.frame_start()  # (nobody)
    assert bus.exchange(0x00, started) == 0xFF and bus.unselected == 1  # after: nobody
    assert bus.cut == 0
    bus.pins("A", 1 << 4, 0, 40)  # selected during a frame that started before
    assert bus.exchange(0x8F, started) == 0xFF and bus.cut == 1 and target.registers.reads == 1


def test_an_st_multiple_byte_bit_decides_the_increment(tmp_path):
    target = load_target(SpiSpec("PB0", device_file(tmp_path)))
    bus = SpiBus([target], lambda cycle: 0.0)
    bus.pins("B", 1, 0, 0)
    assert [bus.exchange(b) for b in (0xA8, 0, 0)] == [0xFF, 0x10, 0x10]  # no MS bit
    bus.pins("B", 1, 1, 0)
    bus.pins("B", 1, 0, 0)
    assert [bus.exchange(b) for b in (0xE8, 0, 0)] == [0xFF, 0x10, 0x01]  # MS bit


def test_a_bosch_sensor_with_address_base_and_write_pairs(tmp_path):
    """A BMP280: registers 0x80-0xFF, bit 7 the read bit (address_base 0x80), several
    registers written as address/data pairs (74 27 75 a0: 0xF4 = 0x27, 0xF5 = 0xA0)."""
    dev = device_file(tmp_path, "address_base = 0x80\nwrite_pairs = true\n"
                      "[registers]\n0xD0 = 0x58\n")
    target = load_target(SpiSpec("PA4", dev))
    bus = SpiBus([target], lambda cycle: 0.0)
    bus.pins("A", 1 << 4, 0, 0)
    assert [bus.exchange(b) for b in (0xD0, 0)] == [0xFF, 0x58]
    bus.pins("A", 1 << 4, 1 << 4, 0)
    bus.pins("A", 1 << 4, 0, 0)
    for byte in (0x74, 0x27, 0x75, 0xA0):
        bus.exchange(byte)
    assert target.registers.regs[0xF4:0xF6] == bytes([0x27, 0xA0])
    assert target.registers.writes == 1 and target.registers.bytes_written == 1 + 4


@pytest.mark.parametrize("text, message", [
    ("read_bit = 0x80\naddress_mask = 0xFF\n", "must not share a bit"),
    ("read_bit = 300\n", "read_bit is a whole number from 1 to 255"),
    ("read_bit = 0\n", "read_bit is a whole number from 1 to 255"),
    ("address_base = 0x40\n", "must not share a bit"),
    ("write_pairs = 1\n", "write_pairs is true or false"),
    ("chip = 1\n", "unknown key 'chip'"),
])
def test_a_bad_device_file_is_refused_in_one_line(firmware, cli, tmp_path, text, message):
    res = cli("run", spi(firmware, "nss"), "--spi", f"PA4={device_file(tmp_path, text)}",
              json=False)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("spec, message", [
    ("PA4", "not an SPI device"),
    ("PA16=dev.toml", "a port's pins are 0 to 15"),
    ("PZ1=dev.toml", "SPI chip select PZ1: the target has ports A, B, C, H"),
    ("PA4=missing.toml", "no such file"),
    ("PA4=/dev/zero", "/dev/zero: not a file"),
    ("PA4=" + "x" * 300, "File name too long"),
])
def test_bad_spi_options_are_one_line(firmware, cli, tmp_path, monkeypatch, spec, message):
    monkeypatch.chdir(tmp_path)
    device_file(tmp_path)
    res = cli("run", spi(firmware, "nss"), "--spi", spec, json=False)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


def test_a_chip_select_twice_and_a_target_without_spi_are_refused(firmware, cli, tmp_path):
    dev = device_file(tmp_path)
    res = cli("run", spi(firmware, "nss"), "--spi", f"PA4={dev}", "--spi", f"pa4={dev}",
              json=False)
    assert res.returncode == 2 and "SPI chip select PA4 is given twice" in res.stderr
    curie = irq_program(firmware, "systick.c", "curie", TICKS=1, RELOAD=999)
    res = cli("run", curie, "--spi", f"PA4={dev}", json=False)
    assert res.returncode == 2 and "--spi needs a target whose SPI controller" in res.stderr


def test_a_device_never_selected_is_a_warning(firmware, cli, tmp_path):
    res = cli("run", spi(firmware, "regs"), "--spi", f"PA4={device_file(tmp_path)}", "--spi",
              f"PB1={device_file(tmp_path, name='other.toml')}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert any("SPI device PB1 (other.toml) was never selected" in w
               for w in res.report["warnings"])


def test_check_the_api_and_the_fixture_take_spi(firmware, cli, tmp_path, ebnn_sim):
    dev = device_file(tmp_path)
    elf = spi(firmware, "nss")
    res, report = check_one(cli, tmp_path, elf, f'spi = "NSS={dev.name}"')
    assert report is not None, res.stderr
    assert report["stdout"] == "who 33 33\n"
    report = sim.run(sim.load_elf(elf), spi=[parse_spec(f"NSS={dev}")])
    assert report.stdout == "who 33 33\n"
    assert ebnn_sim(elf, spi=f"NSS={dev}").spi["targets"]["NSS"]["reads"] == 2
    with pytest.raises(pytest.fail.Exception, match="spi: give 'CS=FILE'"):
        ebnn_sim(elf, spi=[dev])


def test_the_spi_clock_stops_with_its_rcc_enable(firmware, cli, tmp_path):
    """Without SPI1EN the registers read 0 (listed): TXE never sets, the driver spins."""
    res = cli("run", spi(firmware, "regs", NO_CLOCK=1), "--spi",
              f"PA4={device_file(tmp_path)}", "--max-instructions", "200000")
    assert res.report["status"] == "timeout"
    assert "while its clock is off (RCC APB2ENR bit 12)" in res.report["fault"]["message"]


def test_the_accelerometer_example(cli, tmp_path):
    """examples/sensors/accelerometer.c (docs/simulator.md): a LIS3DH read every quarter
    second through a GPIO chip select, its X and Z following the tilt recordings."""
    root = Path(__file__).resolve().parents[1]
    elf = build_example(cli, tmp_path, "sensors/accelerometer.c")
    res = cli("run", elf, "--run-for", "2s", "--spi",
              f"PA4={root / 'examples/sensors/lis3dh.toml'}")
    assert res.returncode == 0, res.stderr
    assert res.report["cycles"] == 810_217  # as docs/simulator.md says
    assert res.report["stdout"].splitlines()[:6] == [
        "tilt sensor up", "0.25 s  x     0  y     0  z  1000 mg",
        "0.50 s  x     0  y     0  z  1000 mg", "0.75 s  x   259  y     0  z   966 mg",
        "1.00 s  x   500  y     0  z   866 mg", "1.25 s  x   707  y     0  z   707 mg  tilted"]
    assert res.report["spi"]["targets"]["PA4"]["selections"] == 3 + 7
    res = cli("run", elf, "--run-for", "1s")
    assert res.report["status"] == "deadlock"
    assert res.report["stdout"].splitlines() == ["tilt sensor up", "no LIS3DH (WHO_AM_I 255)"]


def test_check_shows_the_runs_warnings(firmware, cli, tmp_path):
    """A device the firmware never selects passes the budget but is a warning line under
    check's table, and in its --json entry."""
    dev = device_file(tmp_path)
    res, report = check_one(cli, tmp_path, spi(firmware, "nss"), f'spi = "PB1={dev.name}"')
    assert report is not None and res.returncode == 0, res.stderr
    assert "warning: SPI device PB1 (dev.toml) was never selected" in res.stdout


def test_the_selection_log_is_timed_as_the_waveform(firmware, cli, tmp_path):
    """Each selection's time in the report's log is its chip select's falling edge in the
    --vcd waveform, to the cycle (both at the store's own cycle)."""
    from tests.test_gpio import waveform

    vcd = tmp_path / "spi.vcd"
    res = cli("run", spi(firmware, "regs"), "--spi", f"PA4={device_file(tmp_path)}",
              "--vcd", vcd, *LIMIT)
    assert res.returncode == 0, res.stderr
    falls = [t for t, v in waveform(vcd)["PA4"] if v == "0"]
    logged = [round(s["ms"] * 1e9) for s in res.report["spi"]["log"]]  # ms -> ps
    assert len(falls) == len(logged) == 4
    assert all(abs(f - g) <= 31_250 for f, g in zip(falls, logged, strict=True))


def test_profile_takes_spi_and_agrees_with_run(firmware, cli, tmp_path):
    """`profile --spi` (Python sees every block) gives the run's bus summary."""
    elf, dev = spi(firmware, "regs"), device_file(tmp_path)
    ran = cli("run", elf, "--spi", f"PA4={dev}", *LIMIT)
    out = tmp_path / "profile.json"
    res = cli("profile", elf, "--spi", f"PA4={dev}", "--json", out, json=False)
    assert res.returncode == 0, res.stderr
    profiled = json.loads(out.read_text())["run"]
    assert profiled["spi"] == ran.report["spi"]
    assert profiled["stdout"] == ran.report["stdout"]


def test_a_check_table_with_a_chip_select_twice_is_refused(firmware, cli, tmp_path):
    dev = device_file(tmp_path)
    res, report = check_one(cli, tmp_path, spi(firmware, "nss"),
                            f'spi = ["PA4={dev.name}", "pa4={dev.name}"]')
    assert report is None and res.returncode == 2
    assert "SPI chip select PA4 is given twice" in res.stderr

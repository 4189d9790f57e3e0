"""Volts for the ADC's pins (sim/analog.py, ``--analog``): recorded sensor data converted by the
STM32L0's ADC as the firmware samples it, a value per conversion or played in device time; the
check's and the pytest fixture's ``analog``; the refusals."""


import numpy as np
import pytest

import sim
from sim.analog import AnalogSpec, parse_spec
from sim.runner import ImageError
from tests.helpers import build_example, check_one
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")
CODES = (100, 2000, 4095)


def pins(firmware, reads: int, delay: int | None = None):
    defines = {"CASE_pins": None, "PIN_READS": reads}
    if delay is not None:
        defines["DELAY_CYCLES"] = delay
    return irq_program(firmware, "adc.c", "stm32l031", **defines)


def volts(code: int) -> float:
    return code * 3.0 / 4095


def printed(stdout: str) -> list[int]:
    return [int(line.split()[1]) for line in stdout.splitlines() if line.startswith("pin ")]


def test_each_conversion_reads_the_next_value_clamped_to_the_rails(firmware, cli, tmp_path):
    data = tmp_path / "accel.csv"
    data.write_text("volts\n" + "\n".join(str(v) for v in
                                           [*map(volts, CODES), -0.5, 3.3]) + "\n")
    res = cli("run", pins(firmware, 6), "--analog", f"3={data}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert printed(res.report["stdout"]) == [*CODES, 0, 4095, 4095]  # the last: past the end
    assert res.report["analog"] == {"3": {"file": str(data), "rate_hz": None, "samples": 5,
                                          "conversions": 6, "past_end": 1, "clamped": 3}}
    warnings = res.report["warnings"]
    assert "analog channel 3 (accel.csv): 1 of 6 conversions came after its 5 values: they " \
           "read the last one" in warnings
    assert "analog channel 3 (accel.csv): 3 conversions read a value beyond 0 V to VDDA, taken " \
           "as the rail" in warnings
    assert not [r for r in res.report["unmodelled_registers"] if "a pin's voltage" in r]
    summary = cli("run", pins(firmware, 6), "--analog", f"3={data}", json=False)
    assert "analog 6 conversions of channel 3: 5 values, accel.csv" in " ".join(
        summary.stderr.split())


def test_at_a_rate_the_values_play_in_device_time(firmware, cli, tmp_path):
    """[0 V, 1.5 V, 3 V] at 100 Hz, converted 12 ms apart (384,000 cycles at 32 MHz): the
    conversions at about 12, 24 and 36 ms read values 1, 2 and 2 (past the end)."""
    data = tmp_path / "ramp.npy"
    np.save(data, np.array([0.0, 1.5, 3.0]))
    res = cli("run", pins(firmware, 3, 384_000), "--analog", f"3={data}@100Hz", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert printed(res.report["stdout"]) == [2048, 4095, 4095]
    fed = res.report["analog"]["3"]
    assert (fed["rate_hz"], fed["conversions"], fed["past_end"]) == (100.0, 3, 1)


def test_without_analog_values_a_pin_reads_0_and_is_listed(firmware):
    report = sim.run(sim.load_elf(pins(firmware, 1)))
    assert printed(report.stdout) == [0] and report.analog == {}
    assert any("channel 3: a pin's voltage is not modelled, 0 V" in r for r in report.unmodelled)


def test_a_simulator_reused_starts_the_values_again(firmware, tmp_path):
    data = tmp_path / "v.csv"
    data.write_text("\n".join(str(volts(c)) for c in CODES))
    simulator = sim.Simulator(sim.load_elf(pins(firmware, 2)),
                              sim.RunOptions(analog=[AnalogSpec(3, data)]))
    first, second = simulator.run(), simulator.run()
    assert printed(first.stdout) == printed(second.stdout) == [100, 2000]
    assert first.analog == second.analog


@pytest.mark.parametrize("spec, message", [
    ("16=x.csv", "channel 16 is not one of the ADC's pins, 0 to 15"),
    ("3", "not an analog input: '3'"),
    ("3=x.csv@0Hz", "a rate of 0.001 Hz to 1e+09 Hz"),
    ("3=missing.csv", "missing.csv: no such file"),
    ("3=x.csv@1GHz", "not a rate: '1GHz' (100Hz, 1kHz, 2MHz, or a number of Hz)"),
    ("VDDA=x.csv", "the supply plays in device time: give its values a rate, VDDA=FILE@1Hz"),
    ("VDDA=x.csv@1Hz", "value 1 (1 V) is outside the part's supply range, 1.65 V to 3.6 V"),
    ("VDDA=y.csv@1Hz", "value 2 (3.7 V) is outside the part's supply range"),
])
def test_bad_analog_options_are_one_line(firmware, cli, tmp_path, spec, message):
    (tmp_path / "x.csv").write_text("1.0\n")
    (tmp_path / "y.csv").write_text("3.6\n3.7\n")
    res = cli("run", pins(firmware, 1), "--analog", spec.replace("x.csv", str(tmp_path / "x.csv"))
              .replace("y.csv", str(tmp_path / "y.csv")), json=False)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("content, message", [
    ("1,2\n3,4\n", "one series of numbers (volts): one column or one row, not (2, 2)"),
    ("1.0\nnan\n", "every value must be a finite number of volts"),
    ("a\nb\n", "a CSV input must hold only numbers"),
])
def test_a_file_that_is_not_a_series_of_volts_is_refused(firmware, cli, tmp_path, content,
                                                        message):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    res = cli("run", pins(firmware, 1), "--analog", f"3={data}", json=False)
    assert res.returncode == 2 and message in res.stderr, res.stderr


def test_a_channel_twice_or_a_target_without_an_adc_is_refused(firmware, cli, tmp_path):
    data = tmp_path / "v.csv"
    data.write_text("1.0\n")
    twice = cli("run", pins(firmware, 1), "--analog", f"3={data}", "--analog", f"3={data}",
                json=False)
    assert twice.returncode == 2 and "analog channel 3 is given twice" in twice.stderr
    hello = firmware("hello.c")
    curie = cli("run", hello, "--analog", f"3={data}", json=False)
    assert curie.returncode == 2
    assert "--analog needs a target whose ADC the simulator models (stm32l031)" in curie.stderr


def test_check_and_the_fixture_take_analog_values(firmware, cli, tmp_path, ebnn_sim):
    data = tmp_path / "v.csv"
    data.write_text("\n".join(str(volts(c)) for c in CODES))
    elf = pins(firmware, 3)
    res, report = check_one(cli, tmp_path, elf, 'analog = "3=v.csv"')
    assert res.returncode == 0, res.stdout + res.stderr
    assert printed(report["stdout"]) == list(CODES)
    refused, _ = check_one(cli, tmp_path, elf, 'analog = "3=nope.csv"', "bad")
    assert refused.returncode == 2 and "analog input file not found" in refused.stderr

    report = ebnn_sim(elf, analog=[f"3={data}"])
    assert printed(report.stdout) == list(CODES)
    assert printed(ebnn_sim(elf, analog=AnalogSpec(3, data)).stdout) == list(CODES)
    with pytest.raises(pytest.fail.Exception, match="analog: give 'CHANNEL=FILE"):
        ebnn_sim(elf, analog=[data])


def test_a_csv_with_a_byte_order_mark_keeps_its_first_value(firmware, tmp_path):
    """A spreadsheet's "CSV UTF-8" starts with a byte-order mark: not a header."""
    data = tmp_path / "excel.csv"
    data.write_bytes(b"\xef\xbb\xbf" + "\n".join(str(volts(c)) for c in CODES).encode())
    simulator = sim.Simulator(sim.load_elf(pins(firmware, 3)),
                              sim.RunOptions(analog=[AnalogSpec(3, data)]))
    assert printed(simulator.run().stdout) == list(CODES)


def test_at_a_rate_a_sample_s_own_instant_reads_it(tmp_path):
    from sim.analog import AnalogInput

    source = AnalogInput(AnalogSpec(3, tmp_path / "x.csv", 100.0), np.arange(40) * 0.05)
    assert source.code(0.29) == round(29 * 0.05 / 3.0 * 4095)  # not sample 28


def test_specs_parse_rates_and_paths(tmp_path):
    assert parse_spec("3=a.csv@1kHz", tmp_path) == AnalogSpec(3, tmp_path / "a.csv", 1000.0)
    assert parse_spec(" 0 = b.npy @ 50 ") == AnalogSpec(0, parse_spec("0=b.npy").path, 50.0)
    assert parse_spec("15=/abs/c.csv@2MHz", tmp_path).path.is_absolute()
    assert str(AnalogSpec(3, tmp_path / "a.csv", 100.0)).endswith("a.csv@100Hz")


def test_the_python_api_checks_its_specs(firmware, tmp_path):
    data = tmp_path / "v.csv"
    data.write_text("1.0\n")
    image = sim.load_elf(pins(firmware, 1))
    with pytest.raises(ImageError, match="channel 17 is not one of the ADC's pins"):
        sim.Simulator(image, sim.RunOptions(analog=[AnalogSpec(17, data)]))


def supply(firmware):
    return irq_program(firmware, "adc.c", "stm32l031", CASE_supply=None)


@pytest.mark.parametrize("vdda, mv", [(2.4, 2399), (3.3, 3300), (1.8, 1800)])
def test_the_supply_played_is_what_vrefint_measures(firmware, cli, tmp_path, vdda, mv):
    """--analog VDDA=...: VREFINT (1.224 V, VREFINT_CAL at 3.0 V) reads round(1671 x 3.0 /
    VDDA), so the HAL's formula (3000 x VREFINT_CAL / the reading, in integers) gives the
    supply back; the sensor (TS_CAL1's voltage at 30 degrees C) scales the same way and
    still reads 30 degrees C. The supply's values are in the report's analog."""
    data = tmp_path / "battery.csv"
    data.write_text(f"{vdda}\n")
    res = cli("run", supply(firmware), "--analog", f"VDDA={data}@1Hz", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == f"vdda mV {mv}\ntemp C 30\n"
    assert res.report["analog"]["VDDA"]["rate_hz"] == 1.0
    summary = cli("run", supply(firmware), "--analog", f"VDDA={data}@1Hz", json=False)
    assert "supply VDDA: 1 values at 1 Hz, battery.csv" in " ".join(summary.stderr.split())


def test_a_pin_is_converted_against_the_supply_of_its_time(firmware, cli, tmp_path):
    """At 100 Hz, converted about 12, 24 and 36 ms in (values 1, 2, 3): channel 3 at 1.2 V,
    1.2 V, 2.7 V while VDDA is 3.0 V, 2.4 V, 2.4 V: 1638 (1.2 / 3.0 x 4095), 2048 (1.2 / 2.4
    x 4095), and 4095: a pin above the supply is its rail."""
    pin, battery = tmp_path / "pin.csv", tmp_path / "battery.csv"
    pin.write_text("0\n1.2\n1.2\n2.7\n")
    battery.write_text("3.0\n3.0\n2.4\n2.4\n")
    res = cli("run", pins(firmware, 3, 384_000), "--analog", f"3={pin}@100Hz",
              "--analog", f"VDDA={battery}@100Hz", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert printed(res.report["stdout"]) == [1638, 2048, 4095]
    assert res.report["analog"]["3"]["clamped"] == 1  # 2.7 V above 2.4 V


def test_supply_specs_parse():
    spec = parse_spec("vdda=b.csv@2Hz")
    assert (spec.key, spec.rate, spec.label) == ("VDDA", 2.0, "supply VDDA")
    assert str(spec) == "VDDA=b.csv@2Hz"


def test_the_supply_needs_a_rate_and_is_warned_of_past_its_end(firmware, tmp_path):
    """The Python API: a supply spec without a rate is refused with the supply's own reason;
    conversions after the supply's last value read it, with a warning as a pin's do."""
    data = tmp_path / "b.csv"
    data.write_text("2.4\n")
    with pytest.raises(ImageError, match="the supply VDDA plays in device time"):
        sim.Simulator(sim.load_elf(supply(firmware)),
                      sim.RunOptions(analog=[AnalogSpec(-1, data, None, "VDDA")]))
    report = sim.run(sim.load_elf(supply(firmware)), sim.RunOptions(
        analog=[AnalogSpec(-1, data, 1e6, "VDDA")], max_instructions=5_000_000))
    assert report.analog["VDDA"]["conversions"] == 2  # VREFINT, the sensor
    assert report.analog["VDDA"]["past_end"] == 2  # (both after 1 us: past the one value)
    assert any("analog supply VDDA (b.csv): 2 of 2 conversions came after its 1 values" in w
               for w in report.warnings)


def test_the_sensor_node_sees_its_battery_run_down(cli, tmp_path):
    """examples/lowpower/sensor_node.c with examples/lowpower/supply.csv played as VDDA
    (docs/ci.md): each second's line gives the supply of that second through VREFINT (the
    HAL's integer formula: 2,899 mV for 2.90 V), the temperature still 30 C."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    elf = build_example(cli, tmp_path, "lowpower/sensor_node.c")
    res = cli("run", elf, "--run-for", "10s", "--analog",
              f"VDDA={root / 'examples/lowpower/supply.csv'}@1Hz")
    assert res.returncode == 0, res.stderr
    lines = res.report["stdout"].splitlines()
    assert lines[1:] == [f"12:00:0{n} vdda {mv} mV temp 30 C" for n, mv in enumerate(
        (2950, 2899, 2800, 2699, 2600, 2500, 2399, 2299, 2199), start=1)]
    assert res.report["analog"]["VDDA"]["past_end"] == 0


def test_a_file_of_too_many_values_is_refused_before_its_float_copy(tmp_path, monkeypatch):
    """A 64 MiB .npy of int8 (64 Mi values, four times MAX_SAMPLES) took 650 MB of host
    memory to refuse: the values were made float64 (512 MiB) before they were counted."""
    import tracemalloc

    import sim.analog as analog
    from sim.inputs import InputError

    monkeypatch.setattr(analog, "MAX_SAMPLES", 1 << 20)
    data = tmp_path / "many.npy"
    np.save(data, np.zeros(4 << 20, dtype=np.int8))
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="more than 1,048,576 values"):
            analog.load_volts(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12 << 20, peak  # the file's 4 MiB, not its 32 MiB as float64

"""The STM32L0's GPIO ports, SYSCFG's EXTI line selection (sim/devices/stm32l0_gpio.py), the
run's pin levels (--pin, sim/pins.py) and the pins' trace (the report's ``pins``, --vcd,
sim/pin_trace.py)."""

from pathlib import Path

import numpy as np
import pytest
from vcd.reader import TokenKind, tokenize

import sim
from sim.pins import PinSpec, parse_spec
from tests.helpers import build_example, check_one
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")


def gpio(firmware, case: str, **defines):
    return irq_program(firmware, "gpio.c", "stm32l031", **{f"CASE_{case}": None, **defines})


def levels_file(tmp_path, rows, name="pin.csv"):
    path = tmp_path / name
    path.write_text("seconds,level\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


def waveform(path):
    """{pin: [(time_ps, value), ...]} of a VCD file, the initial values at time 0."""
    ids, changes, now = {}, {}, 0
    with path.open("rb") as fh:
        for token in tokenize(fh):
            if token.kind is TokenKind.VAR:
                ids[token.var.id_code] = token.var.reference
            elif token.kind is TokenKind.CHANGE_TIME:
                now = token.time_change
            elif token.kind is TokenKind.CHANGE_SCALAR:
                changes.setdefault(ids[token.scalar_change.id_code], []).append(
                    (now, token.scalar_change.value))
    return changes


def test_an_output_toggled_is_traced_with_its_timing(firmware, cli, tmp_path):
    """PA5 toggled 10 times, 3,200 cycles (100 us at 32 MHz) apart: 11 changes (analog to 0
    first), 5 rising; each half-period is 100 us in the waveform, within two cycles (31,250 ps
    each)."""
    vcd = tmp_path / "pins.vcd"
    res = cli("run", gpio(firmware, "blink"), "--vcd", vcd, *LIMIT)
    assert res.returncode == 0, res.stderr
    pa5 = res.report["pins"]["PA5"]
    assert (pa5["initial"], pa5["level"], pa5["changes"], pa5["rising"], pa5["falling"]) == (
        None, 0, 11, 5, 5)
    assert pa5["high_ms"] == pytest.approx(0.5, abs=0.01)
    assert list(res.report["pins"]) == ["PA5"] and res.report["vcd"] == str(vcd)
    wave = waveform(vcd)
    assert list(wave) == ["PA5"]
    values = [v for _, v in wave["PA5"]]
    assert values == ["z", "0", *["1", "0"] * 5]
    periods = np.diff([t for t, _ in wave["PA5"]][2:])  # from the first rising edge
    # 100 us in ps, to the cycle or two (BSRR's path and BRR's differ by 2 cycles)
    assert np.all(np.abs(periods - 100_000_000) <= 2 * 31_250), periods
    summary = cli("run", gpio(firmware, "blink"), json=False)
    assert "PA5 11 changes (no level to 0), 0.500 ms at 1" in " ".join(summary.stderr.split())


def test_a_button_pressed_wakes_the_core_through_the_exti(firmware, cli, tmp_path):
    """PA0 pulled up, pressed (0) at 1, 3 and 5 ms: three falling edges on EXTI line 0, IRQ 5
    each time, the core asleep in WFI in between; PA5 toggled by the handler."""
    rows = [(0.001, 0), (0.002, 1), (0.003, 0), (0.004, 1), (0.005, 0), (0.006, 1)]
    button = levels_file(tmp_path, rows, "button.csv")
    res = cli("run", gpio(firmware, "button"), "--pin", f"PA0={button}", *LIMIT)
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"] == "presses 3\n"
    assert report["exceptions"]["taken"] == {"IRQ5": 3}
    assert report["sleep_cycles"] > 0.9 * 5 * 32_000  # asleep ~5 ms of the run's ~5 ms
    pa0 = report["pins"]["PA0"]
    # analog at reset, then pulled up (a rising change), then the presses and releases
    assert (pa0["initial"], pa0["falling"], pa0["rising"], pa0["driven"]) == (
        None, 3, 3, str(button))
    assert report["pins"]["PA5"]["rising"] == 2  # toggled three times from 0
    assert report["time_ms"] + report["sleep_ms"] == pytest.approx(5.0, abs=0.1)


def test_a_pin_edge_wakes_the_core_from_stop_mode_in_device_time(firmware, cli, tmp_path):
    """Presses at 10, 30 and 50 ms wake the core from Stop mode; it wakes on MSI (2.097 MHz),
    and the next press is planned at that clock: the run ends at 50 ms, within a cycle."""
    button = levels_file(tmp_path, [(0.01, 0), (0.02, 1), (0.03, 0), (0.04, 1), (0.05, 0)])
    vcd = tmp_path / "stop.vcd"
    res = cli("run", gpio(firmware, "button", STOP=1), "--pin", f"PA0={button}", "--vcd", vcd,
              *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "presses 3\n"
    assert res.report["deep_sleeps"] == 3
    assert res.report["clocks"][-1]["hz"] == 2_097_152
    falls = [t for t, v in waveform(vcd)["PA0"] if v == "0"]
    assert np.allclose(falls, [10e9, 30e9, 50e9], atol=477e3)  # ps: one MSI cycle
    toggles = [t for t, _ in waveform(vcd)["PA5"]][2:]  # the handler's, after each press
    assert all(0 < t - f < 50e6 for t, f in zip(toggles, falls, strict=True))


def test_without_pin_levels_a_button_never_comes_deadlock(firmware, cli):
    res = cli("run", gpio(firmware, "button"), *LIMIT)
    assert res.report["status"] == "deadlock", res.report["status"]


@pytest.mark.parametrize("pb0, first, second", [("1", "0x0113", "0x0003"),
                                                ("0", "0x0112", "0x0002")])
def test_idr_reads_outputs_pulls_and_the_driven_level(firmware, cli, pb0, first, second):
    res = cli("run", gpio(firmware, "levels"), "--pin", f"PB0={pb0}", *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == f"idr {first}\nidr {second}\n"
    pins = res.report["pins"]
    assert "PB3" not in pins  # floating as when analog: no level (reads 0), no change
    assert (pins["PB1"]["level"], pins["PB2"]["level"]) == (1, 0)
    assert pins["PB0"]["driven"] == pb0
    assert not res.report["warnings"]


def test_a_pin_held_against_its_output_is_a_warning(firmware, cli):
    res = cli("run", gpio(firmware, "levels"), "--pin", "PB4=0", *LIMIT)
    assert res.returncode == 0
    assert res.report["stdout"].startswith("idr 0x0112\n")  # the output wins
    assert any("PB4 is held at 0 by --pin while its output drives it to 1: the pins would "
               "short" in w for w in res.report["warnings"])


@pytest.mark.parametrize("case", ["lock", "lock_empty"])
def test_lckr_locks_a_pins_configuration(firmware, case):
    report = sim.run(sim.load_elf(gpio(firmware, case)))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem


def test_two_stores_in_one_block_are_timed_each_at_its_own_cycle(firmware, cli, tmp_path):
    """BSRR then BRR in one basic block: a high pulse of 2 cycles (STR's on the M0+: 62,500 ps
    at 32 MHz) each time, not 0 as when every store took the block's end."""
    vcd = tmp_path / "pulse.vcd"
    res = cli("run", gpio(firmware, "pulse"), "--vcd", vcd, *LIMIT)
    assert res.returncode == 0, res.stderr
    pa5 = res.report["pins"]["PA5"]
    assert (pa5["rising"], pa5["falling"]) == (5, 5)
    assert pa5["high_ms"] == pytest.approx(5 * 2 / 32e3)
    times = [t for t, _ in waveform(vcd)["PA5"]][2:]
    assert np.diff(times)[::2].tolist() == [62_500] * 5


@pytest.mark.parametrize("case, pin", [("alias", None), ("stm", None), ("levels", "PB0=1"),
                                       ("button", "PA0=b.csv"), ("pulse", None)])
def test_each_store_is_found_by_its_address_as_by_its_pc(firmware, cli, tmp_path, case, pin):
    """A device's callback sees its block's start as the PC; the store is found by the address
    it writes (sim/store_match.py). The waveform is the same as with --strict-peripherals,
    whose memory hook gives each store's own PC: a RAM store whose register now holds a
    device's address is not taken for it (alias), an STM's words are its own (stm)."""
    levels_file(tmp_path, [(0.001, 0), (0.002, 1), (0.003, 0), (0.004, 1), (0.005, 0)], "b.csv")
    extra = () if pin is None else ("--pin", pin.replace("b.csv", str(tmp_path / "b.csv")))
    waves = []
    for strict in ((), ("--strict-peripherals",)):
        vcd = tmp_path / f"{case}{len(strict)}.vcd"
        res = cli("run", gpio(firmware, case), "--vcd", vcd, *extra, *strict, *LIMIT)
        assert res.returncode == 0, res.stderr
        waves.append(waveform(vcd))
    assert waves[0] == waves[1]
    if case == "alias":  # STR and 10 NOPs: 12 cycles at 32 MHz
        times = [t for t, _ in waves[0]["PA5"][2:]]
        assert np.diff(times)[::2].tolist() == [375_000] * 3


def test_syscfg_vrefint_ready_and_an_unmodelled_remap(firmware):
    report = sim.run(sim.load_elf(gpio(firmware, "syscfg")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert [r for r in report.unmodelled if "stm32l0_syscfg" in r] == [
        "stm32l0_syscfg+0x000 (0x40010000) write: 1"]


def test_a_pulse_shorter_than_a_cycle_still_reaches_the_exti(firmware, cli, tmp_path):
    """1 ns pulses on PB3 within one cycle (31.25 ns at 32 MHz): both edges of each fall due
    at once and are applied in turn, so the rising one is latched, as the chip's EXTI catches
    it; the waveform has each at its own time."""
    rows = [(t + dt, v) for t in (0.01, 0.03, 0.05) for dt, v in ((5e-9, 1), (6e-9, 0))]
    pb3 = levels_file(tmp_path, rows)
    vcd = tmp_path / "pulses.vcd"
    res = cli("run", gpio(firmware, "route"), "--pin", f"PB3={pb3}", "--vcd", vcd, *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "edges 3\n"
    assert res.report["pins"]["PB3"]["rising"] == 3
    pb3_wave = waveform(vcd)["PB3"]
    assert pb3_wave[1:3] == [(10_000_005_000, "1"), (10_000_006_000, "0")]


def test_edges_reach_the_exti_line_exticr_selects(firmware, cli, tmp_path):
    """PB3 on EXTI line 3 (EXTICR1: port B), rising edges at 10, 30 and 50 ms; PA3 (line 3's
    default port) is not routed."""
    pb3 = levels_file(tmp_path, [(0.01, 1), (0.02, 0), (0.03, 1), (0.04, 0), (0.05, 1)])
    res = cli("run", gpio(firmware, "route"), "--pin", f"PB3={pb3}", "--pin", f"PA3={pb3}",
              *LIMIT)
    assert res.returncode == 0, res.stderr
    assert res.report["stdout"] == "edges 3\n"


def test_a_port_without_its_clock_reads_0_and_is_listed(firmware):
    report = sim.run(sim.load_elf(gpio(firmware, "noclock")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert any("stm32l0_gpioa" in r and "its clock is off (RCC IOPENR bit 0)" in r
               for r in report.unmodelled)


def test_a_simulator_reused_starts_the_levels_again(firmware, tmp_path):
    button = levels_file(tmp_path, [(0.001, 0), (0.002, 1), (0.003, 0), (0.004, 1),
                                    (0.005, 0)])
    simulator = sim.Simulator(sim.load_elf(gpio(firmware, "button")),
                              sim.RunOptions(pins=[PinSpec("A", 0, button)],
                                             max_instructions=5_000_000))
    first, second = simulator.run(), simulator.run()
    assert first.stdout == second.stdout == "presses 3\n"
    assert first.pins == second.pins


@pytest.mark.parametrize("spec, message", [
    ("PA16=1", "a port's pins are 0 to 15"),
    ("A0=1", "not a pin input: 'A0=1'"),
    ("PA0=missing.csv", "missing.csv: no such file"),
    ("PD0=1", "pin PD0: the target has ports A, B, C, H"),
    ("PA0=2", "a level is 0 or 1"),
])
def test_bad_pin_options_are_one_line(firmware, cli, spec, message):
    res = cli("run", gpio(firmware, "blink"), "--pin", spec, json=False)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("content, message", [
    ("0,1,2\n", "seconds,level rows (two numbers a row)"),
    ("0,1\n0.5,2\n", "every level must be 0 or 1"),
    ("0.5,1\n0.1,0\n", "the times must not go down (row 2 of the data"),
    ("-1,1\n", "every time must be a number of seconds from 0 to 1,000,000"),
    ("1e13,1\n", "every time must be a number of seconds from 0 to 1,000,000"),
])
def test_a_file_that_is_not_a_series_of_levels_is_refused(firmware, cli, tmp_path, content,
                                                          message):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    res = cli("run", gpio(firmware, "blink"), "--pin", f"PA0={data}", json=False)
    assert res.returncode == 2 and message in res.stderr, res.stderr


def test_a_pin_twice_a_target_without_gpio_or_vcd_over_the_elf_is_refused(firmware, cli):
    elf = gpio(firmware, "blink")
    twice = cli("run", elf, "--pin", "PA0=1", "--pin", "pa0=0", json=False)
    assert twice.returncode == 2 and "pin PA0 is given twice" in twice.stderr
    curie = cli("run", firmware("hello.c"), "--pin", "PA0=1", json=False)
    assert curie.returncode == 2
    assert "--pin needs a target whose GPIO the simulator models (stm32l031)" in curie.stderr
    over = cli("run", elf, "--vcd", elf, json=False)
    assert over.returncode == 2 and "Traceback" not in over.stderr
    vcd_curie = cli("run", firmware("hello.c"), "--vcd", elf.parent / "x.vcd", json=False)
    assert vcd_curie.returncode == 2
    assert "--vcd needs a target whose GPIO the simulator models" in vcd_curie.stderr


def test_an_output_may_not_replace_a_pin_or_analog_file(firmware, cli, tmp_path):
    button = levels_file(tmp_path, [(0.001, 0)], "button.csv")
    elf = gpio(firmware, "button")
    res = cli("run", elf, "--pin", f"PA0={button}", "--vcd", button, json=False)
    assert res.returncode == 2 and f"would replace the input {button}" in res.stderr
    assert button.read_text().startswith("seconds,level")
    volts = tmp_path / "v.csv"
    volts.write_text("1.0\n")
    res = cli("run", elf, "--analog", f"3={volts}", "--json", volts, json=False)
    assert res.returncode == 2 and volts.read_text() == "1.0\n"


def test_a_driven_pin_the_firmware_never_reads_is_a_warning(firmware, cli, tmp_path):
    rows = levels_file(tmp_path, [(0.0, 1), (0.5, 0)])
    res = cli("run", gpio(firmware, "blink"), "--pin", f"PB7={rows}", *LIMIT)
    assert res.returncode == 0
    assert res.report["pins"]["PB7"]["rows"] == 2 and res.report["pins"]["PB7"]["applied"] == 1
    assert any("PB7: --pin drove it, but it had no level all run" in w
               for w in res.report["warnings"])


def test_parse_spec():
    assert parse_spec("pb3 = 1") == PinSpec("B", 3, level=1)
    assert str(parse_spec("PA0=b.csv")) == "PA0=b.csv"


def test_check_and_the_fixture_take_pin_levels(firmware, cli, tmp_path, ebnn_sim):
    button = levels_file(tmp_path, [(0.001, 0), (0.002, 1), (0.003, 0), (0.004, 1),
                                    (0.005, 0)], "button.csv")
    elf = gpio(firmware, "button")
    res, report = check_one(cli, tmp_path, elf, 'pin = "PA0=button.csv"')
    assert res.returncode == 0, res.stdout + res.stderr
    assert report["stdout"] == "presses 3\n"
    refused, _ = check_one(cli, tmp_path, elf, 'pin = "PA0=nope.csv"', "bad")
    assert refused.returncode == 2 and "pin input file not found" in refused.stderr
    assert ebnn_sim(elf, pins=[f"PA0={button}"]).stdout == "presses 3\n"
    assert ebnn_sim(elf, pins=PinSpec("A", 0, button)).stdout == "presses 3\n"
    with pytest.raises(pytest.fail.Exception, match="pins: give 'PIN=FILE"):
        ebnn_sim(elf, pins=[button])


def test_the_low_power_examples_button_and_led(cli, tmp_path):
    """examples/lowpower/sensor_node.c (docs/ci.md): the button's presses at 2.5 and 6.25 s
    wake it for a line each, marked; its LED is lit once a wake-up, for the time it works."""
    root = Path(__file__).resolve().parents[1]
    elf = build_example(cli, tmp_path, "lowpower/sensor_node.c")
    res = cli("run", elf, "--run-for", "7s", "--pin",
              f"PA0={root / 'examples/lowpower/button.csv'}")
    assert res.returncode == 0, res.stderr
    lines = res.report["stdout"].splitlines()
    assert [line for line in lines if line.endswith("(button)")] == [
        "12:00:02 vdda 3000 mV temp 30 C (button)", "12:00:06 vdda 3000 mV temp 30 C (button)"]
    assert res.report["exceptions"]["taken"] == {"IRQ2": 6, "IRQ5": 2}
    led = res.report["pins"]["PB3"]
    assert led["rising"] == 8  # a wake-up each
    assert 0.9 * res.report["time_ms"] < led["high_ms"] < res.report["time_ms"]


def test_a_waveform_that_cannot_be_written(firmware, cli, tmp_path, monkeypatch):
    """Refused before the run when its folder cannot be made; a failure at the end is a
    warning in the report, and for the command an error (exit 2), the report kept."""
    elf = gpio(firmware, "blink")
    blocker = tmp_path / "file"
    blocker.write_text("")
    early = cli("run", elf, "--vcd", blocker / "pins.vcd", json=False)
    assert early.returncode == 2 and "cannot write" in early.stderr
    report = sim.Simulator(sim.load_elf(elf), sim.RunOptions(vcd=blocker / "pins.vcd")).run()
    assert report.vcd is None and report.status == "ok"
    assert any(w.startswith("the pins' waveform was not written: cannot write")
               for w in report.warnings)

    def refuse(path, text):
        raise sim.formats.OutputError(f"cannot write {path}: disk full")

    monkeypatch.setattr("sim.runner.write_text", refuse)
    late = cli("run", elf, "--vcd", tmp_path / "pins.vcd")
    assert late.returncode == 2 and "the pins' waveform was not written" in late.stderr
    assert late.report["status"] == "ok"


def test_a_npy_of_rows_drives_a_pin(firmware, cli, tmp_path):
    rows = tmp_path / "button.npy"
    np.save(rows, np.array([[0.001, 0], [0.002, 1], [0.003, 0], [0.004, 1], [0.005, 0]]))
    res = cli("run", gpio(firmware, "button"), "--pin", f"PA0={rows}", *LIMIT)
    assert res.returncode == 0 and res.report["stdout"] == "presses 3\n"


def test_profile_writes_the_waveform_too(firmware, cli, tmp_path):
    vcd = tmp_path / "profile.vcd"
    res = cli("profile", gpio(firmware, "blink"), "--vcd", vcd, json=False)
    assert res.returncode == 0, res.stderr
    assert [v for _, v in waveform(vcd)["PA5"]] == ["z", "0", *["1", "0"] * 5]

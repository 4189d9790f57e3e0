"""The STM32L0's comparators (sim/devices/stm32l0_comp.py) on the stm32l031 profile: their
outputs from the pins' --analog voltages against VREFINT and its fractions, polled, as EXTI
interrupts at the sample that crosses (to the cycle), waking the core from Stop mode; the window
mode, the polarity, the lock, and what is listed (a pin without values, a pin the ADC does not
reach, a reserved input), from tests/programs/irq/comp.c; the search for the next change with a
fake host."""

import json
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import sim
from sim.analog import AnalogInput, AnalogSpec
from sim.devices.stm32l0_comp import EN, POLARITY, VREFINT, Comparators
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")
CLOCK = 32_000_000  # the stm32l031 profile's
HALF = VREFINT / 2  # COMP2's 1/2 VREFINT


def comp(firmware, case: str, **defines):
    return irq_program(firmware, "comp.c", "stm32l031", **{f"CASE_{case}": 1}, **defines)


def values(stdout: str, label: str = "value") -> list[int]:
    return [int(line.split()[1]) for line in stdout.splitlines() if line.startswith(label)]


def listed(report) -> list[str]:
    return [r for r in report["unmodelled_registers"] if "stm32l0_syscfg" in r]


def series(tmp_path, name: str, volts) -> str:
    path = tmp_path / name
    path.write_text("\n".join(f"{v:.4f}" for v in volts) + "\n")
    return str(path)


WAVE = [0.1, 0.9, 0.2, 0.7, 0.5, 0.65, 0.0, 3.5]  # against 0.612 V: 0 1 0 1 0 1 0 1


def test_a_polled_comparator_follows_its_pin_played_at_a_rate(firmware, cli, tmp_path):
    """COMP2 (PA3 against 1/2 VREFINT) read in the middle of each 1 ms sample of a 1 kHz
    recording: its VALUE is the sample's side of 0.612 V (3.5 V: clamped to the rail, still
    above)."""
    data = series(tmp_path, "wave.csv", WAVE)
    res = cli("run", comp(firmware, "poll", READS=8), "--analog", f"3={data}@1kHz",
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert values(res.report["stdout"]) == [int(v > HALF) for v in WAVE]
    assert listed(res.report) == []


@pytest.mark.parametrize("invert", [False, True])
def test_each_crossing_is_an_interrupt_at_its_own_sample(firmware, cli, tmp_path, invert):
    """COMP1 (PA1 against VREFINT, 1.224 V), both edges on EXTI line 21, IRQ 12: an interrupt
    at each sample that crosses, the handler entered within a few cycles of that sample's
    instant (1 kHz: 32,000 cycles apart), VALUE the new level. With POLARITY the levels are
    inverted, and the enable itself is a rising edge (the output is low while off)."""
    volts = [0.0, 2.0, 2.5, 0.3, 0.2, 0.1, 1.5, 0.0]  # crossings at samples 1, 3, 6, 7
    data = series(tmp_path, "pa1.csv", volts)
    edges = 5 if invert else 4
    defines = {"EDGES": edges, **({"INVERT": None} if invert else {})}
    res = cli("run", comp(firmware, "irq", **defines), "--analog", f"1={data}@1kHz", *LIMIT)
    assert res.returncode == 0, res.report
    report = res.report
    assert report["exceptions"]["taken"] == {"IRQ12": edges}
    at = values(report["stdout"], "at")
    levels = values(report["stdout"])
    if invert:
        assert at[0] < 1_000 and levels[0] == 1  # the enable
        at, levels = at[1:], levels[1:]
    gaps = [b - a for a, b in pairwise(at)]
    ms = CLOCK // 1000
    assert gaps == [pytest.approx(2 * ms, abs=2), pytest.approx(3 * ms, abs=2),
                    pytest.approx(ms, abs=2)]
    # the first: sample 1's instant (1 ms) on SysTick, started after the start-up code
    assert ms - 1_000 < at[0] < ms
    assert levels == ([0, 1, 0, 1] if invert else [1, 0, 1, 0])
    assert report["sleep_cycles"] > 6 * ms


def test_a_crossing_wakes_the_core_from_stop_mode(firmware, cli, tmp_path):
    """Rising edges only: each wakes the core from Stop mode at its sample's instant (the
    falling ones pass while it sleeps on)."""
    volts = [0.0, 2.0, 0.0, 0.0, 2.0, 0.5, 2.0, 2.0]  # rising at 1, 4, 6 ms
    data = series(tmp_path, "pa1.csv", volts)
    res = cli("run", comp(firmware, "stop", EDGES=3), "--analog", f"1={data}@1kHz", *LIMIT)
    assert res.returncode == 0, res.report
    report = res.report
    assert values(report["stdout"], "woke") == [1, 2, 3]
    assert report["deep_sleeps"] == 3
    total = (report["time_ms"] + report["sleep_ms"])
    assert 6.0 < total < 6.2


@pytest.mark.parametrize("high_first, late", [(False, False), (True, False), (True, True)])
def test_a_timer_captures_the_comparators_output(firmware, cli, tmp_path, high_first, late):
    """TIM2's TI4 from COMP1 (OR TI4_RMP): channel 4 captures the count (1 MHz) at each edge
    of the output, at the sample that crossed: a pulse's width measured as the chip would
    (ST's pulse-width application of the comparators). An output high at once makes its
    enable an edge, captured at count 0 (the counter starts after it); so does the remap
    made while it is high, TI4 going from its pin (low) to it (late)."""
    volts = [0.0, 2.0, 2.5, 0.3, 0.2, 0.1, 1.5, 0.0]  # crossings at 1, 3, 6, 7 ms
    if high_first:
        volts = [2.0, 0.0, 2.0, 2.5, 0.3]  # high from the enable, crossings at 1, 2, 4 ms
    data = series(tmp_path, "pa1.csv", volts)
    defines = {"REMAP_LATE": None} if late else {}
    res = cli("run", comp(firmware, "capture", EDGES=4, **defines), "--analog",
              f"1={data}@1kHz",
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    captured = values(res.report["stdout"], "capture")
    assert res.report["exceptions"]["taken"] == {"IRQ15": 4}
    if high_first:
        assert captured[0] == 0
        captured = captured[1:]
    gaps = [b - a for a, b in pairwise(captured)]
    expected = [1000, 2000] if high_first else [2000, 3000, 1000]
    assert gaps == [pytest.approx(g, abs=1) for g in expected]
    assert 980 < captured[0] <= 1000  # (the timer started a few µs in)


def test_window_mode_gives_comp2_comp1s_plus_input(firmware, cli, tmp_path):
    """COMP1WM: COMP2 compares PA1 (COMP1's plus input), not the PB4 its INPSEL names, until
    WM is cleared (COMP2 running: its output follows at once)."""
    data = series(tmp_path, "pa1.csv", WAVE)
    res = cli("run", comp(firmware, "window", READS=8), "--analog", f"1={data}@1kHz", *LIMIT)
    assert res.returncode == 0, res.report
    # then WM cleared: COMP2 compares PB4 (0 V) again
    assert values(res.report["stdout"]) == [int(v > HALF) for v in WAVE] + [0]
    assert listed(res.report) == []  # PB4 is not what COMP2 takes


def test_a_locked_comparator_ignores_writes_until_reset(firmware, cli):
    res = cli("run", comp(firmware, "lock"), *LIMIT)
    assert res.returncode == 0, res.report
    comp1, comp2 = ("stm32l0_syscfg+0x018 (0x40010018) write, ",
                    "stm32l0_syscfg+0x01c (0x4001001c) write, ")
    assert sorted(listed(res.report)) == sorted([
        comp1 + "ignored: COMP1_CSR is locked (COMP1LOCK) until a reset of the part: 1",
        comp1 + "COMP1 plus input PA1: no --analog values for ADC channel 1, its voltage is "
        "not modelled (0 V): 1",
        comp2 + "COMP2 plus input PA3: no --analog values for ADC channel 3, its voltage is "
        "not modelled (0 V): 1",
        comp2 + "COMP2 minus input VREFINT: SYSCFG_CFGR3.ENBUFLP_VREFINT_COMP (bit 12) is "
        "clear; taken as if set: 1"])


def test_inputs_the_simulator_cannot_know_are_listed(firmware, cli):
    res = cli("run", comp(firmware, "inputs"), *LIMIT)
    assert res.returncode == 0, res.report
    prefix = "stm32l0_syscfg+0x01c (0x4001001c) write, "
    assert sorted(listed(res.report)) == sorted([
        prefix + "COMP2 plus input PB4: no --analog values for PB4 (--analog PB4=FILE@RATE), its "
        "voltage is not modelled (0 V): 1",
        prefix + "COMP2 minus input PA2: no --analog values for ADC channel 2, its voltage is "
        "not modelled (0 V): 2",
        prefix + "COMP2 plus input: a reserved selection (0 V): 1",
        prefix + "COMP2LPTIMIN2: the output to LPTIM1's IN2 (its encoder) is not modelled: 1"])
    strict = cli("run", comp(firmware, "inputs"), "--strict-peripherals", *LIMIT)
    assert strict.returncode != 0
    assert strict.report["fault"]["kind"] == "unmodelled_register"


def test_an_untimed_pin_changes_as_the_adc_converts_it(firmware, cli, tmp_path):
    """Without a rate the pin holds the value its next conversion reads: COMP1 sees each in
    turn as the ADC converts channel 1, its output's edges interrupting as they come."""
    volts = [2.0, 0.5, 0.5, 1.5, 0.0]
    data = series(tmp_path, "pa1.csv", volts)
    res = cli("run", comp(firmware, "untimed", READS=5), "--analog", f"1={data}", *LIMIT)
    assert res.returncode == 0, res.report
    assert values(res.report["stdout"]) == [int(v > VREFINT) for v in volts]
    # the enable's rising edge, then each conversion that crossed: 1 -> 0, 0 -> 1, 1 -> 0
    assert values(res.report["stdout"], "edges") == [4]
    assert res.report["exceptions"]["taken"] == {"IRQ12": 4}


# --- the next change, with a fake host ---------------------------------------------------------
def fake(inputs: dict[int, AnalogInput]) -> Comparators:
    host = SimpleNamespace(analog_input=inputs.get,
                           exceptions=SimpleNamespace(set_timer=lambda *args: None))
    return Comparators(None, host, lambda: 0)  # type: ignore[arg-type]


def timed(channel: int, volts, rate: float) -> AnalogInput:
    return AnalogInput(AnalogSpec(channel, "x.csv", rate), np.asarray(volts, dtype=float))


def test_the_next_change_between_two_pins_played_at_different_rates():
    """COMP1's PA1 (10 Hz) against PA0 (4 Hz, INNSEL 01): the first sample of either that
    puts PA1 on the other side; none once both are past their last values."""
    pa1 = timed(1, [1.0] * 7 + [3.0], 10.0)  # above PA0's 2.0 from 0.7 s
    pa0 = timed(0, [0.5, 2.0, 2.0], 4.0)  # 0.5 until 0.25 s, then 2.0
    comps = fake({1: pa1, 0: pa0})
    comps.csr[0] = EN | 1 << 4
    assert comps.level(0, 0.0)
    assert comps._next_change(0, 0.0) == pytest.approx(0.25)
    assert comps._next_change(0, 0.25) == pytest.approx(0.7)
    assert comps._next_change(0, 0.7) is None
    comps.csr[0] |= POLARITY
    assert not comps.level(0, 0.0)
    assert comps._next_change(0, 0.0) == pytest.approx(0.25)


def test_the_next_change_far_down_a_long_recording():
    """A crossing a million samples on is found (chunks that grow), at its own instant."""
    volts = np.zeros(2_000_000)
    volts[1_234_567:] = 2.0
    comps = fake({1: timed(1, volts, 1e6)})
    comps.csr[0] = EN  # PA1 against VREFINT
    assert comps._next_change(0, 0.0) == pytest.approx(1.234567)
    assert comps._next_change(0, 1.234567) is None


def test_comp2_interrupts_on_its_own_line(firmware, cli, tmp_path):
    """COMP2 (PA3 against VREFINT) on EXTI line 22, the same IRQ 12."""
    volts = [0.0, 2.0, 2.5, 0.3, 0.2]  # crossings at 1 and 3 ms
    data = series(tmp_path, "pa3.csv", volts)
    res = cli("run", comp(firmware, "irq", EDGES=2, COMP2=None), "--analog", f"3={data}@1kHz",
              *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["exceptions"]["taken"] == {"IRQ12": 2}
    at = values(res.report["stdout"], "at")
    assert at[1] - at[0] == pytest.approx(2 * CLOCK // 1000, abs=2)
    assert values(res.report["stdout"]) == [1, 0]


def test_a_clock_change_replans_the_next_crossing(firmware, cli, tmp_path):
    """After the first edge the core goes to 16 MHz: the next crossings come at their own
    instants, counted in cycles at the new clock (SysTick's count, 16,000 cycles a ms)."""
    volts = [0.0, 2.0, 2.5, 0.3, 0.2, 0.1, 1.5, 0.0]  # crossings at 1, 3, 6, 7 ms
    data = series(tmp_path, "pa1.csv", volts)
    res = cli("run", comp(firmware, "irq", EDGES=4, SLOW=None), "--analog", f"1={data}@1kHz",
              *LIMIT)
    assert res.returncode == 0, res.report
    at = values(res.report["stdout"], "at")
    gaps = [b - a for a, b in pairwise(at)]
    # the first gap: the switch a few µs after the first edge at 32 MHz, then 16 MHz
    assert 32_000 < gaps[0] < 32_400
    assert gaps[1:] == [pytest.approx(48_000, abs=2), pytest.approx(16_000, abs=2)]


@pytest.mark.parametrize("store", [0, 1, 2])
def test_every_crossing_inside_a_block_reaches_the_timer(firmware, cli, tmp_path, store):
    """A 1 MHz recording alternating across VREFINT: 32 cycles a sample, so several crossings
    fall inside each block of 96 NOPs. TIM21 counts every edge of COMP1's output (each taken
    in turn at its own cycle), also when the block ends in a store that settles the
    comparators (an RCC write, a CSR write) at a cycle before the block's end."""
    volts = np.concatenate([np.zeros(50), np.tile([0.0, 2.0], 200)])  # 399 from 51 µs on
    data = tmp_path / "alt.npy"
    np.save(data, volts)
    res = cli("run", comp(firmware, "count", SPAN=16_000, STORE=store), "--analog",
              f"1={data}@1MHz", *LIMIT)
    assert res.returncode == 0, res.report
    assert values(res.report["stdout"], "edges") == [399]


def test_a_locked_comparator_keeps_its_register_through_syscfgs_reset(firmware, cli):
    """RM0377: LOCK is cleared by a reset of the part only; SYSCFG's own reset (RCC
    APB2RSTR) turns the unlocked COMP2 off."""
    res = cli("run", comp(firmware, "lockrst"), *LIMIT)
    assert res.returncode == 0, res.report


def test_each_input_selection_is_the_pin_or_reference_the_header_names():
    """COMP1_CSR's INNSEL and COMP2_CSR's INNSEL and INPSEL, and window mode, as ST's CMSIS
    header and HAL name them for the STM32L031."""
    comps = fake({})
    names = []
    for code in range(4):
        comps.csr[0] = EN | code << 4
        names.append(comps.inputs(0)[1].name)
    assert names == ["VREFINT", "PA0", "PA4", "PA5"]
    assert comps.inputs(0)[0].name == "PA1"
    minus, plus = [], []
    for code in range(8):
        comps.csr[1] = EN | code << 4 | code << 8
        plus.append(comps.inputs(1)[0].name)
        minus.append(comps.inputs(1)[1].name)
    assert minus == ["VREFINT", "PA2", "PA4", "PA5", "1/4 VREFINT", "1/2 VREFINT",
                     "3/4 VREFINT", "PB3"]
    assert plus == ["PA3", "PB4", "PB5", "PB6", "PB7", "reserved", "reserved", "reserved"]
    comps.csr[0] |= 1 << 8  # COMP1WM: COMP2's plus input is COMP1's
    assert comps.inputs(1)[0].name == "PA1"
    assert [round(s.constant() or 0, 4) for s in (comps.inputs(1)[1],)] == [0.0]  # PB3: a pin
    comps.csr[1] = EN | 4 << 4
    assert comps.inputs(1)[1].constant() == pytest.approx(VREFINT / 4)


def test_a_sleep_no_crossing_can_end_is_a_deadlock_at_once(firmware, cli, tmp_path):
    """COMP1 crossing every µs but its EXTI line masked (and no timer taking it): its changes
    wake nothing, so WFI is a deadlock where it starts, not after the recording."""
    volts = np.tile([0.0, 2.0], 100_000)  # 200 ms at 1 MHz
    data = tmp_path / "alt.npy"
    np.save(data, volts)
    res = cli("run", comp(firmware, "masked"), "--analog", f"1={data}@1MHz", *LIMIT)
    assert res.report["status"] == "deadlock"
    assert res.report["time_ms"] + res.report["sleep_ms"] < 1.0


def test_the_battery_watch_example(cli, tmp_path):
    """examples/lowpower/battery_watch.c (docs/simulator.md, "Analog inputs"): COMP1 wakes the
    part from Stop mode at each crossing of examples/lowpower/battery.csv, and only then."""
    root = Path(__file__).resolve().parents[1]
    elf = tmp_path / "battery.elf"
    built = cli("build", root / "examples/lowpower/battery_watch.c", "-t", "stm32l031",
                "--irq-vectors", "-o", elf, json=False)
    assert built.returncode == 0, built.stderr
    battery = root / "examples/lowpower/battery.csv"
    res = cli("run", elf, "--run-for", "10s", "--analog", f"1={battery}@10Hz")
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"].splitlines() == [  # as docs/simulator.md says
        "battery watch up: battery ok", "battery low", "battery ok", "battery low"]
    assert report["deep_sleeps"] == 4 and report["exceptions"]["taken"] == {"IRQ12": 3}
    assert round(report["time_ms"], 3) == 6.094  # docs/simulator.md
    assert round(report["pins"]["PB3"]["high_ms"], 3) == 2299.939
    assert report["unmodelled_registers"] == []
    past = cli("run", elf, "--run-for", "12s", "--analog", f"1={battery}@10Hz")
    assert past.returncode == 5 and past.report["status"] == "deadlock"
    assert past.report["stdout"].splitlines()[-1] == "battery ok"  # the new cell at 11 s


def test_a_pin_shows_the_comparators_output(firmware, cli, tmp_path):
    """PA6 in alternate function 7 (COMP1_OUT): the pin is the output, each edge at its
    sample's instant (the report's pins: high from 1 to 3 ms and from 4 to 6 ms)."""
    volts = [0.0, 2.0, 2.0, 0.0, 2.0, 2.0, 0.0, 0.0]
    data = series(tmp_path, "pa1.csv", volts)
    res = cli("run", comp(firmware, "pin", SPAN=8 * CLOCK // 1000), "--analog",
              f"1={data}@1kHz", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    pa6 = res.report["pins"]["PA6"]
    assert pa6["rising"] == 2
    assert pa6["high_ms"] == pytest.approx(4.0, abs=1e-4)


def test_an_event_on_the_comparators_line_wakes_wfe(firmware, cli, tmp_path):
    """EXTI EMR (no interrupt): the rising edge at 1 ms is a WFE wake-up event."""
    data = series(tmp_path, "pa1.csv", [0.0, 2.0])
    res = cli("run", comp(firmware, "wfe"), "--analog", f"1={data}@1kHz", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["sleep_cycles"] > CLOCK // 1000 - 2_000


def test_an_interrupt_enabled_after_the_comparator_wakes_the_core(firmware, cli, tmp_path):
    """IMR set after the enable: the comparators plan again (the edge can wake the core now),
    so WFI is not taken for a deadlock."""
    data = series(tmp_path, "pa1.csv", [0.0, 2.0])
    res = cli("run", comp(firmware, "lateimr"), "--analog", f"3={data}@1kHz",
              "--analog", f"1={data}@1kHz", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["exceptions"]["taken"] == {"IRQ12": 1}


@pytest.mark.parametrize("timer, irq", [("TIM21", "IRQ20"), ("TIM22", "IRQ22"),
                                        ("TIM2", "IRQ15")])
def test_each_timer_captures_comp2_where_its_or_says(firmware, cli, tmp_path, timer, irq):
    """COMP2's output (PA3 against VREFINT) as TIM21's TI2 (TI2_RMP), TIM22's TI1 (TI1_RMP
    01) or TIM2's TI4 (TI4_RMP 01): the same pulse widths captured."""
    volts = [0.0, 2.0, 2.5, 0.3, 0.2, 0.1, 1.5, 0.0]  # crossings at 1, 3, 6, 7 ms
    data = series(tmp_path, "pa3.csv", volts)
    defines = {} if timer == "TIM21" else {timer: None}
    res = cli("run", comp(firmware, "capture2", EDGES=4, **defines), "--analog",
              f"3={data}@1kHz", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["exceptions"]["taken"] == {irq: 4}
    captured = values(res.report["stdout"], "capture")
    assert [b - a for a, b in pairwise(captured)] == [
        pytest.approx(g, abs=1) for g in (2000, 3000, 1000)]


def test_a_reset_of_the_part_unlocks_the_comparators(firmware, cli):
    """COMP1 locked, then NVIC_SystemReset: the second boot finds COMP1_CSR at 0, writable."""
    res = cli("run", comp(firmware, "sysreset"), "--allow-resets", "1", *LIMIT)
    assert res.returncode == 0, res.report
    assert len(res.report["resets"]) == 1


def test_a_locked_register_rewritten_with_its_own_value_is_not_listed(firmware, cli, tmp_path):
    """HAL_COMP_Init(COMP2) rewrites COMP1_CSR's WM bit as it is, also after HAL_COMP_Lock
    (COMP1): the chip takes no notice, nor does --strict-peripherals."""
    data = series(tmp_path, "pa1.csv", [2.0])
    res = cli("run", comp(firmware, "lock", REWRITE=None), "--analog", f"1={data}@1kHz",
              "--analog", f"3={data}@1kHz", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report


class ClockedHost:
    """A fake host with the simulator's ClockLog: device time across clock changes."""

    def __init__(self, inputs: dict[int, AnalogInput]) -> None:
        from sim.clocks import ClockLog

        self.clock = ClockLog(CLOCK)
        self.exceptions = SimpleNamespace(now=0, sleep_cycles=0, set_timer=lambda *args: None)
        self.analog_input = inputs.get
        self.edges: list[tuple[bool, float]] = []

    def device(self, name: str) -> None:
        return None

    def seconds_at(self, cycle: int) -> float:
        return self.clock.seconds(cycle, 0)

    def cycle_at(self, seconds: float, since: int | None = None) -> int:
        return self.clock.cycle_at(seconds, self.exceptions.now if since is None else since, 0)


def watched(host: ClockedHost, volts) -> Comparators:
    """COMP1 on (PA1 against VREFINT, PA1 at 1 MHz), each edge noted with its device time."""
    host.analog_input = {1: timed(1, volts, 1e6)}.get
    comps = Comparators(None, host, lambda: 0)  # type: ignore[arg-type]

    def set_out(n: int, level: bool, at: int) -> None:
        if level != comps.out[n]:
            comps.out[n] = level
            host.edges.append((level, round(host.seconds_at(at) * 1e6, 3)))

    comps._set_out = set_out  # type: ignore[method-assign]
    comps.csr[0], comps._dirty[0] = EN, True
    comps.update(0)
    return comps


def test_a_clock_change_in_a_block_leaves_each_edge_at_its_instant():
    """A crossing at 1,000 µs in a block whose store 60 cycles later slows the clock to
    65.536 kHz (MSI range 0): the RCC settles the comparators at the store first (at the old
    clock), then they plan from there at the new one: the fall at 1,001 µs and the rise at
    2,000 µs come at their instants, not earlier."""
    volts = np.zeros(4000)
    volts[1000] = volts[2000:] = 2.0
    host = ClockedHost({})
    comps = watched(host, volts)
    store = comps._next[0] + 60  # the rise at 1,000 µs: cycle 32,000
    host.exceptions.now = store + 40  # the block's end
    comps.settle(store)  # Stm32l0Syscfg.settle, before the clock changes
    host.clock.change(store, 0, 65_536, 0, "MSI range 0")
    comps.update(store)  # Stm32l0Syscfg.restart, after
    for now in (store + 100, 10**9):
        host.exceptions.now = now
        comps._event()
    period = 1e6 / 65_536  # µs: a cycle at the new clock, an event's resolution
    assert host.edges[:2] == [(True, 1000.0), (False, pytest.approx(1001.0, abs=0.02))]
    assert host.edges[2][0] and 2000.0 <= host.edges[2][1] < 2000.0 + period
    assert len(host.edges) == 3


def test_syscfgs_reset_in_a_block_turns_the_comparator_off_at_its_store():
    """PA1 toggling every µs; SYSCFG's reset by a store in the middle of a block: the changes
    up to the store, then one fall there (the comparator off), none after it."""
    from sim.devices.stm32l0_comp import LOCK

    volts = np.tile([0.0, 2.0], 2000)
    host = ClockedHost({})
    comps = watched(host, volts)
    store = 32 * 101 + 16  # 101.5 µs: high since 101 µs
    host.exceptions.now = store + 200  # the block's end, crossings after the store
    comps.settle(store)
    comps.peripheral_reset()
    comps.update(store)
    host.exceptions.now = 10**9
    comps._event()
    # the crossings at 1 ... 101 µs, then the fall at the store (the comparator off)
    assert len(host.edges) == 102 and host.edges[-1] == (False, 101.5)
    assert not comps.csr[0] & LOCK


def test_the_comparators_are_off_in_standby(firmware, cli, tmp_path):
    """Stand-by mode powers them down: a crossing at 1 ms wakes nothing, and with nothing else
    to wake the part the run is a deadlock where the sleep starts."""
    data = series(tmp_path, "pa1.csv", [0.0, 2.0, 0.0, 2.0])
    res = cli("run", comp(firmware, "standby"), "--analog", f"1={data}@1kHz", *LIMIT)
    assert res.report["status"] == "deadlock"
    assert res.report["time_ms"] + res.report["sleep_ms"] < 0.5


def test_a_pin_no_adc_channel_reaches_is_given_by_name(firmware, cli, tmp_path):
    """``--analog PB4=FILE@RATE``: COMP2's plus input PB4 (INPSEL 001), no ADC channel's pin,
    against 1/2 VREFINT (as the window case reads COMP2, here without window mode). The summary
    names the pin; PA3= names ADC channel 3 (the same values as 3=)."""
    data = series(tmp_path, "pb4.csv", WAVE)
    res = cli("run", comp(firmware, "pb4", READS=8), "--analog", f"PB4={data}@1kHz",
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert values(res.report["stdout"]) == [int(v > HALF) for v in WAVE]
    assert res.report["analog"] == {"PB4": {"file": data, "rate_hz": 1000.0, "samples": 8,
                                            "conversions": 0, "past_end": 0, "clamped": 0}}
    text = cli("run", comp(firmware, "pb4", READS=8), "--analog", f"pb4={data}@1kHz",
               json=False)
    assert "pin PB4: 8 values at 1000 Hz, pb4.csv" in " ".join(text.stderr.split())
    by_name = cli("run", comp(firmware, "poll", READS=8), "--analog", f"PA3={data}@1kHz",
                  *LIMIT)
    assert values(by_name.report["stdout"]) == [int(v > HALF) for v in WAVE]
    assert list(by_name.report["analog"]) == ["3"]


@pytest.mark.parametrize("keys, error", [
    (("1", "PA1"), "analog channel 1 is given twice"),
    (("PB5", "pb5"), "analog pin PB5 is given twice"),
    (("PD2",), "PD2 is neither an ADC channel's pin"),
    (("PB16",), "a port's pins are 0 to 15"),
])
def test_pin_names_that_cannot_be_are_refused(firmware, cli, tmp_path, keys, error):
    data = tmp_path / "a.csv"
    data.write_text("1.0\n")
    elf = comp(firmware, "poll")
    res = cli("run", elf, *[a for key in keys for a in ("--analog", f"{key}={data}@1kHz")],
              json=False)
    assert res.returncode == 2
    assert error in res.stderr and "Traceback" not in res.stderr


def test_check_runs_an_elf_with_each_pins_values_and_says_which(firmware, cli, tmp_path):
    """``ebnn-sim check``: one ELF, two budgets whose PB4 values differ: two runs, each row
    naming its pin's values (``analog PB4=...``)."""
    low, high = tmp_path / "low.csv", tmp_path / "high.csv"
    low.write_text("0.1\n")
    high.write_text("2.0\n")
    elf = comp(firmware, "pb4", READS=1)
    config = tmp_path / "budgets.toml"
    config.write_text("".join(f'[[budget]]\nelf = "{elf}"\nstack = "1k"\n'
                              f'analog = "PB4={f.name}@1kHz"\n' for f in (low, high)))
    out = tmp_path / "check.json"
    res = cli("check", "--config", config, "--json", out, json=False)
    assert res.returncode == 0, res.stdout + res.stderr
    labels = [row["elf"].rsplit(" (", 1)[1] for row in json.loads(out.read_text())["elfs"]]
    assert labels == ["analog PB4=low.csv@1000Hz)", "analog PB4=high.csv@1000Hz)"]



# --- stores that change where the edges go, in a block the edges fall in ----------------------
def probe(firmware, case: str, **defines):
    return irq_program(firmware, "comp_probes.c", "stm32l031", **{f"CASE_{case}": 1},
                       **defines)


def dip(tmp_path) -> str:
    volts = np.full(100, 2.0)
    volts[9] = 0.0  # COMP1 low from 9 to 10 µs only (cycles 288-320)
    path = tmp_path / "dip.npy"
    np.save(path, volts)
    return str(path)


def test_a_dip_before_the_af_store_is_not_the_pins(firmware, cli, tmp_path):
    """PA6 an output at 1 until the MODER store (cycle ~438) makes it COMP1_OUT; COMP1 dipped
    from 288 to 320 and is high at the store: PA6 never falls, and EXTI line 6 (FTSR) latches
    nothing (the GPIO write settles the comparators first)."""
    res = cli("run", probe(firmware, "toaf", EXTRA="NOP8 NOP8 NOP8 NOP8"), "--analog",
              f"1={dip(tmp_path)}@1MHz", *LIMIT)
    assert res.report["stdout"].split() == ["pr6", "0", "value", "1"]
    assert res.report["pins"]["PA6"]["falling"] == 0


def test_the_pin_keeps_the_comparators_edges_up_to_the_moder_store(firmware, cli, tmp_path):
    """COMP1 toggling every 32 cycles on PA6 (AF7) until the store at the end of a block of 64
    NOPs makes PA6 an output (ODR 1): the edges inside that block are the pin's."""
    data = tmp_path / "alt.npy"
    np.save(data, np.tile([0.0, 2.0], 10_000))
    # (START: SysTick cycles from its enabling store, 42 cycles before the end of that store's
    # block, so that the store below falls in a low half-period of COMP1, at cycle 332)
    res = cli("run", probe(firmware, "moder", START=192), "--analog", f"1={data}@1MHz", *LIMIT)
    pa6 = res.report["pins"]["PA6"]  # COMP1's crossings from its enable to the store
    assert pa6["rising"] == 5 and pa6["falling"] == 4  # (the last rise: the store's ODR 1)


def test_a_pr_clear_after_an_edge_in_its_block_clears_it(firmware, cli, tmp_path):
    """COMP1 rises at 10 µs (cycle 320), inside the block whose store clears EXTI_PR's line
    21 at ~393: PR21 stays clear (the EXTI write settles the comparators first)."""
    res = cli("run", probe(firmware, "prclear"), "--analog", f"1={dip(tmp_path)}@1MHz", *LIMIT)
    assert res.report["stdout"].split() == ["pr21", "0", "pr21", "later", "0"]


def test_a_comparator_only_on_a_pin_with_no_exti_line_is_a_deadlock_at_once(firmware, cli,
                                                                              tmp_path):
    """PA6 shows COMP1, but neither EXTI line 6 nor 21 is enabled: nothing can wake the core."""
    data = tmp_path / "alt.npy"
    np.save(data, np.tile([0.0, 2.0], 20_000))
    res = cli("run", probe(firmware, "pinmasked"), "--analog", f"1={data}@1MHz", *LIMIT)
    assert res.report["status"] == "deadlock"
    assert res.report["time_ms"] + res.report["sleep_ms"] < 1.0


def test_a_pin_named_series_needs_a_rate(firmware, cli, tmp_path):
    """PB4 is no ADC channel's pin: no conversion would move an untimed series on, so one
    without a rate is refused (exit 2, one line), not silently its first value."""
    data = tmp_path / "pb4.csv"
    data.write_text("0.1\n0.9\n")
    res = cli("run", comp(firmware, "pb4", READS=2), "--analog", f"PB4={data}", json=False)
    assert res.returncode == 2 and "give them a rate, PB4=FILE@1kHz" in res.stderr


@pytest.mark.parametrize("name, channel, pin", [("PA03", 3, ""), ("pb01", 9, ""),
                                                ("PA3", 3, ""), ("pb04", -1, "PB4")])
def test_pin_names_are_normalised(name, channel, pin):
    from sim.analog import parse_spec

    spec = parse_spec(f"{name}=x.csv@1kHz")
    assert (spec.channel, spec.pin) == (channel, pin)


@pytest.mark.parametrize("name", ["PA8", "PC5", "PH1"])
def test_a_pin_nothing_reads_is_refused(name):
    from sim.analog import parse_spec

    with pytest.raises(ValueError, match=f"{name} is neither an ADC channel's pin"):
        parse_spec(f"{name}=x.csv@1kHz")


def test_a_time_before_a_samples_instant_reads_the_sample_before():
    """floor(t x rate), as docs/simulator.md says: 0.5 µs before 1 s at 1 Hz is sample 0;
    a sample's own instant (k / rate, however the float rounds it) is sample k."""
    from sim.analog import sample_index

    series = timed(1, [0.0, 2.0], 1.0)
    assert series.volts_at(1.0 - 0.5e-6) == 0.0 and series.volts_at(1.0) == 2.0
    for rate in (3.0, 44_100.0, 1e6 / 3):
        assert all(sample_index(k / rate, rate) == k for k in range(1, 1 << 24, 9973))



@pytest.mark.parametrize("rise", [10, 11, 12, 13])  # µs: at different points of the loop
def test_a_pins_idr_and_value_agree_at_each_read(firmware, cli, tmp_path, rise):
    """PA6 shows COMP1: polling GPIOA_IDR and COMP1's VALUE in one loop, both see the rise at
    the same read (the IDR read brings the comparators to its cycle, as VALUE's does)."""
    volts = np.zeros(20)
    volts[rise:] = 2.0
    data = tmp_path / "rise.npy"
    np.save(data, volts)
    res = cli("run", probe(firmware, "idrpoll"), "--analog", f"1={data}@1MHz", *LIMIT)
    assert res.returncode == 0, res.report
    seen = dict(line.split() for line in res.report["stdout"].splitlines())
    assert seen["idr"] == seen["value"]


def test_a_timed_pin_against_an_untimed_pin():
    """COMP1's PA1 (1 Hz) against PA0 (INNSEL 01) with no rate: PA0 is the value its next
    conversion reads, and the next change is found against it (by a scan: a new value comes
    with each conversion)."""
    pa1 = timed(1, [0.0, 0.0, 2.0, 2.0, 0.0], 1.0)
    pa0 = AnalogInput(AnalogSpec(0, "x.csv", None), np.array([1.0, 3.0]))
    comps = fake({1: pa1, 0: pa0})
    comps.csr[0] = EN | 1 << 4
    assert not comps.level(0, 0.0)
    assert comps._next_change(0, 0.0) == pytest.approx(2.0)
    pa0.conversions = 1  # converted: PA0 at 3.0 V, above PA1 throughout
    assert comps._next_change(0, 0.0) is None
    assert comps._crossings == {}  # (no crossings kept for a value that moves)



def test_a_clock_slowed_in_a_crossings_block_delivers_none_early(firmware, monkeypatch,
                                                                 tmp_path):
    """A crossing every µs; the store ending a block slows the core from 32 MHz to 65.536 kHz:
    the RCC settles the comparators at the store at the old clock, then they plan at the new
    one. Every output change comes at or after its crossing's instant (review 2 found 30 of
    them up to 30 µs early when the block's end, not the store, was the settling point)."""
    from sim.analog import parse_spec
    from sim.devices import stm32l0_comp

    delivered: list[float] = []
    set_out = stm32l0_comp.Comparators._set_out

    def spy(self, n, level, at):
        if level != self.out[n]:
            delivered.append(self.host.seconds_at(at))
        set_out(self, n, level, at)

    monkeypatch.setattr(stm32l0_comp.Comparators, "_set_out", spy)
    data = tmp_path / "alt.npy"
    np.save(data, np.tile([0.0, 2.0], 5000))  # crossings at 1, 2, 3, ... µs
    image = sim.load_elf(probe(firmware, "slowclock"))
    report = sim.Simulator(image, sim.RunOptions(
        analog=[parse_spec(f"1={data}@1MHz")], max_instructions=2_000_000)).run()
    assert report.status == "ok", report.problem
    first = int(delivered[0] * 1e6 + 1e-6)  # the crossing the first change is
    late = [t * 1e6 - (first + k) for k, t in enumerate(delivered)]
    assert min(late) > -1e-3  # none before its crossing
    assert len(delivered) > 300  # (crossings at 32 MHz, then at the slow clock)

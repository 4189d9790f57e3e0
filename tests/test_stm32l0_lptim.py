"""The STM32L0's LPTIM1 (sim/devices/stm32l0_lptim.py) on the stm32l031 profile: HAL-style
interrupt-driven counting on the LSE, its time-out (compare) mode, waking the core from Stop
mode, counting a pin's or a comparator's pulses on IN1 (a meter), the writes RM0377 forbids,
and the counter register by register."""

import numpy as np
import pytest

import sim
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")


def lptim(firmware, case: str, **defines):
    return irq_program(firmware, "lptim.c", "stm32l031", **{f"CASE_{case}": None}, **defines)


@pytest.mark.parametrize("case, ticks", [("counter", 32767 + 2 * 32768),
                                         ("timeout", 16383 + 2 * 32768)])
def test_the_lse_counts_periods_while_the_core_sleeps(firmware, case, ticks):
    """ARR 32767 on the LSE: a period is a second (ARR + 1 counts), ARRM when CNT reaches ARR,
    32,767 counts after the start; CMP 16383 matches at CNT 16383, about half a second in."""
    seconds = ticks / 32768
    report = sim.run(sim.load_elf(lptim(firmware, case)))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert report.stdout == "lptim events 3\n"
    assert report.exceptions == {"IRQ13": 3}
    total = (report.time_ms + report.sleep_ms) / 1e3
    assert seconds < total < seconds + 0.01  # the LSE's start-up and the set-up before it
    assert report.unmodelled == []


def test_lptim1_on_the_lse_wakes_the_core_from_stop_mode(firmware):
    report = sim.run(sim.load_elf(lptim(firmware, "stop")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert report.deep_sleeps == 3 and report.exceptions == {"IRQ13": 3}
    assert 3.0 - 1 / 32768 < (report.time_ms + report.sleep_ms) / 1e3 < 3.01


def test_writes_rm0377_forbids_are_ignored_and_listed(firmware, cli):
    res = cli("run", lptim(firmware, "refused"), *LIMIT)
    assert res.returncode == 0, res.stderr
    listed = res.report["unmodelled_registers"]
    assert ("stm32l0_lptim1+0x018 (0x40007c18) write, ignored: LPTIM1 is disabled (RM0377: "
            "written only while CR.ENABLE is set): 1") in listed
    assert ("stm32l0_lptim1+0x00c (0x40007c0c) write, ignored: LPTIM1 is enabled (RM0377: "
            "written only while CR.ENABLE is clear): 1") in listed


# --- register by register, on a simulator of the part -------------------------------------------
@pytest.fixture
def part(firmware):
    simulator = sim.Simulator(firmware.image("hello.c", target="stm32l031"))
    simulator._reset()
    return simulator


def test_the_counter_counts_prescaled_kernel_cycles(part):
    """On PCLK1 (the core's 32 MHz) with PRESC / 4: a count every 4 cycles, ARRM at CNT =
    ARR, then 0; SNGSTRT stops after one period."""
    from sim.devices.stm32l0_lptim import ARR, ARRM, CFGR, CNT, CR, ISR

    part.device("stm32l0_rcc").write(0x38, 4, 1 << 31)
    dev = part.device("stm32l0_lptim1")
    dev.write(CFGR, 4, 2 << 9)  # PRESC / 4
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 9)
    dev.write(CR, 4, 1 | 4)  # CNTSTRT
    part._counter.add_cycles(4 * 9 - 1)
    assert dev.read(CNT, 4) == 8 and not dev.read(ISR, 4) & ARRM
    part._counter.add_cycles(1)
    assert dev.read(CNT, 4) == 9 and dev.read(ISR, 4) & ARRM
    part._counter.add_cycles(4)
    assert dev.read(CNT, 4) == 0
    part._counter.add_cycles(4 * 10 * 1000 + 8)  # a thousand periods later
    assert dev.read(CNT, 4) == 2
    dev.write(CR, 4, 0)  # disabled: back to 0, stopped
    assert dev.read(CNT, 4) == 0
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 9)
    dev.write(CR, 4, 1 | 2)  # SNGSTRT: one period
    part._counter.add_cycles(4 * 10 + 4 * 7)
    assert dev.read(CNT, 4) == 0


def test_preload_takes_a_new_arr_at_the_periods_end(part):
    from sim.devices.stm32l0_lptim import ARR, ARROK, CFGR, CNT, CR, ISR, PRELOAD

    part.device("stm32l0_rcc").write(0x38, 4, 1 << 31)
    dev = part.device("stm32l0_lptim1")
    dev.write(CFGR, 4, PRELOAD)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 99)
    assert dev.read(ARR, 4) == 99  # not counting yet: at once
    part._counter.add_cycles(2)
    assert dev.read(ISR, 4) & ARROK  # two kernel cycles later
    dev.write(CR, 4, 1 | 4)
    part._counter.add_cycles(50)
    dev.write(ARR, 4, 9)
    assert dev.read(ARR, 4) == 99  # counting: at the period's end
    part._counter.add_cycles(50)
    assert dev.read(CNT, 4) == 0 and dev.read(ARR, 4) == 9
    part._counter.add_cycles(10)
    assert dev.read(CNT, 4) == 0


def lptim_on_pclk(part, arr: int, ier: int, cfgr: int = 0):
    """LPTIM1 on PCLK1 (the core's 32 MHz: a count a cycle), counting with ``ier`` enabled."""
    from sim.devices.stm32l0_lptim import ARR, CFGR, CR, IER

    part.device("stm32l0_rcc").write(0x38, 4, 1 << 31)
    dev = part.device("stm32l0_lptim1")
    dev.write(CFGR, 4, cfgr)
    dev.write(IER, 4, ier)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, arr)
    dev.write(CR, 4, 1 | 4)
    return dev


def test_arr_lowered_below_the_count_plans_the_match_after_the_counters_wrap(part):
    """CNT 500 and ARR written 99 (no PRELOAD: at once): the counter goes on to 0xFFFF and
    wraps, then ARRM at 99: 65,135 counts on. Before, the match was planned in the past and
    re-planned at every block: the run never slept again."""
    from sim.devices.stm32l0_lptim import ARR, ARRM, CNT, ISR

    dev = lptim_on_pclk(part, 999, ARRM)
    part._counter.add_cycles(500)
    assert dev.read(CNT, 4) == 500
    dev.write(ARR, 4, 99)
    now = part.exceptions.now
    assert part.exceptions.device_at == now + (0x10000 - 500) + 99
    part._counter.add_cycles(0x10000 - 500 + 99)
    assert dev.read(ISR, 4) & ARRM and dev.read(CNT, 4) == 99


def test_preload_plans_the_next_periods_match_with_the_new_arr(part):
    """PRELOAD: ARR 99 written at CNT 500 of a 1,000-count period: ARRM at 999 ends this
    period, then at 99 of the next, 100 counts later (not 1,000)."""
    from sim.devices.stm32l0_lptim import ARR, ARRM, ICR, PRELOAD

    dev = lptim_on_pclk(part, 999, ARRM, PRELOAD)
    part._counter.add_cycles(500)
    dev.write(ARR, 4, 99)
    assert part.exceptions.device_at == part.exceptions.now + 499
    part._counter.add_cycles(499)
    dev.write(ICR, 4, ARRM)
    assert part.exceptions.device_at == part.exceptions.now + 100


def test_cmp_0_matches_at_each_wrap(part):
    from sim.devices.stm32l0_lptim import CMP, CMPM, ISR

    dev = lptim_on_pclk(part, 9, CMPM)
    dev.write(CMP, 4, 0)
    assert part.exceptions.device_at == part.exceptions.now + 10
    part._counter.add_cycles(10)
    assert dev.read(ISR, 4) & CMPM


def test_a_start_in_the_write_that_enables_is_ignored(part):
    from sim.devices.stm32l0_lptim import CNT, CR

    part.device("stm32l0_rcc").write(0x38, 4, 1 << 31)
    dev = part.device("stm32l0_lptim1")
    dev.write(CR, 4, 1 | 4)  # ENABLE and CNTSTRT at once
    part._counter.add_cycles(100)
    assert dev.read(CNT, 4) == 0 and dev.read(CR, 4) == 1
    assert any("CNTSTRT, SNGSTRT ignored" in k for k in part._unmodelled)


def pulse_rows(times) -> str:
    """--pin rows: a pulse (1 then 0, 1 ms) starting at each of ``times`` (seconds)."""
    return "".join(f"{t:.6f},1\n{t + 0.001:.6f},0\n" for t in times)


@pytest.mark.parametrize("defines, end_ms", [({}, 90.0), ({"ULP": None}, 90.0),
                                             ({"ULP": None, "FALLING": None}, 91.0)])
def test_lptim1_counts_a_meters_pulses_on_in1_in_stop_mode(firmware, cli, tmp_path, defines,
                                                           end_ms):
    """HAL_LPTIM_Counter_Start_IT on IN1 (PB5, AF2): COUNTMODE on the LSE, or CKSEL (no clock
    but IN1's, the kernel clock left on PCLK, which Stop mode stops): each rising edge a count,
    through Stop mode; ARRM (CNT reaching ARR 4: the 4th pulse from 0, then every 5th) wakes
    the core twice, at the 4th and 9th pulses' instants (CKPOL 01: their falling edges, 1 ms
    later), CNT then at ARR."""
    starts = [0.010 * (k + 1) for k in range(12)]  # a pulse every 10 ms from 10 ms
    (tmp_path / "meter.csv").write_text(pulse_rows(starts))
    res = cli("run", lptim(firmware, "pulses", **defines), "--pin",
              f"PB5={tmp_path / 'meter.csv'}", *LIMIT)
    assert res.returncode == 0, res.report
    report = res.report
    assert report["stdout"] == "cnt 4\n"  # (ARRM: CNT reached ARR)
    assert report["exceptions"]["taken"] == {"IRQ13": 2}
    assert report["deep_sleeps"] == 2
    # the run ends a little after the 9th pulse's rising edge (90 ms; falling: 91 ms)
    assert end_ms < report["time_ms"] + report["sleep_ms"] < end_ms + 0.5


def test_lptim1_counts_a_comparators_output_on_in1(firmware, cli, tmp_path):
    """COMP1LPTIMIN1: IN1 is COMP1's output (PA1 against VREFINT): each rising crossing of the
    recording a count (ULP: no kernel clock)."""
    volts = np.zeros(120)
    volts[10::10] = 2.0  # a 1 ms pulse every 10 ms from 10 ms
    data = tmp_path / "pa1.npy"
    np.save(data, volts)
    res = cli("run", lptim(firmware, "pulses", COMP=None, ULP=None), "--analog",
              f"1={data}@1kHz", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["exceptions"]["taken"] == {"IRQ13": 2}
    assert 90.0 < res.report["time_ms"] + res.report["sleep_ms"] < 90.5


# --- IN1, register by register: --pin pulses on PB5 (AF2) -----------------------------------------
MS = 32_000  # cycles a ms at the profile's 32 MHz


def pulsed_part(firmware, tmp_path, rows: str, pin: int = 5):
    """The part with PB5 (``pin`` 6: PB6) held by ``rows`` (seconds,level), in alternate
    function 2 (PB5: LPTIM1_IN1, PB6: LPTIM1_ETR), LPTIM1's and GPIOB's clocks on."""
    from sim.pins import parse_spec

    (tmp_path / "pb5.csv").write_text(rows)
    part = sim.Simulator(firmware.image("hello.c", target="stm32l031"), sim.RunOptions(
        pins=[parse_spec(f"PB{pin}={tmp_path / 'pb5.csv'}")]))
    part._reset()
    for dev in part.devices:
        dev.start()
    rcc, port = part.device("stm32l0_rcc"), part.device("stm32l0_gpiob")
    rcc.write(0x38, 4, 1 << 31)  # LPTIM1EN
    rcc.write(0x2C, 4, 2)  # GPIOBEN
    port.write(0x20, 4, port.read(0x20, 4) & ~(15 << 4 * pin) | 2 << 4 * pin)  # AF2
    port.write(0x00, 4, port.read(0x00, 4) & ~(3 << 2 * pin) | 2 << 2 * pin)
    return part, part.device("stm32l0_lptim1")


def step(part, cycles: int) -> None:
    """Time passes: the --pin changes due are applied."""
    part._counter.add_cycles(cycles)
    part.exceptions._run_timers()


def every_ms(n: int) -> str:
    """A 0.5 ms pulse each ms from 1 ms, ``n`` of them."""
    return "".join(f"{k * 0.001:.6f},1\n{k * 0.001 + 0.0005:.6f},0\n" for k in range(1, n + 1))


@pytest.mark.parametrize("cfgr, counted", [
    (1, 10), (1 | 1 << 1, 10), (1 | 2 << 1, 20),  # CKSEL: rising, falling, both edges
    (1 | 2 << 9, 2),  # PRESC / 4: 10 edges, 2 counts (and 2 towards the third)
])
def test_in1s_active_edges_through_the_prescaler(firmware, tmp_path, cfgr, counted):
    from sim.devices.stm32l0_lptim import ARR, CFGR, CNT, CR

    part, dev = pulsed_part(firmware, tmp_path, every_ms(10))
    dev.write(CFGR, 4, cfgr)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 1000)
    dev.write(CR, 4, 1 | 4)
    step(part, 11 * MS)
    assert dev.read(CNT, 4) == counted


def test_in1_counts_only_while_started(firmware, tmp_path):
    """Enabled but not started, nothing counts; SNGSTRT ends after ARR; disabled, 0."""
    from sim.devices.stm32l0_lptim import ARR, CFGR, CNT, CR

    part, dev = pulsed_part(firmware, tmp_path, every_ms(20))
    dev.write(CFGR, 4, 1)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 3)
    step(part, int(2.2 * MS))
    assert dev.read(CNT, 4) == 0
    dev.write(CR, 4, 1 | 2)  # SNGSTRT: 0, 1, 2, 3, back to 0 and stopped
    step(part, 10 * MS)
    assert dev.read(CNT, 4) == 0 and not dev.mode


def test_with_cksel_arrok_comes_two_in1_edges_after_the_write(firmware, tmp_path):
    """IN1 is the kernel clock: an ARR write's ARROK comes at the second edge after it,
    started or not (an LL driver polls it between the write and CNTSTRT)."""
    from sim.devices.stm32l0_lptim import ARR, ARROK, CFGR, CR, ISR

    part, dev = pulsed_part(firmware, tmp_path, every_ms(5))
    dev.write(CFGR, 4, 1)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 100)
    step(part, int(1.2 * MS))
    assert not dev.read(ISR, 4) & ARROK  # one edge
    step(part, MS)
    assert dev.read(ISR, 4) & ARROK  # two


def test_countmode_on_pclk_counts_nothing_in_stop_mode(firmware, tmp_path):
    """COUNTMODE samples IN1 on the kernel clock: PCLK stops in Stop mode, and so does the
    count (CKSEL would go on)."""
    from sim.devices.stm32l0_lptim import ARR, CFGR, CNT, COUNTMODE, CR

    part, dev = pulsed_part(firmware, tmp_path, every_ms(10))
    dev.write(CFGR, 4, COUNTMODE)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 1000)
    dev.write(CR, 4, 1 | 4)
    step(part, int(3.2 * MS))
    assert dev.read(CNT, 4) == 3
    rcc = part.device("stm32l0_rcc")
    for gated in rcc.gated.values():
        gated.settle()
    rcc.stopped = True  # Stop mode, as deep_sleep enters it
    for gated in rcc.gated.values():
        gated.restart()
    step(part, 4 * MS)
    rcc.stopped = False
    assert dev.read(CNT, 4) == 3


@pytest.mark.parametrize("port, pin, af", [("a", 0, 1), ("a", 4, 1), ("a", 8, 2), ("c", 0, 0)])
def test_the_other_in1_pins(firmware, tmp_path, port, pin, af):
    from sim.devices.stm32l0_lptim import ARR, CFGR, CNT, CR
    from sim.pins import parse_spec

    (tmp_path / "in1.csv").write_text(every_ms(4))
    part = sim.Simulator(firmware.image("hello.c", target="stm32l031"), sim.RunOptions(
        pins=[parse_spec(f"P{port.upper()}{pin}={tmp_path / 'in1.csv'}")]))
    part._reset()
    for dev in part.devices:
        dev.start()
    rcc, gpio = part.device("stm32l0_rcc"), part.device(f"stm32l0_gpio{port}")
    rcc.write(0x38, 4, 1 << 31)
    rcc.write(0x2C, 4, 1 | 4)  # GPIOA, GPIOC
    afr = 0x20 + 4 * (pin // 8)
    shift = 4 * (pin % 8)
    gpio.write(afr, 4, gpio.read(afr, 4) & ~(15 << shift) | af << shift)
    gpio.write(0, 4, gpio.read(0, 4) & ~(3 << 2 * pin) | 2 << 2 * pin)
    lptim = part.device("stm32l0_lptim1")
    lptim.write(CFGR, 4, 1)
    lptim.write(CR, 4, 1)
    lptim.write(ARR, 4, 1000)
    lptim.write(CR, 4, 1 | 4)
    step(part, 5 * MS)
    assert lptim.read(CNT, 4) == 4


def test_a_port_reset_takes_in1s_pin_away_at_once(firmware, tmp_path):
    """PB5 (IN1, high) reset to analog by IOPRSTR: IN1 falls there (both edges counted), not
    at some later store."""
    from sim.devices.stm32l0_lptim import ARR, CFGR, CNT, CR

    part, dev = pulsed_part(firmware, tmp_path, "0.001,1\n0.003,0\n")
    dev.write(CFGR, 4, 1 | 2 << 1)  # CKSEL, both edges
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 1000)
    dev.write(CR, 4, 1 | 4)
    step(part, 2 * MS)
    assert dev.read(CNT, 4) == 1  # the rise at 1 ms
    rcc = part.device("stm32l0_rcc")
    rcc.write(0x1C, 4, 2)  # GPIOB held in reset: PB5 analog, IN1 low: the fall
    rcc.write(0x1C, 4, 0)
    assert dev.read(CNT, 4) == 2
    step(part, 2 * MS)
    port = part.device("stm32l0_gpiob")
    port.write(0x20, 4, port.read(0x20, 4) & ~(15 << 20) | 2 << 20)  # PB5 (low now) again
    port.write(0x00, 4, port.read(0x00, 4) & ~(3 << 10) | 2 << 10)
    assert dev.read(CNT, 4) == 2


def test_in1_counts_nothing_while_lptim1s_clock_is_off(firmware, tmp_path):
    """CKSEL needs no kernel clock, but the peripheral's own (RCC APB1ENR LPTIM1EN): off,
    IN1's edges pass uncounted."""
    from sim.devices.stm32l0_lptim import ARR, CFGR, CNT, CR

    part, dev = pulsed_part(firmware, tmp_path, every_ms(10))
    dev.write(CFGR, 4, 1)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 1000)
    dev.write(CR, 4, 1 | 4)
    step(part, int(2.2 * MS))
    rcc = part.device("stm32l0_rcc")
    rcc.write(0x38, 4, 0)  # LPTIM1EN off
    step(part, 5 * MS)
    rcc.write(0x38, 4, 1 << 31)
    assert dev.read(CNT, 4) == 2


# --- the external trigger (CFGR.TRIGEN, TRIGSEL) --------------------------------------------------
TICK_MS = 1 / 32.768  # a count on the LSE (ARR 32: 33 counts a period; ARRM, CNT reaching
# ARR, 32 counts into one, CMPM with CMP 32 too; the start anywhere in an LSE period)


def ends_after(report, start_ms: float, counts: int) -> bool:
    """Whether the run ended ``counts`` LSE counts after ``start_ms`` (the start's phase: up to
    a count less; the wake-up from Stop mode and the print: up to 0.5 ms more)."""
    end = report["time_ms"] + report["sleep_ms"]
    return start_ms + (counts - 1) * TICK_MS < end < start_ms + counts * TICK_MS + 0.5


def trigger_run(firmware, cli, tmp_path, rows: str, events: int, **defines):
    """The trigger case with PA6 (LPTIM1_ETR) held by ``rows``: (the report, stdout's CNT and
    ISR). (The run ends some 0.13 ms after the interrupt: the wake-up from Stop mode and the
    print.)"""
    (tmp_path / "pa6.csv").write_text(rows)
    res = cli("run", lptim(firmware, "trigger", EVENTS=events, **defines), "--pin",
              f"PA6={tmp_path / 'pa6.csv'}", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["unmodelled_registers"] == []
    cnt, isr = map(int, res.report["stdout"].split()[1::2])
    return res.report, cnt, isr


@pytest.mark.parametrize("defines, start_ms", [({}, 5.0), ({"TRIGEN": 2}, 6.0),
                                               ({"TRIGEN": 3}, 5.0)])
def test_a_trigger_on_pa6_starts_the_counter(firmware, cli, tmp_path, defines, start_ms):
    """TRIGEN 01 (rising), 10 (falling), 11 (both) on PA6 (AF1, LPTIM1_ETR; high 5-6 ms):
    CNTSTRT arms LPTIM1, the trigger's edge starts it, later edges are ignored; the first ARRM
    33 LSE periods later wakes the core from Stop mode, ISR.EXTTRIG set by the start; with
    three events the run ends three periods after the start."""
    rows = "0.005,1\n0.006,0\n0.0075,1\n0.0076,0\n"
    report, _, isr = trigger_run(firmware, cli, tmp_path, rows, 1, **defines)
    assert isr & 7 == 2 | 4  # ARRM, EXTTRIG (ARROK from the ARR write too)
    assert ends_after(report, start_ms, 32)
    report, _, isr = trigger_run(firmware, cli, tmp_path, rows, 3, **defines)
    assert ends_after(report, start_ms, 32 + 2 * 33)
    assert isr & 6 == 2 and report["deep_sleeps"] == 3  # (no EXTTRIG: later edges ignored)


def test_sngstrt_runs_one_period_a_trigger(firmware, cli, tmp_path):
    """SNGSTRT with a trigger: each trigger after the counter stopped starts one period (5, 10
    and 15 ms); one while it runs (5.5 ms) is ignored: the third ARRM a period after 15 ms."""
    rows = "".join(f"{t},1\n{t + 0.0001:.4f},0\n" for t in (0.005, 0.0055, 0.010, 0.015))
    report, cnt, _ = trigger_run(firmware, cli, tmp_path, rows, 3, SINGLE=None)
    assert ends_after(report, 15.0, 32)
    assert cnt == 0  # (stopped at the period's end)


def test_the_time_out_mode_restarts_on_each_trigger(firmware, cli, tmp_path):
    """HAL_LPTIM_TimeOut_Start_IT (TIMOUT, CMP 32), as STM32CubeL0's LPTIM_Timeout: triggers
    every 0.5 ms from 2 to 10 ms each restart the count, so CMPM comes only 33 LSE periods
    after the last (10 ms), not before."""
    rows = "".join(f"{t / 10000:.4f},1\n{t / 10000 + 0.0001:.4f},0\n" for t in range(20, 101, 5))
    report, cnt, isr = trigger_run(firmware, cli, tmp_path, rows, 1, TIMEOUT=None)
    assert ends_after(report, 10.0, 32)
    assert isr & 1 and cnt >= 32


@pytest.mark.parametrize("defines, start_ms, counts", [
    ({"SINGLE": None}, 3000.0, 32),  # one period at each of the alarms at 1, 2 and 3 s
    ({"SINGLE": None, "NOSTOP": None}, 3000.0, 32),  # (Sleep mode: no RCC change replans)
    ({}, 1000.0, 32 + 2 * 33)])  # CNTSTRT: started by the first, later ones ignored
def test_the_rtcs_alarm_triggers_lptim1(firmware, cli, defines, start_ms, counts):
    """TRIGSEL 001: RTC alarm A every second (ALRAE without ALRAIE: nothing else takes it, so
    the RTC plans it for LPTIM1, and a sleep waiting for it is no deadlock), its flag's rising
    edge the trigger; the handler clears ALRAF. Three ARRM interrupts in Stop mode."""
    res = cli("run", lptim(firmware, "trigger", EVENTS=3, RTC=None, **defines),
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["unmodelled_registers"] == []
    assert res.report["exceptions"]["taken"] == {"IRQ13": 3}
    assert ends_after(res.report, start_ms, counts)


def test_a_trigger_from_an_alarm_that_is_off_never_comes(firmware, cli):
    """TRIGSEL 010 (alarm B) while only alarm A is on: the core's sleep is a deadlock at once
    (alarm A, which LPTIM1 does not take, is not planned for it)."""
    res = cli("run", lptim(firmware, "trigger", EVENTS=1, RTC=None, RTC_SEL=2), "--run-for",
              "3s", *LIMIT)
    assert res.report["status"] == "deadlock", res.report["fault"]
    assert res.report["time_ms"] + res.report["sleep_ms"] < 10.0


def comparator_run(firmware, cli, tmp_path, volts, **defines):
    data = tmp_path / "pa1.npy"
    np.save(data, np.asarray(volts, dtype=float))
    return cli("run", lptim(firmware, "trigger", COMP=None, **defines), "--analog",
               f"1={data}@1kHz", "--strict-peripherals", *LIMIT)


@pytest.mark.parametrize("stop", [True, False])
def test_a_comparators_output_is_the_trigger(firmware, cli, tmp_path, stop):
    """TRIGSEL 110: COMP1's output (PA1 against VREFINT, crossing at 5 ms) starts LPTIM1, in
    Stop mode or asleep (WFI: the armed trigger's edge may wake the core, so the sleep is no
    deadlock; it was planned before LPTIM1 armed)."""
    volts = [0.0] * 5 + [2.0] * 15
    res = comparator_run(firmware, cli, tmp_path, volts, EVENTS=1,
                         **({} if stop else {"NOSTOP": None}))
    assert res.returncode == 0, res.report
    assert ends_after(res.report, 5.0, 32)
    assert res.report["deep_sleeps"] == (1 if stop else 0)


@pytest.mark.parametrize("setonce", [False, True])
def test_set_once_takes_the_first_trigger_only(firmware, cli, tmp_path, setonce):
    """SNGSTRT on COMP1's crossings at 5 and 10 ms: one-shot runs a period at each; set-once
    (CFGR.WAVE, HAL_LPTIM_SetOnce_Start_IT) only at the first, so the wait for a second ARRM
    is a deadlock, reported once the first period ends (the comparator's edges wake nothing:
    nothing takes them)."""
    volts = [0.0] * 5 + [2.0] * 2 + [0.0] * 3 + [2.0] * 10
    res = comparator_run(firmware, cli, tmp_path, volts, EVENTS=2, SINGLE=None,
                         **({"SETONCE": None} if setonce else {}))
    if setonce:
        assert res.report["status"] == "deadlock", res.report
        assert res.report["time_ms"] + res.report["sleep_ms"] < 7.0
    else:
        assert res.returncode == 0, res.report
        assert ends_after(res.report, 10.0, 32)


def test_a_started_continuous_counter_ignores_the_trigger_so_a_wait_for_it_deadlocks(
        firmware, cli, tmp_path):
    """EXTTRIGIE alone, waiting for two starts: continuous mode takes the first crossing
    (5 ms) and ignores the rest, so the second never comes: a deadlock, reported once nothing
    but the ignored crossings is left (not after the recording's 2 s of them)."""
    volts = [0.0] * 5 + [2.0, 0.0] * 1000
    res = comparator_run(firmware, cli, tmp_path, volts, EVENTS=2, EXTTRIG=None)
    assert res.report["status"] == "deadlock", res.report
    assert res.report["time_ms"] + res.report["sleep_ms"] < 10.0


def test_the_trigger_filter_is_listed_and_every_source_modelled(firmware, tmp_path):
    """TRGFLT is listed at the CFGR write; the pin, the comparators and the RTC's alarms and
    tampers (TRIGSEL 1-5; 5, tamper 3, with RTC_TAMPER3_SUPPORT on the L031) are not."""
    part, lptim1 = pulsed_part(firmware, tmp_path, "0,0\n")
    for sel in range(8):
        lptim1.write(0x0C, 4, 1 << 17 | sel << 13)
    assert not part._unmodelled
    lptim1.write(0x0C, 4, 1 << 17 | 1 << 6)  # TRGFLT
    assert "TRGFLT" in " ".join(part._unmodelled)


def test_cntstrt_and_sngstrt_switch_a_triggered_counter_on_the_fly(firmware, tmp_path):
    """PB6 (AF2, LPTIM1_ETR) pulsed every ms: CNTSTRT arms, the trigger at 1 ms starts
    continuous counting; SNGSTRT written meanwhile makes it one-shot (RM0377's switch on the
    fly): stopped at the period's end; the next trigger starts a period again."""
    from sim.devices.stm32l0_lptim import ARR, CFGR, CNT, CNTSTRT, CR, ICR, ISR, SNGSTRT

    part, dev = pulsed_part(firmware, tmp_path, every_ms(20), pin=6)
    dev.write(CFGR, 4, 1 << 17)  # TRIGEN 01 on TRIGSEL 000, the pin; the kernel clock PCLK
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, 100)
    dev.write(CR, 4, 1 | CNTSTRT)
    step(part, int(0.9 * MS))
    assert not dev.mode
    step(part, int(0.2 * MS))  # the trigger at 1 ms
    assert dev.mode == CNTSTRT
    dev.write(CR, 4, 1 | SNGSTRT)
    step(part, int(0.5 * MS))
    assert dev.read(CNT, 4) == 0 and not dev.mode  # (the period's end: stopped)
    dev.write(ICR, 4, 0x7F)
    step(part, int(0.5 * MS))  # the trigger at 2 ms: one period more (EXTTRIG)
    assert dev.read(ISR, 4) & 4 and dev.read(ISR, 4) & 2


# --- review 4: what the fixes of review 3 left without a test -----------------------------------
@pytest.mark.parametrize("defines", [{"PCLK": None}, {"RCCOFF": None, "NOSTOP": None}])
def test_an_unclocked_lptim1s_trigger_wakes_nothing(firmware, cli, tmp_path, defines):
    """COMP1 crossing every ms from 5 ms, LPTIM1 armed (CNTSTRT) but without its clock: PCLK
    its kernel clock in Stop mode, or its RCC clock cleared once armed (asleep, WFI). The
    edges it cannot take wake nothing: the wait for ARRM is a deadlock, reported at once (not
    at the first crossing, nor after the recording's 2 s of them)."""
    volts = [0.0] * 5 + [2.0, 0.0] * 1000
    res = comparator_run(firmware, cli, tmp_path, volts, EVENTS=1, **defines)
    assert res.report["status"] == "deadlock", res.report
    assert res.report["time_ms"] + res.report["sleep_ms"] < 4.0


def armed_part(firmware, tmp_path, cfgr: int, start: int, arr: int = 100):
    """LPTIM1 on PCLK, its trigger PB6 (AF2, LPTIM1_ETR) rising at each ms from 1 ms (high for
    0.5 ms), CFGR ``cfgr`` with TRIGEN 01, enabled, ARR ``arr``, armed by ``start``."""
    from sim.devices.stm32l0_lptim import ARR, CFGR, CR

    part, dev = pulsed_part(firmware, tmp_path, every_ms(20), pin=6)
    dev.write(CFGR, 4, 1 << 17 | cfgr)
    dev.write(CR, 4, 1)
    dev.write(ARR, 4, arr)
    dev.write(CR, 4, 1 | start)
    return part, dev


def test_set_once_switched_to_one_shot_on_the_fly_takes_no_more_triggers(firmware, tmp_path):
    """CFGR.WAVE (set-once), CNTSTRT: the trigger at 1 ms starts continuous counting, SNGSTRT
    written meanwhile makes it one-shot: stopped at the period's end; the trigger at 2 ms then
    starts nothing (set-once: the first trigger only), and none would act."""
    from sim.devices.stm32l0_lptim import CNT, CNTSTRT, CR, ICR, ISR, SNGSTRT

    part, dev = armed_part(firmware, tmp_path, 1 << 20, CNTSTRT)
    step(part, int(1.1 * MS))
    assert dev.mode == CNTSTRT
    dev.write(CR, 4, 1 | SNGSTRT)
    step(part, int(0.5 * MS))
    assert dev.read(CNT, 4) == 0 and not dev.mode and not dev.takes_trigger()
    dev.write(ICR, 4, 0x7F)
    step(part, int(0.5 * MS))  # the trigger at 2 ms
    assert not dev.read(ISR, 4) & 4 and not dev.mode


def test_one_shot_switched_to_continuous_takes_no_more_triggers(firmware, tmp_path):
    """SNGSTRT, ARR 0xFFFF: the trigger at 1 ms starts a period (armed for the next trigger
    after it); CNTSTRT written meanwhile makes it continuous: it counts on past the period's end
    and no trigger acts on it any more (an armed comparator's edges would wake the core for
    nothing)."""
    from sim.devices.stm32l0_lptim import CNT, CNTSTRT, CR, SNGSTRT

    part, dev = armed_part(firmware, tmp_path, 0, SNGSTRT, arr=0xFFFF)  # (a 2 ms period)
    step(part, int(1.1 * MS))
    assert dev.read(CNT, 4) > 0 and dev.mode == SNGSTRT and dev.takes_trigger()
    dev.write(CR, 4, 1 | CNTSTRT)
    assert dev.mode == CNTSTRT and not dev.takes_trigger()
    step(part, int(2.5 * MS))  # (past the period's end at 3 ms)
    assert dev.read(CNT, 4) > 0 and dev.mode == CNTSTRT


def test_each_time_out_restart_sets_exttrig(firmware, tmp_path):
    """TIMOUT, CNTSTRT: the trigger at 1 ms starts the count (EXTTRIG); cleared, EXTTRIG is set
    again by the trigger at 2 ms, which restarts the count from 0."""
    from sim.devices.stm32l0_lptim import CNT, CNTSTRT, ICR, ISR

    part, dev = armed_part(firmware, tmp_path, 1 << 19, CNTSTRT, arr=0xFFFF)
    step(part, int(1.1 * MS))
    assert dev.read(ISR, 4) & 4
    dev.write(ICR, 4, 4)
    step(part, int(0.8 * MS))
    assert not dev.read(ISR, 4) & 4 and dev.read(CNT, 4) > 0.8 * MS
    step(part, int(0.2 * MS))  # the trigger at 2 ms
    assert dev.read(ISR, 4) & 4 and dev.read(CNT, 4) < 0.2 * MS


def test_a_disable_ends_the_arming(firmware, tmp_path):
    """CNTSTRT arms LPTIM1; disabled and enabled again without a start bit, the trigger at
    1 ms starts nothing."""
    from sim.devices.stm32l0_lptim import CNTSTRT, CR, ISR

    part, dev = armed_part(firmware, tmp_path, 0, CNTSTRT)
    dev.write(CR, 4, 0)
    dev.write(CR, 4, 1)
    step(part, int(1.2 * MS))
    assert not dev.read(ISR, 4) & 4 and not dev.mode


def test_a_trigger_while_lptim1s_clock_is_off_is_lost(firmware, tmp_path):
    """CNTSTRT armed, LPTIM1EN cleared at 0.5 ms: the trigger at 1 ms is lost (the clock back
    at 1.2 ms, PB6 still high, is no edge); the one at 2 ms starts the count."""
    from sim.devices.stm32l0_lptim import CNTSTRT

    part, dev = armed_part(firmware, tmp_path, 0, CNTSTRT)
    rcc = part.device("stm32l0_rcc")
    step(part, int(0.5 * MS))
    rcc.write(0x38, 4, rcc.read(0x38, 4) & ~(1 << 31))
    step(part, int(0.7 * MS))
    rcc.write(0x38, 4, rcc.read(0x38, 4) | 1 << 31)
    assert not dev.mode
    step(part, int(0.9 * MS))
    assert dev.mode == CNTSTRT


MS = 32_000  # core cycles a millisecond at the profile's 32 MHz


@pytest.fixture
def alarmed(firmware):
    """The part: the RTC on the LSE from 12:00:00, alarm A every second (all fields masked),
    ALRAE without ALRAIE; LPTIM1 on the LSE, clocked, TRIGSEL 001 (ALRAF), TRIGEN rising,
    enabled, ARR 100, not yet armed."""
    part = sim.Simulator(firmware.image("hello.c", target="stm32l031"))
    part._reset()
    for dev in part.devices:
        dev.start()
    rcc, pwr = part.device("stm32l0_rcc"), part.device("stm32l0_pwr")
    rcc.write(0x38, 4, 1 << 31 | 1 << 28)  # LPTIM1EN, PWREN
    pwr.write(0x00, 4, pwr.read(0x00, 4) | 1 << 8)  # DBP
    rcc.write(0x50, 4, 1 << 8 | 1 << 16 | 1 << 18)  # LSEON, RTCSEL LSE, RTCEN
    rcc.write(0x4C, 4, 3 << 18)  # LPTIM1SEL: LSE
    rtc = part.device("stm32l0_rtc")
    rtc.write(0x24, 4, 0xCA)
    rtc.write(0x24, 4, 0x53)
    rtc.write(0x0C, 4, 0x80)  # INIT
    rtc.write(0x00, 4, 0x120000)
    rtc.write(0x0C, 4, 0)  # the calendar runs
    rtc.write(0x1C, 4, 0x8080_8080)  # every second
    rtc.write(0x08, 4, 1 << 8)  # ALRAE, no ALRAIE
    lptim1 = part.device("stm32l0_lptim1")
    lptim1.write(0x0C, 4, 1 << 13 | 1 << 17)  # TRIGSEL 001, TRIGEN rising
    lptim1.write(0x10, 4, 1)  # ENABLE
    lptim1.write(0x18, 4, 100)  # ARR
    return part


def test_arming_after_an_unplanned_alarm_is_no_edge(alarmed):
    """ALRAF rose at 1.0 s, which nothing took (not planned: accounted at the RTC's next
    access). Armed at 1.5 s, LPTIM1 sees the trigger already high: no edge, the counter does
    not start (the review's M1: the late flag had looked like a rising edge)."""
    rtc, lptim1 = alarmed.device("stm32l0_rtc"), alarmed.device("stm32l0_lptim1")
    step(alarmed, 1500 * MS)
    lptim1.write(0x10, 4, 1 | 1 << 2)  # CNTSTRT: armed
    step(alarmed, MS)
    assert rtc.flags & 1 << 8 and lptim1.mode == 0 and not lptim1.isr & 1 << 2


def test_lptim1s_clock_back_after_an_unplanned_alarm_is_no_edge(alarmed):
    """The same through the RCC: armed at 0.1 s, LPTIM1EN cleared at 0.2 s (nothing takes the
    alarm), ALRAF at 1.0 s unaccounted, LPTIM1EN set again at 1.5 s: no edge."""
    rcc, lptim1 = alarmed.device("stm32l0_rcc"), alarmed.device("stm32l0_lptim1")
    step(alarmed, 100 * MS)
    lptim1.write(0x10, 4, 1 | 1 << 2)
    step(alarmed, 100 * MS)
    rcc.write(0x38, 4, 1 << 28)  # LPTIM1EN off
    step(alarmed, 1300 * MS)
    rcc.write(0x38, 4, 1 << 31 | 1 << 28)  # on again
    step(alarmed, MS)
    assert lptim1.mode == 0


def test_an_rcc_reset_of_lptim1_stops_the_alarm_planned_for_it(alarmed):
    """Armed on ALRAF, LPTIM1 has the RTC plan the alarm (no ALRAIE); reset through APB1RSTR
    it takes nothing: the RTC plans nothing more (a sleep then is a deadlock at once)."""
    rtc, lptim1, rcc = (alarmed.device("stm32l0_rtc"), alarmed.device("stm32l0_lptim1"),
                        alarmed.device("stm32l0_rcc"))
    step(alarmed, 100 * MS)
    lptim1.write(0x10, 4, 1 | 1 << 2)
    assert alarmed.exceptions.has_timer(rtc)  # the alarm at 1.0 s, for LPTIM1
    rcc.write(0x28, 4, 1 << 31)  # APB1RSTR.LPTIM1RST
    rcc.write(0x28, 4, 0)
    assert lptim1.rtc_trigger() == 0 and not alarmed.exceptions.has_timer(rtc)


def test_a_backup_domain_reset_drops_the_rtc_trigger(alarmed):
    """ALRAF up (the trigger high), then RCC_CSR.RTCRST: the flag is gone, LPTIM1 hears the
    trigger fall (TRIGEN falling edges: a start)."""
    rcc, lptim1 = alarmed.device("stm32l0_rcc"), alarmed.device("stm32l0_lptim1")
    lptim1.write(0x10, 4, 0)
    lptim1.write(0x0C, 4, 1 << 13 | 2 << 17)  # TRIGEN falling
    lptim1.write(0x10, 4, 1)
    lptim1.write(0x10, 4, 1 | 1 << 2)  # armed
    step(alarmed, 1100 * MS)  # ALRAF at 1.0 s (planned for LPTIM1: no edge taken yet)
    assert lptim1.mode == 0
    rcc.write(0x50, 4, rcc.read(0x50, 4) | 1 << 19)  # RTCRST
    assert lptim1.mode == 4 and lptim1.isr & 1 << 2  # started on the fall, EXTTRIG


@pytest.mark.parametrize("defines, status", [
    ({"EXTTRIG": None}, "deadlock"),  # continuous: the second trigger is ignored: nothing comes
    ({"EXTTRIG": None, "SINGLE": None}, "ok")])  # one-shot: each alarm after a period starts one
def test_an_rtc_trigger_that_would_be_ignored_is_not_planned(firmware, cli, defines, status):
    """EXTTRIGIE alone, two triggers waited for: in continuous mode the alarms after the
    first start nothing, so none is planned for LPTIM1 and the sleep is a deadlock at once
    (not a run through an alarm a second); in one-shot mode each starts a period."""
    res = cli("run", lptim(firmware, "trigger", EVENTS=2, RTC=None, **defines), "--run-for",
              "5s", *LIMIT)
    assert res.report["status"] == status, res.report["fault"]
    end = res.report["time_ms"] + res.report["sleep_ms"]
    assert 1000 < end < 1010 if status == "deadlock" else 2000 < end < 2010


def test_tamper_3_triggers_lptim1(firmware, cli, tmp_path):
    """TRIGSEL 101: tamper 3 (PA2's rising edges, TAMP3E without an interrupt) starts a
    one-shot period at each of three pulses (1, 2, 3 ms) once the handler cleared TAMP3F."""
    (tmp_path / "pa2.csv").write_text("".join(f"{t / 1000},1\n{t / 1000 + 0.0002},0\n"
                                              for t in (1, 2, 3)))
    res = cli("run", lptim(firmware, "trigger", EVENTS=3, RTC=None, RTC_SEL=5, SINGLE=None),
              "--pin", f"PA2={tmp_path / 'pa2.csv'}", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert ends_after(res.report, 3.0, 32)

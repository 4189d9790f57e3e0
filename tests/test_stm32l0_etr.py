"""The STM32L0 timers' external trigger ETR (sim/devices/stm32l0_tim.py): external clock mode 2
(SMCR.ECE) from a pin or the LSE, ETRF as the slave mode's trigger (TS 111), and OCREF_CLR
(CCMRx.OCxCE) from a pin or a comparator, as STM32CubeL0's COMP_PWMSignalControl uses it;
from tests/programs/irq/etr.c, and the registers one by one."""

import re
from itertools import pairwise
from types import SimpleNamespace

import pytest
from helpers import FakeTimers

from sim.devices.stm32l0_gpio import TIMER_PINS
from sim.devices.stm32l0_tim import (
    APB1ENR,
    APB2ENR,
    ARR,
    CCER,
    CCMR1,
    CCMR2,
    CCR1,
    CCR3,
    CNT,
    CR1,
    CR2,
    DIER,
    DIR,
    ECE,
    EGR,
    ETP,
    ETR,
    LSERDY,
    OCCE,
    OR,
    PSC,
    PWM1,
    RCC_CSR,
    RISING,
    SMCR,
    SR,
    TIF,
    UDIS,
    Stm32l0Tim2,
    Stm32l0Tim21,
    Stm32l0Tim22,
)
from tests.test_exceptions import irq_program
from tests.test_stm32l0_tim import FakePort, PortHost, clock_gap, vcd_edges

LIMIT = ("--max-instructions", "5000000")
MS = 32_000  # core cycles in a millisecond (the stm32l031 profile's 32 MHz)


def etr(firmware, case: str, **defines):
    return irq_program(firmware, "etr.c", "stm32l031", **{f"CASE_{case}": None}, **defines)


def slave_on_etrf(firmware, **defines):
    """tests/programs/irq/tim.c's slave case (TIM2's slave mode) on ETRF (PA0 AF5)."""
    return irq_program(firmware, "tim.c", "stm32l031", CASE_slave=None, ETR=None, **defines)


def pulses(starts: list[float], high: float) -> list[str]:
    """--pin rows: a pulse ``high`` seconds long from each of ``starts`` (seconds)."""
    return [row for t in starts for row in (f"{t:.9f},1", f"{t + high:.9f},0")]


def pin_file(tmp_path, name: str, rows: list[str]):
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join(sorted(rows, key=lambda r: float(r.split(",")[0]))) + "\n")
    return path


# 10 pulses of 0.7 ms from 140.5 ms (the last falls at 150.2 ms, after the first print at
# 150 ms), 15 more from 200 ms; and five 1 us glitches at 100 ms
WAVE = pulses([0.1405 + k * 0.001 for k in range(10)] + [0.2 + k * 0.001 for k in range(15)],
              0.0007)
GLITCHES = pulses([0.1 + k * 0.0001 for k in range(5)], 0.000001)


@pytest.mark.parametrize("defines, rows, expected", [
    ({}, WAVE, [(10, 0), (25, 0)]),  # each rising edge a count
    ({"INVERT": None}, WAVE, [(9, 0), (25, 0)]),  # ETP: the falling edges
    ({"ETPS": 1}, WAVE, [(5, 0), (12, 0)]),  # every 2nd
    ({"ETPS": 2}, WAVE, [(2, 0), (6, 0)]),  # every 4th
    ({"ARR_VALUE": 9}, WAVE, [(0, 1), (5, 2)]),  # 0 ... 9, the step past 9 an update event
    ({}, WAVE + GLITCHES, [(15, 0), (30, 0)]),  # a 1 us glitch is an edge without a filter
    ({"FILTER": 15}, WAVE + GLITCHES, [(10, 0), (25, 0)]),  # ETF 15: 8 samples at f_DTS/32
])
def test_external_clock_mode_2_counts_etrs_edges(firmware, cli, tmp_path, defines, rows,
                                                   expected):
    """TIM2 in external clock mode 2 (ECE) counts PA0's (TIM2_ETR, AF5) rising edges, as ETP,
    ETPS and ETF have them, not its clock; its update interrupt counts the wraps."""
    pa0 = pin_file(tmp_path, "pa0", rows)
    res = cli("run", etr(firmware, "clock2", **defines), "--pin", f"PA0={pa0}",
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    lines = re.findall(r"cnt (\d+) wraps (\d+)", res.report["stdout"])
    assert [tuple(map(int, line)) for line in lines] == expected
    assert res.report["unmodelled_registers"] == []


def test_external_clock_mode_2_from_the_lse_is_a_crystal_time_base(firmware, cli):
    """TIM2's ETR from the LSE (OR ETR_RMP 101), ARR 327: an update every 328 periods of the
    32,768 Hz crystal (a DCF77 decoder's 10 ms sampling clock), 20 of them 6,559.5 periods
    after the LSE is taken (its first rising edge half a period on), 6,405,761.7 core
    cycles at 32 MHz."""
    res = cli("run", etr(firmware, "clock2", LSE=None, ARR_VALUE=327, UPDATES=20),
              "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["stdout"] == "updates 20\n"
    assert res.report["exceptions"]["taken"] == {"IRQ15": 20}
    total = res.report["cycles"] + res.report["sleep_cycles"]
    exact = (20 * 328 - 0.5) * 32_000_000 / 32_768
    assert exact < total < exact + 1_000, total  # (the start-up before, the print after)
    assert res.report["unmodelled_registers"] == []


@pytest.mark.parametrize("defines", [
    {"PSC_VALUE": 2, "ETPS": 1, "CC1": 20},
    {"INVERT": None, "CC1": 5},
    {"DOWN": None, "CC1": 7, "ETPS": 3},
    {"DOWN": None, "INVERT": None, "PSC_VALUE": 1},
])
def test_lse_edges_counted_at_once_as_edge_by_edge(firmware, cli, defines):
    """TIM2 clocked by the LSE alone takes only the edges that are the count's events (an
    update, a compare match) one by one, the others at once: the same updates, matches, CNT
    read every 7,919 cycles (TIM21's interrupt) and end time as with every edge taken by
    itself (PER_EDGE: an unused channel's OC2CE takes ETRF too)."""
    runs = []
    for per_edge in (False, True):
        res = cli("run", etr(firmware, "clock2", LSE=None, ARR_VALUE=40, UPDATES=6, SAMPLE=7918,
                             **defines, **({"PER_EDGE": None} if per_edge else {})),
                  "--strict-peripherals", *LIMIT)
        assert res.returncode == 0, res.report
        report = res.report  # (PER_EDGE's set-up is a store more: the end's time is compared)
        runs.append((report["stdout"], report["cycles"] + report["sleep_cycles"]))
    assert runs[0] == runs[1]
    found = re.fullmatch(r"updates 6 matches (\d+) sum (\d+)\n", runs[0][0])
    assert found and int(found.group(2)) > 0, runs[0][0]
    assert int(found.group(1)) >= (5 if "CC1" in defines else 0)


def test_an_lse_clocked_master_wakes_its_slave(firmware, cli):
    """TIM2 clocked by the LSE with no interrupt of its own, its updates on TRGO to TIM21
    (external clock mode 1 on ITR0): the LSE's edges may wake the core through TIM21's
    interrupt, so the WFI waits for them (not a deadlock); 3 updates of TIM21, 3 x 3 of TIM2,
    33 LSE periods each."""
    res = cli("run", etr(firmware, "chain"), "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["stdout"] == "tim21 updates 3\n"
    total = res.report["cycles"] + res.report["sleep_cycles"]
    exact = (9 * 33 - 0.5) * 32_000_000 / 32_768
    assert exact < total < exact + 1_000, total


@pytest.mark.parametrize("low", [False, True])
def test_gated_mode_on_etrf(firmware, cli, tmp_path, low):
    """TS 111: TIM2 gated by ETRF counts only while PA0 (TIM2_ETR) is high (ETP: low), 300 +
    200 us of pulses at 1 and 2 ms; TIF at each edge of the gate."""
    pa0 = pin_file(tmp_path, "pa0", ["0.001,1", "0.0013,0", "0.002,1", "0.0022,0"])
    res = cli("run", slave_on_etrf(firmware, SLAVE=5, EDGES=4, **({"LOW": None} if low else {})),
              "--pin", f"PA0={pa0}", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    found = re.fullmatch(r"t (\d+) (\d+) (\d+) (\d+) cnt (\d+) tim21 (\d+)\n",
                         res.report["stdout"])
    assert found, res.report["stdout"]
    *edges, cnt, end = map(int, found.groups())
    assert [b - a for a, b in pairwise(edges)] == [300, 700, 200]
    start = edges[0] - 1000  # TIM21's count at the run's time 0 (it starts a few us in)
    if low:  # low from TIM2's start (a few us after TIM21's) to 1 ms, 1.3-2 ms, 2.2 ms on
        # (the few us: TIM2's start after TIM21's and the end's TIM2-to-TIM21 reads, less
        # the handler's latency to its TIM21 read at 1 ms, which ends at the load itself)
        assert 0 < (1000 + 700 + (end - start - 2200)) - cnt < 25
    else:
        assert cnt == 500
    assert res.report["unmodelled_registers"] == []


@pytest.mark.parametrize("slave", [6, 4])
def test_trigger_and_reset_modes_on_etrf(firmware, cli, tmp_path, slave):
    """Trigger mode: PA0's rise at 2 ms starts TIM2's one pulse (CNT back to 0 at its end);
    reset mode: each rise (2 and 3 ms) restarts the count: at the print, the microseconds
    since the last rise (not the 3 ms since the start)."""
    rows = ["0.002,1", "0.0021,0"] + (["0.003,1", "0.0031,0"] if slave == 4 else [])
    pa0 = pin_file(tmp_path, "pa0", rows)
    res = cli("run", slave_on_etrf(firmware, SLAVE=slave, EDGES=1 if slave == 6 else 2),
              "--pin", f"PA0={pa0}", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    numbers = list(map(int, re.findall(r"\d+", res.report["stdout"].replace("tim21", ""))))
    if slave == 6:
        at, cnt, _ = numbers
        assert 1990 < at < 2000 and cnt == 0
    else:
        first, second, cnt, _ = numbers
        assert second - first == 1000 and 1990 < first < 2000
        assert cnt < 100  # (the handler's print, some microseconds after the rise)


def pwm_pulses(edges: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """(the cycle a pulse starts at, its length in cycles) from --vcd edges."""
    rises = [t for t, v in edges if v == "1"]
    falls = [t for t, v in edges if v == "0" and t > rises[0]]
    return list(zip(rises, [f - r for r, f in zip(rises, falls, strict=False)], strict=False))
SOURCES = {"pin": ({}, "PA4", "PA7"), "comp": ({"COMP": None}, "PB5", "PA7"),
           "tim2": ({"ON_TIM2": None}, "PA0", "PA1")}


@pytest.mark.parametrize("source", list(SOURCES))
def test_ocref_clear_cuts_the_pwm_until_the_next_update(firmware, cli, tmp_path, source):
    """OC2CE: the PWM (1 kHz, 250 us high) goes low when ETRF rises and stays low until an
    update event finds ETRF low; ETR from TIM22_ETR's pin, from COMP2 (PB5 against VREFINT/4,
    OR ETR_RMP 01: ST's COMP_PWMSignalControl), or TIM2's pin (SMCR 0, as the HAL leaves
    it)."""
    defines, etr_pin, out = SOURCES[source]
    t0 = 0.0000  # the timer starts a few microseconds into the run: the ms marks are its own
    windows = [(0.0021, 0.00215), (0.0045, 0.0061)]
    if source == "comp":  # 10 us samples, 0.1 V, 0.5 V in the windows (VREFINT/4 = 0.306 V)
        samples = [0.5 if any(a <= k * 1e-5 < b for a, b in windows) else 0.1
                   for k in range(1100)]
        data = tmp_path / "pb5.csv"
        data.write_text("volts\n" + "".join(f"{v}\n" for v in samples))
        source_args = ("--analog", f"PB5={data}@100kHz")
    else:
        rows = [row for a, b in windows for row in (f"{t0 + a:.9f},1", f"{t0 + b:.9f},0")]
        source_args = ("--pin", f"{etr_pin}={pin_file(tmp_path, 'etr', rows)}")
    vcd = tmp_path / "pins.vcd"
    res = cli("run", etr(firmware, "clear", PERIODS=10, **defines), *source_args,
              "--vcd", str(vcd), "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["stdout"] == "periods 10\n"
    assert res.report["unmodelled_registers"] == []
    found = pwm_pulses(vcd_edges(vcd, out))
    start = found[0][0]  # (the timer starts a few microseconds in: its periods from there)
    assert 0 < start < 20 * 32
    # ETR high 2.1-2.15 ms (cuts the third pulse there, released at the update of 3 ms) and
    # 4.5-6.1 ms (high at the updates of 5 and 6 ms: no pulse; released at 7 ms)
    full = [(start + k * MS, 8_000) for k in (0, 1, 3, 4, 7, 8, 9)]
    assert found == [*full[:2], (start + 2 * MS, round(2.1 * MS) - start - 2 * MS), *full[2:]]


class EtrPort(FakePort):
    """FakePort with ETR's pin at ``etr``."""

    def __init__(self) -> None:
        super().__init__()
        self.etr = 0

    def timer_input(self, timer: str, channel: int) -> int | None:
        return self.etr if channel == 0 else super().timer_input(timer, channel)


def etr_timer(kind=Stm32l0Tim21):
    host = PortHost()
    host.port = EtrPort()
    dev = kind(host)  # type: ignore[arg-type]
    dev.reset()
    return dev, host


def two_timers():
    host = PortHost()
    host.port = EtrPort()
    tim21 = Stm32l0Tim21(host)  # type: ignore[arg-type]
    tim22 = Stm32l0Tim22(host)  # type: ignore[arg-type]
    devices = {"stm32l0_tim21": tim21, "stm32l0_tim22": tim22}
    host.device = lambda name: devices.get(name, host.port if name == "stm32l0_gpioa"
                                           else None)  # type: ignore[method-assign]
    for dev in (tim21, tim22):
        dev.reset()
    return tim21, tim22, host


def drive(dev, host, level: int, at: int) -> None:
    host.exceptions.now = at
    host.port.etr = level
    dev.inputs_changed(at)


def pulses(dev, host, count: int, start: int) -> None:
    """``count`` pulses on ETR from cycle ``start``, 10 cycles high every 20."""
    for k in range(count):
        drive(dev, host, 1, start + 20 * k)
        drive(dev, host, 0, start + 10 + 20 * k)


def test_the_etr_filter_delays_edges_and_drops_short_pulses():
    """ETF 3 (f_CK_INT, 8 samples): a count 8 cycles after each rising edge of ETR; a pulse
    shorter than that never counts; ETF 4 (f_DTS / 2, 6 samples) with CKD 2 (f_DTS f_CK_INT /
    4): 48 cycles."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, ECE | 3 << 8)
    dev.write(CR1, 4, 1)
    drive(dev, host, 1, 100)
    host.exceptions.now = 107
    assert dev.read(CNT, 4) == 0
    host.exceptions.now = 108
    assert dev.read(CNT, 4) == 1
    drive(dev, host, 0, 200)
    drive(dev, host, 1, 300)
    drive(dev, host, 0, 305)  # 5 cycles high: filtered out
    host.exceptions.now = 400
    assert dev.read(CNT, 4) == 1
    dev.write(CR1, 4, 1 | 2 << 8)  # CKD: f_DTS = f_CK_INT / 4
    dev.write(SMCR, 4, ECE | 4 << 8)
    drive(dev, host, 1, 500)
    host.exceptions.now = 547
    assert dev.read(CNT, 4) == 1
    host.exceptions.now = 548
    assert dev.read(CNT, 4) == 2


def test_a_polarity_change_is_an_edge_of_etrp():
    """ETRP is ETR through ETP: writing ETP while ETR is low makes ETRP rise, a count in
    external clock mode 2."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    host.exceptions.now = 50
    dev.write(SMCR, 4, ECE | ETP)
    assert dev.read(CNT, 4) == 1
    drive(dev, host, 1, 60)  # ETRP falls
    drive(dev, host, 0, 70)  # rises: a count
    assert dev.read(CNT, 4) == 2


def test_external_clock_mode_2_gated_by_ti1():
    """ECE with the gated slave mode on TI1FP1: ETR's edges count only while TI1 is high."""
    dev, host = etr_timer()
    dev.write(CCMR1, 4, 1)  # CC1S: TI1
    dev.write(SMCR, 4, ECE | 5 << 4 | 5)  # TS TI1FP1, gated
    dev.write(CR1, 4, 1)
    pulses(dev, host, 4, 100)
    assert dev.read(CNT, 4) == 0
    host.port.level = 1  # TI1 high
    dev.inputs_changed(200)
    pulses(dev, host, 3, 300)
    assert dev.read(CNT, 4) == 3
    host.exceptions.now = 10_000  # the clock does not count
    assert dev.read(CNT, 4) == 3 and host.listed == []


def pwm_timer(kind=Stm32l0Tim21):
    """Channel 1 in PWM mode 1 with OC1CE, CCR1 5, ARR 9, a count a cycle; counting."""
    dev, host = etr_timer(kind)
    dev.write(ARR, 4, 9)
    dev.write(CCR1, 4, 5)
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1)
    return dev, host


def output_at(dev, host, at: int) -> int | None:
    host.exceptions.now = at
    dev.read(CNT, 4)
    return dev.output(1)


def test_ocref_clear_holds_until_an_update_with_etrf_low():
    """ETRF high clears OC1REF; it stays low after ETRF falls until the next update event; an
    update with ETRF still high keeps it low; UDIS (no update event) keeps it low for good;
    OC1CE cleared lets it go at once."""
    dev, host = pwm_timer()
    assert output_at(dev, host, 2) == 1
    drive(dev, host, 1, 3)
    assert output_at(dev, host, 3) == 0
    drive(dev, host, 0, 4)
    assert output_at(dev, host, 9) == 0
    assert output_at(dev, host, 10) == 1  # the update at 10: released, PWM high
    drive(dev, host, 1, 12)
    assert output_at(dev, host, 21) == 0  # ETRF still high at the update of 20
    drive(dev, host, 0, 22)
    dev.write(CR1, 4, 1 | 1 << 1)  # UDIS: no update event
    assert output_at(dev, host, 31) == 0 and output_at(dev, host, 45) == 0
    dev.write(CCMR1, 4, PWM1 << 4)  # OC1CE cleared: the PWM's own level (the count 5: low)
    assert dev.read(CNT, 4) == 5 and dev.output(1) == 0
    assert output_at(dev, host, 51) == 1
    assert host.listed == []


def test_ocref_clear_on_tim2_and_not_in_forced_mode():
    """TIM2 as TIM21 and TIM22: ETRF clears OCxREF with SMCR 0 (bit 3, OCCS on other parts, is
    reserved here: writing it changes nothing); a forced level is never cleared."""
    dev, host = pwm_timer(Stm32l0Tim2)
    drive(dev, host, 1, 3)
    assert dev.output(1) == 0
    drive(dev, host, 0, 4)
    dev.write(SMCR, 4, 1 << 3)
    assert output_at(dev, host, 9) == 0 and output_at(dev, host, 10) == 1
    drive(dev, host, 1, 12)
    assert dev.output(1) == 0
    dev.write(CCMR1, 4, 5 << 4 | OCCE)  # forced high
    assert dev.output(1) == 1 and host.listed == []


def test_etr_is_taken_as_it_is_when_something_starts_taking_it():
    """While nothing takes ETRF its pin is not followed; OC1CE set with ETR already high
    clears OC1REF at once, ECE set with ETR high counts nothing until the next rising edge."""
    dev, host = pwm_timer()
    dev.write(CCMR1, 4, PWM1 << 4)  # no OC1CE: nothing takes ETRF
    drive(dev, host, 1, 2)
    assert output_at(dev, host, 3) == 1
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)
    assert dev.output(1) == 0
    dev, host = etr_timer()
    drive(dev, host, 1, 5)
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    assert dev.read(CNT, 4) == 0
    drive(dev, host, 0, 10)
    drive(dev, host, 1, 20)
    assert dev.read(CNT, 4) == 1


def test_ece_with_an_encoder_mode_is_listed_and_counts_nothing():
    """ECE with an encoder mode (listed: neither counts): ETR's edges count nothing, nor do
    TI1's and TI2's, and none resets the count."""
    dev, host = etr_timer()
    dev.write(CCMR1, 4, 1 | 1 << 8)
    dev.write(SMCR, 4, ECE | 5 << 4 | 3)  # (TS TI1FP1 too: no trigger either)
    dev.write(CR1, 4, 1)
    host.port.level2 = 0
    for k in range(3):
        drive(dev, host, 1, 100 + 20 * k)
        drive(dev, host, 0, 110 + 20 * k)
        host.port.level = 1
        dev.inputs_changed(112 + 20 * k)
        host.port.level = 0
        dev.inputs_changed(114 + 20 * k)
    assert dev.read(CNT, 4) == 0 and dev.read(SR, 4) == 0
    assert [entry[1] for entry in host.listed] == [SMCR]


def test_ece_with_a_slave_mode_on_etrf_is_listed():
    dev, host = etr_timer()
    dev.write(SMCR, 4, ECE | 7 << 4 | 4)
    assert [entry[1] for entry in host.listed] == [SMCR]
    assert "TRGI must not be ETRF" in host.whys[0]


def test_ti1_follows_its_pin_again_when_the_oscillator_moves_to_etr():
    """TIM21: one OR write moving the LSE from TI1 (TI1_RMP 100) to ETR (ETR_RMP 11) leaves
    TI1 its pin's: a capture of TI1 sees the pin's edges again."""
    dev, host = etr_timer()
    dev.write(CCMR1, 4, 1)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 4 << 2)  # TI1: the LSE (not running here: TI1 low)
    host.port.level = 1
    dev.inputs_changed(50)
    assert not dev.read(SR, 4) & 2  # TI1 is the oscillator's, not the pin
    host.exceptions.now = 60
    dev.write(OR, 4, 3)  # the LSE on ETR: TI1 the pin again (high: a rising edge)
    assert dev.read(SR, 4) & 2 and dev.read(CCR1, 4) == 60


def test_trgo_oc1ref_sees_the_clear():
    """CR2.MMS OC1REF: TRGO follows OC1REF as OCREF_CLR leaves it (a slave counts its rising
    edges)."""
    tim21, tim22, host = two_timers()
    tim22.write(SMCR, 4, 7 | 0 << 4)  # external clock mode 1 on ITR0: TIM21's TRGO
    tim22.write(CR1, 4, 1)
    tim21.write(CR2, 4, 4 << 4)  # MMS: OC1REF
    tim21.write(ARR, 4, 9)
    tim21.write(CCR1, 4, 5)
    tim21.write(CCMR1, 4, PWM1 << 4 | OCCE)
    tim21.write(CR1, 4, 1)
    host.exceptions.now = 95
    tim21.read(CNT, 4)
    before = tim22.read(CNT, 4)
    assert before >= 9  # (a rise at each update: 10 ... 90)
    drive(tim21, host, 1, 96)  # ETRF high through the updates of 100 and 110
    drive(tim21, host, 0, 115)
    host.exceptions.now = 125
    tim21.read(CNT, 4)
    assert tim22.read(CNT, 4) == before + 1  # the rise at 120 only


@pytest.mark.parametrize("kind, value, listed", [
    (Stm32l0Tim2, 3, True), (Stm32l0Tim2, 5, False), (Stm32l0Tim2, 6, False),
    (Stm32l0Tim21, 3, False), (Stm32l0Tim22, 1, False), (Stm32l0Tim22, 3, False),
])
def test_etr_remaps_modelled_and_listed(kind, value, listed):
    """OR's ETR_RMP: TIM2's HSI16 (011) is listed (it never changes); the LSE and the
    comparators are modelled."""
    dev, host = etr_timer(kind)
    dev.write(OR, 4, value)
    assert bool(host.listed) == listed
    if listed:
        assert "ETR from an internal signal" in host.whys[0]


def test_smcr_listing():
    """ECE, TS 111 are modelled; ECE with an encoder mode is listed (as above)."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, ECE)
    dev.write(SMCR, 4, 7 << 4 | 6)
    assert host.listed == []
    dev.write(SMCR, 4, ECE | 3)
    assert [entry[1] for entry in host.listed] == [SMCR]
    assert "encoder" in host.whys[0]


def test_an_update_event_from_ug_releases_the_clear():
    dev, host = pwm_timer()
    drive(dev, host, 1, 2)
    drive(dev, host, 0, 3)
    assert output_at(dev, host, 4) == 0
    dev.write(EGR, 4, 1)  # UG: an update event, ETRF low
    assert dev.output(1) == 1 and dev.read(CNT, 4) == 0
    assert dev.read(SR, 4) & 1


def bulk_lse_timer(monkeypatch, **regs: int):
    """TIM2 clocked by a 32,768 Hz LSE on ETR (OR 101; the RCC's LSERDY taken as set), ARR
    1000, counting; ``regs`` written first."""
    dev, host = etr_timer(Stm32l0Tim2)
    monkeypatch.setattr(dev, "_osc_hz", lambda: 32_768)
    for offset, value in regs.items():
        dev.write(globals()[offset], 4, value)
    dev.write(OR, 4, 5)
    dev.write(ARR, 4, 1000)
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    return dev, host


def test_etr_counted_at_once_leaves_etrf_as_the_lse_has_it(monkeypatch):
    """Edges counted at once leave ETRF at the LSE's level: OC1CE set while it is high (a
    quarter period past a rising edge) clears OC1REF at once, while it is low it does not;
    the count is the rising edges so far."""
    period = 32_000_000 / 32_768  # core cycles (976.5625)
    dev, host = bulk_lse_timer(monkeypatch, CCR1=500, CCER=1)
    dev.write(CCMR1, 4, PWM1 << 4)
    host.exceptions.now = round(10.75 * period)  # rising edges at 0.5, 1.5 ... 10.5 periods
    assert dev.read(CNT, 4) == 11
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)  # ETR high: cleared
    assert dev.output(1) == 0
    dev, host = bulk_lse_timer(monkeypatch, CCR1=500, CCER=1)
    dev.write(CCMR1, 4, PWM1 << 4)
    host.exceptions.now = round(11.25 * period)  # low
    assert dev.read(CNT, 4) == 11
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)
    assert dev.output(1) == 1


# --- ETRP: ETP and ETPS written, the filter (fake-host unit tests) -----------------------------
def test_a_prescaler_written_counts_etrs_rising_edges_again():
    """ETPS written: its count of ETR's rising edges starts again (two of every 4th counted, then
    every 2nd: the next count after two more rising edges, not one)."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, ECE | 2 << 12)  # every 4th
    dev.write(CR1, 4, 1)
    pulses(dev, host, 2, 100)
    host.exceptions.now = 150
    dev.write(SMCR, 4, ECE | 1 << 12)  # every 2nd
    drive(dev, host, 1, 200)
    drive(dev, host, 0, 210)
    assert dev.read(CNT, 4) == 0
    drive(dev, host, 1, 220)
    assert dev.read(CNT, 4) == 1


def test_a_prescaler_written_while_etr_is_high_takes_etrp_low():
    """Gated by ETRF (TS 111): ETR high, the count goes on; ETPS written makes ETRP low (its
    rising edges are the prescaler's), the count stands; ETPS cleared with ETR still high, ETRP
    is ETR again: the count goes on at once."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, 7 << 4 | 5)
    dev.write(CR1, 4, 1)
    drive(dev, host, 1, 100)
    host.exceptions.now = 200
    dev.write(SMCR, 4, 7 << 4 | 5 | 1 << 12)
    host.exceptions.now = 300
    assert dev.read(CNT, 4) == 100
    dev.write(SMCR, 4, 7 << 4 | 5)
    host.exceptions.now = 350
    assert dev.read(CNT, 4) == 150


def test_the_gate_on_etrf_opens_and_closes_after_the_filter():
    """Gated by ETRF with ETF 3 (8 samples at f_CK_INT): ETR high from 100 to 200 counts from 108
    to 208 (TRGI is ETRF, not ETRP)."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, 3 << 8 | 7 << 4 | 5)
    dev.write(CR1, 4, 1)
    drive(dev, host, 1, 100)
    host.exceptions.now = 107
    assert dev.read(CNT, 4) == 0
    drive(dev, host, 0, 200)
    host.exceptions.now = 300
    assert dev.read(CNT, 4) == 100


def test_etr_edges_that_leave_etrp_as_it_is_do_not_restart_its_filter():
    """ETPS 1 (every 2nd rising edge) and ETF 3 (8 cycles), gated by ETRF: ETRP rises at 104 (the
    2nd rising edge) and falls at 200; the pulse at 202-204 (the prescaler's first of two)
    leaves ETRP low: ETRF falls at 208, the count ran 112 to 208."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, 1 << 12 | 3 << 8 | 7 << 4 | 5)
    dev.write(CR1, 4, 1)
    for at, level in ((100, 1), (102, 0), (104, 1), (200, 0), (202, 1), (204, 0)):
        drive(dev, host, level, at)
    host.exceptions.now = 300
    assert dev.read(CNT, 4) == 96


def test_etr_high_before_the_first_write_is_etrs_level():
    """ETR's pin high from the start (the first write takes the levels, no edge): gated by ETRF
    the count goes on until the pin falls, then stands."""
    dev, host = etr_timer()
    host.port.etr = 1
    dev.write(SMCR, 4, 7 << 4 | 5)
    dev.write(CR1, 4, 1)
    drive(dev, host, 0, 100)
    host.exceptions.now = 200
    assert dev.read(CNT, 4) == 100


def test_an_etr_edge_the_clock_stop_cut_short_comes_when_the_clock_is_back():
    """ETF 3: an ETR edge still in the filter when the timer's clock stops is gone; ETRP that
    differs from ETRF when the clock is back is an edge then (through the filter again)."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, ECE | 3 << 8)
    dev.write(CR1, 4, 1)
    drive(dev, host, 1, 300)
    assert host.exceptions.due == 308
    clock_gap(dev, host, 400)
    assert host.exceptions.due == 408
    host.exceptions.now = 408
    host.exceptions.action()
    assert dev.read(CNT, 4) == 1


# --- external clock mode 2 with the slave modes -----------------------------------------------
def test_external_clock_mode_2_counting_down():
    """ECE with CR1.DIR: each ETR edge a count down, from 0 to ARR an update event."""
    dev, host = etr_timer()
    dev.write(ARR, 4, 9)
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1 | DIR)
    drive(dev, host, 1, 100)
    assert dev.read(CNT, 4) == 9 and dev.read(SR, 4) & 1
    drive(dev, host, 0, 110)
    drive(dev, host, 1, 120)
    assert dev.read(CNT, 4) == 8


def test_external_clock_mode_2_with_the_reset_mode_on_ti1():
    """ECE with the reset mode on TI1FP1: ETR's edges count; TI1's rise resets the count (TIF,
    and UIF: the reset's update event)."""
    dev, host = etr_timer()
    dev.write(CCMR1, 4, 1)  # CC1S: TI1
    dev.write(SMCR, 4, ECE | 5 << 4 | 4)
    dev.write(CR1, 4, 1)
    pulses(dev, host, 3, 100)
    assert dev.read(CNT, 4) == 3
    host.port.level = 1
    dev.inputs_changed(200)
    assert dev.read(CNT, 4) == 0 and dev.read(SR, 4) & (TIF | 1) == TIF | 1
    drive(dev, host, 1, 300)
    assert dev.read(CNT, 4) == 1 and host.listed == []


def test_external_clock_mode_2_gated_by_ti1_drives_trgo_enable():
    """ECE gated by TI1FP1, CR2.MMS enable: TRGO is CNT_EN, CEN while the gate is open."""
    dev, host = etr_timer()
    dev.write(CR2, 4, 1 << 4)
    dev.write(CCMR1, 4, 1)
    dev.write(SMCR, 4, ECE | 5 << 4 | 5)
    dev.write(CR1, 4, 1)
    assert dev.trgo_level() == 0
    host.port.level = 1
    dev.inputs_changed(100)
    assert dev.trgo_level() == 1 and dev.read(SR, 4) & TIF


def test_external_clock_modes_1_and_2_together_count_etrf():
    """ECE with external clock mode 1 on TI1FP1: the clock is ETRF (RM0377), TI1's rising edge
    is no count."""
    dev, host = etr_timer()
    dev.write(CCMR1, 4, 1)
    dev.write(SMCR, 4, ECE | 5 << 4 | 7)
    dev.write(CR1, 4, 1)
    host.port.level = 1
    dev.inputs_changed(100)
    assert dev.read(CNT, 4) == 0
    drive(dev, host, 1, 200)
    assert dev.read(CNT, 4) == 1


def test_an_encoder_mode_takes_no_trigger_from_etrf():
    """Encoder mode 3 with TS 111: ETR's rise neither resets the count nor sets TIF."""
    dev, host = etr_timer()
    dev.write(CCMR1, 4, 1 | 1 << 8)
    dev.write(SMCR, 4, 7 << 4 | 3)
    dev.write(CR1, 4, 1)
    dev.write(CNT, 4, 5)
    drive(dev, host, 1, 100)
    assert dev.read(CNT, 4) == 5 and not dev.read(SR, 4) & TIF and host.listed == []


def test_external_clock_mode_2_gated_by_another_timer():
    """TIM22 in external clock mode 2 gated by ITR0 (TIM21's TRGO, MMS enable): ETR's edges count
    only while TIM21 runs."""
    tim21, tim22, host = two_timers()
    tim21.write(CR2, 4, 1 << 4)
    tim22.write(SMCR, 4, ECE | 0 << 4 | 5)
    tim22.write(CR1, 4, 1)
    pulses(tim22, host, 2, 100)
    assert tim22.read(CNT, 4) == 0
    host.exceptions.now = 200
    tim21.write(CR1, 4, 1)
    pulses(tim22, host, 3, 300)
    assert tim22.read(CNT, 4) == 3 and host.listed == []


def test_a_late_gate_edge_adds_no_clock_counts_in_external_clock_mode_2():
    """ECE gated by ITR0: a gate's rise taken after the timer came to the present (``at`` before
    it, as a master's TRGO edge can come) does not count the clock's cycles since: ETR's edges
    are the count."""
    dev, host = etr_timer()
    dev.write(SMCR, 4, ECE | 0 << 4 | 5)
    dev.write(CR1, 4, 1)
    host.exceptions.now = 200
    assert dev.read(CNT, 4) == 0
    dev.itr_changed(150, RISING)
    assert dev.read(CNT, 4) == 0
    drive(dev, host, 1, 210)
    assert dev.read(CNT, 4) == 1


# --- OCREF_CLR ---------------------------------------------------------------------------------
def test_the_hold_over_periods_nothing_sees_one_by_one():
    """No pin, no interrupt (the periods taken at once): ETRF high through five updates keeps
    OC1REF low; with UDIS (no update event), ETRF low, it stays low over five more; UDIS
    cleared, the next update lets it go."""
    dev, host = pwm_timer()
    drive(dev, host, 1, 3)
    assert output_at(dev, host, 52) == 0  # (the count 2: the PWM's own level high)
    drive(dev, host, 0, 53)
    dev.write(CR1, 4, 1 | UDIS)
    assert output_at(dev, host, 101) == 0
    dev.write(CR1, 4, 1)
    assert output_at(dev, host, 111) == 1


class ShowingEtrPort(EtrPort):
    """EtrPort with channel 1's output on a pin whose EXTI line wakes the core: each change the
    timer tells it, (cycle, output)."""

    def __init__(self) -> None:
        super().__init__()
        self.dev: Stm32l0Tim21 | None = None
        self.changes: list[tuple[int, int | None]] = []

    def shows(self, timer: str, channel: int) -> bool:
        return channel == 1

    def wakes_on(self, timer: str, channel: int) -> bool:
        return channel == 1

    def af_changed(self, at: int) -> None:
        assert self.dev is not None
        self.changes.append((at, self.dev.output(1)))


class WakingTimers(FakeTimers):
    """FakeTimers keeping whether the last event planned wakes the core."""

    wakes = True

    def set_timer(self, owner, when, action, wakes=True) -> None:  # type: ignore[no-untyped-def]
        super().set_timer(owner, when, action, wakes)
        self.wakes = wakes


def test_a_held_output_that_never_changes_by_itself_is_let_go_at_its_update():
    """PWM mode 1 at 100% (CCR1 past ARR: no edge of its own, nothing planned) on a pin whose
    EXTI line wakes the core: ETRF's pulse cuts it; the update that ends the hold is planned
    (waking the core) and the pin rises at its cycle; held with UDIS nothing is planned."""
    host = PortHost()
    host.exceptions = WakingTimers()
    port = host.port = ShowingEtrPort()
    dev = Stm32l0Tim21(host)  # type: ignore[arg-type]
    dev.reset()
    port.dev = dev
    dev.write(ARR, 4, 9)
    dev.write(CCR1, 4, 20)
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1)
    assert dev.output(1) == 1 and host.exceptions.due is None
    drive(dev, host, 1, 3)
    drive(dev, host, 0, 4)
    assert dev.output(1) == 0 and port.changes[-1] == (3, 0)
    assert host.exceptions.due == 10 and host.exceptions.wakes
    host.exceptions.now = 12
    host.exceptions.action()
    assert port.changes[-1] == (10, 1) and host.exceptions.due is None
    drive(dev, host, 1, 13)
    drive(dev, host, 0, 14)
    assert host.exceptions.due == 20
    dev.write(CR1, 4, 1 | UDIS)
    assert dev.output(1) == 0 and host.exceptions.due is None


def test_trgo_oc1ref_chosen_while_the_clear_holds_is_low():
    """CR2.MMS OC1REF written while OCREF_CLR holds OC1REF (the PWM's own level high): TRGO is
    low from the write, no edge (TIM22, gated by it, sees none: no TIF); it rises when the
    update of 10 lets OC1REF go (TIM22 counts from there, TIF)."""
    tim21, tim22, host = two_timers()
    tim22.write(SMCR, 4, 5 | 0 << 4)  # gated by ITR0: TIM21's TRGO
    tim22.write(CR1, 4, 1)
    tim21.write(ARR, 4, 9)
    tim21.write(CCR1, 4, 5)
    tim21.write(CCMR1, 4, PWM1 << 4 | OCCE)
    tim21.write(CR1, 4, 1)
    drive(tim21, host, 1, 2)
    host.exceptions.now = 3
    tim21.write(CR2, 4, 4 << 4)
    assert tim21.trgo_level() == 0 and not tim22.read(SR, 4) & TIF
    drive(tim21, host, 0, 4)
    host.exceptions.now = 11
    tim21.read(CNT, 4)
    assert tim21.trgo_level() == 1 and tim22.read(CNT, 4) == 1 and tim22.read(SR, 4) & TIF


def test_oc3ce_written_while_etrf_is_high_clears_at_once():
    """TIM2, channel 3 in PWM mode 1 (CCMR2): OC3CE written while ETR is high clears OC3REF at
    once."""
    dev, host = etr_timer(Stm32l0Tim2)
    dev.write(ARR, 4, 9)
    dev.write(CCR3, 4, 5)
    dev.write(CCMR2, 4, PWM1 << 4)
    dev.write(CCER, 4, 1 << 8)
    dev.write(CR1, 4, 1)
    drive(dev, host, 1, 2)
    assert dev.output(3) == 1
    host.exceptions.now = 3
    dev.write(CCMR2, 4, PWM1 << 4 | OCCE)
    assert dev.output(3) == 0


# --- ETR from a comparator, the LSE; the pins ---------------------------------------------------
@pytest.mark.parametrize("kind, value, comp", [
    (Stm32l0Tim2, 6, 1), (Stm32l0Tim2, 7, 0), (Stm32l0Tim21, 1, 1), (Stm32l0Tim21, 2, 0),
    (Stm32l0Tim22, 1, 1), (Stm32l0Tim22, 2, 0),
])
@pytest.mark.parametrize("high", [True, False])
def test_etr_from_a_comparator_already_high_is_an_edge_at_the_or_write(kind, value, comp,
                                                                        high):
    """OR's ETR_RMP (STM32CubeL0's TIMx_ETR_RMP_COMP1/COMP2 codes) takes ETR from that
    comparator: high when OR is written, a rising edge of ETR then (a count in external clock
    mode 2); the other comparator high, none."""
    host = PortHost()
    host.port = EtrPort()
    syscfg = SimpleNamespace(comparators=SimpleNamespace(
        out=[int(high) if n == comp else int(not high) for n in range(2)]))
    host.device = lambda name: (host.port if name == "stm32l0_gpioa" else syscfg
                                if name == "stm32l0_syscfg" else None)  # type: ignore[method-assign]
    dev = kind(host)  # type: ignore[arg-type]
    dev.reset()
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    host.exceptions.now = 10
    dev.write(OR, 4, value)
    assert dev.read(CNT, 4) == int(high) and host.listed == []


def test_the_etr_pins_are_the_datasheets():
    """TIMx_ETR's alternate functions (the STM32L031x4/6 datasheet): TIM2 PA0 AF5, PA5 and PA15
    AF2; TIM21 PA1 AF5; TIM22 PA4 AF5."""
    found = {(port, pin, af): timer for (port, pin), functions in TIMER_PINS.items()
             for af, (timer, channel) in functions.items() if channel == ETR}
    assert found == {("A", 0, 5): "stm32l0_tim2", ("A", 5, 2): "stm32l0_tim2",
                     ("A", 15, 2): "stm32l0_tim2", ("A", 1, 5): "stm32l0_tim21",
                     ("A", 4, 5): "stm32l0_tim22"}


class LseRcc:
    """Just enough RCC for a timer: its clock on, not in reset, the LSE running."""

    stopped = standby = False

    def read(self, offset: int, size: int) -> int:
        return LSERDY if offset == RCC_CSR else 0xFFFF_FFFF if offset in (APB1ENR,
                                                                          APB2ENR) else 0

    def timer_divider(self, bus: int) -> int:
        return 1


def lse_timer(kind=Stm32l0Tim21):
    """A timer whose RCC runs the LSE, the core at 20 x 32,768 Hz: the LSE's edges every 10
    cycles once OR takes it (rising at 10, 30, 50 ... after the write at 0)."""
    dev, host = etr_timer(kind)
    host.clock_hz = 20 * 32_768
    dev._rcc = LseRcc()  # type: ignore[assignment]
    dev._clocked = None
    return dev, host


def cnt_at(dev, host, at: int) -> int:
    host.exceptions.now = at
    return dev.read(CNT, 4)


@pytest.mark.parametrize("kind, value", [(Stm32l0Tim2, 5), (Stm32l0Tim21, 3),
                                         (Stm32l0Tim22, 3)])
def test_external_clock_mode_2_from_the_lse_half_a_period_in(kind, value):
    """ETR_RMP LSE: the first rising edge half a period after OR's write, each one a count."""
    dev, host = lse_timer(kind)
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, value)
    assert cnt_at(dev, host, 9) == 0
    assert cnt_at(dev, host, 10) == 1
    assert cnt_at(dev, host, 49) == 2 and host.listed == []


def test_the_lse_through_etps():
    """ETR from the LSE with ETPS 1: every 2nd rising edge a count (30, 70)."""
    dev, host = lse_timer()
    dev.write(SMCR, 4, ECE | 1 << 12)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 3)
    assert cnt_at(dev, host, 75) == 2


def test_the_lse_through_etp_plans_its_falling_edges():
    """ETR from the LSE with ETP: the falling edges count (20, 40 ...); ARR 1: the update (the
    only edge planned, the others counted at once) and its interrupt at 40."""
    dev, host = lse_timer()
    dev.write(ARR, 4, 1)
    dev.write(SMCR, 4, ECE | ETP)
    dev.write(DIER, 4, 1)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 3)
    assert host.exceptions.due == 40
    assert cnt_at(dev, host, 19) == 0 and cnt_at(dev, host, 20) == 1
    host.exceptions.now = 40
    host.exceptions.action()
    assert dev.read(SR, 4) & 1 and host.lines.get(dev.irq)


def test_the_lse_on_etr_resets_the_count_with_ts_111():
    """TIM2, ETR from the LSE, the reset mode on ETRF (TS 111): each rising edge restarts the
    count (the last at 30: 5 at 35) and sets TIF."""
    dev, host = lse_timer(Stm32l0Tim2)
    dev.write(SMCR, 4, 7 << 4 | 4)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 5)
    assert cnt_at(dev, host, 35) == 5 and dev.read(SR, 4) & TIF


def test_the_lse_on_etr_clears_ocref():
    """TIM21, ETR from the LSE, OC1CE and nothing else taking ETRF: OC1REF is cut at the LSE's
    first rise (10)."""
    dev, host = lse_timer()
    dev.write(ARR, 4, 99)
    dev.write(CCR1, 4, 50)
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 3)
    assert output_at(dev, host, 5) == 1
    assert output_at(dev, host, 15) == 0


def test_the_lse_inverted_nobody_taking_it_is_etrf_once_oc1ce_takes_it():
    """ETR from the LSE with ETP, nothing taking ETRF (ETRF just follows the LSE, inverted):
    OC1CE written while the LSE is low (ETRF high) clears OC1REF at once."""
    dev, host = lse_timer()
    dev.write(ARR, 4, 99)
    dev.write(CCR1, 4, 50)
    dev.write(CCMR1, 4, PWM1 << 4)
    dev.write(CCER, 4, 1)
    dev.write(SMCR, 4, ETP)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 3)
    host.exceptions.now = 25  # (the LSE low from 20 to 30)
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)
    assert dev.output(1) == 0


def test_tim21s_lse_from_ti1_to_etr():
    """TIM21's OR from TI1_RMP LSE to ETR_RMP LSE (one oscillator at a time): the LSE's edges
    go to ETR from the write on (rising at 110, 130, 150)."""
    dev, host = lse_timer()
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 4 << 2)
    host.exceptions.now = 100
    dev.write(OR, 4, 3)
    assert cnt_at(dev, host, 155) == 3


def test_etr_from_its_pin_high_to_the_lse():
    """ETR high on its pin (a count), then from the LSE (low from the write, rising at 110, 130,
    150): three more counts."""
    dev, host = lse_timer()
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    drive(dev, host, 1, 50)
    assert dev.read(CNT, 4) == 1
    host.exceptions.now = 100
    dev.write(OR, 4, 3)
    assert cnt_at(dev, host, 155) == 4


def test_etr_switched_to_the_lse_is_low_through_etp_and_an_edge():
    """OR taking ETR from the LSE (low from the write): ETRF is that level through ETP, and a
    change is an edge. Gated by ETRF with ETP (TS 111): counting while the LSE is low (0-10,
    20-30); without ETP, a gate open from the pin closes at the switch with TIF."""
    dev, host = lse_timer()
    dev.write(SMCR, 4, ETP | 7 << 4 | 5)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 3)
    assert [cnt_at(dev, host, t) for t in (10, 20, 30)] == [10, 10, 20]
    dev, host = lse_timer()
    dev.write(SMCR, 4, 7 << 4 | 5)
    dev.write(CR1, 4, 1)
    drive(dev, host, 1, 5)
    host.exceptions.now = 8
    dev.write(SR, 4, 0)
    dev.write(OR, 4, 3)
    assert cnt_at(dev, host, 9) == 3 and dev.read(SR, 4) & TIF



def test_pin_edges_on_an_unused_channel_leave_the_lse_count_alone(firmware, cli, tmp_path):
    """TIM2 counting the LSE in bulk while PA1 (TIM2_CH2's pin, unused) toggles at 1 kHz: each
    pin edge brings the timer up to date without taking the LSE's level from before (review 2's
    H1: 3,377 counts for 3,277); the LSE's 3,276 or 3,277 rising edges in 100 ms either way."""
    rows = [f"{k / 2000:.6f},{k % 2}" for k in range(1, 240)]
    pa1 = tmp_path / "pa1.csv"
    pa1.write_text("\n".join(rows) + "\n")
    counts = []
    for pins in ((), ("--pin", f"PA1={pa1}")):
        res = cli("run", etr(firmware, "lse_pin"), *pins, "--strict-peripherals", *LIMIT)
        assert res.returncode == 0, res.report
        counts.append(int(res.report["stdout"].split()[1]))
    assert counts[0] == counts[1] and 3276 <= counts[0] <= 3278, counts


def test_ece_toggled_with_etps_changed_goes_on_counting(firmware, cli):
    """ECE cleared, ETPS written 0, ECE set again, as the LL's DisableExternalClock,
    ConfigETR and EnableExternalClock do: the ETPS progress starts again and the next event's
    edge is never in the past (review 2's H2: the run hung, the timer planned for a past cycle
    again and again)."""
    res = cli("run", etr(firmware, "retoggle"), "--strict-peripherals", "--timeout", "60",
              *LIMIT)
    assert res.returncode == 0, res.report
    assert res.report["stdout"] == "updates 3\n"


def test_a_filtered_capture_is_taken_before_the_lses_later_edges():
    """A capture whose filter passes its edge at 33 (TI1 rising at 25, IC1F 3), the timer
    caught up late (52: the LSE rose again at 50): the capture gets the count at 33 (2), in
    bulk as edge by edge (review 2's M1)."""
    for bulk in (True, False):
        assert filtered_capture(bulk, 25) == (2, 3), bulk


def filtered_capture(bulk: bool, rise: int) -> tuple[int, int]:
    """TIM21 counting the LSE (rising at 10, 30, 50 ...) in bulk or (an unused channel's OC2CE)
    edge by edge, capturing TI1 through IC1F 3 (8 cycles); TI1 rises at ``rise``, the timer is
    caught up late, at 52: (CCR1, CNT)."""
    dev, host = lse_timer(Stm32l0Tim21)
    dev.write(ARR, 4, 1000)
    dev.write(CCMR1, 4, 1 | 3 << 4 | (0 if bulk else OCCE << 8))
    dev.write(CCER, 4, 1)
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 3)
    host.exceptions.now = rise
    host.port.level = 1
    dev.inputs_changed(rise)
    host.exceptions.now = 52
    host.exceptions.action()
    return dev.read(CCR1, 4), dev.read(CNT, 4)


def test_one_smcr_write_sends_trgos_edge_once():
    """An SMCR write whose ETP makes ETRP rise: a count, OC1REF toggles, TRGO (MMS OC1REF)
    rises once; TIM22 counting its rising edges counts 1 (review 2's L1: 2)."""
    tim21, tim22, host = two_timers()
    tim21.write(CR2, 4, 4 << 4)
    tim21.write(ARR, 4, 100)
    tim21.write(CCR1, 4, 1)
    tim21.write(CCMR1, 4, 3 << 4)  # toggle
    tim21.write(SMCR, 4, ECE)
    tim21.write(CR1, 4, 1)
    tim22.write(SMCR, 4, 0 << 4 | 7)
    tim22.write(CR1, 4, 1)
    host.exceptions.now = 100
    tim21.write(SMCR, 4, ECE | ETP)
    assert tim21.read(CNT, 4) == 1 and tim22.read(CNT, 4) == 1


def test_an_lse_clocked_pwm_on_a_waking_pin_plans_waking_events():
    """External clock mode 2 from the LSE, no interrupt: channel 1's PWM on a pin whose EXTI
    line wakes the core; its edges come only at the LSE's edges that are the count's events,
    planned as waking (review 2's L2: not waking, so a WFI for the pin's interrupt was taken
    for a deadlock)."""
    host = PortHost()
    host.exceptions = WakingTimers()
    host.clock_hz = 20 * 32_768
    port = host.port = ShowingEtrPort()
    dev = Stm32l0Tim21(host)  # type: ignore[arg-type]
    dev.reset()
    dev._rcc = LseRcc()  # type: ignore[assignment]
    dev._clocked = None
    port.dev = dev
    dev.write(ARR, 4, 9)
    dev.write(CCR1, 4, 5)
    dev.write(CCMR1, 4, PWM1 << 4)
    dev.write(CCER, 4, 1)
    dev.write(SMCR, 4, ECE)
    dev.write(CR1, 4, 1)
    dev.write(OR, 4, 3)
    assert host.exceptions.due is not None and host.exceptions.wakes


class FakeAdc:
    """An ADC waiting for ``waiting`` (a timer's signal), keeping the edges it gets."""

    def __init__(self) -> None:
        self.waiting: str | None = None
        self.got: list[tuple[str, int, int]] = []

    def waiting_for(self) -> str | None:
        return self.waiting

    def trigger(self, source: str, at: int, edge: int) -> None:
        self.got.append((source, at, edge))


def test_the_adc_starting_to_wait_takes_trgos_oc1ref_as_it_is():
    """TRGO as OC1REF (toggling at 5, 15, 25 ...) with nothing taking it; the ADC starts
    waiting for it at 20 (the timer's restart): the rise at 25 and the fall at 35 both reach it
    (review 2's M2: the level kept from before, the rise was lost)."""
    dev, host = etr_timer(Stm32l0Tim22)
    adc = FakeAdc()
    port = host.port
    host.device = lambda name: (adc if name == "stm32l0_adc"  # type: ignore[method-assign]
                                else port if name == "stm32l0_gpioa" else None)
    dev.write(ARR, 4, 9)
    dev.write(CCR1, 4, 5)
    dev.write(CCMR1, 4, 3 << 4)  # toggle
    dev.write(CR2, 4, 4 << 4)  # MMS OC1REF
    dev.write(CR1, 4, 1)
    host.exceptions.now = 10
    dev.write(DIER, 4, 0)
    host.exceptions.now = 20
    dev.read(CNT, 4)
    adc.waiting = "stm32l0_tim22 TRGO"
    dev.settle()
    dev.restart()
    while host.exceptions.due is not None and host.exceptions.due <= 40:
        host.exceptions.now = host.exceptions.due
        host.exceptions.action()
    assert [(at, edge) for _, at, edge in adc.got] == [(25, RISING), (35, 2)]


def test_a_slave_linked_mid_period_takes_oc1refs_level_now():
    """MMS OC1REF with nothing taking TRGO: its edges are not followed one by one, but a
    slave linked mid-period (TIM22 gated by ITR0) takes OC1REF as it is then (low past CCR1
    5), not as it was: it does not count."""
    tim21, tim22, host = two_timers()
    tim21.write(ARR, 4, 9)
    tim21.write(CCR1, 4, 5)
    tim21.write(CCMR1, 4, PWM1 << 4)
    tim21.write(CR2, 4, 4 << 4)  # MMS: OC1REF
    tim21.write(CR1, 4, 1)
    host.exceptions.now = 7
    tim22.write(SMCR, 4, 0 << 4 | 5)  # gated by ITR0 (TIM21's TRGO)
    tim22.write(CR1, 4, 1)
    host.exceptions.now = 10  # (OC1REF rises again at the update of 10)
    assert tim22.read(CNT, 4) == 0


# --- review 4: what the fixes of review 2 left without a test -----------------------------------
def lse_counter(edge_by_edge: bool, smcr: int, psc: int = 0):
    """TIM21 counting the LSE on ETR (rising at 10, 30, 50 ... once the caller writes OR), ARR
    1000, PSC ``psc``, SMCR ``smcr``, CEN; with ``edge_by_edge`` each edge an event (OC2CE:
    ETRF also clears an unused output), else the edges that are no event counted at once."""
    dev, host = lse_timer()
    dev.write(PSC, 4, psc)
    dev.write(EGR, 4, 1)  # (PSC in effect)
    dev.write(ARR, 4, 1000)
    if edge_by_edge:
        dev.write(CCMR1, 4, OCCE << 8)
    dev.write(SMCR, 4, smcr)
    dev.write(CR1, 4, 1)
    return dev, host


@pytest.mark.parametrize("edge_by_edge", [False, True])
def test_etps_written_while_nothing_takes_the_lse_starts_its_count_again(edge_by_edge):
    """ETPS /2 with one of the LSE's rising edges counted towards the next ETRP edge; ECE
    cleared, ETPS /4 written, ECE set again (the LL's DisableExternalClock, ConfigETR,
    EnableExternalClock): ETPS's count starts again, so the 4th rising edge after it (90)
    makes the next count, not the 3rd (70)."""
    dev, host = lse_counter(edge_by_edge, ECE | 1 << 12)
    dev.write(OR, 4, 3)
    assert cnt_at(dev, host, 15) == 0  # (the rising edge at 10: one of two)
    dev.write(SMCR, 4, 1 << 12)
    dev.write(SMCR, 4, 2 << 12)
    dev.write(SMCR, 4, ECE | 2 << 12)
    assert [cnt_at(dev, host, t) for t in (89, 90)] == [0, 1]


@pytest.mark.parametrize("edge_by_edge", [False, True])
def test_ece_set_again_starts_the_prescalers_count_of_etrf_pulses(edge_by_edge):
    """PSC 3 (4 ETRF pulses a count) with two of the LSE's rising edges (10, 30) in the
    prescaler; ECE cleared and set again: 4 more rising edges (50 ... 110) make the next count,
    not 2 (70)."""
    dev, host = lse_counter(edge_by_edge, ECE, psc=3)
    dev.write(OR, 4, 3)
    host.exceptions.now = 35
    dev.write(SMCR, 4, 0)
    dev.write(SMCR, 4, ECE)
    assert [cnt_at(dev, host, t) for t in (109, 110)] == [0, 1]


def test_a_filtered_capture_at_the_cycle_of_an_lse_edge_comes_first():
    """A capture whose filter passes its edge at 30 (TI1 rising at 22, IC1F 3), the cycle of
    the LSE's second rising edge, the timer caught up late (52): the filtered edge is taken
    first (CCR1 1, the count before that LSE edge), in bulk as edge by edge."""
    for bulk in (True, False):
        assert filtered_capture(bulk, 22) == (1, 3), bulk


def test_etf_cleared_with_an_etr_edge_in_the_filter_counts_as_edge_by_edge():
    """ETF 4 (12 cycles here: the LSE's 10-cycle pulses never pass) cleared at 15, while the
    rise of 10 is in the filter: the LSE's edges are counted as edge by edge would count them
    (none at once while that edge waits), at every read."""
    counts = []
    for edge_by_edge in (False, True):
        dev, host = lse_counter(edge_by_edge, ECE | 4 << 8)
        dev.write(OR, 4, 3)
        host.exceptions.now = 15
        dev.write(SMCR, 4, ECE)
        seen = []
        for t in (20, 30, 40, 60, 100):
            while host.exceptions.due is not None and host.exceptions.due <= t:
                host.exceptions.now = host.exceptions.due
                host.exceptions.action()
            seen.append(cnt_at(dev, host, t))
        counts.append(seen)
    assert counts[0] == counts[1]


def test_a_write_that_sends_no_trgo_edge_sends_none_after_an_earlier_one():
    """TIM21's TRGO (MMS enable) rises with CEN (a CR1 write's edge), falls when CR2 takes
    OC1REF (low); TIM22 gated by it takes both (TIF). An SMCR write of TIM21 that changes
    nothing for TRGO then sends no edge (an edge kept from an earlier write is not this one's)."""
    tim21, tim22, host = two_timers()
    tim21.write(ARR, 4, 100)
    tim21.write(CR2, 4, 1 << 4)  # MMS enable
    tim22.write(SMCR, 4, 0 << 4 | 5)  # gated by ITR0 (TIM21's TRGO)
    tim22.write(CR1, 4, 1)
    host.exceptions.now = 10
    tim21.write(CR1, 4, 1)  # CEN: TRGO rises, the gate opens
    host.exceptions.now = 20
    tim21.write(CR2, 4, 4 << 4)  # MMS OC1REF (frozen: low): TRGO falls, the gate closes
    assert tim22.read(CNT, 4) == 10 and tim22.read(SR, 4) & TIF
    tim22.write(SR, 4, 0)
    host.exceptions.now = 30
    tim21.write(SMCR, 4, 3 << 8)  # ETF: nothing for TRGO
    assert tim22.read(CNT, 4) == 10 and not tim22.read(SR, 4) & TIF


def test_the_bulk_counts_next_event_is_never_in_the_past():
    """(White-box: a state the resets of ECE's and ETPS's changes no longer leave.) ETPS's
    count past its divider or PSC's past PSC, two counts before the update: the next event's
    edge is the LSE's next one, not one already gone (review 2's H2: the timer planned for a
    past cycle again and again)."""
    dev, host = lse_counter(False, ECE)
    dev.write(OR, 4, 3)
    host.exceptions.now = 35
    dev.write(CNT, 4, 999)
    for attr, value in (("_etr_edges", 5), ("_pulses", 3)):
        saved = getattr(dev, attr)
        setattr(dev, attr, value)
        assert dev._etr_event_edge() > dev._osc_seen, attr
        setattr(dev, attr, saved)


class WritingDma:
    """DMA1 serving TIM2's CC1 request by writing 7 to TIM2's ``offset`` (a table into a CCR,
    as a PWM's DMA does)."""

    active = True

    def __init__(self, timer, offset: int) -> None:
        self.timer, self.offset = timer, offset

    def serves(self, device: str, line: str) -> bool:
        return True

    def service(self) -> None:
        if self.timer.dma_request("ch1"):
            self.timer.dma_served("ch1", self.timer.base + self.offset)
            self.timer.write(self.offset, 4, 7)


def test_a_dma_write_inside_an_smcr_write_keeps_trgos_edge_single():
    """The SMCR write's ETP makes ETRP rise: a count, OC1REF toggles up (TRGO's rise) and CC1's
    DMA request is served at once, writing TIM2's CCR2 inside the SMCR write: TIM21 counting
    TRGO's rises counts 1 (review 4: the inner write forgot the edge sent, 2)."""
    host = PortHost()
    host.port = EtrPort()
    tim2 = Stm32l0Tim2(host)  # type: ignore[arg-type]
    tim21 = Stm32l0Tim21(host)  # type: ignore[arg-type]
    dma = WritingDma(tim2, CCR1 + 4)
    devices = {"stm32l0_tim2": tim2, "stm32l0_tim21": tim21, "stm32l0_dma": dma}
    host.device = lambda name: devices.get(name, host.port if name == "stm32l0_gpioa"  # type: ignore[method-assign]
                                           else None)
    for dev in (tim2, tim21):
        dev.reset()
    tim2.write(CR2, 4, 4 << 4)  # MMS OC1REF
    tim2.write(ARR, 4, 100)
    tim2.write(CCR1, 4, 1)
    tim2.write(CCMR1, 4, 3 << 4)  # toggle
    tim2.write(DIER, 4, 1 << 9)  # CC1DE
    tim2.write(SMCR, 4, ECE)
    tim2.write(CR1, 4, 1)
    tim21.write(SMCR, 4, 0 << 4 | 7)  # external clock mode 1 on ITR0 (TIM2's TRGO)
    tim21.write(CR1, 4, 1)
    host.exceptions.now = 100
    tim2.write(SMCR, 4, ECE | ETP)
    assert tim2.read(CNT, 4) == 1 and tim2.read(CCR1 + 4, 4) == 7
    assert tim21.read(CNT, 4) == 1


class SwitchRcc:
    """An RCC whose clock enables are all on or all off (``enabled``)."""

    stopped = standby = False
    enabled = True

    def read(self, offset: int, size: int) -> int:
        return (0xFFFF_FFFF if self.enabled else 0) if offset in (APB1ENR, APB2ENR) else 0

    def timer_divider(self, bus: int) -> int:
        return 1


def test_the_clock_back_sends_trgos_edge_once():
    """ETR's pin rises while TIM21 has no clock: when it is back the level that differs is an
    edge (a count, OC1REF toggles up); TIM22 counting TRGO's rises counts 1 (review 4: the RCC
    change sent it again, 2)."""
    tim21, tim22, host = two_timers()
    rcc = SwitchRcc()
    tim21._rcc = rcc  # type: ignore[assignment]
    tim21._clocked = None
    tim21.write(CR2, 4, 4 << 4)
    tim21.write(ARR, 4, 100)
    tim21.write(CCR1, 4, 1)
    tim21.write(CCMR1, 4, 3 << 4)
    tim21.write(SMCR, 4, ECE)
    tim21.write(CR1, 4, 1)
    tim22.write(SMCR, 4, 0 << 4 | 7)
    tim22.write(CR1, 4, 1)
    for on, at in ((False, 100), (True, 200)):
        host.exceptions.now = at
        tim21.settle()
        rcc.enabled = on
        tim21.rcc_changed()
        if not on:
            host.exceptions.now = 150
            host.port.etr = 1
            tim21.inputs_changed(150)
    host.exceptions.now = 210
    assert tim21.read(CNT, 4) == 1 and tim22.read(CNT, 4) == 1

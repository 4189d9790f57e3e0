"""The STM32L0 timers' external trigger ETR (sim/devices/stm32l0_tim.py): external clock mode 2
(SMCR.ECE) from a pin or the LSE, ETRF as the slave mode's trigger (TS 111), and OCREF_CLR
(CCMRx.OCxCE) from a pin or a comparator, as STM32CubeL0's COMP_PWMSignalControl uses it;
from tests/programs/irq/etr.c, and the registers one by one."""

import re
from itertools import pairwise

import pytest

from sim.devices.stm32l0_tim import (
    ARR,
    CCER,
    CCMR1,
    CCR1,
    CNT,
    CR1,
    CR2,
    ECE,
    EGR,
    ETP,
    OCCE,
    OR,
    PWM1,
    SMCR,
    SR,
    Stm32l0Tim2,
    Stm32l0Tim21,
    Stm32l0Tim22,
)
from tests.test_exceptions import irq_program
from tests.test_stm32l0_tim import FakePort, PortHost, vcd_edges

LIMIT = ("--max-instructions", "5000000")
MS = 32_000  # core cycles in a millisecond (the stm32l031 profile's 32 MHz)


def etr(firmware, case: str, **defines):
    return irq_program(firmware, "etr.c", "stm32l031", **{f"CASE_{case}": None}, **defines)


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
    res = cli("run", etr(firmware, "slave", SLAVE=5, EDGES=4, **({"LOW": None} if low else {})),
              "--pin", f"PA0={pa0}", "--strict-peripherals", *LIMIT)
    assert res.returncode == 0, res.report
    found = re.fullmatch(r"t (\d+) (\d+) (\d+) (\d+) cnt (\d+) tim21 (\d+)\n",
                         res.report["stdout"])
    assert found, res.report["stdout"]
    *edges, cnt, end = map(int, found.groups())
    assert [b - a for a, b in pairwise(edges)] == [300, 700, 200]
    start = edges[0] - 1000  # TIM21's count at the run's time 0 (it starts a few us in)
    if low:  # low from TIM2's start (a few us after TIM21's) to 1 ms, 1.3-2 ms, 2.2 ms on
        assert 0 < (1000 + 700 + (end - start - 2200)) - cnt < 20
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
    res = cli("run", etr(firmware, "slave", SLAVE=slave, EDGES=1 if slave == 6 else 2),
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


def drive(dev, host, level: int, at: int) -> None:
    host.exceptions.now = at
    host.port.etr = level
    dev.inputs_changed(at)


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
    for k in range(4):
        drive(dev, host, 1, 100 + 20 * k)
        drive(dev, host, 0, 110 + 20 * k)
    assert dev.read(CNT, 4) == 0
    host.port.level = 1  # TI1 high
    dev.inputs_changed(200)
    for k in range(3):
        drive(dev, host, 1, 300 + 20 * k)
        drive(dev, host, 0, 310 + 20 * k)
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
    host = PortHost()
    host.port = EtrPort()
    tim21 = Stm32l0Tim21(host)  # type: ignore[arg-type]
    tim22 = Stm32l0Tim22(host)  # type: ignore[arg-type]
    devices = {"stm32l0_tim21": tim21, "stm32l0_tim22": tim22}
    host.device = lambda name: devices.get(name, host.port if name == "stm32l0_gpioa"
                                           else None)  # type: ignore[method-assign]
    for dev in (tim21, tim22):
        dev.reset()
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
    (Stm32l0Tim21, 3, False), (Stm32l0Tim22, 1, False),
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


def lse_timer(monkeypatch, **regs: int):
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
    dev, host = lse_timer(monkeypatch, CCR1=500, CCER=1)
    dev.write(CCMR1, 4, PWM1 << 4)
    host.exceptions.now = round(10.75 * period)  # rising edges at 0.5, 1.5 ... 10.5 periods
    assert dev.read(CNT, 4) == 11
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)  # ETR high: cleared
    assert dev.output(1) == 0
    dev, host = lse_timer(monkeypatch, CCR1=500, CCER=1)
    dev.write(CCMR1, 4, PWM1 << 4)
    host.exceptions.now = round(11.25 * period)  # low
    assert dev.read(CNT, 4) == 11
    dev.write(CCMR1, 4, PWM1 << 4 | OCCE)
    assert dev.output(1) == 1

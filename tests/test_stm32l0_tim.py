"""The STM32L0's TIM2, TIM21 and TIM22 (sim/devices/stm32l0_tim.py) on the stm32l031 profile: a
vendor HAL's timer time base, one-pulse mode, preloads and the clock gate, from
tests/programs/irq/tim.c, and the registers one by one."""

import random
import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import cast

import pytest
from helpers import FakeDeviceHost

from sim.devices.stm32l0_tim import (
    ACTIVE,
    ARR,
    CCER,
    CCMR1,
    CCR1,
    CNT,
    CR1,
    CR2,
    DIER,
    EGR,
    FROZEN,
    INACTIVE,
    PSC,
    PWM1,
    PWM2,
    SMCR,
    SR,
    TI1FP1,
    TOGGLE,
    Stm32l0Tim2,
    Stm32l0Tim21,
    Stm32l0Tim22,
)
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")  # a regression fails, not hangs


def tim(firmware, case: str, **defines):
    return irq_program(firmware, "tim.c", "stm32l031", **{f"CASE_{case}": None}, **defines)


@pytest.mark.parametrize("timer, irq", [("TIM21", "IRQ20"), ("TIM2", "IRQ15")])
def test_a_hal_time_base_ticks_every_millisecond(firmware, cli, timer, irq):
    """TIM2 stands where the mps2 map has the CMSDK TIMER0: a HAL tick on it works too."""
    defines = {"TICK_TIM2": None} if timer == "TIM2" else {}
    result = cli("run", tim(firmware, "tick", TICKS=5, **defines), "--strict-peripherals",
                 *LIMIT)
    assert result.returncode == 0, result
    report = result.report
    assert report["stdout"] == "ticks 5\n"
    assert report["exceptions"]["taken"] == {irq: 5}
    # 5 periods of 32 x 1000 cycles at 32 MHz, the core asleep but for the handlers
    total = report["cycles"] + report["sleep_cycles"]
    assert 5 * 32_000 <= total < 5 * 32_000 + 2_000
    assert report["sleep_cycles"] > 4 * 32_000
    assert report["unmodelled_registers"] == []


def test_output_compare_interrupts_come_at_their_counts(firmware, cli):
    """TIM2's channels 1 and 3 (CCR 250, 750) interrupt once a period each, at their counts
    (the handler reads CNT a few cycles later); channel 2's CCR is past ARR: the count never
    reaches it, and CC2IF comes at each update ("goes high on the counter overflow"). CCR1,
    preloaded (OC1PE), takes 500 at the update after the write: the period under way still
    matches at 250, the next at 500."""
    result = cli("run", tim(firmware, "compare", PERIODS=4), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    report = result.report
    found = re.fullmatch(r"cc1 6 at (\d+)-(\d+) cc2 6 at (\d+)-(\d+) cc3 6 at (\d+)-(\d+)\n",
                         report["stdout"])
    assert found, report["stdout"]
    low1, high1, low2, high2, low3, high3 = map(int, found.groups())
    latency = low1 - 250  # the handler's entry to its read of CNT, always the same
    assert 0 < latency < 64
    assert (high1, low3, high3) == (500 + latency, 750 + latency, 750 + latency)
    assert low2 == high2 == latency  # CCR2 past ARR: CC2IF at each update, the count 0
    assert report["unmodelled_registers"] == []  # (CCER: no output is enabled)


@pytest.mark.parametrize("invert", [False, True])
def test_pwm_and_toggle_outputs_drive_their_pins(firmware, cli, invert):
    """TIM2 at 1 kHz: channel 2's PWM (CCR2 250 of 1000) on PB3 is high a quarter of each
    period (three quarters with CC2P), one rising edge a period; channel 1 toggling at CCR1 on
    PA0 changes once a period (500 Hz). Each edge at its own time: the core sleeps
    throughout."""
    defines = {"DUTY": 250, "PERIODS": 20, **({"INVERT": None} if invert else {})}
    result = cli("run", tim(firmware, "pwm", **defines), *LIMIT)
    assert result.returncode == 0, result.report
    pins = result.report["pins"]
    pwm, toggle = pins["PB3"], pins["PA0"]
    # 20 periods, and the 21st begun (the counter stops in the last update's handler): the
    # output from the set-up on, 21 rising edges (the first as it comes up), 20 falling ones
    # (21 active low: one also as CC2P comes up before UG loads CCR2)
    assert (pwm["rising"], pwm["falling"]) == ((21, 21) if invert else (21, 20))
    duty = 0.75 if invert else 0.25
    assert abs(pwm["high_ms"] - 20 * duty) < 0.01, pwm
    assert (toggle["rising"], toggle["falling"]) == (10, 10), toggle
    assert abs(toggle["high_ms"] - 10) < 0.01, toggle
    assert result.report["unmodelled_registers"] == []


def vcd_edges(path, pin: str, hz: int = 32_000_000) -> list[tuple[int, str]]:
    """(core cycle, level) of each change of ``pin`` in a --vcd file."""
    from vcd.reader import TokenKind, tokenize

    edges, ident, time = [], None, 0
    with open(path, "rb") as fh:
        for token in tokenize(fh):
            if token.kind is TokenKind.VAR and token.var.reference == pin:
                ident = token.var.id_code
            elif token.kind is TokenKind.CHANGE_TIME:
                time = token.time_change
            elif token.kind is TokenKind.CHANGE_SCALAR and token.scalar_change.id_code == ident:
                edges.append((round(time * hz / 10**12), token.scalar_change.value))
    return edges


@pytest.mark.parametrize("busy", [False, True])
def test_pwm_edges_come_at_their_own_cycles(firmware, cli, tmp_path, busy):
    """PB3's PWM (25% of 32,000 cycles) edge by edge in --vcd: each rising edge a period after
    the last, each falling one 8,000 cycles after its rise, to the cycle, also when the core
    runs and stores to another pin (PA5) in the blocks during which the edges fall due."""
    vcd = tmp_path / "pwm.vcd"
    defines = {"DUTY": 250, "PERIODS": 6, **({"BUSY": None} if busy else {})}
    result = cli("run", tim(firmware, "pwm", **defines), "--vcd", vcd, *LIMIT)
    assert result.returncode == 0, result.report
    edges = [(at, level) for at, level in vcd_edges(vcd, "PB3") if level in "01"]
    # the set-up's: 0 as CC2E comes up, 1 as UG loads CCR2, 0 at the first match; from then
    # on low for 24,000 cycles, high for 8,000
    assert [level for _, level in edges[:3]] == ["0", "1", "0"]
    times = [at for at, _ in edges[2:]]
    assert [b - a for a, b in pairwise(times)] == [24_000, 8_000] * 5 + [24_000]
    if busy:  # PA5 toggled all along, its pulses 60-odd cycles wide
        assert result.report["pins"]["PA5"]["rising"] > 100


def test_a_pwm_from_0_percent_shows_on_its_pin(firmware, cli, tmp_path):
    """HAL's fade-in: PWM mode 1 at 0% (CCR2 0, preloaded), CCR2 written 250 in the third
    update's handler: PB3 rises at the fourth update, 32,000 cycles after the third, and at
    each one after (three of them in six periods), high 8,000 cycles each time."""
    vcd = tmp_path / "ramp.vcd"
    result = cli("run", tim(firmware, "pwm", DUTY=0, RAMP=250, PERIODS=6), "--vcd", vcd,
                 *LIMIT)
    assert result.returncode == 0, result.report
    edges = [(at, level) for at, level in vcd_edges(vcd, "PB3") if level in "01"]
    assert [level for _, level in edges] == ["0", "1", "0", "1", "0", "1"]
    times = [at for at, _ in edges[1:]]
    assert [b - a for a, b in pairwise(times)] == [8_000, 24_000, 8_000, 24_000]


@pytest.mark.parametrize("counter, high, low, toggles", [
    (0x10, [8_032], [23_968], [32_000]),  # down: high while the count is at most 250
    (0x20, [16_000], [47_936], [31_936, 32_000]),  # centre-aligned: 250 up, 250 down
    (0x60, [16_000], [47_936], [31_936, 32_000]),
])
def test_down_and_centre_aligned_pwm(firmware, cli, tmp_path, counter, high, low, toggles):
    """HAL's other counter modes (CR1's DIR, CMS) for TIM2's PWM (CCR2 250, ARR 999, 32
    cycles a count) and toggle (CCR1 500): counting down, PB3 high for 251 counts of 1,000;
    centre-aligned, the count 0 ... 999 ... 1 (1,998 counts, an update event at each turn), PB3
    high for 250 counts each way around 0 (CCR / ARR: a quarter), PA0 toggled at 500 on the
    way up and on the way down. Each edge at its own cycle; nothing listed."""
    vcd = tmp_path / "pwm.vcd"
    result = cli("run", tim(firmware, "pwm", DUTY=250, PERIODS=8, COUNTER=counter),
                 "--vcd", vcd, "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    edges = [(at, level) for at, level in vcd_edges(vcd, "PB3") if level in "01"]
    steady = [(b[0] - a[0], a[1]) for a, b in pairwise(edges[2:])]
    assert {width for width, level in steady if level == "1"} == set(high), edges
    assert {width for width, level in steady if level == "0"} == set(low), edges
    centre = counter & 0x60
    assert len(steady) >= (6 if centre else 12)
    toggled = [at for at, level in vcd_edges(vcd, "PA0") if level in "01"][1:]
    assert {b - a for a, b in pairwise(toggled)} == set(toggles)
    assert result.report["unmodelled_registers"] == []


def test_a_sleep_with_only_output_edges_to_come_is_a_deadlock(firmware, cli):
    """No interrupt, PWM and a toggle on PA0 and PB3 (no EXTI line watches them): WFI for
    ever is a deadlock, found at once, as when nothing at all runs."""
    result = cli("run", tim(firmware, "pwm", DUTY=250, PERIODS=1, FOREVER=None), *LIMIT)
    assert result.returncode == 5 and result.report["fault"]["kind"] == "deadlock"
    assert result.report["sleep_cycles"] == 0
    # EXTI line 0's interrupt on PA0 (enabled after the timer started): its edges wake
    woken = cli("run", tim(firmware, "pwm", DUTY=250, PERIODS=1, FOREVER=None,
                           EXTI_WAKE=None), *LIMIT)
    assert woken.returncode == 0, woken.report
    assert woken.report["stdout"] == "edges 5\n"
    assert woken.report["exceptions"]["taken"] == {"IRQ5": 5}


def test_a_running_output_wakes_nothing(firmware, cli):
    """TIM22's PWM on PA6 changes every few cycles while the core sleeps in WFI: only TIM21's
    three update interrupts end a WFI."""
    result = cli("run", tim(firmware, "pwm_sleep"), *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "wakes 3\n"
    assert result.report["pins"]["PA6"]["rising"] > 2_900  # a PWM period of 10 cycles


def test_a_wfi_returns_after_many_events_that_wake_nothing(firmware, monkeypatch):
    """The safety valve: after MAX_DOZES rounds of 64 events that wake nothing a WFI returns
    (as a Cortex-M's may), so firmware waiting for what never comes meets its limits. With
    one round allowed, the PWM's edges (~2,000 between two updates) end the WFI many times."""
    import sim
    import sim.runner

    monkeypatch.setattr(sim.runner, "MAX_DOZES", 1)
    report = sim.run(sim.load_elf(tim(firmware, "pwm_sleep")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    wakes = int(report.stdout.split()[1])
    assert 20 < wakes < 100, wakes  # (48: a WFI every 128 events, and the 3 updates)


@pytest.mark.parametrize("case", ["one_pulse", "preload", "no_clock", "gated", "rcc_reset"])
def test_timer_behaviour(firmware, cli, case):
    result = cli("run", tim(firmware, case), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    listed = result.report["unmodelled_registers"]
    if case == "no_clock":  # each access without the clock is listed
        assert ("stm32l0_tim21+0x000 (0x40010800) write, its clock is off "
                "(RCC APB2ENR bit 2): 1") in listed
    elif case == "rcc_reset":
        assert listed == ["stm32l0_tim22+0x000 (0x40011400) read, it is held in reset "
                          "(RCC APB2RSTR bit 5): 1",
                          "stm32l0_tim22+0x02c (0x4001142c) read, it is held in reset "
                          "(RCC APB2RSTR bit 5): 1"]
    elif case == "gated":  # two ticks, none while gated (the handler would run for ever
        # if the stopped timer still set UIF: it cannot clear it), one more after
        assert result.report["exceptions"]["taken"] == {"IRQ20": 3}
    else:
        assert listed == []


def timer() -> tuple[Stm32l0Tim21, FakeDeviceHost]:
    host = FakeDeviceHost()
    dev = Stm32l0Tim21(host)  # type: ignore[arg-type]
    dev.reset()
    return dev, host


def test_the_count_and_the_update_interrupt_follow_the_cycles():
    dev, host = timer()
    assert dev.read(ARR, 4) == 0xFFFF and dev.read(CNT, 4) == 0
    dev.write(PSC, 4, 3)  # preloaded: no effect before an update event
    dev.write(ARR, 4, 9)
    dev.write(CR1, 4, 1)
    host.exceptions.now = 7
    assert dev.read(CNT, 4) == 7  # PSC 0 still
    dev.write(EGR, 4, 1)  # UG: count 0, PSC 3 in effect, UIF
    assert dev.read(SR, 4) == 1 and dev.read(CNT, 4) == 0
    dev.write(SR, 4, 0)
    dev.write(DIER, 4, 1)  # UIE: the next update is planned: 10 counts of 4 cycles
    assert host.exceptions.due == 7 + 40 and host.lines[dev.irq] is False
    host.exceptions.now = 46
    assert dev.read(CNT, 2) == 9 and dev.read(SR, 4) == 0
    host.exceptions.now = 47
    host.exceptions.action()
    assert dev.read(SR, 4) == 0b111 and host.lines[dev.irq] is True  # CC1IF, CC2IF: CCRx 0
    assert host.exceptions.due is None  # UIF already set: nothing more to plan
    host.exceptions.now = 47 + 4 * 25 + 2  # two more periods and a half have gone
    assert dev.read(CNT, 4) == 5
    dev.write(SR, 2, 0xFFFE)  # a halfword store, rc_w0: UIF cleared, the line low
    assert host.lines[dev.irq] is False and host.exceptions.due == 47 + 4 * 30
    assert host.listed == []


def test_what_is_not_modelled_is_listed():
    dev, host = timer()
    dev.write(0x18, 4, 0x68)  # CCMR1: PWM mode configured, nothing happens yet: not listed
    dev.write(0x34, 4, 500)  # CCR1: likewise
    assert host.listed == []
    dev.write(0x20, 4, 1)  # CCER: channel 1's output (its pin) enabled: modelled
    dev.write(DIER, 4, 1 << 1)  # CC1IE: modelled
    dev.write(DIER, 4, 1 << 8)  # UDE: a DMA request, not (TIM21 has no DMA request line)
    dev.write(CR1, 4, 3 << 5)  # CMS: centre-aligned counting, modelled
    dev.write(0x08, 4, 1 << 14 | 1)  # SMCR: external clock mode 2 with an encoder mode, not
    dev.write(EGR, 4, 1 << 1)  # CC1G: modelled
    dev.write(EGR, 4, 1 << 5)  # reserved
    assert [entry[1] for entry in host.listed] == [DIER, 0x08, EGR]
    # read back (HAL_TIM_Base_Stop reads CCER; LL and libopencm3 read-modify-write EGR)
    assert (dev.read(0x18, 4), dev.read(0x34, 4), dev.read(0x20, 4)) == (0x68, 500, 1)
    assert dev.read(EGR, 4) == 0 and len(host.listed) == 3
    assert dev.read(0x48, 4) == 0  # reserved on TIM21 and TIM22 (no DMA bursts)
    assert host.listed[-1] == ("stm32l0_tim21", 0x48, 4, None)
    dev.write(CR1, 4, 1)  # CEN: ETR's edges (none here) and the encoder's would count
    host.exceptions.now = 100
    assert dev.read(CNT, 4) == 0


@pytest.mark.parametrize("kind, listed", [(Stm32l0Tim2, []), (Stm32l0Tim21, [0x1C, 0x3C, 0x40])])
def test_tim2_has_four_channels_tim21_two(kind, listed):
    host = FakeDeviceHost()
    dev = kind(host)  # type: ignore[arg-type]
    dev.reset()
    for offset in (0x1C, 0x3C, 0x40):  # CCMR2 (output compare), CCR3, CCR4
        dev.write(offset, 4, 0x54)
        assert dev.read(offset, 4) == 0x54
    assert sorted({entry[1] for entry in host.listed}) == listed


class FakeAdc:
    """What takes a timer's TRGO (the ADC): waiting for ``source``, keeping each trigger."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.triggers: list[tuple[str, int, int]] = []

    def waiting_for(self) -> str | None:
        return self.source or None

    def trigger(self, source: str, at: int, edge: int) -> None:
        self.triggers.append((source, at, edge))


class AdcHost(FakeDeviceHost):
    def __init__(self, adc: FakeAdc) -> None:
        super().__init__()
        self.adc = adc

    def device(self, name: str) -> FakeAdc | None:  # type: ignore[override]
        return self.adc if name == "stm32l0_adc" else None


def timer_for(source: str) -> tuple[Stm32l0Tim21, AdcHost, FakeAdc]:
    """TIM21 (ARR 9) beside an ADC waiting for ``source`` ("": nothing)."""
    adc = FakeAdc(source)
    host = AdcHost(adc)
    dev = Stm32l0Tim21(host)  # type: ignore[arg-type]
    dev.reset()
    dev.write(ARR, 4, 9)
    return dev, host, adc


def test_trgo_gives_the_adc_each_update_event_at_its_own_cycle():
    from sim.devices.stm32l0_tim import FALLING, PULSE, RISING

    dev, host, adc = timer_for("stm32l0_tim21 TRGO")
    dev.write(0x04, 4, 2 << 4)  # CR2.MMS update
    dev.write(CR1, 4, 1)
    assert host.exceptions.due == 10  # no UIE, but the ADC waits: each event is planned
    host.exceptions.now = 35  # the event late: three and a half periods
    host.exceptions.action()
    assert dev.read(CNT, 4) == 5
    assert adc.triggers == [("stm32l0_tim21 TRGO", at, PULSE) for at in (10, 20, 30)]
    assert host.exceptions.due == 40 and host.listed == []
    adc.source = "stm32l0_tim2 TRGO"  # the ADC waits for another timer now: nothing planned
    dev.write(SR, 4, 0)
    assert host.exceptions.due is None
    host.exceptions.now = 100
    assert dev.read(CNT, 4) == 0 and len(adc.triggers) == 3
    adc.source = "stm32l0_tim21 TRGO"
    dev.write(CR1, 4, 1 | 1 << 1)  # UDIS: no update event, no TRGO
    host.exceptions.now = 200
    assert dev.read(CNT, 4) == 0 and len(adc.triggers) == 3 and host.exceptions.due is None
    adc.triggers.clear()
    dev.write(0x04, 4, 0)  # MMS reset: TRGO is EGR.UG
    dev.write(EGR, 4, 1)
    dev.write(0x04, 4, 1 << 4)  # MMS enable: TRGO is CEN
    host.exceptions.now = 210
    dev.write(CR1, 4, 0)
    dev.write(CR1, 4, 1 | 1 << 3)  # again, one pulse (OPM): CEN clears at the update event
    host.exceptions.now = 230
    assert dev.read(CR1, 4) & 1 == 0
    assert adc.triggers == [("stm32l0_tim21 TRGO", at, edge) for at, edge in (
        (200, PULSE), (210, FALLING), (210, RISING), (220, FALLING))]
    dev.write(0x04, 4, 6 << 4)  # MMS OC3REF: TIM21 has no channel 3, listed
    assert host.listed == [("stm32l0_tim21", 0x04, 4, 6 << 4)]


def test_compare_events_flags_preloads_and_the_adcs_pulses():
    from sim.devices.stm32l0_tim import CCMR1, CCR1, CCR2, FALLING, RISING

    dev, host, adc = timer_for("")  # the ADC not waiting (yet)
    dev.write(CCR1, 4, 3)
    dev.write(CCR2, 4, 12)  # past ARR: never reached
    dev.write(DIER, 4, 1 << 1)  # CC1IE
    dev.write(CR1, 4, 1)
    assert host.exceptions.due == 3
    host.exceptions.now = 3
    host.exceptions.action()
    assert dev.read(SR, 4) == 1 << 1 and host.lines[dev.irq] is True
    assert host.exceptions.due is None  # CC1IF set: nothing more to plan
    dev.write(SR, 4, ~(1 << 1) & 0xFFFF)
    # the next match is past the update event (which may change CCR1): planned there, then
    assert host.exceptions.due == 10 and host.lines[dev.irq] is False
    host.exceptions.now = 10
    host.exceptions.action()
    # (UIF, and CC2IF: CCR2 is past ARR, its flag set at each update; neither enabled)
    assert host.exceptions.due == 13 and dev.read(SR, 4) == 0b101
    adc.source = "stm32l0_tim21 CH2"  # the ADC waits for channel 2's output
    dev.write(CCR2, 4, 6)
    dev.write(CCMR1, 4, 3 << 12)  # OC2M toggle
    dev.write(0x20, 4, 1 << 4)  # CC2E: each match an edge of the output: each planned
    assert host.exceptions.due == 13  # channel 1's match first, then channel 2's at 16
    host.exceptions.now = 29  # late: 13, 16, 20, 23, 26 passed
    host.exceptions.action()
    assert adc.triggers == [("stm32l0_tim21 CH2", 16, RISING),
                            ("stm32l0_tim21 CH2", 26, FALLING)]
    assert dev.read(SR, 4) == 0b111  # UIF, CC1IF, CC2IF
    dev.write(CCMR1, 4, 1 << 3 | 3 << 12)  # OC1PE: CCR1 preloaded
    dev.write(CCR1, 4, 8)
    assert dev.read(CCR1, 4) == 8  # reads the preload
    dev.write(SR, 4, 0)
    host.exceptions.now = 34  # the update at 30 took CCR1 8: no match at 33
    assert dev.read(SR, 4) == 1
    host.exceptions.now = 38  # channel 2 at 36, channel 1 at 38
    assert dev.read(SR, 4) == 0b111
    dev.write(CCMR1, 4, 1 << 3 | 1 | 3 << 12)  # channel 1 an input: no match
    dev.write(SR, 4, 0)
    host.exceptions.now = 100
    assert dev.read(SR, 4) & 0b10 == 0
    adc.triggers.clear()
    dev.write(EGR, 4, 1 << 2)  # CC2G: channel 2's flag at once (its output does not change)
    assert adc.triggers == [] and dev.read(SR, 4) & 0b100
    dev.write(0x20, 4, 0x11)  # CCER: CC1E (an input capture), CC2E (an output)
    assert host.listed == []


def test_trgo_compare_pulse_follows_channel_1():
    from sim.devices.stm32l0_tim import CCR1, PULSE

    dev, host, adc = timer_for("stm32l0_tim21 TRGO")
    dev.write(CCR1, 4, 5)
    dev.write(0x04, 4, 3 << 4)  # CR2.MMS compare pulse
    dev.write(CR1, 4, 1)
    assert host.exceptions.due == 5
    host.exceptions.now = 27
    host.exceptions.action()
    assert adc.triggers == [("stm32l0_tim21 TRGO", at, PULSE) for at in (5, 15, 25)]


def test_the_output_modes():
    """OCxREF as OCxM says (upcounting), the output with CCxE, inverted by CCxP."""
    from sim.devices.stm32l0_tim import CCER, CCMR1, CCR1

    dev, host = timer()
    dev.write(ARR, 4, 9)
    dev.write(CCR1, 4, 4)
    assert dev.output(1) is None  # CC1E clear: the timer does not drive the pin
    dev.write(CCER, 4, 1)
    assert dev.output(1) == 0  # frozen, OC1REF 0 after reset
    for mode, level in ((5, 1), (4, 0)):  # forced active, inactive: at once
        dev.write(CCMR1, 4, mode << 4)
        assert dev.output(1) == level
    dev.write(CCMR1, 4, 1 << 4)  # active on match
    dev.write(CR1, 4, 1)
    host.exceptions.now = 3
    assert dev.read(CNT, 4) == 3 and dev.output(1) == 0
    host.exceptions.now = 4  # the count reaches CCR1
    dev.read(CNT, 4)
    assert dev.output(1) == 1
    dev.write(CCMR1, 4, 2 << 4)  # inactive on match: 0 at the next, 14
    host.exceptions.now = 14
    dev.read(CNT, 4)
    assert dev.output(1) == 0
    dev.write(CCMR1, 4, 7 << 4)  # PWM mode 2: low below CCR1, high from it (count 4 now)
    assert dev.output(1) == 1
    host.exceptions.now = 21  # count 1
    dev.read(CNT, 4)
    assert dev.output(1) == 0
    dev.write(CCER, 4, 3)  # CC1P: active low
    assert dev.output(1) == 1
    dev.write(CCMR1, 4, 7 << 4 | 1)  # an input: no output
    assert dev.output(1) is None


@pytest.mark.parametrize("mode, expected", [
    (6, [(20, 1), (25, 0), (30, 1), (35, 0)]),  # PWM mode 1 from 0%: up at the update
    (3, [(25, 0), (35, 1), (45, 0)]),  # toggle (1 since the update at 10): CCR1 5 from 20 on
])
def test_a_preloaded_ccr_from_0(mode, expected):
    """OC1PE: CCR1 written 5 (from 0) at cycle 12 takes effect at the update at 20; channel 1
    then matches at 25, not at the update any more."""
    from sim.devices.stm32l0_tim import CCER, CCMR1, CCR1

    dev, host = timer()
    edges: list[tuple[int, int | None]] = []
    dev.write(ARR, 4, 9)
    dev.write(CCMR1, 4, mode << 4 | 1 << 3)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1)
    host.exceptions.now = 12
    dev.write(CCR1, 4, 5)
    last = dev.output(1)
    for now in range(13, 50):
        host.exceptions.now = now
        dev.read(CNT, 4)
        if dev.output(1) != last:
            last = dev.output(1)
            edges.append((now, last))
    assert edges[:len(expected)] == expected


def square(period: float, high: float, count: int, start: float = 0.001) -> list[str]:
    """--pin rows of a square wave: ``count`` pulses, from ``start`` (seconds)."""
    rows = []
    for k in range(count):
        t = start + k * period
        rows += [f"{t:.9f},1", f"{t + high:.9f},0"]
    return rows


def capture(firmware, cli, tmp_path, rows: list[str], **defines):
    """The capture case with PA0 driven by ``rows``: the report."""
    pin = tmp_path / "pa0.csv"
    pin.write_text("\n".join(sorted(rows, key=lambda r: float(r.split(",")[0]))) + "\n")
    case = "slave" if "SLAVE" in defines else "capture"
    result = cli("run", tim(firmware, case, **defines), "--pin", f"PA0={pin}",
                 "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["unmodelled_registers"] == []
    return result.report


def captured(report) -> list[tuple[int, int]]:
    found = re.fullmatch(r"c((?: \d+/\d+)+)\n", report["stdout"])
    assert found, report["stdout"]
    return [tuple(map(int, pair.split("/"))) for pair in found.group(1).split()]


def test_input_capture_measures_a_square_wave(firmware, cli, tmp_path):
    """PA0 (TIM2_CH1) at 1 kHz, high 250 us, TIM2 counting microseconds: channel 1 captures
    each rising edge (a period apart), channel 2 the falling edges of the same input (250 us
    after the rise); with the PWM input set-up (the slave mode's reset on TI1FP1) CCR1 is the
    period and CCR2 the high time."""
    wave = square(0.001, 0.00025, 10)
    pairs = captured(capture(firmware, cli, tmp_path, wave))
    rises = [a for a, _ in pairs]
    assert [b - a for a, b in pairwise(rises)] == [1000, 1000, 1000]
    assert [b - a for a, b in pairs[1:]] == [-750] * 3  # the fall before each rise
    assert 990 < rises[0] < 1000  # (the timer starts a few microseconds in)
    pairs = captured(capture(firmware, cli, tmp_path, wave, PWM_INPUT=None))
    assert pairs[1:] == [(1000, 250)] * 3


def test_capture_prescaler_both_edges_and_over_capture(firmware, cli, tmp_path):
    """IC1PSC 2: every fourth rising edge is captured; CC1P with CC1NP: both edges; a capture
    while CC1IF is still set (nobody read CCR1) sets CC1OF."""
    wave = square(0.001, 0.00025, 10)
    pairs = captured(capture(firmware, cli, tmp_path, wave, PRESCALE=2, CAPTURES=2))
    assert pairs[1][0] - pairs[0][0] == 4000
    first = pairs[0][0]
    assert 3990 < first < 4000  # the fourth rising edge, at 4 ms
    both = [a for a, _ in captured(capture(firmware, cli, tmp_path, wave, BOTH=None))]
    assert [b - a for a, b in pairwise(both)] == [250, 750, 250]
    polled = {}
    for wait in (1500, 5000):
        report = capture(firmware, cli, tmp_path, wave, POLL=None, WAIT=wait)
        found = re.fullmatch(r"if (\d) of (\d) ccr1 (\d+)\n", report["stdout"])
        assert found, report["stdout"]
        polled[wait] = tuple(map(int, found.groups()))
    assert polled[1500][:2] == (1, 0)  # one capture: no over-capture
    assert polled[5000][:2] == (1, 1)  # five, never read
    assert polled[5000][2] - polled[1500][2] == 4000  # CCR1 holds the latest


def test_the_input_filter_drops_short_pulses_and_delays_the_capture(firmware, cli, tmp_path):
    """IC1F 15 (f_DTS / 32, 8 samples: 256 cycles, 8 us here): a 1 us glitch after the fifth
    pulse is not captured, a 20 us one is; each capture comes 8 counts later than without the
    filter, a 1 us glitch is captured without it."""
    wave = square(0.001, 0.00025, 6)
    short = ["0.005500000,1", "0.005501000,0"]
    long = ["0.005500000,1", "0.005520000,0"]
    bare = [a for a, _ in captured(capture(firmware, cli, tmp_path, wave + short, CAPTURES=7))]
    assert bare[5] - bare[4] == 500  # the glitch, half a period after the fifth rise
    kept = [a for a, _ in captured(capture(firmware, cli, tmp_path, wave + short, CAPTURES=6,
                                           FILTER=15))]
    assert [b - a for a, b in pairwise(kept)] == [1000] * 5  # the glitch filtered out
    passed = [a for a, _ in captured(capture(firmware, cli, tmp_path, wave + long, CAPTURES=7,
                                             FILTER=15))]
    assert passed[5] - passed[4] == 500
    unfiltered = [a for a, _ in captured(capture(firmware, cli, tmp_path, wave + long,
                                                 CAPTURES=7, FILTER=0))]
    assert [b - a for a, b in zip(unfiltered, passed, strict=True)] == [8] * 7


@pytest.mark.parametrize("low", [False, True])
def test_gated_mode_counts_while_the_input_is_high(firmware, cli, tmp_path, low):
    """SMCR gated on TI1FP1: TIM2 counts only while PA0 is high (CC1P: low), 300 + 200 us of
    pulses at 1 and 2 ms; TIF at each edge of the gate (the handler's TIM21 reads)."""
    rows = ["0.001,1", "0.0013,0", "0.002,1", "0.0022,0"]
    report = capture(firmware, cli, tmp_path, rows, SLAVE=5, EDGES=4, **(
        {"LOW": None} if low else {}))
    found = re.fullmatch(r"t (\d+) (\d+) (\d+) (\d+) cnt (\d+) tim21 (\d+)\n",
                         report["stdout"])
    assert found, report["stdout"]
    *edges, cnt, end = map(int, found.groups())
    assert [b - a for a, b in pairwise(edges)] == [300, 700, 200]
    start = edges[0] - 1000  # TIM21's count at the run's time 0 (it starts a few us in)
    if low:  # low from TIM2's start (a few us after TIM21's) to 1 ms, 1.3-2 ms, 2.2 ms on
        # (the few us: TIM2's start after TIM21's and the end's TIM2-to-TIM21 reads, less
        # the handler's latency to its TIM21 read at 1 ms, which ends at the load itself)
        assert 0 < (1000 + 700 + (end - start - 2200)) - cnt < 25
    else:
        assert cnt == 500


def test_trigger_mode_starts_the_counter_on_the_edge(firmware, cli, tmp_path):
    """SMCR trigger mode on TI1FP1: PA0's rise at 2 ms sets CEN (TIF); the one-pulse period
    of 1000 us then ends at the update, CNT back to 0."""
    report = capture(firmware, cli, tmp_path, ["0.002,1", "0.0021,0"], SLAVE=6, EDGES=1)
    found = re.fullmatch(r"t (\d+) cnt (\d+) tim21 (\d+)\n", report["stdout"])
    assert found, report["stdout"]
    at, cnt, end = map(int, found.groups())
    assert 1990 < at < 2000 and cnt == 0
    assert 1000 < end - at < 1100  # waited for the one pulse's update


def quadrature(cycles: int, start: float, step: float, forward: bool = True
               ) -> tuple[list[str], list[str], float]:
    """--pin rows of an encoder's A (TI1) and B (TI2) outputs: ``cycles`` quadrature cycles of
    four ``step``-second states from ``start``, A leading B (``forward``) or B leading A."""
    states = [(1, 0), (1, 1), (0, 1), (0, 0)] if forward else [(0, 1), (1, 1), (1, 0), (0, 0)]
    rows_a, rows_b, levels, t = [], [], (0, 0), start
    for _ in range(cycles):
        for state in states:
            if state[0] != levels[0]:
                rows_a.append(f"{t:.9f},{state[0]}")
            if state[1] != levels[1]:
                rows_b.append(f"{t:.9f},{state[1]}")
            levels, t = state, t + step
    return rows_a, rows_b, t


@pytest.mark.parametrize("defines, expected", [
    ({"ENCODER": 3}, [(40, 0, 0), (980, 1, 1)]),  # both inputs' edges: 4 counts a cycle
    ({"ENCODER": 1}, [(20, 0, 0), (990, 1, 1)]),  # TI2's edges only: 2
    ({"ENCODER": 2}, [(20, 0, 0), (990, 1, 1)]),  # TI1's
    ({"ENCODER": 3, "INVERT": None}, [(960, 1, 1), (20, 0, 2)]),  # TI1FP1 inverted: reversed
    ({"CLOCK": None}, [(5, 0, 0), (12, 0, 0)]),  # PA0's 10, then 25 rising edges, PSC 1
])
def test_encoder_and_external_clock_modes_count_the_inputs_edges(firmware, cli, tmp_path,
                                                                  defines, expected):
    """A quadrature encoder on PA0 (A, TI1) and PA1 (B, TI2): 10 cycles forward in the first
    150 ms, 15 back in the next; TIM2 (ARR 999) counts up and down through 0 (an update event:
    the wrap's interrupt), CR1.DIR the last direction; external clock mode 1 counts PA0's
    rising edges through the prescaler."""
    a1, b1, _ = quadrature(10, 0.001, 0.001)
    a2, b2, _ = quadrature(15, 0.2, 0.001, forward=False)
    pa0, pa1 = tmp_path / "a.csv", tmp_path / "b.csv"
    pa0.write_text("\n".join(a1 + a2) + "\n")
    pa1.write_text("\n".join(b1 + b2) + "\n")
    result = cli("run", tim(firmware, "encoder", **defines), "--pin", f"PA0={pa0}",
                 "--pin", f"PA1={pa1}", "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    lines = re.findall(r"cnt (\d+) dir (\d) wraps (\d+)", result.report["stdout"])
    assert [tuple(map(int, line)) for line in lines] == expected
    assert result.report["unmodelled_registers"] == []


def test_dir_is_read_only_in_the_encoder_modes():
    """In an encoder mode CR1.DIR is the direction of the last count: a read-modify-write of
    CR1 keeps it; leaving the mode with DIR set, the clock counts down from the count."""
    dev, host = capture_timer()
    dev.write(CCMR1, 4, 1 | 1 << 8)
    dev.write(CCER, 4, 0)  # no capture: only the count
    dev.write(SMCR, 4, 3)
    dev.write(ARR, 4, 9)
    dev.write(PSC, 4, 0)  # a count a pulse
    dev.write(EGR, 4, 1)
    dev.write(SR, 4, 0)
    host.exceptions.now = 10
    edge(dev, host, 1, 10)  # A rises with B low: up
    assert dev.read(CNT, 4) == 1 and not dev.read(CR1, 4) & 1 << 4
    host.exceptions.now = 20
    edge(dev, host, 0, 20)  # A falls with B low: down
    assert dev.read(CNT, 4) == 0 and dev.read(SR, 4) == 0
    host.port.level2 = 1  # B rises with A low: down, through 0 to ARR (an update)
    dev.inputs_changed(20)
    assert dev.read(CNT, 4) == 9 and dev.read(SR, 4) == 1
    assert dev.read(CR1, 4) & 1 << 4
    dev.write(CR1, 4, 1)  # DIR written 0: kept
    assert dev.read(CR1, 4) & 1 << 4 and host.listed == []
    dev.write(SMCR, 4, 0)  # out of the encoder mode going down: the clock counts down
    assert dev.read(CNT, 4) == 9
    host.exceptions.now = 25
    assert dev.read(CNT, 4) == 4 and dev.read(CR1, 4) == 1 | 1 << 4 and host.listed == []


def test_down_counting():
    """CR1.DIR: the count goes down from ARR, the step below 0 an update event (ARR again); a
    count written or the direction turned is kept; UG loads ARR; a compare channel matches on
    the way down, PWM mode 1 high while the count is not above CCR."""
    dev, host = timer()
    dev.write(ARR, 4, 9)
    dev.write(CR1, 4, 1 | 1 << 4)  # CEN, DIR: the count 0, the next step is below it
    assert dev.read(CNT, 4) == 0 and dev.read(SR, 4) == 0
    host.exceptions.now = 1
    assert dev.read(CNT, 4) == 9 and dev.read(SR, 4) == 1
    dev.write(SR, 4, 0)
    dev.write(CCMR1, 4, 6 << 4)  # OC1M PWM mode 1, CCR1 3
    dev.write(CCR1, 4, 3)
    dev.write(CCER, 4, 1)
    dev.write(DIER, 4, 1 | 1 << 1)  # UIE, CC1IE: CC1's match first, at the count 3
    assert host.exceptions.due == 1 + 6 and dev.output(1) == 0
    host.exceptions.now = 7
    host.exceptions.action()
    assert dev.read(CNT, 4) == 3 and dev.read(SR, 4) == 1 << 1 and dev.output(1) == 1
    assert host.exceptions.due == 11  # the update: 3, 2, 1, 0, below
    dev.write(SR, 4, 0)
    dev.write(CNT, 4, 5)  # the count written: down from 5
    host.exceptions.now = 9
    assert dev.read(CNT, 4) == 3 and dev.read(SR, 4) == 1 << 1 and dev.output(1) == 1
    dev.write(CR1, 4, 1)  # DIR cleared: up from 3, PWM high while below CCR1
    assert dev.read(CNT, 4) == 3 and dev.output(1) == 0
    host.exceptions.now = 14
    assert dev.read(CNT, 4) == 8
    dev.write(CR1, 4, 1 | 1 << 4)
    dev.write(EGR, 4, 1)  # UG counting down: ARR
    assert dev.read(CNT, 4) == 9
    dev.write(ARR, 4, 20)  # (no ARPE) the count stays, the next period from 20
    host.exceptions.now = 24
    assert dev.read(CNT, 4) == 20 and host.listed == []


@pytest.mark.parametrize("cms, flagged", [(1, [6]), (2, [2, 10]), (3, [2, 6, 10])])
def test_centre_aligned_counting(cms, flagged):
    """CR1.CMS: the count goes 0 ... ARR ... 0, an update event at each turn (UIF, DIR the
    direction, read-only); the channels' flags as CMS says (1: on the way down, 2: up, 3:
    both), PWM mode 1 high while the count is below CCR up and not above it down (a duty of
    CCR / ARR); UG starts from 0 up; a count written at ARR turns down."""
    dev, host = timer()
    dev.write(ARR, 4, 4)
    dev.write(CCMR1, 4, 6 << 4)  # OC1M PWM mode 1, CCR1 2
    dev.write(CCR1, 4, 2)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1 | cms << 5)
    counts, dirs, flags, outputs = [], [], [], []
    for now in range(11):
        host.exceptions.now = now
        counts.append(dev.read(CNT, 4))
        dirs.append(dev.read(CR1, 4) >> 4 & 1)
        flags.append(dev.read(SR, 4))
        outputs.append(dev.output(1))
        dev.write(SR, 4, 0)
    assert counts == [0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2]
    assert dirs == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    assert [t for t, f in enumerate(flags) if f & 1] == [4, 8]  # UIF at the turns
    assert [t for t, f in enumerate(flags) if f & 2] == flagged
    assert outputs == [1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0]
    dev.write(CR1, 4, 1 | cms << 5 | 1 << 4)  # DIR is the counter's: kept at 0 (up)
    host.exceptions.now = 12
    assert dev.read(CNT, 4) == 4 and dev.read(CR1, 4) & 1 << 4
    dev.write(EGR, 4, 1)  # UG: 0, counting up
    assert dev.read(CNT, 4) == 0 and not dev.read(CR1, 4) & 1 << 4
    dev.write(CNT, 4, 4)  # written at ARR: counting down from it
    host.exceptions.now = 13
    assert dev.read(CNT, 4) == 3 and dev.read(CR1, 4) & 1 << 4 and host.listed == []


def test_a_direction_turned_keeps_the_count_and_the_prescalers_phase():
    """PSC 3 (4 cycles a count), counting down: DIR cleared 2 cycles into a count, the count
    stays and its next step comes 2 cycles later, up."""
    dev, host = timer()
    dev.write(ARR, 4, 9)
    dev.write(PSC, 4, 3)
    dev.write(CR1, 4, 1 << 4)
    dev.write(EGR, 4, 1)  # counting down: ARR
    dev.write(CR1, 4, 1 | 1 << 4)
    host.exceptions.now = 6
    assert dev.read(CNT, 4) == 8
    dev.write(CR1, 4, 1)
    host.exceptions.now = 7
    assert dev.read(CNT, 4) == 8
    host.exceptions.now = 8
    assert dev.read(CNT, 4) == 9


def test_centre_aligned_periods_nobody_sees_one_by_one():
    """Periods skipped whole (no interrupt, no pin) end as taken one by one: a toggle at CCR1
    changes twice a period (up and down), the count and direction where the time says."""
    dev, host = timer()
    dev.write(ARR, 4, 4)
    dev.write(CCMR1, 4, TOGGLE << 4)
    dev.write(CCR1, 4, 2)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1 | 1 << 5)
    assert host.exceptions.due is None  # nothing to plan
    for now, count, down, level in ((8 * 50 + 2, 2, 0, 1), (8 * 80 + 6, 2, 1, 0),
                                    (8 * 99 + 5, 3, 1, 1), (8 * 120 + 1, 1, 0, 0)):
        host.exceptions.now = now
        assert (dev.read(CNT, 4), dev.read(CR1, 4) >> 4 & 1, dev.output(1)) == (
            count, down, level), now
    # UIF, CC1IF, CC2IF (CCR2 0: reached at each turn at 0)
    assert dev.read(SR, 4) == 0b111 and host.listed == []


class TimersHost(FakeDeviceHost):
    """The part's three timers side by side (their triggers: each other's TRGO)."""

    def __init__(self) -> None:
        super().__init__()
        self.timers: dict[str, Stm32l0Tim2 | Stm32l0Tim21 | Stm32l0Tim22] = {}
        for kind in (Stm32l0Tim2, Stm32l0Tim21, Stm32l0Tim22):
            self.timers[kind.name] = kind(self)  # type: ignore[arg-type]
        for dev in self.timers.values():
            dev.reset()

    def device(self, name: str):  # type: ignore[override]
        return self.timers.get(name)

    def run_to(self, at: int) -> None:
        """The planned events up to cycle ``at``, each at its own cycle, earliest first."""
        while (due := self.exceptions.due) is not None and due <= at:
            self.exceptions.now = max(self.exceptions.now, due)
            cast(Callable[[], None], self.exceptions.action)()
        self.exceptions.now = at


def chained() -> tuple[Stm32l0Tim2, Stm32l0Tim21, Stm32l0Tim22, TimersHost]:
    host = TimersHost()
    t = host.timers
    return (cast(Stm32l0Tim2, t["stm32l0_tim2"]), cast(Stm32l0Tim21, t["stm32l0_tim21"]),
            cast(Stm32l0Tim22, t["stm32l0_tim22"]), host)


def test_a_cascade_of_gated_timers(firmware, cli, tmp_path):
    """STM32CubeL0's TIM_ExtTriggerSynchro on the part: TIM2 counts while PA1 is high (gated
    by TI2FP2), TIM21 while TIM2 counts (gated by ITR0: TIM2's CNT_EN), TIM22 while TIM21
    does: the three toggle outputs change together, every 160 cycles, only while PA1 is high
    (31,920 cycles: 199 updates), and stop at the same counts."""
    pin = tmp_path / "gate.csv"
    pin.write_text(f"0.001,1\n{0.001 + 31_920 / 32e6:.9f},0\n")
    vcd = tmp_path / "cascade.vcd"
    result = cli("run", tim(firmware, "cascade"), "--pin", f"PA1={pin}", "--vcd", vcd,
                 "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "cnt 40 40 40\n"  # (15,960 counts: 199 periods, 40)
    toggles = {name: [at for at, level in vcd_edges(vcd, name) if level in "01"][1:]
               for name in ("PA0", "PA2", "PA6")}
    assert toggles["PA0"] == toggles["PA2"] == toggles["PA6"]
    times = toggles["PA0"]
    assert len(times) == 199 and {b - a for a, b in pairwise(times)} == {160}
    assert times[0] == 32_000 + 160 and result.report["unmodelled_registers"] == []


@pytest.mark.parametrize("case, expected", [
    ("itr_opm", r"updates 0 cnt 1000"),  # the one pulse's end closes the gate at its cycle
    ("itr_rccreset", r"moved 0"),  # the master's reset: TRGO low, the gate closed
    ("itr_slaveclock", r"moved 0"),  # TRGO fell while the slave's clock was off
    ("itr_dmaread", r"table 1 2 3 4 5 6 7 8"),  # a DMA read of the slave at the event's cycle
    ("itr_order", r"updates 0 matches \d+"),  # each reset taken before the slave goes past it
])
def test_chained_timers_at_block_boundaries(firmware, cli, case, expected):
    """Chained timers while the core runs blocks of many cycles: the slave's own events never
    run ahead of its master's edges, a master's reset reaches its slave, a DMA served at the
    master's event reads the slave as of that event."""
    result = cli("run", tim(firmware, case), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert re.fullmatch(expected + "\n", result.report["stdout"]), result.report["stdout"]
    if case == "itr_order":
        assert int(result.report["stdout"].split()[-1]) > 50


def test_a_slave_on_a_trgo_that_never_changes_leaves_a_deadlock_a_deadlock(firmware, cli):
    """TIM21 listening to TIM2's TRGO in reset mode (MMS reset: only a UG moves it) while
    TIM2 only toggles a pin no interrupt watches: the WFI is still a deadlock."""
    result = cli("run", tim(firmware, "itr_wfi"), "--run-for", "1s", *LIMIT)
    assert result.report["status"] == "deadlock", result.report


def test_a_read_by_a_bus_master_acts_at_its_cycle_and_a_pulses_end_is_planned():
    """A read while a DMA serves an event of cycle 40 (DeviceHost.acting_at) sees the count of
    cycle 40, not of now; a one-pulse master with MMS enable whose CNT_EN a slave takes plans
    the update that ends the pulse (its TRGO's falling edge)."""
    tim2, tim21, _, host = chained()
    tim21.write(CR1, 4, 1)
    host.exceptions.now = 100
    host.acting_at(40)
    assert tim21.read(CNT, 4) == 40
    host.acting_at(None)
    assert tim21.read(CNT, 4) == 100
    tim2.write(CR2, 4, 1 << 4)  # MMS enable
    tim2.write(ARR, 4, 49)
    tim21.write(SMCR, 4, 0 << 4 | 5)  # gated by ITR0 (TIM2)
    tim2.write(CR1, 4, 1 | 1 << 3)  # CEN, OPM: the pulse ends at 150
    assert host.exceptions.timers[tim2][0] == 150


def test_a_timer_counts_anothers_updates():
    """TIM21 in external clock mode 1 on ITR1, TIM22's TRGO (CR2.MMS update), as RTIC's
    tim-systick-monotonic chains them into a 32-bit count on the STM32L0x1: TIM21 counts
    TIM22's update events, each at its own cycle, also when only TIM21 is read."""
    _, tim21, tim22, host = chained()
    tim22.write(CR2, 4, 2 << 4)  # MMS update
    tim22.write(ARR, 4, 9)
    tim22.write(CR1, 4, 1)
    assert host.exceptions.due is None  # nothing takes its updates yet
    host.exceptions.now = 500
    tim21.write(CR1, 4, 1)
    tim21.write(SMCR, 4, 1 << 4 | 7)  # TS ITR1, SMS external clock mode 1: from now on
    assert host.exceptions.due == 510  # each update planned: TIM21 takes it
    host.exceptions.now = 595  # no event run yet: reading TIM21 brings TIM22 along first
    assert (tim21.read(CNT, 4), tim22.read(CNT, 4)) == (9, 5)
    host.run_to(1500)
    assert (tim21.read(CNT, 4), tim22.read(CNT, 4)) == (100, 0)
    assert tim21.read(SR, 4) == 1 << 6 and host.listed == []  # TIF: each pulse
    tim21.write(SMCR, 4, 0)  # unlinked: TIM22's updates are nobody's business
    assert host.exceptions.due is None


def test_gated_trigger_and_reset_modes_on_another_timers_trgo():
    """TIM21 gated by TIM2's CNT_EN (ITR0, MMS enable: counts while TIM2 counts); TIM22
    started by TIM21's first update (ITR0, trigger mode), then restarted by TIM2's updates
    (ITR1, reset mode)."""
    tim2, tim21, tim22, host = chained()
    tim2.write(CR2, 4, 1 << 4)  # MMS enable
    tim21.write(SMCR, 4, 0 << 4 | 5)  # ITR0 (TIM2), gated
    tim21.write(CR1, 4, 1)
    host.run_to(10)
    assert tim21.read(CNT, 4) == 0
    tim2.write(CR1, 4, 1)
    host.run_to(30)
    tim2.write(CR1, 4, 0)
    host.run_to(50)
    assert tim21.read(CNT, 4) == 20 and tim21.read(SR, 4) == 1 << 6
    tim21.write(CR2, 4, 2 << 4)  # TIM21's TRGO: its updates
    tim21.write(ARR, 4, 24)
    tim22.write(SMCR, 4, 0 << 4 | 6)  # ITR0 (TIM21), trigger mode: CEN at its first update
    tim2.write(CR1, 4, 1)  # TIM21 counts again: 20 ... 24, its update at 55
    host.run_to(60)
    assert tim22.read(CR1, 4) & 1 and tim22.read(CNT, 4) == 5
    tim2.write(ARR, 4, 9)
    tim2.write(CR2, 4, 2 << 4)  # MMS update: TIM21's gate closes (TRGO no longer CNT_EN)
    tim22.write(SMCR, 4, 1 << 4 | 4)  # ITR1 (TIM2), reset mode
    host.run_to(200)
    assert tim21.read(CNT, 4) == 5  # (stopped at 60)
    assert tim22.read(CNT, 4) == (200 - 60) % 10 == tim2.read(CNT, 4)
    tim2.write(CR2, 4, 1 << 4)  # MMS enable, TIM2 gated by TI1FP1 (no pin: low): CNT_EN low
    tim2.write(SMCR, 4, TI1FP1 << 4 | 5)
    tim22.write(SMCR, 4, 1 << 4 | 5)  # TIM22 gated by it: stands
    host.run_to(300)
    assert tim2.read(CNT, 4) == tim22.read(CNT, 4) == 0
    assert host.listed == []


@pytest.mark.parametrize("loop", [False, True])
def test_an_update_relayed_round_a_loop_is_taken_once(loop):
    """TIM21's updates reset TIM22 (ITR0), whose updates (its resets, MMS update) would reset
    TIM21 (ITR1): the edge coming back round the loop is dropped, TIM21's own update taken
    once: its toggle at CCR1 0 changes at each of them, as without the loop."""
    _, tim21, tim22, host = chained()
    tim21.write(CR2, 4, 2 << 4)
    tim22.write(CR2, 4, 2 << 4)
    tim21.write(ARR, 4, 9)
    tim22.write(ARR, 4, 999)
    tim21.write(CCMR1, 4, TOGGLE << 4)
    tim21.write(CCER, 4, 1)
    tim22.write(SMCR, 4, 0 << 4 | 4)
    if loop:
        tim21.write(SMCR, 4, 1 << 4 | 4)
    tim21.write(CR1, 4, 1)
    tim22.write(CR1, 4, 1)
    levels = []
    for t in range(5, 60, 10):
        host.run_to(t)
        levels.append(tim21.output(1))
    assert levels == [0, 1, 0, 1, 0, 1]


def test_a_loop_of_timers_and_unknown_triggers():
    """TIM21 and TIM22 each reset by the other's TRGO (MMS reset): TIM21's UG resets TIM22,
    whose TRGO coming back round the loop to TIM21 is dropped; TIM2's ITRx and ITR2 of TIM21
    are listed (which timer drives them: not modelled)."""
    tim2, tim21, tim22, host = chained()
    tim21.write(CR2, 4, 0)  # MMS reset
    tim22.write(CR2, 4, 0)
    tim21.write(SMCR, 4, 1 << 4 | 4)  # ITR1 (TIM22), reset mode
    tim22.write(SMCR, 4, 0 << 4 | 4)  # ITR0 (TIM21), reset mode
    tim21.write(CR1, 4, 1)
    tim22.write(CR1, 4, 1)
    host.run_to(40)
    tim21.write(EGR, 4, 1)
    assert (tim21.read(CNT, 4), tim22.read(CNT, 4)) == (0, 0)
    assert tim22.read(SR, 4) == 1 | 1 << 6 and tim21.read(SR, 4) == 1  # (UIF: its UG)
    tim2.write(SMCR, 4, 0 << 4 | 5)
    tim21.write(SMCR, 4, 2 << 4 | 5)
    assert [(entry[0], entry[1]) for entry in host.listed] == [
        ("stm32l0_tim2", SMCR), ("stm32l0_tim21", SMCR)]
    assert "ITR0" in host.whys[0] and "ITR2" in host.whys[1]


class FakePort:
    """A GPIO port whose pin for channel 1 of any timer is at ``level`` (channel 2's at
    ``level2``, None: no pin)."""

    def __init__(self) -> None:
        self.level = 0
        self.level2: int | None = None

    def timer_input(self, timer: str, channel: int) -> int | None:
        return self.level if channel == 1 else self.level2 if channel == 2 else None

    def shows(self, timer: str, channel: int) -> bool:
        return False

    def wakes_on(self, timer: str, channel: int) -> bool:
        return False

    def af_changed(self, at: int) -> None:
        pass


class PortHost(FakeDeviceHost):
    def __init__(self) -> None:
        super().__init__()
        self.port = FakePort()

    def device(self, name: str):  # type: ignore[override]
        return self.port if name == "stm32l0_gpioa" else None


def capture_timer() -> tuple[Stm32l0Tim21, PortHost]:
    host = PortHost()
    dev = Stm32l0Tim21(host)  # type: ignore[arg-type]
    dev.reset()
    dev.write(PSC, 4, 3)
    dev.write(EGR, 4, 1)  # 4 cycles a count
    dev.write(SR, 4, 0)
    dev.write(CCMR1, 4, 1)  # CC1S 1: TI1
    dev.write(CCER, 4, 1)  # CC1E: rising edges
    dev.write(CR1, 4, 1)
    return dev, host


def edge(dev, host: PortHost, level: int, at: int) -> None:
    host.port.level = level
    dev.inputs_changed(at)


class ShowingHost(FakeDeviceHost):
    """A GPIO port whose pins show every timer channel's output: each event at its own cycle."""

    class Port:
        def timer_input(self, timer: str, channel: int) -> None:
            return None

        def shows(self, timer: str, channel: int) -> bool:
            return True

        def wakes_on(self, timer: str, channel: int) -> bool:
            return False

        def af_changed(self, at: int) -> None:
            pass

    port = Port()

    def device(self, name: str):  # type: ignore[override]
        return self.port if name == "stm32l0_gpioa" else None


def reference_counter(arr: int, ccr: dict[int, int], modes: dict[int, int], cms: int,
                      down: bool, steps: int) -> list[tuple[int, int, int, int, int]]:
    """RM0377's counter count by count from CNT 0 (CEN just set): after each count, (CNT,
    DIR, the flags it set: UIF, CC1IF, CC2IF, OC1REF, OC2REF). An update event past ARR, below
    0 or at each turn (centre-aligned); a compare match when the count reaches CCRx (at most
    ARR), its flag as CMS says (a match at a turn: always), a CCRx past ARR flagged at each
    update; PWM mode 1 high while the count is below CCRx (counting down: not above it)."""
    cnt, refs, states = 0, {1: 0, 2: 0}, []

    def pwm() -> None:
        for ch in (1, 2):
            if modes[ch] in (PWM1, PWM2):
                refs[ch] = int(cnt < ccr[ch] or (down and cnt == ccr[ch])) ^ (modes[ch] == PWM2)

    pwm()
    states.append((cnt, int(down), 0, refs[1], refs[2]))
    for _ in range(steps):
        going_down, update = down, False
        if cms:
            cnt += -1 if down else 1
            if cnt in (0, arr):
                update, down = True, not down
        elif down:
            cnt, update = (arr, True) if cnt == 0 else (cnt - 1, False)
        else:
            cnt, update = (0, True) if cnt >= arr else (cnt + 1, False)
        flags = 1 if update else 0
        for ch in (1, 2):
            if ccr[ch] > arr and update:
                flags |= 1 << ch
            elif ccr[ch] == cnt:
                if cms in (0, 3) or update or (cms == 1) == going_down:
                    flags |= 1 << ch
                if modes[ch] == TOGGLE:
                    refs[ch] ^= 1
                elif modes[ch] in (ACTIVE, INACTIVE):
                    refs[ch] = int(modes[ch] == ACTIVE)
        pwm()
        states.append((cnt, int(down), flags, refs[1], refs[2]))
    return states


@pytest.mark.parametrize("seed", range(0, 240, 4))
def test_the_counter_against_a_count_by_count_reference(seed):
    """Random ARR, PSC, CCRs (0, ARR and past it among them), output modes and counter modes
    (up, down, centre-aligned 1-3), read at random cycles: CNT, DIR, the flags since the last
    read and OCxREF as the reference has them, whether each event is taken at its own cycle
    (a pin shows the outputs) or whole periods are skipped."""
    for observed, rnd in ((False, random.Random(seed)), (True, random.Random(seed))):
        arr, psc = rnd.randint(1, 7), rnd.randint(0, 2)
        ccr = {1: rnd.choice([0, arr, arr + 1, rnd.randint(0, arr)]),
               2: rnd.choice([0, arr, rnd.randint(0, arr)])}
        modes = {1: rnd.choice([PWM1, PWM2, TOGGLE, ACTIVE, INACTIVE]),
                 2: rnd.choice([PWM1, PWM2, TOGGLE])}
        cms, down = rnd.choice([0, 0, 1, 2, 3]), rnd.random() < 0.5
        host = ShowingHost() if observed else FakeDeviceHost()
        dev = Stm32l0Tim21(host)  # type: ignore[arg-type]
        dev.reset()
        dev.write(PSC, 4, psc)
        dev.write(EGR, 4, 1)
        dev.write(SR, 4, 0)
        dev.write(ARR, 4, arr)
        dev.write(CCMR1, 4, modes[1] << 4 | modes[2] << 12)
        dev.write(CCR1, 4, ccr[1])
        dev.write(CCR1 + 4, 4, ccr[2])
        dev.write(CCER, 4, 0x11)
        dev.write(CR1, 4, 1 | cms << 5 | (0 if cms else int(down) << 4))
        ref = reference_counter(arr, ccr, modes, cms, down and not cms, 400)
        t = last = 0
        while (t := t + rnd.randint(1, 40)) < 400 * (psc + 1):
            host.exceptions.now = t
            step = t // (psc + 1)
            flags = 0
            for state in ref[last + 1:step + 1]:
                flags |= state[2]
            last = step
            got = (dev.read(CNT, 4), dev.read(CR1, 4) >> 4 & 1, dev.read(SR, 4) & 7,
                   dev.output(1), dev.output(2))
            dev.write(SR, 4, 0)
            want = (ref[step][0], ref[step][1], flags, ref[step][3], ref[step][4])
            assert got == want, (observed, arr, psc, ccr, modes, cms, down, t)


def timers_alike(seed: int) -> None:
    """The same random writes at the same cycles to three timers: one seen only at the writes
    (whole periods skipped), one whose outputs a pin shows (each event at its own cycle), one
    read at every cycle: at each write their CNT, CR1, SR, OCxREF and ARR agree."""
    rnd = random.Random(seed)
    made = [(host, Stm32l0Tim21(host)) for host in  # type: ignore[arg-type]
            (FakeDeviceHost(), ShowingHost(), FakeDeviceHost())]
    for _, dev in made:
        dev.reset()

    def write(reg: int, value: int) -> None:
        for _, dev in made:
            dev.write(reg, 4, value)

    write(ARR, rnd.randint(1, 7))
    write(PSC, rnd.randint(0, 2))
    write(EGR, 1)
    write(CCMR1, rnd.choice([PWM1, PWM2, TOGGLE, ACTIVE, INACTIVE]) << 4
          | rnd.choice([PWM1, PWM2, TOGGLE]) << 12 | rnd.choice([0, 1 << 3, 1 << 11]))
    write(CCR1, rnd.randint(0, 8))
    write(CCR1 + 4, rnd.randint(0, 8))
    write(CCER, 0x11)
    write(CR1, 1 | rnd.randint(0, 3) << 5 | rnd.choice([0, 1 << 4]) | rnd.choice([0, 1 << 7]))
    t = 0
    for _ in range(40):
        end = t + rnd.randint(1, 60)
        host, dev = made[2]
        for cycle in range(t + 1, end + 1):
            host.exceptions.now = cycle
            dev.read(CNT, 4)
        t = made[0][0].exceptions.now = made[1][0].exceptions.now = end
        states = {(dev.read(CNT, 4), dev.read(CR1, 4), dev.read(SR, 4), tuple(dev.output(ch)
                   for ch in (1, 2)), dev.read(ARR, 4)) for _, dev in made}
        assert len(states) == 1, (seed, t, states)
        cr1 = made[0][1].read(CR1, 4)
        match rnd.choice(["cnt", "cr1", "arr", "ccr", "ug", "sr", "ccmr", "none"]):
            case "cnt":
                write(CNT, rnd.randint(0, 8))
            case "cr1":
                write(CR1, (cr1 ^ rnd.choice([1 << 4, 1 << 1, 1 << 3, 1 << 7,
                                              rnd.randint(0, 3) << 5 ^ cr1 & 0x60]))
                      | (1 if rnd.random() < 0.9 else 0))
            case "arr":
                write(ARR, rnd.randint(1, 8))
            case "ccr":
                write(rnd.choice([CCR1, CCR1 + 4]), rnd.randint(0, 9))
            case "ug":
                write(EGR, 1)
            case "sr":
                write(SR, 0)
            case "ccmr":
                write(CCMR1, rnd.choice([PWM1, PWM2, TOGGLE, FROZEN]) << 4
                      | rnd.choice([PWM1, PWM2, TOGGLE]) << 12)


@pytest.mark.parametrize("seed", range(0, 300, 10))
def test_skipped_periods_and_events_taken_one_by_one_agree(seed):
    for offset in range(10):
        timers_alike(seed + offset)


@pytest.mark.parametrize("cr1, counts, turns", [
    (1 << 4, [2, 1, 0, 3, 2, 1, 0], [3]),  # down: below 0 to ARR, an update event
    (1 << 5, [1, 2, 3, 2, 1, 0, 1], [2, 5]),  # centre-aligned: an update at each turn
])
def test_external_clock_counts_down_and_centre_aligned(cr1, counts, turns):
    """External clock mode 1 (TI1FP1's rising edges) counts in CR1's direction: down from
    ARR (UG's count), or centre-aligned up to ARR and back down to 0 (DIR turning)."""
    dev, host = capture_timer()
    dev.write(CCER, 4, 0)
    dev.write(SMCR, 4, TI1FP1 << 4 | 7)
    dev.write(ARR, 4, 3)
    dev.write(PSC, 4, 0)
    dev.write(CR1, 4, 1 | cr1)
    dev.write(EGR, 4, 1)
    dev.write(SR, 4, 0)
    seen, updates = [], []
    for i in range(len(counts)):
        host.exceptions.now = 10 * i + 10
        edge(dev, host, 1, host.exceptions.now)
        seen.append(dev.read(CNT, 4))
        if dev.read(SR, 4) & 1:
            updates.append(i)
            dev.write(SR, 4, 0)
        host.exceptions.now += 5
        edge(dev, host, 0, host.exceptions.now)
    assert seen == counts and updates == turns and host.listed == []


def test_external_clock_centre_aligned_flags_and_preload():
    """External clock mode 1, centre-aligned, CMS 1: CC2IF at CCR2's match counting down
    only; with ARPE the count turns at the ARR the turn loads (RM0377's figure)."""
    dev, host = capture_timer()
    dev.write(CCER, 4, 0)
    dev.write(SMCR, 4, TI1FP1 << 4 | 7)
    dev.write(PSC, 4, 0)
    dev.write(ARR, 4, 3)
    dev.write(CCR1 + 4, 4, 2)  # (channel 2: output compare, frozen)
    dev.write(CR1, 4, 1 | 1 << 5 | 1 << 7)  # CEN, CMS 1, ARPE
    dev.write(EGR, 4, 1)
    dev.write(SR, 4, 0)
    dev.write(ARR, 4, 5)  # preloaded: taken at the next turn
    seen = []
    for i in range(12):
        host.exceptions.now = 10 * i + 10
        edge(dev, host, 1, host.exceptions.now)
        seen.append((dev.read(CNT, 4), dev.read(SR, 4) >> 2 & 1))
        dev.write(SR, 4, 0)
        host.exceptions.now += 5
        edge(dev, host, 0, host.exceptions.now)
    assert seen == [(1, 0), (2, 0), (5, 0), (4, 0), (3, 0), (2, 1), (1, 0), (0, 0), (1, 0),
                    (2, 0), (3, 0), (4, 0)]


def test_a_capture_counted_back_across_a_turn():
    """Centre-aligned, an edge at cycle 14 (counting up: 3) taken at 18, after the turn at
    ARR 4 (16): CCR1 holds the count of cycle 14."""
    dev, host = capture_timer()  # (4 cycles a count; channel 1 captures TI1's rising edges)
    dev.write(CR1, 4, 0)
    dev.write(ARR, 4, 4)
    dev.write(CNT, 4, 0)
    dev.write(CR1, 4, 1 | 1 << 5)
    host.exceptions.now = 18
    assert dev.read(CNT, 4) == 4 and dev.read(CR1, 4) & 1 << 4
    edge(dev, host, 1, 14)
    assert dev.read(CCR1, 4) == 3


def test_a_trigger_taken_late_starts_the_count_at_its_own_cycle():
    """Trigger mode: an edge at cycle 60 that the timer takes at 100 (brought there first, as
    at a block boundary) started the count at 60."""
    dev, host = capture_timer()  # (4 cycles a count)
    dev.write(CR1, 4, 0)
    dev.write(SMCR, 4, TI1FP1 << 4 | 6)
    host.exceptions.now = 100
    assert dev.read(CNT, 4) == 0
    edge(dev, host, 1, 60)
    assert dev.read(CR1, 4) & 1 and dev.read(CNT, 4) == 10


def test_a_capture_takes_the_count_at_the_edges_cycle():
    """The count at the edge's own cycle, also when the timer was brought past it (its own
    event at the same block boundary); CC1OF for a capture while CC1IF is set; reading CCR1
    clears CC1IF (not CC1OF); CCR1 is read-only; CC1G captures the count now."""
    dev, host = capture_timer()
    host.exceptions.now = 100
    assert dev.read(CNT, 4) == 25
    edge(dev, host, 1, 90)  # (applied at 100)
    assert dev.read(CCR1, 4) == 22 and dev.read(SR, 4) == 0  # (the read cleared CC1IF)
    edge(dev, host, 0, 100)  # a falling edge: not taken
    edge(dev, host, 1, 100)
    host.exceptions.now = 140
    edge(dev, host, 0, 130)
    edge(dev, host, 1, 140)
    assert dev.read(SR, 4) == 0b10 | 1 << 9  # CC1IF, CC1OF
    dev.write(CCR1, 4, 7)  # read-only
    assert dev.read(CCR1, 4) == 35 and dev.read(SR, 4) == 1 << 9
    host.exceptions.now = 160
    dev.write(EGR, 4, 1 << 1)  # CC1G
    assert dev.read(CCR1, 4) == 40
    assert host.listed == []


def test_an_input_high_from_the_start_is_no_edge():
    """A pin already high when the timer comes out of reset is the input's level, not a
    rising edge the first change elsewhere would capture."""
    host = PortHost()
    host.port.level = 1
    dev = Stm32l0Tim21(host)  # type: ignore[arg-type]
    dev.reset()
    dev.write(CCMR1, 4, 1)
    dev.write(CCER, 4, 1)
    dev.write(CR1, 4, 1)
    host.exceptions.now = 50
    dev.inputs_changed(50)  # (another pin of the timer's changed)
    assert dev.read(SR, 4) == 0
    edge(dev, host, 0, 60)
    edge(dev, host, 1, 70)
    assert dev.read(SR, 4) == 0b10 and dev.read(CCR1, 4) == 70


def test_the_filter_passes_what_holds_and_plans_its_event():
    """IC1F 3 (8 samples of f_CK_INT: 8 cycles): a 5-cycle pulse is gone; a level that holds
    is captured 8 cycles after its edge, at an event of its own (which wakes the core)."""
    dev, host = capture_timer()
    dev.write(CCMR1, 4, 1 | 3 << 4)
    dev.write(DIER, 4, 1 << 1)
    host.exceptions.now = 205
    edge(dev, host, 1, 200)
    edge(dev, host, 0, 205)
    assert host.exceptions.due is None and dev.read(SR, 4) == 0
    host.exceptions.now = 300
    edge(dev, host, 1, 300)
    assert host.exceptions.due == 308 and host.lines[dev.irq] is False
    host.exceptions.now = 308
    host.exceptions.action()
    assert host.lines[dev.irq] is True and dev.read(CCR1, 4) == 77


def test_reset_mode_restarts_the_count_with_an_update():
    """SMCR reset mode on TI1FP1: a rising edge captures (CCR1, the period) and then resets
    the counter (UIF, TIF); TS ITR2 (no timer's TRGO on this part's TIM21) is listed, as
    are external clock mode 2 with an encoder mode and a capture from TRC."""
    dev, host = capture_timer()
    dev.write(SMCR, 4, 4 | 5 << 4)
    host.exceptions.now = 400
    edge(dev, host, 1, 400)
    assert dev.read(CCR1, 4) == 100 and dev.read(CNT, 4) == 0
    assert dev.read(SR, 4) & (1 | 1 << 6) == 1 | 1 << 6
    host.exceptions.now = 480
    assert dev.read(CNT, 4) == 20
    assert host.listed == []
    dev.write(SMCR, 4, 4 | 2 << 4)  # TS ITR2
    dev.write(SMCR, 4, 1 << 14)  # ECE: external clock mode 2 (ETR): modelled
    dev.write(SMCR, 4, 1 << 14 | 3)  # with encoder mode 3: not
    dev.write(SMCR, 4, 3)  # encoder mode 3: modelled
    dev.write(CCMR1, 4, 3)  # CC1S 3: TRC (CC1E already set: listed at once)
    dev.write(CCER, 4, 1)
    assert [entry[1] for entry in host.listed] == [SMCR, SMCR, CCMR1, CCER]


@pytest.mark.parametrize("busy", [False, True])
def test_an_edge_is_taken_before_the_timers_own_later_event(firmware, cli, tmp_path, busy):
    """Reset mode on TI1FP1 with PA0 rising every 990 cycles and the update planned 1,000
    cycles after each reset: the edge comes first, so after the first edge no overflow
    happens, also when the core runs a long block in which both fall due (device events run
    earliest first)."""
    rows = []
    for k in range(40):
        t = 0.001 + k * 990 / 32e6
        rows += [f"{t:.12f},1", f"{t + 400 / 32e6:.12f},0"]
    report = capture(firmware, cli, tmp_path, rows, PWM_INPUT=None, PSC_VALUE=0,
                     ARR_VALUE=999, CAPTURES=30, **({"BUSY": None} if busy else {}))
    found = re.match(r"u (\d+) c", report["stdout"])
    assert found, report["stdout"]
    assert int(found.group(1)) == 31  # before the first edge at 1 ms: 32,000 cycles
    assert {b for _, b in captured_after_u(report)[1:]} == {400}
    assert {a for a, _ in captured_after_u(report)[1:]} == {990}


def captured_after_u(report) -> list[tuple[int, int]]:
    return [tuple(map(int, pair.split("/")))
            for pair in report["stdout"].split(" c ", 1)[1].split()]


def test_both_edges_polarity_in_the_slave_modes():
    """CC1P with CC1NP ("both edges"): reset mode resets at each edge of TI1FP1, and gated
    mode takes TI1 as it is (not inverted)."""
    dev, host = capture_timer()
    dev.write(CCER, 4, 0xB)  # CC1E, CC1P, CC1NP
    dev.write(SMCR, 4, 4 | 5 << 4)
    host.exceptions.now = 400
    edge(dev, host, 1, 400)
    assert dev.read(CNT, 4) == 0 and dev.read(SR, 4) & (1 | 1 << 6) == 1 | 1 << 6
    dev.write(SR, 4, 0)
    host.exceptions.now = 480
    edge(dev, host, 0, 480)
    assert dev.read(CNT, 4) == 0 and dev.read(SR, 4) & (1 | 1 << 6) == 1 | 1 << 6
    dev.write(SMCR, 4, 5 | 5 << 4)  # gated: counts while TI1 is high
    host.exceptions.now = 880
    assert dev.read(CNT, 4) == 0  # low: stands
    edge(dev, host, 1, 880)
    host.exceptions.now = 960
    assert dev.read(CNT, 4) == 20


def test_inputs_from_inside_the_part_are_listed():
    """TIM21's OR taking TI1 from the MSI and CR2.TI1S are listed; such an input keeps its
    level (the LSI and the LSE are modelled: test_the_lsi_measured_as_stm32cubel0_does)."""
    dev, host = capture_timer()
    dev.write(0x50, 4, 3 << 2)  # TI1_RMP: MSI
    dev.write(0x04, 4, 1 << 7)  # CR2.TI1S
    assert [entry[1] for entry in host.listed] == [0x50, 0x04]
    assert "TI1 from an internal signal" in host.whys[0] and "TI1S" in host.whys[1]
    host.exceptions.now = 50
    edge(dev, host, 1, 50)  # the pin: not TI1 any more
    assert dev.read(SR, 4) == 0


@pytest.mark.parametrize("source, periods", [
    ("LSI", {6918, 6919}), ("IWDG", {6918, 6919}), ("IWDG_LATE", {6918, 6919}),
    ("LSE", {7812, 7813}), ("FILTER", {6918, 6919})])
def test_the_lsi_measured_as_stm32cubel0_does(firmware, cli, source, periods):
    """TIM21's TI1 from the LSI (OR TI1_RMP 5, HAL_TIMEx_RemapConfig) or the LSE (4), channel 1
    capturing every 8th rising edge: two captures 8 periods apart, 32 MHz / 37 kHz x 8 (or
    / 32,768 Hz x 8) timer clocks, each edge at its own cycle; nothing listed. The LSI runs
    once RCC_CSR.LSION or the IWDG's start starts it (also after the capture is set up);
    through IC1F's filter (8 samples) the same period."""
    defines = {} if source == "LSI" else {"FILTER": 3} if source == "FILTER" else {source: None}
    result = cli("run", tim(firmware, "lsi", **defines), "--strict-peripherals",
                 "--run-for", "1s", *LIMIT)
    assert result.returncode == 0, result.report
    period, hz = map(int, re.fullmatch(r"period (\d+) hz (\d+)\n",
                                       result.report["stdout"]).groups())
    assert period in periods and hz == 256_000_000 // period
    assert result.report["unmodelled_registers"] == []


@pytest.mark.parametrize("define", ["OFF", "NOIRQ"])
def test_an_oscillator_not_started_gives_no_edge(firmware, cli, define):
    """The LSI not started (no LSION, no IWDG): TI1 stays low, no capture comes and the WFI
    waiting for one is a deadlock, as on the chip; so is a WFI with the capture running but no
    interrupt enabled (its edges wake nothing)."""
    result = cli("run", tim(firmware, "lsi", **{define: None}), "--run-for", "1s", *LIMIT)
    assert result.report["status"] == "deadlock", result.report


def clock_gap(dev, host, back: int) -> None:
    """The timer's clock stops now (nothing planned meanwhile) and is back at cycle ``back``."""
    dev.clocked = lambda: False  # type: ignore[method-assign]
    dev.restart()
    assert host.exceptions.due is None
    host.exceptions.now = back
    dev.clocked = lambda: True  # type: ignore[method-assign]
    dev.restart()


def test_the_input_stage_stops_with_the_clock():
    """A filtered edge still held back when the timer's clock stops is gone; the level that
    differs when the clock is back is an edge then (through the filter again)."""
    dev, host = capture_timer()
    dev.write(CCMR1, 4, 1 | 3 << 4)  # IC1F: 8 cycles
    host.exceptions.now = 300
    edge(dev, host, 1, 300)
    assert host.exceptions.due == 308
    clock_gap(dev, host, 400)
    assert host.exceptions.due == 408
    host.exceptions.now = 408
    host.exceptions.action()
    # (the count stood from 300 to 400 with the clock: 308 cycles counted, 4 a count)
    assert dev.read(SR, 4) == 0b10 and dev.read(CCR1, 4) == 77


def test_the_co2_example(cli, tmp_path):
    """examples/sensors/co2.c (docs/simulator.md, "Pins"; docs/ci.md): TIM2's PWM input mode
    measures the sensor's cycles in examples/sensors/co2.csv while the core sleeps; each
    reading is the concentration the recording encodes; the line left low, the overflow says
    so; the LED lit while above 1000 ppm."""
    root = Path(__file__).resolve().parents[1]
    elf = tmp_path / "co2.elf"
    built = cli("build", root / "examples/sensors/co2.c", "-t", "stm32l031", "--irq-vectors",
                "-o", elf, json=False)
    assert built.returncode == 0, built.stderr
    res = cli("run", elf, "--run-for", "20s", "--pin",
              f"PA0={root / 'examples/sensors/co2.csv'}")
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"].splitlines() == ["co2 monitor up"] + [
        f"co2 {ppm} ppm" + (" VENTILATE" if ppm > 1000 else "")
        for ppm in (450, 480, 560, 720, 950, 1180, 1400, 1300, 900, 600)] + ["no signal"]
    assert report["cycles"] == 462_687 and report["sram"]["stack_peak"] == 144  # docs/ci.md
    led = report["pins"]["PB3"]  # from the 1180 ppm reading (6.224 s) to the 900 (9.236 s)
    assert (led["rising"], round(led["high_ms"], 3)) == (1, 3011.048)  # docs/simulator.md
    assert report["exceptions"]["taken"] == {"IRQ15": 12}  # 11 rising edges, 1 overflow
    assert report["unmodelled_registers"] == []


@pytest.mark.parametrize("cc3", [False, True])
def test_dma_sets_each_periods_duty(firmware, cli, tmp_path, cc3):
    """DMA1 writes a table of duties into a preloaded CCR: channel 2 (TIM2_UP) into CCR2 at
    each update event: each period's pulse on PB3 is the duty written at the update before
    the last (5 us loaded by UG, then 10 ... 60 us); channel 1 (TIM2_CH3, CC3DE, as
    HAL_TIM_PWM_Start_DMA) into CCR3 at each of its compare events: on PA2 each period the
    duty written in the one before. The transfer's end interrupts."""
    vcd = tmp_path / "pwm.vcd"
    result = cli("run", tim(firmware, "pwm_dma", **({"CC3": None} if cc3 else {})), "--vcd",
                 vcd, "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "done\n"
    edges = vcd_edges(vcd, "PA2" if cc3 else "PB3")
    widths = [(b - a) // 32 for (a, level), (b, _) in pairwise(edges) if level == "1"]
    assert widths == ([5] if cc3 else [5, 5]) + [10, 20, 30, 40, 50, 60]
    rises = [at for at, level in edges if level == "1"]
    assert {b - a for a, b in pairwise(rises[1:])} == {3200}  # a period of 100 us throughout
    assert result.report["exceptions"]["taken"] == {"IRQ9" if cc3 else "IRQ10": 1}
    assert result.report["unmodelled_registers"] == []


@pytest.mark.parametrize("busy", [False, True])
def test_a_timer_paced_dma_into_bsrr_acts_at_each_update(firmware, cli, tmp_path, busy):
    """DMA1 channel 2 (TIM2_UP) writes {set PA5, reset PA5} into GPIOA's BSRR at each update
    event (every 320 cycles): PA5's edges are 320 cycles apart, also while the core runs a
    long block in which they fall due (the DMA's access acts at the event's cycle)."""
    vcd = tmp_path / "bsrr.vcd"
    result = cli("run", tim(firmware, "pwm_dma", BSRR=None, **({"BUSY": None} if busy else {})),
                 "--vcd", vcd, "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    edges = [at for at, level in vcd_edges(vcd, "PA5") if level in "01"]
    assert len(edges) >= 19
    assert {b - a for a, b in pairwise(edges[1:])} == {320}


def test_dma_moves_each_capture_to_memory(firmware, cli, tmp_path):
    """DMA1 channel 5 (TIM2_CH1, CC1DE) reads CCR1 at each capture of PA0's rising edges
    into a table: four captures a period (1 ms) apart, each read in time (no CC1OF)."""
    pin = tmp_path / "pa0.csv"
    pin.write_text("\n".join(square(0.001, 0.00025, 6)) + "\n")
    result = cli("run", tim(firmware, "pwm_dma", CAPTURE=None), "--pin", f"PA0={pin}",
                 "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    found = re.fullmatch(r"c (\d+) (\d+) (\d+) (\d+) of 0\n", result.report["stdout"])
    assert found, result.report["stdout"]
    values = list(map(int, found.groups()))
    assert [b - a for a, b in pairwise(values)] == [1000, 1000, 1000]
    assert result.report["exceptions"]["taken"] == {"IRQ11": 1}
    assert result.report["unmodelled_registers"] == []


def test_a_dma_burst_rewrites_arr_and_ccr1_at_each_update(firmware, cli, tmp_path):
    """As STM32CubeL0's TIM_DMABurst: DMA1 channel 2 writes 3 words through DMAR (DBA ARR,
    DBL 2) at each update event: ARR at once (no ARPE), the reserved word TIM1 has its RCR
    in (nothing, not listed), CCR1 preloaded (from the next update on): periods of 1000,
    400, 600 and 600 cycles, the PWM on PA0 high 300, 300, 100 and 500 of them."""
    vcd = tmp_path / "burst.vcd"
    result = cli("run", tim(firmware, "burst"), "--vcd", vcd, "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "done\n"
    edges = vcd_edges(vcd, "PA0")
    rises = [at for at, level in edges if level == "1"]
    assert [b - a for a, b in pairwise(rises)] == [1000, 400, 600, 600]
    widths = [b - a for (a, level), (b, _) in pairwise(edges) if level == "1"]
    assert widths == [300, 300, 100, 500]
    assert result.report["exceptions"]["taken"] == {"IRQ10": 1}
    assert result.report["unmodelled_registers"] == []


def test_a_dma_burst_reads_the_period_and_high_time_at_each_capture(firmware, cli, tmp_path):
    """HAL_TIM_DMABurst_ReadStart on the PWM input: at each capture of PA0's rising edge DMA1
    channel 5 reads CCR1 (the period) and CCR2 (the high time) through DMAR (DBA 13, DBL 1):
    the table holds pairs, 1000 and 250 us after the first (no falling edge before it)."""
    pin = tmp_path / "pa0.csv"
    pin.write_text("\n".join(square(0.001, 0.00025, 6)) + "\n")
    result = cli("run", tim(firmware, "burst", READ=None), "--pin", f"PA0={pin}",
                 "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    found = re.fullmatch(r"b( \d+){8}\n", result.report["stdout"])
    assert found, result.report["stdout"]
    table = list(map(int, result.report["stdout"].split()[1:]))
    assert table[1] == 0 and table[2:] == [1000, 250] * 3
    assert result.report["exceptions"]["taken"] == {"IRQ11": 1}
    assert result.report["unmodelled_registers"] == []


@pytest.mark.parametrize("case, define", [("pwm_dma", "CAPTURE"), ("burst", "READ")])
def test_a_capture_dma_that_cannot_finish_is_a_deadlock(firmware, cli, tmp_path, case, define):
    """Three pulses for a table of 4 captures (8 burst reads): the core sleeps for a transfer
    that no edge can bring once the pin's rows are done, a `deadlock` at the last edge's
    time, not a run through the timer's overflows for ever (a capture channel's DMA request
    comes with its input's edges, not the count's events)."""
    pin = tmp_path / "pa0.csv"
    pin.write_text("\n".join(square(0.001, 0.00025, 3)) + "\n")
    result = cli("run", tim(firmware, case, **{define: None}), "--pin", f"PA0={pin}",
                 "--timeout", "60", *LIMIT)
    assert result.report["status"] == "deadlock", result.report["fault"]
    assert 3.24 < result.report["sleep_ms"] + result.report["cycles"] / 32_000 < 3.3  # (3.25)


def test_tim21_has_no_dma_requests():
    """TIM21 and TIM22 have no DMA request line on this part: UDE is listed, with why."""
    dev, host = timer()
    dev.write(DIER, 4, 1 << 8)
    assert [entry[1] for entry in host.listed] == [DIER]
    assert host.whys == ["no DMA request line on this part (TIM2's only)"]


class FakeDma:
    """DMA1 as a timer sees it: whether it ``serve``s, and the items it moves (line, cycle)."""

    active = True

    def __init__(self, host: FakeDeviceHost) -> None:
        self.host, self.serve, self.moved = host, True, []
        self.timer: Stm32l0Tim2 | None = None

    def serves(self, device: str, line: str) -> bool:
        return self.serve

    def service(self) -> None:
        timer = self.timer
        for line in ("up", "ch1", "ch2", "ch3", "ch4"):
            if self.serve and timer is not None and timer.dma_request(line):
                self.moved.append((line, self.host.exceptions.now))
                timer.dma_served(line, timer.base + CCR1)


class DmaHost(FakeDeviceHost):
    def __init__(self) -> None:
        super().__init__()
        self.dma = FakeDma(self)

    def device(self, name: str):  # type: ignore[override]
        return self.dma if name == "stm32l0_dma" else None


def dma_timer() -> tuple[Stm32l0Tim2, DmaHost]:
    host = DmaHost()
    dev = Stm32l0Tim2(host)  # type: ignore[arg-type]
    dev.reset()
    host.dma.timer = dev
    return dev, host


def test_update_dma_requests_follow_urs():
    """EGR.UG is an update DMA request with URS clear, none with URS set (as its UIF)."""
    dev, host = dma_timer()
    dev.write(DIER, 4, 1 << 8)  # UDE
    dev.write(EGR, 4, 1)
    assert host.dma.moved == [("up", 0)]
    dev.write(CR1, 4, 1 << 2)  # URS
    dev.write(EGR, 4, 1)
    assert host.dma.moved == [("up", 0)]


def test_a_ccr_past_arr_requests_at_each_update():
    """CCR1 past ARR: CC1IF and CC1's DMA request at each overflow (a 100% duty in a table
    the DMA feeds does not stall it)."""
    dev, host = dma_timer()
    dev.write(ARR, 4, 9)
    dev.write(CCR1, 4, 20)
    dev.write(DIER, 4, 1 << 9)  # CC1DE
    dev.write(CR1, 4, 1)
    assert host.exceptions.due == 10  # the update, planned for the request
    host.exceptions.now = 10
    host.exceptions.action()
    assert host.dma.moved == [("ch1", 10)] and dev.read(SR, 4) & 0b10


def test_a_request_nobody_serves_plans_nothing_and_drops_with_its_enable():
    """No DMA channel serving the line: the timer plans no event for it (it wakes nothing);
    a request raised then, its enable cleared, is not served when a channel comes."""
    dev, host = dma_timer()
    host.dma.serve = False
    dev.write(ARR, 4, 9)
    dev.write(DIER, 4, 1 << 8)
    dev.write(CR1, 4, 1)
    assert host.exceptions.due is None
    dev.write(EGR, 4, 1)  # a request: up, nobody serves it
    assert dev.dma_request("up")
    dev.write(DIER, 4, 0)
    assert not dev.dma_request("up")
    host.dma.serve = True
    dev.write(DIER, 4, 1 << 8)
    dev.dma_changed()
    assert host.dma.moved == [] and host.exceptions.due == 10


DCR, DMAR = 0x48, 0x4C


def test_dmar_reaches_dba_plus_the_index_and_wraps_after_dbl_plus_one():
    """Each DMAR access (the core's too) reaches the register DBA + the index words from CR1,
    the index stepping on and back to 0 after DBL + 1; a DCR write starts again at DBA."""
    dev, host = dma_timer()
    dev.write(DCR, 4, 10 | 1 << 8)  # DBA 10: PSC; DBL 1: PSC, ARR
    assert dev.read(DCR, 4) == 10 | 1 << 8
    dev.write(DMAR, 4, 7)
    dev.write(DMAR, 4, 99)
    assert (dev.read(PSC, 4), dev.read(ARR, 4)) == (7, 99)
    assert [dev.read(DMAR, 4) for _ in range(3)] == [7, 99, 7]
    dev.write(DCR, 4, 11 | 1 << 8)  # a DCR write: the next access at DBA again (ARR)
    assert dev.read(DMAR, 4) == 99
    dev.write(DMAR, 2, 0x1234)  # a halfword access is one transfer too (RCR's word: nothing)
    assert dev.read(DMAR, 4) == 99 and host.listed == []  # (the index wrapped: ARR again)
    dev.write(DCR, 4, 13)  # DBL 0: each access CCR1
    dev.write(DMAR, 2, 0x1234)
    dev.write(DMAR + 2, 2, 0x5678)  # (the upper half of a 16-bit register: nothing)
    assert dev.read(CCR1, 4) == 0x1234
    assert (dev.read(DMAR + 2, 2), dev.read(DMAR, 2)) == (0, 0x1234)
    dev.write(DCR, 4, 0xFFFF_FFFF)
    assert dev.read(DCR, 4) == 0x1F1F  # DBA, DBL


def test_a_burst_crossing_the_advanced_timers_words_does_nothing_there():
    """RCR's and BDTR's words (0x30, 0x44), which TIM2 lacks, read 0 and ignore a burst's
    writes without being listed; a burst reaching DMAR or DCR, and DBL past 17, are."""
    dev, host = dma_timer()
    dev.write(DCR, 4, 12 | 1 << 8)  # RCR's word, CCR1
    dev.write(DMAR, 4, 5)
    dev.write(DMAR, 4, 6)
    assert [dev.read(DMAR, 4), dev.read(DMAR, 4)] == [0, 6] and host.listed == []
    dev.write(DCR, 4, 17)  # BDTR's word
    dev.write(DMAR, 4, 5)
    assert dev.read(DMAR, 4) == 0 and host.listed == []
    dev.write(DCR, 4, 19)  # DMAR itself
    dev.write(DMAR, 4, 5)
    assert host.listed == [("stm32l0_tim2", DMAR, 4, 5)]
    assert "DMAR's burst reaching DMAR" in host.whys[0]
    dev.write(DCR, 4, 18)  # DCR itself: listed, DCR kept
    dev.write(DMAR, 4, 5)
    assert host.listed[-1] == ("stm32l0_tim2", DMAR, 4, 5) and dev.read(DCR, 4) == 18
    assert "DMAR's burst reaching DCR" in host.whys[-1]
    dev.write(DCR, 4, 18 << 8)
    assert host.listed[-1] == ("stm32l0_tim2", DCR, 4, 18 << 8)
    assert host.whys[-1].startswith("DBL 18: reserved")


def test_a_burst_keeps_its_request_up_for_each_transfer():
    """The update request stays up while the DMA's items go through DMAR and the burst has
    transfers left (dma_served says so: the DMA serves on at once), and drops after the
    last; an item that does not go through DMAR drops it at once, whatever DBL says."""
    dev, host = dma_timer()
    host.dma.serve = False
    dev.write(DCR, 4, 11 | 2 << 8)  # ARR, RCR's word, CCR1
    dev.write(DIER, 4, 1 << 8)  # UDE
    dev.write(EGR, 4, 1)
    dmar = dev.base + DMAR
    for value, more in ((399, True), (0, True), (100, False)):
        assert dev.dma_request("up")
        dev.write(DMAR, 4, value)
        assert dev.dma_served("up", dmar) is more
    assert not dev.dma_request("up")
    assert (dev.read(ARR, 4), dev.read(CCR1, 4)) == (399, 100)
    dev.read(DMAR, 4)  # the core leaves the burst's index at 1
    dev.write(EGR, 4, 1)
    dev.write(CCR1, 4, 5)  # an item not through DMAR (a channel pointed at CCR1) drops it
    assert dev.dma_served("up", dev.base + CCR1) is False and not dev.dma_request("up")


class BusHost(FakeDeviceHost):
    """TIM2 and the real DMA1 on one bus with a few words of memory at 0x20000000."""

    def __init__(self) -> None:
        super().__init__()
        self.memory: dict[int, int] = {}
        self.found: dict[str, object] = {}

    def device(self, name: str):  # type: ignore[override]
        return self.found.get(name)

    def bus_read(self, address: int, size: int) -> int | None:
        if address >> 16 == 0x4000:
            return cast("int", self.found["stm32l0_tim2"].read(address & 0x3FF, size))  # type: ignore[attr-defined]
        return self.memory.get(address, 0)

    def bus_write(self, address: int, size: int, value: int) -> bool:
        if address >> 16 == 0x4000:
            self.found["stm32l0_tim2"].write(address & 0x3FF, size, value)  # type: ignore[attr-defined]
        else:
            self.memory[address] = value
        return True


def test_a_long_burst_moves_at_the_event_not_paced():
    """DBL 7 (8 transfers, past the DMA's pacing of a request that stays up): each update's
    burst of 8 writes through DMAR at the update's own cycle; the channel's end with the
    second burst."""
    from sim.devices.stm32l0_dma import Stm32l0Dma

    host = BusHost()
    dev, dma = Stm32l0Tim2(host), Stm32l0Dma(host)  # type: ignore[arg-type]
    host.found = {"stm32l0_tim2": dev, "stm32l0_dma": dma}
    dev.reset()
    dma.reset()
    table = [9, 3, 19, 0, 1, 2, 3, 4, 9, 0, 29, 0, 5, 6, 7, 8]  # CNT, PSC, ARR, RCR, CCRs x 2
    host.memory = {0x2000_0000 + 4 * n: value for n, value in enumerate(table)}
    dma.write(0xA8, 4, 8 << 4)  # CSELR: channel 2 TIM2_UP
    dev.write(ARR, 4, 9)
    dev.write(DCR, 4, 9 | 7 << 8)  # DBA 9: CNT
    dev.write(DIER, 4, 1 << 8)  # UDE
    base = 0x08 + 20  # channel 2's CCR
    dma.write(base + 0x08, 4, 0x4000_0000 + DMAR)  # CPAR
    dma.write(base + 0x0C, 4, 0x2000_0000)  # CMAR
    dma.write(base + 0x04, 4, 16)  # CNDTR
    dma.write(base, 4, 2 << 10 | 2 << 8 | 1 << 7 | 1 << 4 | 1)  # 32/32 bits, MINC, DIR, EN
    dev.write(CR1, 4, 1)
    assert host.exceptions.due == 10
    host.exceptions.now = 10
    host.exceptions.action()  # the update: the first burst, all of it now
    assert dma.read(base + 0x04, 4) == 8
    assert [dev.read(r, 4) for r in (PSC, ARR, CCR1, CCR1 + 12)] == [3, 19, 1, 4]
    assert dev.read(CNT, 4) == 9 and host.listed == []  # (CNT written 9 at the update)
    host.exceptions.now = due = cast("int", host.exceptions.due)
    assert due == 21  # (CNT 9 at cycle 10, ARR 19: 11 counts to the next update)
    cast("Callable[[], None]", host.exceptions.action)()
    assert dma.read(base + 0x04, 4) == 0 and dma.read(0, 4) >> 4 & 2  # TCIF2
    assert [dev.read(r, 4) for r in (ARR, CCR1, CCR1 + 12)] == [29, 5, 8]


@pytest.mark.parametrize("cls, value, remapped, comparator", [
    ("Stm32l0Tim2", 0x08, {4}, 1), ("Stm32l0Tim2", 0x10, {4}, 0),
    ("Stm32l0Tim2", 0x18, set(), None),  # TIM2_TI4_GPIO2: the pin
    ("Stm32l0Tim22", 0x04, {1}, 1), ("Stm32l0Tim22", 0x08, {1}, 0),
    ("Stm32l0Tim22", 0x0C, set(), None),  # TIM22_TI1_GPIO2: the pin
    ("Stm32l0Tim21", 6 << 2, {1}, 0), ("Stm32l0Tim21", 0x20, {2}, 1),
])
def test_or_takes_an_input_from_a_comparator_or_the_pin(cls, value, remapped, comparator):
    """STM32CubeL0's remap codes: TI4_RMP (TIM2) and TI1_RMP (TIM22) 01 COMP2, 10 COMP1, 11 the
    pin (GPIO2); TIM21's TI1_RMP 110 COMP1, TI2_RMP COMP2."""
    import sim.devices.stm32l0_tim as tim

    timer = getattr(tim, cls)(FakeDeviceHost())
    timer.reset()
    assert timer._remapped(value) == remapped
    ti = next(iter(remapped), 1)
    assert timer.comparator(ti, value) == comparator

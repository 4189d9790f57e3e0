"""A core asleep for good while a peripheral of the STM32L0 goes on with what can never wake it
(tests/programs/irq/sleepers.c; masked_sleepers.c: an interrupt its line in the NVIC keeps
from waking the core): the run ends as a deadlock at once, not a run through device time until
--timeout (a device event planned as a wake-up must be able to lead to one); where the line,
SEVONPEND or an EXTI event can wake it, it wakes. A long sleep through events the simulator
cannot rule out (long_sleep.c) is one warning, not a verdict."""

import pytest

import sim.exceptions
from tests.test_exceptions import irq_program

TIMEOUT = ("--timeout", "10")  # a regression fails (status timeout), not hangs


def sleeper(firmware, case: str, **defines):
    return irq_program(firmware, "sleepers.c", "stm32l031", **{f"CASE_{case}": None},
                       **defines)


@pytest.mark.parametrize("case, defines", [
    ("wwdg", {}),  # the window watchdog's counter, not started, wraps for ever
    ("wwdg", {"EWI": None}),  # its EWIF once, IRQ 0 disabled in the NVIC: then nothing new
    ("adc", {}),  # continuous conversions, no interrupt
    ("adc", {"EOCIE": None}),  # ... EOCIE, IRQ 12 disabled in the NVIC: EOC once, then none
    ("adc_dma", {}),  # ... read into memory by a circular DMA channel, no interrupt
    ("adc_dma", {"TCIE": None}),  # ... TCIE, IRQ 9 disabled in the NVIC: TCIF once, then none
    ("tim_dma", {}),  # TIM2's update DMA requests, the same
    ("adc_trig", {}),  # conversions started by TIM2's TRGO, no interrupt, no DMA
    ("slave", {}),  # TIM2's TRGO resetting TIM21, which raises nothing
    ("spi_dma", {}),  # SPI1's frames fed by a circular DMA channel, no interrupt
    ("usart_dma", {}),  # USART2's bytes fed by a circular DMA channel, no interrupt
    # ... the channel pointed at RDR: its request never drops, served at the DMA's own pace
    # (those paced items woke the core for ever: s51 spin review #6)
    ("usart_dma_rdr", {}),
])
def test_a_peripheral_that_can_wake_nothing_leaves_a_sleep_a_deadlock(firmware, cli, case,
                                                                      defines):
    result = cli("run", sleeper(firmware, case, **defines), *TIMEOUT)
    assert result.report["status"] == "deadlock", result.report["fault"]
    assert result.returncode == 5
    assert result.report["stdout"].startswith("asleep\n")  # (usart_dma: its bytes follow)
    assert result.report["sleep_ms"] < 10  # (the EWI case: its one EWIF, 8.2 ms on)


# --- an interrupt enabled in the peripheral, its line's fate the NVIC's (masked_sleepers.c) ----
def masked(firmware, case: str, how: str | None = None):
    defines = {f"CASE_{case}": None, **({how: None} if how else {})}
    return irq_program(firmware, "masked_sleepers.c", "stm32l031", **defines)


# EOC re-raised by the DMA's reads; LSE captures; RXNE so; TXE by the DMA's writes
STREAMS = ["adc", "tim21", "spi", "usart"]
IRQS = {"adc": "IRQ12", "tim21": "IRQ20", "spi": "IRQ25", "usart": "IRQ28"}


def console(result) -> str:
    return result.report["stdout"].replace(".", "")  # (the usart case's bytes left out)


@pytest.mark.parametrize("how", [None, "HANDLER"])  # the line disabled; or unable to preempt
@pytest.mark.parametrize("case", STREAMS)
def test_a_flag_rising_again_on_a_line_that_cannot_wake_the_core_is_a_deadlock(firmware, cli,
                                                                               case, how):
    result = cli("run", masked(firmware, case, how), *TIMEOUT)
    assert result.report["status"] == "deadlock", result.report["fault"]
    assert result.returncode == 5
    assert console(result) == "asleep\n"
    # the message names what still runs, and where to look (it said 'no device event to come')
    message = " ".join(result.report["fault"]["message"].split())
    assert "still run" in message and "NVIC" in message, message
    assert result.report["sleep_ms"] < 1  # at once, not after a run through device time


@pytest.mark.parametrize("how", ["NVIC", "PRIMASK", "SEVONPEND", "EXTI_EVENT"])
@pytest.mark.parametrize("case", STREAMS)
def test_the_same_stream_wakes_the_core_where_its_line_or_an_event_can(firmware, cli, case,
                                                                       how):
    result = cli("run", masked(firmware, case, how), *TIMEOUT)
    assert (result.report["status"], result.returncode) == ("ok", 0), result.report["fault"]
    assert console(result) == "asleep\nwoken\n"
    if how == "NVIC":
        assert result.report["exceptions"]["taken"] == {IRQS[case]: 1}
    assert result.report["sleep_ms"] < 2  # (EXTI_EVENT: the RTC's wake-up 0.98 ms on)


# --- a long sleep through events that may wake the core but wake nothing: one warning ---------
def long_sleep(firmware, **defines):
    return irq_program(firmware, "long_sleep.c", "stm32l031", **defines)


def spin_warnings(result) -> list[str]:
    return [text for text in result.report["warnings"] if "the core has slept" in text]


def test_an_hour_asleep_through_waking_events_that_wake_nothing_is_warned_of_once(firmware,
                                                                                  cli):
    result = cli("run", long_sleep(firmware), "--run-for", "7200s", *TIMEOUT)
    assert (result.report["status"], result.returncode) == ("ok", 0)  # (not a verdict)
    [warning] = spin_warnings(result)
    assert "most from stm32l0_tim2" in warning  # (TIM2's updates: its DMA writes GPIOA)
    assert warning in result.stderr
    # the core woken by the RTC every 1,000 s: no sleep lasts an hour
    woken = cli("run", long_sleep(firmware, RTC_WAKEUP=None), "--run-for", "7200s", *TIMEOUT)
    assert woken.report["status"] == "ok" and woken.report["exceptions"]["taken"]["IRQ2"] == 7
    assert spin_warnings(woken) == []


def test_long_sleeps_through_no_waking_event_are_not_warned_of(firmware, cli, monkeypatch):
    """A node the RTC wakes every 90 minutes sleeps 90 minutes through nothing: no spin (it
    was warned of for the time alone; s54 review M1); nor is an ADC streaming into a DMA ring
    with no interrupt while the RTC wakes the core every 0.1 s: its conversions are known
    unable to wake it (they were counted as may-wake: warned of after 0.9 s of 1.14 million a
    second; s54 review M2; here ~9,000 a sleep against a limit lowered to 1,000)."""
    node = cli("run", long_sleep(firmware, RTC_WAKEUP=None, NO_WAVE=None, WUT_SECONDS=5400),
               "--run-for", "15840s", *TIMEOUT)
    assert node.report["status"] == "ok" and node.report["exceptions"]["taken"]["IRQ2"] == 2
    assert spin_warnings(node) == []
    monkeypatch.setattr(sim.exceptions, "SPIN_EVENTS", 1000)
    ring = cli("run", long_sleep(firmware, RTC_WAKEUP=None, ADC_RING=None, WUT_TICKS=1638),
               "--run-for", "0.35s", *TIMEOUT)
    assert ring.report["status"] == "ok" and ring.report["exceptions"]["taken"]["IRQ2"] == 3
    assert spin_warnings(ring) == []


def test_a_sleep_through_many_waking_events_is_warned_of(firmware, cli, monkeypatch):
    elf = long_sleep(firmware, ARR_VALUE=99)  # (an update every 0.2 s: 300 in a minute)
    assert spin_warnings(cli("run", elf, "--run-for", "60s", *TIMEOUT)) == []  # (10^6: far)
    monkeypatch.setattr(sim.exceptions, "SPIN_EVENTS", 100)
    result = cli("run", elf, "--run-for", "60s", *TIMEOUT)
    assert result.report["status"] == "ok"
    [warning] = spin_warnings(result)
    assert "most from stm32l0_tim2" in warning

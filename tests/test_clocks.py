"""The core's clock as the firmware sets it up (sim/clocks.py, the STM32L0's RCC and flash
interface): device time piece by piece, the clock tree, the peripherals following a change,
--run-for, the report and the budgets in milliseconds."""

import json

import pytest

import sim
from sim.budget_check import compare
from sim.clocks import ClockLog, clock_rows, format_hz
from sim.devices.stm32l0 import CFGR, CR, ICSCR
from tests.helpers import check_one
from tests.test_exceptions import irq_program

MSI5 = 2_097_152  # MSI range 5: the part's clock after reset
LIMIT = ("--max-instructions", "5000000")


def clock_program(firmware, case: str):
    return irq_program(firmware, "clock.c", "stm32l031", **{f"CASE_{case}": None})


# --- ClockLog ----------------------------------------------------------------------------------
def test_a_clock_log_turns_cycles_into_device_time_piece_by_piece():
    log = ClockLog(32_000_000)
    assert log.seconds(32_000, 0) == pytest.approx(1e-3) and not log.varied
    log.change(32_000, 16_000, 2_000_000, 0, "MSI")  # half of the first ms asleep
    assert log.split(32_000, 16_000) == pytest.approx((0.5e-3, 0.5e-3))
    # 2,000 cycles more at 2 MHz (1 ms), 500 of them asleep
    awake, asleep = log.split(34_000, 16_500)
    assert (awake, asleep) == pytest.approx((0.5e-3 + 0.75e-3, 0.5e-3 + 0.25e-3))
    assert log.changes()[0].seconds == pytest.approx(1e-3) and log.varied
    # 10 ms of device time falls 9 ms of 2 MHz cycles after the change
    assert log.cycle_at(10e-3, 32_000, 16_000) == 32_000 + 18_000
    assert log.cycle_at(0.5e-3, 34_000, 16_500) == 34_000  # already past: not before now


def test_the_clock_rows_keep_the_first_and_last_changes():
    log = ClockLog(32_000_000)
    for i in range(1, 11):
        log.change(i * 32_000, 0, 1_000_000 * i, i % 2, f"source {i}")
    rows = clock_rows(32_000_000, 1, log.changes(), most=6)
    assert rows[0] == ("32 MHz", "from reset (the target's), 1 wait state")
    assert rows[2] == ("...", "6 more changes")
    assert rows[-1][0] == "10 MHz" and rows[-1][1].endswith("source 10, 0 wait states")
    assert len(rows) == 6 and clock_rows(32_000_000, 1, []) == []
    assert format_hz(65_536) == "65.54 kHz" and format_hz(2_097_152) == "2.097 MHz"


# --- the RCC's clock tree, on a simulator of the part -------------------------------------------
@pytest.fixture
def part(firmware):
    simulator = sim.Simulator(firmware.image("hello.c", target="stm32l031"))
    simulator._reset()
    simulator.console_write = lambda data: None  # no run: no console
    return simulator


def write(part, device: str, offset: int, value: int) -> None:
    part.device(device).write(offset, 4, value)


def test_the_profiles_clock_holds_until_the_firmware_writes_cfgr_icscr_or_flash_acr(part):
    rcc = part.device("stm32l0_rcc")
    write(part, "stm32l0_rcc", CR, rcc.read(CR, 4) | 1)  # HSI16 on: the clock is not set up
    write(part, "stm32l0_rcc", 0x38, 1 << 17)  # a peripheral's clock: neither
    assert part.clock_hz == 32_000_000 and part._clock.changes() == []
    write(part, "stm32l0_rcc", CFGR, 0)  # the reset value, written: the registers' clock now
    assert part.clock_hz == MSI5
    assert part._clock.changes()[-1].source == "MSI range 5"
    assert part._clock.changes()[-1].wait_states == 0  # FLASH_ACR.LATENCY after reset
    assert part._counter._s.refill == part.timing.branch_refill


@pytest.mark.parametrize("writes, hz, source", [
    ([(ICSCR, 6 << 13)], 4_194_304, "MSI range 6"),
    ([(ICSCR, 0)], 65_536, "MSI range 0"),
    ([(CR, 0x101), (CFGR, 1)], 16_000_000, "HSI16"),
    ([(CR, 0x109), (CFGR, 1)], 4_000_000, "HSI16 / 4"),
    ([(CR, 0x101), (CFGR, 1 | 0x8 << 4)], 8_000_000, "HSI16, AHB / 2"),
    ([(CR, 0x10101), (CFGR, 2)], 8_000_000, "HSE, 8 MHz assumed"),
    # the PLL: HSI16 x 4 / 2 (STM32CubeL0's 32 MHz), HSE x 6 / 3
    ([(CR, 0x101), (CFGR, 1 << 18 | 1 << 22), (CR, 0x0100_0101), (CFGR, 3 | 1 << 18 | 1 << 22)],
     32_000_000, "PLL: HSI16 x 4 / 2"),
    ([(CR, 0x10101), (CFGR, 1 << 16 | 2 << 18 | 2 << 22), (CR, 0x0101_0101),
      (CFGR, 3 | 1 << 16 | 2 << 18 | 2 << 22)], 16_000_000, "PLL: HSE x 6 / 3"),
])
def test_the_core_runs_at_hclk_as_the_registers_give_it(part, writes, hz, source):
    for offset, value in writes:
        write(part, "stm32l0_rcc", offset, value)
    assert (part.clock_hz, part._clock.changes()[-1].source) == (hz, source)


def test_flash_acr_latency_sets_the_wait_states_a_refill_pays(part):
    write(part, "stm32l0_flash", 0, 1)  # LATENCY: the first write hands the clock over
    assert part.clock_hz == MSI5 and part._counter._s.refill == part.timing.branch_refill + 1
    assert part.device("stm32l0_flash").read(0, 4) == 1
    write(part, "stm32l0_flash", 0, 0)
    assert part._counter._s.refill == part.timing.branch_refill
    assert [(c.hz, c.wait_states) for c in part._clock.changes()] == [(MSI5, 1), (MSI5, 0)]
    write(part, "stm32l0_flash", 0x20, 5)  # WRPROT1: not modelled, listed
    assert part.device("stm32l0_flash").read(0x20, 4) == 5 and part._unmodelled


def test_flash_wait_states_given_for_the_run_stay(firmware):
    simulator = sim.Simulator(firmware.image("hello.c", target="stm32l031"),
                              sim.RunOptions(flash_wait_states=2))
    simulator._reset()
    simulator.device("stm32l0_flash").write(0, 4, 0)
    assert simulator.clock_hz == MSI5
    assert simulator._counter._s.refill == simulator.timing.branch_refill + 2


def pll_32mhz(part, vos: int | None, latency: int | None) -> None:
    """STM32CubeL0's SystemClock_Config for 32 MHz (HSI16 x 4 / 2), with the voltage range and
    the wait states given (None: left as after reset, range 2 and 0)."""
    if vos is not None:
        write(part, "stm32l0_rcc", 0x38, 1 << 28)  # PWREN
        write(part, "stm32l0_pwr", 0, vos << 11)
    if latency is not None:
        write(part, "stm32l0_flash", 0, latency)
    write(part, "stm32l0_rcc", CR, 0x101)
    write(part, "stm32l0_rcc", CFGR, 1 << 18 | 1 << 22)
    write(part, "stm32l0_rcc", CR, 0x0100_0101)
    write(part, "stm32l0_rcc", CFGR, 3 | 1 << 18 | 1 << 22)
    assert part.clock_hz == 32_000_000


def test_a_clock_set_up_in_rm0377s_order_raises_no_warning(part):
    pll_32mhz(part, vos=1, latency=1)
    assert part._warnings == {}
    write(part, "stm32l0_pwr", 0, 2 << 11)  # range 2 under 32 MHz: from this write
    clock, vco = part._warnings.values()
    assert clock.endswith("the core's clock, 32 MHz, is beyond the 16 MHz RM0377 allows in "
                          "voltage range 2 (PWR_CR.VOS)")
    assert vco.endswith("the PLL's VCO, 64 MHz, is beyond the 48 MHz RM0377 allows in "
                        "voltage range 2 (PWR_CR.VOS)")


@pytest.mark.parametrize("vos, latency, expected", [
    (None, 1, "the core's clock, 32 MHz, is beyond the 16 MHz RM0377 allows in voltage range 2"),
    (1, None, "the core's clock, 32 MHz, needs a flash wait state in voltage range 1 "
              "(PWR_CR.VOS) (RM0377: 16 MHz at most without one; FLASH_ACR.LATENCY is 0): the "
              "flash misreads on the chip"),
])
def test_a_clock_beyond_the_voltage_range_or_wait_states_is_a_warning(part, vos, latency,
                                                                      expected):
    pll_32mhz(part, vos, latency)
    assert any(expected in w for w in part._warnings.values()), part._warnings


def test_a_pll_beyond_its_limits_is_a_warning(part):
    write(part, "stm32l0_rcc", 0x38, 1 << 28)
    write(part, "stm32l0_pwr", 0, 1 << 11)
    write(part, "stm32l0_rcc", CR, 0x101)
    write(part, "stm32l0_rcc", CFGR, 8 << 18)  # x 48: a VCO of 768 MHz; PLLDIV 00
    write(part, "stm32l0_rcc", CR, 0x0100_0101)
    texts = " | ".join(part._warnings.values())
    assert "the PLL's VCO, 768 MHz, is beyond the 96 MHz RM0377 allows in voltage range 1" in texts
    assert "PLLDIV 00, which RM0377 does not allow" in texts


def test_warnings_are_in_the_report_and_the_summary(firmware, cli):
    """clock.c's `spin` on MSI raises none; a run whose firmware raises the clock beyond its
    range lists it once, with the device time it came at."""
    report = sim.run(sim.load_elf(clock_program(firmware, "spin")))
    assert report.warnings == []
    res = cli("run", clock_program(firmware, "overclock"), *LIMIT)
    assert res.returncode == 0, res.stderr
    vco, clock = res.report["warnings"]  # each once, as it comes: PLLON, then SW
    assert vco.startswith("at 0.0") and "the PLL's VCO, 64 MHz, is beyond the 48 MHz" in vco
    assert clock.startswith("at 0.0") and "32 MHz, is beyond the 16 MHz RM0377 allows" in clock
    summary = cli("run", clock_program(firmware, "overclock"), json=False)
    assert "warning: at 0.0" in summary.stderr


def test_stop_mode_stops_the_core_domain_and_wakes_on_msi(firmware, cli):
    res = cli("run", clock_program(firmware, "stop"), *LIMIT)
    assert res.returncode == 0, res.stderr
    r = res.report
    assert r["stdout"] == "woke on MSI\n" * 3
    assert r["deep_sleeps"] == 3 and r["exceptions"]["taken"] == {"IRQ2": 3}
    woken = [c for c in r["clocks"] if c["source"] == "MSI range 5, woken from Stop mode"]
    assert len(woken) == 3 and all(c["hz"] == MSI5 and c["wait_states"] == 1 for c in woken)
    assert 3000 < r["time_ms"] + r["sleep_ms"] < 3001  # three wake-ups of a second each
    assert r["warnings"] == []
    summary = cli("run", clock_program(firmware, "stop"), *LIMIT, json=False)
    assert "3 of the sleeps in Stop mode" in " ".join(summary.stderr.split())


def test_stop_mode_with_only_systick_to_wake_it_is_a_deadlock(firmware, cli):
    res = cli("run", clock_program(firmware, "stop_tick"), *LIMIT)
    assert res.returncode == 5, res.stderr
    fault = res.report["fault"]
    assert fault["kind"] == "deadlock" and "in Stop mode (SCR.SLEEPDEEP" in fault["message"]
    assert res.report["deep_sleeps"] == 1 and res.report["exceptions"]["taken"] == {}


def test_msi_range_7_is_a_warning(part):
    write(part, "stm32l0_rcc", ICSCR, 7 << 13)
    assert part.clock_hz == 8_388_608
    assert any("MSIRANGE 111, which RM0377 does not allow" in w for w in part._warnings.values())


# --- the peripherals follow a change mid-way ----------------------------------------------------
def advance(part, cycles: int) -> None:
    part._counter.add_cycles(cycles)


def test_a_timer_counts_at_its_apb_timer_clock(part):
    """TIM21 on APB2: PPRE2 / 4 makes its clock twice PCLK2, half the core's: a period of
    1,000 counts takes 2,000 cycles; a change mid-period keeps the counts done."""
    write(part, "stm32l0_rcc", 0x34, 1 << 2)  # TIM21EN
    tim = part.device("stm32l0_tim21")
    tim.write(0x2C, 4, 999)  # ARR
    tim.write(0x00, 4, 1)  # CEN
    advance(part, 500)
    assert tim.read(0x24, 4) == 500  # undivided: a count a cycle
    write(part, "stm32l0_rcc", CFGR, 5 << 11)  # PPRE2 / 4 (and the registers' clock: MSI)
    assert tim.read(0x24, 4) == 500
    advance(part, 600)
    assert tim.read(0x24, 4) == 800
    advance(part, 400)
    assert tim.read(0x24, 4) == 0 and tim.read(0x10, 4) & 1  # the update event, UIF


def test_a_frame_on_the_line_goes_on_at_the_new_bit_time(part):
    """USART2 on PCLK1: BRR 278 makes a frame 2,780 cycles; halfway, PPRE1 / 2 doubles the bit
    time, so the 1,390 cycles left become 2,780."""
    from sim.devices.stm32l0_usart import BRR, CR1, ISR, TC, TDR

    write(part, "stm32l0_rcc", 0x38, 1 << 17)  # USART2EN
    usart = part.device("stm32l0_usart2")
    usart.write(BRR, 4, 278)
    usart.write(CR1, 4, 1 | 1 << 3)  # UE, TE
    usart.write(TDR, 4, 0x41)
    advance(part, 1390)
    write(part, "stm32l0_rcc", CFGR, 4 << 8)  # PPRE1 / 2
    advance(part, 2779)
    assert not usart.read(ISR, 4) & TC
    advance(part, 1)
    assert usart.read(ISR, 4) & TC


def test_a_conversion_goes_on_at_the_new_adc_clock_and_stops_without_the_hsi16(part):
    """The ADC on the HSI16 (CKMODE 0): 83 ADC cycles of calibration are 166 cycles at 32 MHz;
    the HSI16 off halfway stops it there, and on again it ends 83 cycles later; then on
    PCLK2 / 2 (CKMODE 01) with PPRE2 / 2, a conversion's 14 ADC cycles are 56 core cycles."""
    from sim.devices.stm32l0_adc import ADCAL, ADEN, ADSTART, CFGR2, CHSELR, EOC
    from sim.devices.stm32l0_adc import CR as ADC_CR
    from sim.devices.stm32l0_adc import ISR as ADC_ISR

    write(part, "stm32l0_rcc", 0x34, 1 << 9)  # ADCEN
    rcc = part.device("stm32l0_rcc")
    write(part, "stm32l0_rcc", CR, rcc.read(CR, 4) | 1)  # HSI16ON
    adc = part.device("stm32l0_adc")
    adc.write(ADC_CR, 4, ADCAL)
    advance(part, 83)
    write(part, "stm32l0_rcc", CR, rcc.read(CR, 4) & ~1)  # HSI16 off: the ADC's clock stops
    advance(part, 10_000)
    assert adc.read(ADC_CR, 4) & ADCAL
    write(part, "stm32l0_rcc", CR, rcc.read(CR, 4) | 1)
    advance(part, 82)
    assert adc.read(ADC_CR, 4) & ADCAL
    advance(part, 1)
    assert not adc.read(ADC_CR, 4) & ADCAL and adc.read(ADC_ISR, 4) & 1 << 11  # EOCAL

    adc.write(CFGR2, 4, 1 << 30)  # CKMODE: PCLK / 2
    write(part, "stm32l0_rcc", CFGR, 4 << 11)  # PPRE2 / 2
    adc.write(ADC_CR, 4, ADEN)
    adc.write(CHSELR, 4, 1 << 17)  # VREFINT; SMPR 0: 1.5 + 12.5 ADC cycles
    adc.write(ADC_CR, 4, ADEN | ADSTART)
    advance(part, 55)
    assert not adc.read(ADC_ISR, 4) & EOC
    advance(part, 1)
    assert adc.read(ADC_ISR, 4) & EOC


def test_a_calibration_started_without_its_clock_starts_when_the_hsi16_comes(part):
    from sim.devices.stm32l0_adc import ADCAL
    from sim.devices.stm32l0_adc import CR as ADC_CR

    write(part, "stm32l0_rcc", 0x34, 1 << 9)  # ADCEN; the HSI16 off
    adc = part.device("stm32l0_adc")
    adc.write(ADC_CR, 4, ADCAL)
    advance(part, 100_000)
    assert adc.read(ADC_CR, 4) & ADCAL  # waiting for its clock
    rcc = part.device("stm32l0_rcc")
    write(part, "stm32l0_rcc", CR, rcc.read(CR, 4) | 1)
    advance(part, 165)
    assert adc.read(ADC_CR, 4) & ADCAL
    advance(part, 1)
    assert not adc.read(ADC_CR, 4) & ADCAL


def test_a_usart_held_in_reset_with_a_byte_on_its_way_drops_it(part):
    """RXNEIE set, a byte planned one frame on: the port's reset bit (APB1RSTR) drops it, as
    the reset state has no receiver; before, restart() divided by the reset's bit time, 0."""
    from sim.devices.stm32l0_usart import BRR, CR1, ISR, RXNE

    write(part, "stm32l0_rcc", 0x38, 1 << 17)
    usart = part.device("stm32l0_usart2")
    usart.write(BRR, 4, 278)
    usart.write(CR1, 4, 1 | 1 << 2 | 1 << 5)  # UE, RE, RXNEIE: a byte one frame on
    assert part.exceptions.has_timer(usart)
    write(part, "stm32l0_rcc", 0x28, 1 << 17)  # USART2RST
    assert not part.exceptions.has_timer(usart)
    write(part, "stm32l0_rcc", 0x28, 0)
    advance(part, 10_000)
    assert not usart.read(ISR, 4) & RXNE


def test_the_hsi16_divider_slows_a_usart_on_the_hsi16(part):
    """USART2 on the HSI16 (CCIPR USART2SEL 10) with HSI16DIVEN: a 4 MHz kernel clock, as
    STM32CubeL0's UART_SetConfig computes BRR for it: 9,600 baud is BRR 417, a frame 10 x 417
    kernel cycles = 1.0425 ms, 33,360 cycles at 32 MHz."""
    from sim.devices.stm32l0_usart import BRR, CR1, ISR, TC, TDR

    rcc = part.device("stm32l0_rcc")
    write(part, "stm32l0_rcc", CR, rcc.read(CR, 4) | 1 | 1 << 3)  # HSI16ON, HSI16DIVEN
    write(part, "stm32l0_rcc", 0x4C, 2 << 2)  # USART2SEL: HSI16
    write(part, "stm32l0_rcc", 0x38, 1 << 17)
    usart = part.device("stm32l0_usart2")
    usart.write(BRR, 4, 417)
    usart.write(CR1, 4, 1 | 1 << 3)
    usart.write(TDR, 4, 0x41)
    advance(part, 33_359)
    assert not usart.read(ISR, 4) & TC
    advance(part, 1)
    assert usart.read(ISR, 4) & TC


def test_the_rtc_keeps_device_time_across_a_change_of_the_core_clock(part):
    """RTC on the LSE, a wake-up every second (ck_spre): half a second at 32 MHz, then the
    core at MSI: the wake-up comes half a second of MSI cycles later, to a cycle."""
    from sim.devices.stm32l0_rtc import CR as RTC_CR
    from sim.devices.stm32l0_rtc import WUTR

    write(part, "stm32l0_rcc", 0x38, 1 << 28)  # PWREN
    part.device("stm32l0_pwr").write(0, 4, 1 << 8)  # DBP
    write(part, "stm32l0_rcc", 0x50, 1 << 8 | 1 << 16 | 1 << 18)  # LSEON, RTCSEL LSE, RTCEN
    rtc = part.device("stm32l0_rtc")
    rtc.write(0x24, 4, 0xCA)  # WPR keys
    rtc.write(0x24, 4, 0x53)
    rtc.write(WUTR, 4, 0)  # a period of 1 s
    rtc.write(RTC_CR, 4, 4 | 1 << 10 | 1 << 14)  # WUCKSEL ck_spre, WUTE, WUTIE
    start = part.exceptions.now
    advance(part, 16_000_000)
    write(part, "stm32l0_rcc", CFGR, 0)  # MSI
    due = part.exceptions.device_at
    assert abs(due - (start + 16_000_000 + MSI5 // 2)) <= 1


# --- whole runs ---------------------------------------------------------------------------------
def test_the_time_of_a_run_is_its_cycles_at_each_clock(firmware):
    report = sim.run(sim.load_elf(clock_program(firmware, "spin")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    before, after = map(int, report.stdout.split())
    assert after < before  # the same loop with no flash wait state after LATENCY 0
    [change] = report.clocks
    assert (change.hz, change.wait_states) == (MSI5, 0)
    assert report.time_ms == pytest.approx(
        (change.cycle / 32e6 + (report.cycles - change.cycle) / MSI5) * 1e3)
    assert report.clock_rows[0] == ("32 MHz", "from reset (the target's), 1 wait state")


@pytest.mark.parametrize("fault", [False, True])
def test_a_change_takes_effect_at_its_store_within_a_block(firmware, fault):
    """The NOPs after the ICSCR store, in its basic block, run at 65,536 Hz: 0.6 ms of them,
    not the 1.3 us they take at 32 MHz (a block's cycles are counted when it starts). When the
    block then faults, the time is still the sum of its pieces, never negative."""
    elf = irq_program(firmware, "clock.c", "stm32l031", CASE_midblock=None,
                      MIDBLOCK_FAULT=1 if fault else 0)
    report = sim.run(sim.load_elf(elf))
    assert report.status == ("fault" if fault else "ok"), report.problem
    [change] = report.clocks
    assert change.hz == 65_536 and change.cycle + 40 <= report.cycles
    assert report.time_ms == pytest.approx(
        (change.cycle / 32e6 + (report.cycles - change.cycle) / 65_536) * 1e3)
    assert report.time_ms > 40 / 65_536 * 1e3


def test_semihosting_time_and_run_for_follow_the_clock(firmware, cli):
    report = sim.run(sim.load_elf(clock_program(firmware, "tick")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert report.stdout == "10\n"  # 100 ms of SysTick at MSI: 10 centiseconds
    # (100 periods of 2,097 cycles, 99.995 ms, and the start and end around them)
    assert report.time_ms + report.sleep_ms == pytest.approx(100, abs=0.2)

    res = cli("run", clock_program(firmware, "forever"), "--run-for", "50ms", *LIMIT)
    assert res.returncode == 0, res.stderr
    r = res.report
    assert r["exceptions"]["taken"]["SysTick"] in (49, 50)  # at 32 MHz it would be 763
    # to the block boundary at or after it (here a SysTick handler's entry: a few cycles)
    assert 50 <= r["time_ms"] + r["sleep_ms"] < 50 + 20 / MSI5 * 1e3
    assert [c["hz"] for c in r["clocks"]] == [MSI5]
    summary = cli("run", clock_program(firmware, "forever"), "--run-for", "50ms", json=False)
    text = " ".join(summary.stderr.split())
    assert "@ 2.097 MHz at the end, set up by the firmware)" in text
    assert "clock 32 MHz from reset (the target's), 1 wait state" in text
    assert "2.097 MHz from 0.001 ms: MSI range 5, 0 wait states" in text  # at the store
    assert "estimate, flash wait states as the firmware set them" in text


def test_wait_states_given_for_the_run_are_said_as_such(firmware, cli):
    summary = cli("run", clock_program(firmware, "spin"), "--wait-states", "3", json=False)
    text = " ".join(summary.stderr.split())
    assert "estimate, 3 flash wait states per refill" in text
    assert "2.097 MHz from 0.0" in text and "MSI range 5, 3 wait states" in text


def test_a_budget_in_milliseconds_holds_the_firmwares_clocks(firmware):
    report = sim.run(sim.load_elf(clock_program(firmware, "spin")))
    ms = report.time_ms
    [under] = compare(report, {}, ms=ms * 1.01)
    [over] = compare(report, {}, ms=ms * 0.99)
    assert under.passed and not over.passed
    assert "at the firmware's clocks" in under.note
    # at the profile's 32 MHz the same cycles would take far less: the budget would pass
    assert report.cycles / 32e6 * 1e3 < ms * 0.99


# --- Stop mode's edges ---------------------------------------------------------------------
def stop_program(firmware, case: str, **defines):
    return irq_program(firmware, "clock.c", "stm32l031", **{f"CASE_{case}": None}, **defines)


def test_a_serial_ports_tc_does_not_end_stop_mode(firmware):
    """RM0377: only RXNE (with UESM) of a serial port's interrupts wakes the part from Stop;
    LPUART1's TC, due a frame after the byte, waits for the RTC's wake-up a second on."""
    report = sim.run(sim.load_elf(stop_program(firmware, "stop_tc")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert report.exceptions == {"IRQ2": 1, "IRQ29": 1} and report.deep_sleeps == 1
    assert 999 < report.sleep_ms < 1001


def test_stop_mode_is_not_entered_with_a_wake_up_flag_set(firmware):
    report = sim.run(sim.load_elf(stop_program(firmware, "stop_flag")))
    assert (report.status, report.exit_code) == ("ok", 0), report.problem
    assert report.deep_sleeps == 1 and report.sleep_ms < 1001  # the second WFI: no sleep
    [warning] = report.warnings
    assert "Stop mode not entered: EXTI_PR" not in warning  # the handler cleared EXTI_PR
    assert "Stop mode not entered: RTC_ISR.WUTF set (RM0377:" in warning


@pytest.mark.parametrize("reload", [2, 8, 200])
def test_a_systick_wrap_due_before_the_wfi_keeps_the_part_out_of_stop(firmware, reload):
    """The wrap comes RELOAD + 1 cycles after the enable: within the 20 NOPs before the WFI
    (2, 8: a block whose cycles are counted when it starts) SysTick is pending and the WFI
    does not sleep; after them (200) the part stops and SysTick with it, the RTC's wake-up a
    second later ends it."""
    report = sim.run(sim.load_elf(stop_program(firmware, "stop_tick_due", RELOAD=reload)))
    assert report.status == "ok", report.problem
    if reload < 20:  # ticks (a short period may tick twice before the handler stops it)
        assert report.exit_code in (10, 20) and (report.deep_sleeps, report.sleep_cycles) == (
            0, 0)
    else:
        assert (report.exit_code, report.deep_sleeps) == (1, 1) and report.sleep_ms > 999


def test_run_for_ending_at_a_stop_mode_wfi_does_not_wake_the_core(firmware):
    """Wherever in and around the WFI's block the run's end falls, the core is not woken
    (no 'woken from Stop mode' clock), and a run that ended asleep says so."""
    elf = sim.load_elf(stop_program(firmware, "stop_forever"))
    awake = sim.run(elf, sim.RunOptions(run_for=1e-3)).cycles  # where the first WFI is
    for cycle in range(awake - 40, awake + 8):
        report = sim.run(elf, sim.RunOptions(run_for=cycle / 32e6))
        assert not [c for c in report.clocks if "woken" in c.source], cycle
        if report.deep_sleeps:
            assert report.stopped_at.endswith("wfi (asleep)"), (cycle, report.stopped_at)


def test_vos_00_keeps_the_voltage_range(part):
    write(part, "stm32l0_rcc", 0x38, 1 << 28)
    write(part, "stm32l0_pwr", 0, 1 << 11)  # range 1
    write(part, "stm32l0_pwr", 0, 0)  # 00: not a range
    assert part.device("stm32l0_pwr").read(0, 4) >> 11 & 3 == 1
    assert any("VOS ignored: 00 is not a voltage range" in k for k in part._unmodelled)


def test_reset_clock_starts_at_the_parts_own_clock(firmware, cli, tmp_path, ebnn_sim):
    """--reset-clock: MSI (2.097 MHz, no wait state) from the first cycle, as the chip starts,
    not the profile's 32 MHz until the firmware's first clock write; the firmware's write of
    the same clock is then no change, SYS_CLOCK counts device time, and a set-up after it is
    a change from the part's clock."""
    res = cli("run", clock_program(firmware, "tick"), "--reset-clock", *LIMIT)
    assert res.returncode == 0, res.stderr
    r = res.report
    assert (r["clock_hz"], r["clock_source"], r["clocks"]) == (
        MSI5, "MSI range 5, the part's clock at reset", [])
    assert r["stdout"] == "10\n"  # 100 ms of SysTick at MSI, as without the option
    assert r["time_ms"] == pytest.approx(r["cycles"] / MSI5 * 1e3)
    summary = cli("run", clock_program(firmware, "tick"), "--reset-clock", json=False)
    text = " ".join(summary.stderr.split())
    assert "(stm32l031: cortex-m0plus @ 2.097 MHz, MSI range 5, the part's clock at reset)" \
        in text and "0 flash wait states per refill" in text

    up = cli("run", clock_program(firmware, "overclock"), "--reset-clock", json=False)
    text = " ".join(up.stderr.split())
    assert "2.097 MHz from reset (MSI range 5, the part's clock at reset), 0 wait states" \
        in text and "32 MHz from" in text

    curie = cli("run", firmware("hello.c"), "--reset-clock", json=False)
    assert curie.returncode == 2
    assert "needs a target whose clock control the simulator models (stm32l031)" \
        in curie.stderr

    elf = clock_program(firmware, "tick")
    checked, report = check_one(cli, tmp_path, elf, "reset_clock = true")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert report["clock_hz"] == MSI5
    bad, _ = check_one(cli, tmp_path, elf, 'reset_clock = "yes"', "bad")
    assert bad.returncode == 2 and "reset_clock = 'yes': true or false" in bad.stderr
    assert ebnn_sim(elf, reset_clock=True).clock_hz == MSI5


def test_reset_clock_with_run_for_and_in_a_diff(firmware, cli, tmp_path):
    """--run-for is device time at the part's clock from the start (50 ms: ~50 SysTick ticks
    of 1 ms at MSI); `ebnn-sim diff` of runs with and without it names the clocks at reset."""
    elf = clock_program(firmware, "forever")
    res = cli("run", elf, "--reset-clock", "--run-for", "50ms", *LIMIT)
    assert res.returncode == 0, res.stderr
    r = res.report
    assert r["exceptions"]["taken"]["SysTick"] in (49, 50)
    assert 50 <= r["time_ms"] + r["sleep_ms"] < 50.01
    plain = cli("run", elf, "--run-for", "50ms", *LIMIT)
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(plain.report))
    head.write_text(json.dumps(r))
    diffed = cli("diff", base, head, json=False)
    text = " ".join((diffed.stdout + diffed.stderr).split())
    assert "different clocks at reset: base 32 MHz, head 2.097 MHz (MSI range 5, the part's " \
           "clock at reset)" in text and "different targets" not in text

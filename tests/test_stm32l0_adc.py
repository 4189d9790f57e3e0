"""The STM32L0's ADC and factory data (sim/devices/stm32l0_adc.py, stm32l0_factory.py) on the
stm32l031 profile: a vendor HAL's calibration, enable and conversions (polled, scanned,
interrupt-driven, overrun), the supply and temperature its formulas compute from the factory
calibration values, and what is not there (a pin's voltage, the HSI16 left off, a write to
system memory), from tests/programs/irq/adc.c."""

from itertools import pairwise
from pathlib import Path

import pytest
from helpers import build_example

from sim.devices.stm32l0_factory import TS_CAL1, VREFINT_CAL
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")  # a regression fails, not hangs


def adc(firmware, case: str, **defines):
    return irq_program(firmware, "adc.c", "stm32l031", **{f"CASE_{case}": 1}, **defines)


def listed(report) -> list[str]:
    return [r for r in report["unmodelled_registers"] if "stm32l0_adc" in r]


def test_the_supply_and_temperature_the_hal_computes(firmware, cli):
    """VREFINT reads its calibration value and the sensor TS_CAL1: VDDA 3.0 V, 30 degrees C,
    through the HAL's formulas and the calibration values in system memory."""
    result = cli("run", adc(firmware, "supply"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "vdda mV 3000\ntemp C 30\n"


@pytest.mark.parametrize("defines, values", [
    ({}, [0, VREFINT_CAL, TS_CAL1]),  # upwards, 12 bits right-aligned
    ({"DOWN": None, "RES8": None}, [(TS_CAL1 >> 4) << 8, (VREFINT_CAL >> 4) << 8, 0]),
])
def test_a_scan_converts_the_channels_in_order(firmware, cli, defines, values):
    result = cli("run", adc(firmware, "scan", **defines), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert result.report["stdout"] == "".join(f"dr {v}\n" for v in values)
    # the pin's result, read: listed with why
    assert listed(result.report) == ["stm32l0_adc+0x040 (0x40012440) read, channel 0: a pin's "
                                     "voltage is not modelled, 0 V: 1"]


def test_continuous_conversions_interrupt_a_sleeping_core(firmware, cli):
    """EOCIE, IRQ 12: 20 conversions of 160.5 + 12.5 cycles of PCLK / 2 (346 core cycles)."""
    result = cli("run", adc(firmware, "irq", CONVERSIONS=20), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    assert report["stdout"] == "conversions 20\n"
    assert report["exceptions"]["taken"] == {"IRQ12": 20}
    assert report["sleep_cycles"] > 15 * 346 - report["cycles"]
    assert 20 * 346 < report["cycles"] + report["sleep_cycles"] < 20 * 346 + 1_500


def test_an_unread_result_is_an_overrun(firmware, cli):
    result = cli("run", adc(firmware, "overrun"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]


def test_without_its_clock_the_calibration_never_ends(firmware, cli):
    """CKMODE 0 takes the HSI16, off: the firmware's wait for ADCAL gives up; every read of
    CR meanwhile says why, and without the firmware's own timeout the polling hint does."""
    result = cli("run", adc(firmware, "hsi_off"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert listed(result.report) == [
        "stm32l0_adc+0x008 (0x40012408) read, its clock, the HSI16 (ADC_CFGR2.CKMODE 0), is "
        "off (RCC CR HSI16ON): 20000"]
    hung = cli("run", adc(firmware, "hsi_off", TRIES=0), "--max-instructions", "100000")
    assert hung.returncode == 5
    assert "polling stm32l0_adc+0x008 (0x40012408)" in hung.report["fault"]["message"]


def test_the_factory_data_reads_and_refuses_writes(firmware, cli):
    result = cli("run", adc(firmware, "info"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report
    assert result.report["stdout"] == "flash KiB 32\nvrefint_cal 1671\nts_cal1 677\nts_cal2 897\n"
    fault = cli("run", adc(firmware, "info_write"), *LIMIT)
    assert fault.returncode == 4
    assert fault.report["fault"]["kind"] == "bus_fault"
    assert "0x1ff80050: the factory data in system memory is read-only" in (
        fault.report["fault"]["message"])


def test_auto_off_converts_without_aden(firmware, cli):
    """CFGR1.AUTOFF: the HAL's HAL_ADC_Start sets ADSTART without ADEN; the ADC converts."""
    result = cli("run", adc(firmware, "autooff"), "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report


@pytest.mark.parametrize("res, adc_cycles", [(0, 173), (1, 171), (2, 169), (3, 167)])
def test_a_conversion_takes_sampling_and_its_resolution(firmware, cli, res, adc_cycles):
    """1,000 continuous conversions back to back, 160.5 sampling + 12.5, 10.5, 8.5 or 6.5 ADC
    clock cycles at PCLK / 2: to the cycle, whatever the core does between them."""
    result = cli("run", adc(firmware, "timing", RES=res), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    total = report["cycles"] + report["sleep_cycles"]
    per = 2 * adc_cycles  # core cycles
    assert 1000 * per <= total < 1000 * per + 1_000, (total, 1000 * per)


# --- hardware triggers: a timer's TRGO (CFGR1.EXTEN, EXTSEL) ------------------------------------


def triggered(firmware, cli, *args, quiet: bool = True, **defines):
    """The trigger case's run: (its report, its device time in cycles, awake and asleep)."""
    defines = {"CHANNEL": 17, "PERIOD": 1000, **defines, **({"QUIET": None} if quiet else {})}
    result = cli("run", adc(firmware, "trigger", **defines), *args, *LIMIT)
    assert result.returncode == 0, result.report
    report = result.report
    return report, report["cycles"] + report["sleep_cycles"]


@pytest.mark.parametrize("timer", [
    {},  # TIM2's TRGO (EXTSEL 2), its update events
    {"TIM22": None},  # TIM22's (4)
    {"TIM21": None, "EXTSEL": 1, "COMPARE": 2},  # TIM21_CH2: channel 2's output's edges
    {"EXTSEL": 5, "COMPARE": 3},  # TIM2_CH3
    {"EXTSEL": 3, "COMPARE": 4},  # TIM2_CH4
    {"MMS": 3, "COMPARE": 1},  # TIM2's TRGO as channel 1's compare pulse
    {"MMS": 4, "COMPARE": 1, "NO_OUTPUT": None},  # TRGO as OC1REF (no output needed)
], ids=["tim2", "tim22", "tim21_ch2", "tim2_ch3", "tim2_ch4", "tim2_compare_pulse",
        "tim2_oc1ref"])
@pytest.mark.parametrize("period, every", [(1000, 1000), (200, 400)])
def test_a_timers_events_start_each_conversion(firmware, cli, timer, period, every):
    """A timer's update event (CR2.MMS update), a compare pulse, OC1REF (MMS 4) or a
    channel's output rising (PWM mode 2, at the match) starts a conversion of 346 core cycles
    (160.5 + 12.5 at PCLK / 2) every PERIOD cycles: ten more conversions take ten more periods,
    to the cycle. A trigger that comes while a conversion is under way is ignored, as on the
    chip: a period of 200 converts every other one."""
    _, t10 = triggered(firmware, cli, PERIOD=period, CONVERSIONS=10, **timer)
    long, t20 = triggered(firmware, cli, PERIOD=period, CONVERSIONS=20, **timer)
    assert long["exceptions"]["taken"] == {"IRQ12": 20}
    assert abs(t20 - t10 - 10 * every) <= 8, (t20 - t10, 10 * every)
    assert not [r for r in long["unmodelled_registers"] if "stm32l0_tim" in r]


def test_a_channel_triggers_through_its_output(firmware, cli):
    """The ADC's TIM2_CH3 is the channel's output: with CCER.CC3E clear the matches go on
    (CC3IF) but no conversion starts, and the program's wait is a deadlock."""
    result = cli("run", adc(firmware, "trigger", CHANNEL=17, PERIOD=1000, CONVERSIONS=1,
                            EXTSEL=5, COMPARE=3, NO_OUTPUT=None), *LIMIT)
    assert result.returncode == 5 and result.report["fault"]["kind"] == "deadlock"


def test_trgo_enable_converts_once_when_the_counter_starts(firmware, cli):
    """CR2.MMS enable: TRGO is CEN, one rising edge, one conversion (the program waits for
    one); the update events that follow start none."""
    report, _ = triggered(firmware, cli, quiet=False, MMS=1, CONVERSIONS=1)
    assert report["stdout"] == "dr 1671\nconversions 1\n"  # VREFINT_CAL
    waits = cli("run", adc(firmware, "trigger", CHANNEL=17, PERIOD=1000, CONVERSIONS=2, MMS=1),
                *LIMIT)  # a second conversion never comes: nothing is left to wake the core
    assert waits.returncode == 5 and waits.report["fault"]["kind"] == "deadlock"


def test_triggered_conversions_read_the_pin_at_their_time(firmware, cli, tmp_path):
    """Channel 3 from values played at 1 kHz, a conversion each millisecond (TIM2 at 32,000
    cycles): the Nth conversion, in the Nth millisecond (the first update event comes a
    millisecond after the timer starts), reads the Nth value: the values read one per
    conversion (without a rate) from the second on."""
    data = tmp_path / "ramp.csv"
    data.write_text("".join(f"{0.1 * i:.1f}\n" for i in range(12)))
    runs = [triggered(firmware, cli, "--analog", f"3={data}{rate}", quiet=False, CHANNEL=3,
                      PERIOD=32_000, CONVERSIONS=11)[0]["stdout"].splitlines()
            for rate in ("@1000Hz", "")]
    played, one_each = runs
    assert played[-1] == one_each[-1] == "conversions 11"
    assert played[:10] == one_each[1:11]
    assert len(set(played[:10])) == 10  # a ramp: each value its own


def test_a_conversion_reads_the_pin_at_its_own_cycle(firmware, cli, tmp_path):
    """Values played at 32 MHz (one a core cycle, a ramp over 0 to 3 V): a conversion reads the
    value of the cycle it ends at, whether the core sleeps (its events then come exactly) or
    runs (the simulator handles them at the end of the block under way, later): the same
    results."""
    data = tmp_path / "fast.csv"
    data.write_text("".join(f"{3.0 * i / 40_000:.6f}\n" for i in range(40_000)))
    runs = [triggered(firmware, cli, "--analog", f"3={data}@32MHz", quiet=False, CHANNEL=3,
                      PERIOD=1000, CONVERSIONS=20, **busy)[0]["stdout"]
            for busy in ({}, {"BUSY": None})]
    assert runs[0] == runs[1]
    values = [int(line.split()[1]) for line in runs[0].splitlines()[:20]]
    assert all(later - earlier in (102, 103) for earlier, later in pairwise(values))


@pytest.mark.parametrize("extsel, why", [(7, "EXTSEL 7, EXTI line 11"),
                                         (0, "EXTSEL 0, TIM6_TRGO")])  # (not on this part)
def test_a_trigger_not_modelled_is_listed_and_never_comes(firmware, cli, extsel, why):
    """EXTSEL 7 (EXTI line 11) or 0 (TIM6, which the STM32L031 lacks): listed at the CFGR1
    write; the program's wait for a conversion is a deadlock."""
    result = cli("run", adc(firmware, "trigger", CHANNEL=17, PERIOD=1000, CONVERSIONS=1,
                            EXTSEL=extsel), *LIMIT)
    assert result.returncode == 5, result.report
    assert result.report["fault"]["kind"] == "deadlock"
    assert listed(result.report) == [
        f"stm32l0_adc+0x00c (0x4001240c) write, {why}: a hardware trigger not modelled, no "
        "conversion starts: 1"]


def test_the_vibration_example(cli, tmp_path):
    """examples/sensors/vibration.c (docs/simulator.md, "Analog inputs"): TIM2's TRGO paces
    the conversions of PA1 at 1 kHz, the DMA fills two windows in turn while the core sleeps;
    each window's RMS follows examples/sensors/vibration.csv, a vibration starting at 0.4 s,
    and sets the LED's PWM duty."""
    root = Path(__file__).resolve().parents[1]
    elf = build_example(cli, tmp_path, "sensors/vibration.c")
    res = cli("run", elf, "--run-for", "1s", "--analog",
              f"1={root / 'examples/sensors/vibration.csv'}@4kHz")
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"].splitlines() == [
        "vibration monitor up", "128 ms: rms 2 mV", "256 ms: rms 2 mV", "384 ms: rms 2 mV",
        "512 ms: rms 32 mV", "640 ms: rms 95 mV VIBRATION", "768 ms: rms 163 mV VIBRATION",
        "896 ms: rms 210 mV VIBRATION"]  # as docs/simulator.md says
    assert report["cycles"] == 487_048 and report["sram"]["stack_peak"] == 104  # docs/ci.md
    assert report["analog"]["1"]["conversions"] == 998
    led = report["pins"]["PB3"]  # TIM2 CH2's PWM: the brightness of each window before
    assert (led["rising"], round(led["high_ms"], 3)) == (870, 195.991)  # docs/simulator.md
    assert report["exceptions"]["taken"] == {"IRQ9": 7}  # the DMA's halves; no ADC interrupt
    assert report["unmodelled_registers"] == []


# --- the ADC, register by register --------------------------------------------------------------


def adc_dev():
    """The ADC with no RCC (always clocked, the HSI16 taken as on)."""
    from helpers import FakeDeviceHost

    from sim.devices.stm32l0_adc import Stm32l0Adc

    host = FakeDeviceHost(1000)
    host.clock_hz = 32_000_000  # type: ignore[attr-defined]
    dev = Stm32l0Adc(host)  # type: ignore[arg-type]
    dev.reset()
    return host, dev


def run_until_due(host, dev) -> int:
    """Let the planned event happen; the cycles it was planned for from now."""
    due = host.exceptions.due
    assert due is not None
    took = due - host.exceptions.now
    host.exceptions.now = due
    host.exceptions.action()
    return took


def test_calibration_enable_disable_and_the_clocks():
    from sim.devices.stm32l0_adc import ADEN, ADRDY, CCR, CFGR2, CR, DR, EOCAL, ISR

    host, dev = adc_dev()
    dev.write(CFGR2, 4, 0)  # CKMODE 0: the HSI16 / CCR.PRESC
    dev.write(CCR, 4, 2 << 18)  # PRESC /4: a 4 MHz ADC clock
    dev.write(CR, 4, 1 << 31)  # ADCAL
    assert run_until_due(host, dev) == 83 * 8  # 83 ADC clock cycles at 4 MHz, in core cycles
    assert not dev.read(CR, 4) & 1 << 31 and dev.read(ISR, 4) & EOCAL
    assert dev.read(DR, 4) == dev.read(0xB4, 4) == 0x40  # the factor in DR[6:0], as CALFACT
    dev.write(CR, 4, ADEN)
    assert dev.read(ISR, 4) & ADRDY
    dev.write(CR, 4, ADEN | 1 << 31)  # ADCAL while enabled: refused, listed
    assert not dev.read(CR, 4) & 1 << 31 and host.listed[-1][0] == "stm32l0_adc"
    dev.write(CR, 4, ADEN | 1 << 1)  # ADDIS: disabled, ADRDY cleared
    assert dev.read(CR, 4) & (ADEN | 1 << 1) == 0 and not dev.read(ISR, 4) & ADRDY
    dev.write(CR, 4, ADEN)  # and enabled again
    assert dev.read(ISR, 4) & ADRDY


def test_overrun_modes_alignment_and_a_stopped_sequence():
    from sim.devices.stm32l0_adc import (
        ADEN,
        ADSTART,
        ADSTP,
        CCR,
        CFGR1,
        CFGR2,
        CHSELR,
        CR,
        DR,
        EOC,
        ISR,
        OVR,
    )

    host, dev = adc_dev()
    dev.write(CFGR2, 4, 3 << 30)  # PCLK: 32 MHz
    dev.write(CCR, 4, 3 << 22)  # VREFEN, TSEN
    dev.write(CR, 4, ADEN)
    dev.write(CHSELR, 4, 1 << 17 | 1 << 18)
    dev.write(CFGR1, 4, 1 << 12 | 1 << 5)  # OVRMOD: overwrite; 12-bit left-aligned
    dev.write(CR, 4, ADEN | ADSTART)
    assert run_until_due(host, dev) == 14  # 1.5 + 12.5 ADC clock cycles at 32 MHz
    run_until_due(host, dev)  # the second, over the first not read
    assert dev.read(ISR, 4) & (OVR | EOC) == OVR | EOC
    assert dev.read(DR, 4) == 677 << 4  # TS_CAL1, overwritten in, left-aligned
    dev.write(ISR, 1, OVR)  # a byte write clears what it writes, nothing else
    assert dev.read(ISR, 4) & (OVR | 1 << 3) == 1 << 3  # EOS kept
    dev.write(CFGR1, 4, 3 << 3 | 1 << 13)  # 6 bits, right-aligned; CONT
    dev.write(CR, 4, ADEN | ADSTART)
    run_until_due(host, dev)
    assert dev.read(DR, 4) == 1671 >> 6
    dev.write(CR, 4, ADEN | ADSTART | ADSTP)  # stopped mid-sequence: nothing more comes
    assert not dev.read(CR, 4) & ADSTART and host.exceptions.due is None
    dev.write(CCR, 4, 0)  # VREFEN off: channel 17 converts to 0, its read listed
    dev.write(CHSELR, 4, 1 << 17)
    dev.write(CR, 4, ADEN | ADSTART)
    run_until_due(host, dev)
    assert dev.read(DR, 4) == 0
    assert host.listed[-1][:2] == ("stm32l0_adc", DR)


def test_a_hardware_trigger_starts_a_sequence_at_its_own_cycle():
    from sim.devices.stm32l0_adc import ADEN, ADSTART, ADSTP, CCR, CFGR1, CFGR2, CHSELR, CR, ISR
    from sim.devices.stm32l0_tim import FALLING, PULSE, RISING

    host, dev = adc_dev()
    dev.write(CFGR2, 4, 3 << 30)  # PCLK: 32 MHz, 14 cycles a conversion
    dev.write(CCR, 4, 1 << 22)
    dev.write(CR, 4, ADEN)
    dev.write(CHSELR, 4, 1 << 17)
    dev.write(CFGR1, 4, 2 << 10 | 2 << 6)  # EXTEN falling edges, EXTSEL 2: TIM2's TRGO
    assert dev.waiting_for() is None  # not before ADSTART
    dev.write(CR, 4, ADEN | ADSTART)
    assert dev.waiting_for() == "stm32l0_tim2 TRGO"
    assert host.exceptions.due is None  # nothing converts before a trigger
    host.exceptions.now = 1100
    dev.trigger("stm32l0_tim2 TRGO", 1090, RISING)  # not the edge EXTEN selects
    assert host.exceptions.due is None
    dev.trigger("stm32l0_tim2 TRGO", 1090, FALLING)  # 10 cycles ago: the conversion ends at 1104
    assert host.exceptions.due == 1104
    dev.trigger("stm32l0_tim2 TRGO", 1095, PULSE)  # under way: ignored, as on the chip
    assert host.exceptions.due == 1104
    host.exceptions.now = 1104
    host.exceptions.action()
    assert dev.read(ISR, 4) & 0xC == 0xC and dev.read(CR, 4) & ADSTART  # EOC, EOS; still set
    dev.trigger("stm32l0_tim2 TRGO", 1103, PULSE)  # before it ended (a late event): ignored,
    assert host.exceptions.due == 1104  # nothing planned (it would end at 1117)
    dev.trigger("stm32l0_tim2 TRGO", 1104, PULSE)
    assert host.exceptions.due == 1118
    dev.write(CR, 4, ADEN | ADSTART | ADSTP)  # stopped: waits no more
    assert dev.waiting_for() is None and host.exceptions.due is None
    assert host.listed == []

"""The STM32L0's RTC and EXTI (sim/devices/stm32l0_rtc.py, stm32l0_exti.py) on the stm32l031
profile: a vendor HAL's RTC initialisation, calendar, wake-up timer and alarm, from
tests/programs/irq/rtc.c; what the chip ignores (write protection, the backup domain, no
RTCCLK); and the EXTI's software interrupts, register by register."""

import pytest
from helpers import FakeDeviceHost

from sim.devices.stm32l0_exti import IMR, PR, RTSR, SWIER, Stm32l0Exti
from tests.test_exceptions import irq_program

LIMIT = ("--max-instructions", "5000000")  # a regression fails, not hangs
CLOCK = 32_000_000


def rtc(firmware, case: str, **defines):
    return irq_program(firmware, "rtc.c", "stm32l031", **{f"CASE_{case}": 1}, **defines)


def listed(report) -> list[str]:
    return [r for r in report["unmodelled_registers"] if "stm32l0_rtc" in r]


@pytest.mark.parametrize("case, time", [("calendar", "00000000"), ("hour12", "00120000")])
def test_the_calendar_counts_device_time(firmware, cli, case, time):
    """23:59:58 on Tuesday 2024-12-31 (11:59:58 PM in 12-hour format), then 2.5 s asleep: it is
    midnight (12 AM) on Wednesday 2025-01-01, half a second into the second; DR as a TR read
    before the sleep held it (the shadow registers: HAL_RTC_GetTime reads SSR first, which
    holds TR and DR, then GetDate DR); the backup register kept."""
    result = cli("run", rtc(firmware, case), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    assert report["stdout"] == (
        f"tr now {time}\n"  # TR itself is not held by a TR read
        "dr then 00245231\n"  # the shadow DR a TR read held: 24-12-31, weekday 2
        f"tr {time}\n"
        "dr 00256101\n"  # 25-01-01, weekday 3
        "ssr 0000007f\n")  # 255 - 128: half of PREDIV_S + 1 gone
    assert listed(report) == []  # the HAL's sequence is all modelled
    asleep = report["sleep_cycles"] / CLOCK
    assert 2.49 < asleep < 2.5


@pytest.mark.parametrize("wut, wucksel, wakeups, time", [
    (0, 4, 5, "00120005"),  # ck_spre: a wake-up a second
    (2047, 0, 3, "00120003"),  # RTCCLK / 16: 2,048 x 16 / 32,768 Hz = 1 s
    (0, 6, 1, "00061217"),  # ck_spre, WUT + 2^16: 65,537 s, into the next day
])
def test_the_wake_up_timer_wakes_the_core(firmware, cli, wut, wucksel, wakeups, time):
    result = cli("run", rtc(firmware, "wakeup", WUT=wut, WUCKSEL=wucksel, WAKEUPS=wakeups),
                 *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    assert report["stdout"] == f"tr {time}\n"
    assert report["exceptions"]["taken"] == {"IRQ2": wakeups}  # RTC, through EXTI line 20
    period = (wut + 1 + (0x10000 if wucksel >= 6 else 0)) * (1 if wucksel >= 4 else 16 / 32768)
    total = (report["cycles"] + report["sleep_cycles"]) / CLOCK
    assert wakeups * period < total < wakeups * period + 0.01
    assert report["cycles"] < 3_000  # asleep but for the handlers
    assert listed(report) == []


def test_the_alarm_interrupts_at_its_second(firmware, cli):
    """Alarm A at second 30 of every minute, from 12:00:25: 12:00:30, then 12:01:30."""
    result = cli("run", rtc(firmware, "alarm"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    assert report["stdout"] == "alarm 00120030\nalarm 00120130\n"
    assert report["exceptions"]["taken"] == {"IRQ2": 2}
    assert 65 < (report["cycles"] + report["sleep_cycles"]) / CLOCK < 65.01


def test_an_alarm_on_a_date(firmware, cli):
    """Alarm A on the 1st at 00:00:05, from 23:59:58 on 2024-12-31: 7 s later, on 2025-01-01."""
    result = cli("run", rtc(firmware, "date"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    assert report["stdout"] == "alarm 00000005\ndr 00256101\n"
    assert 7 < (report["cycles"] + report["sleep_cycles"]) / CLOCK < 7.01


def test_deinit_and_a_backup_domain_reset(firmware, cli):
    """HAL_RTC_DeInit's sequence puts the calendar back to its reset values (INITS clear); then
    RCC_CSR.RTCRST clears the backup registers and locks the registers again."""
    result = cli("run", rtc(firmware, "deinit"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert result.report["stdout"] == (
        "tr 00000000\ndr 00002101\n"
        "isr 00000027\n"  # RSF, WUTWF, ALRBWF, ALRAWF
        "bkp 00000000\n")
    assert listed(result.report) == [
        "stm32l0_rtc+0x000 (0x40002800) write, ignored: write-protected (RTC_WPR): 1"]


@pytest.mark.parametrize("case, why, registers", [
    ("locked", "write, ignored: write-protected (RTC_WPR)", {0x000, 0x00C}),
    ("no_dbp", "write, ignored: the backup domain is write-protected (PWR_CR.DBP clear)",
     {0x00C, 0x024, 0x050}),
    ("no_clock", "its clock is off (RCC CSR RTCEN, bit 18)", {0x00C, 0x024}),
])
def test_what_the_chip_ignores_is_ignored_and_listed(firmware, cli, case, why, registers):
    """The firmware's own checks (exit 0) see the writes ignored, INITF never set; the report
    says why for each access."""
    result = cli("run", rtc(firmware, case), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    rows = listed(result.report)
    assert rows and all(why in r or "read" in r for r in rows), rows
    assert {int(r.split("+")[1][:5], 16) for r in rows} == registers


def test_a_wait_for_initf_without_the_clock_is_named(firmware, cli):
    """No RTCEN and no timeout in the wait: the run stops at the limit, and says why."""
    result = cli("run", rtc(firmware, "no_clock", TRIES=0), "--max-instructions", "200000")
    assert result.returncode == 5
    assert ("the firmware was polling stm32l0_rtc+0x00c (0x4000280c) (" in
            result.report["fault"]["message"])
    assert "while its clock is off (RCC CSR RTCEN, bit 18)" in result.report["fault"]["message"]


def test_the_rtc_wakes_an_application_for_a_day(firmware, cli):
    """--run-for a day and a second with a wake-up every minute (the timer enabled a few
    microseconds after reset): 1,440 wake-ups, the core asleep but for them."""
    result = cli("run", rtc(firmware, "wakeup", WUT=59, WUCKSEL=4, WAKEUPS=10**6),
                 "--run-for", "86401s")
    assert result.returncode == 0, result.report
    report = result.report
    assert report["exceptions"]["taken"] == {"IRQ2": 1440}
    assert report["cycles"] + report["sleep_cycles"] == 86401 * CLOCK
    assert report["cycles"] < 1440 * 100  # about 60 cycles a wake-up


# --- the EXTI, register by register -------------------------------------------------------------


def exti():
    host = FakeDeviceHost()
    host.exceptions.event_register = False  # type: ignore[attr-defined]
    dev = Stm32l0Exti(host)  # type: ignore[arg-type]
    dev.reset()
    return host, dev


def test_a_software_interrupt_pends_its_line_and_drives_its_nvic_line():
    host, dev = exti()
    assert dev.read(IMR, 4) == 0x3F84_0000  # the direct lines enabled at reset
    dev.write(IMR, 4, 1 << 0)
    dev.write(SWIER, 4, 1 << 0 | 1 << 5)  # line 0 enabled; line 5 pended, not enabled
    assert dev.read(PR, 4) == 1 << 0 | 1 << 5
    assert host.lines == {5: True}  # EXTI0_1; EXTI4_15 masked, so never driven
    dev.write(PR, 4, 1 << 0)  # rc_w1
    assert dev.read(PR, 4) == 1 << 5 and dev.read(SWIER, 4) == 1 << 5
    assert host.lines[5] is False
    dev.write(IMR, 4, 1 << 5)
    assert host.lines[7] is True  # the pending line 5 now enabled


def test_an_edge_is_latched_only_on_a_selected_edge():
    host, dev = exti()
    dev.write(IMR, 4, 1 << 20)
    dev.edge(20)
    assert dev.read(PR, 4) == 0 and 2 not in host.lines  # RTSR not set: never driven
    dev.write(RTSR, 4, 1 << 20)
    dev.edge(20)
    assert dev.read(PR, 4) == 1 << 20 and host.lines[2] is True  # the RTC's IRQ 2
    dev.write(0x18, 4, 1)  # past PR: not a register
    assert host.listed == [("stm32l0_exti", 0x18, 4, 1)]

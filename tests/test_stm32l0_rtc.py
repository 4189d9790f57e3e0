"""The STM32L0's RTC and EXTI (sim/devices/stm32l0_rtc.py, stm32l0_exti.py) on the stm32l031
profile: a vendor HAL's RTC initialisation, calendar, wake-up timer and alarm, from
tests/programs/irq/rtc.c; what the chip ignores (write protection, the backup domain, no
RTCCLK); and the EXTI's software interrupts, register by register."""

import pytest
from helpers import FakeDeviceHost

from sim.devices.stm32l0_exti import IMR, PR, RTSR, SWIER, Stm32l0Exti
from sim.devices.stm32l0_rtc import NEVER
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


def test_rcc_writes_cost_the_rtc_no_time(firmware, cli):
    """RCC_CSR rewritten before each sleep (as code that checks its clocks does): the RTC's
    20 wake-ups come at the same cycles as without the writes (each write used to lose part
    of an RTCCLK period, about 62 cycles)."""
    totals = []
    for defines in ({}, {"TOUCH_RCC": None}):
        result = cli("run", rtc(firmware, "wakeup", WUT=0, WUCKSEL=4, WAKEUPS=20, **defines),
                     *LIMIT)
        assert result.returncode == 0, result.report["exit_code"]
        report = result.report
        assert report["stdout"] == "tr 00120020\n"
        totals.append(report["cycles"] + report["sleep_cycles"])
    assert totals[0] == totals[1]
    assert 20 * CLOCK < totals[0] < 20 * CLOCK + 1_000


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
    RCC_CSR.RTCRST clears the backup registers and locks the registers again, and takes the
    RTC's clock away (RTCEN, RTCSEL and the LSE are in the backup domain too)."""
    result = cli("run", rtc(firmware, "deinit"), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert result.report["stdout"] == (
        "tr 00000000\ndr 00002101\n"
        "isr 00000027\n"  # RSF, WUTWF, ALRBWF, ALRAWF
        "bkp 00000000\n")
    assert listed(result.report) == [
        f"stm32l0_rtc+0x000 (0x40002800) read, {OFF}: 1",
        "stm32l0_rtc+0x000 (0x40002800) write, ignored: write-protected (RTC_WPR): 1",
        f"stm32l0_rtc+0x000 (0x40002800) write, {OFF}: 1",
        f"stm32l0_rtc+0x050 (0x40002850) read, {OFF}: 1"]


OFF = "its clock is off (RCC CSR RTCEN, bit 18)"
DBP = "ignored: the backup domain is write-protected (PWR_CR.DBP clear)"


@pytest.mark.parametrize("case, rows", [
    ("locked", ["+0x000 (0x40002800) write, ignored: write-protected (RTC_WPR): 1",
                "+0x00c (0x4000280c) write, ignored: write-protected (RTC_WPR): 1"]),
    # LSEON and RTCEN, in the backup domain, ignored too: the RTC has no clock either
    ("no_dbp", [f"+0x050 (0x40002850) read, {OFF}: 1", f"+0x050 (0x40002850) write, {DBP}: 1",
                f"+0x050 (0x40002850) write, {OFF}: 1"]),
    ("no_clock", [f"+0x00c (0x4000280c) read, {OFF}: 20000",
                  f"+0x00c (0x4000280c) write, {OFF}: 1", f"+0x024 (0x40002824) write, {OFF}: 2"]),
])
def test_what_the_chip_ignores_is_ignored_and_listed(firmware, cli, case, rows):
    """The firmware's own checks (exit 0) see the writes ignored, INITF never set; the report
    says why for each access."""
    result = cli("run", rtc(firmware, case), *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert listed(result.report) == [f"stm32l0_rtc{r}" for r in rows]
    rcc = [r for r in result.report["unmodelled_registers"] if "stm32l0_rcc" in r]
    assert rcc == ([f"stm32l0_rcc+0x050 (0x40021050) write, {DBP}: 1"] if case == "no_dbp"
                   else [])


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


def stamps(stdout: str) -> list[list[int]]:
    """The timestamp case's "ts TSTR TSDR TSSSR SSR" groups."""
    words = stdout.split()
    assert words[::5] == ["ts"] * (len(words) // 5), stdout
    return [[int(w, 16) for w in words[k + 1:k + 5]] for k in range(0, len(words), 5)]


@pytest.fixture
def pa2(tmp_path):
    """PA2 (RTC_TS, RTC_TAMP3) rising at 2.25 s and 5.5 s, falling at 2.5 s and 6 s."""
    pin = tmp_path / "pa2.csv"
    pin.write_text("0,0\n2.25,1\n2.5,0\n5.5,1\n6,0\n")
    return f"PA2={pin}"


@pytest.mark.parametrize("edge, stamped", [
    ("rising", [(0x081002, 0xC0), (0x081005, 0x80)]),  # at 2.25 s and 5.5 s
    ("falling", [(0x081002, 0x80), (0x081005, 0x00)])])  # at 2.5 s and 6 s
def test_a_time_stamp_takes_the_calendar_at_the_pins_edge(firmware, cli, pa2, edge, stamped):
    """As STM32CubeL0's RTC_TimeStamp: each RTC_TS edge (PA2; TSEDGE: rising or falling)
    copies the time, the date without the year (Monday 04-14) and the sub-seconds (255 -
    the ck_apre periods of the second gone, the calendar started a few cycles after 0) into
    TSTR, TSDR, TSSSR; TSF, and with TSIE the interrupt (EXTI line 19), come two ck_apre
    periods later: SSR has counted 2 down when the handler reads it."""
    defines = {"FALLING": None} if edge == "falling" else {}
    result = cli("run", rtc(firmware, "timestamp", **defines), "--pin", pa2,
                 "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    found = stamps(result.report["stdout"])
    assert [(tstr, tsssr) for tstr, _, tsssr, _ in found] == stamped
    assert {tsdr for _, tsdr, _, _ in found} == {(1 << 13) | 0x0414}
    assert [(tsssr - ssr) % 256 for _, _, tsssr, ssr in found] == [2, 2]
    assert result.report["exceptions"]["taken"] == {"IRQ2": 2}
    assert listed(result.report) == []


def test_a_second_stamp_before_tsf_is_cleared_sets_tsovf(firmware, cli, pa2):
    """The handler leaves TSF set: the second edge sets TSOVF and the registers keep the
    first event's time."""
    result = cli("run", rtc(firmware, "timestamp", OVF=None), "--pin", pa2, *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    assert result.report["stdout"] == "isr 00001800\ntstr 00081002\n"  # TSF, TSOVF


def test_a_time_stamp_waited_for_in_vain_is_a_deadlock(firmware, cli, pa2):
    """Three stamps asked for, two edges given: once the pin's rows are done, the core's
    WFI is a deadlock, at the last row's time."""
    result = cli("run", rtc(firmware, "timestamp", STAMPS=3), "--pin", pa2, *LIMIT)
    assert result.report["status"] == "deadlock"
    assert 5.99 < (result.report["sleep_cycles"] + result.report["cycles"]) / CLOCK < 6.01


@pytest.mark.parametrize("defines, kept, tstr", [
    ({}, False, None), ({"NOERASE": None}, True, None), ({"TAMPTS": None}, False, 0x120002)])
def test_a_tamper_erases_the_backup_registers(firmware, cli, pa2, defines, kept, tstr):
    """As STM32CubeL0's RTC_Tamper: tamper 3 (PA2) on its falling edge (2.5 s) erases the
    five backup registers and interrupts (EXTI line 19) once; TAMP3NOERASE keeps them; TAMPTS
    stamps the time too (TSF without TSE), TAMP3F set with TSF so that the tamper's
    interrupt reads the stamp."""
    result = cli("run", rtc(firmware, "tamper", **defines), "--pin", pa2,
                 "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    words = result.report["stdout"].split()
    backups = [int(w, 16) for w in [*words[1:5], words[6]]]
    assert backups == ([0xDF59 + 0x5A * n for n in range(5)] if kept else [0] * 5)
    assert ("tstr" in words) == (tstr is not None)
    if tstr is not None:
        assert int(words[words.index("tstr") + 1], 16) == tstr
    assert result.report["exceptions"]["taken"] == {"IRQ2": 1}
    assert listed(result.report) == []


@pytest.mark.parametrize("tampts", [False, True])
def test_a_level_detected_tamper_waits_for_its_samples(firmware, cli, pa2, tampts):
    """Level detection (TAMPFLT 11: 8 consecutive samples; TAMPFREQ 111: RTCCLK / 256, 128 Hz;
    TAMP3TRG: high): PA2 rising at 2.25 s is a tamper at its 8th sample, 55-63 ms later (the
    samples are the RTC's own, not the pin's), the registers erased, one interrupt; with
    TAMPTS the time stamped then, TAMP3F with TSF three ck_apre periods later."""
    defines = {"LEVEL": None, **({"TAMPTS": None} if tampts else {})}
    result = cli("run", rtc(firmware, "tamper", **defines), "--pin", pa2,
                 "--strict-peripherals", *LIMIT)
    assert result.returncode == 0, result.report["exit_code"]
    report = result.report
    words = report["stdout"].split()
    assert [int(w, 16) for w in [*words[1:5], words[6]]] == [0] * 5
    if tampts:
        assert int(words[words.index("tstr") + 1], 16) == 0x120002
    assert report["exceptions"]["taken"] == {"IRQ2": 1}
    assert listed(report) == []
    ended = (report["cycles"] + report["sleep_cycles"]) / CLOCK
    later = 3 * 128 / 32768 if tampts else 0.0  # (TAMP3F with TSF, three ck_apre on)
    assert 2.25 + 7 / 128 + later < ended < 2.25 + 8 / 128 + later + 0.002


# --- the RTC, register by register --------------------------------------------------------------


def rtc_dev(now: int = 0):
    """The RTC with no RCC (clocked by the LSE from reset), no EXTI, no PWR."""
    from sim.devices.stm32l0_rtc import Stm32l0Rtc

    host = FakeDeviceHost(now)
    host.clock_hz = CLOCK  # type: ignore[attr-defined]
    dev = Stm32l0Rtc(host)  # type: ignore[arg-type]
    dev.reset()
    return host, dev


def init_mode(dev, tr: int | None = None, dr: int | None = None, cr: int | None = None,
              writes=()) -> None:
    """Unlock, INIT, the writes, INIT cleared."""
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x0C, 4, 0xFFFF_FFFF)
    assert dev.read(0x0C, 4) & 0x40  # INITF
    if cr is not None:
        dev.write(0x08, 4, cr)
    for offset, size, value in writes:
        dev.write(offset, size, value)
    if tr is not None:
        dev.write(0x00, 4, tr)
    if dr is not None:
        dev.write(0x04, 4, dr)
    dev.write(0x0C, 4, 0)


def at(host, dev, seconds: float) -> None:
    host.exceptions.now = round(seconds * CLOCK)


def test_isr_reads_its_reset_value_and_rsf_comes_two_rtcclk_periods_in():
    host, dev = rtc_dev()
    assert dev.read(0x0C, 4) == 0x07  # ALRAWF, ALRBWF, WUTWF; RSF not yet
    at(host, dev, 0.001)
    assert dev.read(0x0C, 4) == 0x27


def test_the_century_turns_to_a_leap_year_00():
    """Thursday 2099-12-31 23:59:58, then 3 s: Friday 2000-01-01 (the weekday steps, whatever
    the date); 60 days on, 2000-02-29 exists (00 is a leap year on the chip)."""
    host, dev = rtc_dev()
    init_mode(dev, tr=0x235958, dr=0x99 << 16 | 4 << 13 | 0x1231)
    at(host, dev, 3)
    assert (dev.read(0x04, 4), dev.read(0x00, 4)) == (0x00 << 16 | 5 << 13 | 0x0101, 0x000001)
    host2, dev2 = rtc_dev()
    init_mode(dev2, tr=0x235958, dr=0x99 << 16 | 4 << 13 | 0x1231)
    at(host2, dev2, 2 + 59 * 86400)  # never read on the way
    assert dev2.read(0x04, 4) & 0x1F3F == 0x0229


def test_a_date_written_a_field_at_a_time_is_taken_whole():
    """libopencm3 sets DR's fields one by one: 2016-02-29 is not clamped on the way (from
    2000-01-31, the day 29 and then February: no step reads 2000-02-31)."""
    _host, dev = rtc_dev()
    init_mode(dev, dr=0x00 << 16 | 1 << 13 | 0x0131)
    init_mode(dev, writes=[(0x04, 1, 0x29), (0x05, 1, 1 << 5 | 0x02), (0x06, 1, 0x16)])
    assert dev.read(0x04, 4) == 0x16 << 16 | 1 << 13 | 0x0229


def test_wake_ups_on_the_seconds_stop_in_init_mode():
    """WUCKSEL 100 (ck_spre): the wake-up counts the calendar's seconds, which INIT stops."""
    host, dev = rtc_dev()
    init_mode(dev)
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x14, 4, 0)  # WUTR 0: every second
    dev.write(0x08, 4, 4 | 1 << 10)  # WUCKSEL 100, WUTE
    dev.write(0x0C, 4, 0xFFFF_FFFF)  # INIT for 3 s
    at(host, dev, 3)
    assert not dev.read(0x0C, 4) & 1 << 10
    dev.write(0x0C, 4, ~(1 << 7) & 0xFFFF_FFFF)  # INIT cleared: a second more
    at(host, dev, 3.99)
    assert not dev.read(0x0C, 4) & 1 << 10
    at(host, dev, 4.0)
    assert dev.read(0x0C, 4) & 1 << 10  # WUTF
    dev.write(0x08, 4, 6 | 1 << 10)  # WUCKSEL while WUTE: ignored, listed
    assert dev.read(0x08, 4) & 7 == 4
    assert host.listed[-1][0] == "stm32l0_rtc"


def test_impossible_alarms_never_match_and_cost_nothing():
    _host, dev = rtc_dev()
    init_mode(dev)
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    for alarm in (0x0000_0000,  # date 0
                  0x8000_0000 | 1 << 22 | 0x12_0000,  # PM in 24-hour format
                  0x8000_0000 | 0x25_0000,  # hour 25
                  0x4800_0000):  # weekday 8 (WDSEL, MSK4 clear)
        dev.write(0x1C, 4, alarm)
        assert dev._next_alarm(0x1C) is None
    dev.write(0x1C, 4, 0x8000_0000 | 0x12_0000)  # 12:00:00 every day, from 00:00:00
    assert dev._next_alarm(0x1C) == 12 * 3600


def test_actions_read_zero_and_shiftr_zero_is_no_shift():
    host, dev = rtc_dev()
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x08, 4, 1 << 16)  # ADD1H: not modelled, listed; reads 0
    assert dev.read(0x08, 4) == 0
    assert len(host.listed) == 1
    dev.write(0x2C, 4, 0)  # SHIFTR 0 (HAL_RTC_DeInit): no shift asked, nothing listed
    assert len(host.listed) == 1


def test_pwr_keeps_its_settings_and_its_regulator_is_always_ready():
    from sim.devices.stm32l0_pwr import CR, CSR, Stm32l0Pwr

    host = FakeDeviceHost()
    pwr = Stm32l0Pwr(host)  # type: ignore[arg-type]
    pwr.reset()
    assert (pwr.read(CR, 4), pwr.read(CSR, 4)) == (0x1000, 0x08)  # range 2; VREFINTRDYF
    pwr.write(CR, 4, 1 << 11 | 1 << 8 | 1 << 2)  # range 1, DBP, CWUF (an action: reads 0)
    assert pwr.read(CR, 4) == 1 << 11 | 1 << 8 and pwr.backup_writable()
    assert not pwr.read(CSR, 4) & 1 << 4  # VOSF: ready at once
    pwr.write(CR, 4, 1 << 14 | 1 << 11 | 1)  # LPRUN, LPSDSR: the regulator in low-power mode
    assert pwr.read(CSR, 4) & 1 << 5 and not pwr.backup_writable()
    assert host.listed == []
    pwr.write(CR, 4, 1 << 11 | 1 << 4)  # PVDE: the PVD is not modelled
    assert host.listed == [("stm32l0_pwr", CR, 4, 1 << 11 | 1 << 4)]
    pwr.write(CR, 4, 0)  # VOS 00 is not a range (RM0377): range 1 stays
    assert pwr.read(CR, 4) >> 11 & 3 == 1 and host.listed[-1] == ("stm32l0_pwr", CR, 4, 0)


class PinHost(FakeDeviceHost):
    """The RTC's host with --pin levels (``drive``: port -> (driven, high)) and a fake EXTI
    that keeps the lines it is given edges on."""

    def __init__(self) -> None:
        super().__init__()
        self.clock_hz = CLOCK
        self.drive: dict[str, tuple[int, int]] = {}
        self.edges: list[int] = []
        exti = Stm32l0Exti.__new__(Stm32l0Exti)
        exti.edge = self.edges.append  # type: ignore[method-assign,assignment]
        self.exti = exti

    def pin_drive(self, port: str) -> tuple[int, int]:
        return self.drive.get(port, (0, 0))

    def device(self, name: str):  # type: ignore[override]
        return self.exti if name == Stm32l0Exti.name else None


def pin_rtc():
    from sim.devices.stm32l0_rtc import Stm32l0Rtc

    host = PinHost()
    dev = Stm32l0Rtc(host)  # type: ignore[arg-type]
    dev.reset()
    init_mode(dev, tr=0x120000)
    return host, dev


def drive(host, dev, port: str, pin: int, level: int, seconds: float) -> None:
    """--pin sets port ``port``'s pin ``pin`` to ``level`` at ``seconds``."""
    at(host, dev, seconds)
    driven, high = host.drive.get(port, (0, 0))
    host.drive[port] = (driven | 1 << pin, high & ~(1 << pin) | level << pin)
    dev.drive_changed(port, host.exceptions.now)


def test_the_edge_detectors_start_from_the_pins_level_at_the_enable():
    """PA2 already high when TSE is set: no stamp; its next rising edge stamps. A stamp's
    registers read 0 once TSF is cleared; writing them is listed."""
    host, dev = pin_rtc()
    drive(host, dev, "A", 2, 1, 0.5)
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x08, 4, 1 << 11)  # TSE
    drive(host, dev, "A", 0, 1, 0.7)  # (another of its pins: PA2 is still no edge)
    at(host, dev, 1.0)
    assert not dev.read(0x0C, 4) & 1 << 11
    drive(host, dev, "A", 2, 0, 1.5)
    drive(host, dev, "A", 2, 1, 3.0)
    at(host, dev, 3.1)
    assert dev.read(0x0C, 4) & 1 << 11  # TSF
    assert dev.read(0x30, 4) == 0x120003 and host.edges == []  # (no TSIE: no interrupt)
    dev.write(0x08, 4, 1 << 11 | 1 << 15)  # TSIE set with TSF up: an edge to the EXTI
    assert host.edges == [19]
    dev.write(0x0C, 4, ~(1 << 11) & 0x1FFFF)  # TSF cleared: the stamp reads 0
    assert (dev.read(0x30, 4), dev.read(0x34, 4), dev.read(0x38, 4)) == (0, 0, 0)
    dev.write(0x30, 4, 1)
    assert host.listed == [("stm32l0_rtc", 0x30, 4, 1)]


@pytest.mark.parametrize("n, port, pin", [(1, "C", 13), (2, "A", 0), (3, "A", 2)])
def test_each_tamper_takes_its_pins_edge_and_its_own_or_the_common_enable(n, port, pin):
    """Tamper n on its pin's rising edge (TAMPnTRG clear): TAMPnF, the backup registers
    erased; TAMPnIE (or TAMPIE) an edge on EXTI line 19; a falling edge (not selected) or
    another tamper's pin does nothing."""
    host, dev = pin_rtc()
    bit = {1: 0, 2: 3, 3: 5}[n]
    dev.write(0x50, 4, 7)  # BKP0R
    dev.write(0x40, 4, 1 << bit | 1 << (16 + 3 * (n - 1)))  # TAMPnE, TAMPnIE
    others = [(p, q) for p, q in (("C", 13), ("A", 0), ("A", 2)) if (p, q) != (port, pin)]
    for other_port, other_pin in others:
        drive(host, dev, other_port, other_pin, 1, 0.2)
    assert dev.read(0x0C, 4) & 0xE000 == 0 and dev.read(0x50, 4) == 7
    drive(host, dev, port, pin, 1, 0.5)
    assert dev.read(0x0C, 4) & 0xE000 == 1 << (12 + n) and dev.read(0x50, 4) == 0
    assert host.edges == [19]
    dev.write(0x0C, 4, 0)  # flags cleared
    drive(host, dev, port, pin, 0, 0.7)  # falling: not the selected edge
    assert dev.read(0x0C, 4) & 0xE000 == 0
    dev.write(0x40, 4, 1 << bit | 1 << 2)  # TAMPIE, the common enable
    drive(host, dev, port, pin, 1, 0.9)
    assert host.edges == [19, 19]


def test_masked_flags_are_listed_and_take_no_event():
    """TAMPnMF is listed with why; level detection is not."""
    host, dev = pin_rtc()
    dev.write(0x40, 4, 1 << 5 | 1 << 11)  # TAMP3E, TAMPFLT 01
    assert host.listed == []
    dev.write(0x40, 4, 1 << 5 | 1 << 24)  # TAMP3MF
    assert "TAMP3MF" in host.whys[-1] and len(host.listed) == 1


LEVEL_PERIOD = 256  # RTCCLK periods between samples at TAMPFREQ 111 (RTCCLK / 256)


def level_rtc(tampcr: int):
    """The RTC with tamper 3 in level detection at TAMPFREQ 111 (``tampcr`` adds the rest);
    its count's start tick."""
    host, dev = pin_rtc()
    dev.write(0x40, 4, 1 << 5 | 7 << 8 | tampcr)
    return host, dev


def at_tick(host, dev, tick: int) -> None:
    host.exceptions.now = dev._line.cycle_of(tick)


def drive_at(host, dev, port: str, pin: int, level: int, tick: int) -> None:
    at_tick(host, dev, tick)
    driven, high = host.drive.get(port, (0, 0))
    host.drive[port] = (driven | 1 << pin, high & ~(1 << pin) | level << pin)
    dev.drive_changed(port, host.exceptions.now)


def tamp3f(dev) -> bool:
    return bool(dev.read(0x0C, 4) & 1 << 15)


@pytest.mark.parametrize("flt, samples", [(1, 2), (2, 4), (3, 8)])
def test_level_detection_takes_consecutive_samples(flt, samples):
    """TAMPFLT 01/10/11: the tamper is detected at the 2nd/4th/8th consecutive sample at the
    active level (TAMP3TRG: high; TAMPPUDIS: no pull-up, undriven low), the samples every 256
    RTCCLK periods of the RTC's count; then the backup registers are erased and TAMP3IE is an
    edge on EXTI line 19."""
    host, dev = level_rtc(1 << 6 | flt << 11 | 1 << 15 | 1 << 22)  # TRG, FLT, PUDIS, TAMP3IE
    dev.write(0x50, 4, 0x77)
    rise = 40 * LEVEL_PERIOD + 100  # between two samples
    drive_at(host, dev, "A", 2, 1, rise)
    due = (40 + samples) * LEVEL_PERIOD
    at_tick(host, dev, due - 1)
    assert not tamp3f(dev) and dev.read(0x50, 4) == 0x77 and host.edges == []
    assert dev._next == dev._line.cycle_of(due)  # (planned: TAMP3IE)
    at_tick(host, dev, due)
    dev._catch_up()  # (the planned event)
    assert tamp3f(dev) and dev.read(0x50, 4) == 0 and host.edges == [19]
    assert dev._next == NEVER  # (nothing more planned while the flag is up)


def test_a_level_shorter_than_its_samples_is_no_tamper():
    """2 samples (TAMPFLT 01): a high level seen by one sample only, then low, then high
    again for two samples: detected at the second of those, counted afresh."""
    host, dev = level_rtc(1 << 6 | 1 << 11 | 1 << 15)
    drive_at(host, dev, "A", 2, 1, 10 * LEVEL_PERIOD + 5)  # sampled at 11 only
    drive_at(host, dev, "A", 2, 0, 11 * LEVEL_PERIOD + 7)
    at_tick(host, dev, 20 * LEVEL_PERIOD)
    assert not tamp3f(dev)
    drive_at(host, dev, "A", 2, 1, 20 * LEVEL_PERIOD + 1)
    at_tick(host, dev, 22 * LEVEL_PERIOD - 1)
    assert not tamp3f(dev)
    at_tick(host, dev, 22 * LEVEL_PERIOD)
    assert tamp3f(dev)


@pytest.mark.parametrize("pudis, driven, detected", [
    (False, None, False),  # the pull-up precharges an undriven pin high: not low
    (False, 0, True),  # driven low
    (True, None, True),  # no pull-up: undriven reads low
])
def test_level_detection_precharges_an_undriven_pin(pudis, driven, detected):
    """TAMP3TRG clear (low level), TAMPFLT 01: TAMPPUDIS clear precharges the pin through its
    pull-up before each sample, so an undriven pin is high; a pin driven low, or undriven
    without the pull-up, is a tamper after 2 samples."""
    host, dev = pin_rtc()
    if driven is not None:
        drive_at(host, dev, "A", 2, driven, 5)
    dev.write(0x40, 4, 1 << 5 | 7 << 8 | 1 << 11 | (1 << 15 if pudis else 0))
    start = dev._tick()
    at_tick(host, dev, (start // LEVEL_PERIOD + 2) * LEVEL_PERIOD)
    assert tamp3f(dev) == detected


def test_a_level_still_active_when_its_flag_is_cleared_counts_again():
    """With the flag up nothing is detected (the backup register written meanwhile stays);
    cleared while the level stays, the tamper comes again after its samples, counted from
    the clear."""
    host, dev = level_rtc(1 << 6 | 1 << 11 | 1 << 15)  # 2 samples
    drive_at(host, dev, "A", 2, 1, 3 * LEVEL_PERIOD + 1)
    at_tick(host, dev, 5 * LEVEL_PERIOD)
    assert tamp3f(dev)
    dev.write(0x50, 4, 0x55)
    at_tick(host, dev, 9 * LEVEL_PERIOD + 3)
    assert dev.read(0x50, 4) == 0x55
    dev.write(0x0C, 4, ~(1 << 15) & 0x1FFFF)  # TAMP3F cleared
    assert not tamp3f(dev)
    at_tick(host, dev, 11 * LEVEL_PERIOD - 1)
    assert not tamp3f(dev) and dev.read(0x50, 4) == 0x55
    at_tick(host, dev, 11 * LEVEL_PERIOD)
    assert tamp3f(dev) and dev.read(0x50, 4) == 0


def test_a_level_tamper_with_its_interrupt_is_planned_and_without_it_found_on_a_read():
    """The RTC plans a level detection whose flag would interrupt (TAMPIE): a sleeping core
    wakes for it; without an interrupt nothing is planned, a read finds it."""
    host, dev = level_rtc(1 << 6 | 1 << 11 | 1 << 15 | 1 << 2)  # TAMPIE
    drive_at(host, dev, "A", 2, 1, 3 * LEVEL_PERIOD + 1)
    assert dev._next == dev._line.cycle_of(5 * LEVEL_PERIOD)
    host, dev = level_rtc(1 << 6 | 1 << 11 | 1 << 15)
    drive_at(host, dev, "A", 2, 1, 3 * LEVEL_PERIOD + 1)
    assert dev._next == NEVER
    at_tick(host, dev, 6 * LEVEL_PERIOD)
    assert tamp3f(dev)


def test_a_stamp_is_the_calendar_at_the_edges_cycle_and_tsf_comes_at_the_second_ck_apre_edge():
    """An edge taken after its own cycle (a block boundary later) stamps the sub-seconds of
    its cycle; TSF sets at the second ck_apre edge after it (RM0377's synchronisation of
    two ck_apre periods), not two periods after the edge's own time."""
    host, dev = pin_rtc()
    start = dev._t0  # (the tick the calendar started at)
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x08, 4, 1 << 11)  # TSE
    apre = 128  # RTCCLK periods in a ck_apre period (PREDIV_A 127)
    edge = dev._line.cycle_of(start + 10 * apre + apre // 2)  # half-way through period 10
    host.drive["A"] = (1 << 2, 1 << 2)
    host.exceptions.now = dev._line.cycle_of(start + 11 * apre + 3)  # taken later
    dev.drive_changed("A", edge)
    assert dev._ts_due == start + 12 * apre  # the second ck_apre edge after the event
    host.exceptions.now = dev._line.cycle_of(start + 12 * apre) - 1
    assert not dev.read(0x0C, 4) & 1 << 11
    host.exceptions.now = dev._line.cycle_of(start + 12 * apre)
    assert dev.read(0x0C, 4) & 1 << 11 and dev.read(0x38, 4) == 255 - 10


def test_a_tamper_pin_high_at_the_enable_falls_as_its_first_edge():
    """TAMP2TRG (falling edges): PA0 driven high while nothing takes it, then the tamper
    enabled, then PA0 low: that fall is the event; a rise is not. TAMPCR keeps its 25 bits."""
    host, dev = pin_rtc()
    drive(host, dev, "A", 0, 1, 0.2)
    dev.write(0x40, 4, 0xFE00_0000 | 1 << 3 | 1 << 4)  # TAMP2E, TAMP2TRG (+ reserved bits)
    assert dev.read(0x40, 4) == 1 << 3 | 1 << 4
    drive(host, dev, "A", 0, 0, 0.5)
    assert dev.read(0x0C, 4) & 0xE000 == 1 << 14  # TAMP2F
    dev.write(0x0C, 4, 0)
    drive(host, dev, "A", 0, 1, 0.7)
    assert dev.read(0x0C, 4) & 0xE000 == 0


def test_a_tamper_is_not_detected_again_while_its_flag_is_up():
    """RM0367: TAMPnF must be cleared before the pin's next detection: a second edge with
    TAMP3F up erases nothing (the backup register written meanwhile stays); TAMPIE set
    while the flag is up is an edge to the EXTI."""
    host, dev = pin_rtc()
    dev.write(0x40, 4, 1 << 5)  # TAMP3E (rising), no interrupt
    drive(host, dev, "A", 2, 1, 0.2)
    assert dev.read(0x0C, 4) & 1 << 15 and host.edges == []
    dev.write(0x50, 4, 0x1234)
    drive(host, dev, "A", 2, 0, 0.3)
    drive(host, dev, "A", 2, 1, 0.4)
    assert dev.read(0x50, 4) == 0x1234
    dev.write(0x40, 4, 1 << 5 | 1 << 2)  # TAMPIE with TAMP3F up
    assert host.edges == [19]


def test_tampts_sets_the_tamper_flag_with_tsf_three_ck_apre_later():
    """TAMPTS (RM0367): the tamper's TAMPnF comes with TSF, three ck_apre periods after the
    edge, not at once; one PA2 edge seen by RTC_TS and tamper 3 is one time stamp (no
    TSOVF)."""
    host, dev = pin_rtc()
    start = dev._t0
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x08, 4, 1 << 11)  # TSE (rising edges of PA2)
    dev.write(0x40, 4, 1 << 5 | 1 << 7)  # TAMP3E (rising), TAMPTS
    edge = dev._line.cycle_of(start + 128 * 4)  # on a ck_apre edge
    host.drive["A"] = (1 << 2, 1 << 2)
    host.exceptions.now = edge
    dev.drive_changed("A", edge)
    assert dev.read(0x0C, 4) & 0xF800 == 0  # neither flag yet
    host.exceptions.now = dev._line.cycle_of(start + 128 * 7) - 1
    assert dev.read(0x0C, 4) & 0xF800 == 0  # (not two ck_apre periods: three)
    host.exceptions.now = dev._line.cycle_of(start + 128 * 7)
    assert dev.read(0x0C, 4) & 0xF800 == 1 << 15 | 1 << 11  # TAMP3F, TSF; no TSOVF
    dev.write(0x0C, 4, ~(1 << 15) & 0x1FFFF)  # TAMP3F cleared, TSF left up
    drive(host, dev, "A", 2, 0, 0.5)
    drive(host, dev, "A", 2, 1, 0.6)  # a stamp with TSF up: TSOVF, TAMP3F at once
    assert dev.read(0x0C, 4) & 0xF800 == 1 << 15 | 1 << 12 | 1 << 11


def test_a_stamp_while_tsf_is_coming_overflows_and_init_mode_stamps_what_was_written():
    """A second RTC_TS edge before TSF is set (within its two ck_apre periods) sets TSOVF and
    keeps the first stamp; in initialisation mode a stamp takes TR as written."""
    host, dev = pin_rtc()
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x08, 4, 1 << 11)  # TSE
    drive(host, dev, "A", 2, 1, 1.5)
    drive(host, dev, "A", 2, 0, 1.501)
    drive(host, dev, "A", 2, 1, 1.502)  # TSF not yet set (2 / 256 s)
    at(host, dev, 2.6)
    assert dev.read(0x0C, 4) & 0x1800 == 0x1800 and dev.read(0x30, 4) == 0x120001
    dev.write(0x0C, 4, 0x80)  # INIT; TSF, TSOVF cleared
    dev.write(0x00, 4, 0x101010)
    drive(host, dev, "A", 2, 0, 2.7)
    drive(host, dev, "A", 2, 1, 2.8)
    at(host, dev, 3.0)
    assert dev.read(0x30, 4) == 0x101010


def test_without_rtcclk_an_edge_is_not_taken():
    """The RTC's clock stopped (the timeline at 0 Hz): a PA2 edge stamps nothing."""
    host, dev = pin_rtc()
    dev.write(0x24, 4, 0xCA)
    dev.write(0x24, 4, 0x53)
    dev.write(0x08, 4, 1 << 11)  # TSE
    at(host, dev, 0.5)
    dev._line.retime(0, CLOCK, host.exceptions.now)
    drive(host, dev, "A", 2, 1, 1.0)
    assert not dev.read(0x0C, 4) & 0x1800 and dev._ts_due is None


def test_a_tamper_whose_flag_is_on_its_way_is_not_detected_again():
    """TAMPTS: TAMP3F comes with TSF three ck_apre periods after the edge; a second edge
    before then is no new detection (no second erase, no TSOVF)."""
    host, dev = pin_rtc()
    dev.write(0x40, 4, 1 << 5 | 1 << 7)  # TAMP3E (rising), TAMPTS
    drive(host, dev, "A", 2, 1, 0.5)
    dev.write(0x50, 4, 0x55)  # BKP0R written while TAMP3F is on its way
    drive(host, dev, "A", 2, 0, 0.501)
    drive(host, dev, "A", 2, 1, 0.502)
    at(host, dev, 0.6)
    assert dev.read(0x50, 4) == 0x55 and dev.read(0x0C, 4) & 0x9800 == 0x8800  # no TSOVF


def test_stop_mode_is_not_entered_with_a_time_stamp_or_tamper_flag_set(firmware):
    """RM0377: the RTC's alarm, wake-up, tamper and time-stamp flags must be cleared before
    Stop mode, else the entry is ignored: TSF or TAMP2F set is such a flag."""
    import sim

    part = sim.Simulator(firmware.image("hello.c", target="stm32l031"))
    part._reset()
    rcc, rtc = part.device("stm32l0_rcc"), part.device("stm32l0_rtc")
    for flag, name in ((1 << 11, "TSF"), (1 << 14, "TAMP2F")):
        rtc.flags = flag
        sleep = rcc.deep_sleep()
        assert sleep is not None and sleep.ignored and f"RTC_ISR.{name}" in sleep.ignored


def test_a_level_detection_due_before_the_pin_leaves_its_level_is_kept():
    """Nothing planned (no interrupt): the pin at its level for 2 samples then low again
    before any read; a later read finds the tamper, detected at its sample."""
    host, dev = level_rtc(1 << 6 | 1 << 11 | 1 << 15)
    drive_at(host, dev, "A", 2, 1, 3 * LEVEL_PERIOD + 1)
    drive_at(host, dev, "A", 2, 0, 6 * LEVEL_PERIOD + 5)
    at_tick(host, dev, 7 * LEVEL_PERIOD)
    assert tamp3f(dev)


def test_a_change_of_the_level_settings_counts_afresh():
    """TAMPFLT rewritten (2 samples to 4) while the pin is at its level: the count starts
    again at the write, not at the pin's rise."""
    host, dev = level_rtc(1 << 6 | 1 << 11 | 1 << 15)
    drive_at(host, dev, "A", 2, 1, 3 * LEVEL_PERIOD + 1)
    at_tick(host, dev, 4 * LEVEL_PERIOD + 10)
    dev.write(0x40, 4, 1 << 5 | 7 << 8 | 1 << 6 | 2 << 11 | 1 << 15)
    at_tick(host, dev, 8 * LEVEL_PERIOD - 1)
    assert not tamp3f(dev)
    at_tick(host, dev, 8 * LEVEL_PERIOD)
    assert tamp3f(dev)

"""Resets of the part during a run (sim/resets.py; --allow-resets) and the STM32L0's Stand-by
mode (sim/devices/stm32l0_pwr.py): the firmware starts again at its reset vector as on the
chip, with what lives through each kind of reset, and a wake-up from Stand-by is such a reset."""

import json

import numpy as np
import pytest
from helpers import build_example

import sim
from tests.test_exceptions import irq_program

TIMEOUT_MS = 370 / 9_250 * 1e3  # the watchdog case's: RLR 369, LSI 37 kHz / 4: 40 ms


def resets(firmware, case: str, target: str = "stm32l031", **defines):
    return irq_program(firmware, "resets.c", target, **{f"CASE_{case}": None, **defines})


def device_ms(report) -> float:
    return report["time_ms"] + report["sleep_ms"]


@pytest.mark.parametrize("target", ["stm32l031", "curie", "stm32f746"])
def test_sysresetreq_restarts_the_firmware_with_its_sram_kept(firmware, cli, target):
    """Three boots, counted in .noinit (kept by a system reset): two resets allowed, the third
    boot exits 0; the counts go on through the resets."""
    elf = resets(firmware, "software", target)
    res = cli("run", elf, "--allow-resets", "2")
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["status"] == "ok" and report["stdout"] == "boot 1\nboot 2\nboot 3\n"
    assert report["reset_counts"] == {"software": 2}
    assert [r["cause"] for r in report["resets"]] == ["software", "software"]
    assert all("SYSRESETREQ" in r["message"] and not r["sram_lost"] for r in report["resets"])
    first, second = (r["cycle"] for r in report["resets"])
    assert 0 < first < second < report["cycles"]  # counted on, not restarted
    assert "resets" in res.stderr and "2 by the firmware (SYSRESETREQ)" in res.stderr


def test_a_reset_beyond_the_allowance_ends_the_run(firmware, cli):
    elf = resets(firmware, "software", BOOTS=4)
    res = cli("run", elf, "--allow-resets", "2")
    assert res.returncode == 1
    report = res.report
    assert report["status"] == "reset" and report["stdout"] == "boot 1\nboot 2\nboot 3\n"
    assert "(the run allowed 2 resets: this was one more)" in report["fault"]["message"]
    assert len(report["resets"]) == 2
    # without the option the first reset ends the run, as before
    res = cli("run", elf)
    assert res.returncode == 1 and res.report["stdout"] == "boot 1\n"
    assert res.report["resets"] == [] and "allowed" not in res.report["fault"]["message"]


def test_a_reset_from_a_handler_starts_in_thread_mode(firmware, cli):
    """HardFault's handler asks for the reset: the next boot runs in thread mode on the main
    stack with no exception active (its exit status checks IPSR, CONTROL, MSP, ICSR)."""
    res = cli("run", resets(firmware, "handler"), "--allow-resets", "1", "--vector-faults")
    assert res.returncode == 0, (res.stderr, res.report["fault"])
    assert res.report["stdout"] == "boot 1\nboot 2\n"
    assert res.report["exceptions"]["taken"] == {"HardFault": 1}
    assert len(res.report["vectored_faults"]) == 1


def test_a_watchdog_reset_sets_its_flag_and_the_firmware_recovers(firmware, cli):
    res = cli("run", resets(firmware, "watchdog"), "--allow-resets", "1")
    assert res.returncode == 0, (res.stderr, res.report["fault"])
    report = res.report
    assert report["stdout"] == "power-on, PORRSTF 1\nwatchdog reset, PINRSTF 1\n"
    (reset,) = report["resets"]
    assert reset["cause"] == "watchdog" and "IWDG" in reset["message"]
    assert TIMEOUT_MS < reset["time_ms"] < TIMEOUT_MS + 0.5


def test_standby_wakes_on_the_rtc_as_a_reset_with_its_sram_lost(firmware, cli):
    """The RTC's wake-up timer (1 s) wakes the part from Stand-by three times: each boot sees
    SBF and WUF, its .noinit word 0 (the SRAM was off), its count in the RTC's backup
    register; the time asleep is the RTC's."""
    res = cli("run", resets(firmware, "standby"), "--max-instructions", "10000000")
    assert res.returncode == 0, (res.stderr, res.report["fault"])
    report = res.report
    assert report["stdout"] == ("power-on\n" + "".join(
        f"woke {n}: SBF 1 WUF 1 noinit 0\n" for n in (1, 2, 3)))
    assert report["reset_counts"] == {"standby": 3}
    times = [r["time_ms"] for r in report["resets"]]
    assert all(r["sram_lost"] and "wake-up timer (WUTF)" in r["message"]
               for r in report["resets"])
    for n, t in enumerate(times, 1):  # a second each, after the first set-up
        assert 1000 * n < t < 1000 * n + 5, times
    assert device_ms(report) > 3000 and report["time_ms"] < 10
    assert report["deep_sleeps"] == 0  # (Stop mode's count)


def test_the_pins_float_in_standby(firmware, cli):
    """An LED lit as the part goes into Stand-by goes dark there (the I/Os high-impedance),
    and stays so after the wake-up's reset (the port at its reset state)."""
    res = cli("run", resets(firmware, "standby", WAKEUPS=1, LED=None))
    assert res.returncode == 0, res.report["fault"]
    led = res.report["pins"]["PB3"]
    assert led["rising"] == 1 and led["level"] is None
    assert led["high_ms"] < 0.1 < 1000 < device_ms(res.report)


def test_standby_needs_no_reset_allowance(firmware, cli):
    """Stand-by wake-ups are the part's own way of waking: --allow-resets 0 does not stop
    them."""
    res = cli("run", resets(firmware, "standby", WAKEUPS=1), "--allow-resets", "0")
    assert res.returncode == 0, res.report["fault"]


@pytest.mark.parametrize("pin, name, defines", [
    ("PA0", "WKUP1 (PA0)", {}), ("PC13", "WKUP2 (PC13)", {"WKUP2": None})])
def test_a_wakeup_pin_wakes_the_part_from_standby(firmware, cli, tmp_path, pin, name, defines):
    rows = tmp_path / "wkup.csv"
    rows.write_text("seconds,level\n0,0\n0.25,1\n")
    res = cli("run", resets(firmware, "pin", **defines), "--pin", f"{pin}={rows}")
    assert res.returncode == 0, (res.stderr, res.report["fault"])
    assert res.report["stdout"] == "power-on\nwoke 1: SBF 1 WUF 1 noinit 0\n"
    (reset,) = res.report["resets"]
    assert f"a rising edge of {name}" in reset["message"]
    assert 250 <= reset["time_ms"] < 250.1


def test_the_other_wakeup_pin_does_not_wake_the_part(firmware, cli, tmp_path):
    rows = tmp_path / "wkup.csv"
    rows.write_text("seconds,level\n0,0\n0.25,1\n")
    res = cli("run", resets(firmware, "pin"), "--pin", f"PC13={rows}")  # EWUP1 only
    assert res.returncode == 5 and res.report["status"] == "deadlock"


@pytest.mark.parametrize("sleep, lost", [(0, False), (1, False), (2, False), (3, False),
                                         (4, True)])
def test_a_watchdog_reset_ends_every_kind_of_sleep(firmware, cli, sleep, lost):
    """WFI, WFE, Stop mode, sleep-on-exit, Stand-by: the watchdog's reset wakes the part from
    each (only Stand-by loses the SRAM, and leaves SBF set), and the firmware starts again."""
    res = cli("run", resets(firmware, "sleeps", SLEEP=sleep), "--allow-resets", "1",
              "--max-instructions", "1000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == f"watchdog reset, SBF {int(lost)}\n"
    (reset,) = res.report["resets"]
    assert reset["cause"] == "watchdog" and reset["sram_lost"] is lost
    assert TIMEOUT_MS < reset["time_ms"] < TIMEOUT_MS + 0.2


def test_a_reset_at_the_run_for_end_does_not_fail_the_run(firmware, cli):
    """The watchdog's reset and --run-for's end at the same block boundary: the run ends as
    --run-for says (ok), not as a reset the allowance refused."""
    elf = resets(firmware, "watchdog")
    first = cli("run", elf, "--allow-resets", "1").report
    at = first["resets"][0]["cycle"] / 32e6
    res = cli("run", elf, "--allow-resets", "1", "--run-for", repr(at))
    assert res.returncode == 0 and res.report["status"] == "ok", res.report["fault"]
    res = cli("run", elf, "--run-for", repr(at))  # none allowed: the same
    assert res.returncode == 0 and res.report["status"] == "ok", res.report["fault"]


def test_a_threads_stack_peak_lives_through_a_reset(firmware, cli):
    """Thread mode on a stack of its own (PSP), then NVIC_SystemReset before any exception
    switched it out: its peak is in the report all the same."""
    elf = resets(firmware, "thread")
    refused = cli("run", elf).report
    allowed = cli("run", elf, "--allow-resets", "1").report
    assert allowed["status"] == "ok", allowed["fault"]
    assert refused["sram"]["thread_stacks"] == allowed["sram"]["thread_stacks"]
    assert allowed["sram"]["thread_stacks"]["thread_stack"] > 64


@pytest.mark.parametrize("level", ["0", "1"])
def test_enabling_a_wakeup_pin_while_it_is_high_is_an_event(firmware, cli, level):
    res = cli("run", resets(firmware, "pinhigh"), "--pin", f"PA0={level}")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == f"power-on\nWUF {level}\n"


def test_standby_with_nothing_to_wake_it_is_a_deadlock(firmware, cli):
    res = cli("run", resets(firmware, "forever"), "--max-instructions", "1000000")
    assert res.returncode == 5 and res.report["status"] == "deadlock"
    message = res.report["fault"]["message"]
    assert "in Stand-by mode" in message and "nothing that can ever wake the part" in message


def test_standby_whose_events_never_wake_it(firmware, cli, tmp_path):
    """The RTC's wake-up timer counting without its interrupt wakes nothing: a deadlock. Pin
    changes that are no wake-up pin's come and go with no instruction running between them:
    the wall-clock timeout still ends the run, --run-for at its time."""
    elf = resets(firmware, "noie")
    res = cli("run", elf)
    assert res.returncode == 5 and res.report["status"] == "deadlock"
    rows = tmp_path / "pb5.npy"
    times = np.arange(300_000) * 1e-3
    np.save(rows, np.stack([times, np.arange(300_000) % 2], axis=1))
    res = cli("run", elf, "--timeout", "0.1", "--pin", f"PB5={rows}")  # (~3 s of changes)
    assert res.returncode == 5 and res.report["status"] == "timeout", res.report["fault"]
    assert res.report["stdout"] == "power-on\n" and res.report["resets"] == []
    assert res.report["sleep_ms"] < 300_000
    res = cli("run", elf, "--run-for", "5s", "--pin", f"PB5={rows}")
    assert res.returncode == 0 and res.report["status"] == "ok"
    assert "(asleep)" in res.report["stopped_at"]
    assert 5000 - 0.01 < device_ms(res.report) <= 5000 + 0.01


def test_standby_with_nothing_to_wake_it_is_a_deadlock_even_with_run_for(firmware, cli):
    res = cli("run", resets(firmware, "forever"), "--run-for", "2s")
    assert res.returncode == 5 and res.report["status"] == "deadlock"  # as a WFI's


def test_standby_entered_with_wuf_set_wakes_at_once(firmware, cli):
    """The second boot leaves WUF set: the part wakes as it enters Stand-by (a warning says
    why), and the third boot comes at once, not a second later."""
    res = cli("run", resets(firmware, "wuf"), "--max-instructions", "10000000")
    assert res.returncode == 0, (res.stderr, res.report["fault"])
    t1, t2, t3 = (r["time_ms"] for r in res.report["resets"])
    assert 1000 < t1 < t2 < t1 + 1 and 2000 < t3 < 2005
    assert any("Stand-by mode entered with PWR_CSR.WUF set" in w
               for w in res.report["warnings"])
    assert "at once: PWR_CSR.WUF was set" in res.report["resets"][1]["message"]


def test_check_and_the_fixture_take_allow_resets(firmware, cli, tmp_path, ebnn_sim):
    elf = resets(firmware, "software")
    config = tmp_path / "budgets.toml"
    config.write_text(f"[[budget]]\nelf = {json.dumps(str(elf))}\nallow_resets = 2\n"
                      "stack = 512\n")
    res = cli("check", "--config", config, json=False)
    assert res.returncode == 0, res.stdout + res.stderr
    config.write_text(f"[[budget]]\nelf = {json.dumps(str(elf))}\nallow_resets = -1\nstack = 512\n")
    res = cli("check", "--config", config, json=False)
    assert res.returncode == 2 and "allow_resets = -1" in res.stderr
    report = ebnn_sim(elf, allow_resets=2)
    assert report.stdout == "boot 1\nboot 2\nboot 3\n" and len(report.resets) == 2


def test_allow_resets_is_refused_out_of_range(firmware, cli):
    res = cli("run", resets(firmware, "software"), "--allow-resets", "-1", json=False)
    assert res.returncode == 2 and "--allow-resets" in res.stderr


def test_profile_follows_the_boots(firmware, cli, tmp_path):
    """A profile of a run with resets: every frame ends at a reset, the reset handler is
    called once a boot, and the totals are the run's."""
    elf = resets(firmware, "software")
    out = tmp_path / "profile.json"
    res = cli("profile", elf, "--allow-resets", "2", "--json", out, json=False)
    assert res.returncode == 0, res.stderr
    prof = json.loads(out.read_text())
    calls = {f["name"]: f["calls"] for f in prof["functions"]}
    assert calls["Reset_Handler"] == 3 and calls["main"] == 3
    run = cli("run", elf, "--allow-resets", "2").report
    assert prof["total"]["instructions"] == run["instructions"]
    assert prof["total"]["cycles"] == run["cycles"]


def test_the_low_power_example_in_standby(cli, tmp_path):
    """examples/lowpower/sensor_node.c built for Stand-by (docs/ci.md): a boot a second, each
    woken by the RTC, its lines as the other builds print them; the numbers docs/ci.md shows."""
    elf = build_example(cli, tmp_path, "lowpower/sensor_node.c", "STANDBY_MODE")
    res = cli("run", elf, "--run-for", "10s", "--reset-clock")
    assert res.returncode == 0, res.stderr
    report = res.report
    assert report["stdout"].splitlines() == ["sensor node up"] + [
        f"12:00:0{s} vdda 3000 mV temp 30 C" for s in range(1, 10)]
    assert report["reset_counts"] == {"standby": 9}
    assert report["cycles"] == 882_871 and round(report["time_ms"], 3) == 28.120
    assert report["sram"]["stack_peak"] == 64


@pytest.mark.parametrize("target, case, options, faulted", [
    ("stm32l031", "software", {"allow_resets": 2}, 0),
    ("curie", "software", {"allow_resets": 2}, 0),
    ("stm32l031", "handler", {"allow_resets": 1, "vector_faults": True}, 1),
    ("stm32l031", "twice", {"allow_resets": 1}, 0), ("curie", "twice", {"allow_resets": 1}, 0),
    ("stm32l031", "shared", {"allow_resets": 1}, 0), ("curie", "shared", {"allow_resets": 1}, 0)])
def test_the_instructions_counted_through_a_reset_are_those_that_ran(firmware, target, case,
                                                                     options, faulted):
    """The AIRCR store that asks for the reset is the last instruction before it: the rest of
    its block, counted when the block began, is taken back, after a print (a PC written in a
    hook) or in HardFault's handler, the store found by the value it writes where an earlier
    store in the block writes AIRCR too (twice) or seems to (shared: one base register moved
    on). A code hook on every instruction Unicorn began agrees with the report, but for the
    UDF that faulted (begun, not retired). (The M0+ for the handler: a condition-failed
    instruction in an IT block retires without Unicorn's code hook.)"""
    from tests.test_stm32l0_flash_program import executed

    report, began = executed(sim.load_elf(resets(firmware, case, target)), **options)
    assert report.status == "ok", report.problem
    assert len(report.resets) == options["allow_resets"]
    assert report.instructions == began - faulted


def test_the_timeout_holds_through_a_reset_storm(firmware, cli):
    """Firmware resetting as soon as it boots, a million resets allowed: after each reset the
    loop ran on without looking at the wall clock (--timeout 1 took 53 s: s53 hardening
    review M1). The timeout ends the run long before the allowance."""
    elf = resets(firmware, "software", BOOTS=2_000_000_000)
    res = cli("run", elf, "--allow-resets", "1000000", "--timeout", "0.5", "-q")
    assert res.returncode == 5, res.stderr
    report = res.report
    assert report["status"] == "timeout"
    assert 0 < report["reset_counts"]["software"] < 1_000_000

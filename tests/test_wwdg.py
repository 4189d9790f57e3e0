"""The STM32L0's window watchdog (sim/devices/stm32l0_wwdg.py): refreshed too late or too early
it resets the part, at the time the chip's would; its early wake-up interrupt; the counter
free-running before it is started."""

from tests.test_exceptions import irq_program

COUNT_MS = 4096 * 8 / 32_000_000 * 1e3  # a count at WDGTB 3, PCLK1 32 MHz: 1.024 ms


def wwdg(firmware, case: str):
    return irq_program(firmware, "wwdg.c", "stm32l031", **{f"CASE_{case}": None})


def device_ms(report) -> float:
    return report["time_ms"] + report["sleep_ms"]


def test_a_watchdog_not_refreshed_resets_the_part_as_its_counter_passes_0x40(firmware, cli):
    res = cli("run", wwdg(firmware, "starve"), "--max-instructions", "10000000")
    assert res.returncode == 1 and res.report["status"] == "reset"
    message = res.report["fault"]["message"]
    assert "window watchdog (WWDG) reset the part: its counter passed 0x40" in message
    assert 64 * COUNT_MS <= device_ms(res.report) < 64 * COUNT_MS + 0.1  # 0x7F - 0x3F counts


def test_refreshes_in_the_window_keep_it_quiet(firmware, cli):
    res = cli("run", wwdg(firmware, "fed"), "--max-instructions", "10000000")
    assert res.returncode == 0 and res.report["status"] == "ok", res.report["fault"]


def test_a_refresh_before_the_window_opens_resets_at_once(firmware, cli):
    res = cli("run", wwdg(firmware, "early"), "--max-instructions", "10000000")
    assert res.report["status"] == "reset" and res.report["stdout"] == ""
    assert "refreshed with its counter at 0x76, above the window (W 0x50)" in (
        res.report["fault"]["message"])
    assert 10 <= device_ms(res.report) < 10.1


def test_the_early_wakeup_interrupt_comes_at_0x40(firmware, cli):
    """EWI: IRQ 0 as the counter reaches 0x40 (63 counts), its handler refreshing it: three
    of them, no reset."""
    res = cli("run", wwdg(firmware, "ewi"), "--max-instructions", "10000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["exceptions"]["taken"]["IRQ0"] == 3
    assert 3 * 63 * COUNT_MS < device_ms(res.report) < 3 * 63 * COUNT_MS + 2


def test_firmware_that_recovers_from_its_reset_sees_wwdgrstf(firmware, cli):
    res = cli("run", wwdg(firmware, "recover"), "--allow-resets", "1",
              "--max-instructions", "10000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "started\nwindow watchdog reset\n"
    assert res.report["reset_counts"] == {"window_watchdog": 1}
    assert "1 by the window watchdog" in res.stderr


def test_the_counter_runs_before_it_is_started(firmware, cli):
    res = cli("run", wwdg(firmware, "free"), "--max-instructions", "10000000")
    assert res.returncode == 0, res.report["fault"]


def test_it_stops_in_stop_mode(firmware, cli):
    """PCLK1 stops in Stop mode, and the window watchdog with it (the independent one goes
    on): nothing wakes the core."""
    res = cli("run", wwdg(firmware, "stop"), "--max-instructions", "10000000")
    assert res.returncode == 5 and res.report["status"] == "deadlock"
    assert res.report["resets"] == [] and res.report["deep_sleeps"] == 1


def test_cfr_written_again_does_not_hold_the_counter(firmware, cli):
    """CFR rewritten with the same values every millisecond: the count goes on, the reset at
    65.5 ms as without."""
    res = cli("run", wwdg(firmware, "cfr"), "--max-instructions", "10000000")
    assert res.report["status"] == "reset", res.report["fault"]
    assert 64 * COUNT_MS <= device_ms(res.report) < 64 * COUNT_MS + 1.1


def test_ewif_each_time_the_free_running_counter_reaches_0x40(firmware, cli):
    res = cli("run", wwdg(firmware, "wrap"), "--max-instructions", "10000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["stdout"] == "first 1 again 1\n"


def test_a_reset_by_the_rcc_drops_its_interrupt_line(firmware, cli):
    res = cli("run", wwdg(firmware, "rst"), "--max-instructions", "10000000")
    assert res.returncode == 0, res.report["fault"]
    assert res.report["exceptions"]["taken"].get("IRQ0", 0) <= 1

"""The STM32L0's independent watchdog (sim/devices/stm32l0_iwdg.py): a firmware that stops
refreshing it is reset, the run ending with status "reset" at the time the chip's would."""

import pytest

from tests.test_exceptions import irq_program

TIMEOUT_MS = 370 / 9_250 * 1e3  # RLR 369, LSI 37 kHz / 4: 40 ms


def iwdg(firmware, case: str, **defines):
    return irq_program(firmware, "iwdg.c", "stm32l031", **{f"CASE_{case}": None, **defines})


def device_ms(report) -> float:
    return report["time_ms"] + report["sleep_ms"]


def test_a_watchdog_not_refreshed_resets_the_part_at_its_timeout(firmware, cli):
    """Refreshed at 10, 20, ..., 50 ms, then no more: the reset comes 40 ms after the last
    refresh (its fault says so), the run's status `reset`, exit 1."""
    res = cli("run", iwdg(firmware, "starve"), "--max-instructions", "10000000")
    assert res.returncode == 1, res.stderr
    report = res.report
    assert report["status"] == "reset" and report["stdout"] == "starving\n"
    message = report["fault"]["message"]
    assert "independent watchdog (IWDG) reset the part: its counter reached 0" in message
    assert "a timeout of 40.0 ms" in message
    # RLR + 1 counts (RM0377's timeout), not RLR (39.892 ms): in LSI time, exactly
    assert "its counter reached 0, 40.000 ms after its last refresh" in message
    # (SysTick started after HAL_IWDG_Init's wait for SR: its ticks ~0.14 ms late)
    assert 50 + TIMEOUT_MS < device_ms(report) < 50 + TIMEOUT_MS + 0.2


def test_a_watchdog_refreshed_in_time_never_fires(firmware, cli):
    res = cli("run", iwdg(firmware, "fed"), "--run-for", "300ms")
    assert res.returncode == 0, res.stderr
    assert res.report["status"] == "ok"


def test_the_watchdog_runs_in_stop_mode(firmware, cli):
    """Stop mode stops the core's clock, not the LSI: the watchdog resets the sleeping part
    (without it the run would be a deadlock)."""
    res = cli("run", iwdg(firmware, "stop"), "--max-instructions", "10000000")
    assert res.report["status"] == "reset", res.report["fault"]
    assert res.report["deep_sleeps"] == 1
    assert 10 + TIMEOUT_MS < device_ms(res.report) < 10 + TIMEOUT_MS + 0.2


@pytest.mark.parametrize("run_for", [(), ("--run-for", "100ms")])
def test_a_reset_in_a_sleep_ends_the_run_there(firmware, cli, run_for):
    """The watchdog fires during a WFI with nothing else to wake the core: the run ends at the
    reset (40 ms after the refresh at 10 ms), the code after the WFI never runs; a --run-for
    longer than that does not move the end."""
    res = cli("run", iwdg(firmware, "after"), "--max-instructions", "10000000", *run_for)
    assert res.report["status"] == "reset" and res.returncode == 1, res.report["fault"]
    assert res.report["stdout"] == ""
    assert "40.000 ms after its last refresh" in res.report["fault"]["message"]
    assert 10 + TIMEOUT_MS < device_ms(res.report) < 10 + TIMEOUT_MS + 0.2


def test_a_window_kept_by_timely_refreshes_never_fires(firmware, cli):
    """HAL_IWDG_Init with a window (WINR written last: a reload, not a refresh) and a refresh
    every 10 ms, below the window each time: no reset."""
    res = cli("run", iwdg(firmware, "winfed"), "--run-for", "200ms")
    assert res.returncode == 0 and res.report["status"] == "ok", res.report["fault"]


def test_a_refresh_above_the_window_resets(firmware, cli):
    res = cli("run", iwdg(firmware, "window"), "--max-instructions", "10000000")
    assert res.report["status"] == "reset"
    assert "above the window (WINR 100)" in res.report["fault"]["message"]


def test_a_locked_register_ignores_writes(firmware, cli):
    res = cli("run", iwdg(firmware, "locked"), "--max-instructions", "100000")
    assert res.returncode == 0, res.stderr
    assert any("stm32l0_iwdg+0x004" in u and "locked" in u
               for u in res.report["unmodelled_registers"])


def test_check_fails_a_firmware_its_watchdog_resets(firmware, cli, tmp_path):
    """A duty-cycle check (run_for) of a firmware that stops refreshing its watchdog fails
    (exit 4), its line naming the watchdog (docs/ci.md)."""
    config = tmp_path / "budgets.toml"
    config.write_text(f'[[budget]]\nelf = "{iwdg(firmware, "starve")}"\nstack = "1k"\n'
                      'run_for = "1s"\n')
    res = cli("check", "--config", config, json=False)
    assert res.returncode == 4
    assert ("reset: the independent watchdog (IWDG) reset the part: its counter reached 0, "
            "40.000 ms after its last refresh") in res.stdout

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
    assert device_ms(report) == pytest.approx(50 + TIMEOUT_MS, abs=0.2)


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
    assert device_ms(res.report) == pytest.approx(10 + TIMEOUT_MS, abs=0.2)


def test_a_refresh_above_the_window_resets(firmware, cli):
    res = cli("run", iwdg(firmware, "window"), "--max-instructions", "10000000")
    assert res.report["status"] == "reset"
    assert "above the window (WINR 100)" in res.report["fault"]["message"]


def test_a_locked_register_ignores_writes(firmware, cli):
    res = cli("run", iwdg(firmware, "locked"), "--max-instructions", "100000")
    assert res.returncode == 0, res.stderr
    assert any("stm32l0_iwdg+0x004" in u and "locked" in u
               for u in res.report["unmodelled_registers"])

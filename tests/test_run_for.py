"""--run-for: firmware that never exits (a vendor main loop, an RTOS) runs for a length of
device time and the run ends "ok" with the firmware still running, its report complete; from
tests/programs/irq/forever.c (a busy loop, and a 1 ms SysTick with the core asleep in WFI or
WFE between ticks), the FreeRTOS demo, an STM32L0 timer and ``check``'s budget tables."""

import json
import sys
from pathlib import Path

import pytest
from helpers import assert_single_error_line

import sim
from sim.durations import format_duration, parse_duration
from sim.runner import ImageError
from tests.test_exceptions import irq_program
from tests.test_stm32l0_tim import tim

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a folder of the checkout, not an installed package
    sys.path.insert(0, str(REPO))

from bench import freertos  # noqa: E402

CLOCK = 32_000_000  # curie and stm32l031
LIMIT = ("--max-instructions", "50000000")  # a regression fails, not hangs


def forever(firmware, case: str):
    return irq_program(firmware, "forever.c", **{f"CASE_{case}": None})


def test_a_busy_loop_runs_for_the_time_and_ends_ok(firmware, cli):
    result = cli("run", forever(firmware, "busy"), "--run-for", "1ms", *LIMIT)
    assert result.returncode == 0, result
    report = result.report
    assert (report["status"], report["exit_code"], report["fault"]) == ("ok", None, None)
    assert report["run_for"] == 0.001
    assert report["stopped_at"].split(" in ")[1].startswith("main+")
    # stopped at the first block boundary at or past 32,000 cycles: a block of the loop later
    assert 32_000 <= report["cycles"] < 32_000 + 16 and report["sleep_cycles"] == 0
    # the same instructions under --max-instructions: the same cycles, to the cycle (the
    # block in which the time ran out is counted as the other limit counts it)
    same = cli("run", forever(firmware, "busy"), "--max-instructions",
               str(report["instructions"]))
    assert same.returncode == 5
    assert (same.report["instructions"], same.report["cycles"]) == (
        report["instructions"], report["cycles"])


@pytest.mark.parametrize("case", ["wfi", "wfe", "sleeponexit"])
def test_asleep_at_the_end_the_run_ends_at_the_cycle(firmware, cli, case):
    """The end falls while the core sleeps: the sleep is fast-forwarded up to it, no further."""
    for run_for, ticks in (("10ms", 9), ("10.5ms", 10), ("250us", 0)):
        result = cli("run", forever(firmware, case), "--run-for", run_for, *LIMIT)
        assert result.returncode == 0, result
        report = result.report
        assert report["stdout"] == "started\n"
        assert report["cycles"] + report["sleep_cycles"] == round(
            parse_duration(run_for) * CLOCK)
        # SysTick's first wrap is 32,000 cycles after its enable, a few hundred in
        assert report["exceptions"]["taken"] == ({"SysTick": ticks} if ticks else {})
        assert f"still running after {format_duration(parse_duration(run_for))}" in (
            result.stderr)
        # where it sleeps: the WFI or WFE (or, asleep on exit, where main would resume)
        where = report["stopped_at"]
        assert f"stopped at pc {where}" in result.stderr
        if case == "sleeponexit" and ticks:  # back to sleep as the first tick's handler ended
            assert where.endswith(" (asleep: SCR.SLEEPONEXIT)") and " in main+" in where
        elif case == "sleeponexit":  # still in main's first WFI
            assert where.endswith(": wfi (asleep)")
        else:
            assert " in main+0x" in where and where.endswith(f": {case} (asleep)")


def test_profile_runs_for_the_same_time(firmware, cli, tmp_path):
    elf = forever(firmware, "wfi")
    ran = cli("run", elf, "--run-for", "3ms")
    out, page = tmp_path / "p.json", tmp_path / "p.html"
    prof = cli("profile", elf, "--run-for", "3ms", "--json", out, "--html", page)
    assert prof.returncode == 0, prof
    got = json.loads(out.read_text())
    assert got["status"] == "ok" and got["run"]["run_for"] == 0.003
    assert (got["total"]["instructions"], got["total"]["cycles"]) == (
        ran.report["instructions"], ran.report["cycles"])
    assert "ok  still running after 3 ms" in prof.stdout
    assert "still running after 3 ms" in page.read_text()


def test_no_exception_is_taken_after_the_end(firmware):
    """A busy core whose SysTick falls due at the block boundary where the end fires: the end
    wins, the run stops there, the handler not entered (an entry that began before the end
    may finish: the run then stops at the handler's first instruction)."""
    image = sim.load_elf(forever(firmware, "busytick"))
    entered_after_end = []
    for end in range(3_000, 3_700):
        report = sim.Simulator(image, sim.RunOptions(run_for=end / CLOCK)).run()
        total = report.cycles + report.sleep_cycles
        assert end <= total < end + 40, (end, total)
        if "_Handler+0x0:" in (report.stopped_at or "") and total - 12 >= end:
            entered_after_end.append(end)  # 12: the Cortex-M3's entry
    assert entered_after_end == []


def test_diff_says_what_a_run_for_report_covers(firmware, cli, tmp_path):
    elf = forever(firmware, "wfi")
    paths = []
    for n, run_for in enumerate(("10ms", "20ms", "10ms")):
        paths.append(tmp_path / f"r{n}.json")
        cli("run", elf, "--run-for", run_for, "--json", paths[-1], json=False)
    differ = cli("diff", paths[0], paths[1], json=False)
    assert differ.returncode == 0, differ.stderr
    out = " ".join((differ.stdout + differ.stderr).split())  # as wrapped to the terminal
    assert ("base: ran for 10 ms of device time with the firmware still running (--run-for): "
            "its counts stop there") in out
    assert "head: ran for 20 ms of device time" in out
    same = cli("diff", paths[0], paths[2], json=False)
    assert ("both ran for 10 ms of device time with the firmware still running (--run-for)"
            in " ".join((same.stdout + same.stderr).split()))


def test_a_cycles_budget_over_a_run_for_is_the_work_done_in_that_time(firmware, cli):
    """Active cycles over a length of device time: how busy the core is, a duty-cycle budget."""
    elf = forever(firmware, "wfi")
    active = cli("run", elf, "--run-for", "20ms").report["cycles"]
    assert active < 2_000  # 19 tick handlers and the start-up, asleep otherwise
    within = cli("run", elf, "--run-for", "20ms", "--max-cycles", str(active))
    assert within.returncode == 0
    over = cli("run", elf, "--run-for", "20ms", "--max-cycles", str(active - 1))
    assert over.returncode == 3 and over.report["status"] == "over_budget"


def test_a_deadlock_is_still_a_deadlock(firmware, cli):
    """The end of the run is no event that wakes the core: WFI with interrupts off and nothing
    pending stops the run there, as without --run-for."""
    result = cli("run", irq_program(firmware, "wfi.c"), "--run-for", "1s")
    assert result.returncode == 5
    assert result.report["status"] == "deadlock" and result.report["run_for"] is None


def test_firmware_that_exits_first_exits(firmware, cli):
    result = cli("run", firmware("hello.c"), "--run-for", "1s")
    assert result.returncode == 0
    report = result.report
    assert (report["status"], report["exit_code"]) == ("ok", 0)
    assert report["run_for"] is None and report["stopped_at"] is None
    assert "firmware exit code 0" in result.stderr


def test_the_other_limits_still_stop_it(firmware, cli):
    result = cli("run", forever(firmware, "busy"), "--run-for", "10s",
                 "--max-instructions", "10000")
    assert result.returncode == 5 and result.report["status"] == "timeout"


def test_a_device_timer_and_the_end(firmware, cli):
    """An STM32L0 TIM21 tick (a device event) and the end of the run, both timers: the run ends
    asleep at 3.5 ms, after three of the five ticks the firmware waits for."""
    result = cli("run", tim(firmware, "tick", TICKS=5), "--run-for", "3.5ms", *LIMIT)
    assert result.returncode == 0, result
    report = result.report
    assert report["stdout"] == "" and report["exit_code"] is None
    assert report["exceptions"]["taken"] == {"IRQ20": 3}
    assert report["cycles"] + report["sleep_cycles"] == 112_000


def test_an_rtos_runs_for_35_ticks(tmp_path):
    """The FreeRTOS demo (1 kHz tick) for 35 ms: its tasks' output up to tick 30, then the run
    ends with the scheduler running."""
    elf = freertos.build_demo("curie", tmp_path)
    report = sim.run(sim.load_elf(elf), run_for=0.035, max_instructions=10**8)
    assert (report.status, report.exit_code, report.problem) == ("ok", None, None)
    assert report.stdout.endswith("consumer: got 3 at tick 30\n")
    assert "tick 40" not in report.stdout
    # the spinner tasks keep the core awake: the run ends a block past 35 ms, 34 ticks in
    # (the scheduler starts SysTick a little after reset)
    assert report.sleep_cycles == 0 and 35 * 32_000 <= report.cycles < 35 * 32_000 + 16
    assert report.exceptions["SysTick"] == 34
    assert report.stopped_at is not None and " in spinner+" in report.stopped_at


@pytest.mark.parametrize("value, message", [
    ("0", "not a duration: '0': give a finite time of more than 0 s"),
    ("3m", "not a duration: '3m' (examples: 500ms, 2s, 250us, 0.5)"),
    ("-1ms", "not a duration: '-1ms'"),
    ("2e6", "'2e6' is out of range: 1 µs to 1000000 s of device time"),
])
def test_bad_durations_are_usage_errors(firmware, cli, value, message):
    for command in ("run", "profile"):
        result = cli(command, firmware("hello.c"), "--run-for", value, json=False)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"Error: Invalid value for '--run-for': {message}" in result.stderr


def test_a_library_caller_out_of_range_is_refused(firmware):
    image = firmware.image("hello.c")
    with pytest.raises(ImageError, match=r"run_for 2000000\.0 is out of range: 1 µs to 1000000 s"):
        sim.run(image, run_for=2e6)
    for wrong in ("500ms", True):  # seconds, a number: the command line's forms are its own
        with pytest.raises(ImageError, match="give seconds of device time as a number"):
            sim.run(image, run_for=wrong)


def test_durations_parse_and_print():
    assert [parse_duration(t) for t in ("500ms", "2s", "250us", "250 µs", "0.5", ".5s")] == [
        0.5, 2.0, 0.00025, 0.00025, 0.5, 0.5]
    assert parse_duration(0.25) == 0.25
    assert [format_duration(s) for s in (0.5, 2.0, 0.00025, 0.0105, 1e6, 0.0009999999999)] == [
        "500 ms", "2 s", "250 µs", "10.5 ms", "1000000 s", "1 ms"]
    # exact: the double nearest each (9 ms is not 9 * 1e-3)
    for n in range(1, 1000):
        assert (parse_duration(f"{n}ms"), parse_duration(f"{n}us")) == (n / 1000, n / 1e6)
    for bad in ("", "1h", "nan", "inf", "1e400", "ms", True):
        with pytest.raises(ValueError):
            parse_duration(bad)  # type: ignore[arg-type]


CONFIG = """
[[budget]]
elf = "fw.elf"
cycles = {cycles}
run_for = {run_for}
"""


def test_check_runs_firmware_for_a_time(firmware, cli, tmp_path):
    (tmp_path / "fw.elf").write_bytes(forever(firmware, "wfi").read_bytes())
    config = tmp_path / "budgets.toml"
    config.write_text(CONFIG.format(cycles=2_000, run_for='"20ms"'))
    result = cli("check", "--config", config, "--json", tmp_path / "c.json")
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads((tmp_path / "c.json").read_text())["elfs"][0]["report"]
    assert run["run_for"] == 0.02 and run["cycles"] + run["sleep_cycles"] == 640_000
    config.write_text(CONFIG.format(cycles=100, run_for=0.02))  # a number: seconds
    over = cli("check", "--config", config, "--json", tmp_path / "c2.json")
    assert over.returncode == 3
    run = json.loads((tmp_path / "c2.json").read_text())["elfs"][0]["report"]
    assert run["run_for"] == 0.02 and run["cycles"] + run["sleep_cycles"] == 640_000
    for bad, said in (('"20 minutes"', "not a duration: '20 minutes'"),
                      ("true", "not a duration: True"),
                      ("1e7", "run_for = 10000000.0 is out of range: 1 µs to 1000000 s")):
        config.write_text(CONFIG.format(cycles=100, run_for=bad))
        result = cli("check", "--config", config)
        assert result.returncode == 2
        assert said in assert_single_error_line(result)
    # without run_for the firmware runs until a limit (here its instruction limit): exit 4
    config.write_text('[[budget]]\nelf = "fw.elf"\ncycles = 100\nmax_instructions = 100000\n')
    assert cli("check", "--config", config).returncode == 4


def test_the_summary_gives_the_duty_cycle(firmware, cli):
    """A core asleep but for its ticks: the share of the time it was awake, the number a
    low-power design is held to."""
    result = cli("run", forever(firmware, "wfi"), "--run-for", "10ms")
    report = result.report
    share = 100 * report["cycles"] / (report["cycles"] + report["sleep_cycles"])
    assert f"duty cycle {share:.2g}% of the time awake" in " ".join(result.stderr.split())
    assert 0.1 < share < 1

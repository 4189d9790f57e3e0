"""The pytest plugin: a user's own test file asks for the ``ebnn_sim`` fixture, runs firmware
and asserts on the report. Run through ``pytester`` in a fresh project directory, with the
plugin found through its ``pytest11`` entry point (nothing in the user's files names it)."""

import shutil
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points

import numpy  # noqa: F401  # see below
import pytest

import sim
import sim.cli  # (below)
from tests.test_exceptions import irq_program

# pytester puts sys.modules back as it found them after each test: numpy, first imported
# inside one (sim.run in a fixture), would be imported a second time by the next, which
# numpy refuses. Imported here, it is there before any test (as in the whole suite). So are
# the simulator's modules (sim.cli imports them all): one first imported inside a test would
# leave the `sim` package's attribute on the old module while the next import makes a new
# one, and a later test in this process would see two SessionError classes (the CLI's
# `except` missing the one raised).

pytest_plugins = ["pytester"]

USER_TESTS = '''
import sys

def test_fits(ebnn_sim):
    report = ebnn_sim("build/fw.elf", sram="15k", max_instructions=10**8)
    assert report.status == "ok" and report.exit_code == 0
    assert report.sram_peak <= 2048
    assert report.instructions == {instructions}
    assert report.stdout.startswith("crc ")

def test_nothing_heavy_imported(ebnn_sim):
    assert "torch" not in sys.modules

def test_over_a_users_limit(ebnn_sim):
    report = ebnn_sim("build/fw.elf")
    assert report.sram_peak <= 100

def test_fault_fails_the_test(ebnn_sim):
    ebnn_sim("build/fault.elf")

def test_fault_with_check_false(ebnn_sim):
    report = ebnn_sim("build/fault.elf", check=False)
    assert report.status == "fault" and report.fault.kind == "unmapped_read"

def test_budget_broken(ebnn_sim):
    ebnn_sim("build/fw.elf", max_stack=8)

def test_sram_budget_below_the_link(ebnn_sim):
    ebnn_sim("build/fw.elf", max_sram=64)

def test_inputs(ebnn_sim):
    report = ebnn_sim("build/read.elf", inputs=["data/data.txt"])
    assert "read: payload" in report.stdout
'''


@pytest.fixture
def user_project(pytester, firmware):
    """A user's project: ELFs under build/, a data file, and the test file above."""
    build = pytester.path / "build"
    build.mkdir()
    fw = firmware("compute.c")
    shutil.copy(fw, build / "fw.elf")
    shutil.copy(firmware("faults.c", defines={"CASE": "unmapped_read"}), build / "fault.elf")
    shutil.copy(firmware("io.c", defines={"OP": 3}), build / "read.elf")
    (pytester.path / "data").mkdir()
    (pytester.path / "data/data.txt").write_text("payload\n")
    instructions = sim.run(sim.load_elf(fw)).instructions
    pytester.makepyfile(test_firmware=USER_TESTS.format(instructions=instructions))
    return pytester


def test_entry_point_is_installed():
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("ebnn_sim") == "sim.pytest_plugin"


def test_users_tests_pass_and_fail_as_they_should(user_project):
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=j.xml")
    result.assert_outcomes(passed=4, failed=4)
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "FAILED test_firmware.py::test_over_a_users_limit - AssertionError*",
        "FAILED test_firmware.py::test_fault_fails_the_test - Failed: ebnn_sim: *",
        "FAILED test_firmware.py::test_budget_broken - Failed: ebnn_sim: *",
    ])
    # the failing assertion shows the measured value
    result.stdout.fnmatch_lines(["*AssertionError: assert * <= 100", "*where * = *.sram_peak"])
    # a fault or a broken budget fails the test with one line, not a traceback
    result.stdout.fnmatch_lines([
        "*_ test_fault_fails_the_test _*",
        "ebnn_sim: build/fault.elf: unmapped_read: read outside mapped memory: 4 bytes at "
        "0x30000000 in unmapped_read+0x* (check=False returns the report instead)",
    ])
    result.stdout.fnmatch_lines([
        "*_ test_budget_broken _*",
        "ebnn_sim: build/fw.elf: over budget: stack: * > 8 (over by *)*",
    ])
    # max_sram: a peak-SRAM budget below the 15 KiB the ELF is linked for, which sram= (a
    # mapping) cannot be: its stack would start past the SRAM
    result.stdout.fnmatch_lines([
        "*_ test_sram_budget_below_the_link _*",
        "ebnn_sim: build/fw.elf: over budget: sram: * > 64 (over by *)*",
    ])
    # a failed test carries the run's summary, as `ebnn-sim run` prints it, as a report section
    result.stdout.fnmatch_lines(["*Captured ebnn-sim call*", "build/fw.elf: ok, exit code 0 *",
                                 "ok  firmware exit code 0  (curie: *",
                                 "instructions *", "SRAM peak * B  of 15 KiB*",
                                 "firmware output:", "crc *"])
    result.stdout.fnmatch_lines(["*_ test_budget_broken _*", "*Captured ebnn-sim call*",
                                 "over budget: stack: * > 8 (over by *)"])
    assert "Traceback" not in out

    # the measurements go into the JUnit XML as properties of each test
    cases = {c.get("name"): c for c in ET.parse(user_project.path / "j.xml").iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_fits"].iter("property")}
    assert props["ebnn_sim.instructions"] == str(sim.run(sim.load_elf(
        user_project.path / "build/fw.elf")).instructions)
    assert {"ebnn_sim.cycles", "ebnn_sim.sram_peak", "ebnn_sim.stack_peak",
            "ebnn_sim.flash_used"} <= set(props)
    assert props["ebnn_sim.elf"].endswith("build/fw.elf")


def test_missing_elf_and_bad_size_fail_with_one_message(pytester):
    pytester.makepyfile(test_bad='''
def test_missing(ebnn_sim):
    ebnn_sim("build/nope.elf")

def test_bad_size(ebnn_sim, tmp_path):
    ebnn_sim("whatever.elf", sram="15q")

def test_bad_cycles(ebnn_sim, tmp_path):
    ebnn_sim("whatever.elf", max_cycles=1.5e6)

def test_bad_run_for(ebnn_sim, tmp_path):
    ebnn_sim("whatever.elf", run_for="3m")

def test_bad_count(ebnn_sim, tmp_path):
    ebnn_sim("whatever.elf", max_cycles="12q")
''')
    (pytester.path / "whatever.elf").write_bytes(b"\x7fELF")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=5)
    result.stdout.fnmatch_lines([
        "*_ test_missing _*", "ebnn_sim: build/nope.elf: no such file",
        "*_ test_bad_size _*", "ebnn_sim(sram=...): not a size: '15q' (examples: *",
        "*_ test_bad_cycles _*",
        "ebnn_sim: budget cycles must be a whole number >= 0, not 1500000.0",
        "*_ test_bad_run_for _*",
        "ebnn_sim(run_for=...): not a duration: '3m' (examples: 500ms, 2s, 250us, 0.5)",
        "*_ test_bad_count _*",
        "ebnn_sim(max_cycles=...): '12q': give a whole number, e.g. 30000 or 30k *",
    ])
    out = result.stdout.str()
    assert "Traceback" not in out and "During handling" not in out


def test_run_for_ends_firmware_that_never_exits(pytester, firmware):
    """A vendor main loop never exits: run_for= ends the run after that much device time, as a
    passing run (check=True), with the firmware still running."""
    (pytester.path / "build").mkdir()
    shutil.copy(irq_program(firmware, "forever.c", CASE_wfi=None), pytester.path / "build/fw.elf")
    pytester.makepyfile(test_loop='''
def test_main_loop(ebnn_sim):
    report = ebnn_sim("build/fw.elf", run_for="20ms", max_cycles=2000)
    assert report.status == "ok" and report.exit_code is None and report.run_for == 0.02
    assert report.cycles + report.sleep_cycles == 640_000
    assert report.exceptions == {"SysTick": 19}

def test_counts_as_check_takes_them(ebnn_sim):
    # "2k" as check and --max-cycles take it (s53 profiling review L6: refused here)
    report = ebnn_sim("build/fw.elf", run_for="20ms", max_cycles="2k",
                      max_instructions="1M")
    assert report.status == "ok"

def test_a_count_budget_broken(ebnn_sim):
    ebnn_sim("build/fw.elf", run_for="20ms", max_cycles="0.1k")

def test_without_it_a_limit_fails_the_test(ebnn_sim):
    ebnn_sim("build/fw.elf", max_instructions=10_000)
''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*_ test_a_count_budget_broken _*",
                                 "ebnn_sim: build/fw.elf: over budget: cycles: * > 100 *",
                                 "*_ test_without_it_a_limit_fails_the_test _*",
                                 "ebnn_sim: build/fw.elf: stopped by the instruction limit: *"])


def test_function_budgets_as_check_takes_them(pytester, firmware):
    """call_cycles={"work": ...}: the longest call of a function, as check's function budgets
    (the fixture had none: s53 profiling review L9); a broken one fails the test, or with
    check=False is in the report's over_budget; a name not in the ELF is told the closest."""
    (pytester.path / "build").mkdir()
    shutil.copy(firmware("calls.c"), pytester.path / "build/calls.elf")
    pytester.makepyfile(test_calls='''
def test_met(ebnn_sim):
    report = ebnn_sim("build/calls.elf", call_cycles={"work": "100k"})
    assert report.status == "ok" and report.over_budget == []

def test_broken(ebnn_sim):
    ebnn_sim("build/calls.elf", call_cycles={"work": 10})

def test_broken_unchecked(ebnn_sim):
    report = ebnn_sim("build/calls.elf", call_cycles={"work": 10}, check=False)
    assert report.status == "over_budget"
    [c] = report.over_budget
    assert (c.metric, c.limit, c.passed) == ("call_cycles", 10, False) and c.measured > 10

def test_broken_with_another_budget(ebnn_sim):
    # a run over its cycles budget still ended as it should: its calls are measured (they
    # said "not measured: the run failed")
    report = ebnn_sim("build/calls.elf", max_cycles=10, call_cycles={"work": 10}, check=False)
    assert [(c.metric, c.missing, c.measured > 10) for c in report.over_budget] == [
        ("cycles", None, True), ("call_cycles", None, True)]

def test_misspelt(ebnn_sim):
    ebnn_sim("build/calls.elf", call_cycles={"wrok": 10})

def test_not_a_count(ebnn_sim):
    ebnn_sim("build/calls.elf", call_cycles={"work": -1})
''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=3)
    result.stdout.fnmatch_lines([
        "*_ test_broken _*", "ebnn_sim: build/calls.elf: over budget: call_cycles: * > 10 *",
        "*_ test_misspelt _*", "ebnn_sim: build/calls.elf: over budget: call_cycles: wrok: no "
        "such function in the ELF (did you mean work?)*",
        "*_ test_not_a_count _*", "ebnn_sim(call_cycles=...): work: give a whole number >= 0*"])

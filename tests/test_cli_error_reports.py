"""The reports of an exit 2 that comes before a command's own code: a click usage error (a bad
option value, an unknown option, a missing ELF), an output the output guard refuses, a host out
of memory. ``check --junit/--json`` wrote nothing there (a CI job publishing the JUnit file
found none, or an earlier run's passing one), ``run --json`` and ``profile --json`` wrote
nothing on any exit 2. Now each says why, unless its own path is the problem or it would
replace a file the command reads."""

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import run_cli_in_process

import sim.budgets
import sim.cli
import sim.formats.junit
from sim.formats import OutputError

PROGRAMS = Path(__file__).parent / "programs"
STALE_JSON = '{"exit_code": 0, "elfs": [], "status": "ok"}'
STALE_XML = ('<testsuites><testsuite name="ebnn-sim budgets" tests="1">'
             '<testcase classname="old" name="sram"/></testsuite></testsuites>')


@pytest.fixture
def project(tmp_path: Path, firmware) -> Path:
    """A folder with build/hello.elf, an input in.bin and a pyproject.toml whose one budget
    (met) reads both; stale passing reports under out/."""
    (tmp_path / "build").mkdir()
    shutil.copy(firmware("hello.c"), tmp_path / "build/hello.elf")
    (tmp_path / "in.bin").write_bytes(b"\x01\x02")
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.ebnn-sim.budget]]\nelf = "build/hello.elf"\nsram = "15k"\ninput = "in.bin"\n')
    (tmp_path / "out").mkdir()
    (tmp_path / "out/j.xml").write_text(STALE_XML)
    (tmp_path / "out/k.json").write_text(STALE_JSON)
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file the check reads, to see that none was replaced."""
    return {name: (root / name).read_bytes()
            for name in ("build/hello.elf", "in.bin", "pyproject.toml")}


def click_error(stderr: str) -> str:
    """The text of click's one ``Error: ...`` line."""
    lines = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, stderr
    return lines[0][len("Error: "):]


def junit_error(path: Path) -> str:
    """The message of the one errored testcase of a check's JUnit file, which ran nothing."""
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("failures") == "0"
    assert all(c.find("system-out") is None for c in suite.findall("testcase"))
    case = next(c for c in suite.findall("testcase") if c.find("error") is not None)
    assert (case.get("classname"), case.get("name")) == ("ebnn-sim check", "configuration")
    error = case.find("error")
    assert error is not None and error.get("type") == "usage_error"
    return error.get("message") or ""


def check_json_error(path: Path) -> str:
    doc = json.loads(path.read_text())
    assert doc["exit_code"] == 2 and doc["elfs"] == []
    assert doc["summary"] == f"error: {doc['error']}"
    return doc["error"]


# --- check -------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["check", "--bogus"],                                 # an unknown option
    ["check", "--fail-on-warnings=yes"],                  # a flag given a value
    ["check", "extra"],                                   # an argument check takes none of
    ["--verbose", "check"],                               # the group's usage error
], ids=["unknown-option", "flag-value", "extra-argument", "group-option"])
def test_a_usage_error_of_check_is_in_its_junit_and_json(project, args):
    before = snapshot(project)
    result = run_cli_in_process(*args, "--junit", "out/j.xml", "--json", "out/k.json",
                                cwd=project)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = click_error(result.stderr)
    assert junit_error(project / "out/j.xml") == message
    assert check_json_error(project / "out/k.json") == message
    assert snapshot(project) == before


def test_an_option_missing_its_value_leaves_the_other_report_saying_so(project):
    result = run_cli_in_process("check", "--junit", "out/j.xml", "--json", cwd=project)
    message = click_error(result.stderr)
    assert result.returncode == 2 and message == "Option '--json' requires an argument."
    assert "warning" not in result.stderr  # (no report of its own to refuse)
    assert junit_error(project / "out/j.xml") == message
    assert (project / "out/k.json").read_text() == STALE_JSON  # (its path was not given)


def test_a_report_whose_own_path_is_the_problem_is_not_written(project):
    """--junit naming a folder (click refuses it), '-', or a file under a file (the guard
    refuses them): that report is not written, the other one says why."""
    (project / "adir").mkdir()
    for junit, printed in (("adir", "Error: Invalid value for '--junit'"),
                           ("-", "error: --junit -: give a file name"),
                           ("in.bin/j.xml", "error: cannot write in.bin/j.xml")):
        (project / "out/k.json").write_text(STALE_JSON)
        result = run_cli_in_process("check", "--junit", junit, "--json", "out/k.json",
                                    cwd=project)
        assert result.returncode == 2 and printed in result.stderr, result.stderr
        line = next(t for t in result.stderr.splitlines() if t.startswith(printed))
        assert check_json_error(project / "out/k.json") == line.split(": ", 1)[1]
    assert (project / "adir").is_dir() and not any((project / "adir").iterdir())
    assert not (project / "-").exists()


@pytest.mark.parametrize("path", ["build/hello.elf", "in.bin", "pyproject.toml"])
def test_a_usage_error_writes_no_report_over_a_file_the_check_reads(project, path):
    """The ELF and input the budgets file names are found as check would find them; the
    budgets file is read too. That report is refused with a warning, the other one written."""
    before = snapshot(project)
    result = run_cli_in_process("check", "--junit", path, "--json", "out/k.json", "--bogus",
                                cwd=project)
    assert result.returncode == 2 and snapshot(project) == before
    assert f"warning: --junit {path} would replace the input" in result.stderr
    assert check_json_error(project / "out/k.json") == "No such option '--bogus'."


def test_no_report_replaces_an_elf_a_broken_budgets_file_names(project):
    """With a budgets file that does not parse, which ELFs it names cannot be known: a
    usage error's --junit naming one replaced it with XML (s55 review LOW-4). No report is
    written over a file that begins as an ELF does."""
    (project / "pyproject.toml").write_text("[[tool.ebnn-sim.budget]\n")  # (not TOML)
    before = snapshot(project)
    result = run_cli_in_process("check", "--junit", "build/hello.elf", "--json", "out/k.json",
                                "--bogus", cwd=project)
    assert result.returncode == 2 and snapshot(project) == before
    assert "warning: --junit build/hello.elf is an ELF file; not written" in result.stderr
    assert check_json_error(project / "out/k.json") == "No such option '--bogus'."


def test_a_report_over_the_default_budgets_file_is_refused_before_any_run(project):
    """`check --json pyproject.toml` (no --config) ran the check and replaced the budgets
    file with its report, exit 0; with a budgets file that is not valid TOML, the error
    report replaced it."""
    before = snapshot(project)
    result = run_cli_in_process("check", "--json", "pyproject.toml", "--junit", "out/j.xml",
                                cwd=project)
    assert result.returncode == 2 and snapshot(project) == before
    assert "error: --json pyproject.toml would replace the input" in result.stderr
    assert "would replace the input" in junit_error(project / "out/j.xml")
    (project / "pyproject.toml").write_text("[[tool.ebnn-sim.budget]\n")
    result = run_cli_in_process("check", "--json", "pyproject.toml", "--junit", "out/j.xml",
                                cwd=project)
    assert result.returncode == 2
    assert (project / "pyproject.toml").read_text() == "[[tool.ebnn-sim.budget]\n"
    assert "warning: --json pyproject.toml would replace the input" in result.stderr
    assert "invalid TOML" in junit_error(project / "out/j.xml")


@pytest.mark.parametrize("failing", ["--junit", "--json"])
def test_a_report_that_cannot_be_written_makes_the_other_say_so(project, monkeypatch, failing):
    """A report that fails to be written after the runs (a full disk) was an exit 2 with the
    other report missing or, written first, saying the budgets held."""
    def full(*args: object) -> None:
        raise OutputError("cannot write it: No space left on device")

    if failing == "--junit":
        monkeypatch.setattr(sim.formats.junit, "write_junit", full)
    else:
        monkeypatch.setattr(sim.cli, "write_json", full)
    result = run_cli_in_process("check", "--junit", "out/j.xml", "--json", "out/k.json",
                                cwd=project)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: cannot write it: No space left on device"
    if failing == "--junit":
        doc = json.loads((project / "out/k.json").read_text())
        assert doc["exit_code"] == 2 and doc["error"] == "cannot write it: No space left on device"
        assert [e["elf"] for e in doc["elfs"]] == ["build/hello.elf"]  # the run done is kept
    else:
        suite = ET.parse(project / "out/j.xml").getroot().find("testsuite")
        assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "2"
        error = suite.find("testcase/error")
        assert error is not None and error.get("message") == (
            "cannot write it: No space left on device")


def test_a_host_out_of_memory_is_in_the_reports(project, monkeypatch):
    def no_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(sim.budgets, "run_checks", no_memory)
    result = run_cli_in_process("check", "--junit", "out/j.xml", "--json", "out/k.json",
                                cwd=project)
    assert result.returncode == 2 and "error: out of host memory" in result.stderr
    assert junit_error(project / "out/j.xml").startswith("out of host memory")
    assert check_json_error(project / "out/k.json").startswith("out of host memory")


# --- run and profile ---------------------------------------------------------------------------


def error_doc(path: Path, elf: str | None) -> str:
    """The error of a run or profile report of an exit 2: no figures, the firmware's exit
    code null (none ran)."""
    doc = json.loads(path.read_text())
    assert doc.keys() == {"ebnn_sim_version", "status", "exit_code", "error", "elf"}
    assert doc["status"] == "error" and doc["exit_code"] is None and doc["elf"] == elf
    return doc["error"]


@pytest.mark.parametrize("command", ["run", "profile"])
@pytest.mark.parametrize("args", [
    ["build/hello.elf", "--sram", "abc"],
    ["build/hello.elf", "--input", "no-such-input.bin"],
    ["build/hello.elf", "--bogus"],
    ["build/hello.elf", "--target", "nosuch"],
    ["build/hello.elf", "--analog", "3=in.bin@fast"],
    ["build/hello.elf", "--vcd", "adir"],  # another output's own path
    [],  # no ELF
], ids=["sram", "input", "unknown-option", "target", "analog", "vcd-folder", "no-elf"])
def test_a_usage_error_of_run_and_profile_is_in_the_json(project, command, args):
    (project / "adir").mkdir()
    result = run_cli_in_process(command, *args, "--json", "out/k.json", cwd=project)
    assert result.returncode == 2 and result.stdout == ""
    elf = args[0] if args else None
    assert error_doc(project / "out/k.json", elf) == click_error(result.stderr)


@pytest.mark.parametrize("args", [
    ["--json=out/k.json", "build/hello.elf", "-tnosuch"],
    ["build/hello.elf", "-qt", "nosuch", "--json", "out/k.json"],
    ["--quiet", "--json", "out/k.json", "--", "build/hello.elf", "extra"],
], ids=["equals-and-attached", "short-cluster", "double-dash"])
def test_the_json_path_is_found_however_the_options_are_spelt(project, args):
    """As click's parser reads them: --opt=value, -tVALUE, -qt VALUE, arguments after --."""
    result = run_cli_in_process("run", *args, cwd=project)
    assert result.returncode == 2
    assert error_doc(project / "out/k.json", "build/hello.elf") == click_error(result.stderr)


@pytest.mark.parametrize("command", ["run", "profile"])
def test_a_bad_elf_or_input_is_in_the_json(project, command):
    (project / "notes.txt").write_text("not firmware\n")
    result = run_cli_in_process(command, "notes.txt", "--json", "out/k.json", cwd=project)
    assert result.returncode == 2 and result.stderr.startswith("error: notes.txt: not a valid")
    assert "error: " + error_doc(project / "out/k.json", "notes.txt") == result.stderr.strip()
    # an input the ELF's recorded format refuses: a session error after the path is known
    (project / "x.npy").write_bytes(b"not numpy")
    result = run_cli_in_process(command, "build/hello.elf", "--input", "x.npy", "--json",
                                "out/k.json", cwd=project)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert "error: " + error_doc(project / "out/k.json", "build/hello.elf") == line


@pytest.mark.parametrize("command", ["run", "profile"])
def test_an_output_the_guard_refuses_leaves_the_json_saying_so(project, command):
    before = snapshot(project)
    result = run_cli_in_process(command, "build/hello.elf", "--vcd", "build/hello.elf",
                                "--json", "out/k.json", cwd=project)
    assert result.returncode == 2 and snapshot(project) == before
    line = result.stderr.strip()
    assert line.startswith("error: --vcd build/hello.elf would replace the input")
    assert "error: " + error_doc(project / "out/k.json", "build/hello.elf") == line


@pytest.mark.parametrize("args", [
    ["build/hello.elf", "--json", "build/hello.elf", "--sram", "abc"],
    ["build/hello.elf", "--json", "in.bin", "--input", "in.bin", "--bogus"],
    # the spec click refuses still names the file: not replaced
    ["build/hello.elf", "--json", "in.bin", "--analog", "3=in.bin@fast"],
    ["build/hello.elf", "--json", "in.bin", "--pin=PA0=in.bin", "--bogus"],
], ids=["elf", "input", "refused-spec", "spec"])
def test_a_usage_error_writes_no_json_over_an_input(project, args):
    before = snapshot(project)
    result = run_cli_in_process("run", *args, cwd=project)
    assert result.returncode == 2 and snapshot(project) == before
    assert "would replace the input" in result.stderr and "; not written" in result.stderr


def test_diff_names_an_error_report_for_what_it_is(project, firmware):
    (project / "notes.txt").write_text("not firmware\n")
    run_cli_in_process("run", "notes.txt", "--json", "out/k.json", cwd=project)
    result = run_cli_in_process("diff", "out/k.json", "out/k.json", cwd=project)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: out/k.json: the report of a run that stopped at an error before it ran: "
        "notes.txt: not a valid ELF file (Magic number does not match)")

"""``ebnn-sim``: exit codes, budgets, the JSON report, sizes, bad input, build and targets.

Most commands run in-process through click's CliRunner (fast); each exit code is also checked
once through the installed ``ebnn-sim`` script in a subprocess.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from helpers import PROGRAMS, assert_single_error_line

import sim
from toolchain.profiles import TARGETS

# --- exit status ---------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "cli_exit"), [(0, 0), (7, 1), (-1, 1), (255, 1)])
def test_firmware_exit_status(firmware, cli, status, cli_exit):
    result = cli("run", firmware("exit.c", defines={"STATUS": status}))
    assert result.returncode == cli_exit
    assert result.report["status"] == "ok"
    assert result.report["exit_code"] == status
    # the headline: "ok" only when the firmware succeeded (it said "ok" for exit code 7)
    word = "ok" if status == 0 else "failed"
    assert result.stderr.splitlines()[0].startswith(f"{word}  firmware exit code {status}  ")


@pytest.mark.parametrize(("status", "cli_exit"), [(0, 0), (7, 1)])
def test_firmware_exit_status_via_the_installed_command(firmware, cli, status, cli_exit):
    result = cli("run", firmware("exit.c", defines={"STATUS": status}), process=True)
    assert (result.returncode, result.report["exit_code"]) == (cli_exit, status)


# --- budgets -------------------------------------------------------------------------------


def test_sram_budget_below_the_size_linked_for(firmware, cli):
    """--sram maps memory: below the 15 KiB the ELF is linked for, its stack starts past the
    SRAM and it faults at reset (exit 4). --max-sram is the peak-SRAM budget alone (exit 3),
    as check's sram budget; given both, the lower one is the budget."""
    elf = firmware("hello.c")
    peak = sim.run(sim.load_elf(elf)).sram_peak
    assert cli("run", elf, "--sram", "1k").returncode == 4
    within = cli("run", elf, "--max-sram", str(peak))
    assert within.returncode == 0 and within.report["sram"]["size"] == 15 * 1024
    over = cli("run", elf, "--max-sram", str(peak - 1))
    assert over.returncode == 3
    assert over.report["over_budget"] == [{"name": "sram", "limit": peak - 1, "actual": peak}]
    both = cli("run", elf, "--sram", "15k", "--max-sram", str(peak - 1))
    assert both.returncode == 3


def test_stack_budget(firmware, cli):
    elf = firmware("hello.c")
    peak = sim.run(sim.load_elf(elf)).stack_peak
    assert peak == 16
    within = cli("run", elf, "--max-stack", str(peak))
    assert (within.returncode, within.report["status"], within.report["over_budget"]) == (
        0, "ok", [])
    over = cli("run", elf, "--max-stack", str(peak - 1))
    assert over.returncode == 3
    assert over.report["status"] == "over_budget"
    assert over.report["exit_code"] == 0
    assert over.report["over_budget"] == [{"name": "stack", "limit": peak - 1, "actual": peak}]
    assert f"over budget: stack: {peak} > {peak - 1} (over by 1)" in over.stderr
    assert over.stdout == "hello, world\n"  # the program ran to the end


def test_cycle_budget(firmware, cli):
    elf = firmware("hello.c")
    cycles = sim.run(sim.load_elf(elf)).cycles
    assert cli("run", elf, "--max-cycles", str(cycles)).returncode == 0
    over = cli("run", elf, "--max-cycles", str(cycles - 1), process=True)
    assert over.returncode == 3
    assert over.report["status"] == "over_budget"
    assert over.report["over_budget"] == [
        {"name": "cycles", "limit": cycles - 1, "actual": cycles}]


def test_several_budgets_broken_at_once(firmware, cli):
    result = cli("run", firmware("hello.c"), "--max-stack", "1", "--max-cycles", "1")
    assert result.returncode == 3
    assert [v["name"] for v in result.report["over_budget"]] == ["stack", "cycles"]


def test_firmware_failure_takes_precedence_over_budget(firmware, cli):
    # Exit codes: fault 4, limit 5, firmware non-zero 1, then over budget 3.
    result = cli("run", firmware("exit.c", defines={"STATUS": 7}), "--max-stack", "1")
    assert result.returncode == 1
    assert result.report["status"] == "over_budget"


def test_flash_too_small_for_the_image(firmware, cli):
    elf = firmware("big.c")
    used = sim.load_elf(elf).flash_used
    assert 4096 < used < 8192
    over = cli("run", elf, "--flash", "4k")
    assert over.returncode == 3
    report = over.report
    assert report["status"] == "over_budget"
    assert report["instructions"] == 0  # not run at all
    assert report["fault"]["kind"] == "image_too_large"
    assert report["fault"]["message"] == (
        f"the image needs {used:,} bytes of flash; only 4 KiB mapped")
    assert report["flash"] == {"size": 4096, "used": used}
    within = cli("run", elf, "--flash", "8k")
    assert (within.returncode, within.report["status"]) == (0, "ok")
    assert within.report["flash"] == {"size": 8192, "used": used}


def test_sram_too_small_for_static_data(firmware, cli):
    result = cli("run", firmware("big.c"), "--sram", "1k")
    assert result.returncode == 3
    fault = result.report["fault"]
    assert fault["kind"] == "image_too_large"
    assert fault["message"] == (
        "the SRAM sections need 2048 bytes (.bss ends there); only 1 KiB of SRAM mapped")


def test_wait_states_option(firmware, cli):
    # loop.S takes its backward branch 99 times (N = 100): each wait state adds 99 cycles.
    elf = firmware("loop.S", runtime=False, defines={"N": 100, "EXIT_STATUS": 0})
    none = cli("run", elf, "--wait-states", "0").report
    three = cli("run", elf, "--wait-states", "3").report
    assert (none["flash_wait_states"], three["flash_wait_states"]) == (0, 3)
    assert none["instructions"] == three["instructions"] == 204
    assert three["cycles"] - none["cycles"] == 3 * 99


# --- the JSON report -------------------------------------------------------------------------

ISSUE_KEYS = {"status", "exit_code", "instructions", "cycles", "time_ms", "sram", "flash",
              "fault", "stdout"}
SRAM_KEYS = {"size", "static", "stack_peak", "heap_peak", "peak"}
FAULT_KEYS = {"kind", "address", "pc", "function", "message"}


def test_json_report_of_a_clean_run(firmware, cli, tmp_path):
    image = firmware.image("heap.c")
    json_path = tmp_path / "deep" / "er" / "report.json"  # parents are created
    result = cli("run", image.path, "--json", json_path, json=False)
    assert result.returncode == 0
    report = json.loads(json_path.read_text())
    assert set(report) >= ISSUE_KEYS
    assert set(report["sram"]) >= SRAM_KEYS
    assert set(report["flash"]) == {"size", "used"}
    assert report["fault"] is None
    assert report["status"] == "ok" and report["exit_code"] == 0
    assert report["stdout"] == "sbrk ok\n"
    sram = report["sram"]
    assert sram["size"] == 15 * 1024
    assert sram["heap_peak"] == 384
    assert sram["peak"] == sram["static"] + sram["stack_peak"] + sram["heap_peak"]
    assert report["flash"]["used"] == image.flash_used
    assert report["time_ms"] == pytest.approx(report["cycles"] / 32e6 * 1e3)
    # The report agrees with the Python API's, field by field (wall time aside).
    api = sim.run(image).to_dict()
    for key in ("status", "exit_code", "instructions", "cycles", "sram", "flash", "stdout"):
        assert report[key] == api[key], key


def test_json_report_of_a_fault(firmware, cli):
    result = cli("run", firmware("faults.c", defines={"CASE": "unmapped_read"}))
    fault = result.report["fault"]
    assert set(fault) >= FAULT_KEYS
    assert isinstance(fault["pc"], int) and isinstance(fault["address"], int)
    assert result.report["exit_code"] is None


def test_summary_shows_the_measurements(firmware, cli):
    result = cli("run", firmware("heap.c"))
    lines = {line.split()[0]: line for line in result.stderr.splitlines()[1:]}
    assert lines["stack"].split()[2] == f"{result.report['sram']['stack_peak']:,}"
    assert lines["heap"].split()[2] == "384"
    assert lines["instructions"].split()[1] == f"{result.report['instructions']:,}"
    assert "of 15 KiB" in lines["SRAM"]


# --- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["15k", "15K", "15KiB", "15kb", "15360", " 15 KiB "])
def test_sram_size_spellings(firmware, cli, spelling):
    result = cli("run", firmware("hello.c"), "--sram", spelling)
    assert result.returncode == 0
    assert result.report["sram"]["size"] == 15360


def test_sram_size_that_cannot_be_mapped_exactly(firmware, cli):
    line = assert_single_error_line(cli("run", firmware("hello.c"), "--sram", "15000"))
    assert "15000" in line and "1 KiB" in line


def test_sram_size_that_cannot_be_mapped_exactly_via_the_installed_command(firmware, cli):
    line = assert_single_error_line(cli("run", firmware("hello.c"), "--flash", "1000",
                                        process=True))
    assert "flash size 1000 bytes" in line and "1 KiB" in line


@pytest.mark.parametrize(("option", "value", "text"), [
    ("--sram", "0", "SRAM size 0 bytes"),
    ("--sram", "1024M", "SRAM size 1024 MiB does not fit the Cortex-M memory map"),
    ("--flash", "513M", "flash size 513 MiB does not fit the Cortex-M memory map"),
])
def test_sizes_the_memory_map_cannot_hold(firmware, cli, option, value, text):
    assert text in assert_single_error_line(cli("run", firmware("hello.c"), option, value))


def test_build_refuses_sizes_not_whole_kib_and_warns_beyond_the_part(cli, tmp_path):
    line = assert_single_error_line(cli("build", PROGRAMS / "hello.c", "-o", tmp_path / "a.elf",
                                        "--flash", "3000"))
    assert "flash size 3,000 bytes is not a whole number of KiB" in line
    built = cli("build", PROGRAMS / "hello.c", "-o", tmp_path / "b.elf", "--sram", "32k")
    assert built.returncode == 0
    assert ("warning: SRAM 32 KiB is more than curie's 15 KiB: right only for a larger variant "
            "of the part") in " ".join(built.stderr.split())


def test_run_with_more_sram_than_the_part_warns(cli, tmp_path):
    """--sram 2M on the 15 KiB Curie ran silently ('SRAM peak 520 B of 2 MiB', new-user
    review F11): the run warns as `check` and `build` do; the part's own size does not."""
    elf = tmp_path / "hello.elf"
    assert cli("build", PROGRAMS / "hello.c", "-o", elf).returncode == 0
    big = cli("run", elf, "--sram", "2M", json=False)
    assert big.returncode == 0
    assert ("warning: SRAM 2 MiB is more than curie's 15 KiB: right only for a larger variant "
            "of the part") in " ".join(big.stderr.split())
    assert "warning" not in cli("run", elf, json=False).stderr


def test_run_elf_linked_for_a_smaller_sram(firmware, cli, tmp_path):
    elf = tmp_path / "fw8k.elf"
    built = cli("build", PROGRAMS / "hello.c", "-o", elf, "--sram", "8k")
    assert built.returncode == 0
    result = cli("run", elf, "--sram", "8KiB")
    assert (result.returncode, result.stdout) == (0, "hello, world\n")
    assert result.report["sram"]["size"] == 8192


@pytest.mark.parametrize("args", [
    ["--sram", "abc"], ["--sram", "1.5k"], ["--sram", "-5"], ["--max-stack", "lots"],
    ["--max-instructions", "0"], ["--timeout", "0"], ["--timeout", "-1"],
    ["--wait-states", "-1"], ["--max-cycles", "-1"], ["--target", "nosuch"],
    ["--input", "no-such-input.txt"], ["--no-such-option"],
])
def test_invalid_option_values_are_usage_errors(firmware, cli, args):
    result = cli("run", firmware("hello.c"), *args, json=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr
    assert result.stdout == ""


# --- bad input -------------------------------------------------------------------------------


def x86_64_elf() -> Path:
    exe = Path(os.path.realpath(sys.executable))
    head = exe.read_bytes()[:5]
    assert head == b"\x7fELF\x02", f"{exe} is not a 64-bit ELF"
    return exe


def test_file_name_that_looks_like_markup(cli, tmp_path):
    line = assert_single_error_line(cli("run", tmp_path / "a[/]b.elf"))
    assert line == f"error: {tmp_path / 'a[/]b.elf'}: no such file"


def test_missing_file(cli, tmp_path):
    line = assert_single_error_line(cli("run", tmp_path / "nope.elf", process=True))
    assert line == f"error: {tmp_path / 'nope.elf'}: no such file"


def test_text_file(cli, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not firmware\n")
    line = assert_single_error_line(cli("run", text))
    assert "not a valid ELF file" in line


@pytest.mark.parametrize("name, hint", [
    ("main.c", "C or assembly source, which `ebnn-sim build main.c -o out.elf` builds"),
    ("m.ebnn", "a model, whose firmware `ebnn build m.ebnn -o model.elf` builds"),
])
def test_a_source_or_a_model_given_to_run_says_what_builds_it(cli, tmp_path, name, hint):
    path = tmp_path / name
    path.write_text("int main(void) { return 0; }\n")
    line = assert_single_error_line(cli("run", path))
    assert "not a valid ELF file" in line and line.endswith(hint)


def test_empty_file(cli, tmp_path):
    empty = tmp_path / "empty.elf"
    empty.write_bytes(b"")
    assert "not a valid ELF file" in assert_single_error_line(cli("run", empty))


@pytest.mark.parametrize("which", ["python", "ls"])
def test_x86_64_elf(cli, which):
    exe = x86_64_elf() if which == "python" else Path(shutil.which("ls"))
    line = assert_single_error_line(cli("run", exe))
    assert "64-bit or big-endian ELF; expected 32-bit little-endian ARM" in line


def test_directory_instead_of_a_file(cli, tmp_path):
    result = cli("run", tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "is a directory" in result.stderr


@pytest.mark.parametrize("keep", [4, 10, 52, 100, 1000, -1])
def test_truncated_elf(firmware, cli, tmp_path, keep):
    data = firmware("hello.c").read_bytes()
    cut = tmp_path / "cut.elf"
    cut.write_bytes(data[:keep])
    line = assert_single_error_line(cli("run", cut))
    assert str(cut) in line


def test_truncated_elf_via_the_installed_command(firmware, cli, tmp_path):
    data = firmware("hello.c").read_bytes()
    cut = tmp_path / "cut.elf"
    cut.write_bytes(data[: len(data) // 2])
    assert_single_error_line(cli("run", cut, process=True))


def test_every_truncation_is_invalid_firmware(firmware, tmp_path):
    data = firmware("hello.c").read_bytes()
    cut = tmp_path / "cut.elf"
    for n in range(0, len(data), 61):
        cut.write_bytes(data[:n])
        with pytest.raises(sim.InvalidFirmware) as info:
            sim.load_elf(cut)
        assert "\n" not in str(info.value)


def corrupt_symtab_type(src: Path, dst: Path) -> None:
    """Copy ``src`` with its .symtab's section type changed from SYMTAB to PROGBITS."""
    data = bytearray(src.read_bytes())
    with src.open("rb") as fh:
        elf = ELFFile(fh)
        index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == ".symtab")
        offset = elf["e_shoff"] + index * elf["e_shentsize"] + 4  # sh_type
    assert struct.unpack_from("<I", data, offset)[0] == 2  # SHT_SYMTAB
    struct.pack_into("<I", data, offset, 1)  # SHT_PROGBITS
    dst.write_bytes(bytes(data))


def test_corrupt_symbol_table(firmware, cli, tmp_path):
    bad = tmp_path / "bad-symtab.elf"
    corrupt_symtab_type(firmware("hello.c"), bad)
    with pytest.raises(sim.InvalidFirmware, match="symtab is not a symbol table"):
        sim.load_elf(bad)
    assert "not a valid ELF file" in assert_single_error_line(cli("run", bad))


def test_arm_object_file_is_not_an_executable(cli, tmp_path):
    obj = tmp_path / "hello.o"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-c",
                    str(PROGRAMS / "exit.c"), "-o", str(obj)], check=True)
    line = assert_single_error_line(cli("run", obj))
    assert "ET_REL file, expected a linked executable" in line


def bare_elf(tmp_path: Path, name: str, *cpu: str) -> Path:
    """A program linked by gcc's defaults alone (no start-up, no linker script: at 0x8000)."""
    src = tmp_path / "bare.c"
    src.write_text("void _start(void) { for (;;) {} }\n")
    out = tmp_path / name
    subprocess.run(["arm-none-eabi-gcc", *cpu, "-O1", "-nostdlib", "-nostartfiles", "-e",
                    "_start", str(src), "-o", str(out)], check=True)
    return out


def test_an_a_profile_elf_is_refused_as_not_cortex_m(cli, tmp_path):
    elf = bare_elf(tmp_path, "a9.elf", "-marm", "-mcpu=cortex-a9")
    line = assert_single_error_line(cli("run", elf))
    assert "built for an A-profile (application) core (7-A), not a Cortex-M" in line


def test_an_image_with_nothing_at_address_0_says_so(cli, tmp_path):
    # an M-profile image without a Cortex-M linker script: its vector table is not at 0, and
    # the SRAM it was linked for has nothing to do with it
    result = cli("run", bare_elf(tmp_path, "m3.elf", "-mthumb", "-mcpu=cortex-m3"))
    assert result.returncode == 4
    message = result.report["fault"]["message"]
    assert "the image loads nothing there (its lowest load segment is at 0x00008000)" in message
    assert "larger SRAM" not in message


@pytest.mark.parametrize("patch", ["subsection_length_0", "attributes_size_huge", "uleb_cut"])
def test_malformed_build_attributes_neither_hang_nor_refuse(tmp_path, patch):
    """.ARM.attributes only advise: read by hand with every step bounded (pyelftools' reader
    loops for ever on a subsection of length 0), a malformed one says nothing."""
    elf = bare_elf(tmp_path, "a9.elf", "-marm", "-mcpu=cortex-a9")
    data = bytearray(elf.read_bytes())
    with elf.open("rb") as fh:
        sec = ELFFile(fh).get_section_by_name(".ARM.attributes")
        at, size = sec["sh_offset"], sec["sh_size"]
    assert data[at] == ord("A")
    if patch == "subsection_length_0":
        struct.pack_into("<I", data, at + 1, 0)
    elif patch == "attributes_size_huge":  # the File sub-subsection after "aeabi\0"
        struct.pack_into("<I", data, at + 1 + 4 + 6 + 1, 0xFFFFFFFF)
    else:  # every attribute byte a ULEB128 continuation
        data[at + 1 + 4 + 6 + 5 : at + size] = b"\x80" * (size - 16)
    bad = tmp_path / "bad.elf"
    bad.write_bytes(bytes(data))
    assert sim.load_elf(bad).segments  # loads: judged as it runs


def test_unknown_target_recorded_in_the_elf(firmware, cli, tmp_path):
    elf = tmp_path / "retargeted.elf"
    shutil.copy(firmware("hello.c"), elf)
    name = tmp_path / "target.txt"
    name.write_text("nosuch")
    subprocess.run(["arm-none-eabi-objcopy", "--update-section",
                    f".ebnn_sim.target={name}", str(elf)], check=True)
    line = assert_single_error_line(cli("run", elf))
    assert line.startswith("error: unknown target 'nosuch'; known targets: curie,")
    # Naming the target on the command line overrides the record.
    result = cli("run", elf, "--target", "curie")
    assert (result.returncode, result.report["target"]) == (0, "curie")


# --- targets -------------------------------------------------------------------------------


def test_target_sets_clock_and_memory(firmware, cli):
    result = cli("run", firmware("hello.c", target="nrf52832"), "--target", "nrf52832")
    report = result.report
    assert result.returncode == 0
    assert (report["target"], report["core"], report["clock_hz"]) == (
        "nrf52832", "cortex-m4", 64_000_000)
    assert report["sram"]["size"] == 64 * 1024
    assert report["time_ms"] == pytest.approx(report["cycles"] / 64e3)


@pytest.mark.parametrize("command", ["run", "profile"])
def test_target_contradicting_the_elf_is_refused(firmware, cli, command):
    """An ELF built for curie (Cortex-M3) is not run as an M0+ or M4F: one line, exit 2."""
    elf = firmware("hello.c")
    for other, core in (("stm32l031", "cortex-m0plus"), ("nrf52832", "cortex-m4 with FPU")):
        line = assert_single_error_line(cli(command, elf, "--target", other, json=False))
        assert line == (f"error: the ELF was built for curie (cortex-m3); target {other} is a "
                        f"{core}: rebuild for {other} or leave the target out"), line


@pytest.mark.parametrize("columns", ["80", "200"])
def test_targets_lists_every_profile_in_full(cli, columns):
    result = cli("targets", env={"COLUMNS": columns}, process=columns == "80")
    assert result.returncode == 0
    # fits the width (at 80 the borders go, not the data); cells by their words
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= int(columns)
    assert "wait" in result.stdout and "states" in result.stdout
    rows = {}  # target -> its first output line (the figures never wrap)
    for line in result.stdout.splitlines():
        words = line.strip("│┃ ").split()
        if words and words[0] in TARGETS:
            rows[words[0]] = line
    assert set(rows) == {"curie", "stm32l031", "nrf52832", "stm32f746", "stm32l552"}
    curie = rows["curie"]
    assert "32 MHz" in curie and "15 KiB" in curie and "196 KiB" in curie
    assert "cortex-m0plus" in rows["stm32l031"] and "8 KiB" in rows["stm32l031"]
    assert "216 MHz" in rows["stm32f746"] and "fpv5-sp-d16" in rows["stm32f746"]
    assert "…" not in result.stdout


def test_targets_devices_lists_where_each_profile_maps_what(cli):
    result = cli("targets", "--devices", env={"COLUMNS": "80"}, process=True)
    assert result.returncode == 0, result.stderr
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80
    devices: dict[str, dict[str, str]] = {}  # target -> device -> its row
    target = None
    for line in result.stdout.split("memory-mapped devices", 1)[1].splitlines()[2:]:
        words = line.strip("│┃ ").split()
        if not words:
            continue
        if words[0] in TARGETS:
            target, words = words[0], words[1:]
        devices.setdefault(target, {})[words[0]] = " ".join(words[1:])
    assert set(devices) == set(TARGETS)
    assert devices["curie"]["cmsdk_timer0"] == "0x40000000-0x40000fff 4 KiB"
    l031 = devices["stm32l031"]
    assert l031["stm32l0_tim2"] == "0x40000000-0x400003ff 1 KiB"
    assert l031["stm32l0_usart2"] == "0x40004400-0x400047ff 1 KiB"
    assert l031["stm32l0_apb1"] == "0x40000000-0x40007fff (around the others) 18 KiB"
    assert l031["stm32l0_lptim1"] == "0x40007c00-0x40007fff 1 KiB"
    assert l031["stm32l0_rtc"] == "0x40002800-0x40002bff 1 KiB"
    assert "cmsdk_timer0" not in l031 and "itm" not in l031  # TIM2 there; no ITM on an M0+


# --- build -------------------------------------------------------------------------------


def test_build_records_the_target(cli, tmp_path):
    elf = tmp_path / "out" / "fw.elf"
    built = cli("build", PROGRAMS / "exit.c", "-o", elf, "-t", "stm32l031", "-D", "STATUS=5",
                "-O", "s")
    assert built.returncode == 0
    assert built.stderr.strip() == f"built {elf} for stm32l031 (8 KiB SRAM, 32 KiB flash)"
    result = cli("run", elf)  # no --target: the ELF says stm32l031
    assert result.returncode == 1
    report = result.report
    assert (report["target"], report["core"], report["exit_code"]) == (
        "stm32l031", "cortex-m0plus", 5)
    assert report["sram"]["size"] == 8 * 1024


def test_build_with_include_dir_and_bare_define(cli, tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "status.h").write_text("#ifdef FAIL\n#define STATUS 3\n#endif\n")
    src = tmp_path / "main.c"
    src.write_text('#include "status.h"\nint main(void) { return STATUS; }\n')
    elf = tmp_path / "fw.elf"
    assert cli("build", src, "-o", elf, "-I", inc, "-D", "FAIL").returncode == 0
    assert cli("run", elf).report["exit_code"] == 3


def test_build_for_a_flash_too_small(cli, tmp_path):
    # big.c has 4 KiB of constants: linking it for 4 KiB of flash fails, in one line saying
    # what the image needs against what it was linked for
    result = cli("build", PROGRAMS / "big.c", "-o", tmp_path / "fw.elf", "--flash", "4k")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: the firmware does not fit: code and constants need "), result.stderr
    assert lines[0].endswith("B of flash, linked for 4,096 B")
    fits = cli("build", PROGRAMS / "big.c", "-o", tmp_path / "fw.elf", "--flash", "8k")
    assert fits.returncode == 0


def test_an_overflow_says_how_much_each_memory_needs(tmp_path):
    """MemoryOverflow.needed is what the image takes (static data in SRAM): linked for exactly
    that it fits, one byte less and it overflows again. Both memories at once when both are
    too small."""
    from toolchain.build import MemoryOverflow, build

    with pytest.raises(MemoryOverflow) as small:
        build([PROGRAMS / "big.c"], tmp_path / "a.elf", flash=4096, sram=1024)
    needed = small.value.needed
    assert set(needed) == {"flash", "sram"} and small.value.linked == {"flash": 4096,
                                                                       "sram": 1024}
    assert needed["flash"] > 4096 and needed["sram"] >= 2048  # 4 KiB constants, 2 KiB .bss
    assert "overflowed" in small.value.linker  # the linker's words, kept
    assert str(small.value).startswith("the firmware does not fit: code and constants need ")
    build([PROGRAMS / "big.c"], tmp_path / "b.elf", flash=needed["flash"], sram=needed["sram"])
    with pytest.raises(MemoryOverflow) as again:
        build([PROGRAMS / "big.c"], tmp_path / "c.elf", flash=needed["flash"] - 1,
              sram=needed["sram"])
    assert again.value.needed == {"flash": needed["flash"]}


def test_an_overflow_does_not_hide_another_link_error(tmp_path):
    """ld's overflow lines and another error: no sizes (a plain ToolchainError). With a linker
    script of the caller's own, an overflow is not sized against ours."""
    from toolchain.build import MemoryOverflow, ToolchainError, _overflow, build

    ld = "/usr/bin/arm-none-eabi-ld"
    lines = [f"{ld}: fw.elf section `.text' will not fit in region `FLASH'",
             f"{ld}: region `FLASH' overflowed by 12 bytes",
             "collect2: error: ld returned 1 exit status"]
    linked = {"flash": 4096, "sram": 1024}
    assert _overflow("\n".join(lines), linked, []) == {"flash": 4108}
    other = [lines[0], f"{ld}: x.o: in function `main': undefined reference to `f'", *lines[1:]]
    assert _overflow("\n".join(other), linked, []) == {}
    script = tmp_path / "own.ld"
    script.write_text("MEMORY { FLASH (rx) : ORIGIN = 0, LENGTH = 1K }\n"
                      "SECTIONS { .text : { *(.text*) *(.rodata*) } > FLASH }\n")
    with pytest.raises(ToolchainError) as own:
        build([PROGRAMS / "big.c"], tmp_path / "b.elf", extra_ldflags=[f"-T{script}"])
    assert not isinstance(own.value, MemoryOverflow) and "overflowed" in str(own.value)


def test_build_optimisation_level(cli, tmp_path):
    sizes = {}
    for level in ("0", "s"):
        elf = tmp_path / f"O{level}.elf"
        assert cli("build", PROGRAMS / "compute.c", "-o", elf, "-O", level).returncode == 0
        sizes[level] = sim.load_elf(elf).flash_used
    assert sizes["0"] > sizes["s"]


def test_build_failure_shows_the_compiler_errors(cli, tmp_path):
    src = tmp_path / "broken.c"
    src.write_text("int main(void) { return nope; }\n")
    result = cli("build", src, "-o", tmp_path / "fw.elf")
    assert result.returncode == 2
    assert result.stderr.startswith("error: compilation failed:")
    assert "'nope' undeclared" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fw.elf").exists()


def test_build_refuses_constructors_and_cxx_it_would_not_run(cli, tmp_path):
    # the start-up code runs no .init_array: a constructor was dropped silently (ready=0)
    src = tmp_path / "ctor.c"
    src.write_text("static int ready;\n__attribute__((constructor)) static void init(void) "
                   "{ ready = 1; }\nint main(void) { return ready ? 0 : 1; }\n")
    result = cli("build", src, "-o", tmp_path / "fw.elf")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "constructors or destructors (.init_array, .fini_array): the start-up code runs " \
        "none" in result.stderr
    assert not (tmp_path / "fw.elf").exists()
    cxx = tmp_path / "main.cpp"
    cxx.write_text("int main() { return 0; }\n")
    line = assert_single_error_line(cli("build", cxx, "-o", tmp_path / "fw.elf"))
    assert line.startswith(f"error: {cxx}: C++ is not built here")


def test_build_keeps_noinit_below_the_heap_and_refuses_stray_ram_sections(cli, tmp_path):
    # .noinit was an orphan ld placed after __heap_start: malloc handed out its bytes
    src = tmp_path / "noinit.c"
    src.write_text("#include <stdlib.h>\n#include <string.h>\n"
                   "__attribute__((section(\".noinit\"))) unsigned char keep[256];\n"
                   "int main(void) {\n  memset(keep, 0xAA, sizeof keep);\n"
                   "  unsigned char *p = malloc(512);\n  memset(p, 0x55, 512);\n"
                   "  return keep[0] == 0xAA && keep[255] == 0xAA ? 0 : 1;\n}\n")
    elf = tmp_path / "noinit.elf"
    assert cli("build", src, "-o", elf).returncode == 0
    result = cli("run", elf)
    assert result.returncode == 0, result
    image = sim.load_elf(elf)
    assert image.symbols["keep"] + 256 <= image.symbols["__heap_start"]
    stray = tmp_path / "stray.c"
    stray.write_text("__attribute__((section(\".ccmram\"))) int fast[4];\n"
                     "int main(void) { fast[1] = 2; return fast[1] - 2; }\n")
    line = assert_single_error_line(cli("build", stray, "-o", tmp_path / "stray.elf"))
    assert line.startswith("error: section .ccmram in SRAM: the start-up code initialises only "
                           ".data and .bss")
    assert not (tmp_path / "stray.elf").exists()


IRQ0_C = """#include <stdint.h>
#include "semihost.h"
static volatile int taken;
void IRQ0_Handler(void) { taken++; }
int main(void)
{
    *(volatile uint32_t *)0xE000E100u = 1u; /* NVIC_ISER0: enable IRQ0 */
    *(volatile uint32_t *)0xE000E200u = 1u; /* NVIC_ISPR0: pend it */
    __asm__ volatile("dsb\\n\\tisb" ::: "memory");
    return taken == 1 ? 0 : 1;
}
"""


def test_build_with_irq_vectors_takes_interrupts(cli, tmp_path):
    # the default start-up code's vector table stops at the 16 system exceptions: IRQ0's
    # "vector" was code, and the run faulted at a garbage address
    src = tmp_path / "irq.c"
    src.write_text(IRQ0_C)
    elf = tmp_path / "irq.elf"
    assert cli("build", "--irq-vectors", src, "-o", elf).returncode == 0
    result = cli("run", elf)
    assert result.returncode == 0, result
    assert result.report["exceptions"]["taken"] == {"IRQ0": 1}
    plain = tmp_path / "plain.elf"
    built = cli("build", src, "-o", plain)
    assert built.returncode == 0
    assert cli("run", plain).report["status"] == "fault"
    # the build says why: the handler is defined, and the table without --irq-vectors has
    # no vector for it (it used to be dropped without a word)
    assert "warning: IRQ0_Handler is defined but no vector calls it" in built.stderr
    assert "build with --irq-vectors" in built.stderr


def test_build_warns_of_handlers_no_vector_calls(cli, tmp_path):
    """SysTick_Handler without --irq-vectors (its exception goes to the fault handler), a
    vendor's TIM2_IRQHandler with it (no vector has that name); none for handlers the table
    calls, nor for a firmware without any."""
    src = tmp_path / "tick.c"
    src.write_text("void SysTick_Handler(void) {}\nvoid TIM2_IRQHandler(void) {}\n"
                   "int main(void) { return 0; }\n")
    plain = cli("build", src, "-o", tmp_path / "plain.elf")
    assert plain.returncode == 0
    assert "SysTick_Handler is defined but no vector calls it" in plain.stderr
    assert "TIM2_IRQHandler is defined but no vector calls it" in plain.stderr
    irq = cli("build", "--irq-vectors", src, "-o", tmp_path / "irq.elf")
    assert irq.returncode == 0
    assert "SysTick_Handler is defined" not in irq.stderr
    assert "TIM2_IRQHandler is defined but no vector calls it: no vector table here has that "\
        "name" in " ".join(irq.stderr.split())
    # without --irq-vectors, only the names its table would call are told to use it
    assert "TIM2_IRQHandler is defined but no vector calls it: no vector table here" in (
        " ".join(plain.stderr.split()))
    quiet = cli("build", PROGRAMS / "exit.c", "-o", tmp_path / "exit.elf")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_a_build_that_fails_halfway_leaves_the_earlier_elf_whole(tmp_path, monkeypatch):
    # the ELF was linked in place, then objcopy added its target record: an objcopy that
    # failed (a full disk, Ctrl-C) left an ELF without it, which ran as curie
    import subprocess

    import toolchain.build as tb

    elf = tmp_path / "fw.elf"
    tb.build([PROGRAMS / "exit.c"], elf, "stm32l031")
    before = elf.read_bytes()
    real = subprocess.run

    def objcopy_fails(cmd, *args, **kwargs):
        if "objcopy" in str(cmd[0]):
            return subprocess.CompletedProcess(cmd, 1, "", "No space left on device")
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(tb.subprocess, "run", objcopy_fails)
    with pytest.raises(tb.ToolchainError, match="objcopy failed"):
        tb.build([PROGRAMS / "exit.c"], elf, "curie", defines={"CODE": 3})
    assert elf.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fw.elf"]  # no temporary file left


def test_build_writes_through_links_and_to_devices(cli, tmp_path):
    # the staged ELF was renamed over whatever -o named: as root, -o /dev/null replaced the
    # device with a file
    import stat

    result = cli("build", PROGRAMS / "exit.c", "-o", os.devnull, json=False)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    target, link = tmp_path / "real.elf", tmp_path / "link.elf"
    link.symlink_to(target)
    assert cli("build", PROGRAMS / "exit.c", "-o", link, json=False).returncode == 0
    assert link.is_symlink() and target.read_bytes()[:4] == b"\x7fELF"


def test_build_missing_source(cli, tmp_path):
    line = assert_single_error_line(cli("build", tmp_path / "missing.c", "-o",
                                        tmp_path / "fw.elf"))
    assert line == f"error: source file not found: {tmp_path / 'missing.c'}"


def test_build_refuses_sizes_run_cannot_map(cli, tmp_path):
    """It used to link for 600 MiB of SRAM, which `run` then refused."""
    src = tmp_path / "main.c"
    src.write_text("int main(void) { return 0; }\n")
    line = assert_single_error_line(cli("build", src, "--sram", "600M", "-o", tmp_path / "f.elf"))
    assert "SRAM size 629,145,600 bytes does not fit the Cortex-M memory map" in line
    assert not (tmp_path / "f.elf").exists()


def test_build_without_the_toolchain_names_the_apt_package(cli, tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    result = cli("build", PROGRAMS / "hello.c", "-o", tmp_path / "fw.elf",
                 env={"PATH": str(empty_bin)}, process=True)
    line = assert_single_error_line(result)
    assert "arm-none-eabi-gcc not found" in line
    assert "gcc-arm-none-eabi" in line.split("apt-get install", 1)[1]
    assert not (tmp_path / "fw.elf").exists()


def test_build_cflags_reach_the_compiler(cli, tmp_path):
    elf = tmp_path / "fw.elf"
    built = cli("build", PROGRAMS / "exit.c", "-o", elf, "--cflags", "-DSTATUS=9 -O3")
    assert built.returncode == 0, built
    assert cli("run", elf).report["exit_code"] == 9
    # repeatable, split as a shell would: quotes keep a flag with spaces whole
    assert cli("build", PROGRAMS / "exit.c", "-o", elf, "--cflags", "-O0",
               "--cflags", "'-DSTATUS=(2 + 3)'").returncode == 0
    assert cli("run", elf).report["exit_code"] == 5


def test_build_cflags_come_after_the_optimisation_level(cli, tmp_path):
    sizes = {}
    for name, args in (("O0", ["-O", "0"]), ("Os", ["-O", "0", "--cflags", "-Os"])):
        elf = tmp_path / f"{name}.elf"
        assert cli("build", PROGRAMS / "compute.c", "-o", elf, *args).returncode == 0
        sizes[name] = sim.load_elf(elf).flash_used
    assert sizes["Os"] < sizes["O0"]


def test_build_ldflags_reach_the_linker(cli, tmp_path):
    elf, map_file = tmp_path / "fw.elf", tmp_path / "fw.map"
    built = cli("build", PROGRAMS / "hello.c", "-o", elf,
                "--ldflags", f"-Wl,-Map={map_file}", "--ldflags", "-Wl,--defsym=fw_marker=0x1234")
    assert built.returncode == 0, built
    assert "main" in map_file.read_text()
    with elf.open("rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        assert symtab.get_symbol_by_name("fw_marker")[0]["st_value"] == 0x1234
    assert cli("run", elf).stdout == "hello, world\n"


@pytest.mark.parametrize(("option", "flag", "message"), [
    ("--cflags", "-fno-such-flag", "unrecognized command-line option '-fno-such-flag'"),
    ("--ldflags", "-Wl,--no-such-option", "unrecognized option '--no-such-option'"),
])
def test_build_with_a_bad_flag_shows_the_toolchain_message(cli, tmp_path, option, flag, message):
    result = cli("build", PROGRAMS / "hello.c", "-o", tmp_path / "fw.elf", option, flag)
    assert result.returncode == 2
    assert result.stderr.startswith("error: compilation failed:")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fw.elf").exists()


def test_build_flags_with_an_unclosed_quote_are_a_usage_error(cli, tmp_path):
    result = cli("build", PROGRAMS / "hello.c", "-o", tmp_path / "fw.elf", "--cflags", '"-DX')
    assert result.returncode == 2
    assert "Invalid value for '--cflags': No closing quotation" in result.stderr
    assert "Traceback" not in result.stderr


# --- the command itself --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["", "run", "profile", "check", "diff", "build",
                                     "targets", "verify"])
def test_help_fits_80_columns(cli, command):
    """Every help page fits an 80-column terminal: the example blocks click does not wrap
    (check's budget table overflowed by 4 columns)."""
    result = cli(*command.split(), "--help")
    assert result.returncode == 0, result
    assert [line for line in result.stdout.splitlines() if len(line) > 80] == []


def test_help_and_version(cli):
    top = cli("--help")
    assert top.returncode == 0
    assert ("Exit codes of run and profile: 0 ok, 1 firmware exited non-zero (or the part was "
            "reset), 2 usage or bad input") in " ".join(
        top.stdout.split())
    for command in ("run", "build", "targets"):
        assert command in top.stdout
    version = cli("--version", process=True)
    assert (version.returncode, version.stdout.strip()) == (0, "ebnn-sim, version 0.1.0")
    unknown = cli("frobnicate")
    assert unknown.returncode == 2 and "No such command 'frobnicate'" in unknown.stderr


def test_run_and_profile_default_to_the_memories_the_elf_was_linked_for(cli, tmp_path):
    """An ELF built for 2 KiB of SRAM runs, and is drawn, against 2 KiB (issue 16), unless an
    option says otherwise; run on another target, the target's memories apply."""
    elf = tmp_path / "small.elf"
    assert cli("build", PROGRAMS / "exit.c", "-o", elf, "--sram", "2k", json=False).returncode == 0
    assert sim.load_elf(elf).linked_sram == 2048
    assert cli("run", elf).report["sram"]["size"] == 2048
    assert cli("run", elf, "--sram", "4k").report["sram"]["size"] == 4096
    assert cli("run", elf, "--target", "curie").report["sram"]["size"] == 2048
    out = tmp_path / "p.json"
    cli("profile", elf, "--json", out, json=False)
    assert json.loads(out.read_text())["memory"]["sram_size"] == 2048


def test_run_with_its_stdout_closed_is_quiet(firmware, tmp_path):
    # `ebnn-sim run fw.elf >&-`: AttributeError traceback ('NoneType' has no 'buffer')
    exe = Path(sys.executable).with_name("ebnn-sim")
    proc = subprocess.run([str(exe), "run", str(firmware("hello.c")), "--json",
                           str(tmp_path / "r.json")], stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: os.close(1), check=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "ok"


def test_a_reader_that_leaves_ends_the_command_with_141(cli, tmp_path):
    # `ebnn-sim run fw.elf 2>&1 | head -1` exited 1 (rich's choice), which is run's 'the
    # firmware exited non-zero': under `set -o pipefail` a firmware failure
    src = tmp_path / "talk.c"
    src.write_text('#include <stdio.h>\nint main(void) {\n  puts("first");\n'
                   "  for (volatile int i = 0; i < 2000000; i++) {}\n"
                   '  puts("second");\n  return 0;\n}\n')
    elf = tmp_path / "talk.elf"
    assert cli("build", src, "-o", elf, json=False).returncode == 0
    exe = Path(sys.executable).with_name("ebnn-sim")
    proc = subprocess.Popen([str(exe), "run", str(elf), "--json", str(tmp_path / "r.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"first\n"
    proc.stdout.close()  # as head -1 does
    assert proc.wait(timeout=60) == 141
    # the run stopped there as on Ctrl-C, and its report was written (it used to be lost)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "interrupted" and report["stdout"].startswith("first\n")
    assert "the reader of its console output left" in report["fault"]["message"]


def test_a_firmware_that_never_ends_stops_when_its_reader_leaves(firmware, tmp_path):
    """Running on to the end after the reader left (to write the report) never ended for a
    firmware that prints for ever: it stops at once, as a SIGPIPE'd process would."""
    src = tmp_path / "chatter.c"
    src.write_text('#include <stdio.h>\nint main(void) {\n  for (unsigned i = 0;; i++)\n'
                   '    printf("line %u\\n", i);\n}\n')
    elf = tmp_path / "chatter.elf"
    from toolchain.build import build

    build([src], elf, "curie")
    exe = Path(sys.executable).with_name("ebnn-sim")
    proc = subprocess.Popen([str(exe), "run", str(elf)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"line 0\n"
    proc.stdout.close()
    assert proc.wait(timeout=60) == 141


@pytest.mark.parametrize("command", ["check", "profile"])
def test_files_are_written_before_a_reader_can_leave(firmware, tmp_path, command):
    """`check ... --junit j.xml | head -1`, `profile ... --html p.html | head -1`: the tables
    go to stdout last, so the files are there however early the reader leaves."""
    elf = firmware("hello.c")
    exe = Path(sys.executable).with_name("ebnn-sim")
    if command == "check":
        (tmp_path / "b.toml").write_text(f'[[budget]]\nelf = "{elf}"\nstack = 1024\n')
        args = ["check", "--config", str(tmp_path / "b.toml"), "--junit",
                str(tmp_path / "j.xml"), "--json", str(tmp_path / "c.json")]
        files = ["j.xml", "c.json"]
    else:
        args = ["profile", str(elf), "--json", str(tmp_path / "p.json"), "--html",
                str(tmp_path / "p.html"), "--speedscope", str(tmp_path / "p.ss")]
        files = ["p.json", "p.html", "p.ss"]
    proc = subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.close()  # a reader that left before the first line
    assert proc.wait(timeout=120) in (0, 141)
    assert all((tmp_path / f).stat().st_size > 0 for f in files)

"""Nothing a firmware or a careless option does exhausts or hangs the host: bounded console,
Ctrl-C with a partial report, limits that limit, segments outside the map, flash read-only to
semihosting, erased flash."""

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from helpers import EBNN_SIM, PROGRAMS, assert_single_error_line, wait_until_running

import sim
from sim.elf import Segment
from sim.runner import CONSOLE_KEEP, ImageError


def test_console_output_is_bounded_head_and_tail(firmware):
    image = firmware.image("hostile.c", defines={"CASE": 1})
    report = sim.run(image, sim.RunOptions(max_instructions=3_000_000, console_keep=1000))
    assert report.status == "timeout"
    assert len(report.stdout) == 1000
    assert report.stdout.startswith("abcdefghij")  # the head: the first bytes printed
    printed = report.stdout_dropped + 1000
    assert printed % 8192 == 0 and printed >= 10 * 8192  # every byte is accounted for
    tail_start = printed - 500  # the tail: the last 500 bytes printed, in order
    assert report.stdout[500:] == "".join(chr(97 + (tail_start + i) % 8192 % 26)
                                          for i in range(500))


def test_a_firmware_printing_forever_keeps_the_json_small(firmware, tmp_path):
    out = tmp_path / "r.json"
    elf = firmware("hostile.c", defines={"CASE": 1})
    proc = subprocess.run([str(EBNN_SIM), "run", str(elf), "-q", "--max-instructions",
                           "20000000", "--json", str(out)], capture_output=True, timeout=120,
                          check=False)
    assert proc.returncode == 5
    report = json.loads(out.read_text())
    assert len(report["stdout"]) == CONSOLE_KEEP
    assert report["stdout_dropped"] > 50 * CONSOLE_KEEP
    assert out.stat().st_size < 3 * CONSOLE_KEEP


_ECHO_STOPPED = ("warning: console output: the firmware printed more than --max-output "
                 "{:,} bytes: no more of it is echoed; the run goes on, its report keeping "
                 "the output's head and tail")


def test_the_console_echo_to_a_file_is_bounded(firmware, tmp_path):
    """Firmware printing for ever into a redirected stdout filled the disk (4 GB in 30 s; only
    --timeout bounded it: s53 hardening review L1): past --max-output the echo stops with one
    warning line, the run goes on (to its instruction limit here), its report saying so."""
    out, err, report = (tmp_path / n for n in ("out.txt", "err.txt", "r.json"))
    elf = firmware("hostile.c", defines={"CASE": 1})
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.run([str(EBNN_SIM), "run", str(elf), "--max-output", "100k",
                               "--max-instructions", "3000000", "--json", str(report)],
                              stdout=stdout, stderr=stderr, timeout=120, check=False)
    assert proc.returncode == 5  # the run went on to its limit
    printed = out.read_bytes()
    assert len(printed) == 100 * 1024
    assert printed == bytes(97 + i % 8192 % 26 for i in range(100 * 1024))
    warning = _ECHO_STOPPED.format(100 * 1024)
    lines = err.read_text().splitlines()
    assert lines.count(warning) == 1, lines  # said once, when it happened
    listed = json.loads(report.read_text())
    assert [w.split(": ", 1)[1] for w in listed["warnings"]] == [
        warning.removeprefix("warning: ")]  # ("at 4.173 ms: ...")
    assert listed["stdout_dropped"] > 10 * CONSOLE_KEEP  # the run printed on


def test_a_reader_that_leaves_after_the_echo_bound_still_ends_the_run(firmware):
    """Past --max-output nothing is written, so `| head` leaving was never noticed: the run
    went on to its limit (exit 5) instead of stopping as documented (141; s54 review L1)."""
    elf = firmware("hostile.c", defines={"CASE": 1})
    proc = subprocess.Popen([str(EBNN_SIM), "run", str(elf), "--max-output", "1000",
                             "--timeout", "60"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and len(proc.stdout.read(1000)) == 1000
    proc.stdout.close()  # (the reader leaves after the bound)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 141, stderr.decode()[-400:]


def test_the_echo_bound_does_not_cut_a_character():
    """A UTF-8 character across the bound is left out whole, not half-printed (s54 L2)."""
    from sim.semihosting import BoundedEcho

    written: list[bytes] = []
    echo = BoundedEcho(written.append, lambda _: None, limit=4)
    echo("ab€c".encode())  # the euro sign is bytes 2..4
    assert b"".join(written) == b"ab"
    written.clear()
    echo = BoundedEcho(written.append, lambda _: None, limit=5)
    echo("ab€c".encode())
    assert b"".join(written) == "ab€".encode()


def test_the_console_echo_bound_counts_uart_output_too(firmware, cli, tmp_path):
    """Output through a UART (USART2 here, as vendor firmware prints) is bounded as the
    semihosting console is; the report still holds all of it."""
    from tests.test_exceptions import irq_program

    data = tmp_path / "in.txt"
    data.write_text("hello usart\n")
    elf = irq_program(firmware, "usart.c", "stm32l031", CASE_polled=None)
    result = cli("run", elf, "--max-output", "8", "--max-instructions", "5000000",
                 "--input", data)
    assert result.returncode == 0, result
    assert result.stdout == "usart2: "
    assert _ECHO_STOPPED.format(8) in result.stderr.splitlines()
    assert result.report["stdout"] == "usart2: hello\nHELLO USART\n"
    assert len(result.report["warnings"]) == 1
    quiet = cli("run", elf, "--max-output", "1k", "--max-instructions", "5000000",
                "--input", data)
    assert quiet.stdout == "usart2: hello\nHELLO USART\n" and "warning" not in quiet.stderr


def test_ctrl_c_stops_a_spinning_firmware_with_a_partial_report(firmware, tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.Popen([str(EBNN_SIM), "run", str(firmware("spin.c")), "--json", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_running(proc)  # well into the endless loop, which never ends by itself
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    report = json.loads(out.read_text())
    assert report["status"] == "interrupted"
    assert report["fault"]["kind"] == "interrupted"
    assert report["instructions"] > 1_000_000


def _signal_in_block(simulator, sig, before=lambda: None):
    """``sig`` sent to this process inside stop_on_sigint's block, once ``before`` returned;
    what reached the handler that was there before the block, SIGTERM's being a test's own."""
    from sim.interrupts import stop_on_sigint

    seen: list[str] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append("SIGTERM"))
    try:
        with stop_on_sigint(simulator):
            before()
            os.kill(os.getpid(), sig)
            time.sleep(0.1)  # the watcher thread has read it
    except KeyboardInterrupt:
        seen.append("KeyboardInterrupt")
    finally:
        signal.signal(signal.SIGTERM, previous)
    return seen


@pytest.mark.parametrize(("sig", "raised"), [(signal.SIGINT, "KeyboardInterrupt"),
                                             (signal.SIGTERM, "SIGTERM")])
def test_a_signal_after_the_run_is_raised_again_when_the_block_ends(firmware, sig, raised):
    """A signal that came when no run was going (here: after it ended) reaches the handler that
    was there before: a search's probe, which runs its firmware in the block, swallowed the
    SIGTERM that killed its workers and the search ended as if one had died (exit 1, not 130)."""
    simulator = sim.Simulator(firmware.image("hello.c"), sim.RunOptions())
    report = None

    def run() -> None:
        nonlocal report
        report = simulator.run()

    assert _signal_in_block(simulator, sig, run) == [raised]
    assert report is not None and report.status == "ok" and simulator.interrupted_runs == 0
    assert simulator.run().status == "ok"  # the signal does not stop the next run as well


def test_a_signal_that_stopped_a_run_is_not_raised_again(firmware):
    simulator = sim.Simulator(firmware.image("spin.c"), sim.RunOptions())
    reports = []
    for sig in (signal.SIGINT, signal.SIGTERM):  # before the run starts: it stops at once
        def run_after_signal(sig=sig) -> None:
            os.kill(os.getpid(), sig)
            time.sleep(0.1)
            reports.append(simulator.run())

        assert _signal_in_block(simulator, sig, run_after_signal) == []
    assert [r.status for r in reports] == ["interrupted", "interrupted"]
    assert simulator.interrupted_runs == 2


def test_an_interrupt_inside_a_finalizer_is_not_lost():
    """The garbage collector runs finalizers (Unicorn's engine release among them) anywhere: a
    KeyboardInterrupt raised inside one is printed and dropped, and a Ctrl-C in `ebnn search`
    while its plot was drawn was lost (signal review finding 2). The commands' handler sends
    it again once the finalizer is done."""
    import weakref

    from sim.interrupts import signals_interrupt

    class Engine:
        pass

    def release() -> None:  # the signal comes while it runs
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.3)

    with signals_interrupt(), pytest.raises(KeyboardInterrupt):
        engine = Engine()
        weakref.finalize(engine, release)
        del engine  # the finalizer runs here
        time.sleep(5)  # the interrupt comes within it


def test_an_interrupt_while_the_commands_are_imported_is_one_line(monkeypatch, capsys):
    """The console scripts import numpy, click and rich before any command's handling exists:
    a Ctrl-C then printed a traceback (signal review finding 4). They start in sim.launch."""
    import importlib
    import tomllib

    from sim import launch

    pyproject = tomllib.loads((PROGRAMS.parent.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"] == {"ebnn": "ebnn.launch:main",
                                               "ebnn-sim": "sim.launch:ebnn_sim"}

    def interrupted(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib, "import_module", interrupted)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as stop:
            launch.ebnn_sim()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stop.value.code == 130 and capsys.readouterr().err == "interrupted\n"


def test_sigterm_just_after_a_run_ends_as_ctrl_c_does(firmware, monkeypatch, cli):
    """SIGTERM after the emulation (writing the report, the summary) killed `ebnn-sim run`
    with 143 and no word; the commands now take it as Ctrl-C: "interrupted", 130."""
    from sim.runner import Simulator

    real = Simulator.run

    def run_then_signal(self, *args, **kwargs):
        report = real(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)  # the watcher of stop_on_sigint's block reads it
        return report

    monkeypatch.setattr(Simulator, "run", run_then_signal)
    from click.testing import CliRunner

    from sim.cli import main

    res = CliRunner().invoke(main, ["run", str(firmware("hello.c"))])
    assert res.exit_code == 130 and "interrupted" in res.output, res.output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("command", ["profile", "check"])
def test_ctrl_c_stops_profile_and_check(firmware, tmp_path, command, sig):
    """Issue 12: every command, not only run, stops on SIGINT with exit 130 and no traceback;
    SIGTERM too (`timeout`, a cancelled CI job: it killed them without a report)."""
    elf = firmware("spin.c")
    args = [str(EBNN_SIM), "profile", str(elf)] if command == "profile" else [
        str(EBNN_SIM), "check", "--config", str(tmp_path / "b.toml"), "--junit",
        str(tmp_path / "j.xml"), "--json", str(tmp_path / "c.json")]
    later = firmware("hello.c")  # never runs: the check is interrupted in spin.c
    (tmp_path / "b.toml").write_text(f'[[budget]]\nelf = "{elf}"\nsram = "15k"\n\n'
                                     f'[[budget]]\nelf = "{later}"\nsram = "15k"\n')
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_until_running(proc)
    os.killpg(proc.pid, sig)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 5
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert "interrupted" in out + err
    if command == "check":  # what the interrupt left out is named, not lost
        assert "interrupted: 1 not run" in " ".join(out.split())
        assert json.loads((tmp_path / "c.json").read_text())["not_run"] == [str(later)]
        skipped = [c for c in ET.parse(tmp_path / "j.xml").iter("testcase")
                   if c.find("skipped") is not None]
        assert [c.get("classname") for c in skipped] == [str(later)]


@pytest.mark.parametrize("option", [
    ("--timeout", "1e-9"), ("--timeout", "inf"), ("--timeout", "1e300"), ("--timeout", "nan"),
    ("--max-instructions", str(2**64)), ("--wait-states", str(2**32)),
])
def test_limits_that_cannot_be_honoured_are_refused(firmware, cli, option):
    result = cli("run", firmware("exit.c"), *option, json=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    error = result.error_lines[-1]  # click's usage error, or ours for nan
    assert error.startswith(("Error: Invalid value for", "error: timeout nan s"))
    assert option[0] in error or "timeout" in error


def test_a_check_config_timeout_that_cannot_be_honoured_is_refused(firmware, cli, tmp_path):
    config = tmp_path / "budgets.toml"
    config.write_text(f'[[budget]]\nelf = "{firmware("exit.c")}"\nsram = "15k"\n'
                      "timeout = 1e-9\n")
    line = assert_single_error_line(cli("check", "--config", config, json=False))
    assert "timeout" in line


def test_a_segment_outside_the_memory_map_is_refused(firmware, cli, tmp_path):
    """An ELF linked for another part's map (STM32 flash at 0x08000000)."""
    elf = tmp_path / "stm32.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-nostdlib", "-DN=3",
                    "-Wl,-Ttext=0x08000100", "-Wl,--defsym=__stack_top=0x20001000",
                    "-Wl,--section-start=.vectors=0x08000000", "-Wl,-e,Reset_Handler",
                    str(PROGRAMS / "loop.S"), "-o", str(elf)], check=True, capture_output=True)
    line = assert_single_error_line(cli("run", elf, json=False))
    assert "0x0800" in line and "outside the memory map" in line


def test_a_segment_running_past_the_flash_end_is_not_truncated(firmware):
    image = firmware.image("exit.c")
    flash = 16 * 1024
    image.segments.append(Segment(flash - 8, b"\x00" * 64))  # 56 bytes past the end
    report = sim.run(image, sim.RunOptions(flash=flash))
    assert report.fault is not None and report.fault.kind == "image_too_large"
    assert f"needs {flash + 56:,} bytes of flash;" in report.fault.message


def test_a_segment_in_no_region_is_an_image_error(firmware):
    image = firmware.image("exit.c")
    image.segments.append(Segment(0x6000_0000, b"\x01\x02"))
    with pytest.raises(ImageError, match="0x60000000"):
        sim.Simulator(image, sim.RunOptions())


def test_semihosting_cannot_write_into_flash(firmware):
    image = firmware.image("hostile.c", defines={"CASE": 2})
    s = sim.Simulator(image, sim.RunOptions(stdin=__import__("io").BytesIO(b"X" * 64)))
    for _ in range(2):  # and nothing of the first run survives into the second
        report = s.run()
        assert report.status == "fault" and report.stdout == ""
        assert "points into flash, which is read-only" in report.fault.message
    assert s.read_memory(image.symbols["in_flash"], 14) == b"const in flash"


def test_flash_past_the_image_reads_erased(firmware):
    report = sim.run(firmware.image("hostile.c", defines={"CASE": 3}))
    assert (report.status, report.exit_code) == ("ok", 0xFF)


def test_an_output_path_under_a_file_is_one_line(firmware, cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("run", firmware("exit.c"), "--json", blocker / "r.json", json=False)
    line = assert_single_error_line(result)  # refused before the run, not after it
    assert "cannot write" in line and f"{blocker} is not a directory" in line
    result = cli("profile", firmware("exit.c"), "--html", blocker / "p.html", json=False)
    assert "is not a directory" in assert_single_error_line(result)


def test_interrupting_from_another_thread_ends_the_run(firmware):
    import threading

    s = sim.Simulator(firmware.image("spin.c"), sim.RunOptions())
    threading.Timer(0.3, s.interrupt).start()
    report = s.run()
    assert report.status == "interrupted" and report.exit_status == 130
    assert report.problem is not None and report.problem.startswith("interrupted:")


def test_inputs_are_read_bounded(tmp_path):
    from sim.inputs import MAX_INPUT_BYTES, InputError, console_bytes

    with pytest.raises(InputError, match="larger than 64 MiB"):
        console_bytes(Path("/dev/zero"))
    huge = tmp_path / "huge.npy"  # a header claiming 10^12 bytes, and almost no data
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.uint8))
    header["shape"] = (10**12,)
    with huge.open("wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
    with pytest.raises(InputError, match=r"\(1000000000000,\)"):
        console_bytes(huge)
    bomb = tmp_path / "bomb.png"  # an IHDR of 30000 x 30000 pixels
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" +
                     (30000).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00" + b"\x00" * 64)
    with pytest.raises(InputError, match="30000x30000"):
        console_bytes(bomb)
    ok = tmp_path / "ok.bin"
    ok.write_bytes(b"\x01" * 1000)
    assert console_bytes(ok) == b"\x01" * 1000
    assert MAX_INPUT_BYTES == 64 << 20


def test_a_corrupt_dwarf_gives_no_source_lines_not_a_crash(firmware, tmp_path):
    from sim.profile import Profiler, SourceMap

    good = firmware("exit.c")
    data = bytearray(good.read_bytes())
    elf = sim.load_elf(good)
    assert SourceMap(good).lookup(elf.symbols["main"]) is not None  # built with -g
    info = data.find(b".debug_line")
    assert info > 0
    # scramble the DWARF sections' contents (the section headers stay valid)
    from elftools.elf.elffile import ELFFile

    with good.open("rb") as fh:
        for sec in ELFFile(fh).iter_sections():
            if sec.name.startswith(".debug"):
                off, size = sec["sh_offset"], sec["sh_size"]
                data[off : off + size] = bytes((i * 37 + 11) & 0xFF for i in range(size))
    bad = tmp_path / "bad-dwarf.elf"
    bad.write_bytes(bytes(data))
    prof = Profiler(sim.Simulator(sim.load_elf(bad), sim.RunOptions())).run()
    assert prof.report.status == "ok" and prof.functions


def test_source_lines_come_only_from_source_files(tmp_path):
    from sim.profile import SourceMap

    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    src = tmp_path / "main.c"
    src.write_text("int main(void)\n")
    sources = SourceMap(tmp_path / "missing.elf")
    assert sources.line_text(str(secret), 1) is None
    assert sources.line_text(str(src), 1) == "int main(void)"


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000,
                                  '{"instructions": 1' + "0" * 400 + "}",
                                  '{"instructions": ' + "9" * 5000 + "}"])
def test_diff_refuses_hostile_reports_with_one_line(cli, tmp_path, text):
    good = tmp_path / "good.json"
    good.write_text('{"instructions": 10, "cycles": 20}')
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    result = cli("diff", good, bad, json=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.error_lines) == 1


def test_profile_takes_the_run_limits(firmware, cli, tmp_path):
    out = tmp_path / "p.json"
    result = cli("profile", firmware("spin.c"), "--max-instructions", "5000", "--flash", "256k",
                 "--wait-states", "2", "--timeout", "60", "--json", out, json=False)
    assert result.returncode == 5
    doc = json.loads(out.read_text())
    assert doc["run"]["fault"]["kind"] == "instruction_limit"
    assert (doc["run"]["flash"]["size"], doc["run"]["flash_wait_states"]) == (256 * 1024, 2)


def test_a_segment_past_a_small_flash_is_the_image_not_fitting(firmware):
    """A second segment starting past the mapped flash (the image asks for more flash than
    given) is image_too_large (exit 3), not an image linked for another map."""
    image = firmware.image("exit.c")
    image.segments.append(Segment(40 * 1024, b"\x00" * 16))
    report = sim.run(image, sim.RunOptions(flash=16 * 1024))
    assert report.status == "over_budget" and report.exit_status == 3
    assert report.fault is not None and report.fault.kind == "image_too_large"
    assert report.fault.message == (
        f"the image needs {40 * 1024 + 16:,} bytes of flash (its flash segments span 0x00000000"
        f" to {40 * 1024 + 16:#010x}); only 16 KiB mapped")


def test_segments_far_apart_name_their_span(firmware):
    """Linked partly at 0 and partly at 0x08000000 (an STM32 address) for a part whose flash
    is at 0: the flash would have to hold the whole distance, and the error names the span
    rather than a bare count of 134 million bytes that reads as a miscount."""
    image = firmware.image("exit.c")
    image.segments.append(Segment(0x0800_0000, b"\x00" * 16))
    report = sim.run(image, sim.RunOptions(target="curie"))
    assert report.fault is not None and report.fault.kind == "image_too_large"
    assert report.fault.message == (
        f"the image needs {0x0800_0010:,} bytes of flash (its flash segments span 0x00000000"
        " to 0x08000010); only 196 KiB mapped")


def test_control_characters_in_symbol_names_are_escaped(firmware, cli, tmp_path):
    # an assembler label may hold any byte: an ESC in one would recolour the terminal of every
    # report that prints it, a U+0001 make JUnit XML unreadable
    elf = tmp_path / "names.elf"
    subprocess.run(["arm-none-eabi-objcopy", "--redefine-sym", "main=ma\x01in\x1b[31m",
                    str(firmware("hello.c")), str(elf)], check=True)
    image = sim.load_elf(elf)
    assert "ma\\x01in\\x1b[31m" in image.symbols
    assert not any("\x1b" in name or "\x01" in name for _, _, name in image.functions)
    result = cli("profile", elf, json=False)
    assert result.returncode == 0, result
    assert "ma\\x01in\\x1b[31m" in result.stdout and "\x1b" not in result.stdout


# --- ELF files built to exhaust the loader (s53 hardening review H1-H3) -----------------------

def _sections(data: bytes) -> list[tuple[int, str, list[int]]]:
    """(header offset, name, [name, type, flags, addr, offset, size, link, info, align,
    entsize]) of each section of a 32-bit little-endian ELF."""
    import struct

    shoff, shentsize, shnum, shstrndx = (struct.unpack_from("<I", data, 0x20)[0],
                                         *struct.unpack_from("<HHH", data, 0x2E))
    heads = [list(struct.unpack_from("<10I", data, shoff + i * shentsize)) for i in range(shnum)]
    names = heads[shstrndx][4]
    out = []
    for i, h in enumerate(heads):
        start = names + h[0]
        out.append((shoff + i * shentsize, data[start:data.index(b"\0", start)].decode(), h))
    return out


def _patched(firmware, tmp_path, section: str, **fields: int) -> Path:
    """hello.c's ELF with fields of ``section``'s header changed."""
    import struct

    data = bytearray(firmware("hello.c").read_bytes())
    order = ("name", "type", "flags", "addr", "offset", "size", "link", "info", "align",
             "entsize")
    for at, name, head in _sections(bytes(data)):
        if name == section:
            for key, value in fields.items():
                head[order.index(key)] = value
            struct.pack_into("<10I", data, at, *head)
    out = tmp_path / "patched.elf"
    out.write_bytes(bytes(data))
    return out


def test_a_compressed_section_claiming_gigabytes_is_not_inflated(firmware, tmp_path):
    """.ebnn_sim.target compressed (SHF_COMPRESSED) with a header claiming 3 GiB: pyelftools
    inflated it to what the header claimed (a 3 MB zlib bomb took 6.4 GB)."""
    import struct
    import zlib

    elf = firmware("hello.c")
    data = bytearray(elf.read_bytes())
    target = next(s for s in _sections(bytes(data)) if s[1] == ".ebnn_sim.target")
    payload = struct.pack("<III", 1, 3 << 30, 4) + zlib.compress(b"curie")  # Elf32_Chdr
    offset = len(data)
    data += payload
    head = target[2]
    head[2] |= 0x800
    head[4], head[5] = offset, len(payload)
    struct.pack_into("<10I", data, target[0], *head)
    bomb = tmp_path / "bomb.elf"
    bomb.write_bytes(bytes(data))
    with pytest.raises(sim.InvalidFirmware, match="3,221,225,472 bytes, more than the 256"):
        sim.load_elf(bomb)


def test_symbol_tables_are_read_bounded(firmware, tmp_path, monkeypatch):
    """A symbol table of 1-byte entries made pyelftools see one symbol per byte (16 MB: nine
    minutes); more symbols than MAX_SYMBOLS are refused; a name is kept to MAX_NAME bytes
    (4,000 symbols naming one 1 MiB string took 4 GB)."""
    import sim.elf

    with pytest.raises(sim.InvalidFirmware, match="1-byte entries"):
        sim.load_elf(_patched(firmware, tmp_path, ".symtab", entsize=1))
    elf = firmware("hello.c")
    count = len(sim.load_elf(elf).functions)
    monkeypatch.setattr(sim.elf, "MAX_NAME", 4)
    names = {name for _, _, name in sim.load_elf(elf).functions}
    assert "main" in names  # (exactly 4 bytes: whole)
    assert any(n.startswith("Rese...#") and len(n) == 4 + 20 for n in names), names
    monkeypatch.setattr(sim.elf, "MAX_SYMBOLS", count)
    with pytest.raises(sim.InvalidFirmware, match="symbols, more than the"):
        sim.load_elf(elf)


def test_long_names_sharing_their_first_max_name_bytes_stay_apart(firmware, tmp_path,
                                                                   monkeypatch):
    """Two names longer than MAX_NAME (1,024 bytes, as C++ templates' get) with the same first
    1,024 bytes were cut to one name: one entry of image.symbols for both, one function's
    name lost. Each keeps its first MAX_NAME bytes and a digest of the whole name (the same
    in every build); past the bound on reading, of its place in the string table."""
    import hashlib

    import sim.elf

    stem = "f" + "x" * (sim.elf.MAX_NAME + 100)
    src = tmp_path / "long_symbols.c"
    src.write_text(f"__attribute__((noinline)) int {stem}_a(int v) {{ return v + 1; }}\n"
                   f"__attribute__((noinline)) int {stem}_b(int v) {{ return v * 3; }}\n"
                   "volatile int sink;\n"
                   f"int main(void) {{ sink = {stem}_a(sink) + {stem}_b(sink); return 0; }}\n")
    elf = firmware(str(src))
    image = sim.load_elf(elf)
    expected = {stem[:sim.elf.MAX_NAME] + "...#"
                + hashlib.blake2b(f"{stem}_{end}".encode(), digest_size=8).hexdigest()
                for end in "ab"}
    assert {n for n in image.symbols if n.startswith("fxx")} == expected
    assert len({image.symbols[n] for n in expected}) == 2
    assert {name for _, _, name in image.functions if name.startswith("fxx")} == expected
    # the digest's bound read: the names stay apart still (by their place in the table)
    monkeypatch.setattr(sim.elf, "MAX_LONG_NAME", 50)
    bounded = {n for n in sim.load_elf(elf).symbols if n.startswith("fxx")}
    assert len(bounded) == 2 and not bounded & expected


def test_load_segments_overlapping_in_the_file_are_refused(firmware, tmp_path):
    """1,500 program headers over one 1 MiB range took 1.6 GB (65,000 a MemoryError): load
    segments whose file ranges add up to more than the file are refused before they are all
    read."""
    import struct

    data = bytearray(firmware("hello.c").read_bytes())
    phoff, (phentsize, phnum) = struct.unpack_from("<I", data, 0x1C)[0], \
        struct.unpack_from("<HH", data, 0x2A)
    heads = [list(struct.unpack_from("<8I", data, phoff + i * phentsize)) for i in range(phnum)]
    load = next(h for h in heads if h[0] == 1)  # PT_LOAD
    # a new program header table at the end: the load segment, and another over its bytes
    # (type, offset, vaddr, paddr, filesz, memsz, flags, align)
    table = [load] + [[1, load[1], 0x2000_0000, 0x2000_0000, load[4], load[4], 6, 4]] * 80
    struct.pack_into("<I", data, 0x1C, len(data))
    struct.pack_into("<H", data, 0x2C, len(table))
    for head in table:
        data += struct.pack("<8I", *head)
    assert sum(h[4] for h in table) > len(data)
    bad = tmp_path / "overlap.elf"
    bad.write_bytes(bytes(data))
    with pytest.raises(sim.InvalidFirmware, match="load segments overlap"):
        sim.load_elf(bad)


def test_debug_sections_beyond_the_bounds_give_no_source_lines(firmware, tmp_path, monkeypatch):
    """A DWARF line program of 20 MB took 14.5 GB in profile (a row per byte), a NOBITS debug
    section of 3 GiB 7.9 GB: beyond the bounds the profile has no source lines."""
    import sim.profile
    from sim.profile import SourceMap

    good = firmware("exit.c")
    main = sim.load_elf(good).symbols["main"]
    assert SourceMap(good).lookup(main) is not None
    monkeypatch.setattr(sim.profile, "_MAX_DEBUG_LINE", 16)
    assert SourceMap(good).lookup(main) is None
    monkeypatch.undo()
    nobits = _patched(firmware, tmp_path, ".debug_info", type=8, size=3 << 30)  # SHT_NOBITS
    assert SourceMap(nobits).lookup(sim.load_elf(nobits).symbols["main"]) is None


def test_an_elf_records_no_memory_beyond_the_bound(firmware, tmp_path):
    """An ELF recording 512 MiB of SRAM and flash (.ebnn_sim.target) made every run map and
    zero them (1.6 GB): recorded sizes above MAX_LINKED are not taken from the file."""
    from sim.elf import MAX_LINKED

    data = bytearray(firmware("hello.c").read_bytes())
    target = next(s for s in _sections(bytes(data)) if s[1] == ".ebnn_sim.target")
    offset, size = target[2][4], target[2][5]
    big = f"curie sram={2 * MAX_LINKED} flash=9".encode()
    assert len(big) <= size, (big, size)
    data[offset:offset + size] = big.ljust(size, b"\0")
    elf = tmp_path / "big.elf"
    elf.write_bytes(bytes(data))
    image = sim.load_elf(elf)
    assert (image.linked_sram, image.linked_flash) == (None, 9)


def test_source_lines_come_only_from_the_elfs_folder_or_the_current_one(tmp_path, monkeypatch):
    """A hostile ELF's DWARF named /any/path/secret.h: profile quoted it into the console,
    HTML and JSON (s53 hardening review M4). Sources are read under the ELF's folder or the
    current one, through no link."""
    from sim.profile import SourceMap

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (elsewhere / "keys.h").write_text("#define AWS_SECRET 1\n")
    (project / "main.c").write_text("int main(void)\n")
    (project / "link.h").symlink_to(elsewhere / "keys.h")
    monkeypatch.chdir(project)
    sources = SourceMap(project / "fw.elf")
    assert sources.line_text(str(project / "main.c"), 1) == "int main(void)"
    assert sources.line_text(str(elsewhere / "keys.h"), 1) is None
    assert sources.line_text(str(project / "link.h"), 1) is None
    monkeypatch.chdir(tmp_path)  # the current folder above both: allowed there
    assert SourceMap(project / "fw.elf").line_text(str(elsewhere / "keys.h"), 1) == (
        "#define AWS_SECRET 1")


def test_report_fields_cannot_inject_markdown_or_terminal_escapes(cli, tmp_path):
    """Function names, status, fault kind and target of a report from elsewhere reached diff's
    Markdown raw (a newline started a heading, an image, a fake 'approved') and the terminal
    with their ESC sequences (s53 hardening review M5)."""
    evil = ("main\n\n## approved\n![pixel](https://evil.example/t.png)\n| a",
            "\x1b]0;pwned\x07\x1b[2J", "\u202eevil\u202c")
    base = {"instructions": 100, "cycles": 200, "target": "x", "core": "y", "clock_hz": 2,
            "functions": [{"name": "main", "self": {"instructions": 10, "cycles": 20}}]}
    head = {"instructions": 120, "cycles": 260, "status": "fault\n# INJECTED\x1b[5m",
            "target": "curie\n\n**INJECTED**", "core": "m3", "clock_hz": 1,
            "functions": [{"name": n, "self": {"instructions": 11 + i, "cycles": 21 + i}}
                          for i, n in enumerate(evil)]}
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    md = cli("diff", tmp_path / "base.json", tmp_path / "head.json", "--markdown", json=False)
    assert md.returncode == 0, md.stderr
    assert not any(line.startswith(("#", "!", "**INJECTED")) and "ebnn-sim" not in line
                   and not line.startswith("####") for line in md.stdout.splitlines())
    assert "\x1b" not in md.stdout and "\u202e" not in md.stdout
    assert "main\\x0a\\x0a## approved" in md.stdout
    text = cli("diff", tmp_path / "base.json", tmp_path / "head.json", json=False)
    assert text.returncode == 0
    assert "\x1b" not in text.stdout + text.stderr and "\u202e" not in text.stdout


def test_a_semihosting_refusal_prints_the_firmwares_text_escaped(tmp_path):
    """SYS_SYSTEM's text (the firmware's) reached the terminal and reports raw: an ESC or a
    newline faked lines or retitled the terminal (s53 hardening review M5)."""
    from test_semihosting import FakeMemory

    from sim.semihosting import SYS_SYSTEM, Semihost

    host, mem = Semihost(), FakeMemory()
    text = b"rm -rf / \x1b]0;pwned\x07\nsandbox: ok"
    assert host.call(SYS_SYSTEM, mem.block(mem.put(text), len(text)), mem) == -1
    assert str(host.refusals[0]) == ("SYS_SYSTEM refused: rm -rf / \\x1b]0;pwned\\x07\\x0a"
                                     "sandbox: ok")

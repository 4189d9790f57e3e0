"""Semihosting: console output, input files and stdin, and the sandbox's refusals.

io.c (tests/programs) performs one operation per build (-DOP=...) and prints what the host
answered, so each test checks both sides: the firmware's view (stdout) and the host's (files
created or not, refusals reported).
"""

import io
import resource
import struct
from pathlib import Path

import pytest

import sim
from sim.semihosting import (
    EBADF,
    ENOENT,
    SYS_CLOSE,
    SYS_ERRNO,
    SYS_OPEN,
    SYS_READ,
    SYS_REMOVE,
    SYS_RENAME,
    SYS_SYSTEM,
    SYS_TMPNAM,
    SYS_WRITE,
    Memory,
    Semihost,
)


def io_elf(firmware, op: str) -> Path:
    return firmware("io.c", defines={"OP": op})


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory to run in, holding an input file, a stdin file and a file not passed."""
    d = tmp_path / "work"
    d.mkdir()
    (d / "data.txt").write_text("hello from a file\n")
    (d / "in.txt").write_text("from stdin")
    (d / "secret.txt").write_text("do not read\n")
    return d


def test_hello_prints_exactly_its_output_on_stdout(firmware, cli):
    result = cli("run", firmware("hello.c"), process=True)
    assert result.returncode == 0
    assert result.stdout == "hello, world\n"  # the summary goes to stderr, not stdout
    assert result.report["stdout"] == "hello, world\n"
    assert result.report["status"] == "ok"
    assert "hello" not in result.stderr
    summary = dict(line.split(None, 1) for line in result.stderr.splitlines()[1:4])
    assert summary["instructions"].split()[0] == f"{result.report['instructions']:,}"


def test_writec(firmware, cli):
    result = cli("run", io_elf(firmware, "OP_WRITEC"))
    assert (result.returncode, result.stdout) == (0, "ok\n")


def test_write_to_fd_1(firmware, cli):
    # sh_write returns the bytes written: the host answers "0 bytes left".
    result = cli("run", io_elf(firmware, "OP_WRITE"))
    assert (result.returncode, result.stdout) == (0, "abc\nwrote 4\n")


def test_output_without_final_newline(firmware, cli):
    result = cli("run", io_elf(firmware, "OP_NO_NEWLINE"))
    assert result.returncode == 0
    assert result.stdout == "no newline\n"  # the CLI ends the line before its summary
    assert result.report["stdout"] == "no newline"  # the report keeps the exact bytes


def test_quiet_keeps_output_in_the_report_only(firmware, cli):
    result = cli("run", firmware("hello.c"), "--quiet")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.report["stdout"] == "hello, world\n"
    assert "ok" in result.stderr


@pytest.mark.parametrize("spelling", ["name", "absolute"])
def test_reading_an_input_file_by_its_name(firmware, cli, workdir, spelling):
    # The firmware opens "data.txt"; the user may pass the file by any path.
    arg = "data.txt" if spelling == "name" else str(workdir / "data.txt")
    result = cli("run", io_elf(firmware, "OP_READ_FILE"), "--input", arg, cwd=workdir)
    assert result.returncode == 0
    assert result.stdout == "read: hello from a file\nbytes 18\nclose 0\n"
    assert result.report["refusals"] == []


def test_reading_a_file_not_passed_is_refused(firmware, cli, workdir):
    # data.txt exists in the working directory, but was not passed with --input.
    result = cli("run", io_elf(firmware, "OP_READ_FILE"), cwd=workdir)
    assert result.returncode == 1  # the firmware saw the refusal and returned 1
    assert result.report["exit_code"] == 1
    refusal = "SYS_OPEN refused: 'data.txt' for reading: not a file passed with --input"
    assert result.report["refusals"] == [refusal]
    assert f"sandbox: {refusal}" in result.stderr


def test_opening_an_unlisted_file_is_refused_even_with_inputs(firmware, cli, workdir):
    result = cli("run", io_elf(firmware, "OP_OPEN_UNLISTED"), "--input", "data.txt",
                 cwd=workdir)
    assert result.returncode == 0
    assert result.stdout == "open -1\n"
    assert result.report["refusals"] == [
        "SYS_OPEN refused: 'secret.txt' for reading: not a file passed with --input"]


def test_stdin_comes_from_the_first_input(firmware, cli, workdir):
    result = cli("run", io_elf(firmware, "OP_STDIN"), "--input", "in.txt", "--input",
                 "data.txt", cwd=workdir)
    assert result.returncode == 0
    assert result.stdout == "stdin: from stdinbytes 10\n"


def test_stdin_is_empty_without_inputs(firmware, cli, workdir):
    result = cli("run", io_elf(firmware, "OP_STDIN"), cwd=workdir)
    assert (result.returncode, result.stdout) == (0, "stdin: bytes 0\n")


def test_stdin_through_the_python_api(firmware):
    image = firmware.image("io.c", defines={"OP": "OP_STDIN"})
    simulator = sim.Simulator(image, sim.RunOptions(stdin=io.BytesIO(b"api")))
    assert simulator.run().stdout == "stdin: apibytes 3\n"
    # run(stdin=...) overrides the option for that run.
    assert simulator.run(stdin=io.BytesIO(b"second")).stdout == "stdin: secondbytes 6\n"


def test_echo_sees_console_output_as_it_appears(firmware):
    chunks: list[bytes] = []
    report = sim.run(firmware.image("io.c", defines={"OP": "OP_WRITEC"}), echo=chunks.append)
    assert chunks == [b"o", b"k", b"\n"]
    assert report.stdout == "ok\n"


def test_system_is_refused_and_not_executed(firmware, cli, workdir):
    # The firmware asks for `touch ebnn-sim-marker`, run from the working directory.
    result = cli("run", io_elf(firmware, "OP_SYSTEM"), cwd=workdir, process=True)
    assert result.returncode == 0
    assert result.stdout == "system -1\n"
    assert result.report["refusals"] == ["SYS_SYSTEM refused: touch ebnn-sim-marker"]
    assert "sandbox: SYS_SYSTEM refused: touch ebnn-sim-marker" in result.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["data.txt", "in.txt", "secret.txt"]
    assert not (Path.cwd() / "ebnn-sim-marker").exists()


def test_refusals_are_printed_verbatim(firmware, cli):
    # Firmware-chosen names that look like console markup must neither vanish nor crash the
    # summary (before the fix, "[/]" raised a MarkupError and no report was written).
    result = cli("run", io_elf(firmware, "OP_MARKUP"))
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert result.stdout == "open -1\nsystem -1\n"
    refusals = ["SYS_OPEN refused: '[/]' for reading: not a file passed with --input",
                "SYS_SYSTEM refused: [bold]x[/bold] [/]"]
    assert result.report["refusals"] == refusals
    for refusal in refusals:
        assert f"sandbox: {refusal}\n" in result.stderr


def test_opening_for_write_is_refused_without_output_dir(firmware, cli, workdir):
    result = cli("run", io_elf(firmware, "OP_WRITE_FILE"), cwd=workdir)
    assert result.returncode == 0
    assert result.stdout == "open out.txt -1\nopen ../escape.txt -1\n"
    assert result.report["refusals"] == [
        "SYS_OPEN refused: 'out.txt' for writing: no --output-dir given",
        "SYS_OPEN refused: '../escape.txt' for writing: no --output-dir given",
    ]
    assert not (workdir / "out.txt").exists()
    assert not (workdir.parent / "escape.txt").exists()


def test_writing_inside_output_dir_is_allowed_and_escaping_it_is_not(firmware, cli, workdir):
    out = workdir / "results" / "run1"  # created by the CLI
    result = cli("run", io_elf(firmware, "OP_WRITE_FILE"), "--output-dir", out, cwd=workdir)
    assert result.returncode == 0
    assert result.stdout == (
        "open out.txt 3\nwrite 20\nclose 0\nopen ../escape.txt -1\n")
    assert (out / "out.txt").read_text() == "written by firmware\n"
    assert result.report["refusals"] == [
        "SYS_OPEN refused: '../escape.txt' for writing: outside --output-dir"]
    assert not (out.parent / "escape.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["out.txt"]


def test_write_open_in_a_missing_directory_is_refused_not_a_crash(firmware, cli, workdir):
    out = workdir / "out"
    result = cli("run", io_elf(firmware, "OP_WRITE_MISSING_DIR"), "--output-dir", out)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert result.stdout == "open -1\n"
    assert result.report["refusals"] == [
        "SYS_OPEN refused: 'no-such-dir/out.txt' for writing: No such file or directory"]
    assert list(out.iterdir()) == []


def limit_address_space() -> None:
    """In the child: 3 GiB of address space, enough for a run (about 1.2 GiB, most of it
    Unicorn's code buffer) but not for a 4 GiB host buffer."""
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def test_huge_length_is_a_fault_without_a_huge_host_buffer(firmware, cli):
    # sh_write(1, "abc", (size_t)-1): the host must refuse to read 4 GiB of firmware memory.
    # Before the check in Simulator._host_read, Unicorn allocated the 4 GiB first (here:
    # MemoryError and a traceback).
    result = cli("run", io_elf(firmware, "OP_HUGE_WRITE"), process=True,
                 preexec_fn=limit_address_space)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == "before\n"
    fault = result.report["fault"]
    assert fault["kind"] == "hard_fault"
    assert fault["message"] == "semihosting call 0x05 points outside mapped memory"


# --- the sandbox itself, with a host memory of a few bytes ------------------------------------

class FakeMemory(Memory):
    """A 4 KiB byte array at address 0x1000."""

    BASE = 0x1000

    def __init__(self) -> None:
        self.data = bytearray(4096)
        super().__init__(self._read, self._write)
        self._free = self.BASE

    def _read(self, addr: int, n: int) -> bytes:
        off = addr - self.BASE
        return bytes(self.data[off : off + n])

    def _write(self, addr: int, data: bytes) -> None:
        off = addr - self.BASE
        self.data[off : off + len(data)] = data

    def put(self, data: bytes) -> int:
        addr = self._free
        self._write(addr, data)
        self._free += (len(data) + 4) & ~3
        return addr

    def block(self, *words: int) -> int:
        return self.put(struct.pack(f"<{len(words)}I", *words))


def open_call(host: Semihost, mem: FakeMemory, name: str, mode: int) -> int:
    raw = name.encode()
    return host.call(SYS_OPEN, mem.block(mem.put(raw + b"\0"), mode, len(raw)), mem)


def test_remove_is_refused_and_the_file_survives(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    host, mem = Semihost(inputs=[victim], output_dir=tmp_path), FakeMemory()
    raw = str(victim).encode()
    assert host.call(SYS_REMOVE, mem.block(mem.put(raw), len(raw)), mem) == -1
    assert victim.read_text() == "keep me"
    assert [str(r) for r in host.refusals] == [f"SYS_REMOVE refused: {victim}"]


@pytest.mark.parametrize(("op", "name"), [
    (SYS_RENAME, "SYS_RENAME"), (SYS_TMPNAM, "SYS_TMPNAM"), (SYS_SYSTEM, "SYS_SYSTEM"),
])
def test_other_host_operations_are_refused(op, name):
    host, mem = Semihost(), FakeMemory()
    assert host.call(op, mem.block(mem.put(b"x\0"), 1, mem.put(b"y\0"), 1), mem) == -1
    assert host.refusals[0].operation == name


def test_unknown_operation_is_refused():
    host, mem = Semihost(), FakeMemory()
    assert host.call(0x99, mem.block(0), mem) == -1
    assert [str(r) for r in host.refusals] == ["semihosting operation 0x99 refused: not supported"]


def test_write_open_through_a_symlink_out_of_output_dir_is_refused(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    host, mem = Semihost(output_dir=out), FakeMemory()
    assert open_call(host, mem, "link/x.txt", 4) == -1
    assert open_call(host, mem, str(outside / "y.txt"), 4) == -1  # absolute path
    assert open_call(host, mem, ".", 4) == -1  # the directory itself
    assert list(outside.iterdir()) == []
    assert len(host.refusals) == 3


def test_write_open_modes_inside_output_dir(tmp_path):
    host, mem = Semihost(output_dir=tmp_path), FakeMemory()
    (tmp_path / "log.txt").write_text("old\n")
    fd = open_call(host, mem, "log.txt", 8)  # "a": append
    text = b"new\n"
    assert host.call(SYS_WRITE, mem.block(fd, mem.put(text), len(text)), mem) == 0
    assert host.call(SYS_CLOSE, mem.block(fd), mem) == 0
    assert (tmp_path / "log.txt").read_text() == "old\nnew\n"
    fd = open_call(host, mem, "log.txt", 4)  # "w": truncate
    host.call(SYS_CLOSE, mem.block(fd), mem)
    assert (tmp_path / "log.txt").read_text() == ""
    assert host.refusals == []


def test_input_files_are_read_only(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("abc")
    host, mem = Semihost(inputs=[data]), FakeMemory()
    fd = open_call(host, mem, "data.txt", 1)  # "rb"
    assert fd >= 3
    text = b"overwrite"
    # Writing to a read-only handle fails: nothing written ("all bytes left").
    assert host.call(SYS_WRITE, mem.block(fd, mem.put(text), len(text)), mem) == len(text)
    host.close_all()
    assert data.read_text() == "abc"
    # And asking for it in a write mode is a write-open: refused without --output-dir.
    assert open_call(host, mem, "data.txt", 4) == -1
    assert data.read_text() == "abc"


def test_names_with_a_nul_byte_are_refused(tmp_path):
    host, mem = Semihost(output_dir=tmp_path), FakeMemory()
    assert open_call(host, mem, "a\0b.txt", 4) == -1
    assert open_call(host, mem, "a\0b.txt", 0) == -1
    assert [str(r) for r in host.refusals] == [
        "SYS_OPEN refused: 'a\\x00b.txt': NUL byte in the name"] * 2
    assert list(tmp_path.iterdir()) == []


def test_reading_from_a_file_opened_for_writing(tmp_path):
    host, mem = Semihost(output_dir=tmp_path), FakeMemory()
    fd = open_call(host, mem, "out.bin", 5)
    buf = mem.put(bytes(16))
    # Nothing read: all 16 bytes "left", errno EBADF, and no host exception.
    assert host.call(SYS_READ, mem.block(fd, buf, 16), mem) == 16
    assert host.call(SYS_ERRNO, 0, mem) == EBADF


def test_errno_after_an_input_vanished(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("x")
    host, mem = Semihost(inputs=[data]), FakeMemory()
    data.unlink()
    assert open_call(host, mem, "data.txt", 0) == -1
    assert host.call(SYS_ERRNO, 0, mem) == ENOENT
    assert [str(r) for r in host.refusals] == [
        "SYS_OPEN refused: 'data.txt': No such file or directory"]


def test_two_inputs_of_one_name_are_opened_by_path(tmp_path):
    """The first of two inputs named a.txt used to win silently."""
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    first, second = tmp_path / "x" / "a.txt", tmp_path / "y" / "a.txt"
    first.write_text("first")
    second.write_text("second")
    host, mem = Semihost(inputs=[first, second]), FakeMemory()
    assert open_call(host, mem, "a.txt", 0) == -1
    assert "two --input files have that name" in str(host.refusals[0])
    assert open_call(host, mem, str(second), 0) >= 3


@pytest.mark.parametrize("target", ["curie", "stm32l031", "stm32l552"])
def test_c_library_stdio_reaches_the_console(firmware, cli, tmp_path, target):
    # `ebnn-sim build` links picolibc's semihosting stdio: printf links (it did not: no
    # `stdout`) and writes to the console; stdin reads the first input, to an end of file
    # (it was 255 for ever: firmware/semihost.c's sys_semihost_getc). v7-M, v6-M, v8-M.
    (tmp_path / "line.txt").write_text("a line\nnot read\n")
    elf = firmware("stdio.c", target=target)
    result = cli("run", elf, "--input", tmp_path / "line.txt")
    assert result.report["exit_code"] == 3
    assert result.report["stdout"] == ("hello 42 x 3.142\nputs line\nto stderr\n"
                                       "read: a line\nthen 9 bytes, EOF\nheap\n")
    # all of the input read: said in the report, and no note
    assert result.report["console_input"] == {"bytes": 16, "read": 16}
    assert "console input:" not in result.stderr


def test_console_input_left_unread_is_said(firmware, cli, tmp_path):
    """A firmware that never reads the input it was given (a port it never set up, an exit
    before the work) did not do what the run was for: the run says so, with the count."""
    (tmp_path / "in.bin").write_bytes(bytes(100))
    result = cli("run", firmware("hello.c"), "--input", tmp_path / "in.bin")
    assert result.returncode == 0
    assert result.report["console_input"] == {"bytes": 100, "read": 0}
    assert "console input: the firmware read none of its 100 bytes" in result.stderr
    assert cli("run", firmware("hello.c")).report["console_input"] is None
    (tmp_path / "long.txt").write_text("a line\n" + "x" * 93)  # a line read, then EOF: all
    stdio = cli("run", firmware("stdio.c"), "--input", tmp_path / "long.txt")
    assert stdio.report["console_input"] == {"bytes": 100, "read": 100}
    # a firmware that opens its input by name (SYS_OPEN) read it that way: no note (it said
    # 'read none', and check --fail-on-warnings failed a correct firmware: s52 review M1)
    (tmp_path / "data.txt").write_text("hello from data file\n")
    by_name = cli("run", firmware("io.c", defines={"OP": 3}), "--input", tmp_path / "data.txt")
    assert by_name.returncode == 0 and "read: hello from data file" in by_name.report["stdout"]
    assert by_name.report["console_input"] is None
    assert "console input:" not in by_name.stderr


def test_write0_prints_a_string_of_any_length(firmware, cli):
    # it stopped at 4,096 bytes without a word (stdout_dropped 0)
    result = cli("run", io_elf(firmware, "OP_LONG_WRITE0"))
    assert result.returncode == 0
    text = "".join(chr(ord("a") + i % 26) for i in range(10000))
    assert result.report["stdout"] == text + "|end\n"
    assert result.report["stdout_dropped"] == 0


def test_refusals_in_a_loop_keep_a_bounded_report():
    """Firmware refused in a loop (SYS_SYSTEM with a 4 KiB command, ~25 instructions a call)
    grew the host's memory by ~1.3 KiB an instruction: 1.2 M instructions, 1.6 GB and a 390 MB
    JSON report. The report keeps the first MAX_REFUSALS and counts the rest."""
    from sim.semihosting import MAX_REFUSALS, MAX_STRING

    host, mem = Semihost(), FakeMemory()
    args = mem.block(mem.put(b"A" * 3000 + b"\0"), 3000)
    for _ in range(MAX_REFUSALS + 5):
        assert host.call(SYS_SYSTEM, args, mem) == -1
    assert len(host.refusals) == MAX_REFUSALS
    assert host.refusals_dropped == 5
    long_name = "n" * 3500  # (a SYS_OPEN refusal's detail holds the name, quoted)
    host2 = Semihost()
    assert open_call(host2, FakeMemory(), long_name, 0) == -1
    assert len(host2.refusals[0].detail) <= MAX_STRING + 3


class SmallMemory(FakeMemory):
    """FakeMemory whose writes past its 4 KiB fault, as SRAM's end does."""

    def _write(self, addr: int, data: bytes) -> None:
        off = addr - self.BASE
        if off < 0 or off + len(data) > len(self.data):
            raise RuntimeError("write outside memory")
        super()._write(addr, data)


def test_a_huge_read_never_holds_the_input_file_in_host_memory(tmp_path):
    """SYS_READ of 4 GiB from an --input that is not the console (no size cap: a large data
    file, or /dev/zero, which click's exists=True accepts): the host read the whole length
    (up to 4 GiB) into one bytes object before the store was checked."""
    import tracemalloc

    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(32 << 20)
    host, mem = Semihost(inputs=[big]), SmallMemory()
    fd = open_call(host, mem, "big.bin", 0)
    assert fd >= 3
    args = mem.block(fd, SmallMemory.BASE + 2048, 0xFFFFFFF0)
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError):
            host.call(SYS_READ, args, mem)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_files_in_output_dir_are_bounded(tmp_path):
    """Firmware writing 4 KiB blocks for ever filled --output-dir at ~60 MB/s (90 MB for 400k
    instructions); seeking to 4 GiB - 16 before a write made 94 sparse files of 4 GiB apparent
    size in 20k instructions. Past the limit a write is refused (ENOSPC), listed."""
    from sim.semihosting import ENOSPC, SYS_SEEK

    host, mem = Semihost(output_dir=tmp_path, output_limit=100), FakeMemory()
    fd = open_call(host, mem, "out.bin", 4)
    block = mem.put(b"x" * 60)
    assert host.call(SYS_WRITE, mem.block(fd, block, 60), mem) == 0
    assert host.call(SYS_WRITE, mem.block(fd, block, 60), mem) == 60  # 120 in all: refused
    assert host.errno == ENOSPC
    fd2 = open_call(host, mem, "sparse.bin", 4)
    assert host.call(SYS_SEEK, mem.block(fd2, 0xFFFFFFF0), mem) == 0
    assert host.call(SYS_WRITE, mem.block(fd2, block, 16), mem) == 16  # its end past 100
    host.close_all()
    assert (tmp_path / "out.bin").stat().st_size == 60
    assert (tmp_path / "sparse.bin").stat().st_size == 0
    assert [r.operation for r in host.refusals] == ["SYS_WRITE", "SYS_WRITE"]


def test_a_fifo_in_the_output_dir_is_refused_not_a_hang(tmp_path):
    """A FIFO in --output-dir blocked the run in open() for ever: no --timeout, SIGINT or
    SIGTERM reached it (s53 hardening review M2). Only regular files are written."""
    import os

    os.mkfifo(tmp_path / "pipe")
    host, mem = Semihost(output_dir=tmp_path), FakeMemory()
    assert open_call(host, mem, "pipe", 4) == -1  # (no reader: ENXIO; with one, not regular)
    assert str(host.refusals[0]).startswith("SYS_OPEN refused: 'pipe' for writing")


def test_a_long_open_name_is_refused_before_it_is_read(tmp_path):
    """SYS_OPEN read the whole name the firmware claimed (500 MiB took 9.8 GB): more than
    MAX_NAME bytes is refused unread (s53 hardening review H5)."""
    from sim.semihosting import MAX_NAME

    host = Semihost(output_dir=tmp_path)

    class Huge(FakeMemory):
        def _read(self, addr: int, n: int) -> bytes:
            assert n <= MAX_NAME + 16, n  # the name itself is never read
            return super()._read(addr, n)

    mem = Huge()
    assert host.call(SYS_OPEN, mem.block(mem.put(b"x\0"), 4, 500 << 20), mem) == -1
    assert "a name of 524,288,000 bytes" in str(host.refusals[0])


def test_open_handles_are_bounded_and_closing_frees_them(tmp_path):
    """Opening without closing grew the host's memory for ever (and its file descriptors);
    closing kept each handle's position (s53 hardening review H6)."""
    from sim.semihosting import FEATURES_FILE, MAX_HANDLES

    host, mem = Semihost(output_dir=tmp_path), FakeMemory()
    raw = FEATURES_FILE.encode()
    opening, closing = mem.block(mem.put(raw + b"\0"), 0, len(raw)), mem.block(0)
    handles = [host.call(SYS_OPEN, opening, mem) for _ in range(MAX_HANDLES)]
    assert all(h > 2 for h in handles)
    assert host.call(SYS_OPEN, opening, mem) == -1
    assert "files open already" in str(host.refusals[-1])
    for h in handles:
        mem._write(closing, struct.pack("<I", h))
        assert host.call(SYS_CLOSE, closing, mem) == 0
    assert host._positions == {} and host._files == {}
    assert host.call(SYS_OPEN, opening, mem) > 2


def test_files_created_in_the_output_dir_are_bounded(tmp_path, monkeypatch):
    import sim.semihosting as sh

    monkeypatch.setattr(sh, "MAX_OUTPUT_FILES", 3)
    host, mem = Semihost(output_dir=tmp_path), FakeMemory()
    for i in range(3):
        fd = open_call(host, mem, f"f{i}", 4)
        assert fd > 2 and host.call(SYS_CLOSE, mem.block(fd), mem) == 0
    assert open_call(host, mem, "f9", 4) == -1
    assert open_call(host, mem, "f0", 4) > 2  # an existing one may be written again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f0", "f1", "f2"]


def test_sparse_files_count_toward_the_output_limit(tmp_path):
    """A seek far past the end of each of many files made 51 GiB of apparent size in a second
    (each file under the limit alone): the files' ends count together (s53 hardening L2)."""
    from sim.semihosting import SYS_SEEK, SYS_WRITE

    host, mem = Semihost(output_dir=tmp_path, output_limit=1000), FakeMemory()
    byte = mem.put(b"x")
    ends = []
    for i in range(3):
        fd = open_call(host, mem, f"f{i}", 4)
        assert host.call(SYS_SEEK, mem.block(fd, 400), mem) == 0
        ends.append(host.call(SYS_WRITE, mem.block(fd, byte, 1), mem))
        host.call(SYS_CLOSE, mem.block(fd), mem)
    assert ends == [0, 0, 1]  # 401 + 401 fit in 1,000; a third 401 does not
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) == 802
    fd = open_call(host, mem, "f0", 4)  # truncated: its end no longer counts
    assert host.call(SYS_WRITE, mem.block(fd, byte, 1), mem) == 0

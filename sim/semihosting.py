"""ARM semihosting (``BKPT 0xAB`` on M-profile), served as a sandbox.

The firmware reaches only what the user handed it: files passed as inputs (read-only) and, when
an output directory was named, new files inside it. SYS_SYSTEM, SYS_REMOVE, SYS_RENAME,
SYS_TMPNAM and any open that is not allowed are refused, recorded and reported; none is executed.
Clock and time calls answer from the simulated cycle count, so runs are reproducible.
"""

import errno
import os
import select
import stat
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sim.printable import printable

SYS_OPEN, SYS_CLOSE, SYS_WRITEC, SYS_WRITE0 = 0x01, 0x02, 0x03, 0x04
SYS_WRITE, SYS_READ = 0x05, 0x06
SYS_READC, SYS_ISERROR, SYS_ISTTY, SYS_SEEK, SYS_FLEN = 0x07, 0x08, 0x09, 0x0A, 0x0C
SYS_TMPNAM, SYS_REMOVE, SYS_RENAME, SYS_CLOCK, SYS_TIME = 0x0D, 0x0E, 0x0F, 0x10, 0x11
SYS_SYSTEM, SYS_ERRNO, SYS_GET_CMDLINE, SYS_HEAPINFO = 0x12, 0x13, 0x15, 0x16
SYS_EXIT, SYS_EXIT_EXTENDED, SYS_ELAPSED, SYS_TICKFREQ = 0x18, 0x20, 0x30, 0x31

ADP_STOPPED_APPLICATION_EXIT = 0x20026
FEATURES_FILE = ":semihosting-features"
FEATURE_BYTES = b"SHFB\x03"  # EXIT_EXTENDED and STDOUT_STDERR supported

EPERM, ENOENT, EBADF, EMFILE, ENOSPC, ENAMETOOLONG = 1, 2, 9, 24, 28, 36
# bytes the firmware's files in --output-dir may take in a run, written in all and as their
# ends added together (a seek far past the end makes a sparse file of that size); also the
# default bound of its console output echoed to run's stdout (BoundedEcho, run --max-output)
MAX_OUTPUT_BYTES = 1 << 30
MAX_STRING = 4096  # bytes of a refused operation's argument shown in the report
MAX_NAME = 4096  # bytes of a SYS_OPEN name read (a host's PATH_MAX): longer ones refused
MAX_HANDLES = 256  # files the firmware may have open at once (each a host file descriptor)
MAX_OUTPUT_FILES = 10_000  # files it may create in --output-dir in a run
# refusals a report keeps (the first ones; the rest are counted): firmware refused in a loop
# must not grow the host's memory and the report by a few KiB a call
MAX_REFUSALS = 1000
# SYS_WRITE0 reads its string in aligned pieces of this size: a divisor of every mapped size
# (multiples of Unicorn's 1 KiB page), so a piece never crosses a region's end
_PIECE = 1024
_READ_PIECE = 1 << 16  # SYS_READ moves a file's bytes in pieces of at most this size

_NAMES = {
    SYS_TMPNAM: "SYS_TMPNAM", SYS_REMOVE: "SYS_REMOVE", SYS_RENAME: "SYS_RENAME",
    SYS_SYSTEM: "SYS_SYSTEM",
}


class Memory:
    """What the semihosting handler needs from the machine."""

    def __init__(self, read: Callable[[int, int], bytes], write: Callable[[int, bytes], None]):
        self.read = read
        self.write = write

    def word(self, addr: int, index: int = 0) -> int:
        value: int = struct.unpack("<I", self.read(addr + 4 * index, 4))[0]
        return value

    def cstring(self, addr: int) -> Iterator[bytes]:
        """The NUL-terminated string at ``addr`` in pieces, however long: it ends at its NUL,
        or with UcError where mapped memory ends."""
        at = addr
        while True:
            chunk = self.read(at, _PIECE - at % _PIECE)
            nul = chunk.find(b"\0")
            if nul >= 0:
                yield chunk[:nul]
                return
            yield chunk
            at += len(chunk)


@dataclass
class ExitRequest:
    status: int


@dataclass
class Refusal:
    operation: str
    detail: str

    def __str__(self) -> str:
        return f"{self.operation} refused: {self.detail}"


class Console:
    """The firmware's console output as a report keeps it: the first ``keep // 2`` bytes and
    the last ``keep - keep // 2``, with the count of bytes dropped in between, so a firmware
    that prints without end cannot exhaust the host. (Output is streamed to ``echo`` whole.)"""

    def __init__(self, keep: int) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self._head_cap = keep // 2
        self._tail_cap = keep - keep // 2
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self._head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        excess = len(self.tail) - self._tail_cap
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def value(self) -> bytes:
        """Head and tail (with the drop in between, if any)."""
        return bytes(self.head + self.tail)


def stdout_reader_left() -> bool:
    """Whether standard output is a pipe whose reader has gone (`| head` done): what a write
    would learn from EPIPE, asked without writing (poll's POLLERR on the pipe's write end)."""
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        poller = select.poll()
        poller.register(fd, 0)  # (POLLERR and POLLHUP are reported whatever is asked)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # closed, replaced, not a file
        return False


def _whole_utf8(data: bytes, end: int) -> int:
    """``end``, or less so that ``data[:end]`` does not end in part of a UTF-8 character."""
    for back in range(1, min(4, end) + 1):
        byte = data[end - back]
        if byte & 0xC0 != 0x80:  # a character's first byte (or ASCII)
            size = 2 if byte >> 5 == 6 else 3 if byte >> 4 == 14 else 4 if byte >> 3 == 30 else 1
            return end - back if size > back else end
    return end


class BoundedEcho:
    """The console's echo to a host stream (``ebnn-sim run``'s stdout), bounded: the first
    ``limit`` bytes go to ``write``, the rest is not echoed, and ``stopped`` is told once, with
    one line saying so. Firmware printing for ever into a redirected stdout filled the disk
    (only --timeout bounded it); the default limit is the run's budget for its files in
    --output-dir (MAX_OUTPUT_BYTES). The report keeps its head and tail as ever (Console)."""

    def __init__(self, write: Callable[[bytes], None], stopped: Callable[[str], None],
                 limit: int = MAX_OUTPUT_BYTES, what: str = "",
                 past: Callable[[], None] | None = None) -> None:
        self.write = write
        self.stopped = stopped
        self.past = past  # called for each output past the limit (has the reader left?)
        self.limit = limit
        self.what = what or f"{limit:,} bytes"  # how the limit is named to the user
        self.echoed = 0
        self.held_back = 0  # bytes past the limit, not echoed

    def __call__(self, data: bytes) -> None:
        room = self.limit - self.echoed
        if room > 0:
            piece = data[:_whole_utf8(data, room)] if len(data) > room else data
            self.echoed += len(data[:room])  # (a character cut at the limit is not echoed)
            self.write(piece)
        elif self.past is not None:
            self.past()
        if len(data) > room:
            if not self.held_back:
                self.stopped(f"console output: the firmware printed more than {self.what}: "
                             "no more of it is echoed; the run goes on, its report keeping the "
                             "output's head and tail")
            self.held_back += len(data) - max(room, 0)


@dataclass
class Semihost:
    """State of the semihosting sandbox for one run."""

    inputs: Sequence[Path] = ()
    output_dir: Path | None = None
    stdin: BinaryIO | None = None
    echo: Callable[[bytes], None] | None = None  # called with console output as it appears
    clock: Callable[[], int] = lambda: 0  # simulated cycles so far
    clock_hz: int = 1
    cmdline: bytes = b""
    heapinfo: tuple[int, int, int, int] = (0, 0, 0, 0)
    console_keep: int = 1 << 20  # console bytes kept (Console)
    refusals: list[Refusal] = field(default_factory=list)
    refusals_dropped: int = 0  # refusals past MAX_REFUSALS, counted, not kept
    # the --input files the firmware opened by name (SYS_OPEN), each its path as given
    opened_inputs: set[Path] = field(default_factory=set)
    output_limit: int = MAX_OUTPUT_BYTES  # (MAX_OUTPUT_BYTES)
    errno: int = 0

    def __post_init__(self) -> None:
        self.console = Console(self.console_keep)
        self._files: dict[int, BinaryIO | bytes] = {}
        self._positions: dict[int, int] = {}
        self._next = 3
        self._written = 0  # bytes written to files in --output-dir
        self._created = 0  # files created there
        self._paths: dict[int, Path] = {}  # each open --output-dir file's path, by handle
        self._extents: dict[Path | None, int] = {}  # each file's end as written, sparse or not
        self._extent_total = 0
        allowed: dict[str, Path] = {}
        self._ambiguous: set[str] = set()  # a base name two inputs share: open those by path
        for p in self.inputs:
            allowed[str(p)] = p
            if p.name in allowed and allowed[p.name] != p and p.name != str(allowed[p.name]):
                self._ambiguous.add(p.name)
            allowed.setdefault(p.name, p)
        self._allowed = allowed

    # --- console -------------------------------------------------------------------------
    def _out(self, data: bytes) -> None:
        self.console.add(data)
        if self.echo is not None:
            self.echo(data)

    # --- dispatcher ----------------------------------------------------------------------
    def call(self, op: int, arg: int, mem: Memory) -> int | ExitRequest:
        """Serve operation ``op`` with parameter ``arg`` (r1); returns r0 or an exit request."""
        if op in (SYS_EXIT, SYS_EXIT_EXTENDED):
            if op == SYS_EXIT_EXTENDED:
                reason, sub = mem.word(arg), mem.word(arg, 1)
            else:
                reason, sub = arg, 0
            if reason == ADP_STOPPED_APPLICATION_EXIT:
                return ExitRequest(sub if sub < 0x80000000 else sub - (1 << 32))
            return ExitRequest(1)
        if op == SYS_WRITEC:
            self._out(mem.read(arg, 1))
            return 0
        if op == SYS_WRITE0:
            for piece in mem.cstring(arg):
                self._out(piece)
            return 0
        if op == SYS_WRITE:
            return self._write(mem.word(arg), mem.word(arg, 1), mem.word(arg, 2), mem)
        if op == SYS_READ:
            return self._read(mem.word(arg), mem.word(arg, 1), mem.word(arg, 2), mem)
        if op == SYS_READC:
            data = self.stdin.read(1) if self.stdin else b""
            return data[0] if data else -1
        if op == SYS_OPEN:
            length = mem.word(arg, 2)
            if length > MAX_NAME:  # (read before the check, a firmware's 4 GiB name would be)
                self._refuse("SYS_OPEN", f"a name of {length:,} bytes: more than {MAX_NAME:,}")
                self.errno = ENAMETOOLONG
                return -1
            name = mem.read(mem.word(arg), length).decode("utf-8", "replace")
            return self._open(name, mem.word(arg, 1))
        if op == SYS_CLOSE:
            return self._close(mem.word(arg))
        if op == SYS_ISTTY:
            return 1 if mem.word(arg) in (0, 1, 2) else 0
        if op == SYS_ISERROR:
            return 1 if struct.unpack("<i", struct.pack("<I", mem.word(arg)))[0] < 0 else 0
        if op == SYS_SEEK:
            return self._seek(mem.word(arg), mem.word(arg, 1))
        if op == SYS_FLEN:
            return self._flen(mem.word(arg))
        if op == SYS_CLOCK:
            return self.clock() * 100 // self.clock_hz
        if op == SYS_TIME:
            return self.clock() // self.clock_hz
        if op == SYS_ELAPSED:
            mem.write(arg, struct.pack("<Q", self.clock()))
            return 0
        if op == SYS_TICKFREQ:
            return self.clock_hz
        if op == SYS_ERRNO:
            return self.errno
        if op == SYS_GET_CMDLINE:
            buf, size = mem.word(arg), mem.word(arg, 1)
            text = self.cmdline[: max(size - 1, 0)]
            mem.write(buf, text + b"\0")
            mem.write(arg + 4, struct.pack("<I", len(text)))
            return 0
        if op == SYS_HEAPINFO:
            mem.write(mem.word(arg), struct.pack("<4I", *self.heapinfo))
            return 0
        if op in _NAMES:
            detail = ""
            if op in (SYS_SYSTEM, SYS_REMOVE):
                detail = mem.read(mem.word(arg), min(mem.word(arg, 1), MAX_STRING)).decode(
                    "utf-8", "replace")
            return self._refuse(_NAMES[op], detail or "not allowed in the sandbox")
        return self._refuse(f"semihosting operation 0x{op:02x}", "not supported")

    def _refuse(self, operation: str, detail: str) -> int:
        if len(self.refusals) < MAX_REFUSALS:
            if len(detail) > MAX_STRING:
                detail = detail[:MAX_STRING] + "..."
            # (the firmware's text: an ESC or a newline in it reached the terminal raw)
            self.refusals.append(Refusal(operation, printable(detail, one_line=True)))
        else:
            self.refusals_dropped += 1
        self.errno = EPERM
        return -1

    # --- files -------------------------------------------------------------------------
    def _open(self, name: str, mode: int) -> int:
        writing = mode >= 4
        if "\0" in name:  # no host path can hold it (Python raises ValueError)
            return self._refuse("SYS_OPEN", f"{name!r}: NUL byte in the name")
        if name == ":tt":
            return 1 if writing else 0
        if len(self._files) >= MAX_HANDLES:
            self._refuse("SYS_OPEN", f"{name!r}: {MAX_HANDLES} files open already")
            self.errno = EMFILE
            return -1
        if name == FEATURES_FILE and not writing:
            return self._register(FEATURE_BYTES)
        if not writing:
            if name in self._ambiguous:
                self._refuse("SYS_OPEN", f"{name!r} for reading: two --input files have that "
                                         "name; open one by the path given")
                self.errno = ENOENT
                return -1
            path = self._allowed.get(name)
            if path is None:
                self._refuse("SYS_OPEN", f"{name!r} for reading: not a file passed with --input")
                self.errno = ENOENT
                return -1
            try:
                handle = self._register(path.open("rb"))
            except OSError as exc:
                self._refuse("SYS_OPEN", f"{name!r}: {exc.strerror}")
                self.errno = exc.errno or ENOENT
                return -1
            self.opened_inputs.add(path)
            return handle
        target = self._output_path(name)
        if target is None:
            where = "no --output-dir given" if self.output_dir is None else "outside --output-dir"
            return self._refuse("SYS_OPEN", f"{name!r} for writing: {where}")
        if not target.exists():
            if self._created >= MAX_OUTPUT_FILES:
                self._refuse("SYS_OPEN", f"{name!r} for writing: {MAX_OUTPUT_FILES:,} files "
                                         "created in --output-dir already")
                self.errno = ENOSPC
                return -1
            self._created += 1
        try:
            handle = self._register(_open_output(target, append=mode >= 8))
        except OSError as exc:  # e.g. a directory inside --output-dir that does not exist
            self._refuse("SYS_OPEN", f"{name!r} for writing: {exc.strerror}")
            self.errno = exc.errno or ENOENT
            return -1
        self._paths[handle] = target
        if mode < 8:  # (truncated: its old end is gone)
            self._extent_total -= self._extents.pop(target, 0)
        return handle

    def _output_path(self, name: str) -> Path | None:
        if self.output_dir is None:
            return None
        root = self.output_dir.resolve()
        target = (root / name).resolve()
        if root not in target.parents:
            return None
        return target

    def _register(self, fh: BinaryIO | bytes) -> int:
        handle = self._next
        self._next += 1
        self._files[handle] = fh
        self._positions[handle] = 0
        return handle

    def _close(self, handle: int) -> int:
        fh = self._files.pop(handle, None)
        self._positions.pop(handle, None)
        self._paths.pop(handle, None)
        if fh is None:
            return 0 if handle in (0, 1, 2) else -1
        if not isinstance(fh, bytes):
            fh.close()
        return 0

    def close_all(self) -> None:
        for handle in list(self._files):
            self._close(handle)

    def _write(self, handle: int, buf: int, length: int, mem: Memory) -> int:
        data = mem.read(buf, length)
        if handle in (1, 2):
            self._out(data)
            return 0
        fh = self._files.get(handle)
        if fh is None or isinstance(fh, bytes) or not fh.writable():
            self.errno = EBADF
            return length
        end = fh.seek(0, os.SEEK_END) if "a" in fh.mode else fh.tell()
        # the files' ends in all, sparse parts included (a seek far past the end of each of
        # many files made gigabytes of apparent size in a second)
        path = self._paths.get(handle)
        was = self._extents.get(path, 0)
        extents = self._extent_total - was + max(was, end + len(data))
        if self._written + len(data) > self.output_limit or extents > self.output_limit:
            self._refuse("SYS_WRITE", f"{len(data):,} bytes to handle {handle}: the files in "
                         f"--output-dir may take {self.output_limit:,} bytes in a run")
            self.errno = ENOSPC
            return length
        fh.write(data)
        self._written += len(data)
        self._extents[path] = max(was, end + len(data))
        self._extent_total = extents
        return 0

    def _read(self, handle: int, buf: int, length: int, mem: Memory) -> int:
        if handle == 0:
            if self.stdin is None:
                mem.write(buf, b"")
                return length
            return self._read_into(self.stdin, buf, length, mem)
        fh = self._files.get(handle)
        if fh is None:
            self.errno = EBADF
            return -1
        if isinstance(fh, bytes):
            pos = self._positions[handle]
            data = fh[pos : pos + length]
            self._positions[handle] = pos + len(data)
            mem.write(buf, data)
            return length - len(data)
        if not fh.readable():  # a file the firmware opened for writing
            self.errno = EBADF
            return length
        return self._read_into(fh, buf, length, mem)

    @staticmethod
    def _read_into(fh: BinaryIO, buf: int, length: int, mem: Memory) -> int:
        """Read up to ``length`` bytes of ``fh`` into firmware memory at ``buf``, a piece at a
        time: the length is the firmware's (up to 4 GiB) and an input file may be as large,
        so the host never holds more than a piece; a piece outside SRAM raises as mem.write
        does. Returns the bytes not read."""
        done = 0
        while done < length:
            piece = fh.read(min(_READ_PIECE, length - done))
            if not piece:
                break
            mem.write(buf + done, piece)
            done += len(piece)
        if not done:
            mem.write(buf, b"")  # (an empty read still names its buffer)
        return length - done

    def _seek(self, handle: int, pos: int) -> int:
        fh = self._files.get(handle)
        if fh is None:
            self.errno = EBADF
            return -1
        if isinstance(fh, bytes):
            self._positions[handle] = pos
        else:
            fh.seek(pos)
        return 0

    def _flen(self, handle: int) -> int:
        fh = self._files.get(handle)
        if fh is None:
            self.errno = EBADF
            return -1
        if isinstance(fh, bytes):
            return len(fh)
        return os.fstat(fh.fileno()).st_size


def _open_output(target: Path, append: bool) -> BinaryIO:
    """A file in --output-dir opened for the firmware's writes: a regular file only (created
    if need be). A FIFO there would block the run in open() for ever, where no signal or
    --timeout reaches it; a device node would write to the device. O_NONBLOCK makes the open
    of a FIFO return (or fail) at once, then anything but a regular file is refused."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | (os.O_APPEND if append else 0)
    fd = os.open(target, flags, 0o666)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)
        if not append:
            os.ftruncate(fd, 0)
        return os.fdopen(fd, "ab" if append else "wb")
    except BaseException:
        os.close(fd)
        raise

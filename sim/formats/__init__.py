"""Every output format of ``ebnn-sim``, one module per format, each taking typed results.

- :mod:`sim.formats.text`: rich tables for the terminal (run summary, profile, check, diff,
  targets);
- :mod:`sim.formats.json`: the JSON documents (run report, profile, check results);
- :mod:`sim.formats.junit`: JUnit XML of check results;
- :mod:`sim.formats.markdown`: a diff as GitHub Markdown;
- :mod:`sim.formats.speedscope`: a profile as a speedscope flame graph;
- :mod:`sim.formats.html`: a profile as one self-contained HTML page.
"""

import contextlib
import os
import stat
import tempfile
from pathlib import Path

_UMASK = os.umask(0o022)
os.umask(_UMASK)


class OutputError(Exception):
    """An output file that cannot be written; ``str()`` is one line for the user."""


def write_bytes(path: Path, data: bytes) -> None:
    """``data`` into ``path``, whole or not at all: written to a new temporary file beside it
    (a name no one can have planted: ``mkstemp``), then renamed over it, so an interrupted or
    failed command never leaves a half-written file; a file keeps its permissions (not its
    set-id bits). A symbolic link is written through, as a shell's ``>`` would (its target
    replaced, the link kept; a dangling link's folder is not created). A stream, i.e. a device,
    a FIFO, or a process's open descriptor (``/dev/stdout``, ``/proc/self/fd/1``, even when it
    leads to a file), is appended to and never replaced. The parent folders of a new path are
    created. OSError (naming ``path``) when it cannot be written."""
    resolved = os.path.realpath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "it is a directory")
    if names_a_descriptor(path) or (mode is not None and not stat.S_ISREG(mode)):
        with open(path, "ab") as fh:  # at the stream's end: a log >>'d to keeps its lines
            fh.write(data)
        return
    target = Path(resolved)
    if not os.path.islink(path):
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:32]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, stat.S_IMODE(mode) & 0o777 if mode is not None else 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # a full disk: name the file
            exc.filename = str(path)
        raise


def names_a_descriptor(path: Path) -> bool:
    """Whether ``path`` or a link on the way to it is a process's descriptor (/dev/stdout,
    /dev/fd/N, /proc/PID/fd/N): replacing what it leads to would cut the file the shell
    redirected the output to from the process writing it."""
    prefixes = ("/dev/std", "/dev/fd/", "/proc/")
    p = os.path.abspath(path)
    for _ in range(40):  # the kernel's limit on a chain of links
        if p.startswith(prefixes):
            return True
        if not os.path.islink(p):
            return False
        p = os.path.join(os.path.dirname(p), os.readlink(p))
    return False


def write_text(path: Path, text: str) -> None:
    """``text`` (UTF-8) into ``path`` by :func:`write_bytes`; OutputError with one line when it
    cannot be written."""
    try:
        write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_writable(path: Path | None) -> None:
    """OutputError unless ``path`` could be written: it is not a directory, and its nearest
    existing ancestor is a directory it may write in (a device or FIFO: that it may be written).
    Commands call this before a long run, so that a typo in an output path or a read-only
    disk does not cost the run."""
    if path is None:
        return
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if path.exists() and not path.is_file():  # a device or FIFO: written to in place
        if not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {path}: not writable (permissions, or a read-only "
                              "file system)")
        return
    # a file (existing or not) is replaced by a new one in its folder: the folder's rights
    for parent in Path(os.path.realpath(path)).parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {path}: {parent} is not a directory")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"cannot write {path}: {parent} is not writable "
                                  "(permissions, or a read-only file system)")
            return

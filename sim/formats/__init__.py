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
    failed command never leaves a half-written file. A symbolic link is written through (its
    target replaced, the link kept); a device or FIFO (``/dev/stdout``) is written into, never
    replaced. Parent directories are created. OSError when it cannot be written."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "it is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as fh:
            fh.write(data)
        return
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    """``text`` (UTF-8) into ``path`` by :func:`write_bytes`; OutputError with one line when it
    cannot be written."""
    try:
        write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_writable(path: Path | None) -> None:
    """OutputError unless ``path`` could be written: it is not a directory, and its nearest
    existing ancestor is a directory. Commands call this before a long run, so that a typo in
    an output path does not cost the run."""
    if path is None:
        return
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {path}: {parent} is not a directory")
            return

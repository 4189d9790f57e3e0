"""Outputs that would replace a command's own inputs, refused before any work.

``ebnn export a.pt -o a.pt`` replaced the trained checkpoint with its export, ``ebnn-sim run
fw.elf --json fw.elf`` the firmware with its report, ``ebnn train c.toml -o m.png`` the model
with its curves: every command of ``ebnn`` and ``ebnn-sim`` is a :class:`GuardedCommand`, which
compares the files a command will write (its ``-o``/``--json``/``--junit``/``--html``/
``--speedscope``/``--vcd``/``--save-bytes`` options and the files derived from them) with the
paths it was given to read, and with each other, through links too, and checks that each can be
written, all before the command does any work. It also ends every command alike where click and
rich would not: 130 for a Ctrl-C outside the command's own handling, 141 when the reader of its
output leaves (:class:`PipeConsole`). Light on purpose: ``ebnn --help`` imports it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from sim.formats import OutputError, check_writable, names_a_descriptor
from sim.interrupts import signals_interrupt

# the parameters naming a file a command writes (every other path parameter is read)
OUTPUT_PARAMS = frozenset({"output", "json_path", "junit_path", "html_path", "speedscope_path",
                           "vcd_path", "bytes_path"})
# a command's files written beside an output, from its parameters: what each is called
Derived = Callable[[Mapping[str, Any]], Mapping[str, Path]]


def _identity(path: Path) -> tuple[object, ...] | None:
    """What tells two names of one file apart from two files: the inode when it exists (a hard
    link too), else the path with every link resolved. None for a device or FIFO (a terminal
    is both /dev/stdin and /dev/stdout: not one file replacing another), and for a process's
    descriptor (/dev/stdout and /dev/stderr redirected to one log are appended to, not
    replaced)."""
    if names_a_descriptor(path):
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        try:
            return ("path", os.path.realpath(path))
        except (OSError, ValueError):
            return None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return None
    return ("inode", st.st_dev, st.st_ino)


def _paths(value: Any) -> list[Path]:
    """The files a parameter's value names: a path, paths, or the file of a spec that holds
    one (``--analog 3=accel.csv``, ``--pin PA0=button.csv``)."""
    if isinstance(value, list | tuple):
        return [p for v in value for p in _paths(v)]
    path = value if isinstance(value, Path) else getattr(value, "path", None)
    return [path] if isinstance(path, Path) else []


def clash(outputs: Mapping[str, Path], inputs: Iterable[Path]) -> str | None:
    """A one-line message when an output is the same file as an input or as another output,
    else None. ``outputs``: what each output is (``--json``) -> its path."""
    seen: dict[tuple[object, ...], str] = {}
    for path in inputs:
        key = _identity(path)
        if key is not None:
            seen.setdefault(key, f"the input {path}")
    for what, path in outputs.items():
        key = _identity(path)
        if key is None:
            continue
        if key in seen:
            return f"{what} {path} would replace {seen[key]}: give it another name"
        seen[key] = f"{what} ({path})"
    return None


class GuardedCommand(click.Command):
    """A command whose outputs may not replace its inputs (or each other): one line, exit 2,
    before the command runs. ``derived`` names the files it writes beside its outputs."""

    def __init__(self, *args: Any, derived: Derived | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.derived = derived

    def invoke(self, ctx: click.Context) -> Any:
        params = ctx.params
        # the outputs that are files: a search's or export-c's output folder is written into,
        # and may be what it reads (`ebnn search --report DIR -o DIR`)
        outputs: dict[str, Path] = {}
        inputs: list[Path] = []
        for param in self.params:
            name = param.name or ""
            paths = _paths(params.get(name))
            if name not in OUTPUT_PARAMS:
                inputs += paths
            elif paths and isinstance(param.type, click.Path) and not param.type.dir_okay:
                outputs[max(param.opts, key=len) if param.opts else name] = paths[0]
        if self.derived is not None:
            outputs.update(self.derived(params))
        message = clash(outputs, inputs)
        dash = next((what for what, path in outputs.items() if str(path) == "-"), None)
        if dash is not None:  # it would be a file named '-', not standard output
            message = (f"{dash} -: give a file name ('-' is not standard output here; "
                       "/dev/fd/1 is)")
        try:  # before the work: a read-only disk found after an hour of training costs it
            for path in outputs.values():
                check_writable(path)
        except OutputError as exc:
            message = message or str(exc)
        if message is not None:
            click.echo(f"error: {message}", err=True)
            sys.exit(2)
        try:
            with signals_interrupt():  # SIGTERM as Ctrl-C, wherever the command is
                return super().invoke(ctx)
        except KeyboardInterrupt:  # outside a command's own handling (start-up, data loading):
            click.echo("interrupted", err=True)  # 130 as everywhere, not click's 'Aborted!' 1
            sys.exit(130)
        except BrokenPipeError:  # printed by click or print(): as PipeConsole's
            reader_left()
        except MemoryError:  # an input no check bounded: one line, not a traceback
            click.echo("error: out of host memory: an input asks for more than this machine "
                       "can give", err=True)
            sys.exit(2)


class GuardedGroup(click.Group):
    """A group whose commands are :class:`GuardedCommand`."""

    command_class = GuardedCommand


def reader_left() -> NoReturn:
    """``ebnn-sim run fw.elf | head -1``: the reader left. Exit 141, as a process SIGPIPE
    ends (rich and click exit 1, which is run's 'the firmware exited non-zero'); the streams
    go to /dev/null so that Python's flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(devnull, stream.fileno())
    sys.exit(141)


class PipeConsole(Console):
    """The commands' rich console: a reader that leaves ends the command with 141."""

    def on_broken_pipe(self) -> None:
        reader_left()

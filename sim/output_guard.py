"""Outputs that would replace a command's own inputs, refused before any work.

``ebnn export a.pt -o a.pt`` replaced the trained checkpoint with its export, ``ebnn-sim run
fw.elf --json fw.elf`` the firmware with its report, ``ebnn train c.toml -o m.png`` the model
with its curves: every command of ``ebnn`` and ``ebnn-sim`` is a :class:`GuardedCommand`, which
compares the files a command will write (its ``-o``/``--json``/``--junit``/``--html``/
``--speedscope``/``--vcd``/``--save-bytes`` options and the files derived from them) with the
paths it was given to read, and with each other, through links too, and checks that each can be
written, all before the command does any work. It also ends every command alike where click and
rich would not: 130 for a Ctrl-C outside the command's own handling, 141 when the reader of its
output leaves (:class:`PipeConsole`). A command's ``error_reports`` writes the reports that say
why it stopped with exit 2 before its own code ran (a usage error click found, an output refused
here: ``check --junit``, ``run --json``), as its own exit-2 reports do. Light on purpose:
``ebnn --help`` imports it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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


@dataclass
class Stopped:
    """A command stopped with exit 2 before its own work (a usage error, an output refused, a
    host out of memory): what its error reports (``check --junit``, ``run --json``) can know.
    """

    message: str  # the one line the command printed after "error: " / click's "Error: "
    # the outputs that may still be written, by parameter name (those whose own path is the
    # problem, or that would replace an input or each other, left out)
    outputs: dict[str, Path]
    inputs: list[Path]  # the files it was given to read, as far as they are known
    given: dict[str, str]  # the text each parameter was given (by name; the last of several)


# a command's writer of its reports on an exit 2 before its own work
ErrorReports = Callable[[Stopped], None]


class GuardedCommand(click.Command):
    """A command whose outputs may not replace its inputs (or each other): one line, exit 2,
    before the command runs. ``derived`` names the files it writes beside its outputs;
    ``error_reports`` writes the reports that should say why a run stopped with exit 2 before
    the command's own code (a CI job publishing them finds them, not none or an old one): on
    a usage error click finds, on an output refused here, on a host out of memory."""

    def __init__(self, *args: Any, derived: Derived | None = None,
                 error_reports: ErrorReports | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.derived = derived
        self.error_reports = error_reports

    def _outputs(self, params: Mapping[str, Any]) -> tuple[dict[str, tuple[str, Path]],
                                                           list[Path]]:
        """The outputs that are files (parameter name -> (option, path)) and the inputs."""
        # the outputs that are files: a search's or export-c's output folder is written into,
        # and may be what it reads (`ebnn search --report DIR -o DIR`)
        outputs: dict[str, tuple[str, Path]] = {}
        inputs: list[Path] = []
        for param in self.params:
            name = param.name or ""
            paths = _paths(params.get(name))
            if name not in OUTPUT_PARAMS:
                inputs += paths
            elif paths and isinstance(param.type, click.Path) and not param.type.dir_okay:
                outputs[name] = (max(param.opts, key=len) if param.opts else name, paths[0])
        return outputs, inputs

    def invoke(self, ctx: click.Context) -> Any:
        params = ctx.params
        outputs, inputs = self._outputs(params)
        named = {what: path for what, path in outputs.values()}
        if self.derived is not None:
            named.update(self.derived(params))
        message = clash(named, inputs)
        dash = next((what for what, path in named.items() if str(path) == "-"), None)
        if dash is not None:  # it would be a file named '-', not standard output
            message = (f"{dash} -: give a file name ('-' is not standard output here; "
                       "/dev/fd/1 is)")
        try:  # before the work: a read-only disk found after an hour of training costs it
            for path in named.values():
                check_writable(path)
        except OutputError as exc:
            message = message or str(exc)
        given = {name: str(value) for name, value in params.items()
                 if isinstance(value, str | Path)}
        if message is not None:
            self._reports(Stopped(message, _writable(outputs, inputs), inputs, given))
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
            message = ("out of host memory: an input asks for more than this machine can "
                       "give")
            self._reports(Stopped(message, _writable(outputs, inputs), inputs, given))
            click.echo(f"error: {message}", err=True)
            sys.exit(2)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # (click's parser consumes the list)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # bad option value, unknown option, missing argument
            if self.error_reports is not None and not ctx.resilient_parsing:
                self._reports(self._stopped_in_parsing(exc, given))
            raise

    def _stopped_in_parsing(self, exc: click.UsageError, args: list[str]) -> Stopped:
        """What the arguments click refused say, read as its parser reads them, as texts
        (a value that cannot be converted may be the error). Every text given but the
        outputs' is taken for an input an output must not replace, and the file of a spec
        (``3=accel.csv@1kHz``) too: a --json naming the file of a --pin spec click refused
        is not written over it."""
        given, texts = _read_args(self, args)
        bad = {exc.param.name} if isinstance(exc, click.BadParameter) and exc.param else set()
        outputs: dict[str, tuple[str, Path]] = {}
        for param in self.params:
            name = param.name or ""
            if (name in OUTPUT_PARAMS and name in given and name not in bad
                    and isinstance(param.type, click.Path) and not param.type.dir_okay):
                outputs[name] = (max(param.opts, key=len), Path(given[name]))
        inputs = [Path(t) for text in texts for t in _spec_paths(text)]
        return Stopped(exc.format_message(), _writable(outputs, inputs, warn=True), inputs,
                       given)

    def _reports(self, stopped: Stopped) -> None:
        """The command's error reports, if it has any; one that cannot be written is a
        warning (the error that stopped the command is the one to say)."""
        if self.error_reports is None:
            return
        try:
            self.error_reports(stopped)
        except (OutputError, OSError) as exc:
            click.echo(f"warning: {exc}", err=True)


def _writable(outputs: Mapping[str, tuple[str, Path]], inputs: list[Path],
              warn: bool = False) -> dict[str, Path]:
    """The outputs that may be written: each a file name ('-' is not), not an input's or
    another output's file, in a folder it can be written in; with ``warn``, a warning for
    each of the others (when the error said something else)."""
    ok: dict[str, Path] = {}
    for name, (what, path) in outputs.items():
        others = {w: p for n, (w, p) in outputs.items() if n != name}
        why = clash({what: path}, [*inputs, *others.values()])
        if str(path) == "-":
            why = f"{what} -: '-' is not standard output here"
        try:
            check_writable(path)
        except OutputError as exc:
            why = why or str(exc)
        if why is None:
            ok[name] = path
        elif warn:
            click.echo(f"warning: {why}; not written", err=True)
    return ok


def _read_args(command: click.Command, args: list[str]) -> tuple[dict[str, str], list[str]]:
    """The text each of ``command``'s parameters was given in ``args`` (the last of several),
    and every other text given (the values of options that are not outputs, arguments,
    unknown options), as click's parser reads them: an option taking a value takes the next
    argument, whatever it looks like."""
    takes: dict[str, tuple[str, bool]] = {}  # option -> (parameter, takes a value)
    arguments: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                takes[opt] = (param.name or "", not param.is_flag and not param.count)
        elif param.nargs == 1:
            arguments.append(param.name or "")
    given: dict[str, str] = {}
    texts: list[str] = []
    positional: list[str] = []
    rest = iter(args)

    def take(param: str, value: str | None) -> None:
        if value is not None:  # (None: missing, the error)
            given[param] = value
            if param not in OUTPUT_PARAMS:
                texts.append(value)

    for arg in rest:
        if arg == "--":
            positional += rest
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        if arg.startswith("--"):
            opt, eq, value = arg.partition("=")
            known = takes.get(opt)
            if known is None or not known[1]:
                texts += [arg, value] if eq else [arg]
            else:
                take(known[0], value if eq else next(rest, None))
            continue
        for i, char in enumerate(arg[1:], 2):  # -q, -qt stm32l031, -tstm32l031
            known = takes.get(f"-{char}")
            if known is None:
                texts.append(arg)
                break
            if known[1]:
                take(known[0], arg[i:] or next(rest, None))
                break
    texts += positional
    for name, text in zip(arguments, positional, strict=False):
        given[name] = text
    return given, [t for t in texts if t]


def _spec_paths(text: str) -> list[str]:
    """The files ``text`` may name: itself, and what follows a spec's ``=`` without its
    ``@RATE``."""
    _, eq, file = text.partition("=")
    paths = [text, file, file.rpartition("@")[0]] if eq else [text]
    return [p for p in paths if p]


class GuardedGroup(click.Group):
    """A group whose commands are :class:`GuardedCommand`."""

    command_class = GuardedCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # (click's parser consumes the list)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # `ebnn-sim --verbose check --junit j.xml`: the
            # command's reports say why, as for its own usage errors
            name = next((a for a in given if not a.startswith("-")), None)
            command = self.commands.get(name or "")
            if (isinstance(command, GuardedCommand) and command.error_reports is not None
                    and not ctx.resilient_parsing):
                rest = given[given.index(name or "") + 1:]
                command._reports(command._stopped_in_parsing(exc, rest))
            raise


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

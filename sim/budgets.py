"""Memory and time budgets for firmware, checked in CI by ``ebnn-sim check``.

Budgets live in ``pyproject.toml`` under ``[tool.ebnn-sim]``, or in a TOML file given with
``--config`` (where top-level ``[[budget]]`` tables work too), one table per ELF or glob::

    [[tool.ebnn-sim.budget]]
    elf = "build/*.elf"     # glob, relative to the directory of the file that says it
    sram = "15k"            # peak SRAM: static + stack peak + heap peak
    flash = "64k"           # flash used by the image
    stack = "1k"            # stack peak
    cycles = 512000         # estimated cycles of the whole run; or ms = 16 at the core's clock
    instructions = 400000   # exact instruction count
    target = "curie"        # default: the target recorded in the ELF
    input = "digit.png"     # file(s) handed to the firmware, the first also its console input
    analog = "3=accel.csv"  # volts for an ADC pin (or a list; "3=accel.csv@100Hz": timed)
    pin = "PA0=button.csv"  # levels for a GPIO pin (or a list; "PA0=1": held all along)
    reset_clock = true      # start at the part's own reset clock (stm32l031: MSI)
    allow_resets = 2        # resets (a watchdog's, SYSRESETREQ) after which the firmware goes on
    max_instructions = 100000000
    timeout = 60            # seconds of wall time per run (default 120)
    run_for = "500ms"       # device time, then the run ends ok (firmware that never exits)

Every matched ELF runs once (per distinct target/input/analog/pin/limits) in the simulator with the
target's SRAM and flash mapped (larger only when the image was linked for more), and every
budget is compared with what the run measured. Exit codes of ``check``: 0 every budget
met, 3 a budget broken, 4 a firmware faulted, hit a limit or exited non-zero, 2 bad config.
"""

import glob
import itertools
import math
import os
import string
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sim import session, toml_guard
from sim.analog import AnalogSpec, check_specs, parse_spec
from sim.budget_check import COUNT_METRICS, METRICS, SIZE_METRICS, Check, compare
from sim.counts import parse_count
from sim.durations import format_duration, out_of_range, parse_duration
from sim.elf import FirmwareImage
from sim.function_names import AmbiguousFunction, NamedFunction, base_name
from sim.i2c_targets import I2cSpec
from sim.i2c_targets import check_specs as check_i2c_specs
from sim.i2c_targets import parse_spec as parse_i2c
from sim.output_guard import clash
from sim.pins import PinSpec
from sim.pins import parse_spec as parse_pin
from sim.profile import Profile, Profiler
from sim.report import (
    EXIT_FAULT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OVER_BUDGET,
    EXIT_USAGE,
    HEAP_UNTRACKED,
    SHARED_STACKS,
    RunReport,
    console_input_note,
)
from sim.resets import MAX_RESETS
from sim.runner import (
    MAX_INSTRUCTIONS,
    MAX_RUN_FOR,
    MAX_TIMEOUT,
    MIN_RUN_FOR,
    MIN_TIMEOUT,
    Simulator,
)
from sim.session import RunSpec, SessionError
from sim.spi_targets import SpiSpec
from sim.spi_targets import check_specs as check_spi_specs
from sim.spi_targets import parse_spec as parse_spi
from toolchain.profiles import TARGETS
from toolchain.sizes import parse_size

T = TypeVar("T")
MAX_MATCHES = 10_000  # paths one elf glob may match
MAX_CONFIG_BYTES = 1 << 20  # a budgets file (pyproject.toml or --config) read
MAX_WALK = 100_000  # folders one elf glob's ** may walk (from "/": the whole file system)
DEFAULT_TIMEOUT = 120.0  # seconds of wall time per run, so a hung firmware cannot hang CI

_RUN_KEYS = ("target", "input", "analog", "pin", "i2c", "spi", "reset_clock", "allow_resets",
             "strict_peripherals", "max_instructions", "timeout", "run_for")
KNOWN_KEYS = ("elf", *METRICS, "ms", "function", "call_cycles", "thread_stack", *_RUN_KEYS)


class BudgetError(Exception):
    """Bad or missing configuration, or nothing to check; ``str()`` is one line for the user."""


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """One budget table: limits for every ELF its glob(s) match."""

    where: str  # "pyproject.toml, budget 2": for messages
    elf: tuple[str, ...]  # globs as written
    limits: dict[str, int]  # metric -> limit (bytes, cycles, instructions)
    ms: float | None = None  # a cycles budget in milliseconds of device time
    function: str | None = None  # with call_cycles: a budget for its longest call
    call_cycles: int | None = None
    # every thread stack's peak (an RTOS task's, on PSP): ("%", percent of its object's size)
    # or ("B", bytes)
    thread_stack: tuple[str, float] | None = None
    target: str | None = None
    inputs: tuple[Path, ...] = ()
    max_instructions: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    run_for: float | None = None  # seconds of device time
    reset_clock: bool = False  # the part's own clock at reset (RunSpec.reset_clock)
    allow_resets: int = 0  # resets the firmware goes on after (RunSpec.allow_resets)
    strict_peripherals: bool = False  # an unmodelled device register faults the run
    analog: tuple[AnalogSpec, ...] = ()  # volts for the ADC's pins (sim/analog.py)
    pins: tuple[PinSpec, ...] = ()  # levels for the GPIO pins (sim/pins.py)
    i2c: tuple[I2cSpec, ...] = ()  # devices on the I2C bus (sim/i2c_targets.py)
    spi: tuple[SpiSpec, ...] = ()  # devices on the SPI bus (sim/spi_targets.py)


@dataclass
class BudgetConfig:
    path: Path  # the TOML file the budgets came from
    budgets: list[Budget]

    @property
    def base(self) -> Path:
        """Directory that relative paths in the file are resolved against."""
        return self.path.parent


def find_config(cwd: Path | None = None) -> Path:
    """``./pyproject.toml`` when it exists; BudgetError otherwise."""
    path = (cwd or Path.cwd()) / "pyproject.toml"
    if not path.is_file():
        raise BudgetError(
            "no budgets: no pyproject.toml in the current directory; add "
            "[[tool.ebnn-sim.budget]] tables to one or pass --config FILE")
    return path


def load_config(path: Path | None = None, cwd: Path | None = None) -> BudgetConfig:
    """Budgets from ``path`` (a pyproject.toml or a standalone TOML file), or from
    ``./pyproject.toml`` when ``path`` is None. BudgetError with one line on any problem."""
    standalone = path is not None
    path = Path(path) if path is not None else find_config(cwd)
    if path.is_dir():
        raise BudgetError(f"{path}: a directory; --config takes a TOML file")
    if not path.is_file():
        raise BudgetError(f"{path}: config file not found")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:  # (a budgets file is a few KB)
            raise BudgetError(f"{path}: {path.stat().st_size:,} bytes, more than the "
                              f"{MAX_CONFIG_BYTES >> 20} MiB read of a budgets file")
        data = toml_guard.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BudgetError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BudgetError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise BudgetError(f"{path}: invalid TOML: nested too deeply") from None
    return parse_config(data, path.resolve(), standalone=standalone)


def parse_config(data: dict[str, Any], path: Path, standalone: bool = True) -> BudgetConfig:
    """Budgets from parsed TOML. ``[[tool.ebnn-sim.budget]]`` always counts; top-level
    ``[[budget]]`` only in a standalone file (``standalone``) not named pyproject.toml, so a
    pyproject.toml means the same with --config or without. A key that is not a budget table
    where one is expected (``[[budgets]]``, ``[[tool.ebnn-sim.budgets]]``) is an error: a typo
    must not check nothing."""
    name = path.name
    standalone = standalone and name != "pyproject.toml"
    tool = data.get("tool", {})
    section = tool.get("ebnn-sim") if isinstance(tool, dict) else None
    if section is not None and not isinstance(section, dict):
        raise BudgetError(f"{name}: [tool.ebnn-sim] must be a table")
    for key in section or {}:
        if key != "budget":
            raise BudgetError(f"{name}: unknown key {key!r} in [tool.ebnn-sim] (known: "
                              "budget, as [[tool.ebnn-sim.budget]] tables)")
    for key in data:
        if standalone and key not in ("budget", "tool"):
            raise BudgetError(f"{name}: unknown table {key!r} (budgets are [[budget]] or "
                              "[[tool.ebnn-sim.budget]] tables)")
        if not standalone and key in ("budget", "budgets"):
            raise BudgetError(f"{name}: [[{key}]] is not read from a pyproject.toml: write "
                              "[[tool.ebnn-sim.budget]]")
    tables: list[tuple[str, Any]] = []
    for prefix, holder in (("tool.ebnn-sim.budget", section),
                           ("budget", data if standalone else None)):
        if holder is None or "budget" not in holder:
            continue
        raw = holder["budget"]
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, list):
            raise BudgetError(f"{name}: {prefix} must be a table or an array of tables "
                              f"([[{prefix}]])")
        tables += [(prefix, t) for t in raw]
    if not tables:
        where = "[[tool.ebnn-sim.budget]] or [[budget]]" if standalone else \
            "[[tool.ebnn-sim.budget]]"
        raise BudgetError(f"no budgets in {path}: add {where} tables (elf = \"...\", sram = ...)")
    budgets = [_parse_table(t, f"{name}, budget {i} ([[{prefix}]])", path.parent)
               for i, (prefix, t) in enumerate(tables, 1)]
    return BudgetConfig(path, budgets)


def _parse_table(table: Any, where: str, base: Path) -> Budget:
    def bad(msg: str) -> BudgetError:
        return BudgetError(f"{where}: {msg}")

    if not isinstance(table, dict):
        raise bad("must be a table")
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise bad(f"unknown key {unknown[0]!r} (known: {', '.join(KNOWN_KEYS)})")
    elf = table.get("elf")
    if isinstance(elf, str):
        elf = [elf]
    if not elf or not isinstance(elf, list) or not all(isinstance(e, str) and e for e in elf):
        raise bad('needs elf = "path/or/*.elf" (a glob or a list of globs)')

    limits: dict[str, int] = {}
    for key in SIZE_METRICS:
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise bad(f"{key} = {value!r}: expected a size such as \"15k\" or 15360")
            try:
                limits[key] = parse_size(value)
            except ValueError as exc:
                raise bad(f"{key}: {exc}") from None
    for key in COUNT_METRICS:
        if key in table:
            limits[key] = _count(table[key], key, bad)
    ms = None
    if "ms" in table:
        if "cycles" in table:
            raise bad("give cycles or ms, not both")
        ms = _milliseconds(table["ms"], bad)
    function, call_cycles = table.get("function"), None
    if ("function" in table) != ("call_cycles" in table):
        raise bad('a function budget takes both: function = "name" and call_cycles = N (the '
                  "most cycles one call of it may take)")
    if function is not None:
        if not isinstance(function, str) or not function.strip():
            raise bad(f"function = {function!r}: the name of a function in the ELF")
        call_cycles = _count(table["call_cycles"], "call_cycles", bad)
    thread_stack = _thread_stack(table["thread_stack"], bad) if "thread_stack" in table else None
    if not limits and ms is None and call_cycles is None and thread_stack is None:
        raise bad(f"sets no budget: give at least one of {', '.join(METRICS)}, ms, "
                  "thread_stack, function with call_cycles")

    target = table.get("target")
    if target is not None and target not in TARGETS:
        raise bad(f"unknown target {target!r} (known: {', '.join(TARGETS)})")
    raw_inputs = table.get("input", [])
    if isinstance(raw_inputs, str):
        raw_inputs = [raw_inputs]
    if not isinstance(raw_inputs, list) or not all(isinstance(p, str) for p in raw_inputs):
        raise bad("input must be a file name or a list of file names")
    inputs = tuple(base / p for p in raw_inputs)
    for p in inputs:
        if not p.is_file():
            raise bad(f"input file not found: {p}")
    try:
        analog = _specs(table, "analog", lambda a: parse_spec(a, base), "CHANNEL=FILE[@RATE]")
        check_specs(list(analog))
        pins = _specs(table, "pin", lambda a: parse_pin(a, base), "PIN=FILE, PIN=0 or PIN=1")
        i2c = _specs(table, "i2c", lambda a: parse_i2c(a, base), "ADDR=FILE")
        check_i2c_specs(list(i2c))
        spi = _specs(table, "spi", lambda a: parse_spi(a, base), "CS=FILE")
        check_spi_specs(list(spi), string.ascii_uppercase)  # (the target's ports: at the run)
    except ValueError as exc:
        raise bad(str(exc)) from None
    files = ([("analog", a.path) for a in analog] + [("pin", p.path) for p in pins]
             + [("i2c", t.path) for t in i2c] + [("spi", t.path) for t in spi])
    for kind, path in files:
        if path is not None and not path.is_file():
            raise bad(f"{kind} input file not found: {path}")
    max_insns = None
    if "max_instructions" in table:
        max_insns = _int(table["max_instructions"], "max_instructions", bad, minimum=1)
        if max_insns > MAX_INSTRUCTIONS:
            raise bad(f"max_instructions = {max_insns}: at most {MAX_INSTRUCTIONS}")
    timeout = DEFAULT_TIMEOUT
    if "timeout" in table:
        timeout = _number(table["timeout"], "timeout", bad)
        if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
            raise bad(f"timeout = {timeout:g}: a time limit from {MIN_TIMEOUT:g} to "
                      f"{MAX_TIMEOUT:g} seconds")
    run_for = None
    if "run_for" in table:
        value = table["run_for"]
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ValueError(f"not a duration: {value!r}")
            run_for = parse_duration(value)
        except ValueError as exc:
            raise bad(f"run_for: {exc}") from None
        if not MIN_RUN_FOR <= run_for <= MAX_RUN_FOR:
            raise bad("run_for = " + out_of_range(value, MIN_RUN_FOR, MAX_RUN_FOR))
    reset_clock, strict = table.get("reset_clock", False), table.get("strict_peripherals", False)
    for key, flag in (("reset_clock", reset_clock), ("strict_peripherals", strict)):
        if not isinstance(flag, bool):
            raise bad(f"{key} = {flag!r}: true or false")
    allow_resets = _int(table.get("allow_resets", 0), "allow_resets", bad, minimum=0)
    if allow_resets > MAX_RESETS:
        raise bad(f"allow_resets = {allow_resets}: at most {MAX_RESETS:,}")
    return Budget(where=where, elf=tuple(elf), limits=limits, ms=ms, function=function,
                  call_cycles=call_cycles, thread_stack=thread_stack, target=target,
                  inputs=inputs, max_instructions=max_insns, timeout=timeout, run_for=run_for,
                  analog=analog, pins=pins, i2c=i2c, spi=spi, reset_clock=reset_clock,
                  allow_resets=allow_resets, strict_peripherals=strict)


def _specs(table: dict[str, Any], key: str, parse: Callable[[str], T],
           form: str) -> tuple[T, ...]:
    """A table's ``key``: one spec string or a list of them (``form`` says how one is
    written), parsed; ValueError with one line otherwise."""
    raw = table.get(key, [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise ValueError(f"{key} must be {form}, or a list of them")
    return tuple(parse(a) for a in raw)


def _thread_stack(value: Any, bad: Callable[[str], BudgetError]) -> tuple[str, float]:
    """``thread_stack``: a share of each thread stack ("90%") or a size ("512", "1k")."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            share = float(value.strip()[:-1])
        except ValueError:
            share = -1.0
        if not 0 < share <= 100:
            raise bad(f"thread_stack = {value!r}: a share of each thread stack above 0% up to "
                      "100%, or a size such as \"512\"")
        return "%", share
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad(f"thread_stack = {value!r}: a share such as \"90%\" or a size such as \"512\"")
    try:
        return "B", float(parse_size(value))
    except ValueError as exc:
        raise bad(f"thread_stack: {exc}") from None


def _count(value: Any, key: str, bad: Callable[[str], BudgetError]) -> int:
    """A count budget: a whole number, or a string such as "120k" or "1.5M" (sim/counts.py)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad(f"{key} = {value!r}: give a whole number, e.g. 120000 or \"120k\"")
    try:
        n = parse_count(value)
    except ValueError as exc:
        raise bad(f"{key} = {exc}") from None
    if n < 0:
        raise bad(f"{key} = {value!r}: expected a whole number >= 0")
    return n


def _int(value: Any, key: str, bad: Callable[[str], BudgetError], minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise bad(f"{key} = {value!r}: expected a whole number >= {minimum}")
    return value


def _milliseconds(value: Any, bad: Callable[[str], BudgetError]) -> float:
    """``ms``: a number of milliseconds, or a time with its unit ("5ms", "500us", "0.02s"), as
    run_for and the command line's millisecond options take it."""
    if isinstance(value, str):
        try:
            return _number(float(value), "ms", bad)
        except ValueError:
            pass
        try:
            return parse_duration(value) * 1_000
        except ValueError:
            raise bad(f"ms = {value!r}: expected a positive number of milliseconds, or a "
                      "time such as \"500us\"") from None
    return _number(value, "ms", bad)


def _number(value: Any, key: str, bad: Callable[[str], BudgetError]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
            or not math.isfinite(value):
        raise bad(f"{key} = {value!r}: expected a positive number")
    return float(value)


# --- matching and running --------------------------------------------------------------------


@dataclass(frozen=True)
class _RunKey:
    elf: Path
    target: str | None
    inputs: tuple[Path, ...]
    max_instructions: int | None
    timeout: float
    run_for: float | None
    analog: tuple[AnalogSpec, ...] = ()
    pins: tuple[PinSpec, ...] = ()
    i2c: tuple[I2cSpec, ...] = ()
    spi: tuple[SpiSpec, ...] = ()
    reset_clock: bool = False
    allow_resets: int = 0
    strict_peripherals: bool = False


def _bounded_walk(pattern: str, base: Path, where: str) -> None:
    """BudgetError unless the folders ``pattern``'s ``**`` walks are few enough: one ``**``
    at most (several over a deep chain of folders multiply without end), and at most
    MAX_WALK folders below where it starts (``/**/x.elf`` walked the whole file system)."""
    parts = Path(pattern).parts
    if sum("**" in p for p in parts) > 1:
        raise BudgetError(f"{where}: elf = {pattern!r}: give one ** at most (several walk "
                          "every folder again for each)")
    if not any("**" in p for p in parts):
        return
    fixed = list(itertools.takewhile(lambda p: not glob.has_magic(p), parts))
    root = base.joinpath(*fixed) if fixed else base
    for walked, _ in enumerate(os.walk(root), 1):  # (links to folders not followed)
        if walked > MAX_WALK:
            raise BudgetError(f"{where}: elf = {pattern!r} walks more than {MAX_WALK:,} "
                              f"folders from {root}: start it lower")


def _walked(hits: Iterator[str], pattern: str, where: str) -> Iterator[str]:
    """``hits``, a folder that vanished or cannot be read while they are walked a BudgetError
    (a /proc entry, say)."""
    try:
        yield from hits
    except OSError as exc:
        raise BudgetError(f"{where}: elf = {pattern!r}: cannot walk {exc.filename}: "
                          f"{exc.strerror}") from None


def _glob(pattern: str, base: Path) -> Iterator[str]:
    """The paths ``pattern`` matches, relative to ``base`` (absolute for an absolute
    pattern), as glob.iglob gives them, but with pathlib's ``**``, which follows no link to a
    folder (glob's did: /proc/self/root made ``/**/x.elf`` walk for ever)."""
    if not glob.has_magic(pattern):
        if (base / pattern).exists():
            yield pattern
        return
    p = Path(pattern)
    if p.is_absolute():
        root = Path(p.anchor)
        for hit in root.glob(str(p.relative_to(root))):
            yield str(hit)
    else:
        for hit in base.glob(pattern):
            yield os.path.relpath(hit, base) if ".." in p.parts else str(hit.relative_to(base))


def match(config: BudgetConfig, written: dict[Path, str] | None = None
          ) -> dict[_RunKey, list[Budget]]:
    """The runs to do, each with the budgets it is checked against; BudgetError when a glob
    matches no file. ``written`` gets each file as a relative glob reached it
    (``../fw/a.elf``): how it is shown when it lies outside the config's folder."""
    runs: dict[_RunKey, list[Budget]] = {}
    for budget in config.budgets:
        for pattern in budget.elf:
            _bounded_walk(pattern, config.base, budget.where)
            hits = []
            for hit in _walked(_glob(pattern, config.base), pattern, budget.where):
                hits.append(hit)
                if len(hits) > MAX_MATCHES:  # (a link to a folder above it: paths double
                    raise BudgetError(   # at each level, without end)
                        f"{budget.where}: elf = {pattern!r} matches more than "
                        f"{MAX_MATCHES:,} paths (relative to {config.base}; a symbolic link "
                        "to a folder above it makes endless paths to the same files)")
            hits.sort()
            files = [config.base / h for h in hits if (config.base / h).is_file()]
            if not files:
                raise BudgetError(f"{budget.where}: elf = {pattern!r} matches no file "
                                  f"(relative to {config.base})")
            if written is not None and not Path(pattern).is_absolute():
                for h in hits:
                    written.setdefault((config.base / h).resolve(), os.path.normpath(h))
            for f in files:
                key = _RunKey(f.resolve(), budget.target, budget.inputs,
                              budget.max_instructions, budget.timeout, budget.run_for,
                              budget.analog, budget.pins, budget.i2c, budget.spi,
                              budget.reset_clock, budget.allow_resets,
                              budget.strict_peripherals)
                runs.setdefault(key, [])
                if budget not in runs[key]:
                    runs[key].append(budget)
    return runs


@dataclass
class ElfResult:
    path: Path
    name: str  # as shown: relative to the config's directory when possible
    report: RunReport
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about its --input (sim.inputs)

    @property
    def problem(self) -> str | None:
        """Why the run does not count (fault, limit, non-zero exit), or None: the report's
        :attr:`~sim.report.RunReport.problem` (these runs carry no budgets of their own), with
        a fault marked ``faulted:`` among the other outcomes listed under the table."""
        problem = self.report.problem
        return f"faulted: {problem}" if self.report.status == "fault" else problem

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


@dataclass
class CheckResult:
    config: BudgetConfig
    elfs: list[ElfResult]
    not_run: list[str] = field(default_factory=list)  # runs a Ctrl-C or an error left out
    fail_on_warnings: bool = False  # (check --fail-on-warnings) a warning fails the check
    # the one line of a usage or configuration error that stopped the check (exit 2): a bad
    # budgets file, a glob matching nothing, an ELF that cannot be loaded, an ambiguous
    # function name; the runs done before it are kept, those after it are ``not_run``
    error: str | None = None
    # outputs the check refused to write (an ELF or input of its runs: ``check --json
    # build/fw.elf``); the others still say why
    refused: tuple[Path, ...] = ()

    @property
    def checks(self) -> list[tuple[ElfResult, Check]]:
        return [(e, c) for e in self.elfs for c in e.checks]

    @property
    def warnings(self) -> list[tuple[ElfResult, str]]:
        """ELFs that ran with more SRAM or flash than their target part has (linked for
        more): their budgets hold on a larger variant of the part, not on the part itself;
        ELFs with an SRAM budget whose heap was not tracked: their peak leaves it out;
        inputs far beyond the scale the ELF records; and what each run warned of (its
        report's warnings: a clock beyond its voltage range, a bus device never addressed);
        device registers a run used that are not modelled (a peripheral whose clock is off,
        one the simulator lacks: the run may not be the chip's); console input left unread
        (a firmware that never read what its budget table gave it did not do that work)."""
        return [(e, w) for e in self.elfs if e.report.target in TARGETS
                for w in TARGETS[e.report.target].beyond_part(e.report.sram_size,
                                                              e.report.flash_size)] + [
            (e, f"heap not tracked ({HEAP_UNTRACKED}): its SRAM peak is static data and "
                "stack only")
            for e in self.elfs
            if not e.report.heap_tracked and any(c.metric == "sram" for c in e.checks)] + [
            (e, note) for e in self.elfs for note in e.notes] + [
            (e, w) for e in self.elfs for w in e.report.warnings] + [
            (e, w) for e in self.elfs for w in _run_notes(e.report)]

    @property
    def problems(self) -> list[ElfResult]:
        return [e for e in self.elfs if e.problem is not None]

    @property
    def broken(self) -> list[tuple[ElfResult, Check]]:
        """Budgets broken by runs that completed (a failed run's checks are errors)."""
        return [(e, c) for e, c in self.checks if not c.passed and e.problem is None]

    @property
    def exit_code(self) -> int:
        """2 if a usage or configuration error stopped the check; 130 if interrupted (Ctrl-C);
        else 4 if any firmware faulted, hit a limit or exited non-zero; else 3 if any budget
        broke; else 0."""
        if self.error is not None:
            return EXIT_USAGE
        if any(e.report.status == "interrupted" for e in self.elfs):
            return EXIT_INTERRUPTED
        if self.problems:
            return EXIT_FAULT
        if self.broken or (self.fail_on_warnings and self.warnings):
            return EXIT_OVER_BUDGET
        return EXIT_OK

    @property
    def not_run_reason(self) -> str:
        """Why the runs in ``not_run`` did not run."""
        if self.error is not None:
            return "the check stopped at an error before it ran"
        return "the check was interrupted before it ran"

    @property
    def summary(self) -> str:
        if self.error is not None:
            return f"error: {self.error}"
        n, e = len(self.checks), len(self.elfs)
        distinct = len({r.path for r in self.elfs})
        elfs = f"{distinct} ELF{'s' if distinct != 1 else ''}"
        if distinct != e:
            elfs += f", {e} runs"
        parts = []
        if self.broken:
            parts.append(f"{len(self.broken)} of {n} budgets broken")
        if self.problems:
            parts.append(f"{len(self.problems)} of {e} runs failed")
        if self.not_run:
            shown = ", ".join(self.not_run[:3]) + (", ..." if len(self.not_run) > 3 else "")
            parts.append(f"interrupted: {len(self.not_run)} not run ({shown})")
        if self.fail_on_warnings and self.warnings and not self.problems:
            w = len(self.warnings)
            parts.append(f"{w} warning{'s' if w != 1 else ''} (--fail-on-warnings)")
        if not parts:
            return (f"all {n} budgets met ({elfs})" if n != 1 else f"the budget is met ({elfs})")
        if parts[-1].endswith("(--fail-on-warnings)") and len(parts) == 1:
            met = f"all {n} budgets met" if n != 1 else "the budget is met"
            return f"{met} ({elfs}); {parts[0]}"
        return "; ".join(parts) + f" ({elfs})"


def _run_notes(report: RunReport) -> list[str]:
    """A run's unmodelled registers and unread console input, as check warns of them (not
    for a run that failed: its problem says what went wrong)."""
    if report.status != "ok":
        return []
    notes = []
    if report.unmodelled:  # "dev+0xoff (0xaddr) read[, why]: count", a line per access kind
        registers = {entry.split(")")[0] for entry in report.unmodelled}
        n = len(registers)
        busiest = max(report.unmodelled, key=lambda e: int(e.rsplit(": ", 1)[-1]))
        more = ", ..." if len(report.unmodelled) > 1 else ""
        notes.append(f"{n} device register{'s' if n != 1 else ''} used that the simulator "
                     f"does not model ({busiest}{more}): the run may differ from the chip's; "
                     "strict_peripherals = true makes each a fault")
    unread = console_input_note(report)
    if unread is not None:
        notes.append(f"console input: {unread}")
    return notes


def _display_name(path: Path, base: Path, written: str | None = None) -> str:
    """``path`` relative to the config's directory, else to the current one; else as the
    config's relative glob reached it (``written``: ``../fw/build/fw.elf``), so a CI
    machine's own folders stay out of the names; else absolute."""
    for root in (base, Path.cwd()):
        try:
            return str(path.relative_to(root.resolve()))
        except ValueError:
            pass
    return written or str(path)


def _run_names(keys: list[_RunKey], base: Path,
               written: dict[Path, str] | None = None) -> dict[_RunKey, str]:
    """How each run is shown: the ELF's name, followed by what sets its runs apart (target,
    inputs, limits) when one ELF runs more than once, so that no two runs (and no two JUnit
    testcases) share a name."""
    names = {}
    for key in keys:
        name = _display_name(key.elf, base, (written or {}).get(key.elf))
        same = [k for k in keys if k.elf == key.elf]
        if len(same) > 1:
            parts = []
            if len({k.target for k in same}) > 1:
                parts.append(f"target {key.target or 'recorded'}")
            if len({k.inputs for k in same}) > 1:
                parts.append("input " + (", ".join(_display_name(p, base) for p in key.inputs)
                                         or "none"))
            if len({k.analog for k in same}) > 1:
                parts.append("analog " + (", ".join(
                    f"{a.key}={_display_name(a.path, base)}"
                    + ("" if a.rate is None else f"@{a.rate:g}Hz") for a in key.analog)
                    or "none"))
            if len({k.pins for k in same}) > 1:
                parts.append("pin " + (", ".join(
                    f"{p.name}={p.level if p.path is None else _display_name(p.path, base)}"
                    for p in key.pins) or "none"))
            if len({k.i2c for k in same}) > 1:
                parts.append("i2c " + (", ".join(
                    str(I2cSpec(t.address, Path(_display_name(t.path, base))))
                    for t in key.i2c)
                    or "none"))
            if len({k.spi for k in same}) > 1:
                parts.append("spi " + (", ".join(
                    f"{t.cs}={_display_name(t.path, base)}" for t in key.spi) or "none"))
            if len({k.max_instructions for k in same}) > 1:
                parts.append(f"max_instructions {key.max_instructions or 'none'}")
            if len({k.timeout for k in same}) > 1:
                parts.append(f"timeout {key.timeout:g}")
            if len({k.run_for for k in same}) > 1:
                parts.append("run_for " + (format_duration(key.run_for) if key.run_for
                                           else "none"))
            if len({k.reset_clock for k in same}) > 1:
                parts.append("reset clock" if key.reset_clock else "profile's clock")
            if len({k.allow_resets for k in same}) > 1:
                parts.append(f"allow_resets {key.allow_resets}")
            if len({k.strict_peripherals for k in same}) > 1:
                parts.append("strict peripherals" if key.strict_peripherals
                             else "peripherals not strict")
            name += f" ({'; '.join(parts)})"
        names[key] = name
    return names


def run_one(key: _RunKey, budgets: list[Budget], base: Path, name: str | None = None
            ) -> ElfResult:
    """Run one image (with its target's memories, grown only to what the image was linked
    for) and compare it with every budget table that matched it; ``name`` is how the
    result is shown (the ELF's name relative to ``base`` by default)."""
    notes: list[str] = []
    shown = name or _display_name(key.elf, base)
    spec = RunSpec(target=key.target, max_instructions=key.max_instructions,
                   timeout=key.timeout, run_for=key.run_for, inputs=key.inputs, fit_image=True,
                   interruptible=True, analog=key.analog, pins=key.pins, i2c=key.i2c,
                   spi=key.spi, reset_clock=key.reset_clock, allow_resets=key.allow_resets,
                   strict_peripherals=key.strict_peripherals, warn=notes.append)
    functions = [b for b in budgets if b.function is not None]
    profilers: list[Profiler] = []
    images = []
    meant: dict[str, list[NamedFunction]] = {}  # a budget's function -> the functions it means

    def prepared(s: Simulator) -> None:
        images.append(s.image)
        if functions:
            profilers.append(Profiler(s))
            meant.update(_functions_meant(profilers[0], functions, shown))

    try:
        report = session.run(key.elf, spec, prepared=prepared)
    except SessionError as exc:  # the ELF as the check names it, not a CI machine's folders
        message = exc.with_elf
        if message.startswith(str(key.elf)):
            message = shown + message[len(str(key.elf)):]
        raise BudgetError(f"{budgets[0].where}: {message}") from None
    result = ElfResult(key.elf, shown, report, notes=notes)
    profile = profilers[0].finish(report) if profilers else None
    for b in budgets:
        result.checks += compare(report, b.limits, b.where, b.ms)
        if profile is not None and b.function is not None and b.call_cycles is not None:
            hint = "" if meant[b.function] else _absent_hint(profilers[0], b.function)
            result.checks.append(_call_check(profile, meant[b.function], b.function,
                                             b.call_cycles, b.where, hint))
        if b.thread_stack is not None:
            result.checks += _thread_checks(report, images[0], b.thread_stack, b.where)
    return result


def _thread_checks(report: RunReport, image: FirmwareImage, budget: tuple[str, float],
                   where: str) -> list[Check]:
    """A thread stack budget: each thread stack's peak (an RTOS task's, the object holding
    it) against a share of its size or a size; broken when no thread ran on its own stack."""
    kind, value = budget
    what = f"{value:g}% of each thread stack" if kind == "%" else f"{int(value):,} B"
    if report.status != "ok":  # (the run's problem says why)
        return [Check("thread_stack", 0, 0, where, note=what, missing=_NOT_MEASURED)]
    sizes = {name: size for _, size, name in image.objects}
    checks = []
    for name, peak in sorted(report.thread_stacks.items()):
        size = sizes.get(name)
        if size is None:  # (THREAD_STACK_UNKNOWN: a stack in no sized object)
            continue
        if name in SHARED_STACKS:  # several tasks' stacks in one object: none measured
            checks.append(Check("thread_stack", 0, 0, where, note=name, missing=(
                f"{name}: {SHARED_STACKS[name]}, tasks not told apart (give them static "
                "stacks)")))
            continue
        limit = int(size * value / 100) if kind == "%" else int(value)
        checks.append(Check("thread_stack", peak, limit, where,
                            note=f"{name}, {size:,} B" if kind == "%" else name))
    if not checks:
        checks.append(Check("thread_stack", 0, 0, where, note=what,
                            missing="no thread ran on a stack of its own (PSP) in a sized "
                                    "object"))
    return checks


_NOT_MEASURED = "not measured: the run failed"


def _functions_meant(profiler: Profiler, budgets: list[Budget], elf: str
                     ) -> dict[str, list[NamedFunction]]:
    """The functions each budget's ``function`` means in the profiled image (GCC's copies of
    it included: sim.function_names); BudgetError for
    a name that static functions in two files have: which of them the budget is for is the
    config's to say."""
    meant = {}
    for b in budgets:
        assert b.function is not None  # (only function budgets are passed)
        try:
            meant[b.function] = profiler.names.resolve(b.function)
        except AmbiguousFunction as exc:
            raise BudgetError(f"{b.where}: {elf}: function = {exc}") from None
    return meant


def call_checks(profiler: Profiler, report: RunReport, limits: dict[str, int],
                where: str = "") -> list[Check]:
    """The function budgets ``limits`` (function name -> call_cycles) against the run
    ``profiler`` followed (its ``report``), as ``check`` compares them; ValueError (one line)
    for a name static functions of two files have."""
    profile = profiler.finish(report)
    checks = []
    for function, limit in limits.items():
        meant = profiler.names.resolve(function)  # (AmbiguousFunction is a ValueError)
        hint = "" if meant else _absent_hint(profiler, function)
        checks.append(_call_check(profile, meant, function, limit, where, hint))
    return checks


def _absent_hint(profiler: Profiler, function: str) -> str:
    """What to add to "no such function in the ELF": that it has no symbols at all (stripped),
    or the name closest to ``function``."""
    if not profiler.image.functions:
        return ": it has no function symbols (stripped)"
    close = profiler.names.suggest(function)
    return f" (did you mean {close}?)" if close else ""


def _call_check(profile: Profile, meant: list[NamedFunction], function: str, limit: int,
                where: str, hint: str = "") -> Check:
    """A function budget: the most active cycles one call of ``function`` took (its callees
    and the handlers that preempted it included: docs/profile.md, "Longest call"), over the
    functions it means (``meant``: it and GCC's copies of it, dig.isra.0); ``hint`` follows
    "no such function in the ELF"."""
    # (a failed run's problem says why; a run over another budget, the pytest fixture's
    # max_cycles, ended as it should: its calls count)
    if profile.report.status not in ("ok", "over_budget"):
        return Check("call_cycles", 0, limit, where, note=function, missing=_NOT_MEASURED)
    ran = [f for m in meant if (f := profile.function(m.name)) is not None]
    done = [f for f in ran if f.max_call_cycles is not None]
    if not done:
        why = ("no call of it returned" if ran else "never called" if meant
               else "no such function in the ELF" + hint)
        return Check("call_cycles", 0, limit, where, note=function,
                     missing=f"{function}: {why}")
    longest = max(done, key=lambda f: f.max_call_cycles or 0)
    copy = longest.symbol is not None and base_name(longest.symbol) != longest.symbol
    named = longest.name == function or longest.symbol == function
    note = f"{function} as {longest.name}" if copy and not named else function  # which copy
    return Check("call_cycles", longest.max_call_cycles or 0, limit, where, note=note)


def _run_inputs(key: _RunKey) -> list[Path]:
    """The files a run reads: its ELF, inputs and the files of its devices' specs."""
    specs = (*key.analog, *key.pins, *key.i2c, *key.spi)
    return [key.elf, *key.inputs,
            *(p for s in specs if isinstance(p := getattr(s, "path", None), Path))]


def files_read(config: BudgetConfig) -> list[Path]:
    """The files a check of ``config`` reads: the budgets file, the ELFs its globs match and
    the runs' inputs; BudgetError as :func:`match` raises it."""
    return [config.path, *(p for key in match(config) for p in _run_inputs(key))]


def run_checks(config: BudgetConfig, progress: Callable[[str], None] | None = None,
               outputs: Mapping[str, Path] | None = None) -> CheckResult:
    """Run every matched ELF once and compare it with its budgets. A usage or configuration
    error (a glob matching nothing, an ELF that cannot be loaded, an ambiguous function name)
    does not raise: it stops the check, and the result's ``error`` holds its line (exit 2),
    with the runs done before it, so that the check's reports can still say why.
    ``outputs`` (``--json`` -> its path) are the files the check will write: one that is a
    file a run reads (``--json build/fw.elf`` replaced the firmware with its report) is an
    error before any run, that output ``refused`` (not written), the others still written."""
    written: dict[Path, str] = {}
    try:
        runs = match(config, written)
    except BudgetError as exc:
        return CheckResult(config, [], error=str(exc))
    if outputs:
        # (the budgets file too: `check --json pyproject.toml` replaced it with the report)
        read = [config.path, *(p for key in runs for p in _run_inputs(key))]
        message = clash(outputs, read)
        if message is not None:
            refused = tuple(path for what, path in outputs.items()
                            if clash({what: path}, read) is not None)
            return CheckResult(config, [], not_run=[str(key.elf) for key in runs],
                               error=message, refused=refused)
    names = _run_names(list(runs), config.base, written)
    results = []
    keys = list(runs)
    for i, key in enumerate(keys):
        if progress is not None:
            progress(names[key])
        try:
            results.append(run_one(key, runs[key], config.base, names[key]))
        except BudgetError as exc:
            return CheckResult(config, results, [names[k] for k in keys[i + 1:]],
                               error=str(exc))
        if results[-1].report.status == "interrupted":
            # Ctrl-C: report what ran so far, and name what did not, run nothing more
            return CheckResult(config, results, [names[k] for k in keys[i + 1:]])
    return CheckResult(config, results)

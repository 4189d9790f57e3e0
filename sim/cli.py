"""``ebnn-sim``: run Cortex-M firmware in an emulator with an exact memory model.

The firmware's console output goes to stdout as it appears; the run summary goes to stderr, so
``ebnn-sim run fw.elf > out.txt`` captures exactly what the firmware printed.
"""

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from rich.console import RenderableType

from sim import plugins, session
from sim.analog import AnalogSpec
from sim.analog import parse_spec as parse_analog
from sim.budget_check import sram_budget
from sim.counts import CountParam
from sim.durations import DurationParam
from sim.formats import OutputError, write_text
from sim.formats.json import error_dict, report_dict, write_json
from sim.formats.text import devices_table, escape, print_run_summary, targets_table
from sim.i2c_targets import I2cSpec
from sim.i2c_targets import parse_spec as parse_i2c
from sim.inputs import SpecParam
from sim.interrupts import stop_on_sigint
from sim.output_guard import GuardedGroup, PipeConsole, Stopped, clash, reader_left
from sim.pins import PinSpec
from sim.pins import parse_spec as parse_pin
from sim.report import EXIT_USAGE, HEAP_UNTRACKED
from sim.resets import MAX_RESETS
from sim.runner import (
    MAX_INSTRUCTIONS,
    MAX_RUN_FOR,
    MAX_TIMEOUT,
    MAX_WAIT_STATES,
    MIN_RUN_FOR,
    MIN_TIMEOUT,
    Simulator,
)
from sim.semihosting import MAX_OUTPUT_BYTES, BoundedEcho, stdout_reader_left
from sim.session import RunSpec, SessionError
from sim.spi_targets import SpiSpec
from sim.spi_targets import parse_spec as parse_spi
from toolchain.profiles import DEFAULT_TARGET, TARGETS
from toolchain.sizes import SIZE, format_size

if TYPE_CHECKING:
    from sim.budgets import CheckResult

RUN_FOR = DurationParam(MIN_RUN_FOR, MAX_RUN_FOR)
ANALOG_OPTION = click.option(
    "--analog", "analog", type=SpecParam("analog", parse_analog, AnalogSpec), multiple=True,
    metavar="CHANNEL=FILE[@RATE]",
    help="Volts for an ADC pin (stm32l031: channels 0 to 15, or the pin: PA3=; repeatable), "
         "from a .csv of one column or a 1-D .npy: each conversion of the channel reads the "
         "next value, or with @RATE (@100Hz, @1kHz) the value at that device time; the "
         "comparators see the same voltages (a pin no ADC channel reaches, for them: "
         "PB5=level.csv@1kHz). Without it a pin reads 0 V. VDDA=battery.csv@1Hz plays the "
         "supply (1.65 V to 3.6 V; else 3.0 V): conversions, VREFINT's among them, read "
         "against it.")
PIN_OPTION = click.option(
    "--pin", "pins", type=SpecParam("pin", parse_pin, PinSpec), multiple=True,
    metavar="PIN=FILE|0|1",
    help="Hold a GPIO pin (stm32l031: PA0 to PH15; repeatable) at a level: 0 or 1 for the "
         "whole run, or from a .csv of seconds,level rows (the level from that device time "
         "on: a button, a sensor's data-ready line). Its edges reach the EXTI as the "
         "firmware routes them (SYSCFG EXTICR). Without it a pin floats or takes its pull.")
I2C_OPTION = click.option(
    "--i2c", "i2c", type=SpecParam("i2c", parse_i2c, I2cSpec), multiple=True,
    metavar="ADDR=FILE",
    help="Put a device on the I2C bus (stm32l031's I2C1; repeatable) at 7-bit address ADDR "
         "(0x08 to 0x77), its registers described by a TOML file: initial values, read-only "
         "registers, registers that follow a recording (docs/simulator.md). Without it no "
         "device answers: every transfer ends with a NACK. controller=FILE: a host whose "
         "transactions (a TOML list) address the part itself, the firmware an I2C target.")
SPI_OPTION = click.option(
    "--spi", "spi", type=SpecParam("spi", parse_spi, SpiSpec), multiple=True,
    metavar="CS=FILE",
    help="Put a device on the SPI bus (stm32l031's SPI1; repeatable) selected by GPIO pin CS "
         "(PA4: while the firmware holds it at 0) or by SPI1's own NSS output (NSS), its "
         "registers described by a TOML file, as --i2c's (docs/simulator.md). Without it MISO "
         "reads 0xFF.")
RESET_CLOCK_OPTION = click.option(
    "--reset-clock", is_flag=True,
    help="Start the core at the part's own clock at reset (stm32l031: MSI, 2.097 MHz, no "
         "flash wait state), as the chip does, instead of the profile's clock until the "
         "firmware first sets one up: vendor code before its clock set-up (HAL_Init, a "
         "HAL_Delay there) is then timed as on the chip.")
ALLOW_RESETS_OPTION = click.option(
    "--allow-resets", type=click.IntRange(min=0, max=MAX_RESETS), default=0, metavar="N",
    help="Let the part be reset up to N times (a watchdog's reset, the firmware's "
         "NVIC_SystemReset) with the run going on: the firmware starts again at its reset "
         "vector, SRAM kept, as on the chip; the next reset ends the run (status reset, exit "
         "1). Default 0: the first ends it. A wake-up from Stand-by always goes on.")
VCD_OPTION = click.option(
    "--vcd", "vcd_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Write the GPIO pins' levels over the run (those that changed or --pin drove) as a "
         "waveform: a Value Change Dump that GTKWave or PulseView opens.")

# The console for messages and summaries (stderr). Plugin commands print through it too, with
# ``fail`` for their errors, so that every command of ebnn-sim looks and behaves alike.
err = PipeConsole(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """``error: MESSAGE`` on one line of stderr, then exit (2: usage or bad input)."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    sys.exit(code)


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def _write_error_json(json_path: Path | None, elf: str | None, message: str) -> None:
    """``run --json``/``profile --json`` of a command stopped at an error before any run
    (exit 2): the error, no figures; a file that cannot be written only a warning (the
    error that stopped the command is the one to say)."""
    if json_path is None:
        return
    try:
        write_json(json_path, error_dict(elf, message))
    except OutputError as exc:
        _warn(str(exc))


def _run_stopped(stopped: Stopped) -> None:
    """``run``/``profile``: its --json says why, when click or the output guard stopped it."""
    _write_error_json(stopped.outputs.get("json_path"), stopped.given.get("elf") or None,
                      stopped.message)


class PluginGroup(GuardedGroup):
    """The built-in commands, plus those of the installed plugins (:mod:`sim.plugins`), which
    are loaded the first time a command is not a built-in one, or all are listed."""

    _plugins: dict[str, plugins.Plugin] | None = None  # loaded by loaded_plugins()

    def loaded_plugins(self) -> dict[str, plugins.Plugin]:
        """The installed plugins by name, loaded once (their commands added to the group)."""
        if self._plugins is None:
            self._plugins = plugins.load_all(_warn)
            for name, plugin in self._plugins.items():
                for command in plugin.commands:
                    if command.name in self.commands:
                        _warn(f"plugin {name!r}: command {command.name!r} exists; not added")
                    else:
                        self.add_command(command)
        return self._plugins

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OutputError as exc:  # any command's --json, --html, --junit, ...
            fail(str(exc))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self.loaded_plugins()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.loaded_plugins()
        return super().list_commands(ctx)


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ebnn-sim")
def main() -> None:
    """Run bare-metal Cortex-M firmware in Unicorn with an exact SRAM model.

    \b
    ebnn-sim run fw.elf --sram 15k          run, measure memory, check budgets
    ebnn-sim profile fw.elf --html r.html   where every cycle and byte goes
    ebnn-sim verify fw.elf --model m.ebnn   firmware == trained model, bit for bit
    ebnn-sim check --junit budgets.xml      memory and cycle budgets for CI
    ebnn-sim diff base.json head.json       what changed between two reports
    ebnn-sim build main.c -o fw.elf         cross-compile C for a target profile
    ebnn-sim targets                        list target profiles

    Exit codes of run and profile: 0 ok, 1 firmware exited non-zero (or the part was
    reset), 2 usage or bad input, 3 over budget, 4 fault, 5 instruction limit, timeout or
    deadlock, 130 interrupted (Ctrl-C or SIGTERM), 141 the reader of stdout left (| head).
    """


@main.command(error_reports=_run_stopped)
@click.argument("elf", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=None,
              help="Target profile (core, clock, memories). Default: the one recorded in the "
                   f"ELF by `ebnn-sim build`, else {DEFAULT_TARGET}.")
@click.option("--sram", type=SIZE, default=None,
              help="SRAM to map at 0x20000000, e.g. 15k; every byte past it faults. Also the "
                   "peak-SRAM budget. Default: what the ELF was linked for (recorded by "
                   "`ebnn-sim build`/`ebnn build`), else the target's. A firmware linked for "
                   "more starts its stack past it and faults at reset: for a budget below "
                   "the size it was linked for, use --max-sram.")
@click.option("--flash", type=SIZE, default=None,
              help="Flash to map at 0x00000000 (at 0x08000000 for an image linked there, on "
                   "stm32l031); also the flash budget. Default: what the ELF was linked for, "
                   "else the target's.")
@click.option("--max-sram", type=SIZE, default=None,
              help="Peak-SRAM budget (static + stack + heap) without changing the SRAM "
                   "mapped: exit 3 when the peak is over it, as `check`'s sram budget.")
@click.option("--max-stack", type=SIZE, default=None, help="Stack budget (peak stack use).")
@click.option("--max-cycles", type=CountParam(0), default=None,
              help="Budget of estimated cycles for the whole run (active: cycles asleep in "
                   "WFI/WFE are not counted); 30k is 30,000.")
@click.option("--max-instructions", type=CountParam(1, MAX_INSTRUCTIONS),
              default=None,
              help="Stop (exit 5) before executing more than this many instructions.")
@click.option("--timeout", type=click.FloatRange(min=MIN_TIMEOUT, max=MAX_TIMEOUT), default=None,
              metavar="SECONDS",
              help=f"Stop (exit 5) after this many seconds of wall time ({MIN_TIMEOUT:g} to "
                   f"{MAX_TIMEOUT:g}).")
@click.option("--run-for", type=RUN_FOR, default=None, metavar="DURATION",
              help="End the run after this much device time (500ms, 2s, 250us, or seconds: "
                   "0.5; 1us to 1000000s; awake and asleep, at the core's clock) with the "
                   "firmware still running: status ok, exit 0 unless a budget is broken. For "
                   "firmware that never exits (a vendor main loop, an RTOS).")
@click.option("--wait-states", type=click.IntRange(min=0, max=MAX_WAIT_STATES), default=None,
              metavar="N",
              help="Flash wait states added to each pipeline refill, for the whole run. "
                   "Default: the target's (with --reset-clock the part's: none), or those the "
                   "firmware sets (STM32L0 FLASH_ACR).")
@click.option("--input", "inputs", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              multiple=True,
              help="A host file the firmware may open for reading (repeatable). The first one "
                   "is also the console input (semihosting SYS_READ on stdin); a .npy, .csv, .png "
                   "or .wav there is converted to bytes (checked against, and quantised as, "
                   "the input format an `ebnn build` ELF records: docs/data.md).")
@ANALOG_OPTION
@PIN_OPTION
@I2C_OPTION
@SPI_OPTION
@RESET_CLOCK_OPTION
@ALLOW_RESETS_OPTION
@VCD_OPTION
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory in which the firmware may create, overwrite or append to files. "
                   "Without it, opening a file for writing is refused.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None,
              help="Write the report as JSON to this file (on exit 2 before any run: "
                   "status \"error\" and the \"error\", no figures).")
@click.option("--quiet", "-q", is_flag=True,
              help="Do not echo the firmware's console output (it is still in --json).")
@click.option("--max-output", type=SIZE, default=MAX_OUTPUT_BYTES, metavar="SIZE",
              help="Echo at most this much of the firmware's console output to stdout "
                   "(default 1024M: 1 GiB, as its files in --output-dir may take), so that "
                   "firmware printing for ever into a redirected stdout cannot fill the disk. "
                   "Past it one warning line, no more echo; the run goes on, its report "
                   "saying so.")
@click.option("--vector-faults", is_flag=True,
              help="Deliver faults to the firmware's own handlers (UsageFault, BusFault, "
                   "HardFault, with CFSR/HFSR/BFAR set) as the chip does, instead of stopping; "
                   "each is still listed in the report.")
@click.option("--strict-peripherals", is_flag=True,
              help="An access to a device register the simulator does not model is a fault "
                   "(default: it reads back what was written and is listed in the report).")
def run(elf: Path, target: str | None, sram: int | None, flash: int | None,
        max_sram: int | None, max_stack: int | None, max_cycles: int | None,
        max_instructions: int | None,
        timeout: float | None, run_for: float | None, wait_states: int | None,
        inputs: tuple[Path, ...], analog: tuple[AnalogSpec, ...], pins: tuple[PinSpec, ...],
        i2c: tuple[I2cSpec, ...], spi: tuple[SpiSpec, ...], reset_clock: bool,
        allow_resets: int,
        vcd_path: Path | None, output_dir: Path | None,
        json_path: Path | None, quiet: bool, max_output: int, vector_faults: bool,
        strict_peripherals: bool) -> None:
    """Run ELF from its reset vector until it exits, faults, hits a limit or has run for
    --run-for.

    Prints the firmware's output, then a summary: instructions (exact), estimated cycles
    and time at the target clock (or at the clocks the firmware set up, each listed), static
    RAM, stack and heap peaks, flash used; for a core that slept, the cycles asleep and its
    duty cycle.
    """

    left = False
    simulator: list[Simulator] = []  # once it exists

    def echo(data: bytes) -> None:
        nonlocal left
        if left:
            return
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the run stops as on Ctrl-C, its report is written
            left = True
            for s in simulator:
                s.interrupt()

    def echo_stopped(message: str) -> None:  # (--max-output) said now, and in the report
        _warn(message)
        for s in simulator:
            s.warn(message)

    def reader_gone() -> None:  # past --max-output nothing is written: ask the pipe
        nonlocal left
        if not left and stdout_reader_left():
            left = True
            for s in simulator:
                s.interrupt()

    bounded = BoundedEcho(echo, echo_stopped, max_output, f"--max-output {max_output:,} bytes",
                          past=reader_gone)
    spec = RunSpec(target=target, sram=sram, flash=flash, wait_states=wait_states,
                   max_instructions=max_instructions, timeout=timeout, run_for=run_for,
                   inputs=inputs,
                   # stdout closed (`>&-`): nowhere to echo to, as with --quiet
                   output_dir=output_dir, echo=None if quiet or sys.stdout is None else bounded,
                   budgets={"sram": sram_budget(sram, max_sram), "flash": flash,
                            "stack": max_stack, "cycles": max_cycles}, interruptible=True,
                   vector_faults=vector_faults, strict_peripherals=strict_peripherals,
                   analog=analog, pins=pins, i2c=i2c, spi=spi, vcd=vcd_path,
                   reset_clock=reset_clock, allow_resets=allow_resets, warn=_warn)
    try:
        report = session.run(elf, spec, prepared=simulator.append)
    except SessionError as exc:
        _write_error_json(json_path, str(elf), str(exc))
        fail(str(exc))
    if left and report.fault is not None and report.status == "interrupted":
        report.fault.message = (f"stopped when the reader of its console output left (| head) "
                                f"after {report.instructions:,} instructions")
    if json_path is not None:  # first: a reader of stdout that left does not lose it
        write_json(json_path, report_dict(report))
    if (report.stdout and not report.stdout.endswith("\n") and not quiet and not left
            and not bounded.held_back):
        sys.stdout.write("\n")
    print_run_summary(report, err)
    if vcd_path is not None and report.vcd is None:  # (its warning says why)
        fail(f"the pins' waveform was not written to {vcd_path}")
    if not report.heap_tracked and (sram is not None or max_sram is not None):
        _warn(f"heap not tracked ({HEAP_UNTRACKED}): the SRAM budget was checked against "
              "static data and stack only")
    if report.target in TARGETS:  # (--sram 2M on a 15 KiB part: what `check` warns of too)
        for beyond in TARGETS[report.target].beyond_part(report.sram_size, report.flash_size):
            _warn(beyond)
    if left:  # 141, as a process SIGPIPE ends, once the report is written
        reader_left()
    sys.exit(report.exit_status)


def _print_unwrapped(*renderables: RenderableType) -> None:
    """Print to stdout within the terminal's width (80 columns in a pipe), dropping the
    tables' decoration before any figure would be wrapped or cut (``print_fitted``)."""
    from sim.formats.text import print_fitted

    print_fitted(PipeConsole(), *renderables)


def _write_check_reports(result: "CheckResult", junit_path: Path | None,
                         json_path: Path | None, read: list[Path]) -> None:
    """``check``'s --junit and --json of ``result``; neither when the check refused it, nor
    over a file in ``read`` (its budgets file: a warning says so). A report that cannot be
    written makes the check's result that error (exit 2), the other report (re)written to say
    so, not left passing."""
    from sim.formats.json import check_dict
    from sim.formats.junit import write_junit

    def write(what: str, path: Path) -> None:
        if what == "--junit":
            write_junit(result, path)
        else:
            write_json(path, check_dict(result))

    pending: list[tuple[str, Path]] = []
    for what, path in (("--junit", junit_path), ("--json", json_path)):
        if path is None or path in result.refused:
            continue
        if (message := clash({what: path}, read)) is not None:
            _warn(f"{message}; not written")
            continue
        if _holds_elf(path):  # (one a budgets file that does not parse names, say)
            _warn(f"{what} {path} is an ELF file; not written")
            continue
        pending.append((what, path))
    written: list[tuple[str, Path]] = []
    while pending:
        what, path = pending.pop(0)
        try:
            write(what, path)
        except OutputError as exc:
            if result.error is not None:  # (the error that stopped the check is the one to say)
                _warn(str(exc))
                continue
            result.error = str(exc)
            pending += written  # written before: they said the check passed
            written.clear()
        else:
            written.append((what, path))


def _holds_elf(path: Path) -> bool:
    """Whether ``path`` is a regular file that begins as an ELF does: no report replaces it."""
    try:
        with path.open("rb") as f:
            return path.is_file() and f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _check_stopped(stopped: Stopped) -> None:
    """``check``'s --junit and --json when click or the output guard stopped it with exit 2
    before its own code: one errored testcase, ``exit_code`` 2 and the error, as for a bad
    budgets file; none over a file the check would read (the budgets file, its ELFs, their
    inputs, as far as they can be known)."""
    from sim.budgets import BudgetConfig, BudgetError, CheckResult, files_read, load_config

    text = stopped.given.get("config_path")
    config_path = Path(text) if text else None
    config = BudgetConfig(config_path or Path("pyproject.toml"), [])
    read = [*stopped.inputs, config.path]
    try:
        config = load_config(config_path)
        read += files_read(config)
    except BudgetError:  # (which ELFs it names cannot be known: refused as by a bad config)
        pass
    _write_check_reports(CheckResult(config, [], error=stopped.message),
                         stopped.outputs.get("junit_path"), stopped.outputs.get("json_path"),
                         read)


@main.command("check", error_reports=_check_stopped)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML file with [[tool.ebnn-sim.budget]] (or [[budget]]) tables; paths in it "
                   "are relative to its directory. Default: ./pyproject.toml.")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None,
              help="Write JUnit XML: one testcase per ELF and metric; on exit 2 one errored "
                   "testcase saying why.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None,
              help="Write the results, with every run's report, as JSON (on exit 2: its "
                   "\"error\").")
@click.option("--fail-on-warnings", is_flag=True,
              help="Exit 3 when every budget holds but a run was warned of (an input far off "
                   "the model's scale, unmodelled registers, console input left unread, ...).")
def check_cmd(config_path: Path | None, junit_path: Path | None,
              json_path: Path | None, fail_on_warnings: bool) -> None:
    """Check firmware against memory and time budgets (for CI).

    \b
    [[tool.ebnn-sim.budget]]    in pyproject.toml; one table per ELF or glob
    elf = "build/*.elf"         relative to the file's directory
    sram = "15k"                peak SRAM: static + stack peak + heap peak
    flash = "64k"
    stack = "1k"                the main stack (thread_stack = "90%": each task's)
    cycles = 512000             or: ms = 16 (at the core's clock)
    function = "model_infer"    with call_cycles = "120k": its longest call
    run_for = "500ms"           for firmware that never exits: end there, ok
    analog = "3=accel.csv"      volts for an ADC pin, as --analog
    i2c = "0x48=tmp102.toml"    a device on the I2C bus, as --i2c
    spi = "PA4=lis3dh.toml"     a device on the SPI bus, as --spi

    Each matched ELF runs once with its target's memories. Exit codes: 0 every budget met,
    2 bad or missing config, a glob matching no file, a file that is not an ELF, a usage
    error (--junit and --json still say why), 3 a budget broken (or, with
    --fail-on-warnings, a warning), 4 a firmware faulted, deadlocked, hit a limit or exited
    non-zero, 130 interrupted. See docs/ci.md.
    """
    from sim.budgets import BudgetConfig, BudgetError, CheckResult, load_config, run_checks
    from sim.formats.text import check_table

    def progress(name: str) -> None:
        err.print(f"[dim]running {escape(name)}[/]")

    config_file = config_path or Path("pyproject.toml")  # (the default, found or not)
    try:
        config = load_config(config_path)
    except BudgetError as exc:  # (no budgets read: the reports say why, and nothing more)
        result = CheckResult(BudgetConfig(config_file, []), [], error=str(exc))
    else:
        outputs = {what: path for what, path in (("--junit", junit_path), ("--json", json_path))
                   if path is not None}  # (none may be a file a run reads: an ELF, an input)
        result = run_checks(config, progress=progress if err.is_terminal else None,
                            outputs=outputs)
    result.fail_on_warnings = fail_on_warnings
    # the files first: a reader of stdout that leaves (`| head`) does not lose them; written
    # on an error too (exit 2), so that CI finds the reason in them, not an earlier run's
    _write_check_reports(result, junit_path, json_path, [config_file])
    if result.error is not None:
        fail(result.error)
    out = PipeConsole(highlight=False)
    _print_unwrapped(check_table(result))
    for e in result.problems:
        out.print(f"[bold red]{escape(e.name)}:[/] {escape(e.problem or '')}", soft_wrap=True)
    for e, warning in result.warnings:
        out.print(f"[yellow]{escape(e.name)}: warning:[/] {escape(warning)}",
                  soft_wrap=True)
    style = {0: "green", 3: "bold red"}.get(result.exit_code, "bold red")
    out.print(f"[{style}]{escape(result.summary)}[/]")
    sys.exit(result.exit_code)


@main.command("diff")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("head", type=click.Path(path_type=Path))
@click.option("--markdown", is_flag=True,
              help="Print GitHub Markdown tables, e.g. for a pull-request comment.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
              help="Functions and layers shown per section, largest change first (0: all).")
def diff_cmd(base: Path, head: Path, markdown: bool, limit: int) -> None:
    """Compare two JSON reports (`run --json`, `profile --json`, or a `check --json` of one
    run): BASE -> HEAD.

    Shows instructions, cycles, time, SRAM peak, static RAM, stack, heap, flash and thread
    stacks with absolute and relative change, then (profiles) the functions and layers whose
    counts changed and the functions whose longest call changed, largest change first; a note
    above when the two do not compare like for like (another target, clock, wait states,
    ebnn-sim version, a run that did not end at its exit). Exit 0, or 2 when a report is
    missing or not a report.
    """
    from sim.diff import DiffError, diff, load_report
    from sim.formats.markdown import diff_markdown
    from sim.formats.text import diff_tables

    try:
        d = diff(load_report(base), load_report(head))
    except DiffError as exc:
        fail(str(exc))
    shown = limit or None
    if markdown:
        click.echo(diff_markdown(d, str(base), str(head), limit=shown), nl=False)
    else:
        _print_unwrapped(*diff_tables(d, str(base), str(head), limit=shown))


@main.command("profile", error_reports=_run_stopped)
@click.argument("elf", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--input", "inputs", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              multiple=True,
              help="A host file the firmware may open for reading (repeatable); the first is "
                   "also the console input, as for `run`.")
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=None,
              help="Target profile (default: the one recorded in the ELF, else "
                   f"{DEFAULT_TARGET}).")
@click.option("--sram", type=SIZE, default=None,
              help="SRAM to map, and the budget the memory map is drawn against. "
                   "Default: what the ELF was linked for, else the target's.")
@click.option("--flash", type=SIZE, default=None,
              help="Flash to map at 0x00000000. Default: what the ELF was linked for, else "
                   "the target's.")
@click.option("--max-instructions", type=CountParam(1, MAX_INSTRUCTIONS),
              default=None,
              help="Stop (exit 5) before executing more than this many instructions.")
@click.option("--timeout", type=click.FloatRange(min=MIN_TIMEOUT, max=MAX_TIMEOUT), default=None,
              metavar="SECONDS",
              help=f"Stop (exit 5) after this many seconds of wall time ({MIN_TIMEOUT:g} to "
                   f"{MAX_TIMEOUT:g}).")
@click.option("--run-for", type=RUN_FOR, default=None, metavar="DURATION",
              help="End the run after this much device time (500ms, 2s, 250us, or seconds: "
                   "0.5; 1us to 1000000s; awake and asleep, at the core's clock) with the "
                   "firmware still running: status ok, exit 0 unless a budget is broken. For "
                   "firmware that never exits (a vendor main loop, an RTOS).")
@click.option("--wait-states", type=click.IntRange(min=0, max=MAX_WAIT_STATES), default=None,
              metavar="N",
              help="Flash wait states added to each pipeline refill, for the whole run. "
                   "Default: the target's (with --reset-clock the part's: none), or those the "
                   "firmware sets (STM32L0 FLASH_ACR).")
@ANALOG_OPTION
@PIN_OPTION
@I2C_OPTION
@SPI_OPTION
@RESET_CLOCK_OPTION
@ALLOW_RESETS_OPTION
@VCD_OPTION
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory in which the firmware may create, overwrite or append to files, "
                   "as for `run`.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None,
              help="Write the profile as JSON (keys: docs/profile.md; on exit 2 before any "
                   "run: status \"error\" and the \"error\", no figures).")
@click.option("--speedscope", "speedscope_path",
              type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a speedscope flame graph weighted by cycles (open it in "
                   "speedscope.app).")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None,
              help="Write a self-contained HTML report (no external resources).")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="Functions and hottest instructions to list.")
def profile_cmd(elf: Path, inputs: tuple[Path, ...], target: str | None, sram: int | None,
                flash: int | None, max_instructions: int | None, timeout: float | None,
                run_for: float | None, wait_states: int | None,
                analog: tuple[AnalogSpec, ...], pins: tuple[PinSpec, ...],
                i2c: tuple[I2cSpec, ...], spi: tuple[SpiSpec, ...], reset_clock: bool,
        allow_resets: int,
                vcd_path: Path | None, output_dir: Path | None, json_path: Path | None,
                speedscope_path: Path | None, html_path: Path | None, top: int) -> None:
    """Profile ELF: instructions and cycles per function (self and inclusive), per eBNN layer,
    the hottest instructions with their source lines, and memory against the SRAM budget.

    Tables go to stdout; the firmware's console output is not echoed (it is in --json under
    "run"). Slower than `run` (Python sees every basic block); the totals are the same. Exit
    codes as for `run`.
    """
    from sim.formats.html import render_html
    from sim.formats.json import profile_dict
    from sim.formats.speedscope import speedscope
    from sim.formats.text import print_profile
    from sim.profile import Profiler

    spec = RunSpec(target=target, sram=sram, flash=flash, wait_states=wait_states,
                   max_instructions=max_instructions, timeout=timeout, run_for=run_for,
                   inputs=inputs, output_dir=output_dir, budgets={"sram": sram, "flash": flash},
                   analog=analog, pins=pins, i2c=i2c, spi=spi, reset_clock=reset_clock,
                   allow_resets=allow_resets, vcd=vcd_path, warn=_warn)
    try:
        simulator = session.prepare(elf, spec)
    except SessionError as exc:
        _write_error_json(json_path, str(elf), str(exc))
        fail(str(exc))
    groups = plugins.function_groups(main.loaded_plugins(), simulator.image, _warn)
    with stop_on_sigint(simulator):
        prof = Profiler(simulator, top=top, groups=groups).run()
    session.apply_budgets(prof.report, spec.budgets)
    # the files first: a reader of stdout that leaves (`| head`) does not lose them
    if json_path is not None:
        write_json(json_path, profile_dict(prof))
    if speedscope_path is not None:
        write_json(speedscope_path, speedscope(prof), indent=None)
    if html_path is not None:
        write_text(html_path, render_html(prof))
    print_profile(prof, PipeConsole(highlight=False))
    if vcd_path is not None and prof.report.vcd is None:  # (its warning says why)
        fail(f"the pins' waveform was not written to {vcd_path}")
    sys.exit(prof.report.exit_status)


@main.command("targets")
@click.option("--devices", "show_devices", is_flag=True,
              help="Also list each profile's memory-mapped devices (the System Control Space, "
                   "UARTs, timers, a part's own peripherals) and where each is mapped.")
def targets_cmd(show_devices: bool) -> None:
    """List target profiles: core, clock, SRAM, flash, FPU, flash wait states."""
    _print_unwrapped(targets_table(TARGETS.values()))  # 80 columns: borders go, not data
    if show_devices:
        _print_unwrapped(devices_table(TARGETS.values()))


def _split_flags(ctx: click.Context, param: click.Parameter,
                 value: tuple[str, ...]) -> list[str]:
    """Each occurrence split as a shell would (quotes keep a flag with spaces whole)."""
    try:
        return [flag for text in value for flag in shlex.split(text)]
    except ValueError as exc:
        raise click.BadParameter(f"{exc}: {' '.join(value)}") from None


@main.command("build")
@click.argument("sources", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="ELF file to write.")
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=DEFAULT_TARGET,
              show_default=True, help="Target profile.")
@click.option("--sram", type=SIZE, default=None, help="Link for this much SRAM.")
@click.option("--flash", type=SIZE, default=None, help="Link for this much flash.")
@click.option("-I", "include_dirs", multiple=True, help="Include directory (repeatable).")
@click.option("-D", "defines", multiple=True, help="NAME or NAME=VALUE (repeatable).")
@click.option("-O", "opt", default="2", show_default=True, help="Optimisation level.")
@click.option("--cflags", multiple=True, callback=_split_flags, metavar="FLAGS",
              help='More compiler flags, split as a shell would: --cflags "-O3 '
                   '-funroll-all-loops" (repeatable). They come last, so they win.')
@click.option("--ldflags", multiple=True, callback=_split_flags, metavar="FLAGS",
              help='More linker flags, e.g. --ldflags "-Wl,-Map=fw.map -lm" (repeatable); '
                   "passed to gcc after the sources.")
@click.option("--irq-vectors", is_flag=True,
              help="Start-up code with interrupt vectors: weak CMSIS-named handlers "
                   "(SVC_Handler, PendSV_Handler, SysTick_Handler, IRQ0_Handler..IRQ31_Handler, "
                   "...) for 32 interrupts; without it the vector table has the 16 system "
                   "exceptions only.")
def build_cmd(sources: tuple[Path, ...], output: Path, target: str, sram: int | None,
              flash: int | None, include_dirs: tuple[str, ...], defines: tuple[str, ...],
              opt: str, cflags: list[str], ldflags: list[str], irq_vectors: bool) -> None:
    """Cross-compile C (and assembly: .S, .s) SOURCES with the start-up code and semihosting
    runtime. C++ and constructors are refused (the start-up code runs none).

    The ELF records its target, so `ebnn-sim run` needs no --target for it.
    """
    from toolchain.build import ToolchainError, build, check_memory_sizes  # only here

    defs: dict[str, str | None] = {}
    for d in defines:
        name, _, value = d.partition("=")
        defs[name] = value or None
    try:
        check_memory_sizes(sram, flash, whole_kib=True)  # an ELF `run` can map
        result = build(sources, output, target, sram=sram, flash=flash,
                       include_dirs=include_dirs, defines=defs, opt=f"-O{opt}",
                       extra_cflags=cflags, extra_ldflags=ldflags, irq_vectors=irq_vectors)
    except ToolchainError as exc:
        fail(str(exc))
    for warning in [*result.target.beyond_part(result.sram, result.flash), *result.warnings]:
        _warn(warning)
    err.print(f"built {escape(str(result.elf))} for {result.target.name} "
              f"({format_size(result.sram)} SRAM, {format_size(result.flash)} flash)",
              soft_wrap=True)


if __name__ == "__main__":
    main()

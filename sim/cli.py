"""``ebnn-sim``: run Cortex-M firmware in an emulator with an exact memory model.

The firmware's console output goes to stdout as it appears; the run summary goes to stderr, so
``ebnn-sim run fw.elf > out.txt`` captures exactly what the firmware printed.
"""

import io
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from sim.elf import InvalidFirmware, load_elf
from sim.inputs import InputError, console_bytes
from sim.report import EXIT_USAGE, Budgets, RunReport
from sim.runner import ImageError, RunOptions, Simulator
from toolchain.build import ToolchainError, build
from toolchain.profiles import DEFAULT_TARGET, TARGETS
from toolchain.sizes import format_size, parse_size

err = Console(stderr=True, highlight=False)


class SizeParam(click.ParamType):
    """A memory size: 15k, 15KiB, 15360, 1M."""

    name = "size"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SIZE = SizeParam()


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ebnn-sim")
def main() -> None:
    """Run bare-metal Cortex-M firmware in Unicorn with an exact SRAM model.

    \b
    ebnn-sim run fw.elf --sram 15k      run, count, measure memory, check budgets
    ebnn-sim profile fw.elf --html r.html   where every cycle and byte goes
    ebnn-sim verify fw.elf --model m.ebnn   firmware == trained model, bit for bit
    ebnn-sim check --junit budgets.xml      memory and cycle budgets for CI
    ebnn-sim diff base.json head.json       what changed between two reports
    ebnn-sim build main.c -o fw.elf     cross-compile C for a target profile
    ebnn-sim targets                    list target profiles

    Exit codes of run: 0 ok, 1 firmware exited non-zero, 2 usage or bad input,
    3 over budget, 4 fault, 5 instruction limit or timeout.
    """


@main.command()
@click.argument("elf", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=None,
              help="Target profile (core, clock, memories). Default: the one recorded in the "
                   f"ELF by `ebnn-sim build`, else {DEFAULT_TARGET}.")
@click.option("--sram", type=SIZE, default=None,
              help="SRAM to map at 0x20000000, e.g. 15k; every byte past it faults. Also the "
                   "peak-SRAM budget. Default: the target's.")
@click.option("--flash", type=SIZE, default=None,
              help="Flash to map at 0x00000000; also the flash budget. Default: the target's.")
@click.option("--max-stack", type=SIZE, default=None, help="Stack budget (peak stack use).")
@click.option("--max-cycles", type=click.IntRange(min=0), default=None,
              help="Budget of estimated cycles for the whole run.")
@click.option("--max-instructions", type=click.IntRange(min=1), default=None,
              help="Stop (exit 5) before executing more than this many instructions.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop (exit 5) after this many seconds of wall time.")
@click.option("--wait-states", type=click.IntRange(min=0), default=None,
              help="Flash wait states added to each pipeline refill. Default: the target's.")
@click.option("--input", "inputs", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              multiple=True,
              help="A host file the firmware may open for reading (repeatable). The first one "
                   "is also the console input (semihosting SYS_READ on stdin); a .npy or .png "
                   "there is converted to its uint8 pixel bytes.")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory in which the firmware may create files. Without it, opening a "
                   "file for writing is refused.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the report as JSON to this file.")
@click.option("--quiet", "-q", is_flag=True,
              help="Do not echo the firmware's console output (it is still in --json).")
def run(elf: Path, target: str | None, sram: int | None, flash: int | None,
        max_stack: int | None, max_cycles: int | None, max_instructions: int | None,
        timeout: float | None, wait_states: int | None, inputs: tuple[Path, ...],
        output_dir: Path | None, json_path: Path | None, quiet: bool) -> None:
    """Run ELF from its reset vector until it exits, faults or hits a limit.

    Prints the firmware's output, then a summary: instructions (exact), estimated cycles
    and time at the target clock, static RAM, stack and heap peaks, flash used.
    """
    try:
        image = load_elf(elf)
    except InvalidFirmware as exc:
        _fail(str(exc))
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)

    def echo(data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()

    try:
        stdin = io.BytesIO(console_bytes(inputs[0])) if inputs else None
    except InputError as exc:
        _fail(str(exc))
    options = RunOptions(
        target=target, sram=sram, flash=flash, flash_wait_states=wait_states,
        max_instructions=max_instructions, timeout=timeout, inputs=inputs, stdin=stdin,
        output_dir=output_dir, echo=None if quiet else echo,
        budgets=Budgets(sram=sram, flash=flash, stack=max_stack, cycles=max_cycles),
    )
    try:
        report = Simulator(image, options).run()
    except (ImageError, ValueError) as exc:
        _fail(str(exc))
    if report.stdout and not report.stdout.endswith("\n") and not quiet:
        sys.stdout.write("\n")
    print_summary(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    sys.exit(report.exit_status)


def print_summary(report: RunReport) -> None:
    """The human-readable report, on stderr."""
    status_style = {"ok": "green", "over_budget": "yellow"}.get(report.status, "red")
    exit_text = "—" if report.exit_code is None else str(report.exit_code)
    err.print(f"[bold {status_style}]{report.status}[/]  firmware exit code {exit_text}  "
              f"[dim]({report.target}: {report.core} @ {report.clock_hz / 1e6:g} MHz)[/]")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(style="dim")
    table.add_row("instructions", f"{report.instructions:,}", "exact")
    table.add_row("cycles", f"{report.cycles:,}",
                  f"estimate, {report.flash_wait_states} flash wait states per refill")
    table.add_row("time", f"{report.time_ms:,.3f} ms", f"at {report.clock_hz / 1e6:g} MHz")
    table.add_row("static RAM", f"{report.static:,} B", ".data + .bss")
    table.add_row("stack peak", f"{report.stack_peak:,} B", "")
    heap_note = "" if report.heap_tracked else "not tracked (an allocator without __heap_peak)"
    table.add_row("heap peak", f"{report.heap_peak:,} B", heap_note)
    table.add_row("SRAM peak", f"{report.sram_peak:,} B", f"of {format_size(report.sram_size)}")
    table.add_row("flash", f"{report.flash_used:,} B", f"of {format_size(report.flash_size)}")
    err.print(table)
    for refusal in report.refusals:
        err.print(f"[yellow]sandbox:[/] {escape(refusal)}", soft_wrap=True)
    for violation in report.over_budget:
        err.print(f"[yellow]over budget:[/] {violation}")
    fault = report.fault
    if fault is not None:
        err.print(f"[bold red]{fault.kind}:[/] {escape(fault.message)}", soft_wrap=True)
        if fault.pc is not None:
            where = f" in {fault.function}" if fault.function else ""
            insn = f": {fault.instruction}" if fault.instruction else ""
            err.print(f"  at pc 0x{fault.pc:08x}{escape(where + insn)}")
        if fault.registers:
            regs = [f"{k}={v:08x}" for k, v in fault.registers.items()]
            for i in range(0, len(regs), 6):
                err.print("  " + "  ".join(regs[i : i + 6]))


@main.command("verify")
@click.argument("elf", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False),
              required=True, help="The .ebnn artifact the firmware was built from.")
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), default=None,
              help="Images to verify on (default: the artifact's data set).")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory of IDX files (e.g. the official MNIST test set).")
@click.option("--split", type=click.Choice(["train", "test", "validation"]), default=None,
              help="Default: test with --data-dir, else the validation split held out in "
                   "training.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N images only.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Emulator processes to spread the images over.")
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=None,
              help="Target profile (default: recorded in the ELF).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the result as JSON.")
def verify_cmd(elf: Path, model_path: Path, dataset: str | None, data_dir: Path | None,
               split: str | None, limit: int | None, jobs: int, target: str | None,
               json_path: Path | None) -> None:
    """Check that an eBNN firmware computes exactly what its model computes.

    Every image goes through the firmware (in one emulator session per job) and through the
    artifact's integer reference; every score and the class must agree bit for bit. Exit 0
    when all agree, 1 on any mismatch, 2 on bad input.
    """
    # Verification joins the model world and the firmware world: imported only here.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ebnn.artifact import ArtifactError, load
    from ebnn.data import DatasetError
    from ebnn.evaluate import EvalError, eval_dataset
    from ebnn.verify import VerifyError, load_firmware, verify

    try:
        art = load(model_path)
        ds, split_name = eval_dataset(art, dataset, data_dir, split)
        images, labels = ds.images[:limit], ds.labels[:limit]
        if images.shape[1:] != tuple(art.input_shape):
            _fail(f"{ds.name} images are {images.shape[1:]}, the model takes {art.input_shape}")
        load_firmware(elf)  # a bad ELF fails here, before the progress bar
        # transient: the summary below replaces the bar, and an error is left on its own line
        with Progress(*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err, transient=True) as progress:
            task = progress.add_task("verifying", total=len(images))
            result = verify(art, elf, images, labels, target=target, jobs=jobs,
                            progress=lambda n: progress.advance(task, n))
    except (ArtifactError, DatasetError, EvalError, VerifyError, InvalidFirmware) as exc:
        _fail(str(exc))
    data = result.to_dict()
    style = "green" if result.mismatches == 0 else "red"
    err.print(f"[bold {style}]{result.mismatches} mismatches[/] in {result.compared} images "
              f"({ds.name}, {split_name}); firmware accuracy {100 * (result.accuracy or 0):.2f}%")
    for key in ("instructions", "cycles"):
        st = data[key]
        err.print(f"{key} per inference: min {st['min']:,}  median {st['median']:,.0f}  "
                  f"max {st['max']:,}")
    if result.first_mismatch:
        m = result.first_mismatch
        err.print(f"first mismatch: image {m['image']}, score {m['score_index']}: firmware "
                  f"{m['firmware']} != reference {m['reference']}; first differing bit: "
                  f"{m.get('where', 'unknown')}", markup=False)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(data, indent=2) + "\n")
    sys.exit(0 if result.mismatches == 0 else 1)


def _print_unwrapped(*renderables: object) -> None:
    """Print to stdout as wide as the content needs (up to 400 columns), so a pipe's 80
    columns do not wrap figures."""
    console = Console()
    for r in renderables:
        needed = Measurement.get(console, console.options.update(max_width=400), r).maximum
        Console(width=max(console.width, needed)).print(r)


@main.command("check")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML file with [[tool.ebnn-sim.budget]] (or [[budget]]) tables; paths in it "
                   "are relative to its directory. Default: ./pyproject.toml.")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write JUnit XML: one testcase per ELF and metric.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the results, with every run's report, as JSON.")
def check_cmd(config_path: Path | None, junit_path: Path | None,
              json_path: Path | None) -> None:
    """Check firmware against memory and time budgets (for CI).

    \b
    [[tool.ebnn-sim.budget]]    in pyproject.toml; one table per ELF or glob
    elf = "build/*.elf"         relative to the file's directory
    sram = "15k"                peak SRAM: static + stack peak + heap peak
    flash = "64k"
    stack = "1k"
    cycles = 512000             or: ms = 16 (at the target clock)

    Each matched ELF runs once with its target's memories. Exit codes: 0 every budget met,
    2 bad or missing config, 3 a budget broken, 4 a firmware faulted, hit a limit or exited
    non-zero. See docs/ci.md.
    """
    from sim.budgets import BudgetError, load_config, run_checks

    def progress(name: str) -> None:
        err.print(f"[dim]running {escape(name)}[/]")

    try:
        config = load_config(config_path)
        result = run_checks(config, progress=progress if err.is_terminal else None)
    except BudgetError as exc:
        _fail(str(exc))
    out = Console(highlight=False)
    _print_unwrapped(result.table())
    for e in result.problems:
        out.print(f"[bold red]{escape(e.name)}:[/] {escape(e.problem or '')}", soft_wrap=True)
    style = {0: "green", 3: "bold red"}.get(result.exit_code, "bold red")
    out.print(f"[{style}]{escape(result.summary)}[/]")
    if junit_path is not None:
        result.write_junit(junit_path)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    sys.exit(result.exit_code)


@main.command("diff")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("head", type=click.Path(path_type=Path))
@click.option("--markdown", is_flag=True,
              help="Print GitHub Markdown tables, e.g. for a pull-request comment.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Functions and layers shown per section, largest change first (0: all).")
def diff_cmd(base: Path, head: Path, markdown: bool, limit: int) -> None:
    """Compare two JSON reports (`run --json` or `profile --json`): BASE -> HEAD.

    Shows instructions, cycles, SRAM peak, static RAM, stack, heap and flash with absolute
    and relative change, then the functions and layers whose counts changed, largest change
    first. Exit 0, or 2 when a report is missing or not a report.
    """
    from sim.diff import DiffError, diff, load_report, render
    from sim.diff import markdown as to_markdown

    try:
        d = diff(load_report(base), load_report(head))
    except DiffError as exc:
        _fail(str(exc))
    shown = limit or None
    if markdown:
        click.echo(to_markdown(d, str(base), str(head), limit=shown), nl=False)
    else:
        _print_unwrapped(*render(d, str(base), str(head), limit=shown))


@main.command("profile")
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
                   "Default: the target's.")
@click.option("--max-instructions", type=click.IntRange(min=1), default=None,
              help="Stop (exit 5) before executing more than this many instructions.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the profile as JSON (keys: docs/profile.md).")
@click.option("--speedscope", "speedscope_path",
              type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a speedscope flame graph weighted by cycles (open it in "
                   "speedscope.app).")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write a self-contained HTML report (no external resources).")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Functions and hottest instructions to list.")
def profile_cmd(elf: Path, inputs: tuple[Path, ...], target: str | None, sram: int | None,
                max_instructions: int | None, json_path: Path | None,
                speedscope_path: Path | None, html_path: Path | None, top: int) -> None:
    """Profile ELF: instructions and cycles per function (self and inclusive), per eBNN layer,
    the hottest instructions with their source lines, and memory against the SRAM budget.

    Tables go to stdout; the firmware's console output is not echoed (it is in --json under
    "run"). Slower than `run` (Python sees every basic block); the totals are the same. Exit
    codes as for `run`.
    """
    from sim.profile import Profiler, print_profile
    from sim.profile_html import render_html
    from sim.speedscope import speedscope

    try:
        image = load_elf(elf)
    except InvalidFirmware as exc:
        _fail(str(exc))
    try:
        stdin = io.BytesIO(console_bytes(inputs[0])) if inputs else None
    except InputError as exc:
        _fail(str(exc))
    options = RunOptions(target=target, sram=sram, max_instructions=max_instructions,
                         inputs=inputs, stdin=stdin, budgets=Budgets(sram=sram))
    try:
        prof = Profiler(Simulator(image, options), top=top).run()
    except (ImageError, ValueError) as exc:
        _fail(str(exc))
    print_profile(prof, Console(highlight=False))
    outputs = [(json_path, lambda: json.dumps(prof.to_dict(), indent=2) + "\n"),
               (speedscope_path, lambda: json.dumps(speedscope(prof)) + "\n"),
               (html_path, lambda: render_html(prof))]
    for path, text in outputs:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text())
    sys.exit(prof.report.exit_status)


@main.command("targets")
def targets_cmd() -> None:
    """List target profiles: core, clock, SRAM, flash, FPU, flash wait states."""
    table = Table(title="target profiles")
    for col in ("name", "part", "core", "clock", "SRAM", "flash", "FPU", "wait states"):
        # Only the descriptive columns wrap: names and figures are never cut.
        wraps = col in ("part", "wait states")
        table.add_column(col, justify="right" if col in ("clock", "SRAM", "flash") else "left",
                         no_wrap=not wraps, overflow="fold" if wraps else "ellipsis",
                         min_width=12 if col == "part" else None)
    for t in TARGETS.values():
        table.add_row(t.name, t.part, t.core, f"{t.clock_mhz:g} MHz", format_size(t.sram),
                      format_size(t.flash), t.fpu or "—", str(t.flash_wait_states))
    console = Console()
    needed = Measurement.get(console, console.options.update(max_width=10_000), table).minimum
    if needed > console.width:  # narrow terminal or a pipe (80 columns): widen, never truncate
        console = Console(width=needed)
    console.print(table)


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
def build_cmd(sources: tuple[Path, ...], output: Path, target: str, sram: int | None,
              flash: int | None, include_dirs: tuple[str, ...], defines: tuple[str, ...],
              opt: str) -> None:
    """Cross-compile C SOURCES with the start-up code and semihosting runtime.

    The ELF records its target, so `ebnn-sim run` needs no --target for it.
    """
    defs: dict[str, str | None] = {}
    for d in defines:
        name, _, value = d.partition("=")
        defs[name] = value or None
    try:
        result = build(sources, output, target, sram=sram, flash=flash,
                       include_dirs=include_dirs, defines=defs, opt=f"-O{opt}")
    except ToolchainError as exc:
        _fail(str(exc))
    err.print(f"built {escape(str(result.elf))} for {result.target.name} "
              f"({format_size(result.sram)} SRAM, {format_size(result.flash)} flash)",
              soft_wrap=True)


if __name__ == "__main__":
    main()

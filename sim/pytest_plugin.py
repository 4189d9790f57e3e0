"""pytest plugin (entry point ``pytest11``): the ``ebnn_sim`` fixture runs firmware in the
simulator and hands your test the report::

    def test_model_fits(ebnn_sim):
        report = ebnn_sim("build/fw.elf", sram="15k", max_instructions=10**8,
                          inputs=["tests/data/digit.png"])
        assert report.sram_peak <= 2048
        assert report.stdout.startswith("class 7")

The call takes the options of ``ebnn-sim run``: ``target``, ``sram``, ``flash`` (sizes as
``"15k"`` or bytes: mapped at that size and also the budget), ``max_sram`` (a peak-SRAM
budget that maps nothing: below the size the ELF was linked for), ``max_stack``, ``max_cycles``,
``max_instructions`` (counts as ``100000`` or ``"100k"``, as ``ebnn-sim check``), ``timeout``,
``run_for`` (device time: ``"500ms"`` or seconds; the run then ends "ok" with the firmware still
running), ``wait_states``, ``inputs`` (host files the
firmware may read; the first is also its console input, ``.npy``/``.png`` converted to pixel bytes),
``analog`` (volts for the ADC's pins: ``["3=accel.csv", "4=gyro.csv@100Hz"]``, as ``--analog``),
``pins`` (levels for the GPIO pins: ``["PA0=button.csv", "PB3=1"]``, as ``--pin``),
``i2c`` (devices on the I2C bus: ``["0x48=tmp102.toml"]``, as ``--i2c``),
``spi`` (devices on the SPI bus: ``["PA4=lis3dh.toml"]``, as ``--spi``),
``reset_clock`` (start at the part's own reset clock, as ``--reset-clock``),
``allow_resets`` (resets after which the firmware goes on, as ``--allow-resets``),
``stdin`` (bytes for the console instead), ``output_dir``, ``cmdline``, ``call_cycles``
(function budgets, ``{"dig": "1k"}``: the most cycles one call may take, as ``check``'s
``function``/``call_cycles``; the run is then profiled). With ``check=True``
(the default) the test fails when the firmware faults, hits a limit, exits non-zero or breaks a
budget; pass ``check=False`` to assert on such runs yourself.

Relative paths are taken from the current directory, else from pytest's rootdir. Installed
with the package; nothing heavy (no torch) is imported.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from sim.analog import AnalogSpec
    from sim.i2c_targets import I2cSpec
    from sim.pins import PinSpec
    from sim.profile import Profiler
    from sim.report import RunReport
    from sim.spi_targets import SpiSpec

Size = int | str | None
T = TypeVar("T")


def _specs(values: object, root: Path, key: str, parse: Callable[[str], T], kind: type[T],
           form: str) -> list[T]:
    """An ``analog=``, ``pins=``, ``i2c=`` or ``spi=`` argument (``key``): one item or a list
    of them, each a string ``parse`` takes (``form`` says how it is written) or a spec of
    ``kind`` already made, its file resolved as the fixture's other paths; ValueError (one
    line) for anything else."""
    specs = []
    for value in values if isinstance(values, list | tuple) else [values]:
        spec = parse(value) if isinstance(value, str) else value
        if not isinstance(spec, kind):
            raise ValueError(f"{key}: give {form} strings, not {value!r}")
        path = getattr(spec, "path", None)
        specs.append(spec if path is None else replace(spec, path=_resolve(path, root)))  # type: ignore[type-var]
    return specs


def _resolve(path: str | os.PathLike[str], root: Path) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists() or not (root / p).exists():
        return p
    return root / p


def _parsed(value: Any, name: str, parse: Callable[[Any], T]) -> T | None:
    """``parse(value)`` (None stays None); a value it refuses fails the test in one line."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise pytest.fail.Exception(f"ebnn_sim({name}=...): {exc}", pytrace=False) from None


def _size(value: Size, name: str) -> int | None:
    from toolchain.sizes import parse_size

    return _parsed(value, name, parse_size)


def _count(value: int | str | None, name: str) -> int | None:
    """A count as ``check`` and ``--max-cycles`` take it: a whole number, or text such as
    ``"100k"`` or ``"1.5M"`` (sim/counts.py); other values go on to the budget's own check."""
    from sim.counts import parse_count

    if not isinstance(value, str):
        return value
    return _parsed(value, name, parse_count)


def _check_calls(report: "RunReport", profiler: "Profiler",
                 limits: Mapping[str, int | None]) -> None:
    """Function budgets (name -> the most cycles one call may take), as ``check``'s
    call_cycles: broken ones join ``report.over_budget`` (a run otherwise ok is then
    "over_budget")."""
    from sim.budgets import call_checks

    for name, n in limits.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise pytest.fail.Exception(f"ebnn_sim(call_cycles=...): {name}: give a whole "
                                        f"number >= 0, e.g. 1000 or \"1k\", not {n!r}",
                                        pytrace=False)
    if report.status not in ("ok", "over_budget"):
        return  # (its problem says why: nothing measured)
    try:
        broken = [c for c in call_checks(profiler, report, {
            name: n for name, n in limits.items() if n is not None}) if not c.passed]
    except ValueError as exc:
        raise pytest.fail.Exception(f"ebnn_sim(call_cycles=...): {exc}", pytrace=False) from None
    if broken:
        report.over_budget = [*report.over_budget, *broken]
        report.status = "over_budget"


def _duration(value: str | float | None) -> float | None:
    from sim.durations import parse_duration

    return _parsed(value, "run_for", parse_duration)


def _section(report: "RunReport") -> str:
    """The report section of a test: the ELF and its outcome, the run summary as ``ebnn-sim
    run`` prints it (without colour), the firmware's output."""
    from sim.formats.text import plain_text, print_run_summary

    exit_text = "—" if report.exit_code is None else str(report.exit_code)
    lines = [f"{report.elf}: {report.status}, exit code {exit_text} "
             f"({report.wall_seconds:.3f} s of wall time)",
             plain_text(lambda console: print_run_summary(report, console)).rstrip("\n")]
    if report.stdout:
        lines += ["firmware output:", report.stdout.rstrip("\n")]
    return "\n".join(lines)


@pytest.fixture
def ebnn_sim(request: pytest.FixtureRequest) -> Callable[..., "RunReport"]:
    """``ebnn_sim(elf, sram="15k", max_instructions=..., inputs=[...])`` runs ``elf`` in the
    simulator and returns its ``sim.RunReport`` (``.instructions``, ``.cycles``, ``.sram_peak``,
    ``.stack_peak``, ``.flash_used``, ``.stdout``, ``.status``, ``.exit_code``, ...)."""
    root = request.config.rootpath
    runs = 0

    def run(
        elf: str | os.PathLike[str],
        *,
        target: str | None = None,
        sram: Size = None,
        flash: Size = None,
        max_sram: Size = None,
        max_stack: Size = None,
        max_cycles: int | str | None = None,
        max_instructions: int | str | None = None,
        timeout: float | None = None,
        run_for: str | float | None = None,
        wait_states: int | None = None,
        inputs: Sequence[str | os.PathLike[str]] = (),
        analog: "Sequence[str | AnalogSpec] | str | AnalogSpec" = (),
        pins: "Sequence[str | PinSpec] | str | PinSpec" = (),
        i2c: "Sequence[str | I2cSpec] | str | I2cSpec" = (),
        spi: "Sequence[str | SpiSpec] | str | SpiSpec" = (),
        reset_clock: bool = False,
        allow_resets: int = 0,
        stdin: bytes | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        cmdline: str = "",
        call_cycles: Mapping[str, int | str] | None = None,
        check: bool = True,
    ) -> "RunReport":
        from sim import session
        from sim.budget_check import sram_budget
        from sim.profile import Profiler
        from sim.session import RunSpec, SessionError

        nonlocal runs
        sram_b, flash_b = _size(sram, "sram"), _size(flash, "flash")
        run_for_s = _duration(run_for)
        try:
            from sim import analog as analog_specs
            from sim import i2c_targets, spi_targets
            from sim import pins as pin_specs

            spec = RunSpec(
                target=target, sram=sram_b, flash=flash_b, wait_states=wait_states,
                max_instructions=_count(max_instructions, "max_instructions"),
                timeout=timeout, run_for=run_for_s,
                inputs=[_resolve(p, root) for p in inputs], stdin=stdin,
                output_dir=None if output_dir is None else Path(output_dir), cmdline=cmdline,
                budgets={"sram": sram_budget(sram_b, _size(max_sram, "max_sram")),
                         "flash": flash_b, "stack": _size(max_stack, "max_stack"),
                         "cycles": _count(max_cycles, "max_cycles")},
                analog=_specs(analog, root, "analog", analog_specs.parse_spec,
                              analog_specs.AnalogSpec, "'CHANNEL=FILE[@RATE]'"),
                pins=_specs(pins, root, "pins", pin_specs.parse_spec, pin_specs.PinSpec,
                            "'PIN=FILE' or 'PIN=0|1'"),
                i2c=_specs(i2c, root, "i2c", i2c_targets.parse_spec, i2c_targets.I2cSpec,
                           "'ADDR=FILE'"),
                spi=_specs(spi, root, "spi", spi_targets.parse_spec, spi_targets.SpiSpec,
                           "'CS=FILE'"),
                reset_clock=reset_clock, allow_resets=allow_resets)
        except ValueError as exc:  # a budget not a whole number >= 0, a bad analog, pin, i2c, spi
            raise pytest.fail.Exception(f"ebnn_sim: {exc}", pytrace=False) from None
        calls = {name: _count(n, f"call_cycles[{name!r}]") for name, n in
                 (call_cycles or {}).items()}
        profilers: list[Profiler] = []
        try:
            report = session.run(_resolve(elf, root), spec, prepared=(
                (lambda s: profilers.append(Profiler(s))) if calls else None))
        except SessionError as exc:
            raise pytest.fail.Exception(f"ebnn_sim: {exc.with_elf}", pytrace=False) from None
        if profilers:
            _check_calls(report, profilers[0], calls)

        runs += 1
        tag = "" if runs == 1 else f" #{runs}"
        request.node.add_report_section("call", f"ebnn-sim{tag}", _section(report))
        props: dict[str, Any] = {"elf": report.elf,
                                 "instructions": report.instructions, "cycles": report.cycles,
                                 "sram_peak": report.sram_peak,
                                 "stack_peak": report.stack_peak,
                                 "flash_used": report.flash_used}
        for key, value in props.items():
            request.node.user_properties.append((f"ebnn_sim{tag}.{key}", value))
        if check and report.problem is not None:
            pytest.fail(f"ebnn_sim: {report.elf}: {report.problem} "
                        "(check=False returns the report instead)", pytrace=False)
        return report

    return run

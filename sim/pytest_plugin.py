"""pytest plugin (entry point ``pytest11``): the ``ebnn_sim`` fixture runs firmware in the
simulator and hands your test the report::

    def test_model_fits(ebnn_sim):
        report = ebnn_sim("build/fw.elf", sram="15k", max_instructions=10**8,
                          inputs=["tests/data/digit.png"])
        assert report.sram_peak <= 2048
        assert report.stdout.startswith("class 7")

The call takes the options of ``ebnn-sim run``: ``target``, ``sram``, ``flash`` (sizes as
``"15k"`` or bytes: mapped at that size and also the budget), ``max_stack``, ``max_cycles``,
``max_instructions``, ``timeout``, ``wait_states``, ``inputs`` (host files the firmware may
read; the first is also its console input, ``.npy``/``.png`` converted to pixel bytes),
``stdin`` (bytes for the console instead), ``output_dir``, ``cmdline``. With ``check=True``
(the default) the test fails when the firmware faults, hits a limit, exits non-zero or breaks a
budget; pass ``check=False`` to assert on such runs yourself.

Relative paths are taken from the current directory, else from pytest's rootdir. Installed
with the package; nothing heavy (no torch) is imported.
"""

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sim.report import RunReport

Size = int | str | None


def _resolve(path: str | os.PathLike[str], root: Path) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists() or not (root / p).exists():
        return p
    return root / p


def _size(value: Size, name: str) -> int | None:
    from toolchain.sizes import parse_size

    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError as exc:
        raise pytest.fail.Exception(f"ebnn_sim({name}=...): {exc}", pytrace=False) from None


def _summary(report: "RunReport") -> str:
    lines = [
        f"{report.elf}: {report.status}, exit code {report.exit_code} "
        f"({report.target}: {report.core} @ {report.clock_hz / 1e6:g} MHz)",
        f"instructions {report.instructions:,}  cycles {report.cycles:,} "
        f"({report.time_ms:,.3f} ms)",
        f"SRAM peak {report.sram_peak:,} B of {report.sram_size:,} B (static {report.static:,}, "
        f"stack {report.stack_peak:,}, heap {report.heap_peak:,})  "
        f"flash {report.flash_used:,} B of {report.flash_size:,} B",
    ]
    lines += [f"over budget: {v}" for v in report.over_budget]
    if report.fault is not None:
        lines.append(_problem(report))
    if report.stdout:
        lines += ["firmware output:", report.stdout.rstrip("\n")]
    return "\n".join(lines)


def _problem(report: "RunReport") -> str:
    fault = report.fault
    if fault is not None:
        where = f" in {fault.function}" if fault.function else ""
        return f"{fault.kind}: {fault.message}{where}"
    if report.exit_code not in (0, None):
        return f"firmware exited with status {report.exit_code}"
    return "over budget: " + "; ".join(str(v) for v in report.over_budget)


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
        max_stack: Size = None,
        max_cycles: int | None = None,
        max_instructions: int | None = None,
        timeout: float | None = None,
        wait_states: int | None = None,
        inputs: Sequence[str | os.PathLike[str]] = (),
        stdin: bytes | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        cmdline: str = "",
        check: bool = True,
    ) -> "RunReport":
        from sim.elf import InvalidFirmware, load_elf
        from sim.inputs import InputError, console_bytes
        from sim.report import Budgets
        from sim.runner import ImageError, RunOptions, Simulator

        nonlocal runs
        sram_b, flash_b = _size(sram, "sram"), _size(flash, "flash")
        stack_b = _size(max_stack, "max_stack")
        path = _resolve(elf, root)
        try:
            image = load_elf(path)
        except InvalidFirmware as exc:
            raise pytest.fail.Exception(f"ebnn_sim: {exc}", pytrace=False) from None
        files = [_resolve(p, root) for p in inputs]
        try:
            console = stdin if stdin is not None else (
                console_bytes(files[0]) if files else None)
        except (InputError, OSError) as exc:
            raise pytest.fail.Exception(f"ebnn_sim: {exc}", pytrace=False) from None
        out_dir = None if output_dir is None else Path(output_dir)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
        options = RunOptions(
            target=target, sram=sram_b, flash=flash_b, flash_wait_states=wait_states,
            max_instructions=max_instructions, timeout=timeout, inputs=files,
            stdin=None if console is None else io.BytesIO(console), output_dir=out_dir,
            cmdline=cmdline,
            budgets=Budgets(sram=sram_b, flash=flash_b, stack=stack_b, cycles=max_cycles),
        )
        try:
            report = Simulator(image, options).run()
        except (ImageError, ValueError) as exc:
            raise pytest.fail.Exception(f"ebnn_sim: {path}: {exc}", pytrace=False) from None

        runs += 1
        tag = "" if runs == 1 else f" #{runs}"
        summary = _summary(report)
        request.node.add_report_section("call", f"ebnn-sim{tag}", summary)
        props: dict[str, Any] = {"instructions": report.instructions, "cycles": report.cycles,
                                 "sram_peak": report.sram_peak,
                                 "stack_peak": report.stack_peak,
                                 "flash_used": report.flash_used}
        for key, value in props.items():
            request.node.user_properties.append((f"ebnn_sim{tag}.{key}", value))
        if check and report.exit_status != 0:
            pytest.fail(f"ebnn_sim: {report.elf}: {_problem(report)} "
                        "(check=False returns the report instead)", pytrace=False)
        return report

    return run
